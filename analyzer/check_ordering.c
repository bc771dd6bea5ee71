/*
 * Ordering checks: effects observed before their causes (at one vantage point: the same
 * origin), effects timestamped before their causes (clock skew, sampled per pair of
 * sources), sequence numbers or broker offsets going backwards within a partition key,
 * sequences skipping or repeating within a source, and carried vector clocks that
 * contradict causality or regress within a source.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/ctx.h"
#include "core/event.h"
#include "core/vclock.h"
#include "core/xmalloc.h"

static const struct obs *first_with_time(const struct proc *p, int n)
{
    int i;

    for (i = p->nodes[n].first; i >= 0; i = p->obs[i].next)
        if (p->obs[i].time_us != ES_TIME_NONE)
            return &p->obs[i];
    return NULL;
}

static const struct obs *first_with_vclock(const struct proc *p, int n)
{
    int i;

    for (i = p->nodes[n].first; i >= 0; i = p->obs[i].next)
        if (p->obs[i].vclock && p->obs[i].vclock[0])
            return &p->obs[i];
    return NULL;
}

static const char *tname(const struct obs *o)
{
    return o->type ? o->type : "event";
}

static void time_before_cause(struct actx *a, struct proc *p, int e, int c)
{
    const struct obs *eo = first_with_time(p, e), *co = first_with_time(p, c);
    struct skew_sample *s;
    char detail[160];

    if (eo == NULL || co == NULL || eo->time_us >= co->time_us)
        return;
    s = ACTX_PUSH(a->skews, a->nskews, a->capskews);
    s->cause_src = co->src_ix;
    s->effect_src = eo->src_ix;
    s->diff_us = co->time_us - eo->time_us;
    snprintf(detail, sizeof detail, "{\"skew_us\":%" PRId64 "}", s->diff_us);
    actx_finding(a, FINDING_ORD_TIME, NULL, eo->correlation_id, eo->seq, co->seq, detail,
                 "%s from %s is timestamped %.3f ms before its cause %s from %s: clock skew "
                 "between the two sources",
                 tname(eo), actx_source_name(a, eo->src_ix), (double)s->diff_us / 1000.0, tname(co),
                 actx_source_name(a, co->src_ix));
}

static void delivered_before_cause(struct actx *a, struct proc *p, int e, int c)
{
    int i, j, k;

    for (i = p->nodes[e].first; i >= 0; i = p->obs[i].next) {
        const struct obs *eo = &p->obs[i];
        int seen = 0;
        for (k = p->nodes[e].first; k != i; k = p->obs[k].next)
            if (p->obs[k].origin == eo->origin)
                seen = 1;
        if (seen)
            continue; /* only the effect's first sighting at each origin */
        for (j = p->nodes[c].first; j >= 0; j = p->obs[j].next) {
            const struct obs *co = &p->obs[j];
            if (co->origin != eo->origin)
                continue;
            if (co->seq > eo->seq) {
                actx_finding(a, FINDING_ORD_DELIVERED, NULL, eo->correlation_id, eo->seq, co->seq,
                             NULL,
                             "%s was observed before its cause %s at the same vantage point "
                             "(%s then %s)",
                             tname(eo), tname(co), eo->dir == OBS_DELIVER ? "delivered" : "seen",
                             co->dir == OBS_DELIVER ? "cause delivered" : "cause seen");
                return; /* one finding per causal edge */
            }
            break; /* the cause's first sighting here came first: fine */
        }
    }
}

static const char *order_name(enum vclock_order o)
{
    switch (o) {
    case VCLOCK_EQUAL:
        return "equal to";
    case VCLOCK_BEFORE:
        return "before";
    case VCLOCK_AFTER:
        return "after";
    default:
        return "concurrent with";
    }
}

/*
 * Stored clocks are canonical ({"a":1,"b":2}: keys sorted, no escapes), so most compare
 * without parsing into allocations. Anything else goes through core/vclock.
 */
#define QCLOCK_MAX 64

struct qclock {
    const char *k[QCLOCK_MAX];
    size_t klen[QCLOCK_MAX];
    uint64_t v[QCLOCK_MAX];
    size_t n;
};

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return (alen > blen) - (alen < blen);
}

