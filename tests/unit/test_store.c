/* Unit tests for core/store.c: creation, reopening, refusals, idempotent adds, rejects,
 * fault injection, bulk loads and a concurrent reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "core/store.h"
#include "core/xmalloc.h"

static char dir[] = "/tmp/es_test_store_XXXXXX";

static char *tpath(const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

/* Whole file into a malloc'd buffer (*len bytes); NULL when missing. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    *len = 0;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = xmalloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

static void spit(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, len, f);
    fclose(f);
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static int64_t count(struct store *st, const char *sql)
{
    sqlite3_stmt *s;
    int64_t n = -1;

    if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
        return -2;
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

static void make_event(struct event *ev, int i)
{
    char buf[64];

    event_init(ev);
    snprintf(buf, sizeof buf, "orders.jsonl:%d", i + 1);
    event_set_str(&ev->location, buf);
    snprintf(buf, sizeof buf, "evt-%d", i);
    event_set_str(&ev->event_id, buf);
    event_set_str(&ev->type, i % 2 ? "PaymentAuthorised" : "OrderPlaced");
    event_set_str(&ev->source, "orders");
    snprintf(buf, sizeof buf, "corr-%d", i / 5);
    event_set_str(&ev->correlation_id, buf);
    if (i % 5) {
        snprintf(buf, sizeof buf, "evt-%d", i - 1);
        event_set_str(&ev->causation_id, buf);
    }
    event_set_str(&ev->data, "{\"amount\":12}");
    ev->payload_hash = event_hash(ev->data, strlen(ev->data));
    ev->time_us = 1700000000000000LL + i;
    event_set_str(&ev->transport, "file");
    event_set_str(&ev->direction, "log");
}

/* Adds events [from, to) to origin; returns how many were new. */
static int add_range(struct store *st, int64_t origin, int from, int to)
{
    struct event ev;
    int i, added, n = 0;

    for (i = from; i < to; i++) {
        make_event(&ev, i);
        if (store_add_event(st, origin, &ev, &added) != ES_OK) {
            event_done(&ev);
            return -1;
        }
        n += added;
        event_done(&ev);
    }
    return n;
}

