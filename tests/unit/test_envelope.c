/*
 * core/envelope: every spelling of every attribute (as written, upper case, nested under
 * metadata/meta/headers), first match wins, values of the wrong shape, attrs, field maps,
 * and each CloudEvents protocol binding.
 */
#include "core/envelope.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/timeparse.h"
#include "core/xmalloc.h"
#include "tests/check.h"

/* DESIGN.md "The event model", in its order. */
static const struct attr_spellings {
    enum envelope_attr attr;
    const char *sp[6];
} table[] = {
    {ENV_ID, {"id", "eventId", "event_id", "messageId", "message-id"}},
    {ENV_TYPE, {"type", "eventType", "event_type", "event", "name"}},
    {ENV_SOURCE, {"source", "service", "svc", "producer", "app-id"}},
    {ENV_TIME, {"time", "timestamp", "occurredAt", "occurred_at", "ts"}},
    {ENV_CORRELATION, {"correlationid", "correlationId", "correlation_id", "correlation-id"}},
    {ENV_CAUSATION, {"causationid", "causationId", "causation_id", "causation-id"}},
    {ENV_SUBJECT, {"subject"}},
    {ENV_PARTITION_KEY, {"partitionkey", "partitionKey", "partition_key", "aggregateId", "key"}},
    {ENV_SEQUENCE, {"sequence", "seq", "sequenceNumber"}},
    {ENV_VCLOCK, {"vclock", "vectorclock", "vc"}},
    {ENV_DATA, {"data", "payload", "body"}},
};

static const char *field(const struct event *ev, enum envelope_attr a)
{
    switch (a) {
    case ENV_ID: return ev->event_id;
    case ENV_TYPE: return ev->type;
    case ENV_SOURCE: return ev->source;
    case ENV_TIME: return ev->time_raw;
    case ENV_CORRELATION: return ev->correlation_id;
    case ENV_CAUSATION: return ev->causation_id;
    case ENV_SUBJECT: return ev->subject;
    case ENV_PARTITION_KEY: return ev->partition_key;
    case ENV_SEQUENCE: return ev->sequence;
    case ENV_VCLOCK: return ev->vclock;
    case ENV_DATA: return ev->data;
    default: return NULL;
    }
}

/* A JSON value for attribute a tagged k, and the field text it must produce. */
static void value_for(enum envelope_attr a, int k, char *json, char *want, size_t n)
{
    switch (a) {
    case ENV_TIME:
        snprintf(json, n, "\"17000000%02d\"", k);
        snprintf(want, n, "17000000%02d", k);
        break;
    case ENV_VCLOCK:
        snprintf(json, n, "\"n:%d\"", k);
        snprintf(want, n, "{\"n\":%d}", k);
        break;
    case ENV_DATA:
        snprintf(json, n, "{\"k\":%d}", k);
        snprintf(want, n, "{\"k\":%d}", k);
        break;
    default:
        snprintf(json, n, "\"v%d\"", k);
        snprintf(want, n, "v%d", k);
    }
}

/* Normalises JSON text into ev (initialised here). Returns envelope_from_json's code. */
static int norm(const struct envelope_map *map, const char *text, struct event *ev)
{
    json_error_t jerr;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    const char *why;
    int rc;

    event_init(ev);
    if (o == NULL) {
        fprintf(stderr, "bad test JSON %s: %s\n", text, jerr.text);
        check_failures++;
        return ES_EINVALID;
    }
    rc = envelope_from_json(map, o, ev, &why);
    json_decref(o);
    return rc;
}

static void upper(char *dst, const char *s)
{
    for (; *s; s++)
        *dst++ = (char)(*s >= 'a' && *s <= 'z' ? *s - 32 : *s);
    *dst = '\0';
}

static void report(const char *what, const char *rec, const char *got, const char *want)
{
    check_count++;
    if ((got == NULL) != (want == NULL) || (got && want && strcmp(got, want) != 0)) {
        check_failures++;
        fprintf(stderr, "%s: record %s: got %s, want %s\n", what, rec, got ? got : "(null)",
                want ? want : "(null)");
    }
}

static void test_every_spelling(void)
{
    static const char *const nests[] = {"metadata", "meta", "headers", "Metadata"};
    size_t t, i, j, k;
    char rec[512], val[64], want[64], val2[64], want2[64], up[32];
    struct event ev;

    for (t = 0; t < sizeof table / sizeof table[0]; t++) {
        enum envelope_attr a = table[t].attr;
        for (i = 0; table[t].sp[i]; i++) {
            const char *sp = table[t].sp[i];
            value_for(a, (int)i, val, want, sizeof val);

            /* as written, at the top level: mapped, nothing left in attrs */
            snprintf(rec, sizeof rec, "{\"%s\":%s}", sp, val);
            CHECK_INT(norm(NULL, rec, &ev), ES_OK);
            report("top level", rec, field(&ev, a), want);
            report("top level attrs", rec, ev.attrs, NULL);
            event_done(&ev);

            /* upper case */
            upper(up, sp);
            snprintf(rec, sizeof rec, "{\"%s\":%s}", up, val);
            (void)norm(NULL, rec, &ev);
            report("upper case", rec, field(&ev, a), want);
            event_done(&ev);

            /* nested: the container disappears from attrs once emptied */
            for (k = 0; k < sizeof nests / sizeof nests[0]; k++) {
                snprintf(rec, sizeof rec, "{\"%s\":{\"%s\":%s},\"other\":1}", nests[k], sp, val);
                (void)norm(NULL, rec, &ev);
                report("nested", rec, field(&ev, a), want);
                report("nested attrs", rec, ev.attrs, "{\"other\":1}");
                event_done(&ev);
            }

            /* first match wins: every later spelling loses, whatever the member order */
            for (j = i + 1; table[t].sp[j]; j++) {
                char keep[128];
                if (strcasecmp(table[t].sp[j], sp) == 0)
                    continue; /* one spelling case-insensitively: member order decides */
                value_for(a, (int)j, val2, want2, sizeof val2);
                snprintf(rec, sizeof rec, "{\"%s\":%s,\"%s\":%s}", table[t].sp[j], val2, sp, val);
                (void)norm(NULL, rec, &ev);
                report("first match", rec, field(&ev, a), want);
                snprintf(keep, sizeof keep, "{\"%s\":%s}", table[t].sp[j], val2);
                report("loser kept in attrs", rec, ev.attrs, keep);
                event_done(&ev);
            }

            /* the top level wins over any nested spelling, even a better one */
            value_for(a, 9, val2, want2, sizeof val2);
            snprintf(rec, sizeof rec, "{\"metadata\":{\"%s\":%s},\"%s\":%s}", table[t].sp[0], val2,
                     sp, val);
            (void)norm(NULL, rec, &ev);
            report("top level over nested", rec, field(&ev, a), want);
            event_done(&ev);

            /* metadata before meta before headers */
            snprintf(rec, sizeof rec, "{\"headers\":{\"%s\":%s},\"meta\":{\"%s\":%s}}", sp, val2,
                     sp, val);
            (void)norm(NULL, rec, &ev);
            report("meta over headers", rec, field(&ev, a), want);
            event_done(&ev);
        }
    }
}

