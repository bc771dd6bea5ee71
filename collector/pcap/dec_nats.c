/*
 * NATS client protocol (docs.nats.io "Client Protocol"): text control lines ending in
 * CRLF, some followed by a payload of a stated length and CRLF.
 *
 *   PUB  <subject> [reply-to] <#bytes>\r\n<payload>\r\n                  client -> server
 *   HPUB <subject> [reply-to] <#header bytes> <#total bytes>\r\n<headers><payload>\r\n
 *   MSG  <subject> <sid> [reply-to] <#bytes>\r\n<payload>\r\n             server -> client
 *   HMSG <subject> <sid> [reply-to] <#header bytes> <#total bytes>\r\n...
 *   headers: "NATS/1.0[ status[ description]]\r\n" *("Name: value\r\n") "\r\n"
 * Other operations (INFO, CONNECT, SUB, UNSUB, PING, PONG, +OK, -ERR) are skipped.
 */
#include "collector/pcap/dec_nats.h"

#include <string.h>

#include "core/cursor.h"

#define NATS_MAX_LINE (64u << 10)
#define NATS_MAX_PAYLOAD (64u << 20)
#define NATS_MAX_ARGS 6
#define NATS_MAX_HEADERS 128

static const uint16_t nats_ports[] = {4222, 0};

static const char *const ops[] = {"PUB",  "HPUB", "MSG",  "HMSG", "INFO", "CONNECT",
                                  "SUB",  "UNSUB", "PING", "PONG", "+OK",  "-ERR"};
#define NOPS (sizeof ops / sizeof ops[0])

/* Index of the operation at p (followed by SP, TAB or CR), -1 if none, -2 if undecided. */
static int op_at(const uint8_t *p, size_t len)
{
    size_t i, j, n;
    int undecided = 0;

    for (i = 0; i < NOPS; i++) {
        n = strlen(ops[i]);
        for (j = 0; j < n && j < len; j++)
            if ((p[j] & 0xdf) != (ops[i][j] & 0xdf) && !(ops[i][j] == '+' && p[j] == '+') &&
                !(ops[i][j] == '-' && p[j] == '-'))
                break;
        if (j < n && j < len)
            continue;
        if (len <= n) {
            undecided = 1;
            continue;
        }
        if (p[n] == ' ' || p[n] == '\t' || p[n] == '\r')
            return (int)i;
    }
    return undecided ? -2 : -1;
}

static int nats_probe(const uint8_t *p, size_t len, int dir)
{
    int op = op_at(p, len);

    (void)dir;
    if (op == -2)
        return -1;
    /* INFO from the server and CONNECT from the client open every connection. */
    if (op == 4 || op == 5)
        return len >= 6 ? memchr(p, '{', len < 16 ? len : 16) != NULL : -1;
    return 0;
}

static size_t nats_sync(const uint8_t *p, size_t len, int dir)
{
    size_t i;

    (void)dir;
    for (i = 0; i < len; i++)
        if ((i == 0 || p[i - 1] == '\n') && op_at(p + i, len - i) != -1)
            return i;
    return len;
}

