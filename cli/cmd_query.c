/*
 * query: runs one of the named SQL files of queries/ (embedded at build time) against the
 * store, binding parameters, and prints an aligned table or a JSON array of objects.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cmd.h"
#include "cli/queries.h"
#include "cli/trace_out.h"
#include "core/xmalloc.h"

#define QUERY_MAX_PARAMS 32

/* One :named parameter of a query file, in order of first appearance. */
struct query_param {
    char name[64];     /* with its prefix, e.g. ":cid" */
    const char *value; /* borrowed from argv; NULL binds SQL NULL */
};

/* The rows of a result, escaped and kept to measure column widths. */
struct query_table {
    int ncols;
    char **head;      /* ncols names */
    int *numeric;     /* per column: every non-NULL value was a number */
    char **cells;     /* nrows * ncols, NULL for SQL NULL */
    size_t nrows, cap;
};

static const struct query_file *query_find(const char *name)
{
    const struct query_file *q;

    for (q = query_files; q->name != NULL; q++)
        if (strcmp(q->name, name) == 0)
            return q;
    return NULL;
}

/* The first header line's text after "-- NAME: ", into buf. */
static void query_purpose(const struct query_file *q, char *buf, size_t len)
{
    const char *s = q->sql, *e;
    size_t n;

    buf[0] = '\0';
    if (strncmp(s, "-- ", 3) != 0)
        return;
    s += 3;
    e = strchr(s, '\n');
    n = e ? (size_t)(e - s) : strlen(s);
    if (n > strlen(q->name) + 1 && strncmp(s, q->name, strlen(q->name)) == 0 &&
        s[strlen(q->name)] == ':') {
        s += strlen(q->name) + 1;
        n -= strlen(q->name) + 1;
        while (n > 0 && *s == ' ')
            s++, n--;
    }
    if (n >= len)
        n = len - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
}

/*
 * 1 when the header documents :name as required: a comment line "--   :name ... (required)"
 * before the first statement.
 */
static int query_param_required(const struct query_file *q, const char *name)
{
    const char *s = q->sql, *e;
    size_t n = strlen(name);

    while (strncmp(s, "--", 2) == 0) {
        e = strchr(s, '\n');
        if (e == NULL)
            e = s + strlen(s);
        const char *p = s + 2;
        while (p < e && *p == ' ')
            p++;
        if ((size_t)(e - p) > n && strncmp(p, name, n) == 0 && p[n] == ' ' &&
            memmem(p, (size_t)(e - p), "(required)", 10) != NULL)
            return 1;
        if (*e == '\0')
            break;
        s = e + 1;
    }
    return 0;
}

static void query_list(void)
{
    const struct query_file *q;
    const char *s, *e, *p;
    char purpose[256];

    for (q = query_files; q->name != NULL; q++) {
        query_purpose(q, purpose, sizeof purpose);
        printf("%-18s %s\n", q->name, purpose);
        /* Parameter lines of the header: "--   :name  text". */
        for (s = q->sql; strncmp(s, "--", 2) == 0; s = e + 1) {
            e = strchr(s, '\n');
            if (e == NULL)
                break;
            for (p = s + 2; p < e && *p == ' '; p++)
                ;
            if (*p == ':' && p - s >= 4)
                printf("%-18s   %.*s\n", "", (int)(e - p), p);
        }
    }
}

/* ---- Parameters ---------------------------------------------------------------------- */

/* Adds the statement's parameters not yet known to ps (order of first appearance). */
static int query_collect(sqlite3_stmt *s, struct query_param *ps, int *np)
{
    int i, k, n = sqlite3_bind_parameter_count(s);
    const char *name;

    for (i = 1; i <= n; i++) {
        name = sqlite3_bind_parameter_name(s, i);
        if (name == NULL)
            return -1; /* "?" parameters cannot be named on the command line */
        for (k = 0; k < *np; k++)
            if (strcmp(ps[k].name, name) == 0)
                break;
        if (k < *np)
            continue;
        if (*np >= QUERY_MAX_PARAMS || strlen(name) >= sizeof ps[0].name)
            return -1;
        snprintf(ps[*np].name, sizeof ps[0].name, "%s", name);
        ps[*np].value = NULL;
        (*np)++;
    }
    return 0;
}

