/*  zs_bench_cluster.c - the distributed core end to end, on loopback, each
    figure next to an in-run reference:

    - scaling: symbols/s of a 10,000 x 1,260-bar synthetic scan through the
      broker with 1 and with 2 single-lane workers, against the engine's
      own single-thread rate measured in this process, pass by pass next
      to the scans; and per core used: the workers' symbols per CPU-second
      (every thread of theirs) against the engine's symbols per CPU-second;
      with 2 workers also against the engine on 2 threads in this process
      (how far the machine lets the engine itself scale); all over TCP on
      loopback, then 1 worker again over Unix sockets (as zscan local);
    - the worker's floor: the CPU a process spends encoding and publishing
      the results of that scan (computed beforehand) to a subscriber in
      another process, over TCP and Unix sockets, against the engine's
      CPU per symbol: engine + floor bound what any worker can deliver per
      CPU-second (the "worker ceiling" rows);
    - result bus: results/s delivered (all of them, counted) with a trivial
      filter over 200,000 short synthetic histories, against raw ZeroMQ
      PUB -> XSUB/XPUB proxy -> SUB of 200-byte messages in this process;
    - stop latency: from the broker receiving a stop to the last worker
      letting go of the scan's batches (the broker's idle_ms), median and
      p99 over 20 stops;
    - time to first result: from sending scan_start to the first result
      arriving, median over 20 scans.

    Prints BENCH lines (see bench/run).  Starts zscan-broker and
    zscan-worker from ZSCAN_BIN (or next to this program).

    - the cost of CURVE: the result bus's figure through a cluster with
      CURVE on every socket, against one without, scans alternated;

    - from the first scan: a fresh cluster's first and second scans of a
      10,000-symbol universe against its fourth (warm);

    For profiling one part: ZS_BENCH_ONLY=scaling|warm|bus|curve|history|stop runs
    only it,
    ZS_BENCH_WORKERS=N measures scaling with N workers only,
    ZS_BENCH_REPEAT=N measures N scans instead of 10, ZS_BENCH_NORAW=1 skips
    the raw ZeroMQ reference, ZS_BENCH_LOG=debug keeps the programs' logs
    (per task: results, time, CPU time, time publishing, idle before it)
    and prints each scan's first/last result and finished times,
    ZS_BENCH_THREADS=1 prints each worker thread's CPU time per scan.
*/
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

static char s_bin[PATH_MAX];

/* ---------------------------------------------------------------------- */
/*  Processes                                                              */

typedef struct {
    pid_t pids[8];
    int n;
    int base;
    char ipc[64];           /* the Unix sockets' directory, or ""        */
    zs_client_t *client;
} s_cluster_t;

#define MAX_THREADS 64

/*  CPU time used so far by each thread of a process (in /proc order, at
    most MAX_THREADS), in seconds: the scheduler's own nanosecond account,
    /proc/PID/task/TID/schedstat; with names when names is not NULL.
    Returns how many threads, or -1 when the process cannot be read. */
static int s_thread_cpu (pid_t pid, double *cpu, char names[][32])
{
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/task", (int) pid);
    DIR *dir = opendir (path);
    if (!dir)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir (dir)) != NULL && n < MAX_THREADS) {
        if (e->d_name[0] == '.')
            continue;
        char f[320];
        snprintf (f, sizeof f, "/proc/%d/task/%.200s/schedstat", (int) pid,
                  e->d_name);
        FILE *fp = fopen (f, "r");
        unsigned long long ns = 0;
        if (fp) {
            if (fscanf (fp, "%llu", &ns) != 1)
                ns = 0;
            fclose (fp);
        }
        cpu[n] = (double) ns / 1e9;
        if (names) {
            snprintf (f, sizeof f, "/proc/%d/task/%.200s/comm", (int) pid,
                      e->d_name);
            fp = fopen (f, "r");
            names[n][0] = 0;
            if (fp) {
                if (!fgets (names[n], 32, fp))
                    names[n][0] = 0;
                names[n][strcspn (names[n], "\n")] = 0;
                fclose (fp);
            }
        }
        n++;
    }
    closedir (dir);
    return n;
}

/*  CPU time used so far by every thread of a process, in seconds; -1 when
    it cannot be read. */
static double s_cpu_seconds (pid_t pid)
{
    double cpu[MAX_THREADS], total = 0;
    int n = s_thread_cpu (pid, cpu, NULL);
    for (int k = 0; k < n; k++)
        total += cpu[k];
    return n < 0 ? -1 : total;
}

static void s_thread_report (pid_t pid, const char *what,
                             const double *before, int scans)
{
    double now[MAX_THREADS];
    char names[MAX_THREADS][32];
    int n = s_thread_cpu (pid, now, names);
    double total = 0;
    for (int k = 0; k < n; k++) {
        fprintf (stderr, "bench: %s %d thread %-14s %7.3f ms CPU per scan\n",
                 what, (int) pid, names[k],
                 (now[k] - before[k]) * 1e3 / scans);
        total += now[k] - before[k];
    }
    fprintf (stderr, "bench: %s %d in all %7.3f ms CPU per scan\n", what,
             (int) pid, total * 1e3 / scans);
}

/* The CPU seconds of the cluster's workers (pids[1..]). */
static double s_workers_cpu (const s_cluster_t *c)
{
    double total = 0;
    for (int i = 1; i < c->n; i++) {
        double s = s_cpu_seconds (c->pids[i]);
        if (s < 0)
            return -1;
        total += s;
    }
    return total;
}

static bool s_port_free (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons ((uint16_t) port);
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    bool ok = fd >= 0 && bind (fd, (struct sockaddr *) &a, sizeof a) == 0;
    if (fd >= 0)
        close (fd);
    return ok;
}

