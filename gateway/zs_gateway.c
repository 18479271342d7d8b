/*  zs_gateway.c - the HTTP face (see zs_gateway.h): construction,
    routing, broker requests and the lws callback; its HTTP helpers, its
    streams and its own figures are zs_gwhttp.c, zs_gwstream.c and
    zs_gwmetrics.c (their shared insides: zs_gw_int.h).

    One libwebsockets protocol serves everything: plain HTTP requests,
    SSE, polling and export (HTTP), and WebSocket upgrades on
    /ws/results/{id}.  Three lifetimes, three structs, as lws's minimal
    examples have them: the gateway (per context), the session (zs_gw_pss_t:
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
#include "zs_gw_int.h"
#include "zs_gwjson.h"
#include "zs_json.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

const char *zs_gw_kind_names[6] = {"", "rest", "ws", "sse", "poll", "export"};

/* ---------------------------------------------------------------------- */
/*  Broker requests                                                        */

/*  Sends a request built in self->tmp and parks pss until the answer. */
static int s_call (zs_gateway_t *self, zs_gw_pss_t *pss, const char *start)
{
    pss->ticket = zs_bridge_call (self->bridge, &self->tmp, start);
    if (!pss->ticket)
        return zs_gw_error (self, pss, 503, "the broker cannot be reached");
    zs_gw_list_add (&self->waiting, pss);
    return 0;
}

static int s_request (zs_gateway_t *self, zs_gw_pss_t *pss, zs_msg_type_t type,
                      const char *scan, bool all)
{
    char err[256];
    int rc = -1;
    zs_buf_reset (&self->tmp);
    if (type == ZS_MSG_SCAN_STATUS) {
        zs_scan_status_t m = {0};
        m.scan = scan;
        rc = zs_scan_status_encode (&m, &self->tmp, err, sizeof err);
    } else if (type == ZS_MSG_SCAN_STOP) {
        zs_scan_stop_t m = {0};
        m.scan = scan;
        m.reason = ZS_END_STOPPED;
        rc = zs_scan_stop_encode (&m, &self->tmp, err, sizeof err);
    } else if (type == ZS_MSG_SCAN_LIST) {
        zs_scan_list_t m = {0};
        m.all = all;
        rc = zs_scan_list_encode (&m, &self->tmp, err, sizeof err);
    } else {
        zs_worker_list_t m = {0};
        rc = zs_worker_list_encode (&m, &self->tmp, err, sizeof err);
    }
    if (rc != 0)
        return zs_gw_error (self, pss, 500, err);
    return s_call (self, pss, NULL);
}

