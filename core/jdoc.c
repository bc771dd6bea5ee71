/*
 * jdoc: one-pass JSON parser into flat, reusable arrays (see jdoc.h).
 *
 * The parser is a recursive descent over a cursor (core/cursor.h) with the depth bounded
 * by the caller. "dirt" counts everything that makes a span differ from the compact text
 * envelope.c writes (blanks, escapes, a number not in its shortest form); a container
 * whose dirt did not grow while it was read is canonical and is later copied as it is.
 */
#include "jdoc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "cursor.h"
#include "event.h"
#include "xmalloc.h"

#define JD_SMALL_OBJECT 16 /* objects up to this many members: duplicate keys by pairs */
#define JD_MAX_NODES (UINT32_MAX / 2)

struct jp {
    struct jdoc *d;
    struct cursor c;
    const uint8_t *base; /* start of the text, for offsets */
    int max_depth;
    unsigned flags; /* JDOC_* */
    uint64_t dirt;
};

void jdoc_init(struct jdoc *d)
{
    memset(d, 0, sizeof *d);
}

void jdoc_done(struct jdoc *d)
{
    free(d->n);
    free(d->s);
    jdoc_init(d);
}

static int fail(struct jp *jp, const char *why)
{
    jp->d->why = why;
    jp->d->err_at = (size_t)(jp->c.p - jp->base);
    cur_fail(&jp->c, ES_EINVALID);
    return ES_EINVALID;
}

static uint32_t pos(const struct jp *jp)
{
    return (uint32_t)(jp->c.p - jp->base);
}

static int node_new(struct jp *jp, uint32_t *out)
{
    struct jdoc *d = jp->d;
    struct jd_node *n;

    if (d->nn == d->ncap) {
        if (d->ncap >= JD_MAX_NODES)
            return fail(jp, "too_big");
        d->ncap = d->ncap ? d->ncap * 2 : 64;
        d->n = xrealloc(d->n, (size_t)d->ncap * sizeof *d->n);
    }
    *out = d->nn++;
    n = &d->n[*out];
    memset(n, 0, sizeof *n);
    n->raw = pos(jp);
    return ES_OK;
}

/* Room for n more bytes in the string arena. */
static void arena_need(struct jdoc *d, size_t n)
{
    if (d->scap - d->slen >= n)
        return;
    if (d->scap == 0)
        d->scap = 1024;
    while (d->scap - d->slen < n)
        d->scap *= 2;
    d->s = xrealloc(d->s, d->scap);
}

static void skip_blanks(struct jp *jp)
{
    const uint8_t *start = jp->c.p;

    if (jp->c.left == 0 || jp->c.p[0] > ' ') /* mostly: no blank at all */
        return;
    while (jp->c.left && (jp->c.p[0] == ' ' || jp->c.p[0] == '\n' || jp->c.p[0] == '\r' ||
                          jp->c.p[0] == '\t'))
        cur_skip(&jp->c, 1);
    jp->dirt += (uint64_t)(jp->c.p - start);
}

/* Four hex digits after "\u". */
static int hex4(struct jp *jp, uint32_t *v)
{
    int i, h;

    *v = 0;
    for (i = 0; i < 4; i++) {
        if (!jp->c.left || (h = cur_hexval(jp->c.p[0])) < 0)
            return fail(jp, jp->c.left ? "invalid_json" : "truncated_json");
        *v = *v * 16 + (uint32_t)h;
        cur_skip(&jp->c, 1);
    }
    return ES_OK;
}

