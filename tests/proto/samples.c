/*  samples.c - see samples.h.  */
#include "samples.h"

#include <math.h>
#include <string.h>

static const char *s_syms[] = {"AAPL", "MSFT", "BRK.B", "^GSPC"};
static uint32_t s_idx[] = {0, 7, 65535, 4000000000u};

static void s_def (zs_scan_def_t *d, bool full)
{
    memset (d, 0, sizeof *d);
    if (!full)
        return;
    d->data = "csv:/srv/data";
    d->strategy = "rsi_oversold";
    d->nparams = 2;
    d->pnames[0] = "period";
    d->pvalues[0] = 14;
    d->pnames[1] = "threshold";
    d->pvalues[1] = 27.5;
}

static void s_info (zs_scan_info_t *i, bool full)
{
    memset (i, 0, sizeof *i);
    i->scan = "scan-1";
    i->state = full ? ZS_STATE_FINISHED : ZS_STATE_RUNNING;
    i->reason = full ? ZS_END_MAX_SIGNALS : ZS_END_NONE;
    s_def (&i->def, full);
    if (full) {
        i->universe = "synthetic:10000";
        i->priority = ZS_PRIO_LIQUIDITY;
        i->max_signals = 25;
        i->max_symbols = 5000;
        i->timeout_seconds = 2.5;
    }
    i->total = 10000;
    i->done = 4321;
    i->signals = 25;
    i->failed = 3;
    i->unscanned = 5679;
    i->seq = 4400;
    i->busy = 4;
    i->started_at = 1767225600.25;
    i->elapsed = 0.125;
    i->rate = 34568.0;
    i->eta = full ? 0 : -1;
    i->first_result_ms = full ? 0.75 : -1;
    i->idle_ms = full ? 1.5 : -1;
}

#define SAMPLE(name, ...)                                                  \
    static int s_enc_##name (bool full, zs_buf_t *out, char *err,          \
                             size_t errlen)                                \
    {                                                                      \
        zs_##name##_t m;                                                   \
        memset (&m, 0, sizeof m);                                          \
        __VA_ARGS__;                                                            \
        return zs_##name##_encode (&m, out, err, errlen);                  \
    }                                                                      \
    static int s_re_##name (const void *data, size_t size, zs_buf_t *out,  \
                            char *err, size_t errlen)                      \
    {                                                                      \
        zs_##name##_t m;                                                   \
        memset (&m, 0, sizeof m);                                          \
        int rc = zs_##name##_decode (data, size, &m, err, errlen);         \
        if (rc == 0)                                                       \
            rc = zs_##name##_encode (&m, out, err, errlen);                \
        zs_msg_free (&m.mem_);                                             \
        return rc;                                                         \
    }

