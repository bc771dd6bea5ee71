/*
 * Internal to analyzer/: the state the driver (analyzer.c) shares with the check families
 * (check_*.c). One process (correlation ID) at a time is held in struct proc; what must
 * outlive a process (id hashes, per-type, per-source and per-channel statistics, deferred
 * candidates) lives in struct actx.
 */
#ifndef ES_ANALYZER_CTX_H
#define ES_ANALYZER_CTX_H

#include <stdint.h>

#include <sqlite3.h>

#include "analyzer/analyzer.h"
#include "analyzer/hmap.h"
#include "core/xmalloc.h"

#define NONE_IX UINT32_MAX

enum obs_dir { OBS_LOG, OBS_PUBLISH, OBS_DELIVER };

/* One observation (row of events), strings in the process arena (NULL = absent). */
struct obs {
    int64_t seq;         /* events.seq */
    int64_t origin;      /* events.origin_id */
    int64_t time_us;     /* producer time or ES_TIME_NONE */
    int64_t observed_us; /* observation time or ES_TIME_NONE */
    int64_t offset;      /* attrs.offset (broker offset) or -1 */
    int64_t partition;   /* attrs.partition or -1 */
    const char *event_id, *type, *source, *subject, *partition_key, *sequence, *time_raw;
    const char *correlation_id, *causation_id, *channel, *vclock;
    uint64_t idh;              /* hash of event_id, 0 without */
    uint64_t payload_hash;     /* 0 without data */
    uint64_t traceh;           /* hash of the traceparent trace-id, 0 without */
    uint64_t consumerh;        /* hash of attrs.consumer, 0 without */
    uint64_t seqnum;           /* numeric sequence, valid when has_seqnum */
    uint32_t type_ix;          /* index in actx.types or NONE_IX */
    uint32_t src_ix;           /* index in actx.sources or NONE_IX */
    uint32_t chan_ix;          /* index in actx.channels or NONE_IX */
    int node;                  /* index of its node in proc.nodes */
    int next;                  /* next observation of the same node, -1 */
    unsigned char dir;         /* enum obs_dir */
    unsigned char redelivered; /* attrs redelivered/dup flag */
    unsigned char has_seqnum;
};

/* One event (source + id) of the process with all its observations. */
struct node {
    int first; /* first observation (lowest seq) */
    int nobs;
    int cause;          /* node index of the cause in this process, -1 */
    int next_same_id;   /* another node with the same event_id (other source), -1 */
    unsigned char mark; /* graph walks; NODE_IN_CYCLE after check_causality_process */
};

struct proc {
    const char *corr; /* correlation ID (arena) or NULL */
    struct obs *obs;
    size_t nobs, capobs;
    struct node *nodes;
    size_t nnodes, capnodes;
    struct hmap ids; /* idh -> int: first node with that event_id */
    struct arena arena;
};

struct type_stat {
    char *name;
    uint64_t count, with_cause;
    unsigned char has_effects; /* some event of this type caused another */
    signed char naming;        /* -1 not judged yet, else enum finding_kind or 0 for fine */
};

struct seq_entry {
    uint64_t value; /* numeric sequence */
    uint64_t idh;   /* event identity */
    uint64_t keyh;  /* partition key (or subject) hash, for per-key scopes */
    int64_t seq;    /* events.seq */
};

struct source_stat {
    char *name;
    uint64_t events;
    uint64_t with[ANALYZER_NATTRS];
    struct seq_entry *seqs; /* events with a numeric sequence */
    size_t nseqs, capseqs;
};

struct channel_stat {
    char *name;
    int64_t min_pub_pos;           /* first publish observation, INT64_MAX none */
    int64_t max_delivered_pub_pos; /* latest publish position of a delivered event */
    uint64_t publishes, deliveries;
};

/* Deferred: a causation ID not found in its own process. */
struct pending_cause {
    int64_t seq;     /* the effect's observation */
    char *corr;      /* effect's correlation ID (owned) or NULL */
    char *causation; /* owned */
    uint64_t h;      /* hash of causation */
    int64_t time_us; /* effect's producer time */
    uint32_t src_ix;
};

/* Deferred: an observation without causation ID, judged once roots are known. */
struct cause_candidate {
    int64_t seq;
    uint32_t type_ix;
};

/* Deferred: one side of a publish/deliver pair seen without the other on a channel. */
struct unmatched {
    int64_t seq;
    int64_t pos; /* position of that observation */
    uint32_t chan_ix;
    unsigned char dir; /* OBS_PUBLISH: never delivered; OBS_DELIVER: never published */
};

struct sem_entry {
    int64_t seq;     /* representative (earliest) observation */
    int64_t time_us; /* its time */
    uint64_t idh;    /* its event id */
};

