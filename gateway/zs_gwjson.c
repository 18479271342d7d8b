/*  zs_gwjson.c - see zs_gwjson.h.  */
#include "zs_gwjson.h"
#include "zs_json.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/*  Requests                                                               */

static int s_fail (char *err, size_t errlen, const char *what)
{
    snprintf (err, errlen, "%s", what);
    return -1;
}

/*  An optional string field: 0 (absent or a string in *out), -1 wrong. */
static int s_str (json_t *o, const char *key, const char **out, char *err,
                  size_t errlen)
{
    json_t *v = json_object_get (o, key);
    if (!v || json_is_null (v))
        return 0;
    if (!json_is_string (v)) {
        snprintf (err, errlen, "%s: want a string", key);
        return -1;
    }
    *out = json_string_value (v);
    return 0;
}

/*  An optional non-negative number field (whole when whole is set). */
static int s_num (json_t *o, const char *key, bool whole, double max,
                  double *out, char *err, size_t errlen)
{
    json_t *v = json_object_get (o, key);
    if (!v || json_is_null (v))
        return 0;
    if (!json_is_number (v)) {
        snprintf (err, errlen, "%s: want a number", key);
        return -1;
    }
    double d = json_number_value (v);
    if (!isfinite (d) || d < 0 || d > max || (whole && d != floor (d))) {
        snprintf (err, errlen, "%s: want %s from 0 to %.0f", key,
                  whole ? "a whole number" : "a number", max);
        return -1;
    }
    *out = d;
    return 0;
}

