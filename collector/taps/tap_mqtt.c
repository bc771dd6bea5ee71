/*
 * MQTT tap (libmosquitto): mqtt://[user:pass@]host:port/filter[,filter...] (mqtts:// for
 * TLS). Connects with MQTT 5 and a persistent session (clean start off, session expiry
 * ?session_expiry=S, default 3600) under a client id derived from the store, subscribes
 * at QoS 1 (?qos=0|1|2), so messages published while the tap is reconnecting are kept by
 * the broker. CloudEvents travel as MQTT 5 user properties (MQTT binding 1.0.2, 3.1).
 *
 * Location: "<topic>#<n>@<tap start µs>" (n counts deliveries of this tap): MQTT has no
 * broker coordinates. attrs: qos, retain, mid, response_topic. libmosquitto does not
 * expose the DUP flag of a delivery.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "collector/taps/taps.h"
#include "core/xmalloc.h"

#define MQTT_MAX_FILTERS 64
#define MQTT_MAX_HEADERS 128

struct mqtt_state {
    struct mosquitto *mosq;
    char *filters[MQTT_MAX_FILTERS];
    size_t nfilters;
    int qos;
    int connack;    /* -1 while waiting for CONNACK, else the reason code */
    int subscribed; /* SUBACK seen (1), refused (2) */
    int reconnecting;
    char client_id[64];
    char tls_error[160]; /* the first OpenSSL error libmosquitto logged since the last reset */
    int logging;         /* on_log is installed (only while connecting) */
};

static pthread_mutex_t mqtt_lib_mu = PTHREAD_MUTEX_INITIALIZER;
static int mqtt_lib_users;

static void mqtt_lib_ref(int delta)
{
    pthread_mutex_lock(&mqtt_lib_mu);
    if (delta > 0 && mqtt_lib_users++ == 0)
        mosquitto_lib_init();
    if (delta < 0 && --mqtt_lib_users == 0)
        mosquitto_lib_cleanup();
    pthread_mutex_unlock(&mqtt_lib_mu);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
    struct tap *t = obj;
    struct mqtt_state *m = t->priv;

    (void)flags, (void)props;
    m->connack = rc;
    if (rc != 0) {
        if (m->reconnecting)
            tap_notice(t, "broker refused the connection: %s", mosquitto_reason_string(rc));
        return;
    }
    /* Subscribe every time: a broker that lost the session (restart without
       persistence) needs it, one that kept it ignores the repeat. */
    if (mosquitto_subscribe_multiple(mosq, NULL, (int)m->nfilters, m->filters, m->qos, 0,
                                     NULL) != MOSQ_ERR_SUCCESS)
        tap_notice(t, "cannot subscribe");
    if (m->reconnecting) {
        tap_notice(t, "reconnected");
        m->reconnecting = 0;
    }
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count,
                         const int *granted, const mosquitto_property *props)
{
    struct tap *t = obj;
    struct mqtt_state *m = t->priv;
    int i;

    (void)mosq, (void)mid, (void)props;
    for (i = 0; i < count; i++)
        if (granted[i] >= 0x80) {
            m->subscribed = 2;
            return;
        }
    m->subscribed = 1;
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    struct tap *t = obj;
    struct envelope_header h[MQTT_MAX_HEADERS];
    char *owned[MQTT_MAX_HEADERS * 2];
    size_t nh = 0, nowned = 0, i;
    const mosquitto_property *p;
    struct event tmpl;
    json_t *attrs;
    char *loc;
    uint64_t n;

    (void)mosq;
    attrs = json_pack("{s:i,s:b,s:i}", "qos", msg->qos, "retain", msg->retain ? 1 : 0, "mid",
                      msg->mid);
    for (p = props; p != NULL && nh < MQTT_MAX_HEADERS; p = mosquitto_property_next(p)) {
        int id = mosquitto_property_identifier(p);
        char *name = NULL, *value = NULL;
        void *bin = NULL;
        uint16_t blen = 0;

        if (id == MQTT_PROP_USER_PROPERTY &&
            mosquitto_property_read_string_pair(p, id, &name, &value, false) != NULL) {
            h[nh].name = name;
            h[nh].name_len = strlen(name);
            h[nh].value = value;
            h[nh].value_len = strlen(value);
            nh++;
            owned[nowned++] = name;
            owned[nowned++] = value;
        } else if (id == MQTT_PROP_CONTENT_TYPE &&
                   mosquitto_property_read_string(p, id, &value, false) != NULL) {
            h[nh].name = "content-type";
            h[nh].name_len = 12;
            h[nh].value = value;
            h[nh].value_len = strlen(value);
            nh++;
            owned[nowned++] = value;
        } else if (id == MQTT_PROP_CORRELATION_DATA &&
                   mosquitto_property_read_binary(p, id, &bin, &blen, false) != NULL) {
            h[nh].name = "correlation-data";
            h[nh].name_len = 16;
            h[nh].value = bin;
            h[nh].value_len = blen;
            nh++;
            owned[nowned++] = bin;
        } else if (id == MQTT_PROP_RESPONSE_TOPIC &&
                   mosquitto_property_read_string(p, id, &value, false) != NULL) {
            json_object_set_new(attrs, "response_topic", json_string(value));
            free(value);
        }
    }
    n = __atomic_add_fetch(&t->seq, 1, __ATOMIC_SEQ_CST);
    loc = xasprintf("%s#%llu@%lld", msg->topic, (unsigned long long)n, (long long)t->start_us);
    event_init(&tmpl);
    tmpl.location = loc;
    event_set_str(&tmpl.transport, "mqtt");
    event_set_str(&tmpl.channel, msg->topic);
    event_set_str(&tmpl.direction, "deliver");
    tmpl.observed_us = tap_now_us();
    if (tap_deliver(t, ENV_BIND_MQTT, h, nh, msg->payload ? msg->payload : "",
                    msg->payload ? (size_t)msg->payloadlen : 0, &tmpl, attrs, NULL) != ES_OK) {
        /*
         * Not stored: a store error (the hub records it and stops every tap) or a message over
         * the --count (dropped, mosquitto already acked it). Nothing to undo here.
         */
    }
    event_done(&tmpl);
    for (i = 0; i < nowned; i++)
        free(owned[i]);
}

