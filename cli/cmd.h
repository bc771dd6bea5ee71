/*
 * The command table: one file per command (cmd_<name>.c), each defining one
 * const struct cmd_entry; cli/main.c lists them. Shared helpers for commands live in
 * cli/common.c and are declared here.
 */
#ifndef ES_CMD_H
#define ES_CMD_H

#include <stdio.h>

#include "core/store.h"

/* DESIGN.md exit codes; only cli/ maps ES_* codes to these. */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FINDINGS = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_INPUT = 3,
    CLI_EXIT_INTERRUPTED = 130,
};

struct cmd_entry {
    const char *name;    /* "ingest" */
    const char *usage;   /* "[--format F] [--map FILE] PATH...|-" */
    const char *summary; /* one line for `eventscope --help` */
    const char *help;    /* full --help text after the usage line: options and examples */
    /* argv[0] is the command name; db is the store path. Returns a cli_exit code. */
    int (*exec)(int argc, char **argv, const char *db);
};

extern const struct cmd_entry cmd_ingest_entry;
extern const struct cmd_entry cmd_capture_entry;
extern const struct cmd_entry cmd_tap_entry;
extern const struct cmd_entry cmd_analyze_entry;
extern const struct cmd_entry cmd_trace_entry;
extern const struct cmd_entry cmd_processes_entry;
extern const struct cmd_entry cmd_query_entry;
extern const struct cmd_entry cmd_tui_entry;

/* Prints "usage: eventscope [-d DB] NAME USAGE" and the help text to f. */
void cli_usage(const struct cmd_entry *e, FILE *f);
/* 1 when argv has -h or --help before any "--"; commands call it first. */
int cli_wants_help(int argc, char **argv);
/* Prints "eventscope NAME: msg" to stderr (printf-style), escaped. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Opens the store for a command, printing a full error on failure. Returns CLI_EXIT_OK and
 * *st, or CLI_EXIT_INPUT. Read-only commands pass STORE_READONLY; a missing store then is
 * an error telling how to create one.
 */
int cli_open_store(const char *cmd, const char *db, unsigned flags, struct store **st);

/* 1 when colour may be used on f: a TTY, NO_COLOR unset, TERM not "dumb". */
int cli_color(FILE *f);

/*
 * Writes s to f with control bytes, ESC and invalid UTF-8 made visible (\x1b, \n ...),
 * so input text can never move a terminal's cursor. s may be NULL (writes "-").
 */
void cli_put_escaped(FILE *f, const char *s);
/* Same into a caller buffer, truncated to fit (always NUL-terminated). Returns buf. */
char *cli_escape(const char *s, char *buf, size_t len);

/* Formats a duration in µs as "850µs", "12.3ms", "4.2s", "3m07s", "2h05m". */
void cli_format_duration(long long us, char *buf, size_t len);

#endif
