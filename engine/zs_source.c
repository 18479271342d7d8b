/*  zs_source.c - data sources by URI (synthetic:, csv:DIR, store:FILE),
    universes and liquidity.

    Bars a source loads (generated or parsed) are kept, read-only, in a
    cache (zs_cache.h): its own, or one the process shares between all
    its sources so that one budget bounds them all.  A load returns a
    reference; the bars stay valid until it is released.
*/
#include "zs_bars.h"
#include "zs_cache.h"
#include "zs_store.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------------- */
/*  Sources                                                                */

typedef enum { S_SYNTHETIC, S_CSV, S_STORE } s_kind_t;

struct zs_source_t {
    char *uri;
    s_kind_t kind;
    char *dir;            /* csv                                          */
    uint64_t seed;        /* synthetic                                    */
    size_t bars;          /* synthetic bar count                          */
    char *dates;          /* synthetic: the dates every symbol shares     */
    zs_store_t *store;    /* store: the mapping                           */
    zs_cache_t *cache;    /* where its bars are kept                      */
    bool own_cache;       /* a private one, freed with the source         */
    uint64_t cache_id;    /* its entries' key in the cache                */
};

/* ---------------------------------------------------------------------- */
/*  Opening                                                                */

static int s_parse_synthetic (zs_source_t *self, const char *args, char *err,
                              size_t errlen)
{
    self->seed = 0;
    self->bars = 1260;
    char buf[256];
    snprintf (buf, sizeof buf, "%s", args);
    char *save = NULL;
    for (char *tok = strtok_r (buf, ",", &save); tok;
         tok = strtok_r (NULL, ",", &save)) {
        char *eq = strchr (tok, '=');
        char *end = NULL;
        if (!eq) {
            snprintf (err, errlen, "synthetic: want key=value, got '%s'",
                      tok);
            return -1;
        }
        *eq = 0;
        errno = 0;
        unsigned long long v = strtoull (eq + 1, &end, 10);
        if (errno || end == eq + 1 || *end || eq[1] == '-') {
            snprintf (err, errlen, "synthetic: %s wants a number", tok);
            return -1;
        }
        if (strcmp (tok, "bars") == 0) {
            if (v < 1 || v > 100000) {
                snprintf (err, errlen, "synthetic: bars must be 1..100000");
                return -1;
            }
            self->bars = (size_t) v;
        }
        else if (strcmp (tok, "seed") == 0)
            self->seed = (uint64_t) v;
        else {
            snprintf (err, errlen, "synthetic: unknown key '%s' (bars, seed)",
                      tok);
            return -1;
        }
    }
    return 0;
}

