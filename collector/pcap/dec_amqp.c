/*
 * AMQP 0-9-1 (amqp0-9-1.pdf, with RabbitMQ's field-table errata): basic.publish,
 * basic.deliver and basic.get-ok with their content header (properties, headers table)
 * and body frames, per channel and direction.
 *
 *   protocol header  "AMQP" 0 0 9 1
 *   frame            | type 1 | channel 2 | size 4 | payload (size) | 0xCE |
 *   method (type 1)  | class 2 | method 2 | arguments |
 *   header (type 2)  | class 2 | weight 2 | body size 8 | flags 2 (+2 while bit 0) | props |
 *   body (type 3)    | bytes |           heartbeat (type 8)
 */
#include "collector/pcap/dec_amqp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "core/xmalloc.h"

#define AMQP_MAX_FRAME (64u << 20)
#define AMQP_MAX_BODY (64u << 20)
#define AMQP_MAX_CHANNELS 64
#define AMQP_MAX_DEPTH 16
#define AMQP_FRAME_END 0xce
#define AMQP_SYNC_MAX (1u << 20) /* frame sizes believed while resynchronising */

static const uint16_t amqp_ports[] = {5672, 0};

enum amqp_kind { AK_NONE, AK_PUBLISH, AK_DELIVER, AK_IGNORE };

struct amqp_chan {
    uint16_t ch;
    int used;
    enum amqp_kind kind;
    int have_header;
    char exchange[256], rkey[256], ctag[256];
    uint64_t delivery_tag;
    int redelivered;
    uint64_t first_frame;
    uint64_t body_size;
    uint8_t *props;      /* copy of the content header's property flags and list */
    size_t props_len;
    uint8_t *body;
    size_t body_len;
};

struct amqp_conn {
    struct amqp_chan *ch[2][AMQP_MAX_CHANNELS]; /* allocated on first use */
};

static void chan_reset(struct amqp_chan *c)
{
    free(c->props);
    free(c->body);
    memset(c, 0, sizeof *c);
}

static void *amqp_new(void)
{
    return xcalloc(1, sizeof(struct amqp_conn));
}

static void amqp_free(void *st)
{
    struct amqp_conn *ac = st;
    int d, i;

    if (ac == NULL)
        return;
    for (d = 0; d < 2; d++)
        for (i = 0; i < AMQP_MAX_CHANNELS; i++) {
            if (ac->ch[d][i])
                chan_reset(ac->ch[d][i]);
            free(ac->ch[d][i]);
        }
    free(ac);
}

static int amqp_probe(const uint8_t *p, size_t len, int dir)
{
    static const uint8_t hdr[8] = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};

    if (dir != DEC_TO_SERVER)
        return 0;
    if (len < 8)
        return memcmp(p, hdr, len) == 0 ? -1 : 0;
    return memcmp(p, hdr, 8) == 0;
}

/* A frame boundary: known type, sane size, frame-end octet where the size says. */
static size_t amqp_sync(const uint8_t *p, size_t len, int dir)
{
    size_t i;
    uint32_t size;

    (void)dir;
    for (i = 0; i < len; i++) {
        if (len - i >= 4 && memcmp(p + i, "AMQP", 4) == 0)
            return i;
        if (p[i] != 1 && p[i] != 2 && p[i] != 3 && p[i] != 8)
            continue;
        if (len - i < 7)
            return i;
        size = (uint32_t)p[i + 3] << 24 | (uint32_t)p[i + 4] << 16 | (uint32_t)p[i + 5] << 8 |
               p[i + 6];
        if (size > AMQP_SYNC_MAX)
            continue;
        if (len - i < 7 + (size_t)size + 1)
            return i;
        if (p[i + 7 + size] == AMQP_FRAME_END)
            return i;
    }
    return len;
}

static struct amqp_chan *chan_get(struct amqp_conn *ac, int dir, uint16_t ch, int create)
{
    struct amqp_chan *free_slot = NULL;
    int i, slot = -1;

