/* Findings grouped by kind, with counts; Enter jumps to the process and the event. */
#include <stdio.h>
#include <string.h>

#include "tui/term.h"
#include "tui/view.h"

static int sev_role(const char *s)
{
    if (s == NULL)
        return ROLE_NORMAL;
    if (strcmp(s, "error") == 0 || strcmp(s, "high") == 0)
        return ROLE_FAIL;
    if (strcmp(s, "warning") == 0 || strcmp(s, "medium") == 0)
        return ROLE_STUCK;
    return ROLE_DIM;
}

static void draw(WINDOW *w, struct model *m)
{
    const struct term *t = term_get();
    struct model_findings *fd = &m->fnd;
    int width = getmaxx(w), height = getmaxy(w), y, x, kinds = 0;
    char buf[1024];
    size_t r;

    for (r = 0; r < fd->n; r++)
        kinds += fd->r[r].header;
    snprintf(buf, sizeof buf, "Findings  %lld in %d kinds", (long long)fd->total, kinds);
    term_print(w, 0, 0, width, term_attr(ROLE_TITLE), 1, buf);
    term_print(w, 1, 0, width, term_attr(ROLE_HEADER), 1,
               "  SEVERITY PROCESS              EVENT   MESSAGE");
    if (fd->list.n == 0) {
        term_print(w, 3, 2, width - 2, term_attr(ROLE_DIM), 0,
                   "no findings: run `eventscope analyze` to audit the store");
        return;
    }
    for (y = 2, r = fd->list.top; y < height && r < fd->list.n; y++, r++) {
        struct model_finding *f = model_finding_at(m, r);
        int sel = r == fd->list.sel;
        attr_t base = sel ? term_attr(ROLE_SELECTED) : 0;
        if (f->header) {
            snprintf(buf, sizeof buf, "%s %s (%d)", f->collapsed ? t->g.closed : t->g.open, f->kind,
                     f->count);
            term_print(w, y, 0, 1, base, 1, sel ? t->g.arrow : " ");
            term_print(w, y, 1, width - 1, sel ? base : term_attr(ROLE_SECTION), 1, buf);
            continue;
        }
        x = 0;
        term_print(w, y, x, 2, base, 1, sel ? t->g.arrow : "");
        x += 2;
        term_print(w, y, x, 9, sel ? base : term_attr(sev_role(f->severity)), 1,
                   f->severity ? f->severity : "-");
        x += 9;
        term_print(w, y, x, 21, base, 1, f->cid ? f->cid : "-");
        x += 21;
        snprintf(buf, sizeof buf, "#%lld", (long long)f->event_seq);
        term_print(w, y, x, 8, base | (sel ? 0 : term_attr(ROLE_LINK)), 1,
                   f->event_seq ? buf : "-");
        x += 8;
        term_print(w, y, x, width - x, base, 1, f->message ? f->message : "");
    }
}

const struct view view_findings = {"findings", 2, draw};