/* One escape after the backslash (already read) into o; its length in *n. */
static int unescape(struct jp *jp, char *o, int *n)
{
    uint32_t cp, lo;
    uint8_t ch;

    if (!jp->c.left)
        return fail(jp, "truncated_json");
    ch = cur_u8(&jp->c);
    *n = 1;
    switch (ch) {
    case '"': o[0] = '"'; return ES_OK;
    case '\\': o[0] = '\\'; return ES_OK;
    case '/': o[0] = '/'; return ES_OK;
    case 'b': o[0] = '\b'; return ES_OK;
    case 'f': o[0] = '\f'; return ES_OK;
    case 'n': o[0] = '\n'; return ES_OK;
    case 'r': o[0] = '\r'; return ES_OK;
    case 't': o[0] = '\t'; return ES_OK;
    case 'u': break;
    default: return fail(jp, "invalid_json");
    }
    if (hex4(jp, &cp) != ES_OK)
        return ES_EINVALID;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return fail(jp, "invalid_json"); /* a low surrogate alone */
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (jp->c.left < 2 || jp->c.p[0] != '\\' || jp->c.p[1] != 'u')
            return fail(jp, "invalid_json");
        cur_skip(&jp->c, 2);
        if (hex4(jp, &lo) != ES_OK)
            return ES_EINVALID;
        if (lo < 0xdc00 || lo > 0xdfff)
            return fail(jp, "invalid_json");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (cp == 0 && !(jp->flags & JDOC_ALLOW_NUL))
        return fail(jp, "nul_byte");
    *n = (int)event_utf8_put(o, cp);
    return ES_OK;
}

/*
 * A string literal (the cursor is on its opening quote) into the arena; its offset and
 * length in *off and *len. A string without escapes is canonical as written.
 */
static int parse_string(struct jp *jp, uint32_t *off, uint32_t *len)
{
    struct jdoc *d = jp->d;
    const uint8_t *start;
    size_t raw, escapes = 0;
    char *o;

    cur_skip(&jp->c, 1);
    start = jp->c.p;
    /* First pass: find the closing quote, checking bytes; escapes are checked below. */
    for (;;) {
        uint8_t ch;
        /* printable ASCII other than '"' and '\\' (most bytes) a run at a time */
        cur_skip(&jp->c, ascii_json_run(jp->c.p, jp->c.left, 0));
        if (!jp->c.left)
            return fail(jp, "truncated_json");
        ch = jp->c.p[0];
        if (ch == '"')
            break;
        if (ch < 0x20)
            return fail(jp, ch == 0 ? "nul_byte" : "invalid_json");
        if (ch == '\\') {
            escapes++;
            cur_skip(&jp->c, jp->c.left >= 2 ? 2 : 1);
        } else {
            uint32_t cp;
            size_t n = event_utf8_seq(jp->c.p, jp->c.left, &cp);
            if (n == 0)
                return fail(jp, "invalid_utf8");
            cur_skip(&jp->c, n);
        }
    }
    raw = (size_t)(jp->c.p - start);
    cur_skip(&jp->c, 1); /* the closing quote */
    if (raw >= UINT32_MAX - d->slen)
        return fail(jp, "too_big");
    arena_need(d, raw + 1);
    *off = (uint32_t)d->slen;
    o = d->s + d->slen;
    if (escapes == 0) {
        memcpy(o, start, raw);
        *len = (uint32_t)raw;
    } else {
        /* Second pass over the same bytes, through a cursor of their own. */
        struct cursor keep = jp->c;
        size_t w = 0;
        int n;
        jp->dirt++;
        cur_init(&jp->c, start, raw);
        while (jp->c.left) {
            if (jp->c.p[0] != '\\') {
                o[w++] = (char)cur_u8(&jp->c);
                continue;
            }
            cur_skip(&jp->c, 1);
            if (unescape(jp, o + w, &n) != ES_OK)
                return ES_EINVALID; /* err_at is already inside the text */
            w += (size_t)n;
        }
        jp->c = keep;
        *len = (uint32_t)w;
    }
    o[*len] = '\0';
    d->slen += *len + 1;
    return ES_OK;
}

static int is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* Digits at the cursor; their count. */
static size_t digits(struct jp *jp)
{
    size_t n = 0;
    while (jp->c.left && is_digit(jp->c.p[0])) {
        cur_skip(&jp->c, 1);
        n++;
    }
    return n;
}

/*
 * 1 when a real's text is what the writer prints for it ("%.15g" round trip, a '.'
 * kept): no exponent, at most 15 significant digits, no trailing zero in the fraction,
 * and not so small that "%g" would switch to an exponent.
 */