static const char *connect_error(int rc)
{
    if (rc == MOSQ_ERR_ERRNO)
        return strerror(errno);
    return mosquitto_strerror(rc);
}

/*
 * libmosquitto reports why a TLS handshake failed only through its log callback
 * ("OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed"): keep the
 * reason of the first such line. Called on the thread running the mosquitto calls.
 */
static void on_log(struct mosquitto *mosq, void *obj, int level, const char *str)
{
    struct tap *t = obj;
    struct mqtt_state *m = t->priv;
    const char *r;

    (void)mosq;
    if (m == NULL || level != MOSQ_LOG_ERR || strncmp(str, "OpenSSL Error", 13) != 0 ||
        m->tls_error[0] != '\0')
        return;
    r = strrchr(str, ':'); /* the reason follows the last colon */
    r = r != NULL && r[1] != '\0' ? r + 1 : str;
    while (*r == ' ')
        r++;
    snprintf(m->tls_error, sizeof m->tls_error, "%s", r);
}

/*
 * The log callback is installed only while (re)connecting: with one set, libmosquitto
 * formats a debug line for every PUBLISH and PUBACK, which costs at tap rates.
 */
static void set_logging(struct mqtt_state *m, int on)
{
    if (m->logging == on)
        return;
    mosquitto_log_callback_set(m->mosq, on ? on_log : NULL);
    m->logging = on;
    if (on)
        m->tls_error[0] = '\0';
}

/* What to do about a failed TLS handshake, from OpenSSL's reason. */
static const char *tls_hint(const char *reason)
{
    if (strstr(reason, "verify failed") != NULL)
        return " (is --ca the CA that signed the broker's certificate, issued for this host?)";
    if (strstr(reason, "certificate required") != NULL ||
        strstr(reason, "handshake failure") != NULL)
        return " (the broker wants a client certificate: give --cert and --key)";
    if (strstr(reason, "unknown ca") != NULL || strstr(reason, "bad certificate") != NULL ||
        strstr(reason, "certificate unknown") != NULL)
        return " (the broker does not accept this client certificate)";
    if (strstr(reason, "wrong version number") != NULL ||
        strstr(reason, "packet length too long") != NULL)
        return " (is this a TLS port? use mqtt:// without --ca for plain MQTT)";
    return "";
}

