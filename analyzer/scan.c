/*
 * Reading the store for the analyzer. Processes (correlation IDs) must be analyzed in
 * correlation-ID order, each with its observations in seq order. Walking the
 * events_correlation index does that, at one table lookup per row: fine when consecutive
 * processes lie near each other in the table (IDs that follow the order of arrival: the walk
 * sweeps the table and finds its pages in SQLite's cache), ruinous when IDs are random
 * (UUIDs): every process is scattered over the store and nearly every row costs a page read
 * (pread) of its own. So:
 *
 *   0. A few hundred random rows are sampled (rowid lookups); for each, the index gives the
 *      next process's first row. When at most a fifth of those lie farther away than the
 *      cache covers, the index is walked (walk_index). Otherwise:
 *   1. the samples estimate how many bytes the compact records below take. When they exceed
 *      the memory budget (default 192 MiB), the correlation-ID range is cut into K buckets of
 *      about equal size at the samples' quantiles: bucket 0 holds the smallest IDs, bucket 1
 *      the next, and so on.
 *   2. One sequential pass over the events table (rowid order: each page read once) turns
 *      every row into a compact record (attrs parsed down to the few members the checks
 *      read; type, source and channel replaced by numbers) and appends it to its bucket:
 *      bucket 0 in memory, the others into unlinked temporary files ($TMPDIR, else /tmp).
 *      Rows without correlation ID are processes of their own that sort before all others:
 *      they are analyzed on the spot.
 *   3. Each bucket in turn is read into memory, its records grouped by correlation ID (a
 *      hash table; records arrive in seq order), the groups sorted by ID (SQLite's BINARY
 *      order: memcmp, then length; TEXT before BLOB), and each group analyzed as a process.
 *
 * Either way the processes, their observations and the order in which they are analyzed
 * are those of the index walk, so the findings are the same (tests/unit/test_analyzer_scan.c).
 * Memory: one bucket (about the budget) plus the largest process, whatever the store's size.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/ctx.h"
#include "core/event.h"

#define SCAN_BUDGET_DEFAULT ((size_t)192 << 20)
#define SCAN_MAX_BUCKETS 256
#define SCAN_CHUNK ((size_t)4 << 20)
#define SCAN_FILE_BUF ((size_t)1 << 20) /* write buffer per spilled bucket, at most */
#define SCAN_REC_OVERHEAD                                                                          \
    24 /* per record while grouped: record pointer, link, share of a group                         \
        */
#define AIX_UNSET (UINT32_MAX - 1)

/* Record flags. */
#define F_TIME 0x001u
#define F_OBSERVED 0x002u
#define F_OFFSET 0x004u
#define F_PARTITION 0x008u
#define F_PAYLOAD 0x010u
#define F_TRACE 0x020u
#define F_CONSUMER 0x040u
#define F_REDELIVERED 0x080u
#define F_CORR_BLOB 0x100u
#define F_DIR_SHIFT 9

static size_t scan_budget;
static enum analyzer_read scan_mode;

void analyzer_set_memory_budget(size_t bytes)
{
    scan_budget = bytes;
}

void analyzer_set_read_mode(enum analyzer_read mode)
{
    scan_mode = mode;
}

/* ==== growable byte buffer and the record encoding ============================ */

struct wbuf {
    unsigned char *p;
    size_t n, cap;
};

static void wb_need(struct wbuf *w, size_t more)
{
    if (w->n + more > w->cap) {
        size_t cap = w->cap ? w->cap : 512;
        while (cap < w->n + more)
            cap *= 2;
        w->p = xrealloc(w->p, cap);
        w->cap = cap;
    }
}

static void put_u(struct wbuf *w, uint64_t v)
{
    wb_need(w, 10);
    while (v >= 0x80) {
        w->p[w->n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    w->p[w->n++] = (unsigned char)v;
}

static uint64_t zz(int64_t v)
{
    return v < 0 ? ~((uint64_t)v << 1) : (uint64_t)v << 1;
}

static int64_t unzz(uint64_t u)
{
    return (u & 1) ? (int64_t) ~(u >> 1) : (int64_t)(u >> 1);
}

static void put_s(struct wbuf *w, int64_t v)
{
    put_u(w, zz(v));
}

static void put_8(struct wbuf *w, uint64_t v)
{
    wb_need(w, 8);
    memcpy(w->p + w->n, &v, 8);
    w->n += 8;
}

/* A string: 0 for NULL, else length + 1, the bytes and a NUL (so it is read in place). */
static void put_str(struct wbuf *w, const void *s, size_t len)
{
    if (s == NULL) {
        put_u(w, 0);
        return;
    }
    put_u(w, (uint64_t)len + 1);
    wb_need(w, len + 1);
    memcpy(w->p + w->n, s, len);
    w->p[w->n + len] = '\0';
    w->n += len + 1;
}

static uint64_t get_u(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    uint64_t v = 0;
    int sh = 0;

    for (;;) {
        unsigned char b = *p++;
        v |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80))
            break;
        sh += 7;
    }
    *pp = p;
    return v;
}

static uint64_t get_8(const unsigned char **pp)
{
    uint64_t v;
    memcpy(&v, *pp, 8);
    *pp += 8;
    return v;
}

static const char *get_str(const unsigned char **pp, size_t *len)
{
    uint64_t l = get_u(pp);
    const char *s;

    if (l == 0) {
        if (len)
            *len = 0;
        return NULL;
    }
    s = (const char *)*pp;
    *pp += l;
    if (len)
        *len = (size_t)(l - 1);
    return s;
}

static uint32_t rec_len(const unsigned char *r)
{
    uint32_t n;
    memcpy(&n, r, 4);
    return n;
}

/*
 * A hash for the scan's own tables (names, grouping), 8 bytes at a time; every hit is
 * confirmed by comparing the bytes, so its quality only affects speed.
 */
