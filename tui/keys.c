/* The key table of the TUI and what is generated from it. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tui/keys.h"

static unsigned act_down(struct model *m) { return model_move(m, 1); }
static unsigned act_up(struct model *m) { return model_move(m, -1); }
static unsigned act_pgdn(struct model *m) { return model_move(m, m->page > 1 ? (long)m->page - 1 : 1); }
static unsigned act_pgup(struct model *m) { return model_move(m, -(m->page > 1 ? (long)m->page - 1 : 1)); }
static unsigned act_home(struct model *m) { return model_home(m); }
static unsigned act_end(struct model *m) { return model_end(m); }
static unsigned act_enter(struct model *m) { return model_enter(m); }
static unsigned act_back(struct model *m) { return model_back(m); }
static unsigned act_tab(struct model *m) { return model_next_view(m); }
static unsigned act_help(struct model *m) { return model_show_help(m); }
static unsigned act_quit(struct model *m) { (void)m; return TUI_QUIT; }
static unsigned act_search(struct model *m) { return model_prompt_open(m, PROMPT_SEARCH); }
static unsigned act_next_match(struct model *m) { return model_search(m, NULL, 1); }
static unsigned act_prev_match(struct model *m) { return model_search(m, NULL, -1); }
static unsigned act_query(struct model *m) { return model_prompt_open(m, PROMPT_QUERY); }
static unsigned act_filter(struct model *m) { return model_prompt_open(m, PROMPT_FILTER); }
static unsigned act_sort(struct model *m) { return model_sort_by(m, (m->procs.sort + 1) % SORT_N) | TUI_REDRAW; }
#define SORT_KEY(n, col)                                                                           \
    static unsigned act_sort_##n(struct model *m) { return model_sort_by(m, col) | TUI_REDRAW; }
SORT_KEY(1, SORT_ID)
SORT_KEY(2, SORT_START)
SORT_KEY(3, SORT_DURATION)
SORT_KEY(4, SORT_EVENTS)
SORT_KEY(5, SORT_STATUS)
SORT_KEY(6, SORT_FINDINGS)
SORT_KEY(7, SORT_SERVICES)
static unsigned act_sort_rev(struct model *m) { return model_sort_reverse(m) | TUI_REDRAW; }
static unsigned act_with_findings(struct model *m) { return model_toggle_findings_filter(m) | TUI_REDRAW; }
static unsigned act_status(struct model *m) { return model_cycle_status_filter(m) | TUI_REDRAW; }
static unsigned act_clear(struct model *m) { return model_filter(m, "") | TUI_REDRAW; }
static unsigned act_findings(struct model *m) { return model_open_findings(m); }
static unsigned act_procs(struct model *m)
{
    while (m->view != MODEL_PROCS && model_back(m) != 0)
        ;
    m->view = MODEL_PROCS;
    m->depth = 0;
    return TUI_REDRAW | TUI_STATUS;
}
static unsigned act_tree(struct model *m) { return model_open_tree(m); }
static unsigned act_left(struct model *m) { return model_hscroll(m, -1); }
static unsigned act_right(struct model *m) { return model_hscroll(m, 1); }
static unsigned act_collapse(struct model *m) { return model_tree_set(m, 1); }
static unsigned act_expand(struct model *m) { return model_tree_set(m, 0); }
static unsigned act_toggle(struct model *m)
{
    if (m->view == MODEL_FINDINGS)
        return model_findings_toggle(m);
    return m->view == MODEL_TREE ? model_tree_toggle(m) : model_detail_toggle(m);
}

#define V(x) VIEW_BIT(MODEL_##x)
#define HSCROLL (V(TIMELINE) | V(QUERY))

static const struct binding bindings[] = {
    {'j', VIEW_ALL, act_down, "next row", NULL},
    {KEYS_FN(KEY_DOWN), VIEW_ALL, act_down, "next row", NULL},
    {'k', VIEW_ALL, act_up, "previous row", NULL},
    {KEYS_FN(KEY_UP), VIEW_ALL, act_up, "previous row", NULL},
    {KEYS_FN(KEY_NPAGE), VIEW_ALL, act_pgdn, "next page", NULL},
    {0x06 /* ^F */, VIEW_ALL, act_pgdn, "next page", NULL},
    {KEYS_FN(KEY_PPAGE), VIEW_ALL, act_pgup, "previous page", NULL},
    {0x02 /* ^B */, VIEW_ALL, act_pgup, "previous page", NULL},
    {'g', VIEW_ALL, act_home, "first row", NULL},
    {KEYS_FN(KEY_HOME), VIEW_ALL, act_home, "first row", NULL},
    {'G', VIEW_ALL, act_end, "last row", NULL},
    {KEYS_FN(KEY_END), VIEW_ALL, act_end, "last row", NULL},
    {'\r', VIEW_ALL, act_enter, "open: process, event, finding, folded block", "open"},
    {'\n', VIEW_ALL, act_enter, "open: process, event, finding, folded block", NULL},
    {KEYS_FN(KEY_ENTER), VIEW_ALL, act_enter, "open: process, event, finding, folded block", NULL},
    {27 /* Esc */, VIEW_ALL, act_back, "back to the previous view", NULL},
    {KEYS_FN(KEY_BACKSPACE), VIEW_ALL, act_back, "back to the previous view", NULL},
    {127, VIEW_ALL, act_back, "back to the previous view", NULL},
    {'\t', VIEW_ALL, act_tab, "next view", NULL},
    {'/', V(PROCS), act_search, "filter processes by text (ID, service, type, status)", "filter"},
    {'/', VIEW_LISTS & ~V(PROCS), act_search, "search this view", "search"},
    {'n', VIEW_LISTS, act_next_match, "next match", NULL},
    {'N', VIEW_LISTS, act_prev_match, "previous match", NULL},
    {'s', V(PROCS), act_sort, "sort by the next column", "sort"},
    {'r', V(PROCS), act_sort_rev, "reverse the sort order", NULL},
    {'1', V(PROCS), act_sort_1, "sort by process ID (again: reverse)", NULL},
    {'2', V(PROCS), act_sort_2, "sort by start", NULL},
    {'3', V(PROCS), act_sort_3, "sort by duration", NULL},
    {'4', V(PROCS), act_sort_4, "sort by events", NULL},
    {'5', V(PROCS), act_sort_5, "sort by status", NULL},
    {'6', V(PROCS), act_sort_6, "sort by findings", NULL},
    {'7', V(PROCS), act_sort_7, "sort by services", NULL},
    {'f', V(PROCS), act_filter, "filter: status=… service=… type=… findings text", NULL},
    {'c', V(PROCS), act_status, "cycle the status filter", "status"},
    {'w', V(PROCS), act_with_findings, "only processes with findings", NULL},
    {'x', V(PROCS), act_clear, "clear every filter", NULL},
    {'t', V(TIMELINE) | V(TREE), act_tree, "switch between timeline and causal tree", "tree"},
    {'h', HSCROLL, act_left, "scroll left", NULL},
    {KEYS_FN(KEY_LEFT), HSCROLL, act_left, "scroll left", NULL},
    {'l', HSCROLL, act_right, "scroll right", NULL},
    {KEYS_FN(KEY_RIGHT), HSCROLL, act_right, "scroll right", "scroll"},
    {'h', V(TREE), act_collapse, "collapse (on a leaf: go to its cause)", NULL},
    {KEYS_FN(KEY_LEFT), V(TREE), act_collapse, "collapse (on a leaf: go to its cause)", NULL},
    {'l', V(TREE), act_expand, "expand", NULL},
    {KEYS_FN(KEY_RIGHT), V(TREE), act_expand, "expand", NULL},
    {' ', V(TREE) | V(EVENT) | V(FINDINGS), act_toggle, "fold or unfold", "fold"},
    {'F', VIEW_ALL, act_findings, "findings, grouped by kind", "findings"},
    {'p', VIEW_ALL, act_procs, "processes", NULL},
    {':', VIEW_ALL, act_query, "query: a named query (NAME ARG...) or SQL", "query"},
    {'?', VIEW_ALL, act_help, "this help", "help"},
    {'q', VIEW_ALL, act_quit, "quit", "quit"},
};
#define NBINDINGS (sizeof bindings / sizeof bindings[0])

