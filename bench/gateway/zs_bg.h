/*  zs_bg.h - what the gateway bench's files share (bench/gateway): HTTP,
    WebSocket and SSE clients written by hand, many at once on one thread,
    and the tap on the cluster's results that times each record's relay
    (zs_bg_clients.c); the figures are zs_bench_gateway.c's. */
#ifndef ZS_BG_H
#define ZS_BG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* the source address of the next connection: 127.0.0.1, or 127.0.0.N */
extern int bg_source;

typedef struct {
    int fd;
    bool upgraded;
    bool done;
    uint64_t records;
    double first_at; /* first record */
    char *buf;
    size_t len, cap;
    double *lat; /* relay latencies seen (sampled clients) */
    size_t nlat, lcap;
} bg_ws_t;

typedef struct {
    void *ctx, *sub;
    pthread_t thread;
    _Atomic uint64_t *t_us; /* [pos]: when the tap had it, 0 = not yet */
    size_t n;
    atomic_bool stop;
} bg_tap_t;

/* qsort's order of doubles; now, in seconds */
int bg_cmp (const void *a, const void *b);
double bg_now (void);

/* a connection to 127.0.0.1:port (from 127.0.0.bg_source); one HTTP
   request, its answer's body into out */
int bg_connect (int port);
int bg_http (int port, const char *method, const char *path, const char *body,
             char *out, size_t cap);

/* streams: a WebSocket or an SSE client opened; n WebSocket clients read
   until each has want records (or nothing came for idle seconds), idle
   ones drained, all closed */
int bg_ws_open (int port, const char *path);
int bg_sse_open (int port, const char *path);
double bg_ws_run (bg_ws_t *cl, int n, uint64_t want, double timeout);
double bg_ws_run_idle (bg_ws_t *cl, int n, uint64_t want, double timeout,
                       double idle);
void bg_drain (const bg_ws_t *cl, int n);
void bg_ws_close_all (bg_ws_t *cl, int n);

/* the tap on results-out of the cluster at base, for n positions */
int bg_tap_start (bg_tap_t *tap, int base, size_t n);
void bg_tap_stop (bg_tap_t *tap);

#endif
