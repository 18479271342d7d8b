/*  zs_lane.c - one scan lane: a thread with its own DEALER (tasks), XPUB
    (results) and PUSH (reports) to the broker.

    A lane asks for work by credit ("ready"), takes a task, reports it
    started, runs the engine over its symbols and publishes one result per
    symbol as it is computed (in batches of at most BATCH_MAX results or
    BATCH_US; the first at once when the lane has been quiet for BATCH_US),
    then reports it done.  It abandons a cancelled scan at the next
    symbol.  It takes nothing until the broker's subscription has reached
    its XPUB, so no result is published into the void (the slow-joiner
    problem); its XPUB blocks rather than drops (ZMQ_XPUB_NODROP), so a
    slow broker slows the lane instead of losing results.
*/
#include "zs_bars.h"
#include "zs_kernels.h"
#include "zs_msg.h"
#include "zs_prefault.h"
#include "zs_topic.h"
#include "zs_util.h"
#include "zs_wresult.h"
#include "zs_wshared.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define COMPILED_SLOTS 8
/*  Per message: a lane's ZeroMQ I/O thread costs per message it wakes up
    for.  Measured on a 10,000-symbol scan (bench ZS_BENCH_THREADS=1):
    256 results / 0.5 ms per message, 2.5-3.1 ms of I/O thread CPU per scan
    and 21-22 ms of lane; 1024 / 2 ms, 1.0-1.2 and 18-20. */
#define BATCH_MAX ZS_LANE_BATCH /* results per message to the broker      */
#define BATCH_US 2000       /* longest a result waits to fill a batch     */
/*  The clock is read about every CLOCK_US (from the time results took so
    far), and at least every CLOCK_EVERY_MAX results: when symbols suddenly
    get much slower (cold data), a batch waits at most that many of them
    beyond BATCH_US before the estimate follows. */
#define CLOCK_US 25         /* how often a lane reads the clock           */
#define CLOCK_EVERY_MAX 8   /* at least every 8 results                  */

typedef struct {
    char key[ZS_FILTER_MAX + 1024]; /* scan id + definition             */
    zs_scan_t *scan;
    int64_t used;
} s_compiled_t;

typedef struct {
    zs_wshared_t *shared;
    uint32_t lane;
    char rid[200];            /* routing id "<worker>/<lane>"              */
    void *dealer, *xpub, *push;
    int subscribers;          /* broker subscriptions seen on the XPUB     */
    char broker[ZS_ID_MAX + 1];
    uint64_t taken;           /* tasks received from that broker           */
    uint64_t epoch;
    int64_t last_ready_us;
    int64_t last_end_us;      /* when the last task ended                  */
    int64_t send_us;          /* spent publishing, in the current task     */
    int64_t flushed_us;       /* when results last left                    */
    uint64_t wseq;            /* results published, ever                   */
    zs_scanner_t *scanner;
    s_compiled_t compiled[COMPILED_SLOTS];
    zs_task_t task;           /* reusable decode space                     */
    zs_result_t result;
    zs_result_enc_t enc;      /* the fields the task's results share      */
    zs_buf_t buf;             /* results                                   */
    zs_buf_t rbuf;            /* reports                                   */
    /* the task being run */
    const zs_scan_t *scan;
    char topic[ZS_TOPIC_MAX];  /* "<scan>.r": results of this scan       */
    size_t nbatch;            /* encoded results waiting in buf (a batch
                                 opened by zs_recs_open)                   */
    int64_t batch_us;         /* when the first of them was encoded        */
    int64_t clock_us;         /* the clock when last read                  */
    uint32_t since_clock;     /* results since                             */
    uint32_t clock_every;     /* results between two reads                 */
    int64_t per_result_us;    /* time a result took, at the last reading   */
    uint64_t cancel_gen;
    bool aborted;
    uint32_t results, signals, errors;
    uint64_t first_wseq;
    struct timespec c_end;    /* the thread's CPU clock when it ended      */
    zs_prefault_t *prefault;  /* memory still to touch while idle        */
    int64_t prefault_us;      /* since                                   */
    /* bars made for a scan and not kept, to keep while idle: the scan,
       its source (held), how far they are kept, since when */
    zs_later_t later;
    size_t later_budget;
    char later_scan[ZS_ID_MAX + 1];
    zs_source_t *later_src;
    size_t later_pos;
    int64_t later_us;
    bool sched_idle;          /* SCHED_IDLE while keeping them            */
} s_lane_t;