    for (i = 0; i < AMQP_MAX_CHANNELS; i++) {
        struct amqp_chan *c = ac->ch[dir][i];
        if (c && c->used && c->ch == ch)
            return c;
        if ((c == NULL || !c->used) && slot < 0)
            slot = i;
    }
    if (!create || slot < 0)
        return NULL;
    if (ac->ch[dir][slot] == NULL)
        ac->ch[dir][slot] = xcalloc(1, sizeof(struct amqp_chan));
    free_slot = ac->ch[dir][slot];
    free_slot->used = 1;
    free_slot->ch = ch;
    return free_slot;
}

static void shortstr(struct cursor *c, char *dst, size_t cap)
{
    uint8_t n = cur_u8(c);
    const uint8_t *s = cur_bytes(c, n);

    snprintf(dst, cap, "%.*s", s ? (int)n : 0, s ? (const char *)s : "");
}

/* ------------------------------------------------------------------------------------
 * Field tables (0-9-1 section 4.2.5.5, RabbitMQ errata types)
 */

static json_t *field_table(struct cursor *c, int depth);

static json_t *field_value(struct cursor *c, int depth)
{
    uint8_t t = cur_u8(c);
    uint32_t n;
    const uint8_t *s;

    if (c->err)
        return NULL;
    switch (t) {
    case 't': return json_boolean(cur_u8(c) != 0);
    case 'b': return json_integer((int8_t)cur_u8(c));
    case 'B': return json_integer(cur_u8(c));
    case 's': return json_integer((int16_t)cur_be16(c));
    case 'u': return json_integer(cur_be16(c));
    case 'I': return json_integer((int32_t)cur_be32(c));
    case 'i': return json_integer(cur_be32(c));
    case 'l': return json_integer((json_int_t)cur_be64(c));
    case 'L': return json_integer((json_int_t)cur_be64(c));
    case 'T': return json_integer((json_int_t)cur_be64(c));
    case 'f': {
        uint32_t u = cur_be32(c);
        float f;
        memcpy(&f, &u, sizeof f);
        return json_real(f);
    }
    case 'd': {
        uint64_t u = cur_be64(c);
        double d;
        memcpy(&d, &u, sizeof d);
        return json_real(d);
    }
    case 'D': {
        uint8_t scale = cur_u8(c);
        int32_t v = (int32_t)cur_be32(c);
        double d = v;
        while (scale--)
            d /= 10;
        return json_real(d);
    }
    case 'S': case 'x':
        n = cur_be32(c);
        s = cur_bytes(c, n);
        return s ? json_stringn_nocheck((const char *)s, n) : NULL;
    case 'A': {
        struct cursor a;
        json_t *arr;
        n = cur_be32(c);
        a = cur_sub(c, n);
        if (a.err || depth >= AMQP_MAX_DEPTH)
            return NULL;
        arr = json_array();
        while (a.left > 0) {
            json_t *v = field_value(&a, depth + 1);
            if (v == NULL) {
                json_decref(arr);
                cur_fail(c, ES_EINVALID);
                return NULL;
            }
            json_array_append_new(arr, v);
        }
        return arr;
    }
    case 'F':
        if (depth >= AMQP_MAX_DEPTH)
            return NULL;
        return field_table(c, depth + 1);
    case 'V': return json_null();
    default:
        cur_fail(c, ES_EINVALID);
        return NULL;
    }
}

static json_t *field_table(struct cursor *c, int depth)
{
    uint32_t n = cur_be32(c);
    struct cursor t = cur_sub(c, n);
    json_t *obj;

    if (t.err)
        return NULL;
    obj = json_object();
    while (t.left > 0) {
        uint8_t kl = cur_u8(&t);
        const uint8_t *k = cur_bytes(&t, kl);
        json_t *v;
        char key[256];
        if (k == NULL)
            break;
        v = field_value(&t, depth);
        if (v == NULL)
            break;
        snprintf(key, sizeof key, "%.*s", (int)kl, (const char *)k);
        json_object_set_new_nocheck(obj, key, v);
    }
    if (t.err) {
        json_decref(obj);
        cur_fail(c, ES_EINVALID);
        return NULL;
    }
    return obj;
}

