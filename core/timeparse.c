/*
 * Producer and log timestamps to UTC microseconds: RFC 3339 / ISO 8601 text and epoch
 * numbers. Calendar arithmetic is done here (proleptic Gregorian, days from 1970-01-01), so
 * the result never depends on TZ or on timegm().
 */
#include "timeparse.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"

/* Longer text is not a time (and a long fraction is 200 useless digits). */
#define TIMEPARSE_MAX_LEN 256
#define US_PER_S INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_S)

/* Epoch magnitude limits: below 1e11 seconds (year 5138), below 1e14 ms, 1e17 µs, else ns. */
#define EPOCH_S_MAX 1e11
#define EPOCH_MS_MAX 1e14
#define EPOCH_US_MAX 1e17

/* ---- Calendar ------------------------------------------------------------------------ */

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int8_t mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date. Years are shifted to start in March
 * so the leap day is the last day of the shifted year; an era is 400 years (146097 days).
 */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;                                   /* [0, 399] */
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* Inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* ---- Reading ------------------------------------------------------------------------- */

static int is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* Exactly n digits as a number; sets the sticky error when they are not there. */
static int read_digits(struct cursor *c, int n)
{
    int v = 0;
    while (n-- > 0) {
        int ch = cur_peek(c);
        if (!is_digit(ch)) {
            cur_fail(c, ES_EINVALID);
            return 0;
        }
        v = v * 10 + (ch - '0');
        cur_skip(c, 1);
    }
    return v;
}

/*
 * A decimal number "[-]digits[.digits]" filling the whole cursor, as epoch time in a unit
 * chosen by the magnitude of its integer part. Integer arithmetic only, so ns inputs keep
 * their precision; digits past µs are truncated.
 */
static int parse_epoch_text(struct cursor *c, int64_t *us)
{
    uint64_t ip = 0;
    int neg = cur_accept(c, '-'), ndig = 0, fdig = 0;
    int64_t frac_us = 0; /* fraction of the unit, scaled to 10^-6 of the unit */
    int64_t unit_us, v;

    if (!neg)
        (void)cur_accept(c, '+');
    while (is_digit(cur_peek(c))) {
        unsigned d = (unsigned)(cur_peek(c) - '0');
        if (ip > (UINT64_MAX - d) / 10)
            return ES_EINVALID;
        ip = ip * 10 + d;
        ndig++;
        cur_skip(c, 1);
    }
    if (ndig == 0)
        return ES_EINVALID;
    if (cur_accept(c, '.')) {
        while (is_digit(cur_peek(c))) {
            if (fdig < 6)
                frac_us = frac_us * 10 + (cur_peek(c) - '0');
            fdig++;
            cur_skip(c, 1);
        }
        if (fdig == 0)
            return ES_EINVALID;
        for (; fdig < 6; fdig++)
            frac_us *= 10;
    }
    if (c->left != 0 || ip > (uint64_t)INT64_MAX)
        return ES_EINVALID;

    if ((double)ip < EPOCH_S_MAX) {
        unit_us = US_PER_S;
        v = (int64_t)ip * unit_us + frac_us;
    } else if ((double)ip < EPOCH_MS_MAX) {
        unit_us = 1000;
        v = (int64_t)ip * unit_us + frac_us / 1000;
    } else if ((double)ip < EPOCH_US_MAX) {
        v = (int64_t)ip;
    } else {
        v = (int64_t)(ip / 1000);
    }
    *us = neg ? -v : v;
    return ES_OK;
}

/* "UTC" or "GMT" as the whole rest of the text (consumed): a zone name meaning +00:00. */
static int is_utc_name(struct cursor *c)
{
    if (c->left != 3 || (memcmp(c->p, "UTC", 3) != 0 && memcmp(c->p, "GMT", 3) != 0))
        return 0;
    cur_skip(c, 3);
    return 1;
}

/* Offset "Z", "±hh:mm", "±hhmm" or "±hh" in seconds east of UTC. */
static int read_offset(struct cursor *c, int *off_s)
{
    int sign, hh, mm = 0;

    if (cur_accept(c, 'Z') || cur_accept(c, 'z')) {
        *off_s = 0;
        return ES_OK;
    }
    if (cur_accept(c, '+'))
        sign = 1;
    else if (cur_accept(c, '-'))
        sign = -1;
    else
        return ES_EINVALID;
    hh = read_digits(c, 2);
    if (cur_accept(c, ':'))
        mm = read_digits(c, 2);
    else if (is_digit(cur_peek(c)))
        mm = read_digits(c, 2);
    if (c->err || hh > 23 || mm > 59)
        return ES_EINVALID;
    *off_s = sign * (hh * 3600 + mm * 60);
    return ES_OK;
}

