/*
 * Hand-written analyzer cases: one small store per finding kind, plus the tricky
 * non-findings (legitimate concurrency, publish+deliver pairs, a root event without
 * causation ID, the same id from two sources). Each case lists exactly the findings
 * expected ("kind@location<related location"), in sorted order.
 */
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "test_analyzer_harness.h"

#define DB "test_analyzer_cases.db"
#define MAXEV 16
#define MAXF 8

struct acase {
    const char *name;
    const char *ignore; /* kind prefixes not judged by this case */
    struct ev evs[MAXEV];
    const char *want[MAXF]; /* sorted; NULL-terminated */
    const char *msg;        /* NULL, or text some finding's message must contain */
};

#define D(x) "{\"v\":" #x "}"

static const struct acase cases[] = {
    {"legit fan-out: two consumers react concurrently to one event",
     NULL,
     {{"orders:1", "e1", "OrderPlaced", "orders", "c1", NULL, "publish", "orders", 0, 1, D(1),
       NULL},
      {"pay:1", "e1", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 5, D(1), NULL},
      {"inv:1", "e1", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 3, D(1), NULL},
      {"inv:2", "e3", "StockReserved", "inventory", "c1", "e1", "publish", "stock", 4, 4, D(3),
       NULL},
      {"pay:2", "e2", "PaymentAuthorised", "payments", "c1", "e1", "publish", "payments", 6, 6,
       D(2), NULL},
      {"orders:2", "e3", "StockReserved", "inventory", "c1", "e1", "deliver", "stock", 4, 7, D(3),
       NULL},
      {"orders:3", "e2", "PaymentAuthorised", "payments", "c1", "e1", "deliver", "payments", 6, 8,
       D(2), NULL}},
     {NULL},
     NULL},
    {"publish + one delivery per consumer is not a duplicate",
     NULL,
     {{"tap:1", "e1", "OrderPlaced", "orders", "c1", NULL, "publish", "orders", 0, 1, D(1), NULL},
      {"tap:2", "e1", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 2, D(1),
       "attrs={\"consumer\":\"billing\"}"},
      {"tap:3", "e1", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 3, D(1),
       "attrs={\"consumer\":\"shipping\"}"}},
     {NULL},
     NULL},
    {"root event without causation ID; caused types carry theirs",
     NULL,
     {{"a:1", "r1", "OrderPlaced", "orders", "c1", NULL, NULL, NULL, 0, 0, D(1), NULL},
      {"a:2", "x1", "OrderPaid", "payments", "c1", "r1", NULL, NULL, 1, 0, D(2), NULL},
      {"a:3", "r2", "OrderPlaced", "orders", "c2", NULL, NULL, NULL, 2, 0, D(3), NULL},
      {"a:4", "x2", "OrderPaid", "payments", "c2", "r2", NULL, NULL, 3, 0, D(4), NULL}},
     {NULL},
     NULL},
    {"same id from two sources, different facts: low-severity collision, no duplicate",
     NULL,
     {{"a:1", "1", "OrderPlaced", "orders", "c1", NULL, NULL, NULL, 0, 0, D(1), NULL},
      {"b:1", "1", "UserRegistered", "users", "c1", NULL, NULL, NULL, 1, 0, D(2), NULL}},
     {"duplicate.id_collision@b:1<a:1", NULL},
     NULL},
    {"same id from two sources, same fact forwarded: nothing",
     NULL,
     {{"a:1", "1", "OrderPlaced", "orders", "c1", NULL, NULL, NULL, 0, 0, D(1), NULL},
      {"b:1", "1", "OrderPlaced", "relay", "c1", NULL, NULL, NULL, 0, 0, D(1), NULL}},
     {NULL},
     NULL},
    {"duplicate.exact: broker redelivery to one consumer",
     NULL,
     {{"tap:1", "e1", "OrderPlaced", "orders", "c1", NULL, "publish", "orders", 0, 1, D(1), NULL},
      {"svc:1", "e1", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 2, D(1),
       "attrs={\"offset\":7}"},
      {"svc:2", "e1", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 9, D(1),
       "attrs={\"offset\":7,\"redelivered\":true}"}},
     {"duplicate.exact@svc:2<svc:1", NULL},
     "broker redelivery"},
    {"duplicate.exact: producer retry (published twice)",
     NULL,
     {{"tap:1", "e1", "OrderPlaced", "orders", "c1", NULL, "publish", "orders", 0, 1, D(1), NULL},
      {"tap:2", "e1", "OrderPlaced", "orders", "c1", NULL, "publish", "orders", 0, 2, D(1), NULL}},
     {"duplicate.exact@tap:2<tap:1", NULL},
     "producer retry"},
    {"duplicate.exact: the same consumer got it from two channels",
     NULL,
     {{"tap:1", "e1", "OrderPlaced", "orders", "c1", NULL, "publish", "orders", 0, 1, D(1), NULL},
      {"tap:2", "e1", "OrderPlaced", "orders", "c1", NULL, "publish", "orders-mirror", 0, 2, D(1),
       NULL},
      {"svc:1", "e1", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 3, D(1), NULL},
      {"svc:2", "e1", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders-mirror", 0, 4, D(1),
       NULL}},
     {"duplicate.exact@svc:2<svc:1", NULL},
     "copy across brokers or channels"},
    {"duplicate.exact: replayed hours later",
     NULL,
     {{"tap:1", "e1", "OrderPlaced", "orders", "c1", NULL, "publish", "orders", 0, 1, D(1), NULL},
      {"svc:1", "e1", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 2, D(1), NULL},
      {"svc:2", "e1", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 7200000, D(1),
       NULL}},
     {"duplicate.exact@svc:2<svc:1", NULL},
     "replay"},
    {"vector clocks written as text are compared too",
     NULL,
     {{"a:1", "e1", "OrderPlaced", "orders", "c1", NULL, NULL, NULL, 0, 0, D(1), "vclock=orders:3"},
      {"b:1", "e2", "OrderPaid", "payments", "c1", "e1", NULL, NULL, 1, 0, D(2),
       "vclock=orders:2,payments:1"}},
     {"ordering.vclock_inconsistent@b:1<a:1", NULL},
     NULL},
    {"duplicate.exact across processes (second copy lost its correlation ID)",
     "metadata",
     {{"a:1", "e1", "OrderPlaced", "orders", "c1", NULL, NULL, NULL, 0, 0, D(1), NULL},
      {"a:2", "e1", "OrderPlaced", "orders", NULL, NULL, NULL, NULL, 0, 0, D(1), NULL}},
     {"duplicate.exact@a:2<a:1", NULL},
     NULL},
    {"duplicate.id_collision: one source reuses an id",
     NULL,
     {{"a:1", "e1", "PaymentAuthorised", "payments", "c1", NULL, NULL, NULL, 0, 0, D(1), NULL},
      {"a:2", "e1", "PaymentAuthorised", "payments", "c1", NULL, NULL, NULL, 1, 0, D(2), NULL}},
     {"duplicate.id_collision@a:2<a:1", NULL},
     NULL},
    {"duplicate.semantic: retry with a fresh id within the window",
     NULL,
     {{"a:1", "e1", "PaymentAuthorised", "payments", "c1", NULL, NULL, NULL, 0, 0, D(1),
       "subject=pay-1"},
      {"a:2", "e2", "PaymentAuthorised", "payments", "c1", NULL, NULL, NULL, 2000, 0, D(1),
       "subject=pay-1"},
      {"a:3", "e3", "PaymentAuthorised", "payments", "c1", NULL, NULL, NULL, 900000, 0, D(1),
       "subject=pay-1"}},
     {"duplicate.semantic@a:2<a:1", NULL},
     NULL},
    {"ordering.delivered_before_cause at one consumer",
     NULL,
     {{"orders:1", "e1", "OrderPlaced", "orders", "c1", NULL, "publish", "orders", 0, 1, D(1),
       NULL},
      {"pay:1", "e1", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 2, D(1), NULL},
      {"pay:2", "e2", "PaymentAuthorised", "payments", "c1", "e1", "publish", "payments", 3, 3,
       D(2), NULL},
      {"ship:1", "e2", "PaymentAuthorised", "payments", "c1", "e1", "deliver", "payments", 3, 4,
       D(2), NULL},
      {"ship:2", "e1", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 9, D(1), NULL}},
     {"ordering.delivered_before_cause@ship:1<ship:2", NULL},
     NULL},
    {"ordering.time_before_cause: skewed clock",
     NULL,
     {{"a:1", "e1", "OrderPlaced", "orders", "c1", NULL, NULL, NULL, 5000, 0, D(1), NULL},
      {"b:1", "e2", "StockReserved", "inventory", "c1", "e1", NULL, NULL, 2500, 0, D(2), NULL}},
     {"ordering.time_before_cause@b:1<a:1", NULL},
     NULL},
    {"ordering.partition_regression: sequence goes back within a key",
     NULL,
     {{"a:1", "e1", "OrderPlaced", "orders", "c1", NULL, NULL, NULL, 0, 0, D(1), "pk=o1|seq=1"},
      {"a:2", "e2", "OrderPaid", "orders", "c1", NULL, NULL, NULL, 1, 0, D(2), "pk=o1|seq=3"},
      {"a:3", "e3", "OrderPacked", "orders", "c1", NULL, NULL, NULL, 2, 0, D(3), "pk=o1|seq=2"}},
     {"ordering.partition_regression@a:3<a:2", NULL},
     NULL},
    {"ordering.sequence_gap: a source skips a value",
     NULL,
     {{"a:1", "e1", "OrderPlaced", "orders", "c1", NULL, NULL, NULL, 0, 0, D(1), "seq=1"},
      {"a:2", "e2", "OrderPlaced", "orders", "c2", NULL, NULL, NULL, 1, 0, D(2), "seq=2"},
      {"a:3", "e3", "OrderPlaced", "orders", "c3", NULL, NULL, NULL, 2, 0, D(3), "seq=4"}},
     {"ordering.sequence_gap@a:3<a:2", NULL},
     NULL},
    {"ordering.vclock_inconsistent: effect clock does not dominate its cause's",
     NULL,
     {{"a:1", "e1", "OrderPlaced", "orders", "c1", NULL, NULL, NULL, 0, 0, D(1),
       "vclock={\"orders\":2}"},
      {"b:1", "e2", "OrderPaid", "payments", "c1", "e1", NULL, NULL, 1, 0, D(2),
       "vclock={\"orders\":1,\"payments\":1}"}},
     {"ordering.vclock_inconsistent@b:1<a:1", NULL},
     NULL},
    {"carried vector clocks that respect causality: nothing",
     NULL,
     {{"a:1", "e1", "OrderPlaced", "orders", "c1", NULL, NULL, NULL, 0, 0, D(1),
       "vclock={\"orders\":1}"},
      {"b:1", "e2", "OrderPaid", "payments", "c1", "e1", NULL, NULL, 1, 0, D(2),
       "vclock={\"orders\":1,\"payments\":1}"},
      {"c:1", "e3", "StockReserved", "inventory", "c1", "e1", NULL, NULL, 1, 0, D(3),
       "vclock={\"inventory\":1,\"orders\":1}"}},
     {NULL},
     NULL},
    {"causality.orphan",
     NULL,
     {{"a:1", "e2", "OrderPaid", "payments", "c1", "nope", NULL, NULL, 1, 0, D(2), NULL}},
     {"causality.orphan@a:1", NULL},
     NULL},
    {"causality.cycle",
     NULL,
     {{"a:1", "e1", "OrderPaid", "payments", "c1", "e2", NULL, NULL, 0, 0, D(1), NULL},
      {"a:2", "e2", "OrderPacked", "payments", "c1", "e1", NULL, NULL, 1, 0, D(2), NULL}},
     {"causality.cycle@a:1<a:2", "causality.cycle@a:2<a:1", NULL},
     NULL},
    {"causality.correlation_changed",
     NULL,
     {{"a:1", "e1", "OrderPlaced", "orders", "c1", NULL, NULL, NULL, 0, 0, D(1), NULL},
      {"b:1", "e2", "OrderPaid", "payments", "c2", "e1", NULL, NULL, 1, 0, D(2), NULL}},
     {"causality.correlation_changed@b:1<a:1", NULL},
     NULL},
    {"delivery.unmatched: published, never delivered, later messages were",
     NULL,
     {{"tap:1", "e1", "OrderPlaced", "orders", "c1", NULL, "publish", "orders", 0, 1, D(1), NULL},
      {"tap:2", "e1", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 2, D(1), NULL},
      {"tap:3", "e2", "OrderPlaced", "orders", "c2", NULL, "publish", "orders", 3, 3, D(2), NULL},
      {"tap:4", "e3", "OrderPlaced", "orders", "c3", NULL, "publish", "orders", 4, 4, D(3), NULL},
      {"tap:5", "e3", "OrderPlaced", "orders", "c3", NULL, "deliver", "orders", 4, 5, D(3), NULL}},
     {"delivery.unmatched@tap:3", NULL},
     NULL},
    {"delivery.unmatched: delivered, never published",
     NULL,
     {{"tap:1", "e1", "OrderPlaced", "orders", "c1", NULL, "publish", "orders", 0, 1, D(1), NULL},
      {"tap:2", "e1", "OrderPlaced", "orders", "c1", NULL, "deliver", "orders", 0, 2, D(1), NULL},
      {"tap:3", "e2", "OrderPlaced", "orders", "c2", NULL, "deliver", "orders", 3, 3, D(2), NULL}},
     {"delivery.unmatched@tap:3", NULL},
     NULL},
    {"metadata.missing_*",
     NULL,
     {{"a:1", NULL, "OrderPlaced", "orders", "c1", NULL, NULL, NULL, 0, 0, D(1), NULL},
      {"a:2", "e2", NULL, "orders", "c2", NULL, NULL, NULL, 0, 0, D(2), NULL},
      {"a:3", "e3", "OrderPlaced", NULL, "c3", NULL, NULL, NULL, 0, 0, D(3), NULL},
      {"a:4", "e4", "OrderPlaced", "orders", "c4", NULL, NULL, NULL, NO_TIME, 0, D(4), NULL},
      {"a:5", "e5", "OrderPlaced", "orders", NULL, NULL, NULL, NULL, 0, 0, D(5), NULL}},
     {"metadata.missing_correlation_id@a:5", "metadata.missing_id@a:1",
      "metadata.missing_source@a:3", "metadata.missing_time@a:4", "metadata.missing_type@a:2",
      NULL},
     NULL},
    {"metadata.missing_causation_id on a non-root type",
     NULL,
     {{"a:1", "r1", "OrderPlaced", "orders", "c1", NULL, NULL, NULL, 0, 0, D(1), NULL},
      {"a:2", "x1", "OrderPaid", "payments", "c1", "r1", NULL, NULL, 1, 0, D(2), NULL},
      {"a:3", "r2", "OrderPlaced", "orders", "c2", NULL, NULL, NULL, 2, 0, D(3), NULL},
      {"a:4", "x2", "OrderPaid", "payments", "c2", "r2", NULL, NULL, 3, 0, D(4), NULL},
      {"a:5", "r3", "OrderPlaced", "orders", "c3", NULL, NULL, NULL, 4, 0, D(5), NULL},
      {"a:6", "x3", "OrderPaid", "payments", "c3", NULL, NULL, NULL, 5, 0, D(6), NULL}},
     {"metadata.missing_causation_id@a:6", NULL},
     NULL},
    {"metadata.invalid_time and time_without_zone",
     NULL,
     {{"a:1", "e1", "OrderPlaced", "orders", "c1", NULL, NULL, NULL, NO_TIME, 0, D(1),
       "time=2026-13-45T99:00:00Z"},
      {"a:2", "e2", "OrderPlaced", "orders", "c2", NULL, NULL, NULL, NO_TIME, 0, D(2),
       "time=2026-01-01T10:00:00"},
      {"a:3", "e3", "OrderPlaced", "orders", "c3", NULL, NULL, NULL, NO_TIME, 0, D(3),
       "time=2026-01-01T10:00:00+02:00"}},
     {"metadata.invalid_time@a:1", "metadata.time_without_zone@a:2", NULL},
     NULL},
    {"metadata.trace_context_broken",
     NULL,
     {{"a:1", "e1", "OrderPlaced", "orders", "c1", NULL, NULL, NULL, 0, 0, D(1),
       "attrs={\"traceparent\":\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"}"},
      {"b:1", "e2", "OrderPaid", "payments", "c1", "e1", NULL, NULL, 1, 0, D(2),
       "attrs={\"traceparent\":\"00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01\"}"},
      {"c:1", "e3", "OrderShipped", "shipping", "c1", "e2", NULL, NULL, 2, 0, D(3),
       "attrs={\"traceparent\":\"00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-2222222222222222-01\"}"}},
     {"metadata.trace_context_broken@c:1<b:1", NULL},
     NULL},
    {"naming.command_shaped and naming.technical",
     NULL,
     {{"a:1", "e1", "SendWelcomeEmail", "notify", "c1", NULL, NULL, NULL, 0, 0, D(1), NULL},
      {"a:2", "e2", "RowInserted", "inventory", "c2", NULL, NULL, NULL, 0, 0, D(2), NULL},
      {"a:3", "e3", "com.example.billing.InvoiceIssued", "billing", "c3", NULL, NULL, NULL, 0, 0,
       D(3), NULL}},
     {"naming.command_shaped@a:1", "naming.technical@a:2", NULL},
     NULL},
};

