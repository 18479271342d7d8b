/*  zs_bscan.c - a scan's universe, batches and delivery bookkeeping.  */
#include "zs_bscan.h"
#include "zs_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLAG_DELIVERED 1
#define FLAG_SIGNAL 2
#define FLAG_TAKEN 4 /* dispatched at least once */

/* ---------------------------------------------------------------------- */
/*  Lists                                                                  */

static void s_inflight_add (zs_bscan_t *self, zs_btask_t *t)
{
    t->prev = NULL;
    t->next = self->inflight;
    if (self->inflight)
        self->inflight->prev = t;
    self->inflight = t;
}

static bool s_in_queue (const zs_bscan_t *self, const zs_btask_t *t)
{
    return t->state == ZS_TASK_QUEUED
           && (t->prev || self->queue_head == t);
}

static void s_unlink (zs_bscan_t *self, zs_btask_t *t)
{
    if (s_in_queue (self, t)) {
        if (t->prev)
            t->prev->next = t->next;
        else
            self->queue_head = t->next;
        if (t->next)
            t->next->prev = t->prev;
        else
            self->queue_tail = t->prev;
    }
    else {
        if (t->prev)
            t->prev->next = t->next;
        else if (self->inflight == t)
            self->inflight = t->next;
        if (t->next)
            t->next->prev = t->prev;
    }
    t->prev = t->next = NULL;
}

/* ---------------------------------------------------------------------- */
/*  Construction                                                           */

static char *s_strdup_opt (const char *s)
{
    return s ? strdup (s) : NULL;
}

static int s_copy_def (zs_bscan_t *self, const zs_scan_def_t *def)
{
    self->def.data = s_strdup_opt (def->data);
    self->def.strategy = s_strdup_opt (def->strategy);
    self->def.filter = s_strdup_opt (def->filter);
    self->def.nparams = def->nparams;
    if (def->nparams) {
        self->pnames_owned = (char **) calloc (def->nparams, sizeof (char *));
        if (!self->pnames_owned)
            return -1;
        for (size_t i = 0; i < def->nparams; i++) {
            self->pnames_owned[i] = strdup (def->pnames[i]);
            if (!self->pnames_owned[i])
                return -1;
            self->def.pnames[i] = self->pnames_owned[i];
            self->def.pvalues[i] = def->pvalues[i];
        }
    }
    if ((def->data && !self->def.data)
        || (def->strategy && !self->def.strategy)
        || (def->filter && !self->def.filter))
        return -1;
    /* the key that "signals first" history is filed under */
    char key[ZS_FILTER_MAX + 2048];
    int n = snprintf (key, sizeof key, "%s|%s|", def->data ? def->data : "",
                      def->strategy ? def->strategy : "");
    for (size_t i = 0; i < def->nparams && n > 0 && (size_t) n < sizeof key;
         i++)
        n += snprintf (key + n, sizeof key - (size_t) n, "%s=%.17g,",
                       def->pnames[i], def->pvalues[i]);
    if (n > 0 && (size_t) n < sizeof key)
        snprintf (key + n, sizeof key - (size_t) n, "|%s",
                  def->filter ? def->filter : "");
    self->def_key = strdup (key);
    return self->def_key ? 0 : -1;
}

/*  Validates the definition by compiling it once, as every worker will. */
static int s_check_def (const zs_scan_def_t *def, char *err, size_t errlen)
{
    if (def->strategy && def->filter) {
        snprintf (err, errlen, "give a strategy or a filter, not both");
        return -1;
    }
    char cerr[512];
    zs_scan_t *compiled = zs_scan_compile (
        def->filter ? NULL
                    : (def->strategy ? def->strategy : zs_strategy_default ()),
        def->pnames, def->pvalues, def->nparams, def->filter, cerr,
        sizeof cerr);
    if (!compiled) {
        snprintf (err, errlen, "%s: %s", def->filter ? "filter" : "strategy",
                  cerr);
        return -1;
    }
    zs_scan_destroy (&compiled);
    return 0;
}

