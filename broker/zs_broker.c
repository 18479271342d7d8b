/*  zs_broker.c - scans, credit-based dispatch, leases, liveness and the
    results forwarder.

    Shape (after the ZeroMQ guide's Majordomo broker): one struct, handlers
    grouped by socket, a loop that polls and dispatches, a sweep for timers.
    Nothing a peer sends is trusted: every frame is decoded strictly by
    proto/, checked against our own state, and dropped with one log line
    naming the peer when it does not fit.

    Bookkeeping per scan: the universe in priority order, one byte per
    symbol (delivered, signal), and the id of the task currently
    responsible for each symbol.  A task is complete once every symbol it
    lists has a delivered result - whichever attempt delivered it - so a
    re-sent batch only ever carries the symbols still missing, and a late
    duplicate is recognised by one byte.
*/
#include "zs_broker.h"
#include "zs_bscan.h"

#include "zs_engine.h"
#include "zs_idmap.h"
#include "zs_msg.h"
#include "zs_topic.h"
#include "zs_util.h"

#include <czmq.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

/* ---------------------------------------------------------------------- */
/*  Workers and lanes                                                      */

typedef struct s_worker_t s_worker_t;
typedef struct s_lane_t s_lane_t;

struct s_worker_t {
    char *id;              /* worker id from hello / ready                 */
    char host[ZS_WORKER_ID_MAX + 1];
    uint32_t pid;
    uint32_t threads;
    char *data;            /* its configured data source                   */
    int64_t last_seen_us;  /* any report or ready                          */
    uint64_t symbols;      /* symbols scanned, from heartbeats             */
    uint32_t busy;         /* lanes holding a task, from heartbeats        */
    bool hello;            /* we have its hello                            */
};

struct s_lane_t {
    char *key;             /* "<worker>/<lane>" = its routing id           */
    s_worker_t *worker;
    uint32_t lane;
    uint64_t sent;         /* tasks sent to this lane                      */
    uint64_t taken;        /* tasks it says it took                        */
    uint32_t want;         /* queued tasks it wants beyond those           */
    uint64_t last_wseq;    /* last result sequence seen from it            */
    uint32_t holding;      /* tasks sent or started, not yet finished      */
};

#define RATES_MAX 4096         /* definitions whose rate is remembered       */
#define BATCH_ROOM 8           /* header room before a batch's records       */
#define BATCH_RECORDS 1024     /* records in one XPUB message, at most       */
#define BATCH_BYTES 262144     /* bytes of records in one, at most           */

/* ---------------------------------------------------------------------- */
/*  Outgoing XPUB queue: used only while subscribers push back            */

typedef struct s_outmsg_t {
    zmq_msg_t frames[3];
    struct s_outmsg_t *next;
} s_outmsg_t;

/* ---------------------------------------------------------------------- */

struct zs_broker_t {
    zs_broker_config_t cfg;
    char instance[16];          /* new at every start                      */
    void *ctx;
    void *api;                  /* ROUTER                                  */
    void *tasks;                /* ROUTER (lanes' DEALERs)                 */
    void *reports;              /* PULL                                    */
    void *control;              /* PUB                                     */
    void *xsub;                 /* results in                              */
    void *xpub;                 /* results out                             */

    zhashx_t *sources;          /* uri -> zs_source_t*                     */
    zs_source_t *default_source;
    zhashx_t *liquidity;        /* "uri|symbol" -> double*                 */
    zhashx_t *history;          /* def key -> zhashx set of signal symbols */
    zhashx_t *rates;            /* def key -> double: us per symbol        */
    zhashx_t *subs;             /* XPUB prefixes subscribed                */
    char *ipc_dir;              /* where it bound Unix sockets, or NULL    */
    bool ipc_made_dir;          /* it made that directory                  */

    zhashx_t *scans;            /* id -> zs_bscan_t*                       */
    zlistx_t *running;          /* zs_bscan_t*, in round-robin order       */
    zlistx_t *finished;         /* zs_bscan_t*, oldest first               */
    zs_idmap_t *tasks_by_id;    /* task id -> zs_btask_t* (sent/started)    */
    zhashx_t *letting_go;       /* "task id" -> scan id, for batches of a
                                   scan that ended while a worker held them */
    uint64_t next_task_id;

    zhashx_t *workers;          /* id -> s_worker_t*                       */
    zhashx_t *lanes;            /* key -> s_lane_t*                        */

    /* the batches of result records being gathered for the XPUB, one
       per result topic (0: .r0, 1: .r1): records of one scan with
       consecutive seqs of that topic, sent as one message when full, when
       anything else is published, and before the broker waits for input */
    struct {
        char *data;             /* BATCH_ROOM bytes of header room first   */
        size_t size, cap;
        uint32_t count;
        const zs_bscan_t *scan;
        uint64_t seq;           /* of the first record                     */
        char topic[ZS_TOPIC_MAX];
        size_t last_size;       /* of the last one sent: the next's start  */
    } batch[2];
    s_outmsg_t *out_head;       /* XPUB messages waiting for room          */
    s_outmsg_t *out_tail;
    size_t out_len;

    /* reusable decode/encode space: nothing allocated once warm */
    zs_result_t result;
    s_lane_t *last_lane;        /* lane of the last result (a cache)       */
    zs_bscan_t *last_scan;      /* scan of the last result (a cache)       */
    zs_buf_t buf;
    zs_ptrs_t symptrs;          /* symbol pointers of the task being sent  */
    uint64_t hb_tick;
    int64_t next_hb_us;
    int64_t next_sweep_us;

    /* counters for logs */
    uint64_t in_msgs, in_records;    /* results messages from workers    */
    uint64_t out_msgs, out_records;  /* result batches to subscribers    */
    uint64_t dropped_dups;
    uint64_t dropped_late;
    uint64_t bad_messages;
    int64_t log_window_us;
    int log_budget;
};

/* ---------------------------------------------------------------------- */
/*  Rate-limited peer complaints: a flood of garbage must not flood logs  */

static bool s_may_complain (zs_broker_t *self)
{
    int64_t now = zs_clock_us ();
    if (now - self->log_window_us > 1000000) {
        self->log_window_us = now;
        self->log_budget = 20;
    }
    self->bad_messages++;
    return self->log_budget-- > 0;
}

static void s_peer_of (zmq_msg_t *msg, char *buf, size_t cap)
{
    const char *addr = zmq_msg_gets (msg, "Peer-Address");
    snprintf (buf, cap, "%s", addr ? addr : "?");
}

/* ---------------------------------------------------------------------- */
/*  Small helpers                                                          */

static void s_free_str (void **item)
{
    if (item && *item) {
        free (*item);
        *item = NULL;
    }
}

static void s_source_free (void **item)
{
    zs_source_t *src = (zs_source_t *) *item;
    zs_source_destroy (&src);
    *item = NULL;
}

static void s_set_free (void **item)
{
    zhashx_t *set = (zhashx_t *) *item;
    zhashx_destroy (&set);
    *item = NULL;
}

static void s_worker_free (void **item)
{
    s_worker_t *w = (s_worker_t *) *item;
    if (w) {
        free (w->id);
        free (w->data);
        free (w);
    }
    *item = NULL;
}

static void s_lane_free (void **item)
{
    s_lane_t *l = (s_lane_t *) *item;
    if (l) {
        free (l->key);
        free (l);
    }
    *item = NULL;
}

static void s_bscan_free (void **item)
{
    zs_bscan_t *scan = (zs_bscan_t *) *item;
    zs_bscan_destroy (&scan);
    *item = NULL;
}

/*  Returns the source for uri (NULL = the default), opening it once.
    NULL with a reason when it cannot be opened. */
static zs_source_t *s_source (zs_broker_t *self, const char *uri, char *err,
                              size_t errlen)
{
    if (!uri || !*uri)
        return self->default_source;
    zs_source_t *src = (zs_source_t *) zhashx_lookup (self->sources, uri);
    if (src)
        return src;
    /* the broker only computes liquidity: keep its bar cache small */
    src = zs_source_open (uri, 64u << 20, err, errlen);
    if (src)
        zhashx_insert (self->sources, uri, src);
    return src;
}

