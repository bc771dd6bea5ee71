/*
 * --redact: replaces chosen parts of an event's payload by a keyed hash before it is
 * stored, so private values never reach the store while equal values still compare equal
 * (duplicate and semantic-duplicate checks keep working on redacted fields).
 *
 * A spec is a comma-separated list of JSON paths into the payload: "data" is the whole
 * payload; "data.card.number" and "card.number" both name payload.card.number; a segment
 * "*" matches every key of an object or every element of an array; a segment of digits
 * also picks that array element. Each matching value (any JSON type) is replaced by the
 * string "redacted:hmac-sha256:" + the first 32 hex digits of HMAC-SHA256(key, canonical
 * compact JSON of the value, keys sorted). Shorter paths are applied first, so a parent
 * is hashed over its original content whatever order the spec lists them in.
 *
 * The key: EVENTSCOPE_REDACT_KEY when set (its bytes), else a random 32-byte key created
 * once per store and kept hex-encoded in meta('redact_key'): the same value hashes the
 * same across runs on one store, a different store gives different hashes.
 */
#ifndef ES_REDACT_H
#define ES_REDACT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"
#include "core/store.h"

#define REDACT_PREFIX "redacted:hmac-sha256:"
#define REDACT_ENV_KEY "EVENTSCOPE_REDACT_KEY"

struct redact;

/* Parses spec into a new *out (without a key yet). ES_EUSAGE with a message in err. */
int redact_parse(const char *spec, struct redact **out, char *err, size_t errlen) ES_WARN_UNUSED;
/* Sets the HMAC key (copied; len > 0). */
int redact_set_key(struct redact *r, const uint8_t *key, size_t len) ES_WARN_UNUSED;
/*
 * Reads meta('redact_key') of st, creating it from 32 random bytes when absent. Call it
 * before handing st to a sink. ES_ESTORE (sqlite3_errmsg(store_db(st)) says why) or ES_EIO
 * (no randomness).
 */
int redact_key_for_store(struct store *st, uint8_t key[32]) ES_WARN_UNUSED;
/* The key from EVENTSCOPE_REDACT_KEY when set and not empty, else redact_key_for_store. */
int redact_setup_key(struct redact *r, struct store *st) ES_WARN_UNUSED;
/*
 * Rewrites ev->data in place (payload_hash is reset to 0 so it is computed again over the
 * redacted text). Data left untouched when no path matches. Data that is not JSON text is
 * hashed whole (fail closed: nothing unreadable is stored unredacted). ES_EINVAL without a key.
 */
int redact_apply(const struct redact *r, struct event *ev) ES_WARN_UNUSED;
void redact_free(struct redact *r);

/* "redacted:hmac-sha256:<32 hex>" for len bytes of p: what a redacted value becomes. */
#define REDACT_TEXT_MAX 64
void redact_text(const struct redact *r, const void *p, size_t len, char out[REDACT_TEXT_MAX]);

/* SHA-256 and HMAC-SHA256 (RFC 4231), exposed for tests. */
void redact_sha256(const void *p, size_t len, uint8_t out[32]);
void redact_hmac_sha256(const uint8_t *key, size_t keylen, const void *p, size_t len,
                        uint8_t out[32]);

#endif