static const struct shape_case {
    const char *rec;
    enum envelope_attr attr;
    const char *want;  /* field */
    const char *attrs; /* ev->attrs */
} shapes[] = {
    /* numbers become their decimal text */
    {"{\"id\":42}", ENV_ID, "42", NULL},
    {"{\"sequence\":7}", ENV_SEQUENCE, "7", NULL},
    {"{\"seq\":-3}", ENV_SEQUENCE, "-3", NULL},
    {"{\"correlationId\":12.5}", ENV_CORRELATION, "12.5", NULL},
    {"{\"key\":0.1}", ENV_PARTITION_KEY, "0.1", NULL},
    {"{\"id\":9007199254740993}", ENV_ID, "9007199254740993", NULL},
    /* objects, arrays, booleans, null and "" never match: kept, next spelling tried */
    {"{\"type\":{\"a\":1},\"eventType\":\"X\"}", ENV_TYPE, "X", "{\"type\":{\"a\":1}}"},
    {"{\"id\":[1],\"eventId\":\"e\"}", ENV_ID, "e", "{\"id\":[1]}"},
    {"{\"id\":true}", ENV_ID, NULL, "{\"id\":true}"},
    {"{\"id\":null,\"event_id\":\"e\"}", ENV_ID, "e", "{\"id\":null}"},
    {"{\"source\":\"\",\"service\":\"s\"}", ENV_SOURCE, "s", "{\"source\":\"\"}"},
    {"{\"event\":{\"type\":\"Inner\"}}", ENV_TYPE, NULL, "{\"event\":{\"type\":\"Inner\"}}"},
    /* same spelling twice in different case: member order decides */
    {"{\"Type\":\"A\",\"type\":\"B\"}", ENV_TYPE, "A", "{\"type\":\"B\"}"},
    /* time: text kept as written, invalid still kept */
    {"{\"time\":\"yesterday\"}", ENV_TIME, "yesterday", NULL},
    {"{\"ts\":1700000000123}", ENV_TIME, "1700000000123", NULL},
    {"{\"ts\":1700000000.5}", ENV_TIME, "1700000000.5", NULL},
    {"{\"time\":{\"s\":1},\"ts\":\"2026-03-15T10:30:00Z\"}", ENV_TIME, "2026-03-15T10:30:00Z",
     "{\"time\":{\"s\":1}}"},
    /* vclock: object, JSON-in-a-string, pairs; invalid stays in attrs */
    {"{\"vclock\":{\"b\":2,\"a\":1}}", ENV_VCLOCK, "{\"a\":1,\"b\":2}", NULL},
    {"{\"vc\":\"{\\\"orders\\\":3}\"}", ENV_VCLOCK, "{\"orders\":3}", NULL},
    {"{\"vectorclock\":\"orders:3, payments:1\"}", ENV_VCLOCK, "{\"orders\":3,\"payments\":1}",
     NULL},
    {"{\"vclock\":\"garbage\"}", ENV_VCLOCK, NULL, "{\"vclock\":\"garbage\"}"},
    {"{\"vclock\":[1]}", ENV_VCLOCK, NULL, "{\"vclock\":[1]}"},
    /* data: JSON text; a string holding an object/array is parsed; others stay strings */
    {"{\"data\":\"{\\\"a\\\": 1}\"}", ENV_DATA, "{\"a\":1}", NULL},
    {"{\"payload\":\" [1, 2]\"}", ENV_DATA, "[1,2]", NULL},
    {"{\"body\":\"hello\"}", ENV_DATA, "\"hello\"", NULL},
    {"{\"body\":\"42\"}", ENV_DATA, "\"42\"", NULL},
    {"{\"data\":\"{broken\"}", ENV_DATA, "\"{broken\"", NULL},
    {"{\"data\":7}", ENV_DATA, "7", NULL},
    {"{\"data\":false}", ENV_DATA, "false", NULL},
    {"{\"data\":null,\"payload\":{\"p\":1}}", ENV_DATA, "{\"p\":1}", "{\"data\":null}"},
    {"{\"data\":{\"x\":[1,{\"y\":\"\\n\"}],\"z\":1.5e300}}", ENV_DATA,
     "{\"x\":[1,{\"y\":\"\\n\"}],\"z\":1.5e+300}", NULL},
    {"{\"data_base64\":\"aGk=\"}", ENV_DATA, "\"aGk=\"", NULL},
    {"{\"data_base64\":\"aGk=\",\"data\":{\"d\":1}}", ENV_DATA, "{\"d\":1}",
     "{\"data_base64\":\"aGk=\"}"},
    {"{\"data_base64\":\"{\\\"a\\\":1}\"}", ENV_DATA, "\"{\\\"a\\\":1}\"", NULL},
    /* schema version has no column: kept in attrs as written */
    {"{\"version\":\"2\",\"dataschema\":\"urn:x\"}", ENV_ID, NULL,
     "{\"version\":\"2\",\"dataschema\":\"urn:x\"}"},
    /* unmapped members: every JSON type, in order */
    {"{\"specversion\":\"1.0\",\"x\":[1,{\"y\":true},null],\"z\":1.5,\"i\":-2,\"u\":\"\\u00e9\\u0001\"}",
     ENV_ID, NULL,
     "{\"specversion\":\"1.0\",\"x\":[1,{\"y\":true},null],\"z\":1.5,\"i\":-2,\"u\":\"\xc3\xa9\\u0001\"}"},
    {"{\"r\":2.0,\"empty\":{},\"ea\":[]}", ENV_ID, NULL, "{\"r\":2.0,\"empty\":{},\"ea\":[]}"},
    /* trace context: hoisted to the top of attrs from any level, lowercase key */
    {"{\"id\":\"1\",\"metadata\":{\"traceparent\":\"00-a-b-01\",\"x\":1}}", ENV_ID, "1",
     "{\"traceparent\":\"00-a-b-01\",\"metadata\":{\"x\":1}}"},
    {"{\"headers\":{\"TraceParent\":\"t1\",\"tracestate\":\"s=1\"},\"traceparent\":\"t0\"}",
     ENV_ID, NULL,
     "{\"traceparent\":\"t0\",\"tracestate\":\"s=1\",\"headers\":{\"TraceParent\":\"t1\"}}"},
    {"{\"traceparent\":{\"bad\":1},\"meta\":{\"traceparent\":\"t\"}}", ENV_ID, NULL,
     "{\"traceparent\":{\"bad\":1},\"meta\":{\"traceparent\":\"t\"}}"},
    /* "x-" + a spelling: after every real spelling at its level, before nested ones */
    {"{\"X-Correlation-Id\":\"x\",\"correlation-id\":\"c\"}", ENV_CORRELATION, "c",
     "{\"X-Correlation-Id\":\"x\"}"},
    {"{\"X-Correlation-Id\":\"x\",\"meta\":{\"correlationId\":\"m\"}}", ENV_CORRELATION, "x",
     "{\"meta\":{\"correlationId\":\"m\"}}"},
    {"{\"headers\":{\"x-causation-id\":\"h\"}}", ENV_CAUSATION, "h", NULL},
    {"{\"x-metadata\":{\"id\":\"1\"}}", ENV_ID, NULL, "{\"x-metadata\":{\"id\":\"1\"}}"},
    {"{\"x-\":1,\"x\":2}", ENV_ID, NULL, "{\"x-\":1,\"x\":2}"},
    /* schema version spellings: no column, kept */
    {"{\"schemaVersion\":3}", ENV_ID, NULL, "{\"schemaVersion\":3}"},
    /* a container that is not an object is just a member */
    {"{\"metadata\":\"m\",\"meta\":[1]}", ENV_ID, NULL, "{\"metadata\":\"m\",\"meta\":[1]}"},
    /* containers nest one level only */
    {"{\"metadata\":{\"meta\":{\"id\":\"deep\"}}}", ENV_ID, NULL,
     "{\"metadata\":{\"meta\":{\"id\":\"deep\"}}}"},
    {"{}", ENV_ID, NULL, NULL},
};

