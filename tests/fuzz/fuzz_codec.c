/*
 * Fuzz target: payload decompression (collector/pcap/codec.c). The first byte picks the
 * codec (gzip, deflate, snappy, lz4, zstd), the rest is the compressed stream; the output
 * limit is 1 MiB, so bombs must stop at it.
 */
#include <stdlib.h>

#include "collector/pcap/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum codec codecs[] = {CODEC_GZIP, CODEC_DEFLATE, CODEC_SNAPPY, CODEC_LZ4F,
                                        CODEC_ZSTD};
    uint8_t *out = NULL;
    size_t outlen = 0;

    if (size < 1)
        return 0;
    if (codec_decompress(codecs[data[0] % 5], data + 1, size - 1, 1 << 20, &out, &outlen) ==
        ES_OK) {
        if (outlen > (1 << 20))
            abort(); /* past the limit */
        free(out);
    }
    return 0;
}
