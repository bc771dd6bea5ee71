/* eventscope: global options, then dispatch through the command table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"

static const struct cmd_entry *const cmd_table[] = {
    &cmd_ingest_entry, &cmd_capture_entry,   &cmd_tap_entry,   &cmd_analyze_entry,
    &cmd_trace_entry,  &cmd_processes_entry, &cmd_query_entry, &cmd_tui_entry,
};
#define NCMDS (sizeof cmd_table / sizeof cmd_table[0])

static void usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: eventscope [-d DB] COMMAND [ARGS...]\n\n"
               "Collects events from logs, captures and brokers into one SQLite store, then\n"
               "traces, audits and shows them.\n\ncommands:\n");
    for (i = 0; i < NCMDS; i++)
        fprintf(f, "  %-10s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
    fprintf(f, "\noptions:\n"
               "  -d DB        the store (default: $EVENTSCOPE_DB, else ./eventscope.db)\n"
               "  -h, --help   this help; `eventscope COMMAND --help` for a command's\n"
               "  --version    print the version\n\n"
               "exit codes: 0 ok, 1 findings matched --fail-on, 2 usage error,\n"
               "            3 input or store error\n");
}

int main(int argc, char **argv)
{
    const char *db = getenv("EVENTSCOPE_DB");
    int i = 1;
    size_t k;

    if (db == NULL || *db == '\0')
        db = "eventscope.db";
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--db") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "eventscope: -d needs a store path\n");
                return CLI_EXIT_USAGE;
            }
            db = argv[i + 1];
            i += 2;
        } else if (strncmp(argv[i], "--db=", 5) == 0) {
            db = argv[i++] + 5;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("eventscope 0.1.0\n");
            return CLI_EXIT_OK;
        } else {
            fprintf(stderr, "eventscope: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        if (i + 1 < argc)
            for (k = 0; k < NCMDS; k++)
                if (strcmp(cmd_table[k]->name, argv[i + 1]) == 0) {
                    cli_usage(cmd_table[k], stdout);
                    return CLI_EXIT_OK;
                }
        usage(stdout);
        return CLI_EXIT_OK;
    }
    for (k = 0; k < NCMDS; k++)
        if (strcmp(cmd_table[k]->name, argv[i]) == 0)
            return cmd_table[k]->exec(argc - i, argv + i, db);
    fprintf(stderr, "eventscope: unknown command '%s' (see eventscope --help)\n", argv[i]);
    return CLI_EXIT_USAGE;
}
