/*
 * The TUI loop: owns input and timing. Waits for a key with a timeout; on a key runs the
 * bound action (tui/keys.c), on a timeout re-polls the store for new rows, and redraws
 * only the regions an action marked dirty, with one doupdate() per change.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "tui/keys.h"
#include "tui/model.h"
#include "tui/term.h"
#include "tui/text.h"
#include "tui/tui.h"
#include "tui/view.h"

#define POLL_MS 500   /* re-poll the store this often when idle */
#define BUILD_MS 30   /* while summarising in the background */
#define WHEEL_ROWS 3

static double clock_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

static int too_small(void)
{
    return LINES < 8 || COLS < 40;
}

static void draw_status(struct term *t, struct model *m)
{
    const struct view *v = view_of(m->view);
    struct model_list *l = model_cur_list(m);
    char right[64], buf[300];
    int width = getmaxx(t->status), rw;
    static const char *const prompts[] = {"", "/", "filter: ", ":"};

    werase(t->status);
    if (m->prompt.kind != PROMPT_NONE) {
        snprintf(buf, sizeof buf, "%s%s", prompts[m->prompt.kind], m->prompt.buf);
        rw = term_print(t->status, 0, 0, width - 1, term_attr(ROLE_STATUS), 0, buf);
        term_print(t->status, 0, rw, 1, term_attr(ROLE_SELECTED), 0, " ");
    } else {
        if (l != NULL && l->n > 0)
            snprintf(right, sizeof right, "%s %zu/%zu", v->name, l->sel + 1, l->n);
        else
            snprintf(right, sizeof right, "%s", v->name);
        rw = term_width(right);
        term_print(t->status, 0, 0, width - rw - 1, term_attr(ROLE_STATUS), 1, m->msg);
        term_print(t->status, 0, width - rw, rw, term_attr(ROLE_DIM), 0, right);
    }
    wnoutrefresh(t->status);
}

static void draw_hint(struct term *t, struct model *m)
{
    char buf[512], item[128];
    const char *p, *sp, *sep;
    int x = 0, width = getmaxx(t->hint);
    size_t n, kn;

    werase(t->hint);
    keys_hint(m->view, buf, sizeof buf);
    /* Items "key word" separated by two spaces; the key highlighted; whole items only. */
    for (p = buf; *p; p = *sep ? sep + 2 : sep) {
        sep = strstr(p, "  ");
        if (sep == NULL)
            sep = p + strlen(p);
        n = (size_t)(sep - p) < sizeof item - 1 ? (size_t)(sep - p) : sizeof item - 1;
        memcpy(item, p, n);
        item[n] = '\0';
        if (x + (x ? 2 : 0) + term_width(item) > width)
            break;
        if (x)
            x += term_print(t->hint, 0, x, 2, 0, 0, "  ");
        sp = strchr(item, ' ');
        kn = sp ? (size_t)(sp - item) : n;
        item[kn] = '\0';
        x += term_print(t->hint, 0, x, width - x, term_attr(ROLE_KEY), 0, item);
        if (sp != NULL) {
            item[kn] = ' ';
            x += term_print(t->hint, 0, x, width - x, term_attr(ROLE_HINT), 0, item + kn);
        }
    }
    wnoutrefresh(t->hint);
}

static void draw(struct term *t, struct model *m, unsigned dirty)
{
    const struct view *v = view_of(m->view);
    int h;

    if (too_small()) {
        werase(t->body);
        werase(t->status);
        werase(t->hint);
        term_print(t->body, 0, 0, COLS, 0, 0, "terminal too small");
        term_print(t->body, 1, 0, COLS, 0, 0, "(need 40x8; q quits)");
        wnoutrefresh(t->body);
        wnoutrefresh(t->status);
        wnoutrefresh(t->hint);
        doupdate();
        return;
    }
    h = getmaxy(t->body) - v->head;
    m->page = h > 1 ? (size_t)h : 1;
    if (dirty & TUI_REDRAW) {
        if (model_cur_list(m) != NULL) {
            /* keep the selection visible after a resize */
            struct model_list *l = model_cur_list(m);
            if (l->sel >= l->top + m->page)
                l->top = l->sel - m->page + 1;
            if (l->top > l->sel)
                l->top = l->sel;
        }
        werase(t->body);
        v->draw(t->body, m);
        wnoutrefresh(t->body);
    }
    if (dirty & (TUI_REDRAW | TUI_STATUS)) {
        draw_status(t, m);
        draw_hint(t, m);
    }
    doupdate();
}

static void utf8_pop(struct model_prompt *p)
{
    while (p->len > 0) {
        unsigned char c = (unsigned char)p->buf[--p->len];
        if ((c & 0xc0) != 0x80)
            break;
    }
    p->buf[p->len] = '\0';
}

