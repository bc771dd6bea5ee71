/*
 * The file collector: reads events from files, directories and stdin into a sink.
 *
 * Formats: JSON lines, JSON documents (one object, a concatenation of objects, arrays of
 * objects, pretty-printed or not: streamed with bounded memory), application log lines
 * "<timestamp> <LEVEL> <service> {json}", logfmt, and, when those parts are built, pcap
 * captures (collector/pcap/pcapsrc.h) and broker dumps (collector/taps/tap_replay.h).
 * .gz input is inflated transparently; directories are walked in sorted order.
 *
 * Every record gets the location "NAME:LINE" (the line where it starts; "NAME:LINE#K" for
 * the K-th record starting on one line), NAME as the user gave it ("stdin" for "-").
 * A record that cannot be read becomes a reject with a snake_case reason (see the table at
 * the top of file.c) and reading goes on with the next record. Nothing here prints: files
 * that cannot be opened, format choices and notes reach the caller through on_message.
 */
#ifndef ES_FILE_H
#define ES_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "collector/sink.h"
#include "core/err.h"
#include "core/event.h"

enum file_format {
    FILE_FMT_AUTO,
    FILE_FMT_JSONL,
    FILE_FMT_JSON,
    FILE_FMT_APPLOG,
    FILE_FMT_LOGFMT,
    FILE_FMT_PCAP,
    FILE_FMT_KCAT,
    FILE_FMT_MOSQUITTO_JSON,
    FILE_FMT_COUNT
};

/* "auto", "jsonl", ... ; never NULL. */
const char *file_format_name(enum file_format f);
/* Parses a --format value. Returns ES_OK or ES_EUSAGE. */
int file_format_parse(const char *s, enum file_format *out) ES_WARN_UNUSED;

enum file_msg {
    FILE_MSG_ERROR,  /* a path could not be read at all (counted in failed) */
    FILE_MSG_FORMAT, /* --format auto chose a format for a file (text says which and why) */
    FILE_MSG_NOTE,   /* worth telling, not an error: empty file, file skipped in a folder */
};

/* Defaults of the limits (each configurable in struct file_ingest). */
#define FILE_MAX_LINE_DEFAULT ((size_t)1 << 20)     /* 1 MiB per line */
#define FILE_MAX_ELEMENT_DEFAULT ((size_t)16 << 20) /* 16 MiB per JSON document element */
#define FILE_MAX_DEPTH_DEFAULT 512                  /* JSON nesting in JSON documents */

struct file_ingest {
    struct sink *sink;         /* borrowed; may be NULL when both hooks are set */
    enum file_format format;   /* FILE_FMT_AUTO sniffs each file */
    size_t max_line;           /* longer lines are rejected (line_too_long), never buffered */
    size_t max_element;        /* larger JSON elements: json_element_too_large */
    size_t max_depth;          /* deeper JSON elements: json_too_deep */

    /* Optional callbacks for the CLI (this module never prints). */
    void (*on_message)(void *ctx, enum file_msg kind, const char *name, const char *text);
    void (*on_progress)(void *ctx); /* after every read of the input; keep it cheap */
    void *ctx;

    /* Test seam: when set, events / rejects go here instead of the sink. The event hook
     * owns ev's fields (call event_done). */
    int (*event_hook)(void *ctx, struct event *ev);
    int (*reject_hook)(void *ctx, const char *location, const char *reason, const char *detail,
                       const void *excerpt, size_t len);
    void *hook_ctx;
    size_t chunk; /* test seam: at most this many bytes per read (0 = as many as fit) */

    /* Totals (read them after or during an ingest). */
    unsigned files;        /* files read */
    unsigned failed;       /* paths that could not be opened or read */
    uint64_t events;       /* events handed to the sink */
    uint64_t rejects;      /* rejects handed to the sink */
    uint64_t skipped;      /* app-log lines without JSON, skipped (not rejects) */
    uint64_t bytes;        /* input bytes consumed (compressed bytes for .gz) */
    size_t peak_buffer;    /* largest read buffer used, bytes: the memory bound in action */
};

/* Fills fi with defaults (format auto, default limits, no callbacks) over s. */
void file_ingest_init(struct file_ingest *fi, struct sink *s);

/*
 * Ingests one path as given by the user: a file, a directory (walked recursively, sorted,
 * hidden entries skipped) or "-" for stdin. Unreadable paths are reported through
 * on_message(FILE_MSG_ERROR) and counted in fi->failed; that is not a failure of this call.
 * Returns ES_OK, ES_EINTERRUPTED when sink_stopping(), or the sink's error (store failure).
 */
int file_ingest_path(struct file_ingest *fi, const char *path) ES_WARN_UNUSED;

