/*
 * test_ctl_conn.c - records into connections: paths and times in each
 * state, how each ended, the summary that follows, the two ends of a local
 * connection handed over together, and memory that follows what is open.
 */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "check.h"
#include "ctl_conn.h"

#define T0 1700000000000000ll

/* What the callbacks saw: a copy of each finished connection, and its peer's. */
struct seen {
	struct conn done[16];
	struct conn peer[16];
	int has_peer[16];
	char netns[16][32]; /* the name done[i] had */
	size_t ndone;
	size_t steps;
};

static void on_step(const struct conn *c, void *user)
{
	(void)c;
	((struct seen *)user)->steps++;
}

static void on_done(const struct conn *c, void *user)
{
	struct seen *s = user;

	if (s->ndone < 16) {
		s->done[s->ndone] = *c;
		s->has_peer[s->ndone] = c->peer != NULL;
		if (c->peer)
			s->peer[s->ndone] = *c->peer;
		snprintf(s->netns[s->ndone], sizeof(s->netns[0]), "%s", c->netns ? c->netns : "");
		s->done[s->ndone].unit = s->done[s->ndone].comm = s->done[s->ndone].netns = NULL;
		s->peer[s->ndone].unit = s->peer[s->ndone].comm = s->peer[s->ndone].netns = NULL;
	}
	s->ndone++;
}

static struct ctl_record rec(uint64_t cookie, uint16_t lport, uint16_t rport, unsigned from,
                             unsigned to, int64_t dt_us, unsigned how)
{
	struct ctl_record r;

	memset(&r, 0, sizeof(r));
	r.kind = CTL_RECORD_TRANSITION;
	r.cookie = cookie;
	r.tuple.family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", r.tuple.laddr);
	inet_pton(AF_INET, "127.0.0.1", r.tuple.raddr);
	r.tuple.lport = lport;
	r.tuple.rport = rport;
	r.from = (uint8_t)from;
	r.to = (uint8_t)to;
	r.how = (uint8_t)how;
	r.ts_us = T0 + dt_us;
	return r;
}

static struct ctl_record summary(uint64_t cookie, uint16_t lport, uint16_t rport, int64_t dt_us,
                                 uint64_t sent, uint64_t received)
{
	struct ctl_record r = rec(cookie, lport, rport, 0, 0, dt_us, 0);

	r.kind = CTL_RECORD_SUMMARY;
	r.lifetime_us = 1234;
	r.bytes_sent = sent;
	r.bytes_received = received;
	r.has = 1ull << RECORD_FIELD_LIFETIME_US | 1ull << RECORD_FIELD_BYTES_SENT |
	        1ull << RECORD_FIELD_BYTES_RECEIVED;
	return r;
}

static void add(struct conn_table *t, struct ctl_record r)
{
	CHECK_INT(conn_table_add(t, &r), 0);
}

/* A client and its server on loopback, through every state of an orderly
 * close: one pair, handed over when both are gone, client and server told
 * apart, times in each state from the records. */
