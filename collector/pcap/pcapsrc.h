/*
 * Network captures as an event source: pcap and pcapng files (plain or gzip, read with a
 * bounds-checked reader of our own) and live packets handed over by a libpcap loop
 * (live.c). Each packet goes through the link layers (Ethernet + VLAN, Linux SLL/SLL2,
 * BSD NULL/loopback, raw IP), IPv4 (fragments reassembled) / IPv6 (extension headers),
 * then TCP reassembly (tcp.c) and the protocol decoders (decoders.c).
 * Locations are "frame N" / "frames N-M" (1-based packet numbers, as in Wireshark).
 * Nothing here prints: events and rejects go to the sink (or to a hook, for dry runs).
 */
#ifndef ES_PCAPSRC_H
#define ES_PCAPSRC_H

#include <stddef.h>
#include <stdint.h>

#include "collector/sink.h"
#include "core/err.h"
#include "core/event.h"

/* Limits; zero fields take the defaults (PCAPSRC_DEFAULT_*). */
struct pcapsrc_opts {
    size_t flow_mem;    /* bytes buffered per flow direction (in order + out of order) */
    size_t total_mem;   /* bytes buffered over all flows */
    unsigned max_flows; /* tracked TCP connections; the least recently active is evicted */
    int64_t idle_us;    /* a connection silent this long is closed (its partial data reported) */
    unsigned threads;   /* decoding threads besides the reading one (par.h); 0, 1: none */
};
#define PCAPSRC_DEFAULT_FLOW_MEM (16u << 20)
#define PCAPSRC_DEFAULT_TOTAL_MEM (256u << 20)
#define PCAPSRC_DEFAULT_MAX_FLOWS 65536u
#define PCAPSRC_DEFAULT_IDLE_US (300LL * 1000000)
#define PCAPSRC_MAX_THREADS 64

/*
 * Decoding threads for a capture file when not told: one per usable CPU (the affinity mask,
 * and a cgroup v2 CPU quota), at most 8, less one for the store's writer thread when
 * storing; 1 (none besides the reading one) when that leaves fewer than two.
 */
unsigned pcapsrc_threads_auto(int storing);

struct pcapsrc_stats {
    uint64_t packets;  /* packets seen */
    uint64_t bytes;    /* captured bytes seen */
    uint64_t segments; /* TCP segments with payload */
    uint64_t flows;    /* TCP connections tracked */
    uint64_t messages; /* protocol messages decoded */
    uint64_t events;   /* events handed to the sink / hook */
    uint64_t rejects;  /* rejects reported */
};

/* Dry runs, tests and fuzzers replace the sink with these (ev is borrowed for the call). */
typedef int (*pcapsrc_event_fn)(void *ctx, struct event *ev);
typedef int (*pcapsrc_reject_fn)(void *ctx, const char *location, const char *reason,
                                 const char *detail);

struct pcapsrc;

/*
 * A new source writing to s (may be NULL when hooks are set). opts may be NULL. The
 * sink's origin must already be chosen (pcapsrc_ingest_file chooses it itself).
 */
struct pcapsrc *pcapsrc_new(struct sink *s, const struct pcapsrc_opts *opts);
/* Flushes nothing; call pcapsrc_finish first. Accepts NULL. */
void pcapsrc_free(struct pcapsrc *ps);
/* Sends events and rejects to these functions instead of the sink. */
void pcapsrc_set_hooks(struct pcapsrc *ps, pcapsrc_event_fn ev, pcapsrc_reject_fn rej,
                       void *ctx);

/*
 * One captured packet: link type (LINKTYPE_* numbers of the pcap format), capture time,
 * the captured bytes (caplen) and the length on the wire. Frame numbers count from 1 in
 * call order. Returns ES_OK, or the sink's error (store failure), which should end the run.
 */
int pcapsrc_packet(struct pcapsrc *ps, int linktype, int64_t ts_us, const uint8_t *p,
                   size_t caplen, size_t wirelen) ES_WARN_UNUSED;
/* Closes every connection (partial messages reported as rejects) and fragments. */
int pcapsrc_finish(struct pcapsrc *ps) ES_WARN_UNUSED;
/* Counters so far. Borrowed. */
const struct pcapsrc_stats *pcapsrc_stats(const struct pcapsrc *ps);

/*
 * Reads a whole pcap or pcapng file from memory (the fuzz target and tests) or from
 * path (plain or gzip). A corrupt file header fails with ES_EINVALID and a sentence in err;
 * a corrupt record later on is a reject and ends the file (what came before is kept).
 * Neither calls pcapsrc_finish.
 */
int pcapsrc_read_mem(struct pcapsrc *ps, const uint8_t *p, size_t len, char *err,
                     size_t errlen) ES_WARN_UNUSED;
int pcapsrc_read_path(struct pcapsrc *ps, const char *path, char *err,
                      size_t errlen) ES_WARN_UNUSED;

/* 1 when the first bytes look like pcap, pcapng or gzip (not proof: pcapsrc_read_* checks). */
int pcapsrc_sniff(const uint8_t *p, size_t len);

/*
 * The ingest command's entry point: chooses the origin (kind "pcap", uri display_name or
 * path), reads the file through a new source with the default limits, finishes it.
 * Returns ES_OK, or an error with a sentence naming the file in err.
 */
int pcapsrc_ingest_file(struct sink *s, const char *path, const char *display_name, char *err,
                        size_t errlen);

/* Sets the default limits used by pcapsrc_ingest_file (process-wide). */
void pcapsrc_set_default_opts(const struct pcapsrc_opts *opts);

/* ---- for the other collector/pcap modules (tcp.c, decoders.c) ---- */

/* Reports a reject located at frames first..last (last 0: same as first). */
int pcapsrc_reject_frames(struct pcapsrc *ps, uint64_t first, uint64_t last, const char *reason,
                          const char *detail, const void *excerpt,
                          size_t excerpt_len) ES_WARN_UNUSED;
/*
 * Hands one event over (location made unique with "#k" when several share it). ev is
 * borrowed: left as it is, its strings copied where they are kept.
 */
int pcapsrc_emit_event(struct pcapsrc *ps, const struct event *ev) ES_WARN_UNUSED;
/* Counters, writable. */
struct pcapsrc_stats *pcapsrc_counters(struct pcapsrc *ps);
/* 1 when the sink asks collectors to stop (Ctrl-C). */
int pcapsrc_stopping(const struct pcapsrc *ps);
/* The sink's field map (may be NULL). */
const struct envelope_map *pcapsrc_map(const struct pcapsrc *ps);
/* The envelope normaliser's buffers, reused for every message of this source. */
struct envelope_msgbuf *pcapsrc_msgbuf(struct pcapsrc *ps);

/* ---- for par.c ---- */
struct pout;
struct pout_list;
/* The source's TCP table (NULL when it deals segments out to workers). */
struct tcp *pcapsrc_tcp(struct pcapsrc *ps);
/* Events and rejects go to l (NULL: delivered), sorted under the key (kmaj, kmin). */
void pcapsrc_set_output(struct pcapsrc *ps, struct pout_list *l, uint64_t kmaj, uint64_t kmin);
/* Delivers an output of a worker (o of list l): numbered, counted, to the hooks or the sink. */
int pcapsrc_deliver(struct pcapsrc *ps, const struct pout_list *l,
                    const struct pout *o) ES_WARN_UNUSED;
/* Before a list is cleared: copies the location last delivered from it (see pcapsrc_deliver). */
void pcapsrc_loc_pin(struct pcapsrc *ps);

#endif
