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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Sorted by strcmp (bsearch); the rank keeps DESIGN.md's order of spellings. */
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

static int lower(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch;
}

/* Case-insensitive ASCII comparison of a (alen bytes) with NUL-terminated lowercase b. */
static int ieq(const char *a, size_t alen, const char *b)
{
    size_t i;
    for (i = 0; i < alen; i++)
        if (b[i] == '\0' || lower((unsigned char)a[i]) != b[i])
            return 0;
    return b[alen] == '\0';
}

static const struct spelling *spelling_find(const char *key, size_t len)
{
    char low[SPELLING_MAX + 1];
    size_t i, lo = 0, hi = sizeof spellings / sizeof spellings[0];

    if (len == 0 || len > SPELLING_MAX)
        return NULL;
    for (i = 0; i < len; i++)
        low[i] = (char)lower((unsigned char)key[i]);
    low[len] = '\0';
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(spellings[mid].name, low);
        if (c == 0)
            return &spellings[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
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
    size_t i, run = 0;

    jb_grow(b, n + 2);
    jb_putc(b, '"');
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char e[6] = {'\\', 0, 0, 0, 0, 0};
        size_t elen = 2;
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        jb_put(b, s + run, i - run);
        run = i + 1;
        switch (ch) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        default:
            e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hex[ch >> 4], e[5] = hex[ch & 15];
            elen = 6;
        }
        jb_put(b, e, elen);
    }
    jb_put(b, s + run, n - run);
    jb_putc(b, '"');
}

/* Shortest "%.Ng" that reads back as d; JSON reals keep a '.' or exponent. */
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

