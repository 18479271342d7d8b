/*  zs_cmd_scan.c - zscan scan | tail | stop | status | list.  */
#include "zs_cli.h"
#include "zs_topic.h"
#include "zs_util.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool zs_cli_parse (const char *cmd, const char *usage, const char *about,
                   zs_opt_t *opts, int argc, char **argv, int *first,
                   int *exit_code)
{
    char prog[64];
    snprintf (prog, sizeof prog, "zscan %s", cmd);
    zs_config_result_t r = zs_config_parse (prog, "cli", opts, argc, argv,
                                            first);
    if (r == ZS_CONFIG_HELP) {
        printf ("Usage: zscan %s %s\n\n%s\n\n", cmd, usage, about);
        zs_config_print_help (stdout, opts);
        *exit_code = 0;
        return false;
    }
    if (r == ZS_CONFIG_VERSION) {
        printf ("zscan %s\n", ZS_VERSION);
        *exit_code = 0;
        return false;
    }
    if (r == ZS_CONFIG_ERROR) {
        *exit_code = 2;
        return false;
    }
    return true;
}

zs_client_t *zs_cli_connect (const zs_cli_common_t *c)
{
    char api[512], res[512], err[600];
    zs_endpoint (api, sizeof api, c->api, c->broker, c->port);
    zs_endpoint (res, sizeof res, c->results, c->broker, c->port + 5);
    zs_curve_client_t curve;
    if (zs_curve_client_init (&curve, c->curve_cert, c->curve_server, err,
                              sizeof err)
        != 0) {
        fprintf (stderr, "zscan: %s\n", err);
        return NULL;
    }
    zs_client_t *client = zs_client_new (api, res, &curve, err, sizeof err);
    if (!client)
        fprintf (stderr, "zscan: %s\n", err);
    return client;
}

static bool s_setup (zs_cli_common_t *c)
{
    if (zs_log_init ("zscan", c->log_level) != 0) {
        fprintf (stderr, "zscan: unknown log level '%s'\n", c->log_level);
        return false;
    }
    if (c->port < 1 || c->port > 65530 || c->request_ms < 1) {
        fprintf (stderr, "zscan: --port or --request-ms out of range\n");
        return false;
    }
    if (!isatty (STDOUT_FILENO))
        c->json = true;
    zs_signals_install ();
    return true;
}

/*  Parses "a=1,b=2.5" into the definition's parameters. */
static int s_parse_params (const char *text, zs_scan_def_t *def,
                           char *store, size_t storecap)
{
    snprintf (store, storecap, "%s", text);
    char *save = NULL;
    for (char *tok = strtok_r (store, ",", &save); tok;
         tok = strtok_r (NULL, ",", &save)) {
        char *eq = strchr (tok, '=');
        if (!eq || eq == tok || def->nparams >= ZS_PARAMS_MAX) {
            fprintf (stderr, "zscan scan: --params wants name=value,... "
                             "(got '%s')\n",
                     tok);
            return -1;
        }
        *eq = 0;
        char *end = NULL;
        double v = strtod (eq + 1, &end);
        if (end == eq + 1 || *end || !isfinite (v)) {
            fprintf (stderr, "zscan scan: parameter %s: '%s' is not a "
                             "number\n",
                     tok, eq + 1);
            return -1;
        }
        def->pnames[def->nparams] = tok;
        def->pvalues[def->nparams++] = v;
    }
    return 0;
}

