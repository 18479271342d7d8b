/*  zs_msg.h - every zscan message: its C form, its msgpack encoding and its
    strict decoder.  proto/ is the only code that knows the wire format;
    proto/PROTOCOL.md is the written spec.

    Every body is one msgpack map with string keys.  Two keys are required
    in every body: "v" (the protocol version, ZS_PROTO_VERSION) and "type"
    (the message type name).  Unknown keys are ignored (forward
    compatibility); everything else is checked: types, required fields,
    lengths, value ranges, duplicate keys, trailing bytes.

    C conventions:
    - String fields are `const char *`, NULL when absent.  To encode, point
      them at your own strings.  A decoder points them into the message
      struct's own buffer (mem_), which it reuses and grows across calls on
      the same struct: decode into one struct in a loop and nothing is
      allocated once it is warm.  zs_msg_free() releases that buffer; it is
      safe on a struct you filled yourself (mem_ is then empty) and twice.
    - Zero-initialise a struct before its first decode ({0}).
    - Encoders append to a zs_buf_t and return 0, or -1 with a reason in
      err when a field is invalid (we never send what we would not accept).
    - Decoders return 0, or -1 with a one-line reason in err; they never
      assert, crash or leak, whatever the input.
*/
#ifndef ZS_MSG_H
#define ZS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZS_PROTO_VERSION 2

/* Limits: a decoder rejects anything larger; an encoder refuses it. */
#define ZS_MSG_MAX         (64u << 20) /* bytes in one body                */
#define ZS_ID_MAX          64      /* scan id: [A-Za-z0-9_-]{1,64}         */
#define ZS_SYMBOL_LEN_MAX  31      /* symbol bytes                         */
#define ZS_NAME_MAX        64      /* strategy, param, indicator names     */
#define ZS_WORKER_ID_MAX   128     /* worker id, host name                 */
#define ZS_TEXT_MAX        1024    /* reasons, error messages, URIs, specs */
#define ZS_FILTER_MAX      4096    /* filter expression bytes              */
#define ZS_PARAMS_MAX      32      /* strategy parameters                  */
#define ZS_VALUES_MAX      32      /* indicator values in one result       */
#define ZS_TASK_SYMBOLS_MAX 65536  /* symbols in one task                  */
#define ZS_UNIVERSE_MAX    2000000 /* symbols in an explicit universe      */
#define ZS_LIST_MAX        4096    /* scans or workers in one list reply   */

/*  The largest frame each socket reads from its peers (ZMQ_MAXMSGSIZE:
    ZeroMQ drops the connection of a peer that sends more, before anything
    is allocated for it).  A request: 2,000,000 symbols of 15 bytes fit.
    A results message: 4,096 results of 4 KB.  A subscription is a topic
    prefix; reports and credit are a few hundred bytes. */
#define ZS_API_MSG_MAX     (32u << 20)
#define ZS_RESULTS_MSG_MAX (16u << 20)
#define ZS_SMALL_MSG_MAX   65536

/* ---------------------------------------------------------------------- */
/*  Buffers                                                                */

typedef struct {
    char *data;  /* bytes; malloc'd, owned by the buffer                  */
    size_t size; /* bytes used                                            */
    size_t cap;  /* bytes allocated                                       */
} zs_buf_t;

/* Empties the buffer, keeping its memory. */
void zs_buf_reset (zs_buf_t *self);
/* Appends len bytes; 0, or -1 when out of memory. */
int zs_buf_append (zs_buf_t *self, const void *data, size_t len);
/* Frees the memory; the buffer is empty and reusable afterwards. */
void zs_buf_free (zs_buf_t *self);

/* A decoder's reusable memory: private, released by zs_msg_free. */
typedef struct {
    char *p;
    size_t cap;
} zs_mem_t;

/* ---------------------------------------------------------------------- */
/*  Message types                                                          */

