/* Allocation wrappers: out of memory ends the program with a message. */
#include "xmalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "eventscope: out of memory (allocating %zu bytes)\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL)
        oom(nmemb * size);
    return p;
}

void *xcalloc_line(size_t nmemb, size_t size)
{
    size_t n;
    void *p;

    if (size != 0 && nmemb > (SIZE_MAX - XMALLOC_LINE) / size)
        oom(SIZE_MAX);
    n = (nmemb * size + XMALLOC_LINE - 1) / XMALLOC_LINE * XMALLOC_LINE;
    p = aligned_alloc(XMALLOC_LINE, n ? n : XMALLOC_LINE);
    if (p == NULL)
        oom(n);
    memset(p, 0, n ? n : XMALLOC_LINE);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom(n);
    return q;
}

void *xreallocarray(void *p, size_t nmemb, size_t size)
{
    if (size != 0 && nmemb > SIZE_MAX / size)
        oom(SIZE_MAX);
    return xrealloc(p, nmemb * size);
}

/* A copy of n bytes known to hold no NUL, NUL-terminated. */
static char *copy_bytes(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *xstrdup(const char *s)
{
    return s ? copy_bytes(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
    return copy_bytes(s, strnlen(s, n));
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap, aq;
    int n;
    char *s;

    /* One va_start; the measuring pass walks a copy (va_copy), the writing pass the original. */
    va_start(ap, fmt);
    va_copy(aq, ap);
    n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0) {
        va_end(ap);
        oom(0);
    }
    s = xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}
