/* transition.c - what a record tells beyond the move itself: names, a connection's memory, how it
 * ended. No I/O. */
#include "transition.h"
#include "util.h"

static const char *const how_names[TRANSITION_HOW_MAX] = {
    [TRANSITION_HOW_INITIAL] = "initial",
    [TRANSITION_HOW_POLL] = "poll",
    [TRANSITION_HOW_DESTROY] = "destroy",
    [TRANSITION_HOW_NETNS] = "netns",
};

static const char *const role_names[TRANSITION_ROLE_MAX] = {
    [TRANSITION_ROLE_CLIENT] = "client",
    [TRANSITION_ROLE_SERVER] = "server",
};

static const char *const outcome_names[TRANSITION_OUTCOME_MAX] = {
    [TRANSITION_OUTCOME_UNKNOWN] = "unknown", [TRANSITION_OUTCOME_FIN] = "fin",
    [TRANSITION_OUTCOME_RESET] = "reset",     [TRANSITION_OUTCOME_REFUSED] = "refused",
    [TRANSITION_OUTCOME_TIMEOUT] = "timeout",
};

static const char *const side_names[TRANSITION_SIDE_MAX] = {
    [TRANSITION_SIDE_LOCAL] = "local",
    [TRANSITION_SIDE_REMOTE] = "remote",
};

const char *transition_how_name(unsigned how)
{
	return util_name(how_names, TRANSITION_HOW_MAX, how, "unknown");
}

const char *transition_role_name(unsigned role)
{
	return util_name(role_names, TRANSITION_ROLE_MAX, role, NULL);
}

const char *transition_outcome_name(unsigned outcome)
{
	return util_name(outcome_names, TRANSITION_OUTCOME_MAX, outcome, "unknown");
}

const char *transition_side_name(unsigned side)
{
	return util_name(side_names, TRANSITION_SIDE_MAX, side, NULL);
}

void transition_conn_learn(struct transition_conn *c, const struct sock *sk)
{
	if (sk->kind != SOCK_KIND_FULL)
		return;
	if (!c->has_uid) {
		c->uid = sk->uid;
		c->has_uid = 1;
	}
	if (!c->inode)
		c->inode = sk->inode;
	if (!c->cgroup_id)
		c->cgroup_id = sk->cgroup_id;
}

static int64_t ts_us(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000 + ts->tv_nsec / 1000;
}

int64_t transition_conn_enter(struct transition_conn *c, unsigned state, const struct timespec *ts)
{
	int64_t now = ts_us(ts), in = -1;

	if (c->since_us)
		in = now > c->since_us ? now - c->since_us : 0;
	if (c->state == SOCK_SYN_SENT && in >= 0)
		c->syn_ms = (uint16_t)(in / 1000 < UINT16_MAX ? in / 1000 : UINT16_MAX);
	c->since_us = now;
	c->state = (uint8_t)state;
	if (state < 16)
		c->path |= (uint16_t)(1u << state);
	/* The handshake's states say which end it is, whatever was guessed. */
	if (state == SOCK_SYN_SENT)
		c->role = TRANSITION_ROLE_CLIENT;
	else if (state == SOCK_SYN_RECV)
		c->role = TRANSITION_ROLE_SERVER;
	return in;
}

#define BIT(s) (1u << (s))

/* The first SYN is retransmitted TCP_TIMEOUT_INIT (1 s) after it was sent:
 * a connect that failed sooner was answered. */
#define SYN_RTO_US 1000000

void transition_outcome(const struct transition_conn *c, unsigned last, int64_t in_last_us,
                        int disconnected, int held_closed, const struct sock_info *info,
                        uint8_t *ret_outcome, uint8_t *ret_closer)
{
	unsigned path = c->path | BIT(last);
	int timed_out = (info->has & SOCK_INFO_HAS_RTO) && info->retransmits > 0;
	uint8_t outcome = TRANSITION_OUTCOME_UNKNOWN, closer = TRANSITION_SIDE_UNKNOWN;
	/* A connect that failed, ended there or closed under its application. */
	int connect_failed = last == SOCK_SYN_SENT ||
	                     ((path & BIT(SOCK_SYN_SENT)) &&
	                      !(path & ~(BIT(SOCK_NONE) | BIT(SOCK_SYN_SENT) | BIT(SOCK_CLOSE))));

	if (connect_failed) {
		/* tcp_disconnect() after a failed connect may have cleared
		 * the counters: the time it waited tells a timeout too. */
		int64_t waited = last == SOCK_SYN_SENT ? in_last_us : (int64_t)c->syn_ms * 1000;

		timed_out |= waited >= SYN_RTO_US;
		outcome = timed_out ? TRANSITION_OUTCOME_TIMEOUT : TRANSITION_OUTCOME_REFUSED;
		closer = outcome == TRANSITION_OUTCOME_REFUSED ? TRANSITION_SIDE_REMOTE : closer;
	} else if (held_closed) {
		outcome = timed_out ? TRANSITION_OUTCOME_TIMEOUT : TRANSITION_OUTCOME_RESET;
		closer = timed_out ? closer : TRANSITION_SIDE_REMOTE;
	} else if (disconnected) {
		outcome = TRANSITION_OUTCOME_RESET;
		closer = TRANSITION_SIDE_LOCAL;
	} else if (path & (BIT(SOCK_CLOSE_WAIT) | BIT(SOCK_LAST_ACK))) {
		outcome = TRANSITION_OUTCOME_FIN;
		closer = TRANSITION_SIDE_REMOTE;
	} else if (path & (BIT(SOCK_FIN_WAIT1) | BIT(SOCK_FIN_WAIT2) | BIT(SOCK_CLOSING) |
	                   BIT(SOCK_TIME_WAIT))) {
		outcome = TRANSITION_OUTCOME_FIN;
		closer = TRANSITION_SIDE_LOCAL;
	} else if (timed_out) {
		outcome = TRANSITION_OUTCOME_TIMEOUT;
	}
	*ret_outcome = outcome;
	*ret_closer = closer;
}

struct transition_about transition_about_of(const struct sock *sk, const struct transition_conn *c,
                                            const struct transition *t)
{
	/* A minisocket has no uid, and an inode only a process gives. */
	int full = sk->kind == SOCK_KIND_FULL;
	struct transition_about a = {.has_uid = full, .uid = sk->uid};

	if (t && t->has_in_state) {
		a.has_in_state = 1;
		a.in_state_us = t->in_state_us;
	}
	if (full && sk->inode)
		a.inode = sk->inode;
	if (!c)
		return a;
	a.role = transition_role_name(c->role);
	a.peer = c->peer;
	if (!a.has_uid && c->has_uid) {
		a.has_uid = 1;
		a.uid = c->uid;
	}
	if (!a.inode)
		a.inode = c->inode;
	return a;
}