typedef enum {
    ZS_MSG_UNKNOWN = 0,
    /* api requests: client DEALER -> broker ROUTER */
    ZS_MSG_SCAN_START,     /* "scan_start"       */
    ZS_MSG_SCAN_STOP,      /* "scan_stop"        */
    ZS_MSG_SCAN_STATUS,    /* "scan_status"      */
    ZS_MSG_SCAN_LIST,      /* "scan_list"        */
    ZS_MSG_WORKER_LIST,    /* "worker_list"      */
    /* api replies: broker -> client */
    ZS_MSG_SCAN_STARTED,   /* "scan_started"     */
    ZS_MSG_SCAN_STOPPED,   /* "scan_stopped"     */
    ZS_MSG_SCAN_INFO,      /* "scan_info"        */
    ZS_MSG_SCANS,          /* "scans"            */
    ZS_MSG_WORKERS,        /* "workers"          */
    ZS_MSG_ERROR,          /* "error"            */
    /* tasks: broker ROUTER <-> worker lane DEALER */
    ZS_MSG_READY,          /* "ready"   (lane -> broker) */
    ZS_MSG_TASK,           /* "task"    (broker -> lane) */
    /* reports: worker PUSH -> broker PULL */
    ZS_MSG_HELLO,          /* "hello"            */
    ZS_MSG_HEARTBEAT,      /* "heartbeat"        */
    ZS_MSG_TASK_STARTED,   /* "task_started"     */
    ZS_MSG_TASK_DONE,      /* "task_done"        */
    ZS_MSG_TASK_FAILED,    /* "task_failed"      */
    ZS_MSG_BYE,            /* "bye"              */
    /* control: broker PUB -> worker SUB */
    ZS_MSG_CANCEL,         /* "cancel"           */
    ZS_MSG_SHUTDOWN,       /* "shutdown"         */
    ZS_MSG_BROKER_HB,      /* "broker_heartbeat" */
    /* results bus: worker PUB -> broker XSUB/XPUB -> subscribers */
    ZS_MSG_RESULT,         /* "result"           */
    ZS_MSG_EV_STARTED,     /* "started"          */
    ZS_MSG_EV_PROGRESS,    /* "progress"         */
    ZS_MSG_EV_FINISHED,    /* "finished"         */
    /* history: client DEALER -> broker ROUTER (api) and its reply */
    ZS_MSG_REPLAY,         /* "replay"           */
    ZS_MSG_REPLAY_PAGE,    /* "replay_page"      */
    ZS_MSG_TYPE_COUNT
} zs_msg_type_t;

/* The wire name of a type ("scan_start"...); "unknown" for bad values. */
const char *zs_msg_type_name (zs_msg_type_t type);

/*  Reads only "v" and "type" of a body.  Returns 0 and the type, or -1
    with a reason (not a map, no/unsupported version, unknown type...).
    Use it to dispatch, then call that type's decoder. */
int zs_msg_peek (const void *data, size_t size, zs_msg_type_t *type,
                 char *err, size_t errlen);

/*  Reads only the top-level "req" of a body (requests and their replies
    carry it).  Returns 0 with it, or -1 when there is none or the body is
    malformed. */
int zs_msg_peek_req (const void *data, size_t size, uint64_t *req);

/* ---------------------------------------------------------------------- */
/*  Enumerations carried as strings                                        */

typedef enum {
    ZS_PRIO_GIVEN = 0,   /* "given": universe order as requested          */
    ZS_PRIO_LIQUIDITY,   /* "liquidity": average dollar volume, highest first */
    ZS_PRIO_SIGNALS      /* "signals": last scan's signals first          */
} zs_priority_t;

typedef enum {
    ZS_END_NONE = 0,     /* "" : still running                            */
    ZS_END_COMPLETED,    /* "completed": every symbol has a result        */
    ZS_END_MAX_SIGNALS,  /* "max_signals"                                 */
    ZS_END_MAX_SYMBOLS,  /* "max_symbols"                                 */
    ZS_END_TIMEOUT,      /* "timeout"                                     */
    ZS_END_STOPPED,      /* "stopped": a client asked                      */
    ZS_END_FAILED        /* "failed": the scan could not run              */
} zs_end_reason_t;

