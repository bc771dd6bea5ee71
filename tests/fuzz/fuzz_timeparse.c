/*
 * Fuzz target for core/timeparse: any text either fails or yields a time that formats and
 * parses back to itself; formatting never overflows its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[TIMEPARSE_FORMAT_LEN];
    int64_t us, back;
    int flags;
    double d;

    if (timeparse_text((const char *)data, size, &us, &flags) == ES_OK) {
        timeparse_format(us, buf, sizeof buf);
        /* years 0..9999 round-trip exactly; epochs may land outside that range */
        if (buf[0] != '-' && strlen(buf) == 27 &&
            (timeparse_text(buf, strlen(buf), &back, NULL) != ES_OK || back != us))
            abort();
    }
    if (size >= sizeof d) {
        memcpy(&d, data, sizeof d);
        if (timeparse_epoch(d, &us) == ES_OK)
            timeparse_format(us, buf, sizeof buf);
    }
    if (size >= sizeof us) {
        memcpy(&us, data, sizeof us);
        if (timeparse_epoch_int(us, &back) == ES_OK)
            timeparse_format(back, buf, sizeof buf);
        timeparse_format(us, buf, sizeof buf);
    }
    return 0;
}
