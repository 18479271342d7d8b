/*  zs_bench_engine.c - the scan engine in one thread: 10,000 symbols x
    1,260 daily bars already in memory, the default strategy and a
    three-term filter, next to in-run references: a plain scalar fused
    single pass of SMA50 + EMA12 + EMA26 + RSI14 (what the filter needs),
    a streaming read of the same closes (the memory bound), and the cost
    of generating the synthetic bars (8 symbols per SIMD block) against
    the generator before it, in the same run, and the floor under it
    (bench/engine/zs_synth_floor.c: a whole bar's draws hashed and
    stored, none of its arithmetic); and the same three-term
    filter compiled by numba (bench/engine/numba_peer.py, when Debian's
    python3-numba is installed: said when it is not) over the same closes.
    Prints BENCH lines (see bench/run). */
#include "zs_bars.h"
#include "zs_kernels.h"
#include "zs_mem.h"
#include "zs_store.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

zs_bars_t *zs_synth_before (const char *symbol, uint64_t seed, size_t n,
                            const char *dates);
int zs_synth_floor_block (int isa, const uint64_t key[8], size_t n,
                          zs_bars_t *out[8]);

#define NSYM 10000
#define NBARS 1260
#define ROUNDS 7 /* rounds of scans timed; the best counts */

static double s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* The store is written from the generated bars (a copy for the store). */
static zs_bars_t *s_from_source (void *arg, const char *symbol, char *err,
                                 size_t errlen)
{
    zs_bars_ref_t ref;
    if (zs_source_load ((zs_source_t *) arg, symbol, &ref, err, errlen) != 0)
        return NULL;
    const zs_bars_t *b = ref.bars;
    zs_bars_t *copy = zs_bars_new (b->n);
    if (copy) {
        memcpy (copy->open, b->open, b->n * sizeof (double));
        memcpy (copy->high, b->high, b->n * sizeof (double));
        memcpy (copy->low, b->low, b->n * sizeof (double));
        memcpy (copy->close, b->close, b->n * sizeof (double));
        memcpy (copy->volume, b->volume, b->n * sizeof (double));
        memcpy (copy->dates, b->dates, b->n * ZS_DATE_SLOT);
    }
    zs_bars_release (&ref);
    return copy;
}

static int s_emit (void *arg, size_t i, const char *sym,
                   const zs_symresult_t *r)
{
    (void) i, (void) sym;
    *(size_t *) arg += r->signal;
    return 0;
}

/*  The reference: one fused scalar pass, last values only. */
static double s_reference (const double *c, size_t n)
{
    double sum50 = 0, e12 = 0, e26 = 0, au = 0, ad = 0;
    const double a12 = 2.0 / 13, a26 = 2.0 / 27, aw = 1.0 / 14;
    for (size_t t = 0; t < n; t++) {
        sum50 += c[t];
        if (t >= 50)
            sum50 -= c[t - 50];
        e12 = t < 12 ? e12 + c[t] / 12 : a12 * c[t] + (1 - a12) * e12;
        e26 = t < 26 ? e26 + c[t] / 26 : a26 * c[t] + (1 - a26) * e26;
        if (t >= 1) {
            double d = c[t] - c[t - 1];
            double up = d > 0 ? d : 0, dn = d < 0 ? -d : 0;
            if (t <= 14)
                au += up / 14, ad += dn / 14;
            else
                au = aw * up + (1 - aw) * au, ad = aw * dn + (1 - aw) * ad;
        }
    }
    double rsi = 100 * au / (au + ad);
    return rsi < 30 && c[n - 1] > sum50 / 50 && e12 > e26;
}

/*  The numba peer, a process scanning the same closes one round per
    line it reads. */
typedef struct {
    FILE *to, *from;
    pid_t pid;
    char path[64];
} s_peer_t;

