/*
 * Capture files and packets: the pcap format (tcpdump.org "pcap savefile", 24-byte file
 * header, 16-byte record headers, µs or ns, either byte order), pcapng (RFC draft
 * "PCAP Next Generation": SHB, IDB with if_tsresol/if_tsoffset, EPB, SPB, OPB), read
 * through zlib's gzread so gzip files work the same; then the link layers and IP.
 *
 *   Ethernet  | dst 6 | src 6 | type 2 | (802.1Q / 802.1ad tags: TCI 2, type 2)* |
 *   Linux SLL | pkttype 2 | hatype 2 | halen 2 | addr 8 | protocol 2 |
 *   SLL2      | protocol 2 | reserved 2 | ifindex 4 | hatype 2 | pkttype 1 | halen 1 | addr 8 |
 *   NULL/LOOP | address family 4 (host order / network order) |
 */
#include "collector/pcap/pcapsrc.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "collector/pcap/decoders.h"
#include "collector/pcap/par.h"
#include "collector/pcap/tcp.h"
#include "core/cursor.h"
#include "core/envelope.h"
#include "core/xmalloc.h"

#define LT_NULL 0
#define LT_EN10MB 1
#define LT_RAW_A 12
#define LT_RAW_B 14
#define LT_RAW 101
#define LT_LOOP 108
#define LT_SLL 113
#define LT_IPV4 228
#define LT_IPV6 229
#define LT_SLL2 276

#define ET_IPV4 0x0800
#define ET_IPV6 0x86dd
#define ET_VLAN 0x8100
#define ET_QINQ 0x88a8
#define ET_QINQ_OLD 0x9100

#define PCAP_MAX_RECORD (1u << 20)   /* libpcap's own bound is 256 KiB; we allow more */
#define PCAPNG_MAX_BLOCK (16u << 20)
#define PCAPNG_MAX_IFACES 256
#define FRAG_MAX 64                 /* IPv4 datagrams being reassembled at once */
#define FRAG_TIMEOUT_US (30LL * 1000000)
#define VLAN_MAX_DEPTH 4
#define ET_TEB 0x6558     /* transparent Ethernet bridging: an Ethernet frame inside GRE/Geneve */
#define ET_ERSPAN2 0x88be /* ERSPAN type I and II (Cisco, AWS/Azure mirroring) */
#define ET_ERSPAN3 0x22eb
#define UDP_VXLAN 4789      /* RFC 7348; AWS VPC Traffic Mirroring */
#define UDP_VXLAN_LINUX 8472
#define UDP_GENEVE 6081     /* RFC 8926; AWS Gateway Load Balancer */
#define TUNNEL_MAX_DEPTH 4
#define IP6_MAX_EXT 8

/* ------------------------------------------------------------------------------------
 * Data structures
 */

struct frag {
    int used;
    uint8_t src[4], dst[4];
    uint16_t id;
    uint8_t proto;
    uint32_t total;         /* payload length, known once the last fragment came (0: not) */
    uint64_t first_frame;
    int64_t first_ts;
    uint8_t have[8192];     /* one bit per 8-byte unit */
    uint8_t data[65536];
};

struct pcapsrc {
    struct sink *sink;                /* borrowed, may be NULL with hooks */
    struct pcapsrc_opts o;
    struct tcp *tcp;
    struct pcapsrc_stats st;
    pcapsrc_event_fn ev_hook;
    pcapsrc_reject_fn rej_hook;
    void *hook_ctx;
    uint64_t frame;                   /* frames so far */
    /* the location delivered last (loc_count records had it): its bytes at last_p, which is
     * last_loc or, from a worker, the round's list until pcapsrc_loc_pin; NULL: none */
    char last_loc[64];
    const char *last_p;
    size_t last_len;
    uint64_t last_hash;
    unsigned loc_count;
    struct frag *frags;               /* FRAG_MAX slots, allocated on first use */
    struct envelope_msgbuf *msgbuf;   /* envelope_from_message_buf's buffers */
    unsigned tunnel_depth;            /* encapsulations being unwrapped (VXLAN, GRE...) */
    struct par *par;                  /* TCP decoded by worker threads (NULL: here) */
    struct pout_list *out;            /* a worker's: outputs go there, under the key: */
    uint64_t kmaj, kmin;
};

static struct pcapsrc_opts default_opts;

/* ------------------------------------------------------------------------------------
 * Output
 */

/*
 * CPUs this process may use: the affinity mask (taskset, cpusets), lowered to a cgroup v2
 * CPU quota ("QUOTA PERIOD" in /sys/fs/cgroup/cpu.max, rounded up) when there is one.
 */
static long usable_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    FILE *f;

    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        n = CPU_COUNT(&set);
    if ((f = fopen("/sys/fs/cgroup/cpu.max", "r")) != NULL) {
        char line[64], *end;
        if (fgets(line, sizeof line, f) != NULL) { /* "max 100000": no quota */
            long long quota = strtoll(line, &end, 10), period = 0;
            if (end != line)
                period = strtoll(end, NULL, 10);
            if (quota > 0 && period > 0 && (quota + period - 1) / period < n)
                n = (long)((quota + period - 1) / period);
        }
        fclose(f);
    }
    return n;
}

unsigned pcapsrc_threads_auto(int storing)
{
    long n = usable_cpus() - (storing ? 1 : 0);
    return n < 2 ? 1 : n > 8 ? 8 : (unsigned)n;
}

void pcapsrc_set_default_opts(const struct pcapsrc_opts *opts)
{
    default_opts = *opts;
}

struct pcapsrc_stats *pcapsrc_counters(struct pcapsrc *ps)
{
    return &ps->st;
}

const struct pcapsrc_stats *pcapsrc_stats(const struct pcapsrc *ps)
{
    return &ps->st;
}

const struct envelope_map *pcapsrc_map(const struct pcapsrc *ps)
{
    return ps->sink ? ps->sink->map : NULL;
}

struct envelope_msgbuf *pcapsrc_msgbuf(struct pcapsrc *ps)
{
    return ps->msgbuf;
}

struct tcp *pcapsrc_tcp(struct pcapsrc *ps)
{
    return ps->tcp;
}

