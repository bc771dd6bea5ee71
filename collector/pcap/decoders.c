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

#include <ctype.h>
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

int decoders_token_eq(const uint8_t *p, size_t len, const char *word)
{
    size_t i;

    if (strlen(word) != len)
        return 0;
    for (i = 0; i < len; i++)
        if (tolower(p[i]) != tolower((unsigned char)word[i]))
            return 0;
    return 1;
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

void decoders_emit(struct dec_msg *m, const struct dec_out *o)
{
    struct event tmpl;
    struct emit_ctx ctx;
    uint64_t first, last;
    int64_t ts;
    char loc[64];
    const char *why = NULL;
    json_t *attrs;
    char *text;
    int rc;

    tcp_dir_frames(m->td, 0, o->msg_len ? o->msg_len : 1, &first, &last, &ts);
    if (o->first_frame)
        first = o->first_frame;
    if (last == 0 || last == first)
        snprintf(loc, sizeof loc, "frame %llu", (unsigned long long)first);
    else
        snprintf(loc, sizeof loc, "frames %llu-%llu", (unsigned long long)first,
                 (unsigned long long)last);
    event_init(&tmpl);
    event_set_str(&tmpl.location, loc);
    event_set_str(&tmpl.transport, m->dec ? m->dec->transport : NULL);
    if (o->channel)
        event_set(&tmpl.channel, o->channel, o->channel_len ? o->channel_len : strlen(o->channel));
    event_set_str(&tmpl.direction, o->direction);
    if (o->partition_key && o->pk_len)
        event_set(&tmpl.partition_key, o->partition_key, o->pk_len);
    tmpl.observed_us = ts;
    attrs = o->attrs ? json_incref(o->attrs) : json_object(); /* the decoder's, scratch */
    json_object_set_new(attrs, "src", json_string(m->dir == DEC_TO_SERVER ? m->client : m->server));
    json_object_set_new(attrs, "dst", json_string(m->dir == DEC_TO_SERVER ? m->server : m->client));
    text = json_dumps(attrs, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(attrs);
    event_set_str(&tmpl.attrs, text);
    free(text);
    ctx.ps = m->ps;
    ctx.n = 0;
    rc = envelope_from_message(pcapsrc_map(m->ps), o->binding, o->h, o->nh, o->body, o->body_len,
                               &tmpl, emit_one, &ctx, &why);
    if (rc == ES_OK && why != NULL)
        rc = pcapsrc_reject_frames(m->ps, first, last, why,
                                   "message only partly readable; kept what could be read",
                                   o->body, o->body_len < 64 ? o->body_len : 64);
    event_done(&tmpl);
    if (rc != ES_OK && m->rc == ES_OK)
        m->rc = rc;
}