static int real_canonical(const uint8_t *p, size_t n)
{
    size_t i = 0, ilen = 0, flen = 0, lead = 0;

    if (i < n && p[i] == '-')
        i++;
    while (i < n && is_digit(p[i]))
        i++, ilen++;
    if (i >= n || p[i] != '.')
        return 0;
    i++;
    while (i + flen < n && is_digit(p[i + flen]))
        flen++;
    if (i + flen != n || flen == 0 || p[n - 1] == '0')
        return 0;
    if (ilen == 1 && p[i - 2] == '0') {
        while (lead < flen && p[i + lead] == '0')
            lead++;
        return lead <= 3 && flen - lead <= 15;
    }
    return ilen + flen <= 15;
}

/*
 * The value of a real's text when Clinger's fast path gives it exactly: at most 15
 * significant digits (an integer below 2^53, exact as a double) scaled by a power of ten
 * up to 22 (exact too), so one IEEE multiplication or division rounds correctly, as strtod
 * does. Returns 0 when the text needs strtod.
 */
static int fast_real(const uint8_t *p, size_t n, double *out)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    uint64_t m = 0;
    size_t i = 0;
    int neg = 0, ndig = 0, scale = 0, e = 0, eneg = 0, edig = 0;

    if (p[0] == '-')
        neg = 1, i = 1;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
        if (m != 0 || p[i] != '0')
            m = m * 10 + (uint64_t)(p[i] - '0'), ndig++;
    if (i < n && p[i] == '.')
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
            if (m != 0 || p[i] != '0')
                m = m * 10 + (uint64_t)(p[i] - '0'), ndig++;
            scale--;
            if (ndig > 15)
                return 0;
        }
    if (ndig > 15)
        return 0;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            eneg = p[i++] == '-';
        for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            if (++edig > 4)
                return 0;
            else
                e = e * 10 + (p[i] - '0');
    }
    scale += eneg ? -e : e;
    if (scale < -22 || scale > 22)
        return 0;
    *out = scale < 0 ? (double)m / pow10[-scale] : (double)m * pow10[scale];
    if (neg)
        *out = -*out;
    return 1;
}

static int parse_number(struct jp *jp, struct jd_node *nd)
{
    const uint8_t *start = jp->c.p;
    int neg = 0, real = 0;
    size_t n;

    if (jp->c.p[0] == '-') {
        neg = 1;
        cur_skip(&jp->c, 1);
    }
    if (!jp->c.left)
        return fail(jp, "truncated_json");
    if (jp->c.p[0] == '0')
        cur_skip(&jp->c, 1);
    else if (digits(jp) == 0)
        return fail(jp, "invalid_json");
    if (jp->c.left && jp->c.p[0] == '.') {
        cur_skip(&jp->c, 1);
        if (digits(jp) == 0)
            return fail(jp, jp->c.left ? "invalid_json" : "truncated_json");
        real = 1;
    }
    if (jp->c.left && (jp->c.p[0] == 'e' || jp->c.p[0] == 'E')) {
        cur_skip(&jp->c, 1);
        if (jp->c.left && (jp->c.p[0] == '+' || jp->c.p[0] == '-'))
            cur_skip(&jp->c, 1);
        if (digits(jp) == 0)
            return fail(jp, jp->c.left ? "invalid_json" : "truncated_json");
        real = 1;
    }
    n = (size_t)(jp->c.p - start);
    if (!real) {
        uint64_t acc = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        size_t i;
        for (i = (size_t)neg; i < n; i++) {
            uint64_t dg = (uint64_t)(start[i] - '0');
            if (acc > (limit - dg) / 10)
                return fail(jp, "number_out_of_range");
            acc = acc * 10 + dg;
        }
        nd->type = JD_INT;
        nd->v.i = neg ? (acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc)
                      : (int64_t)acc;
        if (neg && acc == 0)
            jp->dirt++; /* "-0" is written as 0 */
        return ES_OK;
    }
    if (!fast_real(start, n, &nd->v.d)) {
        char small[64], *buf = n < sizeof small ? small : xmalloc(n + 1);
        memcpy(buf, start, n);
        buf[n] = '\0';
        errno = 0;
        nd->v.d = strtod(buf, NULL);
        if (buf != small)
            free(buf);
        if (isinf(nd->v.d))
            return fail(jp, "number_out_of_range");
    }
    nd->type = JD_REAL;
    if (!real_canonical(start, n))
        jp->dirt++;
    return ES_OK;
}