/* ------------------------------------------------------------------------------------
 * Messages
 */

/* Emits the message collected on channel state ch, then resets it. */
static void emit_message(struct dec_msg *m, struct amqp_chan *ch, size_t frame_len)
{
    /* room for the properties passed as headers (14 at most) and the headers table */
    struct envelope_header h[DECODERS_HEADERS_LIMIT + 16];
    char *texts[DECODERS_HEADERS_LIMIT + 16];
    size_t nh = 0, ntexts = 0, i;
    struct cursor c;
    uint16_t flags;
    json_t *headers = NULL;
    struct dec_attrs attrs;
    char channel[520], sval[256];
    struct dec_out o;
    static const char *const names[] = {
        "content-type", "content-encoding", "headers",  "delivery-mode", "priority",
        "correlation-id", "reply-to",      "expiration", "message-id",   "timestamp",
        "type",          "user-id",        "app-id",     "cluster-id"};

    attrs.n = 0;
    cur_init(&c, ch->props, ch->props_len);
    flags = cur_be16(&c);
    {
        uint16_t more = flags; /* continuation flag words: no properties defined there */
        while ((more & 1) && c.err == ES_OK)
            more = cur_be16(&c);
    }
    for (i = 0; i < 14 && c.err == ES_OK; i++) {
        const char *name = names[i];
        if (!(flags & (1u << (15 - i))))
            continue;
        switch (i) {
        case 2:
            headers = field_table(&c, 0);
            break;
        case 3: case 4:
            dec_attr_int(&attrs, i == 3 ? "delivery_mode" : "priority", cur_u8(&c));
            break;
        case 9: {
            uint64_t ts = cur_be64(&c);
            snprintf(sval, sizeof sval, "%" PRIu64, ts);
            texts[ntexts] = xstrdup(sval);
            h[nh].name = name;
            h[nh].name_len = strlen(name);
            h[nh].value = texts[ntexts];
            h[nh].value_len = strlen(texts[ntexts]);
            ntexts++, nh++;
            break;
        }
        default:
            shortstr(&c, sval, sizeof sval);
            if (c.err)
                break;
            if (i == 6 || i == 7 || i == 11 || i == 1) {
                dec_attr_str(&attrs, name, sval, strlen(sval));
                break;
            }
            texts[ntexts] = xstrdup(sval);
            h[nh].name = name;
            h[nh].name_len = strlen(name);
            h[nh].value = texts[ntexts];
            h[nh].value_len = strlen(texts[ntexts]);
            ntexts++, nh++;
        }
    }
    if (c.err) {
        decoders_reject(m, frame_len, "amqp_bad_properties",
                        "content header properties malformed; message dropped", ch->props,
                        ch->props_len);
        goto done;
    }
    if (json_object_size(headers) > decoders_max_headers) {
        decoders_reject_headers(m, frame_len, "amqp_too_many_headers",
                                json_object_size(headers));
        goto done;
    }
    if (headers) {
        const char *k;
        json_t *v;
        json_object_foreach(headers, k, v) {
            if (nh >= sizeof h / sizeof h[0] || ntexts >= sizeof texts / sizeof texts[0])
                break; /* cannot happen: the table holds at most decoders_max_headers */
            if (json_is_string(v)) {
                /* long strings may hold NUL bytes: copy by length, not with strndup */
                size_t n = json_string_length(v);
                texts[ntexts] = xmalloc(n + 1);
                memcpy(texts[ntexts], json_string_value(v), n);
                texts[ntexts][n] = '\0';
            } else
                texts[ntexts] = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
            if (texts[ntexts] == NULL)
                continue;
            h[nh].name = k;
            h[nh].name_len = strlen(k);
            h[nh].value = texts[ntexts];
            h[nh].value_len = json_is_string(v) ? json_string_length(v) : strlen(texts[ntexts]);
            ntexts++, nh++;
        }
    }
    if (ch->kind == AK_DELIVER) {
        dec_attr_bool(&attrs, "redelivered", ch->redelivered);
        dec_attr_int(&attrs, "delivery_tag", (int64_t)ch->delivery_tag);
        if (ch->ctag[0])
            dec_attr_str(&attrs, "consumer_tag", ch->ctag, strlen(ch->ctag));
    }
    dec_attr_str(&attrs, "exchange", ch->exchange, strlen(ch->exchange));
    dec_attr_str(&attrs, "routing_key", ch->rkey, strlen(ch->rkey));
    snprintf(channel, sizeof channel, "%s/%s", ch->exchange, ch->rkey);
    memset(&o, 0, sizeof o);
    o.binding = ENV_BIND_AMQP;
    o.direction = ch->kind == AK_PUBLISH ? "publish" : "deliver";
    o.channel = channel;
    o.attrs = &attrs;
    o.h = h;
    o.nh = nh;
    o.body = ch->body;
    o.body_len = ch->body_len;
    o.first_frame = ch->first_frame;
    o.msg_len = frame_len;
    decoders_emit(m, &o);
done:
    for (i = 0; i < ntexts; i++)
        free(texts[i]);
    json_decref(headers);
    chan_reset(ch);
}

