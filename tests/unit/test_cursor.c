/* core/cursor.h: every reader at buffer lengths 0, 1, n-1, n and n+1; sticky errors. */
#include "core/cursor.h"

#include <stdint.h>

#include "tests/check.h"

static const uint8_t bytes[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};

enum reader { R_U8, R_BE16, R_BE24, R_BE32, R_BE64, R_LE16, R_LE32, R_LE64, R_BYTES3, R_COPY5 };

static const struct reader_case {
    enum reader r;
    const char *name;
    size_t need;     /* bytes the reader consumes */
    uint64_t expect; /* value read from bytes[] */
} readers[] = {
    {R_U8, "u8", 1, 0x01},
    {R_BE16, "be16", 2, 0x0102},
    {R_BE24, "be24", 3, 0x010203},
    {R_BE32, "be32", 4, 0x01020304},
    {R_BE64, "be64", 8, 0x0102030405060708ULL},
    {R_LE16, "le16", 2, 0x0201},
    {R_LE32, "le32", 4, 0x04030201},
    {R_LE64, "le64", 8, 0x0807060504030201ULL},
    {R_BYTES3, "bytes(3)", 3, 0x01},
    {R_COPY5, "copy(5)", 5, 0x05},
};

static uint64_t run_reader(enum reader r, struct cursor *c)
{
    const uint8_t *p;
    uint8_t dst[5] = {0};

    switch (r) {
    case R_U8: return cur_u8(c);
    case R_BE16: return cur_be16(c);
    case R_BE24: return cur_be24(c);
    case R_BE32: return cur_be32(c);
    case R_BE64: return cur_be64(c);
    case R_LE16: return cur_le16(c);
    case R_LE32: return cur_le32(c);
    case R_LE64: return cur_le64(c);
    case R_BYTES3:
        p = cur_bytes(c, 3);
        return p ? p[0] : 0;
    case R_COPY5: return cur_copy(c, dst, 5) ? dst[4] : 0;
    }
    return 0;
}

static void test_readers(void)
{
    size_t i, k;

    for (i = 0; i < sizeof readers / sizeof readers[0]; i++) {
        const struct reader_case *rc = &readers[i];
        size_t lens[5] = {0, 1, rc->need - 1, rc->need, rc->need + 1};
        for (k = 0; k < 5; k++) {
            struct cursor c;
            size_t len = lens[k];
            uint64_t v;
            int ok = len >= rc->need;

            cur_init(&c, bytes, len);
            v = run_reader(rc->r, &c);
            if ((c.err == ES_OK) != ok || (ok && v != rc->expect) || (!ok && v != 0) ||
                c.left != (ok ? len - rc->need : 0)) {
                check_failures++;
                fprintf(stderr, "reader %s len %zu: err %d value %llx left %zu\n", rc->name, len,
                        c.err, (unsigned long long)v, c.left);
            }
            check_count++;
            /* After a failed read every later read fails too, even of 0 bytes. */
            if (!ok) {
                CHECK_INT(c.err, ES_ETRUNC);
                CHECK(cur_bytes(&c, 0) == NULL);
                CHECK_INT(cur_u8(&c), 0);
                CHECK_INT(c.err, ES_ETRUNC);
                CHECK_INT(cur_peek(&c), -1);
                CHECK(!cur_eof(&c));
            } else {
                CHECK_INT(cur_eof(&c), len == rc->need);
            }
        }
    }
}

static void test_sub(void)
{
    struct cursor c, s;

    /* n-1, n, n+1 bytes available for a sub-cursor of 4. */
    cur_init(&c, bytes, 3);
    s = cur_sub(&c, 4);
    CHECK_INT(s.err, ES_ETRUNC);
    CHECK_INT(c.err, ES_ETRUNC);
    CHECK_INT(s.left, 0);

    cur_init(&c, bytes, 4);
    s = cur_sub(&c, 4);
    CHECK_INT(s.err, ES_OK);
    CHECK_INT(s.left, 4);
    CHECK_INT(c.left, 0);
    CHECK_INT(cur_be32(&s), 0x01020304);
    CHECK_INT(cur_u8(&s), 0); /* the inner parser cannot see past its 4 bytes */
    CHECK_INT(s.err, ES_ETRUNC);
    CHECK_INT(c.err, ES_OK);

    cur_init(&c, bytes, 5);
    s = cur_sub(&c, 4);
    CHECK_INT(c.left, 1);
    CHECK_INT(cur_u8(&c), 0x05);
    s = cur_sub(&c, 0); /* a zero-length sub-cursor at the end is fine */
    CHECK_INT(s.err, ES_OK);
    CHECK_INT(s.left, 0);
}

