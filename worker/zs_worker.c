/*  zs_worker.c - the worker's main thread: hello, heartbeats, control
    (cancel, shutdown, broker heartbeat) and the lanes' lifetimes.  */
#include "zs_worker.h"
#include "zs_mem.h"
#include "zs_kernels.h"
#include "zs_bars.h"
#include "zs_msg.h"
#include "zs_topic.h"
#include "zs_util.h"
#include "zs_wshared.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

struct zs_worker_t {
    zs_wshared_t shared;
    pthread_t *threads;
    zs_lane_arg_t *args;
    size_t nthreads;       /* lanes started                                */
    void *push;            /* reports                                      */
    void *sub;             /* control                                      */
    char broker[ZS_ID_MAX + 1];
    zs_buf_t buf;
    bool shutdown;         /* the broker asked us to stop                  */
};

/*  Loads every symbol of a universe once, so that the source caches its
    bars (a synthetic symbol's bars cost ~50 times a scan of them to make, a
    CSV file more): the first scans then run at full speed.  What does not
    fit the cache is said. */
static int s_preload (zs_source_t *source, const char *spec, char *err,
                      size_t errlen)
{
    zs_strlist_t syms = {0};
    char serr[512];
    if (zs_universe_expand (spec, source, &syms, serr, sizeof serr) != 0) {
        snprintf (err, errlen, "--preload %s: %s", spec, serr);
        zs_strlist_clear (&syms);
        return -1;
    }
    int64_t t0 = zs_clock_ms ();
    size_t loaded = 0, failed = 0, uncached = 0;
    zs_cache_stats_t before, after;
    zs_cache_stats (zs_source_cache (source), &before);
    int isa = zs_isa_detect ();
    char why[ZS_REASON_MAX + 1];
    /* a slice at a time, so that SIGINT/SIGTERM stops it early */
    for (size_t i = 0; i < syms.size && !zs_interrupted; i += 1024) {
        size_t m = syms.size - i < 1024 ? syms.size - i : 1024;
        size_t was = failed;
        loaded += zs_source_keep (source,
                                  (const char *const *) syms.items + i, m,
                                  isa, false, &failed, why, sizeof why);
        if (!was && failed)
            zs_warn ("preload: %s", why);
    }
    /* what the cache let go of: loaded again when scanned */
    zs_cache_stats (zs_source_cache (source), &after);
    uncached = (size_t) (after.evictions - before.evictions);
    zs_info ("preloaded %zu of %zu symbols of %s in %.2f s%s", loaded,
             syms.size, spec, (double) (zs_clock_ms () - t0) / 1e3,
             failed ? " (some failed: see above)" : "");
    if (uncached)
        zs_warn ("preload: %zu symbols did not fit the bar cache (see "
                 "--cache-mb)",
                 uncached);
    zs_strlist_clear (&syms);
    return 0;
}

