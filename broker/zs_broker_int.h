/*  zs_broker_int.h - the broker's state and the calls between its roles
    (private to broker/; see zs_broker.h for the map of files).

    One struct, as in the ZeroMQ guide's Majordomo broker, read and
    written by one thread only; each role's functions take it and touch
    mostly their own part of it.
*/
#ifndef ZS_BROKER_INT_H
#define ZS_BROKER_INT_H

#include "zs_bconfig.h"
#include "zs_bscan.h"
#include "zs_history.h"
#include "zs_bauth.h"
#include "zs_curve.h"
#include "zs_idmap.h"
#include "zs_msg.h"
#include "zs_planner.h"
#include "zs_topic.h"
#include "zs_util.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

/* ---------------------------------------------------------------------- */
/*  Workers and lanes (zs_bwork.c)                                         */

typedef struct {
    char *id;              /* worker id from hello / ready                 */
    char instance[ZS_ID_MAX + 1]; /* its process: a new one retires the old */
    char host[ZS_WORKER_ID_MAX + 1];
    uint32_t pid;
    uint32_t threads;
    char *data;            /* its configured data source                   */
    int64_t last_seen_us;  /* any report or ready                          */
    uint64_t symbols;      /* symbols scanned, from heartbeats             */
    uint32_t busy;         /* lanes holding a task, from heartbeats        */
    bool hello;            /* we have its hello                            */
    char key[ZS_KEY_TEXT]; /* CURVE: the key it first spoke with ("" none) */
    uint64_t seed;         /* its rendezvous hashing seed (from its id)    */
} zs_bworker_t;

typedef struct {
    char *key;             /* "<worker>/<lane>" = its routing id           */
    zs_bworker_t *worker;
    uint32_t lane;
    uint64_t sent;         /* tasks sent to this lane                      */
    uint64_t taken;        /* tasks it says it took                        */
    uint32_t want;         /* queued tasks it wants beyond those           */
    uint64_t last_wseq;    /* last result sequence seen from it            */
    uint32_t holding;      /* tasks sent or started, not yet finished      */
} zs_blane_t;

#define ZS_RATES_MAX 4096      /* definitions whose rate is remembered     */
#define ZS_OUT_ROOM 8          /* header room before a batch's records     */
#define ZS_OUT_RECORDS 1024    /* records in one results-out message       */
#define ZS_OUT_BYTES 262144    /* bytes of records in one, at most         */
#define ZS_SUBS_MAX 65536      /* subscription prefixes remembered         */

/*  A scan_start waiting for its plan: who to answer. */
typedef struct {
    uint64_t tag;
    zmq_msg_t id;          /* the requester's routing id                   */
    bool delimiter;        /* REQ-style empty frame                        */
    uint64_t req;
    bool sync;
} zs_bpending_t;

struct zs_broker_t {
    zs_broker_config_t cfg;
    char instance[16];          /* new at every start                      */
    void *ctx;
    void *api;                  /* ROUTER                                  */
    void *tasks;                /* ROUTER (lanes' DEALERs)                 */
    void *reports;              /* PULL                                    */
    void *control;              /* PUB                                     */
    void *xsub;                 /* results in                              */
    void *xpub;                 /* results out                             */
    char *ipc_dir;              /* where it bound Unix sockets, or NULL    */
    zs_bauth_t *auth;           /* CURVE's key check, or NULL without      */
    bool ipc_made_dir;          /* it made that directory                  */

    zs_planner_t *planner;      /* plans scans in its own thread           */
    zlistx_t *pending;          /* zs_bpending_t*: starts being planned    */
    uint64_t next_tag;
    zs_history_t *history;      /* what results-out carried, per scan      */
    zhashx_t *rates;            /* def key -> double: us per symbol        */
    zs_holders_t *holders;      /* who holds each symbol, per universe     */
    zhashx_t *subs;             /* XPUB prefixes subscribed                */

    zhashx_t *scans;            /* id -> zs_bscan_t*                       */
    zlistx_t *running;          /* zs_bscan_t*, in round-robin order       */
    zlistx_t *finished;         /* zs_bscan_t*, oldest first               */
    zs_idmap_t *tasks_by_id;    /* task id -> zs_btask_t* (sent/started)    */
    zhashx_t *letting_go;       /* "task id" -> scan id, for batches of a
                                   scan that ended while a worker held them */
    uint64_t next_task_id;

    zhashx_t *workers;          /* id -> zs_bworker_t*                     */
    zhashx_t *lanes;            /* key -> zs_blane_t*                      */
    uint64_t *aff_seeds;        /* the workers with lanes, for affinity    */
    size_t aff_cap;

    /* the batches of result records being gathered for results-out, one
       per result topic (0: .r0, 1: .r1): records of one scan, sent as one
       message each when full, when anything else is published, and
       before the broker waits for input; positions are given when they
       are sent (plain results first), so each batch's are consecutive */
    struct {
        char *data;             /* ZS_OUT_ROOM bytes of header room first  */
        size_t size, cap;
        uint32_t count;
        zs_bscan_t *scan;
        size_t last_size;       /* of the last one sent: the next's start  */
    } batch[2];

