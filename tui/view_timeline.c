/*
 * Timeline of one process: a swimlane column per service, events down the screen in time
 * order with their times and the gaps between them, causal links drawn across lanes,
 * concurrent reactions marked, events with findings highlighted, lanes scrolled sideways.
 */
#include <stdio.h>
#include <string.h>

#include "core/event.h"
#include "tui/term.h"
#include "tui/text.h"
#include "tui/view.h"

#define X0 22       /* lanes start after ">HH:MM:SS.mmm +gap__ " */
#define LANE_MIN 18 /* narrowest lane */

static int lane_role(int lane)
{
    return ROLE_LANE0 + lane % TERM_LANES;
}

static void draw_hline(WINDOW *w, int y, int x0, int x1, attr_t a)
{
    const struct term *t = term_get();
    int x;

    for (x = x0; x < x1; x++)
        term_print(w, y, x, 1, a, 0, t->g.hline);
}

static void draw(WINDOW *w, struct model *m)
{
    const struct term *t = term_get();
    struct model_proc *pr = &m->proc;
    int width = getmaxx(w), height = getmaxy(w), nvis, lane_w, y, i, x;
    char buf[512], a[64], b[32], b2[80];
    size_t r;
    attr_t link = term_attr(ROLE_LINK);

    if (pr->cid == NULL || pr->n == 0 || pr->nlanes == 0) {
        term_print(w, 0, 0, width, term_attr(ROLE_TITLE), 1, "Timeline: no process open");
        return;
    }
    if (pr->hscroll >= pr->nlanes)
        pr->hscroll = pr->nlanes - 1;
    nvis = (width - X0) / LANE_MIN;
    if (nvis < 1)
        nvis = 1;
    if ((size_t)nvis > pr->nlanes - pr->hscroll)
        nvis = (int)(pr->nlanes - pr->hscroll);
    if (nvis < 1)
        nvis = 1;
    lane_w = (width - X0) / nvis;

    text_duration(pr->last_us - pr->first_us, a, sizeof a);
    snprintf(buf, sizeof buf, "Timeline  %s  %zu events  %zu services  span %s", pr->cid, pr->n,
             pr->nlanes, pr->first_us == ES_TIME_NONE ? "-" : a);
    if (pr->nlanes > (size_t)nvis) {
        snprintf(a, sizeof a, "  lanes %zu-%zu of %zu", pr->hscroll + 1, pr->hscroll + (size_t)nvis,
                 pr->nlanes);
        strncat(buf, a, sizeof buf - strlen(buf) - 1);
    }
    term_print(w, 0, 0, width, term_attr(ROLE_TITLE), 1, buf);

    /* Time ruler: first and last time with the span between them. */
    text_clock(pr->first_us, a, sizeof a);
    text_clock(pr->last_us, b, sizeof b);
    term_print(w, 1, 0, X0, term_attr(ROLE_DIM), 1, "time ruler");
    {
        int rx0 = X0, rx1 = width - 1, tw;
        term_print(w, 1, rx0, rx1 - rx0, term_attr(ROLE_DIM), 0, a);
        rx0 += (int)strlen(a) + 1;
        tw = (int)strlen(b);
        if (rx1 - tw - 1 > rx0) {
            term_print(w, 1, rx0, 1, link, 0, t->g.tee);
            draw_hline(w, 1, rx0 + 1, rx1 - tw - 1, link);
            term_print(w, 1, rx1 - tw - 2, 1, link, 0, t->ascii ? "+" : "┤");
            term_print(w, 1, rx1 - tw, tw, term_attr(ROLE_DIM), 0, b);
            text_duration(pr->last_us - pr->first_us, a, sizeof a);
            snprintf(b2, sizeof b2, " %s ", a);
            x = rx0 + (rx1 - tw - 1 - rx0 - (int)strlen(a)) / 2;
            if (x > rx0 && pr->first_us != ES_TIME_NONE)
                term_print(w, 1, x, (int)strlen(a) + 2, term_attr(ROLE_DIM), 0, b2);
        }
    }

    /* Lane headers. */
    term_print(w, 2, 0, X0, term_attr(ROLE_HEADER), 1, " TIME         GAP");
    for (i = 0; i < nvis; i++) {
        size_t lane = pr->hscroll + (size_t)i;
        snprintf(buf, sizeof buf, "%s%s", i == 0 && pr->hscroll > 0 ? t->g.larrow : "",
                 pr->lanes[lane]);
        term_print(w, 2, X0 + i * lane_w, lane_w - 1, term_attr(ROLE_HEADER) | term_attr(lane_role((int)lane)),
                   1, buf);
    }
    if (pr->hscroll + (size_t)nvis < pr->nlanes)
        term_print(w, 2, width - 1, 1, term_attr(ROLE_HEADER), 0, t->g.arrow);

    for (y = 3, r = pr->tl.top; y < height && r < pr->n; y++, r++) {
        struct model_ev *e = &pr->ev[r];
        int sel = r == pr->tl.sel;
        attr_t base = sel ? term_attr(ROLE_SELECTED) : 0;
        int vl = e->lane - (int)pr->hscroll, pl = -1, lx, label_w;
        int64_t gap = r > 0 && e->time_us != ES_TIME_NONE && pr->ev[r - 1].time_us != ES_TIME_NONE
                          ? e->time_us - pr->ev[r - 1].time_us
                          : ES_TIME_NONE;

        text_clock(e->time_us, a, sizeof a);
        term_print(w, y, 0, 1, base, 1, sel ? t->g.arrow : " ");
        term_print(w, y, 1, 13, base | (sel ? 0 : term_attr(ROLE_DIM)), 1, a);
        if (gap != ES_TIME_NONE) {
            text_duration(gap, b + 1, sizeof b - 1);
            b[0] = '+';
        } else {
            b[0] = '\0';
        }
        term_print(w, y, 14, X0 - 14, base | (gap != ES_TIME_NONE && gap >= 1000000 && !sel
                                                  ? term_attr(ROLE_STUCK)
                                                  : sel ? 0 : term_attr(ROLE_DIM)),
                   1, b);
        /* Swimlane rails. */
        for (i = 0; i < nvis; i++)
            term_print(w, y, X0 + i * lane_w, 1, term_attr(ROLE_DIM), 0, t->g.vline);
        if (e->parent >= 0)
            pl = pr->ev[e->parent].lane - (int)pr->hscroll;
        if (vl < 0 || vl >= nvis) {
            /* Event in a lane scrolled out of view: say where it is. */
            snprintf(buf, sizeof buf, "%s %s (%s)", vl < 0 ? t->g.larrow : t->g.arrow,
                     e->type ? e->type : "?", e->source ? e->source : "?");
            term_print(w, y, vl < 0 ? X0 + 1 : width - 1 - term_width(buf), term_width(buf),
                       base | term_attr(ROLE_DIM), 0, buf);
            continue;
        }
        lx = X0 + vl * lane_w;
        label_w = lane_w - 1;
        /* Causal link from the cause's lane. */
        if (pl >= 0 && pl < nvis && pl < vl) {
            int px = X0 + pl * lane_w;
            term_print(w, y, px, 1, link, 0, t->g.tee);
            draw_hline(w, y, px + 1, lx - 1, link);
            term_print(w, y, lx - 1, 1, link, 0, t->g.arrow);
        } else if (pl > vl && pl < nvis) {
            label_w = (pl - vl) * lane_w - 3;
        } else if (e->parent >= 0 && pl != vl) {
            term_print(w, y, lx - 1 > X0 ? lx - 1 : lx, 1, link, 0,
                       pl < 0 ? t->g.larrow : t->g.arrow);
        }
        snprintf(buf, sizeof buf, "%s%s%s %s", e->concurrent ? t->g.conc : "",
                 e->n_findings ? t->g.warn : "", t->g.dot, e->type ? e->type : "(no type)");
        {
            attr_t la = sel ? base
                        : e->n_findings ? term_attr(e->sev >= 3 ? ROLE_FAIL : ROLE_FINDING)
                                        : term_attr(lane_role(e->lane));
            int used = term_print(w, y, lx + 1, label_w, la, 0, buf);
            if (pl > vl && pl < nvis) {
                int px = X0 + pl * lane_w;
                int sx = lx + 1 + used + 1;
                if (sx < px) {
                    term_print(w, y, sx, 1, link, 0, t->g.larrow);
                    draw_hline(w, y, sx + 1, px, link);
                    term_print(w, y, px, 1, link, 0, t->ascii ? "+" : "┤");
                }
            }
        }
    }
}

const struct view view_timeline = {"timeline", 3, draw};