/* ---------------------------------------------------------------------- */
/*  Publishing on the XPUB, with back-pressure instead of loss            */

/*  Sends the three frames now, or returns -1 with errno EAGAIN (nothing
    sent: NODROP refuses at the first frame when a subscriber is full). */
static int s_send3 (zs_broker_t *self, zmq_msg_t *frames)
{
    if (zmq_msg_send (&frames[0], self->xpub, ZMQ_SNDMORE | ZMQ_DONTWAIT)
        < 0)
        return -1;
    /* once the first frame is in, the rest of the message always fits */
    zmq_msg_send (&frames[1], self->xpub, ZMQ_SNDMORE);
    zmq_msg_send (&frames[2], self->xpub, 0);
    return 0;
}

/*  Tries to send what waits in the queue; returns true when it is empty. */
static bool s_flush (zs_broker_t *self)
{
    while (self->out_head) {
        s_outmsg_t *m = self->out_head;
        if (s_send3 (self, m->frames) != 0)
            return false;
        self->out_head = m->next;
        if (!self->out_head)
            self->out_tail = NULL;
        self->out_len--;
        free (m);
    }
    return true;
}

/*  Publishes [topic, seq, body] (takes ownership of body).  Order is kept:
    while anything waits, new messages queue behind it. */
static void s_publish_now (zs_broker_t *self, const char *topic,
                           uint64_t seq, zmq_msg_t *body)
{
    zmq_msg_t frames[3];
    size_t tlen = strlen (topic);
    zmq_msg_init_size (&frames[0], tlen);
    memcpy (zmq_msg_data (&frames[0]), topic, tlen);
    unsigned char sbuf[16];
    size_t slen = zs_seq_encode (seq, sbuf);
    zmq_msg_init_size (&frames[1], slen);
    memcpy (zmq_msg_data (&frames[1]), sbuf, slen);
    zmq_msg_init (&frames[2]);
    zmq_msg_move (&frames[2], body);
    if (!self->out_head && s_send3 (self, frames) == 0)
        return;
    s_outmsg_t *m = (s_outmsg_t *) malloc (sizeof *m);
    if (!m) {
        zs_error ("out of memory queueing a message: dropped seq %llu",
                  (unsigned long long) seq);
        for (int i = 0; i < 3; i++)
            zmq_msg_close (&frames[i]);
        return;
    }
    for (int i = 0; i < 3; i++) {
        zmq_msg_init (&m->frames[i]);
        zmq_msg_move (&m->frames[i], &frames[i]);
    }
    m->next = NULL;
    if (self->out_tail)
        self->out_tail->next = m;
    else
        self->out_head = m;
    self->out_tail = m;
    self->out_len++;
}

static void s_batch_free (void *data, void *hint)
{
    (void) data;
    free (hint);
}

/*  Sends batch k, if it holds anything: one record as itself, several as
    an array.  The batch's memory goes with the message. */
static void s_batch_send (zs_broker_t *self, int k)
{
    if (!self->batch[k].count)
        return;
    char *base = self->batch[k].data;
    size_t from = BATCH_ROOM;
    if (self->batch[k].count > 1) {
        unsigned char head[8];
        size_t hlen = zs_recs_header (self->batch[k].count, head);
        from -= hlen;
        memcpy (base + from, head, hlen);
    }
    self->out_msgs++;
    self->out_records += self->batch[k].count;
    zmq_msg_t body;
    self->batch[k].last_size = self->batch[k].size;
    zmq_msg_init_data (&body, base + from, self->batch[k].size - from,
                       s_batch_free, base);
    self->batch[k].data = NULL;
    self->batch[k].size = self->batch[k].cap = 0;
    self->batch[k].count = 0;
    self->batch[k].scan = NULL;
    s_publish_now (self, self->batch[k].topic, self->batch[k].seq, &body);
}

/*  Sends both batches: the plain results first, so that a scan's cut - a
    signal, the last record added - is also the last result on the bus. */
static void s_batch_flush (zs_broker_t *self)
{
    s_batch_send (self, 0);
    s_batch_send (self, 1);
}

/*  Publishes anything but a result record: the batches go first. */
static void s_publish (zs_broker_t *self, const char *topic, uint64_t seq,
                       zmq_msg_t *body)
{
    s_batch_flush (self);
    s_publish_now (self, topic, seq, body);
}

/*  Adds one result record (the bytes of a result map) with its seq (of
    its topic). */
static void s_batch_add (zs_broker_t *self, const zs_bscan_t *scan,
                         bool signal, uint64_t seq, const void *rec,
                         size_t len)
{
    int k = signal ? 1 : 0;
    if (self->batch[k].count
        && (self->batch[k].scan != scan
            || self->batch[k].count >= BATCH_RECORDS
            || self->batch[k].size + len > BATCH_BYTES))
        s_batch_flush (self); /* both: a scan's records stay in order */
    if (!self->batch[k].count) {
        self->batch[k].scan = scan;
        self->batch[k].seq = seq;
        self->batch[k].size = BATCH_ROOM;
        zs_topic_result (self->batch[k].topic, sizeof self->batch[k].topic,
                         scan->id, signal);
    }
    if (self->batch[k].size + len > self->batch[k].cap) {
        /* a new batch starts with room for what the last one held (each
           batch's memory leaves with its message): no copies growing it */
        size_t cap = self->batch[k].cap ? self->batch[k].cap
                     : self->batch[k].last_size > BATCH_BYTES
                         ? BATCH_BYTES + BATCH_ROOM
                     : self->batch[k].last_size > BATCH_BYTES / 4
                         ? self->batch[k].last_size + 1024
                         : BATCH_BYTES / 4;
        while (cap < self->batch[k].size + len)
            cap *= 2;
        char *p = (char *) realloc (self->batch[k].data, cap);
        if (!p) {
            zs_error ("out of memory batching results: dropped seq %llu",
                      (unsigned long long) seq);
            return;
        }
        self->batch[k].data = p;
        self->batch[k].cap = cap;
    }
    memcpy (self->batch[k].data + self->batch[k].size, rec, len);
    self->batch[k].size += len;
    self->batch[k].count++;
}

static void s_publish_buf (zs_broker_t *self, const char *topic,
                           uint64_t seq, const zs_buf_t *buf)
{
    zmq_msg_t body;
    zmq_msg_init_size (&body, buf->size);
    memcpy (zmq_msg_data (&body), buf->data, buf->size);
    s_publish (self, topic, seq, &body);
}

/* ---------------------------------------------------------------------- */
/*  Lifecycle events                                                       */

static void s_event_started (zs_broker_t *self, zs_bscan_t *scan)
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
    char err[256], topic[ZS_TOPIC_MAX];
    zs_buf_reset (&self->buf);
    if (zs_ev_started_encode (&ev, &self->buf, err, sizeof err) != 0) {
        zs_error ("scan %s: cannot encode started: %s", scan->id, err);
        return;
    }
    zs_topic_build (topic, sizeof topic, scan->id, ZS_TOPIC_EVENT);
    s_publish_buf (self, topic, ++scan->seq, &self->buf);
}

static void s_event_progress (zs_broker_t *self, zs_bscan_t *scan,
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
    char err[256], topic[ZS_TOPIC_MAX];
    zs_buf_reset (&self->buf);
    if (zs_ev_progress_encode (&ev, &self->buf, err, sizeof err) != 0) {
        zs_error ("scan %s: cannot encode progress: %s", scan->id, err);
        return;
    }
    zs_topic_build (topic, sizeof topic, scan->id, ZS_TOPIC_EVENT);
    s_publish_buf (self, topic, ++scan->seq, &self->buf);
}

