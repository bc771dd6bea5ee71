/*
 * Payload decompression (see codec.h). zlib, liblz4 and libzstd do the work where they
 * exist; snappy is decoded here, from the format description of google/snappy
 * (format_description.txt) and snappy-java's stream framing:
 *
 *   raw block  | uncompressed length (varint, <= 2^32 - 1) | element* |
 *   element    | tag 1 | ...: tag & 3 = 0 literal: length - 1 in tag >> 2 (< 60), or in the
 *              |   next 1..4 bytes (LE) for 60..63, then the bytes;
 *              | 1: copy, length 4 + (tag >> 2 & 7), offset (tag >> 5) << 8 | next byte;
 *              | 2: copy, length 1 + (tag >> 2), offset 2 bytes LE;
 *              | 3: copy, length 1 + (tag >> 2), offset 4 bytes LE.
 *   xerial     | "\x82SNAPPY\0" | version 4 | compatible 4 | (length 4 BE | raw block)* |
 */
#include "collector/pcap/codec.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#ifdef ES_HAVE_ZSTD
#include <zstd.h>
#endif
#ifdef ES_HAVE_LZ4
#include <lz4frame.h>
#endif

#include "core/cursor.h"
#include "core/xmalloc.h"

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

/* An output buffer that doubles up to a limit. */
struct outbuf {
    uint8_t *p;
    size_t len, cap, limit;
};

static void out_init(struct outbuf *o, size_t n, size_t limit)
{
    o->cap = n < limit / 4 ? n * 4 + 1024 : limit;
    if (o->cap > limit)
        o->cap = limit;
    o->p = xmalloc(o->cap ? o->cap : 1);
    o->len = 0;
    o->limit = limit;
}

/* Makes room for more output: ES_ETOOBIG when the buffer is full at the limit. */
static int out_grow(struct outbuf *o)
{
    if (o->len < o->cap)
        return ES_OK;
    if (o->cap >= o->limit)
        return ES_ETOOBIG;
    o->cap = o->cap > o->limit / 2 ? o->limit : o->cap * 2;
    o->p = xrealloc(o->p, o->cap);
    return ES_OK;
}

static int out_finish(struct outbuf *o, int rc, uint8_t **out, size_t *outlen)
{
    if (rc != ES_OK) {
        free(o->p);
        return rc;
    }
    *out = o->p ? o->p : xmalloc(1); /* never NULL: callers tell "decompressed" by it */
    *outlen = o->len;
    return ES_OK;
}

/* windowBits: 16 + 15 gzip only, 15 zlib, -15 raw deflate. */
static int do_zlib(const uint8_t *in, size_t n, int wbits, size_t limit, uint8_t **out,
                   size_t *outlen)
{
    struct outbuf o;
    z_stream z;
    int zr, rc = ES_EINVALID;

    memset(&z, 0, sizeof z);
    if (n > UINT32_MAX || inflateInit2(&z, wbits) != Z_OK)
        return ES_EINVALID;
    out_init(&o, n, limit);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    for (;;) {
        if ((rc = out_grow(&o)) != ES_OK)
            break;
        z.next_out = o.p + o.len;
        z.avail_out = (uInt)(o.cap - o.len);
        zr = inflate(&z, Z_NO_FLUSH);
        o.len = o.cap - z.avail_out;
        if (zr == Z_STREAM_END) {
            rc = ES_OK;
            break;
        }
        rc = ES_EINVALID;
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            break;
        if (z.avail_out > 0 && (zr == Z_BUF_ERROR || z.avail_in == 0))
            break; /* input ended inside the stream */
    }
    inflateEnd(&z);
    return out_finish(&o, rc, out, outlen);
}

/*
 * Declared length of a raw block (its varint preamble), or -1 when no block of the bytes
 * left could decode to it: an element expands at most 64 bytes from 3 (a 2-byte-offset
 * copy), so checking here keeps a forged length from sizing an allocation.
 */
static int64_t snappy_len(struct cursor *c)
{
    uint64_t v = cur_uvarint(c);

    return c->err || v > UINT32_MAX || v > (uint64_t)c->left * 22 + 64 ? -1 : (int64_t)v;
}

/* The elements of a raw block after its preamble, at c: exactly want bytes into out. */
static int snappy_elements(struct cursor *c, uint8_t *out, size_t want)
{
    size_t len = 0;

    while (c->left > 0) {
        uint8_t tag = cur_u8(c);
        size_t run, off = 0;
        switch (tag & 3) {
        case 0:
            run = (size_t)(tag >> 2);
            if (run >= 60) {
                unsigned k, nb = (unsigned)run - 59;
                run = 0;
                for (k = 0; k < nb; k++)
                    run |= (size_t)cur_u8(c) << (8 * k);
            }
            run += 1;
            if (c->err || run > c->left || run > want - len)
                return ES_EINVALID;
            cur_copy(c, out + len, run);
            len += run;
            continue;
        case 1:
            run = 4 + ((tag >> 2) & 7);
            off = (size_t)(tag >> 5) << 8 | cur_u8(c);
            break;
        case 2:
            run = 1 + (size_t)(tag >> 2);
            off = cur_le16(c);
            break;
        default:
            run = 1 + (size_t)(tag >> 2);
            off = cur_le32(c);
            break;
        }
        if (c->err || off == 0 || off > len || run > want - len)
            return ES_EINVALID;
        for (; run > 0; run--, len++) /* byte by byte: a copy may overlap its own output */
            out[len] = out[len - off];
    }
    return len == want ? ES_OK : ES_EINVALID;
}

