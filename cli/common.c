/* Helpers shared by the commands: usage, errors, store opening, escaping, colour. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "core/event.h"

void cli_usage(const struct cmd_entry *e, FILE *f)
{
    fprintf(f, "usage: eventscope [-d DB] %s %s\n\n%s\n", e->name, e->usage, e->summary);
    if (e->help && *e->help)
        fprintf(f, "\n%s", e->help);
}

int cli_wants_help(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "eventscope %s: ", cmd);
    cli_put_escaped(stderr, buf);
    fputc('\n', stderr);
}

int cli_open_store(const char *cmd, const char *db, unsigned flags, struct store **st)
{
    char err[1024];

    if ((flags & STORE_READONLY) && access(db, F_OK) != 0) {
        cli_error(cmd, "no store at %s: run `eventscope -d %s ingest PATH` first, or pass -d DB",
                  db, db);
        return CLI_EXIT_INPUT;
    }
    if (store_open(db, flags, st, err, sizeof err) != ES_OK) {
        cli_error(cmd, "%s", err);
        return CLI_EXIT_INPUT;
    }
    return CLI_EXIT_OK;
}

int cli_color(FILE *f)
{
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

    if (nc != NULL && *nc != '\0')
        return 0;
    if (term != NULL && strcmp(term, "dumb") == 0)
        return 0;
    return isatty(fileno(f));
}

/* Length of the valid UTF-8 sequence at s (left bytes readable), 0 when invalid or unsafe. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    uint32_t cp;
    size_t n = event_utf8_seq(s, left, &cp);

    return n > 1 && event_cp_unsafe(cp) ? 0 : n;
}

char *cli_escape(const char *s, char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "-");
    size_t left = strlen((const char *)p), o = 0, n;
    char tmp[8];

    if (len == 0)
        return buf;
    while (left > 0) {
        n = utf8_len(p, left);
        if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
            const char *e = NULL;
            switch (*p) {
            case '\n': e = "\\n"; break;
            case '\r': e = "\\r"; break;
            case '\t': e = "\\t"; break;
            default: snprintf(tmp, sizeof tmp, "\\x%02x", *p); e = tmp;
            }
            if (o + strlen(e) >= len)
                break;
            memcpy(buf + o, e, strlen(e));
            o += strlen(e);
        } else if (n == 0) {
            snprintf(tmp, sizeof tmp, "\\x%02x", *p);
            if (o + 4 >= len)
                break;
            memcpy(buf + o, tmp, 4);
            o += 4;
            n = 1;
        } else {
            if (o + n >= len)
                break;
            memcpy(buf + o, p, n);
            o += n;
        }
        p += n;
        left -= n;
    }
    buf[o] = '\0';
    return buf;
}

void cli_put_escaped(FILE *f, const char *s)
{
    size_t len = s ? strlen(s) : 1;
    char stackbuf[1024], *buf = stackbuf;
    size_t cap = len * 4 + 1;

    if (cap > sizeof stackbuf)
        buf = malloc(cap);
    if (buf == NULL)
        return;
    fputs(cli_escape(s, buf, cap), f);
    if (buf != stackbuf)
        free(buf);
}

void cli_format_duration(long long us, char *buf, size_t len)
{
    long long a = us < 0 ? -us : us;
    const char *sign = us < 0 ? "-" : "";

    if (a < 1000)
        snprintf(buf, len, "%s%lldµs", sign, a);
    else if (a < 1000000)
        snprintf(buf, len, "%s%.1fms", sign, a / 1000.0);
    else if (a < 60000000)
        snprintf(buf, len, "%s%.1fs", sign, a / 1e6);
    else if (a < 3600000000LL)
        snprintf(buf, len, "%s%lldm%02llds", sign, a / 60000000, a / 1000000 % 60);
    else
        snprintf(buf, len, "%s%lldh%02lldm", sign, a / 3600000000LL, a / 60000000 % 60);
}
