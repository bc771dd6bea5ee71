/*
 * Fuzz target: JSON documents through the file collector (reader + streaming splitter +
 * jansson + envelope). The first byte picks a read size; the rest is read twice, in one
 * go and in reads of that size, and both runs must hand over exactly the same events and
 * rejects: element boundaries must not depend on where the buffer refills fall.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/file.h"

struct fz {
    uint64_t h; /* running hash of everything handed over */
    uint64_t n; /* events + rejects */
};

static void mix(struct fz *f, const char *s)
{
    if (s == NULL)
        s = "\x01";
    f->h = (f->h ^ event_hash(s, strlen(s))) * 1099511628211ULL;
}

static int on_event(void *ctx, struct event *ev)
{
    struct fz *f = ctx;

    mix(f, ev->location);
    mix(f, ev->event_id);
    mix(f, ev->type);
    mix(f, ev->source);
    mix(f, ev->attrs);
    mix(f, ev->data);
    f->n++;
    event_done(ev);
    return ES_OK;
}

static int on_reject(void *ctx, const char *loc, const char *reason, const char *detail,
                     const void *excerpt, size_t len)
{
    struct fz *f = ctx;

    mix(f, loc);
    mix(f, reason);
    mix(f, detail);
    f->h ^= len;
    (void)excerpt;
    f->n++;
    return ES_OK;
}

static void run(const uint8_t *d, size_t n, size_t chunk, struct fz *out)
{
    struct file_ingest fi;

    file_ingest_init(&fi, NULL);
    fi.event_hook = on_event;
    fi.reject_hook = on_reject;
    fi.hook_ctx = out;
    fi.chunk = chunk;
    fi.max_depth = 32;
    fi.max_element = 4096;
    fi.max_line = 4096;
    out->h = 14695981039346656037ULL;
    out->n = 0;
    if (file_ingest_buffer(&fi, d, n, "f", FILE_FMT_JSON) != ES_OK)
        abort();
}

/*
 * The splitter alone over an exact-size copy (so ASan sees any read past the input), with
 * small limits: every item must lie inside the input, and the scan must end.
 */
static void direct(const uint8_t *d, size_t n)
{
    struct file_split sp;
    struct file_split_item it;
    uint8_t *copy = malloc(n ? n : 1);
    size_t pos = 0, steps = 0;
    enum file_split_result r;

    if (copy == NULL)
        abort();
    if (n)
        memcpy(copy, d, n);
    file_split_init(&sp, 8, 64);
    while ((r = file_split_next(&sp, copy, &pos, n, 1, &it)) != FILE_SPLIT_END) {
        if (r == FILE_SPLIT_MORE || it.start > n || it.len > n - it.start || ++steps > n + 2)
            abort();
        (void)event_hash(copy + it.start, it.len);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz a, b;

    if (size == 0) {
        run(data, 0, 0, &a);
        return 0;
    }
    direct(data + 1, size - 1);
    run(data + 1, size - 1, 0, &a);
    run(data + 1, size - 1, 1 + data[0] % 13, &b);
    if (a.h != b.h || a.n != b.n)
        abort();
    return 0;
}
