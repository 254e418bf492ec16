/*
 * nsscan.c - the host's network namespaces: found, named, matched against [poll] netns.
 *
 * A network namespace lives as long as a process is inside it or a file pins
 * it (an nsfs bind mount: `ip netns add` makes /run/netns/NAME, Docker
 * /run/docker/netns/ID), so a scan reads the directories of those files and
 * every process's /proc/PID/ns/net. The latter is a readlink ("net:[INODE]"),
 * not an open: no descriptor per process, but it still takes ptrace read
 * access to the process (CAP_SYS_PTRACE for other users' processes), so the
 * processes we may not read are counted for the daemon to say so.
 *
 * It runs every netns_rescan_ms, so it reads nothing per namespace it does not
 * need: a process's cgroup is read only for a namespace that has no other
 * name, and that name is kept while the namespace lives (an inode is reused
 * only after its namespace is gone, and then the scan has missed it once).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "nsscan.h"
#include "util.h"

#define NSFS_MAGIC 0x6e736673 /* linux/magic.h */

/* The directories of files that pin namespaces, in the order their files
 * are preferred as a namespace's path. */
static const struct source {
	const char *dir;
	bool names; /* its file names are `ip netns` names */
} sources[] = {
    {"/run/netns", true},
    {"/var/run/netns", true}, /* CNI's; usually a symlink to the one above */
    {"/run/docker/netns", false},
};

/* How good a namespace's path is: lower wins. */
enum rank { RANK_NETNS, RANK_FILE, RANK_PROC, RANK_NONE };

/* A namespace during a run, and the name its process gave, kept to the next. */
struct entry {
	struct nsscan_ns ns;
	enum rank rank;
	bool named;                    /* ns.name is an `ip netns` name */
	bool matched;                  /* by one of the items */
	uint32_t pid;                  /* the lowest pid inside it; 0: none seen */
	char runtime[NSSCAN_NAME_MAX]; /* its file name in a runtime directory */
	uint32_t unit_pid;             /* the process UNIT was read from; 0: not read */
	char unit[NSSCAN_NAME_MAX];    /* the systemd unit of its cgroup; "": none */
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

struct nsscan {
	char **items; /* NULL-terminated; none when all */
	bool all;
	bool slash_items;        /* some item holds a '/': paths must be matched */
	bool name_items;         /* some item does not: names must be matched */
	char root[PATH_MAX / 2]; /* "" for / */
	size_t rootlen;
	struct entries cur, prev; /* this run's, and the last one's (sorted by ino) */
	uint32_t *slots;          /* ino -> index + 1 into cur; open addressing */
	size_t mask;
	struct nsscan_ns *out;
	size_t out_cap;
	uint64_t host_ino;
	struct nsscan_stats stats;
};

static bool is_all(const char *item, size_t n)
{
	return n == 3 && memcmp(item, "all", 3) == 0;
}

static bool is_glob(const char *item, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (item[i] == '*' || item[i] == '?' || item[i] == '[')
			return true;
	return false;
}

/* The next whitespace-separated item of *S: its start, its length in *RET_N,
 * *S moved past it. NULL at the end. */
static const char *next_item(const char **s, size_t *ret_n)
{
	static const char blanks[] = " \t\n\v\f\r";
	const char *start = *s + strspn(*s, blanks);

	if (!*start)
		return NULL;
	*ret_n = strcspn(start, blanks);
	*s = start + *ret_n;
	return start;
}

static size_t count_items(const char *spec)
{
	size_t count = 0, n;

	while (next_item(&spec, &n))
		count++;
	return count;
}

/* Whether every '[' of ITEM opens a bracket expression that a ']' closes. */
static bool brackets_closed(const char *item, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (item[i] != '[')
			continue;
		i += (i + 1 < n && (item[i + 1] == '!' || item[i + 1] == '^')) ? 2 : 1;
		i++; /* a ']' first is a member, not the end */
		while (i < n && item[i] != ']')
			i++;
		if (i >= n)
			return false;
	}
	return true;
}

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -EINVAL)

