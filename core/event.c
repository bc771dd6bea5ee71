/* The event model: initialisation, field setters and the payload hash. */
#include "event.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

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
