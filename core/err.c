/* Text for the error codes of err.h. */
#include "err.h"

const char *es_strerror(int rc)
{
    static const char *const text[] = {
        "ok",
#define X(name, t) t,
        ES_ERR_MAP(X)
#undef X
    };
    if (rc < 0 || (unsigned)rc >= sizeof text / sizeof text[0])
        return "unknown error";
    return text[rc];
}
