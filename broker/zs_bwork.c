/*  zs_bwork.c - workers and their lanes: credit, dispatch, reports,
    leases and liveness.

    A lane asks for work by credit ("ready": taken so far, want this many
    more queued); a batch leaves the broker only against credit, so it
    waits here, where a stop or a dead worker cannot strand it.  Every
    batch in a worker's hands has a lease; a worker silent for its
    liveness interval is dead, and what it held goes back to the front of
    its scan's queue with only its missing symbols.

    A worker's process has an instance id (new at every start).  A hello
    or a ready from a new instance of a known worker id - a worker killed
    and restarted at once, as systemd's Restart=always does - retires the
    old process on the spot: its batches go back to the queue (an
    attempt each) and its lanes start over with fresh credit counts.
    Before, the new process's heartbeats kept the old one "alive" and its
    lanes' credit was counted against the old one's: it never got work.
*/
#include "zs_broker_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/*  Tasks                                                                  */



/*  Puts a task back at the front of its scan's queue with only its
    missing symbols, or - past max attempts - fails those symbols.  bump
    says whether this counts as an attempt (a returned batch does not). */
static void s_task_requeue (zs_broker_t *self, zs_btask_t *task,
                            const char *reason, bool bump)
{
    zs_bscan_t *scan = task->scan;
    zs_shared_task_release (self, task);
    zs_bscan_task_compact (scan, task);
    if (task->n == 0 || scan->state != ZS_BSCAN_RUNNING) {
        zs_bscan_task_free (scan, task);
        return;
    }
    if (reason)
        snprintf (task->reason, sizeof task->reason, "%s", reason);
    if (bump && task->attempt >= (uint32_t) self->cfg.max_attempts) {
        char why[ZS_TEXT_MAX];
        snprintf (why, sizeof why, "failed after %u attempts: %s",
                  task->attempt, task->reason[0] ? task->reason : "unknown");
        zs_warn ("scan %s: task %llu: %u symbols %s", scan->id,
                 (unsigned long long) task->id, task->n, why);
        /* take the indices and drop the task, then fail each symbol */
        uint32_t n = task->n;
        uint32_t *idx = (uint32_t *) malloc (n * sizeof (uint32_t));
        if (idx)
            memcpy (idx, task->index, n * sizeof (uint32_t));
        zs_bscan_task_free (scan, task); /* its symbols lose their owner */
        if (!idx)
            return;
        for (uint32_t i = 0; i < n && scan->state == ZS_BSCAN_RUNNING; i++)
            if (!zs_bscan_delivered (scan, idx[i]))
                zs_fwd_deliver_failure (self, scan, idx[i], why);
        free (idx);
        return;
    }
    if (bump)
        task->attempt++;
    zs_bscan_requeue_front (scan, task);
}

/*  Sends task to lane; returns 0, or -1 when the lane is unreachable
    (the task stays with the caller). */
static int s_task_send (zs_broker_t *self, zs_blane_t *lane, zs_btask_t *task,
                        int64_t now)
{
    zs_bscan_t *scan = task->scan;
    zs_task_t msg = {0};
    if (zs_bscan_task_msg (scan, task, &msg, &self->symptrs) != 0) {
        zs_error ("scan %s: out of memory building task %llu", scan->id,
                  (unsigned long long) task->id);
        return -1;
    }
    msg.broker = self->instance;
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_task_encode (&msg, &self->buf, err, sizeof err) != 0) {
        zs_error ("scan %s: cannot encode task %llu: %s", scan->id,
                  (unsigned long long) task->id, err);
        return -1;
    }
    size_t klen = strlen (lane->key);
    if (zmq_send (self->tasks, lane->key, klen, ZMQ_SNDMORE | ZMQ_DONTWAIT)
        < 0)
        return -1;
    if (zmq_send (self->tasks, self->buf.data, self->buf.size, ZMQ_DONTWAIT)
        < 0)
        return -1;
    zs_debug ("task %llu of scan %s (%u symbols, attempt %u) to %s",
              (unsigned long long) task->id, scan->id, task->n,
              task->attempt, lane->key);
    task->state = ZS_TASK_SENT;
    task->lane = lane;
    snprintf (task->holder, sizeof task->holder, "%s", lane->key);
    task->sent_us = now;
    task->deadline_us = now + self->cfg.start_lease_ms * 1000;
    lane->sent++;
    lane->holding++;
    zs_idmap_put (self->tasks_by_id, task->id, task);
    return 0;
}

