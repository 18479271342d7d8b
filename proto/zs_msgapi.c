/*  zs_msgapi.c - the api channel's messages (PROTOCOL.md, the api):
    clients' requests (start, stop, status and lists of scans and
    workers) and the broker's replies, as field tables the codec
    (zs_msgenc.c, zs_msgdec.c) reads. */
#include "zs_msg.h"
#include "zs_msg_int.h"

#include <stddef.h>

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

const zs_field_t zs_msg_info_fields[] = {INFO_FIELDS (zs_scan_info_t, )};

static const zs_field_t s_scan_start_fields[] = {
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

static const zs_field_t s_scan_stop_fields[] = {
    F (zs_scan_stop_t, "req", K_U64, OPT, req),
    F (zs_scan_stop_t, "scan", K_ID, REQ, scan),
    F (zs_scan_stop_t, "reason", K_REASON, OPT, reason)};

static const zs_field_t s_scan_status_fields[] = {
    F (zs_scan_status_t, "req", K_U64, OPT, req),
    F (zs_scan_status_t, "scan", K_ID, REQ, scan)};

static const zs_field_t s_scan_list_fields[] = {
    F (zs_scan_list_t, "req", K_U64, OPT, req),
    F (zs_scan_list_t, "all", K_BOOL, OPT, all)};

static const zs_field_t s_worker_list_fields[] = {
    F (zs_worker_list_t, "req", K_U64, OPT, req)};

const zs_field_t zs_msg_worker_info_fields[] = {
    F (zs_worker_info_t, "worker", K_WID, REQ, worker),
    F (zs_worker_info_t, "host", K_WID, REQ, host),
    F (zs_worker_info_t, "data", K_TEXT, OPT, data),
    F (zs_worker_info_t, "pid", K_U32, REQ, pid),
    F (zs_worker_info_t, "threads", K_U32, REQ, threads),
    F (zs_worker_info_t, "lanes", K_U32, REQ, lanes),
    F (zs_worker_info_t, "busy", K_U32, REQ, busy),
    F (zs_worker_info_t, "symbols", K_U64, REQ, symbols),
    F (zs_worker_info_t, "silent_ms", K_DBL, REQ, silent_ms)};

static const zs_field_t s_workers_fields[] = {
    F (zs_workers_t, "req", K_U64, OPT, req),
    FN (zs_workers_t, "workers", K_WORKERS, REQ, workers, nworkers)};

static const zs_field_t s_scan_started_fields[] = {
    F (zs_scan_started_t, "req", K_U64, OPT, req),
    F (zs_scan_started_t, "scan", K_ID, REQ, scan),
    F (zs_scan_started_t, "total", K_U64, REQ, total),
    F (zs_scan_started_t, "seq", K_U64, REQ, seq),
    F (zs_scan_started_t, "broker", K_ID, OPT, broker)};

static const zs_field_t s_scan_stopped_fields[] = {
    F (zs_scan_stopped_t, "req", K_U64, OPT, req),
    F (zs_scan_stopped_t, "scan", K_ID, REQ, scan),
    F (zs_scan_stopped_t, "state", K_STATE, REQ, state),
    F (zs_scan_stopped_t, "reason", K_REASON, REQ, reason)};

static const zs_field_t s_scan_info_msg_fields[] = {
    F (zs_scan_info_msg_t, "req", K_U64, OPT, req),
    F (zs_scan_info_msg_t, "broker", K_ID, OPT, broker),
    INFO_FIELDS (zs_scan_info_msg_t, info.)};

static const zs_field_t s_scans_fields[] = {
    F (zs_scans_t, "req", K_U64, OPT, req),
    FN (zs_scans_t, "scans", K_INFOS, REQ, scans, nscans)};

static const zs_field_t s_error_fields[] = {
    F (zs_error_t, "req", K_U64, OPT, req),
    F (zs_error_t, "code", K_U32, REQ, code),
    F (zs_error_t, "message", K_TEXT, REQ, message)};

static const zs_desc_t s_desc_scan_start =
    DESC (ZS_MSG_SCAN_START, scan_start, true);
static const zs_desc_t s_desc_scan_stop =
    DESC (ZS_MSG_SCAN_STOP, scan_stop, false);
static const zs_desc_t s_desc_scan_status =
    DESC (ZS_MSG_SCAN_STATUS, scan_status, false);
static const zs_desc_t s_desc_scan_list =
    DESC (ZS_MSG_SCAN_LIST, scan_list, false);
static const zs_desc_t s_desc_worker_list =
    DESC (ZS_MSG_WORKER_LIST, worker_list, false);
static const zs_desc_t s_desc_workers =
    DESC (ZS_MSG_WORKERS, workers, true);
static const zs_desc_t s_desc_scan_started =
    DESC (ZS_MSG_SCAN_STARTED, scan_started, false);
static const zs_desc_t s_desc_scan_stopped =
    DESC (ZS_MSG_SCAN_STOPPED, scan_stopped, false);
static const zs_desc_t s_desc_scan_info_msg =
    DESC (ZS_MSG_SCAN_INFO, scan_info_msg, false);
static const zs_desc_t s_desc_scans =
    DESC (ZS_MSG_SCANS, scans, true);
static const zs_desc_t s_desc_error =
    DESC (ZS_MSG_ERROR, error, false);

const zs_desc_t *const zs_msg_api_descs[] = {
    &s_desc_scan_start,
    &s_desc_scan_stop,
    &s_desc_scan_status,
    &s_desc_scan_list,
    &s_desc_worker_list,
    &s_desc_workers,
    &s_desc_scan_started,
    &s_desc_scan_stopped,
    &s_desc_scan_info_msg,
    &s_desc_scans,
    &s_desc_error};
const size_t zs_msg_api_ndescs =
    sizeof zs_msg_api_descs / sizeof zs_msg_api_descs[0];

ZS_CODEC_IMPL (scan_start)
ZS_CODEC_IMPL (scan_stop)
ZS_CODEC_IMPL (scan_status)
ZS_CODEC_IMPL (scan_list)
ZS_CODEC_IMPL (worker_list)
ZS_CODEC_IMPL (workers)
ZS_CODEC_IMPL (scan_started)
ZS_CODEC_IMPL (scan_stopped)
ZS_CODEC_IMPL (scan_info_msg)
ZS_CODEC_IMPL (scans)
ZS_CODEC_IMPL (error)

const size_t zs_msg_info_nfields =
    sizeof zs_msg_info_fields / sizeof zs_msg_info_fields[0];
const size_t zs_msg_worker_info_nfields =
    sizeof zs_msg_worker_info_fields / sizeof zs_msg_worker_info_fields[0];