static uint64_t fast_hash(const unsigned char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n, w;

    while (n >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return h;
}

/* ==== names: type, source and channel stored once, records hold their number ===== */

struct name_tab {
    struct hmap map; /* hash of the bytes -> uint32 index */
    char **names;    /* owned, NUL-terminated copies */
    size_t *lens;
    uint32_t *aix; /* analysis index (actx.types, .sources, .channels) or AIX_UNSET */
    size_t n, cap;
};

static void name_tab_init(struct name_tab *t)
{
    memset(t, 0, sizeof *t);
    hmap_init(&t->map, sizeof(uint32_t), 64);
}

static void name_tab_done(struct name_tab *t)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        free(t->names[i]);
    free(t->names);
    free(t->lens);
    free(t->aix);
    hmap_done(&t->map);
    memset(t, 0, sizeof *t);
}

/* 0 NULL, 1 the string follows (a hash collision with another name), else index + 2. */
static void put_name(struct name_tab *t, struct wbuf *w, const unsigned char *s, size_t len)
{
    int added;
    uint32_t *v;

    if (s == NULL) {
        put_u(w, 0);
        return;
    }
    v = hmap_put(&t->map, hmap_key(fast_hash(s, len)), &added);
    if (added) {
        if (t->n == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 64;
            t->names = xreallocarray(t->names, t->cap, sizeof *t->names);
            t->lens = xreallocarray(t->lens, t->cap, sizeof *t->lens);
            t->aix = xreallocarray(t->aix, t->cap, sizeof *t->aix);
        }
        t->names[t->n] = xmalloc(len + 1);
        memcpy(t->names[t->n], s, len);
        t->names[t->n][len] = '\0';
        t->lens[t->n] = len;
        t->aix[t->n] = AIX_UNSET;
        *v = (uint32_t)t->n++;
    } else if (t->lens[*v] != len || memcmp(t->names[*v], s, len) != 0) {
        put_u(w, 1);
        put_str(w, s, len);
        return;
    }
    put_u(w, (uint64_t)*v + 2);
}

struct bucket {
    struct chunk *head, *tail; /* in memory (f == NULL) */
    FILE *f;                   /* spilled: an unlinked temporary file */
    int loaded;                /* head is the spilled records read back (one chunk) */
    uint64_t bytes, recs;
};

struct chunk {
    struct chunk *next;
    size_t used, size;
    unsigned char data[];
};

struct scan {
    struct name_tab types, sources, channels;
    struct wbuf rec;
    size_t budget;
    enum analyzer_read mode;
    int walk;            /* walk the correlation index instead of the sequential pass */
    struct chunk *spare; /* a read-back bucket's memory, reused by the next one */
    /* buckets and the correlation IDs where buckets 1..nb-1 start */
    struct bucket *b;
    size_t nb;
    unsigned char **bound;
    size_t *boundlen;
    unsigned char *boundcls; /* 1 TEXT, 2 BLOB */
};

/* ==== attrs: the few members the checks read, without a full JSON parse ======= */