typedef enum {
    ZS_STATE_RUNNING = 0, /* "running" (or held for its subscriber)       */
    ZS_STATE_FINISHED,    /* "finished"                                   */
    ZS_STATE_PLANNING     /* "planning": its universe is being expanded
                             and ordered, off the broker's loop          */
} zs_scan_state_t;

/*  Which records of a scan a subscriber or a replay covers. */
typedef enum {
    ZS_VIEW_ALL = 0,      /* "all": results, signals and events           */
    ZS_VIEW_SIGNALS,      /* "signals": signals and events                */
    ZS_VIEW_EVENTS        /* "events": events only                        */
} zs_view_t;

const char *zs_priority_name (zs_priority_t p);
int zs_priority_parse (const char *s, zs_priority_t *p);   /* 0 or -1 */
const char *zs_end_reason_name (zs_end_reason_t r);
int zs_end_reason_parse (const char *s, zs_end_reason_t *r);
const char *zs_scan_state_name (zs_scan_state_t s);
int zs_scan_state_parse (const char *s, zs_scan_state_t *st);
const char *zs_view_name (zs_view_t v);
int zs_view_parse (const char *s, zs_view_t *v);

/* True when s is a valid scan id: [A-Za-z0-9_-]{1,ZS_ID_MAX}. */
bool zs_scan_id_valid (const char *s);
/* True when s is a valid symbol: [A-Za-z0-9._^-]{1,ZS_SYMBOL_LEN_MAX}. */
bool zs_symbol_ok (const char *s);

/* ---------------------------------------------------------------------- */
/*  Shared parts                                                           */

/*  What a scan computes.  Exactly one of strategy / filter is set, or
    neither (the engine's default strategy).  data NULL = the workers'
    configured data source.  On the wire: a map {"data", "strategy",
    "params": {name: number}, "filter"}. */
typedef struct {
    const char *data;                    /* data source URI, optional     */
    const char *strategy;                /* built-in strategy name        */
    const char *filter;                  /* filter expression             */
    size_t nparams;                      /* strategy parameters           */
    const char *pnames[ZS_PARAMS_MAX];
    double pvalues[ZS_PARAMS_MAX];
} zs_scan_def_t;

/*  A scan's live statistics, as status replies, list replies and the
    gateway report them. */
typedef struct {
    const char *scan;         /* scan id                                   */
    zs_scan_state_t state;
    zs_end_reason_t reason;   /* ZS_END_NONE while running                 */
    zs_scan_def_t def;
    const char *universe;     /* the universe spec, or "explicit"          */
    zs_priority_t priority;
    uint64_t max_signals;     /* 0 = no cap                                */
    uint64_t max_symbols;     /* 0 = no cap                                */
    double timeout_seconds;   /* 0 = none                                  */
    uint64_t total;           /* symbols in the universe                   */
    uint64_t done;            /* symbols with a delivered result (= results) */
    uint64_t signals;         /* delivered results that are signals        */
    uint64_t failed;          /* delivered results that are failures       */
    uint64_t unscanned;       /* total - done (known once finished)        */
    uint64_t seq;             /* last position published (its records are
                                 1..seq)                                   */
    uint32_t busy;            /* workers holding a batch of this scan      */
    double started_at;        /* unix time, seconds                        */
    double elapsed;           /* seconds since start (or until finish)     */
    double rate;              /* symbols per second so far                 */
    double eta;               /* seconds left at that rate; -1 unknown     */
    double first_result_ms;   /* request to first result; -1 none yet      */
    double idle_ms;           /* from its end to the last worker letting go
                                 of its batches; -1 running or pending     */
} zs_scan_info_t;

