/*
 * TCP reassembly (RFC 9293 sequence space arithmetic): per connection and direction, the
 * bytes from the next expected sequence number on are appended to a buffer the decoder
 * consumes message by message; segments ahead of it wait in a sorted list. Every byte
 * dropped for a reason other than being a duplicate is reported as a reject.
 */
#include "collector/pcap/tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/pcap/decoders.h"
#include "core/xmalloc.h"

#define TCP_BUCKETS 16384u
#define TCP_PROBE_MAX 4096u /* bytes looked at before giving up on an unknown protocol */
#define TCP_IDLE_CHECK_US 1000000LL

/* ------------------------------------------------------------------------------------
 * Data structures
 */

struct tcp_seg {
    struct tcp_seg *next; /* sorted by sequence number (relative to next_seq) */
    uint32_t seq;
    size_t len;
    uint64_t frame;
    int64_t ts;
    uint8_t data[];
};

struct tcp_fmap {
    uint64_t end;   /* stream offset just past this frame's bytes */
    uint64_t frame;
    int64_t ts;
};

struct tcp_dir {
    int seen;              /* next_seq is known */
    int resync;            /* the decoder must find a message boundary first */
    int fin;               /* FIN seen: stream ends at fin_seq */
    int ended;             /* eof handed to the decoder */
    uint32_t next_seq;     /* next expected sequence number */
    uint32_t fin_seq;
    uint8_t *buf;          /* undecoded bytes are buf[head, head + len) */
    size_t head, len, cap;
    uint64_t base;         /* stream offset of buf[head] */
    struct tcp_fmap *fm;   /* frames of the buffered bytes, fm[fhead, nfm) */
    size_t fhead, nfm, fcap;
    struct tcp_seg *ooo;   /* segments beyond next_seq */
    size_t ooo_bytes;
    uint64_t skipped;      /* bytes skipped while resynchronising */
    uint64_t skip_frame;   /* first frame skipped */
};

enum flow_state { FLOW_UNKNOWN, FLOW_DECODING, FLOW_IGNORED };

struct tcp_flow {
    struct tcp_flow *hnext;         /* hash chain */
    struct tcp_flow *prev, *next;   /* LRU list, most recent first */
    uint8_t key[38];                /* canonical: lower endpoint first */
    int v6;
    uint8_t addr[2][16];            /* [0] client, [1] server */
    uint16_t port[2];
    char name[2][56];               /* "ip:port" of client and server */
    struct tcp_dir d[2];            /* [DEC_TO_SERVER] client->server, [DEC_TO_CLIENT] back */
    enum flow_state state;
    const struct decoder *dec;
    void *dstate;
    int64_t last_ts;                /* capture time of its last timed packet, or NONE */
    uint64_t last_frame;            /* frame of its last packet (the LRU order) */
    int rst;
};

struct tcp {
    struct pcapsrc *ps;
    struct pcapsrc_opts o;
    struct tcp_flow **bucket;
    struct tcp_flow *lru_head, *lru_tail;
    unsigned nflows;
    size_t mem;                 /* buffered bytes over all flows */
    int64_t last_idle_check;    /* capture time of the last sweep, or NONE */
    int outside_sweeps;         /* sweeps come from tcp_sweep only (parallel decoding) */
};

/* ------------------------------------------------------------------------------------
 * Helpers
 */

static int32_t seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

