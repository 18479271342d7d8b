/*  zs_gateway.c - the HTTP face (see zs_gateway.h).

    One libwebsockets protocol serves everything: plain HTTP requests,
    SSE, polling and export (HTTP), and WebSocket upgrades on
    /ws/results/{id}.  Three lifetimes, three structs, as lws's minimal
    examples have them: the gateway (per context), the session (s_pss_t:
    one request or stream) and a frame (the writer's scratch, shared: one
    service thread).

    Fan-out: each stream has a cursor (the last position it sent) into
    its scan's log; when the bridge appends it wakes the service thread
    (lws_cancel_service), which asks every stream of the dirty scans for
    a writable callback, and each writes what it has not sent: several
    records in one frame when it is behind.  A stream that falls further
    behind than max_behind, whose records left the log, or that stays
    unwritable for stall_ms is cut with a reason; nothing else waits for
    it and it holds no copy of the records.
*/
#include "zs_gateway.h"
#include "zs_gwdash.h"
#include "zs_bridge.h"
#include "zs_gwjson.h"
#include "zs_json.h"
#include "zs_scanlog.h"
#include "zs_util.h"

#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zmq.h>

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

typedef struct s_pss_t s_pss_t;
struct s_pss_t {
    s_pss_t *next, *prev;   /* on its scan's list, or the waiting list  */
    struct lws *wsi;
    uint8_t kind;
    uint8_t route;
    uint8_t fmt;
    bool listed;            /* on a list                                */
    bool signals;           /* signals and events only                  */
    bool batch;             /* several records per WebSocket frame      */
    bool headers;           /* streaming headers written                */
    bool ended;             /* the last record (or the reason) went     */
    bool counted;           /* counted in the stream totals             */
    int status;
    char scan[ZS_ID_MAX + 1];
    uint64_t cursor;        /* last position sent                       */
    size_t hint;            /* its index in the scan log                */
    uint64_t ticket;        /* a broker request in flight               */
    int64_t want_us;        /* had records waiting since (stall check)  */
    int64_t quiet_us;       /* last write (keep-alives)                 */
    int64_t wait_until_us;  /* a long poll's deadline                   */
    uint32_t limit;         /* poll: records at most                    */
    zs_buf_t *out;          /* a REST answer / an export's pending bytes */
    size_t out_sent;
    zs_buf_t *body;         /* a request body being read                */
    z_stream *z;            /* export: gzip                             */
    int64_t flush_us;       /* export: last chunk                       */
    const char *why;        /* why it is being closed                   */
    uint16_t close_code;
    const char *ctype;      /* a REST answer's content type            */
    bool head_due;          /* its headers are still to be written      */
    bool greet_due;         /* SSE: the retry line is still to go        */
    bool ka_due;            /* a keep-alive is due                       */
    bool deflate;           /* WebSocket: the client offered
                               permessage-deflate (lws takes it)        */
    unsigned char *wbuf;    /* WebSocket with permessage-deflate: the
                               last frame written, kept until the next
                               writable callback (lws may still be
                               compressing from it); others write from
                               the gateway's one frame buffer, which
                               lws has copied what it could not send
                               from when lws_write returns              */
    size_t wcap;
};

typedef struct {
    uint64_t conns[6];          /* open, by kind                        */
    uint64_t opened[6];         /* ever, by kind                        */
    uint64_t records_sent, bytes_sent, frames_sent;
    uint64_t dropped_behind, dropped_stall, dropped_evicted;
    uint64_t rejected[6];       /* 400 401 404 405 413 415/503          */
    uint64_t bad_frames;        /* WebSocket frames we do not take      */
    size_t wbuf_bytes;          /* held by streams' own frame buffers    */
    uint64_t writes_buffered;   /* writes lws could not send at once     */
    uint64_t latency[9];        /* gateway's relay: <0.1,0.25,0.5,1,2.5,
                                   5,10,50 ms, more                      */
    uint64_t refused_draining;
    uint64_t files;             /* dashboard files served               */
} s_metrics_t;

struct zs_gateway_t {
    zs_gateway_config_t cfg;
    char *strs[9];              /* owned copies of the config strings   */
    struct lws_context *lws;
    struct lws_vhost *vhost;
    int port;
    void *zctx;
    zs_logset_t *logs;
    zs_bridge_t *bridge;
    zs_gwdash_t *dash;          /* files, strategies, charts             */
    zhashx_t *clients;          /* scan id -> s_pss_t* (list head)       */
    s_pss_t *waiting;           /* REST requests waiting for the broker  */
    zlistx_t *streams;          /* every stream (sweeps, drain)          */
    unsigned char *frame;       /* LWS_PRE + FRAME_MAX + room            */
    size_t frame_cap;
    zs_buf_t tmp;
    char (*dirty)[ZS_ID_MAX + 1];
    s_metrics_t m;
    double started_at;
    lws_sorted_usec_list_t sweep;
    bool draining;
    int64_t drain_start_us;
};

static const char *s_kind_names[] = {"", "rest", "ws", "sse", "poll",
                                     "export"};

/* ---------------------------------------------------------------------- */
/*  Lists                                                                  */

static void s_list_add (s_pss_t **head, s_pss_t *p)
{
    p->prev = NULL;
    p->next = *head;
    if (*head)
        (*head)->prev = p;
    *head = p;
    p->listed = true;
}

static void s_list_remove (s_pss_t **head, s_pss_t *p)
{
    if (!p->listed)
        return;
    if (p->prev)
        p->prev->next = p->next;
    else if (*head == p)
        *head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->next = p->prev = NULL;
    p->listed = false;
}

/*  Puts a stream on its scan's list (so news wakes it). */
static void s_watch (zs_gateway_t *self, s_pss_t *p)
{
    s_pss_t *head = (s_pss_t *) zhashx_lookup (self->clients, p->scan);
    s_list_add (&head, p);
    zhashx_update (self->clients, p->scan, head);
}

static void s_unwatch (zs_gateway_t *self, s_pss_t *p)
{
    if (!p->listed)
        return;
    if (p->kind == K_REST) {
        s_list_remove (&self->waiting, p);
        return;
    }
    s_pss_t *head = (s_pss_t *) zhashx_lookup (self->clients, p->scan);
    s_list_remove (&head, p);
    if (head)
        zhashx_update (self->clients, p->scan, head);
    else
        zhashx_delete (self->clients, p->scan);
}

static size_t s_scan_clients (zs_gateway_t *self, const char *scan)
{
    size_t n = 0;
    for (s_pss_t *p = (s_pss_t *) zhashx_lookup (self->clients, scan); p;
         p = p->next)
        n++;
    return n;
}

/* ---------------------------------------------------------------------- */
/*  Small HTTP helpers                                                     */

static void s_buf_lit (zs_buf_t *b, const char *s)
{
    zs_buf_append (b, s, strlen (s));
}

/*  Copies the value of query argument name ("after") into buf; NULL when
    absent. */
static const char *s_arg (struct lws *wsi, const char *name, char *buf,
                          int len)
{
    char key[32];
    snprintf (key, sizeof key, "%s=", name);
    return lws_get_urlarg_by_name (wsi, key, buf, len);
}

static bool s_arg_u64 (struct lws *wsi, const char *name, uint64_t *out)
{
    char buf[64];
    const char *v = s_arg (wsi, name, buf, sizeof buf);
    if (!v || !*v)
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long u = strtoull (v, &end, 10);
    if (errno || *end || *v == '-')
        return false;
    *out = u;
    return true;
}

static bool s_arg_flag (struct lws *wsi, const char *name)
{
    char buf[16];
    const char *v = s_arg (wsi, name, buf, sizeof buf);
    return v && (!strcmp (v, "1") || !strcmp (v, "true"));
}

/*  The request's bearer token matches (or none is required). */
static bool s_authorised (zs_gateway_t *self, struct lws *wsi)
{
    if (!self->cfg.token)
        return true;
    char buf[512];
    int n = lws_hdr_copy (wsi, buf, sizeof buf,
                          WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n > 7 && !strncmp (buf, "Bearer ", 7)
        && !strcmp (buf + 7, self->cfg.token))
        return true;
    const char *t = s_arg (wsi, "token", buf, sizeof buf);
    return t && !strcmp (t, self->cfg.token);
}

/*  Writes the status line and headers (content_len may be
    LWS_ILLEGAL_HTTP_CONTENT_LEN), CORS included; extra: more headers
    ("name:", value pairs, NULL-terminated). */
