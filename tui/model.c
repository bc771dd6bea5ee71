/*
 * The TUI model: everything the views show, read from the store with keyset queries over
 * its indexes. No curses here (tests/unit/test_tui_model.c drives it directly).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/queries.h"
#include "core/err.h"
#include "core/event.h"
#include "core/xmalloc.h"
#include "tui/model.h"
#include "tui/text.h"

#define PAGE_ROWS 200   /* processes fetched per page in paged mode */
#define WINDOW_MAX 1000 /* processes kept in the paged window */
#define PAYLOAD_MAX (1 << 20)

enum { CLS_FAIL = 1, CLS_END = 2 };

/* ---------------------------------------------------------------------------------------
 * Small containers: interned strings, string -> int64 map
 */

static const char *const fail_words[] = {"failed",  "failure", "rejected", "declined",
                                         "cancelled", "canceled", "error", "timedout",
                                         "expired", "aborted", NULL};
static const char *const end_words[] = {"completed", "complete",  "shipped", "delivered",
                                        "fulfilled", "closed",    "finished", "succeeded",
                                        "settled",   "refunded", NULL};

static int has_word(const char *s, const char *const *words)
{
    size_t i;

    for (i = 0; words[i] != NULL; i++)
        if (text_contains(s, words[i]))
            return 1;
    return 0;
}

static void intern_init(struct model_intern *in)
{
    size_t i;

    in->cap = 64;
    in->s = xcalloc(in->cap, sizeof *in->s);
    in->cls = xcalloc(in->cap, 1);
    in->s[0] = xstrdup("");
    in->n = 1;
    in->nslot = 128;
    in->slot = xmalloc(in->nslot * sizeof *in->slot);
    for (i = 0; i < in->nslot; i++)
        in->slot[i] = UINT32_MAX;
}

static void intern_done(struct model_intern *in)
{
    uint32_t i;

    for (i = 0; i < in->n; i++)
        free(in->s[i]);
    free(in->s);
    free(in->cls);
    free(in->slot);
    memset(in, 0, sizeof *in);
}

static void intern_rehash(struct model_intern *in)
{
    size_t i, j, mask;

    free(in->slot);
    in->nslot *= 2;
    mask = in->nslot - 1;
    in->slot = xmalloc(in->nslot * sizeof *in->slot);
    for (i = 0; i < in->nslot; i++)
        in->slot[i] = UINT32_MAX;
    for (i = 1; i < in->n; i++) {
        j = event_hash(in->s[i], strlen(in->s[i])) & mask;
        while (in->slot[j] != UINT32_MAX)
            j = (j + 1) & mask;
        in->slot[j] = (uint32_t)i;
    }
}

/* Id of s (0 for NULL or ""), adding it when new. */
static uint32_t intern(struct model_intern *in, const char *s)
{
    size_t j, mask, len;

    if (s == NULL || *s == '\0')
        return 0;
    if ((size_t)in->n * 2 >= in->nslot)
        intern_rehash(in);
    mask = in->nslot - 1;
    len = strlen(s);
    j = event_hash(s, len) & mask;
    while (in->slot[j] != UINT32_MAX) {
        if (strcmp(in->s[in->slot[j]], s) == 0)
            return in->slot[j];
        j = (j + 1) & mask;
    }
    if (in->n == in->cap) {
        in->cap *= 2;
        in->s = xreallocarray(in->s, in->cap, sizeof *in->s);
        in->cls = xrealloc(in->cls, in->cap);
    }
    in->s[in->n] = xstrdup(s);
    in->cls[in->n] = (unsigned char)((has_word(s, fail_words) ? CLS_FAIL : 0) |
                                     (has_word(s, end_words) ? CLS_END : 0));
    in->slot[j] = in->n;
    return in->n++;
}

static void map_done(struct model_cidmap *mp)
{
    size_t i;
    int borrowed = mp->borrowed;

    for (i = 0; i < mp->nslot && !mp->borrowed; i++)
        free(mp->key[i]);
    free(mp->key);
    free(mp->val);
    memset(mp, 0, sizeof *mp);
    mp->borrowed = borrowed;
}

static int64_t *map_get(const struct model_cidmap *mp, const char *k)
{
    size_t j, mask;

    if (mp->nslot == 0 || k == NULL)
        return NULL;
    mask = mp->nslot - 1;
    j = event_hash(k, strlen(k)) & mask;
    while (mp->key[j] != NULL) {
        if (strcmp(mp->key[j], k) == 0)
            return &mp->val[j];
        j = (j + 1) & mask;
    }
    return NULL;
}

/* Slot of k, created with value v when absent. */
static int64_t *map_put(struct model_cidmap *mp, const char *k, int64_t v)
{
    size_t j, mask, i;
    int64_t *p = map_get(mp, k);

    if (p != NULL)
        return p;
    /* key and val are allocated together; testing val too lets the analyzer see it. */
    if (mp->val == NULL || (mp->n + 1) * 2 > mp->nslot) {
        struct model_cidmap old = *mp;
        mp->nslot = old.nslot ? old.nslot * 2 : 64;
        mp->key = xcalloc(mp->nslot, sizeof *mp->key);
        mp->val = xcalloc(mp->nslot, sizeof *mp->val);
        mask = mp->nslot - 1;
        for (i = 0; old.val != NULL && i < old.nslot; i++) {
            if (old.key[i] == NULL)
                continue;
            j = event_hash(old.key[i], strlen(old.key[i])) & mask;
            while (mp->key[j] != NULL)
                j = (j + 1) & mask;
            mp->key[j] = old.key[i];
            mp->val[j] = old.val[i];
        }
        free(old.key);
        free(old.val);
    }
    mask = mp->nslot - 1;
    j = event_hash(k, strlen(k)) & mask;
    while (mp->key[j] != NULL)
        j = (j + 1) & mask;
    mp->key[j] = mp->borrowed ? (char *)k : xstrdup(k);
    mp->val[j] = v;
    mp->n++;
    return &mp->val[j];
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xstrdup((const char *)t) : NULL;
}

static int64_t col_time(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? ES_TIME_NONE : sqlite3_column_int64(st, i);
}