/*  The lane with room for another task that holds the least, or NULL. */
static zs_blane_t *s_pick_lane (zs_broker_t *self, int64_t now)
{
    zs_blane_t *best = NULL;
    int64_t dead_before = now - self->cfg.liveness_ms * 1000;
    for (zs_blane_t *l = (zs_blane_t *) zhashx_first (self->lanes); l;
         l = (zs_blane_t *) zhashx_next (self->lanes)) {
        if (l->worker->last_seen_us < dead_before)
            continue;
        uint64_t queued = l->sent > l->taken ? l->sent - l->taken : 0;
        if (queued >= l->want)
            continue;
        if (!best || l->holding < best->holding)
            best = l;
    }
    return best;
}

/*  Hands out work while some lane has credit and some scan has work. */
/*  The workers that have lanes (each once), for cache affinity: each
    scans, and keeps the bars of, its own share of a universe. */
static size_t s_affinity_seeds (zs_broker_t *self)
{
    size_t n = 0;
    for (zs_blane_t *l = (zs_blane_t *) zhashx_first (self->lanes); l;
         l = (zs_blane_t *) zhashx_next (self->lanes)) {
        uint64_t seed = l->worker->seed;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = self->aff_seeds[k] == seed;
        if (seen)
            continue;
        if (n == self->aff_cap) {
            size_t cap = self->aff_cap ? self->aff_cap * 2 : 16;
            uint64_t *grown = (uint64_t *) realloc (self->aff_seeds,
                                                    cap * sizeof *grown);
            if (!grown)
                return 0; /* no affinity this time */
            self->aff_seeds = grown;
            self->aff_cap = cap;
        }
        self->aff_seeds[n++] = seed;
    }
    return n;
}

void zs_work_dispatch (zs_broker_t *self)
{
    int64_t now = zs_clock_us ();
    size_t nlanes = zhashx_size (self->lanes);
    zs_affinity_t aff = {self->aff_seeds, 0, 0};
    bool aff_known = false;
    while (zlistx_size (self->running) > 0) {
        zs_blane_t *lane = s_pick_lane (self, now);
        if (!lane)
            return;
        /* round-robin over running scans that have work */
        zs_bscan_t *scan = NULL;
        size_t n = zlistx_size (self->running);
        for (size_t i = 0; i < n && !scan; i++) {
            zs_bscan_t *s = (zs_bscan_t *) zlistx_first (self->running);
            zlistx_move_end (self->running, zlistx_cursor (self->running));
            if (s->state == ZS_BSCAN_RUNNING && zs_bscan_has_work (s))
                scan = s;
        }
        if (!scan)
            return;
        if (!aff_known) {
            aff.nseeds = s_affinity_seeds (self);
            aff.seeds = self->aff_seeds;
            aff_known = true;
        }
        aff.mine = lane->worker->seed;
        zs_btask_t *task = zs_bscan_next_task (
            scan, ++self->next_task_id, nlanes, self->cfg.batch_ms,
            (uint32_t) self->cfg.batch_min, (uint32_t) self->cfg.batch_max,
            &aff);
        if (!task)
            return;
        if (s_task_send (self, lane, task, now) != 0) {
            /* its connection is gone (a restarting worker): no credit
               until it asks again; the tasks it holds are not freed
               with it (leases or its worker's retirement requeue them) */
            zs_warn ("lane %s unreachable: no work for it until its next "
                     "ready",
                     lane->key);
            zs_bscan_requeue_front (scan, task);
            lane->want = 0;
        }
    }
}