/*  Starts the peer over the closes; 0, or -1 (said why). */
static int s_peer_start (s_peer_t *peer, const double *closes)
{
    snprintf (peer->path, sizeof peer->path, "/tmp/zs-bench-closes-%d",
              (int) getpid ());
    FILE *f = fopen (peer->path, "wb");
    if (!f
        || fwrite (closes, sizeof (double), (size_t) NSYM * NBARS, f)
               != (size_t) NSYM * NBARS) {
        if (f)
            fclose (f);
        unlink (peer->path);
        fprintf (stderr, "bench: cannot write %s\n", peer->path);
        return -1;
    }
    fclose (f);
    int in[2], out[2];
    if (pipe (in) != 0 || pipe (out) != 0)
        return -1;
    char script[512], ns[16], nb[16];
    snprintf (script, sizeof script, "%s/numba_peer.py", ZS_BENCH_ENGINE_DIR);
    snprintf (ns, sizeof ns, "%d", NSYM);
    snprintf (nb, sizeof nb, "%d", NBARS);
    peer->pid = fork ();
    if (peer->pid == 0) {
        dup2 (in[0], 0);
        dup2 (out[1], 1);
        close (in[1]);
        close (out[0]);
        execl ("/usr/bin/python3", "python3", script, peer->path, ns, nb,
               (char *) NULL);
        _exit (127);
    }
    close (in[0]);
    close (out[1]);
    peer->to = fdopen (in[1], "w");
    peer->from = fdopen (out[0], "r");
    char version[64] = "";
    if (peer->pid < 0 || !peer->to || !peer->from
        || fscanf (peer->from, "ready %63s", version) != 1) {
        int status = 0;
        if (peer->pid > 0)
            waitpid (peer->pid, &status, 0);
        fprintf (stderr,
                 "bench: the numba peer did not start (%s): install Debian's "
                 "python3-numba for the engine's comparison with it\n",
                 WIFEXITED (status) && WEXITSTATUS (status) == 3
                     ? "python3-numba is not installed"
                     : "it failed");
        unlink (peer->path);
        return -1;
    }
    fprintf (stderr, "bench: numba %s\n", version);
    return 0;
}

/*  One round of the peer: its rate, or 0. */
static double s_peer_round (s_peer_t *peer, size_t *signals)
{
    double rate = 0;
    fputs ("run\n", peer->to);
    fflush (peer->to);
    if (fscanf (peer->from, "%lf %zu", &rate, signals) != 2)
        return 0;
    return rate;
}

static void s_peer_stop (s_peer_t *peer)
{
    fclose (peer->to);
    fclose (peer->from);
    waitpid (peer->pid, NULL, 0);
    unlink (peer->path);
}

/*  One scan of the whole universe: its rate. */
static double s_scan_rate (zs_scanner_t *scanner, const zs_scan_t *scan,
                           zs_source_t *src, const char *const *list,
                           size_t *signals)
{
    *signals = 0;
    double t0 = s_now ();
    zs_scanner_run (scanner, scan, src, list, NSYM, s_emit, signals);
    return NSYM / (s_now () - t0);
}