int zs_cmd_scan (int argc, char **argv)
{
    zs_cli_common_t c = {0};
    char *universe = NULL, *data = NULL, *strategy = NULL, *filter = NULL,
         *params = NULL, *priority = NULL, *id = NULL;
    int64_t max_signals = 0, max_symbols = 0, batch = 0;
    double timeout = 0;
    zs_opt_t opts[] = {
        ZS_CLI_COMMON_OPTS (c),
        {"universe", 'u', ZS_OPT_STR, NULL, "SPEC",
         "synthetic:N, all, file:PATH or list:A,B,C (default: the "
         "broker's)",
         &universe},
        {"data", 'd', ZS_OPT_STR, NULL, "URI",
         "data source (default: each worker's own)", &data},
        {"strategy", 's', ZS_OPT_STR, NULL, "NAME", "a built-in strategy",
         &strategy},
        {"params", 0, ZS_OPT_STR, NULL, "K=V,...", "strategy parameters",
         &params},
        {"filter", 'f', ZS_OPT_STR, NULL, "EXPR",
         "a filter expression, e.g. \"rsi(14) < 30 and close > sma(200)\"",
         &filter},
        {"max-signals", 'n', ZS_OPT_INT, "0", "N",
         "stop after exactly N signals (0 = no cap)", &max_signals},
        {"max-symbols", 0, ZS_OPT_INT, "0", "N",
         "stop after N symbols have results (0 = no cap)", &max_symbols},
        {"timeout", 't', ZS_OPT_DOUBLE, "0", "SECONDS",
         "stop after this long (0 = none)", &timeout},
        {"priority", 0, ZS_OPT_STR, "given", "MODE",
         "given, liquidity or signals (last scan's signals first)",
         &priority},
        {"batch", 0, ZS_OPT_INT, "0", "N", "batch size (0 = adaptive)",
         &batch},
        {"id", 0, ZS_OPT_STR, NULL, "ID",
         "scan id ([A-Za-z0-9_-]{1,64}; default: random)", &id},
        {NULL, 0, 0, NULL, NULL, NULL, NULL}};
    int first = 0, code = 0;
    if (!zs_cli_parse (
            "scan", "[OPTIONS]",
            "Starts a scan on the broker and streams its results until it "
            "finishes: JSON lines\n(one record per line: result, progress, "
            "complete) when stdout is not a terminal\nor with --json; on a "
            "terminal, signals as they come and a live progress bar.\n"
            "Ctrl-C stops the scan.",
            opts, argc, argv, &first, &code)) {
        zs_config_free (opts);
        return code;
    }
    if (first < argc) {
        fprintf (stderr, "zscan scan: unexpected argument '%s'\n",
                 argv[first]);
        zs_config_free (opts);
        return 2;
    }
    if (!s_setup (&c)) {
        zs_config_free (opts);
        return 2;
    }
    zs_scan_start_t m = {0};
    char idbuf[ZS_ID_MAX + 1];
    if (id)
        snprintf (idbuf, sizeof idbuf, "%s", id);
    else {
        idbuf[0] = 's';
        zs_random_id (idbuf + 1, 11);
    }
    char pstore[2048];
    code = 2;
    if (!zs_scan_id_valid (idbuf))
        fprintf (stderr, "zscan scan: invalid --id '%s'\n", idbuf);
    else if (strategy && filter)
        fprintf (stderr, "zscan scan: give --strategy or --filter, not "
                         "both\n");
    else if (zs_priority_parse (priority, &m.priority) != 0)
        fprintf (stderr, "zscan scan: --priority is given, liquidity or "
                         "signals\n");
    else if (max_signals < 0 || max_symbols < 0 || batch < 0 || timeout < 0)
        fprintf (stderr, "zscan scan: negative limits make no sense\n");
    else if (!params || s_parse_params (params, &m.def, pstore,
                                        sizeof pstore)
                            == 0)
        code = 0;
    if (code) {
        zs_config_free (opts);
        return code;
    }
    zs_client_t *client = zs_cli_connect (&c);
    if (!client) {
        zs_config_free (opts);
        return 1;
    }
    /* subscribe first (a terminal shows signals and progress only, JSON
       every record), then start with sync: the broker holds the scan
       until it sees the subscription */
    zs_view_t view = c.json ? ZS_VIEW_ALL : ZS_VIEW_SIGNALS;
    zs_bus_t *bus = zs_client_bus (client);
    if (!bus || zs_bus_subscribe (bus, idbuf, view) != 0) {
        fprintf (stderr, "zscan scan: cannot subscribe to the results\n");
        zs_client_destroy (&client);
        zs_config_free (opts);
        return 1;
    }
    m.req = client->next_req++;
    m.scan = idbuf;
    m.universe = universe;
    m.def.data = data;
    m.def.strategy = strategy;
    m.def.filter = filter;
    m.batch = (uint32_t) batch;
    m.max_signals = (uint64_t) max_signals;
    m.max_symbols = (uint64_t) max_symbols;
    m.timeout_seconds = timeout;
    m.sync = true;
    char err[1024];
    zs_buf_reset (&client->buf);
    if (zs_scan_start_encode (&m, &client->buf, err, sizeof err) != 0) {
        fprintf (stderr, "zscan scan: %s\n", err);
        zs_client_destroy (&client);
        zs_config_free (opts);
        return 2;
    }
    zmq_msg_t reply;
    zmq_msg_init (&reply);
    if (zs_client_call (client, &reply, c.request_ms, err, sizeof err) != 0
        || zs_client_reply_error (&reply, ZS_MSG_SCAN_STARTED, err,
                                  sizeof err)) {
        fprintf (stderr, "zscan scan: %s\n", err);
        zmq_msg_close (&reply);
        zs_client_destroy (&client);
        zs_config_free (opts);
        return 1;
    }
    zs_scan_started_t started = {0};
    uint64_t total = 0;
    if (zs_scan_started_decode (zmq_msg_data (&reply), zmq_msg_size (&reply),
                                &started, err, sizeof err)
        == 0)
        total = started.total;
    zs_msg_free (&started.mem_);
    zmq_msg_close (&reply);
    zs_bus_follow (bus, idbuf, view, 0, true);
    if (!c.json)
        fprintf (stderr, "scan %s: %llu symbols\n", idbuf,
                 (unsigned long long) total);
    code = zs_cli_stream (client, idbuf, total, c.json, true, c.request_ms);
    zs_client_destroy (&client);
    zs_config_free (opts);
    return code;
}

