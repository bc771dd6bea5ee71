/*
 * NATS tap (libnats / cnats): nats://[user:pass@]host:port/subject[,subject...] with the
 * wildcards * and >; ?tls=1 (or --ca/--cert/--key) for TLS; ?token=T for token auth.
 * Headers (NATS 2.2+) carry CloudEvents attributes (NATS binding 1.0.1). Core NATS keeps
 * nothing for absent subscribers: the client reconnects by itself (forever, 250 ms apart)
 * and messages published while no subscription exists are gone (use JetStream for that).
 *
 * Location: "<subject>#<n>@<tap start µs>". attrs: reply (the reply subject).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "collector/taps/taps.h"
#include "core/xmalloc.h"

#define NATS_MAX_SUBJECTS 64
#define NATS_MAX_HEADERS 128

struct nats_state {
    natsConnection *nc;
    natsOptions *opts;
    natsSubscription *subs[NATS_MAX_SUBJECTS];
    size_t nsubs;
    int64_t dropped; /* slow-consumer drops reported so far */
    /*
     * libnats calls back on its own threads, also after Unsubscribe and Close have returned:
     * the tap must outlive those calls. A subscription's on-complete callback comes after its
     * last on_msg; the connection's closed callback after its last disconnected/error one.
     */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t completed; /* subscriptions whose deliveries are over */
    size_t closed;    /* 1 once the closed callback ran */
    int reconnected;  /* atomic: set by on_reconnected, taken by nats_run */
};

static pthread_mutex_t nats_lib_mu = PTHREAD_MUTEX_INITIALIZER;
static int nats_lib_users;

static void nats_lib_unref(void)
{
    pthread_mutex_lock(&nats_lib_mu);
    if (--nats_lib_users == 0)
        nats_CloseAndWait(2000);
    pthread_mutex_unlock(&nats_lib_mu);
}

/* Counts one callback of a kind (ns->completed, ns->closed). */
static void nats_signal(struct nats_state *ns, size_t *count)
{
    pthread_mutex_lock(&ns->mu);
    (*count)++;
    pthread_cond_broadcast(&ns->cv);
    pthread_mutex_unlock(&ns->mu);
}

/* Waits up to ms for *count to reach want; false on timeout. */
static int nats_wait(struct nats_state *ns, const size_t *count, size_t want, int ms)
{
    struct timespec until;
    int ok;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ns->mu);
    while (!(ok = *count >= want))
        if (pthread_cond_timedwait(&ns->cv, &ns->mu, &until) != 0) {
            ok = *count >= want;
            break;
        }
    pthread_mutex_unlock(&ns->mu);
    return ok;
}

static void on_sub_complete(void *closure)
{
    struct nats_state *ns = ((struct tap *)closure)->priv;

    nats_signal(ns, &ns->completed);
}

static void on_closed(natsConnection *nc, void *closure)
{
    struct nats_state *ns = ((struct tap *)closure)->priv;

    (void)nc;
    nats_signal(ns, &ns->closed);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    struct tap *t = closure;

    (void)nc;
    if (!tap_stopping(t))
        tap_notice(t, "connection lost; reconnecting");
}

/* nats_run says so once the server has the subscriptions again. */
static void on_reconnected(natsConnection *nc, void *closure)
{
    struct nats_state *ns = ((struct tap *)closure)->priv;

    (void)nc;
    __atomic_store_n(&ns->reconnected, 1, __ATOMIC_SEQ_CST);
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    (void)nc, (void)sub;
    tap_notice(closure, "%s", natsStatus_GetText(err));
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    struct tap *t = closure;
    struct envelope_header h[NATS_MAX_HEADERS];
    const char **keys = NULL;
    int nkeys = 0, i, j;
    size_t nh = 0;
    struct event tmpl;
    json_t *attrs = json_object();
    const char *reply = natsMsg_GetReply(msg), *subj = natsMsg_GetSubject(msg);
    const char *data = natsMsg_GetData(msg);
    uint64_t n;

    (void)nc, (void)sub;
    if (natsMsgHeader_Keys(msg, &keys, &nkeys) == NATS_OK) {
        for (i = 0; i < nkeys && nh < NATS_MAX_HEADERS; i++) {
            const char **vals = NULL;
            int nvals = 0;
            if (natsMsgHeader_Values(msg, keys[i], &vals, &nvals) != NATS_OK)
                continue;
            for (j = 0; j < nvals && nh < NATS_MAX_HEADERS; j++) {
                h[nh].name = keys[i];
                h[nh].name_len = strlen(keys[i]);
                h[nh].value = vals[j];
                h[nh].value_len = strlen(vals[j]);
                nh++;
            }
            free((void *)vals);
        }
    }
    if (reply != NULL && *reply)
        json_object_set_new(attrs, "reply", json_string(reply));
    n = __atomic_add_fetch(&t->seq, 1, __ATOMIC_SEQ_CST);
    event_init(&tmpl);
    tmpl.location = xasprintf("%s#%llu@%lld", subj, (unsigned long long)n, (long long)t->start_us);
    event_set_str(&tmpl.transport, "nats");
    event_set_str(&tmpl.channel, subj);
    event_set_str(&tmpl.direction, "deliver");
    tmpl.observed_us = tap_now_us();
    if (tap_deliver(t, ENV_BIND_NATS, h, nh, data ? data : "",
                    data ? (size_t)natsMsg_GetDataLength(msg) : 0, &tmpl, attrs, NULL) != ES_OK) {
        /* Not stored: the hub records a store error and stops; nothing to undo here. */
    }
    event_done(&tmpl);
    free((void *)keys);
    natsMsg_Destroy(msg);
}

