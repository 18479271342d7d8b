/*  zs_bforward.c - the forwarder: results in (XSUB) -> results out (XPUB).

    Every result passes here: it is checked against its scan (running, its
    index and symbol in the universe), dropped when its symbol was already
    delivered, gathered into the batch of its topic, and counted; the
    scan's cut is applied at once.  A batch gets its positions when it is
    sent - the plain results first, then the signals - so the records of a
    message always have consecutive positions, and a cut's last signal is
    the last result of its scan.  Events get the next position each.

    Results-out drops for a slow subscriber's own pipe (no
    ZMQ_XPUB_NODROP): a subscriber that does not keep up loses messages
    for itself alone, notices from the positions and fills the gap from
    the history, while the broker goes on reading workers.  Back-pressure
    there had let one stalled subscriber stop the whole cluster (measured:
    8,744 of 10,000 symbols failed when leases ran out).  Each message is
    kept in the history (a reference, no copy) before it is sent.
*/
#include "zs_broker_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/*  Publishing                                                             */

/*  Publishes [topic, position, body] (body is consumed) after filing it
    in the history.  Never blocks: a subscriber whose queue is full loses
    this message, for itself alone. */
static void s_publish (zs_broker_t *self, const zs_bscan_t *scan,
                       zs_topic_kind_t kind, const zs_pos_t *pos,
                       uint32_t count, zmq_msg_t *body)
{
    if (zs_history_append (self->history, scan->id, kind, pos, count, body)
        != 0)
        zs_error ("scan %s: cannot file position %llu in the history",
                  scan->id, (unsigned long long) pos->pos);
    char topic[ZS_TOPIC_MAX];
    size_t tlen = zs_topic_build (topic, sizeof topic, scan->id, kind);
    unsigned char pbuf[ZS_POS_MAX];
    size_t plen = zs_pos_encode (pos, pbuf);
    if (zmq_send (self->xpub, topic, tlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_send (self->xpub, pbuf, plen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_msg_send (body, self->xpub, ZMQ_DONTWAIT) < 0)
        zs_warn ("results-out: cannot send position %llu of scan %s: %s",
                 (unsigned long long) pos->pos, scan->id,
                 zmq_strerror (errno));
    zmq_msg_close (body);
}

static void s_batch_free (void *data, void *hint)
{
    (void) data;
    free (hint);
}

/*  Sends batch k, if it holds anything: one record as itself, several as
    an array, at the scan's next positions.  The batch's memory goes with
    the message (shrunk to fit: the history may keep it a while). */
static void s_batch_send (zs_broker_t *self, int k)
{
    if (!self->batch[k].count)
        return;
    zs_bscan_t *scan = self->batch[k].scan;
    uint32_t count = self->batch[k].count;
    char *base = self->batch[k].data;
    size_t from = ZS_OUT_ROOM;
    if (count > 1) {
        unsigned char head[8];
        size_t hlen = zs_recs_header (count, head);
        from -= hlen;
        memcpy (base + from, head, hlen);
    }
    size_t size = self->batch[k].size;
    if (self->batch[k].cap > size + size / 4) {
        char *fit = (char *) realloc (base, size);
        if (fit)
            base = fit;
    }
    self->batch[k].last_size = size;
    self->batch[k].data = NULL;
    self->batch[k].size = self->batch[k].cap = 0;
    self->batch[k].count = 0;
    self->batch[k].scan = NULL;
    zs_pos_t pos = {scan->pos + 1, scan->pub_signals, scan->pub_events};
    scan->pos += count;
    if (k == 1)
        scan->pub_signals += count;
    self->out_msgs++;
    self->out_records += count;
    zmq_msg_t body;
    zmq_msg_init_data (&body, base + from, size - from, s_batch_free, base);
    s_publish (self, scan,
               k ? ZS_TOPIC_RESULT_SIGNAL : ZS_TOPIC_RESULT_PLAIN, &pos,
               count, &body);
}

void zs_fwd_flush (zs_broker_t *self)
{
    /* plain results first: a scan's cut - a signal, the last record
       added - is then also the last result of it */
    s_batch_send (self, 0);
    s_batch_send (self, 1);
}

/*  Adds one result record (the bytes of a result map) to its batch. */
static void s_batch_add (zs_broker_t *self, zs_bscan_t *scan, bool signal,
                         const void *rec, size_t len)
{
    int k = signal ? 1 : 0;
    if (self->batch[k].count
        && (self->batch[k].scan != scan
            || self->batch[k].count >= ZS_OUT_RECORDS
            || self->batch[k].size + len > ZS_OUT_BYTES))
        zs_fwd_flush (self); /* both: a scan's records stay in order */
    if ((self->batch[1 - k].count && self->batch[1 - k].scan != scan))
        zs_fwd_flush (self);
    if (!self->batch[k].count) {
        self->batch[k].scan = scan;
        self->batch[k].size = ZS_OUT_ROOM;
    }
    if (self->batch[k].size + len > self->batch[k].cap) {
        /* a new batch starts with room for what the last one held (each
           batch's memory leaves with its message): no copies growing it */
        size_t last = self->batch[k].last_size;
        size_t cap = self->batch[k].cap ? self->batch[k].cap
                     : last > ZS_OUT_BYTES ? ZS_OUT_BYTES + ZS_OUT_ROOM
                     : last > 1024         ? last + 1024
                                           : 2048;
        while (cap < self->batch[k].size + len)
            cap *= 2;
        char *p = (char *) realloc (self->batch[k].data, cap);
        if (!p) {
            zs_error ("out of memory batching results of scan %s",
                      scan->id);
            return;
        }
        self->batch[k].data = p;
        self->batch[k].cap = cap;
    }
    memcpy (self->batch[k].data + self->batch[k].size, rec, len);
    self->batch[k].size += len;
    self->batch[k].count++;
}

/*  Publishes an event of scan (encoded in self->buf) at its next
    position; the batches go first. */
static void s_publish_event (zs_broker_t *self, zs_bscan_t *scan)
{
    zs_fwd_flush (self);
    zmq_msg_t body;
    zmq_msg_init_size (&body, self->buf.size);
    memcpy (zmq_msg_data (&body), self->buf.data, self->buf.size);
    zs_pos_t pos = {++scan->pos, scan->pub_signals, scan->pub_events++};
    s_publish (self, scan, ZS_TOPIC_EVENT, &pos, 1, &body);
}

/* ---------------------------------------------------------------------- */
/*  Lifecycle events                                                       */

void zs_fwd_event_started (zs_broker_t *self, zs_bscan_t *scan)
{
    zs_ev_started_t ev = {0};
    ev.scan = scan->id;
    ev.total = scan->total;
    ev.def = scan->def;
    ev.universe = scan->universe;
    ev.priority = scan->priority;
    ev.max_signals = scan->max_signals;
    ev.max_symbols = scan->max_symbols;
    ev.timeout_seconds = scan->timeout_seconds;
    ev.time = scan->started_at;
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_ev_started_encode (&ev, &self->buf, err, sizeof err) != 0) {
        zs_error ("scan %s: cannot encode started: %s", scan->id, err);
        return;
    }
    s_publish_event (self, scan);
}

void zs_fwd_event_progress (zs_broker_t *self, zs_bscan_t *scan,
                            int64_t now)
{
    zs_ev_progress_t ev = {0};
    zs_scan_info_t info;
    zs_bscan_info (scan, now, &info);
    ev.scan = scan->id;
    ev.total = info.total;
    ev.done = info.done;
    ev.signals = info.signals;
    ev.failed = info.failed;
    ev.busy = info.busy;
    ev.elapsed = info.elapsed;
    ev.rate = info.rate;
    ev.eta = info.eta;
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_ev_progress_encode (&ev, &self->buf, err, sizeof err) != 0) {
        zs_error ("scan %s: cannot encode progress: %s", scan->id, err);
        return;
    }
    s_publish_event (self, scan);
}

