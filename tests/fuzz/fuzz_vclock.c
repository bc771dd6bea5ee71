/*
 * Fuzz target for core/vclock: any text either fails or yields a clock whose canonical JSON
 * parses back to the same clock; merge and compare keep their laws.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/vclock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vclock a, b, m;
    size_t half = size / 2;
    char *j, *j2;

    vclock_init(&a);
    vclock_init(&b);
    vclock_init(&m);
    if (vclock_parse(&a, (const char *)data, size) == ES_OK) {
        j = vclock_to_json(&a);
        if (vclock_parse(&b, j, strlen(j)) != ES_OK)
            abort();
        j2 = vclock_to_json(&b);
        if (strcmp(j, j2) != 0 || vclock_compare(&a, &b) != VCLOCK_EQUAL)
            abort();
        free(j);
        free(j2);
    }
    /* Two halves: merge dominates both. */
    if (vclock_parse(&a, (const char *)data, half) == ES_OK &&
        vclock_parse(&b, (const char *)data + half, size - half) == ES_OK) {
        enum vclock_order o;
        vclock_copy(&m, &a);
        vclock_merge(&m, &b);
        o = vclock_compare(&a, &m);
        if (o == VCLOCK_AFTER || o == VCLOCK_CONCURRENT)
            abort();
        o = vclock_compare(&b, &m);
        if (o == VCLOCK_AFTER || o == VCLOCK_CONCURRENT)
            abort();
    }
    vclock_done(&a);
    vclock_done(&b);
    vclock_done(&m);
    return 0;
}
