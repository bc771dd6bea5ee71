/* PLACEHOLDER: replaced by the real command. */
#include "cli/cmd.h"

static int exec_tap(int argc, char **argv, const char *db)
{
    (void)argc, (void)argv, (void)db;
    cli_error("tap", "not built yet");
    return CLI_EXIT_USAGE;
}

const struct cmd_entry cmd_tap_entry = {"tap", "", "(not built yet)", "", exec_tap};
