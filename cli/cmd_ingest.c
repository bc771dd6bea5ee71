/* ingest: read log files, JSON documents, captures and broker dumps into the store. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "collector/file.h"
#include "collector/pcap/decoders.h"
#include "collector/pcap/pcapsrc.h"
#include "collector/redact.h"
#include "collector/sink.h"
#include "core/envelope.h"

#define REJECTS_SHOWN 20 /* reject lines printed before "... and N more" */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    __atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED); /* read by other threads too */
}

/* What the terminal shows while ingesting. */
struct ui {
    int tty;                  /* stderr is a terminal: progress allowed */
    int auto_fmt;             /* --format auto: say what was chosen per file */
    uint64_t total;           /* input bytes expected, 0 when unknown (stdin) */
    double t0, last;          /* start, last progress update (s) */
    int shown;                /* a progress line is on screen */
    uint64_t rejects;         /* rejects seen */
    struct file_ingest *fi;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ui_clear(struct ui *u)
{
    if (u->shown) {
        fputs("\r\033[K", stderr);
        u->shown = 0;
    }
}

static void on_progress(void *ctx)
{
    struct ui *u = ctx;
    double t = now_s(), el = t - u->t0;
    char pct[32] = "";

    if (!u->tty || el < 1.0 || t - u->last < 0.25)
        return;
    u->last = t;
    if (u->total > 0 && u->fi->bytes <= u->total)
        snprintf(pct, sizeof pct, " / %.1f MB (%.0f%%)", (double)u->total / 1e6,
                 100.0 * (double)u->fi->bytes / (double)u->total);
    fprintf(stderr, "\r\033[Kingest: %.1f MB%s, %llu events, %.0f events/s",
            (double)u->fi->bytes / 1e6, pct, (unsigned long long)u->fi->events,
            (double)u->fi->events / el);
    u->shown = 1;
}

static void on_message(void *ctx, enum file_msg kind, const char *name, const char *text)
{
    struct ui *u = ctx;

    if (kind == FILE_MSG_FORMAT && !u->auto_fmt)
        return;
    ui_clear(u);
    if (kind == FILE_MSG_FORMAT)
        cli_error("ingest", "%s: format %s", name, text);
    else
        cli_error("ingest", "%s: %s", name, text);
}

static void on_reject(void *ctx, const char *location, const char *reason, const char *detail)
{
    struct ui *u = ctx;

    if (++u->rejects > REJECTS_SHOWN)
        return;
    ui_clear(u);
    cli_error("ingest", "%s: rejected (%s)%s%s", location, reason, detail ? ": " : "",
              detail ? detail : "");
}

/* "4096", "64K", "16M", "1G" -> bytes. Returns 0 when invalid. */
static int parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || v == 0)
        return 0;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': v <<= 10, end++; break;
    case 'm': case 'M': v <<= 20, end++; break;
    case 'g': case 'G': v <<= 30, end++; break;
    default: return 0;
    }
    if ((*end == 'b' || *end == 'B') && end[1] == '\0')
        end++;
    if (*end != '\0' || v > (1ULL << 40))
        return 0;
    *out = (size_t)v;
    return 1;
}

/* Option value: "--opt VALUE" or "--opt=VALUE". Returns NULL when argv[*i] is not opt. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt, int *missing)
{
    size_t n = strlen(opt);

    if (strncmp(argv[*i], opt, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    /* argv[argc] is NULL; testing the element too shows the analyzer a found value is never NULL. */
    if (*i + 1 >= argc || argv[*i + 1] == NULL) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

