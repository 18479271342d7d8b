/*  zs_gw_int.h - the gateway's insides, shared by its files: the
    gateway (zs_gateway.c: construction, routing, the lws callback),
    its HTTP helpers (zs_gwhttp.c), its streams (zs_gwstream.c: fan-out
    of scan logs to WebSocket, SSE, polling and export clients) and its
    own figures (zs_gwmetrics.c: /metrics, /health).  Not for other
    modules: zs_gateway.h is the gateway's interface. */
#ifndef ZS_GW_INT_H
#define ZS_GW_INT_H

#include "zs_bridge.h"
#include "zs_gateway.h"
#include "zs_gwdash.h"
#include "zs_scanlog.h"
#include "zs_util.h"

#include <czmq.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

enum { K_REST = 1, K_WS, K_SSE, K_POLL, K_EXPORT };
enum {
    R_NONE = 0,
    R_HEALTH,
    R_METRICS,
    R_START,
    R_STATS,
    R_STOP,
    R_DELETE,
    R_ACTIVE,
    R_WORKERS,
    R_SSE,
    R_POLL,
    R_STRATEGIES,
    R_CHART,
    R_EXPORT
};
enum { F_NDJSON = 0, F_CSV, F_MSGPACK };

#define FRAME_MAX (64 * 1024) /* bytes of records in one write        */
#define POLL_LIMIT 10000      /* records in one poll answer, at most   */

typedef struct zs_gw_pss_t zs_gw_pss_t;
struct zs_gw_pss_t {
    zs_gw_pss_t *next, *prev; /* on its scan's list, or the waiting list  */
    struct lws *wsi;
    uint8_t kind;
    uint8_t route;
    uint8_t fmt;
    bool listed;  /* on a list                                */
    bool signals; /* signals and events only                  */
    bool batch;   /* several records per WebSocket frame      */
    bool headers; /* streaming headers written                */
    bool ended;   /* the last record (or the reason) went     */
    bool counted; /* counted in the stream totals             */
    int status;
    char scan[ZS_ID_MAX + 1];
    uint64_t cursor;       /* last position sent                       */
    size_t hint;           /* its index in the scan log                */
    uint64_t ticket;       /* a broker request in flight               */
    int64_t want_us;       /* had records waiting since (stall check)  */
    int64_t quiet_us;      /* last write (keep-alives)                 */
    int64_t wait_until_us; /* a long poll's deadline                   */
    uint32_t limit;        /* poll: records at most                    */
    zs_buf_t *out;         /* a REST answer / an export's pending bytes */
    size_t out_sent;
    zs_buf_t *body;   /* a request body being read                */
    z_stream *z;      /* export: gzip                             */
    int64_t flush_us; /* export: last chunk                       */
    const char *why;  /* why it is being closed                   */
    uint16_t close_code;
    const char *ctype;   /* a REST answer's content type            */
    bool head_due;       /* its headers are still to be written      */
    bool greet_due;      /* SSE: the retry line is still to go        */
    bool ka_due;         /* a keep-alive is due                       */
    bool deflate;        /* WebSocket: the client offered
                            permessage-deflate (lws takes it)        */
    unsigned char *wbuf; /* WebSocket with permessage-deflate: the
                            last frame written, kept until the next
                            writable callback (lws may still be
                            compressing from it); others write from
                            the gateway's one frame buffer, which
                            lws has copied what it could not send
                            from when lws_write returns              */
    size_t wcap;
};

typedef struct {
    uint64_t conns[6];  /* open, by kind                        */
    uint64_t opened[6]; /* ever, by kind                        */
    uint64_t records_sent, bytes_sent, frames_sent;
    uint64_t dropped_behind, dropped_stall, dropped_evicted;
    uint64_t rejected[6];     /* 400 401 404 405 413 415/503          */
    uint64_t bad_frames;      /* WebSocket frames we do not take      */
    size_t wbuf_bytes;        /* held by streams' own frame buffers    */
    uint64_t writes_buffered; /* writes lws could not send at once     */
    uint64_t latency[9];      /* gateway's relay: <0.1,0.25,0.5,1,2.5,
                                 5,10,50 ms, more                      */
    uint64_t refused_draining;
    uint64_t files; /* dashboard files served               */
} zs_gw_metrics_t;

