/*
 * The protocol decoders over reassembled TCP streams, and the one table that lists them
 * (decoders.c), as tcpdump's printers[] table. A decoder is chosen per connection by the
 * server port (defaults per protocol, more with decoders_port_add) or, failing that, by
 * probing the first bytes. Each decoder file (dec_<proto>.c) defines one const struct
 * decoder.
 *
 * Stream contract: parse() sees the undecoded bytes of one direction starting at a message
 * boundary. It decodes at most one message and says how many bytes it used:
 *   DEC_DONE  the message is *used bytes long (decoded, emitted, or rejected by the decoder)
 *   DEC_MORE  the message is incomplete: call again with more bytes (or with m->eof set)
 *   DEC_BAD   the bytes are not a message: framing is lost (m->why says why); the
 *             reassembler reports it and resynchronises with sync()
 * sync() returns the offset of the first position in p that may start a message (len if
 * none); it is used after a gap and when a capture starts mid-stream.
 */
#ifndef ES_DECODERS_H
#define ES_DECODERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/ascii.h"
#include "core/envelope.h"
#include "core/err.h"

enum dec_status { DEC_DONE, DEC_MORE, DEC_BAD };
enum dec_dir { DEC_TO_SERVER = 0, DEC_TO_CLIENT = 1 };

struct pcapsrc;
struct tcp_dir;

/* One parse() call: where the bytes are and how to report what they hold. */
struct dec_msg {
    struct pcapsrc *ps;     /* the source (emission, counters) */
    struct tcp_dir *td;     /* byte offset -> frame mapping */
    const struct decoder *dec; /* the connection's decoder */
    void *state;            /* the decoder's per-connection state */
    int dir;                /* enum dec_dir */
    int eof;                /* no more bytes will come in this direction */
    const char *client;     /* "ip:port" of the connection's client */
    const char *server;     /* "ip:port" of its server */
    const char *why;        /* DEC_BAD: snake_case reason (static) */
    int rc;                 /* first sink error of decoders_emit/reject (ES_OK if none) */
};

struct decoder {
    const char *name;      /* "http": --port P=name, reject reasons "<name>_..." */
    const char *transport; /* events' transport column */
    const uint16_t *ports; /* default server ports, 0-terminated */
    /* 1: these first bytes (sent in direction dir) are this protocol; 0: not; -1: need more */
    int (*probe)(const uint8_t *p, size_t len, int dir);
    void *(*conn_new)(void);
    void (*conn_free)(void *state);
    int (*parse)(struct dec_msg *m, const uint8_t *p, size_t len, size_t *used);
    size_t (*sync)(const uint8_t *p, size_t len, int dir);
};

/*
 * A message's protocol attributes (kept in the event's attrs): scalars only, borrowed until
 * decoders_emit returns. Setting a key again replaces its value; a string that is not
 * UTF-8 is left out (as jansson's json_stringn refused it).
 */
#define DEC_MAX_ATTRS 16
struct dec_attrs {
    size_t n;
    struct envelope_tattr a[DEC_MAX_ATTRS];
};
void dec_attr_str(struct dec_attrs *a, const char *key, const void *s, size_t len);
void dec_attr_int(struct dec_attrs *a, const char *key, int64_t v);
void dec_attr_bool(struct dec_attrs *a, const char *key, int v);

/* What one decoded message becomes. */
struct dec_out {
    enum envelope_binding binding;
    const char *direction;      /* "publish" | "deliver" */
    const char *channel;        /* NUL-terminated, may be NULL */
    size_t channel_len;         /* 0: strlen(channel) */
    const char *partition_key;  /* may be NULL; pk_len bytes */
    size_t pk_len;
    const struct dec_attrs *attrs; /* may be NULL: protocol flags (qos, partition...);
                                      decoders_emit adds "src" and "dst" */
    const struct envelope_header *h;
    size_t nh;
    const uint8_t *body;
    size_t body_len;
    uint64_t first_frame;       /* 0: frames of bytes [0, msg_len) of the current parse() */
    size_t msg_len;
};

/* The registry. */
const struct decoder *decoders_by_name(const char *name);
/* Decoder for a connection to server port, or NULL (user ports first, then defaults). */
const struct decoder *decoders_by_port(uint16_t port);
/* Probes every decoder; returns the match, NULL when none, or sets *more when undecided. */
const struct decoder *decoders_probe(const uint8_t *p, size_t len, int dir, int *more);
/* "9093=kafka" (process-wide). Returns ES_OK or ES_EUSAGE with a sentence in err. */
int decoders_port_add(const char *spec, char *err, size_t errlen) ES_WARN_UNUSED;
/* Names of all decoders, comma separated (help texts). */
const char *decoders_names(void);

/*
 * Header fields one message may carry (HTTP CloudEvents/content/trace fields, Kafka record
 * headers, AMQP headers table entries, MQTT 5 properties handed to the envelope). A
 * message with more is rejected as <protocol>_too_many_headers, never cut silently.
 * Process-wide, set by --max-headers: DECODERS_HEADERS_DEFAULT, at most
 * DECODERS_HEADERS_LIMIT (the decoders' arrays are that big).
 */
#define DECODERS_HEADERS_DEFAULT 128
#define DECODERS_HEADERS_LIMIT 1024
extern size_t decoders_max_headers;
/* "N" for --max-headers. Returns ES_OK or ES_EUSAGE with a sentence in err. */
int decoders_max_headers_set(const char *v, char *err, size_t errlen) ES_WARN_UNUSED;
/* Rejects the current message (msg_len bytes) for having more than the limit (n seen). */
void decoders_reject_headers(struct dec_msg *m, size_t msg_len, const char *reason, size_t n);

/*
 * Emits the message o describes through the envelope normaliser and the sink, with
 * location, observed time (capture time of its last frame), transport and the
 * connection's endpoints in attrs. A sink error is kept in m->rc (the reassembler stops).
 */
void decoders_emit(struct dec_msg *m, const struct dec_out *o);
/* Reports a message that could not be read: bytes [0, msg_len) of the current parse(). */
void decoders_reject(struct dec_msg *m, size_t msg_len, const char *reason, const char *detail,
                     const uint8_t *excerpt, size_t excerpt_len);
/* First frame number holding byte off of the current buffer (to remember message starts). */
uint64_t decoders_frame_at(struct dec_msg *m, size_t off);

/* Case-insensitive compare of a (ptr, len) token with a NUL-terminated lowercase word. */
static inline int decoders_token_eq(const uint8_t *p, size_t len, const char *word)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (word[i] == '\0' || ascii_lower(p[i]) != (unsigned char)word[i])
            return 0;
    return word[len] == '\0';
}

#endif
