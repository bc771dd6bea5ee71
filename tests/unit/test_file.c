/*
 * The file collector: every format with its edge cases (table-driven, each case run with
 * several read sizes so records straddle buffer refills), gzip, sniffing, the streaming
 * splitter's memory bound on a large generated array, and the line parsers directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "collector/file.h"
#include "core/xmalloc.h"
#include "tests/check.h"

/* ---- Capture of what the collector hands over ------------------------------------------ */

struct cap {
    char *out;      /* one line per event / reject */
    size_t len, size;
    char *msgs;     /* on_message lines */
    size_t mlen, msize;
    uint64_t events;
};

static void cap_add(char **buf, size_t *len, size_t *size, const char *line)
{
    size_t n = strlen(line);

    if (*len + n + 2 > *size) {
        *size = (*len + n + 2) * 2;
        *buf = xrealloc(*buf, *size);
    }
    memcpy(*buf + *len, line, n);
    *len += n;
    (*buf)[(*len)++] = '\n';
    (*buf)[*len] = '\0';
}

static int hook_event(void *ctx, struct event *ev)
{
    struct cap *c = ctx;
    char line[512], obs[40] = "";

    if (ev->observed_us != ES_TIME_NONE)
        snprintf(obs, sizeof obs, " obs=%lld", (long long)ev->observed_us);
    snprintf(line, sizeof line, "E %s id=%s type=%s src=%s%s", ev->location,
             ev->event_id ? ev->event_id : "-", ev->type ? ev->type : "-",
             ev->source ? ev->source : "-", obs);
    cap_add(&c->out, &c->len, &c->size, line);
    c->events++;
    event_done(ev);
    return ES_OK;
}

static int hook_reject(void *ctx, const char *loc, const char *reason, const char *detail,
                       const void *excerpt, size_t len)
{
    struct cap *c = ctx;
    char line[512];

    (void)detail, (void)excerpt, (void)len;
    snprintf(line, sizeof line, "R %s %s", loc, reason);
    cap_add(&c->out, &c->len, &c->size, line);
    return ES_OK;
}

static void hook_msg(void *ctx, enum file_msg kind, const char *name, const char *text)
{
    struct cap *c = ctx;
    char line[700];

    snprintf(line, sizeof line, "%s %s: %s",
             kind == FILE_MSG_ERROR ? "error" : kind == FILE_MSG_FORMAT ? "format" : "note", name,
             text);
    cap_add(&c->msgs, &c->mlen, &c->msize, line);
}

static void cap_free(struct cap *c)
{
    free(c->out);
    free(c->msgs);
    memset(c, 0, sizeof *c);
}

static void setup(struct file_ingest *fi, struct cap *c)
{
    memset(c, 0, sizeof *c);
    file_ingest_init(fi, NULL);
    fi->event_hook = hook_event;
    fi->reject_hook = hook_reject;
    fi->hook_ctx = c;
    fi->on_message = hook_msg;
    fi->ctx = c;
}

/* ---- Table of cases ------------------------------------------------------------------- */

struct fcase {
    const char *name;
    enum file_format fmt;
    const char *input;
    const char *expect; /* lines "E loc id= type= src=" / "R loc reason" */
    size_t max_line, max_element, max_depth; /* 0: defaults */
    uint64_t skipped;
};

/* Cases give only the limits they change. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define OBS_0 "1773570600123000" /* 2026-03-15T10:30:00.123Z */