static int qclock_parse(const char *s, struct qclock *q)
{
    size_t i = 0;

    q->n = 0;
    if (s[i++] != '{')
        return 0;
    if (s[i] == '}')
        return s[i + 1] == '\0';
    for (;;) {
        size_t k0;
        uint64_t v = 0;
        int digits = 0;
        if (s[i++] != '"' || q->n == QCLOCK_MAX)
            return 0;
        k0 = i;
        while (s[i] && s[i] != '"' && s[i] != '\\')
            i++;
        if (s[i] != '"')
            return 0;
        q->k[q->n] = s + k0;
        q->klen[q->n] = i - k0;
        i++;
        if (s[i++] != ':')
            return 0;
        while (s[i] >= '0' && s[i] <= '9' && digits < 19)
            v = v * 10 + (uint64_t)(s[i++] - '0'), digits++;
        if (digits == 0)
            return 0;
        if (q->n > 0 && key_cmp(q->k[q->n - 1], q->klen[q->n - 1], q->k[q->n], q->klen[q->n]) >= 0)
            return 0; /* not canonical */
        q->v[q->n++] = v;
        if (s[i] == '}')
            return s[i + 1] == '\0';
        if (s[i++] != ',')
            return 0;
    }
}

static enum vclock_order qclock_compare(const struct qclock *a, const struct qclock *b)
{
    size_t i = 0, j = 0;
    int less = 0, more = 0;

    while (i < a->n || j < b->n) {
        int c = i >= a->n ? 1 : j >= b->n ? -1 : key_cmp(a->k[i], a->klen[i], b->k[j], b->klen[j]);
        uint64_t x = c <= 0 ? a->v[i] : 0, y = c >= 0 ? b->v[j] : 0;
        if (x < y)
            less = 1;
        if (x > y)
            more = 1;
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
    }
    if (less && more)
        return VCLOCK_CONCURRENT;
    return less ? VCLOCK_BEFORE : more ? VCLOCK_AFTER : VCLOCK_EQUAL;
}

/* Compares two clock texts; 0 when either does not parse. */
static int clock_order(const char *x, const char *y, enum vclock_order *out)
{
    struct qclock qa, qb;
    struct vclock va, vb;
    int ok;

    if (qclock_parse(x, &qa) && qclock_parse(y, &qb)) {
        *out = qclock_compare(&qa, &qb);
        return 1;
    }
    vclock_init(&va);
    vclock_init(&vb);
    ok = vclock_parse(&va, x, strlen(x)) == ES_OK && vclock_parse(&vb, y, strlen(y)) == ES_OK;
    if (ok)
        *out = vclock_compare(&va, &vb);
    vclock_done(&va);
    vclock_done(&vb);
    return ok;
}

static void vclock_edge(struct actx *a, struct proc *p, int e, int c)
{
    const struct obs *eo = first_with_vclock(p, e), *co = first_with_vclock(p, c);
    enum vclock_order ord;

    if (eo == NULL || co == NULL || !clock_order(eo->vclock, co->vclock, &ord))
        return;
    if (ord != VCLOCK_AFTER)
        actx_finding(a, FINDING_ORD_VCLOCK, NULL, eo->correlation_id, eo->seq, co->seq, NULL,
                     "vector clock of %s %.120s is %s its cause's %.120s: it must dominate",
                     tname(eo), eo->vclock, order_name(ord), co->vclock);
}

/* ---- per partition key: sequence / offset regressions ---------------------- */

struct part_entry {
    uint64_t group; /* partition key + scope + vantage */
    int64_t seq;
    uint64_t value;
    uint64_t idh;
    int obs;
};

