/*
 * AMQP 0-9-1 tap (librabbitmq): amqp://[user:pass@]host:port/vhost?exchange=X[,Y]
 * &binding=KEY[,KEY] (default "#"), amqps:// for TLS, ?firehose=1 to bind RabbitMQ's
 * amq.rabbitmq.trace exchange (see docs/TAPS.md for `rabbitmqctl trace_on`).
 *
 * The tap declares its own queue and binds it to the exchanges: the applications' queues
 * are untouched. The queue is named after the store and URL (?queue=NAME overrides) and
 * is durable, not exclusive and not auto-delete but carries x-expires (?expires=S,
 * default 1800): an auto-delete or exclusive queue would vanish with the connection and
 * lose what was routed to it while the tap reconnects; this one waits for the tap (also
 * across a broker restart) and is removed by the broker once nobody consumed from it for
 * that long. Messages are acknowledged only after the store committed them.
 *
 * Location: "<queue>/<consumer tag>#<delivery tag>". Channel: the exchange the message was
 * published to (its routing key for the default exchange). attrs: redelivered,
 * delivery_tag, exchange, routing_key, delivery_mode, reply_to, user_id, priority,
 * expiration, content_encoding; firehose: trace ("publish" or "deliver").
 *
 * TLS: the broker's certificate is verified against --ca and must name the host of the
 * URL. librabbitmq matches host names only (DNS entries, then the CN); for an IP address
 * in the URL the tap has OpenSSL match the certificate's IP address entries instead
 * (ES_HAVE_OPENSSL; without it such a URL cannot be verified and is refused).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <arpa/inet.h>
#ifdef ES_HAVE_OPENSSL
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#endif

#include "collector/taps/taps.h"
#include "core/xmalloc.h"

#define AMQP_MAX_LIST 32
#define AMQP_MAX_HEADERS 128
#define AMQP_NUMBUF 32

struct amqp_state {
    amqp_connection_state_t conn;
    char *vhost;
    char *queue;
    char *exchanges[AMQP_MAX_LIST];
    size_t nexchanges;
    char *bindings[AMQP_MAX_LIST];
    size_t nbindings;
    int firehose;
    int expires_s;
    int prefetch;
    int port;
    char *ctag;
    /* acknowledgement after commit */
    uint64_t last_tag, last_gen, acked;
};

/* ---- Connection ------------------------------------------------------------------------ */

