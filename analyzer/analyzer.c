/*
 * The analyzer driver: the store is read process by process in correlation-ID order
 * (analyzer/scan.c: one sequential pass, correlation-ID buckets), the check families run on
 * each process, then the deferred checks that need the whole store (orphans, roots,
 * sequences per source, unmatched deliveries, duplicates split across processes) and the
 * findings commit.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "analyzer/analyzer.h"
#include "analyzer/ctx.h"
#include "core/event.h"
#include "core/xmalloc.h"

/* ==== small helpers shared with the checks ================================= */

void actx_finding(struct actx *a, enum finding_kind kind, const char *severity, const char *corr,
                  int64_t seq, int64_t related, const char *detail, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    int rc;

    if (a->rc != ES_OK)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rc = findings_add(&a->fw, kind, severity, corr, seq, related, msg, detail);
    if (rc != ES_OK) {
        a->rc = rc;
        snprintf(a->err, a->errlen, "%s", a->fw.errmsg);
    }
}

const char *actx_source_name(const struct actx *a, uint32_t ix)
{
    return ix < a->nsources && a->sources[ix].name ? a->sources[ix].name : "(none)";
}

const char *actx_type_name(const struct actx *a, uint32_t ix)
{
    return ix < a->ntypes && a->types[ix].name ? a->types[ix].name : "(none)";
}

int64_t obs_pos(const struct obs *o)
{
    if (o->observed_us != ES_TIME_NONE)
        return o->observed_us;
    if (o->time_us != ES_TIME_NONE)
        return o->time_us;
    return o->seq;
}

/* ==== one process ============================================================= */

void proc_init(struct proc *p)
{
    memset(p, 0, sizeof *p);
    hmap_init(&p->ids, sizeof(int), 64);
    arena_init(&p->arena);
}

void proc_reset(struct proc *p)
{
    hmap_reset(&p->ids, 64);
    arena_reset(&p->arena);
    p->nobs = p->nnodes = 0;
    p->corr = NULL;
    if (p->capobs > 65536 && p->capobs > 0) {
        /* One huge process should not pin its memory for the rest of the run. */
        free(p->obs);
        free(p->nodes);
        p->obs = NULL;
        p->nodes = NULL;
        p->capobs = p->capnodes = 0;
    }
}

void proc_done(struct proc *p)
{
    hmap_done(&p->ids);
    arena_done(&p->arena);
    free(p->obs);
    free(p->nodes);
    memset(p, 0, sizeof *p);
}

static int same_source(const char *x, const char *y)
{
    if (x == NULL || y == NULL)
        return x == y;
    return strcmp(x, y) == 0;
}

void proc_build_nodes(struct proc *p)
{
    size_t i;

    hmap_reset(&p->ids, p->nobs);
    if (p->capnodes < p->nobs) {
        p->capnodes = p->nobs;
        p->nodes = xreallocarray(p->nodes, p->capnodes, sizeof *p->nodes);
    }
    p->nnodes = 0;
    for (i = 0; i < p->nobs; i++) {
        struct obs *o = &p->obs[i];
        struct node *nd;
        int n = -1, added = 0, *head = NULL;
        if (o->idh) {
            head = hmap_put(&p->ids, o->idh, &added);
            if (!added) {
                for (n = *head; n >= 0; n = p->nodes[n].next_same_id)
                    if (same_source(p->obs[p->nodes[n].first].source, o->source))
                        break;
            }
        }
        if (n < 0) {
            n = (int)p->nnodes++;
            nd = &p->nodes[n];
            nd->first = (int)i;
            nd->nobs = 0;
            nd->cause = -1;
            nd->next_same_id = -1;
            nd->mark = 0;
            if (head && added) {
                *head = n;
            } else if (head) {
                int t = *head;
                while (p->nodes[t].next_same_id >= 0)
                    t = p->nodes[t].next_same_id;
                p->nodes[t].next_same_id = n;
            }
        } else {
            /* Append to the node's observation list (observations arrive in seq order). */
            int t = p->nodes[n].first;
            while (p->obs[t].next >= 0)
                t = p->obs[t].next;
            p->obs[t].next = (int)i;
        }
        o->node = n;
        p->nodes[n].nobs++;
    }
}

/* ==== the run ================================================================= */

static void note_ids(struct actx *a, struct proc *p)
{
    size_t i;

    for (i = 0; i < p->nnodes; i++) {
        const struct obs *o = &p->obs[p->nodes[i].first];
        uint32_t *v;
        int added;
        if (!o->idh)
            continue;
        v = hmap_put(&a->ids, o->idh, &added);
        if (added) {
            *v = a->proc_ix + 1;
        } else if ((*v & ~ID_SPLIT) != a->proc_ix + 1 && !(*v & ID_SPLIT)) {
            *v |= ID_SPLIT;
            *ACTX_PUSH(a->split, a->nsplit, a->capsplit) = xstrdup(o->event_id);
        }
    }
}

