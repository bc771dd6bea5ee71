/* Help: every key, generated from the key table, then what the marks mean. */
#include <stdio.h>

#include "tui/keys.h"
#include "tui/term.h"
#include "tui/view.h"

static void draw(WINDOW *w, struct model *m)
{
    const struct term *t = term_get();
    int width = getmaxx(w), height = getmaxy(w), y = 1, line = 0;
    char buf[256];
    size_t i;

    term_print(w, 0, 0, width, term_attr(ROLE_TITLE), 1,
               "Keys  (Esc or ? to go back; mouse: click selects, double-click opens, wheel scrolls)");
    for (i = 0; keys_help_line(i, buf, sizeof buf); i++, line++)
        if (line >= m->help_top && y < height)
            term_print(w, y++, 1, width - 1, 0, 0, buf);
    {
        char legend[6][128];
        int k;
        snprintf(legend[0], sizeof legend[0], "%s", "");
        snprintf(legend[1], sizeof legend[1], "Marks: %s event  %s caused by the event in that lane  %s concurrent reaction",
                 t->g.dot, t->g.arrow, t->g.conc);
        snprintf(legend[2], sizeof legend[2], "       %s has findings  %s/%s expanded/collapsed  +gap since the previous event",
                 t->g.warn, t->g.open, t->g.closed);
        snprintf(legend[3], sizeof legend[3], "Status: completed, failed, in flight, stuck (silent, relative to the newest event)");
        snprintf(legend[4], sizeof legend[4], "Filter (f): status=failed service=NAME type=NAME findings WORDS");
        snprintf(legend[5], sizeof legend[5], "%s", "");
        for (k = 0; k < 6; k++, line++)
            if (line >= m->help_top && y < height)
                term_print(w, y++, 1, width - 1, k == 3 || k == 4 ? 0 : term_attr(ROLE_DIM), 0, legend[k]);
    }
}

const struct view view_help = {"help", 1, draw};
