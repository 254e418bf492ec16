/* test_cgroup.c - units from cgroup paths; the id map over a directory tree
 * made for the test (a walk reads any tree the same way as cgroup2). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "check.h"

static char tmpdir[] = "/tmp/test_cgroup.XXXXXX";

static void test_unit(void)
{
	char buf[64];

	CHECK_INT(cgroup_unit("/system.slice/nginx.service", buf, sizeof(buf)), 13);
	CHECK_STR(buf, "nginx.service");
	CHECK_INT(cgroup_unit("/system.slice/nginx.service/worker", buf, sizeof(buf)), 13);
	CHECK_STR(buf, "nginx.service");
	CHECK(cgroup_unit("/user.slice/user-1000.slice/session-3.scope", buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "session-3.scope");
	CHECK(cgroup_unit("/machine.slice/systemd-nspawn@web.service/payload", buf, sizeof(buf)) >
	      0);
	CHECK_STR(buf, "systemd-nspawn@web.service");
	/* The innermost unit: a service inside a container's tree. */
	CHECK(cgroup_unit("/machine.slice/systemd-nspawn@web.service/payload/system.slice/"
	                  "x.service",
	                  buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "x.service");
	CHECK(cgroup_unit("/system.slice/docker-0123abcd.scope", buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "docker-0123abcd.scope");
	CHECK_INT(cgroup_unit("/", buf, sizeof(buf)), 0);
	CHECK_INT(cgroup_unit("", buf, sizeof(buf)), 0);
	CHECK_INT(cgroup_unit("/init.scope/", buf, sizeof(buf)), 10);
	CHECK_STR(buf, "init.scope");
	CHECK_INT(cgroup_unit("/.service", buf, sizeof(buf)), 0);
	CHECK_INT(cgroup_unit("/a.services", buf, sizeof(buf)), 0);
	CHECK_INT(cgroup_unit("/system.slice/nginx.service", buf, 13), -ENOSPC);
}

static uint64_t ino(const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", tmpdir, rel);
	if (stat(path, &st) < 0) {
		perror(path);
		exit(1);
	}
	return (uint64_t)st.st_ino;
}

static void mk(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s", tmpdir, rel);
	if (mkdir(path, 0755) < 0) {
		perror(path);
		exit(1);
	}
}

/* The largest inode number of the tree made so far. */
static uint64_t newest(void)
{
	uint64_t a = ino(""), b = ino("/system.slice"), c = ino("/system.slice/nginx.service");

	return a > b ? (a > c ? a : c) : (b > c ? b : c);
}

/*
 * Makes /system.slice/newN.service, with an inode number above MAX, as a new
 * cgroup's id is above every older one's. A test tree's file system need not
 * number them so (tmpfs hands out inode numbers from per-CPU batches), so
 * directories are made until one is; its path goes to BUF.
 */
static void new_dir(uint64_t max, char *buf, size_t size)
{
	for (int i = 0; i < 100000; i++) {
		snprintf(buf, size, "/system.slice/new%d.service", i);
		mk(buf);
		if (ino(buf) > max)
			return;
	}
	fprintf(stderr, "no directory with an inode number above %llu\n", (unsigned long long)max);
	exit(1);
}

static void test_map(void)
{
	struct cgroup_map *m;
	uint64_t t = 1000000;
	char new_service[64];

	mk("/system.slice");
	mk("/system.slice/nginx.service");
	CHECK_INT(cgroup_map_new(&m, tmpdir), 0);
	CHECK_INT(cgroup_map_walks(m), 0);
	CHECK_STR(cgroup_map_lookup(m, ino("/system.slice/nginx.service"), t),
	          "/system.slice/nginx.service");
	CHECK_STR(cgroup_map_lookup(m, ino(""), t), "/");
	CHECK_INT(cgroup_map_walks(m), 1);

	/* A new directory: its id is found by a walk soon after. */
	new_dir(newest(), new_service, sizeof(new_service));
	CHECK(cgroup_map_lookup(m, ino(new_service), t + 1) == NULL || cgroup_map_walks(m) == 2);
	CHECK_STR(cgroup_map_lookup(m, ino(new_service), t + CGROUP_RESCAN_NEW_MS + 1),
	          new_service);
	CHECK_INT(cgroup_map_walks(m), 2);

	/* An id that no walk finds: at most one walk per CGROUP_RESCAN_MS. */
	t += 10 * CGROUP_RESCAN_MS;
	CHECK(cgroup_map_lookup(m, 1, t) == NULL);
	CHECK_INT(cgroup_map_walks(m), 3);
	for (int i = 1; i < 100; i++)
		CHECK(cgroup_map_lookup(m, 1, t + (uint64_t)i) == NULL);
	CHECK_INT(cgroup_map_walks(m), 3);
	CHECK(cgroup_map_lookup(m, 1, t + CGROUP_RESCAN_MS) == NULL);
	CHECK_INT(cgroup_map_walks(m), 4);
	/* Nor does an id that was new once and is not there. */
	CHECK(cgroup_map_lookup(m, UINT64_MAX - 1, t + 2 * CGROUP_RESCAN_MS) == NULL);
	CHECK_INT(cgroup_map_walks(m), 5);
	CHECK(cgroup_map_lookup(m, UINT64_MAX - 1, t + 2 * CGROUP_RESCAN_MS + 50) == NULL);
	CHECK_INT(cgroup_map_walks(m), 5);
	CHECK_INT(cgroup_map_skipped(m), 0);
	cgroup_map_free(m);
	cgroup_map_free(NULL);

	/* A root that is not there: nothing found, no crash. */
	CHECK_INT(cgroup_map_new(&m, "/nonexistent/cgroup"), 0);
	CHECK(cgroup_map_lookup(m, 1, t) == NULL);
	cgroup_map_free(m);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_unit();
	test_map();
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return CHECK_DONE();
}
