/*
 * The tap hub: URL parsing, the table of schemes, one thread per tap, and the one
 * serialised hand-over of broker messages to the (not thread-safe) sink.
 */
#include "collector/taps/taps.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "core/cursor.h"

#include "collector/taps/tap_replay.h"
#include "core/xmalloc.h"

/* ==== The scheme table ================================================================= */

static const struct tap_ops *const tap_table[] = {
#ifdef ES_HAVE_TAP_MQTT
    &tap_mqtt_ops,
#endif
#ifdef ES_HAVE_TAP_AMQP
    &tap_amqp_ops,
#endif
#ifdef ES_HAVE_TAP_NATS
    &tap_nats_ops,
#endif
#ifdef ES_HAVE_TAP_KAFKA
    &tap_kafka_ops,
#endif
    NULL,
};

static char scheme_list[64];

static void build_scheme_list(void)
{
    size_t i, n = 0;

    for (i = 0; tap_table[i] != NULL; i++)
        n += (size_t)snprintf(scheme_list + n, sizeof scheme_list - n, "%s%s", i ? " " : "",
                              tap_table[i]->scheme);
}

/* Every scheme eventscope knows, built or not: tells "not in this build" from "unknown". */
static const char *const known_schemes[] = {"mqtt", "mqtts", "amqp", "amqps", "nats", "kafka"};

const char *tap_scheme_list(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, build_scheme_list);
    return scheme_list;
}

static const struct tap_ops *find_ops(const char *scheme)
{
    size_t i;

    for (i = 0; tap_table[i] != NULL; i++)
        if (strcmp(tap_table[i]->scheme, scheme) == 0 ||
            (tap_table[i]->tls_alias && strcmp(tap_table[i]->tls_alias, scheme) == 0))
            return tap_table[i];
    return NULL;
}

/* ==== URLs ============================================================================== */

/* Percent-decodes n bytes of s into an owned string; NULL on a bad escape or a NUL. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= n) {
                free(out);
                return NULL;
            }
            hi = cur_hexval((unsigned char)s[i + 1]);
            lo = cur_hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* Resolves a password: "${NAME}" reads the environment variable NAME. */
static int resolve_secret(char **pass, const char *user, char *err, size_t errlen)
{
    const char *v;
    size_t n;

    if (*pass != NULL) {
        n = strlen(*pass);
        if (n >= 3 && (*pass)[0] == '$' && (*pass)[1] == '{' && (*pass)[n - 1] == '}') {
            char *name = xstrndup(*pass + 2, n - 3);
            v = getenv(name);
            if (v == NULL) {
                snprintf(err, errlen, "password refers to ${%s}, which is not set", name);
                free(name);
                return ES_EUSAGE;
            }
            free(name);
            free(*pass);
            *pass = xstrdup(v);
        }
        return ES_OK;
    }
    if (user != NULL && (v = getenv("EVENTSCOPE_TAP_PASSWORD")) != NULL)
        *pass = xstrdup(v);
    return ES_OK;
}

