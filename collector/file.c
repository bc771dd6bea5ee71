/*
 * The file collector: JSON lines, JSON documents (streamed), app-log lines with JSON,
 * logfmt, stdin, .gz, directories, and the hand-over of pcap files and broker dumps.
 *
 * Reading: one buffer per file, filled with big read()s (or inflate() for gzip); line
 * formats find newlines with memchr and never buffer more than max_line bytes of a line
 * (a longer line is rejected and skipped up to its newline); JSON documents go through a
 * small splitter (file_split_*) that finds element boundaries by tracking strings,
 * escapes and depth, so only one element at a time (at most max_element bytes) is held.
 *
 * Reject reasons (snake_case, stored in rejects.reason):
 *   line_too_long           a line longer than max_line (the rest of it is skipped)
 *   nul_byte                a NUL byte inside a text record
 *   invalid_utf8            the record is not valid UTF-8
 *   invalid_json            JSON syntax error (detail: line/column and jansson's text)
 *   truncated_json          the input ends inside a JSON value
 *   json_too_deep           nesting deeper than max_depth (default 512, at most 1023)
 *   json_element_too_large  one element of a JSON document larger than max_element
 *   duplicate_key           the same key twice in one object
 *   not_an_object           a JSON value that is not an object (a number, a string...)
 *   unterminated_array      a top-level '[' never closed
 *   not_json                text that is not JSON inside a JSON document (one reject per run
 *                           of such lines)
 *   applog_no_timestamp     an app-log line with JSON but no leading timestamp
 *   applog_no_level         an app-log line with JSON but no level after the timestamp (nor
 *                           a syslog tag, a CRI stream or the JSON itself)
 *   logfmt_unterminated_quote, logfmt_bad_escape, logfmt_syntax, not_logfmt
 *   gzip_corrupt            the compressed data is damaged (reading the file stops there)
 *   read_error              an I/O error in the middle of a file (reading stops there)
 * App-log lines without any '{' are not records: they are skipped and counted (skipped).
 * A JSON record with neither id nor type whose "log", "message" or "msg" text (Docker's
 * json-file, loggers) or "event" object holds one is that event (src_unwrap).
 */
#include "collector/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "core/cursor.h"
#include "core/envelope.h"
#include "core/timeparse.h"
#include "core/xmalloc.h"

/*
 * The pcap and broker-dump readers are other parts of the collector, built in parallel;
 * they are called only when both their header and their source are in the tree.
 */
#if defined(__has_include)
#if __has_include("collector/pcap/pcapsrc.h") && __has_include("collector/pcap/pcapsrc.c")
#include "collector/pcap/pcapsrc.h"
#define FILE_HAVE_PCAP 1
#endif
#if __has_include("collector/taps/tap_replay.h") && __has_include("collector/taps/tap_replay.c")
#include "collector/taps/tap_replay.h"
#define FILE_HAVE_TAP_REPLAY 1
#endif
#endif

#define EXCERPT_MAX 256          /* bytes of a bad record kept as its excerpt */
#define SNIFF_MAX (64u << 10)    /* bytes looked at to choose a format */
#define ZIN_SIZE (256u << 10)    /* compressed input buffer */
#define BUF_SLACK (64u << 10)    /* read room beyond the record limit */
#define DIR_DEPTH_MAX 64         /* nested folders followed */

/* ---- Formats ------------------------------------------------------------------------- */

static const char *const format_names[FILE_FMT_COUNT] = {
    "auto", "jsonl", "json", "applog", "logfmt", "pcap", "kcat", "mosquitto-json",
};

const char *file_format_name(enum file_format f)
{
    if ((unsigned)f < FILE_FMT_COUNT)
        return format_names[f];
    return "?";
}

int file_format_parse(const char *s, enum file_format *out)
{
    unsigned i;

    for (i = 0; i < FILE_FMT_COUNT; i++)
        if (strcmp(s, format_names[i]) == 0) {
            *out = (enum file_format)i;
            return ES_OK;
        }
    if (strcmp(s, "ndjson") == 0) {
        *out = FILE_FMT_JSONL;
        return ES_OK;
    }
    return ES_EUSAGE;
}

void file_ingest_init(struct file_ingest *fi, struct sink *s)
{
    memset(fi, 0, sizeof *fi);
    fi->sink = s;
    fi->format = FILE_FMT_AUTO;
    fi->max_line = FILE_MAX_LINE_DEFAULT;
    fi->max_element = FILE_MAX_ELEMENT_DEFAULT;
    fi->max_depth = FILE_MAX_DEPTH_DEFAULT;
}

/* ---- The reader: a growable buffer over a file descriptor, memory, or inflate --------- */

struct rd {
    int fd;                 /* -1: memory source */
    const uint8_t *mem;     /* memory source */
    size_t mem_len, mem_off;
    size_t chunk;           /* at most this many bytes per read (0: no limit) */
    int gz;                 /* inflating */
    z_stream zs;
    uint8_t *zin;           /* compressed input, zin_cap bytes */
    size_t zin_cap;         /* at least ZIN_SIZE */
    int zin_eof;            /* no more compressed input */
    int member_open;        /* inside a gzip member */
    uint8_t *buf;           /* data: [pos, end) unread */
    size_t cap, limit;      /* allocated, largest allowed */
    size_t pos, end;
    int eof;                /* no more data will come (end of input or error) */
    const char *err;        /* reject reason for an error mid-file (gzip_corrupt...) */
    char errdetail[160];
    uint64_t raw;           /* source bytes consumed */
    volatile sig_atomic_t *stop;
};

static void rd_init(struct rd *r, int fd, size_t limit, volatile sig_atomic_t *stop)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->limit = limit;
    r->cap = limit < (1u << 20) ? limit : (1u << 20);
    r->buf = xmalloc(r->cap);
    r->stop = stop;
}

static void rd_done(struct rd *r)
{
    if (r->gz)
        inflateEnd(&r->zs);
    free(r->zin);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

static int rd_stopping(const struct rd *r)
{
    return r->stop != NULL && *r->stop != 0;
}

/* Reads at most n raw bytes into dst. Returns bytes read, 0 at end, -1 on error (err set). */
static ssize_t rd_raw(struct rd *r, uint8_t *dst, size_t n)
{
    ssize_t got;

    if (r->chunk && n > r->chunk)
        n = r->chunk;
    if (r->fd < 0) {
        size_t left = r->mem_len - r->mem_off;
        if (n > left)
            n = left;
        if (n)
            memcpy(dst, r->mem + r->mem_off, n);
        r->mem_off += n;
        r->raw += n;
        return (ssize_t)n;
    }
    for (;;) {
        got = read(r->fd, dst, n);
        if (got >= 0)
            break;
        if (errno == EINTR && !rd_stopping(r))
            continue;
        if (errno == EINTR) /* Ctrl-C: behave as the end of the input */
            return 0;
        r->err = "read_error";
        snprintf(r->errdetail, sizeof r->errdetail, "read failed: %s", strerror(errno));
        return -1;
    }
    r->raw += (uint64_t)got;
    return got;
}

/* Switches to inflating; the unread bytes in buf are the start of the compressed data. */
static int rd_start_gz(struct rd *r)
{
    size_t n = r->end - r->pos;

    /*
     * Sniffing may have read more than ZIN_SIZE compressed bytes (one read of up to the
     * whole buffer): keep every one of them, or the stream would lose its middle.
     */
    r->zin_cap = n > ZIN_SIZE ? n : ZIN_SIZE;
    r->zin = xmalloc(r->zin_cap);
    memset(&r->zs, 0, sizeof r->zs);
    if (inflateInit2(&r->zs, 15 + 32) != Z_OK) /* 15 + 32: gzip or zlib header */
        return ES_ENOMEM;
    r->gz = 1;
    memcpy(r->zin, r->buf + r->pos, n);
    r->zs.next_in = r->zin;
    r->zs.avail_in = (uInt)n;
    r->pos = r->end = 0;
    r->eof = 0;
    return ES_OK;
}

/* Inflates into buf[end, cap). Sets eof at the end of the last gzip member or on error. */
static void rd_inflate(struct rd *r)
{
    int ret;
    size_t before = r->end;

    r->zs.next_out = r->buf + r->end;
    r->zs.avail_out = (uInt)(r->cap - r->end);
    while (r->zs.avail_out > 0) {
        if (r->zs.avail_in == 0 && !r->zin_eof) {
            ssize_t n = rd_raw(r, r->zin, r->zin_cap);
            if (n < 0) {
                r->eof = 1;
                break;
            }
            if (n == 0)
                r->zin_eof = 1;
            r->zs.next_in = r->zin;
            r->zs.avail_in = (uInt)n;
        }
        if (r->zs.avail_in == 0 && r->zin_eof) {
            if (r->member_open && !rd_stopping(r)) {
                /*
                 * All input is read, but inflate may still hold output that did not fit
                 * in the buffer last time: drain it before calling the stream cut.
                 */
                unsigned char *out0 = r->zs.next_out;
                ret = inflate(&r->zs, Z_NO_FLUSH);
                if (ret == Z_STREAM_END) {
                    r->member_open = 0;
                    inflateReset(&r->zs);
                }
                if (r->zs.next_out != out0)
                    break; /* got something: hand it over */
                if (ret == Z_STREAM_END)
                    continue;
                r->err = "gzip_corrupt";
                snprintf(r->errdetail, sizeof r->errdetail,
                         "compressed data ends before the gzip stream does");
            }
            r->eof = 1;
            break;
        }
        /* Bytes after a gzip member that do not start another are trailing padding. */
        if (!r->member_open && r->zs.next_in[0] != 0x1f) {
            r->eof = 1;
            break;
        }
        r->member_open = 1;
        ret = inflate(&r->zs, Z_NO_FLUSH);
        if (ret == Z_STREAM_END) {
            r->member_open = 0;
            inflateReset(&r->zs);
        } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            r->err = "gzip_corrupt";
            snprintf(r->errdetail, sizeof r->errdetail, "gzip data is damaged: %s",
                     r->zs.msg ? r->zs.msg : "inflate failed");
            r->eof = 1;
            break;
        }
        if ((size_t)(r->zs.next_out - r->buf) > before)
            break; /* got something: hand it over */
    }
    r->end = (size_t)(r->zs.next_out - r->buf);
}