static sqlite3_stmt *prep(struct model *m, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(m->db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(m->msg, sizeof m->msg, "store query failed: %s", sqlite3_errmsg(m->db));
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static int64_t query_int(struct model *m, const char *sql, int64_t dflt)
{
    sqlite3_stmt *st = prep(m, sql);
    int64_t v = dflt;

    if (st != NULL && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* ---------------------------------------------------------------------------------------
 * Lists and views
 */

static void list_fix(struct model_list *l, size_t page)
{
    if (page == 0)
        page = 1;
    if (l->n == 0) {
        l->sel = l->top = 0;
        return;
    }
    if (l->sel >= l->n)
        l->sel = l->n - 1;
    if (l->top > l->sel)
        l->top = l->sel;
    if (l->sel >= l->top + page)
        l->top = l->sel - page + 1;
    if (l->top + page > l->n)
        l->top = l->n > page ? l->n - page : 0;
    if (l->top > l->sel)
        l->top = l->sel;
}

static void push_view(struct model *m, int v)
{
    if (m->view == v)
        return;
    if (m->depth == (int)(sizeof m->stack / sizeof m->stack[0])) {
        memmove(m->stack, m->stack + 1, sizeof m->stack - sizeof m->stack[0]);
        m->depth--;
    }
    m->stack[m->depth++] = m->view;
    m->view = v;
}

const char *model_status_name(int st)
{
    static const char *const names[STATUS_N] = {"completed", "failed", "in flight", "stuck"};
    return st >= 0 && st < STATUS_N ? names[st] : "?";
}

const char *model_sort_name(int sort)
{
    static const char *const names[SORT_N] = {"id",       "start",  "duration", "events",
                                              "services", "status", "findings"};
    return sort >= 0 && sort < SORT_N ? names[sort] : "?";
}

const char *model_str(const struct model *m, uint32_t id)
{
    return id < m->in.n ? m->in.s[id] : "";
}

int model_proc_status(const struct model *m, const struct model_procrow *r)
{
    unsigned char last = r->last_type < m->in.n ? m->in.cls[r->last_type] : 0;

    if (m->status != NULL)
        return (int)analyzer_status_classify(m->status,
                                             r->last_type ? model_str(m, r->last_type) : NULL,
                                             r->last_us);

    if ((last & CLS_END) && !(last & CLS_FAIL))
        return STATUS_COMPLETED;
    if (r->failed)
        return STATUS_FAILED;
    if (m->newest_us != ES_TIME_NONE && r->last_us != ES_TIME_NONE &&
        m->newest_us - r->last_us > m->stuck_us)
        return STATUS_STUCK;
    return STATUS_IN_FLIGHT;
}

/* ---------------------------------------------------------------------------------------
 * Process summaries
 */

static void row_done(struct model_procrow *r)
{
    free(r->cid);
    free(r->svc);
    free(r->types);
    memset(r, 0, sizeof *r);
}

static void row_init(struct model_procrow *r, const char *cid)
{
    memset(r, 0, sizeof *r);
    r->cid = xstrdup(cid);
    r->first_us = r->last_us = ES_TIME_NONE;
}

static void add_unique(uint32_t **v, uint32_t *n, uint32_t id, uint32_t cap)
{
    uint32_t i;

    if (id == 0)
        return;
    for (i = 0; i < *n; i++)
        if ((*v)[i] == id)
            return;
    if (*n >= cap)
        return;
    if ((*n & (*n - 1)) == 0 || *n == 0)
        *v = xreallocarray(*v, *n ? *n * 2 : 2, sizeof **v);
    (*v)[(*n)++] = id;
}

/* Folds one event (seq, source, type, time) into r. */
static void fold_event(struct model *m, struct model_procrow *r, int64_t seq, const char *src,
                       const char *type, int64_t t)
{
    uint32_t s = intern(&m->in, src), ty = intern(&m->in, type);

    r->n_events++;
    if (seq > r->max_seq)
        r->max_seq = seq;
    if (t != ES_TIME_NONE) {
        if (r->first_us == ES_TIME_NONE || t < r->first_us)
            r->first_us = t;
        if (r->last_us == ES_TIME_NONE || t >= r->last_us) {
            r->last_us = t;
            r->last_type = ty;
        }
    } else if (r->last_us == ES_TIME_NONE) {
        r->last_type = ty;
    }
    add_unique(&r->svc, &r->n_svc, s, 256);
    add_unique(&r->types, &r->n_types, ty, 256);
    if (m->in.cls[ty] & CLS_FAIL)
        r->failed = 1;
}

static void load_findings_counts(struct model *m)
{
    sqlite3_stmt *st;

    map_done(&m->fcount);
    st = prep(m, "SELECT correlation_id, count(*) FROM findings "
                 "WHERE correlation_id IS NOT NULL GROUP BY correlation_id");
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        const char *cid = (const char *)sqlite3_column_text(st, 0);
        if (cid != NULL)
            *map_put(&m->fcount, cid, 0) = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
}

static void finish_row(struct model *m, struct model_procrow *r)
{
    int64_t *fc = map_get(&m->fcount, r->cid);

    r->n_findings = fc ? (int)*fc : 0;
    r->status = model_proc_status(m, r);
}

static int64_t row_duration(const struct model_procrow *r)
{
    return r->first_us == ES_TIME_NONE ? -1 : r->last_us - r->first_us;
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_rows(const void *pa, const void *pb, void *arg)
{
    struct model *m = arg;
    const struct model_procrow *a = &m->procs.rows[*(const size_t *)pa];
    const struct model_procrow *b = &m->procs.rows[*(const size_t *)pb];
    int c = 0;

    switch (m->procs.sort) {
    case SORT_START: c = cmp_i64(a->first_us, b->first_us); break;
    case SORT_DURATION: c = cmp_i64(row_duration(a), row_duration(b)); break;
    case SORT_EVENTS: c = cmp_i64(a->n_events, b->n_events); break;
    case SORT_SERVICES: c = cmp_i64(a->n_svc, b->n_svc); break;
    case SORT_STATUS: c = cmp_i64(a->status, b->status); break;
    case SORT_FINDINGS: c = cmp_i64(a->n_findings, b->n_findings); break;
    default: break;
    }
    if (c == 0)
        c = strcmp(a->cid, b->cid);
    return m->procs.desc ? -c : c;
}

static int any_matches(const struct model *m, const uint32_t *v, uint32_t n, const char *needle)
{
    uint32_t i;

    for (i = 0; i < n; i++)
        if (text_contains(model_str(m, v[i]), needle))
            return 1;
    return 0;
}

static int row_matches(const struct model *m, const struct model_procrow *r)
{
    const struct model_procs *p = &m->procs;

    if (p->f_findings && r->n_findings == 0)
        return 0;
    if (p->f_status >= 0 && r->status != p->f_status)
        return 0;
    if (p->f_service[0] && !any_matches(m, r->svc, r->n_svc, p->f_service))
        return 0;
    if (p->f_type[0] && !any_matches(m, r->types, r->n_types, p->f_type))
        return 0;
    if (p->text[0] && !text_contains(r->cid, p->text) &&
        !any_matches(m, r->svc, r->n_svc, p->text) &&
        !any_matches(m, r->types, r->n_types, p->text) &&
        !text_contains(model_status_name(r->status), p->text))
        return 0;
    return 1;
}

static int filtered(const struct model_procs *p)
{
    return p->text[0] || p->f_status >= 0 || p->f_service[0] || p->f_type[0] || p->f_findings;
}

/*
 * Rebuilds the shown order of the full summary, keeping the selected process selected
 * (keep_cid, or the current selection when NULL).
 */
static void procs_reindex_keep(struct model *m, const char *keep_cid)
{
    struct model_procs *p = &m->procs;
    struct model_procrow *cur = model_proc_at(m, p->list.sel);
    char *keep = keep_cid ? xstrdup(keep_cid) : cur ? xstrdup(cur->cid) : NULL;
    size_t i;

    p->idx = xreallocarray(p->idx, p->n ? p->n : 1, sizeof *p->idx);
    p->nidx = 0;
    for (i = 0; i < p->n; i++)
        if (row_matches(m, &p->rows[i]))
            p->idx[p->nidx++] = i;
    qsort_r(p->idx, p->nidx, sizeof *p->idx, cmp_rows, m);
    p->list.n = p->nidx;
    if (keep != NULL) {
        for (i = 0; i < p->nidx; i++)
            if (strcmp(p->rows[p->idx[i]].cid, keep) == 0) {
                p->list.sel = i;
                break;
            }
        free(keep);
    }
    list_fix(&p->list, m->page);
}

static void procs_reindex(struct model *m)
{
    procs_reindex_keep(m, NULL);
}

static void newest_refresh(struct model *m)
{
    m->newest_us = query_int(m, "SELECT max(time_us) FROM events", ES_TIME_NONE);
    if (m->newest_us == ES_TIME_NONE)
        m->newest_us = query_int(m, "SELECT observed_us FROM events ORDER BY seq DESC LIMIT 1",
                                 ES_TIME_NONE);
}

unsigned model_build_step(struct model *m, int64_t budget)
{
    struct model_procs *p = &m->procs;
    sqlite3_stmt *st;
    int64_t got = 0, *slot;
    size_t i;
    char *keep = NULL;

    if (p->full && budget <= 0)
        return 0;
    st = prep(m, "SELECT seq, correlation_id, source, type, coalesce(time_us, observed_us) "
                 "FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    if (st == NULL)
        return TUI_STATUS;
    sqlite3_bind_int64(st, 1, p->hw_seq);
    sqlite3_bind_int64(st, 2, budget);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *cid = (const char *)sqlite3_column_text(st, 1);
        got++;
        p->hw_seq = sqlite3_column_int64(st, 0);
        if (cid == NULL || *cid == '\0')
            continue;
        slot = map_put(&p->map, cid, -1);
        if (*slot < 0) {
            if (p->n == p->cap) {
                p->cap = p->cap ? p->cap * 2 : 256;
                p->rows = xreallocarray(p->rows, p->cap, sizeof *p->rows);
            }
            row_init(&p->rows[p->n], cid);
            *slot = (int64_t)p->n++;
        }
        fold_event(m, &p->rows[*slot], p->hw_seq, (const char *)sqlite3_column_text(st, 2),
                   (const char *)sqlite3_column_text(st, 3), col_time(st, 4));
    }
    sqlite3_finalize(st);
    if (got >= budget) {
        if (!p->full && p->want_full)
            snprintf(m->msg, sizeof m->msg, "summarising processes: %lld%%",
                     (long long)(p->build_total ? p->hw_seq * 100 / p->build_total : 0));
        return p->want_full ? TUI_STATUS : 0;
    }
    /* Caught up: every process is summarised. */
    if (!p->full) {
        if (p->list.sel < p->nwin)
            keep = xstrdup(p->win[p->list.sel].cid);
        p->full = 1;
        for (i = 0; i < p->nwin; i++)
            row_done(&p->win[i]);
        free(p->win);
        p->win = NULL;
        p->nwin = 0;
        if (p->want_full)
            snprintf(m->msg, sizeof m->msg, "%zu processes", p->n);
        p->want_full = 0;
    }
    for (i = 0; i < p->n; i++)
        finish_row(m, &p->rows[i]);
    procs_reindex_keep(m, keep);
    free(keep);
    return TUI_REDRAW | TUI_STATUS;
}

/* Paged mode: fills r with the summary of one process through the correlation index. */
static void fill_row(struct model *m, struct model_procrow *r)
{
    sqlite3_stmt *st = prep(m, "SELECT seq, source, type, coalesce(time_us, observed_us) "
                               "FROM events WHERE correlation_id = ?1");

    while (st != NULL && (sqlite3_bind_text(st, 1, r->cid, -1, SQLITE_STATIC), 1) &&
           sqlite3_step(st) == SQLITE_ROW)
        fold_event(m, r, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                   (const char *)sqlite3_column_text(st, 2), col_time(st, 3));
    sqlite3_finalize(st);
    finish_row(m, r);
}

enum { PAGE_AFTER, PAGE_FROM, PAGE_BEFORE, PAGE_LAST };

/* Keyset page of up to limit processes next to key, in cid order. Returns how many. */
static size_t fetch_page(struct model *m, int how, const char *key, struct model_procrow **out)
{
    static const char *const sql[] = {
        [PAGE_AFTER] = "SELECT DISTINCT correlation_id FROM events WHERE correlation_id > ?1 "
                       "ORDER BY correlation_id LIMIT ?2",
        [PAGE_FROM] = "SELECT DISTINCT correlation_id FROM events WHERE correlation_id >= ?1 "
                      "ORDER BY correlation_id LIMIT ?2",
        [PAGE_BEFORE] = "SELECT DISTINCT correlation_id FROM events WHERE correlation_id < ?1 "
                        "AND correlation_id > '' ORDER BY correlation_id DESC LIMIT ?2",
        [PAGE_LAST] = "SELECT DISTINCT correlation_id FROM events WHERE correlation_id > ?1 "
                      "ORDER BY correlation_id DESC LIMIT ?2",
    };
    sqlite3_stmt *st = prep(m, sql[how]);
    struct model_procrow *r = xcalloc(PAGE_ROWS, sizeof *r);
    size_t n = 0, i;

    if (st != NULL) {
        sqlite3_bind_text(st, 1, key ? key : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, PAGE_ROWS);
        while (n < PAGE_ROWS && sqlite3_step(st) == SQLITE_ROW)
            row_init(&r[n++], (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    if (how == PAGE_BEFORE || how == PAGE_LAST)
        for (i = 0; i < n / 2; i++) {
            struct model_procrow t = r[i];
            r[i] = r[n - 1 - i];
            r[n - 1 - i] = t;
        }
    for (i = 0; i < n; i++)
        fill_row(m, &r[i]);
    *out = r;
    return n;
}

static void win_free(struct model_procs *p)
{
    size_t i;

    for (i = 0; i < p->nwin; i++)
        row_done(&p->win[i]);
    free(p->win);
    p->win = NULL;
    p->nwin = 0;
}

/* Replaces the window with one page (PAGE_FROM key, or PAGE_LAST). */
static void win_load(struct model *m, int how, const char *key)
{
    struct model_procs *p = &m->procs;
    struct model_procrow *r;
    char *k = key ? xstrdup(key) : NULL;
    size_t n;

    win_free(p);
    n = fetch_page(m, how, k, &r);
    p->win = r;
    p->nwin = n;
    p->at_start = how == PAGE_LAST ? n < PAGE_ROWS : k == NULL;
    p->at_end = how == PAGE_LAST ? 1 : n < PAGE_ROWS;
    free(k);
    p->list.n = n;
}

static void win_extend(struct model *m, int forward)
{
    struct model_procs *p = &m->procs;
    struct model_procrow *r;
    size_t n, i;

    if (p->nwin == 0)
        return;
    if (forward) {
        n = fetch_page(m, PAGE_AFTER, p->win[p->nwin - 1].cid, &r);
        p->win = xreallocarray(p->win, p->nwin + n + 1, sizeof *p->win);
        memcpy(p->win + p->nwin, r, n * sizeof *r);
        p->nwin += n;
        p->at_end = n < PAGE_ROWS;
    } else {
        n = fetch_page(m, PAGE_BEFORE, p->win[0].cid, &r);
        p->win = xreallocarray(p->win, p->nwin + n + 1, sizeof *p->win);
        memmove(p->win + n, p->win, p->nwin * sizeof *p->win);
        memcpy(p->win, r, n * sizeof *r);
        p->nwin += n;
        p->list.sel += n;
        p->list.top += n;
        p->at_start = n < PAGE_ROWS;
    }
    free(r);
    /* Keep the window bounded: drop the side far from the selection. */
    if (p->nwin > WINDOW_MAX) {
        size_t drop = p->nwin - WINDOW_MAX;
        if (p->list.sel >= p->nwin / 2) {
            for (i = 0; i < drop; i++)
                row_done(&p->win[i]);
            memmove(p->win, p->win + drop, (p->nwin - drop) * sizeof *p->win);
            p->list.sel -= drop;
            p->list.top = p->list.top >= drop ? p->list.top - drop : 0;
            p->at_start = 0;
        } else {
            for (i = p->nwin - drop; i < p->nwin; i++)
                row_done(&p->win[i]);
            p->at_end = 0;
        }
        p->nwin -= drop;
    }
    p->list.n = p->nwin;
}

struct model_procrow *model_proc_at(struct model *m, size_t i)
{
    struct model_procs *p = &m->procs;

    if (p->full)
        return i < p->nidx ? &p->rows[p->idx[i]] : NULL;
    return i < p->nwin ? &p->win[i] : NULL;
}

/* Asks for the full summary (sorting or filtering needs every process). */
static unsigned need_full(struct model *m)
{
    struct model_procs *p = &m->procs;

    if (p->full) {
        procs_reindex(m);
        return TUI_REDRAW | TUI_STATUS;
    }
    p->want_full = 1;
    snprintf(m->msg, sizeof m->msg, "summarising processes: %lld%%",
             (long long)(p->build_total ? p->hw_seq * 100 / p->build_total : 0));
    return TUI_STATUS;
}

unsigned model_sort_by(struct model *m, int sort)
{
    struct model_procs *p = &m->procs;

    if (sort < 0 || sort >= SORT_N)
        return 0;
    if (p->sort == sort)
        p->desc = !p->desc;
    else
        p->sort = sort, p->desc = sort != SORT_ID && sort != SORT_START;
    snprintf(m->msg, sizeof m->msg, "sorted by %s, %s", model_sort_name(sort),
             p->desc ? "descending" : "ascending");
    if (!p->full && sort == SORT_ID && !p->desc)
        return TUI_STATUS;
    return need_full(m) | TUI_STATUS;
}

unsigned model_sort_reverse(struct model *m)
{
    m->procs.desc = !m->procs.desc;
    snprintf(m->msg, sizeof m->msg, "sorted by %s, %s", model_sort_name(m->procs.sort),
             m->procs.desc ? "descending" : "ascending");
    return need_full(m) | TUI_STATUS;
}

static void copy_field(char *dst, size_t len, const char *s, size_t n)
{
    if (n >= len)
        n = len - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

unsigned model_filter(struct model *m, const char *spec)
{
    struct model_procs *p = &m->procs;
    const char *s = spec ? spec : "";
    size_t n, tl = 0;
    int i;

    p->text[0] = p->f_service[0] = p->f_type[0] = '\0';
    p->f_status = -1;
    p->f_findings = 0;
    while (*s) {
        while (*s == ' ')
            s++;
        n = strcspn(s, " ");
        if (n == 0)
            break;
        if (strncmp(s, "status=", 7) == 0) {
            for (i = 0; i < STATUS_N; i++)
                if (n - 7 > 0 && strncmp(model_status_name(i), s + 7, n - 7) == 0)
                    p->f_status = i;
            if (n > 7 && strncmp(s + 7, "in_flight", n - 7) == 0)
                p->f_status = STATUS_IN_FLIGHT;
        } else if (strncmp(s, "service=", 8) == 0) {
            copy_field(p->f_service, sizeof p->f_service, s + 8, n - 8);
        } else if (strncmp(s, "type=", 5) == 0) {
            copy_field(p->f_type, sizeof p->f_type, s + 5, n - 5);
        } else if ((n == 8 && strncmp(s, "findings", 8) == 0) ||
                   (n == 12 && strncmp(s, "has:findings", 12) == 0)) {
            p->f_findings = 1;
        } else if (tl + n + 2 < sizeof p->text) {
            if (tl > 0)
                p->text[tl++] = ' ';
            memcpy(p->text + tl, s, n);
            tl += n;
            p->text[tl] = '\0';
        }
        s += n;
    }
    p->list.sel = p->list.top = 0;
    if (!filtered(p)) {
        snprintf(m->msg, sizeof m->msg, "filter cleared");
        if (!p->full)
            return TUI_STATUS | TUI_REDRAW;
    } else {
        snprintf(m->msg, sizeof m->msg, "filter: %s", spec);
    }
    return need_full(m) | TUI_STATUS;
}

unsigned model_filter_text(struct model *m, const char *text)
{
    struct model_procs *p = &m->procs;

    copy_field(p->text, sizeof p->text, text ? text : "", text ? strlen(text) : 0);
    copy_field(m->search, sizeof m->search, p->text, strlen(p->text));
    p->list.sel = p->list.top = 0;
    snprintf(m->msg, sizeof m->msg, p->text[0] ? "filter: %s" : "filter cleared%s", p->text);
    return need_full(m) | TUI_STATUS;
}

unsigned model_toggle_findings_filter(struct model *m)
{
    m->procs.f_findings = !m->procs.f_findings;
    snprintf(m->msg, sizeof m->msg, "%s", m->procs.f_findings ? "only processes with findings"
                                                             : "all processes");
    return need_full(m) | TUI_STATUS;
}

unsigned model_cycle_status_filter(struct model *m)
{
    struct model_procs *p = &m->procs;

    p->f_status = p->f_status + 1 >= STATUS_N ? -1 : p->f_status + 1;
    snprintf(m->msg, sizeof m->msg, "status: %s",
             p->f_status < 0 ? "any" : model_status_name(p->f_status));
    return need_full(m) | TUI_STATUS;
}

/* ---------------------------------------------------------------------------------------
 * One process: timeline and causal tree
 */

static void proc_free(struct model_proc *pr)
{
    size_t i;

    for (i = 0; i < pr->nblocks; i++)
        free(pr->blocks[i]);
    free(pr->blocks);
    for (i = 0; i < pr->nlanes; i++)
        free(pr->lanes[i]);
    for (i = 0; i < pr->nf; i++) {
        free(pr->f[i].kind), free(pr->f[i].severity), free(pr->f[i].cid);
        free(pr->f[i].message);
    }
    free(pr->ev), free(pr->lanes), free(pr->tree), free(pr->kid0), free(pr->kids), free(pr->f);
    free(pr->cid);
    memset(pr, 0, sizeof *pr);
}

static int sev_rank(const char *s)
{
    if (s == NULL)
        return 1;
    if (text_contains(s, "high") || text_contains(s, "crit") || text_contains(s, "err"))
        return 3;
    if (text_contains(s, "med") || text_contains(s, "warn"))
        return 2;
    return 1;
}

static long find_seq(const struct model_proc *pr, int64_t seq)
{
    size_t i;

    for (i = 0; i < pr->n; i++)
        if (pr->ev[i].seq == seq)
            return (long)i;
    return -1;
}

/*
 * Rebuilds the visible tree rows: roots in time order, children under their cause unless
 * it is collapsed. Events reached only through a causation loop hang under a loop root,
 * chosen on the first flatten (first set) and kept after.
 */
static void tree_flatten(struct model_proc *pr, int first)
{
    unsigned char *seen = xcalloc(pr->n ? pr->n : 1, 1);
    size_t *stack = xmalloc((pr->n + 1) * sizeof *stack), sp, i, k, node;
    int pass;

    pr->tr.n = 0;
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < pr->n; i++) {
            /* Roots first; then whatever only a causation loop reaches. */
            if (seen[i] || (pass == 0 && pr->ev[i].parent >= 0) ||
                (pass == 1 && !first && !pr->ev[i].loop_root))
                continue;
            if (pass == 1)
                pr->ev[i].loop_root = 1;
            pr->ev[i].depth = 0;
            stack[0] = i;
            sp = 1;
            seen[i] = 1;
            while (sp > 0) {
                node = stack[--sp];
                pr->tree[pr->tr.n++] = node;
                if (pr->ev[node].collapsed)
                    continue;
                for (k = pr->kid0[node + 1]; k > pr->kid0[node]; k--) {
                    size_t c = pr->kids[k - 1];
                    if (seen[c])
                        continue;
                    seen[c] = 1;
                    pr->ev[c].depth = pr->ev[node].depth + 1;
                    stack[sp++] = c;
                }
            }
        }
    free(stack);
    free(seen);
}

/* Children lists, concurrency marks, then the first flatten. */
static void tree_build(struct model_proc *pr)
{
    size_t i, *fill;
    long p;
    int *lane1 = xmalloc((pr->n + 1) * sizeof *lane1);
    unsigned char *multi = xcalloc(pr->n + 1, 1);

    pr->kid0 = xcalloc(pr->n + 2, sizeof *pr->kid0);
    pr->kids = xmalloc((pr->n + 1) * sizeof *pr->kids);
    pr->tree = xmalloc((pr->n + 1) * sizeof *pr->tree);
    for (i = 0; i < pr->n; i++)
        if (pr->ev[i].parent >= 0)
            pr->kid0[pr->ev[i].parent + 1]++;
    for (i = 0; i < pr->n; i++)
        pr->kid0[i + 1] += pr->kid0[i];
    fill = xmalloc((pr->n + 1) * sizeof *fill);
    memcpy(fill, pr->kid0, (pr->n + 1) * sizeof *fill);
    for (i = 0; i < pr->n; i++)
        lane1[i] = -1;
    for (i = 0; i < pr->n; i++) {
        p = pr->ev[i].parent;
        if (p < 0)
            continue;
        pr->kids[fill[p]++] = i;
        pr->ev[p].nchild++;
        if (lane1[p] < 0)
            lane1[p] = pr->ev[i].lane;
        else if (lane1[p] != pr->ev[i].lane)
            multi[p] = 1;
    }
    for (i = 0; i < pr->n; i++)
        pr->ev[i].concurrent = pr->ev[i].parent >= 0 && multi[pr->ev[i].parent];
    free(fill);
    free(lane1);
    free(multi);
    tree_flatten(pr, 1);
}

/* Copy of column i in the process's string blocks; NULL for SQL NULL. */
static char *proc_col(struct model_proc *pr, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    size_t len;
    char *p;

    if (t == NULL)
        return NULL;
    len = (size_t)sqlite3_column_bytes(st, i);
    if (pr->used + len + 1 > pr->cap) {
        pr->cap = len + 1 > 65536 ? len + 1 : 65536;
        pr->blocks = xreallocarray(pr->blocks, pr->nblocks + 1, sizeof *pr->blocks);
        pr->blocks[pr->nblocks++] = xmalloc(pr->cap);
        pr->used = 0;
    }
    p = pr->blocks[pr->nblocks - 1] + pr->used;
    memcpy(p, t, len);
    p[len] = '\0';
    pr->used += len + 1;
    return p;
}

static int load_process(struct model *m, const char *cid)
{
    struct model_proc *pr = &m->proc;
    struct model_cidmap ids = {.borrowed = 1}, lanes = {.borrowed = 1};
    sqlite3_stmt *st;
    size_t cap = 0, i;
    int64_t *slot;

    proc_free(pr);
    pr->cid = xstrdup(cid);
    pr->first_us = pr->last_us = ES_TIME_NONE;
    st = prep(m, "SELECT seq, event_id, type, source, causation_id, direction, location, "
                 "coalesce(time_us, observed_us) FROM events WHERE correlation_id = ?1 "
                 "ORDER BY coalesce(time_us, observed_us), seq");
    if (st == NULL)
        return ES_ESTORE;
    sqlite3_bind_text(st, 1, cid, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct model_ev *e;
        const char *src;
        if (pr->n == cap) {
            cap = cap ? cap * 2 : 64;
            pr->ev = xreallocarray(pr->ev, cap, sizeof *pr->ev);
        }
        e = &pr->ev[pr->n];
        memset(e, 0, sizeof *e);
        e->seq = sqlite3_column_int64(st, 0);
        e->event_id = proc_col(pr, st, 1);
        e->type = proc_col(pr, st, 2);
        e->source = proc_col(pr, st, 3);
        e->causation_id = proc_col(pr, st, 4);
        e->direction = proc_col(pr, st, 5);
        e->location = proc_col(pr, st, 6);
        e->time_us = col_time(st, 7);
        e->parent = -1;
        if (e->seq > pr->max_seq)
            pr->max_seq = e->seq;
        if (e->time_us != ES_TIME_NONE) {
            if (pr->first_us == ES_TIME_NONE || e->time_us < pr->first_us)
                pr->first_us = e->time_us;
            if (pr->last_us == ES_TIME_NONE || e->time_us > pr->last_us)
                pr->last_us = e->time_us;
        }
        src = e->source ? e->source : "(no source)";
        slot = map_put(&lanes, src, -1);
        if (*slot < 0) {
            *slot = (int64_t)pr->nlanes;
            pr->lanes = xreallocarray(pr->lanes, pr->nlanes + 1, sizeof *pr->lanes);
            pr->lanes[pr->nlanes++] = xstrdup(src);
        }
        e->lane = (int)*slot;
        if (e->event_id != NULL)
            map_put(&ids, e->event_id, (int64_t)pr->n); /* first sighting wins */
        pr->n++;
    }
    sqlite3_finalize(st);
    /* Causal edges: the event whose event_id is this one's causation_id. */
    for (i = 0; i < pr->n; i++) {
        struct model_ev *e = &pr->ev[i];
        if (e->causation_id != NULL && (slot = map_get(&ids, e->causation_id)) != NULL &&
            *slot != (int64_t)i)
            e->parent = (long)*slot;
    }
    map_done(&ids);
    map_done(&lanes);
    /* Findings of the process, attached to their events. */
    st = prep(m, "SELECT id, kind, severity, correlation_id, event_seq, related_seq, message "
                 "FROM findings WHERE correlation_id = ?1 ORDER BY id");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, cid, -1, SQLITE_STATIC);
        cap = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            struct model_finding *f;
            long k;
            if (pr->nf == cap) {
                cap = cap ? cap * 2 : 16;
                pr->f = xreallocarray(pr->f, cap, sizeof *pr->f);
            }
            f = &pr->f[pr->nf++];
            memset(f, 0, sizeof *f);
            f->id = sqlite3_column_int64(st, 0);
            f->kind = col_dup(st, 1);
            f->severity = col_dup(st, 2);
            f->cid = col_dup(st, 3);
            f->event_seq = sqlite3_column_int64(st, 4);
            f->related_seq = sqlite3_column_int64(st, 5);
            f->message = col_dup(st, 6);
            if ((k = find_seq(pr, f->event_seq)) >= 0) {
                pr->ev[k].n_findings++;
                if (sev_rank(f->severity) > pr->ev[k].sev)
                    pr->ev[k].sev = sev_rank(f->severity);
            }
        }
        sqlite3_finalize(st);
    }
    tree_build(pr);
    pr->tl.n = pr->n;
    return ES_OK;
}

unsigned model_open_process(struct model *m, const char *cid, int64_t seq)
{
    long k;

    if (cid == NULL || *cid == '\0') {
        snprintf(m->msg, sizeof m->msg, "this event belongs to no process (no correlation ID)");
        return TUI_STATUS;
    }
    if (m->proc.cid == NULL || strcmp(m->proc.cid, cid) != 0 || seq == 0) {
        char *c = xstrdup(cid);
        if (load_process(m, c) != ES_OK) {
            free(c);
            return TUI_STATUS;
        }
        free(c);
    }
    if (m->proc.n == 0) {
        snprintf(m->msg, sizeof m->msg, "no event carries correlation ID %s", cid);
        return TUI_STATUS;
    }
    m->proc.tl.sel = m->proc.tl.top = 0;
    if (seq != 0 && (k = find_seq(&m->proc, seq)) >= 0)
        m->proc.tl.sel = (size_t)k;
    list_fix(&m->proc.tl, m->page);
    push_view(m, MODEL_TIMELINE);
    snprintf(m->msg, sizeof m->msg, "%zu events, %zu services", m->proc.n, m->proc.nlanes);
    return TUI_REDRAW | TUI_STATUS;
}

/* Selected event of the timeline or the tree, -1 when none. */
static long proc_selected(struct model *m)
{
    if (m->proc.n == 0)
        return -1;
    if (m->view == MODEL_TREE)
        return m->proc.tr.n ? (long)m->proc.tree[m->proc.tr.sel] : -1;
    return (long)m->proc.tl.sel;
}

static void tree_select(struct model_proc *pr, size_t ev)
{
    size_t i;

    for (i = 0; i < pr->tr.n; i++)
        if (pr->tree[i] == ev) {
            pr->tr.sel = i;
            return;
        }
}

unsigned model_open_tree(struct model *m)
{
    long sel = proc_selected(m);

    if (m->proc.cid == NULL)
        return 0;
    if (m->view == MODEL_TREE) { /* 't' again: back to the timeline at the same event */
        if (sel >= 0)
            m->proc.tl.sel = (size_t)sel;
        list_fix(&m->proc.tl, m->page);
        push_view(m, MODEL_TIMELINE);
        return TUI_REDRAW | TUI_STATUS;
    }
    if (sel >= 0)
        tree_select(&m->proc, (size_t)sel);
    list_fix(&m->proc.tr, m->page);
    push_view(m, MODEL_TREE);
    return TUI_REDRAW | TUI_STATUS;
}

unsigned model_tree_set(struct model *m, int collapsed)
{
    struct model_proc *pr = &m->proc;
    size_t node;

    if (m->view != MODEL_TREE || pr->tr.n == 0)
        return 0;
    node = pr->tree[pr->tr.sel];
    if (pr->ev[node].nchild == 0) {
        if (collapsed && pr->ev[node].parent >= 0) { /* 'h' on a leaf goes to its cause */
            tree_select(pr, (size_t)pr->ev[node].parent);
            list_fix(&pr->tr, m->page);
            return TUI_REDRAW;
        }
        return 0;
    }
    if (collapsed < 0)
        collapsed = !pr->ev[node].collapsed;
    pr->ev[node].collapsed = collapsed;
    tree_flatten(pr, 0);
    tree_select(pr, node);
    list_fix(&pr->tr, m->page);
    return TUI_REDRAW;
}

unsigned model_tree_toggle(struct model *m)
{
    return model_tree_set(m, -1);
}

unsigned model_hscroll(struct model *m, long delta)
{
    size_t *h, n;

    if (m->view == MODEL_TIMELINE)
        h = &m->proc.hscroll, n = m->proc.nlanes;
    else if (m->view == MODEL_QUERY)
        h = &m->q.hscroll, n = m->q.ncols;
    else
        return 0;
    if (delta < 0 && (size_t)-delta > *h)
        *h = 0;
    else if (delta < 0)
        *h -= (size_t)-delta;
    else
        *h += (size_t)delta;
    if (n == 0)
        *h = 0;
    else if (*h >= n)
        *h = n - 1;
    return TUI_REDRAW;
}

/* ---------------------------------------------------------------------------------------
 * Event detail
 */

static void detail_free(struct model_detail *d)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        free(d->l[i].text);
    free(d->l);
    free(d->vis);
    memset(d, 0, sizeof *d);
}

static struct model_line *add_line(struct model_detail *d, int section, int64_t seq,
                                   const char *text)
{
    struct model_line *l;

    if ((d->n & (d->n - 1)) == 0)
        d->l = xreallocarray(d->l, d->n ? d->n * 2 : 1, sizeof *d->l);
    l = &d->l[d->n++];
    memset(l, 0, sizeof *l);
    l->text = xstrdup(text);
    l->section = section;
    l->seq = seq;
    l->fold_end = -1;
    return l;
}

static void add_attr(struct model_detail *d, const char *name, const char *value)
{
    char *t = xasprintf("  %-14s %s", name, value ? value : "-");
    add_line(d, 0, 0, t);
    free(t);
}

static void detail_vis(struct model_detail *d)
{
    size_t i;

    d->vis = xreallocarray(d->vis, d->n ? d->n : 1, sizeof *d->vis);
    d->list.n = 0;
    for (i = 0; i < d->n; i++) {
        d->vis[d->list.n++] = i;
        if (d->l[i].folded && d->l[i].fold_end > (long)i)
            i = (size_t)d->l[i].fold_end;
    }
}

/* Pretty-prints a payload (JSON text, else raw lines) with fold ranges. */
static void add_payload(struct model_detail *d, const char *data)
{
    json_t *j;
    json_error_t jerr;
    char *txt = NULL, *p, *nl, *buf;
    size_t len = strlen(data), first = d->n, i, sp = 0;
    size_t *stack;

    if (len > PAYLOAD_MAX) {
        add_line(d, 0, 0, "  (payload larger than 1 MiB: not shown)");
        return;
    }
    j = json_loadb(data, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (j != NULL) {
        txt = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        json_decref(j);
    }
    buf = p = txt ? txt : xstrdup(data);
    for (; p != NULL && *p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        {
            char *t = xasprintf("  %s", p);
            add_line(d, 0, 0, t);
            free(t);
        }
        if (!nl)
            break;
    }
    free(buf);
    /* Fold ranges: a line ending in { or [ opens a block closed by a line starting } or ]. */
    stack = xmalloc((d->n - first + 1) * sizeof *stack);
    for (i = first; i < d->n; i++) {
        const char *t = d->l[i].text, *s = t + strspn(t, " ");
        size_t tl = strlen(t);
        d->l[i].depth = (int)((size_t)(s - t) / 2);
        if ((*s == '}' || *s == ']') && sp > 0)
            d->l[stack[--sp]].fold_end = (long)i;
        if (tl > 0 && (t[tl - 1] == '{' || t[tl - 1] == '['))
            stack[sp++] = i;
    }
    free(stack);
}

unsigned model_open_event(struct model *m, int64_t seq)
{
    struct model_detail *d = &m->det;
    sqlite3_stmt *st;
    char buf[512], t1[64], t2[64], *t;
    static const char *const names[] = {
        "id", "type", "source", "subject", "partition key", "sequence", NULL, "time (raw)",
        NULL, "correlation", "causation", "transport", "channel", "direction"};
    int i;
    char *event_id = NULL, *source = NULL, *vclock = NULL, *data = NULL, *attrs = NULL;

    st = prep(m, "SELECT e.seq, e.event_id, e.type, e.source, e.subject, e.partition_key, "
                 "e.sequence, e.time_us, e.time_raw, e.observed_us, e.correlation_id, "
                 "e.causation_id, e.transport, e.channel, e.direction, e.vclock, e.data, "
                 "e.attrs, e.location, o.kind, o.uri "
                 "FROM events e LEFT JOIN origins o ON o.id = e.origin_id WHERE e.seq = ?1");
    if (st == NULL)
        return TUI_STATUS;
    sqlite3_bind_int64(st, 1, seq);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        snprintf(m->msg, sizeof m->msg, "no event #%lld", (long long)seq);
        return TUI_STATUS;
    }
    detail_free(d);
    d->seq = seq;
    snprintf(buf, sizeof buf, "Event #%lld  %s from %s", (long long)seq,
             sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "(no type)",
             sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "(no source)");
    add_line(d, 1, 0, buf);
    for (i = 1; i <= 14; i++) {
        const char *v = (const char *)sqlite3_column_text(st, i);
        if (i == 7) {
            text_datetime(col_time(st, 7), t1, sizeof t1);
            text_clock(col_time(st, 7), t2, sizeof t2);
            snprintf(buf, sizeof buf, "%s (%s)", t1, t2);
            add_attr(d, "time", col_time(st, 7) == ES_TIME_NONE ? "-" : buf);
        } else if (i == 9) {
            text_datetime(col_time(st, 9), t1, sizeof t1);
            text_clock(col_time(st, 9), t2, sizeof t2);
            snprintf(buf, sizeof buf, "%s (%s)", t1, t2);
            add_attr(d, "observed", col_time(st, 9) == ES_TIME_NONE ? "-" : buf);
        } else {
            add_attr(d, names[i - 1], v);
        }
    }
    event_id = col_dup(st, 1);
    source = col_dup(st, 3);
    vclock = col_dup(st, 15);
    data = col_dup(st, 16);
    attrs = col_dup(st, 17);
    add_line(d, 1, 0, "Where");
    add_attr(d, "location", (const char *)sqlite3_column_text(st, 18));
    t = xasprintf("%s %s", sqlite3_column_text(st, 19) ? (const char *)sqlite3_column_text(st, 19) : "-",
                  sqlite3_column_text(st, 20) ? (const char *)sqlite3_column_text(st, 20) : "-");
    add_attr(d, "origin", t);
    free(t);
    sqlite3_finalize(st);

    add_line(d, 1, 0, "Vector clock");
    if (vclock != NULL) {
        json_t *j = json_loads(vclock, 0, NULL);
        const char *k;
        json_t *v;
        if (json_is_object(j)) {
            json_object_foreach(j, k, v)
            {
                snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
                add_attr(d, k, buf);
            }
        } else {
            add_attr(d, "clock", vclock);
        }
        json_decref(j);
    } else {
        add_line(d, 0, 0, "  (none carried)");
    }

    /* Findings naming this event, as offender or as context. */
    st = prep(m, "SELECT kind, severity, message, event_seq, related_seq FROM findings "
                 "WHERE event_seq = ?1 OR related_seq = ?1 ORDER BY id");
    if (st != NULL) {
        size_t hdr = d->n, nf = 0;
        add_line(d, 1, 0, "Findings");
        sqlite3_bind_int64(st, 1, seq);
        while (sqlite3_step(st) == SQLITE_ROW) {
            int64_t es = sqlite3_column_int64(st, 3), rs = sqlite3_column_int64(st, 4);
            int64_t other = es == seq ? rs : es;
            snprintf(buf, sizeof buf, "  [%s] %s: %s%s",
                     sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "-",
                     sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "-",
                     sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "",
                     other ? " (Enter: related event)" : "");
            add_line(d, 0, other, buf);
            nf++;
        }
        sqlite3_finalize(st);
        snprintf(buf, sizeof buf, "Findings (%zu)", nf);
        free(d->l[hdr].text);
        d->l[hdr].text = xstrdup(buf);
    }

    /* Sightings: every observation of the same source + id. */
    add_line(d, 1, 0, "Sightings");
    if (event_id != NULL) {
        st = prep(m, "SELECT seq, direction, transport, channel, location, observed_us FROM events "
                     "WHERE event_id = ?1 AND source IS ?2 ORDER BY seq LIMIT 1000");
        if (st != NULL) {
            sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
            if (source)
                sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW) {
                int64_t s = sqlite3_column_int64(st, 0);
                text_clock(col_time(st, 5), t1, sizeof t1);
                snprintf(buf, sizeof buf, "  %s #%-6lld %-8s %-6s %-16s %-22s %s",
                         s == seq ? "*" : " ", (long long)s,
                         sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "-",
                         sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "-",
                         sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "-",
                         sqlite3_column_text(st, 4) ? (const char *)sqlite3_column_text(st, 4) : "-",
                         t1);
                add_line(d, 0, s == seq ? 0 : s, buf);
            }
            sqlite3_finalize(st);
        }
    } else {
        add_line(d, 0, 0, "  (no event id: sightings cannot be matched)");
    }

    add_line(d, 1, 0, "Other attributes");
    if (attrs != NULL) {
        json_t *j = json_loads(attrs, JSON_DECODE_ANY, NULL);
        const char *k;
        json_t *v;
        if (json_is_object(j) && json_object_size(j) > 0) {
            json_object_foreach(j, k, v)
            {
                char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                add_attr(d, k, s);
                free(s);
            }
        } else {
            add_line(d, 0, 0, "  (none)");
        }
        json_decref(j);
    } else {
        add_line(d, 0, 0, "  (none)");
    }

    add_line(d, 1, 0, "Payload");
    if (data != NULL)
        add_payload(d, data);
    else
        add_line(d, 0, 0, "  (none)");
    free(event_id), free(source), free(vclock), free(data), free(attrs);
    detail_vis(d);
    d->list.sel = d->list.top = 0;
    push_view(m, MODEL_EVENT);
    m->msg[0] = '\0';
    return TUI_REDRAW | TUI_STATUS;
}

unsigned model_detail_toggle(struct model *m)
{
    struct model_detail *d = &m->det;
    struct model_line *l;
    size_t idx;

    if (d->list.n == 0)
        return 0;
    idx = d->vis[d->list.sel];
    l = &d->l[idx];
    if (l->seq != 0)
        return model_open_event(m, l->seq);
    if (l->fold_end > (long)idx) {
        l->folded = !l->folded;
        detail_vis(d);
        list_fix(&d->list, m->page);
        return TUI_REDRAW;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Findings
 */

static void findings_free(struct model_findings *fd)
{
    size_t i;

    for (i = 0; i < fd->n; i++) {
        free(fd->r[i].kind), free(fd->r[i].severity), free(fd->r[i].cid);
        free(fd->r[i].message);
    }
    free(fd->r);
    free(fd->vis);
    memset(fd, 0, sizeof *fd);
}

static void findings_vis(struct model_findings *fd)
{
    size_t i;

    fd->vis = xreallocarray(fd->vis, fd->n ? fd->n : 1, sizeof *fd->vis);
    fd->list.n = 0;
    for (i = 0; i < fd->n; i++) {
        fd->vis[fd->list.n++] = i;
        if (fd->r[i].header && fd->r[i].collapsed)
            while (i + 1 < fd->n && !fd->r[i + 1].header)
                i++;
    }
}

struct model_finding *model_finding_at(struct model *m, size_t i)
{
    return i < m->fnd.list.n ? &m->fnd.r[m->fnd.vis[i]] : NULL;
}

unsigned model_findings_toggle(struct model *m)
{
    struct model_findings *fd = &m->fnd;
    size_t i;

    if (fd->list.n == 0)
        return 0;
    i = fd->vis[fd->list.sel];
    while (!fd->r[i].header && i > 0) /* on an item: fold its group */
        i--;
    fd->r[i].collapsed = !fd->r[i].collapsed;
    findings_vis(fd);
    for (fd->list.sel = 0; fd->list.sel + 1 < fd->list.n && fd->vis[fd->list.sel] != i;)
        fd->list.sel++;
    list_fix(&fd->list, m->page);
    return TUI_REDRAW;
}

static void load_findings(struct model *m)
{
    struct model_findings *fd = &m->fnd;
    struct model_cidmap counts = {0};
    sqlite3_stmt *st;
    size_t cap = 0, keep = fd->list.sel;
    char *last = NULL;

    findings_free(fd);
    st = prep(m, "SELECT kind, count(*) FROM findings GROUP BY kind");
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        *map_put(&counts, k ? k : "(none)", 0) = sqlite3_column_int64(st, 1);
        fd->total += sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    st = prep(m, "SELECT id, coalesce(kind, '(none)'), severity, correlation_id, event_seq, "
                 "related_seq, message FROM findings ORDER BY kind, id LIMIT ?1");
    if (st != NULL) {
        sqlite3_bind_int(st, 1, MODEL_FINDINGS_MAX);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *kind = (const char *)sqlite3_column_text(st, 1);
            struct model_finding *f;
            if (fd->n + 2 > cap) {
                cap = cap ? cap * 2 : 64;
                fd->r = xreallocarray(fd->r, cap, sizeof *fd->r);
            }
            if (last == NULL || strcmp(last, kind) != 0) {
                int64_t *c = map_get(&counts, kind);
                f = &fd->r[fd->n++];
                memset(f, 0, sizeof *f);
                f->header = 1;
                f->kind = xstrdup(kind);
                f->count = c ? (int)*c : 0;
                last = f->kind;
            }
            f = &fd->r[fd->n++];
            memset(f, 0, sizeof *f);
            f->id = sqlite3_column_int64(st, 0);
            f->kind = xstrdup(kind);
            f->severity = col_dup(st, 2);
            f->cid = col_dup(st, 3);
            f->event_seq = sqlite3_column_int64(st, 4);
            f->related_seq = sqlite3_column_int64(st, 5);
            f->message = col_dup(st, 6);
        }
        sqlite3_finalize(st);
    }
    map_done(&counts);
    findings_vis(fd);
    fd->list.sel = keep;
    list_fix(&fd->list, m->page);
}

unsigned model_open_findings(struct model *m)
{
    if (m->fnd.r == NULL)
        load_findings(m);
    push_view(m, MODEL_FINDINGS);
    snprintf(m->msg, sizeof m->msg, "%lld findings", (long long)m->fnd.total);
    return TUI_REDRAW | TUI_STATUS;
}

unsigned model_finding_jump(struct model *m)
{
    struct model_finding *f;
    char *cid = NULL;
    unsigned rc;

    if ((f = model_finding_at(m, m->fnd.list.sel)) == NULL)
        return 0;
    if (f->header) {
        if (m->fnd.list.sel + 1 < m->fnd.list.n)
            m->fnd.list.sel++;
        list_fix(&m->fnd.list, m->page);
        return TUI_REDRAW;
    }
    if (f->cid != NULL) {
        cid = xstrdup(f->cid);
    } else if (f->event_seq != 0) {
        sqlite3_stmt *st = prep(m, "SELECT correlation_id FROM events WHERE seq = ?1");
        if (st != NULL) {
            sqlite3_bind_int64(st, 1, f->event_seq);
            if (sqlite3_step(st) == SQLITE_ROW)
                cid = col_dup(st, 0);
            sqlite3_finalize(st);
        }
    }
    if (cid == NULL) {
        if (f->event_seq != 0)
            return model_open_event(m, f->event_seq);
        snprintf(m->msg, sizeof m->msg, "this finding names no process and no event");
        return TUI_STATUS;
    }
    rc = model_open_process(m, cid, f->event_seq);
    free(cid);
    return rc;
}

/* ---------------------------------------------------------------------------------------
 * Query prompt
 */

static void query_free(struct model_query *q)
{
    size_t i;

    for (i = 0; i < q->ncols; i++)
        free(q->cols[i]);
    for (i = 0; i < q->nrows * q->ncols; i++)
        free(q->cells[i]);
    free(q->cols);
    free(q->cells);
    free(q->label);
    memset(q, 0, sizeof *q);
}

unsigned model_run_query(struct model *m, const char *text)
{
    struct model_query *q = &m->q;
    const char *sql = text, *args = NULL, *tail = NULL;
    sqlite3_stmt *st = NULL;
    char name[128], *argv_copy = NULL;
    size_t n, i, cap = 0;
    int rc, np, k;

    while (*text == ' ')
        text++;
    if (*text == '\0')
        return TUI_STATUS;
    n = strcspn(text, " ");
    if (n < sizeof name) {
        memcpy(name, text, n);
        name[n] = '\0';
        for (i = 0; query_files[i].name != NULL; i++)
            if (strcmp(query_files[i].name, name) == 0) {
                sql = query_files[i].sql;
                args = text + n;
                break;
            }
    }
    rc = sqlite3_prepare_v2(m->db, sql, -1, &st, &tail);
    if (rc != SQLITE_OK || st == NULL) {
        snprintf(m->msg, sizeof m->msg, "query: %s",
                 rc != SQLITE_OK ? sqlite3_errmsg(m->db) : "no statement");
        sqlite3_finalize(st);
        return TUI_STATUS;
    }
    if (!sqlite3_stmt_readonly(st)) {
        snprintf(m->msg, sizeof m->msg, "query: only read-only statements run here");
        sqlite3_finalize(st);
        return TUI_STATUS;
    }
    np = sqlite3_bind_parameter_count(st);
    if (args != NULL) {
        char *save = NULL, *tok;
        argv_copy = xstrdup(args);
        for (k = 1, tok = strtok_r(argv_copy, " ", &save); tok != NULL && k <= np;
             tok = strtok_r(NULL, " ", &save), k++)
            sqlite3_bind_text(st, k, tok, -1, SQLITE_TRANSIENT);
    }
    query_free(q);
    q->label = xstrdup(text);
    q->ncols = (size_t)sqlite3_column_count(st);
    q->cols = xcalloc(q->ncols ? q->ncols : 1, sizeof *q->cols);
    for (i = 0; i < q->ncols; i++)
        q->cols[i] = xstrdup(sqlite3_column_name(st, (int)i));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (q->nrows == MODEL_QUERY_MAX) {
            q->truncated = 1;
            break;
        }
        if (q->nrows == cap) {
            cap = cap ? cap * 2 : 64;
            q->cells = xreallocarray(q->cells, cap * (q->ncols ? q->ncols : 1), sizeof *q->cells);
        }
        for (i = 0; i < q->ncols; i++) {
            char **c = &q->cells[q->nrows * q->ncols + i];
            if (sqlite3_column_type(st, (int)i) == SQLITE_BLOB)
                *c = xasprintf("<blob %d bytes>", sqlite3_column_bytes(st, (int)i));
            else
                *c = col_dup(st, (int)i);
        }
        q->nrows++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        snprintf(m->msg, sizeof m->msg, "query stopped: %s", sqlite3_errmsg(m->db));
    else
        snprintf(m->msg, sizeof m->msg, "%zu row%s%s", q->nrows, q->nrows == 1 ? "" : "s",
                 q->truncated ? " (first 10000 only)" : "");
    sqlite3_finalize(st);
    free(argv_copy);
    q->list.n = q->nrows;
    push_view(m, MODEL_QUERY);
    return TUI_REDRAW | TUI_STATUS;
}

/* ---------------------------------------------------------------------------------------
 * Navigation, search, prompt
 */

struct model_list *model_cur_list(struct model *m)
{
    switch (m->view) {
    case MODEL_PROCS: return &m->procs.list;
    case MODEL_TIMELINE: return &m->proc.tl;
    case MODEL_TREE: return &m->proc.tr;
    case MODEL_EVENT: return &m->det.list;
    case MODEL_FINDINGS: return &m->fnd.list;
    case MODEL_QUERY: return &m->q.list;
    default: return NULL;
    }
}

unsigned model_move(struct model *m, long delta)
{
    struct model_list *l = model_cur_list(m);
    struct model_procs *p = &m->procs;
    long target;

    if (m->view == MODEL_HELP) {
        m->help_top = m->help_top + (int)delta < 0 ? 0 : m->help_top + (int)delta;
        return TUI_REDRAW;
    }
    if (l == NULL)
        return 0;
    target = (long)l->sel + delta;
    if (m->view == MODEL_PROCS && !p->full) {
        while (target >= (long)p->nwin && !p->at_end && p->nwin > 0) {
            win_extend(m, 1);
            target = (long)l->sel + delta;
        }
        while (target < 0 && !p->at_start && p->nwin > 0) {
            size_t before = l->sel;
            win_extend(m, 0);
            target += (long)(l->sel - before);
        }
    }
    if (target < 0)
        target = 0;
    l->sel = l->n == 0 ? 0 : (size_t)target >= l->n ? l->n - 1 : (size_t)target;
    list_fix(l, m->page);
    return TUI_REDRAW;
}

unsigned model_select(struct model *m, size_t i)
{
    struct model_list *l = model_cur_list(m);

    if (l == NULL || i >= l->n)
        return 0;
    l->sel = i;
    list_fix(l, m->page);
    return TUI_REDRAW;
}

unsigned model_home(struct model *m)
{
    struct model_list *l = model_cur_list(m);

    if (m->view == MODEL_HELP) {
        m->help_top = 0;
        return TUI_REDRAW;
    }
    if (l == NULL)
        return 0;
    if (m->view == MODEL_PROCS && !m->procs.full && !m->procs.at_start)
        win_load(m, PAGE_FROM, NULL);
    l->sel = l->top = 0;
    return TUI_REDRAW;
}

unsigned model_end(struct model *m)
{
    struct model_list *l = model_cur_list(m);

    if (l == NULL)
        return 0;
    if (m->view == MODEL_PROCS && !m->procs.full && !m->procs.at_end)
        win_load(m, PAGE_LAST, NULL);
    l->sel = l->n ? l->n - 1 : 0;
    list_fix(l, m->page);
    return TUI_REDRAW;
}

const char *model_row_text(struct model *m, size_t i, char *buf, size_t len)
{
    struct model_procrow *r;
    struct model_ev *e;
    struct model_finding *f;
    size_t o = 0, k;

    buf[0] = '\0';
    switch (m->view) {
    case MODEL_PROCS:
        if ((r = model_proc_at(m, i)) == NULL)
            break;
        o = (size_t)snprintf(buf, len, "%s %s", r->cid, model_status_name(r->status));
        for (k = 0; k < r->n_svc && o < len; k++)
            o += (size_t)snprintf(buf + o, len - o, " %s", model_str(m, r->svc[k]));
        for (k = 0; k < r->n_types && o < len; k++)
            o += (size_t)snprintf(buf + o, len - o, " %s", model_str(m, r->types[k]));
        break;
    case MODEL_TIMELINE:
    case MODEL_TREE:
        if (m->view == MODEL_TREE)
            i = i < m->proc.tr.n ? m->proc.tree[i] : m->proc.n;
        if (i >= m->proc.n)
            break;
        e = &m->proc.ev[i];
        snprintf(buf, len, "%s %s %s #%lld %s", e->type ? e->type : "",
                 e->source ? e->source : "", e->event_id ? e->event_id : "", (long long)e->seq,
                 e->location ? e->location : "");
        break;
    case MODEL_EVENT:
        if (i < m->det.list.n)
            snprintf(buf, len, "%s", m->det.l[m->det.vis[i]].text);
        break;
    case MODEL_FINDINGS:
        if ((f = model_finding_at(m, i)) == NULL)
            break;
        snprintf(buf, len, "%s %s %s %s", f->kind ? f->kind : "", f->severity ? f->severity : "",
                 f->cid ? f->cid : "", f->message ? f->message : "");
        break;
    case MODEL_QUERY:
        for (k = 0; i < m->q.nrows && k < m->q.ncols && o < len; k++) {
            const char *c = m->q.cells[i * m->q.ncols + k];
            o += (size_t)snprintf(buf + o, len - o, "%s ", c ? c : "NULL");
        }
        break;
    default: break;
    }
    return buf;
}

unsigned model_search(struct model *m, const char *needle, int dir)
{
    struct model_list *l = model_cur_list(m);
    char buf[1024];
    size_t i, k;

    if (needle != NULL)
        copy_field(m->search, sizeof m->search, needle, strlen(needle));
    if (l == NULL || l->n == 0 || m->search[0] == '\0')
        return 0;
    /* A new search starts on the current row, n/N on the next one. */
    for (k = needle != NULL ? 0 : 1; k <= l->n; k++) {
        i = dir >= 0 ? (l->sel + k) % l->n : (l->sel + l->n - k) % l->n;
        if (text_contains(model_row_text(m, i, buf, sizeof buf), m->search)) {
            l->sel = i;
            list_fix(l, m->page);
            snprintf(m->msg, sizeof m->msg, "/%s", m->search);
            return TUI_REDRAW | TUI_STATUS;
        }
    }
    snprintf(m->msg, sizeof m->msg, "not found: %s", m->search);
    return TUI_STATUS;
}

unsigned model_prompt_open(struct model *m, int kind)
{
    m->prompt.kind = kind;
    m->prompt.len = 0;
    m->prompt.buf[0] = '\0';
    if (kind == PROMPT_FILTER || (kind == PROMPT_SEARCH && m->view == MODEL_PROCS)) {
        /* Start from the current filter so it can be edited. */
        if (kind == PROMPT_SEARCH)
            copy_field(m->prompt.buf, sizeof m->prompt.buf, m->procs.text, strlen(m->procs.text));
        m->prompt.len = strlen(m->prompt.buf);
    }
    return TUI_STATUS;
}

unsigned model_prompt_submit(struct model *m)
{
    int kind = m->prompt.kind;
    char text[sizeof m->prompt.buf];

    memcpy(text, m->prompt.buf, sizeof text);
    m->prompt.kind = PROMPT_NONE;
    switch (kind) {
    case PROMPT_SEARCH:
        if (m->view == MODEL_PROCS)
            return model_filter_text(m, text) | TUI_REDRAW;
        return model_search(m, text, 1) | TUI_STATUS;
    case PROMPT_FILTER: return model_filter(m, text) | TUI_REDRAW;
    case PROMPT_QUERY: return model_run_query(m, text);
    default: return TUI_STATUS;
    }
}

unsigned model_enter(struct model *m)
{
    struct model_procrow *r;
    long sel;
    size_t k;

    switch (m->view) {
    case MODEL_PROCS:
        if ((r = model_proc_at(m, m->procs.list.sel)) == NULL)
            return 0;
        return model_open_process(m, r->cid, 0);
    case MODEL_TIMELINE:
    case MODEL_TREE:
        if ((sel = proc_selected(m)) < 0)
            return 0;
        return model_open_event(m, m->proc.ev[sel].seq);
    case MODEL_EVENT: return model_detail_toggle(m);
    case MODEL_FINDINGS: return model_finding_jump(m);
    case MODEL_QUERY:
        /* A row naming a process or an event opens it. */
        for (k = 0; m->q.list.n > 0 && k < m->q.ncols; k++) {
            const char *c = m->q.cells[m->q.list.sel * m->q.ncols + k];
            if (c != NULL && strcmp(m->q.cols[k], "correlation_id") == 0)
                return model_open_process(m, c, 0);
        }
        for (k = 0; m->q.list.n > 0 && k < m->q.ncols; k++) {
            const char *c = m->q.cells[m->q.list.sel * m->q.ncols + k];
            if (c != NULL && strcmp(m->q.cols[k], "seq") == 0)
                return model_open_event(m, strtoll(c, NULL, 10));
        }
        return 0;
    case MODEL_HELP: return model_back(m);
    default: return 0;
    }
}

unsigned model_back(struct model *m)
{
    if (m->depth > 0)
        m->view = m->stack[--m->depth];
    else if (m->view != MODEL_PROCS)
        m->view = MODEL_PROCS;
    else
        return 0;
    list_fix(model_cur_list(m) ? model_cur_list(m) : &m->procs.list, m->page);
    return TUI_REDRAW | TUI_STATUS;
}

static int view_ready(const struct model *m, int v)
{
    switch (v) {
    case MODEL_PROCS:
    case MODEL_FINDINGS: return 1;
    case MODEL_TIMELINE:
    case MODEL_TREE: return m->proc.cid != NULL;
    case MODEL_EVENT: return m->det.seq != 0;
    case MODEL_QUERY: return m->q.label != NULL;
    default: return 0;
    }
}

unsigned model_next_view(struct model *m)
{
    int v = m->view, i;

    for (i = 0; i < MODEL_HELP; i++) {
        v = (v + 1) % MODEL_HELP;
        if (view_ready(m, v))
            break;
    }
    if (v == m->view)
        return 0;
    if (v == MODEL_FINDINGS)
        return model_open_findings(m);
    if (v == MODEL_TREE) {
        long sel = (long)m->proc.tl.sel;
        if (sel < (long)m->proc.n)
            tree_select(&m->proc, (size_t)sel);
    }
    push_view(m, v);
    if (model_cur_list(m))
        list_fix(model_cur_list(m), m->page);
    return TUI_REDRAW | TUI_STATUS;
}

unsigned model_show_help(struct model *m)
{
    if (m->view == MODEL_HELP)
        return model_back(m);
    m->help_top = 0;
    push_view(m, MODEL_HELP);
    return TUI_REDRAW | TUI_STATUS;
}

/* ---------------------------------------------------------------------------------------
 * Life cycle and polling
 */

unsigned model_poll(struct model *m)
{
    struct model_procs *p = &m->procs;
    int64_t dv = query_int(m, "PRAGMA data_version", 0), fs;
    unsigned flags = 0;

    if (dv == m->data_version) {
        if (!p->full && p->want_full)
            return model_build_step(m, 50000);
        if (!p->full)
            return model_build_step(m, 50000);
        return 0;
    }
    m->data_version = dv;
    newest_refresh(m);
    if (m->status != NULL && m->newest_us != ES_TIME_NONE)
        analyzer_status_set_now(m->status, m->newest_us);
    fs = query_int(m, "SELECT count(*) * 1000003 + coalesce(max(id), 0) FROM findings", 0);
    if (fs != m->findings_sig) {
        m->findings_sig = fs;
        load_findings_counts(m);
        if (m->fnd.r != NULL)
            load_findings(m);
    }
    if (p->full) {
        while (model_build_step(m, 100000) == 0)
            ;
    } else if (p->nwin > 0) {
        size_t sel = p->list.sel, top = p->list.top;
        int at_start = p->at_start;
        char *k = xstrdup(p->win[0].cid);
        win_load(m, PAGE_FROM, at_start ? NULL : k);
        p->at_start = at_start;
        p->list.sel = sel, p->list.top = top;
        list_fix(&p->list, m->page);
        free(k);
    } else {
        win_load(m, PAGE_FROM, NULL);
    }
    flags |= TUI_REDRAW | TUI_STATUS;
    if (m->proc.cid != NULL) {
        sqlite3_stmt *st = prep(m, "SELECT max(seq) FROM events WHERE correlation_id = ?1");
        int64_t mx = 0;
        if (st != NULL) {
            sqlite3_bind_text(st, 1, m->proc.cid, -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW)
                mx = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
        if (mx != m->proc.max_seq) {
            struct model_list tl = m->proc.tl, tr = m->proc.tr;
            int64_t sel_seq = m->proc.n ? m->proc.ev[m->proc.tl.sel].seq : 0;
            char *cid = xstrdup(m->proc.cid);
            long k;
            if (load_process(m, cid) == ES_OK) {
                m->proc.tl.top = tl.top;
                m->proc.tr.sel = tr.sel < m->proc.tr.n ? tr.sel : 0;
                m->proc.tr.top = tr.top;
                if ((k = find_seq(&m->proc, sel_seq)) >= 0)
                    m->proc.tl.sel = (size_t)k;
                list_fix(&m->proc.tl, m->page);
                list_fix(&m->proc.tr, m->page);
            }
            free(cid);
        }
    }
    return flags;
}

static int64_t full_threshold = MODEL_FULL_AT_OPEN;

void model_set_full_threshold(int64_t n)
{
    full_threshold = n;
}

/* 1 when `analyze` left its learned status rules in meta for exactly this store. */
static int status_cache_fresh(struct model *m, int64_t total)
{
    sqlite3_stmt *st = prep(m, "SELECT value FROM meta WHERE key = 'analyzer_effect_types'");
    json_t *root = NULL;
    int fresh = 0;

    if (st != NULL && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        root = json_loadb((const char *)sqlite3_column_text(st, 0),
                          (size_t)sqlite3_column_bytes(st, 0), JSON_REJECT_DUPLICATES, NULL);
    sqlite3_finalize(st);
    fresh = root && json_integer_value(json_object_get(root, "max_seq")) == total;
    json_decref(root);
    m->msg[0] = '\0'; /* an older store may lack meta rows: not an error */
    return fresh;
}

int model_init(struct model *m, sqlite3 *db, int64_t stuck_us)
{
    int64_t total;
    char err[256];

    memset(m, 0, sizeof *m);
    m->db = db;
    m->page = 20;
    analyzer_config_init(&m->cfg);
    if (stuck_us > 0)
        m->cfg.stuck_after_us = stuck_us;
    m->stuck_us = m->cfg.stuck_after_us;
    m->procs.f_status = -1;
    intern_init(&m->in);
    m->data_version = query_int(m, "PRAGMA data_version", 0);
    if (m->msg[0] != '\0')
        return ES_ESTORE;
    newest_refresh(m);
    m->findings_sig = query_int(m, "SELECT count(*) * 1000003 + coalesce(max(id), 0) FROM findings", 0);
    load_findings_counts(m);
    total = query_int(m, "SELECT max(seq) FROM events", 0);
    m->procs.build_total = total;
    if (m->msg[0] != '\0')
        return ES_ESTORE;
    /* The analyzer's status rules learn from the whole store: cheap only when small or cached. */
    if ((total < full_threshold || status_cache_fresh(m, total)) &&
        analyzer_status_open(db, &m->cfg, &m->status, err, sizeof err) != ES_OK)
        m->status = NULL;
    if (m->status != NULL && m->newest_us != ES_TIME_NONE)
        analyzer_status_set_now(m->status, m->newest_us);
    if (total < full_threshold) {
        while (model_build_step(m, 100000) == 0)
            ;
        m->procs.full = 1;
        if (m->procs.nidx == 0 && m->procs.n == 0)
            procs_reindex(m);
    } else {
        win_load(m, PAGE_FROM, NULL);
    }
    m->msg[0] = '\0';
    return ES_OK;
}

void model_done(struct model *m)
{
    size_t i;

    for (i = 0; i < m->procs.n; i++)
        row_done(&m->procs.rows[i]);
    free(m->procs.rows);
    free(m->procs.idx);
    win_free(&m->procs);
    map_done(&m->procs.map);
    map_done(&m->fcount);
    proc_free(&m->proc);
    detail_free(&m->det);
    findings_free(&m->fnd);
    query_free(&m->q);
    intern_done(&m->in);
    analyzer_status_free(m->status);
    analyzer_config_done(&m->cfg);
    memset(m, 0, sizeof *m);
}
