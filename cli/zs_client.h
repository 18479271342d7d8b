/*  zs_client.h - what the zscan CLI needs to talk to a broker: request /
    reply over a DEALER, and a SUB on the results bus.  */
#ifndef ZS_CLIENT_H
#define ZS_CLIENT_H

#include "zs_msg.h"

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

typedef struct {
    void *ctx;
    void *dealer;      /* api                                            */
    void *sub;         /* results out; NULL until zs_client_subscribe    */
    char api[512];
    char results[512];
    uint64_t next_req;
    zs_buf_t buf;
    /* the results message being read, record by record */
    zmq_msg_t cur;
    bool has_cur;
    zs_recs_t recs;
    uint64_t cur_seq;          /* seq of the next record in cur          */
    char cur_topic[256];
} zs_client_t;

/* Connects a DEALER to api; returns NULL with a reason. */
zs_client_t *zs_client_new (const char *api, const char *results, char *err,
                            size_t errlen);
void zs_client_destroy (zs_client_t **self_p);

/*  Connects the SUB (once) and subscribes to prefix.  0 or -1. */
int zs_client_subscribe (zs_client_t *self, const char *prefix);

/*  Sends self->buf as a request and waits up to timeout_ms for the reply,
    which is stored in reply (initialised by the caller).  Returns 0, or -1
    with a reason (timeout: the broker did not answer). */
int zs_client_call (zs_client_t *self, zmq_msg_t *reply, int64_t timeout_ms,
                    char *err, size_t errlen);

/*  Decodes an error reply into a line "error CODE: MESSAGE" if reply is
    one; returns true when it was an error reply (or undecodable). */
bool zs_client_reply_error (const zmq_msg_t *reply, zs_msg_type_t want,
                            char *err, size_t errlen);

/*  The next record from the SUB, without waiting: a [topic, seq, body]
    message holds one record or a batch of them (PROTOCOL.md, section 7),
    handed out one at a time with each record's own seq.  Returns 1 with
    topic, seq and the record's bytes (valid until the next call), 0 when
    none is waiting, -1 on a malformed message or record (dropped; what was
    valid before it in a batch was returned). */
int zs_client_recv_record (zs_client_t *self, char *topic, size_t tcap,
                           uint64_t *seq, const void **rec, size_t *len);

#endif
