/*
 * The analyzer driver: one streaming pass over the store in correlation-ID order (the
 * events_correlation index), one process in memory at a time, the check families run on
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

static uint64_t str_hash(const char *s)
{
    return hmap_key(event_hash(s, strlen(s)));
}

static uint32_t intern_type(struct actx *a, const char *s)
{
    int added;
    uint32_t *ix = hmap_put(&a->type_map, str_hash(s), &added);

    if (added) {
        struct type_stat *t = ACTX_PUSH(a->types, a->ntypes, a->captypes);
        memset(t, 0, sizeof *t);
        t->name = xstrdup(s);
        t->naming = -1;
        *ix = (uint32_t)(a->ntypes - 1);
    }
    return *ix;
}

static uint32_t intern_source(struct actx *a, const char *s)
{
    int added;
    uint32_t *ix = hmap_put(&a->src_map, s ? str_hash(s) : 1, &added);

    if (added) {
        struct source_stat *t = ACTX_PUSH(a->sources, a->nsources, a->capsources);
        memset(t, 0, sizeof *t);
        t->name = xstrdup(s);
        *ix = (uint32_t)(a->nsources - 1);
    }
    return *ix;
}

static uint32_t intern_channel(struct actx *a, const char *s)
{
    int added;
    uint32_t *ix = hmap_put(&a->chan_map, str_hash(s), &added);

    if (added) {
        struct channel_stat *t = ACTX_PUSH(a->channels, a->nchannels, a->capchannels);
        memset(t, 0, sizeof *t);
        t->name = xstrdup(s);
        t->min_pub_pos = INT64_MAX;
        t->max_delivered_pub_pos = INT64_MIN;
        *ix = (uint32_t)(a->nchannels - 1);
    }
    return *ix;
}

/* ==== attrs: the few members the checks read, without a full JSON parse ======= */

