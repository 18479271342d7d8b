/*  zs_msg.c - every message's encoding and strict decoding, driven by one
    table per message type: the key, its kind, whether it is required and
    where it lives in the C struct.  The same tables drive encoding and
    decoding, so the two cannot disagree.

    Decoding copies strings (NUL-terminated) and arrays into the struct's
    reusable mem_ buffer.  Types without arrays need at most twice the input
    size (each string costs at least one header byte on the wire, which
    pays for its NUL), so they decode in one pass; types with arrays fill
    the room the struct already has, and when it runs out, count what the
    rest needs and decode again (once per struct, when reused: a lane's
    tasks decode in one pass).
*/
#include "zs_msg.h"
#include "zs_msg_int.h"
#include "zs_mp.h"

#include <assert.h>
#include <math.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/*  Buffers                                                                */

void zs_buf_reset (zs_buf_t *self)
{
    self->size = 0;
}

void zs_buf_free (zs_buf_t *self)
{
    free (self->data);
    self->data = NULL;
    self->size = self->cap = 0;
}

static int s_buf_write (void *data, const char *buf, size_t len)
{
    zs_buf_t *self = (zs_buf_t *) data;
    if (!len)
        return 0; /* (buf may then be NULL: memcpy must not see it) */
    if (self->size + len > self->cap) {
        size_t cap = self->cap ? self->cap : 256;
        while (cap < self->size + len)
            cap *= 2;
        char *p = (char *) realloc (self->data, cap);
        if (!p)
            return -1;
        self->data = p;
        self->cap = cap;
    }
    memcpy (self->data + self->size, buf, len);
    self->size += len;
    return 0;
}

int zs_buf_append (zs_buf_t *self, const void *data, size_t len)
{
    return s_buf_write (self, (const char *) data, len);
}

void zs_msg_free (zs_mem_t *mem)
{
    if (mem) {
        free (mem->p);
        mem->p = NULL;
        mem->cap = 0;
    }
}

/* ---------------------------------------------------------------------- */
/*  Names                                                                  */

static const char *s_type_names[ZS_MSG_TYPE_COUNT] = {
    "unknown",      "scan_start",   "scan_stop",   "scan_status",
    "scan_list",    "worker_list",  "scan_started", "scan_stopped",
    "scan_info",    "scans",        "workers",     "error",
    "ready",        "task",
    "hello",        "heartbeat",    "task_started", "task_done",
    "task_failed",  "bye",          "cancel",      "shutdown",
    "broker_heartbeat", "result",   "started",     "progress",
    "finished",     "replay",       "replay_page"};

const char *zs_msg_type_name (zs_msg_type_t type)
{
    return (int) type > 0 && type < ZS_MSG_TYPE_COUNT ? s_type_names[type]
                                                      : "unknown";
}

static const char *s_prio_names[] = {"given", "liquidity", "signals"};
static const char *s_reason_names[] = {"",        "completed", "max_signals",
                                       "max_symbols", "timeout", "stopped",
                                       "failed"};
static const char *s_state_names[] = {"running", "finished", "planning"};
static const char *s_view_names[] = {"all", "signals", "events"};

static int s_find_name (const char *const *names, int n, const char *s,
                        size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen (names[i]) == len && memcmp (names[i], s, len) == 0)
            return i;
    return -1;
}

const char *zs_priority_name (zs_priority_t p)
{
    return (unsigned) p < 3 ? s_prio_names[p] : "?";
}

int zs_priority_parse (const char *s, zs_priority_t *p)
{
    int i = s ? s_find_name (s_prio_names, 3, s, strlen (s)) : -1;
    if (i < 0)
        return -1;
    *p = (zs_priority_t) i;
    return 0;
}

const char *zs_end_reason_name (zs_end_reason_t r)
{
    return (unsigned) r < 7 ? s_reason_names[r] : "?";
}

int zs_end_reason_parse (const char *s, zs_end_reason_t *r)
{
    int i = s ? s_find_name (s_reason_names, 7, s, strlen (s)) : -1;
    if (i < 0)
        return -1;
    *r = (zs_end_reason_t) i;
    return 0;
}

const char *zs_scan_state_name (zs_scan_state_t s)
{
    return (unsigned) s < 3 ? s_state_names[s] : "?";
}

int zs_scan_state_parse (const char *s, zs_scan_state_t *st)
{
    int i = s ? s_find_name (s_state_names, 3, s, strlen (s)) : -1;
    if (i < 0)
        return -1;
    *st = (zs_scan_state_t) i;
    return 0;
}

const char *zs_view_name (zs_view_t v)
{
    return (unsigned) v < 3 ? s_view_names[v] : "?";
}

int zs_view_parse (const char *s, zs_view_t *v)
{
    int i = s ? s_find_name (s_view_names, 3, s, strlen (s)) : -1;
    if (i < 0)
        return -1;
    *v = (zs_view_t) i;
    return 0;
}

/* ---------------------------------------------------------------------- */
/*  Validation of strings                                                  */

/*  Character classes: 1 = an id's [A-Za-z0-9_-], 2 = a symbol's
    [A-Za-z0-9._^-] (tasks carry thousands of symbols: one lookup each). */
#define S_ID_SYM 3
static const uint8_t s_char_class[256] = {
    ['0' ... '9'] = S_ID_SYM, ['A' ... 'Z'] = S_ID_SYM,
    ['a' ... 'z'] = S_ID_SYM, ['_'] = S_ID_SYM, ['-'] = S_ID_SYM,
    ['.'] = 2, ['^'] = 2};

static bool s_chars_of (const char *s, size_t len, uint8_t cls)
{
    uint8_t all = cls;
    for (size_t i = 0; i < len; i++)
        all &= s_char_class[(uint8_t) s[i]];
    return all == cls;
}

static bool s_id_chars (const char *s, size_t len)
{
    return s_chars_of (s, len, 1);
}

static bool s_sym_chars (const char *s, size_t len)
{
    return s_chars_of (s, len, 2);
}

bool zs_scan_id_valid (const char *s)
{
    size_t len = s ? strlen (s) : 0;
    return len >= 1 && len <= ZS_ID_MAX && s_id_chars (s, len);
}

bool zs_symbol_ok (const char *s)
{
    size_t len = s ? strlen (s) : 0;
    return len >= 1 && len <= ZS_SYMBOL_LEN_MAX && s_sym_chars (s, len);
}

/* ---------------------------------------------------------------------- */
/*  Field tables                                                           */


typedef struct {
    const char *key;
    uint8_t kind;
    uint8_t required;
    uint16_t off;
    uint16_t off2;
} s_field_t;

#define REQ 1
#define OPT 0
#define F(T, key, kind, req, member) {key, kind, req, offsetof (T, member), 0}
#define FN(T, key, kind, req, member, count)                               \
    {key, kind, req, offsetof (T, member), offsetof (T, count)}

/* The fields of zs_scan_info_t, at prefix P within struct T. */
#define INFO_FIELDS(T, P)                                                  \
    F (T, "scan", K_ID, REQ, P scan), F (T, "state", K_STATE, REQ, P state), \
        F (T, "reason", K_REASON, REQ, P reason),                          \
        F (T, "def", K_DEF, OPT, P def),                                   \
        F (T, "universe", K_TEXT, OPT, P universe),                        \
        F (T, "priority", K_PRIO, OPT, P priority),                        \
        F (T, "max_signals", K_U64, OPT, P max_signals),                   \
        F (T, "max_symbols", K_U64, OPT, P max_symbols),                   \
        F (T, "timeout_seconds", K_DBL, OPT, P timeout_seconds),           \
        F (T, "total", K_U64, REQ, P total),                               \
        F (T, "done", K_U64, REQ, P done),                                 \
        F (T, "signals", K_U64, REQ, P signals),                           \
        F (T, "failed", K_U64, REQ, P failed),                             \
        F (T, "unscanned", K_U64, REQ, P unscanned),                       \
        F (T, "seq", K_U64, REQ, P seq), F (T, "busy", K_U32, REQ, P busy), \
        F (T, "started_at", K_DBL, REQ, P started_at),                     \
        F (T, "elapsed", K_DBL, REQ, P elapsed),                           \
        F (T, "rate", K_DBL, REQ, P rate), F (T, "eta", K_DBL, REQ, P eta), \
        F (T, "first_result_ms", K_DBL, REQ, P first_result_ms),           \
        F (T, "idle_ms", K_DBL, REQ, P idle_ms)

static const s_field_t s_info_fields[] = {INFO_FIELDS (zs_scan_info_t, )};

