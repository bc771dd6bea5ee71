/* --redact: keyed hashes instead of private payload values (see redact.h). */
#include "collector/redact.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/cursor.h"
#include "core/xmalloc.h"

#define REDACT_HEX 32 /* hex digits of the HMAC kept in the replacement */

struct redact_path {
    char **seg; /* segments below the payload root; NULL when the path is the whole payload */
    size_t nseg;
};

struct redact {
    struct redact_path *paths; /* sorted by nseg, shortest first */
    size_t npaths;
    int whole;                 /* "data" listed: the whole payload */
    uint8_t *key;
    size_t keylen;
};

/* ---- SHA-256 (FIPS 180-4) ---------------------------------------------------------- */

struct sha256 {
    uint32_t h[8];
    uint64_t total; /* bytes hashed */
    uint8_t buf[64];
    size_t nbuf;
};

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static uint32_t ror32(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static void sha256_block(struct sha256 *c, const uint8_t *p)
{
    uint32_t w[64], a, b, d, e, f, g, h, cc, t1, t2;
    int i;

    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (i = 16; i < 64; i++) {
        uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
    e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
    for (i = 0; i < 64; i++) {
        t1 = h + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) +
             sha256_k[i] + w[i];
        t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g, g = f, f = e, e = d + t1;
        d = cc, cc = b, b = a, a = t1 + t2;
    }
    c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d;
    c->h[4] += e, c->h[5] += f, c->h[6] += g, c->h[7] += h;
}

static void sha256_begin(struct sha256 *c)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, iv, sizeof iv);
    c->total = 0;
    c->nbuf = 0;
}

static void sha256_add(struct sha256 *c, const void *data, size_t len)
{
    const uint8_t *p = data;

    c->total += len;
    if (c->nbuf > 0) {
        size_t n = 64 - c->nbuf < len ? 64 - c->nbuf : len;
        memcpy(c->buf + c->nbuf, p, n);
        c->nbuf += n, p += n, len -= n;
        if (c->nbuf < 64)
            return;
        sha256_block(c, c->buf);
        c->nbuf = 0;
    }
    for (; len >= 64; p += 64, len -= 64)
        sha256_block(c, p);
    memcpy(c->buf, p, len);
    c->nbuf = len;
}

