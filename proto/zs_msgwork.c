/*  zs_msgwork.c - the workers' channels' messages (PROTOCOL.md: tasks,
    reports, control): credit, tasks, hello and heartbeats, a task's
    start, end and failure, goodbye, cancels, shutdown and the broker's
    heartbeat, as field tables the codec (zs_msgenc.c, zs_msgdec.c)
    reads. */
#include "zs_msg.h"
#include "zs_msg_int.h"

#include <stddef.h>

static const zs_field_t s_ready_fields[] = {
    F (zs_ready_t, "worker", K_WID, REQ, worker),
    F (zs_ready_t, "instance", K_ID, REQ, instance),
    F (zs_ready_t, "lane", K_U32, REQ, lane),
    F (zs_ready_t, "broker", K_ID, OPT, broker),
    F (zs_ready_t, "taken", K_U64, REQ, taken),
    F (zs_ready_t, "want", K_U32, REQ, want)};

static const zs_field_t s_task_fields[] = {
    F (zs_task_t, "scan", K_ID, REQ, scan),
    F (zs_task_t, "task", K_U64, REQ, task),
    F (zs_task_t, "attempt", K_U32, REQ, attempt),
    F (zs_task_t, "broker", K_ID, OPT, broker),
    F (zs_task_t, "def", K_DEF, OPT, def),
    FN (zs_task_t, "symbols", K_TSYMS, REQ, symbols, nsymbols),
    FN (zs_task_t, "index", K_IDX, REQ, index, nsymbols)};

static const zs_field_t s_hello_fields[] = {
    F (zs_hello_t, "worker", K_WID, REQ, worker),
    F (zs_hello_t, "instance", K_ID, REQ, instance),
    F (zs_hello_t, "host", K_WID, REQ, host),
    F (zs_hello_t, "pid", K_U32, REQ, pid),
    F (zs_hello_t, "threads", K_U32, REQ, threads),
    F (zs_hello_t, "data", K_TEXT, OPT, data),
    F (zs_hello_t, "version", K_NAME, OPT, version)};

static const zs_field_t s_heartbeat_fields[] = {
    F (zs_heartbeat_t, "worker", K_WID, REQ, worker),
    F (zs_heartbeat_t, "instance", K_ID, OPT, instance),
    F (zs_heartbeat_t, "busy", K_U32, OPT, busy),
    F (zs_heartbeat_t, "symbols", K_U64, OPT, symbols)};

static const zs_field_t s_task_started_fields[] = {
    F (zs_task_started_t, "worker", K_WID, REQ, worker),
    F (zs_task_started_t, "scan", K_ID, REQ, scan),
    F (zs_task_started_t, "task", K_U64, REQ, task),
    F (zs_task_started_t, "attempt", K_U32, REQ, attempt),
    F (zs_task_started_t, "lane", K_U32, REQ, lane)};

static const zs_field_t s_task_done_fields[] = {
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

static const zs_field_t s_task_failed_fields[] = {
    F (zs_task_failed_t, "worker", K_WID, REQ, worker),
    F (zs_task_failed_t, "scan", K_ID, REQ, scan),
    F (zs_task_failed_t, "task", K_U64, REQ, task),
    F (zs_task_failed_t, "attempt", K_U32, REQ, attempt),
    F (zs_task_failed_t, "lane", K_U32, REQ, lane),
    F (zs_task_failed_t, "reason", K_TEXT, REQ, reason)};

static const zs_field_t s_bye_fields[] = {
    F (zs_bye_t, "worker", K_WID, REQ, worker),
    F (zs_bye_t, "reason", K_TEXT, OPT, reason)};

static const zs_field_t s_cancel_fields[] = {
    F (zs_cancel_t, "scan", K_ID, REQ, scan),
    F (zs_cancel_t, "reason", K_REASON, OPT, reason)};

static const zs_field_t s_shutdown_fields[] = {
    F (zs_shutdown_t, "reason", K_TEXT, OPT, reason)};

static const zs_field_t s_broker_hb_fields[] = {
    F (zs_broker_hb_t, "broker", K_ID, REQ, broker),
    F (zs_broker_hb_t, "tick", K_U64, REQ, tick)};

static const zs_desc_t s_desc_ready =
    DESC (ZS_MSG_READY, ready, false);
static const zs_desc_t s_desc_task =
    DESC (ZS_MSG_TASK, task, true);
static const zs_desc_t s_desc_hello =
    DESC (ZS_MSG_HELLO, hello, false);
static const zs_desc_t s_desc_heartbeat =
    DESC (ZS_MSG_HEARTBEAT, heartbeat, false);
static const zs_desc_t s_desc_task_started =
    DESC (ZS_MSG_TASK_STARTED, task_started, false);
static const zs_desc_t s_desc_task_done =
    DESC (ZS_MSG_TASK_DONE, task_done, false);
static const zs_desc_t s_desc_task_failed =
    DESC (ZS_MSG_TASK_FAILED, task_failed, false);
static const zs_desc_t s_desc_bye =
    DESC (ZS_MSG_BYE, bye, false);
static const zs_desc_t s_desc_cancel =
    DESC (ZS_MSG_CANCEL, cancel, false);
static const zs_desc_t s_desc_shutdown =
    DESC (ZS_MSG_SHUTDOWN, shutdown, false);
static const zs_desc_t s_desc_broker_hb =
    DESC (ZS_MSG_BROKER_HB, broker_hb, false);

const zs_desc_t *const zs_msg_work_descs[] = {
    &s_desc_ready,
    &s_desc_task,
    &s_desc_hello,
    &s_desc_heartbeat,
    &s_desc_task_started,
    &s_desc_task_done,
    &s_desc_task_failed,
    &s_desc_bye,
    &s_desc_cancel,
    &s_desc_shutdown,
    &s_desc_broker_hb};
const size_t zs_msg_work_ndescs =
    sizeof zs_msg_work_descs / sizeof zs_msg_work_descs[0];

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
