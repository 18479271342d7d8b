/*  zs_bench_gateway.c - the gateway against real WebSocket clients, and
    nchan (nginx's pub/sub module) on the same work in the same run.

    The clients are this program's own: plain sockets under epoll, the
    WebSocket handshake and frame parsing by hand (no compression offered,
    so both servers send plain frames).  Figures (BENCH lines, see
    bench/run):

    - fan-out: one scan of R records to C clients of one gateway
      (records delivered per second, all clients together), against nchan
      delivering R messages of the same size to C subscribers of one
      channel, published as fast as nchan takes them;
    - time to first record: POST /scan/stream to the first WebSocket
      record, median of 20;
    - idle connections: K clients of a quiet scan (4 WebSocket to 1 SSE,
      each reading the few records it is sent, as a dashboard would;
      from several 127.0.0.x source addresses), the gateway's memory per
      connection (its RSS growth / the streams /metrics counts open);
    - relay latency: p50 and p99 of the time from results-out (a SUB of
      the bench's own, beside the gateway's) to a client's read, for every
      record of 20 clients, at 100 clients x 100 results/s and 1,000
      clients x 500 results/s (one scan paced by slowed workers).

    nchan runs when Debian's nginx and libnginx-mod-nchan are installed
    (./dev bench installs them); otherwise its rows say so.
    ZS_BENCH_CLIENTS=N (default 1000), ZS_BENCH_IDLE=K (default 50000,
    fewer when the open-files limit is lower: said), ZS_BENCH_NOSSE=1
    (idle connections all WebSocket), ZS_BENCH_NOSRC=1 (all from
    127.0.0.1), ZS_BENCH_ONLY=idle (only them), =fanout (the gateway's
    fan-out rounds), =relay, =zscan, =nchan; ZS_BENCH_SMAPS=1 prints the
    gateway's largest mappings after the idle connections.
*/
#include "zs_bg.h"
#include "zs_bus.h"
#include "zs_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char s_bin[PATH_MAX];

/* ---------------------------------------------------------------------- */
/*  Processes                                                              */

typedef struct {
    pid_t pids[8];
    int n;
} s_procs_t;

static pid_t s_spawn (s_procs_t *p, char **argv, int out_fd)
{
    pid_t pid = fork ();
    if (pid == 0) {
        setpgid (0, 0);
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        int null = open ("/dev/null", O_WRONLY);
        dup2 (out_fd >= 0 ? out_fd : null, 1);
        if (!getenv ("ZS_BENCH_LOG"))
            dup2 (null, 2);
        execv (argv[0], argv);
        _exit (127);
    }
    if (pid > 0 && p->n < 8)
        p->pids[p->n++] = pid;
    return pid;
}

static void s_stop (s_procs_t *p)
{
    for (int i = p->n - 1; i >= 0; i--)
        kill (p->pids[i], SIGTERM);
    for (int i = 0; i < p->n; i++)
        waitpid (p->pids[i], NULL, 0);
    p->n = 0;
}

static int s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind (fd, (struct sockaddr *) &a, sizeof a) == 0
        && getsockname (fd, (struct sockaddr *) &a, &len) == 0)
        port = ntohs (a.sin_port);
    if (fd >= 0)
        close (fd);
    return port;
}

static long s_rss_kb (pid_t pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *f = fopen (path, "r");
    long kb = -1;
    while (f && fgets (line, sizeof line, f))
        if (!strncmp (line, "VmRSS:", 6))
            kb = atol (line + 6);
    if (f)
        fclose (f);
    return kb;
}

/* ---------------------------------------------------------------------- */
/*  A cluster and its gateway                                              */

typedef struct {
    s_procs_t procs;
    int base;
    int http;
    pid_t gw;
} s_env_t;