void zs_fwd_event_finished (zs_broker_t *self, zs_bscan_t *scan,
                            int64_t now)
{
    zs_ev_finished_t ev = {0};
    ev.scan = scan->id;
    ev.reason = scan->reason;
    ev.total = scan->total;
    ev.results = scan->done;
    ev.failed = scan->failed;
    ev.scanned = scan->done - scan->failed;
    ev.signals = scan->signals;
    ev.unscanned = scan->total - scan->done;
    ev.elapsed = (double) (now - scan->created_us) / 1e6;
    ev.first_result_ms = scan->first_result_us
                             ? (double) (scan->first_result_us
                                         - scan->created_us)
                                   / 1e3
                             : -1;
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_ev_finished_encode (&ev, &self->buf, err, sizeof err) != 0) {
        zs_error ("scan %s: cannot encode finished: %s", scan->id, err);
        return;
    }
    s_publish_event (self, scan);
}

/* ---------------------------------------------------------------------- */
/*  Delivery and cuts                                                      */

/*  Delivers one result record of scan: batch it, count it, release the
    task it completes, apply the cut. */
static void s_deliver (zs_broker_t *self, zs_bscan_t *scan, uint32_t index,
                       bool signal, bool failed, const void *rec, size_t len)
{
    zs_btask_t *owner = zs_bscan_mark (scan, index, signal, failed);
    s_batch_add (self, scan, signal, rec, len);
    if (owner && owner->remaining == 0) {
        zs_shared_task_release (self, owner);
        zs_bscan_task_free (scan, owner);
    }
    zs_end_reason_t cut = ZS_END_NONE;
    if (scan->max_signals && scan->signals >= scan->max_signals)
        cut = ZS_END_MAX_SIGNALS;
    else if (scan->max_symbols && scan->done >= scan->max_symbols)
        cut = ZS_END_MAX_SYMBOLS;
    else if (scan->done >= scan->total)
        cut = ZS_END_COMPLETED;
    /* nothing more of it is taken; the loop finishes it (zs_life_settle) */
    if (cut != ZS_END_NONE && zs_bscan_cut (scan, cut))
        self->cuts_pending++;
}