static void s_event_finished (zs_broker_t *self, zs_bscan_t *scan,
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
    char err[256], topic[ZS_TOPIC_MAX];
    zs_buf_reset (&self->buf);
    if (zs_ev_finished_encode (&ev, &self->buf, err, sizeof err) != 0) {
        zs_error ("scan %s: cannot encode finished: %s", scan->id, err);
        return;
    }
    zs_topic_build (topic, sizeof topic, scan->id, ZS_TOPIC_EVENT);
    s_publish_buf (self, topic, ++scan->seq, &self->buf);
}

/* ---------------------------------------------------------------------- */
/*  Tasks                                                                  */

/*  Forgets a task that is no longer in flight: its lane holds one less. */
static void s_task_release (zs_broker_t *self, zs_btask_t *task)
{
    zs_idmap_remove (self->tasks_by_id, task->id);
    s_lane_t *lane = (s_lane_t *) task->lane;
    if (lane && lane->holding)
        lane->holding--;
    if (task->state == ZS_TASK_STARTED && task->scan->busy)
        task->scan->busy--;
    task->lane = NULL;
}

static void s_scan_finish (zs_broker_t *self, zs_bscan_t *scan,
                           zs_end_reason_t reason);

/*  Delivers one result record of scan: sequence it, publish it, count it,
    apply the cut.  body is consumed. */
static void s_deliver (zs_broker_t *self, zs_bscan_t *scan, uint32_t index,
                       bool signal, bool failed, const void *rec, size_t len)
{
    zs_btask_t *owner = zs_bscan_mark (scan, index, signal, failed);
    s_batch_add (self, scan, signal,
                 signal ? ++scan->seq_r1 : ++scan->seq_r0, rec, len);
    if (owner && owner->remaining == 0) {
        s_task_release (self, owner);
        zs_bscan_task_free (scan, owner);
    }
    if (scan->max_signals && scan->signals >= scan->max_signals)
        s_scan_finish (self, scan, ZS_END_MAX_SIGNALS);
    else if (scan->max_symbols && scan->done >= scan->max_symbols)
        s_scan_finish (self, scan, ZS_END_MAX_SYMBOLS);
    else if (scan->done >= scan->total)
        s_scan_finish (self, scan, ZS_END_COMPLETED);
}

/*  The broker's own result for a symbol that could not be scanned. */
static void s_deliver_failure (zs_broker_t *self, zs_bscan_t *scan,
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

/*  Puts a task back at the front of its scan's queue with only its
    missing symbols, or - past max attempts - fails those symbols.  bump
    says whether this counts as an attempt (a returned batch does not). */
static void s_task_requeue (zs_broker_t *self, zs_btask_t *task,
                            const char *reason, bool bump)
{
    zs_bscan_t *scan = task->scan;
    s_task_release (self, task);
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
                s_deliver_failure (self, scan, idx[i], why);
        free (idx);
        return;
    }
    if (bump)
        task->attempt++;
    zs_bscan_requeue_front (scan, task);
}

/*  Sends task to lane; returns 0, or -1 when the lane is unreachable
    (the task stays with the caller). */
static int s_task_send (zs_broker_t *self, s_lane_t *lane, zs_btask_t *task,
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
    task->sent_us = now;
    task->deadline_us = now + self->cfg.start_lease_ms * 1000;
    lane->sent++;
    lane->holding++;
    zs_idmap_put (self->tasks_by_id, task->id, task);
    return 0;
}