/* One line for a connection that failed before CONNACK. */
static void connect_failed(struct tap *t, int port, const char *what, int rc, char *err,
                           size_t errlen)
{
    struct mqtt_state *m = t->priv;

    if (t->url.tls && m->tls_error[0] != '\0')
        snprintf(err, errlen, "TLS handshake with %s:%d failed: %s%s", t->url.host, port,
                 m->tls_error, tls_hint(m->tls_error));
    else if (t->url.tls &&
             (rc == MOSQ_ERR_PROTOCOL || (rc == MOSQ_ERR_ERRNO && errno == EPROTO)))
        snprintf(err, errlen, "%s:%d %s: %s%s", t->url.host, port, what, connect_error(rc),
                 t->opts->cert == NULL
                     ? " (does the broker want a client certificate? give --cert and --key)"
                     : " (does the broker accept this client certificate?)");
    else if (!t->url.tls)
        snprintf(err, errlen, "%s:%d %s: %s (a TLS-only port? use mqtts:// with --ca)",
                 t->url.host, port, what, connect_error(rc));
    else
        snprintf(err, errlen, "%s:%d %s: %s", t->url.host, port, what, connect_error(rc));
}

static int mqtt_open(struct tap *t, char *err, size_t errlen)
{
    struct mqtt_state *m = xcalloc(1, sizeof *m);
    mosquitto_property *props = NULL;
    const char *v;
    int port, rc, i, tls = t->url.tls;
    long expiry = 3600;

    t->priv = m;
    mqtt_lib_ref(1);
    m->nfilters = tap_split(t->url.path, m->filters, MQTT_MAX_FILTERS);
    if (m->nfilters == 0) {
        snprintf(err, errlen, "no topic filter in URL (mqtt://host:port/filter[,filter...])");
        return ES_EUSAGE;
    }
    m->qos = 1;
    if ((v = tap_url_param(&t->url, "qos")) != NULL) {
        if (strlen(v) != 1 || v[0] < '0' || v[0] > '2') {
            snprintf(err, errlen, "qos must be 0, 1 or 2");
            return ES_EUSAGE;
        }
        m->qos = v[0] - '0';
    }
    if ((v = tap_url_param(&t->url, "session_expiry")) != NULL) {
        char *end;
        expiry = strtol(v, &end, 10);
        if (*end != '\0' || expiry < 0 || expiry > 0xffffffffL) {
            snprintf(err, errlen, "bad session_expiry (seconds)");
            return ES_EUSAGE;
        }
    }
    port = t->url.port ? t->url.port : (tls ? 8883 : 1883);
    rc = tap_resolve(t, t->url.host, err, errlen);
    if (rc != ES_OK)
        return rc;
    if ((v = tap_url_param(&t->url, "client_id")) != NULL) {
        snprintf(m->client_id, sizeof m->client_id, "%s", v);
    } else {
        char *k = xasprintf("%s|%s", t->opts->stem, t->uri);
        snprintf(m->client_id, sizeof m->client_id, "es-%016llx",
                 (unsigned long long)event_hash(k, strlen(k)));
        free(k);
    }
    m->mosq = mosquitto_new(m->client_id, false, t);
    if (m->mosq == NULL) {
        snprintf(err, errlen, "cannot create an MQTT client: %s", strerror(errno));
        return ES_EIO;
    }
    mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_connect_v5_callback_set(m->mosq, on_connect);
    mosquitto_subscribe_v5_callback_set(m->mosq, on_subscribe);
    mosquitto_message_v5_callback_set(m->mosq, on_message);
    set_logging(m, 1);
    if (t->url.user != NULL &&
        mosquitto_username_pw_set(m->mosq, t->url.user, t->url.pass) != MOSQ_ERR_SUCCESS) {
        snprintf(err, errlen, "bad user name or password");
        return ES_EUSAGE;
    }
    if (tls) {
        rc = mosquitto_tls_set(m->mosq, t->opts->ca, t->opts->ca ? NULL : "/etc/ssl/certs",
                               t->opts->cert, t->opts->key, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            snprintf(err, errlen, "TLS setup failed: %s", mosquitto_strerror(rc));
            return ES_EUSAGE;
        }
    }
    mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, (uint32_t)expiry);
    m->connack = -1;
    rc = mosquitto_connect_bind_v5(m->mosq, t->url.host, port, 30, NULL, props);
    mosquitto_property_free_all(&props);
    if (rc != MOSQ_ERR_SUCCESS) {
        /* a TLS handshake the broker aborted comes back as errno EPROTO */
        int tls_failed = tls && (m->tls_error[0] != '\0' ||
                                 (rc == MOSQ_ERR_ERRNO && errno == EPROTO));
        if (!tls_failed &&
            (rc == MOSQ_ERR_ERRNO || rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_REFUSED))
            snprintf(err, errlen, "cannot connect to %s:%d: %s", t->url.host, port,
                     connect_error(rc));
        else
            connect_failed(t, port, "refused the connection", rc, err, errlen);
        return ES_EIO;
    }
    /* CONNACK, then SUBACK, within 10 s */
    for (i = 0; i < 100 && (m->connack == -1 || (m->connack == 0 && m->subscribed == 0));
         i++) {
        rc = mosquitto_loop(m->mosq, 100, 1);
        if (rc != MOSQ_ERR_SUCCESS && m->connack == -1) {
            connect_failed(t, port, "closed the connection", rc, err, errlen);
            return ES_EIO;
        }
        if (rc != MOSQ_ERR_SUCCESS)
            break;
    }
    if (m->connack == -1) {
        snprintf(err, errlen, "no answer from %s:%d (is it an MQTT broker?)", t->url.host, port);
        return ES_EIO;
    }
    if (m->connack != 0) {
        snprintf(err, errlen, "broker refused the connection: %s",
                 mosquitto_reason_string(m->connack));
        return ES_EIO;
    }
    if (m->subscribed == 2) {
        snprintf(err, errlen, "broker refused the subscription to %s", t->url.path);
        return ES_EIO;
    }
    if (m->subscribed == 0) {
        snprintf(err, errlen, "no answer to the subscription from %s:%d", t->url.host, port);
        return ES_EIO;
    }
    set_logging(m, 0);
    return ES_OK;
}

