/*
 * TCP reassembly (collector/pcap/tcp.c) driven through pcapsrc_packet with raw IPv4
 * packets built here: every order of a stream's segments, duplicates and overlaps give
 * the same events; a missing segment, a memory limit, an idle timeout and a RST give
 * rejects, never silence; memory returns to zero.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "collector/pcap/decoders.h"
#include "collector/pcap/pcapsrc.h"

#define LT_RAW 101
#define MAXEV 64

struct got {
    char ids[MAXEV][32];
    int nev;
    char reasons[MAXEV][48];
    int nrej;
};

static int on_event(void *ctx, struct event *ev)
{
    struct got *g = ctx;

    if (g->nev < MAXEV)
        snprintf(g->ids[g->nev++], sizeof g->ids[0], "%s", ev->event_id ? ev->event_id : "-");
    return ES_OK;
}

static int on_reject(void *ctx, const char *loc, const char *reason, const char *detail)
{
    struct got *g = ctx;

    (void)loc, (void)detail;
    if (g->nrej < MAXEV)
        snprintf(g->reasons[g->nrej++], sizeof g->reasons[0], "%s", reason);
    return ES_OK;
}

/* An IPv4 + TCP packet from 10.0.0.1:40000 (client) to 10.0.0.2:4222 (or back). */
static size_t packet(uint8_t *buf, int to_server, uint32_t seq, uint8_t flags,
                     const void *data, size_t len, uint16_t port)
{
    size_t tot = 40 + len;
    uint8_t a = to_server ? 1 : 2, b = to_server ? 2 : 1;
    uint16_t sp = to_server ? 40000 : port, dp = to_server ? port : 40000;

    memset(buf, 0, 40);
    buf[0] = 0x45;
    buf[2] = (uint8_t)(tot >> 8), buf[3] = (uint8_t)tot;
    buf[8] = 64, buf[9] = 6;
    buf[12] = 10, buf[15] = a;
    buf[16] = 10, buf[19] = b;
    buf[20] = (uint8_t)(sp >> 8), buf[21] = (uint8_t)sp;
    buf[22] = (uint8_t)(dp >> 8), buf[23] = (uint8_t)dp;
    buf[24] = (uint8_t)(seq >> 24), buf[25] = (uint8_t)(seq >> 16);
    buf[26] = (uint8_t)(seq >> 8), buf[27] = (uint8_t)seq;
    buf[32] = 5 << 4;
    buf[33] = flags;
    if (len)
        memcpy(buf + 40, data, len);
    return tot;
}

static int count_reason(const struct got *g, const char *reason)
{
    int i, n = 0;

    for (i = 0; i < g->nrej; i++)
        n += strcmp(g->reasons[i], reason) == 0;
    return n;
}

static void send_seg(struct pcapsrc *ps, int64_t ts, int to_server, uint32_t seq, uint8_t flags,
                     const void *data, size_t len)
{
    uint8_t buf[2048];
    size_t n = packet(buf, to_server, seq, flags, data, len, 4222);

    CHECK_INT(pcapsrc_packet(ps, LT_RAW, ts, buf, n, n), ES_OK);
}

static const char stream[] =
    "CONNECT {}\r\n"
    "PUB a.b 22\r\n{\"id\":\"e1\",\"type\":\"T\"}\r\n"
    "PUB a.b 22\r\n{\"id\":\"e2\",\"type\":\"T\"}\r\n"
    "PING\r\n"
    "PUB a.b 22\r\n{\"id\":\"e3\",\"type\":\"T\"}\r\n"
    "PUB a.b 22\r\n{\"id\":\"e4\",\"type\":\"T\"}\r\n";

#define ISN 1000000u