static void method_frame(struct dec_msg *m, struct amqp_conn *ac, uint16_t chn, struct cursor *c,
                         size_t frame_len)
{
    uint16_t cls = cur_be16(c), meth = cur_be16(c);
    struct amqp_chan *ch;
    enum amqp_kind kind;

    if (c->err || cls != 60)
        return;
    if (meth == 40)
        kind = AK_PUBLISH;
    else if (meth == 60 || meth == 71)
        kind = AK_DELIVER;
    else if (meth == 50)
        kind = AK_IGNORE; /* basic.return: the message comes back, not a new observation */
    else
        return;
    ch = chan_get(ac, m->dir, chn, 1);
    if (ch == NULL) {
        decoders_reject(m, frame_len, "amqp_too_many_channels",
                        "more than 64 channels with content in flight", NULL, 0);
        return;
    }
    if (ch->kind != AK_NONE && ch->kind != AK_IGNORE)
        decoders_reject(m, frame_len, "amqp_content_incomplete",
                        "a new method arrived before the previous message's body was complete",
                        NULL, 0);
    chan_reset(ch);
    ch->used = 1;
    ch->ch = chn;
    ch->kind = kind;
    ch->first_frame = decoders_frame_at(m, 0);
    if (meth == 40) {
        cur_skip(c, 2); /* reserved-1 (ticket) */
        shortstr(c, ch->exchange, sizeof ch->exchange);
        shortstr(c, ch->rkey, sizeof ch->rkey);
    } else if (meth == 60) {
        shortstr(c, ch->ctag, sizeof ch->ctag);
        ch->delivery_tag = cur_be64(c);
        ch->redelivered = cur_u8(c) & 1;
        shortstr(c, ch->exchange, sizeof ch->exchange);
        shortstr(c, ch->rkey, sizeof ch->rkey);
    } else if (meth == 71) {
        ch->delivery_tag = cur_be64(c);
        ch->redelivered = cur_u8(c) & 1;
        shortstr(c, ch->exchange, sizeof ch->exchange);
        shortstr(c, ch->rkey, sizeof ch->rkey);
    }
    if (c->err) {
        decoders_reject(m, frame_len, "amqp_bad_method", "basic method arguments truncated",
                        NULL, 0);
        chan_reset(ch);
    }
}

