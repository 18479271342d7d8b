/*  zs_bus.h - reading the broker's results-out (PROTOCOL.md, section 7)
    without ever losing a record: what every C subscriber uses (the CLI,
    the gateway, the bench).

    Two layers:

    zs_bus_reader_t parses messages [topic, position, body] from a SUB
    socket record by record - the wire format and nothing else.

    zs_bus_t follows scans.  It owns a SUB on results-out and a DEALER on
    the api, and hands its caller every record of each followed scan
    exactly once, in position order, from wherever the caller asked to
    start - whatever results-out dropped on the way.  Results-out drops
    messages for a subscriber that does not keep up (rather than slow the
    cluster); the bus sees the hole in the positions, holds what arrives
    after it, asks the broker's history for the missing records (replay)
    and then hands out the held ones: a gap is invisible to its caller.
    Joining a scan late is the same: subscribe, replay from the start,
    then the live records, no race (the "Clone" pattern of the ZeroMQ
    guide).  A scan the bus hears nothing of for idle_ms is asked for:
    that is how a lost last message, a dead broker (no answer within
    answer_ms) or a restarted one (another instance, or the scan
    unknown) is noticed.  What cannot be repaired is said, never hidden:
    a range that has left the history comes out as a ZS_BUS_LOST entry
    naming it.
*/
#ifndef ZS_BUS_H
#define ZS_BUS_H

#include "zs_curve.h"
#include "zs_msg.h"
#include "zs_topic.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------- */
/*  The wire: one message, record by record                                */

typedef struct {
    void *sub;                   /* the SUB socket read (not owned)       */
    zmq_msg_t body;              /* the message whose records are handed out */
    bool has_body;
    zs_recs_t recs;
    char topic[ZS_TOPIC_MAX];
    char scan[ZS_ID_MAX + 1];
    zs_topic_kind_t kind;
    zs_pos_t mpos;               /* the message's position frame          */
    uint64_t pos;                /* the next record's position            */
    uint64_t messages;           /* well-formed messages read             */
    uint64_t bad;                /* malformed messages or bodies dropped  */
} zs_bus_reader_t;

/*  One record: its bytes (a msgpack map: give them to zs_msg_peek or a
    decoder) stay valid until the next call on the reader or the bus. */
typedef struct {
    const char *topic;
    const char *scan;
    zs_topic_kind_t kind;
    uint64_t pos;                /* its position in its scan              */
    const void *data;
    size_t size;
} zs_bus_rec_t;

void zs_bus_reader_init (zs_bus_reader_t *r, void *sub);

/*  The next record.  flags: ZMQ_DONTWAIT, or 0 to wait (up to the socket's
    ZMQ_RCVTIMEO).  Returns 1 with rec filled; 0 when nothing came (no
    message waiting, the wait timed out, or the socket is closing: errno
    tells); -1 when a malformed message was dropped (not three frames, a
    topic that is not a results topic, a position frame that is not
    [pos, signals, events], a body that is not a record or a batch of
    them; what a batch held before its fault was handed out), with the
    reason in err. */
int zs_bus_reader_next (zs_bus_reader_t *r, int flags, zs_bus_rec_t *rec,
                        char *err, size_t errlen);

/*  Releases the message in hand (not the socket). */
void zs_bus_reader_close (zs_bus_reader_t *r);

/*  Checks the three frames of one results message (topic, position,
    body) and returns its scan, kind, position frame and record count.
    0, or -1 with a reason. */
int zs_bus_parse (zmq_msg_t *frames, char *scan, zs_topic_kind_t *kind,
                  zs_pos_t *pos, uint32_t *count, char *err, size_t errlen);

/* ---------------------------------------------------------------------- */
/*  Following scans, gaps filled from the broker's history                 */

typedef struct zs_bus_t zs_bus_t;