static int s_headers (zs_gateway_t *self, struct lws *wsi, int status,
                      const char *type, lws_filepos_t content_len,
                      const char *const *extra)
{
    unsigned char buf[LWS_PRE + 2048];
    unsigned char *start = &buf[LWS_PRE], *p = start,
                  *end = &buf[sizeof buf - 1];
    if (lws_add_http_common_headers (wsi, (unsigned) status, type,
                                     content_len, &p, end))
        return -1;
    if (self->cfg.cors
        && lws_add_http_header_by_name (
            wsi, (const unsigned char *) "access-control-allow-origin:",
            (const unsigned char *) self->cfg.cors,
            (int) strlen (self->cfg.cors), &p, end))
        return -1;
    for (int i = 0; extra && extra[i]; i += 2)
        if (lws_add_http_header_by_name (wsi,
                                         (const unsigned char *) extra[i],
                                         (const unsigned char *) extra[i + 1],
                                         (int) strlen (extra[i + 1]), &p, end))
            return -1;
    if (lws_finalize_write_http_header (wsi, start, &p, end))
        return -1;
    return 0;
}

/*  Answers with a whole body (pss->out takes a copy): headers and body
    are written from the writable callback. */
static int s_answer (zs_gateway_t *self, s_pss_t *pss, int status,
                     const char *type, zs_buf_t *body)
{
    if (!pss->out)
        pss->out = (zs_buf_t *) calloc (1, sizeof *pss->out);
    if (!pss->out)
        return -1;
    zs_buf_reset (pss->out);
    zs_buf_append (pss->out, body->data, body->size);
    pss->out_sent = 0;
    pss->status = status;
    pss->ctype = type;
    pss->head_due = true;
    if (status >= 400) {
        int k = status == 400 ? 0 : status == 401 ? 1 : status == 404 ? 2
              : status == 405 ? 3 : status == 413 ? 4 : 5;
        self->m.rejected[k]++;
    }
    lws_callback_on_writable (pss->wsi);
    return 0;
}

static int s_error (zs_gateway_t *self, s_pss_t *pss, int status,
                    const char *message)
{
    zs_buf_reset (&self->tmp);
    zs_gwjson_error (&self->tmp, status, message);
    s_buf_lit (&self->tmp, "\n");
    return s_answer (self, pss, status, "application/json", &self->tmp);
}

/*  Sends what pss->out holds (REST answers): the last piece ends the
    transaction. */
static int s_write_out (zs_gateway_t *self, s_pss_t *pss)
{
    if (pss->head_due) {
        pss->head_due = false;
        if (s_headers (self, pss->wsi, pss->status, pss->ctype,
                       pss->out->size, NULL))
            return -1;
        if (pss->out->size) {
            lws_callback_on_writable (pss->wsi);
            return 0;
        }
    }
    size_t left = pss->out->size - pss->out_sent;
    size_t n = left < FRAME_MAX ? left : FRAME_MAX;
    memcpy (self->frame + LWS_PRE, pss->out->data + pss->out_sent, n);
    bool last = n == left;
    if (lws_write (pss->wsi, self->frame + LWS_PRE, n,
                   last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP)
        != (int) n)
        return -1;
    pss->out_sent += n;
    self->m.bytes_sent += n;
    if (!last) {
        lws_callback_on_writable (pss->wsi);
        return 0;
    }
    zs_buf_free (pss->out);
    free (pss->out);
    pss->out = NULL;
    return lws_http_transaction_completed (pss->wsi) ? -1 : 0;
}

/* ---------------------------------------------------------------------- */
/*  Broker requests                                                        */

/*  Sends a request built in self->tmp and parks pss until the answer. */
static int s_call (zs_gateway_t *self, s_pss_t *pss, const char *start)
{
    pss->ticket = zs_bridge_call (self->bridge, &self->tmp, start);
    if (!pss->ticket)
        return s_error (self, pss, 503, "the broker cannot be reached");
    s_list_add (&self->waiting, pss);
    return 0;
}

static int s_request (zs_gateway_t *self, s_pss_t *pss, zs_msg_type_t type,
                      const char *scan, bool all)
{
    char err[256];
    int rc = -1;
    zs_buf_reset (&self->tmp);
    if (type == ZS_MSG_SCAN_STATUS) {
        zs_scan_status_t m = {0};
        m.scan = scan;
        rc = zs_scan_status_encode (&m, &self->tmp, err, sizeof err);
    }
    else if (type == ZS_MSG_SCAN_STOP) {
        zs_scan_stop_t m = {0};
        m.scan = scan;
        m.reason = ZS_END_STOPPED;
        rc = zs_scan_stop_encode (&m, &self->tmp, err, sizeof err);
    }
    else if (type == ZS_MSG_SCAN_LIST) {
        zs_scan_list_t m = {0};
        m.all = all;
        rc = zs_scan_list_encode (&m, &self->tmp, err, sizeof err);
    }
    else {
        zs_worker_list_t m = {0};
        rc = zs_worker_list_encode (&m, &self->tmp, err, sizeof err);
    }
    if (rc != 0)
        return s_error (self, pss, 500, err);
    return s_call (self, pss, NULL);
}

/*  The broker answered pss's request: the HTTP answer. */
static int s_on_reply (zs_gateway_t *self, s_pss_t *pss, zs_buf_t *reply)
{
    zs_buf_reset (&self->tmp);
    int status = 200;
    if (pss->route == R_START) {
        zs_msg_type_t type;
        char err[128];
        if (zs_msg_peek (reply->data, reply->size, &type, err, sizeof err)
                == 0
            && type == ZS_MSG_SCAN_STARTED) {
            zs_scan_started_t st = {0};
            zs_scan_started_decode (reply->data, reply->size, &st, err,
                                    sizeof err);
            /* the URLs use the host the client named, when it is a
               plain host[:port] (it goes into JSON and URLs as is) */
            char host[128] = "";
            int hl = lws_hdr_copy (pss->wsi, host, sizeof host,
                                   WSI_TOKEN_HOST);
            bool plain = hl > 0;
            for (int i = 0; i < hl && plain; i++)
                plain = strchr ("abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]",
                                host[i])
                        != NULL;
            if (!plain)
                snprintf (host, sizeof host, "127.0.0.1:%d", self->port);
            const char *tls = self->cfg.tls_cert ? "s" : "";
            char b[4096];
            snprintf (b, sizeof b,
                      "{\"scan_id\":\"%s\",\"total\":%llu,"
                      "\"websocket_url\":\"ws%s://%s/ws/results/%s\","
                      "\"sse_url\":\"http%s://%s/events/results/%s\","
                      "\"results_url\":\"http%s://%s/scan/results/%s\","
                      "\"stats_url\":\"http%s://%s/scan/stats/%s\","
                      "\"stop_url\":\"http%s://%s/scan/stop/%s\","
                      "\"export_url\":\"http%s://%s/scan/export/%s\"}\n",
                      pss->scan, (unsigned long long) st.total, tls, host,
                      pss->scan, tls, host, pss->scan, tls, host, pss->scan,
                      tls, host, pss->scan, tls, host, pss->scan, tls, host,
                      pss->scan);
            zs_msg_free (&st.mem_);
            s_buf_lit (&self->tmp, b);
            return s_answer (self, pss, 201, "application/json", &self->tmp);
        }
    }
    int64_t clients = pss->route == R_STATS
                          ? (int64_t) s_scan_clients (self, pss->scan)
                          : -1;
    zs_gwjson_reply (reply->data, reply->size, clients, &self->tmp, &status);
    if (pss->route == R_DELETE && status == 200) {
        /* stopped (or was over): forget its log */
        zs_logset_lock (self->logs);
        zs_logset_drop (self->logs, pss->scan);
        zs_logset_unlock (self->logs);
    }
    s_buf_lit (&self->tmp, "\n");
    return s_answer (self, pss, status, "application/json", &self->tmp);
}

/* ---------------------------------------------------------------------- */
/*  Streams                                                                */

static void s_stream_count (zs_gateway_t *self, s_pss_t *pss, bool open)
{
    if (open && !pss->counted) {
        pss->counted = true;
        self->m.conns[pss->kind]++;
        self->m.opened[pss->kind]++;
        zlistx_add_end (self->streams, pss);
    }
    else if (!open && pss->counted) {
        pss->counted = false;
        self->m.conns[pss->kind]--;
        void *cursor = zlistx_find (self->streams, pss);
        if (cursor)
            zlistx_detach (self->streams, cursor);
    }
}

static size_t s_streams (zs_gateway_t *self)
{
    return (size_t) (self->m.conns[K_WS] + self->m.conns[K_SSE]
                     + self->m.conns[K_EXPORT] + self->m.conns[K_POLL]);
}

/*  Room for another stream of scan?  (The limits.) */
static bool s_room (zs_gateway_t *self, const char *scan)
{
    return (int64_t) s_streams (self) < self->cfg.max_streams
           && (int64_t) s_scan_clients (self, scan)
                  < self->cfg.max_scan_streams;
}

