/*  zs_bauth.c - see zs_bauth.h.  */
#include "zs_bauth.h"
#include "zs_curve.h"
#include "zs_util.h"

#include <czmq.h>
#include <dirent.h>
#include <sys/stat.h>
#include <string.h>

struct zs_bauth_t {
    void *rep;              /* inproc://zeromq.zap.01                    */
    zhashx_t *keys;         /* Z85 public key -> role (as a pointer)     */
    size_t allowed, denied;
    char *dirs[2];          /* allowed, read-only (or NULL)              */
    int64_t loaded_us;      /* when the directories were last read       */
    struct timespec mtime[2]; /* and their modification times then       */
};

static struct timespec s_mtime (const char *dir)
{
    struct stat st;
    struct timespec none = {0, 0};
    return dir && stat (dir, &st) == 0 ? st.st_mtim : none;
}

/*  Whether a directory changed since it was read (a file added, removed
    or renamed in it). */
static bool s_changed (zs_bauth_t *self)
{
    for (int i = 0; i < 2; i++) {
        struct timespec t = s_mtime (self->dirs[i]);
        if (t.tv_sec != self->mtime[i].tv_sec
            || t.tv_nsec != self->mtime[i].tv_nsec)
            return true;
    }
    return false;
}

/*  Adds every certificate of dir (public files; NAME_secret skipped) to
    keys; *count gets how many. */
static int s_load_dir (zhashx_t *keys, const char *dir, zs_role_t role,
                       int *count, char *err, size_t errlen)
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
        intptr_t had = (intptr_t) zhashx_lookup (keys, kp.public_);
        if (had < (intptr_t) role) {
            zhashx_delete (keys, kp.public_);
            zhashx_insert (keys, kp.public_, (void *) (intptr_t) role);
        }
        n++;
    }
    closedir (d);
    *count = n;
    return 0;
}

/*  Reads both directories into a new table and takes it (keys added or
    removed since take effect: a removed key's connections lose their
    role at their next message).  Says what it read when that changed. */
static int s_load (zs_bauth_t *self, char *err, size_t errlen)
{
    struct timespec mtime[2] = {s_mtime (self->dirs[0]),
                                s_mtime (self->dirs[1])};
    zhashx_t *keys = zhashx_new ();
    int n[2] = {0, 0};
    if (!keys) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    if (s_load_dir (keys, self->dirs[0], ZS_ROLE_FULL, &n[0], err, errlen)
        || (self->dirs[1]
            && s_load_dir (keys, self->dirs[1], ZS_ROLE_READ, &n[1], err,
                           errlen))) {
        zhashx_destroy (&keys);
        return -1;
    }
    bool changed = !self->keys || zhashx_size (keys) != zhashx_size (self->keys);
    for (void *v = zhashx_first (keys); v && !changed; v = zhashx_next (keys))
        changed = zhashx_lookup (self->keys, zhashx_cursor (keys)) != v;
    if (changed)
        zs_info ("keys: %d allowed from %s, %d read-only%s%s", n[0],
                 self->dirs[0], n[1], self->dirs[1] ? " from " : "",
                 self->dirs[1] ? self->dirs[1] : "");
    zhashx_destroy (&self->keys);
    self->keys = keys;
    self->loaded_us = zs_clock_us ();
    self->mtime[0] = mtime[0];
    self->mtime[1] = mtime[1];
    return 0;
}

void zs_bauth_reload (zs_bauth_t *self, int64_t every_ms)
{
    if (!self
        || (zs_clock_us () - self->loaded_us < every_ms * 1000
            && !s_changed (self)))
        return;
    char err[512];
    if (s_load (self, err, sizeof err) != 0)
        zs_warn ("keys: %s (the keys read before stay)", err);
}

zs_bauth_t *zs_bauth_new (void *ctx, const char *allow_dir,
                          const char *read_dir, char *err, size_t errlen)
{
    zs_bauth_t *self = (zs_bauth_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->dirs[0] = strdup (allow_dir);
    self->dirs[1] = read_dir && *read_dir ? strdup (read_dir) : NULL;
    if (!self->dirs[0] || (read_dir && *read_dir && !self->dirs[1])
        || s_load (self, err, errlen) != 0) {
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
    free (self->dirs[0]);
    free (self->dirs[1]);
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
                /* a key not known yet may have been added since: read
                   the directories again if they changed (or a second
                   has passed: a file replaced in place) */
                if (!zhashx_lookup (self->keys, key))
                    zs_bauth_reload (self, 1000);
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
