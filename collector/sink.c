/*
 * The sink: collectors hand over events and rejects; a writer thread stores them, so the
 * collector (parsing JSON, decoding packets) and SQLite run on two cores. Between them is
 * a bounded queue (SINK_QUEUE items), so memory stays flat whatever the input size.
 * Errors of the writer are kept and returned by the next sink call; after an error the
 * writer drops what is queued. Without a thread (pthread_create failed) it stores inline.
 */
#include "collector/sink.h"
#include "collector/redact.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/xmalloc.h"

#define SINK_QUEUE 4096    /* items waiting for the writer: bounds memory */
#define SINK_TAKE 512      /* items the writer moves out of the queue at once */
#define SINK_NAP_MS 10     /* the writer looks at the queue at least this often */
#define SINK_IDLE_MS 200   /* an idle writer commits after this long, so readers see rows */
#define SINK_SLEEP_MS 1000 /* nothing to do for this long: sleep until signalled */
#define SINK_DEAD (2 * SINK_QUEUE) /* stored items waiting to be freed by the producer */
#define SINK_REAP 256      /* the producer frees stored items in runs of at least this */
#define SINK_EXCERPT 256   /* bytes of a rejected record kept in rejects.excerpt */

enum sink_kind { SINK_EVENT, SINK_REJECT };

struct sink_item {
    enum sink_kind kind;
    int64_t origin;
    struct event ev;  /* SINK_EVENT: owned, or its strings all in flat */
    char *flat;       /* SINK_EVENT from sink_event_copy: the one block of ev's strings */
    char *location;   /* SINK_REJECT: owned strings */
    char *reason;
    char *excerpt;
    size_t excerpt_len;
};

struct sink_impl {
    struct sink *sink;
    pthread_t thread;
    int threaded;                 /* the writer thread runs */
    pthread_mutex_t mu;           /* guards everything below */
    pthread_mutex_t store_mu;     /* held by whoever is using the store */
    pthread_cond_t not_empty;     /* writer waits: queue empty */
    pthread_cond_t changed;       /* producers wait: queue full, or drain/flush progress */
    struct sink_item *q;          /* ring of SINK_QUEUE items */
    size_t head, len;             /* first item, items queued */
    struct sink_item *dead;       /* stored items whose strings the producer frees */
    size_t ndead;                 /* items in dead (at most SINK_DEAD) */
    struct sink_item *spare;      /* producer's: the other SINK_DEAD array, swapped in */
    int writer_busy;              /* the writer holds items outside the queue */
    int writer_asleep;            /* the writer waits without a deadline: signal it */
    int quit;                     /* sink_done: the writer exits once the queue is empty */
    uint64_t flush_req, flush_done; /* flush generations asked / completed */
    uint64_t enqueued, finished;  /* items ever queued / stored (or dropped) by the writer */
    uint64_t flush_upto;          /* the pending flush covers items up to this count */
    int err;                      /* first error of the writer (ES_OK: none) */
    uint64_t stored, present;     /* counts from the writer */
    int uncommitted;              /* rows written since the last commit */
};

/* ---- Items ------------------------------------------------------------------------- */

static void item_free(struct sink_item *it)
{
    if (it->kind == SINK_EVENT && it->flat != NULL) {
        free(it->flat);
    } else if (it->kind == SINK_EVENT) {
        event_done(&it->ev);
    } else {
        free(it->location);
        free(it->reason);
        free(it->excerpt);
    }
}

/* Stores one item; called by the writer with store_mu held (or inline). */
static int item_store(struct sink *s, struct sink_item *it, uint64_t *stored, uint64_t *present)
{
    int added = 0, rc;

    if (it->kind == SINK_REJECT)
        return store_add_reject(s->st, it->origin, it->location, it->reason, it->excerpt,
                                it->excerpt_len);
    rc = store_add_event(s->st, it->origin, &it->ev, &added);
    if (rc == ES_OK)
        ++*(added ? stored : present);
    return rc;
}