int zs_gwjson_start (const char *body, size_t len, const char *scan,
                     zs_buf_t *out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *o = json_loadb (body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) {
        snprintf (err, errlen, "not JSON: %s (line %d, column %d)",
                  jerr.text, jerr.line, jerr.column);
        return -1;
    }
    int rc = -1;
    const char **syms = NULL;
    zs_scan_start_t m = {0};
    m.scan = scan;
    m.sync = true;
    const char *prio = NULL;
    double batch = 0, max_symbols = 0, max_signals = 0, timeout = 0;
    json_t *tc, *params, *symbols;
    if (!json_is_object (o)) {
        s_fail (err, errlen, "the body must be a JSON object");
        goto done;
    }
    if (s_str (o, "universe", &m.universe, err, errlen)
        || s_str (o, "data", &m.def.data, err, errlen)
        || s_str (o, "strategy", &m.def.strategy, err, errlen)
        || s_str (o, "filter", &m.def.filter, err, errlen)
        || s_str (o, "priority", &prio, err, errlen)
        || s_num (o, "batch", true, ZS_TASK_SYMBOLS_MAX, &batch, err, errlen)
        || s_num (o, "max_symbols", true, 1e15, &max_symbols, err, errlen)
        || s_num (o, "max_signals", true, 1e15, &max_signals, err, errlen)
        || s_num (o, "timeout_seconds", false, 1e9, &timeout, err, errlen))
        goto done;
    tc = json_object_get (o, "termination_criteria");
    if (tc && !json_is_null (tc)) {
        if (!json_is_object (tc)) {
            s_fail (err, errlen, "termination_criteria: want an object");
            goto done;
        }
        if (s_num (tc, "max_signals", true, 1e15, &max_signals, err, errlen)
            || s_num (tc, "timeout_seconds", false, 1e9, &timeout, err,
                      errlen)
            || s_num (tc, "max_symbols", true, 1e15, &max_symbols, err,
                      errlen))
            goto done;
    }
    if (prio && zs_priority_parse (prio, &m.priority) != 0) {
        s_fail (err, errlen, "priority: given, liquidity or signals");
        goto done;
    }
    params = json_object_get (o, "params");
    if (params && !json_is_null (params)) {
        if (!json_is_object (params)) {
            s_fail (err, errlen, "params: want an object of numbers");
            goto done;
        }
        const char *k;
        json_t *v;
        json_object_foreach (params, k, v)
        {
            if (m.def.nparams >= ZS_PARAMS_MAX || !json_is_number (v)) {
                snprintf (err, errlen, "params.%.64s: want a number (at "
                                       "most %d params)",
                          k, ZS_PARAMS_MAX);
                goto done;
            }
            m.def.pnames[m.def.nparams] = k;
            m.def.pvalues[m.def.nparams++] = json_number_value (v);
        }
    }
    symbols = json_object_get (o, "symbols");
    if (symbols && !json_is_null (symbols)) {
        size_t n = json_array_size (symbols);
        if (!json_is_array (symbols) || n > ZS_UNIVERSE_MAX) {
            s_fail (err, errlen, "symbols: want an array of symbol names");
            goto done;
        }
        syms = (const char **) calloc (n ? n : 1, sizeof *syms);
        if (!syms) {
            s_fail (err, errlen, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            json_t *s = json_array_get (symbols, i);
            if (!json_is_string (s)) {
                snprintf (err, errlen, "symbols[%zu]: want a string", i);
                goto done;
            }
            syms[i] = json_string_value (s);
        }
        m.symbols = syms;
        m.nsymbols = n;
    }
    m.batch = (uint32_t) batch;
    m.max_symbols = (uint64_t) max_symbols;
    m.max_signals = (uint64_t) max_signals;
    m.timeout_seconds = timeout;
    /* what the codec refuses (a bad symbol, a name too long) is the
       request's fault too; what the broker refuses comes back as its
       error (a bad filter: 422) */
    if (zs_scan_start_encode (&m, out, err, errlen) == 0)
        rc = 0;
done:
    free (syms);
    json_decref (o);
    return rc;
}

/* ---------------------------------------------------------------------- */
/*  Replies                                                                */

static void s_lit (zs_buf_t *out, const char *s)
{
    zs_buf_append (out, s, strlen (s));
}

static void s_key (zs_buf_t *out, bool *first, const char *k)
{
    if (!*first)
        zs_buf_append (out, ",", 1);
    *first = false;
    zs_buf_append (out, "\"", 1);
    s_lit (out, k);
    zs_buf_append (out, "\":", 2);
}

static void s_u64 (zs_buf_t *out, uint64_t v)
{
    char b[24];
    int n = snprintf (b, sizeof b, "%llu", (unsigned long long) v);
    zs_buf_append (out, b, (size_t) n);
}

static void s_dbl (zs_buf_t *out, double v)
{
    if (!isfinite (v)) {
        s_lit (out, "null");
        return;
    }
    char b[40];
    zs_buf_append (out, b, zs_json_double (v, b));
}

void zs_gwjson_error (zs_buf_t *out, int code, const char *message)
{
    char b[64];
    snprintf (b, sizeof b, "{\"error\":{\"code\":%d,\"message\":", code);
    s_lit (out, b);
    zs_json_string (out, message);
    s_lit (out, "}}");
}

static void s_info (zs_buf_t *out, const zs_scan_info_t *i, int64_t clients)
{
    bool first = true;
    zs_buf_append (out, "{", 1);
    s_key (out, &first, "scan_id");
    zs_json_string (out, i->scan);
    s_key (out, &first, "state");
    zs_json_string (out, zs_scan_state_name (i->state));
    s_key (out, &first, "reason");
    if (i->reason == ZS_END_NONE)
        s_lit (out, "null");
    else
        zs_json_string (out, zs_end_reason_name (i->reason));
    if (i->universe) {
        s_key (out, &first, "universe");
        zs_json_string (out, i->universe);
    }
    if (i->def.strategy) {
        s_key (out, &first, "strategy");
        zs_json_string (out, i->def.strategy);
    }
    if (i->def.filter) {
        s_key (out, &first, "filter");
        zs_json_string (out, i->def.filter);
    }
    if (i->def.data) {
        s_key (out, &first, "data");
        zs_json_string (out, i->def.data);
    }
    s_key (out, &first, "priority");
    zs_json_string (out, zs_priority_name (i->priority));
    s_key (out, &first, "max_signals");
    s_u64 (out, i->max_signals);
    s_key (out, &first, "max_symbols");
    s_u64 (out, i->max_symbols);
    s_key (out, &first, "timeout_seconds");
    s_dbl (out, i->timeout_seconds);
    s_key (out, &first, "total");
    s_u64 (out, i->total);
    s_key (out, &first, "done");
    s_u64 (out, i->done);
    s_key (out, &first, "signals");
    s_u64 (out, i->signals);
    s_key (out, &first, "results");
    s_u64 (out, i->done);
    s_key (out, &first, "failed");
    s_u64 (out, i->failed);
    s_key (out, &first, "unscanned");
    s_u64 (out, i->unscanned);
    /* work saved: symbols never scanned, once it is over */
    bool over = i->state == ZS_STATE_FINISHED;
    s_key (out, &first, "work_saved");
    s_u64 (out, over ? i->unscanned : 0);
    s_key (out, &first, "work_saved_pct");
    s_dbl (out, over && i->total ? 100.0 * (double) i->unscanned
                                       / (double) i->total
                                 : 0);
    s_key (out, &first, "seq");
    s_u64 (out, i->seq);
    s_key (out, &first, "busy_workers");
    s_u64 (out, i->busy);
    s_key (out, &first, "started_at");
    s_dbl (out, i->started_at);
    s_key (out, &first, "elapsed");
    s_dbl (out, i->elapsed);
    s_key (out, &first, "rate");
    s_dbl (out, i->rate);
    s_key (out, &first, "eta");
    s_dbl (out, i->eta >= 0 ? i->eta : NAN);
    s_key (out, &first, "first_result_ms");
    s_dbl (out, i->first_result_ms >= 0 ? i->first_result_ms : NAN);
    if (clients >= 0) {
        s_key (out, &first, "clients");
        s_u64 (out, (uint64_t) clients);
    }
    zs_buf_append (out, "}", 1);
}

static void s_worker (zs_buf_t *out, const zs_worker_info_t *w)
{
    bool first = true;
    zs_buf_append (out, "{", 1);
    s_key (out, &first, "worker");
    zs_json_string (out, w->worker);
    s_key (out, &first, "host");
    zs_json_string (out, w->host);
    if (w->data) {
        s_key (out, &first, "data");
        zs_json_string (out, w->data);
    }
    s_key (out, &first, "pid");
    s_u64 (out, w->pid);
    s_key (out, &first, "threads");
    s_u64 (out, w->threads);
    s_key (out, &first, "lanes");
    s_u64 (out, w->lanes);
    s_key (out, &first, "busy");
    s_u64 (out, w->busy);
    s_key (out, &first, "symbols");
    s_u64 (out, w->symbols);
    s_key (out, &first, "silent_ms");
    s_dbl (out, w->silent_ms);
    zs_buf_append (out, "}", 1);
}

int zs_gwjson_reply (const void *data, size_t size, int64_t clients,
                     zs_buf_t *out, int *status)
{
    zs_msg_type_t type;
    char err[256];
    *status = 200;
    if (zs_msg_peek (data, size, &type, err, sizeof err) != 0) {
        *status = 502;
        zs_gwjson_error (out, 502, "a bad reply from the broker");
        return -1;
    }
    int rc = -1;
    switch (type) {
    case ZS_MSG_ERROR: {
        zs_error_t e = {0};
        if ((rc = zs_error_decode (data, size, &e, err, sizeof err)) == 0) {
            *status = e.code >= 400 && e.code < 600 ? (int) e.code : 502;
            zs_gwjson_error (out, *status, e.message);
        }
        zs_msg_free (&e.mem_);
        break;
    }
    case ZS_MSG_SCAN_INFO: {
        zs_scan_info_msg_t m = {0};
        if ((rc = zs_scan_info_msg_decode (data, size, &m, err, sizeof err))
            == 0)
            s_info (out, &m.info, clients);
        zs_msg_free (&m.mem_);
        break;
    }
    case ZS_MSG_SCANS: {
        zs_scans_t m = {0};
        if ((rc = zs_scans_decode (data, size, &m, err, sizeof err)) == 0) {
            s_lit (out, "{\"scans\":[");
            for (size_t i = 0; i < m.nscans; i++) {
                if (i)
                    zs_buf_append (out, ",", 1);
                s_info (out, &m.scans[i], -1);
            }
            s_lit (out, "]}");
        }
        zs_msg_free (&m.mem_);
        break;
    }
    case ZS_MSG_WORKERS: {
        zs_workers_t m = {0};
        if ((rc = zs_workers_decode (data, size, &m, err, sizeof err))
            == 0) {
            s_lit (out, "{\"workers\":[");
            for (size_t i = 0; i < m.nworkers; i++) {
                if (i)
                    zs_buf_append (out, ",", 1);
                s_worker (out, &m.workers[i]);
            }
            s_lit (out, "]}");
        }
        zs_msg_free (&m.mem_);
        break;
    }
    case ZS_MSG_SCAN_STOPPED: {
        zs_scan_stopped_t m = {0};
        if ((rc = zs_scan_stopped_decode (data, size, &m, err, sizeof err))
            == 0) {
            bool first = true;
            zs_buf_append (out, "{", 1);
            s_key (out, &first, "scan_id");
            zs_json_string (out, m.scan);
            s_key (out, &first, "state");
            zs_json_string (out, zs_scan_state_name (m.state));
            s_key (out, &first, "reason");
            zs_json_string (out, zs_end_reason_name (m.reason));
            zs_buf_append (out, "}", 1);
        }
        zs_msg_free (&m.mem_);
        break;
    }
    default:
        snprintf (err, sizeof err, "an unexpected reply '%s'",
                  zs_msg_type_name (type));
        break;
    }
    if (rc != 0) {
        *status = 502;
        zs_buf_reset (out);
        zs_gwjson_error (out, 502, err);
    }
    return rc;
}