/* ---------------------------------------------------------------------- */

/*  Asks for a scan's status; fills info (strings in msg's memory). */
static int s_status (zs_client_t *client, const char *scan, int64_t ms,
                     zs_scan_info_msg_t *msg, char *err, size_t errlen)
{
    zs_scan_status_t m = {0};
    m.req = client->next_req++;
    m.scan = scan;
    zs_buf_reset (&client->buf);
    if (zs_scan_status_encode (&m, &client->buf, err, errlen) != 0)
        return -1;
    zmq_msg_t reply;
    zmq_msg_init (&reply);
    int rc = -1;
    if (zs_client_call (client, &reply, ms, err, errlen) == 0
        && !zs_client_reply_error (&reply, ZS_MSG_SCAN_INFO, err, errlen)
        && zs_scan_info_msg_decode (zmq_msg_data (&reply),
                                    zmq_msg_size (&reply), msg, err, errlen)
               == 0)
        rc = 0;
    zmq_msg_close (&reply);
    return rc;
}

static json_t *s_info_json (const zs_scan_info_t *i)
{
    json_t *o = json_object ();
    json_object_set_new (o, "scan", json_string (i->scan));
    json_object_set_new (o, "state", json_string (zs_scan_state_name (i->state)));
    json_object_set_new (o, "reason",
                         json_string (zs_end_reason_name (i->reason)));
    if (i->def.strategy)
        json_object_set_new (o, "strategy", json_string (i->def.strategy));
    if (i->def.filter)
        json_object_set_new (o, "filter", json_string (i->def.filter));
    if (i->def.data)
        json_object_set_new (o, "data", json_string (i->def.data));
    json_object_set_new (o, "universe",
                         json_string (i->universe ? i->universe : ""));
    json_object_set_new (o, "priority",
                         json_string (zs_priority_name (i->priority)));
    json_object_set_new (o, "total", json_integer ((json_int_t) i->total));
    json_object_set_new (o, "done", json_integer ((json_int_t) i->done));
    json_object_set_new (o, "signals", json_integer ((json_int_t) i->signals));
    json_object_set_new (o, "failed", json_integer ((json_int_t) i->failed));
    json_object_set_new (o, "unscanned",
                         json_integer ((json_int_t) i->unscanned));
    json_object_set_new (o, "busy", json_integer (i->busy));
    json_object_set_new (o, "seq", json_integer ((json_int_t) i->seq));
    json_object_set_new (o, "max_signals",
                         json_integer ((json_int_t) i->max_signals));
    json_object_set_new (o, "max_symbols",
                         json_integer ((json_int_t) i->max_symbols));
    json_object_set_new (o, "timeout_seconds", json_real (i->timeout_seconds));
    json_object_set_new (o, "started_at", json_real (i->started_at));
    json_object_set_new (o, "elapsed", json_real (i->elapsed));
    json_object_set_new (o, "rate", json_real (i->rate));
    json_object_set_new (o, "eta", i->eta >= 0 ? json_real (i->eta)
                                               : json_null ());
    json_object_set_new (o, "first_result_ms",
                         i->first_result_ms >= 0
                             ? json_real (i->first_result_ms)
                             : json_null ());
    return o;
}

static void s_print_json (json_t *o)
{
    char *s = json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        puts (s);
        free (s);
    }
    json_decref (o);
}

