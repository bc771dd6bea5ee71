/*
 * The analyzer: reads the store process by process (correlation ID order), builds each
 * process's causal graph, runs every check family (analyzer/check_*.c) and replaces the
 * findings table with what it found. Finding kinds and their exact meaning:
 * docs/FINDINGS.md and analyzer/findings.h. Library code: never prints.
 *
 * Memory grows with the largest process and the number of distinct event ids (64-bit
 * hashes in open-addressing tables), not with the size of the store.
 */
#ifndef ES_ANALYZER_H
#define ES_ANALYZER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "analyzer/config.h"
#include "analyzer/findings.h"
#include "analyzer/status.h"
#include "core/err.h"

/* One pair of sources whose clocks disagree (ordering.time_before_cause, grouped). */
struct analyzer_skew {
    char *cause_source;  /* owned */
    char *effect_source; /* owned */
    uint64_t count;      /* findings for the pair */
    int64_t skew_us;     /* estimated: median of (cause time - effect time) */
    int64_t max_us;      /* largest such difference */
};

struct analyzer_summary {
    uint64_t events;                     /* observations read */
    uint64_t nodes;                      /* distinct events (source + id) per process */
    uint64_t processes;                  /* correlation IDs (+ events without one) */
    uint64_t findings;                   /* rows written */
    uint64_t by_kind[FINDING_NKINDS];    /* findings per kind */
    uint64_t by_state[ANALYZER_NSTATES]; /* processes per status */
    struct analyzer_scorecard *cards;    /* per source, sorted by source */
    size_t ncards;
    struct analyzer_skew *skews; /* per pair of sources, most findings first */
    size_t nskews;
    double seconds; /* wall time of the run */
};

/*
 * Analyzes the whole store behind db (opened read-write) with cfg (NULL: defaults) and
 * replaces the findings table. stop (may be NULL) is polled: non-zero aborts with
 * ES_EINTERRUPTED and leaves the previous findings untouched. On success fills *sum
 * (release with analyzer_summary_done). On error err holds a sentence.
 */
int analyzer_run(sqlite3 *db, const struct analyzer_config *cfg, volatile sig_atomic_t *stop,
                 struct analyzer_summary *sum, char *err, size_t errlen) ES_WARN_UNUSED;
void analyzer_summary_done(struct analyzer_summary *sum);

/*
 * Memory for the observations the analyzer holds at once (0: the default, 192 MiB). A store
 * whose observations need more is read in correlation-ID buckets, spilled to temporary files
 * ($TMPDIR, else /tmp) while the single pass over the store runs. Process-wide setting.
 */
void analyzer_set_memory_budget(size_t bytes);

/*
 * How the store is read (process-wide; for tests and benchmarks). AUTO samples the
 * correlation index: when consecutive processes lie near each other in the table (IDs that
 * follow arrival order), it walks the index; otherwise (random IDs such as UUIDs: one page
 * read per row) it makes one sequential pass with correlation-ID buckets. Same findings.
 */
enum analyzer_read { ANALYZER_READ_AUTO, ANALYZER_READ_INDEX, ANALYZER_READ_SCAN };
void analyzer_set_read_mode(enum analyzer_read mode);

#endif