static void rpc_error(amqp_rpc_reply_t r, const char *what, char *err, size_t errlen)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = r.reply.decoded;
            snprintf(err, errlen, "%s: broker closed the connection: %u %.*s", what,
                     m->reply_code, (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = r.reply.decoded;
            snprintf(err, errlen, "%s: broker refused: %u %.*s", what, m->reply_code,
                     (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        } else {
            snprintf(err, errlen, "%s: broker error (method 0x%08x)", what, r.reply.id);
        }
        break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        snprintf(err, errlen, "%s: %s", what, amqp_error_string2(r.library_error));
        break;
    default:
        snprintf(err, errlen, "%s: no reply", what);
    }
}

/* 1 when host is an IPv4 or IPv6 address literal. */
static int is_ip_literal(const char *host)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/*
 * Peer and host verification for an SSL socket. librabbitmq compares the URL's host with
 * the certificate's DNS names and CN only, so a certificate issued for an IP address
 * (subjectAltName IP:...) never matches: for an IP literal, OpenSSL checks the IP address
 * entries during the handshake instead (the chain check stays on).
 */
static int tls_verify_host(amqp_socket_t *sock, const char *host, char *err, size_t errlen)
{
    amqp_ssl_socket_set_verify_peer(sock, 1);
    amqp_ssl_socket_set_verify_hostname(sock, 1);
    if (!is_ip_literal(host))
        return ES_OK;
#ifdef ES_HAVE_OPENSSL
    {
        SSL_CTX *ctx = amqp_ssl_socket_get_context(sock);
        X509_VERIFY_PARAM *param = ctx != NULL ? SSL_CTX_get0_param(ctx) : NULL;
        if (param == NULL || X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1) {
            snprintf(err, errlen, "cannot set up the check of the broker's address %s", host);
            return ES_EIO;
        }
        amqp_ssl_socket_set_verify_hostname(sock, 0);
        return ES_OK;
    }
#else
    snprintf(err, errlen, "cannot verify a TLS broker by IP address %s in this build (no "
             "OpenSSL headers): use the host name its certificate names", host);
    return ES_EUSAGE;
#endif
}

/* One line for an amqp_socket_open() failure. */
static void open_failed(struct tap *t, int port, int st, char *err, size_t errlen)
{
    const char *hint = "";

    if (st == AMQP_STATUS_SSL_PEER_VERIFY_FAILED || st == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED)
        hint = " (is --ca the CA that signed the broker's certificate, issued for this host?)";
    else if (st == AMQP_STATUS_SSL_CONNECTION_FAILED || st == AMQP_STATUS_SSL_ERROR)
        hint = t->opts->cert == NULL
                   ? " (a TLS port? does the broker want a client certificate? give --cert "
                     "and --key)"
                   : " (a TLS port? does the broker accept this client certificate?)";
    if (st == AMQP_STATUS_SOCKET_ERROR && errno && errno != EINPROGRESS)
        snprintf(err, errlen, "cannot connect to %s:%d: %s", t->url.host, port, strerror(errno));
    else if (st == AMQP_STATUS_SOCKET_ERROR || st == AMQP_STATUS_TIMEOUT)
        snprintf(err, errlen, "cannot connect to %s:%d: connection refused or unreachable",
                 t->url.host, port);
    else if (t->url.tls && st <= AMQP_STATUS_SSL_ERROR && st >= AMQP_STATUS_SSL_SET_ENGINE_FAILED)
        snprintf(err, errlen, "TLS handshake with %s:%d failed: %s%s", t->url.host, port,
                 amqp_error_string2(st), hint);
    else
        snprintf(err, errlen, "cannot connect to %s:%d: %s", t->url.host, port,
                 amqp_error_string2(st));
}

static void amqp_disconnect(struct amqp_state *a)
{
    if (a->conn == NULL)
        return;
    amqp_connection_close(a->conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(a->conn);
    a->conn = NULL;
    free(a->ctag);
    a->ctag = NULL;
}

/* Connects, logs in, declares and binds the queue, starts consuming. */
static int amqp_connect_all(struct tap *t, char *err, size_t errlen)
{
    struct amqp_state *a = t->priv;
    amqp_socket_t *sock;
    amqp_rpc_reply_t r;
    struct timeval tv = {5, 0};
    amqp_table_entry_t ent;
    amqp_table_t args;
    amqp_basic_consume_ok_t *ok;
    size_t i, j;
    int st;

    a->conn = amqp_new_connection();
    if (t->url.tls) {
        sock = amqp_ssl_socket_new(a->conn);
        if (sock == NULL) {
            snprintf(err, errlen, "cannot create a TLS socket");
            return ES_EIO;
        }
        if (t->opts->ca && amqp_ssl_socket_set_cacert(sock, t->opts->ca) != AMQP_STATUS_OK) {
            snprintf(err, errlen, "cannot load CA file %s", t->opts->ca);
            return ES_EUSAGE;
        }
        if (t->opts->cert &&
            amqp_ssl_socket_set_key(sock, t->opts->cert, t->opts->key) != AMQP_STATUS_OK) {
            snprintf(err, errlen, "cannot load client certificate %s / key %s", t->opts->cert,
                     t->opts->key);
            return ES_EUSAGE;
        }
        if ((st = tls_verify_host(sock, t->url.host, err, errlen)) != ES_OK)
            return st;
    } else {
        sock = amqp_tcp_socket_new(a->conn);
    }
    if (sock == NULL) {
        snprintf(err, errlen, "cannot create a socket");
        return ES_EIO;
    }
    errno = 0;
    st = amqp_socket_open_noblock(sock, t->url.host, a->port, &tv);
    if (st != AMQP_STATUS_OK) {
        open_failed(t, a->port, st, err, errlen);
        return ES_EIO;
    }
    r = amqp_login(a->conn, a->vhost, 0, 131072, 10, AMQP_SASL_METHOD_PLAIN,
                   t->url.user ? t->url.user : "guest", t->url.pass ? t->url.pass : "guest");
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        (r.library_error == AMQP_STATUS_SOCKET_ERROR ||
         r.library_error == AMQP_STATUS_CONNECTION_CLOSED ||
         r.library_error == AMQP_STATUS_BAD_AMQP_DATA ||
         r.library_error == AMQP_STATUS_SSL_ERROR)) {
        /*
         * A broker refusing credentials says so (connection.close 403); this one hung up:
         * a TLS port spoken to in plain AMQP, or (TLS 1.3: after the handshake) a broker
         * that wants a client certificate.
         */
        snprintf(err, errlen, "%s:%d closed the %sconnection before the AMQP handshake: %s%s",
                 t->url.host, a->port, t->url.tls ? "TLS " : "",
                 amqp_error_string2(r.library_error),
                 !t->url.tls ? " (a TLS-only port? use amqps:// with --ca)"
                 : t->opts->cert == NULL
                     ? " (does the broker want a client certificate? give --cert and --key)"
                     : " (does the broker accept this client certificate?)");
        return ES_EIO;
    }
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        rpc_error(r, "login refused (user, password or vhost)", err, errlen);
        return ES_EIO;
    }
    amqp_channel_open(a->conn, 1);
    r = amqp_get_rpc_reply(a->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        rpc_error(r, "cannot open a channel", err, errlen);
        return ES_EIO;
    }
    amqp_basic_qos(a->conn, 1, 0, (uint16_t)a->prefetch, 0);
    r = amqp_get_rpc_reply(a->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        rpc_error(r, "basic.qos", err, errlen);
        return ES_EIO;
    }
    ent.key = amqp_cstring_bytes("x-expires");
    ent.value.kind = AMQP_FIELD_KIND_I32;
    ent.value.value.i32 = a->expires_s * 1000;
    args.num_entries = 1;
    args.entries = &ent;
    amqp_queue_declare(a->conn, 1, amqp_cstring_bytes(a->queue), 0, 1, 0, 0, args);
    r = amqp_get_rpc_reply(a->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        char what[300];
        snprintf(what, sizeof what, "cannot declare queue %s", a->queue);
        rpc_error(r, what, err, errlen);
        return ES_EIO;
    }
    for (i = 0; i < a->nexchanges; i++)
        for (j = 0; j < a->nbindings; j++) {
            amqp_queue_bind(a->conn, 1, amqp_cstring_bytes(a->queue),
                            amqp_cstring_bytes(a->exchanges[i]),
                            amqp_cstring_bytes(a->bindings[j]), amqp_empty_table);
            r = amqp_get_rpc_reply(a->conn);
            if (r.reply_type != AMQP_RESPONSE_NORMAL) {
                char what[300];
                snprintf(what, sizeof what, "cannot bind to exchange %s", a->exchanges[i]);
                rpc_error(r, what, err, errlen);
                return ES_EIO;
            }
        }
    if (a->firehose) {
        amqp_queue_bind(a->conn, 1, amqp_cstring_bytes(a->queue),
                        amqp_cstring_bytes("amq.rabbitmq.trace"), amqp_cstring_bytes("#"),
                        amqp_empty_table);
        r = amqp_get_rpc_reply(a->conn);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            rpc_error(r, "cannot bind to amq.rabbitmq.trace", err, errlen);
            return ES_EIO;
        }
    }
    ok = amqp_basic_consume(a->conn, 1, amqp_cstring_bytes(a->queue), amqp_empty_bytes, 0, 0, 0,
                            amqp_empty_table);
    r = amqp_get_rpc_reply(a->conn);
    if (ok == NULL || r.reply_type != AMQP_RESPONSE_NORMAL) {
        rpc_error(r, "cannot consume", err, errlen);
        return ES_EIO;
    }
    a->ctag = xstrndup(ok->consumer_tag.bytes, ok->consumer_tag.len);
    a->last_tag = a->acked = 0;
    return ES_OK;
}

