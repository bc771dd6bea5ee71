/* Per-process status and per-source metadata scorecard (see status.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analyzer/hmap.h"
#include "analyzer/status.h"
#include "core/event.h"
#include "core/xmalloc.h"

struct analyzer_status {
    sqlite3 *db;                       /* borrowed, NULL for analyzer_status_new */
    const struct analyzer_config *cfg; /* borrowed or &own_cfg */
    struct analyzer_config own_cfg;
    struct hmap effect_types; /* hashes of types that cause other events (a set) */
    int64_t now_us;
    sqlite3_stmt *proc; /* the per-process query */
};

static const char *const state_names[ANALYZER_NSTATES] = {"completed", "failed", "in_flight",
                                                          "stuck"};

const char *analyzer_state_name(enum analyzer_state s)
{
    return (unsigned)s < ANALYZER_NSTATES ? state_names[s] : "unknown";
}

static const char *const attr_names[ANALYZER_NATTRS] = {
#define X(name, text) text,
    ANALYZER_ATTRS(X)
#undef X
};

const char *analyzer_attr_name(enum analyzer_attr a)
{
    return (unsigned)a < ANALYZER_NATTRS ? attr_names[a] : "unknown";
}

static uint64_t type_key(const char *t)
{
    return hmap_key(event_hash(t, strlen(t)));
}

struct analyzer_status *analyzer_status_new(const struct analyzer_config *cfg, int64_t now_us)
{
    struct analyzer_status *s = xcalloc(1, sizeof *s);

    analyzer_config_init(&s->own_cfg);
    s->cfg = cfg ? cfg : &s->own_cfg;
    hmap_init(&s->effect_types, 0, 64);
    s->now_us = now_us;
    return s;
}

void analyzer_status_add_effect_type(struct analyzer_status *s, const char *type)
{
    if (type)
        (void)hmap_put(&s->effect_types, type_key(type), NULL);
}

void analyzer_status_free(struct analyzer_status *s)
{
    if (s == NULL)
        return;
    sqlite3_finalize(s->proc);
    hmap_done(&s->effect_types);
    analyzer_config_done(&s->own_cfg);
    free(s);
}

int64_t analyzer_status_now(const struct analyzer_status *s)
{
    return s->now_us;
}

void analyzer_status_set_now(struct analyzer_status *s, int64_t now_us)
{
    s->now_us = now_us;
}

static int64_t max_seq(sqlite3 *db)
{
    sqlite3_stmt *q;
    int64_t v = 0;

    if (sqlite3_prepare_v2(db, "SELECT max(seq) FROM events", -1, &q, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* Reads the analyzer's cache from meta when it matches the store. 1 when used. */
static int load_cache(struct analyzer_status *s)
{
    sqlite3_stmt *q;
    json_t *root = NULL, *arr;
    size_t i;
    int used = 0;

    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'analyzer_effect_types'", -1,
                           &q, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0)) {
        json_error_t jerr;
        root = json_loadb((const char *)sqlite3_column_text(q, 0),
                          (size_t)sqlite3_column_bytes(q, 0), JSON_REJECT_DUPLICATES, &jerr);
    }
    sqlite3_finalize(q);
    if (root && json_integer_value(json_object_get(root, "max_seq")) == max_seq(s->db) &&
        json_is_array(arr = json_object_get(root, "effect_types"))) {
        for (i = 0; i < json_array_size(arr); i++)
            analyzer_status_add_effect_type(s, json_string_value(json_array_get(arr, i)));
        if (json_is_integer(json_object_get(root, "now_us")))
            s->now_us = json_integer_value(json_object_get(root, "now_us"));
        used = 1;
    }
    json_decref(root);
    return used;
}

int analyzer_status_open(sqlite3 *db, const struct analyzer_config *cfg,
                         struct analyzer_status **out, char *err, size_t errlen)
{
    struct analyzer_status *s = analyzer_status_new(cfg, INT64_MIN);
    sqlite3_stmt *q = NULL;
    int rc;

    *out = NULL;
    s->db = db;
    if (!load_cache(s)) {
        if (sqlite3_prepare_v2(db,
                               "SELECT DISTINCT c.type FROM events AS c WHERE c.type IS NOT NULL"
                               " AND c.event_id IN (SELECT causation_id FROM events"
                               " WHERE causation_id IS NOT NULL)",
                               -1, &q, NULL) != SQLITE_OK)
            goto failed;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW)
            analyzer_status_add_effect_type(s, (const char *)sqlite3_column_text(q, 0));
        if (rc != SQLITE_DONE)
            goto failed;
        sqlite3_finalize(q);
        if (sqlite3_prepare_v2(db, "SELECT max(time_us) FROM events", -1, &q, NULL) != SQLITE_OK)
            goto failed;
        if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
            s->now_us = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        q = NULL;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT type, time_us, observed_us FROM events"
                           " WHERE correlation_id = ?1 ORDER BY seq",
                           -1, &s->proc, NULL) != SQLITE_OK)
        goto failed;
    *out = s;
    return ES_OK;