static void test_shapes(void)
{
    size_t i;
    struct event ev;

    for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        CHECK_INT(norm(NULL, shapes[i].rec, &ev), ES_OK);
        report("shape", shapes[i].rec, field(&ev, shapes[i].attr), shapes[i].want);
        report("shape attrs", shapes[i].rec, ev.attrs, shapes[i].attrs);
        event_done(&ev);
    }
}

static void test_time_values(void)
{
    struct event ev;

    (void)norm(NULL, "{\"time\":\"2026-03-15T12:30:00.123456789+02:00\"}", &ev);
    CHECK_INT(ev.time_us, 1773570600123456LL);
    CHECK_STR(ev.time_raw, "2026-03-15T12:30:00.123456789+02:00");
    event_done(&ev);
    (void)norm(NULL, "{\"time\":\"yesterday\"}", &ev);
    CHECK_INT(ev.time_us, ES_TIME_NONE);
    event_done(&ev);
    (void)norm(NULL, "{\"ts\":1700000000123}", &ev);
    CHECK_INT(ev.time_us, 1700000000123000LL);
    event_done(&ev);
    (void)norm(NULL, "{\"ts\":1700000000123456789}", &ev);
    CHECK_INT(ev.time_us, 1700000000123456LL);
    event_done(&ev);
    (void)norm(NULL, "{\"timestamp\":1700000000.25}", &ev);
    CHECK_INT(ev.time_us, 1700000000250000LL);
    event_done(&ev);
    (void)norm(NULL, "{\"occurredAt\":\"1700000000\"}", &ev);
    CHECK_INT(ev.time_us, 1700000000000000LL);
    event_done(&ev);
    (void)norm(NULL, "{\"time\":1e300}", &ev);
    CHECK_INT(ev.time_us, ES_TIME_NONE);
    CHECK_STR(ev.time_raw, "1e+300");
    event_done(&ev);
}

static void test_preset_and_errors(void)
{
    struct event ev;
    const char *why = "unset";
    json_t *o;

    /* Not an object. */
    event_init(&ev);
    o = json_loads("[1]", 0, NULL);
    CHECK_INT(envelope_from_json(NULL, o, &ev, &why), ES_EINVALID);
    CHECK_STR(why, "not_an_object");
    json_decref(o);
    CHECK_INT(envelope_from_json(NULL, NULL, &ev, &why), ES_EINVALID);
    event_done(&ev);

    /* Fields a collector set are kept; source is overridden; preset attrs merged. */
    event_init(&ev);
    event_set_str(&ev.location, "f.log:3");
    event_set_str(&ev.source, "from-line");
    event_set_str(&ev.transport, "file");
    event_set_str(&ev.attrs, "{\"level\":\"INFO\",\"x\":0}");
    ev.observed_us = 5;
    o = json_loads("{\"service\":\"orders\",\"x\":1,\"y\":2}", 0, NULL);
    CHECK_INT(envelope_from_json(NULL, o, &ev, &why), ES_OK);
    CHECK(why == NULL);
    CHECK_STR(ev.location, "f.log:3");
    CHECK_STR(ev.source, "orders");
    CHECK_STR(ev.transport, "file");
    CHECK_INT(ev.observed_us, 5);
    CHECK_STR(ev.attrs, "{\"x\":1,\"y\":2,\"level\":\"INFO\"}");
    json_decref(o);
    /* no source in the record: the collector's stays */
    o = json_loads("{\"type\":\"T\"}", 0, NULL);
    event_set_str(&ev.attrs, NULL);
    CHECK_INT(envelope_from_json(NULL, o, &ev, NULL), ES_OK);
    CHECK_STR(ev.source, "orders");
    CHECK_STR(ev.type, "T");
    CHECK(ev.attrs == NULL);
    json_decref(o);
    event_done(&ev);
}