static void test_pair(void)
{
	struct seen s = {0};
	struct conn_table *t = conn_table_new(on_step, on_done, &s);
	const struct conn *cl, *sv;

	add(t, rec(10, 40000, 80, SOCK_NONE, SOCK_SYN_SENT, 0, CTL_HOW_POLL));
	add(t, rec(11, 80, 40000, SOCK_NONE, SOCK_SYN_RECV, 100, CTL_HOW_POLL));
	add(t, rec(10, 40000, 80, SOCK_SYN_SENT, SOCK_ESTABLISHED, 1000, CTL_HOW_POLL));
	add(t, rec(11, 80, 40000, SOCK_SYN_RECV, SOCK_ESTABLISHED, 1000, CTL_HOW_POLL));
	add(t, rec(10, 40000, 80, SOCK_ESTABLISHED, SOCK_FIN_WAIT1, 5000, CTL_HOW_POLL));
	add(t, rec(11, 80, 40000, SOCK_ESTABLISHED, SOCK_CLOSE_WAIT, 5000, CTL_HOW_POLL));
	add(t, rec(10, 40000, 80, SOCK_FIN_WAIT1, SOCK_FIN_WAIT2, 6000, CTL_HOW_POLL));
	add(t, rec(11, 80, 40000, SOCK_CLOSE_WAIT, SOCK_NONE, 9000, CTL_HOW_DESTROY));
	add(t, summary(11, 80, 40000, 9000, 5, 6));
	add(t, rec(10, 40000, 80, SOCK_FIN_WAIT2, SOCK_TIME_WAIT, 9000, CTL_HOW_DESTROY));
	CHECK_INT(s.ndone, 0); /* the client is in TIME_WAIT: the pair waits */
	add(t, rec(10, 40000, 80, SOCK_TIME_WAIT, SOCK_NONE, 60009000, CTL_HOW_POLL));
	CHECK_INT(s.ndone, 1);
	CHECK_INT(s.steps, 10);
	CHECK_INT(s.has_peer[0], 1);
	cl = s.done[0].cookie == 10 ? &s.done[0] : &s.peer[0];
	sv = s.done[0].cookie == 10 ? &s.peer[0] : &s.done[0];
	CHECK_INT(cl->role, CONN_ROLE_CLIENT);
	CHECK_INT(sv->role, CONN_ROLE_SERVER);
	CHECK_INT(cl->outcome, CONN_LOCAL_CLOSE);
	CHECK_INT(sv->outcome, CONN_REMOTE_CLOSE);
	CHECK_INT(cl->nsteps, 6);
	CHECK_INT(conn_handshake_us(cl), 1000);
	CHECK_INT(conn_handshake_us(sv), 900);
	CHECK_INT(conn_step_us(cl, 3, INT64_MIN), 3000);     /* FIN_WAIT2 */
	CHECK_INT(conn_step_us(cl, 4, INT64_MIN), 60000000); /* TIME_WAIT */
	CHECK_INT(conn_lifetime_us(cl, INT64_MIN), 9000);    /* to TIME_WAIT, like tcplife */
	CHECK_INT(conn_lifetime_us(sv, INT64_MIN), 1234);    /* the summary's */
	CHECK_INT(sv->bytes_sent, 5);
	CHECK(sv->flags & CONN_HAS_BYTES);
	CHECK_INT(conn_table_size(t), 0);
	conn_table_free(t);
}

/* Each way a connection ends, from its records alone. */
static void check_outcome(const unsigned *states, size_t n, int64_t step_us, unsigned last_how,
                          unsigned want)
{
	struct seen s = {0};
	struct conn_table *t = conn_table_new(NULL, on_done, &s);

	for (size_t i = 0; i + 1 < n; i++)
		add(t, rec(7, 1000, 2000, states[i], states[i + 1], (int64_t)i * step_us,
		           i + 2 == n ? last_how : CTL_HOW_POLL));
	conn_table_flush(t);
	CHECK_INT(s.ndone, 1);
	if (s.done[0].outcome != want)
		fprintf(stderr, "  outcome %s, expected %s\n", conn_outcome_name(s.done[0].outcome),
		        conn_outcome_name(want));
	CHECK_INT(s.done[0].outcome, want);
	conn_table_free(t);
}

