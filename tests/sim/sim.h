/*
 * A deterministic simulator of an event-driven shop, for the analyzer's recall test and
 * benchmark. Six services (orders, payments, inventory, shipping, notify, audit) exchange
 * events over broker channels; a broker tap sees every publish, each consumer logs its
 * deliveries. Vector clocks are kept correctly (merge on receive, tick on publish);
 * delivery is at-least-once (random redeliveries), one consumer sometimes gets messages out
 * of order, the inventory host's clock is skewed for a stretch of processes, and payments
 * and inventory react to each order concurrently (fan-out). Every fifth process carries one
 * planted defect; every finding the sim causes, planted or behavioural, is recorded as
 * ground truth (kind + location of the offending observation).
 *
 * Header-only (static functions) so a test and the bench generator can both include it.
 */
#ifndef ES_TEST_SIM_H
#define ES_TEST_SIM_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/store.h"
#include "core/timeparse.h"
#include "core/xmalloc.h"

#define SIM_T0_US 1767225600000000LL /* 2026-01-01T00:00:00Z */
#define SIM_NSVC 6

enum sim_svc { SVC_ORDERS, SVC_PAYMENTS, SVC_INVENTORY, SVC_SHIPPING, SVC_NOTIFY, SVC_AUDIT };
static const char *const sim_svc_name[SIM_NSVC] = {"orders",   "payments", "inventory",
                                                   "shipping", "notify",   "audit"};

/* Planted defects, one per planted process, in rotation. */
enum sim_plant {
    PLANT_NONE,
    PLANT_PRODUCER_RETRY,
    PLANT_COLLISION,
    PLANT_SEMANTIC,
    PLANT_REORDER,
    PLANT_PARTITION,
    PLANT_GAP,
    PLANT_VCLOCK,
    PLANT_ORPHAN,
    PLANT_CYCLE,
    PLANT_CORR_CHANGED,
    PLANT_LOST,
    PLANT_UNPUBLISHED,
    PLANT_NO_ID,
    PLANT_NO_TYPE,
    PLANT_NO_SOURCE,
    PLANT_NO_TIME,
    PLANT_NO_CORR,
    PLANT_NO_CAUSE,
    PLANT_BAD_TIME,
    PLANT_ZONELESS,
    PLANT_TRACE,
    PLANT_COMMAND,
    PLANT_TECHNICAL,
    PLANT_COUNT
};

struct sim_ev {
    char id[48];
    const char *type; /* NULL: missing */
    const char *src;  /* NULL: missing */
    const char *chan;
    char corr[32];   /* "" : missing */
    char cause[48];  /* "" : none */
    int cause_ev;    /* index, -1 */
    int64_t pub_us;  /* true publish time */
    int64_t time_us; /* producer's time (skewed clock), INT64_MIN: none */
    char time_raw[48];
    char data[160];
    char subject[32];
    char seqno[8]; /* "" : none */
    char vclock[200];
    char trace[64]; /* traceparent value */
    int svc;
    int no_vclock_merge; /* planted clock */
};

struct sim_obs {
    int ev;
    int origin;    /* 0 = tap, 1 + svc = that service's consumer log */
    int deliver;   /* 0 publish, 1 deliver */
    int64_t at_us; /* observed */
    int64_t offset;
    int redelivered;
    int order; /* tie-breaker: creation order */
    char loc[32];
};

struct sim_expect {
    const char *kind;
    int obs;
};

struct sim {
    uint64_t rng;
    struct sim_ev *ev;
    size_t nev, capev;
    struct sim_obs *obs;
    size_t nobs, capobs;
    struct sim_expect *exp;
    size_t nexp, capexp;
    int64_t offsets[8]; /* per channel */
    int nproc;
    int with_payload;            /* 0 for the lean bench variant */
    uint64_t serial;             /* events made so far: keeps ids unique across batches */
    uint64_t line[1 + SIM_NSVC]; /* per origin: last location line written */
    uint64_t clock[SIM_NSVC];    /* vector clock of each service, kept across batches */
};

