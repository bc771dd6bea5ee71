/* Broker tap URLs: parsing, %-decoding, passwords from the environment, redaction. */
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "collector/taps/taps.h"

struct url_case {
    const char *url;
    int rc;
    const char *scheme, *user, *pass, *host, *hosts;
    int port;
    const char *path;
    int tls;
    const char *param, *value; /* one ?param to check, may be NULL */
};

static const struct url_case cases[] = {
    {"mqtt://127.0.0.1:1883/orders/#", ES_OK, "mqtt", NULL, NULL, "127.0.0.1", "127.0.0.1:1883", 1883,
     "orders/#", 0, NULL, NULL},
    {"mqtts://u:p%40ss@broker:8883/a/+,b/#?qos=2", ES_OK, "mqtts", "u", "p@ss", "broker",
     "broker:8883", 8883, "a/+,b/#", 1, "qos", "2"},
    {"amqp://guest:guest@h:5672/%2F?exchange=amq.topic&binding=orders.%23", ES_OK, "amqp", "guest",
     "guest", "h", "h:5672", 5672, "/", 0, "binding", "orders.#"},
    {"amqp://h/?firehose", ES_OK, "amqp", NULL, NULL, "h", "h", 0, "", 0, "firehose", "1"},
    {"kafka://a:9092,b:9093/orders,payments?from=beginning&tls=1", ES_OK, "kafka", NULL, NULL, "a",
     "a:9092,b:9093", 9092, "orders,payments", 1, "from", "beginning"},
    {"NATS://[::1]:4222/orders.>", ES_OK, "nats", NULL, NULL, "::1", "[::1]:4222", 4222,
     "orders.>", 0, NULL, NULL},
    {"nats://h:4222", ES_OK, "nats", NULL, NULL, "h", "h:4222", 4222, "", 0, NULL, NULL},
    {"u:p@h", ES_EUSAGE, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL},
    {"mqtt://", ES_EUSAGE, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL},
    {"mqtt://u@/x", ES_EUSAGE, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL},
    {"mqtt://h:0/x", ES_EUSAGE, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL},
    {"mqtt://h:65536/x", ES_EUSAGE, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL},
    {"mqtt://h:12ab/x", ES_EUSAGE, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL},
    {"mqtt://h/a%2", ES_EUSAGE, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL},
    {"mqtt://h/a%00b", ES_EUSAGE, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL},
    {"mqtt://h/a%zz", ES_EUSAGE, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL},
    {"mq tt://h/a", ES_EUSAGE, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL},
    {"mqtt://[::1/a", ES_EUSAGE, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL},
    {"amqp://u:${ES_TEST_TAP_PW}@h/", ES_OK, "amqp", "u", "from-env", "h", "h", 0, "", 0, NULL, NULL},
    {"amqp://u:${ES_TEST_TAP_UNSET}@h/", ES_EUSAGE, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL,
     NULL},
    {"amqp://u@h/", ES_OK, "amqp", "u", "fallback", "h", "h", 0, "", 0, NULL, NULL},
};

static void test_parse(void)
{
    size_t i;

    setenv("ES_TEST_TAP_PW", "from-env", 1);
    unsetenv("ES_TEST_TAP_UNSET");
    setenv("EVENTSCOPE_TAP_PASSWORD", "fallback", 1);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct url_case *c = &cases[i];
        struct tap_url u;
        char err[256] = "";
        int rc = tap_url_parse(c->url, &u, err, sizeof err);
        int before = check_failures;

        CHECK_INT(rc, c->rc);
        if (rc == ES_OK && c->rc == ES_OK) {
            CHECK_STR(u.scheme, c->scheme);
            CHECK_STR(u.user, c->user);
            CHECK_STR(u.pass, c->pass);
            CHECK_STR(u.host, c->host);
            CHECK_STR(u.hosts, c->hosts);
            CHECK_INT(u.port, c->port);
            CHECK_STR(u.path, c->path);
            CHECK_INT(u.tls, c->tls);
            if (c->param)
                CHECK_STR(tap_url_param(&u, c->param), c->value);
            CHECK(tap_url_param(&u, "absent") == NULL);
            tap_url_done(&u);
        } else if (rc != ES_OK) {
            CHECK(err[0] != '\0');
        } else {
            tap_url_done(&u);
        }
        if (check_failures != before)
            fprintf(stderr, "  case %zu: %s (%s)\n", i, c->url, err);
    }
}

static void test_redact(void)
{
    static const char *const in[][2] = {
        {"amqp://guest:secret@h:5672/?exchange=x", "amqp://guest@h:5672/?exchange=x"},
        {"mqtt://h:1883/a@b", "mqtt://h:1883/a@b"},
        {"mqtt://user@h/a", "mqtt://user@h/a"},
        {"kafka://a:b:c@h/t", "kafka://a@h/t"},
        {"nope", "nope"},
    };
    size_t i;

    for (i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *r = tap_url_redacted(in[i][0]);
        CHECK_STR(r, in[i][1]);
        free(r);
    }
}

static void test_split(void)
{
    char *out[3];
    size_t n, i;

    n = tap_split("a,,b,c,d", out, 3);
    CHECK_INT(n, 3);
    CHECK_STR(out[0], "a");
    CHECK_STR(out[1], "b");
    CHECK_STR(out[2], "c");
    for (i = 0; i < n; i++)
        free(out[i]);
    CHECK_INT(tap_split("", out, 3), 0);
    CHECK_INT(tap_split(NULL, out, 3), 0);
    CHECK_INT(tap_split(",", out, 3), 0);
}

int main(void)
{
    test_parse();
    test_redact();
    test_split();
    CHECK(tap_scheme_list() != NULL);
    return CHECK_DONE();
}
