/*
 * Fuzz target: logfmt lines through the file collector (line reader, logfmt parser,
 * envelope), and file_logfmt_parse alone. The first byte picks a read size; the rest is
 * read twice, in one go and in reads of that size, and both runs must hand over exactly
 * the same events and rejects: nothing may depend on where refills fall.
 */
#define FUZZ_FILE_FORMAT FILE_FMT_LOGFMT
#include "tests/fuzz/fuzz_file_common.h"

/* The logfmt parser alone: ES_OK always gives an object, an error always a reason. */
static void direct(const uint8_t *d, size_t n)
{
    json_t *o = NULL;
    const char *why = NULL;

    if (file_logfmt_parse((const char *)d, n, &o, &why) == ES_OK) {
        if (!json_is_object(o))
            abort();
        json_decref(o);
    } else if (why == NULL || o != NULL) {
        abort();
    }
}
