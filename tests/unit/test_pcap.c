/*
 * The capture file reader (collector/pcap/pcapsrc.c): both byte orders and timestamp
 * resolutions of pcap, pcapng, bad magic, truncated headers and records, oversized
 * records, and every prefix length of a real capture (nothing crashes, the whole file
 * gives its events, a cut file says so). Decoding by worker threads (par.c) gives what one
 * thread gives, in the same order, whatever the round size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "collector/pcap/pcapsrc.h"

struct got {
    int nev, nrej;
    int64_t first_observed;
    char last_reason[64];
};

static int on_event(void *ctx, struct event *ev)
{
    struct got *g = ctx;

    if (g->nev++ == 0)
        g->first_observed = ev->observed_us;
    return ES_OK;
}

static int on_reject(void *ctx, const char *loc, const char *reason, const char *detail)
{
    struct got *g = ctx;

    (void)loc, (void)detail;
    g->nrej++;
    snprintf(g->last_reason, sizeof g->last_reason, "%s", reason);
    return ES_OK;
}

static int read_buf(const uint8_t *p, size_t len, struct got *g)
{
    struct pcapsrc *ps = pcapsrc_new(NULL, NULL);
    char err[256];
    int rc;

    memset(g, 0, sizeof *g);
    pcapsrc_set_hooks(ps, on_event, on_reject, g);
    rc = pcapsrc_read_mem(ps, p, len, err, sizeof err);
    if (rc == ES_OK && pcapsrc_finish(ps) != ES_OK)
        rc = ES_EIO;
    pcapsrc_free(ps);
    return rc;
}

static uint8_t *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void put32(uint8_t *p, uint32_t v, int be)
{
    int i;

    for (i = 0; i < 4; i++)
        p[be ? i : 3 - i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put16(uint8_t *p, uint16_t v, int be)
{
    p[be ? 0 : 1] = (uint8_t)(v >> 8);
    p[be ? 1 : 0] = (uint8_t)v;
}

/* A pcap file (raw IPv4 link type) with one NATS connection carrying one PUB. */
static size_t make_pcap(uint8_t *out, int be, int nano)
{
    static const char pub[] = "PUB s 22\r\n{\"id\":\"e1\",\"type\":\"T\"}\r\n";
    static const uint8_t flags[3] = {0x02, 0x18, 0x11};
    size_t o = 24, plen[3] = {0, sizeof pub - 1, 0};
    uint32_t seq[3] = {99, 100, 100 + sizeof pub - 1};
    int i;

    put32(out, nano ? 0xa1b23c4d : 0xa1b2c3d4, be);
    put16(out + 4, 2, be);
    put16(out + 6, 4, be);
    memset(out + 8, 0, 8);
    put32(out + 16, 65535, be);
    put32(out + 20, 101, be);
    for (i = 0; i < 3; i++) {
        uint8_t *pk = out + o + 16;
        size_t n = 40 + plen[i];
        put32(out + o, 1795470000, be);
        put32(out + o + 4, nano ? 500000000u : 500000u, be);
        put32(out + o + 8, (uint32_t)n, be);
        put32(out + o + 12, (uint32_t)n, be);
        memset(pk, 0, 40);
        pk[0] = 0x45, pk[2] = (uint8_t)(n >> 8), pk[3] = (uint8_t)n, pk[9] = 6;
        pk[12] = 10, pk[15] = 1, pk[16] = 10, pk[19] = 2;
        pk[20] = 0x9c, pk[21] = 0x40, pk[22] = 0x10, pk[23] = 0x7e; /* 40000 -> 4222 */
        put32(pk + 24, seq[i], 1);
        pk[32] = 0x50, pk[33] = flags[i];
        memcpy(pk + 40, pub, plen[i]);
        o += 16 + n;
    }
    return o;
}

