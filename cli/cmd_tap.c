/* tap: subscribe to brokers (and/or replay kcat / mosquitto_sub output) into the store. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "collector/redact.h"
#include "collector/sink.h"
#include "collector/taps/tap_replay.h"
#include "collector/taps/taps.h"
#include "core/xmalloc.h"

static volatile sig_atomic_t tap_stop;

static void on_signal(int sig)
{
    (void)sig;
    __atomic_store_n(&tap_stop, 1, __ATOMIC_RELAXED); /* read by other threads too */
}

static void on_notice(void *ctx, const char *uri, const char *msg)
{
    char buf[1024];

    (void)ctx;
    snprintf(buf, sizeof buf, "%s: %s", uri, msg);
    cli_error("tap", "%s", buf);
}

static void on_reject(void *ctx, const char *location, const char *reason, const char *detail)
{
    unsigned long *n = ctx;

    ++*n;
    if (*n <= 20)
        cli_error("tap", "reject #%lu at %s: %s%s%s", *n, location, reason, detail ? ": " : "",
                  detail ? detail : "");
    else if (*n == 21)
        cli_error("tap", "more rejects: not shown (see the rejects table)");
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    unsigned long long x;

    errno = 0;
    x = strtoull(s, &end, 10);
    if (errno || end == s || *end != '\0' || s[0] == '-')
        return 0;
    *v = x;
    return 1;
}

