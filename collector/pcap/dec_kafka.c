/*
 * Kafka wire protocol (kafka.apache.org/protocol, KIP-482 flexible versions): Produce
 * requests become publishes, Fetch responses deliveries; a response is read with the
 * api key and version of its request, found by correlation id on the same connection.
 * Records are record batches v2 (magic 2, KIP-98); older message sets are rejected.
 *
 *   request   | size 4 | api_key 2 | api_version 2 | correlation_id 4 | client_id (str16) |
 *             | [tagged fields: flexible] | body |
 *   response  | size 4 | correlation_id 4 | [tagged fields: flexible, not ApiVersions] | body |
 *   batch v2  | baseOffset 8 | batchLength 4 | leaderEpoch 4 | magic 1 | crc 4 (CRC-32C) |
 *             | attributes 2 | lastOffsetDelta 4 | baseTimestamp 8 | maxTimestamp 8 |
 *             | producerId 8 | producerEpoch 2 | baseSequence 4 | records count 4 | records |
 *   record    | length v | attributes 1 | tsDelta v | offsetDelta v | key (v len) |
 *             | value (v len) | headers count v | (key v len, value v len)* |
 */
#include "collector/pcap/dec_kafka.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/pcap/codec.h"
#include "core/cursor.h"
#include "core/xmalloc.h"

#define KAFKA_MAX_MSG (256u << 20)
#define KAFKA_MAX_INFLATE (64u << 20)
#define KAFKA_PENDING 256
#define KAFKA_MAX_RECORDS 1000000
#define KAFKA_MAX_ARRAY 100000

static const uint16_t kafka_ports[] = {9092, 0};

struct kafka_req {
    int32_t corr;
    int16_t key, version;
    int used;
};

struct kafka_conn {
    struct kafka_req pend[KAFKA_PENDING]; /* requests awaiting their response (ring) */
    unsigned next;
};

static void *kafka_new(void)
{
    return xcalloc(1, sizeof(struct kafka_conn));
}

static void kafka_free(void *st)
{
    free(st);
}

/* ------------------------------------------------------------------------------------
 * Framing
 */

static int plausible_request(const uint8_t *p, size_t len)
{
    struct cursor c;
    int32_t size;
    int16_t key, ver, cl;

    cur_init(&c, p, len);
    size = (int32_t)cur_be32(&c);
    key = (int16_t)cur_be16(&c);
    ver = (int16_t)cur_be16(&c);
    cur_skip(&c, 4);
    cl = (int16_t)cur_be16(&c);
    if (c.err)
        return -1;
    return size >= 10 && (uint32_t)size <= KAFKA_MAX_MSG && key >= 0 && key <= 80 && ver >= 0 &&
           ver <= 20 && cl >= -1 && cl < 1024 && size >= 10 + (cl > 0 ? cl : 0);
}

static int kafka_probe(const uint8_t *p, size_t len, int dir)
{
    int r;

    if (dir != DEC_TO_SERVER)
        return 0;
    r = plausible_request(p, len);
    if (r <= 0)
        return r;
    /* ApiVersions (18) opens every modern client connection. */
    return p[4] == 0 && p[5] == 18;
}

static size_t kafka_sync(const uint8_t *p, size_t len, int dir)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (dir == DEC_TO_SERVER) {
            if (plausible_request(p + i, len - i) != 0)
                return i;
        } else {
            /* responses have too little structure; only a size prefix */
            if (len - i < 4)
                return i;
            if (p[i] == 0 && (p[i + 1] != 0 || p[i + 2] != 0 || p[i + 3] >= 8))
                return i;
        }
    }
    return len;
}

/* ------------------------------------------------------------------------------------
 * Primitive types (classic and compact)
 */

/* A compact (flexible versions) length or count: N + 1 on the wire, 0 for null (-1). */
static int64_t compact_n(struct cursor *c)
{
    uint64_t u = cur_uvarint(c);
    return u == 0 ? -1 : u - 1 > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(u - 1);
}

static int64_t read_len(struct cursor *c, int flex, int wide)
{
    if (flex)
        return compact_n(c);
    return wide ? (int32_t)cur_be32(c) : (int16_t)cur_be16(c);
}

/* A string or bytes field; *n = -1 for null. */
static const uint8_t *read_str(struct cursor *c, int flex, int wide, int64_t *n)
{
    *n = read_len(c, flex, wide);
    if (*n < 0)
        return NULL;
    return cur_bytes(c, (size_t)*n);
}

