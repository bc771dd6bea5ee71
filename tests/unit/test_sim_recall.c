/*
 * Precision and recall of every finding kind on the simulator's planted set (tests/sim):
 * 10,000 observations from a deterministic shop with correct vector clocks, at-least-once
 * delivery, consumer reordering, a skewed clock and concurrent fan-out. Each finding is
 * matched on (kind, location of the offending observation). Required: 100 % for every
 * kind, and every kind planted at least once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "../sim/sim.h"
#include "analyzer/analyzer.h"

#define DB "test_sim_recall.db"
#define NEVENTS 10000

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int contains(char **v, size_t n, const char *key)
{
    return bsearch(&key, v, n, sizeof *v, cmp_str) != NULL;
}

int main(void)
{
    struct sim s;
    struct store *st;
    struct analyzer_summary sum;
    sqlite3_stmt *q;
    char err[512], **want = NULL, **got = NULL;
    size_t nwant = 0, ngot = 0, i;
    int k, rc;

    unlink(DB);
    unlink(DB "-wal");
    unlink(DB "-shm");
    sim_generate(&s, 20261124, NEVENTS, 1);
    if (store_open(DB, STORE_CREATE, &st, err, sizeof err) != ES_OK) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    CHECK_INT(sim_write(&s, st), ES_OK);
    printf("simulated %zu observations of %zu events in %d processes, %zu expected findings\n",
           s.nobs, s.nev, s.nproc, s.nexp);
    CHECK(s.nobs >= NEVENTS);

    rc = analyzer_run(store_db(st), NULL, NULL, &sum, err, sizeof err);
    CHECK_INT(rc, ES_OK);
    if (rc != ES_OK)
        fprintf(stderr, "analyzer: %s\n", err);
    else
        analyzer_summary_done(&sum);

    want = xcalloc(s.nexp + 1, sizeof *want);
    for (i = 0; i < s.nexp; i++)
        want[nwant++] = xasprintf("%s@%s", s.exp[i].kind, s.obs[s.exp[i].obs].loc);
    qsort(want, nwant, sizeof *want, cmp_str);
    for (i = 1; i < nwant; i++)
        if (strcmp(want[i], want[i - 1]) == 0)
            fprintf(stderr, "ground truth lists %s twice\n", want[i]);

    if (sqlite3_prepare_v2(store_db(st),
                           "SELECT f.kind || '@' || e.location FROM findings AS f"
                           " JOIN events AS e ON e.seq = f.event_seq",
                           -1, &q, NULL) != SQLITE_OK)
        return 2;
    while (sqlite3_step(q) == SQLITE_ROW) {
        got = xreallocarray(got, ngot + 1, sizeof *got);
        got[ngot++] = xstrdup((const char *)sqlite3_column_text(q, 0));
    }
    sqlite3_finalize(q);
    if (ngot > 0)
        qsort(got, ngot, sizeof *got, cmp_str);

    printf("%-36s %8s %8s %8s %9s %7s\n", "kind", "planted", "found", "correct", "precision",
           "recall");
    for (k = 0; k < FINDING_NKINDS; k++) {
        const char *name = finding_kind_name(k);
        size_t len = strlen(name), planted = 0, found = 0, tp = 0;
        for (i = 0; i < nwant; i++)
            if (strncmp(want[i], name, len) == 0 && want[i][len] == '@')
                planted++;
        for (i = 0; i < ngot; i++)
            if (strncmp(got[i], name, len) == 0 && got[i][len] == '@') {
                found++;
                if (contains(want, nwant, got[i]))
                    tp++;
                else
                    fprintf(stderr, "  unexpected: %s\n", got[i]);
            }
        for (i = 0; i < nwant; i++)
            if (strncmp(want[i], name, len) == 0 && want[i][len] == '@' &&
                !contains(got, ngot, want[i]))
                fprintf(stderr, "  missed:     %s\n", want[i]);
        printf("%-36s %8zu %8zu %8zu %8.1f%% %6.1f%%\n", name, planted, found, tp,
               found ? 100.0 * (double)tp / (double)found : 100.0,
               planted ? 100.0 * (double)tp / (double)planted : 0.0);
        CHECK(planted > 0);     /* every kind has ground truth */
        CHECK_INT(tp, planted); /* recall 100 % */
        CHECK_INT(found, tp);   /* precision 100 % */
    }

    for (i = 0; i < nwant; i++)
        free(want[i]);
    for (i = 0; i < ngot; i++)
        free(got[i]);
    free(want);
    free(got);
    store_close(st);
    sim_free(&s);
    if (getenv("ES_KEEP_DB") == NULL) {
        unlink(DB);
        unlink(DB "-wal");
        unlink(DB "-shm");
    }
    return CHECK_DONE();
}
