/* metrics_text.h - the metrics in Prometheus's text exposition format. No I/O but the stream. */
#ifndef TCPSTATED_METRICS_TEXT_H
#define TCPSTATED_METRICS_TEXT_H

#include <stdio.h>

#include "metrics.h"

/*
 * Writes every metric of M to F in the text exposition format (version
 * 0.0.4, what node_exporter's textfile collector reads), with VERSION in
 * tcpstated_build_info. Returns 0, or -EIO when F reports an error.
 */
int metrics_text_write(const struct metrics *m, const char *version, FILE *f);

/* netstat's name of STATE in lowercase, as node_tcp_connection_states spells
 * it ("time_wait", "none"), into BUF of at least 16 bytes. Returns BUF. */
const char *metrics_text_state(unsigned state, char *buf);

#endif