void zs_fwd_deliver_failure (zs_broker_t *self, zs_bscan_t *scan,
                             uint32_t index, const char *reason)
{
    zs_result_t r = {0};
    r.scan = scan->id;
    r.index = index;
    r.symbol = scan->symlist.items[index];
    r.signal = false;
    r.score = NAN;
    r.price = NAN;
    r.error = reason;
    r.worker = "broker";
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_result_encode (&r, &self->buf, err, sizeof err) != 0) {
        zs_error ("scan %s: cannot encode failure of %s: %s", scan->id,
                  r.symbol, err);
        return;
    }
    s_deliver (self, scan, index, false, true, self->buf.data,
               self->buf.size);
}

/* ---------------------------------------------------------------------- */
/*  Results in                                                             */

/*  One result record from a worker, decoded in self->result (its bytes
    rec, len): checked, de-duplicated, forwarded (copied into the batch
    being gathered).  frame is the message it came in, for naming the
    peer. */
static void s_result_rec (zs_broker_t *self, const void *rec, size_t len,
                          zmq_msg_t *frame)
{
    char peer[64];
    const zs_result_t *r = &self->result;
    /* per-lane sequence: a gap means results were lost on the way */
    zs_blane_t *lane = self->last_lane;
    if (!lane || lane->lane != r->lane || strcmp (lane->worker->id, r->worker))
        lane = self->last_lane = zs_shared_lane_find (self, r->worker, r->lane);
    if (lane) {
        if (lane->last_wseq && r->wseq > lane->last_wseq + 1)
            zs_warn ("results: lost %llu results from %s (sequence %llu "
                     "after %llu); their batch will be re-run",
                     (unsigned long long) (r->wseq - lane->last_wseq - 1),
                     lane->key, (unsigned long long) r->wseq,
                     (unsigned long long) lane->last_wseq);
        if (r->wseq > lane->last_wseq)
            lane->last_wseq = r->wseq;
    }
    zs_bscan_t *scan = self->last_scan;
    if (!scan || strcmp (scan->id, r->scan) != 0)
        scan = self->last_scan = (zs_bscan_t *) zhashx_lookup (self->scans,
                                                               r->scan);
    if (!scan || scan->state != ZS_BSCAN_RUNNING) {
        self->dropped_late++;
        return;
    }
    if (r->index >= scan->total
        || strcmp (scan->symlist.items[r->index], r->symbol) != 0) {
        zs_shared_peer (frame, peer, sizeof peer);
        if (zs_shared_may_complain (self))
            zs_warn ("results: %s from %s claims index %u of scan %s: not "
                     "ours, dropped",
                     r->symbol, peer, r->index, r->scan);
        return;
    }
    /* only the lane the task was last sent to delivers its results (an
       authorised worker cannot forge another's), and with CURVE only over
       the key its worker first spoke with */
    zs_btask_t *t = (zs_btask_t *) zs_idmap_get (self->tasks_by_id, r->task);
    char key[ZS_KEY_TEXT];
    zs_bauth_key (self->auth, frame, key);
    const char *why = !lane ? "an unknown lane"
                      : !t || t->scan != scan ? "no such task in flight"
                      : strcmp (t->holder, lane->key) ? "not its task"
                      : self->auth && strcmp (key, lane->worker->key)
                          ? "not its worker's key"
                          : NULL;
    if (why && lane && (!t || t->scan != scan)) {
        self->dropped_late++; /* its task was done, or re-sent */
        return;
    }
    if (why) {
        self->dropped_foreign++;
        zs_shared_peer (frame, peer, sizeof peer);
        if (zs_shared_may_complain (self))
            zs_warn ("results: %s of scan %s from %s (lane %s/%u): %s, "
                     "dropped",
                     r->symbol, r->scan, peer, r->worker, r->lane, why);
        return;
    }
    if (zs_bscan_delivered (scan, r->index)) {
        self->dropped_dups++;
        return;
    }
    s_deliver (self, scan, r->index, r->signal && !r->error,
               r->error != NULL, rec, len);
}

