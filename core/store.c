/*
 * The SQLite store of DESIGN.md ("The store"): opening with refusal of foreign, corrupt or
 * newer files, the schema and its migrations, and the batched writer (prepared statements,
 * big transactions committed on size and on time, secondary indexes deferred during a bulk
 * load into an empty or small store). docs/internals/STORE.md explains the write path.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xmalloc.h"

/* ---- Schema ------------------------------------------------------------------------ */

/*
 * Version 1: the tables of DESIGN.md. Every column is commented: users query these with
 * sqlite3, the names are a public contract. Indexes live in store_indexes[] below so a bulk
 * load can defer them; a migration that adds an index adds a row there and creates it.
 */
static const char schema_v1[] =
    "CREATE TABLE IF NOT EXISTS meta(\n"
    "  key   TEXT PRIMARY KEY, -- application, schema_version, created_at, indexes_deferred\n"
    "  value TEXT              -- its value, as text\n"
    ");\n"
    "CREATE TABLE origins(\n"
    "  id         INTEGER PRIMARY KEY, -- referenced by events.origin_id and rejects.origin_id\n"
    "  kind       TEXT NOT NULL,       -- file | pcap | capture | tap\n"
    "  uri        TEXT NOT NULL,       -- file path, capture interface, or broker URL\n"
    "  first_seen TEXT NOT NULL,       -- UTC time (ISO 8601) this origin was first ingested\n"
    "  UNIQUE(kind, uri)\n"
    ");\n"
    "CREATE TABLE events(\n"
    "  seq            INTEGER PRIMARY KEY, -- observation order within the store\n"
    "  origin_id      INTEGER,  -- origins.id this observation came from\n"
    "  location       TEXT,     -- file:line, pcap frame number, partition@offset\n"
    "  event_id       TEXT,     -- envelope id (CloudEvents id)\n"
    "  type           TEXT,     -- envelope type, e.g. OrderPlaced\n"
    "  source         TEXT,     -- producer (CloudEvents source / service)\n"
    "  subject        TEXT,     -- CloudEvents subject\n"
    "  partition_key  TEXT,     -- ordering key (NULL: checks fall back to subject)\n"
    "  sequence       TEXT,     -- producer sequence number as written\n"
    "  time_us        INTEGER,  -- producer's time, UTC microseconds since the epoch\n"
    "  time_raw       TEXT,     -- producer's time as written\n"
    "  observed_us    INTEGER,  -- when observed: capture, log-line or delivery time, UTC us\n"
    "  correlation_id TEXT,     -- business process id\n"
    "  causation_id   TEXT,     -- event_id of the event that caused this one\n"
    "  transport      TEXT,     -- file | http | kafka | amqp | mqtt | nats\n"
    "  channel        TEXT,     -- topic / queue / subject / URL path\n"
    "  direction      TEXT,     -- publish | deliver | log\n"
    "  vclock         TEXT,     -- vector clock: canonical JSON object, keys sorted\n"
    "  payload_hash   INTEGER,  -- 64-bit FNV-1a of data (NULL without data)\n"
    "  data           TEXT,     -- payload, JSON text\n"
    "  attrs          TEXT,     -- JSON object of every attribute not mapped to a column\n"
    "  UNIQUE(origin_id, location) -- re-ingesting the same input adds nothing\n"
    ");\n"
    "CREATE TABLE findings(\n"
    "  id             INTEGER PRIMARY KEY, -- finding number\n"
    "  kind           TEXT,     -- e.g. duplicate.exact, causality.orphan (DESIGN.md)\n"
    "  severity       TEXT,     -- error | warning | info\n"
    "  correlation_id TEXT,     -- process the finding belongs to (may be NULL)\n"
    "  event_seq      INTEGER,  -- events.seq of the offending event\n"
    "  related_seq    INTEGER,  -- events.seq of its context (cause, first copy), or NULL\n"
    "  message        TEXT,     -- one line a person can act on\n"
    "  detail         TEXT      -- JSON object with the numbers behind the message\n"
    ");\n"
    "CREATE TABLE rejects(\n"
    "  origin_id INTEGER, -- origins.id of the input\n"
    "  location  TEXT,    -- where the unreadable record is (file:line, frame N, ...)\n"
    "  reason    TEXT,    -- snake_case reason, e.g. json_syntax_error\n"
    "  excerpt   TEXT,    -- the record's first bytes, invalid UTF-8 and NUL replaced\n"
    "  UNIQUE(origin_id, location, reason) -- re-ingesting keeps one row per bad record\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS findings_correlation ON findings(correlation_id);\n"
    "CREATE INDEX IF NOT EXISTS findings_event ON findings(event_seq);\n";

