/* PLACEHOLDER: replaced by the real command. */
#include "cli/cmd.h"

static int exec_tui(int argc, char **argv, const char *db)
{
    (void)argc, (void)argv, (void)db;
    cli_error("tui", "not built yet");
    return CLI_EXIT_USAGE;
}

const struct cmd_entry cmd_tui_entry = {"tui", "", "(not built yet)", "", exec_tui};
