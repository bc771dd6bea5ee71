/*
 * Test helper shared by the analyzer tests: builds a store from compact event specs with
 * store_add_event (no ingest involved), runs the analyzer, and lists its findings as
 * sorted "kind@location<related-location" strings.
 */
#ifndef ES_TEST_ANALYZER_HARNESS_H
#define ES_TEST_ANALYZER_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/analyzer.h"
#include "core/event.h"
#include "core/store.h"
#include "core/timeparse.h"
#include "core/xmalloc.h"

#define T0_US 1767225600000000LL /* 2026-01-01T00:00:00Z */
#define NO_TIME (-1)

/* One observation. loc "x:1": origin "x", location "x:1". t, obs: ms after T0 (NO_TIME: none). */
struct ev {
    const char *loc, *id, *type, *src, *corr, *cause, *dir, *chan;
    int t, obs;
    const char *data;
    const char *extra; /* "subject=..;pk=..;seq=..;vclock=..;attrs=..;time=.." ('|' separated) */
};

static __attribute__((unused)) void harness_extra(struct event *e, const char *extra)
{
    char *buf, *tok, *save = NULL;

    if (extra == NULL)
        return;
    buf = xstrdup(extra);
    for (tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL)
            continue;
        *eq++ = '\0';
        if (strcmp(tok, "subject") == 0)
            event_set_str(&e->subject, eq);
        else if (strcmp(tok, "pk") == 0)
            event_set_str(&e->partition_key, eq);
        else if (strcmp(tok, "seq") == 0)
            event_set_str(&e->sequence, eq);
        else if (strcmp(tok, "vclock") == 0)
            event_set_str(&e->vclock, eq);
        else if (strcmp(tok, "attrs") == 0)
            event_set_str(&e->attrs, eq);
        else if (strcmp(tok, "time") == 0) {
            int64_t us;
            int flags;
            event_set_str(&e->time_raw, eq);
            e->time_us = timeparse_text(eq, strlen(eq), &us, &flags) == ES_OK ? us : ES_TIME_NONE;
        }
    }
    free(buf);
}

/* Creates a fresh store at path holding evs[n]. Returns the store (open). */
static __attribute__((unused)) struct store *harness_store(const char *path, const struct ev *evs,
                                                           size_t n)
{
    struct store *st;
    char err[512];
    size_t i;

    unlink(path);
    {
        char wal[600];
        snprintf(wal, sizeof wal, "%s-wal", path);
        unlink(wal);
        snprintf(wal, sizeof wal, "%s-shm", path);
        unlink(wal);
    }
    if (store_open(path, STORE_CREATE, &st, err, sizeof err) != ES_OK) {
        fprintf(stderr, "store_open: %s\n", err);
        exit(2);
    }
    for (i = 0; i < n; i++) {
        const struct ev *s = &evs[i];
        struct event e;
        char origin[64], tbuf[TIMEPARSE_FORMAT_LEN];
        const char *colon = strchr(s->loc, ':');
        int64_t oid;
        size_t olen = colon ? (size_t)(colon - s->loc) : strlen(s->loc);

        snprintf(origin, sizeof origin, "%.*s", (int)olen, s->loc);
        if (store_origin(st, "file", origin, &oid) != ES_OK) {
            fprintf(stderr, "store_origin failed: %s\n", store_errmsg(st));
            exit(2);
        }
        event_init(&e);
        event_set_str(&e.location, s->loc);
        event_set_str(&e.event_id, s->id);
        event_set_str(&e.type, s->type);
        event_set_str(&e.source, s->src);
        event_set_str(&e.correlation_id, s->corr);
        event_set_str(&e.causation_id, s->cause);
        event_set_str(&e.direction, s->dir ? s->dir : "log");
        event_set_str(&e.channel, s->chan);
        event_set_str(&e.transport, "file");
        if (s->t != NO_TIME) {
            e.time_us = T0_US + (int64_t)s->t * 1000;
            timeparse_format(e.time_us, tbuf, sizeof tbuf);
            event_set_str(&e.time_raw, tbuf);
        }
        if (s->obs != NO_TIME && s->obs != 0)
            e.observed_us = T0_US + (int64_t)s->obs * 1000;
        if (s->data) {
            event_set_str(&e.data, s->data);
            e.payload_hash = event_hash(s->data, strlen(s->data));
        }
        harness_extra(&e, s->extra);
        if (store_add_event(st, oid, &e, NULL) != ES_OK) {
            fprintf(stderr, "store_add_event failed: %s\n", store_errmsg(st));
            exit(2);
        }
        event_done(&e);
    }
    if (store_commit(st) != ES_OK) {
        fprintf(stderr, "store_commit failed: %s\n", store_errmsg(st));
        exit(2);
    }
    return st;
}

static __attribute__((unused)) int harness_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Findings as sorted "kind@loc" or "kind@loc<relatedloc" strings (owned, NULL-terminated
 * array). Kinds starting with one of the ignore prefixes (comma list, may be NULL) are left out.
 */
static __attribute__((unused)) char **harness_findings(struct store *st, const char *ignore,
                                                       size_t *n)
{
    sqlite3_stmt *q;
    char **v = NULL;
    size_t cnt = 0;

    if (sqlite3_prepare_v2(store_db(st),
                           "SELECT f.kind, e.location, r.location FROM findings AS f"
                           " LEFT JOIN events AS e ON e.seq = f.event_seq"
                           " LEFT JOIN events AS r ON r.seq = f.related_seq",
                           -1, &q, NULL) != SQLITE_OK)
        exit(2);
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(q, 0);
        const char *loc = (const char *)sqlite3_column_text(q, 1);
        const char *rel = (const char *)sqlite3_column_text(q, 2);
        int skip = 0;
        if (ignore) {
            char *buf = xstrdup(ignore), *tok, *save = NULL;
            for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                if (strncmp(kind, tok, strlen(tok)) == 0)
                    skip = 1;
            free(buf);
        }
        if (skip)
            continue;
        v = xreallocarray(v, cnt + 2, sizeof *v);
        v[cnt++] = rel ? xasprintf("%s@%s<%s", kind, loc ? loc : "?", rel)
                       : xasprintf("%s@%s", kind, loc ? loc : "?");
    }
    sqlite3_finalize(q);
    if (v == NULL)
        v = xcalloc(1, sizeof *v);
    qsort(v, cnt, sizeof *v, harness_cmp);
    v[cnt] = NULL;
    *n = cnt;
    return v;
}

static __attribute__((unused)) void harness_free(char **v)
{
    size_t i;

    for (i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

#endif
