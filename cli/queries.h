/* The named SQL files of queries/, embedded at build time (queries/embed.cmake). */
#ifndef ES_QUERIES_H
#define ES_QUERIES_H

struct query_file {
    const char *name; /* file name without .sql */
    const char *sql;  /* the whole file, NUL-terminated */
};

/* Sorted by name, ended by {NULL, NULL}. */
extern const struct query_file query_files[];

#endif
