/*
 * Naming checks. An event states a fact, so its name ends in a past participle
 * (OrderCreated, EmailSent, billing.invoice.issued) or is a noun/adjective (Heartbeat,
 * StockLow). A name that starts with an imperative verb and does not end in a participle
 * is a command published as an event (SendWelcomeEmail). A name that speaks of storage
 * rather than business (RowInserted, CacheInvalidated, TableUpdated) is technical.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "analyzer/check_naming.h"
#include "analyzer/ctx.h"

#define MAX_WORDS 32
#define MAX_WORD 48

struct words {
    char w[MAX_WORDS][MAX_WORD]; /* lower case */
    int n;
};

static int in_list(const char *const *list, const char *w)
{
    for (; *list; list++)
        if (strcmp(*list, w) == 0)
            return 1;
    return 0;
}

/* Verbs that name an action even alone ("Send", "order.create"). */
static const char *const verbs[] = {
    "accept",    "activate",    "add",       "adjust",      "allocate",    "apply",    "approve",
    "archive",   "assign",      "authorise", "authorize",   "begin",       "block",    "bring",
    "build",     "buy",         "calculate", "cancel",      "capture",     "catch",    "close",
    "collect",   "compute",     "confirm",   "create",      "deactivate",  "decline",  "decrement",
    "delete",    "deliver",     "deny",      "disable",     "dispatch",    "do",       "download",
    "edit",      "emit",        "enable",    "enqueue",     "ensure",      "evaluate", "execute",
    "expire",    "fetch",       "find",      "finalise",    "finalize",    "flush",    "fulfil",
    "fulfill",   "generate",    "get",       "give",        "grant",       "handle",   "hold",
    "increment", "initiate",    "insert",    "invalidate",  "invite",      "issue",    "load",
    "lock",      "make",        "mark",      "merge",       "migrate",     "modify",   "move",
    "notify",    "open",        "pay",       "perform",     "persist",     "place",    "prepare",
    "print",     "provision",   "publish",   "purge",       "push",        "put",      "raise",
    "rebuild",   "recalculate", "receive",   "recompute",   "redeem",      "refresh",  "register",
    "reject",    "reload",      "remind",    "remove",      "rename",      "renew",    "reopen",
    "replace",   "reserve",     "reset",     "resolve",     "restart",     "restore",  "resume",
    "retrieve",  "retry",       "revoke",    "run",         "save",        "sell",     "send",
    "set",       "settle",      "ship",      "start",       "stop",        "store",    "submit",
    "subscribe", "suspend",     "sync",      "synchronise", "synchronize", "take",     "terminate",
    "trigger",   "unblock",     "unlock",    "unsubscribe", "update",      "upgrade",  "upload",
    "upsert",    "validate",    "verify",    "withdraw",    "write",       NULL};

/* Words that are verbs or nouns: a command only when followed by an object (ProcessPayment). */
static const char *const ambiguous[] = {
    "alert",   "audit",   "backup",   "bill",    "book",   "call",    "change",   "charge",
    "check",   "control", "cost",     "credit",  "debit",  "deposit", "email",    "estimate",
    "export",  "import",  "index",    "invoice", "link",   "list",    "log",      "match",
    "message", "note",    "offer",    "order",   "post",   "process", "purchase", "query",
    "queue",   "quote",   "rate",     "record",  "refund", "release", "report",   "request",
    "return",  "review",  "schedule", "score",   "search", "share",   "sign",     "tag",
    "test",    "track",   "transfer", "void",    NULL};

/* Last words that make an ambiguous first word a noun (OrderStatus, ReportReady). */
static const char *const heads[] = {
    "available", "count",    "data",  "detail", "details", "due",    "history", "id",   "info",
    "item",      "items",    "line",  "lines",  "metrics", "number", "overdue", "page", "pending",
    "ready",     "snapshot", "state", "status", "summary", "total",  "view",    NULL};