static const s_field_t s_scan_start_fields[] = {
    F (zs_scan_start_t, "req", K_U64, OPT, req),
    F (zs_scan_start_t, "scan", K_ID, OPT, scan),
    F (zs_scan_start_t, "universe", K_TEXT, OPT, universe),
    FN (zs_scan_start_t, "symbols", K_USYMS, OPT, symbols, nsymbols),
    F (zs_scan_start_t, "def", K_DEF, OPT, def),
    F (zs_scan_start_t, "batch", K_U32, OPT, batch),
    F (zs_scan_start_t, "priority", K_PRIO, OPT, priority),
    F (zs_scan_start_t, "max_signals", K_U64, OPT, max_signals),
    F (zs_scan_start_t, "max_symbols", K_U64, OPT, max_symbols),
    F (zs_scan_start_t, "timeout_seconds", K_DBL, OPT, timeout_seconds),
    F (zs_scan_start_t, "sync", K_BOOL, OPT, sync)};

static const s_field_t s_scan_stop_fields[] = {
    F (zs_scan_stop_t, "req", K_U64, OPT, req),
    F (zs_scan_stop_t, "scan", K_ID, REQ, scan),
    F (zs_scan_stop_t, "reason", K_REASON, OPT, reason)};

static const s_field_t s_scan_status_fields[] = {
    F (zs_scan_status_t, "req", K_U64, OPT, req),
    F (zs_scan_status_t, "scan", K_ID, REQ, scan)};

static const s_field_t s_scan_list_fields[] = {
    F (zs_scan_list_t, "req", K_U64, OPT, req),
    F (zs_scan_list_t, "all", K_BOOL, OPT, all)};

static const s_field_t s_worker_list_fields[] = {
    F (zs_worker_list_t, "req", K_U64, OPT, req)};

static const s_field_t s_worker_info_fields[] = {
    F (zs_worker_info_t, "worker", K_WID, REQ, worker),
    F (zs_worker_info_t, "host", K_WID, REQ, host),
    F (zs_worker_info_t, "data", K_TEXT, OPT, data),
    F (zs_worker_info_t, "pid", K_U32, REQ, pid),
    F (zs_worker_info_t, "threads", K_U32, REQ, threads),
    F (zs_worker_info_t, "lanes", K_U32, REQ, lanes),
    F (zs_worker_info_t, "busy", K_U32, REQ, busy),
    F (zs_worker_info_t, "symbols", K_U64, REQ, symbols),
    F (zs_worker_info_t, "silent_ms", K_DBL, REQ, silent_ms)};

static const s_field_t s_workers_fields[] = {
    F (zs_workers_t, "req", K_U64, OPT, req),
    FN (zs_workers_t, "workers", K_WORKERS, REQ, workers, nworkers)};

static const s_field_t s_scan_started_fields[] = {
    F (zs_scan_started_t, "req", K_U64, OPT, req),
    F (zs_scan_started_t, "scan", K_ID, REQ, scan),
    F (zs_scan_started_t, "total", K_U64, REQ, total),
    F (zs_scan_started_t, "seq", K_U64, REQ, seq),
    F (zs_scan_started_t, "broker", K_ID, OPT, broker)};

static const s_field_t s_scan_stopped_fields[] = {
    F (zs_scan_stopped_t, "req", K_U64, OPT, req),
    F (zs_scan_stopped_t, "scan", K_ID, REQ, scan),
    F (zs_scan_stopped_t, "state", K_STATE, REQ, state),
    F (zs_scan_stopped_t, "reason", K_REASON, REQ, reason)};

static const s_field_t s_scan_info_msg_fields[] = {
    F (zs_scan_info_msg_t, "req", K_U64, OPT, req),
    F (zs_scan_info_msg_t, "broker", K_ID, OPT, broker),
    INFO_FIELDS (zs_scan_info_msg_t, info.)};

static const s_field_t s_scans_fields[] = {
    F (zs_scans_t, "req", K_U64, OPT, req),
    FN (zs_scans_t, "scans", K_INFOS, REQ, scans, nscans)};

static const s_field_t s_error_fields[] = {
    F (zs_error_t, "req", K_U64, OPT, req),
    F (zs_error_t, "code", K_U32, REQ, code),
    F (zs_error_t, "message", K_TEXT, REQ, message)};

static const s_field_t s_ready_fields[] = {
    F (zs_ready_t, "worker", K_WID, REQ, worker),
    F (zs_ready_t, "instance", K_ID, REQ, instance),
    F (zs_ready_t, "lane", K_U32, REQ, lane),
    F (zs_ready_t, "broker", K_ID, OPT, broker),
    F (zs_ready_t, "taken", K_U64, REQ, taken),
    F (zs_ready_t, "want", K_U32, REQ, want)};

static const s_field_t s_task_fields[] = {
    F (zs_task_t, "scan", K_ID, REQ, scan),
    F (zs_task_t, "task", K_U64, REQ, task),
    F (zs_task_t, "attempt", K_U32, REQ, attempt),
    F (zs_task_t, "broker", K_ID, OPT, broker),
    F (zs_task_t, "def", K_DEF, OPT, def),
    FN (zs_task_t, "symbols", K_TSYMS, REQ, symbols, nsymbols),
    FN (zs_task_t, "index", K_IDX, REQ, index, nsymbols)};

static const s_field_t s_hello_fields[] = {
    F (zs_hello_t, "worker", K_WID, REQ, worker),
    F (zs_hello_t, "instance", K_ID, REQ, instance),
    F (zs_hello_t, "host", K_WID, REQ, host),
    F (zs_hello_t, "pid", K_U32, REQ, pid),
    F (zs_hello_t, "threads", K_U32, REQ, threads),
    F (zs_hello_t, "data", K_TEXT, OPT, data),
    F (zs_hello_t, "version", K_NAME, OPT, version)};

static const s_field_t s_heartbeat_fields[] = {
    F (zs_heartbeat_t, "worker", K_WID, REQ, worker),
    F (zs_heartbeat_t, "instance", K_ID, OPT, instance),
    F (zs_heartbeat_t, "busy", K_U32, OPT, busy),
    F (zs_heartbeat_t, "symbols", K_U64, OPT, symbols)};

static const s_field_t s_task_started_fields[] = {
    F (zs_task_started_t, "worker", K_WID, REQ, worker),
    F (zs_task_started_t, "scan", K_ID, REQ, scan),
    F (zs_task_started_t, "task", K_U64, REQ, task),
    F (zs_task_started_t, "attempt", K_U32, REQ, attempt),
    F (zs_task_started_t, "lane", K_U32, REQ, lane)};

static const s_field_t s_task_done_fields[] = {
    F (zs_task_done_t, "worker", K_WID, REQ, worker),
    F (zs_task_done_t, "scan", K_ID, REQ, scan),
    F (zs_task_done_t, "task", K_U64, REQ, task),
    F (zs_task_done_t, "attempt", K_U32, REQ, attempt),
    F (zs_task_done_t, "lane", K_U32, REQ, lane),
    F (zs_task_done_t, "results", K_U32, REQ, results),
    F (zs_task_done_t, "signals", K_U32, REQ, signals),
    F (zs_task_done_t, "errors", K_U32, REQ, errors),
    F (zs_task_done_t, "returned", K_BOOL, OPT, returned),
    F (zs_task_done_t, "first_wseq", K_U64, OPT, first_wseq),
    F (zs_task_done_t, "last_wseq", K_U64, OPT, last_wseq),
    F (zs_task_done_t, "elapsed_us", K_DBL, OPT, elapsed_us)};

static const s_field_t s_task_failed_fields[] = {
    F (zs_task_failed_t, "worker", K_WID, REQ, worker),
    F (zs_task_failed_t, "scan", K_ID, REQ, scan),
    F (zs_task_failed_t, "task", K_U64, REQ, task),
    F (zs_task_failed_t, "attempt", K_U32, REQ, attempt),
    F (zs_task_failed_t, "lane", K_U32, REQ, lane),
    F (zs_task_failed_t, "reason", K_TEXT, REQ, reason)};

static const s_field_t s_bye_fields[] = {
    F (zs_bye_t, "worker", K_WID, REQ, worker),
    F (zs_bye_t, "reason", K_TEXT, OPT, reason)};

static const s_field_t s_cancel_fields[] = {
    F (zs_cancel_t, "scan", K_ID, REQ, scan),
    F (zs_cancel_t, "reason", K_REASON, OPT, reason)};

static const s_field_t s_shutdown_fields[] = {
    F (zs_shutdown_t, "reason", K_TEXT, OPT, reason)};