SAMPLE (scan_start, {
    if (full) {
        m.req = 42;
        m.scan = "my-scan_1";
        m.universe = "synthetic:500";
        m.nsymbols = 4;
        m.symbols = s_syms;
        s_def (&m.def, true);
        m.def.strategy = NULL;
        m.def.nparams = 0;
        m.def.filter = "rsi(14) < 30 and close > sma(200)";
        m.batch = 64;
        m.priority = ZS_PRIO_SIGNALS;
        m.max_signals = 10;
        m.max_symbols = 100;
        m.timeout_seconds = 1.5;
        m.sync = true;
    }
})
SAMPLE (scan_stop, {
    m.scan = "s1";
    if (full) {
        m.req = 7;
        m.reason = ZS_END_MAX_SIGNALS;
    }
})
SAMPLE (scan_status, {
    m.scan = "s1";
    if (full)
        m.req = 8;
})
SAMPLE (scan_list, {
    if (full) {
        m.req = 9;
        m.all = true;
    }
})
SAMPLE (worker_list, {
    if (full)
        m.req = 10;
})
SAMPLE (scan_started, {
    m.scan = "s1";
    m.total = 10000;
    m.seq = 1;
    if (full) {
        m.req = 11;
        m.broker = "b0abcdef1234";
    }
})
SAMPLE (scan_stopped, {
    m.scan = "s1";
    m.state = ZS_STATE_FINISHED;
    m.reason = ZS_END_STOPPED;
    if (full)
        m.req = 12;
})
SAMPLE (scan_info_msg, {
    if (full) {
        m.req = 13;
        m.broker = "b0abcdef1234";
    }
    s_info (&m.info, full);
})
static zs_scan_info_t s_infos[2];
SAMPLE (scans, {
    if (full) {
        m.req = 14;
        s_info (&s_infos[0], true);
        s_info (&s_infos[1], false);
        m.nscans = 2;
        m.scans = s_infos;
    }
})
static zs_worker_info_t s_workers[2];
SAMPLE (workers, {
    if (full) {
        m.req = 15;
        memset (s_workers, 0, sizeof s_workers);
        s_workers[0].worker = "host-1234";
        s_workers[0].host = "host";
        s_workers[0].data = "synthetic:";
        s_workers[0].pid = 1234;
        s_workers[0].threads = 8;
        s_workers[0].lanes = 8;
        s_workers[0].busy = 3;
        s_workers[0].symbols = 123456789;
        s_workers[0].silent_ms = 12.5;
        s_workers[1].worker = "w2";
        s_workers[1].host = "h2";
        m.nworkers = 2;
        m.workers = s_workers;
    }
})
SAMPLE (error, {
    m.code = ZS_ERR_UNPROCESSABLE;
    m.message = "filter: position 9: expected ')'";
    if (full)
        m.req = 16;
})
SAMPLE (ready, {
    m.worker = "host-1234";
    m.instance = "p0abcdef1234";
    m.lane = 3;
    m.taken = 17;
    m.want = 1;
    if (full)
        m.broker = "b0abcdef1234";
})
SAMPLE (task, {
    m.scan = "s1";
    m.task = 77;
    m.attempt = 2;
    m.nsymbols = 4;
    m.symbols = s_syms;
    m.index = s_idx;
    if (full) {
        m.broker = "b0abcdef1234";
        s_def (&m.def, true);
    }
})
SAMPLE (hello, {
    m.worker = "host-1234";
    m.instance = "p0abcdef1234";
    m.host = "host";
    m.pid = 1234;
    m.threads = 8;
    if (full) {
        m.data = "synthetic:bars=250";
        m.version = "0.1.0";
    }
})
SAMPLE (heartbeat, {
    m.worker = "host-1234";
    if (full) {
        m.instance = "p0abcdef1234";
        m.busy = 2;
        m.symbols = 99999;
    }
})
SAMPLE (task_started, {
    m.worker = "host-1234";
    m.scan = "s1";
    m.task = 77;
    m.attempt = 1;
    m.lane = 0;
})
SAMPLE (task_done, {
    m.worker = "host-1234";
    m.scan = "s1";
    m.task = 77;
    m.attempt = 1;
    m.lane = 5;
    m.results = 64;
    m.signals = 3;
    m.errors = 1;
    if (full) {
        m.returned = true;
        m.first_wseq = 1000;
        m.last_wseq = 1063;
        m.elapsed_us = 5012.5;
    }
})
SAMPLE (task_failed, {
    m.worker = "host-1234";
    m.scan = "s1";
    m.task = 77;
    m.attempt = 3;
    m.lane = 1;
    m.reason = "data source csv:/x: not a directory";
})
SAMPLE (bye, {
    m.worker = "host-1234";
    if (full)
        m.reason = "SIGTERM";
})
SAMPLE (cancel, {
    m.scan = "s1";
    if (full)
        m.reason = ZS_END_TIMEOUT;
})
SAMPLE (shutdown, {
    if (full)
        m.reason = "broker shutting down";
})
SAMPLE (broker_hb, {
    m.broker = "b0abcdef1234";
    m.tick = 12345678901ULL;
})
SAMPLE (result, {
    m.scan = "s1";
    m.index = 4;
    m.symbol = "S000004";
    m.signal = full;
    m.worker = "host-1234";
    m.score = NAN;
    m.price = NAN;
    if (full) {
        m.score = 3.25;
        m.time = "2025-12-31";
        m.price = 101.125;
        m.nvalues = 3;
        m.values[0].name = "rsi(14)";
        m.values[0].value = 26.75;
        m.values[1].name = "sma(200)";
        m.values[1].value = NAN;
        m.values[2].name = "close";
        m.values[2].value = 101.125;
        m.error = "S000004.csv:3: high is below low";
        m.note = "insufficient history";
        m.lane = 2;
        m.wseq = 4242;
        m.task = 77;
        m.attempt = 1;
    }
})
SAMPLE (ev_started, {
    m.scan = "s1";
    m.total = 10000;
    m.time = 1767225600.5;
    if (full) {
        s_def (&m.def, true);
        m.universe = "synthetic:10000";
        m.priority = ZS_PRIO_LIQUIDITY;
        m.max_signals = 5;
        m.max_symbols = 50;
        m.timeout_seconds = 30;
    }
})
SAMPLE (ev_progress, {
    m.scan = "s1";
    m.total = 10000;
    m.done = full ? 5000 : 0;
    m.signals = 40;
    m.failed = 1;
    m.busy = 4;
    m.elapsed = 0.05;
    m.rate = 100000;
    m.eta = full ? 0.05 : -1;
})
SAMPLE (ev_finished, {
    m.scan = "s1";
    m.reason = full ? ZS_END_MAX_SIGNALS : ZS_END_COMPLETED;
    m.total = 10000;
    m.scanned = 9990;
    m.signals = 25;
    m.results = 10000;
    m.failed = 10;
    m.unscanned = 0;
    m.elapsed = 0.1;
    m.first_result_ms = full ? 0.8 : -1;
})

