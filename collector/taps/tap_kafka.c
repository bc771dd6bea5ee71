/*
 * Kafka tap (librdkafka high-level consumer):
 * kafka://[user:pass@]host:port[,host:port]/topic[,topic]?group=G&from=beginning|end|TIME
 *
 * The tap consumes in its own consumer group (default: named after the store and the URL,
 * so it never takes partitions from the applications' groups, two taps never share one,
 * and a rerun of the same URL on the same store resumes where it stopped).
 * from= applies where the group has no committed offset yet: beginning, end (default), or
 * a time (RFC 3339 or epoch) — records older than TIME are skipped. Offsets are stored
 * for commit only after the store committed the records, so a crash or a broker loss
 * re-reads rather than loses (re-read records have the same location and are not stored
 * twice). user:pass selects SASL PLAIN (?mechanism=SCRAM-SHA-256|SCRAM-SHA-512); ?tls=1 or
 * --ca/--cert/--key selects TLS.
 *
 * CloudEvents: record headers ce_* (Kafka binding 1.0.2); content-type header for the
 * structured mode. Location: "<topic>/<partition>@<offset>". partition_key: the record key.
 * attrs: partition, offset, key, kafka_timestamp (ms), kafka_timestamp_type.
 */
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "collector/taps/taps.h"
#include "core/timeparse.h"
#include "core/xmalloc.h"

#define KAFKA_MAX_TOPICS 64
#define KAFKA_MAX_HEADERS 128

struct kafka_pending {
    char *topic;
    int32_t partition;
    int64_t next;  /* offset to commit: last stored + 1 */
    uint64_t gen;  /* tap_flush_seq() at hand-over */
};

struct kafka_state {
    rd_kafka_t *rk;
    char *topics[KAFKA_MAX_TOPICS];
    size_t ntopics;
    int64_t from_ms;      /* > 0: skip records older than this */
    int down;             /* all brokers down reported (atomic) */
    struct kafka_pending *pend;
    size_t npend, cap;
};

static void kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf; /* library code does not print */
}

static void kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct tap *t = opaque;
    struct kafka_state *k = t->priv;

    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        if (k != NULL && !__atomic_exchange_n(&k->down, 1, __ATOMIC_SEQ_CST))
            tap_notice(t, "all brokers down (%s); reconnecting", reason);
    } else if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__FATAL ||
               err == RD_KAFKA_RESP_ERR__SSL) {
        tap_notice(t, "%s", reason);
    }
}

/* Partitions given or taken by the group (on kafka_run's thread, inside the poll). */
static void kafka_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct tap *t = opaque;
    int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *e = NULL;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (coop)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        /* the tap reads from here on: scripts wait for this line before producing */
        tap_notice(t, "assigned %d partition%s", parts->cnt, parts->cnt == 1 ? "" : "s");
    } else {
        if (coop)
            e = rd_kafka_incremental_unassign(rk, parts);
        else
            rd_kafka_assign(rk, NULL);
        if (!tap_stopping(t))
            tap_notice(t, "%d partition%s revoked (the group rebalances)", parts->cnt,
                       parts->cnt == 1 ? "" : "s");
    }
    if (e != NULL) {
        tap_notice(t, "rebalance: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err,
                    size_t errlen)
{
    char e[256];

    if (rd_kafka_conf_set(conf, k, v, e, sizeof e) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "kafka setting %s: %s", k, e);
        return ES_EUSAGE;
    }
    return ES_OK;
}