/* Parses a decimal count; returns -1 when not one. */
static int64_t number(const uint8_t *p, size_t len)
{
    int64_t v = 0;
    size_t i;

    if (len == 0 || len > 10)
        return -1;
    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static int nats_parse(struct dec_msg *m, const uint8_t *p, size_t len, size_t *used)
{
    const uint8_t *eol, *arg[NATS_MAX_ARGS];
    size_t alen[NATS_MAX_ARGS], llen, i, nargs = 0, hdr_len = 0, total, need;
    struct envelope_header h[NATS_MAX_HEADERS];
    size_t nh = 0;
    int op, pub, with_headers;
    int64_t n1, n2;
    const uint8_t *subject, *reply = NULL, *payload, *sid = NULL;
    size_t subject_len, reply_len = 0, sid_len = 0;
    struct cursor hc;
    struct dec_out o;
    struct dec_attrs attrs;

    eol = memmem(p, len < NATS_MAX_LINE ? len : NATS_MAX_LINE, "\r\n", 2);
    if (eol == NULL) {
        if (len >= NATS_MAX_LINE) {
            m->why = "nats_line_too_long";
            return DEC_BAD;
        }
        if (op_at(p, len) == -1) {
            m->why = "nats_unknown_operation";
            return DEC_BAD;
        }
        return DEC_MORE;
    }
    llen = (size_t)(eol - p);
    op = op_at(p, llen + 1);
    if (op < 0) {
        m->why = "nats_unknown_operation";
        return DEC_BAD;
    }
    if (op >= 4) {
        *used = llen + 2;
        return DEC_DONE;
    }
    /* Split the arguments. */
    i = strlen(ops[op]);
    while (i < llen) {
        while (i < llen && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == llen)
            break;
        if (nargs == NATS_MAX_ARGS) {
            m->why = "nats_too_many_arguments";
            return DEC_BAD;
        }
        arg[nargs] = p + i;
        while (i < llen && p[i] != ' ' && p[i] != '\t')
            i++;
        alen[nargs] = (size_t)(p + i - arg[nargs]);
        nargs++;
    }
    pub = op == 0 || op == 1;
    with_headers = op == 1 || op == 3;
    {
        /* PUB s [r] n | HPUB s [r] h n | MSG s sid [r] n | HMSG s sid [r] h n */
        size_t fixed = (pub ? 1 : 2) + (with_headers ? 2 : 1);
        if (nargs != fixed && nargs != fixed + 1) {
            m->why = "nats_bad_arguments";
            return DEC_BAD;
        }
        subject = arg[0];
        subject_len = alen[0];
        if (!pub)
            sid = arg[1], sid_len = alen[1];
        if (nargs == fixed + 1)
            reply = arg[pub ? 1 : 2], reply_len = alen[pub ? 1 : 2];
        n2 = number(arg[nargs - 1], alen[nargs - 1]);
        n1 = with_headers ? number(arg[nargs - 2], alen[nargs - 2]) : 0;
        if (n1 < 0 || n2 < 0 || n1 > n2 || n2 > NATS_MAX_PAYLOAD) {
            m->why = "nats_bad_length";
            return DEC_BAD;
        }
        hdr_len = (size_t)n1;
        total = (size_t)n2;
    }
    need = llen + 2 + total + 2;
    if (len < need)
        return DEC_MORE;
    payload = p + llen + 2;
    if (payload[total] != '\r' || payload[total + 1] != '\n') {
        m->why = "nats_bad_length";
        return DEC_BAD;
    }
    *used = need;
    /* Headers: the version line, then MIME-style fields. */
    if (with_headers) {
        const uint8_t *l;
        cur_init(&hc, payload, hdr_len);
        if (hdr_len < 10 || memcmp(payload, "NATS/1.0", 8) != 0) {
            decoders_reject(m, need, "nats_bad_headers", "HPUB/HMSG headers lack NATS/1.0",
                            payload, hdr_len);
            return DEC_DONE;
        }
        eol = memmem(hc.p, hc.left, "\r\n", 2);
        cur_skip(&hc, eol ? (size_t)(eol - hc.p) + 2 : hc.left);
        while (hc.left > 0 && (eol = memmem(hc.p, hc.left, "\r\n", 2)) != NULL) {
            const uint8_t *colon, *v;
            size_t ll = (size_t)(eol - hc.p), vlen;
            l = cur_bytes(&hc, ll + 2);
            if (ll == 0)
                break;
            colon = memchr(l, ':', ll);
            if (colon == NULL || colon == l) {
                decoders_reject(m, need, "nats_bad_headers", "header line without a name",
                                l, ll);
                return DEC_DONE;
            }
            v = colon + 1;
            vlen = ll - (size_t)(colon - l) - 1;
            while (vlen && (*v == ' ' || *v == '\t'))
                v++, vlen--;
            if (nh < NATS_MAX_HEADERS) {
                h[nh].name = (const char *)l;
                h[nh].name_len = (size_t)(colon - l);
                h[nh].value = (const char *)v;
                h[nh].value_len = vlen;
                nh++;
            }
        }
    }
    attrs.n = 0;
    if (reply)
        dec_attr_str(&attrs, "reply_to", reply, reply_len);
    if (sid)
        dec_attr_str(&attrs, "sid", sid, sid_len);
    memset(&o, 0, sizeof o);
    o.binding = ENV_BIND_NATS;
    o.direction = pub ? "publish" : "deliver";
    o.channel = (const char *)subject;
    o.channel_len = subject_len;
    o.attrs = &attrs;
    o.h = h;
    o.nh = nh;
    o.body = payload + hdr_len;
    o.body_len = total - hdr_len;
    o.msg_len = need;
    decoders_emit(m, &o);
    return DEC_DONE;
}

const struct decoder dec_nats = {
    .name = "nats",
    .transport = "nats",
    .ports = nats_ports,
    .probe = nats_probe,
    .conn_new = NULL,
    .conn_free = NULL,
    .parse = nats_parse,
    .sync = nats_sync,
};
