/*
 * out.c - the words tcpstatectl writes: times, durations, endpoints, owners,
 * a connection's path of states, and a connection as a JSON object.
 *
 * Every verb prints through these, so that a connection reads the same in
 * list, show, follow and stats. Times are local (as journalctl shows them,
 * and as --since reads them) unless --utc; durations are short and human,
 * with at least two significant figures.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "ctl_out.h"
#include "util.h"

static const char *const escapes[OUT_COLOR_MAX] = {
    [OUT_RESET] = "\033[0m", [OUT_DIM] = "\033[2m",   [OUT_BOLD] = "\033[1m",
    [OUT_GOOD] = "\033[32m", [OUT_WARN] = "\033[33m", [OUT_BAD] = "\033[31m",
};

const char *out_color(const struct ctl_out *o, unsigned c)
{
	return o->color && c < OUT_COLOR_MAX ? escapes[c] : "";
}

unsigned out_state_color(unsigned state)
{
	switch (state) {
	case SOCK_ESTABLISHED:
		return OUT_GOOD;
	case SOCK_CLOSE_WAIT:
		return OUT_BAD;
	case SOCK_NONE:
	case SOCK_LISTEN:
		return OUT_DIM;
	case SOCK_SYN_SENT:
	case SOCK_SYN_RECV:
		return OUT_BOLD;
	default:
		return OUT_WARN;
	}
}

unsigned out_outcome_color(unsigned outcome)
{
	switch (outcome) {
	case CONN_LOCAL_CLOSE:
	case CONN_REMOTE_CLOSE:
	case CONN_SIMULTANEOUS_CLOSE:
		return OUT_GOOD;
	case CONN_OPEN:
	case CONN_SHORT:
	case CONN_LISTENER:
	case CONN_CLOSED:
		return OUT_BOLD;
	default:
		return OUT_BAD;
	}
}

void out_time(const struct ctl_out *o, char buf[OUT_TIME_MAX], int64_t us, int precise)
{
	time_t sec = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
	long frac = (long)(us - (int64_t)sec * 1000000);
	struct tm tm;
	size_t n;

	if (!(o->utc ? gmtime_r(&sec, &tm) : localtime_r(&sec, &tm))) {
		snprintf(buf, OUT_TIME_MAX, "?");
		return;
	}
	n = strftime(buf, OUT_TIME_MAX, "%Y-%m-%d %H:%M:%S", &tm);
	if (precise)
		snprintf(buf + n, OUT_TIME_MAX - n, ".%06ld", frac);
	else
		snprintf(buf + n, OUT_TIME_MAX - n, ".%03ld", frac / 1000);
}

void out_duration(char buf[OUT_DURATION_MAX], int64_t us)
{
	if (us < 0)
		snprintf(buf, OUT_DURATION_MAX, "-");
	else if (us < 1000)
		snprintf(buf, OUT_DURATION_MAX, "%" PRId64 "us", us);
	else if (us < 10000)
		snprintf(buf, OUT_DURATION_MAX, "%.2fms", (double)us / 1e3);
	else if (us < 1000000)
		snprintf(buf, OUT_DURATION_MAX, "%.1fms", (double)us / 1e3);
	else if (us < 10000000)
		snprintf(buf, OUT_DURATION_MAX, "%.2fs", (double)us / 1e6);
	else if (us < 60000000)
		snprintf(buf, OUT_DURATION_MAX, "%.1fs", (double)us / 1e6);
	else if (us < 3600000000)
		snprintf(buf, OUT_DURATION_MAX, "%" PRId64 "m%02" PRId64 "s", us / 60000000,
		         us / 1000000 % 60);
	else if (us < 86400000000)
		snprintf(buf, OUT_DURATION_MAX, "%" PRId64 "h%02" PRId64 "m", us / 3600000000,
		         us / 60000000 % 60);
	else
		snprintf(buf, OUT_DURATION_MAX, "%" PRId64 "d%02" PRId64 "h", us / 86400000000,
		         us / 3600000000 % 24);
}

void out_endpoint(char buf[OUT_ENDPOINT_MAX], int family, const uint8_t addr[16], unsigned port)
{
	char a[INET6_ADDRSTRLEN] = "?", p[12] = "*";

	inet_ntop(family, addr, a, sizeof(a));
	if (port)
		snprintf(p, sizeof(p), "%u", port);
	snprintf(buf, OUT_ENDPOINT_MAX, family == AF_INET6 ? "[%s]:%s" : "%s:%s", a, p);
}

void out_owner(char buf[OUT_OWNER_MAX], const struct conn *c)
{
	size_t n = 0;

	buf[0] = '\0';
	if (c->unit)
		n += (size_t)snprintf(buf + n, OUT_OWNER_MAX - n, "%.120s ", c->unit);
	if (c->pid && n < OUT_OWNER_MAX)
		n += (size_t)snprintf(buf + n, OUT_OWNER_MAX - n, "%.64s[%" PRIu32 "] ",
		                      c->comm ? c->comm : "", c->pid);
	if ((c->flags & CONN_HAS_UID) && n < OUT_OWNER_MAX)
		n += (size_t)snprintf(buf + n, OUT_OWNER_MAX - n, "uid=%" PRIu32 " ", c->uid);
	if (n && n < OUT_OWNER_MAX)
		buf[n - 1] = '\0';
	else if (!n)
		snprintf(buf, OUT_OWNER_MAX, "-");
}

void out_netns(char buf[OUT_NETNS_MAX], const struct conn *c)
{
	buf[0] = '\0';
	if (c->netns_ino)
		snprintf(buf, OUT_NETNS_MAX, "  netns %s", c->netns ? c->netns : "-");
}

void out_path(char *buf, size_t size, const struct conn *c)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < c->nsteps && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? " \u2192 " : "",
		                      sock_state_name(c->steps[i].state));
	if (!(c->flags & CONN_ENDED) && n < size)
		snprintf(buf + n, size - n, " \u2026");
}

static void put_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static void put_i64(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, v < 0 ? NULL : json_object_new_int64(v));
}

static void put_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}

static void put_ts(struct json_object *o, const char *key, int64_t us)
{
	struct ctl_out utc = {.utc = 1};
	char buf[OUT_TIME_MAX];

	out_time(&utc, buf, us, 1);
	buf[10] = 'T';
	strcat(buf, "Z");
	put_str(o, key, buf);
}

/* The "states" array: each state with when it began and how long it lasted. */
static struct json_object *steps_json(const struct conn *c, int64_t now_us)
{
	struct json_object *a = json_object_new_array();

