/*
 * fuzz_recread.c - the record reader and the assembly on any bytes.
 *
 * The input is a log: lines of text or JSON records, or anything else.
 * Every line must either be refused or give a record whose fields are in
 * range; a JSON line the fast path reads must read the same through json-c
 * (the same line with a blank after its '{', which only json-c takes); and
 * the records, assembled into connections, must come out whole, with the
 * table empty at the end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "ctl_conn.h"
#include "ctl_record.h"
#include "fuzz.h"

static void on_done(const struct conn *c, void *user)
{
	size_t *n = user;

	ASSERT(c->nsteps >= 1 && c->nsteps <= CONN_STEPS_MAX);
	ASSERT(c->outcome < CONN_OUTCOME_MAX && c->role < CONN_ROLE_MAX);
	ASSERT(!c->peer || c->peer->peer == c);
	conn_handshake_us(c);
	conn_lifetime_us(c, 0);
	*n += 1 + (c->peer != NULL);
}

static void check_record(const struct ctl_record *r)
{
	ASSERT(r->kind < CTL_RECORD_KIND_MAX);
	ASSERT(r->from < SOCK_STATE_MAX && r->to < SOCK_STATE_MAX && r->how < CTL_HOW_MAX);
	if (r->kind == CTL_RECORD_TRANSITION || r->kind == CTL_RECORD_SUMMARY) {
		ASSERT(r->tuple.family == AF_INET || r->tuple.family == AF_INET6);
		ASSERT(r->cookie != 0);
	}
	ASSERT(memchr(r->unit, '\0', sizeof(r->unit)) && memchr(r->comm, '\0', sizeof(r->comm)));
}

/* The same line read by json-c alone must give the same record. */
static void check_both_paths(const char *line, size_t len, const struct ctl_record *fast)
{
	char *slow = malloc(len + 2);
	struct ctl_record r;

	ASSERT(slow);
	slow[0] = '{';
	slow[1] = ' ';
	memcpy(slow + 2, line + 1, len - 1);
	ASSERT(recread_line(slow, len + 1, &r) == 0);
	ASSERT(r.kind == fast->kind && r.has == fast->has && r.ts_us == fast->ts_us);
	ASSERT(r.cookie == fast->cookie && r.from == fast->from && r.to == fast->to);
	ASSERT(sock_tuple_equal(&r.tuple, &fast->tuple) || r.kind == CTL_RECORD_LOSS ||
	       r.kind == CTL_RECORD_OTHER);
	ASSERT(strcmp(r.unit, fast->unit) == 0 && strcmp(r.comm, fast->comm) == 0);
	free(slow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	size_t emitted = 0;
	struct conn_table *t = conn_table_new(NULL, on_done, &emitted);

	ASSERT(t);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct ctl_record r;
		int err = recread_line(p, len, &r);

		ASSERT(err == 0 || err == -EINVAL || err == -ENODATA);
		if (err == 0) {
			check_record(&r);
			/* The fast path takes only lines without blanks. */
			if (len > 1 && p[0] == '{' && p[1] != ' ' && !memchr(p, ' ', len))
				check_both_paths(p, len, &r);
			ASSERT(conn_table_add(t, &r) == 0);
		}
		p += len + 1;
	}
	conn_table_flush(t);
	ASSERT(conn_table_size(t) == 0);
	conn_table_free(t);
	return 0;
}
