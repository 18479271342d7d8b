/*  zs_bridge.c - see zs_bridge.h.

    The thread polls: commands from the HTTP thread (PULL), the api
    DEALER, and the bus's two sockets; every 50 ms at most it also runs
    the bus's timers, the api requests' deadlines and the broker ping.
    Records are rendered with proto's zs_json and appended to the logs
    in bursts under the logs' lock; one wake per burst.
*/
#include "zs_bridge.h"
#include "zs_json.h"
#include "zs_util.h"

#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

enum { C_FOLLOW = 1, C_CALL, C_STOP };

typedef struct {
    uint64_t ticket;
    int64_t deadline_us;
    char start[ZS_ID_MAX + 1];  /* a scan_start's scan, or ""            */
} s_call_t;

typedef struct {
    uint64_t ticket;
    zs_buf_t body;
} s_reply_t;

struct zs_bridge_t {
    zs_bridge_config_t cfg;
    char api[512], results_ep[512];
    void *ctx;
    void *cmd_in;               /* PULL (the bridge thread's)            */
    void *cmd_out;              /* PUSH (the HTTP thread's)              */
    char endpoint[64];
    pthread_t thread;
    bool running;               /* the thread was started                */
    atomic_bool stopping;
    uint64_t next_ticket;       /* the HTTP thread's                     */
    /* the bridge thread's own */
    void *dealer;               /* api                                   */
    zs_bus_t *bus;
    zlistx_t *calls;            /* s_call_t*: waiting for the broker     */
    zs_json_t js;
    zs_buf_t line, buf;
    zs_buf_t mp;            /* a record as a msgpack envelope             */
    int64_t ping_us;            /* when the last ping went               */
    uint64_t ping_ticket;
    /* shared, under lock */
    pthread_mutex_t lock;
    zlistx_t *replies;          /* s_reply_t*                            */
    atomic_int_fast64_t heard_us;   /* the broker's last answer          */
    char broker[ZS_ID_MAX + 1];
    zs_bus_stats_t bus_stats;
    atomic_uint_fast64_t records, bad, ncalls, timeouts;
    atomic_uint_fast64_t results, signals, started, finished;
};

/* ---------------------------------------------------------------------- */
/*  The HTTP thread's side                                                 */

static int s_command (zs_bridge_t *self, uint8_t kind, uint64_t ticket,
                      const char *scan, const void *body, size_t len)
{
    char head[1 + 8 + ZS_ID_MAX + 1];
    head[0] = (char) kind;
    memcpy (head + 1, &ticket, 8);
    size_t slen = scan ? strlen (scan) : 0;
    if (slen > ZS_ID_MAX)
        return -1;
    memcpy (head + 9, scan ? scan : "", slen);
    if (zmq_send (self->cmd_out, head, 9 + slen, body ? ZMQ_SNDMORE : 0)
        < 0)
        return -1;
    if (body && zmq_send (self->cmd_out, body, len, 0) < 0)
        return -1;
    return 0;
}

void zs_bridge_follow (zs_bridge_t *self, const char *scan)
{
    s_command (self, C_FOLLOW, 0, scan, NULL, 0);
}

uint64_t zs_bridge_call (zs_bridge_t *self, const zs_buf_t *request,
                         const char *start_scan)
{
    uint64_t ticket = ++self->next_ticket;
    if (s_command (self, C_CALL, ticket, start_scan, request->data,
                   request->size)
        != 0)
        return 0;
    return ticket;
}

int zs_bridge_reply (zs_bridge_t *self, uint64_t ticket, zs_buf_t *out)
{
    int got = 0;
    pthread_mutex_lock (&self->lock);
    for (s_reply_t *r = (s_reply_t *) zlistx_first (self->replies); r;
         r = (s_reply_t *) zlistx_next (self->replies))
        if (r->ticket == ticket) {
            zlistx_detach_cur (self->replies);
            zs_buf_reset (out);
            zs_buf_append (out, r->body.data, r->body.size);
            zs_buf_free (&r->body);
            free (r);
            got = 1;
            break;
        }
    pthread_mutex_unlock (&self->lock);
    return got;
}

void zs_bridge_forget (zs_bridge_t *self, uint64_t ticket)
{
    zs_buf_t sink = {0};
    zs_bridge_reply (self, ticket, &sink); /* if it came already */
    zs_buf_free (&sink);
    /* one that comes later is dropped at its deadline sweep: replies not
       taken within a minute go */
}

