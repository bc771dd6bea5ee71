/*
 * Per-process status (completed / failed / in flight / stuck) and the per-source metadata
 * scorecard: what `analyze` summarises, `processes` lists and the TUI shows. Reads only the
 * store; callable without running `analyze` first.
 *
 * A process is the set of events sharing one correlation ID. Its state comes from its last
 * event (greatest producer time, else observation time, else store order):
 *   failed     the last type ends in Failed, Rejected, Cancelled, Canceled, Declined,
 *              Aborted, Expired or TimedOut, or is a configured terminal failure type;
 *   completed  the last type is a configured terminal type, or a learned one: a type that
 *              never causes another event anywhere in the store;
 *   stuck      otherwise, when nothing happened for longer than stuck_after after the last
 *              event ("now" is the newest time in the store, so old captures judge fairly);
 *   in flight  otherwise.
 */
#ifndef ES_ANALYZER_STATUS_H
#define ES_ANALYZER_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "analyzer/config.h"
#include "core/err.h"

enum analyzer_state {
    ANALYZER_COMPLETED,
    ANALYZER_FAILED,
    ANALYZER_IN_FLIGHT,
    ANALYZER_STUCK,
    ANALYZER_NSTATES
};

/* "completed", "failed", "in_flight", "stuck"; never NULL. */
const char *analyzer_state_name(enum analyzer_state s);

/* What the status context learned about a store. Opaque. */
struct analyzer_status;

/*
 * Learns which types cause other events (one query on the store, or the cached result
 * `analyze` left in meta when the store has not changed since) and the store's "now".
 * cfg may be NULL (defaults); it is copied by pointer and must outlive the context.
 * Returns ES_OK, or ES_ESTORE with SQLite's message in err.
 */
int analyzer_status_open(sqlite3 *db, const struct analyzer_config *cfg,
                         struct analyzer_status **out, char *err, size_t errlen) ES_WARN_UNUSED;
void analyzer_status_free(struct analyzer_status *s); /* accepts NULL */

/*
 * A context from known facts instead of a query (the analyzer builds one after its pass):
 * no type causes others until analyzer_status_add_effect_type() says so.
 */
struct analyzer_status *analyzer_status_new(const struct analyzer_config *cfg, int64_t now_us);
void analyzer_status_add_effect_type(struct analyzer_status *s, const char *type);

/* The store's "now" used for stuck: newest producer or observation time, µs. */
int64_t analyzer_status_now(const struct analyzer_status *s);
/* Overrides "now" (e.g. wall clock for a live tap). */
void analyzer_status_set_now(struct analyzer_status *s, int64_t now_us);

struct analyzer_process {
    char *correlation_id; /* owned */
    uint64_t events;      /* observations */
    int64_t first_us;     /* earliest time (producer, else observed), or INT64_MIN */
    int64_t last_us;      /* time of the last event, or INT64_MIN */
    char *last_type;      /* owned; NULL when the last event has no type */
    enum analyzer_state state;
};

/*
 * Status of the process with this correlation ID (one indexed query). Returns ES_OK and
 * fills *out (release with analyzer_process_done), ES_ENOTFOUND when no event carries the
 * ID, ES_ESTORE on a store error.
 */
int analyzer_process_status(struct analyzer_status *s, const char *correlation_id,
                            struct analyzer_process *out) ES_WARN_UNUSED;
void analyzer_process_done(struct analyzer_process *p);

/*
 * The rule alone, for callers that already know a process's last event (e.g. from a
 * GROUP BY over every process): last_type may be NULL, last_us may be INT64_MIN.
 */
enum analyzer_state analyzer_status_classify(const struct analyzer_status *s, const char *last_type,
                                             int64_t last_us);

/* 1 when type names a failure by the rule above (suffix or configured). */
int analyzer_status_is_failure(const struct analyzer_config *cfg, const char *type);

/* Attributes the scorecard counts, in report order. */
#define ANALYZER_ATTRS(X)                                                                          \
    X(ID, "id")                                                                                    \
    X(TYPE, "type")                                                                                \
    X(SOURCE, "source")                                                                            \
    X(TIME, "time")                                                                                \
    X(CORRELATION, "correlation_id")                                                               \
    X(CAUSATION, "causation_id")                                                                   \
    X(SUBJECT, "subject")                                                                          \
    X(SEQUENCE, "sequence")                                                                        \
    X(VCLOCK, "vclock")                                                                            \
    X(TRACEPARENT, "traceparent")

enum analyzer_attr {
#define X(name, text) ANALYZER_ATTR_##name,
    ANALYZER_ATTRS(X)
#undef X
        ANALYZER_NATTRS
};

const char *analyzer_attr_name(enum analyzer_attr a); /* "correlation_id"...; never NULL */

/* One producer's metadata scorecard: how many of its observations carry each attribute. */
struct analyzer_scorecard {
    char *source;                   /* owned; NULL groups events without a source */
    uint64_t events;                /* observations */
    uint64_t with[ANALYZER_NATTRS]; /* observations carrying the attribute */
};

/*
 * Scorecard of every source, sorted by source (NULL last). One scan of the store.
 * Returns ES_OK with *out (free with analyzer_scorecard_free) and *n, or ES_ESTORE.
 */
int analyzer_scorecard(sqlite3 *db, struct analyzer_scorecard **out, size_t *n) ES_WARN_UNUSED;
void analyzer_scorecard_free(struct analyzer_scorecard *v, size_t n);

#endif
