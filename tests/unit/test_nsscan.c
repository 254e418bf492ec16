/*
 * test_nsscan.c - finding, naming and matching network namespaces, over a
 * root made for the test: proc/PID/ns/net are symlinks to "net:[INODE]" (read
 * by readlink as the kernel's are), proc/PID/cgroup plain files, and the
 * files in run/netns and run/docker/netns real nsfs bind mounts of namespaces
 * the test makes (as root, in a private mount namespace, so that they go away
 * with the test).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "nsscan.h"
#include "util.h"

static char root[] = "/tmp/test_nsscan.XXXXXX";

static void mkpath(const char *rel, mode_t mode)
{
	char path[512], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	chmod(path, mode);
}

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* A process PID in the namespace INO, in the cgroup CGROUP (NULL: no file). */
static void proc(unsigned pid, uint64_t ino, const char *cgroup)
{
	char rel[128], link[512], text[64];

	snprintf(rel, sizeof(rel), "proc/%u/ns", pid);
	mkpath(rel, 0755);
	snprintf(link, sizeof(link), "%s/%s/net", root, rel);
	snprintf(text, sizeof(text), "net:[%" PRIu64 "]", ino);
	unlink(link);
	if (symlink(text, link) < 0) {
		perror(link);
		exit(1);
	}
	if (cgroup) {
		snprintf(rel, sizeof(rel), "proc/%u/cgroup", pid);
		put(rel, cgroup);
	}
}

static void proc_gone(unsigned pid)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/proc/%u", root, pid);
	CHECK_INT(system(cmd), 0);
}

/* Scans with SPEC: the number found, their list in *RET. */
static size_t scan(struct nsscan **s, const char *spec, const struct nsscan_ns **ret)
{
	char err[256] = "";
	size_t n = 0;

	if (!*s) {
		CHECK_INT(nsscan_new(s, spec, err, sizeof(err)), 0);
		CHECK_STR(err, "");
		nsscan_set_root(*s, root);
	}
	CHECK_INT(nsscan_run(*s, ret, &n), 0);
	return n;
}

/* The root-relative path P as nsscan returns it. */
static const char *at(const char *p)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s%s", root, p);
	return buf[i];
}

