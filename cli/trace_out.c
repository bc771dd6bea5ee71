/* Output helpers for the read-side commands: times, safe JSON strings, widths, cells. */
#include "cli/trace_out.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "core/event.h"
#include "core/xmalloc.h"

void trace_out_time(int64_t us, enum trace_out_time_style style, char *buf, size_t len)
{
    struct tm tm;
    time_t secs;
    int64_t frac;

    if (us == ES_TIME_NONE) {
        snprintf(buf, len, "-");
        return;
    }
    /* Floor division so times before 1970 keep a positive fraction. */
    secs = (time_t)(us / 1000000);
    frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, len, "?");
        return;
    }
    switch (style) {
    case TRACE_OUT_RFC3339:
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
        break;
    case TRACE_OUT_CLOCK:
        snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(frac / 1000));
        break;
    case TRACE_OUT_DATE:
        snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(frac / 1000));
        break;
    }
}

json_t *trace_out_jstr(const char *s)
{
    json_t *j;
    char *buf;
    size_t cap;

    if (s == NULL)
        return json_null();
    j = json_string(s);
    if (j != NULL)
        return j;
    /* Not valid UTF-8: keep what a person can read, bytes made visible. */
    cap = strlen(s) * 4 + 1;
    buf = xmalloc(cap);
    cli_escape(s, buf, cap);
    j = json_string(buf);
    free(buf);
    return j ? j : json_string("?");
}

int trace_out_cols(FILE *f, int fallback)
{
    struct winsize ws;

    if (isatty(fileno(f)) && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return fallback;
}

size_t trace_out_width(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

void trace_out_cell(FILE *f, const char *s, int width, int right_align)
{
    size_t len = s ? strlen(s) : 1, cap = len * 4 + 1, w;
    char stackbuf[512], *buf = cap > sizeof stackbuf ? xmalloc(cap) : stackbuf;
    const char *p;
    int i, pad;

    cli_escape(s, buf, cap);
    w = trace_out_width(buf);
    if (width <= 0) {
        fputs(buf, f);
    } else if (w > (size_t)width) {
        /* Cut at a code point boundary, leaving one column for the ellipsis. */
        for (p = buf, i = 0; *p && i < width - 1; i++) {
            p++;
            while (((unsigned char)*p & 0xc0) == 0x80)
                p++;
        }
        fwrite(buf, 1, (size_t)(p - buf), f);
        fputs(width >= 1 ? "…" : "", f);
    } else {
        pad = width - (int)w;
        if (right_align)
            fprintf(f, "%*s", pad, "");
        fputs(buf, f);
        if (!right_align)
            fprintf(f, "%*s", pad, "");
    }
    if (buf != stackbuf)
        free(buf);
}

int trace_out_json(json_t *doc)
{
    size_t flags = JSON_PRESERVE_ORDER;
    int rc;

    flags |= isatty(STDOUT_FILENO) ? JSON_INDENT(2) : JSON_COMPACT;
    rc = json_dumpf(doc, stdout, flags);
    fputc('\n', stdout);
    return rc == 0 && fflush(stdout) == 0 ? 0 : -1;
}