static int exec_ingest(int argc, char **argv, const char *db)
{
    struct file_ingest fi;
    struct pcapsrc_opts po;
    struct envelope_map *map = NULL;
    struct redact *red = NULL;
    struct store *st = NULL;
    struct sink sink;
    struct ui u;
    struct sigaction sa, old_int, old_term;
    const char **paths;
    const char *v;
    char err[1024];
    int i, npaths = 0, missing = 0, no_payload = 0, rc = ES_OK, exit_code, k, end_rc, done_rc;
    size_t sz;
    double el;
    uint64_t total = 0, done;

    if (cli_wants_help(argc, argv)) {
        cli_usage(&cmd_ingest_entry, stdout);
        return CLI_EXIT_OK;
    }
    file_ingest_init(&fi, NULL);
    memset(&po, 0, sizeof po);
    po.threads = pcapsrc_threads_auto(1);
    paths = calloc((size_t)argc, sizeof *paths);
    if (paths == NULL)
        return CLI_EXIT_INPUT;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++)
                paths[npaths++] = argv[i];
            break;
        }
        if ((v = opt_value(argc, argv, &i, "--format", &missing)) != NULL) {
            if (file_format_parse(v, &fi.format) != ES_OK) {
                cli_error("ingest", "unknown format '%s' (auto, jsonl, json, applog, logfmt, "
                                    "pcap, kcat, mosquitto-json)", v);
                goto usage;
            }
        } else if ((v = opt_value(argc, argv, &i, "--map", &missing)) != NULL) {
            if (map != NULL) {
                cli_error("ingest", "--map given twice");
                goto usage;
            }
            if (envelope_map_load(v, &map, err, sizeof err) != ES_OK) {
                cli_error("ingest", "%s", err);
                free(paths);
                return CLI_EXIT_USAGE;
            }
        } else if ((v = opt_value(argc, argv, &i, "--max-line", &missing)) != NULL) {
            if (!parse_size(v, &fi.max_line))
                goto badsize;
        } else if ((v = opt_value(argc, argv, &i, "--max-element", &missing)) != NULL) {
            if (!parse_size(v, &fi.max_element))
                goto badsize;
        } else if ((v = opt_value(argc, argv, &i, "--max-depth", &missing)) != NULL) {
            if (!parse_size(v, &sz) || sz < 1 || sz > JDOC_MAX_DEPTH - 1) {
                cli_error("ingest", "--max-depth %s: expected 1 to %d levels", v,
                          JDOC_MAX_DEPTH - 1);
                goto usage;
            }
            fi.max_depth = sz;
        } else if ((v = opt_value(argc, argv, &i, "--redact", &missing)) != NULL) {
            if (red != NULL) {
                cli_error("ingest", "--redact given twice (list the paths with commas)");
                goto usage;
            }
            if (redact_parse(v, &red, err, sizeof err) != ES_OK) {
                cli_error("ingest", "%s", err);
                goto usage;
            }
        } else if ((v = opt_value(argc, argv, &i, "--max-headers", &missing)) != NULL) {
            if (decoders_max_headers_set(v, err, sizeof err) != ES_OK) {
                cli_error("ingest", "%s", err);
                goto usage;
            }
        } else if ((v = opt_value(argc, argv, &i, "--max-flows", &missing)) != NULL) {
            if (!parse_size(v, &sz) || sz < 1 || sz > 10000000) {
                cli_error("ingest", "--max-flows %s: expected 1 to 10000000 connections", v);
                goto usage;
            }
            po.max_flows = (unsigned)sz;
        } else if ((v = opt_value(argc, argv, &i, "--threads", &missing)) != NULL) {
            if (!parse_size(v, &sz) || sz < 1 || sz > PCAPSRC_MAX_THREADS) {
                cli_error("ingest", "--threads %s: expected 1 to %d", v, PCAPSRC_MAX_THREADS);
                goto usage;
            }
            po.threads = (unsigned)sz;
        } else if ((v = opt_value(argc, argv, &i, "--port", &missing)) != NULL) {
            if (decoders_port_add(v, err, sizeof err) != ES_OK) {
                cli_error("ingest", "%s", err);
                goto usage;
            }
        } else if (strcmp(a, "--no-payload") == 0) {
            no_payload = 1;
        } else if (missing) {
            cli_error("ingest", "%s needs a value", a);
            goto usage;
        } else if (a[0] == '-' && a[1] != '\0') {
            cli_error("ingest", "unknown option '%s'", a);
            goto usage;
        } else {
            paths[npaths++] = a;
        }
        if (missing) {
            cli_error("ingest", "%s needs a value", a);
            goto usage;
        }
    }
    if (npaths == 0) {
        cli_error("ingest", "no input: give files, folders, or - for stdin");
        goto usage;
    }
    pcapsrc_set_default_opts(&po);

    if (cli_open_store("ingest", db, STORE_CREATE, &st) != CLI_EXIT_OK) {
        envelope_map_free(map);
        redact_free(red);
        free(paths);
        return CLI_EXIT_INPUT;
    }
    if (red != NULL && !no_payload && (rc = redact_setup_key(red, st)) != ES_OK) {
        cli_error("ingest", "--redact: no key: %s: store %s: %s", es_strerror(rc), db,
                  sqlite3_errmsg(store_db(st)));
        store_close(st);
        envelope_map_free(map);
        redact_free(red);
        free(paths);
        return CLI_EXIT_INPUT;
    }

    /* Wiring: collector -> sink -> store; callbacks to the terminal. */
    memset(&u, 0, sizeof u);
    u.tty = isatty(STDERR_FILENO);
    u.auto_fmt = fi.format == FILE_FMT_AUTO;
    u.fi = &fi;
    for (k = 0; u.tty && k < npaths; k++)
        total += file_total_bytes(paths[k]);
    u.total = total;
    sink_init(&sink, st);
    sink.map = map;
    sink.no_payload = no_payload ? 1 : 0;
    sink.redact = red;
    sink.on_reject = on_reject;
    sink.reject_ctx = &u;
    stop_flag = 0;
    sink.stop = &stop_flag;
    fi.sink = &sink;
    fi.on_message = on_message;
    fi.on_progress = on_progress;
    fi.ctx = &u;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked read returns at Ctrl-C */
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    u.t0 = u.last = now_s();
    rc = sink_bulk_begin(&sink, total / 512);
    for (k = 0; rc == ES_OK && k < npaths; k++) {
        rc = file_ingest_path(&fi, paths[k]);
        if (rc == ES_OK && stop_flag)
            rc = ES_EINTERRUPTED;
    }
    ui_clear(&u);
    if (u.tty && now_s() - u.t0 > 1.0) {
        fputs("ingest: committing and indexing...", stderr);
        u.shown = 1;
    }
    /* Whatever happened, what was read is committed and the store left indexed. */
    end_rc = sink_bulk_end(&sink);
    done_rc = sink_done(&sink);
    ui_clear(&u);
    if (rc != ES_OK && rc != ES_EINTERRUPTED) {
        cli_error("ingest", "stopped: %s: store %s: %s", es_strerror(rc), db, store_errmsg(st));
    } else if (end_rc != ES_OK || done_rc != ES_OK) {
        cli_error("ingest", "storing failed: store %s: %s", db, store_errmsg(st));
        rc = ES_ESTORE;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    if (u.rejects > REJECTS_SHOWN)
        cli_error("ingest", "... and %llu more rejects (see the rejects table: "
                            "eventscope query rejects)",
                  (unsigned long long)(u.rejects - REJECTS_SHOWN));
    el = now_s() - u.t0;
    done = sink.counts.stored + sink.counts.present;
    /* After a store error the batch being written was rolled back: say "at most". */
    fprintf(stderr, "%s%llu events stored, %llu already present, %llu rejected in %.2f s "
                    "(%.0f events/s)",
            rc == ES_EINTERRUPTED                 ? "interrupted: "
            : rc != ES_OK && rc != ES_EINTERRUPTED ? "failed: at most "
                                                  : "",
            (unsigned long long)sink.counts.stored, (unsigned long long)sink.counts.present,
            (unsigned long long)sink.counts.rejected, el, el > 0 ? (double)done / el : 0.0);
    if (fi.skipped)
        fprintf(stderr, "; %llu log lines without JSON skipped", (unsigned long long)fi.skipped);
    if (fi.failed)
        fprintf(stderr, "; %u input%s could not be read", fi.failed, fi.failed == 1 ? "" : "s");
    fputc('\n', stderr);

    store_close(st);
    envelope_map_free(map);
    redact_free(red);
    free(paths);
    if (rc == ES_EINTERRUPTED)
        exit_code = CLI_EXIT_INTERRUPTED;
    else if (rc != ES_OK || fi.failed > 0)
        exit_code = CLI_EXIT_INPUT;
    else
        exit_code = CLI_EXIT_OK;
    return exit_code;

badsize:
    cli_error("ingest", "%s: expected a positive size such as 4096, 64K, 16M", argv[i]);
usage:
    cli_usage(&cmd_ingest_entry, stderr);
    envelope_map_free(map);
    redact_free(red);
    free(paths);
    return CLI_EXIT_USAGE;
}