	for (unsigned i = 0; a && i < c->nsteps; i++) {
		struct json_object *s = json_object_new_object();

		if (!s)
			break;
		put_str(s, "state", sock_state_name(c->steps[i].state));
		put_ts(s, "ts", c->steps[i].ts_us);
		put_i64(s, "us", c->steps[i].state == SOCK_NONE ? -1 : conn_step_us(c, i, now_us));
		put_str(s, "how", ctl_how_name(c->steps[i].how));
		json_object_array_add(a, s);
	}
	return a;
}

static void put_tuple(struct json_object *o, const struct conn *c)
{
	char a[INET6_ADDRSTRLEN] = "?";

	put_str(o, "family", c->tuple.family == AF_INET6 ? "ipv6" : "ipv4");
	inet_ntop(c->tuple.family, c->tuple.laddr, a, sizeof(a));
	put_str(o, "laddr", a);
	put_u64(o, "lport", c->tuple.lport);
	inet_ntop(c->tuple.family, c->tuple.raddr, a, sizeof(a));
	put_str(o, "raddr", a);
	put_u64(o, "rport", c->tuple.rport);
}

struct json_object *out_conn_json(const struct conn *c, int64_t now_us)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (c->host[0])
		put_str(o, "host", c->host);
	put_u64(o, "cookie", c->cookie);
	put_tuple(o, c);
	put_ts(o, "start", conn_start_us(c));
	if (c->flags & CONN_ENDED)
		put_ts(o, "end", conn_end_us(c, now_us));
	put_str(o, "role", c->role ? conn_role_name(c->role) : NULL);
	put_str(o, "outcome", conn_outcome_name(c->outcome));
	json_object_object_add(o, "partial", json_object_new_boolean(c->flags & CONN_PARTIAL));
	json_object_object_add(o, "states", steps_json(c, now_us));
	put_i64(o, "handshake_us", conn_handshake_us(c));
	put_i64(o, "lifetime_us", conn_lifetime_us(c, now_us));
	if (c->flags & CONN_HAS_BYTES) {
		put_u64(o, "bytes_sent", c->bytes_sent);
		put_u64(o, "bytes_received", c->bytes_received);
	}
	if (c->flags & CONN_HAS_RETRANS)
		put_u64(o, "retrans", c->retrans);
	if (c->flags & CONN_HAS_RTT)
		put_u64(o, "rtt_us", c->rtt_us);
	if (c->flags & CONN_HAS_UID)
		put_u64(o, "uid", c->uid);
	if (c->flags & CONN_HAS_INODE)
		put_u64(o, "inode", c->inode);
	if (c->netns_ino) {
		put_str(o, "netns", c->netns ? c->netns : "");
		put_u64(o, "netns_ino", c->netns_ino);
	}
	if (c->unit)
		put_str(o, "unit", c->unit);
	if (c->pid) {
		put_u64(o, "pid", c->pid);
		put_str(o, "comm", c->comm ? c->comm : "");
	}
	if (c->peer)
		put_u64(o, "peer_cookie", c->peer->cookie);
	return o;
}

void out_json_line(const struct ctl_out *o, struct json_object *obj)
{
	if (!obj)
		return;
	fputs(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN), o->f);
	fputc('\n', o->f);
	json_object_put(obj);
}
