/*  zs_bc_cluster.c - the cluster bench's processes: a broker and workers
    started on loopback (TCP or Unix sockets, with CURVE or without),
    their CPU time, and one scan streamed through them to its end.
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

char bc_bin[PATH_MAX];

/* ---------------------------------------------------------------------- */
/*  Processes */

/*  CPU time used so far by each thread of a process (in /proc order, at
    most MAX_THREADS), in seconds: the scheduler's own nanosecond account,
    /proc/PID/task/TID/schedstat; with names when names is not NULL.
    Returns how many threads, or -1 when the process cannot be read. */
int bc_thread_cpu (pid_t pid, double *cpu, char names[][32])
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
double bc_cpu_seconds (pid_t pid)
{
    double cpu[MAX_THREADS], total = 0;
    int n = bc_thread_cpu (pid, cpu, NULL);
    for (int k = 0; k < n; k++)
        total += cpu[k];
    return n < 0 ? -1 : total;
}

void bc_thread_report (pid_t pid, const char *what, const double *before,
                       int scans)
{
    double now[MAX_THREADS];
    char names[MAX_THREADS][32];
    int n = bc_thread_cpu (pid, now, names);
    double total = 0;
    for (int k = 0; k < n; k++) {
        fprintf (stderr, "bench: %s %d thread %-14s %7.3f ms CPU per scan\n",
                 what, (int) pid, names[k], (now[k] - before[k]) * 1e3 / scans);
        total += now[k] - before[k];
    }
    fprintf (stderr, "bench: %s %d in all %7.3f ms CPU per scan\n", what,
             (int) pid, total * 1e3 / scans);
}

/* The CPU seconds of the cluster's workers (pids[1..]). */
double bc_workers_cpu (const bc_cluster_t *c)
{
    double total = 0;
    for (int i = 1; i < c->n; i++) {
        double s = bc_cpu_seconds (c->pids[i]);
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

int bc_free_base (int count)
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

static void s_spawn (bc_cluster_t *c, char **argv)
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

/*  When set, the next bc_cluster_start runs with CURVE on every socket:
    keys made there (the broker's, and w and c in allow/: the broker skips
    their secret files). */
const char *bc_curve_dir;

int bc_curve_keys (const char *dir)
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
int bc_cluster_start (bc_cluster_t *c, int workers, const char *data, bool ipc,
                      const char *preload, int delay_us)
{
    memset (c, 0, sizeof *c);
    c->base = bc_free_base (6);
    if (ipc) {
        snprintf (c->ipc, sizeof c->ipc, "/tmp/zscan-bench-XXXXXX");
        if (!mkdtemp (c->ipc))
            return -1;
    }
    char port[16], broker[PATH_MAX + 16], worker[PATH_MAX + 16];
    snprintf (port, sizeof port, "%d", c->base);
    snprintf (broker, sizeof broker, "%s/zscan-broker", bc_bin);
    snprintf (worker, sizeof worker, "%s/zscan-worker", bc_bin);
    char *level =
        getenv ("ZS_BENCH_LOG") ? getenv ("ZS_BENCH_LOG") : (char *) "error";
    char bcert[PATH_MAX], ballow[PATH_MAX], wcert[PATH_MAX], ccert[PATH_MAX];
    snprintf (bcert, sizeof bcert, "%s/broker",
              bc_curve_dir ? bc_curve_dir : "");
    snprintf (ballow, sizeof ballow, "%s/allow",
              bc_curve_dir ? bc_curve_dir : "");
    snprintf (wcert, sizeof wcert, "%s/allow/w",
              bc_curve_dir ? bc_curve_dir : "");
    snprintf (ccert, sizeof ccert, "%s/allow/c",
              bc_curve_dir ? bc_curve_dir : "");
    char *bargv[20] = {broker, "--bind",        "127.0.0.1",   "--port",
                       port,   "--data",        (char *) data, "--log-level",
                       level,  "--progress-ms", "1000"};
    int bk = 11;
    if (ipc) {
        bargv[bk++] = "--ipc";
        bargv[bk++] = c->ipc;
    }
    if (bc_curve_dir) {
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
        char *wargv[20] = {worker,        "--port",      port, "--threads",
                           "1",           "--id",        id,   "--data",
                           (char *) data, "--log-level", level};
        int k = 11;
        if (bc_curve_dir) {
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
    if (bc_curve_dir
        && zs_curve_client_init (&curve, ccert, bcert, err, sizeof err) != 0) {
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
            if (zs_workers_decode (zmq_msg_data (&reply), zmq_msg_size (&reply),
                                   &w, err, sizeof err)
                == 0)
                for (size_t k = 0; k < w.nworkers; k++)
                    lanes += w.workers[k].lanes;
            zs_msg_free (&w.mem_);
            zmq_msg_close (&reply);
            if (lanes >= (uint32_t) workers)
                return 0;
        } else
            zmq_msg_close (&reply);
        usleep (50000);
    }
    fprintf (stderr, "bench: the cluster did not come up\n");
    return -1;
}

void bc_cluster_stop (bc_cluster_t *c)
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
/*  One scan, streamed to the end */

double bc_now (void)
{
    return (double) zs_clock_us () / 1e6;
}

void bc_request_ok (zs_client_t *client, zmq_msg_t *reply)
{
    char err[512];
    if (zs_client_call (client, reply, 10000, err, sizeof err) != 0) {
        fprintf (stderr, "bench: %s\n", err);
        exit (1);
    }
}

/*  Starts a scan (subscribed first) and returns once it is running. */
void bc_start (zs_client_t *client, const char *id, const char *universe,
               const char *filter, bc_run_t *run)
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
    run->t_sent = bc_now ();
    zmq_msg_t reply;
    zmq_msg_init (&reply);
    bc_request_ok (client, &reply);
    if (zs_client_reply_error (&reply, ZS_MSG_SCAN_STARTED, err, sizeof err)) {
        fprintf (stderr, "bench: scan_start: %s\n", err);
        exit (1);
    }
    zmq_msg_close (&reply);
    zs_bus_follow (bus, id, ZS_VIEW_ALL, 0, true);
}

/*  Reads records until the finished event (or stop_after results, when
    not 0: then returns with the scan still running). */
void bc_follow (zs_client_t *client, bc_run_t *run, uint64_t stop_after)
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
                    run->t_first = bc_now ();
                run->results++;
                if (rec.kind == ZS_TOPIC_RESULT_SIGNAL)
                    run->signals++;
            } else {
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
                    run->t_end = bc_now ();
                    return;
                }
            }
            if (stop_after && run->results >= stop_after)
                return;
        }
    }
}

double bc_scan (zs_client_t *client, const char *universe, const char *filter,
                bc_run_t *run)
{
    static int k = 0;
    char id[32];
    snprintf (id, sizeof id, "b%d-%d", (int) getpid (), k++);
    bc_start (client, id, universe, filter, run);
    snprintf (run->id, sizeof run->id, "%s", id);
    bc_follow (client, run, 0);
    if (getenv ("ZS_BENCH_LOG"))
        fprintf (stderr,
                 "bench %.3f: scan %s: first result %.2f ms, "
                 "finished %.2f ms (broker: first result %.2f ms after the "
                 "request)\n",
                 fmod (zs_wall (), 60.0) - (bc_now () - run->t_first), id,
                 (run->t_first - run->t_sent) * 1e3,
                 (run->t_end - run->t_sent) * 1e3, run->broker_first_ms);
    return run->t_end - run->t_sent;
}