/*  A stream starts: its log exists (or is asked for from its start). */
static void s_stream_open (zs_gateway_t *self, s_pss_t *pss)
{
    zs_logset_lock (self->logs);
    zs_scanlog_t *log = zs_logset_get (self->logs, pss->scan, false);
    bool fresh = !log;
    if (!log)
        log = zs_logset_get (self->logs, pss->scan, true);
    /* a log that does not reach back to this stream's cursor (evicted,
       or first seen mid-scan and not yet replayed): fetch it whole */
    bool short_log = log && zs_scanlog_first (log) > pss->cursor + 1;
    zs_logset_unlock (self->logs);
    if (fresh || short_log)
        zs_bridge_follow (self->bridge, pss->scan);
    s_stream_count (self, pss, true);
    s_watch (self, pss);
    pss->quiet_us = zs_clock_us ();
    /* an SSE or export stream has read its request and sent its headers:
       its request's header storage goes back to lws's pool (of
       max_http_header_pool, 256), which would otherwise hold at most that
       many such streams while new connections waited to be accepted */
    if (pss->kind == K_SSE || pss->kind == K_EXPORT)
        lws_http_headers_detach (pss->wsi);
    lws_callback_on_writable (pss->wsi);
}

static const char *s_type_of (zs_log_kind_t k)
{
    switch (k) {
    case ZS_LOG_STARTED:
        return "started";
    case ZS_LOG_PROGRESS:
        return "progress";
    case ZS_LOG_COMPLETE:
        return "complete";
    case ZS_LOG_LOST:
        return "lost";
    default:
        return "result";
    }
}

static void s_latency (zs_gateway_t *self, int64_t t_us)
{
    static const int64_t edges[8] = {100, 250, 500, 1000, 2500, 5000, 10000,
                                     50000};
    int64_t d = zs_clock_us () - t_us;
    int k = 0;
    while (k < 8 && d > edges[k])
        k++;
    self->m.latency[k]++;
}

/*  A CSV row of one result record (its JSON parsed back: export only). */
static void s_csv_row (zs_buf_t *out, const zs_logrec_t *rec)
{
    json_t *o = json_loadb (rec->json, rec->len, 0, NULL);
    json_t *d = o ? json_object_get (o, "data") : NULL;
    if (!d) {
        json_decref (o);
        return;
    }
    char b[64];
    snprintf (b, sizeof b, "%llu,", (unsigned long long) rec->pos);
    s_buf_lit (out, b);
    const char *cols[] = {"symbol", "index", "signal", "score", "price",
                          "time", "values", "error", "note", "worker"};
    for (int i = 0; i < 10; i++) {
        json_t *v = json_object_get (d, cols[i]);
        if (i)
            s_buf_lit (out, ",");
        if (!v || json_is_null (v))
            continue;
        char *text = json_is_string (v) ? NULL
                                        : json_dumps (v, JSON_COMPACT
                                                             | JSON_ENCODE_ANY);
        const char *s = text ? text : json_string_value (v);
        bool quote = strpbrk (s, ",\"\n\r") != NULL;
        if (quote) {
            s_buf_lit (out, "\"");
            for (const char *c = s; *c; c++) {
                if (*c == '"')
                    s_buf_lit (out, "\"");
                zs_buf_append (out, c, 1);
            }
            s_buf_lit (out, "\"");
        }
        else
            s_buf_lit (out, s);
        free (text);
    }
    s_buf_lit (out, "\r\n");
    json_decref (o);
}

/*  Appends one record in pss's form into the frame (at *len). */
static void s_frame_add (zs_gateway_t *self, s_pss_t *pss,
                         const zs_logrec_t *rec, zs_buf_t *f)
{
    if (pss->kind == K_SSE) {
        char head[96];
        int n = snprintf (head, sizeof head, "id: %llu\nevent: %s\ndata: ",
                          (unsigned long long) rec->pos,
                          s_type_of (rec->kind));
        zs_buf_append (f, head, (size_t) n);
        zs_buf_append (f, rec->json, rec->len);
        zs_buf_append (f, "\n\n", 2);
    }
    else if (pss->kind == K_EXPORT && pss->fmt == F_CSV) {
        if (rec->kind == ZS_LOG_RESULT || rec->kind == ZS_LOG_SIGNAL)
            s_csv_row (f, rec);
    }
    else if (pss->kind == K_POLL) {
        if (f->size > 12)
            zs_buf_append (f, ",", 1);
        zs_buf_append (f, rec->json, rec->len);
    }
    else if (pss->kind == K_WS && pss->fmt == F_MSGPACK)
        /* a binary frame: the records' msgpack maps one after another */
        zs_buf_append (f, rec->mp, rec->mplen);
    else {
        /* WebSocket (records of a frame separated by newlines), NDJSON */
        if (pss->kind == K_WS && f->size)
            zs_buf_append (f, "\n", 1);
        zs_buf_append (f, rec->json, rec->len);
        if (pss->kind == K_EXPORT)
            zs_buf_append (f, "\n", 1);
    }
}

/*  Collects what pss has not sent into f, up to FRAME_MAX bytes (one
    record when it does not batch); tells whether the scan's last record
    is among them, whether more wait, and why the stream must end
    (NULL: it need not). */
static const char *s_collect (zs_gateway_t *self, s_pss_t *pss, zs_buf_t *f,
                              uint32_t max_records, bool *last, bool *more,
                              uint32_t *count)
{
    *last = *more = false;
    *count = 0;
    zs_scanlog_t *log = zs_logset_get (self->logs, pss->scan, false);
    if (!log)
        return "the scan is not known here any more";
    uint64_t first = zs_scanlog_first (log);
    if (first && first > pss->cursor + 1 && pss->cursor) {
        self->m.dropped_evicted++;
        return "fell too far behind: its records left the gateway's log";
    }
    uint64_t head = zs_scanlog_last (log);
    if (self->cfg.max_behind > 0 && head > pss->cursor
        && head - pss->cursor > (uint64_t) self->cfg.max_behind) {
        self->m.dropped_behind++;
        return "fell too far behind";
    }
    zs_logrec_t rec;
    int64_t newest = 0;
    if (zs_scanlog_after (log, pss->cursor, &pss->hint, &rec)) {
        for (;;) {
            bool skip = pss->signals && rec.kind == ZS_LOG_RESULT;
            if (!skip) {
                if (*count && (f->size + rec.len + 128 > FRAME_MAX
                               || *count >= max_records)) {
                    *more = true;
                    break;
                }
                s_frame_add (self, pss, &rec, f);
                (*count)++;
                newest = rec.t_us;
            }
            pss->cursor = rec.pos;
            if (rec.kind == ZS_LOG_COMPLETE) {
                *last = true;
                break;
            }
            if (!zs_scanlog_at (log, ++pss->hint, &rec))
                break;
        }
    }
    if (newest)
        s_latency (self, newest);
    /* a stream that already had the last record (it asked after it):
       the scan is over for it */
    if (!*count && zs_scanlog_done (log) && pss->cursor >= head)
        *last = true;
    const char *gone = zs_scanlog_gone_reason (log);
    if (!*count && !*last && gone[0])
        return gone;
    return NULL;
}

/*  Ends a stream: a WebSocket closes with code and reason, an SSE stream
    says why in a last event, then closes. */
static int s_end (zs_gateway_t *self, s_pss_t *pss, uint16_t code,
                  const char *why)
{
    pss->ended = true;
    if (pss->kind == K_WS) {
        lws_close_reason (pss->wsi, (enum lws_close_status) code,
                          (unsigned char *) why, strlen (why));
        return -1;
    }
    if (pss->kind == K_SSE && pss->headers) {
        zs_buf_reset (&self->tmp);
        s_buf_lit (&self->tmp, "event: end\ndata: ");
        zs_buf_t js = {0};
        s_buf_lit (&js, "{\"reason\":");
        zs_json_string (&js, why);
        s_buf_lit (&js, "}");
        zs_buf_append (&self->tmp, js.data, js.size);
        zs_buf_free (&js);
        s_buf_lit (&self->tmp, "\n\n");
        memcpy (self->frame + LWS_PRE, self->tmp.data, self->tmp.size);
        lws_write (pss->wsi, self->frame + LWS_PRE, self->tmp.size,
                   LWS_WRITE_HTTP);
    }
    return -1;
}

