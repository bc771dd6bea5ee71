/*
 * The envelope normaliser: JSON records and protocol messages to struct event.
 *
 * One pass over an object's members: each key is lowercased into a small buffer and looked
 * up in one sorted table of every spelling (DESIGN.md, "The event model"); the best match
 * per attribute wins by score (map path < top level < metadata < meta < headers, then the
 * spelling's rank in the table). Winners are "consumed"; every other member is written to
 * attrs by a small JSON writer that skips consumed values by pointer, so nothing is copied
 * into temporary jansson objects on the hot path.
 *
 * Protocol messages (envelope_from_message) follow the CloudEvents protocol bindings:
 * HTTP 1.0.2 (binary "ce-" headers, percent-encoded values; structured and batched
 * content modes), Kafka 1.0.2 ("ce_" headers), AMQP 1.0.2 ("cloudEvents:"/"cloudEvents_"
 * application properties), MQTT 1.0.2 (MQTT 5 user properties named as the attributes),
 * NATS 1.0.1 (headers). Binary-mode headers are turned into one JSON object and normalised
 * by the same code as a log record.
 */
#include "envelope.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "cursor.h"
#include "jdoc.h"
#include "timeparse.h"
#include "vclock.h"
#include "xmalloc.h"

/* ---- Spellings ----------------------------------------------------------------------- */

/* Slots beyond the public attributes: hoisted trace context, nested containers. */
enum {
    SLOT_TRACEPARENT = ENV_NATTRS, /* W3C trace context: kept in attrs, top level */
    SLOT_TRACESTATE,
    SLOT_N,
    SLOT_NEST = 0xff /* metadata / meta / headers: a container to search (rank = order) */
};

#define SPELLING_MAX 14 /* longest spelling: "sequencenumber", "correlation_id" */
#define NEST_N 3

struct spelling {
    const char *name; /* lowercase */
    uint8_t slot;     /* enum envelope_attr, SLOT_* */
    uint8_t rank;     /* position among the attribute's spellings: lower wins */
    uint8_t b64;      /* CloudEvents data_base64 */
};

/* In DESIGN.md's groups, sorted by name; the rank keeps DESIGN.md's order of spellings. */
static const struct spelling spellings[] = {
    {"aggregateid", ENV_PARTITION_KEY, 3, 0},
    {"app-id", ENV_SOURCE, 4, 0},
    {"body", ENV_DATA, 2, 0},
    {"causation-id", ENV_CAUSATION, 3, 0},
    {"causation_id", ENV_CAUSATION, 2, 0},
    {"causationid", ENV_CAUSATION, 0, 0},
    {"correlation-id", ENV_CORRELATION, 3, 0},
    {"correlation_id", ENV_CORRELATION, 2, 0},
    {"correlationid", ENV_CORRELATION, 0, 0},
    {"data", ENV_DATA, 0, 0},
    {"data_base64", ENV_DATA, 3, 1},
    {"dataschema", ENV_VERSION, 1, 0},
    {"event", ENV_TYPE, 3, 0},
    {"event_id", ENV_ID, 2, 0},
    {"event_type", ENV_TYPE, 2, 0},
    {"eventid", ENV_ID, 1, 0},
    {"eventtype", ENV_TYPE, 1, 0},
    {"headers", SLOT_NEST, 2, 0},
    {"id", ENV_ID, 0, 0},
    {"key", ENV_PARTITION_KEY, 4, 0},
    {"message-id", ENV_ID, 4, 0},
    {"messageid", ENV_ID, 3, 0},
    {"meta", SLOT_NEST, 1, 0},
    {"metadata", SLOT_NEST, 0, 0},
    {"name", ENV_TYPE, 4, 0},
    {"occurred_at", ENV_TIME, 3, 0},
    {"occurredat", ENV_TIME, 2, 0},
    {"partition_key", ENV_PARTITION_KEY, 2, 0},
    {"partitionkey", ENV_PARTITION_KEY, 0, 0},
    {"payload", ENV_DATA, 1, 0},
    {"producer", ENV_SOURCE, 3, 0},
    {"schemaversion", ENV_VERSION, 2, 0},
    {"seq", ENV_SEQUENCE, 1, 0},
    {"sequence", ENV_SEQUENCE, 0, 0},
    {"sequencenumber", ENV_SEQUENCE, 2, 0},
    {"service", ENV_SOURCE, 1, 0},
    {"source", ENV_SOURCE, 0, 0},
    {"subject", ENV_SUBJECT, 0, 0},
    {"svc", ENV_SOURCE, 2, 0},
    {"time", ENV_TIME, 0, 0},
    {"timestamp", ENV_TIME, 1, 0},
    {"traceparent", SLOT_TRACEPARENT, 0, 0},
    {"tracestate", SLOT_TRACESTATE, 0, 0},
    {"ts", ENV_TIME, 4, 0},
    {"type", ENV_TYPE, 0, 0},
    {"vc", ENV_VCLOCK, 2, 0},
    {"vclock", ENV_VCLOCK, 0, 0},
    {"vectorclock", ENV_VCLOCK, 1, 0},
    {"version", ENV_VERSION, 0, 0},
};

/* Case-insensitive ASCII comparison of a (alen bytes) with NUL-terminated lowercase b. */
static int ieq(const char *a, size_t alen, const char *b)
{
    size_t i;
    for (i = 0; i < alen; i++)
        if (b[i] == '\0' || ascii_lower((unsigned char)a[i]) != b[i])
            return 0;
    return b[alen] == '\0';
}

/*
 * spelling_find's index: an open-addressed table of the spellings by a hash of their length
 * and three of their bytes (one lookup is a hash and, mostly, one comparison; a binary
 * search with strcmp was 3-5% of decoding a capture).
 */
#define SPELLING_SLOTS 256u
#define NSPELLINGS (sizeof spellings / sizeof spellings[0])
static uint8_t spelling_index[SPELLING_SLOTS]; /* 1 + index into spellings; 0: empty */
static uint8_t spelling_len[NSPELLINGS];
static pthread_once_t spelling_once = PTHREAD_ONCE_INIT;

/* The slot of a name of len bytes whose first, last and middle bytes (lowercase) are given. */
static unsigned spelling_hash(size_t len, unsigned char first, unsigned char last,
                              unsigned char mid)
{
    return ((unsigned)len * 31u + first * 7u + last * 3u + mid) & (SPELLING_SLOTS - 1);
}

static void spelling_index_build(void)
{
    size_t i;

    for (i = 0; i < NSPELLINGS; i++) {
        const unsigned char *nm = (const unsigned char *)spellings[i].name;
        size_t len = strlen(spellings[i].name);
        unsigned h = spelling_hash(len, nm[0], nm[len - 1], nm[len / 2]);
        while (spelling_index[h] != 0)
            h = (h + 1) & (SPELLING_SLOTS - 1);
        spelling_index[h] = (uint8_t)(i + 1);
        spelling_len[i] = (uint8_t)len;
    }
}

static const struct spelling *spelling_find(const char *key, size_t len)
{
    const unsigned char *k = (const unsigned char *)key;
    unsigned h;

    if (len == 0 || len > SPELLING_MAX)
        return NULL;
    (void)pthread_once(&spelling_once, spelling_index_build);
    h = spelling_hash(len, (unsigned char)ascii_lower(k[0]), (unsigned char)ascii_lower(k[len - 1]),
                      (unsigned char)ascii_lower(k[len / 2]));
    for (; spelling_index[h] != 0; h = (h + 1) & (SPELLING_SLOTS - 1)) {
        const struct spelling *sp = &spellings[spelling_index[h] - 1];
        if (spelling_len[spelling_index[h] - 1] == len && ieq(key, len, sp->name))
            return sp;
    }
    return NULL;
}

/*
 * A spelling, or "x-" + a spelling (custom HTTP-style names such as X-Correlation-Id), which
 * ranks after every real spelling of its attribute at the same level (*penalty).
 */
static const struct spelling *spelling_match(const char *key, size_t len, int *penalty)
{
    const struct spelling *sp = spelling_find(key, len);

    *penalty = 0;
    if (sp == NULL && len > 2 && (key[0] == 'x' || key[0] == 'X') && key[1] == '-') {
        sp = spelling_find(key + 2, len - 2);
        if (sp != NULL && sp->slot == SLOT_NEST)
            sp = NULL;
        *penalty = 8;
    }
    return sp;
}

/* ---- A small JSON writer ------------------------------------------------------------- */

struct jbuf {
    char *p;
    size_t len, cap;
};

