/*  zs_bscan.h - one scan as the broker keeps it: the universe in priority
    order, which symbols have a delivered result, which task is responsible
    for each symbol still missing, the queue of batches, and the counters
    its events report.  No sockets here: the broker's roles (see
    zs_broker.h) do the talking.

    Task lifecycle: cut (or taken from the front of the retry queue) by
    zs_bscan_next_task -> in flight (sent, started, done-waiting-for-
    results) -> complete when every symbol it lists is delivered, or back
    to the front of the queue with only its missing symbols.
*/
#ifndef ZS_BSCAN_H
#define ZS_BSCAN_H

#include "zs_engine.h"
#include "zs_holders.h"
#include "zs_msg.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct zs_bscan_t zs_bscan_t;
typedef struct zs_btask_t zs_btask_t;

typedef enum {
    ZS_TASK_QUEUED = 0, /* waiting in the broker                         */
    ZS_TASK_SENT,       /* sent to a lane, not reported started          */
    ZS_TASK_STARTED,    /* the lane reported started                     */
    ZS_TASK_DONE_WAIT   /* reported done; some results not arrived yet   */
} zs_btask_state_t;

struct zs_btask_t {
    uint64_t id;           /* new for every dispatch                     */
    zs_bscan_t *scan;
    uint32_t attempt;      /* 1 for the first dispatch                   */
    uint32_t n;            /* symbols listed                             */
    uint32_t remaining;    /* of those, without a delivered result       */
    uint32_t *index;       /* universe indices, n of them                */
    zs_btask_state_t state;
    void *lane;            /* the broker's lane holding it, or NULL      */
    /* the key of the lane it was last sent to: only that lane's results
       are taken */
    char holder[ZS_WORKER_ID_MAX + 16];
    int64_t sent_us;
    int64_t deadline_us;   /* lease or grace expiry of its state         */
    char reason[256];      /* why its last attempt failed                */
    zs_btask_t *prev, *next;
};

typedef enum {
    ZS_BSCAN_WAITING = 0,  /* held until its subscriber is seen          */
    ZS_BSCAN_PLANNING,     /* a stand-in while the planner expands and
                              orders its universe (no arrays, total 0)   */
    ZS_BSCAN_RUNNING,
    ZS_BSCAN_ENDING,       /* cut (zs_bscan_cut): takes no more results;
                              finished once the message that cut it is
                              handled - never seen by a request          */
    ZS_BSCAN_FINISHED
} zs_bscan_state_t;

/* workers whose search positions a scan keeps (more: searched from the
   front each time) */
#define ZS_BSCAN_AFF_WORKERS 64

struct zs_bscan_t {
    char id[ZS_ID_MAX + 1];
    zs_scan_def_t def;          /* owned copies of the strings           */
    char *def_key;              /* data|strategy|params|filter           */
    char *universe;             /* spec as requested, or "explicit"      */
    zs_priority_t priority;
    uint32_t batch_hint;
    uint64_t max_signals, max_symbols;
    double timeout_seconds;
    zs_bscan_state_t state;
    zs_end_reason_t reason;
    uint32_t total;
    zs_strlist_t symlist;       /* the universe (total), in dispatch order */
    uint64_t done, signals, failed;
    uint64_t pos;               /* last position published: its records
                                   (results and events) are 1..pos       */
    uint64_t pub_signals;       /* of those, signals                     */
    uint64_t pub_events;        /* of those, events                      */
    zs_end_reason_t stop_reason; /* a stop asked while it was planning,
                                    or its cut while ending              */
    uint32_t busy;              /* tasks reported started, not done      */
    int64_t created_us, first_result_us, finished_us, hold_until_us,
        last_progress_us;
    double started_at;          /* wall clock                            */
    double us_per_symbol;       /* estimate from task_done reports: all of
                                   this scan's, weighted by symbols, plus
                                   the last such scan's as a prior        */
    uint32_t stop_pending;      /* batches in workers' hands at the end  */
    int64_t idle_us;            /* when the last of them was let go      */
    /* private */
    double prior_us;            /* us_per_symbol of the last such scan   */
    double sum_elapsed_us;      /* over task_done reports                */
    double sum_results;
    uint8_t *flags;             /* per symbol: delivered, signal         */
    zs_btask_t **owner;         /* per symbol: task responsible          */
    uint32_t cursor;            /* first symbol never dispatched         */
    uint32_t dispatched;        /* symbols dispatched at least once      */
    zs_btask_t *queue_head, *queue_tail;
    zs_btask_t *inflight;       /* doubly linked                         */
    char **pnames_owned;
    /* cache affinity: where each worker's search for its own symbols
       stands (every symbol before it is taken or another's), for the
       set of workers aff_set names; reset when that set changes */
    struct {
        uint64_t seed;
        uint32_t next;
    } aff_pos[ZS_BSCAN_AFF_WORKERS];
    size_t naff;
    uint64_t aff_set;
    /* who held each symbol after the last scan of this universe (used
       while the same workers are live), and who was given each one in
       this scan (given back to the broker when it ends) */
    zs_holders_map_t *prior, *held;
    bool prior_live[ZS_HOLDERS_SEEDS + 1]; /* its slots, for aff_set     */
    bool prior_on;                         /* its set is aff_set         */
};

typedef struct {
    const char *id;
    const zs_scan_start_t *req;
    const char *default_universe;
    zs_source_t *source;       /* for the universe and liquidity         */
    zhashx_t *history;         /* def key -> set of last signal symbols  */
    const char *list_dir;      /* file: universes only from under here;
                                  NULL: file: universes are refused      */
    size_t list_max_bytes;     /* largest list file (0: the engine's)    */
} zs_bscan_params_t;

