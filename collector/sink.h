/*
 * Where every collector (files, pcap, taps) hands its records: events go to the store
 * (with counts), unreadable records to the rejects table and to an optional callback the
 * CLI uses to print a counted line on stderr. Collectors never print.
 *
 * A sink stores asynchronously: a writer thread behind a bounded queue, so the collector
 * and SQLite use both cores and memory stays flat. sink_flush() waits until everything
 * handed over is committed, sink_done() flushes and stops. An error of the writer is
 * returned by the next sink call (and store_errmsg(s->st) says what); once a sink has
 * failed, every later call returns that error. s->counts is updated at every sink call.
 * While events are queued the store belongs to the writer: call store_* directly only
 * before the first sink call or after sink_flush()/sink_done(). Collectors call a sink
 * from one thread only.
 */
#ifndef ES_SINK_H
#define ES_SINK_H

#include <signal.h>
#include <stdint.h>

#include "core/envelope.h"
#include "core/err.h"
#include "core/event.h"
#include "core/store.h"

struct redact;

struct sink_counts {
    uint64_t stored;   /* new observations written */
    uint64_t present;  /* already in the store (same origin and location) */
    uint64_t rejected; /* records kept in rejects */
    uint64_t bytes;    /* input bytes consumed, for progress */
};

typedef void (*sink_reject_fn)(void *ctx, const char *location, const char *reason,
                               const char *detail);

struct sink {
    struct store *st;                 /* borrowed */
    int64_t origin;                   /* current origin row (store_origin) */
    const struct envelope_map *map;   /* user field map, may be NULL */
    struct sink_counts counts;        /* totals so far */
    sink_reject_fn on_reject;         /* may be NULL */
    void *reject_ctx;
    volatile sig_atomic_t *stop;      /* set to non-zero (SIGINT) to make collectors stop */
    unsigned no_payload : 1;          /* --no-payload: drop data before storing */
    const struct redact *redact;      /* --redact: hash chosen payload values; may be NULL */
    void *priv;                       /* implementation state (writer thread) */
};

/* Initialises s over st. */
void sink_init(struct sink *s, struct store *st);
/* Flushes and releases implementation state; counts stay readable. */
int sink_done(struct sink *s) ES_WARN_UNUSED;

/* Finds or creates the origin (kind, uri) and makes it current. */
int sink_origin(struct sink *s, const char *kind, const char *uri) ES_WARN_UNUSED;

/*
 * Stores ev (taking ownership of its fields: ev is reset to empty on return, also on
 * error). payload_hash is computed (on the caller's thread, after --no-payload and --redact)
 * when data is set and the hash is 0.
 * May block while the queue is full.
 */
int sink_event_take(struct sink *s, struct event *ev) ES_WARN_UNUSED;
/*
 * Stores a copy of ev (left as it is), its strings in one block: one allocation and one
 * free per event, not one per field (a producer freeing thousands of stored events' fields
 * at once kept malloc on its slow paths).
 */
int sink_event_copy(struct sink *s, const struct event *ev) ES_WARN_UNUSED;

/*
 * Keeps a record that could not be read (see store_add_reject) and reports it. The excerpt
 * kept is its first 256 bytes; under --redact the keyed hash of all of it instead (the raw
 * bytes may hold what is redacted); under --no-payload none.
 */
int sink_reject(struct sink *s, const char *location, const char *reason, const char *detail,
                const void *excerpt, size_t excerpt_len) ES_WARN_UNUSED;

/* Commits everything handed over so far; readers then see it. */
int sink_flush(struct sink *s) ES_WARN_UNUSED;

/*
 * Waits until what was handed over before the call is committed, like sink_flush, but may
 * be called from a thread other than the producer's while it goes on handing over (items
 * queued meanwhile do not hold it up). Does not update s->counts.
 */
int sink_commit(struct sink *s) ES_WARN_UNUSED;

/*
 * store_bulk_begin/store_bulk_end through the sink (safe while the writer runs): call
 * sink_bulk_begin before a large load (expect: rows expected, 0 if unknown) and
 * sink_bulk_end after it (commits, then rebuilds any deferred index).
 */
int sink_bulk_begin(struct sink *s, uint64_t expect) ES_WARN_UNUSED;
int sink_bulk_end(struct sink *s) ES_WARN_UNUSED;

/* 1 when the collector should stop (Ctrl-C), from any thread (the flag is read atomically,
 * as the signal handlers set it). */
static inline int sink_stopping(const struct sink *s)
{
    return s->stop != NULL && __atomic_load_n(s->stop, __ATOMIC_RELAXED) != 0;
}

#endif
