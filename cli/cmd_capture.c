/*
 * capture: events straight off the wire. Live from an interface with libpcap, or
 * (-r FILE) from a capture file with the same options, optionally without storing
 * (--dry-run: decode and count, for checks and benchmarks).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "collector/pcap/decoders.h"
#include "collector/pcap/live.h"
#include "collector/pcap/pcapsrc.h"
#include "collector/redact.h"
#include "collector/sink.h"
#include "core/timeparse.h"

#define REJECTS_SHOWN 20

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    __atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED); /* read by other threads too */
    live_interrupt();
}

struct ui {
    uint64_t rejects;
    uint64_t events;
    int quiet;
};

static void on_reject(void *ctx, const char *location, const char *reason, const char *detail)
{
    struct ui *u = ctx;

    if (++u->rejects > REJECTS_SHOWN || u->quiet)
        return;
    cli_error("capture", "%s: rejected (%s)%s%s", location, reason, detail ? ": " : "",
              detail ? detail : "");
}

static int dry_event(void *ctx, struct event *ev)
{
    struct ui *u = ctx;

    (void)ev;
    u->events++;
    return ES_OK;
}

static int dry_reject(void *ctx, const char *location, const char *reason, const char *detail)
{
    on_reject(ctx, location, reason, detail);
    return ES_OK;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "4096", "64K", "16M", "1G" -> bytes; 0 when invalid. */
static size_t parse_size(const char *s)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s)
        return 0;
    switch (*end) {
    case '\0': return (size_t)v;
    case 'k': case 'K': v <<= 10; break;
    case 'm': case 'M': v <<= 20; break;
    case 'g': case 'G': v <<= 30; break;
    default: return 0;
    }
    return end[1] == '\0' ? (size_t)v : 0;
}

static int parse_count(const char *s, unsigned long long *out)
{
    char *end;

    errno = 0;
    *out = strtoull(s, &end, 10);
    return !(errno || end == s || *end || s[0] == '-');
}

static void summary(const char *what, const struct pcapsrc_stats *st, const struct sink *s,
                    const struct ui *u, int dry, double el, int interrupted)
{
    fprintf(stderr,
            "%s%s: %llu packets, %llu TCP connections, %llu messages; ", interrupted
                ? "interrupted: " : "", what,
            (unsigned long long)st->packets, (unsigned long long)st->flows,
            (unsigned long long)st->messages);
    if (dry)
        fprintf(stderr, "%llu events decoded (dry run, nothing stored), %llu rejected",
                (unsigned long long)u->events, (unsigned long long)u->rejects);
    else
        fprintf(stderr, "%llu events stored, %llu already present, %llu rejected",
                (unsigned long long)s->counts.stored, (unsigned long long)s->counts.present,
                (unsigned long long)s->counts.rejected);
    fprintf(stderr, " in %.2f s (%.0f packets/s)\n", el, el > 0 ? (double)st->packets / el : 0.0);
    if (u->rejects > REJECTS_SHOWN && !u->quiet)
        fprintf(stderr, "... %llu more rejects not shown (see the rejects table)\n",
                (unsigned long long)(u->rejects - REJECTS_SHOWN));
}

