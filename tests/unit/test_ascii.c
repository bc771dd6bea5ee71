/*
 * core/ascii.h: the word-at-a-time scans must stop exactly where a byte-by-byte scan stops,
 * at every offset and length (the word tests near a stopping byte, a borrow from one byte
 * into the next, bytes from 0x80 up), and ascii_lower and the word-wise ascii_lower_copy
 * must fold only 'A'..'Z'.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "core/ascii.h"

static size_t slow_run(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] >= 0x01 && p[i] <= 0x7f)
        i++;
    return i;
}

static size_t slow_json_run(const unsigned char *p, size_t n, int high)
{
    size_t i = 0;
    while (i < n && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\' && (high || p[i] < 0x80))
        i++;
    return i;
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

/* Mostly plain letters, now and then one of the bytes that stop a run. */
static unsigned char pick(void)
{
    static const unsigned char odd[] = {0x00, 0x01, 0x1f, 0x20, '"', '\\', 0x7f, 0x80, 0x9f,
                                        0xc3, 0xff, 0x21, 0x5b, 0x5d, 0x23};
    if (rnd() % 6 != 0)
        return (unsigned char)('a' + rnd() % 26);
    return odd[rnd() % sizeof odd];
}

int main(void)
{
    unsigned char buf[80];
    int ch, round;

    for (ch = -1; ch < 256; ch++) {
        int want = ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
        CHECK_INT(ascii_lower(ch), want);
    }
    /* every single stopping byte at every place in runs of every length up to 40 */
    for (ch = 0; ch < 256; ch++) {
        size_t len, at;
        for (len = 0; len <= 40; len++) {
            for (at = 0; at <= len; at++) {
                memset(buf, 'x', sizeof buf);
                if (at < len)
                    buf[at] = (unsigned char)ch;
                CHECK_INT((long)ascii_run(buf, len), (long)slow_run(buf, len));
                CHECK_INT((long)ascii_json_run(buf, len, 0), (long)slow_json_run(buf, len, 0));
                CHECK_INT((long)ascii_json_run(buf, len, 1), (long)slow_json_run(buf, len, 1));
            }
        }
    }
    /* random mixtures, from random offsets (unaligned loads) */
    for (round = 0; round < 200000; round++) {
        size_t len = rnd() % 64, off = rnd() % 8, i;
        for (i = 0; i < sizeof buf; i++)
            buf[i] = pick();
        CHECK_INT((long)ascii_run(buf + off, len), (long)slow_run(buf + off, len));
        CHECK_INT((long)ascii_json_run(buf + off, len, 0), (long)slow_json_run(buf + off, len, 0));
        CHECK_INT((long)ascii_json_run(buf + off, len, 1), (long)slow_json_run(buf + off, len, 1));
    }
    /* lowercase copies: every byte value in every lane, and random lengths */
    for (ch = 0; ch < 256; ch++) {
        unsigned char src[24], dst[24];
        size_t i, len;
        for (len = 0; len <= sizeof src; len++) {
            for (i = 0; i < sizeof src; i++)
                src[i] = (unsigned char)(i % 3 == 0 ? (size_t)ch : ((size_t)ch + i * 37) & 0xff);
            memset(dst, 0xaa, sizeof dst);
            ascii_lower_copy(dst, src, len);
            for (i = 0; i < len; i++)
                CHECK_INT(dst[i], ascii_lower(src[i]));
            for (; i < sizeof dst; i++)
                CHECK_INT(dst[i], 0xaa); /* nothing written past len */
        }
    }
    CHECK_INT((long)ascii_run(NULL, 0), 0);
    return CHECK_DONE();
}