static const struct fcase cases[] = {
    {"jsonl basic", FILE_FMT_JSONL,
     "{\"id\":\"1\",\"type\":\"A\",\"source\":\"s\"}\n{\"id\":\"2\",\"type\":\"B\",\"source\":\"s\"}\n",
     "E t:1 id=1 type=A src=s\nE t:2 id=2 type=B src=s\n"},
    {"jsonl blank lines, CRLF, no final newline", FILE_FMT_JSONL,
     "\r\n{\"id\":\"1\"}\r\n   \n\t{\"id\":\"2\"}  ",
     "E t:2 id=1 type=- src=-\nE t:4 id=2 type=- src=-\n"},
    {"jsonl bad records around good ones", FILE_FMT_JSONL,
     "{\"id\":\"1\"\n"            /* 1 truncated */
     "{\"id\":}\n"                /* 2 invalid */
     "{\"id\":\"\xff\"}\n"        /* 3 invalid UTF-8: kept, repaired */
     "{\"id\":\"a\",\"id\":\"b\"}\n" /* 4 duplicate key */
     "42\n"                       /* 5 not an object */
     "[{\"id\":\"x\"},{\"id\":\"y\"},7]\n" /* 6 a batch on one line */
     "{\"id\":\"ok\"}\n",
     "R t:1 truncated_json\nR t:2 invalid_json\nE t:3 id=\xef\xbf\xbd type=- src=-\n"
     "R t:4 duplicate_key\n"
     "R t:5 not_an_object\nE t:6 id=x type=- src=-\nE t:6#2 id=y type=- src=-\n"
     "R t:6#3 not_an_object\nE t:7 id=ok type=- src=-\n"},
    {"jsonl over-long line skipped, neighbours kept", FILE_FMT_JSONL,
     "{\"id\":\"1\"}\n{\"id\":\"this line is far longer than the limit of thirty-two\"}\n"
     "{\"id\":\"3\"}\n",
     "E t:1 id=1 type=- src=-\nR t:2 line_too_long\nE t:3 id=3 type=- src=-\n", 32},
    {"jsonl over-long last line without newline", FILE_FMT_JSONL,
     "{\"id\":\"1\"}\n{\"id\":\"this line is far longer than the limit of thirty-two\"}",
     "E t:1 id=1 type=- src=-\nR t:2 line_too_long\n", 32},
    {"json pretty-printed array", FILE_FMT_JSON,
     "[\n  {\n    \"id\": \"1\",\n    \"type\": \"A\"\n  },\n  {\n    \"id\": \"2\"\n  }\n]\n",
     "E t:2 id=1 type=A src=-\nE t:6 id=2 type=- src=-\n"},
    {"json minified array on one line", FILE_FMT_JSON,
     "[{\"id\":\"1\"},{\"id\":\"2\"},{\"id\":\"3\"}]",
     "E t:1 id=1 type=- src=-\nE t:1#2 id=2 type=- src=-\nE t:1#3 id=3 type=- src=-\n"},
    {"json concatenated objects, strings with brackets and escapes", FILE_FMT_JSON,
     "{\"id\":\"a}\\\"{[\"}\n{\n\"id\":\"b\\\\\"}{\"id\":\"c\"}",
     "E t:1 id=a}\"{[ type=- src=-\nE t:2 id=b\\ type=- src=-\nE t:3 id=c type=- src=-\n"},
    {"json garbage between objects resyncs at a line starting with {", FILE_FMT_JSON,
     "{\"id\":\"1\"}\nthis is not json\nnor this\n{\"id\":\"2\"}\n",
     "E t:1 id=1 type=- src=-\nR t:2 not_json\nE t:4 id=2 type=- src=-\n"},
    {"json truncated at the end", FILE_FMT_JSON, "[{\"id\":\"1\"},\n{\"id\":\"2\",\"type\":",
     "E t:1 id=1 type=- src=-\nR t:2 truncated_json\n"},
    {"json unterminated array", FILE_FMT_JSON, "[{\"id\":\"1\"},\n{\"id\":\"2\"}\n",
     "E t:1 id=1 type=- src=-\nE t:2 id=2 type=- src=-\nR t:3 unterminated_array\n"},
    {"json scalars and a bad element in an array", FILE_FMT_JSON,
     "[1, \"two\", {\"id\":\"3\"}, {\"id\" 4}, null]",
     "R t:1 not_an_object\nR t:1#2 not_an_object\nE t:1#3 id=3 type=- src=-\n"
     "R t:1#4 invalid_json\nR t:1#5 not_an_object\n"},
    {"json depth limit", FILE_FMT_JSON,
     "{\"id\":\"deep\",\"a\":{\"b\":{\"c\":{\"d\":{}}}}}\n{\"id\":\"ok\",\"a\":{}}\n",
     "R t:1 json_too_deep\nE t:2 id=ok type=- src=-\n", 0, 0, 4},
    {"json element size limit", FILE_FMT_JSON,
     "[{\"id\":\"big\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"},\n"
     "{\"id\":\"small\"}]",
     "R t:1 json_element_too_large\nE t:2 id=small type=- src=-\n", 0, 40},
    {"json empty input and empty array", FILE_FMT_JSON, "  []  \n", ""},
    {"applog variants", FILE_FMT_APPLOG,
     "2026-03-15T10:30:00.123Z INFO orders {\"id\":\"1\",\"type\":\"OrderPlaced\"}\n"
     "2026-03-15 10:30:00,123 [WARN] [payments] {\"id\":\"2\"}\n"
     "[2026-03-15 10:30:00.123] error inventory: placed {\"id\":\"3\"} took 3ms\n"
     "2026-03-15T10:30:00.123Z DEBUG {\"id\":\"4\",\"source\":\"own\"}\n"
     "2026-03-15T10:30:00.123Z INFO shipping {\"id\":\"5\",\"source\":\"own\"}\n"
     "2026-03-15T10:30:00.123Z INFO orders starting up, no json here\n"
     "\tat com.example.Foo(Foo.java:12)\n"
     "hello {\"id\":\"6\"}\n"
     "2026-03-15T10:30:00.123Z SHOUTING orders {\"id\":\"7\"}\n"
     "2026-03-15T10:30:00.123Z INFO orders {\"id\":\n",
     "E t:1 id=1 type=OrderPlaced src=orders obs=" OBS_0 "\n"
     "E t:2 id=2 type=- src=payments obs=" OBS_0 "\n"
     "E t:3 id=3 type=- src=inventory obs=" OBS_0 "\n"
     "E t:4 id=4 type=- src=own obs=" OBS_0 "\n"
     "E t:5 id=5 type=- src=own obs=" OBS_0 "\n"
     "R t:8 applog_no_timestamp\nR t:9 applog_no_level\nR t:10 truncated_json\n",
     0, 0, 0, 2},
    {"applog dialects: kubectl --timestamps, CRI, rsyslog, RFC 5424", FILE_FMT_APPLOG,
     "2026-03-15T10:30:00.123Z {\"id\":\"k1\"}\n"
     "2026-03-15T10:30:00.123Z stdout F {\"id\":\"k2\"}\n"
     "2026-03-15T10:30:01Z stderr F [2026-03-15 10:30:00.123] WARN payments {\"id\":\"k3\"}\n"
     "2026-03-15T10:30:00.123+00:00 host1 shipping[4242]: {\"id\":\"k4\"}\n"
     "<134>1 2026-03-15T10:30:00.123Z host1 billing 77 EV - {\"id\":\"k5\"}\n"
     "<134>1 2026-03-15T10:30:00.123Z host1 billing 77 EV [m@1 a=\"]\"] {\"id\":\"k6\"}\n"
     "<134>1 2026-03-15T10:30:00.123Z host1 - - - - {\"id\":\"k7\"}\n"
     "2026-03-15T10:30:00.123Z SHOUTING orders {\"id\":\"k8\"}\n"
     "orders-1  | {\"id\":\"k9\"}\n"
     "payments-1  | 2026-03-15T10:30:00.123Z INFO pay-svc {\"id\":\"k10\"}\n"
     "[pod/stock-7d9/stock] 2026-03-15T10:30:00.123Z {\"id\":\"k11\"}\n"
     "2026-03-15T10:30:00.123Z billing[7]: {\"id\":\"k12\"}\n",
     "E t:1 id=k1 type=- src=- obs=" OBS_0 "\n"
     "E t:2 id=k2 type=- src=- obs=" OBS_0 "\n"
     "E t:3 id=k3 type=- src=payments obs=" OBS_0 "\n"
     "E t:4 id=k4 type=- src=shipping obs=" OBS_0 "\n"
     "E t:5 id=k5 type=- src=billing obs=" OBS_0 "\n"
     "E t:6 id=k6 type=- src=billing obs=" OBS_0 "\n"
     "E t:7 id=k7 type=- src=- obs=" OBS_0 "\n"
     "R t:8 applog_no_level\n"
     "E t:9 id=k9 type=- src=orders-1\n"
     "E t:10 id=k10 type=- src=pay-svc obs=" OBS_0 "\n"
     "E t:11 id=k11 type=- src=stock obs=" OBS_0 "\n"
     "E t:12 id=k12 type=- src=billing obs=" OBS_0 "\n"},
    {"log wrappers: Docker json-file, message text, an event object", FILE_FMT_JSONL,
     "{\"log\":\"{\\\"id\\\":\\\"w1\\\",\\\"type\\\":\\\"OrderPlaced\\\"}\\n\","
     "\"stream\":\"stdout\",\"time\":\"2026-03-15T10:30:00.123Z\"}\n"
     "{\"@timestamp\":\"2026-03-15T10:30:00.123Z\",\"service\":{\"name\":\"payments\"},"
     "\"event\":{\"id\":\"w2\",\"type\":\"PaymentAuthorised\"}}\n"
     "{\"ts\":\"2026-03-15T10:30:00.123Z\",\"logger\":\"shipping\",\"msg\":\"{\\\"id\\\":\\\"w3\\\"}\"}\n"
     "{\"kubernetes\":{\"container_name\":\"stock\"},\"message\":\" {\\\"type\\\":\\\"T\\\"} \"}\n"
     "{\"msg\":\"{\\\"id\\\":\\\"inner\\\"}\",\"id\":\"w5\"}\n"
     "{\"log\":\"{\\\"a\\\":1}\"}\n"
     "{\"log\":\"{not json\"}\n",
     "E t:1 id=w1 type=OrderPlaced src=- obs=" OBS_0 "\n"
     "E t:2 id=w2 type=PaymentAuthorised src=payments obs=" OBS_0 "\n"
     "E t:3 id=w3 type=- src=shipping obs=" OBS_0 "\n"
     "E t:4 id=- type=T src=stock\n"
     "E t:5 id=w5 type=- src=-\n"
     "E t:6 id=- type=- src=-\n"
     "E t:7 id=- type=- src=-\n"},
    {"logfmt quoting and escapes", FILE_FMT_LOGFMT,
     "id=1 type=OrderPlaced source=\"order svc\" msg=\"say \\\"hi\\\" \\u00e9\\n\" debug\n"
     "# a comment\n"
     "id=2 msg=\"never closed\n"
     "just some words\n"
     "id=3 id=4\n"
     "id=5 x=\"a\"b\n"
     "id=6 source=\"\\ud83d\\ude00\"\n"
     "id=7 bad=\"\\ud800\"\n",
     "E t:1 id=1 type=OrderPlaced src=order svc\nR t:3 logfmt_unterminated_quote\n"
     "R t:4 not_logfmt\nR t:5 duplicate_key\nR t:6 logfmt_syntax\n"
     "E t:7 id=6 type=- src=\xf0\x9f\x98\x80\nR t:8 logfmt_bad_escape\n"},
    {"NUL bytes in each line format", FILE_FMT_LOGFMT, "id=1 a=b\nid=2 a=\0b\nid=3\n",
     "E t:1 id=1 type=- src=-\nR t:2 nul_byte\nE t:3 id=3 type=- src=-\n"},
};

