/*
 * Broker taps: eventscope subscribes to a broker as an ordinary client and stores every
 * message the broker delivers as one observation (direction "deliver"). One tap per URL,
 * each in its own thread; all taps of a process share one sink, which is not thread-safe:
 * the hub serialises every hand-over with one mutex and flushes (commits) in small
 * batches so the store stays queryable while tapping.
 *
 * Schemes (each only when its client library was found at build time, see
 * tap_scheme_list()): mqtt(s)://, amqp(s)://, nats://, kafka://. docs/TAPS.md describes the
 * URLs, credentials, TLS and the attrs each tap records.
 *
 * Library code: nothing here prints. Progress and reconnect notices go to the hub's
 * notice callback (the CLI prints them on stderr).
 */
#ifndef ES_TAPS_H
#define ES_TAPS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "collector/sink.h"
#include "core/envelope.h"
#include "core/err.h"
#include "core/event.h"

/* ---- Public API (cli/cmd_tap.c) ------------------------------------------------------- */

struct tap_opts {
    const char *ca;    /* --ca: CA bundle (PEM), turns TLS on; may be NULL */
    const char *cert;  /* --cert: client certificate (PEM); may be NULL */
    const char *key;   /* --key: client key (PEM); may be NULL */
    const char *stem;  /* names the tap's own broker state (Kafka group, AMQP queue, MQTT
                          client id) so a restarted tap on the same store resumes; the CLI
                          derives it from the store path. NULL: "eventscope" */
    int backoff_max_ms; /* reconnect backoff cap; 0: 10000 */
};

/* A notice from a tap thread (connection lost, reconnected...). uri has no password. */
typedef void (*tap_notice_fn)(void *ctx, const char *uri, const char *msg);

struct tap_hub;

/* A hub over s (borrowed; must outlive the hub). opts is copied (strings borrowed). */
struct tap_hub *tap_hub_new(struct sink *s, const struct tap_opts *opts, tap_notice_fn fn,
                            void *ctx);
/* Stops every tap (if running), then frees. Accepts NULL. */
void tap_hub_free(struct tap_hub *h);

/*
 * Parses url, connects and subscribes (synchronously, so a bad URL, an unknown host, a
 * refused connection or refused credentials are reported here), and registers the tap's
 * origin. Returns ES_OK, ES_EUSAGE (bad URL), ES_EUNSUPPORTED (scheme not in this build),
 * ES_EIO (cannot connect / refused) or ES_ESTORE; err then holds one line.
 */
int tap_hub_add(struct tap_hub *h, const char *url, char *err, size_t errlen) ES_WARN_UNUSED;

/* Adds a replay of a CLI tool's output read from in (borrowed) named name (tap_replay.h). */
int tap_hub_add_replay(struct tap_hub *h, int format, FILE *in, const char *name, char *err,
                       size_t errlen) ES_WARN_UNUSED;

/* Stop after this many delivered messages in total (0: no limit). Before start. */
void tap_hub_set_limit(struct tap_hub *h, uint64_t count);

/* Starts one thread per tap. */
int tap_hub_start(struct tap_hub *h) ES_WARN_UNUSED;

/*
 * Waits up to ms, then commits what the taps handed over. Returns ES_OK while taps run,
 * ES_EINTERRUPTED once every tap has finished (count reached, replay at EOF), or the
 * error that stopped a tap (store failure) with its message in err.
 */
int tap_hub_poll(struct tap_hub *h, int ms, char *err, size_t errlen) ES_WARN_UNUSED;

/* Stops and joins every tap thread, then commits. Safe to call twice. */
int tap_hub_stop(struct tap_hub *h) ES_WARN_UNUSED;

/* Messages delivered so far (all taps), and number of taps. */
uint64_t tap_hub_delivered(struct tap_hub *h);
size_t tap_hub_count(const struct tap_hub *h);

/* The schemes this build supports, e.g. "mqtt amqp nats kafka" (static string). */
const char *tap_scheme_list(void);

/* ---- Internal API: collector/taps/tap_<broker>.c -------------------------------------- */

/* A parsed tap URL. Every string is owned, NUL-terminated and percent-decoded. */
#define TAP_URL_MAXPARAMS 16
struct tap_url {
    char *scheme;        /* "mqtt", "amqps", ... lower case */
    char *user;          /* NULL when absent */
    char *pass;          /* resolved (${ENV} / EVENTSCOPE_TAP_PASSWORD); NULL when absent */
    char *host;          /* first host (hostname or IPv4/IPv6 literal without brackets) */
    char *hosts;         /* the raw host[:port][,host:port...] list (Kafka bootstrap) */
    int port;            /* 0 when absent */
    char *path;          /* after the first '/', before '?': "orders/#", "vhost"; "" */
    size_t nparams;
    char *keys[TAP_URL_MAXPARAMS];
    char *vals[TAP_URL_MAXPARAMS];
    int tls;             /* scheme ends in 's', ?tls=1, or --ca/--cert/--key given */
};

