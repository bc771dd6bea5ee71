/* The causal graph of one process for `trace`: grouping, causes, forest, cycle breaking. */
#include "cli/trace_graph.h"

#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/xmalloc.h"

/* ---- A small string-pair map (borrowed keys) ------------------------------------------ */

struct gmap_slot {
    const char *a, *b; /* key; a may be NULL (treated as "") */
    size_t val;
    int used;
};

struct gmap {
    struct gmap_slot *slots;
    size_t cap; /* power of two */
};

static uint64_t gmap_hash(const char *a, const char *b)
{
    uint64_t h = event_hash(a ? a : "", a ? strlen(a) : 0);
    return h * 1099511628211ULL ^ event_hash(b, strlen(b));
}

static void gmap_init(struct gmap *m, size_t n)
{
    m->cap = 16;
    while (m->cap < n * 2)
        m->cap <<= 1;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
}

static int gmap_same(const struct gmap_slot *s, const char *a, const char *b)
{
    return strcmp(s->a ? s->a : "", a ? a : "") == 0 && strcmp(s->b, b) == 0;
}

/* Finds (a, b); when absent and add is set, inserts it with val. Returns the slot or NULL. */
static struct gmap_slot *gmap_get(struct gmap *m, const char *a, const char *b, int add,
                                  size_t val)
{
    size_t i = (size_t)gmap_hash(a, b) & (m->cap - 1);

    while (m->slots[i].used) {
        if (gmap_same(&m->slots[i], a, b))
            return &m->slots[i];
        i = (i + 1) & (m->cap - 1);
    }
    if (!add)
        return NULL;
    m->slots[i].a = a;
    m->slots[i].b = b;
    m->slots[i].val = val;
    m->slots[i].used = 1;
    return &m->slots[i];
}

/* ---- Building -------------------------------------------------------------------------- */

static const struct trace_graph *sort_graph; /* qsort has no context argument in C11 */

static int node_cmp(const void *x, const void *y)
{
    const struct trace_node *a = &sort_graph->nodes[*(const size_t *)x];
    const struct trace_node *b = &sort_graph->nodes[*(const size_t *)y];
    int64_t sa = sort_graph->obs[a->obs[0]].seq, sb = sort_graph->obs[b->obs[0]].seq;

    /* Events without a time sort after those with one. */
    if ((a->time_us == ES_TIME_NONE) != (b->time_us == ES_TIME_NONE))
        return a->time_us == ES_TIME_NONE ? 1 : -1;
    if (a->time_us != b->time_us)
        return a->time_us < b->time_us ? -1 : 1;
    return sa < sb ? -1 : sa > sb;
}

static void node_add_kid(struct trace_node *p, size_t kid)
{
    if (p->nkids == p->capkids) {
        p->capkids = p->capkids ? p->capkids * 2 : 4;
        p->kids = xreallocarray(p->kids, p->capkids, sizeof *p->kids);
    }
    p->kids[p->nkids++] = kid;
}

/* Depth-first pre-order from root over not yet visited nodes, without recursion. */
static void walk(struct trace_graph *g, size_t root, unsigned char *seen, size_t *norder,
                 size_t *stack)
{
    size_t sp = 0, n, k;

    stack[sp++] = root;
    g->nodes[root].depth = 0;
    while (sp > 0) {
        n = stack[--sp];
        if (seen[n])
            continue;
        seen[n] = 1;
        g->order[(*norder)++] = n;
        /* Push in reverse so the earliest effect is printed first. */
        for (k = g->nodes[n].nkids; k-- > 0;) {
            size_t c = g->nodes[n].kids[k];
            if (!seen[c]) {
                g->nodes[c].depth = g->nodes[n].depth + 1;
                stack[sp++] = c;
            }
        }
    }
}

