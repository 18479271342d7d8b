/*  zs_broker.c - the broker's construction, its loop and its timers.

    Shape (after the ZeroMQ guide's Majordomo broker): one struct, the
    roles in files of their own (see zs_broker.h), and a loop that only
    polls and dispatches: api -> zs_api_recv, lane credit ->
    zs_work_tasks_recv, reports -> zs_work_reports_recv, results ->
    zs_fwd_results_recv, subscriptions -> zs_fwd_subs_recv, plans ->
    zs_api_plans; a sweep every 10 ms for heartbeats, liveness, leases,
    timeouts, held scans and progress.  After each message it hands to a
    role, the loop finishes the scans that message cut (zs_life_settle).
*/
#include "zs_broker.h"
#include "zs_broker_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------------- */
/*  Table destructors                                                      */

static void s_free_str (void **item)
{
    if (item && *item) {
        free (*item);
        *item = NULL;
    }
}

static void s_worker_free (void **item)
{
    zs_bworker_t *w = (zs_bworker_t *) *item;
    if (w) {
        free (w->id);
        free (w->data);
        free (w);
    }
    *item = NULL;
}

static void s_lane_free (void **item)
{
    zs_blane_t *l = (zs_blane_t *) *item;
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

/*  Timeouts, held scans and progress events of running scans; then the
    workers' liveness and the batches' leases. */
static void s_sweep (zs_broker_t *self, int64_t now)
{
    zlistx_t *ending = zlistx_new ();
    for (zs_bscan_t *s = (zs_bscan_t *) zlistx_first (self->running);
         s && ending; s = (zs_bscan_t *) zlistx_next (self->running)) {
        if (s->state == ZS_BSCAN_PLANNING)
            continue;
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
        if (now - s->last_progress_us >= self->cfg.progress_ms * 1000) {
            s->last_progress_us = now;
            zs_fwd_event_progress (self, s, now);
        }
    }
    for (zs_bscan_t *s = ending ? (zs_bscan_t *) zlistx_first (ending) : NULL;
         s; s = (zs_bscan_t *) zlistx_next (ending)) {
        if (s->state == ZS_BSCAN_WAITING)
            zs_life_go (self, s);
        else
            zs_life_finish (self, s, ZS_END_TIMEOUT);
    }
    zlistx_destroy (&ending);
    zs_work_sweep (self, now);
    zs_life_settle (self); /* scans that symbols failed in the sweep cut */
    zs_work_dispatch (self);
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
    cfg->out_hwm = 1000;
    cfg->history_mb = 512;
    cfg->replay_records = 8192;
    cfg->list_dir = NULL;
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

/*  CURVE on every socket when configured (the key check served from the
    loop); without it, binding beyond this machine needs --plaintext. */
static int s_security (zs_broker_t *self, char *err, size_t errlen)
{
    const zs_broker_config_t *cfg = &self->cfg;
    void *socks[ZS_SOCKETS] = {self->api,     self->tasks, self->reports,
                               self->control, self->xsub,  self->xpub};
    const char *eps[ZS_SOCKETS] = {cfg->api,     cfg->tasks,
                                   cfg->reports, cfg->control,
                                   cfg->results_in, cfg->results_out};
    if (cfg->curve_cert && *cfg->curve_cert) {
        if (!cfg->curve_allow || !*cfg->curve_allow) {
            snprintf (err, errlen, "CURVE: --curve-allow DIR is required "
                                   "(the public keys allowed in)");
            return -1;
        }
        if (!zmq_has ("curve")) {
            snprintf (err, errlen, "this libzmq has no CURVE support");
            return -1;
        }
        zs_keypair_t kp;
        if (zs_curve_load (cfg->curve_cert, true, &kp, err, errlen) != 0)
            return -1;
        self->auth = zs_bauth_new (self->ctx, cfg->curve_allow,
                                   cfg->curve_read, err, errlen);
        if (!self->auth)
            return -1;
        for (int i = 0; i < ZS_SOCKETS; i++)
            if (zs_curve_server (socks[i], &kp) != 0) {
                snprintf (err, errlen, "CURVE on the %s socket: %s",
                          zs_socket_names[i], zmq_strerror (errno));
                return -1;
            }
        zs_info ("CURVE on every socket: broker key %s", kp.public_);
        return 0;
    }
    for (int i = 0; i < ZS_SOCKETS; i++)
        if (!zs_endpoint_local (eps[i])) {
            if (!cfg->plaintext) {
                snprintf (err, errlen,
                          "the %s socket would listen beyond this machine "
                          "(%s) without CURVE: give --curve-cert and "
                          "--curve-allow, or --plaintext to accept anyone "
                          "who can reach it",
                          zs_socket_names[i], eps[i]);
                return -1;
            }
            zs_warn ("listening on %s without CURVE (--plaintext): anyone "
                     "who can reach it may act as a worker or a client",
                     eps[i]);
            break;
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
    self->holders = zs_holders_new ();
    self->rates = zhashx_new ();
    zhashx_set_destructor (self->rates, s_free_str); /* a malloc'd double */
    self->history = zs_history_new ((size_t) cfg->history_mb << 20);
    self->pending = zlistx_new ();
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
    if (!self->ctx || !self->tasks_by_id || !self->letting_go
        || !self->history || !self->pending) {
        snprintf (err, errlen, "out of memory");
        zs_broker_destroy (&self);
        return NULL;
    }
    zs_planner_config_t pc = {0};
    pc.data = cfg->data;
    pc.universe = cfg->universe;
    pc.list_dir = cfg->list_dir;
    self->planner = zs_planner_new (self->ctx, &pc, err, errlen);
    if (!self->planner) {
        zs_broker_destroy (&self);
        return NULL;
    }
    int one = 1;
    /* high-water marks count messages: a results message holds up to
       ZS_LANE_BATCH results in, ZS_OUT_RECORDS out */
    int in_hwm = 100000 / ZS_LANE_BATCH; /* per lane, as lanes send */
    int out_hwm = (int) cfg->out_hwm;
    int api_hwm = 64; /* replies (replay pages) queued per client */
    int small = 1000;
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
    zmq_setsockopt (self->xpub, ZMQ_XPUB_VERBOSE, &one, sizeof one);
    zmq_setsockopt (self->api, ZMQ_SNDHWM, &api_hwm, sizeof api_hwm);
    /* what each socket's peers may send, at most, in one frame: a peer
       that sends more is disconnected by ZeroMQ before it is read */
    int64_t api_max = (int64_t) ZS_API_MSG_MAX;
    int64_t small_max = ZS_SMALL_MSG_MAX; /* ready, reports */
    int64_t results_max = (int64_t) ZS_RESULTS_MSG_MAX;
    /* a subscription is a prefix (at most ZS_TOPIC_MAX + 1 bytes; longer
       ones are ignored), but ZeroMQ applies the limit to the handshake's
       commands too: CURVE's INITIATE, with its metadata, is a few hundred
       bytes, so the floor is 4 KiB */
    int64_t sub_max = 4096;
    zmq_setsockopt (self->api, ZMQ_MAXMSGSIZE, &api_max, sizeof api_max);
    zmq_setsockopt (self->tasks, ZMQ_MAXMSGSIZE, &small_max,
                    sizeof small_max);
    zmq_setsockopt (self->reports, ZMQ_MAXMSGSIZE, &small_max,
                    sizeof small_max);
    zmq_setsockopt (self->xsub, ZMQ_MAXMSGSIZE, &results_max,
                    sizeof results_max);
    zmq_setsockopt (self->xpub, ZMQ_MAXMSGSIZE, &sub_max, sizeof sub_max);
    zmq_setsockopt (self->control, ZMQ_MAXMSGSIZE, &sub_max, sizeof sub_max);
    if (s_security (self, err, errlen) != 0) {
        zs_broker_destroy (&self);
        return NULL;
    }
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
    void **socks[] = {&self->api,     &self->tasks, &self->reports,
                      &self->control, &self->xsub,  &self->xpub};
    for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++)
        if (*socks[i]) {
            zmq_close (*socks[i]);
            *socks[i] = NULL;
        }
    zlistx_destroy (&self->running);
    zlistx_destroy (&self->finished);
    free (self->aff_seeds);
    zhashx_destroy (&self->scans); /* frees scans and their tasks */
    zs_idmap_destroy (&self->tasks_by_id);
    zhashx_destroy (&self->letting_go);
    zhashx_destroy (&self->lanes);
    zhashx_destroy (&self->workers);
    zhashx_destroy (&self->subs);
    zs_planner_destroy (&self->planner);
    zs_bauth_destroy (&self->auth);
    if (self->pending) {
        zs_api_pending_free (self);
        zlistx_destroy (&self->pending);
    }
    zs_history_destroy (&self->history);
    zhashx_destroy (&self->rates);
    zs_holders_destroy (&self->holders);
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
        zs_fwd_flush (self);
        zmq_pollitem_t items[] = {
            {self->api, 0, ZMQ_POLLIN, 0},
            {self->tasks, 0, ZMQ_POLLIN, 0},
            {self->reports, 0, ZMQ_POLLIN, 0},
            {self->xpub, 0, ZMQ_POLLIN, 0},
            {self->xsub, 0, ZMQ_POLLIN, 0},
            {zs_planner_socket (self->planner), 0, ZMQ_POLLIN, 0},
            {self->auth ? zs_bauth_socket (self->auth) : NULL, 0,
             ZMQ_POLLIN, 0},
        };
        now = zs_clock_us ();
        int64_t wait_us = self->next_sweep_us - now;
        if (wait_us < 0)
            wait_us = 0;
        int rc = zmq_poll (items, self->auth ? 7 : 6,
                           (long) (wait_us / 1000));
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
                zs_api_recv (self);
                zs_life_settle (self);
            }
        if (items[1].revents & ZMQ_POLLIN)
            for (int i = 0; i < 256; i++) {
                int ev = 0;
                size_t sz = sizeof ev;
                zmq_getsockopt (self->tasks, ZMQ_EVENTS, &ev, &sz);
                if (!(ev & ZMQ_POLLIN))
                    break;
                zs_work_tasks_recv (self);
                zs_life_settle (self);
            }
        if (items[2].revents & ZMQ_POLLIN)
            for (int i = 0; i < 256; i++) {
                int ev = 0;
                size_t sz = sizeof ev;
                zmq_getsockopt (self->reports, ZMQ_EVENTS, &ev, &sz);
                if (!(ev & ZMQ_POLLIN))
                    break;
                zs_work_reports_recv (self);
                zs_life_settle (self);
            }
        if (items[3].revents & ZMQ_POLLIN)
            for (int i = 0; i < 256; i++) {
                int ev = 0;
                size_t sz = sizeof ev;
                zmq_getsockopt (self->xpub, ZMQ_EVENTS, &ev, &sz);
                if (!(ev & ZMQ_POLLIN))
                    break;
                if (zs_fwd_subs_recv (self))
                    zs_life_go_covered (self);
            }
        if (items[4].revents & ZMQ_POLLIN)
            /* a bounded burst (about one full worker message, up to
               ZS_LANE_BATCH results): credit and reports must not wait
               behind a flood of results, or lanes idle for want of their
               next task */
            for (uint64_t until = self->in_records + ZS_LANE_BATCH;
                 self->in_records < until;) {
                bool got = zs_fwd_results_recv (self);
                zs_life_settle (self);
                if (!got)
                    break;
                /* what one worker message brought leaves at once: its
                   first result does not wait for the next messages' */
                zs_fwd_flush (self);
            }
        if (items[5].revents & ZMQ_POLLIN) {
            zs_api_plans (self);
            zs_life_settle (self);
        }
        if (self->auth && (items[6].revents & ZMQ_POLLIN))
            zs_bauth_handle (self->auth);
        now = zs_clock_us ();
        if (now >= self->next_hb_us) {
            s_heartbeat (self);
            self->next_hb_us = now + self->cfg.heartbeat_ms * 1000;
        }
        if (now >= self->next_sweep_us) {
            s_sweep (self, now);
            zs_bauth_reload (self->auth, 5000); /* keys added or removed */
            self->next_sweep_us = now + 10000;
        }
        zs_work_dispatch (self);
    }
    /* shutting down: every running scan ends now, and says so */
    zs_bscan_t *s;
    while ((s = (zs_bscan_t *) zlistx_first (self->running)) != NULL)
        zs_life_finish (self, s, ZS_END_FAILED);
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
    zs_fwd_flush (self);
    int linger = 200;
    zmq_setsockopt (self->xpub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (self->control, ZMQ_LINGER, &linger, sizeof linger);
    zs_info ("results: %llu in %llu messages from workers, %llu in %llu "
             "batches to subscribers",
             (unsigned long long) self->in_records,
             (unsigned long long) self->in_msgs,
             (unsigned long long) self->out_records,
             (unsigned long long) self->out_msgs);
    zs_history_stats_t hs;
    zs_history_stats (self->history, &hs);
    zs_info ("history: %zu scans, %.1f of %.0f MB; %llu replay pages "
             "served (%llu records)",
             hs.scans, (double) hs.bytes / 1048576.0,
             (double) hs.budget / 1048576.0,
             (unsigned long long) self->replays,
             (unsigned long long) self->replayed);
    zs_info ("broker stopped (%llu duplicate, %llu late and %llu foreign "
             "results dropped, %llu bad messages)",
             (unsigned long long) self->dropped_dups,
             (unsigned long long) self->dropped_late,
             (unsigned long long) self->dropped_foreign,
             (unsigned long long) self->bad_messages);
    return 0;
}