static void test_formats(void)
{
    uint8_t buf[1024];
    struct got g;
    size_t n;
    int be, nano;

    for (be = 0; be < 2; be++)
        for (nano = 0; nano < 2; nano++) {
            n = make_pcap(buf, be, nano);
            CHECK_INT(read_buf(buf, n, &g), ES_OK);
            CHECK_INT(g.nev, 1);
            CHECK_INT(g.nrej, 0);
            CHECK_INT(g.first_observed, 1795470000LL * 1000000 + 500000);
        }
    /* bad magic, empty, short header */
    CHECK_INT(read_buf((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, &g), ES_EINVALID);
    CHECK_INT(read_buf(buf, 0, &g), ES_ETRUNC);
    CHECK_INT(read_buf(buf, 10, &g), ES_ETRUNC);
    /* a record header claiming 2 GB: rejected, not allocated */
    n = make_pcap(buf, 0, 0);
    put32(buf + 24 + 8, 0x7fffffff, 0);
    CHECK_INT(read_buf(buf, n, &g), ES_OK);
    CHECK_STR(g.last_reason, "pcap_record_too_large");
    CHECK_INT(g.nev, 0);
}

static void test_prefixes(const char *path, int want_events)
{
    size_t len, i;
    uint8_t *buf = load(path, &len);
    struct got g;
    int rc, last = -1;

    CHECK(buf != NULL);
    if (buf == NULL)
        return;
    for (i = 0; i <= len; i++) {
        rc = read_buf(buf, i, &g);
        CHECK(rc == ES_OK || rc == ES_ETRUNC || rc == ES_EINVALID);
        if (i < len && i > 24 && g.nev < last - 2) /* a cut file loses at most its tail */
            CHECK_INT(g.nev, last);
        if (i > 24)
            last = g.nev;
    }
    CHECK_INT(g.nev, want_events);
    CHECK_INT(g.nrej, 0);
    /* one byte short: the last record is cut and says so */
    rc = read_buf(buf, len - 1, &g);
    CHECK_INT(rc, ES_OK);
    CHECK(strstr(g.last_reason, "truncated") != NULL && strncmp(g.last_reason, "pcap", 4) == 0);
    free(buf);
}

/* Everything a source hands over, as text: events (every field) and rejects, in order. */
struct transcript {
    char *s;
    size_t n, cap;
};

static void tr_add(struct transcript *t, const char *a, const char *b)
{
    size_t need = strlen(a) + strlen(b) + 2;

    if (t->cap - t->n <= need) {
        while (t->cap - t->n <= need)
            t->cap = t->cap ? t->cap * 2 : 4096;
        t->s = realloc(t->s, t->cap);
    }
    t->n += (size_t)sprintf(t->s + t->n, "%s%s\n", a, b);
}

static int tr_event(void *ctx, struct event *ev)
{
    char num[96];

#define X(f) tr_add(ctx, #f "=", ev->f ? ev->f : "(null)");
    EVENT_STR_FIELDS(X)
#undef X
    snprintf(num, sizeof num, "%lld %lld %llu", (long long)ev->time_us,
             (long long)ev->observed_us, (unsigned long long)ev->payload_hash);
    tr_add(ctx, "times=", num);
    return ES_OK;
}

static int tr_reject(void *ctx, const char *loc, const char *reason, const char *detail)
{
    tr_add(ctx, "reject=", loc);
    tr_add(ctx, reason, detail ? detail : "");
    return ES_OK;
}

static void transcript_of(const uint8_t *p, size_t len, unsigned threads, const char *round,
                          struct transcript *t, struct pcapsrc_stats *st)
{
    struct pcapsrc_opts o;
    struct pcapsrc *ps;
    char err[256];

    memset(&o, 0, sizeof o);
    o.threads = threads;
    setenv("EVENTSCOPE_ROUND_PACKETS", round, 1);
    ps = pcapsrc_new(NULL, &o);
    t->n = 0;
    pcapsrc_set_hooks(ps, tr_event, tr_reject, t);
    CHECK_INT(pcapsrc_read_mem(ps, p, len, err, sizeof err), ES_OK);
    CHECK_INT(pcapsrc_finish(ps), ES_OK);
    CHECK_INT(pcapsrc_finish(ps), ES_OK); /* twice: nothing more */
    *st = *pcapsrc_stats(ps);
    pcapsrc_free(ps);
    unsetenv("EVENTSCOPE_ROUND_PACKETS");
}

static void test_threads(const char *path, int min_events)
{
    static const char *const rounds[] = {"1", "2", "7", "8192"};
    static const unsigned nthreads[] = {2, 3, 5};
    struct transcript one = {NULL, 0, 0}, many = {NULL, 0, 0};
    struct pcapsrc_stats st1, stn;
    size_t len, i, k;
    uint8_t *buf = load(path, &len);

    CHECK(buf != NULL);
    if (buf == NULL)
        return;
    transcript_of(buf, len, 1, "1", &one, &st1);
    CHECK((int)st1.events >= min_events);
    for (i = 0; i < sizeof rounds / sizeof rounds[0]; i++)
        for (k = 0; k < sizeof nthreads / sizeof nthreads[0]; k++) {
            transcript_of(buf, len, nthreads[k], rounds[i], &many, &stn);
            CHECK(many.n == one.n && memcmp(many.s, one.s, one.n) == 0);
            CHECK(memcmp(&st1, &stn, sizeof st1) == 0);
        }
    /* dropped before the end: the workers stop, nothing leaks */
    {
        struct pcapsrc_opts o;
        struct pcapsrc *ps;
        char err[256];
        memset(&o, 0, sizeof o);
        o.threads = 2;
        setenv("EVENTSCOPE_ROUND_PACKETS", "1", 1);
        ps = pcapsrc_new(NULL, &o);
        pcapsrc_set_hooks(ps, tr_event, tr_reject, &many);
        CHECK_INT(pcapsrc_read_mem(ps, buf, len / 2, err, sizeof err), ES_OK);
        pcapsrc_free(ps);
        unsetenv("EVENTSCOPE_ROUND_PACKETS");
    }
    free(one.s);
    free(many.s);
    free(buf);
}

int main(void)
{
    test_threads("../captures/http.pcap", 7);
    test_threads("../captures/kafka.pcap", 1);
    test_threads("../captures/amqp.pcap", 1);
    test_threads("../captures/mqtt.pcap", 1);
    test_threads("../captures/nats.pcap", 1);
    test_threads("../captures/http_encoded.pcap", 1);
    test_threads("../golden/pcap/tcp_reorder/input.pcap", 1);
    test_threads("../golden/pcap/tcp_gap/input.pcap", 1);
    test_threads("../golden/pcap/ipv4_fragments/input.pcap", 1);
    test_threads("../golden/pcap/link_tunnels/input.pcap", 1);
    test_threads("../golden/pcap/http_truncated/input.pcap", 0);
    test_formats();
    test_prefixes("../golden/pcap/real_nats/input.pcap", 8);
    test_prefixes("../golden/pcap/real_http/input.pcap", 7);
    test_prefixes("../golden/pcap/pcapng_ns/input.pcapng", 1);
    return CHECK_DONE();
}