static int s_free_base (int count)
{
    for (int tries = 0; tries < 500; tries++) {
        int base = 20000 + rand () % 40000;
        bool ok = true;
        for (int k = 0; k < count && ok; k++)
            ok = s_port_free (base + k);
        if (ok)
            return base;
    }
    return -1;
}

static void s_spawn (s_cluster_t *c, char **argv)
{
    pid_t pid = fork ();
    if (pid == 0) {
        setpgid (0, 0);
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        /* ZS_BENCH_LOG=LEVEL keeps the programs' logs (profiling) */
        int null = getenv ("ZS_BENCH_LOG") ? -1 : open ("/dev/null", 1);
        if (null >= 0) {
            dup2 (null, 1);
            dup2 (null, 2);
        }
        execv (argv[0], argv);
        _exit (127);
    }
    c->pids[c->n++] = pid;
}

static void s_request_ok (zs_client_t *client, zmq_msg_t *reply);

/*  When set, the next s_cluster_start runs with CURVE on every socket:
    keys made there (the broker's, and w and c in allow/: the broker skips
    their secret files). */
static const char *s_curve_dir;

static int s_curve_keys (const char *dir)
{
    char path[PATH_MAX], err[512];
    snprintf (path, sizeof path, "%s/allow", dir);
    if (mkdir (path, 0700) != 0)
        return -1;
    const char *names[] = {"broker", "allow/w", "allow/c"};
    for (int i = 0; i < 3; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, names[i]);
        if (zs_curve_keygen (path, err, sizeof err) != 0) {
            fprintf (stderr, "bench: %s\n", err);
            return -1;
        }
    }
    return 0;
}

/*  Starts a broker and workers (1 lane each): with ipc, over Unix sockets
    in a fresh directory (as `zscan local` runs), else over TCP on free
    ports; each worker first loads the bars of the universe preload when
    it is not NULL. */
static int s_cluster_start (s_cluster_t *c, int workers, const char *data,
                            bool ipc, const char *preload, int delay_us)
{
    memset (c, 0, sizeof *c);
    c->base = s_free_base (6);
    if (ipc) {
        snprintf (c->ipc, sizeof c->ipc, "/tmp/zscan-bench-XXXXXX");
        if (!mkdtemp (c->ipc))
            return -1;
    }
    char port[16], broker[PATH_MAX + 16], worker[PATH_MAX + 16];
    snprintf (port, sizeof port, "%d", c->base);
    snprintf (broker, sizeof broker, "%s/zscan-broker", s_bin);
    snprintf (worker, sizeof worker, "%s/zscan-worker", s_bin);
    char *level = getenv ("ZS_BENCH_LOG") ? getenv ("ZS_BENCH_LOG")
                                          : (char *) "error";
    char bcert[PATH_MAX], ballow[PATH_MAX], wcert[PATH_MAX], ccert[PATH_MAX];
    snprintf (bcert, sizeof bcert, "%s/broker", s_curve_dir ? s_curve_dir : "");
    snprintf (ballow, sizeof ballow, "%s/allow", s_curve_dir ? s_curve_dir : "");
    snprintf (wcert, sizeof wcert, "%s/allow/w",
              s_curve_dir ? s_curve_dir : "");
    snprintf (ccert, sizeof ccert, "%s/allow/c",
              s_curve_dir ? s_curve_dir : "");
    char *bargv[20] = {broker, "--bind", "127.0.0.1", "--port", port,
                       "--data", (char *) data, "--log-level", level,
                       "--progress-ms", "1000"};
    int bk = 11;
    if (ipc) {
        bargv[bk++] = "--ipc";
        bargv[bk++] = c->ipc;
    }
    if (s_curve_dir) {
        bargv[bk++] = "--curve-cert";
        bargv[bk++] = bcert;
        bargv[bk++] = "--curve-allow";
        bargv[bk++] = ballow;
    }
    bargv[bk] = NULL;
    s_spawn (c, bargv);
    for (int i = 0; i < workers; i++) {
        char id[16];
        snprintf (id, sizeof id, "bench%d", i);
        char *wargv[20] = {worker, "--port", port, "--threads", "1", "--id",
                           id, "--data", (char *) data, "--log-level", level};
        int k = 11;
        if (s_curve_dir) {
            wargv[k++] = "--curve-cert";
            wargv[k++] = wcert;
            wargv[k++] = "--curve-server";
            wargv[k++] = bcert;
        }
        if (ipc) {
            wargv[k++] = "--ipc";
            wargv[k++] = c->ipc;
        }
        if (preload) {
            wargv[k++] = "--preload";
            wargv[k++] = (char *) preload;
        }
        char delay[16];
        if (delay_us) {
            snprintf (delay, sizeof delay, "%d", delay_us);
            wargv[k++] = "--symbol-delay-us";
            wargv[k++] = delay;
        }
        wargv[k] = NULL;
        s_spawn (c, wargv);
    }
    char api[PATH_MAX + 32], res[PATH_MAX + 32], err[256];
    snprintf (api, sizeof api, "tcp://127.0.0.1:%d", c->base);
    snprintf (res, sizeof res, "tcp://127.0.0.1:%d", c->base + 5);
    if (ipc) {
        snprintf (api, sizeof api, "ipc://%s/api", c->ipc);
        snprintf (res, sizeof res, "ipc://%s/results-out", c->ipc);
    }
    zs_curve_client_t curve = {0};
    if (s_curve_dir
        && zs_curve_client_init (&curve, ccert, bcert, err, sizeof err)
               != 0) {
        fprintf (stderr, "bench: %s\n", err);
        return -1;
    }
    c->client = zs_client_new (api, res, &curve, err, sizeof err);
    if (!c->client)
        return -1;
    /* wait for the broker, then for every lane to ask for work */
    for (int i = 0; i < 100; i++) {
        zs_worker_list_t m = {0};
        m.req = c->client->next_req++;
        zs_buf_reset (&c->client->buf);
        zs_worker_list_encode (&m, &c->client->buf, err, sizeof err);
        zmq_msg_t reply;
        zmq_msg_init (&reply);
        if (zs_client_call (c->client, &reply, 200, err, sizeof err) == 0) {
            zs_workers_t w = {0};
            uint32_t lanes = 0;
            if (zs_workers_decode (zmq_msg_data (&reply),
                                   zmq_msg_size (&reply), &w, err,
                                   sizeof err)
                == 0)
                for (size_t k = 0; k < w.nworkers; k++)
                    lanes += w.workers[k].lanes;
            zs_msg_free (&w.mem_);
            zmq_msg_close (&reply);
            if (lanes >= (uint32_t) workers)
                return 0;
        }
        else
            zmq_msg_close (&reply);
        usleep (50000);
    }
    fprintf (stderr, "bench: the cluster did not come up\n");
    return -1;
}

