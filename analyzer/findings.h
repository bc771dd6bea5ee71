/*
 * Finding kinds (one table: name, default severity, what it means) and the findings
 * writer. A run's findings go to a temporary table first; findings_commit() then replaces
 * the previous run's rows of the store's findings table in one short transaction, so a
 * concurrent ingest is blocked only for the copy, never for the analysis.
 */
#ifndef ES_ANALYZER_FINDINGS_H
#define ES_ANALYZER_FINDINGS_H

#include <stdint.h>

#include <sqlite3.h>

#include "core/err.h"

/* Severities, worst first, as stored in findings.severity. */
#define FINDING_ERROR "error"
#define FINDING_WARNING "warning"
#define FINDING_INFO "info"

#define FINDING_KINDS(X)                                                                           \
    X(DUP_EXACT, "duplicate.exact", FINDING_WARNING,                                               \
      "same source+id and content seen twice at one vantage point")                                \
    X(DUP_COLLISION, "duplicate.id_collision", FINDING_ERROR,                                      \
      "one id carries two different contents")                                                     \
    X(DUP_SEMANTIC, "duplicate.semantic", FINDING_WARNING,                                         \
      "different ids, same type, subject and payload within the window")                           \
    X(ORD_DELIVERED, "ordering.delivered_before_cause", FINDING_WARNING,                           \
      "an event observed before its cause at the same vantage point")                              \
    X(ORD_TIME, "ordering.time_before_cause", FINDING_INFO,                                        \
      "an effect's producer time precedes its cause's: clock skew")                                \
    X(ORD_PARTITION, "ordering.partition_regression", FINDING_ERROR,                               \
      "sequence or offset goes backwards or repeats within a partition key")                       \
    X(ORD_GAP, "ordering.sequence_gap", FINDING_WARNING,                                           \
      "a source's sequence skips or repeats values")                                               \
    X(ORD_VCLOCK, "ordering.vclock_inconsistent", FINDING_ERROR,                                   \
      "a carried vector clock contradicts causality")                                              \
    X(CAU_ORPHAN, "causality.orphan", FINDING_WARNING, "the causation ID names an unseen event")   \
    X(CAU_CYCLE, "causality.cycle", FINDING_ERROR, "causation links form a loop")                  \
    X(CAU_CORR, "causality.correlation_changed", FINDING_WARNING,                                  \
      "an effect carries another correlation ID than its cause")                                   \
    X(DEL_UNMATCHED, "delivery.unmatched", FINDING_ERROR,                                          \
      "published but never delivered, or delivered but never published")                           \
    X(MISS_ID, "metadata.missing_id", FINDING_ERROR, "no event id")                                \
    X(MISS_TYPE, "metadata.missing_type", FINDING_ERROR, "no event type")                          \
    X(MISS_SOURCE, "metadata.missing_source", FINDING_WARNING, "no source")                        \
    X(MISS_TIME, "metadata.missing_time", FINDING_WARNING, "no producer time")                     \
    X(MISS_CORR, "metadata.missing_correlation_id", FINDING_ERROR, "no correlation ID")            \
    X(MISS_CAUSE, "metadata.missing_causation_id", FINDING_WARNING,                                \
      "no causation ID on a non-root event")                                                       \
    X(BAD_TIME, "metadata.invalid_time", FINDING_WARNING, "producer time unparseable")             \
    X(ZONELESS, "metadata.time_without_zone", FINDING_INFO, "producer time without offset")        \
    X(TRACE_BROKEN, "metadata.trace_context_broken", FINDING_WARNING,                              \
      "traceparent trace-id changes inside one causal chain")                                      \
    X(NAME_COMMAND, "naming.command_shaped", FINDING_INFO, "an imperative name as an event")       \
    X(NAME_TECHNICAL, "naming.technical", FINDING_INFO, "an implementation detail as an event")

enum finding_kind {
#define X(id, name, sev, text) FINDING_##id,
    FINDING_KINDS(X)
#undef X
        FINDING_NKINDS
};

const char *finding_kind_name(enum finding_kind k);     /* never NULL */
const char *finding_kind_severity(enum finding_kind k); /* default severity */
const char *finding_kind_text(enum finding_kind k);     /* one-line meaning */
/* Kind by exact name, or -1. */
int finding_kind_find(const char *name);
/* 0 error, 1 warning, 2 info, 3 unknown: for sorting worst first. */
int finding_severity_rank(const char *severity);
/*
 * 1 when kind matches a --fail-on pattern: the exact name, or a prefix ending at a dot
 * boundary ("duplicate" and "duplicate." match "duplicate.exact"; "dup" does not).
 */
int finding_kind_matches(const char *kind, const char *pattern);

struct findings_writer {
    sqlite3 *db;       /* borrowed */
    sqlite3_stmt *ins; /* into temp.es_findings */
    uint64_t count;    /* rows added */
    char errmsg[512];  /* last error */
};

/* Creates (empties) the temporary table. ES_OK or ES_ESTORE. */
int findings_begin(struct findings_writer *w, sqlite3 *db) ES_WARN_UNUSED;
/*
 * Adds one finding. severity NULL = the kind's default; correlation_id NULL = looked up from
 * event_seq at commit; related_seq 0 = none; detail (JSON object text) may be NULL.
 */
int findings_add(struct findings_writer *w, enum finding_kind kind, const char *severity,
                 const char *correlation_id, int64_t event_seq, int64_t related_seq,
                 const char *message, const char *detail) ES_WARN_UNUSED;
/* Removes pending findings of kinds starting with prefix whose event_seq is in seqs[n]. */
int findings_drop(struct findings_writer *w, const char *prefix, const int64_t *seqs,
                  size_t n) ES_WARN_UNUSED;
/*
 * Replaces the store's findings with the pending ones (ordered by severity, kind, event),
 * and stores meta rows (key, value pairs, nmeta of them; may be 0) in the same transaction.
 */
int findings_commit(struct findings_writer *w, const char *const *meta,
                    size_t nmeta) ES_WARN_UNUSED;
/* Drops the temporary table and statements. */
void findings_done(struct findings_writer *w);

#endif