static void test_check(void)
{
	char why[256];
	struct nsscan *s = NULL;

	CHECK(!nsscan_is_dynamic(""));
	CHECK(!nsscan_is_dynamic("blue"));
	CHECK(!nsscan_is_dynamic(" /proc/1/ns/net "));
	CHECK(nsscan_is_dynamic("all"));
	CHECK(nsscan_is_dynamic("web-*"));
	CHECK(nsscan_is_dynamic("/run/docker/netns/?"));
	CHECK(nsscan_is_dynamic("blue red"));
	CHECK(!nsscan_is_dynamic("allx"));

	CHECK_INT(nsscan_check("all", why, sizeof(why)), 0);
	CHECK_INT(nsscan_check("blue web-* /run/docker/netns/* c[0-9]", why, sizeof(why)), 0);
	CHECK_INT(nsscan_check("relative/path", why, sizeof(why)), 0); /* alone: as before */
	CHECK_INT(nsscan_check("blue ..", why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "\"..\" is not a namespace name");
	CHECK_INT(nsscan_check("blue all", why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "\"all\" matches every namespace: write it alone");
	CHECK_INT(nsscan_check("blue web-[ab", why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "\"web-[ab\" has a \"[\" that no \"]\" closes");
	CHECK_INT(nsscan_check("[]]", why, sizeof(why)), 0); /* "]" first is a member */
	CHECK_INT(nsscan_check("[!]", why, sizeof(why)), -EINVAL);
	CHECK_INT(nsscan_check("blue x/y", why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "\"x/y\" is a relative path: in a list, paths begin with /");
	CHECK_INT(nsscan_new(&s, "a b\tweb-[", why, sizeof(why)), -EINVAL);
	CHECK(s == NULL);
	CHECK_STR(why, "\"web-[\" has a \"[\" that no \"]\" closes");
	nsscan_free(NULL);
}

/* Namespaces known only by their processes: names from cgroups, kept. */
static void test_processes(void)
{
	struct nsscan *s = NULL, *g = NULL, *p = NULL;
	const struct nsscan_ns *v;
	size_t n;

	proc(1, 100, "0::/init.scope\n");
	proc(5, 200, "12:pids:/x\n0::/system.slice/docker-abc.scope\n");
	proc(7, 200, "0::/system.slice/other.scope\n");
	proc(9, 300, "0::/\n");
	proc(11, 400, "0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-1.scope\n");
	mkpath("proc/sys", 0755);
	put("proc/13", ""); /* not a process directory: counted, not found */

	n = scan(&s, "all", &v);
	CHECK_INT(n, 4);
	if (n != 4)
		goto out;
	CHECK_INT(v[0].ino, 100);
	CHECK_STR(v[0].name, "host");
	CHECK(v[0].host);
	CHECK_STR(v[0].path, at("/proc/1/ns/net"));
	CHECK_INT(v[1].ino, 200);
	CHECK_STR(v[1].name, "docker-abc.scope"); /* the lowest pid's */
	CHECK(!v[1].host);
	CHECK_STR(v[1].path, at("/proc/5/ns/net"));
	CHECK_STR(v[2].name, "ino-300");
	CHECK_STR(v[3].name, "cri-containerd-1.scope");
	CHECK_INT(nsscan_stats(s)->procs, 6);
	CHECK_INT(nsscan_stats(s)->unreadable, 0);
	CHECK(nsscan_find(v, n, 300) == &v[2]);
	CHECK(nsscan_find(v, n, 301) == NULL);

	/* Globs on readable names, a path item by a process's file. */
	CHECK_INT(scan(&g, "docker-* ino-3?? nothing", &v), 2);
	CHECK_INT(v[0].ino, 200);
	CHECK_INT(v[1].ino, 300);
	CHECK_INT(scan(&p, "/proc/7/ns/net host", &v), 2);
	CHECK_INT(v[0].ino, 100);
	CHECK_INT(v[1].ino, 200);
	CHECK_STR(v[1].path, at("/proc/5/ns/net"));

	/* A name, once found, stays: a new cgroup, then another lowest pid. */
	put("proc/5/cgroup", "0::/system.slice/changed.scope\n");
	CHECK_INT(scan(&s, NULL, &v), 4);
	CHECK_STR(v[1].name, "docker-abc.scope");
	proc_gone(5);
	CHECK_INT(scan(&s, NULL, &v), 4);
	CHECK_STR(v[1].name, "docker-abc.scope");
	CHECK_STR(v[1].path, at("/proc/7/ns/net"));
	/* No unit yet: read again when another process is the lowest. */
	proc(8, 300, "0::/system.slice/late.scope\n");
	CHECK_INT(scan(&s, NULL, &v), 4);
	CHECK_STR(v[2].name, "late.scope");
	/* Gone with its last process; a new namespace on its inode is named anew. */
	proc_gone(7);
	CHECK_INT(scan(&s, NULL, &v), 3);
	CHECK(nsscan_find(v, 3, 200) == NULL);
	proc(7, 200, "0::/system.slice/new.scope\n");
	CHECK_INT(scan(&s, NULL, &v), 4);
	CHECK_STR(v[1].name, "new.scope");
out:
	nsscan_free(s);
	nsscan_free(g);
	nsscan_free(p);
}

/* As another user: processes whose ns/net we may not read are counted. */
static void test_unreadable(void)
{
	pid_t child;
	int status;

	mkpath("proc/30", 0700);
	proc(30, 500, "0::/secret.scope\n");
	child = fork();
	if (child == 0) {
		struct nsscan *s = NULL;
		const struct nsscan_ns *v;
		size_t n;

		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		n = scan(&s, "all", &v);
		CHECK(nsscan_find(v, n, 500) == NULL);
		CHECK(nsscan_find(v, n, 100) != NULL);
		CHECK_INT(nsscan_stats(s)->unreadable, 1);
		nsscan_free(s);
		_exit(check_failures ? 1 : 0);
	}
	CHECK_INT(waitpid(child, &status, 0), child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	proc_gone(30);
}

/* Makes a network namespace and pins it on the file REL: returns its inode. */
static uint64_t pin(const char *rel, int self)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	put(rel, "");
	if (unshare(CLONE_NEWNET) < 0 ||
	    mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0 ||
	    setns(self, CLONE_NEWNET) < 0 || stat(path, &st) < 0) {
		perror(path);
		exit(1);
	}
	return (uint64_t)st.st_ino;
}

static void bind(const char *from, const char *to)
{
	char a[512], b[512];

	snprintf(a, sizeof(a), "%s/%s", root, from);
	snprintf(b, sizeof(b), "%s/%s", root, to);
	put(to, "");
	if (mount(a, b, NULL, MS_BIND, NULL) < 0) {
		perror(b);
		exit(1);
	}
}

static void check_files(uint64_t a, uint64_t b, uint64_t c)
{
	struct nsscan *s = NULL;
	const struct nsscan_ns *v, *e;
	size_t n;

	n = scan(&s, "all", &v);
	CHECK_INT(n, 7); /* 100 200 300 400, and the three */
	e = nsscan_find(v, n, a);
	CHECK(e && strcmp(e->name, "azure") == 0); /* its process's unit comes after */
	CHECK(e && strcmp(e->path, at("/run/netns/azure")) == 0);
	e = nsscan_find(v, n, b);
	CHECK(e && strcmp(e->name, "0123abcd") == 0); /* no process: the runtime's id */
	CHECK(e && strcmp(e->path, at("/run/docker/netns/0123abcd")) == 0);
	e = nsscan_find(v, n, c);
	CHECK(e && strcmp(e->name, "pinned.scope") == 0); /* "all" reads no path item */
	CHECK(e && strcmp(e->path, at("/proc/22/ns/net")) == 0);
	/* azure, blue, not-nsfs; the same three by /var/run; 0123abcd. */
	CHECK_INT(nsscan_stats(s)->files, 7);
	nsscan_free(s);
	s = NULL;

	CHECK_INT(scan(&s, "/other/* /var/run/netns/blue", &v), 2);
	e = nsscan_find(v, 2, c);
	CHECK(e && strcmp(e->path, at("/other/pinned")) == 0);
	CHECK(e && strcmp(e->name, "pinned.scope") == 0);
	CHECK(nsscan_find(v, 2, a) != NULL);
	nsscan_free(s);
	s = NULL;
	CHECK_INT(scan(&s, "blue /run/docker/netns/*", &v), 2); /* blue: an ip netns name too */
	CHECK(nsscan_find(v, 2, a) && nsscan_find(v, 2, b));
	nsscan_free(s);
}

static const char *const pinned[] = {"/run/netns/blue", "/run/netns/azure",
                                     "/run/docker/netns/0123abcd", "/other/pinned"};

/* Named files: nsfs bind mounts, deduplicated by inode, named by priority. */
static void test_files(void)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	uint64_t a, b, c;

	if (self < 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		printf("test_files skipped: cannot make namespaces here (%s)\n", strerror(errno));
		if (self >= 0)
			close(self);
		return;
	}
	mkpath("run/netns", 0755);
	mkpath("run/docker/netns", 0755);
	mkpath("other", 0755);
	mkpath("var", 0755);
	CHECK_INT(symlink("../run", at("/var/run")), 0);
	a = pin("run/netns/blue", self);
	bind("run/netns/blue", "run/netns/azure");
	put("run/netns/not-nsfs", "");
	b = pin("run/docker/netns/0123abcd", self);
	c = pin("other/pinned", self);
	proc(20, a, "0::/system.slice/docker-a.scope\n");
	proc(22, c, "0::/system.slice/pinned.scope\n");
	check_files(a, b, c);
	for (size_t i = 0; i < UTIL_LEN(pinned); i++)
		CHECK_INT(umount2(at(pinned[i]), MNT_DETACH), 0);
	close(self);
}

int main(void)
{
	char cmd[600];

	if (!mkdtemp(root)) {
		perror(root);
		return 1;
	}
	chmod(root, 0755);
	test_check();
	test_processes();
	if (geteuid() == 0)
		test_unreadable();
	else
		printf("test_unreadable skipped: not root\n");
	if (geteuid() == 0)
		test_files();
	else
		printf("test_files skipped: not root\n");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		return 1;
	return CHECK_DONE();
}
