/*
 * The decoder table (one row per protocol file, as tcpdump's printers[]), the user's extra
 * ports (--port 9093=kafka) and the emission path shared by every decoder: template event
 * (location, transport, channel, direction, capture time, attrs) -> envelope_from_message
 * -> the source's sink.
 */
#include "collector/pcap/decoders.h"
#include "collector/pcap/dec_amqp.h"
#include "collector/pcap/dec_http.h"
#include "collector/pcap/dec_kafka.h"
#include "collector/pcap/dec_mqtt.h"
#include "collector/pcap/dec_nats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/pcap/pcapsrc.h"
#include "collector/pcap/tcp.h"
#include "core/xmalloc.h"

static const struct decoder *const decoders[] = {
    &dec_http, &dec_kafka, &dec_amqp, &dec_mqtt, &dec_nats,
};
#define NDECODERS (sizeof decoders / sizeof decoders[0])

#define USER_PORTS_MAX 64
static struct {
    uint16_t port;
    const struct decoder *dec;
} user_ports[USER_PORTS_MAX];
static size_t nuser_ports;

const struct decoder *decoders_by_name(const char *name)
{
    size_t i;

    for (i = 0; i < NDECODERS; i++)
        if (strcmp(decoders[i]->name, name) == 0)
            return decoders[i];
    return NULL;
}

const struct decoder *decoders_by_port(uint16_t port)
{
    size_t i;
    const uint16_t *p;

    for (i = 0; i < nuser_ports; i++)
        if (user_ports[i].port == port)
            return user_ports[i].dec;
    for (i = 0; i < NDECODERS; i++)
        for (p = decoders[i]->ports; p && *p; p++)
            if (*p == port)
                return decoders[i];
    return NULL;
}

const struct decoder *decoders_probe(const uint8_t *p, size_t len, int dir, int *more)
{
    size_t i;
    int r;

    *more = 0;
    for (i = 0; i < NDECODERS; i++) {
        if (decoders[i]->probe == NULL)
            continue;
        r = decoders[i]->probe(p, len, dir);
        if (r > 0)
            return decoders[i];
        if (r < 0)
            *more = 1;
    }
    return NULL;
}

size_t decoders_max_headers = DECODERS_HEADERS_DEFAULT;

int decoders_max_headers_set(const char *v, char *err, size_t errlen)
{
    char *end;
    long n = strtol(v, &end, 10);

    if (end == v || *end != '\0' || n < 1 || n > DECODERS_HEADERS_LIMIT) {
        snprintf(err, errlen, "--max-headers %s: expected a number from 1 to %d", v,
                 DECODERS_HEADERS_LIMIT);
        return ES_EUSAGE;
    }
    decoders_max_headers = (size_t)n;
    return ES_OK;
}

void decoders_reject_headers(struct dec_msg *m, size_t msg_len, const char *reason, size_t n)
{
    char detail[128];

    snprintf(detail, sizeof detail, "%zu header fields or more, over the limit of %zu (--max-headers)",
             n, decoders_max_headers);
    decoders_reject(m, msg_len, reason, detail, NULL, 0);
}

int decoders_port_add(const char *spec, char *err, size_t errlen)
{
    const char *eq = strchr(spec, '=');
    const struct decoder *dec;
    char *end;
    long port;

    if (eq == NULL) {
        snprintf(err, errlen, "--port %s: expected PORT=PROTOCOL (one of %s)", spec,
                 decoders_names());
        return ES_EUSAGE;
    }
    port = strtol(spec, &end, 10);
    if (end != eq || port < 1 || port > 65535) {
        snprintf(err, errlen, "--port %s: port must be a number from 1 to 65535", spec);
        return ES_EUSAGE;
    }
    if ((dec = decoders_by_name(eq + 1)) == NULL) {
        snprintf(err, errlen, "--port %s: unknown protocol '%s' (one of %s)", spec, eq + 1,
                 decoders_names());
        return ES_EUSAGE;
    }
    if (nuser_ports == USER_PORTS_MAX) {
        snprintf(err, errlen, "--port %s: at most %d ports can be added", spec, USER_PORTS_MAX);
        return ES_EUSAGE;
    }
    user_ports[nuser_ports].port = (uint16_t)port;
    user_ports[nuser_ports].dec = dec;
    nuser_ports++;
    return ES_OK;
}

const char *decoders_names(void)
{
    static char buf[128];
    size_t i, o = 0;

    if (buf[0])
        return buf;
    for (i = 0; i < NDECODERS; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? ", " : "",
                              decoders[i]->name);
    return buf;
}

uint64_t decoders_frame_at(struct dec_msg *m, size_t off)
{
    uint64_t first, last;
    int64_t ts;

    tcp_dir_frames(m->td, off, off + 1, &first, &last, &ts);
    return first;
}

void decoders_reject(struct dec_msg *m, size_t msg_len, const char *reason, const char *detail,
                     const uint8_t *excerpt, size_t excerpt_len)
{
    uint64_t first, last;
    int64_t ts;
    int rc;

    tcp_dir_frames(m->td, 0, msg_len ? msg_len : 1, &first, &last, &ts);
    if (excerpt_len > 64)
        excerpt_len = 64;
    rc = pcapsrc_reject_frames(m->ps, first, last, reason, detail, excerpt, excerpt_len);
    if (rc != ES_OK && m->rc == ES_OK)
        m->rc = rc;
}

/* strcmp for attribute keys, deciding most pairs by their first bytes without a call. */
static int key_cmp(const char *a, const char *b)
{
    if (a[0] != b[0])
        return (unsigned char)a[0] - (unsigned char)b[0];
    return strcmp(a, b);
}