static int s_cmp_str (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/*  A list file's symbols must be distinct: says which one repeats. */
static int s_no_duplicates (zs_strlist_t *list, char *err, size_t errlen)
{
    char **copy = (char **) malloc ((list->size ? list->size : 1)
                                    * sizeof (char *));
    if (!copy) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    memcpy (copy, list->items, list->size * sizeof (char *));
    qsort (copy, list->size, sizeof (char *), s_cmp_str);
    int rc = 0;
    for (size_t i = 1; i < list->size && rc == 0; i++)
        if (strcmp (copy[i - 1], copy[i]) == 0) {
            snprintf (err, errlen, "symbol '%s' is listed twice", copy[i]);
            rc = -1;
        }
    free (copy);
    return rc;
}

/*  A file: universe is read only from under the configured directory,
    never through a path that leaves it (.., symlinks): writes the file's
    real path into out, or the reason into err. */
static int s_list_path (const char *dir, const char *path, char *out,
                        size_t cap, char *err, size_t errlen)
{
    if (!dir || !*dir) {
        snprintf (err, errlen, "file: universes are off on this broker "
                               "(it was started without --list-dir)");
        return -1;
    }
    char root[4096], joined[8192], real[4096];
    if (!realpath (dir, root)) {
        snprintf (err, errlen, "the list directory is not there");
        return -1;
    }
    if (path[0] == '/')
        snprintf (joined, sizeof joined, "%s", path);
    else
        snprintf (joined, sizeof joined, "%s/%s", root, path);
    size_t rlen = strlen (root);
    if (!realpath (joined, real)) {
        snprintf (err, errlen, "no such list file under the list "
                               "directory");
        return -1;
    }
    if (strncmp (real, root, rlen) != 0 || real[rlen] != '/') {
        snprintf (err, errlen, "a list file must be under the list "
                               "directory");
        return -1;
    }
    snprintf (out, cap, "%s", real);
    return 0;
}

/*  Fills list with the universe: the explicit symbols, or the spec. */
static int s_universe (const zs_bscan_params_t *p, zs_strlist_t *list,
                       char *err, size_t errlen)
{
    const zs_scan_start_t *req = p->req;
    if (req->nsymbols == 0) {
        const char *spec = req->universe ? req->universe : p->default_universe;
        char uerr[512];
        if (strncmp (spec, "file:", 5) == 0) {
            char path[4096];
            if (s_list_path (p->list_dir, spec + 5, path, sizeof path, uerr,
                             sizeof uerr)
                    != 0
                || zs_universe_file (path, p->list_max_bytes
                                               ? p->list_max_bytes
                                               : ZS_LIST_FILE_MAX,
                                     list, uerr, sizeof uerr)
                       != 0) {
                snprintf (err, errlen, "universe %.200s: %s", spec, uerr);
                return -1;
            }
            return s_no_duplicates (list, err, errlen);
        }
        if (zs_universe_expand (spec, p->source, list, uerr, sizeof uerr)
            != 0) {
            snprintf (err, errlen, "universe '%.200s': %s", spec, uerr);
            return -1;
        }
        return 0;
    }
    zhashx_t *seen = zhashx_new ();
    if (!seen) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < req->nsymbols && rc == 0; i++) {
        const char *sym = req->symbols[i];
        if (!zs_symbol_valid (sym)) {
            snprintf (err, errlen, "symbol %zu ('%.40s') is not a valid "
                                   "symbol",
                      i + 1, sym);
            rc = -1;
        }
        else if (zhashx_lookup (seen, sym)) {
            snprintf (err, errlen, "symbol '%s' is listed twice", sym);
            rc = -1;
        }
        else if (zhashx_insert (seen, sym, (void *) 1) != 0
                 || zs_strlist_push (list, sym) != 0) {
            snprintf (err, errlen, "out of memory");
            rc = -1;
        }
    }
    zhashx_destroy (&seen);
    return rc;
}

typedef struct {
    char *symbol;
    double key;
    size_t pos;
} s_rank_t;


static int s_rank_cmp (const void *a, const void *b)
{
    const s_rank_t *x = (const s_rank_t *) a, *y = (const s_rank_t *) b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*  A symbol's liquidity from its source (a synthetic source derives it
    from the symbol's seed, the store keeps it; a CSV source reads the
    file); -1 when it cannot be known (those go last). */
