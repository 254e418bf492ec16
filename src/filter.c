/*
 * filter.c - which sockets and transitions to watch.
 *
 * Ports and addresses are compiled into inet_diag bytecode, which the kernel
 * runs on each socket while it walks its tables (inet_diag_bc_run), so an
 * unwatched socket is never copied to user space, parsed or diffed. States
 * are not given to the kernel (see filter_match_states()).
 *
 * The bytecode is a list of 4-byte-aligned ops. Each op has a condition and
 * two forward offsets: "yes" when it holds, "no" when it does not. Reaching
 * the exact end of the program accepts the socket; jumping 4 bytes past it
 * rejects it. The kernel's audit (inet_diag_bc_audit) follows only the "yes"
 * offsets and requires every "no" to land on an op it visited that way, so
 * here every "yes" is the next op, and all branching is done with "no":
 *
 *   group (one config key) := alternative | alternative ...  (any may match)
 *   alternative            := condition condition ...        (all must hold)
 *
 * A condition that fails jumps to the group's next alternative, or past the
 * end for the last one; an alternative that holds ends in a JMP to the next
 * group (the last alternative simply falls through). Groups are ANDed by
 * coming one after the other.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <sys/socket.h>

#include "filter.h"

#define SEPARATORS " \t,"

/* One token of a list: at most this long, longer is an error. */
#define TOKEN_MAX 64

/* Copies the next token of *S into TOK and advances *S. Returns its length,
 * 0 at the end, or -E2BIG for a token longer than TOKEN_MAX - 1. */
static int next_token(const char **s, char tok[TOKEN_MAX])
{
	size_t n;

	*s += strspn(*s, SEPARATORS);
	n = strcspn(*s, SEPARATORS);
	if (n >= TOKEN_MAX) {
		memcpy(tok, *s, TOKEN_MAX - 4);
		strcpy(tok + TOKEN_MAX - 4, "...");
		return -E2BIG;
	}
	memcpy(tok, *s, n);
	tok[n] = '\0';
	*s += n;
	return (int)n;
}

/* A decimal port, 1 to 65535, digits only. */
static int parse_port(const char *s, size_t n, uint16_t *ret)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -EINVAL)

int filter_parse_ports(const char *s, struct filter_ports *ret, char *why, size_t whylen)
{
	struct filter_ports p = {0};
	char tok[TOKEN_MAX];
	int n;

	while ((n = next_token(&s, tok)) != 0) {
		const char *dash;
		uint16_t lo, hi;

		if (n < 0)
			return WHY("\"%s\" is not a port", tok);
		if (p.n == FILTER_MAX)
			return WHY("more than %d entries", FILTER_MAX);
		dash = strchr(tok, '-');
		if (dash) {
			if (parse_port(tok, (size_t)(dash - tok), &lo) < 0 ||
			    parse_port(dash + 1, strlen(dash + 1), &hi) < 0)
				return WHY("\"%s\" is not a port range", tok);
			if (lo > hi)
				return WHY("\"%s\" is an empty port range", tok);
		} else {
			if (parse_port(tok, (size_t)n, &lo) < 0)
				return WHY("\"%s\" is not a port", tok);
			hi = lo;
		}
		p.r[p.n].lo = lo;
		p.r[p.n].hi = hi;
		p.n++;
	}
	*ret = p;
	return 0;
}

/* Whether the first LEN bits of A and B are equal. */
static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned len)
{
	unsigned bytes = len / 8, rest = len % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[bytes] ^ b[bytes]) & (0xff00 >> rest) & 0xff) == 0;
}