/* ---------------------------------------------------------------------- */
/*  Workers: hello, heartbeat, reports                                     */

static zs_bworker_t *s_worker_touch (zs_broker_t *self, const char *id,
                                   int64_t now)
{
    zs_bworker_t *w = (zs_bworker_t *) zhashx_lookup (self->workers, id);
    if (!w) {
        w = (zs_bworker_t *) calloc (1, sizeof *w);
        if (!w)
            return NULL;
        w->id = strdup (id);
        if (!w->id) {
            free (w);
            return NULL;
        }
        w->seed = zs_bscan_hash (id);
        zhashx_insert (self->workers, id, w);
    }
    else if (w->last_seen_us
             && now - w->last_seen_us > self->cfg.liveness_ms * 1000)
        zs_info ("worker %s is back after %.1f s of silence", id,
                 (double) (now - w->last_seen_us) / 1e6);
    w->last_seen_us = now;
    return w;
}

/*  With CURVE, whether a message may speak for worker id: it must come
    over a key allowed everything, and a worker id belongs to the key it
    first spoke with (until the worker is forgotten).  Without CURVE,
    always. */
static bool s_key_ok (zs_broker_t *self, const char *id, zmq_msg_t *msg)
{
    if (!self->auth)
        return true;
    char key[ZS_KEY_TEXT];
    zs_bauth_key (self->auth, msg, key);
    const char *why = NULL;
    zs_bworker_t *w = (zs_bworker_t *) zhashx_lookup (self->workers, id);
    if (zs_bauth_role (self->auth, msg) != ZS_ROLE_FULL)
        why = "a read-only key cannot act as a worker";
    else if (w && w->key[0] && strcmp (w->key, key) != 0)
        why = "that worker id belongs to another key";
    if (why) {
        self->dropped_foreign++;
        if (zs_shared_may_complain (self))
            zs_warn ("worker %s: message over key %s refused: %s", id, key,
                     why);
        return false;
    }
    return true;
}

/*  s_worker_touch for a message that passed s_key_ok: binds the worker
    id to the message's key the first time. */
static zs_bworker_t *s_worker_from (zs_broker_t *self, const char *id,
                                    zmq_msg_t *msg, int64_t now)
{
    zs_bworker_t *w = s_worker_touch (self, id, now);
    if (w && self->auth && !w->key[0]) {
        zs_bauth_key (self->auth, msg, w->key);
        zs_info ("worker %s: bound to key %s", id, w->key);
    }
    return w;
}

/*  Every task the worker's lanes hold goes back to the front of its
    queue (a dead worker; a worker that said bye). */
static void s_worker_forget (zs_broker_t *self, zs_bworker_t *w,
                             const char *reason, bool bump)
{
    /* collect first: requeue changes the task map */
    zlistx_t *mine = zlistx_new ();
    for (zs_bscan_t *s = (zs_bscan_t *) zlistx_first (self->running); s;
         s = (zs_bscan_t *) zlistx_next (self->running))
        for (zs_btask_t *t = zs_bscan_first_inflight (s); t;
             t = zs_bscan_next_inflight (s, t))
            if (t->lane && ((zs_blane_t *) t->lane)->worker == w)
                zlistx_add_end (mine, t);
    for (zs_btask_t *t = (zs_btask_t *) zlistx_first (mine); t;
         t = (zs_btask_t *) zlistx_next (mine)) {
        zs_info ("task %llu of scan %s: back to the queue (%s)",
                 (unsigned long long) t->id, t->scan->id, reason);
        s_task_requeue (self, t, reason, bump);
    }
    zlistx_destroy (&mine);
    /* drop its lanes: they come back with their next ready */
    zlistx_t *keys = zlistx_new ();
    for (zs_blane_t *l = (zs_blane_t *) zhashx_first (self->lanes); l;
         l = (zs_blane_t *) zhashx_next (self->lanes))
        if (l->worker == w)
            zlistx_add_end (keys, l->key);
    for (char *k = (char *) zlistx_first (keys); k;
         k = (char *) zlistx_next (keys))
        zhashx_delete (self->lanes, k);
    self->last_lane = NULL;
    zlistx_destroy (&keys);
}

