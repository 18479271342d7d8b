/*  zs_store.h - the binary columnar store a worker memory-maps.

    Layout (little-endian, every offset 8-byte aligned):

        header   64 bytes: magic "ZSSTORE1", version (u32 = 1), symbols
                 (u32), index offset, data offset, file size (u64 each),
                 a checksum of the index, a checksum of the header
        index    one 64-byte entry per symbol, sorted by symbol: the symbol
                 (32 bytes, NUL-padded), block offset (u64), bars (u32),
                 date slot size (u32), liquidity (f64: average dollar
                 volume of the last 20 bars), block checksum (u64)
        blocks   per symbol: open, high, low, close, volume (bars doubles
                 each), then the dates (bars slots of ZS_DATE_SLOT bytes)

    Opening checks everything (sizes, offsets, order, every checksum) and
    refuses a truncated or corrupt file with a clear reason; afterwards a
    symbol's bars are read straight from the mapping, without copying.
*/
#ifndef ZS_STORE_H
#define ZS_STORE_H

#include "zs_bars.h"

typedef struct zs_store_t zs_store_t;

/* Maps and checks a store; NULL with a reason. */
zs_store_t *zs_store_open (const char *path, char *err, size_t errlen);
void zs_store_close (zs_store_t **self_p);

/* Number of symbols, and the i-th (sorted). */
size_t zs_store_size (const zs_store_t *self);
const char *zs_store_symbol (const zs_store_t *self, size_t i);

/*  Fills bars (borrowed arrays into the mapping) for symbol; returns 0, or
    -1 with a reason when the store does not hold it. */
int zs_store_bars (const zs_store_t *self, const char *symbol,
                   zs_bars_t *bars, char *err, size_t errlen);

/* The precomputed average dollar volume of symbol; -1 when absent. */
int zs_store_liquidity (const zs_store_t *self, const char *symbol,
                        double *adv);

/*  Loads one symbol's bars for zs_store_write: a new zs_bars_t, or NULL
    with a reason. */
typedef zs_bars_t *(zs_store_loader_fn) (void *arg, const char *symbol,
                                         char *err, size_t errlen);

/*  Writes a store at path holding symbols[0..n-1] (sorted, distinct), each
    loaded by load (written to a temporary file and renamed into place).
    A failed load fails the whole write, unless skip_bad, which leaves the
    symbol out with a warning on stderr.  Returns the number of symbols
    written, or -1 with a reason. */
long zs_store_write (const char *path, const char *const *symbols, size_t n,
                     zs_store_loader_fn *load, void *arg, bool skip_bad,
                     char *err, size_t errlen);

#endif
