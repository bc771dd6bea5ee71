/*
 * Replays of `kcat -C -J` and `mosquitto_sub -F %j` output: one JSON object per line, each
 * one delivered message, decoded with the Kafka and MQTT CloudEvents bindings.
 *
 *   kcat -J:            {"topic":"orders","partition":2,"offset":1532,"tstype":"create",
 *                        "ts":1700000000000,"broker":1,"headers":["ce_id","a1",...],
 *                        "key":"ord-1","payload":"{...}"}
 *   mosquitto_sub %j:   {"tst":"2026-11-23T22:28:59.893949Z+0000","topic":"a/b","qos":1,
 *                        "retain":0,"payloadlen":7,"properties":{"user-properties":
 *                        {"ce_id":"abc"},"content-type":"application/json"},"payload":"..."}
 */
#include "collector/taps/tap_replay.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/taps/taps.h"
#include "core/timeparse.h"
#include "core/xmalloc.h"

#define REPLAY_MAX_HEADERS 256

int tap_replay_format_parse(const char *name)
{
    if (name == NULL)
        return 0;
    if (strcmp(name, "kcat") == 0 || strcmp(name, "kafkacat") == 0)
        return TAP_REPLAY_KCAT;
    if (strcmp(name, "mosquitto-json") == 0 || strcmp(name, "mosquitto_sub") == 0)
        return TAP_REPLAY_MOSQUITTO_JSON;
    return 0;
}

const char *tap_replay_format_name(int format)
{
    switch (format) {
    case TAP_REPLAY_KCAT:
        return "kcat";
    case TAP_REPLAY_MOSQUITTO_JSON:
        return "mosquitto-json";
    default:
        return "?";
    }
}

/* Where replayed messages go: a hub tap (locked) or a plain sink. */
struct replay_out {
    struct tap *t;  /* hub mode when set */
    struct sink *s; /* sink mode */
};

static int out_deliver(struct replay_out *o, enum envelope_binding b,
                       const struct envelope_header *h, size_t nh, const void *body, size_t len,
                       struct event *tmpl, json_t *attrs)
{
    if (o->t != NULL)
        return tap_deliver(o->t, b, h, nh, body, len, tmpl, attrs, NULL);
    return tap_deliver_sink(o->s, NULL, o->s->origin, b, h, nh, body, len, tmpl, attrs);
}

static int out_reject(struct replay_out *o, const char *loc, const char *reason,
                      const char *detail, const void *excerpt, size_t len)
{
    if (len > 256)
        len = 256;
    if (o->t != NULL)
        return tap_reject(o->t, loc, reason, detail, excerpt, len);
    return sink_reject(o->s, loc, reason, detail, excerpt, len);
}

static int out_stopping(struct replay_out *o)
{
    return o->t != NULL ? tap_stopping(o->t) : sink_stopping(o->s);
}

static void tmpl_init(struct event *tmpl, const char *transport, const char *channel,
                      const char *location)
{
    event_init(tmpl);
    event_set_str(&tmpl->transport, transport);
    event_set_str(&tmpl->channel, channel);
    event_set_str(&tmpl->direction, "deliver");
    event_set_str(&tmpl->location, location);
}

/* ---- kcat -J ------------------------------------------------------------------------- */