/*  A hello or ready says which process of worker w sent it.  A new one
    retires the old process at once (its batches back to the queue, its
    lanes forgotten, to come back with fresh credit).  Returns false when
    the message is not from the current process and must be ignored. */
static bool s_worker_instance (zs_broker_t *self, zs_bworker_t *w,
                               const char *instance, bool may_switch)
{
    if (!instance || !*instance)
        return true; /* a peer that does not say: nothing to compare */
    if (!w->instance[0]) {
        snprintf (w->instance, sizeof w->instance, "%s", instance);
        return true;
    }
    if (strcmp (w->instance, instance) == 0)
        return true;
    if (!may_switch)
        return false;
    zs_warn ("worker %s restarted (process %s replaces %s): retiring the "
             "old one",
             w->id, instance, w->instance);
    s_worker_forget (self, w, "worker restarted", true);
    snprintf (w->instance, sizeof w->instance, "%s", instance);
    w->hello = false;
    return true;
}

/*  Looks up a task a report names and checks the report is plausible.
    Returns NULL (after logging a lie) when it is not ours to act on. */
static zs_btask_t *s_report_task (zs_broker_t *self, const char *what,
                                 const char *worker, const char *scan_id,
                                 uint64_t task_id, uint32_t attempt)
{
    zs_btask_t *t = (zs_btask_t *) zs_idmap_get (self->tasks_by_id, task_id);
    if (!t && strcmp (what, "task_started") != 0) {
        /* a batch of an ended scan let go: the last one makes it idle */
        char key[24];
        snprintf (key, sizeof key, "%llu", (unsigned long long) task_id);
        const char *id = (const char *) zhashx_lookup (self->letting_go, key);
        zs_bscan_t *ended = id ? (zs_bscan_t *) zhashx_lookup (self->scans,
                                                               id)
                               : NULL;
        if (ended && ended->stop_pending && --ended->stop_pending == 0) {
            ended->idle_us = zs_clock_us ();
            zs_debug ("scan %s: every worker let go %.3f ms after its end",
                      ended->id,
                      (double) (ended->idle_us - ended->finished_us) / 1e3);
        }
        else if (ended)
            zs_debug ("scan %s: task %llu let go by %s, %u to go",
                      ended->id, (unsigned long long) task_id, worker,
                      ended->stop_pending);
        if (id)
            zhashx_delete (self->letting_go, key);
    }
    if (!t) {
        if (task_id > self->next_task_id && zs_shared_may_complain (self))
            zs_warn ("worker %s: %s for task %llu that was never sent: "
                     "dropped",
                     worker, what, (unsigned long long) task_id);
        return NULL; /* finished or completed already: nothing to do */
    }
    zs_blane_t *lane = (zs_blane_t *) t->lane;
    if (strcmp (t->scan->id, scan_id) != 0 || t->attempt != attempt
        || !lane || strcmp (lane->worker->id, worker) != 0) {
        if (zs_shared_may_complain (self))
            zs_warn ("worker %s: %s for task %llu does not match what we "
                     "sent (scan %s attempt %u): dropped",
                     worker, what, (unsigned long long) task_id, scan_id,
                     attempt);
        return NULL;
    }
    return t;
}

