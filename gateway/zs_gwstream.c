/*  zs_gwstream.c - the gateway's streams (see zs_gw_int.h): each has a
    cursor into its scan's log and writes what it has not sent when its
    scan has news, several records in one frame when it is behind; one
    that falls too far behind, whose records left the log or that stays
    unwritable is cut with a reason.  WebSocket, SSE, long polls and
    exports (NDJSON, CSV, msgpack; gzip when asked). */
#include "zs_gw_int.h"
#include "zs_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void zs_gw_list_add (zs_gw_pss_t **head, zs_gw_pss_t *p)
{
    p->prev = NULL;
    p->next = *head;
    if (*head)
        (*head)->prev = p;
    *head = p;
    p->listed = true;
}

void zs_gw_list_remove (zs_gw_pss_t **head, zs_gw_pss_t *p)
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
void zs_gw_watch (zs_gateway_t *self, zs_gw_pss_t *p)
{
    zs_gw_pss_t *head = (zs_gw_pss_t *) zhashx_lookup (self->clients, p->scan);
    zs_gw_list_add (&head, p);
    zhashx_update (self->clients, p->scan, head);
}

void zs_gw_unwatch (zs_gateway_t *self, zs_gw_pss_t *p)
{
    if (!p->listed)
        return;
    if (p->kind == K_REST) {
        zs_gw_list_remove (&self->waiting, p);
        return;
    }
    zs_gw_pss_t *head = (zs_gw_pss_t *) zhashx_lookup (self->clients, p->scan);
    zs_gw_list_remove (&head, p);
    if (head)
        zhashx_update (self->clients, p->scan, head);
    else
        zhashx_delete (self->clients, p->scan);
}

size_t zs_gw_scan_clients (zs_gateway_t *self, const char *scan)
{
    size_t n = 0;
    for (zs_gw_pss_t *p = (zs_gw_pss_t *) zhashx_lookup (self->clients, scan);
         p; p = p->next)
        n++;
    return n;
}

