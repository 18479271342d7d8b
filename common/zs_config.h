/*  zs_config.h - one way to configure every zscan program.

    Each program describes its options once, in a table of zs_opt_t.  A
    value comes from, lowest to highest priority:
        the table's default
        the config file (czmq ZPL), key <section>/<name>
        the environment, ZSCAN_<NAME> (upper case, '-' becomes '_')
        the command line, --name VALUE, --name=VALUE, -x VALUE
    so flags win.  The config file is named by --config FILE or
    ZSCAN_CONFIG; a missing or malformed file named explicitly is an error.
    Booleans accept 1/0, true/false, yes/no, on/off; as flags, --name sets
    true and --no-name sets false.
*/
#ifndef ZS_CONFIG_H
#define ZS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ZS_OPT_STR,    /* target: char **, NULL at first (malloc'd; freed by
                      zs_config_free or the next parse)                   */
    ZS_OPT_INT,    /* target: int64_t *                                   */
    ZS_OPT_DOUBLE, /* target: double *                                    */
    ZS_OPT_BOOL    /* target: bool *                                      */
} zs_opt_type_t;

typedef struct {
    const char *name;    /* long name: flag, ZPL key and env suffix        */
    char shortname;      /* single-letter flag, or 0                       */
    zs_opt_type_t type;
    const char *defval;  /* default as text; NULL = unset (strings only)   */
    const char *metavar; /* shown in --help, e.g. "N", "URI"               */
    const char *help;    /* one line                                       */
    void *target;        /* where the value goes                           */
} zs_opt_t;

typedef enum {
    ZS_CONFIG_OK = 0,    /* options parsed; positionals from *first_arg    */
    ZS_CONFIG_HELP,      /* --help was given                               */
    ZS_CONFIG_VERSION,   /* --version was given                            */
    ZS_CONFIG_ERROR      /* a bad value, an unknown flag: message printed  */
} zs_config_result_t;

/*  Applies defaults, config file, environment and argv[1..] to the
    targets.  section names the ZPL section ("broker", "worker", ...).
    Parsing stops at the first positional argument (or "--"): its index is
    stored in *first_arg (argc when none).  On error prints one line to
    stderr prefixed by prog.  Options end with a {NULL} entry. */
zs_config_result_t zs_config_parse (const char *prog, const char *section,
                                    zs_opt_t *opts, int argc, char **argv,
                                    int *first_arg);

/*  Prints the options table as --help text (after usage and description
    lines the caller prints). */
void zs_config_print_help (FILE *out, const zs_opt_t *opts);

/* Frees the string targets of the table (sets them to NULL). */
void zs_config_free (zs_opt_t *opts);

#ifdef __cplusplus
}
#endif

#endif