/* Runs one case with a given read size; returns the output (owned). */
static char *run_case(const struct fcase *fc, size_t len, size_t chunk, uint64_t *skipped)
{
    struct file_ingest fi;
    struct cap c;
    char *out;
    int rc;

    setup(&fi, &c);
    fi.chunk = chunk;
    if (fc->max_line)
        fi.max_line = fc->max_line;
    if (fc->max_element)
        fi.max_element = fc->max_element;
    if (fc->max_depth)
        fi.max_depth = fc->max_depth;
    rc = file_ingest_buffer(&fi, fc->input, len, "t", fc->fmt);
    CHECK_INT(rc, ES_OK);
    *skipped = fi.skipped;
    out = c.out ? c.out : xstrdup("");
    c.out = NULL;
    cap_free(&c);
    return out;
}

static void test_cases(void)
{
    static const size_t chunks[] = {0, 1, 2, 3, 7, 64};
    size_t i, k, len;
    uint64_t skipped;
    char *out;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct fcase *fc = &cases[i];
        /* The NUL case holds a NUL: its length is known from the literal's layout. */
        len = strlen(fc->input);
        if (strstr(fc->name, "NUL") != NULL)
            len = sizeof "id=1 a=b\nid=2 a=\0b\nid=3\n" - 1;
        for (k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
            out = run_case(fc, len, chunks[k], &skipped);
            if (strcmp(out, fc->expect) != 0) {
                check_failures++;
                fprintf(stderr, "case %zu (%s), read size %zu:\n--- expected\n%s--- got\n%s---\n",
                        i, fc->name, chunks[k], fc->expect, out);
            }
            check_count++;
            CHECK_INT(skipped, fc->skipped);
            free(out);
        }
    }
}

