/*  zs_bars.h - daily OHLCV bars of one symbol, and the engine's internal
    interfaces between data, indicators and scans.  */
#ifndef ZS_BARS_H
#define ZS_BARS_H

#include "zs_engine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZS_DATE_SLOT 32 /* bytes per date string slot */

typedef struct {
    size_t n;          /* bars, oldest first                              */
    double *open, *high, *low, *close, *volume;
    bool close_only;   /* only close is here (open, high, low and volume
                          are NULL): what most scans read, a fifth of the
                          memory (zs_source_load_block)                   */
    char *dates;       /* n slots of ZS_DATE_SLOT bytes, NUL-terminated   */
    bool dates_shared; /* dates belong to someone else (the source)       */
    bool borrowed;     /* the columns too (a memory-mapped store)         */
    size_t bytes;      /* memory held                                     */
} zs_bars_t;

/* Allocates n bars (all arrays); NULL when out of memory. */
zs_bars_t *zs_bars_new (size_t n);
/*  The same with dates that belong to someone else (n slots, shared by
    many symbols' bars: the synthetic source's); none are allocated. */
zs_bars_t *zs_bars_new_dated (size_t n, const char *dates);
/*  The same with the close column only when close_only. */
zs_bars_t *zs_bars_new_cols (size_t n, const char *dates, bool close_only);
void zs_bars_destroy (zs_bars_t **self_p);
/* Date of bar i (borrowed). */
const char *zs_bars_date (const zs_bars_t *self, size_t i);

typedef struct zs_cache_t zs_cache_t;
typedef struct zs_cache_entry_t zs_cache_entry_t;

/*  Bars of a symbol from a source, held until zs_bars_release: a
    reference to a cache entry, bars read in place from a store, or (owned)
    the caller's own. */
typedef struct {
    const zs_bars_t *bars;
    zs_bars_t *owned;
    zs_cache_entry_t *entry; /* the cache reference held, or NULL        */
    zs_cache_t *cache;
    zs_bars_t view;    /* bars read in place from a store                 */
} zs_bars_ref_t;

/*  Loads symbol's bars.  Returns 0, or -1 with a reason naming the file
    and line for a bad data file. */
int zs_source_load (zs_source_t *self, const char *symbol, zs_bars_ref_t *ref,
                    char *err, size_t errlen);
/*  zs_source_load for up to 8 symbols at once: refs[j] and ok[j] for
    each, reasons[j] where not ok.  A synthetic source generates what its
    cache lacks together, one symbol per SIMD lane of isa (zs_kernels.h's
    zs_isa_t); with close_only it may make and cache the close column
    alone (a scan that reads nothing else), and bars it holds with close
    only are made whole again when a later call wants every column.
    Without keep, a synthetic source's bars its cache lacks are made for
    the caller alone (refs[j].owned: freed by zs_bars_release, not kept);
    other sources keep what they load either way. */
void zs_source_load_block (zs_source_t *self, const char *const *symbols,
                           size_t m, zs_bars_ref_t *refs, bool *ok,
                           char (*reasons)[ZS_REASON_MAX + 1], int isa,
                           bool close_only, bool keep);
/*  A hint before a zs_source_load_block of up to 8 symbols a little
    later: the cache's entries of a synthetic source start their way from
    memory (zs_cache_prefetch); nothing for other sources. */
void zs_source_prefetch (zs_source_t *self, const char *const *symbols,
                         size_t m);
/*  Loads symbols[0..n) into the source's cache, 8 at a time
    (zs_source_load_block with keep), and lets them go: how many loaded;
    *failed counts the others and why holds the first one's reason. */
size_t zs_source_keep (zs_source_t *self, const char *const *symbols,
                       size_t n, int isa, bool close_only, size_t *failed,
                       char *why, size_t whylen);
/* Releases what zs_source_load returned. */
void zs_bars_release (zs_bars_ref_t *ref);

/*  The synthetic generator: deterministic bars for (symbol, seed, n),
    identical on every machine (integer PRNG, + - * / only).  Every
    symbol has the same n dates: pass them from zs_synth_dates to share
    them (the bars then point at them), or NULL for a private copy. */
zs_bars_t *zs_synth_generate (const char *symbol, uint64_t seed, size_t n,
                              const char *dates);
/*  Up to 8 symbols' bars at once, one per SIMD lane of isa (an
    instruction set of zs_kernels.h; ZS_ISA_SCALAR generates them one by
    one): bit-identical to zs_synth_generate's.  out[0..m) receive new
    bars, with the close column alone when close_only (the same closes,
    made with less work).  0, or -1 when out of memory (nothing kept) or
    m > 8. */
int zs_synth_generate_block (int isa, const char *const *symbols, size_t m,
                             uint64_t seed, size_t n, const char *dates,
                             bool close_only, zs_bars_t **out);
/*  A synthetic symbol's liquidity without its bars: its starting price
    times its base volume, the two draws of its character that set its
    dollar volume (the bars wander from them, so this ranks symbols as
    their traded value does, not to the cent).  A few hashes: cheap
    enough for a million symbols in a request. */
double zs_synth_liquidity (const char *symbol, uint64_t seed);
/*  The n trading-day dates (weekdays ending 2025-12-31), ZS_DATE_SLOT bytes
    each; malloc'd, the caller's.  NULL when out of memory. */
char *zs_synth_dates (size_t n);

/*  Parses one CSV file (Date,Open,High,Low,Close,Volume[,Adj Close]; any
    column order, header in any case, quoted fields, CRLF, ascending or
    descending dates).  Returns bars in ascending date order, or NULL with
    a reason naming the file and line. */
zs_bars_t *zs_csv_load (const char *path, char *err, size_t errlen);

/* ---------------------------------------------------------------------- */
/*  Indicator series (full length, NAN where undefined), per
    ../shared/INDICATORS.md.  out has n entries. */

void zs_ind_sma (const double *x, size_t n, size_t period, double *out);
void zs_ind_ema (const double *x, size_t n, size_t period, double *out);
void zs_ind_rsi (const double *close, size_t n, size_t period, double *out);
void zs_ind_atr (const zs_bars_t *b, size_t period, double *out);
void zs_ind_roc (const double *close, size_t n, size_t period, double *out);
void zs_ind_highest (const double *x, size_t n, size_t period, double *out);
void zs_ind_lowest (const double *x, size_t n, size_t period, double *out);
/* Population standard deviation over a rolling window. */
void zs_ind_stdev (const double *x, size_t n, size_t period, double *out);
/*  MACD: line = ema(fast) - ema(slow); signal = EMA(sig) of the line
    seeded with the mean of its first sig defined values; hist. */
void zs_ind_macd (const double *close, size_t n, size_t fast, size_t slow,
                  size_t sig, double *line, double *signal, double *hist);
/* Bollinger: middle = sma, upper/lower = middle +- k * population sd. */
void zs_ind_bbands (const double *close, size_t n, size_t period, double k,
                    double *lower, double *middle, double *upper);

#endif
