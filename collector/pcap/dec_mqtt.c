/*
 * MQTT 3.1.1 (OASIS, 2014) and MQTT 5.0 (OASIS, 2019) PUBLISH packets, both directions.
 * The protocol level comes from CONNECT; a capture that misses it is read as v5 when the
 * property section parses cleanly, else as 3.1.1.
 *
 *   fixed header | type 4 bits | DUP 1 | QoS 2 | RETAIN 1 | remaining length (varint, 1-4) |
 *   PUBLISH      | topic (u16 len + UTF-8) | packet id (u16, QoS > 0) |
 *                | v5: properties (varint len + props) | payload |
 */
#include "collector/pcap/dec_mqtt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "core/xmalloc.h"

#define MQTT_ALIASES 32
#define MQTT_TOPIC_MAX 256

static const uint16_t mqtt_ports[] = {1883, 0};

struct mqtt_conn {
    int level;                                   /* 4 = 3.1.1, 5 = v5, 0 unknown */
    char (*alias)[MQTT_ALIASES][MQTT_TOPIC_MAX]; /* [2]: topic aliases per direction
                                                    (v5 3.3.2.3.4), allocated on first use */
};

static void *mqtt_new(void)
{
    return xcalloc(1, sizeof(struct mqtt_conn));
}

static void mqtt_free(void *st)
{
    struct mqtt_conn *mc = st;

    if (mc)
        free(mc->alias);
    free(mc);
}

/* Remaining length: returns bytes of the varint, 0 if more input needed, -1 if invalid. */
static int rem_len(const uint8_t *p, size_t len, uint32_t *out)
{
    uint32_t v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        if ((size_t)i >= len)
            return 0;
        v |= (uint32_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *out = v;
            return i + 1;
        }
    }
    return -1;
}

/* Fixed-header flags that MQTT requires for each packet type (3.1.1 table 2.2). */
static int flags_ok(uint8_t b)
{
    uint8_t type = b >> 4, fl = b & 15;

    if (type == 0)
        return 0;
    if (type == 3)
        return ((fl >> 1) & 3) != 3;
    if (type == 6 || type == 8 || type == 10)
        return fl == 2;
    return fl == 0;
}

static int mqtt_probe(const uint8_t *p, size_t len, int dir)
{
    uint32_t rl;
    int n;

    if (dir != DEC_TO_SERVER)
        return 0;
    if (len < 1)
        return -1;
    if (p[0] != 0x10)
        return 0;
    n = rem_len(p + 1, len - 1, &rl);
    if (n <= 0)
        return n == 0 ? -1 : 0;
    if (len < (size_t)n + 9)
        return -1;
    return memcmp(p + 1 + n, "\0\4MQTT", 6) == 0 || memcmp(p + 1 + n, "\0\6MQIsdp", 8) == 0;
}

static size_t mqtt_sync(const uint8_t *p, size_t len, int dir)
{
    size_t i;
    uint32_t rl;
    int n;

    (void)dir;
    for (i = 0; i < len; i++) {
        if (!flags_ok(p[i]))
            continue;
        n = rem_len(p + i + 1, len - i - 1, &rl);
        if (n == 0)
            return i;
        if (n < 0)
            continue;
        if ((p[i] >> 4) == 3) {
            /* a plausible topic: length within the packet, printable first bytes */
            size_t at = i + 1 + (size_t)n, tl, k;
            if (at + 2 > len)
                return i;
            tl = (size_t)p[at] << 8 | p[at + 1];
            if (tl == 0 || tl + 2 > rl)
                continue;
            for (k = 0; k < tl && at + 2 + k < len; k++)
                if (p[at + 2 + k] < 0x20 || p[at + 2 + k] == 0x7f)
                    break;
            if (k < tl && at + 2 + k < len)
                continue;
            return i;
        }
        if ((p[i] >> 4) == 12 || (p[i] >> 4) == 13) /* PINGREQ/PINGRESP */
            if (rl == 0)
                return i;
    }
    return len;
}