/* ---------------------------------------------------------------------- */
/*  api requests (client -> broker); "req" is echoed in the reply          */

typedef struct {
    uint64_t req;             /* request id, echoed; 0 = none              */
    const char *scan;         /* id chosen by the client; NULL = broker's  */
    const char *universe;     /* spec: synthetic:N, all, file:P, list:A,B  */
    size_t nsymbols;          /* explicit universe; overrides universe     */
    const char **symbols;
    zs_scan_def_t def;
    uint32_t batch;           /* batch size hint; 0 = adaptive             */
    zs_priority_t priority;
    uint64_t max_signals;     /* 0 = none                                  */
    uint64_t max_symbols;     /* 0 = none                                  */
    double timeout_seconds;   /* 0 = none                                  */
    bool sync;                /* the client subscribed to "<scan>." first:
                                 hold the scan until the broker's XPUB has
                                 seen that subscription (at most 1 s)      */
    zs_mem_t mem_;
} zs_scan_start_t;

typedef struct {
    uint64_t req;
    const char *scan;
    zs_end_reason_t reason;   /* why; ZS_END_NONE on the wire = "stopped"  */
    zs_mem_t mem_;
} zs_scan_stop_t;

typedef struct {
    uint64_t req;
    const char *scan;
    zs_mem_t mem_;
} zs_scan_status_t;

typedef struct {
    uint64_t req;
    bool all;                 /* include finished scans still remembered   */
    zs_mem_t mem_;
} zs_scan_list_t;

typedef struct {
    uint64_t req;
    zs_mem_t mem_;
} zs_worker_list_t;

/* ---------------------------------------------------------------------- */
/*  api replies (broker -> client)                                         */

typedef struct {
    uint64_t req;
    const char *scan;         /* the scan's id                             */
    uint64_t total;           /* symbols in its universe                   */
    uint64_t seq;             /* position of its started event (1)         */
    const char *broker;       /* the broker instance; optional             */
    zs_mem_t mem_;
} zs_scan_started_t;

typedef struct {
    uint64_t req;
    const char *scan;
    zs_scan_state_t state;    /* finished, unless the stop is still going  */
    zs_end_reason_t reason;   /* the reason it ended with (first one wins) */
    zs_mem_t mem_;
} zs_scan_stopped_t;

typedef struct {
    uint64_t req;
    const char *broker;       /* the broker instance; optional             */
    zs_scan_info_t info;
    zs_mem_t mem_;
} zs_scan_info_msg_t;

typedef struct {
    uint64_t req;
    size_t nscans;
    zs_scan_info_t *scans;    /* decoded: in mem_; encode: yours           */
    zs_mem_t mem_;
} zs_scans_t;

/*  A worker as the broker sees it (from its hello and heartbeats). */
typedef struct {
    const char *worker;       /* worker id                                 */
    const char *host;
    const char *data;         /* its configured data source; optional      */
    uint32_t pid;
    uint32_t threads;         /* lanes it said it runs                     */
    uint32_t lanes;           /* lanes that asked the broker for work      */
    uint32_t busy;            /* lanes holding a task, per its heartbeat   */
    uint64_t symbols;         /* symbols it scanned since it started       */
    double silent_ms;         /* since the broker last heard from it       */
} zs_worker_info_t;

typedef struct {
    uint64_t req;
    size_t nworkers;
    zs_worker_info_t *workers; /* decoded: in mem_; encode: yours          */
    zs_mem_t mem_;
} zs_workers_t;

/* Error codes follow HTTP status meanings so the gateway can pass them on. */
#define ZS_ERR_BAD_REQUEST 400  /* malformed or invalid request            */
#define ZS_ERR_FORBIDDEN   403  /* CURVE: this key may only read            */
#define ZS_ERR_NOT_FOUND   404  /* unknown scan                            */
#define ZS_ERR_CONFLICT    409  /* scan id already in use                  */
#define ZS_ERR_UNPROCESSABLE 422 /* bad expression, universe or data source */
#define ZS_ERR_BUSY        503  /* too many scans, no capacity             */
#define ZS_ERR_VERSION     505  /* unsupported protocol version            */
#define ZS_ERR_INTERNAL    500