/*
 * Makes room and reads more: bytes before keep are dropped (the rest moves down by
 * *shift), the buffer grows up to limit when full, then one read. Sets eof at the end.
 */
static void rd_fill(struct rd *r, size_t keep, size_t *shift)
{
    ssize_t n;

    *shift = 0;
    if (r->eof)
        return;
    if (keep > r->end)
        keep = r->end;
    if (keep > 0) {
        memmove(r->buf, r->buf + keep, r->end - keep);
        r->end -= keep;
        r->pos -= keep < r->pos ? keep : r->pos;
        *shift = keep;
    }
    if (r->end == r->cap) {
        size_t ncap;
        if (r->cap >= r->limit) {
            /* Callers bound their records below limit, so this means a bug: stop reading. */
            r->err = "read_error";
            snprintf(r->errdetail, sizeof r->errdetail, "record exceeds the read buffer");
            r->eof = 1;
            return;
        }
        ncap = r->cap * 2 < r->limit ? r->cap * 2 : r->limit;
        r->buf = xrealloc(r->buf, ncap);
        r->cap = ncap;
    }
    if (rd_stopping(r)) {
        r->eof = 1;
        return;
    }
    if (r->gz) {
        rd_inflate(r);
        return;
    }
    n = rd_raw(r, r->buf + r->end, r->cap - r->end);
    if (n <= 0)
        r->eof = 1;
    else
        r->end += (size_t)n;
}

/* ---- One input being read ------------------------------------------------------------- */

struct src {
    struct file_ingest *fi;
    const char *name;      /* display name: location prefix */
    struct rd rd;
    uint64_t last_line;    /* line of the last record located */
    unsigned same_line;    /* records located on last_line so far */
    uint64_t cur_line;     /* line being read: where a damaged .gz or a read error is located */
    uint64_t events, rejects;
    struct jdoc doc;       /* the record being read: its arrays are reused line after line */
    struct jdoc inner;     /* an event inside it as JSON text (a log wrapper's "log": "{...}") */
};

static const struct envelope_map *src_map(const struct src *s)
{
    return s->fi->sink ? s->fi->sink->map : NULL;
}

static int src_stopping(const struct src *s)
{
    return s->fi->sink != NULL && sink_stopping(s->fi->sink);
}

/* Reads more (see rd_fill) and reports progress. */
static void src_fill(struct src *s, size_t keep, size_t *shift)
{
    uint64_t before = s->rd.raw;

    rd_fill(&s->rd, keep, shift);
    s->fi->bytes += s->rd.raw - before;
    if (s->fi->sink)
        s->fi->sink->counts.bytes += s->rd.raw - before;
    if (s->rd.cap > s->fi->peak_buffer)
        s->fi->peak_buffer = s->rd.cap;
    if (s->fi->on_progress)
        s->fi->on_progress(s->fi->ctx);
}

/* "name:line", or "name:line#k" for the k-th record starting on the same line. */
static void src_location(struct src *s, uint64_t line, char *buf, size_t len)
{
    if (line == s->last_line) {
        s->same_line++;
        snprintf(buf, len, "%s:%llu#%u", s->name, (unsigned long long)line, s->same_line);
    } else {
        s->last_line = line;
        s->same_line = 1;
        snprintf(buf, len, "%s:%llu", s->name, (unsigned long long)line);
    }
}

static int src_reject_at(struct src *s, const char *loc, const char *reason, const char *detail,
                         const void *excerpt, size_t len)
{
    struct file_ingest *fi = s->fi;

    if (len > EXCERPT_MAX)
        len = EXCERPT_MAX;
    fi->rejects++;
    s->rejects++;
    if (fi->reject_hook)
        return fi->reject_hook(fi->hook_ctx, loc, reason, detail, excerpt, len);
    return sink_reject(fi->sink, loc, reason, detail, excerpt, len);
}

static int src_reject(struct src *s, uint64_t line, const char *reason, const char *detail,
                      const void *excerpt, size_t len)
{
    char loc[PATH_MAX + 48];

    src_location(s, line, loc, sizeof loc);
    return src_reject_at(s, loc, reason, detail, excerpt, len);
}

static int is_blank(int b)
{
    return b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '\f' || b == '\v';
}

static int cpeek(const struct cursor *c)
{
    return c->left ? c->p[0] : -1;
}

/* Trims blanks at both ends of (p, len) through a cursor. */
static struct cursor trimmed(const uint8_t *p, size_t len)
{
    struct cursor c;

    cur_init(&c, p, len);
    while (c.left && is_blank(c.p[0]))
        cur_skip(&c, 1);
    while (c.left && is_blank(c.p[c.left - 1]))
        c.left--;
    return c;
}

/* What the line gave besides the JSON (app-log lines). */
struct line_ctx {
    int64_t observed_us;
    const char *service, *level;
    size_t service_len, level_len;
    int unwrapped; /* the event came out of a log wrapper: not unwrapped again */
};

/* {"log_level": LEVEL}: the app-log line's level, kept with the unmapped attributes. */
static char *level_attrs(const struct line_ctx *lc)
{
    json_t *o = json_object();
    char *text;

    json_object_set_new(o, "log_level", json_stringn(lc->level, lc->level_len));
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* Fills ev from object obj of d: ES_OK, or ES_EINVALID with *why (ev is then released). */
static int src_build(struct src *s, const struct jdoc *d, uint32_t obj, const char *loc,
                     const struct line_ctx *lc, struct event *ev, const char **why)
{
    event_init(ev);
    ev->location = xstrdup(loc);
    event_set_str(&ev->transport, "file");
    event_set_str(&ev->direction, "log");
    if (lc) {
        ev->observed_us = lc->observed_us;
        /* The log level is kept with the unmapped attributes, unless the event has one. */
        if (lc->level && jd_get(d, obj, "log_level", 9) == 0)
            ev->attrs = level_attrs(lc);
    }
    if (envelope_from_doc(src_map(s), d, obj, ev, why) != ES_OK) {
        event_done(ev);
        return ES_EINVALID;
    }
    if (ev->source == NULL && lc && lc->service)
        event_set(&ev->source, lc->service, lc->service_len);
    return ES_OK;
}

/* The string member key (any case) of object obj, or NULL. */
static const char *jd_member_str(const struct jdoc *d, uint32_t obj, const char *key, size_t *len)
{
    uint32_t i = jd_iget(d, obj, key, strlen(key));

    return i && jd_type(d, i) == JD_STRING ? jd_str(d, i, len) : NULL;
}

/*
 * A record with neither id nor type may be a log wrapper around the event: Docker's
 * json-file {"log": "{...}\n", "time": ...}, a logger's {"msg": "{...}"} or
 * {"message": "{...}"}, or {"event": {...}}. When such a member holds an object with an
 * id or a type, that object is the event (built into *inner): the wrapper's time becomes
 * the observed time, its service, logger or container the source when the event names
 * none, its level the log level. Returns 1 when *inner was built.
 */
static int src_unwrap(struct src *s, const struct jdoc *d, uint32_t obj, const char *loc,
                      const struct event *outer, const struct line_ctx *lc, struct event *inner)
{
    static const char *const text_keys[] = {"log", "message", "msg"};
    struct line_ctx w;
    const struct jdoc *cd = NULL;
    uint32_t cobj = 0, i;
    const char *str, *why = NULL;
    size_t n, k;

    for (k = 0; k < sizeof text_keys / sizeof text_keys[0] && cd == NULL; k++) {
        struct cursor t;
        if ((str = jd_member_str(d, obj, text_keys[k], &n)) == NULL)
            continue;
        t = trimmed((const uint8_t *)str, n);
        if (cpeek(&t) == '{' &&
            jdoc_parse(&s->inner, (const char *)t.p, t.left, (int)s->fi->max_depth + 1, 0) ==
                ES_OK &&
            jd_type(&s->inner, 0) == JD_OBJECT)
            cd = &s->inner, cobj = 0;
    }
    if (cd == NULL && (i = jd_iget(d, obj, "event", 5)) != 0 && jd_type(d, i) == JD_OBJECT)
        cd = d, cobj = i;
    if (cd == NULL)
        return 0;
    memset(&w, 0, sizeof w);
    w.unwrapped = 1;
    w.observed_us = outer->time_us != ES_TIME_NONE ? outer->time_us
                    : lc                          ? lc->observed_us
                                                  : ES_TIME_NONE;
    if (w.observed_us == ES_TIME_NONE && (str = jd_member_str(d, obj, "@timestamp", &n)) &&
        timeparse_text(str, n, &w.observed_us, NULL) != ES_OK)
        w.observed_us = ES_TIME_NONE;
    if (outer->source != NULL) {
        w.service = outer->source, w.service_len = strlen(outer->source);
    } else if ((str = jd_member_str(d, obj, "logger", &n)) != NULL) {
        w.service = str, w.service_len = n;
    } else {
        static const char *const paths[][2] = {{"service", "name"},
                                               {"kubernetes", "container_name"}};
        for (k = 0; k < 2 && w.service == NULL; k++)
            if ((i = jd_iget(d, obj, paths[k][0], strlen(paths[k][0]))) != 0 &&
                jd_type(d, i) == JD_OBJECT && (str = jd_member_str(d, i, paths[k][1], &n)))
                w.service = str, w.service_len = n;
        if (w.service == NULL && lc)
            w.service = lc->service, w.service_len = lc->service_len;
    }
    if ((str = jd_member_str(d, obj, "level", &n)) != NULL ||
        (str = jd_member_str(d, obj, "severity", &n)) != NULL)
        w.level = str, w.level_len = n;
    else if (lc)
        w.level = lc->level, w.level_len = lc->level_len;
    if (src_build(s, cd, cobj, loc, &w, inner, &why) != ES_OK)
        return 0;
    if (inner->event_id == NULL && inner->type == NULL) {
        event_done(inner);
        return 0;
    }
    return 1;
}

static int src_emit_object(struct src *s, const struct jdoc *d, uint32_t obj, uint64_t line,
                           const struct line_ctx *lc)
{
    struct file_ingest *fi = s->fi;
    struct event ev, inner;
    char loc[PATH_MAX + 48];
    const char *why = NULL;

    src_location(s, line, loc, sizeof loc);
    if (src_build(s, d, obj, loc, lc, &ev, &why) != ES_OK)
        return src_reject_at(s, loc, why ? why : "not_an_object", "the envelope could not be read",
                             NULL, 0);
    if (ev.event_id == NULL && ev.type == NULL && !(lc && lc->unwrapped) &&
        src_unwrap(s, d, obj, loc, &ev, lc, &inner)) {
        event_done(&ev);
        ev = inner;
    }
    fi->events++;
    s->events++;
    if (fi->event_hook)
        return fi->event_hook(fi->hook_ctx, &ev);
    return sink_event_take(fi->sink, &ev);
}

/* An object is one event; an array is one event per element (CloudEvents batches). */
static int src_emit_doc(struct src *s, const struct jdoc *d, uint64_t line,
                        const struct line_ctx *lc, const void *raw, size_t rawlen)
{
    uint32_t el;
    int rc;

    if (jd_type(d, 0) == JD_OBJECT)
        return src_emit_object(s, d, 0, line, lc);
    if (jd_type(d, 0) == JD_ARRAY) {
        jd_foreach(d, 0, el)
        {
            if (jd_type(d, el) == JD_OBJECT)
                rc = src_emit_object(s, d, el, line, lc);
            else
                rc = src_reject(s, line, "not_an_object",
                                "an element of this array is not a JSON object", raw, rawlen);
            if (rc != ES_OK)
                return rc;
            if (src_stopping(s))
                return ES_EINTERRUPTED;
        }
        return ES_OK;
    }
    return src_reject(s, line, "not_an_object", "a JSON value that is not an object", raw, rawlen);
}

/* The same for a value jansson built (a repaired record, a logfmt line). */
static int src_emit_value(struct src *s, json_t *v, uint64_t line, const struct line_ctx *lc,
                          const void *raw, size_t rawlen)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    int rc;

    if (text == NULL || jdoc_parse(&s->doc, text, strlen(text), 0, 0) != ES_OK)
        rc = src_reject(s, line, "invalid_json", "the record could not be read back", raw, rawlen);
    else
        rc = src_emit_doc(s, &s->doc, line, lc, raw, rawlen);
    free(text);
    return rc;
}