zs_worker_t *zs_worker_new (const zs_worker_config_t *cfg, char *err,
                            size_t errlen)
{
    zs_worker_t *self = (zs_worker_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    zs_wshared_t *sh = &self->shared;
    sh->cfg = *cfg;
    if (cfg->id && *cfg->id)
        snprintf (sh->id, sizeof sh->id, "%s", cfg->id);
    else {
        char host[128] = "host";
        gethostname (host, sizeof host);
        host[sizeof host - 1] = 0;
        snprintf (sh->id, sizeof sh->id, "%s-%d", host, (int) getpid ());
    }
    zs_random_id (sh->instance, 12);
    pthread_mutex_init (&sh->lock, NULL);
    sh->sources = zlistx_new ();
    sh->cache = zs_cache_new (cfg->cache_bytes ? cfg->cache_bytes
                                               : (size_t) 1 << 30);
    if (!sh->sources || !sh->cache) {
        snprintf (err, errlen, "out of memory");
        zs_worker_destroy (&self);
        return NULL;
    }
    char serr[512];
    sh->default_source = zs_source_open_in (cfg->data, sh->cache, serr,
                                            sizeof serr);
    if (!sh->default_source) {
        snprintf (err, errlen, "data source %s: %s", cfg->data, serr);
        zs_worker_destroy (&self);
        return NULL;
    }
    if (cfg->preload && *cfg->preload
        && s_preload (sh->default_source, cfg->preload, err, errlen) != 0) {
        zs_worker_destroy (&self);
        return NULL;
    }
    sh->ctx = zmq_ctx_new ();
    /*  One I/O thread per 4 lanes (ZeroMQ spreads the sockets over them).
        Each message a lane sends wakes an I/O thread, and here a wake-up
        costs more than the sending: with 2 (results on one, credit and
        reports on the other) a single-lane worker delivered 6% fewer
        symbols per CPU-second than with 1, the whole cluster 12% fewer per
        second (bench, 4 runs each, alternated).  The price: a scan's
        first result, whose credit and report now share the thread, came
        about 0.6 ms later (median of 8 alternated runs: 3.1 ms from the
        request, against 2.4).  A cancel waits at most behind one results
        message (~180 KB). */
    if (sh->ctx)
        zmq_ctx_set (sh->ctx, ZMQ_IO_THREADS,
                     (int) ((cfg->threads + 3) / 4 > 0 ? (cfg->threads + 3) / 4
                                                       : 1));
    if (!sh->ctx) {
        snprintf (err, errlen, "cannot create a ZeroMQ context");
        zs_worker_destroy (&self);
        return NULL;
    }
    return self;
}

void zs_worker_destroy (zs_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_worker_t *self = *self_p;
    zs_wshared_t *sh = &self->shared;
    if (self->push)
        zmq_close (self->push);
    if (self->sub)
        zmq_close (self->sub);
    for (int64_t i = 0; self->args && i < sh->cfg.threads; i++)
        if (self->args[i].wake)
            zmq_close (self->args[i].wake);
    if (sh->ctx)
        zmq_ctx_term (sh->ctx);
    if (sh->sources) {
        zs_wshared_sources_close (sh);
        zlistx_destroy (&sh->sources);
    }
    zs_source_destroy (&sh->default_source);
    zs_cache_destroy (&sh->cache);
    pthread_mutex_destroy (&sh->lock);
    zs_buf_free (&self->buf);
    free (self->threads);
    free (self->args);
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------- */

static void s_send (zs_worker_t *self)
{
    if (zmq_send (self->push, self->buf.data, self->buf.size, 0) < 0)
        zs_warn ("cannot send a report: %s", zmq_strerror (errno));
}

static void s_hello (zs_worker_t *self)
{
    char host[128] = "";
    gethostname (host, sizeof host);
    host[sizeof host - 1] = 0;
    zs_hello_t m = {0};
    m.worker = self->shared.id;
    m.instance = self->shared.instance;
    m.host = host;
    m.pid = (uint32_t) getpid ();
    m.threads = (uint32_t) self->shared.cfg.threads;
    m.data = zs_source_uri (self->shared.default_source);
    m.version = ZS_VERSION;
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_hello_encode (&m, &self->buf, err, sizeof err) == 0)
        s_send (self);
    else
        zs_error ("cannot encode hello: %s", err);
}

static void s_heartbeat (zs_worker_t *self)
{
    zs_heartbeat_t m = {0};
    m.worker = self->shared.id;
    m.instance = self->shared.instance;
    int busy = atomic_load (&self->shared.busy);
    m.busy = busy > 0 ? (uint32_t) busy : 0;
    m.symbols = atomic_load (&self->shared.symbols);
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_heartbeat_encode (&m, &self->buf, err, sizeof err) == 0)
        s_send (self);
}

static void s_bye (zs_worker_t *self, const char *reason)
{
    zs_bye_t m = {0};
    m.worker = self->shared.id;
    m.reason = reason;
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_bye_encode (&m, &self->buf, err, sizeof err) == 0)
        s_send (self);
}

