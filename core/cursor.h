/*
 * Bounds-checked reading of untrusted bytes. Every decoder reads input only through a
 * cursor: a read past the end sets a sticky error (ES_ETRUNC) and returns 0, so a decoder
 * reads what it needs and checks c->err once. Lengths are compared, never pointers.
 */
#ifndef ES_CURSOR_H
#define ES_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"

struct cursor {
    const uint8_t *p; /* next unread byte */
    size_t left;      /* bytes readable from p */
    int err;          /* ES_OK until the first failed read, then sticky */
};

static inline void cur_init(struct cursor *c, const void *p, size_t len)
{
    c->p = p;
    c->left = len;
    c->err = ES_OK;
}

/* 1 if n more bytes can be read; else sets the sticky error and empties the cursor. */
static inline int cur_need(struct cursor *c, size_t n)
{
    if (c->err == ES_OK && n <= c->left)
        return 1;
    if (c->err == ES_OK)
        c->err = ES_ETRUNC;
    c->left = 0;
    return 0;
}

/* Marks the input as malformed (a value read fine but breaks the format). */
static inline void cur_fail(struct cursor *c, int err)
{
    if (c->err == ES_OK)
        c->err = err;
    c->left = 0;
}

static inline uint8_t cur_u8(struct cursor *c)
{
    uint8_t v;
    if (!cur_need(c, 1))
        return 0;
    v = c->p[0];
    c->p += 1, c->left -= 1;
    return v;
}

static inline uint16_t cur_be16(struct cursor *c)
{
    uint16_t v;
    if (!cur_need(c, 2))
        return 0;
    v = (uint16_t)(c->p[0] << 8 | c->p[1]);
    c->p += 2, c->left -= 2;
    return v;
}

static inline uint32_t cur_be32(struct cursor *c)
{
    uint32_t v;
    if (!cur_need(c, 4))
        return 0;
    v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
    c->p += 4, c->left -= 4;
    return v;
}

static inline uint64_t cur_be64(struct cursor *c)
{
    uint64_t hi;
    if (!cur_need(c, 8)) /* checked first: a short read returns 0, never half a value */
        return 0;
    hi = cur_be32(c);
    return hi << 32 | cur_be32(c);
}

static inline uint16_t cur_le16(struct cursor *c)
{
    uint16_t v;
    if (!cur_need(c, 2))
        return 0;
    v = (uint16_t)(c->p[1] << 8 | c->p[0]);
    c->p += 2, c->left -= 2;
    return v;
}

static inline uint32_t cur_le32(struct cursor *c)
{
    uint32_t v;
    if (!cur_need(c, 4))
        return 0;
    v = (uint32_t)c->p[3] << 24 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[1] << 8 | c->p[0];
    c->p += 4, c->left -= 4;
    return v;
}

static inline uint64_t cur_le64(struct cursor *c)
{
    uint64_t lo;
    if (!cur_need(c, 8))
        return 0;
    lo = cur_le32(c);
    return (uint64_t)cur_le32(c) << 32 | lo;
}

/* Returns a pointer to the next n bytes and skips them, or NULL (sticky error). */
static inline const uint8_t *cur_bytes(struct cursor *c, size_t n)
{
    const uint8_t *p;
    if (!cur_need(c, n))
        return NULL;
    p = c->p;
    c->p += n, c->left -= n;
    return p;
}

static inline void cur_skip(struct cursor *c, size_t n)
{
    (void)cur_bytes(c, n);
}

/* Copies n bytes into dst (dst untouched on failure). Returns 1 on success. */
static inline int cur_copy(struct cursor *c, void *dst, size_t n)
{
    const uint8_t *p = cur_bytes(c, n);
    if (p == NULL)
        return 0;
    if (n)
        memcpy(dst, p, n);
    return 1;
}

/*
 * Splits off the next n bytes as a sub-cursor: the inner parser cannot see past them.
 * On a short outer cursor both get the sticky error.
 */
static inline struct cursor cur_sub(struct cursor *c, size_t n)
{
    struct cursor s;
    const uint8_t *p = cur_bytes(c, n);
    cur_init(&s, p, p ? n : 0);
    if (p == NULL)
        s.err = c->err;
    return s;
}

/* Unsigned LEB128 varint (protobuf / Kafka), at most 10 bytes. */
static inline uint64_t cur_uvarint(struct cursor *c)
{
    uint64_t v = 0;
    unsigned shift;
    for (shift = 0; shift < 64; shift += 7) {
        uint8_t b = cur_u8(c);
        if (c->err)
            return 0;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    cur_fail(c, ES_EINVALID);
    return 0;
}

/* Zigzag-encoded signed varint (Kafka record fields). */
static inline int64_t cur_svarint(struct cursor *c)
{
    uint64_t u = cur_uvarint(c);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static inline uint32_t cur_be24(struct cursor *c)
{
    uint32_t v;
    if (!cur_need(c, 3))
        return 0;
    v = (uint32_t)c->p[0] << 16 | (uint32_t)c->p[1] << 8 | c->p[2];
    c->p += 3, c->left -= 3;
    return v;
}

/* The next byte without consuming it, or -1 at the end (no error is set). */
static inline int cur_peek(const struct cursor *c)
{
    return c->err == ES_OK && c->left ? c->p[0] : -1;
}

/* 1 when every byte was read without error: the end of a record that must be used up. */
static inline int cur_eof(const struct cursor *c)
{
    return c->err == ES_OK && c->left == 0;
}

/* Consumes byte ch if it comes next and returns 1; else 0 (no error is set). */
static inline int cur_accept(struct cursor *c, int ch)
{
    if (cur_peek(c) != ch)
        return 0;
    c->p += 1, c->left -= 1;
    return 1;
}

/*
 * Text up to the byte delim: returns the bytes before it (*n of them, may be 0) and consumes
 * them and the delimiter. Without a delimiter, returns and consumes the rest (*found = 0).
 * found may be NULL. An errored cursor returns NULL with *n = 0.
 */
static inline const uint8_t *cur_until(struct cursor *c, int delim, size_t *n, int *found)
{
    const uint8_t *p = c->err == ES_OK ? c->p : NULL, *d;
    size_t len;

    *n = 0;
    if (found)
        *found = 0;
    if (p == NULL)
        return NULL;
    d = c->left ? memchr(p, delim, c->left) : NULL;
    len = d ? (size_t)(d - p) : c->left;
    *n = len;
    if (found)
        *found = d != NULL;
    c->p += len, c->left -= len;
    if (d)
        c->p += 1, c->left -= 1;
    return p;
}

/* Value of one hex digit (either case), or -1 when c is not one. */
static inline int cur_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Position helpers: bytes consumed since a saved cursor. */
static inline size_t cur_offset(const struct cursor *start, const struct cursor *now)
{
    return start->left - now->left;
}

#endif
