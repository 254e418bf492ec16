/*
 * conn.c - assembles records into connections.
 *
 * A connection is the records sharing a cookie (and, from a journal of many
 * hosts, a host): it starts at NONE -> S and ends at S -> NONE, and a summary
 * may follow. Memory follows the connections open at once, not the length of
 * the input: a connection is handed to the caller and freed as soon as it is
 * finished. "Finished" waits for two things only. A connection that ended
 * by a destroy notification waits for its summary, which the daemon writes
 * in the same batch, for at most CONN_GRACE_US of record time. And the two
 * ends of a connection between two local sockets (mirrored 4-tuples in the
 * same network namespace, alive at the same time) are handed over together,
 * once both are finished, so that they can be shown side by side; the first
 * to finish waits for the other, which is open, so this too is bounded by
 * what is open.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "ctl_conn.h"
#include "util.h"

/* How long, in record time, an ended connection waits for its summary. The
 * daemon writes it with the transition that ended it, in the same batch. */
#define CONN_GRACE_US 1000000

/* A connect that was refused fails in one round trip; one still in SYN_SENT
 * after the first SYN retransmission (1 s) timed out, or was refused late. */
#define CONN_CONNECT_TIMEOUT_US 1000000

/* A port some socket listens on (on host HOST_ID, in namespace NETNS_INO). */
struct listening {
	uint64_t netns_ino;
	uint32_t host_id;
	uint16_t port;
};

struct conn_table {
	conn_step_cb step;
	conn_done_cb done;
	void *user;
	struct conn **slots; /* by (host, cookie), open addressing; cap entries */
	struct conn **tuple; /* by 4-tuple, chained through tuple_next; cap buckets */
	size_t cap, n;
	struct conn *wait_head, *wait_tail; /* ended, waiting for a summary, in end order */
	char **hosts;                       /* host names, interned; hosts[0] = "" */
	size_t nhosts, hosts_cap;
	struct listening *listening; /* ports listened on now, to tell servers */
	size_t nlistening, listening_cap;
	uint64_t seq;
	int64_t now_us;
};

static const char *const outcome_names[CONN_OUTCOME_MAX] = {
    [CONN_OPEN] = "open",
    [CONN_LOCAL_CLOSE] = "local-close",
    [CONN_REMOTE_CLOSE] = "remote-close",
    [CONN_SIMULTANEOUS_CLOSE] = "simultaneous-close",
    [CONN_CLOSED] = "closed",
    [CONN_RESET] = "reset",
    [CONN_REFUSED] = "refused",
    [CONN_TIMEOUT] = "timeout",
    [CONN_HANDSHAKE_FAILED] = "handshake-failed",
    [CONN_SHORT] = "short",
    [CONN_LISTENER] = "listener",
    [CONN_UNKNOWN] = "unknown",
    [CONN_NETNS_GONE] = "netns-gone",
};

static const char *const role_names[CONN_ROLE_MAX] = {
    [CONN_ROLE_UNKNOWN] = "-",
    [CONN_ROLE_CLIENT] = "client",
    [CONN_ROLE_SERVER] = "server",
};

const char *conn_outcome_name(unsigned outcome)
{
	return util_name(outcome_names, CONN_OUTCOME_MAX, outcome, "unknown");
}

int conn_outcome_from_name(const char *name)
{
	return util_from_name(outcome_names, CONN_OUTCOME_MAX, name);
}

const char *conn_role_name(unsigned role)
{
	return util_name(role_names, CONN_ROLE_MAX, role, "-");
}

/* --- The two indexes ----------------------------------------------------- */