static void jb_grow(struct jbuf *b, size_t n)
{
    size_t c;
    if (b->cap - b->len > n)
        return;
    c = b->cap ? b->cap : 256;
    while (c - b->len <= n)
        c *= 2;
    b->p = xrealloc(b->p, c);
    b->cap = c;
}

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
    jb_grow(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void jb_putc(struct jbuf *b, char ch)
{
    if (b->cap - b->len > 1) { /* the common case: room for the byte and the NUL */
        b->p[b->len++] = ch;
        b->p[b->len] = '\0';
        return;
    }
    jb_put(b, &ch, 1);
}

/* A JSON string literal of n bytes (valid UTF-8 assumed: jansson strings are). */
static void jb_str(struct jbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, run;

    /* room for the quotes, the bytes as they are and the NUL; escapes ask for more */
    jb_grow(b, n + 2);
    b->p[b->len++] = '"';
    for (;;) {
        char *o;
        unsigned char ch;
        /* the run up to the next byte to escape, copied at once */
        run = ascii_json_run(s + i, n - i, 1);
        memcpy(b->p + b->len, s + i, run);
        b->len += run;
        i += run;
        if (i == n)
            break;
        ch = (unsigned char)s[i++];
        jb_grow(b, (n - i) + 6 + 1);
        o = b->p + b->len;
        o[0] = '\\';
        b->len += 2;
        switch (ch) {
        case '"': o[1] = '"'; break;
        case '\\': o[1] = '\\'; break;
        case '\n': o[1] = 'n'; break;
        case '\r': o[1] = 'r'; break;
        case '\t': o[1] = 't'; break;
        case '\b': o[1] = 'b'; break;
        case '\f': o[1] = 'f'; break;
        default:
            o[1] = 'u', o[2] = '0', o[3] = '0', o[4] = hex[ch >> 4], o[5] = hex[ch & 15];
            b->len += 4;
        }
    }
    b->p[b->len++] = '"';
    b->p[b->len] = '\0';
}

static int fmt_real(double d, char *buf, size_t n, int json)
{
    int len = 0, prec;
    for (prec = 15; prec <= 17; prec++) {
        len = snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    if (json && strpbrk(buf, ".eEn") == NULL && (size_t)len + 2 < n) {
        memcpy(buf + len, ".0", 3);
        len += 2;
    }
    return len;
}

/* At most this many consumed values per record: one per slot, plus those hoisted. */
#define SKIP_MAX (SLOT_N + 1)

/* Nodes of the record's document consumed by a column: left out of attrs. */
struct skip {
    uint32_t v[SKIP_MAX];
    size_t n;
};

static int skip_has(const struct skip *sk, uint32_t v)
{
    size_t i;
    if (sk == NULL)
        return 0;
    for (i = 0; i < sk->n; i++)
        if (sk->v[i] == v)
            return 1;
    return 0;
}

/* 1 when a consumed node lies inside node i. */
static int skip_inside(const struct skip *sk, const struct jdoc *d, uint32_t i)
{
    size_t k;
    if (sk == NULL)
        return 0;
    for (k = 0; k < sk->n; k++)
        if (jd_inside(d, i, sk->v[k]))
            return 1;
    return 0;
}

#define JB_MAX_DEPTH 4096

static int jb_value(struct jbuf *b, const struct jdoc *d, uint32_t i, const struct skip *sk,
                    int depth);

/*
 * Writes the members of object i except those in sk and objects that lose every member
 * (comma-separated, no braces); the members written go to written (may be NULL), which
 * has room for all. Returns how many were written.
 */
static size_t jb_members(struct jbuf *b, const struct jdoc *d, uint32_t i, const struct skip *sk,
                         int depth, uint32_t *written)
{
    size_t wrote = 0, len;
    const char *key;
    uint32_t m;

    jd_foreach(d, i, m)
    {
        size_t mark = b->len;
        if (skip_has(sk, m))
            continue;
        if (wrote)
            jb_putc(b, ',');
        key = jd_key(d, m, &len);
        jb_str(b, key, len);
        jb_putc(b, ':');
        if (!jb_value(b, d, m, sk, depth)) {
            b->len = mark;
            b->p[mark] = '\0';
            continue;
        }
        if (written != NULL)
            written[wrote] = m;
        wrote++;
    }
    return wrote;
}

/*
 * Writes node i of d compactly, leaving out object members that are in sk (may be NULL).
 * A value that arrived in this very form (JD_CANON) with nothing to leave out is copied.
 * Returns 0 when i is an object that had members and lost all of them (caller drops it).
 */
static int jb_value(struct jbuf *b, const struct jdoc *d, uint32_t i, const struct skip *sk,
                    int depth)
{
    const struct jd_node *n = &d->n[i];
    char num[40];
    const char *s;
    size_t len;
    uint32_t m;
    int k;

    if (depth > JB_MAX_DEPTH) {
        jb_put(b, "null", 4);
        return 1;
    }
    if ((n->flags & JD_CANON) && !skip_inside(sk, d, i)) {
        jb_put(b, d->text + n->raw, n->rawlen);
        return 1;
    }
    switch (jd_type(d, i)) {
    case JD_OBJECT: {
        size_t wrote;
        jb_putc(b, '{');
        wrote = jb_members(b, d, i, sk, depth + 1, NULL);
        jb_putc(b, '}');
        return wrote > 0 || n->count == 0;
    }
    case JD_ARRAY:
        jb_putc(b, '[');
        jd_foreach(d, i, m)
        {
            if (m != jd_first(d, i))
                jb_putc(b, ',');
            (void)jb_value(b, d, m, NULL, depth + 1);
        }
        jb_putc(b, ']');
        return 1;
    case JD_STRING:
        s = jd_str(d, i, &len);
        jb_str(b, s, len);
        return 1;
    case JD_INT:
        k = snprintf(num, sizeof num, "%" PRId64, n->v.i);
        jb_put(b, num, (size_t)k);
        return 1;
    case JD_REAL:
        k = fmt_real(n->v.d, num, sizeof num, 1);
        jb_put(b, num, (size_t)k);
        return 1;
    case JD_TRUE:
        jb_put(b, "true", 4);
        return 1;
    case JD_FALSE:
        jb_put(b, "false", 5);
        return 1;
    default:
        jb_put(b, "null", 4);
        return 1;
    }
}

static char *json_text(const struct jdoc *d, uint32_t i)
{
    struct jbuf b = {NULL, 0, 0};
    (void)jb_value(&b, d, i, NULL, 0);
    return b.p;
}

/* ---- Field maps ---------------------------------------------------------------------- */

#define MAP_MAX_FILE (1 << 20)
#define MAP_MAX_PATHS 64
#define MAP_MAX_SEGS 16
#define MAP_MAX_PATH_LEN 256

struct map_path {
    char *full;  /* the path as written: also tried as one literal key */
    char **seg;  /* dot-separated segments */
    size_t nseg;
};

struct envelope_map {
    struct map_path *paths[ENV_NATTRS];
    size_t n[ENV_NATTRS];
};

static const struct {
    const char *name;
    int attr;
} map_attrs[] = {
    {"id", ENV_ID},
    {"type", ENV_TYPE},
    {"source", ENV_SOURCE},
    {"time", ENV_TIME},
    {"correlation", ENV_CORRELATION},
    {"correlation_id", ENV_CORRELATION},
    {"causation", ENV_CAUSATION},
    {"causation_id", ENV_CAUSATION},
    {"subject", ENV_SUBJECT},
    {"partition_key", ENV_PARTITION_KEY},
    {"sequence", ENV_SEQUENCE},
    {"vclock", ENV_VCLOCK},
    {"data", ENV_DATA},
    {"version", ENV_VERSION},
};

void envelope_map_free(struct envelope_map *m)
{
    size_t a, i, j;
    if (m == NULL)
        return;
    for (a = 0; a < ENV_NATTRS; a++) {
        for (i = 0; i < m->n[a]; i++) {
            for (j = 0; j < m->paths[a][i].nseg; j++)
                free(m->paths[a][i].seg[j]);
            free(m->paths[a][i].seg);
            free(m->paths[a][i].full);
        }
        free(m->paths[a]);
    }
    free(m);
}

/* Copies at most 64 bytes of user text for a message, control bytes shown as '?'. */
static void shown(char *dst, size_t dlen, const char *s)
{
    size_t i;
    for (i = 0; i + 1 < dlen && s[i]; i++)
        dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    dst[i] = '\0';
}

static int map_add_path(struct envelope_map *m, int attr, const char *p, size_t len)
{
    struct map_path *mp;
    size_t i, start = 0;

    if (len == 0 || len > MAP_MAX_PATH_LEN || memchr(p, '\0', len))
        return ES_EINVALID;
    if (m->n[attr] >= MAP_MAX_PATHS)
        return ES_ETOOBIG;
    m->paths[attr] = xreallocarray(m->paths[attr], m->n[attr] + 1, sizeof *m->paths[attr]);
    mp = &m->paths[attr][m->n[attr]++];
    mp->full = xstrndup(p, len);
    mp->seg = NULL;
    mp->nseg = 0;
    for (i = 0; i <= len; i++) {
        if (i < len && p[i] != '.')
            continue;
        if (i == start || mp->nseg >= MAP_MAX_SEGS)
            return i == start ? ES_EINVALID : ES_ETOOBIG;
        mp->seg = xreallocarray(mp->seg, mp->nseg + 1, sizeof *mp->seg);
        mp->seg[mp->nseg++] = xstrndup(p + start, i - start);
        start = i + 1;
    }
    return ES_OK;
}

int envelope_map_load(const char *path, struct envelope_map **out, char *err, size_t errlen)
{
    struct envelope_map *m;
    json_error_t jerr;
    json_t *root, *val;
    const char *key;
    char *text, name[65], what[65];
    FILE *f;
    size_t len;
    int rc = ES_OK;

    *out = NULL;
    if ((f = fopen(path, "rb")) == NULL) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open field map: %s", path, strerror(e));
        return e == ENOENT ? ES_ENOTFOUND : ES_EIO;
    }
    text = xmalloc(MAP_MAX_FILE + 1);
    len = fread(text, 1, MAP_MAX_FILE + 1, f);
    if (ferror(f)) {
        snprintf(err, errlen, "%s: cannot read field map", path);
        rc = ES_EIO;
    } else if (len > MAP_MAX_FILE) {
        snprintf(err, errlen, "%s: field map larger than %d bytes", path, MAP_MAX_FILE);
        rc = ES_ETOOBIG;
    }
    fclose(f);
    if (rc != ES_OK) {
        free(text);
        return rc;
    }
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (root == NULL) {
        snprintf(err, errlen, "%s: line %d column %d: %s (a field map is a JSON object)", path,
                 jerr.line, jerr.column, jerr.text);
        return ES_EINVALID;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen,
                 "%s: a field map is a JSON object {\"attribute\": [\"path\", ...]}, "
                 "e.g. {\"correlation\": [\"ctx.corr\"]}",
                 path);
        json_decref(root);
        return ES_EINVALID;
    }
    m = xcalloc(1, sizeof *m);
    json_object_foreach(root, key, val)
    {
        size_t a, i, n;
        int attr = -1;
        for (a = 0; a < sizeof map_attrs / sizeof map_attrs[0]; a++)
            if (ieq(key, strlen(key), map_attrs[a].name))
                attr = map_attrs[a].attr;
        shown(name, sizeof name, key);
        if (attr < 0) {
            snprintf(err, errlen,
                     "%s: unknown attribute \"%s\" (known: id, type, source, time, correlation, "
                     "causation, subject, partition_key, sequence, vclock, data, version)",
                     path, name);
            rc = ES_EINVALID;
            break;
        }
        what[0] = '\0';
        if (json_is_string(val)) {
            shown(what, sizeof what, json_string_value(val));
            rc = map_add_path(m, attr, json_string_value(val), json_string_length(val));
        } else if (json_is_array(val) && json_array_size(val) > 0) {
            n = json_array_size(val);
            for (i = 0; i < n && rc == ES_OK; i++) {
                json_t *p = json_array_get(val, i);
                if (!json_is_string(p)) {
                    snprintf(err, errlen,
                             "%s: attribute \"%s\": path %zu is not a string "
                             "(expected [\"a.b\", \"key\", ...])",
                             path, name, i + 1);
                    rc = ES_EUSAGE; /* message written */
                    break;
                }
                shown(what, sizeof what, json_string_value(p));
                rc = map_add_path(m, attr, json_string_value(p), json_string_length(p));
            }
        } else {
            snprintf(err, errlen,
                     "%s: attribute \"%s\": expected a list of paths, e.g. [\"ctx.corr\"]", path,
                     name);
            rc = ES_EUSAGE;
        }
        if (rc == ES_EUSAGE) {
            rc = ES_EINVALID;
            break;
        }
        if (rc == ES_ETOOBIG) {
            snprintf(err, errlen,
                     "%s: attribute \"%s\": too many paths or segments (at most %d paths of "
                     "%d segments)",
                     path, name, MAP_MAX_PATHS, MAP_MAX_SEGS);
            break;
        }
        if (rc != ES_OK) {
            snprintf(err, errlen,
                     "%s: attribute \"%s\": bad path \"%s\" (empty, an empty segment, or "
                     "longer than %d bytes)",
                     path, name, what, MAP_MAX_PATH_LEN);
            break;
        }
    }
    json_decref(root);
    if (rc != ES_OK) {
        envelope_map_free(m);
        return rc;
    }
    *out = m;
    return ES_OK;
}

