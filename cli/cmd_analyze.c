/*
 * analyze: audit the whole store (duplicates, ordering, causality, metadata, naming,
 * delivery), replace the findings table, and report: a text summary grouped by kind (worst
 * first, with examples and their input locations; clock skew grouped per pair of sources),
 * or with --json the document of DESIGN.md. --fail-on makes CI fail on chosen kinds.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analyzer/analyzer.h"
#include "cli/cmd.h"
#include "core/xmalloc.h"

#define ANALYZE_EXAMPLES 5
#define ANALYZE_MAX_PATTERNS 64

static volatile sig_atomic_t analyze_stop;

static void on_sigint(int sig)
{
    (void)sig;
    __atomic_store_n(&analyze_stop, 1, __ATOMIC_RELAXED); /* read by other threads too */
}

static int parse_seconds(const char *opt, const char *v, int64_t *out)
{
    char *end;
    double d;

    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || *end != '\0' || d < 0 || d > 1e9) {
        cli_error("analyze", "%s wants a number of seconds, not '%s'", opt, v);
        return 0;
    }
    *out = (int64_t)(d * 1e6);
    return 1;
}

/* Splits a comma list into patterns (pointers into buf), each naming at least one kind. */
static int parse_fail_on(char *buf, const char **pat, size_t *npat)
{
    char *tok, *save = NULL;

    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int k, known = 0;
        if (*tok == '\0')
            continue;
        for (k = 0; k < FINDING_NKINDS; k++)
            known |= finding_kind_matches(finding_kind_name(k), tok);
        if (!known) {
            cli_error("analyze",
                      "--fail-on: '%s' names no finding kind (e.g. duplicate, "
                      "ordering.time_before_cause, metadata.missing_id)",
                      tok);
            return 0;
        }
        if (*npat >= ANALYZE_MAX_PATTERNS) {
            cli_error("analyze", "--fail-on: at most %d kinds", ANALYZE_MAX_PATTERNS);
            return 0;
        }
        pat[(*npat)++] = tok;
    }
    if (*npat == 0) {
        cli_error("analyze", "--fail-on needs at least one kind");
        return 0;
    }
    return 1;
}

static void fmt_us(int64_t us, char *buf, size_t len)
{
    cli_format_duration((long long)us, buf, len);
}

static double share(uint64_t part, uint64_t whole)
{
    return whole ? (double)part / (double)whole : 0.0;
}

/* ---- text report ----------------------------------------------------------- */

struct kind_count {
    const char *kind;
    const char *severity;
    int64_t n;
};

static int cmp_kind_count(const void *x, const void *y)
{
    const struct kind_count *a = x, *b = y;
    int ra = finding_severity_rank(a->severity), rb = finding_severity_rank(b->severity);
    if (ra != rb)
        return ra - rb;
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return strcmp(a->kind, b->kind);
}