/* One raw block of n bytes appended to o. */
static int snappy_block(struct outbuf *o, const uint8_t *in, size_t n)
{
    struct cursor c;
    int64_t want;
    int rc;

    cur_init(&c, in, n);
    want = snappy_len(&c);
    if (want < 0)
        return ES_EINVALID;
    if ((uint64_t)want > o->limit - o->len)
        return ES_ETOOBIG;
    if (o->p == NULL || o->len + (size_t)want > o->cap) {
        o->cap = o->len + (size_t)want;
        o->p = xrealloc(o->p, o->cap ? o->cap : 1);
    }
    rc = snappy_elements(&c, o->p + o->len, (size_t)want);
    if (rc == ES_OK)
        o->len += (size_t)want;
    return rc;
}

static int do_snappy(const uint8_t *in, size_t n, size_t limit, uint8_t **out, size_t *outlen)
{
    struct outbuf o = {NULL, 0, 0, limit};
    struct cursor c;
    int rc = ES_OK;

    if (n < 16 || memcmp(in, xerial_magic, sizeof xerial_magic) != 0)
        return out_finish(&o, snappy_block(&o, in, n), out, outlen);
    cur_init(&c, in + 16, n - 16);
    while (rc == ES_OK && c.left > 0) {
        uint32_t blen = cur_be32(&c);
        const uint8_t *b = cur_bytes(&c, blen);
        rc = b == NULL ? ES_EINVALID : snappy_block(&o, b, blen);
    }
    return out_finish(&o, rc, out, outlen);
}

#ifdef ES_HAVE_ZSTD
static int do_zstd(const uint8_t *in, size_t n, size_t limit, uint8_t **out, size_t *outlen)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    ZSTD_inBuffer ib = {in, n, 0};
    struct outbuf o;
    size_t r = 1;
    int rc = ES_EINVALID;

    if (ds == NULL)
        return ES_ENOMEM;
    out_init(&o, n, limit);
    ZSTD_initDStream(ds);
    for (;;) {
        ZSTD_outBuffer ob;
        if ((rc = out_grow(&o)) != ES_OK)
            break;
        ob.dst = o.p, ob.size = o.cap, ob.pos = o.len;
        r = ZSTD_decompressStream(ds, &ob, &ib);
        o.len = ob.pos;
        rc = ES_EINVALID;
        if (ZSTD_isError(r))
            break;
        if (r == 0 && ib.pos == ib.size) {
            rc = ES_OK;
            break;
        }
        if (ob.pos < ob.size && ib.pos == ib.size)
            break; /* input ended inside a frame */
    }
    ZSTD_freeDStream(ds);
    return out_finish(&o, rc, out, outlen);
}
#endif

#ifdef ES_HAVE_LZ4
static int do_lz4(const uint8_t *in, size_t n, size_t limit, uint8_t **out, size_t *outlen)
{
    LZ4F_dctx *dc;
    struct outbuf o;
    size_t inpos = 0, r = 1;
    int rc = ES_OK;

    if (LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION)))
        return ES_ENOMEM;
    out_init(&o, n, limit);
    while (inpos < n && r != 0) {
        size_t osz, isz = n - inpos;
        if ((rc = out_grow(&o)) != ES_OK)
            break;
        osz = o.cap - o.len;
        r = LZ4F_decompress(dc, o.p + o.len, &osz, in + inpos, &isz, NULL);
        if (LZ4F_isError(r)) {
            rc = ES_EINVALID;
            break;
        }
        inpos += isz;
        o.len += osz;
        if (isz == 0 && osz == 0)
            break;
    }
    LZ4F_freeDecompressionContext(dc);
    if (rc == ES_OK && r != 0)
        rc = ES_EINVALID; /* the frame did not end */
    return out_finish(&o, rc, out, outlen);
}
#endif

int codec_decompress(enum codec c, const uint8_t *in, size_t n, size_t limit, uint8_t **out,
                     size_t *outlen)
{
    int rc;

    switch (c) {
    case CODEC_GZIP:
        return do_zlib(in, n, 16 + MAX_WBITS, limit, out, outlen);
    case CODEC_DEFLATE:
        rc = do_zlib(in, n, MAX_WBITS, limit, out, outlen);
        return rc == ES_EINVALID ? do_zlib(in, n, -MAX_WBITS, limit, out, outlen) : rc;
    case CODEC_SNAPPY:
        return do_snappy(in, n, limit, out, outlen);
    case CODEC_LZ4F:
#ifdef ES_HAVE_LZ4
        return do_lz4(in, n, limit, out, outlen);
#else
        return ES_EUNSUPPORTED;
#endif
    case CODEC_ZSTD:
#ifdef ES_HAVE_ZSTD
        return do_zstd(in, n, limit, out, outlen);
#else
        return ES_EUNSUPPORTED;
#endif
    }
    return ES_EUNSUPPORTED;
}