/*  Writes one chunk of an export (chunked encoding; gzip when asked). */
static int s_export_chunk (zs_gateway_t *self, s_pss_t *pss,
                           const zs_buf_t *data, bool final)
{
    zs_buf_t *src = (zs_buf_t *) data;
    zs_buf_t zbuf = {0};
    if (pss->z) {
        pss->z->next_in = (Bytef *) data->data;
        pss->z->avail_in = (uInt) data->size;
        unsigned char chunk[16384];
        int flush = final ? Z_FINISH : Z_SYNC_FLUSH;
        do {
            pss->z->next_out = chunk;
            pss->z->avail_out = sizeof chunk;
            deflate (pss->z, flush);
            zs_buf_append (&zbuf, chunk, sizeof chunk - pss->z->avail_out);
        } while (pss->z->avail_out == 0);
        src = &zbuf;
    }
    zs_buf_reset (&self->tmp);
    if (src->size) {
        char head[24];
        int n = snprintf (head, sizeof head, "%zx\r\n", src->size);
        zs_buf_append (&self->tmp, head, (size_t) n);
        zs_buf_append (&self->tmp, src->data, src->size);
        zs_buf_append (&self->tmp, "\r\n", 2);
    }
    if (final)
        s_buf_lit (&self->tmp, "0\r\n\r\n");
    zs_buf_free (&zbuf);
    if (!self->tmp.size)
        return 0;
    if (self->tmp.size + LWS_PRE > self->frame_cap) {
        unsigned char *f = (unsigned char *) realloc (
            self->frame, self->tmp.size + LWS_PRE + 16);
        if (!f)
            return -1;
        self->frame = f;
        self->frame_cap = self->tmp.size + LWS_PRE + 16;
    }
    memcpy (self->frame + LWS_PRE, self->tmp.data, self->tmp.size);
    if (lws_write (pss->wsi, self->frame + LWS_PRE, self->tmp.size,
                   LWS_WRITE_HTTP)
        != (int) self->tmp.size)
        return -1;
    self->m.bytes_sent += self->tmp.size;
    pss->flush_us = zs_clock_us ();
    return 0;
}


/*  A WebSocket stream's own frame buffer goes (it is counted in
    /metrics: idle streams should hold none). */
static void s_wbuf_free (zs_gateway_t *self, s_pss_t *pss)
{
    self->m.wbuf_bytes -= pss->wcap;
    free (pss->wbuf);
    pss->wbuf = NULL;
    pss->wcap = 0;
}

/*  A stream's writable callback: what it has not sent, one frame. */
static int s_stream_write (zs_gateway_t *self, s_pss_t *pss)
{
    if (pss->ended)
        return -1;
    zs_buf_t f = {0};
    bool last = false, more = false;
    uint32_t count = 0;
    const char *why = NULL;
    uint32_t max = pss->kind == K_POLL ? pss->limit
                   : pss->kind == K_WS && !pss->batch ? 1
                                                      : 100000;
    if (pss->kind == K_POLL)
        s_buf_lit (&f, "{\"records\":[");
    zs_logset_lock (self->logs);
    why = s_collect (self, pss, &f, max, &last, &more, &count);
    zs_logset_unlock (self->logs);
    int64_t now = zs_clock_us ();
    int rc = 0;
    if (why) {
        zs_buf_free (&f);
        if (pss->kind == K_POLL) {
            s_unwatch (self, pss);
            s_stream_count (self, pss, false);
            pss->kind = K_REST;
            return s_error (self, pss, 410, why);
        }
        return s_end (self, pss, 1008, why);
    }
    if (pss->kind == K_POLL) {
        if (!count && !last && now < pss->wait_until_us) {
            zs_buf_free (&f);
            return 0; /* keep waiting */
        }
        char tail[96];
        snprintf (tail, sizeof tail, "],\"next\":%llu,\"done\":%s}\n",
                  (unsigned long long) pss->cursor, last ? "true" : "false");
        s_buf_lit (&f, tail);
        s_unwatch (self, pss);
        s_stream_count (self, pss, false);
        pss->kind = K_REST;
        self->m.records_sent += count;
        rc = s_answer (self, pss, 200, "application/json", &f);
        zs_buf_free (&f);
        return rc;
    }
    if (pss->kind == K_EXPORT) {
        bool due = last || f.size >= (size_t) self->cfg.export_chunk
                   || now - pss->flush_us
                          >= self->cfg.export_flush_ms * 1000;
        if (!pss->out)
            pss->out = (zs_buf_t *) calloc (1, sizeof *pss->out);
        if (pss->out)
            zs_buf_append (pss->out, f.data, f.size);
        zs_buf_free (&f);
        self->m.records_sent += count;
        if (pss->out && (due || more)
            && (pss->out->size >= (size_t) self->cfg.export_chunk || due)) {
            rc = s_export_chunk (self, pss, pss->out, last);
            zs_buf_reset (pss->out);
        }
        if (rc != 0)
            return -1;
        if (last) {
            pss->ended = true;
            return lws_http_transaction_completed (pss->wsi) ? -1 : 0;
        }
        if (more)
            lws_callback_on_writable (pss->wsi);
        pss->want_us = more ? now : 0;
        return 0;
    }
    if (pss->greet_due) {
        /* SSE: the reconnect delay first */
        zs_buf_t g = {0};
        s_buf_lit (&g, "retry: 1000\n\n");
        zs_buf_append (&g, f.data, f.size);
        zs_buf_free (&f);
        f = g;
        pss->greet_due = false;
    }
    if (!count && !f.size && pss->ka_due) {
        pss->ka_due = false;
        if (pss->kind == K_WS) {
            zs_buf_free (&f);
            return lws_write (pss->wsi, self->frame + LWS_PRE, 0,
                              LWS_WRITE_PING)
                           < 0
                       ? -1
                       : 0;
        }
        s_buf_lit (&f, ": keep-alive\n\n");
    }
    if (!f.size) {
        zs_buf_free (&f);
        pss->want_us = 0;
        /* idle: its frame buffer goes (an idle stream holds only its
           cursor) */
        s_wbuf_free (self, pss);
        if (last)
            return s_end (self, pss, 1000, "complete");
        return 0;
    }
    size_t need = LWS_PRE + f.size + 16;
    unsigned char *frame = self->frame;
    if (pss->kind == K_WS && pss->deflate) {
        /* its own buffer: lws may read it after this call returns (it
           goes at the next writable callback with nothing to send,
           asked for below) */
        if (need > pss->wcap) {
            unsigned char *nb = (unsigned char *) realloc (pss->wbuf, need);
            if (!nb) {
                zs_buf_free (&f);
                return -1;
            }
            pss->wbuf = nb;
            self->m.wbuf_bytes += need - pss->wcap;
            pss->wcap = need;
        }
        frame = pss->wbuf;
    }
    else if (need > self->frame_cap) {
        unsigned char *nf = (unsigned char *) realloc (self->frame, need);
        if (!nf) {
            zs_buf_free (&f);
            return -1;
        }
        self->frame = frame = nf;
        self->frame_cap = need;
    }
    memcpy (frame + LWS_PRE, f.data, f.size);
    int n = lws_write (pss->wsi, frame + LWS_PRE, f.size,
                       pss->kind != K_WS           ? LWS_WRITE_HTTP
                       : pss->fmt == F_MSGPACK ? LWS_WRITE_BINARY
                                               : LWS_WRITE_TEXT);
    size_t sent = f.size;
    zs_buf_free (&f);
    if (n < (int) sent)
        return -1;
    /* lws kept part of it to send later: the client's socket was full
       (a slow reader), or lws cut the write (see tx_packet_size) */
    if (lws_partial_buffered (pss->wsi))
        self->m.writes_buffered++;
    self->m.records_sent += count;
    self->m.bytes_sent += sent;
    self->m.frames_sent++;
    pss->quiet_us = now;
    if (last) {
        if (pss->kind == K_WS) {
            /* the close goes in a writable callback of its own, after
               this frame */
            pss->why = "complete";
            pss->close_code = 1000;
            lws_callback_on_writable (pss->wsi);
            return 0;
        }
        /* SSE: the complete record went; a reconnect gets 204 */
        pss->ended = true;
        return -1;
    }
    /* it wrote: the stall clock starts again when more is waiting */
    pss->want_us = more ? now : 0;
    if (more || pss->wbuf)
        lws_callback_on_writable (pss->wsi);
    return 0;
}

/* ---------------------------------------------------------------------- */
/*  Routing                                                                */

/*  The id after prefix in path ("/scan/stats/" -> "abc"), or NULL. */
static const char *s_id_after (const char *path, const char *prefix)
{
    size_t n = strlen (prefix);
    if (strncmp (path, prefix, n) != 0)
        return NULL;
    return path + n;
}

