/*  zs_bc_refs.c - the references the cluster bench measures in its own
    process, next to the cluster's figures: the engine alone (1 and 2
    threads), raw ZeroMQ through a proxy, and the worker's floor (what
    encoding and publishing the results costs a process).
*/
#include "zs_bc.h"
#include "zs_bars.h"
#include "zs_client.h"
#include "zs_curve.h"
#include "zs_topic.h"
#include "zs_util.h"
#include "zs_wresult.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

/* ---------------------------------------------------------------------- */
/*  References measured here */

static int s_count (void *arg, size_t i, const char *s, const zs_symresult_t *r)
{
    (void) i, (void) s;
    *(size_t *) arg += r->signal;
    return 0;
}

typedef struct {
    bc_engine_t *e;
    zs_scanner_t *sc;
    size_t from, n, sig;
    double cpu; /* CPU seconds the slice took */
} s_slice_t;

static double s_thread_cpu_now (void);

static void *s_slice_main (void *arg)
{
    s_slice_t *sl = (s_slice_t *) arg;
    double c0 = s_thread_cpu_now ();
    zs_scanner_run (sl->sc, sl->e->scan, sl->e->src,
                    (const char *const *) sl->e->syms.items + sl->from, sl->n,
                    s_count, &sl->sig);
    sl->cpu = s_thread_cpu_now () - c0;
    return NULL;
}

/*  The engine on 2 threads in this process, each on half of the symbols
    (what 2 single-lane workers get, without the bus): symbols/s.  Shows
    how far the machine itself lets the engine scale. */
double bc_engine_pass2 (bc_engine_t *e)
{
    s_slice_t sl[2];
    pthread_t th[2];
    size_t half = e->syms.size / 2;
    double t0 = bc_now ();
    for (int i = 0; i < 2; i++) {
        sl[i].e = e;
        sl[i].sc = e->more[i];
        sl[i].from = i ? half : 0;
        sl[i].n = i ? e->syms.size - half : half;
        sl[i].sig = 0;
        pthread_create (&th[i], NULL, s_slice_main, &sl[i]);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join (th[i], NULL);
        e->cpu2 += sl[i].cpu;
    }
    e->scanned2 += e->syms.size;
    return (double) e->syms.size / (bc_now () - t0);
}

int bc_engine_init (bc_engine_t *e)
{
    char err[256];
    memset (e, 0, sizeof *e);
    e->src = zs_source_open ("synthetic:", 0, err, sizeof err);
    e->sc = zs_scanner_new ();
    e->more[0] = zs_scanner_new ();
    e->more[1] = zs_scanner_new ();
    e->scan = zs_scan_compile (NULL, NULL, NULL, 0, NULL, err, sizeof err);
    if (!e->src || !e->sc || !e->scan
        || zs_universe_expand ("synthetic:10000", e->src, &e->syms, err,
                               sizeof err)
               != 0) {
        fprintf (stderr, "bench: engine: %s\n", err);
        return -1;
    }
    zs_scanner_run (e->sc, e->scan, e->src, (const char *const *) e->syms.items,
                    e->syms.size, s_count, &e->sig); /* generates: warm-up */
    return 0;
}

/* This thread's CPU time so far, in seconds. */
static double s_thread_cpu_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/*  One pass: symbols/s of wall time; adds the CPU time the pass took to
    e->cpu (the engine's own symbols per CPU-second, the reference of the
    workers' symbols per CPU-second). */
double bc_engine_pass (bc_engine_t *e)
{
    double t0 = bc_now (), c0 = s_thread_cpu_now ();
    zs_scanner_run (e->sc, e->scan, e->src, (const char *const *) e->syms.items,
                    e->syms.size, s_count, &e->sig);
    e->cpu += s_thread_cpu_now () - c0;
    e->scanned += e->syms.size;
    return (double) e->syms.size / (bc_now () - t0);
}

