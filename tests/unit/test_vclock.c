/* core/vclock: parsing every written form, canonical JSON, get/set/merge/compare, bounds. */
#include "core/vclock.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/xmalloc.h"
#include "tests/check.h"

static const struct parse_case {
    const char *in;
    int rc;
    const char *json; /* canonical form when rc == ES_OK */
} parses[] = {
    {"{\"orders\":3}", ES_OK, "{\"orders\":3}"},
    {"{\"payments\":1,\"orders\":3}", ES_OK, "{\"orders\":3,\"payments\":1}"},
    {" { \"b\" : 2 , \"a\" : 1 } ", ES_OK, "{\"a\":1,\"b\":2}"},
    {"{}", ES_OK, "{}"},
    {"{\"a\":\"7\"}", ES_OK, "{\"a\":7}"},
    {"{\"a\":18446744073709551615}", ES_EINVALID, NULL}, /* beyond JSON integers (int64) */
    {"{\"a\":\"9223372036854775807\"}", ES_OK, "{\"a\":9223372036854775807}"},
    {"{\"a\":\"9223372036854775808\"}", ES_EINVALID, NULL}, /* canonical JSON must read back */
    /* 2026-11-23 fuzz_vclock: a count above INT64_MAX made canonical JSON jansson refuses */
    {" \\:\n:\n11553255926290448376", ES_EINVALID, NULL},
    {"orders:3", ES_OK, "{\"orders\":3}"},
    {"orders:3,payments:1", ES_OK, "{\"orders\":3,\"payments\":1}"},
    {"payments:1,orders:3", ES_OK, "{\"orders\":3,\"payments\":1}"},
    {" orders : 3 ,  payments:1 ", ES_OK, "{\"orders\":3,\"payments\":1}"},
    {"orders=3,payments=1", ES_OK, "{\"orders\":3,\"payments\":1}"},
    {"host:8080:5", ES_OK, "{\"host:8080\":5}"},
    {"a:0", ES_OK, "{\"a\":0}"},
    {"\"orders:3,payments:1\"", ES_OK, "{\"orders\":3,\"payments\":1}"},
    {"\"{\\\"orders\\\":3}\"", ES_OK, "{\"orders\":3}"},
    {"{\"q\\\"uote\":1,\"tab\\t\":2}", ES_OK, "{\"q\\\"uote\":1,\"tab\\u0009\":2}"},
    {"{\"\xc3\xa9t\xc3\xa9\":1}", ES_OK, "{\"\xc3\xa9t\xc3\xa9\":1}"},
    /* refused */
    {"", ES_EINVALID, NULL},
    {"   ", ES_EINVALID, NULL},
    {"orders", ES_EINVALID, NULL},
    {"orders:", ES_EINVALID, NULL},
    {":3", ES_EINVALID, NULL},
    {"orders:3,", ES_EINVALID, NULL},
    {",orders:3", ES_EINVALID, NULL},
    {"orders:3,,b:1", ES_EINVALID, NULL},
    {"orders:-1", ES_EINVALID, NULL},
    {"orders:1.5", ES_EINVALID, NULL},
    {"orders:3x", ES_EINVALID, NULL},
    {"orders:99999999999999999999", ES_EINVALID, NULL},
    {"a:1,a:2", ES_EINVALID, NULL},
    {"{\"a\":1,\"a\":2}", ES_EINVALID, NULL},
    {"{\"a\":-1}", ES_EINVALID, NULL},
    {"{\"a\":1.5}", ES_EINVALID, NULL},
    {"{\"a\":null}", ES_EINVALID, NULL},
    {"{\"a\":{}}", ES_EINVALID, NULL},
    {"{\"\":1}", ES_EINVALID, NULL},
    {"{\"a\":1", ES_EINVALID, NULL},
    {"[1,2]", ES_EINVALID, NULL},
    {"\"\\\"a:1\\\"\"", ES_EINVALID, NULL}, /* a string in a string in a string */
    {"\"\"", ES_EINVALID, NULL},
    {"\xff:1", ES_EINVALID, NULL},
};