failed:
    snprintf(err, errlen, "cannot learn process status: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    analyzer_status_free(s);
    return ES_ESTORE;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int analyzer_status_is_failure(const struct analyzer_config *cfg, const char *type)
{
    static const char *const suffixes[] = {"Failed",   "Rejected", "Cancelled", "Canceled",
                                           "Declined", "Aborted",  "Expired",   "TimedOut",
                                           "failed",   "rejected", "cancelled", "canceled",
                                           "declined", "aborted",  "expired",   "timed_out"};
    size_t i;

    if (type == NULL)
        return 0;
    if (cfg && analyzer_config_has_type(&cfg->failure_types, type))
        return 1;
    for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (ends_with(type, suffixes[i]))
            return 1;
    return 0;
}

enum analyzer_state analyzer_status_classify(const struct analyzer_status *s, const char *last_type,
                                             int64_t last_us)
{
    if (analyzer_status_is_failure(s->cfg, last_type))
        return ANALYZER_FAILED;
    if (last_type && (analyzer_config_has_type(&s->cfg->terminal_types, last_type) ||
                      hmap_get(&s->effect_types, type_key(last_type)) == NULL))
        return ANALYZER_COMPLETED;
    if (last_us != INT64_MIN && s->now_us != INT64_MIN &&
        s->now_us - last_us > s->cfg->stuck_after_us)
        return ANALYZER_STUCK;
    return ANALYZER_IN_FLIGHT;
}

int analyzer_process_status(struct analyzer_status *s, const char *correlation_id,
                            struct analyzer_process *out)
{
    sqlite3_stmt *q = s->proc;
    int rc;
    int64_t best = INT64_MIN;

    memset(out, 0, sizeof *out);
    out->first_us = out->last_us = INT64_MIN;
    if (q == NULL)
        return ES_ESTORE;
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, correlation_id, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t t = INT64_MIN;
        if (sqlite3_column_type(q, 1) != SQLITE_NULL)
            t = sqlite3_column_int64(q, 1);
        else if (sqlite3_column_type(q, 2) != SQLITE_NULL)
            t = sqlite3_column_int64(q, 2);
        out->events++;
        if (t != INT64_MIN && (out->first_us == INT64_MIN || t < out->first_us))
            out->first_us = t;
        /* The last event: greatest time; ties and untimed events go by store order. */
        if ((t != INT64_MIN && t >= best) || best == INT64_MIN) {
            if (t != INT64_MIN)
                best = t;
            free(out->last_type);
            out->last_type = xstrdup((const char *)sqlite3_column_text(q, 0));
        }
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        analyzer_process_done(out);
        return ES_ESTORE;
    }
    if (out->events == 0)
        return ES_ENOTFOUND;
    out->correlation_id = xstrdup(correlation_id);
    out->last_us = best;
    out->state = analyzer_status_classify(s, out->last_type, best);
    return ES_OK;
}

void analyzer_process_done(struct analyzer_process *p)
{
    free(p->correlation_id);
    free(p->last_type);
    p->correlation_id = p->last_type = NULL;
}

int analyzer_scorecard(sqlite3 *db, struct analyzer_scorecard **out, size_t *n)
{
    sqlite3_stmt *q;
    struct analyzer_scorecard *v = NULL;
    size_t cnt = 0;
    int rc, i;

    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT nullif(source, ''), count(*), count(nullif(event_id, '')),"
                           " count(nullif(type, '')), count(nullif(source, '')),"
                           " count(coalesce(time_raw, time_us)),"
                           " count(nullif(correlation_id, '')), count(nullif(causation_id, '')),"
                           " count(nullif(subject, '')), count(nullif(sequence, '')),"
                           " count(vclock), sum(attrs LIKE '%\"traceparent\"%')"
                           " FROM events GROUP BY 1 ORDER BY 1 IS NULL, 1",
                           -1, &q, NULL) != SQLITE_OK)
        return ES_ESTORE;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct analyzer_scorecard *c;
        v = xreallocarray(v, cnt + 1, sizeof *v);
        c = &v[cnt++];
        memset(c, 0, sizeof *c);
        c->source = xstrdup((const char *)sqlite3_column_text(q, 0));
        c->events = (uint64_t)sqlite3_column_int64(q, 1);
        for (i = 0; i < ANALYZER_NATTRS; i++)
            c->with[i] = (uint64_t)sqlite3_column_int64(q, 2 + i);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        analyzer_scorecard_free(v, cnt);
        return ES_ESTORE;
    }
    *out = v;
    *n = cnt;
    return ES_OK;
}

void analyzer_scorecard_free(struct analyzer_scorecard *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i].source);
    free(v);
}
