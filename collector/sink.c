/* The sink: synchronous version, each record straight to the store. */
#include "collector/sink.h"

#include <string.h>

void sink_init(struct sink *s, struct store *st)
{
    memset(s, 0, sizeof *s);
    s->st = st;
}

int sink_done(struct sink *s)
{
    return sink_flush(s);
}

int sink_origin(struct sink *s, const char *kind, const char *uri)
{
    return store_origin(s->st, kind, uri, &s->origin);
}

int sink_event_take(struct sink *s, struct event *ev)
{
    int added = 0, rc;

    if (s->no_payload) {
        event_set(&ev->data, NULL, 0);
    }
    if (ev->data != NULL && ev->payload_hash == 0)
        ev->payload_hash = event_hash(ev->data, strlen(ev->data));
    rc = store_add_event(s->st, s->origin, ev, &added);
    event_done(ev);
    if (rc != ES_OK)
        return rc;
    if (added)
        s->counts.stored++;
    else
        s->counts.present++;
    return ES_OK;
}

int sink_reject(struct sink *s, const char *location, const char *reason, const char *detail,
                const void *excerpt, size_t excerpt_len)
{
    int rc;

    if (excerpt_len > 256)
        excerpt_len = 256;
    rc = store_add_reject(s->st, s->origin, location, reason, excerpt, excerpt_len);
    if (rc != ES_OK)
        return rc;
    s->counts.rejected++;
    if (s->on_reject)
        s->on_reject(s->reject_ctx, location, reason, detail);
    return ES_OK;
}

int sink_flush(struct sink *s)
{
    return store_commit(s->st);
}
