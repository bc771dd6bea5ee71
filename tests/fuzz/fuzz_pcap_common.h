/*
 * Shared by the capture collector's fuzz targets (fuzz_http.c ... fuzz_tcp.c): builds raw
 * IPv4 packets around fuzzer bytes and runs them through a pcapsrc whose events and
 * rejects are dropped (the point is that nothing reads out of bounds, leaks or hangs).
 */
#ifndef ES_FUZZ_PCAP_COMMON_H
#define ES_FUZZ_PCAP_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/pcap/pcapsrc.h"

static int fz_event(void *ctx, struct event *ev)
{
    (void)ctx, (void)ev;
    return ES_OK;
}

static int fz_reject(void *ctx, const char *loc, const char *reason, const char *detail)
{
    (void)ctx, (void)loc, (void)reason, (void)detail;
    return ES_OK;
}

/* threads: worker threads (par.c), 0 for none. */
static struct pcapsrc *fz_new(unsigned threads)
{
    struct pcapsrc_opts o = {1 << 20, 4 << 20, 64, 0, threads};
    struct pcapsrc *ps = pcapsrc_new(NULL, &o);

    pcapsrc_set_hooks(ps, fz_event, fz_reject, NULL);
    return ps;
}

/* One IPv4/TCP packet between 10.0.0.1:40000 (client) and 10.0.0.2:port. */
static void fz_packet(struct pcapsrc *ps, int64_t ts, int to_server, uint16_t port, uint32_t seq,
                      uint8_t flags, const uint8_t *data, size_t len)
{
    size_t n = 40 + len;
    uint8_t *b = malloc(n);
    uint16_t sp = to_server ? 40000 : port, dp = to_server ? port : 40000;

    memset(b, 0, 40);
    b[0] = 0x45, b[2] = (uint8_t)(n >> 8), b[3] = (uint8_t)n, b[8] = 64, b[9] = 6;
    b[12] = 10, b[15] = to_server ? 1 : 2, b[16] = 10, b[19] = to_server ? 2 : 1;
    b[20] = (uint8_t)(sp >> 8), b[21] = (uint8_t)sp, b[22] = (uint8_t)(dp >> 8), b[23] = (uint8_t)dp;
    b[24] = (uint8_t)(seq >> 24), b[25] = (uint8_t)(seq >> 16), b[26] = (uint8_t)(seq >> 8);
    b[27] = (uint8_t)seq, b[32] = 0x50, b[33] = flags;
    if (len)
        memcpy(b + 40, data, len);
    if (pcapsrc_packet(ps, 101, ts, b, n, n) != ES_OK)
        abort(); /* hooks never fail */
    free(b);
}

/*
 * Input: [client length, 2 bytes big-endian][client bytes][server bytes]. Both streams go
 * to port as one connection, cut in segments whose sizes come from the input itself,
 * client and server segments interleaved; every eighth segment swaps with the next one.
 */
static __attribute__((unused)) void fz_stream(uint16_t port, const uint8_t *data, size_t size)
{
    struct pcapsrc *ps;
    size_t clen, off[2] = {0, 0}, len[2];
    const uint8_t *p[2];
    uint32_t seq[2] = {1000, 900000}, rnd = 2166136261u;
    int64_t ts = 1000000;
    int dir = 0, k = 0;

    if (size < 2)
        return;
    clen = (size_t)data[0] << 8 | data[1];
    data += 2, size -= 2;
    if (clen > size)
        clen = size;
    p[0] = data, len[0] = clen;
    p[1] = data + clen, len[1] = size - clen;
    /* one input in four through two worker threads, three packets a round (par.c) */
    setenv("EVENTSCOPE_ROUND_PACKETS", "3", 1);
    ps = fz_new(size % 4 == 3 ? 2 : 0);
    fz_packet(ps, ts++, 1, port, seq[0] - 1, 0x02, NULL, 0);
    fz_packet(ps, ts++, 0, port, seq[1] - 1, 0x12, NULL, 0);
    while (off[0] < len[0] || off[1] < len[1]) {
        size_t n, n2;
        rnd = (rnd ^ (uint32_t)(off[0] + off[1])) * 16777619u;
        if (off[dir] >= len[dir] || (rnd & 3) == 0)
            dir = !dir;
        if (off[dir] >= len[dir])
            continue;
        n = 1 + (rnd >> 8) % 700;
        if (n > len[dir] - off[dir])
            n = len[dir] - off[dir];
        if (++k % 8 == 0 && off[dir] + n < len[dir]) {
            /* out of order: the next piece first, then this one */
            n2 = len[dir] - off[dir] - n < 300 ? len[dir] - off[dir] - n : 300;
            fz_packet(ps, ts++, dir == 0, port, seq[dir] + (uint32_t)(off[dir] + n), 0x18,
                      p[dir] + off[dir] + n, n2);
            fz_packet(ps, ts++, dir == 0, port, seq[dir] + (uint32_t)off[dir], 0x18,
                      p[dir] + off[dir], n);
            off[dir] += n + n2;
            continue;
        }
        fz_packet(ps, ts++, dir == 0, port, seq[dir] + (uint32_t)off[dir], 0x18, p[dir] + off[dir],
                  n);
        off[dir] += n;
    }
    fz_packet(ps, ts++, 1, port, seq[0] + (uint32_t)len[0], 0x11, NULL, 0);
    fz_packet(ps, ts++, 0, port, seq[1] + (uint32_t)len[1], 0x11, NULL, 0);
    if (pcapsrc_finish(ps) != ES_OK)
        abort();
    pcapsrc_free(ps);
}

#endif