static void test_parse(void)
{
    struct vclock vc;
    size_t i;

    vclock_init(&vc);
    for (i = 0; i < sizeof parses / sizeof parses[0]; i++) {
        int rc = vclock_parse(&vc, parses[i].in, strlen(parses[i].in));
        char *j = vclock_to_json(&vc);
        check_count++;
        if (rc != parses[i].rc || (rc == ES_OK && strcmp(j, parses[i].json) != 0) ||
            (rc != ES_OK && (vc.n != 0 || strcmp(j, "{}") != 0))) {
            check_failures++;
            fprintf(stderr, "parse case %zu \"%s\": rc %d (want %d) json %s (want %s)\n", i,
                    parses[i].in, rc, parses[i].rc, j, parses[i].json ? parses[i].json : "-");
        }
        free(j);
    }
    vclock_done(&vc);
    /* Never reads past len: "a:1" out of "a:12". */
    vclock_init(&vc);
    CHECK_INT(vclock_parse(&vc, "a:12", 3), ES_OK);
    CHECK_INT(vclock_get(&vc, "a"), 1);
    CHECK_INT(vclock_parse(&vc, NULL, 0), ES_EINVALID);
    vclock_done(&vc);
}

static void test_parse_json(void)
{
    struct vclock vc;
    json_t *v;

    vclock_init(&vc);
    v = json_loads("{\"b\":2,\"a\":1}", 0, NULL);
    CHECK_INT(vclock_parse_json(&vc, v), ES_OK);
    CHECK_INT(vc.n, 2);
    CHECK_STR(vc.v[0].node, "a");
    json_decref(v);
    v = json_string("x:4");
    CHECK_INT(vclock_parse_json(&vc, v), ES_OK);
    CHECK_INT(vclock_get(&vc, "x"), 4);
    CHECK_INT(vclock_get(&vc, "a"), 0);
    json_decref(v);
    v = json_integer(3);
    CHECK_INT(vclock_parse_json(&vc, v), ES_EINVALID);
    json_decref(v);
    CHECK_INT(vclock_parse_json(&vc, NULL), ES_EINVALID);
    vclock_done(&vc);
}

/* Node and entry limits at n-1, n, n+1. */
static void test_bounds(void)
{
    struct vclock vc;
    char *s, node[VCLOCK_MAX_NODE + 2];
    size_t i, len;
    int counts[3] = {VCLOCK_MAX_ENTRIES - 1, VCLOCK_MAX_ENTRIES, VCLOCK_MAX_ENTRIES + 1};
    int k;

    vclock_init(&vc);
    for (len = VCLOCK_MAX_NODE - 1; len <= VCLOCK_MAX_NODE + 1; len++) {
        char text[VCLOCK_MAX_NODE + 8];
        memset(node, 'n', len);
        node[len] = '\0';
        snprintf(text, sizeof text, "%s:1", node);
        CHECK_INT(vclock_parse(&vc, text, strlen(text)),
                  len <= VCLOCK_MAX_NODE ? ES_OK : ES_ETOOBIG);
    }
    for (k = 0; k < 3; k++) {
        size_t cap = (size_t)counts[k] * 16 + 2, o = 0;
        s = xmalloc(cap);
        s[o++] = '{';
        for (i = 0; i < (size_t)counts[k]; i++)
            o += (size_t)snprintf(s + o, cap - o, "%s\"n%05zu\":%zu", i ? "," : "", i, i);
        s[o++] = '}';
        CHECK_INT(vclock_parse(&vc, s, o), counts[k] <= VCLOCK_MAX_ENTRIES ? ES_OK : ES_ETOOBIG);
        /* the same as pairs */
        o = 0;
        for (i = 0; i < (size_t)counts[k]; i++)
            o += (size_t)snprintf(s + o, cap - o, "%sn%05zu:%zu", i ? "," : "", i, i);
        CHECK_INT(vclock_parse(&vc, s, o), counts[k] <= VCLOCK_MAX_ENTRIES ? ES_OK : ES_ETOOBIG);
        free(s);
    }
    vclock_done(&vc);
}

static struct vclock mk(const char *text)
{
    struct vclock vc;
    vclock_init(&vc);
    if (vclock_parse(&vc, text, strlen(text)) != ES_OK && strcmp(text, "{}") != 0) {
        check_failures++;
        fprintf(stderr, "mk: cannot parse %s\n", text);
    }
    return vc;
}