static void s_on_task_done (zs_broker_t *self, const zs_task_done_t *m,
                            int64_t now)
{
    zs_btask_t *t = s_report_task (self, "task_done", m->worker, m->scan,
                                  m->task, m->attempt);
    if (!t)
        return;
    if (m->results && m->elapsed_us > 0)
        zs_bscan_observe_rate (t->scan, m->results, m->elapsed_us);
    if (m->returned) {
        s_task_requeue (self, t, "returned by the worker", false);
        return;
    }
    if (t->state == ZS_TASK_STARTED && t->scan->busy)
        t->scan->busy--;
    /* results still on their way (or lost): give them a grace period */
    t->state = ZS_TASK_DONE_WAIT;
    t->deadline_us = now + self->cfg.grace_ms * 1000;
    zs_blane_t *lane = (zs_blane_t *) t->lane;
    if (lane && lane->holding)
        lane->holding--;
    t->lane = NULL;
}

void zs_work_reports_recv (zs_broker_t *self)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, self->reports, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        return;
    }
    bool extra = zmq_msg_more (&msg);
    const void *data = zmq_msg_data (&msg);
    size_t size = zmq_msg_size (&msg);
    char err[256], peer[64];
    zs_msg_type_t type = ZS_MSG_UNKNOWN;
    int64_t now = zs_clock_us ();
    if (extra || zs_msg_peek (data, size, &type, err, sizeof err) != 0) {
        if (extra)
            snprintf (err, sizeof err, "a report must be one frame");
        zs_shared_peer (&msg, peer, sizeof peer);
        if (zs_shared_may_complain (self))
            zs_warn ("reports: bad message from %s: %s", peer, err);
        type = ZS_MSG_UNKNOWN;
    }
    int rc = 0;
    switch (type) {
    case ZS_MSG_HELLO: {
        zs_hello_t m = {0};
        if ((rc = zs_hello_decode (data, size, &m, err, sizeof err)) == 0
            && s_key_ok (self, m.worker, &msg)) {
            zs_bworker_t *w = s_worker_from (self, m.worker, &msg, now);
            if (w && s_worker_instance (self, w, m.instance, true)) {
                snprintf (w->host, sizeof w->host, "%s", m.host);
                w->pid = m.pid;
                w->threads = m.threads;
                free (w->data);
                w->data = m.data ? strdup (m.data) : NULL;
                if (!w->hello)
                    zs_info ("worker %s joined: host %s pid %u, %u lanes, "
                             "data %s",
                             m.worker, m.host, m.pid, m.threads,
                             m.data ? m.data : "-");
                w->hello = true;
            }
        }
        zs_msg_free (&m.mem_);
        break;
    }
    case ZS_MSG_HEARTBEAT: {
        zs_heartbeat_t m = {0};
        if ((rc = zs_heartbeat_decode (data, size, &m, err, sizeof err))
                == 0
            && s_key_ok (self, m.worker, &msg)) {
            /* a late heartbeat of a retired process keeps nobody alive */
            zs_bworker_t *w = (zs_bworker_t *) zhashx_lookup (self->workers,
                                                              m.worker);
            if (!w || s_worker_instance (self, w, m.instance, false))
                w = s_worker_from (self, m.worker, &msg, now);
            else
                w = NULL;
            if (w) {
                w->symbols = m.symbols;
                w->busy = m.busy;
            }
        }
        zs_msg_free (&m.mem_);
        break;
    }
    case ZS_MSG_TASK_STARTED: {
        zs_task_started_t m = {0};
        if ((rc = zs_task_started_decode (data, size, &m, err, sizeof err))
                == 0
            && s_key_ok (self, m.worker, &msg)) {
            s_worker_from (self, m.worker, &msg, now);
            zs_btask_t *t = s_report_task (self, "task_started", m.worker,
                                          m.scan, m.task, m.attempt);
            if (t && t->state == ZS_TASK_SENT) {
                t->state = ZS_TASK_STARTED;
                t->deadline_us = now + self->cfg.lease_ms * 1000;
                t->scan->busy++;
            }
        }
        zs_msg_free (&m.mem_);
        break;
    }
    case ZS_MSG_TASK_DONE: {
        zs_task_done_t m = {0};
        if ((rc = zs_task_done_decode (data, size, &m, err, sizeof err))
                == 0
            && s_key_ok (self, m.worker, &msg)) {
            s_worker_from (self, m.worker, &msg, now);
            s_on_task_done (self, &m, now);
        }
        zs_msg_free (&m.mem_);
        break;
    }
    case ZS_MSG_TASK_FAILED: {
        zs_task_failed_t m = {0};
        if ((rc = zs_task_failed_decode (data, size, &m, err, sizeof err))
                == 0
            && s_key_ok (self, m.worker, &msg)) {
            s_worker_from (self, m.worker, &msg, now);
            zs_btask_t *t = s_report_task (self, "task_failed", m.worker,
                                          m.scan, m.task, m.attempt);
            if (t) {
                zs_warn ("worker %s failed task %llu of scan %s: %s",
                         m.worker, (unsigned long long) m.task, m.scan,
                         m.reason);
                s_task_requeue (self, t, m.reason, true);
            }
        }
        zs_msg_free (&m.mem_);
        break;
    }
    case ZS_MSG_BYE: {
        zs_bye_t m = {0};
        if ((rc = zs_bye_decode (data, size, &m, err, sizeof err)) == 0
            && s_key_ok (self, m.worker, &msg)) {
            zs_bworker_t *w = (zs_bworker_t *) zhashx_lookup (self->workers,
                                                          m.worker);
            if (w) {
                zs_info ("worker %s left (%s)", m.worker,
                         m.reason ? m.reason : "bye");
                s_worker_forget (self, w, "worker left", false);
                zhashx_delete (self->workers, m.worker);
            }
        }
        zs_msg_free (&m.mem_);
        break;
    }
    case ZS_MSG_UNKNOWN:
        break;
    default:
        snprintf (err, sizeof err, "'%s' is not a report",
                  zs_msg_type_name (type));
        rc = -1;
        break;
    }
    if (rc != 0 && type != ZS_MSG_UNKNOWN) {
        zs_shared_peer (&msg, peer, sizeof peer);
        if (zs_shared_may_complain (self))
            zs_warn ("reports: bad %s from %s: %s", zs_msg_type_name (type),
                     peer, err);
    }
    zmq_msg_close (&msg);
    /* drain any extra frames of a malformed multi-frame message */
    while (extra) {
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, self->reports, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&msg);
            break;
        }
        extra = zmq_msg_more (&msg);
        zmq_msg_close (&msg);
    }
    zs_work_dispatch (self);
}

