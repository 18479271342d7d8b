/*  zs_cmd_local.c - zscan local: a whole cluster on this machine (broker
    and workers as child processes on loopback), a first scan streamed to
    the terminal, then the cluster stays up until Ctrl-C.  */
#include "zs_cli.h"
#include "zs_mem.h"
#include "zs_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CHILDREN 66

typedef struct {
    pid_t pids[MAX_CHILDREN];
    const char *names[MAX_CHILDREN];
    int n;
} s_children_t;

/*  The path of a sibling program (next to this executable), or its bare
    name to be found on PATH. */
static void s_program (const char *name, char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        snprintf (out, cap, "%s/%s", dirname (self), name);
        if (access (out, X_OK) == 0)
            return;
    }
    snprintf (out, cap, "%s", name);
}

static bool s_port_free (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons ((uint16_t) port);
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    bool ok = bind (fd, (struct sockaddr *) &a, sizeof a) == 0;
    close (fd);
    return ok;
}

/*  A base port with six free ports after it, tried at random. */
static int s_free_base (void)
{
    srand ((unsigned) (zs_clock_us () ^ getpid ()));
    for (int tries = 0; tries < 200; tries++) {
        int base = 20000 + (rand () % 4000) * 10;
        bool ok = true;
        for (int k = 0; k < 6 && ok; k++)
            ok = s_port_free (base + k);
        if (ok)
            return base;
    }
    return -1;
}

static pid_t s_spawn (s_children_t *kids, const char *name, char **argv)
{
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* our own process group: Ctrl-C reaches zscan local only, which
           stops the cluster in order; and die with our parent */
        setpgid (0, 0);
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        signal (SIGINT, SIG_DFL);
        signal (SIGTERM, SIG_DFL);
        execvp (argv[0], argv);
        fprintf (stderr, "zscan local: cannot run %s: %s\n", argv[0],
                 strerror (errno));
        _exit (127);
    }
    if (kids->n < MAX_CHILDREN) {
        kids->pids[kids->n] = pid;
        kids->names[kids->n++] = name;
    }
    return pid;
}

/*  SIGTERM to the children named (or all but those, with but), then waits
    up to timeout_ms for them; those still there are killed. */
static void s_stop (s_children_t *kids, const char *name, bool but,
                    int64_t timeout_ms)
{
    bool pick[MAX_CHILDREN];
    for (int i = 0; i < kids->n; i++) {
        pick[i] = kids->pids[i] > 0
                  && (strcmp (kids->names[i], name) == 0) != but;
        if (pick[i])
            kill (kids->pids[i], SIGTERM);
    }
    int64_t deadline = zs_clock_ms () + timeout_ms;
    int left = 1;
    while (left > 0 && zs_clock_ms () < deadline) {
        left = 0;
        for (int i = 0; i < kids->n; i++) {
            if (!pick[i] || kids->pids[i] <= 0)
                continue;
            if (waitpid (kids->pids[i], NULL, WNOHANG) == kids->pids[i])
                kids->pids[i] = 0;
            else
                left++;
        }
        if (left)
            usleep (5000);
    }
    for (int i = 0; i < kids->n; i++)
        if (pick[i] && kids->pids[i] > 0) {
            kill (kids->pids[i], SIGKILL);
            waitpid (kids->pids[i], NULL, 0);
            kids->pids[i] = 0;
        }
}

static void s_stop_all (s_children_t *kids)
{
    /* workers and the gateway first, while the broker still hears their
       bye (a worker whose broker is gone waits out its sockets' linger),
       then the broker */
    s_stop (kids, "broker", true, 5000);
    s_stop (kids, "broker", false, 5000);
}