static int replay_kcat(struct replay_out *o, json_t *obj, const char *lineloc, const char *line,
                       size_t len)
{
    json_t *topic = json_object_get(obj, "topic"), *part = json_object_get(obj, "partition"),
           *off = json_object_get(obj, "offset"), *ts = json_object_get(obj, "ts"),
           *hdrs = json_object_get(obj, "headers"), *key = json_object_get(obj, "key"),
           *payload = json_object_get(obj, "payload"), *attrs;
    struct envelope_header h[REPLAY_MAX_HEADERS];
    size_t nh = 0, i;
    struct event tmpl;
    char *loc;
    int rc;

    if (!json_is_string(topic) || !json_is_integer(part) || !json_is_integer(off))
        return out_reject(o, lineloc, "kcat_missing_field",
                          "needs topic (string), partition and offset (integers)", line, len);
    if (payload != NULL && !json_is_string(payload) && !json_is_null(payload))
        return out_reject(o, lineloc, "kcat_bad_payload", "payload is not a string", line, len);
    if (key != NULL && !json_is_string(key) && !json_is_null(key))
        return out_reject(o, lineloc, "kcat_bad_key", "key is not a string", line, len);
    if (json_is_array(hdrs)) {
        if (json_array_size(hdrs) % 2 != 0 || json_array_size(hdrs) / 2 > REPLAY_MAX_HEADERS)
            return out_reject(o, lineloc, "kcat_bad_headers",
                              "headers is not a list of name, value pairs", line, len);
        for (i = 0; i + 1 < json_array_size(hdrs); i += 2) {
            json_t *n = json_array_get(hdrs, i), *v = json_array_get(hdrs, i + 1);
            if (!json_is_string(n) || !(json_is_string(v) || json_is_null(v)))
                return out_reject(o, lineloc, "kcat_bad_headers",
                                  "a header name or value is not a string", line, len);
            h[nh].name = json_string_value(n);
            h[nh].name_len = json_string_length(n);
            h[nh].value = json_is_string(v) ? json_string_value(v) : "";
            h[nh].value_len = json_is_string(v) ? json_string_length(v) : 0;
            nh++;
        }
    } else if (json_is_object(hdrs)) {
        const char *k;
        json_t *v;
        json_object_foreach(hdrs, k, v)
        {
            if (!json_is_string(v) || nh == REPLAY_MAX_HEADERS)
                return out_reject(o, lineloc, "kcat_bad_headers",
                                  "a header value is not a string", line, len);
            h[nh].name = k;
            h[nh].name_len = strlen(k);
            h[nh].value = json_string_value(v);
            h[nh].value_len = json_string_length(v);
            nh++;
        }
    } else if (hdrs != NULL && !json_is_null(hdrs)) {
        return out_reject(o, lineloc, "kcat_bad_headers", "headers is not a list", line, len);
    }

    loc = xasprintf("%s/%" JSON_INTEGER_FORMAT "@%" JSON_INTEGER_FORMAT, json_string_value(topic),
                    json_integer_value(part), json_integer_value(off));
    tmpl_init(&tmpl, "kafka", json_string_value(topic), loc);
    free(loc);
    attrs = json_pack("{s:I,s:I}", "partition", (json_int_t)json_integer_value(part), "offset",
                      (json_int_t)json_integer_value(off));
    if (json_is_integer(ts)) {
        json_int_t ms = json_integer_value(ts);
        if (ms > 0 && ms < INT64_MAX / 1000)
            tmpl.observed_us = (int64_t)ms * 1000;
        json_object_set_new(attrs, "kafka_timestamp", json_integer(ms));
    }
    if (json_is_string(json_object_get(obj, "tstype")))
        json_object_set(attrs, "kafka_timestamp_type", json_object_get(obj, "tstype"));
    if (json_is_string(key)) {
        json_object_set(attrs, "key", key);
        event_set(&tmpl.partition_key, json_string_value(key), json_string_length(key));
    }
    rc = out_deliver(o, ENV_BIND_KAFKA, h, nh, json_is_string(payload) ? json_string_value(payload) : "",
                     json_is_string(payload) ? json_string_length(payload) : 0, &tmpl, attrs);
    event_done(&tmpl);
    return rc;
}

/* ---- mosquitto_sub -F %j ---------------------------------------------------------------- */