/*
 * Version 2: the storage segment. seg = seq >> STORE_SEG_SHIFT (rows of version 1 keep NULL)
 * leads the event_id and causation_id indexes: those keys are random UUIDs, so in a plain
 * index every appended row dirtied a random leaf page of a store-sized B-tree (a cache miss
 * and a 4 KB WAL write per row and index once the store outgrows the cache). With the
 * segment first, appends only touch the newest segment's part of each index, which stays
 * in the cache. `WHERE event_id = ?` still uses the index: SQLite's skip-scan seeks once per
 * segment (a 10M-row store has 20), guided by the sqlite_stat1 rows write_stats() writes.
 * events_correlation stays a plain index: the analyzer and the TUI scan it in order. The
 * indexes themselves are (re)built by migrate() after the steps (store_indexes[]).
 * A column comment must be a C comment here: ALTER TABLE appends this text to the table's
 * CREATE statement, just before its closing parenthesis.
 */
static const char schema_v2[] =
    "ALTER TABLE events ADD COLUMN seg INTEGER /* storage segment: seq >> 19 (NULL: rows"
    " stored before schema 2); leads the event_id and causation_id indexes */;\n"
    "DROP INDEX IF EXISTS events_event_id;\n"
    "DROP INDEX IF EXISTS events_causation;\n";

/* One step of the schema's history: applying every step above the file's version. */
struct store_migration {
    int version;     /* schema_version after this step */
    const char *sql; /* statements to run, in the migration's transaction */
};

static const struct store_migration store_migrations[] = {
    {1, schema_v1},
    {2, schema_v2},
};

/* Secondary indexes on events; those with defer set are dropped during a bulk load into a
 * small store and rebuilt at its end. */
struct store_index {
    const char *name;
    const char *create;
    int defer; /* random keys (UUIDs): one sort at the end beats a random insert per row */
};

static const struct store_index store_indexes[] = {
    {"events_correlation",
     "CREATE INDEX IF NOT EXISTS events_correlation ON events(correlation_id)", 1},
    /* Segment first (schema_v2): appends touch only the newest part of these two. */
    {"events_causation",
     "CREATE INDEX IF NOT EXISTS events_causation ON events(seg, causation_id)", 1},
    {"events_event_id", "CREATE INDEX IF NOT EXISTS events_event_id ON events(seg, event_id)",
     1},
    /* Times mostly grow in observation order: inserts land at the B-tree's right edge. */
    {"events_time", "CREATE INDEX IF NOT EXISTS events_time ON events(time_us)", 0},
};

#define NINDEXES (sizeof store_indexes / sizeof store_indexes[0])
#define NMIGRATIONS (sizeof store_migrations / sizeof store_migrations[0])

/* Rows per transaction, and the longest a transaction stays open (readers see progress). */
#define STORE_BATCH_ROWS 5000
#define STORE_BULK_BATCH_ROWS 50000
#define STORE_BATCH_MS 1000
/* How long a writer waits in all for another writer's lock before giving up. */
#define STORE_WRITER_WAIT_MS 180000
/*
 * Page cache (KB, for the pragma), also for a bulk load into a big store: a bigger one (192
 * MB was tried) costs more in page faults to fill than it saves in reads; appending 100k
 * rows to 10M ran 35-44k rows/s with it and 45-55k with this (RESULTS.md).
 */
#define STORE_CACHE_KB "65536"
/*
 * Bytes of WAL kept after a checkpoint. A commit into a big store writes 100+ MB of index
 * pages to the WAL; truncating it to less makes every commit grow the file again.
 */
#define STORE_WAL_KEEP "268435456"
/*
 * Page cache while CREATE INDEX sorts (KB). SQLite sizes its in-memory sort runs from the
 * cache: small runs stay in the CPU caches, are sorted by the helper thread while the main
 * thread scans, then merged. Measured on 1M rows (RESULTS.md): 1-2 MB is fastest, 64 MB
 * costs ~45% more CPU and 192 MB more still.
 */
#define STORE_SORT_CACHE_KB "2048"
/* A bulk load defers indexes when the store holds at most this many rows (or fewer than
 * the load is expected to add). */
#define STORE_BULK_SMALL 200000

static const char *const event_insert_sql =
    "INSERT OR IGNORE INTO events(origin_id, location, event_id, type, source, subject,"
    " partition_key, sequence, time_us, time_raw, observed_us, correlation_id, causation_id,"
    " transport, channel, direction, vclock, payload_hash, data, attrs, seg)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
    " ?19, ?20, ?21)";

/* Rows per storage segment: seg = seq >> STORE_SEG_SHIFT (schema_v2). 2^19 rows make ~25 MB
 * of each segment-led index: the newest segment of both stays in the page cache. */
#define STORE_SEG_SHIFT 19

/* ---- The handle -------------------------------------------------------------------- */

struct store {
    sqlite3 *db;
    char *path;
    unsigned flags;
    char err[512];              /* last error: statement name and SQLite's message */
    sqlite3_stmt *ins_event;    /* event_insert_sql */
    sqlite3_stmt *ins_reject;   /* INSERT OR IGNORE INTO rejects */
    sqlite3_stmt *sel_origin;   /* SELECT id FROM origins WHERE kind, uri */
    sqlite3_stmt *ins_origin;   /* INSERT INTO origins */
    sqlite3_stmt *sel_maxseq;   /* SELECT max(seq) FROM events */
    int64_t next_seq;           /* seq the next inserted row gets (its seg), in a transaction */
    int in_txn;                 /* a write transaction is open */
    unsigned pending;           /* rows written in the open transaction */
    unsigned batch_rows;        /* commit after this many rows */
    int64_t txn_start_ms;       /* monotonic time the transaction began */
    int bulk;                   /* between store_bulk_begin and store_bulk_end */
    int deferred;               /* secondary indexes dropped, to recreate at bulk end */
};

