/*  zs_config.c - defaults < ZPL file < environment < flags.  */
#include "zs_config.h"

#include <czmq.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int s_parse_bool (const char *s, bool *out)
{
    static const char *yes[] = {"1", "true", "yes", "on", NULL};
    static const char *no[] = {"0", "false", "no", "off", NULL};
    for (int i = 0; yes[i]; i++)
        if (strcasecmp (s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
    for (int i = 0; no[i]; i++)
        if (strcasecmp (s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    return -1;
}

/*  Stores text into opt's target after checking it.  Returns 0, or -1 with
    a message on stderr naming where the value came from. */
static int s_set (const char *prog, zs_opt_t *opt, const char *text,
                  const char *origin)
{
    char *end = NULL;
    switch (opt->type) {
    case ZS_OPT_STR: {
        char **target = (char **) opt->target;
        char *copy = strdup (text);
        if (!copy) {
            fprintf (stderr, "%s: out of memory\n", prog);
            return -1;
        }
        free (*target);
        *target = copy;
        return 0;
    }
    case ZS_OPT_INT: {
        errno = 0;
        long long v = strtoll (text, &end, 10);
        if (errno || end == text || *end) {
            fprintf (stderr, "%s: %s: --%s wants an integer, not '%s'\n",
                     prog, origin, opt->name, text);
            return -1;
        }
        *(int64_t *) opt->target = (int64_t) v;
        return 0;
    }
    case ZS_OPT_DOUBLE: {
        errno = 0;
        double v = strtod (text, &end);
        if (errno || end == text || *end || !isfinite (v)) {
            fprintf (stderr, "%s: %s: --%s wants a number, not '%s'\n", prog,
                     origin, opt->name, text);
            return -1;
        }
        *(double *) opt->target = v;
        return 0;
    }
    case ZS_OPT_BOOL:
        if (s_parse_bool (text, (bool *) opt->target) != 0) {
            fprintf (stderr, "%s: %s: --%s wants true or false, not '%s'\n",
                     prog, origin, opt->name, text);
            return -1;
        }
        return 0;
    }
    return -1;
}

static zs_opt_t *s_find_long (zs_opt_t *opts, const char *name, size_t len)
{
    for (zs_opt_t *o = opts; o->name; o++)
        if (strlen (o->name) == len && memcmp (o->name, name, len) == 0)
            return o;
    return NULL;
}

static zs_opt_t *s_find_short (zs_opt_t *opts, char c)
{
    for (zs_opt_t *o = opts; o->name; o++)
        if (o->shortname && o->shortname == c)
            return o;
    return NULL;
}

/*  Finds the --config value (or ZSCAN_CONFIG) without applying anything
    else, so the file can be read before env and flags. */
static const char *s_config_path (int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--") == 0)
            break;
        if (strcmp (argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp (argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
    }
    return getenv ("ZSCAN_CONFIG");
}

static int s_apply_file (const char *prog, const char *section,
                         zs_opt_t *opts, const char *path)
{
    if (access (path, R_OK) != 0) {
        fprintf (stderr, "%s: config file %s: %s\n", prog, path,
                 strerror (errno));
        return -1;
    }
    zconfig_t *root = zconfig_load (path);
    if (!root) {
        fprintf (stderr, "%s: config file %s: not valid ZPL\n", prog, path);
        return -1;
    }
    int rc = 0;
    char origin[512];
    snprintf (origin, sizeof origin, "config %s", path);
    for (zs_opt_t *o = opts; o->name && rc == 0; o++) {
        char key[256];
        snprintf (key, sizeof key, "%s/%s", section, o->name);
        char *value = zconfig_get (root, key, NULL);
        if (value)
            rc = s_set (prog, o, value, origin);
    }
    zconfig_destroy (&root);
    return rc;
}

static int s_apply_env (const char *prog, zs_opt_t *opts)
{
    for (zs_opt_t *o = opts; o->name; o++) {
        char var[256] = "ZSCAN_";
        size_t n = strlen (var);
        for (const char *p = o->name; *p && n + 1 < sizeof var; p++)
            var[n++] = *p == '-' ? '_' : (char) toupper ((unsigned char) *p);
        var[n] = 0;
        const char *value = getenv (var);
        if (value && s_set (prog, o, value, var) != 0)
            return -1;
    }
    return 0;
}

/*  Options and positional arguments may be mixed (GNU style): positionals
    are moved, in order, to the end of argv, where *first_arg points. */
static zs_config_result_t s_apply_flags (const char *prog, zs_opt_t *opts,
                                         int argc, char **argv,
                                         int *first_arg)
{
    char **positional = (char **) calloc ((size_t) argc + 1, sizeof (char *));
    if (!positional) {
        fprintf (stderr, "%s: out of memory\n", prog);
        return ZS_CONFIG_ERROR;
    }
    int npos = 0;
    zs_config_result_t result = ZS_CONFIG_OK;
    int i = 1;
    for (; i < argc && result == ZS_CONFIG_OK; i++) {
        const char *arg = argv[i];
        if (strcmp (arg, "--") == 0) {
            for (i++; i < argc; i++)
                positional[npos++] = argv[i];
            break;
        }
        if (arg[0] != '-' || arg[1] == 0) {
            positional[npos++] = argv[i];
            continue;
        }
        if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0) {
            result = ZS_CONFIG_HELP;
            break;
        }
        if (strcmp (arg, "--version") == 0) {
            result = ZS_CONFIG_VERSION;
            break;
        }
        zs_opt_t *opt = NULL;
        const char *value = NULL;
        bool negated = false;
        if (arg[1] == '-') {
            const char *name = arg + 2;
            const char *eq = strchr (name, '=');
            size_t len = eq ? (size_t) (eq - name) : strlen (name);
            if (eq)
                value = eq + 1;
            if (len == 6 && memcmp (name, "config", 6) == 0) {
                if (!eq)
                    i++; /* already applied first */
                continue;
            }
            opt = s_find_long (opts, name, len);
            if (!opt && len > 3 && memcmp (name, "no-", 3) == 0) {
                opt = s_find_long (opts, name + 3, len - 3);
                if (opt && opt->type == ZS_OPT_BOOL && !eq)
                    negated = true;
                else
                    opt = NULL;
            }
        }
        else if (arg[2] == 0)
            opt = s_find_short (opts, arg[1]);
        if (!opt) {
            fprintf (stderr, "%s: unknown option '%s' (see --help)\n", prog,
                     arg);
            result = ZS_CONFIG_ERROR;
            break;
        }
        if (opt->type == ZS_OPT_BOOL && !value) {
            *(bool *) opt->target = !negated;
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) {
                fprintf (stderr, "%s: option --%s needs a value\n", prog,
                         opt->name);
                result = ZS_CONFIG_ERROR;
                break;
            }
            value = argv[++i];
        }
        if (s_set (prog, opt, value, "command line") != 0)
            result = ZS_CONFIG_ERROR;
    }
    if (result == ZS_CONFIG_OK) {
        /* options first, then the positionals in their order */
        int w = 1;
        for (int k = 1; k < argc; k++) {
            bool pos = false;
            for (int q = 0; q < npos && !pos; q++)
                pos = argv[k] == positional[q];
            if (!pos)
                argv[w++] = argv[k];
        }
        *first_arg = w;
        for (int q = 0; q < npos; q++)
            argv[w++] = positional[q];
    }
    free (positional);
    return result;
}

zs_config_result_t zs_config_parse (const char *prog, const char *section,
                                    zs_opt_t *opts, int argc, char **argv,
                                    int *first_arg)
{
    *first_arg = argc;
    for (zs_opt_t *o = opts; o->name; o++) {
        if (o->type == ZS_OPT_STR) {
            free (*(char **) o->target); /* a previous parse's value */
            *(char **) o->target = NULL;
        }
        if (o->defval && s_set (prog, o, o->defval, "default") != 0)
            return ZS_CONFIG_ERROR;
    }
    const char *path = s_config_path (argc, argv);
    if (path && *path && s_apply_file (prog, section, opts, path) != 0)
        return ZS_CONFIG_ERROR;
    if (s_apply_env (prog, opts) != 0)
        return ZS_CONFIG_ERROR;
    return s_apply_flags (prog, opts, argc, argv, first_arg);
}

void zs_config_print_help (FILE *out, const zs_opt_t *opts)
{
    fprintf (out, "Options (flag > environment ZSCAN_<NAME> > config file "
                  "> default):\n");
    for (const zs_opt_t *o = opts; o->name; o++) {
        char left[64];
        const char *meta = o->type == ZS_OPT_BOOL ? "" : o->metavar;
        if (o->shortname)
            snprintf (left, sizeof left, "-%c, --%s%s%s", o->shortname,
                      o->name, meta && *meta ? " " : "", meta ? meta : "");
        else
            snprintf (left, sizeof left, "    --%s%s%s", o->name,
                      meta && *meta ? " " : "", meta ? meta : "");
        fprintf (out, "  %-30s %s", left, o->help);
        if (o->defval && *o->defval)
            fprintf (out, " [%s]", o->defval);
        fputc ('\n', out);
    }
    fprintf (out, "  %-30s %s\n", "    --config FILE",
             "read options from a ZPL config file (or ZSCAN_CONFIG)");
    fprintf (out, "  %-30s %s\n", "-h, --help", "show this help");
    fprintf (out, "  %-30s %s\n", "    --version", "show the version");
}

void zs_config_free (zs_opt_t *opts)
{
    for (zs_opt_t *o = opts; o->name; o++)
        if (o->type == ZS_OPT_STR) {
            free (*(char **) o->target);
            *(char **) o->target = NULL;
        }
}
