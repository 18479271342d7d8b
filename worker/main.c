/*  zscan-worker: configuration, then the worker.  */
#include "zs_config.h"
#include "zs_util.h"
#include "zs_mem.h"
#include "zs_worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main (int argc, char **argv)
{
    char *broker = NULL, *tasks = NULL, *reports = NULL, *control = NULL,
         *rin = NULL, *data = NULL, *id = NULL, *log_level = NULL,
         *preload = NULL, *ipc = NULL, *curve_cert = NULL,
         *curve_server = NULL;
    int64_t port = 0, threads = 0, hb = 0, prefetch = 0, out_hwm = 0,
            cache_mb = 0, delay_us = 0, prefault_mb = 64,
            later_mb = 64;
    zs_opt_t opts[] = {
        {"broker", 'b', ZS_OPT_STR, "127.0.0.1", "HOST",
         "the broker's host name or address", &broker},
        {"port", 'p', ZS_OPT_INT, "5555", "N",
         "the broker's base port (tasks N+1, reports N+2, control N+3, "
         "results-in N+4)",
         &port},
        {"tasks", 0, ZS_OPT_STR, NULL, "ENDPOINT",
         "the broker's tasks endpoint (overrides host/port)", &tasks},
        {"reports", 0, ZS_OPT_STR, NULL, "ENDPOINT",
         "the broker's reports endpoint", &reports},
        {"control", 0, ZS_OPT_STR, NULL, "ENDPOINT",
         "the broker's control endpoint", &control},
        {"results-in", 0, ZS_OPT_STR, NULL, "ENDPOINT",
         "the broker's results-in endpoint", &rin},
        {"ipc", 0, ZS_OPT_STR, NULL, "DIR",
         "connect over the Unix sockets in DIR of a broker on this host "
         "started with --ipc DIR (instead of host/port)",
         &ipc},
        {"data", 'd', ZS_OPT_STR, "synthetic:", "URI",
         "data source for scans that name none (synthetic:, csv:DIR, "
         "store:FILE)",
         &data},
        {"threads", 't', ZS_OPT_INT, "0", "N",
         "scan lanes (threads); 0 = one per core", &threads},
        {"id", 0, ZS_OPT_STR, NULL, "ID",
         "worker id (default HOST-PID); unique per process", &id},
        {"heartbeat-ms", 0, ZS_OPT_INT, "500", "MS",
         "heartbeat interval to the broker", &hb},
        {"prefetch", 0, ZS_OPT_INT, "1", "N",
         "batches queued per lane beyond the running one", &prefetch},
        {"out-hwm", 0, ZS_OPT_INT, "10000", "N",
         "results high-water mark per lane (then back-pressure)", &out_hwm},
        {"cache-mb", 0, ZS_OPT_INT, "0", "MB",
         "memory for the bars of every data source together (least "
         "recently used out); 0 = a quarter of this machine's memory, or "
         "of its control group's limit when lower (at least 256)",
         &cache_mb},
        {"prefault-mb", 0, ZS_OPT_INT, "64", "MB",
         "memory the lanes touch while idle, for the bars the first scans "
         "will cache, so that those scans do not wait for the kernel to "
         "supply it page by page (0 = none; at most a quarter of the "
         "cache)",
         &prefault_mb},
        {"keep-later-mb", 0, ZS_OPT_INT, "64", "MB",
         "bars a scan needs and the cache lacks (synthetic ones) are made "
         "for the scan alone, up to this much of them, and kept once the "
         "lanes are idle, so that a first scan does not wait for the "
         "memory keeping them takes; past it, and for a scan that comes "
         "before they are kept, they are kept as they are made (0 = "
         "always as made; at most a quarter of the cache)",
         &later_mb},
        {"preload", 0, ZS_OPT_STR, NULL, "SPEC",
         "load the bars of this universe (e.g. synthetic:10000) into the "
         "cache before taking work, so that the first scans need not "
         "generate or parse them",
         &preload},
        {"symbol-delay-us", 0, ZS_OPT_INT, "0", "US",
         "extra time per symbol, to make failures observable in tests "
         "and demos",
         &delay_us},
        ZS_CURVE_CLIENT_OPTS (curve_cert, curve_server),
        {"log-level", 'l', ZS_OPT_STR, "info", "LEVEL",
         "error, warn, info or debug", &log_level},
        {NULL, 0, 0, NULL, NULL, NULL, NULL}};
    int first = 0;
    zs_config_result_t r =
        zs_config_parse ("zscan-worker", "worker", opts, argc, argv, &first);
    int rc = 0;
    if (r == ZS_CONFIG_HELP) {
        printf ("Usage: zscan-worker [OPTIONS]\n\n"
                "A zscan worker: connects to one broker (it binds nothing), "
                "pulls batches of\nsymbols, loads their bars, runs each "
                "scan and publishes one result per symbol.\nRun any number, "
                "on any number of machines.  SIGTERM finishes or returns "
                "the\nbatches in hand, says goodbye and exits 0.\n\n");
        zs_config_print_help (stdout, opts);
    }
    else if (r == ZS_CONFIG_VERSION)
        printf ("zscan-worker %s\n", ZS_VERSION);
    else if (r == ZS_CONFIG_ERROR)
        rc = 2;
    else if (first < argc) {
        fprintf (stderr, "zscan-worker: unexpected argument '%s'\n",
                 argv[first]);
        rc = 2;
    }
    else if (zs_log_init ("zscan-worker", log_level) != 0) {
        fprintf (stderr, "zscan-worker: unknown log level '%s'\n", log_level);
        rc = 2;
    }
    else if (port < 1 || port > 65530 || threads < 0 || threads > 1024
             || hb < 10 || prefetch < 0 || prefetch > 64 || out_hwm < 1
             || cache_mb < 0 || prefault_mb < 0 || prefault_mb > 1048576
             || later_mb < 0 || later_mb > 1048576
             || delay_us < 0 || delay_us > 10000000) {
        fprintf (stderr, "zscan-worker: an option is out of range (see "
                         "--help)\n");
        rc = 2;
    }
    else {
        zs_signals_install ();
        if (threads == 0) {
            long n = sysconf (_SC_NPROCESSORS_ONLN);
            threads = n > 0 ? n : 1;
        }
        char ep[4][512];
        zs_worker_config_t cfg = {0};
        cfg.id = id;
        cfg.tasks = zs_endpoint (ep[0], sizeof ep[0], tasks, broker, port + 1);
        cfg.reports = zs_endpoint (ep[1], sizeof ep[1], reports, broker,
                                   port + 2);
        cfg.control = zs_endpoint (ep[2], sizeof ep[2], control, broker,
                                   port + 3);
        cfg.results_in = zs_endpoint (ep[3], sizeof ep[3], rin, broker,
                                      port + 4);
        /* an ipc directory replaces host/port; explicit endpoints win */
        const char *given[4] = {tasks, reports, control, rin};
        const char **dst[4] = {&cfg.tasks, &cfg.reports, &cfg.control,
                               &cfg.results_in};
        for (int i = 0; ipc && *ipc && i < 4; i++)
            if (!(given[i] && *given[i])
                && !(*dst[i] = zs_endpoint_ipc (ep[i], sizeof ep[i], ipc,
                                                zs_socket_names[i + 1]))) {
                fprintf (stderr, "zscan-worker: --ipc %s: the socket paths "
                         "are too long\n", ipc);
                zs_config_free (opts);
                return 2;
            }
        cfg.data = data;
        cfg.threads = threads;
        cfg.heartbeat_ms = hb;
        cfg.prefetch = prefetch;
        cfg.out_hwm = out_hwm;
        cfg.cache_bytes = cache_mb ? (size_t) cache_mb << 20
                                   : zs_mem_cache_default (2);
        cfg.prefault_bytes = (size_t) prefault_mb << 20;
        if (cfg.prefault_bytes > cfg.cache_bytes / 4)
            cfg.prefault_bytes = cfg.cache_bytes / 4;
        cfg.later_bytes = (size_t) later_mb << 20;
        if (cfg.later_bytes > cfg.cache_bytes / 4)
            cfg.later_bytes = cfg.cache_bytes / 4;
        zs_log (ZS_LOG_INFO, "cache: %zu MB for bars (%zu MB touched "
                "ahead, %zu MB kept once idle)",
                cfg.cache_bytes >> 20, cfg.prefault_bytes >> 20,
                cfg.later_bytes >> 20);
        cfg.symbol_delay_us = delay_us;
        cfg.preload = preload;
        char err[1024];
        zs_worker_t *worker = NULL;
        if (zs_curve_client_init (&cfg.curve, curve_cert, curve_server, err,
                                  sizeof err)
            == 0)
            worker = zs_worker_new (&cfg, err, sizeof err);
        if (!worker) {
            zs_error ("%s", err);
            rc = 1;
        }
        else {
            rc = zs_worker_run (worker);
            zs_worker_destroy (&worker);
        }
    }
    zs_config_free (opts);
    return rc;
}