static void test_create_reopen(void)
{
    char *path = tpath("a.db"), *wal = tpath("a.db-wal");
    char err[512], val[64];
    struct store *st = NULL;
    struct event ev;
    struct stat sb;
    int64_t origin = 0, origin2 = 0;
    sqlite3_stmt *s;

    CHECK_INT(store_open(path, 0, &st, err, sizeof err), ES_ENOTFOUND);
    CHECK(st == NULL);
    CHECK(strstr(err, path) != NULL);
    CHECK(!file_exists(path));

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    CHECK(st != NULL);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK_INT(store_origin(st, "file", "orders.jsonl", &origin), ES_OK);
    CHECK_INT(store_origin(st, "file", "orders.jsonl", &origin2), ES_OK);
    CHECK_INT(origin, origin2);
    CHECK_INT(add_range(st, origin, 0, 100), 100);
    CHECK_INT(store_commit(st), ES_OK);
    if (stat(wal, &sb) == 0)
        CHECK_INT(sb.st_mode & 0777, 0600);
    /* Re-adding the same (origin, location) adds nothing. */
    CHECK_INT(add_range(st, origin, 0, 100), 0);
    CHECK_INT(add_range(st, origin, 50, 150), 50);
    CHECK_INT(store_origin(st, "file", "other.jsonl", &origin2), ES_OK);
    CHECK(origin2 != origin);
    CHECK_INT(add_range(st, origin2, 0, 10), 10);
    store_close(st);

    CHECK_INT(store_open(path, STORE_READONLY, &st, err, sizeof err), ES_OK);
    CHECK_INT(count(st, "SELECT count(*) FROM events"), 160);
    CHECK_INT(count(st, "SELECT count(*) FROM origins"), 2);
    CHECK_INT(count(st, "SELECT value FROM meta WHERE key = 'schema_version'"), STORE_SCHEMA_VERSION);
    CHECK_INT(count(st, "SELECT count(*) FROM meta WHERE key = 'created_at' AND value LIKE '20%Z'"),
              1);
    CHECK_INT(count(st, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
                        "('events_correlation','events_causation','events_event_id','events_time')"),
              4);
    /* Every column of DESIGN.md, in order, with values round-tripped. */
    CHECK_INT(sqlite3_prepare_v2(store_db(st),
                                 "SELECT seq, origin_id, location, event_id, type, source, subject,"
                                 " partition_key, sequence, time_us, time_raw, observed_us,"
                                 " correlation_id, causation_id, transport, channel, direction,"
                                 " vclock, payload_hash, data, attrs FROM events"
                                 " WHERE location = 'orders.jsonl:8' AND origin_id = ?1",
                                 -1, &s, NULL),
              SQLITE_OK);
    sqlite3_bind_int64(s, 1, origin);
    CHECK_INT(sqlite3_step(s), SQLITE_ROW);
    make_event(&ev, 7);
    CHECK_STR((const char *)sqlite3_column_text(s, 3), "evt-7");
    CHECK_STR((const char *)sqlite3_column_text(s, 4), "PaymentAuthorised");
    CHECK_STR((const char *)sqlite3_column_text(s, 12), "corr-1");
    CHECK_STR((const char *)sqlite3_column_text(s, 13), "evt-6");
    CHECK_INT(sqlite3_column_int64(s, 9), 1700000000000007LL);
    CHECK_INT(sqlite3_column_type(s, 11), SQLITE_NULL);
    CHECK_INT(sqlite3_column_type(s, 6), SQLITE_NULL);
    CHECK_INT((uint64_t)sqlite3_column_int64(s, 18), ev.payload_hash);
    CHECK_STR((const char *)sqlite3_column_text(s, 19), "{\"amount\":12}");
    event_done(&ev);
    sqlite3_finalize(s);
    /* A read-only handle cannot write. */
    CHECK(sqlite3_exec(store_db(st), "DELETE FROM events", NULL, NULL, NULL) != SQLITE_OK);
    store_close(st);

    /* Reopen read-write: nothing migrates twice, data is kept. */
    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    CHECK_INT(count(st, "SELECT count(*) FROM events"), 160);
    CHECK_INT(count(st, "SELECT count(*) FROM meta WHERE key = 'schema_version'"), 1);
    CHECK_INT(sqlite3_prepare_v2(store_db(st), "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_step(s), SQLITE_ROW);
    snprintf(val, sizeof val, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    CHECK_STR(val, "wal");
    /* A user's query by correlation_id uses an index. */
    CHECK_INT(sqlite3_prepare_v2(store_db(st),
                                 "EXPLAIN QUERY PLAN SELECT * FROM events WHERE correlation_id = ?",
                                 -1, &s, NULL),
              SQLITE_OK);
    CHECK_INT(sqlite3_step(s), SQLITE_ROW);
    CHECK(strstr((const char *)sqlite3_column_text(s, 3), "USING INDEX events_correlation") != NULL);
    sqlite3_finalize(s);
    store_close(st);
    free(path);
    free(wal);
}

/* Opening path must fail with ES_EFOREIGN, name the path, and leave the bytes alone. */
static void expect_refused(const char *path, unsigned flags, const char *why)
{
    char err[512], *before, *after, *wal;
    size_t blen, alen;
    struct store *st = NULL;
    int rc;

    before = slurp(path, &blen);
    rc = store_open(path, flags, &st, err, sizeof err);
    if (rc != ES_EFOREIGN)
        fprintf(stderr, "%s: expected refusal, got %d: %s\n", why, rc, err);
    CHECK_INT(rc, ES_EFOREIGN);
    CHECK(st == NULL);
    CHECK(strstr(err, path) != NULL);
    CHECK(strlen(err) > strlen(path) + 20);
    after = slurp(path, &alen);
    CHECK_INT(alen, blen);
    CHECK(before && after && memcmp(before, after, blen) == 0);
    wal = xasprintf("%s-wal", path);
    CHECK(!file_exists(wal));
    free(wal);
    wal = xasprintf("%s-shm", path);
    CHECK(!file_exists(wal));
    store_close(st);
    free(wal);
    free(before);
    free(after);
}

static void test_foreign(void)
{
    char *text = tpath("notes.txt"), *other = tpath("other.db"), *newer = tpath("newer.db");
    char *corrupt = tpath("corrupt.db"), *otherwal = tpath("otherwal.db"), err[512], *buf;
    struct store *st;
    sqlite3 *db;
    size_t len;
    static const char notes[] = "these are my notes, not a database\n";

    spit(text, notes, sizeof notes - 1);
    expect_refused(text, STORE_CREATE, "text file");
    expect_refused(text, STORE_READONLY, "text file, read-only");

    /* An SQLite database of another application. */
    CHECK_INT(sqlite3_open(other, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);"
                               "CREATE TABLE meta(key TEXT, value TEXT);",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    expect_refused(other, STORE_CREATE, "other sqlite db");
    expect_refused(other, STORE_READONLY, "other sqlite db, read-only");

    /* Another application's database in WAL mode: no -wal or -shm file appears beside it. */
    CHECK_INT(sqlite3_open(otherwal, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE t(x);", NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    expect_refused(otherwal, STORE_CREATE, "other sqlite db in WAL mode");

    /* A store written by a newer eventscope. */
    CHECK_INT(store_open(newer, STORE_CREATE, &st, err, sizeof err), ES_OK);
    store_close(st);
    CHECK_INT(sqlite3_open(newer, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version';"
                               "PRAGMA journal_mode = DELETE;",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    expect_refused(newer, STORE_CREATE, "newer schema");
    expect_refused(newer, STORE_READONLY, "newer schema, read-only");

    /* The SQLite header followed by garbage. */
    buf = xmalloc(8192);
    memset(buf, 0x5a, 8192);
    memcpy(buf, "SQLite format 3", 16);
    spit(corrupt, buf, 8192);
    expect_refused(corrupt, STORE_CREATE, "corrupt");
    free(buf);

    /* A directory. */
    CHECK_INT(store_open(dir, STORE_CREATE, &st, err, sizeof err), ES_EFOREIGN);
    CHECK(strstr(err, dir) != NULL);
    (void)len;
    free(text);
    free(other);
    free(newer);
    free(corrupt);
    free(otherwal);
}

static void test_rejects(void)
{
    char *path = tpath("rej.db"), err[512];
    struct store *st;
    int64_t origin;
    sqlite3_stmt *s;
    static const char bad[] = "{\"id\":\x00\xff\"x\"}";

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    CHECK_INT(store_origin(st, "file", "bad.jsonl", &origin), ES_OK);
    CHECK_INT(store_add_reject(st, origin, "bad.jsonl:3", "json_syntax_error", bad, sizeof bad - 1),
              ES_OK);
    CHECK_INT(store_add_reject(st, origin, "bad.jsonl:3", "json_syntax_error", bad, sizeof bad - 1),
              ES_OK);
    CHECK_INT(store_add_reject(st, origin, "bad.jsonl:9", "empty_record", NULL, 0), ES_OK);
    CHECK_INT(store_commit(st), ES_OK);
    CHECK_INT(count(st, "SELECT count(*) FROM rejects"), 2);
    CHECK_INT(sqlite3_prepare_v2(store_db(st),
                                 "SELECT origin_id, location, reason, excerpt FROM rejects"
                                 " ORDER BY location",
                                 -1, &s, NULL),
              SQLITE_OK);
    CHECK_INT(sqlite3_step(s), SQLITE_ROW);
    CHECK_INT(sqlite3_column_int64(s, 0), origin);
    CHECK_STR((const char *)sqlite3_column_text(s, 1), "bad.jsonl:3");
    CHECK_STR((const char *)sqlite3_column_text(s, 2), "json_syntax_error");
    CHECK_STR((const char *)sqlite3_column_text(s, 3), "{\"id\":\xef\xbf\xbd\xef\xbf\xbd\"x\"}");
    CHECK_INT(sqlite3_step(s), SQLITE_ROW);
    CHECK_INT(sqlite3_column_type(s, 3), SQLITE_NULL);
    sqlite3_finalize(s);
    store_close(st);
    free(path);
}

static void test_faults(void)
{
    char *path = tpath("fault.db"), err[512];
    struct store *st;
    int64_t origin;
    int n, failed = 0, rc;

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    CHECK_INT(store_origin(st, "file", "f.jsonl", &origin), ES_OK);
    CHECK_INT(add_range(st, origin, 0, 100), 100);
    CHECK_INT(store_commit(st), ES_OK);
    /* The third SQLite call from now fails: part of an uncommitted batch is lost, no more. */
    store_fault_after(3);
    CHECK_INT(add_range(st, origin, 100, 200), -1);
    CHECK(strstr(store_errmsg(st), "injected") != NULL);
    store_fault_after(0);
    store_close(st);

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    CHECK_INT(count(st, "SELECT count(*) FROM events"), 100);
    CHECK_INT(count(st, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"),
              1);
    /* Failing later: each add either works or fails, the store stays valid and consistent. */
    for (n = 1; n < 40; n++) {
        store_fault_after(n);
        rc = add_range(st, origin, 200 + n * 10, 210 + n * 10);
        if (rc == ES_OK || rc >= 0)
            rc = store_commit(st);
        else
            failed++;
        store_fault_after(0);
    }
    CHECK(failed > 0);
    store_close(st);

    /* Opening under faults: fails cleanly or opens; the file stays a good store. */
    for (n = 1; n < 30; n++) {
        char *p = xasprintf("%s/fault_open_%d.db", dir, n);
        store_fault_after(n);
        rc = store_open(p, STORE_CREATE, &st, err, sizeof err);
        store_fault_after(0);
        if (rc == ES_OK) {
            store_close(st);
        } else {
            CHECK(st == NULL);
            CHECK(strstr(err, p) != NULL);
        }
        CHECK_INT(store_open(p, STORE_CREATE, &st, err, sizeof err), ES_OK);
        if (st) {
            CHECK_INT(count(st, "SELECT count(*) FROM sqlite_schema WHERE name IN ('events',"
                                "'events_correlation','rejects','findings','origins')"),
                      5);
            store_close(st);
        }
        free(p);
    }
    free(path);
}

static void test_bulk(void)
{
    char *path = tpath("bulk.db"), err[512];
    struct store *st;
    int64_t origin;

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    CHECK_INT(store_origin(st, "file", "big.jsonl", &origin), ES_OK);
    CHECK_INT(store_bulk_begin(st, 5000), ES_OK);
    /* A small store: the random-key indexes are deferred, the time index stays. */
    CHECK_INT(count(st, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name LIKE "
                        "'events_%'"),
              1);
    CHECK_INT(count(st, "SELECT count(*) FROM meta WHERE key = 'indexes_deferred'"), 1);
    CHECK_INT(add_range(st, origin, 0, 5000), 5000);
    CHECK_INT(add_range(st, origin, 0, 10), 0); /* uniqueness holds during a bulk load */
    CHECK_INT(store_commit(st), ES_OK);
    CHECK_INT(count(st, "SELECT count(*) FROM events WHERE correlation_id = 'corr-7'"), 5);
    CHECK_INT(store_bulk_end(st), ES_OK);
    CHECK_INT(count(st, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name LIKE "
                        "'events_%'"),
              4);
    CHECK_INT(count(st, "SELECT count(*) FROM meta WHERE key = 'indexes_deferred'"), 0);
    CHECK_INT(count(st, "SELECT count(*) FROM events WHERE correlation_id = 'corr-7'"), 5);
    store_close(st);

    /* A bulk load whose process died leaves indexes deferred: the next open rebuilds them. */
    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    CHECK_INT(sqlite3_exec(store_db(st),
                           "DROP INDEX events_time; INSERT INTO meta VALUES"
                           " ('indexes_deferred', '999999999')",
                           NULL, NULL, NULL),
              SQLITE_OK);
    store_close(st);
    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    CHECK_INT(count(st, "SELECT count(*) FROM sqlite_schema WHERE name = 'events_time'"), 1);
    CHECK_INT(count(st, "SELECT count(*) FROM meta WHERE key = 'indexes_deferred'"), 0);
    store_close(st);
    free(path);
}

/* A writer process commits batches of 200 rows; a reader must only ever see whole batches. */
static void test_concurrent_reader(void)
{
    char *path = tpath("conc.db"), err[512];
    struct store *st, *rd;
    int64_t origin, n, last = 0;
    pid_t pid;
    int status, torn = 0, polls = 0, b;

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    store_close(st);
    pid = fork();
    if (pid == 0) {
        int ok = store_open(path, STORE_CREATE, &st, err, sizeof err) == ES_OK &&
                 store_origin(st, "file", "c.jsonl", &origin) == ES_OK &&
                 store_commit(st) == ES_OK;
        for (b = 0; ok && b < 50; b++)
            ok = add_range(st, origin, b * 200, b * 200 + 200) == 200 && store_commit(st) == ES_OK;
        store_close(st);
        _exit(ok ? 0 : 1);
    }
    CHECK_INT(store_open(path, STORE_READONLY, &rd, err, sizeof err), ES_OK);
    for (;;) {
        int done = waitpid(pid, &status, WNOHANG) == pid;
        n = count(rd, "SELECT count(*) FROM events");
        polls++;
        if (n < 0 || n % 200 != 0 || n < last)
            torn++;
        last = n;
        if (done)
            break;
    }
    CHECK_INT(torn, 0);
    CHECK(polls > 1);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_INT(count(rd, "SELECT count(*) FROM events"), 10000);
    store_close(rd);
    free(path);
}

int main(void)
{
    umask(022);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_create_reopen();
    test_foreign();
    test_rejects();
    test_faults();
    test_bulk();
    test_concurrent_reader();
    if (check_failures == 0) {
        char *cmd = xasprintf("rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
        free(cmd);
    }
    return CHECK_DONE();
}
