/*  zs_gateway.c - libwebsockets HTTP server + a ZeroMQ bus reader.  */
#include "zs_gateway.h"
#include "zs_bus.h"
#include "zs_msg.h"
#include "zs_topic.h"
#include "zs_util.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct {
    atomic_uint_fast64_t records;   /* every message seen on the bus     */
    atomic_uint_fast64_t results;
    atomic_uint_fast64_t signals;
    atomic_uint_fast64_t started;   /* scans started                     */
    atomic_uint_fast64_t finished;  /* scans finished                    */
    atomic_uint_fast64_t bad;       /* undecodable records               */
} s_counters_t;

struct zs_gateway_t {
    zs_gateway_config_t cfg;
    struct lws_context *lws;
    void *ctx;
    pthread_t bus_thread;
    bool bus_started;
    atomic_int stop;
    s_counters_t count;
    double started_at;
};

/* Per HTTP transaction: the response being written. */
typedef struct {
    char body[2048];
    size_t len;
    int status;
    const char *type;
} s_pss_t;

/* ---------------------------------------------------------------------- */
/*  The bus reader                                                         */

static void *s_bus_main (void *arg)
{
    zs_gateway_t *self = (zs_gateway_t *) arg;
    void *sub = zmq_socket (self->ctx, ZMQ_SUB);
    int linger = 0, timeout = 200;
    zmq_setsockopt (sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0);
    if (zmq_connect (sub, self->cfg.results_out) != 0) {
        zs_error ("cannot connect to %s: %s", self->cfg.results_out,
                  zmq_strerror (errno));
        zmq_close (sub);
        return NULL;
    }
    zs_bus_reader_t bus;
    zs_bus_reader_init (&bus, sub);
    while (!atomic_load (&self->stop)) {
        zs_bus_rec_t rec;
        char err[128];
        /* waits up to the socket's timeout, then checks stop */
        int rc = zs_bus_reader_next (&bus, 0, &rec, err, sizeof err);
        if (rc == 0)
            continue;
        atomic_fetch_add (&self->count.records, 1);
        zs_msg_type_t type;
        if (rc < 0 || zs_msg_peek (rec.data, rec.size, &type, err, sizeof err)
                          != 0)
            atomic_fetch_add (&self->count.bad, 1);
        else if (type == ZS_MSG_RESULT) {
            atomic_fetch_add (&self->count.results, 1);
            if (rec.kind == ZS_TOPIC_RESULT_SIGNAL)
                atomic_fetch_add (&self->count.signals, 1);
        }
        else if (type == ZS_MSG_EV_STARTED)
            atomic_fetch_add (&self->count.started, 1);
        else if (type == ZS_MSG_EV_FINISHED)
            atomic_fetch_add (&self->count.finished, 1);
    }
    zs_bus_reader_close (&bus);
    zmq_close (sub);
    return NULL;
}

/* ---------------------------------------------------------------------- */
/*  HTTP                                                                   */

static void s_respond (zs_gateway_t *self, const char *path, s_pss_t *pss)
{
    pss->status = 200;
    pss->type = "application/json";
    double up = zs_wall () - self->started_at;
    if (strcmp (path, "/healthz") == 0)
        pss->len = (size_t) snprintf (
            pss->body, sizeof pss->body,
            "{\"status\":\"ok\",\"version\":\"%s\",\"uptime\":%.3f,"
            "\"bus\":\"%s\"}\n",
            ZS_VERSION, up, self->cfg.results_out);
    else if (strcmp (path, "/metrics") == 0) {
        pss->type = "text/plain; version=0.0.4";
        s_counters_t *c = &self->count;
        pss->len = (size_t) snprintf (
            pss->body, sizeof pss->body,
            "# HELP zscan_gateway_uptime_seconds Seconds since start.\n"
            "# TYPE zscan_gateway_uptime_seconds gauge\n"
            "zscan_gateway_uptime_seconds %.3f\n"
            "# HELP zscan_bus_records_total Records seen on the results "
            "bus.\n"
            "# TYPE zscan_bus_records_total counter\n"
            "zscan_bus_records_total %llu\n"
            "# TYPE zscan_bus_results_total counter\n"
            "zscan_bus_results_total %llu\n"
            "# TYPE zscan_bus_signals_total counter\n"
            "zscan_bus_signals_total %llu\n"
            "# TYPE zscan_scans_started_total counter\n"
            "zscan_scans_started_total %llu\n"
            "# TYPE zscan_scans_finished_total counter\n"
            "zscan_scans_finished_total %llu\n"
            "# TYPE zscan_bus_bad_records_total counter\n"
            "zscan_bus_bad_records_total %llu\n",
            up, (unsigned long long) atomic_load (&c->records),
            (unsigned long long) atomic_load (&c->results),
            (unsigned long long) atomic_load (&c->signals),
            (unsigned long long) atomic_load (&c->started),
            (unsigned long long) atomic_load (&c->finished),
            (unsigned long long) atomic_load (&c->bad));
    }
    else {
        /* the path came from a client: let jansson escape it */
        pss->status = 404;
        json_t *o = json_pack ("{s:s, s:s}", "error", "not found", "path",
                               path);
        char *text = o ? json_dumps (o, JSON_COMPACT) : NULL;
        pss->len = (size_t) snprintf (pss->body, sizeof pss->body, "%s\n",
                                      text ? text
                                           : "{\"error\":\"not found\"}");
        free (text);
        json_decref (o);
    }
}