static int s_env_start (s_env_t *e, int delay_us)
{
    memset (e, 0, sizeof *e);
    e->base = 0;
    for (int t = 0; t < 100 && !e->base; t++) {
        int b = 20000 + rand () % 40000;
        e->base = b;
    }
    char port[16], broker[PATH_MAX + 32], worker[PATH_MAX + 32],
        gateway[PATH_MAX + 32], delay[16];
    snprintf (port, sizeof port, "%d", e->base);
    snprintf (delay, sizeof delay, "%d", delay_us);
    snprintf (broker, sizeof broker, "%s/zscan-broker", s_bin);
    snprintf (worker, sizeof worker, "%s/zscan-worker", s_bin);
    snprintf (gateway, sizeof gateway, "%s/zscan-gateway", s_bin);
    char *bargv[] = {broker, "--bind", "127.0.0.1", "--port", port,
                     "--data", "synthetic:bars=30", "--log-level", "error",
                     NULL};
    s_spawn (&e->procs, bargv, -1);
    for (int i = 0; i < 2; i++) {
        char *wargv[] = {worker, "--port", port, "--threads", "1",
                         "--data", "synthetic:bars=30", "--log-level",
                         "error", "--symbol-delay-us", delay, NULL};
        if (!delay_us)
            wargv[9] = NULL;
        s_spawn (&e->procs, wargv, -1);
    }
    e->http = s_free_port ();
    char hp[16];
    snprintf (hp, sizeof hp, "%d", e->http);
    char *gargv[] = {gateway, "--listen", "127.0.0.1", "--http-port", hp,
                     "--port", port, "--log-level", "error",
                     "--max-streams", "200000", "--max-scan-streams",
                     "200000", "--keepalive-s", "0", NULL};
    e->gw = s_spawn (&e->procs, gargv, -1);
    char out[4096];
    for (int i = 0; i < 100; i++) {
        if (bg_http (e->http, "GET", "/workers", NULL, out, sizeof out) == 200
            && strstr (out, "\"lanes\":1") && strstr (out, "},{"))
            return 0;
        usleep (100000);
    }
    fprintf (stderr, "bench: the cluster and gateway did not come up\n");
    return -1;
}

/*  Starts a scan through the gateway; its id into id. */
static int s_scan (s_env_t *e, const char *universe, char *id, size_t cap)
{
    char body[256], out[4096];
    snprintf (body, sizeof body,
              "{\"universe\":\"%s\",\"filter\":\"close > 0\"}", universe);
    if (bg_http (e->http, "POST", "/scan/stream", body, out, sizeof out)
        != 201)
        return -1;
    const char *p = strstr (out, "\"scan_id\":\"");
    if (!p)
        return -1;
    p += 11;
    size_t n = strcspn (p, "\"");
    snprintf (id, cap, "%.*s", (int) n, p);
    return 0;
}

/*  C clients of a scan of R records through the gateway: records/s. */
/*  CPU seconds a process has used (user + system). */
static double s_proc_cpu (pid_t pid)
{
    char path[64], buf[1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return 0;
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[n] = 0;
    char *p = strrchr (buf, ')');
    unsigned long long ut = 0, st = 0;
    /* after the name: state and 10 fields, then utime and stime */
    if (!p || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                              "%llu %llu",
                      &ut, &st)
                  != 2)
        return 0;
    return (double) (ut + st) / (double) sysconf (_SC_CLK_TCK);
}

/*  The gateway's CPU seconds in the last fan-out round. */
static double s_fanout_cpu;

static double s_fanout_zscan (s_env_t *e, int clients, int records)
{
    char id[80], uni[64], path[160];
    snprintf (uni, sizeof uni, "synthetic:%d", records);
    if (s_scan (e, uni, id, sizeof id) != 0)
        return -1;
    snprintf (path, sizeof path, "/ws/results/%s", id);
    bg_ws_t *cl = calloc ((size_t) clients, sizeof *cl);
    double t0 = bg_now ();
    double cpu0 = s_proc_cpu (e->gw);
    for (int i = 0; i < clients; i++)
        cl[i].fd = bg_ws_open (e->http, path);
    double end = bg_ws_run (cl, clients, 0, 120);
    s_fanout_cpu = s_proc_cpu (e->gw) - cpu0;
    uint64_t total = 0;
    for (int i = 0; i < clients; i++)
        total += cl[i].records;
    bg_ws_close_all (cl, clients);
    free (cl);
    return end > 0 ? (double) total / (end - t0) : -1;
}