static atomic_int fault_countdown; /* store_fault_after: 0 = off */

void store_fault_after(int n)
{
    atomic_store(&fault_countdown, n);
}

/* 1 when the fault hook says this SQLite call must fail. */
static int fault_hit(void)
{
    int n = atomic_load(&fault_countdown);

    while (n > 0) {
        if (atomic_compare_exchange_weak(&fault_countdown, &n, n - 1))
            return n == 1;
    }
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_err(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct store *st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(st->err, sizeof st->err, fmt, ap);
    va_end(ap);
}

/* ---- The one wrapper around SQLite calls (fault injection, error text) ------------------ */

/* Prepares sql into *out; what names the statement in errors. */
static int db_prepare(struct store *st, const char *what, const char *sql, sqlite3_stmt **out)
{
    int rc;

    *out = NULL;
    if (fault_hit()) {
        set_err(st, "%s: %s: injected fault (store_fault_after)", st->path, what);
        return ES_ESTORE;
    }
    rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    if (rc != SQLITE_OK) {
        set_err(st, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
        return ES_ESTORE;
    }
    return ES_OK;
}

/* Steps s once; *row (may be NULL) is 1 on SQLITE_ROW. Resets s when done or failed. */
static int db_step(struct store *st, const char *what, sqlite3_stmt *s, int *row)
{
    int rc;

    if (row)
        *row = 0;
    if (fault_hit()) {
        sqlite3_reset(s);
        set_err(st, "%s: %s: injected fault (store_fault_after)", st->path, what);
        return ES_ESTORE;
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && row) {
        *row = 1;
        return ES_OK;
    }
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        sqlite3_reset(s);
        return ES_OK;
    }
    set_err(st, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
    sqlite3_reset(s);
    return ES_ESTORE;
}

/* Runs a constant SQL text (no input data in it). */
static int db_exec(struct store *st, const char *what, const char *sql)
{
    char *msg = NULL;
    int rc, waited = 0;

    if (fault_hit()) {
        set_err(st, "%s: %s: injected fault (store_fault_after)", st->path, what);
        return ES_ESTORE;
    }
    rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
    /*
     * Another writer (a second ingest, a tap) holds the write lock: each attempt waits the
     * busy timeout (5 s); a writer keeps waiting up to STORE_WRITER_WAIT_MS in all rather
     * than fail, since the other one's transactions are short but its index builds are not.
     */
    while ((rc & 0xff) == SQLITE_BUSY && waited < STORE_WRITER_WAIT_MS &&
           !(st->flags & STORE_READONLY)) {
        sqlite3_free(msg);
        msg = NULL;
        waited += 5000;
        rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
    }
    if (rc != SQLITE_OK) {
        set_err(st, "%s: %s: %s", st->path, what, msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return ES_ESTORE;
    }
    return ES_OK;
}

/* ---- Transactions ------------------------------------------------------------------ */

/* Rolls back the open transaction after a failure, so the store stays as last committed. */
static void txn_abort(struct store *st)
{
    if (!st->in_txn)
        return;
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    st->in_txn = 0;
    st->pending = 0;
}

static int txn_begin(struct store *st)
{
    int rc;

    if (st->in_txn)
        return ES_OK;
    rc = db_exec(st, "begin transaction", "BEGIN IMMEDIATE");
    if (rc != ES_OK)
        return rc;
    st->in_txn = 1;
    st->pending = 0;
    st->txn_start_ms = now_ms();
    /* Under the write lock: nobody else adds rows until we commit, so seq is exact. */
    if (st->sel_maxseq != NULL) {
        int row = 0;
        rc = db_step(st, "count events", st->sel_maxseq, &row);
        if (rc != ES_OK) {
            txn_abort(st);
            return rc;
        }
        st->next_seq = row ? sqlite3_column_int64(st->sel_maxseq, 0) + 1 : 1;
        sqlite3_reset(st->sel_maxseq);
    }
    return ES_OK;
}

int store_commit(struct store *st)
{
    int rc;

    if (!st->in_txn)
        return ES_OK;
    rc = db_exec(st, "commit", "COMMIT");
    if (rc != ES_OK) {
        txn_abort(st);
        return rc;
    }
    st->in_txn = 0;
    st->pending = 0;
    return ES_OK;
}

/* Commits when the batch is full or has been open long enough. */
static int txn_maybe_commit(struct store *st)
{
    if (st->pending >= st->batch_rows ||
        ((st->pending & 255) == 0 && now_ms() - st->txn_start_ms >= STORE_BATCH_MS))
        return store_commit(st);
    return ES_OK;
}

/* ---- Opening ----------------------------------------------------------------------- */

/* The file's first 16 bytes are SQLite's header: 1 yes, 0 no, -1 empty file. */
static int has_sqlite_header(const char *path)
{
    static const char magic[16] = "SQLite format 3";
    char buf[16];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof buf);
    close(fd);
    if (n == 0)
        return -1;
    return n == (ssize_t)sizeof buf && memcmp(buf, magic, sizeof buf) == 0;
}

/* Reads meta[key] into buf (empty when absent). Returns SQLite's rc of the lookup. */
static int meta_get(sqlite3 *db, const char *key, char *buf, size_t len)
{
    sqlite3_stmt *s = NULL;
    int rc;

    buf[0] = '\0';
    rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(s, 0);
        snprintf(buf, len, "%s", v ? (const char *)v : "");
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc;
}

static int meta_set(struct store *st, const char *key, const char *value)
{
    sqlite3_stmt *s = NULL;
    int rc = db_prepare(st, "set meta", "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
                        &s);

    if (rc != ES_OK)
        return rc;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    rc = db_step(st, "set meta", s, NULL);
    sqlite3_finalize(s);
    return rc;
}

static int meta_delete(struct store *st, const char *key)
{
    sqlite3_stmt *s = NULL;
    int rc = db_prepare(st, "delete meta", "DELETE FROM meta WHERE key = ?1", &s);

    if (rc != ES_OK)
        return rc;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    rc = db_step(st, "delete meta", s, NULL);
    sqlite3_finalize(s);
    return rc;
}

/*
 * Opens path read-only for a look. Without a -wal file beside it, as immutable: SQLite then
 * takes no lock and creates no -wal/-shm file, so a foreign database is left exactly as it
 * was, sidecars included. With a -wal file (a store being written), a plain read-only open
 * sees the committed content of the WAL too.
 */
static int open_for_inspection(const char *path, sqlite3 **db)
{
    static const char hex[] = "0123456789ABCDEF";
    struct stat sb;
    char *wal = xasprintf("%s-wal", path), *uri;
    const unsigned char *p;
    size_t o = 0;
    int rc, has_wal = stat(wal, &sb) == 0;

    free(wal);
    if (has_wal)
        return sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL);
    uri = xmalloc(strlen(path) * 3 + sizeof "file:?immutable=1");
    o = (size_t)sprintf(uri, "file:");
    for (p = (const unsigned char *)path; *p; p++) {
        if (*p == '%' || *p == '?' || *p == '#' || *p <= 0x20 || *p >= 0x7f) {
            uri[o++] = '%';
            uri[o++] = hex[*p >> 4];
            uri[o++] = hex[*p & 15];
        } else {
            uri[o++] = (char)*p;
        }
    }
    strcpy(uri + o, "?immutable=1");
    rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    free(uri);
    return rc;
}

/*
 * Looks at an existing file without writing to it: an SQLite header, our meta marker and a
 * schema version we understand. *version is 0 for an SQLite file without any table (a new,
 * empty database we may initialise). Returns ES_OK or ES_EFOREIGN with err set.
 */
static int inspect_file(const char *path, int *version, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    char app[64], ver[32];
    int rc, ntables = 0, hdr;
    long v;
    char *end;

    *version = 0;
    hdr = has_sqlite_header(path);
    if (hdr < 0)
        return ES_OK; /* zero bytes: nothing to lose, SQLite treats it as an empty database */
    if (hdr == 0) {
        snprintf(err, errlen,
                 "%s is not an eventscope store: it is not an SQLite database (wrong file "
                 "header); refusing to open or modify it.",
                 path);
        return ES_EFOREIGN;
    }
    rc = open_for_inspection(path, &db);
    if (rc == SQLITE_OK)
        sqlite3_busy_timeout(db, 5000);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
                                -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            ntables = sqlite3_column_int(s, 0);
            rc = SQLITE_OK;
        }
        sqlite3_finalize(s);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen,
                 "%s cannot be read as an SQLite database (%s); it may be corrupt or not a "
                 "store; refusing to modify it.",
                 path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return rc == SQLITE_BUSY ? ES_ESTORE : ES_EFOREIGN;
    }
    if (ntables == 0) {
        sqlite3_close(db);
        return ES_OK;
    }
    rc = meta_get(db, "application", app, sizeof app);
    if (rc == SQLITE_OK)
        rc = meta_get(db, "schema_version", ver, sizeof ver);
    if (rc != SQLITE_OK || strcmp(app, "eventscope") != 0) {
        snprintf(err, errlen,
                 "%s is an SQLite database but not an eventscope store (no eventscope marker "
                 "in a meta table); refusing to modify it.",
                 path);
        sqlite3_close(db);
        return ES_EFOREIGN;
    }
    sqlite3_close(db);
    errno = 0;
    v = strtol(ver, &end, 10);
    if (ver[0] == '\0' || *end != '\0' || errno != 0 || v < 1 || v > 1000000) {
        snprintf(err, errlen,
                 "%s is an eventscope store with an unreadable schema_version '%s'; refusing "
                 "to modify it.",
                 path, ver);
        return ES_EFOREIGN;
    }
    if (v > STORE_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "%s was written by a newer eventscope (store schema version %ld; this "
                 "version understands up to %d); refusing to modify it: upgrade eventscope.",
                 path, v, STORE_SCHEMA_VERSION);
        return ES_EFOREIGN;
    }
    *version = (int)v;
    return ES_OK;
}

