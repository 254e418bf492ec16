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
 */
struct diff_mark {
	uint32_t prev;
	uint32_t next;
	uint32_t run;
	/* On an entry of the older table that the newer dump missed, set
	 * through diff_mark_closed(): the kernel no longer has the socket in
	 * its tables, though no notification said it was freed. */
	uint8_t closed;
};

#endif
