/*
 * journal_ids.h - the MESSAGE_ID of each kind of tcpstated journal entry.
 *
 * Generated once (uuid4) and fixed for good: queries, alerts and the message
 * catalog (catalog/tcpstated.catalog, which must hold an entry for each)
 * match on them.
 */
#ifndef TCPSTATED_JOURNAL_IDS_H
#define TCPSTATED_JOURNAL_IDS_H

#define JOURNAL_ID_APPEARED "47c5afb8f94f4b73b2778622ab66d4a0" /* a socket appeared */
#define JOURNAL_ID_CHANGED  "0150bd6566304c2c8ffb1b7f84c3487a" /* a socket changed state */
#define JOURNAL_ID_VANISHED "e523b9aa453443ff97df2a4c334f6e67" /* a socket went away */
#define JOURNAL_ID_SUMMARY  "4f27521f84ea4caeba33df955840183b" /* a connection's summary */
#define JOURNAL_ID_NOT_SENT "4ae2bb8dd733419a9506b4b5e3480745" /* records held back */
#define JOURNAL_ID_LOST     "904c2b07554746628c0bf4a75704c69b" /* records the log file lost */
#define JOURNAL_ID_STARTED  "9f5301aaa62141438037761227c50bd3" /* the daemon started */
#define JOURNAL_ID_RELOADED "8b4b3f83f77a44c9843e43564e477e2a" /* the daemon reloaded */

#endif