/* The key's hash: eight bytes at a time (a byte-wise FNV was a visible cost per packet). */
static uint64_t key_hash(const uint8_t *key)
{
    uint64_t h = 0x9e3779b97f4a7c15ull, w;
    size_t i;

    for (i = 0; i + 8 <= 38; i += 8) {
        memcpy(&w, key + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, key + i, 38 - i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return h;
}

static uint32_t flow_hash(const uint8_t *key)
{
    return (uint32_t)key_hash(key) & (TCP_BUCKETS - 1);
}

static void endpoint_name(char *buf, size_t len, int v6, const uint8_t *a, uint16_t port)
{
    if (!v6) {
        snprintf(buf, len, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], port);
        return;
    }
    snprintf(buf, len, "[%x:%x:%x:%x:%x:%x:%x:%x]:%u", a[0] << 8 | a[1], a[2] << 8 | a[3],
             a[4] << 8 | a[5], a[6] << 8 | a[7], a[8] << 8 | a[9], a[10] << 8 | a[11],
             a[12] << 8 | a[13], a[14] << 8 | a[15], port);
}

static void make_key(uint8_t *key, int v6, const uint8_t *a, uint16_t ap, const uint8_t *b,
                     uint16_t bp)
{
    size_t n = v6 ? 16 : 4;
    uint8_t ea[18], eb[18];

    memset(key, 0, 38);
    memset(ea, 0, sizeof ea);
    memset(eb, 0, sizeof eb);
    memcpy(ea, a, n);
    ea[16] = (uint8_t)(ap >> 8), ea[17] = (uint8_t)ap;
    memcpy(eb, b, n);
    eb[16] = (uint8_t)(bp >> 8), eb[17] = (uint8_t)bp;
    key[0] = (uint8_t)v6;
    if (memcmp(ea, eb, 18) <= 0) {
        memcpy(key + 2, ea, 18);
        memcpy(key + 20, eb, 18);
    } else {
        memcpy(key + 2, eb, 18);
        memcpy(key + 20, ea, 18);
    }
}

unsigned tcp_shard(const struct tcp_pkt *pk, unsigned n)
{
    /* Both directions alike: the endpoints are combined with XOR, which does not care
     * which is the source; then mixed (the reading thread does this for every segment, so
     * it is not the table's key_hash). */
    uint64_t h = (uint64_t)(pk->sport ^ pk->dport) << 32, a, b;
    size_t i, n4 = pk->v6 ? 4 : 1;

    for (i = 0; i < n4; i++) {
        uint32_t x, y;
        memcpy(&x, pk->src + 4 * i, 4);
        memcpy(&y, pk->dst + 4 * i, 4);
        h ^= (uint64_t)(x ^ y) << (i % 2 ? 32 : 0);
    }
    a = h * 0x9e3779b97f4a7c15ull;
    b = a ^ (a >> 29);
    return (unsigned)((b * 0xbf58476d1ce4e5b9ull >> 32) % n);
}

void tcp_dir_frames(const struct tcp_dir *d, size_t from, size_t to, uint64_t *first,
                    uint64_t *last, int64_t *ts)
{
    uint64_t a = d->base + from, b = d->base + (to > from ? to - 1 : from);
    size_t lo, hi, mid, start;

    *first = *last = 0;
    *ts = ES_TIME_NONE;
    if (d->fhead >= d->nfm)
        return;
    /* first entry with end > a */
    lo = d->fhead, hi = d->nfm;
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (d->fm[mid].end > a)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo >= d->nfm)
        lo = d->nfm - 1;
    start = lo;
    hi = d->nfm;
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (d->fm[mid].end > b)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo >= d->nfm)
        lo = d->nfm - 1;
    /* Reordered segments: frames need not grow with the bytes, so take min and max. */
    *first = *last = d->fm[start].frame;
    *ts = d->fm[start].ts;
    for (mid = start + 1; mid <= lo; mid++) {
        if (d->fm[mid].frame < *first)
            *first = d->fm[mid].frame;
        if (d->fm[mid].frame > *last)
            *last = d->fm[mid].frame;
        if (d->fm[mid].ts > *ts)
            *ts = d->fm[mid].ts;
    }
}

/* ------------------------------------------------------------------------------------
 * Buffers
 */

static void dir_append(struct tcp *t, struct tcp_dir *d, const uint8_t *p, size_t n,
                       uint64_t frame, int64_t ts)
{
    if (n == 0)
        return;
    if (d->head + d->len + n > d->cap) {
        if (d->head > 0) {
            memmove(d->buf, d->buf + d->head, d->len);
            d->head = 0;
        }
        if (d->len + n > d->cap) {
            size_t cap = d->cap ? d->cap : 4096;
            while (cap < d->len + n)
                cap *= 2;
            d->buf = xrealloc(d->buf, cap);
            d->cap = cap;
        }
    }
    memcpy(d->buf + d->head + d->len, p, n);
    d->len += n;
    t->mem += n;
    if (d->nfm > d->fhead && d->fm[d->nfm - 1].frame == frame) {
        d->fm[d->nfm - 1].end = d->base + d->len;
        return;
    }
    if (d->nfm == d->fcap) {
        if (d->fhead > 0) {
            memmove(d->fm, d->fm + d->fhead, (d->nfm - d->fhead) * sizeof *d->fm);
            d->nfm -= d->fhead;
            d->fhead = 0;
        }
        if (d->nfm == d->fcap) {
            d->fcap = d->fcap ? d->fcap * 2 : 16;
            d->fm = xreallocarray(d->fm, d->fcap, sizeof *d->fm);
        }
    }
    d->fm[d->nfm].end = d->base + d->len;
    d->fm[d->nfm].frame = frame;
    d->fm[d->nfm].ts = ts;
    d->nfm++;
}

