/* PLACEHOLDER: replaced by the real command. */
#include "cli/cmd.h"

static int exec_trace(int argc, char **argv, const char *db)
{
    (void)argc, (void)argv, (void)db;
    cli_error("trace", "not built yet");
    return CLI_EXIT_USAGE;
}

const struct cmd_entry cmd_trace_entry = {"trace", "", "(not built yet)", "", exec_trace};
