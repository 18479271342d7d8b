/*  zs_scanlog.c - see zs_scanlog.h.

    A log: its entries {pos, kind, offset, lengths} and their text (the
    JSON, then the msgpack form right after it) in one buffer.  Entries are numbered from the log's first ever (an
    evicted prefix keeps its numbers: base), so a reader's index stays
    right across evictions.  Eviction from a running log takes a quarter
    of it at once (one memmove of the text, amortised).
*/
#include "zs_scanlog.h"

#include <czmq.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t pos;
    int64_t t_us;           /* when it was appended                      */
    uint32_t off;
    uint32_t len;           /* the JSON's; the msgpack's follows it      */
    uint32_t mlen;
    uint8_t kind;
} s_entry_t;

struct zs_scanlog_t {
    char id[ZS_ID_MAX + 1];
    s_entry_t *entries;
    size_t n, cap;          /* entries held                              */
    size_t base;            /* the number of the first held entry        */
    char *text;
    size_t used, tcap;      /* text bytes                                */
    uint64_t last;          /* last position appended                    */
    uint64_t version;
    bool done;              /* the complete record is in                 */
    bool dirty;             /* on the set's dirty list                   */
    int64_t done_us;        /* when it completed (eviction order)        */
    uint32_t readers;       /* open streams of it (zs_logset_readers)    */
    uint64_t cut_wanted;    /* zs_scanlog_cut_wanted                     */
    char gone[160];
};

#define DIRTY_MAX 1024

struct zs_logset_t {
    pthread_mutex_t lock;
    zhashx_t *logs;         /* id -> zs_scanlog_t*                       */
    size_t budget, bytes;
    char (*dirty)[ZS_ID_MAX + 1];
    size_t ndirty;
    bool all_dirty;         /* the dirty list overflowed                 */
    uint64_t appended, evicted_logs, evicted_records;
};

static size_t s_cost (const zs_scanlog_t *g)
{
    return g->cap * sizeof (s_entry_t) + g->tcap + sizeof *g;
}

static void s_log_free (void **item)
{
    zs_scanlog_t *g = (zs_scanlog_t *) *item;
    if (g) {
        free (g->entries);
        free (g->text);
        free (g);
    }
    *item = NULL;
}

