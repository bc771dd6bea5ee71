/*
 * Parallel decoding of capture files (par.h).
 *
 * Rounds. The reading thread fills one round at a time: per worker, the segments of its
 * connections (headers and payload copied, since the file buffer moves on) and the idle
 * sweeps; its own rejects (link, IP) go to the round's front list. A full round (PAR_PACKETS
 * packets or PAR_BYTES of payload) is handed to every worker at once; up to PAR_RING rounds
 * are in flight, so reading, decoding and delivering overlap.
 *
 * Order. Every output carries the frame it arose at (kmaj) and whether it came from the
 * sweep before that frame (kmin 0) or the frame itself (kmin 1); the reading thread merges
 * the front list and the workers' lists of a finished round by that key, front first on a
 * tie, then by worker. One connection's outputs stay in its worker's order, and the merged
 * stream is the order a single thread produces, but for two things that are per worker:
 *   - idle sweeps happen where one table would have swept (the reader decides, with
 *     tcp_sweep_due, and tells every worker), but a sweep's closings come worker by worker
 *     instead of least recently active first over all connections;
 *   - limits: each worker tracks max_flows / n connections and buffers total_mem / n.
 * End of capture closes connections least recently active first over all workers (the key
 * is the frame of a connection's last packet), as one table does.
 */
#include "collector/pcap/par.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define PAR_RING 4               /* rounds in flight: filling, decoding, delivering */
#define PAR_PACKETS 8192u        /* packets per round (EVENTSCOPE_ROUND_PACKETS: tests) */
#define PAR_BYTES (4u << 20)     /* payload bytes per round */
#define KEY_END UINT64_MAX       /* kmaj of the closings at the end of the capture */

enum { IN_PKT, IN_SWEEP, IN_FINISH };

/* One input of a worker. */
struct pin {
    uint64_t frame;
    int64_t ts;
    size_t off, len, wire_len; /* payload: bytes [off, off + len) of the round's buffer */
    uint32_t seq;
    uint16_t sport, dport;
    uint8_t kind, flags, v6;
    uint8_t src[16], dst[16];
};

/*
 * A worker's share of one round: the reading thread writes its input, the worker its
 * output, each on cache lines of their own (neighbouring rounds' slots are in use by the
 * other thread at the same time).
 */
struct slot {
    _Alignas(XMALLOC_LINE) struct pin *in;
    size_t nin, capin;
    uint8_t *bytes;
    size_t nbytes, capbytes;
    _Alignas(XMALLOC_LINE) struct pout_list out;
    struct pcapsrc_stats st; /* the worker's counters when it finished the round */
};

struct worker {
    struct slot slot[PAR_RING];
    /* the reading thread's: counters already added to the front's (a line of their own) */
    _Alignas(XMALLOC_LINE) struct pcapsrc_stats last;
    _Alignas(XMALLOC_LINE) struct par *p;
    pthread_t th;
    struct pcapsrc *ps; /* its own TCP table and decoders */
    uint64_t done;      /* rounds finished (under p->mu) */
};

struct par {
    struct pcapsrc *front;
    unsigned n;
    struct worker *w;
    struct pout_list fout[PAR_RING]; /* the front's own rejects, per round */
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    uint64_t submitted;              /* rounds handed to the workers (under mu) */
    uint64_t merged;                 /* rounds delivered (reading thread only) */
    int quit;
    unsigned started;                /* threads running */
    size_t round_packets, round_bytes;
    size_t max_packets;              /* per round */
    int64_t last_sweep;
    int finished;
};

/*
 * Room for need more elements of elem bytes after the used ones of array p (*cap of them,
 * doubled, first when empty); returns the array, moved or not.
 */
static void *room(void *p, size_t *cap, size_t used, size_t need, size_t elem, size_t first)
{
    if (*cap - used >= need)
        return p;
    while (*cap - used < need)
        *cap = *cap ? *cap * 2 : first;
    return xreallocarray(p, *cap, elem);
}

/* ------------------------------------------------------------------------------------
 * Output lists
 */

static struct pout *pout_push(struct pout_list *l, uint64_t kmaj, uint64_t kmin)
{
    struct pout *o;

    l->v = room(l->v, &l->cap, l->n, 1, sizeof *l->v, 256);
    o = &l->v[l->n++];
    memset(o, 0, sizeof *o);
    o->kmaj = kmaj;
    o->kmin = kmin;
    o->off = l->nbytes;
    return o;
}