static void note_state(struct actx *a, struct proc *p)
{
    struct proc_state *st;
    size_t i, last = 0;
    int64_t best = INT64_MIN;

    if (p->corr == NULL)
        return; /* events without correlation ID are no process */
    for (i = 0; i < p->nobs; i++) {
        int64_t t = p->obs[i].time_us != ES_TIME_NONE ? p->obs[i].time_us : p->obs[i].observed_us;
        if (t != ES_TIME_NONE && t >= best) {
            best = t;
            last = i;
        } else if (best == INT64_MIN) {
            last = i;
        }
    }
    st = ACTX_PUSH(a->states, a->nstates, a->capstates);
    st->last_us = best;
    st->last_type = p->obs[last].type_ix;
}

void actx_analyze_proc(struct actx *a, struct proc *p)
{
    proc_build_nodes(p);
    a->proc_ix++;
    a->sum->events += p->nobs;
    a->sum->nodes += p->nnodes;
    if (p->corr)
        a->sum->processes++;
    note_ids(a, p);
    check_causality_process(a, p); /* first: the others follow its cause links */
    check_metadata_process(a, p);
    check_naming_process(a, p);
    check_duplicate_process(a, p, 0);
    check_duplicate_semantic(a, p);
    check_ordering_process(a, p);
    check_delivery_process(a, p);
    note_state(a, p);
}

static int cmp_skew(const void *x, const void *y)
{
    const struct skew_sample *a = x, *b = y;
    if (a->cause_src != b->cause_src)
        return a->cause_src < b->cause_src ? -1 : 1;
    if (a->effect_src != b->effect_src)
        return a->effect_src < b->effect_src ? -1 : 1;
    return (a->diff_us > b->diff_us) - (a->diff_us < b->diff_us);
}

static int cmp_skew_out(const void *x, const void *y)
{
    const struct analyzer_skew *a = x, *b = y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->cause_source, b->cause_source);
}

static void summarize_skews(struct actx *a)
{
    size_t i, j;
    struct analyzer_summary *sum = a->sum;

    if (a->nskews > 0)
        qsort(a->skews, a->nskews, sizeof *a->skews, cmp_skew);
    for (i = 0; i < a->nskews; i = j) {
        struct analyzer_skew *k;
        for (j = i; j < a->nskews && a->skews[j].cause_src == a->skews[i].cause_src &&
                    a->skews[j].effect_src == a->skews[i].effect_src;
             j++)
            ;
        sum->skews = xreallocarray(sum->skews, sum->nskews + 1, sizeof *sum->skews);
        k = &sum->skews[sum->nskews++];
        k->cause_source = xstrdup(actx_source_name(a, a->skews[i].cause_src));
        k->effect_source = xstrdup(actx_source_name(a, a->skews[i].effect_src));
        k->count = j - i;
        k->skew_us = a->skews[i + (j - i) / 2].diff_us;
        k->max_us = a->skews[j - 1].diff_us;
    }
    if (sum->nskews > 0)
        qsort(sum->skews, sum->nskews, sizeof *sum->skews, cmp_skew_out);
}

static int cmp_card(const void *x, const void *y)
{
    const struct analyzer_scorecard *a = x, *b = y;
    if (a->source == NULL || b->source == NULL)
        return (a->source == NULL) - (b->source == NULL);
    return strcmp(a->source, b->source);
}

static void summarize(struct actx *a, struct analyzer_status *st)
{
    struct analyzer_summary *sum = a->sum;
    size_t i;

    sum->ncards = a->nsources;
    sum->cards = xcalloc(a->nsources ? a->nsources : 1, sizeof *sum->cards);
    for (i = 0; i < a->nsources; i++) {
        sum->cards[i].source = xstrdup(a->sources[i].name);
        sum->cards[i].events = a->sources[i].events;
        memcpy(sum->cards[i].with, a->sources[i].with, sizeof sum->cards[i].with);
    }
    if (sum->ncards > 0)
        qsort(sum->cards, sum->ncards, sizeof *sum->cards, cmp_card);
    for (i = 0; i < a->nstates; i++) {
        const struct proc_state *ps = &a->states[i];
        const char *type = ps->last_type == NONE_IX ? NULL : a->types[ps->last_type].name;
        sum->by_state[analyzer_status_classify(st, type, ps->last_us)]++;
    }
    summarize_skews(a);
}