static void s_cluster_stop (s_cluster_t *c)
{
    zs_client_destroy (&c->client);
    for (int i = c->n - 1; i >= 0; i--)
        kill (c->pids[i], SIGTERM);
    for (int i = 0; i < c->n; i++)
        waitpid (c->pids[i], NULL, 0);
    c->n = 0;
    if (c->ipc[0] && rmdir (c->ipc) != 0)
        fprintf (stderr, "bench: cannot remove %s: %s\n", c->ipc,
                 strerror (errno));
}

/* ---------------------------------------------------------------------- */
/*  One scan, streamed to the end                                          */

typedef struct {
    uint64_t results, signals, total;
    double t_sent, t_first, t_end; /* seconds, monotonic */
    double broker_first_ms;  /* the broker's own: request to first result */
    zs_end_reason_t reason;
    uint64_t last_pos;       /* position of the last record              */
    uint64_t gaps;           /* holes: records missing from what came     */
    uint64_t filled;         /* records the bus fetched from the history  */
    char id[32];             /* the scan's id (s_scan's last)              */
} s_run_t;

static double s_now (void)
{
    return (double) zs_clock_us () / 1e6;
}

static void s_request_ok (zs_client_t *client, zmq_msg_t *reply)
{
    char err[512];
    if (zs_client_call (client, reply, 10000, err, sizeof err) != 0) {
        fprintf (stderr, "bench: %s\n", err);
        exit (1);
    }
}

/*  Starts a scan (subscribed first) and returns once it is running. */
static void s_start (zs_client_t *client, const char *id,
                     const char *universe, const char *filter, s_run_t *run)
{
    zs_bus_t *bus = zs_client_bus (client);
    if (!bus || zs_bus_subscribe (bus, id, ZS_VIEW_ALL) != 0) {
        fprintf (stderr, "bench: cannot subscribe\n");
        exit (1);
    }
    zs_scan_start_t m = {0};
    m.req = client->next_req++;
    m.scan = id;
    m.universe = universe;
    m.def.filter = filter;
    m.sync = true;
    char err[512];
    zs_buf_reset (&client->buf);
    zs_scan_start_encode (&m, &client->buf, err, sizeof err);
    memset (run, 0, sizeof *run);
    run->t_sent = s_now ();
    zmq_msg_t reply;
    zmq_msg_init (&reply);
    s_request_ok (client, &reply);
    if (zs_client_reply_error (&reply, ZS_MSG_SCAN_STARTED, err,
                               sizeof err)) {
        fprintf (stderr, "bench: scan_start: %s\n", err);
        exit (1);
    }
    zmq_msg_close (&reply);
    zs_bus_follow (bus, id, ZS_VIEW_ALL, 0, true);
}

/*  Reads records until the finished event (or stop_after results, when
    not 0: then returns with the scan still running). */
static void s_follow (zs_client_t *client, s_run_t *run,
                      uint64_t stop_after)
{
    zs_bus_t *bus = zs_client_bus (client);
    for (;;) {
        zs_bus_event_t ev;
        if (zs_bus_next (bus, 30000, &ev) != 1) {
            fprintf (stderr, "bench: no records for 30 s\n");
            exit (1);
        }
        if (ev.what != ZS_BUS_RECORD) {
            fprintf (stderr, "bench: %s\n", ev.reason);
            exit (1);
        }
        {
            zs_bus_rec_t rec = ev.rec;
            if (ev.replayed)
                run->filled++;
            const void *d = rec.data;
            size_t n = rec.size;
            /* every record of the scan has its position, gap-free from
               1: the bus filled any hole from the broker's history */
            if (rec.pos != run->last_pos + 1)
                run->gaps++;
            run->last_pos = rec.pos;
            if (rec.kind != ZS_TOPIC_EVENT) {
                /* a subscriber that counts, like the raw reference's: the
                   broker derives a record's topic from its body, and the
                   sequence check above proves nothing was lost */
                if (!run->results)
                    run->t_first = s_now ();
                run->results++;
                if (rec.kind == ZS_TOPIC_RESULT_SIGNAL)
                    run->signals++;
            }
            else {
                zs_msg_type_t type;
                char err[128];
                if (zs_msg_peek (d, n, &type, err, sizeof err) == 0
                    && type == ZS_MSG_EV_FINISHED) {
                    zs_ev_finished_t f = {0};
                    if (zs_ev_finished_decode (d, n, &f, err, sizeof err)
                        == 0) {
                        run->reason = f.reason;
                        run->total = f.total;
                        run->broker_first_ms = f.first_result_ms;
                    }
                    zs_msg_free (&f.mem_);
                    run->t_end = s_now ();
                    return;
                }
            }
            if (stop_after && run->results >= stop_after)
                return;
        }
    }
}