static void sha256_end(struct sha256 *c, uint8_t out[32])
{
    uint64_t bits = c->total * 8;
    uint8_t pad[72];
    size_t n = c->nbuf < 56 ? 56 - c->nbuf : 120 - c->nbuf;
    int i;

    memset(pad, 0, sizeof pad);
    pad[0] = 0x80;
    for (i = 0; i < 8; i++)
        pad[n + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_add(c, pad, n + 8);
    for (i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
}

void redact_sha256(const void *p, size_t len, uint8_t out[32])
{
    struct sha256 c;

    sha256_begin(&c);
    sha256_add(&c, p, len);
    sha256_end(&c, out);
}

/* HMAC (RFC 2104) over SHA-256: block size 64, longer keys are hashed first. */
void redact_hmac_sha256(const uint8_t *key, size_t keylen, const void *p, size_t len,
                        uint8_t out[32])
{
    uint8_t k[64], pad[64], inner[32];
    struct sha256 c;
    int i;

    memset(k, 0, sizeof k);
    if (keylen > 64)
        redact_sha256(key, keylen, k);
    else if (keylen > 0)
        memcpy(k, key, keylen);
    for (i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    sha256_begin(&c);
    sha256_add(&c, pad, 64);
    sha256_add(&c, p, len);
    sha256_end(&c, inner);
    for (i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    sha256_begin(&c);
    sha256_add(&c, pad, 64);
    sha256_add(&c, inner, 32);
    sha256_end(&c, out);
}

static void hex_encode(const uint8_t *p, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}

/* ---- Spec -------------------------------------------------------------------------- */

static void path_done(struct redact_path *p)
{
    size_t i;

    for (i = 0; i < p->nseg; i++)
        free(p->seg[i]);
    free(p->seg);
}

void redact_free(struct redact *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->npaths; i++)
        path_done(&r->paths[i]);
    free(r->paths);
    if (r->key != NULL) {
        memset(r->key, 0, r->keylen);
        free(r->key);
    }
    free(r);
}

/* Splits one path (len bytes, trimmed) into segments; 0 with a message on error. */
static int path_parse(const char *p, size_t len, struct redact_path *out, char *err,
                      size_t errlen)
{
    size_t i = 0, start;

    memset(out, 0, sizeof *out);
    if (len >= 4 && memcmp(p, "data", 4) == 0 && (len == 4 || p[4] == '.'))
        i = len == 4 ? 4 : 5; /* the "data." prefix names the payload root */
    if (i == 4)
        return 1; /* the whole payload */
    if (i == len) {
        snprintf(err, errlen, "--redact: empty path segment in '%.*s'", (int)len, p);
        return 0;
    }
    for (;;) {
        start = i;
        while (i < len && p[i] != '.')
            i++;
        if (i == start) {
            snprintf(err, errlen, "--redact: empty path segment in '%.*s'", (int)len, p);
            path_done(out);
            memset(out, 0, sizeof *out);
            return 0;
        }
        out->seg = xreallocarray(out->seg, out->nseg + 1, sizeof *out->seg);
        out->seg[out->nseg] = xmalloc(i - start + 1);
        memcpy(out->seg[out->nseg], p + start, i - start);
        out->seg[out->nseg][i - start] = '\0';
        out->nseg++;
        if (i == len)
            return 1;
        i++; /* the dot */
        if (i == len) {
            snprintf(err, errlen, "--redact: path '%.*s' ends with a dot", (int)len, p);
            path_done(out);
            memset(out, 0, sizeof *out);
            return 0;
        }
    }
}

static int path_cmp(const void *a, const void *b)
{
    const struct redact_path *x = a, *y = b;

    return (x->nseg > y->nseg) - (x->nseg < y->nseg);
}

int redact_parse(const char *spec, struct redact **out, char *err, size_t errlen)
{
    struct redact *r;
    const char *p = spec;

    *out = NULL;
    if (errlen > 0)
        err[0] = '\0';
    if (spec == NULL) {
        snprintf(err, errlen, "--redact needs a list of paths");
        return ES_EUSAGE;
    }
    r = xcalloc(1, sizeof *r);
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        struct redact_path path;

        while (len > 0 && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0) {
            snprintf(err, errlen, "--redact: empty path in '%s'", spec);
            redact_free(r);
            return ES_EUSAGE;
        }
        if (!path_parse(p, len, &path, err, errlen)) {
            redact_free(r);
            return ES_EUSAGE;
        }
        if (path.nseg == 0) {
            r->whole = 1;
        } else {
            r->paths = xreallocarray(r->paths, r->npaths + 1, sizeof *r->paths);
            r->paths[r->npaths++] = path;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    /* Stable enough: equal lengths never contain one another, so their order is moot. */
    if (r->npaths > 1)
        qsort(r->paths, r->npaths, sizeof *r->paths, path_cmp);
    *out = r;
    return ES_OK;
}

int redact_set_key(struct redact *r, const uint8_t *key, size_t len)
{
    if (key == NULL || len == 0)
        return ES_EINVALID;
    if (r->key != NULL) {
        memset(r->key, 0, r->keylen);
        free(r->key);
    }
    r->key = xmalloc(len);
    memcpy(r->key, key, len);
    r->keylen = len;
    return ES_OK;
}

/* ---- Key --------------------------------------------------------------------------- */

static int random_bytes(uint8_t *p, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = getrandom(p + got, len - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        got += (size_t)n;
    }
    if (got < len) { /* no getrandom(): the device */
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return ES_EIO;
        while (got < len) {
            ssize_t n = read(fd, p + got, len - got);
            if (n <= 0) {
                if (n < 0 && errno == EINTR)
                    continue;
                close(fd);
                return ES_EIO;
            }
            got += (size_t)n;
        }
        close(fd);
    }
    return ES_OK;
}

static int hex_decode(const char *s, uint8_t *out, size_t len)
{
    size_t i;

    if (strlen(s) != 2 * len)
        return 0;
    for (i = 0; i < 2 * len; i++) {
        int v = cur_hexval((unsigned char)s[i]);
        if (v < 0)
            return 0;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return 1;
}

/* meta('redact_key') into key: 1 found, 0 absent, -1 on an SQLite error or a bad value. */
static int key_read(sqlite3 *db, uint8_t key[32])
{
    sqlite3_stmt *s = NULL;
    int rc, found = -1;

    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'redact_key'", -1, &s,
                           NULL) != SQLITE_OK)
        return -1;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(s, 0);
        found = v != NULL && hex_decode((const char *)v, key, 32) ? 1 : -1;
    } else if (rc == SQLITE_DONE) {
        found = 0;
    }
    sqlite3_finalize(s);
    return found;
}

int redact_key_for_store(struct store *st, uint8_t key[32])
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    char hex[65];
    uint8_t fresh[32];
    int found, rc;

    found = key_read(db, key);
    if (found == 1)
        return ES_OK;
    if (found < 0)
        return ES_ESTORE;
    rc = random_bytes(fresh, sizeof fresh);
    if (rc != ES_OK)
        return rc;
    hex_encode(fresh, sizeof fresh, hex);
    memset(fresh, 0, sizeof fresh);
    /* OR IGNORE: when another process created one meanwhile, theirs wins and is read back. */
    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO meta(key, value) VALUES('redact_key', ?1)",
                           -1, &s, NULL) != SQLITE_OK)
        return ES_ESTORE;
    sqlite3_bind_text(s, 1, hex, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    memset(hex, 0, sizeof hex);
    if (rc != SQLITE_DONE)
        return ES_ESTORE;
    return key_read(db, key) == 1 ? ES_OK : ES_ESTORE;
}

