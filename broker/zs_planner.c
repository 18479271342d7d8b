/*  zs_planner.c - see zs_planner.h.

    Messages on the pair are one frame of 16 bytes: a kind and a pointer.
    Broker -> planner: a job (plan this), a memory (file these signals) or
    stop.  Planner -> broker: a finished plan.  Whatever a pointer points
    to belongs to the receiver from then on.
*/
#include "zs_planner.h"
#include "zs_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

enum { M_JOB = 1, M_MEMORY, M_STOP, M_PLAN };

typedef struct {
    char id[ZS_ID_MAX + 1];
    uint64_t tag;
    zs_scan_start_t *req;
} s_job_t;

typedef struct {
    char *def_key;
    zhashx_t *set;
} s_memory_t;

typedef struct {
    uint32_t kind;
    void *ptr;
} s_wire_t;

typedef struct s_src_t {
    char *uri;
    zs_source_t *src;
    int64_t used_us;
} s_src_t;

typedef struct s_sig_t {
    char *def_key;
    zhashx_t *set;
    int64_t used_us;
} s_sig_t;

struct zs_planner_t {
    zs_planner_config_t cfg;
    char *data, *universe, *list_dir;   /* owned copies of cfg strings   */
    void *ctx;
    void *broker_end;                   /* the broker's PAIR             */
    void *planner_end;                  /* the thread's PAIR             */
    char endpoint[64];
    pthread_t thread;
    bool running;
    /* the thread's own (nobody else reads or writes them) */
    zs_source_t *default_source;
    zlistx_t *sources;                  /* s_src_t*, most recent last    */
    zlistx_t *signals;                  /* s_sig_t*, most recent last    */
    size_t signal_symbols;
    atomic_size_t nsources, ndefs;
};

static int s_send (void *sock, uint32_t kind, void *ptr)
{
    s_wire_t w = {kind, ptr};
    return zmq_send (sock, &w, sizeof w, 0) == (int) sizeof w ? 0 : -1;
}

static int s_recv (void *sock, s_wire_t *w, int flags)
{
    return zmq_recv (sock, w, sizeof *w, flags) == (int) sizeof *w ? 0 : -1;
}

/* ---------------------------------------------------------------------- */
/*  The thread's side                                                      */

static void s_src_free (s_src_t *s)
{
    zs_source_destroy (&s->src);
    free (s->uri);
    free (s);
}

static void s_sig_free (s_sig_t *s)
{
    zhashx_destroy (&s->set);
    free (s->def_key);
    free (s);
}

/*  The source for uri (NULL/empty = the default): kept open among the
    most recently used few.  The planner needs no bars cached: a
    synthetic source answers liquidity from a symbol's seed. */
