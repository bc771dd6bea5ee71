/*
 * Metadata checks: missing envelope attributes (per observation), producer times that do
 * not parse or lack an offset, causation IDs missing on non-root events (judged after the
 * pass, once each type's share of caused events is known), trace context lost across a
 * causal hop; and the per-source scorecard counters.
 */
#include <stdio.h>
#include <string.h>

#include "analyzer/ctx.h"
#include "core/event.h"
#include "core/timeparse.h"
#include "core/xmalloc.h"

static int present(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static void missing(struct actx *a, const struct obs *o, enum finding_kind k, const char *what)
{
    actx_finding(a, k, NULL, o->correlation_id, o->seq, 0, NULL, "%s%s%s has no %s",
                 o->type ? o->type : "event", o->event_id ? " " : "",
                 o->event_id ? o->event_id : "", what);
}

static void check_time(struct actx *a, const struct obs *o)
{
    int64_t us;
    int flags = 0;

    if (!present(o->time_raw))
        return;
    if (timeparse_text(o->time_raw, strlen(o->time_raw), &us, &flags) != ES_OK) {
        actx_finding(a, FINDING_BAD_TIME, NULL, o->correlation_id, o->seq, 0, NULL,
                     "time \"%.80s\" of %s is not a timestamp (use RFC 3339 with an offset)",
                     o->time_raw, o->type ? o->type : "event");
        return;
    }
    if (flags & TIMEPARSE_NO_ZONE)
        actx_finding(a, FINDING_ZONELESS, NULL, o->correlation_id, o->seq, 0, NULL,
                     "time \"%.80s\" of %s has no UTC offset: read as UTC, add 'Z' or +hh:mm",
                     o->time_raw, o->type ? o->type : "event");
}

/* The first observation of node n carrying a trace-id, or NULL. */
static const struct obs *traced(const struct proc *p, int n)
{
    int i;

    for (i = p->nodes[n].first; i >= 0; i = p->obs[i].next)
        if (p->obs[i].traceh)
            return &p->obs[i];
    return NULL;
}

void check_metadata_process(struct actx *a, struct proc *p)
{
    size_t i;

    for (i = 0; i < p->nobs; i++) {
        const struct obs *o = &p->obs[i];
        struct source_stat *s = &a->sources[o->src_ix];
        int has_time = present(o->time_raw) || o->time_us != ES_TIME_NONE;

        s->events++;
        s->with[ANALYZER_ATTR_ID] += o->event_id != NULL;
        s->with[ANALYZER_ATTR_TYPE] += o->type_ix != NONE_IX;
        s->with[ANALYZER_ATTR_SOURCE] += present(o->source);
        s->with[ANALYZER_ATTR_TIME] += has_time;
        s->with[ANALYZER_ATTR_CORRELATION] += present(o->correlation_id);
        s->with[ANALYZER_ATTR_CAUSATION] += o->causation_id != NULL;
        s->with[ANALYZER_ATTR_SUBJECT] += present(o->subject);
        s->with[ANALYZER_ATTR_SEQUENCE] += present(o->sequence);
        s->with[ANALYZER_ATTR_VCLOCK] += present(o->vclock);
        s->with[ANALYZER_ATTR_TRACEPARENT] += o->traceh != 0;

        if (o->event_id == NULL)
            missing(a, o, FINDING_MISS_ID, "id: consumers cannot deduplicate it");
        if (o->type_ix == NONE_IX)
            missing(a, o, FINDING_MISS_TYPE, "type");
        if (!present(o->source))
            missing(a, o, FINDING_MISS_SOURCE, "source (producer)");
        if (!has_time)
            missing(a, o, FINDING_MISS_TIME, "time");
        if (!present(o->correlation_id))
            missing(a, o, FINDING_MISS_CORR, "correlation ID: it belongs to no process");
        check_time(a, o);
        if (o->type_ix != NONE_IX) {
            struct type_stat *t = &a->types[o->type_ix];
            t->count++;
            t->with_cause += o->causation_id != NULL;
        }
        if (o->causation_id == NULL && o->type_ix != NONE_IX) {
            struct cause_candidate *c = ACTX_PUSH(a->cands, a->ncands, a->capcands);
            c->seq = o->seq;
            c->type_ix = o->type_ix;
        }
    }

    /* Trace context: a causal hop whose two ends carry different trace-ids. */
    for (i = 0; i < p->nnodes; i++) {
        const struct obs *e, *c;
        int cause = p->nodes[i].cause;
        if (cause < 0 || cause == (int)i || p->nodes[i].mark == NODE_IN_CYCLE)
            continue;
        e = traced(p, (int)i);
        c = traced(p, cause);
        if (e && c && e->traceh != c->traceh)
            actx_finding(a, FINDING_TRACE_BROKEN, NULL, e->correlation_id, e->seq, c->seq, NULL,
                         "%s starts a new trace although its cause %s continues the process: "
                         "the hop lost the traceparent",
                         e->type ? e->type : "event", c->type ? c->type : "event");
    }
}

void check_metadata_finish(struct actx *a)
{
    size_t i;

    for (i = 0; i < a->ncands; i++) {
        const struct cause_candidate *c = &a->cands[i];
        const struct type_stat *t = &a->types[c->type_ix];
        double share = t->count ? (double)t->with_cause / (double)t->count : 0;
        if (analyzer_config_has_type(&a->cfg->root_types, t->name))
            continue;
        if (t->with_cause == 0 || share < a->cfg->root_share)
            continue; /* a root type: its events start processes */
        actx_finding(a, FINDING_MISS_CAUSE, NULL, NULL, c->seq, 0, NULL,
                     "%s has no causation ID, though %.0f%% of %s events carry one (not a root "
                     "type)",
                     t->name, share * 100, t->name);
    }
}
