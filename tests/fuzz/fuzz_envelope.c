/*
 * Fuzz target for core/envelope: the input as one JSON record (envelope_from_json), and
 * as one protocol message (envelope_from_message). Message layout: byte 0 picks the
 * binding; then "name: value" lines up to an empty line are the headers; the rest is the
 * body. Records are normalised with and without a field map. Every emitted event is checked
 * for the invariants the store relies on.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/envelope.h"

#define MAX_HEADERS 32

static void check_event(const struct event *ev)
{
    json_t *a;

    /* attrs and data, when set, are JSON texts (attrs an object); the store keeps them. */
    if (ev->attrs != NULL) {
        a = json_loads(ev->attrs, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(a))
            abort();
        json_decref(a);
    }
    if (ev->data != NULL) {
        a = json_loads(ev->data, JSON_DECODE_ANY, NULL);
        if (a == NULL)
            abort();
        json_decref(a);
    }
    if (ev->vclock != NULL && ev->vclock[0] != '{')
        abort();
}

static int on_event(void *ctx, struct event *ev)
{
    (*(int *)ctx)++;
    check_event(ev);
    return ES_OK;
}

/* A field map like a user's, loaded once from a file written here. */
static const struct envelope_map *fuzz_map(void)
{
    static struct envelope_map *m;
    static int tried;
    char path[] = "/tmp/es_fuzz_map_XXXXXX", err[256];
    const char *text = "{\"correlation\": [\"ctx.corr\", \"x-corr\"], \"id\": \"uuid\", "
                       "\"data\": [\"msg.body\"], \"time\": [\"when.at\"]}";
    FILE *f;
    int fd;

    if (tried)
        return m;
    tried = 1;
    if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL)
        abort();
    fputs(text, f);
    fclose(f);
    if (envelope_map_load(path, &m, err, sizeof err) != ES_OK)
        abort();
    unlink(path);
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct envelope_header h[MAX_HEADERS];
    struct event ev, tmpl;
    const char *why;
    size_t nh = 0, pos = 1;
    json_t *obj;
    int count = 0;

    /* 1. The whole input as a JSON record. */
    obj = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (obj != NULL) {
        event_init(&ev);
        if (envelope_from_json(NULL, obj, &ev, &why) == ES_OK)
            check_event(&ev);
        event_done(&ev);
        /* again with a field map, over attrs a collector preset */
        event_init(&ev);
        event_set_str(&ev.attrs, "{\"log_level\":\"INFO\",\"headers\":{\"a\":1}}");
        if (envelope_from_json(fuzz_map(), obj, &ev, &why) == ES_OK)
            check_event(&ev);
        event_done(&ev);
        json_decref(obj);
    }

    /* 2. As a message: binding, header lines, body. */
    if (size == 0)
        return 0;
    while (pos < size && nh < MAX_HEADERS) {
        const uint8_t *line = data + pos, *nl = memchr(line, '\n', size - pos), *colon;
        size_t len = nl ? (size_t)(nl - line) : size - pos;
        pos += len + (nl != NULL);
        if (len == 0)
            break;
        colon = memchr(line, ':', len);
        h[nh].name = (const char *)line;
        h[nh].name_len = colon ? (size_t)(colon - line) : len;
        h[nh].value = colon ? (const char *)colon + 1 : NULL;
        h[nh].value_len = colon ? len - h[nh].name_len - 1 : 0;
        nh++;
    }
    event_init(&tmpl);
    event_set_str(&tmpl.location, "fuzz");
    event_set_str(&tmpl.attrs, "{\"origin\":\"fuzz\"}");
    if (envelope_from_message(NULL, (enum envelope_binding)(data[0] % 5), h, nh,
                              pos < size ? data + pos : NULL, pos < size ? size - pos : 0, &tmpl,
                              on_event, &count, &why) != ES_OK)
        abort();
    if (count == 0) {
        /* every message gives at least one event, except a batch of none ("[]") */
        json_t *body = pos < size ? json_loadb((const char *)data + pos, size - pos,
                                               JSON_REJECT_DUPLICATES, NULL)
                                  : NULL;
        if (!json_is_array(body) || json_array_size(body) != 0)
            abort();
        json_decref(body);
    }
    event_done(&tmpl);
    return 0;
}
