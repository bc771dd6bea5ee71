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
    struct vclock_entry *v; /* sorted by node (strcmp order), unique */
    size_t n;               /* entries in use */
    size_t cap;             /* entries allocated */
};

/* Bounds for clocks read from input (vclock_parse, vclock_parse_json): ES_ETOOBIG past them. */
#define VCLOCK_MAX_ENTRIES 1024
#define VCLOCK_MAX_NODE 256 /* bytes in one node name */

struct json_t; /* jansson's json_t */

enum vclock_order {
    VCLOCK_EQUAL,
    VCLOCK_BEFORE,    /* a happened before b */
    VCLOCK_AFTER,     /* a happened after b */
    VCLOCK_CONCURRENT /* neither dominates */
};

void vclock_init(struct vclock *vc);
void vclock_done(struct vclock *vc);

/*
 * Parses a clock written as a JSON object text ({"orders":3}), as "orders:3,payments:1"
 * (blanks around items tolerated, '=' accepted for ':'), or as a JSON string holding
 * either ("\"orders:3\"", "\"{\\\"orders\\\":3}\"") (len bytes of s). Counters are
 * integers in 0..INT64_MAX (JSON integers or digit strings); node names are non-empty UTF-8.
 * Returns ES_OK, ES_EINVALID (bad syntax, duplicate node, negative or non-integer count),
 * or ES_ETOOBIG (more than VCLOCK_MAX_ENTRIES, or a node longer than VCLOCK_MAX_NODE).
 * vc is replaced on success and left empty on failure.
 */
int vclock_parse(struct vclock *vc, const char *s, size_t len) ES_WARN_UNUSED;

/* Same from a parsed JSON object (borrowed) or a JSON string holding a clock. */
int vclock_parse_json(struct vclock *vc, const struct json_t *v) ES_WARN_UNUSED;

/* Canonical JSON object text, keys sorted, e.g. {"orders":3,"payments":1}. Caller frees. */
char *vclock_to_json(const struct vclock *vc);

/* Counter of node, 0 when absent (binary search). */
uint64_t vclock_get(const struct vclock *vc, const char *node);
/* Sets node's counter (inserting it in order; node is copied). Not bounded: trusted use. */
void vclock_set(struct vclock *vc, const char *node, uint64_t count);
/* dst = pointwise max of dst and src (a node absent on one side counts as 0). */
void vclock_merge(struct vclock *dst, const struct vclock *src);
/* dst = deep copy of src (dst's old entries are released). */
void vclock_copy(struct vclock *dst, const struct vclock *src);
/* Happens-before order of a and b; absent nodes count as 0, so {} is BEFORE {"a":1}. */
enum vclock_order vclock_compare(const struct vclock *a, const struct vclock *b);

#endif
