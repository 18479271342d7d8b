/*  zs_bconfig.h - the broker's configuration and its handle's type, which
    the public zs_broker.h and the roles' zs_broker_int.h both read. */
#ifndef ZS_BCONFIG_H
#define ZS_BCONFIG_H

#include <stdbool.h>
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

typedef struct zs_broker_t zs_broker_t;

#ifdef __cplusplus
}
#endif

#endif