/* ---- Field maps ---------------------------------------------------------------------- */

static char *write_tmp(const char *text)
{
    char *path = xstrdup("/tmp/es_test_map_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        perror("mkstemp");
        exit(2);
    }
    close(fd);
    return path;
}

static void test_map_errors(void)
{
    static const struct {
        const char *text; /* NULL: missing file */
        int rc;
        const char *msg; /* substring of the error */
    } cases[] = {
        {NULL, ES_ENOTFOUND, "cannot open field map"},
        {"", ES_EINVALID, "line 1"},
        {"{\"id\": [\"a\"", ES_EINVALID, "line 1 column"},
        {"[\"id\"]", ES_EINVALID, "a field map is a JSON object"},
        {"{\"identity\": [\"a\"]}", ES_EINVALID, "unknown attribute \"identity\""},
        {"{\"id\": 3}", ES_EINVALID, "expected a list of paths"},
        {"{\"id\": []}", ES_EINVALID, "expected a list of paths"},
        {"{\"id\": [\"a\", 3]}", ES_EINVALID, "path 2 is not a string"},
        {"{\"id\": [\"a..b\"]}", ES_EINVALID, "bad path \"a..b\""},
        {"{\"id\": [\"\"]}", ES_EINVALID, "bad path"},
        {"{\"id\": [\".a\"]}", ES_EINVALID, "bad path"},
        {"{\"id\": [\"a.\"]}", ES_EINVALID, "bad path"},
        {"{\"id\": [\"a\"], \"id\": [\"b\"]}", ES_EINVALID, "duplicate"},
        {"{\"id\": [\"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q\"]}", ES_ETOOBIG, "too many"},
        {"{\"id\": \"x\", \"Correlation\": [\"ctx.corr\", \"corr\"], \"data\": [\"msg\"]}", ES_OK,
         ""},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "", *path;
        struct envelope_map *m = (struct envelope_map *)1;
        int rc;
        path = cases[i].text ? write_tmp(cases[i].text) : xstrdup("/nonexistent/es-map.json");
        rc = envelope_map_load(path, &m, err, sizeof err);
        check_count++;
        if (rc != cases[i].rc || strstr(err, cases[i].msg) == NULL ||
            (rc != ES_OK && (m != NULL || strstr(err, path) == NULL))) {
            check_failures++;
            fprintf(stderr, "map case %zu: rc %d (want %d) err \"%s\" (want \"%s\")\n", i, rc,
                    cases[i].rc, err, cases[i].msg);
        }
        envelope_map_free(rc == ES_OK ? m : NULL);
        if (cases[i].text)
            unlink(path);
        free(path);
    }
}

static void test_map_apply(void)
{
    static const struct {
        const char *rec;
        enum envelope_attr attr;
        const char *want;
        const char *attrs;
    } cases[] = {
        /* dotted path, consumed from its container (emptied containers disappear) */
        {"{\"ctx\":{\"corr\":\"c1\"},\"correlationId\":\"c0\"}", ENV_CORRELATION, "c1",
         "{\"correlationId\":\"c0\"}"},
        {"{\"ctx\":{\"corr\":\"c1\",\"k\":2}}", ENV_CORRELATION, "c1", "{\"ctx\":{\"k\":2}}"},
        /* second path when the first is missing or unusable; then the defaults */
        {"{\"ctx\":{\"corr\":{}},\"corr\":\"c2\"}", ENV_CORRELATION, "c2",
         "{\"ctx\":{\"corr\":{}}}"},
        {"{\"correlation_id\":\"c3\"}", ENV_CORRELATION, "c3", NULL},
        /* map paths beat the default spellings: "x" is the id, "id" stays in attrs */
        {"{\"id\":\"default\",\"x\":\"mapped\"}", ENV_ID, "mapped", "{\"id\":\"default\"}"},
        /* case-insensitive key match in a path */
        {"{\"CTX\":{\"Corr\":\"c4\"}}", ENV_CORRELATION, "c4", NULL},
        /* a literal key with a dot */
        {"{\"ctx.corr\":\"c5\"}", ENV_CORRELATION, "c5", NULL},
        /* data mapped to msg */
        {"{\"msg\":{\"m\":1},\"data\":2}", ENV_DATA, "{\"m\":1}", "{\"data\":2}"},
        /* a path through a non-object stops */
        {"{\"ctx\":\"str\"}", ENV_CORRELATION, NULL, "{\"ctx\":\"str\"}"},
    };
    char err[256];
    char *path = write_tmp("{\"id\": \"x\", \"correlation\": [\"ctx.corr\", \"corr\"], "
                           "\"data\": [\"msg\"]}");
    struct envelope_map *m = NULL;
    struct event ev;
    size_t i;

    CHECK_INT(envelope_map_load(path, &m, err, sizeof err), ES_OK);
    unlink(path);
    free(path);
    for (i = 0; m && i < sizeof cases / sizeof cases[0]; i++) {
        (void)norm(m, cases[i].rec, &ev);
        report("map", cases[i].rec, field(&ev, cases[i].attr), cases[i].want);
        report("map attrs", cases[i].rec, ev.attrs, cases[i].attrs);
        event_done(&ev);
    }
    envelope_map_free(m);
    envelope_map_free(NULL);
}