void pcapsrc_set_output(struct pcapsrc *ps, struct pout_list *l, uint64_t kmaj, uint64_t kmin)
{
    ps->out = l;
    ps->kmaj = kmaj;
    ps->kmin = kmin;
}

int pcapsrc_stopping(const struct pcapsrc *ps)
{
    return ps->sink != NULL && sink_stopping(ps->sink);
}

static void frames_loc(char *buf, size_t len, uint64_t first, uint64_t last)
{
    if (last == 0 || last == first)
        snprintf(buf, len, "frame %llu", (unsigned long long)first);
    else if (last < first)
        snprintf(buf, len, "frames %llu-%llu", (unsigned long long)last,
                 (unsigned long long)first);
    else
        snprintf(buf, len, "frames %llu-%llu", (unsigned long long)first,
                 (unsigned long long)last);
}

void pcapsrc_loc_pin(struct pcapsrc *ps)
{
    if (ps->last_p == NULL || ps->last_p == ps->last_loc)
        return;
    memcpy(ps->last_loc, ps->last_p, ps->last_len);
    ps->last_loc[ps->last_len] = '\0';
    ps->last_p = ps->last_loc;
}

/*
 * Numbers the records that share one location (a Kafka batch, a CloudEvents batch): the
 * second and later become "LOC#2", "LOC#3"..., events and rejects alike, in order, so no
 * two records of one message share a location (rejects are unique by location too).
 * Returns the number of loc (n bytes, hash h): 1 for a location unlike the last one, or
 * one too long to be numbered. stable: loc stays readable until pcapsrc_loc_pin, so it is
 * not copied (a worker's output, which the reading thread then need not read at all
 * unless the hashes match: the bytes were written on another core).
 */
static unsigned loc_number(struct pcapsrc *ps, const char *loc, size_t n, uint64_t h, int stable)
{
    if (n >= sizeof ps->last_loc) {
        ps->last_p = NULL;
        return 1;
    }
    if (ps->last_p != NULL && h == ps->last_hash && n == ps->last_len &&
        memcmp(loc, ps->last_p, n) == 0)
        return ++ps->loc_count;
    ps->last_p = loc;
    ps->last_len = n;
    ps->last_hash = h;
    ps->loc_count = 1;
    if (!stable)
        pcapsrc_loc_pin(ps);
    return 1;
}

static int deliver_reject(struct pcapsrc *ps, uint64_t first, uint64_t last, const char *reason,
                          const char *detail, const void *excerpt, size_t excerpt_len)
{
    char loc[96];
    size_t n;
    unsigned k;

    frames_loc(loc, sizeof loc, first, last);
    n = strlen(loc);
    k = loc_number(ps, loc, n, event_hash(loc, n), 0);
    if (k > 1)
        snprintf(loc + n, sizeof loc - n, "#%u", k);
    ps->st.rejects++;
    if (ps->rej_hook)
        return ps->rej_hook(ps->hook_ctx, loc, reason, detail);
    if (ps->sink == NULL)
        return ES_OK;
    return sink_reject(ps->sink, loc, reason, detail, excerpt, excerpt_len);
}

/*
 * ev is borrowed, and left as it is (a numbered location goes into a view of it). Its
 * location has loc_len bytes and hash loc_hash (loc_number's stable: see there).
 */
static int deliver_event(struct pcapsrc *ps, const struct event *ev, size_t loc_len,
                         uint64_t loc_hash, int stable)
{
    char loc[96];
    struct event view = *ev;
    unsigned k;

    if (ev->location &&
        (k = loc_number(ps, ev->location, loc_len, loc_hash, stable)) > 1) {
        snprintf(loc, sizeof loc, "%s#%u", ev->location, k); /* loc_len < 64 */
        view.location = loc;
    }
    ps->st.events++;
    if (ps->ev_hook != NULL || ps->sink == NULL)
        return ps->ev_hook ? ps->ev_hook(ps->hook_ctx, &view) : ES_OK;
    return sink_event_copy(ps->sink, &view);
}

int pcapsrc_deliver(struct pcapsrc *ps, const struct pout_list *l, const struct pout *o)
{
    struct event ev;
    const char *reason, *detail;
    const void *excerpt;
    size_t excerpt_len;

    if (o->is_event) {
        pout_get_event(l, o, &ev);
        return deliver_event(ps, &ev, o->len[0], o->loc_hash, 1);
    }
    pout_get_reject(l, o, &reason, &detail, &excerpt, &excerpt_len);
    return deliver_reject(ps, o->first, o->last, reason, detail, excerpt, excerpt_len);
}

/*
 * A worker's outputs go to its round's list; the reading thread's own, while workers
 * decode, to the round's front list (after the sweep before this frame, kmin 0).
 */
int pcapsrc_reject_frames(struct pcapsrc *ps, uint64_t first, uint64_t last, const char *reason,
                          const char *detail, const void *excerpt, size_t excerpt_len)
{
    struct pout_list *l;

    if (ps->out)
        return pout_reject(ps->out, ps->kmaj, ps->kmin, first, last, reason, detail, excerpt,
                           excerpt_len);
    if (ps->par && (l = par_front_list(ps->par)) != NULL)
        return pout_reject(l, ps->frame, 1, first, last, reason, detail, excerpt, excerpt_len);
    return deliver_reject(ps, first, last, reason, detail, excerpt, excerpt_len);
}

int pcapsrc_emit_event(struct pcapsrc *ps, const struct event *ev)
{
    size_t n;

    if (ps->out)
        return pout_event(ps->out, ps->kmaj, ps->kmin, ev);
    n = ev->location ? strlen(ev->location) : 0;
    return deliver_event(ps, ev, n, ev->location ? event_hash(ev->location, n) : 0, 0);
}

static int reject_frame(struct pcapsrc *ps, const char *reason, const char *detail,
                        const uint8_t *p, size_t n)
{
    return pcapsrc_reject_frames(ps, ps->frame, 0, reason, detail, p, n < 64 ? n : 64);
}

/* ------------------------------------------------------------------------------------
 * IP
 */