    /* reusable decode/encode space: nothing allocated once warm */
    zs_result_t result;
    zs_blane_t *last_lane;      /* lane of the last result (a cache)       */
    zs_bscan_t *last_scan;      /* scan of the last result (a cache)       */
    zs_buf_t buf;
    zs_ptrs_t symptrs;          /* symbol pointers of the task being sent  */
    uint64_t hb_tick;
    int64_t next_hb_us;
    int64_t next_sweep_us;

    /* counters for logs */
    uint64_t in_msgs, in_records;    /* results messages from workers    */
    uint64_t out_msgs, out_records;  /* result batches to subscribers    */
    uint64_t replays, replayed;      /* replay pages and records served  */
    uint64_t dropped_dups;
    uint64_t dropped_late;
    uint64_t dropped_foreign;   /* results from a lane not holding the task */
    uint64_t bad_messages;
    int64_t log_window_us;
    int log_budget;
    uint32_t cuts_pending; /* scans cut, not finished yet (zs_life_settle) */
};

/* ---------------------------------------------------------------------- */
/*  zs_bshared.c: beneath every role                                       */

/* The lane of a worker, or NULL. */
zs_blane_t *zs_shared_lane_find (zs_broker_t *self, const char *worker,
                                 uint32_t lane);
/* Forgets a task that is no longer in flight: its lane holds one less. */
void zs_shared_task_release (zs_broker_t *self, zs_btask_t *task);
/*  True when a complaint about a peer may be logged now (at most 20 a
    second: a flood of garbage must not flood the logs); counts it. */
bool zs_shared_may_complain (zs_broker_t *self);
/* The peer address a message came from, for log lines. */
void zs_shared_peer (zmq_msg_t *msg, char *buf, size_t cap);

/* ---------------------------------------------------------------------- */
/*  zs_blife.c: a scan's life                                              */

/*  Starts a scan that waited (planned, held for its subscriber):
    publishes started and dispatches. */
void zs_life_go (zs_broker_t *self, zs_bscan_t *scan);
/*  Ends a scan with reason (the first reason wins; a cut one's is its
    cut's): releases its batches, cancels them on every worker, publishes
    finished, files its signals and rate, and moves it to the finished
    list. */
void zs_life_finish (zs_broker_t *self, zs_bscan_t *scan,
                     zs_end_reason_t reason);
/*  Adopts a planned scan in place of its stand-in (already in the
    tables): it runs, or waits for its subscriber, or ends at once when
    a stop came while it was planned. */
void zs_life_adopt (zs_broker_t *self, zs_bscan_t *stub, zs_bscan_t *scan,
                    bool sync);
/* Removes a stand-in whose planning failed. */
void zs_life_discard (zs_broker_t *self, zs_bscan_t *stub);
/*  Finishes the scans cut since the last call (the loop calls it after
    each message it hands to a role). */
void zs_life_settle (zs_broker_t *self);
/* Starts the held scans that some subscription now covers. */
void zs_life_go_covered (zs_broker_t *self);

/* ---------------------------------------------------------------------- */
/*  zs_bapi.c                                                              */

/* Reads and answers one request on the api socket. */
void zs_api_recv (zs_broker_t *self);
/* Answers the starts whose plans are ready. */
void zs_api_plans (zs_broker_t *self);
/* Frees what waits for plans (shutting down). */
void zs_api_pending_free (zs_broker_t *self);

/* ---------------------------------------------------------------------- */
/*  zs_bwork.c                                                             */

/* Reads one message on the tasks socket (a lane's credit). */
void zs_work_tasks_recv (zs_broker_t *self);
/* Reads one message on the reports socket. */
void zs_work_reports_recv (zs_broker_t *self);
/* Hands out work while some lane has credit and some scan has work. */
void zs_work_dispatch (zs_broker_t *self);
/*  Dead workers, expired leases and grace periods, at now. */
void zs_work_sweep (zs_broker_t *self, int64_t now);

/* ---------------------------------------------------------------------- */
/*  zs_bforward.c                                                          */

/*  Reads one message of results from a worker and forwards its records.
    false when nothing was waiting. */
bool zs_fwd_results_recv (zs_broker_t *self);
/* Sends the result batches gathered so far. */
void zs_fwd_flush (zs_broker_t *self);
/* Lifecycle events of a scan (each a record with its own position). */
void zs_fwd_event_started (zs_broker_t *self, zs_bscan_t *scan);
void zs_fwd_event_progress (zs_broker_t *self, zs_bscan_t *scan,
                            int64_t now);
void zs_fwd_event_finished (zs_broker_t *self, zs_bscan_t *scan,
                            int64_t now);
/*  The broker's own result for a symbol that could not be scanned
    (delivered like a worker's; may cut the scan). */
void zs_fwd_deliver_failure (zs_broker_t *self, zs_bscan_t *scan,
                             uint32_t index, const char *reason);
/*  Reads one subscription message on results-out; true when it added a
    subscription (held scans may now go: zs_life_go_covered). */
bool zs_fwd_subs_recv (zs_broker_t *self);
/*  True when some subscription on results-out covers the scan's records
    (its signals at least): "<scan>.", "<scan>.r1", "", ... */
bool zs_fwd_covered (zs_broker_t *self, const char *scan);

#endif
