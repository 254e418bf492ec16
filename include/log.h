/* log.h - the daemon's own diagnostics (not the transition log). */
#ifndef TCPSTATED_LOG_H
#define TCPSTATED_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdnoreturn.h>

/*
 * Messages go to standard error as "tcpstated: message". When standard error
 * is connected to the journal (JOURNAL_STREAM), each line carries a syslog
 * priority prefix ("<3>") so journald files it at the right level.
 */

/* Whether standard error is the journal stream systemd gave us (JOURNAL_STREAM). */
bool log_to_journal(void);

/* One message at LOG_INFO, LOG_WARNING or LOG_ERR; never fails. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs at error level and exits with STATUS. Start-up only. */
noreturn void fatal(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