/* Parses s. Returns ES_OK or ES_EUSAGE with the reason in err. */
int tap_url_parse(const char *s, struct tap_url *u, char *err, size_t errlen) ES_WARN_UNUSED;
void tap_url_done(struct tap_url *u);
/* Value of the first ?key=..., or NULL. Borrowed. */
const char *tap_url_param(const struct tap_url *u, const char *key);
/* The URL without its password ("amqp://guest@host:5672/..."), owned. */
char *tap_url_redacted(const char *s);
/* Splits a comma-separated list into at most max owned strings; returns how many. */
size_t tap_split(const char *s, char **out, size_t max);

struct tap;

struct tap_ops {
    const char *scheme;    /* "mqtt" */
    const char *tls_alias; /* "mqtts", or NULL */
    /* Checks the URL, connects, subscribes. ES_OK, or a code with one line in err. */
    int (*open)(struct tap *t, char *err, size_t errlen);
    /* Thread body: delivers until tap_stopping(t); reconnects on broker loss. */
    void (*run)(struct tap *t);
    /* Disconnects and frees t->priv. */
    void (*close)(struct tap *t);
};

struct tap {
    const struct tap_ops *ops;
    struct tap_hub *hub;
    struct tap_url url;
    char *uri;            /* URL without password: the origin uri and the notice prefix */
    const struct tap_opts *opts; /* the hub's */
    int64_t origin;       /* origins row */
    int64_t start_us;     /* when the tap started (UTC µs): makes MQTT/NATS locations unique */
    uint64_t seq;         /* per-tap message counter (atomic) */
    uint64_t delivered;   /* messages handed over (under the hub lock) */
    volatile int done;    /* the thread has returned */
    pthread_t thread;
    int started;
    void *priv;           /* broker state */
    /* replay taps */
    int replay_format;
    FILE *replay_in;
    char *replay_name;
};

/* 1 once the tap should return from run() (Ctrl-C, --count, --duration, fatal error). */
int tap_stopping(const struct tap *t);
/* Sends a notice (printf-style). */
void tap_notice(struct tap *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sleeps ms, waking early when the tap should stop. Returns tap_stopping(t). */
int tap_sleep(struct tap *t, int ms);
/* Next reconnect delay: 250 ms doubling up to the cap; *cur is the state (start at 0). */
int tap_backoff(struct tap *t, int *cur);
/* The number of the hub's last finished commit. tap_deliver's *gen is g: the message is
   stored once this is > g (AMQP acks and Kafka offsets wait for that). */
uint64_t tap_flush_seq(const struct tap *t);
/* Resolves the host of t->url; ES_OK or ES_EIO with "unknown host X" in err. */
int tap_resolve(struct tap *t, const char *host, char *err, size_t errlen) ES_WARN_UNUSED;
/* UTC µs now. */
int64_t tap_now_us(void);

/*
 * Hands one broker message to the store: decodes it with envelope_from_message (binding,
 * headers, body), each emitted event starting from tmpl (location, transport, channel,
 * direction, observed_us set by the caller; tmpl->attrs is replaced by attrs, which is
 * consumed and may be NULL). A message the envelope cannot read becomes a reject at
 * tmpl->location. Returns ES_OK (also for a reject), ES_EINTERRUPTED when the --count
 * limit was already reached (message not stored: do not acknowledge it), or a store error
 * (the hub then stops every tap). *gen (may be NULL) receives the number of commits asked
 * for at hand-over (see tap_flush_seq).
 */
int tap_deliver(struct tap *t, enum envelope_binding binding, const struct envelope_header *h,
                size_t nh, const void *body, size_t len, struct event *tmpl, json_t *attrs,
                uint64_t *gen) ES_WARN_UNUSED;

/* Keeps a record the tap could not read as a message (reason snake_case). */
int tap_reject(struct tap *t, const char *location, const char *reason, const char *detail,
               const void *excerpt, size_t len) ES_WARN_UNUSED;

/*
 * The same without a hub, for tap_replay_stream(): straight into s (mu may be NULL) with
 * origin. Counts go to s->counts.
 */
int tap_deliver_sink(struct sink *s, pthread_mutex_t *mu, int64_t origin,
                     enum envelope_binding binding, const struct envelope_header *h,
                     size_t nh, const void *body, size_t len, struct event *tmpl,
                     json_t *attrs) ES_WARN_UNUSED;

extern const struct tap_ops tap_mqtt_ops;
extern const struct tap_ops tap_amqp_ops;
extern const struct tap_ops tap_nats_ops;
extern const struct tap_ops tap_kafka_ops;
extern const struct tap_ops tap_replay_ops;

#endif