/* ---- Deep nesting: jansson's limit in JSON lines, ours in documents ---------------------- */

static void test_deep(void)
{
    size_t n = 10000, i;
    char *buf = xmalloc(2 * n + 64), *out;
    struct fcase fc;
    uint64_t skipped;

    for (i = 0; i < n; i++)
        buf[i] = '[';
    for (i = 0; i < n; i++)
        buf[n + i] = ']';
    strcpy(buf + 2 * n, "\n{\"id\":\"after\"}\n");
    memset(&fc, 0, sizeof fc);
    fc.input = buf;
    fc.fmt = FILE_FMT_JSONL;
    out = run_case(&fc, strlen(buf), 0, &skipped);
    CHECK_STR(out, "R t:1 json_too_deep\nE t:2 id=after type=- src=-\n");
    free(out);
    /* The same as a document: a top-level array of arrays, too deep for the splitter. */
    fc.fmt = FILE_FMT_JSON;
    out = run_case(&fc, strlen(buf), 0, &skipped);
    CHECK_STR(out, "R t:1 json_too_deep\nE t:2 id=after type=- src=-\n");
    free(out);
    free(buf);
}

/* ---- gzip ------------------------------------------------------------------------------ */

static size_t gzip_mem(const char *in, size_t len, unsigned char *out, size_t cap)
{
    z_stream zs;

    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    zs.next_in = (unsigned char *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&zs);
        return 0;
    }
    deflateEnd(&zs);
    return cap - zs.avail_out;
}

