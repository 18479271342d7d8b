/*  zs_bridge.h - the gateway's ZeroMQ side, in a thread of its own: the
    broker's results through proto's bus (every scan, gaps filled from
    the broker's history, late scans replayed from their start), rendered
    once into the scan logs (zs_scanlog.h); and the broker's api, for the
    requests HTTP clients make.

    The HTTP thread talks to it through three calls (follow, call, reply)
    and is woken by the wake function (lws_cancel_service) whenever logs
    grew or a reply came.  The one hand-off: an inproc PUSH the HTTP
    thread writes (owned by it), the logs' mutex, and a small locked
    table of replies.
*/
#ifndef ZS_BRIDGE_H
#define ZS_BRIDGE_H

#include "zs_bus.h"
#include "zs_msg.h"
#include "zs_scanlog.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct zs_bridge_t zs_bridge_t;

typedef struct {
    const char *api;              /* the broker's api endpoint           */
    const char *results;          /* its results-out endpoint            */
    zs_logset_t *logs;
    void (*wake) (void *arg);     /* from the bridge thread: news        */
    void *wake_arg;
    int request_ms;               /* a request's answer within (5000)    */
    const zs_curve_client_t *curve; /* CURVE keys for both, or NULL      */
} zs_bridge_config_t;

/*  Starts the bridge thread.  NULL with a reason. */
zs_bridge_t *zs_bridge_new (void *zmq_ctx, const zs_bridge_config_t *cfg,
                            char *err, size_t errlen);
void zs_bridge_destroy (zs_bridge_t **self_p);

/* ---- for the HTTP thread (one thread) ------------------------------- */

/*  Makes sure scan's log fills from its start (a client wants a scan the
    gateway has not seen whole: started elsewhere before the gateway, or
    evicted from the logs). */
void zs_bridge_follow (zs_bridge_t *self, const char *scan);

/*  Sends a request (a msgpack body without req: the bridge numbers it)
    to the broker's api.  start_scan: when the request is a scan_start of
    that id, the bridge makes its log at once and follows it.  Returns a
    ticket for zs_bridge_reply, or 0 when it cannot be sent. */
uint64_t zs_bridge_call (zs_bridge_t *self, const zs_buf_t *request,
                         const char *start_scan);

/*  The reply to ticket, when it has come: 1 with the broker's reply body
    in out (or an error reply made here: 504 when the broker did not
    answer in time); 0 when not yet. */
int zs_bridge_reply (zs_bridge_t *self, uint64_t ticket, zs_buf_t *out);

/* The caller will not take ticket's reply (its client left). */
void zs_bridge_forget (zs_bridge_t *self, uint64_t ticket);

/* ---- from any thread ------------------------------------------------ */

typedef struct {
    bool broker_ok;               /* the broker answered lately          */
    double broker_silent_s;       /* since its last answer               */
    char broker[ZS_ID_MAX + 1];   /* its instance                        */
    zs_bus_stats_t bus;
    uint64_t records;             /* rendered into the logs              */
    uint64_t results, signals;    /* of which results, signals           */
    uint64_t started, finished;   /* scans seen starting, finishing      */
    uint64_t bad;                 /* records that would not render       */
    uint64_t calls, timeouts;     /* api requests, unanswered ones       */
} zs_bridge_stats_t;
void zs_bridge_stats (zs_bridge_t *self, zs_bridge_stats_t *st);

#endif