static int ethertype(struct pcapsrc *ps, uint16_t type, struct cursor *c, int64_t ts);
static int ether(struct pcapsrc *ps, struct cursor *c, int64_t ts);

/*
 * Mirrored traffic arrives encapsulated: the inner frame (Ethernet for ptype ET_TEB, else
 * the IP packet of that ethertype) is decoded as if captured directly, to a bounded depth.
 */
static int tunnel(struct pcapsrc *ps, uint16_t ptype, struct cursor *c, int64_t ts)
{
    int rc;

    if (ps->tunnel_depth >= TUNNEL_MAX_DEPTH)
        return reject_frame(ps, "tunnel_too_deep", "more than 4 nested encapsulations", NULL, 0);
    ps->tunnel_depth++;
    rc = ptype == ET_TEB ? ether(ps, c, ts) : ethertype(ps, ptype, c, ts);
    ps->tunnel_depth--;
    return rc;
}

/*
 *   VXLAN  | flags 1 (I = 0x08) | reserved 3 | VNI 3 | reserved 1 | Ethernet frame |
 *   Geneve | ver 2 bits, option length 6 bits (words) | flags 1 | protocol 2 | VNI 3 |
 *          | reserved 1 | options | frame of that protocol |
 * Other UDP is not ours: no decoder speaks it.
 */
static int udp(struct pcapsrc *ps, struct cursor *c, int64_t ts)
{
    struct cursor start = *c;
    uint16_t dport, ptype = ET_TEB;
    uint8_t b0;

    cur_skip(c, 2);
    dport = cur_be16(c);
    cur_skip(c, 4); /* length, checksum */
    if (dport == UDP_VXLAN || dport == UDP_VXLAN_LINUX) {
        b0 = cur_u8(c);
        cur_skip(c, 7);
        if (!c->err && !(b0 & 0x08))
            return ES_OK; /* no VNI: not VXLAN */
    } else if (dport == UDP_GENEVE) {
        b0 = cur_u8(c);
        cur_skip(c, 1);
        ptype = cur_be16(c);
        cur_skip(c, 4);
        if (!c->err && (b0 >> 6) != 0)
            return ES_OK; /* a Geneve version we do not know */
        cur_skip(c, (size_t)(b0 & 0x3f) * 4);
    } else {
        return ES_OK;
    }
    if (c->err)
        return reject_frame(ps, "tunnel_truncated", "VXLAN or Geneve header cut short", start.p,
                            start.left);
    return tunnel(ps, ptype, c, ts);
}

/*
 *   GRE (RFC 2784, 2890) | C . K S . . . . . . . . ver 3 bits | protocol 2 |
 *                        | [checksum 2, reserved 2] | [key 4] | [sequence 4] |
 *   ERSPAN II  (0x88be, S set)  | 8 bytes | Ethernet frame |  (type I: no header, S clear)
 *   ERSPAN III (0x22eb)         | 12 bytes, O flag in the last bit | [8 bytes if O] | frame |
 */
static int gre(struct pcapsrc *ps, struct cursor *c, int64_t ts)
{
    struct cursor start = *c;
    uint16_t flags = cur_be16(c), ptype = cur_be16(c);

    if (!c->err && (flags & 7) != 0)
        return ES_OK; /* version 1 is PPTP's enhanced GRE */
    if (flags & 0x8000)
        cur_skip(c, 4);
    if (flags & 0x2000)
        cur_skip(c, 4);
    if (flags & 0x1000)
        cur_skip(c, 4);
    if (ptype == ET_ERSPAN2) {
        if (flags & 0x1000)
            cur_skip(c, 8);
        ptype = ET_TEB;
    } else if (ptype == ET_ERSPAN3) {
        uint8_t last;
        cur_skip(c, 11);
        last = cur_u8(c);
        if (last & 1)
            cur_skip(c, 8);
        ptype = ET_TEB;
    }
    if (c->err)
        return reject_frame(ps, "tunnel_truncated", "GRE or ERSPAN header cut short", start.p,
                            start.left);
    return tunnel(ps, ptype, c, ts);
}

static int l4(struct pcapsrc *ps, int v6, const uint8_t *src, const uint8_t *dst, uint8_t proto,
              struct cursor *c, size_t wire_len, int64_t ts)
{
    struct tcp_pkt pk;
    struct cursor start = *c;
    size_t hlen;
    uint8_t off;

    if (proto == 17)
        return udp(ps, c, ts);
    if (proto == 47)
        return gre(ps, c, ts);
    if (proto != 6)
        return ES_OK; /* no decoder speaks anything but TCP */
    memset(&pk, 0, sizeof pk);
    pk.v6 = v6;
    pk.src = src;
    pk.dst = dst;
    pk.sport = cur_be16(c);
    pk.dport = cur_be16(c);
    pk.seq = cur_be32(c);
    cur_skip(c, 4); /* ack */
    off = cur_u8(c);
    pk.flags = cur_u8(c);
    cur_skip(c, 6); /* window, checksum, urgent */
    if (c->err)
        return reject_frame(ps, "tcp_header_truncated", "TCP header cut short", start.p,
                            start.left);
    hlen = (size_t)(off >> 4) * 4;
    if (hlen < 20)
        return reject_frame(ps, "tcp_bad_header_length", "TCP data offset below 5 words",
                            start.p, start.left);
    cur_skip(c, hlen - 20);
    if (c->err)
        return reject_frame(ps, "tcp_header_truncated", "TCP options cut short", start.p,
                            start.left);
    pk.data = c->p;
    pk.len = c->left;
    pk.wire_len = wire_len >= hlen ? wire_len - hlen : pk.len;
    if (pk.wire_len < pk.len)
        pk.wire_len = pk.len;
    pk.frame = ps->frame;
    pk.ts = ts;
    if (ps->par) {
        par_segment(ps->par, &pk);
        return ES_OK;
    }
    return tcp_segment(ps->tcp, &pk);
}

static int frag_bit(const struct frag *f, size_t unit)
{
    return f->have[unit >> 3] >> (unit & 7) & 1;
}