/* ---- Protocol bindings --------------------------------------------------------------- */

#define MAX_OUT 8

struct out {
    struct event ev[MAX_OUT];
    size_t n;
    int fail_at; /* emit returns ES_EIO for this index (-1: never) */
};

static int collect(void *ctx, struct event *ev)
{
    struct out *o = ctx;
    if ((int)o->n == o->fail_at)
        return ES_EIO;
    if (o->n < MAX_OUT)
        envelope_copy_event(&o->ev[o->n], ev);
    o->n++;
    return ES_OK;
}

static void out_done(struct out *o)
{
    size_t i;
    for (i = 0; i < o->n && i < MAX_OUT; i++)
        event_done(&o->ev[i]);
    o->n = 0;
}

#define H(n, v) {n, sizeof n - 1, v, sizeof v - 1}

struct bind_case {
    const char *name;
    enum envelope_binding b;
    struct envelope_header h[8];
    size_t nh;
    const char *body;
    size_t n_events;
    const char *why;
    /* checks on event 0 (NULL: must be absent) */
    const char *id, *type, *source, *corr, *time_raw, *data, *attrs, *location;
};

static const struct bind_case binds[] = {
    {"http binary, percent-decoded", ENV_BIND_HTTP,
     {H("ce-specversion", "1.0"), H("Ce-Id", "a%2Fb%20c"), H("CE-TYPE", "OrderPlaced"),
      H("ce-source", "/orders"), H("ce-correlationid", "c1"), H("Content-Type", "application/json"),
      H("traceparent", "00-t-p-01"), H("Host", "x")},
     8, "{\"o\":1}", 1, NULL, "a/b c", "OrderPlaced", "/orders", "c1", NULL, "{\"o\":1}",
     "{\"traceparent\":\"00-t-p-01\",\"specversion\":\"1.0\",\"datacontenttype\":\"application/"
     "json\",\"headers\":{\"Content-Type\":\"application/json\",\"Host\":\"x\"}}",
     "frame 7"},
    {"http binary, text body", ENV_BIND_HTTP,
     {H("ce-specversion", "1.0"), H("ce-id", "1"), H("ce-time", "2026-03-15T10:30:00Z")}, 3,
     "plain text", 1, NULL, "1", NULL, NULL, NULL, "2026-03-15T10:30:00Z", "\"plain text\"",
     "{\"specversion\":\"1.0\"}", "frame 7"},
    {"http binary, empty body", ENV_BIND_HTTP, {H("ce-specversion", "1.0"), H("ce-id", "1")}, 2,
     "", 1, NULL, "1", NULL, NULL, NULL, NULL, NULL, "{\"specversion\":\"1.0\"}", "frame 7"},
    {"http structured", ENV_BIND_HTTP,
     {H("content-type", "application/cloudevents+json; charset=utf-8"), H("ce-id", "ignored")},
     2,
     "{\"specversion\":\"1.0\",\"id\":\"s1\",\"type\":\"T\",\"source\":\"/s\","
     "\"data\":{\"a\":1}}",
     1, NULL, "s1", "T", "/s", NULL, NULL, "{\"a\":1}",
     "{\"specversion\":\"1.0\",\"headers\":{\"content-type\":\"application/cloudevents+json; "
     "charset=utf-8\",\"ce-id\":\"ignored\"}}",
     "frame 7"},
    {"http structured, not an object", ENV_BIND_HTTP,
     {H("Content-Type", "application/cloudevents+json")}, 1, "[1]", 1,
     "cloudevents_structured_not_object", NULL, NULL, NULL, NULL, NULL, "[1]",
     "{\"headers\":{\"Content-Type\":\"application/cloudevents+json\"}}", "frame 7"},
    {"http batch", ENV_BIND_HTTP, {H("Content-Type", "application/cloudevents-batch+json")}, 1,
     "[{\"id\":\"b0\",\"type\":\"A\"},{\"id\":\"b1\"},{\"id\":\"b2\"}]", 3, NULL, "b0", "A", NULL,
     NULL, NULL, NULL, "{\"headers\":{\"Content-Type\":\"application/cloudevents-batch+json\"}}",
     "frame 7#0"},
    {"http batch, bad element", ENV_BIND_HTTP,
     {H("Content-Type", "application/cloudevents-batch+json")}, 1, "[5,{\"id\":\"b1\"}]", 2,
     "cloudevents_batch_element_not_object", NULL, NULL, NULL, NULL, NULL, "5",
     "{\"headers\":{\"Content-Type\":\"application/cloudevents-batch+json\"}}", "frame 7#0"},
    {"http batch, not an array", ENV_BIND_HTTP,
     {H("Content-Type", "application/cloudevents-batch+json")}, 1, "{\"id\":\"x\"}", 1,
     "cloudevents_batch_not_array", NULL, NULL, NULL, NULL, NULL, "{\"id\":\"x\"}",
     "{\"headers\":{\"Content-Type\":\"application/cloudevents-batch+json\"}}", "frame 7"},
    {"kafka binary", ENV_BIND_KAFKA,
     {H("ce_specversion", "1.0"), H("ce_id", "k1"), H("ce_type", "OrderPlaced"),
      H("ce_source", "/o"), H("ce_causationid", "k0"), H("content-type", "application/json")},
     6, "{\"x\":1}", 1, NULL, "k1", "OrderPlaced", "/o", NULL, NULL, "{\"x\":1}",
     "{\"specversion\":\"1.0\",\"datacontenttype\":\"application/json\",\"headers\":{\"content-"
     "type\":\"application/json\"}}",
     "frame 7"},
    {"kafka plain JSON with spelled headers", ENV_BIND_KAFKA,
     {H("correlationId", "hc"), H("X-Correlation-Id", "hx"), H("eventType", "HT")}, 3,
     "{\"type\":\"BodyType\",\"n\":1}", 1, NULL, NULL, "BodyType", NULL, "hc", NULL, NULL,
     "{\"n\":1,\"headers\":{\"correlationId\":\"hc\",\"X-Correlation-Id\":\"hx\",\"eventType\":"
     "\"HT\"}}",
     "frame 7"},
    {"amqp 1.0 application properties", ENV_BIND_AMQP,
     {H("cloudEvents:specversion", "1.0"), H("cloudEvents:id", "a1"), H("cloudEvents_type", "T"),
      H("cloudevents:source", "/amqp")},
     4, "{\"d\":1}", 1, NULL, "a1", "T", "/amqp", NULL, NULL, "{\"d\":1}",
     "{\"specversion\":\"1.0\"}", "frame 7"},
    {"amqp 0-9-1 properties under a JSON body", ENV_BIND_AMQP,
     {H("message-id", "m1"), H("correlation-id", "c9"), H("timestamp", "1700000000"),
      H("app-id", "billing"), H("type", "HeaderType"), H("content-type", "application/json")},
     6, "{\"type\":\"PaymentAuthorised\",\"amount\":5}", 1, NULL, "m1", "PaymentAuthorised",
     "billing", "c9", "1700000000", NULL,
     "{\"amount\":5,\"headers\":{\"message-id\":\"m1\",\"correlation-id\":\"c9\",\"timestamp\":"
     "\"1700000000\",\"app-id\":\"billing\",\"type\":\"HeaderType\",\"content-type\":"
     "\"application/json\"}}",
     "frame 7"},
    {"amqp body wins over properties", ENV_BIND_AMQP,
     {H("message-id", "m1"), H("correlation-id", "c9")}, 2,
     "{\"id\":\"body-id\",\"correlationId\":\"body-c\"}", 1, NULL, "body-id", NULL, NULL,
     "body-c", NULL, NULL,
     "{\"headers\":{\"message-id\":\"m1\",\"correlation-id\":\"c9\"}}", "frame 7"},
    {"amqp binary body, not UTF-8", ENV_BIND_AMQP, {H("message-id", "m2")}, 1, "\xff\xfe", 1,
     NULL, "m2", NULL, NULL, NULL, NULL, "\"//4=\"",
     "{\"headers\":{\"message-id\":\"m2\"},\"dataencoding\":\"base64\"}", "frame 7"},
    {"mqtt 5 user properties, plain names", ENV_BIND_MQTT,
     {H("specversion", "1.0"), H("id", "q1"), H("type", "T"), H("source", "/mqtt"),
      H("content-type", "application/json"), H("correlationid", "cq")},
     6, "{\"m\":1}", 1, NULL, "q1", "T", "/mqtt", "cq", NULL, "{\"m\":1}",
     "{\"specversion\":\"1.0\",\"datacontenttype\":\"application/json\",\"headers\":{\"content-"
     "type\":\"application/json\"}}",
     "frame 7"},
    {"mqtt 5 ce- prefixed, correlation-data", ENV_BIND_MQTT,
     {H("ce-id", "q2"), H("correlation-data", "cd-1")}, 2, "{\"m\":1}", 1, NULL, "q2", NULL,
     NULL, "cd-1", NULL, "{\"m\":1}", "{\"headers\":{\"correlation-data\":\"cd-1\"}}", "frame 7"},
    {"mqtt without specversion: plain properties only fill", ENV_BIND_MQTT,
     {H("id", "p1"), H("region", "eu")}, 2, "{\"id\":\"b1\"}", 1, NULL, "b1", NULL, NULL, NULL,
     NULL, NULL, "{\"headers\":{\"id\":\"p1\",\"region\":\"eu\"}}", "frame 7"},
    {"nats ce- headers", ENV_BIND_NATS,
     {H("ce-specversion", "1.0"), H("ce-id", "n1"), H("ce-type", "T"),
      H("Nats-Msg-Id", "dedupe")},
     4, "{}", 1, NULL, "n1", "T", NULL, NULL, NULL, "{}",
     "{\"specversion\":\"1.0\",\"headers\":{\"Nats-Msg-Id\":\"dedupe\"}}", "frame 7"},
    {"nats plain names with specversion", ENV_BIND_NATS,
     {H("specversion", "1.0"), H("id", "n2"), H("traceparent", "00-x-y-01")}, 3, "", 1, NULL,
     "n2", NULL, NULL, NULL, NULL, NULL, "{\"traceparent\":\"00-x-y-01\",\"specversion\":\"1.0\"}",
     "frame 7"},
    {"no headers, text body", ENV_BIND_NATS, {{NULL, 0, NULL, 0}}, 0, "hello", 1, NULL, NULL,
     NULL, NULL, NULL, NULL, "\"hello\"", NULL, "frame 7"},
    {"http percent-decoding: bad escapes kept", ENV_BIND_HTTP,
     {H("ce-id", "%zz%4"), H("ce-type", "%E2%82%AC%"), H("ce-source", "%ff")}, 3, "", 1, NULL,
     "%zz%4", "\xe2\x82\xac%", "\xef\xbf\xbd", NULL, NULL, NULL, NULL, "frame 7"},
    {"header names: invalid UTF-8 replaced, kept", ENV_BIND_KAFKA,
     {{"x\xff", 2, "v", 1}, {"\0", 1, "n", 1}}, 2, "", 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     "{\"headers\":{\"x\xef\xbf\xbd\":\"v\",\"\xef\xbf\xbd\":\"n\"}}", "frame 7"},
    {"header values: invalid UTF-8 and NUL replaced", ENV_BIND_KAFKA,
     {{"ce_id", 5, "a\xff\0b", 4}, H("ce_specversion", "1.0")}, 2, "", 1, NULL,
     "a\xef\xbf\xbd\xef\xbf\xbd" "b", NULL, NULL, NULL, NULL, NULL, "{\"specversion\":\"1.0\"}",
     "frame 7"},
};