static int amqp_open(struct tap *t, char *err, size_t errlen)
{
    struct amqp_state *a = xcalloc(1, sizeof *a);
    const char *v;
    int rc;

    t->priv = a;
    a->port = t->url.port ? t->url.port : (t->url.tls ? 5671 : 5672);
    a->vhost = xstrdup(*t->url.path ? t->url.path : "/");
    a->nexchanges = tap_split(tap_url_param(&t->url, "exchange"), a->exchanges, AMQP_MAX_LIST);
    a->nbindings = tap_split(tap_url_param(&t->url, "binding"), a->bindings, AMQP_MAX_LIST);
    if (a->nbindings == 0)
        a->bindings[a->nbindings++] = xstrdup("#");
    v = tap_url_param(&t->url, "firehose");
    a->firehose = v != NULL && strcmp(v, "0") != 0;
    if (a->nexchanges == 0 && !a->firehose) {
        snprintf(err, errlen, "no exchange to tap (add ?exchange=NAME[,NAME] or ?firehose=1)");
        return ES_EUSAGE;
    }
    a->expires_s = 1800;
    if ((v = tap_url_param(&t->url, "expires")) != NULL) {
        char *end;
        long x = strtol(v, &end, 10);
        if (*end != '\0' || x < 1 || x > 24L * 3600 * 365) {
            snprintf(err, errlen, "bad expires (seconds)");
            return ES_EUSAGE;
        }
        a->expires_s = (int)x;
    }
    a->prefetch = 1000;
    if ((v = tap_url_param(&t->url, "queue")) != NULL && *v) {
        a->queue = xstrdup(v);
    } else {
        char *k = xasprintf("%s|%s", t->opts->stem, t->uri);
        a->queue = xasprintf("%s.tap.%08llx", t->opts->stem,
                             (unsigned long long)(event_hash(k, strlen(k)) & 0xffffffffULL));
        free(k);
    }
    rc = tap_resolve(t, t->url.host, err, errlen);
    if (rc != ES_OK)
        return rc;
    rc = amqp_connect_all(t, err, errlen);
    if (rc != ES_OK)
        amqp_disconnect(a);
    return rc;
}

