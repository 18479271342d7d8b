/*  zs_blife.c - a scan's life in the broker: adopted from its plan in
    place of its stand-in, held for its first subscriber, started, and
    finished - by a stop, a timeout, a failure, or its cut.

    The forwarder finds a scan's cut (its last result delivered, its
    signals or symbols counted up) in the middle of a worker's message;
    it marks the scan (zs_bscan_cut: no later result of it is taken) and
    the loop finishes it once that message is handled (zs_life_settle).
    So the forwarder and the work never call back up here, and the
    finished event still follows the cut's last result.
*/
#include "zs_broker_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void zs_life_go (zs_broker_t *self, zs_bscan_t *scan)
{
    scan->state = ZS_BSCAN_RUNNING;
    zs_fwd_event_started (self, scan);
    zs_info ("scan %s started: %llu symbols (%.2f ms after its request)",
             scan->id, (unsigned long long) scan->total,
             (double) (zs_clock_us () - scan->created_us) / 1e3);
    zs_work_dispatch (self);
}

/*  Takes stub out of the tables and frees it. */
static void s_unlist (zs_broker_t *self, zs_bscan_t *stub)
{
    void *cursor = zlistx_find (self->running, stub);
    if (cursor)
        zlistx_detach (self->running, cursor);
    if (self->last_scan == stub)
        self->last_scan = NULL;
    zhashx_delete (self->scans, stub->id); /* its destructor frees it */
}

void zs_life_discard (zs_broker_t *self, zs_bscan_t *stub)
{
    s_unlist (self, stub);
}

/*  The key of a scan's universe for the holders' maps (its data source,
    universe and order); false when it has none worth keeping (an explicit
    list of symbols, or an order that changes from scan to scan). */
static bool s_holders_key (const zs_bscan_t *scan, char *key, size_t cap)
{
    if (!scan->universe || strcmp (scan->universe, "explicit") == 0
        || scan->priority == ZS_PRIO_SIGNALS)
        return false;
    int n = snprintf (key, cap, "%s|%s|%s",
                      scan->def.data ? scan->def.data : "", scan->universe,
                      zs_priority_name (scan->priority));
    return n > 0 && (size_t) n < cap;
}

void zs_life_adopt (zs_broker_t *self, zs_bscan_t *stub, zs_bscan_t *scan,
                    bool sync)
{
    /* the scan's clock started with its request, not with its plan */
    scan->created_us = stub->created_us;
    scan->started_at = stub->started_at;
    scan->last_progress_us = zs_clock_us ();
    zs_end_reason_t stop = stub->stop_reason;
    s_unlist (self, stub);
    double *rate = (double *) zhashx_lookup (self->rates, scan->def_key);
    if (rate)
        zs_bscan_set_prior (scan, *rate);
    char key[1024];
    if (s_holders_key (scan, key, sizeof key))
        zs_bscan_set_prior_holders (scan, zs_holders_take (self->holders,
                                                           key));
    zhashx_insert (self->scans, scan->id, scan);
    zlistx_add_end (self->running, scan);
    if (stop != ZS_END_NONE) {
        scan->state = ZS_BSCAN_WAITING;
        zs_life_finish (self, scan, stop);
    }
    else if (sync && !zs_fwd_covered (self, scan->id)) {
        scan->state = ZS_BSCAN_WAITING;
        scan->hold_until_us = zs_clock_us () + self->cfg.sync_wait_ms * 1000;
    }
    else
        zs_life_go (self, scan);
}