struct skew_sample {
    uint32_t cause_src, effect_src;
    int64_t diff_us; /* cause time - effect time (> 0) */
};

struct proc_state {
    int64_t last_us;
    uint32_t last_type; /* NONE_IX when untyped */
};

struct scan; /* analyzer/scan.c: how the store is read */

struct actx {
    sqlite3 *db;
    struct scan *scan;
    const struct analyzer_config *cfg;
    struct findings_writer fw;
    int rc; /* first error, sticky */
    char *err;
    size_t errlen;
    uint32_t proc_ix; /* current process number */
    struct hmap ids;  /* event_id hash -> uint32 (process number + 1) | SPLIT bit */
    struct hmap sem;  /* hash(type, subject, payload) -> struct sem_entry */
    struct hmap type_map, src_map, chan_map; /* name hash -> uint32 index */
    struct type_stat *types;
    size_t ntypes, captypes;
    struct source_stat *sources;
    size_t nsources, capsources;
    struct channel_stat *channels;
    size_t nchannels, capchannels;
    struct pending_cause *pending;
    size_t npending, cappending;
    struct cause_candidate *cands;
    size_t ncands, capcands;
    struct unmatched *unmatched;
    size_t nunmatched, capunmatched;
    char **split; /* event ids seen in more than one process (owned) */
    size_t nsplit, capsplit;
    struct skew_sample *skews;
    size_t nskews, capskews;
    struct proc_state *states;
    size_t nstates, capstates;
    struct analyzer_summary *sum;
    int64_t now; /* newest producer or observation time seen */
};

#define ID_SPLIT 0x80000000u
#define NODE_IN_CYCLE 3 /* node.mark of events on a causation loop: no edge checks */

/* Grows an array v of n elements to hold one more. */
#define ACTX_PUSH(v, n, cap)                                                                       \
    ((n) == (cap) ? ((cap) = (cap) ? 2 * (cap) : 16, (v) = xreallocarray((v), (cap), sizeof *(v)), \
                     &(v)[(n)++])                                                                  \
                  : &(v)[(n)++])

/* Adds a finding (printf-style message); errors are sticky in a->rc. corr NULL = look up. */
void actx_finding(struct actx *a, enum finding_kind kind, const char *severity, const char *corr,
                  int64_t seq, int64_t related, const char *detail, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

/* Name of an interned source/type, or "(none)". */
const char *actx_source_name(const struct actx *a, uint32_t ix);
const char *actx_type_name(const struct actx *a, uint32_t ix);

/* Position of an observation on a common axis: observed time, else producer time, else seq. */
int64_t obs_pos(const struct obs *o);

/* ---- check families: per process, then once after the last process ---- */
void check_metadata_process(struct actx *a, struct proc *p);
void check_metadata_finish(struct actx *a);
void check_naming_process(struct actx *a, struct proc *p);
void check_duplicate_process(struct actx *a, struct proc *p, int global);
void check_duplicate_semantic(struct actx *a, struct proc *p);
void check_duplicate_finish(struct actx *a);
void check_causality_process(struct actx *a, struct proc *p);
void check_causality_finish(struct actx *a);
void check_ordering_process(struct actx *a, struct proc *p);
void check_ordering_finish(struct actx *a);
void check_delivery_process(struct actx *a, struct proc *p);
void check_delivery_finish(struct actx *a);

/* Loads the current row of stmt (column order of ANALYZER_ROW_COLUMNS) into p. */
#define ANALYZER_ROW_COLUMNS                                                                       \
    "seq, origin_id, event_id, type, source, subject, partition_key, sequence, time_us,"           \
    " time_raw, observed_us, correlation_id, causation_id, channel, direction, vclock,"            \
    " payload_hash, attrs"
void proc_add_row(struct actx *a, struct proc *p, sqlite3_stmt *stmt);

/*
 * analyzer/scan.c: reads every observation once and calls actx_analyze_proc for each
 * process in correlation-ID order (observations without one first, each alone), in memory
 * bounded by analyzer_set_memory_budget. ES_OK or the error (also in a->rc, a->err).
 */
struct scan *scan_new(void);
void scan_free(struct scan *sc);
int scan_run(struct actx *a, volatile sig_atomic_t *stop);
/* analyzer.c: builds one loaded process's graph and runs every check family on it. */
void actx_analyze_proc(struct actx *a, struct proc *p);
/* Groups the loaded observations into nodes (source + id). */
void proc_build_nodes(struct proc *p);
void proc_init(struct proc *p);
void proc_reset(struct proc *p);
void proc_done(struct proc *p);

#endif
