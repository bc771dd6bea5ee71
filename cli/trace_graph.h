/*
 * The causal graph of one business process, as `trace` shows it: every observation of the
 * correlation ID, grouped into events (same source + id = one event seen N times), linked
 * effect -> cause by causation_id = event_id, laid out as a forest.
 *
 * Roots are events without a causation ID, orphans (the cause was never seen in this
 * process) and, for each causation cycle, its earliest member (marked cycle). Every event
 * is reached exactly once, so walking the forest always ends.
 */
#ifndef ES_TRACE_GRAPH_H
#define ES_TRACE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* One finding attached to an observation (from the findings table). Strings owned. */
struct trace_finding {
    char *kind;
    char *severity;
    char *message;
};

/* One observation (a row of events). Strings owned, NULL when absent. */
struct trace_obs {
    int64_t seq;
    char *event_id, *type, *source, *causation_id, *direction, *vclock, *location;
    int64_t time_us;     /* producer time or ES_TIME_NONE */
    int64_t observed_us; /* observation time or ES_TIME_NONE */
    size_t node;         /* index into trace_graph.nodes */
    int64_t parent_seq;  /* first observation of its cause's event, or -1 */
    struct trace_finding *findings;
    size_t nfindings;
};

/* One event: its observations, cause and effects. */
struct trace_node {
    size_t *obs;         /* indices into trace_graph.obs, by seq; obs[0] is the first */
    size_t nobs;
    long parent;         /* node index of its cause in this process, or -1 */
    int orphan;          /* carries a causation ID naming no event of this process */
    int cycle;           /* root chosen to break a causation cycle (parent still set) */
    int depth;           /* 0 for roots */
    int last_kid;        /* the last of its cause's effects (tree drawing) */
    size_t *kids;        /* effects, by (time, first seq); cycle-breaking edges excluded */
    size_t nkids, capkids;
    int64_t time_us;     /* producer time, else observed, of the first observation */
    long column;         /* for timelines: index of its source in trace_graph.sources */
};

struct trace_graph {
    struct trace_obs *obs;    /* by seq */
    size_t nobs;
    struct trace_node *nodes; /* by first seq */
    size_t nnodes;
    size_t *roots;            /* by (time, first seq) */
    size_t nroots;
    size_t *order;            /* nodes in depth-first pre-order (the tree's line order) */
    size_t *bytime;           /* nodes by (time, first seq): the timeline's row order */
    char **sources;           /* distinct sources by first appearance in time; owned */
    size_t nsources;
};

/*
 * Loads the process cid from db into g (initialised here). Returns SQLITE_OK, or
 * SQLITE_NOTFOUND when no observation carries cid, or the SQLite error code (the message is
 * in sqlite3_errmsg(db)). g is valid (possibly empty) in every case; free with
 * trace_graph_done().
 */
int trace_graph_load(sqlite3 *db, const char *cid, struct trace_graph *g);

/*
 * Builds g from g->obs alone (no store): nodes, causes, forest, order, sources. Called by
 * trace_graph_load; exposed for tests. obs must be sorted by seq.
 */
void trace_graph_build(struct trace_graph *g);

void trace_graph_done(struct trace_graph *g);

#endif
