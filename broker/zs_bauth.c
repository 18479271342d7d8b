/*  zs_bauth.c - see zs_bauth.h.  */
#include "zs_bauth.h"
#include "zs_curve.h"
#include "zs_util.h"

#include <czmq.h>
#include <dirent.h>
#include <string.h>

struct zs_bauth_t {
    void *rep;              /* inproc://zeromq.zap.01                    */
    zhashx_t *keys;         /* Z85 public key -> role (as a pointer)     */
    size_t allowed, denied;
};

/*  Adds every certificate of dir (public files; NAME_secret skipped). */
static int s_load_dir (zs_bauth_t *self, const char *dir, zs_role_t role,
                       char *err, size_t errlen)
{
    DIR *d = opendir (dir);
    if (!d) {
        snprintf (err, errlen, "key directory %s: %s", dir, strerror (errno));
        return -1;
    }
    struct dirent *e;
    int n = 0;
    while ((e = readdir (d))) {
        size_t len = strlen (e->d_name);
        if (e->d_name[0] == '.'
            || (len > 7 && !strcmp (e->d_name + len - 7, "_secret")))
            continue;
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
        zs_keypair_t kp;
        char why[512];
        if (zs_curve_load (path, false, &kp, why, sizeof why) != 0) {
            zs_warn ("keys: %s: skipped (%s)", path, why);
            continue;
        }
        /* a key in both sets keeps the larger role */
        intptr_t had = (intptr_t) zhashx_lookup (self->keys, kp.public_);
        if (had < (intptr_t) role) {
            zhashx_delete (self->keys, kp.public_);
            zhashx_insert (self->keys, kp.public_, (void *) (intptr_t) role);
        }
        n++;
    }
    closedir (d);
    zs_info ("keys: %d %s key%s from %s", n,
             role == ZS_ROLE_FULL ? "allowed" : "read-only",
             n == 1 ? "" : "s", dir);
    return 0;
}

zs_bauth_t *zs_bauth_new (void *ctx, const char *allow_dir,
                          const char *read_dir, char *err, size_t errlen)
{
    zs_bauth_t *self = (zs_bauth_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->keys = zhashx_new ();
    if (!self->keys || s_load_dir (self, allow_dir, ZS_ROLE_FULL, err, errlen)
        || (read_dir && *read_dir
            && s_load_dir (self, read_dir, ZS_ROLE_READ, err, errlen))) {
        zs_bauth_destroy (&self);
        return NULL;
    }
    self->rep = zmq_socket (ctx, ZMQ_REP);
    int linger = 0;
    if (self->rep)
        zmq_setsockopt (self->rep, ZMQ_LINGER, &linger, sizeof linger);
    if (!self->rep || zmq_bind (self->rep, "inproc://zeromq.zap.01") != 0) {
        snprintf (err, errlen, "cannot serve ZAP: %s", zmq_strerror (errno));
        zs_bauth_destroy (&self);
        return NULL;
    }
    return self;
}

void zs_bauth_destroy (zs_bauth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_bauth_t *self = *self_p;
    if (self->rep)
        zmq_close (self->rep);
    zhashx_destroy (&self->keys);
    free (self);
    *self_p = NULL;
}

void *zs_bauth_socket (zs_bauth_t *self)
{
    return self->rep;
}

static void s_send (void *sock, const char *s, size_t n, bool more)
{
    zmq_send (sock, s, n, more ? ZMQ_SNDMORE : 0);
}

void zs_bauth_handle (zs_bauth_t *self)
{
    for (;;) {
        /* version, request id, domain, address, routing id, mechanism,
           then the mechanism's credentials (CURVE: the client key) */
        zmq_msg_t f[8];
        int n = 0, more = 1;
        while (more) {
            zmq_msg_t part;
            zmq_msg_init (&part);
            if (zmq_msg_recv (&part, self->rep, n ? 0 : ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&part);
                if (!n)
                    return;
                break;
            }
            more = zmq_msg_more (&part);
            if (n < 8) {
                zmq_msg_init (&f[n]);
                zmq_msg_move (&f[n], &part);
                n++;
            }
            zmq_msg_close (&part);
        }
        char status[4] = "400", why[64] = "malformed request";
        char key[ZS_KEY_TEXT] = "", addr[64] = "?";
        if (n >= 7) {
            size_t al = zmq_msg_size (&f[3]);
            snprintf (addr, sizeof addr, "%.*s", (int) (al < 63 ? al : 63),
                      (char *) zmq_msg_data (&f[3]));
            bool curve = zmq_msg_size (&f[5]) == 5
                         && !memcmp (zmq_msg_data (&f[5]), "CURVE", 5);
            if (curve && zmq_msg_size (&f[6]) == 32) {
                zmq_z85_encode (key, (const uint8_t *) zmq_msg_data (&f[6]),
                                32);
                if (zhashx_lookup (self->keys, key)) {
                    memcpy (status, "200", 4);
                    snprintf (why, sizeof why, "OK");
                }
                else
                    snprintf (why, sizeof why, "key not authorised");
            }
            else
                snprintf (why, sizeof why, "CURVE required");
        }
        if (status[0] == '2')
            self->allowed++;
        else {
            self->denied++;
            zs_warn ("refused a connection from %s: %s%s%s", addr, why,
                     key[0] ? " " : "", key);
        }
        /* version, request id, status, text, user id (the key), metadata */
        s_send (self->rep, "1.0", 3, true);
        if (n >= 2)
            s_send (self->rep, (const char *) zmq_msg_data (&f[1]),
                    zmq_msg_size (&f[1]), true);
        else
            s_send (self->rep, "", 0, true);
        s_send (self->rep, status, 3, true);
        s_send (self->rep, why, strlen (why), true);
        s_send (self->rep, key, status[0] == '2' ? strlen (key) : 0, true);
        s_send (self->rep, "", 0, false);
        for (int i = 0; i < n; i++)
            zmq_msg_close (&f[i]);
    }
}

void zs_bauth_key (zs_bauth_t *self, zmq_msg_t *msg, char *key)
{
    key[0] = 0;
    if (!self)
        return;
    const char *uid = zmq_msg_gets (msg, "User-Id");
    if (uid && strlen (uid) == 40)
        snprintf (key, ZS_KEY_TEXT, "%s", uid);
}

zs_role_t zs_bauth_role (zs_bauth_t *self, zmq_msg_t *msg)
{
    if (!self)
        return ZS_ROLE_FULL;
    char key[ZS_KEY_TEXT];
    zs_bauth_key (self, msg, key);
    if (!key[0])
        return ZS_ROLE_NONE;
    return (zs_role_t) (intptr_t) zhashx_lookup (self->keys, key);
}

void zs_bauth_counts (zs_bauth_t *self, size_t *allowed, size_t *denied)
{
    *allowed = self ? self->allowed : 0;
    *denied = self ? self->denied : 0;
}
