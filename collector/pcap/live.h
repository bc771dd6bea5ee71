/*
 * Live capture with libpcap: packets from an interface (any link type pcapsrc reads),
 * optionally filtered by a BPF expression, into a pcapsrc, until a packet count, a
 * duration or the sink's stop flag (Ctrl-C) ends it; then every connection is closed
 * (partial messages reported) and the sink flushed.
 */
#ifndef ES_LIVE_H
#define ES_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "collector/pcap/pcapsrc.h"
#include "collector/sink.h"
#include "core/err.h"

struct live_opts {
    const char *iface;        /* "lo", "eth0", "any" */
    const char *filter;       /* BPF expression, may be NULL */
    uint64_t count;           /* stop after this many packets (0: no limit) */
    double duration_s;        /* stop after this many seconds (0: no limit) */
    int snaplen;              /* bytes kept per packet (0: 262144) */
    struct pcapsrc_opts lim;  /* reassembly limits */
};

/*
 * Captures into s (its origin must be set). *stats (may be NULL) receives the counters.
 * Returns ES_OK when a limit ended the capture, ES_EINTERRUPTED when the stop flag did
 * (everything read is kept either way), or an error with a sentence in err (interface
 * cannot be opened, filter does not compile, store error).
 */
int live_capture(struct sink *s, const struct live_opts *o, struct pcapsrc_stats *stats,
                 char *err, size_t errlen) ES_WARN_UNUSED;

/* Makes a running live_capture() return at once; async-signal-safe (pcap_breakloop). */
void live_interrupt(void);

#endif
