/*
 * cgroup.c - cgroup v2 ids to paths, and paths to systemd units.
 *
 * The kernel reports a socket's cgroup as a 64-bit id, which on cgroup2 is
 * the inode number of the cgroup's directory. Turning it back into a path
 * needs either open_by_handle_at() (CAP_DAC_READ_SEARCH) or a walk of the
 * tree; a walk works for any user and for a read-only /sys/fs/cgroup
 * (ProtectControlGroups=yes), so the map is built by walking, and walked
 * again only when an id shows up that it does not know, at most once per
 * CGROUP_RESCAN_MS. A host has hundreds to a few thousand cgroups, and a
 * walk of them takes a few milliseconds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup.h"

/* Deeper than any real hierarchy; it bounds the walk's recursion. */
#define CGROUP_DEPTH_MAX 32

struct cgroup_entry {
	uint64_t id; /* 0: empty slot */
	char *path;
};

struct cgroup_map {
	char *root;
	struct cgroup_entry *slots; /* open addressing, power of two */
	size_t mask;                /* slots - 1 */
	size_t len;
	size_t skipped;
	uint64_t walks;
	uint64_t walked_ms;
	bool walked;
	uint64_t max_id; /* the largest id the walks have seen or been asked for */
};

#define CGROUP2_MAGIC 0x63677270 /* linux/magic.h CGROUP2_SUPER_MAGIC */

int cgroup_find_root(char *buf, size_t size)
{
	static const char *const roots[] = {CGROUP_ROOT, CGROUP_ROOT "/unified"};
	struct statfs sf;

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		if (statfs(roots[i], &sf) == 0 && sf.f_type == CGROUP2_MAGIC) {
			if ((size_t)snprintf(buf, size, "%s", roots[i]) >= size)
				return -ENAMETOOLONG;
			return 0;
		}
	}
	return -ENOENT;
}

int cgroup_map_new(struct cgroup_map **ret, const char *root)
{
	struct cgroup_map *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->root = strdup(root);
	if (!m->root) {
		free(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

static void clear(struct cgroup_map *m)
{
	for (size_t i = 0; m->slots && i <= m->mask; i++)
		free(m->slots[i].path);
	free(m->slots);
	m->slots = NULL;
	m->mask = 0;
	m->len = 0;
	m->skipped = 0;
}

void cgroup_map_free(struct cgroup_map *m)
{
	if (!m)
		return;
	clear(m);
	free(m->root);
	free(m);
}

static size_t slot_of(const struct cgroup_map *m, uint64_t id)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & m->mask;
}

static struct cgroup_entry *find(const struct cgroup_map *m, uint64_t id)
{
	if (!m->slots)
		return NULL;
	for (size_t i = slot_of(m, id);; i = (i + 1) & m->mask) {
		if (m->slots[i].id == id)
			return &m->slots[i];
		if (m->slots[i].id == 0)
			return NULL;
	}
}

static int grow(struct cgroup_map *m)
{
	size_t n = m->slots ? 2 * (m->mask + 1) : 256;
	struct cgroup_entry *old = m->slots, *slots = calloc(n, sizeof(*slots));
	size_t oldn = old ? m->mask + 1 : 0;

	if (!slots)
		return -ENOMEM;
	m->slots = slots;
	m->mask = n - 1;
	for (size_t i = 0; i < oldn; i++) {
		if (!old[i].id)
			continue;
		size_t j = slot_of(m, old[i].id);

		while (slots[j].id)
			j = (j + 1) & m->mask;
		slots[j] = old[i];
	}
	free(old);
	return 0;
}

static int insert(struct cgroup_map *m, uint64_t id, const char *path)
{
	size_t i;

	if (find(m, id))
		return 0;
	if (m->len >= CGROUP_MAP_MAX) {
		m->skipped++;
		return 0;
	}
	if (!m->slots || 2 * (m->len + 1) > m->mask + 1) {
		int err = grow(m);

		if (err < 0)
			return err;
	}
	for (i = slot_of(m, id); m->slots[i].id; i = (i + 1) & m->mask)
		;
	m->slots[i].path = strdup(path);
	if (!m->slots[i].path)
		return -ENOMEM;
	m->slots[i].id = id;
	m->len++;
	return 0;
}

/* Adds the cgroup open at DFD, whose path is PATH (LEN bytes, in a buffer
 * of CGROUP_PATH_MAX), and everything below it. Consumes DFD. */
static int walk(struct cgroup_map *m, int dfd, char *path, size_t len, int depth)
{
	struct stat st;
	struct dirent *de;
	DIR *dir;
	int err = 0;

	if (fstat(dfd, &st) < 0) {
		close(dfd);
		return 0; /* removed while we walked */
	}
	err = insert(m, (uint64_t)st.st_ino, len ? path : "/");
	if ((uint64_t)st.st_ino > m->max_id)
		m->max_id = (uint64_t)st.st_ino;
	if (err < 0 || depth >= CGROUP_DEPTH_MAX) {
		close(dfd);
		return err;
	}
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return 0;
	}
	while (err == 0 && (de = readdir(dir))) {
		size_t n = strlen(de->d_name);
		int sub;

		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (len + 1 + n >= CGROUP_PATH_MAX) {
			m->skipped++;
			continue;
		}
		sub = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0)
			continue; /* removed, or not ours to read */
		path[len] = '/';
		memcpy(path + len + 1, de->d_name, n + 1);
		err = walk(m, sub, path, len + 1 + n, depth + 1);
		path[len] = '\0';
	}
	closedir(dir);
	return err;
}

static int rescan(struct cgroup_map *m)
{
	char path[CGROUP_PATH_MAX] = "";
	int dfd;

	clear(m);
	m->walks++;
	dfd = open(m->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	return walk(m, dfd, path, 0, 0);
}

const char *cgroup_map_lookup(struct cgroup_map *m, uint64_t id, uint64_t now_ms)
{
	struct cgroup_entry *e = find(m, id);
	uint64_t wait;

	if (e)
		return e->path;
	/*
	 * The kernel numbers cgroups in the order they are created, so an id
	 * above any the last walk saw is a cgroup created since: walk again
	 * soon. An id below is a cgroup outside the tree we can see, or one
	 * already removed: no walk will find it, so try only now and then.
	 */
	wait = id > m->max_id ? CGROUP_RESCAN_NEW_MS : CGROUP_RESCAN_MS;
	if (m->walked && now_ms - m->walked_ms < wait)
		return NULL;
	m->walked = true;
	m->walked_ms = now_ms;
	(void)rescan(m); /* a failed walk leaves what it found */
	if (id > m->max_id)
		m->max_id = id; /* not found: no more quick walks for it */
	e = find(m, id);
	return e ? e->path : NULL;
}

uint64_t cgroup_map_walks(const struct cgroup_map *m)
{
	return m->walks;
}

size_t cgroup_map_skipped(const struct cgroup_map *m)
{
	return m->skipped;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n > k && memcmp(s + n - k, suffix, k) == 0;
}

int cgroup_unit(const char *path, char *buf, size_t size)
{
	const char *end = path + strlen(path);

	while (end > path) {
		const char *start = end;
		size_t n;

		while (start > path && start[-1] != '/')
			start--;
		n = (size_t)(end - start);
		if (ends_with(start, n, ".service") || ends_with(start, n, ".scope")) {
			if (n >= size)
				return -ENOSPC;
			memcpy(buf, start, n);
			buf[n] = '\0';
			return (int)n;
		}
		end = start > path ? start - 1 : path;
	}
	return 0;
}
