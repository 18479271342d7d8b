/*  zs_util.c - logging, clocks, signals, endpoints, ids.  */
#include "zs_util.h"

#include <czmq.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t zs_interrupted = 0;
volatile sig_atomic_t zs_interrupt_signal = 0;

static char s_prog[64] = "zscan";
static zs_log_level_t s_level = ZS_LOG_INFO;
static const char *s_level_names[] = {"error", "warn", "info", "debug"};

int zs_log_init (const char *prog, const char *level)
{
    snprintf (s_prog, sizeof s_prog, "%s", prog);
    if (!level)
        return 0;
    for (int i = 0; i <= ZS_LOG_DEBUG; i++)
        if (strcasecmp (level, s_level_names[i]) == 0) {
            s_level = (zs_log_level_t) i;
            return 0;
        }
    return -1;
}

bool zs_log_enabled (zs_log_level_t level)
{
    return level <= s_level;
}

void zs_log (zs_log_level_t level, const char *fmt, ...)
{
    if (level > s_level)
        return;
    char line[2048];
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r (&ts.tv_sec, &tm);
    int n = snprintf (line, sizeof line, "%02d:%02d:%02d.%03ld %s %s: ",
                      tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                      s_prog, s_level_names[level]);
    va_list ap;
    va_start (ap, fmt);
    if (n > 0 && (size_t) n < sizeof line)
        vsnprintf (line + n, sizeof line - (size_t) n, fmt, ap);
    va_end (ap);
    /* one write per line, so lines from several threads never interleave */
    size_t len = strlen (line);
    if (len + 1 < sizeof line) {
        line[len++] = '\n';
        line[len] = 0;
    }
    fputs (line, stderr);
}

int64_t zs_clock_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t zs_clock_ms (void)
{
    return zs_clock_us () / 1000;
}

double zs_wall (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void s_on_signal (int sig)
{
    zs_interrupted = 1;
    zs_interrupt_signal = sig;
}

void zs_signals_install (void)
{
    zsys_handler_set (NULL);
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
}

char *zs_endpoint (char *buf, size_t cap, const char *explicit_ep,
                   const char *host, int64_t port)
{
    if (explicit_ep && *explicit_ep)
        snprintf (buf, cap, "%s", explicit_ep);
    else
        snprintf (buf, cap, "tcp://%s:%lld", host, (long long) port);
    return buf;
}

const char *const zs_socket_names[ZS_SOCKETS] = {
    "api", "tasks", "reports", "control", "results-in", "results-out"};

char *zs_endpoint_ipc (char *buf, size_t cap, const char *dir,
                       const char *name)
{
    int n = snprintf (buf, cap, "ipc://%s/%s", dir, name);
    /* sun_path holds 108 bytes with its NUL; "ipc://" is not in it */
    if (n < 0 || (size_t) n >= cap || n - 6 > 107)
        return NULL;
    return buf;
}

void zs_random_id (char *buf, size_t n)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char raw[64];
    if (n > sizeof raw)
        n = sizeof raw;
    FILE *f = fopen ("/dev/urandom", "rb");
    size_t got = f ? fread (raw, 1, n, f) : 0;
    if (f)
        fclose (f);
    uint64_t x = (uint64_t) zs_clock_us () ^ ((uint64_t) getpid () << 32);
    for (size_t i = got; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        raw[i] = (unsigned char) x;
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = alphabet[raw[i] % 36];
    buf[n] = 0;
}

void zs_socket_retry_soon (void *sock)
{
    int ivl = 10, ivl_max = 200;
    zmq_setsockopt (sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt (sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
}
