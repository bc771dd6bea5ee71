/*
 * Payload decompression for the decoders: Kafka record batches (gzip, snappy, lz4, zstd)
 * and HTTP bodies (Content-Encoding gzip, deflate, zstd). Untrusted input: every output is
 * bounded by the caller's limit, and a corrupt stream is an error, never a partial result.
 */
#ifndef ES_PCAP_CODEC_H
#define ES_PCAP_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum codec {
    CODEC_GZIP,    /* RFC 1952 */
    CODEC_DEFLATE, /* HTTP "deflate": RFC 1950 zlib, or raw RFC 1951 as some servers send */
    CODEC_SNAPPY,  /* raw block, or the xerial framing ("\x82SNAPPY\0") of Java clients */
    CODEC_LZ4F,    /* LZ4 frame */
    CODEC_ZSTD,    /* Zstandard frame(s) */
};

/*
 * Decompresses n bytes of in. Returns ES_OK with *out (malloc'd, owned by the caller, never
 * NULL, even for no bytes) and *outlen; ES_EINVALID when the stream is corrupt or ends
 * early; ES_ETOOBIG when it would inflate past limit bytes; ES_EUNSUPPORTED when this build
 * lacks the library (lz4, zstd).
 */
int codec_decompress(enum codec c, const uint8_t *in, size_t n, size_t limit, uint8_t **out,
                     size_t *outlen) ES_WARN_UNUSED;

#endif
