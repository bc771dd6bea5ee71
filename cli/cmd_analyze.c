/* PLACEHOLDER: replaced by the real command. */
#include "cli/cmd.h"

static int exec_analyze(int argc, char **argv, const char *db)
{
    (void)argc, (void)argv, (void)db;
    cli_error("analyze", "not built yet");
    return CLI_EXIT_USAGE;
}

const struct cmd_entry cmd_analyze_entry = {"analyze", "", "(not built yet)", "", exec_analyze};
