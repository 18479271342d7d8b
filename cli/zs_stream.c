/*  zs_stream.c - a scan's records on stdout: JSON lines (one record per
    line, the records the gateway streams) or, on a terminal, signals as
    they arrive under a live progress bar.

    Records come through proto's bus (zs_bus.h), which hands out every
    record of the scan once, in order, whatever results-out dropped: a
    JSON line's "seq" is the record's position in its scan, the same
    number every subscriber and gateway sees.  What the bus cannot repair
    (records that left the broker's history, a broker that stopped
    answering or forgot the scan) is said on stderr, and the exit code is
    then 1.
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
    uint64_t lost;         /* records the bus reported lost               */
    int64_t last_draw_us;
    bool bar_shown;
    zs_result_t result;    /* reusable decode space                       */
} s_view_t;

static json_t *s_num (double v)
{
    return isfinite (v) ? json_real (v) : json_null ();
}

/*  Writes one JSON line: the record's type, position and data. */
static void s_emit_json (s_view_t *v, const char *type, uint64_t seq,
                         json_t *data)
{
    (void) v;
    json_t *rec = json_object ();
    json_object_set_new (rec, "type", json_string (type));
    json_object_set_new (rec, "seq", json_integer ((json_int_t) seq));
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
        s_emit_json (v, "result", seq, d);
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
        if (p.done > v->done) /* a signals-only view counts from these */
            v->done = p.done;
        if (p.signals > v->signals)
            v->signals = p.signals;
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
            s_emit_json (v, "progress", seq, d);
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
        s_emit_json (v, "complete", seq, d);
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

static void s_on_started (s_view_t *v, uint64_t seq, const void *data,
                          size_t size)
{
    zs_ev_started_t st = {0};
    char err[256];
    if (zs_ev_started_decode (data, size, &st, err, sizeof err) == 0) {
        v->total = st.total;
        if (v->json) {
            json_t *d = json_object ();
            json_object_set_new (d, "scan", json_string (st.scan));
            json_object_set_new (d, "total",
                                 json_integer ((json_int_t) st.total));
            if (st.universe)
                json_object_set_new (d, "universe",
                                     json_string (st.universe));
            if (st.def.strategy)
                json_object_set_new (d, "strategy",
                                     json_string (st.def.strategy));
            if (st.def.filter)
                json_object_set_new (d, "filter",
                                     json_string (st.def.filter));
            if (st.def.data)
                json_object_set_new (d, "data", json_string (st.def.data));
            json_object_set_new (d, "priority",
                                 json_string (zs_priority_name (st.priority)));
            json_object_set_new (d, "max_signals",
                                 json_integer ((json_int_t) st.max_signals));
            json_object_set_new (d, "max_symbols",
                                 json_integer ((json_int_t) st.max_symbols));
            json_object_set_new (d, "timeout_seconds",
                                 s_num (st.timeout_seconds));
            json_object_set_new (d, "time", s_num (st.time));
            s_emit_json (v, "started", seq, d);
        }
    }
    zs_msg_free (&st.mem_);
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
    zs_bus_t *bus = zs_client_bus (client);
    if (!bus)
        return 1;
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
        for (int i = 0; i < 4096 && !over; i++) {
            zs_bus_event_t ev;
            if (zs_bus_next (bus, i ? 0 : 200, &ev) != 1)
                break;
            if (strcmp (ev.rec.scan, scan) != 0)
                continue;
            if (ev.what == ZS_BUS_LOST) {
                s_clear_bar (&v);
                fprintf (stderr, "zscan: %s\n", ev.reason);
                v.lost += ev.lost_to - ev.lost_from + 1;
                continue;
            }
            if (ev.what == ZS_BUS_GONE || ev.what == ZS_BUS_SILENT) {
                s_clear_bar (&v);
                fprintf (stderr, "zscan: scan %s: %s%s\n", scan, ev.reason,
                         ev.what == ZS_BUS_SILENT ? ": giving up" : "");
                fflush (stdout);
                s_clear_bar (&v);
                zs_msg_free (&v.result.mem_);
                return 1;
            }
            uint64_t seq = ev.rec.pos;
            const void *data = ev.rec.data;
            size_t size = ev.rec.size;
            zs_msg_type_t type;
            char err[256];
            if (zs_msg_peek (data, size, &type, err, sizeof err) != 0)
                continue;
            if (type == ZS_MSG_RESULT)
                s_on_result (&v, seq, data, size);
            else if (type == ZS_MSG_EV_PROGRESS)
                s_on_progress (&v, seq, data, size);
            else if (type == ZS_MSG_EV_FINISHED)
                over = s_on_finished (&v, seq, data, size);
            else if (type == ZS_MSG_EV_STARTED)
                s_on_started (&v, seq, data, size);
        }
        fflush (stdout);
    }
    s_clear_bar (&v);
    zs_msg_free (&v.result.mem_);
    if (!over && exit_code == 0)
        exit_code = 130;
    if (over && v.lost) {
        fprintf (stderr, "zscan: %llu records of scan %s were lost (they "
                         "left the broker's history before they could be "
                         "read)\n",
                 (unsigned long long) v.lost, scan);
        exit_code = 1;
    }
    return exit_code;
}