static size_t skip_ws(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* s[i] is '"': index after the closing quote, or n when unterminated. */
static size_t skip_string(const char *s, size_t i, size_t n)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

/* Index after the JSON value starting at s[i] (objects and arrays skipped whole). */
static size_t skip_value(const char *s, size_t i, size_t n)
{
    int depth = 0;

    if (i >= n)
        return n;
    if (s[i] == '"')
        return skip_string(s, i, n);
    if (s[i] != '{' && s[i] != '[') {
        while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']')
            i++;
        return i;
    }
    for (; i < n; i++) {
        if (s[i] == '"') {
            i = skip_string(s, i, n) - 1;
        } else if (s[i] == '{' || s[i] == '[') {
            depth++;
        } else if (s[i] == '}' || s[i] == ']') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return n;
}

static int key_is(const char *k, size_t klen, const char *want)
{
    return strlen(want) == klen && memcmp(k, want, klen) == 0;
}

/* A JSON number or digit string to int64; -1 when neither. */
static int64_t value_int(const char *v, size_t len)
{
    int64_t x = 0;
    size_t i = 0;

    if (len >= 2 && v[0] == '"')
        v++, len -= 2;
    if (len == 0 || len > 18)
        return -1;
    for (i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    return x;
}

static int value_true(const char *v, size_t len)
{
    return (len == 4 && memcmp(v, "true", 4) == 0) || (len == 6 && memcmp(v, "\"true\"", 6) == 0) ||
           (len == 1 && v[0] == '1') || (len == 3 && memcmp(v, "\"1\"", 3) == 0);
}

static void read_attrs(struct obs *o, const char *s, size_t n)
{
    size_t i = skip_ws(s, 0, n);

    if (i >= n || s[i] != '{')
        return;
    i++;
    for (;;) {
        size_t k0, k1, v0, v1;
        i = skip_ws(s, i, n);
        if (i >= n || s[i] != '"')
            return;
        k0 = i + 1;
        i = skip_string(s, i, n);
        if (i >= n)
            return;
        k1 = i - 1;
        i = skip_ws(s, i, n);
        if (i >= n || s[i] != ':')
            return;
        v0 = skip_ws(s, i + 1, n);
        v1 = skip_value(s, v0, n);
        if (v1 > n || v1 <= v0)
            return;
        {
            const char *k = s + k0, *v = s + v0;
            size_t klen = k1 - k0, vlen = v1 - v0;
            if (key_is(k, klen, "redelivered") || key_is(k, klen, "dup") ||
                key_is(k, klen, "redelivery"))
                o->redelivered |= (unsigned char)value_true(v, vlen);
            else if (key_is(k, klen, "offset"))
                o->offset = value_int(v, vlen);
            else if (key_is(k, klen, "partition"))
                o->partition = value_int(v, vlen);
            else if (key_is(k, klen, "consumer") && vlen > 2)
                o->consumerh = hmap_key(event_hash(v, vlen));
            else if (key_is(k, klen, "traceparent") && vlen >= 2 + 3 + 32 && v[0] == '"') {
                /* W3C Trace Context: version "-" trace-id (32 hex) "-" parent-id "-" flags */
                const char *tid = v + 1 + 3;
                if (v[3] == '-' && (vlen < 2 + 3 + 33 || tid[32] == '-'))
                    o->traceh = hmap_key(event_hash(tid, 32));
            }
        }
        i = skip_ws(s, v1, n);
        if (i >= n || s[i] != ',')
            return;
        i++;
    }
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

static const char *col_str(struct proc *p, sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    if (t == NULL)
        return NULL;
    return arena_strndup(&p->arena, (const char *)t, (size_t)sqlite3_column_bytes(s, col));
}

static int64_t col_time(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? ES_TIME_NONE : sqlite3_column_int64(s, col);
}

void proc_add_row(struct actx *a, struct proc *p, sqlite3_stmt *s)
{
    struct obs *o;
    const char *dir;

    if (p->nobs == p->capobs) {
        p->capobs = p->capobs ? 2 * p->capobs : 64;
        p->obs = xreallocarray(p->obs, p->capobs, sizeof *p->obs);
    }
    o = &p->obs[p->nobs++];
    memset(o, 0, sizeof *o);
    o->seq = sqlite3_column_int64(s, 0);
    o->origin = sqlite3_column_int64(s, 1);
    o->event_id = col_str(p, s, 2);
    o->type = col_str(p, s, 3);
    o->source = col_str(p, s, 4);
    o->subject = col_str(p, s, 5);
    o->partition_key = col_str(p, s, 6);
    o->sequence = col_str(p, s, 7);
    o->time_us = col_time(s, 8);
    o->time_raw = col_str(p, s, 9);
    o->observed_us = col_time(s, 10);
    o->correlation_id = col_str(p, s, 11);
    o->causation_id = col_str(p, s, 12);
    o->channel = col_str(p, s, 13);
    dir = (const char *)sqlite3_column_text(s, 14);
    o->vclock = col_str(p, s, 15);
    o->payload_hash = (uint64_t)sqlite3_column_int64(s, 16);
    o->offset = o->partition = -1;
    if (sqlite3_column_type(s, 17) != SQLITE_NULL) {
        const char *attrs = (const char *)sqlite3_column_text(s, 17);
        if (attrs)
            read_attrs(o, attrs, (size_t)sqlite3_column_bytes(s, 17));
    }
    if (p->nobs == 1)
        p->corr = o->correlation_id;
    if (o->time_us != ES_TIME_NONE && o->time_us > a->now)
        a->now = o->time_us;
    if (o->observed_us != ES_TIME_NONE && o->observed_us > a->now)
        a->now = o->observed_us;
    if (o->event_id && o->event_id[0])
        o->idh = str_hash(o->event_id);
    if (o->event_id && !o->event_id[0])
        o->event_id = NULL;
    o->dir = OBS_LOG;
    if (dir && strcmp(dir, "publish") == 0)
        o->dir = OBS_PUBLISH;
    else if (dir && strcmp(dir, "deliver") == 0)
        o->dir = OBS_DELIVER;
    o->type_ix = o->type && o->type[0] ? intern_type(a, o->type) : NONE_IX;
    o->src_ix = intern_source(a, o->source && o->source[0] ? o->source : NULL);
    o->chan_ix = o->channel && o->channel[0] ? intern_channel(a, o->channel) : NONE_IX;
    if (o->sequence) {
        const char *q = o->sequence;
        uint64_t v = 0;
        size_t n = 0;
        while (*q >= '0' && *q <= '9' && n < 19)
            v = v * 10 + (uint64_t)(*q++ - '0'), n++;
        if (n > 0 && *q == '\0') {
            o->seqnum = v;
            o->has_seqnum = 1;
        }
    }
    if (o->causation_id && !o->causation_id[0])
        o->causation_id = NULL;
    o->node = -1;
    o->next = -1;
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

static void analyze_proc(struct actx *a, struct proc *p)
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

static int stream(struct actx *a, volatile sig_atomic_t *stop)
{
    sqlite3_stmt *s = NULL;
    struct proc p;
    uint64_t rows = 0;
    int rc;

    if (sqlite3_prepare_v2(a->db,
                           "SELECT " ANALYZER_ROW_COLUMNS " FROM events"
                           " ORDER BY correlation_id, seq",
                           -1, &s, NULL) != SQLITE_OK) {
        snprintf(a->err, a->errlen, "cannot read events: %s", sqlite3_errmsg(a->db));
        return ES_ESTORE;
    }
    proc_init(&p);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && a->rc == ES_OK) {
        const char *corr = (const char *)sqlite3_column_text(s, 11);
        if (p.nobs > 0 && (corr == NULL || p.corr == NULL || strcmp(corr, p.corr) != 0)) {
            analyze_proc(a, &p);
            proc_reset(&p);
        }
        proc_add_row(a, &p, s);
        if ((++rows & 0xffff) == 0 && stop && *stop) {
            a->rc = ES_EINTERRUPTED;
            snprintf(a->err, a->errlen, "interrupted after %" PRIu64 " events", rows);
        }
    }
    if (a->rc == ES_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        a->rc = ES_ESTORE;
        snprintf(a->err, a->errlen, "reading events: %s", sqlite3_errmsg(a->db));
    }
    if (a->rc == ES_OK && p.nobs > 0)
        analyze_proc(a, &p);
    sqlite3_finalize(s);
    proc_done(&p);
    return a->rc;
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
    rc = stream(&a, stop);
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
