/*  zs_planner.h - plans scans off the broker's loop: compiles the
    definition, expands the universe (a list file, every symbol of a CSV
    directory, ten million synthetic names) and orders it by priority, in
    a thread of its own, so that heartbeats, leases, dispatch and every
    other request keep going meanwhile (a liquidity ordering of 100,000
    symbols once stopped the loop for 4.4 s and cost two live workers).

    The broker hands a request over (zs_planner_submit) and keeps a
    stand-in scan in state "planning"; the finished plan comes back on
    the planner's socket (zs_planner_recv).  The planner owns what
    planning needs and nobody else touches: the data sources it opened
    (a few, least recently used closed first) and the last signals of
    each definition for "signals first" (bounded in definitions and
    symbols).  One inproc PAIR socket joins the two threads; what crosses
    it is a pointer whose ownership moves with it.
*/
#ifndef ZS_PLANNER_H
#define ZS_PLANNER_H

#include "zs_bscan.h"
#include "zs_msg.h"

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zs_planner_t zs_planner_t;

typedef struct {
    const char *data;             /* default data source URI             */
    const char *universe;         /* default universe spec               */
    const char *list_dir;         /* file: universes from here; NULL off */
    size_t list_max_bytes;        /* largest list file                   */
    size_t max_sources;           /* data sources kept open              */
    size_t signal_defs;           /* definitions whose signals are kept  */
    size_t signal_symbols;        /* symbols kept over all of them       */
} zs_planner_config_t;

/*  Starts the planner thread; its end of the pair is bound on ctx.
    NULL with a reason (the default data source cannot be opened...). */
zs_planner_t *zs_planner_new (void *ctx, const zs_planner_config_t *cfg,
                              char *err, size_t errlen);

/* Stops the thread and frees everything, plans in flight included. */
void zs_planner_destroy (zs_planner_t **self_p);

/* The socket to poll for finished plans (the broker's end). */
void *zs_planner_socket (zs_planner_t *self);

/*  Plans scan id from req.  Takes req (a heap struct the caller decoded
    into; the planner frees it).  tag comes back with the plan.  0, or -1
    when the planner cannot take it (req is then still the caller's). */
int zs_planner_submit (zs_planner_t *self, const char *id,
                       zs_scan_start_t *req, uint64_t tag);

/*  A finished plan: scan (the caller's) or NULL with a reason in err.
    code is the error code to answer with (ZS_ERR_*). */
typedef struct {
    char id[ZS_ID_MAX + 1];
    uint64_t tag;
    zs_bscan_t *scan;
    uint32_t code;
    char err[ZS_TEXT_MAX];
    double planned_ms;            /* time the planning took              */
} zs_plan_t;

/*  Takes one finished plan off the socket without waiting.  1 with out
    filled, 0 when none is ready. */
int zs_planner_recv (zs_planner_t *self, zs_plan_t *out);

/*  Files a finished scan's signals (set: symbol -> non-NULL, taken) as
    the last signals of def_key, for the next "signals first" scan. */
void zs_planner_remember (zs_planner_t *self, const char *def_key,
                          zhashx_t *set);

/* Sources and definitions the planner holds (for tests and logs). */
void zs_planner_counts (zs_planner_t *self, size_t *sources, size_t *defs);

#endif