/* Past participles that do not end in -ed. */
static const char *const irregular[] = {
    "arisen",   "awoken",    "beaten",     "become",    "been",       "begun",        "bent",
    "beset",    "bet",       "bid",        "bitten",    "bled",       "blown",        "born",
    "borne",    "bought",    "bound",      "bred",      "broadcast",  "broken",       "brought",
    "built",    "burnt",     "burst",      "cast",      "caught",     "chosen",       "clung",
    "come",     "crept",     "cut",        "dealt",     "done",       "drawn",        "dreamt",
    "driven",   "drunk",     "dug",        "eaten",     "fallen",     "fed",          "felt",
    "fled",     "flown",     "flung",      "forbidden", "forecast",   "forgiven",     "forgotten",
    "fought",   "found",     "frozen",     "given",     "gone",       "got",          "gotten",
    "ground",   "grown",     "held",       "hidden",    "hit",        "hung",         "hurt",
    "kept",     "knelt",     "known",      "laid",      "lain",       "learnt",       "led",
    "left",     "lent",      "let",        "lit",       "lost",       "made",         "meant",
    "met",      "misled",    "mistaken",   "overcome",  "overdrawn",  "overpaid",     "overridden",
    "oversold", "overtaken", "overthrown", "paid",      "prepaid",    "proven",       "put",
    "quit",     "rebuilt",   "redone",     "remade",    "repaid",     "reread",       "reset",
    "resold",   "retold",    "rewritten",  "rid",       "ridden",     "risen",        "run",
    "rung",     "said",      "sat",        "seen",      "sent",       "set",          "sewn",
    "shaken",   "shed",      "shorn",      "shot",      "shown",      "shrunk",       "shut",
    "slain",    "slept",     "slid",       "slung",     "sold",       "sought",       "spat",
    "sped",     "spent",     "spilt",      "split",     "spoken",     "spread",       "sprung",
    "spun",     "stolen",    "stood",      "struck",    "stuck",      "stung",        "sung",
    "sunk",     "sworn",     "swept",      "swollen",   "swung",      "taken",        "taught",
    "thought",  "thrown",    "told",       "torn",      "undertaken", "underwritten", "understood",
    "undone",   "upheld",    "upset",      "wept",      "withdrawn",  "withheld",     "withstood",
    "woken",    "won",       "worn",       "wound",     "written",    "wrung",        NULL};

/* -eed words that are participles; other -eed words (need, proceed) are not. */
static const char *const eed_participles[] = {"agreed",     "decreed",  "disagreed", "freed",
                                              "guaranteed", "refereed", NULL};
static const char *const ed_not_participles[] = {"bed",   "embed",  "hundred", "kindred",
                                                 "naked", "red",    "sacred",  "shred",
                                                 "sled",  "wicked", NULL};

/* Last words that alone make a name technical. */
static const char *const tech_verbs[] = {"cached",     "deserialized", "deserialised", "evicted",
                                         "flushed",    "inserted",     "invalidated",  "persisted",
                                         "rehydrated", "reindexed",    "serialized",   "serialised",
                                         "truncated",  "upserted",     "vacuumed",     NULL};

/* Storage nouns: technical when the name ends in a generic data verb (TableUpdated). */
static const char *const tech_nouns[] = {
    "blob",     "cache", "cdc",    "column", "crud",  "database", "db",
    "document", "dto",   "entity", "index",  "job",   "outbox",   "record",
    "row",      "rows",  "schema", "sql",    "table", "tuple",    NULL};
static const char *const crud_participles[] = {
    "changed",  "cleared", "created", "deleted", "inserted",  "loaded",
    "modified", "purged",  "queued",  "read",    "refreshed", "removed",
    "saved",    "stored",  "synced",  "updated", "written",   NULL};

static int is_participle(const char *w)
{
    size_t n = strlen(w);

    if (in_list(irregular, w))
        return 1;
    if (n > 3 && strcmp(w + n - 3, "eed") == 0)
        return in_list(eed_participles, w);
    if (n > 3 && strcmp(w + n - 2, "ed") == 0)
        return !in_list(ed_not_participles, w);
    return 0;
}

static int version_token(const char *w)
{
    if (*w == 'v')
        w++;
    if (!isdigit((unsigned char)*w))
        return 0;
    while (isdigit((unsigned char)*w))
        w++;
    return *w == '\0';
}

/* Splits s[0..len) into lower-case words at case changes and non-alphanumerics. */
static void split_words(const char *s, size_t len, struct words *out)
{
    size_t i = 0;

    while (i < len && out->n < MAX_WORDS) {
        size_t start, k = 0;
        while (i < len && !isalnum((unsigned char)s[i]))
            i++;
        if (i >= len)
            break;
        start = i;
        i++;
        while (i < len && isalnum((unsigned char)s[i])) {
            unsigned char c = (unsigned char)s[i], prev = (unsigned char)s[i - 1];
            if (isupper(c) && (islower(prev) || isdigit(prev)))
                break; /* orderCreated, Order2Created */
            if (isupper(c) && isupper(prev) && i + 1 < len && islower((unsigned char)s[i + 1]))
                break; /* HTTPRequest: the R starts a word */
            i++;
        }
        for (; start < i && k + 1 < MAX_WORD; start++)
            out->w[out->n][k++] = (char)tolower((unsigned char)s[start]);
        out->w[out->n][k] = '\0';
        if (!version_token(out->w[out->n]))
            out->n++;
    }
}