static void test_gzip(void)
{
    const char *a = "{\"id\":\"1\"}\n{\"id\":\"2\"}\n", *b = "{\"id\":\"3\"}\n";
    unsigned char gz[4096];
    size_t n1, n2, chunk;
    struct file_ingest fi;
    struct cap c;

    n1 = gzip_mem(a, strlen(a), gz, sizeof gz);
    n2 = gzip_mem(b, strlen(b), gz + n1, sizeof gz - n1);
    CHECK(n1 > 0 && n2 > 0);
    for (chunk = 0; chunk < 5; chunk += 4) {
        /* Two gzip members one after the other, sniffed as gzip then JSON lines. */
        setup(&fi, &c);
        fi.chunk = chunk;
        CHECK_INT(file_ingest_buffer(&fi, gz, n1 + n2, "z", FILE_FMT_AUTO), ES_OK);
        CHECK_STR(c.out, "E z:1 id=1 type=- src=-\nE z:2 id=2 type=- src=-\n"
                         "E z:3 id=3 type=- src=-\n");
        CHECK(c.msgs && strstr(c.msgs, "format z: gzip, jsonl") != NULL);
        cap_free(&c);
    }
    /* Cut short: what was inflated is kept, then one gzip_corrupt reject. */
    setup(&fi, &c);
    CHECK_INT(file_ingest_buffer(&fi, gz, n1 - 6, "z", FILE_FMT_JSONL), ES_OK);
    CHECK(c.out && strstr(c.out, "gzip_corrupt") != NULL);
    CHECK(c.out && strncmp(c.out, "E z:1 id=1", 10) == 0);
    cap_free(&c);
    /* Damaged in the middle. */
    memcpy(gz + 12, "garbage!", 8);
    setup(&fi, &c);
    CHECK_INT(file_ingest_buffer(&fi, gz, n1, "z", FILE_FMT_JSONL), ES_OK);
    CHECK(c.out && strstr(c.out, "gzip_corrupt") != NULL);
    cap_free(&c);
}

/* ---- Sniffing ------------------------------------------------------------------------------ */