static int s_metrics (zs_gateway_t *self, s_pss_t *pss)
{
    zs_bridge_stats_t bs;
    zs_bridge_stats (self->bridge, &bs);
    zs_logset_stats_t ls;
    zs_logset_lock (self->logs);
    zs_logset_stats (self->logs, &ls);
    zs_logset_unlock (self->logs);
    zs_buf_t *b = &self->tmp;
    zs_buf_reset (b);
    char line[256];
#define M(fmt, ...)                                                        \
    do {                                                                   \
        snprintf (line, sizeof line, fmt "\n", __VA_ARGS__);               \
        s_buf_lit (b, line);                                               \
    } while (0)
    M ("# TYPE zscan_gateway_uptime_seconds gauge\n"
       "zscan_gateway_uptime_seconds %.3f",
       zs_wall () - self->started_at);
    s_buf_lit (b, "# HELP zscan_gateway_connections Open connections by "
                  "kind.\n# TYPE zscan_gateway_connections gauge\n");
    for (int k = K_WS; k <= K_EXPORT; k++)
        M ("zscan_gateway_connections{kind=\"%s\"} %llu", s_kind_names[k],
           (unsigned long long) self->m.conns[k]);
    s_buf_lit (b, "# TYPE zscan_gateway_connections_total counter\n");
    for (int k = K_REST; k <= K_EXPORT; k++)
        M ("zscan_gateway_connections_total{kind=\"%s\"} %llu",
           s_kind_names[k], (unsigned long long) self->m.opened[k]);
    M ("# TYPE zscan_gateway_records_sent_total counter\n"
       "zscan_gateway_records_sent_total %llu",
       (unsigned long long) self->m.records_sent);
    M ("# TYPE zscan_gateway_bytes_sent_total counter\n"
       "zscan_gateway_bytes_sent_total %llu",
       (unsigned long long) self->m.bytes_sent);
    M ("# TYPE zscan_gateway_frames_sent_total counter\n"
       "zscan_gateway_frames_sent_total %llu",
       (unsigned long long) self->m.frames_sent);
    M ("# TYPE zscan_gateway_writes_buffered_total counter\n"
       "zscan_gateway_writes_buffered_total %llu",
       (unsigned long long) self->m.writes_buffered);
    s_buf_lit (b, "# TYPE zscan_gateway_clients_dropped_total counter\n");
    M ("zscan_gateway_clients_dropped_total{reason=\"behind\"} %llu",
       (unsigned long long) self->m.dropped_behind);
    M ("zscan_gateway_clients_dropped_total{reason=\"evicted\"} %llu",
       (unsigned long long) self->m.dropped_evicted);
    M ("zscan_gateway_clients_dropped_total{reason=\"stalled\"} %llu",
       (unsigned long long) self->m.dropped_stall);
    static const char *codes[] = {"400", "401", "404", "405", "413",
                                  "other"};
    s_buf_lit (b, "# TYPE zscan_gateway_requests_rejected_total counter\n");
    for (int k = 0; k < 6; k++)
        M ("zscan_gateway_requests_rejected_total{code=\"%s\"} %llu",
           codes[k], (unsigned long long) self->m.rejected[k]);
    M ("# TYPE zscan_gateway_files_served_total counter\n"
       "zscan_gateway_files_served_total %llu",
       (unsigned long long) self->m.files);
    M ("# TYPE zscan_gateway_bad_frames_total counter\n"
       "zscan_gateway_bad_frames_total %llu",
       (unsigned long long) self->m.bad_frames);
    M ("# TYPE zscan_gateway_log_bytes gauge\nzscan_gateway_log_bytes %zu",
       ls.bytes);
    M ("# TYPE zscan_gateway_log_scans gauge\nzscan_gateway_log_scans %zu",
       ls.logs);
    M ("# TYPE zscan_gateway_stream_buffer_bytes gauge\n"
       "zscan_gateway_stream_buffer_bytes %zu",
       self->m.wbuf_bytes);
    /* the process's heap as malloc sees it: held by live allocations,
       free inside the heap (fragments it cannot give back), and mapped
       on its own (large blocks) */
    struct mallinfo2 mi = mallinfo2 ();
    s_buf_lit (b, "# TYPE zscan_gateway_heap_bytes gauge\n");
    M ("zscan_gateway_heap_bytes{state=\"in_use\"} %zu", mi.uordblks);
    M ("zscan_gateway_heap_bytes{state=\"free\"} %zu", mi.fordblks);
    M ("zscan_gateway_heap_bytes{state=\"mapped\"} %zu", mi.hblkhd);
    M ("# TYPE zscan_bus_records_total counter\nzscan_bus_records_total "
       "%llu",
       (unsigned long long) bs.records);
    M ("# TYPE zscan_bus_results_total counter\nzscan_bus_results_total "
       "%llu",
       (unsigned long long) bs.results);
    M ("# TYPE zscan_bus_signals_total counter\nzscan_bus_signals_total "
       "%llu",
       (unsigned long long) bs.signals);
    M ("# TYPE zscan_scans_started_total counter\n"
       "zscan_scans_started_total %llu",
       (unsigned long long) bs.started);
    M ("# TYPE zscan_scans_finished_total counter\n"
       "zscan_scans_finished_total %llu",
       (unsigned long long) bs.finished);
    M ("# TYPE zscan_bus_gaps_total counter\nzscan_bus_gaps_total %llu",
       (unsigned long long) bs.bus.gaps);
    M ("# TYPE zscan_bus_replayed_records_total counter\n"
       "zscan_bus_replayed_records_total %llu",
       (unsigned long long) bs.bus.replayed);
    M ("# TYPE zscan_bus_lost_records_total counter\n"
       "zscan_bus_lost_records_total %llu",
       (unsigned long long) bs.bus.lost);
    M ("# TYPE zscan_bus_bad_records_total counter\n"
       "zscan_bus_bad_records_total %llu",
       (unsigned long long) (bs.bad + bs.bus.bad));
    M ("# TYPE zscan_broker_up gauge\nzscan_broker_up %d",
       bs.broker_ok ? 1 : 0);
    s_buf_lit (b, "# HELP zscan_gateway_relay_seconds From the gateway "
                  "receiving a record to writing it to a client.\n"
                  "# TYPE zscan_gateway_relay_seconds histogram\n");
    static const char *le[] = {"0.0001", "0.00025", "0.0005", "0.001",
                               "0.0025", "0.005", "0.01", "0.05", "+Inf"};
    uint64_t cum = 0;
    for (int k = 0; k < 9; k++) {
        cum += self->m.latency[k];
        M ("zscan_gateway_relay_seconds_bucket{le=\"%s\"} %llu", le[k],
           (unsigned long long) cum);
    }
    M ("zscan_gateway_relay_seconds_count %llu", (unsigned long long) cum);
#undef M
    return s_answer (self, pss, 200, "text/plain; version=0.0.4", b);
}

static int s_health (zs_gateway_t *self, s_pss_t *pss)
{
    zs_bridge_stats_t bs;
    zs_bridge_stats (self->bridge, &bs);
    char b[512];
    snprintf (b, sizeof b,
              "{\"status\":\"%s\",\"version\":\"%s\",\"uptime\":%.3f,"
              "\"broker\":{\"reachable\":%s,\"instance\":\"%s\","
              "\"silent_s\":%.3f}}\n",
              bs.broker_ok ? "ok" : "broker unreachable", ZS_VERSION,
              zs_wall () - self->started_at, bs.broker_ok ? "true" : "false",
              bs.broker, bs.broker_silent_s);
    zs_buf_reset (&self->tmp);
    s_buf_lit (&self->tmp, b);
    return s_answer (self, pss, bs.broker_ok ? 200 : 503, "application/json",
                     &self->tmp);
}

/*  A POST /scan/stream body is in: start the scan. */
static int s_start (zs_gateway_t *self, s_pss_t *pss)
{
    char ct[128] = "";
    lws_hdr_copy (pss->wsi, ct, sizeof ct, WSI_TOKEN_HTTP_CONTENT_TYPE);
    if (ct[0] && !strstr (ct, "application/json"))
        return s_error (self, pss, 415,
                        "the body must be application/json");
    pss->scan[0] = 'g';
    zs_random_id (pss->scan + 1, 11);
    char err[512];
    zs_buf_reset (&self->tmp);
    const char *body = pss->body ? pss->body->data : "";
    size_t len = pss->body ? pss->body->size : 0;
    if (zs_gwjson_start (body, len, pss->scan, &self->tmp, err, sizeof err)
        != 0)
        return s_error (self, pss, 400, err);
    return s_call (self, pss, pss->scan);
}

/*  The dashboard's API: GET /strategies, GET /chart/SYMBOL. */
static int s_dash (zs_gateway_t *self, s_pss_t *pss, struct lws *wsi,
                   const char *symbol)
{
    zs_buf_t out = {0};
    int status = 200;
    if (pss->route == R_STRATEGIES)
        zs_gwdash_strategies (&out);
    else {
        char data[512], values[1024], bars[32], err[600];
        const char *d = s_arg (wsi, "data", data, sizeof data);
        const char *v = s_arg (wsi, "values", values, sizeof values);
        const char *b = s_arg (wsi, "bars", bars, sizeof bars);
        status = zs_gwdash_chart (self->dash, symbol, d, v,
                                  b ? strtoull (b, NULL, 10) : 0, &out, err,
                                  sizeof err);
        if (status != 200) {
            zs_buf_free (&out);
            return s_error (self, pss, status, err);
        }
    }
    int rc = s_answer (self, pss, status, "application/json", &out);
    zs_buf_free (&out);
    return rc;
}

/*  Which route a path and method are; 405 for a known path with another
    method (0 then, *wrong set). */