/* Sends stream split at cuts[] in the order given, plus optional duplicate/overlap. */
static void run_order(struct got *g, const size_t *cuts, int nseg, const int *order, int dup,
                      int drop, const struct pcapsrc_opts *o)
{
    struct pcapsrc *ps = pcapsrc_new(NULL, o);
    size_t bounds[8];
    int i;
    int64_t ts = 1000000;

    memset(g, 0, sizeof *g);
    pcapsrc_set_hooks(ps, on_event, on_reject, g);
    bounds[0] = 0;
    for (i = 0; i < nseg - 1; i++)
        bounds[i + 1] = cuts[i];
    bounds[nseg] = strlen(stream);
    send_seg(ps, ts++, 1, ISN - 1, 0x02, NULL, 0);
    for (i = 0; i < nseg; i++) {
        int k = order[i];
        if (k == drop)
            continue;
        send_seg(ps, ts++, 1, ISN + (uint32_t)bounds[k], 0x18, stream + bounds[k],
                 bounds[k + 1] - bounds[k]);
        if (dup && i == 1) /* a retransmission and an overlap of the first segment */
            send_seg(ps, ts++, 1, ISN + (uint32_t)bounds[order[0]], 0x18,
                     stream + bounds[order[0]], bounds[order[0] + 1] - bounds[order[0]]);
    }
    if (dup) /* overlapping everything once more, at the end */
        send_seg(ps, ts++, 1, ISN + 5, 0x18, stream + 5, 60);
    send_seg(ps, ts++, 1, ISN + (uint32_t)strlen(stream), 0x11, NULL, 0);
    CHECK_INT(pcapsrc_finish(ps), ES_OK);
    pcapsrc_free(ps);
}

static int next_perm(int *a, int n)
{
    int i = n - 2, j, t;

    while (i >= 0 && a[i] >= a[i + 1])
        i--;
    if (i < 0)
        return 0;
    j = n - 1;
    while (a[j] <= a[i])
        j--;
    t = a[i], a[i] = a[j], a[j] = t;
    for (i++, j = n - 1; i < j; i++, j--)
        t = a[i], a[i] = a[j], a[j] = t;
    return 1;
}

static void test_orders(void)
{
    static const size_t cuts[] = {20, 47, 60, 100};
    int order[5] = {0, 1, 2, 3, 4}, dup, perms = 0;
    struct got g;

    do {
        for (dup = 0; dup < 2; dup++) {
            run_order(&g, cuts, 5, order, dup, -1, NULL);
            CHECK_INT(g.nev, 4);
            CHECK_INT(g.nrej, 0);
            if (g.nev == 4) {
                CHECK_STR(g.ids[0], "e1");
                CHECK_STR(g.ids[3], "e4");
            }
            if (g.nev != 4 || g.nrej != 0)
                fprintf(stderr, "  order %d%d%d%d%d dup %d\n", order[0], order[1], order[2],
                        order[3], order[4], dup);
        }
        perms++;
    } while (next_perm(order, 5));
    CHECK_INT(perms, 120);
}

static void test_gap(void)
{
    static const size_t cuts[] = {20, 47, 60, 100};
    static const int order[5] = {0, 1, 2, 3, 4};
    struct got g;

    /* Segment 1 (bytes 20..47, inside e1's payload) never arrives: e1 is lost, the rest is
     * decoded after resynchronising, and the loss is a reject. */
    run_order(&g, cuts, 5, order, 0, 1, NULL);
    CHECK(count_reason(&g, "tcp_gap") > 0);
    CHECK_INT(g.nev, 3);
    if (g.nev == 3)
        CHECK_STR(g.ids[0], "e2");
}

static void test_memory_limit(void)
{
    struct pcapsrc_opts o = {4096, 8192, 16, 0, 0};
    struct pcapsrc *ps = pcapsrc_new(NULL, &o);
    struct got g;
    char big[1200];
    int i;

    memset(&g, 0, sizeof g);
    memset(big, 'x', sizeof big);
    pcapsrc_set_hooks(ps, on_event, on_reject, &g);
    send_seg(ps, 1, 1, ISN - 1, 0x02, NULL, 0);
    /* a hole at the start, then more waiting data than the flow may hold */
    for (i = 0; i < 6; i++)
        send_seg(ps, 2 + i, 1, ISN + 100 + (uint32_t)i * sizeof big, 0x18, big, sizeof big);
    CHECK(count_reason(&g, "tcp_gap") > 0);
    CHECK_INT(pcapsrc_finish(ps), ES_OK);
    pcapsrc_free(ps);
}