/* ---------------------------------------------------------------------- */
/*  tasks: ROUTER, lanes send "ready"                                      */

void zs_work_tasks_recv (zs_broker_t *self)
{
    zmq_msg_t frames[2];
    int nframes = 0;
    int more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, self->tasks, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&part);
            break;
        }
        more = zmq_msg_more (&part);
        if (nframes < 2) {
            zmq_msg_init (&frames[nframes]);
            zmq_msg_move (&frames[nframes], &part);
        }
        nframes++;
        zmq_msg_close (&part);
    }
    int kept = nframes < 2 ? nframes : 2;
    char err[256], peer[64];
    zs_ready_t m = {0};
    if (nframes != 2) {
        if (zs_shared_may_complain (self))
            zs_warn ("tasks: dropped a message of %d frames", nframes);
    }
    else if (zs_ready_decode (zmq_msg_data (&frames[1]),
                              zmq_msg_size (&frames[1]), &m, err, sizeof err)
             != 0) {
        zs_shared_peer (&frames[1], peer, sizeof peer);
        if (zs_shared_may_complain (self))
            zs_warn ("tasks: bad ready from %s: %s", peer, err);
    }
    else {
        char key[ZS_WORKER_ID_MAX + 16];
        snprintf (key, sizeof key, "%s/%u", m.worker, m.lane);
        size_t idlen = zmq_msg_size (&frames[0]);
        if (idlen != strlen (key)
            || memcmp (zmq_msg_data (&frames[0]), key, idlen) != 0) {
            if (zs_shared_may_complain (self))
                zs_warn ("tasks: lane %s must connect with routing id %s: "
                         "dropped",
                         key, key);
        }
        else if (s_key_ok (self, m.worker, &frames[1])) {
            int64_t now = zs_clock_us ();
            zs_bworker_t *w = s_worker_from (self, m.worker, &frames[1], now);
            if (w && !s_worker_instance (self, w, m.instance, true))
                w = NULL;
            zs_blane_t *lane = w ? (zs_blane_t *) zhashx_lookup (self->lanes,
                                                                 key)
                                 : NULL;
            bool ours = !m.broker || strcmp (m.broker, self->instance) == 0;
            if (w && !lane) {
                lane = (zs_blane_t *) calloc (1, sizeof *lane);
                if (lane) {
                    lane->key = strdup (key);
                    lane->worker = w;
                    lane->lane = m.lane;
                    lane->sent = ours ? m.taken : 0;
                    if (!lane->key) {
                        free (lane);
                        lane = NULL;
                    }
                    else
                        zhashx_insert (self->lanes, key, lane);
                }
            }
            if (lane) {
                lane->taken = ours ? m.taken : 0;
                if (lane->taken > lane->sent)
                    lane->sent = lane->taken;
                lane->want = m.want > 64 ? 64 : m.want;
                zs_debug ("ready from %s: taken %llu, want %u", lane->key,
                          (unsigned long long) lane->taken, lane->want);
                zs_work_dispatch (self);
            }
        }
        else {
            /* another key took this lane's routing id (ROUTER handover):
               nothing more goes there until its own worker's key asks */
            zs_blane_t *lane = (zs_blane_t *) zhashx_lookup (self->lanes,
                                                             key);
            if (lane)
                lane->want = 0;
        }
    }
    zs_msg_free (&m.mem_);
    for (int i = 0; i < kept; i++)
        zmq_msg_close (&frames[i]);
}


