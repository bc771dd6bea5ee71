/*
 * The embedded queries of queries/: each prepares against a fresh store, documents its
 * parameters and result columns in its header, and answers correctly on a small store
 * built here (hop-latency percentiles, orphans, duplicate ids, trace causes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/check.h"
#include "cli/queries.h"
#include "core/event.h"
#include "core/store.h"

static const struct query_file *find(const char *name)
{
    const struct query_file *q;

    for (q = query_files; q->name; q++)
        if (strcmp(q->name, name) == 0)
            return q;
    return NULL;
}

/* The header: the leading "--" lines. */
static size_t header_len(const char *sql)
{
    const char *s = sql, *e;

    while (strncmp(s, "--", 2) == 0 && (e = strchr(s, '\n')) != NULL)
        s = e + 1;
    return (size_t)(s - sql);
}

/* 1 when a header line "--   WORD ..." (WORD followed by a space or end of line) exists. */
static int header_documents(const char *sql, const char *word)
{
    size_t hl = header_len(sql), n = strlen(word);
    const char *s = sql, *end = sql + hl, *p;

    while (s < end) {
        const char *e = memchr(s, '\n', (size_t)(end - s));
        if (e == NULL)
            e = end;
        for (p = s + 2; p < e && *p == ' '; p++)
            ;
        if ((size_t)(e - p) >= n && strncmp(p, word, n) == 0 && (p + n == e || p[n] == ' '))
            return 1;
        s = e + 1;
    }
    return 0;
}

/* Prepares every statement of q on db; checks documentation of params and columns. */
static void check_prepares(sqlite3 *db, const struct query_file *q)
{
    const char *tail = q->sql;
    sqlite3_stmt *s = NULL;
    char want[128];
    int i, rc, nstmt = 0;

    snprintf(want, sizeof want, "-- %s: ", q->name);
    if (strncmp(q->sql, want, strlen(want)) != 0) {
        fprintf(stderr, "%s.sql: header must start with \"%s\"\n", q->name, want);
        CHECK(0);
    }
    CHECK(strstr(q->sql, "-- Columns:") != NULL);
    CHECK(strstr(q->sql, "-- Run with sqlite3:") != NULL);
    CHECK(strstr(q->sql, "Parameters") != NULL);
    while (tail && *tail) {
        rc = sqlite3_prepare_v2(db, tail, -1, &s, &tail);
        if (rc != SQLITE_OK) {
            fprintf(stderr, "%s.sql does not prepare: %s\n", q->name, sqlite3_errmsg(db));
            CHECK_INT(rc, SQLITE_OK);
            return;
        }
        if (s == NULL)
            break;
        nstmt++;
        for (i = 1; i <= sqlite3_bind_parameter_count(s); i++) {
            const char *p = sqlite3_bind_parameter_name(s, i);
            CHECK(p != NULL && p[0] == ':');
            if (p && !header_documents(q->sql, p)) {
                fprintf(stderr, "%s.sql: parameter %s not in its header\n", q->name, p);
                CHECK(0);
            }
        }
        for (i = 0; i < sqlite3_column_count(s); i++) {
            const char *c = sqlite3_column_name(s, i);
            if (!header_documents(q->sql, c)) {
                fprintf(stderr, "%s.sql: column %s not in its header\n", q->name, c);
                CHECK(0);
            }
        }
        sqlite3_finalize(s);
        s = NULL;
    }
    CHECK(nstmt >= 1);
}

/* Runs q (one statement) with text parameters bound by name (NULL-terminated pairs). */
static sqlite3_stmt *run(sqlite3 *db, const char *name, const char *const *binds)
{
    const struct query_file *q = find(name);
    sqlite3_stmt *s = NULL;

    if (q == NULL) {
        fprintf(stderr, "no query %s\n", name);
        CHECK(0);
        return NULL;
    }
    CHECK_INT(sqlite3_prepare_v2(db, q->sql, -1, &s, NULL), SQLITE_OK);
    for (; binds && binds[0]; binds += 2) {
        int idx = sqlite3_bind_parameter_index(s, binds[0]);
        CHECK(idx > 0);
        sqlite3_bind_text(s, idx, binds[1], -1, SQLITE_STATIC);
    }
    return s;
}

static void add(struct store *st, int64_t origin, int line, const char *id, const char *type,
                const char *source, int64_t time_ms, const char *corr, const char *cause,
                const char *data)
{
    struct event ev;
    char loc[32];
    int added = 0;

    event_init(&ev);
    snprintf(loc, sizeof loc, "test:%d", line);
    event_set_str(&ev.location, loc);
    event_set_str(&ev.event_id, id);
    event_set_str(&ev.type, type);
    event_set_str(&ev.source, source);
    event_set_str(&ev.correlation_id, corr);
    event_set_str(&ev.causation_id, cause);
    event_set_str(&ev.direction, "log");
    event_set_str(&ev.data, data);
    ev.payload_hash = data ? event_hash(data, strlen(data)) : 0;
    ev.time_us = time_ms * 1000;
    CHECK_INT(store_add_event(st, origin, &ev, &added), ES_OK);
    CHECK_INT(added, 1);
    event_done(&ev);
}