int filter_parse_addrs(const char *s, struct filter_addrs *ret, char *why, size_t whylen)
{
	struct filter_addrs a = {0};
	char tok[TOKEN_MAX];
	int n;

	while ((n = next_token(&s, tok)) != 0) {
		struct filter_prefix *p = &a.p[a.n];
		char addr[TOKEN_MAX];
		char *slash;
		unsigned max;
		uint16_t len;

		if (n < 0)
			return WHY("\"%s\" is not an address", tok);
		if (a.n == FILTER_MAX)
			return WHY("more than %d entries", FILTER_MAX);
		memcpy(addr, tok, (size_t)n + 1);
		slash = strchr(addr, '/');
		if (slash)
			*slash = '\0';
		memset(p, 0, sizeof(*p));
		if (inet_pton(AF_INET, addr, p->addr) == 1) {
			p->family = AF_INET;
			max = 32;
		} else if (inet_pton(AF_INET6, addr, p->addr) == 1) {
			p->family = AF_INET6;
			max = 128;
		} else {
			return WHY("\"%s\" is not an address or address/prefix", tok);
		}
		len = (uint16_t)max;
		if (slash && strcmp(slash + 1, "0") == 0)
			len = 0;
		else if (slash && (parse_port(slash + 1, strlen(slash + 1), &len) < 0 || len > max))
			return WHY("\"%s\" has a prefix length that is not 0 to %u", tok, max);
		p->len = (uint8_t)len;
		/* Host bits past the prefix are a typo more often than not. */
		{
			uint8_t masked[16] = {0};

			memcpy(masked, p->addr, sizeof(masked));
			for (unsigned i = p->len; i < max; i++)
				masked[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
			if (memcmp(masked, p->addr, sizeof(masked)) != 0)
				return WHY("\"%s\" has bits set past the prefix length", tok);
		}
		a.n++;
	}
	*ret = a;
	return 0;
}

/* ss's names that are not netstat's in another case or with '-' for '_'. */
static const struct {
	const char *name;
	enum sock_state state;
} ss_states[] = {
    {"ESTAB", SOCK_ESTABLISHED},
    {"LISTENING", SOCK_LISTEN},
    {"CLOSED", SOCK_CLOSE},
    {"UNCONN", SOCK_CLOSE},
};

/*
 * The state that TOK names, netstat's way (TIME_WAIT, FIN_WAIT1) or ss's
 * (time-wait, fin-wait-1, estab, listening, closed), in any case; or -EINVAL.
 * NONE is not a state a socket can be in.
 */
static int state_from_name(const char *tok)
{
	char name[TOKEN_MAX];
	size_t n = 0;
	int st;

	for (const char *p = tok; *p && n + 1 < sizeof(name); p++) {
		/* ss's FIN-WAIT-1 is netstat's FIN_WAIT1. */
		if (*p == '-' && p[1] >= '0' && p[1] <= '9' && p[2] == '\0')
			continue;
		name[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	}
	name[n] = '\0';
	st = sock_state_from_name(name);
	if (st > SOCK_NONE)
		return st;
	for (size_t i = 0; i < sizeof(ss_states) / sizeof(ss_states[0]); i++)
		if (strcmp(name, ss_states[i].name) == 0)
			return (int)ss_states[i].state;
	return -EINVAL;
}

int filter_parse_states(const char *s, uint32_t *ret, char *why, size_t whylen)
{
	char tok[TOKEN_MAX];
	uint32_t states = 0;
	int n, st;

	while ((n = next_token(&s, tok)) != 0) {
		if (n < 0)
			return WHY("\"%s\" is not a TCP state", tok);
		st = state_from_name(tok);
		if (st < 0)
			return WHY(
			    "\"%s\" is not a TCP state (LISTEN SYN_SENT SYN_RECV ESTABLISHED "
			    "FIN_WAIT1 FIN_WAIT2 CLOSE_WAIT CLOSING LAST_ACK TIME_WAIT CLOSE, "
			    "or as ss spells them)",
			    tok);
		states |= 1u << st;
	}
	*ret = states;
	return 0;
}

/* Appends to BUF (of SIZE bytes, NUL-terminated) without overflowing it. */
static void append(char *buf, size_t size, const char *s)
{
	size_t used = strnlen(buf, size);

	if (used + 1 < size)
		snprintf(buf + used, size - used, "%s%s", used ? " " : "", s);
}

void filter_format_ports(const struct filter_ports *p, char *buf, size_t size)
{
	char one[16];

	buf[0] = '\0';
	for (unsigned i = 0; i < p->n; i++) {
		if (p->r[i].lo == p->r[i].hi)
			snprintf(one, sizeof(one), "%u", p->r[i].lo);
		else
			snprintf(one, sizeof(one), "%u-%u", p->r[i].lo, p->r[i].hi);
		append(buf, size, one);
	}
}

void filter_format_addrs(const struct filter_addrs *a, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN], one[INET6_ADDRSTRLEN + 8];

	buf[0] = '\0';
	for (unsigned i = 0; i < a->n; i++) {
		const struct filter_prefix *p = &a->p[i];

		if (!inet_ntop(p->family, p->addr, addr, sizeof(addr)))
			continue;
		if (p->len == (p->family == AF_INET ? 32 : 128))
			snprintf(one, sizeof(one), "%s", addr);
		else
			snprintf(one, sizeof(one), "%s/%u", addr, p->len);
		append(buf, size, one);
	}
}

void filter_format_states(uint32_t states, char *buf, size_t size)
{
	buf[0] = '\0';
	for (unsigned st = SOCK_NONE + 1; st < SOCK_STATE_MAX; st++)
		if (states & (1u << st))
			append(buf, size, sock_state_name(st));
}

/* Appends ", KEY VALUE" (no comma first) to BUF when VALUE is not empty. */
static void describe_key(char *buf, size_t size, const char *key, const char *value)
{
	size_t used = strnlen(buf, size);

	if (value[0] && used + 1 < size)
		snprintf(buf + used, size - used, "%s%s %s", used ? ", " : "", key, value);
}

void filter_describe(const struct filter *f, char *buf, size_t size)
{
	const struct {
		const char *key;
		const struct filter_ports *ports;
	} lists[] = {{"ports", &f->ports},
	             {"local_ports", &f->local_ports},
	             {"remote_ports", &f->remote_ports}};
	char value[FILTER_MAX * 48];

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		filter_format_ports(lists[i].ports, value, sizeof(value));
		describe_key(buf, size, lists[i].key, value);
	}
	filter_format_addrs(&f->addrs, value, sizeof(value));
	describe_key(buf, size, "addresses", value);
	filter_format_states(f->states, value, sizeof(value));
	describe_key(buf, size, "states", value);
	if (!buf[0])
		snprintf(buf, size, "none");
}

