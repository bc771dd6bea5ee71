/* Escaping and formatting of text shown by the TUI (no curses here: unit-tested). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/event.h"
#include "tui/text.h"

/* Length of the valid UTF-8 sequence at s (left bytes readable), 0 when invalid or unsafe. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    uint32_t cp;
    size_t n = event_utf8_seq(s, left, &cp);

    return n > 1 && event_cp_unsafe(cp) ? 0 : n;
}

char *text_escape(const char *s, char *buf, size_t len, int ascii)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "-");
    size_t left = strlen((const char *)p), o = 0, n, k;
    char tmp[8];
    const char *e;

    if (len == 0)
        return buf;
    while (left > 0) {
        n = utf8_len(p, left);
        e = NULL;
        if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
            switch (*p) {
            case '\n': e = "\\n"; break;
            case '\r': e = "\\r"; break;
            case '\t': e = "\\t"; break;
            default: snprintf(tmp, sizeof tmp, "\\x%02x", *p); e = tmp;
            }
        } else if (n == 0) {
            snprintf(tmp, sizeof tmp, "\\x%02x", *p);
            e = tmp;
            n = 1;
        } else if (n > 1 && ascii) {
            e = "?";
        }
        if (e != NULL) {
            k = strlen(e);
            if (o + k >= len)
                break;
            memcpy(buf + o, e, k);
        } else {
            k = n;
            if (o + k >= len)
                break;
            memcpy(buf + o, p, k);
        }
        o += k;
        p += n;
        left -= n;
    }
    buf[o] = '\0';
    return buf;
}

void text_duration(int64_t us, char *buf, size_t len)
{
    long long a = us < 0 ? -(long long)us : (long long)us;
    const char *sign = us < 0 ? "-" : "";

    if (a < 1000)
        snprintf(buf, len, "%s%lldus", sign, a);
    else if (a < 1000000)
        snprintf(buf, len, "%s%.1fms", sign, a / 1000.0);
    else if (a < 60000000)
        snprintf(buf, len, "%s%.1fs", sign, a / 1e6);
    else if (a < 3600000000LL)
        snprintf(buf, len, "%s%lldm%02llds", sign, a / 60000000, a / 1000000 % 60);
    else if (a < 86400000000LL)
        snprintf(buf, len, "%s%lldh%02lldm", sign, a / 3600000000LL, a / 60000000 % 60);
    else
        snprintf(buf, len, "%s%lldd%02lldh", sign, a / 86400000000LL, a / 3600000000LL % 24);
}

/* Splits us into a UTC struct tm and the microseconds of the second. */
static int split_time(int64_t us, struct tm *tm, long *frac)
{
    time_t t;
    int64_t s = us / 1000000, f = us % 1000000;

    if (f < 0)
        f += 1000000, s--;
    t = (time_t)s;
    if (gmtime_r(&t, tm) == NULL)
        return 0;
    *frac = (long)f;
    return 1;
}

void text_clock(int64_t us, char *buf, size_t len)
{
    struct tm tm;
    long f;

    if (us == ES_TIME_NONE || !split_time(us, &tm, &f)) {
        snprintf(buf, len, "-");
        return;
    }
    snprintf(buf, len, "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min, tm.tm_sec, f / 1000);
}

void text_datetime(int64_t us, char *buf, size_t len)
{
    struct tm tm;
    long f;

    if (us == ES_TIME_NONE || !split_time(us, &tm, &f)) {
        snprintf(buf, len, "-");
        return;
    }
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int text_contains(const char *hay, const char *needle)
{
    size_t i, j, hn, nn;

    if (needle == NULL || *needle == '\0')
        return 1;
    if (hay == NULL)
        return 0;
    hn = strlen(hay);
    nn = strlen(needle);
    for (i = 0; i + nn <= hn; i++) {
        for (j = 0; j < nn; j++)
            if (tolower((unsigned char)hay[i + j]) != tolower((unsigned char)needle[j]))
                break;
        if (j == nn)
            return 1;
    }
    return 0;
}
