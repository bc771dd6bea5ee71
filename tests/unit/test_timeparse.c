/* core/timeparse: RFC 3339 / ISO 8601 text, epoch numbers, formatting. */
#include "core/timeparse.h"

#include <stdint.h>
#include <string.h>

#include "core/event.h"
#include "tests/check.h"

#define BAD INT64_MIN /* expect ES_EINVALID */
#define NZ TIMEPARSE_NO_ZONE
#define EP TIMEPARSE_EPOCH

static const struct text_case {
    const char *in;
    int64_t us; /* expected µs, or BAD */
    int flags;
} texts[] = {
    /* RFC 3339 with every offset form */
    {"2026-03-15T10:30:00Z", 1773570600000000, 0},
    {"2026-03-15t10:30:00z", 1773570600000000, 0},
    {"2026-03-15 10:30:00Z", 1773570600000000, 0},
    {"2026-03-15T12:30:00+02:00", 1773570600000000, 0},
    {"2026-03-15T12:30:00+0200", 1773570600000000, 0},
    {"2026-03-15T12:30:00+02", 1773570600000000, 0},
    {"2026-03-15T05:00:00-05:30", 1773570600000000, 0},
    {"2026-03-15T10:30:00+00:00", 1773570600000000, 0},
    {"2026-03-15T10:30:00-00:00", 1773570600000000, 0},
    {"2026-03-15 12:30:00 +0200", 1773570600000000, 0},
    /* zone names: "UTC"/"GMT" alone, or an abbreviation after a numeric offset (Go) */
    {"2026-03-15 10:30:00 UTC", 1773570600000000, 0},
    {"2026-03-15T10:30:00GMT", 1773570600000000, 0},
    {"2026-03-15 12:30:00.5 +0200 CEST", 1773570600500000, 0},
    {"2026-03-15 10:30:00.123456789 +0000 UTC", 1773570600123456, 0},
    {"2026-03-15 10:30:00 PST", BAD, 0},
    {"2026-03-15 10:30:00 +0000 utc", BAD, 0},
    {"2026-03-15 10:30:00 +0000 TOOLONG", BAD, 0},
    {"2026-03-15 10:30:00Z UTC", BAD, 0},
    /* fractions: ms, µs, ns (truncated), comma */
    {"2026-03-15T10:30:00.1Z", 1773570600100000, 0},
    {"2026-03-15T10:30:00.123Z", 1773570600123000, 0},
    {"2026-03-15T10:30:00.123456Z", 1773570600123456, 0},
    {"2026-03-15T10:30:00.123456789Z", 1773570600123456, 0},
    {"2026-03-15T10:30:00.999999999Z", 1773570600999999, 0},
    {"2026-03-15T10:30:00,5Z", 1773570600500000, 0},
    /* no offset: UTC, flagged */
    {"2026-03-15T10:30:00", 1773570600000000, NZ},
    {"2026-03-15T10:30:00.25", 1773570600250000, NZ},
    {"2026-03-15T10:30", 1773570600000000, NZ},
    {"2026-03-15", 1773532800000000, NZ},
    {" 2026-03-15T10:30:00Z ", 1773570600000000, 0},
    /* calendar edges */
    {"1970-01-01T00:00:00Z", 0, 0},
    {"1969-12-31T23:59:59.999999Z", -1, 0},
    {"2000-02-29T00:00:00Z", 951782400000000, 0},
    {"2024-02-29T00:00:00Z", 1709164800000000, 0},
    {"2024-03-01T00:00:00Z", 1709251200000000, 0},
    {"2024-12-31T23:59:59Z", 1735689599000000, 0},
    {"1900-03-01T00:00:00Z", -2203891200000000, 0},
    {"0001-01-01T00:00:00Z", -62135596800000000, 0},
    {"9999-12-31T23:59:59Z", 253402300799000000, 0},
    {"2016-12-31T23:59:60Z", 1483228800000000, 0}, /* leap second lands on the next second */
    {"2026-03-15T00:30:00+01:00", 1773531000000000, 0}, /* offset crosses midnight */
    /* RFC 5322 / 1123 (HTTP and mail dates) and ISO 8601 basic format */
    {"Sun, 15 Mar 2026 10:30:00 GMT", 1773570600000000, 0},
    {"sun, 15 mar 2026 12:30:00 +0200", 1773570600000000, 0},
    {"15 Mar 2026 10:30:00 UT", 1773570600000000, 0},
    {"Sunday, 15 Mar 2026 10:30:00.25 Z", 1773570600250000, 0},
    {"5 Mar 2026 10:30 +0000", 1772706600000000, 0},
    {"15 Mar 2026 10:30:00", 1773570600000000, NZ},
    {"15 Foo 2026 10:30:00 GMT", BAD, 0},
    {"32 Mar 2026 10:30:00 GMT", BAD, 0},
    {"15 Mar 26 10:30:00 GMT", BAD, 0},
    {"Sun, 15 Mar 2026 10:30:00 EST", BAD, 0},
    {"20260315T103000Z", 1773570600000000, 0},
    {"20260315T123000.5+0200", 1773570600500000, 0},
    {"20260315T103000", 1773570600000000, NZ},
    {"2026031XT103000Z", BAD, 0},
    /* epoch numbers as text, unit by magnitude */
    {"0", 0, EP},
    {"1700000000", 1700000000000000, EP},
    {"1700000000.5", 1700000000500000, EP},
    {"1700000000.1234567", 1700000000123456, EP},
    {"1700000000123", 1700000000123000, EP},
    {"1700000000123.456", 1700000000123456, EP},
    {"1700000000123456", 1700000000123456, EP},
    {"1700000000123456789", 1700000000123456, EP},
    {"-1", -1000000, EP},
    {"-1700000000123", -1700000000123000, EP},
    {"99999999999", 99999999999000000, EP},    /* 1e11 - 1: still seconds */
    {"100000000000", 100000000000000, EP},     /* 1e11: milliseconds */
    {"+5", 5000000, EP},
    /* garbage */
    {"", BAD, 0},
    {" ", BAD, 0},
    {"2026-13-01T00:00:00Z", BAD, 0},
    {"2026-00-01T00:00:00Z", BAD, 0},
    {"2026-01-32T00:00:00Z", BAD, 0},
    {"2026-01-00T00:00:00Z", BAD, 0},
    {"2023-02-29T00:00:00Z", BAD, 0},
    {"1900-02-29T00:00:00Z", BAD, 0},
    {"2026-04-31T00:00:00Z", BAD, 0},
    {"2026-03-15T25:00:00Z", BAD, 0},
    {"2026-03-15T24:00:00Z", BAD, 0},
    {"2026-03-15T10:60:00Z", BAD, 0},
    {"2026-03-15T10:30:61Z", BAD, 0},
    {"2026-03-15T10:30:00+24:00", BAD, 0},
    {"2026-03-15T10:30:00+02:60", BAD, 0},
    {"2026-03-15T10:30:00+2", BAD, 0},
    {"2026-03-15T10:30:00Zjunk", BAD, 0},
    {"2026-03-15T10:30:00.Z", BAD, 0},
    {"2026-03-15T10:30:00 ", 1773570600000000, NZ},
    {"2026-03-15X10:30:00Z", BAD, 0},
    {"2026-03-15T", BAD, 0},
    {"2026-3-15T10:30:00Z", BAD, 0},
    {"26-03-15T10:30:00Z", BAD, 0},
    {"2026/03/15 10:30:00", BAD, 0},
    {"yesterday", BAD, 0},
    {"12abc", BAD, 0},
    {"1.", BAD, 0},
    {".5", BAD, 0},
    {"-", BAD, 0},
    {"1e9", BAD, 0},
    {"99999999999999999999", BAD, 0},
    {"--1", BAD, 0},
};

