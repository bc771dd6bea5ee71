/*
 * Vector clocks: carried clocks parsed from JSON or "node:count" text into a sorted array,
 * written back as canonical JSON (keys in strcmp order, integer values), and the pointwise
 * operations the analyzer needs. Entries stay sorted by node so get is a binary search and
 * merge/compare are one linear walk.
 */
#include "vclock.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cursor.h"
#include "xmalloc.h"

void vclock_init(struct vclock *vc)
{
    vc->v = NULL;
    vc->n = 0;
    vc->cap = 0;
}

static void vclock_reset(struct vclock *vc)
{
    size_t i;
    for (i = 0; i < vc->n; i++)
        free(vc->v[i].node);
    vc->n = 0;
}

void vclock_done(struct vclock *vc)
{
    vclock_reset(vc);
    free(vc->v);
    vclock_init(vc);
}

static void vclock_reserve(struct vclock *vc, size_t n)
{
    if (n <= vc->cap)
        return;
    vc->cap = vc->cap ? vc->cap * 2 : 4;
    if (vc->cap < n)
        vc->cap = n;
    vc->v = xreallocarray(vc->v, vc->cap, sizeof *vc->v);
}

/* Appends without keeping order; vclock_finish() sorts and checks uniqueness. */
static void vclock_push(struct vclock *vc, const char *node, size_t len, uint64_t count)
{
    vclock_reserve(vc, vc->n + 1);
    vc->v[vc->n].node = xstrndup(node, len);
    vc->v[vc->n].count = count;
    vc->n++;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct vclock_entry *)a)->node, ((const struct vclock_entry *)b)->node);
}

static int vclock_finish(struct vclock *vc)
{
    size_t i;
    if (vc->n > 1)
        qsort(vc->v, vc->n, sizeof *vc->v, entry_cmp);
    for (i = 1; i < vc->n; i++)
        if (strcmp(vc->v[i - 1].node, vc->v[i].node) == 0)
            return ES_EINVALID;
    return ES_OK;
}