static void check_field(const char *what, size_t i, const char *got, const char *want)
{
    check_count++;
    if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0)) {
        check_failures++;
        fprintf(stderr, "binding case %zu (%s): %s = %s, want %s\n", i, binds[i].name, what,
                got ? got : "(null)", want ? want : "(null)");
    }
}

static void test_bindings(void)
{
    struct event tmpl;
    size_t i;

    event_init(&tmpl);
    event_set_str(&tmpl.location, "frame 7");
    event_set_str(&tmpl.transport, "http");
    event_set_str(&tmpl.direction, "publish");
    tmpl.observed_us = 99;
    for (i = 0; i < sizeof binds / sizeof binds[0]; i++) {
        const struct bind_case *bc = &binds[i];
        struct out o = {.n = 0, .fail_at = -1};
        const char *why = "unset";
        int rc = envelope_from_message(NULL, bc->b, bc->h, bc->nh, (const uint8_t *)bc->body,
                                       strlen(bc->body), &tmpl, collect, &o, &why);
        CHECK_INT(rc, ES_OK);
        if (o.n != bc->n_events) {
            check_failures++;
            fprintf(stderr, "binding case %zu (%s): %zu events, want %zu\n", i, bc->name, o.n,
                    bc->n_events);
        }
        check_field("why", i, why, bc->why);
        if (o.n > 0) {
            struct event *ev = &o.ev[0];
            check_field("id", i, ev->event_id, bc->id);
            check_field("type", i, ev->type, bc->type);
            check_field("source", i, ev->source, bc->source);
            check_field("correlation", i, ev->correlation_id, bc->corr);
            check_field("time_raw", i, ev->time_raw, bc->time_raw);
            check_field("data", i, ev->data, bc->data);
            check_field("attrs", i, ev->attrs, bc->attrs);
            check_field("location", i, ev->location, bc->location);
            check_field("transport", i, ev->transport, "http");
            check_field("direction", i, ev->direction, "publish");
            CHECK_INT(ev->observed_us, 99);
        }
        out_done(&o);
    }
    event_done(&tmpl);
}

