/*  zs_bauth.h - who may talk to the broker when CURVE is on: the ZAP
    handler (ZeroMQ's authentication protocol, RFC 27) for every socket the
    broker binds, served from the broker's own loop.

    Two sets of public keys, each read from a directory of certificates
    (the public files `zscan keygen` writes; secret files are ignored):
    the allowed keys may do everything (workers, clients that start and
    stop scans, subscribers); the read-only keys may subscribe to results
    and ask for status, lists and replays, nothing else.  A key in neither
    is refused at the handshake: it never gets a connection.  Each
    accepted connection's messages carry its key as ZeroMQ's User-Id,
    which the broker checks per message (zs_bauth_role): a worker id is
    bound to the key that said hello with it.
*/
#ifndef ZS_BAUTH_H
#define ZS_BAUTH_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef enum {
    ZS_ROLE_NONE = 0,   /* unknown key (or no CURVE: see zs_bauth_role)   */
    ZS_ROLE_READ,       /* subscribe, status, lists, replays              */
    ZS_ROLE_FULL        /* everything                                     */
} zs_role_t;

typedef struct zs_bauth_t zs_bauth_t;

/*  Reads the directories (read_dir may be NULL) and binds the handler in
    ctx (before any CURVE socket binds).  NULL with the reason. */
zs_bauth_t *zs_bauth_new (void *ctx, const char *allow_dir,
                          const char *read_dir, char *err, size_t errlen);
void zs_bauth_destroy (zs_bauth_t **self_p);

/* The handler's socket, for the broker's poll set. */
void *zs_bauth_socket (zs_bauth_t *self);
/* Answers the requests waiting (each at once). */
void zs_bauth_handle (zs_bauth_t *self);

/*  The role of a received message's connection (its User-Id).  Without
    CURVE (self NULL) everyone is FULL. */
zs_role_t zs_bauth_role (zs_bauth_t *self, zmq_msg_t *msg);

/*  The key a message came with, into key (ZS_KEY_TEXT bytes; "" without
    CURVE). */
void zs_bauth_key (zs_bauth_t *self, zmq_msg_t *msg, char *key);

/*  Reads the directories again when one of them changed, or the last
    reading is at least every_ms old: keys added since are let in, keys removed lose their
    role (also on connections already open).  The broker calls it every
    few seconds, and the handler before refusing an unknown key. */
void zs_bauth_reload (zs_bauth_t *self, int64_t every_ms);

/* Handshakes refused and accepted so far. */
void zs_bauth_counts (zs_bauth_t *self, size_t *allowed, size_t *denied);

#endif