/*  The lane with room for another task that holds the least, or NULL. */
static s_lane_t *s_pick_lane (zs_broker_t *self, int64_t now)
{
    s_lane_t *best = NULL;
    int64_t dead_before = now - self->cfg.liveness_ms * 1000;
    for (s_lane_t *l = (s_lane_t *) zhashx_first (self->lanes); l;
         l = (s_lane_t *) zhashx_next (self->lanes)) {
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
static void s_dispatch (zs_broker_t *self)
{
    int64_t now = zs_clock_us ();
    size_t nlanes = zhashx_size (self->lanes);
    while (zlistx_size (self->running) > 0) {
        s_lane_t *lane = s_pick_lane (self, now);
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
        zs_btask_t *task = zs_bscan_next_task (
            scan, ++self->next_task_id, nlanes, self->cfg.batch_ms,
            (uint32_t) self->cfg.batch_min, (uint32_t) self->cfg.batch_max);
        if (!task)
            return;
        if (s_task_send (self, lane, task, now) != 0) {
            zs_warn ("lane %s unreachable: dropping it", lane->key);
            zs_bscan_requeue_front (scan, task);
            zhashx_delete (self->lanes, lane->key);
            self->last_lane = NULL;
        }
    }
}

/* ---------------------------------------------------------------------- */
/*  Scans                                                                  */

/*  Ends scan with reason (first reason wins): drops its queue, cancels
    its batches on every worker, publishes finished. */
static void s_scan_finish (zs_broker_t *self, zs_bscan_t *scan,
                           zs_end_reason_t reason)
{
    if (scan->state == ZS_BSCAN_FINISHED)
        return;
    int64_t now = zs_clock_us ();
    bool was_running = scan->state == ZS_BSCAN_RUNNING;
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
        s_task_release (self, t);
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
        s_event_started (self, scan); /* held scans still get a start */
    s_event_finished (self, scan, now);
    zs_info ("scan %s finished: %s, %llu/%llu results, %llu signals, "
             "%llu failed, %.3f s",
             scan->id, zs_end_reason_name (reason),
             (unsigned long long) scan->done,
             (unsigned long long) scan->total,
             (unsigned long long) scan->signals,
             (unsigned long long) scan->failed,
             (double) (now - scan->created_us) / 1e6);
    /* remember its signals for "signals first" priority */
    zhashx_t *set = zs_bscan_signal_set (scan);
    if (set) {
        zhashx_update (self->history, scan->def_key, set);
    }
    /* and its rate, so the next such scan cuts full batches at once */
    if (scan->us_per_symbol > 0 && scan->sum_results > 0) {
        double *rate = (double *) malloc (sizeof *rate);
        if (rate) {
            *rate = scan->us_per_symbol;
            if (zhashx_size (self->rates) >= RATES_MAX)
                zhashx_purge (self->rates);
            zhashx_update (self->rates, scan->def_key, rate);
        }
    }
    zs_bscan_release_arrays (scan);
    void *cursor = zlistx_find (self->running, scan);
    if (cursor)
        zlistx_detach (self->running, cursor);
    zlistx_add_end (self->finished, scan);
    while ((int64_t) zlistx_size (self->finished) > self->cfg.keep_finished) {
        zs_bscan_t *old = (zs_bscan_t *) zlistx_detach (self->finished, NULL);
        if (old)
            zhashx_delete (self->scans, old->id);
        self->last_scan = NULL;
    }
}

static void s_scan_go (zs_broker_t *self, zs_bscan_t *scan)
{
    scan->state = ZS_BSCAN_RUNNING;
    s_event_started (self, scan);
    zs_info ("scan %s started: %llu symbols (%.2f ms after its request)",
             scan->id, (unsigned long long) scan->total,
             (double) (zs_clock_us () - scan->created_us) / 1e3);
    s_dispatch (self);
}

/* ---------------------------------------------------------------------- */
/*  api: ROUTER                                                            */

typedef struct {
    zmq_msg_t id;
    bool delimiter;          /* REQ-style empty frame present              */
} s_envelope_t;

static void s_api_reply (zs_broker_t *self, s_envelope_t *env,
                         const zs_buf_t *buf)
{
    zmq_msg_t id;
    zmq_msg_init (&id);
    zmq_msg_copy (&id, &env->id);
    if (zmq_msg_send (&id, self->api, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&id);
        return;
    }
    if (env->delimiter)
        zmq_send (self->api, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (self->api, buf->data, buf->size, ZMQ_DONTWAIT);
}

static void s_api_error (zs_broker_t *self, s_envelope_t *env, uint64_t req,
                         uint32_t code, const char *message)
{
    zs_error_t e = {0};
    e.req = req;
    e.code = code;
    e.message = message;
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_error_encode (&e, &self->buf, err, sizeof err) != 0) {
        /* the message itself was unencodable (too long): say less */
        e.message = "error";
        zs_buf_reset (&self->buf);
        if (zs_error_encode (&e, &self->buf, err, sizeof err) != 0)
            return;
    }
    s_api_reply (self, env, &self->buf);
}

static void s_api_start (zs_broker_t *self, s_envelope_t *env,
                         const void *data, size_t size)
{
    zs_scan_start_t req = {0};
    char err[ZS_TEXT_MAX];
    if (zs_scan_start_decode (data, size, &req, err, sizeof err) != 0) {
        s_api_error (self, env, 0, ZS_ERR_BAD_REQUEST, err);
        zs_msg_free (&req.mem_);
        return;
    }
    char idbuf[ZS_ID_MAX + 1];
    const char *id = req.scan;
    if (!id) {
        idbuf[0] = 's';
        zs_random_id (idbuf + 1, 11);
        id = idbuf;
    }
    if (zhashx_lookup (self->scans, id)) {
        snprintf (err, sizeof err, "scan id '%s' is already in use", id);
        s_api_error (self, env, req.req, ZS_ERR_CONFLICT, err);
        zs_msg_free (&req.mem_);
        return;
    }
    if ((int64_t) zlistx_size (self->running) >= self->cfg.max_scans) {
        snprintf (err, sizeof err, "too many running scans (%lld); stop one "
                                   "or wait",
                  (long long) self->cfg.max_scans);
        s_api_error (self, env, req.req, ZS_ERR_BUSY, err);
        zs_msg_free (&req.mem_);
        return;
    }
    char serr[512];
    zs_source_t *source = s_source (self, req.def.data, serr, sizeof serr);
    if (!source) {
        snprintf (err, sizeof err, "data source: %s", serr);
        s_api_error (self, env, req.req, ZS_ERR_UNPROCESSABLE, err);
        zs_msg_free (&req.mem_);
        return;
    }
    zs_bscan_params_t p = {0};
    p.id = id;
    p.req = &req;
    p.default_universe = self->cfg.universe;
    p.source = source;
    p.liquidity = self->liquidity;
    p.history = self->history;
    zs_bscan_t *scan = zs_bscan_new (&p, err, sizeof err);
    if (!scan) {
        s_api_error (self, env, req.req, ZS_ERR_UNPROCESSABLE, err);
        zs_msg_free (&req.mem_);
        return;
    }
    double *rate = (double *) zhashx_lookup (self->rates, scan->def_key);
    if (rate)
        zs_bscan_set_prior (scan, *rate);
    zhashx_insert (self->scans, scan->id, scan);
    zlistx_add_end (self->running, scan);

    zs_scan_started_t rep = {0};
    rep.req = req.req;
    rep.scan = scan->id;
    rep.total = scan->total;
    rep.seq = 1;
    zs_buf_reset (&self->buf);
    if (zs_scan_started_encode (&rep, &self->buf, err, sizeof err) == 0)
        s_api_reply (self, env, &self->buf);

    char prefix[ZS_TOPIC_MAX];
    zs_topic_prefix_scan (prefix, sizeof prefix, scan->id);
    if (req.sync && !zhashx_lookup (self->subs, prefix)) {
        scan->state = ZS_BSCAN_WAITING;
        scan->hold_until_us = zs_clock_us () + self->cfg.sync_wait_ms * 1000;
    }
    else
        s_scan_go (self, scan);
    zs_msg_free (&req.mem_);
}

static void s_api_info_reply (zs_broker_t *self, s_envelope_t *env,
                              uint64_t req, zs_bscan_t *scan)
{
    zs_scan_info_msg_t rep = {0};
    rep.req = req;
    zs_bscan_info (scan, zs_clock_us (), &rep.info);
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_scan_info_msg_encode (&rep, &self->buf, err, sizeof err) == 0)
        s_api_reply (self, env, &self->buf);
    else
        s_api_error (self, env, req, ZS_ERR_INTERNAL, err);
}

static void s_api_stop (zs_broker_t *self, s_envelope_t *env,
                        const void *data, size_t size)
{
    zs_scan_stop_t req = {0};
    char err[ZS_TEXT_MAX];
    if (zs_scan_stop_decode (data, size, &req, err, sizeof err) != 0) {
        s_api_error (self, env, 0, ZS_ERR_BAD_REQUEST, err);
        zs_msg_free (&req.mem_);
        return;
    }
    zs_bscan_t *scan = (zs_bscan_t *) zhashx_lookup (self->scans, req.scan);
    if (!scan) {
        snprintf (err, sizeof err, "unknown scan '%s'", req.scan);
        s_api_error (self, env, req.req, ZS_ERR_NOT_FOUND, err);
        zs_msg_free (&req.mem_);
        return;
    }
    zs_end_reason_t reason = req.reason == ZS_END_NONE
                                     || req.reason == ZS_END_COMPLETED
                                 ? ZS_END_STOPPED
                                 : req.reason;
    s_scan_finish (self, scan, reason);
    zs_scan_stopped_t rep = {0};
    rep.req = req.req;
    rep.scan = scan->id;
    rep.state = ZS_STATE_FINISHED;
    rep.reason = scan->reason;
    zs_buf_reset (&self->buf);
    if (zs_scan_stopped_encode (&rep, &self->buf, err, sizeof err) == 0)
        s_api_reply (self, env, &self->buf);
    zs_msg_free (&req.mem_);
}

static void s_api_status (zs_broker_t *self, s_envelope_t *env,
                          const void *data, size_t size)
{
    zs_scan_status_t req = {0};
    char err[ZS_TEXT_MAX];
    if (zs_scan_status_decode (data, size, &req, err, sizeof err) != 0) {
        s_api_error (self, env, 0, ZS_ERR_BAD_REQUEST, err);
        zs_msg_free (&req.mem_);
        return;
    }
    zs_bscan_t *scan = (zs_bscan_t *) zhashx_lookup (self->scans, req.scan);
    if (!scan) {
        snprintf (err, sizeof err, "unknown scan '%s'", req.scan);
        s_api_error (self, env, req.req, ZS_ERR_NOT_FOUND, err);
    }
    else
        s_api_info_reply (self, env, req.req, scan);
    zs_msg_free (&req.mem_);
}

static void s_api_list (zs_broker_t *self, s_envelope_t *env,
                        const void *data, size_t size)
{
    zs_scan_list_t req = {0};
    char err[ZS_TEXT_MAX];
    if (zs_scan_list_decode (data, size, &req, err, sizeof err) != 0) {
        s_api_error (self, env, 0, ZS_ERR_BAD_REQUEST, err);
        zs_msg_free (&req.mem_);
        return;
    }
    size_t cap = zlistx_size (self->running)
                 + (req.all ? zlistx_size (self->finished) : 0);
    if (cap > ZS_LIST_MAX)
        cap = ZS_LIST_MAX;
    zs_scans_t rep = {0};
    rep.req = req.req;
    rep.scans = (zs_scan_info_t *) calloc (cap ? cap : 1,
                                           sizeof (zs_scan_info_t));
    if (!rep.scans) {
        s_api_error (self, env, req.req, ZS_ERR_INTERNAL, "out of memory");
        zs_msg_free (&req.mem_);
        return;
    }
    int64_t now = zs_clock_us ();
    zlistx_t *lists[2] = {self->running, req.all ? self->finished : NULL};
    for (int k = 0; k < 2; k++) {
        if (!lists[k])
            continue;
        for (zs_bscan_t *s = (zs_bscan_t *) zlistx_first (lists[k]);
             s && rep.nscans < cap; s = (zs_bscan_t *) zlistx_next (lists[k]))
            zs_bscan_info (s, now, &rep.scans[rep.nscans++]);
    }
    zs_buf_reset (&self->buf);
    if (zs_scans_encode (&rep, &self->buf, err, sizeof err) == 0)
        s_api_reply (self, env, &self->buf);
    else
        s_api_error (self, env, req.req, ZS_ERR_INTERNAL, err);
    free (rep.scans);
    zs_msg_free (&req.mem_);
}

static void s_api_workers (zs_broker_t *self, s_envelope_t *env,
                           const void *data, size_t size)
{
    zs_worker_list_t req = {0};
    char err[ZS_TEXT_MAX];
    if (zs_worker_list_decode (data, size, &req, err, sizeof err) != 0) {
        s_api_error (self, env, 0, ZS_ERR_BAD_REQUEST, err);
        zs_msg_free (&req.mem_);
        return;
    }
    size_t cap = zhashx_size (self->workers);
    if (cap > ZS_LIST_MAX)
        cap = ZS_LIST_MAX;
    zs_workers_t rep = {0};
    rep.req = req.req;
    rep.workers = (zs_worker_info_t *) calloc (cap ? cap : 1,
                                               sizeof (zs_worker_info_t));
    if (!rep.workers) {
        s_api_error (self, env, req.req, ZS_ERR_INTERNAL, "out of memory");
        zs_msg_free (&req.mem_);
        return;
    }
    int64_t now = zs_clock_us ();
    for (s_worker_t *w = (s_worker_t *) zhashx_first (self->workers);
         w && rep.nworkers < cap;
         w = (s_worker_t *) zhashx_next (self->workers)) {
        zs_worker_info_t *i = &rep.workers[rep.nworkers++];
        i->worker = w->id;
        i->host = w->host[0] ? w->host : "?";
        i->data = w->data;
        i->pid = w->pid;
        i->threads = w->threads;
        i->busy = w->busy;
        i->symbols = w->symbols;
        i->silent_ms = (double) (now - w->last_seen_us) / 1e3;
    }
    /* count lanes per worker (zhashx iteration is not reentrant) */
    for (s_lane_t *l = (s_lane_t *) zhashx_first (self->lanes); l;
         l = (s_lane_t *) zhashx_next (self->lanes))
        for (size_t k = 0; k < rep.nworkers; k++)
            if (rep.workers[k].worker == l->worker->id)
                rep.workers[k].lanes++;
    zs_buf_reset (&self->buf);
    if (zs_workers_encode (&rep, &self->buf, err, sizeof err) == 0)
        s_api_reply (self, env, &self->buf);
    else
        s_api_error (self, env, req.req, ZS_ERR_INTERNAL, err);
    free (rep.workers);
    zs_msg_free (&req.mem_);
}

/*  Reads one request: [id, (empty), body]; anything else is dropped. */
static void s_api_recv (zs_broker_t *self)
{
    zmq_msg_t frames[4];
    int nframes = 0;
    int more = 1;
    bool overflow = false;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, self->api, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&part);
            break;
        }
        more = zmq_msg_more (&part);
        if (nframes < 4) {
            zmq_msg_init (&frames[nframes]);
            zmq_msg_move (&frames[nframes], &part);
            nframes++;
        }
        else
            overflow = true;
        zmq_msg_close (&part);
    }
    s_envelope_t env;
    zmq_msg_init (&env.id);
    env.delimiter = false;
    zmq_msg_t *body = NULL;
    if (nframes == 2 && !overflow)
        body = &frames[1];
    else if (nframes == 3 && !overflow && zmq_msg_size (&frames[1]) == 0) {
        env.delimiter = true;
        body = &frames[2];
    }
    if (nframes >= 1)
        zmq_msg_copy (&env.id, &frames[0]);
    if (!body) {
        if (s_may_complain (self))
            zs_warn ("api: dropped a request of %d frames (want id, body)",
                     nframes);
    }
    else {
        const void *data = zmq_msg_data (body);
        size_t size = zmq_msg_size (body);
        zs_msg_type_t type;
        char err[256];
        if (zs_msg_peek (data, size, &type, err, sizeof err) != 0) {
            char peer[64];
            s_peer_of (body, peer, sizeof peer);
            if (s_may_complain (self))
                zs_warn ("api: bad request from %s: %s", peer, err);
            s_api_error (self, &env, 0,
                         strstr (err, "version") ? ZS_ERR_VERSION
                                                 : ZS_ERR_BAD_REQUEST,
                         err);
        }
        else if (type == ZS_MSG_SCAN_START)
            s_api_start (self, &env, data, size);
        else if (type == ZS_MSG_SCAN_STOP)
            s_api_stop (self, &env, data, size);
        else if (type == ZS_MSG_SCAN_STATUS)
            s_api_status (self, &env, data, size);
        else if (type == ZS_MSG_SCAN_LIST)
            s_api_list (self, &env, data, size);
        else if (type == ZS_MSG_WORKER_LIST)
            s_api_workers (self, &env, data, size);
        else {
            snprintf (err, sizeof err, "'%s' is not a request",
                      zs_msg_type_name (type));
            s_api_error (self, &env, 0, ZS_ERR_BAD_REQUEST, err);
        }
    }
    zmq_msg_close (&env.id);
    for (int i = 0; i < nframes; i++)
        zmq_msg_close (&frames[i]);
}