/* ---------------------------------------------------------------------- */
/*  The bridge thread                                                      */

/*  Files a reply for the HTTP thread (takes body's bytes). */
static void s_reply (zs_bridge_t *self, uint64_t ticket, const void *data,
                     size_t size)
{
    s_reply_t *r = (s_reply_t *) calloc (1, sizeof *r);
    if (!r)
        return;
    r->ticket = ticket;
    zs_buf_append (&r->body, data, size);
    pthread_mutex_lock (&self->lock);
    /* a client that never took its reply: at most 4096 wait */
    while (zlistx_size (self->replies) >= 4096) {
        s_reply_t *old = (s_reply_t *) zlistx_detach (self->replies, NULL);
        zs_buf_free (&old->body);
        free (old);
    }
    zlistx_add_end (self->replies, r);
    pthread_mutex_unlock (&self->lock);
}

static void s_reply_error (zs_bridge_t *self, uint64_t ticket, uint32_t code,
                           const char *message)
{
    zs_error_t e = {0};
    e.req = ticket;
    e.code = code;
    e.message = message;
    char err[128];
    zs_buf_reset (&self->buf);
    if (zs_error_encode (&e, &self->buf, err, sizeof err) == 0)
        s_reply (self, ticket, self->buf.data, self->buf.size);
}

/*  Stamps req = ticket into a request body: the body is re-encoded with
    req appended (a map of n entries becomes n + 1). */
static int s_with_req (zs_buf_t *out, const void *body, size_t size,
                       uint64_t req)
{
    const uint8_t *p = (const uint8_t *) body;
    uint32_t n;
    size_t head;
    if (size >= 1 && (p[0] & 0xf0) == 0x80) {
        n = p[0] & 0x0f;
        head = 1;
    }
    else if (size >= 3 && p[0] == 0xde) {
        n = (uint32_t) (p[1] << 8 | p[2]);
        head = 3;
    }
    else
        return -1;
    n++;
    unsigned char h[5];
    size_t hl;
    if (n < 16) {
        h[0] = (unsigned char) (0x80 | n);
        hl = 1;
    }
    else {
        h[0] = 0xde;
        h[1] = (unsigned char) (n >> 8);
        h[2] = (unsigned char) n;
        hl = 3;
    }
    zs_buf_reset (out);
    zs_buf_append (out, h, hl);
    zs_buf_append (out, p + head, size - head);
    unsigned char kv[16] = {0xa3, 'r', 'e', 'q', 0xcf};
    for (int i = 0; i < 8; i++)
        kv[5 + i] = (unsigned char) (req >> (56 - 8 * i));
    zs_buf_append (out, kv, 13);
    return 0;
}

static void s_on_command (zs_bridge_t *self)
{
    zmq_msg_t head, body;
    zmq_msg_init (&head);
    zmq_msg_init (&body);
    if (zmq_msg_recv (&head, self->cmd_in, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&head);
        zmq_msg_close (&body);
        return;
    }
    bool has_body = zmq_msg_more (&head)
                    && zmq_msg_recv (&body, self->cmd_in, 0) >= 0;
    const char *h = (const char *) zmq_msg_data (&head);
    size_t hlen = zmq_msg_size (&head);
    if (hlen >= 9) {
        uint64_t ticket;
        memcpy (&ticket, h + 1, 8);
        char scan[ZS_ID_MAX + 1];
        size_t slen = hlen - 9 < ZS_ID_MAX ? hlen - 9 : ZS_ID_MAX;
        memcpy (scan, h + 9, slen);
        scan[slen] = 0;
        if (h[0] == C_FOLLOW && slen)
            zs_bus_follow (self->bus, scan, ZS_VIEW_ALL, 0, false);
        else if (h[0] == C_CALL && has_body) {
            self->ncalls++;
            if (s_with_req (&self->buf, zmq_msg_data (&body),
                            zmq_msg_size (&body), ticket)
                    != 0
                || zmq_send (self->dealer, self->buf.data, self->buf.size,
                             ZMQ_DONTWAIT)
                       < 0)
                s_reply_error (self, ticket, ZS_ERR_INTERNAL,
                               "cannot reach the broker");
            else {
                s_call_t *c = (s_call_t *) calloc (1, sizeof *c);
                if (c) {
                    c->ticket = ticket;
                    c->deadline_us = zs_clock_us ()
                                     + (int64_t) self->cfg.request_ms * 1000;
                    snprintf (c->start, sizeof c->start, "%s", scan);
                    zlistx_add_end (self->calls, c);
                    if (slen) {
                        /* its log exists from now, so that clients who
                           connect before its first record wait on it */
                        zs_logset_lock (self->cfg.logs);
                        zs_logset_get (self->cfg.logs, scan, true);
                        zs_logset_unlock (self->cfg.logs);
                    }
                }
            }
        }
    }
    zmq_msg_close (&head);
    zmq_msg_close (&body);
}