/* The cache status.c reads: which types cause others, valid while max(seq) is unchanged. */
static char *effect_types_json(struct actx *a, int64_t max_seq, int64_t now)
{
    json_t *o = json_object(), *arr = json_array();
    char *s;
    size_t i;

    for (i = 0; i < a->ntypes; i++)
        if (a->types[i].has_effects)
            json_array_append_new(arr, json_string(a->types[i].name));
    json_object_set_new(o, "max_seq", json_integer(max_seq));
    json_object_set_new(o, "now_us", json_integer(now));
    json_object_set_new(o, "effect_types", arr);
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static void actx_done(struct actx *a)
{
    size_t i;

    findings_done(&a->fw);
    scan_free(a->scan);
    hmap_done(&a->ids);
    hmap_done(&a->sem);
    hmap_done(&a->type_map);
    hmap_done(&a->src_map);
    hmap_done(&a->chan_map);
    for (i = 0; i < a->ntypes; i++)
        free(a->types[i].name);
    for (i = 0; i < a->nsources; i++) {
        free(a->sources[i].name);
        free(a->sources[i].seqs);
    }
    for (i = 0; i < a->nchannels; i++)
        free(a->channels[i].name);
    for (i = 0; i < a->npending; i++) {
        free(a->pending[i].corr);
        free(a->pending[i].causation);
    }
    for (i = 0; i < a->nsplit; i++)
        free(a->split[i]);
    free(a->types);
    free(a->sources);
    free(a->channels);
    free(a->pending);
    free(a->cands);
    free(a->unmatched);
    free(a->split);
    free(a->skews);
    free(a->states);
}

static int64_t store_max_seq(sqlite3 *db)
{
    sqlite3_stmt *s;
    int64_t v = 0;

    if (sqlite3_prepare_v2(db, "SELECT max(seq) FROM events", -1, &s, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

int analyzer_run(sqlite3 *db, const struct analyzer_config *cfg, volatile sig_atomic_t *stop,
                 struct analyzer_summary *sum, char *err, size_t errlen)
{
    struct analyzer_config defaults;
    struct actx a;
    struct timespec t0, t1;
    struct analyzer_status *st = NULL;
    int64_t max_seq, now = INT64_MIN;
    size_t i;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    analyzer_config_init(&defaults);
    memset(sum, 0, sizeof *sum);
    memset(&a, 0, sizeof a);
    a.db = db;
    a.cfg = cfg ? cfg : &defaults;
    a.err = err;
    a.errlen = errlen;
    a.sum = sum;
    a.now = INT64_MIN;
    a.scan = scan_new();
    if (errlen)
        err[0] = '\0';
    hmap_init(&a.sem, sizeof(struct sem_entry), 1024);
    hmap_init(&a.type_map, sizeof(uint32_t), 64);
    hmap_init(&a.src_map, sizeof(uint32_t), 64);
    hmap_init(&a.chan_map, sizeof(uint32_t), 64);
    rc = findings_begin(&a.fw, db);
    if (rc != ES_OK) {
        snprintf(err, errlen, "%s", a.fw.errmsg);
        hmap_init(&a.ids, sizeof(uint32_t), 0);
        actx_done(&a);
        return rc;
    }
    /*
     * A read transaction around the pass: one consistent snapshot of the store, which
     * starts with the first read (max(seq), recorded with the cached effect types).
     */
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    max_seq = store_max_seq(db);
    hmap_init(&a.ids, sizeof(uint32_t), (size_t)(max_seq / 2));
    hmap_done(&a.sem); /* sized for the store: fewer doublings of a big table */
    hmap_init(&a.sem, sizeof(struct sem_entry), (size_t)(max_seq / 4));
    rc = scan_run(&a, stop);
    if (rc == ES_OK) {
        check_causality_finish(&a);
        check_metadata_finish(&a);
        check_ordering_finish(&a);
        check_delivery_finish(&a);
        check_duplicate_finish(&a);
        rc = a.rc;
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc == ES_OK) {
        now = a.now;
        st = analyzer_status_new(a.cfg, now);
        for (i = 0; i < a.ntypes; i++)
            if (a.types[i].has_effects)
                analyzer_status_add_effect_type(st, a.types[i].name);
        summarize(&a, st);
        analyzer_status_free(st);
        {
            char *cache = effect_types_json(&a, max_seq, now);
            const char *meta[2] = {"analyzer_effect_types", cache};
            rc = findings_commit(&a.fw, meta, 1);
            if (rc != ES_OK)
                snprintf(err, errlen, "%s", a.fw.errmsg);
            free(cache);
        }
    }
    if (rc == ES_OK) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(db, "SELECT kind, count(*) FROM findings GROUP BY kind", -1, &s,
                               NULL) == SQLITE_OK) {
            while (sqlite3_step(s) == SQLITE_ROW) {
                int k = finding_kind_find((const char *)sqlite3_column_text(s, 0));
                uint64_t n = (uint64_t)sqlite3_column_int64(s, 1);
                if (k >= 0)
                    sum->by_kind[k] = n;
                sum->findings += n;
            }
            sqlite3_finalize(s);
        }
    }
    actx_done(&a);
    analyzer_config_done(&defaults);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    sum->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc != ES_OK)
        analyzer_summary_done(sum);
    return rc;
}

void analyzer_summary_done(struct analyzer_summary *sum)
{
    size_t i;

    analyzer_scorecard_free(sum->cards, sum->ncards);
    for (i = 0; i < sum->nskews; i++) {
        free(sum->skews[i].cause_source);
        free(sum->skews[i].effect_source);
    }
    free(sum->skews);
    sum->cards = NULL;
    sum->skews = NULL;
    sum->ncards = sum->nskews = 0;
}
