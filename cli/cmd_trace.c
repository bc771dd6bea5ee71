/*
 * trace: the story of one business process, from its correlation ID: an indented causal
 * tree (--tree), a text sequence diagram with one column per service (--timeline), or
 * DESIGN.md's JSON document (--json). The graph itself is built by cli/trace_graph.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cmd.h"
#include "cli/trace_graph.h"
#include "cli/trace_out.h"
#include "core/event.h"
#include "core/xmalloc.h"

/* Gaps longer than this between consecutive timeline rows get a row of their own. */
#define TRACE_GAP_US 1000000LL
#define TRACE_TIMELINE_COLS 100 /* width when stdout is not a terminal */
#define TRACE_MIN_COL 12        /* narrowest service column */
#define TRACE_GUTTER 14         /* "09:24:33.325  " */

enum trace_mode { TRACE_TREE, TRACE_TIMELINE, TRACE_JSON };

/* ANSI colours for services, picked by a stable hash of the name. */
static const char *const trace_palette[] = {"36", "33", "35", "32", "34", "91", "96", "93"};

struct trace_style {
    int color;
};

static const char *trace_svc_color(const char *svc)
{
    const char *s = svc ? svc : "?";
    return trace_palette[event_hash(s, strlen(s)) % (sizeof trace_palette / sizeof *trace_palette)];
}

static void trace_sgr(const struct trace_style *ts, const char *code)
{
    if (ts->color)
        printf("\033[%sm", code);
}

/* ---- JSON ---------------------------------------------------------------------------- */

static json_t *trace_vclock_json(const char *vc)
{
    json_error_t jerr;
    json_t *j;

    if (vc == NULL)
        return json_null();
    j = json_loadb(vc, strlen(vc), JSON_REJECT_DUPLICATES, &jerr);
    return j ? j : trace_out_jstr(vc);
}