static int cmp_part(const void *x, const void *y)
{
    const struct part_entry *a = x, *b = y;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

static uint64_t str_h(const char *s)
{
    return s ? event_hash(s, strlen(s)) : 1;
}

static void partition_regression(struct actx *a, struct proc *p)
{
    struct part_entry *v = NULL;
    size_t n = 0, cap = 0, i, j;

    for (i = 0; i < p->nobs; i++) {
        const struct obs *o = &p->obs[i];
        const char *key = o->partition_key ? o->partition_key : o->subject;
        struct part_entry *pe;
        uint64_t g;
        if (key == NULL || (!o->has_seqnum && o->offset < 0))
            continue;
        g = mix(str_h(key), (uint64_t)o->origin);
        g = mix(g, o->dir);
        if (o->has_seqnum)
            g = mix(mix(g, 1), str_h(o->source)); /* a producer's own numbering */
        else
            g = mix(mix(mix(g, 2), str_h(o->channel)), (uint64_t)o->partition);
        pe = ACTX_PUSH(v, n, cap);
        pe->group = g;
        pe->seq = o->seq;
        pe->value = o->has_seqnum ? o->seqnum : (uint64_t)o->offset;
        pe->idh = o->idh;
        pe->obs = (int)i;
    }
    if (n > 0)
        qsort(v, n, sizeof *v, cmp_part);
    for (i = 0; i < n; i = j) {
        size_t max = i;
        for (j = i + 1; j < n && v[j].group == v[i].group; j++) {
            size_t k;
            int again = 0;
            for (k = (j > i + 64 ? j - 64 : i); k < j; k++)
                if (v[k].idh && v[k].idh == v[j].idh)
                    again = 1;
            if (again)
                continue; /* the same event again: a duplicate, not disorder */
            if (v[j].value <= v[max].value) {
                const struct obs *o = &p->obs[v[j].obs], *m = &p->obs[v[max].obs];
                const char *key = o->partition_key ? o->partition_key : o->subject;
                actx_finding(a, FINDING_ORD_PARTITION, NULL, o->correlation_id, o->seq, m->seq,
                             NULL, "%s %s %" PRIu64 " %s after %" PRIu64 " within partition key %s",
                             tname(o), o->has_seqnum ? "sequence" : "offset", v[j].value,
                             v[j].value == v[max].value ? "repeats" : "comes", v[max].value, key);
            } else {
                max = j;
            }
        }
    }
    free(v);
}

/* Carried clocks of one source's own events must grow in the order it emitted them. */
static void vclock_regression(struct actx *a, struct proc *p)
{
    size_t i, j;

    for (i = 0; i < p->nnodes; i++) {
        const struct obs *o = first_with_vclock(p, (int)i), *prev = NULL;
        enum vclock_order ord;
        if (o == NULL || o->dir == OBS_DELIVER)
            continue;
        /* The latest earlier event of the same source at the same origin. */
        for (j = 0; j < p->nnodes; j++) {
            const struct obs *q = first_with_vclock(p, (int)j);
            if (j == i || q == NULL || q->dir == OBS_DELIVER || q->src_ix != o->src_ix ||
                q->origin != o->origin || q->seq >= o->seq)
                continue;
            if (prev == NULL || q->seq > prev->seq)
                prev = q;
        }
        if (prev == NULL)
            continue;
        if (clock_order(o->vclock, prev->vclock, &ord) &&
            (ord == VCLOCK_BEFORE || ord == VCLOCK_EQUAL))
            actx_finding(a, FINDING_ORD_VCLOCK, NULL, o->correlation_id, o->seq, prev->seq, NULL,
                         "vector clock of %s %.120s regresses: %s the earlier %s %.120s of the "
                         "same source",
                         tname(o), o->vclock, order_name(ord), tname(prev), prev->vclock);
    }
}

void check_ordering_process(struct actx *a, struct proc *p)
{
    size_t i;

    for (i = 0; i < p->nnodes; i++) {
        int c = p->nodes[i].cause;
        if (c < 0 || c == (int)i || p->nodes[i].mark == NODE_IN_CYCLE)
            continue;
        time_before_cause(a, p, (int)i, c);
        delivered_before_cause(a, p, (int)i, c);
        vclock_edge(a, p, (int)i, c);
    }
    partition_regression(a, p);
    if (p->nnodes <= 4096)
        vclock_regression(a, p);
    /*
     * Sequence numbers per source, judged once the whole store is read: one entry per event
     * (its first numbered sighting), so memory follows events, not observations.
     */
    for (i = 0; i < p->nnodes; i++) {
        const struct obs *o = NULL;
        struct source_stat *s;
        struct seq_entry *e;
        int k;
        for (k = p->nodes[i].first; k >= 0 && o == NULL; k = p->obs[k].next)
            if (p->obs[k].has_seqnum)
                o = &p->obs[k];
        if (o == NULL)
            continue;
        s = &a->sources[o->src_ix];
        e = ACTX_PUSH(s->seqs, s->nseqs, s->capseqs);
        e->value = o->seqnum;
        e->idh = o->idh;
        e->keyh = str_h(o->partition_key ? o->partition_key : o->subject);
        e->seq = o->seq;
    }
}

static int cmp_seq_value(const void *x, const void *y)
{
    const struct seq_entry *a = x, *b = y;
    if (a->value != b->value)
        return a->value < b->value ? -1 : 1;
    if (a->idh != b->idh)
        return a->idh < b->idh ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static int cmp_seq_key(const void *x, const void *y)
{
    const struct seq_entry *a = x, *b = y;
    if (a->keyh != b->keyh)
        return a->keyh < b->keyh ? -1 : 1;
    return cmp_seq_value(x, y);
}

/*
 * Walks entries sorted by (scope, value, event, seq) in linear time. A run of one value
 * holds one or more events (adjacent groups of one idh, each group's first entry its first
 * sighting); the run's holder is the earliest sighting. Returns the number of events that
 * repeat a value; reports repeats and gaps when report is set.
 */
static size_t walk_sequences(struct actx *a, const struct source_stat *s, int per_key, int report)
{
    size_t i = 0, repeats = 0, prev_holder = SIZE_MAX;

    while (i < s->nseqs) {
        size_t end = i, holder = i, k;
        const struct seq_entry *e = &s->seqs[i];
        if (per_key && prev_holder != SIZE_MAX && s->seqs[prev_holder].keyh != e->keyh)
            prev_holder = SIZE_MAX; /* a new scope */
        while (end < s->nseqs && s->seqs[end].value == e->value &&
               (!per_key || s->seqs[end].keyh == e->keyh)) {
            if (s->seqs[end].seq < s->seqs[holder].seq)
                holder = end;
            end++;
        }
        for (k = i; k < end; k++) {
            if (k > i && s->seqs[k].idh == s->seqs[k - 1].idh)
                continue; /* one more sighting of the same event */
            if (s->seqs[k].idh == s->seqs[holder].idh)
                continue;
            repeats++;
            if (report)
                actx_finding(a, FINDING_ORD_GAP, NULL, NULL, s->seqs[k].seq, s->seqs[holder].seq,
                             NULL,
                             "sequence %" PRIu64 " of source %s repeats: two different events "
                             "carry it",
                             e->value, s->name ? s->name : "(none)");
        }
        if (report && prev_holder != SIZE_MAX && e->value > s->seqs[prev_holder].value + 1) {
            const struct seq_entry *ph = &s->seqs[prev_holder];
            char detail[96];
            snprintf(detail, sizeof detail, "{\"from\":%" PRIu64 ",\"to\":%" PRIu64 "}", ph->value,
                     e->value);
            actx_finding(
                a, FINDING_ORD_GAP, NULL, NULL, s->seqs[holder].seq, ph->seq, detail,
                "sequence of source %s jumps from %" PRIu64 " to %" PRIu64 " (%" PRIu64 " missing)",
                s->name ? s->name : "(none)", ph->value, e->value, e->value - ph->value - 1);
        }
        prev_holder = holder;
        i = end;
    }
    return repeats;
}

void check_ordering_finish(struct actx *a)
{
    size_t i, distinct;

    for (i = 0; i < a->nsources && a->rc == ES_OK; i++) {
        struct source_stat *s = &a->sources[i];
        size_t repeats, k;
        if (s->nseqs == 0)
            continue;
        qsort(s->seqs, s->nseqs, sizeof *s->seqs, cmp_seq_value); /* nseqs > 0 */
        for (distinct = 1, k = 1; k < s->nseqs; k++)
            distinct += s->seqs[k].value != s->seqs[k - 1].value;
        repeats = walk_sequences(a, s, 0, 0);
        /*
         * CloudEvents scopes sequence to the source; a source numbering per aggregate
         * instead repeats values all the time: judge it per partition key then.
         */
        if (repeats * 10 > distinct) {
            qsort(s->seqs, s->nseqs, sizeof *s->seqs, cmp_seq_key);
            walk_sequences(a, s, 1, 1);
        } else {
            walk_sequences(a, s, 0, 1);
        }
    }
}