/* ---- Messages ------------------------------------------------------------------------- */

struct hdrs {
    struct envelope_header h[AMQP_MAX_HEADERS];
    size_t n;
    char num[AMQP_MAX_HEADERS][AMQP_NUMBUF]; /* text of numeric values */
};

static void hdr_add(struct hdrs *hs, const char *name, size_t nlen, const void *val, size_t vlen)
{
    if (hs->n == AMQP_MAX_HEADERS)
        return;
    hs->h[hs->n].name = name;
    hs->h[hs->n].name_len = nlen;
    hs->h[hs->n].value = val;
    hs->h[hs->n].value_len = vlen;
    hs->n++;
}

static void hdr_num(struct hdrs *hs, const char *name, size_t nlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void hdr_num(struct hdrs *hs, const char *name, size_t nlen, const char *fmt, ...)
{
    va_list ap;
    char *buf;

    if (hs->n == AMQP_MAX_HEADERS)
        return;
    buf = hs->num[hs->n];
    va_start(ap, fmt);
    vsnprintf(buf, AMQP_NUMBUF, fmt, ap);
    va_end(ap);
    hdr_add(hs, name, nlen, buf, strlen(buf));
}

/* AMQP 0-9-1 property names as the envelope's AMQP binding expects them. */
static const char *prop_name(const char *k, size_t len)
{
    static const char *const map[][2] = {
        {"message_id", "message-id"}, {"correlation_id", "correlation-id"},
        {"app_id", "app-id"},         {"content_type", "content-type"},
        {"type", "type"},             {"timestamp", "timestamp"},
    };
    size_t i;

    for (i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i][0]) == len && memcmp(map[i][0], k, len) == 0)
            return map[i][1];
    return NULL;
}