/* A member of object obj by exact key, else by case-insensitive key (first in order). */
static uint32_t member_get(const struct jdoc *d, uint32_t obj, const char *key)
{
    size_t n = strlen(key);
    uint32_t v = jd_get(d, obj, key, n);

    if (v != 0 || n > MAP_MAX_PATH_LEN)
        return v;
    return jd_iget(d, obj, key, n);
}

static uint32_t map_resolve(const struct jdoc *d, uint32_t obj, const struct map_path *mp)
{
    uint32_t v = jd_get(d, obj, mp->full, strlen(mp->full));
    size_t i;

    if (v != 0 || mp->nseg == 1)
        return v ? v : member_get(d, obj, mp->full);
    v = obj; /* node 0 is the root here, not "none" */
    for (i = 0; i < mp->nseg; i++) {
        if (jd_type(d, v) != JD_OBJECT || (v = member_get(d, v, mp->seg[i])) == 0)
            return 0;
    }
    return v;
}

/* ---- Normalising one object ---------------------------------------------------------- */

struct cand {
    uint32_t v; /* winning value (a node of the record), 0 = none */
    int score;  /* lower wins: map paths < top level < metadata < meta < headers */
    int b64;    /* came from data_base64 */
};

static int str_nonempty(const struct jdoc *d, uint32_t v)
{
    return jd_type(d, v) == JD_STRING && d->n[v].v.s.len > 0;
}

static int usable(const struct jdoc *d, int slot, uint32_t v, int b64)
{
    enum jd_type t = jd_type(d, v);

    switch (slot) {
    case ENV_DATA:
        return b64 ? t == JD_STRING : t != JD_NULL;
    case ENV_VCLOCK:
        return t == JD_OBJECT || str_nonempty(d, v);
    case SLOT_TRACEPARENT:
    case SLOT_TRACESTATE:
        return str_nonempty(d, v);
    default:
        return str_nonempty(d, v) || t == JD_INT || t == JD_REAL;
    }
}

static void consider(const struct jdoc *d, struct cand *c, const struct spelling *sp, uint32_t v,
                     int level, int penalty)
{
    int score = level * 16 + sp->rank + penalty;
    if (!usable(d, sp->slot, v, sp->b64) || (c->v != 0 && c->score <= score))
        return;
    c->v = v;
    c->score = score;
    c->b64 = sp->b64;
}

/* Text of a scalar: strings as they are, numbers in decimal (in num). 0 if not a scalar. */
static int scalar_text(const struct jdoc *d, uint32_t v, const char **s, size_t *len, char *num,
                       size_t numlen)
{
    int n;

    switch (jd_type(d, v)) {
    case JD_STRING:
        *s = jd_str(d, v, len);
        return 1;
    case JD_INT:
        n = snprintf(num, numlen, "%" PRId64, d->n[v].v.i);
        break;
    case JD_REAL:
        n = fmt_real(d->n[v].v.d, num, numlen, 0);
        break;
    default:
        return 0;
    }
    *s = num;
    *len = n > 0 ? (size_t)n : 0;
    return 1;
}

static char **str_field(struct event *ev, int attr)
{
    switch (attr) {
    case ENV_ID: return &ev->event_id;
    case ENV_TYPE: return &ev->type;
    case ENV_SOURCE: return &ev->source;
    case ENV_CORRELATION: return &ev->correlation_id;
    case ENV_CAUSATION: return &ev->causation_id;
    case ENV_SUBJECT: return &ev->subject;
    case ENV_PARTITION_KEY: return &ev->partition_key;
    case ENV_SEQUENCE: return &ev->sequence;
    case ENV_TIME: return &ev->time_raw;
    case ENV_VCLOCK: return &ev->vclock;
    case ENV_DATA: return &ev->data;
    default: return NULL;
    }
}