static int exec_capture(int argc, char **argv, const char *db)
{
    struct live_opts lo;
    struct pcapsrc_opts lim;
    const char *file = NULL;
    int dry = 0, no_payload = 0, i, rc, exit_code;
    struct redact *red = NULL;
    struct store *st = NULL;
    struct sink sink;
    struct ui u;
    struct pcapsrc_stats stats;
    struct sigaction sa, old_int, old_term;
    char err[1024], uri[512], tbuf[64];
    double t0;
    unsigned long long n;
    unsigned threads = 0;

    if (cli_wants_help(argc, argv)) {
        cli_usage(&cmd_capture_entry, stdout);
        return CLI_EXIT_OK;
    }
    memset(&lo, 0, sizeof lo);
    memset(&lim, 0, sizeof lim);
    memset(&u, 0, sizeof u);
    for (i = 1; i < argc; i++) {
        /* "" rather than NULL when absent: the analyzer cannot tie `takes` to the branches. */
        int has_val = i + 1 < argc;
        const char *a = argv[i], *v = has_val ? argv[i + 1] : "";
        int takes = strcmp(a, "-i") == 0 || strcmp(a, "-f") == 0 || strcmp(a, "-r") == 0 ||
                    strcmp(a, "--count") == 0 || strcmp(a, "-c") == 0 ||
                    strcmp(a, "--duration") == 0 || strcmp(a, "--snaplen") == 0 ||
                    strcmp(a, "-s") == 0 || strcmp(a, "--port") == 0 ||
                    strcmp(a, "--flow-mem") == 0 || strcmp(a, "--total-mem") == 0 ||
                    strcmp(a, "--idle") == 0 || strcmp(a, "--redact") == 0 ||
                    strcmp(a, "--max-flows") == 0 || strcmp(a, "--max-headers") == 0 ||
                    strcmp(a, "--threads") == 0;
        if (takes && !has_val) {
            cli_error("capture", "%s needs a value", a);
            goto usage;
        }
        if (strcmp(a, "-i") == 0) {
            lo.iface = v;
        } else if (strcmp(a, "-f") == 0) {
            lo.filter = v;
        } else if (strcmp(a, "-r") == 0) {
            file = v;
        } else if (strcmp(a, "--count") == 0 || strcmp(a, "-c") == 0) {
            if (!parse_count(v, &n) || n == 0) {
                cli_error("capture", "--count %s: expected a positive number of packets", v);
                goto usage;
            }
            lo.count = n;
        } else if (strcmp(a, "--duration") == 0) {
            char *end;
            lo.duration_s = strtod(v, &end);
            if (end == v || *end || lo.duration_s <= 0) {
                cli_error("capture", "--duration %s: expected a positive number of seconds", v);
                goto usage;
            }
        } else if (strcmp(a, "--snaplen") == 0 || strcmp(a, "-s") == 0) {
            if (!parse_count(v, &n) || n < 64 || n > 262144) {
                cli_error("capture", "--snaplen %s: expected 64 to 262144 bytes", v);
                goto usage;
            }
            lo.snaplen = (int)n;
        } else if (strcmp(a, "--port") == 0) {
            if (decoders_port_add(v, err, sizeof err) != ES_OK) {
                cli_error("capture", "%s", err);
                goto usage;
            }
        } else if (strcmp(a, "--flow-mem") == 0 || strcmp(a, "--total-mem") == 0) {
            size_t sz = parse_size(v);
            if (sz < 4096) {
                cli_error("capture", "%s %s: expected a size of at least 4K (64K, 16M, 1G)", a,
                          v);
                goto usage;
            }
            if (a[2] == 'f')
                lim.flow_mem = sz;
            else
                lim.total_mem = sz;
        } else if (strcmp(a, "--idle") == 0) {
            char *end;
            double s = strtod(v, &end);
            if (end == v || *end || s <= 0) {
                cli_error("capture", "--idle %s: expected a positive number of seconds", v);
                goto usage;
            }
            lim.idle_us = (int64_t)(s * 1e6);
        } else if (strcmp(a, "--max-flows") == 0) {
            if (!parse_count(v, &n) || n < 1 || n > 10000000) {
                cli_error("capture", "--max-flows %s: expected 1 to 10000000 connections", v);
                goto usage;
            }
            lim.max_flows = (unsigned)n;
        } else if (strcmp(a, "--threads") == 0) {
            if (!parse_count(v, &n) || n < 1 || n > PCAPSRC_MAX_THREADS) {
                cli_error("capture", "--threads %s: expected 1 to %d", v, PCAPSRC_MAX_THREADS);
                goto usage;
            }
            threads = (unsigned)n;
        } else if (strcmp(a, "--max-headers") == 0) {
            if (decoders_max_headers_set(v, err, sizeof err) != ES_OK) {
                cli_error("capture", "%s", err);
                goto usage;
            }
        } else if (strcmp(a, "--redact") == 0) {
            if (red != NULL) {
                cli_error("capture", "--redact given twice (list the paths with commas)");
                goto usage;
            }
            if (redact_parse(v, &red, err, sizeof err) != ES_OK) {
                cli_error("capture", "%s", err);
                goto usage;
            }
        } else if (strcmp(a, "--no-payload") == 0) {
            no_payload = 1;
            continue;
        } else if (strcmp(a, "--dry-run") == 0) {
            dry = 1;
            continue;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            u.quiet = 1;
            continue;
        } else {
            cli_error("capture", "unknown argument '%s'", a);
            goto usage;
        }
        i++;
    }
    if ((lo.iface == NULL) == (file == NULL)) {
        cli_error("capture", "give either -i IFACE (live) or -r FILE (a capture file)");
        goto usage;
    }
    if (dry && file == NULL) {
        cli_error("capture", "--dry-run works with -r FILE only");
        goto usage;
    }
    lo.lim = lim;

    if (!dry && (rc = cli_open_store("capture", db, STORE_CREATE, &st)) != CLI_EXIT_OK) {
        redact_free(red);
        return rc;
    }
    if (!dry && red != NULL && !no_payload && (rc = redact_setup_key(red, st)) != ES_OK) {
        cli_error("capture", "--redact: no key: %s: %s", es_strerror(rc),
                  sqlite3_errmsg(store_db(st)));
        store_close(st);
        redact_free(red);
        return CLI_EXIT_INPUT;
    }
    sink_init(&sink, st);
    sink.no_payload = no_payload ? 1 : 0;
    sink.redact = dry ? NULL : red;
    sink.on_reject = on_reject;
    sink.reject_ctx = &u;
    stop_flag = 0;
    sink.stop = &stop_flag;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    t0 = now_s();
    memset(&stats, 0, sizeof stats);
    err[0] = '\0';

    if (file) {
        struct pcapsrc *ps;
        lim.threads = threads ? threads : pcapsrc_threads_auto(!dry);
        ps = pcapsrc_new(dry ? NULL : &sink, &lim);
        if (dry) {
            pcapsrc_set_hooks(ps, dry_event, dry_reject, &u);
            rc = ES_OK;
        } else {
            struct stat sb;
            rc = sink_origin(&sink, "pcap", file);
            /* a file is a bulk load, as for ingest: about one event per KB of capture */
            if (rc == ES_OK)
                rc = sink_bulk_begin(&sink, stat(file, &sb) == 0 ? (uint64_t)sb.st_size / 1024 : 0);
        }
        if (rc == ES_OK)
            rc = pcapsrc_read_path(ps, file, err, sizeof err);
        if (rc == ES_OK && stop_flag)
            rc = ES_EINTERRUPTED;
        if (rc == ES_OK || rc == ES_EINTERRUPTED) {
            int rc2 = pcapsrc_finish(ps);
            if (rc == ES_OK)
                rc = rc2;
        }
        /* whatever happened, what was read is committed and the store left indexed */
        if (!dry && sink_bulk_end(&sink) != ES_OK && (rc == ES_OK || rc == ES_EINTERRUPTED)) {
            snprintf(err, sizeof err, "storing failed: %s", store_errmsg(st));
            rc = ES_ESTORE;
        }
        stats = *pcapsrc_stats(ps);
        pcapsrc_free(ps);
    } else {
        /* One origin per capture session: frame numbers restart every time. */
        timeparse_format((int64_t)time(NULL) * 1000000, tbuf, sizeof tbuf);
        snprintf(uri, sizeof uri, "%s%s%s@%s#%ld", lo.iface, lo.filter ? " " : "",
                 lo.filter ? lo.filter : "", tbuf, (long)getpid());
        rc = sink_origin(&sink, "capture", uri);
        if (rc == ES_OK) {
            fprintf(stderr, "capturing on %s%s%s (Ctrl-C stops)\n", lo.iface,
                    lo.filter ? ", filter " : "", lo.filter ? lo.filter : "");
            rc = live_capture(&sink, &lo, &stats, err, sizeof err);
        }
    }
    if (!dry && sink_done(&sink) != ES_OK && (rc == ES_OK || rc == ES_EINTERRUPTED)) {
        snprintf(err, sizeof err, "storing failed: %s", store_errmsg(st));
        rc = ES_ESTORE;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc != ES_OK && rc != ES_EINTERRUPTED)
        cli_error("capture", "%s", err[0] ? err : es_strerror(rc));
    summary(file ? file : lo.iface, &stats, &sink, &u, dry, now_s() - t0,
            rc == ES_EINTERRUPTED);
    store_close(st);
    redact_free(red);
    if (rc == ES_EINTERRUPTED)
        exit_code = CLI_EXIT_INTERRUPTED;
    else if (rc == ES_EUSAGE)
        exit_code = CLI_EXIT_USAGE;
    else if (rc != ES_OK)
        exit_code = CLI_EXIT_INPUT;
    else
        exit_code = CLI_EXIT_OK;
    return exit_code;

usage:
    cli_usage(&cmd_capture_entry, stderr);
    redact_free(red);
    return CLI_EXIT_USAGE;
}

