/*  zs_gateway.h - the HTTP face of a zscan cluster.

    This first version serves liveness and metrics of what it sees on the
    broker's results bus:
        GET /healthz   200 {"status":"ok","version":...,"uptime":...}
        GET /metrics   Prometheus text: records, results, signals and scans
                       seen on the bus
    Anything else: 404 with a JSON body.  The streaming API of DESIGN.md
    (REST, WebSocket, SSE, dashboard) builds on this server.

    Two threads: libwebsockets' service thread, and one ZeroMQ thread that
    owns the SUB socket; they share only atomic counters.
*/
#ifndef ZS_GATEWAY_H
#define ZS_GATEWAY_H

#include <stdint.h>
#include <stddef.h>

typedef struct {
    const char *listen;       /* interface to listen on, NULL = all        */
    int64_t http_port;
    const char *results_out;  /* broker XPUB endpoint                      */
} zs_gateway_config_t;

typedef struct zs_gateway_t zs_gateway_t;

/* Starts listening and subscribing; NULL with a reason in err. */
zs_gateway_t *zs_gateway_new (const zs_gateway_config_t *cfg, char *err,
                              size_t errlen);
/* Serves until zs_interrupted; returns 0. */
int zs_gateway_run (zs_gateway_t *self);
void zs_gateway_destroy (zs_gateway_t **self_p);

#endif