int main (void)
{
    char err[512];
    zs_source_t *src = zs_source_open ("synthetic:bars=1260", 0, err,
                                       sizeof err);
    if (!src) {
        fprintf (stderr, "%s\n", err);
        return 1;
    }
    zs_strlist_t syms = {0};
    zs_universe_expand ("synthetic:10000", src, &syms, err, sizeof err);

    /* generation: 8 symbols at a time, one per SIMD lane (as the scanner
       and --preload load them) against the generator before (one symbol
       at a time, draws as needed), both made and dropped (no cache),
       rounds alternated, the best of 3 each; then the same into a cold
       cache (fresh memory: the page faults show) */
    char *dates = zs_synth_dates (NBARS);
    /* glibc keeps what is freed, as in a worker (zscan-worker's default,
       with its --prefault-mb): otherwise dropping a block's 400 KB of whole
       bars gives the pages back and the next block faults them in again,
       which the worker does not (measured here: 121k against 149k whole
       bars a second) */
    zs_mem_keep_freed (true);
    double gen = 0, gen_before = 0, gen_cache = 0, gen_close = 0;
    double gen_cache_close = 0, gen_floor = 0;
    size_t bytes = 0, bytes_close = 0;
    int isa = zs_isa_detect ();
    for (int round = 0; round < 3; round++) {
        /* whole bars, then the close column alone (what a scan of
           close-only terms makes) */
        double r;
        for (int close_only = 0; close_only < 2; close_only++) {
            double t0 = s_now ();
            for (size_t i = 0; i < NSYM / 4; i += 8) {
                zs_bars_t *made[8];
                zs_synth_generate_block (
                    isa, (const char *const *) syms.items + i, 8, 0, NBARS,
                    dates, close_only, made);
                for (int j = 0; j < 8; j++)
                    zs_bars_destroy (&made[j]);
            }
            r = (NSYM / 4) / (s_now () - t0);
            double *best = close_only ? &gen_close : &gen;
            *best = r > *best ? r : *best;
        }
        double t0 = s_now ();
        for (size_t i = 0; i < NSYM / 4; i++) {
            zs_bars_t *b = zs_synth_before (syms.items[i], 0, NBARS, dates);
            zs_bars_destroy (&b);
        }
        r = (NSYM / 4) / (s_now () - t0);
        gen_before = r > gen_before ? r : gen_before;
        /* the floor: a whole bar's draws made doubles and stored, no
           arithmetic (bench/engine/zs_synth_floor.c) */
        t0 = s_now ();
        bool floor_ran = true;
        volatile double made_sum = 0; /* the stores are not dropped */
        for (size_t i = 0; floor_ran && i < NSYM / 4; i += 8) {
            zs_bars_t *made[8];
            uint64_t key[8];
            for (int j = 0; j < 8; j++) {
                made[j] = zs_bars_new_cols (NBARS, dates, false);
                key[j] = (i + (size_t) j) * 0x9e3779b97f4a7c15ULL;
            }
            floor_ran = zs_synth_floor_block (isa, key, NBARS, made) == 0;
            for (int j = 0; j < 8; j++) {
                made_sum += made[j]->volume[NBARS - 1];
                zs_bars_destroy (&made[j]);
            }
        }
        r = (NSYM / 4) / (s_now () - t0);
        if (floor_ran)
            gen_floor = r > gen_floor ? r : gen_floor;
    }
    free (dates);
    /* glibc's default again, and what it holds given back: the cold
       caches below start from fresh memory */
    zs_mem_keep_freed (false);
    /* into a cold cache: the close column alone (another source, its own
       fresh memory), then whole bars (kept for the scans below) */
    zs_source_t *src_close = zs_source_open ("synthetic:bars=1260", 0, err,
                                             sizeof err);
    for (int whole = 0; whole < 2 && src_close; whole++) {
        double t0 = s_now ();
        for (size_t i = 0; i < NSYM; i += 8) {
            zs_bars_ref_t refs[8];
            bool ok[8];
            char why[8][ZS_REASON_MAX + 1];
            zs_source_load_block (whole ? src : src_close,
                                  (const char *const *) syms.items + i, 8,
                                  refs, ok, why, isa, !whole, true);
            for (int j = 0; j < 8; j++) {
                *(whole ? &bytes : &bytes_close) += refs[j].bars->bytes;
                zs_bars_release (&refs[j]);
            }
        }
        *(whole ? &gen_cache : &gen_cache_close) = NSYM / (s_now () - t0);
    }
    zs_source_destroy (&src_close);

    /* the closes, contiguous, for the references */
    double *closes = (double *) malloc (sizeof (double) * NSYM * NBARS);
    for (size_t i = 0; i < NSYM; i++) {
        zs_bars_ref_t ref;
        zs_source_load (src, syms.items[i], &ref, err, sizeof err);
        memcpy (closes + i * NBARS, ref.bars->close, sizeof (double) * NBARS);
        zs_bars_release (&ref);
    }
    volatile double sink = 0;
    double t0 = s_now ();
    for (size_t i = 0; i < NSYM; i++)
        sink += s_reference (closes + i * NBARS, NBARS);
    double ref_rate = NSYM / (s_now () - t0);

    /* memory bound: stream the same bytes (summing with 8 chains so the
       adds are not the limit) */
    t0 = s_now ();
    double acc[8] = {0};
    for (size_t k = 0; k < (size_t) NSYM * NBARS; k += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += closes[k + j];
    double mem_rate = NSYM / (s_now () - t0);
    for (int j = 0; j < 8; j++)
        sink += acc[j];

    zs_scanner_t *scanner = zs_scanner_new ();
    const char *const *list = (const char *const *) syms.items;
    size_t signals = 0, filt_signals = 0, numba_signals = 0;
    zs_scan_t *def = zs_scan_compile (NULL, NULL, NULL, 0, NULL, err,
                                      sizeof err);
    zs_scan_t *filter = zs_scan_compile (
        NULL, NULL, NULL, 0,
        "rsi(14) < 30 and close > sma(50) and ema(12) > ema(26)", err,
        sizeof err);
    /* ROUNDS rounds of: the default scan, the filter, the numba peer's
       filter; the best of each (so that a neighbour's burst on this
       machine does not decide a ratio) */
    s_peer_t peer;
    bool numba = s_peer_start (&peer, closes) == 0;
    double def_rate = 0, filt_rate = 0, numba_rate = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double v = s_scan_rate (scanner, def, src, list, &signals);
        def_rate = v > def_rate ? v : def_rate;
        v = s_scan_rate (scanner, filter, src, list, &filt_signals);
        filt_rate = v > filt_rate ? v : filt_rate;
        if (numba) {
            v = s_peer_round (&peer, &numba_signals);
            numba_rate = v > numba_rate ? v : numba_rate;
        }
    }
    if (numba)
        s_peer_stop (&peer);
    if (numba_rate > 0 && numba_signals != filt_signals)
        fprintf (stderr, "bench: numba found %zu signals, the engine %zu\n",
                 numba_signals, filt_signals);

    /* the store: written from the same bars, then opened (every block's
       checksum verified) and scanned in place from the mapping */
    char path[256];
    snprintf (path, sizeof path, "/tmp/zs-bench-store-%d.zs", (int) getpid ());
    double open_rate = 0, store_rate = 0;
    if (zs_store_write (path, list, NSYM, s_from_source, src, false, err,
                        sizeof err)
        == NSYM) {
        char uri[300];
        snprintf (uri, sizeof uri, "store:%s", path);
        t0 = s_now ();
        zs_source_t *st = zs_source_open (uri, 0, err, sizeof err);
        open_rate = NSYM / (s_now () - t0);
        if (st) {
            t0 = s_now ();
            zs_scanner_run (scanner, def, st, list, NSYM, s_emit, &signals);
            store_rate = NSYM / (s_now () - t0);
            zs_source_destroy (&st);
        }
    }
    else
        fprintf (stderr, "bench: store: %s\n", err);
    unlink (path);

    printf ("BENCH\tengine: default scan (%s), 1 thread\t%.0f\tsym/s\t"
            "scalar fused SMA50+EMA12+EMA26+RSI14\t%.0f\n",
            zs_strategy_default (), def_rate, ref_rate);
    printf ("BENCH\tengine: default scan vs memory bound\t%.0f\tsym/s\t"
            "streaming read of 1,260 closes\t%.0f\n",
            def_rate, mem_rate);
    printf ("BENCH\tengine: 3-term filter, 1 thread\t%.0f\tsym/s\t"
            "scalar fused SMA50+EMA12+EMA26+RSI14\t%.0f\n",
            filt_rate, ref_rate);
    if (numba_rate > 0)
        printf ("BENCH\tengine: 3-term filter vs numba, 1 thread\t%.0f\t"
                "sym/s\tnumba fused pass\t%.0f\n",
                filt_rate, numba_rate);
    printf ("BENCH\tengine: synthetic bar generation, 1 thread, 8 symbols "
            "per SIMD block (%s)\t%.0f\tsym/s\tthe generator before (one "
            "symbol, draws as needed)\t%.0f\n",
            zs_isa_name ((zs_isa_t) isa), gen, gen_before);
    if (gen_floor > 0)
        printf ("BENCH\tengine: floor of whole bars (%s): each bar's six "
                "draws hashed, made doubles and stored, no arithmetic\t%.0f"
                "\tsym/s\tthe generator before\t%.0f\n",
                zs_isa_name ((zs_isa_t) isa), gen_floor, gen_before);
    printf ("BENCH\tengine: synthetic closes alone (what close-only scans "
            "make), 1 thread (%s)\t%.0f\tsym/s\tthe generator before\t%.0f\n",
            zs_isa_name ((zs_isa_t) isa), gen_close, gen_before);
    printf ("BENCH\tengine: synthetic bars into a cold cache (fresh memory), "
            "1 thread\t%.0f\tsym/s\tgeneration alone\t%.0f\n",
            gen_cache, gen);
    printf ("BENCH\tengine: synthetic closes alone into a cold cache, "
            "1 thread\t%.0f\tsym/s\twhole bars into a cold cache\t%.0f\n",
            gen_cache_close, gen_cache);
    printf ("BENCH\tengine: default scan read from the store (mmap)\t%.0f\t"
            "sym/s\tthe same scan on bars in memory\t%.0f\n",
            store_rate, def_rate);
    printf ("BENCH\tengine: store open, every block checksummed\t%.0f\t"
            "sym/s\t-\t-\n",
            open_rate);
    printf ("BENCH\tengine: memory held per symbol, close alone\t%.0f\t"
            "bytes\twhole bars\t%.0f\n",
            (double) bytes_close / NSYM, (double) bytes / NSYM);
    zs_scan_destroy (&def);
    zs_scan_destroy (&filter);
    zs_scanner_destroy (&scanner);
    zs_strlist_clear (&syms);
    zs_source_destroy (&src);
    free (closes);
    return sink == 12345.678 ? 1 : 0;
}