static double s_liquidity (const zs_bscan_params_t *p, const char *sym)
{
    double adv = -1;
    char err[256];
    if (zs_source_liquidity (p->source, sym, &adv, err, sizeof err) != 0
        || !isfinite (adv))
        adv = -1;
    return adv;
}

/*  Orders items by priority: as given; by liquidity, highest first; or
    last scan's signals first (each stable). */
static int s_order (const zs_bscan_params_t *p, zs_bscan_t *self,
                    char **items, size_t n)
{
    if (self->priority == ZS_PRIO_GIVEN)
        return 0;
    s_rank_t *r = (s_rank_t *) malloc ((n ? n : 1) * sizeof (s_rank_t));
    if (!r)
        return -1;
    zhashx_t *last = self->priority == ZS_PRIO_SIGNALS
                         ? (zhashx_t *) zhashx_lookup (p->history,
                                                       self->def_key)
                         : NULL;
    for (size_t i = 0; i < n; i++) {
        r[i].symbol = items[i];
        r[i].pos = i;
        if (self->priority == ZS_PRIO_LIQUIDITY)
            r[i].key = s_liquidity (p, items[i]);
        else
            r[i].key = last && zhashx_lookup (last, items[i]) ? 1 : 0;
    }
    qsort (r, n, sizeof *r, s_rank_cmp);
    for (size_t i = 0; i < n; i++)
        items[i] = r[i].symbol;
    free (r);
    return 0;
}