/* One IPv4 fragment; hands the datagram on once complete. */
static int ipv4_fragment(struct pcapsrc *ps, const uint8_t *src, const uint8_t *dst, uint16_t id,
                         uint8_t proto, size_t foff, int more, struct cursor *c, int64_t ts)
{
    struct frag *f = NULL, *oldest = NULL;
    size_t i, n = c->left, units, u;
    struct cursor whole;
    int rc;

    if (ps->frags == NULL)
        ps->frags = xcalloc(FRAG_MAX, sizeof *ps->frags);
    for (i = 0; i < FRAG_MAX; i++) {
        struct frag *g = &ps->frags[i];
        if (g->used && ts != ES_TIME_NONE && g->first_ts != ES_TIME_NONE &&
            ts - g->first_ts > FRAG_TIMEOUT_US) {
            g->used = 0;
            rc = pcapsrc_reject_frames(ps, g->first_frame, 0, "ipv4_fragments_incomplete",
                                       "fragments of a datagram missing after 30 s", NULL, 0);
            if (rc != ES_OK)
                return rc;
        }
        if (g->used && g->id == id && g->proto == proto && memcmp(g->src, src, 4) == 0 &&
            memcmp(g->dst, dst, 4) == 0)
            f = g;
        if (!g->used && f == NULL && oldest == NULL)
            oldest = g;
    }
    if (foff + n > 65535)
        return reject_frame(ps, "ipv4_fragment_too_long", "fragment ends past 65535 bytes",
                            NULL, 0);
    if (f == NULL) {
        if (oldest == NULL) {
            /* table full: give up the oldest reassembly */
            oldest = &ps->frags[0];
            for (i = 1; i < FRAG_MAX; i++)
                if (ps->frags[i].first_frame < oldest->first_frame)
                    oldest = &ps->frags[i];
            rc = pcapsrc_reject_frames(ps, oldest->first_frame, 0, "ipv4_fragments_incomplete",
                                       "fragment table full; datagram dropped", NULL, 0);
            if (rc != ES_OK)
                return rc;
        }
        f = oldest;
        memset(f->have, 0, sizeof f->have);
        f->used = 1;
        memcpy(f->src, src, 4);
        memcpy(f->dst, dst, 4);
        f->id = id;
        f->proto = proto;
        f->total = 0;
        f->first_frame = ps->frame;
        f->first_ts = ts;
    }
    if (n)
        memcpy(f->data + foff, c->p, n);
    for (u = foff / 8; u < (foff + n + 7) / 8; u++)
        f->have[u >> 3] |= (uint8_t)(1u << (u & 7));
    if (!more)
        f->total = (uint32_t)(foff + n);
    if (f->total == 0)
        return ES_OK;
    units = (f->total + 7) / 8;
    for (u = 0; u < units; u++)
        if (!frag_bit(f, u))
            return ES_OK;
    f->used = 0;
    cur_init(&whole, f->data, f->total);
    return l4(ps, 0, f->src, f->dst, proto, &whole, f->total, ts);
}

static int ipv4(struct pcapsrc *ps, struct cursor *c, int64_t ts)
{
    struct cursor start = *c, body;
    uint8_t vihl, proto, src[4], dst[4];
    uint16_t total, id, fo;
    size_t hlen, wire;

    vihl = cur_u8(c);
    cur_skip(c, 1);
    total = cur_be16(c);
    id = cur_be16(c);
    fo = cur_be16(c);
    cur_skip(c, 1);
    proto = cur_u8(c);
    cur_skip(c, 2);
    cur_copy(c, src, 4);
    cur_copy(c, dst, 4);
    if (c->err)
        return reject_frame(ps, "ipv4_header_truncated", "IPv4 header cut short", start.p,
                            start.left);
    hlen = (size_t)(vihl & 15) * 4;
    if (vihl >> 4 != 4 || hlen < 20 || total < hlen)
        return reject_frame(ps, "ipv4_bad_header", "IPv4 version or lengths invalid", start.p,
                            start.left);
    cur_skip(c, hlen - 20);
    if (c->err)
        return reject_frame(ps, "ipv4_header_truncated", "IPv4 options cut short", start.p,
                            start.left);
    wire = total - hlen;
    /* Ethernet pads short frames: the IP total length says where the datagram ends. */
    body = cur_sub(c, c->left < wire ? c->left : wire);
    if (fo & 0x3fff) {
        if (body.left < wire)
            return reject_frame(ps, "ipv4_fragment_truncated", "fragment cut by the snap length",
                                NULL, 0);
        return ipv4_fragment(ps, src, dst, id, proto, (size_t)(fo & 0x1fff) * 8,
                             (fo & 0x2000) != 0, &body, ts);
    }
    return l4(ps, 0, src, dst, proto, &body, wire, ts);
}

static int ipv6(struct pcapsrc *ps, struct cursor *c, int64_t ts)
{
    struct cursor start = *c, body;
    uint8_t nh, src[16], dst[16];
    uint16_t plen;
    size_t wire;
    int i;

    if ((cur_u8(c) >> 4) != 6 && c->err == ES_OK)
        return reject_frame(ps, "ipv6_bad_header", "IP version is not 6", start.p, start.left);
    cur_skip(c, 3);
    plen = cur_be16(c);
    nh = cur_u8(c);
    cur_skip(c, 1);
    cur_copy(c, src, 16);
    cur_copy(c, dst, 16);
    if (c->err)
        return reject_frame(ps, "ipv6_header_truncated", "IPv6 header cut short", start.p,
                            start.left);
    wire = plen;
    body = cur_sub(c, c->left < wire ? c->left : wire);
    /* RFC 8200 section 4: walk the extension headers to the upper layer. */
    for (i = 0; i < IP6_MAX_EXT; i++) {
        uint8_t next, len8;
        size_t elen;
        if (nh == 0 || nh == 43 || nh == 60) {
            next = cur_u8(&body);
            len8 = cur_u8(&body);
            elen = ((size_t)len8 + 1) * 8;
        } else if (nh == 51) { /* AH: length in 4-byte units, minus 2 */
            next = cur_u8(&body);
            len8 = cur_u8(&body);
            elen = ((size_t)len8 + 2) * 4;
        } else if (nh == 44) {
            return reject_frame(ps, "ipv6_fragment_unsupported",
                                "IPv6 fragments are not reassembled", NULL, 0);
        } else {
            break;
        }
        cur_skip(&body, elen - 2);
        if (body.err)
            return reject_frame(ps, "ipv6_ext_header_truncated",
                                "IPv6 extension header cut short", start.p, start.left);
        wire = wire >= elen ? wire - elen : 0;
        nh = next;
    }
    if (i == IP6_MAX_EXT)
        return reject_frame(ps, "ipv6_too_many_ext_headers", "more than 8 extension headers",
                            NULL, 0);
    if (nh == 59)
        return ES_OK;
    return l4(ps, 1, src, dst, nh, &body, wire, ts);
}