static const char *json_reason(const json_error_t *jerr)
{
    switch (json_error_code(jerr)) {
    case json_error_invalid_utf8: return "invalid_utf8";
    case json_error_stack_overflow: return "json_too_deep";
    case json_error_premature_end_of_input: return "truncated_json";
    case json_error_duplicate_key: return "duplicate_key";
    case json_error_null_character:
    case json_error_null_byte_in_key: return "nul_byte";
    default: return "invalid_json";
    }
}

/* Marks the objects of a repaired record (an object, or an array of them). */
static void mark_repaired(json_t *v)
{
    size_t i;
    json_t *e;

    if (json_is_object(v))
        json_object_set_new(v, "es_invalid_utf8", json_true());
    else if (json_is_array(v))
        json_array_foreach(v, i, e)
            if (json_is_object(e))
                json_object_set_new(e, "es_invalid_utf8", json_true());
}

/*
 * Parses len bytes of JSON text starting on line and emits what it holds. flags adds to
 * JSON_REJECT_DUPLICATES | JSON_DECODE_ANY.
 */
static int src_json(struct src *s, const uint8_t *p, size_t len, uint64_t line, size_t flags,
                    const struct line_ctx *lc)
{
    json_error_t jerr;
    json_t *v;
    char detail[256];
    int rc;

    if (memchr(p, '\0', len) != NULL)
        return src_reject(s, line, "nul_byte", "NUL byte in JSON text", p, len);
    /*
     * The fast path; jansson below only for what it refuses (the error text, repairs).
     * --max-depth N allows N nested containers: their innermost values are level N + 1.
     */
    if (jdoc_parse(&s->doc, (const char *)p, len, (int)s->fi->max_depth + 1, 0) == ES_OK)
        return src_emit_doc(s, &s->doc, line, lc, p, len);
    if (strcmp(s->doc.why, "json_too_deep") == 0) {
        snprintf(detail, sizeof detail, "nesting deeper than %zu (--max-depth)",
                 s->fi->max_depth);
        return src_reject(s, line, "json_too_deep", detail, p, len);
    }
    v = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | flags, &jerr);
    if (v == NULL && json_error_code(&jerr) == json_error_invalid_utf8) {
        /*
         * Invalid UTF-8 is repaired, not rejected: each bad byte becomes U+FFFD and the
         * event carries "es_invalid_utf8": true in attrs, so the record is kept and every
         * output of it stays valid JSON (README, "Private data and hostile input").
         */
        size_t fixed_len;
        char *fixed = event_utf8_repair(p, len, &fixed_len);
        if (fixed != NULL) {
            v = json_loadb(fixed, fixed_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | flags,
                           &jerr);
            free(fixed);
            if (v != NULL)
                mark_repaired(v);
        }
    }
    if (v == NULL) {
        uint64_t at = line + (uint64_t)(jerr.line > 0 ? jerr.line - 1 : 0);
        snprintf(detail, sizeof detail, "line %llu column %d: %s", (unsigned long long)at,
                 jerr.column, jerr.text);
        return src_reject(s, line, json_reason(&jerr), detail, p, len);
    }
    rc = src_emit_value(s, v, line, lc, p, len);
    json_decref(v);
    return rc;
}

/* ---- Line formats ----------------------------------------------------------------------- */

static int line_jsonl(struct src *s, const uint8_t *p, size_t len, uint64_t line)
{
    struct cursor c = trimmed(p, len);

    if (c.left == 0)
        return ES_OK;
    return src_json(s, c.p, c.left, line, 0, NULL);
}

static int line_applog(struct src *s, const uint8_t *p, size_t len, uint64_t line)
{
    struct file_applog al;
    struct line_ctx lc;
    const char *why = NULL;
    struct cursor c = trimmed(p, len);
    int rc;

    if (c.left == 0)
        return ES_OK;
    if (memchr(c.p, '\0', c.left) != NULL)
        return src_reject(s, line, "nul_byte", "NUL byte in a log line", c.p, c.left);
    rc = file_applog_parse((const char *)c.p, c.left, &al, &why);
    if (rc == ES_ENOTFOUND) {
        s->fi->skipped++;
        return ES_OK;
    }
    if (rc != ES_OK)
        return src_reject(s, line, why, "expected '<timestamp> <LEVEL> <service> {json}'", c.p,
                          c.left);
    memset(&lc, 0, sizeof lc);
    lc.observed_us = al.observed_us;
    lc.service = al.service;
    lc.service_len = al.service_len;
    lc.level = al.level;
    lc.level_len = al.level_len;
    cur_skip(&c, al.json_off);
    /* Text after the JSON ("... {json} took 3ms") is tolerated. */
    return src_json(s, c.p, c.left, line, JSON_DISABLE_EOF_CHECK, &lc);
}

static int line_logfmt(struct src *s, const uint8_t *p, size_t len, uint64_t line)
{
    struct cursor c = trimmed(p, len);
    const char *why = NULL;
    json_t *obj = NULL;
    int rc;

    if (c.left == 0 || cpeek(&c) == '#')
        return ES_OK;
    if (memchr(c.p, '\0', c.left) != NULL)
        return src_reject(s, line, "nul_byte", "NUL byte in a logfmt line", c.p, c.left);
    if (file_logfmt_parse((const char *)c.p, c.left, &obj, &why) != ES_OK)
        return src_reject(s, line, why, "expected key=value pairs", c.p, c.left);
    rc = src_emit_value(s, obj, line, NULL, c.p, c.left);
    json_decref(obj);
    return rc;
}

typedef int (*line_fn)(struct src *s, const uint8_t *p, size_t len, uint64_t line);

/* Skips the rest of an over-long line, up to and including its newline. */
static void skip_to_newline(struct src *s)
{
    struct rd *r = &s->rd;
    size_t shift;
    const uint8_t *nl;

    r->pos = r->end;
    for (;;) {
        src_fill(s, r->pos, &shift);
        nl = r->end > r->pos ? memchr(r->buf + r->pos, '\n', r->end - r->pos) : NULL;
        if (nl != NULL) {
            r->pos = (size_t)(nl - r->buf) + 1;
            return;
        }
        r->pos = r->end;
        if (r->eof)
            return;
    }
}

