/*  zs_engine.h - the scan engine: market data, universes, compiled scans.

    This is the contract between the engine (engine/) and the
    programs that use it (zscan-worker, zscan-broker, the zscan CLI, tests
    and benchmarks).  Nothing here knows about ZeroMQ or the wire format.

    Conventions (czmq style): constructors return an instance or NULL (and
    write a one-line reason into err when err is not NULL); destructors take
    the address of the pointer, free, set it to NULL and are safe to call
    twice; int functions return 0 on success and -1 on failure.

    Thread safety: a zs_source_t and a zs_scan_t may be used by any number of
    threads at once (they are immutable after construction, or lock what
    they cache).  A zs_scanner_t is per-thread scratch: one per thread.
*/
#ifndef ZS_ENGINE_H
#define ZS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZS_SYMBOL_MAX      31   /* longest symbol, bytes (without NUL)     */
#define ZS_SCAN_MAX_VALUES 16   /* indicator values carried per result     */
#define ZS_VALUE_NAME_MAX  31   /* longest indicator value name            */
#define ZS_TIME_MAX        31   /* longest bar time string                 */
#define ZS_REASON_MAX      255  /* longest per-symbol reason               */

/* ---------------------------------------------------------------------- */
/*  A list of owned strings                                                 */

typedef struct {
    char **items;   /* items[0..size-1], NUL-terminated, owned by the list */
    size_t size;    /* number of items                                     */
    size_t cap;     /* allocated slots                                     */
    void *arena;    /* private: the items' bytes, in large blocks (a
                       universe of a million symbols is a few allocations,
                       not a million)                                      */
} zs_strlist_t;

/* Appends a copy of s; returns 0, or -1 when out of memory. */
int zs_strlist_push (zs_strlist_t *self, const char *s);
/* Frees every item and the array; leaves an empty list. */
void zs_strlist_clear (zs_strlist_t *self);

/* ---------------------------------------------------------------------- */
/*  Data sources                                                           */

typedef struct zs_source_t zs_source_t;

/*  Opens a data source from its URI:
      synthetic:                 the embedded generator, defaults
      synthetic:bars=N,seed=S    either key optional, any order
      csv:DIR                    DIR/SYMBOL.csv per symbol
      store:PATH                 a binary store made by `zscan import`
    cache_bytes bounds the memory a synthetic source keeps for bars it
    generated (0 = the default budget).  Returns NULL with a reason in err
    (a bad URI, a missing directory, a corrupt store). */
zs_source_t *zs_source_open (const char *uri, size_t cache_bytes, char *err,
                             size_t errlen);
/*  Opens a source whose bars go to cache, shared with other sources (one
    budget for them all: see zs_cache.h).  The cache must outlive the
    source; closing the source drops its entries. */
struct zs_cache_t;
zs_source_t *zs_source_open_in (const char *uri, struct zs_cache_t *cache,
                                char *err, size_t errlen);
/* The cache the source's bars go to (borrowed). */
struct zs_cache_t *zs_source_cache (zs_source_t *self);
void zs_source_destroy (zs_source_t **self_p);
/* The URI the source was opened with (borrowed). */
const char *zs_source_uri (const zs_source_t *self);

/*  Appends every symbol the source holds to out, sorted.  A synthetic
    source holds no fixed set: returns -1 with a reason. */
int zs_source_symbols (zs_source_t *self, zs_strlist_t *out, char *err,
                       size_t errlen);

/*  Average dollar volume (mean of close*volume over the last 20 bars) of a
    symbol: the liquidity the broker orders scans by.  Returns -1 with a
    reason when the symbol cannot be loaded. */
int zs_source_liquidity (zs_source_t *self, const char *symbol, double *adv,
                         char *err, size_t errlen);

/* ---------------------------------------------------------------------- */
/*  Universes                                                              */

/*  Expands a universe spec into symbols, appended to out in their natural
    order (synthetic and list order as given; "all" sorted):
      synthetic:N        N generated symbols with stable names
      all                every symbol the source holds
      file:PATH          one symbol per line, '#' comments, blank lines ok
      list:A,B,C         an explicit comma-separated list
    Rejects invalid symbols and duplicates with a reason. */
int zs_universe_expand (const char *spec, zs_source_t *source,
                        zs_strlist_t *out, char *err, size_t errlen);

/*  Reads a list file: one symbol per line, '#' comments, blank lines ok.
    Only a regular file of at most max_bytes is read; a line over 1022
    bytes, an invalid symbol or more than ZS_LIST_SYMBOLS_MAX
    symbols is an error that names the line number and the reason - never
    what the line holds.  Appends to out; 0, or -1 with the reason. */
#define ZS_LIST_FILE_MAX (64u << 20)
#define ZS_LIST_SYMBOLS_MAX 2000000
int zs_universe_file (const char *path, size_t max_bytes, zs_strlist_t *out,
                      char *err, size_t errlen);