/*
 * Ingests len bytes in memory as if read from a file named name (location prefix; the
 * origin is not changed). fmt may be FILE_FMT_AUTO; gzip data is inflated. Used by tests
 * and fuzz targets. Returns as file_ingest_path.
 */
int file_ingest_buffer(struct file_ingest *fi, const void *p, size_t len, const char *name,
                       enum file_format fmt) ES_WARN_UNUSED;

/* Sum of the sizes of the regular files under path (for progress; links to folders inside
 * are not followed), 0 if unknown. */
uint64_t file_total_bytes(const char *path);

/* ---- The streaming JSON splitter (public for the fuzz target and unit tests) ------------ */

/*
 * Finds element boundaries in a stream of JSON text without parsing it: top-level values
 * (objects, or the elements of top-level arrays) are returned as byte ranges of the
 * caller's buffer, to hand to json_loadb. Strings, escapes and nesting are tracked across
 * calls, so the buffer can be refilled between calls: keep every byte from
 * file_split_keep() on, and call file_split_shift() after moving the buffer down.
 */
struct file_split {
    size_t max_depth;      /* nesting over this: reject json_too_deep */
    size_t max_element;    /* element bytes over this: reject json_element_too_large */
    int state;             /* SPLIT_* in file.c */
    int in_array;          /* inside a top-level '[' */
    int in_str, esc;       /* inside a string / after a backslash */
    int discard;           /* current element already rejected: find its end, keep nothing */
    size_t depth;          /* nesting of the current element */
    size_t start;          /* buffer offset of the current element or garbage run */
    uint64_t line;         /* line of the next byte to scan, 1-based */
    uint64_t start_line;   /* line where the current element started */
    uint64_t array_line;   /* line of the open top-level '[' */
};

enum file_split_result {
    FILE_SPLIT_MORE,    /* scanned everything given: refill (or pass eof) and call again */
    FILE_SPLIT_ELEMENT, /* item holds one complete value */
    FILE_SPLIT_REJECT,  /* item holds an excerpt and a reason */
    FILE_SPLIT_END,     /* eof and nothing pending */
};

struct file_split_item {
    size_t start, len;  /* bytes in the caller's buffer (valid until it changes) */
    uint64_t line;      /* line where the element starts */
    const char *reason; /* FILE_SPLIT_REJECT: snake_case reason */
};

void file_split_init(struct file_split *sp, size_t max_depth, size_t max_element);
/* Scans buf[*pos, end), advancing *pos. eof: no more bytes will follow end. */
enum file_split_result file_split_next(struct file_split *sp, const uint8_t *buf, size_t *pos,
                                       size_t end, int eof, struct file_split_item *it);
/* Lowest buffer offset still needed when the scan position is pos. */
size_t file_split_keep(const struct file_split *sp, size_t pos);
/* The caller moved its buffer down by delta bytes. */
void file_split_shift(struct file_split *sp, size_t delta);

/* ---- Line parsers (public for the fuzz targets and unit tests) --------------------------- */

/* A parsed app-log prefix: pointers into the line. */
struct file_applog {
    int64_t observed_us;     /* the line's time */
    const char *level;       /* e.g. "INFO" (level_len bytes) */
    size_t level_len;
    const char *service;     /* NULL when the line names none */
    size_t service_len;
    size_t json_off;         /* offset of the '{' starting the JSON */
};

/*
 * Parses "<timestamp> <LEVEL> <service> ... {json}" (timestamp ISO 8601 or
 * "2026-03-15 10:30:00,123", optionally in brackets; level optionally in brackets; service
 * optionally in brackets or followed by ':'), and without a level "<timestamp> {json}"
 * (kubectl), "<timestamp> stdout F ..." (CRI), syslog "[<PRI>]Mmm dd hh:mm:ss host
 * app[pid]: ..." or "<timestamp> host app[pid]: ...", RFC 5424 "<PRI>1 <timestamp> host app
 * procid msgid sd ..." (level NULL then), each perhaps behind "name  | " (docker compose)
 * or "[pod/p/container] " (kubectl --prefix), which name the service. Returns ES_OK, ES_ENOTFOUND when the line holds
 * no '{' (skipped, not a reject), or ES_EINVALID with *why set.
 */
int file_applog_parse(const char *line, size_t len, struct file_applog *out,
                      const char **why) ES_WARN_UNUSED;

/*
 * Parses a logfmt line (key=value, key="quoted \"value\"", bare keys mean true) into a
 * new JSON object of strings (*out, caller decrefs). Returns ES_OK, or ES_EINVALID with
 * *why (logfmt_unterminated_quote, duplicate_key, invalid_utf8, not_logfmt, ...).
 */
int file_logfmt_parse(const char *line, size_t len, json_t **out, const char **why) ES_WARN_UNUSED;

#endif
