/* logloss.h - records lost to write errors, counted with their span for the loss record. No I/O. */
#ifndef TCPSTATED_LOGLOSS_H
#define TCPSTATED_LOGLOSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logfile.h"
#include "record.h"

/* Zeroed, it has lost nothing. */
struct logloss {
	uint64_t dropped;          /* records lost since it was zeroed */
	struct logfile_loss due;   /* lost since the last loss record written */
	struct logfile_loss taken; /* the last loss record written, until taken */
	bool have_taken;
};

/* Counts N records lost now (CLOCK_REALTIME). */
void logloss_count(struct logloss *l, uint64_t n);

/* Whether records were lost since the last loss record written. */
bool logloss_due(const struct logloss *l);

/* Formats the loss record that is due, stamped now, into BUF of SIZE bytes in
 * FORMAT. Returns what record_format_loss() returns. */
int logloss_format(struct logloss *l, char *buf, size_t size, enum record_format format);

/* The loss record formatted last is written: nothing is due any more, and
 * logloss_take() returns it. */
void logloss_written(struct logloss *l);

/* Returns true once for each loss record written, with its contents. */
bool logloss_take(struct logloss *l, struct logfile_loss *ret);

#endif