static const s_field_t s_broker_hb_fields[] = {
    F (zs_broker_hb_t, "broker", K_ID, REQ, broker),
    F (zs_broker_hb_t, "tick", K_U64, REQ, tick)};

static const s_field_t s_result_fields[] = {
    F (zs_result_t, "scan", K_ID, REQ, scan),
    F (zs_result_t, "index", K_U32, REQ, index),
    F (zs_result_t, "symbol", K_SYM, REQ, symbol),
    F (zs_result_t, "signal", K_BOOL, REQ, signal),
    F (zs_result_t, "score", K_DBLNAN, OPT, score),
    F (zs_result_t, "time", K_NAME, OPT, time),
    F (zs_result_t, "price", K_DBLNAN, OPT, price),
    FN (zs_result_t, "values", K_VALUES, OPT, values, nvalues),
    F (zs_result_t, "error", K_TEXT, OPT, error),
    F (zs_result_t, "note", K_TEXT, OPT, note),
    F (zs_result_t, "worker", K_WID, REQ, worker),
    F (zs_result_t, "lane", K_U32, OPT, lane),
    F (zs_result_t, "wseq", K_U64, OPT, wseq),
    F (zs_result_t, "task", K_U64, OPT, task),
    F (zs_result_t, "attempt", K_U32, OPT, attempt)};

static const s_field_t s_ev_started_fields[] = {
    F (zs_ev_started_t, "scan", K_ID, REQ, scan),
    F (zs_ev_started_t, "total", K_U64, REQ, total),
    F (zs_ev_started_t, "def", K_DEF, OPT, def),
    F (zs_ev_started_t, "universe", K_TEXT, OPT, universe),
    F (zs_ev_started_t, "priority", K_PRIO, OPT, priority),
    F (zs_ev_started_t, "max_signals", K_U64, OPT, max_signals),
    F (zs_ev_started_t, "max_symbols", K_U64, OPT, max_symbols),
    F (zs_ev_started_t, "timeout_seconds", K_DBL, OPT, timeout_seconds),
    F (zs_ev_started_t, "time", K_DBL, REQ, time)};

static const s_field_t s_ev_progress_fields[] = {
    F (zs_ev_progress_t, "scan", K_ID, REQ, scan),
    F (zs_ev_progress_t, "total", K_U64, REQ, total),
    F (zs_ev_progress_t, "done", K_U64, REQ, done),
    F (zs_ev_progress_t, "signals", K_U64, REQ, signals),
    F (zs_ev_progress_t, "failed", K_U64, REQ, failed),
    F (zs_ev_progress_t, "busy", K_U32, REQ, busy),
    F (zs_ev_progress_t, "elapsed", K_DBL, REQ, elapsed),
    F (zs_ev_progress_t, "rate", K_DBL, REQ, rate),
    F (zs_ev_progress_t, "eta", K_DBL, REQ, eta)};

static const s_field_t s_ev_finished_fields[] = {
    F (zs_ev_finished_t, "scan", K_ID, REQ, scan),
    F (zs_ev_finished_t, "reason", K_REASON, REQ, reason),
    F (zs_ev_finished_t, "total", K_U64, REQ, total),
    F (zs_ev_finished_t, "scanned", K_U64, REQ, scanned),
    F (zs_ev_finished_t, "signals", K_U64, REQ, signals),
    F (zs_ev_finished_t, "results", K_U64, REQ, results),
    F (zs_ev_finished_t, "failed", K_U64, REQ, failed),
    F (zs_ev_finished_t, "unscanned", K_U64, REQ, unscanned),
    F (zs_ev_finished_t, "elapsed", K_DBL, REQ, elapsed),
    F (zs_ev_finished_t, "first_result_ms", K_DBL, REQ, first_result_ms)};

static const s_field_t s_replay_fields[] = {
    F (zs_replay_t, "req", K_U64, OPT, req),
    F (zs_replay_t, "scan", K_ID, REQ, scan),
    F (zs_replay_t, "after", K_U64, OPT, after),
    F (zs_replay_t, "limit", K_U32, OPT, limit),
    F (zs_replay_t, "view", K_VIEW, OPT, view)};

static const s_field_t s_replay_page_fields[] = {
    F (zs_replay_page_t, "req", K_U64, OPT, req),
    F (zs_replay_page_t, "scan", K_ID, REQ, scan),
    F (zs_replay_page_t, "broker", K_ID, REQ, broker),
    F (zs_replay_page_t, "state", K_STATE, REQ, state),
    F (zs_replay_page_t, "first", K_U64, REQ, first),
    F (zs_replay_page_t, "head", K_U64, REQ, head),
    F (zs_replay_page_t, "next", K_U64, REQ, next),
    F (zs_replay_page_t, "count", K_U32, REQ, count),
    F (zs_replay_page_t, "done", K_BOOL, REQ, done)};

typedef struct {
    zs_msg_type_t type;
    const s_field_t *fields;
    size_t nfields;
    size_t size;      /* sizeof the struct                               */
    size_t mem_off;   /* offsetof mem_                                   */
    bool arrays;      /* needs the measuring pass                        */
} s_desc_t;