void trace_graph_build(struct trace_graph *g)
{
    struct gmap by_identity, by_id;
    struct gmap_slot *sl;
    unsigned char *seen;
    size_t i, k, norder = 0, *stack;

    gmap_init(&by_identity, g->nobs);
    gmap_init(&by_id, g->nobs);
    g->nodes = xcalloc(g->nobs ? g->nobs : 1, sizeof *g->nodes);
    g->nnodes = 0;

    /* Group observations into events: same source + id is one event seen again. */
    for (i = 0; i < g->nobs; i++) {
        struct trace_obs *o = &g->obs[i];
        struct trace_node *nd;
        size_t idx = g->nnodes;
        if (o->event_id != NULL) {
            sl = gmap_get(&by_identity, o->source, o->event_id, 1, idx);
            idx = sl->val;
        }
        nd = &g->nodes[idx];
        if (idx == g->nnodes) {
            g->nnodes++;
            nd->parent = -1;
            nd->column = -1;
            nd->time_us = o->time_us != ES_TIME_NONE ? o->time_us : o->observed_us;
            if (o->event_id != NULL)
                gmap_get(&by_id, NULL, o->event_id, 1, idx); /* first event with this id */
        }
        nd->obs = xreallocarray(nd->obs, nd->nobs + 1, sizeof *nd->obs);
        nd->obs[nd->nobs++] = i;
        o->node = idx;
    }

    /* Causes: the event of this process whose id is the causation ID. */
    for (i = 0; i < g->nobs; i++) {
        struct trace_obs *o = &g->obs[i];
        o->parent_seq = -1;
        if (o->causation_id == NULL || *o->causation_id == '\0')
            continue;
        sl = gmap_get(&by_id, NULL, o->causation_id, 0, 0);
        if (sl != NULL)
            o->parent_seq = g->obs[g->nodes[sl->val].obs[0]].seq;
        if (g->nodes[o->node].obs[0] != i)
            continue; /* the event's first observation decides its place in the tree */
        if (sl != NULL)
            g->nodes[o->node].parent = (long)sl->val;
        else
            g->nodes[o->node].orphan = 1;
    }
    for (i = 0; i < g->nnodes; i++)
        if (g->nodes[i].parent >= 0)
            node_add_kid(&g->nodes[g->nodes[i].parent], i);
    sort_graph = g;
    for (i = 0; i < g->nnodes; i++)
        if (g->nodes[i].nkids > 1)
            qsort(g->nodes[i].kids, g->nodes[i].nkids, sizeof(size_t), node_cmp);

    /* Roots by time; walk each. */
    g->roots = xcalloc(g->nnodes ? g->nnodes : 1, sizeof *g->roots);
    g->order = xcalloc(g->nnodes ? g->nnodes : 1, sizeof *g->order);
    for (i = 0; i < g->nnodes; i++)
        if (g->nodes[i].parent < 0)
            g->roots[g->nroots++] = i;
    qsort(g->roots, g->nroots, sizeof(size_t), node_cmp);
    seen = xcalloc(g->nnodes ? g->nnodes : 1, 1);
    stack = xcalloc(g->nnodes ? g->nnodes : 1, sizeof *stack);
    for (i = 0; i < g->nroots; i++)
        walk(g, g->roots[i], seen, &norder, stack);

    /*
     * What is left lies on or below a causation cycle. Follow causes from the earliest
     * unvisited event until one repeats: that is on the cycle; its earliest member becomes
     * a root marked cycle, and its edge into the cycle is left out of the tree.
     */
    {
        /* Candidates by time, scanned once; path marks are stamped, never cleared. */
        size_t *cand = xcalloc(g->nnodes ? g->nnodes : 1, sizeof *cand), ci = 0, n, best;
        size_t *onpath = xcalloc(g->nnodes ? g->nnodes : 1, sizeof *onpath), stamp = 0;
        for (i = 0; i < g->nnodes; i++)
            cand[i] = i;
        qsort(cand, g->nnodes, sizeof(size_t), node_cmp);
        while (norder < g->nnodes) {
            while (seen[cand[ci]])
                ci++;
            stamp++;
            for (n = cand[ci]; onpath[n] != stamp; n = (size_t)g->nodes[n].parent)
                onpath[n] = stamp;
            /* n is on the cycle; find the cycle's earliest member. */
            best = n;
            for (k = (size_t)g->nodes[n].parent; k != n; k = (size_t)g->nodes[k].parent)
                if (node_cmp(&k, &best) < 0)
                    best = k;
            g->nodes[best].cycle = 1;
            /* Drop best from its cause's effects so the walk does not re-enter it. */
            {
                struct trace_node *p = &g->nodes[g->nodes[best].parent];
                for (k = 0; k < p->nkids; k++)
                    if (p->kids[k] == best) {
                        memmove(p->kids + k, p->kids + k + 1,
                                (p->nkids - k - 1) * sizeof(size_t));
                        p->nkids--;
                        break;
                    }
            }
            g->roots[g->nroots++] = best;
            walk(g, best, seen, &norder, stack);
        }
        free(cand);
        free(onpath);
    }
    /* Walk again with every root in time order, cycle roots included. */
    qsort(g->roots, g->nroots, sizeof(size_t), node_cmp);
    memset(seen, 0, g->nnodes ? g->nnodes : 1);
    norder = 0;
    for (i = 0; i < g->nroots; i++)
        walk(g, g->roots[i], seen, &norder, stack);

    /* Services by first appearance in time: the timeline's columns. */
    for (i = 0; i < g->nnodes; i++)
        if (g->nodes[i].nkids > 0)
            g->nodes[g->nodes[i].kids[g->nodes[i].nkids - 1]].last_kid = 1;
    {
        size_t *bytime = xcalloc(g->nnodes ? g->nnodes : 1, sizeof *bytime);
        g->bytime = bytime;
        for (i = 0; i < g->nnodes; i++)
            bytime[i] = i;
        qsort(bytime, g->nnodes, sizeof(size_t), node_cmp);
        g->sources = xcalloc(g->nnodes ? g->nnodes : 1, sizeof *g->sources);
        for (i = 0; i < g->nnodes; i++) {
            struct trace_node *nd = &g->nodes[bytime[i]];
            const char *src = g->obs[nd->obs[0]].source;
            if (src == NULL)
                src = "?";
            for (k = 0; k < g->nsources; k++)
                if (strcmp(g->sources[k], src) == 0)
                    break;
            if (k == g->nsources)
                g->sources[g->nsources++] = xstrdup(src);
            nd->column = (long)k;
        }
    }
    free(seen);
    free(stack);
    free(by_identity.slots);
    free(by_id.slots);
}

