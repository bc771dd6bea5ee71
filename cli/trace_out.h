/*
 * Output helpers shared by the read-side commands (trace, processes, query): times, JSON
 * strings from untrusted text, terminal width and column padding. Nothing here queries.
 */
#ifndef ES_TRACE_OUT_H
#define ES_TRACE_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

enum trace_out_time_style {
    TRACE_OUT_RFC3339, /* 2026-03-16T09:24:33.325000Z */
    TRACE_OUT_CLOCK,   /* 09:24:33.325 */
    TRACE_OUT_DATE,    /* 2026-03-16 09:24:33.325 */
};

/* Formats UTC µs in style into buf; "-" when us is ES_TIME_NONE. */
void trace_out_time(int64_t us, enum trace_out_time_style style, char *buf, size_t len);

/*
 * A new JSON string holding s (NULL gives JSON null). Invalid UTF-8 and NUL cannot reach
 * jansson: s is then escaped as cli_escape() does. Never returns NULL.
 */
json_t *trace_out_jstr(const char *s);

/* Columns of the terminal on f, or fallback when f is not a terminal. */
int trace_out_cols(FILE *f, int fallback);

/* Display columns of UTF-8 text s (one per code point; s is already escaped). */
size_t trace_out_width(const char *s);

/*
 * Writes s (escaped with cli_escape) into exactly width columns: padded with spaces on the
 * right (or on the left with right_align), cut with "…" when too long. width <= 0 writes
 * the whole escaped text.
 */
void trace_out_cell(FILE *f, const char *s, int width, int right_align);

/* Prints a JSON document to stdout: indented on a terminal, compact otherwise, then \n. */
int trace_out_json(json_t *doc);

#endif