/* ---- user-space matching ---- */

static bool port_in(const struct filter_ports *p, uint16_t port)
{
	for (unsigned i = 0; i < p->n; i++)
		if (port >= p->r[i].lo && port <= p->r[i].hi)
			return true;
	return false;
}

/* As the kernel matches an address condition: same family and prefix, or an
 * IPv4 prefix and an IPv4-mapped IPv6 address. */
static bool prefix_match(const struct filter_prefix *p, int family, const uint8_t *addr)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (p->family != family) {
		return family == AF_INET6 && p->family == AF_INET &&
		       memcmp(addr, mapped, sizeof(mapped)) == 0 &&
		       bits_equal(addr + 12, p->addr, p->len);
	}
	return bits_equal(addr, p->addr, p->len);
}

static bool addr_in(const struct filter_addrs *a, int family, const uint8_t *addr)
{
	for (unsigned i = 0; i < a->n; i++)
		if (prefix_match(&a->p[i], family, addr))
			return true;
	return false;
}

bool filter_match_tuple(const struct filter *f, const struct sock_tuple *t)
{
	if (f->ports.n && !port_in(&f->ports, t->lport) && !port_in(&f->ports, t->rport))
		return false;
	if (f->local_ports.n && !port_in(&f->local_ports, t->lport))
		return false;
	if (f->remote_ports.n && !port_in(&f->remote_ports, t->rport))
		return false;
	if (f->addrs.n && !addr_in(&f->addrs, t->family, t->laddr) &&
	    !addr_in(&f->addrs, t->family, t->raddr))
		return false;
	return true;
}

/*
 * The kernel could leave out sockets in unwatched states too (idiag_states),
 * but then a socket moving from a watched state to an unwatched one would
 * look gone, and one moving back would look new. So every state is dumped
 * and diffed, and the states decide which records are written: those that
 * leave or enter a watched state.
 */
bool filter_match_states(const struct filter *f, unsigned from, unsigned to)
{
	if (!f->states)
		return true;
	return (from < 32 && (f->states & (1u << from))) || (to < 32 && (f->states & (1u << to)));
}

/* ---- bytecode ---- */

/* One condition of an alternative. */
struct cond {
	uint8_t code;
	uint16_t port;                   /* the port comparisons */
	const struct filter_prefix *pfx; /* S_COND, D_COND */
};

/* An alternative: conditions that must all hold. */
struct alt {
	struct cond c[2];
	unsigned n;
};

static size_t cond_size(const struct cond *c)
{
	if (c->code == INET_DIAG_BC_S_COND || c->code == INET_DIAG_BC_D_COND)
		return sizeof(struct inet_diag_bc_op) + sizeof(struct inet_diag_hostcond) +
		       (c->pfx->family == AF_INET ? 4 : 16);
	return 2 * sizeof(struct inet_diag_bc_op); /* the port is in the second op */
}

/* The alternatives of one port range on the local (S) or remote (D) side. */
static struct alt port_alt(bool local, uint16_t lo, uint16_t hi)
{
	struct alt a = {0};