const struct binding *keys_lookup(int key, int view)
{
    size_t i;

    if (view < 0 || view >= MODEL_NVIEWS)
        return NULL;
    for (i = 0; i < NBINDINGS; i++)
        if (bindings[i].key == key && (bindings[i].views & VIEW_BIT(view)))
            return &bindings[i];
    return NULL;
}

const char *keys_name(int key, char *buf, size_t len)
{
    static const struct {
        int key;
        const char *name;
    } names[] = {
        {KEYS_FN(KEY_DOWN), "Down"},   {KEYS_FN(KEY_UP), "Up"},        {KEYS_FN(KEY_LEFT), "Left"},
        {KEYS_FN(KEY_RIGHT), "Right"}, {KEYS_FN(KEY_NPAGE), "PgDn"},   {KEYS_FN(KEY_PPAGE), "PgUp"},
        {KEYS_FN(KEY_HOME), "Home"},   {KEYS_FN(KEY_END), "End"},      {KEYS_FN(KEY_ENTER), "Enter"},
        {KEYS_FN(KEY_BACKSPACE), "Backspace"}, {'\r', "Enter"},        {'\n', "^J"},
        {27, "Esc"},                   {127, "Backspace"},             {'\t', "Tab"},
        {' ', "Space"},                {0x06, "^F"},                   {0x02, "^B"},
    };
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].key == key) {
            snprintf(buf, len, "%s", names[i].name);
            return buf;
        }
    if (key > 0x20 && key < 0x7f)
        snprintf(buf, len, "%c", key);
    else
        snprintf(buf, len, "#%d", key);
    return buf;
}

