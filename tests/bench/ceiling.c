/*
 * Benchmark ceiling: parses FILE (jansson + envelope_from_json, not timed) into memory,
 * then times only the inserts of those already-parsed rows into a fresh SQLite file with
 * the events table and the indexes of DESIGN.md, the way a careful C programmer would:
 * one prepared INSERT, transactions of 50,000 rows, WAL, synchronous=NORMAL, 64 MB cache.
 *
 *   ceiling DB FILE upfront   indexes declared before the load
 *   ceiling DB FILE after     indexes created after the load
 *   ceiling DB FILE store     the same rows through core/store.c (bulk load): our writer
 *
 * Prints "rows N seconds S rate R" for the timed part.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "core/envelope.h"
#include "core/store.h"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system, all threads) so far. */
static double cpu(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static const char schema[] =
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, origin_id INTEGER, location TEXT,"
    " event_id TEXT, type TEXT, source TEXT, subject TEXT, partition_key TEXT, sequence TEXT,"
    " time_us INTEGER, time_raw TEXT, observed_us INTEGER, correlation_id TEXT,"
    " causation_id TEXT, transport TEXT, channel TEXT, direction TEXT, vclock TEXT,"
    " payload_hash INTEGER, data TEXT, attrs TEXT, UNIQUE(origin_id, location));";
static const char indexes[] =
    "CREATE INDEX events_correlation ON events(correlation_id);"
    "CREATE INDEX events_causation ON events(causation_id);"
    "CREATE INDEX events_event_id ON events(event_id);"
    "CREATE INDEX events_time ON events(time_us);";

static void die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "ceiling: %s: %s\n", what, sqlite3_errmsg(db));
    exit(3);
}

static void exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die(db, sql);
}