static void test_text(void)
{
    size_t i;

    for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int64_t us = 42;
        int flags = -1;
        int rc = timeparse_text(texts[i].in, strlen(texts[i].in), &us, &flags);
        int want = texts[i].us == BAD ? ES_EINVALID : ES_OK;
        check_count++;
        if (rc != want || (rc == ES_OK && (us != texts[i].us || flags != texts[i].flags))) {
            check_failures++;
            fprintf(stderr, "case %zu \"%s\": rc %d (want %d) us %lld (want %lld) flags %d\n", i,
                    texts[i].in, rc, want, (long long)us, (long long)texts[i].us, flags);
        }
    }
}

/* The parser reads only len bytes: a valid prefix of a longer buffer parses alone. */
static void test_length_bound(void)
{
    char longfrac[300];
    size_t k;

    const char *s = "2026-03-15T10:30:00Zjunk";
    int64_t us;
    CHECK_INT(timeparse_text(s, 20, &us, NULL), ES_OK);
    CHECK_INT(us, 1773570600000000);
    CHECK_INT(timeparse_text(s, 21, &us, NULL), ES_EINVALID);
    CHECK_INT(timeparse_text(s, 19, &us, NULL), ES_OK); /* "…10:30:00": no zone */
    CHECK_INT(timeparse_text(s, 0, &us, NULL), ES_EINVALID);
    CHECK_INT(timeparse_text(NULL, 0, &us, NULL), ES_EINVALID);
    CHECK_INT(timeparse_text("1700000000", 4, &us, NULL), ES_OK);
    CHECK_INT(us, 1700000000LL); /* "1700" seconds */
    /* A fraction of any length up to the 256-byte limit (n-1, n, n+1). */
    for (k = 255; k <= 257; k++) {
        memset(longfrac, '7', sizeof longfrac);
        memcpy(longfrac, "2026-03-15T10:30:00.", 20);
        longfrac[k - 1] = 'Z';
        CHECK_INT(timeparse_text(longfrac, k, &us, NULL), k <= 256 ? ES_OK : ES_EINVALID);
        if (k <= 256)
            CHECK_INT(us, 1773570600777777LL);
    }
}

