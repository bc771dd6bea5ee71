/*
 * Makes real Kafka traffic on loopback for tests/captures: librdkafka's mock cluster
 * (rdkafka_mock.h, the real protocol), producers with record headers (ce_ binding) using
 * each compression codec, then a consumer reading everything back (Fetch responses).
 * Prints the bootstrap address, waits for a line on stdin (the capture is started), runs.
 * Build: cc -o kafka_mock kafka_mock.c $(pkg-config --cflags --libs rdkafka)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static rd_kafka_t *make(rd_kafka_type_t type, const char *bootstraps, const char *codec)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;

    if (bootstraps)
        rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof err);
    if (codec && rd_kafka_conf_set(conf, "compression.codec", codec, err, sizeof err) !=
                     RD_KAFKA_CONF_OK) {
        fprintf(stderr, "codec %s: %s\n", codec, err);
        exit(1);
    }
    if (type == RD_KAFKA_PRODUCER)
        rd_kafka_conf_set(conf, "linger.ms", "100", err, sizeof err);
    if (type == RD_KAFKA_CONSUMER) {
        rd_kafka_conf_set(conf, "group.id", "es-capture", err, sizeof err);
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err);
    }
    if ((rk = rd_kafka_new(type, conf, err, sizeof err)) == NULL) {
        fprintf(stderr, "rd_kafka_new: %s\n", err);
        exit(1);
    }
    return rk;
}

int main(void)
{
    static const char *const codecs[] = {"none", "gzip", "lz4", "zstd", "snappy"};
    rd_kafka_t *host = make(RD_KAFKA_PRODUCER, NULL, NULL), *rk;
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(host, 1);
    const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
    char line[64], id[64], val[256], key[32];
    int produced = 0, got = 0, i, k;

    rd_kafka_mock_topic_create(mc, "orders", 2, 1);
    printf("%s\n", bs);
    fflush(stdout);
    if (fgets(line, sizeof line, stdin) == NULL)
        return 1;
    for (k = 0; k < (int)(sizeof codecs / sizeof codecs[0]); k++) {
        rk = make(RD_KAFKA_PRODUCER, bs, codecs[k]);
        for (i = 0; i < 2; i++) {
            rd_kafka_headers_t *h = rd_kafka_headers_new(8);
            snprintf(id, sizeof id, "kafka-%s-%d", codecs[k], i);
            snprintf(key, sizeof key, "order-%d", 40 + k);
            snprintf(val, sizeof val, "{\"orderId\":\"order-%d\",\"codec\":\"%s\",\"n\":%d}",
                     40 + k, codecs[k], i);
            rd_kafka_header_add(h, "ce_specversion", -1, "1.0", -1);
            rd_kafka_header_add(h, "ce_id", -1, id, -1);
            rd_kafka_header_add(h, "ce_type", -1, i ? "PaymentRequested" : "OrderPlaced", -1);
            rd_kafka_header_add(h, "ce_source", -1, "/orders", -1);
            rd_kafka_header_add(h, "ce_time", -1, "2026-11-23T22:00:00Z", -1);
            rd_kafka_header_add(h, "ce_correlationid", -1, key, -1);
            rd_kafka_header_add(h, "content-type", -1, "application/json", -1);
            if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("orders"), RD_KAFKA_V_KEY(key, strlen(key)),
                                  RD_KAFKA_V_VALUE(val, strlen(val)),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END) != 0) {
                fprintf(stderr, "produce failed\n");
                return 1;
            }
            produced++;
        }
        rd_kafka_flush(rk, 10000);
        rd_kafka_destroy(rk);
    }
    rk = make(RD_KAFKA_CONSUMER, bs, NULL);
    {
        rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(tl, "orders", RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(rk, tl);
        rd_kafka_topic_partition_list_destroy(tl);
    }
    for (i = 0; i < 200 && got < produced; i++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (!m->err)
            got++;
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(host);
    fprintf(stderr, "kafka_mock: produced %d, consumed %d\n", produced, got);
    return got == produced ? 0 : 2;
}