/* Adds a field table; nested tables are flattened when flatten (firehose properties). */
static void table_headers(struct hdrs *hs, const amqp_table_t *tb, int props, int depth)
{
    int i;

    for (i = 0; i < tb->num_entries; i++) {
        const amqp_table_entry_t *e = &tb->entries[i];
        const char *name = e->key.bytes;
        size_t nlen = e->key.len;
        const amqp_field_value_t *v = &e->value;

        if (props) {
            const char *pn = prop_name(name, nlen);
            if (nlen == 7 && memcmp(name, "headers", 7) == 0 && v->kind == AMQP_FIELD_KIND_TABLE &&
                depth < 2) {
                table_headers(hs, &v->value.table, 0, depth + 1);
                continue;
            }
            if (pn == NULL)
                continue;
            name = pn;
            nlen = strlen(pn);
        }
        switch (v->kind) {
        case AMQP_FIELD_KIND_UTF8:
        case AMQP_FIELD_KIND_BYTES:
            hdr_add(hs, name, nlen, v->value.bytes.bytes, v->value.bytes.len);
            break;
        case AMQP_FIELD_KIND_BOOLEAN:
            hdr_add(hs, name, nlen, v->value.boolean ? "true" : "false",
                    v->value.boolean ? 4 : 5);
            break;
        case AMQP_FIELD_KIND_I8:
            hdr_num(hs, name, nlen, "%d", v->value.i8);
            break;
        case AMQP_FIELD_KIND_U8:
            hdr_num(hs, name, nlen, "%u", v->value.u8);
            break;
        case AMQP_FIELD_KIND_I16:
            hdr_num(hs, name, nlen, "%d", v->value.i16);
            break;
        case AMQP_FIELD_KIND_U16:
            hdr_num(hs, name, nlen, "%u", v->value.u16);
            break;
        case AMQP_FIELD_KIND_I32:
            hdr_num(hs, name, nlen, "%" PRId32, v->value.i32);
            break;
        case AMQP_FIELD_KIND_U32:
            hdr_num(hs, name, nlen, "%" PRIu32, v->value.u32);
            break;
        case AMQP_FIELD_KIND_I64:
            hdr_num(hs, name, nlen, "%" PRId64, v->value.i64);
            break;
        case AMQP_FIELD_KIND_U64:
        case AMQP_FIELD_KIND_TIMESTAMP:
            hdr_num(hs, name, nlen, "%" PRIu64, v->value.u64);
            break;
        case AMQP_FIELD_KIND_F32:
            hdr_num(hs, name, nlen, "%.9g", (double)v->value.f32);
            break;
        case AMQP_FIELD_KIND_F64:
            hdr_num(hs, name, nlen, "%.17g", v->value.f64);
            break;
        default: /* decimals, arrays, nested tables, void: not attribute values */
            break;
        }
    }
}

static const amqp_field_value_t *table_get(const amqp_table_t *tb, const char *key)
{
    int i;
    size_t len = strlen(key);

    for (i = 0; i < tb->num_entries; i++)
        if (tb->entries[i].key.len == len && memcmp(tb->entries[i].key.bytes, key, len) == 0)
            return &tb->entries[i].value;
    return NULL;
}

static json_t *jbytes(amqp_bytes_t b)
{
    json_t *j = json_stringn(b.bytes ? b.bytes : "", b.len);

    return j ? j : json_string("(not UTF-8)");
}

/* Stores one delivery; returns ES_OK (also for a reject or a skipped trace of our own
   queue), ES_EINTERRUPTED (count reached: leave unacked) or a store error. */
