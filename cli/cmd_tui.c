/* tui: the ncurses browser over the store (tui/tui.c does the work). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "tui/tui.h"

static int exec_tui(int argc, char **argv, const char *db)
{
    struct tui_opts o = {0};
    struct tui_bench b;
    struct store *st = NULL;
    char err[512];
    int i, rc;

    if (cli_wants_help(argc, argv)) {
        cli_usage(&cmd_tui_entry, stdout);
        return CLI_EXIT_OK;
    }
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ascii") == 0) {
            o.ascii = 1;
        } else if (strcmp(argv[i], "--no-color") == 0) {
            o.no_color = 1;
        } else if (strcmp(argv[i], "--stuck") == 0 && i + 1 < argc) {
            char *end;
            double s = strtod(argv[++i], &end);
            if (*end != '\0' || s <= 0 || s > 1e9) {
                cli_error("tui", "--stuck needs a number of seconds > 0, not '%s'", argv[i]);
                return CLI_EXIT_USAGE;
            }
            o.stuck_us = (int64_t)(s * 1e6);
        } else if (strcmp(argv[i], "--bench") == 0) {
            o.bench = 1;
            if (i + 1 < argc && argv[i + 1][0] != '-')
                o.bench_cid = argv[++i];
        } else {
            cli_error("tui", "unknown option '%s'", argv[i]);
            cli_usage(&cmd_tui_entry, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    rc = cli_open_store("tui", db, STORE_READONLY, &st);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (tui_run(store_db(st), &o, &b, err, sizeof err) != ES_OK) {
        store_close(st);
        cli_error("tui", "%s", err);
        return CLI_EXIT_INPUT;
    }
    store_close(st);
    if (o.bench)
        printf("tui bench: processes=%zu load_ms=%.1f first_draw_ms=%.1f first_cpu_ms=%.1f "
               "open_events=%zu open_ms=%.1f open_cpu_ms=%.1f\n",
               b.procs_shown, b.load_ms, b.first_ms, b.first_cpu_ms, b.open_events, b.open_ms,
               b.open_cpu_ms);
    return CLI_EXIT_OK;
}

const struct cmd_entry cmd_tui_entry = {
    "tui", "[--ascii] [--no-color] [--stuck SECONDS]",
    "browse processes, timelines, causal trees, events and findings",
    "A terminal UI over the store, live while an ingest or a tap writes to it.\n"
    "\n"
    "options:\n"
    "  --ascii          ASCII line drawing (automatic when the locale is not UTF-8)\n"
    "  --no-color       monochrome (also when NO_COLOR is set)\n"
    "  --stuck SECONDS  silence after which an unfinished process counts as stuck\n"
    "                   (default: the analyzer's, 1 hour before the newest event)\n"
    "  --bench [ID]     draw once offscreen and print timings (tests/bench)\n"
    "\n"
    "keys: arrows or j/k, PgUp/PgDn, Home/End, Enter open, Esc back, Tab next view,\n"
    "      / filter or search, n/N next match, s sort, f filter, F findings, : query,\n"
    "      ? every key, q quit\n",
    exec_tui};