static zs_source_t *s_open (const char *uri, zs_cache_t *cache,
                            size_t cache_bytes, char *err, size_t errlen)
{
    if (!uri) {
        snprintf (err, errlen, "no data source");
        return NULL;
    }
    zs_source_t *self = (zs_source_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->uri = strdup (uri);
    if (cache)
        self->cache = cache;
    else {
        self->cache = zs_cache_new (cache_bytes ? cache_bytes
                                                : (size_t) 1 << 30);
        self->own_cache = true;
    }
    if (!self->cache) {
        free (self->uri);
        free (self);
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->cache_id = zs_cache_source_id (self->cache);
    int rc = -1;
    if (strncmp (uri, "synthetic:", 10) == 0) {
        self->kind = S_SYNTHETIC;
        rc = s_parse_synthetic (self, uri + 10, err, errlen);
        if (rc == 0 && !(self->dates = zs_synth_dates (self->bars))) {
            snprintf (err, errlen, "out of memory");
            rc = -1;
        }
    }
    else if (strncmp (uri, "csv:", 4) == 0) {
        self->kind = S_CSV;
        struct stat st;
        if (!uri[4])
            snprintf (err, errlen, "csv: wants a directory (csv:DIR)");
        else if (stat (uri + 4, &st) != 0 || !S_ISDIR (st.st_mode))
            snprintf (err, errlen, "csv: %s is not a directory", uri + 4);
        else if ((self->dir = strdup (uri + 4)) != NULL)
            rc = 0;
    }
    else if (strncmp (uri, "store:", 6) == 0) {
        self->kind = S_STORE;
        if ((self->store = zs_store_open (uri + 6, err, errlen)) != NULL)
            rc = 0;
    }
    else
        snprintf (err, errlen,
                  "unknown data source '%.100s' (synthetic:, csv:DIR, "
                  "store:FILE)",
                  uri);
    if (rc != 0 || !self->uri) {
        zs_source_destroy (&self);
        return NULL;
    }
    return self;
}

zs_source_t *zs_source_open (const char *uri, size_t cache_bytes, char *err,
                             size_t errlen)
{
    return s_open (uri, NULL, cache_bytes, err, errlen);
}

zs_source_t *zs_source_open_in (const char *uri, zs_cache_t *cache,
                                char *err, size_t errlen)
{
    return s_open (uri, cache, 0, err, errlen);
}

void zs_source_destroy (zs_source_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_source_t *self = *self_p;
    if (self->cache) {
        zs_cache_drop_source (self->cache, self->cache_id);
        if (self->own_cache)
            zs_cache_destroy (&self->cache);
    }
    zs_store_close (&self->store);
    free (self->uri);
    free (self->dir);
    free (self->dates);
    free (self);
    *self_p = NULL;
}

const char *zs_source_uri (const zs_source_t *self)
{
    return self->uri;
}

/* ---------------------------------------------------------------------- */
/*  Loading                                                                */

/*  The cache's bars of symbol into ref when it holds them as wanted
    (whole, or close_only and anything); bars with the close column alone
    when whole ones are wanted do not count (they are made whole). */
static bool s_cached (zs_source_t *self, const char *symbol, bool close_only,
                      zs_bars_ref_t *ref)
{
    ref->cache = self->cache;
    ref->bars = zs_cache_get (self->cache, self->cache_id, symbol,
                              &ref->entry);
    if (ref->bars && ref->bars->close_only && !close_only) {
        zs_cache_release (self->cache, ref->entry);
        ref->entry = NULL;
        ref->bars = NULL;
    }
    return ref->bars != NULL;
}

int zs_source_load (zs_source_t *self, const char *symbol, zs_bars_ref_t *ref,
                    char *err, size_t errlen)
{
    ref->bars = NULL;
    ref->owned = NULL;
    ref->entry = NULL;
    ref->cache = NULL;
    if (!zs_symbol_valid (symbol)) {
        snprintf (err, errlen, "'%.40s' is not a valid symbol", symbol);
        return -1;
    }
    if (self->kind == S_STORE) {
        /* read in place from the mapping: nothing to cache or copy */
        if (zs_store_bars (self->store, symbol, &ref->view, err, errlen)
            != 0)
            return -1;
        ref->bars = &ref->view;
        return 0;
    }
    if (s_cached (self, symbol, false, ref))
        return 0;
    zs_bars_t *b = NULL;
    if (self->kind == S_SYNTHETIC) {
        b = zs_synth_generate (symbol, self->seed, self->bars, self->dates);
        if (!b)
            snprintf (err, errlen, "%s: out of memory", symbol);
    }
    else {
        char path[4096];
        snprintf (path, sizeof path, "%s/%s.csv", self->dir, symbol);
        b = zs_csv_load (path, err, errlen);
    }
    if (!b)
        return -1;
    ref->bars = zs_cache_put (self->cache, self->cache_id, symbol, b,
                              &ref->entry);
    if (!ref->bars) {
        snprintf (err, errlen, "%s: out of memory", symbol);
        return -1;
    }
    return 0;
}

void zs_source_prefetch (zs_source_t *self, const char *const *symbols,
                         size_t m)
{
    if (self->kind == S_SYNTHETIC)
        zs_cache_prefetch (self->cache, self->cache_id, symbols, m);
}

void zs_source_load_block (zs_source_t *self, const char *const *symbols,
                           size_t m, zs_bars_ref_t *refs, bool *ok,
                           char (*reasons)[ZS_REASON_MAX + 1], int isa,
                           bool close_only, bool keep)
{
    if (self->kind != S_SYNTHETIC || m > 8) {
        for (size_t j = 0; j < m; j++)
            ok[j] = zs_source_load (self, symbols[j], &refs[j], reasons[j],
                                   ZS_REASON_MAX + 1)
                    == 0;
        return;
    }
    /* what the cache holds; the others generated together, one per lane */
    const char *miss[8];
    size_t where[8], nmiss = 0;
    for (size_t j = 0; j < m; j++) {
        zs_bars_ref_t *ref = &refs[j];
        memset (ref, 0, sizeof *ref);
        ok[j] = false;
        if (!zs_symbol_valid (symbols[j])) {
            snprintf (reasons[j], ZS_REASON_MAX + 1,
                      "'%.40s' is not a valid symbol", symbols[j]);
            continue;
        }
        if (s_cached (self, symbols[j], close_only, ref))
            ok[j] = true;
        else {
            miss[nmiss] = symbols[j];
            where[nmiss++] = j;
        }
    }
    if (!nmiss)
        return;
    zs_bars_t *made[8];
    if (zs_synth_generate_block (isa, miss, nmiss, self->seed, self->bars,
                                 self->dates, close_only, made)
        != 0) {
        for (size_t k = 0; k < nmiss; k++)
            snprintf (reasons[where[k]], ZS_REASON_MAX + 1,
                      "%s: out of memory", miss[k]);
        return;
    }
    for (size_t k = 0; k < nmiss; k++) {
        zs_bars_ref_t *ref = &refs[where[k]];
        if (!keep) {
            ref->owned = made[k];
            ref->bars = made[k];
            ok[where[k]] = true;
            continue;
        }
        ref->bars = zs_cache_put (self->cache, self->cache_id, miss[k],
                                  made[k], &ref->entry);
        if (ref->bars)
            ok[where[k]] = true;
        else
            snprintf (reasons[where[k]], ZS_REASON_MAX + 1,
                      "%s: out of memory", miss[k]);
    }
}

size_t zs_source_keep (zs_source_t *self, const char *const *symbols,
                       size_t n, int isa, bool close_only, size_t *failed,
                       char *why, size_t whylen)
{
    size_t loaded = 0;
    for (size_t i = 0; i < n; i += 8) {
        size_t m = n - i < 8 ? n - i : 8;
        zs_bars_ref_t refs[8];
        bool ok[8];
        char reasons[8][ZS_REASON_MAX + 1];
        zs_source_load_block (self, symbols + i, m, refs, ok, reasons, isa,
                              close_only, true);
        for (size_t j = 0; j < m; j++) {
            if (!ok[j]) {
                if (!(*failed)++)
                    snprintf (why, whylen, "%s", reasons[j]);
                continue;
            }
            loaded++;
            zs_bars_release (&refs[j]);
        }
    }
    return loaded;
}

void zs_bars_release (zs_bars_ref_t *ref)
{
    if (ref->entry)
        zs_cache_release (ref->cache, ref->entry);
    ref->entry = NULL;
    zs_bars_destroy (&ref->owned);
    ref->bars = NULL;
}

zs_cache_t *zs_source_cache (zs_source_t *self)
{
    return self->cache;
}

static int s_cmp_str (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

int zs_source_symbols (zs_source_t *self, zs_strlist_t *out, char *err,
                       size_t errlen)
{
    if (self->kind == S_STORE) {
        for (size_t i = 0; i < zs_store_size (self->store); i++)
            if (zs_strlist_push (out, zs_store_symbol (self->store, i))
                != 0) {
                snprintf (err, errlen, "out of memory");
                return -1;
            }
        return 0;
    }
    if (self->kind != S_CSV) {
        snprintf (err, errlen, "a synthetic source holds no fixed set of "
                               "symbols: use synthetic:N");
        return -1;
    }
    DIR *d = opendir (self->dir);
    if (!d) {
        snprintf (err, errlen, "%s: %s", self->dir, strerror (errno));
        return -1;
    }
    size_t start = out->size;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir (d)) != NULL) {
        size_t len = strlen (e->d_name);
        if (len <= 4 || strcmp (e->d_name + len - 4, ".csv") != 0)
            continue;
        char sym[ZS_SYMBOL_MAX + 8];
        if (len - 4 > ZS_SYMBOL_MAX)
            continue;
        memcpy (sym, e->d_name, len - 4);
        sym[len - 4] = 0;
        if (zs_symbol_valid (sym) && zs_strlist_push (out, sym) != 0) {
            snprintf (err, errlen, "out of memory");
            rc = -1;
        }
    }
    closedir (d);
    qsort (out->items + start, out->size - start, sizeof (char *),
           s_cmp_str);
    return rc;
}

int zs_source_liquidity (zs_source_t *self, const char *symbol, double *adv,
                         char *err, size_t errlen)
{
    if (self->kind == S_STORE) {
        if (zs_store_liquidity (self->store, symbol, adv) != 0) {
            snprintf (err, errlen, "%s: not in the store", symbol);
            return -1;
        }
        return 0;
    }
    if (self->kind == S_SYNTHETIC) {
        if (!zs_symbol_valid (symbol)) {
            snprintf (err, errlen, "not a valid symbol");
            return -1;
        }
        *adv = zs_synth_liquidity (symbol, self->seed);
        return 0;
    }
    zs_bars_ref_t ref;
    if (zs_source_load (self, symbol, &ref, err, errlen) != 0)
        return -1;
    const zs_bars_t *b = ref.bars;
    size_t k = b->n < 20 ? b->n : 20;
    double sum = 0;
    for (size_t i = b->n - k; i < b->n; i++)
        sum += b->close[i] * b->volume[i];
    *adv = k ? sum / (double) k : 0;
    zs_bars_release (&ref);
    return 0;
}

/* ---------------------------------------------------------------------- */
/*  Universes                                                              */

static int s_push_checked (zs_strlist_t *out, const char *sym, char *err,
                           size_t errlen, const char *where)
{
    if (!zs_symbol_valid (sym)) {
        snprintf (err, errlen, "%s: '%.40s' is not a valid symbol", where,
                  sym);
        return -1;
    }
    if (zs_strlist_push (out, sym) != 0) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Rejects duplicates in out[from..]. */
static int s_no_duplicates (zs_strlist_t *out, size_t from, char *err,
                            size_t errlen)
{
    size_t n = out->size - from;
    char **copy = (char **) malloc ((n ? n : 1) * sizeof (char *));
    if (!copy) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    memcpy (copy, out->items + from, n * sizeof (char *));
    qsort (copy, n, sizeof (char *), s_cmp_str);
    int rc = 0;
    for (size_t i = 1; i < n && rc == 0; i++)
        if (strcmp (copy[i - 1], copy[i]) == 0) {
            snprintf (err, errlen, "symbol '%s' is listed twice", copy[i]);
            rc = -1;
        }
    free (copy);
    return rc;
}

int zs_universe_file (const char *path, size_t max_bytes, zs_strlist_t *out,
                      char *err, size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer */
    int fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf (err, errlen, "cannot open the list file: %s",
                  strerror (errno));
        return -1;
    }
    struct stat st;
    if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
        close (fd);
        snprintf (err, errlen, "the list file is not a regular file");
        return -1;
    }
    if ((uint64_t) st.st_size > max_bytes) {
        close (fd);
        snprintf (err, errlen, "the list file has %lld bytes (at most %zu)",
                  (long long) st.st_size, max_bytes);
        return -1;
    }
    FILE *f = fdopen (fd, "r");
    if (!f) {
        close (fd);
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    /* errors name the line and the reason, never what the line holds:
       the file may be something that was never meant to be shown */
    char line[1024];
    size_t lineno = 0, read = 0;
    int rc = 0;
    while (rc == 0 && fgets (line, sizeof line, f)) {
        size_t got = strlen (line);
        read += got;
        if (read > max_bytes) {
            snprintf (err, errlen, "the list file grew past %zu bytes",
                      max_bytes);
            rc = -1;
            break;
        }
        lineno++;
        if (got == sizeof line - 1 && line[got - 1] != '\n' && !feof (f)) {
            snprintf (err, errlen, "line %zu: longer than %zu bytes",
                      lineno, sizeof line - 2);
            rc = -1;
            break;
        }
        char *hash = strchr (line, '#');
        if (hash)
            *hash = 0;
        char *p = line;
        while (isspace ((unsigned char) *p))
            p++;
        size_t len = strlen (p);
        while (len && isspace ((unsigned char) p[len - 1]))
            p[--len] = 0;
        if (!*p)
            continue;
        if (!zs_symbol_valid (p)) {
            snprintf (err, errlen,
                      "line %zu: not a valid symbol (1..%d of "
                      "A-Z a-z 0-9 . _ ^ -)",
                      lineno, ZS_SYMBOL_MAX);
            rc = -1;
        }
        else if (out->size >= ZS_LIST_SYMBOLS_MAX) {
            snprintf (err, errlen, "line %zu: more than %d symbols", lineno,
                      ZS_LIST_SYMBOLS_MAX);
            rc = -1;
        }
        else if (zs_strlist_push (out, p) != 0) {
            snprintf (err, errlen, "out of memory");
            rc = -1;
        }
    }
    if (rc == 0 && ferror (f)) {
        snprintf (err, errlen, "reading the list file: %s",
                  strerror (errno));
        rc = -1;
    }
    fclose (f);
    return rc;
}

int zs_universe_expand (const char *spec, zs_source_t *source,
                        zs_strlist_t *out, char *err, size_t errlen)
{
    size_t from = out->size;
    if (!spec) {
        snprintf (err, errlen, "no universe");
        return -1;
    }
    if (strncmp (spec, "synthetic:", 10) == 0) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull (spec + 10, &end, 10);
        if (errno || end == spec + 10 || *end || spec[10] == '-' || n < 1
            || n > 10000000) {
            snprintf (err, errlen, "synthetic:N wants N in 1..10000000");
            return -1;
        }
        int width = n <= 1000000 ? 6 : 8;
        /* "S%0*llu", counted up by hand: snprintf per symbol was most of
           the cost of a large universe */
        char sym[16];
        sym[0] = 'S';
        memset (sym + 1, '0', (size_t) width);
        sym[1 + width] = 0;
        for (unsigned long long i = 0; i < n; i++) {
            if (i)
                for (int d = width; d >= 1 && ++sym[d] > '9'; d--)
                    sym[d] = '0';
            if (zs_strlist_push (out, sym) != 0) {
                snprintf (err, errlen, "out of memory");
                return -1;
            }
        }
        return 0;
    }
    if (strcmp (spec, "all") == 0)
        return zs_source_symbols (source, out, err, errlen);
    if (strncmp (spec, "list:", 5) == 0) {
        char *buf = strdup (spec + 5);
        if (!buf) {
            snprintf (err, errlen, "out of memory");
            return -1;
        }
        char *save = NULL;
        int rc = 0;
        for (char *tok = strtok_r (buf, ",", &save); tok && rc == 0;
             tok = strtok_r (NULL, ",", &save)) {
            while (*tok == ' ')
                tok++;
            size_t len = strlen (tok);
            while (len && tok[len - 1] == ' ')
                tok[--len] = 0;
            rc = s_push_checked (out, tok, err, errlen, "list");
        }
        free (buf);
        return rc == 0 ? s_no_duplicates (out, from, err, errlen) : -1;
    }
    if (strncmp (spec, "file:", 5) == 0) {
        int rc = zs_universe_file (spec + 5, ZS_LIST_FILE_MAX, out, err,
                                   errlen);
        return rc == 0 ? s_no_duplicates (out, from, err, errlen) : -1;
    }
    snprintf (err, errlen,
              "unknown universe '%.100s' (synthetic:N, all, file:PATH, "
              "list:A,B)",
              spec);
    return -1;
}
