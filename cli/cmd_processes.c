/* PLACEHOLDER: replaced by the real command. */
#include "cli/cmd.h"

static int exec_processes(int argc, char **argv, const char *db)
{
    (void)argc, (void)argv, (void)db;
    cli_error("processes", "not built yet");
    return CLI_EXIT_USAGE;
}

const struct cmd_entry cmd_processes_entry = {"processes", "", "(not built yet)", "", exec_processes};
