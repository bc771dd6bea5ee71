/*
 * Benchmark input: N CloudEvents 1.0 JSON lines (~575 bytes each) of an e-commerce system,
 * with random UUIDv4 ids, correlation ids shared by ~5 events (one business process) and
 * causation chains inside each process; 64 processes are in flight at once, so their
 * events interleave as in a real log.
 *
 *   gen_events N [SEED] > events.jsonl
 *
 * Deterministic for a given (N, SEED). Not part of the product; built by tests/bench/run.sh.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* A random RFC 9562 version 4 UUID, lower-case, 36 characters + NUL. */
static void uuid4(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t a = rnd(), b = rnd();
    unsigned char u[16];
    int i, o = 0;

    memcpy(u, &a, 8);
    memcpy(u + 8, &b, 8);
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u[i] >> 4];
        out[o++] = hex[u[i] & 15];
    }
    out[o] = '\0';
}

struct step {
    const char *type;
    const char *source;
};

static const struct step steps[] = {
    {"com.example.shop.order.OrderPlaced", "https://shop.example.com/orders"},
    {"com.example.shop.payment.PaymentAuthorised", "https://shop.example.com/payments"},
    {"com.example.shop.inventory.StockReserved", "https://shop.example.com/inventory"},
    {"com.example.shop.shipping.ShipmentScheduled", "https://shop.example.com/shipping"},
    {"com.example.shop.notify.CustomerNotified", "https://shop.example.com/notifications"},
    {"com.example.shop.shipping.ParcelDispatched", "https://shop.example.com/shipping"},
    {"com.example.shop.order.OrderCompleted", "https://shop.example.com/orders"},
};

struct process {
    char corr[37];
    char last_id[37];
    unsigned order;  /* order number */
    int len, at;     /* events in this process, events emitted */
};

#define INFLIGHT 64

static void process_start(struct process *p, unsigned order)
{
    uuid4(p->corr);
    p->last_id[0] = '\0';
    p->order = order;
    p->len = 3 + (int)(rnd() % 5); /* 3..7, 5 on average */
    p->at = 0;
}

int main(int argc, char **argv)
{
    struct process procs[INFLIGHT];
    unsigned long long n, i;
    unsigned order = 100000;
    int64_t t_us = 1795392000000000LL; /* 2026-11-22T00:00:00Z */
    char id[37], ts[40];
    static char line[2048];
    int k;

    if (argc < 2) {
        fprintf(stderr, "usage: gen_events N [SEED]\n");
        return 2;
    }
    n = strtoull(argv[1], NULL, 10);
    if (argc > 2)
        rng_state ^= strtoull(argv[2], NULL, 10) * 0x100000001b3ULL;
    for (k = 0; k < INFLIGHT; k++)
        process_start(&procs[k], order++);
    for (i = 0; i < n; i++) {
        struct process *p = &procs[rnd() % INFLIGHT];
        const struct step *st = &steps[p->at % (int)(sizeof steps / sizeof steps[0])];
        time_t sec;
        struct tm tm;
        char cause[64];
        int len;

        t_us += 200 + (int64_t)(rnd() % 1600);
        sec = (time_t)(t_us / 1000000);
        gmtime_r(&sec, &tm);
        len = (int)strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(ts + len, sizeof ts - (size_t)len, ".%06dZ", (int)(t_us % 1000000));
        uuid4(id);
        if (p->last_id[0])
            snprintf(cause, sizeof cause, ",\"causationid\":\"%s\"", p->last_id);
        else
            cause[0] = '\0';
        len = snprintf(line, sizeof line,
                       "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"%s\",\"type\":\"%s\","
                       "\"subject\":\"orders/ord-%08u\",\"time\":\"%s\","
                       "\"datacontenttype\":\"application/json\",\"correlationid\":\"%s\"%s,"
                       "\"data\":{\"orderId\":\"ord-%08u\",\"customerId\":\"cus-%06u\","
                       "\"items\":[{\"sku\":\"SKU-%05u\",\"qty\":%u,\"price\":%u.%02u},"
                       "{\"sku\":\"SKU-%05u\",\"qty\":%u,\"price\":%u.%02u}],"
                       "\"total\":%u.%02u,\"currency\":\"EUR\",\"channel\":\"%s\","
                       "\"ship\":\"DE-std\"}}\n",
                       id, st->source, st->type, p->order, ts, p->corr, cause, p->order,
                       (unsigned)(rnd() % 1000000), (unsigned)(rnd() % 100000),
                       (unsigned)(1 + rnd() % 4), (unsigned)(rnd() % 200),
                       (unsigned)(rnd() % 100), (unsigned)(rnd() % 100000),
                       (unsigned)(1 + rnd() % 4), (unsigned)(rnd() % 200),
                       (unsigned)(rnd() % 100), (unsigned)(rnd() % 900),
                       (unsigned)(rnd() % 100), rnd() % 3 ? "web" : "mobile-app");
        fwrite(line, 1, (size_t)len, stdout);
        memcpy(p->last_id, id, sizeof id);
        if (++p->at == p->len)
            process_start(p, order++);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