/*  One control message: [topic, body]. */
static void s_control (zs_worker_t *self)
{
    char topic[32];
    int tlen = zmq_recv (self->sub, topic, sizeof topic - 1, ZMQ_DONTWAIT);
    if (tlen < 0)
        return;
    if (tlen > (int) sizeof topic - 1)
        tlen = (int) sizeof topic - 1;
    topic[tlen] = 0;
    int more = 0;
    size_t sz = sizeof more;
    zmq_getsockopt (self->sub, ZMQ_RCVMORE, &more, &sz);
    if (!more) {
        zs_warn ("control: dropped a one-frame message");
        return;
    }
    zmq_msg_t body;
    zmq_msg_init (&body);
    if (zmq_msg_recv (&body, self->sub, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&body);
        return;
    }
    const void *data = zmq_msg_data (&body);
    size_t size = zmq_msg_size (&body);
    char err[256];
    if (strcmp (topic, ZS_CTL_CANCEL) == 0) {
        zs_cancel_t m = {0};
        if (zs_cancel_decode (data, size, &m, err, sizeof err) == 0) {
            zs_wshared_cancel (&self->shared, m.scan);
            zs_debug ("scan %s cancelled (%s)", m.scan,
                      zs_end_reason_name (m.reason));
        }
        else
            zs_warn ("control: bad cancel: %s", err);
        zs_msg_free (&m.mem_);
    }
    else if (strcmp (topic, ZS_CTL_SHUTDOWN) == 0) {
        zs_shutdown_t m = {0};
        if (zs_shutdown_decode (data, size, &m, err, sizeof err) == 0) {
            zs_info ("broker asks us to shut down: %s",
                     m.reason ? m.reason : "-");
            self->shutdown = true;
        }
        else
            zs_warn ("control: bad shutdown: %s", err);
        zs_msg_free (&m.mem_);
    }
    else if (strcmp (topic, ZS_CTL_HB) == 0) {
        zs_broker_hb_t m = {0};
        if (zs_broker_hb_decode (data, size, &m, err, sizeof err) == 0) {
            if (strcmp (m.broker, self->broker) != 0) {
                if (self->broker[0]) {
                    zs_info ("a new broker (%s): saying hello again",
                             m.broker);
                    s_hello (self);
                    atomic_fetch_add (&self->shared.epoch, 1);
                }
                snprintf (self->broker, sizeof self->broker, "%s", m.broker);
            }
        }
        else
            zs_warn ("control: bad heartbeat: %s", err);
        zs_msg_free (&m.mem_);
    }
    else
        zs_warn ("control: unknown topic '%s'", topic);
    more = zmq_msg_more (&body);
    zmq_msg_close (&body);
    while (more) { /* drain extra frames */
        zmq_msg_init (&body);
        more = zmq_msg_recv (&body, self->sub, ZMQ_DONTWAIT) >= 0
               && zmq_msg_more (&body);
        zmq_msg_close (&body);
    }
}

static int s_start_lanes (zs_worker_t *self)
{
    size_t n = (size_t) self->shared.cfg.threads;
    self->threads = (pthread_t *) calloc (n, sizeof (pthread_t));
    self->args = (zs_lane_arg_t *) calloc (n, sizeof (zs_lane_arg_t));
    if (!self->threads || !self->args)
        return -1;
    if (self->shared.cfg.prefault_bytes)
        zs_mem_keep_freed (true); /* what the lanes touch ahead stays */
    /* lanes leave SIGINT/SIGTERM to the main thread */
    sigset_t block, old;
    sigemptyset (&block);
    sigaddset (&block, SIGINT);
    sigaddset (&block, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &block, &old);
    for (size_t i = 0; i < n; i++) {
        zs_lane_arg_t *a = &self->args[i];
        a->shared = &self->shared;
        a->lane = (uint32_t) i;
        snprintf (a->wake_ep, sizeof a->wake_ep, "inproc://zs-wake-%p",
                  (void *) a);
        a->wake = zmq_socket (self->shared.ctx, ZMQ_PAIR);
        if (a->wake && zmq_bind (a->wake, a->wake_ep) != 0) {
            zmq_close (a->wake);
            a->wake = NULL;
        }
        if (pthread_create (&self->threads[i], NULL, zs_lane_main,
                            &self->args[i])
            != 0)
            break;
        self->nthreads++;
    }
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    return self->nthreads == n ? 0 : -1;
}