static int is_blank(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * Writes the data attribute into out (emptied first): JSON text; a string that holds a JSON
 * object or array is parsed.
 */
static void data_text(struct jbuf *out, const struct jdoc *d, uint32_t v, int b64)
{
    out->len = 0;
    if (jd_type(d, v) == JD_STRING && !b64) {
        size_t n, i = 0;
        const char *s = jd_str(d, v, &n);
        while (i < n && is_blank((unsigned char)s[i]))
            i++;
        if (i < n && (s[i] == '{' || s[i] == '[')) {
            struct jdoc inner;
            int ok;
            jdoc_init(&inner);
            ok = jdoc_parse(&inner, s, n, 0, 0) == ES_OK;
            if (ok)
                (void)jb_value(out, &inner, 0, NULL, 0);
            jdoc_done(&inner);
            if (ok)
                return;
        }
    }
    (void)jb_value(out, d, v, NULL, 0);
}

/* A vector clock from an object, or from a string holding one ("a:1,b:2" or JSON). */
static int vclock_of(const struct jdoc *d, uint32_t v, struct vclock *vc)
{
    size_t n;
    const char *s;
    char *t;
    int rc;

    if (jd_type(d, v) == JD_OBJECT) {
        t = json_text(d, v);
        rc = vclock_parse(vc, t, strlen(t));
        free(t);
        return rc;
    }
    s = jd_str(d, v, &n);
    while (n && is_blank((unsigned char)s[0]))
        s++, n--;
    if (n && s[0] == '"')
        return ES_EINVALID; /* a string in a string: one level only */
    return vclock_parse(vc, s, n);
}

/*
 * The strings of the events one message gives (envelope_from_message_buf), valid until the
 * next message: a few chunks, reused, so an event's dozen strings cost no malloc and free
 * each. The emit callback borrows them (as it may keep nothing of the event anyway).
 */
#define STRPOOL_CHUNK (16u << 10)

struct strchunk {
    struct strchunk *next;
    size_t used, cap;
    char b[];
};

struct strpool {
    struct strchunk *head; /* the chunk strings go to; older ones after it */
    struct jbuf text;      /* where data and attrs are written before they go in */
};

/* Room for n bytes and a NUL (set), in the pool. */
static char *strpool_alloc(struct strpool *sp, size_t n)
{
    struct strchunk *c = sp->head;
    char *o;

    if (c == NULL || c->cap - c->used <= n) {
        size_t cap = n < STRPOOL_CHUNK ? STRPOOL_CHUNK : n + 1;
        c = xmalloc(sizeof *c + cap);
        c->used = 0;
        c->cap = cap;
        c->next = sp->head;
        sp->head = c;
    }
    o = c->b + c->used;
    o[n] = '\0';
    c->used += n + 1;
    return o;
}

/* A NUL-terminated copy of the n bytes at s (no NUL among them), in the pool. */
static char *strpool_put(struct strpool *sp, const char *s, size_t n)
{
    return memcpy(strpool_alloc(sp, n), s, n);
}

/* Forgets every string; one standard chunk is kept for the next message. */
static void strpool_reset(struct strpool *sp)
{
    struct strchunk *c = sp->head, *keep = NULL, *next;

    for (; c != NULL; c = next) {
        next = c->next;
        if (keep == NULL && c->cap == STRPOOL_CHUNK) {
            keep = c;
            continue;
        }
        free(c);
    }
    if (keep != NULL) {
        keep->used = 0;
        keep->next = NULL;
    }
    sp->head = keep;
}

/*
 * Sets a string field of ev to s (n bytes, or up to a NUL, as event_set): in pool, or on
 * the heap (the old value freed) when pool is NULL.
 */
static void ev_set(struct strpool *pool, char **field, const char *s, size_t n)
{
    if (pool == NULL)
        event_set(field, s, n);
    else
        *field = s ? strpool_put(pool, s, strnlen(s, n)) : NULL;
}

/* The same for a string t already allocated (taken: freed, or kept as the field). */
static void ev_take(struct strpool *pool, char **field, char *t)
{
    if (pool == NULL) {
        free(*field);
        *field = t;
        return;
    }
    *field = t ? strpool_put(pool, t, strlen(t)) : NULL;
    free(t);
}

/*
 * Where data or attrs text is written for a field: the pool's buffer, or (pool NULL) a
 * fresh one, *fresh, whose text becomes the field (ev_text).
 */
static struct jbuf *text_buf(struct strpool *pool, struct jbuf *fresh)
{
    fresh->p = NULL;
    fresh->len = fresh->cap = 0;
    return pool != NULL ? &pool->text : fresh;
}

/* Sets a string field of ev to the text in t (keep 0: to NULL), t from text_buf. */
static void ev_text(struct strpool *pool, char **field, struct jbuf *t, int keep)
{
    if (pool != NULL) {
        *field = keep ? strpool_put(pool, t->p, t->len) : NULL;
        return;
    }
    if (!keep) {
        free(t->p);
        t->p = NULL;
    }
    ev_take(NULL, field, t->p); /* the fresh buffer becomes the field */
}

/*
 * Sets one attribute from its winning value, its strings in pool (NULL: the heap). Returns
 * 0 when the value was not usable.
 */
static int apply_attr(const struct jdoc *d, struct event *ev, int attr, const struct cand *c,
                      struct strpool *pool)
{
    char num[40];
    const char *s;
    size_t n;

    switch (attr) {
    case ENV_TIME: {
        int64_t us;
        if (!scalar_text(d, c->v, &s, &n, num, sizeof num))
            return 0;
        ev_set(pool, &ev->time_raw, s, n);
        if (jd_type(d, c->v) == JD_STRING) {
            if (timeparse_text(s, n, &us, NULL) != ES_OK)
                us = ES_TIME_NONE;
        } else if (jd_type(d, c->v) == JD_INT) {
            if (timeparse_epoch_int(d->n[c->v].v.i, &us) != ES_OK)
                us = ES_TIME_NONE;
        } else if (timeparse_epoch(d->n[c->v].v.d, &us) != ES_OK) {
            us = ES_TIME_NONE;
        }
        ev->time_us = us;
        return 1;
    }
    case ENV_VCLOCK: {
        struct vclock vc;
        vclock_init(&vc);
        if (vclock_of(d, c->v, &vc) != ES_OK) {
            vclock_done(&vc);
            return 0;
        }
        ev_take(pool, &ev->vclock, vclock_to_json(&vc));
        vclock_done(&vc);
        return 1;
    }
    case ENV_DATA: {
        struct jbuf fresh, *t = text_buf(pool, &fresh);
        data_text(t, d, c->v, c->b64);
        ev_text(pool, &ev->data, t, 1);
        ev->payload_hash = 0;
        return 1;
    }
    case ENV_VERSION:
        return 0; /* no column: kept in attrs under its own name */
    default:
        if (!scalar_text(d, c->v, &s, &n, num, sizeof num))
            return 0;
        ev_set(pool, str_field(ev, attr), s, n);
        return 1;
    }
}

/* 1 if the attribute is still absent in ev (fill mode). */
static int missing(const struct event *ev, int attr)
{
    if (attr == ENV_TIME)
        return ev->time_raw == NULL && ev->time_us == ES_TIME_NONE;
    if (attr == ENV_VERSION)
        return 0;
    return *str_field((struct event *)ev, attr) == NULL;
}

/* A document and one of its objects: the record, or the transport's attributes. */
struct jobj {
    const struct jdoc *d;
    uint32_t i;
};

static void jb_member(struct jbuf *b, const struct jdoc *d, uint32_t m)
{
    size_t klen;
    const char *key = jd_key(d, m, &klen);
    jb_str(b, key, klen);
    jb_putc(b, ':');
}

/*
 * Writes the members of m (record, minus sk) and then those of x (transport) whose key m
 * did not write: both sides held an object under one key, the record's members first.
 */
static void jb_merged(struct jbuf *b, const struct jdoc *d, uint32_t m, const struct jdoc *xd,
                      uint32_t x, const struct skip *sk)
{
    uint32_t *written = xmalloc(((size_t)d->n[m].count + 1) * sizeof *written);
    size_t wrote, nrec, klen, k2, j;
    uint32_t xm;
    const char *key, *key2;

    jb_putc(b, '{');
    wrote = nrec = jb_members(b, d, m, sk, 2, written);
    jd_foreach(xd, x, xm)
    {
        /* Left out when the record wrote a member of that key. */
        key = jd_key(xd, xm, &klen);
        for (j = 0; j < nrec; j++) {
            key2 = jd_key(d, written[j], &k2);
            if (k2 == klen && memcmp(key2, key, klen) == 0)
                break;
        }
        if (j < nrec)
            continue;
        if (wrote++)
            jb_putc(b, ',');
        jb_member(b, xd, xm);
        (void)jb_value(b, xd, xm, NULL, 2);
    }
    jb_putc(b, '}');
    free(written);
}

/*
 * strcmp(key, word) == 0 for a NUL-terminated key of klen bytes (it may hold a NUL of its
 * own, where strcmp stops): the length rules out most keys without a call.
 */
static int cstr_is(const char *key, size_t klen, const char *word)
{
    size_t n = strlen(word);
    return klen >= n && memcmp(key, word, n + 1) == 0;
}

/*
 * A filter of an object's keys, a bit per length and first byte: a key whose bit is clear
 * is not a member, so most look-ups that fail walk no members.
 */
static uint64_t key_bit(const char *key, size_t klen)
{
    return 1ULL << ((klen * 7u + (klen ? (unsigned char)key[0] : 0u)) & 63u);
}

static uint32_t filtered_get(const struct jdoc *d, uint32_t obj, uint64_t filter,
                             const char *key, size_t klen)
{
    return (filter & key_bit(key, klen)) ? jd_get(d, obj, key, klen) : 0;
}

/*
 * Writes attrs: the hoisted trace context, obj's members minus the consumed ones, then the
 * members of extra (transport attributes) whose key obj does not have. Objects present in
 * both are merged (obj's members first), into b (emptied first). Returns 0 when there is
 * nothing to keep. keys: obj's key filter.
 */
static int attrs_text(struct jbuf *b, struct jobj obj, uint64_t keys, struct jobj extra,
                      const struct skip *sk, const struct cand *trace)
{
    static const char *const trace_key[2] = {"traceparent", "tracestate"};
    const struct jdoc *d = obj.d, *xd = extra.d;
    size_t klen, wrote = 0, i;
    const char *key;
    uint32_t m;

    b->len = 0;
    jb_putc(b, '{');
    /* Trace context first, from the record (any level) or else from the transport. */
    for (i = 0; i < 2; i++) {
        size_t tlen = strlen(trace_key[i]);
        const struct jdoc *td = d;
        uint32_t t = trace[i].v;
        if (t == 0 && xd != NULL && filtered_get(d, obj.i, keys, trace_key[i], tlen) == 0) {
            t = jd_get(xd, extra.i, trace_key[i], tlen);
            td = xd;
        }
        if (t == 0)
            continue;
        if (wrote++)
            jb_putc(b, ',');
        jb_str(b, trace_key[i], tlen);
        jb_putc(b, ':');
        (void)jb_value(b, td, t, NULL, 1);
    }
    jd_foreach(d, obj.i, m)
    {
        size_t mark = b->len;
        uint32_t x;
        if (skip_has(sk, m))
            continue;
        if (wrote)
            jb_putc(b, ',');
        jb_member(b, d, m);
        x = 0;
        if (xd != NULL && jd_type(d, m) == JD_OBJECT) { /* objects on both sides merge */
            key = jd_key(d, m, &klen);
            x = jd_get(xd, extra.i, key, klen);
        }
        if (x != 0 && jd_type(xd, x) == JD_OBJECT) {
            jb_merged(b, d, m, xd, x, sk);
        } else if (!jb_value(b, d, m, sk, 1)) {
            b->len = mark;
            b->p[mark] = '\0';
            continue;
        }
        wrote++;
    }
    if (xd != NULL) {
        jd_foreach(xd, extra.i, m)
        {
            key = jd_key(xd, m, &klen);
            if (filtered_get(d, obj.i, keys, key, klen) != 0 || cstr_is(key, klen, trace_key[0]) ||
                cstr_is(key, klen, trace_key[1]))
                continue;
            if (wrote++)
                jb_putc(b, ',');
            jb_member(b, xd, m);
            (void)jb_value(b, xd, m, NULL, 1);
        }
    }
    jb_putc(b, '}');
    return wrote > 0;
}

/*
 * Normalises object obj of d into ev. fill: only attributes ev lacks are set and attrs is
 * left alone (used for header-carried attributes under a JSON body). extra: attributes to
 * keep in attrs besides obj's unmapped members (extra.d NULL: none). The strings set go to
 * pool, or (NULL) to the heap, the values they replace freed.
 */
static void normalise(const struct envelope_map *map, const struct jdoc *d, uint32_t obj,
                      struct event *ev, struct jobj extra, int fill, struct strpool *pool)
{
    struct cand c[SLOT_N];
    uint32_t nest[NEST_N] = {0, 0, 0};
    struct skip sk;
    const char *key;
    size_t klen, i;
    uint32_t v;
    uint64_t keys = 0; /* the key filter of obj (see key_bit) */
    int a;

    memset(c, 0, sizeof c);
    sk.n = 0;

    /* Field map paths first: they win over every default spelling. */
    if (map != NULL) {
        for (a = 0; a < ENV_NATTRS; a++) {
            for (i = 0; i < map->n[a]; i++) {
                v = map_resolve(d, obj, &map->paths[a][i]);
                if (v != 0 && usable(d, a, v, 0)) {
                    c[a].v = v;
                    c[a].score = -1;
                    break;
                }
            }
        }
    }

    /* One pass over the top level, remembering the nested containers. */
    jd_foreach(d, obj, v)
    {
        int pen;
        const struct spelling *sp;
        key = jd_key(d, v, &klen);
        keys |= key_bit(key, klen);
        if ((sp = spelling_match(key, klen, &pen)) == NULL)
            continue;
        if (sp->slot == SLOT_NEST) {
            if (jd_type(d, v) == JD_OBJECT && nest[sp->rank] == 0)
                nest[sp->rank] = v;
            continue;
        }
        consider(d, &c[sp->slot], sp, v, 0, pen);
    }
    for (i = 0; i < NEST_N; i++) {
        if (nest[i] == 0)
            continue;
        jd_foreach(d, nest[i], v)
        {
            int pen;
            const struct spelling *sp;
            key = jd_key(d, v, &klen);
            sp = spelling_match(key, klen, &pen);
            if (sp != NULL && sp->slot != SLOT_NEST)
                consider(d, &c[sp->slot], sp, v, 1 + (int)i, pen);
        }
    }

    /* Apply the winners; the values taken are left out of attrs. */
    for (a = 0; a < ENV_NATTRS; a++) {
        if (c[a].v == 0)
            continue;
        if (fill && (a == ENV_DATA || !missing(ev, a)))
            continue;
        if (apply_attr(d, ev, a, &c[a], pool))
            sk.v[sk.n++] = c[a].v;
    }
    if (fill)
        return;
    for (a = SLOT_TRACEPARENT; a < SLOT_N; a++) {
        /* A nested one is hoisted only when the top level has no member of that name. */
        const char *name = a == SLOT_TRACEPARENT ? "traceparent" : "tracestate";
        v = filtered_get(d, obj, keys, name, strlen(name));
        if (v != 0 && v != c[a].v)
            c[a].v = 0;
        if (c[a].v != 0)
            sk.v[sk.n++] = c[a].v;
    }
    {
        /* extra may be a parse of the old attrs: they are freed only after (ev_text) */
        struct jbuf fresh, *t = text_buf(pool, &fresh);
        int keep = attrs_text(t, (struct jobj){d, obj}, keys, extra, &sk, &c[SLOT_TRACEPARENT]);
        ev_text(pool, &ev->attrs, t, keep);
    }
}

int envelope_from_doc(const struct envelope_map *map, const struct jdoc *d, uint32_t obj,
                      struct event *ev, const char **why)
{
    struct jdoc xd;
    struct jobj extra = {NULL, 0};

    if (why)
        *why = NULL;
    if (jd_type(d, obj) != JD_OBJECT) {
        if (why)
            *why = "not_an_object";
        return ES_EINVALID;
    }
    /* attrs already set (by a collector) are kept; the record's members win on a clash. */
    jdoc_init(&xd);
    if (ev->attrs != NULL && ev->attrs[0] != '\0' &&
        jdoc_parse(&xd, ev->attrs, strlen(ev->attrs), 0, JDOC_ALLOW_NUL) == ES_OK &&
        jd_type(&xd, 0) == JD_OBJECT) {
        extra.d = &xd;
        extra.i = 0;
    }
    normalise(map, d, obj, ev, extra, 0, NULL);
    jdoc_done(&xd);
    return ES_OK;
}

/* The compact text of a jansson value, parsed into d (NUL bytes in strings allowed). */
static int doc_of_json(struct jdoc *d, const json_t *v, char **text)
{
    *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (*text == NULL)
        return ES_EINVALID;
    return jdoc_parse(d, *text, strlen(*text), 0, JDOC_ALLOW_NUL);
}

int envelope_from_json(const struct envelope_map *map, json_t *obj, struct event *ev,
                       const char **why)
{
    struct jdoc d;
    char *text = NULL;
    int rc;

    if (why)
        *why = NULL;
    if (!json_is_object(obj)) {
        if (why)
            *why = "not_an_object";
        return ES_EINVALID;
    }
    jdoc_init(&d);
    rc = doc_of_json(&d, obj, &text);
    if (rc == ES_OK)
        rc = envelope_from_doc(map, &d, 0, ev, why);
    else if (why)
        *why = "invalid_json";
    jdoc_done(&d);
    free(text);
    return rc;
}

void envelope_copy_event(struct event *dst, const struct event *src)
{
    event_init(dst);
#define X(f) dst->f = xstrdup(src->f);
    EVENT_STR_FIELDS(X)
#undef X
    dst->time_us = src->time_us;
    dst->observed_us = src->observed_us;
    dst->payload_hash = src->payload_hash;
}

/* ---- Protocol messages --------------------------------------------------------------- */

/*
 * A message's headers and body are sorted into a few small ordered objects (the binary-mode
 * attributes, the plain headers, the attributes to keep) whose jdoc documents are then
 * built directly, node by node (the body and the template attrs are parsed once, their
 * nodes copied): no jansson value, no JSON text written to be read again, and no
 * allocation per message once the buffers of a struct envelope_msgbuf have grown. The
 * objects follow jansson's rules for the order of keys (insertion order; a replaced value
 * keeps its place), which the attrs text shows, so the output is what building them with
 * jansson gave.
 */

#define MSG_MAX_HEADERS 1024

/* 1 if s (len bytes) starts with the lowercase ASCII prefix, case-insensitively. */
static int iprefix(const char *s, size_t len, const char *prefix)
{
    size_t i, n = strlen(prefix);
    if (len < n)
        return 0;
    for (i = 0; i < n; i++)
        if (ascii_lower((unsigned char)s[i]) != prefix[i])
            return 0;
    return 1;
}

/* Length of a UTF-8 sequence at p (n bytes left) if well formed, else 0. NUL is refused. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    uint32_t cp;
    return p[0] == 0 ? 0 : event_utf8_seq(p, n, &cp);
}

/* Text: well-formed UTF-8 without NUL (a NUL means binary; "\u0000" also upsets readers). */
static int utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0, k;
    while ((i += ascii_run(p + i, n - i)) < n) {
        if ((k = utf8_seq(p + i, n - i)) == 0)
            return 0;
        i += k;
    }
    return 1;
}

