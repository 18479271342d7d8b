/*  zs_worker.h - a zscan worker process: N scan lanes (threads), each with
    its own sockets to the broker, plus a main thread for hello, heartbeats
    and the control channel.

    Threads never share a socket.  What they share is read-mostly and
    locked where it changes: the data sources, the cancel table, and a few
    atomic counters and flags (stopping, broker epoch).
*/
#ifndef ZS_WORKER_H
#define ZS_WORKER_H

#include "zs_curve.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *id;           /* worker id; unique per process             */
    const char *tasks;        /* broker endpoints to connect to            */
    const char *reports;
    const char *control;
    const char *results_in;
    const char *data;         /* data source URI used when a scan names none */
    int64_t threads;          /* scan lanes                                */
    int64_t heartbeat_ms;
    int64_t prefetch;         /* tasks queued per lane beyond the running one */
    int64_t out_hwm;          /* results high-water mark (then back-pressure) */
    size_t cache_bytes;       /* bars of every source together          */
    size_t prefault_bytes;    /* memory the lanes touch ahead while idle,
                                 for the bars they will cache (0: none)   */
    size_t later_bytes;       /* bars a lane makes for a scan without
                                 keeping them, when its cache lacks them,
                                 and keeps once idle (0: kept at once)   */
    int64_t symbol_delay_us;  /* extra time per symbol (tests, demos)      */
    const char *preload;      /* universe whose bars load before any work  */
    zs_curve_client_t curve;  /* CURVE keys for every socket (off: .on 0)  */
} zs_worker_config_t;

typedef struct zs_worker_t zs_worker_t;

/*  Opens the data source, loads the bars of cfg->preload's universe (when
    set) and prepares the lanes.  NULL with a reason in err when the source
    cannot be opened or the universe is not one.  SIGINT/SIGTERM stop a
    preload early. */
zs_worker_t *zs_worker_new (const zs_worker_config_t *cfg, char *err,
                            size_t errlen);

/*  Runs until SIGINT/SIGTERM (zs_interrupted) or a shutdown from the
    broker: then stops pulling, finishes or returns its batches, says bye.
    Returns 0. */
int zs_worker_run (zs_worker_t *self);

void zs_worker_destroy (zs_worker_t **self_p);

#ifdef __cplusplus
}
#endif

#endif
