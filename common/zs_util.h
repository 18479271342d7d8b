/*  zs_util.h - small things every zscan program needs: logging, clocks,
    signal handling, endpoints and ids.  */
#ifndef ZS_UTIL_H
#define ZS_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { ZS_LOG_ERROR = 0, ZS_LOG_WARN, ZS_LOG_INFO, ZS_LOG_DEBUG } zs_log_level_t;

/*  Sets the program name shown in log lines and the most verbose level
    logged ("error", "warn", "info", "debug").  Returns 0, or -1 for an
    unknown level name (the level is then unchanged). */
int zs_log_init (const char *prog, const char *level);
/* True when lines of this level are written. */
bool zs_log_enabled (zs_log_level_t level);
/* Writes one line to stderr: time, program, level, message. */
void zs_log (zs_log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define zs_error(...) zs_log (ZS_LOG_ERROR, __VA_ARGS__)
#define zs_warn(...) zs_log (ZS_LOG_WARN, __VA_ARGS__)
#define zs_info(...) zs_log (ZS_LOG_INFO, __VA_ARGS__)
#define zs_debug(...)                                                      \
    do {                                                                   \
        if (zs_log_enabled (ZS_LOG_DEBUG))                                 \
            zs_log (ZS_LOG_DEBUG, __VA_ARGS__);                            \
    } while (0)

/* Monotonic clock in microseconds / milliseconds. */
int64_t zs_clock_us (void);
int64_t zs_clock_ms (void);
/* Wall clock, seconds since the epoch. */
double zs_wall (void);

/*  The interrupt flag: set by SIGINT and SIGTERM once zs_signals_install
    has run (the only global state we keep).  Installs handlers without
    SA_RESTART so blocking calls (zmq_poll) return EINTR at once; disables
    czmq's own handler. */
extern volatile sig_atomic_t zs_interrupted;
/* The signal that set zs_interrupted (SIGINT or SIGTERM), 0 if none. */
extern volatile sig_atomic_t zs_interrupt_signal;
void zs_signals_install (void);

/*  Writes "tcp://HOST:PORT" into buf.  When explicit is non-empty it is
    used as given instead.  Returns buf. */
char *zs_endpoint (char *buf, size_t cap, const char *explicit_ep,
                   const char *host, int64_t port);

/*  The broker's sockets by name, in the order of their ports from the
    base port: api, tasks, reports, control, results-in, results-out (the
    file names of its Unix sockets with --ipc DIR). */
#define ZS_SOCKETS 6
#define ZS_DEFAULT_PORT 5555 /* the broker's base port unless told      */
extern const char *const zs_socket_names[ZS_SOCKETS];

/*  The endpoint of the broker's socket name (one of zs_socket_names) in
    the directory of its Unix domain sockets: "ipc://DIR/NAME".  Returns
    buf, or NULL when the path does not fit a Unix socket address (107
    bytes) or buf. */
char *zs_endpoint_ipc (char *buf, size_t cap, const char *dir,
                       const char *name);

/*  A socket that connects to the broker tries again 10 ms after a failed
    attempt, doubling to 200 ms (ZeroMQ's default: every 100-200 ms), so
    a worker started beside its broker joins as soon as it binds. */
void zs_socket_retry_soon (void *sock);

/*  Writes a random id of n characters from [a-z0-9] into buf (n + 1 bytes)
    read from /dev/urandom (or the clock when that fails). */
void zs_random_id (char *buf, size_t n);

#ifdef __cplusplus
}
#endif

#endif
