/*  zs_broker.h - the zscan broker: owns scans, feeds batches to worker
    lanes by credit, tracks leases and liveness, forwards results with
    duplicates removed, one position per record of a scan and each scan's
    cut, keeps what it forwarded in a bounded history and serves replays.

    One thread owns every socket; zs_broker_run polls and dispatches.
    Planning (expanding and ordering a universe) runs in a thread of its
    own (zs_planner.h).  The roles live in their own files:

        zs_broker.c     construction, the loop, timers, a scan's life
        zs_bapi.c       the api: requests, replies, replays
        zs_bwork.c      workers and lanes: credit, dispatch, reports,
                        leases and liveness
        zs_bforward.c   results in -> results out: checks, duplicates,
                        positions, batches, cuts, events, history
        zs_history.c    the bounded history of what was forwarded
        zs_planner.c    the planning thread
        zs_bscan.c      one scan's bookkeeping (no sockets)

    See proto/PROTOCOL.md for the sockets, messages and flows.
*/
#ifndef ZS_BROKER_H
#define ZS_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *api;          /* ROUTER bind endpoint                      */
    const char *tasks;        /* ROUTER bind endpoint (worker lanes)       */
    const char *reports;      /* PULL bind endpoint                        */
    const char *control;      /* PUB bind endpoint                         */
    const char *results_in;   /* XSUB bind endpoint                        */
    const char *results_out;  /* XPUB bind endpoint                        */
    const char *ipc_dir;      /* also bind each at ipc://DIR/NAME; or NULL */
    const char *data;         /* default data source URI                   */
    const char *universe;     /* default universe spec                     */
    int64_t heartbeat_ms;     /* control heartbeat interval                */
    int64_t liveness_ms;      /* worker silent this long is dead           */
    int64_t lease_ms;         /* a started batch must be done within this  */
    int64_t start_lease_ms;   /* a sent batch must be started within this  */
    int64_t grace_ms;         /* wait for in-flight results after done     */
    int64_t max_attempts;     /* attempts per batch before symbols fail    */
    double batch_ms;          /* target duration of one batch              */
    int64_t batch_min;        /* smallest adaptive batch                   */
    int64_t batch_max;        /* largest batch                             */
    int64_t progress_ms;      /* progress event interval per scan          */
    int64_t max_scans;        /* running scans at once                     */
    int64_t keep_finished;    /* finished scans remembered for status      */
    int64_t sync_wait_ms;     /* longest hold waiting for a subscriber     */
    int64_t out_hwm;          /* results-out: messages queued per
                                 subscriber, past which that subscriber
                                 alone loses messages (it fills the gap
                                 from the history)                         */
    int64_t history_mb;       /* memory for the history of every scan      */
    int64_t replay_records;   /* records in one replay page, at most       */
    const char *list_dir;     /* file: universes only from under here      */
    bool stop_workers;        /* broadcast shutdown when the broker exits  */
    const char *curve_cert;   /* CURVE: the broker's certificate (secret)  */
    const char *curve_allow;  /* ... keys allowed everything (a directory) */
    const char *curve_read;   /* ... keys that may only read, or NULL      */
    bool plaintext;           /* bind beyond loopback without CURVE        */
} zs_broker_config_t;

/* Fills cfg with the defaults (ports 5555..5560 on all interfaces). */
void zs_broker_config_defaults (zs_broker_config_t *cfg);

typedef struct zs_broker_t zs_broker_t;

/*  Binds every socket and opens the default data source.  Returns NULL
    with a reason in err (an endpoint in use, a bad data source). */
zs_broker_t *zs_broker_new (const zs_broker_config_t *cfg, char *err,
                            size_t errlen);

/*  Serves until zs_interrupted is set (SIGINT/SIGTERM), then finishes the
    running scans (reason "failed": broker shutting down) and returns 0. */
int zs_broker_run (zs_broker_t *self);

/* Closes every socket and frees every scan. */
void zs_broker_destroy (zs_broker_t **self_p);

#ifdef __cplusplus
}
#endif

#endif
