/* Unit tests for collector/sink.c: the threaded writer keeps order and counts, flush makes
 * everything visible, errors come back to the collector, idle rows get committed. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "collector/sink.h"
#include "core/xmalloc.h"

static char dir[] = "/tmp/es_test_sink_XXXXXX";

/* A separate connection, as another process (trace, tui) would have. */
static int64_t count_other(const char *path, const char *sql)
{
    sqlite3 *db;
    int64_t n;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return -3;
    n = check_sql_int(db, sql);
    sqlite3_close(db);
    return n;
}

static void fill(struct event *ev, int i, const char *file)
{
    char buf[64];

    event_init(ev);
    snprintf(buf, sizeof buf, "%s:%d", file, i + 1);
    event_set_str(&ev->location, buf);
    snprintf(buf, sizeof buf, "id-%d", i);
    event_set_str(&ev->event_id, buf);
    event_set_str(&ev->type, "OrderPlaced");
    snprintf(buf, sizeof buf, "{\"n\":%d}", i);
    event_set_str(&ev->data, buf);
}

static int rejects_seen;

static void on_reject(void *ctx, const char *location, const char *reason, const char *detail)
{
    (void)detail;
    CHECK(ctx == &rejects_seen);
    CHECK(strncmp(location, "a.jsonl:", 8) == 0);
    CHECK_STR(reason, "json_syntax_error");
    rejects_seen++;
}

static void test_order_counts(void)
{
    char *path = xasprintf("%s/order.db", dir), err[512];
    struct store *st;
    struct sink s;
    struct event ev;
    int i, rc = ES_OK;
    const int n = 20000;
    sqlite3_stmt *q;
    int in_order = 1, prev = 0, hash_ok;

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    sink_init(&s, st);
    s.on_reject = on_reject;
    s.reject_ctx = &rejects_seen;
    CHECK_INT(sink_origin(&s, "file", "a.jsonl"), ES_OK);
    for (i = 0; i < n && rc == ES_OK; i++) {
        if (i % 1000 == 999) {
            char loc[32];
            snprintf(loc, sizeof loc, "a.jsonl:%d", i + 1);
            rc = sink_reject(&s, loc, "json_syntax_error", "unexpected token", "{\"x\":", 5);
            continue;
        }
        fill(&ev, i, "a.jsonl");
        rc = sink_event_take(&s, &ev);
        CHECK(ev.location == NULL && ev.data == NULL); /* taken */
    }
    CHECK_INT(rc, ES_OK);
    CHECK_INT(sink_flush(&s), ES_OK);
    CHECK_INT(s.counts.stored, n - n / 1000);
    CHECK_INT(s.counts.present, 0);
    CHECK_INT(s.counts.rejected, n / 1000);
    CHECK_INT(rejects_seen, n / 1000);
    /* Flushed: another connection sees everything now. */
    CHECK_INT(count_other(path, "SELECT count(*) FROM events"), n - n / 1000);
    CHECK_INT(count_other(path, "SELECT count(*) FROM rejects"), n / 1000);

    /* Observation order is the order handed over. */
    CHECK_INT(sqlite3_prepare_v2(store_db(st), "SELECT event_id, payload_hash, data FROM events"
                                               " ORDER BY seq", -1, &q, NULL),
              SQLITE_OK);
    hash_ok = 1;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int k = atoi((const char *)sqlite3_column_text(q, 0) + 3);
        const char *data = (const char *)sqlite3_column_text(q, 2);
        if (k <= prev && prev != 0)
            in_order = 0;
        prev = k;
        if ((uint64_t)sqlite3_column_int64(q, 1) != event_hash(data, strlen(data)))
            hash_ok = 0;
    }
    sqlite3_finalize(q);
    CHECK(in_order);
    CHECK(hash_ok);
    CHECK_INT(prev, n - 2); /* n - 1 is a reject */

    /* The same input again adds nothing; a second origin adds its own rows. */
    for (i = 0; i < 100; i++) {
        fill(&ev, i, "a.jsonl");
        CHECK_INT(sink_event_take(&s, &ev), ES_OK);
    }
    CHECK_INT(sink_origin(&s, "file", "b.jsonl"), ES_OK);
    s.no_payload = 1;
    for (i = 0; i < 50; i++) {
        fill(&ev, i, "a.jsonl");
        CHECK_INT(sink_event_take(&s, &ev), ES_OK);
    }
    CHECK_INT(sink_done(&s), ES_OK);
    CHECK_INT(s.counts.present, 100);
    CHECK_INT(s.counts.stored, n - n / 1000 + 50);
    CHECK_INT(check_sql_int(store_db(st), "SELECT count(*) FROM events WHERE data IS NULL"), 50);
    CHECK_INT(check_sql_int(store_db(st), "SELECT count(DISTINCT origin_id) FROM events"), 2);
    store_close(st);
    free(path);
}

