/* collector/redact: SHA-256 / HMAC-SHA256 vectors, path matching, keys, payload_hash. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "collector/redact.h"
#include "core/event.h"
#include "core/store.h"

static void hex(const uint8_t *p, size_t len, char *out)
{
    size_t i;

    for (i = 0; i < len; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static const char *sha(const void *p, size_t len)
{
    static char out[65];
    uint8_t d[32];

    redact_sha256(p, len, d);
    hex(d, 32, out);
    return out;
}

static const char *hmac(const uint8_t *k, size_t klen, const void *p, size_t len)
{
    static char out[65];
    uint8_t d[32];

    redact_hmac_sha256(k, klen, p, len, d);
    hex(d, 32, out);
    return out;
}

static void test_vectors(void)
{
    static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    uint8_t k[131], d[50];
    char *million = malloc(1000000);

    /* FIPS 180-2 appendix B */
    CHECK_STR(sha("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_STR(sha("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_STR(sha(two_blocks, strlen(two_blocks)),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    memset(million, 'a', 1000000);
    CHECK_STR(sha(million, 1000000),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
    /* Lengths around the padding boundaries (reference digests from Python's hashlib). */
    {
        static const struct {
            size_t n;
            const char *digest;
        } pad[] = {
            {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
            {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
            {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
            {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
            {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
            {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
            {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"},
        };
        char m[120];
        size_t i;
        memset(m, 'x', sizeof m);
        for (i = 0; i < sizeof pad / sizeof *pad; i++)
            CHECK_STR(sha(m, pad[i].n), pad[i].digest);
    }

    /* RFC 4231 test cases 1, 2, 3, 6, 7 */
    memset(k, 0x0b, 20);
    CHECK_STR(hmac(k, 20, "Hi There", 8),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK_STR(hmac((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(k, 0xaa, sizeof k);
    memset(d, 0xdd, sizeof d);
    CHECK_STR(hmac(k, 20, d, 50),
              "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    CHECK_STR(hmac(k, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    {
        static const char m[] = "This is a test using a larger than block-size key and a larger "
                                "than block-size data. The key needs to be hashed before being "
                                "used by the HMAC algorithm.";
        CHECK_STR(hmac(k, 131, m, strlen(m)),
                  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    }
}

static struct redact *mk(const char *spec, const char *key)
{
    struct redact *r = NULL;
    char err[256];

    CHECK_INT(redact_parse(spec, &r, err, sizeof err), ES_OK);
    if (r != NULL)
        CHECK_INT(redact_set_key(r, (const uint8_t *)key, strlen(key)), ES_OK);
    return r;
}

/* Redacts data under spec/key; returns the new data (caller frees) and the event's hash. */
static char *run(const char *spec, const char *key, const char *data)
{
    struct redact *r = mk(spec, key);
    struct event ev;
    char *out;

    event_init(&ev);
    event_set_str(&ev.data, data);
    ev.payload_hash = 42;
    if (r != NULL)
        CHECK_INT(redact_apply(r, &ev), ES_OK);
    out = ev.data;
    if (out != NULL && strcmp(out, data) != 0)
        CHECK_INT(ev.payload_hash, 0); /* recomputed by the sink over the new text */
    ev.data = NULL;
    event_done(&ev);
    redact_free(r);
    return out;
}

/* The expected replacement of the JSON value text v under key. */
static char *expect(const char *key, const char *v)
{
    uint8_t d[32];
    char h[65];
    char *out = malloc(128);

    redact_hmac_sha256((const uint8_t *)key, strlen(key), v, strlen(v), d);
    hex(d, 32, h);
    snprintf(out, 128, "%s%.32s", REDACT_PREFIX, h);
    return out;
}

/* json path lookup for assertions: "a.b.0" */
static const char *str_at(json_t *root, const char *path)
{
    char buf[128], *tok, *save = NULL;
    json_t *n = root;

    snprintf(buf, sizeof buf, "%s", path);
    for (tok = strtok_r(buf, ".", &save); tok && n; tok = strtok_r(NULL, ".", &save))
        n = json_is_array(n) ? json_array_get(n, (size_t)atoi(tok)) : json_object_get(n, tok);
    return json_string_value(n);
}

static void test_paths(void)
{
    static const char doc[] =
        "{\"customer\":{\"email\":\"a@x.io\",\"name\":\"Al\"},\"card\":{\"number\":\"4111\","
        "\"exp\":\"12/29\"},\"items\":[{\"sku\":\"S1\",\"qty\":1},{\"sku\":\"S2\",\"qty\":2}],"
        "\"total\":12}";
    char *out, *e;
    json_t *j;

    /* nested path, with and without the data. prefix */
    out = run("data.customer.email", "k1", doc);
    j = json_loads(out, 0, NULL);
    e = expect("k1", "\"a@x.io\"");
    CHECK_STR(str_at(j, "customer.email"), e);
    CHECK_STR(str_at(j, "customer.name"), "Al");
    CHECK_STR(str_at(j, "card.number"), "4111");
    CHECK(strstr(out, "a@x.io") == NULL);
    json_decref(j);
    free(out);
    out = run("customer.email", "k1", doc);
    j = json_loads(out, 0, NULL);
    CHECK_STR(str_at(j, "customer.email"), e);
    json_decref(j);
    free(out);
    free(e);

    /* an object value is hashed over its canonical (sorted, compact) text */
    out = run("data.card", "k1", doc);
    j = json_loads(out, 0, NULL);
    e = expect("k1", "{\"exp\":\"12/29\",\"number\":\"4111\"}");
    CHECK_STR(str_at(j, "card"), e);
    free(e);
    json_decref(j);
    free(out);
    /* ... so key order in the input does not matter */
    out = run("data.card", "k1", "{\"card\":{\"exp\":\"12/29\",\"number\":\"4111\"}}");
    {
        char *out2 = run("data.card", "k1", "{\"card\":{\"number\":\"4111\", \"exp\":\"12/29\"}}");
        CHECK_STR(out, out2);
        free(out2);
    }
    free(out);

    /* * over array elements; a number is hashed as its JSON text */
    out = run("data.items.*.sku,total", "k1", doc);
    j = json_loads(out, 0, NULL);
    e = expect("k1", "\"S1\"");
    CHECK_STR(str_at(j, "items.0.sku"), e);
    free(e);
    e = expect("k1", "\"S2\"");
    CHECK_STR(str_at(j, "items.1.sku"), e);
    free(e);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(j, "items"), 1),
                                                 "qty")),
              2);
    e = expect("k1", "12");
    CHECK_STR(str_at(j, "total"), e);
    free(e);
    json_decref(j);
    free(out);

    /* * over object keys; an index picks one element */
    out = run("data.customer.*,items.1", "k1", doc);
    CHECK(strstr(out, "a@x.io") == NULL && strstr(out, "\"Al\"") == NULL);
    CHECK(strstr(out, "S1") != NULL && strstr(out, "S2") == NULL);
    free(out);

    /* missing paths and paths through scalars leave data byte-identical */
    out = run("data.nope,data.total.x,data.items.9.sku,data.customer.email.deeper", "k1", doc);
    CHECK_STR(out, doc);
    free(out);

    /* the whole payload; a non-JSON payload (a JSON string) too */
    out = run("data", "k1", doc);
    CHECK(strncmp(out, "\"" REDACT_PREFIX, strlen(REDACT_PREFIX) + 1) == 0);
    CHECK_INT(strlen(out), strlen(REDACT_PREFIX) + 32 + 2);
    free(out);
    out = run("data", "k1", "\"raw bytes: secret\"");
    CHECK(strstr(out, "secret") == NULL);
    free(out);
    out = run("data.x", "k1", "\"raw bytes: secret\"");
    CHECK_STR(out, "\"raw bytes: secret\"");
    free(out);
    /* text jansson cannot read is hashed whole (fail closed) */
    out = run("data.x", "k1", "{\"x\": 99999999999999999999999999}");
    CHECK(strstr(out, "9999") == NULL);
    free(out);

    /* overlapping paths: the parent is hashed over its original content, in any order */
    {
        char *a = run("data.card.number,data.card", "k1", doc);
        char *b = run("data.card,data.card.number", "k1", doc);
        char *c = run("data.card", "k1", doc);
        CHECK_STR(a, b);
        CHECK_STR(a, c);
        free(a);
        free(b);
        free(c);
    }
    /* re-redacting is a no-op */
    out = run("data.customer.email", "k1", doc);
    {
        char *again = run("data.customer.email", "k2", out);
        CHECK_STR(again, out);
        free(again);
    }
    free(out);
}

static void test_keys_and_hash(void)
{
    static const char a[] = "{\"email\":\"a@x.io\",\"n\":1}";
    static const char b[] = "{\"email\":\"b@x.io\",\"n\":1}";
    char *x1 = run("email", "k1", a), *x2 = run("email", "k1", a);
    char *y = run("email", "k2", a), *z = run("email", "k1", b);

    CHECK_STR(x1, x2);                  /* same value, same key: same output */
    CHECK(strcmp(x1, y) != 0);          /* other key: other output */
    CHECK(strcmp(x1, z) != 0);          /* other value: other output */
    CHECK(event_hash(x1, strlen(x1)) == event_hash(x2, strlen(x2)));
    CHECK(event_hash(x1, strlen(x1)) != event_hash(z, strlen(z)));
    free(x1);
    free(x2);
    free(y);
    free(z);
}

static void test_parse_errors(void)
{
    static const char *bad[] = {"", ",", "a,,b", "a..b", "a.", ".a", "data.", " , x"};
    struct redact *r;
    char err[256];
    size_t i;

    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        r = (struct redact *)1;
        CHECK_INT(redact_parse(bad[i], &r, err, sizeof err), ES_EUSAGE);
        CHECK(r == NULL);
        CHECK(err[0] != '\0');
    }
    CHECK_INT(redact_parse(" data.a , b.*.c ", &r, err, sizeof err), ES_OK);
    {
        struct event ev;
        event_init(&ev);
        event_set_str(&ev.data, "{}");
        CHECK_INT(redact_apply(r, &ev), ES_EINVALID); /* no key yet */
        event_done(&ev);
    }
    redact_free(r);
    redact_free(NULL);
}

static void test_store_key(void)
{
    char path[] = "/tmp/es_test_redact_XXXXXX";
    char db1[64], db2[64], err[256];
    uint8_t k1[32], k1b[32], k2[32];
    struct store *st = NULL;
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    close(fd);
    unlink(path);
    snprintf(db1, sizeof db1, "%s.1.db", path);
    snprintf(db2, sizeof db2, "%s.2.db", path);

    CHECK_INT(store_open(db1, STORE_CREATE, &st, err, sizeof err), ES_OK);
    CHECK_INT(redact_key_for_store(st, k1), ES_OK);
    CHECK_INT(redact_key_for_store(st, k1b), ES_OK);
    CHECK(memcmp(k1, k1b, 32) == 0);
    store_close(st);
    /* kept across runs */
    CHECK_INT(store_open(db1, STORE_CREATE, &st, err, sizeof err), ES_OK);
    memset(k1b, 0, 32);
    CHECK_INT(redact_key_for_store(st, k1b), ES_OK);
    CHECK(memcmp(k1, k1b, 32) == 0);
    store_close(st);
    /* another store, another key */
    CHECK_INT(store_open(db2, STORE_CREATE, &st, err, sizeof err), ES_OK);
    CHECK_INT(redact_key_for_store(st, k2), ES_OK);
    CHECK(memcmp(k1, k2, 32) != 0);
    /* the environment wins over the store */
    {
        struct redact *r = NULL, *r2 = NULL;
        struct event ev;
        char *with_env;
        CHECK_INT(redact_parse("data", &r, err, sizeof err), ES_OK);
        setenv(REDACT_ENV_KEY, "env-key", 1);
        CHECK_INT(redact_setup_key(r, st), ES_OK);
        unsetenv(REDACT_ENV_KEY);
        event_init(&ev);
        event_set_str(&ev.data, "\"v\"");
        CHECK_INT(redact_apply(r, &ev), ES_OK);
        with_env = run("data", "env-key", "\"v\"");
        CHECK_STR(ev.data, with_env);
        free(with_env);
        event_done(&ev);
        CHECK_INT(redact_parse("data", &r2, err, sizeof err), ES_OK);
        CHECK_INT(redact_setup_key(r2, st), ES_OK); /* store key k2 */
        event_init(&ev);
        event_set_str(&ev.data, "\"v\"");
        CHECK_INT(redact_apply(r2, &ev), ES_OK);
        {
            uint8_t d[32];
            char h[65], want[80];
            redact_hmac_sha256(k2, 32, "\"v\"", 3, d);
            hex(d, 32, h);
            snprintf(want, sizeof want, "\"%s%.32s\"", REDACT_PREFIX, h);
            CHECK_STR(ev.data, want);
        }
        event_done(&ev);
        redact_free(r);
        redact_free(r2);
    }
    store_close(st);
    unlink(db1);
    unlink(db2);
    {
        char side[80];
        const char *sfx[] = {"-wal", "-shm"};
        int i;
        for (i = 0; i < 2; i++) {
            snprintf(side, sizeof side, "%s%s", db1, sfx[i]);
            unlink(side);
            snprintf(side, sizeof side, "%s%s", db2, sfx[i]);
            unlink(side);
        }
    }
}

int main(void)
{
    test_vectors();
    test_paths();
    test_keys_and_hash();
    test_parse_errors();
    test_store_key();
    return CHECK_DONE();
}
