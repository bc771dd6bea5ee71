/*
 * Payload decompression (collector/pcap/codec.c): snappy blocks written by hand from the
 * format description (every element kind, overlapping copies, long literals, the xerial
 * framing of Java clients), gzip / zlib / raw deflate / zstd / lz4 made by the libraries
 * themselves; every corrupt, truncated or forged input is ES_EINVALID and every output
 * past the limit ES_ETOOBIG, never a partial result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#ifdef ES_HAVE_ZSTD
#include <zstd.h>
#endif
#ifdef ES_HAVE_LZ4
#include <lz4frame.h>
#endif

#include "collector/pcap/codec.h"
#include "tests/check.h"

/* Decompresses and compares with want (NULL: expects rc and no output). */
static void expect(enum codec c, const void *in, size_t n, size_t limit, int rc,
                   const char *want, size_t want_len)
{
    uint8_t *out = NULL;
    size_t outlen = 0;
    int got = codec_decompress(c, in, n, limit, &out, &outlen);

    CHECK_INT(got, rc);
    if (got == ES_OK) {
        CHECK_INT((long long)outlen, (long long)want_len);
        CHECK(want != NULL && outlen == want_len && memcmp(out, want, want_len) == 0);
        free(out);
    }
}

static void test_snappy(void)
{
    static const uint8_t hello[] = {0x05, 0x10, 'h', 'e', 'l', 'l', 'o'};
    /* "abc", then a 1-byte-offset copy of 9 at offset 3 that overlaps what it writes */
    static const uint8_t abc[] = {0x0c, 0x08, 'a', 'b', 'c', 0x15, 0x03};
    static const uint8_t copy2[] = {0x06, 0x08, 'x', 'y', 'z', 0x0a, 0x03, 0x00};
    static const uint8_t copy4[] = {0x06, 0x08, 'x', 'y', 'z', 0x0b, 0x03, 0, 0, 0};
    static const uint8_t off0[] = {0x07, 0x08, 'a', 'b', 'c', 0x01, 0x00};
    static const uint8_t offbig[] = {0x07, 0x08, 'a', 'b', 'c', 0x01, 0x05};
    static const uint8_t short_out[] = {0x06, 0x10, 'h', 'e', 'l', 'l', 'o'};
    static const uint8_t long_out[] = {0x03, 0x10, 'h', 'e', 'l', 'l', 'o'};
    static const uint8_t cut[] = {0x05, 0x10, 'h', 'e'};
    static const uint8_t forged[] = {0xff, 0xff, 0xff, 0x0f, 0x00};
    static const uint8_t bad_varint[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t lit[3 + 200], xer[64];
    char want[200];
    size_t n = 0;

    expect(CODEC_SNAPPY, hello, sizeof hello, 64, ES_OK, "hello", 5);
    expect(CODEC_SNAPPY, abc, sizeof abc, 64, ES_OK, "abcabcabcabc", 12);
    expect(CODEC_SNAPPY, copy2, sizeof copy2, 64, ES_OK, "xyzxyz", 6);
    expect(CODEC_SNAPPY, copy4, sizeof copy4, 64, ES_OK, "xyzxyz", 6);
    /* a 200-byte literal: two-byte varint preamble, length in one extra byte (tag 60) */
    memset(want, 'q', sizeof want);
    lit[0] = 0xc8, lit[1] = 0x01, lit[2] = 0xf0, lit[3] = 199;
    memset(lit + 4, 'q', 199);
    expect(CODEC_SNAPPY, lit, 4 + 199, 1024, ES_EINVALID, NULL, 0); /* one byte short */
    {
        uint8_t full[4 + 200];
        memcpy(full, lit, 4);
        memset(full + 4, 'q', 200);
        expect(CODEC_SNAPPY, full, sizeof full, 1024, ES_OK, want, 200);
        expect(CODEC_SNAPPY, full, sizeof full, 199, ES_ETOOBIG, NULL, 0);
    }
    expect(CODEC_SNAPPY, off0, sizeof off0, 64, ES_EINVALID, NULL, 0);
    expect(CODEC_SNAPPY, offbig, sizeof offbig, 64, ES_EINVALID, NULL, 0);
    expect(CODEC_SNAPPY, short_out, sizeof short_out, 64, ES_EINVALID, NULL, 0);
    expect(CODEC_SNAPPY, long_out, sizeof long_out, 64, ES_EINVALID, NULL, 0);
    expect(CODEC_SNAPPY, cut, sizeof cut, 64, ES_EINVALID, NULL, 0);
    expect(CODEC_SNAPPY, forged, sizeof forged, (size_t)1 << 40, ES_EINVALID, NULL, 0);
    expect(CODEC_SNAPPY, bad_varint, sizeof bad_varint, 64, ES_EINVALID, NULL, 0);
    expect(CODEC_SNAPPY, hello, 0, 64, ES_EINVALID, NULL, 0);
    expect(CODEC_SNAPPY, hello, sizeof hello, 4, ES_ETOOBIG, NULL, 0);

    /* xerial framing: magic, version, compatible version, then length-prefixed blocks */
    memcpy(xer, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
    n = 16;
    xer[n++] = 0, xer[n++] = 0, xer[n++] = 0, xer[n++] = sizeof hello;
    memcpy(xer + n, hello, sizeof hello), n += sizeof hello;
    xer[n++] = 0, xer[n++] = 0, xer[n++] = 0, xer[n++] = sizeof abc;
    memcpy(xer + n, abc, sizeof abc), n += sizeof abc;
    expect(CODEC_SNAPPY, xer, n, 64, ES_OK, "helloabcabcabcabc", 17);
    expect(CODEC_SNAPPY, xer, n, 16, ES_ETOOBIG, NULL, 0);
    expect(CODEC_SNAPPY, xer, n - 1, 64, ES_EINVALID, NULL, 0);
    expect(CODEC_SNAPPY, xer, 16, 64, ES_OK, "", 0); /* a stream of no blocks */
}

/* Compresses with zlib: wbits 31 gzip, 15 zlib, -15 raw deflate. */
static size_t zlib_pack(int wbits, const void *in, size_t n, uint8_t *out, size_t cap)
{
    z_stream z;

    memset(&z, 0, sizeof z);
    CHECK_INT(deflateInit2(&z, 9, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    CHECK_INT(deflate(&z, Z_FINISH), Z_STREAM_END);
    deflateEnd(&z);
    return cap - z.avail_out;
}

static void test_zlib(void)
{
    static const char text[] = "{\"id\":\"e1\",\"type\":\"OrderPlaced\",\"source\":\"/shop\"}";
    static uint8_t zeros[1 << 20], packed[1 << 16];
    size_t n;

    n = zlib_pack(31, text, strlen(text), packed, sizeof packed);
    expect(CODEC_GZIP, packed, n, 1024, ES_OK, text, strlen(text));
    expect(CODEC_GZIP, packed, n - 9, 1024, ES_EINVALID, NULL, 0); /* cut inside the data */
    expect(CODEC_GZIP, packed, n, 10, ES_ETOOBIG, NULL, 0);
    expect(CODEC_DEFLATE, packed, n, 1024, ES_EINVALID, NULL, 0); /* gzip is not deflate */
    n = zlib_pack(15, text, strlen(text), packed, sizeof packed);
    expect(CODEC_DEFLATE, packed, n, 1024, ES_OK, text, strlen(text));
    n = zlib_pack(-15, text, strlen(text), packed, sizeof packed);
    expect(CODEC_DEFLATE, packed, n, 1024, ES_OK, text, strlen(text));
    expect(CODEC_DEFLATE, packed, n / 2, 1024, ES_EINVALID, NULL, 0);
    /* a bomb: 1 MiB of zeros in about a kilobyte, against a 64 KiB limit */
    n = zlib_pack(31, zeros, sizeof zeros, packed, sizeof packed);
    CHECK(n < 4096);
    expect(CODEC_GZIP, packed, n, 1 << 16, ES_ETOOBIG, NULL, 0);
    expect(CODEC_GZIP, packed, n, sizeof zeros, ES_OK, (const char *)zeros, sizeof zeros);
    expect(CODEC_GZIP, "not gzip at all", 15, 1024, ES_EINVALID, NULL, 0);
}

static void test_zstd_lz4(void)
{
    static const char text[] = "{\"id\":\"e2\",\"type\":\"PaymentAuthorised\",\"source\":\"/pay\"}";
    uint8_t packed[1024];
    size_t n;

    (void)packed, (void)n;
#ifdef ES_HAVE_ZSTD
    {
        uint8_t two[2048];
        n = ZSTD_compress(packed, sizeof packed, text, strlen(text), 3);
        CHECK(!ZSTD_isError(n));
        expect(CODEC_ZSTD, packed, n, 1024, ES_OK, text, strlen(text));
        expect(CODEC_ZSTD, packed, n - 3, 1024, ES_EINVALID, NULL, 0);
        expect(CODEC_ZSTD, packed, n, 8, ES_ETOOBIG, NULL, 0);
        memcpy(two, packed, n), memcpy(two + n, packed, n); /* two frames: one body */
        {
            char both[2 * sizeof text];
            snprintf(both, sizeof both, "%s%s", text, text);
            expect(CODEC_ZSTD, two, 2 * n, 1024, ES_OK, both, 2 * strlen(text));
        }
    }
#else
    expect(CODEC_ZSTD, text, 4, 1024, ES_EUNSUPPORTED, NULL, 0);
#endif
#ifdef ES_HAVE_LZ4
    n = LZ4F_compressFrame(packed, sizeof packed, text, strlen(text), NULL);
    CHECK(!LZ4F_isError(n));
    expect(CODEC_LZ4F, packed, n, 1024, ES_OK, text, strlen(text));
    expect(CODEC_LZ4F, packed, n - 5, 1024, ES_EINVALID, NULL, 0);
#else
    expect(CODEC_LZ4F, text, 4, 1024, ES_EUNSUPPORTED, NULL, 0);
#endif
}

int main(void)
{
    test_snappy();
    test_zlib();
    test_zstd_lz4();
    return CHECK_DONE();
}