static int amqp_message(struct tap *t, amqp_envelope_t *env)
{
    struct amqp_state *a = t->priv;
    amqp_basic_properties_t *p = &env->message.properties;
    struct hdrs *hs = xcalloc(1, sizeof *hs);
    struct event tmpl;
    json_t *attrs = json_object();
    const char *direction = "deliver";
    char *channel = NULL;
    uint64_t gen = 0;
    int rc;

    /* properties, as the capture decoder passes them */
    if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
        hdr_add(hs, "message-id", 10, p->message_id.bytes, p->message_id.len);
    if (p->_flags & AMQP_BASIC_CORRELATION_ID_FLAG)
        hdr_add(hs, "correlation-id", 14, p->correlation_id.bytes, p->correlation_id.len);
    if (p->_flags & AMQP_BASIC_TYPE_FLAG)
        hdr_add(hs, "type", 4, p->type.bytes, p->type.len);
    if (p->_flags & AMQP_BASIC_APP_ID_FLAG)
        hdr_add(hs, "app-id", 6, p->app_id.bytes, p->app_id.len);
    if (p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
        hdr_add(hs, "content-type", 12, p->content_type.bytes, p->content_type.len);
    if (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG)
        hdr_num(hs, "timestamp", 9, "%" PRIu64, p->timestamp);
    if (p->_flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
        json_object_set_new(attrs, "delivery_mode", json_integer(p->delivery_mode));
    if (p->_flags & AMQP_BASIC_PRIORITY_FLAG)
        json_object_set_new(attrs, "priority", json_integer(p->priority));
    if (p->_flags & AMQP_BASIC_REPLY_TO_FLAG)
        json_object_set_new(attrs, "reply_to", jbytes(p->reply_to));
    if (p->_flags & AMQP_BASIC_USER_ID_FLAG)
        json_object_set_new(attrs, "user_id", jbytes(p->user_id));
    if (p->_flags & AMQP_BASIC_EXPIRATION_FLAG)
        json_object_set_new(attrs, "expiration", jbytes(p->expiration));
    if (p->_flags & AMQP_BASIC_CONTENT_ENCODING_FLAG)
        json_object_set_new(attrs, "content_encoding", jbytes(p->content_encoding));

    if (a->firehose && env->exchange.len == 18 &&
        memcmp(env->exchange.bytes, "amq.rabbitmq.trace", 18) == 0) {
        /* Firehose: routing key publish.<exchange> or deliver.<queue>; the original
           properties are in the "properties" header, the headers inside it. */
        const char *rk = env->routing_key.bytes;
        size_t rlen = env->routing_key.len;
        const amqp_field_value_t *fv;
        int is_pub = rlen >= 8 && memcmp(rk, "publish.", 8) == 0;
        int is_del = rlen >= 8 && memcmp(rk, "deliver.", 8) == 0;

        if (is_del && rlen - 8 == strlen(a->queue) && memcmp(rk + 8, a->queue, rlen - 8) == 0) {
            rc = ES_OK; /* our own consumption of the trace queue */
            json_decref(attrs);
            free(hs);
            goto ack;
        }
        direction = is_pub ? "publish" : "deliver";
        channel = xstrndup(rk + 8 * (is_pub || is_del), rlen - 8 * (size_t)(is_pub || is_del));
        json_object_set_new(attrs, "trace", json_string(is_pub ? "publish" : "deliver"));
        if (p->_flags & AMQP_BASIC_HEADERS_FLAG) {
            if ((fv = table_get(&p->headers, "properties")) != NULL &&
                fv->kind == AMQP_FIELD_KIND_TABLE)
                table_headers(hs, &fv->value.table, 1, 0);
            if ((fv = table_get(&p->headers, "exchange_name")) != NULL &&
                (fv->kind == AMQP_FIELD_KIND_UTF8 || fv->kind == AMQP_FIELD_KIND_BYTES))
                json_object_set_new(attrs, "exchange", jbytes(fv->value.bytes));
            if ((fv = table_get(&p->headers, "redelivered")) != NULL)
                json_object_set_new(attrs, "redelivered",
                                    json_boolean(fv->kind == AMQP_FIELD_KIND_BOOLEAN
                                                     ? fv->value.boolean
                                                     : fv->value.i32 != 0));
        }
    } else {
        if (p->_flags & AMQP_BASIC_HEADERS_FLAG)
            table_headers(hs, &p->headers, 0, 0);
        channel = env->exchange.len ? xstrndup(env->exchange.bytes, env->exchange.len)
                                    : xstrndup(env->routing_key.bytes, env->routing_key.len);
        json_object_set_new(attrs, "redelivered", json_boolean(env->redelivered));
        json_object_set_new(attrs, "exchange", jbytes(env->exchange));
    }
    json_object_set_new(attrs, "routing_key", jbytes(env->routing_key));
    json_object_set_new(attrs, "delivery_tag", json_integer((json_int_t)env->delivery_tag));

    event_init(&tmpl);
    tmpl.location = xasprintf("%s/%s#%" PRIu64, a->queue, a->ctag ? a->ctag : "",
                              env->delivery_tag);
    event_set_str(&tmpl.transport, "amqp");
    tmpl.channel = channel;
    event_set_str(&tmpl.direction, direction);
    tmpl.observed_us = tap_now_us();
    rc = tap_deliver(t, ENV_BIND_AMQP, hs->h, hs->n, env->message.body.bytes,
                     env->message.body.len, &tmpl, attrs, &gen);
    event_done(&tmpl);
    free(hs);
ack:
    if (rc == ES_OK) {
        a->last_tag = env->delivery_tag;
        a->last_gen = gen;
    }
    return rc;
}

/* Acknowledges (multiple) everything the store has committed. */
static int amqp_ack_committed(struct tap *t)
{
    struct amqp_state *a = t->priv;

    if (a->last_tag > a->acked && tap_flush_seq(t) > a->last_gen) {
        if (amqp_basic_ack(a->conn, 1, a->last_tag, 1) != AMQP_STATUS_OK)
            return ES_EIO;
        a->acked = a->last_tag;
    }
    return ES_OK;
}

static void amqp_run(struct tap *t)
{
    struct amqp_state *a = t->priv;
    int backoff = 0, lost = 0;
    char err[512];

    while (!tap_stopping(t)) {
        amqp_rpc_reply_t r;
        amqp_envelope_t env;
        struct timeval tv = {0, 100000};

        if (lost) {
            if (tap_sleep(t, tap_backoff(t, &backoff)))
                break;
            amqp_disconnect(a);
            if (amqp_connect_all(t, err, sizeof err) != ES_OK) {
                if (backoff >= t->opts->backoff_max_ms)
                    tap_notice(t, "still cannot reconnect: %s", err);
                continue;
            }
            tap_notice(t, "reconnected");
            lost = 0;
            backoff = 0;
        }
        if (amqp_ack_committed(t) != ES_OK) {
            lost = 1;
            tap_notice(t, "connection lost (ack failed); reconnecting");
            continue;
        }
        amqp_maybe_release_buffers(a->conn);
        r = amqp_consume_message(a->conn, &env, &tv, 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            int rc = amqp_message(t, &env);
            amqp_destroy_envelope(&env);
            if (rc == ES_EINTERRUPTED || (rc != ES_OK && tap_stopping(t)))
                break;
            continue;
        }
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
            r.library_error == AMQP_STATUS_TIMEOUT)
            continue;
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
            r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
            amqp_frame_t frame;
            struct timeval ftv = {0, 100000};
            if (amqp_simple_wait_frame_noblock(a->conn, &frame, &ftv) == AMQP_STATUS_OK &&
                frame.frame_type == AMQP_FRAME_METHOD) {
                amqp_method_number_t id = frame.payload.method.id;
                if (id != AMQP_CHANNEL_CLOSE_METHOD && id != AMQP_CONNECTION_CLOSE_METHOD &&
                    id != AMQP_BASIC_CANCEL_METHOD)
                    continue; /* basic.ack / return and the like: not for a consumer */
                if (id == AMQP_CONNECTION_CLOSE_METHOD || id == AMQP_CHANNEL_CLOSE_METHOD) {
                    r.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
                    r.reply = frame.payload.method;
                }
            }
        }
        rpc_error(r, "connection lost", err, sizeof err);
        tap_notice(t, "%s; reconnecting", err);
        lost = 1;
    }
    if (!lost && a->conn != NULL) {
        /* commit what was delivered, then acknowledge it before leaving */
        (void)amqp_ack_committed(t);
    }
}

static void amqp_close(struct tap *t)
{
    struct amqp_state *a = t->priv;
    size_t i;

    if (a == NULL)
        return;
    /* the hub committed after the thread stopped: acknowledge that too */
    if (a->conn != NULL)
        (void)amqp_ack_committed(t);
    amqp_disconnect(a);
    for (i = 0; i < a->nexchanges; i++)
        free(a->exchanges[i]);
    for (i = 0; i < a->nbindings; i++)
        free(a->bindings[i]);
    free(a->vhost);
    free(a->queue);
    free(a);
    t->priv = NULL;
}

const struct tap_ops tap_amqp_ops = {"amqp", "amqps", amqp_open, amqp_run, amqp_close};
