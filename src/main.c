/*
 * main.c - options, then each module's setup and teardown in order.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "diag.h"
#include "log.h"
#include "logfile.h"
#include "netns.h"
#include "record.h"
#include "sdnotify.h"
#include "snapshot.h"

/*
 * Moves into the network namespace SPEC before any netlink socket exists.
 * Exits 66 when the namespace cannot be opened (it may not exist yet: a
 * container that has not started; systemd retries) and 71 when it cannot be
 * entered (no CAP_SYS_ADMIN, or not a network namespace).
 */
static void enter_netns(const char *spec)
{
	char path[PATH_MAX];
	int fd, err;

	err = netns_path(spec, path, sizeof(path));
	if (err < 0)
		fatal(CONFIG_EXIT, "[poll] netns: invalid namespace \"%s\"", spec);
	fd = netns_open(path);
	if (fd < 0)
		fatal(EX_NOINPUT, "cannot open network namespace %s: %s", path, strerror(-fd));
	err = netns_enter(fd);
	close(fd);
	if (err == -EPERM)
		fatal(EX_OSERR, "cannot enter network namespace %s: %s (it takes CAP_SYS_ADMIN)",
		      path, strerror(-err));
	if (err < 0)
		fatal(EX_OSERR, "cannot enter network namespace %s: %s", path,
		      err == -EINVAL ? "not a network namespace" : strerror(-err));
	log_info("watching network namespace %s", path);
}

/* --once: one dump, printed as a table, like `ss -tan`. Returns 0 or -errno. */
static int print_table(struct diag *diag)
{
	struct snapshot s;
	char row[RECORD_MAX];
	int err;

	snapshot_init(&s);
	err = diag_dump(diag, snapshot_put_cb, &s);
	if (err < 0) {
		snapshot_release(&s);
		return err;
	}
	fputs(record_table_header(), stdout);
	for (size_t i = 0; i < s.len; i++)
		if (record_format_row(row, sizeof(row), &s.entries[i].sk) > 0)
			fputs(row, stdout);
	snapshot_release(&s);
	return fflush(stdout) == 0 ? 0 : -errno;
}

int main(int argc, char **argv)
{
	struct cli_options opt;
	struct daemon d = {.opt = &opt};
	int err, status;

	/* First: it takes the watchdog settings out of the environment. */
	sdnotify_init();
	cli_parse_args(argc, argv, &opt);
	cli_load_config(&opt, &d.cfg, &d.source);
	if (opt.check_config) {
		cli_print_config(&d.cfg, d.source);
		return 0;
	}

	if (!opt.once)
		d.log = daemon_open_log(&d.cfg);
	if (d.cfg.netns[0])
		enter_netns(d.cfg.netns);
	err = diag_new(&d.diag);
	if (err < 0)
		fatal(EX_OSERR, "cannot open a NETLINK_SOCK_DIAG socket: %s", strerror(-err));
	err = daemon_apply_filter(d.diag, NULL, &d.cfg);
	if (err < 0)
		fatal(EX_SOFTWARE, "cannot compile [filter]: %s", strerror(-err));
	if (opt.once) {
		err = print_table(d.diag);
		if (err < 0)
			log_err("socket dump failed: %s", strerror(-err));
		status = err < 0 ? EX_OSERR : 0;
	} else {
		status = daemon_run(&d);
	}
	diag_free(d.diag);
	logfile_close(d.log); /* the one a reload may have switched to */
	return status;
}