/* ---- The writer thread ------------------------------------------------------------- */

static void deadline_in(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Commits for the writer (mu held on entry and exit). */
static void writer_commit(struct sink *s, struct sink_impl *w)
{
    int rc;

    pthread_mutex_unlock(&w->mu);
    pthread_mutex_lock(&w->store_mu);
    rc = store_commit(s->st);
    pthread_mutex_unlock(&w->store_mu);
    pthread_mutex_lock(&w->mu);
    if (rc != ES_OK && w->err == ES_OK)
        w->err = rc;
    w->uncommitted = 0;
}

/*
 * Producers do not signal every item: a futex wake per event costs about as much as the
 * insert. The writer naps SINK_NAP_MS at a time and takes what has come; it is signalled
 * for a full run of SINK_TAKE items, a flush, sink_done, or when it sleeps for want of
 * work. Stored items go to w->dead, and the producer frees them: freeing in this thread
 * memory the producer's thread allocated makes the two fight over malloc's arena lock.
 */
static void *writer_main(void *arg)
{
    struct sink_impl *w = arg;
    struct sink *s = w->sink;
    struct sink_item *batch = xmalloc(SINK_TAKE * sizeof *batch);
    struct timespec ts;
    size_t n, i, keep;
    int rc, idle_ms = 0;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        /*
         * A flush is done once what was queued before it is stored and committed; items
         * queued since (other threads go on handing over) do not hold it up.
         */
        if (w->flush_req != w->flush_done && w->finished >= w->flush_upto) {
            uint64_t gen = w->flush_req;
            writer_commit(s, w);
            w->flush_done = gen;
            pthread_cond_broadcast(&w->changed);
            continue;
        }
        if (w->len == 0 && !w->quit && w->flush_req == w->flush_done) {
            if (idle_ms >= SINK_SLEEP_MS && !w->uncommitted) {
                w->writer_asleep = 1;
                pthread_cond_wait(&w->not_empty, &w->mu);
                w->writer_asleep = 0;
                idle_ms = 0;
                continue;
            }
            deadline_in(&ts, SINK_NAP_MS);
            pthread_cond_timedwait(&w->not_empty, &w->mu, &ts);
            if (w->len > 0 || w->quit || w->flush_req != w->flush_done)
                continue;
            idle_ms += SINK_NAP_MS;
            /* Idle: commit, so readers (and a slow tap's tail) see the rows. */
            if (w->uncommitted && idle_ms >= SINK_IDLE_MS)
                writer_commit(s, w);
            continue;
        }
        idle_ms = 0;
        if (w->len == 0)
            break; /* quit, the queue drained (a flush is handled above) */
        /* Move a run of items out, store them without holding the queue lock. */
        n = w->len < SINK_TAKE ? w->len : SINK_TAKE;
        for (i = 0; i < n; i++)
            batch[i] = w->q[(w->head + i) % SINK_QUEUE];
        w->head = (w->head + n) % SINK_QUEUE;
        w->len -= n;
        w->writer_busy = 1;
        pthread_cond_broadcast(&w->changed);
        rc = w->err;
        pthread_mutex_unlock(&w->mu);

        {
            uint64_t stored = 0, present = 0;
            pthread_mutex_lock(&w->store_mu);
            for (i = 0; i < n && rc == ES_OK; i++)
                rc = item_store(s, &batch[i], &stored, &present);
            pthread_mutex_unlock(&w->store_mu);
            pthread_mutex_lock(&w->mu);
            w->stored += stored;
            w->present += present;
            w->uncommitted = 1;
            w->finished += n;
        }
        if (rc != ES_OK && w->err == ES_OK)
            w->err = rc;
        keep = SINK_DEAD - w->ndead < n ? SINK_DEAD - w->ndead : n;
        memcpy(w->dead + w->ndead, batch, keep * sizeof *batch);
        w->ndead += keep;
        w->writer_busy = 0;
        pthread_cond_broadcast(&w->changed);
        if (keep < n) { /* the producer is not collecting (it waits): free here */
            pthread_mutex_unlock(&w->mu);
            for (i = keep; i < n; i++)
                item_free(&batch[i]);
            pthread_mutex_lock(&w->mu);
        }
    }
    pthread_mutex_unlock(&w->mu);
    free(batch);
    return NULL;
}

