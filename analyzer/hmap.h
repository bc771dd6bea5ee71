/*
 * A compact open-addressing hash table keyed by 64-bit hashes (linear probing, power-of-two
 * capacity, load kept under 0.7). Values are fixed-size byte blocks stored apart from the
 * keys so a probe touches one cache line of keys. Key 0 is reserved for "empty": callers
 * pass hmap_key() of their hash, never 0. No removal: the analyzer only adds.
 *
 * Memory is cap * (8 + vsize) bytes; with n distinct keys cap < 4n.
 */
#ifndef ES_ANALYZER_HMAP_H
#define ES_ANALYZER_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap {
    uint64_t *keys; /* cap slots, 0 = empty */
    uint8_t *vals;  /* cap * vsize bytes, zeroed when a slot is taken */
    size_t vsize;   /* bytes per value (may be 0: a set) */
    size_t cap;     /* power of two */
    size_t n;       /* keys in use */
};

/* A hash made usable as a key (never 0). */
static inline uint64_t hmap_key(uint64_t h)
{
    return h ? h : 0x9e3779b97f4a7c15ull;
}

/* cap_hint: expected keys (0 = small). */
void hmap_init(struct hmap *m, size_t vsize, size_t cap_hint);
void hmap_done(struct hmap *m);
/* Empties the table; shrinks it back to cap_hint's size when it grew far beyond. */
void hmap_reset(struct hmap *m, size_t cap_hint);
/* Value of key, or NULL. Borrowed until the next hmap_put. */
void *hmap_get(const struct hmap *m, uint64_t key);
/* Value of key, added (zeroed, *added = 1) when missing. Borrowed until the next put. */
void *hmap_put(struct hmap *m, uint64_t key, int *added);

/*
 * Zeroed memory for big tables and buffers: from 1 MiB on, an anonymous mapping the kernel
 * may back with 2 MiB pages (one page fault per 2 MiB instead of per 4 KiB: filling a
 * store-sized table otherwise spends much of its time in page faults). Release with the
 * same size. Out of memory ends the program like xmalloc.
 */
void *hmap_big_alloc(size_t size);
void hmap_big_free(void *p, size_t size);

/* A bump allocator for strings copied out of SQLite rows, emptied per process. */
struct arena {
    struct arena_chunk *head; /* newest chunk first */
    size_t used;              /* bytes used in head */
};

void arena_init(struct arena *a);
void arena_done(struct arena *a);
void arena_reset(struct arena *a); /* keeps one chunk */
char *arena_strndup(struct arena *a, const char *s, size_t len);

#endif