static void s_print_info_line (const zs_scan_info_t *i)
{
    printf ("%-14s %-9s %-12s %8llu/%-8llu %6llu signals %5llu failed "
            "%8.0f sym/s %7.2f s  %s\n",
            i->scan, zs_scan_state_name (i->state),
            i->reason ? zs_end_reason_name (i->reason) : "",
            (unsigned long long) i->done, (unsigned long long) i->total,
            (unsigned long long) i->signals, (unsigned long long) i->failed,
            i->rate, i->elapsed,
            i->def.filter ? i->def.filter
                          : (i->def.strategy ? i->def.strategy : "(default)"));
}

int zs_cmd_tail (int argc, char **argv)
{
    zs_cli_common_t c = {0};
    int64_t after = 0;
    zs_opt_t opts[] = {ZS_CLI_COMMON_OPTS (c),
                       {"after", 'a', ZS_OPT_INT, "0", "N",
                        "start after the record at position N (0: from the "
                        "scan's start)",
                        &after},
                       {NULL, 0, 0, NULL, NULL, NULL, NULL}};
    int first = 0, code = 0;
    if (!zs_cli_parse ("tail", "[OPTIONS] SCAN_ID",
                       "Streams a scan from its start (or after --after N): "
                       "the records the broker's\nhistory holds, then the "
                       "live ones, until it finishes.  Works on a running\n"
                       "or a finished scan; records that left the history "
                       "are reported on stderr\n(exit code 1).",
                       opts, argc, argv, &first, &code)) {
        zs_config_free (opts);
        return code;
    }
    if (first != argc - 1 || !zs_scan_id_valid (argv[first])) {
        fprintf (stderr, "zscan tail: give one valid SCAN_ID\n");
        zs_config_free (opts);
        return 2;
    }
    if (after < 0) {
        fprintf (stderr, "zscan tail: --after is a position (0 or more)\n");
        zs_config_free (opts);
        return 2;
    }
    if (!s_setup (&c)) {
        zs_config_free (opts);
        return 2;
    }
    const char *scan = argv[first];
    zs_client_t *client = zs_cli_connect (&c);
    if (!client) {
        zs_config_free (opts);
        return 1;
    }
    /* subscribe, then replay from the start: no record missed, none twice */
    zs_bus_t *bus = zs_client_bus (client);
    zs_view_t view = c.json ? ZS_VIEW_ALL : ZS_VIEW_SIGNALS;
    if (!bus || zs_bus_follow (bus, scan, view, (uint64_t) after, false)
                    != 0) {
        fprintf (stderr, "zscan tail: cannot follow scan %s\n", scan);
        code = 1;
    }
    else
        code = zs_cli_stream (client, scan, 0, c.json, false, c.request_ms);
    zs_client_destroy (&client);
    zs_config_free (opts);
    return code;
}

int zs_cmd_stop (int argc, char **argv)
{
    zs_cli_common_t c = {0};
    zs_opt_t opts[] = {ZS_CLI_COMMON_OPTS (c),
                       {NULL, 0, 0, NULL, NULL, NULL, NULL}};
    int first = 0, code = 0;
    if (!zs_cli_parse ("stop", "[OPTIONS] SCAN_ID",
                       "Stops a scan: its queued batches are dropped, "
                       "workers abandon it, and its\nfinished event says "
                       "\"stopped\".  Stopping a finished scan is harmless.",
                       opts, argc, argv, &first, &code)) {
        zs_config_free (opts);
        return code;
    }
    if (first != argc - 1 || !zs_scan_id_valid (argv[first])) {
        fprintf (stderr, "zscan stop: give one valid SCAN_ID\n");
        zs_config_free (opts);
        return 2;
    }
    if (!s_setup (&c)) {
        zs_config_free (opts);
        return 2;
    }
    zs_client_t *client = zs_cli_connect (&c);
    if (!client) {
        zs_config_free (opts);
        return 1;
    }
    zs_scan_stop_t m = {0};
    m.req = client->next_req++;
    m.scan = argv[first];
    m.reason = ZS_END_STOPPED;
    char err[1024];
    zs_buf_reset (&client->buf);
    zmq_msg_t reply;
    zmq_msg_init (&reply);
    zs_scan_stopped_t rep = {0};
    if (zs_scan_stop_encode (&m, &client->buf, err, sizeof err) != 0
        || zs_client_call (client, &reply, c.request_ms, err, sizeof err) != 0
        || zs_client_reply_error (&reply, ZS_MSG_SCAN_STOPPED, err,
                                  sizeof err)
        || zs_scan_stopped_decode (zmq_msg_data (&reply),
                                   zmq_msg_size (&reply), &rep, err,
                                   sizeof err)
               != 0) {
        fprintf (stderr, "zscan stop: %s\n", err);
        code = 1;
    }
    else if (c.json) {
        json_t *o = json_object ();
        json_object_set_new (o, "scan", json_string (rep.scan));
        json_object_set_new (o, "state",
                             json_string (zs_scan_state_name (rep.state)));
        json_object_set_new (o, "reason",
                             json_string (zs_end_reason_name (rep.reason)));
        s_print_json (o);
    }
    else
        printf ("scan %s %s (%s)\n", rep.scan, zs_scan_state_name (rep.state),
                zs_end_reason_name (rep.reason));
    zs_msg_free (&rep.mem_);
    zmq_msg_close (&reply);
    zs_client_destroy (&client);
    zs_config_free (opts);
    return code;
}

