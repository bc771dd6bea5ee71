/*
 * The TUI model (STYLE.md section 4): plain structs filled from store queries — the
 * process list, one open process (timeline and causal tree), one event's detail, the
 * findings, a query result — with selections, scroll offsets, filters and the prompt.
 * No curses here: views draw a model, tui.c feeds it keys through tui/keys.c.
 *
 * Strings in the model are owned by it and escaped only when drawn (tui/text.h).
 * Every model_* function that reads the store returns TUI_* flags or ES_* codes as
 * documented; errors land in model->msg for the status line, nothing is printed.
 */
#ifndef ES_TUI_MODEL_H
#define ES_TUI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "analyzer/config.h"
#include "analyzer/status.h"

/* What an action asks the loop to do next (htop's Htop_Reaction). */
enum tui_flags {
    TUI_REDRAW = 1 << 0, /* the body changed */
    TUI_STATUS = 1 << 1, /* the status or hint line changed */
    TUI_RELOAD = 1 << 2, /* re-read the store, then redraw */
    TUI_QUIT = 1 << 3,
};

enum model_view {
    MODEL_PROCS,
    MODEL_TIMELINE,
    MODEL_TREE,
    MODEL_EVENT,
    MODEL_FINDINGS,
    MODEL_QUERY,
    MODEL_HELP,
    MODEL_NVIEWS
};

enum model_status { STATUS_COMPLETED, STATUS_FAILED, STATUS_IN_FLIGHT, STATUS_STUCK, STATUS_N };

enum model_sort {
    SORT_ID,
    SORT_START,
    SORT_DURATION,
    SORT_EVENTS,
    SORT_SERVICES,
    SORT_STATUS,
    SORT_FINDINGS,
    SORT_N
};

enum model_prompt_kind { PROMPT_NONE, PROMPT_SEARCH, PROMPT_FILTER, PROMPT_QUERY };

/* A scrollable list: n rows, the selected one and the first one shown. */
struct model_list {
    size_t sel; /* < n, or 0 when n == 0 */
    size_t top; /* first row drawn; sel stays within [top, top + page) */
    size_t n;
};

/* One process (correlation ID) of the process list. */
struct model_procrow {
    char *cid;
    int64_t first_us, last_us; /* earliest/latest event time, ES_TIME_NONE if none */
    int64_t n_events;
    int64_t max_seq;           /* highest seq folded in */
    uint32_t *svc, n_svc;      /* interned sources, unique, order of first sighting */
    uint32_t *types, n_types;  /* interned types, unique */
    uint32_t last_type;        /* type of the latest event by time (intern id, 0 = none) */
    int failed;                /* some event type names a failure */
    int n_findings;
    int status;                /* enum model_status, see model_proc_status() */
};

struct model_intern {
    char **s;          /* s[0] is "" (id 0 = none) */
    unsigned char *cls; /* per id: MODEL_CLS_* bits of the type words it contains */
    uint32_t n, cap;
    uint32_t *slot;    /* open addressing: id or UINT32_MAX */
    size_t nslot;
};

struct model_cidmap { /* correlation ID -> row index or findings count */
    int borrowed;      /* keys belong to the caller (not copied, not freed) */
    char **key;
    int64_t *val;
    size_t n, nslot;
};

struct model_procs {
    struct model_procrow *rows; /* the full summary (complete when full is set) */
    size_t n, cap;
    struct model_procrow *win;  /* paged mode: a window of processes in cid order */
    size_t nwin;
    size_t *idx, nidx;          /* full mode: filtered and sorted order */
    int full;                   /* 1 when rows holds every process */
    int64_t hw_seq;             /* full build: events folded up to this seq */
    int64_t build_total;        /* max(seq) when the build started (progress) */
    int at_start, at_end;       /* paged: the window touches the first/last process */
    struct model_cidmap map;    /* cid -> index in rows (full mode) */
    struct model_list list;
    int sort, desc;
    char text[128];             /* text filter ('/') */
    int f_status;               /* -1 any, else enum model_status */
    char f_service[64], f_type[64];
    int f_findings;             /* only processes with findings */
    int want_full;              /* a sort or filter waits for the full build */
};