/*  Waits until the broker answers a list request. */
static int s_wait_broker (int port)
{
    zs_cli_common_t c = {0};
    c.broker = (char *) "127.0.0.1";
    c.port = port;
    zs_client_t *client = zs_cli_connect (&c);
    if (!client)
        return -1;
    int rc = -1;
    for (int i = 0; i < 50 && rc != 0 && !zs_interrupted; i++) {
        zs_scan_list_t m = {0};
        m.req = client->next_req++;
        char err[256];
        zs_buf_reset (&client->buf);
        zs_scan_list_encode (&m, &client->buf, err, sizeof err);
        zmq_msg_t reply;
        zmq_msg_init (&reply);
        if (zs_client_call (client, &reply, 200, err, sizeof err) == 0)
            rc = 0;
        zmq_msg_close (&reply);
    }
    zs_client_destroy (&client);
    return rc;
}

/*  Removes the cluster's socket directory and what is left in it (the
    broker removes its sockets when it closes them; one killed may not). */
static void s_remove_dir (const char *dir)
{
    for (int i = 0; i < ZS_SOCKETS; i++) {
        char path[128];
        snprintf (path, sizeof path, "%s/%s", dir, zs_socket_names[i]);
        unlink (path);
    }
    if (rmdir (dir) != 0 && errno != ENOENT)
        fprintf (stderr, "zscan local: cannot remove %s: %s\n", dir,
                 strerror (errno));
}

