/*  zscan-gateway: configuration, then the gateway.  */
#include "zs_config.h"
#include "zs_gateway.h"
#include "zs_util.h"

#include <stdio.h>
#include <string.h>

int main (int argc, char **argv)
{
    char *listen = NULL, *broker = NULL, *api = NULL, *results = NULL,
         *log_level = NULL, *token = NULL, *cors = NULL, *cert = NULL,
         *key = NULL, *www = NULL, *data = NULL, *curve_cert = NULL,
         *curve_server = NULL;
    int64_t http_port = 0, port = 0, log_mb = 0, max_streams = 0,
            max_scan = 0, max_behind = 0, stall_ms = 0, body_max = 0,
            chunk = 0, flush_ms = 0, drain_ms = 0, ka = 0, request_ms = 0,
            chart_mb = 0;
    zs_opt_t opts[] = {
        {"listen", 0, ZS_OPT_STR, "*", "ADDR",
         "interface for HTTP (* = all; 127.0.0.1 = this machine only)",
         &listen},
        {"http-port", 'P', ZS_OPT_INT, "8080", "N",
         "HTTP port (0: any free one, printed)", &http_port},
        {"broker", 'b', ZS_OPT_STR, "127.0.0.1", "HOST",
         "the broker's host name or address", &broker},
        {"port", 'p', ZS_OPT_INT, "5555", "N",
         "the broker's base port (api N, results-out N+5)", &port},
        {"api", 0, ZS_OPT_STR, NULL, "ENDPOINT",
         "the broker's api endpoint (overrides host/port)", &api},
        {"results-out", 0, ZS_OPT_STR, NULL, "ENDPOINT",
         "the broker's results-out endpoint (overrides host/port)",
         &results},
        ZS_CURVE_CLIENT_OPTS (curve_cert, curve_server),
        {"token", 0, ZS_OPT_STR, NULL, "TOKEN",
         "require this bearer token (Authorization: Bearer TOKEN, or "
         "?token=TOKEN for EventSource) on the API and streams",
         &token},
        {"cors", 0, ZS_OPT_STR, NULL, "ORIGIN",
         "Access-Control-Allow-Origin to send (e.g. * or "
         "https://dash.example)",
         &cors},
        {"tls-cert", 0, ZS_OPT_STR, NULL, "PEM",
         "serve HTTPS/WSS with this certificate (and --tls-key)", &cert},
        {"tls-key", 0, ZS_OPT_STR, NULL, "PEM", "the certificate's key",
         &key},
        {"log-mb", 0, ZS_OPT_INT, "256", "MB",
         "memory for the rendered records of every scan (finished scans "
         "no client is reading leave first; they are fetched again from "
         "the broker when asked for)",
         &log_mb},
        {"max-streams", 0, ZS_OPT_INT, "60000", "N",
         "WebSocket, SSE, poll and export streams at once (then 503)",
         &max_streams},
        {"max-scan-streams", 0, ZS_OPT_INT, "20000", "N",
         "streams of one scan at once (then 503)", &max_scan},
        {"max-behind", 0, ZS_OPT_INT, "1000000", "RECORDS",
         "a stream further behind than this is cut (0: no limit)",
         &max_behind},
        {"stall-ms", 0, ZS_OPT_INT, "10000", "MS",
         "a stream with records waiting that stays unwritable this long "
         "is cut",
         &stall_ms},
        {"body-max", 0, ZS_OPT_INT, "1048576", "BYTES",
         "largest request body (then 413)", &body_max},
        {"export-chunk", 0, ZS_OPT_INT, "65536", "BYTES",
         "bytes of one export chunk", &chunk},
        {"export-flush-ms", 0, ZS_OPT_INT, "100", "MS",
         "a partial export chunk leaves after this", &flush_ms},
        {"drain-ms", 0, ZS_OPT_INT, "2000", "MS",
         "on SIGTERM, streams are ended (with a reason) over this window",
         &drain_ms},
        {"keepalive-s", 0, ZS_OPT_INT, "15", "S",
         "SSE keep-alive comments and WebSocket pings when quiet (0: "
         "none)",
         &ka},
        {"request-ms", 0, ZS_OPT_INT, "5000", "MS",
         "the broker must answer a request within this (then 504)",
         &request_ms},
        {"www", 0, ZS_OPT_STR, NULL, "DIR",
         "the dashboard's files (default: share/zscan/www next to the "
         "program, as built and as installed)",
         &www},
        {"data", 'd', ZS_OPT_STR, "synthetic:", "URIS",
         "data sources charts may read besides synthetic ones "
         "(comma-separated; give the cluster's: the first is the default "
         "for scans that name none)",
         &data},
        {"chart-cache-mb", 0, ZS_OPT_INT, "64", "MB",
         "bars kept for charts", &chart_mb},
        {"log-level", 'l', ZS_OPT_STR, "info", "LEVEL",
         "error, warn, info or debug", &log_level},
        {NULL, 0, 0, NULL, NULL, NULL, NULL}};
    int first = 0, rc = 0;
    zs_config_result_t r = zs_config_parse ("zscan-gateway", "gateway", opts,
                                            argc, argv, &first);
    if (r == ZS_CONFIG_HELP) {
        printf ("Usage: zscan-gateway [OPTIONS]\n\n"
                "The HTTP face of a zscan cluster: start, stop and list "
                "scans (REST), and every\nrecord of a scan as a WebSocket "
                "stream (/ws/results/ID), Server-Sent Events\n"
                "(/events/results/ID), polling (/scan/results/ID) and a "
                "chunked export\n(/scan/export/ID); /metrics and /healthz; "
                "the web dashboard at /, with\n/strategies and "
                "/chart/SYMBOL for it.  The README documents the API.\n\n");
        zs_config_print_help (stdout, opts);
    }
    else if (r == ZS_CONFIG_VERSION)
        printf ("zscan-gateway %s\n", ZS_VERSION);
    else if (r == ZS_CONFIG_ERROR)
        rc = 2;
    else if (first < argc) {
        fprintf (stderr, "zscan-gateway: unexpected argument '%s'\n",
                 argv[first]);
        rc = 2;
    }
    else if (zs_log_init ("zscan-gateway", log_level) != 0) {
        fprintf (stderr, "zscan-gateway: unknown log level '%s'\n",
                 log_level);
        rc = 2;
    }
    else if (http_port < 0 || http_port > 65535 || port < 1 || port > 65530
             || log_mb < 1 || max_streams < 1 || max_scan < 1
             || max_behind < 0 || stall_ms < 100 || body_max < 1024
             || chunk < 256 || flush_ms < 1 || drain_ms < 0 || ka < 0
             || request_ms < 10 || chart_mb < 1 || (!cert != !key)) {
        fprintf (stderr, "zscan-gateway: an option is out of range (see "
                         "--help)\n");
        rc = 2;
    }
    else {
        zs_signals_install ();
        char ep[2][512], err[512];
        zs_curve_client_t curve;
        if (zs_curve_client_init (&curve, curve_cert, curve_server, err,
                                  sizeof err)
            != 0) {
            zs_error ("%s", err);
            zs_config_free (opts);
            return 2;
        }
        zs_gateway_config_t cfg;
        zs_gateway_config_defaults (&cfg);
        cfg.listen = listen;
        cfg.http_port = http_port;
        cfg.api = zs_endpoint (ep[0], sizeof ep[0], api, broker, port);
        cfg.results_out = zs_endpoint (ep[1], sizeof ep[1], results, broker,
                                       port + 5);
        cfg.token = token;
        cfg.cors = cors;
        cfg.tls_cert = cert;
        cfg.tls_key = key;
        cfg.log_mb = log_mb;
        cfg.max_streams = max_streams;
        cfg.max_scan_streams = max_scan;
        cfg.max_behind = max_behind;
        cfg.stall_ms = stall_ms;
        cfg.body_max = body_max;
        cfg.export_chunk = chunk;
        cfg.export_flush_ms = flush_ms;
        cfg.drain_ms = drain_ms;
        cfg.keepalive_s = ka;
        cfg.request_ms = request_ms;
        cfg.www = www;
        cfg.chart_data = data;
        cfg.chart_cache_mb = chart_mb;
        cfg.curve = &curve;
        zs_gateway_t *gw = zs_gateway_new (&cfg, err, sizeof err);
        if (!gw) {
            zs_error ("%s", err);
            rc = 1;
        }
        else {
            /* the port on stdout: a caller that asked for 0 reads it */
            printf ("zscan-gateway: http://%s:%d/\n",
                    listen && strcmp (listen, "*") ? listen : "127.0.0.1",
                    zs_gateway_port (gw));
            fflush (stdout);
            rc = zs_gateway_run (gw);
            zs_gateway_destroy (&gw);
        }
    }
    zs_config_free (opts);
    return rc;
}