static size_t skip_ws(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* s[i] is '"': index after the closing quote, or n when unterminated. */
static size_t skip_string(const char *s, size_t i, size_t n)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

/* Index after the JSON value starting at s[i] (objects and arrays skipped whole). */
static size_t skip_value(const char *s, size_t i, size_t n)
{
    int depth = 0;

    if (i >= n)
        return n;
    if (s[i] == '"')
        return skip_string(s, i, n);
    if (s[i] != '{' && s[i] != '[') {
        while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']')
            i++;
        return i;
    }
    for (; i < n; i++) {
        if (s[i] == '"') {
            i = skip_string(s, i, n) - 1;
        } else if (s[i] == '{' || s[i] == '[') {
            depth++;
        } else if (s[i] == '}' || s[i] == ']') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return n;
}

static int key_is(const char *k, size_t klen, const char *want)
{
    return strlen(want) == klen && memcmp(k, want, klen) == 0;
}

/* A JSON number or digit string to int64; -1 when neither. */
static int64_t value_int(const char *v, size_t len)
{
    int64_t x = 0;
    size_t i = 0;

    if (len >= 2 && v[0] == '"')
        v++, len -= 2;
    if (len == 0 || len > 18)
        return -1;
    for (i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    return x;
}

static int value_true(const char *v, size_t len)
{
    return (len == 4 && memcmp(v, "true", 4) == 0) || (len == 6 && memcmp(v, "\"true\"", 6) == 0) ||
           (len == 1 && v[0] == '1') || (len == 3 && memcmp(v, "\"1\"", 3) == 0);
}

static void read_attrs(struct obs *o, const char *s, size_t n)
{
    size_t i = skip_ws(s, 0, n);

    if (i >= n || s[i] != '{')
        return;
    i++;
    for (;;) {
        size_t k0, k1, v0, v1;
        i = skip_ws(s, i, n);
        if (i >= n || s[i] != '"')
            return;
        k0 = i + 1;
        i = skip_string(s, i, n);
        if (i >= n)
            return;
        k1 = i - 1;
        i = skip_ws(s, i, n);
        if (i >= n || s[i] != ':')
            return;
        v0 = skip_ws(s, i + 1, n);
        v1 = skip_value(s, v0, n);
        if (v1 > n || v1 <= v0)
            return;
        {
            const char *k = s + k0, *v = s + v0;
            size_t klen = k1 - k0, vlen = v1 - v0;
            if (key_is(k, klen, "redelivered") || key_is(k, klen, "dup") ||
                key_is(k, klen, "redelivery"))
                o->redelivered |= (unsigned char)value_true(v, vlen);
            else if (key_is(k, klen, "offset"))
                o->offset = value_int(v, vlen);
            else if (key_is(k, klen, "partition"))
                o->partition = value_int(v, vlen);
            else if (key_is(k, klen, "consumer") && vlen > 2)
                o->consumerh = hmap_key(event_hash(v, vlen));
            else if (key_is(k, klen, "traceparent") && vlen >= 2 + 3 + 32 && v[0] == '"') {
                /* W3C Trace Context: version "-" trace-id (32 hex) "-" parent-id "-" flags */
                const char *tid = v + 1 + 3;
                if (v[3] == '-' && (vlen < 2 + 3 + 33 || tid[32] == '-'))
                    o->traceh = hmap_key(event_hash(tid, 32));
            }
        }
        i = skip_ws(s, v1, n);
        if (i >= n || s[i] != ',')
            return;
        i++;
    }
}

/* ==== row -> record ========================================================== */

static void put_col(struct wbuf *w, sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    put_str(w, t, t ? (size_t)sqlite3_column_bytes(s, col) : 0);
}

static void put_name_col(struct name_tab *t, struct wbuf *w, sqlite3_stmt *s, int col)
{
    const unsigned char *v = sqlite3_column_text(s, col);
    put_name(t, w, v, v ? (size_t)sqlite3_column_bytes(s, col) : 0);
}

/*
 * Encodes the current row of s (ANALYZER_ROW_COLUMNS) into sc->rec:
 *   u32 length of the rest | seq | correlation_id | flags | origin | [time_us] [observed_us]
 *   [offset] [partition] [payload_hash] [traceh] [consumerh] | type source channel (names) |
 *   event_id subject partition_key sequence time_raw causation_id vclock (strings)
 * Returns 1 when the row has a correlation ID.
 */
static int encode_row(struct scan *sc, sqlite3_stmt *s)
{
    struct wbuf *w = &sc->rec;
    struct obs tmp;
    const unsigned char *corr, *dir;
    unsigned flags = 0, d = OBS_LOG;
    uint32_t len;

    memset(&tmp, 0, sizeof tmp);
    tmp.offset = tmp.partition = -1;
    if (sqlite3_column_type(s, 17) != SQLITE_NULL) {
        const char *attrs = (const char *)sqlite3_column_text(s, 17);
        if (attrs)
            read_attrs(&tmp, attrs, (size_t)sqlite3_column_bytes(s, 17));
    }
    dir = sqlite3_column_text(s, 14);
    if (dir && strcmp((const char *)dir, "publish") == 0)
        d = OBS_PUBLISH;
    else if (dir && strcmp((const char *)dir, "deliver") == 0)
        d = OBS_DELIVER;
    if (sqlite3_column_type(s, 8) != SQLITE_NULL)
        flags |= F_TIME;
    if (sqlite3_column_type(s, 10) != SQLITE_NULL)
        flags |= F_OBSERVED;
    if (tmp.offset != -1)
        flags |= F_OFFSET;
    if (tmp.partition != -1)
        flags |= F_PARTITION;
    if (sqlite3_column_int64(s, 16) != 0)
        flags |= F_PAYLOAD;
    if (tmp.traceh)
        flags |= F_TRACE;
    if (tmp.consumerh)
        flags |= F_CONSUMER;
    if (tmp.redelivered)
        flags |= F_REDELIVERED;
    if (sqlite3_column_type(s, 11) == SQLITE_BLOB)
        flags |= F_CORR_BLOB;
    flags |= d << F_DIR_SHIFT;

    w->n = 0;
    wb_need(w, 4);
    w->n = 4;
    put_s(w, sqlite3_column_int64(s, 0));
    corr = sqlite3_column_text(s, 11);
    put_str(w, corr, corr ? (size_t)sqlite3_column_bytes(s, 11) : 0);
    put_u(w, flags);
    put_s(w, sqlite3_column_int64(s, 1));
    if (flags & F_TIME)
        put_s(w, sqlite3_column_int64(s, 8));
    if (flags & F_OBSERVED)
        put_s(w, sqlite3_column_int64(s, 10));
    if (flags & F_OFFSET)
        put_s(w, tmp.offset);
    if (flags & F_PARTITION)
        put_s(w, tmp.partition);
    if (flags & F_PAYLOAD)
        put_8(w, (uint64_t)sqlite3_column_int64(s, 16));
    if (flags & F_TRACE)
        put_8(w, tmp.traceh);
    if (flags & F_CONSUMER)
        put_8(w, tmp.consumerh);
    put_name_col(&sc->types, w, s, 3);
    put_name_col(&sc->sources, w, s, 4);
    put_name_col(&sc->channels, w, s, 13);
    put_col(w, s, 2);  /* event_id */
    put_col(w, s, 5);  /* subject */
    put_col(w, s, 6);  /* partition_key */
    put_col(w, s, 7);  /* sequence */
    put_col(w, s, 9);  /* time_raw */
    put_col(w, s, 12); /* causation_id */
    put_col(w, s, 15); /* vclock */
    len = (uint32_t)(w->n - 4);
    memcpy(w->p, &len, 4);
    return corr != NULL;
}

/* ==== record -> observation of a process ======================================= */

static uint64_t str_hash(const char *s)
{
    return hmap_key(event_hash(s, strlen(s)));
}

static uint32_t intern_type(struct actx *a, const char *s)
{
    int added;
    uint32_t *ix = hmap_put(&a->type_map, str_hash(s), &added);

    if (added) {
        struct type_stat *t = ACTX_PUSH(a->types, a->ntypes, a->captypes);
        memset(t, 0, sizeof *t);
        t->name = xstrdup(s);
        t->naming = -1;
        *ix = (uint32_t)(a->ntypes - 1);
    }
    return *ix;
}

static uint32_t intern_source(struct actx *a, const char *s)
{
    int added;
    uint32_t *ix = hmap_put(&a->src_map, s ? str_hash(s) : 1, &added);

    if (added) {
        struct source_stat *t = ACTX_PUSH(a->sources, a->nsources, a->capsources);
        memset(t, 0, sizeof *t);
        t->name = xstrdup(s);
        *ix = (uint32_t)(a->nsources - 1);
    }
    return *ix;
}

static uint32_t intern_channel(struct actx *a, const char *s)
{
    int added;
    uint32_t *ix = hmap_put(&a->chan_map, str_hash(s), &added);

    if (added) {
        struct channel_stat *t = ACTX_PUSH(a->channels, a->nchannels, a->capchannels);
        memset(t, 0, sizeof *t);
        t->name = xstrdup(s);
        t->min_pub_pos = INT64_MAX;
        t->max_delivered_pub_pos = INT64_MIN;
        *ix = (uint32_t)(a->nchannels - 1);
    }
    return *ix;
}

enum name_kind { NAME_TYPE, NAME_SOURCE, NAME_CHANNEL };

/* The analysis index of a name, interned in the order the analysis meets it. */
static uint32_t name_ix(struct actx *a, enum name_kind k, const char *s)
{
    switch (k) {
    case NAME_TYPE:
        return s && s[0] ? intern_type(a, s) : NONE_IX;
    case NAME_SOURCE:
        return intern_source(a, s && s[0] ? s : NULL);
    case NAME_CHANNEL:
        return s && s[0] ? intern_channel(a, s) : NONE_IX;
    }
    return NONE_IX;
}

static void get_name(struct actx *a, struct name_tab *t, enum name_kind k, const unsigned char **q,
                     const char **name, uint32_t *ix)
{
    uint64_t v = get_u(q);

    if (v == 0) {
        *name = NULL;
        *ix = name_ix(a, k, NULL);
    } else if (v == 1) {
        *name = get_str(q, NULL);
        *ix = name_ix(a, k, *name);
    } else {
        size_t i = (size_t)(v - 2);
        *name = t->names[i];
        if (t->aix[i] == AIX_UNSET)
            t->aix[i] = name_ix(a, k, t->names[i]);
        *ix = t->aix[i];
    }
}

/* Appends the observation in record r (which must outlive the process) to p. */
static void proc_push(struct actx *a, struct proc *p, const unsigned char *r)
{
    struct scan *sc = a->scan;
    const unsigned char *q = r + 4;
    struct obs *o;
    uint64_t fl;

    if (p->nobs == p->capobs) {
        p->capobs = p->capobs ? 2 * p->capobs : 64;
        p->obs = xreallocarray(p->obs, p->capobs, sizeof *p->obs);
    }
    o = &p->obs[p->nobs++];
    memset(o, 0, sizeof *o);
    o->seq = unzz(get_u(&q));
    o->correlation_id = get_str(&q, NULL);
    fl = get_u(&q);
    o->origin = unzz(get_u(&q));
    o->time_us = (fl & F_TIME) ? unzz(get_u(&q)) : ES_TIME_NONE;
    o->observed_us = (fl & F_OBSERVED) ? unzz(get_u(&q)) : ES_TIME_NONE;
    o->offset = (fl & F_OFFSET) ? unzz(get_u(&q)) : -1;
    o->partition = (fl & F_PARTITION) ? unzz(get_u(&q)) : -1;
    o->payload_hash = (fl & F_PAYLOAD) ? get_8(&q) : 0;
    o->traceh = (fl & F_TRACE) ? get_8(&q) : 0;
    o->consumerh = (fl & F_CONSUMER) ? get_8(&q) : 0;
    o->redelivered = (fl & F_REDELIVERED) ? 1 : 0;
    o->dir = (unsigned char)((fl >> F_DIR_SHIFT) & 3);
    get_name(a, &sc->types, NAME_TYPE, &q, &o->type, &o->type_ix);
    get_name(a, &sc->sources, NAME_SOURCE, &q, &o->source, &o->src_ix);
    get_name(a, &sc->channels, NAME_CHANNEL, &q, &o->channel, &o->chan_ix);
    o->event_id = get_str(&q, NULL);
    o->subject = get_str(&q, NULL);
    o->partition_key = get_str(&q, NULL);
    o->sequence = get_str(&q, NULL);
    o->time_raw = get_str(&q, NULL);
    o->causation_id = get_str(&q, NULL);
    o->vclock = get_str(&q, NULL);

    if (p->nobs == 1)
        p->corr = o->correlation_id;
    if (o->time_us != ES_TIME_NONE && o->time_us > a->now)
        a->now = o->time_us;
    if (o->observed_us != ES_TIME_NONE && o->observed_us > a->now)
        a->now = o->observed_us;
    if (o->event_id && o->event_id[0])
        o->idh = str_hash(o->event_id);
    if (o->event_id && !o->event_id[0])
        o->event_id = NULL;
    if (o->sequence) {
        const char *c = o->sequence;
        uint64_t v = 0;
        size_t n = 0;
        while (*c >= '0' && *c <= '9' && n < 19)
            v = v * 10 + (uint64_t)(*c++ - '0'), n++;
        if (n > 0 && *c == '\0') {
            o->seqnum = v;
            o->has_seqnum = 1;
        }
    }
    if (o->causation_id && !o->causation_id[0])
        o->causation_id = NULL;
    o->node = -1;
    o->next = -1;
}

void proc_add_row(struct actx *a, struct proc *p, sqlite3_stmt *stmt)
{
    struct scan *sc = a->scan;
    const unsigned char *r;

    encode_row(sc, stmt);
    r = (const unsigned char *)arena_strndup(&p->arena, (const char *)sc->rec.p, sc->rec.n);
    proc_push(a, p, r);
}

/* ==== set-up ================================================================== */

struct scan *scan_new(void)
{
    struct scan *sc = xcalloc(1, sizeof *sc);

    name_tab_init(&sc->types);
    name_tab_init(&sc->sources);
    name_tab_init(&sc->channels);
    sc->budget = scan_budget ? scan_budget : SCAN_BUDGET_DEFAULT;
    sc->mode = scan_mode;
    return sc;
}

static void chunks_free(struct bucket *b)
{
    while (b->head) {
        struct chunk *next = b->head->next;
        hmap_big_free(b->head, sizeof *b->head + b->head->size);
        b->head = next;
    }
    b->tail = NULL;
}

void scan_free(struct scan *sc)
{
    size_t i;

    if (sc == NULL)
        return;
    name_tab_done(&sc->types);
    name_tab_done(&sc->sources);
    name_tab_done(&sc->channels);
    free(sc->rec.p);
    if (sc->spare)
        hmap_big_free(sc->spare, sizeof *sc->spare + sc->spare->size);
    for (i = 0; i < sc->nb; i++) {
        chunks_free(&sc->b[i]);
        if (sc->b[i].f)
            fclose(sc->b[i].f);
    }
    free(sc->b);
    for (i = 0; i + 1 < sc->nb; i++)
        free(sc->bound[i]);
    free(sc->bound);
    free(sc->boundlen);
    free(sc->boundcls);
    free(sc);
}

/* Key order of the correlation index: TEXT before BLOB, then memcmp, then length. */
static int cmp_key(int c1, const unsigned char *s1, size_t l1, int c2, const unsigned char *s2,
                   size_t l2)
{
    size_t n = l1 < l2 ? l1 : l2;
    int d;

    if (c1 != c2)
        return c1 < c2 ? -1 : 1;
    d = n ? memcmp(s1, s2, n) : 0;
    if (d != 0)
        return d;
    return (l1 > l2) - (l1 < l2);
}

struct sample {
    unsigned char *key; /* owned */
    size_t len;
    int cls;
    int64_t seq;
    uint64_t weight;
};

static int cmp_sample(const void *x, const void *y)
{
    const struct sample *a = x, *b = y;
    return cmp_key(a->cls, a->key, a->len, b->cls, b->key, b->len);
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void samples_free(struct sample *smp, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(smp[i].key);
    free(smp);
}

/* Draws rows at random seq values until *n samples are held (or want tries were made). */
static int sample_rows(struct actx *a, struct scan *sc, sqlite3_stmt *s, struct sample **smp,
                       size_t *n, size_t want, int64_t lo, uint64_t rows, uint64_t *rng)
{
    while (*n < want) {
        struct sample *m;
        int rc;
        sqlite3_bind_int64(s, 1, lo + (int64_t)(xorshift(rng) % rows));
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            snprintf(a->err, a->errlen, "cannot sample events: %s", sqlite3_errmsg(a->db));
            sqlite3_reset(s);
            return ES_ESTORE;
        }
        *smp = xreallocarray(*smp, *n + 1, sizeof **smp);
        m = &(*smp)[(*n)++];
        memset(m, 0, sizeof *m);
        if (rc == SQLITE_ROW && encode_row(sc, s)) {
            const unsigned char *corr = sqlite3_column_text(s, 11);
            m->len = (size_t)sqlite3_column_bytes(s, 11);
            m->key = xmalloc(m->len + 1);
            memcpy(m->key, corr, m->len);
            m->cls = sqlite3_column_type(s, 11) == SQLITE_BLOB ? 2 : 1;
            m->weight = sc->rec.n + SCAN_REC_OVERHEAD;
            m->seq = sqlite3_column_int64(s, 0);
        }
        sqlite3_reset(s);
    }
    return ES_OK;
}

static int pragma_int(sqlite3 *db, const char *sql, int64_t *v)
{
    sqlite3_stmt *s;
    int ok = 0;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(s) == SQLITE_ROW) {
        *v = sqlite3_column_int64(s, 0);
        ok = 1;
    }
    sqlite3_finalize(s);
    return ok;
}

static int bind_key(sqlite3_stmt *q, const struct sample *m)
{
    if (m->cls == 2)
        return sqlite3_bind_blob(q, 1, m->key, (int)m->len, SQLITE_STATIC);
    return sqlite3_bind_text(q, 1, (const char *)m->key, (int)m->len, SQLITE_STATIC);
}

/*
 * Share of the sampled rows for which the next process in the correlation index starts more
 * than window rows away (in seq). Where processes follow each other in the table (IDs that
 * follow the order of arrival), an index walk sweeps the table and finds most pages in
 * SQLite's cache; where they are scattered (random IDs such as UUIDs), nearly every row is a
 * page read. -1 on error.
 */
static double far_share(struct actx *a, const struct sample *smp, size_t n, int64_t window)
{
    sqlite3_stmt *next = NULL;
    size_t i, tried = 0, far = 0;
    double share = -1;

    if (sqlite3_prepare_v2(a->db,
                           "SELECT seq FROM events WHERE correlation_id > ?1"
                           " ORDER BY correlation_id, seq LIMIT 1",
                           -1, &next, NULL) != SQLITE_OK)
        goto out;
    for (i = 0; i < n; i++) {
        const struct sample *m = &smp[i];
        int rc;
        if (m->key == NULL)
            continue;
        bind_key(next, m);
        rc = sqlite3_step(next);
        if (rc == SQLITE_ROW) {
            int64_t d = sqlite3_column_int64(next, 0) - m->seq;
            tried++;
            if (d > window || d < -window)
                far++;
        } else if (rc != SQLITE_DONE) {
            goto out;
        }
        sqlite3_reset(next);
    }
    share = tried ? (double)far / (double)tried : 0;
out:
    if (share < 0)
        snprintf(a->err, a->errlen, "cannot sample the correlation index: %s",
                 sqlite3_errmsg(a->db));
    sqlite3_finalize(next);
    return share;
}

/*
 * Rows an index walk may jump and still find its page in SQLite's cache: half the cached
 * pages' worth of rows (the store's pages include its indexes: an underestimate).
 */
static int64_t cached_rows(sqlite3 *db, uint64_t rows)
{
    int64_t cache = 0, pages = 0, psize = 4096, cpages;

    if (!pragma_int(db, "PRAGMA cache_size", &cache) ||
        !pragma_int(db, "PRAGMA page_count", &pages) ||
        !pragma_int(db, "PRAGMA page_size", &psize) || pages <= 0 || psize <= 0)
        return 0;
    cpages = cache < 0 ? -cache * 1024 / psize : cache;
    if (cpages >= pages)
        return (int64_t)rows;
    return (int64_t)((double)rows * (double)cpages / (double)pages / 2);
}

/*
 * Samples rows, estimates the size of their records and, when they exceed the budget,
 * cuts the correlation IDs into buckets of about equal size. One bucket when all fits.
 */
static int plan_buckets(struct actx *a, struct scan *sc)
{
    sqlite3_stmt *s = NULL;
    struct sample *smp = NULL;
    size_t nsmp = 0, nb = 1, i, j;
    int64_t lo = 0, hi = -1;
    uint64_t rows, sum = 0, rng = 0x2545f4914f6cdd1dull, need, wsum, cum;
    int rc;

    if (sqlite3_prepare_v2(a->db, "SELECT min(seq), max(seq) FROM events", -1, &s, NULL) !=
        SQLITE_OK) {
        snprintf(a->err, a->errlen, "cannot read events: %s", sqlite3_errmsg(a->db));
        return ES_ESTORE;
    }
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        lo = sqlite3_column_int64(s, 0);
        hi = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    s = NULL;
    rows = hi >= lo ? (uint64_t)(hi - lo) + 1 : 0;
    sc->b = xcalloc(SCAN_MAX_BUCKETS, sizeof *sc->b);
    sc->nb = 1;
    sc->walk = sc->mode == ANALYZER_READ_INDEX || (sc->mode == ANALYZER_READ_AUTO && rows < 4096);
    /* Every record is at least ~64 bytes and at most a few KiB: small stores need no guess. */
    if (sc->walk || rows < 4096 || (sc->mode == ANALYZER_READ_SCAN && rows * 64 < sc->budget / 16))
        return ES_OK;
    if (sqlite3_prepare_v2(a->db,
                           "SELECT " ANALYZER_ROW_COLUMNS " FROM events WHERE seq >= ?1"
                           " ORDER BY seq LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK) {
        snprintf(a->err, a->errlen, "cannot sample events: %s", sqlite3_errmsg(a->db));
        return ES_ESTORE;
    }
    rc = sample_rows(a, sc, s, &smp, &nsmp, 256, lo, rows, &rng);
    if (rc != ES_OK)
        goto out;
    if (sc->mode == ANALYZER_READ_AUTO) {
        /* Processes that follow each other in the table: the walk needs no buckets. */
        double far = far_share(a, smp, nsmp, cached_rows(a->db, rows));
        if (far < 0) {
            rc = ES_ESTORE;
            goto out;
        }
        if (far <= 0.2) {
            sc->walk = 1;
            goto out;
        }
    }
    for (i = 0; i < nsmp; i++)
        sum += smp[i].weight;
    /* Estimated bytes of all records, with a tenth more for the estimate's error. */
    need = (uint64_t)((double)sum / (double)nsmp * (double)rows * 1.1);
    nb = (size_t)((need + sc->budget - 1) / sc->budget);
    if (nb <= 1)
        goto out;
    if (nb > SCAN_MAX_BUCKETS)
        nb = SCAN_MAX_BUCKETS;
    rc = sample_rows(a, sc, s, &smp, &nsmp, 256 + 32 * nb, lo, rows, &rng);
    if (rc != ES_OK)
        goto out;
    qsort(smp, nsmp, sizeof *smp, cmp_sample); /* rows without correlation ID first */
    for (wsum = 0, i = 0; i < nsmp; i++)
        wsum += smp[i].weight;
    sc->bound = xcalloc(nb, sizeof *sc->bound);
    sc->boundlen = xcalloc(nb, sizeof *sc->boundlen);
    sc->boundcls = xcalloc(nb, sizeof *sc->boundcls);
    for (cum = 0, i = 0, j = 1; i < nsmp && j < nb; i++) {
        const struct sample *m = &smp[i];
        cum += m->weight;
        if (m->key == NULL || cum * nb < wsum * j)
            continue;
        /* Bucket j starts at this ID (unless an earlier bucket already starts there). */
        if (sc->nb > 1 && cmp_key(sc->boundcls[sc->nb - 2], sc->bound[sc->nb - 2],
                                  sc->boundlen[sc->nb - 2], m->cls, m->key, m->len) == 0)
            continue;
        sc->bound[sc->nb - 1] = xmalloc(m->len + 1);
        memcpy(sc->bound[sc->nb - 1], m->key, m->len);
        sc->boundlen[sc->nb - 1] = m->len;
        sc->boundcls[sc->nb - 1] = (unsigned char)m->cls;
        sc->nb++;
        while (j < nb && cum * nb >= wsum * j)
            j++;
    }
out:
    sqlite3_finalize(s);
    samples_free(smp, nsmp);
    return rc;
}

/* The bucket of a correlation ID: how many bucket starts are <= it. */
static size_t bucket_of(const struct scan *sc, int cls, const unsigned char *key, size_t len)
{
    size_t lo = 0, hi = sc->nb - 1;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_key(sc->boundcls[mid], sc->bound[mid], sc->boundlen[mid], cls, key, len) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* An unlinked temporary file with a write buffer of bufsize bytes. */
static FILE *temp_file(struct actx *a, size_t bufsize)
{
    const char *dir = getenv("TMPDIR");
    char *path;
    int fd;
    FILE *f;

    if (dir == NULL || dir[0] == '\0')
        dir = "/tmp";
    path = xasprintf("%s/eventscope-analyze-XXXXXX", dir);
    fd = mkstemp(path);
    if (fd < 0) {
        snprintf(a->err, a->errlen, "cannot create a temporary file in %s: %s", dir,
                 strerror(errno));
        free(path);
        return NULL;
    }
    unlink(path);
    free(path);
    f = fdopen(fd, "w+b");
    if (f == NULL) {
        snprintf(a->err, a->errlen, "cannot open a temporary file: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    setvbuf(f, NULL, _IOFBF, bufsize);
    return f;
}

static struct chunk *chunk_new(size_t size)
{
    struct chunk *c = hmap_big_alloc(sizeof *c + size);
    c->next = NULL;
    c->used = 0;
    c->size = size;
    return c;
}

static int bucket_add(struct actx *a, struct bucket *b, const unsigned char *r, size_t n)
{
    if (b->f) {
        if (fwrite(r, 1, n, b->f) != n) {
            snprintf(a->err, a->errlen, "cannot write a temporary file: %s", strerror(errno));
            return ES_EIO;
        }
    } else {
        if (b->tail == NULL || b->tail->size - b->tail->used < n) {
            size_t size = SCAN_CHUNK - sizeof(struct chunk); /* whole 2 MiB pages */
            struct chunk *c;
            c = chunk_new(n > size ? n : size);
            if (b->tail)
                b->tail->next = c;
            else
                b->head = c;
            b->tail = c;
        }
        memcpy(b->tail->data + b->tail->used, r, n);
        b->tail->used += n;
    }
    b->bytes += n;
    b->recs++;
    return ES_OK;
}

/* Brings a spilled bucket back into memory (one chunk). */
static int bucket_load(struct actx *a, struct scan *sc, struct bucket *b)
{
    struct chunk *c = sc->spare;
    size_t need = b->bytes ? (size_t)b->bytes : 1;

    if (b->f == NULL)
        return ES_OK;
    if (fflush(b->f) != 0 || fseeko(b->f, 0, SEEK_SET) != 0) {
        snprintf(a->err, a->errlen, "cannot rewind a temporary file: %s", strerror(errno));
        return ES_EIO;
    }
    /* Buckets are about equal: the previous one's memory (already faulted in) usually fits. */
    if (c == NULL || c->size < need) {
        if (c)
            hmap_big_free(c, sizeof *c + c->size);
        c = chunk_new(need + need / 8);
    }
    sc->spare = NULL;
    c->next = NULL;
    b->head = b->tail = c;
    b->loaded = 1;
    if (fread(c->data, 1, (size_t)b->bytes, b->f) != (size_t)b->bytes) {
        snprintf(a->err, a->errlen, "cannot read back a temporary file: %s",
                 ferror(b->f) ? strerror(errno) : "it is shorter than written");
        return ES_EIO;
    }
    c->used = (size_t)b->bytes;
    fclose(b->f);
    b->f = NULL;
    return ES_OK;
}

struct group {
    const unsigned char *key;
    size_t len;
    uint64_t h;
    uint64_t pre; /* the key's first 8 bytes, big-endian, zero-padded: most comparisons */
    int cls;
    uint32_t head, tail; /* records, in seq order */
};

struct rref {
    const unsigned char *rec;
    uint32_t next;
};

static int cmp_group(const void *x, const void *y)
{
    const struct group *a = x, *b = y;

    if (a->cls == b->cls && a->pre != b->pre)
        return a->pre < b->pre ? -1 : 1;
    return cmp_key(a->cls, a->key, a->len, b->cls, b->key, b->len);
}

static uint64_t key_prefix(const unsigned char *key, size_t len)
{
    uint64_t v = 0;
    size_t i;

    for (i = 0; i < 8; i++)
        v = (v << 8) | (i < len ? key[i] : 0);
    return v;
}

/* Slots of the grouping table: the hash's high half and the group number + 1 (0: empty). */
static size_t group_slot(size_t cap, uint64_t h)
{
    return (size_t)(h * 0x9e3779b97f4a7c15ull >> 17) & (cap - 1);
}

static uint64_t *group_grow(uint64_t *slot, size_t *cap, const struct group *g, uint32_t ng)
{
    size_t ncap = *cap * 2, k;
    uint64_t *ns = hmap_big_alloc(ncap * sizeof *ns);
    uint32_t i;

    for (i = 0; i < ng; i++) {
        k = group_slot(ncap, g[i].h);
        while (ns[k] != 0)
            k = (k + 1) & (ncap - 1);
        ns[k] = (g[i].h & 0xffffffff00000000ull) | (uint64_t)(i + 1);
    }
    hmap_big_free(slot, *cap * sizeof *slot);
    *cap = ncap;
    return ns;
}

static void poll_stop(struct actx *a, volatile sig_atomic_t *stop, uint64_t n)
{
    if ((n & 0xffff) == 0 && stop && *stop && a->rc == ES_OK) {
        a->rc = ES_EINTERRUPTED;
        snprintf(a->err, a->errlen, "interrupted after %" PRIu64 " events", n);
    }
}

/* Groups a bucket's records by correlation ID and analyzes the groups in ID order. */
static void bucket_analyze(struct actx *a, struct bucket *b, struct proc *p,
                           volatile sig_atomic_t *stop, uint64_t *done)
{
    struct rref *recs;
    struct group *g = NULL;
    uint64_t *slot;
    uint32_t nrec = 0, ng = 0, capg = 0;
    size_t cap = 1024, i;
    const struct chunk *c;

    if (b->recs == 0)
        return;
    if (b->recs >= UINT32_MAX) {
        a->rc = ES_ETOOBIG;
        snprintf(a->err, a->errlen, "%" PRIu64 " events in one pass: too many", b->recs);
        return;
    }
    while (cap < b->recs / 2)
        cap <<= 1;
    recs = xmalloc((size_t)b->recs * sizeof *recs);
    slot = hmap_big_alloc(cap * sizeof *slot);
    for (c = b->head; c; c = c->next) {
        size_t off = 0;
        while (off < c->used) {
            const unsigned char *r = c->data + off, *q = r + 4;
            const unsigned char *key;
            size_t len, k;
            uint64_t h, hi;
            int cls;
            off += 4 + rec_len(r);
            (void)get_u(&q); /* seq */
            key = (const unsigned char *)get_str(&q, &len);
            cls = (get_u(&q) & F_CORR_BLOB) ? 2 : 1;
            h = fast_hash(key, len) ^ (uint64_t)cls;
            hi = h & 0xffffffff00000000ull;
            k = group_slot(cap, h);
            while (slot[k] != 0) {
                if ((slot[k] & 0xffffffff00000000ull) == hi) {
                    const struct group *x = &g[(uint32_t)slot[k] - 1];
                    if (x->h == h && x->cls == cls && x->len == len &&
                        memcmp(x->key, key, len) == 0)
                        break;
                }
                k = (k + 1) & (cap - 1);
            }
            recs[nrec].rec = r;
            recs[nrec].next = UINT32_MAX;
            if (slot[k] == 0) {
                if (ng == capg) {
                    capg = capg ? 2 * capg : 1024;
                    g = xreallocarray(g, capg, sizeof *g);
                }
                g[ng].key = key;
                g[ng].len = len;
                g[ng].h = h;
                g[ng].pre = key_prefix(key, len);
                g[ng].cls = cls;
                g[ng].head = g[ng].tail = nrec;
                slot[k] = hi | (uint64_t)(ng + 1);
                ng++;
                if ((size_t)ng * 10 > cap * 7)
                    slot = group_grow(slot, &cap, g, ng);
            } else {
                struct group *x = &g[(uint32_t)slot[k] - 1];
                recs[x->tail].next = nrec;
                x->tail = nrec;
            }
            nrec++;
        }
    }
    hmap_big_free(slot, cap * sizeof *slot);
    if (ng > 1)
        qsort(g, ng, sizeof *g, cmp_group);
    for (i = 0; i < ng && a->rc == ES_OK; i++) {
        uint32_t r;
        if (i + 2 < ng) /* the records are scattered over the bucket: fetch ahead */
            for (r = g[i + 2].head; r != UINT32_MAX; r = recs[r].next)
                __builtin_prefetch(recs[r].rec);
        for (r = g[i].head; r != UINT32_MAX; r = recs[r].next) {
            proc_push(a, p, recs[r].rec);
            poll_stop(a, stop, ++*done);
        }
        actx_analyze_proc(a, p);
        proc_reset(p);
    }
    free(g);
    free(recs);
}

/* Correlation IDs in the index's order: TEXT before BLOB, then bytes, then length. */
static int same_key(const struct proc *p, size_t plen, int pcls, const unsigned char *key,
                    size_t len, int cls)
{
    return pcls == cls && plen == len && memcmp(p->corr, key, len) == 0;
}

/* The correlation index in order, one process at a time. */
static int walk_index(struct actx *a, volatile sig_atomic_t *stop)
{
    sqlite3_stmt *s = NULL;
    struct proc p;
    uint64_t rows = 0;
    size_t plen = 0;
    int pcls = 0, rc = SQLITE_DONE;

    if (sqlite3_prepare_v2(a->db,
                           "SELECT " ANALYZER_ROW_COLUMNS " FROM events"
                           " ORDER BY correlation_id, seq",
                           -1, &s, NULL) != SQLITE_OK) {
        snprintf(a->err, a->errlen, "cannot read events: %s", sqlite3_errmsg(a->db));
        return a->rc = ES_ESTORE;
    }
    proc_init(&p);
    while (a->rc == ES_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *key = sqlite3_column_text(s, 11);
        size_t len = key ? (size_t)sqlite3_column_bytes(s, 11) : 0;
        int cls = sqlite3_column_type(s, 11) == SQLITE_BLOB ? 2 : 1;
        if (p.nobs > 0 &&
            (key == NULL || p.corr == NULL || !same_key(&p, plen, pcls, key, len, cls))) {
            actx_analyze_proc(a, &p);
            proc_reset(&p);
        }
        proc_add_row(a, &p, s);
        plen = len;
        pcls = cls;
        poll_stop(a, stop, ++rows);
    }
    if (a->rc == ES_OK && rc != SQLITE_DONE) {
        a->rc = ES_ESTORE;
        snprintf(a->err, a->errlen, "reading events: %s", sqlite3_errmsg(a->db));
    }
    if (a->rc == ES_OK && p.nobs > 0)
        actx_analyze_proc(a, &p);
    sqlite3_finalize(s);
    proc_done(&p);
    return a->rc;
}

int scan_run(struct actx *a, volatile sig_atomic_t *stop)
{
    struct scan *sc = a->scan;
    sqlite3_stmt *s = NULL;
    struct proc p;
    uint64_t rows = 0, done = 0;
    int64_t cache = 0;
    int have_cache, rc = SQLITE_DONE;
    size_t j, filebuf;

    a->rc = plan_buckets(a, sc);
    if (a->rc == ES_OK && sc->walk)
        return walk_index(a, stop);
    /* Write buffers take at most a quarter of the budget, however many buckets. */
    filebuf = sc->budget / 4 / sc->nb;
    if (filebuf > SCAN_FILE_BUF)
        filebuf = SCAN_FILE_BUF;
    if (filebuf < 4096)
        filebuf = 4096;
    for (j = 1; j < sc->nb && a->rc == ES_OK; j++)
        if ((sc->b[j].f = temp_file(a, filebuf)) == NULL)
            a->rc = ES_EIO;
    if (a->rc != ES_OK)
        return a->rc;
    /* A sequential pass reads each page once: SQLite's page cache would only hold copies. */
    have_cache = pragma_int(a->db, "PRAGMA cache_size", &cache);
    if (have_cache)
        sqlite3_exec(a->db, "PRAGMA cache_size = -2048", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(a->db, "SELECT " ANALYZER_ROW_COLUMNS " FROM events ORDER BY seq", -1,
                           &s, NULL) != SQLITE_OK) {
        snprintf(a->err, a->errlen, "cannot read events: %s", sqlite3_errmsg(a->db));
        a->rc = ES_ESTORE;
    }
    proc_init(&p);
    while (a->rc == ES_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (!encode_row(sc, s)) {
            /* No correlation ID: a process of its own, and those sort first. */
            proc_push(a, &p, sc->rec.p);
            actx_analyze_proc(a, &p);
            proc_reset(&p);
            poll_stop(a, stop, ++done);
        } else {
            const unsigned char *key = sqlite3_column_text(s, 11);
            size_t len = (size_t)sqlite3_column_bytes(s, 11);
            int cls = sqlite3_column_type(s, 11) == SQLITE_BLOB ? 2 : 1;
            j = sc->nb > 1 ? bucket_of(sc, cls, key, len) : 0;
            a->rc = bucket_add(a, &sc->b[j], sc->rec.p, sc->rec.n);
        }
        poll_stop(a, stop, ++rows);
    }
    if (a->rc == ES_OK && s != NULL && rc != SQLITE_DONE) {
        a->rc = ES_ESTORE;
        snprintf(a->err, a->errlen, "reading events: %s", sqlite3_errmsg(a->db));
    }
    sqlite3_finalize(s);
    if (have_cache) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA cache_size = %" PRId64, cache);
        sqlite3_exec(a->db, sql, NULL, NULL, NULL);
    }
    for (j = 0; j < sc->nb && a->rc == ES_OK; j++) {
        a->rc = bucket_load(a, sc, &sc->b[j]);
        if (a->rc == ES_OK)
            bucket_analyze(a, &sc->b[j], &p, stop, &done);
        if (sc->b[j].loaded) {
            sc->spare = sc->b[j].head;
            sc->b[j].head = sc->b[j].tail = NULL;
        }
        chunks_free(&sc->b[j]);
    }
    proc_done(&p);
    return a->rc;
}