static int s_route (const char *path, int method, const char **id,
                    bool *wrong)
{
    *wrong = false;
    *id = NULL;
    struct {
        const char *prefix;
        bool has_id;
        int method;
        int route;
    } table[] = {{"/healthz", false, LWSHUMETH_GET, R_HEALTH},
                 {"/metrics", false, LWSHUMETH_GET, R_METRICS},
                 {"/scan/stream", false, LWSHUMETH_POST, R_START},
                 {"/scans/active", false, LWSHUMETH_GET, R_ACTIVE},
                 {"/workers", false, LWSHUMETH_GET, R_WORKERS},
                 {"/strategies", false, LWSHUMETH_GET, R_STRATEGIES},
                 {"/chart/", true, LWSHUMETH_GET, R_CHART},
                 {"/scan/stats/", true, LWSHUMETH_GET, R_STATS},
                 {"/scan/stop/", true, LWSHUMETH_POST, R_STOP},
                 {"/scan/results/", true, LWSHUMETH_GET, R_POLL},
                 {"/scan/export/", true, LWSHUMETH_GET, R_EXPORT},
                 {"/events/results/", true, LWSHUMETH_GET, R_SSE},
                 {"/scan/", true, LWSHUMETH_DELETE, R_DELETE}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *rest = s_id_after (path, table[i].prefix);
        if (!rest)
            continue;
        if (table[i].has_id ? !*rest || strchr (rest, '/') : *rest != 0)
            continue;
        if (table[i].route == R_DELETE && method != LWSHUMETH_DELETE)
            continue; /* /scan/<x> is only DELETE's */
        if (method != table[i].method) {
            *wrong = true;
            return 0;
        }
        *id = table[i].has_id ? rest : NULL;
        return table[i].route;
    }
    return 0;
}

/*  What an HTTP transaction holds, given back: at the connection's close,
    and when lws drops the per-session data between the transactions of a
    kept-alive connection (HTTP_DROP_PROTOCOL). */
static void s_pss_release (zs_gateway_t *self, s_pss_t *pss)
{
    s_unwatch (self, pss);
    s_stream_count (self, pss, false);
    if (pss->ticket)
        zs_bridge_forget (self->bridge, pss->ticket);
    pss->ticket = 0;
    if (pss->out) {
        zs_buf_free (pss->out);
        free (pss->out);
        pss->out = NULL;
    }
    if (pss->body) {
        zs_buf_free (pss->body);
        free (pss->body);
        pss->body = NULL;
    }
    if (pss->z) {
        deflateEnd (pss->z);
        free (pss->z);
        pss->z = NULL;
    }
}

static int s_on_http (zs_gateway_t *self, s_pss_t *pss, struct lws *wsi,
                      const char *in)
{
    memset (pss, 0, sizeof *pss);
    pss->wsi = wsi;
    pss->kind = K_REST;
    self->m.opened[K_REST]++;
    char *uri = NULL;
    int ulen = 0;
    int method = lws_http_get_uri_and_method (wsi, &uri, &ulen);
    char path[256];
    snprintf (path, sizeof path, "%s", in ? in : "/");
    if (method == LWSHUMETH_OPTIONS && self->cfg.cors) {
        const char *extra[] = {"access-control-allow-methods:",
                               "GET, POST, DELETE, OPTIONS",
                               "access-control-allow-headers:",
                               "authorization, content-type", NULL};
        zs_buf_reset (&self->tmp);
        if (s_headers (self, wsi, 204, NULL, 0, extra))
            return -1;
        return lws_http_transaction_completed (wsi) ? -1 : 0;
    }
    if (!strncmp (path, "/ws/results/", 12))
        return s_error (self, pss, 400,
                        "a WebSocket endpoint: connect with an upgrade");
    /* the dashboard's own files */
    char file[PATH_MAX];
    const char *mime = NULL;
    if (method == LWSHUMETH_GET
        && zs_gwdash_file (self->dash, path, file, sizeof file, &mime) == 0) {
        self->m.files++;
        int rc = lws_serve_http_file (wsi, file, mime,
                                      "cache-control: no-cache\x0d\x0a", 25);
        if (rc < 0 || (rc > 0 && lws_http_transaction_completed (wsi)))
            return -1;
        return 0;
    }
    const char *id = NULL;
    bool wrong = false;
    int route = s_route (path, method, &id, &wrong);
    if (wrong)
        return s_error (self, pss, 405, "method not allowed here");
    if (!route)
        return s_error (self, pss, 404, "no such endpoint");
    if (route != R_HEALTH && route != R_METRICS && !s_authorised (self, wsi))
        return s_error (self, pss, 401, "a bearer token is required");
    pss->route = (uint8_t) route;
    if (route == R_STRATEGIES || route == R_CHART)
        return s_dash (self, pss, wsi, id);
    if (id) {
        if (!zs_scan_id_valid (id))
            return s_error (self, pss, 404, "no such scan");
        snprintf (pss->scan, sizeof pss->scan, "%s", id);
    }
    uint64_t after = 0;
    switch (route) {
    case R_HEALTH:
        return s_health (self, pss);
    case R_METRICS:
        return s_metrics (self, pss);
    case R_START: {
        /* the body comes in LWS_CALLBACK_HTTP_BODY; one announced too
           large is refused before it is read */
        char cl[32] = "";
        if (lws_hdr_copy (wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH)
                > 0
            && strtoll (cl, NULL, 10) > self->cfg.body_max)
            return s_error (self, pss, 413, "the body is too large");
        return 0;
    }
    case R_STATS:
        return s_request (self, pss, ZS_MSG_SCAN_STATUS, pss->scan, false);
    case R_STOP:
    case R_DELETE:
        return s_request (self, pss, ZS_MSG_SCAN_STOP, pss->scan, false);
    case R_ACTIVE:
        return s_request (self, pss, ZS_MSG_SCAN_LIST, NULL,
                          s_arg_flag (wsi, "all"));
    case R_WORKERS:
        return s_request (self, pss, ZS_MSG_WORKER_LIST, NULL, false);
    default:
        break;
    }
    /* streams */
    if (self->draining)
        return s_error (self, pss, 503, "the gateway is shutting down");
    if (!s_room (self, pss->scan))
        return s_error (self, pss, 503, "too many streams");
    if (route == R_POLL) {
        s_arg_u64 (wsi, "after", &after);
        uint64_t limit = 1000, wait = 0;
        s_arg_u64 (wsi, "limit", &limit);
        s_arg_u64 (wsi, "wait", &wait);
        pss->kind = K_POLL;
        pss->cursor = after;
        pss->limit = (uint32_t) (limit < 1 ? 1
                                 : limit > POLL_LIMIT ? POLL_LIMIT
                                                      : limit);
        pss->wait_until_us = zs_clock_us ()
                             + (int64_t) (wait > 60000 ? 60000 : wait) * 1000;
        s_stream_open (self, pss);
        return 0;
    }
    if (route == R_SSE) {
        char last[32] = "";
        if (lws_hdr_custom_copy (wsi, last, sizeof last, "last-event-id:",
                                 14)
            > 0)
            after = strtoull (last, NULL, 10);
        else
            s_arg_u64 (wsi, "last_event_id", &after);
        pss->signals = s_arg_flag (wsi, "signals");
        /* a completed scan read to its end: 204 stops EventSource's
           reconnecting */
        zs_logset_lock (self->logs);
        zs_scanlog_t *log = zs_logset_get (self->logs, pss->scan, false);
        bool over = log && zs_scanlog_done (log)
                    && after >= zs_scanlog_last (log);
        zs_logset_unlock (self->logs);
        if (over) {
            if (s_headers (self, wsi, 204, NULL, 0, NULL))
                return -1;
            return lws_http_transaction_completed (wsi) ? -1 : 0;
        }
        pss->kind = K_SSE;
        pss->cursor = after;
        const char *extra[] = {"cache-control:", "no-cache", NULL};
        if (s_headers (self, wsi, 200, "text/event-stream",
                       LWS_ILLEGAL_HTTP_CONTENT_LEN, extra))
            return -1;
        /* a long-lived response: no idle timeout (lws_http_mark_sse
           does this for h2 only, and complains on h1) */
        lws_set_timeout (wsi, NO_PENDING_TIMEOUT, 0);
        pss->headers = true;
        pss->greet_due = true; /* the reconnect delay EventSource waits */
        s_stream_open (self, pss);
        return 0;
    }
    /* export */
    char fmt[16] = "ndjson";
    const char *f = s_arg (wsi, "format", fmt, sizeof fmt);
    if (f && strcmp (f, "ndjson") && strcmp (f, "csv"))
        return s_error (self, pss, 400, "format: ndjson or csv");
    pss->kind = K_EXPORT;
    pss->fmt = f && !strcmp (f, "csv") ? F_CSV : F_NDJSON;
    char ae[128] = "";
    lws_hdr_copy (wsi, ae, sizeof ae, WSI_TOKEN_HTTP_ACCEPT_ENCODING);
    bool gzip = strstr (ae, "gzip") != NULL;
    if (gzip) {
        pss->z = (z_stream *) calloc (1, sizeof *pss->z);
        if (!pss->z || deflateInit2 (pss->z, 6, Z_DEFLATED, 31, 8,
                                     Z_DEFAULT_STRATEGY)
                           != Z_OK) {
            free (pss->z);
            pss->z = NULL;
            gzip = false;
        }
    }
    const char *extra[] = {"transfer-encoding:", "chunked",
                           gzip ? "content-encoding:" : NULL, "gzip", NULL};
    if (s_headers (self, wsi, 200,
                   pss->fmt == F_CSV ? "text/csv" : "application/x-ndjson",
                   LWS_ILLEGAL_HTTP_CONTENT_LEN, extra))
        return -1;
    pss->headers = true;
    pss->flush_us = zs_clock_us ();
    if (pss->fmt == F_CSV) {
        pss->out = (zs_buf_t *) calloc (1, sizeof *pss->out);
        if (pss->out)
            s_buf_lit (pss->out, "seq,symbol,index,signal,score,price,time,"
                                 "values,error,note,worker\r\n");
    }
    s_stream_open (self, pss);
    return 0;
}

