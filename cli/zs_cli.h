/*  zs_cli.h - the zscan CLI's subcommands and what they share.  */
#ifndef ZS_CLI_H
#define ZS_CLI_H

#include "zs_client.h"
#include "zs_config.h"

#include <stdbool.h>
#include <stdint.h>

/* Options every broker-facing subcommand takes. */
typedef struct {
    char *broker;        /* host                                          */
    int64_t port;        /* base port                                     */
    char *api;           /* explicit endpoints (override host/port)       */
    char *results;
    int64_t request_ms;  /* how long to wait for a reply                  */
    bool json;           /* JSON output even on a terminal                */
    char *log_level;
    char *curve_cert;    /* own certificate (CURVE), or NULL              */
    char *curve_server;  /* the broker's public key or certificate        */
} zs_cli_common_t;

#define ZS_CLI_COMMON_OPTS(c)                                              \
    {"broker", 'b', ZS_OPT_STR, "127.0.0.1", "HOST",                       \
     "the broker's host name or address", &(c).broker},                    \
        {"port", 'p', ZS_OPT_INT, "5555", "N",                             \
         "the broker's base port (api N, results-out N+5)", &(c).port},    \
        {"api", 0, ZS_OPT_STR, NULL, "ENDPOINT",                           \
         "the broker's api endpoint (overrides host/port)", &(c).api},     \
        {"results-out", 0, ZS_OPT_STR, NULL, "ENDPOINT",                   \
         "the broker's results-out endpoint", &(c).results},               \
        {"request-ms", 0, ZS_OPT_INT, "5000", "MS",                        \
         "how long to wait for the broker's reply", &(c).request_ms},      \
        {"json", 'j', ZS_OPT_BOOL, "false", NULL,                          \
         "JSON output (the default when stdout is not a terminal)",        \
         &(c).json},                                                       \
        {"log-level", 'l', ZS_OPT_STR, "warn", "LEVEL",                    \
         "error, warn, info or debug", &(c).log_level},                    \
        ZS_CURVE_CLIENT_OPTS ((c).curve_cert, (c).curve_server)

/*  Parses a subcommand's options (argv[0] is the subcommand).  Prints help
    (with usage and about) or the version and returns 0 through *exit_code
    when asked; returns true when the command should run, with positional
    arguments from *first. */
bool zs_cli_parse (const char *cmd, const char *usage, const char *about,
                   zs_opt_t *opts, int argc, char **argv, int *first,
                   int *exit_code);

/* Connects to the broker the common options name; NULL after a message. */
zs_client_t *zs_cli_connect (const zs_cli_common_t *c);

/*  Streams a scan's records to stdout until its finished event (or
    Ctrl-C, which stops the scan when stop_on_interrupt).  Renders JSON
    lines or a terminal view.  total may be 0 when unknown.  Returns the
    process exit code. */
int zs_cli_stream (zs_client_t *client, const char *scan, uint64_t total,
                   bool json, bool stop_on_interrupt, int64_t request_ms);

int zs_cmd_scan (int argc, char **argv);
int zs_cmd_tail (int argc, char **argv);
int zs_cmd_stop (int argc, char **argv);
int zs_cmd_status (int argc, char **argv);
int zs_cmd_list (int argc, char **argv);
int zs_cmd_local (int argc, char **argv);
int zs_cmd_keygen (int argc, char **argv);

#endif