zs_bscan_t *zs_bscan_stub (const char *id, const zs_scan_start_t *req,
                           const char *default_universe)
{
    zs_bscan_t *self = (zs_bscan_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    snprintf (self->id, sizeof self->id, "%s", id);
    self->priority = req->priority;
    self->max_signals = req->max_signals;
    self->max_symbols = req->max_symbols;
    self->timeout_seconds = req->timeout_seconds;
    self->state = ZS_BSCAN_PLANNING;
    self->universe = strdup (req->nsymbols ? "explicit"
                             : req->universe ? req->universe
                                             : default_universe);
    if (!self->universe || s_copy_def (self, &req->def) != 0) {
        zs_bscan_destroy (&self);
        return NULL;
    }
    self->created_us = zs_clock_us ();
    self->last_progress_us = self->created_us;
    self->started_at = zs_wall ();
    return self;
}

zs_bscan_t *zs_bscan_new (const zs_bscan_params_t *p, char *err,
                          size_t errlen)
{
    const zs_scan_start_t *req = p->req;
    if (!zs_scan_id_valid (p->id)) {
        snprintf (err, errlen, "invalid scan id");
        return NULL;
    }
    if (s_check_def (&req->def, err, errlen) != 0)
        return NULL;
    zs_bscan_t *self = (zs_bscan_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    snprintf (self->id, sizeof self->id, "%s", p->id);
    self->priority = req->priority;
    self->batch_hint = req->batch;
    self->max_signals = req->max_signals;
    self->max_symbols = req->max_symbols;
    self->timeout_seconds = req->timeout_seconds;
    self->state = ZS_BSCAN_RUNNING;
    self->universe = strdup (req->nsymbols ? "explicit"
                             : req->universe ? req->universe
                                             : p->default_universe);
    if (!self->universe || s_copy_def (self, &req->def) != 0) {
        snprintf (err, errlen, "out of memory");
        zs_bscan_destroy (&self);
        return NULL;
    }
    zs_strlist_t list = {0};
    if (s_universe (p, &list, err, errlen) != 0) {
        zs_strlist_clear (&list);
        zs_bscan_destroy (&self);
        return NULL;
    }
    if (list.size == 0 || list.size > ZS_UNIVERSE_MAX) {
        snprintf (err, errlen, "the universe has %zu symbols (want 1..%u)",
                  list.size, (unsigned) ZS_UNIVERSE_MAX);
        zs_strlist_clear (&list);
        zs_bscan_destroy (&self);
        return NULL;
    }
    if (s_order (p, self, list.items, list.size) != 0) {
        snprintf (err, errlen, "out of memory");
        zs_strlist_clear (&list);
        zs_bscan_destroy (&self);
        return NULL;
    }
    /* take the list, strings and all */
    self->symlist = list;
    self->total = (uint32_t) list.size;
    self->flags = (uint8_t *) calloc (list.size, 1);
    self->owner = (zs_btask_t **) calloc (list.size, sizeof (zs_btask_t *));
    if (!self->flags || !self->owner) {
        snprintf (err, errlen, "out of memory");
        zs_bscan_destroy (&self);
        return NULL;
    }
    self->created_us = zs_clock_us ();
    self->last_progress_us = self->created_us;
    self->started_at = zs_wall ();
    return self;
}

static void s_free_queue (zs_bscan_t *self)
{
    while (self->queue_head)
        zs_bscan_task_free (self, self->queue_head);
}

void zs_bscan_release_arrays (zs_bscan_t *self)
{
    s_free_queue (self);
    while (self->inflight)
        zs_bscan_task_free (self, self->inflight);
    zs_strlist_clear (&self->symlist);
    free (self->flags);
    self->flags = NULL;
    free (self->owner);
    self->owner = NULL;
    zs_holders_map_destroy (&self->prior);
    zs_holders_map_destroy (&self->held);
}

void zs_bscan_destroy (zs_bscan_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_bscan_t *self = *self_p;
    zs_bscan_release_arrays (self);
    free ((char *) self->def.data);
    free ((char *) self->def.strategy);
    free ((char *) self->def.filter);
    if (self->pnames_owned) {
        for (size_t i = 0; i < self->def.nparams; i++)
            free (self->pnames_owned[i]);
        free (self->pnames_owned);
    }
    free (self->def_key);
    free (self->universe);
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------- */
/*  Delivery                                                               */

bool zs_bscan_delivered (const zs_bscan_t *self, uint32_t index)
{
    return !self->flags || index >= self->total
           || (self->flags[index] & FLAG_DELIVERED);
}

zs_btask_t *zs_bscan_mark (zs_bscan_t *self, uint32_t index, bool signal,
                           bool failed)
{
    self->flags[index] |= FLAG_DELIVERED | (signal ? FLAG_SIGNAL : 0);
    self->done++;
    if (signal)
        self->signals++;
    if (failed)
        self->failed++;
    if (!self->first_result_us) /* the clock is read for the first only */
        self->first_result_us = zs_clock_us ();
    zs_btask_t *owner = self->owner[index];
    self->owner[index] = NULL;
    if (owner && owner->remaining)
        owner->remaining--;
    return owner;
}

/* ---------------------------------------------------------------------- */
/*  Batches                                                                */

bool zs_bscan_has_work (const zs_bscan_t *self)
{
    return self->queue_head || self->dispatched < self->total;
}

static uint32_t s_batch_size (const zs_bscan_t *self, size_t nlanes,
                              double batch_ms, uint32_t bmin, uint32_t bmax)
{
    uint32_t left = self->total - self->dispatched;
    double size;
    if (self->batch_hint)
        size = self->batch_hint;
    else if (self->us_per_symbol <= 0)
        size = bmin; /* first batches small: results stream at once */
    else
        size = batch_ms * 1000.0 / self->us_per_symbol;
    if (!self->batch_hint && nlanes > 1) {
        /* never so big that other lanes would idle - but a quarter of a
           full batch at least: smaller ones cost more than they balance */
        double share = ceil ((double) left / (double) (2 * nlanes));
        if (size > share)
            size = share > size / 4 ? share : size / 4;
    }
    if (!self->batch_hint && size < bmin)
        size = bmin;
    if (size > bmax)
        size = bmax;
    if (size > ZS_TASK_SYMBOLS_MAX)
        size = ZS_TASK_SYMBOLS_MAX;
    if (size < 1)
        size = 1;
    if (size > left)
        size = left;
    return (uint32_t) size;
}

uint64_t zs_bscan_hash (const char *text)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = text; *p; p++)
        h = (h ^ (uint8_t) *p) * 1099511628211ULL;
    return h;
}

static uint64_t s_mix64 (uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/*  Rendezvous hashing: the worker (by seed) a symbol belongs to, the one
    with the highest score for it.  A worker that joins takes over only
    the symbols it now scores highest on; one that leaves gives up only
    its own. */
static bool s_rendezvous (const char *symbol, const uint64_t *seeds,
                          size_t n, uint64_t mine)
{
    uint64_t h = zs_bscan_hash (symbol);
    uint64_t best = 0, who = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t score = s_mix64 (h ^ seeds[k]);
        if (k == 0 || score > best || (score == best && seeds[k] < who)) {
            best = score;
            who = seeds[k];
        }
    }
    return who == mine;
}

/*  Whether symbol idx is the asking worker's: the one that held it after
    the last scan of this universe, while the same workers are live and
    it is one of them; else its rendezvous owner. */
static bool s_mine (const zs_bscan_t *self, uint32_t idx,
                    const zs_affinity_t *aff)
{
    if (self->prior_on) {
        uint8_t s = self->prior->slot[idx];
        if (s && self->prior_live[s])
            return self->prior->seeds[s] == aff->mine;
    }
    return s_rendezvous (self->symlist.items[idx], aff->seeds, aff->nseeds,
                         aff->mine);
}

/*  A value naming the set of live workers (the same whatever their
    order). */
static uint64_t s_set (const zs_affinity_t *aff)
{
    uint64_t set = aff->nseeds;
    for (size_t k = 0; k < aff->nseeds; k++)
        set += s_mix64 (aff->seeds[k]);
    return set;
}

/*  Notes the set of live workers: when it changed, every worker's search
    starts again at the front (what was another's may now be its own),
    and the last scan's holders count only if they were this set. */
static void s_aff_set (zs_bscan_t *self, const zs_affinity_t *aff)
{
    uint64_t set = s_set (aff);
    if (set == self->aff_set)
        return;
    self->aff_set = set;
    self->naff = 0;
    self->prior_on = self->prior && self->prior->set == set;
    if (self->prior_on)
        for (size_t s = 1; s <= self->prior->nseeds; s++) {
            self->prior_live[s] = false;
            for (size_t k = 0; k < aff->nseeds; k++)
                if (aff->seeds[k] == self->prior->seeds[s])
                    self->prior_live[s] = true;
        }
}

/*  Records who was given the task's symbols (the lane's worker), for the
    next scan of this universe. */
static void s_hold (zs_bscan_t *self, const zs_btask_t *t,
                    const zs_affinity_t *aff)
{
    if (!aff || !aff->nseeds)
        return;
    if (!self->held)
        self->held = zs_holders_map_new (self->total);
    if (!self->held)
        return;
    uint8_t slot = zs_holders_slot (self->held, aff->mine);
    for (uint32_t i = 0; i < t->n; i++)
        if (t->index[i] < self->total)
            self->held->slot[t->index[i]] = slot;
    self->held->set = self->aff_set;
}

void zs_bscan_set_prior_holders (zs_bscan_t *self, zs_holders_map_t *map)
{
    zs_holders_map_destroy (&self->prior);
    if (map && map->total != self->total)
        zs_holders_map_destroy (&map);
    self->prior = map;
    self->prior_on = false;
    self->aff_set = 0; /* the next dispatch looks at it again */
    self->naff = 0;
}

zs_holders_map_t *zs_bscan_take_holders (zs_bscan_t *self)
{
    zs_holders_map_t *map = self->held;
    self->held = NULL;
    return map;
}

/*  The asking worker's search position for the current set of workers
    (see s_aff_set); NULL when the table is full. */
static uint32_t *s_aff_pos (zs_bscan_t *self, const zs_affinity_t *aff)
{
    for (size_t k = 0; k < self->naff; k++)
        if (self->aff_pos[k].seed == aff->mine)
            return &self->aff_pos[k].next;
    if (self->naff == ZS_BSCAN_AFF_WORKERS)
        return NULL;
    self->aff_pos[self->naff].seed = aff->mine;
    self->aff_pos[self->naff].next = 0;
    return &self->aff_pos[self->naff++].next;
}

zs_btask_t *zs_bscan_next_task (zs_bscan_t *self, uint64_t id,
                                size_t nlanes, double batch_ms,
                                uint32_t batch_min, uint32_t batch_max,
                                const zs_affinity_t *aff)
{
    if (aff && aff->nseeds)
        s_aff_set (self, aff); /* the set of live workers, once */
    zs_btask_t *t = self->queue_head;
    if (t) {
        s_unlink (self, t);
        t->state = ZS_TASK_SENT;
        t->id = id;
        s_inflight_add (self, t);
        s_hold (self, t, aff);
        return t;
    }
    while (self->cursor < self->total
           && (self->flags[self->cursor] & FLAG_TAKEN))
        self->cursor++;
    if (self->cursor >= self->total)
        return NULL;
    uint32_t n = s_batch_size (self, nlanes, batch_ms, batch_min, batch_max);
    t = (zs_btask_t *) calloc (1, sizeof *t);
    if (!t)
        return NULL;
    t->index = (uint32_t *) malloc (n * sizeof (uint32_t));
    if (!t->index) {
        free (t);
        return NULL;
    }
    uint32_t k = 0;
    if (aff && aff->nseeds > 1) {
        /* the lane's worker's own symbols, in order (the universe's
           priority), from where its last search stopped: each worker
           scans, and caches, its share, however far ahead of the others
           it runs */
        uint32_t *pos = s_aff_pos (self, aff);
        uint32_t idx = self->cursor;
        if (pos && *pos > idx)
            idx = *pos;
        for (uint32_t hashed = 0; idx < self->total && k < n && hashed < 8192;
             idx++) {
            if (self->flags[idx] & FLAG_TAKEN)
                continue;
            hashed++; /* each symbol is hashed once per worker: the loop
                         stays well under a millisecond */
            if (s_mine (self, idx, aff))
                t->index[k++] = idx;
        }
        if (pos)
            *pos = idx;
    }
    /* none of its own near the front (or no affinity): the next ones, in
       order, whoever they belong to: no lane waits (the cursor is the
       first one not taken) */
    if (k == 0)
        for (uint32_t idx = self->cursor; idx < self->total && k < n; idx++)
            if (!(self->flags[idx] & FLAG_TAKEN))
                t->index[k++] = idx;
    if (k == 0) {
        free (t->index);
        free (t);
        return NULL;
    }
    for (uint32_t i = 0; i < k; i++) {
        self->flags[t->index[i]] |= FLAG_TAKEN;
        self->owner[t->index[i]] = t;
    }
    self->dispatched += k;
    t->id = id;
    t->scan = self;
    t->attempt = 1;
    t->n = t->remaining = k;
    t->state = ZS_TASK_SENT;
    s_inflight_add (self, t);
    s_hold (self, t, aff);
    return t;
}

void zs_bscan_task_compact (zs_bscan_t *self, zs_btask_t *task)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < task->n; i++)
        if (!zs_bscan_delivered (self, task->index[i]))
            task->index[k++] = task->index[i];
    task->n = task->remaining = k;
}

