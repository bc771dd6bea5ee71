/* Allocation that cannot fail: out of memory is fatal (tmux's xmalloc.c). */
#ifndef ES_XMALLOC_H
#define ES_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
/*
 * Like xcalloc, on cache lines of their own: aligned to XMALLOC_LINE bytes, the size rounded
 * up to a multiple of it (for what threads write, so that no other object shares a line
 * with it). Freed with free().
 */
#define XMALLOC_LINE 64
void *xcalloc_line(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);            /* xstrdup(NULL) returns NULL */
char *xstrndup(const char *s, size_t n); /* copies at most n bytes, always NUL-terminated */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
