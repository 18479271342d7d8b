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
    double t0 = bc_now ();
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
    return (double) *records / (bc_now () - t0);
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
    double t0 = bc_now ();
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
            caught = bc_now () - t0;
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
        return bc_sink (argv[2]);
    const char *env = getenv ("ZSCAN_BIN");
    if (env)
        snprintf (bc_bin, sizeof bc_bin, "%s", env);
    else {
        char self[PATH_MAX];
        ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
        self[n > 0 ? n : 0] = 0;
        snprintf (bc_bin, sizeof bc_bin, "%s", dirname (self));
    }
    srand ((unsigned) (zs_clock_us () ^ getpid ()));
    signal (SIGPIPE, SIG_IGN);

    /* ZS_BENCH_ONLY=scaling|bus|history|stop runs one part (profiling) */
    const char *only = getenv ("ZS_BENCH_ONLY");
#define PART(name) (!only || !*only || strcmp (only, name) == 0)

    /* 1. scaling */
    bc_engine_t eng;
    if (PART ("scaling") && bc_engine_init (&eng) != 0)
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
        bc_cluster_t c;
        /* every worker holds the bars of all 10,000 symbols before the
           first scan (--preload): which worker gets which symbol changes
           from scan to scan, and generating a symbol costs ~50x scanning
           it, so a worker that met a symbol for the first time during
           the measured scans would distort them */
        if (bc_cluster_start (&c, workers, "synthetic:", ipc,
                             "synthetic:10000", 0)
            != 0)
            return 1;
        bc_run_t run;
        /* then warm the rest (caches, rates the broker sizes batches
           by): at least 3 scans, until the workers' CPU time per scan
           stops falling (at most 20) */
        double last_cpu = 1e9;
        for (int w = 0; w < 20; w++) {
            double c0 = bc_workers_cpu (&c);
            bc_scan (c.client, "synthetic:10000", NULL, &run);
            double used = bc_workers_cpu (&c) - c0;
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
                bc_thread_cpu (c.pids[i], cpu_threads[i], NULL);
        double cpu0 = bc_workers_cpu (&c);
        double self0 = bc_cpu_seconds (getpid ());
        long scanned = 0;
        double engine = 0, engine2 = 0;
        eng.cpu = eng.scanned = eng.cpu2 = eng.scanned2 = 0;
        for (int i = 0; i < (repeat > 0 ? repeat : 10); i++) {
            /* the reference and ours, side by side (best of each) */
            double e = bc_engine_pass (&eng);
            if (e > engine)
                engine = e;
            if (workers == 2) {
                e = bc_engine_pass2 (&eng);
                if (e > engine2)
                    engine2 = e;
            }
            double secs = bc_scan (c.client, "synthetic:10000", NULL, &run);
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
        double cpu = bc_workers_cpu (&c) - cpu0;
        if (getenv ("ZS_BENCH_THREADS")) {
            int scans = repeat > 0 ? repeat : 10;
            for (int i = 0; i < c.n; i++)
                bc_thread_report (c.pids[i], i ? "worker" : "broker",
                                 cpu_threads[i], scans);
            /* this process's live threads, less the single-thread engine
               passes its main thread ran: the subscriber (the 2-thread
               passes ran in threads gone by now) */
            fprintf (stderr, "bench: subscriber (this process) %7.3f ms CPU "
                             "per scan\n",
                     (bc_cpu_seconds (getpid ()) - self0 - eng.cpu) * 1e3
                         / scans);
        }
        bc_cluster_stop (&c);
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
        double floor = bc_floor (&eng, ipc, 10, ipc ? NULL : &encode);
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
        bc_engine_fini (&eng);

    /* 2. the result bus */
    if (PART ("bus")) {
        long lost = 0;
        /* ZS_BENCH_NORAW=1 skips the reference (for profiling) */
        double raw = 1;
        for (int i = 0; i < 3 && !getenv ("ZS_BENCH_NORAW"); i++) {
            long l = 0; /* the best of 3, like ours below */
            double r = bc_raw_rate (1000000, 200, &l);
            lost += l;
            if (r > raw)
                raw = r;
        }
        bc_cluster_t c;
        if (bc_cluster_start (&c, 2, "synthetic:bars=30", false, NULL, 0)
            != 0)
            return 1;
        bc_run_t run;
        bc_scan (c.client, "synthetic:200000", "close > 0", &run); /* warm */
        /* the best of 3 scans, each checked complete and gap-free */
        double best = 0;
        long missing = 0;
        uint64_t gaps = 0;
        for (int i = 0; i < 3; i++) {
            double secs = bc_scan (c.client, "synthetic:200000", "close > 0",
                                  &run);
            missing += 200000 - (long) run.results;
            gaps += run.gaps;
            if ((double) run.results / secs > best)
                best = (double) run.results / secs;
        }
        bc_cluster_stop (&c);
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
            bc_cluster_t c;
            if (bc_cluster_start (&c, 2, "synthetic:", false, NULL, 0) != 0)
                return 1;
            bc_run_t run;
            double r[4];
            for (int i = 0; i < 4; i++)
                r[i] = (double) 10000
                       / bc_scan (c.client, "synthetic:10000",
                                 "rsi(14) < 30 and close > sma(50)", &run);
            bc_cluster_stop (&c);
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
        if (!mkdtemp (dir) || bc_curve_keys (dir) != 0)
            return 1;
        bc_cluster_t plain, sec;
        if (bc_cluster_start (&plain, 2, "synthetic:bars=30", false, NULL, 0)
            != 0)
            return 1;
        bc_curve_dir = dir;
        int rc = bc_cluster_start (&sec, 2, "synthetic:bars=30", false, NULL,
                                  0);
        bc_curve_dir = NULL;
        if (rc != 0)
            return 1;
        bc_run_t run;
        bc_scan (plain.client, "synthetic:200000", "close > 0", &run);
        bc_scan (sec.client, "synthetic:200000", "close > 0", &run);
        double best[2] = {0, 0};
        long missing = 0;
        for (int i = 0; i < 6; i++) {
            bc_cluster_t *c = i % 2 ? &sec : &plain;
            double secs = bc_scan (c->client, "synthetic:200000", "close > 0",
                                  &run);
            missing += 200000 - (long) run.results;
            if ((double) run.results / secs > best[i % 2])
                best[i % 2] = (double) run.results / secs;
        }
        bc_cluster_stop (&sec);
        bc_cluster_stop (&plain);
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
        bc_cluster_t c;
        if (bc_cluster_start (&c, 2, "synthetic:bars=30", false, NULL, 0)
            != 0)
            return 1;
        bc_run_t run;
        bc_scan (c.client, "synthetic:200000", "close > 0", &run); /* warm */
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
            double secs = bc_scan (c.client, "synthetic:200000", "close > 0",
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
        bc_cluster_stop (&c);
        zmq_ctx_term (ctx);

        /* a late joiner of a running 100,000-record scan, joining at
           about half way: slowed workers make the scan last ~2 s */
        if (bc_cluster_start (&c, 2, "synthetic:bars=30", false, NULL, 40)
            != 0)
            return 1;
        char api[64];
        snprintf (api, sizeof api, "tcp://127.0.0.1:%d", c.base);
        snprintf (res, sizeof res, "tcp://127.0.0.1:%d", c.base + 5);
        double joins[3];
        uint64_t replayed = 0;
        for (int i = 0; i < 3; i++) {
            snprintf (id, sizeof id, "late%d-%d", (int) getpid (), i);
            bc_start (c.client, id, "synthetic:100000", "close > 0", &run);
            bc_follow (c.client, &run, 50000);
            joins[i] = s_late_join (api, res, id, &replayed) * 1e3;
            bc_follow (c.client, &run, 0);
            if (joins[i] < 0) {
                fprintf (stderr, "bench: the late joiner did not catch up\n");
                return 1;
            }
        }
        bc_cluster_stop (&c);
        if (getenv ("ZS_BENCH_LOG"))
            fprintf (stderr, "bench: the late joiner replayed %llu records\n",
                     (unsigned long long) replayed);
        printf ("BENCH\tlate joiner of a 100,000-record scan at half way "
                "(about 50,000 records replayed): time to catch up\t%.2f\t"
                "ms\t-\t-\n", s_quantile (joins, 3, 0.5));
    }

    /* 3. stop latency and 4. time to first result */
    if (PART ("stop")) {
        bc_cluster_t c;
        if (bc_cluster_start (&c, 2, "synthetic:", false, NULL, 0) != 0)
            return 1;
        bc_run_t run;
        bc_scan (c.client, "synthetic:2000", NULL, &run); /* warm 2,000 */
        double first[20];
        for (int i = 0; i < 20; i++) {
            bc_scan (c.client, "synthetic:2000", NULL, &run);
            first[i] = (run.t_first - run.t_sent) * 1e3;
        }
        double idle[20];
        for (int i = 0; i < 20; i++) {
            char id[32];
            snprintf (id, sizeof id, "stop%d-%d", (int) getpid (), i);
            /* a long scan (cold bars), stopped once results flow */
            bc_start (c.client, id, "synthetic:400000", NULL, &run);
            bc_follow (c.client, &run, 100);
            zs_scan_stop_t m = {0};
            m.req = c.client->next_req++;
            m.scan = id;
            char err[256];
            zs_buf_reset (&c.client->buf);
            zs_scan_stop_encode (&m, &c.client->buf, err, sizeof err);
            zmq_msg_t reply;
            zmq_msg_init (&reply);
            bc_request_ok (c.client, &reply);
            zmq_msg_close (&reply);
            bc_follow (c.client, &run, 0);
            idle[i] = -1;
            for (int k = 0; k < 200 && idle[i] < 0; k++) {
                zs_scan_status_t q = {0};
                q.req = c.client->next_req++;
                q.scan = id;
                zs_buf_reset (&c.client->buf);
                zs_scan_status_encode (&q, &c.client->buf, err, sizeof err);
                zmq_msg_init (&reply);
                bc_request_ok (c.client, &reply);
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
        bc_cluster_stop (&c);
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