static int64_t read_array(struct cursor *c, int flex)
{
    int64_t n = flex ? compact_n(c) : (int32_t)cur_be32(c);

    if (n > KAFKA_MAX_ARRAY || (n > 0 && (size_t)n > c->left))
        cur_fail(c, ES_EINVALID);
    return n;
}

static void skip_tags(struct cursor *c, int flex)
{
    uint64_t n, i;

    if (!flex)
        return;
    n = cur_uvarint(c);
    for (i = 0; i < n && c->err == ES_OK; i++) {
        (void)cur_uvarint(c);
        cur_skip(c, (size_t)cur_uvarint(c));
    }
}

/* CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, as record batches use. */
static uint32_t crc32c_table[256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT; /* decoders run on worker threads */

static void crc32c_init(void)
{
    uint32_t k, j, v;

    for (k = 0; k < 256; k++) {
        v = k;
        for (j = 0; j < 8; j++)
            v = v & 1 ? (v >> 1) ^ 0x82f63b78u : v >> 1;
        crc32c_table[k] = v;
    }
}

static uint32_t crc32c(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    size_t i;

    (void)pthread_once(&crc32c_once, crc32c_init);
    for (i = 0; i < n; i++)
        crc = crc32c_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

/* ------------------------------------------------------------------------------------
 * Record batches
 */

struct kafka_where {
    const uint8_t *topic; /* NUL-free bytes */
    size_t topic_len;
    int32_t partition;
    int deliver;
    size_t msg_len;
};

/*
 * Decompresses the records of a batch with codec 1-7 (attributes & 7): 1 gzip, 2 snappy,
 * 3 lz4, 4 zstd. Returns 1 with *plain (owned), or 0 after a reject naming the codec.
 */
static int decompress_batch(struct dec_msg *m, const struct kafka_where *w, int codec,
                            const struct cursor *body, uint8_t **plain, size_t *plain_len)
{
    static const struct {
        const char *name;
        enum codec c;
    } codecs[4] = {{"gzip", CODEC_GZIP}, {"snappy", CODEC_SNAPPY}, {"lz4", CODEC_LZ4F},
                   {"zstd", CODEC_ZSTD}};
    const char *name;
    char why[64], detail[96];
    int rc;

    if (codec < 1 || codec > 4) {
        decoders_reject(m, w->msg_len, "kafka_codec_unknown", "compression codec 5-7", NULL, 0);
        return 0;
    }
    name = codecs[codec - 1].name;
    rc = codec_decompress(codecs[codec - 1].c, body->p, body->left, KAFKA_MAX_INFLATE, plain,
                          plain_len);
    if (rc == ES_OK)
        return 1;
    if (rc == ES_EUNSUPPORTED) {
        snprintf(why, sizeof why, "kafka_codec_%s_unsupported", name);
        snprintf(detail, sizeof detail, "%s-compressed batch; this build lacks its library", name);
    } else if (rc == ES_ETOOBIG) {
        snprintf(why, sizeof why, "kafka_batch_too_large");
        snprintf(detail, sizeof detail, "%s batch inflates past 64 MiB", name);
    } else {
        snprintf(why, sizeof why, "kafka_%s_corrupt", name);
        snprintf(detail, sizeof detail, "%s batch does not decompress", name);
    }
    decoders_reject(m, w->msg_len, why, detail, NULL, 0);
    return 0;
}

/* base + delta as the broker computes it (Java longs wrap), without signed overflow. */
static int64_t add_wrap(int64_t base, int64_t delta)
{
    return (int64_t)((uint64_t)base + (uint64_t)delta);
}

static void emit_record(struct dec_msg *m, const struct kafka_where *w, struct cursor *r,
                        int64_t base_offset, int64_t base_ts)
{
    struct envelope_header h[DECODERS_HEADERS_LIMIT];
    size_t nh = 0;
    int64_t ts_delta, off_delta, klen, vlen, hcount, i;
    const uint8_t *key, *value;
    struct dec_attrs attrs;
    struct dec_out o;

    cur_skip(r, 1); /* attributes */
    ts_delta = cur_svarint(r);
    off_delta = cur_svarint(r);
    klen = cur_svarint(r);
    key = klen > 0 ? cur_bytes(r, (size_t)klen) : NULL;
    vlen = cur_svarint(r);
    value = vlen > 0 ? cur_bytes(r, (size_t)vlen) : NULL;
    hcount = cur_svarint(r);
    if (hcount < 0 || hcount > KAFKA_MAX_ARRAY)
        cur_fail(r, ES_EINVALID);
    for (i = 0; i < hcount && r->err == ES_OK; i++) {
        int64_t hk = cur_svarint(r), hv;
        const uint8_t *k = hk > 0 ? cur_bytes(r, (size_t)hk) : NULL;
        const uint8_t *v;
        hv = cur_svarint(r);
        v = hv > 0 ? cur_bytes(r, (size_t)hv) : NULL;
        if (hk < 0 || r->err)
            cur_fail(r, ES_EINVALID);
        if (r->err == ES_OK && nh < decoders_max_headers) {
            h[nh].name = k ? (const char *)k : "";
            h[nh].name_len = hk > 0 ? (size_t)hk : 0;
            h[nh].value = v ? (const char *)v : "";
            h[nh].value_len = hv > 0 ? (size_t)hv : 0;
            nh++;
        }
    }
    if (r->err || (klen > 0 && key == NULL) || (vlen > 0 && value == NULL)) {
        decoders_reject(m, w->msg_len, "kafka_bad_record", "record fields exceed its length",
                        NULL, 0);
        return;
    }
    if ((uint64_t)hcount > decoders_max_headers) {
        decoders_reject_headers(m, w->msg_len, "kafka_too_many_headers", (size_t)hcount);
        return;
    }
    attrs.n = 0;
    dec_attr_int(&attrs, "partition", w->partition);
    if (w->deliver)
        dec_attr_int(&attrs, "offset", add_wrap(base_offset, off_delta));
    dec_attr_int(&attrs, "kafka_timestamp", add_wrap(base_ts, ts_delta));
    memset(&o, 0, sizeof o);
    o.binding = ENV_BIND_KAFKA;
    o.direction = w->deliver ? "deliver" : "publish";
    o.channel = (const char *)w->topic;
    o.channel_len = w->topic_len;
    o.partition_key = (const char *)key;
    o.pk_len = key ? (size_t)klen : 0;
    o.attrs = &attrs;
    o.h = h;
    o.nh = nh;
    o.body = value;
    o.body_len = value ? (size_t)vlen : 0;
    o.msg_len = w->msg_len;
    decoders_emit(m, &o);
}

/* One RECORDS field: a sequence of batches (a fetch may end with a partial one). */
static void read_records(struct dec_msg *m, const struct kafka_where *w, struct cursor *recs)
{
    char detail[160];

    while (recs->left > 0 && m->rc == ES_OK) {
        struct cursor b = *recs, body;
        int64_t base_offset, base_ts, count, i;
        int32_t blen;
        uint8_t magic;
        uint32_t crc;
        uint16_t attr;
        uint8_t *plain = NULL;
        size_t plain_len = 0;

        base_offset = (int64_t)cur_be64(&b);
        blen = (int32_t)cur_be32(&b);
        if (b.err || blen < 0 || (size_t)blen > b.left) {
            if (!w->deliver || b.err == ES_OK) {
                /* a fetch response may stop inside its last batch: that is normal */
                if (!w->deliver)
                    decoders_reject(m, w->msg_len, "kafka_batch_truncated",
                                    "record batch longer than its records field", NULL, 0);
            }
            return;
        }
        cur_skip(recs, 12 + (size_t)blen);
        body = cur_sub(&b, (size_t)blen);
        cur_skip(&body, 4); /* partition leader epoch */
        magic = cur_u8(&body);
        if (body.err)
            return;
        if (magic < 2) {
            snprintf(detail, sizeof detail,
                     "message format v%u (magic %u) is not read; only record batches v2", magic,
                     magic);
            decoders_reject(m, w->msg_len,
                            magic == 0 ? "kafka_message_format_v0_unsupported"
                                       : "kafka_message_format_v1_unsupported",
                            detail, NULL, 0);
            return; /* the rest of this set has the old layout too */
        }
        if (magic > 2) {
            decoders_reject(m, w->msg_len, "kafka_unknown_magic", "record batch magic above 2",
                            NULL, 0);
            continue;
        }
        crc = cur_be32(&body);
        if (crc32c(body.p, body.left) != crc) {
            decoders_reject(m, w->msg_len, "kafka_batch_bad_crc",
                            "record batch CRC-32C mismatch; batch skipped", NULL, 0);
            continue;
        }
        attr = cur_be16(&body);
        cur_skip(&body, 4); /* last offset delta */
        base_ts = (int64_t)cur_be64(&body);
        cur_skip(&body, 8 + 8 + 2 + 4); /* max ts, producer id, epoch, base sequence */
        count = (int32_t)cur_be32(&body);
        if (body.err || count < 0 || count > KAFKA_MAX_RECORDS) {
            decoders_reject(m, w->msg_len, "kafka_bad_batch", "record batch header invalid",
                            NULL, 0);
            continue;
        }
        if (attr & 0x20)
            continue; /* control batch (transaction markers), not application records */
        if ((attr & 7) != 0 && !decompress_batch(m, w, attr & 7, &body, &plain, &plain_len))
            continue;
        if (plain)
            cur_init(&body, plain, plain_len);
        for (i = 0; i < count && m->rc == ES_OK; i++) {
            int64_t rlen = cur_svarint(&body);
            struct cursor r;
            if (body.err || rlen < 0 || (uint64_t)rlen > body.left) {
                decoders_reject(m, w->msg_len, "kafka_bad_record",
                                "record length exceeds its batch", NULL, 0);
                break;
            }
            r = cur_sub(&body, (size_t)rlen);
            emit_record(m, w, &r, base_offset, base_ts);
        }
        free(plain);
    }
}

/* ------------------------------------------------------------------------------------
 * Produce and Fetch
 */

static void produce_request(struct dec_msg *m, struct cursor *c, int16_t v, size_t msg_len)
{
    int flex = v >= 9;
    int64_t n, ntopics, nparts, i, j;
    struct kafka_where w;

    if (v < 3) {
        decoders_reject(m, msg_len, "kafka_message_format_v0_unsupported",
                        "Produce v0-v2 carries message sets v0/v1; only v3+ is read", NULL, 0);
        return;
    }
    (void)read_str(c, flex, 0, &n); /* transactional id */
    cur_skip(c, 2 + 4);            /* acks, timeout */
    ntopics = read_array(c, flex);
    memset(&w, 0, sizeof w);
    w.msg_len = msg_len;
    for (i = 0; i < ntopics && c->err == ES_OK && m->rc == ES_OK; i++) {
        w.topic = read_str(c, flex, 0, &n);
        w.topic_len = n > 0 ? (size_t)n : 0;
        nparts = read_array(c, flex);
        for (j = 0; j < nparts && c->err == ES_OK && m->rc == ES_OK; j++) {
            struct cursor recs;
            w.partition = (int32_t)cur_be32(c);
            n = read_len(c, flex, 1);
            if (n > 0) {
                recs = cur_sub(c, (size_t)n);
                if (recs.err == ES_OK && w.topic)
                    read_records(m, &w, &recs);
            }
            skip_tags(c, flex);
        }
        skip_tags(c, flex);
    }
    if (c->err)
        decoders_reject(m, msg_len, "kafka_bad_produce", "Produce request fields exceed it",
                        NULL, 0);
}

static void fetch_response(struct dec_msg *m, struct cursor *c, int16_t v, size_t msg_len)
{
    int flex = v >= 12;
    int64_t n, ntopics, nparts, naborted, i, j, k;
    struct kafka_where w;
    char topic_id[40];

    if (v < 4) {
        decoders_reject(m, msg_len, "kafka_fetch_version_unsupported",
                        "Fetch v0-v3 responses carry old message sets; only v4+ is read", NULL,
                        0);
        return;
    }
    cur_skip(c, 4); /* throttle time */
    if (v >= 7)
        cur_skip(c, 2 + 4); /* error code, session id */
    ntopics = read_array(c, flex);
    memset(&w, 0, sizeof w);
    w.deliver = 1;
    w.msg_len = msg_len;
    for (i = 0; i < ntopics && c->err == ES_OK && m->rc == ES_OK; i++) {
        if (v >= 13) {
            const uint8_t *id = cur_bytes(c, 16);
            if (id == NULL)
                break;
            for (k = 0; k < 16; k++)
                snprintf(topic_id + 2 * k, 3, "%02x", id[k]);
            w.topic = (const uint8_t *)topic_id;
            w.topic_len = 32;
        } else {
            w.topic = read_str(c, flex, 0, &n);
            w.topic_len = n > 0 ? (size_t)n : 0;
        }
        nparts = read_array(c, flex);
        for (j = 0; j < nparts && c->err == ES_OK && m->rc == ES_OK; j++) {
            w.partition = (int32_t)cur_be32(c);
            cur_skip(c, 2 + 8 + 8); /* error, high watermark, last stable offset */
            if (v >= 5)
                cur_skip(c, 8); /* log start offset */
            naborted = read_array(c, flex);
            for (k = 0; k < naborted && c->err == ES_OK; k++) {
                cur_skip(c, 16);
                skip_tags(c, flex);
            }
            if (v >= 11)
                cur_skip(c, 4); /* preferred read replica */
            n = read_len(c, flex, 1);
            if (n > 0) {
                struct cursor recs = cur_sub(c, (size_t)n);
                if (recs.err == ES_OK && w.topic)
                    read_records(m, &w, &recs);
            }
            skip_tags(c, flex);
        }
        skip_tags(c, flex);
    }
    if (c->err)
        decoders_reject(m, msg_len, "kafka_bad_fetch", "Fetch response fields exceed it", NULL,
                        0);
}

static int kafka_parse(struct dec_msg *m, const uint8_t *p, size_t len, size_t *used)
{
    struct kafka_conn *kc = m->state;
    struct cursor c, msg;
    int32_t size, corr;
    size_t total;
    unsigned i;

    if (len < 4)
        return DEC_MORE;
    cur_init(&c, p, len);
    size = (int32_t)cur_be32(&c);
    if (size < 4 || (uint32_t)size > KAFKA_MAX_MSG) {
        m->why = "kafka_bad_size";
        return DEC_BAD;
    }
    if (m->dir == DEC_TO_SERVER && plausible_request(p, len) == 0) {
        m->why = "kafka_bad_request_header";
        return DEC_BAD;
    }
    total = 4 + (size_t)size;
    if (len < total)
        return DEC_MORE;
    *used = total;
    msg = cur_sub(&c, (size_t)size);
    if (m->dir == DEC_TO_SERVER) {
        int16_t key = (int16_t)cur_be16(&msg), ver = (int16_t)cur_be16(&msg);
        int64_t n;
        int flex;
        struct kafka_req *rq;
        corr = (int32_t)cur_be32(&msg);
        (void)read_str(&msg, 0, 0, &n); /* client id: always a classic string */
        /* Which versions are flexible (KIP-482), for the request header's tagged fields. */
        flex = (key == 0 && ver >= 9) || (key == 1 && ver >= 12) || (key == 18 && ver >= 3) ||
               (key == 3 && ver >= 9) || (key == 2 && ver >= 6) || (key == 8 && ver >= 8) ||
               (key == 9 && ver >= 6) || (key == 10 && ver >= 3) || (key == 11 && ver >= 6) ||
               (key == 12 && ver >= 4) || (key == 14 && ver >= 4) || (key == 19 && ver >= 5) ||
               (key == 22 && ver >= 2);
        skip_tags(&msg, flex);
        rq = &kc->pend[kc->next++ % KAFKA_PENDING];
        rq->corr = corr;
        rq->key = key;
        rq->version = ver;
        rq->used = 1;
        if (msg.err) {
            decoders_reject(m, total, "kafka_bad_request_header", "request header truncated",
                            p, total);
            return DEC_DONE;
        }
        if (key == 0)
            produce_request(m, &msg, ver, total);
        return DEC_DONE;
    }
    corr = (int32_t)cur_be32(&msg);
    for (i = 0; i < KAFKA_PENDING; i++) {
        struct kafka_req *rq = &kc->pend[i];
        if (!rq->used || rq->corr != corr)
            continue;
        rq->used = 0;
        if (rq->key == 1) {
            skip_tags(&msg, rq->version >= 12);
            fetch_response(m, &msg, rq->version, total);
        }
        break;
    }
    return DEC_DONE;
}

const struct decoder dec_kafka = {
    .name = "kafka",
    .transport = "kafka",
    .ports = kafka_ports,
    .probe = kafka_probe,
    .conn_new = kafka_new,
    .conn_free = kafka_free,
    .parse = kafka_parse,
    .sync = kafka_sync,
};
