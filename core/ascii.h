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

/* Length of the run at s (n bytes) of bytes 0x01..0x7f: ASCII without NUL. */
static inline size_t ascii_run(const void *s, size_t n)
{
    const unsigned char *p = s;
    size_t i = 0;

    for (; n - i >= 8; i += 8) {
        uint64_t x = ascii_load8(p + i);
        if ((x & ASCII_HIGH) | ascii_has_below(x, 1))
            break;
    }
    while (i < n && p[i] - 1u < 0x7fu)
        i++;
    return i;
}

/*
 * Length of the run at s (n bytes) that a JSON string holds as it is: no control byte,
 * '"' or '\\'; bytes from 0x80 up are counted in when high is set, else they end it.
 */
static inline size_t ascii_json_run(const void *s, size_t n, int high)
{
    const unsigned char *p = s;
    uint64_t hi = high ? 0 : ASCII_HIGH;
    size_t i = 0;

    for (; n - i >= 8; i += 8) {
        uint64_t x = ascii_load8(p + i);
        if ((x & hi) | ascii_has_below(x, 0x20) | ascii_has_byte(x, '"') | ascii_has_byte(x, '\\'))
            break;
    }
    while (i < n && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\' && (high || p[i] < 0x80))
        i++;
    return i;
}

#endif