/*  The broker answered pss's request: the HTTP answer. */
static int s_on_reply (zs_gateway_t *self, zs_gw_pss_t *pss, zs_buf_t *reply)
{
    zs_buf_reset (&self->tmp);
    int status = 200;
    if (pss->route == R_START) {
        zs_msg_type_t type;
        char err[128];
        if (zs_msg_peek (reply->data, reply->size, &type, err, sizeof err) == 0
            && type == ZS_MSG_SCAN_STARTED) {
            zs_scan_started_t st = {0};
            zs_scan_started_decode (reply->data, reply->size, &st, err,
                                    sizeof err);
            /* the URLs use the host the client named, when it is a
               plain host[:port] (it goes into JSON and URLs as is) */
            char host[128] = "";
            int hl = lws_hdr_copy (pss->wsi, host, sizeof host, WSI_TOKEN_HOST);
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
            zs_gw_buf_lit (&self->tmp, b);
            return zs_gw_answer (self, pss, 201, "application/json",
                                 &self->tmp);
        }
    }
    int64_t clients = pss->route == R_STATS
                          ? (int64_t) zs_gw_scan_clients (self, pss->scan)
                          : -1;
    zs_gwjson_reply (reply->data, reply->size, clients, &self->tmp, &status);
    if (pss->route == R_DELETE && status == 200) {
        /* stopped (or was over): forget its log */
        zs_logset_lock (self->logs);
        zs_logset_drop (self->logs, pss->scan);
        zs_logset_unlock (self->logs);
    }
    zs_gw_buf_lit (&self->tmp, "\n");
    return zs_gw_answer (self, pss, status, "application/json", &self->tmp);
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

/*  A POST /scan/stream body is in: start the scan. */
static int s_start (zs_gateway_t *self, zs_gw_pss_t *pss)
{
    char ct[128] = "";
    lws_hdr_copy (pss->wsi, ct, sizeof ct, WSI_TOKEN_HTTP_CONTENT_TYPE);
    if (ct[0] && !strstr (ct, "application/json"))
        return zs_gw_error (self, pss, 415,
                            "the body must be application/json");
    pss->scan[0] = 'g';
    zs_random_id (pss->scan + 1, 11);
    char err[512];
    zs_buf_reset (&self->tmp);
    const char *body = pss->body ? pss->body->data : "";
    size_t len = pss->body ? pss->body->size : 0;
    if (zs_gwjson_start (body, len, pss->scan, &self->tmp, err, sizeof err)
        != 0)
        return zs_gw_error (self, pss, 400, err);
    return s_call (self, pss, pss->scan);
}

/*  The dashboard's API: GET /strategies, GET /chart/SYMBOL. */
static int s_dash (zs_gateway_t *self, zs_gw_pss_t *pss, struct lws *wsi,
                   const char *symbol)
{
    zs_buf_t out = {0};
    int status = 200;
    if (pss->route == R_STRATEGIES)
        zs_gwdash_strategies (&out);
    else {
        char data[512], values[1024], bars[32], err[600];
        const char *d = zs_gw_arg (wsi, "data", data, sizeof data);
        const char *v = zs_gw_arg (wsi, "values", values, sizeof values);
        const char *b = zs_gw_arg (wsi, "bars", bars, sizeof bars);
        status = zs_gwdash_chart (self->dash, symbol, d, v,
                                  b ? strtoull (b, NULL, 10) : 0, &out, err,
                                  sizeof err);
        if (status != 200) {
            zs_buf_free (&out);
            return zs_gw_error (self, pss, status, err);
        }
    }
    int rc = zs_gw_answer (self, pss, status, "application/json", &out);
    zs_buf_free (&out);
    return rc;
}

/*  Which route a path and method are; 405 for a known path with another
    method (0 then, *wrong set). */
static int s_route (const char *path, int method, const char **id, bool *wrong)
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
static void s_pss_release (zs_gateway_t *self, zs_gw_pss_t *pss)
{
    zs_gw_unwatch (self, pss);
    zs_gw_stream_count (self, pss, false);
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

static int s_on_http (zs_gateway_t *self, zs_gw_pss_t *pss, struct lws *wsi,
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
        const char *extra[] = {
            "access-control-allow-methods:", "GET, POST, DELETE, OPTIONS",
            "access-control-allow-headers:", "authorization, content-type",
            NULL};
        zs_buf_reset (&self->tmp);
        if (zs_gw_headers (self, wsi, 204, NULL, 0, extra))
            return -1;
        return lws_http_transaction_completed (wsi) ? -1 : 0;
    }
    if (!strncmp (path, "/ws/results/", 12))
        return zs_gw_error (self, pss, 400,
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
        return zs_gw_error (self, pss, 405, "method not allowed here");
    if (!route)
        return zs_gw_error (self, pss, 404, "no such endpoint");
    if (route != R_HEALTH && route != R_METRICS
        && !zs_gw_authorised (self, wsi))
        return zs_gw_error (self, pss, 401, "a bearer token is required");
    pss->route = (uint8_t) route;
    if (route == R_STRATEGIES || route == R_CHART)
        return s_dash (self, pss, wsi, id);
    if (id) {
        if (!zs_scan_id_valid (id))
            return zs_gw_error (self, pss, 404, "no such scan");
        snprintf (pss->scan, sizeof pss->scan, "%s", id);
    }
    uint64_t after = 0;
    switch (route) {
    case R_HEALTH:
        return zs_gw_health (self, pss);
    case R_METRICS:
        return zs_gw_metrics (self, pss);
    case R_START: {
        /* the body comes in LWS_CALLBACK_HTTP_BODY; one announced too
           large is refused before it is read */
        char cl[32] = "";
        if (lws_hdr_copy (wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0
            && strtoll (cl, NULL, 10) > self->cfg.body_max)
            return zs_gw_error (self, pss, 413, "the body is too large");
        return 0;
    }
    case R_STATS:
        return s_request (self, pss, ZS_MSG_SCAN_STATUS, pss->scan, false);
    case R_STOP:
    case R_DELETE:
        return s_request (self, pss, ZS_MSG_SCAN_STOP, pss->scan, false);
    case R_ACTIVE:
        return s_request (self, pss, ZS_MSG_SCAN_LIST, NULL,
                          zs_gw_arg_flag (wsi, "all"));
    case R_WORKERS:
        return s_request (self, pss, ZS_MSG_WORKER_LIST, NULL, false);
    default:
        break;
    }
    /* streams */
    if (self->draining)
        return zs_gw_error (self, pss, 503, "the gateway is shutting down");
    if (!zs_gw_room (self, pss->scan))
        return zs_gw_error (self, pss, 503, "too many streams");
    if (route == R_POLL) {
        zs_gw_arg_u64 (wsi, "after", &after);
        uint64_t limit = 1000, wait = 0;
        zs_gw_arg_u64 (wsi, "limit", &limit);
        zs_gw_arg_u64 (wsi, "wait", &wait);
        pss->kind = K_POLL;
        pss->cursor = after;
        pss->limit = (uint32_t) (limit < 1            ? 1
                                 : limit > POLL_LIMIT ? POLL_LIMIT
                                                      : limit);
        pss->wait_until_us =
            zs_clock_us () + (int64_t) (wait > 60000 ? 60000 : wait) * 1000;
        zs_gw_stream_open (self, pss);
        return 0;
    }
    if (route == R_SSE) {
        char last[32] = "";
        if (lws_hdr_custom_copy (wsi, last, sizeof last, "last-event-id:", 14)
            > 0)
            after = strtoull (last, NULL, 10);
        else
            zs_gw_arg_u64 (wsi, "last_event_id", &after);
        pss->signals = zs_gw_arg_flag (wsi, "signals");
        /* a completed scan read to its end: 204 stops EventSource's
           reconnecting */
        zs_logset_lock (self->logs);
        zs_scanlog_t *log = zs_logset_get (self->logs, pss->scan, false);
        bool over =
            log && zs_scanlog_done (log) && after >= zs_scanlog_last (log);
        zs_logset_unlock (self->logs);
        if (over) {
            if (zs_gw_headers (self, wsi, 204, NULL, 0, NULL))
                return -1;
            return lws_http_transaction_completed (wsi) ? -1 : 0;
        }
        pss->kind = K_SSE;
        pss->cursor = after;
        const char *extra[] = {"cache-control:", "no-cache", NULL};
        if (zs_gw_headers (self, wsi, 200, "text/event-stream",
                           LWS_ILLEGAL_HTTP_CONTENT_LEN, extra))
            return -1;
        /* a long-lived response: no idle timeout (lws_http_mark_sse
           does this for h2 only, and complains on h1) */
        lws_set_timeout (wsi, NO_PENDING_TIMEOUT, 0);
        pss->headers = true;
        pss->greet_due = true; /* the reconnect delay EventSource waits */
        zs_gw_stream_open (self, pss);
        return 0;
    }
    /* export */
    char fmt[16] = "ndjson";
    const char *f = zs_gw_arg (wsi, "format", fmt, sizeof fmt);
    if (f && strcmp (f, "ndjson") && strcmp (f, "csv"))
        return zs_gw_error (self, pss, 400, "format: ndjson or csv");
    pss->kind = K_EXPORT;
    pss->fmt = f && !strcmp (f, "csv") ? F_CSV : F_NDJSON;
    char ae[128] = "";
    lws_hdr_copy (wsi, ae, sizeof ae, WSI_TOKEN_HTTP_ACCEPT_ENCODING);
    bool gzip = strstr (ae, "gzip") != NULL;
    if (gzip) {
        pss->z = (z_stream *) calloc (1, sizeof *pss->z);
        if (!pss->z
            || deflateInit2 (pss->z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY)
                   != Z_OK) {
            free (pss->z);
            pss->z = NULL;
            gzip = false;
        }
    }
    const char *extra[] = {"transfer-encoding:", "chunked",
                           gzip ? "content-encoding:" : NULL, "gzip", NULL};
    if (zs_gw_headers (self, wsi, 200,
                       pss->fmt == F_CSV ? "text/csv" : "application/x-ndjson",
                       LWS_ILLEGAL_HTTP_CONTENT_LEN, extra))
        return -1;
    pss->headers = true;
    pss->flush_us = zs_clock_us ();
    if (pss->fmt == F_CSV) {
        pss->out = (zs_buf_t *) calloc (1, sizeof *pss->out);
        if (pss->out)
            zs_gw_buf_lit (pss->out, "seq,symbol,index,signal,score,price,time,"
                                     "values,error,note,worker\r\n");
    }
    zs_gw_stream_open (self, pss);
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
        || !zs_gw_authorised (self, wsi)) {
        self->m.rejected[!id || !zs_scan_id_valid (id) ? 2 : 1]++;
        return 1; /* refused before the upgrade */
    }
    return 0;
}

static int s_ws_established (zs_gateway_t *self, zs_gw_pss_t *pss,
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
    zs_gw_arg_u64 (wsi, "after", &pss->cursor);
    pss->signals = zs_gw_arg_flag (wsi, "signals");
    char ext[256] = "";
    lws_hdr_copy (wsi, ext, sizeof ext, WSI_TOKEN_EXTENSIONS);
    pss->deflate = strstr (ext, "permessage-deflate") != NULL;
    char b[16];
    const char *batch = zs_gw_arg (wsi, "batch", b, sizeof b);
    pss->batch = !batch || strcmp (batch, "0") != 0;
    char fb[16];
    const char *fmt = zs_gw_arg (wsi, "format", fb, sizeof fb);
    if (fmt && strcmp (fmt, "json") && strcmp (fmt, "msgpack")) {
        pss->ended = true;
        self->m.rejected[2]++;
        lws_close_reason (wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                          (unsigned char *) "format: json or msgpack", 23);
        return -1;
    }
    pss->fmt = fmt && !strcmp (fmt, "msgpack") ? F_MSGPACK : F_NDJSON;
    if (!zs_gw_room (self, pss->scan)) {
        pss->ended = true;
        lws_close_reason (wsi, (enum lws_close_status) 1013, /* later */
                          (unsigned char *) "too many streams", 16);
        return -1;
    }
    zs_gw_stream_open (self, pss);
    return 0;
}

/*  A client's frame: {"action":"stop"} stops the scan; nothing else is
    taken (the connection closes with 1003 and the reason). */
static int s_ws_receive (zs_gateway_t *self, zs_gw_pss_t *pss, struct lws *wsi,
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
        for (zs_gw_pss_t *p =
                 (zs_gw_pss_t *) zhashx_lookup (self->clients, self->dirty[i]);
             p; p = p->next) {
            /* it has something to write from now: if it does not get
               writable within stall_ms, it is stalled */
            if (!p->want_us)
                p->want_us = now;
            lws_callback_on_writable (p->wsi);
        }
    zs_buf_t reply = {0};
    zs_gw_pss_t *p = self->waiting;
    while (p) {
        zs_gw_pss_t *next = p->next;
        if (zs_bridge_reply (self->bridge, p->ticket, &reply)) {
            zs_gw_list_remove (&self->waiting, p);
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
    int64_t drain_step =
        n && self->draining ? self->cfg.drain_ms * 1000 / (int64_t) n : 0;
    for (zs_gw_pss_t *p = (zs_gw_pss_t *) zlistx_first (self->streams); p;
         p = (zs_gw_pss_t *) zlistx_next (self->streams), i++) {
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
    lws_sul_schedule (self->lws, 0, &self->sweep, s_sweep, 100 * LWS_US_PER_MS);
}

/* ---------------------------------------------------------------------- */
/*  The callback                                                           */

static int s_callback (struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len)
{
    zs_gw_pss_t *pss = (zs_gw_pss_t *) user;
    zs_gateway_t *self =
        (zs_gateway_t *) lws_context_user (lws_get_context (wsi));
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
            return zs_gw_error (self, pss, 413, "the body is too large") ? -1
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
            return zs_gw_write_out (self, pss) ? -1 : 0;
        if (pss->why)
            return zs_gw_end (self, pss, pss->close_code, pss->why);
        if (pss->kind == K_SSE || pss->kind == K_POLL || pss->kind == K_EXPORT)
            return zs_gw_stream_write (self, pss) ? -1 : 0;
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
            return zs_gw_end (self, pss, pss->close_code, pss->why);
        return zs_gw_stream_write (self, pss);
    case LWS_CALLBACK_RECEIVE:
        return s_ws_receive (self, pss, wsi, in, len);
    case LWS_CALLBACK_CLOSED:
        zs_gw_unwatch (self, pss);
        zs_gw_stream_count (self, pss, false);
        zs_gw_wbuf_free (self, pss);
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
    {"zscan", s_callback, sizeof (zs_gw_pss_t), 256, 0, NULL, FRAME_MAX + 1024},
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
    const char **strs[] = {
        &self->cfg.listen,  &self->cfg.api,  &self->cfg.results_out,
        &self->cfg.token,   &self->cfg.cors, &self->cfg.tls_cert,
        &self->cfg.tls_key, &self->cfg.www,  &self->cfg.chart_data};
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
    info.options =
        LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE
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
                  self->cfg.tls_cert ? " (or a bad TLS certificate/key)" : "");
        zs_gateway_destroy (&self);
        return NULL;
    }
    self->vhost = lws_get_vhost_by_name (self->lws, "default");
    self->port =
        self->vhost ? lws_get_vhost_port (self->vhost) : (int) cfg->http_port;
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
    self->bridge =
        self->zctx ? zs_bridge_new (self->zctx, &bc, err, errlen) : NULL;
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (!self->bridge) {
        zs_gateway_destroy (&self);
        return NULL;
    }
    lws_sul_schedule (self->lws, 0, &self->sweep, s_sweep, 100 * LWS_US_PER_MS);
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
    int64_t until = self->drain_start_us + self->cfg.drain_ms * 1000 + 1000000;
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