bool zs_fwd_results_recv (zs_broker_t *self)
{
    zmq_msg_t part;
    zmq_msg_init (&part);
    if (zmq_msg_recv (&part, self->xsub, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&part);
        return false;
    }
    char err[256], peer[64];
    int more = zmq_msg_more (&part);
    if (!more) {
        zs_shared_peer (&part, peer, sizeof peer);
        if (zs_shared_may_complain (self))
            zs_warn ("results: dropped a message from %s: want [topic, "
                     "body...]",
                     peer);
    }
    zmq_msg_close (&part);
    while (more) {
        zmq_msg_t body;
        zmq_msg_init (&body);
        if (zmq_msg_recv (&body, self->xsub, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&body);
            break;
        }
        more = zmq_msg_more (&body);
        zs_recs_t it;
        const void *rec;
        size_t len;
        int rc = zs_recs_init (&it, zmq_msg_data (&body),
                               zmq_msg_size (&body), err, sizeof err);
        self->in_msgs++;
        while (rc >= 0
               && (rc = zs_recs_next_result (&it, &self->result, &rec, &len,
                                             err, sizeof err))
                      != 0) {
            if (rc == -1)
                break;
            self->in_records++;
            if (rc == -2) {
                zs_shared_peer (&body, peer, sizeof peer);
                if (zs_shared_may_complain (self))
                    zs_warn ("results: bad result from %s: %s", peer, err);
                continue;
            }
            s_result_rec (self, rec, len, &body);
        }
        if (rc < 0) {
            zs_shared_peer (&body, peer, sizeof peer);
            if (zs_shared_may_complain (self))
                zs_warn ("results: bad batch from %s: %s", peer, err);
        }
        zmq_msg_close (&body);
    }
    return true;
}

/* ---------------------------------------------------------------------- */
/*  Subscriptions on results-out                                           */

bool zs_fwd_covered (zs_broker_t *self, const char *scan)
{
    /* a prefix covers the scan when it is a prefix of its signals' topic
       (then of its events' too, or it is "<scan>.r..." which the
       subscriber chose) or of its events' topic */
    char topics[2][ZS_TOPIC_MAX];
    zs_topic_build (topics[0], sizeof topics[0], scan,
                    ZS_TOPIC_RESULT_SIGNAL);
    zs_topic_build (topics[1], sizeof topics[1], scan, ZS_TOPIC_EVENT);
    for (int t = 0; t < 2; t++) {
        char prefix[ZS_TOPIC_MAX];
        size_t n = strlen (topics[t]);
        for (size_t k = 0; k <= n; k++) {
            memcpy (prefix, topics[t], k);
            prefix[k] = 0;
            if (zhashx_lookup (self->subs, prefix))
                return true;
        }
    }
    return false;
}

bool zs_fwd_subs_recv (zs_broker_t *self)
{
    bool added = false;
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, self->xpub, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        return false;
    }
    const unsigned char *d = (const unsigned char *) zmq_msg_data (&msg);
    size_t n = zmq_msg_size (&msg);
    if (n >= 1 && n - 1 < ZS_TOPIC_MAX && (d[0] == 0 || d[0] == 1)) {
        char prefix[ZS_TOPIC_MAX + 1];
        memcpy (prefix, d + 1, n - 1);
        prefix[n - 1] = 0;
        if (d[0] == 1 && strlen (prefix) == n - 1) {
            if (!zhashx_lookup (self->subs, prefix)) {
                if (zhashx_size (self->subs) >= ZS_SUBS_MAX)
                    zhashx_purge (self->subs); /* only sync starts need it */
                zhashx_insert (self->subs, prefix, (void *) 1);
            }
            added = true; /* held scans may wait for this subscriber */
        }
        else if (d[0] == 0)
            zhashx_delete (self->subs, prefix);
    }
    zmq_msg_close (&msg);
    return added;
}