int zs_cmd_status (int argc, char **argv)
{
    zs_cli_common_t c = {0};
    zs_opt_t opts[] = {ZS_CLI_COMMON_OPTS (c),
                       {NULL, 0, 0, NULL, NULL, NULL, NULL}};
    int first = 0, code = 0;
    if (!zs_cli_parse ("status", "[OPTIONS] SCAN_ID",
                       "Shows a scan's live statistics.", opts, argc, argv,
                       &first, &code)) {
        zs_config_free (opts);
        return code;
    }
    if (first != argc - 1 || !zs_scan_id_valid (argv[first])) {
        fprintf (stderr, "zscan status: give one valid SCAN_ID\n");
        zs_config_free (opts);
        return 2;
    }
    if (!s_setup (&c)) {
        zs_config_free (opts);
        return 2;
    }
    zs_client_t *client = zs_cli_connect (&c);
    if (!client) {
        zs_config_free (opts);
        return 1;
    }
    zs_scan_info_msg_t info = {0};
    char err[1024];
    if (s_status (client, argv[first], c.request_ms, &info, err, sizeof err)
        != 0) {
        fprintf (stderr, "zscan status: %s\n", err);
        code = 1;
    }
    else if (c.json)
        s_print_json (s_info_json (&info.info));
    else
        s_print_info_line (&info.info);
    zs_msg_free (&info.mem_);
    zs_client_destroy (&client);
    zs_config_free (opts);
    return code;
}

int zs_cmd_list (int argc, char **argv)
{
    zs_cli_common_t c = {0};
    bool all = false;
    zs_opt_t opts[] = {ZS_CLI_COMMON_OPTS (c),
                       {"all", 'a', ZS_OPT_BOOL, "false", NULL,
                        "include finished scans the broker remembers", &all},
                       {NULL, 0, 0, NULL, NULL, NULL, NULL}};
    int first = 0, code = 0;
    if (!zs_cli_parse ("list", "[OPTIONS]",
                       "Lists running scans (with --all, recently finished "
                       "ones too).",
                       opts, argc, argv, &first, &code)) {
        zs_config_free (opts);
        return code;
    }
    if (first != argc) {
        fprintf (stderr, "zscan list: unexpected argument '%s'\n",
                 argv[first]);
        zs_config_free (opts);
        return 2;
    }
    if (!s_setup (&c)) {
        zs_config_free (opts);
        return 2;
    }
    zs_client_t *client = zs_cli_connect (&c);
    if (!client) {
        zs_config_free (opts);
        return 1;
    }
    zs_scan_list_t m = {0};
    m.req = client->next_req++;
    m.all = all;
    char err[1024];
    zs_buf_reset (&client->buf);
    zmq_msg_t reply;
    zmq_msg_init (&reply);
    zs_scans_t rep = {0};
    if (zs_scan_list_encode (&m, &client->buf, err, sizeof err) != 0
        || zs_client_call (client, &reply, c.request_ms, err, sizeof err) != 0
        || zs_client_reply_error (&reply, ZS_MSG_SCANS, err, sizeof err)
        || zs_scans_decode (zmq_msg_data (&reply), zmq_msg_size (&reply),
                            &rep, err, sizeof err)
               != 0) {
        fprintf (stderr, "zscan list: %s\n", err);
        code = 1;
    }
    else if (c.json) {
        json_t *arr = json_array ();
        for (size_t i = 0; i < rep.nscans; i++)
            json_array_append_new (arr, s_info_json (&rep.scans[i]));
        s_print_json (arr);
    }
    else {
        if (rep.nscans == 0)
            printf ("no scans\n");
        for (size_t i = 0; i < rep.nscans; i++)
            s_print_info_line (&rep.scans[i]);
    }
    zs_msg_free (&rep.mem_);
    zmq_msg_close (&reply);
    zs_client_destroy (&client);
    zs_config_free (opts);
    return code;
}
