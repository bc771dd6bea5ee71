/*
 * Fuzz target: TCP reassembly with arbitrary segments. Input: [port selector 1 byte] then
 * records [flags 1][direction 1][sequence offset 2, big-endian][length 1][bytes], so
 * segments overlap, repeat, leave holes and wrap the sequence space in any way.
 */
#include "tests/fuzz/fuzz_pcap_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ports[] = {8080, 9092, 5672, 1883, 4222, 12345};
    struct pcapsrc *ps;
    uint16_t port;
    int64_t ts = 1000000;

    if (size < 1)
        return 0;
    port = ports[data[0] % 6];
    data++, size--;
    ps = fz_new(0);
    while (size >= 5) {
        uint8_t flags = data[0] & 0x1f, to_server = data[1] & 1;
        uint32_t seq = 0xfffff000u + ((uint32_t)data[2] << 8 | data[3]);
        size_t n = data[4];
        data += 5, size -= 5;
        if (n > size)
            n = size;
        /* the idle timer too: now and then a long silence */
        ts += (flags & 0x10) && n == 0 ? 400000000 : 1000;
        fz_packet(ps, ts, to_server, port, seq + (to_server ? 0 : 0x10000), flags, data, n);
        data += n, size -= n;
    }
    if (pcapsrc_finish(ps) != ES_OK)
        abort();
    pcapsrc_free(ps);
    return 0;
}