static zs_source_t *s_source (zs_planner_t *self, const char *uri,
                              char *err, size_t errlen)
{
    if (!uri || !*uri || strcmp (uri, self->data) == 0)
        return self->default_source;
    for (s_src_t *s = (s_src_t *) zlistx_first (self->sources); s;
         s = (s_src_t *) zlistx_next (self->sources))
        if (strcmp (s->uri, uri) == 0) {
            s->used_us = zs_clock_us ();
            zlistx_move_end (self->sources, zlistx_cursor (self->sources));
            return s->src;
        }
    zs_source_t *src = zs_source_open (uri, 1, err, errlen);
    if (!src)
        return NULL;
    s_src_t *s = (s_src_t *) calloc (1, sizeof *s);
    if (!s || !(s->uri = strdup (uri))) {
        free (s);
        zs_source_destroy (&src);
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    s->src = src;
    s->used_us = zs_clock_us ();
    zlistx_add_end (self->sources, s);
    while (zlistx_size (self->sources) > self->cfg.max_sources) {
        s_src_t *old = (s_src_t *) zlistx_detach (self->sources, NULL);
        s_src_free (old);
    }
    atomic_store (&self->nsources, zlistx_size (self->sources));
    return src;
}

/*  The "signals first" sets as zs_bscan_new wants them: one lookup
    table, built on the fly from the list (a handful of definitions). */
static zhashx_t *s_signal_table (zs_planner_t *self)
{
    zhashx_t *t = zhashx_new ();
    if (!t)
        return NULL;
    for (s_sig_t *s = (s_sig_t *) zlistx_first (self->signals); s;
         s = (s_sig_t *) zlistx_next (self->signals))
        zhashx_update (t, s->def_key, s->set);
    return t;
}

static void s_remember (zs_planner_t *self, s_memory_t *m)
{
    for (s_sig_t *s = (s_sig_t *) zlistx_first (self->signals); s;
         s = (s_sig_t *) zlistx_next (self->signals))
        if (strcmp (s->def_key, m->def_key) == 0) {
            self->signal_symbols -= zhashx_size (s->set);
            zlistx_detach_cur (self->signals);
            s_sig_free (s);
            break;
        }
    s_sig_t *s = (s_sig_t *) calloc (1, sizeof *s);
    if (!s) {
        zhashx_destroy (&m->set);
        free (m->def_key);
        free (m);
        return;
    }
    s->def_key = m->def_key;
    s->set = m->set;
    s->used_us = zs_clock_us ();
    free (m);
    self->signal_symbols += zhashx_size (s->set);
    zlistx_add_end (self->signals, s);
    /* bounded: the least recently filed go first */
    while (zlistx_size (self->signals) > 1
           && (zlistx_size (self->signals) > self->cfg.signal_defs
               || self->signal_symbols > self->cfg.signal_symbols)) {
        s_sig_t *old = (s_sig_t *) zlistx_detach (self->signals, NULL);
        self->signal_symbols -= zhashx_size (old->set);
        s_sig_free (old);
    }
    atomic_store (&self->ndefs, zlistx_size (self->signals));
}

static zs_plan_t *s_plan (zs_planner_t *self, s_job_t *job)
{
    zs_plan_t *plan = (zs_plan_t *) calloc (1, sizeof *plan);
    if (!plan)
        return NULL;
    int64_t t0 = zs_clock_us ();
    snprintf (plan->id, sizeof plan->id, "%s", job->id);
    plan->tag = job->tag;
    char serr[512];
    zs_source_t *source = s_source (self, job->req->def.data, serr,
                                    sizeof serr);
    if (!source) {
        plan->code = ZS_ERR_UNPROCESSABLE;
        snprintf (plan->err, sizeof plan->err, "data source: %s", serr);
        return plan;
    }
    zhashx_t *table = s_signal_table (self);
    zs_bscan_params_t p = {0};
    p.id = job->id;
    p.req = job->req;
    p.default_universe = self->universe;
    p.source = source;
    p.history = table;
    p.list_dir = self->list_dir;
    p.list_max_bytes = self->cfg.list_max_bytes;
    plan->scan = zs_bscan_new (&p, plan->err, sizeof plan->err);
    if (!plan->scan)
        plan->code = ZS_ERR_UNPROCESSABLE;
    zhashx_destroy (&table);
    plan->planned_ms = (double) (zs_clock_us () - t0) / 1e3;
    return plan;
}

static void s_job_free (s_job_t *job)
{
    if (job->req) {
        zs_msg_free (&job->req->mem_);
        free (job->req);
    }
    free (job);
}

static void *s_thread (void *arg)
{
    zs_planner_t *self = (zs_planner_t *) arg;
    for (;;) {
        s_wire_t w;
        if (s_recv (self->planner_end, &w, 0) != 0) {
            if (zmq_errno () == EINTR)
                continue;
            break;
        }
        if (w.kind == M_STOP)
            break;
        if (w.kind == M_MEMORY)
            s_remember (self, (s_memory_t *) w.ptr);
        else if (w.kind == M_JOB) {
            s_job_t *job = (s_job_t *) w.ptr;
            zs_plan_t *plan = s_plan (self, job);
            s_job_free (job);
            if (plan && s_send (self->planner_end, M_PLAN, plan) != 0) {
                zs_bscan_destroy (&plan->scan);
                free (plan);
            }
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------------- */
/*  The broker's side                                                      */

zs_planner_t *zs_planner_new (void *ctx, const zs_planner_config_t *cfg,
                              char *err, size_t errlen)
{
    zs_planner_t *self = (zs_planner_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->cfg = *cfg;
    if (!self->cfg.max_sources)
        self->cfg.max_sources = 8;
    if (!self->cfg.signal_defs)
        self->cfg.signal_defs = 256;
    if (!self->cfg.signal_symbols)
        self->cfg.signal_symbols = 1000000;
    self->ctx = ctx;
    self->data = strdup (cfg->data ? cfg->data : "synthetic:");
    self->universe = strdup (cfg->universe ? cfg->universe
                                           : "synthetic:10000");
    self->list_dir = cfg->list_dir && *cfg->list_dir ? strdup (cfg->list_dir)
                                                     : NULL;
    self->sources = zlistx_new ();
    self->signals = zlistx_new ();
    if (!self->data || !self->universe || !self->sources || !self->signals
        || (cfg->list_dir && *cfg->list_dir && !self->list_dir)) {
        snprintf (err, errlen, "out of memory");
        zs_planner_destroy (&self);
        return NULL;
    }
    char serr[512];
    self->default_source = zs_source_open (self->data, 1, serr, sizeof serr);
    if (!self->default_source) {
        snprintf (err, errlen, "data source %s: %s", self->data, serr);
        zs_planner_destroy (&self);
        return NULL;
    }
    char rnd[13];
    zs_random_id (rnd, 12);
    snprintf (self->endpoint, sizeof self->endpoint, "inproc://planner-%s",
              rnd);
    self->planner_end = zmq_socket (ctx, ZMQ_PAIR);
    self->broker_end = zmq_socket (ctx, ZMQ_PAIR);
    int zero = 0;
    if (!self->planner_end || !self->broker_end
        || zmq_bind (self->planner_end, self->endpoint) != 0
        || zmq_connect (self->broker_end, self->endpoint) != 0) {
        snprintf (err, errlen, "planner socket: %s", zmq_strerror (errno));
        zs_planner_destroy (&self);
        return NULL;
    }
    zmq_setsockopt (self->planner_end, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt (self->broker_end, ZMQ_SNDHWM, &zero, sizeof zero);
    if (pthread_create (&self->thread, NULL, s_thread, self) != 0) {
        snprintf (err, errlen, "cannot start the planner thread");
        zs_planner_destroy (&self);
        return NULL;
    }
    self->running = true;
    return self;
}

void zs_planner_destroy (zs_planner_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_planner_t *self = *self_p;
    if (self->running) {
        s_send (self->broker_end, M_STOP, NULL);
        pthread_join (self->thread, NULL);
    }
    /* what is still on the pair, either way */
    s_wire_t w;
    while (self->broker_end && s_recv (self->broker_end, &w, ZMQ_DONTWAIT)
                                   == 0)
        if (w.kind == M_PLAN) {
            zs_plan_t *plan = (zs_plan_t *) w.ptr;
            zs_bscan_destroy (&plan->scan);
            free (plan);
        }
    while (self->planner_end
           && s_recv (self->planner_end, &w, ZMQ_DONTWAIT) == 0) {
        if (w.kind == M_JOB)
            s_job_free ((s_job_t *) w.ptr);
        else if (w.kind == M_MEMORY) {
            s_memory_t *m = (s_memory_t *) w.ptr;
            zhashx_destroy (&m->set);
            free (m->def_key);
            free (m);
        }
    }
    if (self->broker_end)
        zmq_close (self->broker_end);
    if (self->planner_end)
        zmq_close (self->planner_end);
    if (self->sources) {
        s_src_t *s;
        while ((s = (s_src_t *) zlistx_detach (self->sources, NULL)))
            s_src_free (s);
        zlistx_destroy (&self->sources);
    }
    if (self->signals) {
        s_sig_t *s;
        while ((s = (s_sig_t *) zlistx_detach (self->signals, NULL)))
            s_sig_free (s);
        zlistx_destroy (&self->signals);
    }
    zs_source_destroy (&self->default_source);
    free (self->data);
    free (self->universe);
    free (self->list_dir);
    free (self);
    *self_p = NULL;
}

void *zs_planner_socket (zs_planner_t *self)
{
    return self->broker_end;
}

int zs_planner_submit (zs_planner_t *self, const char *id,
                       zs_scan_start_t *req, uint64_t tag)
{
    s_job_t *job = (s_job_t *) calloc (1, sizeof *job);
    if (!job)
        return -1;
    snprintf (job->id, sizeof job->id, "%s", id);
    job->tag = tag;
    job->req = req;
    if (s_send (self->broker_end, M_JOB, job) != 0) {
        free (job);
        return -1;
    }
    return 0;
}

int zs_planner_recv (zs_planner_t *self, zs_plan_t *out)
{
    s_wire_t w;
    while (s_recv (self->broker_end, &w, ZMQ_DONTWAIT) == 0) {
        if (w.kind != M_PLAN)
            continue;
        zs_plan_t *plan = (zs_plan_t *) w.ptr;
        *out = *plan;
        free (plan);
        return 1;
    }
    return 0;
}

void zs_planner_remember (zs_planner_t *self, const char *def_key,
                          zhashx_t *set)
{
    s_memory_t *m = (s_memory_t *) calloc (1, sizeof *m);
    if (!m || !(m->def_key = strdup (def_key))) {
        free (m);
        zhashx_destroy (&set);
        return;
    }
    m->set = set;
    if (s_send (self->broker_end, M_MEMORY, m) != 0) {
        zhashx_destroy (&m->set);
        free (m->def_key);
        free (m);
    }
}

void zs_planner_counts (zs_planner_t *self, size_t *sources, size_t *defs)
{
    *sources = atomic_load (&self->nsources);
    *defs = atomic_load (&self->ndefs);
}