static __attribute__((unused)) uint64_t sim_rand(struct sim *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#define SIM_PUSH(v, n, cap)                                                                        \
    ((n) == (cap) ? ((cap) = (cap) ? 2 * (cap) : 1024,                                             \
                     (v) = xreallocarray((v), (cap), sizeof *(v)), &(v)[(n)++])                    \
                  : &(v)[(n)++])

static __attribute__((unused)) int sim_chan_ix(const char *chan)
{
    static const char *const names[] = {"orders",   "payments", "inventory",
                                        "shipping", "notify",   "audit"};
    int i;
    for (i = 0; i < 6; i++)
        if (strcmp(chan, names[i]) == 0)
            return i;
    return 7;
}

/* A new event published by svc at pub_us (ms after the process start), caused by cause. */
static __attribute__((unused)) int sim_event(struct sim *s, int proc, int svc, const char *type,
                                             const char *chan, int cause, int64_t pub_us,
                                             int64_t skew_us)
{
    struct sim_ev *e = SIM_PUSH(s->ev, s->nev, s->capev);
    int ix = (int)(s->nev - 1);

    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%08" PRIx64 "-%04x-%06" PRIu64, sim_rand(s) & 0xffffffffu,
             (unsigned)s->serial & 0xffff, s->serial);
    s->serial++;
    e->type = type;
    e->src = sim_svc_name[svc];
    e->svc = svc;
    e->chan = chan;
    snprintf(e->corr, sizeof e->corr, "ord-%06d", proc);
    e->cause_ev = cause;
    if (cause >= 0)
        snprintf(e->cause, sizeof e->cause, "%s", s->ev[cause].id);
    e->pub_us = pub_us;
    e->time_us = pub_us + skew_us;
    timeparse_format(e->time_us, e->time_raw, sizeof e->time_raw);
    snprintf(e->subject, sizeof e->subject, "ord-%06d", proc);
    if (s->with_payload)
        snprintf(e->data, sizeof e->data,
                 "{\"order\":\"ord-%06d\",\"step\":\"%s\",\"amount\":%d.%02d}", proc, type,
                 (int)(proc % 977), (int)(ix % 100));
    else
        snprintf(e->data, sizeof e->data, "{\"o\":%d,\"i\":%d}", proc, ix);
    snprintf(e->trace, sizeof e->trace, "00-%016" PRIx64 "%016" PRIx64 "-%016" PRIx64 "-01",
             (uint64_t)proc * UINT64_C(0x9e3779b97f4a7c15), (uint64_t)proc + 1, sim_rand(s));
    return ix;
}

static __attribute__((unused)) int sim_obs_add(struct sim *s, int ev, int origin, int deliver,
                                               int64_t at_us)
{
    struct sim_obs *o = SIM_PUSH(s->obs, s->nobs, s->capobs);

    memset(o, 0, sizeof *o);
    o->ev = ev;
    o->origin = origin;
    o->deliver = deliver;
    o->at_us = at_us;
    o->order = (int)(s->nobs - 1);
    o->offset = deliver ? -1 : s->offsets[sim_chan_ix(s->ev[ev].chan)]++;
    return (int)(s->nobs - 1);
}

/* Publishes ev on the tap; returns the publish observation. */
static __attribute__((unused)) int sim_publish(struct sim *s, int ev)
{
    return sim_obs_add(s, ev, 0, 0, s->ev[ev].pub_us);
}

/* Delivers ev to consumer svc after lat_us; copies the publish offset. */
static __attribute__((unused)) int sim_deliver(struct sim *s, int ev, int pub_obs, int svc,
                                               int64_t lat_us)
{
    int o = sim_obs_add(s, ev, 1 + svc, 1, s->ev[ev].pub_us + lat_us);
    s->obs[o].offset = pub_obs >= 0 ? s->obs[pub_obs].offset : -1;
    return o;
}