/*
 * "YYYY-MM-DD[(T|t| )hh:mm[:ss[(.|,)fraction]][ ][offset| UTC| GMT]]", the offset optionally
 * followed by " ABBR" (Go's "+0200 CEST"). Date-only text is midnight.
 * Seconds may be 60 (a leap second, RFC 3339 section 5.7): it lands on the next second.
 */
static int parse_iso(struct cursor *c, int64_t *us, int *flags)
{
    int y, mo, d, h = 0, mi = 0, s = 0, off = 0, ndig = 0, zone = 0;
    int64_t frac = 0, days;

    y = read_digits(c, 4);
    if (!cur_accept(c, '-'))
        cur_fail(c, ES_EINVALID);
    mo = read_digits(c, 2);
    if (!cur_accept(c, '-'))
        cur_fail(c, ES_EINVALID);
    d = read_digits(c, 2);
    if (c->err || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return ES_EINVALID;

    if (c->left) {
        int sep = cur_peek(c);
        if (sep != 'T' && sep != 't' && sep != ' ')
            return ES_EINVALID;
        cur_skip(c, 1);
        h = read_digits(c, 2);
        if (!cur_accept(c, ':'))
            cur_fail(c, ES_EINVALID);
        mi = read_digits(c, 2);
        if (cur_accept(c, ':')) {
            s = read_digits(c, 2);
            if (cur_accept(c, '.') || cur_accept(c, ',')) {
                while (is_digit(cur_peek(c))) {
                    if (ndig < 6)
                        frac = frac * 10 + (cur_peek(c) - '0');
                    ndig++;
                    cur_skip(c, 1);
                }
                if (ndig == 0)
                    return ES_EINVALID;
                for (; ndig < 6; ndig++)
                    frac *= 10;
            }
        }
        if (c->err || h > 23 || mi > 59 || s > 60)
            return ES_EINVALID;
        /* Logs often put one space before the offset ("... 10:00:00 +0200"). */
        if (c->left > 1 && cur_peek(c) == ' ')
            cur_skip(c, 1);
        if (is_utc_name(c)) {
            zone = 1;
        } else if (c->left) {
            int numeric = cur_peek(c) == '+' || cur_peek(c) == '-';
            if (read_offset(c, &off) != ES_OK)
                return ES_EINVALID;
            zone = 1;
            /* Go's time.String(): "+0200 CEST", "+0000 UTC": the abbreviation adds nothing. */
            if (numeric && c->left >= 2 && c->left <= 6 && cur_accept(c, ' ')) {
                while (c->left) {
                    int ch = cur_u8(c);
                    if (ch < 'A' || ch > 'Z')
                        return ES_EINVALID;
                }
            }
        }
    }
    if (c->err || c->left)
        return ES_EINVALID;

    days = days_from_civil(y, mo, d);
    *us = (days * 86400 + h * 3600 + mi * 60 + s - off) * US_PER_S + frac;
    if (flags)
        *flags = zone ? 0 : TIMEPARSE_NO_ZONE;
    return ES_OK;
}

static int is_alpha(int ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

/*
 * Rewrites two other spellings as the ISO text parse_iso reads (into iso, cap bytes):
 *   RFC 5322 / 1123 (HTTP dates, mail): "[Sun, ]15 Mar 2026 10:30[:00[.123]] (GMT|UT|UTC|Z|+hhmm)"
 *   ISO 8601 basic: "20260315T103000[.123](Z|+hhmm)"
 * Returns ES_OK, or ES_EINVALID when the text is neither.
 */
static int to_extended(const char *s, size_t len, char *iso, size_t cap)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    struct cursor c;
    char mon[4];
    int d, y, i, n;
    const char *m;

    cur_init(&c, s, len);
    if (len >= 15 && s[8] == 'T') { /* basic format: 8 digits, 'T', 6 digits */
        for (i = 0; i < 15; i++)
            if (i != 8 && !is_digit(s[i]))
                return ES_EINVALID;
        n = snprintf(iso, cap, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s%.*s", s, s + 4, s + 6, s + 9,
                     s + 11, s + 13, (int)(len - 15), s + 15);
        return n > 0 && (size_t)n < cap ? ES_OK : ES_EINVALID;
    }
    if (is_alpha(cur_peek(&c))) { /* day of the week, ignored: the date says it */
        while (is_alpha(cur_peek(&c)))
            cur_skip(&c, 1);
        cur_accept(&c, ',');
        while (cur_accept(&c, ' '))
            ;
    }
    d = 0;
    for (i = 0; i < 2 && is_digit(cur_peek(&c)); i++)
        d = d * 10 + (cur_u8(&c) - '0');
    if (i == 0 || !cur_accept(&c, ' '))
        return ES_EINVALID;
    for (i = 0; i < 3; i++) {
        int ch = cur_u8(&c);
        mon[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    mon[3] = '\0';
    if (c.err || (m = strstr(months, mon)) == NULL || (m - months) % 3 != 0 ||
        !cur_accept(&c, ' '))
        return ES_EINVALID;
    y = read_digits(&c, 4);
    if (c.err || !cur_accept(&c, ' '))
        return ES_EINVALID;
    /* the clock and zone as they are, "UT" spelled as parse_iso knows it */
    n = snprintf(iso, cap, "%04d-%02d-%02dT%.*s%s", y, (int)(m - months) / 3 + 1, d,
                 (int)c.left, (const char *)c.p,
                 c.left >= 3 && memcmp(c.p + c.left - 3, " UT", 3) == 0 ? "C" : "");
    return n > 0 && (size_t)n < cap ? ES_OK : ES_EINVALID;
}

int timeparse_text(const char *s, size_t len, int64_t *us, int *flags)
{
    struct cursor c, ahead;
    int rc, i, digits4 = 1;

    if (s == NULL)
        return ES_EINVALID;
    /* Surrounding blanks are tolerated; nothing else around the time is. */
    while (len && (s[0] == ' ' || s[0] == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0 || len > TIMEPARSE_MAX_LEN)
        return ES_EINVALID;
    cur_init(&c, s, len);

    /* Four digits then '-' is a date; anything else numeric is an epoch number. */
    ahead = c;
    for (i = 0; i < 4; i++)
        digits4 &= is_digit(cur_u8(&ahead));
    if (digits4 && cur_accept(&ahead, '-')) {
        rc = parse_iso(&c, us, flags);
    } else if (is_alpha(s[0]) || (len >= 15 && s[8] == 'T') ||
               (len > 2 && (s[1] == ' ' || s[2] == ' '))) {
        char iso[TIMEPARSE_MAX_LEN + 16];
        rc = to_extended(s, len, iso, sizeof iso);
        if (rc == ES_OK) {
            cur_init(&c, iso, strlen(iso));
            rc = parse_iso(&c, us, flags);
        }
    } else {
        rc = parse_epoch_text(&c, us);
        if (rc == ES_OK && flags)
            *flags = TIMEPARSE_EPOCH;
    }
    return rc;
}

int timeparse_epoch(double v, int64_t *us)
{
    double a = fabs(v), r;

    if (!isfinite(v))
        return ES_EINVALID;
    if (a < EPOCH_S_MAX)
        r = v * 1e6;
    else if (a < EPOCH_MS_MAX)
        r = v * 1e3;
    else if (a < EPOCH_US_MAX)
        r = v;
    else
        r = v / 1e3;
    /* Rounding to the nearest µs undoes binary fractions (0.123456 s is 123455.99... µs). */
    r = round(r);
    if (!(r > -9.2e18 && r < 9.2e18))
        return ES_EINVALID;
    *us = (int64_t)r;
    return ES_OK;
}

int timeparse_epoch_int(int64_t v, int64_t *us)
{
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int64_t r;

    if (a < (uint64_t)1e11)
        r = (int64_t)a * US_PER_S;
    else if (a < (uint64_t)1e14)
        r = (int64_t)a * 1000;
    else if (a < (uint64_t)1e17)
        r = (int64_t)a;
    else
        r = (int64_t)(a / 1000);
    *us = v < 0 ? -r : r;
    return ES_OK;
}

void timeparse_format(int64_t us, char *buf, size_t len)
{
    int64_t days, rem, y;
    int m, d;

    if (len == 0)
        return;
    if (us == INT64_MIN) {
        buf[0] = '\0';
        return;
    }
    /* Floor division so times before 1970 land on the right day. */
    days = us / US_PER_DAY;
    rem = us % US_PER_DAY;
    if (rem < 0)
        rem += US_PER_DAY, days--;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d.%06dZ", (long long)y, m, d,
             (int)(rem / (3600 * US_PER_S)), (int)(rem / (60 * US_PER_S) % 60),
             (int)(rem / US_PER_S % 60), (int)(rem % US_PER_S));
}
