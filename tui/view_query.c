/* Query result as a table; before any query, the named queries to choose from. */
#include <stdio.h>
#include <string.h>

#include "cli/queries.h"
#include "tui/term.h"
#include "tui/view.h"

#define COL_MAX 32

static void draw(WINDOW *w, struct model *m)
{
    struct model_query *q = &m->q;
    int width = getmaxx(w), height = getmaxy(w), y, x, cw[64];
    char buf[512];
    size_t r, c, i;

    if (q->label == NULL) {
        term_print(w, 0, 0, width, term_attr(ROLE_TITLE), 1,
                   "Query: press : then a named query (NAME ARG...) or SQL");
        for (i = 0, y = 2; query_files[i].name != NULL && y < height; i++, y++)
            term_print(w, y, 2, width - 2, 0, 0, query_files[i].name);
        return;
    }
    snprintf(buf, sizeof buf, "Query  %s  %zu row%s%s", q->label, q->nrows, q->nrows == 1 ? "" : "s",
             q->truncated ? " (first 10000)" : "");
    term_print(w, 0, 0, width, term_attr(ROLE_TITLE), 1, buf);
    /* Column widths from the header and the rows on screen. */
    for (c = q->hscroll; c < q->ncols && c - q->hscroll < 64; c++) {
        int wmax = term_width(q->cols[c]);
        for (r = q->list.top; r < q->nrows && r < q->list.top + (size_t)height; r++) {
            const char *s = q->cells[r * q->ncols + c];
            int tw = term_width(s ? s : "NULL");
            if (tw > wmax)
                wmax = tw;
        }
        cw[c - q->hscroll] = wmax > COL_MAX ? COL_MAX : wmax;
    }
    x = 1;
    for (c = q->hscroll; c < q->ncols && c - q->hscroll < 64 && x < width; c++) {
        term_print(w, 1, x, cw[c - q->hscroll], term_attr(ROLE_HEADER), 1, q->cols[c]);
        x += cw[c - q->hscroll] + 2;
    }
    for (y = 2, r = q->list.top; y < height && r < q->nrows; y++, r++) {
        int sel = r == q->list.sel;
        attr_t a = sel ? term_attr(ROLE_SELECTED) : 0;
        term_print(w, y, 0, 1, a, 1, sel ? term_get()->g.arrow : " ");
        x = 1;
        for (c = q->hscroll; c < q->ncols && c - q->hscroll < 64 && x < width; c++) {
            const char *s = q->cells[r * q->ncols + c];
            term_print(w, y, x, cw[c - q->hscroll] + 2, s ? a : a | term_attr(ROLE_DIM), 1,
                       s ? s : "NULL");
            x += cw[c - q->hscroll] + 2;
        }
        if (sel && x < width)
            term_print(w, y, x, width - x, a, 1, "");
    }
}

const struct view view_query = {"query", 2, draw};