static int check_item(const char *item, size_t n, bool dynamic, bool many, char *why, size_t whylen)
{
	int len = n > INT_MAX ? INT_MAX : (int)n;
	bool slash = memchr(item, '/', n) != NULL;

	if ((n == 1 && item[0] == '.') || (n == 2 && memcmp(item, "..", 2) == 0))
		return WHY("\"%.*s\" is not a namespace name", len, item);
	if (is_all(item, n) && many)
		return WHY("\"all\" matches every namespace: write it alone");
	if (!slash && n >= NSSCAN_NAME_MAX)
		return WHY("\"%.20s...\" is longer than a namespace name (%d bytes)", item,
		           NSSCAN_NAME_MAX - 1);
	if (slash && dynamic && item[0] != '/')
		return WHY("\"%.*s\" is a relative path: in a list, paths begin with /", len, item);
	if (!brackets_closed(item, n))
		return WHY("\"%.*s\" has a \"[\" that no \"]\" closes", len, item);
	return 0;
}

int nsscan_check(const char *spec, char *why, size_t whylen)
{
	bool dynamic = nsscan_is_dynamic(spec), many = count_items(spec) > 1;
	const char *item;
	size_t n;
	int err;

	while ((item = next_item(&spec, &n))) {
		err = check_item(item, n, dynamic, many, why, whylen);
		if (err < 0)
			return err;
	}
	return 0;
}

bool nsscan_is_dynamic(const char *spec)
{
	const char *s = spec, *item;
	size_t n;

	item = next_item(&s, &n);
	if (!item)
		return false;
	if (is_all(item, n) || is_glob(item, n))
		return true;
	return next_item(&s, &n) != NULL;
}

static int parse_items(struct nsscan *s, const char *spec)
{
	size_t count = count_items(spec), i = 0, n = 0;
	const char *first = spec, *item;

	item = next_item(&first, &n);
	s->all = item && count == 1 && is_all(item, n);
	if (s->all)
		count = 0;
	s->items = calloc(count + 1, sizeof(*s->items));
	if (!s->items)
		return -ENOMEM;
	while (i < count && (item = next_item(&spec, &n))) {
		s->items[i] = strndup(item, n);
		if (!s->items[i++])
			return -ENOMEM;
		if (memchr(item, '/', n))
			s->slash_items = true;
		else
			s->name_items = true;
	}
	return 0;
}

int nsscan_new(struct nsscan **ret, const char *spec, char *err, size_t errlen)
{
	struct nsscan *s;
	int r = nsscan_check(spec, err, errlen);

	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	r = parse_items(s, spec);
	if (r < 0) {
		nsscan_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void nsscan_free(struct nsscan *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->items && s->items[i]; i++)
		free(s->items[i]);
	free(s->items);
	free(s->cur.v);
	free(s->prev.v);
	free(s->slots);
	free(s->out);
	free(s);
}

void nsscan_set_root(struct nsscan *s, const char *root)
{
	size_t n = strlen(root);

	while (n > 0 && root[n - 1] == '/')
		n--;
	if (n >= sizeof(s->root))
		n = 0; /* a test's root is short */
	memcpy(s->root, root, n);
	s->root[n] = '\0';
	s->rootlen = n;
}

const struct nsscan_stats *nsscan_stats(const struct nsscan *s)
{
	return &s->stats;
}

static int by_ino(const void *key, const void *elem)
{
	uint64_t a = *(const uint64_t *)key, b = *(const uint64_t *)elem;

	return a < b ? -1 : a > b;
}

const struct nsscan_ns *nsscan_find(const struct nsscan_ns *v, size_t n, uint64_t ino)
{
	/* ino is the first member, so an entry compares as its inode. */
	return n ? bsearch(&ino, v, n, sizeof(*v), by_ino) : NULL;
}

bool nsscan_seen(const struct nsscan *s, uint64_t ino)
{
	/* Sorted by ino, and the entry starts with its nsscan_ns. */
	return s->cur.n && bsearch(&ino, s->cur.v, s->cur.n, sizeof(*s->cur.v), by_ino);
}

static size_t slot_of(const struct nsscan *s, uint64_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ULL) >> 32) & s->mask;
}

/* Makes the index of this run's entries room for one more. */
static int slots_grow(struct nsscan *s)
{
	size_t n = s->slots ? 2 * (s->mask + 1) : 64;
	uint32_t *slots;

	if (s->slots && 2 * (s->cur.n + 1) <= s->mask + 1)
		return 0;
	if (n > UINT32_MAX)
		return -ENOMEM;
	slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	free(s->slots);
	s->slots = slots;
	s->mask = n - 1;
	for (size_t i = 0; i < s->cur.n; i++) {
		size_t j = slot_of(s, s->cur.v[i].ns.ino);

		while (slots[j])
			j = (j + 1) & s->mask;
		slots[j] = (uint32_t)(i + 1);
	}
	return 0;
}

