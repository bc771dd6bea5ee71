/* Processes view: one row per correlation ID, sortable and filterable. */
#include <stdio.h>
#include <string.h>

#include "core/event.h"
#include "tui/term.h"
#include "tui/text.h"
#include "tui/view.h"

static const struct view *const all_views[MODEL_NVIEWS] = {
    &view_processes, &view_timeline, &view_tree,  &view_event,
    &view_findings,  &view_query,    &view_help,
};

const struct view *view_of(int model_view)
{
    return model_view >= 0 && model_view < MODEL_NVIEWS ? all_views[model_view]
                                                        : &view_processes;
}

static int status_role(int st)
{
    switch (st) {
    case STATUS_COMPLETED: return ROLE_OK;
    case STATUS_FAILED: return ROLE_FAIL;
    case STATUS_STUCK: return ROLE_STUCK;
    default: return ROLE_FLIGHT;
    }
}

static int hdr_x[SORT_N + 1], hdr_sort[SORT_N], hdr_n; /* header as last drawn */

int view_processes_sort_at(int x)
{
    int i;

    for (i = 0; i < hdr_n; i++)
        if (x >= hdr_x[i] && x < hdr_x[i + 1])
            return hdr_sort[i];
    return -1;
}

struct col {
    const char *title;
    int sort; /* enum model_sort */
    int width;
    int right;
};

static void cell(WINDOW *w, int y, int *x, const struct col *c, attr_t a, const char *s)
{
    char buf[64];
    int tw;

    if (c->width <= 0)
        return;
    if (c->right && (tw = term_width(s)) < c->width) {
        snprintf(buf, sizeof buf, "%*s", c->width - tw, "");
        term_print(w, y, *x, c->width, a, 0, buf);
        term_print(w, y, *x + c->width - tw, tw, a, 0, s);
    } else {
        term_print(w, y, *x, c->width, a, 1, s);
    }
    *x += c->width;
    if (*x < getmaxx(w))
        term_print(w, y, *x, 1, a, 1, " ");
    *x += 1;
}

