/*  zs_cache.c - see zs_cache.h.

    A chained hash table of entries on (source, symbol), and one doubly
    linked list of them from the most recently used to the least.  An
    entry's count holds the cache's own reference (while it is in the
    table) and one per caller; eviction takes the entry out of the table
    and drops the cache's reference.
*/
#include "zs_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct zs_cache_entry_t {
    uint64_t source;
    uint64_t hash;
    char symbol[ZS_SYMBOL_MAX + 1];
    zs_bars_t *bars;
    size_t bytes;
    uint32_t refs;               /* the table's (when listed) + callers'  */
    bool listed;                 /* in the table and on the LRU list      */
    zs_cache_entry_t *chain;     /* next in its bucket                    */
    zs_cache_entry_t *newer, *older;
};

struct zs_cache_t {
    pthread_mutex_t lock;
    size_t budget, bytes, count;
    zs_cache_entry_t **buckets;
    size_t mask;
    zs_cache_entry_t *newest, *oldest;
    uint64_t next_source;
    uint64_t hits, misses, evictions;
};

static uint64_t s_hash (uint64_t source, const char *s)
{
    uint64_t h = 1469598103934665603ULL ^ (source * 0x9e3779b97f4a7c15ULL);
    for (; *s; s++)
        h = (h ^ (uint8_t) *s) * 1099511628211ULL;
    return h;
}