static int kafka_open(struct tap *t, char *err, size_t errlen)
{
    struct kafka_state *k = xcalloc(1, sizeof *k);
    rd_kafka_conf_t *conf;
    rd_kafka_topic_partition_list_t *list;
    const struct rd_kafka_metadata *md = NULL;
    char *hosts[16], *group = NULL, e[512];
    const char *from = tap_url_param(&t->url, "from"), *v;
    size_t nh, i;
    int rc = ES_OK, j;
    rd_kafka_resp_err_t kerr;

    t->priv = k;
    k->ntopics = tap_split(t->url.path, k->topics, KAFKA_MAX_TOPICS);
    if (k->ntopics == 0) {
        snprintf(err, errlen, "no topic in URL (kafka://host:port/topic[,topic...])");
        return ES_EUSAGE;
    }
    if (from == NULL)
        from = "end";
    if (strcmp(from, "beginning") != 0 && strcmp(from, "end") != 0) {
        int64_t us;
        if (timeparse_text(from, strlen(from), &us, NULL) != ES_OK) {
            snprintf(err, errlen, "from= takes beginning, end or a time, not '%s'", from);
            return ES_EUSAGE;
        }
        k->from_ms = us / 1000;
    }
    /* every bootstrap host must resolve */
    nh = tap_split(t->url.hosts, hosts, 16);
    for (i = 0; i < nh; i++) {
        char *h = hosts[i], *c;
        if (h[0] == '[' && (c = strchr(h, ']')) != NULL) {
            *c = '\0';
            h++;
        } else if ((c = strrchr(h, ':')) != NULL) {
            *c = '\0';
        }
        if (rc == ES_OK)
            rc = tap_resolve(t, h, err, errlen);
    }
    for (i = 0; i < nh; i++)
        free(hosts[i]);
    if (rc != ES_OK)
        return rc;

    conf = rd_kafka_conf_new();
    if (tap_url_param(&t->url, "group") != NULL) {
        group = xstrdup(tap_url_param(&t->url, "group"));
    } else {
        /* one group per store and URL: two taps of one store never share partitions */
        char *key = xasprintf("%s|%s", t->opts->stem, t->uri);
        group = xasprintf("%s.%08llx", t->opts->stem,
                          (unsigned long long)(event_hash(key, strlen(key)) & 0xffffffffULL));
        free(key);
    }
    if ((rc = conf_set(conf, "bootstrap.servers", t->url.hosts, err, errlen)) != ES_OK ||
        (rc = conf_set(conf, "group.id", group, err, errlen)) != ES_OK ||
        (rc = conf_set(conf, "client.id", t->opts->stem, err, errlen)) != ES_OK ||
        (rc = conf_set(conf, "enable.auto.commit", "true", err, errlen)) != ES_OK ||
        (rc = conf_set(conf, "auto.commit.interval.ms", "500", err, errlen)) != ES_OK ||
        (rc = conf_set(conf, "enable.auto.offset.store", "false", err, errlen)) != ES_OK ||
        /* a debugging tap wants records soon, not in big fetches (default: up to 500 ms) */
        (rc = conf_set(conf, "fetch.wait.max.ms", "100", err, errlen)) != ES_OK ||
        (rc = conf_set(conf, "auto.offset.reset", strcmp(from, "end") == 0 ? "latest" : "earliest",
                       err, errlen)) != ES_OK ||
        (rc = conf_set(conf, "reconnect.backoff.ms", "100", err, errlen)) != ES_OK ||
        (rc = conf_set(conf, "session.timeout.ms", "10000", err, errlen)) != ES_OK ||
        (rc = conf_set(conf, "reconnect.backoff.max.ms", "5000", err, errlen)) != ES_OK)
        goto conf_fail;
    /* ?session_timeout=MS: how long the group waits for a tap that died before its
     * partitions move (default 10 s); heartbeats go three times as often */
    if ((v = tap_url_param(&t->url, "session_timeout")) != NULL) {
        char hb[32];
        long third = strtol(v, NULL, 10) / 3;
        snprintf(hb, sizeof hb, "%ld", third > 0 ? third : 1);
        if ((rc = conf_set(conf, "session.timeout.ms", v, err, errlen)) != ES_OK ||
            (rc = conf_set(conf, "heartbeat.interval.ms", hb, err, errlen)) != ES_OK)
            goto conf_fail;
    }
    if (t->url.user != NULL) {
        v = tap_url_param(&t->url, "mechanism");
        if ((rc = conf_set(conf, "security.protocol", t->url.tls ? "sasl_ssl" : "sasl_plaintext",
                           err, errlen)) != ES_OK ||
            (rc = conf_set(conf, "sasl.mechanisms", v ? v : "PLAIN", err, errlen)) != ES_OK ||
            (rc = conf_set(conf, "sasl.username", t->url.user, err, errlen)) != ES_OK ||
            (rc = conf_set(conf, "sasl.password", t->url.pass ? t->url.pass : "", err,
                           errlen)) != ES_OK)
            goto conf_fail;
    } else if (t->url.tls &&
               (rc = conf_set(conf, "security.protocol", "ssl", err, errlen)) != ES_OK) {
        goto conf_fail;
    }
    if ((t->opts->ca &&
         (rc = conf_set(conf, "ssl.ca.location", t->opts->ca, err, errlen)) != ES_OK) ||
        (t->opts->cert &&
         (rc = conf_set(conf, "ssl.certificate.location", t->opts->cert, err, errlen)) != ES_OK) ||
        (t->opts->key &&
         (rc = conf_set(conf, "ssl.key.location", t->opts->key, err, errlen)) != ES_OK))
        goto conf_fail;
    rd_kafka_conf_set_log_cb(conf, kafka_log);
    rd_kafka_conf_set_error_cb(conf, kafka_error);
    rd_kafka_conf_set_rebalance_cb(conf, kafka_rebalance);
    rd_kafka_conf_set_opaque(conf, t);
    free(group);
    group = NULL;
    k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (k->rk == NULL) {
        snprintf(err, errlen, "cannot create a Kafka consumer: %s", e);
        return ES_EUSAGE;
    }
    /* reachable? (credentials and TLS are checked by this round trip too) */
    kerr = rd_kafka_metadata(k->rk, 1, NULL, &md, 5000);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "cannot reach Kafka at %s: %s%s", t->url.hosts, rd_kafka_err2str(kerr),
                 t->url.tls ? " (TLS is on: does this port speak TLS, is --ca the CA that "
                              "signed the broker's certificate?)"
                            : "");
        return ES_EIO;
    }
    for (i = 0; i < k->ntopics; i++) {
        int found = strpbrk(k->topics[i], "^*") != NULL; /* a regex subscription */
        for (j = 0; j < md->topic_cnt && !found; j++)
            found = strcmp(md->topics[j].topic, k->topics[i]) == 0 &&
                    md->topics[j].err == RD_KAFKA_RESP_ERR_NO_ERROR;
        if (!found)
            tap_notice(t, "topic %s does not exist (yet): waiting for it", k->topics[i]);
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_poll_set_consumer(k->rk);
    list = rd_kafka_topic_partition_list_new((int)k->ntopics);
    for (i = 0; i < k->ntopics; i++)
        rd_kafka_topic_partition_list_add(list, k->topics[i], RD_KAFKA_PARTITION_UA);
    kerr = rd_kafka_subscribe(k->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "cannot subscribe: %s", rd_kafka_err2str(kerr));
        return ES_EIO;
    }
    return ES_OK;
