/*
 * main.c - options, then each module's setup and teardown in order.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <sys/stat.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "diag.h"
#include "log.h"
#include "logfile.h"
#include "netns.h"
#include "nsscan.h"
#include "once.h"
#include "sdnotify.h"

/*
 * Opens the network namespace that SPEC names, as the start and
 * --check-config do, into *RET_FD, its file into PATH. Exits 66 when it
 * cannot be opened (it may not exist yet: a container that has not started;
 * systemd retries) and 71 when it is not a network namespace.
 */
static void open_netns(const char *spec, char path[PATH_MAX], int *ret_fd)
{
	int fd, err;

	if (netns_path(spec, path, PATH_MAX) < 0)
		fatal(CONFIG_EXIT, "[poll] netns: invalid namespace \"%s\"", spec);
	fd = netns_open(path);
	if (fd < 0)
		fatal(EX_NOINPUT, "cannot open network namespace %s: %s%s", path, strerror(-fd),
		      fd == -ENOENT && !strchr(spec, '/')
		          ? " (no such name in /run/netns, see `ip netns list`; or write "
		            "a path such as /proc/PID/ns/net)"
		      : (fd == -EACCES || fd == -EPERM) && strncmp(path, "/proc/", 6) == 0
		          ? " (another user's process: reading its namespace takes "
		            "CAP_SYS_PTRACE)"
		          : "");
	err = netns_check(fd);
	if (err < 0)
		fatal(EX_OSERR, "%s is not a network namespace%s", path,
		      err == -EINVAL ? " (another kind of namespace)" : "");
	*ret_fd = fd;
}

/* Moves into the network namespace SPEC before any netlink socket exists,
 * and sets *RET_INO to its inode; exits as open_netns() does, and 71 when
 * it cannot be entered. */
static void enter_netns(const char *spec, uint64_t *ret_ino)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, err;

	open_netns(spec, path, &fd);
	err = netns_enter(fd);
	*ret_ino = fstat(fd, &st) == 0 ? st.st_ino : 0;
	close(fd);
	if (err < 0)
		fatal(EX_OSERR, "cannot enter network namespace %s: %s%s", path, strerror(-err),
		      err == -EPERM ? " (it takes CAP_SYS_ADMIN)" : "");
	log_info("watching network namespace %s", path);
}

/* --check-config for a dynamic [poll] netns: one search, and how many
 * namespaces it matches now (none is no error: they may come later). */
static void check_netns_scan(const char *spec)
{
	const struct nsscan_ns *v;
	struct nsscan *s;
	char err[256];
	size_t n;
	int r;

	r = nsscan_new(&s, spec, err, sizeof(err));
	if (r < 0)
		fatal(CONFIG_EXIT, "[poll] netns: %s", r == -EINVAL ? err : strerror(-r));
	r = nsscan_run(s, &v, &n);
	if (r < 0) {
		log_warn("cannot search for network namespaces: %s", strerror(-r));
	} else {
		printf("# [poll] netns matches %zu network namespace%s now\n", n,
		       n == 1 ? "" : "s");
		if (nsscan_stats(s)->unreadable)
			printf("# %zu process%s unreadable: give CAP_SYS_PTRACE to see their "
			       "namespaces\n",
			       nsscan_stats(s)->unreadable,
			       nsscan_stats(s)->unreadable == 1 ? "" : "es");
	}
	nsscan_free(s);
}

/* --check-config: what the start would refuse before opening the log, then
 * the configuration. */
static void check_config(const struct config *cfg, const char *source)
{
	char path[PATH_MAX];
	int fd;

	if (cfg->netns[0] && !nsscan_is_dynamic(cfg->netns)) {
		open_netns(cfg->netns, path, &fd);
		close(fd);
	}
	cli_print_config(cfg, source);
	if (nsscan_is_dynamic(cfg->netns))
		check_netns_scan(cfg->netns);
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
		check_config(&d.cfg, d.source);
		return 0;
	}

	if (opt.once && nsscan_is_dynamic(d.cfg.netns))
		fatal(EX_USAGE,
		      "--once reads one network namespace, and [poll] netns = %s names "
		      "many: name one with --netns NAME",
		      d.cfg.netns);
	if (!opt.once)
		d.log = daemon_open_log(&d.cfg);
	if (nsscan_is_dynamic(d.cfg.netns)) {
		/* Each namespace found gets sockets of its own (nsset.c). */
		status = daemon_run(&d);
		logfile_close(d.log);
		return status;
	}
	if (d.cfg.netns[0]) {
		enter_netns(d.cfg.netns, &d.here.ino);
		d.here.name = d.cfg.netns;
	}
	err = diag_new(&d.diag);
	if (err < 0)
		fatal(EX_OSERR, "cannot open a NETLINK_SOCK_DIAG socket: %s", strerror(-err));
	err = daemon_apply_filter(d.diag, &d.cfg);
	if (err < 0)
		fatal(EX_SOFTWARE, "cannot compile [filter]: %s", strerror(-err));
	if (opt.once) {
		err = once_print(d.diag, &d.cfg, stdout);
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