static int ethertype(struct pcapsrc *ps, uint16_t type, struct cursor *c, int64_t ts)
{
    if (type == ET_IPV4)
        return ipv4(ps, c, ts);
    if (type == ET_IPV6)
        return ipv6(ps, c, ts);
    return ES_OK; /* ARP and friends */
}

/* An Ethernet frame at c (VLAN and QinQ tags skipped). */
static int ether(struct pcapsrc *ps, struct cursor *c, int64_t ts)
{
    struct cursor start = *c;
    uint16_t type;
    int depth;

    cur_skip(c, 12);
    type = cur_be16(c);
    for (depth = 0; (type == ET_VLAN || type == ET_QINQ || type == ET_QINQ_OLD) &&
                    depth < VLAN_MAX_DEPTH;
         depth++) {
        cur_skip(c, 2);
        type = cur_be16(c);
    }
    if (c->err)
        return reject_frame(ps, "ethernet_truncated", "Ethernet header cut short", start.p,
                            start.left);
    return ethertype(ps, type, c, ts);
}

static int family(struct pcapsrc *ps, uint32_t af, struct cursor *c, int64_t ts)
{
    if (af == 2)
        return ipv4(ps, c, ts);
    if (af == 10 || af == 24 || af == 28 || af == 30)
        return ipv6(ps, c, ts);
    return ES_OK;
}

static int packet(struct pcapsrc *ps, int linktype, int64_t ts_us, const uint8_t *p,
                  size_t caplen)
{
    struct cursor c;
    uint16_t type;
    uint32_t af;

    if (ts_us <= -ES_TIME_LIMIT || ts_us >= ES_TIME_LIMIT)
        ts_us = ES_TIME_NONE; /* not a time (ES_TIME_NONE itself is below the limit) */
    ps->frame++;
    ps->st.packets++;
    ps->st.bytes += caplen;
    cur_init(&c, p, caplen);
    switch (linktype) {
    case LT_EN10MB:
        return ether(ps, &c, ts_us);
    case LT_SLL:
        cur_skip(&c, 14);
        type = cur_be16(&c);
        if (c.err)
            return reject_frame(ps, "sll_truncated", "Linux cooked header cut short", p,
                                caplen);
        return ethertype(ps, type, &c, ts_us);
    case LT_SLL2:
        type = cur_be16(&c);
        cur_skip(&c, 18);
        if (c.err)
            return reject_frame(ps, "sll2_truncated", "Linux cooked v2 header cut short", p,
                                caplen);
        return ethertype(ps, type, &c, ts_us);
    case LT_NULL:
        af = cur_le32(&c);
        if (c.err)
            return reject_frame(ps, "null_truncated", "loopback header cut short", p, caplen);
        if (af > 0xffff) /* written by a big-endian host */
            af = (af >> 24) | ((af >> 8) & 0xff00);
        return family(ps, af, &c, ts_us);
    case LT_LOOP:
        af = cur_be32(&c);
        if (c.err)
            return reject_frame(ps, "null_truncated", "loopback header cut short", p, caplen);
        return family(ps, af, &c, ts_us);
    case LT_RAW:
    case LT_RAW_A:
    case LT_RAW_B:
    case LT_IPV4:
    case LT_IPV6:
        if (c.left == 0)
            return reject_frame(ps, "ip_truncated", "empty packet", NULL, 0);
        return (c.p[0] >> 4) == 6 ? ipv6(ps, &c, ts_us) : ipv4(ps, &c, ts_us);
    default:
        return ES_OK;
    }
}

int pcapsrc_packet(struct pcapsrc *ps, int linktype, int64_t ts_us, const uint8_t *p,
                   size_t caplen, size_t wirelen)
{
    int rc = packet(ps, linktype, ts_us, p, caplen);

    (void)wirelen;
    if (ps->par) {
        int rc2 = par_packet_done(ps->par);
        if (rc == ES_OK)
            rc = rc2;
    }
    return rc;
}

/* ------------------------------------------------------------------------------------
 * Files
 */

#define RD_WINDOW (1u << 20) /* bytes read from a file at once */

/*
 * Input: memory, or a file (plain or gzip) read through gzread a window at a time, so
 * that a record is handed on where it lies (one gzread per megabyte, not two per packet,
 * and no copy into a record buffer).
 */
struct rd {
    gzFile gz;            /* a file (plain or gzip), or */
    const uint8_t *mem;   /* memory */
    size_t memlen, memoff;
    uint64_t consumed;    /* bytes read so far */
    uint8_t *buf;         /* file window: unread bytes are buf[woff, wlen) */
    size_t cap, woff, wlen;
};

/* Up to n bytes readable at one pointer (not consumed); how many there are in *have. */
static const uint8_t *rd_peek(struct rd *r, size_t n, size_t *have)
{
    static const uint8_t none[1];

    if (r->gz == NULL) {
        size_t left = r->memlen - r->memoff;
        *have = n < left ? n : left;
        return r->mem ? r->mem + r->memoff : none;
    }
    if (r->wlen - r->woff < n) {
        size_t keep = r->wlen - r->woff;
        if (n > r->cap || r->buf == NULL) {
            size_t cap = r->cap ? r->cap : RD_WINDOW;
            uint8_t *nb;
            while (cap < n)
                cap *= 2;
            nb = xmalloc(cap);
            if (keep)
                memcpy(nb, r->buf + r->woff, keep);
            free(r->buf);
            r->buf = nb;
            r->cap = cap;
        } else if (keep) {
            memmove(r->buf, r->buf + r->woff, keep);
        }
        r->woff = 0;
        r->wlen = keep;
        while (r->wlen < n) {
            size_t room = r->cap - r->wlen;
            int k = gzread(r->gz, r->buf + r->wlen, room > (1u << 30) ? 1u << 30 : (unsigned)room);
            if (k <= 0)
                break;
            r->wlen += (size_t)k;
        }
    }
    *have = r->wlen - r->woff < n ? r->wlen - r->woff : n;
    return r->buf ? r->buf + r->woff : none;
}