static double s_scan (zs_client_t *client, const char *universe,
                      const char *filter, s_run_t *run)
{
    static int k = 0;
    char id[32];
    snprintf (id, sizeof id, "b%d-%d", (int) getpid (), k++);
    s_start (client, id, universe, filter, run);
    snprintf (run->id, sizeof run->id, "%s", id);
    s_follow (client, run, 0);
    if (getenv ("ZS_BENCH_LOG"))
        fprintf (stderr, "bench %.3f: scan %s: first result %.2f ms, "
                 "finished %.2f ms (broker: first result %.2f ms after the "
                 "request)\n", fmod (zs_wall (), 60.0) - (s_now () - run->t_first), id, (run->t_first - run->t_sent) * 1e3,
                 (run->t_end - run->t_sent) * 1e3, run->broker_first_ms);
    return run->t_end - run->t_sent;
}

/* ---------------------------------------------------------------------- */
/*  References measured here                                               */

static int s_count (void *arg, size_t i, const char *s,
                    const zs_symresult_t *r)
{
    (void) i, (void) s;
    *(size_t *) arg += r->signal;
    return 0;
}

/*  The engine alone, in this process, on the same 10,000 synthetic
    symbols: generated once, then measured pass by pass, each pass next to
    a cluster scan so that both see the machine in the same state. */
typedef struct {
    zs_source_t *src;
    zs_strlist_t syms;
    zs_scanner_t *sc;
    zs_scanner_t *more[2];  /* the threads of the 2-thread pass          */
    zs_scan_t *scan;
    size_t sig;
    double cpu;             /* CPU seconds of the passes counted ...      */
    double scanned;         /* ... and their symbols                      */
    double cpu2, scanned2;  /* the same of the 2-thread passes            */
} s_engine_t;

typedef struct {
    s_engine_t *e;
    zs_scanner_t *sc;
    size_t from, n, sig;
    double cpu;             /* CPU seconds the slice took                 */
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
static double s_engine_pass2 (s_engine_t *e)
{
    s_slice_t sl[2];
    pthread_t th[2];
    size_t half = e->syms.size / 2;
    double t0 = (double) zs_clock_us () / 1e6;
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
    return (double) e->syms.size / ((double) zs_clock_us () / 1e6 - t0);
}

static int s_engine_init (s_engine_t *e)
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
static double s_engine_pass (s_engine_t *e)
{
    double t0 = s_now (), c0 = s_thread_cpu_now ();
    zs_scanner_run (e->sc, e->scan, e->src, (const char *const *) e->syms.items,
                    e->syms.size, s_count, &e->sig);
    e->cpu += s_thread_cpu_now () - c0;
    e->scanned += e->syms.size;
    return (double) e->syms.size / (s_now () - t0);
}

static void s_engine_fini (s_engine_t *e)
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
static double s_raw_rate (long n, size_t size, long *lost)
{
    int base = s_free_base (2);
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
            t0 = s_now ();
        got++;
        t1 = s_now ();
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

static int s_keep (void *arg, size_t i, const char *s,
                   const zs_symresult_t *r)
{
    s_kept_t *k = (s_kept_t *) arg;
    k[i].symbol = s;
    k[i].r = *r;
    return 0;
}

/*  The sink: subscribes to everything at endpoint; at each message with
    topic "floor.end" writes one byte to stdout, at "floor.quit" exits. */
static int s_sink (const char *endpoint)
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
                          const zs_scan_t *scan, const s_kept_t *kept,
                          size_t n, zs_buf_t *buf, int from_sink)
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
static double s_floor (s_engine_t *e, bool ipc, int rounds,
                        double *encode_rate)
{
    size_t n = e->syms.size;
    s_kept_t *kept = (s_kept_t *) calloc (n, sizeof *kept);
    if (!kept)
        return -1;
    zs_scanner_run (e->sc, e->scan, e->src,
                    (const char *const *) e->syms.items, n, s_keep, kept);
    char endpoint[128];
    if (ipc)
        snprintf (endpoint, sizeof endpoint, "ipc:///tmp/zs-floor-%d",
                  (int) getpid ());
    else
        snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d",
                  s_free_base (1));
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
        snprintf (self, sizeof self, "%s/zs-bench-cluster", s_bin);
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
        s_engine_pass (e);
        double c0 = s_cpu_seconds (getpid ());
        if (s_floor_round (xpub, &enc, e->scan, kept, n, &buf, fd[0]) != 0)
            break;
        cpu += s_cpu_seconds (getpid ()) - c0;
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

/* ---------------------------------------------------------------------- */
/*  History: replays served, late joiners                                  */

/*  Reads a finished scan's whole history with raw replay requests on the
    api (no bus logic: pages asked back to back, records counted from
    each message's position frame and body); returns records/s, the
    records read in *records. */
static double s_replay_rate (zs_client_t *client, const char *scan,
                             uint64_t *records)
{
    uint64_t after = 0;
    *records = 0;
    double t0 = s_now ();
    for (;;) {
        zs_replay_t m = {0};
        m.req = client->next_req++;
        m.scan = scan;
        m.after = after;
        char err[256];
        zs_buf_reset (&client->buf);
        zs_replay_encode (&m, &client->buf, err, sizeof err);
        zmq_send (client->dealer, client->buf.data, client->buf.size, 0);
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, client->dealer, 0) < 0)
            return 0;
        zs_replay_page_t page = {0};
        if (zs_replay_page_decode (zmq_msg_data (&part), zmq_msg_size (&part),
                                   &page, err, sizeof err)
            != 0) {
            fprintf (stderr, "bench: replay: %s\n", err);
            return 0;
        }
        int more = zmq_msg_more (&part);
        int k = 0;
        while (more) {
            zmq_msg_close (&part);
            zmq_msg_init (&part);
            zmq_msg_recv (&part, client->dealer, 0);
            more = zmq_msg_more (&part);
            if (k++ % 3 == 2) { /* the body */
                zs_recs_t it;
                int n = zs_recs_init (&it, zmq_msg_data (&part),
                                      zmq_msg_size (&part), err, sizeof err);
                if (n > 0)
                    *records += (uint64_t) n;
            }
        }
        zmq_msg_close (&part);
        bool done = page.done || page.next >= page.head;
        after = page.next;
        zs_msg_free (&page.mem_);
        if (done)
            break;
    }
    return (double) *records / (s_now () - t0);
}