static const char *view_names(unsigned views, char *buf, size_t len)
{
    static const char *const names[MODEL_NVIEWS] = {"processes", "timeline", "tree", "event",
                                                    "findings",  "query",    "help"};
    size_t o = 0;
    int v;

    buf[0] = '\0';
    if ((views & VIEW_LISTS) == VIEW_LISTS) {
        snprintf(buf, len, "everywhere");
        return buf;
    }
    for (v = 0; v < MODEL_NVIEWS && o < len; v++)
        if (views & VIEW_BIT(v))
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", names[v]);
    return buf;
}

/* Whether binding i starts a help line (no earlier binding with the same action). */
static int help_first(size_t i)
{
    size_t k;

    for (k = 0; k < i; k++)
        if (bindings[k].act == bindings[i].act && bindings[k].views == bindings[i].views)
            return 0;
    return 1;
}

int keys_help_line(size_t i, char *buf, size_t len)
{
    char keys[64], one[16], where[96];
    size_t b, k, o, seen = 0;
    int everywhere;

    for (b = 0; b < NBINDINGS; b++) {
        if (!help_first(b))
            continue;
        if (seen++ != i)
            continue;
        o = 0;
        keys[0] = '\0';
        for (k = b; k < NBINDINGS; k++) {
            if (bindings[k].act != bindings[b].act || bindings[k].views != bindings[b].views ||
                o >= sizeof keys)
                continue;
            keys_name(bindings[k].key, one, sizeof one);
            if (bindings[k].key == '\n' || strstr(keys, one) != NULL) /* Enter twice */
                continue;
            o += (size_t)snprintf(keys + o, sizeof keys - o, "%s%s", o ? " " : "", one);
        }
        view_names(bindings[b].views, where, sizeof where);
        everywhere = strcmp(where, "everywhere") == 0;
        snprintf(buf, len, "%-15s %s%s%s%s", keys, bindings[b].help, everywhere ? "" : "  (",
                 everywhere ? "" : where, everywhere ? "" : ")");
        return 1;
    }
    return 0;
}

void keys_hint(int view, char *buf, size_t len)
{
    char one[16];
    size_t i, o = 0;

    buf[0] = '\0';
    for (i = 0; i < NBINDINGS && o < len; i++) {
        if (bindings[i].hint == NULL || !(bindings[i].views & VIEW_BIT(view)))
            continue;
        o += (size_t)snprintf(buf + o, len - o, "%s%s %s", o ? "  " : "",
                              keys_name(bindings[i].key, one, sizeof one), bindings[i].hint);
    }
    if (view != MODEL_PROCS && o < len)
        snprintf(buf + o, len - o, "  Esc back");
}