static __attribute__((unused)) void sim_expect(struct sim *s, const char *kind, int obs)
{
    struct sim_expect *x = SIM_PUSH(s->exp, s->nexp, s->capexp);
    x->kind = kind;
    x->obs = obs;
}

/* At-least-once: occasionally a delivery comes twice (same offset, redelivered flag). */
static __attribute__((unused)) void sim_maybe_redeliver(struct sim *s, int d, int allowed)
{
    int r;
    if (!allowed || sim_rand(s) % 50 != 0)
        return;
    r = sim_obs_add(s, s->obs[d].ev, s->obs[d].origin, 1, s->obs[d].at_us + 90000);
    s->obs[r].offset = s->obs[d].offset;
    s->obs[r].redelivered = 1;
    sim_expect(s, "duplicate.exact", r);
}

/*
 * One order process. Timeline (ms after start): OrderPlaced 0 -> delivered to payments 2,
 * inventory 3, shipping 4; PaymentAuthorised 10 (fan-out, concurrent with StockReserved 11);
 * OrderConfirmed 20; OrderShipped 30; CustomerNotified 40.
 */
static __attribute__((unused)) void sim_process(struct sim *s, int proc, enum sim_plant plant,
                                                int skewed)
{
    int64_t t0 = SIM_T0_US + (int64_t)proc * 20000; /* processes overlap: one every 20 ms */
    int64_t ms = 1000, skew = skewed ? -2000 * ms : 0;
    int clean = plant == PLANT_NONE;
    int op, pa, sr, oc, os, cn, p, d, dshipping_op = -1;
    int p_op, p_pa, p_sr, p_oc, p_os = -1, d_ship_pa, d_ship_sr, d_ship_oc, d_pay_oc;

    op = sim_event(s, proc, SVC_ORDERS, "OrderPlaced", "orders", -1, t0, 0);
    strcpy(s->ev[op].seqno, "1");
    p_op = sim_publish(s, op);
    if (plant == PLANT_PRODUCER_RETRY) {
        p = sim_obs_add(s, op, 0, 0, t0 + 1 * ms / 2);
        s->obs[p].offset = s->offsets[0]++;
        sim_expect(s, "duplicate.exact", p);
    }
    sim_maybe_redeliver(s, sim_deliver(s, op, p_op, SVC_PAYMENTS, 2 * ms), clean);
    sim_maybe_redeliver(s, sim_deliver(s, op, p_op, SVC_INVENTORY, 3 * ms), clean);
    if (plant == PLANT_REORDER)
        dshipping_op = sim_deliver(s, op, p_op, SVC_SHIPPING, 500 * ms);
    else
        sim_maybe_redeliver(s, sim_deliver(s, op, p_op, SVC_SHIPPING, 4 * ms), clean);

    /* Fan-out: payments and inventory react concurrently. */
    pa = sim_event(s, proc, SVC_PAYMENTS, "PaymentAuthorised", "payments", op, t0 + 10 * ms, 0);
    if (plant == PLANT_COLLISION && s->nev > 40) {
        /* Reuse the id of an earlier process's PaymentAuthorised, with other content. */
        size_t k;
        for (k = s->nev - 2; k > 0; k--)
            if (s->ev[k].type && strcmp(s->ev[k].type, "PaymentAuthorised") == 0)
                break;
        memcpy(s->ev[pa].id, s->ev[k].id, sizeof s->ev[pa].id);
    }
    p_pa = sim_publish(s, pa);
    if (plant == PLANT_COLLISION && s->nev > 40)
        sim_expect(s, "duplicate.id_collision", p_pa);
    sim_maybe_redeliver(s, sim_deliver(s, pa, p_pa, SVC_ORDERS, 2 * ms), clean);
    d_ship_pa = sim_deliver(s, pa, p_pa, SVC_SHIPPING, 3 * ms);

    sr = sim_event(s, proc, SVC_INVENTORY, "StockReserved", "inventory", op, t0 + 11 * ms, skew);
    if (plant == PLANT_ORPHAN) {
        snprintf(s->ev[sr].cause, sizeof s->ev[sr].cause, "lost-%06d", proc);
        s->ev[sr].cause_ev = -1;
    }
    p_sr = sim_publish(s, sr);
    if (skewed)
        sim_expect(s, "ordering.time_before_cause", p_sr);
    if (plant == PLANT_ORPHAN)
        sim_expect(s, "causality.orphan", p_sr);
    if (plant == PLANT_LOST) {
        d_ship_sr = -1;
        sim_expect(s, "delivery.unmatched", p_sr);
    } else {
        d_ship_sr = sim_deliver(s, sr, p_sr, SVC_SHIPPING, 3 * ms);
    }
    (void)d_ship_sr;

    if (plant == PLANT_SEMANTIC) {
        /* The payment service retried with a fresh id: same subject and payload. */
        int retry =
            sim_event(s, proc, SVC_PAYMENTS, "PaymentAuthorised", "payments", op, t0 + 12 * ms, 0);
        int pr;
        memcpy(s->ev[retry].data, s->ev[pa].data, sizeof s->ev[pa].data);
        pr = sim_publish(s, retry);
        sim_deliver(s, retry, pr, SVC_ORDERS, 2 * ms);
        sim_deliver(s, retry, pr, SVC_SHIPPING, 3 * ms);
        sim_expect(s, "duplicate.semantic", pr);
    }

    oc = sim_event(s, proc, SVC_ORDERS, "OrderConfirmed", "orders", pa, t0 + 20 * ms, 0);
    strcpy(s->ev[oc].seqno, plant == PLANT_GAP ? "3" : "2");
    p_oc = sim_publish(s, oc);
    if (plant == PLANT_GAP)
        sim_expect(s, "ordering.sequence_gap", p_oc);
    d_pay_oc = sim_deliver(s, oc, p_oc, SVC_PAYMENTS, 2 * ms);
    sim_maybe_redeliver(s, d_pay_oc, clean);
    sim_deliver(s, oc, p_oc, SVC_INVENTORY, 3 * ms);
    d_ship_oc = sim_deliver(s, oc, p_oc, SVC_SHIPPING, 4 * ms);
    (void)d_ship_oc;

    if (plant == PLANT_REORDER) {
        /* shipping gets OrderPlaced last: its effects and a later sequence came first. */
        sim_expect(s, "ordering.delivered_before_cause", d_ship_pa);
        sim_expect(s, "ordering.delivered_before_cause", d_ship_sr);
        sim_expect(s, "ordering.partition_regression", dshipping_op);
    }
    if (plant == PLANT_PARTITION) {
        /* An amendment published with a stale sequence number after OrderConfirmed. */
        int am = sim_event(s, proc, SVC_ORDERS, "OrderAmended", "orders", op, t0 + 25 * ms, 0);
        int pam;
        strcpy(s->ev[am].seqno, "1");
        pam = sim_publish(s, am);
        sim_expect(s, "ordering.partition_regression", pam);
        sim_expect(s, "ordering.sequence_gap", pam); /* 1 repeats within the key */
        sim_expect(s, "ordering.partition_regression",
                   sim_deliver(s, am, pam, SVC_PAYMENTS, 2 * ms));
        sim_expect(s, "ordering.partition_regression",
                   sim_deliver(s, am, pam, SVC_INVENTORY, 3 * ms));
        sim_expect(s, "ordering.partition_regression",
                   sim_deliver(s, am, pam, SVC_SHIPPING, 4 * ms));
    }

    os = sim_event(s, proc, SVC_SHIPPING, "OrderShipped", "shipping", pa, t0 + 30 * ms, 0);
    if (plant == PLANT_VCLOCK)
        s->ev[os].no_vclock_merge = 1;
    if (plant == PLANT_CORR_CHANGED)
        snprintf(s->ev[os].corr, sizeof s->ev[os].corr, "shp-%06d", proc);
    if (plant != PLANT_UNPUBLISHED) {
        p_os = sim_publish(s, os);
        d = sim_deliver(s, os, p_os, SVC_NOTIFY, 2 * ms);
    } else {
        d = sim_deliver(s, os, -1, SVC_NOTIFY, 2 * ms);
        sim_expect(s, "delivery.unmatched", d);
    }
    if (plant == PLANT_VCLOCK)
        sim_expect(s, "ordering.vclock_inconsistent", p_os);
    if (plant == PLANT_CORR_CHANGED)
        sim_expect(s, "causality.correlation_changed", p_os);

    cn = sim_event(s, proc, SVC_NOTIFY, "CustomerNotified", "notify", os, t0 + 40 * ms, 0);
    if (plant == PLANT_CORR_CHANGED)
        memcpy(s->ev[cn].corr, s->ev[os].corr, sizeof s->ev[cn].corr);
    switch (plant) {
    case PLANT_NO_ID:
        s->ev[cn].id[0] = '\0';
        break;
    case PLANT_NO_TYPE:
        s->ev[cn].type = NULL;
        break;
    case PLANT_NO_SOURCE:
        s->ev[cn].src = NULL;
        break;
    case PLANT_NO_TIME:
        s->ev[cn].time_us = INT64_MIN;
        s->ev[cn].time_raw[0] = '\0';
        break;
    case PLANT_NO_CORR:
        s->ev[cn].corr[0] = '\0';
        break;
    case PLANT_NO_CAUSE:
        s->ev[cn].cause[0] = '\0';
        s->ev[cn].cause_ev = -1;
        break;
    case PLANT_BAD_TIME:
        s->ev[cn].time_us = INT64_MIN;
        strcpy(s->ev[cn].time_raw, "yesterday at noon");
        break;
    case PLANT_ZONELESS:
        s->ev[cn].time_raw[strlen(s->ev[cn].time_raw) - 1] = '\0'; /* drop the Z */
        break;
    case PLANT_TRACE:
        memcpy(s->ev[cn].trace + 3, "ffffffffffffffffffffffffffffffff", 32);
        break;
    default:
        break;
    }
    cn = sim_publish(s, cn);
    {
        static const char *const kinds[PLANT_COUNT] = {
            [PLANT_NO_ID] = "metadata.missing_id",
            [PLANT_NO_TYPE] = "metadata.missing_type",
            [PLANT_NO_SOURCE] = "metadata.missing_source",
            [PLANT_NO_TIME] = "metadata.missing_time",
            [PLANT_NO_CORR] = "metadata.missing_correlation_id",
            [PLANT_NO_CAUSE] = "metadata.missing_causation_id",
            [PLANT_BAD_TIME] = "metadata.invalid_time",
            [PLANT_ZONELESS] = "metadata.time_without_zone",
            [PLANT_TRACE] = "metadata.trace_context_broken",
        };
        if (kinds[plant])
            sim_expect(s, kinds[plant], cn);
    }

    if (plant == PLANT_CYCLE) {
        int x1 = sim_event(s, proc, SVC_AUDIT, "AuditNoted", "audit", -1, t0 + 41 * ms, 0);
        int x2 = sim_event(s, proc, SVC_AUDIT, "AuditNoted", "audit", x1, t0 + 42 * ms, 0);
        memcpy(s->ev[x1].cause, s->ev[x2].id, sizeof s->ev[x1].cause);
        s->ev[x1].no_vclock_merge = 1;
        sim_expect(s, "causality.cycle", sim_publish(s, x1));
        sim_expect(s, "causality.cycle", sim_publish(s, x2));
    }
    if (plant == PLANT_COMMAND)
        sim_expect(s, "naming.command_shaped",
                   sim_publish(s, sim_event(s, proc, SVC_NOTIFY, "SendWelcomeEmail", "notify", op,
                                            t0 + 41 * ms, 0)));
    if (plant == PLANT_TECHNICAL)
        sim_expect(s, "naming.technical",
                   sim_publish(s, sim_event(s, proc, SVC_INVENTORY, "RowInserted", "cdc", sr,
                                            t0 + 41 * ms, skew)));
}