void zs_gw_stream_count (zs_gateway_t *self, zs_gw_pss_t *pss, bool open)
{
    if (open && !pss->counted) {
        pss->counted = true; /* its log's reader: see zs_gw_stream_open */
        self->m.conns[pss->kind]++;
        self->m.opened[pss->kind]++;
        zlistx_add_end (self->streams, pss);
    } else if (!open && pss->counted) {
        pss->counted = false;
        zs_logset_lock (self->logs);
        zs_logset_readers (self->logs, pss->scan, false);
        zs_logset_unlock (self->logs);
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
bool zs_gw_room (zs_gateway_t *self, const char *scan)
{
    return (int64_t) s_streams (self) < self->cfg.max_streams
           && (int64_t) zs_gw_scan_clients (self, scan)
                  < self->cfg.max_scan_streams;
}

/*  A stream starts: its log exists (or is asked for from its start). */
void zs_gw_stream_open (zs_gateway_t *self, zs_gw_pss_t *pss)
{
    zs_logset_lock (self->logs);
    zs_scanlog_t *log = zs_logset_get (self->logs, pss->scan, false);
    bool fresh = !log;
    if (!log)
        log = zs_logset_get (self->logs, pss->scan, true);
    /* a log that does not reach back to this stream's cursor (evicted,
       or first seen mid-scan and not yet replayed): fetch it whole */
    bool short_log = log && zs_scanlog_first (log) > pss->cursor + 1;
    if (!pss->counted) /* read: not evicted whole from under it */
        zs_logset_readers (self->logs, pss->scan, true);
    zs_logset_unlock (self->logs);
    if (fresh || short_log)
        zs_bridge_follow (self->bridge, pss->scan);
    zs_gw_stream_count (self, pss, true);
    zs_gw_watch (self, pss);
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
    static const int64_t edges[8] = {100,  250,  500,   1000,
                                     2500, 5000, 10000, 50000};
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
    zs_gw_buf_lit (out, b);
    const char *cols[] = {"symbol", "index",  "signal", "score", "price",
                          "time",   "values", "error",  "note",  "worker"};
    for (int i = 0; i < 10; i++) {
        json_t *v = json_object_get (d, cols[i]);
        if (i)
            zs_gw_buf_lit (out, ",");
        if (!v || json_is_null (v))
            continue;
        char *text = json_is_string (v)
                         ? NULL
                         : json_dumps (v, JSON_COMPACT | JSON_ENCODE_ANY);
        const char *s = text ? text : json_string_value (v);
        bool quote = strpbrk (s, ",\"\n\r") != NULL;
        if (quote) {
            zs_gw_buf_lit (out, "\"");
            for (const char *c = s; *c; c++) {
                if (*c == '"')
                    zs_gw_buf_lit (out, "\"");
                zs_buf_append (out, c, 1);
            }
            zs_gw_buf_lit (out, "\"");
        } else
            zs_gw_buf_lit (out, s);
        free (text);
    }
    zs_gw_buf_lit (out, "\r\n");
    json_decref (o);
}

/*  Appends one record in pss's form into the frame (at *len). */
static void s_frame_add (zs_gateway_t *self, zs_gw_pss_t *pss,
                         const zs_logrec_t *rec, zs_buf_t *f)
{
    if (pss->kind == K_SSE) {
        char head[96];
        int n = snprintf (head, sizeof head, "id: %llu\nevent: %s\ndata: ",
                          (unsigned long long) rec->pos, s_type_of (rec->kind));
        zs_buf_append (f, head, (size_t) n);
        zs_buf_append (f, rec->json, rec->len);
        zs_buf_append (f, "\n\n", 2);
    } else if (pss->kind == K_EXPORT && pss->fmt == F_CSV) {
        if (rec->kind == ZS_LOG_RESULT || rec->kind == ZS_LOG_SIGNAL)
            s_csv_row (f, rec);
    } else if (pss->kind == K_POLL) {
        if (f->size > 12)
            zs_buf_append (f, ",", 1);
        zs_buf_append (f, rec->json, rec->len);
    } else if (pss->kind == K_WS && pss->fmt == F_MSGPACK)
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
static const char *s_collect (zs_gateway_t *self, zs_gw_pss_t *pss, zs_buf_t *f,
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
        /* a stream of signals lost nothing when only results that are
           no signal, and progress, left before it read them */
        if (!pss->signals || zs_scanlog_cut_wanted (log) > pss->cursor) {
            self->m.dropped_evicted++;
            return "fell too far behind: its records left the gateway's "
                   "log";
        }
        pss->cursor = first - 1;
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
                if (*count
                    && (f->size + rec.len + 128 > FRAME_MAX
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
int zs_gw_end (zs_gateway_t *self, zs_gw_pss_t *pss, uint16_t code,
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
        zs_gw_buf_lit (&self->tmp, "event: end\ndata: ");
        zs_buf_t js = {0};
        zs_gw_buf_lit (&js, "{\"reason\":");
        zs_json_string (&js, why);
        zs_gw_buf_lit (&js, "}");
        zs_buf_append (&self->tmp, js.data, js.size);
        zs_buf_free (&js);
        zs_gw_buf_lit (&self->tmp, "\n\n");
        memcpy (self->frame + LWS_PRE, self->tmp.data, self->tmp.size);
        lws_write (pss->wsi, self->frame + LWS_PRE, self->tmp.size,
                   LWS_WRITE_HTTP);
    }
    return -1;
}

/*  Writes one chunk of an export (chunked encoding; gzip when asked). */
static int s_export_chunk (zs_gateway_t *self, zs_gw_pss_t *pss,
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
        zs_gw_buf_lit (&self->tmp, "0\r\n\r\n");
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
void zs_gw_wbuf_free (zs_gateway_t *self, zs_gw_pss_t *pss)
{
    self->m.wbuf_bytes -= pss->wcap;
    free (pss->wbuf);
    pss->wbuf = NULL;
    pss->wcap = 0;
}

/*  A stream's writable callback: what it has not sent, one frame. */
int zs_gw_stream_write (zs_gateway_t *self, zs_gw_pss_t *pss)
{
    if (pss->ended)
        return -1;
    zs_buf_t f = {0};
    bool last = false, more = false;
    uint32_t count = 0;
    const char *why = NULL;
    uint32_t max = pss->kind == K_POLL                ? pss->limit
                   : pss->kind == K_WS && !pss->batch ? 1
                                                      : 100000;
    if (pss->kind == K_POLL)
        zs_gw_buf_lit (&f, "{\"records\":[");
    zs_logset_lock (self->logs);
    why = s_collect (self, pss, &f, max, &last, &more, &count);
    zs_logset_unlock (self->logs);
    int64_t now = zs_clock_us ();
    int rc = 0;
    if (why) {
        zs_buf_free (&f);
        if (pss->kind == K_POLL) {
            zs_gw_unwatch (self, pss);
            zs_gw_stream_count (self, pss, false);
            pss->kind = K_REST;
            return zs_gw_error (self, pss, 410, why);
        }
        return zs_gw_end (self, pss, 1008, why);
    }
    if (pss->kind == K_POLL) {
        if (!count && !last && now < pss->wait_until_us) {
            zs_buf_free (&f);
            return 0; /* keep waiting */
        }
        char tail[96];
        snprintf (tail, sizeof tail, "],\"next\":%llu,\"done\":%s}\n",
                  (unsigned long long) pss->cursor, last ? "true" : "false");
        zs_gw_buf_lit (&f, tail);
        zs_gw_unwatch (self, pss);
        zs_gw_stream_count (self, pss, false);
        pss->kind = K_REST;
        self->m.records_sent += count;
        rc = zs_gw_answer (self, pss, 200, "application/json", &f);
        zs_buf_free (&f);
        return rc;
    }
    if (pss->kind == K_EXPORT) {
        bool due = last || f.size >= (size_t) self->cfg.export_chunk
                   || now - pss->flush_us >= self->cfg.export_flush_ms * 1000;
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
        zs_gw_buf_lit (&g, "retry: 1000\n\n");
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
        zs_gw_buf_lit (&f, ": keep-alive\n\n");
    }
    if (!f.size) {
        zs_buf_free (&f);
        pss->want_us = 0;
        /* idle: its frame buffer goes (an idle stream holds only its
           cursor) */
        zs_gw_wbuf_free (self, pss);
        if (last)
            return zs_gw_end (self, pss, 1000, "complete");
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
    } else if (need > self->frame_cap) {
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
                       pss->kind != K_WS       ? LWS_WRITE_HTTP
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
