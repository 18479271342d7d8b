/*  zs_stream.c - a scan's records on stdout: JSON lines (one record per
    line, the records the gateway streams) or, on a terminal, signals as
    they arrive under a live progress bar.

    Each topic (a scan's signals, its other results, its events) has its
    own sequence; a repeated sequence number is skipped and a gap is
    reported on stderr (a gap would mean the bus lost something, which the
    broker's back-pressure is there to prevent).  The JSON records are
    numbered 1, 2, 3... in the order they are written.
*/
#include "zs_cli.h"
#include "zs_topic.h"
#include "zs_util.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    bool json;
    bool tty_err;          /* progress bar on stderr                      */
    const char *scan;
    uint64_t total;
    uint64_t done, signals, failed;
    double rate, eta;
    uint64_t last_seq[3];  /* per topic kind (zs_topic_kind_t)            */
    uint64_t written;      /* JSON lines written, numbering them          */
    uint64_t gaps;
    int64_t last_draw_us;
    bool bar_shown;
    zs_result_t result;    /* reusable decode space                       */
} s_view_t;

static json_t *s_num (double v)
{
    return isfinite (v) ? json_real (v) : json_null ();
}

/*  Writes one JSON line, numbered 1, 2, 3... in the order written. */
static void s_emit_json (s_view_t *v, const char *type, json_t *data)
{
    json_t *rec = json_object ();
    json_object_set_new (rec, "type", json_string (type));
    json_object_set_new (rec, "seq", json_integer ((json_int_t) ++v->written));
    json_object_set_new (rec, "data", data);
    char *line = json_dumps (rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (line) {
        fputs (line, stdout);
        fputc ('\n', stdout);
        free (line);
    }
    json_decref (rec);
}

static void s_clear_bar (s_view_t *v)
{
    if (v->bar_shown) {
        fputs ("\r\033[K", stderr);
        v->bar_shown = false;
    }
}

static void s_draw_bar (s_view_t *v, bool force)
{
    if (!v->tty_err)
        return;
    int64_t now = zs_clock_us ();
    if (!force && now - v->last_draw_us < 100000)
        return;
    v->last_draw_us = now;
    double frac = v->total ? (double) v->done / (double) v->total : 0;
    if (frac > 1)
        frac = 1;
    char bar[31];
    int fill = (int) (frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    char eta[32] = "-";
    if (v->eta >= 0)
        snprintf (eta, sizeof eta, "%.1fs", v->eta);
    fprintf (stderr,
             "\r\033[K[%s] %llu/%llu %3.0f%% | %llu signals | %.0f sym/s | "
             "ETA %s",
             bar, (unsigned long long) v->done, (unsigned long long) v->total,
             frac * 100, (unsigned long long) v->signals, v->rate, eta);
    fflush (stderr);
    v->bar_shown = true;
}

static void s_on_result (s_view_t *v, uint64_t seq, const void *data,
                         size_t size)
{
    zs_result_t *r = &v->result;
    char err[256];
    if (zs_result_decode (data, size, r, err, sizeof err) != 0) {
        s_clear_bar (v);
        fprintf (stderr, "zscan: dropped a bad result (seq %llu): %s\n",
                 (unsigned long long) seq, err);
        return;
    }
    v->done++;
    if (r->signal)
        v->signals++;
    if (r->error)
        v->failed++;
    if (v->json) {
        json_t *d = json_object ();
        json_object_set_new (d, "scan", json_string (r->scan));
        json_object_set_new (d, "symbol", json_string (r->symbol));
        json_object_set_new (d, "index", json_integer (r->index));
        json_object_set_new (d, "signal", json_boolean (r->signal));
        json_object_set_new (d, "score", s_num (r->score));
        json_object_set_new (d, "time",
                             r->time ? json_string (r->time) : json_null ());
        json_object_set_new (d, "price", s_num (r->price));
        json_t *vals = json_object ();
        for (size_t i = 0; i < r->nvalues; i++)
            json_object_set_new (vals, r->values[i].name,
                                 s_num (r->values[i].value));
        json_object_set_new (d, "values", vals);
        if (r->error)
            json_object_set_new (d, "error", json_string (r->error));
        if (r->note)
            json_object_set_new (d, "note", json_string (r->note));
        json_object_set_new (d, "worker", json_string (r->worker));
        s_emit_json (v, "result", d);
        return;
    }
    if (r->signal || r->error) {
        s_clear_bar (v);
        if (r->error)
            printf ("FAILED  %-10s %s\n", r->symbol, r->error);
        else {
            printf ("SIGNAL  %-10s score %-10.4g price %-10.4f %s", r->symbol,
                    r->score, r->price, r->time ? r->time : "");
            for (size_t i = 0; i < r->nvalues; i++)
                printf ("  %s=%.6g", r->values[i].name, r->values[i].value);
            printf ("\n");
        }
        fflush (stdout);
    }
    s_draw_bar (v, false);
}

static void s_on_progress (s_view_t *v, uint64_t seq, const void *data,
                           size_t size)
{
    zs_ev_progress_t p = {0};
    char err[256];
    if (zs_ev_progress_decode (data, size, &p, err, sizeof err) == 0) {
        v->total = p.total;
        v->rate = p.rate;
        v->eta = p.eta;
        if (v->json) {
            json_t *d = json_object ();
            json_object_set_new (d, "scan", json_string (p.scan));
            json_object_set_new (d, "total", json_integer ((json_int_t) p.total));
            json_object_set_new (d, "done", json_integer ((json_int_t) p.done));
            json_object_set_new (d, "signals",
                                 json_integer ((json_int_t) p.signals));
            json_object_set_new (d, "failed",
                                 json_integer ((json_int_t) p.failed));
            json_object_set_new (d, "busy", json_integer (p.busy));
            json_object_set_new (d, "elapsed", s_num (p.elapsed));
            json_object_set_new (d, "rate", s_num (p.rate));
            json_object_set_new (d, "eta", p.eta >= 0 ? s_num (p.eta)
                                                      : json_null ());
            s_emit_json (v, "progress", d);
        }
        else
            s_draw_bar (v, true);
    }
    zs_msg_free (&p.mem_);
}

/*  Returns true when the scan is over. */
static bool s_on_finished (s_view_t *v, uint64_t seq, const void *data,
                           size_t size)
{
    zs_ev_finished_t f = {0};
    char err[256];
    if (zs_ev_finished_decode (data, size, &f, err, sizeof err) != 0) {
        fprintf (stderr, "zscan: bad finished event: %s\n", err);
        zs_msg_free (&f.mem_);
        return true;
    }
    double saved = f.total ? (double) f.unscanned / (double) f.total : 0;
    if (v->json) {
        json_t *d = json_object ();
        json_object_set_new (d, "scan", json_string (f.scan));
        json_object_set_new (d, "reason",
                             json_string (zs_end_reason_name (f.reason)));
        json_object_set_new (d, "total", json_integer ((json_int_t) f.total));
        json_object_set_new (d, "scanned",
                             json_integer ((json_int_t) f.scanned));
        json_object_set_new (d, "signals",
                             json_integer ((json_int_t) f.signals));
        json_object_set_new (d, "results",
                             json_integer ((json_int_t) f.results));
        json_object_set_new (d, "failed", json_integer ((json_int_t) f.failed));
        json_object_set_new (d, "unscanned",
                             json_integer ((json_int_t) f.unscanned));
        json_object_set_new (d, "work_saved", s_num (saved));
        json_object_set_new (d, "elapsed", s_num (f.elapsed));
        json_object_set_new (d, "first_result_ms",
                             f.first_result_ms >= 0 ? s_num (f.first_result_ms)
                                                    : json_null ());
        s_emit_json (v, "complete", d);
    }
    else {
        v->done = f.results;
        v->signals = f.signals;
        v->total = f.total;
        v->eta = 0;
        v->rate = f.elapsed > 0 ? (double) f.results / f.elapsed : 0;
        s_draw_bar (v, true);
        s_clear_bar (v);
        printf ("scan %s %s: %llu of %llu symbols scanned, %llu signals, "
                "%llu failed, %llu never scanned (%.0f%% work saved), "
                "%.3f s, first result after %.2f ms\n",
                f.scan, zs_end_reason_name (f.reason),
                (unsigned long long) f.scanned, (unsigned long long) f.total,
                (unsigned long long) f.signals, (unsigned long long) f.failed,
                (unsigned long long) f.unscanned, saved * 100, f.elapsed,
                f.first_result_ms);
    }
    if (v->gaps)
        fprintf (stderr, "zscan: warning: %llu sequence gaps seen\n",
                 (unsigned long long) v->gaps);
    zs_msg_free (&f.mem_);
    return true;
}

static int s_send_stop (zs_client_t *client, const char *scan,
                        int64_t request_ms)
{
    zs_scan_stop_t m = {0};
    m.req = client->next_req++;
    m.scan = scan;
    m.reason = ZS_END_STOPPED;
    char err[512];
    zs_buf_reset (&client->buf);
    if (zs_scan_stop_encode (&m, &client->buf, err, sizeof err) != 0)
        return -1;
    zmq_msg_t reply;
    zmq_msg_init (&reply);
    int rc = zs_client_call (client, &reply, request_ms, err, sizeof err);
    zmq_msg_close (&reply);
    return rc;
}

int zs_cli_stream (zs_client_t *client, const char *scan, uint64_t total,
                   bool json, bool stop_on_interrupt, int64_t request_ms)
{
    s_view_t v;
    memset (&v, 0, sizeof v);
    v.json = json;
    v.tty_err = !json && isatty (STDERR_FILENO);
    v.scan = scan;
    v.total = total;
    v.eta = -1;
    bool stopping = false;
    int64_t stop_deadline = 0;
    int exit_code = 0;
    bool over = false;
    while (!over) {
        if (zs_interrupted && !stopping) {
            if (!stop_on_interrupt)
                break;
            stopping = true;
            zs_interrupted = 0;
            s_clear_bar (&v);
            fprintf (stderr, "zscan: stopping scan %s...\n", scan);
            s_send_stop (client, scan, request_ms);
            stop_deadline = zs_clock_ms () + 3000;
            exit_code = 130;
        }
        else if (zs_interrupted && stopping)
            break; /* second Ctrl-C: leave at once */
        if (stopping && zs_clock_ms () > stop_deadline)
            break;
        zmq_pollitem_t items[] = {{client->sub, 0, ZMQ_POLLIN, 0}};
        int rc = zmq_poll (items, 1, 200);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 4096 && !over; i++) {
            zs_bus_rec_t rec;
            int got = zs_client_recv_record (client, &rec);
            if (got == 0)
                break;
            if (got < 0)
                continue;
            uint64_t seq = rec.seq;
            const void *data = rec.data;
            size_t size = rec.size;
            uint64_t *last = &v.last_seq[rec.kind];
            if (seq <= *last) /* already seen */
                continue;
            if (*last && seq > *last + 1)
                v.gaps++;
            *last = seq;
            zs_msg_type_t type;
            char err[256];
            if (zs_msg_peek (data, size, &type, err, sizeof err) == 0) {
                if (type == ZS_MSG_RESULT)
                    s_on_result (&v, seq, data, size);
                else if (type == ZS_MSG_EV_PROGRESS)
                    s_on_progress (&v, seq, data, size);
                else if (type == ZS_MSG_EV_FINISHED)
                    over = s_on_finished (&v, seq, data, size);
                else if (type == ZS_MSG_EV_STARTED) {
                    zs_ev_started_t s = {0};
                    if (zs_ev_started_decode (data, size, &s, err,
                                              sizeof err)
                        == 0)
                        v.total = s.total;
                    zs_msg_free (&s.mem_);
                }
            }
        }
        fflush (stdout);
    }
    s_clear_bar (&v);
    zs_msg_free (&v.result.mem_);
    if (!over && exit_code == 0)
        exit_code = 130;
    return exit_code;
}