static void test_binding_details(void)
{
    static const struct envelope_header amqp[] = {H("timestamp", "1700000000"),
                                                  H("correlation-id", "c")};
    static const struct envelope_header batch[] = {
        H("content-type", "Application/CloudEvents-Batch+JSON")};
    struct out o = {.n = 0, .fail_at = -1};
    const char *why;
    struct event tmpl;
    const char *three = "[{\"id\":\"1\"},{\"id\":\"2\"},{\"id\":\"3\"}]";

    /* AMQP timestamp (epoch seconds) becomes the time. */
    CHECK_INT(envelope_from_message(NULL, ENV_BIND_AMQP, amqp, 2, (const uint8_t *)"{}", 2, NULL,
                                    collect, &o, &why),
              ES_OK);
    CHECK_INT(o.n, 1);
    CHECK_INT(o.ev[0].time_us, 1700000000000000LL);
    CHECK(o.ev[0].location == NULL);
    out_done(&o);

    /* Batch: one event per element, locations unique; emit's error stops and is returned. */
    event_init(&tmpl);
    event_set_str(&tmpl.location, "orders@5");
    event_set_str(&tmpl.attrs, "{\"partition\":0}");
    CHECK_INT(envelope_from_message(NULL, ENV_BIND_HTTP, batch, 1, (const uint8_t *)three,
                                    strlen(three), &tmpl, collect, &o, &why),
              ES_OK);
    CHECK_INT(o.n, 3);
    CHECK_STR(o.ev[2].event_id, "3");
    CHECK_STR(o.ev[2].location, "orders@5#2");
    CHECK_STR(o.ev[1].attrs,
              "{\"partition\":0,\"headers\":{\"content-type\":\"Application/CloudEvents-Batch+JSON\"}}");
    CHECK_STR(tmpl.attrs, "{\"partition\":0}"); /* the template is not modified */
    out_done(&o);
    o.fail_at = 1;
    CHECK_INT(envelope_from_message(NULL, ENV_BIND_HTTP, batch, 1, (const uint8_t *)three,
                                    strlen(three), &tmpl, collect, &o, &why),
              ES_EIO);
    CHECK_INT(o.n, 1);
    out_done(&o);
    event_done(&tmpl);

    /* 2026-11-23 fuzz_envelope: a text body holding NUL is binary (base64), not "\u0000". */
    {
        static const struct envelope_header kh[] = {H("ce_id", "z")};
        o.fail_at = -1;
        CHECK_INT(envelope_from_message(NULL, ENV_BIND_KAFKA, kh, 1, (const uint8_t *)"a\0b", 3,
                                        NULL, collect, &o, &why),
                  ES_OK);
        CHECK_STR(o.ev[0].event_id, "z");
        CHECK_STR(o.ev[0].data, "\"YQBi\"");
        CHECK_STR(o.ev[0].attrs, "{\"dataencoding\":\"base64\"}");
        out_done(&o);
    }
    /* A JSON body with a top-level "headers" object merges with the transport headers. */
    {
        static const struct envelope_header hh[] = {H("X-Req", "r1")};
        const char *body = "{\"headers\":{\"correlationId\":\"c\",\"k\":1}}";
        o.fail_at = -1;
        CHECK_INT(envelope_from_message(NULL, ENV_BIND_HTTP, hh, 1, (const uint8_t *)body,
                                        strlen(body), NULL, collect, &o, &why),
                  ES_OK);
        CHECK_STR(o.ev[0].correlation_id, "c");
        CHECK_STR(o.ev[0].attrs, "{\"headers\":{\"k\":1,\"X-Req\":\"r1\"}}");
        out_done(&o);
    }
}

/* The field map applies to message bodies and to header-carried attributes too. */
static void test_message_map(void)
{
    static const struct envelope_header hh[] = {H("X-Corr", "from-header")};
    char err[256], *path = write_tmp("{\"correlation\": [\"ctx.corr\", \"x-corr\"]}");
    struct envelope_map *m = NULL;
    struct out o = {.n = 0, .fail_at = -1};
    const char *why, *b1 = "{\"ctx\":{\"corr\":\"from-body\"}}", *b2 = "{\"type\":\"T\"}";

    CHECK_INT(envelope_map_load(path, &m, err, sizeof err), ES_OK);
    unlink(path);
    free(path);
    CHECK_INT(envelope_from_message(m, ENV_BIND_HTTP, hh, 1, (const uint8_t *)b1, strlen(b1), NULL,
                                    collect, &o, &why),
              ES_OK);
    CHECK_STR(o.ev[0].correlation_id, "from-body");
    out_done(&o);
    CHECK_INT(envelope_from_message(m, ENV_BIND_HTTP, hh, 1, (const uint8_t *)b2, strlen(b2), NULL,
                                    collect, &o, &why),
              ES_OK);
    CHECK_STR(o.ev[0].correlation_id, "from-header");
    CHECK_STR(o.ev[0].type, "T");
    out_done(&o);
    envelope_map_free(m);
}