/*
 * Takes the stored items from w->dead (mu held) into the producer's spare array and
 * returns how many; the caller frees them with free_spare() after unlocking.
 */
static size_t collect_dead(struct sink_impl *w)
{
    struct sink_item *t = w->spare;
    size_t n = w->ndead;

    w->spare = w->dead;
    w->dead = t;
    w->ndead = 0;
    return n;
}

static void free_spare(struct sink_impl *w, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        item_free(&w->spare[i]);
}

/* ---- API --------------------------------------------------------------------------- */

void sink_init(struct sink *s, struct store *st)
{
    memset(s, 0, sizeof *s);
    s->st = st;
}

/* Creates the writer on first use (sink_init cannot fail); inline mode if that fails. */
static struct sink_impl *impl(struct sink *s)
{
    struct sink_impl *w = s->priv;
    sigset_t all, old;

    if (w != NULL)
        return w;
    w = xcalloc(1, sizeof *w);
    w->q = xmalloc(SINK_QUEUE * sizeof *w->q);
    w->dead = xmalloc(SINK_DEAD * sizeof *w->dead);
    w->spare = xmalloc(SINK_DEAD * sizeof *w->spare);
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->store_mu, NULL);
    pthread_cond_init(&w->not_empty, NULL);
    pthread_cond_init(&w->changed, NULL);
    w->sink = s;
    /* Signals (Ctrl-C) stay with the collector's thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    w->threaded = pthread_create(&w->thread, NULL, writer_main, w) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    /* published whole: sink_commit may look from another thread (drain) */
    __atomic_store_n(&s->priv, w, __ATOMIC_RELEASE);
    return w;
}

/* Copies the writer's counts into s->counts; returns its error. Caller holds mu. */
static int sync_counts(struct sink *s, struct sink_impl *w)
{
    s->counts.stored = w->stored;
    s->counts.present = w->present;
    return w->err;
}

/* Enqueues it (consumed), waiting while the queue is full. */
static int enqueue(struct sink *s, struct sink_item *it)
{
    struct sink_impl *w = impl(s);
    size_t ndead = 0;
    int rc;

    if (!w->threaded) {
        pthread_mutex_lock(&w->mu);
        rc = w->err;
        if (rc == ES_OK)
            rc = item_store(s, it, &w->stored, &w->present);
        if (rc != ES_OK && w->err == ES_OK)
            w->err = rc;
        sync_counts(s, w);
        pthread_mutex_unlock(&w->mu);
        item_free(it);
        return rc;
    }
    pthread_mutex_lock(&w->mu);
    while (w->len == SINK_QUEUE && w->err == ES_OK)
        pthread_cond_wait(&w->changed, &w->mu);
    rc = sync_counts(s, w);
    if (rc == ES_OK) {
        w->q[(w->head + w->len) % SINK_QUEUE] = *it;
        w->len++;
        w->enqueued++;
        if (w->writer_asleep || w->len == SINK_TAKE)
            pthread_cond_signal(&w->not_empty);
    }
    if (w->ndead >= SINK_REAP)
        ndead = collect_dead(w);
    pthread_mutex_unlock(&w->mu);
    free_spare(w, ndead);
    if (rc != ES_OK)
        item_free(it);
    return rc;
}

/*
 * Waits until the writer holds nothing; with commit, until what was handed over before the
 * call is committed. With producer, the caller is the producer: counts are synced and the
 * stored items freed; without, it may be another thread (sink_commit).
 */