/* The entry for key in a: the existing one (replaced), else a new one; NULL when full. */
static struct envelope_tattr *dec_attr_slot(struct dec_attrs *a, const char *key)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        if (key_cmp(a->a[i].key, key) == 0)
            return &a->a[i];
    if (a->n == DEC_MAX_ATTRS)
        return NULL;
    a->a[a->n].key = key;
    return &a->a[a->n++];
}

void dec_attr_str(struct dec_attrs *a, const char *key, const void *s, size_t len)
{
    struct envelope_tattr *x = dec_attr_slot(a, key);
    if (x == NULL)
        return;
    x->type = ENV_TATTR_STR;
    x->s = s;
    x->len = len;
}

void dec_attr_int(struct dec_attrs *a, const char *key, int64_t v)
{
    struct envelope_tattr *x = dec_attr_slot(a, key);
    if (x == NULL)
        return;
    x->type = ENV_TATTR_INT;
    x->i = v;
}

void dec_attr_bool(struct dec_attrs *a, const char *key, int v)
{
    struct envelope_tattr *x = dec_attr_slot(a, key);
    if (x == NULL)
        return;
    x->type = ENV_TATTR_BOOL;
    x->i = v != 0;
}

/* Copies the text of s (without its NUL) to o; returns the end. */
static char *put_text(char *o, const char *s)
{
    while (*s)
        *o++ = *s++;
    return o;
}

/* The decimal text of v at o; returns the end. */
static char *put_u64(char *o, uint64_t v)
{
    uint64_t t = v;
    char *end = o + 1;

    while (t >= 10)
        t /= 10, end++;
    o = end;
    do
        *--o = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    return end;
}

/* Sorts a's attributes by key (insertion: a handful, where qsort's calls showed). */
static void attrs_sort(struct dec_attrs *a)
{
    size_t i, j;

    for (i = 1; i < a->n; i++) {
        struct envelope_tattr x = a->a[i];
        for (j = i; j > 0 && key_cmp(a->a[j - 1].key, x.key) > 0; j--)
            a->a[j] = a->a[j - 1];
        a->a[j] = x;
    }
}

struct emit_ctx {
    struct pcapsrc *ps;
    int n;
};

static int emit_one(void *ctx, struct event *ev)
{
    struct emit_ctx *e = ctx;

    e->n++;
    return pcapsrc_emit_event(e->ps, ev);
}

/*
 * The template's copy of n bytes of s up to a NUL (as event_set makes it): in buf when it
 * fits, else in *heap (the caller frees it).
 */
static char *tmpl_str(const char *s, size_t n, char *buf, size_t buflen, char **heap)
{
    n = strnlen(s, n);
    if (n >= buflen)
        return *heap = xstrndup(s, n);
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

void decoders_emit(struct dec_msg *m, const struct dec_out *o)
{
    struct event tmpl;
    char chan[256], pk[256], *chan_heap = NULL, *pk_heap = NULL;
    struct emit_ctx ctx;
    struct dec_attrs attrs;
    uint64_t first, last;
    int64_t ts;
    char loc[64], *l;
    const char *why = NULL;
    int rc;

    tcp_dir_frames(m->td, 0, o->msg_len ? o->msg_len : 1, &first, &last, &ts);
    if (o->first_frame)
        first = o->first_frame;
    if (last == 0 || last == first) {
        l = put_u64(put_text(loc, "frame "), first);
    } else {
        l = put_u64(put_text(loc, "frames "), first);
        *l++ = '-';
        l = put_u64(l, last);
    }
    *l = '\0';
    /* The template borrows its strings (the normaliser only reads it): no copies to free. */
    event_init(&tmpl);
    tmpl.location = loc;
    tmpl.transport = (char *)(m->dec ? m->dec->transport : NULL);
    if (o->channel)
        tmpl.channel = tmpl_str(o->channel, o->channel_len ? o->channel_len : strlen(o->channel),
                                chan, sizeof chan, &chan_heap);
    tmpl.direction = (char *)o->direction;
    if (o->partition_key && o->pk_len)
        tmpl.partition_key = tmpl_str(o->partition_key, o->pk_len, pk, sizeof pk, &pk_heap);
    tmpl.observed_us = ts;
    attrs.n = o->attrs ? o->attrs->n : 0; /* the ones in use: a whole copy was 4% of decoding */
    if (attrs.n > 0)
        memcpy(attrs.a, o->attrs->a, attrs.n * sizeof attrs.a[0]);
    dec_attr_str(&attrs, "src", m->dir == DEC_TO_SERVER ? m->client : m->server,
                 strlen(m->dir == DEC_TO_SERVER ? m->client : m->server));
    dec_attr_str(&attrs, "dst", m->dir == DEC_TO_SERVER ? m->server : m->client,
                 strlen(m->dir == DEC_TO_SERVER ? m->server : m->client));
    /* keys sorted, as attrs were written (json_dumps with JSON_SORT_KEYS) */
    attrs_sort(&attrs);
    ctx.ps = m->ps;
    ctx.n = 0;
    rc = envelope_from_message_buf(pcapsrc_msgbuf(m->ps), pcapsrc_map(m->ps), o->binding, o->h,
                                   o->nh, o->body, o->body_len, &tmpl, attrs.a, attrs.n,
                                   emit_one, &ctx, &why);
    if (rc == ES_OK && why != NULL)
        rc = pcapsrc_reject_frames(m->ps, first, last, why,
                                   "message only partly readable; kept what could be read",
                                   o->body, o->body_len < 64 ? o->body_len : 64);
    free(chan_heap);
    free(pk_heap);
    if (rc != ES_OK && m->rc == ES_OK)
        m->rc = rc;
}