static void s_on_api (zs_bridge_t *self)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, self->dealer, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        return;
    }
    /* a reply is one frame; anything else is drained */
    while (zmq_msg_more (&msg)) {
        zmq_msg_close (&msg);
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, self->dealer, 0) < 0)
            break;
    }
    atomic_store (&self->heard_us, zs_clock_us ());
    uint64_t req = 0;
    const void *data = zmq_msg_data (&msg);
    size_t size = zmq_msg_size (&msg);
    if (zs_msg_peek_req (data, size, &req) == 0 && req != self->ping_ticket)
        for (s_call_t *c = (s_call_t *) zlistx_first (self->calls); c;
             c = (s_call_t *) zlistx_next (self->calls))
            if (c->ticket == req) {
                zlistx_detach_cur (self->calls);
                zs_msg_type_t type;
                char err[64];
                if (c->start[0]
                    && zs_msg_peek (data, size, &type, err, sizeof err) == 0
                    && type == ZS_MSG_SCAN_STARTED)
                    zs_bus_follow (self->bus, c->start, ZS_VIEW_ALL, 0,
                                   true);
                s_reply (self, req, data, size);
                free (c);
                if (self->cfg.wake)
                    self->cfg.wake (self->cfg.wake_arg);
                break;
            }
    zmq_msg_close (&msg);
}

/*  Renders what the bus has into the logs (a burst under the lock). */
static bool s_drain_bus (zs_bridge_t *self)
{
    bool news = false;
    zs_logset_t *logs = self->cfg.logs;
    zs_logset_lock (logs);
    for (int i = 0; i < 4096; i++) {
        zs_bus_event_t ev;
        if (zs_bus_next (self->bus, 0, &ev) != 1)
            break;
        zs_scanlog_t *log = zs_logset_get (logs, ev.rec.scan, true);
        if (!log)
            continue;
        char err[256];
        if (ev.what == ZS_BUS_RECORD) {
            zs_msg_type_t type;
            zs_buf_reset (&self->line);
            if (zs_json_record (&self->js, ev.rec.pos, ev.rec.data,
                                ev.rec.size, &type, &self->line, err,
                                sizeof err)
                != 0) {
                self->bad++;
                continue;
            }
            zs_log_kind_t kind =
                type == ZS_MSG_EV_STARTED    ? ZS_LOG_STARTED
                : type == ZS_MSG_EV_PROGRESS ? ZS_LOG_PROGRESS
                : type == ZS_MSG_EV_FINISHED ? ZS_LOG_COMPLETE
                : ev.rec.kind == ZS_TOPIC_RESULT_SIGNAL ? ZS_LOG_SIGNAL
                                                        : ZS_LOG_RESULT;
            zs_buf_reset (&self->mp);
            if (zs_envelope_encode (&self->mp, zs_json_type (type),
                                    ev.rec.pos, ev.rec.data, ev.rec.size)
                != 0)
                continue;
            if (zs_scanlog_append (logs, log, ev.rec.pos, kind,
                                   self->line.data, self->line.size,
                                   self->mp.data, self->mp.size)
                > 0) {
                self->records++;
                if (kind == ZS_LOG_RESULT || kind == ZS_LOG_SIGNAL)
                    self->results++;
                if (kind == ZS_LOG_SIGNAL)
                    self->signals++;
                if (kind == ZS_LOG_STARTED)
                    self->started++;
                if (kind == ZS_LOG_COMPLETE)
                    self->finished++;
            }
            news = true;
        }
        else if (ev.what == ZS_BUS_LOST) {
            /* a notice in the stream, at the last lost position */
            zs_buf_reset (&self->line);
            char head[160];
            snprintf (head, sizeof head,
                      "{\"type\":\"lost\",\"seq\":%llu,\"data\":{\"scan\":",
                      (unsigned long long) ev.lost_to);
            zs_buf_append (&self->line, head, strlen (head));
            zs_json_string (&self->line, ev.rec.scan);
            snprintf (head, sizeof head, ",\"from\":%llu,\"to\":%llu,"
                                         "\"reason\":",
                      (unsigned long long) ev.lost_from,
                      (unsigned long long) ev.lost_to);
            zs_buf_append (&self->line, head, strlen (head));
            zs_json_string (&self->line, ev.reason);
            zs_buf_append (&self->line, "}}", 2);
            zs_buf_reset (&self->mp);
            if (zs_envelope_lost (&self->mp, ev.rec.scan, ev.lost_from,
                                  ev.lost_to, ev.reason)
                != 0)
                continue;
            zs_scanlog_append (logs, log, ev.lost_to, ZS_LOG_LOST,
                               self->line.data, self->line.size,
                               self->mp.data, self->mp.size);
            news = true;
        }
        else if (ev.what == ZS_BUS_GONE) {
            zs_scanlog_gone (logs, log, ev.reason);
            news = true;
        }
        else if (ev.what == ZS_BUS_SILENT)
            atomic_store (&self->heard_us, 0);
    }
    zs_logset_unlock (logs);
    return news;
}

