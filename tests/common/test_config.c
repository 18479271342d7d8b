/*  test_config.c - defaults < ZPL file < environment < flags, and the
    errors a user gets for bad values, unknown flags and bad files. */
#include "zs_config.h"
#include "zs_idmap.h"
#include "zs_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zs_test.h"

static char *s_name;
static int64_t s_port, s_lease;
static double s_ratio;
static bool s_flag;

static zs_opt_t s_opts[] = {
    {"name", 'n', ZS_OPT_STR, "dflt", "S", "a name", &s_name},
    {"port", 'p', ZS_OPT_INT, "5555", "N", "a port", &s_port},
    {"lease-ms", 0, ZS_OPT_INT, "100", "MS", "a lease", &s_lease},
    {"ratio", 0, ZS_OPT_DOUBLE, "0.5", "X", "a ratio", &s_ratio},
    {"flag", 0, ZS_OPT_BOOL, "true", NULL, "a flag", &s_flag},
    {NULL, 0, 0, NULL, NULL, NULL, NULL}};

static zs_config_result_t s_parse (int argc, const char **argv, int *first)
{
    char *copy[16];
    for (int i = 0; i < argc; i++)
        copy[i] = (char *) argv[i];
    zs_config_result_t r = zs_config_parse ("test", "broker", s_opts, argc,
                                            copy, first);
    for (int i = 0; i < argc; i++)
        argv[i] = copy[i];
    return r;
}

int main (void)
{
    int first;
    unsetenv ("ZSCAN_CONFIG");
    unsetenv ("ZSCAN_PORT");
    unsetenv ("ZSCAN_LEASE_MS");
    const char *a0[] = {"prog"};
    CHECK (s_parse (1, a0, &first) == ZS_CONFIG_OK && first == 1
               && strcmp (s_name, "dflt") == 0 && s_port == 5555
               && s_lease == 100 && s_ratio == 0.5 && s_flag,
           "defaults");

    char path[] = "/tmp/zs_config_testXXXXXX";
    int fd = mkstemp (path);
    const char *zpl = "broker\n    port = 6000\n    lease-ms = 250\n"
                      "    name = \"from file\"\nworker\n    port = 7000\n";
    CHECK (fd >= 0 && write (fd, zpl, strlen (zpl)) == (ssize_t) strlen (zpl),
           "write config");
    close (fd);
    setenv ("ZSCAN_CONFIG", path, 1);
    CHECK (s_parse (1, a0, &first) == ZS_CONFIG_OK && s_port == 6000
               && s_lease == 250 && strcmp (s_name, "from file") == 0,
           "file section broker: port %lld", (long long) s_port);
    setenv ("ZSCAN_PORT", "6500", 1);
    setenv ("ZSCAN_LEASE_MS", "300", 1);
    CHECK (s_parse (1, a0, &first) == ZS_CONFIG_OK && s_port == 6500
               && s_lease == 300,
           "environment beats file");
    const char *a1[] = {"prog", "pos1", "--port", "7100", "-n", "cli",
                        "--no-flag", "pos2", "--ratio=0.25"};
    CHECK (s_parse (9, a1, &first) == ZS_CONFIG_OK && s_port == 7100
               && strcmp (s_name, "cli") == 0 && !s_flag
               && s_ratio == 0.25 && s_lease == 300,
           "flags beat environment");
    CHECK (first == 7 && strcmp (a1[7], "pos1") == 0
               && strcmp (a1[8], "pos2") == 0,
           "positionals moved to the end in order (first %d)", first);
    const char *a2[] = {"prog", "--port", "many"};
    CHECK (s_parse (3, a2, &first) == ZS_CONFIG_ERROR, "bad integer");
    const char *a3[] = {"prog", "--colour", "red"};
    CHECK (s_parse (3, a3, &first) == ZS_CONFIG_ERROR, "unknown flag");
    const char *a4[] = {"prog", "--port"};
    CHECK (s_parse (2, a4, &first) == ZS_CONFIG_ERROR, "missing value");
    const char *a5[] = {"prog", "--flag=maybe"};
    CHECK (s_parse (2, a5, &first) == ZS_CONFIG_ERROR, "bad bool");
    const char *a6[] = {"prog", "--help"};
    CHECK (s_parse (2, a6, &first) == ZS_CONFIG_HELP, "help");
    const char *a7[] = {"prog", "--version"};
    CHECK (s_parse (2, a7, &first) == ZS_CONFIG_VERSION, "version");
    const char *a8[] = {"prog", "--", "--port"};
    CHECK (s_parse (3, a8, &first) == ZS_CONFIG_OK && first == 2
               && strcmp (a8[2], "--port") == 0,
           "-- ends options");
    setenv ("ZSCAN_PORT", "x", 1);
    CHECK (s_parse (1, a0, &first) == ZS_CONFIG_ERROR, "bad env value");
    unsetenv ("ZSCAN_PORT");
    setenv ("ZSCAN_CONFIG", "/nonexistent/zscan.cfg", 1);
    CHECK (s_parse (1, a0, &first) == ZS_CONFIG_ERROR, "missing file");
    unsetenv ("ZSCAN_CONFIG");
    zs_config_free (s_opts);
    unlink (path);

    /* the id map, through growth and deletions */
    zs_idmap_t *m = zs_idmap_new ();
    static int vals[5000];
    for (int i = 1; i < 5000; i++)
        zs_idmap_put (m, (uint64_t) i * 7919, &vals[i]);
    for (int i = 1; i < 5000; i += 2)
        CHECK (zs_idmap_remove (m, (uint64_t) i * 7919) == &vals[i],
               "remove %d", i);
    for (int i = 1; i < 5000; i++)
        CHECK (zs_idmap_get (m, (uint64_t) i * 7919)
                   == (i % 2 ? NULL : &vals[i]),
               "get %d after removals", i);
    CHECK (zs_idmap_size (m) == 2499, "size %zu", zs_idmap_size (m));
    CHECK (zs_idmap_put (m, 0, &vals[0]) == -1, "id 0 refused");
    zs_idmap_destroy (&m);
    zs_idmap_destroy (&m);
    /* Unix socket endpoints: a path of 107 bytes fits sun_path with its
       NUL, 108 does not */
    char ep[256], dir[128];
    memset (dir, 'd', sizeof dir);
    dir[0] = '/';
    dir[107 - 4] = 0; /* "/ddd...d" + "/api" = 107 bytes */
    CHECK (zs_endpoint_ipc (ep, sizeof ep, dir, "api") != NULL
               && strlen (ep) == 6 + 107 && strncmp (ep, "ipc://", 6) == 0,
           "a 107-byte socket path: %s", ep);
    dir[107 - 4] = 'd';
    dir[108 - 4] = 0;
    CHECK (zs_endpoint_ipc (ep, sizeof ep, dir, "api") == NULL,
           "a 108-byte socket path is refused");
    CHECK (zs_endpoint_ipc (ep, 10, "/tmp/x", "api") == NULL,
           "a buffer too small is refused");
    return ZS_TEST_END ("config");
}
