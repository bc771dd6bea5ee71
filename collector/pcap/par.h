/*
 * Parallel decoding of capture files. The reading thread keeps the link and IP layers and
 * deals TCP segments out to worker threads by connection (tcp_shard), a round of a few
 * thousand packets at a time; each worker has its own TCP table and decoders (a child
 * struct pcapsrc) and writes what it finds to the round's output lists instead of the sink.
 * The reading thread merges each finished round in frame order and delivers it, so events
 * and rejects reach the sink in the order one thread would have produced them (see par.c
 * for where that order differs: idle sweeps and limits, which work per worker).
 */
#ifndef ES_PAR_H
#define ES_PAR_H

#include <stddef.h>
#include <stdint.h>

#include "collector/pcap/pcapsrc.h"
#include "collector/pcap/tcp.h"
#include "core/err.h"
#include "core/event.h"

#define POUT_NFIELDS EVENT_NFIELDS

/*
 * One output of a round, with its sort key: an event or a reject, its strings copied into
 * the list's byte buffer by the worker that made it (the event's own strings are the
 * envelope's, reused for the next message; a design where the reading thread freed every
 * worker's many small strings made malloc's arena locks the bottleneck).
 */
struct pout {
    uint64_t kmaj, kmin; /* frame, then 0 (idle sweep before it) or 1 (the packet itself) */
    int is_event;
    size_t off;          /* its strings in the list's bytes, one after another, NUL-ended */
    uint32_t len[POUT_NFIELDS]; /* event: each field's length, UINT32_MAX for NULL */
    int64_t time_us, observed_us;
    uint64_t payload_hash;
    uint64_t loc_hash;     /* event: event_hash of its location (0: none) */
    uint64_t first, last;  /* reject: frames; reason, detail (UINT32_MAX: NULL), excerpt */
};

struct pout_list {
    struct pout *v;
    size_t n, cap;
    char *bytes;
    size_t nbytes, capbytes;
};

/*
 * An event of the list, borrowed: its fields point into the list's bytes (valid until the
 * list is cleared). Rejects: reason, detail, excerpt likewise.
 */
void pout_get_event(const struct pout_list *l, const struct pout *o, struct event *ev);
void pout_get_reject(const struct pout_list *l, const struct pout *o, const char **reason,
                     const char **detail, const void **excerpt, size_t *excerpt_len);

/* Appends a copy of ev (borrowed) to l. Never fails. */
int pout_event(struct pout_list *l, uint64_t kmaj, uint64_t kmin, const struct event *ev);
int pout_reject(struct pout_list *l, uint64_t kmaj, uint64_t kmin, uint64_t first,
                uint64_t last, const char *reason, const char *detail, const void *excerpt,
                size_t excerpt_len);

struct par;

/*
 * n workers (2 or more) for front, whose sink (may be NULL with hooks) children read the
 * field map and the stop flag from. Limits (o, every one set) are shared out: each worker
 * tracks max_flows / n connections and buffers total_mem / n bytes.
 */
struct par *par_new(struct pcapsrc *front, struct sink *s, const struct pcapsrc_opts *o,
                    unsigned n);
/* Stops the workers and drops what was not delivered. Accepts NULL. */
void par_free(struct par *p);
/* The list the front's own rejects of the current round go to (NULL after par_finish). */
struct pout_list *par_front_list(struct par *p);
/* Hands a TCP segment (at frame pk->frame) to its worker; copies what it points to. */
void par_segment(struct par *p, const struct tcp_pkt *pk);
/*
 * After each packet: hands the round over when it is full, delivers finished rounds.
 * Returns ES_OK or the first delivery error (the sink's), which should end the run.
 */
int par_packet_done(struct par *p) ES_WARN_UNUSED;
/* Every worker closes its connections; everything is delivered. */
int par_finish(struct par *p) ES_WARN_UNUSED;

#endif