static size_t key_hash(uint32_t host_id, uint64_t cookie)
{
	uint64_t x = cookie ^ ((uint64_t)host_id << 56);

	/* splitmix64's finaliser: cookies count up, so their low bits alone
	 * would fill neighbouring slots. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return (size_t)(x ^ (x >> 31));
}

/* The 4-tuple's bucket. Two namespaces can hold the same 4-tuple (two
 * containers' 10.0.0.1:80), so the namespace is part of the key, as the
 * host is. */
static size_t tuple_bucket(const struct conn_table *t, const struct sock_tuple *tu,
                           uint32_t host_id, uint64_t netns_ino)
{
	return (sock_tuple_hash(tu) ^ host_id * 0x9e3779b9u ^
	        (size_t)(netns_ino * 0x9e3779b97f4a7c15ull)) &
	       (t->cap - 1);
}

/* The slot of (HOST_ID, COOKIE), or of the empty slot where it would go. */
static size_t slot_of(const struct conn_table *t, uint32_t host_id, uint64_t cookie)
{
	size_t i = key_hash(host_id, cookie) & (t->cap - 1);

	while (t->slots[i] && (t->slots[i]->cookie != cookie || t->slots[i]->host_id != host_id))
		i = (i + 1) & (t->cap - 1);
	return i;
}

static void index_put(struct conn_table *t, struct conn *c)
{
	size_t b = tuple_bucket(t, &c->tuple, c->host_id, c->netns_ino);

	t->slots[slot_of(t, c->host_id, c->cookie)] = c;
	c->tuple_next = t->tuple[b];
	t->tuple[b] = c;
}

/* Doubles both indexes once they are half full. Returns 0 or -ENOMEM. */
static int index_grow(struct conn_table *t)
{
	struct conn **old = t->slots, **slots, **tuple;
	size_t old_cap = t->cap, cap = t->cap ? t->cap * 2 : 1024;

	if ((t->n + 1) * 2 <= t->cap)
		return 0;
	slots = calloc(cap, sizeof(*slots));
	tuple = calloc(cap, sizeof(*tuple));
	if (!slots || !tuple) {
		free(slots);
		free(tuple);
		return -ENOMEM;
	}
	free(t->tuple);
	t->slots = slots;
	t->tuple = tuple;
	t->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			index_put(t, old[i]);
	free(old);
	return 0;
}

static struct conn *index_find(const struct conn_table *t, uint32_t host_id, uint64_t cookie)
{
	return t->cap ? t->slots[slot_of(t, host_id, cookie)] : NULL;
}

/* Takes C out of both indexes: the cookie slot by backward shift, so that
 * no probe sequence is cut. */
static void index_drop(struct conn_table *t, struct conn *c)
{
	size_t i = slot_of(t, c->host_id, c->cookie), j = i;
	struct conn **pp = &t->tuple[tuple_bucket(t, &c->tuple, c->host_id, c->netns_ino)];

	if (t->slots[i] != c)
		return;
	for (;;) {
		size_t home;

		t->slots[i] = NULL;
		do {
			j = (j + 1) & (t->cap - 1);
			if (!t->slots[j])
				goto slots_done;
			home = key_hash(t->slots[j]->host_id, t->slots[j]->cookie) & (t->cap - 1);
		} while (i <= j ? (i < home && home <= j) : (i < home || home <= j));
		t->slots[i] = t->slots[j];
		i = j;
	}
slots_done:
	while (*pp != c)
		pp = &(*pp)->tuple_next;
	*pp = c->tuple_next;
	t->n--;
}

/* --- Connections --------------------------------------------------------- */

static void conn_free(struct conn *c)
{
	if (!c)
		return;
	free(c->unit);
	free(c->comm);
	free(c->netns);
	free(c);
}

int conn_passed(const struct conn *c, unsigned state)
{
	for (unsigned i = 0; i < c->nsteps; i++)
		if (c->steps[i].state == state)
			return 1;
	return 0;
}

int64_t conn_start_us(const struct conn *c)
{
	return c->steps[0].ts_us;
}

int64_t conn_end_us(const struct conn *c, int64_t now_us)
{
	if (c->flags & CONN_ENDED || now_us == INT64_MIN)
		return c->steps[c->nsteps - 1].ts_us;
	return now_us;
}

int64_t conn_step_us(const struct conn *c, unsigned i, int64_t now_us)
{
	const struct conn_step *s = &c->steps[i];

	if (s->in_state_us >= 0)
		return s->in_state_us;
	if (i + 1 < c->nsteps)
		return c->steps[i + 1].ts_us - s->ts_us;
	if (s->state == SOCK_NONE)
		return 0;
	return now_us == INT64_MIN ? -1 : now_us - s->ts_us;
}

int64_t conn_handshake_us(const struct conn *c)
{
	for (unsigned i = 0; i + 1 < c->nsteps; i++) {
		unsigned st = c->steps[i].state;

		if ((st == SOCK_SYN_SENT || st == SOCK_SYN_RECV) &&
		    c->steps[i + 1].state == SOCK_ESTABLISHED &&
		    !(i == 0 && (c->flags & CONN_PARTIAL)))
			return conn_step_us(c, i, INT64_MIN);
	}
	return -1;
}

/* Like tcplife's: up to the close, not the TIME_WAIT that follows it (the
 * summary's lifetime ends where the full socket does, at TIME_WAIT). */
int64_t conn_lifetime_us(const struct conn *c, int64_t now_us)
{
	if (c->flags & CONN_SUMMARY)
		return (int64_t)c->lifetime_us;
	for (unsigned i = 0; i < c->nsteps; i++)
		if (c->steps[i].state == SOCK_TIME_WAIT)
			return c->steps[i].ts_us - conn_start_us(c);
	return conn_end_us(c, now_us) - conn_start_us(c);
}

/* The mirror of TU: the 4-tuple the other end of the connection has. */
static struct sock_tuple mirror(const struct sock_tuple *tu)
{
	struct sock_tuple m = *tu;

	memcpy(m.laddr, tu->raddr, sizeof(m.laddr));
	memcpy(m.raddr, tu->laddr, sizeof(m.raddr));
	m.lport = tu->rport;
	m.rport = tu->lport;
	return m;
}

/* Links C with the other end of its connection, when that is in T: a socket
 * with the mirrored 4-tuple in the same namespace, not paired yet, alive
 * when C began. A mirrored 4-tuple in another namespace may be the other
 * end (two containers on one bridge) or another connection (each one's
 * loopback, or behind NAT): the records cannot tell, so it is not paired,
 * as the daemon's "peer" is not. */
static void pair_up(struct conn_table *t, struct conn *c)
{
	struct sock_tuple m = mirror(&c->tuple);
	struct conn *best = NULL;

	if (!c->tuple.lport || !c->tuple.rport)
		return;
	for (struct conn *o = t->tuple[tuple_bucket(t, &m, c->host_id, c->netns_ino)]; o;
	     o = o->tuple_next) {
		if (o == c || o->peer || o->host_id != c->host_id || o->netns_ino != c->netns_ino ||
		    !sock_tuple_equal(&o->tuple, &m))
			continue;
		if ((o->flags & CONN_ENDED) && conn_end_us(o, INT64_MIN) < conn_start_us(c))
			continue;
		if (!best || o->seq > best->seq)
			best = o;
	}
	if (best) {
		best->peer = c;
		c->peer = best;
	}
}

/* The id of HOST in T's table of names, adding it. 0 ("") when it cannot. */
static uint32_t host_id(struct conn_table *t, const char *host)
{
	char *copy;

	if (!host[0])
		return 0;
	for (size_t i = 1; i < t->nhosts; i++)
		if (strcmp(t->hosts[i], host) == 0)
			return (uint32_t)i;
	/* Hosts are few (those filling one journal directory); a table of
	 * them that keeps growing means the names are not hosts. */
	if (t->nhosts >= 4096 ||
	    util_grow((void **)&t->hosts, &t->hosts_cap, t->nhosts + 1, sizeof(*t->hosts), 8) < 0)
		return 0;
	copy = strdup(host);
	if (!copy)
		return 0;
	t->hosts[t->nhosts] = copy;
	return (uint32_t)t->nhosts++;
}

static struct conn *conn_new(struct conn_table *t, const struct ctl_record *r, uint32_t hid)
{
	struct conn *c;

	if (index_grow(t) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cookie = r->cookie;
	c->tuple = r->tuple;
	c->host_id = hid;
	c->host = t->hosts[hid];
	c->netns_ino = r->netns_ino;
	c->seq = t->seq++;
	index_put(t, c);
	t->n++;
	pair_up(t, c);
	return c;
}

/* Keeps the owner's fields of R that C lacks: the daemon gives some on the
 * first record only, and the process on a later one once it found it. */
static void take_owner(struct conn *c, const struct ctl_record *r)
{
	if (CTL_HAS(r, UID) && !(c->flags & CONN_HAS_UID)) {
		c->uid = r->uid;
		c->flags |= CONN_HAS_UID;
	}
	if (CTL_HAS(r, INODE) && !(c->flags & CONN_HAS_INODE)) {
		c->inode = r->inode;
		c->flags |= CONN_HAS_INODE;
	}
	if (CTL_HAS(r, UNIT) && !c->unit)
		c->unit = strdup(r->unit);
	if (CTL_HAS(r, NETNS) && !c->netns && r->netns_ino == c->netns_ino)
		c->netns = strdup(r->netns);
	if (CTL_HAS(r, PID) && !c->pid) {
		c->pid = r->pid;
		free(c->comm);
		c->comm = strdup(r->comm);
	}
	if (CTL_HAS(r, OUTCOME)) {
		memcpy(c->given_outcome, r->outcome, sizeof(c->given_outcome));
		memcpy(c->given_closer, r->closer, sizeof(c->given_closer));
	}
	if (CTL_HAS(r, ROLE) && c->role == CONN_ROLE_UNKNOWN)
		c->role = strcmp(r->role, "client") == 0   ? CONN_ROLE_CLIENT
		          : strcmp(r->role, "server") == 0 ? CONN_ROLE_SERVER
		                                           : CONN_ROLE_UNKNOWN;
}

static void add_step(struct conn *c, unsigned state, int64_t ts_us, unsigned how)
{
	struct conn_step *s;

	if (c->nsteps == CONN_STEPS_MAX)
		c->nsteps--;
	s = &c->steps[c->nsteps++];
	s->ts_us = ts_us;
	s->in_state_us = -1;
	s->state = (uint8_t)state;
	s->how = (uint8_t)how;
}

/* The first state after ESTABLISHED says who closed first. */
static unsigned close_outcome(const struct conn *c)
{
	for (unsigned i = 0; i < c->nsteps; i++) {
		switch (c->steps[i].state) {
		case SOCK_FIN_WAIT1:
		case SOCK_FIN_WAIT2:
		case SOCK_TIME_WAIT:
			return CONN_LOCAL_CLOSE;
		case SOCK_CLOSE_WAIT:
		case SOCK_LAST_ACK:
			return CONN_REMOTE_CLOSE;
		case SOCK_CLOSING:
			return CONN_SIMULTANEOUS_CLOSE;
		default:
			break;
		}
	}
	return CONN_CLOSED;
}

/*
 * The daemon's own outcome (docs/record-format.md) in this tool's words: an
 * orderly close ("fin") is split by its "closer"; "unknown", or a word this
 * tool does not know, leaves it to the records (-1).
 */
static int given_outcome(const struct conn *c)
{
	if (strcmp(c->given_outcome, "fin") == 0)
		return strcmp(c->given_closer, "local") == 0    ? CONN_LOCAL_CLOSE
		       : strcmp(c->given_closer, "remote") == 0 ? CONN_REMOTE_CLOSE
		                                                : -1;
	if (strcmp(c->given_outcome, "unknown") == 0)
		return -1;
	return c->given_outcome[0] ? conn_outcome_from_name(c->given_outcome) : -1;
}

/* Whether OUTCOME is an orderly close, whoever closed first. */
int conn_outcome_is_fin(unsigned outcome)
{
	return outcome == CONN_LOCAL_CLOSE || outcome == CONN_REMOTE_CLOSE ||
	       outcome == CONN_SIMULTANEOUS_CLOSE;
}

/* How C ended, from its own records alone. */
static unsigned outcome_of(const struct conn *c)
{
	int given = given_outcome(c);
	int established = conn_passed(c, SOCK_ESTABLISHED);

	if (given >= 0)
		return (unsigned)given;
	/* Its namespace went with it open: not a close of either end. */
	if ((c->flags & CONN_ENDED) && c->steps[c->nsteps - 1].how == CTL_HOW_NETNS)
		return CONN_NETNS_GONE;
	if (conn_passed(c, SOCK_LISTEN))
		return CONN_LISTENER;
	/* A TIME_WAIT socket is a connection closed; it lingers only so that
	 * late segments of it are not taken for a new one's. */
	if (!(c->flags & CONN_ENDED))
		return c->steps[c->nsteps - 1].state == SOCK_TIME_WAIT ? close_outcome(c)
		                                                       : CONN_OPEN;
	if (conn_passed(c, SOCK_SYN_SENT) && !established) {
		unsigned i = 0;

		while (c->steps[i].state != SOCK_SYN_SENT)
			i++;
		return conn_step_us(c, i, INT64_MIN) < CONN_CONNECT_TIMEOUT_US ? CONN_REFUSED
		                                                               : CONN_TIMEOUT;
	}
	if (conn_passed(c, SOCK_SYN_RECV) && !established)
		return CONN_HANDSHAKE_FAILED;
	if (c->nsteps == 2 && c->steps[0].state == SOCK_CLOSE && !(c->flags & CONN_PARTIAL)) {
		/* Known from its destroy notification only. A connect that was
		 * refused acknowledged nothing and received nothing. */
		if ((c->flags & CONN_HAS_BYTES) && c->bytes_sent == 0 && c->bytes_received == 0)
			return CONN_REFUSED;
		return CONN_SHORT;
	}
	if (!established && (c->flags & CONN_PARTIAL) && c->nsteps <= 2 &&
	    c->steps[0].state == SOCK_CLOSE)
		return CONN_UNKNOWN;
	return close_outcome(c);
}

/* The index of the listening PORT of HOST_ID's namespace NETNS_INO in T, or -1. */
static ssize_t listening_find(const struct conn_table *t, uint32_t host_id, uint64_t netns_ino,
                              uint16_t port)
{
	for (size_t i = 0; i < t->nlistening; i++)
		if (t->listening[i].host_id == host_id && t->listening[i].port == port &&
		    t->listening[i].netns_ino == netns_ino)
			return (ssize_t)i;
	return -1;
}

/* Keeps the ports listened on: a socket into LISTEN adds its port, one
 * out of it takes it away. Listeners are few: a linear table. */
static void note_listener(struct conn_table *t, const struct ctl_record *r, uint32_t hid)
{
	ssize_t i = listening_find(t, hid, r->netns_ino, r->tuple.lport);

	if (r->to == SOCK_LISTEN && i < 0 &&
	    util_grow((void **)&t->listening, &t->listening_cap, t->nlistening + 1,
	              sizeof(*t->listening), 8) == 0)
		t->listening[t->nlistening++] = (struct listening){
		    .netns_ino = r->netns_ino, .host_id = hid, .port = r->tuple.lport};
	else if (r->from == SOCK_LISTEN && i >= 0)
		t->listening[i] = t->listening[--t->nlistening];
}

/* Client or server: by the handshake state the records show, else by the
 * record's own "role", else a connection on a port something listens on
 * was accepted there. */
static unsigned role_of(const struct conn_table *t, const struct conn *c)
{
	if (conn_passed(c, SOCK_SYN_SENT))
		return CONN_ROLE_CLIENT;
	if (conn_passed(c, SOCK_SYN_RECV))
		return CONN_ROLE_SERVER;
	if (c->role == CONN_ROLE_UNKNOWN &&
	    listening_find(t, c->host_id, c->netns_ino, c->tuple.lport) >= 0)
		return CONN_ROLE_SERVER;
	return c->role;
}

/* Outcomes and roles of C and its peer, each end telling about the other:
 * an end that left ESTABLISHED straight for NONE closed passively, between
 * two polls, when the other end closed first (it went through FIN_WAIT);
 * when neither went through a closing state, the connection was reset. */
static void settle_ends(const struct conn_table *t, struct conn *c)
{
	struct conn *p = c->peer;

	c->outcome = (uint8_t)outcome_of(c);
	c->role = (uint8_t)role_of(t, c);
	if (!p)
		return;
	p->outcome = (uint8_t)outcome_of(p);
	p->role = (uint8_t)role_of(t, p);
	if (c->outcome == CONN_CLOSED && p->outcome == CONN_LOCAL_CLOSE)
		c->outcome = CONN_REMOTE_CLOSE;
	else if (p->outcome == CONN_CLOSED && c->outcome == CONN_LOCAL_CLOSE)
		p->outcome = CONN_REMOTE_CLOSE;
	else if (c->outcome == CONN_CLOSED && p->outcome == CONN_CLOSED)
		c->outcome = p->outcome = CONN_RESET;
	if (c->role == CONN_ROLE_UNKNOWN && p->role != CONN_ROLE_UNKNOWN)
		c->role = p->role == CONN_ROLE_CLIENT ? CONN_ROLE_SERVER : CONN_ROLE_CLIENT;
	else if (p->role == CONN_ROLE_UNKNOWN && c->role != CONN_ROLE_UNKNOWN)
		p->role = c->role == CONN_ROLE_CLIENT ? CONN_ROLE_SERVER : CONN_ROLE_CLIENT;
}

static void unqueue(struct conn_table *t, struct conn *c)
{
	if (!(c->flags & CONN_WAITING))
		return;
	*(c->wait_prev ? &c->wait_prev->wait_next : &t->wait_head) = c->wait_next;
	*(c->wait_next ? &c->wait_next->wait_prev : &t->wait_tail) = c->wait_prev;
	c->wait_prev = c->wait_next = NULL;
	c->flags &= (uint16_t)~CONN_WAITING;
}

static void enqueue(struct conn_table *t, struct conn *c)
{
	c->wait_prev = t->wait_tail;
	c->wait_next = NULL;
	*(t->wait_tail ? &t->wait_tail->wait_next : &t->wait_head) = c;
	t->wait_tail = c;
	c->flags |= CONN_WAITING;
}

/* C is finished: out of the indexes, then handed over with its peer once
 * that is finished too, and freed. */
static void finish(struct conn_table *t, struct conn *c)
{
	struct conn *p = c->peer;

	unqueue(t, c);
	index_drop(t, c);
	c->flags |= CONN_DONE;
	if (p && !(p->flags & CONN_DONE))
		return;
	settle_ends(t, c);
	t->done(c, t->user);
	conn_free(p);
	conn_free(c);
}

void conn_table_expire(struct conn_table *t, int64_t now_us)
{
	while (t->wait_head && conn_end_us(t->wait_head, INT64_MIN) + CONN_GRACE_US <= now_us)
		finish(t, t->wait_head);
}

/* Adds transition R to connection C (NULL: none yet). Returns 0 or -ENOMEM. */
static int add_transition(struct conn_table *t, struct conn *c, const struct ctl_record *r,
                          uint32_t hid)
{
	/* A connection that ended, or a second NONE -> S (another daemon's
	 * story of the same cookie) ends the old one. A restarted daemon's
	 * "initial" record of a socket continues it. */
	if (c && ((c->flags & CONN_ENDED) || (r->from == SOCK_NONE && r->how != CTL_HOW_INITIAL))) {
		finish(t, c);
		c = NULL;
	}
	if (!c) {
		c = conn_new(t, r, hid);
		if (!c)
			return -ENOMEM;
		if (r->from != SOCK_NONE) {
			c->flags |= CONN_PARTIAL;
			add_step(c, r->from, r->ts_us, r->how);
		}
	}
	if (c->nsteps == 0 || c->steps[c->nsteps - 1].state != r->to)
		add_step(c, r->to, r->ts_us, r->how);
	if (CTL_HAS(r, IN_STATE_US) && c->nsteps >= 2)
		c->steps[c->nsteps - 2].in_state_us = (int64_t)r->in_state_us;
	take_owner(c, r);
	if (t->step)
		t->step(c, t->user);
	if (r->to == SOCK_NONE) {
		c->flags |= CONN_ENDED;
		/* Only a destroy notification brings a summary. */
		if (r->how == CTL_HOW_DESTROY && !(c->flags & CONN_SUMMARY))
			enqueue(t, c);
		else
			finish(t, c);
	}
	return 0;
}

static void add_summary(struct conn_table *t, struct conn *c, const struct ctl_record *r)
{
	if (!c)
		return; /* its transitions were before the input began */
	c->flags |= CONN_SUMMARY;
	/* A summary names the owner too, and how the connection ended. */
	take_owner(c, r);
	c->lifetime_us = CTL_HAS(r, LIFETIME_US) ? r->lifetime_us : 0;
	if (CTL_HAS(r, BYTES_SENT) && CTL_HAS(r, BYTES_RECEIVED)) {
		c->bytes_sent = r->bytes_sent;
		c->bytes_received = r->bytes_received;
		c->flags |= CONN_HAS_BYTES;
	}
	if (CTL_HAS(r, RETRANS)) {
		c->retrans = r->retrans;
		c->flags |= CONN_HAS_RETRANS;
	}
	if (CTL_HAS(r, RTT_US)) {
		c->rtt_us = r->rtt_us;
		c->flags |= CONN_HAS_RTT;
	}
	if (c->flags & CONN_WAITING)
		finish(t, c);
}

int conn_table_add(struct conn_table *t, const struct ctl_record *r)
{
	uint32_t hid;
	struct conn *c;

	if (r->kind != CTL_RECORD_TRANSITION && r->kind != CTL_RECORD_SUMMARY)
		return 0;
	if (r->ts_us > t->now_us) {
		t->now_us = r->ts_us;
		conn_table_expire(t, r->ts_us);
	}
	hid = host_id(t, r->host);
	c = index_find(t, hid, r->cookie);
	if (r->kind == CTL_RECORD_SUMMARY) {
		add_summary(t, c, r);
		return 0;
	}
	if (r->to == SOCK_LISTEN || r->from == SOCK_LISTEN)
		note_listener(t, r, hid);
	return add_transition(t, c, r, hid);
}

static int by_seq(const void *a, const void *b)
{
	const struct conn *x = *(struct conn *const *)a, *y = *(struct conn *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void conn_table_flush(struct conn_table *t)
{
	struct conn **all;
	size_t n = 0;

	if (!t->n)
		return;
	all = malloc(t->n * sizeof(*all));
	if (!all)
		return; /* conn_table_free() still frees them */
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i])
			all[n++] = t->slots[i];
	qsort(all, n, sizeof(*all), by_seq);
	for (size_t i = 0; i < n; i++)
		finish(t, all[i]);
	free(all);
}

struct conn_table *conn_table_new(conn_step_cb step, conn_done_cb done, void *user)
{
	struct conn_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->step = step;
	t->done = done;
	t->user = user;
	t->now_us = INT64_MIN;
	if (util_grow((void **)&t->hosts, &t->hosts_cap, 1, sizeof(*t->hosts), 8) < 0 ||
	    !(t->hosts[0] = strdup(""))) {
		conn_table_free(t);
		return NULL;
	}
	t->nhosts = 1;
	return t;
}

void conn_table_free(struct conn_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++) {
		struct conn *c = t->slots[i];

		/* A peer that finished first is held by C alone. */
		if (c && c->peer && (c->peer->flags & CONN_DONE))
			conn_free(c->peer);
		conn_free(c);
	}
	for (size_t i = 0; i < t->nhosts; i++)
		free(t->hosts[i]);
	free(t->hosts);
	free(t->listening);
	free(t->slots);
	free(t->tuple);
	free(t);
}

size_t conn_table_size(const struct conn_table *t)
{
	return t->n;
}

int64_t conn_table_now(const struct conn_table *t)
{
	return t->now_us;
}
