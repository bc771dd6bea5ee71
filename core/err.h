/* Error codes shared by every library folder: ES_OK or an ES_E* code. */
#ifndef ES_ERR_H
#define ES_ERR_H

#define ES_WARN_UNUSED __attribute__((warn_unused_result))

#define ES_ERR_MAP(X)                                                                              \
    X(NOMEM, "out of memory")                                                                      \
    X(TRUNC, "input ends before the record does")                                                  \
    X(INVALID, "input breaks its format")                                                          \
    X(TOOBIG, "input exceeds a configured limit")                                                  \
    X(IO, "read or write failed")                                                                  \
    X(NOTFOUND, "no such file or object")                                                          \
    X(USAGE, "invalid arguments")                                                                  \
    X(STORE, "SQLite store error")                                                                 \
    X(FOREIGN, "file is not an eventscope store")                                                  \
    X(UNSUPPORTED, "not supported by this build")                                                  \
    X(INTERRUPTED, "interrupted")

enum es_err {
    ES_OK = 0,
#define X(name, text) ES_E##name,
    ES_ERR_MAP(X)
#undef X
};

/* Never NULL; the text comes from ES_ERR_MAP. */
const char *es_strerror(int rc);

#endif
