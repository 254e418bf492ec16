/* diff_mark.h - the diff's mark on a snapshot entry: the links between an older and a newer table.
 */
#ifndef TCPSTATED_DIFF_MARK_H
#define TCPSTATED_DIFF_MARK_H

#include <stdint.h>

/*
 * The links diff_match() makes between an older and a newer table. In the
 * newer one, prev is the older table's entry of the same socket (index + 1;
 * 0: it appeared). In the older one, next is the newer table's entry
 * (index + 1), valid only while run is that diff's number, so that no pass
 * over the older table has to clear them.
 *
 * Twelve bytes, so that the entry's byte-sized fields fill the rest of its
 * word: prev needs 31 bits at most, as a table holds at most 2^30 entries
 * (snapshot.c's grow()), and closed takes the last one.
 */
struct diff_mark {
	uint32_t prev : 31;
	/* On an entry of the older table that the newer dump missed, set
	 * through diff_check_missing(): the kernel no longer has the socket in
	 * its tables, though no notification said it was freed. */
	uint32_t closed : 1;
	uint32_t next;
	uint32_t run;
};

#endif