int main(void)
{
    char path[] = "/tmp/es_test_queries_XXXXXX", db_path[64], err[512], id[16];
    const struct query_file *q;
    struct store *st = NULL;
    sqlite3_stmt *s;
    int64_t origin = 0;
    int fd, n, i, line = 1;
    sqlite3 *db;

    fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    unlink(path);
    snprintf(db_path, sizeof db_path, "%s.db", path);

    CHECK_INT(store_open(db_path, STORE_CREATE, &st, err, sizeof err), ES_OK);
    if (st == NULL) {
        fprintf(stderr, "store_open: %s\n", err);
        return CHECK_DONE();
    }
    db = store_db(st);

    /* Every embedded query prepares on a fresh store and documents itself. */
    for (n = 0, q = query_files; q->name; q++, n++)
        check_prepares(db, q);
    CHECK(n >= 8);
    {
        static const char *const need[] = {"trace", "processes", "duplicate-ids", "orphans",
                                           "types", "hop-latency", "rejects",
                                           "findings-summary"};
        for (i = 0; i < (int)(sizeof need / sizeof need[0]); i++)
            if (find(need[i]) == NULL) {
                fprintf(stderr, "missing query %s\n", need[i]);
                CHECK(0);
            }
    }
    /* Sorted by name, as cli/queries.h promises. */
    for (q = query_files; q->name && q[1].name; q++)
        CHECK(strcmp(q->name, q[1].name) < 0);

    /* A small store: cause A with ten effects B at +10ms ... +100ms (process p1). */
    CHECK_INT(store_origin(st, "file", "test", &origin), ES_OK);
    add(st, origin, line++, "a", "A", "svc-a", 1000, "p1", NULL, "{\"n\":0}");
    for (i = 1; i <= 10; i++) {
        snprintf(id, sizeof id, "b%d", i);
        add(st, origin, line++, id, "B", "svc-b", 1000 + 10 * (11 - i), "p1", "a", "{}");
    }
    /* p2: an orphan, and the same identity seen twice. */
    add(st, origin, line++, "c", "C", "svc-a", 5000, "p2", "nowhere", "{\"x\":1}");
    add(st, origin, line++, "c", "C", "svc-a", 5000, "p2", "nowhere", "{\"x\":1}");
    CHECK_INT(store_commit(st), ES_OK);

    /* hop-latency: nearest-rank percentiles over 10,20,...,100 ms. */
    s = run(db, "hop-latency", NULL);
    CHECK_INT(sqlite3_step(s), SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(s, 0), "A");
    CHECK_STR((const char *)sqlite3_column_text(s, 1), "B");
    CHECK_INT(sqlite3_column_int(s, 2), 10);
    CHECK_INT(sqlite3_column_int(s, 3), 10);
    CHECK_INT(sqlite3_column_int(s, 4), 50);
    CHECK_INT(sqlite3_column_int(s, 5), 100);
    CHECK_INT(sqlite3_column_int(s, 6), 100);
    CHECK_INT(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);

    /* orphans: both sightings of c, nothing else. */
    s = run(db, "orphans", NULL);
    for (n = 0; sqlite3_step(s) == SQLITE_ROW; n++)
        CHECK_STR((const char *)sqlite3_column_text(s, 5), "nowhere");
    CHECK_INT(n, 2);
    sqlite3_finalize(s);

    /* duplicate-ids: svc-a/c twice, one content. */
    s = run(db, "duplicate-ids", NULL);
    CHECK_INT(sqlite3_step(s), SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(s, 1), "c");
    CHECK_INT(sqlite3_column_int(s, 2), 2);
    CHECK_INT(sqlite3_column_int(s, 3), 1);
    CHECK_INT(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);

    /* trace p1: the cause first, every effect points at it, in time order. */
    {
        static const char *const b[] = {":cid", "p1", NULL};
        s = run(db, "trace", b);
        CHECK_INT(sqlite3_step(s), SQLITE_ROW);
        CHECK_STR((const char *)sqlite3_column_text(s, 4), "a");
        CHECK_INT(sqlite3_column_type(s, 6), SQLITE_NULL);
        for (n = 0; sqlite3_step(s) == SQLITE_ROW; n++) {
            CHECK_INT(sqlite3_column_int(s, 6), 1);
            CHECK_INT((int)sqlite3_column_double(s, 7), 10 * (n + 1));
        }
        CHECK_INT(n, 10);
        sqlite3_finalize(s);
    }

    /* processes: two processes, p1 first; types: B is the most common. */
    s = run(db, "processes", NULL);
    CHECK_INT(sqlite3_step(s), SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(s, 0), "p1");
    CHECK_INT(sqlite3_column_int(s, 4), 11);
    CHECK_STR((const char *)sqlite3_column_text(s, 5), "svc-a,svc-b");
    CHECK_STR((const char *)sqlite3_column_text(s, 6), "B");
    CHECK_INT(sqlite3_step(s), SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(s, 0), "p2");
    CHECK_INT(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    s = run(db, "types", NULL);
    CHECK_INT(sqlite3_step(s), SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(s, 0), "B");
    CHECK_INT(sqlite3_column_int(s, 2), 10);
    sqlite3_finalize(s);

    store_close(st);
    unlink(db_path);
    {
        char side[96];
        snprintf(side, sizeof side, "%s-wal", db_path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", db_path);
        unlink(side);
    }
    return CHECK_DONE();
}
