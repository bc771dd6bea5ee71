/*
 * Producer and log timestamps to UTC microseconds.
 * Accepts RFC 3339 / ISO 8601 ("2026-03-15T10:30:00.123456789Z", "+02:00", "+0200", "+02",
 * space instead of T, no offset, " UTC", Go's "+0200 CEST"), ISO 8601 basic format
 * ("20260315T103000Z"), RFC 5322 / 1123 dates ("Sun, 15 Mar 2026 10:30:00 GMT", as HTTP and
 * mail write them), and epoch numbers in s, ms, µs or ns told apart by magnitude (as numbers
 * or numeric strings, with an optional fraction).
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
 * Parses len bytes of s (blanks around are ignored). Returns ES_OK and sets *us (and
 * *flags, may be NULL: TIMEPARSE_NO_ZONE for ISO text without offset, TIMEPARSE_EPOCH for
 * numbers, else 0), or ES_EINVALID when the text is not a time we know (month 13, Feb 30
 * in a common year, hour 24, trailing bytes, ...). Fractions beyond µs are truncated.
 * Never reads past len.
 */
int timeparse_text(const char *s, size_t len, int64_t *us, int *flags) ES_WARN_UNUSED;

/*
 * Epoch number (from a JSON number) to µs, unit chosen by magnitude of |v|: below 1e11
 * seconds, below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds. Rounds to
 * the nearest µs. ES_EINVALID for NaN, infinities and values out of int64 µs range.
 */
int timeparse_epoch(double v, int64_t *us) ES_WARN_UNUSED;

/* Same for an integer (JSON integer), exactly: ns inputs are truncated to µs. Never fails. */
int timeparse_epoch_int(int64_t v, int64_t *us) ES_WARN_UNUSED;

/*
 * Formats us as RFC 3339 UTC with microseconds ("2026-03-15T10:30:00.123456Z") into buf
 * (always NUL-terminated when len > 0; 28 bytes suffice for years 0..9999). ES_TIME_NONE
 * (INT64_MIN) gives "".
 */
#define TIMEPARSE_FORMAT_LEN 32
void timeparse_format(int64_t us, char *buf, size_t len);

#endif