static void test_sniff(void)
{
    static const struct {
        const char *input, *expect;
    } sc[] = {
        {"{\"id\":\"1\"}\n{\"id\":\"2\"}\n", "format s: jsonl"},
        {"{\n  \"id\": \"1\"\n}\n", "format s: json"},
        {"  [ {\"id\":\"1\"} ]", "format s: json"},
        {"2026-03-15 10:30:00,123 INFO orders {\"id\":\"1\"}\n", "format s: applog"},
        {"2026-03-15T10:30:00.1Z stdout F {\"id\":\"1\"}\n", "format s: applog"},
        {"orders-1  | {\"id\":\"1\"}\n", "format s: applog"},
        {"<13>Mar 15 10:30:00 host1 orders[1]: {\"id\":\"1\"}\n", "format s: applog"},
        {"time=2026-03-15T10:30:00Z level=info id=1\n", "format s: logfmt"},
        {"\xef\xbb\xbf{\"id\":\"1\"}\n", "format s: jsonl"},
        {"\xd4\xc3\xb2\xa1\x02\x00\x04\x00", "format s: pcap"},
        {"hello world\n", "error s: cannot tell the format"},
        {"SQLite format 3\0", "error s: cannot tell the format: an SQLite database"},
        {"", "note s: empty"},
        {"{\"topic\":\"t\",\"partition\":0,\"offset\":1,\"payload\":\"x\"}\n", "format s: kcat"},
    };
    size_t i, len;
    struct file_ingest fi;
    struct cap c;

    for (i = 0; i < sizeof sc / sizeof sc[0]; i++) {
        setup(&fi, &c);
        len = strlen(sc[i].input);
        if (strncmp(sc[i].input, "\xd4\xc3", 2) == 0)
            len = 8;
        if (strncmp(sc[i].input, "SQLite", 6) == 0)
            len = 16;
        CHECK_INT(file_ingest_buffer(&fi, sc[i].input, len, "s", FILE_FMT_AUTO), ES_OK);
        if (c.msgs == NULL || strncmp(c.msgs, sc[i].expect, strlen(sc[i].expect)) != 0) {
            check_failures++;
            fprintf(stderr, "sniff case %zu: expected '%s...', got '%s'\n", i, sc[i].expect,
                    c.msgs ? c.msgs : "(nothing)");
        }
        check_count++;
        cap_free(&c);
    }
}

/* ---- Streaming: a large array through a real file, memory bounded ---------------------- */

static void test_stream(void)
{
    char path[] = "/tmp/es_test_file_XXXXXX";
    int fd = mkstemp(path);
    FILE *f;
    size_t n = 60000, i;
    struct file_ingest fi;
    struct cap c;
    long size;

    CHECK(fd >= 0);
    if (fd < 0)
        return;
    f = fdopen(fd, "w");
    fputs("[\n", f);
    for (i = 0; i < n; i++)
        fprintf(f,
                "  {\"id\": \"e%zu\", \"type\": \"OrderPlaced\", \"source\": \"orders\", "
                "\"data\": {\"note\": \"a string with } and ] and \\\" inside\", "
                "\"items\": [1, 2, 3], \"pad\": \"%0100d\"}}%s\n",
                i, 0, i + 1 < n ? "," : "");
    fputs("]\n", f);
    size = ftell(f);
    fclose(f);

    setup(&fi, &c);
    fi.format = FILE_FMT_JSON;
    CHECK_INT(file_ingest_path(&fi, path), ES_OK);
    CHECK_INT(c.events, n);
    CHECK_INT(fi.rejects, 0);
    CHECK_INT(fi.bytes, size);
    /* The file is ~14 MB; the read buffer never grew past its first size. */
    CHECK(size > 10 * (1 << 20));
    CHECK(fi.peak_buffer <= (size_t)2 << 20);
    if (c.out) {
        char want[80];
        snprintf(want, sizeof want, "E %s:%zu id=e%zu ", path, n + 1, n - 1);
        CHECK(strstr(c.out, want) != NULL);
    }
    cap_free(&c);

    /* The same file through a tiny element limit: every element rejected, memory flat. */
    setup(&fi, &c);
    fi.format = FILE_FMT_JSON;
    fi.max_element = 100;
    CHECK_INT(file_ingest_path(&fi, path), ES_OK);
    CHECK_INT(c.events, 0);
    CHECK_INT(fi.rejects, n);
    cap_free(&c);
    unlink(path);
}

/* ---- Paths: missing file, folder walk order ---------------------------------------------- */