/* ---- Loading ----------------------------------------------------------------------------- */

static char *col_text(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    return t ? xstrdup((const char *)t) : NULL;
}

static int64_t col_time(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? ES_TIME_NONE
                                                      : sqlite3_column_int64(s, col);
}

static struct trace_obs *obs_by_seq(struct trace_graph *g, int64_t seq)
{
    size_t lo = 0, hi = g->nobs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->obs[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->nobs && g->obs[lo].seq == seq ? &g->obs[lo] : NULL;
}

int trace_graph_load(sqlite3 *db, const char *cid, struct trace_graph *g)
{
    sqlite3_stmt *s = NULL;
    size_t cap = 0;
    int rc;

    memset(g, 0, sizeof *g);
    rc = sqlite3_prepare_v2(db,
                            "SELECT seq, event_id, type, source, causation_id, direction,"
                            " vclock, location, time_us, observed_us"
                            " FROM events WHERE correlation_id = ?1 ORDER BY seq",
                            -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(s, 1, cid, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct trace_obs *o;
        if (g->nobs == cap) {
            cap = cap ? cap * 2 : 64;
            g->obs = xreallocarray(g->obs, cap, sizeof *g->obs);
        }
        o = &g->obs[g->nobs++];
        memset(o, 0, sizeof *o);
        o->seq = sqlite3_column_int64(s, 0);
        o->event_id = col_text(s, 1);
        o->type = col_text(s, 2);
        o->source = col_text(s, 3);
        o->causation_id = col_text(s, 4);
        o->direction = col_text(s, 5);
        o->vclock = col_text(s, 6);
        o->location = col_text(s, 7);
        o->time_us = col_time(s, 8);
        o->observed_us = col_time(s, 9);
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc != SQLITE_DONE)
        return rc;
    if (g->nobs == 0)
        return SQLITE_NOTFOUND;

    rc = sqlite3_prepare_v2(db,
                            "SELECT f.event_seq, f.kind, f.severity, f.message"
                            " FROM events AS e JOIN findings AS f ON f.event_seq = e.seq"
                            " WHERE e.correlation_id = ?1 ORDER BY f.event_seq, f.id",
                            -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(s, 1, cid, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct trace_obs *o = obs_by_seq(g, sqlite3_column_int64(s, 0));
        struct trace_finding *f;
        if (o == NULL)
            continue;
        o->findings = xreallocarray(o->findings, o->nfindings + 1, sizeof *o->findings);
        f = &o->findings[o->nfindings++];
        f->kind = col_text(s, 1);
        f->severity = col_text(s, 2);
        f->message = col_text(s, 3);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return rc;
    trace_graph_build(g);
    return SQLITE_OK;
}

void trace_graph_done(struct trace_graph *g)
{
    size_t i, k;

    for (i = 0; i < g->nobs; i++) {
        struct trace_obs *o = &g->obs[i];
        free(o->event_id);
        free(o->type);
        free(o->source);
        free(o->causation_id);
        free(o->direction);
        free(o->vclock);
        free(o->location);
        for (k = 0; k < o->nfindings; k++) {
            free(o->findings[k].kind);
            free(o->findings[k].severity);
            free(o->findings[k].message);
        }
        free(o->findings);
    }
    for (i = 0; i < g->nnodes; i++) {
        free(g->nodes[i].obs);
        free(g->nodes[i].kids);
    }
    for (i = 0; i < g->nsources; i++)
        free(g->sources[i]);
    free(g->obs);
    free(g->nodes);
    free(g->roots);
    free(g->order);
    free(g->bytime);
    free(g->sources);
    memset(g, 0, sizeof *g);
}
