/* test_incident.c - incidents logged once as they begin and once as they end; the status line. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "incident.h"

static char out[4096];
static int saved_stderr = -1;
static char path[] = "/tmp/test_incident.XXXXXX";

/* From here on, what the daemon logs goes to a file, for captured(). */
static void capture(void)
{
	int fd = mkstemp(path);

	if (fd < 0 || (saved_stderr = dup(STDERR_FILENO)) < 0 || dup2(fd, STDERR_FILENO) < 0) {
		perror("capture");
		exit(1);
	}
	close(fd);
}

/* What was logged since capture(), and standard error back. */
static const char *captured(void)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, out, sizeof(out) - 1);

	out[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	unlink(path);
	memcpy(path + strlen(path) - 6, "XXXXXX", 6);
	return out;
}

static void test_begin_end(void)
{
	struct incident in = {0};
	uint64_t n = 99;

	CHECK(!incident_end(&in, &n));
	CHECK_INT(n, 99); /* written only for an incident that was under way */
	CHECK(incident_begin(&in, -EIO, 1));
	CHECK(!incident_begin(&in, -EIO, 2));
	CHECK(!incident_begin(&in, -ENOSPC, 1)); /* still the same incident */
	CHECK_INT(in.err, -EIO);
	CHECK(incident_end(&in, &n));
	CHECK_INT(n, 4);
	CHECK(!incident_end(&in, NULL));
	CHECK(incident_begin(&in, -ENOSPC, 1)); /* a new one, counted afresh */
	CHECK(incident_end(&in, &n));
	CHECK_INT(n, 1);
}

static void test_dump(void)
{
	struct incidents inc = {0};

	capture();
	incident_report_dump(&inc, 0);
	incident_report_dump(&inc, -EIO);
	incident_report_dump(&inc, -ENOBUFS);
	incident_report_dump(&inc, -EIO);
	incident_report_dump(&inc, 0);
	incident_report_dump(&inc, 0);
	CHECK_STR(captured(), "tcpstated: socket dump failed: Input/output error; skipping this "
	                      "poll, retrying at the next\n"
	                      "tcpstated: socket dumps work again after 3 failed\n");
}

static void test_journal(void)
{
	struct incidents inc = {0};
	struct monitor_stats st = {0};

	capture();
	st.journal_failed = 3; /* three records in the first failing poll */
	st.journal_error = -ECONNREFUSED;
	incident_report_journal(&inc, &st, "/l", true);
	st.journal_failed = 5;
	incident_report_journal(&inc, &st, "/l", true);
	st.journal_error = 0; /* a failed dump sends nothing and ends nothing */
	incident_report_journal(&inc, &st, "/l", false);
	incident_report_journal(&inc, &st, "/l", true);
	incident_report_journal(&inc, &st, "/l", true);
	CHECK_STR(captured(), "tcpstated: cannot send records to the journal: Connection refused; "
	                      "still writing them to /l\n"
	                      "tcpstated: sending records to the journal again; it missed 5\n");
}

static void test_overrun(void)
{
	struct incidents inc = {0};
	struct monitor_stats st = {0};

	capture();
	incident_report_overrun(&inc, &st); /* nothing lost, nothing said */
	st.overruns = 1;
	st.events_lost = 7;
	incident_note_overrun(&inc, &st);
	incident_note_overrun(&inc, &st); /* the same overrun */
	st.overruns = 2;
	st.events_lost = 9;
	incident_report_overrun(&inc, &st); /* the resync poll lost more */
	incident_report_overrun(&inc, &st);
	incident_report_overrun(&inc, &st);
	CHECK_STR(captured(), "tcpstated: destroy notifications lost (receive buffer overrun, 7 "
	                      "lost since start); resynchronising with a full dump\n"
	                      "tcpstated: destroy notifications flow again; 9 lost since start\n");
}

static void test_missed(void)
{
	struct incidents inc = {0};
	const char *s;

	capture();
	incident_report_missed(&inc, 0, 100);
	incident_report_missed(&inc, 2, 100); /* said at once */
	incident_report_missed(&inc, 3, 100); /* then at most once a minute */
	incident_report_missed(&inc, 0, 100);
	inc.late_warned -= 60;
	incident_report_missed(&inc, 0, 100);
	inc.late_warned -= 60;
	incident_report_missed(&inc, 0, 100); /* none skipped since: nothing to say */
	s = captured();
	CHECK_STR(s, "tcpstated: polls overran the 100 ms interval: 2 polls skipped in the last "
	             "60 s; polls late p50/p99 0.000/0.000 ms, took p50/p99 0.000/0.000 ms\n"
	             "tcpstated: polls overran the 100 ms interval: 3 polls skipped in the last "
	             "60 s; polls late p50/p99 0.000/0.000 ms, took p50/p99 0.000/0.000 ms\n");
	CHECK_INT(inc.missed_total, 5);
}

static void test_status(void)
{
	struct incidents inc = {0};
	struct monitor_stats st = {
	    .sockets = 12, .transitions = 345, .dumps_failed = 1, .events = 6, .events_lost = 2};
	char buf[512];

	inc.missed_total = 4;
	incident_poll_started(&inc, 1000000, 1040000); /* 40 us late */
	incident_poll_ended(&inc, 1040000, 2040000);   /* took 1 ms */
	incident_format_status(&inc, &st, 0, 0, buf, sizeof(buf));
	CHECK_STR(buf, "tracking 12 sockets, 345 transitions logged, 4 polls skipped, 1 dumps "
	               "failed; polls late p50/p99 0.040/0.040 ms, took p50/p99 1.000/1.000 ms");
	/* With notifications on, their receive buffer as granted: the default
	 * takes what net.core.rmem_max allows, and says so only here. */
	incident_format_status(&inc, &st, 3, 212992, buf, sizeof(buf));
	CHECK_STR(buf, "tracking 12 sockets, 345 transitions logged, 4 polls skipped, 1 dumps "
	               "failed, 3 records lost, 6 destroy events, 2 destroy events lost "
	               "(buffer 208 KiB); polls late p50/p99 0.040/0.040 ms, took p50/p99 "
	               "1.000/1.000 ms");
	/* Records the budget held back and sends the journal refused, together. */
	st.journal_over = 7;
	st.journal_failed = 2;
	incident_format_status(&inc, &st, 0, 0, buf, sizeof(buf));
	CHECK_STR(buf, "tracking 12 sockets, 345 transitions logged, 4 polls skipped, 1 dumps "
	               "failed, 9 not sent to the journal; polls late p50/p99 0.040/0.040 ms, "
	               "took p50/p99 1.000/1.000 ms");
	/* Cut short, never overrun. */
	incident_format_status(&inc, &st, 3, 212992, buf, 20);
	CHECK_STR(buf, "tracking 12 sockets");
}

int main(void)
{
	/* Plain "tcpstated: " lines, not the journal's "<N>" ones. */
	unsetenv("JOURNAL_STREAM");
	test_begin_end();
	test_dump();
	test_journal();
	test_overrun();
	test_missed();
	test_status();
	return CHECK_DONE();
}