/* ---------------------------------------------------------------------- */

static void s_report (s_lane_t *self)
{
    if (zmq_send (self->push, self->rbuf.data, self->rbuf.size, 0) < 0)
        zs_warn ("lane %u: cannot send a report: %s", self->lane,
                 zmq_strerror (errno));
}

/*  Credit: want = batches to keep queued here beyond those taken. */
static void s_send_ready (s_lane_t *self, uint32_t want)
{
    zs_ready_t m = {0};
    m.worker = self->shared->id;
    m.instance = self->shared->instance;
    m.lane = self->lane;
    m.broker = self->broker[0] ? self->broker : NULL;
    m.taken = self->taken;
    m.want = want;
    char err[256];
    zs_buf_reset (&self->rbuf);
    if (zs_ready_encode (&m, &self->rbuf, err, sizeof err) != 0) {
        zs_error ("lane %u: cannot encode ready: %s", self->lane, err);
        return;
    }
    zmq_send (self->dealer, self->rbuf.data, self->rbuf.size, ZMQ_DONTWAIT);
    self->last_ready_us = zs_clock_us ();
}

static void s_send_started (s_lane_t *self, const zs_task_t *t)
{
    zs_task_started_t m = {0};
    m.worker = self->shared->id;
    m.scan = t->scan;
    m.task = t->task;
    m.attempt = t->attempt;
    m.lane = self->lane;
    char err[256];
    zs_buf_reset (&self->rbuf);
    if (zs_task_started_encode (&m, &self->rbuf, err, sizeof err) == 0)
        s_report (self);
}

static void s_send_done (s_lane_t *self, const zs_task_t *t, bool returned,
                         double elapsed_us)
{
    zs_task_done_t m = {0};
    m.worker = self->shared->id;
    m.scan = t->scan;
    m.task = t->task;
    m.attempt = t->attempt;
    m.lane = self->lane;
    m.results = self->results;
    m.signals = self->signals;
    m.errors = self->errors;
    m.returned = returned;
    m.first_wseq = self->results ? self->first_wseq : 0;
    m.last_wseq = self->results ? self->wseq : 0;
    m.elapsed_us = elapsed_us;
    char err[256];
    zs_buf_reset (&self->rbuf);
    if (zs_task_done_encode (&m, &self->rbuf, err, sizeof err) == 0)
        s_report (self);
}

static void s_send_failed (s_lane_t *self, const zs_task_t *t,
                           const char *reason)
{
    zs_task_failed_t m = {0};
    m.worker = self->shared->id;
    m.scan = t->scan;
    m.task = t->task;
    m.attempt = t->attempt;
    m.lane = self->lane;
    m.reason = reason;
    char err[256];
    zs_buf_reset (&self->rbuf);
    if (zs_task_failed_encode (&m, &self->rbuf, err, sizeof err) == 0)
        s_report (self);
}

/* ---------------------------------------------------------------------- */
/*  Compiled scans, cached per lane by scan id and definition             */

static void s_def_key (const zs_task_t *t, char *key, size_t cap)
{
    const zs_scan_def_t *d = &t->def;
    int n = snprintf (key, cap, "%s|%s|%s|", t->scan, d->data ? d->data : "",
                      d->strategy ? d->strategy : "");
    for (size_t i = 0; i < d->nparams && n > 0 && (size_t) n < cap; i++)
        n += snprintf (key + n, cap - (size_t) n, "%s=%.17g,", d->pnames[i],
                       d->pvalues[i]);
    if (n > 0 && (size_t) n < cap)
        snprintf (key + n, cap - (size_t) n, "|%s",
                  d->filter ? d->filter : "");
}

