/* Unit tests for core/store.c: creation, reopening, refusals, idempotent adds, rejects,
 * fault injection, bulk loads, storage segments and the upgrade from schema 1, and a
 * concurrent reader. */
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

/* CHECK(cond) that shows the plan when it fails. */
#define CHECK_PLAN(cond, plan)                                                                     \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fprintf(stderr, "plan: %s\n", plan);                                                   \
        CHECK(cond);                                                                               \
    } while (0)

/* The plan SQLite picks for sql on db: the detail column of its EXPLAIN QUERY PLAN rows. */
static void plan_of(sqlite3 *db, const char *sql, char *out, size_t len)
{
    char *q = xasprintf("EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *s;
    size_t o = 0;

    out[0] = '\0';
    if (sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK) {
        while (sqlite3_step(s) == SQLITE_ROW && o < len)
            o += (size_t)snprintf(out + o, len - o, "%s; ", (const char *)sqlite3_column_text(s, 3));
        sqlite3_finalize(s);
    }
    free(q);
}

/* The plans readers rely on, seen from a plain sqlite3 connection as a user would open it. */
static void check_plans(const char *path)
{
    sqlite3 *db;
    char plan[512];

    CHECK_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    plan_of(db, "SELECT * FROM events WHERE event_id = 'evt-12'", plan, sizeof plan);
    CHECK_PLAN(strstr(plan, "USING INDEX events_event_id") != NULL, plan);
    plan_of(db, "SELECT * FROM events WHERE causation_id = 'evt-12'", plan, sizeof plan);
    CHECK_PLAN(strstr(plan, "USING INDEX events_causation") != NULL, plan);
    plan_of(db, "SELECT seq, correlation_id, type FROM events WHERE event_id = ?1 ORDER BY seq"
                " LIMIT 1", plan, sizeof plan);
    CHECK_PLAN(strstr(plan, "INDEX events_event_id") != NULL, plan);
    plan_of(db, "SELECT * FROM events WHERE correlation_id = 'corr-2'", plan, sizeof plan);
    CHECK_PLAN(strstr(plan, "USING INDEX events_correlation") != NULL, plan);
    /* The analyzer and the TUI walk processes in correlation order: no sort of the store. */
    plan_of(db, "SELECT seq FROM events WHERE correlation_id IS NOT NULL"
                " ORDER BY correlation_id, seq", plan, sizeof plan);
    CHECK_PLAN(strstr(plan, "events_correlation") != NULL && strstr(plan, "TEMP B-TREE") == NULL,
               plan);
    plan_of(db, "SELECT * FROM events WHERE time_us > 5", plan, sizeof plan);
    CHECK_PLAN(strstr(plan, "USING INDEX events_time") != NULL, plan);
    sqlite3_close(db);
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
    /* The rebuilt segment-led indexes have their statistics back: lookups by id use them. */
    check_plans(path);

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

/* Schema 2: every row carries its segment, lookups by id use the segment-led indexes. */
static void test_segments(void)
{
    char *path = tpath("seg.db"), err[512];
    struct store *st;
    int64_t origin;

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    CHECK_INT(store_origin(st, "file", "seg.jsonl", &origin), ES_OK);
    CHECK_INT(add_range(st, origin, 0, 300), 300);
    CHECK_INT(store_commit(st), ES_OK);
    /* One row in the middle of a later transaction starts far along: its seg follows seq. */
    CHECK_INT(sqlite3_exec(store_db(st), "UPDATE events SET seq = 1048575 WHERE seq = 300",
                           NULL, NULL, NULL),
              SQLITE_OK);
    CHECK_INT(add_range(st, origin, 300, 303), 3);
    CHECK_INT(store_commit(st), ES_OK);
    /* (the moved row keeps the segment it was written in) */
    CHECK_INT(count(st, "SELECT count(*) FROM events WHERE seg IS NOT (seq >> 19)"
                        " AND seq <> 1048575"),
              0);
    CHECK_INT(count(st, "SELECT min(seq) FROM events WHERE seg = 2"), 1048576);
    CHECK_INT(count(st, "SELECT count(DISTINCT seg) FROM events"), 2);
    CHECK_INT(count(st, "SELECT max(seg) FROM events"), 2);
    CHECK_INT(count(st, "SELECT count(*) FROM events WHERE event_id = 'evt-301'"), 1);
    CHECK_INT(count(st, "SELECT count(*) FROM events WHERE causation_id = 'evt-300'"), 1);
    CHECK_INT(count(st, "SELECT count(*) FROM events WHERE event_id = 'evt-12'"), 1);
    CHECK_INT(count(st, "SELECT count(*) FROM pragma_index_info('events_event_id')"), 2);
    store_close(st);
    check_plans(path);
    free(path);
}

/* A store written by schema 1 is upgraded in place: rows kept (seg NULL), indexes rebuilt. */
static void test_upgrade_v1(void)
{
    char *path = tpath("v1.db"), err[512];
    struct store *st;
    sqlite3 *db;
    int64_t origin;
    int i;

    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db,
                           "PRAGMA journal_mode = WAL;"
                           "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
                           "CREATE TABLE origins(id INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
                           " uri TEXT NOT NULL, first_seen TEXT NOT NULL, UNIQUE(kind, uri));"
                           "CREATE TABLE events(seq INTEGER PRIMARY KEY, origin_id INTEGER,"
                           " location TEXT, event_id TEXT, type TEXT, source TEXT, subject TEXT,"
                           " partition_key TEXT, sequence TEXT, time_us INTEGER, time_raw TEXT,"
                           " observed_us INTEGER, correlation_id TEXT, causation_id TEXT,"
                           " transport TEXT, channel TEXT, direction TEXT, vclock TEXT,"
                           " payload_hash INTEGER, data TEXT, attrs TEXT,"
                           " UNIQUE(origin_id, location));"
                           "CREATE TABLE findings(id INTEGER PRIMARY KEY, kind TEXT, severity TEXT,"
                           " correlation_id TEXT, event_seq INTEGER, related_seq INTEGER,"
                           " message TEXT, detail TEXT);"
                           "CREATE TABLE rejects(origin_id INTEGER, location TEXT, reason TEXT,"
                           " excerpt TEXT, UNIQUE(origin_id, location, reason));"
                           "CREATE INDEX findings_correlation ON findings(correlation_id);"
                           "CREATE INDEX findings_event ON findings(event_seq);"
                           "CREATE INDEX events_correlation ON events(correlation_id);"
                           "CREATE INDEX events_causation ON events(causation_id);"
                           "CREATE INDEX events_event_id ON events(event_id);"
                           "CREATE INDEX events_time ON events(time_us);"
                           "INSERT INTO meta VALUES ('application', 'eventscope'),"
                           " ('schema_version', '1'), ('created_at', '2026-11-01T00:00:00Z');"
                           "INSERT INTO origins VALUES (1, 'file', 'old.jsonl', '2026-11-01');",
                           NULL, NULL, NULL),
              SQLITE_OK);
    for (i = 0; i < 20; i++) {
        char *sql = xasprintf("INSERT INTO events(origin_id, location, event_id, causation_id,"
                              " correlation_id, time_us) VALUES (1, 'old.jsonl:%d', 'old-%d',"
                              " %s, 'corr-old', %d)",
                              i + 1, i, i ? "'old-0'" : "NULL", i);
        CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        free(sql);
    }
    sqlite3_close(db);

    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    CHECK_INT(count(st, "SELECT value FROM meta WHERE key = 'schema_version'"), 2);
    CHECK_INT(count(st, "SELECT count(*) FROM events WHERE seg IS NULL"), 20);
    CHECK_INT(count(st, "SELECT count(*) FROM pragma_index_info('events_event_id')"), 2);
    CHECK_INT(count(st, "SELECT count(*) FROM pragma_index_info('events_causation')"), 2);
    CHECK_INT(count(st, "SELECT count(*) FROM sqlite_stat1 WHERE idx = 'events_event_id'"), 1);
    CHECK_INT(store_origin(st, "file", "seg.jsonl", &origin), ES_OK);
    CHECK_INT(add_range(st, origin, 0, 30), 30);
    CHECK_INT(store_commit(st), ES_OK);
    CHECK_INT(count(st, "SELECT count(*) FROM events WHERE seg = 0"), 30);
    /* Old and new rows are found through the same index. */
    CHECK_INT(count(st, "SELECT count(*) FROM events WHERE causation_id = 'old-0'"), 19);
    CHECK_INT(count(st, "SELECT count(*) FROM events WHERE event_id = 'old-7'"), 1);
    CHECK_INT(count(st, "SELECT count(*) FROM events WHERE event_id = 'evt-12'"), 1);
    store_close(st);
    /* Reopening does not migrate again. */
    CHECK_INT(store_open(path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    CHECK_INT(count(st, "SELECT count(*) FROM events"), 50);
    CHECK_INT(count(st, "SELECT count(*) FROM meta WHERE key = 'schema_version'"), 1);
    store_close(st);
    check_plans(path);
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
    test_segments();
    test_upgrade_v1();
    test_concurrent_reader();
    if (check_failures == 0) {
        char *cmd = xasprintf("rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
        free(cmd);
    }
    return CHECK_DONE();
}
