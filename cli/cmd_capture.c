/* PLACEHOLDER: replaced by the real command. */
#include "cli/cmd.h"

static int exec_capture(int argc, char **argv, const char *db)
{
    (void)argc, (void)argv, (void)db;
    cli_error("capture", "not built yet");
    return CLI_EXIT_USAGE;
}

const struct cmd_entry cmd_capture_entry = {"capture", "", "(not built yet)", "", exec_capture};
