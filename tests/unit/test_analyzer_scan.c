/*
 * The analyzer's reading of the store (analyzer/scan.c): the sequential pass, in memory or
 * with a memory budget far below the store's size (correlation-ID buckets spilled to
 * temporary files), must give exactly the findings, summary and process order of the walk
 * along the correlation index. Also: a spill that cannot create its file fails cleanly and keeps
 * the previous findings; observations without correlation ID, with an empty one and with a
 * BLOB one are processes like the correlation index orders them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "../sim/sim.h"
#include "analyzer/analyzer.h"

#define DB "test_analyzer_scan.db"

/* Every finding, in table order, one line each. */
static char *dump(sqlite3 *db)
{
    sqlite3_stmt *q;
    char *out = xstrdup(""), *next;

    if (sqlite3_prepare_v2(db,
                           "SELECT kind, severity, quote(correlation_id), event_seq,"
                           " quote(related_seq), message, quote(detail) FROM findings ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        return out;
    while (sqlite3_step(q) == SQLITE_ROW) {
        next = xasprintf("%s%s|%s|%s|%lld|%s|%s|%s\n", out, sqlite3_column_text(q, 0),
                         sqlite3_column_text(q, 1), sqlite3_column_text(q, 2),
                         (long long)sqlite3_column_int64(q, 3), sqlite3_column_text(q, 4),
                         sqlite3_column_text(q, 5), sqlite3_column_text(q, 6));
        free(out);
        out = next;
    }
    sqlite3_finalize(q);
    return out;
}

static void same_summary(const struct analyzer_summary *a, const struct analyzer_summary *b)
{
    size_t i;

    CHECK_INT(a->events, b->events);
    CHECK_INT(a->nodes, b->nodes);
    CHECK_INT(a->processes, b->processes);
    CHECK_INT(a->findings, b->findings);
    for (i = 0; i < FINDING_NKINDS; i++)
        CHECK_INT(a->by_kind[i], b->by_kind[i]);
    for (i = 0; i < ANALYZER_NSTATES; i++)
        CHECK_INT(a->by_state[i], b->by_state[i]);
    CHECK_INT(a->ncards, b->ncards);
    CHECK_INT(a->nskews, b->nskews);
    for (i = 0; i < a->nskews && i < b->nskews; i++) {
        CHECK_STR(a->skews[i].cause_source, b->skews[i].cause_source);
        CHECK_STR(a->skews[i].effect_source, b->skews[i].effect_source);
        CHECK_INT(a->skews[i].count, b->skews[i].count);
        CHECK_INT(a->skews[i].skew_us, b->skews[i].skew_us);
    }
}

int main(void)
{
    static const size_t budgets[] = {64 << 10, 300 << 10, 1 << 20};
    struct sim s;
    struct store *st;
    struct analyzer_summary ref, sum;
    sqlite3 *db;
    char err[512], *want, *got;
    size_t i;
    int rc;

    unlink(DB);
    unlink(DB "-wal");
    unlink(DB "-shm");
    sim_generate(&s, 20261124, 20000, 1);
    if (store_open(DB, STORE_CREATE, &st, err, sizeof err) != ES_OK) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    CHECK_INT(sim_write(&s, st), ES_OK);
    db = store_db(st);
    /* Correlation IDs the index orders first (NULL), among the others ('') and last (BLOB). */
    CHECK_INT(sqlite3_exec(db,
                           "INSERT INTO events(origin_id, location, event_id, type, source,"
                           " time_us, correlation_id, direction, payload_hash) VALUES"
                           " (1, 'extra:1', 'x-1', 'OrderPlaced', 'orders', 1, NULL, 'log', 7),"
                           " (1, 'extra:2', 'x-2', 'OrderPlaced', 'orders', 2, x'00ff', 'log', 7),"
                           " (1, 'extra:3', 'x-3', 'OrderPlaced', 'orders', 3, '', 'log', 7),"
                           " (1, 'extra:4', 'x-4', 'OrderPaid', 'orders', 4, '', 'log', 8),"
                           " (1, 'extra:5', 'x-5', 'OrderPaid', 'orders', 5, x'00ff', 'log', 9),"
                           " (1, 'extra:6', 'x-5', 'OrderPaid', 'orders', 5, x'00ff', 'log', 9)",
                           NULL, NULL, NULL),
              SQLITE_OK);
    /*
     * One fact under three ids in three processes at t = 0 s, 100 s and 50 s (window 60 s):
     * what is reported depends on the order the processes are analyzed in. In ID order
     * ('!a', 'm-b', '~c') only the pair (100 s, 50 s) is; reversed, (100 s, 50 s) and
     * (50 s, 0 s) would be.
     */
    CHECK_INT(sqlite3_exec(db,
                           "INSERT INTO events(origin_id, location, event_id, type, source,"
                           " subject, time_us, correlation_id, direction, payload_hash) VALUES"
                           " (1, 'semantic:a', 's-a', 'InvoiceIssued', 'billing', 'inv-1',"
                           "  1000000000000, '!a', 'log', 42),"
                           " (1, 'semantic:b', 's-b', 'InvoiceIssued', 'billing', 'inv-1',"
                           "  1000100000000, 'm-b', 'log', 42),"
                           " (1, 'semantic:c', 's-c', 'InvoiceIssued', 'billing', 'inv-1',"
                           "  1000050000000, '~c', 'log', 42)",
                           NULL, NULL, NULL),
              SQLITE_OK);

    /* The reference: the correlation index walked in order. */
    analyzer_set_read_mode(ANALYZER_READ_INDEX);
    rc = analyzer_run(db, NULL, NULL, &ref, err, sizeof err);
    CHECK_INT(rc, ES_OK);
    if (rc != ES_OK) {
        fprintf(stderr, "analyzer: %s\n", err);
        return 1;
    }
    want = dump(db);
    CHECK(ref.findings > 100);
    CHECK_INT(ref.events, check_sql_int(db, "SELECT count(*) FROM events"));
    CHECK_INT(ref.processes, check_sql_int(db, "SELECT count(DISTINCT correlation_id) FROM events"));
    CHECK_INT(check_sql_int(db, "SELECT count(*) FROM findings AS f JOIN events AS e"
                          " ON e.seq = f.event_seq WHERE e.location LIKE 'semantic:%'"),
              1);
    CHECK_INT(check_sql_int(db, "SELECT count(*) FROM findings AS f"
                          " JOIN events AS e ON e.seq = f.event_seq"
                          " JOIN events AS r ON r.seq = f.related_seq"
                          " WHERE f.kind = 'duplicate.semantic' AND e.location = 'semantic:b'"
                          " AND r.location = 'semantic:c'"),
              1);
    printf("reference: %llu observations, %llu processes, %llu findings\n",
           (unsigned long long)ref.events, (unsigned long long)ref.processes,
           (unsigned long long)ref.findings);

    /* The sequential pass, everything in memory, and the automatic choice. */
    analyzer_set_read_mode(ANALYZER_READ_SCAN);
    for (i = 0; i < 2; i++) {
        rc = analyzer_run(db, NULL, NULL, &sum, err, sizeof err);
        CHECK_INT(rc, ES_OK);
        if (rc == ES_OK) {
            got = dump(db);
            CHECK_STR(got, want);
            same_summary(&ref, &sum);
            free(got);
            analyzer_summary_done(&sum);
        }
        analyzer_set_read_mode(ANALYZER_READ_AUTO);
    }
    analyzer_set_read_mode(ANALYZER_READ_SCAN);

    /* A spill that cannot create its file: an error naming it, the old findings kept. */
    analyzer_set_memory_budget(64 << 10);
    setenv("TMPDIR", "/nonexistent-eventscope-dir", 1);
    rc = analyzer_run(db, NULL, NULL, &sum, err, sizeof err);
    CHECK_INT(rc, ES_EIO);
    CHECK(strstr(err, "temporary file") != NULL);
    got = dump(db);
    CHECK_STR(got, want);
    free(got);

    /* Buckets spilled to files: the same findings, in the same order, the same summary. */
    setenv("TMPDIR", ".", 1);
    for (i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
        analyzer_set_memory_budget(budgets[i]);
        rc = analyzer_run(db, NULL, NULL, &sum, err, sizeof err);
        CHECK_INT(rc, ES_OK);
        if (rc != ES_OK) {
            fprintf(stderr, "budget %zu: %s\n", budgets[i], err);
            continue;
        }
        got = dump(db);
        CHECK_STR(got, want);
        same_summary(&ref, &sum);
        printf("budget %zu KiB: %llu findings\n", budgets[i] >> 10,
               (unsigned long long)sum.findings);
        free(got);
        analyzer_summary_done(&sum);
    }
    analyzer_set_memory_budget(0);
    analyzer_set_read_mode(ANALYZER_READ_AUTO);
    unsetenv("TMPDIR");

    analyzer_summary_done(&ref);
    free(want);
    store_close(st);
    sim_free(&s);
    unlink(DB);
    unlink(DB "-wal");
    unlink(DB "-shm");
    return CHECK_DONE();
}