void zs_life_finish (zs_broker_t *self, zs_bscan_t *scan,
                     zs_end_reason_t reason)
{
    if (scan->state == ZS_BSCAN_FINISHED)
        return;
    if (scan->state == ZS_BSCAN_PLANNING) {
        /* it ends as soon as its plan is back (see zs_life_adopt) */
        if (scan->stop_reason == ZS_END_NONE)
            scan->stop_reason = reason;
        return;
    }
    if (scan->state == ZS_BSCAN_ENDING)
        reason = scan->stop_reason; /* its cut came first */
    int64_t now = zs_clock_us ();
    bool was_running = scan->state == ZS_BSCAN_RUNNING
                       || scan->state == ZS_BSCAN_ENDING;
    /* release in-flight tasks; their lanes will skip them, and say so */
    zs_btask_t *t;
    scan->stop_pending = 0;
    while ((t = zs_bscan_first_inflight (scan)) != NULL) {
        if (t->lane) {
            char key[24];
            snprintf (key, sizeof key, "%llu", (unsigned long long) t->id);
            char *id = strdup (scan->id);
            if (id && zhashx_insert (self->letting_go, key, id) == 0)
                scan->stop_pending++;
            else
                free (id);
        }
        zs_shared_task_release (self, t);
        zs_bscan_task_free (scan, t);
    }
    zs_bscan_finish (scan, reason, now);
    if (!scan->stop_pending)
        scan->idle_us = now;
    /* broadcast the cancel */
    zs_cancel_t cancel = {0};
    cancel.scan = scan->id;
    cancel.reason = reason;
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_cancel_encode (&cancel, &self->buf, err, sizeof err) == 0) {
        zmq_send (self->control, ZS_CTL_CANCEL, strlen (ZS_CTL_CANCEL),
                  ZMQ_SNDMORE);
        zmq_send (self->control, self->buf.data, self->buf.size, 0);
    }
    if (!was_running)
        zs_fwd_event_started (self, scan); /* held scans still get a start */
    zs_fwd_event_finished (self, scan, now);
    zs_info ("scan %s finished: %s, %llu/%llu results, %llu signals, "
             "%llu failed, %.3f s",
             scan->id, zs_end_reason_name (reason),
             (unsigned long long) scan->done,
             (unsigned long long) scan->total,
             (unsigned long long) scan->signals,
             (unsigned long long) scan->failed,
             (double) (now - scan->created_us) / 1e6);
    zs_history_finish (self->history, scan->id);
    /* its signals, for the next "signals first" scan of its definition */
    if (scan->priority == ZS_PRIO_SIGNALS || scan->signals) {
        zhashx_t *set = zs_bscan_signal_set (scan);
        if (set)
            zs_planner_remember (self->planner, scan->def_key, set);
    }
    /* and its rate, so the next such scan cuts full batches at once */
    if (scan->us_per_symbol > 0 && scan->sum_results > 0) {
        double *rate = (double *) malloc (sizeof *rate);
        if (rate) {
            *rate = scan->us_per_symbol;
            if (zhashx_size (self->rates) >= ZS_RATES_MAX)
                zhashx_purge (self->rates);
            zhashx_update (self->rates, scan->def_key, rate);
        }
    }
    /* who was given which symbol: where the next scan of this universe
       finds each one's bars */
    char key[1024];
    zs_holders_map_t *held = zs_bscan_take_holders (scan);
    if (held && s_holders_key (scan, key, sizeof key))
        zs_holders_put (self->holders, key, held);
    else
        zs_holders_map_destroy (&held);
    zs_bscan_release_arrays (scan);
    void *cursor = zlistx_find (self->running, scan);
    if (cursor)
        zlistx_detach (self->running, cursor);
    zlistx_add_end (self->finished, scan);
    while ((int64_t) zlistx_size (self->finished) > self->cfg.keep_finished) {
        zs_bscan_t *old = (zs_bscan_t *) zlistx_detach (self->finished, NULL);
        if (old) {
            zs_history_drop (self->history, old->id);
            zhashx_delete (self->scans, old->id);
        }
        self->last_scan = NULL;
    }
}


/*  The scans in the running list in state, in order (NULL when none or
    out of memory): a list to act on, as acting moves them. */
static zlistx_t *s_in_state (zs_broker_t *self, zs_bscan_state_t state,
                            bool covered)
{
    zlistx_t *list = NULL;
    for (zs_bscan_t *s = (zs_bscan_t *) zlistx_first (self->running); s;
         s = (zs_bscan_t *) zlistx_next (self->running))
        if (s->state == state
            && (!covered || zs_fwd_covered (self, s->id))) {
            if (!list && !(list = zlistx_new ()))
                return NULL;
            zlistx_add_end (list, s);
        }
    return list;
}

void zs_life_settle (zs_broker_t *self)
{
    if (!self->cuts_pending)
        return;
    self->cuts_pending = 0;
    zlistx_t *cut = s_in_state (self, ZS_BSCAN_ENDING, false);
    for (zs_bscan_t *s = cut ? (zs_bscan_t *) zlistx_first (cut) : NULL; s;
         s = (zs_bscan_t *) zlistx_next (cut))
        zs_life_finish (self, s, s->stop_reason);
    zlistx_destroy (&cut);
}

void zs_life_go_covered (zs_broker_t *self)
{
    zlistx_t *go = s_in_state (self, ZS_BSCAN_WAITING, true);
    for (zs_bscan_t *s = go ? (zs_bscan_t *) zlistx_first (go) : NULL; s;
         s = (zs_bscan_t *) zlistx_next (go))
        zs_life_go (self, s);
    zlistx_destroy (&go);
}
