/* test_procmap.c - socket inodes to processes, over a fake /proc made of
 * directories, "comm" files and "fd/N -> socket:[INODE]" symbolic links. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "procmap.h"

static char tmpdir[] = "/tmp/test_procmap.XXXXXX";

/* Process PID named COMM (as the kernel writes it, with a newline) holding
 * the fd FD -> TARGET. */
static void fake_fd(unsigned pid, const char *comm, unsigned fd, const char *target)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u", tmpdir, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%u/fd", tmpdir, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%u/comm", tmpdir, pid);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%s\n", comm) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%u/fd/%u", tmpdir, pid, fd);
	if (symlink(target, path) < 0) {
		perror(path);
		exit(1);
	}
}

static void test_lookup(void)
{
	struct procmap *m;
	char comm[PROCMAP_COMM_MAX];
	uint32_t pid = 0;
	uint64_t t = 1000000;

	fake_fd(100, "nginx", 3, "socket:[5000]");
	fake_fd(100, "nginx", 4, "pipe:[5001]");
	fake_fd(100, "nginx", 5, "socket:[5002]");
	fake_fd(200, "curl x", 3, "socket:[6000]");
	fake_fd(300, "worker", 7, "socket:[5000]"); /* shared after fork: the lowest pid */
	fake_fd(400, "odd", 3, "socket:[12x]");
	fake_fd(400, "odd", 4, "socket:[99999999999]");

	CHECK_INT(procmap_new(&m, tmpdir), 0);
	CHECK_INT(procmap_lookup(m, 5000, t, &pid, comm), 0);
	CHECK_INT(pid, 100);
	CHECK_STR(comm, "nginx");
	CHECK_INT(procmap_lookup(m, 6000, t, &pid, comm), 0);
	CHECK_INT(pid, 200);
	CHECK_STR(comm, "curl x");
	CHECK_INT(procmap_stats(m)->scans, 1);
	CHECK_INT(procmap_stats(m)->last_procs, 4);
	CHECK_INT(procmap_stats(m)->last_sockets, 4);
	CHECK_INT(procmap_lookup(m, 5001, t, &pid, comm), -ENOENT); /* a pipe */
	CHECK_INT(procmap_lookup(m, 0, t, &pid, comm), -ENOENT);

	/* A new socket: found by the next scan, not before PROCMAP_RESCAN_MS. */
	fake_fd(500, "late", 3, "socket:[7000]");
	CHECK_INT(procmap_lookup(m, 7000, t + 1, &pid, comm), -ENOENT);
	CHECK_INT(procmap_stats(m)->scans, 1);
	CHECK_INT(procmap_lookup(m, 7000, t + PROCMAP_RESCAN_MS, &pid, comm), 0);
	CHECK_INT(pid, 500);
	CHECK_INT(procmap_stats(m)->scans, 2);

	/* A socket closed since: still known for one more scan. */
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/200/fd/3", tmpdir);
		CHECK_INT(unlink(path), 0);
	}
	CHECK_INT(procmap_scan(m), 0);
	CHECK_INT(procmap_lookup(m, 6000, t + 2 * PROCMAP_RESCAN_MS, &pid, comm), 0);
	CHECK_INT(pid, 200);
	CHECK_INT(procmap_scan(m), 0);
	CHECK_INT(procmap_lookup(m, 6000, t + 2 * PROCMAP_RESCAN_MS + 1, &pid, comm), -ENOENT);
	procmap_free(m);
	procmap_free(NULL);

	CHECK_INT(procmap_new(&m, "/nonexistent/proc"), 0);
	CHECK_INT(procmap_scan(m), -ENOENT);
	CHECK_INT(procmap_lookup(m, 1, t, &pid, comm), -ENOENT);
	procmap_free(m);
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_lookup();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return CHECK_DONE();
}