static int s_callback (struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len)
{
    s_pss_t *pss = (s_pss_t *) user;
    zs_gateway_t *self = (zs_gateway_t *) lws_context_user (
        lws_get_context (wsi));
    unsigned char buf[LWS_PRE + 4096];
    unsigned char *start = &buf[LWS_PRE], *p = start,
                  *end = &buf[sizeof buf - 1];
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        char path[256];
        snprintf (path, sizeof path, "%s", (const char *) in);
        s_respond (self, path, pss);
        if (lws_add_http_common_headers (wsi, (unsigned int) pss->status,
                                         pss->type, (lws_filepos_t) pss->len,
                                         &p, end)
            || lws_finalize_write_http_header (wsi, start, &p, end))
            return 1;
        lws_callback_on_writable (wsi);
        return 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (pss->len > sizeof buf - LWS_PRE)
            return -1;
        memcpy (start, pss->body, pss->len);
        if (lws_write (wsi, start, pss->len, LWS_WRITE_HTTP_FINAL)
            != (int) pss->len)
            return 1;
        if (lws_http_transaction_completed (wsi))
            return -1;
        return 0;
    }
    default:
        break;
    }
    return lws_callback_http_dummy (wsi, reason, user, in, len);
}

static const struct lws_protocols s_protocols[] = {
    {"http", s_callback, sizeof (s_pss_t), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

zs_gateway_t *zs_gateway_new (const zs_gateway_config_t *cfg, char *err,
                              size_t errlen)
{
    zs_gateway_t *self = (zs_gateway_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->cfg = *cfg;
    self->started_at = zs_wall ();
    lws_set_log_level (LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = (int) cfg->http_port;
    info.iface = cfg->listen && *cfg->listen && strcmp (cfg->listen, "*")
                     ? cfg->listen
                     : NULL;
    info.protocols = s_protocols;
    info.user = self;
    info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
    self->lws = lws_create_context (&info);
    if (!self->lws) {
        snprintf (err, errlen, "cannot listen on %s:%lld",
                  info.iface ? info.iface : "*", (long long) cfg->http_port);
        free (self);
        return NULL;
    }
    self->ctx = zmq_ctx_new ();
    /* signals go to the service thread, which checks zs_interrupted */
    sigset_t block, old;
    sigemptyset (&block);
    sigaddset (&block, SIGINT);
    sigaddset (&block, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &block, &old);
    if (pthread_create (&self->bus_thread, NULL, s_bus_main, self) == 0)
        self->bus_started = true;
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    return self;
}

int zs_gateway_run (zs_gateway_t *self)
{
    zs_info ("gateway listening on port %lld, bus %s",
             (long long) self->cfg.http_port, self->cfg.results_out);
    while (!zs_interrupted)
        if (lws_service (self->lws, 0) < 0)
            break;
    return 0;
}

void zs_gateway_destroy (zs_gateway_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_gateway_t *self = *self_p;
    atomic_store (&self->stop, 1);
    if (self->bus_started)
        pthread_join (self->bus_thread, NULL);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    lws_context_destroy (self->lws);
    free (self);
    *self_p = NULL;
}
