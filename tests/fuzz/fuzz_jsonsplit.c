/*
 * Fuzz target: JSON documents through the file collector (reader + streaming splitter +
 * jansson + envelope). The first byte picks a read size; the rest is read twice, in one
 * go and in reads of that size, and both runs must hand over exactly the same events and
 * rejects: element boundaries must not depend on where the buffer refills fall.
 */
#define FUZZ_FILE_FORMAT FILE_FMT_JSON
#include "tests/fuzz/fuzz_file_common.h"

/*
 * The splitter alone over an exact-size copy (so ASan sees any read past the input), with
 * small limits: every item must lie inside the input, and the scan must end.
 */
static void direct(const uint8_t *d, size_t n)
{
    struct file_split sp;
    struct file_split_item it;
    uint8_t *copy = malloc(n ? n : 1);
    size_t pos = 0, steps = 0;
    enum file_split_result r;

    if (copy == NULL)
        abort();
    if (n)
        memcpy(copy, d, n);
    file_split_init(&sp, 8, 64);
    while ((r = file_split_next(&sp, copy, &pos, n, 1, &it)) != FILE_SPLIT_END) {
        if (r == FILE_SPLIT_MORE || it.start > n || it.len > n - it.start || ++steps > n + 2)
            abort();
        (void)event_hash(copy + it.start, it.len);
    }
    free(copy);
}