struct zs_gateway_t {
    zs_gateway_config_t cfg;
    char *strs[9]; /* owned copies of the config strings   */
    struct lws_context *lws;
    struct lws_vhost *vhost;
    int port;
    void *zctx;
    zs_logset_t *logs;
    zs_bridge_t *bridge;
    zs_gwdash_t *dash;    /* files, strategies, charts             */
    zhashx_t *clients;    /* scan id -> zs_gw_pss_t* (list head)       */
    zs_gw_pss_t *waiting; /* REST requests waiting for the broker  */
    zlistx_t *streams;    /* every stream (sweeps, drain)          */
    unsigned char *frame; /* LWS_PRE + FRAME_MAX + room            */
    size_t frame_cap;
    zs_buf_t tmp;
    char (*dirty)[ZS_ID_MAX + 1];
    zs_gw_metrics_t m;
    double started_at;
    lws_sorted_usec_list_t sweep;
    bool draining;
    int64_t drain_start_us;
};

/* the kinds' names (K_*), as /metrics labels them */
extern const char *zs_gw_kind_names[6];

/* ---------------------------------------------------------------------- */
/*  HTTP helpers (zs_gwhttp.c)                                             */

/*  Appends a C string. */
void zs_gw_buf_lit (zs_buf_t *b, const char *s);
/*  Copies the value of query argument name ("after") into buf; NULL when
    absent. */
const char *zs_gw_arg (struct lws *wsi, const char *name, char *buf, int len);
/*  A query argument as an unsigned number; false when absent or not one
    (*out unchanged). */
bool zs_gw_arg_u64 (struct lws *wsi, const char *name, uint64_t *out);
/*  A query argument that is "1" or "true". */
bool zs_gw_arg_flag (struct lws *wsi, const char *name);
/*  The request's bearer token matches (or none is required). */
bool zs_gw_authorised (zs_gateway_t *self, struct lws *wsi);
/*  Writes the status line and headers (content_len may be
    LWS_ILLEGAL_HTTP_CONTENT_LEN), CORS included; extra: more headers
    ("name:", value pairs, NULL-terminated). */
int zs_gw_headers (zs_gateway_t *self, struct lws *wsi, int status,
                   const char *type, lws_filepos_t content_len,
                   const char *const *extra);
/*  Answers with a whole body (pss->out takes a copy): headers and body
    are written from the writable callback. */
int zs_gw_answer (zs_gateway_t *self, zs_gw_pss_t *pss, int status,
                  const char *type, zs_buf_t *body);
/*  An error answer: {"error":{"code":status,"message":...}}. */
int zs_gw_error (zs_gateway_t *self, zs_gw_pss_t *pss, int status,
                 const char *message);
/*  Sends what pss->out holds (REST answers): the last piece ends the
    transaction. */
int zs_gw_write_out (zs_gateway_t *self, zs_gw_pss_t *pss);

/* ---------------------------------------------------------------------- */
/*  Streams (zs_gwstream.c)                                                */

/*  A session onto (off) a doubly linked list: a scan's streams, or the
    requests waiting for the broker. */
void zs_gw_list_add (zs_gw_pss_t **head, zs_gw_pss_t *p);
void zs_gw_list_remove (zs_gw_pss_t **head, zs_gw_pss_t *p);
/*  Puts a stream on its scan's list (so news wakes it). */
void zs_gw_watch (zs_gateway_t *self, zs_gw_pss_t *p);
/*  Takes it off its list again (a scan without streams has none). */
void zs_gw_unwatch (zs_gateway_t *self, zs_gw_pss_t *p);
/*  How many streams a scan has. */
size_t zs_gw_scan_clients (zs_gateway_t *self, const char *scan);
/*  Counts a stream opened (open) or closed, by kind, once each; every
    open stream is on the gateway's list of streams. */
void zs_gw_stream_count (zs_gateway_t *self, zs_gw_pss_t *pss, bool open);
/*  Room for another stream of scan?  (The limits.) */
bool zs_gw_room (zs_gateway_t *self, const char *scan);
/*  A stream starts: its log exists (or is asked for from its start). */
void zs_gw_stream_open (zs_gateway_t *self, zs_gw_pss_t *pss);
/*  Ends a stream: a WebSocket closes with code and reason, an SSE stream
    says why in a last event, then closes. */
int zs_gw_end (zs_gateway_t *self, zs_gw_pss_t *pss, uint16_t code,
               const char *why);
/*  A WebSocket stream's own frame buffer goes (it is counted in
    /metrics: idle streams should hold none). */
void zs_gw_wbuf_free (zs_gateway_t *self, zs_gw_pss_t *pss);
/*  A stream's writable callback: what it has not sent, one frame. */
int zs_gw_stream_write (zs_gateway_t *self, zs_gw_pss_t *pss);

/* ---------------------------------------------------------------------- */
/*  The gateway's figures (zs_gwmetrics.c)                                 */

/*  GET /metrics: Prometheus text. */
int zs_gw_metrics (zs_gateway_t *self, zs_gw_pss_t *pss);
/*  GET /health: 200 while the broker answers, else 503. */
int zs_gw_health (zs_gateway_t *self, zs_gw_pss_t *pss);

#endif
