/*
 * The event model: one observation (one sighting) of an event, as stored in the events
 * table of DESIGN.md. Every string field is owned by the event (NULL = absent) and
 * released by event_done(). attrs and data are JSON texts.
 */
#ifndef ES_EVENT_H
#define ES_EVENT_H

#include <stddef.h>
#include <stdint.h>

#define ES_TIME_NONE INT64_MIN /* time_us / observed_us absent */
/* |µs| from 1970 beyond this (year 10000) is no time: differences of two times fit int64. */
#define ES_TIME_LIMIT 253402300800000000LL

/* Fields in the order of the events table; used to address string fields generically. */
#define EVENT_STR_FIELDS(X)                                                                        \
    X(location)                                                                                    \
    X(event_id)                                                                                    \
    X(type)                                                                                        \
    X(source)                                                                                      \
    X(subject)                                                                                     \
    X(partition_key)                                                                               \
    X(sequence)                                                                                    \
    X(time_raw)                                                                                    \
    X(correlation_id)                                                                              \
    X(causation_id)                                                                                \
    X(transport)                                                                                   \
    X(channel)                                                                                     \
    X(direction)                                                                                   \
    X(vclock)                                                                                      \
    X(data)                                                                                        \
    X(attrs)
#define EVENT_NFIELDS 16 /* how many EVENT_STR_FIELDS has (checked in event.c) */

struct event {
    char *location;       /* file:line, "frame 12", "orders/2@1532"; unique per origin */
    char *event_id;       /* envelope id */
    char *type;           /* envelope type */
    char *source;         /* producer (CloudEvents source / service) */
    char *subject;        /* CloudEvents subject */
    char *partition_key;  /* ordering key; NULL falls back to subject in checks */
    char *sequence;       /* producer sequence as written */
    char *time_raw;       /* producer time as written */
    char *correlation_id; /* business process id */
    char *causation_id;   /* event_id of the cause */
    char *transport;      /* file|http|kafka|amqp|mqtt|nats */
    char *channel;        /* topic / queue / subject / URL path */
    char *direction;      /* publish | deliver | log */
    char *vclock;         /* canonical JSON object, keys sorted */
    char *data;           /* payload: JSON text, or a JSON string holding non-JSON bytes */
    char *attrs;          /* JSON object of every attribute not mapped to a column */
    int64_t time_us;      /* producer time, UTC µs since epoch, or ES_TIME_NONE */
    int64_t observed_us;  /* observation time, UTC µs, or ES_TIME_NONE */
    uint64_t payload_hash; /* hash of data (0 when data is NULL) */
};

void event_init(struct event *ev);
void event_done(struct event *ev); /* frees every field, then event_init() */

/* Replaces *field with a copy of the first len bytes of s (s may be NULL: clears). */
void event_set(char **field, const char *s, size_t len);
/* Same with a NUL-terminated string. */
void event_set_str(char **field, const char *s);

/*
 * Length of the valid UTF-8 sequence at p (left >= 1 bytes readable) with its code point in
 * *cp, or 0 when invalid: cut, overlong, a surrogate or past U+10FFFF.
 */
size_t event_utf8_seq(const void *p, size_t left, uint32_t *cp);

/*
 * 1 when code point cp must not reach a terminal as it is: C1 controls (U+0080..U+009F act
 * as escape sequences on some terminals) and bidi overrides and isolates (they reorder what
 * follows on the line). Text outputs show these escaped.
 */
int event_cp_unsafe(uint32_t cp);

/*
 * Valid UTF-8 for len bytes of p: returns NULL when they already are, else a new
 * NUL-terminated copy (caller frees) with every invalid sequence replaced by U+FFFD, its
 * length in *outlen. Overlong forms, surrogates and code points past U+10FFFF are invalid.
 */
char *event_utf8_repair(const void *p, size_t len, size_t *outlen);

/* Writes code point cp (at most U+10FFFF) as UTF-8 to o (4 bytes of room); returns its length. */
size_t event_utf8_put(void *o, uint32_t cp);

/* 64-bit FNV-1a of len bytes; used for payload_hash and hashed keys. Never returns 0. */
uint64_t event_hash(const void *p, size_t len);

#endif