/* ---------------------------------------------------------------------- */
/*  WebSocket                                                              */

static int s_ws_filter (zs_gateway_t *self, struct lws *wsi)
{
    char path[256] = "";
    if (lws_hdr_copy (wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0)
        return 1;
    const char *id = s_id_after (path, "/ws/results/");
    if (self->draining || !id || !zs_scan_id_valid (id)
        || !s_authorised (self, wsi)) {
        self->m.rejected[!id || !zs_scan_id_valid (id) ? 2 : 1]++;
        return 1; /* refused before the upgrade */
    }
    return 0;
}

static int s_ws_established (zs_gateway_t *self, s_pss_t *pss,
                             struct lws *wsi)
{
    memset (pss, 0, sizeof *pss);
    pss->wsi = wsi;
    pss->kind = K_WS;
    char path[256] = "";
    lws_hdr_copy (wsi, path, sizeof path, WSI_TOKEN_GET_URI);
    /* the filter checked it: /ws/results/ and a valid id */
    size_t idlen = strnlen (path + 12, ZS_ID_MAX);
    memcpy (pss->scan, path + 12, idlen);
    pss->scan[idlen] = 0;
    s_arg_u64 (wsi, "after", &pss->cursor);
    pss->signals = s_arg_flag (wsi, "signals");
    char ext[256] = "";
    lws_hdr_copy (wsi, ext, sizeof ext, WSI_TOKEN_EXTENSIONS);
    pss->deflate = strstr (ext, "permessage-deflate") != NULL;
    char b[16];
    const char *batch = s_arg (wsi, "batch", b, sizeof b);
    pss->batch = !batch || strcmp (batch, "0") != 0;
    char fb[16];
    const char *fmt = s_arg (wsi, "format", fb, sizeof fb);
    if (fmt && strcmp (fmt, "json") && strcmp (fmt, "msgpack")) {
        pss->ended = true;
        self->m.rejected[2]++;
        lws_close_reason (wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                          (unsigned char *) "format: json or msgpack", 23);
        return -1;
    }
    pss->fmt = fmt && !strcmp (fmt, "msgpack") ? F_MSGPACK : F_NDJSON;
    if (!s_room (self, pss->scan)) {
        pss->ended = true;
        lws_close_reason (wsi, (enum lws_close_status) 1013, /* later */
                          (unsigned char *) "too many streams", 16);
        return -1;
    }
    s_stream_open (self, pss);
    return 0;
}

/*  A client's frame: {"action":"stop"} stops the scan; nothing else is
    taken (the connection closes with 1003 and the reason). */
static int s_ws_receive (zs_gateway_t *self, s_pss_t *pss, struct lws *wsi,
                         const void *in, size_t len)
{
    bool ok = false;
    if (lws_is_first_fragment (wsi) && lws_is_final_fragment (wsi)
        && !lws_frame_is_binary (wsi) && len < 1024) {
        json_t *o = json_loadb ((const char *) in, len, 0, NULL);
        json_t *a = o ? json_object_get (o, "action") : NULL;
        if (a && json_is_string (a)
            && !strcmp (json_string_value (a), "stop")) {
            zs_scan_stop_t m = {0};
            m.scan = pss->scan;
            m.reason = ZS_END_STOPPED;
            char err[128];
            zs_buf_reset (&self->tmp);
            if (zs_scan_stop_encode (&m, &self->tmp, err, sizeof err) == 0) {
                uint64_t t = zs_bridge_call (self->bridge, &self->tmp, NULL);
                zs_bridge_forget (self->bridge, t);
                ok = true;
            }
        }
        json_decref (o);
    }
    if (ok)
        return 0;
    self->m.bad_frames++;
    pss->ended = true;
    static const char why[] = "only {\"action\":\"stop\"} is taken";
    lws_close_reason (wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                      (unsigned char *) why, sizeof why - 1);
    return -1;
}

/* ---------------------------------------------------------------------- */
/*  Wake-ups, sweeps, drain                                                */

static void s_wake (void *arg)
{
    lws_cancel_service ((struct lws_context *) arg);
}

/*  News from the bridge: streams of dirty scans write, waiting requests
    with their answer in answer. */
static void s_on_news (zs_gateway_t *self)
{
    zs_logset_lock (self->logs);
    size_t n = zs_logset_take_dirty (self->logs, self->dirty, ZS_LOG_DIRTY);
    zs_logset_unlock (self->logs);
    int64_t now = zs_clock_us ();
    for (size_t i = 0; i < n; i++)
        for (s_pss_t *p = (s_pss_t *) zhashx_lookup (self->clients,
                                                     self->dirty[i]);
             p; p = p->next) {
            /* it has something to write from now: if it does not get
               writable within stall_ms, it is stalled */
            if (!p->want_us)
                p->want_us = now;
            lws_callback_on_writable (p->wsi);
        }
    zs_buf_t reply = {0};
    s_pss_t *p = self->waiting;
    while (p) {
        s_pss_t *next = p->next;
        if (zs_bridge_reply (self->bridge, p->ticket, &reply)) {
            s_list_remove (&self->waiting, p);
            p->ticket = 0;
            if (s_on_reply (self, p, &reply) != 0)
                lws_set_timeout (p->wsi, PENDING_TIMEOUT_CLOSE_ACK,
                                 LWS_TO_KILL_ASYNC);
        }
        p = next;
    }
    zs_buf_free (&reply);
}

static void s_sweep (lws_sorted_usec_list_t *sul)
{
    zs_gateway_t *self = lws_container_of (sul, zs_gateway_t, sweep);
    int64_t now = zs_clock_us ();
    int64_t ka = self->cfg.keepalive_s * 1000000;
    size_t i = 0, n = zlistx_size (self->streams);
    int64_t drain_step = n && self->draining
                             ? self->cfg.drain_ms * 1000 / (int64_t) n
                             : 0;
    for (s_pss_t *p = (s_pss_t *) zlistx_first (self->streams); p;
         p = (s_pss_t *) zlistx_next (self->streams), i++) {
        if (self->draining && !p->why
            && now - self->drain_start_us >= drain_step * (int64_t) i) {
            /* spread over the drain window, not all at once */
            p->why = "the gateway is shutting down";
            p->close_code = LWS_CLOSE_STATUS_GOINGAWAY;
            lws_callback_on_writable (p->wsi);
            continue;
        }
        if (p->want_us && now - p->want_us > self->cfg.stall_ms * 1000
            && !p->why) {
            self->m.dropped_stall++;
            p->why = "not reading: stalled";
            p->close_code = 1008;
            /* it is not writable: close it from here */
            lws_set_timeout (p->wsi, PENDING_TIMEOUT_CLOSE_ACK,
                             LWS_TO_KILL_ASYNC);
            continue;
        }
        if (p->kind == K_POLL && now >= p->wait_until_us)
            lws_callback_on_writable (p->wsi);
        else if ((p->kind == K_SSE || p->kind == K_WS) && ka
                 && now - p->quiet_us >= ka) {
            p->quiet_us = now;
            p->ka_due = true;
            lws_callback_on_writable (p->wsi);
        }
        /* writable requests that were lost in a busy moment */
        if (p->want_us)
            lws_callback_on_writable (p->wsi);
    }
    lws_sul_schedule (self->lws, 0, &self->sweep, s_sweep,
                      100 * LWS_US_PER_MS);
}

/* ---------------------------------------------------------------------- */
/*  The callback                                                           */

static int s_callback (struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len)
{
    s_pss_t *pss = (s_pss_t *) user;
    zs_gateway_t *self = (zs_gateway_t *) lws_context_user (
        lws_get_context (wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        if (self && self->draining) {
            self->m.refused_draining++;
            return 1;
        }
        break;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (self && self->bridge)
            s_on_news (self);
        break;
    case LWS_CALLBACK_HTTP:
        return s_on_http (self, pss, wsi, (const char *) in) ? -1 : 0;
    case LWS_CALLBACK_HTTP_BODY:
        /* (not lws's dummy handler for bodies: it ends the transaction
           at the body's end, under a request still waiting) */
        if (pss->route != R_START || pss->out)
            return 0;
        if (!pss->body)
            pss->body = (zs_buf_t *) calloc (1, sizeof *pss->body);
        if (!pss->body)
            return -1;
        if (pss->body->size + len > (size_t) self->cfg.body_max) {
            /* no more of it is kept: 413 */
            zs_buf_free (pss->body);
            free (pss->body);
            pss->body = NULL;
            return s_error (self, pss, 413, "the body is too large") ? -1
                                                                      : 0;
        }
        zs_buf_append (pss->body, in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (pss->route != R_START || pss->out)
            return 0;
        return s_start (self, pss) ? -1 : 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!pss)
            break;
        if (pss->out && pss->kind == K_REST)
            return s_write_out (self, pss) ? -1 : 0;
        if (pss->why)
            return s_end (self, pss, pss->close_code, pss->why);
        if (pss->kind == K_SSE || pss->kind == K_POLL
            || pss->kind == K_EXPORT)
            return s_stream_write (self, pss) ? -1 : 0;
        break;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL: /* lws frees pss after this */
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss)
            s_pss_release (self, pss);
        break;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return s_ws_filter (self, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return s_ws_established (self, pss, wsi);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (pss->why)
            return s_end (self, pss, pss->close_code, pss->why);
        return s_stream_write (self, pss);
    case LWS_CALLBACK_RECEIVE:
        return s_ws_receive (self, pss, wsi, in, len);
    case LWS_CALLBACK_CLOSED:
        s_unwatch (self, pss);
        s_stream_count (self, pss, false);
        s_wbuf_free (self, pss);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy (wsi, reason, user, in, len);
}

static const struct lws_protocols s_protocols[] = {
    /* the first protocol takes plain HTTP and upgrades without a
       subprotocol; rx buffer: client frames are tiny ({"action":"stop"});
       lws gives each WebSocket connection one, so it is kept small (a
       longer frame arrives in pieces, and is refused).  tx_packet_size:
       lws hands the socket at most this much of a write at once (when 0,
       the rx buffer's size!) and keeps the rest in a buffer of its own,
       sent one piece per writable callback: a whole frame goes at once,
       the kernel taking what its buffer holds */
    {"zscan", s_callback, sizeof (s_pss_t), 256, 0, NULL,
     FRAME_MAX + 1024},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

static const struct lws_extension s_extensions[] = {
    {"permessage-deflate", lws_extension_callback_pm_deflate,
     "permessage-deflate; client_no_context_takeover; "
     "client_max_window_bits"},
    {NULL, NULL, NULL}};

/* ---------------------------------------------------------------------- */
/*  Construction                                                           */

void zs_gateway_config_defaults (zs_gateway_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    cfg->http_port = 8080;
    cfg->api = "tcp://127.0.0.1:5555";
    cfg->results_out = "tcp://127.0.0.1:5560";
    cfg->log_mb = 256;
    cfg->max_streams = 60000;
    cfg->max_scan_streams = 20000;
    cfg->max_behind = 1000000;
    cfg->stall_ms = 10000;
    cfg->body_max = 1 << 20;
    cfg->export_chunk = 65536;
    cfg->export_flush_ms = 100;
    cfg->drain_ms = 2000;
    cfg->keepalive_s = 15;
    cfg->request_ms = 5000;
}

zs_gateway_t *zs_gateway_new (const zs_gateway_config_t *cfg, char *err,
                              size_t errlen)
{
    zs_gateway_t *self = (zs_gateway_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->cfg = *cfg;
    const char **strs[] = {&self->cfg.listen,   &self->cfg.api,
                           &self->cfg.results_out, &self->cfg.token,
                           &self->cfg.cors,     &self->cfg.tls_cert,
                           &self->cfg.tls_key,  &self->cfg.www,
                           &self->cfg.chart_data};
    for (int i = 0; i < 9; i++)
        if (*strs[i] && **strs[i])
            *strs[i] = self->strs[i] = strdup (*strs[i]);
        else
            *strs[i] = NULL;
    self->started_at = zs_wall ();
    self->clients = zhashx_new ();
    self->streams = zlistx_new ();
    self->frame_cap = LWS_PRE + FRAME_MAX + 1024;
    self->frame = (unsigned char *) malloc (self->frame_cap);
    self->dirty = calloc (ZS_LOG_DIRTY, sizeof *self->dirty);
    self->logs = zs_logset_new ((size_t) cfg->log_mb << 20);
    self->dash = zs_gwdash_new (self->cfg.www, self->cfg.chart_data,
                                (size_t) cfg->chart_cache_mb);
    if (!self->clients || !self->streams || !self->frame || !self->dirty
        || !self->logs || !self->dash) {
        snprintf (err, errlen, "out of memory");
        zs_gateway_destroy (&self);
        return NULL;
    }
    lws_set_log_level (LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = (int) cfg->http_port;
    info.iface = self->cfg.listen && strcmp (self->cfg.listen, "*")
                     ? self->cfg.listen
                     : NULL;
    info.protocols = s_protocols;
    info.extensions = s_extensions;
    info.user = self;
    info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE
                   | LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.timeout_secs = 10;
    info.max_http_header_data = 4096;
    info.max_http_header_pool = 256;
    info.pt_serv_buf_size = 16384;
    if (self->cfg.tls_cert && self->cfg.tls_key) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = self->cfg.tls_cert;
        info.ssl_private_key_filepath = self->cfg.tls_key;
    }
    self->lws = lws_create_context (&info);
    if (!self->lws) {
        snprintf (err, errlen, "cannot listen on %s:%lld%s",
                  info.iface ? info.iface : "*", (long long) cfg->http_port,
                  self->cfg.tls_cert ? " (or a bad TLS certificate/key)"
                                     : "");
        zs_gateway_destroy (&self);
        return NULL;
    }
    self->vhost = lws_get_vhost_by_name (self->lws, "default");
    self->port = self->vhost ? lws_get_vhost_port (self->vhost)
                             : (int) cfg->http_port;
    self->zctx = zmq_ctx_new ();
    zs_bridge_config_t bc = {0};
    bc.api = self->cfg.api;
    bc.results = self->cfg.results_out;
    bc.logs = self->logs;
    bc.wake = s_wake;
    bc.wake_arg = self->lws;
    bc.request_ms = (int) cfg->request_ms;
    bc.curve = cfg->curve;
    /* the bridge's thread must not take SIGINT/SIGTERM: the service
       thread does (zs_interrupted) */
    sigset_t block, old;
    sigemptyset (&block);
    sigaddset (&block, SIGINT);
    sigaddset (&block, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &block, &old);
    self->bridge = self->zctx ? zs_bridge_new (self->zctx, &bc, err, errlen)
                              : NULL;
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (!self->bridge) {
        zs_gateway_destroy (&self);
        return NULL;
    }
    lws_sul_schedule (self->lws, 0, &self->sweep, s_sweep,
                      100 * LWS_US_PER_MS);
    return self;
}

int zs_gateway_port (zs_gateway_t *self)
{
    return self->port;
}

int zs_gateway_run (zs_gateway_t *self)
{
    zs_info ("gateway on port %d (broker api %s, results %s)", self->port,
             self->cfg.api, self->cfg.results_out);
    while (!zs_interrupted)
        if (lws_service (self->lws, 0) < 0)
            break;
    /* drain: refuse new connections, end each stream with a reason,
       spread over drain_ms */
    self->draining = true;
    self->drain_start_us = zs_clock_us ();
    size_t n = zlistx_size (self->streams);
    zs_info ("shutting down: ending %zu streams over %lld ms", n,
             (long long) self->cfg.drain_ms);
    int64_t until = self->drain_start_us + self->cfg.drain_ms * 1000
                    + 1000000;
    while (zlistx_size (self->streams) && zs_clock_us () < until)
        if (lws_service (self->lws, 0) < 0)
            break;
    return 0;
}

void zs_gateway_destroy (zs_gateway_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_gateway_t *self = *self_p;
    zs_bridge_destroy (&self->bridge);
    if (self->lws)
        lws_context_destroy (self->lws);
    if (self->zctx)
        zmq_ctx_term (self->zctx);
    zs_logset_destroy (&self->logs);
    zs_gwdash_destroy (&self->dash);
    zhashx_destroy (&self->clients);
    zlistx_destroy (&self->streams);
    free (self->frame);
    free (self->dirty);
    zs_buf_free (&self->tmp);
    for (int i = 0; i < 9; i++)
        free (self->strs[i]);
    free (self);
    *self_p = NULL;
}
