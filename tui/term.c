/* Terminal life cycle and text output (htop's CRT.c does the same job). */
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "tui/term.h"
#include "tui/text.h"

#define TEXT_MAX 4096 /* bytes of one escaped string drawn at once */

static struct term *cur;
static volatile sig_atomic_t active;
static SCREEN *screen;
static FILE *offscreen_out, *offscreen_in;
static attr_t roles[ROLE_N];

static const struct term_glyphs glyphs_utf8 = {"│", "─", "▶", "●", "├", "└", "▾", "▸", "∥", "!", "…", "◀", "┤"};
static const struct term_glyphs glyphs_ascii = {"|", "-", ">", "o", "+", "`", "v", ">", "=", "!", "~", "<", "+"};

void term_done(void)
{
    if (!active)
        return;
    active = 0;
    endwin();
    if (screen != NULL) {
        delscreen(screen);
        screen = NULL;
    }
    if (offscreen_out != NULL)
        fclose(offscreen_out), offscreen_out = NULL;
    if (offscreen_in != NULL)
        fclose(offscreen_in), offscreen_in = NULL;
}

/* Gives the terminal back, then lets the signal do what it would have done. */
static void on_fatal(int sig)
{
    static const char crash[] = "eventscope tui: crashed; terminal restored\n";

    if (active) {
        active = 0;
        endwin();
    }
    if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGABRT)
        (void)!write(STDERR_FILENO, crash, sizeof crash - 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void set_roles(struct term *t)
{
    /* colour, 256-colour, monochrome */
    static const struct {
        short fg, fg256;
        attr_t extra, mono;
    } spec[ROLE_N] = {
        [ROLE_NORMAL] = {-1, -1, 0, 0},
        [ROLE_TITLE] = {COLOR_CYAN, 39, A_BOLD, A_BOLD},
        [ROLE_HEADER] = {COLOR_YELLOW, 179, A_BOLD, A_BOLD | A_UNDERLINE},
        [ROLE_SELECTED] = {-1, -1, A_REVERSE, A_REVERSE},
        [ROLE_DIM] = {COLOR_BLUE, 244, 0, A_DIM},
        [ROLE_STATUS] = {COLOR_CYAN, 117, A_BOLD, A_BOLD},
        [ROLE_HINT] = {-1, 250, 0, 0},
        [ROLE_KEY] = {COLOR_YELLOW, 221, A_BOLD, A_BOLD},
        [ROLE_OK] = {COLOR_GREEN, 114, 0, 0},
        [ROLE_FAIL] = {COLOR_RED, 203, A_BOLD, A_BOLD},
        [ROLE_FLIGHT] = {COLOR_CYAN, 81, 0, 0},
        [ROLE_STUCK] = {COLOR_MAGENTA, 213, A_BOLD, A_UNDERLINE},
        [ROLE_FINDING] = {COLOR_RED, 209, A_BOLD, A_BOLD},
        [ROLE_LINK] = {COLOR_BLUE, 110, 0, 0},
        [ROLE_SECTION] = {COLOR_YELLOW, 179, A_BOLD, A_BOLD | A_UNDERLINE},
        [ROLE_LANE0] = {COLOR_GREEN, 77, 0, 0},
        [ROLE_LANE0 + 1] = {COLOR_CYAN, 75, 0, 0},
        [ROLE_LANE0 + 2] = {COLOR_MAGENTA, 176, 0, 0},
        [ROLE_LANE0 + 3] = {COLOR_YELLOW, 186, 0, 0},
        [ROLE_LANE0 + 4] = {COLOR_BLUE, 111, 0, 0},
        [ROLE_LANE0 + 5] = {COLOR_WHITE, 252, 0, 0},
    };
    int i;

    for (i = 0; i < ROLE_N; i++) {
        if (!t->color) {
            roles[i] = spec[i].mono;
            continue;
        }
        init_pair((short)(i + 1), t->colors256 ? spec[i].fg256 : spec[i].fg, -1);
        roles[i] = COLOR_PAIR(i + 1) | spec[i].extra;
    }
}

static void make_windows(struct term *t)
{
    int h = LINES > 3 ? LINES - 2 : 1;

    if (t->body)
        delwin(t->body), delwin(t->status), delwin(t->hint);
    t->body = newwin(h, COLS, 0, 0);
    t->status = newwin(1, COLS, LINES > 2 ? LINES - 2 : 0, 0);
    t->hint = newwin(1, COLS, LINES > 1 ? LINES - 1 : 0, 0);
    keypad(t->body, TRUE);
    leaveok(t->body, TRUE);
    leaveok(t->status, TRUE);
    leaveok(t->hint, TRUE);
}

int term_init(struct term *t, int ascii, int no_color, int offscreen)
{
    const char *nc = getenv("NO_COLOR"), *cs;
    struct sigaction sa;
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGABRT};
    size_t i;

    memset(t, 0, sizeof *t);
    setlocale(LC_ALL, "");
    cs = nl_langinfo(CODESET);
    t->ascii = ascii || cs == NULL || strcmp(cs, "UTF-8") != 0;
    t->g = t->ascii ? glyphs_ascii : glyphs_utf8;
    set_escdelay(25);
    if (offscreen) {
        offscreen_out = fopen("/dev/null", "w");
        offscreen_in = fopen("/dev/null", "r");
        if (offscreen_out == NULL || offscreen_in == NULL)
            return -1;
        screen = newterm(getenv("TERM") ? NULL : "xterm-256color", offscreen_out, offscreen_in);
        if (screen == NULL)
            return -1;
    } else if (initscr() == NULL) {
        return -1;
    }
    cur = t;
    active = 1;
    atexit(term_done);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    cbreak();
    noecho();
    nonl();
    curs_set(0);
    t->color = !no_color && !(nc != NULL && *nc != '\0') && has_colors();
    if (t->color) {
        start_color();
        use_default_colors();
        t->colors256 = COLORS >= 256;
    }
    set_roles(t);
    mousemask(BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(150);
    make_windows(t);
    return 0;
}

void term_resize(struct term *t)
{
    if (!active)
        return;
    endwin();
    refresh();
    clear();
    wnoutrefresh(stdscr);
    make_windows(t);
}

const struct term *term_get(void)
{
    return cur;
}

attr_t term_attr(int role)
{
    return role >= 0 && role < ROLE_N ? roles[role] : 0;
}

int term_width(const char *s)
{
    char buf[TEXT_MAX];
    const char *p;
    mbstate_t ps;
    wchar_t wc;
    size_t n;
    int w = 0, cw;

    text_escape(s, buf, sizeof buf, cur ? cur->ascii : 0);
    memset(&ps, 0, sizeof ps);
    for (p = buf; *p; p += n) {
        n = mbrtowc(&wc, p, strlen(p), &ps);
        if (n == 0 || n == (size_t)-1 || n == (size_t)-2) {
            memset(&ps, 0, sizeof ps);
            n = 1;
            w++;
            continue;
        }
        cw = wcwidth(wc);
        w += cw < 0 ? 1 : cw;
    }
    return w;
}

int term_print(WINDOW *w, int y, int x, int width, attr_t a, int pad, const char *s)
{
    char buf[TEXT_MAX];
    const char *p;
    mbstate_t ps;
    wchar_t wc, one[2];
    size_t n;
    int used = 0, cw;

    if (x + width > getmaxx(w)) /* never wrap onto the next line */
        width = getmaxx(w) - x;
    if (width <= 0 || y < 0 || y >= getmaxy(w))
        return 0;
    text_escape(s, buf, sizeof buf, cur ? cur->ascii : 0);
    wattr_set(w, a, PAIR_NUMBER(a), NULL);
    wmove(w, y, x);
    memset(&ps, 0, sizeof ps);
    for (p = buf; *p; p += n) {
        n = mbrtowc(&wc, p, strlen(p), &ps);
        if (n == 0 || n == (size_t)-1 || n == (size_t)-2) {
            memset(&ps, 0, sizeof ps);
            n = 1;
            wc = L'?';
        }
        cw = wcwidth(wc);
        if (cw < 0)
            wc = L'?', cw = 1;
        if (used + cw > width)
            break;
        one[0] = wc;
        one[1] = L'\0';
        if (cw > 0)
            waddnwstr(w, one, 1);
        used += cw;
    }
    for (; pad && used < width; used++)
        waddch(w, ' ');
    wattr_set(w, A_NORMAL, 0, NULL);
    return used;
}