static void mqtt_run(struct tap *t)
{
    struct mqtt_state *m = t->priv;
    int backoff = 0, rc;

    while (!tap_stopping(t)) {
        rc = mosquitto_loop(m->mosq, 100, 1);
        if (rc == MOSQ_ERR_SUCCESS) {
            if (m->connack == 0) {
                backoff = 0;
                set_logging(m, 0);
            }
            continue;
        }
        if (!m->reconnecting)
            tap_notice(t, "connection lost (%s); reconnecting", connect_error(rc));
        m->reconnecting = 1;
        if (tap_sleep(t, tap_backoff(t, &backoff)))
            break;
        m->connack = -1;
        set_logging(m, 1);
        m->tls_error[0] = '\0';
        rc = mosquitto_reconnect(m->mosq);
        if (rc != MOSQ_ERR_SUCCESS && backoff >= t->opts->backoff_max_ms)
            tap_notice(t, "still cannot connect: %s",
                       m->tls_error[0] ? m->tls_error : connect_error(rc));
    }
}

static void mqtt_close(struct tap *t)
{
    struct mqtt_state *m = t->priv;
    size_t i;

    if (m == NULL)
        return;
    if (m->mosq != NULL) {
        mosquitto_disconnect(m->mosq);
        mosquitto_destroy(m->mosq);
    }
    for (i = 0; i < m->nfilters; i++)
        free(m->filters[i]);
    free(m);
    t->priv = NULL;
    mqtt_lib_ref(-1);
}

const struct tap_ops tap_mqtt_ops = {"mqtt", "mqtts", mqtt_open, mqtt_run, mqtt_close};
