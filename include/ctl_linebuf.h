/* ctl_linebuf.h - bytes in, whole lines out: the buffer every file source reads into. No I/O. */
#ifndef TCPSTATED_CTL_LINEBUF_H
#define TCPSTATED_CTL_LINEBUF_H

#include <stddef.h>
#include <stdint.h>

struct linebuf {
	char *buf;
	size_t cap;      /* the longest line kept is cap - 1 bytes */
	size_t start;    /* the first byte not returned yet */
	size_t end;      /* the end of the bytes read */
	size_t scanned;  /* bytes from start already known to hold no '\n' */
	int skipping;    /* inside a line too long to keep: dropped up to its '\n' */
	uint64_t lineno; /* of the line last returned or skipped */
};

/* Makes B empty, for lines of up to CAP - 1 bytes. Returns 0 or -ENOMEM. */
int linebuf_init(struct linebuf *b, size_t cap);

/* Frees B's buffer. */
void linebuf_release(struct linebuf *b);

/* Room for more bytes at the end of B, at least half its size: moves the
 * unread bytes to the front, or drops a line too long to keep. */
char *linebuf_room(struct linebuf *b, size_t *ret_room);

/* N bytes were written at linebuf_room(). */
void linebuf_fill(struct linebuf *b, size_t n);

/*
 * The next whole line (without '\n') in *RET_LINE and *RET_LEN. Returns 1,
 * 0 when B holds no whole line, or -E2BIG when the line B skipped (numbered
 * b->lineno) was too long.
 */
int linebuf_line(struct linebuf *b, const char **ret_line, size_t *ret_len);

/* Bytes of a line B holds without its '\n' yet (or is skipping). */
size_t linebuf_pending(const struct linebuf *b);

/* Drops what B holds; the line count goes on. */
void linebuf_clear(struct linebuf *b);

#endif