typedef struct {
    const char **items;
    size_t cap;
} zs_ptrs_t;

/*  Validates the request (definition compiles, universe expands, ids and
    symbols valid), orders the universe by priority and returns the scan
    (state RUNNING, nothing dispatched), or NULL with a reason in err. */
zs_bscan_t *zs_bscan_new (const zs_bscan_params_t *p, char *err,
                          size_t errlen);
void zs_bscan_destroy (zs_bscan_t **self_p);

/*  A stand-in for a scan being planned (state PLANNING): its id, its
    request's definition and limits for status and list replies, no
    universe yet.  NULL when out of memory. */
zs_bscan_t *zs_bscan_stub (const char *id, const zs_scan_start_t *req,
                           const char *default_universe);

/* True when the symbol at index has a delivered result. */
bool zs_bscan_delivered (const zs_bscan_t *self, uint32_t index);

/*  Records a delivered result for index (not yet delivered) and returns
    the task that was responsible for it (its remaining already lowered),
    or NULL. */
zs_btask_t *zs_bscan_mark (zs_bscan_t *self, uint32_t index, bool signal,
                           bool failed);

/* True when there are batches to hand out. */
bool zs_bscan_has_work (const zs_bscan_t *self);

/*  Starts the scan's rate estimate from what a previous scan of the same
    definition measured (so its first batches are sized right). */
void zs_bscan_set_prior (zs_bscan_t *self, double us_per_symbol);

/*  Cache affinity: the live workers (each a seed, zs_bscan_hash of
    its id) and the one whose lane asks. */
typedef struct {
    const uint64_t *seeds;
    size_t nseeds;
    uint64_t mine;
} zs_affinity_t;

/*  Cache affinity's memory: map (owned by the scan from now on) says who
    held each symbol after the last scan of the same universe; while the
    same workers are live, each symbol goes to the one that held it (a
    symbol one worker took from another at the end of that scan stays
    with it) rather than to its rendezvous owner.  A map of another size
    is dropped. */
void zs_bscan_set_prior_holders (zs_bscan_t *self, zs_holders_map_t *map);

/*  This scan's own record of who was given each symbol (the caller owns
    it), or NULL when no task went out with affinity. */
zs_holders_map_t *zs_bscan_take_holders (zs_bscan_t *self);

/*  FNV-1a of a string: a worker's seed, and a symbol's, for rendezvous
    hashing. */
uint64_t zs_bscan_hash (const char *text);

/*  The next batch, with a fresh id: the front of the retry queue, or a new
    cut sized to about batch_ms of work (batch_hint when set), never more
    than a fair share for nlanes lanes.  With aff (and more than one
    worker), the cut takes the asking worker's own symbols (rendezvous
    hashing over the live workers) in order, from where its last search
    stopped, so that each worker scans and caches one share of the
    universe however far ahead of the others it runs; a search hashes at
    most 8,192 symbols.  When its own are all taken (or none were found
    within that many), the next ones in order, whoever's they are (work is
    stolen rather than waited for).  The task is put in flight
    (state SENT is the caller's to set).  NULL when there is no work. */
zs_btask_t *zs_bscan_next_task (zs_bscan_t *self, uint64_t id,
                                size_t nlanes, double batch_ms,
                                uint32_t batch_min, uint32_t batch_max,
                                const zs_affinity_t *aff);

/* Drops the symbols already delivered from the task's list. */
void zs_bscan_task_compact (zs_bscan_t *self, zs_btask_t *task);

/* Moves a task to the front of the retry queue (state QUEUED). */
void zs_bscan_requeue_front (zs_bscan_t *self, zs_btask_t *task);

/* Unlinks and frees a task; its symbols lose their owner. */
void zs_bscan_task_free (zs_bscan_t *self, zs_btask_t *task);

/* In-flight iteration (safe to free the current one after next). */
zs_btask_t *zs_bscan_first_inflight (zs_bscan_t *self);
zs_btask_t *zs_bscan_next_inflight (zs_bscan_t *self, zs_btask_t *task);

/*  Fills a proto task message for task; symbol pointers live in ptrs
    (grown as needed).  Returns 0, or -1 when out of memory. */
int zs_bscan_task_msg (zs_bscan_t *self, zs_btask_t *task, zs_task_t *msg,
                       zs_ptrs_t *ptrs);

/* Feeds the batch-size estimate with a finished batch's cost. */
void zs_bscan_observe_rate (zs_bscan_t *self, uint32_t results,
                            double elapsed_us);

/*  Marks a running scan cut for reason: it takes nothing more and waits
    to be finished (ZS_BSCAN_ENDING).  false when it was not running. */
bool zs_bscan_cut (zs_bscan_t *self, zs_end_reason_t reason);
/*  Marks the scan finished with reason and frees its queued tasks.  The
    caller has released its in-flight tasks. */
void zs_bscan_finish (zs_bscan_t *self, zs_end_reason_t reason,
                      int64_t now_us);

/*  A new set (zhashx, symbol -> (void*)1) of the symbols that were
    signals, for the "signals first" priority of the next scan with the
    same definition; the caller owns it.  NULL when out of memory. */
zhashx_t *zs_bscan_signal_set (const zs_bscan_t *self);

/* Frees the per-symbol arrays of a finished scan (counters stay). */
void zs_bscan_release_arrays (zs_bscan_t *self);

/* Fills info from the scan (strings borrowed from the scan). */
void zs_bscan_info (const zs_bscan_t *self, int64_t now_us,
                    zs_scan_info_t *info);

#endif
