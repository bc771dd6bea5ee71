/* analyzer/status: process states and scorecard; analyzer/config: the JSON config file. */
#include <stdio.h>

#include "../check.h"
#include "analyzer/status.h"
#include "test_analyzer_harness.h"

#define DB "test_analyzer_status.db"
#define CFG "test_analyzer_status.json"
#define H (3600 * 1000) /* one hour in ms */

static const struct ev evs[] = {
    /* done: ends with a type that never causes anything */
    {"a:1", "d1", "OrderPlaced", "orders", "done", NULL, NULL, NULL, 0, 0, "{}", NULL},
    {"a:2", "d2", "OrderDelivered", "shipping", "done", "d1", NULL, NULL, 10, 0, "{}", NULL},
    /* failed: ends with a *Declined */
    {"a:3", "f1", "OrderPlaced", "orders", "failed", NULL, NULL, NULL, 0, 0, "{}", NULL},
    {"a:4", "f2", "PaymentDeclined", "payments", "failed", "f1", NULL, NULL, 10, 0, "{}", NULL},
    /* stuck: OrderPlaced causes others elsewhere, then silence for hours */
    {"a:5", "s1", "OrderPlaced", "orders", "stuck", NULL, NULL, NULL, 0, 0, "{}", NULL},
    /* in flight: recent non-terminal event */
    {"a:6", "i1", "OrderPlaced", "orders", "flight", NULL, NULL, NULL, 5 * H, 0, "{}", NULL},
    /* the newest time in the store ("now") */
    {"a:7", "n1", "OrderPlaced", "orders", "now", NULL, NULL, NULL, 5 * H + 100, 0, "{}",
     "subject=x|seq=1"},
};

int main(void)
{
    struct store *st = harness_store(DB, evs, sizeof evs / sizeof evs[0]);
    struct analyzer_status *s;
    struct analyzer_process p;
    struct analyzer_scorecard *cards;
    struct analyzer_config cfg;
    char err[512];
    size_t n, i;
    FILE *f;

    CHECK_INT(analyzer_status_open(store_db(st), NULL, &s, err, sizeof err), ES_OK);
    CHECK_INT(analyzer_process_status(s, "done", &p), ES_OK);
    CHECK_INT(p.state, ANALYZER_COMPLETED);
    CHECK_STR(p.last_type, "OrderDelivered");
    CHECK_INT(p.events, 2);
    analyzer_process_done(&p);
    CHECK_INT(analyzer_process_status(s, "failed", &p), ES_OK);
    CHECK_INT(p.state, ANALYZER_FAILED);
    analyzer_process_done(&p);
    CHECK_INT(analyzer_process_status(s, "stuck", &p), ES_OK);
    CHECK_INT(p.state, ANALYZER_STUCK);
    analyzer_process_done(&p);
    CHECK_INT(analyzer_process_status(s, "flight", &p), ES_OK);
    CHECK_INT(p.state, ANALYZER_IN_FLIGHT);
    analyzer_process_done(&p);
    CHECK_INT(analyzer_process_status(s, "missing", &p), ES_ENOTFOUND);
    CHECK_STR(analyzer_state_name(ANALYZER_IN_FLIGHT), "in_flight");
    CHECK_INT(analyzer_status_classify(s, "RefundRejected", 0), ANALYZER_FAILED);
    analyzer_status_free(s);

    CHECK_INT(analyzer_scorecard(store_db(st), &cards, &n), ES_OK);
    CHECK_INT(n, 3);
    for (i = 0; i < n; i++)
        if (cards[i].source && strcmp(cards[i].source, "orders") == 0) {
            CHECK_INT(cards[i].events, 5);
            CHECK_INT(cards[i].with[ANALYZER_ATTR_CAUSATION], 0);
            CHECK_INT(cards[i].with[ANALYZER_ATTR_SEQUENCE], 1);
            CHECK_INT(cards[i].with[ANALYZER_ATTR_ID], 5);
        }
    analyzer_scorecard_free(cards, n);

    /* Config: a terminal type and a longer stuck threshold change the verdicts. */
    f = fopen(CFG, "w");
    fputs("{\"terminal_types\":[\"OrderPlaced\"],\"stuck_after_s\":86400,"
          "\"technical_words\":[\"Outbox\"],\"root_share\":0.9}",
          f);
    fclose(f);
    analyzer_config_init(&cfg);
    CHECK_INT(analyzer_config_load(&cfg, CFG, err, sizeof err), ES_OK);
    CHECK_INT(cfg.stuck_after_us, 86400LL * 1000000);
    CHECK(cfg.root_share > 0.89 && cfg.root_share < 0.91);
    CHECK(analyzer_config_has_word(&cfg.technical_words, "outbox", 6));
    CHECK_INT(analyzer_status_open(store_db(st), &cfg, &s, err, sizeof err), ES_OK);
    CHECK_INT(analyzer_process_status(s, "stuck", &p), ES_OK);
    CHECK_INT(p.state, ANALYZER_COMPLETED);
    analyzer_process_done(&p);
    analyzer_status_free(s);
    analyzer_config_done(&cfg);

    /* Bad config files are refused with the reason. */
    f = fopen(CFG, "w");
    fputs("{\"stuck_after\": 5}", f);
    fclose(f);
    analyzer_config_init(&cfg);
    CHECK_INT(analyzer_config_load(&cfg, CFG, err, sizeof err), ES_EINVALID);
    CHECK(strstr(err, "stuck_after") != NULL);
    f = fopen(CFG, "w");
    fputs("{\"root_types\": [1]", f);
    fclose(f);
    CHECK_INT(analyzer_config_load(&cfg, CFG, err, sizeof err), ES_EINVALID);
    CHECK_INT(analyzer_config_load(&cfg, "/nonexistent/x.json", err, sizeof err), ES_EIO);
    analyzer_config_done(&cfg);

    store_close(st);
    unlink(CFG);
    unlink(DB);
    unlink(DB "-wal");
    unlink(DB "-shm");
    return CHECK_DONE();
}
