/*
 * Vector clocks: parsing carried clocks to canonical JSON (keys sorted, integer values),
 * and the comparisons the analyzer needs.
 */
#ifndef ES_VCLOCK_H
#define ES_VCLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct vclock_entry {
    char *node;     /* owned */
    uint64_t count; /* counter value */
};

struct vclock {
    struct vclock_entry *v; /* sorted by node, unique */
    size_t n;
};

enum vclock_order {
    VCLOCK_EQUAL,
    VCLOCK_BEFORE,    /* a happened before b */
    VCLOCK_AFTER,     /* a happened after b */
    VCLOCK_CONCURRENT /* neither dominates */
};

void vclock_init(struct vclock *vc);
void vclock_done(struct vclock *vc);

/*
 * Parses a clock written as a JSON object text ({"orders":3}) or as "orders:3,payments:1"
 * (len bytes of s). Returns ES_OK or ES_EINVALID; vc is replaced.
 */
int vclock_parse(struct vclock *vc, const char *s, size_t len) ES_WARN_UNUSED;

/* Canonical JSON object text, keys sorted, e.g. {"orders":3,"payments":1}. Caller frees. */
char *vclock_to_json(const struct vclock *vc);

uint64_t vclock_get(const struct vclock *vc, const char *node);
void vclock_set(struct vclock *vc, const char *node, uint64_t count);
void vclock_merge(struct vclock *dst, const struct vclock *src); /* pointwise max */
void vclock_copy(struct vclock *dst, const struct vclock *src);
enum vclock_order vclock_compare(const struct vclock *a, const struct vclock *b);

#endif