const struct cmd_entry cmd_ingest_entry = {
    "ingest",
    "[--format F] [--map FILE] [--no-payload] [--redact PATH[,PATH...]] [--max-line N] [--max-element N] "
    "[--max-depth N] [--port P=PROTO]... [--max-headers N] [--max-flows N] [--threads N] PATH...|-",
    "read events from log files, JSON documents, captures and broker dumps",
    "Reads every PATH (files; folders, walked recursively in sorted order, hidden\n"
    "entries skipped; - for stdin) into the store. .gz files are inflated on the fly.\n"
    "Re-ingesting the same input adds nothing: each record is identified by its\n"
    "origin (the file's absolute path) and its location: FILE:LINE, the line where\n"
    "the record starts (FILE:LINE#K for the K-th record starting on one line;\n"
    "stdin:LINE for -, whose origin is \"stdin\").\n"
    "\n"
    "options:\n"
    "  --format F        auto (default: sniff each file and say what was chosen),\n"
    "                    jsonl     one JSON object per line (a line holding an array\n"
    "                              gives one event per element)\n"
    "                    json      JSON documents: an object, objects one after\n"
    "                              another, or arrays of objects; pretty-printed or\n"
    "                              not; streamed, so any size works\n"
    "                    applog    '<timestamp> <LEVEL> <service> {json}' lines, e.g.\n"
    "                              2026-03-15 10:30:00,123 [INFO] [orders] {...}; the\n"
    "                              line's time is the observed time, its service the\n"
    "                              source when the event names none; lines without\n"
    "                              JSON are skipped and counted, not rejected\n"
    "                    logfmt    key=value key2=\"quoted \\\"value\\\"\" lines\n"
    "                    pcap      pcap/pcapng captures (plain or .gz)\n"
    "                    kcat      `kcat -C -J` output\n"
    "                    mosquitto-json  `mosquitto_sub -F %j` output\n"
    "  --map FILE        extra field spellings: {\"correlation\": [\"ctx.corr\"], ...}\n"
    "  --no-payload      do not store event payloads (data): only the envelope\n"
    "  --redact PATH[,PATH...]\n"
    "                    store a keyed hash instead of each named payload value:\n"
    "                    data (all of it), data.card.number (or card.number),\n"
    "                    data.items.*.sku (* = any key or array element); values\n"
    "                    become \"redacted:hmac-sha256:<32 hex>\", equal values stay\n"
    "                    equal so duplicates are still found. Key: the environment\n"
    "                    variable EVENTSCOPE_REDACT_KEY, else a random key kept in\n"
    "                    the store (meta redact_key)\n"
    "  --max-line N      longer lines are rejected (line_too_long) and skipped\n"
    "                    without being buffered (default 1M)\n"
    "  --max-element N   larger elements of JSON documents are rejected (default 16M)\n"
    "  --max-depth N     deeper JSON nesting is rejected (json_too_deep; default 512,\n"
    "                    at most 1023)\n"
    "  --port P=PROTO    in pcap files, also decode TCP port P as PROTO (http, kafka,\n"
    "                    amqp, mqtt, nats), as for capture; repeatable\n"
    "  --max-headers N   in pcap files, header fields per message (default 128, at\n"
    "                    most 1024); a message with more is a reject\n"
    "  --max-flows N     in pcap files, TCP connections tracked at once (default\n"
    "                    65536); the least recently active is closed past it\n"
    "  --threads N       in pcap files, threads decoding TCP connections besides the\n"
    "                    one reading (default: one per CPU less one for the store's\n"
    "                    writer, at most 8; 1: decode on the reading thread)\n"
    "\n"
    "Records that cannot be read are kept in the rejects table with their location\n"
    "and a reason (invalid_json, truncated_json, invalid_utf8, nul_byte, line_too_long,\n"
    "json_too_deep, not_an_object, ...); the first 20 are also printed here. The last\n"
    "line says: N events stored, M already present, R rejected in T s (X events/s).\n"
    "Progress is shown while stderr is a terminal and the input takes over a second.\n"
    "\n"
    "exit codes: 0 done (rejected records do not change it), 2 usage error,\n"
    "            3 an input could not be opened or read (the others are still ingested)\n"
    "              or the store failed, 130 interrupted (what was read is kept)\n"
    "\n"
    "examples:\n"
    "  eventscope ingest logs/                          # every file under logs/\n"
    "  eventscope -d shop.db ingest orders.jsonl.gz payments.log\n"
    "  kubectl logs deploy/orders | eventscope ingest --format applog -\n"
    "  eventscope ingest --format json export.json      # a 2 GB array is fine\n"
    "  eventscope ingest --map fields.json legacy/*.log\n"
    "  eventscope query rejects                         # what could not be read\n",
    exec_ingest,
};