static const zs_scan_t *s_compiled (s_lane_t *self, const zs_task_t *t,
                                    char *err, size_t errlen)
{
    char key[sizeof self->compiled[0].key];
    s_def_key (t, key, sizeof key);
    int64_t now = zs_clock_us ();
    s_compiled_t *oldest = &self->compiled[0];
    for (int i = 0; i < COMPILED_SLOTS; i++) {
        s_compiled_t *c = &self->compiled[i];
        if (c->scan && strcmp (c->key, key) == 0) {
            c->used = now;
            return c->scan;
        }
        if (!c->scan || c->used < oldest->used)
            oldest = c;
    }
    const zs_scan_def_t *d = &t->def;
    zs_scan_t *scan = zs_scan_compile (
        d->filter ? NULL : (d->strategy ? d->strategy : zs_strategy_default ()),
        d->pnames, d->pvalues, d->nparams, d->filter, err, errlen);
    if (!scan)
        return NULL;
    zs_scan_destroy (&oldest->scan);
    oldest->scan = scan;
    snprintf (oldest->key, sizeof oldest->key, "%s", key);
    oldest->used = now;
    return scan;
}

/* ---------------------------------------------------------------------- */
/*  Running a task                                                         */

static bool s_should_abort (s_lane_t *self)
{
    if (atomic_load (&self->shared->stopping) > 1)
        return true; /* a second signal: stop now */
    uint64_t gen = atomic_load (&self->shared->cancel_gen);
    if (gen != self->cancel_gen) {
        self->cancel_gen = gen;
        if (zs_wshared_is_cancelled (self->shared, self->task.scan))
            return true;
    }
    return false;
}

/*  Publishes the waiting results as one message [topic, batch] (the batch
    an array of result maps), waiting (not dropping) while the broker is
    slow; gives up only when the task is abandoned.  Batching cuts the
    per-result cost of a message while the first result of a task still
    leaves at once when nothing left the lane for a batch's time. */
static int s_flush (s_lane_t *self)
{
    if (!self->nbatch)
        return 0;
    size_t tlen = strlen (self->topic);
    int64_t t0 = zs_clock_us ();
    for (;;) {
        if (zmq_send (self->xpub, self->topic, tlen, ZMQ_SNDMORE) >= 0)
            break;
        /* the broker cannot take them: wait, unless the task is
           abandoned, the broker that sent it is gone (a new one has no
           use for them), or we are stopping and it has not taken them
           for 2 s (it is gone too: do not hang the shutdown) */
        bool gone = atomic_load (&self->shared->epoch) != self->epoch
                    || (atomic_load (&self->shared->stopping)
                        && zs_clock_us () - t0 > 2000000);
        if (errno != EAGAIN || gone || s_should_abort (self)) {
            self->nbatch = 0;
            zs_buf_reset (&self->buf);
            return -1;
        }
    }
    size_t len;
    const char *start = zs_recs_close (&self->buf, (uint32_t) self->nbatch,
                                       &len);
    zmq_send (self->xpub, start, len, 0);
    int64_t t1 = zs_clock_us ();
    self->send_us += t1 - t0;
    self->flushed_us = t1;
    /* the worker's count, once per message rather than per result (a
       shared counter written by every lane) */
    atomic_fetch_add (&self->shared->symbols, self->nbatch);
    self->nbatch = 0;
    zs_buf_reset (&self->buf);
    return 0;
}