/* Orders [cause_seq, effect_seq] pairs by cause, then effect. */
static int trace_edge_cmp(const void *x, const void *y)
{
    const int64_t *a = x, *b = y;

    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

static int trace_json(const struct trace_graph *g, const char *cid)
{
    json_t *doc = json_object(), *events = json_array(), *edges = json_array();
    size_t i, k, n, e;
    char t[40];
    int rc;

    json_object_set_new(doc, "correlation_id", trace_out_jstr(cid));
    /* Events in the tree's order (depth-first, causes before effects, earliest first);
     * the observations of one event together, by seq. */
    for (i = 0; i < g->nnodes; i++) {
        const struct trace_node *nd = &g->nodes[g->order[i]];
        for (k = 0; k < nd->nobs; k++) {
            const struct trace_obs *o = &g->obs[nd->obs[k]];
            json_t *ev = json_object(), *fs = json_array();
            json_object_set_new(ev, "seq", json_integer((json_int_t)o->seq));
            json_object_set_new(ev, "id", trace_out_jstr(o->event_id));
            json_object_set_new(ev, "type", trace_out_jstr(o->type));
            json_object_set_new(ev, "source", trace_out_jstr(o->source));
            trace_out_time(o->time_us, TRACE_OUT_RFC3339, t, sizeof t);
            json_object_set_new(ev, "time",
                                o->time_us == ES_TIME_NONE ? json_null() : json_string(t));
            json_object_set_new(ev, "causation_id", trace_out_jstr(o->causation_id));
            json_object_set_new(ev, "parent_seq", o->parent_seq < 0
                                                      ? json_null()
                                                      : json_integer((json_int_t)o->parent_seq));
            json_object_set_new(ev, "depth", json_integer(nd->depth));
            json_object_set_new(ev, "vclock", trace_vclock_json(o->vclock));
            for (n = 0; n < o->nfindings; n++) {
                json_t *f = json_object();
                json_object_set_new(f, "kind", trace_out_jstr(o->findings[n].kind));
                json_object_set_new(f, "severity", trace_out_jstr(o->findings[n].severity));
                json_object_set_new(f, "message", trace_out_jstr(o->findings[n].message));
                json_array_append_new(fs, f);
            }
            json_object_set_new(ev, "findings", fs);
            json_array_append_new(events, ev);
        }
    }
    /* Edges [cause_seq, effect_seq], one per observation with a cause, sorted. g->obs is
     * by seq, so only the cause side needs sorting: collect, then sort pairs. */
    {
        int64_t (*pairs)[2] = xcalloc(g->nobs ? g->nobs : 1, sizeof *pairs);
        for (i = 0, e = 0; i < g->nobs; i++)
            if (g->obs[i].parent_seq >= 0) {
                pairs[e][0] = g->obs[i].parent_seq;
                pairs[e][1] = g->obs[i].seq;
                e++;
            }
        qsort(pairs, e, sizeof *pairs, trace_edge_cmp);
        for (i = 0; i < e; i++) {
            json_t *p = json_array();
            json_array_append_new(p, json_integer((json_int_t)pairs[i][0]));
            json_array_append_new(p, json_integer((json_int_t)pairs[i][1]));
            json_array_append_new(edges, p);
        }
        free(pairs);
    }
    json_object_set_new(doc, "events", events);
    json_object_set_new(doc, "edges", edges);
    rc = trace_out_json(doc);
    json_decref(doc);
    return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_INPUT;
}

/* ---- Shared text pieces ---------------------------------------------------------------- */

/* "×3 (publish, deliver, deliver)" for an event seen more than once, else "". */
static void trace_sightings(const struct trace_graph *g, const struct trace_node *nd, char *buf,
                            size_t len)
{
    size_t k, o;
    char esc[64];

    buf[0] = '\0';
    if (nd->nobs < 2)
        return;
    o = (size_t)snprintf(buf, len, "×%zu (", nd->nobs);
    for (k = 0; k < nd->nobs && o < len; k++) {
        const char *d = g->obs[nd->obs[k]].direction;
        if (k == 6 && nd->nobs > 7) {
            o += (size_t)snprintf(buf + o, len - o, "…");
            break;
        }
        o += (size_t)snprintf(buf + o, len - o, "%s%s", k ? ", " : "",
                              cli_escape(d ? d : "?", esc, sizeof esc));
    }
    if (o < len)
        snprintf(buf + o, len - o, ")");
}

/* Distinct finding kinds of an event's observations, comma-separated; *worst gets 2 for an
 * error, 1 for anything else, 0 for none. */
static void trace_kinds(const struct trace_graph *g, const struct trace_node *nd, char *buf,
                        size_t len, int *worst)
{
    size_t k, f, o = 0;
    char esc[128];

    buf[0] = '\0';
    *worst = 0;
    for (k = 0; k < nd->nobs; k++) {
        const struct trace_obs *ob = &g->obs[nd->obs[k]];
        for (f = 0; f < ob->nfindings; f++) {
            const char *kind = cli_escape(ob->findings[f].kind, esc, sizeof esc);
            if (ob->findings[f].severity && strcmp(ob->findings[f].severity, "error") == 0)
                *worst = 2;
            else if (*worst == 0)
                *worst = 1;
            if (strstr(buf, kind) != NULL || o >= len)
                continue;
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", kind);
        }
    }
}

static void trace_header(const struct trace_graph *g, const char *cid,
                         const struct trace_style *ts)
{
    int64_t lo = ES_TIME_NONE, hi = ES_TIME_NONE;
    char a[40], b[40], d[32];
    size_t i;

    for (i = 0; i < g->nnodes; i++) {
        int64_t t = g->nodes[i].time_us;
        if (t == ES_TIME_NONE)
            continue;
        if (lo == ES_TIME_NONE || t < lo)
            lo = t;
        if (hi == ES_TIME_NONE || t > hi)
            hi = t;
    }
    trace_sgr(ts, "1");
    fputs("trace ", stdout);
    cli_put_escaped(stdout, cid);
    trace_sgr(ts, "0");
    printf(": %zu event%s", g->nnodes, g->nnodes == 1 ? "" : "s");
    if (g->nobs != g->nnodes)
        printf(" (%zu observations)", g->nobs);
    printf(", %zu service%s", g->nsources, g->nsources == 1 ? "" : "s");
    if (lo != ES_TIME_NONE) {
        trace_out_time(lo, TRACE_OUT_DATE, a, sizeof a);
        trace_out_time(hi, TRACE_OUT_DATE, b, sizeof b);
        cli_format_duration(hi - lo, d, sizeof d);
        /* The end's date only when it differs from the start's. */
        printf(", %s → %s (%s)", a, strncmp(a, b, 11) == 0 ? b + 11 : b, d);
    }
    fputs("\n\n", stdout);
}

/* ---- Tree ---------------------------------------------------------------------------- */

/* Tree prefix of node n: "│  " / "   " per ancestor level, then "├─ " / "└─ ". */
static void trace_prefix(const struct trace_graph *g, size_t n, char *buf, size_t len)
{
    size_t chain[256], nchain = 0, i;
    size_t o = 0;
    long cur = (long)n;

    buf[0] = '\0';
    if (g->nodes[n].depth == 0)
        return;
    /* Ancestors from n up to (not including) the root, at most 256 deep shown. */
    while (cur >= 0 && g->nodes[cur].depth > 0 && nchain < 256) {
        chain[nchain++] = (size_t)cur;
        cur = g->nodes[cur].parent;
    }
    for (i = nchain; i-- > 0;) {
        int last = g->nodes[chain[i]].last_kid;
        if (i == 0)
            o += (size_t)snprintf(buf + o, len > o ? len - o : 0, "%s", last ? "└─ " : "├─ ");
        else
            o += (size_t)snprintf(buf + o, len > o ? len - o : 0, "%s", last ? "   " : "│  ");
        if (o >= len)
            break;
    }
}

static int trace_tree(const struct trace_graph *g, const char *cid, const struct trace_style *ts)
{
    char prefix[1024], when[40], delta[32], sight[256], kinds[512], esc[256];
    size_t i, wlabel = 0, w;

    trace_header(g, cid, ts);
    /* Width of "prefix service type" for aligning the columns after it. */
    for (i = 0; i < g->nnodes; i++) {
        const struct trace_obs *o = &g->obs[g->nodes[g->order[i]].obs[0]];
        trace_prefix(g, g->order[i], prefix, sizeof prefix);
        w = trace_out_width(prefix) + 1 +
            trace_out_width(cli_escape(o->source ? o->source : "?", esc, sizeof esc)) +
            trace_out_width(cli_escape(o->type ? o->type : "?", esc, sizeof esc));
        if (w > wlabel)
            wlabel = w;
    }
    if (wlabel > 72)
        wlabel = 72;
    for (i = 0; i < g->nnodes; i++) {
        size_t n = g->order[i];
        const struct trace_node *nd = &g->nodes[n];
        const struct trace_obs *o = &g->obs[nd->obs[0]];
        int worst, pad;

        trace_prefix(g, n, prefix, sizeof prefix);
        fputs(prefix, stdout);
        w = trace_out_width(prefix);
        trace_sgr(ts, trace_svc_color(o->source));
        cli_put_escaped(stdout, o->source ? o->source : "?");
        trace_sgr(ts, "0");
        fputc(' ', stdout);
        w += 1 + trace_out_width(cli_escape(o->source ? o->source : "?", esc, sizeof esc));
        trace_sgr(ts, "1");
        pad = (int)wlabel - (int)w;
        trace_out_cell(stdout, o->type ? o->type : "?", pad > 1 ? pad : 0, 0);
        trace_sgr(ts, "0");

        trace_out_time(nd->time_us, TRACE_OUT_CLOCK, when, sizeof when);
        delta[0] = '\0';
        if (nd->parent >= 0 && !nd->cycle && nd->time_us != ES_TIME_NONE &&
            g->nodes[nd->parent].time_us != ES_TIME_NONE) {
            int64_t d = nd->time_us - g->nodes[nd->parent].time_us;
            delta[0] = d < 0 ? '-' : '+';
            cli_format_duration(d < 0 ? -d : d, delta + 1, sizeof delta - 1);
        }
        printf("  %s  ", when);
        if (delta[0] == '-')
            trace_sgr(ts, "31");
        trace_out_cell(stdout, delta, 9, 1);
        if (delta[0] == '-')
            trace_sgr(ts, "0");
        fputs("  ", stdout);
        trace_sgr(ts, "2");
        cli_put_escaped(stdout, o->event_id ? o->event_id : "(no id)");
        trace_sgr(ts, "0");

        trace_sightings(g, nd, sight, sizeof sight);
        if (sight[0]) {
            fputs("  ", stdout);
            trace_sgr(ts, "33");
            fputs(sight, stdout);
            trace_sgr(ts, "0");
        }
        if (nd->orphan) {
            fputs("  ", stdout);
            trace_sgr(ts, "31");
            fputs("cause ", stdout);
            cli_put_escaped(stdout, o->causation_id);
            fputs(" not seen", stdout);
            trace_sgr(ts, "0");
        }
        if (nd->cycle) {
            fputs("  ", stdout);
            trace_sgr(ts, "31");
            fputs("↻ causation cycle: its cause ", stdout);
            cli_put_escaped(stdout, o->causation_id);
            fputs(" is also its effect", stdout);
            trace_sgr(ts, "0");
        }
        trace_kinds(g, nd, kinds, sizeof kinds, &worst);
        if (kinds[0]) {
            fputs("  ", stdout);
            trace_sgr(ts, worst == 2 ? "31" : "33");
            printf("⚠ %s", kinds);
            trace_sgr(ts, "0");
        }
        fputc('\n', stdout);
    }
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_INPUT;
}

/* ---- Timeline -------------------------------------------------------------------------- */

/* One row of the diagram: a cell (up to one UTF-8 character) per column, plus colours. */
struct trace_row {
    char (*cell)[5];
    const char **sgr; /* colour per cell, NULL for none */
    int width;
};

static void row_put(struct trace_row *r, int x, const char *ch, const char *sgr)
{
    size_t n = strlen(ch);

    if (x < 0 || x >= r->width || n > 4)
        return;
    memcpy(r->cell[x], ch, n + 1);
    r->sgr[x] = sgr;
}

/* Writes escaped text from x on, one code point per cell; returns the column after it. */
static int row_text(struct trace_row *r, int x, const char *s, const char *sgr)
{
    size_t cap = strlen(s) * 4 + 1, n;
    char *buf = xmalloc(cap), *p;

    cli_escape(s, buf, cap);
    for (p = buf; *p && x < r->width; x++) {
        n = 1;
        while (p[n] && ((unsigned char)p[n] & 0xc0) == 0x80 && n < 4)
            n++;
        memcpy(r->cell[x], p, n);
        r->cell[x][n] = '\0';
        r->sgr[x] = sgr;
        p += n;
    }
    free(buf);
    return x;
}

/* Display width of s once escaped. */
static int trace_text_width(const char *s)
{
    size_t cap = strlen(s) * 4 + 1;
    char *buf = xmalloc(cap);
    int w = (int)trace_out_width(cli_escape(s, buf, cap));

    free(buf);
    return w;
}

static void row_reset(struct trace_row *r, const struct trace_graph *g, int cw,
                      const char *lifeline)
{
    size_t c;
    int x;

    for (x = 0; x < r->width; x++) {
        strcpy(r->cell[x], " ");
        r->sgr[x] = NULL;
    }
    for (c = 0; c < g->nsources; c++)
        row_put(r, TRACE_GUTTER + (int)c * cw + cw / 2, lifeline, "2");
}

static void row_print(const struct trace_row *r, const struct trace_style *ts)
{
    const char *cur = NULL;
    int x, last = r->width;

    while (last > 0 && strcmp(r->cell[last - 1], " ") == 0)
        last--;
    for (x = 0; x < last; x++) {
        if (ts->color && r->sgr[x] != cur) {
            fputs("\033[0m", stdout);
            if (r->sgr[x])
                printf("\033[%sm", r->sgr[x]);
            cur = r->sgr[x];
        }
        fputs(r->cell[x], stdout);
    }
    if (ts->color && cur)
        fputs("\033[0m", stdout);
    fputc('\n', stdout);
}

static int trace_timeline(const struct trace_graph *g, const char *cid,
                          const struct trace_style *ts)
{
    int cols = trace_out_cols(stdout, TRACE_TIMELINE_COLS), cw, x, xc, xe, width;
    const size_t *rows = g->bytime;
    size_t i;
    struct trace_row r;
    int64_t prev = ES_TIME_NONE;
    char when[40], delta[40], label[512], sight[256];

    trace_header(g, cid, ts);
    cw = g->nsources ? (cols - TRACE_GUTTER) / (int)g->nsources : cols;
    if (cw < TRACE_MIN_COL)
        cw = TRACE_MIN_COL;
    width = TRACE_GUTTER + cw * (int)g->nsources;
    if (width < cols)
        width = cols;
    r.width = width;
    r.cell = xcalloc((size_t)width, sizeof *r.cell);
    r.sgr = xcalloc((size_t)width, sizeof *r.sgr);

    /* Header: service names centred on their lifelines. */
    row_reset(&r, g, cw, " ");
    for (i = 0; i < g->nsources; i++) {
        char esc[256];
        int len = (int)trace_out_width(cli_escape(g->sources[i], esc, sizeof esc));
        if (len > cw - 1)
            len = cw - 1;
        x = TRACE_GUTTER + (int)i * cw + cw / 2 - len / 2;
        if (len < (int)trace_out_width(esc)) {
            /* Too long for its column: cut, marking the cut. */
            char cut[256];
            size_t o = 0;
            int k;
            const char *p = esc;
            for (k = 0; k < len - 1 && *p; k++) {
                size_t n = 1;
                while (p[n] && ((unsigned char)p[n] & 0xc0) == 0x80)
                    n++;
                memcpy(cut + o, p, n);
                o += n, p += n;
            }
            memcpy(cut + o, "…", sizeof "…");
            row_text(&r, x, cut, trace_svc_color(g->sources[i]));
        } else {
            row_text(&r, x, g->sources[i], trace_svc_color(g->sources[i]));
        }
    }
    row_print(&r, ts);
    row_reset(&r, g, cw, "│");
    row_print(&r, ts);

    for (i = 0; i < g->nnodes; i++) {
        const struct trace_node *nd = &g->nodes[rows[i]];
        const struct trace_obs *o = &g->obs[nd->obs[0]];
        const char *col = trace_svc_color(o->source);
        struct {
            const char *text;
            const char *sgr;
        } pieces[12];
        int worst, np, k, len, lenx, lo, hi;
        char kinds[512];

        if (prev != ES_TIME_NONE && nd->time_us != ES_TIME_NONE &&
            nd->time_us - prev > TRACE_GAP_US) {
            cli_format_duration(nd->time_us - prev, delta, sizeof delta);
            row_reset(&r, g, cw, "┊");
            snprintf(label, sizeof label, "  ⋮ %s", delta);
            row_text(&r, 0, label, "2");
            row_print(&r, ts);
        }
        if (nd->time_us != ES_TIME_NONE)
            prev = nd->time_us;

        row_reset(&r, g, cw, "│");
        trace_out_time(nd->time_us, TRACE_OUT_CLOCK, when, sizeof when);
        row_text(&r, 0, when, "2");
        xe = TRACE_GUTTER + (int)nd->column * cw + cw / 2;
        xc = xe;
        if (nd->parent >= 0 && g->nodes[nd->parent].column != nd->column) {
            const struct trace_node *p = &g->nodes[nd->parent];
            const char *pc = trace_svc_color(g->obs[p->obs[0]].source);
            xc = TRACE_GUTTER + (int)p->column * cw + cw / 2;
            if (xc < xe) {
                row_put(&r, xc, "├", pc);
                for (k = xc + 1; k < xe - 1; k++)
                    row_put(&r, k, "─", pc);
                row_put(&r, xe - 1, "▶", pc);
            } else {
                row_put(&r, xc, "┤", pc);
                for (k = xe + 2; k < xc; k++)
                    row_put(&r, k, "─", pc);
                row_put(&r, xe + 1, "◀", pc);
            }
        }
        row_put(&r, xe, nd->orphan || nd->cycle ? "◌" : "●", col);

        /* Label: type, Δ from the cause, sightings, marks. */
        np = 0;
        delta[0] = '\0';
        if (nd->parent >= 0 && !nd->cycle && nd->time_us != ES_TIME_NONE &&
            g->nodes[nd->parent].time_us != ES_TIME_NONE) {
            int64_t d = nd->time_us - g->nodes[nd->parent].time_us;
            delta[0] = ' ';
            delta[1] = d < 0 ? '-' : '+';
            cli_format_duration(d < 0 ? -d : d, delta + 2, sizeof delta - 2);
        }
        pieces[np].text = o->type ? o->type : "?", pieces[np++].sgr = "1";
        pieces[np].text = delta, pieces[np++].sgr = delta[0] != '\0' && delta[1] == '-' ? "31" : "2";
        trace_sightings(g, nd, sight, sizeof sight);
        if (sight[0]) {
            pieces[np].text = " ", pieces[np++].sgr = NULL;
            pieces[np].text = sight, pieces[np++].sgr = "33";
        }
        if (nd->orphan)
            pieces[np].text = " (cause not seen)", pieces[np++].sgr = "31";
        if (nd->cycle)
            pieces[np].text = " (↻ cycle)", pieces[np++].sgr = "31";
        trace_kinds(g, nd, kinds, sizeof kinds, &worst);
        if (kinds[0]) {
            pieces[np].text = " ⚠ ", pieces[np++].sgr = worst == 2 ? "31" : "33";
            pieces[np].text = kinds, pieces[np++].sgr = worst == 2 ? "31" : "33";
        }
        /* pieces[0..1] (type, Δ) are the main label; the rest are extras. */
        for (k = 0, len = 0, lenx = 0; k < np; k++)
            *(k < 2 ? &len : &lenx) += trace_text_width(pieces[k].text);
        /* Where the label goes: the main part on the arrow if it fits there (extras after
         * the row's rightmost mark), else all of it right of that mark, else left of the
         * leftmost mark, else right, cut. */
        lo = xc < xe ? xc : xe;
        hi = xc < xe ? xe : xc;
        k = 0;
        if (hi - lo - 4 >= len + 2) {
            x = lo + 1 + (hi - lo - 1 - len) / 2;
            row_put(&r, x - 1, " ", NULL);
            row_put(&r, x + len, " ", NULL);
            for (; k < 2; k++)
                x = row_text(&r, x, pieces[k].text, pieces[k].sgr);
            x = hi + 1;
        } else if (hi + 2 + len + lenx <= r.width) {
            x = hi + 2;
        } else if (lo - 1 - len - lenx >= TRACE_GUTTER) {
            x = lo - 1 - len - lenx;
        } else {
            x = hi + 2;
        }
        for (; k < np; k++)
            x = row_text(&r, x, pieces[k].text, pieces[k].sgr);
        if (x >= r.width && r.width > 0)
            row_put(&r, r.width - 1, "…", NULL);
        row_print(&r, ts);
    }
    row_reset(&r, g, cw, "│");
    row_print(&r, ts);
    free(r.cell);
    free(r.sgr);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_INPUT;
}

/* ---- The command ------------------------------------------------------------------------ */

static int exec_trace(int argc, char **argv, const char *db)
{
    enum trace_mode mode = TRACE_TREE;
    struct trace_style ts = {cli_color(stdout)};
    struct trace_graph g;
    struct store *st = NULL;
    const char *cid = NULL;
    int i, rc, ret;

    if (cli_wants_help(argc, argv)) {
        cli_usage(&cmd_trace_entry, stdout);
        return CLI_EXIT_OK;
    }
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            mode = TRACE_JSON;
        else if (strcmp(argv[i], "--tree") == 0)
            mode = TRACE_TREE;
        else if (strcmp(argv[i], "--timeline") == 0)
            mode = TRACE_TIMELINE;
        else if (strcmp(argv[i], "--") == 0 && i + 1 < argc && cid == NULL)
            cid = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1] == '-') {
            cli_error("trace", "unknown option '%s' (see eventscope trace --help)", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (cid == NULL)
            cid = argv[i];
        else {
            cli_error("trace", "one correlation ID at a time ('%s' and '%s')", cid, argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (cid == NULL) {
        cli_error("trace", "which process? give a correlation ID (`eventscope processes` "
                           "lists them)");
        return CLI_EXIT_USAGE;
    }
    if ((rc = cli_open_store("trace", db, STORE_READONLY, &st)) != CLI_EXIT_OK)
        return rc;
    rc = trace_graph_load(store_db(st), cid, &g);
    if (rc == SQLITE_NOTFOUND) {
        cli_error("trace", "no events with correlation ID '%s' in %s (`eventscope processes` "
                           "lists the IDs)",
                  cid, db);
        ret = CLI_EXIT_INPUT;
    } else if (rc != SQLITE_OK) {
        cli_error("trace", "reading %s: %s", db, sqlite3_errmsg(store_db(st)));
        ret = CLI_EXIT_INPUT;
    } else if (mode == TRACE_JSON) {
        ret = trace_json(&g, cid);
    } else if (mode == TRACE_TIMELINE) {
        ret = trace_timeline(&g, cid, &ts);
    } else {
        ret = trace_tree(&g, cid, &ts);
    }
    trace_graph_done(&g);
    store_close(st);
    return ret;
}

static const char trace_help[] =
    "Shows every event of one business process (one correlation ID).\n"
    "\n"
    "  --tree       (default) the causal tree: each event under the event that caused it\n"
    "               (its causation ID is the cause's id), with service, type, time, time\n"
    "               since its cause and id. An event seen several times (same source and\n"
    "               id) is one line marked ×N with the directions; an event whose cause\n"
    "               was never seen is a root marked \"cause ID not seen\"; causation cycles\n"
    "               are cut at their earliest event and marked.\n"
    "  --timeline   a sequence diagram: one column per service, one row per event in time\n"
    "               order, an arrow from the cause's service; pauses over 1s are marked.\n"
    "               Fits the terminal, or 100 columns when not on one.\n"
    "  --json       {\"correlation_id\", \"events\": [{seq, id, type, source, time,\n"
    "               causation_id, parent_seq, depth, vclock, findings: [{kind, severity,\n"
    "               message}]}], \"edges\": [[cause_seq, effect_seq]...]}: one entry per\n"
    "               observation, in tree order; findings are those `analyze` stored.\n"
    "\n"
    "Exit status 3 when the store has no event with this correlation ID.\n"
    "\n"
    "examples:\n"
    "  eventscope trace ord-1042\n"
    "  eventscope trace ord-1042 --timeline\n"
    "  eventscope trace ord-1042 --json | jq '.events[] | select(.findings != [])'\n";

const struct cmd_entry cmd_trace_entry = {"trace", "CORRELATION_ID [--tree|--timeline|--json]",
                                          "the causal tree or timeline of one process",
                                          trace_help, exec_trace};