static void print_examples(sqlite3 *db, const char *kind, int64_t n)
{
    sqlite3_stmt *q;
    char loc[256], corr[160], msg[1200];

    if (sqlite3_prepare_v2(db,
                           "SELECT f.event_seq, f.correlation_id, e.location, f.message"
                           " FROM findings AS f LEFT JOIN events AS e ON e.seq = f.event_seq"
                           " WHERE f.kind = ?1"
                           " ORDER BY CASE f.severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1"
                           " ELSE 2 END, f.id LIMIT ?2",
                           -1, &q, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, ANALYZE_EXAMPLES);
    while (sqlite3_step(q) == SQLITE_ROW) {
        cli_escape((const char *)sqlite3_column_text(q, 2), loc, sizeof loc);
        cli_escape((const char *)sqlite3_column_text(q, 1), corr, sizeof corr);
        cli_escape((const char *)sqlite3_column_text(q, 3), msg, sizeof msg);
        printf("    %s  [%s] seq %" PRId64 ": %s\n", loc, corr, (int64_t)sqlite3_column_int64(q, 0),
               msg);
    }
    sqlite3_finalize(q);
    if (n > ANALYZE_EXAMPLES)
        printf("    ... and %" PRId64 " more (eventscope query findings, or the TUI)\n",
               n - ANALYZE_EXAMPLES);
}

static void print_text(sqlite3 *db, const struct analyzer_summary *s)
{
    sqlite3_stmt *q;
    struct kind_count *kc = NULL;
    size_t nk = 0, i;
    int a;
    char b1[32], b2[32];

    printf("analyzed %" PRIu64 " observations of %" PRIu64 " events in %" PRIu64
           " processes from %zu sources: %" PRIu64 " findings (%.2f s)\n",
           s->events, s->nodes, s->processes, s->ncards, s->findings, s->seconds);
    if (sqlite3_prepare_v2(db,
                           "SELECT kind, severity, count(*) FROM findings GROUP BY kind, severity",
                           -1, &q, NULL) == SQLITE_OK) {
        while (sqlite3_step(q) == SQLITE_ROW) {
            kc = xreallocarray(kc, nk + 1, sizeof *kc);
            kc[nk].kind = xstrdup((const char *)sqlite3_column_text(q, 0));
            kc[nk].severity = xstrdup((const char *)sqlite3_column_text(q, 1));
            kc[nk].n = sqlite3_column_int64(q, 2);
            nk++;
        }
        sqlite3_finalize(q);
    }
    if (nk > 0)
        qsort(kc, nk, sizeof *kc, cmp_kind_count);
    for (i = 0; i < nk; i++) {
        printf("\n%s  %s  %" PRId64 "\n", kc[i].kind, kc[i].severity, kc[i].n);
        if (strcmp(kc[i].kind, "ordering.time_before_cause") == 0 && s->nskews) {
            size_t k;
            printf("    clock skew per pair of sources (effect timestamped before its cause):\n");
            for (k = 0; k < s->nskews; k++) {
                char c1[128], c2[128];
                fmt_us(s->skews[k].skew_us, b1, sizeof b1);
                fmt_us(s->skews[k].max_us, b2, sizeof b2);
                printf("    %s behind %s by ~%s (max %s): %" PRIu64 " events\n",
                       cli_escape(s->skews[k].effect_source, c1, sizeof c1),
                       cli_escape(s->skews[k].cause_source, c2, sizeof c2), b1, b2,
                       s->skews[k].count);
            }
            continue;
        }
        /* Same kind under two severities (id collisions): examples printed once. */
        if (i > 0 && strcmp(kc[i - 1].kind, kc[i].kind) == 0)
            continue;
        print_examples(db, kc[i].kind, kc[i].n);
    }
    for (i = 0; i < nk; i++) {
        free((char *)kc[i].kind);
        free((char *)kc[i].severity);
    }
    free(kc);
    if (nk == 0)
        printf("\nno findings\n");

    printf("\nprocesses:");
    for (a = 0; a < ANALYZER_NSTATES; a++)
        printf(" %" PRIu64 " %s%s", s->by_state[a], analyzer_state_name((enum analyzer_state)a),
               a + 1 < ANALYZER_NSTATES ? "," : "\n");

    printf("\nmetadata scorecard (share of each source's events carrying the attribute):\n");
    printf("  %-24s %9s", "source", "events");
    for (a = 0; a < ANALYZER_NATTRS; a++)
        if (a != ANALYZER_ATTR_SOURCE)
            printf(" %6.6s", analyzer_attr_name((enum analyzer_attr)a));
    printf("\n");
    for (i = 0; i < s->ncards; i++) {
        char name[64];
        printf("  %-24s %9" PRIu64,
               cli_escape(s->cards[i].source ? s->cards[i].source : "(none)", name, 25),
               s->cards[i].events);
        for (a = 0; a < ANALYZER_NATTRS; a++)
            if (a != ANALYZER_ATTR_SOURCE)
                printf(" %5.0f%%", 100 * share(s->cards[i].with[a], s->cards[i].events));
        printf("\n");
    }
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *summary_json(const struct analyzer_summary *s)
{
    json_t *o = json_object(), *kinds = json_object(), *sev = json_object(),
           *states = json_object(), *skews = json_array(), *cards = json_array();
    size_t i;
    int k;

    json_object_set_new(o, "events", json_integer((json_int_t)s->events));
    json_object_set_new(o, "distinct_events", json_integer((json_int_t)s->nodes));
    json_object_set_new(o, "processes", json_integer((json_int_t)s->processes));
    json_object_set_new(o, "findings", json_integer((json_int_t)s->findings));
    for (k = 0; k < FINDING_NKINDS; k++)
        if (s->by_kind[k])
            json_object_set_new(kinds, finding_kind_name(k),
                                json_integer((json_int_t)s->by_kind[k]));
    json_object_set_new(o, "by_kind", kinds);
    json_object_set_new(o, "by_severity", sev);
    for (k = 0; k < ANALYZER_NSTATES; k++)
        json_object_set_new(states, analyzer_state_name((enum analyzer_state)k),
                            json_integer((json_int_t)s->by_state[k]));
    json_object_set_new(o, "process_status", states);
    for (i = 0; i < s->nskews; i++) {
        json_t *p = json_object();
        json_object_set_new(p, "effect_source", json_string(s->skews[i].effect_source));
        json_object_set_new(p, "cause_source", json_string(s->skews[i].cause_source));
        json_object_set_new(p, "count", json_integer((json_int_t)s->skews[i].count));
        json_object_set_new(p, "skew_us", json_integer(s->skews[i].skew_us));
        json_object_set_new(p, "max_us", json_integer(s->skews[i].max_us));
        json_array_append_new(skews, p);
    }
    json_object_set_new(o, "clock_skew", skews);
    for (i = 0; i < s->ncards; i++) {
        json_t *c = json_object(), *with = json_object();
        json_object_set_new(c, "source", str_or_null(s->cards[i].source));
        json_object_set_new(c, "events", json_integer((json_int_t)s->cards[i].events));
        for (k = 0; k < ANALYZER_NATTRS; k++)
            json_object_set_new(with, analyzer_attr_name((enum analyzer_attr)k),
                                json_real(share(s->cards[i].with[k], s->cards[i].events)));
        json_object_set_new(c, "share", with);
        json_array_append_new(cards, c);
    }
    json_object_set_new(o, "scorecard", cards);
    return o;
}

static int print_json(sqlite3 *db, const struct analyzer_summary *s)
{
    json_t *sum = summary_json(s), *sev = json_object_get(sum, "by_severity");
    sqlite3_stmt *q;
    char *text;
    int rc, first = 1;

    if (sqlite3_prepare_v2(db, "SELECT severity, count(*) FROM findings GROUP BY severity", -1, &q,
                           NULL) == SQLITE_OK) {
        while (sqlite3_step(q) == SQLITE_ROW)
            if (sqlite3_column_text(q, 0))
                json_object_set_new(sev, (const char *)sqlite3_column_text(q, 0),
                                    json_integer(sqlite3_column_int64(q, 1)));
        sqlite3_finalize(q);
    }
    text = json_dumps(sum, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(4));
    json_decref(sum);
    printf("{\"summary\":%s,\n\"findings\":[", text);
    free(text);
    if (sqlite3_prepare_v2(db,
                           "SELECT f.kind, f.severity, f.correlation_id, e.event_id, e.seq,"
                           " e.location, r.event_id, r.seq, r.location, f.message, f.related_seq"
                           " FROM findings AS f LEFT JOIN events AS e ON e.seq = f.event_seq"
                           " LEFT JOIN events AS r ON r.seq = f.related_seq ORDER BY f.id",
                           -1, &q, NULL) != SQLITE_OK) {
        printf("]}\n");
        return CLI_EXIT_INPUT;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        json_t *f = json_object(), *ids = json_array(), *seqs = json_array(), *locs = json_array();
        int j;
        json_object_set_new(f, "kind", json_string((const char *)sqlite3_column_text(q, 0)));
        json_object_set_new(f, "severity", str_or_null((const char *)sqlite3_column_text(q, 1)));
        json_object_set_new(f, "correlation_id",
                            str_or_null((const char *)sqlite3_column_text(q, 2)));
        for (j = 0; j < 2; j++) {
            int base = 3 + 3 * j;
            if (j == 1 && sqlite3_column_type(q, 10) == SQLITE_NULL)
                break;
            json_array_append_new(ids, str_or_null((const char *)sqlite3_column_text(q, base)));
            json_array_append_new(seqs, json_integer(sqlite3_column_int64(q, base + 1)));
            json_array_append_new(locs,
                                  str_or_null((const char *)sqlite3_column_text(q, base + 2)));
        }
        json_object_set_new(f, "event_ids", ids);
        json_object_set_new(f, "seqs", seqs);
        json_object_set_new(f, "locations", locs);
        json_object_set_new(f, "message", str_or_null((const char *)sqlite3_column_text(q, 9)));
        text = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(f);
        printf("%s\n%s", first ? "" : ",", text ? text : "null");
        free(text);
        first = 0;
    }
    sqlite3_finalize(q);
    printf("]}\n");
    return rc == SQLITE_DONE ? CLI_EXIT_OK : CLI_EXIT_INPUT;
}

static int any_match(const struct analyzer_summary *s, const char *const *pat, size_t npat)
{
    size_t i;
    int k;

    for (k = 0; k < FINDING_NKINDS; k++)
        for (i = 0; i < npat; i++)
            if (s->by_kind[k] && finding_kind_matches(finding_kind_name(k), pat[i]))
                return 1;
    return 0;
}

static int exec_analyze(int argc, char **argv, const char *db)
{
    struct analyzer_config cfg;
    struct analyzer_summary sum;
    struct store *st = NULL;
    const char *pat[ANALYZE_MAX_PATTERNS];
    size_t npat = 0;
    char *fail_buf = NULL, err[1024];
    const char *config = NULL;
    int64_t window = -1, stuck = -1;
    int json = 0, i, rc, ret;
    struct sigaction sa, old;

    if (cli_wants_help(argc, argv)) {
        cli_usage(&cmd_analyze_entry, stdout);
        return CLI_EXIT_OK;
    }
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = NULL;
        const char *eq = strchr(arg, '=');
        char opt[32];
        if (strncmp(arg, "--", 2) == 0 && eq && (size_t)(eq - arg) < sizeof opt) {
            memcpy(opt, arg, (size_t)(eq - arg));
            opt[eq - arg] = '\0';
            arg = opt;
            val = eq + 1;
        }
        if (strcmp(arg, "--json") == 0 && val == NULL) {
            json = 1;
            continue;
        }
        if (strcmp(arg, "--fail-on") != 0 && strcmp(arg, "--window") != 0 &&
            strcmp(arg, "--stuck-after") != 0 && strcmp(arg, "--config") != 0) {
            cli_error("analyze", "unknown argument '%s' (see eventscope analyze --help)", argv[i]);
            free(fail_buf);
            return CLI_EXIT_USAGE;
        }
        if (val == NULL) {
            if (i + 1 >= argc) {
                cli_error("analyze", "%s needs a value", arg);
                free(fail_buf);
                return CLI_EXIT_USAGE;
            }
            val = argv[++i];
        }
        if (strcmp(arg, "--fail-on") == 0) {
            size_t old_len = fail_buf ? strlen(fail_buf) : 0;
            fail_buf = xrealloc(fail_buf, old_len + strlen(val) + 2);
            if (old_len)
                fail_buf[old_len++] = ',';
            strcpy(fail_buf + old_len, val);
        } else if (strcmp(arg, "--window") == 0) {
            if (!parse_seconds("--window", val, &window)) {
                free(fail_buf);
                return CLI_EXIT_USAGE;
            }
        } else if (strcmp(arg, "--stuck-after") == 0) {
            if (!parse_seconds("--stuck-after", val, &stuck)) {
                free(fail_buf);
                return CLI_EXIT_USAGE;
            }
        } else {
            config = val;
        }
    }
    if (fail_buf && !parse_fail_on(fail_buf, pat, &npat)) {
        free(fail_buf);
        return CLI_EXIT_USAGE;
    }
    analyzer_config_init(&cfg);
    if (config && analyzer_config_load(&cfg, config, err, sizeof err) != ES_OK) {
        cli_error("analyze", "%s", err);
        analyzer_config_done(&cfg);
        free(fail_buf);
        return CLI_EXIT_USAGE;
    }
    if (window >= 0)
        cfg.semantic_window_us = window;
    if (stuck >= 0)
        cfg.stuck_after_us = stuck;
    ret = cli_open_store("analyze", db, 0, &st);
    if (ret != CLI_EXIT_OK) {
        analyzer_config_done(&cfg);
        free(fail_buf);
        return ret;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    rc = analyzer_run(store_db(st), &cfg, &analyze_stop, &sum, err, sizeof err);
    sigaction(SIGINT, &old, NULL);
    if (rc != ES_OK) {
        cli_error("analyze", "%s: %s", db, err[0] ? err : es_strerror(rc));
        ret = rc == ES_EINTERRUPTED ? CLI_EXIT_INTERRUPTED : CLI_EXIT_INPUT;
    } else {
        if (json)
            ret = print_json(store_db(st), &sum);
        else
            print_text(store_db(st), &sum);
        if (ret == CLI_EXIT_OK && npat && any_match(&sum, pat, npat))
            ret = CLI_EXIT_FINDINGS;
        analyzer_summary_done(&sum);
    }
    store_close(st);
    analyzer_config_done(&cfg);
    free(fail_buf);
    return ret;
}

const struct cmd_entry cmd_analyze_entry = {
    "analyze",
    "[--json] [--fail-on KIND[,KIND...]] [--window S] [--stuck-after S] [--config FILE]",
    "audit the store: duplicates, ordering, causality, metadata, naming, delivery",
    "Reads every event, replaces the findings table (one row per affected event) and prints\n"
    "a report grouped by kind, worst first, with the input location of examples; clock skew\n"
    "is grouped per pair of sources. Finding kinds: docs/FINDINGS.md.\n\n"
    "options:\n"
    "  --json               one JSON document: {\"summary\":{...},\"findings\":[...]}\n"
    "  --fail-on KINDS      exit 1 when a finding of these kinds exists; a prefix such as\n"
    "                       'duplicate' or 'metadata.missing' matches the whole family\n"
    "  --window S           duplicate.semantic window in seconds (default 60)\n"
    "  --stuck-after S      a process silent this long after a non-terminal event is stuck\n"
    "                       (default 3600)\n"
    "  --config FILE        JSON settings: root_types, terminal_types,\n"
    "                       terminal_failure_types, technical_words, command_verbs,\n"
    "                       event_words, semantic_window_s, stuck_after_s, replay_after_s,\n"
    "                       root_share\n\n"
    "examples:\n"
    "  eventscope analyze\n"
    "  eventscope analyze --json > findings.json\n"
    "  eventscope analyze --fail-on duplicate,causality.orphan   # in CI\n",
    exec_analyze,
};
