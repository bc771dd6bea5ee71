/*
 * simgen: writes a simulated store of N observations (tests/sim/sim.h) for the analyzer
 * benchmark, in batches of 1000 processes so memory stays flat.
 *   simgen DB N [PLANT_EVERY]   (default 50: one planted defect every 50 processes; 0: none)
 * Prints "rate R" (observations per second) for tests/bench.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tests/sim/sim.h"

int main(int argc, char **argv)
{
    struct sim s;
    struct store *st;
    char err[512];
    uint64_t n, written = 0;
    int every = 50, proc = 0, i;
    struct timespec t0, t1;
    double secs;

    if (argc < 3) {
        fprintf(stderr, "usage: simgen DB N [PLANT_EVERY]\n");
        return 2;
    }
    n = strtoull(argv[2], NULL, 10);
    if (argc > 3)
        every = atoi(argv[3]);
    if (store_open(argv[1], STORE_CREATE, &st, err, sizeof err) != ES_OK) {
        fprintf(stderr, "simgen: %s\n", err);
        return 3;
    }
    /* A benchmark fixture, not user data: no fsync while loading. */
    sqlite3_exec(store_db(st), "PRAGMA synchronous = OFF", NULL, NULL, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (store_bulk_begin(st, n) != ES_OK) {
        fprintf(stderr, "simgen: %s\n", store_errmsg(st));
        return 3;
    }
    memset(&s, 0, sizeof s);
    s.rng = 42;
    s.with_payload = 1;
    while (written < n) {
        sim_batch_reset(&s);
        for (i = 0; i < 1000 && written + s.nobs < n; i++, proc++) {
            enum sim_plant plant = PLANT_NONE;
            if (every > 0 && proc % every == every - 1 && proc > 50)
                plant = (enum sim_plant)(1 + (proc / every) % (PLANT_COUNT - 1));
            sim_process(&s, proc, plant, plant == PLANT_NONE && proc >= 100 && proc < 130);
        }
        sim_clocks(&s);
        if (sim_write(&s, st) != ES_OK) {
            fprintf(stderr, "simgen: %s\n", store_errmsg(st));
            return 3;
        }
        written += s.nobs;
    }
    if (store_bulk_end(st) != ES_OK) {
        fprintf(stderr, "simgen: %s\n", store_errmsg(st));
        return 3;
    }
    store_close(st);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("simgen: %llu observations, %d processes in %.1f s, rate %.0f\n",
           (unsigned long long)written, proc, secs, (double)written / secs);
    sim_free(&s);
    return 0;
}