static int literal(struct jp *jp, const char *word, size_t n)
{
    if (jp->c.left < n)
        return fail(jp, memcmp(jp->c.p, word, jp->c.left) == 0 ? "truncated_json"
                                                               : "invalid_json");
    if (memcmp(jp->c.p, word, n) != 0)
        return fail(jp, "invalid_json");
    cur_skip(&jp->c, n);
    return ES_OK;
}

static int key_cmp(const struct jdoc *d, uint32_t a, uint32_t b)
{
    const struct jd_node *x = &d->n[a], *y = &d->n[b];
    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    return memcmp(d->s + x->key, d->s + y->key, x->klen);
}

static const struct jdoc *sort_doc; /* qsort has no context argument */

static int cmp_members(const void *a, const void *b)
{
    return key_cmp(sort_doc, *(const uint32_t *)a, *(const uint32_t *)b);
}

/* 1 when object i has two members with the same key. */
static int has_duplicate(const struct jdoc *d, uint32_t obj)
{
    uint32_t a, b, *v, k = 0;
    int dup = 0;

    if (d->n[obj].count <= JD_SMALL_OBJECT) {
        for (a = jd_first(d, obj); a; a = jd_next(d, a))
            for (b = jd_next(d, a); b; b = jd_next(d, b))
                if (key_cmp(d, a, b) == 0)
                    return 1;
        return 0;
    }
    v = xmalloc((size_t)d->n[obj].count * sizeof *v);
    for (a = jd_first(d, obj); a; a = jd_next(d, a))
        v[k++] = a;
    sort_doc = d;
    qsort(v, k, sizeof *v, cmp_members);
    for (a = 1; a < k && !dup; a++)
        dup = key_cmp(d, v[a - 1], v[a]) == 0;
    free(v);
    return dup;
}

static int parse_value(struct jp *jp, int depth, uint32_t *out);

/* A container (the cursor is on '{' or '['); node i is already made. */
static int parse_container(struct jp *jp, uint32_t i, int depth, int object)
{
    struct jdoc *d = jp->d;
    uint8_t close = object ? '}' : ']';
    uint32_t prev = 0, child, count = 0, key = 0, klen = 0;

    d->n[i].type = object ? JD_OBJECT : JD_ARRAY;
    cur_skip(&jp->c, 1);
    skip_blanks(jp);
    if (jp->c.left && jp->c.p[0] == close) {
        cur_skip(&jp->c, 1);
        return ES_OK;
    }
    for (;;) {
        if (object) {
            skip_blanks(jp);
            if (!jp->c.left)
                return fail(jp, "truncated_json");
            if (jp->c.p[0] != '"')
                return fail(jp, "invalid_json");
            if (parse_string(jp, &key, &klen) != ES_OK)
                return ES_EINVALID;
            skip_blanks(jp);
            if (!jp->c.left)
                return fail(jp, "truncated_json");
            if (jp->c.p[0] != ':')
                return fail(jp, "invalid_json");
            cur_skip(&jp->c, 1);
        }
        if (parse_value(jp, depth + 1, &child) != ES_OK)
            return ES_EINVALID;
        d->n[child].key = key;
        d->n[child].klen = klen;
        if (prev)
            d->n[prev].next = child;
        prev = child;
        count++;
        skip_blanks(jp);
        if (!jp->c.left)
            return fail(jp, "truncated_json");
        if (jp->c.p[0] == ',') {
            cur_skip(&jp->c, 1);
            continue;
        }
        if (jp->c.p[0] != close)
            return fail(jp, "invalid_json");
        cur_skip(&jp->c, 1);
        break;
    }
    d->n[i].count = count;
    if (object && has_duplicate(d, i))
        return fail(jp, "duplicate_key");
    return ES_OK;
}