const struct cmd_entry cmd_capture_entry = {
    "capture",
    "-i IFACE [-f BPF] [--count N] [--duration S] [--snaplen N] [--port P=PROTO]... | -r FILE "
    "[--dry-run] [--threads N] [--no-payload] [--redact PATH[,PATH...]]",
    "decode events from live traffic (libpcap) or a capture file",
    "Reads HTTP/1.x, Kafka, AMQP 0-9-1, MQTT 3.1.1/5 and NATS traffic, reassembling TCP,\n"
    "and stores every event found (CloudEvents bindings or JSON bodies) with its frame\n"
    "numbers as location and the capture time as observed time.\n\n"
    "options:\n"
    "  -i IFACE          capture live on IFACE (lo, eth0, any); needs CAP_NET_RAW\n"
    "  -f BPF            capture filter, e.g. 'tcp port 9092'\n"
    "  --count N         stop after N packets\n"
    "  --duration S      stop after S seconds\n"
    "  --snaplen N       bytes kept per packet (default 262144); cut messages are rejects\n"
    "  --port P=PROTO    also decode port P as PROTO (http, kafka, amqp, mqtt, nats);\n"
    "                    defaults: http 80/8080/8000/..., kafka 9092, amqp 5672, mqtt 1883,\n"
    "                    nats 4222; other ports are recognised by their first bytes\n"
    "  --flow-mem SIZE   reassembly buffer per connection direction (default 16M)\n"
    "  --total-mem SIZE  reassembly buffers in all (default 256M)\n"
    "  --idle S          close connections silent for S seconds (default 300)\n"
    "  --max-flows N     connections tracked at once (default 65536); past it the\n"
    "                    least recently active is closed, its partial data a reject\n"
    "  --max-headers N   header fields per message (default 128, at most 1024); a\n"
    "                    message with more is a reject (<proto>_too_many_headers)\n"
    "  -r FILE           read a pcap/pcapng file (.gz too) instead of an interface\n"
    "  --dry-run         with -r: decode and count, store nothing\n"
    "  --threads N       with -r: threads decoding TCP connections besides the one\n"
    "                    reading (default: one per CPU, at most 8, less one for the\n"
    "                    store's writer; 1: decode on the reading thread). Each\n"
    "                    tracks its share of the connections (--max-flows / N) and\n"
    "                    buffers its share (--total-mem / N)\n"
    "  -q, --quiet       do not print each reject\n"
    "  --no-payload      do not store event payloads (data): only the envelope\n"
    "  --redact PATH[,PATH...]\n"
    "                    store a keyed hash instead of each named payload value\n"
    "                    (data = all of it, data.card.number, data.items.*.sku; * = any\n"
    "                    key or element): \"redacted:hmac-sha256:<32 hex>\"; equal values\n"
    "                    stay equal, so duplicates are still found. Key: environment\n"
    "                    variable EVENTSCOPE_REDACT_KEY, else a random key kept in the store\n\n"
    "Ctrl-C stops cleanly: connections are closed, what was decoded is stored, exit 130.\n\n"
    "examples:\n"
    "  eventscope capture -i lo -f 'tcp port 8080' --duration 60\n"
    "  eventscope capture -i any --port 9093=kafka\n"
    "  eventscope capture -r traffic.pcap.gz --dry-run\n",
    exec_capture,
};