static void test_outcomes(void)
{
	const unsigned refused[] = {SOCK_NONE, SOCK_SYN_SENT, SOCK_NONE};
	const unsigned remote[] = {SOCK_NONE, SOCK_ESTABLISHED, SOCK_CLOSE_WAIT, SOCK_LAST_ACK,
	                           SOCK_NONE};
	const unsigned local[] = {SOCK_NONE, SOCK_ESTABLISHED, SOCK_TIME_WAIT, SOCK_NONE};
	const unsigned closing[] = {SOCK_NONE, SOCK_ESTABLISHED, SOCK_CLOSING, SOCK_NONE};
	const unsigned closed[] = {SOCK_NONE, SOCK_ESTABLISHED, SOCK_NONE};
	const unsigned syn_recv[] = {SOCK_NONE, SOCK_SYN_RECV, SOCK_NONE};
	const unsigned open[] = {SOCK_NONE, SOCK_SYN_SENT, SOCK_ESTABLISHED};
	const unsigned listener[] = {SOCK_NONE, SOCK_LISTEN, SOCK_NONE};
	const unsigned partial[] = {SOCK_ESTABLISHED, SOCK_FIN_WAIT2};
	const unsigned lingering[] = {SOCK_NONE, SOCK_ESTABLISHED, SOCK_FIN_WAIT2, SOCK_TIME_WAIT};

	check_outcome(refused, 3, 500, CTL_HOW_DESTROY, CONN_REFUSED);
	check_outcome(refused, 3, 3000000, CTL_HOW_DESTROY, CONN_TIMEOUT);
	check_outcome(remote, 5, 10, CTL_HOW_POLL, CONN_REMOTE_CLOSE);
	check_outcome(local, 4, 10, CTL_HOW_POLL, CONN_LOCAL_CLOSE);
	check_outcome(closing, 4, 10, CTL_HOW_POLL, CONN_SIMULTANEOUS_CLOSE);
	check_outcome(closed, 3, 10, CTL_HOW_DESTROY, CONN_CLOSED);
	check_outcome(syn_recv, 3, 10, CTL_HOW_POLL, CONN_HANDSHAKE_FAILED);
	check_outcome(open, 3, 10, CTL_HOW_POLL, CONN_OPEN);
	check_outcome(listener, 3, 10, CTL_HOW_POLL, CONN_LISTENER);
	check_outcome(partial, 2, 10, CTL_HOW_POLL, CONN_OPEN);
	/* Still in TIME_WAIT at the end of the input: closed, by this end. */
	check_outcome(lingering, 4, 10, CTL_HOW_DESTROY, CONN_LOCAL_CLOSE);
}

/* The daemon's own outcome (issue 11's "outcome" and "closer") in this tool's
 * words: a "fin" split by its closer wins over what the path alone suggests;
 * "unknown" leaves the path to tell. */
static unsigned given(const char *outcome, const char *closer)
{
	struct seen s = {0};
	struct conn_table *t = conn_table_new(NULL, on_done, &s);
	struct ctl_record r = summary(7, 1000, 2000, 20, 5, 6);
	unsigned got;

	add(t, rec(7, 1000, 2000, SOCK_NONE, SOCK_ESTABLISHED, 0, CTL_HOW_POLL));
	add(t, rec(7, 1000, 2000, SOCK_ESTABLISHED, SOCK_NONE, 10, CTL_HOW_DESTROY));
	snprintf(r.outcome, sizeof(r.outcome), "%s", outcome);
	snprintf(r.closer, sizeof(r.closer), "%s", closer);
	r.has |= 1ull << RECORD_FIELD_OUTCOME | (closer[0] ? 1ull << RECORD_FIELD_CLOSER : 0);
	add(t, r);
	conn_table_flush(t);
	CHECK_INT(s.ndone, 1);
	got = s.done[0].outcome;
	conn_table_free(t);
	return got;
}

static void test_given_outcome(void)
{
	CHECK_INT(given("fin", "remote"), CONN_REMOTE_CLOSE);
	CHECK_INT(given("fin", "local"), CONN_LOCAL_CLOSE);
	CHECK_INT(given("reset", ""), CONN_RESET);
	CHECK_INT(given("unknown", ""), CONN_CLOSED);
	CHECK_INT(given("fin", ""), CONN_CLOSED);
	CHECK(conn_outcome_is_fin(CONN_SIMULTANEOUS_CLOSE));
	CHECK(!conn_outcome_is_fin(CONN_CLOSED));
}