/* ---------------------------------------------------------------------- */
/*  Workers: hello, heartbeat, reports                                     */

static s_worker_t *s_worker_touch (zs_broker_t *self, const char *id,
                                   int64_t now)
{
    s_worker_t *w = (s_worker_t *) zhashx_lookup (self->workers, id);
    if (!w) {
        w = (s_worker_t *) calloc (1, sizeof *w);
        if (!w)
            return NULL;
        w->id = strdup (id);
        if (!w->id) {
            free (w);
            return NULL;
        }
        zhashx_insert (self->workers, id, w);
    }
    else if (w->last_seen_us
             && now - w->last_seen_us > self->cfg.liveness_ms * 1000)
        zs_info ("worker %s is back after %.1f s of silence", id,
                 (double) (now - w->last_seen_us) / 1e6);
    w->last_seen_us = now;
    return w;
}

/*  Every task the worker's lanes hold goes back to the front of its
    queue (a dead worker; a worker that said bye). */
static void s_worker_forget (zs_broker_t *self, s_worker_t *w,
                             const char *reason, bool bump)
{
    /* collect first: requeue changes the task map */
    zlistx_t *mine = zlistx_new ();
    for (zs_bscan_t *s = (zs_bscan_t *) zlistx_first (self->running); s;
         s = (zs_bscan_t *) zlistx_next (self->running))
        for (zs_btask_t *t = zs_bscan_first_inflight (s); t;
             t = zs_bscan_next_inflight (s, t))
            if (t->lane && ((s_lane_t *) t->lane)->worker == w)
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
    for (s_lane_t *l = (s_lane_t *) zhashx_first (self->lanes); l;
         l = (s_lane_t *) zhashx_next (self->lanes))
        if (l->worker == w)
            zlistx_add_end (keys, l->key);
    for (char *k = (char *) zlistx_first (keys); k;
         k = (char *) zlistx_next (keys))
        zhashx_delete (self->lanes, k);
    self->last_lane = NULL;
    zlistx_destroy (&keys);
}

static s_lane_t *s_lane_find (zs_broker_t *self, const char *worker,
                              uint32_t lane)
{
    char key[ZS_WORKER_ID_MAX + 16];
    snprintf (key, sizeof key, "%s/%u", worker, lane);
    return (s_lane_t *) zhashx_lookup (self->lanes, key);
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
        if (task_id > self->next_task_id && s_may_complain (self))
            zs_warn ("worker %s: %s for task %llu that was never sent: "
                     "dropped",
                     worker, what, (unsigned long long) task_id);
        return NULL; /* finished or completed already: nothing to do */
    }
    s_lane_t *lane = (s_lane_t *) t->lane;
    if (strcmp (t->scan->id, scan_id) != 0 || t->attempt != attempt
        || !lane || strcmp (lane->worker->id, worker) != 0) {
        if (s_may_complain (self))
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
    s_lane_t *lane = (s_lane_t *) t->lane;
    if (lane && lane->holding)
        lane->holding--;
    t->lane = NULL;
}