int tap_url_parse(const char *s, struct tap_url *u, char *err, size_t errlen)
{
    const char *p, *auth, *auth_end, *at, *hp, *q, *slash;
    size_t i, n;
    int rc = ES_EUSAGE;

    memset(u, 0, sizeof *u);
    p = strstr(s, "://");
    if (p == NULL || p == s) {
        snprintf(err, errlen, "not a URL (expected scheme://host:port/...)");
        return ES_EUSAGE;
    }
    u->scheme = xstrndup(s, (size_t)(p - s));
    for (i = 0; u->scheme[i]; i++) {
        char c = u->scheme[i];
        if (c >= 'A' && c <= 'Z')
            u->scheme[i] = (char)(c - 'A' + 'a');
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+'))
            goto bad_scheme;
    }
    auth = p + 3;
    auth_end = auth + strcspn(auth, "/?");
    /* userinfo: the last '@' before the path */
    at = NULL;
    for (q = auth; q < auth_end; q++)
        if (*q == '@')
            at = q;
    hp = auth;
    if (at != NULL) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon != NULL) {
            u->user = pct_decode(auth, (size_t)(colon - auth));
            u->pass = pct_decode(colon + 1, (size_t)(at - colon - 1));
            if (u->pass == NULL)
                goto bad_escape;
        } else {
            u->user = pct_decode(auth, (size_t)(at - auth));
        }
        if (u->user == NULL)
            goto bad_escape;
        if (u->user[0] == '\0') {
            free(u->user);
            u->user = NULL;
        }
        hp = at + 1;
    }
    if (hp == auth_end) {
        snprintf(err, errlen, "no host in URL");
        goto fail;
    }
    u->hosts = xstrndup(hp, (size_t)(auth_end - hp));
    /* first host[:port] */
    n = strcspn(u->hosts, ",");
    if (u->hosts[0] == '[') {
        const char *rb = memchr(u->hosts, ']', n);
        if (rb == NULL) {
            snprintf(err, errlen, "unterminated [IPv6] host");
            goto fail;
        }
        u->host = xstrndup(u->hosts + 1, (size_t)(rb - u->hosts - 1));
        q = rb + 1;
    } else {
        const char *colon = memchr(u->hosts, ':', n);
        size_t hl = colon ? (size_t)(colon - u->hosts) : n;
        u->host = xstrndup(u->hosts, hl);
        q = u->hosts + hl;
    }
    if (u->host[0] == '\0') {
        snprintf(err, errlen, "no host in URL");
        goto fail;
    }
    if (*q == ':') {
        char *end;
        long port;
        errno = 0;
        port = strtol(q + 1, &end, 10);
        if (end == q + 1 || (*end != '\0' && *end != ',') || port <= 0 || port > 65535) {
            snprintf(err, errlen, "bad port in URL");
            goto fail;
        }
        u->port = (int)port;
    }
    /* path */
    slash = auth_end;
    if (*slash == '/') {
        const char *pe = slash + 1 + strcspn(slash + 1, "?");
        u->path = pct_decode(slash + 1, (size_t)(pe - slash - 1));
        if (u->path == NULL)
            goto bad_escape;
        q = pe;
    } else {
        u->path = xstrdup("");
        q = slash;
    }
    /* query */
    if (*q == '?') {
        q++;
        while (*q) {
            size_t len = strcspn(q, "&");
            const char *eq = memchr(q, '=', len);
            if (len > 0) {
                if (u->nparams == TAP_URL_MAXPARAMS) {
                    snprintf(err, errlen, "too many URL parameters (at most %d)",
                             TAP_URL_MAXPARAMS);
                    goto fail;
                }
                u->keys[u->nparams] = pct_decode(q, eq ? (size_t)(eq - q) : len);
                u->vals[u->nparams] =
                    eq ? pct_decode(eq + 1, len - (size_t)(eq + 1 - q)) : xstrdup("1");
                if (u->keys[u->nparams] == NULL || u->vals[u->nparams] == NULL) {
                    free(u->keys[u->nparams]);
                    free(u->vals[u->nparams]);
                    u->keys[u->nparams] = u->vals[u->nparams] = NULL;
                    goto bad_escape;
                }
                u->nparams++;
            }
            q += len;
            if (*q == '&')
                q++;
        }
    }
    n = strlen(u->scheme);
    if ((n > 1 && u->scheme[n - 1] == 's' && strcmp(u->scheme, "nats") != 0) ||
        (tap_url_param(u, "tls") && strcmp(tap_url_param(u, "tls"), "0") != 0))
        u->tls = 1;
    rc = resolve_secret(&u->pass, u->user, err, errlen);
    if (rc != ES_OK)
        goto fail;
    return ES_OK;

bad_scheme:
    snprintf(err, errlen, "bad scheme in URL");
    goto fail;
bad_escape:
    snprintf(err, errlen, "bad %%-escape in URL");
fail:
    tap_url_done(u);
    return rc == ES_OK ? ES_EUSAGE : rc;
}

void tap_url_done(struct tap_url *u)
{
    size_t i;

    free(u->scheme);
    free(u->user);
    if (u->pass != NULL)
        memset(u->pass, 0, strlen(u->pass));
    free(u->pass);
    free(u->host);
    free(u->hosts);
    free(u->path);
    for (i = 0; i < u->nparams; i++) {
        free(u->keys[i]);
        free(u->vals[i]);
    }
    memset(u, 0, sizeof *u);
}

const char *tap_url_param(const struct tap_url *u, const char *key)
{
    size_t i;

    for (i = 0; i < u->nparams; i++)
        if (strcmp(u->keys[i], key) == 0)
            return u->vals[i];
    return NULL;
}