static void rd_skip(struct rd *r, size_t n)
{
    if (r->gz == NULL)
        r->memoff += n;
    else
        r->woff += n;
    r->consumed += n;
}

/* Reads up to n bytes; returns how many (short only at end of input or on error). */
static size_t rd_read(struct rd *r, void *dst, size_t n)
{
    size_t have;
    const uint8_t *p = rd_peek(r, n, &have);

    if (have)
        memcpy(dst, p, have);
    rd_skip(r, have);
    return have;
}

/*
 * The next n bytes, valid until the next read, or NULL when the input ends first (what
 * there was is consumed).
 */
static const uint8_t *rd_take(struct rd *r, size_t n)
{
    size_t have;
    const uint8_t *p = rd_peek(r, n, &have);

    rd_skip(r, have);
    return have == n ? p : NULL;
}

static uint32_t get32(const uint8_t *p, int be)
{
    struct cursor c;

    cur_init(&c, p, 4);
    return be ? cur_be32(&c) : cur_le32(&c);
}

/* The pcap format after its magic (4 bytes, already read into magic). */
static int read_pcap(struct pcapsrc *ps, struct rd *r, const uint8_t *magic, char *err,
                     size_t errlen)
{
    uint8_t hdr[20], rec[16];
    struct cursor c;
    int be, nano, linktype, rc;
    uint32_t m;
    size_t got;

    m = get32(magic, 1);
    be = m == 0xa1b2c3d4 || m == 0xa1b23c4d;
    nano = m == 0xa1b23c4d || m == 0x4d3cb2a1;
    if (rd_read(r, hdr, sizeof hdr) != sizeof hdr) {
        snprintf(err, errlen, "truncated pcap file header");
        return ES_ETRUNC;
    }
    cur_init(&c, hdr, sizeof hdr);
    cur_skip(&c, 16); /* version, thiszone, sigfigs, snaplen */
    linktype = (int)((be ? cur_be32(&c) : cur_le32(&c)) & 0xffff);
    for (;;) {
        uint32_t sec, frac, caplen, wirelen;
        int64_t ts;
        const uint8_t *buf;

        if (ps->sink && sink_stopping(ps->sink))
            return ES_EINTERRUPTED;
        got = rd_read(r, rec, sizeof rec);
        if (got == 0)
            return ES_OK;
        if (got != sizeof rec) {
            ps->frame++;
            return reject_frame(ps, "pcap_truncated_record",
                                "file ends inside a record header", NULL, 0);
        }
        cur_init(&c, rec, sizeof rec);
        sec = be ? cur_be32(&c) : cur_le32(&c);
        frac = be ? cur_be32(&c) : cur_le32(&c);
        caplen = be ? cur_be32(&c) : cur_le32(&c);
        wirelen = be ? cur_be32(&c) : cur_le32(&c);
        if (caplen > PCAP_MAX_RECORD) {
            char detail[96];
            ps->frame++;
            snprintf(detail, sizeof detail, "record claims %u bytes (limit %u); file corrupt",
                     caplen, PCAP_MAX_RECORD);
            return reject_frame(ps, "pcap_record_too_large", detail, NULL, 0);
        }
        if ((buf = rd_take(r, caplen)) == NULL) {
            ps->frame++;
            return reject_frame(ps, "pcap_truncated_record", "file ends inside a packet", NULL,
                                0);
        }
        ts = (int64_t)sec * 1000000 + (nano ? frac / 1000 : frac);
        if ((rc = pcapsrc_packet(ps, linktype, ts, buf, caplen,
                                 wirelen > caplen ? wirelen : caplen)) != ES_OK)
            return rc;
    }
}

struct ng_iface {
    int linktype;
    uint32_t snaplen;
    int binary;          /* if_tsresol: units of 2^-exp s, else 10^-exp s */
    unsigned exp;
    int64_t offset_s;    /* if_tsoffset */
};

/*
 * Capture time in µs; ES_TIME_NONE when the file's numbers do not fit int64 (a corrupt IDB
 * or block). pcapsrc_packet turns what lies beyond ES_TIME_LIMIT into no time as well.
 */
static int64_t ng_time(const struct ng_iface *ifc, uint64_t t)
{
    int64_t us, off;
    unsigned i;

    if (ifc->binary) {
        long double v = (long double)t * 1e6L;
        for (i = 0; i < ifc->exp; i++)
            v /= 2;
        if (v >= (long double)ES_TIME_LIMIT)
            return ES_TIME_NONE;
        us = (int64_t)v;
    } else if (ifc->exp >= 6) {
        uint64_t div = 1;
        for (i = 6; i < ifc->exp && i < 25; i++)
            div *= 10;
        if (t / div >= (uint64_t)ES_TIME_LIMIT)
            return ES_TIME_NONE;
        us = (int64_t)(t / div);
    } else {
        uint64_t mul = 1;
        for (i = ifc->exp; i < 6; i++)
            mul *= 10;
        if (t >= (uint64_t)ES_TIME_LIMIT / mul)
            return ES_TIME_NONE;
        us = (int64_t)(t * mul);
    }
    if (__builtin_mul_overflow(ifc->offset_s, 1000000, &off) ||
        __builtin_add_overflow(us, off, &us))
        return ES_TIME_NONE;
    return us;
}

