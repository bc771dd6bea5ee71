/* Unit tests of core/event.c: field setters, the payload hash, UTF-8 repair. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "tests/check.h"

static const struct repair_case {
    const char *in;
    size_t len;
    const char *out; /* NULL: already valid */
} repair_cases[] = {
    {"", 0, NULL},
    {"plain ascii", 11, NULL},
    {"caf\xc3\xa9", 5, NULL},
    {"\xf0\x9f\x98\x80", 4, NULL},              /* U+1F600 */
    {"a\xff" "b", 3, "a\xef\xbf\xbd" "b"},       /* stray byte */
    {"\xc3", 1, "\xef\xbf\xbd"},                 /* cut sequence at the end (n-1) */
    {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"}, /* overlong '/' */
    {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
    {"\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > U+10FFFF */
    {"x\0y", 3, NULL},                           /* NUL is valid UTF-8 */
};

int main(void)
{
    struct event ev;
    size_t i, n;
    char *s;

    for (i = 0; i < sizeof repair_cases / sizeof repair_cases[0]; i++) {
        const struct repair_case *c = &repair_cases[i];
        s = event_utf8_repair(c->in, c->len, &n);
        if ((s == NULL) != (c->out == NULL) || (s && strcmp(s, c->out) != 0))
            fprintf(stderr, "repair case %zu (len %zu) differs\n", i, c->len);
        CHECK((s == NULL) == (c->out == NULL));
        if (s && c->out) {
            CHECK_STR(s, c->out);
            CHECK_INT(n, strlen(c->out));
        }
        free(s);
    }

    {
        uint32_t cp = 0;
        CHECK_INT(event_utf8_seq("A", 1, &cp), 1);
        CHECK_INT(cp, 'A');
        CHECK_INT(event_utf8_seq("\xc3\xa9", 2, &cp), 2);
        CHECK_INT(cp, 0xe9);
        CHECK_INT(event_utf8_seq("\xc3\xa9", 1, &cp), 0);          /* cut */
        CHECK_INT(event_utf8_seq("\xe2\x80\xae", 3, &cp), 3);     /* U+202E */
        CHECK(event_cp_unsafe(cp));                                 /* bidi override */
        CHECK(event_cp_unsafe(0x9b));                               /* C1 CSI */
        CHECK(!event_cp_unsafe(0xe9));
        CHECK(!event_cp_unsafe(0x1f600));
    }

    event_init(&ev);
    CHECK(ev.time_us == ES_TIME_NONE && ev.observed_us == ES_TIME_NONE);
    event_set(&ev.type, "OrderPlacedXYZ", 11);
    CHECK_STR(ev.type, "OrderPlaced");
    event_set_str(&ev.type, NULL);
    CHECK(ev.type == NULL);
    event_set_str(&ev.source, "orders");
    CHECK_STR(ev.source, "orders");
    event_done(&ev);
    CHECK(ev.source == NULL);

    CHECK(event_hash("", 0) != 0);
    CHECK(event_hash("a", 1) != event_hash("b", 1));
    CHECK_INT(event_hash("abc", 3), event_hash("abc", 3));
    return CHECK_DONE();
}