/* 1 when the n bytes at s name parameter pname, with or without its ':' prefix. */
static int query_name_is(const char *pname, const char *s, size_t n)
{
    if (strlen(pname) == n && strncmp(pname, s, n) == 0)
        return 1;
    return strlen(pname + 1) == n && strncmp(pname + 1, s, n) == 0;
}

/* Binds text that is a whole 64-bit integer as an integer, else as text. */
static int query_bind_value(sqlite3_stmt *s, int idx, const char *v)
{
    char *end;
    long long n;

    if (v == NULL)
        return sqlite3_bind_null(s, idx);
    errno = 0;
    n = strtoll(v, &end, 10);
    if (*v != '\0' && *end == '\0' && errno == 0 && (v[0] != '0' || v[1] == '\0') &&
        (v[0] != '+'))
        return sqlite3_bind_int64(s, idx, n);
    return sqlite3_bind_text(s, idx, v, -1, SQLITE_STATIC);
}

static int query_bind(sqlite3_stmt *s, const struct query_param *ps, int np)
{
    int i, k, n = sqlite3_bind_parameter_count(s);
    const char *name;

    for (i = 1; i <= n; i++) {
        name = sqlite3_bind_parameter_name(s, i);
        for (k = 0; k < np; k++)
            if (name && strcmp(ps[k].name, name) == 0)
                break;
        if (k < np && query_bind_value(s, i, ps[k].value) != SQLITE_OK)
            return -1;
    }
    return 0;
}

/* ---- Output -------------------------------------------------------------------------- */

static char *query_text(sqlite3_stmt *s, int col)
{
    const unsigned char *t;
    const unsigned char *b;
    char *out;
    int n, i;

    switch (sqlite3_column_type(s, col)) {
    case SQLITE_NULL:
        return NULL;
    case SQLITE_BLOB:
        b = sqlite3_column_blob(s, col);
        n = sqlite3_column_bytes(s, col);
        out = xmalloc((size_t)n * 2 + 3);
        strcpy(out, "x'");
        for (i = 0; i < n; i++)
            snprintf(out + 2 + 2 * i, 3, "%02x", b[i]);
        strcat(out, "'");
        return out;
    default:
        t = sqlite3_column_text(s, col);
        return xstrdup(t ? (const char *)t : "");
    }
}

static void query_table_add(struct query_table *t, sqlite3_stmt *s)
{
    int c;

    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->cells = xreallocarray(t->cells, t->cap, (size_t)t->ncols * sizeof *t->cells);
    }
    for (c = 0; c < t->ncols; c++) {
        int ty = sqlite3_column_type(s, c);
        if (ty != SQLITE_NULL && ty != SQLITE_INTEGER && ty != SQLITE_FLOAT)
            t->numeric[c] = 0;
        t->cells[t->nrows * (size_t)t->ncols + (size_t)c] = query_text(s, c);
    }
    t->nrows++;
}

static void query_table_print(const struct query_table *t, int color)
{
    size_t *w = xcalloc((size_t)t->ncols, sizeof *w), r, n;
    char buf[1024];
    int c;

    for (c = 0; c < t->ncols; c++) {
        w[c] = trace_out_width(cli_escape(t->head[c], buf, sizeof buf));
        for (r = 0; r < t->nrows; r++) {
            const char *v = t->cells[r * (size_t)t->ncols + (size_t)c];
            size_t cap = v ? strlen(v) * 4 + 1 : 1;
            char *tmp = xmalloc(cap);
            n = v ? trace_out_width(cli_escape(v, tmp, cap)) : 0;
            free(tmp);
            if (n > w[c])
                w[c] = n;
        }
    }
    for (c = 0; c < t->ncols; c++) {
        if (color)
            fputs("\033[1m", stdout);
        trace_out_cell(stdout, t->head[c], c + 1 < t->ncols ? (int)w[c] : 0, t->numeric[c]);
        if (color)
            fputs("\033[0m", stdout);
        fputs(c + 1 < t->ncols ? "  " : "\n", stdout);
    }
    for (c = 0; c < t->ncols; c++) {
        for (n = 0; n < w[c]; n++)
            fputc('-', stdout);
        fputs(c + 1 < t->ncols ? "  " : "\n", stdout);
    }
    for (r = 0; r < t->nrows; r++)
        for (c = 0; c < t->ncols; c++) {
            const char *v = t->cells[r * (size_t)t->ncols + (size_t)c];
            int last = c + 1 == t->ncols;
            trace_out_cell(stdout, v ? v : "", last && !t->numeric[c] ? 0 : (int)w[c],
                           t->numeric[c]);
            fputs(last ? "\n" : "  ", stdout);
        }
    free(w);
}