static void ng_idb(struct cursor *c, int be, struct ng_iface *ifc)
{
    ifc->linktype = be ? cur_be16(c) : cur_le16(c);
    cur_skip(c, 2);
    ifc->snaplen = be ? cur_be32(c) : cur_le32(c);
    ifc->binary = 0;
    ifc->exp = 6;
    ifc->offset_s = 0;
    while (c->left >= 4 && c->err == ES_OK) {
        uint16_t code = be ? cur_be16(c) : cur_le16(c);
        uint16_t len = be ? cur_be16(c) : cur_le16(c);
        struct cursor v = cur_sub(c, len);
        cur_skip(c, (4 - len % 4) % 4);
        if (code == 0 || v.err)
            break;
        if (code == 9 && len >= 1) {
            uint8_t res = cur_u8(&v);
            ifc->binary = (res & 0x80) != 0;
            ifc->exp = res & 0x7f;
            if (ifc->exp > 63)
                ifc->exp = 63;
        } else if (code == 14 && len >= 8) {
            ifc->offset_s = (int64_t)(be ? cur_be64(&v) : cur_le64(&v));
        }
    }
}

static int read_pcapng(struct pcapsrc *ps, struct rd *r, const uint8_t *first4, char *err,
                       size_t errlen)
{
    struct ng_iface *ifs = xcalloc(PCAPNG_MAX_IFACES, sizeof *ifs);
    uint8_t hdr[8];
    unsigned nifs = 0;
    int be = 0, rc = ES_OK, have_first = 1;

    for (;;) {
        uint32_t type, total, ifid, caplen, wirelen;
        uint64_t ts;
        struct cursor c;
        const uint8_t *body;
        size_t got;

        if (ps->sink && sink_stopping(ps->sink)) {
            rc = ES_EINTERRUPTED;
            break;
        }
        if (have_first) {
            memcpy(hdr, first4, 4);
            got = 4 + rd_read(r, hdr + 4, 4);
            have_first = 0;
        } else {
            got = rd_read(r, hdr, 8);
        }
        if (got == 0)
            break;
        if (got != 8) {
            rc = reject_frame(ps, "pcapng_truncated_block", "file ends inside a block header",
                              NULL, 0);
            break;
        }
        type = get32(hdr, be);
        if (type == 0x0a0d0d0a) {
            /* Section header: the byte-order magic decides how everything else reads. */
            uint8_t bom[4];
            if (rd_read(r, bom, 4) != 4) {
                rc = reject_frame(ps, "pcapng_truncated_block", "file ends inside a section "
                                  "header", NULL, 0);
                break;
            }
            if (get32(bom, 1) == 0x1a2b3c4d)
                be = 1;
            else if (get32(bom, 0) == 0x1a2b3c4d)
                be = 0;
            else {
                snprintf(err, errlen, "pcapng section header with a bad byte-order magic");
                rc = ES_EINVALID;
                break;
            }
            total = get32(hdr + 4, be);
            if (total < 28 || total % 4 || total > PCAPNG_MAX_BLOCK) {
                snprintf(err, errlen, "pcapng section header length %u invalid", total);
                rc = ES_EINVALID;
                break;
            }
            if (rd_take(r, total - 12) == NULL) {
                rc = reject_frame(ps, "pcapng_truncated_block", "file ends inside a section "
                                  "header", NULL, 0);
                break;
            }
            nifs = 0;
            continue;
        }
        total = get32(hdr + 4, be);
        if (total < 12 || total % 4 || total > PCAPNG_MAX_BLOCK) {
            char detail[96];
            snprintf(detail, sizeof detail, "block length %u invalid; rest of file skipped",
                     total);
            rc = reject_frame(ps, "pcapng_bad_block_length", detail, NULL, 0);
            break;
        }
        if ((body = rd_take(r, total - 8)) == NULL) {
            rc = reject_frame(ps, "pcapng_truncated_block", "file ends inside a block", NULL, 0);
            break;
        }
        cur_init(&c, body, total - 12); /* without the trailing length */
        if (type == 1) {
            if (nifs < PCAPNG_MAX_IFACES)
                ng_idb(&c, be, &ifs[nifs++]);
            continue;
        }
        if (type != 6 && type != 3 && type != 2)
            continue; /* name resolution, statistics, custom blocks... */
        if (type == 6) {
            ifid = be ? cur_be32(&c) : cur_le32(&c);
            ts = (uint64_t)(be ? cur_be32(&c) : cur_le32(&c)) << 32;
            ts |= be ? cur_be32(&c) : cur_le32(&c);
            caplen = be ? cur_be32(&c) : cur_le32(&c);
            wirelen = be ? cur_be32(&c) : cur_le32(&c);
        } else if (type == 2) {
            ifid = be ? cur_be16(&c) : cur_le16(&c);
            cur_skip(&c, 2);
            ts = (uint64_t)(be ? cur_be32(&c) : cur_le32(&c)) << 32;
            ts |= be ? cur_be32(&c) : cur_le32(&c);
            caplen = be ? cur_be32(&c) : cur_le32(&c);
            wirelen = be ? cur_be32(&c) : cur_le32(&c);
        } else {
            ifid = 0;
            ts = 0;
            wirelen = be ? cur_be32(&c) : cur_le32(&c);
            caplen = wirelen < c.left ? wirelen : (uint32_t)c.left;
            if (nifs > 0 && ifs[0].snaplen && caplen > ifs[0].snaplen)
                caplen = ifs[0].snaplen;
        }
        if (c.err || caplen > c.left || ifid >= nifs) {
            ps->frame++;
            rc = reject_frame(ps, "pcapng_bad_packet_block",
                              ifid >= nifs ? "packet names an undeclared interface"
                                           : "captured length exceeds the block",
                              NULL, 0);
            if (rc != ES_OK)
                break;
            continue;
        }
        rc = pcapsrc_packet(ps, ifs[ifid].linktype, type == 3 ? ES_TIME_NONE : ng_time(&ifs[ifid], ts),
                            c.p, caplen, wirelen > caplen ? wirelen : caplen);
        if (rc != ES_OK)
            break;
    }
    free(ifs);
    return rc;
}