void zs_bscan_requeue_front (zs_bscan_t *self, zs_btask_t *task)
{
    s_unlink (self, task);
    task->state = ZS_TASK_QUEUED;
    task->lane = NULL;
    task->prev = NULL;
    task->next = self->queue_head;
    if (self->queue_head)
        self->queue_head->prev = task;
    else
        self->queue_tail = task;
    self->queue_head = task;
}

void zs_bscan_task_free (zs_bscan_t *self, zs_btask_t *task)
{
    s_unlink (self, task);
    if (self->owner)
        for (uint32_t i = 0; i < task->n; i++)
            if (task->index[i] < self->total
                && self->owner[task->index[i]] == task)
                self->owner[task->index[i]] = NULL;
    free (task->index);
    free (task);
}

zs_btask_t *zs_bscan_first_inflight (zs_bscan_t *self)
{
    return self->inflight;
}

zs_btask_t *zs_bscan_next_inflight (zs_bscan_t *self, zs_btask_t *task)
{
    (void) self;
    return task->next;
}

int zs_bscan_task_msg (zs_bscan_t *self, zs_btask_t *task, zs_task_t *msg,
                       zs_ptrs_t *ptrs)
{
    if (ptrs->cap < task->n) {
        size_t cap = task->n < 64 ? 64 : task->n;
        const char **items = (const char **) realloc (
            (void *) ptrs->items, cap * sizeof (const char *));
        if (!items)
            return -1;
        ptrs->items = items;
        ptrs->cap = cap;
    }
    for (uint32_t i = 0; i < task->n; i++)
        ptrs->items[i] = self->symlist.items[task->index[i]];
    msg->scan = self->id;
    msg->task = task->id;
    msg->attempt = task->attempt;
    msg->def = self->def;
    msg->nsymbols = task->n;
    msg->symbols = ptrs->items;
    msg->index = task->index;
    return 0;
}