static void test_ops(void)
{
    static const struct {
        const char *a, *b;
        enum vclock_order order;
        const char *merged;
    } cases[] = {
        {"{}", "{}", VCLOCK_EQUAL, "{}"},
        {"a:1", "a:1", VCLOCK_EQUAL, "{\"a\":1}"},
        {"a:1", "a:2", VCLOCK_BEFORE, "{\"a\":2}"},
        {"a:2", "a:1", VCLOCK_AFTER, "{\"a\":2}"},
        {"{}", "a:1", VCLOCK_BEFORE, "{\"a\":1}"},
        {"a:1", "{}", VCLOCK_AFTER, "{\"a\":1}"},
        {"a:0", "{}", VCLOCK_EQUAL, "{\"a\":0}"},
        {"a:1", "b:1", VCLOCK_CONCURRENT, "{\"a\":1,\"b\":1}"},
        {"a:1,b:2", "a:2,b:1", VCLOCK_CONCURRENT, "{\"a\":2,\"b\":2}"},
        {"a:1,b:2", "a:1,b:2,c:1", VCLOCK_BEFORE, "{\"a\":1,\"b\":2,\"c\":1}"},
        {"a:3,c:1", "b:1", VCLOCK_CONCURRENT, "{\"a\":3,\"b\":1,\"c\":1}"},
        {"b:5,d:1", "a:1,c:2,e:3", VCLOCK_CONCURRENT,
         "{\"a\":1,\"b\":5,\"c\":2,\"d\":1,\"e\":3}"},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct vclock a = mk(cases[i].a), b = mk(cases[i].b), c;
        enum vclock_order o = vclock_compare(&a, &b), back = vclock_compare(&b, &a);
        enum vclock_order inv = o == VCLOCK_BEFORE ? VCLOCK_AFTER : o == VCLOCK_AFTER ? VCLOCK_BEFORE : o;
        char *j;
        if (o != cases[i].order || back != inv) {
            check_failures++;
            fprintf(stderr, "compare case %zu %s vs %s: %d / %d\n", i, cases[i].a, cases[i].b, o,
                    back);
        }
        check_count++;
        vclock_init(&c);
        vclock_copy(&c, &a);
        vclock_merge(&c, &b);
        j = vclock_to_json(&c);
        CHECK_STR(j, cases[i].merged);
        free(j);
        /* the merge dominates or equals both sides */
        CHECK(vclock_compare(&a, &c) != VCLOCK_AFTER && vclock_compare(&a, &c) != VCLOCK_CONCURRENT);
        CHECK(vclock_compare(&b, &c) != VCLOCK_AFTER && vclock_compare(&b, &c) != VCLOCK_CONCURRENT);
        vclock_done(&a);
        vclock_done(&b);
        vclock_done(&c);
    }
}

static void test_set_get(void)
{
    struct vclock vc, cp;
    static const char *const nodes[] = {"m", "c", "x", "a", "z", "c", "b"};
    size_t i;
    char *j;

    vclock_init(&vc);
    CHECK_INT(vclock_get(&vc, "a"), 0);
    for (i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
        vclock_set(&vc, nodes[i], i + 1);
    CHECK_INT(vc.n, 6);
    for (i = 1; i < vc.n; i++)
        CHECK(strcmp(vc.v[i - 1].node, vc.v[i].node) < 0);
    CHECK_INT(vclock_get(&vc, "c"), 6);
    CHECK_INT(vclock_get(&vc, "m"), 1);
    CHECK_INT(vclock_get(&vc, "zz"), 0);
    j = vclock_to_json(&vc);
    CHECK_STR(j, "{\"a\":4,\"b\":7,\"c\":6,\"m\":1,\"x\":3,\"z\":5}");
    free(j);
    vclock_init(&cp);
    vclock_set(&cp, "old", 1);
    vclock_copy(&cp, &vc);
    CHECK_INT(cp.n, 6);
    CHECK_INT(vclock_get(&cp, "old"), 0);
    vclock_copy(&cp, &cp);
    CHECK_INT(cp.n, 6);
    vclock_merge(&cp, &cp);
    CHECK_INT(cp.n, 6);
    vclock_done(&cp);
    vclock_done(&vc);
    vclock_done(&vc); /* done twice is harmless */
}

int main(void)
{
    test_parse();
    test_parse_json();
    test_bounds();
    test_ops();
    test_set_get();
    return CHECK_DONE();
}