/* This run's entry for INO, added if new. Returns it, or NULL for -ENOMEM. */
static struct entry *entry_get(struct nsscan *s, uint64_t ino)
{
	struct entry *e;
	size_t j;

	for (j = s->slots ? slot_of(s, ino) : 0; s->slots && s->slots[j]; j = (j + 1) & s->mask)
		if (s->cur.v[s->slots[j] - 1].ns.ino == ino)
			return &s->cur.v[s->slots[j] - 1];
	if (slots_grow(s) < 0 ||
	    util_grow((void **)&s->cur.v, &s->cur.cap, s->cur.n + 1, sizeof(*s->cur.v), 16) < 0)
		return NULL;
	for (j = slot_of(s, ino); s->slots[j]; j = (j + 1) & s->mask)
		;
	e = &s->cur.v[s->cur.n++];
	s->slots[j] = (uint32_t)s->cur.n;
	e->ns.ino = ino;
	e->ns.path[0] = e->ns.name[0] = e->runtime[0] = e->unit[0] = '\0';
	e->ns.host = false;
	e->rank = RANK_NONE;
	e->named = e->matched = false;
	e->pid = e->unit_pid = 0;
	return e;
}

static bool match_path(const struct nsscan *s, const char *path)
{
	for (size_t i = 0; s->items[i]; i++)
		if (strchr(s->items[i], '/') && fnmatch(s->items[i], path, FNM_PATHNAME) == 0)
			return true;
	return false;
}

static bool match_name(const struct nsscan *s, const char *name)
{
	for (size_t i = 0; s->items[i]; i++)
		if (!strchr(s->items[i], '/') && fnmatch(s->items[i], name, 0) == 0)
			return true;
	return false;
}

/* Notes that the file PATH (ROOT and the path items' spelling) pins the
 * namespace INO; NAME is its `ip netns` name, or RUNTIME its runtime id. */
static int add_file(struct nsscan *s, uint64_t ino, const char *path, enum rank rank,
                    const char *name, const char *runtime)
{
	struct entry *e = entry_get(s, ino);

	if (!e)
		return -ENOMEM;
	if (strlen(path) >= sizeof(e->ns.path))
		return 0;
	/* Of several names, the first in byte order (the same every run), and
	 * the file of that name. */
	if (name && strlen(name) < sizeof(e->ns.name) &&
	    (!e->named || strcmp(name, e->ns.name) < 0)) {
		strcpy(e->ns.name, name);
		e->named = true;
		e->rank = RANK_NONE;
	}
	if (rank < e->rank) {
		strcpy(e->ns.path, path);
		e->rank = rank;
	}
	if (runtime && !e->runtime[0] && strlen(runtime) < sizeof(e->runtime))
		strcpy(e->runtime, runtime);
	if (!s->all && !e->matched)
		e->matched = (s->slash_items && match_path(s, path + s->rootlen)) ||
		             (name && s->name_items && match_name(s, name));
	return 0;
}

/* The nsfs inode of the file PATH, or 0 when it is none (or gone). */
static uint64_t nsfs_ino(const char *path)
{
	struct statfs sf;
	struct stat st;

	if (stat(path, &st) < 0 || statfs(path, &sf) < 0 || sf.f_type != NSFS_MAGIC)
		return 0;
	return (uint64_t)st.st_ino;
}

/*
 * Adds the namespaces pinned by the files of SRC's directory. /var/run is
 * usually a symlink to /run, so its files are the same as /run/netns's; they
 * are read again all the same, for an item such as /var/run/netns/blue to
 * match by the path it is written with (a few stat() calls).
 */
static int scan_dir(struct nsscan *s, const struct source *src)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof(path), "%s%s", s->root, src->dir);
	dir = opendir(path);
	if (!dir)
		return 0; /* no such runtime here */
	while (err == 0 && (de = readdir(dir))) {
		uint64_t ino;

		if (de->d_name[0] == '.')
			continue; /* ".", "..", and no name `ip netns add` takes */
		if ((size_t)snprintf(path, sizeof(path), "%s%s/%s", s->root, src->dir,
		                     de->d_name) >= sizeof(path))
			continue;
		s->stats.files++;
		ino = nsfs_ino(path);
		if (ino)
			err = add_file(s, ino, path, src->names ? RANK_NETNS : RANK_FILE,
			               src->names ? de->d_name : NULL,
			               src->names ? NULL : de->d_name);
	}
	closedir(dir);
	return err;
}

