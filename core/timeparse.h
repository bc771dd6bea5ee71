/*
 * Producer and log timestamps to UTC microseconds.
 * Accepts RFC 3339 / ISO 8601 ("2026-03-15T10:30:00.123456789Z", "+02:00", "+0200",
 * space instead of T, no offset), and epoch numbers in s, ms, µs or ns told apart by
 * magnitude (as numbers or numeric strings, with an optional fraction).
 */
#ifndef ES_TIMEPARSE_H
#define ES_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum timeparse_flags {
    TIMEPARSE_NO_ZONE = 1 << 0, /* ISO text without offset: read as UTC, marked */
    TIMEPARSE_EPOCH = 1 << 1,   /* was an epoch number */
};

/*
 * Parses len bytes of s. Returns ES_OK and sets *us (and *flags, may be NULL), or
 * ES_EINVALID when the text is not a time we know. Never reads past len.
 */
int timeparse_text(const char *s, size_t len, int64_t *us, int *flags) ES_WARN_UNUSED;

/* Epoch number (from a JSON number) to µs, unit chosen by magnitude. */
int timeparse_epoch(double v, int64_t *us) ES_WARN_UNUSED;

/* Formats us as RFC 3339 UTC with microseconds ("2026-03-15T10:30:00.123456Z"). */
void timeparse_format(int64_t us, char *buf, size_t len);

#endif