static void iso_now(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int create_indexes(struct store *st)
{
    size_t i;
    int rc;

    for (i = 0; i < NINDEXES; i++) {
        rc = db_exec(st, store_indexes[i].name, store_indexes[i].create);
        if (rc != ES_OK)
            return rc;
    }
    return ES_OK;
}

/*
 * Planner statistics for the segment-led indexes (schema_v2), so that SQLite serves
 * `WHERE event_id = ?` and `WHERE causation_id = ?` from them by skip-scan (which it only
 * considers when sqlite_stat1 says the leading column repeats). The figures are shapes, not
 * counts: a segment of 2^19 rows, ~1 row per key. A user's own ANALYZE replaces them with
 * real counts, which give the same plans. `ANALYZE sqlite_schema` creates the table without
 * analysing anything, then reloads the statistics into this connection.
 */
static int write_stats(struct store *st)
{
    return db_exec(st, "write planner statistics",
                   "ANALYZE sqlite_schema;"
                   " DELETE FROM sqlite_stat1 WHERE tbl = 'events'"
                   "  AND idx IN ('events_event_id', 'events_causation');"
                   " INSERT INTO sqlite_stat1(tbl, idx, stat) VALUES"
                   "  ('events', 'events_event_id', '1048576 524288 1'),"
                   "  ('events', 'events_causation', '1048576 524288 2');"
                   " ANALYZE sqlite_schema");
}

/*
 * create_indexes() over a full table: the sorter may use a second thread, and small sort
 * runs (STORE_SORT_CACHE_KB) are faster than big ones; the normal cache comes back after.
 */
static int build_indexes(struct store *st)
{
    int rc;

    (void)db_exec(st, "configure sorter",
                  "PRAGMA threads = 2; PRAGMA cache_size = -" STORE_SORT_CACHE_KB);
    rc = create_indexes(st);
    (void)db_exec(st, "configure cache", "PRAGMA cache_size = -" STORE_CACHE_KB);
    /* DROP INDEX took the statistics of a deferred index with it. */
    if (rc == ES_OK)
        rc = write_stats(st);
    return rc;
}

/* Whole-string decimal in [lo, hi]: 1 and *out set, else 0 (no atol: it hides garbage). */
static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

/* 1 when a bulk load left indexes deferred and its process is gone (or the marker is garbage). */
static int deferred_orphaned(sqlite3 *db)
{
    char deferred[32];
    long pid;

    if (meta_get(db, "indexes_deferred", deferred, sizeof deferred) != SQLITE_OK ||
        deferred[0] == '\0')
        return 0;
    if (!parse_long(deferred, 1, (long)INT32_MAX, &pid))
        return 1;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/*
 * Brings the schema to STORE_SCHEMA_VERSION in one transaction (re-reading the version
 * inside it, so two processes creating one store at once do not both migrate), and
 * recreates indexes a crashed bulk load left deferred.
 */
static int migrate(struct store *st, int seen_version)
{
    char ver[32], app[64], stamp[32];
    int rc, v = 0;
    size_t i;

    /*
     * Already current and nothing to repair: no write transaction, so opening never waits
     * for another writer's lock (a tap must subscribe at once, not after an index build).
     */
    if (seen_version == STORE_SCHEMA_VERSION && !deferred_orphaned(st->db))
        return ES_OK;
    rc = txn_begin(st);
    if (rc != ES_OK)
        return rc;
    if (meta_get(st->db, "application", app, sizeof app) != SQLITE_OK)
        app[0] = '\0';
    if (strcmp(app, "eventscope") == 0 &&
        meta_get(st->db, "schema_version", ver, sizeof ver) == SQLITE_OK) {
        long lv = 0;
        /* Absent (empty) means version 0, as before; present must be a whole number. */
        if (ver[0] != '\0' && !parse_long(ver, 1, 1000000, &lv)) {
            /* atoi would have read garbage as 0 and re-run every migration on a live store. */
            txn_abort(st);
            set_err(st, "%s is an eventscope store with an unreadable schema_version '%s'; "
                        "refusing to modify it.", st->path, ver);
            return ES_EFOREIGN;
        }
        v = (int)lv;
    }
    if (v == 0 && strcmp(app, "eventscope") != 0) {
        /* Seen under the write lock: another program's tables appeared since the check. */
        sqlite3_stmt *q = NULL;
        int row = 0, ntables = 0;
        rc = db_prepare(st, "inspect schema",
                        "SELECT count(*) FROM sqlite_schema WHERE type = 'table'", &q);
        if (rc == ES_OK)
            rc = db_step(st, "inspect schema", q, &row);
        if (rc == ES_OK && row)
            ntables = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
        if (rc != ES_OK || ntables > 0) {
            txn_abort(st);
            if (rc == ES_OK) {
                set_err(st, "%s is an SQLite database but not an eventscope store; refusing "
                            "to modify it.", st->path);
                rc = ES_EFOREIGN;
            }
            return rc;
        }
    }
    if (v > STORE_SCHEMA_VERSION) {
        txn_abort(st);
        set_err(st, "%s was written by a newer eventscope (store schema version %d); refusing "
                    "to modify it.", st->path, v);
        return ES_EFOREIGN;
    }
    for (i = 0; i < NMIGRATIONS; i++) {
        if (store_migrations[i].version <= v)
            continue;
        rc = db_exec(st, "migrate schema", store_migrations[i].sql);
        if (rc != ES_OK)
            goto fail;
        if (store_migrations[i].version == 1) {
            iso_now(stamp, sizeof stamp);
            rc = meta_set(st, "application", "eventscope");
            if (rc == ES_OK)
                rc = meta_set(st, "created_at", stamp);
            if (rc != ES_OK)
                goto fail;
        }
        snprintf(ver, sizeof ver, "%d", store_migrations[i].version);
        rc = meta_set(st, "schema_version", ver);
        if (rc != ES_OK)
            goto fail;
    }
    /* The indexes of the current version: instant on a new store, a rebuild of the changed
     * ones on an upgraded store (version 1 -> 2 on 10M rows: see RESULTS.md). */
    if (v < STORE_SCHEMA_VERSION) {
        rc = v == 0 ? create_indexes(st) : build_indexes(st);
        if (rc == ES_OK && v == 0)
            rc = write_stats(st);
        if (rc != ES_OK)
            goto fail;
    }
    /* A bulk load whose process is gone left the indexes dropped: rebuild them. */
    if (deferred_orphaned(st->db)) {
        rc = build_indexes(st);
        if (rc == ES_OK)
            rc = meta_delete(st, "indexes_deferred");
        if (rc != ES_OK)
            goto fail;
    }
    return store_commit(st);
fail:
    txn_abort(st);
    return rc;
}

static int prepare_writers(struct store *st)
{
    int rc = db_prepare(st, "insert event", event_insert_sql, &st->ins_event);

    if (rc == ES_OK)
        rc = db_prepare(st, "insert reject",
                        "INSERT OR IGNORE INTO rejects(origin_id, location, reason, excerpt)"
                        " VALUES (?1, ?2, ?3, ?4)",
                        &st->ins_reject);
    if (rc == ES_OK)
        rc = db_prepare(st, "find origin", "SELECT id FROM origins WHERE kind = ?1 AND uri = ?2",
                        &st->sel_origin);
    if (rc == ES_OK)
        rc = db_prepare(st, "insert origin",
                        "INSERT INTO origins(kind, uri, first_seen) VALUES (?1, ?2, ?3)",
                        &st->ins_origin);
    if (rc == ES_OK)
        rc = db_prepare(st, "count events", "SELECT coalesce(max(seq), 0) FROM events",
                        &st->sel_maxseq);
    return rc;
}

static void store_free(struct store *st)
{
    if (st == NULL)
        return;
    sqlite3_finalize(st->ins_event);
    sqlite3_finalize(st->ins_reject);
    sqlite3_finalize(st->sel_origin);
    sqlite3_finalize(st->ins_origin);
    sqlite3_finalize(st->sel_maxseq);
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

int store_open(const char *path, unsigned flags, struct store **out, char *err, size_t errlen)
{
    struct store *st;
    struct stat sb;
    int rc, version = 0, exists, oflags;

    *out = NULL;
    if (errlen > 0)
        err[0] = '\0';
    exists = stat(path, &sb) == 0;
    if (exists && S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s is a directory, not an eventscope store.", path);
        return ES_EFOREIGN;
    }
    if (!exists && errno != ENOENT) {
        snprintf(err, errlen, "cannot open store %s: %s.", path, strerror(errno));
        return ES_EIO;
    }
    if (!exists && !(flags & STORE_CREATE)) {
        snprintf(err, errlen,
                 "no store at %s; create one with `eventscope -d %s ingest PATH`.", path, path);
        return ES_ENOTFOUND;
    }
    /* Check an existing file read-only before anything may write to it. */
    if (exists) {
        rc = inspect_file(path, &version, err, errlen);
        if (rc != ES_OK)
            return rc;
        if (version == 0 && (flags & STORE_READONLY)) {
            snprintf(err, errlen,
                     "%s is an empty database, not yet an eventscope store; ingest something "
                     "first.",
                     path);
            return ES_EFOREIGN;
        }
    } else {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create store %s: %s.", path, strerror(errno));
            return ES_EIO;
        }
        if (fd >= 0)
            close(fd);
        else if ((rc = inspect_file(path, &version, err, errlen)) != ES_OK)
            return rc; /* lost a race against another creator: check what it made */
    }

    st = xcalloc(1, sizeof *st);
    st->path = xstrdup(path);
    st->flags = flags;
    st->batch_rows = STORE_BATCH_ROWS;
    oflags = (flags & STORE_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    /* One thread at a time uses a store (the sink's lock sees to it when its writer thread
     * stores): SQLite's own lock around every call is not needed, and cost the writer a
     * sixth of its time. */
    oflags |= SQLITE_OPEN_NOMUTEX;
    if (fault_hit()) {
        snprintf(err, errlen, "cannot open store %s: injected fault (store_fault_after).", path);
        store_free(st);
        return ES_ESTORE;
    }
    rc = sqlite3_open_v2(path, &st->db, oflags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open store %s: %s.", path,
                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        store_free(st);
        return ES_ESTORE;
    }
    sqlite3_busy_timeout(st->db, 5000);
    sqlite3_extended_result_codes(st->db, 1);

    if (!(flags & STORE_READONLY)) {
        /*
         * WAL lets readers run while we write. Pages stay at 4 KB (SQLite's default): an
         * append to a big store dirties one random leaf page per index per row, and every
         * dirty page is written whole to the WAL and again at checkpoint.
         */
        rc = db_exec(st, "configure store", "PRAGMA journal_mode = WAL");
        if (rc == ES_OK)
            rc = db_exec(st, "configure store",
                         "PRAGMA synchronous = NORMAL;"
                         " PRAGMA cache_size = -" STORE_CACHE_KB ";"
                         " PRAGMA journal_size_limit = " STORE_WAL_KEEP ";"
                         " PRAGMA foreign_keys = OFF");
        if (rc == ES_OK)
            rc = migrate(st, version);
        if (rc == ES_OK)
            rc = prepare_writers(st);
    } else {
        rc = db_exec(st, "configure store", "PRAGMA cache_size = -32768; PRAGMA query_only = 1");
    }
    if (rc != ES_OK) {
        snprintf(err, errlen, "cannot open store: %s.", st->err);
        store_free(st);
        return rc;
    }
    *out = st;
    return ES_OK;
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    if (st->bulk) {
        if (store_bulk_end(st) != ES_OK)
            txn_abort(st);
    }
    if (store_commit(st) != ES_OK)
        txn_abort(st);
    store_free(st);
}

const char *store_errmsg(const struct store *st)
{
    return st->err[0] ? st->err : "no error";
}

sqlite3 *store_db(struct store *st)
{
    return st->db;
}

/* ---- Writing ----------------------------------------------------------------------- */

int store_origin(struct store *st, const char *kind, const char *uri, int64_t *id)
{
    char stamp[32];
    int rc, row;

    rc = txn_begin(st);
    if (rc != ES_OK)
        return rc;
    sqlite3_bind_text(st->sel_origin, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st->sel_origin, 2, uri, -1, SQLITE_STATIC);
    rc = db_step(st, "find origin", st->sel_origin, &row);
    if (rc == ES_OK && row) {
        *id = sqlite3_column_int64(st->sel_origin, 0);
        sqlite3_reset(st->sel_origin);
        sqlite3_clear_bindings(st->sel_origin);
        return ES_OK;
    }
    sqlite3_clear_bindings(st->sel_origin);
    if (rc != ES_OK)
        goto fail;
    iso_now(stamp, sizeof stamp);
    sqlite3_bind_text(st->ins_origin, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st->ins_origin, 2, uri, -1, SQLITE_STATIC);
    sqlite3_bind_text(st->ins_origin, 3, stamp, -1, SQLITE_STATIC);
    rc = db_step(st, "insert origin", st->ins_origin, NULL);
    sqlite3_clear_bindings(st->ins_origin);
    if (rc != ES_OK)
        goto fail;
    *id = sqlite3_last_insert_rowid(st->db);
    return ES_OK;
fail:
    txn_abort(st);
    return rc;
}

static void bind_str(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static void bind_time(sqlite3_stmt *s, int i, int64_t v)
{
    if (v == ES_TIME_NONE)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_int64(s, i, v);
}

int store_add_event(struct store *st, int64_t origin, const struct event *ev, int *added)
{
    sqlite3_stmt *s = st->ins_event;
    int rc;

    if (added)
        *added = 0;
    rc = txn_begin(st);
    if (rc != ES_OK)
        return rc;
    sqlite3_bind_int64(s, 1, origin);
    bind_str(s, 2, ev->location);
    bind_str(s, 3, ev->event_id);
    bind_str(s, 4, ev->type);
    bind_str(s, 5, ev->source);
    bind_str(s, 6, ev->subject);
    bind_str(s, 7, ev->partition_key);
    bind_str(s, 8, ev->sequence);
    bind_time(s, 9, ev->time_us);
    bind_str(s, 10, ev->time_raw);
    bind_time(s, 11, ev->observed_us);
    bind_str(s, 12, ev->correlation_id);
    bind_str(s, 13, ev->causation_id);
    bind_str(s, 14, ev->transport);
    bind_str(s, 15, ev->channel);
    bind_str(s, 16, ev->direction);
    bind_str(s, 17, ev->vclock);
    if (ev->payload_hash != 0)
        sqlite3_bind_int64(s, 18, (sqlite3_int64)ev->payload_hash);
    else
        sqlite3_bind_null(s, 18);
    bind_str(s, 19, ev->data);
    bind_str(s, 20, ev->attrs);
    sqlite3_bind_int64(s, 21, st->next_seq >> STORE_SEG_SHIFT);
    rc = db_step(st, "insert event", s, NULL);
    if (rc != ES_OK) {
        txn_abort(st);
        return rc;
    }
    if (sqlite3_changes(st->db) > 0) {
        if (added)
            *added = 1;
        st->pending++;
        st->next_seq = sqlite3_last_insert_rowid(st->db) + 1;
    }
    return txn_maybe_commit(st);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid or a NUL byte. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
    uint32_t cp;

    return p[0] == 0 ? 0 : event_utf8_seq(p, left, &cp);
}

int store_add_reject(struct store *st, int64_t origin, const char *location, const char *reason,
                     const char *excerpt, size_t excerpt_len)
{
    static const char repl[] = "\xef\xbf\xbd"; /* U+FFFD for each invalid byte or NUL */
    const unsigned char *p = (const unsigned char *)excerpt;
    char *text = NULL;
    size_t i = 0, o = 0, n;
    int rc;

    if (excerpt != NULL) {
        text = xmalloc(excerpt_len * 3 + 1);
        while (i < excerpt_len) {
            n = utf8_len(p + i, excerpt_len - i);
            if (n == 0) {
                memcpy(text + o, repl, 3);
                o += 3, i++;
            } else {
                memcpy(text + o, p + i, n);
                o += n, i += n;
            }
        }
        text[o] = '\0';
    }
    rc = txn_begin(st);
    if (rc != ES_OK) {
        free(text);
        return rc;
    }
    sqlite3_bind_int64(st->ins_reject, 1, origin);
    bind_str(st->ins_reject, 2, location);
    bind_str(st->ins_reject, 3, reason);
    bind_str(st->ins_reject, 4, text);
    rc = db_step(st, "insert reject", st->ins_reject, NULL);
    sqlite3_clear_bindings(st->ins_reject);
    free(text);
    if (rc != ES_OK) {
        txn_abort(st);
        return rc;
    }
    st->pending++;
    return txn_maybe_commit(st);
}

/* ---- Bulk loads -------------------------------------------------------------------- */

int store_bulk_begin(struct store *st, uint64_t expect)
{
    sqlite3_stmt *s = NULL;
    int64_t rows = 0;
    char pid[32];
    size_t i;
    int rc, row;

    if (st->bulk)
        return ES_OK;
    rc = store_commit(st);
    if (rc != ES_OK)
        return rc;
    st->bulk = 1;
    st->batch_rows = STORE_BULK_BATCH_ROWS;
    /* max(seq) is a B-tree lookup; close enough to the row count to pick a strategy. */
    rc = db_prepare(st, "count events", "SELECT coalesce(max(seq), 0) FROM events", &s);
    if (rc != ES_OK)
        return rc;
    rc = db_step(st, "count events", s, &row);
    if (rc == ES_OK && row)
        rows = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc != ES_OK)
        return rc;
    if (rows > STORE_BULK_SMALL && (expect == 0 || (uint64_t)rows >= expect))
        return ES_OK; /* a big store: maintaining the indexes beats rebuilding them */

    /* Drop the secondary indexes; a marker tells a later open to rebuild them if we die. */
    rc = txn_begin(st);
    if (rc != ES_OK)
        return rc;
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    rc = meta_set(st, "indexes_deferred", pid);
    for (i = 0; rc == ES_OK && i < NINDEXES; i++) {
        char sql[128];
        if (!store_indexes[i].defer)
            continue;
        snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS %s", store_indexes[i].name);
        rc = db_exec(st, "defer indexes", sql);
    }
    if (rc == ES_OK)
        rc = store_commit(st);
    if (rc != ES_OK) {
        txn_abort(st);
        return rc;
    }
    st->deferred = 1;
    return ES_OK;
}

int store_bulk_end(struct store *st)
{
    int rc;

    if (!st->bulk)
        return ES_OK;
    rc = store_commit(st);
    if (rc != ES_OK)
        return rc;
    if (st->deferred) {
        /*
         * Sorting for CREATE INDEX may use the second core now that parsing is over
         * (build_indexes). One transaction per index, so the WAL can be checkpointed
         * between them instead of holding every new index page at once; the marker goes
         * last.
         */
        rc = build_indexes(st);
        if (rc == ES_OK)
            rc = txn_begin(st);
        if (rc == ES_OK)
            rc = meta_delete(st, "indexes_deferred");
        if (rc == ES_OK)
            rc = store_commit(st);
        if (rc != ES_OK) {
            txn_abort(st);
            return rc;
        }
        st->deferred = 0;
    }
    st->bulk = 0;
    st->batch_rows = STORE_BATCH_ROWS;
    rc = db_exec(st, "configure cache", "PRAGMA cache_size = -" STORE_CACHE_KB);
    if (rc != ES_OK)
        return rc;
    return ES_OK;
}