/* A key while the prompt is open: edit, submit, cancel. */
static unsigned prompt_key(struct model *m, int key, wint_t wc)
{
    struct model_prompt *p = &m->prompt;
    char mb[MB_LEN_MAX];
    mbstate_t ps;
    size_t n;

    if (key == '\r' || key == '\n' || key == KEYS_FN(KEY_ENTER))
        return model_prompt_submit(m) | TUI_STATUS;
    if (key == 27) {
        p->kind = PROMPT_NONE;
        return TUI_STATUS;
    }
    if (key == KEYS_FN(KEY_BACKSPACE) || key == 127 || key == 8) {
        utf8_pop(p);
        return TUI_STATUS;
    }
    if (key == 0x15) { /* ^U */
        p->len = 0;
        p->buf[0] = '\0';
        return TUI_STATUS;
    }
    if (key >= KEYS_FN(0) || wc < 0x20 || wc == 0x7f || (wc >= 0x80 && wc < 0xa0))
        return 0;
    memset(&ps, 0, sizeof ps);
    n = wcrtomb(mb, (wchar_t)wc, &ps);
    if (n == (size_t)-1 || p->len + n >= sizeof p->buf)
        return 0;
    memcpy(p->buf + p->len, mb, n);
    p->len += n;
    p->buf[p->len] = '\0';
    return TUI_STATUS;
}

static unsigned mouse_key(struct model *m, struct term *t)
{
    MEVENT ev;
    const struct view *v = view_of(m->view);
    struct model_list *l = model_cur_list(m);
    int y;

    if (getmouse(&ev) != OK)
        return 0;
    if (ev.bstate & BUTTON4_PRESSED)
        return model_move(m, -WHEEL_ROWS);
#if NCURSES_MOUSE_VERSION > 1
    if (ev.bstate & BUTTON5_PRESSED)
        return model_move(m, WHEEL_ROWS);
#endif
    if (!(ev.bstate & (BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED)) || l == NULL)
        return 0;
    y = ev.y - getbegy(t->body) - v->head;
    if (m->view == MODEL_PROCS && y == -1) { /* a column header: sort by it */
        int col = view_processes_sort_at(ev.x);
        return col >= 0 ? model_sort_by(m, col) | TUI_REDRAW : 0;
    }
    if (y < 0 || ev.y >= getbegy(t->body) + getmaxy(t->body) || l->top + (size_t)y >= l->n)
        return 0;
    if (model_select(m, l->top + (size_t)y) == 0)
        return 0;
    if (ev.bstate & BUTTON1_DOUBLE_CLICKED)
        return model_enter(m) | TUI_REDRAW;
    return TUI_REDRAW | TUI_STATUS;
}

static int run_bench(struct term *t, sqlite3 *db, const struct tui_opts *o, struct tui_bench *b,
                     char *err, size_t errlen)
{
    struct model m;
    double t0 = now_ms(), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);

    memset(b, 0, sizeof *b);
    if (model_init(&m, db, o->stuck_us) != ES_OK) {
        snprintf(err, errlen, "cannot read the store: %s", m.msg);
        model_done(&m);
        return ES_ESTORE;
    }
    b->load_ms = now_ms() - t0;
    draw(t, &m, TUI_REDRAW | TUI_STATUS);
    b->first_ms = now_ms() - t0;
    b->first_cpu_ms = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    b->procs_shown = m.procs.list.n;
    if (o->bench_cid != NULL) {
        t0 = now_ms();
        c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        model_open_process(&m, o->bench_cid, 0);
        draw(t, &m, TUI_REDRAW | TUI_STATUS);
        b->open_ms = now_ms() - t0;
        b->open_cpu_ms = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
        b->open_events = m.proc.n;
    }
    model_done(&m);
    return ES_OK;
}

int tui_run(sqlite3 *db, const struct tui_opts *o, struct tui_bench *bench, char *err,
            size_t errlen)
{
    struct term t;
    struct model m;
    unsigned dirty = TUI_REDRAW | TUI_STATUS, flags;
    int rc = ES_OK;

    if (term_init(&t, o->ascii, o->no_color, o->bench) != 0) {
        snprintf(err, errlen, "cannot set up the terminal (TERM=%s)",
                 getenv("TERM") ? getenv("TERM") : "unset");
        return ES_EIO;
    }
    if (o->bench) {
        rc = run_bench(&t, db, o, bench, err, errlen);
        term_done();
        return rc;
    }
    if (model_init(&m, db, o->stuck_us) != ES_OK) {
        term_done();
        snprintf(err, errlen, "cannot read the store: %s", m.msg);
        model_done(&m);
        return ES_ESTORE;
    }
    snprintf(m.msg, sizeof m.msg, "? for help");
    for (;;) {
        wint_t wc = 0;
        int r, key;

        if (dirty)
            draw(&t, &m, dirty);
        dirty = 0;
        wtimeout(t.body, m.procs.full ? POLL_MS : BUILD_MS);
        r = wget_wch(t.body, &wc);
        if (r == ERR) {
            dirty |= model_poll(&m);
            continue;
        }
        key = r == KEY_CODE_YES ? KEYS_FN((int)wc) : (int)wc;
        if (key == KEYS_FN(KEY_RESIZE)) {
            term_resize(&t);
            dirty = TUI_REDRAW | TUI_STATUS;
            continue;
        }
        if (too_small())
            flags = key == 'q' ? TUI_QUIT : 0;
        else if (key == KEYS_FN(KEY_MOUSE))
            flags = mouse_key(&m, &t);
        else if (m.prompt.kind != PROMPT_NONE)
            flags = prompt_key(&m, key, wc);
        else {
            const struct binding *b = keys_lookup(key, m.view);
            flags = b ? b->act(&m) : 0;
        }
        if (flags & TUI_QUIT)
            break;
        if (flags & TUI_RELOAD)
            flags |= model_poll(&m) | TUI_REDRAW;
        dirty |= flags;
    }
    model_done(&m);
    term_done();
    return rc;
}
