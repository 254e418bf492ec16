/*
 * snapshot.c - a socket table keyed by kernel cookie.
 *
 * Entries sit densely in one array in dump order; an open-addressing index
 * (linear probing, at most half full) maps a cookie to its entry. Both grow
 * by doubling to the largest table seen and are reused after
 * snapshot_clear(), so a steady state allocates nothing.
 *
 * A dump appends its sockets unindexed (snapshot_append), and the index is
 * built in one pass only when a lookup needs it (snapshot_find), which in a
 * steady state is never: diff.c matches a dump against the previous one in
 * sequence. Indexing each socket as it arrived cost a cache miss per socket:
 * between two sockets the kernel's walk streams megabytes of socket memory
 * through the cache, evicting the index. In one pass afterwards the index
 * stays in cache: at 40k sockets, perf put slot_for at 2.5 % of tcpstated's
 * CPU samples instead of 12 %, and all of user space at 8 % instead of 17 %.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

#define SNAPSHOT_MIN_CAP 256

/* Entries ahead of the one appended that snapshot_append() asks for. */
#define SNAPSHOT_PREFETCH 8

void snapshot_init(struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
}

void snapshot_release(struct snapshot *s)
{
	if (!s)
		return;
	free(s->entries);
	free(s->slots);
	snapshot_init(s);
}

/*
 * The index is emptied when it is next built, not here: a table is cleared
 * before a dump, whose walk then evicts whatever the clearing brought into
 * the cache; emptied just before it is filled, the index is in the cache
 * for its (random) writes. At 20k sockets under churn that halved them.
 */
void snapshot_clear(struct snapshot *s)
{
	s->slots_dirty |= s->indexed > 0;
	s->len = 0;
	s->indexed = 0;
	s->repeats = 0;
	s->missing = 0;
}

/*
 * The slot holding COOKIE, or the empty slot where it would go; *RET_TAG is
 * the tag a slot of COOKIE carries. The index bits come from the low half of
 * the hash and the tag from the high half, so a probe reads an entry (a
 * cache miss, at random, in a table of megabytes) only when the tag matches,
 * which is almost only for COOKIE itself.
 */
static struct snapshot_slot *slot_for(const struct snapshot *s, uint64_t cookie, uint32_t *ret_tag)
{
	uint64_t h = snapshot_cookie_hash(cookie);
	uint32_t tag = (uint32_t)(h >> 32);
	size_t i = (size_t)h & s->slot_mask;

	*ret_tag = tag;
	for (;;) {
		struct snapshot_slot *slot = &s->slots[i];

		if (slot->entry == 0 ||
		    (slot->tag == tag && s->entries[slot->entry - 1].sk.cookie == cookie))
			return slot;
		i = (i + 1) & s->slot_mask;
	}
}

