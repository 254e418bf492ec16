/*
 * once.c - --once: what ss -tan (or ss -tanp) would print, from one dump.
 *
 * The configuration decides what it shows as it decides what the daemon
 * logs: [filter] (ports and addresses in the kernel, states here),
 * [log] format, [attribution]. Nothing else of it applies: the table goes to
 * standard output, never to the log file.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "attrib.h"
#include "once.h"
#include "record.h"
#include "snapshot.h"

/* Writes the entries of S that CFG's states select, one line each, owners from A. */
static int print_rows(struct snapshot *s, const struct config *cfg, struct attrib *a, FILE *out)
{
	unsigned columns = (cfg->attrib_cgroups ? RECORD_TABLE_UNIT : 0) |
	                   (cfg->attrib_processes ? RECORD_TABLE_PROCESS : 0);
	static char line[RECORD_MAX];
	char unit[256], comm[PROCMAP_COMM_MAX];
	struct sock_owner o;
	struct timespec now;
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	if (cfg->log.format == RECORD_TEXT) {
		n = record_format_table_header(line, sizeof(line), columns);
		if (n > 0)
			fputs(line, out);
	}
	for (size_t i = 0; i < s->len; i++) {
		const struct sock *sk = &s->entries[i].sk;
		const struct sock_owner *owner;

		if (!filter_match_states(&cfg->filter, sk->state, sk->state))
			continue;
		owner = attrib_owner(a, sk, &o, unit, sizeof(unit), comm);
		n = cfg->log.format == RECORD_JSON
		        ? record_format_socket_json(line, sizeof(line), sk, owner, &now)
		        : record_format_table_row(line, sizeof(line), sk, owner, columns);
		if (n < 0)
			return n;
		fputs(line, out);
	}
	return 0;
}

int once_print(struct diag *diag, const struct config *cfg, FILE *out)
{
	struct attrib a = {0};
	struct snapshot s;
	int err;

	snapshot_init(&s);
	err = diag_dump(diag, snapshot_put_cb, &s);
	if (err == 0) {
		/* After the dump: the maps then know every socket it found. */
		attrib_apply(&a, cfg);
		if (a.procs)
			(void)procmap_scan(a.procs);
		err = print_rows(&s, cfg, &a, out);
		attrib_release(&a);
	}
	snapshot_release(&s);
	if (fflush(out) != 0 && err == 0)
		err = -errno;
	return err;
}
