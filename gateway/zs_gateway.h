/*  zs_gateway.h - zscan-gateway: the HTTP face of a cluster.

    REST to start, stop, list and inspect scans; every record of a scan as
    a WebSocket stream, a Server-Sent Events stream, a polling endpoint
    and a chunked export; /metrics and /healthz.  The API and its promises
    are in the README ("HTTP API") and ../shared/DESIGN.md.

    Two threads: the libwebsockets service thread (this file's callers,
    every HTTP connection) and the bridge (zs_bridge.h: the broker's bus
    and api).  Every record of a scan is rendered once into its scan log
    (zs_scanlog.h) and read from there by every client through a cursor.
*/
#ifndef ZS_GATEWAY_H
#define ZS_GATEWAY_H

#include "zs_curve.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *listen;        /* interface for HTTP (NULL/"*": all)       */
    int64_t http_port;         /* 0: an ephemeral port (see _port)         */
    const char *api;           /* the broker's api endpoint                */
    const char *results_out;   /* its results-out endpoint                 */
    const char *token;         /* bearer token required, or NULL           */
    const char *cors;          /* Access-Control-Allow-Origin, or NULL     */
    const char *tls_cert;      /* PEM paths: TLS when both are given       */
    const char *tls_key;
    int64_t log_mb;            /* memory for every scan's rendered log     */
    int64_t max_streams;       /* WebSocket + SSE + export, all scans      */
    int64_t max_scan_streams;  /* ... of one scan                          */
    int64_t max_behind;        /* records a client may be behind          */
    int64_t stall_ms;          /* a stream not writable this long is cut   */
    int64_t body_max;          /* largest request body                     */
    int64_t export_chunk;      /* bytes of an export chunk                 */
    int64_t export_flush_ms;   /* a partial export chunk leaves after this */
    int64_t drain_ms;          /* SIGTERM: streams end within this         */
    int64_t keepalive_s;       /* SSE comment / WebSocket ping interval    */
    int64_t request_ms;        /* the broker must answer within this       */
    const char *www;           /* the dashboard's files (NULL: installed)  */
    const char *chart_data;    /* sources charts may read besides synthetic */
    int64_t chart_cache_mb;    /* bars kept for charts                     */
    const zs_curve_client_t *curve; /* CURVE keys to the broker, or NULL */
} zs_gateway_config_t;

void zs_gateway_config_defaults (zs_gateway_config_t *cfg);

typedef struct zs_gateway_t zs_gateway_t;

/*  Listens and connects to the broker.  NULL with a reason (the port is
    taken, a bad certificate...). */
zs_gateway_t *zs_gateway_new (const zs_gateway_config_t *cfg, char *err,
                              size_t errlen);

/* The port it listens on (the one it got when asked for 0). */
int zs_gateway_port (zs_gateway_t *self);

/*  Serves until zs_interrupted; then refuses new connections, ends every
    stream with a reason over drain_ms, and returns 0. */
int zs_gateway_run (zs_gateway_t *self);

void zs_gateway_destroy (zs_gateway_t **self_p);

#endif
