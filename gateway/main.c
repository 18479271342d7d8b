/*  zscan-gateway: configuration, then the gateway.  */
#include "zs_config.h"
#include "zs_gateway.h"
#include "zs_util.h"

#include <stdio.h>

int main (int argc, char **argv)
{
    char *listen = NULL, *broker = NULL, *results = NULL, *log_level = NULL;
    int64_t http_port = 0, port = 0;
    zs_opt_t opts[] = {
        {"listen", 0, ZS_OPT_STR, "*", "ADDR",
         "interface for HTTP (* = all)", &listen},
        {"http-port", 'P', ZS_OPT_INT, "8080", "N", "HTTP port", &http_port},
        {"broker", 'b', ZS_OPT_STR, "127.0.0.1", "HOST",
         "the broker's host name or address", &broker},
        {"port", 'p', ZS_OPT_INT, "5555", "N",
         "the broker's base port (results-out is N+5)", &port},
        {"results-out", 0, ZS_OPT_STR, NULL, "ENDPOINT",
         "the broker's results-out endpoint (overrides host/port)",
         &results},
        {"log-level", 'l', ZS_OPT_STR, "info", "LEVEL",
         "error, warn, info or debug", &log_level},
        {NULL, 0, 0, NULL, NULL, NULL, NULL}};
    int first = 0, rc = 0;
    zs_config_result_t r = zs_config_parse ("zscan-gateway", "gateway", opts,
                                            argc, argv, &first);
    if (r == ZS_CONFIG_HELP) {
        printf ("Usage: zscan-gateway [OPTIONS]\n\n"
                "The HTTP face of a zscan cluster: subscribes to the "
                "broker's results bus and\nserves GET /healthz (JSON) and "
                "GET /metrics (Prometheus text).\n\n");
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
    else if (http_port < 1 || http_port > 65535 || port < 1
             || port > 65530) {
        fprintf (stderr, "zscan-gateway: a port is out of range\n");
        rc = 2;
    }
    else {
        zs_signals_install ();
        char ep[512];
        zs_gateway_config_t cfg = {0};
        cfg.listen = listen;
        cfg.http_port = http_port;
        cfg.results_out = zs_endpoint (ep, sizeof ep, results, broker,
                                       port + 5);
        char err[512];
        zs_gateway_t *gw = zs_gateway_new (&cfg, err, sizeof err);
        if (!gw) {
            zs_error ("%s", err);
            rc = 1;
        }
        else {
            rc = zs_gateway_run (gw);
            zs_gateway_destroy (&gw);
        }
    }
    zs_config_free (opts);
    return rc;
}