static __attribute__((unused)) int sim_cmp_obs(const void *x, const void *y)
{
    const struct sim_obs *a = x, *b = y;
    if (a->at_us != b->at_us)
        return a->at_us < b->at_us ? -1 : 1;
    return a->order - b->order;
}

static __attribute__((unused)) int sim_cmp_pub(const void *x, const void *y, void *ctx)
{
    const struct sim_ev *ev = ctx;
    int a = *(const int *)x, b = *(const int *)y;
    if (ev[a].pub_us != ev[b].pub_us)
        return ev[a].pub_us < ev[b].pub_us ? -1 : 1;
    return a - b;
}

/* Vector clocks in true publish order: merge the cause's clock, tick the publisher's. */
static __attribute__((unused)) void sim_clocks(struct sim *s)
{
    uint64_t *clock = s->clock;
    uint64_t(*vc)[SIM_NSVC] = xcalloc(s->nev ? s->nev : 1, sizeof *vc);
    int *order = xmalloc((s->nev ? s->nev : 1) * sizeof *order);
    size_t i;
    int k;

    for (i = 0; i < s->nev; i++)
        order[i] = (int)i;
    qsort_r(order, s->nev, sizeof *order, sim_cmp_pub, s->ev);
    for (i = 0; i < s->nev; i++) {
        struct sim_ev *e = &s->ev[order[i]];
        char *p = e->vclock;
        size_t left = sizeof e->vclock;
        int first = 1;
        if (e->cause_ev >= 0)
            for (k = 0; k < SIM_NSVC; k++)
                if (vc[e->cause_ev][k] > clock[k])
                    clock[k] = vc[e->cause_ev][k];
        clock[e->svc]++;
        memcpy(vc[order[i]], clock, sizeof vc[0]);
        if (e->no_vclock_merge) {
            /* Planted: the producer sent only its own counter, forgetting the cause's. */
            snprintf(e->vclock, sizeof e->vclock, "{\"%s\":%" PRIu64 "}", sim_svc_name[e->svc],
                     clock[e->svc]);
            continue;
        }
        *p++ = '{', left--;
        /* Keys sorted: inventory, notify, orders, payments, shipping (+ audit first). */
        {
            static const int sorted[SIM_NSVC] = {SVC_AUDIT,  SVC_INVENTORY, SVC_NOTIFY,
                                                 SVC_ORDERS, SVC_PAYMENTS,  SVC_SHIPPING};
            for (k = 0; k < SIM_NSVC; k++) {
                int n;
                if (clock[sorted[k]] == 0)
                    continue;
                n = snprintf(p, left, "%s\"%s\":%" PRIu64, first ? "" : ",",
                             sim_svc_name[sorted[k]], clock[sorted[k]]);
                p += n, left -= (size_t)n;
                first = 0;
            }
        }
        snprintf(p, left, "}");
    }
    free(vc);
    free(order);
}