zs_logset_t *zs_logset_new (size_t budget)
{
    zs_logset_t *self = (zs_logset_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->budget = budget;
    self->logs = zhashx_new ();
    self->dirty = calloc (DIRTY_MAX, sizeof *self->dirty);
    if (!self->logs || !self->dirty) {
        zhashx_destroy (&self->logs);
        free (self->dirty);
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->logs, s_log_free);
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void zs_logset_destroy (zs_logset_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_logset_t *self = *self_p;
    zhashx_destroy (&self->logs);
    free (self->dirty);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

void zs_logset_lock (zs_logset_t *self)
{
    pthread_mutex_lock (&self->lock);
}

void zs_logset_unlock (zs_logset_t *self)
{
    pthread_mutex_unlock (&self->lock);
}

zs_scanlog_t *zs_logset_get (zs_logset_t *self, const char *scan,
                             bool create)
{
    zs_scanlog_t *g = (zs_scanlog_t *) zhashx_lookup (self->logs, scan);
    if (g || !create || strlen (scan) > ZS_ID_MAX)
        return g;
    g = (zs_scanlog_t *) calloc (1, sizeof *g);
    if (!g)
        return NULL;
    strcpy (g->id, scan);
    zhashx_insert (self->logs, g->id, g);
    self->bytes += s_cost (g);
    return g;
}

void zs_logset_readers (zs_logset_t *self, const char *scan, bool open)
{
    zs_scanlog_t *g = (zs_scanlog_t *) zhashx_lookup (self->logs, scan);
    if (g && open)
        g->readers++;
    else if (g && g->readers)
        g->readers--;
}

void zs_logset_drop (zs_logset_t *self, const char *scan)
{
    zs_scanlog_t *g = (zs_scanlog_t *) zhashx_lookup (self->logs, scan);
    if (!g)
        return;
    self->bytes -= s_cost (g);
    zhashx_delete (self->logs, scan);
}

static void s_mark_dirty (zs_logset_t *set, zs_scanlog_t *g)
{
    g->version++;
    if (g->dirty)
        return;
    if (set->ndirty < DIRTY_MAX) {
        strcpy (set->dirty[set->ndirty++], g->id);
        g->dirty = true;
    }
    else
        set->all_dirty = true;
}

/*  Drops the oldest quarter (at least one) of g's entries. */
static void s_evict_prefix (zs_logset_t *set, zs_scanlog_t *g)
{
    size_t k = g->n / 4 ? g->n / 4 : 1;
    if (k > g->n)
        return;
    size_t cut = k < g->n ? g->entries[k].off : g->used;
    for (size_t i = 0; i < k; i++)
        if (g->entries[i].kind != ZS_LOG_RESULT
            && g->entries[i].kind != ZS_LOG_PROGRESS)
            g->cut_wanted = g->entries[i].pos;
    size_t before = s_cost (g);
    memmove (g->text, g->text + cut, g->used - cut);
    g->used -= cut;
    memmove (g->entries, g->entries + k, (g->n - k) * sizeof *g->entries);
    g->n -= k;
    for (size_t i = 0; i < g->n; i++)
        g->entries[i].off -= (uint32_t) cut;
    g->base += k;
    /* give the room back */
    size_t tcap = g->used + g->used / 4 + 4096;
    if (tcap < g->tcap) {
        char *t = (char *) realloc (g->text, tcap);
        if (t) {
            g->text = t;
            g->tcap = tcap;
        }
    }
    set->bytes -= before - s_cost (g);
    set->evicted_records += k;
}

static void s_trim (zs_logset_t *set, zs_scanlog_t *keep)
{
    while (set->bytes > set->budget) {
        /* the finished log that finished first and that no stream reads
           (one read is trimmed from its front like a running one: its
           readers keep their place, a reader behind the cut is told) */
        zs_scanlog_t *old = NULL, *big = NULL;
        for (zs_scanlog_t *g = (zs_scanlog_t *) zhashx_first (set->logs); g;
             g = (zs_scanlog_t *) zhashx_next (set->logs)) {
            if (g->done && !g->readers && g != keep
                && (!old || g->done_us < old->done_us))
                old = g;
            if (g->n && (!big || s_cost (g) > s_cost (big)))
                big = g;
        }
        if (old) {
            set->evicted_logs++;
            set->bytes -= s_cost (old);
            zhashx_delete (set->logs, old->id);
            continue;
        }
        if (!big)
            return;
        s_evict_prefix (set, big);
    }
}

int zs_scanlog_append (zs_logset_t *set, zs_scanlog_t *g, uint64_t pos,
                       zs_log_kind_t kind, const char *json, size_t len,
                       const char *mp, size_t mplen)
{
    if (pos <= g->last && kind != ZS_LOG_LOST)
        return 0;
    if (len > UINT32_MAX / 4 || mplen > UINT32_MAX / 4)
        return -1;
    size_t whole = len + mplen;
    size_t before = s_cost (g);
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 256;
        s_entry_t *e = (s_entry_t *) realloc (g->entries, cap * sizeof *e);
        if (!e)
            return -1;
        g->entries = e;
        g->cap = cap;
    }
    if (g->used + whole > g->tcap) {
        size_t tcap = g->tcap ? g->tcap * 2 : 16384;
        while (tcap < g->used + whole)
            tcap *= 2;
        if (tcap > UINT32_MAX)
            return -1;
        char *t = (char *) realloc (g->text, tcap);
        if (!t)
            return -1;
        g->text = t;
        g->tcap = tcap;
    }
    memcpy (g->text + g->used, json, len);
    if (mplen)
        memcpy (g->text + g->used + len, mp, mplen);
    s_entry_t *e = &g->entries[g->n++];
    e->pos = pos;
    e->off = (uint32_t) g->used;
    e->len = (uint32_t) len;
    e->mlen = (uint32_t) mplen;
    e->kind = (uint8_t) kind;
    e->t_us = zclock_usecs ();
    g->used += whole;
    if (pos > g->last)
        g->last = pos;
    if (kind == ZS_LOG_COMPLETE) {
        g->done = true;
        g->done_us = zclock_usecs ();
    }
    set->bytes += s_cost (g) - before;
    set->appended++;
    s_mark_dirty (set, g);
    if (set->bytes > set->budget)
        s_trim (set, g);
    return 1;
}

void zs_scanlog_gone (zs_logset_t *set, zs_scanlog_t *g, const char *reason)
{
    snprintf (g->gone, sizeof g->gone, "%s", reason ? reason : "gone");
    s_mark_dirty (set, g);
}

uint64_t zs_scanlog_first (const zs_scanlog_t *g)
{
    return g->n ? g->entries[0].pos : 0;
}

uint64_t zs_scanlog_cut_wanted (const zs_scanlog_t *g)
{
    return g->cut_wanted;
}

uint64_t zs_scanlog_last (const zs_scanlog_t *g)
{
    return g->last;
}

bool zs_scanlog_done (const zs_scanlog_t *g)
{
    return g->done;
}

const char *zs_scanlog_gone_reason (const zs_scanlog_t *g)
{
    return g->gone;
}

uint64_t zs_scanlog_version (const zs_scanlog_t *g)
{
    return g->version;
}

static void s_fill (const zs_scanlog_t *g, size_t k, zs_logrec_t *rec)
{
    const s_entry_t *e = &g->entries[k];
    rec->pos = e->pos;
    rec->kind = (zs_log_kind_t) e->kind;
    rec->json = g->text + e->off;
    rec->len = e->len;
    rec->mp = g->text + e->off + e->len;
    rec->mplen = e->mlen;
    rec->t_us = e->t_us;
}

bool zs_scanlog_at (const zs_scanlog_t *g, size_t i, zs_logrec_t *rec)
{
    if (i < g->base || i - g->base >= g->n)
        return false;
    s_fill (g, i - g->base, rec);
    return true;
}

bool zs_scanlog_after (const zs_scanlog_t *g, uint64_t after, size_t *hint,
                       zs_logrec_t *rec)
{
    if (!g->n)
        return false;
    /* the hint, when it is still right; else a binary search */
    size_t k;
    if (*hint >= g->base && *hint - g->base < g->n
        && g->entries[*hint - g->base].pos > after
        && (*hint == g->base || g->entries[*hint - g->base - 1].pos <= after))
        k = *hint - g->base;
    else {
        size_t lo = 0, hi = g->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (g->entries[mid].pos <= after)
                lo = mid + 1;
            else
                hi = mid;
        }
        k = lo;
    }
    if (k >= g->n)
        return false;
    *hint = g->base + k;
    s_fill (g, k, rec);
    return true;
}

size_t zs_logset_take_dirty (zs_logset_t *self, char (*out)[ZS_ID_MAX + 1],
                             size_t cap)
{
    size_t n = 0;
    if (self->all_dirty) {
        /* every log: the list overflowed (cap must hold them, or the
           rest wait for the next call) */
        self->all_dirty = false;
        for (zs_scanlog_t *g = (zs_scanlog_t *) zhashx_first (self->logs); g;
             g = (zs_scanlog_t *) zhashx_next (self->logs)) {
            if (n == cap) {
                self->all_dirty = true;
                break;
            }
            strcpy (out[n++], g->id);
        }
    }
    for (size_t i = 0; i < self->ndirty; i++) {
        zs_scanlog_t *g = (zs_scanlog_t *) zhashx_lookup (self->logs,
                                                          self->dirty[i]);
        if (g)
            g->dirty = false;
        if (n < cap)
            strcpy (out[n++], self->dirty[i]);
    }
    self->ndirty = 0;
    return n;
}

void zs_logset_stats (zs_logset_t *self, zs_logset_stats_t *st)
{
    st->bytes = self->bytes;
    st->budget = self->budget;
    st->logs = zhashx_size (self->logs);
    st->appended = self->appended;
    st->evicted_logs = self->evicted_logs;
    st->evicted_records = self->evicted_records;
}
