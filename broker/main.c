/*  zscan-broker: configuration, then the broker's loop.  */
#include "zs_broker.h"
#include "zs_config.h"
#include "zs_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main (int argc, char **argv)
{
    char *bind = NULL, *api = NULL, *tasks = NULL, *reports = NULL,
         *control = NULL, *rin = NULL, *rout = NULL, *data = NULL, *ipc = NULL,
         *universe = NULL, *log_level = NULL, *list_dir = NULL,
         *curve_cert = NULL, *curve_allow = NULL, *curve_read = NULL;
    int64_t port = 0, hb = 0, liveness = 0, lease = 0, start_lease = 0,
            grace = 0, attempts = 0, bmin = 0, bmax = 0, progress = 0,
            max_scans = 0, keep = 0, sync_wait = 0, out_hwm = 0,
            history_mb = 0, replay_records = 0;
    double batch_ms = 0;
    bool stop_workers = false, plaintext = false;
    zs_opt_t opts[] = {
        {"bind", 'b', ZS_OPT_STR, "127.0.0.1", "ADDR",
         "interface to bind (127.0.0.1 = this machine only; * = all, "
         "which needs CURVE or --plaintext)",
         &bind},
        {"port", 'p', ZS_OPT_INT, "5555", "N",
         "base port: api N, tasks N+1, reports N+2, control N+3, results-in "
         "N+4, results-out N+5",
         &port},
        {"api", 0, ZS_OPT_STR, NULL, "ENDPOINT", "api ROUTER endpoint", &api},
        {"tasks", 0, ZS_OPT_STR, NULL, "ENDPOINT", "tasks ROUTER endpoint",
         &tasks},
        {"reports", 0, ZS_OPT_STR, NULL, "ENDPOINT", "reports PULL endpoint",
         &reports},
        {"control", 0, ZS_OPT_STR, NULL, "ENDPOINT", "control PUB endpoint",
         &control},
        {"results-in", 0, ZS_OPT_STR, NULL, "ENDPOINT",
         "results XSUB endpoint (workers publish here)", &rin},
        {"results-out", 0, ZS_OPT_STR, NULL, "ENDPOINT",
         "results XPUB endpoint (subscribers connect here)", &rout},
        {"ipc", 0, ZS_OPT_STR, NULL, "DIR",
         "also bind every socket as a Unix socket DIR/NAME (api, tasks, "
         "reports, control, results-in, results-out): for workers and "
         "clients on this host, cheaper than TCP",
         &ipc},
        {"data", 'd', ZS_OPT_STR, "synthetic:", "URI",
         "default data source (universes, liquidity)", &data},
        {"universe", 'u', ZS_OPT_STR, "synthetic:10000", "SPEC",
         "universe of a scan that names none", &universe},
        {"heartbeat-ms", 0, ZS_OPT_INT, "500", "MS",
         "heartbeat interval to workers", &hb},
        {"liveness-ms", 0, ZS_OPT_INT, "2000", "MS",
         "a worker silent this long is dead", &liveness},
        {"lease-ms", 0, ZS_OPT_INT, "10000", "MS",
         "a started batch not done within this is re-sent", &lease},
        {"start-lease-ms", 0, ZS_OPT_INT, "3000", "MS",
         "a sent batch not started within this is re-sent", &start_lease},
        {"grace-ms", 0, ZS_OPT_INT, "1000", "MS",
         "wait for a done batch's results before re-running it", &grace},
        {"max-attempts", 0, ZS_OPT_INT, "3", "N",
         "attempts per batch before its symbols are failed", &attempts},
        {"batch-ms", 0, ZS_OPT_DOUBLE, "5", "MS",
         "target duration of one batch (adaptive size)", &batch_ms},
        {"batch-min", 0, ZS_OPT_INT, "8", "N", "smallest adaptive batch",
         &bmin},
        {"batch-max", 0, ZS_OPT_INT, "4096", "N", "largest batch", &bmax},
        {"progress-ms", 0, ZS_OPT_INT, "250", "MS",
         "progress event interval per scan", &progress},
        {"max-scans", 0, ZS_OPT_INT, "64", "N", "running scans at once",
         &max_scans},
        {"keep-finished", 0, ZS_OPT_INT, "256", "N",
         "finished scans remembered for status", &keep},
        {"sync-wait-ms", 0, ZS_OPT_INT, "1000", "MS",
         "longest hold of a sync start waiting for its subscriber",
         &sync_wait},
        {"out-hwm", 0, ZS_OPT_INT, "1000", "N",
         "results-out: messages queued per subscriber; past that, a "
         "subscriber that does not keep up loses messages for itself "
         "alone (and fills the gap from the history)",
         &out_hwm},
        {"history-mb", 0, ZS_OPT_INT, "512", "MB",
         "memory for the history of what results-out carried (replays, "
         "late joiners); finished scans go first, oldest first",
         &history_mb},
        {"replay-records", 0, ZS_OPT_INT, "8192", "N",
         "records in one replay page, at most", &replay_records},
        {"list-dir", 0, ZS_OPT_STR, NULL, "DIR",
         "file: universes are read from under DIR only (off when not "
         "given)",
         &list_dir},
        {"curve-cert", 0, ZS_OPT_STR, NULL, "PATH",
         "CURVE on every socket with this certificate (zscan keygen; the "
         "secret file PATH_secret is read)",
         &curve_cert},
        {"curve-allow", 0, ZS_OPT_STR, NULL, "DIR",
         "public certificates of the keys allowed everything (workers, "
         "clients, subscribers)",
         &curve_allow},
        {"curve-read", 0, ZS_OPT_STR, NULL, "DIR",
         "public certificates of keys that may only subscribe and read "
         "(status, lists, replays)",
         &curve_read},
        {"plaintext", 0, ZS_OPT_BOOL, "false", NULL,
         "allow listening beyond this machine without CURVE (anyone who "
         "reaches the ports is trusted)",
         &plaintext},
        {"stop-workers", 0, ZS_OPT_BOOL, "false", NULL,
         "tell workers to shut down when the broker exits", &stop_workers},
        {"log-level", 'l', ZS_OPT_STR, "info", "LEVEL",
         "error, warn, info or debug", &log_level},
        {NULL, 0, 0, NULL, NULL, NULL, NULL}};
    int first = 0;
    zs_config_result_t r =
        zs_config_parse ("zscan-broker", "broker", opts, argc, argv, &first);
    if (r == ZS_CONFIG_HELP) {
        printf ("Usage: zscan-broker [OPTIONS]\n\n"
                "The zscan broker: owns scans, partitions each scan's "
                "universe into batches for\nthe workers, forwards their "
                "results to subscribers (duplicates removed, each\nscan's "
                "sequence and cut applied) and publishes scan lifecycle "
                "events.\nWorkers and clients connect; the broker binds "
                "every socket.\n\n");
        zs_config_print_help (stdout, opts);
        zs_config_free (opts);
        return 0;
    }
    if (r == ZS_CONFIG_VERSION) {
        printf ("zscan-broker %s\n", ZS_VERSION);
        zs_config_free (opts);
        return 0;
    }
    if (r == ZS_CONFIG_ERROR) {
        zs_config_free (opts);
        return 2;
    }
    if (first < argc) {
        fprintf (stderr, "zscan-broker: unexpected argument '%s'\n",
                 argv[first]);
        zs_config_free (opts);
        return 2;
    }
    if (zs_log_init ("zscan-broker", log_level) != 0) {
        fprintf (stderr, "zscan-broker: unknown log level '%s'\n", log_level);
        zs_config_free (opts);
        return 2;
    }
    if (port < 1 || port > 65530 || hb < 10 || liveness < hb || lease < 10
        || start_lease < 10 || grace < 0 || attempts < 1 || bmin < 1
        || bmax < bmin || progress < 10 || max_scans < 1 || keep < 0
        || sync_wait < 0 || out_hwm < 1 || history_mb < 1
        || history_mb > (1 << 20) || replay_records < 1
        || replay_records > 1000000 || !(batch_ms > 0)) {
        fprintf (stderr, "zscan-broker: an option is out of range (see "
                         "--help)\n");
        zs_config_free (opts);
        return 2;
    }
    zs_signals_install ();
    char ep[6][512];
    zs_broker_config_t cfg;
    zs_broker_config_defaults (&cfg);
    cfg.api = zs_endpoint (ep[0], sizeof ep[0], api, bind, port);
    cfg.tasks = zs_endpoint (ep[1], sizeof ep[1], tasks, bind, port + 1);
    cfg.reports = zs_endpoint (ep[2], sizeof ep[2], reports, bind, port + 2);
    cfg.control = zs_endpoint (ep[3], sizeof ep[3], control, bind, port + 3);
    cfg.results_in = zs_endpoint (ep[4], sizeof ep[4], rin, bind, port + 4);
    cfg.results_out = zs_endpoint (ep[5], sizeof ep[5], rout, bind,
                                   port + 5);
    cfg.ipc_dir = ipc && *ipc ? ipc : NULL;
    cfg.data = data;
    cfg.universe = universe;
    cfg.heartbeat_ms = hb;
    cfg.liveness_ms = liveness;
    cfg.lease_ms = lease;
    cfg.start_lease_ms = start_lease;
    cfg.grace_ms = grace;
    cfg.max_attempts = attempts;
    cfg.batch_ms = batch_ms;
    cfg.batch_min = bmin;
    cfg.batch_max = bmax;
    cfg.progress_ms = progress;
    cfg.max_scans = max_scans;
    cfg.keep_finished = keep;
    cfg.sync_wait_ms = sync_wait;
    cfg.out_hwm = out_hwm;
    cfg.history_mb = history_mb;
    cfg.replay_records = replay_records;
    cfg.list_dir = list_dir && *list_dir ? list_dir : NULL;
    cfg.stop_workers = stop_workers;
    cfg.curve_cert = curve_cert;
    cfg.curve_allow = curve_allow;
    cfg.curve_read = curve_read;
    cfg.plaintext = plaintext;
    char err[1024];
    zs_broker_t *broker = zs_broker_new (&cfg, err, sizeof err);
    if (!broker) {
        zs_error ("%s", err);
        zs_config_free (opts);
        return 1;
    }
    int rc = zs_broker_run (broker);
    zs_broker_destroy (&broker);
    zs_config_free (opts);
    return rc;
}