/*  C WebSocket clients of one scan paced at `rate` results/s for about
    secs seconds (the two workers slowed to match): the relay latency
    (results-out to a client's read) of every record of the first 20
    clients, p50 and p99 in ms; returns how many clients did not get every
    record (cut, or not done in time), -1 when the cluster failed. */
static int s_relay (int clients, int rate, double secs, double *p50,
                    double *p99)
{
    s_env_t e;
    if (s_env_start (&e, 2 * 1000000 / rate) != 0)
        return -1;
    int records = (int) (rate * secs);
    bg_tap_t tap;
    char id[80], uni[64], path[160];
    snprintf (uni, sizeof uni, "synthetic:%d", records);
    if (bg_tap_start (&tap, e.base, (size_t) records + 64) != 0
        || s_scan (&e, uni, id, sizeof id) != 0) {
        s_stop (&e.procs);
        return -1;
    }
    snprintf (path, sizeof path, "/ws/results/%s", id);
    bg_ws_t *cl = calloc ((size_t) clients, sizeof *cl);
    int sampled = clients < 20 ? clients : 20;
    for (int i = 0; i < clients; i++) {
        cl[i].fd = bg_ws_open (e.http, path);
        if (i < sampled) {
            cl[i].lcap = (size_t) records + 64;
            cl[i].lat = malloc (cl[i].lcap * sizeof *cl[i].lat);
        }
    }
    bg_ws_run (cl, clients, 0, secs * 4 + 30);
    int short_ = 0;
    size_t n = 0;
    for (int i = 0; i < clients; i++) {
        short_ += cl[i].records < (uint64_t) records;
        if (i < sampled)
            n += cl[i].nlat;
    }
    double *all = malloc ((n + 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < sampled; i++)
        for (size_t j = 0; j < cl[i].nlat; j++)
            all[k++] = cl[i].lat[j];
    qsort (all, k, sizeof *all, bg_cmp);
    *p50 = k ? all[k / 2] : -1;
    *p99 = k ? all[(size_t) ((double) (k - 1) * 0.99)] : -1;
    if (getenv ("ZS_BENCH_LOG"))
        fprintf (stderr, "bench: relay %d clients x %d/s: %zu samples, "
                 "p50 %.3f p99 %.3f max %.3f ms, %d short\n", clients, rate,
                 k, *p50, *p99, k ? all[k - 1] : -1, short_);
    free (all);
    bg_ws_close_all (cl, clients);
    free (cl);
    bg_tap_stop (&tap);
    s_stop (&e.procs);
    return short_;
}

/* ---------------------------------------------------------------------- */
/*  nchan                                                                  */

static int s_nchan_start (s_procs_t *p, char *dir, int *port)
{
    if (access ("/usr/sbin/nginx", X_OK) != 0
        || access ("/usr/lib/nginx/modules/ngx_nchan_module.so", R_OK) != 0)
        return -1;
    snprintf (dir, PATH_MAX, "/tmp/zscan-nchan-XXXXXX");
    if (!mkdtemp (dir))
        return -1;
    *port = s_free_port ();
    char conf[PATH_MAX + 16];
    snprintf (conf, sizeof conf, "%s/nginx.conf", dir);
    FILE *f = fopen (conf, "w");
    if (!f)
        return -1;
    /* one worker process: one core, as the gateway's one service
       thread (nchan needs the master for its shared memory) */
    fprintf (f,
             "load_module /usr/lib/nginx/modules/ngx_nchan_module.so;\n"
             "daemon off; master_process on; worker_processes 1;\n"
             "error_log %s/error.log error; pid %s/nginx.pid;\n"
             "events { worker_connections 200000; }\n"
             "http { access_log off; client_body_temp_path %s;\n"
             "  keepalive_requests 100000000;\n"
             "  server { listen 127.0.0.1:%d;\n"
             "    location ~ /pub/(\\w+)$ { nchan_publisher; "
             "nchan_channel_id $1; nchan_message_buffer_length 2000000; "
             "nchan_message_timeout 1h; }\n"
             "    location ~ /sub/(\\w+)$ { nchan_subscriber websocket; "
             "nchan_channel_id $1; nchan_subscriber_first_message oldest; }\n"
             "  }\n}\n",
             dir, dir, dir, *port);
    fclose (f);
    char *argv[] = {"/usr/sbin/nginx", "-c", conf, "-p", dir, NULL};
    s_spawn (p, argv, -1);
    char out[256];
    for (int i = 0; i < 50; i++) {
        if (bg_http (*port, "GET", "/pub/probe", NULL, out, sizeof out) > 0)
            return 0;
        usleep (100000);
    }
    return -1;
}

/*  C subscribers, then R messages of `size` bytes published (one HTTP
    keep-alive connection, pipelined): messages delivered per second. */
static double s_fanout_nchan (int port, int clients, int records,
                              size_t size, int round)
{
    char ch[32], path[64];
    snprintf (ch, sizeof ch, "bench%d", round);
    snprintf (path, sizeof path, "/sub/%s", ch);
    bg_ws_t *cl = calloc ((size_t) clients, sizeof *cl);
    for (int i = 0; i < clients; i++)
        cl[i].fd = bg_ws_open (port, path);
    usleep (500000); /* every subscriber in before the first message */
    int pub = bg_connect (port);
    char *msg = malloc (size + 1);
    memset (msg, 'x', size);
    msg[size] = 0;
    double t0 = bg_now ();
    /* the publisher writes while the subscribers read, in threads of
       their own: a forked child publishes */
    pid_t kid = fork ();
    if (kid == 0) {
        char head[256];
        int hl = snprintf (head, sizeof head,
                           "POST /pub/%s HTTP/1.1\r\nHost: x\r\n"
                           "Content-Length: %zu\r\n\r\n",
                           ch, size);
        char *req = malloc ((size_t) hl + size);
        memcpy (req, head, (size_t) hl);
        memcpy (req + hl, msg, size);
        /* a drain thread would be nicer: read answers as we go */
        int flags = fcntl (pub, F_GETFL);
        fcntl (pub, F_SETFL, flags | O_NONBLOCK);
        char sink[65536];
        for (int i = 0; i < records; i++) {
            size_t off = 0, tot = (size_t) hl + size;
            while (off < tot) {
                ssize_t w = write (pub, req + off, tot - off);
                if (w > 0)
                    off += (size_t) w;
                else if (w < 0 && errno != EAGAIN)
                    _exit (1); /* nginx closed it */
                while (read (pub, sink, sizeof sink) > 0)
                    ;
                if (w <= 0)
                    usleep (50);
            }
        }
        _exit (0);
    }
    /* nchan drops what a subscriber has not read when its buffer turns
       over: count what came, until nothing more does for 2 s */
    double end = bg_ws_run_idle (cl, clients, (uint64_t) records, 120, 2);
    if (getenv ("ZS_BENCH_LOG"))
        for (int i = 0; i < clients && i < 3; i++)
            fprintf (stderr, "bench: nchan subscriber %d: %llu messages, "
                             "upgraded %d, %zu bytes left: %.*s\n",
                     i, (unsigned long long) cl[i].records, cl[i].upgraded,
                     cl[i].len, (int) (cl[i].len < 200 ? cl[i].len : 200),
                     cl[i].buf ? cl[i].buf : "");
    waitpid (kid, NULL, 0);
    uint64_t total = 0;
    for (int i = 0; i < clients; i++)
        total += cl[i].records;
    close (pub);
    free (msg);
    bg_ws_close_all (cl, clients);
    free (cl);
    return end > 0 ? (double) total / (end - t0) : -1;
}

/* ---------------------------------------------------------------------- */

int main (int argc, char **argv)
{
    (void) argc;
    const char *env = getenv ("ZSCAN_BIN");
    if (env)
        snprintf (s_bin, sizeof s_bin, "%s", env);
    else {
        char self[PATH_MAX];
        ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
        self[n > 0 ? n : 0] = 0;
        snprintf (s_bin, sizeof s_bin, "%s", dirname (self));
    }
    (void) argv;
    signal (SIGPIPE, SIG_IGN);
    srand ((unsigned) (zs_clock_us () ^ getpid ()));
    struct rlimit rl = {300000, 300000};
    if (setrlimit (RLIMIT_NOFILE, &rl) != 0) {
        getrlimit (RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit (RLIMIT_NOFILE, &rl);
    }
    int clients = getenv ("ZS_BENCH_CLIENTS")
                      ? atoi (getenv ("ZS_BENCH_CLIENTS"))
                      : 1000;
    int idle = getenv ("ZS_BENCH_IDLE") ? atoi (getenv ("ZS_BENCH_IDLE"))
                                        : 50000;
    /* each client connection is a file here and one in the gateway: a
       machine whose hard limit is lower holds what it allows (said) */
    getrlimit (RLIMIT_NOFILE, &rl);
    if ((rlim_t) idle + 1000 > rl.rlim_cur) {
        fprintf (stderr, "bench: open files are limited to %llu here: %d "
                 "idle connections instead of %d\n",
                 (unsigned long long) rl.rlim_cur, (int) rl.rlim_cur - 1000,
                 idle);
        idle = (int) rl.rlim_cur - 1000;
    }

    /* ZS_BENCH_ONLY=zscan|nchan runs one side, =idle the idle
       connections, =relay the relay latency (profiling) */
    const char *only = getenv ("ZS_BENCH_ONLY");
    bool do_zscan = !only || strcmp (only, "nchan") != 0;
    bool do_nchan = !only || strcmp (only, "zscan") != 0;
    double zscan = 0, zscan_core = 0, ttfr[20] = {0};
    long before = 0, after = 0;
    int opened = 0, held = 0;
    static char metrics[65536];
    const int records = getenv ("ZS_BENCH_RECORDS")
                            ? atoi (getenv ("ZS_BENCH_RECORDS"))
                            : 20000;
    /* relay latency at two load points (clients x results/s of one scan);
       ZS_BENCH_ONLY=relay runs only these.  1,000 clients x 10,000/s is
       10 M records/s to deliver: 15 times what this 2-core machine's
       gateway and clients together manage (the fan-out row), so the
       second point is 1,000 x 500/s (0.5 M/s), below that capacity. */
    const int points[][2] = {{100, 100}, {1000, 500}};
    double rp50[2] = {-1, -1}, rp99[2] = {-1, -1};
    int rshort[2] = {0, 0};
    bool do_relay = !only || !strcmp (only, "relay") || !strcmp (only, "zscan");
    if (only && !strcmp (only, "fanout")) /* the fan-out rounds only */
        do_relay = do_nchan = false;
    if (only && !strcmp (only, "idle"))
        do_nchan = false; /* the idle connections only (profiling) */
    for (int i = 0; i < 2 && do_relay; i++) {
        int c = points[i][0] < clients ? points[i][0] : clients;
        rshort[i] = s_relay (c, points[i][1], 3.0, &rp50[i], &rp99[i]);
        if (rshort[i] < 0)
            return 1;
    }
    if (only && !strcmp (only, "relay"))
        do_zscan = do_nchan = false;
    s_env_t e;
    char id[80];
    if (do_zscan) {
    if (s_env_start (&e, 0) != 0)
        return 1;
    bool idle_only = only && !strcmp (only, "idle");
    s_scan (&e, "synthetic:20000", id, sizeof id); /* warm the bars */
    usleep (500000);
    for (int r = 0; r < 3 && !idle_only; r++) {
        double v = s_fanout_zscan (&e, clients, records);
        if (v > zscan) {
            zscan = v;
            /* records per second of the gateway's own CPU time (the
               clients share this machine's cores with it) */
            zscan_core = s_fanout_cpu > 0
                             ? (double) records * clients / s_fanout_cpu
                             : 0;
        }
    }
    if (getenv ("ZS_BENCH_LOG")) {
        /* records and frames the gateway sent (batching) */
        int mst = bg_http (e.http, "GET", "/metrics", NULL, metrics,
                          sizeof metrics);
        for (char *l = metrics; mst == 200 && l && *l;) {
            char *nl = strchr (l, '\n');
            if (nl)
                *nl = 0;
            if (!strncmp (l, "zscan_gateway_records_sent_total", 32)
                || !strncmp (l, "zscan_gateway_frames_sent_total", 31)
                || !strncmp (l, "zscan_gateway_bytes_sent_total", 30))
                fprintf (stderr, "bench: %s\n", l);
            l = nl ? nl + 1 : NULL;
        }
    }
    /* time to first record, median of 20 */
    for (int i = 0; i < 20 && !idle_only; i++) {
        char path[160];
        double t0 = bg_now ();
        if (s_scan (&e, "synthetic:2000", id, sizeof id) != 0)
            return 1;
        snprintf (path, sizeof path, "/ws/results/%s", id);
        bg_ws_t c = {0};
        c.fd = bg_ws_open (e.http, path);
        bg_ws_run (&c, 1, 1, 10);
        ttfr[i] = (c.first_at - t0) * 1e3;
        bg_ws_close_all (&c, 1);
    }
    qsort (ttfr, 20, sizeof ttfr[0], bg_cmp);
    s_stop (&e.procs);

    /* idle connections: a scan that hardly moves (10 s a symbol) */
    if (s_env_start (&e, 10000000) != 0)
        return 1;
    if (s_scan (&e, "synthetic:100", id, sizeof id) != 0)
        return 1;
    usleep (300000);
    before = s_rss_kb (e.gw);
    bg_ws_t *cl = calloc ((size_t) idle, sizeof *cl);
    char path[160], spath[160];
    snprintf (path, sizeof path, "/ws/results/%s?after=1", id);
    snprintf (spath, sizeof spath, "/events/results/%s?last_event_id=1",
              id);
    /* four WebSocket clients for one SSE client; 20,000 per source
       address (127.0.0.2, .3, ...) */
    for (int i = 0; i < idle; i++) {
        bg_source = getenv ("ZS_BENCH_NOSRC") ? 1 : 2 + i / 20000;
        cl[i].fd = i % 5 == 4 && !getenv ("ZS_BENCH_NOSSE") ? bg_sse_open (e.http, spath)
                              : bg_ws_open (e.http, path);
        if (cl[i].fd >= 0)
            opened++;
        if (i % 1000 == 999) {
            usleep (10000);
            bg_drain (cl, i + 1);
        }
    }
    bg_source = 1;
    for (int k = 0; k < 3; k++) {
        sleep (1);
        bg_drain (cl, idle);
    }
    char *out = metrics;
    int mst = bg_http (e.http, "GET", "/metrics", NULL, out, sizeof metrics);
    if (mst != 200) {
        int st = 0;
        pid_t w = waitpid (e.gw, &st, WNOHANG);
        fprintf (stderr, "bench: GET /metrics: %d (%s); the gateway %s\n",
                 mst, strerror (errno),
                 w == e.gw ? (WIFSIGNALED (st) ? "died of a signal"
                                               : "exited")
                           : "runs");
        if (w == e.gw && WIFSIGNALED (st))
            fprintf (stderr, "bench: signal %d\n", WTERMSIG (st));
    }
    after = s_rss_kb (e.gw);
    if (getenv ("ZS_BENCH_SMAPS")) {
        /* the gateway's heap by its own count (malloc's), then */
        for (const char *h = strstr (out, "zscan_gateway_heap_bytes{"); h;
             h = strstr (h + 1, "zscan_gateway_heap_bytes{"))
            fprintf (stderr, "bench: %.*s\n", (int) strcspn (h, "\n"), h);
        const char *lb = strstr (out, "\nzscan_gateway_log_bytes ");
        const char *rs = strstr (out, "\nzscan_gateway_records_sent_total ");
        const char *bs = strstr (out, "\nzscan_gateway_bytes_sent_total ");
        if (lb && rs && bs)
            fprintf (stderr, "bench: log %lld bytes; sent %lld records, %lld "
                     "bytes\n", atoll (lb + 25), atoll (rs + 34),
                     atoll (bs + 32));
        /* where the memory is: the gateway's largest mappings */
        char cmd[128];
        snprintf (cmd, sizeof cmd,
                  "awk '/^[0-9a-f]+-/{m=$0} /^Rss:/{if ($2 > 1000) print "
                  "$2, m}' /proc/%d/smaps | sort -n | tail -8 >&2",
                  (int) e.gw);
        if (system (cmd) != 0)
            fprintf (stderr, "bench: cannot read smaps\n");
    }
    /* what the gateway holds open, by its own count */
    held = 0;
    const char *kinds[] = {"ws", "sse"};
    for (int k = 0; k < 2; k++) {
        char key[64];
        snprintf (key, sizeof key, "zscan_gateway_connections{kind=\"%s\"} ",
                  kinds[k]);
        const char *at = strstr (out, key);
        if (at)
            held += atoi (at + strlen (key));
    }
    bg_ws_close_all (cl, idle);
    free (cl);
    s_stop (&e.procs);
    }

    /* nchan */
    s_procs_t np = {0};
    char dir[PATH_MAX];
    int nport = 0;
    double nchan = -1;
    if (do_nchan && s_nchan_start (&np, dir, &nport) == 0) {
        for (int r = 0; r < 3; r++) {
            double v = s_fanout_nchan (nport, clients, records, 330, r);
            if (v > nchan)
                nchan = v;
        }
        s_stop (&np);
    }
    else if (do_nchan)
        fprintf (stderr, "bench: nchan is not installed (nginx, "
                         "libnginx-mod-nchan): its reference is left out\n");
    if (!do_zscan || zscan <= 0) /* (not measured: the idle ones alone) */
        ;
    else if (nchan > 0)
        printf ("BENCH\tgateway fan-out: one scan of %d records to %d "
                "WebSocket clients, records delivered\t%.0f\trecords/s\t"
                "nchan, %d messages of 330 B to %d WebSocket subscribers\t"
                "%.0f\n",
                records, clients, zscan, records, clients, nchan);
    else
        printf ("BENCH\tgateway fan-out: one scan of %d records to %d "
                "WebSocket clients, records delivered\t%.0f\trecords/s\t-"
                "\t-\n",
                records, clients, zscan);
    if (do_zscan && zscan_core > 0)
        printf ("BENCH\tgateway fan-out per gateway core: records "
                "delivered per CPU-second of the gateway\t%.0f\t"
                "records/s\t-\t-\n",
                zscan_core);
    for (int i = 0; i < 2 && do_relay; i++) {
        int c = points[i][0] < clients ? points[i][0] : clients;
        char cut[96] = "";
        if (rshort[i])
            snprintf (cut, sizeof cut, "; %d clients did not get every "
                      "record in time", rshort[i]);
        printf ("BENCH\tgateway relay latency (results-out to the client's "
                "read), p50, %d clients x %d results/s%s\t%.3f\tms\t-\t-\n",
                c, points[i][1], cut, rp50[i]);
        printf ("BENCH\tgateway relay latency (results-out to the client's "
                "read), p99, %d clients x %d results/s%s\t%.3f\tms\t-\t-\n",
                c, points[i][1], cut, rp99[i]);
    }
    if (!do_zscan)
        return 0;
    if (ttfr[10] > 0) /* not measured with the idle connections alone */
        printf ("BENCH\tgateway: POST /scan/stream to the first WebSocket "
                "record, median of 20\t%.2f\tms\t-\t-\n",
                ttfr[10]);
    if (held > 0 && before > 0 && after > 0)
        printf ("BENCH\tgateway: memory per idle connection (%d of %d held "
                "open, 4 WebSocket to 1 SSE)\t%.0f\tbytes\t-\t-\n",
                held, idle, (double) (after - before) * 1024.0 / held);
    else
        fprintf (stderr, "bench: idle: %d of %d connected, %d held by the "
                 "gateway's count (rss %ld -> %ld KB): /metrics said %.200s\n",
                 opened, idle, held, before, after, metrics);
    return 0;
}