static void s_timers (zs_bridge_t *self, int64_t now)
{
    s_call_t *c = (s_call_t *) zlistx_first (self->calls);
    while (c) {
        s_call_t *next = (s_call_t *) zlistx_next (self->calls);
        if (now >= c->deadline_us) {
            void *cursor = zlistx_find (self->calls, c);
            if (cursor)
                zlistx_detach (self->calls, cursor);
            self->timeouts++;
            s_reply_error (self, c->ticket, 504,
                           "the broker did not answer in time");
            free (c);
            if (self->cfg.wake)
                self->cfg.wake (self->cfg.wake_arg);
            next = (s_call_t *) zlistx_first (self->calls);
        }
        c = next;
    }
    /* a ping every second keeps /healthz honest */
    if (now - self->ping_us >= 1000000) {
        self->ping_us = now;
        zs_worker_list_t m = {0};
        m.req = self->ping_ticket = ((uint64_t) 1 << 62) + (uint64_t) now;
        char err[64];
        zs_buf_reset (&self->buf);
        if (zs_worker_list_encode (&m, &self->buf, err, sizeof err) == 0)
            zmq_send (self->dealer, self->buf.data, self->buf.size,
                      ZMQ_DONTWAIT);
    }
    pthread_mutex_lock (&self->lock);
    zs_bus_stats (self->bus, &self->bus_stats);
    snprintf (self->broker, sizeof self->broker, "%s",
              zs_bus_broker (self->bus));
    pthread_mutex_unlock (&self->lock);
}

