/*
 * jdoc: a read-only JSON document parsed in one pass into two reusable arrays (nodes and
 * unescaped strings), so that normalising one record costs no allocation once the arrays
 * have grown to the size of a typical record. It accepts exactly the JSON that jansson's
 * json_loadb(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY) accepts (RFC 8259: valid UTF-8, no
 * NUL, no duplicate keys, integers that fit 64 bits, finite reals) up to JDOC_MAX_DEPTH
 * levels (jansson: 2048), or fewer when max_depth is lower; a caller that needs jansson's
 * error text asks jansson after a failure.
 *
 * Nodes are numbered in document order from 0 (the root); a container's descendants are
 * the indexes after it up to its `end`, so "is node j inside node i" is a range check and
 * 0 can mean "none" for members and children. Each node remembers its span in the input
 * and whether that span is already the compact form envelope.c writes (JD_CANON), so a
 * payload that arrives compact is copied, not rebuilt.
 */
#ifndef ES_JDOC_H
#define ES_JDOC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum jd_type { JD_NULL, JD_FALSE, JD_TRUE, JD_INT, JD_REAL, JD_STRING, JD_ARRAY, JD_OBJECT };

#define JD_CANON 0x01 /* the input span is the compact canonical text of the value */

/*
 * Deeper input is refused (json_too_deep). jansson allows 2048, but the parser and the
 * writer recurse once per level and 2048 levels overflow an 8 MB stack in an -O0 ASan
 * build; the file collector's default limit (--max-depth) is 512 anyway.
 */
#define JDOC_MAX_DEPTH 1024
#define JDOC_ALLOW_NUL 0x01 /* jdoc_parse flag: "\u0000" allowed in strings (jansson's JSON_ALLOW_NUL) */

struct jd_node {
    uint8_t type;   /* enum jd_type */
    uint8_t flags;  /* JD_CANON */
    uint32_t next;  /* next member / element of the parent, 0 = last */
    uint32_t end;   /* one past the last descendant (self + 1 for scalars) */
    uint32_t count; /* containers: members / elements */
    uint32_t key, klen; /* object members: key in the string arena */
    uint32_t raw, rawlen; /* the value's bytes in the input text */
    union {
        int64_t i;                  /* JD_INT */
        double d;                   /* JD_REAL */
        struct {
            uint32_t off, len;      /* JD_STRING: unescaped, NUL-terminated in the arena */
        } s;
    } v;
};

struct jdoc {
    const char *text; /* the input (not owned; must outlive the document) */
    size_t len;
    struct jd_node *n;
    uint32_t nn, ncap;
    char *s; /* string arena: keys and string values, each NUL-terminated */
    size_t slen, scap;
    size_t err_at;   /* byte offset of a parse error */
    const char *why; /* snake_case reason of a parse error */
};

void jdoc_init(struct jdoc *d);
void jdoc_done(struct jdoc *d); /* frees the arrays; jdoc_init again to reuse */

/*
 * Parses len bytes of text (one JSON value, blanks around it allowed) into d, replacing
 * what d held but keeping its arrays. max_depth 0 means JDOC_MAX_DEPTH; flags: JDOC_*. ES_OK, or ES_EINVALID with d->why and d->err_at
 * ("invalid_json", "invalid_utf8", "nul_byte", "duplicate_key", "json_too_deep",
 * "number_out_of_range", "truncated_json", "too_big").
 */
int jdoc_parse(struct jdoc *d, const char *text, size_t len, int max_depth,
               unsigned flags) ES_WARN_UNUSED;

static inline enum jd_type jd_type(const struct jdoc *d, uint32_t i)
{
    return (enum jd_type)d->n[i].type;
}

/* First member / element of container i, 0 when empty. */
static inline uint32_t jd_first(const struct jdoc *d, uint32_t i)
{
    return d->n[i].count ? i + 1 : 0;
}

static inline uint32_t jd_next(const struct jdoc *d, uint32_t i)
{
    return d->n[i].next;
}

static inline const char *jd_key(const struct jdoc *d, uint32_t i, size_t *len)
{
    *len = d->n[i].klen;
    return d->s + d->n[i].key;
}

static inline const char *jd_str(const struct jdoc *d, uint32_t i, size_t *len)
{
    *len = d->n[i].v.s.len;
    return d->s + d->n[i].v.s.off;
}

/* 1 when node j is a descendant of node i. */
static inline int jd_inside(const struct jdoc *d, uint32_t i, uint32_t j)
{
    return j > i && j < d->n[i].end;
}

/* The member of object i with exactly this key, 0 when none. */
uint32_t jd_get(const struct jdoc *d, uint32_t obj, const char *key, size_t len);

/* The first member of object i whose key equals key ignoring ASCII case, 0 when none. */
uint32_t jd_iget(const struct jdoc *d, uint32_t obj, const char *key, size_t len);

#define jd_foreach(d, obj, m) for ((m) = jd_first((d), (obj)); (m) != 0; (m) = jd_next((d), (m)))

#endif