void zs_work_sweep (zs_broker_t *self, int64_t now)
{
    /* workers silent for their liveness interval are dead */
    zlistx_t *dead = zlistx_new ();
    for (zs_bworker_t *w = (zs_bworker_t *) zhashx_first (self->workers); w;
         w = (zs_bworker_t *) zhashx_next (self->workers))
        if (now - w->last_seen_us > self->cfg.liveness_ms * 1000)
            zlistx_add_end (dead, w);
    for (zs_bworker_t *w = (zs_bworker_t *) zlistx_first (dead); w;
         w = (zs_bworker_t *) zlistx_next (dead)) {
        zs_warn ("worker %s silent for %.1f s: dead", w->id,
                 (double) (now - w->last_seen_us) / 1e6);
        s_worker_forget (self, w, "worker died", true);
        zhashx_delete (self->workers, w->id);
    }
    zlistx_destroy (&dead);

    /* leases and grace periods */
    zlistx_t *expired = zlistx_new ();
    for (zs_bscan_t *s = (zs_bscan_t *) zlistx_first (self->running); s;
         s = (zs_bscan_t *) zlistx_next (self->running)) {
        if (s->state != ZS_BSCAN_RUNNING)
            continue;
        for (zs_btask_t *t = zs_bscan_first_inflight (s); t;
             t = zs_bscan_next_inflight (s, t))
            if (now >= t->deadline_us)
                zlistx_add_end (expired, t);
    }
    for (zs_btask_t *t = (zs_btask_t *) zlistx_first (expired); t;
         t = (zs_btask_t *) zlistx_next (expired)) {
        const char *why = t->state == ZS_TASK_SENT
                              ? "not started within its lease"
                          : t->state == ZS_TASK_STARTED
                              ? "not done within its lease"
                              : "results missing after done";
        zs_warn ("task %llu of scan %s (attempt %u, %u symbols): %s: "
                 "re-sending",
                 (unsigned long long) t->id, t->scan->id, t->attempt,
                 t->remaining, why);
        s_task_requeue (self, t, why, true);
    }
    zlistx_destroy (&expired);
}