/*  A second client joins scan (running, position `head` published when it
    joins) through the bus: the time from its follow until it has handed
    out everything up to head and then a record that came live: caught
    up.  Returns seconds, or -1. */
static double s_late_join (const char *api, const char *res,
                           const char *scan, uint64_t *replayed)
{
    char err[256];
    zs_client_t *late = zs_client_new (api, res, NULL, err, sizeof err);
    zs_bus_t *bus = late ? zs_client_bus (late) : NULL;
    if (!bus) {
        fprintf (stderr, "bench: late joiner: %s\n", late ? "no bus" : err);
        zs_client_destroy (&late);
        return -1;
    }
    double t0 = s_now ();
    zs_bus_follow (bus, scan, ZS_VIEW_ALL, 0, false);
    double caught = -1;
    uint64_t last = 0;
    for (;;) {
        zs_bus_event_t ev;
        if (zs_bus_next (bus, 10000, &ev) != 1 || ev.what != ZS_BUS_RECORD
            || ev.rec.pos != last + 1) {
            fprintf (stderr, "bench: late joiner: %s at %llu after %llu\n",
                     ev.what == ZS_BUS_RECORD ? "a record" : ev.reason,
                     (unsigned long long) ev.rec.pos,
                     (unsigned long long) last);
            break;
        }
        last = ev.rec.pos;
        if (!ev.replayed) {
            caught = s_now () - t0;
            break;
        }
    }
    zs_bus_stats_t st;
    zs_bus_stats (bus, &st);
    *replayed = st.replayed;
    zs_client_destroy (&late);
    return caught;
}

static int s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double s_quantile (double *v, int n, double q)
{
    qsort (v, (size_t) n, sizeof (double), s_cmp_double);
    int i = (int) (q * (n - 1) + 0.5);
    return v[i];
}