char *tap_url_redacted(const char *s)
{
    const char *p = strstr(s, "://"), *auth, *auth_end, *at = NULL, *q, *colon;

    if (p == NULL)
        return xstrdup(s);
    auth = p + 3;
    auth_end = auth + strcspn(auth, "/?");
    for (q = auth; q < auth_end; q++)
        if (*q == '@')
            at = q;
    if (at == NULL)
        return xstrdup(s);
    colon = memchr(auth, ':', (size_t)(at - auth));
    if (colon == NULL)
        return xstrdup(s);
    return xasprintf("%.*s%s", (int)(colon - s), s, at);
}

size_t tap_split(const char *s, char **out, size_t max)
{
    size_t n = 0;

    while (s != NULL && *s && n < max) {
        size_t len = strcspn(s, ",");
        if (len > 0)
            out[n++] = xstrndup(s, len);
        s += len;
        if (*s == ',')
            s++;
    }
    return n;
}

/* ==== The hub =========================================================================== */

struct tap_hub {
    pthread_mutex_t mu;       /* guards sink, delivered, fatal */
    struct sink *sink;
    struct tap_opts opts;
    tap_notice_fn notice;
    void *notice_ctx;
    struct tap **taps;
    size_t ntaps;
    uint64_t limit;           /* --count; 0: none */
    uint64_t delivered;       /* under mu */
    uint64_t flush_started;   /* under mu: commits asked for (hub_flush) */
    uint64_t flush_seq;       /* atomic: the last of them that is done */
    int halt;                 /* atomic: stop every tap */
    int fatal;                /* first store error from a tap, under mu */
    char fatal_msg[256];
    int running;
};

struct tap_hub *tap_hub_new(struct sink *s, const struct tap_opts *opts, tap_notice_fn fn,
                            void *ctx)
{
    struct tap_hub *h = xcalloc(1, sizeof *h);

    pthread_mutex_init(&h->mu, NULL);
    h->sink = s;
    if (opts != NULL)
        h->opts = *opts;
    if (h->opts.stem == NULL)
        h->opts.stem = "eventscope";
    if (h->opts.backoff_max_ms <= 0)
        h->opts.backoff_max_ms = 10000;
    h->notice = fn;
    h->notice_ctx = ctx;
    return h;
}

static void tap_free(struct tap *t)
{
    if (t == NULL)
        return;
    if (t->ops && t->ops->close)
        t->ops->close(t);
    tap_url_done(&t->url);
    free(t->uri);
    free(t->replay_name);
    free(t);
}

void tap_hub_free(struct tap_hub *h)
{
    size_t i;

    if (h == NULL)
        return;
    if (tap_hub_stop(h) != ES_OK)
        h->fatal = h->fatal ? h->fatal : ES_ESTORE; /* the caller saw it from poll/stop */
    for (i = 0; i < h->ntaps; i++)
        tap_free(h->taps[i]);
    free(h->taps);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static int hub_origin(struct tap_hub *h, struct tap *t, const char *kind, char *err,
                      size_t errlen)
{
    int rc;

    pthread_mutex_lock(&h->mu);
    rc = sink_origin(h->sink, kind, t->uri);
    t->origin = h->sink->origin;
    pthread_mutex_unlock(&h->mu);
    if (rc != ES_OK)
        snprintf(err, errlen, "cannot record the origin: %s", store_errmsg(h->sink->st));
    return rc;
}

static void hub_push(struct tap_hub *h, struct tap *t)
{
    /* Spelled as the type: an array of pointers (sizeof *h->taps reads as a sizeof(A*) slip). */
    h->taps = xreallocarray(h->taps, h->ntaps + 1, sizeof(struct tap *));
    h->taps[h->ntaps++] = t;
}

/*
 * --ca/--cert/--key name PEM files: say which one is missing or not PEM here, in one line,
 * rather than leave it to each client library's own wording ("Invalid function arguments").
 */
static int check_pem(const char *opt, const char *path, char *err, size_t errlen)
{
    char buf[4096];
    size_t n;
    FILE *f;

    if (path == NULL)
        return ES_OK;
    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s %s: %s", opt, path, strerror(errno));
        return ES_EUSAGE;
    }
    n = fread(buf, 1, sizeof buf - 1, f);
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read %s %s: %s", opt, path, strerror(errno));
        fclose(f);
        return ES_EUSAGE;
    }
    fclose(f);
    buf[n] = '\0';
    if (memmem(buf, n, "-----BEGIN ", 11) == NULL) {
        snprintf(err, errlen, "%s %s is not a PEM file (no -----BEGIN line)", opt, path);
        return ES_EUSAGE;
    }
    /* an encrypted key would make libmosquitto (OpenSSL's default callback) ask for its
       pass phrase on the terminal: refuse it instead */
    if (memmem(buf, n, "ENCRYPTED", 9) != NULL) {
        snprintf(err, errlen, "%s %s is encrypted; give an unencrypted key "
                 "(openssl pkey -in KEY -out PLAIN)", opt, path);
        return ES_EUSAGE;
    }
    return ES_OK;
}