/* Whether the files ITEM can name are all in a directory scan_dir() reads
 * (or under /proc, which scan_proc() reads): no need to glob it. */
static bool item_scanned(const char *item)
{
	const char *slash = strrchr(item, '/');
	size_t n = (size_t)(slash - item);

	if (strncmp(item, "/proc/", 6) == 0)
		return true;
	for (size_t i = 0; i < UTIL_LEN(sources); i++)
		if (strlen(sources[i].dir) == n && memcmp(item, sources[i].dir, n) == 0)
			return true;
	return false;
}

/* Adds the namespaces pinned by the files a path item names elsewhere. */
static int scan_items(struct nsscan *s)
{
	char pattern[PATH_MAX];
	int err = 0;

	for (size_t i = 0; s->items[i] && err == 0; i++) {
		const char *item = s->items[i];
		glob_t g;

		if (!strchr(item, '/') || item_scanned(item))
			continue;
		if ((size_t)snprintf(pattern, sizeof(pattern), "%s%s", s->root, item) >=
		    sizeof(pattern))
			continue;
		if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
			continue; /* nothing there now (or out of memory: next run) */
		for (size_t k = 0; k < g.gl_pathc && err == 0; k++) {
			uint64_t ino = nsfs_ino(g.gl_pathv[k]);

			s->stats.files++;
			if (ino)
				err = add_file(s, ino, g.gl_pathv[k], RANK_FILE, NULL, NULL);
		}
		globfree(&g);
	}
	return err;
}

/* The inode in the link text "net:[INODE]", or 0. */
static uint64_t parse_link(const char *buf)
{
	unsigned long long ino;
	int end = 0;

	if (sscanf(buf, "net:[%llu]%n", &ino, &end) != 1 || buf[end] != '\0')
		return 0;
	return ino;
}

/* The namespace of the process NAME (a pid, or "self") under DFD (/proc):
 * its inode, 0 when gone, or -errno. */
static int64_t proc_ns(int dfd, const char *name)
{
	char rel[64], buf[64];
	ssize_t n;

	snprintf(rel, sizeof(rel), "%s/ns/net", name);
	n = readlinkat(dfd, rel, buf, sizeof(buf) - 1);
	if (n < 0)
		return errno == EACCES || errno == EPERM ? -EACCES : 0;
	buf[n] = '\0';
	return (int64_t)parse_link(buf);
}

static bool all_digits(const char *name)
{
	if (!*name)
		return false;
	for (; *name; name++)
		if (*name < '0' || *name > '9')
			return false;
	return true;
}

/* Notes the process PID inside namespace INO. */
static int add_proc(struct nsscan *s, uint64_t ino, uint32_t pid)
{
	struct entry *e = entry_get(s, ino);
	char path[64];

	if (!e)
		return -ENOMEM;
	if (!e->pid || pid < e->pid)
		e->pid = pid;
	if (s->slash_items && !e->matched && !s->all) {
		snprintf(path, sizeof(path), "/proc/%" PRIu32 "/ns/net", pid);
		e->matched = match_path(s, path);
	}
	return 0;
}

/* Adds the namespace of every process we may read, and counts the others. */
static int scan_proc(struct nsscan *s)
{
	char path[PATH_MAX];
	struct dirent *de;
	int64_t ino;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof(path), "%s/proc", s->root);
	dir = opendir(path);
	if (!dir)
		return -errno;
	ino = proc_ns(dirfd(dir), "1");
	if (ino <= 0)
		ino = proc_ns(dirfd(dir), "self");
	s->host_ino = ino > 0 ? (uint64_t)ino : 0;
	while (err == 0 && (de = readdir(dir))) {
		if (!all_digits(de->d_name))
			continue;
		s->stats.procs++;
		ino = proc_ns(dirfd(dir), de->d_name);
		/* PID 1 unreadable hides nothing: its namespace is taken as the
		 * host's, through "self" above. */
		if (ino == -EACCES && strcmp(de->d_name, "1") != 0)
			s->stats.unreadable++;
		else if (ino > 0)
			err = add_proc(s, (uint64_t)ino, (uint32_t)strtoul(de->d_name, NULL, 10));
	}
	closedir(dir);
	return err;
}

/* The systemd unit of the cgroup of process PID (cgroup2's "0::" line, or the
 * v1 name=systemd hierarchy's), into UNIT ("" when none). Returns 0 or -errno. */