static int nats_fail(char *err, size_t errlen, const char *what, natsStatus s)
{
    const char *last = nats_GetLastError(NULL);

    /* "(conn.c:2088): No server available" -> "No server available" */
    if (last != NULL && last[0] == '(' && strstr(last, "): ") != NULL)
        last = strstr(last, "): ") + 3;
    snprintf(err, errlen, "%s: %s", what, last && *last ? last : natsStatus_GetText(s));
    return s == NATS_INVALID_ARG || s == NATS_INVALID_SUBJECT ? ES_EUSAGE : ES_EIO;
}

/*
 * What to do about a failed connection, when TLS is involved. A server with TLS required
 * makes libnats upgrade even a plain nats:// URL (verifying against the system store); one
 * that wants a client certificate closes the connection when it gets none, which libnats
 * reports as a missing PONG.
 */
static const char *tls_hint(const struct tap *t, const char *msg, natsStatus s)
{
    int ssl = strstr(msg, "SSL") != NULL || strstr(msg, "TLS") != NULL ||
              s == NATS_SSL_ERROR || s == NATS_SECURE_CONNECTION_REQUIRED;

    if (!t->url.tls && ssl)
        return " (the server requires TLS: give --ca, and --cert/--key if it checks clients)";
    if (t->url.tls && strstr(msg, "verif") != NULL)
        return " (is --ca the CA that signed the server's certificate?)";
    if (t->url.tls && strstr(msg, "local issuer") != NULL)
        return " (is --ca the CA that signed the server's certificate?)";
    /* the server hung up right after the handshake: it did not like the client's side */
    if (t->url.tls && !ssl && (strstr(msg, "PONG") != NULL || s == NATS_CONNECTION_CLOSED))
        return t->opts->cert == NULL
                   ? " (does the server want a client certificate? give --cert and --key)"
                   : " (does the server accept this client certificate?)";
    return "";
}

static int nats_open(struct tap *t, char *err, size_t errlen)
{
    struct nats_state *ns = xcalloc(1, sizeof *ns);
    char *subjects[NATS_MAX_SUBJECTS], *url;
    size_t n, i;
    natsStatus s;
    int port = t->url.port ? t->url.port : 4222, rc = ES_OK;
    const char *tok = tap_url_param(&t->url, "token");

    t->priv = ns;
    pthread_mutex_init(&ns->mu, NULL);
    pthread_cond_init(&ns->cv, NULL);
    pthread_mutex_lock(&nats_lib_mu);
    nats_lib_users++;
    pthread_mutex_unlock(&nats_lib_mu);
    n = tap_split(t->url.path, subjects, NATS_MAX_SUBJECTS);
    if (n == 0) {
        snprintf(err, errlen, "no subject in URL (nats://host:port/subject[,subject...])");
        return ES_EUSAGE;
    }
    rc = tap_resolve(t, t->url.host, err, errlen);
    if (rc != ES_OK)
        goto out;
    url = strchr(t->url.host, ':') ? xasprintf("nats://[%s]:%d", t->url.host, port)
                                    : xasprintf("nats://%s:%d", t->url.host, port);
    if ((s = natsOptions_Create(&ns->opts)) != NATS_OK ||
        (s = natsOptions_SetURL(ns->opts, url)) != NATS_OK ||
        (s = natsOptions_SetName(ns->opts, t->opts->stem)) != NATS_OK ||
        (s = natsOptions_SetTimeout(ns->opts, 5000)) != NATS_OK ||
        (s = natsOptions_SetAllowReconnect(ns->opts, true)) != NATS_OK ||
        (s = natsOptions_SetMaxReconnect(ns->opts, -1)) != NATS_OK ||
        (s = natsOptions_SetReconnectWait(ns->opts, 250)) != NATS_OK ||
        (s = natsOptions_SetMaxPendingMsgs(ns->opts, 1000000)) != NATS_OK ||
        (s = natsOptions_SetDisconnectedCB(ns->opts, on_disconnected, t)) != NATS_OK ||
        (s = natsOptions_SetReconnectedCB(ns->opts, on_reconnected, t)) != NATS_OK ||
        (s = natsOptions_SetClosedCB(ns->opts, on_closed, t)) != NATS_OK ||
        (s = natsOptions_SetErrorHandler(ns->opts, on_error, t)) != NATS_OK) {
        free(url);
        rc = nats_fail(err, errlen, "cannot set NATS options", s);
        goto out;
    }
    free(url);
    if (t->url.user != NULL &&
        (s = natsOptions_SetUserInfo(ns->opts, t->url.user, t->url.pass ? t->url.pass : "")) !=
            NATS_OK) {
        rc = nats_fail(err, errlen, "bad user name or password", s);
        goto out;
    }
    if (tok != NULL && (s = natsOptions_SetToken(ns->opts, tok)) != NATS_OK) {
        rc = nats_fail(err, errlen, "bad token", s);
        goto out;
    }
    if (t->url.tls) {
        if ((s = natsOptions_SetSecure(ns->opts, true)) != NATS_OK ||
            (t->opts->ca && (s = natsOptions_LoadCATrustedCertificates(ns->opts, t->opts->ca)) !=
                                NATS_OK) ||
            (t->opts->cert && (s = natsOptions_LoadCertificatesChain(ns->opts, t->opts->cert,
                                                                     t->opts->key)) != NATS_OK)) {
            rc = nats_fail(err, errlen, "TLS setup failed", s);
            goto out;
        }
    }
    s = natsConnection_Connect(&ns->nc, ns->opts);
    if (s != NATS_OK) {
        char what[300];
        size_t len;
        snprintf(what, sizeof what, "cannot connect to %s:%d", t->url.host, port);
        rc = nats_fail(err, errlen, what, s);
        len = strlen(err);
        if (len < errlen)
            snprintf(err + len, errlen - len, "%s", tls_hint(t, err, s));
        goto out;
    }
    for (i = 0; i < n; i++) {
        s = natsConnection_Subscribe(&ns->subs[ns->nsubs], ns->nc, subjects[i], on_msg, t);
        if (s != NATS_OK) {
            char what[300];
            snprintf(what, sizeof what, "cannot subscribe to %s", subjects[i]);
            rc = nats_fail(err, errlen, what, s);
            goto out;
        }
        ns->nsubs++;
        natsSubscription_SetPendingLimits(ns->subs[ns->nsubs - 1], 1000000, 1024 * 1024 * 1024);
        s = natsSubscription_SetOnCompleteCB(ns->subs[ns->nsubs - 1], on_sub_complete, t);
        if (s != NATS_OK) {
            rc = nats_fail(err, errlen, "cannot watch the subscription", s);
            goto out;
        }
    }
    /* the server has the subscriptions once a PING round trip is done */
    s = natsConnection_FlushTimeout(ns->nc, 5000);
    if (s != NATS_OK)
        rc = nats_fail(err, errlen, "subscription not confirmed", s);
out:
    for (i = 0; i < n; i++)
        free(subjects[i]);
    return rc;
}