static void s_reports_recv (zs_broker_t *self)
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
        s_peer_of (&msg, peer, sizeof peer);
        if (s_may_complain (self))
            zs_warn ("reports: bad message from %s: %s", peer, err);
        type = ZS_MSG_UNKNOWN;
    }
    int rc = 0;
    switch (type) {
    case ZS_MSG_HELLO: {
        zs_hello_t m = {0};
        if ((rc = zs_hello_decode (data, size, &m, err, sizeof err)) == 0) {
            s_worker_t *w = s_worker_touch (self, m.worker, now);
            if (w) {
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
            == 0) {
            s_worker_t *w = s_worker_touch (self, m.worker, now);
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
            == 0) {
            s_worker_touch (self, m.worker, now);
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
            == 0) {
            s_worker_touch (self, m.worker, now);
            s_on_task_done (self, &m, now);
        }
        zs_msg_free (&m.mem_);
        break;
    }
    case ZS_MSG_TASK_FAILED: {
        zs_task_failed_t m = {0};
        if ((rc = zs_task_failed_decode (data, size, &m, err, sizeof err))
            == 0) {
            s_worker_touch (self, m.worker, now);
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
        if ((rc = zs_bye_decode (data, size, &m, err, sizeof err)) == 0) {
            s_worker_t *w = (s_worker_t *) zhashx_lookup (self->workers,
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
        s_peer_of (&msg, peer, sizeof peer);
        if (s_may_complain (self))
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
    s_dispatch (self);
}

/* ---------------------------------------------------------------------- */
/*  tasks: ROUTER, lanes send "ready"                                      */

static void s_tasks_recv (zs_broker_t *self)
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
        if (s_may_complain (self))
            zs_warn ("tasks: dropped a message of %d frames", nframes);
    }
    else if (zs_ready_decode (zmq_msg_data (&frames[1]),
                              zmq_msg_size (&frames[1]), &m, err, sizeof err)
             != 0) {
        s_peer_of (&frames[1], peer, sizeof peer);
        if (s_may_complain (self))
            zs_warn ("tasks: bad ready from %s: %s", peer, err);
    }
    else {
        char key[ZS_WORKER_ID_MAX + 16];
        snprintf (key, sizeof key, "%s/%u", m.worker, m.lane);
        size_t idlen = zmq_msg_size (&frames[0]);
        if (idlen != strlen (key)
            || memcmp (zmq_msg_data (&frames[0]), key, idlen) != 0) {
            if (s_may_complain (self))
                zs_warn ("tasks: lane %s must connect with routing id %s: "
                         "dropped",
                         key, key);
        }
        else {
            int64_t now = zs_clock_us ();
            s_worker_t *w = s_worker_touch (self, m.worker, now);
            s_lane_t *lane = (s_lane_t *) zhashx_lookup (self->lanes, key);
            bool ours = !m.broker || strcmp (m.broker, self->instance) == 0;
            if (w && !lane) {
                lane = (s_lane_t *) calloc (1, sizeof *lane);
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
                s_dispatch (self);
            }
        }
    }
    zs_msg_free (&m.mem_);
    for (int i = 0; i < kept; i++)
        zmq_msg_close (&frames[i]);
}

/* ---------------------------------------------------------------------- */
/*  results in: XSUB                                                       */

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
    s_lane_t *lane = self->last_lane;
    if (!lane || lane->lane != r->lane || strcmp (lane->worker->id, r->worker))
        lane = self->last_lane = s_lane_find (self, r->worker, r->lane);
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
        s_peer_of (frame, peer, sizeof peer);
        if (s_may_complain (self))
            zs_warn ("results: %s from %s claims index %u of scan %s: not "
                     "ours, dropped",
                     r->symbol, peer, r->index, r->scan);
        return;
    }
    if (zs_bscan_delivered (scan, r->index)) {
        self->dropped_dups++;
        return;
    }
    s_deliver (self, scan, r->index, r->signal && !r->error,
               r->error != NULL, rec, len);
}

/*  Reads one message [topic, body, body...] from a worker lane, each body
    a result or a batch of results, and forwards each result.  The topic
    only names the batch; every forwarded record's topic is derived from
    its body. */
static bool s_results_recv (zs_broker_t *self)
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
        s_peer_of (&part, peer, sizeof peer);
        if (s_may_complain (self))
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
                s_peer_of (&body, peer, sizeof peer);
                if (s_may_complain (self))
                    zs_warn ("results: bad result from %s: %s", peer, err);
                continue;
            }
            s_result_rec (self, rec, len, &body);
        }
        if (rc < 0) {
            s_peer_of (&body, peer, sizeof peer);
            if (s_may_complain (self))
                zs_warn ("results: bad batch from %s: %s", peer, err);
        }
        zmq_msg_close (&body);
    }
    return true;
}

/*  XPUB subscriptions: remembered so a "sync" start can wait for its
    subscriber (the slow-joiner problem). */
static void s_subs_recv (zs_broker_t *self)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, self->xpub, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        return;
    }
    const unsigned char *d = (const unsigned char *) zmq_msg_data (&msg);
    size_t n = zmq_msg_size (&msg);
    if (n >= 1 && n - 1 < ZS_TOPIC_MAX && (d[0] == 0 || d[0] == 1)) {
        char prefix[ZS_TOPIC_MAX + 1];
        memcpy (prefix, d + 1, n - 1);
        prefix[n - 1] = 0;
        if (d[0] == 1) {
            if (!zhashx_lookup (self->subs, prefix))
                zhashx_insert (self->subs, prefix, (void *) 1);
            /* a held scan waiting for exactly this subscriber */
            size_t plen = strlen (prefix);
            if (plen > 1 && prefix[plen - 1] == '.') {
                prefix[plen - 1] = 0;
                zs_bscan_t *scan = (zs_bscan_t *) zhashx_lookup (self->scans,
                                                                 prefix);
                if (scan && scan->state == ZS_BSCAN_WAITING)
                    s_scan_go (self, scan);
            }
        }
        else
            zhashx_delete (self->subs, prefix);
    }
    zmq_msg_close (&msg);
}

/* ---------------------------------------------------------------------- */
/*  Timers                                                                 */

static void s_heartbeat (zs_broker_t *self)
{
    zs_broker_hb_t hb = {0};
    hb.broker = self->instance;
    hb.tick = ++self->hb_tick;
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_broker_hb_encode (&hb, &self->buf, err, sizeof err) != 0)
        return;
    zmq_send (self->control, ZS_CTL_HB, strlen (ZS_CTL_HB), ZMQ_SNDMORE);
    zmq_send (self->control, self->buf.data, self->buf.size, 0);
}

