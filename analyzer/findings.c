/* Finding kinds table and the findings writer (temporary table, then one replacing copy). */
#include <stdio.h>
#include <string.h>

#include "analyzer/findings.h"

static const struct {
    const char *name, *severity, *text;
} kinds[] = {
#define X(id, name, sev, text) {name, sev, text},
    FINDING_KINDS(X)
#undef X
};

const char *finding_kind_name(enum finding_kind k)
{
    return (unsigned)k < FINDING_NKINDS ? kinds[k].name : "unknown";
}

const char *finding_kind_severity(enum finding_kind k)
{
    return (unsigned)k < FINDING_NKINDS ? kinds[k].severity : FINDING_INFO;
}

const char *finding_kind_text(enum finding_kind k)
{
    return (unsigned)k < FINDING_NKINDS ? kinds[k].text : "";
}

int finding_kind_find(const char *name)
{
    int i;

    for (i = 0; i < FINDING_NKINDS; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return i;
    return -1;
}

int finding_severity_rank(const char *severity)
{
    if (severity == NULL)
        return 3;
    if (strcmp(severity, FINDING_ERROR) == 0)
        return 0;
    if (strcmp(severity, FINDING_WARNING) == 0)
        return 1;
    if (strcmp(severity, FINDING_INFO) == 0)
        return 2;
    return 3;
}

int finding_kind_matches(const char *kind, const char *pattern)
{
    size_t n = strlen(pattern);

    if (n == 0 || kind == NULL)
        return 0;
    if (strncmp(kind, pattern, n) != 0)
        return 0;
    return kind[n] == '\0' || kind[n] == '.' || pattern[n - 1] == '.';
}

static int fail(struct findings_writer *w, const char *what)
{
    snprintf(w->errmsg, sizeof w->errmsg, "%s: %s", what, sqlite3_errmsg(w->db));
    return ES_ESTORE;
}

int findings_begin(struct findings_writer *w, sqlite3 *db)
{
    memset(w, 0, sizeof *w);
    w->db = db;
    /* Findings can outnumber what memory should hold: keep the temp table on disk. */
    if (sqlite3_exec(db,
                     "PRAGMA temp_store = FILE;"
                     "DROP TABLE IF EXISTS temp.es_findings;"
                     "CREATE TEMP TABLE es_findings(kind TEXT, severity TEXT, correlation_id TEXT,"
                     " event_seq INTEGER, related_seq INTEGER, message TEXT, detail TEXT)",
                     NULL, NULL, NULL) != SQLITE_OK)
        return fail(w, "create temporary findings table");
    if (sqlite3_prepare_v2(db, "INSERT INTO temp.es_findings VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           -1, &w->ins, NULL) != SQLITE_OK)
        return fail(w, "prepare findings insert");
    return ES_OK;
}

int findings_add(struct findings_writer *w, enum finding_kind kind, const char *severity,
                 const char *correlation_id, int64_t event_seq, int64_t related_seq,
                 const char *message, const char *detail)
{
    sqlite3_stmt *s = w->ins;

    sqlite3_bind_text(s, 1, finding_kind_name(kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, severity ? severity : finding_kind_severity(kind), -1, SQLITE_STATIC);
    if (correlation_id)
        sqlite3_bind_text(s, 3, correlation_id, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 3);
    sqlite3_bind_int64(s, 4, event_seq);
    if (related_seq > 0)
        sqlite3_bind_int64(s, 5, related_seq);
    else
        sqlite3_bind_null(s, 5);
    sqlite3_bind_text(s, 6, message ? message : finding_kind_text(kind), -1, SQLITE_TRANSIENT);
    if (detail)
        sqlite3_bind_text(s, 7, detail, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 7);
    if (sqlite3_step(s) != SQLITE_DONE) {
        sqlite3_reset(s);
        return fail(w, "insert finding");
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    w->count++;
    return ES_OK;
}

int findings_drop(struct findings_writer *w, const char *prefix, const int64_t *seqs, size_t n)
{
    sqlite3_stmt *s;
    size_t i;
    int rc = ES_OK;

    if (n == 0)
        return ES_OK;
    if (sqlite3_exec(w->db,
                     "CREATE INDEX IF NOT EXISTS temp.es_findings_seq"
                     " ON es_findings(event_seq)",
                     NULL, NULL, NULL) != SQLITE_OK)
        return fail(w, "index temporary findings");
    if (sqlite3_prepare_v2(w->db,
                           "DELETE FROM temp.es_findings WHERE event_seq = ?1 AND"
                           " substr(kind, 1, length(?2)) = ?2",
                           -1, &s, NULL) != SQLITE_OK)
        return fail(w, "prepare findings delete");
    sqlite3_bind_text(s, 2, prefix, -1, SQLITE_STATIC);
    for (i = 0; i < n && rc == ES_OK; i++) {
        sqlite3_bind_int64(s, 1, seqs[i]);
        if (sqlite3_step(s) != SQLITE_DONE)
            rc = fail(w, "delete finding");
        else
            w->count -= (uint64_t)sqlite3_changes(w->db);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    return rc;
}

#define FINDINGS_WRITE_WAIT_MS 180000

int findings_commit(struct findings_writer *w, const char *const *meta, size_t nmeta)
{
    sqlite3_stmt *m = NULL;
    size_t i;
    int rc;

    /*
     * An ingest or a tap may hold the write lock for a while (a bulk load rebuilds its
     * indexes in one transaction): wait for it as long as the store's own writers do
     * (core/store.c, STORE_WRITER_WAIT_MS) instead of the readers' 5 s.
     */
    sqlite3_busy_timeout(w->db, FINDINGS_WRITE_WAIT_MS);
    rc = sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_busy_timeout(w->db, 5000);
    if (rc != SQLITE_OK)
        return fail(w, "begin findings transaction");
    if (sqlite3_exec(w->db,
                     "DELETE FROM findings;"
                     "INSERT INTO findings(kind, severity, correlation_id, event_seq, related_seq,"
                     " message, detail)"
                     " SELECT f.kind, f.severity, coalesce(f.correlation_id,"
                     "  (SELECT e.correlation_id FROM events AS e WHERE e.seq = f.event_seq)),"
                     "  f.event_seq, f.related_seq, f.message, f.detail"
                     " FROM temp.es_findings AS f"
                     " ORDER BY CASE f.severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1"
                     "  ELSE 2 END, f.kind, f.event_seq",
                     NULL, NULL, NULL) != SQLITE_OK)
        goto failed;
    if (nmeta) {
        if (sqlite3_prepare_v2(w->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", -1,
                               &m, NULL) != SQLITE_OK)
            goto failed;
        for (i = 0; i < nmeta; i++) {
            sqlite3_bind_text(m, 1, meta[2 * i], -1, SQLITE_STATIC);
            sqlite3_bind_text(m, 2, meta[2 * i + 1], -1, SQLITE_STATIC);
            if (sqlite3_step(m) != SQLITE_DONE)
                goto failed;
            sqlite3_reset(m);
        }
        sqlite3_finalize(m);
        m = NULL;
    }
    if (sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto failed;
    return ES_OK;
failed:
    fail(w, "replace findings");
    sqlite3_finalize(m);
    sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
    return ES_ESTORE;
}

void findings_done(struct findings_writer *w)
{
    if (w->db == NULL)
        return;
    sqlite3_finalize(w->ins);
    w->ins = NULL;
    sqlite3_exec(w->db, "DROP TABLE IF EXISTS temp.es_findings", NULL, NULL, NULL);
    w->db = NULL;
}
