/*
 * The causal graph of one process (one correlation ID) with a vector clock per event, for
 * `trace`, the TUI and tests. An event (node) is one identity (source + id) with all its
 * observations; its parent is the event whose id its causation ID names, inside the process.
 *
 * Clocks: an event's carried clock (the vclock column) is used when present and parseable;
 * otherwise one is derived: each source is a process whose own events are ordered by their
 * first observation; an event starts from its source's previous clock, merges its cause's
 * clock, and ticks its source's counter. So for any two events of the process, happened
 * before, after, or concurrently is decidable (analyzer_graph_order).
 */
#ifndef ES_ANALYZER_GRAPH_H
#define ES_ANALYZER_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/err.h"
#include "core/vclock.h"

struct analyzer_node {
    int64_t seq;      /* first observation (events.seq) */
    char *event_id;   /* owned; NULL when the observation has none */
    char *type;       /* owned, may be NULL */
    char *source;     /* owned, may be NULL */
    char *causation;  /* owned, may be NULL */
    int parent;       /* index of the cause in this graph, -1 (root, orphan, or elsewhere) */
    int depth;        /* 0 for events without a parent here; -1 on a causation loop */
    int nobs;         /* observations of this event in the process */
    int carried;      /* 1: vc is the carried clock; 0: derived */
    struct vclock vc; /* owned */
};

struct analyzer_graph {
    struct analyzer_node *nodes; /* in order of first observation */
    size_t n;
};

/*
 * Loads the process with this correlation ID (one indexed query). Returns ES_OK (an unknown
 * ID gives an empty graph), or ES_ESTORE. Release with analyzer_graph_done.
 */
int analyzer_graph_load(sqlite3 *db, const char *correlation_id,
                        struct analyzer_graph *g) ES_WARN_UNUSED;
void analyzer_graph_done(struct analyzer_graph *g);

/* VCLOCK_BEFORE when node a happened before node b, AFTER, CONCURRENT, or EQUAL. */
enum vclock_order analyzer_graph_order(const struct analyzer_graph *g, size_t a, size_t b);

#endif
