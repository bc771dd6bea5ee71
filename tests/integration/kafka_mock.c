/*
 * Test helper: a librdkafka mock cluster (rdkafka_mock.h) speaking the Kafka protocol on
 * loopback, plus a real librdkafka producer publishing CloudEvents to it.
 *
 * usage: kafka_mock TOPIC[,TOPIC...] PARTITIONS
 * Prints "BOOTSTRAP host:port[,...]" on stdout, then reads commands on stdin, answering
 * each with one line ("OK ..." or "ERR ..."):
 *   produce TOPIC N PREFIX binary|structured|bad|timed [RATE]
 *                                                 N events with ids PREFIX-0..N-1, keys
 *                                                 ord-<i % 4>; "bad" = structured mode
 *                                                 with a body that is not JSON; "timed"
 *                                                 (benchmark): random UUIDv4 ids and
 *                                                 correlation ids (processes of 5, each
 *                                                 event caused by the one before), the
 *                                                 producer's time in µs; RATE events/s
 *   down / up                                     take broker 1 down / bring it back
 * Runs until stdin ends or it is killed.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf;
}

static rd_kafka_t *make_producer(const char *bootstrap)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[256];
    rd_kafka_t *rk;

    if (bootstrap != NULL &&
        rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        exit(1);
    }
    rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.idempotence", "false", err, sizeof err);
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk == NULL) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        exit(1);
    }
    return rk;
}

/* A random UUIDv4 (xorshift64*: test data, not cryptography). */
static void uuid4(char out[37])
{
    static uint64_t x = 0;
    unsigned char b[16];
    int i;

    if (x == 0)
        x = (uint64_t)time(NULL) * 6364136223846793005ULL + (uint64_t)clock() + 1;
    for (i = 0; i < 16; i++) {
        x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
        b[i] = (unsigned char)((x * 2685821657736338717ULL) >> 56);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int produce(rd_kafka_t *rk, const char *topic, int n, const char *prefix, const char *mode,
                   double rate)
{
    int i, failed = 0;
    char id[160], key[40], body[640], now[64], corr[37] = "", prev[160] = "";
    time_t tnow = time(NULL);
    double t0 = now_s();

    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tnow));
    for (i = 0; i < n; i++) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(8);
        rd_kafka_resp_err_t err;

        if (rate > 0 && i % 100 == 0) { /* paced: sleep while ahead of i / rate */
            double ahead = t0 + i / rate - now_s();
            if (ahead > 0) {
                struct timespec ts = {(time_t)ahead, (long)((ahead - (time_t)ahead) * 1e9)};
                nanosleep(&ts, NULL);
            }
            rd_kafka_poll(rk, 0);
        }
        snprintf(id, sizeof id, "%s-%d", prefix, i);
        snprintf(key, sizeof key, "ord-%d", i % 4);
        if (strcmp(mode, "binary") == 0) {
            rd_kafka_header_add(h, "ce_specversion", -1, "1.0", -1);
            rd_kafka_header_add(h, "ce_id", -1, id, -1);
            rd_kafka_header_add(h, "ce_type", -1, "OrderPlaced", -1);
            rd_kafka_header_add(h, "ce_source", -1, "/orders", -1);
            rd_kafka_header_add(h, "ce_time", -1, now, -1);
            rd_kafka_header_add(h, "ce_correlationid", -1, key, -1);
            rd_kafka_header_add(h, "content-type", -1, "application/json", -1);
            snprintf(body, sizeof body, "{\"order\":\"%s\",\"n\":%d}", key, i);
        } else if (strcmp(mode, "timed") == 0) {
            /* benchmark: random ids as real producers send (the costly case for the store's
             * indexes), the producer's time in µs, to measure publish -> queryable */
            struct timespec ts;
            char cause[200] = "";
            clock_gettime(CLOCK_REALTIME, &ts);
            if (i % 5 == 0)
                uuid4(corr), prev[0] = '\0';
            if (prev[0])
                snprintf(cause, sizeof cause, ",\"causationid\":\"%s\"", prev);
            uuid4(id);
            snprintf(key, sizeof key, "%s", corr);
            rd_kafka_header_add(h, "content-type", -1, "application/cloudevents+json", -1);
            snprintf(body, sizeof body,
                     "{\"specversion\":\"1.0\",\"id\":\"%s\",\"type\":\"BenchEvent\","
                     "\"source\":\"/bench/%s\",\"time\":%lld,\"correlationid\":\"%s\"%s,"
                     "\"data\":{\"i\":%d}}",
                     id, prefix, (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, corr, cause, i);
            snprintf(prev, sizeof prev, "%s", id);
        } else if (strcmp(mode, "structured") == 0) {
            rd_kafka_header_add(h, "content-type", -1, "application/cloudevents+json", -1);
            snprintf(body, sizeof body,
                     "{\"specversion\":\"1.0\",\"id\":\"%s\",\"type\":\"OrderPaid\","
                     "\"source\":\"/payments\",\"time\":\"%s\",\"correlationid\":\"%s\","
                     "\"data\":{\"n\":%d}}",
                     id, now, key, i);
        } else {
            rd_kafka_header_add(h, "content-type", -1, "application/cloudevents+json", -1);
            snprintf(body, sizeof body, "{\"specversion\":\"1.0\",\"id\":\"%s\"", id);
        }
        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                                RD_KAFKA_V_VALUE(body, strlen(body)),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                                RD_KAFKA_V_END);
        if (err) {
            rd_kafka_headers_destroy(h);
            failed++;
        }
    }
    if (rd_kafka_flush(rk, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        failed++;
    return failed;
}

int main(int argc, char **argv)
{
    rd_kafka_t *host, *prod;
    rd_kafka_mock_cluster_t *mc;
    char line[512];
    char *topics, *tok, *save = NULL;
    int parts;

    if (argc != 3) {
        fprintf(stderr, "usage: kafka_mock TOPIC PARTITIONS\n");
        return 2;
    }
    topics = argv[1];
    parts = atoi(argv[2]);
    signal(SIGPIPE, SIG_IGN);
    host = make_producer(NULL);
    mc = rd_kafka_mock_cluster_new(host, 1);
    if (mc == NULL) {
        fprintf(stderr, "kafka_mock: cannot start the mock cluster\n");
        return 1;
    }
    for (tok = strtok_r(topics, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
        if (rd_kafka_mock_topic_create(mc, tok, parts > 0 ? parts : 1, 1) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "kafka_mock: cannot create topic %s\n", tok);
            return 1;
        }
    prod = make_producer(rd_kafka_mock_cluster_bootstraps(mc));
    printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    while (fgets(line, sizeof line, stdin) != NULL) {
        char topic[128], prefix[128], mode[32];
        int n;
        double rate = 0;

        if (sscanf(line, "produce %127s %d %127s %31s %lf", topic, &n, prefix, mode, &rate) >= 4) {
            int failed = produce(prod, topic, n, prefix, mode, rate);
            printf(failed ? "ERR %d failed\n" : "OK produced %d\n", failed ? failed : n);
        } else if (strncmp(line, "down", 4) == 0) {
            rd_kafka_mock_broker_set_down(mc, 1);
            printf("OK down\n");
        } else if (strncmp(line, "up", 2) == 0) {
            rd_kafka_mock_broker_set_up(mc, 1);
            printf("OK up\n");
        } else {
            printf("ERR unknown command\n");
        }
        fflush(stdout);
    }
    rd_kafka_destroy(prod);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(host);
    return 0;
}
