/*  zs_cache.h - one memory budget for the bars of every data source a
    process reads (a worker scanning many sources holds at most this much,
    not this much per source): least recently used out.

    Entries are counted references.  A bars pointer handed out stays valid
    until its reference is released, even when the entry is evicted
    meanwhile (it is then freed with its last reference).  Thread-safe:
    one mutex, held for a lookup or an insertion, never while bars are
    made or scanned.
*/
#ifndef ZS_CACHE_H
#define ZS_CACHE_H

#include "zs_bars.h"

#include <stddef.h>
#include <stdint.h>

typedef struct zs_cache_t zs_cache_t;
typedef struct zs_cache_entry_t zs_cache_entry_t;

/* A cache of at most budget bytes of bars.  NULL when out of memory. */
zs_cache_t *zs_cache_new (size_t budget);
/*  Frees every entry.  Every reference must have been released. */
void zs_cache_destroy (zs_cache_t **self_p);

/*  A new id for a source's entries (the key is id and symbol). */
uint64_t zs_cache_source_id (zs_cache_t *self);

/*  The bars of (source, symbol) with a reference taken in *entry, or
    NULL when they are not cached. */
const zs_bars_t *zs_cache_get (zs_cache_t *self, uint64_t source,
                               const char *symbol, zs_cache_entry_t **entry);

/*  Files bars (the cache takes them) under (source, symbol) and returns
    the bars to use - these, or another thread's that were filed first
    (these are then freed; but whole bars replace an entry holding the
    close column alone) - with a reference taken in *entry.  Evicts
    the least recently used entries past the budget, these too when they
    alone are over it (they then live until their reference goes).
    NULL with bars freed when out of memory. */
const zs_bars_t *zs_cache_put (zs_cache_t *self, uint64_t source,
                               const char *symbol, zs_bars_t *bars,
                               zs_cache_entry_t **entry);

/*  A hint, nothing else: starts bringing the entries of (source,
    symbols[0..n)), n up to 8 (a block; the rest are not looked at), into
    the CPU's caches, so that a zs_cache_get of them a little later does
    not wait for memory. */
void zs_cache_prefetch (zs_cache_t *self, uint64_t source,
                        const char *const *symbols, size_t n);

/* Releases a reference from get or put. */
void zs_cache_release (zs_cache_t *self, zs_cache_entry_t *entry);

/*  Forgets every entry of a source (its bars go with their last
    reference). */
void zs_cache_drop_source (zs_cache_t *self, uint64_t source);

typedef struct {
    size_t bytes;          /* held by cached entries                     */
    size_t budget;
    size_t entries;
    uint64_t hits, misses, evictions;
} zs_cache_stats_t;
void zs_cache_stats (zs_cache_t *self, zs_cache_stats_t *st);

#endif