int tap_hub_add(struct tap_hub *h, const char *url, char *err, size_t errlen)
{
    struct tap *t = xcalloc(1, sizeof *t);
    char why[256];
    size_t i;
    int rc;

    t->hub = h;
    t->opts = &h->opts;
    t->uri = tap_url_redacted(url);
    t->start_us = tap_now_us();
    rc = tap_url_parse(url, &t->url, why, sizeof why);
    if (rc != ES_OK) {
        snprintf(err, errlen, "%s: %s", t->uri, why);
        goto fail;
    }
    if (h->opts.ca || h->opts.cert || h->opts.key)
        t->url.tls = 1;
    if ((rc = check_pem("--ca", h->opts.ca, why, sizeof why)) != ES_OK ||
        (rc = check_pem("--cert", h->opts.cert, why, sizeof why)) != ES_OK ||
        (rc = check_pem("--key", h->opts.key, why, sizeof why)) != ES_OK) {
        snprintf(err, errlen, "%s: %s", t->uri, why);
        goto fail;
    }
    t->ops = find_ops(t->url.scheme);
    if (t->ops == NULL) {
        for (i = 0; i < sizeof known_schemes / sizeof known_schemes[0]; i++)
            if (strcmp(known_schemes[i], t->url.scheme) == 0)
                break;
        if (i < sizeof known_schemes / sizeof known_schemes[0]) {
            snprintf(err, errlen,
                     "%s: %s:// taps are not in this build (its client library was missing); "
                     "this build supports: %s",
                     t->uri, t->url.scheme, *tap_scheme_list() ? tap_scheme_list() : "none");
            rc = ES_EUNSUPPORTED;
        } else {
            snprintf(err, errlen, "%s: unknown scheme %s:// (this build supports: %s)", t->uri,
                     t->url.scheme, *tap_scheme_list() ? tap_scheme_list() : "none");
            rc = ES_EUSAGE;
        }
        goto fail;
    }
    rc = t->ops->open(t, why, sizeof why);
    if (rc != ES_OK) {
        snprintf(err, errlen, "%s: %s", t->uri, why);
        goto fail;
    }
    rc = hub_origin(h, t, "tap", err, errlen);
    if (rc != ES_OK)
        goto fail;
    hub_push(h, t);
    return ES_OK;
fail:
    tap_free(t);
    return rc;
}

int tap_hub_add_replay(struct tap_hub *h, int format, FILE *in, const char *name, char *err,
                       size_t errlen)
{
    struct tap *t = xcalloc(1, sizeof *t);
    int rc;

    t->hub = h;
    t->opts = &h->opts;
    t->ops = &tap_replay_ops;
    t->replay_format = format;
    t->replay_in = in;
    t->replay_name = xstrdup(name);
    t->uri = xasprintf("replay:%s:%s", tap_replay_format_name(format), name);
    t->start_us = tap_now_us();
    rc = hub_origin(h, t, "tap", err, errlen);
    if (rc != ES_OK) {
        tap_free(t);
        return rc;
    }
    hub_push(h, t);
    return ES_OK;
}

void tap_hub_set_limit(struct tap_hub *h, uint64_t count)
{
    /* under the lock deliveries read it with: a client library's thread may deliver already */
    pthread_mutex_lock(&h->mu);
    h->limit = count;
    pthread_mutex_unlock(&h->mu);
}

