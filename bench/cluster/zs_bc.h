/*  zs_bc.h - what the cluster bench's files share (bench/cluster): a
    cluster of real processes and one scan streamed through it
    (zs_bc_cluster.c), the references measured in this process: the
    engine alone, raw ZeroMQ, a worker's publishing floor (zs_bc_refs.c);
    the figures themselves are zs_bench_cluster.c's. */
#ifndef ZS_BC_H
#define ZS_BC_H

#include "zs_bars.h"
#include "zs_client.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <zmq.h>

/* the threads of a process the CPU accounts read, at most */
#define MAX_THREADS 64

/* where zscan-broker and zscan-worker are (ZSCAN_BIN, or next to us) */
extern char bc_bin[PATH_MAX];
/* when set, the next bc_cluster_start runs with CURVE on every socket,
   its keys in this directory (bc_curve_keys makes them) */
extern const char *bc_curve_dir;

typedef struct {
    pid_t pids[8];
    int n;
    int base;
    char ipc[64]; /* the Unix sockets' directory, or "" */
    zs_client_t *client;
} bc_cluster_t;

typedef struct {
    uint64_t results, signals, total;
    double t_sent, t_first, t_end; /* seconds, monotonic */
    double broker_first_ms; /* the broker's own: request to first result */
    zs_end_reason_t reason;
    uint64_t last_pos; /* position of the last record */
    uint64_t gaps;     /* holes: records missing from what came */
    uint64_t filled;   /* records the bus fetched from the history */
    char id[32];       /* the scan's id (bc_scan's last) */
} bc_run_t;

/*  The engine alone, in this process, on the same 10,000 synthetic
    symbols: generated once, then measured pass by pass, each pass next to
    a cluster scan so that both see the machine in the same state. */
typedef struct {
    zs_source_t *src;
    zs_strlist_t syms;
    zs_scanner_t *sc;
    zs_scanner_t *more[2]; /* the threads of the 2-thread pass */
    zs_scan_t *scan;
    size_t sig;
    double cpu;            /* CPU seconds of the passes counted ... */
    double scanned;        /* ... and their symbols */
    double cpu2, scanned2; /* the same of the 2-thread passes */
} bc_engine_t;

/* zs_bc_cluster.c: processes, a cluster, one scan */
int bc_cluster_start (bc_cluster_t *c, int workers, const char *data, bool ipc,
                      const char *preload, int delay_us);
void bc_cluster_stop (bc_cluster_t *c);
double bc_cpu_seconds (pid_t pid);
int bc_curve_keys (const char *dir);
void bc_follow (zs_client_t *client, bc_run_t *run, uint64_t stop_after);
int bc_free_base (int count);
double bc_now (void);
void bc_request_ok (zs_client_t *client, zmq_msg_t *reply);
double bc_scan (zs_client_t *client, const char *universe, const char *filter,
                bc_run_t *run);
void bc_start (zs_client_t *client, const char *id, const char *universe,
               const char *filter, bc_run_t *run);
int bc_thread_cpu (pid_t pid, double *cpu, char names[][32]);
void bc_thread_report (pid_t pid, const char *what, const double *before,
                       int scans);
double bc_workers_cpu (const bc_cluster_t *c);

/* zs_bc_refs.c: the references measured in this process */
void bc_engine_fini (bc_engine_t *e);
int bc_engine_init (bc_engine_t *e);
double bc_engine_pass (bc_engine_t *e);
double bc_engine_pass2 (bc_engine_t *e);
double bc_floor (bc_engine_t *e, bool ipc, int rounds, double *encode_rate);
double bc_raw_rate (long n, size_t size, long *lost);
int bc_sink (const char *endpoint);

#endif