struct model_ev {
    int64_t seq;
    char *event_id, *type, *source, *causation_id, *direction, *location;
    int64_t time_us;            /* producer time, else observed time, else ES_TIME_NONE */
    int lane;                   /* index into proc.lanes */
    long parent;                /* index of the cause in proc.ev, -1 */
    int depth;                  /* in the causal tree */
    int nchild;
    int concurrent;             /* a sibling from another source reacts to the same cause */
    int n_findings;
    int sev;                    /* worst severity of its findings: 0 none, 1 low .. 3 high */
    int collapsed;              /* tree: children hidden */
    int loop_root;              /* tree: shown as a root though it has a cause (a loop) */
};

struct model_finding {
    int64_t id;
    char *kind, *severity, *cid, *message;
    int64_t event_seq, related_seq; /* 0 when absent */
    int header;                     /* findings view: a group header row (kind, count) */
    int collapsed;                  /* header rows: the group's findings are hidden */
    int count;                      /* header rows: findings of this kind */
};

struct model_proc {
    char *cid;                 /* NULL when no process is open */
    struct model_ev *ev;       /* ordered by time, then seq */
    size_t n;
    char **lanes;              /* sources in order of first appearance */
    size_t nlanes;
    size_t hscroll;            /* first lane shown */
    int64_t max_seq, first_us, last_us;
    struct model_list tl;      /* timeline rows = ev */
    size_t *kid0, *kids;       /* children of ev[i]: kids[kid0[i] .. kid0[i+1]) */
    size_t *tree;              /* visible tree rows: indices into ev */
    struct model_list tr;
    struct model_finding *f;   /* findings of the process */
    size_t nf;
    char **blocks;             /* the events' strings live here (one free per block) */
    size_t nblocks, used, cap; /* bytes used / available in the last block */
};

struct model_line {
    char *text;
    int section;               /* a section title */
    int depth;                 /* payload: nesting depth */
    long fold_end;             /* payload: index of the closing line of this block, -1 */
    int folded;
    int64_t seq;               /* a sighting or finding: event to open on Enter, 0 */
};

struct model_detail {
    int64_t seq;               /* 0 when none */
    struct model_line *l;
    size_t n;
    size_t *vis;               /* visible lines (folds applied) */
    struct model_list list;
};

struct model_findings {
    struct model_finding *r;   /* headers and items, grouped by kind */
    size_t n;
    size_t *vis;               /* rows shown (collapsed groups skipped): indices into r */
    struct model_list list;
    int64_t total;
};

struct model_query {
    char *label;               /* what was run */
    char **cols;
    size_t ncols;
    char **cells;              /* nrows * ncols, NULL = SQL NULL */
    size_t nrows;
    size_t hscroll;            /* first column shown */
    struct model_list list;
    int truncated;             /* more rows than MODEL_QUERY_MAX */
};

struct model_prompt {
    int kind;                  /* enum model_prompt_kind */
    char buf[256];
    size_t len;
};

struct model {
    sqlite3 *db;               /* borrowed */
    struct analyzer_config cfg; /* status rules (stuck_after_us...) */
    struct analyzer_status *status; /* analyzer's status rules; NULL: word heuristics */
    int view;                  /* enum model_view */
    int stack[16];             /* views to go back to */
    int depth;
    size_t page;               /* rows a list shows; set by the loop */
    int64_t newest_us;         /* newest event time in the store: 'stuck' is relative to it */
    int64_t stuck_us;          /* no event for this long (and not ended) = stuck */
    int64_t data_version;      /* PRAGMA data_version at the last poll */
    int64_t findings_sig;      /* count and max id of findings at the last poll */
    struct model_intern in;
    struct model_cidmap fcount; /* cid -> findings count */
    struct model_procs procs;
    struct model_proc proc;
    struct model_detail det;
    struct model_findings fnd;
    struct model_query q;
    struct model_prompt prompt;
    char search[128];          /* last '/' search in the list views */
    char msg[256];             /* status line */
    int help_top;              /* help view scroll */
};

#define MODEL_QUERY_MAX 10000     /* rows a query result keeps */
#define MODEL_FINDINGS_MAX 100000 /* findings the findings view loads */
#define MODEL_FULL_AT_OPEN 50000 /* stores with fewer events are summarised at open */

