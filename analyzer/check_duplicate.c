/*
 * Duplicate checks. Identity is CloudEvents' source + id. Within one identity, every
 * observation is compared with the earlier ones at the same vantage point: a publish on the
 * same channel, a delivery to the same consumer (origin, plus attrs.consumer when a capture
 * sees several), a line in the same log. Same content twice there is duplicate.exact (with
 * its likely cause); another content under the same id is duplicate.id_collision. Different
 * ids with the same type, subject and payload close in time are duplicate.semantic.
 * Identities spread over several processes are re-checked whole after the pass.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/ctx.h"
#include "core/event.h"
#include "core/xmalloc.h"

static int same_str(const char *x, const char *y)
{
    if (x == NULL || y == NULL)
        return x == y;
    return strcmp(x, y) == 0;
}

static int same_content(const struct obs *x, const struct obs *y)
{
    return x->payload_hash == y->payload_hash && x->type_ix == y->type_ix;
}

static int same_vantage(const struct obs *x, const struct obs *y)
{
    if (x->dir != y->dir)
        return 0;
    switch (x->dir) {
    case OBS_PUBLISH:
        return same_str(x->channel, y->channel);
    case OBS_DELIVER:
        return x->origin == y->origin && x->consumerh == y->consumerh;
    default:
        return x->origin == y->origin;
    }
}

static int64_t absdiff(int64_t x, int64_t y)
{
    return x > y ? x - y : y - x;
}

static const char *likely_cause(const struct actx *a, const struct proc *p, int n,
                                const struct obs *d, const struct obs *f)
{
    int i, publishes = 0;

    for (i = p->nodes[n].first; i >= 0; i = p->obs[i].next)
        publishes += p->obs[i].dir == OBS_PUBLISH;
    if (absdiff(obs_pos(d), obs_pos(f)) > a->cfg->replay_after_us &&
        d->observed_us != ES_TIME_NONE && f->observed_us != ES_TIME_NONE)
        return "replay";
    if (!same_str(d->channel, f->channel))
        return "copy across brokers or channels";
    if (d->dir == OBS_LOG)
        return "logged twice: producer retry or reprocessing";
    if (d->redelivered || (d->offset >= 0 && d->offset == f->offset))
        return "broker redelivery";
    if (d->dir == OBS_PUBLISH || publishes >= 2 || (d->offset >= 0 && f->offset >= 0))
        return "producer retry";
    if (publishes == 1)
        return "broker redelivery";
    return "broker redelivery or producer retry (no publish observed)";
}

static void exact_and_collisions(struct actx *a, struct proc *p, int n)
{
    int i, j;
    const struct obs *first = &p->obs[p->nodes[n].first];

    for (i = p->obs[p->nodes[n].first].next; i >= 0; i = p->obs[i].next) {
        const struct obs *d = &p->obs[i];
        if (!same_content(d, first)) {
            /* A content not seen before under this identity: a collision. */
            int seen = 0;
            for (j = p->nodes[n].first; j != i; j = p->obs[j].next)
                if (same_content(&p->obs[j], d))
                    seen = 1;
            if (!seen)
                actx_finding(a, FINDING_DUP_COLLISION, NULL, d->correlation_id, d->seq, first->seq,
                             NULL,
                             "id %s of source %s carries two different contents (%s%s%s): two "
                             "facts share one identity",
                             d->event_id, d->source ? d->source : "(none)",
                             d->type_ix != first->type_ix ? "types " : "payloads differ",
                             d->type_ix != first->type_ix ? actx_type_name(a, first->type_ix) : "",
                             d->type_ix != first->type_ix ? " vs another" : "");
        }
        for (j = p->nodes[n].first; j != i; j = p->obs[j].next) {
            const struct obs *f = &p->obs[j];
            if (same_content(f, d) && same_vantage(f, d)) {
                const char *cause = likely_cause(a, p, n, d, f);
                char detail[128];
                snprintf(detail, sizeof detail, "{\"cause\":\"%s\"}", cause);
                actx_finding(a, FINDING_DUP_EXACT, NULL, d->correlation_id, d->seq, f->seq, detail,
                             "%s %s seen again at the same %s: %s", d->type ? d->type : "event",
                             d->event_id,
                             d->dir == OBS_PUBLISH   ? "channel (published twice)"
                             : d->dir == OBS_DELIVER ? "consumer (delivered twice)"
                                                     : "log",
                             cause);
                break;
            }
        }
    }
}

