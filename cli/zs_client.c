/*  zs_client.c - see zs_client.h.  */
#include "zs_client.h"
#include "zs_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

zs_client_t *zs_client_new (const char *api, const char *results,
                            const zs_curve_client_t *curve, char *err,
                            size_t errlen)
{
    zs_client_t *self = (zs_client_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    snprintf (self->api, sizeof self->api, "%s", api);
    snprintf (self->results, sizeof self->results, "%s", results);
    if (curve)
        self->curve = *curve;
    self->ctx = zmq_ctx_new ();
    self->dealer = self->ctx ? zmq_socket (self->ctx, ZMQ_DEALER) : NULL;
    if (!self->dealer) {
        snprintf (err, errlen, "cannot create a socket: %s",
                  zmq_strerror (errno));
        zs_client_destroy (&self);
        return NULL;
    }
    int linger = 500;
    int64_t max = (int64_t) ZS_API_MSG_MAX;
    zmq_setsockopt (self->dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (self->dealer, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zs_socket_retry_soon (self->dealer); /* a broker starting beside us */
    if (zs_curve_client_apply (&self->curve, self->dealer) != 0
        || zmq_connect (self->dealer, api) != 0) {
        snprintf (err, errlen, "cannot connect to %s: %s", api,
                  zmq_strerror (errno));
        zs_client_destroy (&self);
        return NULL;
    }
    self->next_req = 1;
    return self;
}

void zs_client_destroy (zs_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_client_t *self = *self_p;
    zs_bus_destroy (&self->bus);
    if (self->dealer)
        zmq_close (self->dealer);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    zs_buf_free (&self->buf);
    free (self);
    *self_p = NULL;
}

zs_bus_t *zs_client_bus (zs_client_t *self)
{
    if (!self->bus) {
        zs_bus_config_t cfg = {0};
        cfg.api = self->api;
        cfg.results = self->results;
        cfg.curve = &self->curve;
        char err[256];
        self->bus = zs_bus_new (self->ctx, &cfg, err, sizeof err);
        if (!self->bus)
            zs_error ("%s", err);
    }
    return self->bus;
}

int zs_client_call (zs_client_t *self, zmq_msg_t *reply, int64_t timeout_ms,
                    char *err, size_t errlen)
{
    if (zmq_send (self->dealer, self->buf.data, self->buf.size, 0) < 0) {
        snprintf (err, errlen, "cannot send to %s: %s", self->api,
                  zmq_strerror (errno));
        return -1;
    }
    /* the reply to this request: a late reply to an earlier one (a call
       that timed out) is dropped */
    uint64_t want = 0;
    bool has_req = zs_msg_peek_req (self->buf.data, self->buf.size, &want)
                   == 0;
    int64_t deadline = zs_clock_ms () + timeout_ms;
    for (;;) {
        int64_t left = deadline - zs_clock_ms ();
        zmq_pollitem_t items[] = {{self->dealer, 0, ZMQ_POLLIN, 0}};
        int rc = left > 0 ? zmq_poll (items, 1, (long) left) : 0;
        if (rc <= 0) {
            snprintf (err, errlen,
                      rc == 0 ? "no answer from the broker at %s within %lld "
                                "ms (is zscan-broker running?%s)"
                              : "interrupted waiting for %s",
                      self->api, (long long) timeout_ms,
                      self->curve.on
                          ? " is this key, --curve-cert, allowed by it, and "
                            "--curve-server its key?"
                          : " does it want CURVE keys?");
            return -1;
        }
        if (zmq_msg_recv (reply, self->dealer, 0) < 0) {
            snprintf (err, errlen, "receive: %s", zmq_strerror (errno));
            return -1;
        }
        while (zmq_msg_more (reply)) { /* keep only the last frame */
            zmq_msg_close (reply);
            zmq_msg_init (reply);
            if (zmq_msg_recv (reply, self->dealer, 0) < 0)
                return -1;
        }
        uint64_t got = 0;
        if (!has_req
            || zs_msg_peek_req (zmq_msg_data (reply), zmq_msg_size (reply),
                                &got)
                   != 0
            || got == want)
            return 0;
        zmq_msg_close (reply); /* stale: wait on for ours */
        zmq_msg_init (reply);
    }
}

bool zs_client_reply_error (const zmq_msg_t *reply, zs_msg_type_t want,
                            char *err, size_t errlen)
{
    const void *data = zmq_msg_data ((zmq_msg_t *) reply);
    size_t size = zmq_msg_size ((zmq_msg_t *) reply);
    zs_msg_type_t type;
    char perr[256];
    if (zs_msg_peek (data, size, &type, perr, sizeof perr) != 0) {
        snprintf (err, errlen, "bad reply from the broker: %s", perr);
        return true;
    }
    if (type == ZS_MSG_ERROR) {
        zs_error_t e = {0};
        if (zs_error_decode (data, size, &e, perr, sizeof perr) == 0)
            snprintf (err, errlen, "error %u: %s", e.code, e.message);
        else
            snprintf (err, errlen, "bad error reply: %s", perr);
        zs_msg_free (&e.mem_);
        return true;
    }
    if (type != want) {
        snprintf (err, errlen, "unexpected reply '%s'",
                  zs_msg_type_name (type));
        return true;
    }
    return false;
}