struct mqtt_props {
    struct envelope_header h[DECODERS_HEADERS_LIMIT];
    size_t nh, nseen; /* kept (at most decoders_max_headers), and seen */
    uint16_t alias;
    int have_alias;
    int64_t expiry;
    int payload_format;
};

/* MQTT 5.0 section 2.2.2.2: reads the properties; returns 0 when they are malformed. */
static int read_props(struct cursor *c, struct mqtt_props *pr)
{
    while (c->left > 0 && c->err == ES_OK) {
        uint64_t id = cur_uvarint(c);
        uint16_t n;
        const uint8_t *s;
        switch (id) {
        case 0x01: pr->payload_format = cur_u8(c); break;
        case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2a:
            cur_skip(c, 1);
            break;
        case 0x13: case 0x21: case 0x22: cur_skip(c, 2); break;
        case 0x23:
            pr->alias = cur_be16(c);
            pr->have_alias = 1;
            break;
        case 0x02: pr->expiry = cur_be32(c); break;
        case 0x11: case 0x18: case 0x27: cur_skip(c, 4); break;
        case 0x0b: (void)cur_uvarint(c); break;
        case 0x03: case 0x09: /* content type, correlation data: handed to the envelope */
            n = cur_be16(c);
            s = cur_bytes(c, n);
            pr->nseen += s != NULL;
            if (s && pr->nh < decoders_max_headers) {
                pr->h[pr->nh].name = id == 0x03 ? "content-type" : "correlation-data";
                pr->h[pr->nh].name_len = strlen(pr->h[pr->nh].name);
                pr->h[pr->nh].value = (const char *)s;
                pr->h[pr->nh].value_len = n;
                pr->nh++;
            }
            break;
        case 0x08: case 0x12: case 0x15: case 0x16: case 0x1a: case 0x1c: case 0x1f:
            n = cur_be16(c);
            cur_skip(c, n);
            break;
        case 0x26: {
            const uint8_t *k, *v;
            uint16_t kl, vl;
            kl = cur_be16(c);
            k = cur_bytes(c, kl);
            vl = cur_be16(c);
            v = cur_bytes(c, vl);
            pr->nseen += k && v;
            if (k && v && pr->nh < decoders_max_headers) {
                pr->h[pr->nh].name = (const char *)k;
                pr->h[pr->nh].name_len = kl;
                pr->h[pr->nh].value = (const char *)v;
                pr->h[pr->nh].value_len = vl;
                pr->nh++;
            }
            break;
        }
        default:
            return 0;
        }
    }
    return c->err == ES_OK;
}

