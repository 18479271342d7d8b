/*  zs_curve.c - see zs_curve.h.  */
#include "zs_curve.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static bool s_z85 (const char *s)
{
    if (!s || strlen (s) != 40)
        return false;
    uint8_t bin[32];
    return zmq_z85_decode (bin, s) != NULL;
}

int zs_curve_keygen (const char *path, char *err, size_t errlen)
{
    if (!zmq_has ("curve")) {
        snprintf (err, errlen, "this libzmq has no CURVE support");
        return -1;
    }
    char secret[4096];
    if ((size_t) snprintf (secret, sizeof secret, "%s_secret", path)
        >= sizeof secret) {
        snprintf (err, errlen, "path too long");
        return -1;
    }
    if (access (path, F_OK) == 0 || access (secret, F_OK) == 0) {
        snprintf (err, errlen, "%s or %s exists already: not overwritten",
                  path, secret);
        return -1;
    }
    zcert_t *cert = zcert_new ();
    if (!cert) {
        snprintf (err, errlen, "cannot make a key pair");
        return -1;
    }
    zcert_set_meta (cert, "created-by", "zscan keygen");
    mode_t old = umask (077);
    int rc = zcert_save (cert, path);
    umask (old);
    zcert_destroy (&cert);
    if (rc != 0) {
        snprintf (err, errlen, "cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    chmod (path, 0644); /* the public half may be read by anyone */
    return 0;
}

int zs_curve_load (const char *path, bool need_secret, zs_keypair_t *kp,
                   char *err, size_t errlen)
{
    memset (kp, 0, sizeof *kp);
    char secret[4096];
    snprintf (secret, sizeof secret, "%s_secret", path);
    const char *file = need_secret && access (secret, R_OK) == 0 ? secret
                                                                  : path;
    struct stat st;
    if (stat (file, &st) != 0) {
        snprintf (err, errlen, "certificate %s: %s", file, strerror (errno));
        return -1;
    }
    if (!S_ISREG (st.st_mode)) {
        snprintf (err, errlen, "certificate %s: not a regular file", file);
        return -1;
    }
    if (st.st_size > 65536) {
        snprintf (err, errlen, "certificate %s: too large", file);
        return -1;
    }
    zcert_t *cert = zcert_load (file);
    if (!cert) {
        snprintf (err, errlen, "certificate %s: not a certificate", file);
        return -1;
    }
    snprintf (kp->public_, sizeof kp->public_, "%s", zcert_public_txt (cert));
    const char *s = zcert_secret_txt (cert);
    bool has_secret = s && s_z85 (s)
                      && strcmp (s, "0000000000000000000000000000000000000000");
    if (has_secret)
        snprintf (kp->secret, sizeof kp->secret, "%s", s);
    zcert_destroy (&cert);
    if (!s_z85 (kp->public_)) {
        snprintf (err, errlen, "certificate %s: no valid public key", file);
        return -1;
    }
    if (need_secret && !has_secret) {
        snprintf (err, errlen, "certificate %s: no secret key (give the "
                               "secret file, NAME_secret)", file);
        return -1;
    }
    return 0;
}

int zs_curve_public (const char *spec, char out[ZS_KEY_TEXT], char *err,
                     size_t errlen)
{
    if (s_z85 (spec) && access (spec, F_OK) != 0) {
        snprintf (out, ZS_KEY_TEXT, "%s", spec);
        return 0;
    }
    zs_keypair_t kp;
    if (zs_curve_load (spec, false, &kp, err, errlen) != 0)
        return -1;
    snprintf (out, ZS_KEY_TEXT, "%s", kp.public_);
    return 0;
}

int zs_curve_server (void *sock, const zs_keypair_t *kp)
{
    int one = 1;
    if (zmq_setsockopt (sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0
        || zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, kp->secret, 40) != 0
        || zmq_setsockopt (sock, ZMQ_ZAP_DOMAIN, "zscan", 5) != 0)
        return -1;
    return 0;
}

int zs_curve_client (void *sock, const zs_keypair_t *kp, const char *server)
{
    if (zmq_setsockopt (sock, ZMQ_CURVE_SERVERKEY, server, 40) != 0
        || zmq_setsockopt (sock, ZMQ_CURVE_PUBLICKEY, kp->public_, 40) != 0
        || zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, kp->secret, 40) != 0)
        return -1;
    return 0;
}

int zs_curve_client_init (zs_curve_client_t *self, const char *cert,
                          const char *server, char *err, size_t errlen)
{
    memset (self, 0, sizeof *self);
    bool c = cert && *cert, s = server && *server;
    if (!c && !s)
        return 0;
    if (c != s) {
        snprintf (err, errlen, "CURVE needs both --curve-cert (this "
                               "program's certificate) and --curve-server "
                               "(the broker's public key)");
        return -1;
    }
    if (!zmq_has ("curve")) {
        snprintf (err, errlen, "this libzmq has no CURVE support");
        return -1;
    }
    if (zs_curve_load (cert, true, &self->mine, err, errlen) != 0
        || zs_curve_public (server, self->server, err, errlen) != 0)
        return -1;
    self->on = true;
    return 0;
}

int zs_curve_client_apply (const zs_curve_client_t *self, void *sock)
{
    if (!self || !self->on)
        return 0;
    return zs_curve_client (sock, &self->mine, self->server);
}

bool zs_endpoint_local (const char *endpoint)
{
    if (!strncmp (endpoint, "ipc://", 6) || !strncmp (endpoint, "inproc://", 9))
        return true;
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return false;
    const char *host = endpoint + 6;
    const char *colon = strrchr (host, ':');
    if (!colon)
        return false;
    char h[256];
    size_t n = (size_t) (colon - host);
    if (n >= sizeof h)
        return false;
    memcpy (h, host, n);
    h[n] = 0;
    if (h[0] == '[') { /* [::1] */
        size_t l = strlen (h);
        if (l < 2 || h[l - 1] != ']')
            return false;
        memmove (h, h + 1, l - 2);
        h[l - 2] = 0;
    }
    if (!strcmp (h, "localhost"))
        return true;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton (AF_INET, h, &a4) == 1)
        return (ntohl (a4.s_addr) >> 24) == 127;
    if (inet_pton (AF_INET6, h, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK (&a6);
    return false; /* *, an interface name, another address */
}
