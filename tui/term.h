/*
 * The terminal's life cycle, in one place (STYLE.md section 4): curses init and teardown,
 * resize, colour roles with a monochrome fallback (NO_COLOR honoured), UTF-8 line drawing
 * with an ASCII fallback, and restoring the terminal on SIGINT/SIGTERM/SIGSEGV before any
 * message. Also the one drawing primitive every view uses for text: term_print().
 */
#ifndef ES_TUI_TERM_H
#define ES_TUI_TERM_H

#include <curses.h>

enum term_role {
    ROLE_NORMAL,
    ROLE_TITLE,    /* view title line */
    ROLE_HEADER,   /* column headers */
    ROLE_SELECTED, /* the selected row */
    ROLE_DIM,      /* secondary text: times, gaps, locations */
    ROLE_STATUS,   /* status line */
    ROLE_HINT,     /* hint bar text */
    ROLE_KEY,      /* key names in the hint bar and help */
    ROLE_OK,       /* completed */
    ROLE_FAIL,     /* failed, high severity */
    ROLE_FLIGHT,   /* in flight */
    ROLE_STUCK,    /* stuck, medium severity */
    ROLE_FINDING,  /* an event with findings */
    ROLE_LINK,     /* causal links */
    ROLE_SECTION,  /* section titles in the event detail */
    ROLE_LANE0,    /* lane colours: ROLE_LANE0 + (lane % TERM_LANES) */
    ROLE_N = ROLE_LANE0 + 6
};
#define TERM_LANES 6

/* Line-drawing glyphs: UTF-8 box drawing, or ASCII. */
struct term_glyphs {
    const char *vline, *hline, *arrow, *dot, *tee, *elbow, *open, *closed, *conc, *warn, *more,
        *larrow, *rtee;
};

struct term {
    int ascii;                /* ASCII only: --ascii or a non-UTF-8 locale */
    int color;                /* colours in use */
    int colors256;            /* 256-colour palette available */
    struct term_glyphs g;
    WINDOW *body, *status, *hint;
};

/*
 * Takes the terminal: locale, curses (newterm on /dev/null when offscreen is set, for
 * benchmarks: size from $LINES/$COLUMNS), colours, mouse, the windows, signal handlers
 * and an atexit teardown. Returns 0, or -1 when no terminal could be set up.
 */
int term_init(struct term *t, int ascii, int no_color, int offscreen);
/* Gives the terminal back (idempotent, safe to call from anywhere). */
void term_done(void);
/* After KEY_RESIZE: recreates the windows for the new size. */
void term_resize(struct term *t);
/* The terminal set up by term_init (borrowed). */
const struct term *term_get(void);
/* Attributes of a role (colour pair or, in monochrome, bold/reverse/underline). */
attr_t term_attr(int role);

/*
 * Prints s at (y, x) in at most width columns with attributes a, escaped through
 * text_escape() first, so no byte of s can move the cursor. Wide characters are measured;
 * with pad set the rest of width is filled with spaces. Returns the columns used.
 */
int term_print(WINDOW *w, int y, int x, int width, attr_t a, int pad, const char *s);
/* Display width of s once escaped, as term_print would draw it. */
int term_width(const char *s);

#endif
