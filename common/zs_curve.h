/*  zs_curve.h - CURVE security for every zscan socket (ZeroMQ's CurveZMQ:
    encryption and authentication by key pairs), with czmq's certificate
    files (zcert: a public file NAME and a secret file NAME_secret, text
    in ZPL).

    The broker is the CURVE server on every socket it binds: it holds a
    secret key, and lets in only the public keys found in its authorised
    directories (broker/zs_bauth.h).  Every other program (workers, the
    gateway, the CLI, a service subscribing to results) is a client: it
    has its own certificate, and the broker's public key.

    Keys travel as 40-character Z85 text. */
#ifndef ZS_CURVE_H
#define ZS_CURVE_H

#include <stdbool.h>
#include <stddef.h>

#define ZS_KEY_TEXT 41 /* 40 Z85 characters and a NUL */

typedef struct {
    char public_[ZS_KEY_TEXT];
    char secret[ZS_KEY_TEXT];   /* "" when only the public half is known */
} zs_keypair_t;

/*  Writes a new key pair as PATH (public) and PATH_secret (both halves;
    mode 0600), refusing to overwrite either.  0, or -1 with the reason. */
int zs_curve_keygen (const char *path, char *err, size_t errlen);

/*  Reads a certificate file: with need_secret, PATH_secret (or PATH when
    it holds the secret key itself); else PATH's public key.  0, or -1
    with the reason. */
int zs_curve_load (const char *path, bool need_secret, zs_keypair_t *kp,
                   char *err, size_t errlen);

/*  A peer's public key given as 40 Z85 characters or as a certificate
    file.  0, or -1 with the reason. */
int zs_curve_public (const char *spec, char out[ZS_KEY_TEXT], char *err,
                     size_t errlen);

/*  Makes sock a CURVE server with kp's secret key (before it binds);
    connections are authenticated in the ZAP domain "zscan". */
int zs_curve_server (void *sock, const zs_keypair_t *kp);

/*  Makes sock a CURVE client of the server whose public key is server,
    with its own key pair kp (before it connects). */
int zs_curve_client (void *sock, const zs_keypair_t *kp,
                     const char *server);

/*  A client's security settings, as every client program takes them
    (--curve-cert, --curve-server): loaded once, applied to each socket. */
typedef struct {
    bool on;
    zs_keypair_t mine;
    char server[ZS_KEY_TEXT];
} zs_curve_client_t;

/*  From the two settings (both NULL/empty: off; one without the other is
    an error).  0, or -1 with the reason. */
int zs_curve_client_init (zs_curve_client_t *self, const char *cert,
                          const char *server, char *err, size_t errlen);
/* Applies them to sock (nothing when off); 0 or -1. */
int zs_curve_client_apply (const zs_curve_client_t *self, void *sock);

/*  The two options of every client program (zs_config.h's zs_opt_t
    entries), into char * cert and server. */
#define ZS_CURVE_CLIENT_OPTS(cert, server)                                 \
    {"curve-cert", 0, ZS_OPT_STR, NULL, "FILE",                            \
     "own certificate (zscan keygen; FILE_secret is read) when the "       \
     "broker uses CURVE: its public key must be in the broker's "          \
     "--curve-allow (or --curve-read) directory",                          \
     &(cert)},                                                             \
        {"curve-server", 0, ZS_OPT_STR, NULL, "KEY|FILE",                  \
         "the broker's public key (40 Z85 characters) or its public "      \
         "certificate file",                                               \
         &(server)}

/*  True when endpoint (tcp://HOST:PORT) names only this machine: a
    loopback address, or an ipc:// or inproc:// endpoint. */
bool zs_endpoint_local (const char *endpoint);

#endif