typedef struct {
    uint64_t req;
    uint32_t code;            /* ZS_ERR_*                                  */
    const char *message;      /* one line for humans                       */
    zs_mem_t mem_;
} zs_error_t;

/* ---------------------------------------------------------------------- */
/*  tasks channel: broker ROUTER <-> one DEALER per worker lane            */

/*  Credit: "I have taken `taken` tasks from the broker instance `broker`;
    keep up to `want` more queued for me."  The broker, having sent `sent`
    tasks to this lane, may send want - (sent - taken) more.  Absolute
    counts make duplicates and re-sends harmless. */
typedef struct {
    const char *worker;       /* worker id (as in hello)                   */
    const char *instance;     /* the worker process's instance (as in hello) */
    uint32_t lane;            /* lane number within the worker, from 0     */
    const char *broker;       /* broker instance counted against; optional */
    uint64_t taken;           /* tasks received from that broker instance  */
    uint32_t want;            /* queued tasks wanted beyond those          */
    zs_mem_t mem_;
} zs_ready_t;

typedef struct {
    const char *scan;
    uint64_t task;            /* unique per broker run                     */
    uint32_t attempt;         /* 1 for the first dispatch                  */
    const char *broker;       /* broker instance id (see broker_heartbeat) */
    zs_scan_def_t def;
    size_t nsymbols;          /* 1..ZS_TASK_SYMBOLS_MAX                     */
    const char **symbols;
    uint32_t *index;          /* each symbol's index in the scan's universe */
    zs_mem_t mem_;
} zs_task_t;

/* ---------------------------------------------------------------------- */
/*  reports (worker -> broker)                                             */

typedef struct {
    const char *worker;       /* worker id, unique per process             */
    const char *instance;     /* new at every start of the process: a hello
                                 with a new one retires the old process   */
    const char *host;
    uint32_t pid;
    uint32_t threads;         /* scan lanes                                */
    const char *data;         /* configured data source URI                */
    const char *version;      /* software version                          */
    zs_mem_t mem_;
} zs_hello_t;

typedef struct {
    const char *worker;
    const char *instance;     /* as in hello; optional                     */
    uint32_t busy;            /* lanes holding a task                      */
    uint64_t symbols;         /* symbols scanned since start               */
    zs_mem_t mem_;
} zs_heartbeat_t;

typedef struct {
    const char *worker;
    const char *scan;
    uint64_t task;
    uint32_t attempt;
    uint32_t lane;            /* the worker thread that took it            */
    zs_mem_t mem_;
} zs_task_started_t;

typedef struct {
    const char *worker;
    const char *scan;
    uint64_t task;
    uint32_t attempt;
    uint32_t lane;
    uint32_t results;         /* results published for this task           */
    uint32_t signals;         /* of which signals                          */
    uint32_t errors;          /* of which failed symbols                   */
    bool returned;            /* stopped early (cancel, shutdown): the broker
                                 re-queues what has no result yet          */
    uint64_t first_wseq;      /* lane sequence of its first result (0: none) */
    uint64_t last_wseq;       /* lane sequence of its last result          */
    double elapsed_us;        /* wall time spent on it                     */
    zs_mem_t mem_;
} zs_task_done_t;

typedef struct {
    const char *worker;
    const char *scan;
    uint64_t task;
    uint32_t attempt;
    uint32_t lane;
    const char *reason;
    zs_mem_t mem_;
} zs_task_failed_t;

typedef struct {
    const char *worker;
    const char *reason;       /* e.g. "SIGTERM"                            */
    zs_mem_t mem_;
} zs_bye_t;