int zs_worker_run (zs_worker_t *self)
{
    zs_wshared_t *sh = &self->shared;
    self->push = zmq_socket (sh->ctx, ZMQ_PUSH);
    self->sub = zmq_socket (sh->ctx, ZMQ_SUB);
    int64_t ctl_max = ZS_SMALL_MSG_MAX; /* control: cancels, heartbeats */
    if (self->sub)
        zmq_setsockopt (self->sub, ZMQ_MAXMSGSIZE, &ctl_max, sizeof ctl_max);
    int linger = 2000, sndtimeo = 1000; /* see zs_lane.c's s_socket */
    zmq_setsockopt (self->push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (self->push, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    zmq_setsockopt (self->sub, ZMQ_SUBSCRIBE, "", 0);
    zs_socket_retry_soon (self->push);
    zs_socket_retry_soon (self->sub);
    /* a broker that refuses our key says so once, at the handshake, and
       ZeroMQ does not try again: watch for it and stop with the reason
       (a supervisor restarting us picks up a key added meanwhile). The
       monitor is in place before we connect: the one event may come
       before this thread runs its next line after zmq_connect */
    char mon_ep[64];
    snprintf (mon_ep, sizeof mon_ep, "inproc://worker-auth-%p", (void *) self);
    void *mon = NULL;
    if (sh->cfg.curve.on
        && zmq_socket_monitor (self->push, mon_ep,
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
               == 0) {
        mon = zmq_socket (sh->ctx, ZMQ_PAIR);
        if (mon && zmq_connect (mon, mon_ep) != 0) {
            zmq_close (mon);
            mon = NULL;
        }
    }
    if (zs_curve_client_apply (&sh->cfg.curve, self->push) != 0
        || zs_curve_client_apply (&sh->cfg.curve, self->sub) != 0
        || zmq_connect (self->push, sh->cfg.reports) != 0
        || zmq_connect (self->sub, sh->cfg.control) != 0) {
        zs_error ("cannot connect to the broker: %s", zmq_strerror (errno));
        if (mon) {
            zmq_socket_monitor (self->push, NULL, 0);
            zmq_close (mon);
        }
        return 1;
    }
    s_hello (self);
    if (s_start_lanes (self) != 0) {
        zs_error ("cannot start %lld lanes", (long long) sh->cfg.threads);
        atomic_store (&sh->stopping, 2);
    }
    zs_info ("worker %s: %zu lanes, data %s, broker %s", sh->id,
             self->nthreads, zs_source_uri (sh->default_source),
             sh->cfg.tasks);
    int64_t next_hb = zs_clock_ms ();
    bool refused = false;
    while (!zs_interrupted && !self->shutdown
           && atomic_load (&sh->stopping) == 0) {
        int64_t now = zs_clock_ms ();
        if (now >= next_hb) {
            s_heartbeat (self);
            next_hb = now + sh->cfg.heartbeat_ms;
        }
        zmq_pollitem_t items[] = {{self->sub, 0, ZMQ_POLLIN, 0},
                                  {mon, 0, ZMQ_POLLIN, 0}};
        long wait = (long) (next_hb - now);
        int rc = zmq_poll (items, mon ? 2 : 1, wait > 0 ? wait : 0);
        if (rc < 0 && errno != EINTR)
            break;
        if (rc > 0 && mon && (items[1].revents & ZMQ_POLLIN)) {
            zs_error ("the broker refused this worker's key (%s): add its "
                      "public certificate to the broker's --curve-allow "
                      "directory; stopping",
                      sh->cfg.curve.mine.public_);
            refused = true;
            break;
        }
        if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
            for (int i = 0; i < 64; i++) {
                int ev = 0;
                size_t sz = sizeof ev;
                zmq_getsockopt (self->sub, ZMQ_EVENTS, &ev, &sz);
                if (!(ev & ZMQ_POLLIN))
                    break;
                s_control (self);
            }
    }
    /* stop pulling; lanes finish their batch, return queued ones */
    if (atomic_load (&sh->stopping) == 0)
        atomic_store (&sh->stopping, 1);
    const char *why = self->shutdown                        ? "shutdown"
                      : zs_interrupt_signal == SIGTERM      ? "SIGTERM"
                      : zs_interrupt_signal == SIGINT       ? "SIGINT"
                                                            : "stopped";
    zs_info ("stopping (%s): finishing the batches in hand", why);
    for (size_t i = 0; i < self->nthreads; i++)
        if (self->args[i].wake) /* an idle lane need not wait out its poll */
            zmq_send (self->args[i].wake, "", 0, ZMQ_DONTWAIT);
    for (size_t i = 0; i < self->nthreads; i++)
        pthread_join (self->threads[i], NULL);
    if (!refused)
        s_bye (self, why);
    if (mon) {
        zmq_socket_monitor (self->push, NULL, 0);
        zmq_close (mon);
    }
    zs_info ("bye");
    return refused ? 1 : 0;
}