static void bind_s(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static void bind_t(sqlite3_stmt *s, int i, int64_t v)
{
    if (v == ES_TIME_NONE)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_int64(s, i, v);
}

static void load_raw(const char *path, struct event *evs, size_t n, int upfront)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    size_t i, batch = getenv("CEIL_BATCH") ? strtoul(getenv("CEIL_BATCH"), NULL, 10) : 50000;
    double t0 = now(), c0 = cpu();

    if (sqlite3_open(path, &db) != SQLITE_OK)
        die(db, "open");
    {
        char pr[256];
        const char *c = getenv("CEIL_CACHE_KB"), *p = getenv("CEIL_PAGE");
        snprintf(pr, sizeof pr,
                 "PRAGMA page_size=%s; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 " PRAGMA cache_size=-%s",
                 p ? p : "4096", c ? c : "65536");
        exec(db, pr);
    }
    exec(db, schema);
    if (upfront)
        exec(db, indexes);
    if (sqlite3_prepare_v2(db,
                           "INSERT OR IGNORE INTO events(origin_id, location, event_id, type,"
                           " source, subject, partition_key, sequence, time_us, time_raw,"
                           " observed_us, correlation_id, causation_id, transport, channel,"
                           " direction, vclock, payload_hash, data, attrs) VALUES (?1, ?2, ?3,"
                           " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
                           " ?18, ?19, ?20)",
                           -1, &s, NULL) != SQLITE_OK)
        die(db, "prepare");
    exec(db, "BEGIN");
    for (i = 0; i < n; i++) {
        const struct event *ev = &evs[i];
        sqlite3_bind_int64(s, 1, 1);
        bind_s(s, 2, ev->location);
        bind_s(s, 3, ev->event_id);
        bind_s(s, 4, ev->type);
        bind_s(s, 5, ev->source);
        bind_s(s, 6, ev->subject);
        bind_s(s, 7, ev->partition_key);
        bind_s(s, 8, ev->sequence);
        bind_t(s, 9, ev->time_us);
        bind_s(s, 10, ev->time_raw);
        bind_t(s, 11, ev->observed_us);
        bind_s(s, 12, ev->correlation_id);
        bind_s(s, 13, ev->causation_id);
        bind_s(s, 14, ev->transport);
        bind_s(s, 15, ev->channel);
        bind_s(s, 16, ev->direction);
        bind_s(s, 17, ev->vclock);
        sqlite3_bind_int64(s, 18, (sqlite3_int64)ev->payload_hash);
        bind_s(s, 19, ev->data);
        bind_s(s, 20, ev->attrs);
        if (sqlite3_step(s) != SQLITE_DONE)
            die(db, "insert");
        sqlite3_reset(s);
        if (i % batch == batch - 1)
            exec(db, "COMMIT; BEGIN");
    }
    exec(db, "COMMIT");
    fprintf(stderr, "ceiling: insert %.2f s, cpu %.2f s\n", now() - t0, cpu() - c0);
    if (!upfront) {
        double t = now(), c = cpu();
        exec(db, indexes);
        fprintf(stderr, "ceiling: index build after the load %.2f s, cpu %.2f s\n", now() - t,
                cpu() - c);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void load_store(const char *path, const char *file, struct event *evs, size_t n)
{
    char err[512], uri[4200];
    struct timespec ts;
    struct store *st;
    int64_t origin;
    size_t i;
    int added;
    double t, c;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (store_open(path, STORE_CREATE, &st, err, sizeof err) != ES_OK) {
        fprintf(stderr, "ceiling: %s\n", err);
        exit(3);
    }
    /* A new origin per run: appending the same file twice must not just skip every row. */
    snprintf(uri, sizeof uri, "bench:%s:%ld.%09ld", file, (long)ts.tv_sec, ts.tv_nsec);
    if (store_origin(st, "file", uri, &origin) != ES_OK ||
        store_bulk_begin(st, n) != ES_OK)
        goto fail;
    t = now();
    c = cpu();
    for (i = 0; i < n; i++)
        if (store_add_event(st, origin, &evs[i], &added) != ES_OK)
            goto fail;
    if (store_commit(st) != ES_OK)
        goto fail;
    fprintf(stderr, "ceiling: store: insert %.2f s, cpu %.2f s\n", now() - t, cpu() - c);
    {
        int hit = 0, miss = 0, write = 0, spill = 0, hw;
        sqlite3_db_status(store_db(st), SQLITE_DBSTATUS_CACHE_HIT, &hit, &hw, 0);
        sqlite3_db_status(store_db(st), SQLITE_DBSTATUS_CACHE_MISS, &miss, &hw, 0);
        sqlite3_db_status(store_db(st), SQLITE_DBSTATUS_CACHE_WRITE, &write, &hw, 0);
        sqlite3_db_status(store_db(st), SQLITE_DBSTATUS_CACHE_SPILL, &spill, &hw, 0);
        fprintf(stderr, "ceiling: store: page cache hits %d misses %d writes %d spills %d\n",
                hit, miss, write, spill);
    }
    t = now();
    c = cpu();
    if (store_bulk_end(st) != ES_OK)
        goto fail;
    fprintf(stderr, "ceiling: store: index build at bulk end %.2f s, cpu %.2f s\n", now() - t,
            cpu() - c);
    store_close(st);
    return;
fail:
    fprintf(stderr, "ceiling: %s\n", store_errmsg(st));
    exit(3);
}

int main(int argc, char **argv)
{
    struct event *evs = NULL;
    size_t n = 0, cap = 0, lcap = 0;
    char *line = NULL, loc[64];
    ssize_t len;
    FILE *f;
    double t0, t, c0;

    if (argc < 4) {
        fprintf(stderr, "usage: ceiling DB FILE upfront|after|store\n");
        return 2;
    }
    f = fopen(argv[2], "r");
    if (f == NULL) {
        perror(argv[2]);
        return 3;
    }
    while ((len = getline(&line, &lcap, f)) > 0) {
        json_t *obj = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
        const char *why;
        if (obj == NULL)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            evs = realloc(evs, cap * sizeof *evs);
        }
        event_init(&evs[n]);
        snprintf(loc, sizeof loc, "bench:%zu", n + 1);
        event_set_str(&evs[n].location, loc);
        event_set_str(&evs[n].transport, "file");
        event_set_str(&evs[n].direction, "log");
        if (envelope_from_json(NULL, obj, &evs[n], &why) == ES_OK) {
            if (evs[n].data)
                evs[n].payload_hash = event_hash(evs[n].data, strlen(evs[n].data));
            n++;
        } else {
            event_done(&evs[n]);
        }
        json_decref(obj);
    }
    free(line);
    fclose(f);

    t0 = now();
    c0 = cpu();
    if (strcmp(argv[3], "store") == 0)
        load_store(argv[1], argv[2], evs, n);
    else
        load_raw(argv[1], evs, n, strcmp(argv[3], "upfront") == 0);
    t = now() - t0;
    printf("rows %zu seconds %.2f rate %.0f cpu %.2f\n", n, t, (double)n / t, cpu() - c0);
    while (n > 0)
        event_done(&evs[--n]);
    free(evs);
    return 0;
}
