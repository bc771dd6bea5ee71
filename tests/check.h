/* Minimal assertions for unit tests: print the expression and both values, count failures. */
#ifndef ES_CHECK_H
#define ES_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(cond)) {                                                                             \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        check_count++;                                                                             \
        if (_a != _b) {                                                                            \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b,  \
                    _a, _b);                                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *_a = (a), *_b = (b);                                                           \
        check_count++;                                                                             \
        if ((_a == NULL) != (_b == NULL) || (_a && strcmp(_a, _b) != 0)) {                         \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a,  \
                    #b, _a ? _a : "(null)", _b ? _b : "(null)");                                   \
        }                                                                                          \
    } while (0)

/* Ends main(): prints a summary and returns the exit status. */
#define CHECK_DONE()                                                                               \
    (printf("%s: %d checks, %d failed\n", __FILE__, check_count, check_failures),                 \
     check_failures ? 1 : 0)

/* The first column of the first row of sql as an integer; -1 without a row, -2 on error. */
static inline int64_t check_sql_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q;
    int64_t v = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return -2;
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

#endif