/*  True when s is a valid symbol: 1..ZS_SYMBOL_MAX bytes of [A-Za-z0-9._^-]
    (and ':' '/' '=' not allowed, so a symbol is always a safe file name). */
bool zs_symbol_valid (const char *s);

/* ---------------------------------------------------------------------- */
/*  Compiled scans                                                         */

typedef struct zs_scan_t zs_scan_t;

/*  Compiles a scan: either a built-in strategy by name with optional
    parameters (names/values; unknown names are an error), or a filter
    expression (expr non-NULL and strategy NULL).  A bad expression is
    rejected with the 1-based character position and the reason in err,
    e.g. "position 12: expected ')' after argument of sma". */
zs_scan_t *zs_scan_compile (const char *strategy, const char *const *pnames,
                            const double *pvalues, size_t nparams,
                            const char *expr, char *err, size_t errlen);
void zs_scan_destroy (zs_scan_t **self_p);

/* Number and names of the indicator values each result carries. */
size_t zs_scan_nvalues (const zs_scan_t *self);
const char *zs_scan_value_name (const zs_scan_t *self, size_t index);

/* The built-in strategies, NULL-terminated (borrowed). */
const char *const *zs_strategy_names (void);
/* The strategy a scan runs when it names neither strategy nor filter. */
const char *zs_strategy_default (void);

/*  A built-in strategy's parameters, their defaults, and its condition
    written with them (what the dashboard's form shows). */
typedef struct {
    size_t nparams;
    const char *pnames[4];
    double defaults[4];
    char expression[256];
} zs_strategy_info_t;
/* 0, or -1 when there is no such strategy. */
int zs_strategy_info (const char *name, zs_strategy_info_t *info);

typedef enum {
    ZS_SYM_OK = 0,      /* evaluated: signal or not                        */
    ZS_SYM_SHORT = 1,   /* too few bars: not a signal, reason says so      */
    ZS_SYM_ERROR = 2    /* the data source failed the symbol: reason       */
} zs_sym_status_t;

typedef struct {
    zs_sym_status_t status;
    bool signal;                          /* matched the scan              */
    double score;                         /* ranking score (strategy doc)  */
    double price;                         /* last close                    */
    char time[ZS_TIME_MAX + 1];           /* last bar's date, as the source gave it */
    size_t nvalues;                       /* = zs_scan_nvalues             */
    double values[ZS_SCAN_MAX_VALUES];    /* NAN where undefined           */
    char reason[ZS_REASON_MAX + 1];       /* empty when status is OK       */
} zs_symresult_t;

/*  Called once per symbol as soon as its result is ready, in input order.
    Return 0 to go on, or non-zero to abandon the rest of the call. */
typedef int (zs_emit_fn) (void *arg, size_t index, const char *symbol,
                          const zs_symresult_t *result);

typedef struct zs_scanner_t zs_scanner_t;

/* Per-thread scratch for running scans. */
zs_scanner_t *zs_scanner_new (void);
void zs_scanner_destroy (zs_scanner_t **self_p);

/*  The instruction set the scanner's block kernels use ("scalar", "sse2",
    "avx2", "avx512"): the widest the CPU has, or ZS_ENGINE_ISA. */
const char *zs_scanner_isa (const zs_scanner_t *self);
/*  Forces one (tests, benchmarks); -1 when the CPU cannot run it. */
int zs_scanner_set_isa (zs_scanner_t *self, const char *name);

/*  Bars a run makes and does not keep (zs_scanner_defer): their symbols,
    for the caller to keep when it has time (zs_source_load_block with
    keep and close_only as here). */
typedef struct {
    zs_strlist_t symbols;
    size_t bytes;    /* the bars made for them, in all                   */
    bool close_only; /* made with the close column alone                 */
} zs_later_t;

/*  From now on the runs make the bars a synthetic source's cache lacks
    for themselves alone, not kept, while later's bars stay under budget
    bytes, and list their symbols in later (which the caller owns and
    empties); a run whose scan reads other columns than later's keeps
    what it makes.  budget 0, or later NULL: keep them as they are made
    (the default).  A first scan then does not wait for the memory that
    keeping its bars takes (the kernel supplies it a page at a time). */
void zs_scanner_defer (zs_scanner_t *self, zs_later_t *later, size_t budget);

/*  Runs scan over symbols[0..n-1] loaded from source, calling emit for each.
    Returns the number of symbols emitted (n unless emit asked to stop). */
size_t zs_scanner_run (zs_scanner_t *self, const zs_scan_t *scan,
                       zs_source_t *source, const char *const *symbols,
                       size_t n, zs_emit_fn *emit, void *arg);

#ifdef __cplusplus
}
#endif

#endif