static void nats_run(struct tap *t)
{
    struct nats_state *ns = t->priv;
    size_t i;

    /* delivery happens on the library's threads (on_msg); watch for slow-consumer drops */
    while (!tap_sleep(t, 200)) {
        int64_t dropped = 0, d;
        /*
         * libnats sent the subscriptions again before the reconnected callback; a PING
         * round trip after them means the server has them: from then on nothing published
         * is missed, and "reconnected" says so.
         */
        if (__atomic_exchange_n(&ns->reconnected, 0, __ATOMIC_SEQ_CST)) {
            if (natsConnection_FlushTimeout(ns->nc, 5000) == NATS_OK)
                tap_notice(t, "reconnected");
            else
                __atomic_store_n(&ns->reconnected, 1, __ATOMIC_SEQ_CST); /* try again */
        }
        for (i = 0; i < ns->nsubs; i++)
            if (natsSubscription_GetDropped(ns->subs[i], &d) == NATS_OK)
                dropped += d;
        if (dropped > ns->dropped) {
            tap_notice(t, "%lld messages dropped (slow consumer)",
                       (long long)(dropped - ns->dropped));
            ns->dropped = dropped;
        }
    }
    /* stop deliveries before the hub goes away, and let a callback already running end */
    for (i = 0; i < ns->nsubs; i++)
        natsSubscription_Unsubscribe(ns->subs[i]);
    if (!nats_wait(ns, &ns->completed, ns->nsubs, 10000))
        tap_notice(t, "message deliveries did not end within 10 s");
}

static void nats_close(struct tap *t)
{
    struct nats_state *ns = t->priv;
    size_t i;

    if (ns == NULL)
        return;
    for (i = 0; i < ns->nsubs; i++) {
        natsSubscription_Unsubscribe(ns->subs[i]);
        natsSubscription_Destroy(ns->subs[i]);
    }
    if (ns->nc != NULL) {
        natsConnection_Close(ns->nc);
        /* the closed callback is the connection's last: after it, nothing refers to t */
        if (!nats_wait(ns, &ns->closed, 1, 10000))
            tap_notice(t, "the NATS connection did not close within 10 s");
        natsConnection_Destroy(ns->nc);
    }
    natsOptions_Destroy(ns->opts);
    pthread_cond_destroy(&ns->cv);
    pthread_mutex_destroy(&ns->mu);
    free(ns);
    t->priv = NULL;
    nats_lib_unref();
}

const struct tap_ops tap_nats_ops = {"nats", NULL, nats_open, nats_run, nats_close};