/* ---------------------------------------------------------------------- */
/*  control (broker -> workers)                                            */

typedef struct {
    const char *scan;
    zs_end_reason_t reason;
    zs_mem_t mem_;
} zs_cancel_t;

typedef struct {
    const char *reason;
    zs_mem_t mem_;
} zs_shutdown_t;

typedef struct {
    const char *broker;       /* instance id, new at every broker start    */
    uint64_t tick;            /* counts heartbeats                         */
    zs_mem_t mem_;
} zs_broker_hb_t;

/* ---------------------------------------------------------------------- */
/*  results bus                                                            */

typedef struct {
    const char *name;         /* e.g. "rsi14", "sma(50)"                   */
    double value;             /* NAN when undefined (nil on the wire)      */
} zs_value_t;

typedef struct {
    const char *scan;
    uint32_t index;           /* symbol's index in the scan's universe     */
    const char *symbol;
    bool signal;
    double score;             /* NAN = none (nil)                          */
    const char *time;         /* bar time as the source gave it; optional  */
    double price;             /* last close; NAN = none                    */
    size_t nvalues;
    zs_value_t values[ZS_VALUES_MAX];
    const char *error;        /* the symbol failed: reason; else NULL      */
    const char *note;         /* e.g. "insufficient history"; optional     */
    const char *worker;       /* who computed it                           */
    uint32_t lane;
    uint64_t wseq;            /* per (worker, lane) sequence, from 1       */
    uint64_t task;
    uint32_t attempt;
    zs_mem_t mem_;
} zs_result_t;  /* a new field: reset it in zs_msg.c's s_result_fast too */

typedef struct {
    const char *scan;
    uint64_t total;
    zs_scan_def_t def;
    const char *universe;
    zs_priority_t priority;
    uint64_t max_signals;
    uint64_t max_symbols;
    double timeout_seconds;
    double time;              /* unix time the scan started                */
    zs_mem_t mem_;
} zs_ev_started_t;

typedef struct {
    const char *scan;
    uint64_t total;
    uint64_t done;
    uint64_t signals;
    uint64_t failed;
    uint32_t busy;
    double elapsed;
    double rate;
    double eta;               /* -1 unknown                                */
    zs_mem_t mem_;
} zs_ev_progress_t;

typedef struct {
    const char *scan;
    zs_end_reason_t reason;
    uint64_t total;
    uint64_t scanned;         /* results that are not failures             */
    uint64_t signals;
    uint64_t results;         /* results delivered                         */
    uint64_t failed;
    uint64_t unscanned;       /* symbols never delivered: work saved       */
    double elapsed;
    double first_result_ms;   /* -1 when there was none                    */
    zs_mem_t mem_;
} zs_ev_finished_t;

/* ---------------------------------------------------------------------- */
/*  history (api): a scan's records from a position                        */

/*  "Send me the records of scan after position `after` (0: from its
    start), at most `limit` of them (0: the broker's page size), of view." */
typedef struct {
    uint64_t req;
    const char *scan;
    uint64_t after;
    uint32_t limit;
    zs_view_t view;
    zs_mem_t mem_;
} zs_replay_t;

/*  The first frame of the reply to a replay; `count` messages follow it,
    each three frames [topic, position, body] exactly as on results-out. */
typedef struct {
    uint64_t req;
    const char *scan;
    const char *broker;       /* the broker instance                       */
    zs_scan_state_t state;
    uint64_t first;           /* earliest position the history still holds
                                 (head + 1 when it holds none)             */
    uint64_t head;            /* last position published so far            */
    uint64_t next;            /* ask after this for the rest: the last
                                 position this page covers                 */
    uint32_t count;           /* messages that follow                      */
    bool done;                /* the scan finished and next == head: there
                                 is nothing more, ever                     */
    zs_mem_t mem_;
} zs_replay_page_t;

/* ---------------------------------------------------------------------- */
/*  Encoders and decoders, one pair per message type                       */