/* Rows handed over without a flush become visible on their own (the idle commit). */
static void test_idle_commit(void)
{
    char *path = xasprintf("%s/idle.db", dir), err[512];
    struct store *st;
    struct sink s;
    struct event ev;
    int i, waited;

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    sink_init(&s, st);
    CHECK_INT(sink_origin(&s, "tap", "mqtt://127.0.0.1:1883/#"), ES_OK);
    for (i = 0; i < 10; i++) {
        fill(&ev, i, "orders@0");
        CHECK_INT(sink_event_take(&s, &ev), ES_OK);
    }
    for (waited = 0; waited < 50; waited++) {
        if (count_other(path, "SELECT count(*) FROM events") == 10)
            break;
        usleep(100000);
    }
    CHECK_INT(count_other(path, "SELECT count(*) FROM events"), 10);
    CHECK_INT(sink_done(&s), ES_OK);
    CHECK_INT(s.counts.stored, 10);
    store_close(st);
    free(path);
}

/* sink_commit from another thread while the producer goes on: what was handed over before
 * the call is in the store when it returns (the tap hub's commits work this way). */
struct producer {
    struct sink *s;
    int n;
    int handed; /* atomic: events handed over so far */
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    struct event ev;
    int i;

    for (i = 0; i < p->n; i++) {
        fill(&ev, i, "orders@1");
        if (sink_event_take(p->s, &ev) != ES_OK)
            break;
        __atomic_store_n(&p->handed, i + 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static void test_commit_concurrent(void)
{
    char *path = xasprintf("%s/commit.db", dir), err[512];
    struct store *st;
    struct sink s;
    struct producer p;
    pthread_t th;
    int rounds = 0, before;

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    sink_init(&s, st);
    CHECK_INT(sink_origin(&s, "tap", "nats://127.0.0.1:4222/x"), ES_OK);
    p.s = &s;
    p.n = 60000;
    p.handed = 0;
    CHECK_INT(pthread_create(&th, NULL, produce, &p), 0);
    while ((before = __atomic_load_n(&p.handed, __ATOMIC_SEQ_CST)) < p.n) {
        CHECK_INT(sink_commit(&s), ES_OK);
        CHECK(count_other(path, "SELECT count(*) FROM events") >= before);
        rounds++;
    }
    pthread_join(th, NULL);
    CHECK(rounds > 0);
    CHECK_INT(sink_done(&s), ES_OK);
    CHECK_INT(s.counts.stored, 60000);
    CHECK_INT(count_other(path, "SELECT count(*) FROM events"), 60000);
    store_close(st);
    free(path);
}

/* A store failure in the writer comes back to the collector; the store stays valid. */
static void test_error(void)
{
    char *path = xasprintf("%s/err.db", dir), err[512];
    struct store *st;
    struct sink s;
    struct event ev;
    int i, rc = ES_OK, failed_at = -1;

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    sink_init(&s, st);
    CHECK_INT(sink_origin(&s, "file", "e.jsonl"), ES_OK);
    for (i = 0; i < 100; i++) {
        fill(&ev, i, "e.jsonl");
        CHECK_INT(sink_event_take(&s, &ev), ES_OK);
    }
    CHECK_INT(sink_flush(&s), ES_OK);
    store_fault_after(50);
    for (i = 100; i < 20000; i++) {
        fill(&ev, i, "e.jsonl");
        rc = sink_event_take(&s, &ev);
        if (rc != ES_OK) {
            failed_at = i;
            break;
        }
    }
    if (rc == ES_OK)
        rc = sink_flush(&s);
    CHECK_INT(rc, ES_ESTORE);
    CHECK(failed_at != 100); /* asynchronous: the error arrives on a later call */
    CHECK(strstr(store_errmsg(st), "injected") != NULL);
    fill(&ev, 99999, "e.jsonl");
    CHECK_INT(sink_event_take(&s, &ev), ES_ESTORE); /* sticky */
    CHECK(ev.location == NULL);
    CHECK_INT(sink_done(&s), ES_ESTORE);
    store_fault_after(0);
    store_close(st);

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    CHECK(check_sql_int(store_db(st), "SELECT count(*) FROM events") >= 100);
    CHECK_INT(check_sql_int(store_db(st), "SELECT count(*) FROM pragma_integrity_check WHERE"
                                  " integrity_check = 'ok'"),
              1);
    store_close(st);
    free(path);
}

/* A bulk load through the sink ends indexed, with the same rows. */
static void test_bulk(void)
{
    char *path = xasprintf("%s/bulk.db", dir), err[512];
    struct store *st;
    struct sink s;
    struct event ev;
    int i;

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    sink_init(&s, st);
    CHECK_INT(sink_origin(&s, "file", "big.jsonl"), ES_OK);
    CHECK_INT(sink_bulk_begin(&s, 30000), ES_OK);
    for (i = 0; i < 30000; i++) {
        fill(&ev, i, "big.jsonl");
        CHECK_INT(sink_event_take(&s, &ev), ES_OK);
    }
    CHECK_INT(sink_bulk_end(&s), ES_OK);
    CHECK_INT(count_other(path, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'events_%'"),
              4);
    CHECK_INT(count_other(path, "SELECT count(*) FROM events WHERE event_id = 'id-29999'"), 1);
    CHECK_INT(sink_done(&s), ES_OK);
    CHECK_INT(s.counts.stored, 30000);
    store_close(st);
    free(path);
}

/* sink_event_copy stores every field as given and leaves the caller's event as it was. */
static void test_copy(void)
{
    char *path = xasprintf("%s/copy.db", dir), err[512], *q;
    struct store *st;
    struct sink s;
    struct event ev;

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    sink_init(&s, st);
    CHECK_INT(sink_origin(&s, "pcap", "c.pcap"), ES_OK);
    fill(&ev, 7, "frame");
    event_set_str(&ev.source, "/orders");
    event_set_str(&ev.correlation_id, "corr-1");
    event_set_str(&ev.transport, "http");
    event_set_str(&ev.channel, "/events");
    event_set_str(&ev.direction, "publish");
    event_set_str(&ev.attrs, "{\"src\":\"10.0.0.1:5000\"}");
    ev.time_us = 1700000000123456;
    CHECK_INT(sink_event_copy(&s, &ev), ES_OK);
    /* the caller's event is untouched */
    CHECK_STR(ev.location, "frame:8");
    CHECK_STR(ev.data, "{\"n\":7}");
    CHECK_STR(ev.attrs, "{\"src\":\"10.0.0.1:5000\"}");
    CHECK(ev.subject == NULL);
    event_done(&ev);
    CHECK_INT(sink_done(&s), ES_OK);
    q = xasprintf("SELECT count(*) FROM events WHERE location = 'frame:8' AND event_id = 'id-7'"
                  " AND type = 'OrderPlaced' AND source = '/orders' AND subject IS NULL"
                  " AND correlation_id = 'corr-1' AND causation_id IS NULL AND transport = 'http'"
                  " AND channel = '/events' AND direction = 'publish' AND data = '{\"n\":7}'"
                  " AND attrs = '{\"src\":\"10.0.0.1:5000\"}' AND time_us = 1700000000123456"
                  " AND payload_hash = %lld",
                  (long long)event_hash("{\"n\":7}", 7));
    CHECK_INT(check_sql_int(store_db(st), q), 1);
    free(q);
    store_close(st);
    free(path);
}

int main(void)
{
    umask(022);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_order_counts();
    test_idle_commit();
    test_commit_concurrent();
    test_error();
    test_bulk();
    test_copy();
    if (check_failures == 0) {
        char *cmd = xasprintf("rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
        free(cmd);
    }
    return CHECK_DONE();
}
