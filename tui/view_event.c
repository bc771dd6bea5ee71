/* Event detail: attributes, clock, origin, findings, sightings, foldable payload. */
#include <stdio.h>
#include <string.h>

#include "tui/term.h"
#include "tui/view.h"

static void draw(WINDOW *w, struct model *m)
{
    const struct term *t = term_get();
    struct model_detail *d = &m->det;
    int width = getmaxx(w), height = getmaxy(w), y;
    char buf[4096];
    size_t r;

    if (d->seq == 0) {
        term_print(w, 0, 0, width, term_attr(ROLE_TITLE), 1, "Event: none open");
        return;
    }
    for (y = 0, r = d->list.top; y < height && r < d->list.n; y++, r++) {
        struct model_line *l = &d->l[d->vis[r]];
        int sel = r == d->list.sel;
        attr_t a = sel ? term_attr(ROLE_SELECTED)
                   : l->section ? term_attr(y == 0 && r == 0 ? ROLE_TITLE : ROLE_SECTION)
                   : l->seq ? term_attr(ROLE_LINK)
                            : 0;
        if (l->fold_end >= 0) {
            /* "  {" -> "▾ {" or "▸ { … 12 lines }" */
            size_t lead = strspn(l->text, " ");
            snprintf(buf, sizeof buf, "%.*s%s%s", lead > 0 ? (int)lead - 1 : 0, l->text,
                     l->folded ? t->g.closed : t->g.open, l->text + lead);
            if (l->folded) {
                char more[64];
                snprintf(more, sizeof more, " %s %ld lines", t->g.more,
                         l->fold_end - (long)d->vis[r]);
                strncat(buf, more, sizeof buf - strlen(buf) - 1);
            }
            term_print(w, y, 1, width - 1, a, 1, buf);
        } else {
            term_print(w, y, 1, width - 1, a, 1, l->text);
        }
        term_print(w, y, 0, 1, a, 1, sel ? t->g.arrow : " ");
    }
}

const struct view view_event = {"event", 0, draw};
