/*
 * Test helper: a librdkafka mock cluster (rdkafka_mock.h) speaking the Kafka protocol on
 * loopback, plus a real librdkafka producer publishing CloudEvents to it.
 *
 * usage: kafka_mock TOPIC[,TOPIC...] PARTITIONS
 * Prints "BOOTSTRAP host:port[,...]" on stdout, then reads commands on stdin, answering
 * each with one line ("OK ..." or "ERR ..."):
 *   produce TOPIC N PREFIX binary|structured|bad|timed   N events with ids PREFIX-0..N-1, keys
 *                                                 ord-<i % 4>; "bad" = structured mode
 *                                                 with a body that is not JSON
 *   down / up                                     take broker 1 down / bring it back
 * Runs until stdin ends or it is killed.
 */
#include <signal.h>
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

static int produce(rd_kafka_t *rk, const char *topic, int n, const char *prefix, const char *mode)
{
    int i, failed = 0;
    char id[160], key[32], body[640], now[64];
    time_t tnow = time(NULL);

    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tnow));
    for (i = 0; i < n; i++) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(8);
        rd_kafka_resp_err_t err;

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
            /* benchmark: the producer's time in µs, to measure publish -> queryable */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            rd_kafka_header_add(h, "content-type", -1, "application/cloudevents+json", -1);
            snprintf(body, sizeof body,
                     "{\"specversion\":\"1.0\",\"id\":\"%s\",\"type\":\"BenchEvent\","
                     "\"source\":\"/bench\",\"time\":%lld,\"correlationid\":\"%s\",\"data\":{}}",
                     id, (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, key);
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

        if (sscanf(line, "produce %127s %d %127s %31s", topic, &n, prefix, mode) == 4) {
            int failed = produce(prod, topic, n, prefix, mode);
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