/* A value of a message object: text (escaped when written) or JSON text (copied). */
enum mv_kind { MV_DEL, MV_STR, MV_BODY, MV_NODE, MV_OBJ, MV_INT, MV_BOOL };

struct mobj;

struct mval {
    int kind;         /* enum mv_kind; MV_DEL: the member was deleted */
    const char *ext;  /* MV_STR: the bytes, or NULL when they are in the arena */
    size_t off, len;  /* arena offset (ext NULL), length */
    uint32_t node;    /* MV_NODE: a node of the template attrs, MV_BODY: of the body */
    struct mobj *obj; /* MV_OBJ */
    int64_t i;        /* MV_INT; MV_BOOL: 0 or 1 */
};

struct mkv {
    size_t koff, klen; /* key, in the arena */
    struct mval v;
};

/* An ordered object: members in insertion order, as jansson keeps them. */
struct mobj {
    struct mkv *e;
    size_t n, cap, live;
};

#define MSG_NOBJ 7

struct envelope_msgbuf {
    struct jbuf arena; /* keys and decoded values of the current message */
    struct jbuf tmp;   /* percent-decoding */
    struct mobj ce, plain, hdrs, extra, thdrs, one;
    struct mobj ce_raw; /* the CloudEvents headers as named, in order, repeats not joined */
    char *ttext;       /* template attrs re-dumped by jansson (rare: see msg_template) */
    struct jdoc tdoc, bdoc; /* parsed: template attrs, body */
    struct jdoc rdoc, xdoc, pdoc; /* built: record, extra attrs, plain headers */
    int deep;          /* the body is JSON nested to the depth limit (see body_classify) */
    struct strpool pool; /* the strings of the events of the current message */
};

struct envelope_msgbuf *envelope_msgbuf_new(void)
{
    struct envelope_msgbuf *b = xcalloc(1, sizeof *b);
    jdoc_init(&b->tdoc);
    jdoc_init(&b->bdoc);
    jdoc_init(&b->rdoc);
    jdoc_init(&b->xdoc);
    jdoc_init(&b->pdoc);
    return b;
}

void envelope_msgbuf_free(struct envelope_msgbuf *b)
{
    struct mobj *objs[MSG_NOBJ];
    size_t i;

    if (b == NULL)
        return;
    objs[0] = &b->ce, objs[1] = &b->plain, objs[2] = &b->ce_raw, objs[3] = &b->hdrs;
    objs[4] = &b->extra, objs[5] = &b->thdrs, objs[6] = &b->one;
    for (i = 0; i < MSG_NOBJ; i++)
        free(objs[i]->e);
    free(b->arena.p);
    free(b->tmp.p);
    free(b->ttext);
    jdoc_done(&b->tdoc);
    jdoc_done(&b->bdoc);
    jdoc_done(&b->rdoc);
    jdoc_done(&b->xdoc);
    jdoc_done(&b->pdoc);
    strpool_reset(&b->pool);
    free(b->pool.head);
    free(b->pool.text.p);
    free(b);
}

static const char *mv_bytes(const struct envelope_msgbuf *b, const struct mval *v)
{
    return v->ext != NULL ? v->ext : b->arena.p + v->off;
}

static struct mval mv_ext(int kind, const char *p, size_t n)
{
    struct mval v = {kind, p, 0, n, 0, NULL, 0};
    return v;
}

/* Appends n bytes to the arena; returns their offset. */
static size_t arena_put(struct envelope_msgbuf *b, const char *s, size_t n)
{
    size_t off = b->arena.len;
    jb_put(&b->arena, s, n);
    return off;
}

static const char *mkey(const struct envelope_msgbuf *b, const struct mkv *kv)
{
    return b->arena.p + kv->koff;
}

/* Index of the live member named key, or -1. */
static long mobj_find(const struct envelope_msgbuf *b, const struct mobj *o, const char *key,
                      size_t klen)
{
    size_t i;
    for (i = 0; i < o->n; i++)
        if (o->e[i].v.kind != MV_DEL && o->e[i].klen == klen &&
            memcmp(mkey(b, &o->e[i]), key, klen) == 0)
            return (long)i;
    return -1;
}

/* Appends a member whose key is already in the arena at koff. */
static void mobj_append(struct mobj *o, size_t koff, size_t klen, struct mval v)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->e = xreallocarray(o->e, o->cap, sizeof *o->e);
    }
    o->e[o->n].koff = koff;
    o->e[o->n].klen = klen;
    o->e[o->n].v = v;
    o->n++;
    o->live++;
}

/* The key (koff, klen) in the arena: set to v unless present (jansson put-if-absent). */
static void put_first(struct envelope_msgbuf *b, struct mobj *o, size_t koff, size_t klen,
                      struct mval v)
{
    if (mobj_find(b, o, b->arena.p + koff, klen) < 0)
        mobj_append(o, koff, klen, v);
}

/* json_object_set: a present key keeps its place and takes the new value. */
static void put_set(struct envelope_msgbuf *b, struct mobj *o, const char *key, struct mval v)
{
    size_t klen = strlen(key);
    long i = mobj_find(b, o, key, klen);
    if (i >= 0)
        o->e[i].v = v;
    else
        mobj_append(o, arena_put(b, key, klen), klen, v);
}

/* For the headers objects: a repeated header's values are joined with ", ". */
static void put_joined(struct envelope_msgbuf *b, struct mobj *o, size_t koff, size_t klen,
                       struct mval v)
{
    long i = mobj_find(b, o, b->arena.p + koff, klen);
    struct mval *old;
    size_t off, n;