/* Preset attrs that are not a JSON object are replaced, never merged into broken JSON. */
static void test_preset_garbage(void)
{
    static const char *const presets[] = {"", "not json", "[1]", "{\"a\":", "null"};
    size_t i;
    struct event ev;
    json_t *o = json_loads("{\"k\":1}", 0, NULL);

    for (i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        event_init(&ev);
        event_set_str(&ev.attrs, presets[i]);
        CHECK_INT(envelope_from_json(NULL, o, &ev, NULL), ES_OK);
        CHECK_STR(ev.attrs, "{\"k\":1}");
        event_done(&ev);
    }
    json_decref(o);
}

static void test_copy(void)
{
    struct event a, b;

    event_init(&a);
    event_set_str(&a.event_id, "x");
    event_set_str(&a.attrs, "{}");
    a.time_us = 3;
    a.observed_us = 4;
    a.payload_hash = 5;
    envelope_copy_event(&b, &a);
    CHECK_STR(b.event_id, "x");
    CHECK(b.event_id != a.event_id);
    CHECK_STR(b.attrs, "{}");
    CHECK(b.type == NULL);
    CHECK_INT(b.time_us, 3);
    CHECK_INT(b.observed_us, 4);
    CHECK_INT(b.payload_hash, 5);
    event_done(&a);
    event_done(&b);
}

/*
 * Transport attributes handed over as values (envelope_from_message_buf's ta) give what
 * their JSON object as the template's attrs gives; strings that are not UTF-8 or hold a NUL
 * are left out, the others kept.
 */
static void test_transport_attrs(void)
{
    static const struct envelope_tattr ta[] = {
        {"b", ENV_TATTR_BOOL, NULL, 0, 1},
        {"dst", ENV_TATTR_STR, "10.0.0.2:80", 11, 0},
        {"esc", ENV_TATTR_STR, "q\"b\\s\x01\n\xc3\xa9", 9, 0},
        {"f", ENV_TATTR_BOOL, NULL, 0, 0},
        {"headers", ENV_TATTR_STR, "not an object", 13, 0},
        {"min", ENV_TATTR_INT, NULL, 0, INT64_MIN},
        {"n", ENV_TATTR_INT, NULL, 0, 42},
        {"nul", ENV_TATTR_STR, "a\0b", 3, 0},
        {"type", ENV_TATTR_STR, "FromTransport", 13, 0},
        {"utf", ENV_TATTR_STR, "\xff", 1, 0},
    };
    static const struct envelope_header h[] = {{"ce-id", 5, "e1", 2}, {"ce-type", 7, "T", 1},
                                               {"X-Trace", 7, "t", 1}};
    static const char *const bodies[] = {"{\"k\":1}", "", "not json", "{\"id\":\"r\",\"n\":7}"};
    struct envelope_msgbuf *b = envelope_msgbuf_new();
    struct event tmpl;
    size_t i, k;

    event_init(&tmpl);
    event_set_str(&tmpl.location, "frame 3");
    for (i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        for (k = 0; k < 2; k++) {
            struct out a = {.n = 0, .fail_at = -1}, t = {.n = 0, .fail_at = -1};
            size_t nh = k ? 3 : 0;
            const uint8_t *body = (const uint8_t *)bodies[i];
            const char *why;
            CHECK_INT(envelope_from_message_buf(b, NULL, ENV_BIND_HTTP, h, nh, body,
                                                strlen(bodies[i]), &tmpl, ta,
                                                sizeof ta / sizeof ta[0], collect, &a, &why),
                      ES_OK);
            event_set_str(&tmpl.attrs, "{\"b\":true,\"dst\":\"10.0.0.2:80\","
                                       "\"esc\":\"q\\\"b\\\\s\\u0001\\n\u00e9\",\"f\":false,"
                                       "\"headers\":\"not an object\",\"min\":-9223372036854775808,"
                                       "\"n\":42,\"type\":\"FromTransport\"}");
            CHECK_INT(envelope_from_message_buf(b, NULL, ENV_BIND_HTTP, h, nh, body,
                                                strlen(bodies[i]), &tmpl, NULL, 0, collect, &t,
                                                &why),
                      ES_OK);
            event_set_str(&tmpl.attrs, NULL);
            CHECK_INT((int)a.n, 1);
            CHECK_INT((int)t.n, 1);
            if (a.n == 1 && t.n == 1) {
#define X(f) CHECK_STR(a.ev[0].f ? a.ev[0].f : "(null)", t.ev[0].f ? t.ev[0].f : "(null)");
                EVENT_STR_FIELDS(X)
#undef X
                CHECK(a.ev[0].attrs && strstr(a.ev[0].attrs, "\"dst\":\"10.0.0.2:80\"") &&
                      strstr(a.ev[0].attrs, "\"min\":-9223372036854775808") &&
                      !strstr(a.ev[0].attrs, "\"nul\"") && !strstr(a.ev[0].attrs, "\"utf\""));
            }
            out_done(&a);
            out_done(&t);
        }
    event_done(&tmpl);
    envelope_msgbuf_free(b);
}

int main(void)
{
    test_transport_attrs();
    test_every_spelling();
    test_shapes();
    test_time_values();
    test_preset_and_errors();
    test_map_errors();
    test_map_apply();
    test_bindings();
    test_binding_details();
    test_message_map();
    test_preset_garbage();
    test_copy();
    return CHECK_DONE();
}