static int mqtt_parse(struct dec_msg *m, const uint8_t *p, size_t len, size_t *used)
{
    struct mqtt_conn *mc = m->state;
    struct mqtt_props pr;
    struct cursor c, body, topic_c, after;
    uint32_t rl;
    int n, qos, dup, retain, v5;
    size_t total;
    uint16_t tl, pid = 0;
    const uint8_t *topic;
    char topic_buf[MQTT_TOPIC_MAX];
    size_t topic_len;
    struct dec_out o;
    struct dec_attrs attrs;

    if (len < 2)
        return DEC_MORE;
    if (!flags_ok(p[0])) {
        m->why = "mqtt_bad_fixed_header";
        return DEC_BAD;
    }
    n = rem_len(p + 1, len - 1, &rl);
    if (n < 0) {
        m->why = "mqtt_bad_remaining_length";
        return DEC_BAD;
    }
    if (n == 0)
        return DEC_MORE;
    total = 1 + (size_t)n + rl;
    if (len < total)
        return DEC_MORE;
    *used = total;
    cur_init(&c, p + 1 + n, rl);
    if ((p[0] >> 4) == 1) {
        /* CONNECT: protocol name, then the level */
        uint16_t pl = cur_be16(&c);
        cur_skip(&c, pl);
        n = cur_u8(&c);
        if (c.err == ES_OK)
            mc->level = n;
        return DEC_DONE;
    }
    if ((p[0] >> 4) != 3)
        return DEC_DONE;
    qos = (p[0] >> 1) & 3;
    dup = (p[0] >> 3) & 1;
    retain = p[0] & 1;
    tl = cur_be16(&c);
    topic_c = cur_sub(&c, tl);
    if (qos > 0)
        pid = cur_be16(&c);
    if (c.err) {
        decoders_reject(m, total, "mqtt_bad_publish", "PUBLISH shorter than its topic and id",
                        p, total);
        return DEC_DONE;
    }
    topic = topic_c.p;
    topic_len = tl;
    /* Properties (v5), or guess when CONNECT was not captured. */
    memset(&pr, 0, sizeof pr);
    v5 = mc->level == 5;
    after = c;
    if (mc->level == 5 || mc->level == 0) {
        uint64_t plen = cur_uvarint(&c);
        if (c.err == ES_OK && plen <= c.left) {
            body = cur_sub(&c, (size_t)plen);
            if (read_props(&body, &pr)) {
                v5 = 1;
            } else if (mc->level == 5) {
                decoders_reject(m, total, "mqtt_bad_property", "PUBLISH properties malformed",
                                p, total);
                return DEC_DONE;
            }
        } else if (mc->level == 5) {
            decoders_reject(m, total, "mqtt_bad_property_length",
                            "PUBLISH property length exceeds the packet", p, total);
            return DEC_DONE;
        }
        if (v5 && pr.nseen > decoders_max_headers) {
            decoders_reject_headers(m, total, "mqtt_too_many_headers", pr.nseen);
            return DEC_DONE;
        }
        if (!v5) {
            memset(&pr, 0, sizeof pr);
            c = after;
        }
    }
    /* Topic aliases (v5 3.3.2.3.4): remember, or resolve an empty topic. */
    if (v5 && pr.have_alias && pr.alias > 0 && pr.alias <= MQTT_ALIASES) {
        char *slot;
        if (mc->alias == NULL)
            mc->alias = xcalloc(2, sizeof *mc->alias);
        slot = mc->alias[m->dir][pr.alias - 1];
        if (topic_len > 0) {
            snprintf(slot, MQTT_TOPIC_MAX, "%.*s", (int)topic_len, (const char *)topic);
        } else if (slot[0]) {
            snprintf(topic_buf, sizeof topic_buf, "%s", slot);
            topic = (const uint8_t *)topic_buf;
            topic_len = strlen(topic_buf);
        }
    }
    if (topic_len == 0) {
        decoders_reject(m, total, "mqtt_empty_topic", "PUBLISH without a topic or known alias",
                        p, total);
        return DEC_DONE;
    }
    attrs.n = 0;
    dec_attr_int(&attrs, "qos", qos);
    dec_attr_bool(&attrs, "dup", dup);
    dec_attr_bool(&attrs, "retain", retain);
    if (qos > 0)
        dec_attr_int(&attrs, "packet_id", pid);
    dec_attr_str(&attrs, "mqtt_version", v5 ? "5" : "3.1.1", v5 ? 1 : 5);
    memset(&o, 0, sizeof o);
    o.binding = ENV_BIND_MQTT;
    o.direction = m->dir == DEC_TO_SERVER ? "publish" : "deliver";
    o.channel = (const char *)topic;
    o.channel_len = topic_len;
    o.attrs = &attrs;
    o.h = pr.h;
    o.nh = pr.nh;
    o.body = c.p;
    o.body_len = c.left;
    o.msg_len = total;
    decoders_emit(m, &o);
    return DEC_DONE;
}

const struct decoder dec_mqtt = {
    .name = "mqtt",
    .transport = "mqtt",
    .ports = mqtt_ports,
    .probe = mqtt_probe,
    .conn_new = mqtt_new,
    .conn_free = mqtt_free,
    .parse = mqtt_parse,
    .sync = mqtt_sync,
};
