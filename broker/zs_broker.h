/*  zs_broker.h - the zscan broker: owns scans, feeds batches to worker
    lanes by credit, tracks leases and liveness, forwards results with
    duplicates removed, one position per record of a scan and each scan's
    cut, keeps what it forwarded in a bounded history and serves replays.

    One thread owns every socket; zs_broker_run polls and dispatches.
    Planning (expanding and ordering a universe) runs in a thread of its
    own (zs_planner.h).  The roles live in their own files:

        zs_broker.c     construction, the loop, timers
        zs_bapi.c       the api: requests, replies, replays
        zs_blife.c      a scan's life: adopted from its plan, held,
                        started, finished (its cut applied)
        zs_bwork.c      workers and lanes: credit, dispatch, reports,
                        leases and liveness
        zs_bforward.c   results in -> results out: checks, duplicates,
                        positions, batches, cuts, events, history
        zs_bshared.c    what those roles share: a lane found, a task
                        released, a peer named, complaints rate-limited
        zs_history.c    the bounded history of what was forwarded
        zs_planner.c    the planning thread
        zs_bscan.c      one scan's bookkeeping (no sockets)

    Each calls only those listed below it (and the loop all of them): a
    result that cuts its scan marks it, and the loop finishes it once the
    message is handled (zs_life_settle).

    See proto/PROTOCOL.md for the sockets, messages and flows.
*/
#ifndef ZS_BROKER_H
#define ZS_BROKER_H

#include "zs_bconfig.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fills cfg with the defaults (ports 5555..5560 on all interfaces). */
void zs_broker_config_defaults (zs_broker_config_t *cfg);

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
