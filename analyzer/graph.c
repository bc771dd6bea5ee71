/* Causal graph of one process with carried or derived vector clocks (see graph.h). */
#include <stdlib.h>
#include <string.h>

#include "analyzer/graph.h"
#include "analyzer/hmap.h"
#include "core/event.h"
#include "core/xmalloc.h"

static char *col_dup(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    return t && *t ? xstrndup((const char *)t, (size_t)sqlite3_column_bytes(s, col)) : NULL;
}

static uint64_t ident_key(const char *source, const char *id)
{
    uint64_t h = event_hash(id, strlen(id));
    if (source)
        h ^= event_hash(source, strlen(source)) * 0x100000001b3ull;
    return hmap_key(h);
}

static int same(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/* Depth by walking parents; -1 when the walk loops. */
static int depth_of(const struct analyzer_graph *g, size_t i)
{
    int d = 0;
    int n = (int)i;

    while (g->nodes[n].parent >= 0) {
        n = g->nodes[n].parent;
        if (++d > (int)g->n)
            return -1;
    }
    return d;
}

struct derive {
    struct analyzer_graph *g;
    unsigned char *state; /* 0 todo, 1 in progress, 2 done */
    struct hmap src;      /* source hash -> int index into clocks */
    struct vclock *clocks;
    size_t nclocks;
};

static void derive_one(struct derive *d, int i)
{
    struct analyzer_node *nd = &d->g->nodes[i];
    const char *name = nd->source ? nd->source : "(none)";
    int added, *ix;

    if (d->state[i] != 0)
        return;
    d->state[i] = 1;
    if (nd->parent >= 0 && d->state[nd->parent] == 0)
        derive_one(d, nd->parent); /* causes first, even when observed later */
    ix = hmap_put(&d->src, hmap_key(event_hash(name, strlen(name))), &added);
    if (added) {
        *ix = (int)d->nclocks;
        d->clocks = xreallocarray(d->clocks, d->nclocks + 1, sizeof *d->clocks);
        vclock_init(&d->clocks[d->nclocks++]);
    }
    if (!nd->carried) {
        vclock_copy(&nd->vc, &d->clocks[*ix]);
        if (nd->parent >= 0 && d->state[nd->parent] == 2)
            vclock_merge(&nd->vc, &d->g->nodes[nd->parent].vc);
        vclock_set(&nd->vc, name, vclock_get(&nd->vc, name) + 1);
    }
    vclock_merge(&d->clocks[*ix], &nd->vc);
    d->state[i] = 2;
}

int analyzer_graph_load(sqlite3 *db, const char *correlation_id, struct analyzer_graph *g)
{
    sqlite3_stmt *q;
    struct hmap ident, ids;
    struct derive d;
    size_t cap = 0, i;
    int rc;

    memset(g, 0, sizeof *g);
    if (sqlite3_prepare_v2(db,
                           "SELECT seq, event_id, type, source, causation_id, vclock FROM events"
                           " WHERE correlation_id = ?1 ORDER BY seq",
                           -1, &q, NULL) != SQLITE_OK)
        return ES_ESTORE;
    sqlite3_bind_text(q, 1, correlation_id, -1, SQLITE_TRANSIENT);
    hmap_init(&ident, sizeof(int), 64);
    hmap_init(&ids, sizeof(int), 64);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        char *id = col_dup(q, 1), *source = col_dup(q, 3);
        struct analyzer_node *nd;
        int *slot = NULL, added = 1;
        if (id) {
            slot = hmap_put(&ident, ident_key(source, id), &added);
            if (!added && (!same(g->nodes[*slot].source, source) ||
                           strcmp(g->nodes[*slot].event_id, id) != 0))
                added = 1, slot = NULL; /* a hash collision: keep them apart */
        }
        if (!added) {
            nd = &g->nodes[*slot];
            nd->nobs++;
            if (nd->causation == NULL)
                nd->causation = col_dup(q, 4);
            if (!nd->carried && sqlite3_column_text(q, 5) &&
                vclock_parse(&nd->vc, (const char *)sqlite3_column_text(q, 5),
                             (size_t)sqlite3_column_bytes(q, 5)) == ES_OK)
                nd->carried = 1;
            free(id);
            free(source);
            continue;
        }
        if (g->n == cap) {
            cap = cap ? 2 * cap : 16;
            g->nodes = xreallocarray(g->nodes, cap, sizeof *g->nodes);
        }
        nd = &g->nodes[g->n];
        memset(nd, 0, sizeof *nd);
        nd->seq = sqlite3_column_int64(q, 0);
        nd->event_id = id;
        nd->type = col_dup(q, 2);
        nd->source = source;
        nd->causation = col_dup(q, 4);
        nd->parent = -1;
        nd->nobs = 1;
        vclock_init(&nd->vc);
        if (sqlite3_column_text(q, 5) &&
            vclock_parse(&nd->vc, (const char *)sqlite3_column_text(q, 5),
                         (size_t)sqlite3_column_bytes(q, 5)) == ES_OK)
            nd->carried = 1;
        if (slot)
            *slot = (int)g->n;
        if (id) {
            int *first = hmap_put(&ids, hmap_key(event_hash(id, strlen(id))), &added);
            if (added)
                *first = (int)g->n;
        }
        g->n++;
    }
    sqlite3_finalize(q);
    hmap_done(&ident);
    if (rc != SQLITE_DONE) {
        hmap_done(&ids);
        analyzer_graph_done(g);
        return ES_ESTORE;
    }
    for (i = 0; i < g->n; i++) {
        struct analyzer_node *nd = &g->nodes[i];
        const int *c;
        if (nd->causation == NULL)
            continue;
        c = hmap_get(&ids, hmap_key(event_hash(nd->causation, strlen(nd->causation))));
        if (c && *c != (int)i && g->nodes[*c].event_id &&
            strcmp(g->nodes[*c].event_id, nd->causation) == 0)
            nd->parent = *c;
    }
    hmap_done(&ids);
    for (i = 0; i < g->n; i++)
        g->nodes[i].depth = depth_of(g, i);

    /* Derived clocks, in first-observation order with causes first. */
    memset(&d, 0, sizeof d);
    d.g = g;
    d.state = xcalloc(g->n ? g->n : 1, 1);
    hmap_init(&d.src, sizeof(int), 16);
    for (i = 0; i < g->n; i++)
        derive_one(&d, (int)i);
    for (i = 0; i < d.nclocks; i++)
        vclock_done(&d.clocks[i]);
    free(d.clocks);
    free(d.state);
    hmap_done(&d.src);
    return ES_OK;
}

void analyzer_graph_done(struct analyzer_graph *g)
{
    size_t i;

    for (i = 0; i < g->n; i++) {
        free(g->nodes[i].event_id);
        free(g->nodes[i].type);
        free(g->nodes[i].source);
        free(g->nodes[i].causation);
        vclock_done(&g->nodes[i].vc);
    }
    free(g->nodes);
    g->nodes = NULL;
    g->n = 0;
}

enum vclock_order analyzer_graph_order(const struct analyzer_graph *g, size_t a, size_t b)
{
    if (a >= g->n || b >= g->n)
        return VCLOCK_CONCURRENT;
    return vclock_compare(&g->nodes[a].vc, &g->nodes[b].vc);
}