static int amqp_parse(struct dec_msg *m, const uint8_t *p, size_t len, size_t *used)
{
    struct amqp_conn *ac = m->state;
    struct amqp_chan *ch;
    struct cursor c, pl;
    uint8_t type;
    uint16_t chn;
    uint32_t size;
    size_t total;

    if (len >= 1 && p[0] == 'A') {
        if (len < 8)
            return memcmp(p, "AMQP", len < 4 ? len : 4) == 0 ? DEC_MORE : DEC_BAD;
        if (memcmp(p, "AMQP", 4) != 0) {
            m->why = "amqp_bad_frame_type";
            return DEC_BAD;
        }
        *used = 8;
        return DEC_DONE;
    }
    if (len < 7)
        return DEC_MORE;
    cur_init(&c, p, len);
    type = cur_u8(&c);
    chn = cur_be16(&c);
    size = cur_be32(&c);
    if (type != 1 && type != 2 && type != 3 && type != 8) {
        m->why = "amqp_bad_frame_type";
        return DEC_BAD;
    }
    if (size > AMQP_MAX_FRAME) {
        m->why = "amqp_frame_too_large";
        return DEC_BAD;
    }
    total = 7 + (size_t)size + 1;
    if (len < total)
        return DEC_MORE;
    if (p[total - 1] != AMQP_FRAME_END) {
        m->why = "amqp_bad_frame_end";
        return DEC_BAD;
    }
    *used = total;
    pl = cur_sub(&c, size);
    switch (type) {
    case 1:
        method_frame(m, ac, chn, &pl, total);
        break;
    case 2:
        ch = chan_get(ac, m->dir, chn, 0);
        if (ch == NULL || ch->kind == AK_NONE || ch->have_header) {
            decoders_reject(m, total, "amqp_content_without_method",
                            "content header with no basic.publish/deliver before it (capture "
                            "started mid-message?)",
                            NULL, 0);
            break;
        }
        if (ch->kind == AK_IGNORE) {
            ch->have_header = 1;
            ch->body_size = 0;
            cur_skip(&pl, 4);
            ch->body_size = cur_be64(&pl);
            if (ch->body_size == 0)
                chan_reset(ch);
            break;
        }
        cur_skip(&pl, 4); /* class, weight */
        ch->body_size = cur_be64(&pl);
        if (pl.err || pl.left < 2) {
            decoders_reject(m, total, "amqp_bad_content_header", "content header truncated",
                            NULL, 0);
            chan_reset(ch);
            break;
        }
        if (ch->body_size > AMQP_MAX_BODY) {
            decoders_reject(m, total, "amqp_body_too_large",
                            "declared body size exceeds 64 MiB; message dropped", NULL, 0);
            chan_reset(ch);
            break;
        }
        ch->have_header = 1;
        ch->props_len = pl.left;
        ch->props = xmalloc(pl.left);
        memcpy(ch->props, pl.p, pl.left);
        if (ch->body_size == 0)
            emit_message(m, ch, total);
        break;
    case 3:
        ch = chan_get(ac, m->dir, chn, 0);
        if (ch == NULL || !ch->have_header) {
            decoders_reject(m, total, "amqp_content_without_method",
                            "body frame with no content header before it (capture started "
                            "mid-message?)",
                            NULL, 0);
            break;
        }
        if (ch->body_len + size > ch->body_size) {
            decoders_reject(m, total, "amqp_body_overrun",
                            "body frames exceed the declared body size; message dropped", NULL,
                            0);
            chan_reset(ch);
            break;
        }
        if (ch->kind == AK_IGNORE) {
            ch->body_len += size;
        } else {
            const uint8_t *b = cur_bytes(&pl, size);
            if (b == NULL) { /* cannot happen: len >= total was checked above */
                decoders_reject(m, total, "amqp_truncated_frame",
                                "body frame shorter than its size", NULL, 0);
                chan_reset(ch);
                break;
            }
            if (ch->body == NULL)
                ch->body = xmalloc(ch->body_size ? ch->body_size : 1);
            memcpy(ch->body + ch->body_len, b, size);
            ch->body_len += size;
        }
        if (ch->body_len == ch->body_size) {
            if (ch->kind == AK_IGNORE)
                chan_reset(ch);
            else
                emit_message(m, ch, total);
        }
        break;
    default:
        break;
    }
    return DEC_DONE;
}

const struct decoder dec_amqp = {
    .name = "amqp",
    .transport = "amqp",
    .ports = amqp_ports,
    .probe = amqp_probe,
    .conn_new = amqp_new,
    .conn_free = amqp_free,
    .parse = amqp_parse,
    .sync = amqp_sync,
};