static int run_lines(struct src *s, line_fn fn)
{
    struct rd *r = &s->rd;
    size_t max = s->fi->max_line, avail, len, shift;
    uint64_t line = 1;
    const uint8_t *p, *nl;
    char detail[96];
    int rc;

    for (;;) {
        s->cur_line = line;
        if (src_stopping(s))
            return ES_EINTERRUPTED;
        avail = r->end - r->pos;
        p = r->buf + r->pos;
        nl = avail ? memchr(p, '\n', avail) : NULL;
        if (nl != NULL || (r->eof && avail > 0)) {
            len = nl ? (size_t)(nl - p) : avail;
            if (len > max) {
                snprintf(detail, sizeof detail, "line of %zu bytes, over the limit of %zu", len,
                         max);
                rc = src_reject(s, line, "line_too_long", detail, p, len);
            } else
                rc = fn(s, p, len, line);
            if (rc != ES_OK)
                return rc;
            r->pos += len + (nl != NULL);
            line++;
            continue;
        }
        if (r->eof)
            return ES_OK;
        if (avail > max) {
            snprintf(detail, sizeof detail, "line longer than the limit of %zu bytes", max);
            rc = src_reject(s, line, "line_too_long", detail, p, avail);
            if (rc != ES_OK)
                return rc;
            skip_to_newline(s);
            line++;
            continue;
        }
        src_fill(s, r->pos, &shift);
    }
}

/* ---- JSON documents ---------------------------------------------------------------------- */

static int run_json(struct src *s)
{
    struct rd *r = &s->rd;
    struct file_split sp;
    struct file_split_item it;
    size_t shift;
    char detail[128];
    int rc = ES_OK;

    file_split_init(&sp, s->fi->max_depth, s->fi->max_element);
    for (;;) {
        s->cur_line = sp.line;
        if (src_stopping(s))
            return ES_EINTERRUPTED;
        switch (file_split_next(&sp, r->buf, &r->pos, r->end, r->eof, &it)) {
        case FILE_SPLIT_MORE:
            src_fill(s, file_split_keep(&sp, r->pos), &shift);
            file_split_shift(&sp, shift);
            break;
        case FILE_SPLIT_ELEMENT:
            rc = src_json(s, r->buf + it.start, it.len, it.line, 0, NULL);
            break;
        case FILE_SPLIT_REJECT:
            if (strcmp(it.reason, "json_too_deep") == 0)
                snprintf(detail, sizeof detail, "nesting deeper than %zu", s->fi->max_depth);
            else if (strcmp(it.reason, "json_element_too_large") == 0)
                snprintf(detail, sizeof detail, "element larger than %zu bytes",
                         s->fi->max_element);
            else if (strcmp(it.reason, "truncated_json") == 0)
                snprintf(detail, sizeof detail, "the input ends inside this JSON value");
            else if (strcmp(it.reason, "unterminated_array") == 0)
                snprintf(detail, sizeof detail, "the '[' opened on line %llu is never closed",
                         (unsigned long long)sp.array_line);
            else
                snprintf(detail, sizeof detail, "text that is not JSON in a JSON document");
            rc = src_reject(s, it.line, it.reason, detail, r->buf + it.start, it.len);
            break;
        case FILE_SPLIT_END:
            return ES_OK;
        }
        if (rc != ES_OK)
            return rc;
    }
}

/* ---- The JSON splitter -------------------------------------------------------------------- */

enum {
    SPLIT_TOP,        /* between top-level values */
    SPLIT_ARRAY,      /* inside a top-level array, between elements */
    SPLIT_ELEM,       /* inside an object or array element */
    SPLIT_SCALAR,     /* inside a scalar array element */
    SPLIT_GARBAGE,    /* text that is not JSON, up to a line starting with '{' or '[' */
    SPLIT_GARBAGE_LS, /* same, at the start of a line */
};

void file_split_init(struct file_split *sp, size_t max_depth, size_t max_element)
{
    memset(sp, 0, sizeof *sp);
    sp->max_depth = max_depth ? max_depth : 1;
    sp->max_element = max_element ? max_element : 1;
    sp->state = SPLIT_TOP;
    sp->line = 1;
}

size_t file_split_keep(const struct file_split *sp, size_t pos)
{
    if (sp->state == SPLIT_TOP || sp->state == SPLIT_ARRAY || sp->discard)
        return pos;
    return sp->start < pos ? sp->start : pos;
}

void file_split_shift(struct file_split *sp, size_t delta)
{
    sp->start = sp->start >= delta ? sp->start - delta : 0;
}

static void split_begin(struct file_split *sp, size_t at, int state)
{
    sp->state = state;
    sp->start = at;
    sp->start_line = sp->line;
    sp->depth = 1;
    sp->in_str = sp->esc = 0;
    sp->discard = 0;
}

static enum file_split_result split_item(struct file_split_item *it, size_t start, size_t len,
                                         uint64_t line, const char *reason)
{
    it->start = start;
    it->len = len;
    it->line = line;
    it->reason = reason;
    return reason ? FILE_SPLIT_REJECT : FILE_SPLIT_ELEMENT;
}

static size_t excerpt_len(size_t len)
{
    return len < EXCERPT_MAX ? len : EXCERPT_MAX;
}

/* The scan reached the end of the input. */
static enum file_split_result split_eof(struct file_split *sp, size_t end,
                                        struct file_split_item *it)
{
    int state = sp->state, discard = sp->discard;

    sp->discard = 0;
    switch (state) {
    case SPLIT_ELEM:
        sp->state = SPLIT_TOP;
        sp->in_array = 0;
        if (!discard)
            return split_item(it, sp->start, excerpt_len(end - sp->start), sp->start_line,
                              "truncated_json");
        return FILE_SPLIT_END;
    case SPLIT_SCALAR:
        sp->state = SPLIT_ARRAY;
        if (!discard)
            return split_item(it, sp->start, end - sp->start, sp->start_line, NULL);
        return split_eof(sp, end, it);
    case SPLIT_GARBAGE:
    case SPLIT_GARBAGE_LS:
        sp->state = SPLIT_TOP;
        if (!discard)
            return split_item(it, sp->start, excerpt_len(end - sp->start), sp->start_line,
                              "not_json");
        return FILE_SPLIT_END;
    case SPLIT_ARRAY:
        sp->state = SPLIT_TOP;
        sp->in_array = 0;
        /* Located where the input ends (lines stay in order); the detail names the '['. */
        return split_item(it, end, 0, sp->line, "unterminated_array");
    default:
        return FILE_SPLIT_END;
    }
}

enum file_split_result file_split_next(struct file_split *sp, const uint8_t *buf, size_t *pos,
                                       size_t end, int eof, struct file_split_item *it)
{
    struct cursor c;
    size_t i;
    int b;

    if (*pos > end)
        *pos = end;
    cur_init(&c, buf + *pos, end - *pos);
    while (c.left > 0) {
        i = end - c.left; /* offset of b */
        b = cur_u8(&c);
        if (b == '\n')
            sp->line++;
        switch (sp->state) {
        case SPLIT_TOP:
            if (is_blank(b))
                break;
            if (b == '{') {
                split_begin(sp, i, SPLIT_ELEM);
            } else if (b == '[') {
                sp->in_array = 1;
                sp->array_line = sp->line;
                sp->state = SPLIT_ARRAY;
            } else {
                split_begin(sp, i, SPLIT_GARBAGE);
            }
            break;
        case SPLIT_ARRAY:
            if (is_blank(b) || b == ',')
                break;
            if (b == ']') {
                sp->in_array = 0;
                sp->state = SPLIT_TOP;
            } else if (b == '{' || b == '[') {
                split_begin(sp, i, SPLIT_ELEM);
            } else {
                split_begin(sp, i, SPLIT_SCALAR);
                sp->in_str = b == '"';
            }
            break;
        case SPLIT_ELEM:
            if (sp->in_str) {
                if (sp->esc)
                    sp->esc = 0;
                else if (b == '\\')
                    sp->esc = 1;
                else if (b == '"')
                    sp->in_str = 0;
            } else if (b == '"') {
                sp->in_str = 1;
            } else if (b == '{' || b == '[') {
                sp->depth++;
                if (sp->depth > sp->max_depth && !sp->discard) {
                    sp->discard = 1;
                    *pos = i + 1;
                    return split_item(it, sp->start, excerpt_len(i + 1 - sp->start),
                                      sp->start_line, "json_too_deep");
                }
            } else if (b == '}' || b == ']') {
                if (--sp->depth == 0) {
                    sp->state = sp->in_array ? SPLIT_ARRAY : SPLIT_TOP;
                    if (sp->discard) {
                        sp->discard = 0;
                        break;
                    }
                    *pos = i + 1;
                    return split_item(it, sp->start, i + 1 - sp->start, sp->start_line, NULL);
                }
            }
            if (!sp->discard && i + 1 - sp->start > sp->max_element) {
                sp->discard = 1;
                *pos = i + 1;
                return split_item(it, sp->start, excerpt_len(i + 1 - sp->start),
                                  sp->start_line, "json_element_too_large");
            }
            break;
        case SPLIT_SCALAR:
            if (sp->in_str) {
                if (sp->esc)
                    sp->esc = 0;
                else if (b == '\\')
                    sp->esc = 1;
                else if (b == '"')
                    sp->in_str = 0;
            } else if (is_blank(b) || b == ',' || b == ']') {
                sp->state = SPLIT_ARRAY;
                /* ']' is left for SPLIT_ARRAY to close the array. */
                *pos = b == ']' ? i : i + 1;
                if (sp->discard) {
                    sp->discard = 0;
                    cur_init(&c, buf + *pos, end - *pos);
                    break;
                }
                return split_item(it, sp->start, i - sp->start, sp->start_line, NULL);
            } else if (b == '"') {
                sp->in_str = 1;
            }
            if (!sp->discard && i + 1 - sp->start > sp->max_element) {
                sp->discard = 1;
                *pos = i + 1;
                return split_item(it, sp->start, excerpt_len(i + 1 - sp->start),
                                  sp->start_line, "json_element_too_large");
            }
            break;
        case SPLIT_GARBAGE:
            if (b == '\n') {
                sp->state = SPLIT_GARBAGE_LS;
            } else if (!sp->discard && i + 1 - sp->start > EXCERPT_MAX) {
                /* Report now with what we have; keep nothing more of this run. */
                sp->discard = 1;
                *pos = i + 1;
                return split_item(it, sp->start, EXCERPT_MAX, sp->start_line, "not_json");
            }
            break;
        case SPLIT_GARBAGE_LS:
            if (b == '{' || b == '[') {
                int discard = sp->discard;
                size_t gstart = sp->start, glen = i - sp->start;
                sp->state = SPLIT_TOP;
                sp->discard = 0;
                *pos = i; /* rescan b at the top level */
                if (!discard) {
                    while (glen > 0 && is_blank(buf[gstart + glen - 1]))
                        glen--;
                    return split_item(it, gstart, excerpt_len(glen), sp->start_line,
                                      "not_json");
                }
                cur_init(&c, buf + i, end - i);
            } else if (!is_blank(b)) {
                sp->state = SPLIT_GARBAGE;
                if (!sp->discard && i + 1 - sp->start > EXCERPT_MAX) {
                    sp->discard = 1;
                    *pos = i + 1;
                    return split_item(it, sp->start, EXCERPT_MAX, sp->start_line, "not_json");
                }
            }
            break;
        }
    }
    *pos = end;
    if (!eof)
        return FILE_SPLIT_MORE;
    return split_eof(sp, end, it);
}