conf_fail:
    free(group);
    rd_kafka_conf_destroy(conf);
    return rc;
}

/* Stores (for the next auto commit) the offsets of records the store has committed. */
static void kafka_store_committed(struct tap *t, int all)
{
    struct kafka_state *k = t->priv;
    rd_kafka_topic_partition_list_t *list;
    uint64_t seq = tap_flush_seq(t);
    size_t i, n = 0;

    while (n < k->npend && (all || k->pend[n].gen < seq))
        n++;
    if (n == 0)
        return;
    list = rd_kafka_topic_partition_list_new((int)n);
    for (i = 0; i < n; i++) {
        rd_kafka_topic_partition_t *p =
            rd_kafka_topic_partition_list_find(list, k->pend[i].topic, k->pend[i].partition);
        if (p == NULL)
            p = rd_kafka_topic_partition_list_add(list, k->pend[i].topic, k->pend[i].partition);
        if (k->pend[i].next > p->offset)
            p->offset = k->pend[i].next;
        free(k->pend[i].topic);
    }
    /* a partition revoked meanwhile refuses: another member reads it again */
    (void)rd_kafka_offsets_store(k->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    memmove(k->pend, k->pend + n, (k->npend - n) * sizeof *k->pend);
    k->npend -= n;
}

static void pend_push(struct kafka_state *k, const char *topic, int32_t part, int64_t next,
                      uint64_t gen)
{
    if (k->npend == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 256;
        k->pend = xreallocarray(k->pend, k->cap, sizeof *k->pend);
    }
    k->pend[k->npend].topic = xstrdup(topic);
    k->pend[k->npend].partition = part;
    k->pend[k->npend].next = next;
    k->pend[k->npend].gen = gen;
    k->npend++;
}

/* One record; returns tap_deliver's code. */
static int kafka_record(struct tap *t, rd_kafka_message_t *m)
{
    struct kafka_state *k = t->priv;
    struct envelope_header h[KAFKA_MAX_HEADERS];
    rd_kafka_headers_t *hdrs = NULL;
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    const char *topic = rd_kafka_topic_name(m->rkt), *name;
    const void *val;
    size_t nh = 0, vsize, i;
    struct event tmpl;
    json_t *attrs;
    uint64_t gen = 0;
    int rc;

    if (k->from_ms > 0 && ts >= 0 && ts < k->from_ms) {
        pend_push(k, topic, m->partition, m->offset + 1, 0);
        return ES_OK;
    }
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
        for (i = 0; nh < KAFKA_MAX_HEADERS &&
                    rd_kafka_header_get_all(hdrs, i, &name, &val, &vsize) ==
                        RD_KAFKA_RESP_ERR_NO_ERROR;
             i++) {
            h[nh].name = name;
            h[nh].name_len = strlen(name);
            h[nh].value = val ? val : "";
            h[nh].value_len = val ? vsize : 0;
            nh++;
        }
    attrs = json_pack("{s:i,s:I}", "partition", (int)m->partition, "offset", (json_int_t)m->offset);
    if (tstype != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) {
        json_object_set_new(attrs, "kafka_timestamp", json_integer(ts));
        json_object_set_new(attrs, "kafka_timestamp_type",
                            json_string(tstype == RD_KAFKA_TIMESTAMP_CREATE_TIME ? "create"
                                                                                  : "log_append"));
    }
    event_init(&tmpl);
    if (m->key != NULL) {
        json_t *key = json_stringn(m->key, m->key_len);
        if (key != NULL) {
            json_object_set_new(attrs, "key", key);
            event_set(&tmpl.partition_key, m->key, m->key_len);
        } else {
            json_object_set_new(attrs, "key_binary", json_true());
        }
    }
    tmpl.location = xasprintf("%s/%d@%lld", topic, (int)m->partition, (long long)m->offset);
    event_set_str(&tmpl.transport, "kafka");
    event_set_str(&tmpl.channel, topic);
    event_set_str(&tmpl.direction, "deliver");
    tmpl.observed_us = tap_now_us();
    rc = tap_deliver(t, ENV_BIND_KAFKA, h, nh, m->payload ? m->payload : "",
                     m->payload ? m->len : 0, &tmpl, attrs, &gen);
    event_done(&tmpl);
    if (rc == ES_OK)
        pend_push(k, topic, m->partition, m->offset + 1, gen);
    return rc;
}

static void kafka_run(struct tap *t)
{
    struct kafka_state *k = t->priv;

    while (!tap_stopping(t)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, 100);
        int rc;

        kafka_store_committed(t, 0);
        if (m == NULL)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                tap_notice(t, "%s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        if (__atomic_exchange_n(&k->down, 0, __ATOMIC_SEQ_CST))
            tap_notice(t, "reconnected");
        rc = kafka_record(t, m);
        rd_kafka_message_destroy(m);
        if (rc != ES_OK)
            break;
    }
}

static void kafka_close(struct tap *t)
{
    struct kafka_state *k = t->priv;
    size_t i;

    if (k == NULL)
        return;
    if (k->rk != NULL) {
        /* the hub committed after the thread stopped: those offsets may go too */
        kafka_store_committed(t, 0);
        (void)rd_kafka_commit(k->rk, NULL, 0);
        rd_kafka_consumer_close(k->rk);
        rd_kafka_destroy(k->rk);
    }
    for (i = 0; i < k->npend; i++)
        free(k->pend[i].topic);
    free(k->pend);
    for (i = 0; i < k->ntopics; i++)
        free(k->topics[i]);
    free(k);
    t->priv = NULL;
}

const struct tap_ops tap_kafka_ops = {"kafka", NULL, kafka_open, kafka_run, kafka_close};