#define ZS_MSG_CODEC(name)                                                 \
    int zs_##name##_encode (const zs_##name##_t *m, zs_buf_t *out,         \
                            char *err, size_t errlen);                     \
    int zs_##name##_decode (const void *data, size_t size,                 \
                            zs_##name##_t *m, char *err, size_t errlen);

ZS_MSG_CODEC (scan_start)
ZS_MSG_CODEC (scan_stop)
ZS_MSG_CODEC (scan_status)
ZS_MSG_CODEC (scan_list)
ZS_MSG_CODEC (worker_list)
ZS_MSG_CODEC (scan_started)
ZS_MSG_CODEC (scan_stopped)
ZS_MSG_CODEC (scan_info_msg)
ZS_MSG_CODEC (scans)
ZS_MSG_CODEC (workers)
ZS_MSG_CODEC (error)
ZS_MSG_CODEC (ready)
ZS_MSG_CODEC (task)
ZS_MSG_CODEC (hello)
ZS_MSG_CODEC (heartbeat)
ZS_MSG_CODEC (task_started)
ZS_MSG_CODEC (task_done)
ZS_MSG_CODEC (task_failed)
ZS_MSG_CODEC (bye)
ZS_MSG_CODEC (cancel)
ZS_MSG_CODEC (shutdown)
ZS_MSG_CODEC (broker_hb)
ZS_MSG_CODEC (result)
ZS_MSG_CODEC (ev_started)
ZS_MSG_CODEC (ev_progress)
ZS_MSG_CODEC (ev_finished)
ZS_MSG_CODEC (replay)
ZS_MSG_CODEC (replay_page)

#undef ZS_MSG_CODEC

/*  The table-driven encoder of any type, m pointing to that type's
    struct.  The per-type encoders above are the same function, except
    where a faster hand-written equivalent exists (result): tests check
    that both give the same bytes. */
int zs_msg_encode_generic (zs_msg_type_t type, const void *m, zs_buf_t *out,
                           char *err, size_t errlen);

/*  Encoding many results that share scan, worker, lane, task and attempt
    (a lane's task): those checked and written once by zs_result_enc_init,
    then zs_result_encode_with writes each result - the very bytes
    zs_result_encode gives - taking those five fields from the encoder, not
    from r. */
typedef struct {
    uint8_t head[96];   /* "v", "type", "scan"                            */
    uint8_t tail[160];  /* "worker", "lane" (when not 0)                  */
    uint8_t task[32];   /* "task", "attempt" (each when not 0), after wseq */
    uint16_t head_len, tail_len, task_len;
    uint8_t fields;     /* map entries in those                           */
    char why[160];      /* private: a deferred fault                      */
} zs_result_enc_t;

int zs_result_enc_init (zs_result_enc_t *e, const char *scan,
                        const char *worker, uint32_t lane, uint64_t task,
                        uint32_t attempt, char *err, size_t errlen);
int zs_result_encode_with (const zs_result_enc_t *e, const zs_result_t *r,
                           zs_buf_t *out, char *err, size_t errlen);

/*  The table-driven decoder of a result.  zs_result_decode reads the
    common shape of a result in one pass of its own and leaves everything
    else to this one; tests check that both accept the same results with
    the same values, and refuse the same with the same reasons. */
int zs_result_decode_generic (const void *data, size_t size, zs_result_t *m,
                              char *err, size_t errlen);

/*  Releases the decoder memory of any message struct above, given the
    address of its mem_ member: zs_msg_free (&m.mem_). */
void zs_msg_free (zs_mem_t *mem);

/*  The position frame the broker puts between topic and body on
    results-out: a msgpack array of three uints [pos, signals, events] -
    the position of the body's first record in its scan (every record of a
    scan, result or event, has one, from 1, without gaps; a batch's
    records have pos, pos+1, ...), and how many signals and how many
    events of the scan came before it.  A subscriber to part of a scan
    (signals and events, say) checks with the counts that it missed
    nothing.  Encode writes it into buf (at least ZS_POS_MAX bytes) and
    returns its length; decode returns 0, or -1 when the frame is not
    exactly that (or signals + events >= pos). */