/* Makes room for one more entry, keeping the index at most half full. */
static int grow(struct snapshot *s)
{
	size_t cap = s->cap ? s->cap * 2 : SNAPSHOT_MIN_CAP;
	struct snapshot_entry *entries;
	struct snapshot_slot *slots;

	if (cap > UINT32_MAX / 2)
		return -ENOMEM;
	entries = realloc(s->entries, cap * sizeof(*entries));
	if (!entries)
		return -ENOMEM;
	s->entries = entries;
	slots = calloc(cap * 2, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	free(s->slots);
	s->slots = slots;
	s->slots_dirty = 0;
	s->slot_mask = cap * 2 - 1;
	s->cap = cap;
	for (size_t i = 0; i < s->indexed; i++) {
		uint32_t tag;
		struct snapshot_slot *slot = slot_for(s, s->entries[i].sk.cookie, &tag);

		*slot = (struct snapshot_slot){.entry = (uint32_t)(i + 1), .tag = tag};
	}
	return 0;
}

struct sock *snapshot_slot(struct snapshot *s)
{
	struct snapshot_entry *e;

	if (s->len == s->cap && grow(s) < 0)
		return NULL;
	/*
	 * The table was last written two polls ago, and the kernel's walk has
	 * since been through the cache: every entry written misses. Asking
	 * for the lines of an entry a few ahead lets those misses overlap
	 * with the parsing of the messages in between (perf: 88 % of
	 * snapshot_append's samples were its store). Every line of it: an
	 * entry of more than two lines spans three, and the socket's place
	 * ends in the middle one.
	 */
	if (s->len + SNAPSHOT_PREFETCH < s->cap) {
		const char *ahead = (const char *)&s->entries[s->len + SNAPSHOT_PREFETCH];

		__builtin_prefetch(ahead, 1);
		__builtin_prefetch(ahead + 64, 1);
		__builtin_prefetch(ahead + sizeof(*s->entries) - 1, 1);
	}
	e = &s->entries[s->len];
	/* All but the socket, which the caller writes. */
	e->diff = (struct diff_mark){0};
	e->missing = 0;
	e->rec = (struct reconcile_mark){0};
	e->first_seen_ns = e->missing_since_ns = 0;
	/* Not the conn: the diff gives each entry its own (diff_end()), and a
	 * store into another cache line per socket showed in the profile. */
	return &e->sk;
}

int snapshot_append(struct snapshot *s, const struct sock *sk)
{
	struct sock *slot = snapshot_slot(s);

	if (!slot)
		return -ENOMEM;
	*slot = *sk;
	s->len++;
	return 0;
}

void snapshot_index(struct snapshot *s)
{
	size_t w = s->indexed;

	if (s->slots_dirty) {
		memset(s->slots, 0, (s->slot_mask + 1) * sizeof(*s->slots));
		s->slots_dirty = 0;
	}

	for (size_t r = s->indexed; r < s->len; r++) {
		uint32_t tag;
		struct snapshot_slot *slot = slot_for(s, s->entries[r].sk.cookie, &tag);

		if (slot->entry) {
			/* As in snapshot_put(): the later copy is the fresher. */
			s->entries[slot->entry - 1].sk = s->entries[r].sk;
			s->repeats++;
			continue;
		}
		if (w != r)
			s->entries[w] = s->entries[r];
		*slot = (struct snapshot_slot){.entry = (uint32_t)(w + 1), .tag = tag};
		w++;
	}
	s->len = s->indexed = w;
}

int snapshot_put(struct snapshot *s, const struct sock *sk)
{
	struct snapshot_slot *slot;
	uint32_t tag;
	int err;

	snapshot_index(s);
	if (s->len == s->cap) {
		err = grow(s);
		if (err < 0)
			return err;
	}
	slot = slot_for(s, sk->cookie, &tag);
	if (slot->entry) {
		/* The dump resumed before a socket it had already returned;
		 * the later copy is the fresher one. */
		s->entries[slot->entry - 1].sk = *sk;
		s->repeats++;
		return 1;
	}
	s->entries[s->len] = (struct snapshot_entry){.sk = *sk};
	*slot = (struct snapshot_slot){.entry = (uint32_t)++s->len, .tag = tag};
	s->indexed = s->len;
	return 0;
}

int snapshot_put_missing(struct snapshot *s, const struct sock *sk, int64_t since_ns,
                         struct snapshot_entry **ret)
{
	struct snapshot_entry *e;
	int err = snapshot_append(s, sk);

	if (err < 0)
		return err;
	e = &s->entries[s->len - 1];
	e->missing = 1;
	e->missing_since_ns = since_ns;
	s->missing++;
	*ret = e;
	return 0;
}

int snapshot_put_cb(const struct sock *sk, void *user)
{
	int err = snapshot_put(user, sk);

	return err < 0 ? err : 0;
}

struct snapshot_entry *snapshot_find(struct snapshot *s, uint64_t cookie)
{
	const struct snapshot_slot *slot;
	uint32_t tag;

	if (!s->len)
		return NULL;
	if (s->indexed < s->len)
		snapshot_index(s);
	slot = slot_for(s, cookie, &tag);
	return slot->entry ? &s->entries[slot->entry - 1] : NULL;
}

void snapshot_truncate(struct snapshot *s, size_t len)
{
	size_t missing = 0;

	s->len = len;
	for (size_t i = 0; i < len; i++)
		missing += s->entries[i].missing;
	s->missing = missing;
	s->slots_dirty |= s->indexed > 0;
	s->indexed = 0;
}

size_t snapshot_present(const struct snapshot *s)
{
	return s->len - s->missing;
}