#define PRIOR_SYMBOLS 2000.0 /* the weight of a previous scan's estimate */

void zs_bscan_set_prior (zs_bscan_t *self, double us_per_symbol)
{
    if (us_per_symbol > 0 && isfinite (us_per_symbol))
        self->prior_us = self->us_per_symbol = us_per_symbol;
}

/*  Weighted by symbols, so the first small batches (whose fixed costs
    make each symbol look slow) do not keep later batches small. */
void zs_bscan_observe_rate (zs_bscan_t *self, uint32_t results,
                            double elapsed_us)
{
    if (!results || !(elapsed_us > 0) || !isfinite (elapsed_us))
        return;
    self->sum_elapsed_us += elapsed_us;
    self->sum_results += results;
    double w = self->prior_us > 0 ? PRIOR_SYMBOLS : 0;
    self->us_per_symbol = (self->sum_elapsed_us + w * self->prior_us)
                          / (self->sum_results + w);
}

/* ---------------------------------------------------------------------- */
/*  End                                                                    */

bool zs_bscan_cut (zs_bscan_t *self, zs_end_reason_t reason)
{
    if (self->state != ZS_BSCAN_RUNNING)
        return false;
    self->state = ZS_BSCAN_ENDING;
    self->stop_reason = reason;
    return true;
}

