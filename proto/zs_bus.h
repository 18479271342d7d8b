/*  zs_bus.h - reading the broker's results-out (PROTOCOL.md, section 7):
    messages [topic, seq, body] from a SUB socket, handed out record by
    record with each record's topic, scan, kind and sequence number.  The
    CLI, the bench and the gateway read the bus through it.  */
#ifndef ZS_BUS_H
#define ZS_BUS_H

#include "zs_msg.h"
#include "zs_topic.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    void *sub;                   /* the SUB socket read (not owned)       */
    zmq_msg_t body;              /* the message whose records are handed out */
    bool has_body;
    zs_recs_t recs;
    char topic[ZS_TOPIC_MAX];
    char scan[ZS_ID_MAX + 1];
    zs_topic_kind_t kind;
    uint64_t seq;                /* the next record's                     */
    uint64_t messages;           /* well-formed messages read             */
    uint64_t bad;                /* malformed messages or bodies dropped  */
} zs_bus_reader_t;

/*  One record: its bytes (a msgpack map: give them to zs_msg_peek or a
    decoder) stay valid until the next call on the reader. */
typedef struct {
    const char *topic;
    const char *scan;
    zs_topic_kind_t kind;
    uint64_t seq;
    const void *data;
    size_t size;
} zs_bus_rec_t;

void zs_bus_reader_init (zs_bus_reader_t *r, void *sub);

/*  The next record.  flags: ZMQ_DONTWAIT, or 0 to wait (up to the socket's
    ZMQ_RCVTIMEO).  Returns 1 with rec filled; 0 when nothing came (no
    message waiting, the wait timed out, or the socket is closing: errno
    tells); -1 when a malformed message was dropped (not three frames, a
    topic that is not a results topic, a seq that is not one msgpack uint,
    a body that is not a record or a batch of them; what a batch held
    before its fault was handed out), with the reason in err. */
int zs_bus_reader_next (zs_bus_reader_t *r, int flags, zs_bus_rec_t *rec,
                        char *err, size_t errlen);

/*  Releases the message in hand (not the socket). */
void zs_bus_reader_close (zs_bus_reader_t *r);

#ifdef __cplusplus
}
#endif

#endif