static int replay_mosquitto(struct replay_out *o, json_t *obj, const char *lineloc,
                            const char *line, size_t len)
{
    json_t *topic = json_object_get(obj, "topic"), *payload = json_object_get(obj, "payload"),
           *props = json_object_get(obj, "properties"), *tst = json_object_get(obj, "tst"),
           *attrs, *v;
    struct envelope_header h[REPLAY_MAX_HEADERS];
    size_t nh = 0;
    struct event tmpl;
    const char *k;
    char *body_txt = NULL;
    const char *body = "";
    size_t body_len = 0;
    int rc;

    if (!json_is_string(topic))
        return out_reject(o, lineloc, "mosquitto_missing_topic", "needs topic (string)", line,
                          len);
    if (props != NULL && !json_is_object(props))
        return out_reject(o, lineloc, "mosquitto_bad_properties", "properties is not an object",
                          line, len);
    json_object_foreach(props, k, v)
    {
        if (strcmp(k, "user-properties") == 0) {
            const char *uk;
            json_t *uv;
            if (!json_is_object(v))
                return out_reject(o, lineloc, "mosquitto_bad_properties",
                                  "user-properties is not an object", line, len);
            json_object_foreach(v, uk, uv)
            {
                if (!json_is_string(uv) || nh == REPLAY_MAX_HEADERS)
                    return out_reject(o, lineloc, "mosquitto_bad_properties",
                                      "a user property is not a string", line, len);
                h[nh].name = uk;
                h[nh].name_len = strlen(uk);
                h[nh].value = json_string_value(uv);
                h[nh].value_len = json_string_length(uv);
                nh++;
            }
        } else if ((strcmp(k, "content-type") == 0 || strcmp(k, "correlation-data") == 0) &&
                   json_is_string(v) && nh < REPLAY_MAX_HEADERS) {
            h[nh].name = k;
            h[nh].name_len = strlen(k);
            h[nh].value = json_string_value(v);
            h[nh].value_len = json_string_length(v);
            nh++;
        }
    }
    if (json_is_string(payload)) {
        body = json_string_value(payload);
        body_len = json_string_length(payload);
    } else if (payload != NULL && !json_is_null(payload)) {
        /* some builds print a JSON payload as JSON */
        body_txt = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
        body = body_txt ? body_txt : "";
        body_len = strlen(body);
    }

    tmpl_init(&tmpl, "mqtt", json_string_value(topic), lineloc);
    if (json_is_string(tst)) {
        /* "2026-11-23T22:28:59.893949Z+0000": the part up to the Z is RFC 3339 */
        const char *s = json_string_value(tst), *z = strchr(s, 'Z');
        size_t n = z ? (size_t)(z - s) + 1 : json_string_length(tst);
        int64_t us;
        if (timeparse_text(s, n, &us, NULL) == ES_OK)
            tmpl.observed_us = us;
    }
    attrs = json_object();
    if (json_is_integer(json_object_get(obj, "qos")))
        json_object_set(attrs, "qos", json_object_get(obj, "qos"));
    if ((v = json_object_get(obj, "retain")) != NULL && (json_is_integer(v) || json_is_boolean(v)))
        json_object_set_new(attrs, "retain",
                            json_boolean(json_is_integer(v) ? json_integer_value(v) != 0
                                                            : json_is_true(v)));
    if (json_is_integer(json_object_get(obj, "mid")))
        json_object_set(attrs, "mid", json_object_get(obj, "mid"));
    rc = out_deliver(o, ENV_BIND_MQTT, h, nh, body, body_len, &tmpl, attrs);
    event_done(&tmpl);
    free(body_txt);
    return rc;
}

/* ---- Lines ------------------------------------------------------------------------------ */

static int replay_line(struct replay_out *o, int format, const char *name, uint64_t lineno,
                       const char *line, size_t len)
{
    json_error_t jerr;
    json_t *obj;
    char loc[512], detail[256];
    int rc;

    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (len == 0)
        return ES_OK;
    snprintf(loc, sizeof loc, "%s:%llu", name, (unsigned long long)lineno);
    obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (obj == NULL || !json_is_object(obj)) {
        if (obj == NULL)
            snprintf(detail, sizeof detail, "column %d: %s", jerr.column, jerr.text);
        else
            snprintf(detail, sizeof detail, "not a JSON object");
        json_decref(obj);
        return out_reject(o, loc, "replay_bad_json", detail, line, len);
    }
    if (format == TAP_REPLAY_KCAT)
        rc = replay_kcat(o, obj, loc, line, len);
    else
        rc = replay_mosquitto(o, obj, loc, line, len);
    json_decref(obj);
    return rc;
}

/* Byte source: a FILE, a buffer, or (hub mode) a descriptor polled so Ctrl-C is seen. */
struct reader {
    FILE *in;
    int fd;            /* >= 0: read(2) with poll, checking out_stopping */
    const char *buf;
    size_t blen, pos;
    char chunk[65536];
    size_t cn, cp;
    int error;
};

