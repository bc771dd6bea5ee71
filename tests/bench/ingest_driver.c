/*
 * Benchmark driver: the product's ingest path for JSON lines, without the CLI. Reads FILE
 * line by line, parses each line with core/jdoc (jansson only for the error text of a bad
 * line), normalises it with envelope_from_doc and hands it to the sink (writer thread, bulk
 * load), as collector/file.c does; prints "events N s RATE" on stdout. --parse-only
 * stops before the sink: the cost of reading and normalising alone.
 *
 *   ingest_driver DB FILE [--no-bulk | --parse-only]
 *
 * Used by tests/bench/run.sh while (or when) `eventscope ingest` is not available.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "collector/sink.h"
#include "core/envelope.h"
#include "core/jdoc.h"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    char err[512], loc[4200];
    struct store *st;
    struct sink s;
    struct stat sb;
    struct event ev;
    FILE *f;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long long lineno = 0;
    int rc = ES_OK, bulk = !(argc > 3 && strcmp(argv[3], "--no-bulk") == 0);
    int parse_only = argc > 3 && strcmp(argv[3], "--parse-only") == 0;
    double t0;
    struct jdoc doc;

    if (argc < 3) {
        fprintf(stderr, "usage: ingest_driver DB FILE [--no-bulk | --parse-only]\n");
        return 2;
    }
    t0 = now();
    jdoc_init(&doc);
    if (store_open(argv[1], STORE_CREATE, &st, err, sizeof err) != ES_OK) {
        fprintf(stderr, "ingest_driver: %s\n", err);
        return 3;
    }
    f = strcmp(argv[2], "-") == 0 ? stdin : fopen(argv[2], "r");
    if (f == NULL || fstat(fileno(f), &sb) != 0) {
        perror(argv[2]);
        store_close(st);
        return 3;
    }
    sink_init(&s, st);
    rc = sink_origin(&s, "file", argv[2]);
    if (rc == ES_OK && bulk)
        rc = sink_bulk_begin(&s, S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size / 400 : 0);
    while (rc == ES_OK && (len = getline(&line, &cap, f)) > 0) {
        json_error_t jerr;
        const char *why = NULL;

        lineno++;
        if (line[len - 1] == '\n')
            len--;
        snprintf(loc, sizeof loc, "%s:%llu", argv[2], lineno);
        if (jdoc_parse(&doc, line, (size_t)len, 0, 0) != ES_OK) {
            json_t *bad = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
            json_decref(bad);
            rc = sink_reject(&s, loc, "json_syntax_error", jerr.text, line, (size_t)len);
            continue;
        }
        event_init(&ev);
        event_set_str(&ev.location, loc);
        event_set_str(&ev.transport, "file");
        event_set_str(&ev.direction, "log");
        if (envelope_from_doc(NULL, &doc, 0, &ev, &why) != ES_OK) {
            event_done(&ev);
            rc = sink_reject(&s, loc, why ? why : "not_an_object", NULL, line, (size_t)len);
        } else if (parse_only) {
            event_done(&ev);
        } else {
            rc = sink_event_take(&s, &ev);
        }
    }
    free(line);
    jdoc_done(&doc);
    fclose(f);
    if (rc == ES_OK && bulk)
        rc = sink_bulk_end(&s);
    if (sink_done(&s) != ES_OK && rc == ES_OK)
        rc = ES_ESTORE;
    if (rc != ES_OK)
        fprintf(stderr, "ingest_driver: %s: %s\n", es_strerror(rc), store_errmsg(st));
    store_close(st);
    printf("events %llu stored %llu present %llu rejected %llu seconds %.2f rate %.0f\n",
           lineno, (unsigned long long)s.counts.stored, (unsigned long long)s.counts.present,
           (unsigned long long)s.counts.rejected, now() - t0, (double)lineno / (now() - t0));
    return rc == ES_OK ? 0 : 3;
}
