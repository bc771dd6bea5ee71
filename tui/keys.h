/*
 * The one key table (STYLE.md section 4): {key, views, action, help, hint}. Lookup, the
 * '?' help screen and the hint bar are all generated from it.
 */
#ifndef ES_TUI_KEYS_H
#define ES_TUI_KEYS_H

#include <stddef.h>

#include "tui/model.h"

/* A curses KEY_* code, told apart from a character of the same value. */
#define KEYS_FN(k) ((k) | 0x1000000)
#define VIEW_BIT(v) (1u << (v))
#define VIEW_LISTS                                                                                 \
    (VIEW_BIT(MODEL_PROCS) | VIEW_BIT(MODEL_TIMELINE) | VIEW_BIT(MODEL_TREE) |                     \
     VIEW_BIT(MODEL_EVENT) | VIEW_BIT(MODEL_FINDINGS) | VIEW_BIT(MODEL_QUERY))
#define VIEW_ALL (VIEW_LISTS | VIEW_BIT(MODEL_HELP))

struct binding {
    int key;                          /* a character, or KEYS_FN(KEY_...) */
    unsigned views;                   /* VIEW_BIT()s where the key is live */
    unsigned (*act)(struct model *);  /* changes the model, returns TUI_* flags */
    const char *help;                 /* one line in the '?' screen */
    const char *hint;                 /* a word in the hint bar, NULL: not shown there */
};

/* The binding of key in view, NULL when the key does nothing there. */
const struct binding *keys_lookup(int key, int view);
/* Name of a key as shown to people: "j", "Down", "PgUp", "Enter", "Esc". */
const char *keys_name(int key, char *buf, size_t len);
/*
 * Line i of the help screen (one line per action: its keys, its help, where it works),
 * into buf. Returns 0 past the last line.
 */
int keys_help_line(size_t i, char *buf, size_t len);
/* The hint bar of a view: "Enter open  / filter  ? help  q quit". */
void keys_hint(int view, char *buf, size_t len);

#endif