zs_cache_t *zs_cache_new (size_t budget)
{
    zs_cache_t *self = (zs_cache_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->budget = budget;
    self->mask = 1023;
    self->buckets = (zs_cache_entry_t **) calloc (self->mask + 1,
                                                  sizeof *self->buckets);
    if (!self->buckets) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

static void s_entry_free (zs_cache_entry_t *e)
{
    zs_bars_destroy (&e->bars);
    free (e);
}

void zs_cache_destroy (zs_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_cache_t *self = *self_p;
    zs_cache_entry_t *e = self->newest;
    while (e) {
        zs_cache_entry_t *next = e->older;
        s_entry_free (e);
        e = next;
    }
    free (self->buckets);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

uint64_t zs_cache_source_id (zs_cache_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t id = ++self->next_source;
    pthread_mutex_unlock (&self->lock);
    return id;
}

static zs_cache_entry_t *s_find (zs_cache_t *self, uint64_t source,
                                 uint64_t h, const char *symbol)
{
    for (zs_cache_entry_t *e = self->buckets[h & self->mask]; e; e = e->chain)
        if (e->hash == h && e->source == source
            && strcmp (e->symbol, symbol) == 0)
            return e;
    return NULL;
}

static void s_lru_unlink (zs_cache_t *self, zs_cache_entry_t *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        self->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        self->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void s_lru_front (zs_cache_t *self, zs_cache_entry_t *e)
{
    e->older = self->newest;
    e->newer = NULL;
    if (self->newest)
        self->newest->newer = e;
    self->newest = e;
    if (!self->oldest)
        self->oldest = e;
}

/*  Takes e out of the table and the list and drops the table's
    reference (frees it when nobody else holds one). */
static void s_unlist (zs_cache_t *self, zs_cache_entry_t *e)
{
    zs_cache_entry_t **pp = &self->buckets[e->hash & self->mask];
    while (*pp && *pp != e)
        pp = &(*pp)->chain;
    if (*pp)
        *pp = e->chain;
    s_lru_unlink (self, e);
    e->listed = false;
    self->bytes -= e->bytes;
    self->count--;
    if (--e->refs == 0)
        s_entry_free (e);
}

static void s_grow (zs_cache_t *self)
{
    size_t cap = (self->mask + 1) * 2;
    zs_cache_entry_t **b = (zs_cache_entry_t **) calloc (cap, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    for (zs_cache_entry_t *e = self->newest; e; e = e->older) {
        size_t i = e->hash & (cap - 1);
        e->chain = b[i];
        b[i] = e;
    }
    free (self->buckets);
    self->buckets = b;
    self->mask = cap - 1;
}

const zs_bars_t *zs_cache_get (zs_cache_t *self, uint64_t source,
                               const char *symbol, zs_cache_entry_t **entry)
{
    uint64_t h = s_hash (source, symbol);
    pthread_mutex_lock (&self->lock);
    zs_cache_entry_t *e = s_find (self, source, h, symbol);
    if (e) {
        e->refs++;
        s_lru_unlink (self, e);
        s_lru_front (self, e);
        self->hits++;
    }
    else
        self->misses++;
    pthread_mutex_unlock (&self->lock);
    *entry = e;
    return e ? e->bars : NULL;
}

const zs_bars_t *zs_cache_put (zs_cache_t *self, uint64_t source,
                               const char *symbol, zs_bars_t *bars,
                               zs_cache_entry_t **entry)
{
    *entry = NULL;
    uint64_t h = s_hash (source, symbol);
    zs_cache_entry_t *fresh = (zs_cache_entry_t *) calloc (1, sizeof *fresh);
    if (!fresh || strlen (symbol) > ZS_SYMBOL_MAX) {
        free (fresh);
        zs_bars_destroy (&bars);
        return NULL;
    }
    fresh->source = source;
    fresh->hash = h;
    strcpy (fresh->symbol, symbol);
    fresh->bars = bars;
    fresh->bytes = bars->bytes + sizeof *fresh;
    pthread_mutex_lock (&self->lock);
    zs_cache_entry_t *e = s_find (self, source, h, symbol);
    if (e && e->bars->close_only && !bars->close_only) {
        /* whole bars replace the close column alone (whoever holds those
           keeps them until their reference goes) */
        s_unlist (self, e);
        e = NULL;
    }
    if (e) {
        /* another thread was quicker: use its bars */
        e->refs++;
        pthread_mutex_unlock (&self->lock);
        s_entry_free (fresh);
        *entry = e;
        return e->bars;
    }
    if ((self->count + 1) * 2 > self->mask + 1)
        s_grow (self);
    e = fresh;
    e->refs = 2; /* the table's and the caller's */
    e->listed = true;
    size_t i = h & self->mask;
    e->chain = self->buckets[i];
    self->buckets[i] = e;
    s_lru_front (self, e);
    self->bytes += e->bytes;
    self->count++;
    while (self->bytes > self->budget && self->oldest) {
        s_unlist (self, self->oldest);
        self->evictions++;
    }
    pthread_mutex_unlock (&self->lock);
    *entry = e;
    return e->bars;
}

void zs_cache_prefetch (zs_cache_t *self, uint64_t source,
                        const char *const *symbols, size_t n)
{
    uint64_t h[8];
    if (n > 8)
        n = 8;
    for (size_t j = 0; j < n; j++)
        h[j] = s_hash (source, symbols[j]);
    pthread_mutex_lock (&self->lock);
    for (size_t j = 0; j < n; j++) {
        zs_cache_entry_t *e = self->buckets[h[j] & self->mask];
        if (e)
            __builtin_prefetch (e);
    }
    pthread_mutex_unlock (&self->lock);
}

void zs_cache_release (zs_cache_t *self, zs_cache_entry_t *entry)
{
    if (!entry)
        return;
    pthread_mutex_lock (&self->lock);
    bool last = --entry->refs == 0;
    pthread_mutex_unlock (&self->lock);
    if (last)
        s_entry_free (entry);
}

void zs_cache_drop_source (zs_cache_t *self, uint64_t source)
{
    pthread_mutex_lock (&self->lock);
    zs_cache_entry_t *e = self->newest;
    while (e) {
        zs_cache_entry_t *next = e->older;
        if (e->source == source)
            s_unlist (self, e);
        e = next;
    }
    pthread_mutex_unlock (&self->lock);
}

void zs_cache_stats (zs_cache_t *self, zs_cache_stats_t *st)
{
    pthread_mutex_lock (&self->lock);
    st->bytes = self->bytes;
    st->budget = self->budget;
    st->entries = self->count;
    st->hits = self->hits;
    st->misses = self->misses;
    st->evictions = self->evictions;
    pthread_mutex_unlock (&self->lock);
}
