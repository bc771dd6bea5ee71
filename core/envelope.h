/*
 * The envelope normaliser: turns a decoded record (a JSON object, or protocol headers
 * plus a body) into a struct event, recognising every attribute spelling of DESIGN.md
 * ("The event model"), case-insensitively, also nested under metadata/meta/headers, plus
 * the paths a user's field map adds. Everything not mapped is kept in ev->attrs, the
 * payload in ev->data. This is the one place that knows the CloudEvents bindings; the
 * pcap decoders and the broker taps both call it.
 */
#ifndef ES_ENVELOPE_H
#define ES_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "event.h"
#include "jdoc.h"

enum envelope_attr {
    ENV_ID,
    ENV_TYPE,
    ENV_SOURCE,
    ENV_TIME,
    ENV_CORRELATION,
    ENV_CAUSATION,
    ENV_SUBJECT,
    ENV_PARTITION_KEY,
    ENV_SEQUENCE,
    ENV_VCLOCK,
    ENV_DATA,
    ENV_VERSION,
    ENV_NATTRS
};

/* A user field map: extra JSON paths ("a.b.c") per attribute, tried before the defaults. */
struct envelope_map;

/*
 * Loads a map file: a JSON object {"correlation": ["ctx.corr", "x-corr"], ...}; attribute
 * names are those of DESIGN.md (id, type, source, time, correlation, causation, subject,
 * partition_key, sequence, vclock, data, version). Returns ES_OK and *out (free with
 * envelope_map_free), or an error with a message in err naming the file and the problem.
 */
int envelope_map_load(const char *path, struct envelope_map **out, char *err,
                      size_t errlen) ES_WARN_UNUSED;
void envelope_map_free(struct envelope_map *m);

/*
 * Fills ev from a JSON object (not consumed). Fields already set in ev (location,
 * transport, channel, direction, observed_us) are kept unless the object overrides
 * source; attrs receives every unmapped member. Returns ES_OK, or ES_EINVALID with a
 * reason in *why (static string, snake_case) when obj is not an object.
 * map may be NULL.
 *
 * Details (docs/internals/ENVELOPE.md): the best spelling per attribute wins (map path,
 * then top level, then metadata, meta, headers; then DESIGN.md's order; then member
 * order). Values that are objects, arrays, booleans, null or "" never match a string
 * attribute and stay in attrs; numbers become their decimal text. time: text is kept in
 * time_raw as written and parsed (time_us = ES_TIME_NONE when unparseable: the analyzer
 * re-parses time_raw with timeparse_text to tell invalid / no-zone); numbers are epochs.
 * vclock: canonical JSON (an invalid clock stays in attrs). data: compact JSON text; a
 * string holding a JSON object/array is parsed, data_base64 is kept as a JSON string.
 * traceparent/tracestate found at any level end up at the top of attrs. attrs is NULL
 * when nothing is left over; attrs already in ev are kept (the record wins on a clash).
 */
int envelope_from_json(const struct envelope_map *map, json_t *obj, struct event *ev,
                       const char **why) ES_WARN_UNUSED;

/*
 * The same for object obj of a parsed document (core/jdoc.h): the collectors' fast path,
 * with no jansson value built. The document must stay alive during the call only.
 */
int envelope_from_doc(const struct envelope_map *map, const struct jdoc *d, uint32_t obj,
                      struct event *ev, const char **why) ES_WARN_UNUSED;

/* How protocol headers carry CloudEvents attributes (CloudEvents protocol bindings). */
enum envelope_binding {
    ENV_BIND_HTTP,  /* ce-xxx headers, values percent-encoded */
    ENV_BIND_KAFKA, /* ce_xxx record headers */
    ENV_BIND_AMQP,  /* cloudEvents:xxx / cloudEvents_xxx application properties, plus the
                       AMQP 0-9-1 properties passed as headers "message-id",
                       "correlation-id", "type", "timestamp", "app-id", "content-type" */
    ENV_BIND_MQTT,  /* MQTT 5 user properties, names with or without "ce-"/"ce_"; the
                       "content-type" and "correlation-data" properties */
    ENV_BIND_NATS   /* NATS headers, ce- prefixed (or plain names) */
};

struct envelope_header {
    const char *name; /* not NUL-terminated: name_len bytes */
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* Called once per event found; the callee may keep nothing of ev (it is reset after). */
typedef int (*envelope_emit_fn)(void *ctx, struct event *ev);

/*
 * Decodes one protocol message: headers + body (header names case-insensitive; values
 * are bytes: invalid UTF-8 becomes U+FFFD). Structured mode
 * (content type application/cloudevents+json), batched mode
 * (application/cloudevents-batch+json: one emit per element), binary mode (attributes in
 * headers, body = data) and plain JSON bodies (normalised like a log record) are all
 * handled. tmpl supplies location, transport, channel, direction, observed_us and attrs
 * to start from (not modified); emitted events start as a copy of it.
 * Returns the first non-ES_OK code of emit, else ES_OK; a malformed message is still
 * emitted with what could be read and the reason in *why (NULL when fine).
 * Non-CloudEvents headers are kept in attrs as "headers": {name: value} (traceparent and
 * tracestate also at the top of attrs); plain headers naming an attribute (AMQP message-id,
 * correlation-id, ...) fill what the record lacks. Binary bodies that are not UTF-8 are
 * stored as the base64 text in a JSON string with attrs "dataencoding": "base64". Batch
 * elements get location tmpl->location + "#<index>".
 */
int envelope_from_message(const struct envelope_map *map, enum envelope_binding binding,
                          const struct envelope_header *h, size_t nh, const uint8_t *body,
                          size_t len, const struct event *tmpl, envelope_emit_fn emit,
                          void *ctx, const char **why) ES_WARN_UNUSED;

/* A transport attribute (protocol flags, endpoints) for attrs, handed over as a value. */
enum envelope_tattr_type { ENV_TATTR_STR, ENV_TATTR_INT, ENV_TATTR_BOOL };
struct envelope_tattr {
    const char *key; /* NUL-terminated */
    int type;        /* enum envelope_tattr_type */
    const char *s;   /* ENV_TATTR_STR: len bytes */
    size_t len;
    int64_t i;       /* ENV_TATTR_INT, ENV_TATTR_BOOL */
};

/*
 * The same with buffers kept between calls (a collector keeps one per source): no
 * allocation per message once they have grown. Not shared between threads. When tmpl has
 * no attrs, ta (nta of them, unique keys, in the order attrs shows them) are the attrs to
 * start from, as if tmpl->attrs were their JSON object: a string that is not UTF-8 or
 * holds a NUL is left out. This spares writing JSON text only to parse it again.
 */
struct envelope_msgbuf;
struct envelope_msgbuf *envelope_msgbuf_new(void);
void envelope_msgbuf_free(struct envelope_msgbuf *b); /* accepts NULL */
int envelope_from_message_buf(struct envelope_msgbuf *b, const struct envelope_map *map,
                              enum envelope_binding binding, const struct envelope_header *h,
                              size_t nh, const uint8_t *body, size_t len,
                              const struct event *tmpl, const struct envelope_tattr *ta,
                              size_t nta, envelope_emit_fn emit, void *ctx,
                              const char **why) ES_WARN_UNUSED;

/* Deep copy of every field of src into dst (dst is initialised first). */
void envelope_copy_event(struct event *dst, const struct event *src);

#endif