/* ---- App-log prefix -------------------------------------------------------------------- */

static const char *const log_levels[] = {
    "TRACE", "DEBUG", "DBG",   "INFO",  "INF",   "NOTICE", "WARN",  "WARNING", "WRN",
    "ERROR", "ERR",   "FATAL", "FTL",   "CRITICAL", "CRIT", "SEVERE", "ALERT", "EMERG",
    "PANIC", "FINE",  "FINER", "FINEST", "VERBOSE",
};

static int is_digit(int b)
{
    return b >= '0' && b <= '9';
}

/* Copies the token up to a blank or one of stop (at most cap-1 bytes) into tok. */
static size_t read_token(struct cursor *c, char *tok, size_t cap, const char *stop)
{
    size_t n = 0;
    int b;

    while ((b = cpeek(c)) >= 0 && !is_blank(b) && strchr(stop, b) == NULL) {
        if (n + 1 < cap)
            tok[n] = (char)b;
        n++;
        cur_skip(c, 1);
    }
    tok[n < cap ? n : cap - 1] = '\0';
    return n;
}

static void skip_blanks(struct cursor *c)
{
    while (c->left && (cpeek(c) == ' ' || cpeek(c) == '\t'))
        cur_skip(c, 1);
}

static int is_level(const char *tok, size_t n)
{
    size_t i;

    for (i = 0; i < sizeof log_levels / sizeof log_levels[0]; i++)
        if (strlen(log_levels[i]) == n && strncasecmp(tok, log_levels[i], n) == 0)
            return 1;
    return 0;
}

/*
 * RFC 3164's "Mmm dd hh:mm:ss" (no year, no zone) at c: ES_OK with *us, read as UTC in
 * the year that puts it at most two days ahead of now (a log written last December and
 * read in January is last year's). The month name and the clock are checked by
 * timeparse_text, as an RFC 5322 date without a zone.
 */
static int syslog_time(struct cursor *c, int64_t *us)
{
    char text[64], mon[8], day[8], clock[24];
    struct cursor t = *c;
    time_t now = time(NULL);
    struct tm tm;
    int year;

    if (read_token(&t, mon, sizeof mon, "") != 3 || mon[0] < 'A' || mon[0] > 'Z' ||
        mon[1] < 'a' || mon[1] > 'z' || mon[2] < 'a' || mon[2] > 'z')
        return ES_EINVALID;
    skip_blanks(&t); /* "Mar  5": the day is space-padded */
    if (read_token(&t, day, sizeof day, "") > 2)
        return ES_EINVALID;
    skip_blanks(&t);
    if (read_token(&t, clock, sizeof clock, "") < 8 || clock[2] != ':')
        return ES_EINVALID;
    gmtime_r(&now, &tm);
    for (year = tm.tm_year + 1900; year >= tm.tm_year + 1899; year--) {
        snprintf(text, sizeof text, "%s %s %d %s", day, mon, year, clock);
        if (timeparse_text(text, strlen(text), us, NULL) != ES_OK)
            return ES_EINVALID;
        if (*us <= (int64_t)now * 1000000 + 2 * 86400 * (int64_t)1000000)
            break;
    }
    *c = t;
    return ES_OK;
}

/*
 * A syslog tag "app[pid]:" or "app:" at c (RFC 3164), or with want_colon == 0 a bare
 * APP-NAME (RFC 5424): sets out->service (unless "-") and moves c past it. Returns 1 when
 * the token is one.
 */
static int syslog_tag(struct cursor *c, struct file_applog *out, int want_colon)
{
    size_t n = 0, name;

    while (n < c->left && !is_blank(c->p[n]) && c->p[n] != '{')
        n++;
    name = n;
    if (want_colon) {
        const uint8_t *br;
        if (n < 2 || c->p[n - 1] != ':')
            return 0;
        name = n - 1;
        br = memchr(c->p, '[', name);
        if (br != NULL) {
            if (c->p[name - 1] != ']')
                return 0;
            name = (size_t)(br - c->p);
        }
    }
    if (name == 0)
        return 0;
    if (!(name == 1 && c->p[0] == '-')) {
        out->service = (const char *)c->p;
        out->service_len = name;
    }
    cur_skip(c, n);
    return 1;
}

/*
 * The service prefix of "docker compose logs" ("orders-1  | ") or of "kubectl logs
 * --prefix" ("[pod/orders-7d9/orders] ", the container named last): sets *svc and moves c
 * past it. Returns 1 when there is one.
 */
static int compose_prefix(struct cursor *c, const char **svc, size_t *svc_len)
{
    size_t n = 0, k;

    if (c->left > 5 && memcmp(c->p, "[pod/", 5) == 0) {
        const uint8_t *end = memchr(c->p, ']', c->left < 512 ? c->left : 512);
        if (end == NULL || end + 1 >= c->p + c->left || end[1] != ' ')
            return 0;
        for (k = (size_t)(end - c->p); k > 5 && c->p[k - 1] != '/'; k--)
            ;
        *svc = (const char *)c->p + k;
        *svc_len = (size_t)(end - c->p) - k;
        cur_skip(c, (size_t)(end - c->p) + 1);
        return *svc_len > 0;
    }
    while (n < c->left && n < 128 &&
           ((c->p[n] >= 'a' && c->p[n] <= 'z') || (c->p[n] >= 'A' && c->p[n] <= 'Z') ||
            is_digit(c->p[n]) || c->p[n] == '-' || c->p[n] == '_' || c->p[n] == '.'))
        n++;
    for (k = n; k < c->left && c->p[k] == ' '; k++)
        ;
    if (n == 0 || k == n || k + 1 >= c->left || c->p[k] != '|' || c->p[k + 1] != ' ')
        return 0;
    *svc = (const char *)c->p;
    *svc_len = n;
    cur_skip(c, k + 2);
    return 1;
}

static int applog_prefix(const char *line, size_t len, struct file_applog *out,
                         const char **why);

/*
 * After a prefix that may wrap a whole app-log line (a CRI stream tag, a compose or
 * kubectl name), at c: when the rest is such a line and not the JSON itself, *out becomes
 * that line's (json_off from line's start), keeping out's service if it names none.
 * Returns 1 then; else c is left past the blanks.
 */
static int applog_inner(const char *line, size_t len, const struct cursor *start,
                        struct cursor *c, struct file_applog *out)
{
    struct file_applog inner;
    const char *ignored;
    size_t at;

    skip_blanks(c);
    at = cur_offset(start, c);
    if (cpeek(c) == '{' || applog_prefix(line + at, len - at, &inner, &ignored) != ES_OK)
        return 0;
    inner.json_off += at;
    if (inner.service == NULL)
        inner.service = out->service, inner.service_len = out->service_len;
    *out = inner;
    return 1;
}

/*
 * The prefix of an app-log line: ES_OK with out filled (json_off: where the prefix ends),
 * or ES_EINVALID with *why. Understood:
 *   <timestamp> <LEVEL> [service] ...         timestamp ISO 8601 or "2026-03-15 10:30:00,123",
 *                                             optionally in brackets, level and service too
 *   <timestamp> {json}                        kubectl logs --timestamps
 *   <timestamp> stdout|stderr F|P <rest>      CRI (containerd, CRI-O) files under /var/log/pods;
 *                                             rest may be an app-log line of its own
 *   [<PRI>]Mmm dd hh:mm:ss host app[pid]: ... RFC 3164 syslog; also with an ISO timestamp
 *   <PRI>1 <timestamp> host app procid msgid structured-data ...   RFC 5424
 *   name  | <any of these, or the JSON>       docker compose logs; kubectl logs --prefix
 */