/* Generates about nevents observations; planted processes every 5th (plants may be 0). */
static __attribute__((unused)) void sim_generate(struct sim *s, uint64_t seed, size_t nevents,
                                                 int plants)
{
    int proc = 0;

    memset(s, 0, sizeof *s);
    s->rng = seed;
    s->with_payload = 1;
    while (s->nobs < nevents) {
        enum sim_plant plant = PLANT_NONE;
        int skewed = 0;
        if (plants && proc % 5 == 4 && proc > 50 && s->nobs + 400 < nevents)
            plant = (enum sim_plant)(1 + (proc / 5) % (PLANT_COUNT - 1));
        if (plants && plant == PLANT_NONE && proc >= 100 && proc < 130)
            skewed = 1; /* the inventory host's clock ran 2 s behind for a while */
        sim_process(s, proc, plant, skewed);
        proc++;
    }
    s->nproc = proc;
    sim_clocks(s);
}

/* Sorts observations by time, names their locations, writes them to st. */
static __attribute__((unused)) int sim_write(struct sim *s, struct store *st)
{
    int64_t origin[1 + SIM_NSVC];
    uint64_t *line = s->line;
    int *where = xmalloc((s->nobs ? s->nobs : 1) * sizeof *where);
    struct sim_expect *x;
    size_t i;
    int k, rc = ES_OK;

    for (k = 0; k < 1 + SIM_NSVC; k++) {
        char uri[32];
        snprintf(uri, sizeof uri, "%s", k == 0 ? "tap" : sim_svc_name[k - 1]);
        if (store_origin(st, k == 0 ? "tap" : "file", uri, &origin[k]) != ES_OK) {
            free(where);
            return ES_ESTORE;
        }
    }
    /* Remember each observation's creation order so expectations follow the sort. */
    qsort(s->obs, s->nobs, sizeof *s->obs, sim_cmp_obs);
    for (i = 0; i < s->nobs; i++)
        where[s->obs[i].order] = (int)i;
    for (x = s->exp; x < s->exp + s->nexp; x++)
        x->obs = where[x->obs];
    free(where);
    for (i = 0; i < s->nobs && rc == ES_OK; i++) {
        struct sim_obs *o = &s->obs[i];
        const struct sim_ev *e = &s->ev[o->ev];
        struct event ev;
        char attrs[256];

        snprintf(o->loc, sizeof o->loc, "%s:%" PRIu64,
                 o->origin == 0 ? "tap" : sim_svc_name[o->origin - 1], ++line[o->origin]);
        event_init(&ev);
        event_set_str(&ev.location, o->loc);
        if (e->id[0])
            event_set_str(&ev.event_id, e->id);
        event_set_str(&ev.type, e->type);
        event_set_str(&ev.source, e->src);
        event_set_str(&ev.subject, e->subject);
        if (e->seqno[0]) {
            event_set_str(&ev.sequence, e->seqno);
            event_set_str(&ev.partition_key, e->subject);
        }
        if (e->time_raw[0])
            event_set_str(&ev.time_raw, e->time_raw);
        ev.time_us = e->time_us == INT64_MIN ? ES_TIME_NONE : e->time_us;
        ev.observed_us = o->at_us;
        if (e->corr[0])
            event_set_str(&ev.correlation_id, e->corr);
        if (e->cause[0])
            event_set_str(&ev.causation_id, e->cause);
        event_set_str(&ev.transport, "kafka");
        event_set_str(&ev.channel, e->chan);
        event_set_str(&ev.direction, o->deliver ? "deliver" : "publish");
        event_set_str(&ev.vclock, e->vclock);
        event_set_str(&ev.data, e->data);
        ev.payload_hash = event_hash(e->data, strlen(e->data));
        snprintf(attrs, sizeof attrs,
                 "{\"offset\":%" PRId64 ",\"partition\":0,%s\"traceparent\":\"%s\"}", o->offset,
                 o->redelivered ? "\"redelivered\":true," : "", e->trace);
        event_set_str(&ev.attrs, attrs);
        rc = store_add_event(st, origin[o->origin], &ev, NULL);
        event_done(&ev);
    }
    if (rc == ES_OK)
        rc = store_commit(st);
    return rc;
}

/* Forgets the events written so far (ids, locations and clocks continue). */
static __attribute__((unused)) void sim_batch_reset(struct sim *s)
{
    s->nev = s->nobs = s->nexp = 0;
}

static __attribute__((unused)) void sim_free(struct sim *s)
{
    free(s->ev);
    free(s->obs);
    free(s->exp);
    memset(s, 0, sizeof *s);
}

#endif
