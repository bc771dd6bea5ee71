/*
 * processes: one line per business process (correlation ID) with its first and last time,
 * duration, event count, services, last event type and finding counts. Aggregated in SQL
 * along the events_correlation index; the per-process details are fetched only for the
 * rows printed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analyzer/status.h"
#include "cli/cmd.h"
#include "cli/trace_out.h"
#include "core/event.h"
#include "core/xmalloc.h"

/* One process as printed. Strings owned. */
struct proc_row {
    char *cid;         /* correlation ID */
    int64_t first_us;  /* earliest producer (else observed) time, or ES_TIME_NONE */
    int64_t last_us;   /* latest */
    int64_t events;    /* observations */
    int64_t findings;  /* rows in findings */
    int64_t errors;    /* of which severity error */
    char *services;    /* comma-separated, in order of first appearance */
    char *last_type;   /* type of the latest event */
    const char *state; /* analyzer_state_name(): completed, failed, in_flight, stuck */
};

/* Rows kept to size the text columns before the rest stream out. */
#define PROC_BATCH 1000

/* ORDER BY clauses for --sort: fixed text, never built from input. */
static const struct {
    const char *name;
    const char *order;
} proc_sorts[] = {
    {"start", "p.first_us IS NULL, p.first_us, p.cid"},
    {"duration", "(p.last_us - p.first_us) IS NULL, (p.last_us - p.first_us) DESC, p.cid"},
    {"events", "p.n DESC, p.first_us, p.cid"},
};

static const char proc_sql_head[] =
    "WITH p AS (SELECT correlation_id AS cid,"
    "                  min(coalesce(time_us, observed_us)) AS first_us,"
    "                  max(coalesce(time_us, observed_us)) AS last_us,"
    "                  count(*) AS n"
    "           FROM events WHERE correlation_id IS NOT NULL GROUP BY correlation_id),"
    " f AS (SELECT correlation_id AS cid, count(*) AS n,"
    "              sum(severity = 'error') AS errors"
    "       FROM findings WHERE correlation_id IS NOT NULL GROUP BY correlation_id)"
    " SELECT p.cid, p.first_us, p.last_us, p.n, coalesce(f.n, 0), coalesce(f.errors, 0)"
    " FROM p LEFT JOIN f ON f.cid = p.cid";

static char *proc_col_text(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    return t ? xstrdup((const char *)t) : NULL;
}

static int64_t proc_col_time(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? ES_TIME_NONE
                                                      : sqlite3_column_int64(s, col);
}

/* Fills services and last_type of r. Returns SQLITE_OK or an error code. */
static int proc_details(sqlite3_stmt *svc, sqlite3_stmt *last, struct proc_row *r)
{
    size_t len = 0, cap = 0, n;
    char *out = NULL;
    int rc;

    sqlite3_bind_text(svc, 1, r->cid, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(svc)) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(svc, 0);
        if (s == NULL)
            continue;
        n = strlen(s);
        if (len + n + 2 > cap) {
            cap = (len + n + 2) * 2;
            out = xrealloc(out, cap);
        }
        if (len > 0)
            out[len++] = ',';
        memcpy(out + len, s, n + 1);
        len += n;
    }
    sqlite3_reset(svc);
    if (rc != SQLITE_DONE) {
        free(out);
        return rc;
    }
    r->services = out;
    sqlite3_bind_text(last, 1, r->cid, -1, SQLITE_STATIC);
    rc = sqlite3_step(last);
    if (rc == SQLITE_ROW)
        r->last_type = proc_col_text(last, 0);
    sqlite3_reset(last);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * Status (DESIGN.md: completed, failed, in flight, stuck) comes from analyzer/status.h,
 * classified from the last event we already fetched; no extra query per process.
 */

