/*  zs_scanlog.h - the gateway's fan-out: for each scan, its records
    rendered once as JSON (proto's zs_json) and as msgpack envelopes, in
    position order, shared by
    every client of the scan through a cursor of its own (a position):
    a client costs its cursor, not a copy of what it has yet to read.

    The bridge thread appends what the broker's bus hands out; the HTTP
    thread reads.  One mutex guards the whole set (zs_logset_lock): the
    writer holds it to append a burst, a reader to copy a frame's worth
    out; nobody holds it across I/O.

    Memory: one budget for every log.  Past it, finished scans that no
    stream reads go first, oldest finished first, whole (a client asking
    for one again gets it from the broker's history: the bridge follows
    it anew); then the oldest records of the log holding the most, running
    or read.  A client whose cursor is before what a log still holds has
    fallen too far behind; one reading a finished scan is never cut
    because its log went whole under it.
*/
#ifndef ZS_SCANLOG_H
#define ZS_SCANLOG_H

#include "zs_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zs_logset_t zs_logset_t;
typedef struct zs_scanlog_t zs_scanlog_t;

/* What a log entry is. */
typedef enum {
    ZS_LOG_STARTED = 1,
    ZS_LOG_RESULT,      /* not a signal                                    */
    ZS_LOG_SIGNAL,      /* a result that is a signal                       */
    ZS_LOG_PROGRESS,
    ZS_LOG_COMPLETE,    /* the finished event: the last of its scan        */
    ZS_LOG_LOST         /* a notice: records lost before this one          */
} zs_log_kind_t;

/*  One entry, as a reader sees it (under the lock; text borrowed until
    the lock is released). */
typedef struct {
    uint64_t pos;       /* the record's position (LOST: the last lost)     */
    zs_log_kind_t kind;
    const char *json;   /* {"type":...,"seq":pos,"data":{...}}             */
    size_t len;
    const char *mp;     /* the same as msgpack (zs_envelope_encode)        */
    size_t mplen;
    int64_t t_us;       /* when the gateway had it (zclock_usecs)          */
} zs_logrec_t;

zs_logset_t *zs_logset_new (size_t budget);
void zs_logset_destroy (zs_logset_t **self_p);
void zs_logset_lock (zs_logset_t *self);
void zs_logset_unlock (zs_logset_t *self);

/*  The log of scan (NULL when none and !create, or out of memory). */
zs_scanlog_t *zs_logset_get (zs_logset_t *self, const char *scan,
                             bool create);
/*  Forgets scan's log (DELETE /scan/ID). */
void zs_logset_drop (zs_logset_t *self, const char *scan);
/*  A stream of scan opens (open) or ends: a finished log that some
    stream reads is not evicted whole while others can give room (the
    set's budget is kept by trimming the biggest log's front). */
void zs_logset_readers (zs_logset_t *self, const char *scan, bool open);

/*  Appends one entry (the writer): its JSON and its msgpack form.
    Positions grow; a record at or before the last one is ignored (0).
    1 when appended, -1 out of memory.  May evict (see above). */
int zs_scanlog_append (zs_logset_t *set, zs_scanlog_t *log, uint64_t pos,
                       zs_log_kind_t kind, const char *json, size_t len,
                       const char *mp, size_t mplen);

/*  The scan is gone (the broker forgot it, or restarted): why, for the
    clients; nothing more will come. */
void zs_scanlog_gone (zs_logset_t *set, zs_scanlog_t *log,
                      const char *reason);

/*  For readers: the first position the log holds (0 when empty), the
    last, whether the complete record is in, and why it is gone ("" if
    not). */
uint64_t zs_scanlog_first (const zs_scanlog_t *log);
uint64_t zs_scanlog_last (const zs_scanlog_t *log);
bool zs_scanlog_done (const zs_scanlog_t *log);
const char *zs_scanlog_gone_reason (const zs_scanlog_t *log);
/*  The last position cut from the log's front (trimmed) that a stream
    of signals and events needs: not a result that is no signal, nor a
    progress record (a later one says more); 0 when none.  Such a stream
    whose cursor is at or past it lost nothing when the front passed it. */
uint64_t zs_scanlog_cut_wanted (const zs_scanlog_t *log);
/* Bumped at every append: readers compare it to see news. */
uint64_t zs_scanlog_version (const zs_scanlog_t *log);

/*  The first entry after position `after` at or from index *hint (an
    earlier answer of this call for the same reader, or 0): fills rec and
    *hint, returns true; false when there is none yet.  Reading on is
    *hint + 1 (zs_scanlog_at). */
bool zs_scanlog_after (const zs_scanlog_t *log, uint64_t after,
                       size_t *hint, zs_logrec_t *rec);
/* Entry i (as numbered by zs_scanlog_after), if there is one. */
bool zs_scanlog_at (const zs_scanlog_t *log, size_t i, zs_logrec_t *rec);

/*  Writes the ids of the scans whose logs changed since the last call
    into out (up to cap, each ZS_ID_MAX + 1 bytes; cap >= ZS_LOG_DIRTY
    loses none) and returns how many. */
#define ZS_LOG_DIRTY 1024
size_t zs_logset_take_dirty (zs_logset_t *self, char (*out)[ZS_ID_MAX + 1],
                             size_t cap);

typedef struct {
    size_t bytes, budget, logs;
    uint64_t appended, evicted_logs, evicted_records;
} zs_logset_stats_t;
void zs_logset_stats (zs_logset_t *self, zs_logset_stats_t *st);

#endif