static int s_emit (void *arg, size_t i, const char *symbol,
                   const zs_symresult_t *res)
{
    s_lane_t *self = (s_lane_t *) arg;
    if (s_should_abort (self)) {
        self->aborted = true;
        return 1;
    }
    zs_result_t *r = &self->result;
    /* scan, worker, lane, task and attempt are the task's encoder's */
    zs_wresult_fill (r, self->scan, self->task.index[i], symbol, res);
    r->wseq = self->wseq + 1;
    char err[256];
    int rc = 0;
    if (!self->nbatch && (rc = zs_recs_open (&self->buf)) != 0)
        snprintf (err, sizeof err, "out of memory");
    if (rc == 0)
        rc = zs_result_encode_with (&self->enc, r, &self->buf, err,
                                    sizeof err);
    if (rc != 0) {
        zs_error ("lane %u: cannot encode the result of %s: %s", self->lane,
                  symbol, err);
        self->aborted = true;
        return 1;
    }
    /* the clock, read about every CLOCK_US rather than at every result
       (it was 2% of a lane's time on the default scan) */
    bool first = !self->nbatch;
    bool late = false, quiet = false;
    self->since_clock++;
    if (first || self->since_clock >= self->clock_every) {
        int64_t now = zs_clock_us ();
        if (now > self->clock_us) {
            int64_t per = (now - self->clock_us) / self->since_clock;
            self->per_result_us = per;
            self->clock_every = per >= CLOCK_US ? 1
                                : per > 0       ? (uint32_t) (CLOCK_US / per)
                                                : CLOCK_EVERY_MAX;
            if (self->clock_every > CLOCK_EVERY_MAX)
                self->clock_every = CLOCK_EVERY_MAX;
        }
        self->clock_us = now;
        self->since_clock = 0;
        if (first)
            self->batch_us = now;
        late = now - self->batch_us >= BATCH_US;
        /* nothing left this lane for a batch's time: a scan starting (or
           resuming after a pause) shows its first result at once; in a
           stream of tasks it joins the batch (the previous task's results
           left at its end), one message fewer per task */
        quiet = first && now - self->flushed_us >= BATCH_US;
    }
    self->nbatch++;
    /* slow symbols: the next result would come after the batch's time is
       up, so this one leaves now (it must not wait a symbol for it) */
    bool slow = self->per_result_us >= BATCH_US;
    if ((quiet || self->nbatch == BATCH_MAX || late || slow)
        && s_flush (self) != 0) {
        self->aborted = true;
        return 1;
    }
    if (!self->results)
        self->first_wseq = r->wseq;
    self->wseq = r->wseq;
    self->results++;
    if (r->signal)
        self->signals++;
    if (r->error)
        self->errors++;
    if (self->shared->cfg.symbol_delay_us > 0)
        usleep ((useconds_t) self->shared->cfg.symbol_delay_us);
    return 0;
}

/* CPU time between two readings of the thread's clock, in us */
static long long s_cpu_us (const struct timespec *a, const struct timespec *b)
{
    return (long long) (b->tv_sec - a->tv_sec) * 1000000
           + (b->tv_nsec - a->tv_nsec) / 1000;
}

/* ---------------------------------------------------------------------- */
/*  Bars kept once idle (zs_scanner_defer)                                */

/*  A task's misses are made for it alone while the list is empty or
    holds its own scan's (of the same source), within the budget; another
    scan's task, before the list is kept, keeps what it makes. */
static void s_later_before (s_lane_t *self, const zs_task_t *t,
                            zs_source_t *source)
{
    bool ours = self->later.symbols.size == 0
                || (self->later_src == source
                    && strcmp (self->later_scan, t->scan) == 0);
    zs_scanner_defer (self->scanner, ours ? &self->later : NULL,
                      ours ? self->later_budget : 0);
    if (ours && self->later.symbols.size == 0)
        snprintf (self->later_scan, sizeof self->later_scan, "%s", t->scan);
}

/*  Forgets the list (its bars are made again when next asked for). */
static void s_later_drop (s_lane_t *self)
{
    zs_strlist_clear (&self->later.symbols);
    self->later.bytes = 0;
    self->later_pos = 0;
    zs_wshared_source_done (self->shared, self->later_src);
    self->later_src = NULL;
}