static int drain(struct sink *s, int commit, int producer)
{
    struct sink_impl *w = __atomic_load_n(&s->priv, __ATOMIC_ACQUIRE);
    uint64_t gen;
    size_t n = 0;
    int rc;

    if (w == NULL) /* nothing handed over; another thread must not touch the store */
        return commit && producer ? store_commit(s->st) : ES_OK;
    if (!w->threaded) {
        /* inline: the producer stores under mu and uses the store under store_mu */
        pthread_mutex_lock(&w->store_mu);
        pthread_mutex_lock(&w->mu);
        rc = w->err;
        if (rc == ES_OK && commit)
            rc = w->err = store_commit(s->st);
        pthread_mutex_unlock(&w->mu);
        pthread_mutex_unlock(&w->store_mu);
        return rc;
    }
    pthread_mutex_lock(&w->mu);
    if (commit) {
        gen = ++w->flush_req;
        w->flush_upto = w->enqueued;
        pthread_cond_signal(&w->not_empty);
        while (w->flush_done < gen && (producer || w->err == ES_OK))
            pthread_cond_wait(&w->changed, &w->mu);
    } else {
        while (w->len > 0 || w->writer_busy)
            pthread_cond_wait(&w->changed, &w->mu);
    }
    rc = w->err;
    if (producer) {
        rc = sync_counts(s, w);
        n = collect_dead(w);
    }
    pthread_mutex_unlock(&w->mu);
    if (producer)
        free_spare(w, n);
    return rc;
}

int sink_done(struct sink *s)
{
    struct sink_impl *w = s->priv;
    int rc = sink_flush(s);

    if (w == NULL)
        return rc;
    if (w->threaded) {
        pthread_mutex_lock(&w->mu);
        w->quit = 1;
        pthread_cond_signal(&w->not_empty);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    sync_counts(s, w);
    if (rc == ES_OK)
        rc = w->err;
    free_spare(w, collect_dead(w));
    while (w->len > 0) { /* only after an error: the writer stopped storing */
        item_free(&w->q[w->head]);
        w->head = (w->head + 1) % SINK_QUEUE;
        w->len--;
    }
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->store_mu);
    pthread_cond_destroy(&w->not_empty);
    pthread_cond_destroy(&w->changed);
    free(w->q);
    free(w->dead);
    free(w->spare);
    free(w);
    s->priv = NULL;
    return rc;
}

/* Runs fn on the store from the caller's thread, after the writer has drained. */
static int with_store_begin(struct sink *s)
{
    struct sink_impl *w = s->priv;
    int rc = drain(s, 0, 1);

    if (rc != ES_OK)
        return rc;
    if (w != NULL)
        pthread_mutex_lock(&w->store_mu);
    return ES_OK;
}

static void with_store_end(struct sink *s)
{
    struct sink_impl *w = s->priv;

    if (w != NULL)
        pthread_mutex_unlock(&w->store_mu);
}

int sink_origin(struct sink *s, const char *kind, const char *uri)
{
    int rc = with_store_begin(s);

    if (rc != ES_OK)
        return rc;
    rc = store_origin(s->st, kind, uri, &s->origin);
    with_store_end(s);
    return rc;
}

int sink_bulk_begin(struct sink *s, uint64_t expect)
{
    int rc = with_store_begin(s);

    if (rc != ES_OK)
        return rc;
    rc = store_bulk_begin(s->st, expect);
    with_store_end(s);
    return rc;
}

int sink_bulk_end(struct sink *s)
{
    int rc = drain(s, 1, 1);

    if (rc != ES_OK)
        return rc;
    rc = with_store_begin(s);
    if (rc != ES_OK)
        return rc;
    rc = store_bulk_end(s->st);
    with_store_end(s);
    return rc;
}

