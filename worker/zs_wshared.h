/*  zs_wshared.h - what a worker's threads share: configuration, the data
    sources, the table of cancelled scans and a few atomic flags.  */
#ifndef ZS_WSHARED_H
#define ZS_WSHARED_H

#include "zs_cache.h"
#include "zs_engine.h"
#include "zs_worker.h"

#include <czmq.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define ZS_CANCEL_SLOTS 256
#define ZS_IDLE_SOURCES 4        /* unused sources kept open, at most      */
#define ZS_SOURCE_IDLE_US 60000000 /* an unused source closes after this   */

/*  A data source other than the worker's default, opened for a task that
    named it, and how many lanes use it now. */
typedef struct {
    char *uri;
    zs_source_t *src;
    int users;
    int64_t used_us;
} zs_wsource_t;

typedef struct {
    zs_worker_config_t cfg;
    char id[160];                 /* worker id                             */
    char instance[16];            /* this process's instance: new at every
                                     start, so the broker can tell a
                                     restarted worker of the same id       */
    void *ctx;                    /* one ZeroMQ context for every thread   */
    zs_cache_t *cache;            /* the bars of every source: one budget  */
    zs_source_t *default_source;
    pthread_mutex_t lock;         /* guards sources and cancelled          */
    zlistx_t *sources;            /* zs_wsource_t*: other sources opened,
                                     least recently used first             */
    char cancelled[ZS_CANCEL_SLOTS][72]; /* ring of cancelled scan ids     */
    size_t cancel_next;
    atomic_uint_fast64_t cancel_gen;  /* bumped at every cancel            */
    atomic_int stopping;          /* stop pulling; finish or return        */
    atomic_uint_fast64_t epoch;   /* bumped when a new broker appears      */
    atomic_uint_fast64_t symbols; /* scanned since start                   */
    atomic_int busy;              /* lanes holding a task                  */
} zs_wshared_t;

/* Records scan as cancelled (lanes see it at their next symbol). */
void zs_wshared_cancel (zs_wshared_t *self, const char *scan);
/* True when scan was cancelled. */
bool zs_wshared_is_cancelled (zs_wshared_t *self, const char *scan);

/*  The source for uri (NULL/empty = the worker's default), opened once
    and shared by the lanes that use it; NULL with a reason when it cannot
    be opened.  Give it back with zs_wshared_source_done when the task is
    over: a source no lane uses is closed (its bars leave the cache) when
    more than ZS_IDLE_SOURCES are idle or it was idle for a minute, so
    the sources a worker keeps are bounded whatever URIs tasks name. */
zs_source_t *zs_wshared_source (zs_wshared_t *self, const char *uri,
                                char *err, size_t errlen);
void zs_wshared_source_done (zs_wshared_t *self, zs_source_t *src);
/* Closes every source but the default (the worker is stopping). */
void zs_wshared_sources_close (zs_wshared_t *self);

/* The lane thread's body; arg is a zs_lane_arg_t. */
typedef struct {
    zs_wshared_t *shared;
    uint32_t lane;
    void *wake;        /* the worker's end of a PAIR: a message there ends
                          the lane's wait at once (it is stopping)       */
    char wake_ep[64];  /* where the lane connects its end                */
} zs_lane_arg_t;
void *zs_lane_main (void *arg);

#endif
