/*
 * linebuf.c - splits bytes read into whole lines.
 *
 * The daemon writes whole lines, but a reader can meet part of one: the end
 * of a file being written, a file cut short, or bytes that are not a log at
 * all with no newline for megabytes. Lines are returned in place, and one
 * longer than the buffer is skipped up to its newline rather than making the
 * buffer grow with the input.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_linebuf.h"

int linebuf_init(struct linebuf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->buf = malloc(cap);
	if (!b->buf)
		return -ENOMEM;
	b->cap = cap;
	return 0;
}

void linebuf_release(struct linebuf *b)
{
	free(b->buf);
	b->buf = NULL;
}

char *linebuf_room(struct linebuf *b, size_t *ret_room)
{
	if (b->end - b->start == b->cap) {
		/* A whole buffer without a newline: too long to be a record. */
		b->skipping = 1;
		b->start = b->end = b->scanned = 0;
	} else if (b->cap - b->end < b->cap / 2) {
		memmove(b->buf, b->buf + b->start, b->end - b->start);
		b->end -= b->start;
		b->start = 0;
	}
	*ret_room = b->cap - b->end;
	return b->buf + b->end;
}

void linebuf_fill(struct linebuf *b, size_t n)
{
	b->end += n;
}

int linebuf_line(struct linebuf *b, const char **ret_line, size_t *ret_len)
{
	const char *from = b->buf + b->start + b->scanned;
	const char *nl = memchr(from, '\n', b->end - b->start - b->scanned);
	size_t len;

	if (!nl) {
		b->scanned = b->end - b->start;
		return 0;
	}
	len = (size_t)(nl - (b->buf + b->start));
	*ret_line = b->buf + b->start;
	*ret_len = len;
	b->start += len + 1;
	b->scanned = 0;
	b->lineno++;
	if (b->skipping) {
		b->skipping = 0;
		return -E2BIG;
	}
	return 1;
}

size_t linebuf_pending(const struct linebuf *b)
{
	return b->end - b->start + (size_t)b->skipping;
}

void linebuf_clear(struct linebuf *b)
{
	b->start = b->end = b->scanned = 0;
	b->skipping = 0;
}