static const struct epoch_case {
    double v;
    int64_t us;
} epochs[] = {
    {0, 0},
    {1700000000, 1700000000000000},
    {1700000000.123456, 1700000000123456},
    {1700000000123.0, 1700000000123000},
    {1700000000123456.0, 1700000000123456},
    {1700000000123456789.0, 1700000000123457}, /* double precision at ns magnitude */
    {-1.5, -1500000},
    {1e300, BAD},
    {-1e300, BAD},
};

static void test_epoch(void)
{
    size_t i;
    int64_t us;

    for (i = 0; i < sizeof epochs / sizeof epochs[0]; i++) {
        int rc = timeparse_epoch(epochs[i].v, &us);
        int want = epochs[i].us == BAD ? ES_EINVALID : ES_OK;
        check_count++;
        if (rc != want || (rc == ES_OK && us / 1000 != epochs[i].us / 1000)) {
            check_failures++;
            fprintf(stderr, "epoch case %zu %.17g: rc %d us %lld\n", i, epochs[i].v, rc,
                    (long long)us);
        }
    }
    CHECK_INT(timeparse_epoch(0.0 / 0.0, &us), ES_EINVALID);
    CHECK_INT(timeparse_epoch(1.0 / 0.0, &us), ES_EINVALID);

    CHECK_INT(timeparse_epoch_int(1700000000123456789LL, &us), ES_OK);
    CHECK_INT(us, 1700000000123456LL);
    CHECK_INT(timeparse_epoch_int(1700000000123LL, &us), ES_OK);
    CHECK_INT(us, 1700000000123000LL);
    CHECK_INT(timeparse_epoch_int(-1700000000LL, &us), ES_OK);
    CHECK_INT(us, -1700000000000000LL);
    CHECK_INT(timeparse_epoch_int(INT64_MIN, &us), ES_OK);
    CHECK_INT(timeparse_epoch_int(INT64_MAX, &us), ES_OK);
    CHECK_INT(us, INT64_MAX / 1000);
}

static void test_format(void)
{
    static const struct {
        int64_t us;
        const char *out;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000000Z"},
        {-1, "1969-12-31T23:59:59.999999Z"},
        {1773570600123456, "2026-03-15T10:30:00.123456Z"},
        {1709164800000000, "2024-02-29T00:00:00.000000Z"},
        {951782400000000, "2000-02-29T00:00:00.000000Z"},
        {-62135596800000000, "0001-01-01T00:00:00.000000Z"},
        {253402300799999999, "9999-12-31T23:59:59.999999Z"},
        {ES_TIME_NONE, ""},
    };
    char buf[TIMEPARSE_FORMAT_LEN], small[8];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        timeparse_format(cases[i].us, buf, sizeof buf);
        CHECK_STR(buf, cases[i].out);
    }
    /* Round trip over a spread of instants, one per 97 days and a few µs. */
    for (i = 0; i < 400; i++) {
        int64_t us = -2000000000000000LL + (int64_t)i * 97 * 86400000000LL + (int64_t)i * 7, back;
        timeparse_format(us, buf, sizeof buf);
        if (timeparse_text(buf, strlen(buf), &back, NULL) != ES_OK || back != us) {
            check_failures++;
            fprintf(stderr, "round trip %lld -> %s -> %lld\n", (long long)us, buf,
                    (long long)back);
        }
        check_count++;
    }
    timeparse_format(0, small, sizeof small); /* truncated, still terminated */
    CHECK_STR(small, "1970-01");
    small[0] = 'x';
    timeparse_format(0, small, 0); /* len 0 writes nothing */
    CHECK_INT(small[0], 'x');
}

int main(void)
{
    test_text();
    test_length_bound();
    test_epoch();
    test_format();
    return CHECK_DONE();
}