int pcapsrc_sniff(const uint8_t *p, size_t len)
{
    static const uint8_t magics[][4] = {
        {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, {0x4d, 0x3c, 0xb2, 0xa1},
        {0xa1, 0xb2, 0x3c, 0x4d}, {0x0a, 0x0d, 0x0d, 0x0a},
    };
    size_t i;

    if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return 1;
    if (len < 4)
        return 0;
    for (i = 0; i < sizeof magics / sizeof magics[0]; i++)
        if (memcmp(p, magics[i], 4) == 0)
            return 1;
    return 0;
}

static int read_any(struct pcapsrc *ps, struct rd *r, char *err, size_t errlen)
{
    uint8_t magic[4];
    uint32_t m;

    if (rd_read(r, magic, 4) != 4) {
        snprintf(err, errlen, "too short for a capture file");
        return ES_ETRUNC;
    }
    m = get32(magic, 1);
    if (m == 0x0a0d0d0a)
        return read_pcapng(ps, r, magic, err, errlen);
    if (m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1)
        return read_pcap(ps, r, magic, err, errlen);
    snprintf(err, errlen, "not a pcap or pcapng file (magic %02x %02x %02x %02x)", magic[0],
             magic[1], magic[2], magic[3]);
    return ES_EINVALID;
}

int pcapsrc_read_mem(struct pcapsrc *ps, const uint8_t *p, size_t len, char *err,
                     size_t errlen)
{
    struct rd r;
    int rc;

    memset(&r, 0, sizeof r);
    r.mem = p;
    r.memlen = len;
    if (errlen)
        err[0] = '\0';
    rc = read_any(ps, &r, err, errlen);
    free(r.buf);
    return rc;
}

int pcapsrc_read_path(struct pcapsrc *ps, const char *path, char *err, size_t errlen)
{
    struct rd r;
    char why[256];
    int rc;

    memset(&r, 0, sizeof r);
    why[0] = '\0';
    r.gz = gzopen(path, "rb");
    if (r.gz == NULL) {
        snprintf(err, errlen, "%s: cannot open", path);
        return ES_EIO;
    }
    gzbuffer(r.gz, 1 << 18);
    rc = read_any(ps, &r, why, sizeof why);
    if (ps->sink)
        ps->sink->counts.bytes += r.consumed;
    if (rc == ES_OK) {
        int zerr;
        const char *zmsg = gzerror(r.gz, &zerr);
        if (zerr != Z_OK && zerr != Z_BUF_ERROR) {
            /* a damaged gzip stream: what was read went in; say where it stopped */
            ps->frame++;
            rc = reject_frame(ps, "gzip_corrupt", zmsg, NULL, 0);
        }
    }
    gzclose(r.gz);
    free(r.buf);
    if (rc != ES_OK && why[0])
        snprintf(err, errlen, "%s: %s", path, why);
    else if (rc != ES_OK)
        snprintf(err, errlen, "%s: %s", path, es_strerror(rc));
    return rc;
}

/* ------------------------------------------------------------------------------------
 * Life cycle
 */

struct pcapsrc *pcapsrc_new(struct sink *s, const struct pcapsrc_opts *opts)
{
    struct pcapsrc *ps = xcalloc_line(1, sizeof *ps); /* a worker's: written by its thread */

    ps->sink = s;
    if (opts)
        ps->o = *opts;
    /* zero fields take the defaults, here for the TCP table and the workers alike */
    if (ps->o.flow_mem == 0)
        ps->o.flow_mem = PCAPSRC_DEFAULT_FLOW_MEM;
    if (ps->o.total_mem == 0)
        ps->o.total_mem = PCAPSRC_DEFAULT_TOTAL_MEM;
    if (ps->o.max_flows == 0)
        ps->o.max_flows = PCAPSRC_DEFAULT_MAX_FLOWS;
    if (ps->o.idle_us <= 0)
        ps->o.idle_us = PCAPSRC_DEFAULT_IDLE_US;
    if (ps->o.threads >= 2)
        ps->par = par_new(ps, s, &ps->o, ps->o.threads);
    if (ps->par == NULL)
        ps->tcp = tcp_new(ps, &ps->o);
    ps->msgbuf = envelope_msgbuf_new();
    return ps;
}

void pcapsrc_set_hooks(struct pcapsrc *ps, pcapsrc_event_fn ev, pcapsrc_reject_fn rej,
                       void *ctx)
{
    ps->ev_hook = ev;
    ps->rej_hook = rej;
    ps->hook_ctx = ctx;
}

int pcapsrc_finish(struct pcapsrc *ps)
{
    size_t i;
    int rc = ps->par ? par_finish(ps->par) : tcp_finish(ps->tcp);

    if (rc != ES_OK || ps->frags == NULL)
        return rc;
    for (i = 0; i < FRAG_MAX && rc == ES_OK; i++)
        if (ps->frags[i].used) {
            ps->frags[i].used = 0;
            rc = pcapsrc_reject_frames(ps, ps->frags[i].first_frame, 0,
                                       "ipv4_fragments_incomplete",
                                       "capture ended before every fragment came", NULL, 0);
        }
    return rc;
}

void pcapsrc_free(struct pcapsrc *ps)
{
    if (ps == NULL)
        return;
    par_free(ps->par);
    tcp_free(ps->tcp);
    envelope_msgbuf_free(ps->msgbuf);
    free(ps->frags);
    free(ps);
}

int pcapsrc_ingest_file(struct sink *s, const char *path, const char *display_name, char *err,
                        size_t errlen)
{
    struct pcapsrc *ps;
    int rc, rc2;

    rc = sink_origin(s, "pcap", display_name ? display_name : path);
    if (rc != ES_OK) {
        snprintf(err, errlen, "%s: cannot record the origin: %s", path, es_strerror(rc));
        return rc;
    }
    ps = pcapsrc_new(s, &default_opts);
    rc = pcapsrc_read_path(ps, path, err, errlen);
    if (rc == ES_OK || rc == ES_EINTERRUPTED) {
        rc2 = pcapsrc_finish(ps);
        if (rc == ES_OK && rc2 != ES_OK) {
            rc = rc2;
            snprintf(err, errlen, "%s: %s", path, es_strerror(rc));
        }
    }
    pcapsrc_free(ps);
    return rc;
}