/*  The list's source is held until its bars are kept. */
static void s_later_after (s_lane_t *self, zs_source_t *source)
{
    zs_scanner_defer (self->scanner, NULL, 0);
    if (self->later.symbols.size == 0 || self->later_src)
        return;
    char err[256];
    self->later_src = zs_wshared_source (self->shared, zs_source_uri (source),
                                         err, sizeof err);
    if (!self->later_src)
        s_later_drop (self);
    self->later_us = zs_clock_us ();
}

#define QUIET_US 5000 /* idle this long: bars are kept */

/*  The lane's scheduling class: SCHED_BATCH for tasks (see zs_lane_main),
    SCHED_IDLE while it keeps bars, so that keeping them takes only the
    time no other thread on the machine wants (the other workers' lanes,
    the broker, subscribers: a first scan's tail is not slowed by the
    bars its early lanes keep).  No lane of this worker runs a task then,
    so none waits on the cache's lock behind it. */
static void s_sched (s_lane_t *self, bool idle)
{
    if (self->sched_idle == idle)
        return;
    struct sched_param sp;
    memset (&sp, 0, sizeof sp);
    pthread_setschedparam (pthread_self (), idle ? SCHED_IDLE : SCHED_BATCH,
                           &sp);
    self->sched_idle = idle;
}

/*  Idle: keeps the next 32 (about 0.3 ms of work); the last step says
    what was kept. */
static void s_later_step (s_lane_t *self)
{
    zs_later_t *l = &self->later;
    s_sched (self, true);
    size_t m = l->symbols.size - self->later_pos;
    m = m < 32 ? m : 32;
    size_t failed = 0; /* (made again when next asked for) */
    char why[ZS_REASON_MAX + 1];
    zs_source_keep (self->later_src,
                    (const char *const *) l->symbols.items + self->later_pos,
                    m, zs_isa_detect (), l->close_only, &failed, why,
                    sizeof why);
    self->later_pos += m;
    if (self->later_pos < l->symbols.size)
        return;
    s_sched (self, false);
    zs_info ("lane %s: kept the bars of %zu symbols of scan %s (%.1f MB) "
             "once idle, in %.1f ms",
             self->rid, l->symbols.size, self->later_scan,
             (double) l->bytes / 1048576.0,
             (double) (zs_clock_us () - self->later_us) / 1000.0);
    s_later_drop (self);
}