typedef struct {
    const char *api;             /* the broker's api endpoint             */
    const char *results;         /* its results-out endpoint              */
    int idle_ms;                 /* ask about a silent scan after this
                                    (0: 1000)                              */
    int answer_ms;               /* the broker must answer within this
                                    (0: 3000)                              */
    size_t hold_bytes;           /* live messages held while a gap fills
                                    (0: 64 MiB); past it they are dropped
                                    and replayed later                     */
    uint32_t page_records;       /* records asked per replay (0: broker's) */
    int rcvhwm;                  /* the SUB's high-water mark (0: 10000)   */
    const zs_curve_client_t *curve; /* CURVE keys, or NULL               */
} zs_bus_config_t;

/*  What zs_bus_next hands out. */
typedef enum {
    ZS_BUS_RECORD = 1, /* a record of a followed scan                      */
    ZS_BUS_LOST,       /* records lost_from..lost_to of scan left the
                          history before the bus could fetch them: they
                          will never come; the records after them do     */
    ZS_BUS_GONE,       /* the broker does not know the scan (it was
                          restarted, or the scan was forgotten): nothing
                          more will come; the bus stops following it     */
    ZS_BUS_SILENT      /* the broker has not answered for answer_ms
                          (dead or unreachable); the bus keeps asking    */
} zs_bus_what_t;

typedef struct {
    zs_bus_what_t what;
    zs_bus_rec_t rec;            /* RECORD (rec.scan for every kind)      */
    bool replayed;               /* RECORD: it came from the history      */
    uint64_t lost_from, lost_to; /* LOST                                  */
    char reason[256];            /* LOST, GONE, SILENT: for humans        */
} zs_bus_event_t;

/*  Connects a SUB to results-out and a DEALER to the api.  NULL with a
    reason in err. */
zs_bus_t *zs_bus_new (void *ctx, const zs_bus_config_t *cfg, char *err,
                      size_t errlen);
void zs_bus_destroy (zs_bus_t **self_p);

/*  Follows scan from after its position `after` (0: from its start), the
    records of view.  fresh: the caller subscribed before the scan
    started (see zs_bus_subscribe) and wants its records from the first
    live one: no replay unless a gap shows.  Otherwise everything up to
    the live records is replayed first.  0, or -1 (bad id, too many). */
int zs_bus_follow (zs_bus_t *self, const char *scan, zs_view_t view,
                   uint64_t after, bool fresh);

/*  Subscribes for scan's view now, before the scan is started, so that
    a start with sync: true can wait for it; then zs_bus_follow (...,
    fresh = true). */
int zs_bus_subscribe (zs_bus_t *self, const char *scan, zs_view_t view);

/*  Follows every scan (subscribes to everything): a scan first seen in
    the middle is replayed from its start. */
int zs_bus_follow_all (zs_bus_t *self);

/* Stops following scan. */
void zs_bus_unfollow (zs_bus_t *self, const char *scan);

/*  The next event: waits up to timeout_ms (0: not at all, -1: forever)
    while handling replies and timers.  1 with ev filled (its pointers
    valid until the next call), 0 when nothing came in time (or an
    interrupt, errno EINTR). */
int zs_bus_next (zs_bus_t *self, int timeout_ms, zs_bus_event_t *ev);

/*  The bus's two sockets, for a caller that polls them with others: fills
    items[0..1] (ZMQ_POLLIN); when either is readable, or every 50 ms for
    the bus's timers, call zs_bus_next (..., 0, ...) until it returns 0. */
void zs_bus_pollitems (zs_bus_t *self, zmq_pollitem_t *items);

/*  The broker instance the bus last heard from ("" before any answer). */
const char *zs_bus_broker (const zs_bus_t *self);

typedef struct {
    uint64_t messages;           /* well-formed live messages             */
    uint64_t records;            /* records handed out                    */
    uint64_t replayed;           /* of which from the history             */
    uint64_t gaps;               /* holes seen in live positions          */
    uint64_t replays;            /* replay requests sent                  */
    uint64_t lost;               /* records reported lost                 */
    uint64_t bad;                /* malformed messages dropped            */
    uint64_t dropped_held;       /* held messages dropped (over hold_bytes) */
} zs_bus_stats_t;
void zs_bus_stats (const zs_bus_t *self, zs_bus_stats_t *st);

#ifdef __cplusplus
}
#endif

#endif
