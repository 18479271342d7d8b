/*  zs_client.h - what the zscan CLI needs to talk to a broker: request /
    reply over a DEALER, and a SUB on the results bus.  */
#ifndef ZS_CLIENT_H
#define ZS_CLIENT_H

#include "zs_bus.h"
#include "zs_msg.h"

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

typedef struct {
    void *ctx;
    void *dealer;      /* api                                            */
    zs_bus_t *bus;     /* results out, gaps filled from the history;
                          NULL until zs_client_bus                        */
    char api[512];
    char results[512];
    uint64_t next_req;
    zs_buf_t buf;
    zs_curve_client_t curve;  /* CURVE keys (off: .on false)             */
} zs_client_t;

/*  Connects a DEALER to api, with CURVE when curve is given and on;
    returns NULL with a reason. */
zs_client_t *zs_client_new (const char *api, const char *results,
                            const zs_curve_client_t *curve, char *err,
                            size_t errlen);
void zs_client_destroy (zs_client_t **self_p);

/*  The bus reader of results-out (made on the first call); NULL when it
    cannot be made. */
zs_bus_t *zs_client_bus (zs_client_t *self);

/*  Sends self->buf as a request and waits up to timeout_ms for the reply,
    which is stored in reply (initialised by the caller).  Returns 0, or -1
    with a reason (timeout: the broker did not answer). */
int zs_client_call (zs_client_t *self, zmq_msg_t *reply, int64_t timeout_ms,
                    char *err, size_t errlen);

/*  Decodes an error reply into a line "error CODE: MESSAGE" if reply is
    one; returns true when it was an error reply (or undecodable). */
bool zs_client_reply_error (const zmq_msg_t *reply, zs_msg_type_t want,
                            char *err, size_t errlen);

#endif
