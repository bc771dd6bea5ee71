/* Open-addressing hash table and string arena for the analyzer's streaming state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "analyzer/hmap.h"
#include "core/xmalloc.h"

#define BIG_MIN ((size_t)1 << 20)
#define BIG_PAGE ((size_t)2 << 20)

/* Bytes actually mapped for size: whole 2 MiB pages. */
static size_t big_len(size_t size)
{
    return (size + BIG_PAGE - 1) & ~(BIG_PAGE - 1);
}

void *hmap_big_alloc(size_t size)
{
    size_t len, head;
    char *p;

    if (size < BIG_MIN)
        return xcalloc(1, size);
    len = big_len(size);
    /* Map one page more, then trim to a 2 MiB boundary: only aligned pages can be huge. */
    p = mmap(NULL, len + BIG_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "eventscope: out of memory (mapping %zu bytes)\n", size);
        abort();
    }
    head = (BIG_PAGE - ((uintptr_t)p & (BIG_PAGE - 1))) & (BIG_PAGE - 1);
    if (head > 0)
        munmap(p, head);
    if (BIG_PAGE - head > 0)
        munmap(p + head + len, BIG_PAGE - head);
    p += head;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, len, MADV_HUGEPAGE);
#endif
    return p;
}

void hmap_big_free(void *p, size_t size)
{
    if (p == NULL)
        return;
    if (size < BIG_MIN)
        free(p);
    else
        munmap(p, big_len(size));
}

static size_t cap_for(size_t hint)
{
    size_t cap = 16;

    while (cap < 64 && cap * 7 / 10 < hint)
        cap <<= 1;
    while (cap * 7 / 10 < hint)
        cap <<= 1;
    return cap;
}

void hmap_init(struct hmap *m, size_t vsize, size_t cap_hint)
{
    m->vsize = vsize;
    m->cap = cap_for(cap_hint);
    m->n = 0;
    m->keys = hmap_big_alloc(m->cap * sizeof *m->keys);
    m->vals = vsize ? hmap_big_alloc(m->cap * vsize) : NULL;
}

void hmap_done(struct hmap *m)
{
    hmap_big_free(m->keys, m->cap * sizeof *m->keys);
    hmap_big_free(m->vals, m->cap * m->vsize);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->n = 0;
}

void hmap_reset(struct hmap *m, size_t cap_hint)
{
    size_t want = cap_for(cap_hint);

    if (m->cap > 4 * want && m->cap > 1024) {
        size_t vsize = m->vsize;
        hmap_done(m);
        hmap_init(m, vsize, cap_hint);
        return;
    }
    if (m->n == 0)
        return;
    memset(m->keys, 0, m->cap * sizeof *m->keys);
    if (m->vals)
        memset(m->vals, 0, m->cap * m->vsize);
    m->n = 0;
}

static size_t slot_of(uint64_t key, size_t cap)
{
    /* Fibonacci mixing: the low bits of FNV hashes are fine, but keys built by xor are not. */
    return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

void *hmap_get(const struct hmap *m, uint64_t key)
{
    size_t i = slot_of(key, m->cap);

    for (;;) {
        if (m->keys[i] == key)
            return m->vals ? m->vals + i * m->vsize : (void *)&m->keys[i];
        if (m->keys[i] == 0)
            return NULL;
        i = (i + 1) & (m->cap - 1);
    }
}

static void grow(struct hmap *m)
{
    size_t cap = m->cap * 2, i;
    uint64_t *keys = hmap_big_alloc(cap * sizeof *keys);
    uint8_t *vals = m->vsize ? hmap_big_alloc(cap * m->vsize) : NULL;

    for (i = 0; i < m->cap; i++) {
        size_t j;
        if (m->keys[i] == 0)
            continue;
        j = slot_of(m->keys[i], cap);
        while (keys[j] != 0)
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        if (m->vsize)
            memcpy(vals + j * m->vsize, m->vals + i * m->vsize, m->vsize);
    }
    hmap_big_free(m->keys, m->cap * sizeof *m->keys);
    hmap_big_free(m->vals, m->cap * m->vsize);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
}

void *hmap_put(struct hmap *m, uint64_t key, int *added)
{
    size_t i;

    if ((m->n + 1) * 10 > m->cap * 7)
        grow(m);
    i = slot_of(key, m->cap);
    for (;;) {
        if (m->keys[i] == key) {
            if (added)
                *added = 0;
            return m->vals ? m->vals + i * m->vsize : (void *)&m->keys[i];
        }
        if (m->keys[i] == 0)
            break;
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = key;
    m->n++;
    if (added)
        *added = 1;
    return m->vals ? m->vals + i * m->vsize : (void *)&m->keys[i];
}

/* ---- arena ---------------------------------------------------------------- */

struct arena_chunk {
    struct arena_chunk *next;
    size_t size; /* bytes in data */
    char data[];
};

#define ARENA_CHUNK 65536

void arena_init(struct arena *a)
{
    a->head = NULL;
    a->used = 0;
}

void arena_done(struct arena *a)
{
    while (a->head) {
        struct arena_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
    a->used = 0;
}

void arena_reset(struct arena *a)
{
    struct arena_chunk *keep = NULL;

    while (a->head) {
        struct arena_chunk *next = a->head->next;
        if (next == NULL && a->head->size == ARENA_CHUNK)
            keep = a->head;
        else
            free(a->head);
        a->head = next;
    }
    a->head = keep;
    if (keep)
        keep->next = NULL;
    a->used = 0;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p;

    if (a->head == NULL || a->head->size - a->used < len + 1) {
        size_t size = len + 1 > ARENA_CHUNK ? len + 1 : ARENA_CHUNK;
        struct arena_chunk *c = xmalloc(sizeof *c + size);
        c->size = size;
        if (a->head && size > ARENA_CHUNK) {
            /* A big string gets its own chunk behind the current one. */
            c->next = a->head->next;
            a->head->next = c;
            memcpy(c->data, s, len);
            c->data[len] = '\0';
            return c->data;
        }
        c->next = a->head;
        a->head = c;
        a->used = 0;
    }
    p = a->head->data + a->used;
    memcpy(p, s, len);
    p[len] = '\0';
    a->used += len + 1;
    return p;
}
