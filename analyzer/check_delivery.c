/*
 * delivery.unmatched: on a channel where both sides are observed (some publishes and some
 * deliveries), an event published but never delivered while an event published after it
 * was, or an event delivered although the channel's publishes were being observed and its
 * own publish never was.
 */
#include <stdio.h>

#include "analyzer/ctx.h"
#include "core/event.h"

void check_delivery_process(struct actx *a, struct proc *p)
{
    size_t n;
    int i, j;

    for (n = 0; n < p->nnodes; n++) {
        for (i = p->nodes[n].first; i >= 0; i = p->obs[i].next) {
            const struct obs *o = &p->obs[i];
            const struct obs *pub = NULL, *del = NULL;
            struct channel_stat *ch;
            int first = 1;
            if (o->chan_ix == NONE_IX || o->dir == OBS_LOG)
                continue;
            for (j = p->nodes[n].first; j != i; j = p->obs[j].next)
                if (p->obs[j].chan_ix == o->chan_ix && p->obs[j].dir != OBS_LOG)
                    first = 0;
            if (!first)
                continue; /* each channel once per event */
            for (j = i; j >= 0; j = p->obs[j].next) {
                const struct obs *q = &p->obs[j];
                if (q->chan_ix != o->chan_ix)
                    continue;
                if (q->dir == OBS_PUBLISH && pub == NULL)
                    pub = q;
                if (q->dir == OBS_DELIVER && del == NULL)
                    del = q;
            }
            ch = &a->channels[o->chan_ix];
            if (pub) {
                ch->publishes++;
                if (obs_pos(pub) < ch->min_pub_pos)
                    ch->min_pub_pos = obs_pos(pub);
            }
            if (del)
                ch->deliveries++;
            if (pub && del && obs_pos(pub) > ch->max_delivered_pub_pos)
                ch->max_delivered_pub_pos = obs_pos(pub);
            if ((pub == NULL) != (del == NULL)) {
                struct unmatched *u = ACTX_PUSH(a->unmatched, a->nunmatched, a->capunmatched);
                const struct obs *side = pub ? pub : del;
                u->seq = side->seq;
                u->pos = obs_pos(side);
                u->chan_ix = o->chan_ix;
                u->dir = side->dir;
            }
        }
    }
}

void check_delivery_finish(struct actx *a)
{
    size_t i;

    for (i = 0; i < a->nunmatched && a->rc == ES_OK; i++) {
        const struct unmatched *u = &a->unmatched[i];
        const struct channel_stat *ch = &a->channels[u->chan_ix];
        if (u->dir == OBS_PUBLISH && ch->deliveries > 0 && ch->max_delivered_pub_pos > u->pos)
            actx_finding(a, FINDING_DEL_UNMATCHED, NULL, NULL, u->seq, 0, NULL,
                         "published on %s but never delivered, while messages published after "
                         "it were: lost or filtered",
                         ch->name);
        else if (u->dir == OBS_DELIVER && ch->publishes > 0 && u->pos > ch->min_pub_pos)
            actx_finding(a, FINDING_DEL_UNMATCHED, NULL, NULL, u->seq, 0, NULL,
                         "delivered on %s but never published there, although publishes on %s "
                         "were being observed",
                         ch->name, ch->name);
    }
}