/* A connection that lived between two polls: NONE -> CLOSE -> NONE, then
 * its summary; a refused connect acknowledged and received nothing. And
 * both ends reset: each went from ESTABLISHED straight to NONE. */
static void test_short_and_reset(void)
{
	struct seen s = {0};
	struct conn_table *t = conn_table_new(NULL, on_done, &s);

	add(t, rec(20, 3000, 4000, SOCK_NONE, SOCK_CLOSE, 0, CTL_HOW_DESTROY));
	add(t, rec(20, 3000, 4000, SOCK_CLOSE, SOCK_NONE, 0, CTL_HOW_DESTROY));
	CHECK_INT(s.ndone, 0); /* waits for its summary */
	add(t, summary(20, 3000, 4000, 0, 0, 0));
	CHECK_INT(s.ndone, 1);
	CHECK_INT(s.done[0].outcome, CONN_REFUSED);

	add(t, rec(21, 3001, 4000, SOCK_NONE, SOCK_CLOSE, 10, CTL_HOW_DESTROY));
	add(t, rec(21, 3001, 4000, SOCK_CLOSE, SOCK_NONE, 10, CTL_HOW_DESTROY));
	add(t, summary(21, 3001, 4000, 10, 100, 200));
	CHECK_INT(s.done[1].outcome, CONN_SHORT);

	add(t, rec(30, 5000, 6000, SOCK_NONE, SOCK_ESTABLISHED, 100, CTL_HOW_INITIAL));
	add(t, rec(31, 6000, 5000, SOCK_NONE, SOCK_ESTABLISHED, 100, CTL_HOW_INITIAL));
	add(t, rec(30, 5000, 6000, SOCK_ESTABLISHED, SOCK_NONE, 200, CTL_HOW_DESTROY));
	add(t, rec(31, 6000, 5000, SOCK_ESTABLISHED, SOCK_NONE, 200, CTL_HOW_DESTROY));
	CHECK_INT(s.ndone, 2);
	/* No summary: handed over once a record a second later shows none came. */
	add(t, rec(40, 7000, 8000, SOCK_NONE, SOCK_LISTEN, 2000000, CTL_HOW_POLL));
	CHECK_INT(s.ndone, 3);
	CHECK_INT(s.has_peer[2], 1);
	CHECK_INT(s.done[2].outcome, CONN_RESET);
	CHECK_INT(s.peer[2].outcome, CONN_RESET);
	conn_table_free(t);
}

/* The same cookie again after its end is a new connection; a restarted
 * daemon's "initial" record continues the open one. */
static void test_cookie_reuse_and_restart(void)
{
	struct seen s = {0};
	struct conn_table *t = conn_table_new(NULL, on_done, &s);

	add(t, rec(50, 1, 2, SOCK_NONE, SOCK_ESTABLISHED, 0, CTL_HOW_POLL));
	add(t, rec(50, 1, 2, SOCK_NONE, SOCK_ESTABLISHED, 10, CTL_HOW_INITIAL));
	CHECK_INT(s.ndone, 0);
	add(t, rec(50, 1, 2, SOCK_ESTABLISHED, SOCK_FIN_WAIT2, 20, CTL_HOW_POLL));
	add(t, rec(50, 1, 2, SOCK_FIN_WAIT2, SOCK_NONE, 30, CTL_HOW_POLL));
	CHECK_INT(s.ndone, 1);
	CHECK_INT(s.done[0].nsteps, 3);
	add(t, rec(50, 1, 2, SOCK_NONE, SOCK_SYN_SENT, 40, CTL_HOW_POLL));
	conn_table_flush(t);
	CHECK_INT(s.ndone, 2);
	CHECK_INT(s.done[1].outcome, CONN_OPEN);
	conn_table_free(t);
}

/* Memory follows what is open: 100,000 connections one after the other
 * leave the table empty; 1,000 open at once are 1,000 in it. */
