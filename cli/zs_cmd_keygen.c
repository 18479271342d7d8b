/*  zs_cmd_keygen.c - zscan keygen: a CURVE certificate pair in czmq's
    format, for the broker (its server key) or any client of it.  */
#include "zs_cli.h"
#include "zs_curve.h"

#include <stdio.h>

int zs_cmd_keygen (int argc, char **argv)
{
    char *log_level = NULL;
    zs_opt_t opts[] = {{"log-level", 'l', ZS_OPT_STR, "warn", "LEVEL",
                        "error, warn, info or debug", &log_level},
                       {NULL, 0, 0, NULL, NULL, NULL, NULL}};
    int first = 0, rc = 0;
    if (!zs_cli_parse ("keygen", "NAME",
                       "Writes a new CURVE key pair as czmq certificates: "
                       "NAME holds the public\nkey (give it to the broker's "
                       "--curve-allow or --curve-read directory, or\nto "
                       "clients as --curve-server when NAME is the "
                       "broker's), NAME_secret holds\nboth keys (mode 0600; "
                       "the program's own --curve-cert).  Neither file is\n"
                       "overwritten.  Prints the public key.",
                       opts, argc, argv, &first, &rc)) {
        zs_config_free (opts);
        return rc;
    }
    if (first != argc - 1) {
        fprintf (stderr, "Usage: zscan keygen NAME (see --help)\n");
        zs_config_free (opts);
        return 2;
    }
    const char *path = argv[first];
    char err[512];
    zs_keypair_t kp;
    if (zs_curve_keygen (path, err, sizeof err) != 0
        || zs_curve_load (path, false, &kp, err, sizeof err) != 0) {
        fprintf (stderr, "zscan keygen: %s\n", err);
        zs_config_free (opts);
        return 1;
    }
    printf ("%s\n", kp.public_);
    fprintf (stderr, "zscan keygen: wrote %s (public) and %s_secret\n", path,
             path);
    zs_config_free (opts);
    return 0;
}
