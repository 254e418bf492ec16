/*
 * source_journal.c - the daemon's journal entries as records.
 *
 * With [journal] enabled, every transition and summary is also an entry
 * whose TCPSTATE_* fields mirror the JSON record (src/journal.c). The
 * entries are matched by their MESSAGE_IDs, so that nothing else in the
 * journal is read; each field goes to recread_field(), the same table the
 * file reader uses. A journal directory (-D) may hold many hosts' entries
 * (systemd-journal-remote): each record carries its _HOSTNAME.
 */
#include <errno.h>
#include <stdlib.h>

#include <systemd/sd-journal.h>

#include "ctl_source.h"
#include "journal_ids.h"

struct source_journal {
	sd_journal *j;
};

static const char *const message_ids[] = {
    "MESSAGE_ID=" JOURNAL_ID_APPEARED, "MESSAGE_ID=" JOURNAL_ID_CHANGED,
    "MESSAGE_ID=" JOURNAL_ID_VANISHED, "MESSAGE_ID=" JOURNAL_ID_SUMMARY,
    "MESSAGE_ID=" JOURNAL_ID_LOST,
};

int source_journal_open(const char *dir, struct source_journal **ret)
{
	struct source_journal *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	err = dir ? sd_journal_open_directory(&s->j, dir, 0)
	          : sd_journal_open(&s->j, SD_JOURNAL_LOCAL_ONLY);
	/* Matches on one field are ORed. */
	for (size_t i = 0; err >= 0 && i < sizeof(message_ids) / sizeof(message_ids[0]); i++)
		err = sd_journal_add_match(s->j, message_ids[i], 0);
	if (err >= 0)
		err = sd_journal_seek_head(s->j);
	if (err < 0) {
		source_journal_close(s);
		return err;
	}
	*ret = s;
	return 0;
}

void source_journal_close(struct source_journal *s)
{
	if (!s)
		return;
	sd_journal_close(s->j);
	free(s);
}

int source_journal_next(struct source_journal *s, struct source_report *rep, int timeout_ms,
                        struct ctl_record *r)
{
	struct recread_entry e;
	const void *data;
	size_t len;
	int err;

	for (;;) {
		err = sd_journal_next(s->j);
		if (err < 0)
			return err;
		if (err > 0)
			break;
		if (timeout_ms == 0)
			return 0;
		err = sd_journal_wait(s->j,
		                      timeout_ms < 0 ? (uint64_t)-1 : (uint64_t)timeout_ms * 1000);
		if (err < 0)
			return err;
		if (err == SD_JOURNAL_NOP)
			return 0;
	}
	recread_begin(&e, r);
	SD_JOURNAL_FOREACH_DATA(s->j, data, len)
	recread_field(&e, data, len);
	err = recread_end(&e);
	if (err < 0) {
		char *cursor = NULL;

		sd_journal_get_cursor(s->j, &cursor);
		source_report_bad(rep, cursor ? cursor : "journal entry", 0, "not a record");
		free(cursor);
		return -EINVAL;
	}
	return 1;
}
