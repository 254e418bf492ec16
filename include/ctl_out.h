/* ctl_out.h - how tcpstatectl writes times, durations, endpoints and connections (text and JSON).
 */
#ifndef TCPSTATED_CTL_OUT_H
#define TCPSTATED_CTL_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "ctl_conn.h"

enum out_format { OUT_TEXT, OUT_JSON };

/* The colours of the text output; each is "" when colour is off. */
enum out_color { OUT_RESET, OUT_DIM, OUT_BOLD, OUT_GOOD, OUT_WARN, OUT_BAD, OUT_COLOR_MAX };

struct ctl_out {
	FILE *f;
	unsigned format; /* enum out_format */
	int color;       /* colour escapes in text */
	int utc;         /* times in UTC rather than local time */
	int hosts;       /* show each connection's host (a journal of many hosts) */
	int netns;       /* list: a NETNS column (--netns, or the first connection has one) */
};

/* Sizes of the buffers the functions below write into. */
#define OUT_TIME_MAX     40
#define OUT_DURATION_MAX 24
#define OUT_ENDPOINT_MAX 56
#define OUT_OWNER_MAX    300
#define OUT_NETNS_MAX    (CTL_NAME_MAX + 8)

/* The escape for colour C, or "" when O has colour off. */
const char *out_color(const struct ctl_out *o, unsigned c);

/* The colour a state is shown in: ESTABLISHED good, closing states warn, CLOSE_WAIT bad. */
unsigned out_state_color(unsigned state);

/* The colour of an outcome. */
unsigned out_outcome_color(unsigned outcome);

/* "2026-12-04 10:00:00.123456" (PRECISE) or "2026-12-04 10:00:00.123", local or UTC. */
void out_time(const struct ctl_out *o, char buf[OUT_TIME_MAX], int64_t us, int precise);

/* "850us", "12.3ms", "1.52s", "2m03s", "1h02m", "3d04h"; "-" when US < 0. */
void out_duration(char buf[OUT_DURATION_MAX], int64_t us);

/* "127.0.0.1:80", "[::1]:80" (port 0 as "*"). */
void out_endpoint(char buf[OUT_ENDPOINT_MAX], int family, const uint8_t addr[16], unsigned port);

/* Who owns C: "nginx.service curl[812] uid=0", the parts known; "-" when none is. */
void out_owner(char buf[OUT_OWNER_MAX], const struct conn *c);

/* "  netns blue" when C's records said its namespace ("-" for a name
 * unknown), "" when they did not: for show's and follow's lines. */
void out_netns(char buf[OUT_NETNS_MAX], const struct conn *c);

/* "SYN_SENT → ESTABLISHED → ... → NONE" for C (steps from NONE on). */
void out_path(char *buf, size_t size, const struct conn *c);

/* C as one JSON object (docs/tcpstatectl.1 lists its keys). NOW_US: the end
 * of the input, for open connections. Returns NULL on ENOMEM. */
struct json_object *out_conn_json(const struct conn *c, int64_t now_us);

/* Writes OBJ as one line of plain JSON and frees it. */
void out_json_line(const struct ctl_out *o, struct json_object *obj);

#endif