static void *s_thread (void *arg)
{
    zs_bridge_t *self = (zs_bridge_t *) arg;
    int64_t next_timers = 0;
    for (;;) {
        zmq_pollitem_t items[4] = {{self->cmd_in, 0, ZMQ_POLLIN, 0},
                                   {self->dealer, 0, ZMQ_POLLIN, 0}};
        zs_bus_pollitems (self->bus, &items[2]);
        if (zmq_poll (items, 4, 50) < 0 && zmq_errno () == ETERM)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            /* (a stop command ends the thread) */
            for (int i = 0; i < 256; i++) {
                int ev = 0;
                size_t sz = sizeof ev;
                zmq_getsockopt (self->cmd_in, ZMQ_EVENTS, &ev, &sz);
                if (!(ev & ZMQ_POLLIN))
                    break;
                s_on_command (self);
            }
            if (atomic_load (&self->stopping))
                break;
        }
        if (items[1].revents & ZMQ_POLLIN)
            for (int i = 0; i < 256; i++) {
                int ev = 0;
                size_t sz = sizeof ev;
                zmq_getsockopt (self->dealer, ZMQ_EVENTS, &ev, &sz);
                if (!(ev & ZMQ_POLLIN))
                    break;
                s_on_api (self);
            }
        if (s_drain_bus (self) && self->cfg.wake)
            self->cfg.wake (self->cfg.wake_arg);
        int64_t now = zs_clock_us ();
        if (now >= next_timers) {
            s_timers (self, now);
            next_timers = now + 50000;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------------- */
/*  Construction                                                           */

zs_bridge_t *zs_bridge_new (void *ctx, const zs_bridge_config_t *cfg,
                            char *err, size_t errlen)
{
    zs_bridge_t *self = (zs_bridge_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->cfg = *cfg;
    if (self->cfg.request_ms <= 0)
        self->cfg.request_ms = 5000;
    snprintf (self->api, sizeof self->api, "%s", cfg->api);
    snprintf (self->results_ep, sizeof self->results_ep, "%s", cfg->results);
    self->cfg.api = self->api;
    self->cfg.results = self->results_ep;
    self->ctx = ctx;
    pthread_mutex_init (&self->lock, NULL);
    self->calls = zlistx_new ();
    self->replies = zlistx_new ();
    char rnd[13];
    zs_random_id (rnd, 12);
    snprintf (self->endpoint, sizeof self->endpoint, "inproc://bridge-%s",
              rnd);
    self->cmd_in = zmq_socket (ctx, ZMQ_PULL);
    self->cmd_out = zmq_socket (ctx, ZMQ_PUSH);
    self->dealer = zmq_socket (ctx, ZMQ_DEALER);
    zs_bus_config_t bc = {0};
    bc.api = cfg->api;
    bc.results = cfg->results;
    bc.rcvhwm = 100000;
    bc.curve = cfg->curve;
    self->bus = zs_bus_new (ctx, &bc, err, errlen);
    if (!self->calls || !self->replies || !self->cmd_in || !self->cmd_out
        || !self->dealer || !self->bus) {
        if (self->bus)
            snprintf (err, errlen, "cannot make the bridge's sockets");
        zs_bridge_destroy (&self);
        return NULL;
    }
    int zero = 0;
    int64_t max = (int64_t) ZS_API_MSG_MAX;
    zmq_setsockopt (self->dealer, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (self->dealer, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt (self->cmd_out, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (self->cmd_out, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt (self->cmd_in, ZMQ_RCVHWM, &zero, sizeof zero);
    zs_socket_retry_soon (self->dealer); /* a broker starting beside us */
    if (zmq_bind (self->cmd_in, self->endpoint) != 0
        || zmq_connect (self->cmd_out, self->endpoint) != 0
        || zs_curve_client_apply (cfg->curve, self->dealer) != 0
        || zmq_connect (self->dealer, cfg->api) != 0) {
        snprintf (err, errlen, "cannot connect to %s: %s", cfg->api,
                  zmq_strerror (errno));
        zs_bridge_destroy (&self);
        return NULL;
    }
    zs_bus_follow_all (self->bus);
    self->running = true;
    if (pthread_create (&self->thread, NULL, s_thread, self) != 0) {
        self->running = false;
        snprintf (err, errlen, "cannot start the bridge thread");
        zs_bridge_destroy (&self);
        return NULL;
    }
    return self;
}

void zs_bridge_destroy (zs_bridge_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_bridge_t *self = *self_p;
    if (self->running) {
        atomic_store (&self->stopping, true);
        s_command (self, C_STOP, 0, NULL, NULL, 0);
        pthread_join (self->thread, NULL);
    }
    zs_bus_destroy (&self->bus);
    void *socks[] = {self->cmd_in, self->cmd_out, self->dealer};
    for (int i = 0; i < 3; i++)
        if (socks[i])
            zmq_close (socks[i]);
    if (self->calls) {
        s_call_t *c;
        while ((c = (s_call_t *) zlistx_detach (self->calls, NULL)))
            free (c);
        zlistx_destroy (&self->calls);
    }
    if (self->replies) {
        s_reply_t *r;
        while ((r = (s_reply_t *) zlistx_detach (self->replies, NULL))) {
            zs_buf_free (&r->body);
            free (r);
        }
        zlistx_destroy (&self->replies);
    }
    zs_json_free (&self->js);
    zs_buf_free (&self->line);
    zs_buf_free (&self->mp);
    zs_buf_free (&self->buf);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

void zs_bridge_stats (zs_bridge_t *self, zs_bridge_stats_t *st)
{
    memset (st, 0, sizeof *st);
    int64_t heard = atomic_load (&self->heard_us);
    st->broker_silent_s = heard ? (double) (zs_clock_us () - heard) / 1e6
                                : -1;
    st->broker_ok = heard && zs_clock_us () - heard < 3000000;
    pthread_mutex_lock (&self->lock);
    st->bus = self->bus_stats;
    snprintf (st->broker, sizeof st->broker, "%s", self->broker);
    st->records = atomic_load (&self->records);
    st->results = atomic_load (&self->results);
    st->signals = atomic_load (&self->signals);
    st->started = atomic_load (&self->started);
    st->finished = atomic_load (&self->finished);
    st->bad = atomic_load (&self->bad);
    st->calls = atomic_load (&self->ncalls);
    st->timeouts = atomic_load (&self->timeouts);
    pthread_mutex_unlock (&self->lock);
}
