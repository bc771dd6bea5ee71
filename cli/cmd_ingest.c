/* PLACEHOLDER: replaced by the real command. */
#include "cli/cmd.h"

static int exec_ingest(int argc, char **argv, const char *db)
{
    (void)argc, (void)argv, (void)db;
    cli_error("ingest", "not built yet");
    return CLI_EXIT_USAGE;
}

const struct cmd_entry cmd_ingest_entry = {"ingest", "", "(not built yet)", "", exec_ingest};