/* Writes one process as a JSON object (streamed: the list can hold millions). */
static void proc_json_row(const struct proc_row *r, int first)
{
    json_t *o = json_object(), *svcs = json_array();
    const char *p = r->services, *c;
    char t[40];

    json_object_set_new(o, "correlation_id", trace_out_jstr(r->cid));
    trace_out_time(r->first_us, TRACE_OUT_RFC3339, t, sizeof t);
    json_object_set_new(o, "first_time",
                        r->first_us == ES_TIME_NONE ? json_null() : json_string(t));
    trace_out_time(r->last_us, TRACE_OUT_RFC3339, t, sizeof t);
    json_object_set_new(o, "last_time",
                        r->last_us == ES_TIME_NONE ? json_null() : json_string(t));
    json_object_set_new(o, "duration_us",
                        r->first_us == ES_TIME_NONE
                            ? json_null()
                            : json_integer((json_int_t)(r->last_us - r->first_us)));
    json_object_set_new(o, "events", json_integer((json_int_t)r->events));
    while (p != NULL && *p) {
        char *one;
        c = strchr(p, ',');
        one = xstrndup(p, c ? (size_t)(c - p) : strlen(p));
        json_array_append_new(svcs, trace_out_jstr(one));
        free(one);
        p = c ? c + 1 : NULL;
    }
    json_object_set_new(o, "services", svcs);
    json_object_set_new(o, "last_type", trace_out_jstr(r->last_type));
    json_object_set_new(o, "status", r->state ? json_string(r->state) : json_null());
    json_object_set_new(o, "findings", json_integer((json_int_t)r->findings));
    fputs(first ? "\n" : ",\n", stdout);
    json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
}

static const char *proc_state_sgr(const char *state)
{
    if (strcmp(state, "failed") == 0)
        return "31";
    if (strcmp(state, "stuck") == 0)
        return "33";
    if (strcmp(state, "completed") == 0)
        return "32";
    return "36";
}

static size_t proc_w(const char *s)
{
    size_t cap = s ? strlen(s) * 4 + 1 : 2, w;
    char *buf = xmalloc(cap);

    w = trace_out_width(cli_escape(s ? s : "-", buf, cap));
    free(buf);
    return w;
}

/* Column widths, fixed from the first batch of rows so the rest can stream. */
struct proc_layout {
    size_t wc, ws, wt; /* correlation, services, last type */
    int findings;      /* show the findings column */
    int color;
};

static void proc_layout(struct proc_layout *L, const struct proc_row *rows, size_t n,
                        int show_findings)
{
    int cols = trace_out_cols(stdout, 0);
    size_t i;

    L->wc = 11, L->ws = 8, L->wt = 9;
    L->findings = show_findings;
    L->color = cli_color(stdout);
    for (i = 0; i < n; i++) {
        if (proc_w(rows[i].cid) > L->wc)
            L->wc = proc_w(rows[i].cid);
        if (proc_w(rows[i].services) > L->ws)
            L->ws = proc_w(rows[i].services);
        if (proc_w(rows[i].last_type) > L->wt)
            L->wt = proc_w(rows[i].last_type);
    }
    if (L->wc > 40)
        L->wc = 40;
    if (L->wt > 32)
        L->wt = 32;
    /* On a terminal the services column takes what the others leave. */
    if (cols > 0) {
        int rest = cols - (int)L->wc - 2 - 23 - 2 - 8 - 2 - 6 - 2 - 9 - 2 - (int)L->wt - 2 -
                   (show_findings ? 12 : 0);
        if (rest < 12)
            rest = 12;
        if ((int)L->ws > rest)
            L->ws = (size_t)rest;
    } else if (L->ws > 60) {
        L->ws = 60;
    }
    if (L->color)
        fputs("\033[1m", stdout);
    trace_out_cell(stdout, "CORRELATION", (int)L->wc, 0);
    printf("  %-23s  %8s  %6s  %-9s  ", "FIRST", "DURATION", "EVENTS", "STATUS");
    trace_out_cell(stdout, "SERVICES", (int)L->ws, 0);
    fputs("  ", stdout);
    trace_out_cell(stdout, "LAST TYPE", show_findings ? (int)L->wt : 0, 0);
    if (show_findings)
        printf("  %s", "FINDINGS");
    if (L->color)
        fputs("\033[0m", stdout);
    fputc('\n', stdout);
}