void bc_engine_fini (bc_engine_t *e)
{
    zs_scan_destroy (&e->scan);
    zs_scanner_destroy (&e->sc);
    zs_scanner_destroy (&e->more[0]);
    zs_scanner_destroy (&e->more[1]);
    zs_strlist_clear (&e->syms);
    zs_source_destroy (&e->src);
}

typedef struct {
    void *ctx;
    char in[64];
    long n;
    size_t size;
} s_raw_t;

static void *s_raw_publisher (void *arg)
{
    s_raw_t *raw = (s_raw_t *) arg;
    void *pub = zmq_socket (raw->ctx, ZMQ_PUB);
    int one = 1, hwm = 10000;
    zmq_setsockopt (pub, ZMQ_XPUB_NODROP, &one, sizeof one);
    zmq_setsockopt (pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_connect (pub, raw->in);
    /* wait for the subscription to arrive through the proxy */
    usleep (300000);
    char body[256];
    memset (body, 'x', sizeof body);
    for (long i = 0; i < raw->n; i++) {
        zmq_send (pub, "bench.r1", 8, ZMQ_SNDMORE);
        zmq_send (pub, body, raw->size, 0);
    }
    int linger = 5000;
    zmq_setsockopt (pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close (pub);
    return NULL;
}

typedef struct {
    void *xsub, *xpub;
} s_proxy_t;

static void *s_raw_proxy (void *arg)
{
    s_proxy_t *p = (s_proxy_t *) arg;
    zmq_proxy (p->xsub, p->xpub, NULL); /* until the context ends */
    zmq_close (p->xsub);
    zmq_close (p->xpub);
    return NULL;
}

/*  Raw ZeroMQ: PUB -> XSUB/XPUB proxy -> SUB on loopback, lossless
    (NODROP), n messages of size bytes; returns messages/s received. */
double bc_raw_rate (long n, size_t size, long *lost)
{
    int base = bc_free_base (2);
    s_raw_t raw;
    raw.ctx = zmq_ctx_new ();
    snprintf (raw.in, sizeof raw.in, "tcp://127.0.0.1:%d", base);
    raw.n = n;
    raw.size = size;
    char out[64];
    snprintf (out, sizeof out, "tcp://127.0.0.1:%d", base + 1);
    s_proxy_t proxy;
    proxy.xsub = zmq_socket (raw.ctx, ZMQ_XSUB);
    proxy.xpub = zmq_socket (raw.ctx, ZMQ_XPUB);
    int one = 1, hwm = 100000;
    zmq_setsockopt (proxy.xpub, ZMQ_XPUB_NODROP, &one, sizeof one);
    zmq_setsockopt (proxy.xpub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (proxy.xsub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_bind (proxy.xsub, raw.in);
    zmq_bind (proxy.xpub, out);
    pthread_t pt, pp;
    pthread_create (&pp, NULL, s_raw_proxy, &proxy);
    void *sub = zmq_socket (raw.ctx, ZMQ_SUB);
    int zero = 0, timeout = 3000;
    zmq_setsockopt (sub, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt (sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0);
    zmq_connect (sub, out);
    pthread_create (&pt, NULL, s_raw_publisher, &raw);
    long got = 0;
    double t0 = 0, t1 = 0;
    char buf[512];
    while (got < n) {
        if (zmq_recv (sub, buf, sizeof buf, 0) < 0)
            break;
        zmq_recv (sub, buf, sizeof buf, 0);
        if (!got)
            t0 = bc_now ();
        got++;
        t1 = bc_now ();
    }
    *lost = n - got;
    pthread_join (pt, NULL);
    zmq_close (sub);
    zmq_ctx_shutdown (raw.ctx);
    pthread_join (pp, NULL);
    zmq_ctx_term (raw.ctx);
    return got > 1 ? (double) (got - 1) / (t1 - t0) : 0;
}

/* ---------------------------------------------------------------------- */
/*  The worker's floor: what publishing one result per symbol costs a
    process that does nothing else - the results of a 10,000-symbol default
    scan, computed beforehand, encoded into batches as a lane encodes them
    (the same encoder, at most ZS_LANE_BATCH a message) and handed to
    ZeroMQ for a subscriber in another process (the sink: this program
    again, with --sink).  A worker spends at least the engine's CPU plus
    this per symbol, so engine and floor together bound what a worker can
    deliver per CPU-second.  Not counted here, and paid by a worker on
    top: decoding tasks, reports and credit, and the scheduler. */

typedef struct {
    const char *symbol;
    zs_symresult_t r;
} s_kept_t;

static int s_keep (void *arg, size_t i, const char *s, const zs_symresult_t *r)
{
    s_kept_t *k = (s_kept_t *) arg;
    k[i].symbol = s;
    k[i].r = *r;
    return 0;
}

/*  The sink: subscribes to everything at endpoint; at each message with
    topic "floor.end" writes one byte to stdout, at "floor.quit" exits. */
int bc_sink (const char *endpoint)
{
    void *ctx = zmq_ctx_new ();
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    int zero = 0, timeout = 10000;
    zmq_setsockopt (sub, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt (sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0);
    if (zmq_connect (sub, endpoint) != 0)
        return 1;
    int rc = 1;
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, sub, 0) < 0)
            break; /* nothing for 10 s: the parent is gone */
        size_t len = zmq_msg_size (&msg);
        const char *t = (const char *) zmq_msg_data (&msg);
        bool end = len == 9 && memcmp (t, "floor.end", 9) == 0;
        bool quit = len == 10 && memcmp (t, "floor.quit", 10) == 0;
        while (zmq_msg_more (&msg)) {
            zmq_msg_close (&msg);
            zmq_msg_init (&msg);
            if (zmq_msg_recv (&msg, sub, 0) < 0)
                break;
        }
        zmq_msg_close (&msg);
        if (end && write (1, "k", 1) != 1)
            break;
        if (quit) {
            rc = 0;
            break;
        }
    }
    zmq_close (sub);
    zmq_ctx_term (ctx);
    return rc;
}

/*  One round: the kept results, encoded and published; waits for the
    sink to have them all (xpub NULL: encoded only).  Returns -1 on a
    failure. */
static int s_floor_round (void *xpub, const zs_result_enc_t *enc,
                          const zs_scan_t *scan, const s_kept_t *kept, size_t n,
                          zs_buf_t *buf, int from_sink)
{
    zs_result_t r;
    memset (&r, 0, sizeof r);
    char err[256];
    size_t nbatch = 0;
    for (size_t i = 0; i < n; i++) {
        zs_wresult_fill (&r, scan, i, kept[i].symbol, &kept[i].r);
        r.wseq = i + 1;
        if (!nbatch && zs_recs_open (buf) != 0) {
            fprintf (stderr, "bench: floor: out of memory\n");
            return -1;
        }
        if (zs_result_encode_with (enc, &r, buf, err, sizeof err) != 0) {
            fprintf (stderr, "bench: floor: %s\n", err);
            return -1;
        }
        if (++nbatch == ZS_LANE_BATCH || i + 1 == n) {
            size_t len;
            const char *start = zs_recs_close (buf, (uint32_t) nbatch, &len);
            if (xpub) {
                zmq_send (xpub, "floor.r", 7, ZMQ_SNDMORE);
                zmq_send (xpub, start, len, 0);
            }
            nbatch = 0;
        }
    }
    if (!xpub)
        return 0; /* encoding only */
    zmq_send (xpub, "floor.end", 9, ZMQ_SNDMORE);
    zmq_send (xpub, "", 0, 0);
    char c;
    return read (from_sink, &c, 1) == 1 ? 0 : -1;
}

/*  The floor over one transport (ipc: Unix sockets, else TCP), rounds
    alternating with engine passes (the reference, counted afresh in e):
    returns the floor's symbols per CPU-second of this process (every
    thread: encoding in this one, sending in ZeroMQ's), or -1; with
    encode_rate, also the symbols per CPU-second of encoding alone. */
double bc_floor (bc_engine_t *e, bool ipc, int rounds, double *encode_rate)
{
    size_t n = e->syms.size;
    s_kept_t *kept = (s_kept_t *) calloc (n, sizeof *kept);
    if (!kept)
        return -1;
    zs_scanner_run (e->sc, e->scan, e->src, (const char *const *) e->syms.items,
                    n, s_keep, kept);
    char endpoint[128];
    if (ipc)
        snprintf (endpoint, sizeof endpoint, "ipc:///tmp/zs-floor-%d",
                  (int) getpid ());
    else
        snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d",
                  bc_free_base (1));
    void *ctx = zmq_ctx_new ();
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    /* as a lane's: lossless, a few batches queued, then it waits */
    int one = 1, hwm = 100, timeout = 10000;
    zmq_setsockopt (xpub, ZMQ_XPUB_NODROP, &one, sizeof one);
    zmq_setsockopt (xpub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (xpub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    double rate = -1;
    int fd[2] = {-1, -1};
    pid_t pid = -1;
    if (zmq_bind (xpub, endpoint) != 0 || pipe (fd) != 0) {
        fprintf (stderr, "bench: floor: %s\n", zmq_strerror (errno));
        goto done;
    }
    pid = fork ();
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        dup2 (fd[1], 1);
        char self[PATH_MAX + 32];
        snprintf (self, sizeof self, "%s/zs-bench-cluster", bc_bin);
        execl (self, self, "--sink", endpoint, (char *) NULL);
        _exit (127);
    }
    close (fd[1]);
    fd[1] = -1;
    char sub[64];
    if (pid < 0 || zmq_recv (xpub, sub, sizeof sub, 0) < 1 || sub[0] != 1) {
        fprintf (stderr, "bench: floor: the sink did not subscribe\n");
        goto done;
    }
    zs_result_enc_t enc;
    char err[256];
    if (zs_result_enc_init (&enc, "floor", "w1", 0, 1, 1, err, sizeof err)
        != 0) {
        fprintf (stderr, "bench: floor: %s\n", err);
        goto done;
    }
    zs_buf_t buf = {0};
    /* one round to warm up, then the measured ones */
    if (s_floor_round (xpub, &enc, e->scan, kept, n, &buf, fd[0]) != 0)
        goto done_buf;
    e->cpu = e->scanned = 0;
    double cpu = 0;
    int r = 0;
    for (; r < rounds; r++) {
        bc_engine_pass (e);
        double c0 = bc_cpu_seconds (getpid ());
        if (s_floor_round (xpub, &enc, e->scan, kept, n, &buf, fd[0]) != 0)
            break;
        cpu += bc_cpu_seconds (getpid ()) - c0;
    }
    if (r == rounds && cpu > 0)
        rate = (double) n * rounds / cpu;
    /* of which encoding (this thread alone, nothing sent) */
    if (encode_rate) {
        double c0 = s_thread_cpu_now ();
        for (int k = 0; k < rounds; k++)
            s_floor_round (NULL, &enc, e->scan, kept, n, &buf, -1);
        double c = s_thread_cpu_now () - c0;
        *encode_rate = c > 0 ? (double) n * rounds / c : -1;
    }
done_buf:
    zs_buf_free (&buf);
done:
    zmq_send (xpub, "floor.quit", 10, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (xpub, "", 0, ZMQ_DONTWAIT);
    int linger = 1000;
    zmq_setsockopt (xpub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close (xpub);
    zmq_ctx_term (ctx);
    if (ipc) /* ZeroMQ leaves the socket file behind */
        unlink (endpoint + strlen ("ipc://"));
    if (pid > 0) {
        kill (pid, SIGTERM);
        waitpid (pid, NULL, 0);
    }
    if (fd[0] >= 0)
        close (fd[0]);
    if (fd[1] >= 0)
        close (fd[1]);
    free (kept);
    return rate;
}

/* ---------------------------------------------------------------------- */
