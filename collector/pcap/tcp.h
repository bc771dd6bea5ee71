/*
 * TCP reassembly per connection and direction: out-of-order segments are held (bounded),
 * retransmitted and overlapping bytes dropped (first copy wins), contiguous bytes handed to
 * the connection's decoder (decoders.h) which consumes whole messages. Gaps that can no
 * longer be filled (limits, FIN/RST, idle timeout, end of capture) become "tcp_gap"
 * rejects and the decoder resynchronises at the next message boundary, as it does when a
 * capture starts mid-stream. Memory is bounded per direction and overall.
 */
#ifndef ES_TCP_H
#define ES_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "collector/pcap/pcapsrc.h"
#include "core/err.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* One TCP segment as the IP layer found it (pointers borrowed for the call). */
struct tcp_pkt {
    int v6;             /* addresses are 16 bytes when set, else 4 */
    const uint8_t *src; /* source address */
    const uint8_t *dst; /* destination address */
    uint16_t sport, dport;
    uint32_t seq;
    uint8_t flags;       /* TCP_* */
    const uint8_t *data; /* payload */
    size_t len;          /* captured payload bytes */
    size_t wire_len;     /* payload bytes on the wire (> len: cut by the snap length) */
    uint64_t frame;      /* frame number of the (last) packet carrying it */
    int64_t ts;          /* capture time, µs */
};

struct tcp;
struct tcp_dir;

/* opts: every limit set (pcapsrc_new fills in the defaults). */
struct tcp *tcp_new(struct pcapsrc *ps, const struct pcapsrc_opts *opts);
void tcp_free(struct tcp *t); /* drops everything without reporting; accepts NULL */
/* Processes one segment. Returns ES_OK or the sink's error. */
int tcp_segment(struct tcp *t, const struct tcp_pkt *pk) ES_WARN_UNUSED;
/* Closes every connection: pending data decoded with eof, what is left reported. */
int tcp_finish(struct tcp *t) ES_WARN_UNUSED;
/* Which of n shards the segment's connection belongs to (the same both ways). */
unsigned tcp_shard(const struct tcp_pkt *pk, unsigned n);
/*
 * Idle sweeps. tcp_segment sweeps by itself unless told tcp_outside_sweeps; then the
 * caller asks tcp_sweep_due (which notes ts in *last_check when a sweep is due: at most
 * one a second of capture time) and calls tcp_sweep, as the parallel decoder does so
 * that every worker sweeps where a single table would have.
 */
int tcp_sweep_due(int64_t *last_check, int64_t ts);
int tcp_sweep(struct tcp *t, int64_t now) ES_WARN_UNUSED;
void tcp_outside_sweeps(struct tcp *t);
/*
 * tcp_finish one connection at a time: whether one is left, with the frame of the least
 * recently active one's last packet in *frame; and closing that one.
 */
int tcp_oldest(const struct tcp *t, uint64_t *frame);
int tcp_close_oldest(struct tcp *t) ES_WARN_UNUSED;
/* Bytes currently buffered over all connections. */
size_t tcp_mem(const struct tcp *t);

/*
 * Frames holding bytes [from, to) of d's undecoded buffer (to > from): the first and last
 * frame numbers and the capture time of the last. Unknown offsets give 0.
 */
void tcp_dir_frames(const struct tcp_dir *d, size_t from, size_t to, uint64_t *first,
                    uint64_t *last, int64_t *ts);

#endif
