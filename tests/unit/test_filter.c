/* test_filter.c - filter parsing, formatting, user-space matching, and the
 * bytecode: checked by a model of the kernel's audit and interpreter
 * (inet_diag_bc_audit, inet_diag_bc_run), written from their documented
 * behaviour, against filter_match_tuple() on many tuples. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <sys/socket.h>

#include "check.h"
#include "filter.h"

static char why[256];

/* ---- a model of the kernel ---- */

/* Walks the "yes" chain from the start; true when it reaches offset CC. */
static bool model_valid_cc(const uint8_t *bc, int len, int cc)
{
	while (len >= 0) {
		struct inet_diag_bc_op op;

		if (cc > len)
			return false;
		if (cc == len)
			return true;
		memcpy(&op, bc, sizeof(op));
		if (op.yes < 4 || op.yes & 3)
			return false;
		len -= op.yes;
		bc += op.yes;
	}
	return false;
}

static int model_audit(const uint8_t *start, int total)
{
	const uint8_t *bc = start;
	int len = total;

	while (len > 0) {
		struct inet_diag_bc_op op;
		int min_len = 4;

		memcpy(&op, bc, sizeof(op));
		switch (op.code) {
		case INET_DIAG_BC_S_COND:
		case INET_DIAG_BC_D_COND: {
			struct inet_diag_hostcond hc;
			int addr_len;

			if (len < 4 + (int)sizeof(hc))
				return -EINVAL;
			memcpy(&hc, bc + 4, sizeof(hc));
			addr_len = hc.family == AF_INET ? 4 : hc.family == AF_INET6 ? 16 : 0;
			min_len = 4 + (int)sizeof(hc) + addr_len;
			if (len < min_len || hc.prefix_len > 8 * addr_len)
				return -EINVAL;
			break;
		}
		case INET_DIAG_BC_S_EQ:
		case INET_DIAG_BC_S_GE:
		case INET_DIAG_BC_S_LE:
		case INET_DIAG_BC_D_EQ:
		case INET_DIAG_BC_D_GE:
		case INET_DIAG_BC_D_LE:
			min_len = 8;
			if (len < min_len)
				return -EINVAL;
			break;
		case INET_DIAG_BC_JMP:
		case INET_DIAG_BC_NOP:
			break;
		default:
			return -EINVAL;
		}
		if (op.code != INET_DIAG_BC_NOP) {
			if (op.no < min_len || op.no > len + 4 || op.no & 3)
				return -EINVAL;
			if (op.no < len && !model_valid_cc(start, total, len - op.no))
				return -EINVAL;
		}
		if (op.yes < min_len || op.yes > len + 4 || op.yes & 3)
			return -EINVAL;
		bc += op.yes;
		len -= op.yes;
	}
	return len == 0 ? 0 : -EINVAL;
}

static bool model_bits(const uint8_t *a, const uint8_t *b, int bits)
{
	int words = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)words) != 0)
		return false;
	return rest == 0 || ((a[words] ^ b[words]) >> (8 - rest)) == 0;
}

static bool model_run(const uint8_t *bc, int len, const struct sock_tuple *t)
{
	while (len > 0) {
		struct inet_diag_bc_op op, arg;
		bool yes = true;

		memcpy(&op, bc, sizeof(op));
		memcpy(&arg, bc + 4, sizeof(arg));
		switch (op.code) {
		case INET_DIAG_BC_JMP:
			yes = false;
			break;
		case INET_DIAG_BC_S_EQ:
			yes = t->lport == arg.no;
			break;
		case INET_DIAG_BC_S_GE:
			yes = t->lport >= arg.no;
			break;
		case INET_DIAG_BC_S_LE:
			yes = t->lport <= arg.no;
			break;
		case INET_DIAG_BC_D_EQ:
			yes = t->rport == arg.no;
			break;
		case INET_DIAG_BC_D_GE:
			yes = t->rport >= arg.no;
			break;
		case INET_DIAG_BC_D_LE:
			yes = t->rport <= arg.no;
			break;
		case INET_DIAG_BC_S_COND:
		case INET_DIAG_BC_D_COND: {
			struct inet_diag_hostcond hc;
			const uint8_t *addr = op.code == INET_DIAG_BC_S_COND ? t->laddr : t->raddr;
			const uint8_t *want = bc + 4 + sizeof(hc);
			static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};

			memcpy(&hc, bc + 4, sizeof(hc));
			if (hc.family != t->family) {
				yes = t->family == AF_INET6 && hc.family == AF_INET &&
				      memcmp(addr, mapped, 12) == 0 &&
				      model_bits(addr + 12, want, hc.prefix_len);
				break;
			}
			yes = hc.prefix_len == 0 || model_bits(addr, want, hc.prefix_len);
			break;
		}
		}
		if (yes) {
			len -= op.yes;
			bc += op.yes;
		} else {
			len -= op.no;
			bc += op.no;
		}
	}
	return len == 0;
}