    if (i < 0) {
        mobj_append(o, koff, klen, v);
        return;
    }
    old = &o->e[i].v;
    if (old->kind != MV_STR || v.kind != MV_STR)
        return;
    n = old->len + 2 + v.len;
    jb_grow(&b->arena, n);
    off = b->arena.len;
    memcpy(b->arena.p + off, mv_bytes(b, old), old->len);
    memcpy(b->arena.p + off + old->len, ", ", 2);
    memcpy(b->arena.p + off + old->len + 2, mv_bytes(b, &v), v.len);
    b->arena.len += n;
    b->arena.p[b->arena.len] = '\0';
    old->ext = NULL;
    old->off = off;
    old->len = n;
}

/* A new node of a document being built (zeroed). */
static uint32_t build_node(struct jdoc *d, enum jd_type type)
{
    if (d->nn == d->ncap) {
        d->ncap = d->ncap ? d->ncap * 2 : 64;
        d->n = xreallocarray(d->n, d->ncap, sizeof *d->n);
    }
    memset(&d->n[d->nn], 0, sizeof d->n[0]);
    d->n[d->nn].type = (uint8_t)type;
    d->n[d->nn].end = d->nn + 1;
    return d->nn++;
}

/* n bytes (no NUL among them) into the string arena, NUL-terminated; returns the offset. */
static uint32_t build_str(struct jdoc *d, const char *s, size_t n)
{
    size_t off = d->slen;
    if (d->scap - d->slen <= n) {
        while (d->scap - d->slen <= n)
            d->scap = d->scap ? d->scap * 2 : 1024;
        d->s = xrealloc(d->s, d->scap);
    }
    if (n > 0) /* s may be NULL when n is 0 */
        memcpy(d->s + off, s, n);
    d->s[off + n] = '\0';
    d->slen += n + 1;
    return (uint32_t)off;
}

/*
 * Copies node i of src with its descendants into d (keys and strings into d's arena; the
 * copy's own key is left empty for the caller to set). Spans stay valid only where d reads
 * the same text as src: elsewhere the copies lose JD_CANON and are written from their
 * values. The nodes go over in one block and their strings in one span of src's arena
 * (the range their offsets cover), the offsets moved; the byte after the span is a NUL that
 * empty strings point at.
 */
static uint32_t build_copy(struct jdoc *d, const struct jdoc *src, uint32_t i)
{
    uint32_t base = d->nn, k, cnt = src->n[i].end - i;
    int same_text = d->text == src->text;
    size_t lo = SIZE_MAX, hi = 0, at, empty;

    if (cnt == 1) { /* a scalar (most copies): the node and its string, if any */
        struct jd_node *n;
        uint32_t me = build_node(d, JD_NULL), off;
        off = build_str(d, src->n[i].type == JD_STRING ? src->s + src->n[i].v.s.off : "",
                        src->n[i].type == JD_STRING ? src->n[i].v.s.len : 0);
        n = &d->n[me];
        *n = src->n[i];
        n->next = 0;
        n->end = me + 1;
        n->key = off + (n->type == JD_STRING ? n->v.s.len : 0); /* the NUL: an empty key */
        n->klen = 0;
        if (!same_text)
            n->flags = (uint8_t)(n->flags & ~JD_CANON);
        if (n->type == JD_STRING)
            n->v.s.off = off;
        return me;
    }

    for (k = 0; k < cnt; k++) {
        const struct jd_node *sn = &src->n[i + k];
        if (k > 0 && sn->klen) {
            lo = sn->key < lo ? sn->key : lo;
            hi = sn->key + sn->klen + 1 > hi ? sn->key + sn->klen + 1 : hi;
        }
        if (sn->type == JD_STRING && sn->v.s.len) {
            lo = sn->v.s.off < lo ? sn->v.s.off : lo;
            hi = sn->v.s.off + sn->v.s.len + 1 > hi ? sn->v.s.off + sn->v.s.len + 1 : hi;
        }
    }
    if (lo > hi)
        lo = hi = 0; /* no strings (src->s may be NULL) */
    at = build_str(d, hi > lo ? src->s + lo : "", hi - lo);
    empty = at + (hi - lo);
    if (d->ncap - d->nn < cnt) {
        while (d->ncap - d->nn < cnt)
            d->ncap = d->ncap ? d->ncap * 2 : 64;
        d->n = xreallocarray(d->n, d->ncap, sizeof *d->n);
    }
    memcpy(&d->n[base], &src->n[i], cnt * sizeof d->n[0]);
    d->nn += cnt;
    for (k = 0; k < cnt; k++) {
        struct jd_node *n = &d->n[base + k];
        n->next = n->next && k > 0 ? n->next - i + base : 0;
        n->end = n->end - i + base;
        if (!same_text)
            n->flags = (uint8_t)(n->flags & ~JD_CANON);
        n->key = (uint32_t)(k > 0 && n->klen ? n->key - lo + at : empty);
        if (k == 0)
            n->klen = 0;
        if (n->type == JD_STRING)
            n->v.s.off = (uint32_t)(n->v.s.len ? n->v.s.off - lo + at : empty);
    }
    return base;
}

/* Makes node c the next member (named key) of the object being built. */
static void build_member(struct jdoc *d, uint32_t c, const char *key, size_t klen, uint32_t *prev,
                         uint32_t *count)
{
    d->n[c].key = build_str(d, key, klen);
    d->n[c].klen = (uint32_t)klen;
    if (*prev)
        d->n[*prev].next = c;
    *prev = c;
    (*count)++;
}

/* Builds object o as a node of d; returns its index. */
static uint32_t build_obj(struct envelope_msgbuf *b, struct jdoc *d, const struct mobj *o)
{
    uint32_t me = build_node(d, JD_OBJECT), prev = 0, count = 0, c;
    size_t i;

    for (i = 0; i < o->n; i++) {
        const struct mkv *kv = &o->e[i];
        switch (kv->v.kind) {
        case MV_DEL:
            continue;
        case MV_STR:
            c = build_node(d, JD_STRING);
            d->n[c].v.s.len = (uint32_t)kv->v.len;
            d->n[c].v.s.off = build_str(d, mv_bytes(b, &kv->v), kv->v.len);
            break;
        case MV_BODY:
            c = build_copy(d, &b->bdoc, kv->v.node);
            break;
        case MV_NODE:
            c = build_copy(d, &b->tdoc, kv->v.node);
            break;
        case MV_INT:
            c = build_node(d, JD_INT);
            d->n[c].v.i = kv->v.i;
            break;
        case MV_BOOL:
            c = build_node(d, kv->v.i ? JD_TRUE : JD_FALSE);
            break;
        default:
            c = build_obj(b, d, kv->v.obj);
        }
        build_member(d, c, mkey(b, kv), kv->klen, &prev, &count);
    }
    d->n[me].count = count;
    d->n[me].end = d->nn;
    return me;
}

/* d := object o, whose copied nodes read text (the body's or the template's). */
static void mobj_doc(struct envelope_msgbuf *b, const struct mobj *o, const struct jdoc *text,
                     struct jdoc *d)
{
    d->text = text->text;
    d->len = text->len;
    d->nn = 0;
    d->slen = 0;
    (void)build_obj(b, d, o);
}

/*
 * A header value (or name) as text: percent-decoded when asked (HTTP binding, RFC 3986
 * %XX), bytes that are not UTF-8 and NULs replaced by U+FFFD. In the arena, or when
 * borrow is set and the bytes need no change, the caller's (they outlive the call).
 */
static struct mval header_string(struct envelope_msgbuf *b, const char *s, size_t n, int pct,
                                 int borrow)
{
    struct mval v = {MV_STR, NULL, 0, 0, 0, NULL, 0};
    struct cursor c;
    size_t i, run = 0, k;

    if (s == NULL)
        s = "", n = 0;
    if (pct && memchr(s, '%', n) != NULL) {
        size_t dn = 0;
        jb_grow(&b->tmp, n);
        cur_init(&c, s, n);
        while (c.left) {
            uint8_t ch = cur_u8(&c);
            if (ch == '%' && c.left >= 2) {
                const uint8_t *h = c.p;
                int hi = cur_hexval(h[0]), lo = cur_hexval(h[1]);
                if (hi >= 0 && lo >= 0) {
                    ch = (uint8_t)(hi << 4 | lo);
                    cur_skip(&c, 2);
                }
            }
            b->tmp.p[dn++] = (char)ch;
        }
        s = b->tmp.p;
        n = dn;
        borrow = 0;
    }
    i = ascii_run(s, n);
    if (borrow && i == n)
        return mv_ext(MV_STR, s, n);
    v.off = b->arena.len;
    while (i < n) {
        if ((k = utf8_seq((const uint8_t *)s + i, n - i)) == 0) {
            jb_put(&b->arena, s + run, i - run);
            jb_put(&b->arena, "\xef\xbf\xbd", 3);
            run = ++i;
        } else {
            i += k;
        }
        i += ascii_run(s + i, n - i);
    }
    jb_put(&b->arena, s + run, n - run);
    v.len = b->arena.len - v.off;
    return v;
}

/* A lowercase copy of arena bytes [off, off + n); returns its offset. */
static size_t arena_lower(struct envelope_msgbuf *b, size_t off, size_t n)
{
    size_t to;

    jb_grow(&b->arena, n);
    to = b->arena.len;
    ascii_lower_copy(b->arena.p + to, b->arena.p + off, n);
    b->arena.len += n;
    b->arena.p[b->arena.len] = '\0';
    return to;
}

/*
 * A header name into the arena as a key (header_string's text, returned) and lowercased
 * from byte skip on, at *low: both copies at once for a name of plain ASCII.
 */