void check_duplicate_process(struct actx *a, struct proc *p, int global)
{
    size_t i;

    (void)global;
    for (i = 0; i < p->nnodes; i++) {
        const struct node *nd = &p->nodes[i];
        const struct obs *o = &p->obs[nd->first];
        int h;
        if (o->idh == 0)
            continue;
        if (nd->nobs > 1)
            exact_and_collisions(a, p, (int)i);
        /* Same id from another source (later node of the same id chain). */
        h = *(const int *)hmap_get(&p->ids, o->idh);
        if (h != (int)i) {
            const struct obs *f = &p->obs[p->nodes[h].first];
            if (!same_content(f, o))
                actx_finding(a, FINDING_DUP_COLLISION, FINDING_INFO, o->correlation_id, o->seq,
                             f->seq, NULL,
                             "id %s is used by sources %s and %s for different facts: legal "
                             "under CloudEvents, but consumers deduplicating by id alone drop "
                             "one",
                             o->event_id, f->source ? f->source : "(none)",
                             o->source ? o->source : "(none)");
        }
    }
}

/*
 * What makes two events "the same fact": type, subject (else partition key) and payload.
 * Without either key, identical payloads in different processes are often different facts
 * (two orders of one customer): the correlation ID then scopes the comparison.
 */
static uint64_t sem_key(const struct obs *o)
{
    const char *subj = o->subject          ? o->subject
                       : o->partition_key  ? o->partition_key
                       : o->correlation_id ? o->correlation_id
                                           : "";
    uint64_t h = event_hash(o->type, strlen(o->type));

    h ^= event_hash(subj, strlen(subj)) * 0x100000001b3ull;
    h ^= o->payload_hash * 0x9e3779b97f4a7c15ull;
    return hmap_key(h);
}

void check_duplicate_semantic(struct actx *a, struct proc *p)
{
    size_t i;

    for (i = 0; i < p->nnodes; i++) {
        const struct obs *o = &p->obs[p->nodes[i].first];
        struct sem_entry *e;
        int64_t t = o->time_us != ES_TIME_NONE ? o->time_us : o->observed_us;
        int added;
        if (o->payload_hash == 0 || o->type == NULL || o->idh == 0 || t == ES_TIME_NONE)
            continue;
        e = hmap_put(&a->sem, sem_key(o), &added);
        if (added) {
            e->seq = o->seq;
            e->time_us = t;
            e->idh = o->idh;
            continue;
        }
        if (e->idh == o->idh)
            continue;
        if (absdiff(t, e->time_us) <= a->cfg->semantic_window_us) {
            int later = t > e->time_us || (t == e->time_us && o->seq > e->seq);
            int64_t off = later ? o->seq : e->seq, rel = later ? e->seq : o->seq;
            char detail[64];
            snprintf(detail, sizeof detail, "{\"apart_us\":%" PRId64 "}", absdiff(t, e->time_us));
            actx_finding(a, FINDING_DUP_SEMANTIC, NULL, later ? o->correlation_id : NULL, off, rel,
                         detail,
                         "%s repeats the same subject and payload under a new id %.3f s apart: a "
                         "retry without an idempotency key",
                         o->type, (double)absdiff(t, e->time_us) / 1e6);
            if (!later) {
                e->seq = o->seq;
                e->time_us = t;
                e->idh = o->idh;
            }
        } else if (t > e->time_us) {
            /* Outside the window: later copies are compared with this one. */
            e->seq = o->seq;
            e->time_us = t;
            e->idh = o->idh;
        }
    }
}

void check_duplicate_finish(struct actx *a)
{
    sqlite3_stmt *q = NULL;
    struct proc p;
    size_t i, k;
    int64_t *seqs = NULL;

    if (a->rc != ES_OK || a->nsplit == 0)
        return;
    if (sqlite3_prepare_v2(a->db,
                           "SELECT " ANALYZER_ROW_COLUMNS " FROM events WHERE event_id = ?1"
                           " ORDER BY seq",
                           -1, &q, NULL) != SQLITE_OK) {
        a->rc = ES_ESTORE;
        snprintf(a->err, a->errlen, "cannot re-read duplicates: %s", sqlite3_errmsg(a->db));
        return;
    }
    proc_init(&p);
    for (i = 0; i < a->nsplit && a->rc == ES_OK; i++) {
        int rc;
        sqlite3_bind_text(q, 1, a->split[i], -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW)
            proc_add_row(a, &p, q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE) {
            a->rc = ES_ESTORE;
            snprintf(a->err, a->errlen, "re-reading id %s: %s", a->split[i],
                     sqlite3_errmsg(a->db));
            break;
        }
        if (p.nobs > 1) {
            proc_build_nodes(&p);
            seqs = xreallocarray(seqs, p.nobs, sizeof *seqs);
            for (k = 0; k < p.nobs; k++)
                seqs[k] = p.obs[k].seq;
            if (findings_drop(&a->fw, "duplicate.exact", seqs, p.nobs) != ES_OK ||
                findings_drop(&a->fw, "duplicate.id_collision", seqs, p.nobs) != ES_OK) {
                a->rc = ES_ESTORE;
                snprintf(a->err, a->errlen, "%s", a->fw.errmsg);
            }
            check_duplicate_process(a, &p, 1);
        }
        proc_reset(&p);
    }
    free(seqs);
    proc_done(&p);
    sqlite3_finalize(q);
}