void zs_bscan_finish (zs_bscan_t *self, zs_end_reason_t reason,
                      int64_t now_us)
{
    self->state = ZS_BSCAN_FINISHED;
    self->reason = reason;
    self->finished_us = now_us;
    s_free_queue (self);
}

zhashx_t *zs_bscan_signal_set (const zs_bscan_t *self)
{
    zhashx_t *set = zhashx_new ();
    if (!set || !self->flags)
        return set;
    for (uint32_t i = 0; i < self->total; i++)
        if (self->flags[i] & FLAG_SIGNAL)
            zhashx_insert (set, self->symlist.items[i], (void *) 1);
    return set;
}

void zs_bscan_info (const zs_bscan_t *self, int64_t now_us,
                    zs_scan_info_t *info)
{
    memset (info, 0, sizeof *info);
    info->scan = self->id;
    info->state = self->state == ZS_BSCAN_FINISHED   ? ZS_STATE_FINISHED
                  : self->state == ZS_BSCAN_PLANNING ? ZS_STATE_PLANNING
                                                     : ZS_STATE_RUNNING;
    info->reason = self->reason;
    info->def = self->def;
    info->universe = self->universe;
    info->priority = self->priority;
    info->max_signals = self->max_signals;
    info->max_symbols = self->max_symbols;
    info->timeout_seconds = self->timeout_seconds;
    info->total = self->total;
    info->done = self->done;
    info->signals = self->signals;
    info->failed = self->failed;
    info->unscanned = self->total - self->done;
    info->seq = self->pos;
    info->busy = self->busy;
    info->started_at = self->started_at;
    int64_t end = self->finished_us ? self->finished_us : now_us;
    info->elapsed = (double) (end - self->created_us) / 1e6;
    info->rate = info->elapsed > 0 ? (double) self->done / info->elapsed : 0;
    if (self->state == ZS_BSCAN_FINISHED)
        info->eta = 0;
    else if (info->rate > 0)
        info->eta = (double) (self->total - self->done) / info->rate;
    else
        info->eta = -1;
    info->idle_ms = self->state == ZS_BSCAN_FINISHED && self->idle_us
                        ? (double) (self->idle_us - self->finished_us) / 1e3
                        : -1;
    info->first_result_ms =
        self->first_result_us
            ? (double) (self->first_result_us - self->created_us) / 1e3
            : -1;
}