#define ROW(name, type) {#name, type, s_enc_##name, s_re_##name}

SAMPLE (replay, {
    m.scan = "s1";
    if (full) {
        m.req = 7;
        m.after = 4400;
        m.limit = 1000;
        m.view = ZS_VIEW_SIGNALS;
    }
})
SAMPLE (replay_page, {
    m.scan = "s1";
    m.broker = "b0abcdef1234";
    m.state = full ? ZS_STATE_RUNNING : ZS_STATE_PLANNING;
    m.first = 1;
    m.head = full ? 4400 : 0;
    m.next = full ? 4400 : 0;
    m.count = full ? 3 : 0;
    if (full)
        m.req = 7;
})
const zs_sample_t zs_samples[] = {
    ROW (scan_start, ZS_MSG_SCAN_START),
    ROW (scan_stop, ZS_MSG_SCAN_STOP),
    ROW (scan_status, ZS_MSG_SCAN_STATUS),
    ROW (scan_list, ZS_MSG_SCAN_LIST),
    ROW (worker_list, ZS_MSG_WORKER_LIST),
    ROW (scan_started, ZS_MSG_SCAN_STARTED),
    ROW (scan_stopped, ZS_MSG_SCAN_STOPPED),
    ROW (scan_info_msg, ZS_MSG_SCAN_INFO),
    ROW (scans, ZS_MSG_SCANS),
    ROW (workers, ZS_MSG_WORKERS),
    ROW (error, ZS_MSG_ERROR),
    ROW (ready, ZS_MSG_READY),
    ROW (task, ZS_MSG_TASK),
    ROW (hello, ZS_MSG_HELLO),
    ROW (heartbeat, ZS_MSG_HEARTBEAT),
    ROW (task_started, ZS_MSG_TASK_STARTED),
    ROW (task_done, ZS_MSG_TASK_DONE),
    ROW (task_failed, ZS_MSG_TASK_FAILED),
    ROW (bye, ZS_MSG_BYE),
    ROW (cancel, ZS_MSG_CANCEL),
    ROW (shutdown, ZS_MSG_SHUTDOWN),
    ROW (broker_hb, ZS_MSG_BROKER_HB),
    ROW (result, ZS_MSG_RESULT),
    ROW (ev_started, ZS_MSG_EV_STARTED),
    ROW (ev_progress, ZS_MSG_EV_PROGRESS),
    ROW (ev_finished, ZS_MSG_EV_FINISHED),
    ROW (replay, ZS_MSG_REPLAY),
    ROW (replay_page, ZS_MSG_REPLAY_PAGE),
    {NULL, ZS_MSG_UNKNOWN, NULL, NULL}};

/* ---------------------------------------------------------------------- */

static bool s_str_same (const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp (a, b) == 0);
}

static bool s_dbl_same (double a, double b)
{
    return (isnan (a) && isnan (b))
           || (!isnan (a) && !isnan (b) && memcmp (&a, &b, sizeof a) == 0);
}

bool zs_result_same (const zs_result_t *a, const zs_result_t *b)
{
    if (!s_str_same (a->scan, b->scan) || a->index != b->index
        || !s_str_same (a->symbol, b->symbol) || a->signal != b->signal
        || !s_dbl_same (a->score, b->score) || !s_str_same (a->time, b->time)
        || !s_dbl_same (a->price, b->price) || a->nvalues != b->nvalues
        || !s_str_same (a->error, b->error) || !s_str_same (a->note, b->note)
        || !s_str_same (a->worker, b->worker) || a->lane != b->lane
        || a->wseq != b->wseq || a->task != b->task
        || a->attempt != b->attempt)
        return false;
    for (size_t i = 0; i < a->nvalues; i++)
        if (!s_str_same (a->values[i].name, b->values[i].name)
            || !s_dbl_same (a->values[i].value, b->values[i].value))
            return false;
    return true;
}