static int read_unit(const struct nsscan *s, uint32_t pid, char unit[NSSCAN_NAME_MAX])
{
	char path[PATH_MAX], buf[4096], *line, *next, *found = NULL;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/proc/%" PRIu32 "/cgroup", s->root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "0::", 3) == 0)
			found = line + 3;
		else if (!found && (found = strstr(line, ":name=systemd:")))
			found += strlen(":name=systemd:");
	}
	unit[0] = '\0';
	if (found && cgroup_unit(found, unit, NSSCAN_NAME_MAX) < 0)
		unit[0] = '\0';
	return 0;
}

/*
 * Names E by the rules: its `ip netns` name; "host"; the unit of the cgroup of
 * the lowest pid inside it (read once per namespace and pid: the last run's
 * is in PREV); its runtime file name; "ino-INO".
 */
static void name_entry(const struct nsscan *s, struct entry *e, const struct entry *prev)
{
	if (e->named)
		return;
	if (e->ns.host) {
		strcpy(e->ns.name, "host");
		return;
	}
	if (prev && (prev->unit[0] || prev->unit_pid == e->pid)) {
		e->unit_pid = prev->unit_pid;
		memcpy(e->unit, prev->unit, sizeof(e->unit));
	} else if (e->pid && read_unit(s, e->pid, e->unit) == 0) {
		e->unit_pid = e->pid;
	}
	if (e->unit[0])
		memcpy(e->ns.name, e->unit, sizeof(e->ns.name));
	else if (e->runtime[0])
		memcpy(e->ns.name, e->runtime, sizeof(e->ns.name));
	else
		snprintf(e->ns.name, sizeof(e->ns.name), "ino-%" PRIu64, e->ns.ino);
}

/* Names this run's entries (sorted), and copies those matched to S->out. */
static int finish(struct nsscan *s, size_t *ret_n)
{
	size_t n = 0;

	for (size_t i = 0; i < s->cur.n; i++) {
		struct entry *e = &s->cur.v[i];
		const struct entry *prev;

		e->ns.host = e->ns.ino == s->host_ino;
		if (!s->all && !e->matched && !s->name_items)
			continue; /* nothing can match it: no need for a name */
		/* An entry compares as its inode, the first member of its first member. */
		prev = s->prev.n
		           ? bsearch(&e->ns.ino, s->prev.v, s->prev.n, sizeof(*s->prev.v), by_ino)
		           : NULL;
		name_entry(s, e, prev);
		if (e->rank > RANK_PROC && e->pid)
			snprintf(e->ns.path, sizeof(e->ns.path), "%s/proc/%" PRIu32 "/ns/net",
			         s->root, e->pid);
		if (!s->all && !e->matched && !match_name(s, e->ns.name))
			continue;
		if (util_grow((void **)&s->out, &s->out_cap, n + 1, sizeof(*s->out), 16) < 0)
			return -ENOMEM;
		s->out[n++] = e->ns;
	}
	*ret_n = n;
	return 0;
}

static int by_entry(const void *a, const void *b)
{
	return by_ino(&((const struct entry *)a)->ns.ino, b);
}

/* Empties this run's entries, keeping the last run's as PREV. */
static void start_run(struct nsscan *s)
{
	struct entries t = s->prev;

	s->prev = s->cur;
	s->cur = t;
	s->cur.n = 0;
	if (s->slots)
		memset(s->slots, 0, (s->mask + 1) * sizeof(*s->slots));
	s->stats = (struct nsscan_stats){.runs = s->stats.runs + 1};
	s->host_ino = 0;
}

int nsscan_run(struct nsscan *s, const struct nsscan_ns **ret, size_t *ret_n)
{
	size_t n = 0;
	int err = 0;

	start_run(s);
	for (size_t i = 0; i < UTIL_LEN(sources) && err == 0; i++)
		err = scan_dir(s, &sources[i]);
	if (err == 0 && s->slash_items && !s->all)
		err = scan_items(s);
	if (err == 0)
		err = scan_proc(s);
	if (err == 0) {
		if (s->cur.n) /* qsort() wants an array, even for none */
			qsort(s->cur.v, s->cur.n, sizeof(*s->cur.v), by_entry);
		err = finish(s, &n);
	}
	if (err < 0) {
		s->cur.n = 0; /* the next run keeps no half-made names */
		return err;
	}
	*ret = s->out;
	*ret_n = n;
	return 0;
}