typedef struct {
    uint64_t pos;
    uint64_t signals;
    uint64_t events;
} zs_pos_t;
#define ZS_POS_MAX 28
size_t zs_pos_encode (const zs_pos_t *pos, unsigned char *buf);
int zs_pos_decode (const void *data, size_t size, zs_pos_t *pos);

/* ---------------------------------------------------------------------- */
/*  Record batches                                                         */

/*  A results body (a worker's frame to the broker, or the broker's body
    frame on results-out) holds one record - a map - or a batch of records:
    an array of 1..ZS_BATCH_MAX maps.  On results-out the records of a
    batch share the message's topic and have consecutive sequence numbers
    from the message's seq frame. */
#define ZS_BATCH_MAX 4096

/*  What zscan's own lanes send: at most this many results per message (the
    broker counts its input high-water mark in such messages). */
#define ZS_LANE_BATCH 1024

typedef struct {
    const unsigned char *p;   /* next record                              */
    const unsigned char *end;
    uint32_t left;            /* records not yet returned                 */
} zs_recs_t;

/*  Starts iterating the records of a body.  Returns how many it holds
    (>= 1), or -1 with a reason (empty, not a map or an array, too many). */
int zs_recs_init (zs_recs_t *it, const void *data, size_t size, char *err,
                  size_t errlen);

/*  The next record's bytes (a whole msgpack map, to give to zs_msg_peek or
    a decoder).  Returns 1, 0 after the last one, or -1 with a reason (an
    element that is not a map, truncated, bytes after the last record);
    after -1 the iteration is over. */
int zs_recs_next (zs_recs_t *it, const void **rec, size_t *len, char *err,
                  size_t errlen);

/*  zs_recs_next, then zs_result_decode of the record, in one pass for the
    common shape of a result.  Returns 1 (a result in m, its bytes in
    *rec, *len), 0 after the last record, -1 with a reason when the body
    is broken (the iteration is over), or -2 with a reason when this record
    is not a valid result (the iteration goes on with the next one). */
int zs_recs_next_result (zs_recs_t *it, zs_result_t *m, const void **rec,
                         size_t *len, char *err, size_t errlen);

/*  Writes the array header of a batch of n records (1 <= n <=
    ZS_BATCH_MAX) into buf (at least 5 bytes) and returns its length. */
size_t zs_recs_header (uint32_t n, unsigned char *buf);

/*  A batch built in place, as a lane builds its own: zs_recs_open empties
    buf and keeps room for the array header (0, or -1 out of memory); the
    records are then appended to buf; zs_recs_close writes the header of
    the n records (1 <= n <= ZS_BATCH_MAX) just before them and returns
    where the batch starts, its length in *len. */
int zs_recs_open (zs_buf_t *buf);
const char *zs_recs_close (zs_buf_t *buf, uint32_t n, size_t *len);

/* ---------------------------------------------------------------------- */
/*  Records for msgpack clients (the gateway's ?format=msgpack)            */

/*  Appends to out the map {"type": type, "seq": pos, "data": record}: the
    shape of the JSON records, with the broker's record bytes (one msgpack
    map, as results-out carried it) as data, unchanged.  0, or -1 out of
    memory (out is then unchanged). */
int zs_envelope_encode (zs_buf_t *out, const char *type, uint64_t pos,
                        const void *record, size_t size);

/*  The same for a notice of records lost before position to: {"type":
    "lost", "seq": to, "data": {"scan", "from", "to", "reason"}}. */
int zs_envelope_lost (zs_buf_t *out, const char *scan, uint64_t from,
                      uint64_t to, const char *reason);

#ifdef __cplusplus
}
#endif

#endif