#define DESC(type, name, arrays)                                           \
    {type, s_##name##_fields,                                              \
     sizeof s_##name##_fields / sizeof s_##name##_fields[0],               \
     sizeof (zs_##name##_t), offsetof (zs_##name##_t, mem_), arrays}

static const s_desc_t s_desc_scan_start = DESC (ZS_MSG_SCAN_START, scan_start, true);
static const s_desc_t s_desc_scan_stop = DESC (ZS_MSG_SCAN_STOP, scan_stop, false);
static const s_desc_t s_desc_scan_status = DESC (ZS_MSG_SCAN_STATUS, scan_status, false);
static const s_desc_t s_desc_scan_list = DESC (ZS_MSG_SCAN_LIST, scan_list, false);
static const s_desc_t s_desc_scan_started = DESC (ZS_MSG_SCAN_STARTED, scan_started, false);
static const s_desc_t s_desc_scan_stopped = DESC (ZS_MSG_SCAN_STOPPED, scan_stopped, false);
static const s_desc_t s_desc_scan_info_msg = DESC (ZS_MSG_SCAN_INFO, scan_info_msg, false);
static const s_desc_t s_desc_scans = DESC (ZS_MSG_SCANS, scans, true);
static const s_desc_t s_desc_worker_list = DESC (ZS_MSG_WORKER_LIST, worker_list, false);
static const s_desc_t s_desc_workers = DESC (ZS_MSG_WORKERS, workers, true);
static const s_desc_t s_desc_error = DESC (ZS_MSG_ERROR, error, false);
static const s_desc_t s_desc_ready = DESC (ZS_MSG_READY, ready, false);
static const s_desc_t s_desc_task = DESC (ZS_MSG_TASK, task, true);
static const s_desc_t s_desc_hello = DESC (ZS_MSG_HELLO, hello, false);
static const s_desc_t s_desc_heartbeat = DESC (ZS_MSG_HEARTBEAT, heartbeat, false);
static const s_desc_t s_desc_task_started = DESC (ZS_MSG_TASK_STARTED, task_started, false);
static const s_desc_t s_desc_task_done = DESC (ZS_MSG_TASK_DONE, task_done, false);
static const s_desc_t s_desc_task_failed = DESC (ZS_MSG_TASK_FAILED, task_failed, false);
static const s_desc_t s_desc_bye = DESC (ZS_MSG_BYE, bye, false);
static const s_desc_t s_desc_cancel = DESC (ZS_MSG_CANCEL, cancel, false);
static const s_desc_t s_desc_shutdown = DESC (ZS_MSG_SHUTDOWN, shutdown, false);
static const s_desc_t s_desc_broker_hb = DESC (ZS_MSG_BROKER_HB, broker_hb, false);
static const s_desc_t s_desc_result = DESC (ZS_MSG_RESULT, result, false);
static const s_desc_t s_desc_ev_started = DESC (ZS_MSG_EV_STARTED, ev_started, false);
static const s_desc_t s_desc_ev_progress = DESC (ZS_MSG_EV_PROGRESS, ev_progress, false);
static const s_desc_t s_desc_ev_finished = DESC (ZS_MSG_EV_FINISHED, ev_finished, false);
static const s_desc_t s_desc_replay = DESC (ZS_MSG_REPLAY, replay, false);
static const s_desc_t s_desc_replay_page = DESC (ZS_MSG_REPLAY_PAGE, replay_page, false);

static const s_desc_t *const s_all_descs[] = {
    &s_desc_scan_start,   &s_desc_scan_stop,    &s_desc_scan_status,
    &s_desc_scan_list,    &s_desc_scan_started, &s_desc_scan_stopped,
    &s_desc_scan_info_msg, &s_desc_scans,       &s_desc_worker_list,
    &s_desc_workers,      &s_desc_error,        &s_desc_ready,
    &s_desc_task,         &s_desc_hello,        &s_desc_heartbeat,
    &s_desc_task_started, &s_desc_task_done,    &s_desc_task_failed,
    &s_desc_bye,          &s_desc_cancel,       &s_desc_shutdown,
    &s_desc_broker_hb,    &s_desc_result,       &s_desc_ev_started,
    &s_desc_ev_progress,  &s_desc_ev_finished,  &s_desc_replay,
    &s_desc_replay_page};
_Static_assert (sizeof s_all_descs / sizeof s_all_descs[0]
                    == ZS_MSG_TYPE_COUNT - 1,
                "one descriptor per message type");

/*  The field table of the entries of an array-of-maps field. */
static void s_entry_table (zs_fkind_t kind, const s_field_t **fields, size_t *n,
                           size_t *size)
{
    if (kind == K_WORKERS) {
        *fields = s_worker_info_fields;
        *n = sizeof s_worker_info_fields / sizeof s_worker_info_fields[0];
        *size = sizeof (zs_worker_info_t);
    }
    else {
        *fields = s_info_fields;
        *n = sizeof s_info_fields / sizeof s_info_fields[0];
        *size = sizeof (zs_scan_info_t);
    }
}

/* ---------------------------------------------------------------------- */
/*  Errors                                                                 */

int zs_msg_fail (char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (err, errlen, fmt, ap);
        va_end (ap);
    }
    return -1;
}

/* ---------------------------------------------------------------------- */
/*  String checks shared by encoder and decoder                            */

const char *zs_msg_check_str (zs_fkind_t kind, const char *s, size_t len)
{
    /* an id's or a symbol's charset holds no NUL byte */
    if (kind != K_ID && kind != K_SYM && memchr (s, 0, len))
        return "contains a NUL byte";
    return zs_msg_check_chars (kind, s, len);
}

/*  zs_msg_check_str without the NUL check: for C strings, whose length strlen
    gave, so they hold no NUL. */
const char *zs_msg_check_chars (zs_fkind_t kind, const char *s, size_t len)
{
    switch (kind) {
    case K_ID:
        if (len < 1 || len > ZS_ID_MAX || !s_id_chars (s, len))
            return "is not an id ([A-Za-z0-9_-]{1,64})";
        return NULL;
    case K_SYM:
        if (len < 1 || len > ZS_SYMBOL_LEN_MAX || !s_sym_chars (s, len))
            return "is not a symbol ([A-Za-z0-9._^-]{1,31})";
        return NULL;
    case K_NAME:
        if (len < 1 || len > ZS_NAME_MAX)
            return "must be 1..64 bytes";
        return NULL;
    case K_WID:
        if (len < 1 || len > ZS_WORKER_ID_MAX)
            return "must be 1..128 bytes";
        return NULL;
    case K_TEXT:
        if (len > ZS_TEXT_MAX)
            return "is longer than 1024 bytes";
        return NULL;
    case K_FILTER:
        if (len < 1 || len > ZS_FILTER_MAX)
            return "must be 1..4096 bytes";
        return NULL;
    default:
        return "is not a string field";
    }
}

/* ---------------------------------------------------------------------- */
/*  Encoding                                                               */

typedef struct {
    msgpack_packer pk;
    char *err;
    size_t errlen;
} s_enc_t;

static void s_pack_str (s_enc_t *e, const char *s)
{
    size_t len = strlen (s);
    msgpack_pack_str (&e->pk, len);
    msgpack_pack_str_body (&e->pk, s, len);
}

static const void *s_at (const void *base, size_t off)
{
    return (const char *) base + off;
}

static int s_enc_def (s_enc_t *e, const zs_scan_def_t *d);
static int s_enc_fields (s_enc_t *e, const s_field_t *fields, size_t n,
                         const void *base, const char *type);

/* True when an optional field holds its "absent" value. */
static bool s_is_empty (const s_field_t *f, const void *base)
{
    const void *p = s_at (base, f->off);
    switch (f->kind) {
    case K_U64:
        return *(const uint64_t *) p == 0;
    case K_U32:
        return *(const uint32_t *) p == 0;
    case K_BOOL:
        return !*(const bool *) p;
    case K_DBL:
        return *(const double *) p == 0;
    case K_DBLNAN:
        return isnan (*(const double *) p);
    case K_PRIO:
        return *(const zs_priority_t *) p == ZS_PRIO_GIVEN;
    case K_REASON:
        return *(const zs_end_reason_t *) p == ZS_END_NONE;
    case K_STATE:
        return false;
    case K_VIEW:
        return *(const zs_view_t *) p == ZS_VIEW_ALL;
    case K_DEF: {
        const zs_scan_def_t *d = (const zs_scan_def_t *) p;
        return !d->data && !d->strategy && !d->filter && !d->nparams;
    }
    case K_TSYMS:
    case K_USYMS:
    case K_VALUES:
    case K_INFOS:
    case K_WORKERS:
        return *(const size_t *) s_at (base, f->off2) == 0;
    case K_IDX:
        return false;
    default:
        return *(const char *const *) p == NULL;
    }
}

static int s_enc_field (s_enc_t *e, const s_field_t *f, const void *base)
{
    const void *p = s_at (base, f->off);
    switch (f->kind) {
    case K_U64:
        msgpack_pack_uint64 (&e->pk, *(const uint64_t *) p);
        return 0;
    case K_U32:
        msgpack_pack_uint32 (&e->pk, *(const uint32_t *) p);
        return 0;
    case K_BOOL:
        if (*(const bool *) p)
            msgpack_pack_true (&e->pk);
        else
            msgpack_pack_false (&e->pk);
        return 0;
    case K_DBL: {
        double v = *(const double *) p;
        if (!isfinite (v))
            return zs_msg_fail (e->err, e->errlen, "%s: not a finite number",
                                f->key);
        msgpack_pack_double (&e->pk, v);
        return 0;
    }
    case K_DBLNAN: {
        double v = *(const double *) p;
        if (isinf (v))
            return zs_msg_fail (e->err, e->errlen, "%s: not a finite number",
                                f->key);
        if (isnan (v))
            msgpack_pack_nil (&e->pk);
        else
            msgpack_pack_double (&e->pk, v);
        return 0;
    }
    case K_PRIO: {
        unsigned v = (unsigned) *(const zs_priority_t *) p;
        if (v > ZS_PRIO_SIGNALS)
            return zs_msg_fail (e->err, e->errlen, "%s: bad value", f->key);
        s_pack_str (e, s_prio_names[v]);
        return 0;
    }
    case K_REASON: {
        unsigned v = (unsigned) *(const zs_end_reason_t *) p;
        if (v > ZS_END_FAILED)
            return zs_msg_fail (e->err, e->errlen, "%s: bad value", f->key);
        s_pack_str (e, s_reason_names[v]);
        return 0;
    }
    case K_STATE: {
        unsigned v = (unsigned) *(const zs_scan_state_t *) p;
        if (v > ZS_STATE_PLANNING)
            return zs_msg_fail (e->err, e->errlen, "%s: bad value", f->key);
        s_pack_str (e, s_state_names[v]);
        return 0;
    }
    case K_VIEW: {
        unsigned v = (unsigned) *(const zs_view_t *) p;
        if (v > ZS_VIEW_EVENTS)
            return zs_msg_fail (e->err, e->errlen, "%s: bad value", f->key);
        s_pack_str (e, s_view_names[v]);
        return 0;
    }
    case K_DEF:
        return s_enc_def (e, (const zs_scan_def_t *) p);
    case K_TSYMS:
    case K_USYMS: {
        const char *const *syms = *(const char *const *const *) p;
        size_t n = *(const size_t *) s_at (base, f->off2);
        size_t max = f->kind == K_TSYMS ? ZS_TASK_SYMBOLS_MAX
                                        : ZS_UNIVERSE_MAX;
        if (n > max || (f->kind == K_TSYMS && n == 0) || (n && !syms))
            return zs_msg_fail (e->err, e->errlen,
                                "%s: %zu symbols (want %s..%zu)", f->key, n,
                                f->kind == K_TSYMS ? "1" : "0", max);
        msgpack_pack_array (&e->pk, n);
        for (size_t i = 0; i < n; i++) {
            if (!syms[i] || zs_msg_check_str (K_SYM, syms[i], strlen (syms[i])))
                return zs_msg_fail (e->err, e->errlen,
                                    "%s[%zu] is not a symbol", f->key, i);
            s_pack_str (e, syms[i]);
        }
        return 0;
    }
    case K_IDX: {
        const uint32_t *idx = *(const uint32_t *const *) p;
        size_t n = *(const size_t *) s_at (base, f->off2);
        if (n && !idx)
            return zs_msg_fail (e->err, e->errlen, "%s missing", f->key);
        msgpack_pack_array (&e->pk, n);
        for (size_t i = 0; i < n; i++)
            msgpack_pack_uint32 (&e->pk, idx[i]);
        return 0;
    }
    case K_VALUES: {
        const zs_value_t *vals = (const zs_value_t *) p;
        size_t n = *(const size_t *) s_at (base, f->off2);
        if (n > ZS_VALUES_MAX)
            return zs_msg_fail (e->err, e->errlen, "%s: more than %d values",
                                f->key, ZS_VALUES_MAX);
        msgpack_pack_map (&e->pk, n);
        for (size_t i = 0; i < n; i++) {
            if (!vals[i].name
                || zs_msg_check_str (K_NAME, vals[i].name,
                                     strlen (vals[i].name)))
                return zs_msg_fail (e->err, e->errlen, "%s[%zu]: bad name",
                                    f->key, i);
            for (size_t j = 0; j < i; j++)
                if (strcmp (vals[j].name, vals[i].name) == 0)
                    return zs_msg_fail (e->err, e->errlen,
                                        "%s: '%s' given twice", f->key,
                                        vals[i].name);
            if (isinf (vals[i].value))
                return zs_msg_fail (e->err, e->errlen,
                                    "%s.%s: not a finite "
                                    "number",
                                    f->key, vals[i].name);
            s_pack_str (e, vals[i].name);
            if (isnan (vals[i].value))
                msgpack_pack_nil (&e->pk);
            else
                msgpack_pack_double (&e->pk, vals[i].value);
        }
        return 0;
    }
    case K_INFOS:
    case K_WORKERS: {
        const char *items = *(const char *const *) p;
        size_t n = *(const size_t *) s_at (base, f->off2);
        const s_field_t *sub;
        size_t nsub, size;
        s_entry_table ((zs_fkind_t) f->kind, &sub, &nsub, &size);
        if (n > ZS_LIST_MAX || (n && !items))
            return zs_msg_fail (e->err, e->errlen, "%s: %zu entries (max %d)",
                                f->key, n, ZS_LIST_MAX);
        msgpack_pack_array (&e->pk, n);
        for (size_t i = 0; i < n; i++)
            if (s_enc_fields (e, sub, nsub, items + i * size, NULL) != 0)
                return -1;
        return 0;
    }
    default: {
        const char *s = *(const char *const *) p;
        if (!s)
            return zs_msg_fail (e->err, e->errlen, "%s is required", f->key);
        const char *why =
            zs_msg_check_str ((zs_fkind_t) f->kind, s, strlen (s));
        if (why)
            return zs_msg_fail (e->err, e->errlen, "%s %s", f->key, why);
        s_pack_str (e, s);
        return 0;
    }
    }
}

static int s_enc_def (s_enc_t *e, const zs_scan_def_t *d)
{
    if (d->strategy && d->filter)
        return zs_msg_fail (e->err, e->errlen,
                            "def: strategy and filter are exclusive");
    if (d->nparams > ZS_PARAMS_MAX)
        return zs_msg_fail (e->err, e->errlen, "def: more than %d params",
                            ZS_PARAMS_MAX);
    size_t n = (d->data != NULL) + (d->strategy != NULL) + (d->filter != NULL)
               + (d->nparams > 0);
    msgpack_pack_map (&e->pk, n);
    const char *why;
    if (d->data) {
        if ((why = zs_msg_check_str (K_TEXT, d->data, strlen (d->data))))
            return zs_msg_fail (e->err, e->errlen, "def.data %s", why);
        s_pack_str (e, "data");
        s_pack_str (e, d->data);
    }
    if (d->strategy) {
        if ((why =
                 zs_msg_check_str (K_NAME, d->strategy, strlen (d->strategy))))
            return zs_msg_fail (e->err, e->errlen, "def.strategy %s", why);
        s_pack_str (e, "strategy");
        s_pack_str (e, d->strategy);
    }
    if (d->filter) {
        if ((why = zs_msg_check_str (K_FILTER, d->filter, strlen (d->filter))))
            return zs_msg_fail (e->err, e->errlen, "def.filter %s", why);
        s_pack_str (e, "filter");
        s_pack_str (e, d->filter);
    }
    if (d->nparams) {
        s_pack_str (e, "params");
        msgpack_pack_map (&e->pk, d->nparams);
        for (size_t i = 0; i < d->nparams; i++) {
            if (!d->pnames[i]
                || zs_msg_check_str (K_NAME, d->pnames[i],
                                     strlen (d->pnames[i])))
                return zs_msg_fail (e->err, e->errlen,
                                    "def.params[%zu]: bad name", i);
            if (!isfinite (d->pvalues[i]))
                return zs_msg_fail (e->err, e->errlen,
                                    "def.params.%s: not a finite number",
                                    d->pnames[i]);
            for (size_t j = 0; j < i; j++)
                if (strcmp (d->pnames[i], d->pnames[j]) == 0)
                    return zs_msg_fail (e->err, e->errlen,
                                        "def.params: '%s' given twice",
                                        d->pnames[i]);
            s_pack_str (e, d->pnames[i]);
            msgpack_pack_double (&e->pk, d->pvalues[i]);
        }
    }
    return 0;
}

/*  Packs a map of the fields (plus v and type when type is not NULL). */
static int s_enc_fields (s_enc_t *e, const s_field_t *fields, size_t n,
                         const void *base, const char *type)
{
    size_t count = type ? 2 : 0;
    for (size_t i = 0; i < n; i++)
        if (fields[i].required || !s_is_empty (&fields[i], base))
            count++;
    msgpack_pack_map (&e->pk, count);
    if (type) {
        s_pack_str (e, "v");
        msgpack_pack_uint32 (&e->pk, ZS_PROTO_VERSION);
        s_pack_str (e, "type");
        s_pack_str (e, type);
    }
    for (size_t i = 0; i < n; i++) {
        const s_field_t *f = &fields[i];
        if (!f->required && s_is_empty (f, base))
            continue;
        s_pack_str (e, f->key);
        if (s_enc_field (e, f, base) != 0)
            return -1;
    }
    return 0;
}

static int s_encode (const s_desc_t *desc, const void *m, zs_buf_t *out,
                     char *err, size_t errlen)
{
    s_enc_t e;
    e.err = err;
    e.errlen = errlen;
    msgpack_packer_init (&e.pk, out, s_buf_write);
    size_t start = out->size;
    if (s_enc_fields (&e, desc->fields, desc->nfields, m,
                      zs_msg_type_name (desc->type))
        != 0) {
        out->size = start;
        return -1;
    }
    if (out->size - start > ZS_MSG_MAX) {
        out->size = start;
        return zs_msg_fail (err, errlen, "message larger than %u bytes",
                            (unsigned) ZS_MSG_MAX);
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/*  Decoding                                                               */

typedef struct {
    zs_mp_t mp;
    bool measure;       /* out of room: only count memory                 */
    size_t used;        /* bytes of mem used (or needed)                  */
    char *mem;
    size_t cap;
    size_t nidx;        /* count of the last index array read            */
    char *err;
    size_t errlen;
} s_dec_t;

/*  Reserves bytes (aligned) in mem; NULL while measuring. */
static void *s_reserve (s_dec_t *d, size_t bytes, size_t align)
{
    size_t at = (d->used + align - 1) & ~(align - 1);
    d->used = at + bytes;
    if (!d->measure && d->used > d->cap)
        d->measure = true; /* out of room: only count from here on */
    if (d->measure)
        return NULL;
    return d->mem + at;
}

static const char *s_copy_str (s_dec_t *d, const char *s, uint32_t len)
{
    char *dst = (char *) s_reserve (d, (size_t) len + 1, 1);
    if (!dst)
        return "";
    memcpy (dst, s, len);
    dst[len] = 0;
    return dst;
}

static int s_dec_str_len (s_dec_t *d, const char *key, zs_fkind_t kind,
                          const char **out, uint32_t *lenp);

static int s_dec_str (s_dec_t *d, const char *key, zs_fkind_t kind,
                      const char **out)
{
    uint32_t len;
    return s_dec_str_len (d, key, kind, out, &len);
}

/*  Like s_dec_str, and gives the string's length. */
static int s_dec_str_len (s_dec_t *d, const char *key, zs_fkind_t kind,
                          const char **out, uint32_t *lenp)
{
    const char *s;
    uint32_t len;
    if (zs_mp_read_str (&d->mp, &s, &len) != 0)
        return zs_msg_fail (d->err, d->errlen, "%s: want a string, got %s", key,
                            zs_mp_kind_name (zs_mp_peek (&d->mp)));
    const char *why = zs_msg_check_str (kind, s, len);
    if (why)
        return zs_msg_fail (d->err, d->errlen, "%s %s", key, why);
    *out = s_copy_str (d, s, len);
    *lenp = len;
    return 0;
}

static int s_dec_enum (s_dec_t *d, const char *key, const char *const *names,
                       int n, int *out)
{
    const char *s;
    uint32_t len;
    if (zs_mp_read_str (&d->mp, &s, &len) != 0)
        return zs_msg_fail (d->err, d->errlen, "%s: want a string, got %s", key,
                            zs_mp_kind_name (zs_mp_peek (&d->mp)));
    int i = s_find_name (names, n, s, len);
    if (i < 0)
        return zs_msg_fail (d->err, d->errlen, "%s: unknown value '%.*s'", key,
                            (int) (len > 32 ? 32 : len), s);
    *out = i;
    return 0;
}

static int s_dec_uint (s_dec_t *d, const char *key, uint64_t max,
                       uint64_t *out)
{
    if (zs_mp_read_uint (&d->mp, out) != 0)
        return zs_msg_fail (d->err, d->errlen,
                            "%s: want a non-negative integer, got %s", key,
                            zs_mp_kind_name (zs_mp_peek (&d->mp)));
    if (*out > max)
        return zs_msg_fail (d->err, d->errlen, "%s: %llu is out of range", key,
                            (unsigned long long) *out);
    return 0;
}

static int s_dec_double (s_dec_t *d, const char *key, bool nil_ok,
                         double *out)
{
    if (nil_ok && zs_mp_read_nil (&d->mp) == 0) {
        *out = NAN;
        return 0;
    }
    if (zs_mp_read_double (&d->mp, out) != 0)
        return zs_msg_fail (d->err, d->errlen, "%s: want a number, got %s", key,
                            zs_mp_kind_name (zs_mp_peek (&d->mp)));
    if (!nil_ok && !isfinite (*out))
        return zs_msg_fail (d->err, d->errlen, "%s: not a finite number", key);
    if (nil_ok && isinf (*out))
        return zs_msg_fail (d->err, d->errlen, "%s: not a finite number", key);
    return 0;
}

static bool s_key_is (const char *k, uint32_t klen, const char *want)
{
    /* compare without strlen: want is NUL-terminated, k is not */
    for (uint32_t i = 0; i < klen; i++)
        if (want[i] != k[i] || !want[i])
            return false;
    return want[klen] == 0;
}

static int s_dec_def (s_dec_t *d, zs_scan_def_t *def)
{
    uint32_t n;
    if (zs_mp_read_map (&d->mp, &n) != 0)
        return zs_msg_fail (d->err, d->errlen, "def: want a map, got %s",
                            zs_mp_kind_name (zs_mp_peek (&d->mp)));
    unsigned seen = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *k;
        uint32_t klen;
        if (zs_mp_read_str (&d->mp, &k, &klen) != 0)
            return zs_msg_fail (d->err, d->errlen, "def: keys must be strings");
        int which = s_key_is (k, klen, "data")       ? 0
                    : s_key_is (k, klen, "strategy") ? 1
                    : s_key_is (k, klen, "filter")   ? 2
                    : s_key_is (k, klen, "params")   ? 3
                                                     : -1;
        if (which < 0) {
            if (zs_mp_skip (&d->mp, MAX_SKIP_DEPTH) != 0)
                return zs_msg_fail (d->err, d->errlen,
                                    "def: malformed value of unknown key");
            continue;
        }
        if (seen & (1u << which))
            return zs_msg_fail (d->err, d->errlen, "def: duplicate key '%.*s'",
                                (int) klen, k);
        seen |= 1u << which;
        int rc = 0;
        if (which == 0)
            rc = s_dec_str (d, "def.data", K_TEXT, &def->data);
        else if (which == 1)
            rc = s_dec_str (d, "def.strategy", K_NAME, &def->strategy);
        else if (which == 2)
            rc = s_dec_str (d, "def.filter", K_FILTER, &def->filter);
        else {
            uint32_t np;
            if (zs_mp_read_map (&d->mp, &np) != 0)
                return zs_msg_fail (d->err, d->errlen,
                                    "def.params: want a map, got %s",
                                    zs_mp_kind_name (zs_mp_peek (&d->mp)));
            if (np > ZS_PARAMS_MAX)
                return zs_msg_fail (d->err, d->errlen,
                                    "def.params: more than %d", ZS_PARAMS_MAX);
            def->nparams = np;
            /* names compared as they are on the wire: the same verdict
               whether this pass copies strings or only counts */
            const char *raw[ZS_PARAMS_MAX];
            uint32_t rawlen[ZS_PARAMS_MAX];
            for (uint32_t j = 0; j < np && rc == 0; j++) {
                zs_mp_t at = d->mp;
                rc = s_dec_str (d, "def.params name", K_NAME,
                                &def->pnames[j]);
                if (rc == 0) {
                    zs_mp_read_str (&at, &raw[j], &rawlen[j]); /* just read */
                    rc = s_dec_double (d, "def.params value", false,
                                       &def->pvalues[j]);
                }
                for (uint32_t q = 0; q < j && rc == 0; q++)
                    if (rawlen[q] == rawlen[j]
                        && memcmp (raw[q], raw[j], rawlen[j]) == 0)
                        rc = zs_msg_fail (d->err, d->errlen,
                                          "def.params: '%.*s' given twice",
                                          (int) rawlen[j], raw[j]);
            }
        }
        if (rc != 0)
            return rc;
    }
    if (def->strategy && def->filter)
        return zs_msg_fail (d->err, d->errlen,
                            "def: strategy and filter are exclusive");
    return 0;
}

static int s_dec_fields (s_dec_t *d, const s_field_t *fields, size_t n,
                         void *base, const char *type);

static int s_dec_field (s_dec_t *d, const s_field_t *f, void *base)
{
    void *p = (char *) base + f->off;
    uint64_t u;
    int e;
    switch (f->kind) {
    case K_U64:
        return s_dec_uint (d, f->key, UINT64_MAX, (uint64_t *) p);
    case K_U32:
        if (s_dec_uint (d, f->key, UINT32_MAX, &u) != 0)
            return -1;
        *(uint32_t *) p = (uint32_t) u;
        return 0;
    case K_BOOL:
        if (zs_mp_read_bool (&d->mp, (bool *) p) != 0)
            return zs_msg_fail (d->err, d->errlen, "%s: want a boolean, got %s",
                                f->key, zs_mp_kind_name (zs_mp_peek (&d->mp)));
        return 0;
    case K_DBL:
        return s_dec_double (d, f->key, false, (double *) p);
    case K_DBLNAN:
        return s_dec_double (d, f->key, true, (double *) p);
    case K_PRIO:
        if (s_dec_enum (d, f->key, s_prio_names, 3, &e) != 0)
            return -1;
        *(zs_priority_t *) p = (zs_priority_t) e;
        return 0;
    case K_REASON:
        if (s_dec_enum (d, f->key, s_reason_names, 7, &e) != 0)
            return -1;
        *(zs_end_reason_t *) p = (zs_end_reason_t) e;
        return 0;
    case K_STATE:
        if (s_dec_enum (d, f->key, s_state_names, 3, &e) != 0)
            return -1;
        *(zs_scan_state_t *) p = (zs_scan_state_t) e;
        return 0;
    case K_VIEW:
        if (s_dec_enum (d, f->key, s_view_names, 3, &e) != 0)
            return -1;
        *(zs_view_t *) p = (zs_view_t) e;
        return 0;
    case K_DEF:
        return s_dec_def (d, (zs_scan_def_t *) p);
    case K_TSYMS:
    case K_USYMS: {
        uint32_t n;
        if (zs_mp_read_array (&d->mp, &n) != 0)
            return zs_msg_fail (d->err, d->errlen, "%s: want an array, got %s",
                                f->key, zs_mp_kind_name (zs_mp_peek (&d->mp)));
        size_t max = f->kind == K_TSYMS ? ZS_TASK_SYMBOLS_MAX : ZS_UNIVERSE_MAX;
        if (n > max || (f->kind == K_TSYMS && n == 0))
            return zs_msg_fail (d->err, d->errlen,
                                "%s: %u symbols (want %s..%zu)", f->key, n,
                                f->kind == K_TSYMS ? "1" : "0", max);
        const char **arr = (const char **) s_reserve (
            d, (size_t) n * sizeof (char *), sizeof (char *));
        for (uint32_t i = 0; i < n; i++) {
            const char *s = NULL;
            if (s_dec_str (d, f->key, K_SYM, &s) != 0)
                return -1;
            if (arr)
                arr[i] = s;
        }
        *(const char ***) p = arr;
        *(size_t *) ((char *) base + f->off2) = n;
        return 0;
    }
    case K_IDX: {
        uint32_t n;
        if (zs_mp_read_array (&d->mp, &n) != 0)
            return zs_msg_fail (d->err, d->errlen, "%s: want an array, got %s",
                                f->key, zs_mp_kind_name (zs_mp_peek (&d->mp)));
        if (n > ZS_TASK_SYMBOLS_MAX)
            return zs_msg_fail (d->err, d->errlen, "%s: too long", f->key);
        uint32_t *arr = (uint32_t *) s_reserve (
            d, (size_t) n * sizeof (uint32_t), sizeof (uint32_t));
        for (uint32_t i = 0; i < n; i++) {
            if (s_dec_uint (d, f->key, UINT32_MAX, &u) != 0)
                return -1;
            if (arr)
                arr[i] = (uint32_t) u;
        }
        *(uint32_t **) p = arr;
        d->nidx = n;
        return 0;
    }
    case K_VALUES: {
        uint32_t n;
        if (zs_mp_read_map (&d->mp, &n) != 0)
            return zs_msg_fail (d->err, d->errlen, "%s: want a map, got %s",
                                f->key, zs_mp_kind_name (zs_mp_peek (&d->mp)));
        if (n > ZS_VALUES_MAX)
            return zs_msg_fail (d->err, d->errlen, "%s: more than %d", f->key,
                                ZS_VALUES_MAX);
        zs_value_t *vals = (zs_value_t *) p;
        /* names compared as they are on the wire (see def.params) */
        const char *raw[ZS_VALUES_MAX];
        uint32_t lens[ZS_VALUES_MAX];
        for (uint32_t i = 0; i < n; i++) {
            zs_mp_t at = d->mp;
            if (s_dec_str (d, "values name", K_NAME, &vals[i].name) != 0
                || s_dec_double (d, "values entry", true, &vals[i].value)
                       != 0)
                return -1;
            zs_mp_read_str (&at, &raw[i], &lens[i]); /* read just above */
            for (uint32_t j = 0; j < i; j++)
                if (lens[j] == lens[i] && raw[j][0] == raw[i][0]
                    && memcmp (raw[j], raw[i], lens[i]) == 0)
                    return zs_msg_fail (d->err, d->errlen,
                                        "%s: '%.*s' given twice", f->key,
                                        (int) lens[i], raw[i]);
        }
        *(size_t *) ((char *) base + f->off2) = n;
        return 0;
    }
    case K_INFOS:
    case K_WORKERS: {
        uint32_t n;
        if (zs_mp_read_array (&d->mp, &n) != 0)
            return zs_msg_fail (d->err, d->errlen, "%s: want an array, got %s",
                                f->key, zs_mp_kind_name (zs_mp_peek (&d->mp)));
        if (n > ZS_LIST_MAX)
            return zs_msg_fail (d->err, d->errlen, "%s: more than %d", f->key,
                                ZS_LIST_MAX);
        const s_field_t *sub;
        size_t nsub, size;
        s_entry_table ((zs_fkind_t) f->kind, &sub, &nsub, &size);
        char *arr = (char *) s_reserve (d, (size_t) n * size, sizeof (double));
        union {
            zs_scan_info_t info;
            zs_worker_info_t worker;
        } scratch;
        for (uint32_t i = 0; i < n; i++) {
            void *target = arr ? arr + i * size : (void *) &scratch;
            memset (target, 0, size);
            if (s_dec_fields (d, sub, nsub, target, NULL) != 0)
                return -1;
        }
        *(void **) p = arr;
        *(size_t *) ((char *) base + f->off2) = n;
        return 0;
    }
    default:
        return s_dec_str (d, f->key, (zs_fkind_t) f->kind, (const char **) p);
    }
}

/*  Decodes a map of fields into base.  When type is not NULL the map must
    carry "v" = ZS_PROTO_VERSION and "type" = type. */
static int s_dec_fields (s_dec_t *d, const s_field_t *fields, size_t n,
                         void *base, const char *type)
{
    uint32_t count;
    if (zs_mp_read_map (&d->mp, &count) != 0)
        return zs_msg_fail (d->err, d->errlen, "%s: want a map, got %s",
                            type ? "body" : "entry",
                            zs_mp_kind_name (zs_mp_peek (&d->mp)));
    uint64_t seen = 0;
    size_t hint = 0;
    bool seen_v = false, seen_type = false;
    for (uint32_t i = 0; i < count; i++) {
        const char *k;
        uint32_t klen;
        if (zs_mp_read_str (&d->mp, &k, &klen) != 0) {
            if (d->mp.p >= d->mp.end)
                return zs_msg_fail (
                    d->err, d->errlen,
                    "truncated: the map ends after %u of its %u "
                    "entries",
                    i, count);
            if (zs_mp_peek (&d->mp) == ZS_MP_STR)
                return zs_msg_fail (d->err, d->errlen,
                                    "truncated: key %u runs past the end",
                                    i + 1);
            return zs_msg_fail (d->err, d->errlen,
                                "keys must be strings, got %s",
                                zs_mp_kind_name (zs_mp_peek (&d->mp)));
        }
        if (type && s_key_is (k, klen, "v")) {
            uint64_t v;
            if (seen_v)
                return zs_msg_fail (d->err, d->errlen, "duplicate key 'v'");
            seen_v = true;
            if (zs_mp_read_uint (&d->mp, &v) != 0)
                return zs_msg_fail (d->err, d->errlen,
                                    "v: want the protocol version number");
            if (v != ZS_PROTO_VERSION)
                return zs_msg_fail (d->err, d->errlen,
                                    "unsupported protocol version %llu (this "
                                    "is version %d)",
                                    (unsigned long long) v, ZS_PROTO_VERSION);
            continue;
        }
        if (type && s_key_is (k, klen, "type")) {
            const char *t;
            uint32_t tlen;
            if (seen_type)
                return zs_msg_fail (d->err, d->errlen, "duplicate key 'type'");
            seen_type = true;
            if (zs_mp_read_str (&d->mp, &t, &tlen) != 0)
                return zs_msg_fail (d->err, d->errlen, "type: want a string");
            if (!s_key_is (t, tlen, type))
                return zs_msg_fail (d->err, d->errlen,
                                    "type is '%.*s', want '%s'",
                                    (int) (tlen > 32 ? 32 : tlen), t, type);
            continue;
        }
        /* encoders write fields in table order, skipping absent ones:
           look ahead from the last match first, then behind it */
        if (hint > n)
            hint = n;
        size_t j = hint;
        while (j < n && !s_key_is (k, klen, fields[j].key))
            j++;
        if (j == n) {
            for (j = 0; j < hint && !s_key_is (k, klen, fields[j].key); j++)
                ;
            if (j == hint)
                j = n; /* not a field of ours */
        }
        hint = j + 1;
        if (j == n) { /* unknown: skip, for forward compatibility */
            if (zs_mp_skip (&d->mp, MAX_SKIP_DEPTH) != 0)
                return zs_msg_fail (d->err, d->errlen,
                                    "malformed value of unknown key '%.*s'",
                                    (int) (klen > 32 ? 32 : klen), k);
            continue;
        }
        if (seen & ((uint64_t) 1 << j))
            return zs_msg_fail (d->err, d->errlen, "duplicate key '%s'",
                                fields[j].key);
        seen |= (uint64_t) 1 << j;
        if (s_dec_field (d, &fields[j], base) != 0)
            return -1;
    }
    if (type && !seen_v)
        return zs_msg_fail (d->err, d->errlen, "missing protocol version 'v'");
    if (type && !seen_type)
        return zs_msg_fail (d->err, d->errlen, "missing 'type'");
    for (size_t j = 0; j < n; j++)
        if (fields[j].required && !(seen & ((uint64_t) 1 << j)))
            return zs_msg_fail (d->err, d->errlen,
                                "missing required field '%s'", fields[j].key);
    return 0;
}

/*  Sets a struct to its "absent" values, keeping its mem_. */
static void s_reset (const s_desc_t *desc, void *m)
{
    zs_mem_t mem = *(zs_mem_t *) ((char *) m + desc->mem_off);
    memset (m, 0, desc->size);
    *(zs_mem_t *) ((char *) m + desc->mem_off) = mem;
    for (size_t i = 0; i < desc->nfields; i++)
        if (desc->fields[i].kind == K_DBLNAN)
            *(double *) ((char *) m + desc->fields[i].off) = NAN;
}

static int s_pass (const s_desc_t *desc, const void *data, size_t size,
                   void *m, s_dec_t *d)
{
    d->mp.p = (const uint8_t *) data;
    d->mp.end = d->mp.p + size;
    d->used = 0;
    d->nidx = 0;
    s_reset (desc, m);
    if (s_dec_fields (d, desc->fields, desc->nfields, m,
                      zs_msg_type_name (desc->type))
        != 0)
        return -1;
    if (d->mp.p != d->mp.end)
        return zs_msg_fail (d->err, d->errlen,
                            "%zu trailing bytes after the body",
                            (size_t) (d->mp.end - d->mp.p));
    if (desc->type == ZS_MSG_TASK) {
        zs_task_t *t = (zs_task_t *) m;
        if (d->nidx != t->nsymbols)
            return zs_msg_fail (d->err, d->errlen,
                                "index has %zu entries for %zu symbols",
                                d->nidx, t->nsymbols);
    }
    return 0;
}

static int s_decode (const s_desc_t *desc, const void *data, size_t size,
                     void *m, char *err, size_t errlen)
{
    if (!data && size)
        return zs_msg_fail (err, errlen, "no data");
    if (size > ZS_MSG_MAX)
        return zs_msg_fail (err, errlen,
                            "message of %zu bytes is over the limit", size);
    zs_mem_t *mem = (zs_mem_t *) ((char *) m + desc->mem_off);
    s_dec_t d;
    memset (&d, 0, sizeof d);
    d.err = err;
    d.errlen = errlen;
    /* without arrays: room enough at once; with arrays: fill what room
       the struct has (a reused struct's is usually enough), and when it
       runs out count the rest, make room, and fill again */
    size_t need = desc->arrays ? 256 : 2 * size + 64;
    for (int pass = 0; pass < 2; pass++) {
        if (mem->cap < need) {
            char *p = (char *) realloc (mem->p, need);
            if (!p) {
                s_reset (desc, m);
                return zs_msg_fail (err, errlen, "out of memory");
            }
            mem->p = p;
            mem->cap = need;
        }
        d.mem = mem->p;
        d.cap = mem->cap;
        d.measure = false;
        if (s_pass (desc, data, size, m, &d) != 0) {
            s_reset (desc, m);
            return -1;
        }
        if (!d.measure)
            return 0;
        need = d.used + d.used / 4 + 64;
    }
    assert (0 && "a second pass cannot run out of room"); /* our own */
    s_reset (desc, m);
    return zs_msg_fail (err, errlen, "out of memory");
}

/* ---------------------------------------------------------------------- */
/*  Peek                                                                   */

int zs_msg_peek_req (const void *data, size_t size, uint64_t *req)
{
    zs_mp_t mp = {(const uint8_t *) data, (const uint8_t *) data + size};
    uint32_t n;
    if (!data || zs_mp_read_map (&mp, &n) != 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        const char *k;
        uint32_t klen;
        if (zs_mp_read_str (&mp, &k, &klen) != 0)
            return -1;
        if (s_key_is (k, klen, "req"))
            return zs_mp_read_uint (&mp, req) == 0 ? 0 : -1;
        if (zs_mp_skip (&mp, MAX_SKIP_DEPTH) != 0)
            return -1;
    }
    return -1;
}

int zs_msg_peek (const void *data, size_t size, zs_msg_type_t *type,
                 char *err, size_t errlen)
{
    zs_mp_t mp = {(const uint8_t *) data, (const uint8_t *) data + size};
    uint32_t n;
    if (!data || zs_mp_read_map (&mp, &n) != 0)
        return zs_msg_fail (err, errlen, "not a msgpack map");
    bool have_v = false;
    const char *t = NULL;
    uint32_t tlen = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *k;
        uint32_t klen;
        if (zs_mp_read_str (&mp, &k, &klen) != 0)
            return zs_msg_fail (err, errlen, "keys must be strings");
        if (s_key_is (k, klen, "v")) {
            uint64_t v;
            if (zs_mp_read_uint (&mp, &v) != 0)
                return zs_msg_fail (err, errlen,
                                    "v: want the protocol version number");
            if (v != ZS_PROTO_VERSION)
                return zs_msg_fail (
                    err, errlen,
                    "unsupported protocol version %llu (this is "
                    "version %d)",
                    (unsigned long long) v, ZS_PROTO_VERSION);
            have_v = true;
        }
        else if (s_key_is (k, klen, "type")) {
            if (zs_mp_read_str (&mp, &t, &tlen) != 0)
                return zs_msg_fail (err, errlen, "type: want a string");
        }
        else if (zs_mp_skip (&mp, MAX_SKIP_DEPTH) != 0)
            return zs_msg_fail (err, errlen, "malformed value");
        if (have_v && t)
            break;
    }
    if (!have_v)
        return zs_msg_fail (err, errlen, "missing protocol version 'v'");
    if (!t)
        return zs_msg_fail (err, errlen, "missing 'type'");
    for (int i = 1; i < ZS_MSG_TYPE_COUNT; i++)
        if (s_key_is (t, tlen, s_type_names[i])) {
            *type = (zs_msg_type_t) i;
            return 0;
        }
    return zs_msg_fail (err, errlen, "unknown message type '%.*s'",
                        (int) (tlen > 32 ? 32 : tlen), t);
}

/* ---------------------------------------------------------------------- */
/*  One encoder and one decoder per message type                           */

#define ZS_CODEC_IMPL(name)                                                \
    int zs_##name##_encode (const zs_##name##_t *m, zs_buf_t *out,         \
                            char *err, size_t errlen)                      \
    {                                                                      \
        return s_encode (&s_desc_##name, m, out, err, errlen);             \
    }                                                                      \
    int zs_##name##_decode (const void *data, size_t size,                 \
                            zs_##name##_t *m, char *err, size_t errlen)    \
    {                                                                      \
        return s_decode (&s_desc_##name, data, size, m, err, errlen);      \
    }

ZS_CODEC_IMPL (scan_start)
ZS_CODEC_IMPL (scan_stop)
ZS_CODEC_IMPL (scan_status)
ZS_CODEC_IMPL (scan_list)
ZS_CODEC_IMPL (scan_started)
ZS_CODEC_IMPL (scan_stopped)
ZS_CODEC_IMPL (scan_info_msg)
ZS_CODEC_IMPL (scans)
ZS_CODEC_IMPL (worker_list)
ZS_CODEC_IMPL (workers)
ZS_CODEC_IMPL (error)
ZS_CODEC_IMPL (ready)
ZS_CODEC_IMPL (task)
ZS_CODEC_IMPL (hello)
ZS_CODEC_IMPL (heartbeat)
ZS_CODEC_IMPL (task_started)
ZS_CODEC_IMPL (task_done)
ZS_CODEC_IMPL (task_failed)
ZS_CODEC_IMPL (bye)
ZS_CODEC_IMPL (cancel)
ZS_CODEC_IMPL (shutdown)
ZS_CODEC_IMPL (broker_hb)
int zs_result_decode_generic (const void *data, size_t size, zs_result_t *m,
                              char *err, size_t errlen)
{
    return s_decode (&s_desc_result, data, size, m, err, errlen);
}

int zs_msg_encode_generic (zs_msg_type_t type, const void *m, zs_buf_t *out,
                           char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof s_all_descs / sizeof s_all_descs[0]; i++)
        if (s_all_descs[i]->type == type)
            return s_encode (s_all_descs[i], m, out, err, errlen);
    return zs_msg_fail (err, errlen, "no such message type");
}
ZS_CODEC_IMPL (ev_started)
ZS_CODEC_IMPL (ev_progress)
ZS_CODEC_IMPL (ev_finished)
ZS_CODEC_IMPL (replay)
ZS_CODEC_IMPL (replay_page)
