/*
 * Fuzz target for core/jdoc, differential against jansson: jdoc must accept exactly what
 * json_loadb(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY) accepts, and an object must give
 * the same event through the fast path (envelope_from_doc, which copies canonical spans
 * as they are) as through jansson (envelope_from_json, which re-renders every value).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/envelope.h"
#include "core/jdoc.h"

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void compare_events(const struct event *a, const struct event *b)
{
#define X(f)                                                                                       \
    if (!same(a->f, b->f))                                                                         \
        abort();
    EVENT_STR_FIELDS(X)
#undef X
    if (a->time_us != b->time_us || a->observed_us != b->observed_us)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jdoc d;
    json_error_t jerr;
    json_t *j;
    int rc;

    jdoc_init(&d);
    rc = jdoc_parse(&d, (const char *)data, size, 0, 0);
    j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    /* Raw NUL bytes are refused before either parser runs (jansson stops at some); jdoc
     * stops at JDOC_MAX_DEPTH levels, jansson at 2048. */
    if ((rc == ES_OK) != (j != NULL) && memchr(data, 0, size) == NULL &&
        !(rc != ES_OK && strcmp(d.why, "json_too_deep") == 0))
        abort(); /* the two parsers disagree on what is JSON */
    if (rc == ES_OK && j != NULL && jd_type(&d, 0) == JD_OBJECT) {
        struct event fast, slow;
        const char *why;
        event_init(&fast);
        event_init(&slow);
        if (envelope_from_doc(NULL, &d, 0, &fast, &why) != ES_OK ||
            envelope_from_json(NULL, j, &slow, &why) != ES_OK)
            abort();
        compare_events(&fast, &slow);
        event_done(&fast);
        event_done(&slow);
    }
    json_decref(j);
    jdoc_done(&d);
    return 0;
}