	if (lo == hi) {
		a.c[a.n++] = (struct cond){local ? INET_DIAG_BC_S_EQ : INET_DIAG_BC_D_EQ, lo, NULL};
		return a;
	}
	a.c[a.n++] = (struct cond){local ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE, lo, NULL};
	a.c[a.n++] = (struct cond){local ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE, hi, NULL};
	return a;
}

/* At most 2 alternatives per entry (either side), FILTER_MAX entries a key. */
#define ALTS_MAX (2 * FILTER_MAX)

/* The groups of F, each a list of alternatives; returns how many groups. */
static unsigned build_groups(const struct filter *f, struct alt groups[4][ALTS_MAX],
                             unsigned nalts[4])
{
	unsigned g = 0, i;

	if (f->ports.n) {
		nalts[g] = 0;
		for (i = 0; i < f->ports.n; i++) {
			groups[g][nalts[g]++] = port_alt(true, f->ports.r[i].lo, f->ports.r[i].hi);
			groups[g][nalts[g]++] = port_alt(false, f->ports.r[i].lo, f->ports.r[i].hi);
		}
		g++;
	}
	if (f->local_ports.n) {
		nalts[g] = 0;
		for (i = 0; i < f->local_ports.n; i++)
			groups[g][nalts[g]++] =
			    port_alt(true, f->local_ports.r[i].lo, f->local_ports.r[i].hi);
		g++;
	}
	if (f->remote_ports.n) {
		nalts[g] = 0;
		for (i = 0; i < f->remote_ports.n; i++)
			groups[g][nalts[g]++] =
			    port_alt(false, f->remote_ports.r[i].lo, f->remote_ports.r[i].hi);
		g++;
	}
	if (f->addrs.n) {
		nalts[g] = 0;
		for (i = 0; i < f->addrs.n; i++) {
			struct alt a = {.n = 1};

			a.c[0] = (struct cond){INET_DIAG_BC_S_COND, 0, &f->addrs.p[i]};
			groups[g][nalts[g]++] = a;
			a.c[0].code = INET_DIAG_BC_D_COND;
			groups[g][nalts[g]++] = a;
		}
		g++;
	}
	return g;
}

static size_t alt_size(const struct alt *a, bool last)
{
	size_t n = last ? 0 : sizeof(struct inet_diag_bc_op); /* the JMP */

	for (unsigned i = 0; i < a->n; i++)
		n += cond_size(&a->c[i]);
	return n;
}

static void put_op(uint8_t *p, uint8_t code, size_t yes, size_t no)
{
	struct inet_diag_bc_op op = {.code = code, .yes = (uint8_t)yes, .no = (uint16_t)no};

	memcpy(p, &op, sizeof(op));
}

int filter_bytecode(const struct filter *f, void *buf, size_t size)
{
	static struct alt groups[4][ALTS_MAX]; /* too big for the stack; no I/O, no threads */
	unsigned nalts[4], ngroups, g, i, j;
	size_t total = 0, pos = 0;
	uint8_t *out = buf;

	ngroups = build_groups(f, groups, nalts);
	for (g = 0; g < ngroups; g++)
		for (i = 0; i < nalts[g]; i++)
			total += alt_size(&groups[g][i], i + 1 == nalts[g]);
	if (total > size || total > UINT16_MAX - 4)
		return -ENOSPC;

	for (g = 0; g < ngroups; g++) {
		size_t group_end = pos;

		for (i = 0; i < nalts[g]; i++)
			group_end += alt_size(&groups[g][i], i + 1 == nalts[g]);
		for (i = 0; i < nalts[g]; i++) {
			const struct alt *a = &groups[g][i];
			bool last = i + 1 == nalts[g];
			/* Where a failing condition goes: the next alternative,
			 * or 4 bytes past the end, which rejects the socket. */
			size_t fail = last ? total + 4 : pos + alt_size(a, false);

			for (j = 0; j < a->n; j++) {
				const struct cond *c = &a->c[j];
				size_t n = cond_size(c);

				put_op(out + pos, c->code, n, fail - pos);
				if (c->pfx) {
					struct inet_diag_hostcond hc = {
					    .family = c->pfx->family,
					    .prefix_len = c->pfx->len,
					    .port = -1,
					};

					memcpy(out + pos + 4, &hc, sizeof(hc));
					memcpy(out + pos + 4 + sizeof(hc), c->pfx->addr,
					       n - 4 - sizeof(hc));
				} else {
					put_op(out + pos + 4, 0, 0, c->port);
				}
				pos += n;
			}
			if (!last) {
				put_op(out + pos, INET_DIAG_BC_JMP, 4, group_end - pos);
				pos += 4;
			}
		}
	}
	return (int)total;
}
