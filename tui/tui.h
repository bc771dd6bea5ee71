/*
 * `eventscope tui`: the ncurses browser over a store. tui_run() owns the terminal from
 * start to end (tui/term.c restores it on every exit path, signals included).
 */
#ifndef ES_TUI_TUI_H
#define ES_TUI_TUI_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/err.h"

struct tui_opts {
    int ascii;             /* ASCII line drawing */
    int no_color;          /* monochrome */
    int64_t stuck_us;      /* > 0: silence after which a process is stuck */
    int bench;             /* draw offscreen once, time it, return (tests/bench) */
    const char *bench_cid; /* bench: also open this process */
};

/* Timings of a bench run, milliseconds. */
struct tui_bench {
    double load_ms;      /* model: process list loaded */
    double first_ms;     /* load + first draw of the processes view */
    double open_ms;      /* process opened (timeline model) + drawn */
    double first_cpu_ms; /* CPU time of load + first draw (wall time suffers on a busy host) */
    double open_cpu_ms;  /* CPU time of the open */
    size_t open_events;  /* events of the opened process */
    size_t procs_shown;  /* rows of the processes view */
};

/*
 * Runs the TUI on db (borrowed) until the user quits. Returns ES_OK, or an ES_* code with
 * a sentence in err (the terminal is restored first). bench may be NULL unless o->bench.
 */
int tui_run(sqlite3 *db, const struct tui_opts *o, struct tui_bench *bench, char *err,
            size_t errlen) ES_WARN_UNUSED;

#endif