/* The data attribute: JSON text; a string that holds a JSON object or array is parsed. */
static char *data_text(const struct jdoc *d, uint32_t v, int b64)
{
    if (jd_type(d, v) == JD_STRING && !b64) {
        size_t n, i = 0;
        const char *s = jd_str(d, v, &n);
        while (i < n && is_blank((unsigned char)s[i]))
            i++;
        if (i < n && (s[i] == '{' || s[i] == '[')) {
            struct jdoc inner;
            char *t = NULL;
            jdoc_init(&inner);
            if (jdoc_parse(&inner, s, n, 0, 0) == ES_OK)
                t = json_text(&inner, 0);
            jdoc_done(&inner);
            if (t != NULL)
                return t;
        }
    }
    return json_text(d, v);
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

/* Sets one attribute from its winning value. Returns 0 when the value was not usable. */
static int apply_attr(const struct jdoc *d, struct event *ev, int attr, const struct cand *c)
{
    char num[40];
    const char *s;
    size_t n;

    switch (attr) {
    case ENV_TIME: {
        int64_t us;
        if (!scalar_text(d, c->v, &s, &n, num, sizeof num))
            return 0;
        event_set(&ev->time_raw, s, n);
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
        free(ev->vclock);
        ev->vclock = vclock_to_json(&vc);
        vclock_done(&vc);
        return 1;
    }
    case ENV_DATA:
        free(ev->data);
        ev->data = data_text(d, c->v, c->b64);
        ev->payload_hash = 0;
        return 1;
    case ENV_VERSION:
        return 0; /* no column: kept in attrs under its own name */
    default:
        if (!scalar_text(d, c->v, &s, &n, num, sizeof num))
            return 0;
        event_set(str_field(ev, attr), s, n);
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
 * Writes attrs: the hoisted trace context, obj's members minus the consumed ones, then the
 * members of extra (transport attributes) whose key obj does not have. Objects present in
 * both are merged (obj's members first). NULL when there is nothing to keep.
 */
static char *attrs_text(struct jobj obj, struct jobj extra, const struct skip *sk,
                        const struct cand *trace)
{
    static const char *const trace_key[2] = {"traceparent", "tracestate"};
    const struct jdoc *d = obj.d, *xd = extra.d;
    struct jbuf b = {NULL, 0, 0};
    size_t klen, wrote = 0, i;
    const char *key;
    uint32_t m;

    jb_putc(&b, '{');
    /* Trace context first, from the record (any level) or else from the transport. */
    for (i = 0; i < 2; i++) {
        size_t tlen = strlen(trace_key[i]);
        const struct jdoc *td = d;
        uint32_t t = trace[i].v;
        if (t == 0 && xd != NULL && jd_get(d, obj.i, trace_key[i], tlen) == 0) {
            t = jd_get(xd, extra.i, trace_key[i], tlen);
            td = xd;
        }
        if (t == 0)
            continue;
        if (wrote++)
            jb_putc(&b, ',');
        jb_str(&b, trace_key[i], tlen);
        jb_putc(&b, ':');
        (void)jb_value(&b, td, t, NULL, 1);
    }
    jd_foreach(d, obj.i, m)
    {
        size_t mark = b.len;
        uint32_t x;
        if (skip_has(sk, m))
            continue;
        if (wrote)
            jb_putc(&b, ',');
        jb_member(&b, d, m);
        key = jd_key(d, m, &klen);
        x = xd != NULL ? jd_get(xd, extra.i, key, klen) : 0;
        if (jd_type(d, m) == JD_OBJECT && x != 0 && jd_type(xd, x) == JD_OBJECT) {
            jb_merged(&b, d, m, xd, x, sk);
        } else if (!jb_value(&b, d, m, sk, 1)) {
            b.len = mark;
            b.p[mark] = '\0';
            continue;
        }
        wrote++;
    }
    if (xd != NULL) {
        jd_foreach(xd, extra.i, m)
        {
            key = jd_key(xd, m, &klen);
            if (jd_get(d, obj.i, key, klen) != 0 || strcmp(key, trace_key[0]) == 0 ||
                strcmp(key, trace_key[1]) == 0)
                continue;
            if (wrote++)
                jb_putc(&b, ',');
            jb_member(&b, xd, m);
            (void)jb_value(&b, xd, m, NULL, 1);
        }
    }
    jb_putc(&b, '}');
    if (wrote == 0) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/*
 * Normalises object obj of d into ev. fill: only attributes ev lacks are set and attrs is
 * left alone (used for header-carried attributes under a JSON body). extra: attributes to
 * keep in attrs besides obj's unmapped members (extra.d NULL: none).
 */
static void normalise(const struct envelope_map *map, const struct jdoc *d, uint32_t obj,
                      struct event *ev, struct jobj extra, int fill)
{
    struct cand c[SLOT_N];
    uint32_t nest[NEST_N] = {0, 0, 0};
    struct skip sk;
    const char *key;
    size_t klen, i;
    uint32_t v;
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
        if (apply_attr(d, ev, a, &c[a]))
            sk.v[sk.n++] = c[a].v;
    }
    if (fill)
        return;
    for (a = SLOT_TRACEPARENT; a < SLOT_N; a++) {
        /* A nested one is hoisted only when the top level has no member of that name. */
        const char *name = a == SLOT_TRACEPARENT ? "traceparent" : "tracestate";
        v = jd_get(d, obj, name, strlen(name));
        if (v != 0 && v != c[a].v)
            c[a].v = 0;
        if (c[a].v != 0)
            sk.v[sk.n++] = c[a].v;
    }
    {
        /* extra may be a parse of the old attrs: free them only after. */
        char *attrs = attrs_text((struct jobj){d, obj}, extra, &sk, &c[SLOT_TRACEPARENT]);
        free(ev->attrs);
        ev->attrs = attrs;
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
    normalise(map, d, obj, ev, extra, 0);
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

/* normalise() for jansson objects (protocol messages build theirs with jansson). */
static void normalise_json(const struct envelope_map *map, const json_t *obj, struct event *ev,
                           const json_t *extra, int fill)
{
    struct jdoc d, xd;
    char *text = NULL, *xtext = NULL;
    struct jobj x = {NULL, 0};

    jdoc_init(&d);
    jdoc_init(&xd);
    if (extra != NULL && doc_of_json(&xd, extra, &xtext) == ES_OK && jd_type(&xd, 0) == JD_OBJECT)
        x.d = &xd;
    if (doc_of_json(&d, obj, &text) == ES_OK && jd_type(&d, 0) == JD_OBJECT)
        normalise(map, &d, 0, ev, x, fill);
    jdoc_done(&d);
    jdoc_done(&xd);
    free(text);
    free(xtext);
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

#define MSG_MAX_HEADERS 1024

/* 1 if s (len bytes) starts with the lowercase ASCII prefix, case-insensitively. */
static int iprefix(const char *s, size_t len, const char *prefix)
{
    size_t i, n = strlen(prefix);
    if (len < n)
        return 0;
    for (i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != prefix[i])
            return 0;
    return 1;
}

/* Length of a UTF-8 sequence at p (n bytes left) if well formed, else 0. NUL is refused. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    uint32_t cp;
    size_t k, len;
    uint8_t b = p[0];

    if (b == 0)
        return 0;
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        len = 2, cp = b & 0x1f;
    else if (b >= 0xe0 && b <= 0xef)
        len = 3, cp = b & 0x0f;
    else if (b >= 0xf0 && b <= 0xf4)
        len = 4, cp = b & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Text: well-formed UTF-8 without NUL (a NUL means binary; "\u0000" also upsets readers). */
static int utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0, k;
    while (i < n) {
        if ((k = utf8_seq(p + i, n - i)) == 0)
            return 0;
        i += k;
    }
    return 1;
}

/*
 * A header value as a JSON string: percent-decoded when asked (HTTP binding, RFC 3986
 * %XX), bytes that are not UTF-8 and NULs replaced by U+FFFD.
 */
static json_t *header_string(const char *s, size_t n, int pct)
{
    struct jbuf b = {NULL, 0, 0};
    struct cursor c;
    uint8_t *dec = NULL;
    size_t i = 0, dn = 0;
    json_t *j;

    if (s == NULL)
        s = "", n = 0;
    if (pct && memchr(s, '%', n) != NULL) {
        dec = xmalloc(n + 1);
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
            dec[dn++] = ch;
        }
        s = (const char *)dec;
        n = dn;
    }
    jb_grow(&b, n);
    b.p[0] = '\0';
    while (i < n) {
        size_t k = utf8_seq((const uint8_t *)s + i, n - i);
        if (k == 0) {
            jb_put(&b, "\xef\xbf\xbd", 3);
            i++;
        } else {
            jb_put(&b, s + i, k);
            i += k;
        }
    }
    j = json_stringn(b.p, b.len);
    free(b.p);
    free(dec);
    return j ? j : json_string("");
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static json_t *base64_string(const uint8_t *p, size_t n)
{
    size_t i, o = 0, olen = (n + 2) / 3 * 4;
    char *out = xmalloc(olen + 1);
    json_t *j;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64chars[v >> 18 & 63];
        out[o++] = b64chars[v >> 12 & 63];
        out[o++] = b64chars[v >> 6 & 63];
        out[o++] = b64chars[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        out[o++] = b64chars[v >> 18 & 63];
        out[o++] = b64chars[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64chars[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    j = json_stringn(out, o);
    free(out);
    return j;
}

/*
 * A message body as a JSON value: the parsed JSON when it is JSON, else the text as a
 * JSON string when it is UTF-8, else (binary payloads) its base64 as a JSON string with
 * *b64 set. NULL for an empty body.
 */
static json_t *body_value(const uint8_t *body, size_t len, int *b64)
{
    json_t *v;

    *b64 = 0;
    if (len == 0 || body == NULL)
        return NULL;
    v = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (v != NULL)
        return v;
    if (utf8_valid(body, len))
        return json_stringn((const char *)body, len);
    *b64 = 1;
    return base64_string(body, len);
}

/* Sets key in obj to v (taken) unless present; for the headers object, repeats are joined. */
static void put_first(json_t *obj, const char *key, json_t *v)
{
    if (json_object_get(obj, key) == NULL)
        json_object_set_new(obj, key, v);
    else
        json_decref(v);
}

static void put_joined(json_t *obj, const char *key, json_t *v)
{
    json_t *old = json_object_get(obj, key);
    if (json_is_string(old) && json_is_string(v)) {
        char *s = xasprintf("%s, %s", json_string_value(old), json_string_value(v));
        json_object_set_new(obj, key, json_string(s));
        free(s);
        json_decref(v);
        return;
    }
    put_first(obj, key, v);
}

/* What the headers of one message say, sorted into the three places they go. */
struct msg_headers {
    json_t *ce;    /* CloudEvents attributes, prefix stripped, names lowercase */
    json_t *plain; /* other headers, names lowercase ("x-" dropped when that names an attribute) */
    json_t *extra; /* attrs to keep: template attrs, "headers": {...}, trace context */
    json_t *ce_raw; /* the CloudEvents headers as named, kept when the mode ignores them */
    const char *ctype; /* content type (borrowed from h), NULL when absent */
    size_t ctype_len;
};

/* Strips a binding's CloudEvents prefix; returns its length, 0 when name has none. */
static size_t ce_prefix(enum envelope_binding binding, const char *name, size_t len)
{
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

static char *lower_dup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    size_t i;
    for (i = 0; i < n; i++)
        d[i] = (char)lower((unsigned char)s[i]);
    d[n] = '\0';
    return d;
}

static void headers_sort(struct msg_headers *mh, enum envelope_binding binding,
                         const struct envelope_header *h, size_t nh, const struct event *tmpl)
{
    json_t *hdrs = json_object();
    size_t i;
    int plain_ce = 0;

    mh->ce = json_object();
    mh->plain = json_object();
    mh->ce_raw = json_object();
    mh->extra = NULL;
    mh->ctype = NULL;
    mh->ctype_len = 0;
    if (tmpl != NULL && tmpl->attrs != NULL) {
        mh->extra = json_loads(tmpl->attrs, 0, NULL);
        if (mh->extra != NULL && !json_is_object(mh->extra)) {
            json_decref(mh->extra);
            mh->extra = NULL;
        }
    }
    if (mh->extra == NULL)
        mh->extra = json_object();
    if (nh > MSG_MAX_HEADERS)
        nh = MSG_MAX_HEADERS;

    /* MQTT 5 and NATS carry attributes under their plain names (MQTT binding 3.1.3). */
    if (binding == ENV_BIND_MQTT || binding == ENV_BIND_NATS)
        for (i = 0; i < nh; i++)
            if (h[i].name != NULL && ieq(h[i].name, h[i].name_len, "specversion"))
                plain_ce = 1;

    for (i = 0; i < nh; i++) {
        const char *name;
        size_t len = h[i].name_len, pre;
        char *low, *key;
        json_t *val, *nm;

        if (h[i].name == NULL || len == 0)
            continue;
        /* Names become JSON keys: made valid UTF-8 like values (the bytes are foreign). */
        nm = header_string(h[i].name, len, 0);
        name = json_string_value(nm);
        len = json_string_length(nm);
        pre = ce_prefix(binding, name, len);
        if (pre > 0 && pre < len) {
            low = lower_dup(name + pre, len - pre);
            val = header_string(h[i].value, h[i].value ? h[i].value_len : 0,
                                binding == ENV_BIND_HTTP);
            key = xstrndup(name, len);
            put_joined(mh->ce_raw, key, json_incref(val));
            free(key);
            put_first(mh->ce, low, val);
            free(low);
            json_decref(nm);
            continue;
        }
        low = lower_dup(name, len);
        val = header_string(h[i].value, h[i].value ? h[i].value_len : 0, 0);
        if (strcmp(low, "content-type") == 0 || strcmp(low, "content_type") == 0) {
            if (mh->ctype == NULL && h[i].value != NULL) {
                mh->ctype = h[i].value;
                mh->ctype_len = h[i].value_len;
            }
        } else if (strcmp(low, "traceparent") == 0 || strcmp(low, "tracestate") == 0) {
            put_first(mh->extra, low, json_incref(val));
        }
        if (plain_ce && strcmp(low, "content-type") != 0 && strcmp(low, "content_type") != 0 &&
            strcmp(low, "traceparent") != 0 && strcmp(low, "tracestate") != 0) {
            put_first(mh->ce, low, val);
            free(low);
            json_decref(nm);
            continue;
        }
        /* Raw header, as named, for attrs (trace context is already at the top). */
        if (strcmp(low, "traceparent") != 0 && strcmp(low, "tracestate") != 0) {
            key = xstrndup(name, len);
            put_joined(hdrs, key, json_incref(val));
            free(key);
        }
        if (strcmp(low, "correlation-data") == 0) /* MQTT 5 request/response */
            put_first(mh->plain, "correlation-id", val);
        else if (iprefix(low, strlen(low), "x-") && spelling_find(low + 2, strlen(low) - 2))
            put_first(mh->plain, low + 2, val);
        else
            put_first(mh->plain, low, val);
        free(low);
        json_decref(nm);
    }
    if (json_object_size(hdrs) > 0)
        json_object_set_new(mh->extra, "headers", hdrs);
    else
        json_decref(hdrs);
}

/* Structured and batched modes ignore CloudEvents headers: they stay in attrs "headers". */
static void headers_keep_ce(struct msg_headers *mh)
{
    json_t *hdrs;
    const char *key;
    json_t *v;

    if (json_object_size(mh->ce_raw) == 0)
        return;
    hdrs = json_object_get(mh->extra, "headers");
    if (!json_is_object(hdrs)) {
        hdrs = json_object();
        json_object_set_new(mh->extra, "headers", hdrs);
    }
    json_object_foreach(mh->ce_raw, key, v)
        put_first(hdrs, key, json_incref(v));
}

static void headers_done(struct msg_headers *mh)
{
    json_decref(mh->ce_raw);
    json_decref(mh->ce);
    json_decref(mh->plain);
    json_decref(mh->extra);
}

/* Content type up to ';', blanks trimmed, compared case-insensitively with want. */
static int ctype_is(const struct msg_headers *mh, const char *want)
{
    size_t n = 0;
    const char *s = mh->ctype;
    if (s == NULL)
        return 0;
    while (n < mh->ctype_len && s[n] != ';')
        n++;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    while (n && (s[0] == ' ' || s[0] == '\t'))
        s++, n--;
    return ieq(s, n, want);
}

struct msg_ctx {
    const struct envelope_map *map;
    const struct msg_headers *mh;
    const struct event *tmpl;
    envelope_emit_fn emit;
    void *ctx;
};

/* Normalises obj (record, or the attributes of a binary-mode message) and emits it. */
static int emit_one(struct msg_ctx *mc, json_t *obj, const char *loc_suffix)
{
    struct event ev;
    int rc;

    if (mc->tmpl != NULL)
        envelope_copy_event(&ev, mc->tmpl);
    else
        event_init(&ev);
    free(ev.attrs);
    ev.attrs = NULL;
    if (loc_suffix != NULL && ev.location != NULL) {
        char *loc = xasprintf("%s%s", ev.location, loc_suffix);
        free(ev.location);
        ev.location = loc;
    }
    normalise_json(mc->map, obj, &ev, mc->mh->extra, 0);
    /* Header-carried attributes (AMQP message-id, ...) fill what the record lacks. */
    if (json_object_size(mc->mh->plain) > 0)
        normalise_json(mc->map, mc->mh->plain, &ev, NULL, 1);
    rc = mc->emit(mc->ctx, &ev);
    event_done(&ev);
    return rc;
}

/* A non-object JSON value as the data of one event. */
static int emit_data(struct msg_ctx *mc, json_t *data, const char *loc_suffix)
{
    json_t *obj = json_object();
    int rc;
    if (data != NULL)
        json_object_set(obj, "data", data);
    rc = emit_one(mc, obj, loc_suffix);
    json_decref(obj);
    return rc;
}

int envelope_from_message(const struct envelope_map *map, enum envelope_binding binding,
                          const struct envelope_header *h, size_t nh, const uint8_t *body,
                          size_t len, const struct event *tmpl, envelope_emit_fn emit,
                          void *ctx, const char **why)
{
    struct msg_headers mh;
    struct msg_ctx mc;
    json_t *bv;
    int rc = ES_OK, b64;

    if (why)
        *why = NULL;
    headers_sort(&mh, binding, h, nh, tmpl);
    mc.map = map;
    mc.mh = &mh;
    mc.tmpl = tmpl;
    mc.emit = emit;
    mc.ctx = ctx;
    bv = body_value(body, len, &b64);
    if (b64) /* not UTF-8: data holds the base64 of the bytes */
        json_object_set_new(mh.extra, "dataencoding", json_string("base64"));

    if (ctype_is(&mh, "application/cloudevents-batch+json")) {
        /* Batched content mode (HTTP binding 3.3): a JSON array of structured events. */
        size_t i;
        headers_keep_ce(&mh);
        if (!json_is_array(bv)) {
            if (why)
                *why = "cloudevents_batch_not_array";
            rc = emit_data(&mc, bv, NULL);
        }
        for (i = 0; json_is_array(bv) && i < json_array_size(bv) && rc == ES_OK; i++) {
            json_t *el = json_array_get(bv, i);
            char suffix[32];
            snprintf(suffix, sizeof suffix, "#%zu", i);
            if (json_is_object(el)) {
                rc = emit_one(&mc, el, suffix);
            } else {
                if (why)
                    *why = "cloudevents_batch_element_not_object";
                rc = emit_data(&mc, el, suffix);
            }
        }
    } else if (ctype_is(&mh, "application/cloudevents+json") ||
               ctype_is(&mh, "application/cloudevents")) {
        /* Structured content mode: the body is the event. */
        headers_keep_ce(&mh);
        if (json_is_object(bv)) {
            rc = emit_one(&mc, bv, NULL);
        } else {
            if (why)
                *why = "cloudevents_structured_not_object";
            rc = emit_data(&mc, bv, NULL);
        }
    } else if (json_object_size(mh.ce) > 0) {
        /* Binary content mode: attributes in headers, the body is data. */
        if (mh.ctype != NULL && json_object_get(mh.ce, "datacontenttype") == NULL)
            json_object_set_new(mh.ce, "datacontenttype",
                                header_string(mh.ctype, mh.ctype_len, 0));
        if (bv != NULL)
            json_object_set(mh.ce, "data", bv);
        else
            json_object_del(mh.ce, "data");
        rc = emit_one(&mc, mh.ce, NULL);
    } else if (json_is_object(bv)) {
        /* No CloudEvents headers: a JSON body is a record, like a log line. */
        rc = emit_one(&mc, bv, NULL);
    } else {
        rc = emit_data(&mc, bv, NULL);
    }
    json_decref(bv);
    headers_done(&mh);
    return rc;
}