int main(void)
{
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct acase *c = &cases[i];
        struct analyzer_summary sum;
        struct store *st;
        char err[512], **got;
        size_t n = 0, nwant = 0, nev = 0, k;
        int rc, same;

        while (nev < MAXEV && c->evs[nev].loc)
            nev++;
        while (c->want[nwant])
            nwant++;
        st = harness_store(DB, c->evs, nev);
        rc = analyzer_run(store_db(st), NULL, NULL, &sum, err, sizeof err);
        CHECK_INT(rc, ES_OK);
        if (rc != ES_OK)
            fprintf(stderr, "case %zu (%s): %s\n", i, c->name, err);
        got = harness_findings(st, c->ignore, &n);
        same = n == nwant;
        for (k = 0; same && k < n; k++)
            same = strcmp(got[k], c->want[k]) == 0;
        CHECK(same);
        if (!same) {
            fprintf(stderr, "case %zu (%s):\n  want:", i, c->name);
            for (k = 0; k < nwant; k++)
                fprintf(stderr, " %s", c->want[k]);
            fprintf(stderr, "\n  got: ");
            for (k = 0; k < n; k++)
                fprintf(stderr, " %s", got[k]);
            fprintf(stderr, "\n");
        }
        if (c->msg) {
            sqlite3_stmt *q;
            int found = 0;
            if (sqlite3_prepare_v2(store_db(st),
                                   "SELECT count(*) FROM findings WHERE"
                                   " instr(message, ?1) > 0",
                                   -1, &q, NULL) == SQLITE_OK) {
                sqlite3_bind_text(q, 1, c->msg, -1, SQLITE_STATIC);
                if (sqlite3_step(q) == SQLITE_ROW)
                    found = sqlite3_column_int(q, 0);
                sqlite3_finalize(q);
            }
            CHECK(found > 0);
            if (!found)
                fprintf(stderr, "case %zu (%s): no message contains \"%s\"\n", i, c->name, c->msg);
        }
        if (rc == ES_OK) {
            CHECK_INT(sum.events, nev);
            analyzer_summary_done(&sum);
        }
        harness_free(got);
        store_close(st);
    }
    unlink(DB);
    unlink(DB "-wal");
    unlink(DB "-shm");
    return CHECK_DONE();
}