static int rd_getc(struct reader *r, struct replay_out *o)
{
    if (r->fd >= 0) {
        while (r->cp == r->cn) {
            struct pollfd pfd = {r->fd, POLLIN, 0};
            ssize_t got;
            if (out_stopping(o))
                return EOF;
            if (poll(&pfd, 1, 100) <= 0)
                continue;
            got = read(r->fd, r->chunk, sizeof r->chunk);
            if (got < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (got < 0)
                r->error = 1;
            if (got <= 0)
                return EOF;
            r->cn = (size_t)got;
            r->cp = 0;
        }
        return (unsigned char)r->chunk[r->cp++];
    }
    if (r->in != NULL)
        return getc(r->in);
    return r->pos < r->blen ? (unsigned char)r->buf[r->pos++] : EOF;
}

/* Reads lines from r into o. */
static int replay_run(struct replay_out *o, int format, struct reader *r, const char *name,
                      char *err, size_t errlen)
{
    char *line = NULL;
    size_t cap = 0, n = 0;
    uint64_t lineno = 0;
    int rc = ES_OK, toolong = 0, c = 0;

    if (format != TAP_REPLAY_KCAT && format != TAP_REPLAY_MOSQUITTO_JSON) {
        snprintf(err, errlen, "unknown replay format (kcat or mosquitto-json)");
        return ES_EUSAGE;
    }
    for (;;) {
        /* one line, capped */
        n = 0;
        toolong = 0;
        for (;;) {
            c = rd_getc(r, o);
            if (c == EOF || c == '\n')
                break;
            if (n >= TAP_REPLAY_MAX_LINE) {
                toolong = 1;
                continue;
            }
            if (n + 1 >= cap) {
                cap = cap ? cap * 2 : 4096;
                line = xrealloc(line, cap);
            }
            line[n++] = (char)c;
        }
        if (c == EOF && n == 0 && !toolong)
            break;
        lineno++;
        if (toolong) {
            char loc[512];
            snprintf(loc, sizeof loc, "%s:%llu", name, (unsigned long long)lineno);
            rc = out_reject(o, loc, "replay_line_too_long", "line longer than 16 MiB", line,
                            n);
        } else {
            rc = replay_line(o, format, name, lineno, line, n);
        }
        if (rc == ES_EINTERRUPTED) {
            rc = ES_OK;
            break;
        }
        if (rc != ES_OK) {
            snprintf(err, errlen, "%s:%llu: %s", name, (unsigned long long)lineno,
                     es_strerror(rc));
            break;
        }
        if (c == EOF || out_stopping(o))
            break;
    }
    if (rc == ES_OK && !out_stopping(o) &&
        (r->error || (r->in != NULL && ferror(r->in)))) {
        snprintf(err, errlen, "%s: read error", name);
        rc = ES_EIO;
    }
    free(line);
    return rc;
}

int tap_replay_stream(struct sink *s, int format, FILE *in, const char *name, char *err,
                      size_t errlen)
{
    struct replay_out o = {NULL, s};
    struct reader *r = xcalloc(1, sizeof *r);
    int rc;

    r->in = in;
    r->fd = -1;
    rc = replay_run(&o, format, r, name, err, errlen);
    free(r);
    return rc;
}

int tap_replay_buffer(struct sink *s, int format, const void *buf, size_t len,
                      const char *name, char *err, size_t errlen)
{
    struct replay_out o = {NULL, s};
    struct reader *r = xcalloc(1, sizeof *r);
    int rc;

    r->buf = buf;
    r->blen = len;
    r->fd = -1;
    rc = replay_run(&o, format, r, name, err, errlen);
    free(r);
    return rc;
}

/* ---- As a hub tap (eventscope tap -) ------------------------------------------------------ */

static int replay_open(struct tap *t, char *err, size_t errlen)
{
    (void)t, (void)err, (void)errlen;
    return ES_OK;
}

static void replay_thread(struct tap *t)
{
    struct replay_out o = {t, NULL};
    struct reader *r = xcalloc(1, sizeof *r);
    char err[256];

    r->fd = fileno(t->replay_in);
    if (replay_run(&o, t->replay_format, r, t->replay_name, err, sizeof err) != ES_OK)
        tap_notice(t, "%s", err);
    free(r);
}

static void replay_close(struct tap *t)
{
    (void)t;
}

const struct tap_ops tap_replay_ops = {"replay", NULL, replay_open, replay_thread, replay_close};
