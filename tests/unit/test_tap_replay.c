/* Replay lines (kcat -J, mosquitto_sub -F %j) into a real store: events, rejects, edges. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "collector/sink.h"
#include "collector/taps/tap_replay.h"

static struct store *st;
static char path[64];

static long long q1(const char *sql)
{
    sqlite3_stmt *s;
    long long v = -1;

    if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
        return -2;
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static char *qs(const char *sql)
{
    sqlite3_stmt *s;
    char *v = NULL;

    if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
        return NULL;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        v = strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
}

static int run(int format, const char *text, const char *origin)
{
    struct sink sk;
    char err[256] = "";
    int rc, rc2;

    sink_init(&sk, st);
    rc = sink_origin(&sk, "tap", origin);
    if (rc == ES_OK)
        rc = tap_replay_buffer(&sk, format, text, strlen(text), "in", err, sizeof err);
    rc2 = sink_done(&sk);
    if (rc != ES_OK)
        fprintf(stderr, "replay: %s\n", err);
    return rc != ES_OK ? rc : rc2;
}

struct line_case {
    int format;
    const char *line;
    int stored, rejected;
    const char *reason; /* of the reject, or NULL */
};

static const struct line_case cases[] = {
    {TAP_REPLAY_KCAT,
     "{\"topic\":\"o\",\"partition\":1,\"offset\":7,\"tstype\":\"create\",\"ts\":1700000000000,"
     "\"headers\":[\"ce_id\",\"e1\",\"ce_type\",\"T\"],\"key\":\"k\",\"payload\":\"{}\"}",
     1, 0, NULL},
    {TAP_REPLAY_KCAT, "{\"topic\":\"o\",\"partition\":1,\"offset\":8,\"payload\":null,\"key\":null}", 1, 0,
     NULL},
    {TAP_REPLAY_KCAT, "{\"topic\":\"o\",\"partition\":1}", 0, 1, "kcat_missing_field"},
    {TAP_REPLAY_KCAT, "{\"topic\":\"o\",\"partition\":1,\"offset\":9,\"headers\":[\"a\"]}", 0, 1,
     "kcat_bad_headers"},
    {TAP_REPLAY_KCAT, "{\"topic\":\"o\",\"partition\":1,\"offset\":9,\"headers\":[1,2]}", 0, 1,
     "kcat_bad_headers"},
    {TAP_REPLAY_KCAT, "{\"topic\":\"o\",\"partition\":1,\"offset\":9,\"payload\":5}", 0, 1,
     "kcat_bad_payload"},
    {TAP_REPLAY_KCAT, "{\"topic\":\"o\",\"topic\":\"p\",\"partition\":1,\"offset\":9}", 0, 1,
     "replay_bad_json"},
    {TAP_REPLAY_KCAT, "[1,2]", 0, 1, "replay_bad_json"},
    {TAP_REPLAY_KCAT, "   ", 0, 0, NULL},
    {TAP_REPLAY_MOSQUITTO_JSON,
     "{\"tst\":\"2026-11-23T22:28:59.893949Z+0000\",\"topic\":\"a/b\",\"qos\":1,\"retain\":0,"
     "\"payloadlen\":7,\"properties\":{\"user-properties\":{\"ce_id\":\"m1\"},"
     "\"content-type\":\"application/json\"},\"payload\":\"{\\\"x\\\":1}\"}",
     1, 0, NULL},
    {TAP_REPLAY_MOSQUITTO_JSON, "{\"qos\":1}", 0, 1, "mosquitto_missing_topic"},
    {TAP_REPLAY_MOSQUITTO_JSON, "{\"topic\":\"a\",\"properties\":[]}", 0, 1,
     "mosquitto_bad_properties"},
    {TAP_REPLAY_MOSQUITTO_JSON,
     "{\"topic\":\"a\",\"properties\":{\"user-properties\":{\"x\":1}}}", 0, 1,
     "mosquitto_bad_properties"},
};

static void test_lines(void)
{
    size_t i;
    char origin[64], sql[256];

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct line_case *c = &cases[i];
        long long ev0 = q1("select count(*) from events"), rj0 = q1("select count(*) from rejects");
        int before = check_failures;

        snprintf(origin, sizeof origin, "case-%zu", i);
        CHECK_INT(run(c->format, c->line, origin), ES_OK);
        CHECK_INT(q1("select count(*) from events") - ev0, c->stored);
        CHECK_INT(q1("select count(*) from rejects") - rj0, c->rejected);
        if (c->reason) {
            char *r;
            snprintf(sql, sizeof sql,
                     "select reason from rejects where origin_id = (select id from origins where uri='%s')",
                     origin);
            r = qs(sql);
            CHECK_STR(r, c->reason);
            free(r);
        }
        if (check_failures != before)
            fprintf(stderr, "  case %zu: %s\n", i, c->line);
    }
}

static void test_fields(void)
{
    char *s;

    s = qs("select location||'|'||event_id||'|'||type||'|'||partition_key||'|'||channel||'|'||"
           "transport||'|'||direction||'|'||observed_us from events where event_id='e1'");
    CHECK_STR(s, "o/1@7|e1|T|k|o|kafka|deliver|1700000000000000");
    free(s);
    s = qs("select json_extract(attrs,'$.partition')||'|'||json_extract(attrs,'$.offset')||'|'||"
           "json_extract(attrs,'$.kafka_timestamp_type') from events where event_id='e1'");
    CHECK_STR(s, "1|7|create");
    free(s);
    s = qs("select location||'|'||channel||'|'||transport||'|'||json_extract(attrs,'$.qos')||'|'||"
           "observed_us from events where event_id='m1'");
    CHECK_STR(s, "in:1|a/b|mqtt|1|1795472939893949");
    free(s);
}

static void test_multi(void)
{
    /* several lines, a bad one in the middle, no final newline; the line numbers count */
    const char *text = "{\"topic\":\"z\",\"partition\":0,\"offset\":1}\n"
                       "garbage\n"
                       "\n"
                       "{\"topic\":\"z\",\"partition\":0,\"offset\":2}";
    char *s;

    CHECK_INT(run(TAP_REPLAY_KCAT, text, "multi"), ES_OK);
    CHECK_INT(q1("select count(*) from events where channel='z'"), 2);
    s = qs("select location from rejects where origin_id=(select id from origins where uri='multi')");
    CHECK_STR(s, "in:2");
    free(s);
    /* the same again: nothing new */
    CHECK_INT(run(TAP_REPLAY_KCAT, text, "multi"), ES_OK);
    CHECK_INT(q1("select count(*) from events where channel='z'"), 2);
}

int main(void)
{
    char err[256];
    int fd;

    snprintf(path, sizeof path, "/tmp/es-test-tap-replay-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0)
        return perror("mkstemp"), 1;
    close(fd);
    unlink(path);
    if (store_open(path, STORE_CREATE, &st, err, sizeof err) != ES_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    CHECK_INT(tap_replay_format_parse("kcat"), TAP_REPLAY_KCAT);
    CHECK_INT(tap_replay_format_parse("mosquitto-json"), TAP_REPLAY_MOSQUITTO_JSON);
    CHECK_INT(tap_replay_format_parse("x"), 0);
    CHECK_STR(tap_replay_format_name(TAP_REPLAY_KCAT), "kcat");
    test_lines();
    test_fields();
    test_multi();
    store_close(st);
    unlink(path);
    snprintf(err, sizeof err, "%s-wal", path);
    unlink(err);
    snprintf(err, sizeof err, "%s-shm", path);
    unlink(err);
    return CHECK_DONE();
}