static int applog_prefix(const char *line, size_t len, struct file_applog *out, const char **why)
{
    struct cursor c, start, t;
    char ts[72], lvl[24], tok[16];
    size_t n, tsn;
    int bracket, rfc5424 = 0;
    const uint8_t *svc;

    memset(out, 0, sizeof *out);
    cur_init(&c, line, len);
    start = c;
    skip_blanks(&c);

    /* "orders-1  | ..." (docker compose logs), "[pod/orders-7d9/orders] ..." (kubectl --prefix) */
    if (compose_prefix(&c, &out->service, &out->service_len)) {
        out->observed_us = ES_TIME_NONE;
        if (applog_inner(line, len, &start, &c, out))
            return ES_OK;
        goto done; /* no time: the JSON, or text before it, follows */
    }

    /* Syslog priority "<34>" and the RFC 5424 version "1 ". */
    if (cpeek(&c) == '<') {
        for (n = 1; n < c.left && n < 5 && is_digit(c.p[n]); n++)
            ;
        if (n > 1 && n < c.left && c.p[n] == '>') {
            cur_skip(&c, n + 1);
            if (c.left > 1 && c.p[0] == '1' && c.p[1] == ' ')
                cur_skip(&c, 2), rfc5424 = 1;
        }
    }

    /* Timestamp: one token, or "date time" as two; optionally in brackets; or RFC 3164. */
    if (rfc5424 || syslog_time(&c, &out->observed_us) != ES_OK) {
        bracket = cpeek(&c) == '[';
        if (bracket)
            cur_skip(&c, 1);
        tsn = read_token(&c, ts, 40, "]");
        if (tsn == 10 && ts[4] == '-' && ts[7] == '-' && c.left > 1 && cpeek(&c) == ' ' &&
            is_digit(c.p[1])) {
            cur_skip(&c, 1);
            ts[10] = ' ';
            n = read_token(&c, ts + 11, 30, "]");
            tsn = 11 + n;
        }
        if (bracket && cpeek(&c) == ']')
            cur_skip(&c, 1);
        else if (bracket)
            tsn = 0;
        if (tsn == 0 || tsn > 60 ||
            timeparse_text(ts, tsn, &out->observed_us, NULL) != ES_OK) {
            *why = "applog_no_timestamp";
            return ES_EINVALID;
        }
    }
    skip_blanks(&c);
    if (cpeek(&c) == '{')
        goto done; /* "<timestamp> {json}" */

    /* CRI: "stdout F " / "stderr P "; what follows may carry its own time and level. */
    t = c;
    n = read_token(&t, tok, sizeof tok, "");
    if ((n == 6 && (strcmp(tok, "stdout") == 0 || strcmp(tok, "stderr") == 0)) &&
        t.left > 2 && t.p[0] == ' ' && (t.p[1] == 'F' || t.p[1] == 'P') && t.p[2] == ' ') {
        cur_skip(&t, 3);
        c = t;
        if (applog_inner(line, len, &start, &c, out))
            return ES_OK;
        goto done;
    }

    /* RFC 5424: HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA ("-" when absent). */
    if (rfc5424) {
        for (n = 0; n < 4 && c.left; n++) {
            if (n == 1)
                syslog_tag(&c, out, 0);
            else
                while (c.left && !is_blank(c.p[0]))
                    cur_skip(&c, 1);
            skip_blanks(&c);
        }
        if (cpeek(&c) == '[') { /* structured data: skip to its last ']' before the message */
            while (c.left && !(c.p[0] == ']' && (c.left == 1 || c.p[1] == ' ')))
                cur_skip(&c, 1);
            cur_skip(&c, c.left ? 1 : 0);
        } else if (cpeek(&c) == '-') {
            cur_skip(&c, 1);
        }
        goto done;
    }

    /* Level: a known word, optionally in brackets or followed by ':'. */
    t = c;
    bracket = cpeek(&t) == '[';
    if (bracket)
        cur_skip(&t, 1);
    out->level = (const char *)t.p;
    n = read_token(&t, lvl, sizeof lvl, "]:");
    out->level_len = n;
    if (n == 0 || n >= sizeof lvl || !is_level(lvl, n)) {
        /* No level: a syslog "app[pid]:" or "host app[pid]:" (RFC 3164, rsyslog)? */
        struct cursor h = c;
        out->level = NULL;
        out->level_len = 0;
        if (syslog_tag(&c, out, 1))
            goto done;
        while (h.left && !is_blank(h.p[0]) && h.p[0] != '{')
            cur_skip(&h, 1);
        skip_blanks(&h);
        if (h.left && syslog_tag(&h, out, 1)) {
            c = h;
            goto done;
        }
        *why = "applog_no_level";
        return ES_EINVALID;
    }
    if (bracket && cpeek(&t) == ']')
        cur_skip(&t, 1);
    if (cpeek(&t) == ':')
        cur_skip(&t, 1);
    c = t;
    skip_blanks(&c);

    /* Service: "[orders]", "orders:" or "orders", unless the JSON starts right here. */
    if (cpeek(&c) != '{' && c.left) {
        bracket = cpeek(&c) == '[';
        if (bracket)
            cur_skip(&c, 1);
        svc = c.p;
        n = 0;
        while (n < c.left && !is_blank(c.p[n]) && c.p[n] != ']' && c.p[n] != '{')
            n++;
        cur_skip(&c, n);
        if (bracket && cpeek(&c) == ']')
            cur_skip(&c, 1);
        while (n > 0 && svc[n - 1] == ':')
            n--;
        if (n > 0) {
            out->service = (const char *)svc;
            out->service_len = n;
        }
    }
done:
    out->json_off = cur_offset(&start, &c);
    return ES_OK;
}

int file_applog_parse(const char *line, size_t len, struct file_applog *out, const char **why)
{
    const char *brace;
    int rc;

    memset(out, 0, sizeof *out);
    if (memchr(line, '{', len) == NULL)
        return ES_ENOTFOUND;
    rc = applog_prefix(line, len, out, why);
    if (rc != ES_OK)
        return rc;
    brace = memchr(line + out->json_off, '{', len - out->json_off);
    if (brace == NULL) {
        out->service = NULL;
        return ES_ENOTFOUND; /* the only '{' was in the prefix */
    }
    out->json_off = (size_t)(brace - line);
    return ES_OK;
}

/* ---- logfmt ------------------------------------------------------------------------------ */

static int hex4(struct cursor *c, unsigned *v)
{
    unsigned i;
    int d;

    *v = 0;
    for (i = 0; i < 4; i++) {
        if ((d = cur_hexval(cpeek(c))) < 0)
            return 0;
        *v = *v << 4 | (unsigned)d;
        cur_skip(c, 1);
    }
    return 1;
}

/*
 * A quoted value after its opening quote: unescapes into o (room for c->left bytes: the
 * text never grows). Returns the length, or -1 with *why.
 */