static void s_run_task (s_lane_t *self)
{
    const zs_task_t *t = &self->task;
    self->results = self->signals = self->errors = 0;
    self->aborted = false;
    self->cancel_gen = atomic_load (&self->shared->cancel_gen);
    if (zs_wshared_is_cancelled (self->shared, t->scan)
        || atomic_load (&self->shared->stopping)) {
        zs_debug ("lane %u: task %llu of scan %s returned unstarted",
                  self->lane, (unsigned long long) t->task, t->scan);
        s_send_done (self, t, true, 0);
        return;
    }
    atomic_fetch_add (&self->shared->busy, 1);
    s_sched (self, false);
    int64_t start = zs_clock_us ();
    struct timespec c0;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c0);
    s_send_started (self, t);
    char err[1024];
    self->scan = s_compiled (self, t, err, sizeof err);
    zs_source_t *source = NULL;
    char serr[512];
    if (!self->scan)
        s_send_failed (self, t, err);
    else if (zs_result_enc_init (&self->enc, t->scan, self->shared->id,
                                 self->lane, t->task, t->attempt, err,
                                 sizeof err)
             != 0)
        s_send_failed (self, t, err);
    else if (!(source = zs_wshared_source (self->shared, t->def.data, serr,
                                           sizeof serr))) {
        snprintf (err, sizeof err, "data source %s: %s", t->def.data, serr);
        s_send_failed (self, t, err);
    }
    else {
        /* results held from the previous task join this task's when both
           are of one scan (one topic); otherwise they leave first */
        char topic[ZS_TOPIC_MAX];
        zs_topic_prefix_results (topic, sizeof topic, t->scan);
        self->send_us = 0;
        /* the time a result takes is measured from here: the wait before
           the task is not the symbols' (a quiet lane's first result
           leaves at once by its own rule, below) */
        self->clock_us = zs_clock_us ();
        self->since_clock = 0;
        if (self->nbatch && strcmp (topic, self->topic) != 0)
            s_flush (self);
        memcpy (self->topic, topic, sizeof topic);
        s_later_before (self, t, source);
        zs_scanner_run (self->scanner, self->scan, source, t->symbols,
                        t->nsymbols, s_emit, self);
        s_later_after (self, source);
        zs_wshared_source_done (self->shared, source);
        /* the last results wait for the next task's (when one is waiting,
           within BATCH_US; see the loop), one message fewer per task: the
           broker expects a task's results after its done report anyway
           (they travel on another socket) */
        if (self->aborted)
            s_flush (self);
        if (self->aborted)
            zs_debug ("lane %u: task %llu of scan %s abandoned after %u of "
                      "%zu symbols",
                      self->lane, (unsigned long long) t->task, t->scan,
                      self->results, t->nsymbols);
        int64_t end = zs_clock_us ();
        struct timespec c1;
        clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c1);
        zs_debug ("lane %u: task %llu of scan %s: %u results in %lld us "
                  "(%lld us on the CPU), %lld us of it publishing; before "
                  "it %lld us idle (%lld us on the CPU)",
                  self->lane, (unsigned long long) t->task, t->scan,
                  self->results, (long long) (end - start),
                  s_cpu_us (&c0, &c1), (long long) self->send_us,
                  (long long) (self->last_end_us ? start - self->last_end_us
                                                 : 0),
                  self->last_end_us ? s_cpu_us (&self->c_end, &c0) : 0);
        self->c_end = c1;
        self->last_end_us = end;
        s_send_done (self, t, self->aborted, (double) (end - start));
    }
    atomic_fetch_sub (&self->shared->busy, 1);
}

/*  Receives one task from the DEALER; returns 0 when self->task holds a
    valid one. */
static int s_recv_task (s_lane_t *self, int flags)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, self->dealer, flags) < 0) {
        zmq_msg_close (&msg);
        return -1;
    }
    int rc = -1;
    char err[256];
    if (zmq_msg_more (&msg))
        zs_warn ("lane %u: dropped a multi-frame task message", self->lane);
    else if (zs_task_decode (zmq_msg_data (&msg), zmq_msg_size (&msg),
                             &self->task, err, sizeof err)
             != 0)
        zs_warn ("lane %u: dropped a bad task: %s", self->lane, err);
    else
        rc = 0;
    int more = zmq_msg_more (&msg);
    zmq_msg_close (&msg);
    while (more) {
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, self->dealer, ZMQ_DONTWAIT) < 0)
            more = 0;
        else
            more = zmq_msg_more (&msg);
        zmq_msg_close (&msg);
    }
    if (rc == 0 && self->task.broker
        && strcmp (self->task.broker, self->broker) != 0) {
        /* a new broker: count afresh against it */
        snprintf (self->broker, sizeof self->broker, "%s", self->task.broker);
        self->taken = 0;
    }
    if (rc == 0)
        self->taken++;
    return rc;
}

/* ---------------------------------------------------------------------- */