int redact_setup_key(struct redact *r, struct store *st)
{
    const char *env = getenv(REDACT_ENV_KEY);
    uint8_t key[32];
    int rc;

    if (env != NULL && env[0] != '\0')
        return redact_set_key(r, (const uint8_t *)env, strlen(env));
    rc = redact_key_for_store(st, key);
    if (rc == ES_OK)
        rc = redact_set_key(r, key, sizeof key);
    memset(key, 0, sizeof key);
    return rc;
}

/* ---- Apply ------------------------------------------------------------------------- */

void redact_text(const struct redact *r, const void *p, size_t len, char out[REDACT_TEXT_MAX])
{
    char hex[65];
    uint8_t mac[32];

    redact_hmac_sha256(r->key, r->keylen, p, len, mac);
    hex_encode(mac, sizeof mac, hex);
    snprintf(out, REDACT_TEXT_MAX, "%s%.*s", REDACT_PREFIX, REDACT_HEX, hex);
}

static json_t *hashed(const struct redact *r, const void *p, size_t len)
{
    char text[REDACT_TEXT_MAX];

    redact_text(r, p, len, text);
    return json_string(text);
}

static int already_redacted(const json_t *v)
{
    return json_is_string(v) &&
           strncmp(json_string_value(v), REDACT_PREFIX, sizeof REDACT_PREFIX - 1) == 0;
}

/* The replacement of value v (canonical compact JSON, keys sorted, hashed). */
static json_t *hashed_value(const struct redact *r, const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_t *out;

    if (text == NULL)
        return NULL;
    out = hashed(r, text, strlen(text));
    free(text);
    return out;
}

/* Replaces every value under node matching seg[0..n); counts replacements in *hits. */
static void walk(const struct redact *r, json_t *node, char *const *seg, size_t n, size_t *hits)
{
    const char *key;
    json_t *child;
    size_t i;
    int any = strcmp(seg[0], "*") == 0;

    if (json_is_object(node)) {
        if (!any) {
            child = json_object_get(node, seg[0]);
            if (child == NULL)
                return;
            if (n > 1) {
                walk(r, child, seg + 1, n - 1, hits);
            } else if (!already_redacted(child)) {
                json_t *h = hashed_value(r, child);
                if (h != NULL && json_object_set_new(node, seg[0], h) == 0)
                    ++*hits;
            }
            return;
        }
        /* Replacing the value of an existing key does not disturb the iteration. */
        json_object_foreach(node, key, child) {
            if (n > 1) {
                walk(r, child, seg + 1, n - 1, hits);
            } else if (!already_redacted(child)) {
                json_t *h = hashed_value(r, child);
                if (h != NULL && json_object_set_new(node, key, h) == 0)
                    ++*hits;
            }
        }
    } else if (json_is_array(node)) {
        size_t lo = 0, hi = json_array_size(node);
        if (!any) {
            char *end;
            unsigned long long idx;
            if (seg[0][0] < '0' || seg[0][0] > '9')
                return;
            errno = 0;
            idx = strtoull(seg[0], &end, 10);
            if (*end != '\0' || errno != 0 || idx >= hi)
                return;
            lo = (size_t)idx;
            hi = lo + 1;
        }
        for (i = lo; i < hi; i++) {
            child = json_array_get(node, i);
            if (n > 1) {
                walk(r, child, seg + 1, n - 1, hits);
            } else if (!already_redacted(child)) {
                json_t *h = hashed_value(r, child);
                if (h != NULL && json_array_set_new(node, i, h) == 0)
                    ++*hits;
            }
        }
    }
}

/* Replaces ev->data by the JSON text of v (v is released). */
static int data_replace(struct event *ev, json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

    json_decref(v);
    if (text == NULL)
        return ES_ENOMEM;
    free(ev->data);
    ev->data = text;
    ev->payload_hash = 0;
    return ES_OK;
}

int redact_apply(const struct redact *r, struct event *ev)
{
    json_t *root;
    json_error_t jerr;
    size_t i, hits = 0, len;

    if (r->key == NULL)
        return ES_EINVALID;
    if (ev->data == NULL)
        return ES_OK;
    len = strlen(ev->data);
    root = json_loadb(ev->data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (root == NULL) {
        /* Not JSON (or beyond jansson: huge integers, deep nesting): fail closed. */
        json_t *h = hashed(r, ev->data, len);
        if (h == NULL)
            return ES_ENOMEM;
        return data_replace(ev, h);
    }
    if (r->whole) {
        json_t *h = already_redacted(root) ? json_incref(root) : hashed_value(r, root);
        json_decref(root);
        if (h == NULL)
            return ES_ENOMEM;
        return data_replace(ev, h);
    }
    for (i = 0; i < r->npaths; i++)
        walk(r, root, r->paths[i].seg, r->paths[i].nseg, &hits);
    if (hits == 0) {
        json_decref(root);
        return ES_OK;
    }
    return data_replace(ev, root);
}