/*
 * A source closing flows idle for 5 s, holding a NATS connection whose SYN came at t_syn
 * and half a message at t_part; buf gets the SYN of another connection (length *n).
 */
static struct pcapsrc *half_message_flow(struct got *g, int64_t t_syn, int64_t t_part,
                                         uint8_t *buf, size_t *n)
{
    static const char part[] = "PUB a.b 22\r\n{\"id\":";
    struct pcapsrc_opts o = {0, 0, 0, 5000000, 0};
    struct pcapsrc *ps = pcapsrc_new(NULL, &o);

    memset(g, 0, sizeof *g);
    pcapsrc_set_hooks(ps, on_event, on_reject, g);
    send_seg(ps, t_syn, 1, ISN - 1, 0x02, NULL, 0);
    send_seg(ps, t_part, 1, ISN, 0x18, part, strlen(part));
    CHECK_INT(g->nrej, 0);
    *n = packet(buf, 1, 77, 0x02, NULL, 0, 1883);
    return ps;
}

static void test_idle_and_rst(void)
{
    struct got g;
    uint8_t buf[256];
    size_t n;
    struct pcapsrc *ps = half_message_flow(&g, 1000000, 1000001, buf, &n);

    /* another connection much later: the first is closed as idle, its partial message told */
    CHECK_INT(pcapsrc_packet(ps, LT_RAW, 20000000, buf, n, n), ES_OK);
    CHECK(count_reason(&g, "nats_truncated") > 0);
    CHECK_INT(pcapsrc_finish(ps), ES_OK);
    pcapsrc_free(ps);
}

/*
 * Packets without a capture time (pcapng simple blocks) or with one no clock can show
 * (a corrupt block: INT64_MAX, INT64_MIN + 1) never overflow the idle arithmetic; a flow
 * seen only untimed is idle from the first timed packet on, not closed at once.
 */
static void test_untimed_and_absurd_times(void)
{
    struct got g;
    uint8_t buf[256];
    size_t n;
    struct pcapsrc *ps = half_message_flow(&g, ES_TIME_NONE, INT64_MAX, buf, &n);

    CHECK_INT(pcapsrc_packet(ps, LT_RAW, 1000000000, buf, n, n), ES_OK);
    CHECK_INT(count_reason(&g, "nats_truncated"), 0); /* untimed till now: not idle yet */
    CHECK_INT(pcapsrc_packet(ps, LT_RAW, INT64_MIN + 1, buf, n, n), ES_OK);
    CHECK_INT(pcapsrc_packet(ps, LT_RAW, 1000000000 + 20000000, buf, n, n), ES_OK);
    CHECK_INT(count_reason(&g, "nats_truncated"), 1); /* idle 20 s after the first timed one */
    CHECK_INT(pcapsrc_finish(ps), ES_OK);
    pcapsrc_free(ps);
}

static void test_ports(void)
{
    char err[256];

    CHECK_INT(decoders_port_add("9093=kafka", err, sizeof err), ES_OK);
    CHECK(decoders_by_port(9093) == decoders_by_name("kafka"));
    CHECK(decoders_by_port(5672) == decoders_by_name("amqp"));
    CHECK_INT(decoders_port_add("9093", err, sizeof err), ES_EUSAGE);
    CHECK_INT(decoders_port_add("0=http", err, sizeof err), ES_EUSAGE);
    CHECK_INT(decoders_port_add("70000=http", err, sizeof err), ES_EUSAGE);
    CHECK_INT(decoders_port_add("80=gopher", err, sizeof err), ES_EUSAGE);
    CHECK(strstr(err, "gopher") != NULL);
}

int main(void)
{
    test_orders();
    test_gap();
    test_memory_limit();
    test_idle_and_rst();
    test_untimed_and_absurd_times();
    test_ports();
    return CHECK_DONE();
}
