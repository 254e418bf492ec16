/*
 * log.c - the daemon's own diagnostics.
 *
 * Always standard error. Under systemd, standard error is a stream to
 * journald (JOURNAL_STREAM names it), which reads a "<N>" prefix as the
 * syslog priority of the line; elsewhere the prefix would be noise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static int journal = -1; /* unknown until the first message */

/* Whether standard error is the journal stream systemd gave us. */
static int stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

bool log_to_journal(void)
{
	if (journal < 0)
		journal = stderr_is_journal();
	return journal;
}

static __attribute__((format(printf, 2, 0))) void vlog(int prio, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_to_journal())
		fprintf(stderr, "<%d>%s\n", prio, msg);
	else
		fprintf(stderr, "tcpstated: %s\n", msg);
}

#define DEFINE_LOG(name, prio)                                                                     \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		vlog(prio, fmt, ap);                                                               \
		va_end(ap);                                                                        \
	}

DEFINE_LOG(log_info, LOG_INFO)
DEFINE_LOG(log_warn, LOG_WARNING)
DEFINE_LOG(log_err, LOG_ERR)

void fatal(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(status);
}