/*
 * Fills m for db (borrowed, must outlive m) and loads the process list. stuck_us > 0
 * overrides how long a silent process takes to count as stuck. ES_OK or ES_ESTORE.
 */
int model_init(struct model *m, sqlite3 *db, int64_t stuck_us);
void model_done(struct model *m);

/*
 * Test hook (STYLE.md 5): stores with at least n events open in paged mode (default
 * MODEL_FULL_AT_OPEN), so tests reach the keyset paging with a few hundred rows.
 */
void model_set_full_threshold(int64_t n);

/* Text of an enum model_status ("completed", "failed", "in flight", "stuck"). */
const char *model_status_name(int st);
/* Column names of enum model_sort. */
const char *model_sort_name(int sort);
/* Text of an interned id (borrowed, valid for the model's life). */
const char *model_str(const struct model *m, uint32_t id);

/*
 * The status of one process, the one place that decides it: analyzer/status.h's rule
 * (analyzer_status_classify on the latest event) whenever its context could be set up
 * cheaply (small store, or the cache `analyze` leaves in meta). Otherwise an estimate from
 * words: completed when the latest event names an end (…Completed, …Shipped…), failed
 * when an event names a failure and none ends it, stuck when silent for stuck_us before
 * the newest event of the store, else in flight.
 */
int model_proc_status(const struct model *m, const struct model_procrow *r);

/* The current list, NULL for views without one. */
struct model_list *model_cur_list(struct model *m);
/* Moves the selection of the current list by delta rows (fetching pages when needed). */
unsigned model_move(struct model *m, long delta);
/* Selects row i of the current list (clamped). */
unsigned model_select(struct model *m, size_t i);
unsigned model_home(struct model *m);
unsigned model_end(struct model *m);

/* Process list. */
struct model_procrow *model_proc_at(struct model *m, size_t i); /* i-th row shown */
unsigned model_sort_by(struct model *m, int sort);      /* same column again reverses */
unsigned model_sort_reverse(struct model *m);
/* Parses "status=failed service=pay type=OrderPlaced findings text..."; "" clears. */
unsigned model_filter(struct model *m, const char *spec);
unsigned model_filter_text(struct model *m, const char *text);
unsigned model_toggle_findings_filter(struct model *m);
unsigned model_cycle_status_filter(struct model *m);
/* Folds up to budget new events into the full summary. TUI_REDRAW when it changed. */
unsigned model_build_step(struct model *m, int64_t budget);
/* Checks the store for new rows (data_version) and refreshes what is shown. */
unsigned model_poll(struct model *m);

/* Opens the timeline of a process, selecting the event with seq (0: the first). */
unsigned model_open_process(struct model *m, const char *cid, int64_t seq);
unsigned model_open_tree(struct model *m);
unsigned model_tree_toggle(struct model *m);          /* collapse/expand the selected node */
unsigned model_tree_set(struct model *m, int collapsed);
unsigned model_hscroll(struct model *m, long delta);  /* timeline lanes / query columns */
/* Opens the detail of the event with seq. */
unsigned model_open_event(struct model *m, int64_t seq);
unsigned model_detail_toggle(struct model *m);        /* fold/unfold or follow a sighting */
unsigned model_open_findings(struct model *m);
unsigned model_finding_jump(struct model *m);
unsigned model_findings_toggle(struct model *m);      /* fold/unfold the selected group */
/* The i-th finding row shown (header or item), NULL past the end. */
struct model_finding *model_finding_at(struct model *m, size_t i);
/* Runs a named query ("name arg...") or raw SQL; only read-only statements. */
unsigned model_run_query(struct model *m, const char *text);

/* Enter on the current view: the natural next step. */
unsigned model_enter(struct model *m);
unsigned model_back(struct model *m);
unsigned model_next_view(struct model *m);
unsigned model_show_help(struct model *m);

/* Search in the current list: sets the needle (NULL keeps it), moves to the next match. */
unsigned model_search(struct model *m, const char *needle, int dir);
/* Text of row i of the current view's list, for searching (buf is filled, returned). */
const char *model_row_text(struct model *m, size_t i, char *buf, size_t len);

/* The prompt: open, type, submit. */
unsigned model_prompt_open(struct model *m, int kind);
unsigned model_prompt_submit(struct model *m);

#endif
