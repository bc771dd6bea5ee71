/* The event model: initialisation, field setters and the payload hash. */
#include "event.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#define X(f) +1
_Static_assert(0 EVENT_STR_FIELDS(X) == EVENT_NFIELDS, "EVENT_NFIELDS");
#undef X

void event_init(struct event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->time_us = ES_TIME_NONE;
    ev->observed_us = ES_TIME_NONE;
}

void event_done(struct event *ev)
{
#define X(f) free(ev->f);
    EVENT_STR_FIELDS(X)
#undef X
    event_init(ev);
}

void event_set(char **field, const char *s, size_t len)
{
    free(*field);
    *field = s ? xstrndup(s, len) : NULL;
}

void event_set_str(char **field, const char *s)
{
    event_set(field, s, s ? strlen(s) : 0);
}

uint64_t event_hash(const void *p, size_t len)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h ? h : 1;
}

size_t event_utf8_seq(const void *p, size_t left, uint32_t *cp)
{
    const unsigned char *b = p;
    size_t n, i;
    uint32_t c;

    if (b[0] < 0x80)
        return *cp = b[0], 1;
    if ((b[0] & 0xe0) == 0xc0)
        n = 2, c = b[0] & 0x1f;
    else if ((b[0] & 0xf0) == 0xe0)
        n = 3, c = b[0] & 0x0f;
    else if ((b[0] & 0xf8) == 0xf0)
        n = 4, c = b[0] & 0x07;
    else
        return 0;
    if (n > left)
        return 0;
    for (i = 1; i < n; i++) {
        if ((b[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (b[i] & 0x3fu);
    }
    if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
        c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

int event_cp_unsafe(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

char *event_utf8_repair(const void *p, size_t len, size_t *outlen)
{
    const unsigned char *b = p;
    size_t i = 0, o = 0, n;
    uint32_t cp;
    char *out;

    while (i < len && (n = event_utf8_seq(b + i, len - i, &cp)) != 0)
        i += n;
    if (i == len)
        return NULL;
    /* each invalid byte becomes 3 bytes at most */
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    out = xmalloc(len * 3 + 1);
    memcpy(out, b, i);
    o = i;
    while (i < len) {
        n = event_utf8_seq(b + i, len - i, &cp);
        if (n == 0) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, b + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

size_t event_utf8_put(void *out, uint32_t cp)
{
    uint8_t *o = out;

    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xc0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xe0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (uint8_t)(0xf0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}
