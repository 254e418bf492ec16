/* test_metrics_file.c - the textfile: its target through a link, written whole, mode 0644. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "metrics_file.h"

static char dir[] = "/tmp/test_metrics_file.XXXXXX";

static const char *at(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
	return buf;
}

static void test_target(void)
{
	char path[PATH_MAX], file[PATH_MAX], want[PATH_MAX];

	/* A plain path, there or not yet. */
	CHECK_INT(metrics_file_target(at(path, "a.prom"), file), 0);
	CHECK_STR(file, path);
	CHECK_INT(metrics_file_target(at(path, "nodir/a.prom"), file), -ENOENT);

	/* A link, absolute or relative to its directory, to a file not written yet. */
	CHECK_INT(mkdir(at(path, "state"), 0755), 0);
	CHECK_INT(symlink(at(want, "state/t.prom"), at(path, "abs.prom")), 0);
	CHECK_INT(metrics_file_target(path, file), 0);
	CHECK_STR(file, want);
	CHECK_INT(symlink("state/t.prom", at(path, "rel.prom")), 0);
	CHECK_INT(metrics_file_target(path, file), 0);
	CHECK_STR(file, at(want, "state/t.prom"));

	/* A link into a directory that does not exist. */
	CHECK_INT(symlink("gone/t.prom", at(path, "dangling.prom")), 0);
	CHECK_INT(metrics_file_target(path, file), -ENOENT);
}

static void test_write(void)
{
	char path[PATH_MAX], tmp[PATH_MAX], line[256];
	struct metrics *m;
	struct stat st;
	FILE *f;
	int found = 0;

	CHECK_INT(metrics_new(&m, 0), 0);
	m->health.polls = 42;
	umask(077); /* as strict as the unit's; node_exporter must still read it */
	CHECK_INT(metrics_file_write(at(path, "w.prom"), m, "9.9"), 0);
	umask(022);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0644);
	CHECK_INT(access(at(tmp, "w.prom.tmp"), F_OK), -1); /* renamed, not left */
	f = fopen(path, "r");
	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f))
		found += strcmp(line, "tcpstated_polls_total 42\n") == 0 ||
		         strcmp(line, "tcpstated_build_info{version=\"9.9\"} 1\n") == 0;
	if (f)
		fclose(f);
	CHECK_INT(found, 2);

	/* A write that cannot be done leaves nothing behind. */
	CHECK_INT(metrics_file_write(at(path, "nodir/w.prom"), m, "9.9"), -ENOENT);
	/* A symlink where the temporary file goes is not followed. */
	CHECK_INT(symlink("/tmp/test_metrics_file_victim", at(tmp, "v.prom.tmp")), 0);
	CHECK_INT(metrics_file_write(at(path, "v.prom"), m, "9.9"), -ELOOP);
	CHECK_INT(access("/tmp/test_metrics_file_victim", F_OK), -1);
	metrics_free(m);
}

int main(void)
{
	char cmd[PATH_MAX + 16];

	if (!mkdtemp(dir))
		return 1;
	test_target();
	test_write();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return CHECK_DONE();
}
