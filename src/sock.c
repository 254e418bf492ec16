/* sock.c - TCP state names and 4-tuple comparison. */
#include <errno.h>
#include <string.h>

#include "sock.h"
#include "util.h"

static const char *const state_names[SOCK_STATE_MAX] = {
    [SOCK_NONE] = "NONE",
    [SOCK_ESTABLISHED] = "ESTABLISHED",
    [SOCK_SYN_SENT] = "SYN_SENT",
    [SOCK_SYN_RECV] = "SYN_RECV",
    [SOCK_FIN_WAIT1] = "FIN_WAIT1",
    [SOCK_FIN_WAIT2] = "FIN_WAIT2",
    [SOCK_TIME_WAIT] = "TIME_WAIT",
    [SOCK_CLOSE] = "CLOSE",
    [SOCK_CLOSE_WAIT] = "CLOSE_WAIT",
    [SOCK_LAST_ACK] = "LAST_ACK",
    [SOCK_LISTEN] = "LISTEN",
    [SOCK_CLOSING] = "CLOSING",
};

const char *sock_state_name(unsigned state)
{
	return util_name(state_names, SOCK_STATE_MAX, state, "UNKNOWN");
}

int sock_state_from_name(const char *name)
{
	return util_from_name(state_names, SOCK_STATE_MAX, name);
}

int sock_tuple_equal(const struct sock_tuple *a, const struct sock_tuple *b)
{
	return a->family == b->family && a->lport == b->lport && a->rport == b->rport &&
	       memcmp(a->laddr, b->laddr, sizeof(a->laddr)) == 0 &&
	       memcmp(a->raddr, b->raddr, sizeof(a->raddr)) == 0;
}

/* FNV-1a over the 4-tuple. */
size_t sock_tuple_hash(const struct sock_tuple *t)
{
	const uint8_t *p[3] = {t->laddr, t->raddr, (const uint8_t *)&t->lport};
	const size_t n[3] = {sizeof(t->laddr), sizeof(t->raddr), sizeof(t->lport)};
	uint64_t h = 0xcbf29ce484222325ULL ^ t->family ^ (uint64_t)t->rport << 8;

	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < n[k]; i++)
			h = (h ^ p[k][i]) * 0x100000001b3ULL;
	return (size_t)h;
}