static int parse_value(struct jp *jp, int depth, uint32_t *out)
{
    struct jdoc *d = jp->d;
    uint64_t dirt;
    uint32_t i;
    int rc;

    if (depth > jp->max_depth)
        return fail(jp, "json_too_deep");
    skip_blanks(jp);
    if (!jp->c.left)
        return fail(jp, "truncated_json");
    if (node_new(jp, &i) != ES_OK)
        return ES_EINVALID;
    dirt = jp->dirt;
    switch (jp->c.p[0]) {
    case '{':
    case '[':
        rc = parse_container(jp, i, depth, jp->c.p[0] == '{');
        break;
    case '"': {
        uint32_t off = 0, len = 0;
        rc = parse_string(jp, &off, &len);
        d->n[i].type = JD_STRING;
        d->n[i].v.s.off = off;
        d->n[i].v.s.len = len;
        break;
    }
    case 't':
        d->n[i].type = JD_TRUE;
        rc = literal(jp, "true", 4);
        break;
    case 'f':
        d->n[i].type = JD_FALSE;
        rc = literal(jp, "false", 5);
        break;
    case 'n':
        d->n[i].type = JD_NULL;
        rc = literal(jp, "null", 4);
        break;
    default:
        if (jp->c.p[0] == '-' || is_digit(jp->c.p[0]))
            rc = parse_number(jp, &d->n[i]);
        else
            rc = fail(jp, "invalid_json");
    }
    if (rc != ES_OK)
        return rc;
    d->n[i].end = d->nn;
    d->n[i].rawlen = pos(jp) - d->n[i].raw;
    if (jp->dirt == dirt)
        d->n[i].flags |= JD_CANON;
    *out = i;
    return ES_OK;
}

int jdoc_parse(struct jdoc *d, const char *text, size_t len, int max_depth, unsigned flags)
{
    struct jp jp;
    uint32_t root;

    d->text = text;
    d->len = len;
    d->nn = 0;
    d->slen = 0;
    d->why = NULL;
    d->err_at = 0;
    jp.d = d;
    jp.base = (const uint8_t *)text;
    cur_init(&jp.c, text, len);
    jp.max_depth = max_depth > 0 && max_depth < JDOC_MAX_DEPTH ? max_depth : JDOC_MAX_DEPTH;
    jp.flags = flags;
    jp.dirt = 0;
    if (len >= UINT32_MAX) {
        d->why = "too_big";
        return ES_EINVALID;
    }
    if (parse_value(&jp, 1, &root) != ES_OK)
        return ES_EINVALID;
    skip_blanks(&jp);
    if (jp.c.left)
        return fail(&jp, "invalid_json");
    return ES_OK;
}

uint32_t jd_get(const struct jdoc *d, uint32_t obj, const char *key, size_t len)
{
    uint32_t m;

    if (jd_type(d, obj) != JD_OBJECT)
        return 0;
    jd_foreach(d, obj, m)
    {
        if (d->n[m].klen == len && (len == 0 || d->s[d->n[m].key] == key[0]) &&
            memcmp(d->s + d->n[m].key, key, len) == 0)
            return m;
    }
    return 0;
}

uint32_t jd_iget(const struct jdoc *d, uint32_t obj, const char *key, size_t len)
{
    uint32_t m;
    size_t i;

    if (jd_type(d, obj) != JD_OBJECT)
        return 0;
    jd_foreach(d, obj, m)
    {
        const char *k = d->s + d->n[m].key;
        if (d->n[m].klen != len)
            continue;
        for (i = 0; i < len && ascii_lower((unsigned char)k[i]) ==
                                   ascii_lower((unsigned char)key[i]);
             i++)
            ;
        if (i == len)
            return m;
    }
    return 0;
}
