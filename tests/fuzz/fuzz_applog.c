/*
 * Fuzz target: app-log lines through the file collector (line reader, prefix parser,
 * jansson, envelope), and file_applog_parse alone. The first byte picks a read size; the
 * rest is read twice, in one go and in reads of that size, and both runs must hand over
 * exactly the same events and rejects: nothing may depend on where refills fall.
 */
#define FUZZ_FILE_FORMAT FILE_FMT_APPLOG
#include "tests/fuzz/fuzz_file_common.h"

/* The prefix parser alone: never reads past size, json_off always on a '{'. */
static void direct(const uint8_t *d, size_t n)
{
    struct file_applog al;
    const char *why = NULL;

    if (file_applog_parse((const char *)d, n, &al, &why) == ES_OK &&
        (al.json_off >= n || d[al.json_off] != '{'))
        abort();
}