/* Appends n bytes and a NUL to l's bytes; returns n, or UINT32_MAX for s NULL. */
static uint32_t put_bytes(struct pout_list *l, const void *s, size_t n)
{
    if (s == NULL)
        return UINT32_MAX;
    if (n >= UINT32_MAX)
        n = UINT32_MAX - 1; /* (a field is at most the 64 MiB of a body and its escapes) */
    l->bytes = room(l->bytes, &l->capbytes, l->nbytes, n + 1, 1, 1u << 16);
    memcpy(l->bytes + l->nbytes, s, n);
    l->bytes[l->nbytes + n] = '\0';
    l->nbytes += n + 1;
    return (uint32_t)n;
}

static uint32_t put_str(struct pout_list *l, const char *s)
{
    return put_bytes(l, s, s ? strlen(s) : 0);
}

/* The strings of o, in order (NULL for an absent one). */
static void get_strs(const struct pout_list *l, const struct pout *o, const char **v, size_t n)
{
    const char *p = l->bytes + o->off;
    size_t i;

    for (i = 0; i < n; i++) {
        v[i] = o->len[i] == UINT32_MAX ? NULL : p;
        if (v[i] != NULL)
            p += o->len[i] + 1;
    }
}

int pout_event(struct pout_list *l, uint64_t kmaj, uint64_t kmin, const struct event *ev)
{
    struct pout *o = pout_push(l, kmaj, kmin);
    size_t i = 0;

    o->is_event = 1;
#define X(f) o->len[i++] = put_str(l, ev->f);
    EVENT_STR_FIELDS(X)
#undef X
    o->time_us = ev->time_us;
    o->observed_us = ev->observed_us;
    o->payload_hash = ev->payload_hash;
    if (ev->location)
        o->loc_hash = event_hash(l->bytes + o->off, o->len[0]);
    return ES_OK;
}

void pout_get_event(const struct pout_list *l, const struct pout *o, struct event *ev)
{
    const char *v[POUT_NFIELDS];
    size_t i = 0;

    get_strs(l, o, v, POUT_NFIELDS);
    event_init(ev);
#define X(f) ev->f = (char *)v[i++];
    EVENT_STR_FIELDS(X)
#undef X
    ev->time_us = o->time_us;
    ev->observed_us = o->observed_us;
    ev->payload_hash = o->payload_hash;
}

int pout_reject(struct pout_list *l, uint64_t kmaj, uint64_t kmin, uint64_t first,
                uint64_t last, const char *reason, const char *detail, const void *excerpt,
                size_t excerpt_len)
{
    struct pout *o = pout_push(l, kmaj, kmin);

    o->first = first;
    o->last = last;
    o->len[0] = put_str(l, reason ? reason : "");
    o->len[1] = put_str(l, detail);
    o->len[2] = put_bytes(l, excerpt_len > 0 ? excerpt : NULL, excerpt_len);
    return ES_OK;
}

void pout_get_reject(const struct pout_list *l, const struct pout *o, const char **reason,
                     const char **detail, const void **excerpt, size_t *excerpt_len)
{
    const char *v[3];

    get_strs(l, o, v, 3);
    *reason = v[0];
    *detail = v[1];
    *excerpt = v[2];
    *excerpt_len = v[2] ? o->len[2] : 0;
}

static void list_clear(struct pout_list *l)
{
    l->n = 0;
    l->nbytes = 0;
}

static void list_free(struct pout_list *l)
{
    free(l->v);
    free(l->bytes);
}

/* ------------------------------------------------------------------------------------
 * Workers
 */

static struct pin *pin_push(struct slot *s, int kind, uint64_t frame, int64_t ts)
{
    struct pin *in;

    s->in = room(s->in, &s->capin, s->nin, 1, sizeof *s->in, 1024);
    in = &s->in[s->nin++];
    memset(in, 0, sizeof *in);
    in->kind = (uint8_t)kind;
    in->frame = frame;
    in->ts = ts;
    return in;
}

static int run_finish(struct worker *w, struct slot *s)
{
    struct tcp *t = pcapsrc_tcp(w->ps);
    uint64_t frame;
    int rc = ES_OK;

    while (rc == ES_OK && tcp_oldest(t, &frame)) {
        pcapsrc_set_output(w->ps, &s->out, KEY_END, frame);
        rc = tcp_close_oldest(t);
    }
    return rc;
}

/*
 * The reading thread wrote a round's input on its core: a worker asks for a segment's
 * bytes a few segments ahead, so that fetching them overlaps the decoding before.
 */
#define PAR_AHEAD 4

static void prefetch_pin(const struct slot *s, const struct pin *in)
{
#if defined(__GNUC__)
    size_t k;

    __builtin_prefetch(in);
    if (in->len == 0)
        return; /* (bytes may still be NULL) */
    for (k = 0; k < in->len && k < 512; k += 64)
        __builtin_prefetch(s->bytes + in->off + k);
#else
    (void)s;
    (void)in;
#endif
}