int main (int argc, char **argv)
{
    if (argc == 3 && strcmp (argv[1], "--sink") == 0)
        return s_sink (argv[2]);
    const char *env = getenv ("ZSCAN_BIN");
    if (env)
        snprintf (s_bin, sizeof s_bin, "%s", env);
    else {
        char self[PATH_MAX];
        ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
        self[n > 0 ? n : 0] = 0;
        snprintf (s_bin, sizeof s_bin, "%s", dirname (self));
    }
    srand ((unsigned) (zs_clock_us () ^ getpid ()));
    signal (SIGPIPE, SIG_IGN);

    /* ZS_BENCH_ONLY=scaling|bus|history|stop runs one part (profiling) */
    const char *only = getenv ("ZS_BENCH_ONLY");
#define PART(name) (!only || !*only || strcmp (only, name) == 0)

    /* 1. scaling */
    s_engine_t eng;
    if (PART ("scaling") && s_engine_init (&eng) != 0)
        return 1;
    /* ZS_BENCH_WORKERS=N measures only N workers (profiling) */
    /* over TCP with 1 and 2 workers, then 1 worker over Unix sockets (as
       `zscan local` runs it); ZS_BENCH_WORKERS=N: N over TCP only */
    int configs[3][2] = {{1, 0}, {2, 0}, {1, 1}}, nconfigs = 3;
    if (getenv ("ZS_BENCH_WORKERS")) {
        configs[0][0] = atoi (getenv ("ZS_BENCH_WORKERS"));
        nconfigs = 1;
    }
    for (int ci = 0; ci < nconfigs && PART ("scaling"); ci++) {
        int workers = configs[ci][0];
        bool ipc = configs[ci][1] != 0;
        s_cluster_t c;
        /* every worker holds the bars of all 10,000 symbols before the
           first scan (--preload): which worker gets which symbol changes
           from scan to scan, and generating a symbol costs ~50x scanning
           it, so a worker that met a symbol for the first time during
           the measured scans would distort them */
        if (s_cluster_start (&c, workers, "synthetic:", ipc,
                             "synthetic:10000", 0)
            != 0)
            return 1;
        s_run_t run;
        /* then warm the rest (caches, rates the broker sizes batches
           by): at least 3 scans, until the workers' CPU time per scan
           stops falling (at most 20) */
        double last_cpu = 1e9;
        for (int w = 0; w < 20; w++) {
            double c0 = s_workers_cpu (&c);
            s_scan (c.client, "synthetic:10000", NULL, &run);
            double used = s_workers_cpu (&c) - c0;
            if (w >= 3 && used > last_cpu * 0.95)
                break;
            last_cpu = used;
        }
        double best = 0;
        /* 10 scans, each next to an engine pass: on a shared machine the
           best of each is the figure least disturbed by the neighbours
           (ZS_BENCH_REPEAT=N measures N) */
        int repeat = getenv ("ZS_BENCH_REPEAT")
                         ? atoi (getenv ("ZS_BENCH_REPEAT")) : 10;
        double cpu_threads[8][MAX_THREADS] = {{0}};
        if (getenv ("ZS_BENCH_THREADS"))
            for (int i = 0; i < c.n; i++)
                s_thread_cpu (c.pids[i], cpu_threads[i], NULL);
        double cpu0 = s_workers_cpu (&c);
        double self0 = s_cpu_seconds (getpid ());
        long scanned = 0;
        double engine = 0, engine2 = 0;
        eng.cpu = eng.scanned = eng.cpu2 = eng.scanned2 = 0;
        for (int i = 0; i < (repeat > 0 ? repeat : 10); i++) {
            /* the reference and ours, side by side (best of each) */
            double e = s_engine_pass (&eng);
            if (e > engine)
                engine = e;
            if (workers == 2) {
                e = s_engine_pass2 (&eng);
                if (e > engine2)
                    engine2 = e;
            }
            double secs = s_scan (c.client, "synthetic:10000", NULL, &run);
            scanned += (long) run.results;
            if (run.results != 10000 || run.gaps) {
                fprintf (stderr, "bench: %llu results, %llu gaps\n",
                         (unsigned long long) run.results,
                         (unsigned long long) run.gaps);
                return 1;
            }
            if (10000 / secs > best)
                best = 10000 / secs;
        }
        /* the engine passes ran while the workers idled: their CPU time
           counts only the scans */
        double cpu = s_workers_cpu (&c) - cpu0;
        if (getenv ("ZS_BENCH_THREADS")) {
            int scans = repeat > 0 ? repeat : 10;
            for (int i = 0; i < c.n; i++)
                s_thread_report (c.pids[i], i ? "worker" : "broker",
                                 cpu_threads[i], scans);
            /* this process's live threads, less the single-thread engine
               passes its main thread ran: the subscriber (the 2-thread
               passes ran in threads gone by now) */
            fprintf (stderr, "bench: subscriber (this process) %7.3f ms CPU "
                             "per scan\n",
                     (s_cpu_seconds (getpid ()) - self0 - eng.cpu) * 1e3
                         / scans);
        }
        s_cluster_stop (&c);
        printf ("BENCH\tcluster: 10k x 1,260 bars, broker + %d worker%s "
                "(1 lane each)%s\t%.0f\tsym/s\tengine 1 thread x %d\t%.0f\n",
                workers, workers > 1 ? "s" : "",
                ipc ? " over Unix sockets (as zscan local)" : "", best,
                workers, engine * workers);
        if (workers == 2)
            printf ("BENCH\tcluster: the same (2 workers) against the engine "
                    "on 2 threads in one process\t%.0f\tsym/s\tengine 2 "
                    "threads\t%.0f\n",
                    best, engine2);
        /* per worker core used: symbols per CPU-second the workers spent
           (every thread: lanes, I/O, main), against the engine alone
           counted the same way (symbols per CPU-second of its passes, all
           of them, as the workers' are all of their scans) - what the
           workers deliver for the cores they get, whatever the broker and
           the subscriber take of this machine's others */
        if (cpu > 0 && eng.cpu > 0)
            printf ("BENCH\tcluster: the same, symbols per worker CPU-second"
                    " (%d worker%s%s)\t%.0f\tsym/s\tengine 1 thread, "
                    "symbols per CPU-second\t%.0f\n",
                    workers, workers > 1 ? "s" : "",
                    ipc ? ", Unix sockets" : "",
                    (double) scanned / cpu, eng.scanned / eng.cpu);
        if (workers == 2 && cpu > 0 && eng.cpu2 > 0)
            printf ("BENCH\tcluster: the same (2 workers), symbols per worker "
                    "CPU-second against the engine's on 2 threads\t%.0f\t"
                    "sym/s\tengine 2 threads, symbols per CPU-second\t%.0f\n",
                    (double) scanned / cpu, eng.scanned2 / eng.cpu2);
    }

    /* the worker's floor, over TCP and over Unix sockets, next to engine
       passes: the engine's CPU per symbol plus the floor's bounds what a
       worker can deliver per CPU-second (the last row: that bound, as
       symbols per CPU-second, against the engine's) */
    for (int ipc = 0; ipc < 2 && PART ("scaling"); ipc++) {
        double encode = 0;
        double floor = s_floor (&eng, ipc, 10, ipc ? NULL : &encode);
        if (floor <= 0 || eng.cpu <= 0)
            return 1;
        double engine = eng.scanned / eng.cpu;
        const char *how = ipc ? "Unix sockets" : "TCP";
        printf ("BENCH\tworker floor: encoding and publishing the 10k results "
                "without the engine (%s), symbols per CPU-second\t%.0f\t"
                "sym/s\tengine 1 thread, symbols per CPU-second\t%.0f\n",
                how, floor, engine);
        if (!ipc && encode > 0)
            printf ("BENCH\tworker floor, encoding alone (no ZeroMQ), symbols "
                    "per CPU-second\t%.0f\tsym/s\tengine 1 thread, symbols "
                    "per CPU-second\t%.0f\n",
                    encode, engine);
        printf ("BENCH\tworker ceiling: engine + that floor (%s), symbols per "
                "CPU-second\t%.0f\tsym/s\tengine 1 thread, symbols per "
                "CPU-second\t%.0f\n",
                how, 1 / (1 / engine + 1 / floor), engine);
    }

    if (PART ("scaling"))
        s_engine_fini (&eng);

    /* 2. the result bus */
    if (PART ("bus")) {
        long lost = 0;
        /* ZS_BENCH_NORAW=1 skips the reference (for profiling) */
        double raw = 1;
        for (int i = 0; i < 3 && !getenv ("ZS_BENCH_NORAW"); i++) {
            long l = 0; /* the best of 3, like ours below */
            double r = s_raw_rate (1000000, 200, &l);
            lost += l;
            if (r > raw)
                raw = r;
        }
        s_cluster_t c;
        if (s_cluster_start (&c, 2, "synthetic:bars=30", false, NULL, 0)
            != 0)
            return 1;
        s_run_t run;
        s_scan (c.client, "synthetic:200000", "close > 0", &run); /* warm */
        /* the best of 3 scans, each checked complete and gap-free */
        double best = 0;
        long missing = 0;
        uint64_t gaps = 0;
        for (int i = 0; i < 3; i++) {
            double secs = s_scan (c.client, "synthetic:200000", "close > 0",
                                  &run);
            missing += 200000 - (long) run.results;
            gaps += run.gaps;
            if ((double) run.results / secs > best)
                best = (double) run.results / secs;
        }
        s_cluster_stop (&c);
        printf ("BENCH\tbus: results delivered, trivial filter, 2 workers "
                "(all of them: %ld missing, %llu gaps)\t%.0f\tresults/s\t"
                "raw PUB->XSUB/XPUB->SUB, 200 B (%ld lost)\t%.0f\n",
                missing, (unsigned long long) gaps, best, lost, raw);
        if (missing != 0 || gaps)
            return 1;
    }

    /* 2b. a stalled subscriber, replays, late joiners */
    /* 1b. from the first scan: a fresh cluster (broker + 2 single-lane
       workers, TCP, nothing preloaded) scans a 10,000 x 1,260-bar
       synthetic universe 4 times; the first and the second scan's rates
       against the fourth's (warm: with cache affinity each worker holds
       its share from the first scan on) */
    if (PART ("warm")) {
        double first = 0, second = 0, fourth = 0;
        for (int round = 0; round < 2; round++) {
            s_cluster_t c;
            if (s_cluster_start (&c, 2, "synthetic:", false, NULL, 0) != 0)
                return 1;
            s_run_t run;
            double r[4];
            for (int i = 0; i < 4; i++)
                r[i] = (double) 10000
                       / s_scan (c.client, "synthetic:10000",
                                 "rsi(14) < 30 and close > sma(50)", &run);
            s_cluster_stop (&c);
            first = r[0] > first ? r[0] : first;
            second = r[1] > second ? r[1] : second;
            fourth = r[3] > fourth ? r[3] : fourth;
        }
        printf ("BENCH\tcluster: first scan of a fresh cluster, 10k x 1260 "
                "bars, 2 workers\t%.0f\tsym/s\tthe fourth scan (warm)\t"
                "%.0f\n",
                first, fourth);
        printf ("BENCH\tcluster: second scan of a fresh cluster (cache "
                "affinity)\t%.0f\tsym/s\tthe fourth scan (warm)\t%.0f\n",
                second, fourth);
    }

    /* 2b. the cost of CURVE: the same scans through a cluster with CURVE
       on every socket and one without, alternated */
    if (PART ("curve")) {
        char dir[] = "/tmp/zscan-bench-keys-XXXXXX";
        if (!mkdtemp (dir) || s_curve_keys (dir) != 0)
            return 1;
        s_cluster_t plain, sec;
        if (s_cluster_start (&plain, 2, "synthetic:bars=30", false, NULL, 0)
            != 0)
            return 1;
        s_curve_dir = dir;
        int rc = s_cluster_start (&sec, 2, "synthetic:bars=30", false, NULL,
                                  0);
        s_curve_dir = NULL;
        if (rc != 0)
            return 1;
        s_run_t run;
        s_scan (plain.client, "synthetic:200000", "close > 0", &run);
        s_scan (sec.client, "synthetic:200000", "close > 0", &run);
        double best[2] = {0, 0};
        long missing = 0;
        for (int i = 0; i < 6; i++) {
            s_cluster_t *c = i % 2 ? &sec : &plain;
            double secs = s_scan (c->client, "synthetic:200000", "close > 0",
                                  &run);
            missing += 200000 - (long) run.results;
            if ((double) run.results / secs > best[i % 2])
                best[i % 2] = (double) run.results / secs;
        }
        s_cluster_stop (&sec);
        s_cluster_stop (&plain);
        char cmd[PATH_MAX];
        snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system (cmd) != 0)
            fprintf (stderr, "bench: cannot remove %s\n", dir);
        printf ("BENCH\tbus with CURVE on every socket: results delivered, "
                "2 workers (%ld missing)\t%.0f\tresults/s\tthe same "
                "without CURVE, alternated\t%.0f\n",
                missing, best[1], best[0]);
        if (missing != 0)
            return 1;
    }

    if (PART ("history")) {
        s_cluster_t c;
        if (s_cluster_start (&c, 2, "synthetic:bars=30", false, NULL, 0)
            != 0)
            return 1;
        s_run_t run;
        s_scan (c.client, "synthetic:200000", "close > 0", &run); /* warm */
        /* a subscriber to everything that never reads, there every other
           round: the healthy subscriber's rate with it and without it */
        void *ctx = zmq_ctx_new ();
        char res[64];
        snprintf (res, sizeof res, "tcp://127.0.0.1:%d", c.base + 5);
        double with = 0, without = 0;
        uint64_t filled = 0;
        for (int i = 0; i < 10; i++) {
            void *stalled = NULL;
            if (i % 2) {
                stalled = zmq_socket (ctx, ZMQ_SUB);
                int one = 1, zero = 0;
                zmq_setsockopt (stalled, ZMQ_RCVHWM, &one, sizeof one);
                zmq_setsockopt (stalled, ZMQ_LINGER, &zero, sizeof zero);
                zmq_connect (stalled, res);
                zmq_setsockopt (stalled, ZMQ_SUBSCRIBE, "", 0);
            }
            usleep (200000); /* the same pause before every round */
            double secs = s_scan (c.client, "synthetic:200000", "close > 0",
                                  &run);
            if (run.results != 200000 || run.gaps) {
                fprintf (stderr, "bench: %llu results, %llu gaps\n",
                         (unsigned long long) run.results,
                         (unsigned long long) run.gaps);
                return 1;
            }
            double rate = (double) run.results / secs;
            if (getenv ("ZS_BENCH_LOG"))
                fprintf (stderr, "bench: round %d (%s): %.0f results/s\n",
                         i, stalled ? "stalled subscriber" : "alone", rate);
            if (stalled) {
                filled += run.filled;
                if (rate > with)
                    with = rate;
                zmq_close (stalled);
            }
            else if (rate > without)
                without = rate;
        }
        printf ("BENCH\tbus with a stalled subscriber present: results "
                "delivered to a healthy one (all of them; %llu fetched from "
                "the history)\t%.0f\tresults/s\tthe same with no stalled "
                "subscriber\t%.0f\n",
                (unsigned long long) filled, with, without);
        /* replays of the last 200,000-record scan, served from history */
        char id[64];
        double replay = 0;
        uint64_t records = 0;
        snprintf (id, sizeof id, "%s", run.id);
        for (int i = 0; i < 3; i++) {
            double r = s_replay_rate (c.client, id, &records);
            if (r <= 0 || records < 200000) {
                fprintf (stderr, "bench: replay of %s: %llu records\n", id,
                         (unsigned long long) records);
                return 1;
            }
            if (r > replay)
                replay = r;
        }
        printf ("BENCH\treplay: records served from the history (a "
                "finished scan, %llu records, pages back to back)\t%.0f\t"
                "records/s\tlive delivery, the same scan\t%.0f\n",
                (unsigned long long) records, replay, without);
        s_cluster_stop (&c);
        zmq_ctx_term (ctx);

        /* a late joiner of a running 100,000-record scan, joining at
           about half way: slowed workers make the scan last ~2 s */
        if (s_cluster_start (&c, 2, "synthetic:bars=30", false, NULL, 40)
            != 0)
            return 1;
        char api[64];
        snprintf (api, sizeof api, "tcp://127.0.0.1:%d", c.base);
        snprintf (res, sizeof res, "tcp://127.0.0.1:%d", c.base + 5);
        double joins[3];
        uint64_t replayed = 0;
        for (int i = 0; i < 3; i++) {
            snprintf (id, sizeof id, "late%d-%d", (int) getpid (), i);
            s_start (c.client, id, "synthetic:100000", "close > 0", &run);
            s_follow (c.client, &run, 50000);
            joins[i] = s_late_join (api, res, id, &replayed) * 1e3;
            s_follow (c.client, &run, 0);
            if (joins[i] < 0) {
                fprintf (stderr, "bench: the late joiner did not catch up\n");
                return 1;
            }
        }
        s_cluster_stop (&c);
        if (getenv ("ZS_BENCH_LOG"))
            fprintf (stderr, "bench: the late joiner replayed %llu records\n",
                     (unsigned long long) replayed);
        printf ("BENCH\tlate joiner of a 100,000-record scan at half way "
                "(about 50,000 records replayed): time to catch up\t%.2f\t"
                "ms\t-\t-\n", s_quantile (joins, 3, 0.5));
    }

    /* 3. stop latency and 4. time to first result */
    if (PART ("stop")) {
        s_cluster_t c;
        if (s_cluster_start (&c, 2, "synthetic:", false, NULL, 0) != 0)
            return 1;
        s_run_t run;
        s_scan (c.client, "synthetic:2000", NULL, &run); /* warm 2,000 */
        double first[20];
        for (int i = 0; i < 20; i++) {
            s_scan (c.client, "synthetic:2000", NULL, &run);
            first[i] = (run.t_first - run.t_sent) * 1e3;
        }
        double idle[20];
        for (int i = 0; i < 20; i++) {
            char id[32];
            snprintf (id, sizeof id, "stop%d-%d", (int) getpid (), i);
            /* a long scan (cold bars), stopped once results flow */
            s_start (c.client, id, "synthetic:400000", NULL, &run);
            s_follow (c.client, &run, 100);
            zs_scan_stop_t m = {0};
            m.req = c.client->next_req++;
            m.scan = id;
            char err[256];
            zs_buf_reset (&c.client->buf);
            zs_scan_stop_encode (&m, &c.client->buf, err, sizeof err);
            zmq_msg_t reply;
            zmq_msg_init (&reply);
            s_request_ok (c.client, &reply);
            zmq_msg_close (&reply);
            s_follow (c.client, &run, 0);
            idle[i] = -1;
            for (int k = 0; k < 200 && idle[i] < 0; k++) {
                zs_scan_status_t q = {0};
                q.req = c.client->next_req++;
                q.scan = id;
                zs_buf_reset (&c.client->buf);
                zs_scan_status_encode (&q, &c.client->buf, err, sizeof err);
                zmq_msg_init (&reply);
                s_request_ok (c.client, &reply);
                zs_scan_info_msg_t info = {0};
                if (zs_scan_info_msg_decode (zmq_msg_data (&reply),
                                             zmq_msg_size (&reply), &info,
                                             err, sizeof err)
                    == 0)
                    idle[i] = info.info.idle_ms;
                zs_msg_free (&info.mem_);
                zmq_msg_close (&reply);
                if (idle[i] < 0)
                    usleep (1000);
            }
        }
        s_cluster_stop (&c);
        printf ("BENCH\tstop latency, median of 20 (stop to last worker "
                "idle)\t%.3f\tms\t-\t-\n",
                s_quantile (idle, 20, 0.5));
        printf ("BENCH\tstop latency, p99 of 20\t%.3f\tms\t-\t-\n",
                s_quantile (idle, 20, 0.99));
        printf ("BENCH\ttime to first result, median of 20\t%.3f\tms\t-\t-"
                "\n",
                s_quantile (first, 20, 0.5));
    }
    return 0;
}
