/* Causal tree of one process: collapsible, each event with its time after its cause. */
#include <stdio.h>
#include <string.h>

#include "core/event.h"
#include "tui/term.h"
#include "tui/text.h"
#include "tui/view.h"

static void draw(WINDOW *w, struct model *m)
{
    const struct term *t = term_get();
    struct model_proc *pr = &m->proc;
    int width = getmaxx(w), height = getmaxy(w), y, tree_w, indent;
    char buf[512], a[32];
    size_t r;

    if (pr->cid == NULL || pr->n == 0) {
        term_print(w, 0, 0, width, term_attr(ROLE_TITLE), 1, "Causal tree: no process open");
        return;
    }
    snprintf(buf, sizeof buf, "Causal tree  %s  %zu events, %zu shown", pr->cid, pr->n, pr->tr.n);
    term_print(w, 0, 0, width, term_attr(ROLE_TITLE), 1, buf);
    tree_w = width - 38;
    if (tree_w < 20)
        tree_w = 20;
    term_print(w, 1, 0, tree_w, term_attr(ROLE_HEADER), 1, " EVENT");
    term_print(w, 1, tree_w, width - tree_w, term_attr(ROLE_HEADER), 1,
               " SOURCE         AFTER CAUSE TIME");
    for (y = 2, r = pr->tr.top; y < height && r < pr->tr.n; y++, r++) {
        size_t i = pr->tree[r];
        struct model_ev *e = &pr->ev[i];
        int sel = r == pr->tr.sel, x;
        attr_t base = sel ? term_attr(ROLE_SELECTED) : 0;
        const char *mark = e->nchild == 0 ? t->g.dot : e->collapsed ? t->g.closed : t->g.open;

        indent = e->depth * 2;
        if (indent > tree_w / 2)
            indent = tree_w / 2;
        indent++;
        term_print(w, y, 0, indent, base, 1, sel ? t->g.arrow : "");
        snprintf(buf, sizeof buf, "%s %s%s%s%s", mark, e->concurrent ? t->g.conc : "",
                 e->n_findings ? t->g.warn : "", e->type ? e->type : "(no type)",
                 e->loop_root ? "  (causation loop)" : "");
        if (e->collapsed && e->nchild > 0) {
            snprintf(a, sizeof a, "  +%d", e->nchild);
            strncat(buf, a, sizeof buf - strlen(buf) - 1);
        }
        term_print(w, y, indent, tree_w - indent,
                   sel ? base : e->n_findings ? term_attr(e->sev >= 3 ? ROLE_FAIL : ROLE_FINDING) : 0,
                   1, buf);
        x = tree_w;
        term_print(w, y, x, 16, base | (sel ? 0 : term_attr(ROLE_LANE0 + e->lane % TERM_LANES)), 1,
                   e->source ? e->source : "-");
        x += 16;
        if (e->parent >= 0 && e->time_us != ES_TIME_NONE &&
            pr->ev[e->parent].time_us != ES_TIME_NONE) {
            text_duration(e->time_us - pr->ev[e->parent].time_us, a + 1, sizeof a - 1);
            a[0] = e->time_us >= pr->ev[e->parent].time_us ? '+' : ' ';
        } else {
            snprintf(a, sizeof a, "%s", e->parent >= 0 ? "?" : "root");
        }
        term_print(w, y, x, 10, base | (sel ? 0 : term_attr(ROLE_LINK)), 1, a);
        x += 10;
        text_clock(e->time_us, a, sizeof a);
        term_print(w, y, x, width - x, base | (sel ? 0 : term_attr(ROLE_DIM)), 1, a);
    }
}

const struct view view_tree = {"tree", 2, draw};