static int parse_seconds(const char *s, double *v)
{
    char *end;

    errno = 0;
    *v = strtod(s, &end);
    if (errno || end == s || *v < 0)
        return 0;
    if (*end == 'm' && end[1] == '\0')
        *v *= 60;
    else if (*end == 'h' && end[1] == '\0')
        *v *= 3600;
    else if (!(*end == '\0' || (*end == 's' && end[1] == '\0')))
        return 0;
    return 1;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The stem naming the tap's broker state: one per store, so a rerun resumes. */
static char *make_stem(const char *db)
{
    char path[PATH_MAX];
    const char *p = realpath(db, path) ? path : db;

    return xasprintf("eventscope-%08llx",
                     (unsigned long long)(event_hash(p, strlen(p)) & 0xffffffffULL));
}

static int exec_tap(int argc, char **argv, const char *db)
{
    const char **urls = xcalloc((size_t)argc + 1, sizeof *urls);
    struct tap_opts opts;
    struct tap_hub *hub = NULL;
    struct store *st = NULL;
    struct sink sink;
    struct sigaction sa, old_int, old_term;
    uint64_t count = 0;
    double duration = 0, t0, el;
    int nurls = 0, use_stdin = 0, format = 0, i, rc, ex = CLI_EXIT_OK, sink_ok = 0;
    int no_payload = 0;
    struct redact *red = NULL;
    unsigned long rejects = 0;
    char err[1024], *stem = NULL, dur[32];

    memset(&opts, 0, sizeof opts);
    if (cli_wants_help(argc, argv)) {
        cli_usage(&cmd_tap_entry, stdout);
        printf("\nschemes in this build: %s\n",
               *tap_scheme_list() ? tap_scheme_list() : "(none: no broker client library)");
        free(urls);
        return CLI_EXIT_OK;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        /* "" rather than NULL when absent: the analyzer cannot tie `takes` to the branches below. */
        int has_val = i + 1 < argc;
        const char *val = has_val ? argv[i + 1] : "";
        int takes = strcmp(a, "--count") == 0 || strcmp(a, "--duration") == 0 ||
                    strcmp(a, "--ca") == 0 || strcmp(a, "--cert") == 0 ||
                    strcmp(a, "--key") == 0 || strcmp(a, "--format") == 0 ||
                    strcmp(a, "--redact") == 0;
        if (takes && !has_val) {
            cli_error("tap", "%s needs a value", a);
            ex = CLI_EXIT_USAGE;
            goto out;
        }
        if (strcmp(a, "--count") == 0) {
            if (!parse_u64(val, &count) || count == 0) {
                cli_error("tap", "--count needs a positive number, not '%s'", val);
                ex = CLI_EXIT_USAGE;
                goto out;
            }
        } else if (strcmp(a, "--duration") == 0) {
            if (!parse_seconds(val, &duration) || duration <= 0) {
                cli_error("tap", "--duration needs seconds (e.g. 30, 2.5, 5m), not '%s'", val);
                ex = CLI_EXIT_USAGE;
                goto out;
            }
        } else if (strcmp(a, "--ca") == 0) {
            opts.ca = val;
        } else if (strcmp(a, "--cert") == 0) {
            opts.cert = val;
        } else if (strcmp(a, "--key") == 0) {
            opts.key = val;
        } else if (strcmp(a, "--format") == 0) {
            format = tap_replay_format_parse(val);
            if (format == 0) {
                cli_error("tap", "--format must be kcat or mosquitto-json, not '%s'", val);
                ex = CLI_EXIT_USAGE;
                goto out;
            }
        } else if (strcmp(a, "--redact") == 0) {
            if (red != NULL) {
                cli_error("tap", "--redact given twice (list the paths with commas)");
                ex = CLI_EXIT_USAGE;
                goto out;
            }
            if (redact_parse(val, &red, err, sizeof err) != ES_OK) {
                cli_error("tap", "%s", err);
                ex = CLI_EXIT_USAGE;
                goto out;
            }
        } else if (strcmp(a, "--no-payload") == 0) {
            no_payload = 1;
            continue;
        } else if (strcmp(a, "-") == 0) {
            use_stdin = 1;
            continue;
        } else if (a[0] == '-') {
            cli_error("tap", "unknown option '%s'", a);
            cli_usage(&cmd_tap_entry, stderr);
            ex = CLI_EXIT_USAGE;
            goto out;
        } else {
            urls[nurls++] = a;
            continue;
        }
        i++;
    }
    if (nurls == 0 && !use_stdin) {
        cli_error("tap", "no URL to tap (schemes in this build: %s; or - with --format)",
                  *tap_scheme_list() ? tap_scheme_list() : "none");
        ex = CLI_EXIT_USAGE;
        goto out;
    }
    if (use_stdin && format == 0) {
        cli_error("tap", "- (stdin) needs --format kcat or --format mosquitto-json");
        ex = CLI_EXIT_USAGE;
        goto out;
    }
    if ((opts.cert == NULL) != (opts.key == NULL)) {
        cli_error("tap", "--cert and --key go together");
        ex = CLI_EXIT_USAGE;
        goto out;
    }

    ex = cli_open_store("tap", db, STORE_CREATE, &st);
    if (ex != CLI_EXIT_OK)
        goto out;
    if (red != NULL && !no_payload && (rc = redact_setup_key(red, st)) != ES_OK) {
        cli_error("tap", "--redact: no key: %s: %s", es_strerror(rc),
                  sqlite3_errmsg(store_db(st)));
        ex = CLI_EXIT_INPUT;
        goto out;
    }
    stem = make_stem(db);
    opts.stem = stem;
    sink_init(&sink, st);
    sink_ok = 1;
    sink.no_payload = no_payload ? 1 : 0;
    sink.redact = red;
    sink.stop = &tap_stop;
    sink.on_reject = on_reject;
    sink.reject_ctx = &rejects;
    hub = tap_hub_new(&sink, &opts, on_notice, NULL);
    for (i = 0; i < nurls; i++) {
        rc = tap_hub_add(hub, urls[i], err, sizeof err);
        if (rc != ES_OK) {
            cli_error("tap", "%s", err);
            ex = CLI_EXIT_INPUT;
            goto out;
        }
    }
    if (use_stdin && tap_hub_add_replay(hub, format, stdin, "stdin", err, sizeof err) != ES_OK) {
        cli_error("tap", "%s", err);
        ex = CLI_EXIT_INPUT;
        goto out;
    }
    tap_hub_set_limit(hub, count);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if (tap_hub_start(hub) != ES_OK) {
        cli_error("tap", "cannot start the tap threads");
        ex = CLI_EXIT_INPUT;
        goto restore;
    }
    cli_error("tap", "tapping %zu source%s into %s (Ctrl-C to stop)", tap_hub_count(hub),
              tap_hub_count(hub) == 1 ? "" : "s", db);
    t0 = now_s();
    for (;;) {
        rc = tap_hub_poll(hub, 200, err, sizeof err);
        if (tap_stop) { /* Ctrl-C, also when the taps noticed it first */
            ex = CLI_EXIT_INTERRUPTED;
            break;
        }
        if (rc == ES_EINTERRUPTED)
            break;
        if (rc != ES_OK) {
            cli_error("tap", "%s", err);
            ex = CLI_EXIT_INPUT;
            break;
        }
        if (tap_stop) {
            ex = CLI_EXIT_INTERRUPTED;
            break;
        }
        if (duration > 0 && now_s() - t0 >= duration)
            break;
    }
    if (tap_hub_stop(hub) != ES_OK && ex == CLI_EXIT_OK) {
        cli_error("tap", "cannot commit to the store: %s", store_errmsg(st));
        ex = CLI_EXIT_INPUT;
    }
    el = now_s() - t0;
    cli_format_duration((long long)(el * 1e6), dur, sizeof dur);
    tap_hub_free(hub);
    hub = NULL;
    rc = sink_done(&sink);
    sink_ok = 0;
    if (rc != ES_OK && ex == CLI_EXIT_OK) {
        cli_error("tap", "cannot commit to the store: %s", store_errmsg(st));
        ex = CLI_EXIT_INPUT;
    }
    fprintf(stderr,
            "eventscope tap: %s%llu stored, %llu already present, %llu rejected in %s\n",
            ex == CLI_EXIT_INTERRUPTED ? "interrupted: " : "",
            (unsigned long long)sink.counts.stored, (unsigned long long)sink.counts.present,
            (unsigned long long)sink.counts.rejected, dur);
restore:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
out:
    tap_hub_free(hub);
    if (sink_ok && sink_done(&sink) != ES_OK && ex == CLI_EXIT_OK)
        ex = CLI_EXIT_INPUT;
    store_close(st);
    redact_free(red);
    free(stem);
    free(urls);
    return ex;
}

const struct cmd_entry cmd_tap_entry = {
    "tap",
    "URL... [--count N] [--duration S] [--ca F] [--cert F --key F] [--format F -] [--no-payload] [--redact PATH[,PATH...]]",
    "subscribe to brokers and store every delivered message",
    "Stores each message a broker delivers as one observation (direction deliver),\n"
    "committing every 200 ms so queries and the TUI see it while the tap runs. Several\n"
    "URLs tap several brokers at once. Runs until Ctrl-C (exit 130), --count or --duration.\n"
    "\n"
    "URLs:\n"
    "  mqtt://[user:pass@]host:1883/filter[,filter...]   MQTT 5, QoS 1, user properties\n"
    "  amqp://[user:pass@]host:5672/vhost?exchange=X[,Y]&binding=KEY[,KEY]  [&firehose=1]\n"
    "  nats://[user:pass@]host:4222/subject[,subject...]  wildcards * and >, headers\n"
    "  kafka://[user:pass@]host:9092[,host:port]/topic[,topic]?group=G&from=beginning|end|TIME\n"
    "                 [&session_timeout=MS]: says \"assigned N partitions\" once it reads\n"
    "  mqtts:// amqps:// or ?tls=1 (also implied by --ca/--cert/--key) for TLS\n"
    "  -   replay stdin, with --format kcat (kcat -C -J) or mosquitto-json (mosquitto_sub -F %j)\n"
    "\n"
    "options:\n"
    "  --count N      stop after N delivered messages\n"
    "  --duration S   stop after S seconds (or 5m, 1h)\n"
    "  --ca FILE      CA bundle for TLS; --cert FILE --key FILE: client certificate\n"
    "  --format F     kcat | mosquitto-json, for -\n"
    "  --no-payload   do not store message payloads (data): only the envelope\n"
    "  --redact PATH[,PATH...]\n"
    "                 store a keyed hash instead of each named payload value (data = all\n"
    "                 of it, data.card.number, data.items.*.sku; * = any key or element):\n"
    "                 \"redacted:hmac-sha256:<32 hex>\"; equal values stay equal, so\n"
    "                 duplicates are still found. Key: environment variable\n"
    "                 EVENTSCOPE_REDACT_KEY, else a random key kept in the store\n"
    "\n"
    "Passwords: in the URL, as ${VAR} to read the environment variable VAR (quote the URL),\n"
    "or from EVENTSCOPE_TAP_PASSWORD when the URL has a user but no password.\n"
    "Exit: 0 done, 3 bad URL / unknown host / refused / store error, 130 interrupted.\n"
    "See docs/TAPS.md.\n",
    exec_tap,
};