static long logfmt_quoted(struct cursor *c, uint8_t *o, const char **why)
{
    size_t n = 0;
    unsigned cp, lo;
    int b;

    for (;;) {
        if (c->left == 0) {
            *why = "logfmt_unterminated_quote";
            return -1;
        }
        b = cur_u8(c);
        if (b == '"')
            return (long)n;
        if (b != '\\') {
            o[n++] = (uint8_t)b;
            continue;
        }
        if (c->left == 0) {
            *why = "logfmt_unterminated_quote";
            return -1;
        }
        b = cur_u8(c);
        switch (b) {
        case 'n': o[n++] = '\n'; break;
        case 't': o[n++] = '\t'; break;
        case 'r': o[n++] = '\r'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case '"':
        case '\\':
        case '/': o[n++] = (uint8_t)b; break;
        case 'u':
            if (!hex4(c, &cp)) {
                *why = "logfmt_bad_escape";
                return -1;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (c->left < 6 || c->p[0] != '\\' || c->p[1] != 'u') {
                    *why = "logfmt_bad_escape";
                    return -1;
                }
                cur_skip(c, 2);
                if (!hex4(c, &lo) || lo < 0xdc00 || lo > 0xdfff) {
                    *why = "logfmt_bad_escape";
                    return -1;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                *why = "logfmt_bad_escape";
                return -1;
            }
            n += event_utf8_put(o + n, cp);
            break;
        default: /* unknown escape: kept as written */
            o[n++] = '\\';
            o[n++] = (uint8_t)b;
        }
    }
}

int file_logfmt_parse(const char *line, size_t len, json_t **out, const char **why)
{
    struct cursor c;
    json_t *obj = json_object(), *val;
    uint8_t stackbuf[1024], *vbuf = stackbuf;
    const uint8_t *key, *v;
    size_t klen, vlen;
    long q;
    int pairs = 0, rc = ES_EINVALID;

    *out = NULL;
    if (len > sizeof stackbuf)
        vbuf = xmalloc(len);
    cur_init(&c, line, len);
    for (;;) {
        skip_blanks(&c);
        while (cpeek(&c) == '\r')
            cur_skip(&c, 1);
        if (c.left == 0)
            break;
        key = c.p;
        klen = 0;
        while (klen < c.left && !is_blank(c.p[klen]) && c.p[klen] != '=' && c.p[klen] != '"')
            klen++;
        cur_skip(&c, klen);
        if (klen == 0) {
            *why = "logfmt_syntax";
            goto out;
        }
        if (memchr(key, '\0', klen) != NULL) {
            *why = "nul_byte";
            goto out;
        }
        if (cpeek(&c) == '=') {
            cur_skip(&c, 1);
            pairs++;
            if (cpeek(&c) == '"') {
                cur_skip(&c, 1);
                q = logfmt_quoted(&c, vbuf, why);
                if (q < 0)
                    goto out;
                v = vbuf;
                vlen = (size_t)q;
                if (c.left && !is_blank(cpeek(&c))) {
                    *why = "logfmt_syntax";
                    goto out;
                }
            } else {
                v = c.p;
                vlen = 0;
                while (vlen < c.left && !is_blank(c.p[vlen]))
                    vlen++;
                cur_skip(&c, vlen);
            }
            val = json_stringn((const char *)v, vlen);
        } else if (c.left == 0 || is_blank(cpeek(&c))) {
            val = json_true(); /* a bare key is a flag */
        } else {
            *why = "logfmt_syntax"; /* key"... */
            goto out;
        }
        if (val == NULL) {
            *why = "invalid_utf8";
            goto out;
        }
        if (json_object_getn(obj, (const char *)key, klen) != NULL) {
            json_decref(val);
            *why = "duplicate_key";
            goto out;
        }
        if (json_object_setn_new(obj, (const char *)key, klen, val) != 0) {
            *why = "invalid_utf8";
            goto out;
        }
    }
    if (pairs == 0) {
        *why = "not_logfmt";
        goto out;
    }
    *out = obj;
    obj = NULL;
    rc = ES_OK;
out:
    json_decref(obj);
    if (vbuf != stackbuf)
        free(vbuf);
    return rc;
}

/* ---- Sniffing ----------------------------------------------------------------------------- */

/* Reads until the buffer holds a newline, SNIFF_MAX bytes, or everything. */
static void sniff_fill(struct src *s)
{
    struct rd *r = &s->rd;
    size_t shift;

    while (!r->eof && r->end - r->pos < SNIFF_MAX &&
           memchr(r->buf + r->pos, '\n', r->end - r->pos) == NULL)
        src_fill(s, r->pos, &shift);
}

static int is_pcap_magic(const uint8_t *p, size_t len)
{
    static const uint8_t magics[][4] = {
        {0xa1, 0xb2, 0xc3, 0xd4}, {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d},
        {0x4d, 0x3c, 0xb2, 0xa1}, {0x0a, 0x0d, 0x0d, 0x0a},
    };
    size_t i;

    if (len < 4)
        return 0;
    for (i = 0; i < sizeof magics / sizeof magics[0]; i++)
        if (memcmp(p, magics[i], 4) == 0)
            return 1;
    return 0;
}

/* The first non-blank line of the buffered data (cursor over it, without the newline). */
static struct cursor first_line(const struct rd *r)
{
    struct cursor c, l;
    const uint8_t *nl;

    cur_init(&c, r->buf + r->pos, r->end - r->pos);
    while (c.left && is_blank(cpeek(&c)))
        cur_skip(&c, 1);
    nl = c.left ? memchr(c.p, '\n', c.left) : NULL;
    cur_init(&l, c.p, nl ? (size_t)(nl - c.p) : c.left);
    return l;
}

/* Kcat -J / mosquitto_sub -F %j lines, told apart by their keys. */
static enum file_format sniff_dump(json_t *obj)
{
    if (json_object_get(obj, "topic") && json_object_get(obj, "partition") &&
        json_object_get(obj, "offset") && json_object_get(obj, "payload"))
        return FILE_FMT_KCAT;
    if (json_object_get(obj, "tst") && json_object_get(obj, "topic") &&
        json_object_get(obj, "qos") && json_object_get(obj, "payload"))
        return FILE_FMT_MOSQUITTO_JSON;
    return FILE_FMT_JSONL;
}

/*
 * Chooses a format from the first bytes (gzip already unwrapped). Returns FILE_FMT_AUTO
 * when nothing fits; *why says what was seen.
 */
static enum file_format sniff(struct src *s, const char **why)
{
    struct rd *r = &s->rd;
    struct cursor l = first_line(r);
    struct file_applog al;
    const char *w = NULL;
    json_t *v;
    enum file_format f;
    int b = cpeek(&l);

    if (is_pcap_magic(r->buf + r->pos, r->end - r->pos)) {
        *why = "pcap/pcapng magic number";
        return FILE_FMT_PCAP;
    }
    if (r->end - r->pos >= 16 && memcmp(r->buf + r->pos, "SQLite format 3", 16) == 0) {
        *why = "an SQLite database (an eventscope store?)";
        return FILE_FMT_AUTO;
    }
    if (memchr(l.p, '\0', l.left) != NULL) { /* on the first line: later ones are rejects */
        *why = "binary data";
        return FILE_FMT_AUTO;
    }
    if (b == '[') {
        *why = "starts with '['";
        return FILE_FMT_JSON;
    }
    if (b == '{') {
        struct cursor t = trimmed(l.p, l.left);
        v = json_loadb((const char *)t.p, t.left, JSON_REJECT_DUPLICATES, NULL);
        if (v == NULL) {
            *why = "starts with '{' and the first line is not a whole JSON value";
            return FILE_FMT_JSON;
        }
        f = json_is_object(v) ? sniff_dump(v) : FILE_FMT_JSONL;
        json_decref(v);
        *why = f == FILE_FMT_KCAT             ? "JSON lines with kcat's topic/partition/offset"
               : f == FILE_FMT_MOSQUITTO_JSON ? "JSON lines with mosquitto_sub's tst/topic/qos"
                                              : "the first line is one JSON value";
        return f;
    }
    if (l.left > 0 && applog_prefix((const char *)l.p, l.left, &al, &w) == ES_OK) {
        *why = al.level ? "lines start with a timestamp and a level"
                        : "lines start with a timestamp, as syslog, container and kubectl logs do";
        return FILE_FMT_APPLOG;
    }
    if (l.left > 0) {
        /* Needs a key=value pair, not just words (file_logfmt_parse accepts bare keys). */
        struct cursor t = trimmed(l.p, l.left);
        const uint8_t *eq = memchr(t.p, '=', t.left);
        if (eq != NULL && eq != t.p && !is_blank(eq[-1]) &&
            file_logfmt_parse((const char *)t.p, t.left, &v, &w) == ES_OK) {
            json_decref(v);
            *why = "key=value pairs";
            return FILE_FMT_LOGFMT;
        }
    }
    *why = l.left == 0 ? "no text" : "no known format (pass --format)";
    return FILE_FMT_AUTO;
}

/* ---- Hand-over to the pcap reader and the broker-dump replays ------------------------------ */

static void msg(struct file_ingest *fi, enum file_msg kind, const char *name, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

static void msg(struct file_ingest *fi, enum file_msg kind, const char *name, const char *fmt,
                ...)
{
    char text[512];
    va_list ap;

    if (kind == FILE_MSG_ERROR)
        fi->failed++;
    if (fi->on_message == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    fi->on_message(fi->ctx, kind, name, text);
}

static int run_pcap(struct src *s, const char *path, const char *uri)
{
#ifdef FILE_HAVE_PCAP
    char err[512] = "";
    int rc;

    if (path == NULL || s->fi->sink == NULL) {
        msg(s->fi, FILE_MSG_ERROR, s->name,
            "pcap data can only be read from a file (save it first)");
        return ES_OK;
    }
    /* The absolute path names the origin, as for other files: re-ingesting from another
     * directory finds the same origin. */
    rc = pcapsrc_ingest_file(s->fi->sink, path, uri ? uri : s->name, err, sizeof err);
    s->fi->files++;
    if (rc == ES_EINTERRUPTED || rc == ES_ESTORE)
        return rc;
    if (rc != ES_OK)
        msg(s->fi, FILE_MSG_ERROR, s->name, "%s", err[0] ? err : es_strerror(rc));
    return ES_OK;
#else
    (void)path, (void)uri;
    msg(s->fi, FILE_MSG_ERROR, s->name, "pcap input is not supported by this build");
    return ES_OK;
#endif
}

#ifdef FILE_HAVE_TAP_REPLAY
static ssize_t cookie_read(void *cookie, char *buf, size_t size)
{
    struct src *s = cookie;
    struct rd *r = &s->rd;
    size_t n, shift;

    while (r->pos == r->end && !r->eof)
        src_fill(s, r->pos, &shift);
    n = r->end - r->pos;
    if (n > size)
        n = size;
    memcpy(buf, r->buf + r->pos, n);
    r->pos += n;
    return (ssize_t)n;
}
#endif

static int run_replay(struct src *s, enum file_format f)
{
#ifdef FILE_HAVE_TAP_REPLAY
    cookie_io_functions_t io = {cookie_read, NULL, NULL, NULL};
    char err[512] = "";
    FILE *in;
    int rc;

    if (s->fi->sink == NULL)
        return ES_OK;
    in = fopencookie(s, "r", io);
    if (in == NULL)
        return ES_ENOMEM;
    rc = tap_replay_stream(s->fi->sink,
                           f == FILE_FMT_KCAT ? TAP_REPLAY_KCAT : TAP_REPLAY_MOSQUITTO_JSON, in,
                           s->name, err, sizeof err);
    fclose(in);
    if (rc == ES_EINTERRUPTED || rc == ES_ESTORE)
        return rc;
    if (rc != ES_OK)
        msg(s->fi, FILE_MSG_ERROR, s->name, "%s", err[0] ? err : es_strerror(rc));
    return ES_OK;
#else
    msg(s->fi, FILE_MSG_ERROR, s->name, "%s input is not supported by this build",
        file_format_name(f));
    return ES_OK;
#endif
}

/* ---- Reading one input -------------------------------------------------------------------- */

/*
 * Reads the input behind s->rd (already initialised) as fmt. path: the file (NULL for
 * stdin and memory), uri: the origin's uri (NULL: keep the current origin), in_dir: found
 * by walking a folder (unknown formats are then skipped with a note, not errors).
 */
static int src_run(struct src *s, enum file_format fmt, const char *path, const char *uri,
                   int in_dir)
{
    struct file_ingest *fi = s->fi;
    struct rd *r = &s->rd;
    const char *why = NULL, *gz = "";
    int rc;

    sniff_fill(s);
    if (r->end - r->pos >= 2 && r->buf[r->pos] == 0x1f && r->buf[r->pos + 1] == 0x8b) {
        if (fmt == FILE_FMT_PCAP) /* the pcap reader inflates by itself */
            return run_pcap(s, path, uri);
        if (rd_start_gz(r) != ES_OK)
            return ES_ENOMEM;
        gz = "gzip, ";
        sniff_fill(s);
    }
    /* A UTF-8 byte order mark is not part of the text. */
    if (r->end - r->pos >= 3 && memcmp(r->buf + r->pos, "\xef\xbb\xbf", 3) == 0)
        r->pos += 3;
    if (fmt == FILE_FMT_AUTO) {
        if (r->end == r->pos && r->eof) {
            if (r->err == NULL)
                msg(fi, FILE_MSG_NOTE, s->name, "empty, nothing to read");
            fmt = FILE_FMT_JSONL; /* reports a gzip error, if any */
        } else {
            fmt = sniff(s, &why);
            if (fmt == FILE_FMT_AUTO) {
                if (in_dir)
                    msg(fi, FILE_MSG_NOTE, s->name, "skipped: %s", why);
                else
                    msg(fi, FILE_MSG_ERROR, s->name,
                        "cannot tell the format: %s; pass --format "
                        "jsonl|json|applog|logfmt|pcap|kcat|mosquitto-json",
                        why);
                return ES_OK;
            }
            msg(fi, FILE_MSG_FORMAT, s->name, "%s%s (%s)", gz, file_format_name(fmt), why);
        }
    } else if (r->end == r->pos && r->eof && r->err == NULL && fmt != FILE_FMT_PCAP) {
        msg(fi, FILE_MSG_NOTE, s->name, "empty, nothing to read");
    }
    if (fmt == FILE_FMT_PCAP) {
        return run_pcap(s, path, uri);
    }
    if (uri != NULL && fi->sink != NULL && !fi->event_hook) {
        rc = sink_origin(fi->sink, "file", uri);
        if (rc != ES_OK)
            return rc;
    }
    fi->files++;
    switch (fmt) {
    case FILE_FMT_JSON: rc = run_json(s); break;
    case FILE_FMT_APPLOG: rc = run_lines(s, line_applog); break;
    case FILE_FMT_LOGFMT: rc = run_lines(s, line_logfmt); break;
    case FILE_FMT_KCAT:
    case FILE_FMT_MOSQUITTO_JSON: rc = run_replay(s, fmt); break;
    default: rc = run_lines(s, line_jsonl); break;
    }
    if (rc != ES_OK)
        return rc;
    if (r->err != NULL) {
        /* Damaged gzip data or an I/O error: what came before is kept. */
        rc = src_reject(s, s->cur_line ? s->cur_line : 1, r->err, r->errdetail, NULL, 0);
        if (rc != ES_OK)
            return rc;
        if (strcmp(r->err, "read_error") == 0)
            msg(fi, FILE_MSG_ERROR, s->name, "%s", r->errdetail);
    }
    if (s->events == 0 && s->rejects > 0 && !src_stopping(s))
        msg(fi, FILE_MSG_NOTE, s->name,
            "no event read, %llu rejected: is it really %s? (try --format auto)",
            (unsigned long long)s->rejects, file_format_name(fmt));
    return ES_OK;
}

static size_t buffer_limit(const struct file_ingest *fi)
{
    size_t max = fi->max_line > fi->max_element ? fi->max_line : fi->max_element;

    return max + BUF_SLACK;
}

static int ingest_fd(struct file_ingest *fi, int fd, const char *path, const char *name,
                     const char *uri, int in_dir)
{
    struct src s;
    int rc;

    memset(&s, 0, sizeof s);
    s.fi = fi;
    s.name = name;
    rd_init(&s.rd, fd, buffer_limit(fi), fi->sink ? fi->sink->stop : NULL);
    s.rd.chunk = fi->chunk;
    rc = src_run(&s, fi->format, path, uri, in_dir);
    rd_done(&s.rd);
    jdoc_done(&s.doc);
    jdoc_done(&s.inner);
    return rc;
}

int file_ingest_buffer(struct file_ingest *fi, const void *p, size_t len, const char *name,
                       enum file_format fmt)
{
    struct src s;
    int rc;

    memset(&s, 0, sizeof s);
    s.fi = fi;
    s.name = name;
    rd_init(&s.rd, -1, buffer_limit(fi), fi->sink ? fi->sink->stop : NULL);
    s.rd.mem = p;
    s.rd.mem_len = len;
    s.rd.chunk = fi->chunk;
    rc = src_run(&s, fmt, NULL, NULL, 0);
    rd_done(&s.rd);
    jdoc_done(&s.doc);
    jdoc_done(&s.inner);
    return rc;
}

/* The folders above the one being walked: a link back to one of them is not followed. */
struct dir_frame {
    dev_t dev;
    ino_t ino;
    const struct dir_frame *up;
};

static int ingest_path(struct file_ingest *fi, const char *path, int depth, int in_dir,
                       const struct dir_frame *up);

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks a folder: entries in byte order, hidden ones skipped, sub-folders recursed. */
static int ingest_dir(struct file_ingest *fi, const char *path, int depth,
                      const struct stat *sb, const struct dir_frame *up)
{
    struct dir_frame here = {sb->st_dev, sb->st_ino, up};
    const struct dir_frame *f;
    DIR *d;
    struct dirent *de;
    char **names = NULL, *child;
    size_t n = 0, cap = 0, i, plen = strlen(path);
    int rc = ES_OK;

    for (f = up; f != NULL; f = f->up)
        if (f->dev == sb->st_dev && f->ino == sb->st_ino) {
            msg(fi, FILE_MSG_NOTE, path, "skipped: a link back to a folder above it");
            return ES_OK;
        }
    if (depth >= DIR_DEPTH_MAX) {
        msg(fi, FILE_MSG_NOTE, path, "skipped: more than %d nested folders (a symlink loop?)",
            DIR_DEPTH_MAX);
        return ES_OK;
    }
    d = opendir(path);
    if (d == NULL) {
        msg(fi, FILE_MSG_ERROR, path, "cannot open folder: %s", strerror(errno));
        return ES_OK;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = xreallocarray(names, cap, sizeof *names);
        }
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n == 0)
        msg(fi, FILE_MSG_NOTE, path, "folder holds no files");
    else
        qsort(names, n, sizeof *names, cmp_names);
    while (plen > 1 && path[plen - 1] == '/')
        plen--;
    for (i = 0; i < n; i++) {
        if (rc == ES_OK && !(fi->sink && sink_stopping(fi->sink))) {
            child = xasprintf("%.*s/%s", (int)plen, path, names[i]);
            rc = ingest_path(fi, child, depth + 1, 1, &here);
            free(child);
        }
        free(names[i]);
    }
    free(names);
    if (rc == ES_OK && fi->sink && sink_stopping(fi->sink))
        rc = ES_EINTERRUPTED;
    return rc;
}

static int ingest_path(struct file_ingest *fi, const char *path, int depth, int in_dir,
                       const struct dir_frame *up)
{
    struct stat sb;
    char *abs;
    int fd, rc;

    if (stat(path, &sb) != 0) {
        msg(fi, FILE_MSG_ERROR, path, "cannot open: %s", strerror(errno));
        return ES_OK;
    }
    if (S_ISDIR(sb.st_mode))
        return ingest_dir(fi, path, depth, &sb, up);
    if (in_dir && !S_ISREG(sb.st_mode))
        return ES_OK; /* sockets, FIFOs, devices met in a folder */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        msg(fi, FILE_MSG_ERROR, path, "cannot open: %s", strerror(errno));
        return ES_OK;
    }
    abs = realpath(path, NULL);
    if (abs == NULL)
        abs = xstrdup(path);
    rc = ingest_fd(fi, fd, path, path, abs, in_dir);
    free(abs);
    close(fd);
    return rc;
}

int file_ingest_path(struct file_ingest *fi, const char *path)
{
    if (strcmp(path, "-") == 0)
        return ingest_fd(fi, STDIN_FILENO, NULL, "stdin", "stdin", 0);
    return ingest_path(fi, path, 0, 0, NULL);
}

static uint64_t total_bytes(const char *path, int depth)
{
    struct stat sb;
    DIR *d;
    struct dirent *de;
    char *child;
    uint64_t sum = 0;

    /* Links to folders are not followed here (loops): the total is only for progress. */
    if ((depth == 0 ? stat(path, &sb) : lstat(path, &sb)) != 0)
        return 0;
    if (S_ISLNK(sb.st_mode) && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return 0;
    if (S_ISREG(sb.st_mode))
        return (uint64_t)sb.st_size;
    if (!S_ISDIR(sb.st_mode) || depth >= DIR_DEPTH_MAX || (d = opendir(path)) == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        child = xasprintf("%s/%s", path, de->d_name);
        sum += total_bytes(child, depth + 1);
        free(child);
    }
    closedir(d);
    return sum;
}

uint64_t file_total_bytes(const char *path)
{
    if (strcmp(path, "-") == 0)
        return 0;
    return total_bytes(path, 0);
}
