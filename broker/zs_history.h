/*  zs_history.h - what the broker forwarded on results-out, per scan, kept
    within one memory budget: the source of replays for late joiners and
    for subscribers that lost messages (PROTOCOL.md, section 7).

    It keeps the messages themselves - the very body frames the broker
    published, shared by reference count with ZeroMQ (zmq_msg_copy), so
    keeping them copies no bytes - each with its position frame and kind.
    Past the budget, whole finished scans go first, oldest finished first;
    when only running scans are left, the oldest messages of the one that
    holds the most.  A scan whose records were evicted stays known (its
    last position, its earliest held) until the broker drops it, so a
    replay of an evicted range says so instead of returning a hole.

    No sockets here and no threads: the broker's loop owns it.
*/
#ifndef ZS_HISTORY_H
#define ZS_HISTORY_H

#include "zs_msg.h"
#include "zs_topic.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct zs_history_t zs_history_t;

/*  A new, empty history that keeps at most budget bytes (bodies and their
    bookkeeping).  NULL when out of memory. */
zs_history_t *zs_history_new (size_t budget);
void zs_history_destroy (zs_history_t **self_p);

/*  Appends a message of scan: kind, the position of its first record,
    its record count, and its body (the history takes a reference with
    zmq_msg_copy; body stays the caller's).  Positions must grow: the
    message must start right after the last one appended for the scan.
    Evicts what the budget needs.  0, or -1 when out of memory or out of
    order (nothing kept). */
int zs_history_append (zs_history_t *self, const char *scan,
                       zs_topic_kind_t kind, const zs_pos_t *pos,
                       uint32_t count, zmq_msg_t *body);

/*  The scan will get no more messages: its records become the first to
    go when the budget is short. */
void zs_history_finish (zs_history_t *self, const char *scan);

/* Forgets the scan and frees what it held. */
void zs_history_drop (zs_history_t *self, const char *scan);

/*  What the history knows of a scan: the earliest position it still
    holds (last + 1 when it holds none) and the last position appended.
    Returns false when the scan is unknown (never appended, or dropped). */
bool zs_history_bounds (zs_history_t *self, const char *scan,
                        uint64_t *first, uint64_t *last);

/*  One message handed out by a page walk (everything borrowed). */
typedef struct {
    zs_topic_kind_t kind;
    zs_pos_t pos;
    uint32_t count;
    zmq_msg_t *body;
} zs_hist_msg_t;

typedef void (zs_hist_fn) (void *arg, const zs_hist_msg_t *msg);

/*  Walks the scan's messages that hold records after position `after`,
    in order, and hands those of view to fn, until they add up to
    max_records records, max_bytes bytes or max_msgs messages (at least
    one message goes when there is one).  A message that also holds records up to `after`
    is handed out whole: the reader drops what it has.  Messages outside
    the view are passed over (at most 16 times max_records records of
    them per call, so a call stays short).  *next is the last position
    the walk covered (ask after it for the rest); *first the earliest
    position held.  Returns the number of messages handed out, or -1
    when the scan is unknown. */
int zs_history_page (zs_history_t *self, const char *scan, uint64_t after,
                     zs_view_t view, uint32_t max_records, size_t max_bytes,
                     uint32_t max_msgs, zs_hist_fn *fn, void *arg,
                     uint64_t *first, uint64_t *next);

/*  Bytes held, the budget, scans known, and messages and scans evicted
    so far (for logs and tests). */
typedef struct {
    size_t bytes;
    size_t budget;
    size_t scans;
    uint64_t evicted_msgs;
    uint64_t evicted_scans;
} zs_history_stats_t;
void zs_history_stats (const zs_history_t *self, zs_history_stats_t *st);

#endif
