/* PLACEHOLDER: replaced by the real command. */
#include "cli/cmd.h"

static int exec_query(int argc, char **argv, const char *db)
{
    (void)argc, (void)argv, (void)db;
    cli_error("query", "not built yet");
    return CLI_EXIT_USAGE;
}

const struct cmd_entry cmd_query_entry = {"query", "", "(not built yet)", "", exec_query};