static void test_bounded(void)
{
	struct seen s = {0};
	struct conn_table *t = conn_table_new(NULL, on_done, &s);

	for (uint64_t i = 1; i <= 100000; i++) {
		add(t, rec(i, (uint16_t)(i % 60000 + 1), 80, SOCK_NONE, SOCK_ESTABLISHED,
		           (int64_t)i, CTL_HOW_POLL));
		add(t, rec(i, (uint16_t)(i % 60000 + 1), 80, SOCK_ESTABLISHED, SOCK_NONE,
		           (int64_t)i, CTL_HOW_POLL));
	}
	CHECK_INT(s.ndone, 100000);
	CHECK_INT(conn_table_size(t), 0);
	for (uint64_t i = 200001; i <= 201000; i++)
		add(t, rec(i, (uint16_t)(i % 60000 + 1), 443, SOCK_NONE, SOCK_ESTABLISHED, 0,
		           CTL_HOW_POLL));
	CHECK_INT(conn_table_size(t), 1000);
	/* Ending them in another order than they began takes each one out. */
	for (uint64_t i = 201000; i > 200000; i--)
		add(t, rec(i, (uint16_t)(i % 60000 + 1), 443, SOCK_ESTABLISHED, SOCK_NONE, 1,
		           CTL_HOW_POLL));
	CHECK_INT(conn_table_size(t), 0);
	CHECK_INT(s.ndone, 101000);
	conn_table_free(t);
}

/* Accepted connections first seen ESTABLISHED are servers when something
 * listens on their local port; their peers are then the clients. */
static void test_roles_from_listeners(void)
{
	struct seen s = {0};
	struct conn_table *t = conn_table_new(NULL, on_done, &s);

	add(t, rec(60, 8000, 0, SOCK_NONE, SOCK_LISTEN, 0, CTL_HOW_INITIAL));
	add(t, rec(61, 40000, 8000, SOCK_NONE, SOCK_ESTABLISHED, 10, CTL_HOW_POLL));
	add(t, rec(62, 8000, 40000, SOCK_NONE, SOCK_ESTABLISHED, 10, CTL_HOW_POLL));
	add(t, rec(63, 9000, 1234, SOCK_NONE, SOCK_ESTABLISHED, 10, CTL_HOW_POLL));
	add(t, rec(61, 40000, 8000, SOCK_ESTABLISHED, SOCK_NONE, 20, CTL_HOW_POLL));
	add(t, rec(62, 8000, 40000, SOCK_ESTABLISHED, SOCK_NONE, 20, CTL_HOW_POLL));
	add(t, rec(63, 9000, 1234, SOCK_ESTABLISHED, SOCK_NONE, 20, CTL_HOW_POLL));
	CHECK_INT(s.ndone, 2);
	CHECK_INT(s.done[0].cookie == 62 ? s.done[0].role : s.peer[0].role, CONN_ROLE_SERVER);
	CHECK_INT(s.done[0].cookie == 61 ? s.done[0].role : s.peer[0].role, CONN_ROLE_CLIENT);
	CHECK_INT(s.done[1].role, CONN_ROLE_UNKNOWN); /* nothing listens on 9000 */
	add(t, rec(60, 8000, 0, SOCK_LISTEN, SOCK_NONE, 30, CTL_HOW_POLL));
	add(t, rec(64, 8000, 5555, SOCK_NONE, SOCK_ESTABLISHED, 40, CTL_HOW_POLL));
	conn_table_flush(t);
	CHECK_INT(s.done[s.ndone - 1].role, CONN_ROLE_UNKNOWN); /* the listener is gone */
	conn_table_free(t);
}

/* R in the namespace NAME of inode INO. */
static struct ctl_record in_netns(struct ctl_record r, uint64_t ino, const char *name)
{
	r.netns_ino = ino;
	snprintf(r.netns, sizeof(r.netns), "%s", name);
	r.has |= 1ull << RECORD_FIELD_NETNS | 1ull << RECORD_FIELD_NETNS_INO;
	return r;
}

