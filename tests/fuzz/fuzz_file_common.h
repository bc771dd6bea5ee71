/*
 * Shared by the file collector's fuzz targets (fuzz_applog.c, fuzz_jsonsplit.c,
 * fuzz_logfmt.c). The first input byte picks a read size; the rest is read twice through
 * file_ingest_buffer, in one go and in reads of that size, and both runs must hand over
 * exactly the same events and rejects: nothing may depend on where buffer refills fall.
 * Each target defines FUZZ_FILE_FORMAT and a direct(d, n) check of its parser alone.
 */
#ifndef ES_FUZZ_FILE_COMMON_H
#define ES_FUZZ_FILE_COMMON_H

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
    if (file_ingest_buffer(&fi, d, n, "f", FUZZ_FILE_FORMAT) != ES_OK)
        abort();
}

static void direct(const uint8_t *d, size_t n);

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

#endif