static void test_fail_skip_offset(void)
{
    struct cursor c, start;

    cur_init(&c, bytes, 8);
    start = c;
    cur_skip(&c, 3);
    CHECK_INT(cur_offset(&start, &c), 3);
    cur_fail(&c, ES_EINVALID);
    CHECK_INT(c.err, ES_EINVALID);
    CHECK_INT(c.left, 0);
    cur_fail(&c, ES_ETRUNC); /* the first error stays */
    CHECK_INT(c.err, ES_EINVALID);

    cur_init(&c, bytes, 2);
    cur_skip(&c, 3);
    CHECK_INT(c.err, ES_ETRUNC);
}

static void test_varint(void)
{
    static const struct {
        uint8_t in[11];
        size_t len;
        uint64_t u;
        int64_t s;
        int err;
    } cases[] = {
        {{0x00}, 1, 0, 0, ES_OK},
        {{0x01}, 1, 1, -1, ES_OK},
        {{0x02}, 1, 2, 1, ES_OK},
        {{0xac, 0x02}, 2, 300, 150, ES_OK},
        {{0xac}, 1, 0, 0, ES_ETRUNC}, /* continuation bit, no next byte */
        {{0}, 0, 0, 0, ES_ETRUNC},
        {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10, UINT64_MAX, INT64_MIN,
         ES_OK},
        {{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 11, 0, 0,
         ES_EINVALID},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cursor c;
        uint64_t u;
        int64_t s;
        cur_init(&c, cases[i].in, cases[i].len);
        u = cur_uvarint(&c);
        if (c.err != cases[i].err || (c.err == ES_OK && u != cases[i].u)) {
            check_failures++;
            fprintf(stderr, "varint case %zu: err %d u %llu\n", i, c.err, (unsigned long long)u);
        }
        check_count++;
        cur_init(&c, cases[i].in, cases[i].len);
        s = cur_svarint(&c);
        if (c.err == ES_OK && s != cases[i].s) {
            check_failures++;
            fprintf(stderr, "svarint case %zu: %lld\n", i, (long long)s);
        }
        check_count++;
    }
}

static void test_text_helpers(void)
{
    static const struct {
        const char *in;
        int delim;
        const char *token; /* bytes before delim */
        int found;
        size_t left;       /* after the call */
    } cases[] = {
        {"", ',', "", 0, 0},
        {",", ',', "", 1, 0},
        {"a", ',', "a", 0, 0},
        {"a,", ',', "a", 1, 0},
        {"ab,c", ',', "ab", 1, 1},
        {"abc", ',', "abc", 0, 0},
    };
    size_t i, n;
    struct cursor c;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint8_t *p;
        int found;
        cur_init(&c, cases[i].in, strlen(cases[i].in));
        p = cur_until(&c, cases[i].delim, &n, &found);
        if (p == NULL || n != strlen(cases[i].token) || memcmp(p, cases[i].token, n) != 0 ||
            found != cases[i].found || c.left != cases[i].left) {
            check_failures++;
            fprintf(stderr, "cur_until case %zu (\"%s\"): n %zu found %d left %zu\n", i,
                    cases[i].in, n, found, c.left);
        }
        check_count++;
    }
    cur_init(&c, "xy", 2);
    CHECK_INT(cur_peek(&c), 'x');
    CHECK(!cur_accept(&c, 'y'));
    CHECK(cur_accept(&c, 'x'));
    CHECK(cur_accept(&c, 'y'));
    CHECK(!cur_accept(&c, 'y'));
    CHECK_INT(cur_peek(&c), -1);
    CHECK(cur_eof(&c));
    CHECK_INT(c.err, ES_OK);
    cur_fail(&c, ES_EINVALID);
    CHECK(cur_until(&c, ',', &n, NULL) == NULL);
    CHECK_INT(n, 0);
}

int main(void)
{
    test_readers();
    test_sub();
    test_fail_skip_offset();
    test_varint();
    test_text_helpers();
    return CHECK_DONE();
}