/*
 * Two namespaces with the same loopback connection, 127.0.0.1:40000 to
 * 127.0.0.1:80 (two containers running the same thing): each client is
 * paired with the server of its own namespace, whatever order the records
 * come in, and a port listened on in one namespace makes no server in the
 * other. A namespace that vanished ends its connections as "netns-gone".
 */
static void test_netns(void)
{
	struct seen s = {0};
	struct conn_table *t = conn_table_new(NULL, on_done, &s);

	add(t,
	    in_netns(rec(10, 40000, 80, SOCK_NONE, SOCK_ESTABLISHED, 0, CTL_HOW_POLL), 100, "a"));
	add(t,
	    in_netns(rec(20, 40000, 80, SOCK_NONE, SOCK_ESTABLISHED, 0, CTL_HOW_POLL), 200, "b"));
	add(t,
	    in_netns(rec(21, 80, 40000, SOCK_NONE, SOCK_ESTABLISHED, 0, CTL_HOW_POLL), 200, "b"));
	add(t,
	    in_netns(rec(11, 80, 40000, SOCK_NONE, SOCK_ESTABLISHED, 0, CTL_HOW_POLL), 100, "a"));
	/* b listens on 9000; a's socket on 9000 is no server for it. */
	add(t, in_netns(rec(30, 9000, 0, SOCK_NONE, SOCK_LISTEN, 0, CTL_HOW_POLL), 200, "b"));
	add(t,
	    in_netns(rec(31, 9000, 5555, SOCK_NONE, SOCK_ESTABLISHED, 0, CTL_HOW_POLL), 100, "a"));
	add(t,
	    in_netns(rec(32, 9000, 5556, SOCK_NONE, SOCK_ESTABLISHED, 0, CTL_HOW_POLL), 200, "b"));
	/* a goes, with its sockets. */
	add(t,
	    in_netns(rec(10, 40000, 80, SOCK_ESTABLISHED, SOCK_NONE, 50, CTL_HOW_NETNS), 100, "a"));
	add(t,
	    in_netns(rec(11, 80, 40000, SOCK_ESTABLISHED, SOCK_NONE, 50, CTL_HOW_NETNS), 100, "a"));
	CHECK_INT(s.ndone, 1);
	CHECK_INT(s.has_peer[0], 1);
	CHECK_INT(s.done[0].cookie + s.peer[0].cookie, 21);
	CHECK_INT(s.done[0].netns_ino, 100);
	CHECK_INT(s.peer[0].netns_ino, 100);
	CHECK_STR(s.netns[0], "a");
	CHECK_INT(s.done[0].outcome, CONN_NETNS_GONE);
	CHECK_INT(s.peer[0].outcome, CONN_NETNS_GONE);
	CHECK_STR(conn_outcome_name(CONN_NETNS_GONE), "netns-gone");
	conn_table_flush(t);
	for (size_t i = 1; i < s.ndone && i < 16; i++) {
		if (s.done[i].cookie == 20 || s.done[i].cookie == 21) {
			CHECK_INT(s.has_peer[i], 1);
			CHECK_INT(s.done[i].cookie + s.peer[i].cookie, 41);
			CHECK_STR(s.netns[i], "b");
		}
		if (s.done[i].cookie == 31)
			CHECK_INT(s.done[i].role, CONN_ROLE_UNKNOWN);
		if (s.done[i].cookie == 32)
			CHECK_INT(s.done[i].role, CONN_ROLE_SERVER);
	}
	CHECK_INT(s.ndone, 5); /* the pairs of a and b, the listener, 31, 32 */
	conn_table_free(t);
}

int main(void)
{
	test_pair();
	test_outcomes();
	test_given_outcome();
	test_short_and_reset();
	test_cookie_reuse_and_restart();
	test_bounded();
	test_roles_from_listeners();
	test_netns();
	return CHECK_DONE();
}
