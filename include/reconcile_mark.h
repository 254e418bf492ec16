/* reconcile_mark.h - what a destroy notification's join leaves on a snapshot entry for the diff. */
#ifndef TCPSTATED_RECONCILE_MARK_H
#define TCPSTATED_RECONCILE_MARK_H

#include <stdint.h>

struct reconcile_mark {
	/* On an entry of the older table: a destroy notification said the
	 * socket is gone and its record is written; the diff leaves it out. */
	uint8_t settled;
	/* On an entry of the newer dump: a destroy notification timed its
	 * change (at the entry's changed_at_ns, how "destroy"). On an entry of
	 * the older table: a notification claimed its minisocket. */
	uint8_t by_event;
};

#endif
