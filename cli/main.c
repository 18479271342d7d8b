/*  zscan: the command-line client.  Subcommands talk to the broker
    directly (scan, tail, stop, status, list), run a local cluster
    (local), or use the engine on this machine (indicators, import).  */
#include "zs_cli.h"
#include "zs_cmd_engine.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *name;
    int (*run) (int argc, char **argv);
    const char *help;
} s_command_t;

static const s_command_t s_commands[] = {
    {"scan", zs_cmd_scan, "start a scan and stream its results"},
    {"tail", zs_cmd_tail, "stream a running scan's results"},
    {"stop", zs_cmd_stop, "stop a scan"},
    {"status", zs_cmd_status, "a scan's live statistics"},
    {"list", zs_cmd_list, "running (and recent) scans"},
    {"local", zs_cmd_local,
     "run a broker and workers on this machine, scan, stream"},
    {"indicators", zs_cmd_indicators,
     "print every bar of a symbol with its indicators (CSV)"},
    {"import", zs_cmd_import, "build a binary store from a CSV directory"},
    {"keygen", zs_cmd_keygen,
     "write a CURVE certificate pair (NAME, NAME_secret)"},
    {NULL, NULL, NULL}};

static void s_usage (FILE *out)
{
    fprintf (out, "Usage: zscan COMMAND [OPTIONS] [ARGS]\n\n"
                  "zscan, a distributed market scanner.  Commands:\n");
    for (const s_command_t *c = s_commands; c->name; c++)
        fprintf (out, "  %-12s %s\n", c->name, c->help);
    fprintf (out, "\n'zscan COMMAND --help' describes each.  Options also "
                  "come from the environment\n(ZSCAN_<OPTION>) and a ZPL "
                  "config file (--config FILE, section \"cli\").\n");
}

int main (int argc, char **argv)
{
    /* into a file or a pipe, stdio's 4 KB buffer made a write(2) per 4 KB
       of JSON lines (600 for a 10,000-symbol scan); streams flush when
       they have nothing more to read, so a reader still sees each batch
       at once */
    static char outbuf[1 << 16]; /* glibc ignores a size without a buffer */
    if (!isatty (STDOUT_FILENO))
        setvbuf (stdout, outbuf, _IOFBF, sizeof outbuf);
    if (argc < 2) {
        s_usage (stderr);
        return 2;
    }
    if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
        || strcmp (argv[1], "help") == 0) {
        s_usage (stdout);
        return 0;
    }
    if (strcmp (argv[1], "--version") == 0) {
        printf ("zscan %s\n", ZS_VERSION);
        return 0;
    }
    for (const s_command_t *c = s_commands; c->name; c++)
        if (strcmp (argv[1], c->name) == 0)
            return c->run (argc - 1, argv + 1);
    fprintf (stderr, "zscan: unknown command '%s'\n\n", argv[1]);
    s_usage (stderr);
    return 2;
}
