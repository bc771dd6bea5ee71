/*
 * ASCII helpers for the hot loops over untrusted text (header names and values, JSON
 * strings): case folding without a branch, and scans that test eight bytes at a time
 * ("SWAR": a 64-bit word's bytes checked together, then the word that stops the run is
 * gone over byte by byte). The word tests only ever say whether some byte of the word
 * qualifies, so the result does not depend on the byte order.
 */
#ifndef ES_ASCII_H
#define ES_ASCII_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 'A'..'Z' to 'a'..'z'; every other value as it is. */
static inline int ascii_lower(int ch)
{
    return ch + ((unsigned)(ch - 'A') < 26u ? 'a' - 'A' : 0);
}

#define ASCII_ONES 0x0101010101010101ULL
#define ASCII_HIGH 0x8080808080808080ULL

static inline uint64_t ascii_load8(const unsigned char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* Nonzero when a byte of x is below n (1 <= n <= 128). */
static inline uint64_t ascii_has_below(uint64_t x, unsigned n)
{
    return (x - ASCII_ONES * n) & ~x & ASCII_HIGH;
}

/* Nonzero when a byte of x equals b. */
static inline uint64_t ascii_has_byte(uint64_t x, unsigned char b)
{
    return ascii_has_below(x ^ (ASCII_ONES * b), 1);
}

/*
 * Where the first flagged byte of a word is, given the flags of a word test (nonzero): the
 * lowest flag is exact (a wrong flag only ever follows a right one, from a borrow), and
 * the lowest byte is the first in memory on a little-endian machine; elsewhere the caller
 * goes over the word byte by byte. Returns 8 for "look byte by byte".
 */
static inline size_t ascii_first(uint64_t flags)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
    return (size_t)__builtin_ctzll(flags) / 8;
#else
    (void)flags;
    return 8;
#endif
}

/* The runs ascii_scan measures: what ends each. */
enum ascii_stop {
    ASCII_STOP_NUL_HIGH,  /* NUL and bytes from 0x80 up (ascii_run) */
    ASCII_STOP_JSON,      /* control bytes, '"', '\\' (a JSON string's bytes as they are) */
    ASCII_STOP_JSON_HIGH  /* the same and bytes from 0x80 up */
};

/* Flags (nonzero) for the bytes of x that end a run of kind stop. */
static inline uint64_t ascii_stops(uint64_t x, enum ascii_stop stop)
{
    if (stop == ASCII_STOP_NUL_HIGH)
        return (x & ASCII_HIGH) | ascii_has_below(x, 1);
    return (stop == ASCII_STOP_JSON_HIGH ? x & ASCII_HIGH : 0) | ascii_has_below(x, 0x20) |
           ascii_has_byte(x, '"') | ascii_has_byte(x, '\\');
}

/* 1 when byte c ends a run of kind stop (ascii_stops, one byte). */
static inline int ascii_stops_at(unsigned char c, enum ascii_stop stop)
{
    if (stop == ASCII_STOP_NUL_HIGH)
        return c == 0 || c >= 0x80;
    return c < 0x20 || c == '"' || c == '\\' || (stop == ASCII_STOP_JSON_HIGH && c >= 0x80);
}

/* Length of the run at s (n bytes) that no byte of kind stop ends. */
static inline size_t ascii_scan(const void *s, size_t n, enum ascii_stop stop)
{
    const unsigned char *p = s;
    size_t i = 0;

    for (; n - i >= 8; i += 8) {
        uint64_t f = ascii_stops(ascii_load8(p + i), stop);
        if (f) {
            size_t k = ascii_first(f);
            if (k < 8)
                return i + k;
            break;
        }
    }
    if (i < n && n >= 8 && ascii_first(1) == 0) {
        /* the last word, overlapping bytes already passed (which raise no flag) */
        uint64_t f = ascii_stops(ascii_load8(p + n - 8), stop);
        return f ? n - 8 + ascii_first(f) : n;
    }
    while (i < n && !ascii_stops_at(p[i], stop))
        i++;
    return i;
}

/* Length of the run at s (n bytes) of bytes 0x01..0x7f: ASCII without NUL. */
static inline size_t ascii_run(const void *s, size_t n)
{
    return ascii_scan(s, n, ASCII_STOP_NUL_HIGH);
}

/*
 * Length of the run at s (n bytes) that a JSON string holds as it is: no control byte,
 * '"' or '\\'; bytes from 0x80 up are counted in when high is set, else they end it.
 */
static inline size_t ascii_json_run(const void *s, size_t n, int high)
{
    return ascii_scan(s, n, high ? ASCII_STOP_JSON : ASCII_STOP_JSON_HIGH);
}

/* The 8 bytes of x with 'A'..'Z' made lowercase (bytes from 0x80 up left as they are). */
static inline uint64_t ascii_lower8(uint64_t x)
{
    uint64_t low7 = x & ~ASCII_HIGH;
    uint64_t ge_a = low7 + ASCII_ONES * (0x80 - 'A');     /* high bit: byte >= 'A' */
    uint64_t gt_z = low7 + ASCII_ONES * (0x80 - 'Z' - 1); /* high bit: byte > 'Z' */
    uint64_t upper = (ge_a ^ gt_z) & ~x & ASCII_HIGH;
    return x | upper >> 2;
}

/* dst := the n bytes at src with 'A'..'Z' made lowercase. */
static inline void ascii_lower_copy(void *dst, const void *src, size_t n)
{
    unsigned char *o = dst;
    const unsigned char *p = src;
    size_t i = 0;

    for (; n - i >= 8; i += 8) {
        uint64_t x = ascii_lower8(ascii_load8(p + i));
        memcpy(o + i, &x, 8);
    }
    for (; i < n; i++)
        o[i] = (unsigned char)ascii_lower(p[i]);
}

#endif
