/*
 * The TUI model without curses: process list (full and keyset-paged), sort, filters,
 * status, timeline and causal tree, event detail folds and sightings, findings groups,
 * the query prompt, search, live polling; and the text escaping every view relies on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "core/store.h"
#include "tui/model.h"
#include "tui/text.h"

#define T0 1773568800000000LL /* 2026-03-15T10:00:00Z in µs */

static sqlite3 *db_w; /* writer connection (the store's) */

static void exec(const char *sql)
{
    char *err = NULL;

    if (sqlite3_exec(db_w, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sql failed: %s\n  %s\n", err, sql);
        sqlite3_free(err);
        exit(2);
    }
}

static void add(const char *id, const char *type, const char *src, int64_t dt_ms,
                const char *cid, const char *cause)
{
    sqlite3_stmt *st;
    static int line;

    sqlite3_prepare_v2(db_w,
                       "INSERT INTO events(origin_id, location, event_id, type, source, time_us, "
                       "correlation_id, causation_id, direction, data) "
                       "VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'log', ?8)",
                       -1, &st, NULL);
    {
        char loc[32];
        snprintf(loc, sizeof loc, "t.jsonl:%d", ++line);
        sqlite3_bind_text(st, 1, loc, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, src, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, T0 + dt_ms * 1000);
    if (cid)
        sqlite3_bind_text(st, 6, cid, -1, SQLITE_STATIC);
    if (cause)
        sqlite3_bind_text(st, 7, cause, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, "{\"a\":{\"b\":[1,2]},\"c\":\"x\\u001b[2J\"}", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        fprintf(stderr, "insert failed: %s\n", sqlite3_errmsg(db_w));
        exit(2);
    }
    sqlite3_finalize(st);
}

/* Index of the row with this cid in the shown process list, -1 when absent. */
static long row_of(struct model *m, const char *cid)
{
    size_t i;

    for (i = 0; i < m->procs.list.n; i++)
        if (strcmp(model_proc_at(m, i)->cid, cid) == 0)
            return (long)i;
    return -1;
}

static void test_escape(void)
{
    static const struct {
        const char *in;
        int ascii;
        const char *out;
    } cases[] = {
        {"plain", 0, "plain"},
        {"a\x1b[2Jb", 0, "a\\x1b[2Jb"},
        {"l1\nl2\tx\r", 0, "l1\\nl2\\tx\\r"},
        {"\x7f", 0, "\\x7f"},
        {"caf\xc3\xa9", 0, "caf\xc3\xa9"},
        {"caf\xc3\xa9", 1, "caf?"},
        {"\xc2\x9b" "31m", 0, "\\xc2\\x9b31m"}, /* C1 CSI */
        {"bad\xff", 0, "bad\\xff"},
        {"\xe2\x80\xae" "rev", 0, "\\xe2\\x80\\xaerev"}, /* bidi override */
        {NULL, 0, "-"},
        {"", 0, ""},
    };
    char buf[64];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        text_escape(cases[i].in, buf, sizeof buf, cases[i].ascii);
        if (strcmp(buf, cases[i].out) != 0)
            fprintf(stderr, "escape case %zu\n", i);
        CHECK_STR(buf, cases[i].out);
    }
    /* Edge lengths: 0 leaves buf alone, 1 gives "", never a cut escape. */
    memcpy(buf, "zz", 3);
    text_escape("abc", buf, 0, 0);
    CHECK_STR(buf, "zz");
    text_escape("abc", buf, 1, 0);
    CHECK_STR(buf, "");
    text_escape("abc", buf, 3, 0);
    CHECK_STR(buf, "ab");
    text_escape("abc", buf, 4, 0);
    CHECK_STR(buf, "abc");
    text_escape("a\x1b", buf, 4, 0); /* "\x1b" needs 4 more bytes: dropped whole */
    CHECK_STR(buf, "a");
    text_escape("a\x1b", buf, 6, 0);
    CHECK_STR(buf, "a\\x1b");
    CHECK(text_contains("OrderPlaced", "orderp"));
    CHECK(!text_contains("Order", "orders"));
    text_duration(1500, buf, sizeof buf);
    CHECK_STR(buf, "1.5ms");
    text_duration(-250000, buf, sizeof buf);
    CHECK_STR(buf, "-250.0ms");
    text_clock(T0 + 123456, buf, sizeof buf);
    CHECK_STR(buf, "10:00:00.123");
}

static void fill_store(void)
{
    exec("INSERT INTO origins(id, kind, uri, first_seen) VALUES (1, 'file', 't.jsonl', 'x')");
    exec("BEGIN");
    /* p-1: completed, a fan-out with two concurrent reactions in other lanes */
    add("a1", "OrderPlaced", "orders", 0, "p-1", NULL);
    add("a2", "PaymentAuthorised", "payments", 100, "p-1", "a1");
    add("a3", "StockReserved", "inventory", 150, "p-1", "a1");
    add("a4", "OrderShipped", "shipping", 900, "p-1", "a2");
    /* p-2: failed */
    add("b1", "OrderPlaced", "orders", 1000, "p-2", NULL);
    add("b2", "PaymentDeclined", "payments", 1200, "p-2", "b1");
    /* p-3: silent for hours before the newest event: stuck */
    add("c1", "OrderPlaced", "orders", 2000, "p-3", NULL);
    add("c2", "PaymentAuthorised", "payments", 2100, "p-3", "c1");
    /* p-4: recent, its last type causes others elsewhere: in flight; a duplicate sighting */
    add("d1", "OrderPlaced", "orders", 3 * 3600 * 1000LL, "p-4", NULL);
    add("d1", "OrderPlaced", "orders", 3 * 3600 * 1000LL, "p-4", NULL);
    add("d2", "PaymentAuthorised", "payments", 3 * 3600 * 1000LL + 50, "p-4", "d1");
    /* a causation loop inside p-5 */
    add("e1", "Ping", "loop", 3 * 3600 * 1000LL + 60, "p-5", "e2");
    add("e2", "Pong", "loop", 3 * 3600 * 1000LL + 70, "p-5", "e1");
    /* not a process */
    add("h1", "Heartbeat", "monitor", 3 * 3600 * 1000LL + 80, NULL, NULL);
    exec("COMMIT");
    exec("INSERT INTO findings(kind, severity, correlation_id, event_seq, related_seq, message) "
         "VALUES ('duplicate.exact', 'warning', 'p-4', 10, 9, 'seen twice'),"
         "('causality.cycle', 'error', 'p-5', 12, 13, 'loop'),"
         "('causality.cycle', 'error', 'p-5', 13, 12, 'loop')");
}

static void test_full(sqlite3 *db)
{
    struct model m;
    struct model_procrow *r;
    char buf[256];
    size_t i;
    long k;

    CHECK_INT(model_init(&m, db, 0), ES_OK);
    CHECK_INT(m.procs.full, 1);
    CHECK_INT(m.procs.list.n, 5);
    CHECK(m.status != NULL);
    CHECK_STR(model_proc_at(&m, 0)->cid, "p-1");
    /* Status: the analyzer's rule on the latest event, "now" = newest event of the store. */
    CHECK_INT(model_proc_at(&m, row_of(&m, "p-1"))->status, STATUS_COMPLETED);
    CHECK_INT(model_proc_at(&m, row_of(&m, "p-2"))->status, STATUS_FAILED);
    CHECK_INT(model_proc_at(&m, row_of(&m, "p-3"))->status, STATUS_STUCK);
    CHECK_INT(model_proc_at(&m, row_of(&m, "p-4"))->status, STATUS_IN_FLIGHT);
    r = model_proc_at(&m, row_of(&m, "p-1"));
    CHECK_INT(r->n_events, 4);
    CHECK_INT(r->n_svc, 4);
    CHECK_INT(r->last_us - r->first_us, 900000);
    CHECK_INT(model_proc_at(&m, row_of(&m, "p-4"))->n_findings, 1);
    CHECK_INT(model_proc_at(&m, row_of(&m, "p-5"))->n_findings, 2);

    /* Sort: by events (descending first), again reverses; selection follows its process. */
    m.procs.list.sel = (size_t)row_of(&m, "p-3");
    model_sort_by(&m, SORT_EVENTS);
    CHECK_STR(model_proc_at(&m, 0)->cid, "p-1");
    CHECK_STR(model_proc_at(&m, m.procs.list.sel)->cid, "p-3");
    model_sort_by(&m, SORT_EVENTS);
    CHECK_INT(m.procs.desc, 0);
    CHECK_INT(model_proc_at(&m, 4)->n_events, 4);
    model_sort_by(&m, SORT_FINDINGS);
    CHECK_STR(model_proc_at(&m, 0)->cid, "p-5");
    model_sort_by(&m, SORT_ID);

    /* Filters. */
    model_filter_text(&m, "declined");
    CHECK_INT(m.procs.list.n, 1);
    CHECK_STR(model_proc_at(&m, 0)->cid, "p-2");
    model_filter(&m, "status=stuck");
    CHECK_INT(m.procs.list.n, 1);
    CHECK_STR(model_proc_at(&m, 0)->cid, "p-3");
    model_filter(&m, "service=inventory");
    CHECK_INT(m.procs.list.n, 1);
    model_filter(&m, "type=PaymentAuthorised findings");
    CHECK_INT(m.procs.list.n, 1);
    CHECK_STR(model_proc_at(&m, 0)->cid, "p-4");
    model_filter(&m, "status=in_flight"); /* p-4, and p-5 whose Pong causes a Ping */
    CHECK_INT(m.procs.list.n, 2);
    model_filter(&m, "");
    CHECK_INT(m.procs.list.n, 5);
    model_toggle_findings_filter(&m);
    CHECK_INT(m.procs.list.n, 2);
    model_toggle_findings_filter(&m);
    for (i = 0; i < STATUS_N + 1; i++)
        model_cycle_status_filter(&m);
    CHECK_INT(m.procs.f_status, -1);
    CHECK_INT(m.procs.list.n, 5);

    /* Search in the process list, with wrap-around. */
    m.procs.list.sel = 0;
    model_search(&m, "p-3", 1);
    CHECK_STR(model_proc_at(&m, m.procs.list.sel)->cid, "p-3");
    model_search(&m, "orders", 1); /* a new search matches the current row first */
    CHECK_STR(model_proc_at(&m, m.procs.list.sel)->cid, "p-3");
    model_search(&m, NULL, -1);
    CHECK_STR(model_proc_at(&m, m.procs.list.sel)->cid, "p-2");

    /* Timeline of p-1: lanes in order of appearance, causal parents, concurrency. */
    m.procs.list.sel = 0;
    CHECK(model_enter(&m) & TUI_REDRAW);
    CHECK_INT(m.view, MODEL_TIMELINE);
    CHECK_INT(m.proc.n, 4);
    CHECK_INT(m.proc.nlanes, 4);
    CHECK_STR(m.proc.lanes[1], "payments");
    CHECK_INT(m.proc.ev[1].parent, 0);
    CHECK_INT(m.proc.ev[3].parent, 1);
    CHECK_INT(m.proc.ev[1].concurrent, 1);
    CHECK_INT(m.proc.ev[2].concurrent, 1);
    CHECK_INT(m.proc.ev[3].concurrent, 0);
    model_hscroll(&m, 10);
    CHECK_INT(m.proc.hscroll, 3);
    model_hscroll(&m, -10);
    CHECK_INT(m.proc.hscroll, 0);
    model_search(&m, "shipping", 1);
    CHECK_INT(m.proc.tl.sel, 3);

    /* Causal tree: depth-first under the cause; collapse hides, expand restores. */
    model_open_tree(&m);
    CHECK_INT(m.view, MODEL_TREE);
    CHECK_INT(m.proc.tr.n, 4);
    CHECK_INT(m.proc.tree[m.proc.tr.sel], 3); /* the timeline's selection carried over */
    CHECK_INT(m.proc.tree[0], 0);
    CHECK_INT(m.proc.tree[1], 1);
    CHECK_INT(m.proc.tree[2], 3);
    CHECK_INT(m.proc.ev[3].depth, 2);
    model_tree_set(&m, 1); /* on a leaf: go to its cause */
    CHECK_INT(m.proc.tree[m.proc.tr.sel], 1);
    model_tree_set(&m, 1);
    CHECK_INT(m.proc.tr.n, 3);
    model_home(&m);
    model_tree_toggle(&m);
    CHECK_INT(m.proc.tr.n, 1);
    model_tree_toggle(&m);
    CHECK_INT(m.proc.tr.n, 3);
    model_back(&m);
    CHECK_INT(m.view, MODEL_TIMELINE);

    /* Event detail with folds. */
    m.proc.tl.sel = 0;
    model_enter(&m);
    CHECK_INT(m.view, MODEL_EVENT);
    {
        size_t before = m.det.list.n, open_line = 0;
        int found = 0;
        for (i = 0; i < m.det.list.n; i++)
            if (m.det.l[m.det.vis[i]].fold_end > (long)m.det.vis[i] && !found)
                open_line = i, found = 1;
        CHECK(found);
        m.det.list.sel = open_line;
        model_detail_toggle(&m);
        CHECK(m.det.list.n < before);
        model_detail_toggle(&m);
        CHECK_INT(m.det.list.n, before);
        /* control bytes stay in the model as data; escaping happens when drawn */
        found = 0;
        for (i = 0; i < m.det.n; i++)
            found |= text_contains(m.det.l[i].text, "\\u001b");
        CHECK(found);
    }
    model_back(&m);
    model_back(&m);
    CHECK_INT(m.view, MODEL_PROCS);

    /* Sightings of a duplicate link to each other. */
    k = row_of(&m, "p-4");
    m.procs.list.sel = (size_t)k;
    model_enter(&m);
    CHECK_INT(m.proc.n, 3);
    CHECK_INT(m.proc.ev[0].n_findings + m.proc.ev[1].n_findings, 1);
    m.proc.tl.sel = 0;
    model_enter(&m);
    {
        int links = 0;
        for (i = 0; i < m.det.n; i++)
            links += m.det.l[i].seq != 0;
        CHECK_INT(links, 2); /* the other sighting and the finding's related event */
    }

    /* Causation loop: every event still shown once. */
    model_open_process(&m, "p-5", 0);
    CHECK_INT(m.proc.n, 2);
    CHECK_INT(m.proc.tr.n, 2);
    CHECK_INT(m.proc.ev[0].loop_root + m.proc.ev[1].loop_root, 1);

    /* Findings grouped by kind; Enter on a header steps in, on an item jumps. */
    model_open_findings(&m);
    CHECK_INT(m.fnd.n, 5);
    CHECK_INT(m.fnd.r[0].header, 1);
    CHECK_STR(m.fnd.r[0].kind, "causality.cycle");
    CHECK_INT(m.fnd.r[0].count, 2);
    m.fnd.list.sel = 1;
    model_findings_toggle(&m); /* on an item: folds its group, selects the header */
    CHECK_INT(m.fnd.list.n, 3);
    CHECK_INT(m.fnd.list.sel, 0);
    CHECK_INT(model_finding_at(&m, 1)->header, 1);
    model_findings_toggle(&m);
    CHECK_INT(m.fnd.list.n, 5);
    m.fnd.list.sel = 3;
    CHECK_INT(m.fnd.r[3].header, 1);
    model_enter(&m);
    CHECK_INT(m.fnd.list.sel, 4);
    model_enter(&m);
    CHECK_INT(m.view, MODEL_TIMELINE);
    CHECK_STR(m.proc.cid, "p-4");
    CHECK_INT(m.proc.ev[m.proc.tl.sel].seq, 10);

    /* Query prompt: named, raw, refused writes, errors. */
    model_prompt_open(&m, PROMPT_QUERY);
    snprintf(m.prompt.buf, sizeof m.prompt.buf, "SELECT type, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC, 1");
    model_prompt_submit(&m);
    CHECK_INT(m.view, MODEL_QUERY);
    CHECK_INT(m.q.ncols, 2);
    CHECK_STR(m.q.cells[0], "OrderPlaced");
    CHECK_STR(m.q.cells[1], "5");
    model_run_query(&m, "DELETE FROM events");
    CHECK(strstr(m.msg, "read-only") != NULL);
    CHECK_INT(m.q.ncols, 2); /* the last result stays */
    model_run_query(&m, "SELEKT 1");
    CHECK(strstr(m.msg, "query:") != NULL);
    model_run_query(&m, "SELECT correlation_id FROM events WHERE seq = 5");
    model_enter(&m);
    CHECK_STR(m.proc.cid, "p-2");
    model_row_text(&m, 0, buf, sizeof buf);
    CHECK(strstr(buf, "OrderPlaced") != NULL);

    /* A process no event belongs to (a stale finding, a query row): a message, no view. */
    m.view = MODEL_QUERY;
    CHECK_INT(model_open_process(&m, "no-such-process", 0), TUI_STATUS);
    CHECK_INT(m.view, MODEL_QUERY);
    CHECK(strstr(m.msg, "no-such-process") != NULL);
    model_open_process(&m, "p-2", 0);

    /* Tab cycles through views with content; help toggles. */
    m.view = MODEL_PROCS;
    model_next_view(&m);
    CHECK_INT(m.view, MODEL_TIMELINE);
    model_show_help(&m);
    CHECK_INT(m.view, MODEL_HELP);
    model_show_help(&m);
    CHECK_INT(m.view, MODEL_TIMELINE);
    model_done(&m);
}

static void test_paged_and_live(sqlite3 *db)
{
    struct model m;
    char cid[32];
    int i;
    unsigned f;

    /* 450 more processes, then open in paged mode (keyset over the correlation index). */
    exec("BEGIN");
    for (i = 0; i < 450; i++) {
        snprintf(cid, sizeof cid, "q-%04d", i);
        add(cid, "OrderPlaced", "orders", 4 * 3600 * 1000LL + i, cid, NULL);
    }
    exec("COMMIT");
    model_set_full_threshold(1);
    CHECK_INT(model_init(&m, db, 3600LL * 1000000), ES_OK);
    CHECK_INT(m.procs.full, 0);
    CHECK_INT(m.procs.list.n, 200);
    CHECK_INT(m.procs.at_start, 1);
    CHECK_STR(model_proc_at(&m, 0)->cid, "p-1");
    CHECK_INT(model_proc_at(&m, 0)->n_events, 4);
    m.page = 20;
    model_move(&m, 300);
    CHECK_INT(m.procs.list.sel, 300);
    CHECK_STR(model_proc_at(&m, 300)->cid, "q-0295");
    model_end(&m);
    CHECK_STR(model_proc_at(&m, m.procs.list.sel)->cid, "q-0449");
    CHECK_INT(m.procs.at_end, 1);
    model_move(&m, -250);
    CHECK_STR(model_proc_at(&m, m.procs.list.sel)->cid, "q-0199");
    model_home(&m);
    CHECK_STR(model_proc_at(&m, m.procs.list.sel)->cid, "p-1");
    /* A sort needs every process: it waits for the background summary. */
    model_move(&m, 5);
    model_sort_by(&m, SORT_START);
    CHECK_INT(m.procs.want_full, 1);
    while (!m.procs.full)
        model_build_step(&m, 100);
    CHECK_STR(model_proc_at(&m, m.procs.list.sel)->cid, "q-0000"); /* still selected */
    CHECK_INT(m.procs.list.n, 455);
    CHECK_STR(model_proc_at(&m, 454)->cid, "q-0449");

    /* Live: rows committed by another connection appear on the next poll. */
    CHECK_INT(model_poll(&m), 0);
    add("z1", "OrderPlaced", "orders", 5 * 3600 * 1000LL, "z-1", NULL);
    f = model_poll(&m);
    CHECK(f & TUI_REDRAW);
    CHECK_INT(m.procs.list.n, 456);
    CHECK(row_of(&m, "z-1") >= 0);
    model_open_process(&m, "z-1", 0);
    add("z2", "OrderConfirmed", "orders", 5 * 3600 * 1000LL + 5, "z-1", "z1");
    model_poll(&m);
    CHECK_INT(m.proc.n, 2);
    model_done(&m);
    model_set_full_threshold(MODEL_FULL_AT_OPEN);
}

int main(void)
{
    char path[] = "/tmp/es-tui-model-XXXXXX", err[512], dbpath[64];
    struct store *st = NULL;
    sqlite3 *db = NULL;
    int fd = mkstemp(path);

    test_escape();
    if (fd < 0)
        return 2;
    close(fd);
    unlink(path);
    snprintf(dbpath, sizeof dbpath, "%s.db", path);
    if (store_open(dbpath, STORE_CREATE, &st, err, sizeof err) != ES_OK) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    db_w = store_db(st);
    fill_store();
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return 2;
    test_full(db);
    test_paged_and_live(db);
    sqlite3_close(db);
    store_close(st);
    unlink(dbpath);
    snprintf(err, sizeof err, "%s-wal", dbpath);
    unlink(err);
    snprintf(err, sizeof err, "%s-shm", dbpath);
    unlink(err);
    return CHECK_DONE();
}