static void *tap_thread(void *arg)
{
    struct tap *t = arg;

    t->ops->run(t);
    __atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

int tap_hub_start(struct tap_hub *h)
{
    size_t i;

    for (i = 0; i < h->ntaps; i++) {
        struct tap *t = h->taps[i];
        if (pthread_create(&t->thread, NULL, tap_thread, t) != 0) {
            __atomic_store_n(&h->halt, 1, __ATOMIC_SEQ_CST);
            return ES_EIO;
        }
        t->started = 1;
    }
    h->running = 1;
    return ES_OK;
}

/*
 * Commits what the taps handed over, while they go on handing over (not under mu: a commit
 * into a big store takes a while). A message delivered when flush_started was g is in the
 * commit numbered g + 1, asked for after it was queued: it is stored once flush_seq > g.
 */
static int hub_flush(struct tap_hub *h)
{
    uint64_t n;
    int rc;

    pthread_mutex_lock(&h->mu);
    n = ++h->flush_started;
    pthread_mutex_unlock(&h->mu);
    rc = sink_commit(h->sink);
    pthread_mutex_lock(&h->mu);
    if (rc == ES_OK)
        __atomic_store_n(&h->flush_seq, n, __ATOMIC_SEQ_CST);
    else if (h->fatal == ES_OK) {
        h->fatal = rc;
        snprintf(h->fatal_msg, sizeof h->fatal_msg, "cannot commit to the store: %s",
                 store_errmsg(h->sink->st));
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

int tap_hub_poll(struct tap_hub *h, int ms, char *err, size_t errlen)
{
    struct timespec ts;
    size_t i, done = 0;
    int fatal;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !sink_stopping(h->sink))
        ;
    (void)hub_flush(h);
    pthread_mutex_lock(&h->mu);
    fatal = h->fatal;
    if (fatal != ES_OK)
        snprintf(err, errlen, "%s", h->fatal_msg);
    pthread_mutex_unlock(&h->mu);
    if (fatal != ES_OK) {
        __atomic_store_n(&h->halt, 1, __ATOMIC_SEQ_CST);
        return fatal;
    }
    for (i = 0; i < h->ntaps; i++)
        if (__atomic_load_n(&h->taps[i]->done, __ATOMIC_SEQ_CST))
            done++;
    if (done == h->ntaps)
        return ES_EINTERRUPTED;
    if (h->limit && tap_hub_delivered(h) >= h->limit) {
        __atomic_store_n(&h->halt, 1, __ATOMIC_SEQ_CST);
        return ES_EINTERRUPTED;
    }
    return ES_OK;
}

int tap_hub_stop(struct tap_hub *h)
{
    size_t i;

    __atomic_store_n(&h->halt, 1, __ATOMIC_SEQ_CST);
    for (i = 0; i < h->ntaps; i++)
        if (h->taps[i]->started) {
            pthread_join(h->taps[i]->thread, NULL);
            h->taps[i]->started = 0;
        }
    if (!h->running)
        return ES_OK;
    h->running = 0;
    return hub_flush(h);
}

uint64_t tap_hub_delivered(struct tap_hub *h)
{
    uint64_t n;

    pthread_mutex_lock(&h->mu);
    n = h->delivered;
    pthread_mutex_unlock(&h->mu);
    return n;
}

size_t tap_hub_count(const struct tap_hub *h)
{
    return h->ntaps;
}

/* ==== Helpers for the broker files ======================================================= */

int tap_stopping(const struct tap *t)
{
    return __atomic_load_n(&t->hub->halt, __ATOMIC_SEQ_CST) || sink_stopping(t->hub->sink);
}

void tap_notice(struct tap *t, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (t->hub->notice == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    t->hub->notice(t->hub->notice_ctx, t->uri, msg);
}

int tap_sleep(struct tap *t, int ms)
{
    while (ms > 0 && !tap_stopping(t)) {
        int step = ms < 50 ? ms : 50;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return tap_stopping(t);
}

int tap_backoff(struct tap *t, int *cur)
{
    *cur = *cur <= 0 ? 250 : *cur * 2;
    if (*cur > t->opts->backoff_max_ms)
        *cur = t->opts->backoff_max_ms;
    return *cur;
}

uint64_t tap_flush_seq(const struct tap *t)
{
    return __atomic_load_n(&t->hub->flush_seq, __ATOMIC_SEQ_CST);
}

int tap_resolve(struct tap *t, const char *host, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    int rc;

    (void)t;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "unknown host %s (%s)", host, gai_strerror(rc));
        return ES_EIO;
    }
    freeaddrinfo(res);
    return ES_OK;
}

int64_t tap_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ==== Hand-over ========================================================================== */

struct collect {
    struct event *evs;
    size_t n, cap;
};

static int collect_emit(void *ctx, struct event *ev)
{
    struct collect *c = ctx;

    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4;
        c->evs = xreallocarray(c->evs, c->cap, sizeof *c->evs);
    }
    envelope_copy_event(&c->evs[c->n++], ev);
    return ES_OK;
}

static void collect_done(struct collect *c)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        event_done(&c->evs[i]);
    free(c->evs);
}