static void proc_text_row(const struct proc_layout *L, const struct proc_row *r)
{
    char t[40], d[32], f[32];

    trace_out_cell(stdout, r->cid, (int)L->wc, 0);
    trace_out_time(r->first_us, TRACE_OUT_DATE, t, sizeof t);
    if (r->first_us == ES_TIME_NONE)
        snprintf(d, sizeof d, "-");
    else
        cli_format_duration(r->last_us - r->first_us, d, sizeof d);
    printf("  %-23s  ", t);
    trace_out_cell(stdout, d, 8, 1);
    printf("  %6lld  ", (long long)r->events);
    if (L->color && r->state)
        printf("\033[%sm", proc_state_sgr(r->state));
    printf("%-9s", r->state ? r->state : "-");
    if (L->color && r->state)
        fputs("\033[0m", stdout);
    fputs("  ", stdout);
    trace_out_cell(stdout, r->services ? r->services : "-", (int)L->ws, 0);
    fputs("  ", stdout);
    trace_out_cell(stdout, r->last_type ? r->last_type : "-", L->findings ? (int)L->wt : 0, 0);
    if (L->findings) {
        if (r->findings == 0)
            snprintf(f, sizeof f, "-");
        else if (r->errors > 0)
            snprintf(f, sizeof f, "%lld (%lld err)", (long long)r->findings,
                     (long long)r->errors);
        else
            snprintf(f, sizeof f, "%lld", (long long)r->findings);
        if (L->color && r->findings > 0)
            printf("  \033[%sm%s\033[0m", r->errors > 0 ? "31" : "33", f);
        else
            printf("  %s", f);
    }
    fputc('\n', stdout);
}

static void proc_row_free(struct proc_row *r)
{
    free(r->cid);
    free(r->services);
    free(r->last_type);
    memset(r, 0, sizeof *r);
}