static void *s_connect (s_lane_t *self, int type, const char *endpoint)
{
    void *sock = zmq_socket (self->shared->ctx, type);
    if (!sock)
        return NULL;
    /* what the broker may send: tasks (65,536 symbols fit easily), and
       on the XPUB subscriptions (a topic prefix) */
    int64_t max = type == ZMQ_DEALER ? (int64_t) ZS_RESULTS_MSG_MAX
                                     : (int64_t) ZS_SMALL_MSG_MAX;
    zmq_setsockopt (sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
    int linger = type == ZMQ_DEALER ? 0 : 2000;
    zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
    /* a report waits at most this long for the broker's connection (a
       PUSH with no connection blocks: the broker down, or refusing our
       key), then is dropped with a warning; its task's lease covers it */
    int sndtimeo = 1000;
    if (type == ZMQ_PUSH)
        zmq_setsockopt (sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    if (type == ZMQ_DEALER)
        zmq_setsockopt (sock, ZMQ_ROUTING_ID, self->rid, strlen (self->rid));
    if (type == ZMQ_XPUB) {
        int one = 1;
        /* in messages, each up to BATCH_MAX results; configured in
           results */
        int hwm = (int) (self->shared->cfg.out_hwm / BATCH_MAX);
        if (hwm < 4)
            hwm = 4;
        int timeout = 100;
        zmq_setsockopt (sock, ZMQ_XPUB_NODROP, &one, sizeof one);
        zmq_setsockopt (sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt (sock, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    }
    zs_socket_retry_soon (sock);
    if (zs_curve_client_apply (&self->shared->cfg.curve, sock) != 0
        || zmq_connect (sock, endpoint) != 0) {
        zs_error ("lane %u: cannot connect to %s: %s", self->lane, endpoint,
                  zmq_strerror (errno));
        zmq_close (sock);
        return NULL;
    }
    return sock;
}

static void s_subscriptions (s_lane_t *self)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    while (zmq_msg_recv (&msg, self->xpub, ZMQ_DONTWAIT) >= 0) {
        const unsigned char *d = (const unsigned char *) zmq_msg_data (&msg);
        if (zmq_msg_size (&msg) >= 1) {
            if (d[0] == 1)
                self->subscribers++;
            else if (d[0] == 0 && self->subscribers > 0)
                self->subscribers--;
        }
        zmq_msg_close (&msg);
        zmq_msg_init (&msg);
    }
    zmq_msg_close (&msg);
}

/*  Idle: one more step of the memory to touch ahead; work came (task):
    what is touched goes to the heap now, for the bars this task makes. */
static void s_prefault (s_lane_t *self, bool task)
{
    if (task)
        zs_prefault_stop (self->prefault);
    else if (zs_prefault_step (self->prefault))
        return;
    zs_debug ("lane %s: %zu MB touched ahead in %.1f ms%s", self->rid,
              zs_prefault_done (self->prefault) >> 20,
              (double) (zs_clock_us () - self->prefault_us) / 1000.0,
              task ? " (work came)" : "");
    zs_prefault_destroy (&self->prefault);
}

void *zs_lane_main (void *arg)
{
    zs_lane_arg_t *a = (zs_lane_arg_t *) arg;
    /*  Lanes are batch computation: tell the scheduler so, and the threads
        that must react at once (the main thread with its cancels and
        heartbeats, ZeroMQ's I/O thread) preempt them without waiting out a
        time slice when the cores are busy.  Measured here: a cancel reached
        a busy worker up to 5 ms late without it.  (SCHED_IDLE answers
        faster still, but measured here it halves the lanes' throughput
        whenever the broker or a subscriber shares their cores.) */
    struct sched_param sp;
    memset (&sp, 0, sizeof sp);
    pthread_setschedparam (pthread_self (), SCHED_BATCH, &sp);
    s_lane_t *self = (s_lane_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->shared = a->shared;
    self->lane = a->lane;
    snprintf (self->rid, sizeof self->rid, "%s/%u", self->shared->id,
              self->lane);
    const zs_worker_config_t *cfg = &self->shared->cfg;
    self->dealer = s_connect (self, ZMQ_DEALER, cfg->tasks);
    self->xpub = s_connect (self, ZMQ_XPUB, cfg->results_in);
    self->push = s_connect (self, ZMQ_PUSH, cfg->reports);
    self->scanner = zs_scanner_new ();
    self->epoch = atomic_load (&self->shared->epoch);
    size_t lanes = (size_t) (cfg->threads > 0 ? cfg->threads : 1);
    self->prefault = zs_prefault_new (cfg->prefault_bytes / lanes);
    self->prefault_us = zs_clock_us ();
    self->later_budget = cfg->later_bytes / lanes;
    /* the worker's word that we stop (its end is bound already) */
    void *wake = zmq_socket (self->shared->ctx, ZMQ_PAIR);
    if (wake && zmq_connect (wake, a->wake_ep) != 0) {
        zmq_close (wake);
        wake = NULL;
    }
    if (self->dealer && self->xpub && self->push && self->scanner) {
        bool need_ready = true;
        uint32_t prefetch = (uint32_t) cfg->prefetch;
        while (!atomic_load (&self->shared->stopping)) {
            zmq_pollitem_t items[] = {{self->dealer, 0, ZMQ_POLLIN, 0},
                                      {self->xpub, 0, ZMQ_POLLIN, 0},
                                      {wake, 0, ZMQ_POLLIN, 0}};
            /* holding results (of the last task): only a task already
               waiting may join them; otherwise they leave before the lane
               waits.  Touching memory ahead, keeping bars: a step between
               two looks.  Bars are kept once this lane has had no task
               for QUIET_US (not in the moments between a scan's tasks,
               where a step would hold up the next) and no lane of this
               worker runs one, at the lowest priority (s_later_step) */
            bool later = self->later_src != NULL;
            bool keep = later && atomic_load (&self->shared->busy) == 0
                        && zs_clock_us () - self->last_end_us >= QUIET_US;
            long wait = self->nbatch || self->prefault || keep ? 0
                        : later ? QUIET_US / 1000
                                : 100;
            if (zmq_poll (items, wake ? 3 : 2, wait) < 0 && errno != EINTR)
                break;
            if (self->prefault)
                s_prefault (self, items[0].revents & ZMQ_POLLIN);
            if (self->nbatch && !(items[0].revents & ZMQ_POLLIN))
                s_flush (self);
            else if (keep && !(items[0].revents & ZMQ_POLLIN))
                s_later_step (self);
            if (items[1].revents & ZMQ_POLLIN)
                s_subscriptions (self);
            uint64_t epoch = atomic_load (&self->shared->epoch);
            if (epoch != self->epoch) {
                self->epoch = epoch;
                need_ready = true;
            }
            int64_t now = zs_clock_us ();
            if (self->subscribers > 0
                && (need_ready
                    || (now - self->last_ready_us > 1000000
                        && !(items[0].revents & ZMQ_POLLIN)))) {
                /* idle: one to run now, plus the prefetch */
                s_send_ready (self, prefetch + 1);
                need_ready = false;
            }
            if ((items[0].revents & ZMQ_POLLIN)
                && s_recv_task (self, ZMQ_DONTWAIT) == 0) {
                /* refill the queue before running, so the next batch
                   arrives while this one computes */
                if (prefetch && !atomic_load (&self->shared->stopping))
                    s_send_ready (self, prefetch);
                s_run_task (self);
                if (!prefetch && !atomic_load (&self->shared->stopping))
                    s_send_ready (self, 1);
            }
        }
        s_flush (self);
        /* stopping: return whatever is queued here */
        while (s_recv_task (self, ZMQ_DONTWAIT) == 0) {
            self->results = self->signals = self->errors = 0;
            s_send_done (self, &self->task, true, 0);
        }
    }
    s_later_drop (self);
    for (int i = 0; i < COMPILED_SLOTS; i++)
        zs_scan_destroy (&self->compiled[i].scan);
    zs_scanner_destroy (&self->scanner);
    zs_prefault_destroy (&self->prefault);
    zs_msg_free (&self->task.mem_);
    zs_msg_free (&self->result.mem_);
    zs_buf_free (&self->buf);
    zs_buf_free (&self->rbuf);
    if (self->dealer)
        zmq_close (self->dealer);
    if (self->xpub)
        zmq_close (self->xpub);
    if (self->push)
        zmq_close (self->push);
    if (wake)
        zmq_close (wake);
    free (self);
    return NULL;
}
