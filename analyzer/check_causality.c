/*
 * Causality: each event's cause is the event whose event_id equals its causation_id,
 * looked up in its own process first, then (after the pass) anywhere in the store. Orphans
 * name a cause never seen; cycles are loops of causation links; a cause found in another
 * process means the correlation ID changed along the chain.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/ctx.h"
#include "core/event.h"
#include "core/xmalloc.h"

/* The first observation of node n that names a cause, or NULL. */
static const struct obs *caused(const struct proc *p, int n)
{
    int i;

    for (i = p->nodes[n].first; i >= 0; i = p->obs[i].next)
        if (p->obs[i].causation_id)
            return &p->obs[i];
    return NULL;
}

static void find_cycles(struct actx *a, struct proc *p)
{
    size_t i;
    int *path = NULL;
    size_t npath = 0, cap = 0;

    for (i = 0; i < p->nnodes; i++)
        p->nodes[i].mark = 0;
    for (i = 0; i < p->nnodes; i++) {
        int n = (int)i;
        npath = 0;
        while (n >= 0 && p->nodes[n].mark == 0) {
            p->nodes[n].mark = 1; /* on the current path */
            *ACTX_PUSH(path, npath, cap) = n;
            n = p->nodes[n].cause;
        }
        if (n >= 0 && p->nodes[n].mark == 1) {
            /* n is on the path: path[k..] from n is a loop. */
            size_t k = 0, j, len;
            while (path[k] != n)
                k++;
            len = npath - k;
            for (j = k; j < npath; j++) {
                const struct obs *o = &p->obs[p->nodes[path[j]].first];
                const struct obs *c = &p->obs[p->nodes[p->nodes[path[j]].cause].first];
                actx_finding(a, FINDING_CAU_CYCLE, NULL, o->correlation_id, o->seq, c->seq, NULL,
                             "%s %s is part of a causation loop of %zu event%s (its cause %s "
                             "is caused by it, directly or not)",
                             o->type ? o->type : "event", o->event_id, len, len == 1 ? "" : "s",
                             c->event_id);
            }
            for (j = k; j < npath; j++)
                p->nodes[path[j]].mark = NODE_IN_CYCLE;
        }
        for (size_t j = 0; j < npath; j++)
            if (p->nodes[path[j]].mark == 1)
                p->nodes[path[j]].mark = 2;
    }
    free(path);
}

void check_causality_process(struct actx *a, struct proc *p)
{
    size_t i;

    for (i = 0; i < p->nnodes; i++) {
        const struct obs *o = caused(p, (int)i);
        const int *head;
        uint64_t h;
        if (o == NULL)
            continue;
        h = hmap_key(event_hash(o->causation_id, strlen(o->causation_id)));
        head = hmap_get(&p->ids, h);
        if (head) {
            int c = *head;
            p->nodes[i].cause = c;
            if (p->obs[p->nodes[c].first].type_ix != NONE_IX)
                a->types[p->obs[p->nodes[c].first].type_ix].has_effects = 1;
        } else {
            struct pending_cause *pc = ACTX_PUSH(a->pending, a->npending, a->cappending);
            pc->seq = o->seq;
            pc->corr = xstrdup(o->correlation_id);
            pc->causation = xstrdup(o->causation_id);
            pc->h = h;
            pc->time_us = o->time_us;
            pc->src_ix = o->src_ix;
        }
    }
    find_cycles(a, p);
}

void check_causality_finish(struct actx *a)
{
    sqlite3_stmt *q = NULL;
    size_t i;

    if (a->rc != ES_OK)
        return;
    if (sqlite3_prepare_v2(a->db,
                           "SELECT seq, correlation_id, type FROM events WHERE event_id = ?1"
                           " ORDER BY seq LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK) {
        a->rc = ES_ESTORE;
        snprintf(a->err, a->errlen, "cannot look up causes: %s", sqlite3_errmsg(a->db));
        return;
    }
    for (i = 0; i < a->npending && a->rc == ES_OK; i++) {
        const struct pending_cause *pc = &a->pending[i];
        if (hmap_get(&a->ids, pc->h) == NULL) {
            actx_finding(a, FINDING_CAU_ORPHAN, NULL, pc->corr, pc->seq, 0, NULL,
                         "causation ID %s names an event never seen (lost, filtered, or not "
                         "captured)",
                         pc->causation);
            continue;
        }
        sqlite3_bind_text(q, 1, pc->causation, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW) {
            int64_t cseq = sqlite3_column_int64(q, 0);
            const char *ccorr = (const char *)sqlite3_column_text(q, 1);
            const char *ctype = (const char *)sqlite3_column_text(q, 2);
            if (ctype) {
                uint32_t *ix = hmap_get(&a->type_map, hmap_key(event_hash(ctype, strlen(ctype))));
                if (ix)
                    a->types[*ix].has_effects = 1;
            }
            if (pc->corr && ccorr && *ccorr && strcmp(pc->corr, ccorr) != 0)
                actx_finding(a, FINDING_CAU_CORR, NULL, pc->corr, pc->seq, cseq, NULL,
                             "correlation ID changes from %s (cause %s, %s) to %s along the "
                             "causal chain",
                             ccorr, pc->causation, ctype ? ctype : "untyped", pc->corr);
        }
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
}
