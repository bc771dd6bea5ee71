/*
 * HTTP/1.x (RFC 9112): requests and responses on keep-alive connections, pipelined;
 * bodies by Content-Length or chunked transfer coding; responses paired with their
 * request in order (so a response's channel is its request's path). Carries CloudEvents
 * in binary mode (ce- headers), structured and batched mode (the envelope normaliser
 * tells them apart by Content-Type) and plain JSON bodies.
 *
 *   request-line = method SP request-target SP HTTP-version CRLF
 *   status-line  = HTTP-version SP status-code SP [ reason-phrase ] CRLF
 *   *( field-line CRLF ) CRLF [ message-body ]
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF ... last-chunk trailer CRLF
 */
#include "collector/pcap/dec_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/pcap/codec.h"
#include "core/cursor.h"
#include "core/xmalloc.h"

#define HTTP_MAX_HEAD (64u << 10)  /* start line + fields */
#define HTTP_MAX_BODY (256u << 20)
#define HTTP_MAX_INFLATE (64u << 20) /* a body after Content-Encoding */
#define HTTP_MAX_CODINGS 4
#define HTTP_PENDING 64            /* requests awaiting their response */
#define HTTP_PATH_MAX 512

static const uint16_t http_ports[] = {80, 8080, 8000, 8008, 8081, 8088, 3000, 5000, 0};

static const char *const methods[] = {"GET",     "POST",  "PUT",     "DELETE", "HEAD",
                                      "OPTIONS", "PATCH", "CONNECT", "TRACE"};

struct http_req {
    char path[HTTP_PATH_MAX];
    int head; /* HEAD: the response has no body */
};

struct http_conn {
    struct http_req q[HTTP_PENDING]; /* ring of requests awaiting a response */
    unsigned qhead, qlen;
    int upgraded;                    /* 101 / CONNECT: no longer HTTP */
};

static void *http_new(void)
{
    return xcalloc(1, sizeof(struct http_conn));
}

static void http_free(void *st)
{
    free(st);
}

/* Length of the method token at p followed by SP, 0 if none; -1 if p may still become one. */
static int method_len(const uint8_t *p, size_t len)
{
    size_t i, n;

    for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        n = strlen(methods[i]);
        if (len < n + 1) {
            if (memcmp(p, methods[i], len) == 0)
                return -1;
            continue;
        }
        if (memcmp(p, methods[i], n) == 0 && p[n] == ' ')
            return (int)n;
    }
    return 0;
}

static int is_status(const uint8_t *p, size_t len)
{
    static const char v[] = "HTTP/1.";

    if (len < sizeof v - 1)
        return memcmp(p, v, len) == 0 ? -1 : 0;
    return memcmp(p, v, sizeof v - 1) == 0;
}

static int http_probe(const uint8_t *p, size_t len, int dir)
{
    if (len == 0)
        return -1;
    if (dir == DEC_TO_SERVER) {
        int n = method_len(p, len);
        return n > 0 ? 1 : n;
    }
    return is_status(p, len);
}

static size_t http_sync(const uint8_t *p, size_t len, int dir)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (i > 0 && !(i >= 2 && p[i - 2] == '\r' && p[i - 1] == '\n'))
            continue;
        if (http_probe(p + i, len - i, dir) != 0)
            return i;
    }
    return len;
}

/* The first CRLF in p, NULL if none (memchr for CR: faster than memmem for two bytes). */
static const uint8_t *find_crlf(const uint8_t *p, size_t len)
{
    const uint8_t *q = p, *end = p + len;

    while (end - q >= 2 && (q = memchr(q, '\r', (size_t)(end - q) - 1)) != NULL) {
        if (q[1] == '\n')
            return q;
        q++;
    }
    return NULL;
}

/*
 * The line ends of a head, found once: each CRLF's offset in order, as find_crlf would find
 * them line after line; past the first HEAD_LINES, find_crlf looks again.
 */
#define HEAD_LINES 64
struct head_lines {
    uint32_t eol[HEAD_LINES];
    size_t n, next;
};

