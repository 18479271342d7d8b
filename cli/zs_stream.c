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
#include "zs_json.h"
#include "zs_topic.h"
#include "zs_util.h"

#include <errno.h>
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
    zs_json_t js;          /* the JSON renderer's decoding space          */
    zs_buf_t line;         /* the JSON line being written                 */
    int64_t last_draw_us;
    bool bar_shown;
    zs_result_t result;    /* reusable decode space                       */
} s_view_t;

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
    {
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

static void s_on_started (s_view_t *v, const void *data, size_t size)
{
    zs_ev_started_t st = {0};
    char err[256];
    if (zs_ev_started_decode (data, size, &st, err, sizeof err) == 0)
        v->total = st.total;
    zs_msg_free (&st.mem_);
}

/*  One record as a JSON line (the shared renderer: the gateway's very
    text); true when it was the scan's last. */
static bool s_json_line (s_view_t *v, uint64_t pos, const void *data,
                         size_t size)
{
    zs_msg_type_t type = ZS_MSG_UNKNOWN;
    char err[256];
    zs_buf_reset (&v->line);
    if (zs_json_record (&v->js, pos, data, size, &type, &v->line, err,
                        sizeof err)
        != 0) {
        fprintf (stderr, "zscan: dropped a bad record (position %llu): %s\n",
                 (unsigned long long) pos, err);
        return false;
    }
    zs_buf_append (&v->line, "\n", 1);
    fwrite (v->line.data, 1, v->line.size, stdout);
    return type == ZS_MSG_EV_FINISHED;
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
        } else if (zs_interrupted && stopping)
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
                zs_json_free (&v.js);
                zs_buf_free (&v.line);
                return 1;
            }
            uint64_t seq = ev.rec.pos;
            const void *data = ev.rec.data;
            size_t size = ev.rec.size;
            if (v.json) {
                over = s_json_line (&v, seq, data, size);
                continue;
            }
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
                s_on_started (&v, data, size);
        }
        fflush (stdout);
    }
    s_clear_bar (&v);
    zs_msg_free (&v.result.mem_);
    zs_json_free (&v.js);
    zs_buf_free (&v.line);
    if (!over && exit_code == 0)
        exit_code = 130;
    if (over && v.lost) {
        fprintf (stderr,
                 "zscan: %llu records of scan %s were lost (they "
                 "left the broker's history before they could be "
                 "read)\n",
                 (unsigned long long) v.lost, scan);
        exit_code = 1;
    }
    return exit_code;
}