int sink_event_take(struct sink *s, struct event *ev)
{
    struct sink_item it;

    if (s->redact == NULL) {
        /* One block per queued event; the fields are freed now, while malloc has them at
         * hand (freeing every field of thousands of stored events at once was slow). */
        int rc = sink_event_copy(s, ev);
        event_done(ev);
        return rc;
    }
    memset(&it, 0, sizeof it);
    it.kind = SINK_EVENT;
    it.origin = s->origin;
    it.ev = *ev;
    event_init(ev);
    if (s->no_payload)
        event_set(&it.ev.data, NULL, 0);
    if (s->redact != NULL && it.ev.data != NULL) {
        int rc = redact_apply(s->redact, &it.ev); /* before data is hashed */
        if (rc != ES_OK) {
            event_done(&it.ev);
            return rc;
        }
    }
    /* Hashed here, on the producer's thread: the writer's thread is the busier one. */
    if (it.ev.data != NULL && it.ev.payload_hash == 0)
        it.ev.payload_hash = event_hash(it.ev.data, strlen(it.ev.data));
    return enqueue(s, &it);
}

int sink_event_copy(struct sink *s, const struct event *ev)
{
    struct sink_item it;
    size_t len[EVENT_NFIELDS], total = 0, datalen = 0, i = 0;
    char *p;

    if (s->redact != NULL) { /* redact_apply rewrites data: fields of its own */
        struct event own = *ev;
#define X(f) own.f = xstrdup(ev->f);
        EVENT_STR_FIELDS(X)
#undef X
        return sink_event_take(s, &own);
    }
    memset(&it, 0, sizeof it);
    it.kind = SINK_EVENT;
    it.origin = s->origin;
    it.ev = *ev;
#define X(f) total += len[i++] = ev->f ? strlen(ev->f) + 1 : 0;
    EVENT_STR_FIELDS(X)
#undef X
    it.flat = p = xmalloc(total ? total : 1);
    i = 0;
#define X(f)                                                                                       \
    it.ev.f = len[i] ? memcpy(p, ev->f, len[i]) : NULL;                                            \
    if (&it.ev.f == &it.ev.data && len[i] > 0)                                                     \
        datalen = len[i] - 1; /* (measured above) */                                               \
    p += len[i++];
    EVENT_STR_FIELDS(X)
#undef X
    if (s->no_payload)
        it.ev.data = NULL; /* (its copy is never read) */
    /* Hashed here, on the producer's thread: the writer's thread is the busier one. */
    if (it.ev.data != NULL && it.ev.payload_hash == 0)
        it.ev.payload_hash = event_hash(it.ev.data, datalen);
    return enqueue(s, &it);
}

int sink_reject(struct sink *s, const char *location, const char *reason, const char *detail,
                const void *excerpt, size_t excerpt_len)
{
    struct sink_item it;
    int rc;

    memset(&it, 0, sizeof it);
    it.kind = SINK_REJECT;
    it.origin = s->origin;
    it.location = xstrdup(location);
    it.reason = xstrdup(reason);
    if (excerpt != NULL && s->redact != NULL) {
        /* The raw bytes may hold what --redact hides: keep only their keyed hash. */
        char text[REDACT_TEXT_MAX];
        redact_text(s->redact, excerpt, excerpt_len, text);
        it.excerpt = xstrdup(text);
        it.excerpt_len = strlen(text);
    } else if (excerpt != NULL && !s->no_payload) {
        if (excerpt_len > SINK_EXCERPT)
            excerpt_len = SINK_EXCERPT;
        it.excerpt = xmalloc(excerpt_len + 1);
        memcpy(it.excerpt, excerpt, excerpt_len);
        it.excerpt[excerpt_len] = '\0';
        it.excerpt_len = excerpt_len;
    }
    rc = enqueue(s, &it);
    if (rc != ES_OK)
        return rc;
    s->counts.rejected++;
    if (s->on_reject)
        s->on_reject(s->reject_ctx, location, reason, detail);
    return ES_OK;
}

int sink_flush(struct sink *s)
{
    return drain(s, 1, 1);
}

int sink_commit(struct sink *s)
{
    return drain(s, 1, 0);
}