/* ---- the tests ---- */

static void test_parse_ports(void)
{
	struct filter_ports p;
	char buf[512];

	CHECK_INT(filter_parse_ports("80 443,8000-8100", &p, why, sizeof(why)), 0);
	CHECK_INT(p.n, 3);
	CHECK_INT(p.r[2].lo, 8000);
	CHECK_INT(p.r[2].hi, 8100);
	filter_format_ports(&p, buf, sizeof(buf));
	CHECK_STR(buf, "80 443 8000-8100");
	CHECK_INT(filter_parse_ports("", &p, why, sizeof(why)), 0);
	CHECK_INT(p.n, 0);
	CHECK_INT(filter_parse_ports("70000", &p, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "\"70000\" is not a port");
	CHECK_INT(filter_parse_ports("0", &p, why, sizeof(why)), -EINVAL);
	CHECK_INT(filter_parse_ports("+80", &p, why, sizeof(why)), -EINVAL);
	CHECK_INT(filter_parse_ports("90-80", &p, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "\"90-80\" is an empty port range");
	CHECK_INT(filter_parse_ports("80-", &p, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "\"80-\" is not a port range");
	memset(buf, 0, sizeof(buf));
	for (int i = 0; i <= FILTER_MAX; i++)
		strcat(buf, "1 ");
	CHECK_INT(filter_parse_ports(buf, &p, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "more than 32 entries");
}

static void test_parse_addrs(void)
{
	struct filter_addrs a;
	char buf[512];

	CHECK_INT(filter_parse_addrs("10.0.0.0/8 ::1 192.0.2.7 2001:db8::/32 0.0.0.0/0", &a, why,
	                             sizeof(why)),
	          0);
	CHECK_INT(a.n, 5);
	CHECK_INT(a.p[0].family, AF_INET);
	CHECK_INT(a.p[0].len, 8);
	CHECK_INT(a.p[1].len, 128);
	CHECK_INT(a.p[4].len, 0);
	filter_format_addrs(&a, buf, sizeof(buf));
	CHECK_STR(buf, "10.0.0.0/8 ::1 192.0.2.7 2001:db8::/32 0.0.0.0/0");
	CHECK_INT(filter_parse_addrs("10.0.0.1/8", &a, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "\"10.0.0.1/8\" has bits set past the prefix length");
	CHECK_INT(filter_parse_addrs("10.0.0.0/33", &a, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "\"10.0.0.0/33\" has a prefix length that is not 0 to 32");
	CHECK_INT(filter_parse_addrs("example.com", &a, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "\"example.com\" is not an address or address/prefix");
	CHECK_INT(filter_parse_addrs("::/0", &a, why, sizeof(why)), 0);
	CHECK_INT(a.p[0].len, 0);
}

static void test_parse_states(void)
{
	uint32_t st;
	char buf[256];

	CHECK_INT(filter_parse_states("TIME_WAIT ESTABLISHED", &st, why, sizeof(why)), 0);
	CHECK_INT(st, (1u << SOCK_ESTABLISHED) | (1u << SOCK_TIME_WAIT));
	filter_format_states(st, buf, sizeof(buf));
	CHECK_STR(buf, "ESTABLISHED TIME_WAIT");
	CHECK_INT(filter_parse_states("NONE", &st, why, sizeof(why)), -EINVAL);
	/* Any case, and ss's spellings, for the same states. */
	CHECK_INT(filter_parse_states("established Time_Wait", &st, why, sizeof(why)), 0);
	CHECK_INT(st, (1u << SOCK_ESTABLISHED) | (1u << SOCK_TIME_WAIT));
	CHECK_INT(filter_parse_states("time-wait syn-sent syn-recv fin-wait-1 fin-wait-2 "
	                              "close-wait last-ack closing",
	                              &st, why, sizeof(why)),
	          0);
	CHECK_INT(st, (1u << SOCK_TIME_WAIT) | (1u << SOCK_SYN_SENT) | (1u << SOCK_SYN_RECV) |
	                  (1u << SOCK_FIN_WAIT1) | (1u << SOCK_FIN_WAIT2) |
	                  (1u << SOCK_CLOSE_WAIT) | (1u << SOCK_LAST_ACK) | (1u << SOCK_CLOSING));
	CHECK_INT(filter_parse_states("ESTAB listening closed UNCONN", &st, why, sizeof(why)), 0);
	CHECK_INT(st, (1u << SOCK_ESTABLISHED) | (1u << SOCK_LISTEN) | (1u << SOCK_CLOSE));
	filter_format_states(st, buf, sizeof(buf));
	CHECK_STR(buf, "ESTABLISHED CLOSE LISTEN");
	CHECK_INT(filter_parse_states("none", &st, why, sizeof(why)), -EINVAL);
	CHECK_INT(filter_parse_states("fin-wait-", &st, why, sizeof(why)), -EINVAL);
	CHECK_INT(filter_parse_states("timewait", &st, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "\"timewait\" is not a TCP state (LISTEN SYN_SENT SYN_RECV ESTABLISHED "
	               "FIN_WAIT1 FIN_WAIT2 CLOSE_WAIT CLOSING LAST_ACK TIME_WAIT CLOSE, or as ss "
	               "spells them)");

	/* In words, for the start line. */
	struct filter d = {0};
	filter_describe(&d, buf, sizeof(buf));
	CHECK_STR(buf, "none");
	CHECK_INT(filter_parse_ports("80 8000-8100", &d.ports, why, sizeof(why)), 0);
	CHECK_INT(filter_parse_ports("443", &d.remote_ports, why, sizeof(why)), 0);
	CHECK_INT(filter_parse_addrs("10.0.0.0/8", &d.addrs, why, sizeof(why)), 0);
	d.states = (1u << SOCK_ESTABLISHED) | (1u << SOCK_TIME_WAIT);
	filter_describe(&d, buf, sizeof(buf));
	CHECK_STR(buf, "ports 80 8000-8100, remote_ports 443, addresses 10.0.0.0/8, "
	               "states ESTABLISHED TIME_WAIT");
	filter_describe(&d, buf, 12);
	CHECK_STR(buf, "ports 80 80");

	struct filter f = {.states = (1u << SOCK_ESTABLISHED)};
	CHECK(filter_match_states(&f, SOCK_NONE, SOCK_ESTABLISHED));
	CHECK(filter_match_states(&f, SOCK_ESTABLISHED, SOCK_FIN_WAIT1));
	CHECK(!filter_match_states(&f, SOCK_FIN_WAIT1, SOCK_FIN_WAIT2));
	f.states = 0;
	CHECK(filter_match_states(&f, SOCK_FIN_WAIT1, SOCK_FIN_WAIT2));
}

static struct sock_tuple tuple(int family, const char *l, unsigned lport, const char *r,
                               unsigned rport)
{
	struct sock_tuple t = {
	    .family = (uint8_t)family, .lport = (uint16_t)lport, .rport = (uint16_t)rport};

	inet_pton(family, l, t.laddr);
	inet_pton(family, r, t.raddr);
	return t;
}

/* Compiles F, audits it as the kernel would, and checks that the kernel
 * model and filter_match_tuple() agree on many tuples. Returns the length. */
static int check_filter(const struct filter *f)
{
	static const char *v4[] = {"127.0.0.1", "10.1.2.3", "192.0.2.7", "0.0.0.0", "11.0.0.1"};
	static const char *v6[] = {"::1", "::ffff:10.1.2.3", "2001:db8::5",
	                           "::",  "fe80::1",         "::ffff:127.0.0.1"};
	static const unsigned ports[] = {0, 1, 22, 80, 443, 7999, 8000, 8050, 8100, 8101, 65535};
	uint8_t bc[FILTER_BC_MAX];
	int len = filter_bytecode(f, bc, sizeof(bc)), bad = 0;
	size_t i, j, k, l;

	CHECK(len >= 0);
	if (len <= 0)
		return len;
	CHECK_INT(model_audit(bc, len), 0);
	for (i = 0; i < 5; i++)
		for (j = 0; j < 5; j++)
			for (k = 0; k < 11; k++)
				for (l = 0; l < 11; l++) {
					struct sock_tuple t =
					    tuple(AF_INET, v4[i], ports[k], v4[j], ports[l]);
					bad += model_run(bc, len, &t) != filter_match_tuple(f, &t);
				}
	for (i = 0; i < 6; i++)
		for (j = 0; j < 6; j++)
			for (k = 0; k < 11; k++)
				for (l = 0; l < 11; l++) {
					struct sock_tuple t =
					    tuple(AF_INET6, v6[i], ports[k], v6[j], ports[l]);
					bad += model_run(bc, len, &t) != filter_match_tuple(f, &t);
				}
	CHECK_INT(bad, 0);
	return len;
}

static void test_bytecode(void)
{
	struct filter f = {0};
	struct sock_tuple t;
	uint8_t bc[FILTER_BC_MAX];

	/* No ports or addresses: no bytecode, everything matches. */
	CHECK_INT(filter_bytecode(&f, bc, sizeof(bc)), 0);
	t = tuple(AF_INET, "127.0.0.1", 1, "127.0.0.1", 2);
	CHECK(filter_match_tuple(&f, &t));

	CHECK_INT(filter_parse_ports("80", &f.ports, why, sizeof(why)), 0);
	CHECK_INT(check_filter(&f), 8 + 4 + 8);
	t = tuple(AF_INET, "127.0.0.1", 80, "127.0.0.1", 5000);
	CHECK(filter_match_tuple(&f, &t));
	t = tuple(AF_INET, "127.0.0.1", 5000, "127.0.0.1", 80);
	CHECK(filter_match_tuple(&f, &t));
	t = tuple(AF_INET, "127.0.0.1", 5000, "127.0.0.1", 81);
	CHECK(!filter_match_tuple(&f, &t));

	CHECK_INT(filter_parse_ports("80 443 8000-8100", &f.ports, why, sizeof(why)), 0);
	check_filter(&f);
	CHECK_INT(filter_parse_ports("8000-8100 22", &f.local_ports, why, sizeof(why)), 0);
	check_filter(&f);
	CHECK_INT(filter_parse_ports("1-7999", &f.remote_ports, why, sizeof(why)), 0);
	check_filter(&f);
	CHECK_INT(filter_parse_addrs("10.0.0.0/8 ::1 2001:db8::/32", &f.addrs, why, sizeof(why)),
	          0);
	check_filter(&f);

	memset(&f, 0, sizeof(f));
	why[0] = '\0';
	CHECK_INT(filter_parse_addrs("10.0.0.0/8", &f.addrs, why, sizeof(why)), 0);
	check_filter(&f);
	t = tuple(AF_INET6, "::ffff:10.1.2.3", 80, "::1", 5000);
	CHECK(filter_match_tuple(&f, &t)); /* v4-mapped, as the kernel matches it */
	CHECK_INT(filter_parse_addrs("0.0.0.0/0 ::/0", &f.addrs, why, sizeof(why)), 0);
	check_filter(&f);

	/* Every key full: the largest program still fits and passes the audit. */
	{
		char list[1024] = "";

		for (int i = 0; i < FILTER_MAX; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%d-%d ",
			         1000 + 10 * i, 1005 + 10 * i);
		CHECK_INT(filter_parse_ports(list, &f.ports, why, sizeof(why)), 0);
		CHECK_INT(filter_parse_ports(list, &f.local_ports, why, sizeof(why)), 0);
		CHECK_INT(filter_parse_ports(list, &f.remote_ports, why, sizeof(why)), 0);
		list[0] = '\0';
		for (int i = 0; i < FILTER_MAX; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list),
			         "2001:db8::%x/120 ", i * 256);
		CHECK_INT(filter_parse_addrs(list, &f.addrs, why, sizeof(why)), 0);
		CHECK_STR(why, "");
		CHECK(check_filter(&f) > 0);
		CHECK_INT(filter_bytecode(&f, bc, 16), -ENOSPC);
	}
}

int main(void)
{
	test_parse_ports();
	test_parse_addrs();
	test_parse_states();
	test_bytecode();
	return CHECK_DONE();
}