static void s_sweep (zs_broker_t *self, int64_t now)
{
    /* workers silent for their liveness interval are dead */
    zlistx_t *dead = zlistx_new ();
    for (s_worker_t *w = (s_worker_t *) zhashx_first (self->workers); w;
         w = (s_worker_t *) zhashx_next (self->workers))
        if (now - w->last_seen_us > self->cfg.liveness_ms * 1000)
            zlistx_add_end (dead, w);
    for (s_worker_t *w = (s_worker_t *) zlistx_first (dead); w;
         w = (s_worker_t *) zlistx_next (dead)) {
        zs_warn ("worker %s silent for %.1f s: dead", w->id,
                 (double) (now - w->last_seen_us) / 1e6);
        s_worker_forget (self, w, "worker died", true);
        zhashx_delete (self->workers, w->id);
    }
    zlistx_destroy (&dead);

    /* leases, grace periods, timeouts, held scans, progress */
    zlistx_t *expired = zlistx_new ();
    zlistx_t *ending = zlistx_new ();
    for (zs_bscan_t *s = (zs_bscan_t *) zlistx_first (self->running); s;
         s = (zs_bscan_t *) zlistx_next (self->running)) {
        if (s->state == ZS_BSCAN_WAITING) {
            if (now >= s->hold_until_us) {
                zs_warn ("scan %s: no subscriber after %lld ms: starting "
                         "anyway",
                         s->id, (long long) self->cfg.sync_wait_ms);
                zlistx_add_end (ending, s); /* started below */
            }
            continue;
        }
        if (s->timeout_seconds > 0
            && now - s->created_us >= (int64_t) (s->timeout_seconds * 1e6)) {
            zlistx_add_end (ending, s);
            continue;
        }
        for (zs_btask_t *t = zs_bscan_first_inflight (s); t;
             t = zs_bscan_next_inflight (s, t))
            if (now >= t->deadline_us)
                zlistx_add_end (expired, t);
        if (now - s->last_progress_us >= self->cfg.progress_ms * 1000) {
            s->last_progress_us = now;
            s_event_progress (self, s, now);
        }
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
    for (zs_bscan_t *s = (zs_bscan_t *) zlistx_first (ending); s;
         s = (zs_bscan_t *) zlistx_next (ending)) {
        if (s->state == ZS_BSCAN_WAITING)
            s_scan_go (self, s);
        else
            s_scan_finish (self, s, ZS_END_TIMEOUT);
    }
    zlistx_destroy (&expired);
    zlistx_destroy (&ending);
    s_dispatch (self);
}

/* ---------------------------------------------------------------------- */
/*  Construction                                                           */

void zs_broker_config_defaults (zs_broker_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    cfg->api = "tcp://*:5555";
    cfg->tasks = "tcp://*:5556";
    cfg->reports = "tcp://*:5557";
    cfg->control = "tcp://*:5558";
    cfg->results_in = "tcp://*:5559";
    cfg->results_out = "tcp://*:5560";
    cfg->data = "synthetic:";
    cfg->universe = "synthetic:10000";
    cfg->heartbeat_ms = 500;
    cfg->liveness_ms = 2000;
    cfg->lease_ms = 10000;
    cfg->start_lease_ms = 3000;
    cfg->grace_ms = 1000;
    cfg->max_attempts = 3;
    cfg->batch_ms = 5.0;
    cfg->batch_min = 8;
    cfg->batch_max = 4096;
    cfg->progress_ms = 250;
    cfg->max_scans = 64;
    cfg->keep_finished = 256;
    cfg->sync_wait_ms = 1000;
    cfg->out_hwm = 100000;
    cfg->stop_workers = false;
}

static void *s_socket (zs_broker_t *self, int type, const char *endpoint,
                       char *err, size_t errlen)
{
    void *sock = zmq_socket (self->ctx, type);
    if (!sock) {
        snprintf (err, errlen, "socket: %s", zmq_strerror (errno));
        return NULL;
    }
    int linger = 0;
    zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
    uint64_t affinity = type == ZMQ_XSUB || type == ZMQ_XPUB ? 1 : 2;
    zmq_setsockopt (sock, ZMQ_AFFINITY, &affinity, sizeof affinity);
    return sock;
}

static int s_bind (void *sock, const char *endpoint, const char *what,
                   char *err, size_t errlen)
{
    if (zmq_bind (sock, endpoint) != 0) {
        snprintf (err, errlen, "cannot bind %s socket to %s: %s", what,
                  endpoint, zmq_strerror (errno));
        return -1;
    }
    return 0;
}

/*  Binds every socket also in dir, as Unix domain sockets (for workers and
    clients on this host: cheaper than TCP over loopback), making dir
    (0700) when it is not there. */
static int s_bind_ipc (zs_broker_t *self, const char *dir, char *err,
                       size_t errlen)
{
    if (mkdir (dir, 0700) == 0)
        self->ipc_made_dir = true;
    else if (errno != EEXIST) {
        snprintf (err, errlen, "cannot make %s: %s", dir, strerror (errno));
        return -1;
    }
    self->ipc_dir = strdup (dir);
    void *socks[ZS_SOCKETS] = {self->api,     self->tasks, self->reports,
                               self->control, self->xsub,  self->xpub};
    for (int i = 0; i < ZS_SOCKETS; i++) {
        char ep[512];
        if (!zs_endpoint_ipc (ep, sizeof ep, dir, zs_socket_names[i])) {
            snprintf (err, errlen, "ipc directory %s: its socket paths are "
                      "too long for Unix sockets", dir);
            return -1;
        }
        if (s_bind (socks[i], ep, zs_socket_names[i], err, errlen) != 0)
            return -1;
    }
    return 0;
}

zs_broker_t *zs_broker_new (const zs_broker_config_t *cfg, char *err,
                            size_t errlen)
{
    zs_broker_t *self = (zs_broker_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->cfg = *cfg;
    zs_random_id (self->instance, 12);
    self->ctx = zmq_ctx_new ();
    /*  Two I/O threads: one carries the flood of results, the other
        everything that must not wait behind it (cancels, credit, reports,
        requests).  Sockets pick theirs with ZMQ_AFFINITY. */
    if (self->ctx)
        zmq_ctx_set (self->ctx, ZMQ_IO_THREADS, 2);
    self->sources = zhashx_new ();
    zhashx_set_destructor (self->sources, s_source_free);
    self->liquidity = zhashx_new ();
    zhashx_set_destructor (self->liquidity, s_free_str);
    self->rates = zhashx_new ();
    zhashx_set_destructor (self->rates, s_free_str); /* a malloc'd double */
    self->history = zhashx_new ();
    zhashx_set_destructor (self->history, s_set_free);
    self->subs = zhashx_new ();
    self->scans = zhashx_new ();
    zhashx_set_destructor (self->scans, s_bscan_free);
    self->running = zlistx_new ();
    self->finished = zlistx_new ();
    self->tasks_by_id = zs_idmap_new ();
    self->letting_go = zhashx_new ();
    zhashx_set_destructor (self->letting_go, s_free_str);
    self->workers = zhashx_new ();
    zhashx_set_destructor (self->workers, s_worker_free);
    self->lanes = zhashx_new ();
    zhashx_set_destructor (self->lanes, s_lane_free);
    if (!self->ctx || !self->tasks_by_id || !self->letting_go) {
        snprintf (err, errlen, "out of memory");
        zs_broker_destroy (&self);
        return NULL;
    }
    char serr[512];
    self->default_source = zs_source_open (cfg->data, 64u << 20, serr,
                                           sizeof serr);
    if (!self->default_source) {
        snprintf (err, errlen, "data source %s: %s", cfg->data, serr);
        zs_broker_destroy (&self);
        return NULL;
    }
    int one = 1;
    int small = 1000;
    /* high-water marks count messages, and a results message holds up
       to BATCH_RECORDS of them out, ZS_LANE_BATCH in: the configured
       figures are in results */
    int in_hwm = 100000 / ZS_LANE_BATCH; /* per lane, as lanes send */
    int out_hwm = (int) (cfg->out_hwm / BATCH_RECORDS);
    if (out_hwm < 4)
        out_hwm = 4;
    if (!(self->api = s_socket (self, ZMQ_ROUTER, cfg->api, err, errlen))
        || !(self->tasks = s_socket (self, ZMQ_ROUTER, cfg->tasks, err,
                                     errlen))
        || !(self->reports = s_socket (self, ZMQ_PULL, cfg->reports, err,
                                       errlen))
        || !(self->control = s_socket (self, ZMQ_PUB, cfg->control, err,
                                       errlen))
        || !(self->xsub = s_socket (self, ZMQ_XSUB, cfg->results_in, err,
                                    errlen))
        || !(self->xpub = s_socket (self, ZMQ_XPUB, cfg->results_out, err,
                                    errlen))) {
        zs_broker_destroy (&self);
        return NULL;
    }
    zmq_setsockopt (self->tasks, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt (self->tasks, ZMQ_ROUTER_HANDOVER, &one, sizeof one);
    zmq_setsockopt (self->tasks, ZMQ_SNDHWM, &small, sizeof small);
    zmq_setsockopt (self->xsub, ZMQ_RCVHWM, &in_hwm, sizeof in_hwm);
    zmq_setsockopt (self->xpub, ZMQ_SNDHWM, &out_hwm, sizeof out_hwm);
    zmq_setsockopt (self->xpub, ZMQ_XPUB_NODROP, &one, sizeof one);
    zmq_setsockopt (self->xpub, ZMQ_XPUB_VERBOSE, &one, sizeof one);
    if (s_bind (self->api, cfg->api, "api", err, errlen)
        || s_bind (self->tasks, cfg->tasks, "tasks", err, errlen)
        || s_bind (self->reports, cfg->reports, "reports", err, errlen)
        || s_bind (self->control, cfg->control, "control", err, errlen)
        || s_bind (self->xsub, cfg->results_in, "results-in", err, errlen)
        || s_bind (self->xpub, cfg->results_out, "results-out", err,
                   errlen)
        || (cfg->ipc_dir && s_bind_ipc (self, cfg->ipc_dir, err, errlen))) {
        zs_broker_destroy (&self);
        return NULL;
    }
    /* subscribe to everything the workers publish */
    unsigned char all = 1;
    zmq_send (self->xsub, &all, 1, 0);
    return self;
}

void zs_broker_destroy (zs_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_broker_t *self = *self_p;
    while (self->out_head) {
        s_outmsg_t *m = self->out_head;
        self->out_head = m->next;
        for (int i = 0; i < 3; i++)
            zmq_msg_close (&m->frames[i]);
        free (m);
    }
    void **socks[] = {&self->api,     &self->tasks, &self->reports,
                      &self->control, &self->xsub,  &self->xpub};
    for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++)
        if (*socks[i]) {
            zmq_close (*socks[i]);
            *socks[i] = NULL;
        }
    zlistx_destroy (&self->running);
    zlistx_destroy (&self->finished);
    zhashx_destroy (&self->scans); /* frees scans and their tasks */
    zs_idmap_destroy (&self->tasks_by_id);
    zhashx_destroy (&self->letting_go);
    zhashx_destroy (&self->lanes);
    zhashx_destroy (&self->workers);
    zhashx_destroy (&self->subs);
    zhashx_destroy (&self->history);
    zhashx_destroy (&self->rates);
    zhashx_destroy (&self->liquidity);
    zhashx_destroy (&self->sources);
    zs_source_destroy (&self->default_source);
    zs_msg_free (&self->result.mem_);
    zs_buf_free (&self->buf);
    free (self->batch[0].data);
    free (self->batch[1].data);
    free (self->symptrs.items);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    if (self->ipc_dir) {
        /* libzmq leaves a bound Unix socket's file behind (since 4.2): the
           one who bound it removes it */
        for (int i = 0; i < ZS_SOCKETS; i++) {
            char path[512];
            snprintf (path, sizeof path, "%s/%s", self->ipc_dir,
                      zs_socket_names[i]);
            unlink (path);
        }
        if (self->ipc_made_dir)
            rmdir (self->ipc_dir);
        free (self->ipc_dir);
    }
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------- */
/*  The loop                                                               */

int zs_broker_run (zs_broker_t *self)
{
    zs_info ("broker %s serving (api %s, results out %s)", self->instance,
             self->cfg.api, self->cfg.results_out);
    int64_t now = zs_clock_us ();
    self->next_hb_us = now;
    self->next_sweep_us = now;
    while (!zs_interrupted) {
        s_batch_flush (self);
        bool flushed = s_flush (self);
        zmq_pollitem_t items[] = {
            {self->api, 0, ZMQ_POLLIN, 0},
            {self->tasks, 0, ZMQ_POLLIN, 0},
            {self->reports, 0, ZMQ_POLLIN, 0},
            {self->xpub, 0, ZMQ_POLLIN, 0},
            {self->xsub, 0, ZMQ_POLLIN, 0},
        };
        /* while subscribers push back, leave results in the workers */
        int nitems = flushed ? 5 : 4;
        now = zs_clock_us ();
        int64_t wait_us = self->next_sweep_us - now;
        if (!flushed && wait_us > 1000)
            wait_us = 1000;
        if (wait_us < 0)
            wait_us = 0;
        int rc = zmq_poll (items, nitems, (long) (wait_us / 1000));
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            zs_error ("poll: %s", zmq_strerror (errno));
            break;
        }
        if (items[0].revents & ZMQ_POLLIN)
            for (int i = 0; i < 64; i++) {
                int ev = 0;
                size_t sz = sizeof ev;
                zmq_getsockopt (self->api, ZMQ_EVENTS, &ev, &sz);
                if (!(ev & ZMQ_POLLIN))
                    break;
                s_api_recv (self);
            }
        if (items[1].revents & ZMQ_POLLIN)
            for (int i = 0; i < 256; i++) {
                int ev = 0;
                size_t sz = sizeof ev;
                zmq_getsockopt (self->tasks, ZMQ_EVENTS, &ev, &sz);
                if (!(ev & ZMQ_POLLIN))
                    break;
                s_tasks_recv (self);
            }
        if (items[2].revents & ZMQ_POLLIN)
            for (int i = 0; i < 256; i++) {
                int ev = 0;
                size_t sz = sizeof ev;
                zmq_getsockopt (self->reports, ZMQ_EVENTS, &ev, &sz);
                if (!(ev & ZMQ_POLLIN))
                    break;
                s_reports_recv (self);
            }
        if (items[3].revents & ZMQ_POLLIN)
            for (int i = 0; i < 256; i++) {
                int ev = 0;
                size_t sz = sizeof ev;
                zmq_getsockopt (self->xpub, ZMQ_EVENTS, &ev, &sz);
                if (!(ev & ZMQ_POLLIN))
                    break;
                s_subs_recv (self);
            }
        if (nitems == 5 && (items[4].revents & ZMQ_POLLIN))
            /* a bounded burst (about one full worker message, up to
               ZS_LANE_BATCH results): credit and reports must not wait
               behind a flood of results, or lanes idle for want of their
               next task */
            for (uint64_t until = self->in_records + ZS_LANE_BATCH;
                 self->in_records < until && !self->out_head;) {
                if (!s_results_recv (self))
                    break;
                /* what one worker message brought leaves at once: its
                   first result does not wait for the next messages' */
                s_batch_flush (self);
            }
        now = zs_clock_us ();
        if (now >= self->next_hb_us) {
            s_heartbeat (self);
            self->next_hb_us = now + self->cfg.heartbeat_ms * 1000;
        }
        if (now >= self->next_sweep_us) {
            s_sweep (self, now);
            self->next_sweep_us = now + 10000;
        }
        s_dispatch (self);
    }
    /* shutting down: every running scan ends now, and says so */
    zs_bscan_t *s;
    while ((s = (zs_bscan_t *) zlistx_first (self->running)) != NULL)
        s_scan_finish (self, s, ZS_END_FAILED);
    if (self->cfg.stop_workers) {
        zs_shutdown_t m = {0};
        m.reason = "broker shutting down";
        char err[256];
        zs_buf_reset (&self->buf);
        if (zs_shutdown_encode (&m, &self->buf, err, sizeof err) == 0) {
            zmq_send (self->control, ZS_CTL_SHUTDOWN,
                      strlen (ZS_CTL_SHUTDOWN), ZMQ_SNDMORE);
            zmq_send (self->control, self->buf.data, self->buf.size, 0);
        }
    }
    /* give subscribers a moment to receive the finished events */
    s_batch_flush (self);
    int64_t until = zs_clock_us () + 200000;
    while (!s_flush (self) && zs_clock_us () < until)
        zmq_poll (NULL, 0, 5);
    int linger = 200;
    zmq_setsockopt (self->xpub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (self->control, ZMQ_LINGER, &linger, sizeof linger);
    zs_info ("results: %llu in %llu messages from workers, %llu in %llu "
             "batches to subscribers",
             (unsigned long long) self->in_records,
             (unsigned long long) self->in_msgs,
             (unsigned long long) self->out_records,
             (unsigned long long) self->out_msgs);
    zs_info ("broker stopped (%llu duplicate and %llu late results dropped, "
             "%llu bad messages)",
             (unsigned long long) self->dropped_dups,
             (unsigned long long) self->dropped_late,
             (unsigned long long) self->bad_messages);
    return 0;
}