static void query_table_free(struct query_table *t)
{
    size_t i;
    int c;

    for (i = 0; i < t->nrows * (size_t)t->ncols; i++)
        free(t->cells[i]);
    for (c = 0; t->head != NULL && c < t->ncols; c++)
        free(t->head[c]);
    free(t->cells);
    free(t->head);
    free(t->numeric);
    memset(t, 0, sizeof *t);
}

static json_t *query_json_row(sqlite3_stmt *s)
{
    json_t *o = json_object();
    int c, n = sqlite3_column_count(s);
    char *txt;

    for (c = 0; c < n; c++) {
        const char *name = sqlite3_column_name(s, c);
        json_t *v;
        switch (sqlite3_column_type(s, c)) {
        case SQLITE_NULL: v = json_null(); break;
        case SQLITE_INTEGER: v = json_integer(sqlite3_column_int64(s, c)); break;
        case SQLITE_FLOAT: v = json_real(sqlite3_column_double(s, c)); break;
        default:
            txt = query_text(s, c);
            v = trace_out_jstr(txt);
            free(txt);
        }
        json_object_set_new(o, name ? name : "?", v);
    }
    return o;
}

/* ---- The command --------------------------------------------------------------------- */

static int exec_query(int argc, char **argv, const char *db)
{
    struct query_param ps[QUERY_MAX_PARAMS];
    const char *name = NULL, *args[QUERY_MAX_PARAMS], *tail;
    const struct query_file *q;
    struct query_table tbl;
    struct store *st = NULL;
    sqlite3_stmt *s = NULL;
    sqlite3 *h;
    int json = 0, list = 0, nargs = 0, np = 0, i, k, rc, ret = CLI_EXIT_OK, rows = 0;
    int color = cli_color(stdout), first = 1;

    if (cli_wants_help(argc, argv)) {
        cli_usage(&cmd_query_entry, stdout);
        return CLI_EXIT_OK;
    }
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--list") == 0 || strcmp(argv[i], "-l") == 0)
            list = 1;
        else if (strcmp(argv[i], "--") == 0) {
            for (i++; i < argc; i++) {
                if (name == NULL)
                    name = argv[i];
                else if (nargs < QUERY_MAX_PARAMS)
                    args[nargs++] = argv[i];
                else {
                    cli_error("query", "too many parameters (at most %d)", QUERY_MAX_PARAMS);
                    return CLI_EXIT_USAGE;
                }
            }
        } else if (argv[i][0] == '-' && argv[i][1] == '-' && name == NULL) {
            cli_error("query", "unknown option '%s' (see eventscope query --help)", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (name == NULL)
            name = argv[i];
        else if (nargs < QUERY_MAX_PARAMS)
            args[nargs++] = argv[i];
        else {
            cli_error("query", "too many parameters (at most %d)", QUERY_MAX_PARAMS);
            return CLI_EXIT_USAGE;
        }
    }
    if (list) {
        query_list();
        return CLI_EXIT_OK;
    }
    if (name == NULL) {
        cli_error("query", "which query? `eventscope query --list` shows them");
        return CLI_EXIT_USAGE;
    }
    q = query_find(name);
    if (q == NULL) {
        cli_error("query", "no query named '%s': `eventscope query --list` shows them", name);
        return CLI_EXIT_USAGE;
    }
    if ((rc = cli_open_store("query", db, STORE_READONLY, &st)) != CLI_EXIT_OK)
        return rc;
    h = store_db(st);

    /* Pass 1: the parameters of every statement, in order of first appearance. */
    for (tail = q->sql; tail && *tail;) {
        rc = sqlite3_prepare_v2(h, tail, -1, &s, &tail);
        if (rc != SQLITE_OK) {
            cli_error("query", "%s.sql does not prepare on %s: %s", name, db, sqlite3_errmsg(h));
            ret = CLI_EXIT_INPUT;
            goto done;
        }
        if (s == NULL)
            break;
        if (query_collect(s, ps, &np) != 0) {
            cli_error("query", "%s.sql: use :named parameters (at most %d)", name,
                      QUERY_MAX_PARAMS);
            ret = CLI_EXIT_INPUT;
            goto done;
        }
        sqlite3_finalize(s);
        s = NULL;
    }
    /* name=value first, then positional values fill the rest in order. */
    for (i = 0; i < nargs; i++) {
        const char *eq = strchr(args[i], '=');
        if (eq == NULL)
            continue;
        for (k = 0; k < np; k++)
            if (query_name_is(ps[k].name, args[i], (size_t)(eq - args[i])))
                break;
        if (k < np) {
            ps[k].value = eq + 1;
            args[i] = NULL;
        }
    }
    for (i = 0, k = 0; i < nargs; i++) {
        if (args[i] == NULL)
            continue;
        while (k < np && ps[k].value != NULL)
            k++;
        if (k >= np) {
            cli_error("query", "%s takes %d parameter%s, '%s' is one too many", name, np,
                      np == 1 ? "" : "s", args[i]);
            ret = CLI_EXIT_USAGE;
            goto done;
        }
        ps[k++].value = args[i];
    }
    for (k = 0; k < np; k++)
        if (ps[k].value == NULL && query_param_required(q, ps[k].name)) {
            cli_error("query", "%s needs %s: eventscope query %s VALUE (or %s=VALUE)", name,
                      ps[k].name, name, ps[k].name + 1);
            ret = CLI_EXIT_USAGE;
            goto done;
        }

    /* Pass 2: run every statement, printing the rows of those that return any. */
    if (json)
        fputs("[", stdout);
    for (tail = q->sql; tail && *tail;) {
        rc = sqlite3_prepare_v2(h, tail, -1, &s, &tail);
        if (rc != SQLITE_OK || s == NULL)
            break;
        if (query_bind(s, ps, np) != 0) {
            cli_error("query", "%s: binding parameters: %s", name, sqlite3_errmsg(h));
            ret = CLI_EXIT_INPUT;
            goto done;
        }
        memset(&tbl, 0, sizeof tbl);
        tbl.ncols = sqlite3_column_count(s);
        if (tbl.ncols > 0 && !json) {
            tbl.head = xcalloc((size_t)tbl.ncols, sizeof *tbl.head);
            tbl.numeric = xcalloc((size_t)tbl.ncols, sizeof *tbl.numeric);
            for (i = 0; i < tbl.ncols; i++) {
                const char *cn = sqlite3_column_name(s, i);
                tbl.head[i] = xstrdup(cn ? cn : "?");
                tbl.numeric[i] = 1;
            }
        }
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            rows++;
            if (json) {
                json_t *o = query_json_row(s);
                fputs(first ? "\n" : ",\n", stdout);
                json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
                json_decref(o);
                first = 0;
            } else if (tbl.ncols > 0) {
                query_table_add(&tbl, s);
            }
        }
        if (rc != SQLITE_DONE) {
            cli_error("query", "%s: %s", name, sqlite3_errmsg(h));
            query_table_free(&tbl);
            ret = CLI_EXIT_INPUT;
            goto done;
        }
        if (!json && tbl.ncols > 0)
            query_table_print(&tbl, color);
        query_table_free(&tbl);
        sqlite3_finalize(s);
        s = NULL;
    }
    if (json)
        fputs("\n]\n", stdout);
    if (!json && color)
        fprintf(stderr, "(%d row%s)\n", rows, rows == 1 ? "" : "s");

done:
    sqlite3_finalize(s);
    store_close(st);
    return ret;
}

static const char query_help[] =
    "Runs a named SQL file of queries/ (embedded in the binary) against the store.\n"
    "Parameters bind to the query's :named parameters in order of appearance, or by\n"
    "name as NAME=VALUE; unset optional parameters are NULL. Every file also runs as is\n"
    "with sqlite3 (its header says how).\n"
    "\n"
    "options:\n"
    "  --list     the queries, what they answer and their parameters\n"
    "  --json     a JSON array of objects (one per row, columns as keys)\n"
    "\n"
    "examples:\n"
    "  eventscope query --list\n"
    "  eventscope query trace ord-1042\n"
    "  eventscope query hop-latency min_count=10\n"
    "  eventscope query duplicate-ids --json | jq '.[].event_id'\n";

const struct cmd_entry cmd_query_entry = {
    "query", "NAME [PARAM...|NAME=VALUE...] [--json] | --list",
    "run a named SQL query (queries/*.sql) on the store", query_help, exec_query};
