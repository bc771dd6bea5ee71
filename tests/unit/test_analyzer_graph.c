/*
 * analyzer/graph: causal graph of one process with carried or derived vector clocks;
 * happened-before and concurrency decidable for every pair (legit fan-out is concurrent).
 */
#include <stdio.h>

#include "../check.h"
#include "analyzer/graph.h"
#include "test_analyzer_harness.h"

#define DB "test_analyzer_graph.db"

static const struct ev evs[] = {
    /* A -> (B, C) fan-out; B -> D; E: a second root of orders; A also delivered twice */
    {"tap:1", "A", "OrderPlaced", "orders", "c1", NULL, "publish", "orders", 0, 1, "{}", NULL},
    {"pay:1", "A", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 2, "{}", NULL},
    {"inv:1", "A", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 3, "{}", NULL},
    {"tap:2", "C", "StockReserved", "inventory", "c1", "A", "publish", "stock", 4, 4, "{}", NULL},
    {"tap:3", "B", "PaymentAuthorised", "payments", "c1", "A", "publish", "pay", 5, 5, "{}", NULL},
    /* D observed before its cause B would be: derived clocks still put B first */
    {"tap:4", "D", "OrderShipped", "shipping", "c1", "B", "publish", "ship", 6, 6, "{}", NULL},
    {"tap:5", "E", "OrderPlaced", "orders", "c1", NULL, "publish", "orders", 7, 7, "{}", NULL},
    /* carried clocks win over derivation */
    {"tap:6", "F", "AuditNoted", "audit", "c2", NULL, "publish", "audit", 0, 8, "{}",
     "vclock={\"audit\":5}"},
    {"tap:7", "G", "AuditNoted", "audit", "c2", "F", "publish", "audit", 1, 9, "{}",
     "vclock={\"audit\":6}"},
    /* a loop */
    {"tap:8", "X", "LoopNoted", "loop", "c3", "Y", "publish", "loop", 0, 10, "{}", NULL},
    {"tap:9", "Y", "LoopNoted", "loop", "c3", "X", "publish", "loop", 1, 11, "{}", NULL},
};

static int find(const struct analyzer_graph *g, const char *id)
{
    size_t i;
    for (i = 0; i < g->n; i++)
        if (g->nodes[i].event_id && strcmp(g->nodes[i].event_id, id) == 0)
            return (int)i;
    return -1;
}

int main(void)
{
    struct store *st = harness_store(DB, evs, sizeof evs / sizeof evs[0]);
    struct analyzer_graph g;
    int a, b, c, d, e;

    CHECK_INT(analyzer_graph_load(store_db(st), "c1", &g), ES_OK);
    CHECK_INT(g.n, 5);
    a = find(&g, "A"), b = find(&g, "B"), c = find(&g, "C"), d = find(&g, "D"), e = find(&g, "E");
    CHECK(a >= 0 && b >= 0 && c >= 0 && d >= 0 && e >= 0);
    if (a >= 0 && b >= 0 && c >= 0 && d >= 0 && e >= 0) {
        CHECK_INT(g.nodes[a].nobs, 3);
        CHECK_INT(g.nodes[a].parent, -1);
        CHECK_INT(g.nodes[b].parent, a);
        CHECK_INT(g.nodes[d].parent, b);
        CHECK_INT(g.nodes[d].depth, 2);
        CHECK_INT(g.nodes[a].carried, 0);
        CHECK_INT(analyzer_graph_order(&g, a, b), VCLOCK_BEFORE);
        CHECK_INT(analyzer_graph_order(&g, b, a), VCLOCK_AFTER);
        CHECK_INT(analyzer_graph_order(&g, b, c), VCLOCK_CONCURRENT); /* fan-out */
        CHECK_INT(analyzer_graph_order(&g, c, d), VCLOCK_CONCURRENT);
        CHECK_INT(analyzer_graph_order(&g, a, d), VCLOCK_BEFORE);
        CHECK_INT(analyzer_graph_order(&g, a, e), VCLOCK_BEFORE); /* same source, in order */
        CHECK_INT(analyzer_graph_order(&g, a, a), VCLOCK_EQUAL);
    }
    analyzer_graph_done(&g);

    CHECK_INT(analyzer_graph_load(store_db(st), "c2", &g), ES_OK);
    CHECK_INT(g.n, 2);
    if (g.n == 2) {
        CHECK_INT(g.nodes[0].carried, 1);
        CHECK_INT(vclock_get(&g.nodes[1].vc, "audit"), 6);
        CHECK_INT(analyzer_graph_order(&g, 0, 1), VCLOCK_BEFORE);
    }
    analyzer_graph_done(&g);

    CHECK_INT(analyzer_graph_load(store_db(st), "c3", &g), ES_OK);
    CHECK_INT(g.n, 2);
    if (g.n == 2)
        CHECK_INT(g.nodes[0].depth, -1);
    analyzer_graph_done(&g);

    CHECK_INT(analyzer_graph_load(store_db(st), "nope", &g), ES_OK);
    CHECK_INT(g.n, 0);
    analyzer_graph_done(&g);

    store_close(st);
    unlink(DB);
    unlink(DB "-wal");
    unlink(DB "-shm");
    return CHECK_DONE();
}