static int is_verb(const struct analyzer_config *cfg, const char *w, int with_ambiguous)
{
    if (in_list(verbs, w))
        return 1;
    if (cfg && analyzer_config_has_word(&cfg->command_verbs, w, strlen(w)))
        return 1;
    return with_ambiguous && in_list(ambiguous, w);
}

enum naming_verdict check_naming_classify(const struct analyzer_config *cfg, const char *type,
                                          char *why, size_t whylen)
{
    struct words all = {.n = 0}, last = {.n = 0};
    const char *seg = NULL, *p;
    size_t seglen = 0, nseg = 0, len;
    int i, lower_seg = 1;
    const char *w0, *wl;

    if (why && whylen)
        why[0] = '\0';
    if (type == NULL)
        return NAMING_OK;
    if (cfg && analyzer_config_has_type(&cfg->event_words, type))
        return NAMING_OK;
    len = strlen(type);
    /* The last segment of dot/slash/colon separated names carries the verb. */
    for (p = type; p < type + len;) {
        const char *q = p;
        while (q < type + len && *q != '.' && *q != '/' && *q != ':' && *q != '#')
            q++;
        if (q > p) {
            seg = p;
            seglen = (size_t)(q - p);
            nseg++;
        }
        p = q + 1;
    }
    if (seg == NULL)
        return NAMING_OK;
    split_words(type, len, &all);
    split_words(seg, seglen, &last);
    if (last.n == 0)
        return NAMING_OK;
    for (i = 0; i < (int)seglen; i++)
        if (isupper((unsigned char)seg[i]))
            lower_seg = 0;
    w0 = last.w[0];
    wl = last.w[last.n - 1];

    /* Technical: a storage verb, or a storage noun with a generic data verb. */
    if (in_list(tech_verbs, wl)) {
        if (why)
            snprintf(why, whylen, "%s", wl);
        return NAMING_TECHNICAL;
    }
    for (i = 0; i < all.n; i++) {
        if (in_list(tech_nouns, all.w[i]) && in_list(crud_participles, wl)) {
            if (why)
                snprintf(why, whylen, "%s", all.w[i]);
            return NAMING_TECHNICAL;
        }
        if (cfg && analyzer_config_has_word(&cfg->technical_words, all.w[i], strlen(all.w[i]))) {
            if (why)
                snprintf(why, whylen, "%s", all.w[i]);
            return NAMING_TECHNICAL;
        }
    }

    /* Command-shaped: an imperative verb first, no participle last. */
    if (is_participle(wl))
        return NAMING_OK;
    if (last.n == 1) {
        /* "Send" alone, or the action of resource.action ("order.create"). */
        if (!is_verb(cfg, w0, 0))
            return NAMING_OK;
        if (nseg >= 2 && !lower_seg)
            return NAMING_OK; /* com.example.Refund: a noun in a namespace */
    } else {
        if (!is_verb(cfg, w0, 1))
            return NAMING_OK;
        if (!is_verb(cfg, w0, 0) && in_list(heads, wl))
            return NAMING_OK; /* OrderStatus, ReportReady */
    }
    if (why)
        snprintf(why, whylen, "%s", w0);
    return NAMING_COMMAND;
}

void check_naming_process(struct actx *a, struct proc *p)
{
    size_t i;

    for (i = 0; i < p->nnodes; i++) {
        const struct obs *o = &p->obs[p->nodes[i].first];
        struct type_stat *t;
        char why[64];
        if (o->type_ix == NONE_IX)
            continue;
        t = &a->types[o->type_ix];
        if (t->naming < 0) {
            enum naming_verdict v = check_naming_classify(a->cfg, t->name, why, sizeof why);
            t->naming = (signed char)(v == NAMING_COMMAND     ? FINDING_NAME_COMMAND
                                      : v == NAMING_TECHNICAL ? FINDING_NAME_TECHNICAL
                                                              : 0);
        }
        if (t->naming == FINDING_NAME_COMMAND)
            actx_finding(a, FINDING_NAME_COMMAND, NULL, o->correlation_id, o->seq, 0, NULL,
                         "%s is an imperative (a command), published as an event: name the "
                         "fact that happened instead (past tense)",
                         t->name);
        else if (t->naming == FINDING_NAME_TECHNICAL)
            actx_finding(a, FINDING_NAME_TECHNICAL, NULL, o->correlation_id, o->seq, 0, NULL,
                         "%s describes storage, not business: publish the domain fact behind it",
                         t->name);
    }
}