static int exec_processes(int argc, char **argv, const char *db)
{
    const char *sort = "start";
    long long limit = -1;
    int json = 0, with_findings = 0, i, rc, ret = CLI_EXIT_OK, have_findings = 0;
    int laid_out = 0;
    size_t k, n = 0, total = 0;
    struct proc_layout L;
    struct proc_row *rows = NULL;
    struct store *st = NULL;
    sqlite3_stmt *s = NULL, *svc = NULL, *last = NULL;
    struct analyzer_status *as = NULL;
    char err[512];
    const char *order = NULL;
    char *end, *sql;
    sqlite3 *h;

    if (cli_wants_help(argc, argv)) {
        cli_usage(&cmd_processes_entry, stdout);
        return CLI_EXIT_OK;
    }
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--with-findings") == 0) {
            with_findings = 1;
        } else if (strcmp(argv[i], "--limit") == 0 || strcmp(argv[i], "-n") == 0) {
            if (i + 1 >= argc) {
                cli_error("processes", "%s needs a number", argv[i]);
                return CLI_EXIT_USAGE;
            }
            errno = 0;
            limit = strtoll(argv[++i], &end, 10);
            if (*argv[i] == '\0' || *end != '\0' || errno != 0 || limit < 0) {
                cli_error("processes", "--limit: '%s' is not a count", argv[i]);
                return CLI_EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--sort") == 0) {
            if (i + 1 >= argc) {
                cli_error("processes", "--sort needs start, duration or events");
                return CLI_EXIT_USAGE;
            }
            sort = argv[++i];
        } else {
            cli_error("processes", "unknown argument '%s' (see eventscope processes --help)",
                      argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    for (k = 0; k < sizeof proc_sorts / sizeof proc_sorts[0]; k++)
        if (strcmp(proc_sorts[k].name, sort) == 0)
            order = proc_sorts[k].order;
    if (order == NULL) {
        cli_error("processes", "--sort %s: use start, duration or events", sort);
        return CLI_EXIT_USAGE;
    }
    if ((rc = cli_open_store("processes", db, STORE_READONLY, &st)) != CLI_EXIT_OK)
        return rc;
    h = store_db(st);

    sql = xasprintf("%s%s ORDER BY %s LIMIT ?1", proc_sql_head,
                    with_findings ? " WHERE f.n > 0" : "", order);
    rc = sqlite3_prepare_v2(h, sql, -1, &s, NULL);
    free(sql);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(h,
                                "SELECT source FROM events WHERE correlation_id = ?1"
                                " AND source IS NOT NULL GROUP BY source"
                                " ORDER BY min(coalesce(time_us, observed_us)), source",
                                -1, &svc, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(h,
                                "SELECT type FROM events WHERE correlation_id = ?1"
                                " ORDER BY coalesce(time_us, observed_us) DESC, seq DESC"
                                " LIMIT 1",
                                -1, &last, NULL);
    if (rc != SQLITE_OK) {
        cli_error("processes", "reading %s: %s", db, sqlite3_errmsg(h));
        ret = CLI_EXIT_INPUT;
        goto done;
    }
    if (analyzer_status_open(h, NULL, &as, err, sizeof err) != ES_OK) {
        /* Without status the list is still useful: say why and go on. */
        cli_error("processes", "no status column: %s", err);
        as = NULL;
    }
    /* The findings column is shown once analyze has written any. */
    {
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(h, "SELECT EXISTS (SELECT 1 FROM findings)", -1, &q, NULL) ==
                SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW)
            have_findings = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
    }
    /*
     * Rows stream out: the first PROC_BATCH are kept to size the text columns, the rest are
     * printed as they come, so memory stays flat however many processes there are.
     */
    rows = xcalloc(PROC_BATCH, sizeof *rows);
    if (json)
        fputs("{\"processes\":[", stdout);
    sqlite3_bind_int64(s, 1, limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct proc_row *r = &rows[n < PROC_BATCH ? n : 0];
        r->cid = proc_col_text(s, 0);
        r->first_us = proc_col_time(s, 1);
        r->last_us = proc_col_time(s, 2);
        r->events = sqlite3_column_int64(s, 3);
        r->findings = sqlite3_column_int64(s, 4);
        r->errors = sqlite3_column_int64(s, 5);
        if (r->cid != NULL && (rc = proc_details(svc, last, r)) != SQLITE_OK) {
            n++;
            break;
        }
        if (as != NULL)
            r->state =
                analyzer_state_name(analyzer_status_classify(as, r->last_type, r->last_us));
        if (json) {
            proc_json_row(r, total == 0);
            proc_row_free(r);
        } else if (laid_out) {
            proc_text_row(&L, r);
            proc_row_free(r);
        } else if (++n == PROC_BATCH) {
            proc_layout(&L, rows, n, have_findings);
            for (k = 0; k < n; k++) {
                proc_text_row(&L, &rows[k]);
                proc_row_free(&rows[k]);
            }
            n = 0;
            laid_out = 1;
        }
        total++;
    }
    if (rc != SQLITE_DONE) {
        if (json)
            fputs("]}\n", stdout);
        cli_error("processes", "reading %s: %s", db, sqlite3_errmsg(h));
        ret = CLI_EXIT_INPUT;
        goto done;
    }
    if (json) {
        fputs(total ? "\n]}\n" : "]}\n", stdout);
    } else if (total == 0) {
        fprintf(stderr, "eventscope processes: no %s in %s\n",
                with_findings ? "process with findings" : "correlation IDs", db);
    } else if (!laid_out) {
        proc_layout(&L, rows, n, have_findings);
        for (k = 0; k < n; k++)
            proc_text_row(&L, &rows[k]);
    }
    if (fflush(stdout) != 0)
        ret = CLI_EXIT_INPUT;

done:
    for (k = 0; rows != NULL && k < n && k < PROC_BATCH; k++)
        proc_row_free(&rows[k]);
    free(rows);
    analyzer_status_free(as);
    sqlite3_finalize(s);
    sqlite3_finalize(svc);
    sqlite3_finalize(last);
    store_close(st);
    return ret;
}

static const char processes_help[] =
    "Lists the business processes in the store: one line per correlation ID with its\n"
    "first time, duration, number of observations, services (in the order they joined),\n"
    "the type of its latest event, its status (completed, failed, in_flight, stuck: from\n"
    "the last event, see `analyze --help`) and, once `analyze` has run, its findings.\n"
    "\n"
    "options:\n"
    "  --json              {\"processes\":[{correlation_id, first_time, last_time,\n"
    "                       duration_us, events, services, last_type, status,\n"
    "                       findings}]}\n"
    "  --with-findings     only processes with at least one finding\n"
    "  --limit N, -n N     at most N processes\n"
    "  --sort KEY          start (oldest first, the default), duration (longest first),\n"
    "                      events (most first)\n"
    "\n"
    "examples:\n"
    "  eventscope processes | head -15\n"
    "  eventscope processes --sort duration --limit 10\n"
    "  eventscope analyze && eventscope processes --with-findings\n"
    "  eventscope processes --json | jq -r '.processes[].correlation_id'\n";

const struct cmd_entry cmd_processes_entry = {
    "processes", "[--json] [--with-findings] [--limit N] [--sort start|duration|events]",
    "list business processes (correlation IDs) with times, size and services", processes_help,
    exec_processes};