static void run_slot(struct worker *w, struct slot *s)
{
    static const uint8_t none[1];
    struct tcp *t = pcapsrc_tcp(w->ps);
    size_t i;
    int rc = ES_OK;

    for (i = 0; i < s->nin && rc == ES_OK; i++) {
        const struct pin *in = &s->in[i];
        struct tcp_pkt pk;

        if (i + PAR_AHEAD < s->nin)
            prefetch_pin(s, &s->in[i + PAR_AHEAD]);
        switch (in->kind) {
        case IN_PKT:
            pcapsrc_set_output(w->ps, &s->out, in->frame, 1);
            memset(&pk, 0, sizeof pk);
            pk.v6 = in->v6;
            pk.src = in->src;
            pk.dst = in->dst;
            pk.sport = in->sport;
            pk.dport = in->dport;
            pk.seq = in->seq;
            pk.flags = in->flags;
            pk.data = in->len > 0 ? s->bytes + in->off : none; /* (bytes NULL: none yet) */
            pk.len = in->len;
            pk.wire_len = in->wire_len;
            pk.frame = in->frame;
            pk.ts = in->ts;
            rc = tcp_segment(t, &pk);
            break;
        case IN_SWEEP:
            pcapsrc_set_output(w->ps, &s->out, in->frame, 0);
            rc = tcp_sweep(t, in->ts);
            break;
        default:
            rc = run_finish(w, s);
        }
    }
    /* outputs go to lists, which cannot fail: rc is ES_OK (kept for the contract) */
    (void)rc;
    pcapsrc_set_output(w->ps, NULL, 0, 0);
    s->nin = 0;
    s->nbytes = 0;
    s->st = *pcapsrc_stats(w->ps);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct par *p = w->p;

#ifdef __linux__
    (void)pthread_setname_np(pthread_self(), "es-decode"); /* for top -H, perf */
#endif
    pthread_mutex_lock(&p->mu);
    for (;;) {
        uint64_t r;
        while (!p->quit && w->done == p->submitted)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->quit)
            break;
        r = w->done;
        pthread_mutex_unlock(&p->mu);
        run_slot(w, &w->slot[r % PAR_RING]);
        pthread_mutex_lock(&p->mu);
        w->done++;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ------------------------------------------------------------------------------------
 * Rounds
 */

static size_t cur(const struct par *p)
{
    return (size_t)(p->submitted % PAR_RING);
}

struct pout_list *par_front_list(struct par *p)
{
    return p->finished ? NULL : &p->fout[cur(p)];
}

void par_segment(struct par *p, const struct tcp_pkt *pk)
{
    struct slot *s;
    struct pin *in;
    size_t n = pk->v6 ? 16 : 4;
    unsigned i;

    if (tcp_sweep_due(&p->last_sweep, pk->ts))
        for (i = 0; i < p->n; i++)
            (void)pin_push(&p->w[i].slot[cur(p)], IN_SWEEP, pk->frame, pk->ts);
    s = &p->w[tcp_shard(pk, p->n)].slot[cur(p)];
    in = pin_push(s, IN_PKT, pk->frame, pk->ts);
    in->v6 = (uint8_t)pk->v6;
    memcpy(in->src, pk->src, n);
    memcpy(in->dst, pk->dst, n);
    in->sport = pk->sport;
    in->dport = pk->dport;
    in->seq = pk->seq;
    in->flags = pk->flags;
    in->len = pk->len;
    in->wire_len = pk->wire_len;
    s->bytes = room(s->bytes, &s->capbytes, s->nbytes, pk->len, 1, 1u << 16);
    in->off = s->nbytes;
    if (pk->len > 0)
        memcpy(s->bytes + s->nbytes, pk->data, pk->len);
    s->nbytes += pk->len;
    p->round_bytes += pk->len;
}

static int round_done(struct par *p, uint64_t r) /* under mu */
{
    unsigned i;

    for (i = 0; i < p->n; i++)
        if (p->w[i].done <= r)
            return 0;
    return 1;
}

static int key_less(const struct pout *a, const struct pout *b)
{
    return a->kmaj != b->kmaj ? a->kmaj < b->kmaj : a->kmin < b->kmin;
}

/* Delivers round r's outputs (front list, then the workers', merged by key). */
static int merge_round(struct par *p, size_t r)
{
    struct pout_list *lists[1 + 64];
    size_t pos[1 + 64], nl = 1 + p->n, i;
    int rc = ES_OK;

    lists[0] = &p->fout[r];
    for (i = 0; i < p->n; i++) {
        struct worker *w = &p->w[i];
        struct pcapsrc_stats *st = pcapsrc_counters(p->front);
        const struct pcapsrc_stats *now = &w->slot[r].st;
        lists[1 + i] = &w->slot[r].out;
        st->segments += now->segments - w->last.segments;
        st->flows += now->flows - w->last.flows;
        st->messages += now->messages - w->last.messages;
        w->last = *now;
    }
    memset(pos, 0, sizeof pos);
    for (;;) {
        size_t best = nl;
        const struct pout *o;
        for (i = 0; i < nl; i++)
            if (pos[i] < lists[i]->n &&
                (best == nl || key_less(&lists[i]->v[pos[i]], &lists[best]->v[pos[best]])))
                best = i;
        if (best == nl)
            break;
        o = &lists[best]->v[pos[best]++];
        if (rc == ES_OK)
            rc = pcapsrc_deliver(p->front, lists[best], o);
    }
    pcapsrc_loc_pin(p->front);
    for (i = 0; i < nl; i++)
        list_clear(lists[i]);
    return rc;
}

/* Delivers finished rounds; waits while more than `left` rounds are undelivered. */
static int drain(struct par *p, uint64_t left)
{
    int rc = ES_OK, rc2;

    for (;;) {
        int ready;
        pthread_mutex_lock(&p->mu);
        while (p->submitted - p->merged > left && !round_done(p, p->merged))
            pthread_cond_wait(&p->done, &p->mu);
        ready = p->merged < p->submitted && round_done(p, p->merged);
        pthread_mutex_unlock(&p->mu);
        if (!ready)
            return rc;
        rc2 = merge_round(p, (size_t)(p->merged % PAR_RING));
        p->merged++;
        if (rc == ES_OK)
            rc = rc2;
    }
}

static int submit(struct par *p, uint64_t left)
{
    pthread_mutex_lock(&p->mu);
    p->submitted++;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    p->round_packets = 0;
    p->round_bytes = 0;
    return drain(p, left);
}

int par_packet_done(struct par *p)
{
    if (++p->round_packets < p->max_packets && p->round_bytes < PAR_BYTES)
        return ES_OK;
    return submit(p, PAR_RING - 1); /* the next round's slot is free */
}

int par_finish(struct par *p)
{
    unsigned i;

    if (p->finished)
        return ES_OK;
    p->finished = 1;
    for (i = 0; i < p->n; i++)
        (void)pin_push(&p->w[i].slot[cur(p)], IN_FINISH, 0, ES_TIME_NONE);
    return submit(p, 0);
}

/* ------------------------------------------------------------------------------------
 * Life cycle
 */

struct par *par_new(struct pcapsrc *front, struct sink *s, const struct pcapsrc_opts *o,
                    unsigned n)
{
    struct par *p;
    struct pcapsrc_opts co;
    const char *env;
    unsigned i;

    if (n < 2 || n > 64)
        return NULL;
    p = xcalloc(1, sizeof *p);
    p->front = front;
    p->n = n;
    p->last_sweep = ES_TIME_NONE;
    p->max_packets = PAR_PACKETS;
    if ((env = getenv("EVENTSCOPE_ROUND_PACKETS")) != NULL) {
        /* small rounds: the tests' way to many rounds */
        char *end;
        unsigned long v = strtoul(env, &end, 10);
        if (end != env && *end == '\0' && v > 0 && v <= PAR_PACKETS)
            p->max_packets = (size_t)v;
    }
    p->w = xcalloc_line(n, sizeof *p->w);
    co = *o; /* with its defaults (pcapsrc_new) */
    co.threads = 1;
    co.total_mem = co.total_mem / n > 4096 ? co.total_mem / n : 4096;
    co.max_flows = (co.max_flows + n - 1) / n;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    for (i = 0; i < n; i++) {
        p->w[i].p = p;
        p->w[i].ps = pcapsrc_new(s, &co);
        tcp_outside_sweeps(pcapsrc_tcp(p->w[i].ps));
    }
    for (i = 0; i < n; i++) {
        if (pthread_create(&p->w[i].th, NULL, worker_main, &p->w[i]) != 0)
            break;
        p->started++;
    }
    if (p->started < n) {
        par_free(p);
        return NULL;
    }
    return p;
}

void par_free(struct par *p)
{
    unsigned i;
    size_t r;

    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (i = 0; i < p->started; i++)
        pthread_join(p->w[i].th, NULL);
    for (r = 0; r < PAR_RING; r++)
        list_free(&p->fout[r]);
    for (i = 0; i < p->n; i++) {
        struct worker *w = &p->w[i];
        for (r = 0; r < PAR_RING; r++) {
            list_free(&w->slot[r].out);
            free(w->slot[r].in);
            free(w->slot[r].bytes);
        }
        pcapsrc_free(w->ps);
    }
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->w);
    free(p);
}