/* Decodes outside the lock; *why set means a reject. */
static void decode_message(const struct envelope_map *map, enum envelope_binding binding, const struct envelope_header *h,
                           size_t nh, const void *body, size_t len, struct event *tmpl,
                           json_t *attrs, struct collect *c, const char **why)
{
    int rc;

    if (attrs != NULL) {
        char *txt = json_dumps(attrs, JSON_COMPACT | JSON_SORT_KEYS);
        event_set_str(&tmpl->attrs, txt);
        free(txt);
        json_decref(attrs);
    }
    *why = NULL;
    memset(c, 0, sizeof *c);
    rc = envelope_from_message(map, binding, h, nh, body, len, tmpl, collect_emit, c, why);
    if (rc != ES_OK && *why == NULL)
        *why = "envelope_error";
    if (*why == NULL && c->n == 0)
        *why = "no_event";
}

/* Stores c's events (or the reject) into s under origin; caller holds the lock. */
static int store_message(struct sink *s, int64_t origin, struct collect *c, const char *why,
                         const struct event *tmpl, const void *body, size_t len)
{
    size_t i;
    int rc = ES_OK;

    s->origin = origin;
    if (why != NULL)
        return sink_reject(s, tmpl->location ? tmpl->location : "?", why, NULL, body,
                           len > 256 ? 256 : len);
    for (i = 0; i < c->n && rc == ES_OK; i++)
        rc = sink_event_take(s, &c->evs[i]);
    return rc;
}

int tap_deliver_sink(struct sink *s, pthread_mutex_t *mu, int64_t origin,
                     enum envelope_binding binding, const struct envelope_header *h,
                     size_t nh, const void *body, size_t len, struct event *tmpl,
                     json_t *attrs)
{
    struct collect c;
    const char *why;
    int rc;

    decode_message(s->map, binding, h, nh, body, len, tmpl, attrs, &c, &why);
    if (mu)
        pthread_mutex_lock(mu);
    rc = store_message(s, origin, &c, why, tmpl, body, len);
    if (mu)
        pthread_mutex_unlock(mu);
    collect_done(&c);
    return rc;
}

int tap_deliver(struct tap *t, enum envelope_binding binding, const struct envelope_header *h,
                size_t nh, const void *body, size_t len, struct event *tmpl, json_t *attrs,
                uint64_t *gen)
{
    struct tap_hub *hub = t->hub;
    struct collect c;
    const char *why;
    int rc;

    decode_message(hub->sink->map, binding, h, nh, body, len, tmpl, attrs, &c, &why);
    pthread_mutex_lock(&hub->mu);
    if (hub->fatal != ES_OK) {
        rc = hub->fatal;
    } else if (hub->limit && hub->delivered >= hub->limit) {
        rc = ES_EINTERRUPTED;
        __atomic_store_n(&hub->halt, 1, __ATOMIC_SEQ_CST);
    } else {
        rc = store_message(hub->sink, t->origin, &c, why, tmpl, body, len);
        if (rc == ES_OK) {
            hub->delivered++;
            t->delivered++;
            if (gen)
                *gen = hub->flush_started;
        } else {
            hub->fatal = rc;
            snprintf(hub->fatal_msg, sizeof hub->fatal_msg, "cannot store a message from %s: %s",
                     t->uri, store_errmsg(hub->sink->st));
            __atomic_store_n(&hub->halt, 1, __ATOMIC_SEQ_CST);
        }
    }
    pthread_mutex_unlock(&hub->mu);
    collect_done(&c);
    return rc;
}

int tap_reject(struct tap *t, const char *location, const char *reason, const char *detail,
               const void *excerpt, size_t len)
{
    struct tap_hub *hub = t->hub;
    int rc;

    pthread_mutex_lock(&hub->mu);
    hub->sink->origin = t->origin;
    rc = sink_reject(hub->sink, location, reason, detail, excerpt, len > 256 ? 256 : len);
    if (rc != ES_OK && hub->fatal == ES_OK) {
        hub->fatal = rc;
        snprintf(hub->fatal_msg, sizeof hub->fatal_msg, "cannot keep a reject from %s: %s",
                 t->uri, store_errmsg(hub->sink->st));
        __atomic_store_n(&hub->halt, 1, __ATOMIC_SEQ_CST);
    }
    pthread_mutex_unlock(&hub->mu);
    return rc;
}
