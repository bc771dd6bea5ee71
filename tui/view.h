/*
 * A view draws the model into the body window and never queries the store (STYLE.md
 * section 4). One const instance per view_<name>.c, like tmux's struct window_mode.
 */
#ifndef ES_TUI_VIEW_H
#define ES_TUI_VIEW_H

#include <curses.h>

#include "tui/model.h"

struct view {
    const char *name;                           /* shown in the status line */
    int head;                                   /* body rows above the list (titles) */
    void (*draw)(WINDOW *w, struct model *m);   /* draws the whole body */
};

extern const struct view view_processes;
extern const struct view view_timeline;
extern const struct view view_tree;
extern const struct view view_event;
extern const struct view view_findings;
extern const struct view view_query;
extern const struct view view_help;

/*
 * The sort column (enum model_sort) under column x of the processes view's header as it
 * was last drawn, -1 when none: a click on a header sorts by it.
 */
int view_processes_sort_at(int x);

/* The view of an enum model_view. */
const struct view *view_of(int model_view);

#endif