static struct mval header_name(struct envelope_msgbuf *b, const char *s, size_t n, size_t skip,
                               size_t *low)
{
    struct mval v = {MV_STR, NULL, 0, n, 0, NULL, 0};

    if (s == NULL || ascii_run(s, n) < n) {
        v = header_string(b, s, n, 0, 0);
        *low = arena_lower(b, v.off + skip, v.len - skip);
        return v;
    }
    jb_grow(&b->arena, 2 * n - skip);
    v.off = b->arena.len;
    memcpy(b->arena.p + v.off, s, n);
    *low = v.off + n;
    ascii_lower_copy(b->arena.p + *low, s + skip, n - skip);
    b->arena.len += 2 * n - skip;
    b->arena.p[b->arena.len] = '\0';
    return v;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The base64 text of n bytes, in the arena. */
static struct mval base64_string(struct envelope_msgbuf *b, const uint8_t *p, size_t n)
{
    struct mval v = {MV_STR, NULL, 0, (n + 2) / 3 * 4, 0, NULL, 0};
    size_t i, o;
    char *out;

    jb_grow(&b->arena, v.len);
    v.off = o = b->arena.len;
    out = b->arena.p;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t x = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64chars[x >> 18 & 63];
        out[o++] = b64chars[x >> 12 & 63];
        out[o++] = b64chars[x >> 6 & 63];
        out[o++] = b64chars[x & 63];
    }
    if (i < n) {
        uint32_t x = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        out[o++] = b64chars[x >> 18 & 63];
        out[o++] = b64chars[x >> 12 & 63];
        out[o++] = i + 1 < n ? b64chars[x >> 6 & 63] : '=';
        out[o++] = '=';
    }
    b->arena.len = o;
    out[o] = '\0';
    return v;
}

/* Strips a binding's CloudEvents prefix; returns its length, 0 when name has none. */
static size_t ce_prefix(enum envelope_binding binding, const char *name, size_t len)
{
    if (len < 3 || ascii_lower((unsigned char)name[0]) != 'c')
        return 0; /* every prefix starts with "c" */
    /* Every binding's own prefix first; the others are tolerated (mislabelled bridges). */
    if (binding == ENV_BIND_AMQP) {
        if (iprefix(name, len, "cloudevents:"))
            return 12;
        if (iprefix(name, len, "cloudevents_"))
            return 12;
    }
    if (iprefix(name, len, "ce-") || iprefix(name, len, "ce_"))
        return 3;
    if (iprefix(name, len, "cloudevents:") || iprefix(name, len, "cloudevents_"))
        return 12;
    return 0;
}

/* The content type of a message (borrowed from its headers), NULL when absent. */
struct msg_headers {
    const char *ctype;
    size_t ctype_len;
    const char *mtype; /* the media type: ctype up to ';', blanks trimmed */
    size_t mtype_len;
};