/* 1 if the len bytes are well-formed UTF-8 without NUL (RFC 3629: no surrogates, <= U+10FFFF). */
static int utf8_ok(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t b = p[i];
        size_t n, k;
        uint32_t cp;
        if (b == 0)
            return 0;
        if (b < 0x80) {
            i++;
            continue;
        }
        if (b >= 0xc2 && b <= 0xdf)
            n = 1, cp = b & 0x1f;
        else if (b >= 0xe0 && b <= 0xef)
            n = 2, cp = b & 0x0f;
        else if (b >= 0xf0 && b <= 0xf4)
            n = 3, cp = b & 0x07;
        else
            return 0;
        if (n > len - i - 1)
            return 0;
        for (k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

static int node_ok(const char *node, size_t len)
{
    if (len == 0)
        return ES_EINVALID;
    if (len > VCLOCK_MAX_NODE)
        return ES_ETOOBIG;
    return utf8_ok((const uint8_t *)node, len) ? ES_OK : ES_EINVALID;
}

/* Digits only, no sign, at most INT64_MAX so the canonical JSON reads back as JSON integers. */
static int parse_count(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;
    if (len == 0 || len > 20)
        return ES_EINVALID;
    for (i = 0; i < len; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return ES_EINVALID;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return ES_EINVALID;
        v = v * 10 + d;
    }
    if (v > (uint64_t)INT64_MAX)
        return ES_EINVALID;
    *out = v;
    return ES_OK;
}

static int is_blank(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* "a:1, b:2" (also "a=1"): items split on ',', node and count split on the last ':' or '='. */
static int parse_pairs(struct vclock *vc, const char *s, size_t len)
{
    struct cursor c;

    cur_init(&c, s, len);
    for (;;) {
        const char *item, *sep;
        size_t n, nlen, clen;
        uint64_t count;
        int rc, more; /* more: a ',' was seen, so another item must follow */

        item = (const char *)cur_until(&c, ',', &n, &more);
        if (item == NULL)
            return ES_EINVALID;
        /* trim the item */
        while (n && is_blank(item[0]))
            item++, n--;
        while (n && is_blank(item[n - 1]))
            n--;
        if (n == 0)
            return ES_EINVALID;
        sep = NULL;
        for (nlen = n; nlen > 0; nlen--)
            if (item[nlen - 1] == ':' || item[nlen - 1] == '=') {
                sep = item + nlen - 1;
                break;
            }
        if (sep == NULL)
            return ES_EINVALID;
        nlen = (size_t)(sep - item);
        clen = n - nlen - 1;
        while (nlen && is_blank(item[nlen - 1]))
            nlen--;
        sep++;
        while (clen && is_blank(sep[0]))
            sep++, clen--;
        if ((rc = node_ok(item, nlen)) != ES_OK)
            return rc;
        if (parse_count(sep, clen, &count) != ES_OK)
            return ES_EINVALID;
        if (vc->n >= VCLOCK_MAX_ENTRIES)
            return ES_ETOOBIG;
        vclock_push(vc, item, nlen, count);
        if (!more)
            break;
    }
    return c.err ? ES_EINVALID : ES_OK;
}

static int from_object(struct vclock *vc, const json_t *obj)
{
    const char *key;
    json_t *val;
    size_t klen;
    int rc;

    if (json_object_size(obj) > VCLOCK_MAX_ENTRIES)
        return ES_ETOOBIG;
    json_object_keylen_foreach((json_t *)obj, key, klen, val)
    {
        uint64_t count;
        if ((rc = node_ok(key, klen)) != ES_OK)
            return rc;
        if (json_is_integer(val)) {
            if (json_integer_value(val) < 0)
                return ES_EINVALID;
            count = (uint64_t)json_integer_value(val);
        } else if (json_is_string(val)) {
            if (parse_count(json_string_value(val), json_string_length(val), &count) != ES_OK)
                return ES_EINVALID;
        } else {
            return ES_EINVALID;
        }
        vclock_push(vc, key, klen, count);
    }
    return ES_OK;
}

static int parse_any(struct vclock *vc, const char *s, size_t len, int depth);

static int parse_json(struct vclock *vc, const json_t *v, int depth)
{
    if (json_is_object(v))
        return from_object(vc, v);
    /* A string holding a clock: one level only ("\"a:1\"" yes, a string in a string no). */
    if (json_is_string(v) && depth == 0)
        return parse_any(vc, json_string_value(v), json_string_length(v), depth + 1);
    return ES_EINVALID;
}

static int parse_any(struct vclock *vc, const char *s, size_t len, int depth)
{
    json_error_t jerr;
    json_t *v;
    int rc;

    while (len && is_blank(s[0]))
        s++, len--;
    while (len && is_blank(s[len - 1]))
        len--;
    if (len == 0)
        return ES_EINVALID;
    if (s[0] != '{' && s[0] != '"')
        return parse_pairs(vc, s, len);
    /* 1024 entries of 256-byte names fit well under this; anything longer is refused unread. */
    if (len > (size_t)VCLOCK_MAX_ENTRIES * (VCLOCK_MAX_NODE + 32))
        return ES_ETOOBIG;
    v = json_loadb(s, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        return ES_EINVALID;
    rc = parse_json(vc, v, depth);
    json_decref(v);
    return rc;
}

static int finish(struct vclock *vc, struct vclock *tmp, int rc)
{
    if (rc == ES_OK)
        rc = vclock_finish(tmp);
    vclock_done(vc);
    if (rc == ES_OK)
        *vc = *tmp;
    else
        vclock_done(tmp);
    return rc;
}

int vclock_parse(struct vclock *vc, const char *s, size_t len)
{
    struct vclock tmp;

    vclock_init(&tmp);
    if (s == NULL)
        return finish(vc, &tmp, ES_EINVALID);
    return finish(vc, &tmp, parse_any(&tmp, s, len, 0));
}

int vclock_parse_json(struct vclock *vc, const struct json_t *v)
{
    struct vclock tmp;

    vclock_init(&tmp);
    return finish(vc, &tmp, v ? parse_json(&tmp, v, 0) : ES_EINVALID);
}

/* ---- Output -------------------------------------------------------------------------- */

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 64;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* A JSON string literal: quotes, backslashes and control bytes escaped; UTF-8 kept. */
static void buf_jstr(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;

    buf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        buf_put(b, run, (size_t)(s - run));
        run = s + 1;
        if (ch == '"' || ch == '\\') {
            char e[2] = {'\\', (char)ch};
            buf_put(b, e, 2);
        } else {
            char e[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            buf_put(b, e, 6);
        }
    }
    buf_put(b, run, (size_t)(s - run));
    buf_put(b, "\"", 1);
}

char *vclock_to_json(const struct vclock *vc)
{
    struct buf b = {NULL, 0, 0};
    char num[24];
    size_t i;

    buf_put(&b, "{", 1);
    for (i = 0; i < vc->n; i++) {
        int n = snprintf(num, sizeof num, "%llu", (unsigned long long)vc->v[i].count);
        if (i)
            buf_put(&b, ",", 1);
        buf_jstr(&b, vc->v[i].node);
        buf_put(&b, ":", 1);
        buf_put(&b, num, (size_t)n);
    }
    buf_put(&b, "}", 1);
    return b.p;
}

/* ---- Operations ---------------------------------------------------------------------- */

/* Index of node, or of where it would be inserted (*found = 0). */
static size_t find(const struct vclock *vc, const char *node, int *found)
{
    size_t lo = 0, hi = vc->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(vc->v[mid].node, node);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

uint64_t vclock_get(const struct vclock *vc, const char *node)
{
    int found;
    size_t i = find(vc, node, &found);
    return found ? vc->v[i].count : 0;
}

void vclock_set(struct vclock *vc, const char *node, uint64_t count)
{
    int found;
    size_t i = find(vc, node, &found);

    if (found) {
        vc->v[i].count = count;
        return;
    }
    vclock_reserve(vc, vc->n + 1);
    memmove(vc->v + i + 1, vc->v + i, (vc->n - i) * sizeof *vc->v);
    vc->v[i].node = xstrdup(node);
    vc->v[i].count = count;
    vc->n++;
}

void vclock_merge(struct vclock *dst, const struct vclock *src)
{
    struct vclock out;
    size_t i = 0, j = 0;

    if (src->n == 0)
        return;
    /* Entries are distinct heap strings, so the sum cannot wrap; checked all the same. */
    if (dst->n > SIZE_MAX - src->n)
        abort();
    /* Sized up front (src->n > 0): every slot the walk below writes exists. */
    out.n = 0;
    out.cap = dst->n + src->n;
    out.v = xreallocarray(NULL, out.cap, sizeof *out.v);
    /* Both sorted: one merge walk; dst's node strings move into out. */
    while (i < dst->n || j < src->n) {
        int c = i == dst->n ? 1 : j == src->n ? -1 : strcmp(dst->v[i].node, src->v[j].node);
        struct vclock_entry *e = &out.v[out.n++];
        if (c < 0) {
            *e = dst->v[i++];
        } else if (c > 0) {
            e->node = xstrdup(src->v[j].node);
            e->count = src->v[j++].count;
        } else {
            *e = dst->v[i++];
            if (src->v[j].count > e->count)
                e->count = src->v[j].count;
            j++;
        }
    }
    free(dst->v);
    *dst = out;
}

void vclock_copy(struct vclock *dst, const struct vclock *src)
{
    size_t i;

    if (dst == src)
        return;
    vclock_reset(dst);
    vclock_reserve(dst, src->n);
    for (i = 0; i < src->n; i++) {
        dst->v[i].node = xstrdup(src->v[i].node);
        dst->v[i].count = src->v[i].count;
    }
    dst->n = src->n;
}

enum vclock_order vclock_compare(const struct vclock *a, const struct vclock *b)
{
    size_t i = 0, j = 0;
    int less = 0, more = 0; /* some a[k] < b[k] / some a[k] > b[k] */

    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i].node, b->v[j].node);
        uint64_t x, y;
        if (c < 0)
            x = a->v[i++].count, y = 0;
        else if (c > 0)
            x = 0, y = b->v[j++].count;
        else
            x = a->v[i++].count, y = b->v[j++].count;
        less |= x < y;
        more |= x > y;
    }
    if (less && more)
        return VCLOCK_CONCURRENT;
    if (less)
        return VCLOCK_BEFORE;
    if (more)
        return VCLOCK_AFTER;
    return VCLOCK_EQUAL;
}