/* Drops n bytes from the front of the undecoded buffer. */
static void dir_consume(struct tcp *t, struct tcp_dir *d, size_t n)
{
    if (n > d->len)
        n = d->len;
    d->head += n;
    d->len -= n;
    d->base += n;
    t->mem -= n;
    if (d->len == 0)
        d->head = 0;
    while (d->fhead < d->nfm && d->fm[d->fhead].end <= d->base)
        d->fhead++;
    if (d->fhead == d->nfm)
        d->fhead = d->nfm = 0;
}

static void dir_free(struct tcp *t, struct tcp_dir *d)
{
    struct tcp_seg *s, *nx;

    for (s = d->ooo; s; s = nx) {
        nx = s->next;
        free(s);
    }
    t->mem -= d->len + d->ooo_bytes;
    free(d->buf);
    free(d->fm);
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------------------------------
 * Decoding
 */

static int report(struct tcp *t, struct tcp_dir *d, size_t len, const char *reason,
                  const char *detail)
{
    uint64_t first, last;
    int64_t ts;
    size_t ex = len < 64 ? len : 64;

    tcp_dir_frames(d, 0, len ? len : 1, &first, &last, &ts);
    return pcapsrc_reject_frames(t->ps, first, last, reason, detail, d->buf + d->head, ex);
}

static int report_skipped(struct tcp *t, struct tcp_flow *f, struct tcp_dir *d)
{
    char detail[160], reason[64];

    if (d->skipped == 0)
        return ES_OK;
    snprintf(reason, sizeof reason, "%s_resync_skipped", f->dec ? f->dec->name : "tcp");
    snprintf(detail, sizeof detail,
             "%llu bytes skipped to reach a message boundary (capture started mid-stream, "
             "a gap, or unreadable data)",
             (unsigned long long)d->skipped);
    d->skipped = 0;
    return pcapsrc_reject_frames(t->ps, d->skip_frame, 0, reason, detail, NULL, 0);
}

static void note_skip(struct tcp_dir *d, size_t n)
{
    uint64_t first, last;
    int64_t ts;

    if (n == 0)
        return;
    if (d->skipped == 0) {
        tcp_dir_frames(d, 0, 1, &first, &last, &ts);
        d->skip_frame = first;
    }
    d->skipped += n;
}

static void choose_decoder(struct tcp_flow *f, int dir)
{
    struct tcp_dir *d = &f->d[dir];
    const struct decoder *dec;
    int more = 0;

    dec = decoders_probe(d->buf + d->head, d->len, dir, &more);
    if (dec == NULL && more && d->len < TCP_PROBE_MAX)
        return;
    if (dec == NULL) {
        f->state = FLOW_IGNORED;
        return;
    }
    f->dec = dec;
    f->dstate = dec->conn_new ? dec->conn_new() : NULL;
    f->state = FLOW_DECODING;
}

/* Runs the decoder over d's buffer; eof: nothing more will come. */
static int run_decoder(struct tcp *t, struct tcp_flow *f, int dir, int eof)
{
    struct tcp_dir *d = &f->d[dir];
    struct dec_msg m;
    size_t used, off;
    int st, rc;
    char reason[64], detail[128];

    if (f->state == FLOW_UNKNOWN && d->len > 0)
        choose_decoder(f, dir);
    if (f->state == FLOW_UNKNOWN && eof && d->len > 0)
        f->state = FLOW_IGNORED;
    if (f->state == FLOW_IGNORED) {
        dir_consume(t, d, d->len);
        d->skipped = 0;
        return ES_OK;
    }
    if (f->state != FLOW_DECODING)
        return ES_OK;
    memset(&m, 0, sizeof m);
    m.ps = t->ps;
    m.td = d;
    m.state = f->dstate;
    m.dec = f->dec;
    m.dir = dir;
    m.eof = eof;
    m.client = f->name[0];
    m.server = f->name[1];
    while (d->len > 0) {
        if (d->resync) {
            off = f->dec->sync(d->buf + d->head, d->len, dir);
            if (off > d->len)
                off = d->len;
            note_skip(d, off);
            dir_consume(t, d, off);
            if (d->len == 0)
                break;
        }
        used = 0;
        m.why = NULL;
        st = f->dec->parse(&m, d->buf + d->head, d->len, &used);
        if (m.rc != ES_OK)
            return m.rc;
        if (st == DEC_DONE && (used == 0 || used > d->len))
            st = DEC_BAD, m.why = "decoder_no_progress";
        if (st == DEC_DONE) {
            if (d->resync) {
                d->resync = 0;
                if ((rc = report_skipped(t, f, d)) != ES_OK)
                    return rc;
            }
            pcapsrc_counters(t->ps)->messages++;
            dir_consume(t, d, used);
            continue;
        }
        if (st == DEC_MORE) {
            if (eof && d->resync) {
                /* a candidate boundary that the stream's end disproves: keep looking */
                note_skip(d, 1);
                dir_consume(t, d, 1);
                continue;
            }
            if (eof) {
                if (!d->resync) {
                    snprintf(reason, sizeof reason, "%s_truncated", f->dec->name);
                    snprintf(detail, sizeof detail,
                             "stream ends %zu bytes into an incomplete message", d->len);
                    if ((rc = report(t, d, d->len, reason, detail)) != ES_OK)
                        return rc;
                } else {
                    note_skip(d, d->len);
                }
                dir_consume(t, d, d->len);
                break;
            }
            if (d->len + d->ooo_bytes > t->o.flow_mem || t->mem > t->o.total_mem) {
                snprintf(detail, sizeof detail,
                         "%zu bytes of one %s message exceed the reassembly limit",
                         d->len, f->dec->name);
                if (!d->resync && (rc = report(t, d, d->len, "tcp_message_too_large",
                                               detail)) != ES_OK)
                    return rc;
                if (d->resync)
                    note_skip(d, d->len);
                dir_consume(t, d, d->len);
                d->resync = 1;
            }
            break;
        }
        /* DEC_BAD */
        if (!d->resync) {
            snprintf(reason, sizeof reason, "%s", m.why ? m.why : "bad_framing");
            snprintf(detail, sizeof detail, "%s framing lost; resynchronising",
                     f->dec->name);
            if ((rc = report(t, d, d->len < 64 ? d->len : 64, reason, detail)) != ES_OK)
                return rc;
            d->resync = 1;
        }
        note_skip(d, 1);
        dir_consume(t, d, 1);
    }
    if (eof && d->len == 0 && d->skipped)
        return report_skipped(t, f, d);
    return ES_OK;
}

/* ------------------------------------------------------------------------------------
 * Reassembly
 */

/* Appends in-order bytes and whatever waiting segments became contiguous. */
static void dir_take(struct tcp *t, struct tcp_dir *d, uint32_t seq, const uint8_t *p, size_t n,
                     uint64_t frame, int64_t ts)
{
    int32_t delta = seq_diff(seq, d->next_seq);
    struct tcp_seg *s;

    if (delta < 0) {
        if ((size_t)(-(int64_t)delta) >= n)
            n = 0;
        else
            p += -(int64_t)delta, n -= (size_t)(-(int64_t)delta);
    }
    dir_append(t, d, p, n, frame, ts);
    d->next_seq += (uint32_t)n;
    while ((s = d->ooo) != NULL && seq_diff(s->seq, d->next_seq) <= 0) {
        int32_t back = seq_diff(d->next_seq, s->seq);
        d->ooo = s->next;
        d->ooo_bytes -= s->len;
        t->mem -= s->len;
        if ((size_t)back < s->len) {
            dir_append(t, d, s->data + back, s->len - (size_t)back, s->frame, s->ts);
            d->next_seq += (uint32_t)(s->len - (size_t)back);
        }
        free(s);
    }
}

/*
 * The bytes before the first waiting segment will not come: report them, drop the
 * partial message, continue at that segment with the decoder resynchronising.
 */
static int dir_gap(struct tcp *t, struct tcp_flow *f, struct tcp_dir *d, const char *why)
{
    struct tcp_seg *s = d->ooo;
    char detail[200];
    uint32_t missing;
    int rc;

    if (s == NULL)
        return ES_OK;
    missing = s->seq - d->next_seq;
    snprintf(detail, sizeof detail,
             "%u bytes never captured before frame %llu (%s); %zu buffered bytes of the "
             "message in progress dropped",
             missing, (unsigned long long)s->frame, why, d->len);
    rc = pcapsrc_reject_frames(t->ps, s->frame, 0, "tcp_gap", detail, NULL, 0);
    if (rc != ES_OK)
        return rc;
    dir_consume(t, d, d->len);
    d->skipped = 0;
    d->next_seq = s->seq;
    d->resync = 1;
    (void)f;
    dir_take(t, d, s->seq, NULL, 0, s->frame, s->ts);
    return ES_OK;
}

static void dir_queue(struct tcp *t, struct tcp_dir *d, uint32_t seq, const uint8_t *p,
                      size_t n, uint64_t frame, int64_t ts)
{
    struct tcp_seg **pp = &d->ooo, *s;
    int32_t rel = seq_diff(seq, d->next_seq);

    while (*pp && seq_diff((*pp)->seq, d->next_seq) < rel)
        pp = &(*pp)->next;
    if (*pp && (*pp)->seq == seq && (*pp)->len >= n)
        return; /* retransmission of a waiting segment */
    s = xmalloc(sizeof *s + n);
    s->seq = seq;
    s->len = n;
    s->frame = frame;
    s->ts = ts;
    memcpy(s->data, p, n);
    s->next = *pp;
    *pp = s;
    d->ooo_bytes += n;
    t->mem += n;
}

/* ------------------------------------------------------------------------------------
 * Connections
 */

static void lru_unlink(struct tcp *t, struct tcp_flow *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        t->lru_head = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        t->lru_tail = f->prev;
    f->prev = f->next = NULL;
}

static void lru_front(struct tcp *t, struct tcp_flow *f)
{
    f->next = t->lru_head;
    f->prev = NULL;
    if (t->lru_head)
        t->lru_head->prev = f;
    t->lru_head = f;
    if (t->lru_tail == NULL)
        t->lru_tail = f;
}

static void flow_free(struct tcp *t, struct tcp_flow *f)
{
    struct tcp_flow **pp = &t->bucket[flow_hash(f->key)];

    while (*pp && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = f->hnext;
    lru_unlink(t, f);
    dir_free(t, &f->d[0]);
    dir_free(t, &f->d[1]);
    if (f->dec && f->dec->conn_free)
        f->dec->conn_free(f->dstate);
    t->nflows--;
    free(f);
}

/* Ends a connection: waiting gaps reported, decoders see eof, then it is freed. */
static int flow_close(struct tcp *t, struct tcp_flow *f, const char *why)
{
    int dir, rc = ES_OK;

    for (dir = 0; dir < 2 && rc == ES_OK; dir++) {
        struct tcp_dir *d = &f->d[dir];
        while (rc == ES_OK && d->ooo) {
            rc = dir_gap(t, f, d, why);
            if (rc == ES_OK)
                rc = run_decoder(t, f, dir, 0);
        }
        if (rc == ES_OK && !d->ended) {
            d->ended = 1;
            rc = run_decoder(t, f, dir, 1);
        }
    }
    flow_free(t, f);
    return rc;
}

static struct tcp_flow *flow_find(struct tcp *t, const uint8_t *key)
{
    struct tcp_flow *f;

    for (f = t->bucket[flow_hash(key)]; f; f = f->hnext)
        if (memcmp(f->key, key, 38) == 0)
            return f;
    return NULL;
}

static struct tcp_flow *flow_new(struct tcp *t, const struct tcp_pkt *pk, const uint8_t *key)
{
    struct tcp_flow *f = xcalloc(1, sizeof *f);
    size_t n = pk->v6 ? 16 : 4;
    int sender_is_client;
    uint32_t h;

    f->last_ts = ES_TIME_NONE;
    /* Who is the client: the SYN sender, else whoever talks to a decoder's port. */
    if ((pk->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
        sender_is_client = 1;
    else if ((pk->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
        sender_is_client = 0;
    else if (decoders_by_port(pk->dport) && !decoders_by_port(pk->sport))
        sender_is_client = 1;
    else if (decoders_by_port(pk->sport) && !decoders_by_port(pk->dport))
        sender_is_client = 0;
    else
        sender_is_client = pk->sport >= pk->dport;
    memcpy(f->key, key, 38);
    f->v6 = pk->v6;
    memcpy(f->addr[sender_is_client ? 0 : 1], pk->src, n);
    memcpy(f->addr[sender_is_client ? 1 : 0], pk->dst, n);
    f->port[sender_is_client ? 0 : 1] = pk->sport;
    f->port[sender_is_client ? 1 : 0] = pk->dport;
    endpoint_name(f->name[0], sizeof f->name[0], f->v6, f->addr[0], f->port[0]);
    endpoint_name(f->name[1], sizeof f->name[1], f->v6, f->addr[1], f->port[1]);
    f->dec = decoders_by_port(f->port[1]);
    if (f->dec) {
        f->state = FLOW_DECODING;
        f->dstate = f->dec->conn_new ? f->dec->conn_new() : NULL;
    }
    h = flow_hash(key);
    f->hnext = t->bucket[h];
    t->bucket[h] = f;
    lru_front(t, f);
    t->nflows++;
    pcapsrc_counters(t->ps)->flows++;
    return f;
}

int tcp_sweep_due(int64_t *last_check, int64_t ts)
{
    if (ts == ES_TIME_NONE ||
        (*last_check != ES_TIME_NONE && ts - *last_check <= TCP_IDLE_CHECK_US))
        return 0;
    *last_check = ts;
    return 1;
}

/* Closes the flows idle for longer than idle_us. Times are within ES_TIME_LIMIT (pcapsrc). */
int tcp_sweep(struct tcp *t, int64_t now)
{
    struct tcp_flow *f;
    int rc;

    while ((f = t->lru_tail) != NULL) {
        if (f->last_ts == ES_TIME_NONE) {
            /* only untimed packets so far (pcapng simple blocks): idle from now on */
            f->last_ts = now;
            lru_unlink(t, f);
            lru_front(t, f);
            continue;
        }
        if (now - f->last_ts <= t->o.idle_us)
            break;
        if ((rc = flow_close(t, f, "idle timeout")) != ES_OK)
            return rc;
    }
    return ES_OK;
}

void tcp_outside_sweeps(struct tcp *t)
{
    t->outside_sweeps = 1;
}

int tcp_segment(struct tcp *t, const struct tcp_pkt *pk)
{
    uint8_t key[38];
    struct tcp_flow *f;
    struct tcp_dir *d;
    int dir, rc;
    uint32_t seq;

    if (!t->outside_sweeps && tcp_sweep_due(&t->last_idle_check, pk->ts))
        if ((rc = tcp_sweep(t, pk->ts)) != ES_OK)
            return rc;
    make_key(key, pk->v6, pk->src, pk->sport, pk->dst, pk->dport);
    f = flow_find(t, key);
    if (f && (pk->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && f->d[0].seen &&
        pk->seq + 1 != f->d[0].next_seq && (f->d[0].fin || f->d[1].fin || f->rst)) {
        /* a new connection on the same ports */
        if ((rc = flow_close(t, f, "port reuse")) != ES_OK)
            return rc;
        f = NULL;
    }
    if (f == NULL) {
        if (pk->len == 0 && !(pk->flags & TCP_SYN))
            return ES_OK; /* bare ACK/FIN/RST of a connection we do not track */
        if (t->nflows >= t->o.max_flows && t->lru_tail)
            if ((rc = flow_close(t, t->lru_tail, "connection table full")) != ES_OK)
                return rc;
        f = flow_new(t, pk, key);
    } else {
        lru_unlink(t, f);
        lru_front(t, f);
    }
    if (pk->ts != ES_TIME_NONE)
        f->last_ts = pk->ts;
    f->last_frame = pk->frame;
    dir = (pk->sport == f->port[0] && memcmp(pk->src, f->addr[0], pk->v6 ? 16 : 4) == 0)
              ? DEC_TO_SERVER
              : DEC_TO_CLIENT;
    d = &f->d[dir];
    seq = pk->seq;
    if (pk->flags & TCP_SYN) {
        seq++;
        if (!d->seen) {
            d->seen = 1;
            d->next_seq = seq;
        }
    } else if (!d->seen) {
        /* capture started mid-stream: resynchronise unless this is a boundary */
        d->seen = 1;
        d->next_seq = seq;
        d->resync = 1;
    }
    if (pk->len > 0 && !d->ended) {
        int32_t delta = seq_diff(seq, d->next_seq);
        pcapsrc_counters(t->ps)->segments++;
        if (delta > 0) {
            if (d->len + d->ooo_bytes + pk->len > t->o.flow_mem ||
                t->mem + pk->len > t->o.total_mem) {
                /* no room to wait for the missing bytes: give them up */
                dir_queue(t, d, seq, pk->data, pk->len, pk->frame, pk->ts);
                if ((rc = dir_gap(t, f, d, "reassembly memory limit")) != ES_OK)
                    return rc;
            } else {
                dir_queue(t, d, seq, pk->data, pk->len, pk->frame, pk->ts);
            }
            if ((rc = run_decoder(t, f, dir, 0)) != ES_OK)
                return rc;
        } else {
            dir_take(t, d, seq, pk->data, pk->len, pk->frame, pk->ts);
            if ((rc = run_decoder(t, f, dir, 0)) != ES_OK)
                return rc;
            if (pk->wire_len > pk->len && delta >= 0 && seq_diff(d->next_seq, seq + (uint32_t)pk->len) == 0) {
                /* cut by the snap length: these bytes will never be seen */
                char detail[160];
                snprintf(detail, sizeof detail,
                         "%zu of %zu payload bytes captured (snap length); %zu buffered bytes "
                         "of the message in progress dropped",
                         pk->len, pk->wire_len, d->len);
                rc = pcapsrc_reject_frames(t->ps, pk->frame, 0, "tcp_snaplen_truncated", detail,
                                           NULL, 0);
                if (rc != ES_OK)
                    return rc;
                dir_consume(t, d, d->len);
                d->next_seq += (uint32_t)(pk->wire_len - pk->len);
                d->resync = 1;
                dir_take(t, d, d->next_seq, NULL, 0, pk->frame, pk->ts);
                if ((rc = run_decoder(t, f, dir, 0)) != ES_OK)
                    return rc;
            }
        }
    }
    if (pk->flags & TCP_FIN) {
        d->fin = 1;
        d->fin_seq = seq + (uint32_t)(pk->wire_len > pk->len ? pk->wire_len : pk->len);
    }
    if (pk->flags & TCP_RST)
        f->rst = 1;
    /* A direction ends once its FIN is reached with nothing missing. */
    if (d->fin && !d->ended && d->ooo == NULL && seq_diff(d->next_seq, d->fin_seq) >= 0) {
        d->ended = 1;
        if ((rc = run_decoder(t, f, dir, 1)) != ES_OK)
            return rc;
    }
    if (f->rst || (f->d[0].ended && f->d[1].ended) ||
        (f->d[0].ended && !f->d[1].seen) || (f->d[1].ended && !f->d[0].seen))
        return flow_close(t, f, f->rst ? "reset" : "closed");
    return ES_OK;
}

/* ------------------------------------------------------------------------------------
 * Table
 */

struct tcp *tcp_new(struct pcapsrc *ps, const struct pcapsrc_opts *opts)
{
    struct tcp *t = xcalloc(1, sizeof *t);

    t->ps = ps;
    t->o = *opts;
    t->bucket = xcalloc(TCP_BUCKETS, sizeof(struct tcp_flow *));
    t->last_idle_check = ES_TIME_NONE;
    return t;
}

void tcp_free(struct tcp *t)
{
    if (t == NULL)
        return;
    while (t->lru_head)
        flow_free(t, t->lru_head);
    free(t->bucket);
    free(t);
}

int tcp_oldest(const struct tcp *t, uint64_t *frame)
{
    if (t->lru_tail == NULL)
        return 0;
    *frame = t->lru_tail->last_frame;
    return 1;
}

int tcp_close_oldest(struct tcp *t)
{
    return t->lru_tail ? flow_close(t, t->lru_tail, "end of capture") : ES_OK;
}

int tcp_finish(struct tcp *t)
{
    int rc;

    /* oldest first, so rejects come out roughly in capture order */
    while (t->lru_tail)
        if ((rc = tcp_close_oldest(t)) != ES_OK)
            return rc;
    return ES_OK;
}

size_t tcp_mem(const struct tcp *t)
{
    return t->mem;
}
