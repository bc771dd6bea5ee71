/*
 * The SQLite store of DESIGN.md ("The store"): opening (schema, migrations, refusal of
 * foreign or newer files), the batched event writer and the rejects table. Readers
 * (analyzer, cli, tui) run their own statements on store_db().
 *
 * A store handle keeps its last error like sqlite3_errmsg(): store_errmsg().
 */
#ifndef ES_STORE_H
#define ES_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "err.h"
#include "event.h"

#define STORE_SCHEMA_VERSION 2

enum store_flags {
    STORE_READONLY = 1 << 0, /* open an existing store for reading only */
    STORE_CREATE = 1 << 1,   /* create the file (mode 0600) when missing */
};

struct store;

/*
 * Opens (and with STORE_CREATE creates or migrates) the store at path. A file that is not
 * an SQLite database, not an eventscope store, or of a newer schema is refused with
 * ES_EFOREIGN and never modified. On failure *out is NULL and err holds a full sentence
 * naming the path. A store (and its connection) is used by one thread at a time: the
 * connection is opened without SQLite's own locking (SQLITE_OPEN_NOMUTEX).
 */
int store_open(const char *path, unsigned flags, struct store **out, char *err,
               size_t errlen) ES_WARN_UNUSED;
/* Commits what is pending, ends a bulk load if one is open, closes. Accepts NULL. */
void store_close(struct store *st);
/* Last error: statement name and SQLite's message. Borrowed, valid until the next call. */
const char *store_errmsg(const struct store *st);
/* The connection, for readers' own statements. Borrowed. */
sqlite3 *store_db(struct store *st);

/* Finds or creates the origin row (kind: file|pcap|capture|tap, uri: path or URL). */
int store_origin(struct store *st, const char *kind, const char *uri,
                 int64_t *id) ES_WARN_UNUSED;

/*
 * Tells the writer a large load starts (expect: rows expected, 0 if unknown); the writer
 * may then choose a faster strategy. Readers still see a valid, queryable store after
 * every commit.
 */
int store_bulk_begin(struct store *st, uint64_t expect) ES_WARN_UNUSED;
/* Ends a bulk load: everything committed and indexed. */
int store_bulk_end(struct store *st) ES_WARN_UNUSED;

/*
 * Adds one observation. *added (may be NULL) is 1 when stored, 0 when (origin, location)
 * was already present. Rows are committed in batches: every store_commit(), and
 * automatically every few thousand rows.
 */
int store_add_event(struct store *st, int64_t origin, const struct event *ev,
                    int *added) ES_WARN_UNUSED;
/* Keeps a record that could not be read: its location, a snake_case reason, an excerpt. */
int store_add_reject(struct store *st, int64_t origin, const char *location,
                     const char *reason, const char *excerpt, size_t excerpt_len) ES_WARN_UNUSED;
/* Commits the current batch so readers see it. */
int store_commit(struct store *st) ES_WARN_UNUSED;

/* Test hook (STYLE.md 5): the Nth SQLite call from now fails (0 = never). */
void store_fault_after(int n);

#endif