/* Finds CRLF CRLF; returns the head length including it, 0 if absent. */
static size_t head_end(const uint8_t *p, size_t len, struct head_lines *hl)
{
    const uint8_t *q = p, *end = p + len;

    hl->n = hl->next = 0;
    while (q < end && (q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
        if (q - p >= 1 && q[-1] == '\r' && hl->n < HEAD_LINES)
            hl->eol[hl->n++] = (uint32_t)(q - 1 - p);
        if (q - p >= 3 && q[-1] == '\r' && q[-2] == '\n' && q[-3] == '\r')
            return (size_t)(q - p) + 1;
        q++;
    }
    return 0;
}

/* The CRLF ending the line at c (of the head at p). */
static const uint8_t *head_eol(struct head_lines *hl, const uint8_t *p, const struct cursor *c)
{
    if (hl->next < hl->n)
        return p + hl->eol[hl->next++];
    return find_crlf(c->p, c->left);
}

/*
 * Decodes a chunked body starting at c. Returns DEC_DONE with *out (owned) and c past the
 * trailers, DEC_MORE, or DEC_BAD.
 */
static int dechunk(struct cursor *c, uint8_t **out, size_t *outlen)
{
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;

    for (;;) {
        uint64_t size = 0;
        int digits = 0, v;
        const uint8_t *line;
        size_t llen;
        const uint8_t *eol = find_crlf(c->p, c->left);

        if (eol == NULL) {
            free(buf);
            return c->left > 1024 ? DEC_BAD : DEC_MORE;
        }
        llen = (size_t)(eol - c->p);
        line = cur_bytes(c, llen + 2);
        while (digits < (int)llen && (v = cur_hexval(line[digits])) >= 0 && digits < 16) {
            size = size << 4 | (uint64_t)v;
            digits++;
        }
        if (digits == 0 || size > HTTP_MAX_BODY || n + size > HTTP_MAX_BODY) {
            free(buf);
            return DEC_BAD;
        }
        if (size == 0) {
            /* trailer section up to an empty line */
            for (;;) {
                eol = find_crlf(c->p, c->left);
                if (eol == NULL) {
                    free(buf);
                    return DEC_MORE;
                }
                llen = (size_t)(eol - c->p);
                cur_skip(c, llen + 2);
                if (llen == 0)
                    break;
            }
            *out = buf;
            *outlen = n;
            return DEC_DONE;
        }
        if (c->left < size + 2) {
            free(buf);
            return DEC_MORE;
        }
        if (n + size > cap) {
            cap = (n + size) * 2;
            buf = xrealloc(buf, cap);
        }
        cur_copy(c, buf + n, size);
        n += size;
        line = cur_bytes(c, 2);
        if (line == NULL || line[0] != '\r' || line[1] != '\n') {
            free(buf);
            return DEC_BAD;
        }
    }
}

static int has_prefix_ci(const uint8_t *p, size_t len, const char *pre)
{
    size_t n = strlen(pre);

    return len >= n && decoders_token_eq(p, n, pre);
}

static int contains_ci(const uint8_t *p, size_t len, const char *word)
{
    size_t n = strlen(word), i;

    for (i = 0; i + n <= len; i++)
        if (ascii_lower(p[i]) == (unsigned char)word[0] && decoders_token_eq(p + i, n, word))
            return 1;
    return 0;
}

/*
 * Undoes the Content-Encoding codings (a list applied in order, so undone last first) of
 * *body into *owned, which replaces any earlier owned body. Returns NULL, or the reason of
 * the reject with *why_detail set.
 */
static const char *content_decode(const uint8_t *cenc, size_t cenc_len, const uint8_t **body,
                                  size_t *body_len, uint8_t **owned, const char **why_detail)
{
    const uint8_t *tok[HTTP_MAX_CODINGS];
    size_t toklen[HTTP_MAX_CODINGS], ntok = 0, i = 0;

    while (i < cenc_len) {
        size_t j;
        while (i < cenc_len && (cenc[i] == ',' || cenc[i] == ' ' || cenc[i] == '\t'))
            i++;
        for (j = i; j < cenc_len && cenc[j] != ',' && cenc[j] != ' ' && cenc[j] != '\t'; j++)
            ;
        if (j > i && !(j - i == 8 && decoders_token_eq(cenc + i, 8, "identity"))) {
            if (ntok == HTTP_MAX_CODINGS) {
                *why_detail = "more than 4 content codings";
                return "http_content_encoding_unsupported";
            }
            tok[ntok] = cenc + i, toklen[ntok++] = j - i;
        }
        i = j;
    }
    while (ntok-- > 0) {
        enum codec c;
        uint8_t *out;
        size_t outlen;
        int rc;
        if ((toklen[ntok] == 4 && decoders_token_eq(tok[ntok], 4, "gzip")) ||
            (toklen[ntok] == 6 && decoders_token_eq(tok[ntok], 6, "x-gzip")))
            c = CODEC_GZIP;
        else if (toklen[ntok] == 7 && decoders_token_eq(tok[ntok], 7, "deflate"))
            c = CODEC_DEFLATE;
        else if (toklen[ntok] == 4 && decoders_token_eq(tok[ntok], 4, "zstd"))
            c = CODEC_ZSTD;
        else {
            *why_detail = "content coding other than gzip, deflate or zstd (br, compress)";
            return "http_content_encoding_unsupported";
        }
        rc = codec_decompress(c, *body, *body_len, HTTP_MAX_INFLATE, &out, &outlen);
        if (rc != ES_OK) {
            *why_detail = rc == ES_ETOOBIG       ? "body inflates past 64 MiB"
                          : rc == ES_EUNSUPPORTED ? "zstd body; this build lacks libzstd"
                                                  : "body does not decompress as its "
                                                    "Content-Encoding says";
            return rc == ES_ETOOBIG       ? "http_body_too_large"
                   : rc == ES_EUNSUPPORTED ? "http_content_encoding_unsupported"
                                           : "http_bad_content_encoding";
        }
        free(*owned);
        *owned = out;
        *body = out;
        *body_len = outlen;
    }
    return NULL;
}

static int http_parse(struct dec_msg *m, const uint8_t *p, size_t len, size_t *used)
{
    struct http_conn *hc = m->state;
    struct envelope_header h[DECODERS_HEADERS_LIMIT];
    size_t nh = 0, nfields = 0, hlen, i, body_len = 0, pathlen = 0;
    const uint8_t *body = NULL, *line, *eol, *path = NULL;
    uint8_t *owned_body = NULL; /* dechunked or decoded body */
    struct cursor c;
    int64_t clen = -1;
    int chunked = 0, status = 0, is_req = m->dir == DEC_TO_SERVER, json_ct = 0, st;
    int no_body = 0, head_req = 0, method_n = 0, any_ce = 0;
    enum { H_OTHER, H_CLEN, H_TE, H_TP, H_CT, H_TS, H_CE, H_CENC } kind;
    const char *traceparent = NULL;
    const uint8_t *cenc = NULL;
    size_t traceparent_len = 0, cenc_len = 0;
    struct dec_attrs attrs;
    struct dec_out o;
    struct head_lines hl;

    if (hc->upgraded) {
        *used = len; /* another protocol now: not ours to read */
        return DEC_DONE;
    }
    hlen = head_end(p, len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD, &hl);
    if (hlen == 0) {
        if (len >= HTTP_MAX_HEAD) {
            m->why = "http_header_too_large";
            return DEC_BAD;
        }
        if (http_probe(p, len, m->dir) == 0) {
            m->why = "http_bad_start_line";
            return DEC_BAD;
        }
        return DEC_MORE;
    }
    cur_init(&c, p, hlen);
    /* Start line. */
    eol = head_eol(&hl, p, &c);
    line = cur_bytes(&c, (size_t)(eol - c.p) + 2);
    if (is_req) {
        const uint8_t *sp1, *sp2;
        size_t ll = (size_t)(eol - line);
        method_n = method_len(line, ll);
        sp1 = method_n > 0 ? line + method_n : NULL;
        sp2 = sp1 ? memchr(sp1 + 1, ' ', ll - (size_t)method_n - 1) : NULL;
        if (sp2 == NULL || !is_status(sp2 + 1, ll - (size_t)(sp2 + 1 - line)) ||
            (size_t)(eol - sp2 - 1) < 8) {
            m->why = "http_bad_request_line";
            return DEC_BAD;
        }
        path = sp1 + 1;
        pathlen = (size_t)(sp2 - path);
        for (i = 0; i < pathlen; i++)
            if (path[i] == '?' || path[i] == '#')
                break;
        pathlen = i;
        /* absolute-form: keep only the path */
        if (pathlen > 7 && (has_prefix_ci(path, pathlen, "http://") ||
                            has_prefix_ci(path, pathlen, "https://"))) {
            const uint8_t *slash = memchr(path + 8, '/', pathlen - 8);
            if (slash) {
                pathlen -= (size_t)(slash - path);
                path = slash;
            }
        }
        head_req = method_n == 4 && memcmp(line, "HEAD", 4) == 0;
    } else {
        size_t ll = (size_t)(eol - line);
        if (ll < 12 || is_status(line, ll) != 1 || line[8] != ' ' || line[9] < '1' ||
            line[9] > '5' || line[10] < '0' || line[10] > '9' || line[11] < '0' ||
            line[11] > '9') {
            m->why = "http_bad_status_line";
            return DEC_BAD;
        }
        status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    }
    /* Field lines. */
    while (c.left > 2) {
        const uint8_t *colon, *v;
        size_t ll, nlen, vlen;
        eol = head_eol(&hl, p, &c);
        ll = (size_t)(eol - c.p);
        line = cur_bytes(&c, ll + 2);
        colon = memchr(line, ':', ll);
        if (colon == NULL || colon == line) {
            m->why = "http_bad_header_line";
            return DEC_BAD;
        }
        nlen = (size_t)(colon - line);
        v = colon + 1;
        vlen = ll - nlen - 1;
        while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        /* One comparison per line: by length, then the name. */
        kind = H_OTHER;
        switch (nlen) {
        case 14: kind = decoders_token_eq(line, nlen, "content-length") ? H_CLEN : H_OTHER; break;
        case 17: kind = decoders_token_eq(line, nlen, "transfer-encoding") ? H_TE : H_OTHER; break;
        case 11: kind = decoders_token_eq(line, nlen, "traceparent") ? H_TP : H_OTHER; break;
        case 12: kind = decoders_token_eq(line, nlen, "content-type") ? H_CT : H_OTHER; break;
        case 10: kind = decoders_token_eq(line, nlen, "tracestate") ? H_TS : H_OTHER; break;
        case 16: kind = decoders_token_eq(line, nlen, "content-encoding") ? H_CENC : H_OTHER; break;
        default: break;
        }
        if (kind == H_OTHER && has_prefix_ci(line, nlen, "ce-"))
            kind = H_CE;
        if (kind == H_CLEN) {
            int64_t n = 0;
            if (vlen == 0 || vlen > 12) {
                m->why = "http_bad_content_length";
                return DEC_BAD;
            }
            for (i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9') {
                    m->why = "http_bad_content_length";
                    return DEC_BAD;
                }
                n = n * 10 + (v[i] - '0');
            }
            if (clen >= 0 && clen != n) {
                m->why = "http_conflicting_content_length";
                return DEC_BAD;
            }
            clen = n;
        } else if (kind == H_TE) {
            chunked = contains_ci(v, vlen, "chunked");
        } else if (kind == H_TP) {
            traceparent = (const char *)v;
            traceparent_len = vlen;
        } else if (kind == H_CENC) {
            cenc = v;
            cenc_len = vlen;
        }
        if (kind == H_CT)
            json_ct = contains_ci(v, vlen, "json");
        if (kind == H_CE || kind == H_CT || kind == H_TP || kind == H_TS)
            nfields++;
        if (nh < decoders_max_headers &&
            (kind == H_CE || kind == H_CT || kind == H_TP || kind == H_TS)) {
            any_ce |= kind == H_CE;
            h[nh].name = (const char *)line;
            h[nh].name_len = nlen;
            h[nh].value = (const char *)v;
            h[nh].value_len = vlen;
            nh++;
        }
    }
    /* Which request this response answers. */
    if (!is_req) {
        if (hc->qlen > 0) {
            struct http_req *rq = &hc->q[hc->qhead];
            path = (const uint8_t *)rq->path; /* the slot is not reused before the emit */
            pathlen = strlen(rq->path);
            head_req = rq->head;
        }
        no_body = head_req || status < 200 || status == 204 || status == 304;
    }
    /* Body. */
    cur_init(&c, p + hlen, len - hlen);
    if (no_body) {
        body_len = 0;
    } else if (chunked) {
        st = dechunk(&c, &owned_body, &body_len);
        if (st == DEC_BAD) {
            m->why = "http_bad_chunk";
            return DEC_BAD;
        }
        if (st == DEC_MORE)
            return DEC_MORE;
        body = owned_body;
    } else if (clen >= 0) {
        if (clen > HTTP_MAX_BODY) {
            m->why = "http_body_too_large";
            return DEC_BAD;
        }
        if (c.left < (uint64_t)clen)
            return DEC_MORE;
        body = cur_bytes(&c, (size_t)clen);
        body_len = (size_t)clen;
    } else if (!is_req) {
        /* body delimited by the end of the connection */
        if (!m->eof)
            return DEC_MORE;
        body = c.p;
        body_len = c.left;
        cur_skip(&c, c.left);
    }
    *used = len - c.left;
    /* The message is complete: only now change the connection's state. */
    if (!is_req && hc->qlen > 0 && (status >= 200 || status == 101)) {
        hc->qhead = (hc->qhead + 1) % HTTP_PENDING;
        hc->qlen--;
    }
    if (!is_req && status == 101)
        hc->upgraded = 1;
    if (is_req) {
        struct http_req *rq;
        if (method_n == 7 && memcmp(p, "CONNECT", 7) == 0)
            hc->upgraded = 1;
        if (hc->qlen == HTTP_PENDING) {
            hc->qhead = (hc->qhead + 1) % HTTP_PENDING;
            hc->qlen--;
        }
        rq = &hc->q[(hc->qhead + hc->qlen) % HTTP_PENDING];
        {
            /* as snprintf "%.*s" did: up to a NUL, cut to the buffer */
            const uint8_t *nul = memchr(path, 0, pathlen);
            size_t n = nul ? (size_t)(nul - path) : pathlen;
            if (n >= sizeof rq->path)
                n = sizeof rq->path - 1;
            memcpy(rq->path, path, n);
            rq->path[n] = '\0';
        }
        rq->head = head_req;
        hc->qlen++;
    }
    if (cenc != NULL && body_len > 0) {
        const char *detail = NULL;
        const char *why = content_decode(cenc, cenc_len, &body, &body_len, &owned_body, &detail);
        if (why != NULL) {
            if (any_ce || json_ct) /* an event we cannot read: say so */
                decoders_reject(m, *used, why, detail, cenc, cenc_len);
            free(owned_body);
            return DEC_DONE;
        }
    }
    /* Only messages that carry something event-shaped become events. */
    {
        int ce = any_ce, looks_json = 0;
        for (i = 0; i < body_len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' ||
                                      body[i] == '\t');
             i++)
            ;
        if (i < body_len && (body[i] == '{' || body[i] == '['))
            looks_json = 1;
        if (!ce && !(body_len > 0 && (json_ct || looks_json))) {
            free(owned_body);
            return DEC_DONE;
        }
    }
    if (nfields > decoders_max_headers) {
        decoders_reject_headers(m, *used, "http_too_many_headers", nfields);
        free(owned_body);
        return DEC_DONE;
    }
    attrs.n = 0;
    if (is_req)
        dec_attr_str(&attrs, "http_method", p, (size_t)method_n);
    else
        dec_attr_int(&attrs, "http_status", status);
    if (traceparent)
        dec_attr_str(&attrs, "traceparent", traceparent, traceparent_len);
    if (cenc)
        dec_attr_str(&attrs, "content_encoding", cenc, cenc_len);
    memset(&o, 0, sizeof o);
    o.binding = ENV_BIND_HTTP;
    o.direction = is_req ? "publish" : "deliver";
    o.channel = path && pathlen ? (const char *)path : NULL;
    o.channel_len = pathlen;
    o.attrs = &attrs;
    o.h = h;
    o.nh = nh;
    o.body = body;
    o.body_len = body_len;
    o.msg_len = *used;
    decoders_emit(m, &o);
    free(owned_body);
    return DEC_DONE;
}

const struct decoder dec_http = {
    .name = "http",
    .transport = "http",
    .ports = http_ports,
    .probe = http_probe,
    .conn_new = http_new,
    .conn_free = http_free,
    .parse = http_parse,
    .sync = http_sync,
};