/* 1 when the len bytes at s are the NUL-terminated word. */
static int word_is(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

/*
 * extra := the transport attributes ta, as values: what parsing their JSON text would give
 * (a string that is not UTF-8 or holds a NUL left out, as jdoc refuses it).
 */
static void attrs_values(struct envelope_msgbuf *b, const struct envelope_tattr *ta, size_t nta)
{
    size_t i;

    /* no member refers to the template's document: it reads as empty */
    b->tdoc.text = NULL;
    b->tdoc.len = 0;
    b->tdoc.nn = 0;
    b->tdoc.slen = 0;
    for (i = 0; i < nta; i++) {
        const struct envelope_tattr *a = &ta[i];
        size_t klen = strlen(a->key);
        struct mval v = {MV_STR, NULL, 0, 0, 0, NULL, 0};
        switch (a->type) {
        case ENV_TATTR_STR:
            if (!utf8_valid((const uint8_t *)a->s, a->len))
                continue;
            v = mv_ext(MV_STR, a->s, a->len);
            break;
        case ENV_TATTR_INT:
            v.kind = MV_INT;
            v.i = a->i;
            break;
        default:
            v.kind = MV_BOOL;
            v.i = a->i != 0;
        }
        mobj_append(&b->extra, arena_put(b, a->key, klen), klen, v);
    }
}

/*
 * extra starts as the template's attrs, parsed with jdoc (or, with none, the transport
 * attributes ta as values); an object jdoc refuses but jansson's json_loads takes
 * (duplicate keys: the last value wins, in the first one's place) goes through jansson
 * once, so that both read the same.
 */
static void msg_template(struct envelope_msgbuf *b, const struct event *tmpl,
                         const struct envelope_tattr *ta, size_t nta)
{
    uint32_t m;
    int ok;

    if (tmpl == NULL || tmpl->attrs == NULL) {
        attrs_values(b, ta, nta);
        return;
    }
    ok = jdoc_parse(&b->tdoc, tmpl->attrs, strlen(tmpl->attrs), 0, 0) == ES_OK;
    if (!ok) {
        json_t *j = json_loads(tmpl->attrs, 0, NULL);
        if (json_is_object(j)) {
            free(b->ttext);
            b->ttext = json_dumps(j, JSON_COMPACT);
            ok = b->ttext != NULL &&
                 jdoc_parse(&b->tdoc, b->ttext, strlen(b->ttext), 0, JDOC_ALLOW_NUL) == ES_OK;
        }
        json_decref(j);
    }
    if (!ok || jd_type(&b->tdoc, 0) != JD_OBJECT)
        return;
    jd_foreach(&b->tdoc, 0, m)
    {
        size_t klen;
        const char *key = jd_key(&b->tdoc, m, &klen);
        struct mval v = {MV_NODE, NULL, 0, 0, m, NULL, 0};
        mobj_append(&b->extra, arena_put(b, key, klen), klen, v);
    }
}

static void headers_sort(struct envelope_msgbuf *b, struct msg_headers *mh,
                         enum envelope_binding binding, const struct envelope_header *h, size_t nh,
                         const struct event *tmpl, const struct envelope_tattr *ta, size_t nta)
{
    size_t i;
    int plain_ce = 0;

    b->arena.len = 0;
    b->ce.n = b->plain.n = b->ce_raw.n = b->hdrs.n = b->extra.n = b->thdrs.n = 0;
    b->ce.live = b->plain.live = b->ce_raw.live = b->hdrs.live = b->extra.live = 0;
    b->thdrs.live = 0;
    mh->ctype = NULL;
    mh->ctype_len = 0;
    msg_template(b, tmpl, ta, nta);
    if (nh > MSG_MAX_HEADERS)
        nh = MSG_MAX_HEADERS;

    /* MQTT 5 and NATS carry attributes under their plain names (MQTT binding 3.1.3). */
    if (binding == ENV_BIND_MQTT || binding == ENV_BIND_NATS)
        for (i = 0; i < nh; i++)
            if (h[i].name != NULL && ieq(h[i].name, h[i].name_len, "specversion"))
                plain_ce = 1;

    for (i = 0; i < nh; i++) {
        struct mval nm, val;
        size_t len, pre, low;
        const char *lw;
        int ctype, trace;

        if (h[i].name == NULL || h[i].name_len == 0)
            continue;
        /* Names become JSON keys: made valid UTF-8 like values (the bytes are foreign). The
         * prefix is ASCII, so it is the same before and after that. */
        pre = ce_prefix(binding, h[i].name, h[i].name_len);
        nm = header_name(b, h[i].name, h[i].name_len, pre < h[i].name_len ? pre : 0, &low);
        len = nm.len;
        if (pre > 0 && pre < len) {
            val = header_string(b, h[i].value, h[i].value ? h[i].value_len : 0,
                                binding == ENV_BIND_HTTP, 1);
            mobj_append(&b->ce_raw, nm.off, len, val); /* joined if ever needed */
            put_first(b, &b->ce, low, len - pre, val);
            continue;
        }
        val = header_string(b, h[i].value, h[i].value ? h[i].value_len : 0, 0, 1);
        lw = b->arena.p + low;
        ctype = word_is(lw, len, "content-type") || word_is(lw, len, "content_type");
        trace = word_is(lw, len, "traceparent") || word_is(lw, len, "tracestate");
        if (ctype) {
            if (mh->ctype == NULL && h[i].value != NULL) {
                mh->ctype = h[i].value;
                mh->ctype_len = h[i].value_len;
            }
        } else if (trace) {
            put_first(b, &b->extra, low, len, val);
        }
        if (plain_ce && !ctype && !trace) {
            put_first(b, &b->ce, low, len, val);
            continue;
        }
        /* Raw header, as named, for attrs (trace context is already at the top). */
        if (!trace)
            put_joined(b, &b->hdrs, nm.off, len, val);
        lw = b->arena.p + low;
        if (word_is(lw, len, "correlation-data")) /* MQTT 5 request/response */
            put_first(b, &b->plain, arena_put(b, "correlation-id", 14), 14, val);
        else if (iprefix(lw, len, "x-") && spelling_find(lw + 2, len - 2))
            put_first(b, &b->plain, low + 2, len - 2, val);
        else
            put_first(b, &b->plain, low, len, val);
    }
    if (b->hdrs.live > 0) {
        struct mval v = {MV_OBJ, NULL, 0, 0, 0, &b->hdrs, 0};
        put_set(b, &b->extra, "headers", v);
    }
}

/* Structured and batched modes ignore CloudEvents headers: they stay in attrs "headers". */
static void headers_keep_ce(struct envelope_msgbuf *b)
{
    struct mobj *to;
    long i;
    size_t k;

    if (b->ce_raw.live == 0)
        return;
    i = mobj_find(b, &b->extra, "headers", 7);
    if (i >= 0 && b->extra.e[i].v.kind == MV_OBJ) {
        to = b->extra.e[i].v.obj;
    } else {
        /* a new object, or the template's "headers" object taken member by member */
        struct mval v = {MV_OBJ, NULL, 0, 0, 0, &b->thdrs, 0};
        to = &b->thdrs;
        if (i >= 0 && b->extra.e[i].v.kind == MV_NODE &&
            jd_type(&b->tdoc, b->extra.e[i].v.node) == JD_OBJECT) {
            uint32_t m;
            jd_foreach(&b->tdoc, b->extra.e[i].v.node, m)
            {
                size_t klen;
                const char *key = jd_key(&b->tdoc, m, &klen);
                struct mval mv = {MV_NODE, NULL, 0, 0, m, NULL, 0};
                mobj_append(to, arena_put(b, key, klen), klen, mv);
            }
        }
        put_set(b, &b->extra, "headers", v);
    }
    /* the CloudEvents headers as named, repeats joined (b->one is free until emit_data) */
    b->one.n = b->one.live = 0;
    for (k = 0; k < b->ce_raw.n; k++)
        put_joined(b, &b->one, b->ce_raw.e[k].koff, b->ce_raw.e[k].klen, b->ce_raw.e[k].v);
    for (k = 0; k < b->one.n; k++)
        put_first(b, to, b->one.e[k].koff, b->one.e[k].klen, b->one.e[k].v);
}

/* mh's media type: its content type up to ';', blanks trimmed. */
static void media_type(struct msg_headers *mh)
{
    size_t n = 0;
    const char *s = mh->ctype;
    if (s != NULL) {
        while (n < mh->ctype_len && s[n] != ';')
            n++;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        while (n && (s[0] == ' ' || s[0] == '\t'))
            s++, n--;
    }
    mh->mtype = s;
    mh->mtype_len = n;
}

/* 1 when the media type is want (lowercase), compared case-insensitively. */
static int ctype_is(const struct msg_headers *mh, const char *want)
{
    return mh->mtype != NULL && mh->mtype_len == strlen(want) &&
           ieq(mh->mtype, mh->mtype_len, want);
}

/* What the body is: nothing, JSON (parsed in b->bdoc), UTF-8 text, or binary (base64). */
enum body_kind { BODY_NONE, BODY_JSON, BODY_TEXT, BODY_B64 };

struct msg_ctx {
    const struct envelope_map *map;
    struct envelope_msgbuf *b;
    const struct event *tmpl;
    struct jobj extra;        /* attrs to keep (d NULL: none) */
    const struct jdoc *plain; /* header-carried attributes (NULL: none) */
    envelope_emit_fn emit;
    void *ctx;
};

/*
 * Normalises object obj of d (the record, or the attributes of a binary-mode message;
 * d NULL: unreadable, the event keeps the template's fields only) and emits it, its
 * location suffixed "#index" when index >= 0.
 */
static int emit_one(struct msg_ctx *mc, const struct jdoc *d, uint32_t obj, long index)
{
    struct strpool *pool = &mc->b->pool;
    struct event ev;

    /* The template's strings are borrowed and what normalising sets is in the pool: the
     * callback borrows the event, and nothing of it is freed here. */
    if (mc->tmpl != NULL)
        ev = *mc->tmpl;
    else
        event_init(&ev);
    ev.attrs = NULL;
    if (index >= 0 && ev.location != NULL) {
        char num[24];
        size_t n = strlen(ev.location), k = sizeof num, tail;
        unsigned long x = (unsigned long)index;
        char *loc;
        do
            num[--k] = (char)('0' + x % 10);
        while ((x /= 10) != 0);
        num[--k] = '#';
        tail = sizeof num - k;
        loc = strpool_alloc(pool, n + tail);
        memcpy(loc, ev.location, n);
        memcpy(loc + n, num + k, tail);
        ev.location = loc;
    }
    if (d != NULL)
        normalise(mc->map, d, obj, &ev, mc->extra, 0, pool);
    /* Header-carried attributes (AMQP message-id, ...) fill what the record lacks. */
    if (mc->plain != NULL)
        normalise(mc->map, mc->plain, 0, &ev, (struct jobj){NULL, 0}, 1, pool);
    return mc->emit(mc->ctx, &ev);
}

/* An event whose record is {"data": v} ({} when v is MV_DEL). */
static int emit_data(struct msg_ctx *mc, struct mval v, long index)
{
    struct envelope_msgbuf *b = mc->b;
    int ok;

    b->one.n = b->one.live = 0;
    if (v.kind != MV_DEL)
        put_set(b, &b->one, "data", v);
    /* {"data": body} is one level deeper than the body (unreadable at the limit) */
    ok = !(v.kind == MV_BODY && v.node == 0 && b->deep);
    mobj_doc(b, &b->one, &b->bdoc, &b->rdoc);
    return emit_one(mc, ok ? &b->rdoc : NULL, 0, index);
}

/*
 * The body as a JSON value when it is one (in b->bdoc), else as a string (text or base64).
 * A body nested exactly to the depth limit is JSON, but a record holding it would be one
 * level too deep: b->deep says so (such a record was unreadable, and still is).
 */
static enum body_kind body_classify(struct envelope_msgbuf *b, const uint8_t *body, size_t len,
                                    struct mval *v)
{
    b->deep = 0;
    if (len == 0 || body == NULL) {
        *v = mv_ext(MV_DEL, NULL, 0);
        return BODY_NONE;
    }
    if (jdoc_parse(&b->bdoc, (const char *)body, len, JDOC_MAX_DEPTH - 1, 0) == ES_OK ||
        (b->bdoc.why != NULL && strcmp(b->bdoc.why, "json_too_deep") == 0 &&
         (b->deep = jdoc_parse(&b->bdoc, (const char *)body, len, 0, 0) == ES_OK))) {
        *v = mv_ext(MV_BODY, NULL, 0);
        return BODY_JSON;
    }
    if (utf8_valid(body, len)) {
        *v = mv_ext(MV_STR, (const char *)body, len);
        return BODY_TEXT;
    }
    *v = base64_string(b, body, len);
    return BODY_B64;
}

/*
 * Binary content mode: the attributes from the headers plus "data" (the body) as one
 * record in b->rdoc. Returns the body's kind; *ok 0 when the record cannot be read.
 */
static enum body_kind binary_record(struct envelope_msgbuf *b, const struct msg_headers *mh,
                                    const uint8_t *body, size_t len, int *ok)
{
    enum body_kind kind;
    struct mval v;

    if (mh->ctype != NULL && mobj_find(b, &b->ce, "datacontenttype", 15) < 0)
        put_set(b, &b->ce, "datacontenttype", header_string(b, mh->ctype, mh->ctype_len, 0, 1));
    kind = body_classify(b, body, len, &v);
    if (kind == BODY_NONE) {
        long i = mobj_find(b, &b->ce, "data", 4);
        if (i >= 0) {
            b->ce.e[i].v.kind = MV_DEL;
            b->ce.live--;
        }
    } else {
        put_set(b, &b->ce, "data", v);
    }
    mobj_doc(b, &b->ce, &b->bdoc, &b->rdoc);
    *ok = !b->deep;
    return kind;
}

int envelope_from_message_buf(struct envelope_msgbuf *b, const struct envelope_map *map,
                              enum envelope_binding binding, const struct envelope_header *h,
                              size_t nh, const uint8_t *body, size_t len,
                              const struct event *tmpl, const struct envelope_tattr *ta,
                              size_t nta, envelope_emit_fn emit, void *ctx, const char **why)
{
    struct msg_headers mh;
    struct msg_ctx mc;
    struct mval bv;
    enum body_kind kind;
    int rc = ES_OK, batch, structured, binary, rec_ok = 0;

    if (why)
        *why = NULL;
    strpool_reset(&b->pool); /* the last message's events are gone */
    headers_sort(b, &mh, binding, h, nh, tmpl, ta, nta);
    media_type(&mh);
    batch = ctype_is(&mh, "application/cloudevents-batch+json");
    structured = !batch && (ctype_is(&mh, "application/cloudevents+json") ||
                            ctype_is(&mh, "application/cloudevents"));
    binary = !batch && !structured && b->ce.live > 0;
    if (binary) {
        kind = binary_record(b, &mh, body, len, &rec_ok);
        bv = mv_ext(MV_DEL, NULL, 0);
    } else {
        kind = body_classify(b, body, len, &bv);
    }
    if (kind == BODY_B64) /* not UTF-8: data holds the base64 of the bytes */
        put_set(b, &b->extra, "dataencoding", mv_ext(MV_STR, "base64", 6));
    if (batch || structured)
        headers_keep_ce(b);

    mc.map = map;
    mc.b = b;
    mc.tmpl = tmpl;
    mc.extra.d = NULL;
    mc.extra.i = 0;
    mobj_doc(b, &b->extra, &b->tdoc, &b->xdoc);
    mc.extra.d = &b->xdoc;
    mc.plain = NULL;
    if (b->plain.live > 0) {
        mobj_doc(b, &b->plain, &b->tdoc, &b->pdoc);
        mc.plain = &b->pdoc;
    }
    mc.emit = emit;
    mc.ctx = ctx;

    if (batch) {
        /* Batched content mode (HTTP binding 3.3): a JSON array of structured events. */
        uint32_t el;
        long i = 0;
        if (kind != BODY_JSON || jd_type(&b->bdoc, 0) != JD_ARRAY) {
            if (why)
                *why = "cloudevents_batch_not_array";
            return emit_data(&mc, bv, -1);
        }
        for (el = jd_first(&b->bdoc, 0); el != 0 && rc == ES_OK; el = jd_next(&b->bdoc, el)) {
            if (jd_type(&b->bdoc, el) == JD_OBJECT) {
                rc = emit_one(&mc, &b->bdoc, el, i++);
            } else {
                struct mval ev = {MV_BODY, NULL, 0, 0, el, NULL, 0};
                if (why)
                    *why = "cloudevents_batch_element_not_object";
                rc = emit_data(&mc, ev, i++);
            }
        }
        return rc;
    }
    if (structured) {
        /* Structured content mode: the body is the event. */
        if (kind == BODY_JSON && jd_type(&b->bdoc, 0) == JD_OBJECT)
            return emit_one(&mc, &b->bdoc, 0, -1);
        if (why)
            *why = "cloudevents_structured_not_object";
        return emit_data(&mc, bv, -1);
    }
    if (binary) /* Binary content mode: attributes in headers, the body is data. */
        return emit_one(&mc, rec_ok ? &b->rdoc : NULL, 0, -1);
    /* No CloudEvents headers: a JSON body is a record, like a log line. */
    if (kind == BODY_JSON && jd_type(&b->bdoc, 0) == JD_OBJECT)
        return emit_one(&mc, &b->bdoc, 0, -1);
    return emit_data(&mc, bv, -1);
}

int envelope_from_message(const struct envelope_map *map, enum envelope_binding binding,
                          const struct envelope_header *h, size_t nh, const uint8_t *body,
                          size_t len, const struct event *tmpl, envelope_emit_fn emit,
                          void *ctx, const char **why)
{
    struct envelope_msgbuf *b = envelope_msgbuf_new();
    int rc = envelope_from_message_buf(b, map, binding, h, nh, body, len, tmpl, NULL, 0, emit,
                                       ctx, why);
    envelope_msgbuf_free(b);
    return rc;
}