int zs_cmd_local (int argc, char **argv)
{
    int64_t workers = 0, threads = 0, port = 0, max_signals = 0;
    char *data = NULL, *universe = NULL, *strategy = NULL, *filter = NULL,
         *log_level = NULL, *http = NULL;
    bool scan = true, exit_after = false, json = false, gateway = true;
    zs_opt_t opts[] = {
        {"workers", 'w', ZS_OPT_INT, "2", "N", "worker processes", &workers},
        {"threads", 't', ZS_OPT_INT, "0", "N",
         "lanes per worker (0 = the cores shared among the workers)",
         &threads},
        {"port", 'p', ZS_OPT_INT, "0", "N",
         "broker base port on 127.0.0.1 (0 = the default 5555 when its six "
         "ports are free, so that a bare `zscan scan` finds it; else free "
         "ones, printed)",
         &port},
        {"data", 'd', ZS_OPT_STR, "synthetic:", "URI", "data source", &data},
        {"universe", 'u', ZS_OPT_STR, "synthetic:10000", "SPEC",
         "universe of the first scan", &universe},
        {"strategy", 's', ZS_OPT_STR, NULL, "NAME",
         "strategy of the first scan", &strategy},
        {"filter", 'f', ZS_OPT_STR, NULL, "EXPR", "or its filter expression",
         &filter},
        {"max-signals", 'n', ZS_OPT_INT, "0", "N",
         "stop the first scan after N signals", &max_signals},
        {"scan", 0, ZS_OPT_BOOL, "true", NULL,
         "run a first scan once the cluster is up (--no-scan: do not)",
         &scan},
        {"exit", 0, ZS_OPT_BOOL, "false", NULL,
         "stop the cluster after the first scan instead of waiting for "
         "Ctrl-C",
         &exit_after},
        {"json", 'j', ZS_OPT_BOOL, "false", NULL, "JSON lines output",
         &json},
        {"gateway", 0, ZS_OPT_BOOL, "true", NULL,
         "run the HTTP gateway too (--no-gateway: do not)", &gateway},
        {"http", 0, ZS_OPT_STR, "127.0.0.1:8080", "ADDR:PORT",
         "where the gateway listens (another free port when that one is "
         "taken)",
         &http},
        {"log-level", 'l', ZS_OPT_STR, "warn", "LEVEL",
         "log level of the cluster's processes", &log_level},
        {NULL, 0, 0, NULL, NULL, NULL, NULL}};
    int first = 0, code = 0;
    if (!zs_cli_parse (
            "local", "[OPTIONS]",
            "Runs a zscan cluster on this machine: a broker and N workers on "
            "127.0.0.1,\nthen a first scan of the synthetic universe with "
            "its results streaming here,\nthen keeps the cluster up for "
            "other clients until Ctrl-C.  Its processes talk\nover Unix "
            "sockets in a private directory under /tmp; the broker also "
            "listens on TCP.",
            opts, argc, argv, &first, &code)) {
        zs_config_free (opts);
        return code;
    }
    if (first != argc || workers < 1 || workers > 64 || threads < 0
        || port < 0 || port > 65530 || max_signals < 0) {
        fprintf (stderr, "zscan local: bad arguments (see --help)\n");
        zs_config_free (opts);
        return 2;
    }
    zs_log_init ("zscan", "info");
    zs_signals_install ();
    if (threads == 0) {
        long cores = sysconf (_SC_NPROCESSORS_ONLN);
        threads = cores > workers ? cores / workers : 1;
    }
    /* the default ports when they are free: then every other zscan
       command reaches this cluster without being told where it is */
    bool default_base = false;
    int base = (int) port;
    if (!base) {
        default_base = true;
        for (int k = 0; k < 6 && default_base; k++)
            default_base = s_port_free (ZS_DEFAULT_PORT + k);
        base = default_base ? ZS_DEFAULT_PORT : s_free_base ();
        if (!default_base && base > 0)
            fprintf (stderr,
                     "zscan local: ports %d-%d are taken (another broker?): "
                     "using %d-%d; give other clients --port %d\n",
                     ZS_DEFAULT_PORT, ZS_DEFAULT_PORT + 5, base, base + 5,
                     base);
    }
    if (base < 0) {
        fprintf (stderr, "zscan local: no free ports found\n");
        zs_config_free (opts);
        return 1;
    }
    char broker_bin[PATH_MAX], worker_bin[PATH_MAX];
    s_program ("zscan-broker", broker_bin, sizeof broker_bin);
    s_program ("zscan-worker", worker_bin, sizeof worker_bin);
    char portarg[16], thrarg[16];
    snprintf (portarg, sizeof portarg, "%d", base);
    snprintf (thrarg, sizeof thrarg, "%lld", (long long) threads);
    s_children_t kids;
    memset (&kids, 0, sizeof kids);
    /* the processes of this cluster talk over Unix sockets in a private
       directory (cheaper than TCP over loopback); the broker also listens
       on TCP for everyone else */
    char ipc[64] = "/tmp/zscan-local-XXXXXX";
    if (!mkdtemp (ipc)) {
        fprintf (stderr, "zscan local: cannot make a directory in /tmp: "
                 "%s\n", strerror (errno));
        zs_config_free (opts);
        return 1;
    }
    char *bargv[] = {broker_bin, "--bind", "127.0.0.1", "--port", portarg,
                     "--ipc", ipc, "--data", data, "--universe", universe,
                     "--stop-workers", "--log-level", log_level, NULL};
    s_spawn (&kids, "broker", bargv);
    /* the workers' caches share half this machine's memory: with cache
       affinity they hold one copy of the universe between them, so a
       universe up to that size is generated once */
    char cachearg[32];
    snprintf (cachearg, sizeof cachearg, "%zu",
              zs_mem_cache_default ((int) workers) >> 20);
    for (int64_t i = 0; i < workers; i++) {
        char id[32];
        snprintf (id, sizeof id, "local-%lld", (long long) i + 1);
        char *wargv[] = {worker_bin, "--ipc", ipc, "--port", portarg,
                         "--threads", thrarg, "--data", data, "--id", id,
                         "--cache-mb", cachearg, "--log-level", log_level,
                         NULL};
        s_spawn (&kids, "worker", wargv);
    }
    /* the gateway, over the cluster's Unix sockets */
    char gw_url[128] = "";
    if (gateway) {
        char addr[64] = "127.0.0.1";
        int gport = 8080;
        const char *colon = http ? strrchr (http, ':') : NULL;
        if (colon) {
            snprintf (addr, sizeof addr, "%.*s", (int) (colon - http), http);
            gport = atoi (colon + 1);
        }
        if (gport < 1 || gport > 65535 || !s_port_free (gport)) {
            int want = gport;
            gport = 0;
            for (int k = 1; k < 200 && !gport; k++)
                if (want + k < 65535 && s_port_free (want + k))
                    gport = want + k;
            if (gport)
                fprintf (stderr, "zscan local: port %d is taken: the "
                                 "gateway takes %d\n",
                         want, gport);
        }
        char gapi[128], grout[128], gportarg[16];
        if (gport && zs_endpoint_ipc (gapi, sizeof gapi, ipc, "api")
            && zs_endpoint_ipc (grout, sizeof grout, ipc, "results-out")) {
            snprintf (gportarg, sizeof gportarg, "%d", gport);
            char gateway_bin[PATH_MAX];
            s_program ("zscan-gateway", gateway_bin, sizeof gateway_bin);
            char *gargv[] = {gateway_bin, "--listen", addr, "--http-port",
                             gportarg, "--api", gapi, "--results-out",
                             grout, "--data", data, "--log-level",
                             log_level, NULL};
            s_spawn (&kids, "gateway", gargv);
            snprintf (gw_url, sizeof gw_url, "http://%s:%d/", addr, gport);
        }
    }
    if (s_wait_broker (base) != 0) {
        fprintf (stderr, "zscan local: the broker did not come up\n");
        s_stop_all (&kids);
        s_remove_dir (ipc);
        zs_config_free (opts);
        return 1;
    }
    char portopt[32] = "";
    if (base != ZS_DEFAULT_PORT)
        snprintf (portopt, sizeof portopt, " --port %d", base);
    fprintf (stderr,
             "zscan local: broker on 127.0.0.1 ports %d-%d%s, %lld workers "
             "x %lld lanes, data %s\n"
             "  other clients: zscan scan%s --filter \"rsi(14) < 30\"\n"
             "  subscribers:   ZeroMQ SUB to tcp://127.0.0.1:%d (or, on "
             "this host, ipc://%s/results-out)\n",
             base, base + 5, default_base ? " (the default)" : "",
             (long long) workers, (long long) threads, data, portopt,
             base + 5, ipc);
    if (gw_url[0])
        fprintf (stderr,
                 "  dashboard:     %s (open it in a browser)\n"
                 "  HTTP gateway:  curl -X POST %sscan/stream -H "
                 "'content-type: application/json' -d "
                 "'{\"universe\":\"synthetic:1000\"}'\n",
                 gw_url, gw_url);
    if (scan) {
        char ms[32];
        snprintf (ms, sizeof ms, "%lld", (long long) max_signals);
        char *sargv[24], api[128], rout[128];
        int n = 0;
        sargv[n++] = "scan";
        sargv[n++] = "--port";
        sargv[n++] = portarg;
        if (zs_endpoint_ipc (api, sizeof api, ipc, "api")
            && zs_endpoint_ipc (rout, sizeof rout, ipc, "results-out")) {
            sargv[n++] = "--api";
            sargv[n++] = api;
            sargv[n++] = "--results-out";
            sargv[n++] = rout;
        }
        sargv[n++] = "--universe";
        sargv[n++] = universe;
        sargv[n++] = "--max-signals";
        sargv[n++] = ms;
        if (strategy) {
            sargv[n++] = "--strategy";
            sargv[n++] = strategy;
        }
        if (filter) {
            sargv[n++] = "--filter";
            sargv[n++] = filter;
        }
        if (json)
            sargv[n++] = "--json";
        sargv[n] = NULL;
        code = zs_cmd_scan (n, sargv);
        zs_signals_install ();
    }
    if (!exit_after && code == 0) {
        fprintf (stderr, "zscan local: cluster up; Ctrl-C stops it\n");
        while (!zs_interrupted) {
            bool died = false;
            for (int i = 0; i < kids.n; i++)
                if (kids.pids[i] > 0
                    && waitpid (kids.pids[i], NULL, WNOHANG)
                           == kids.pids[i]) {
                    fprintf (stderr, "zscan local: the %s (pid %d) exited\n",
                             kids.names[i], (int) kids.pids[i]);
                    kids.pids[i] = 0;
                    died = true;
                }
            if (died)
                break;
            usleep (200000);
        }
    }
    fprintf (stderr, "zscan local: stopping the cluster\n");
    s_stop_all (&kids);
    s_remove_dir (ipc);
    zs_config_free (opts);
    return code == 130 ? 0 : code;
}