static void test_paths(void)
{
    char dir[] = "/tmp/es_test_dir_XXXXXX", p[256];
    struct file_ingest fi;
    struct cap c;
    FILE *f;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(p, sizeof p, "%s/b.jsonl", dir);
    f = fopen(p, "w");
    fputs("{\"id\":\"b\"}\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/sub", dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/sub/c.log", dir);
    f = fopen(p, "w");
    fputs("2026-03-15T10:30:00.123Z INFO svc {\"id\":\"c\"}\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/a.jsonl", dir);
    f = fopen(p, "w");
    fputs("{\"id\":\"a\"}\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/.hidden", dir);
    f = fopen(p, "w");
    fputs("{\"id\":\"h\"}\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/notes.txt", dir);
    f = fopen(p, "w");
    fputs("just some notes\n", f);
    fclose(f);

    setup(&fi, &c);
    CHECK_INT(file_ingest_path(&fi, dir), ES_OK);
    CHECK(c.out != NULL);
    if (c.out) {
        char *a = strstr(c.out, "id=a"), *b = strstr(c.out, "id=b"), *cc = strstr(c.out, "id=c");
        CHECK(a && b && cc && a < b && b < cc);
        CHECK(strstr(c.out, "id=h") == NULL);
    }
    CHECK_INT(fi.failed, 0);
    CHECK(c.msgs && strstr(c.msgs, "notes.txt: skipped") != NULL);
    cap_free(&c);

    setup(&fi, &c);
    snprintf(p, sizeof p, "%s/missing.jsonl", dir);
    CHECK_INT(file_ingest_path(&fi, p), ES_OK);
    CHECK_INT(fi.failed, 1);
    CHECK(c.msgs && strstr(c.msgs, "cannot open") != NULL);
    cap_free(&c);

    snprintf(p, sizeof p, "rm -rf '%s'", dir);
    CHECK_INT(system(p), 0);
}

/* ---- The line parsers directly --------------------------------------------------------- */

static void test_applog_parse(void)
{
    struct file_applog al;
    const char *why = NULL;
    const char *l1 = "2026-03-15 10:30:00,123 [INFO] [orders]: {\"a\":1}";

    CHECK_INT(file_applog_parse(l1, strlen(l1), &al, &why), ES_OK);
    CHECK_INT(al.observed_us, 1773570600123000LL);
    CHECK(al.level_len == 4 && memcmp(al.level, "INFO", 4) == 0);
    CHECK(al.service_len == 6 && memcmp(al.service, "orders", 6) == 0);
    CHECK_INT(al.json_off, strlen(l1) - 7);
    CHECK_INT(file_applog_parse("no json", 7, &al, &why), ES_ENOTFOUND);
    CHECK_INT(file_applog_parse("2026-03-15T10:30:00Z {", 22, &al, &why), ES_OK);
    CHECK_INT(al.json_off, 21);
    CHECK_INT(file_applog_parse("2026-03-15T10:30:00Z LOUD x {", 29, &al, &why), ES_EINVALID);
    CHECK_STR(why, "applog_no_level");
    /* RFC 3164: no year (this year, or last if that would be days ahead), padded day */
    {
        static const char l2[] = "<13>Mar  5 10:30:00 host1 stock[1]: {\"id\":\"s1\"}";
        time_t now = time(NULL), t;
        struct tm tm, nowtm;
        CHECK_INT(file_applog_parse(l2, strlen(l2), &al, &why), ES_OK);
        CHECK(al.service_len == 5 && memcmp(al.service, "stock", 5) == 0);
        CHECK(al.level == NULL);
        CHECK_INT(al.json_off, strlen(l2) - 11);
        t = (time_t)(al.observed_us / 1000000);
        gmtime_r(&t, &tm);
        gmtime_r(&now, &nowtm);
        CHECK(tm.tm_mon == 2 && tm.tm_mday == 5 && tm.tm_hour == 10 && tm.tm_min == 30);
        CHECK(tm.tm_year == nowtm.tm_year || tm.tm_year == nowtm.tm_year - 1);
        CHECK(al.observed_us <= (int64_t)now * 1000000 + 2LL * 86400 * 1000000);
        CHECK_INT(file_applog_parse("Foo 15 10:30:00 h a: {", 22, &al, &why), ES_EINVALID);
    }
    /* Edge lengths: each dialect's prefix cut anywhere never reads past len. */
    {
        const char *lines[] = {
            l1, "2026-03-15T10:30:01Z stderr P [2026-03-15 10:30:00.123] WARN p {\"a\":1}",
            "<134>1 2026-03-15T10:30:00Z h app 7 M [x@1 a=\"b\"] {\"a\":1}",
            "<13>Mar  5 10:30:00 host1 stock[1]: {\"a\":1}",
            "payments-1  | 2026-03-15T10:30:00.123Z INFO pay-svc {\"a\":1}",
            "[pod/stock-7d9/stock] 2026-03-15T10:30:00.123Z {\"a\":1}"};
        size_t n, k;
        for (k = 0; k < sizeof lines / sizeof lines[0]; k++)
            for (n = 0; n <= strlen(lines[k]); n++) {
                char *cp = xmalloc(n ? n : 1);
                memcpy(cp, lines[k], n);
                int rc = file_applog_parse(cp, n, &al, &why);
                CHECK(rc == ES_OK || rc == ES_EINVALID || rc == ES_ENOTFOUND);
                CHECK(rc != ES_OK || al.json_off < n);
                free(cp);
            }
    }
}

static void test_logfmt_parse(void)
{
    json_t *o = NULL;
    const char *why = NULL;
    const char *l = "a=1 b=\"x y\" c";

    CHECK_INT(file_logfmt_parse(l, strlen(l), &o, &why), ES_OK);
    CHECK(o != NULL);
    if (o) {
        CHECK_STR(json_string_value(json_object_get(o, "a")), "1");
        CHECK_STR(json_string_value(json_object_get(o, "b")), "x y");
        CHECK(json_is_true(json_object_get(o, "c")));
        json_decref(o);
    }
    CHECK_INT(file_logfmt_parse("a=\"\\", 5, &o, &why), ES_EINVALID);
    CHECK_STR(why, "logfmt_unterminated_quote");
    CHECK_INT(file_logfmt_parse("a=\xff", 3, &o, &why), ES_EINVALID);
    CHECK_STR(why, "invalid_utf8");
    CHECK_INT(file_logfmt_parse("", 0, &o, &why), ES_EINVALID);
    CHECK_STR(why, "not_logfmt");
}

/* ---- The splitter: chunked scanning equals one-shot scanning ------------------------------ */

static void test_split(void)
{
    const char *doc = "[{\"a\":\"]\\\\\"},{\"b\":[1,{\"c\":\"}\"}]}]\n{\"d\":1}";
    struct file_split sp;
    struct file_split_item it;
    size_t pos = 0, n = strlen(doc);
    int count = 0, r;

    file_split_init(&sp, 16, 1024);
    while ((r = file_split_next(&sp, (const uint8_t *)doc, &pos, n, 1, &it)) != FILE_SPLIT_END) {
        CHECK_INT(r, FILE_SPLIT_ELEMENT);
        if (r != FILE_SPLIT_ELEMENT)
            break;
        count++;
        if (count == 1)
            CHECK(it.len == 11 && memcmp(doc + it.start, "{\"a\":\"]\\\\\"}", 11) == 0);
        if (count == 3)
            CHECK(it.line == 2 && it.len == 7);
    }
    CHECK_INT(count, 3);

    /* Rejects' excerpts stay inside the input (an exact-size copy: ASan sees overreads). */
    {
        static const char *const docs[] = {"{\"a\":\"0123456789\"}", "[\"0123456789\"]",
                                           "{{{{{{{{{{", "[1,2", "garbage", "{\"a\":"};
        size_t d;
        for (d = 0; d < sizeof docs / sizeof docs[0]; d++) {
            size_t len = strlen(docs[d]), steps = 0;
            uint8_t *copy = xmalloc(len);
            memcpy(copy, docs[d], len);
            file_split_init(&sp, 3, 8);
            pos = 0;
            while ((r = file_split_next(&sp, copy, &pos, len, 1, &it)) != FILE_SPLIT_END &&
                   steps++ < 10) {
                CHECK(it.start <= len && it.len <= len - it.start);
                if (it.start <= len && it.len <= len - it.start)
                    (void)event_hash(copy + it.start, it.len);
            }
            CHECK_INT(r, FILE_SPLIT_END);
            free(copy);
        }
    }
}

int main(void)
{
    test_cases();
    test_deep();
    test_gzip();
    test_sniff();
    test_stream();
    test_paths();
    test_applog_parse();
    test_logfmt_parse();
    test_split();
    return CHECK_DONE();
}