static void draw(WINDOW *w, struct model *m)
{
    const struct term *t = term_get();
    struct model_procs *p = &m->procs;
    int width = getmaxx(w), height = getmaxy(w), y, x, rest, i;
    struct col cols[] = {
        {"PROCESS", SORT_ID, 0, 0},     {"START", SORT_START, 14, 0},
        {"DURATION", SORT_DURATION, 9, 1}, {"EVENTS", SORT_EVENTS, 7, 1},
        {"STATUS", SORT_STATUS, 9, 0},  {"FIND", SORT_FINDINGS, 5, 1},
        {"SERVICES", SORT_SERVICES, 0, 0},
    };
    int ncols = (int)(sizeof cols / sizeof cols[0]);
    char title[1024], buf[512], hdr[64];
    size_t r;

    /* Title: counts, sort, filters. */
    if (p->full)
        snprintf(title, sizeof title, "Processes  %zu of %zu", p->nidx, p->n);
    else
        snprintf(title, sizeof title, "Processes  by ID, %zu loaded (summarising %lld%%)", p->nwin,
                 (long long)(p->build_total ? p->hw_seq * 100 / p->build_total : 0));
    snprintf(buf, sizeof buf, "  sort %s %s", model_sort_name(p->sort), p->desc ? "desc" : "asc");
    strncat(title, buf, sizeof title - strlen(title) - 1);
    if (p->text[0] || p->f_status >= 0 || p->f_service[0] || p->f_type[0] || p->f_findings) {
        snprintf(buf, sizeof buf, "  filter:%s%s%s%s%s%s%s%s%s", p->text[0] ? " " : "", p->text,
                 p->f_status >= 0 ? " status=" : "",
                 p->f_status >= 0 ? model_status_name(p->f_status) : "",
                 p->f_service[0] ? " service=" : "", p->f_service, p->f_type[0] ? " type=" : "",
                 p->f_type, p->f_findings ? " findings" : "");
        strncat(title, buf, sizeof title - strlen(title) - 1);
    }
    if (m->status == NULL)
        strncat(title, "  (status estimated)", sizeof title - strlen(title) - 1);
    term_print(w, 0, 0, width, term_attr(ROLE_TITLE), 1, title);

    /* Column widths: PROCESS and SERVICES share what is left. */
    if (width < 80)
        cols[1].width = 0; /* narrow: START goes first */
    rest = width - 1;
    for (i = 1; i < ncols - 1; i++)
        rest -= cols[i].width > 0 ? cols[i].width + 1 : 0;
    /* PROCESS as wide as the longest ID on screen, at most 60% of what is left. */
    cols[0].width = 10;
    for (r = p->list.top; r < p->list.n && r < p->list.top + (size_t)height; r++) {
        struct model_procrow *row = model_proc_at(m, r);
        int cw = row ? term_width(row->cid) : 0;
        if (cw > cols[0].width)
            cols[0].width = cw;
    }
    if (cols[0].width > rest * 60 / 100)
        cols[0].width = rest * 60 / 100;
    cols[ncols - 1].width = rest - cols[0].width - 2;
    if (cols[ncols - 1].width < 0)
        cols[ncols - 1].width = 0;

    x = 1;
    hdr_n = 0;
    for (i = 0; i < ncols; i++) {
        if (cols[i].width > 0 && hdr_n < SORT_N) {
            hdr_x[hdr_n] = x;
            hdr_sort[hdr_n++] = cols[i].sort;
            hdr_x[hdr_n] = x + cols[i].width + 1;
        }
        snprintf(hdr, sizeof hdr, "%s%s", cols[i].title,
                 cols[i].sort == p->sort ? (p->desc ? (t->ascii ? "v" : "▼") : (t->ascii ? "^" : "▲"))
                                         : "");
        cell(w, 1, &x, &cols[i], term_attr(ROLE_HEADER), hdr);
    }
    if (m->procs.list.n == 0) {
        term_print(w, 3, 2, width - 2, term_attr(ROLE_DIM), 0,
                   p->full && p->n > 0 ? "no process matches the filter (x clears it)"
                                       : "no process yet: events need a correlation ID");
        return;
    }
    for (y = 2, r = p->list.top; y < height && r < p->list.n; y++, r++) {
        struct model_procrow *row = model_proc_at(m, r);
        int sel = r == p->list.sel;
        attr_t base = sel ? term_attr(ROLE_SELECTED) : 0;
        size_t k, o;
        if (row == NULL)
            break;
        x = 0;
        term_print(w, y, 0, 1, base, 1, sel ? (t->ascii ? ">" : "▶") : " ");
        x = 1;
        cell(w, y, &x, &cols[0], base, row->cid);
        text_datetime(row->first_us, buf, sizeof buf);
        cell(w, y, &x, &cols[1], base | (sel ? 0 : term_attr(ROLE_DIM)),
             row->first_us == ES_TIME_NONE ? "-" : buf + 5);
        if (row->first_us == ES_TIME_NONE)
            snprintf(buf, sizeof buf, "-");
        else
            text_duration(row->last_us - row->first_us, buf, sizeof buf);
        cell(w, y, &x, &cols[2], base, buf);
        snprintf(buf, sizeof buf, "%lld", (long long)row->n_events);
        cell(w, y, &x, &cols[3], base, buf);
        cell(w, y, &x, &cols[4], sel ? base : term_attr(status_role(row->status)),
             model_status_name(row->status));
        snprintf(buf, sizeof buf, "%d", row->n_findings);
        cell(w, y, &x, &cols[5], sel ? base : row->n_findings ? term_attr(ROLE_FINDING) : 0,
             row->n_findings ? buf : "-");
        for (k = 0, o = 0, buf[0] = '\0'; k < row->n_svc && o < sizeof buf; k++)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", k ? "," : "",
                                  model_str(m, row->svc[k]));
        cell(w, y, &x, &cols[6], base | (sel ? 0 : term_attr(ROLE_DIM)), buf);
        if (sel && x < width)
            term_print(w, y, x, width - x, base, 1, "");
    }
}

const struct view view_processes = {"processes", 2, draw};
