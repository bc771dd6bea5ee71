/* Live capture: a libpcap handle feeding pcapsrc_packet (see live.h). */
#include "collector/pcap/live.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

/* The handle being captured on, for live_interrupt() (signal handlers). */
static pcap_t *volatile live_handle;

void live_interrupt(void)
{
    pcap_t *h = live_handle;

    if (h != NULL)
        pcap_breakloop(h);
}

struct live_ctx {
    struct pcapsrc *ps;
    int linktype;
    int rc;
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct live_ctx *lc = (struct live_ctx *)user;
    int64_t ts = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;

    if (lc->rc != ES_OK)
        return;
    lc->rc = pcapsrc_packet(lc->ps, lc->linktype, ts, bytes, h->caplen, h->len);
}

static double mono_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int live_capture(struct sink *s, const struct live_opts *o, struct pcapsrc_stats *stats,
                 char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE];
    struct bpf_program prog;
    struct live_ctx lc;
    pcap_t *h;
    double t0, last_flush;
    int rc, n;

    ebuf[0] = '\0';
    if ((h = pcap_create(o->iface, ebuf)) == NULL) {
        snprintf(err, errlen, "cannot open interface %s: %s", o->iface, ebuf);
        return ES_EIO;
    }
    pcap_set_snaplen(h, o->snaplen > 0 ? o->snaplen : 262144);
    /* Not immediate mode: its poll() may wait forever on a quiet interface; with a 100 ms
     * timeout the loop sees the stop flag (and live_interrupt() breaks it at once). */
    pcap_set_timeout(h, 100);
    pcap_set_buffer_size(h, 16 << 20);
    rc = pcap_activate(h);
    if (rc < 0) {
        snprintf(err, errlen, "cannot capture on %s: %s%s", o->iface, pcap_geterr(h),
                 rc == PCAP_ERROR_PERM_DENIED ? " (run as root or grant CAP_NET_RAW)" : "");
        pcap_close(h);
        return ES_EIO;
    }
    if (o->filter && *o->filter) {
        if (pcap_compile(h, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(err, errlen, "filter '%s' does not compile: %s", o->filter, pcap_geterr(h));
            pcap_close(h);
            return ES_EUSAGE;
        }
        rc = pcap_setfilter(h, &prog);
        pcap_freecode(&prog);
        if (rc != 0) {
            snprintf(err, errlen, "cannot set filter: %s", pcap_geterr(h));
            pcap_close(h);
            return ES_EIO;
        }
    }
    memset(&lc, 0, sizeof lc);
    lc.ps = pcapsrc_new(s, &o->lim);
    lc.linktype = pcap_datalink(h);
    lc.rc = ES_OK;
    t0 = last_flush = mono_s();
    live_handle = h;
    for (;;) {
        const struct pcapsrc_stats *st = pcapsrc_stats(lc.ps);
        int want = -1;
        if (o->count) {
            if (st->packets >= o->count)
                break;
            want = (int)(o->count - st->packets > 1000000 ? 1000000 : o->count - st->packets);
        }
        if (sink_stopping(s)) {
            lc.rc = ES_EINTERRUPTED;
            break;
        }
        if (o->duration_s > 0 && mono_s() - t0 >= o->duration_s)
            break;
        n = pcap_dispatch(h, want, on_packet, (u_char *)&lc);
        if (lc.rc != ES_OK)
            break;
        if (n == PCAP_ERROR) {
            snprintf(err, errlen, "capture on %s failed: %s", o->iface, pcap_geterr(h));
            lc.rc = ES_EIO;
            break;
        }
        if (n == PCAP_ERROR_BREAK) {
            if (sink_stopping(s)) {
                lc.rc = ES_EINTERRUPTED;
                break;
            }
            continue;
        }
        if (mono_s() - last_flush > 0.5) {
            /* readers (the TUI) see what was captured so far */
            last_flush = mono_s();
            if ((rc = sink_flush(s)) != ES_OK) {
                lc.rc = rc;
                break;
            }
        }
    }
    live_handle = NULL;
    pcap_close(h);
    rc = pcapsrc_finish(lc.ps);
    if (lc.rc == ES_OK || lc.rc == ES_EINTERRUPTED) {
        if (rc != ES_OK)
            lc.rc = rc;
        else if ((rc = sink_flush(s)) != ES_OK)
            lc.rc = rc;
    }
    if (stats)
        *stats = *pcapsrc_stats(lc.ps);
    pcapsrc_free(lc.ps);
    if (lc.rc == ES_ESTORE)
        snprintf(err, errlen, "storing failed: %s", store_errmsg(s->st));
    return lc.rc;
}
