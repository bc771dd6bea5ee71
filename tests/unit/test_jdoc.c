/*
 * core/jdoc.c's reals: the fast path (Clinger: at most 15 significant digits, a power of
 * ten up to 22) must give exactly strtod's double, and longer or larger texts still go
 * through strtod. Generated texts cover leading zeros, fractions, exponents of both
 * signs, and the edges of both limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "core/jdoc.h"

static void check_real(const char *text)
{
    struct jdoc d;
    double want = strtod(text, NULL);

    jdoc_init(&d);
    CHECK_INT(jdoc_parse(&d, text, strlen(text), 0, 0), ES_OK);
    if (jd_type(&d, 0) == JD_REAL) {
        check_count++;
        if (memcmp(&d.n[0].v.d, &want, sizeof want) != 0) {
            check_failures++;
            fprintf(stderr, "%s: jdoc %.17g, strtod %.17g\n", text, d.n[0].v.d, want);
        }
    } else {
        CHECK(strchr(text, '.') == NULL && strpbrk(text, "eE") == NULL);
    }
    jdoc_done(&d);
}

int main(void)
{
    static const char *const fixed[] = {
        "0.0", "-0.0", "0.5", "1.25", "0.1", "0.3", "3.14159", "-2.5e-3", "1e22", "1e23",
        "9007199254740993.0", "123456789012345.6", "1234567890123456.7", "0.000001",
        "1.7976931348623157e308", "4.9e-324", "2.2250738585072014e-308", "1e-22", "1e-23",
        "999999999999999.0", "9999999999999999.0", "0.000000000000000000000001", "5E+2",
        "12.50", "100.0e-2", "0e5", "0.0000000000000000000000000001e10", "7e0", "1.5E-0",
        "1.0e-99999", "123456789012345678901234567890.5",
    };
    char buf[64];
    size_t i;
    unsigned seed = 12345;

    for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_real(fixed[i]);
    for (i = 0; i < 200000; i++) {
        int nint, nfrac, e;
        size_t o = 0, k;
        seed = seed * 1103515245u + 12345u;
        nint = (int)(seed >> 16) % 12;      /* 0: "0" */
        seed = seed * 1103515245u + 12345u;
        nfrac = 1 + (int)(seed >> 16) % 12;
        seed = seed * 1103515245u + 12345u;
        e = (int)(seed >> 16) % 61 - 30;
        if (seed & 2)
            buf[o++] = '-';
        if (nint == 0)
            buf[o++] = '0';
        for (k = 0; k < (size_t)nint; k++) {
            seed = seed * 1103515245u + 12345u;
            buf[o++] = (char)((k == 0 ? '1' : '0') + (seed >> 16) % (k == 0 ? 9 : 10));
        }
        buf[o++] = '.';
        for (k = 0; k < (size_t)nfrac; k++) {
            seed = seed * 1103515245u + 12345u;
            buf[o++] = (char)('0' + (seed >> 16) % 10);
        }
        if ((seed >> 20) & 1)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "e%d", e);
        buf[o] = '\0';
        check_real(buf);
    }
    return CHECK_DONE();
}
