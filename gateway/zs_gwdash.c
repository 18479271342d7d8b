/*  zs_gwdash.c - see zs_gwdash.h.  */
#include "zs_gwdash.h"
#include "zs_bars.h"
#include "zs_cache.h"
#include "zs_engine.h"
#include "zs_json.h"
#include "zs_term.h"

#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_SOURCES 4         /* sources kept open for charts              */
#define S_VALUES 8          /* indicators per chart                      */
#define S_BARS_MAX 5000

typedef struct {
    zs_source_t *src;
    long used;              /* last use (a counter), 0 = free slot       */
} s_open_t;

struct zs_gwdash_t {
    char www[PATH_MAX];
    char *data;             /* allowed non-synthetic URIs, comma-separated */
    zs_cache_t *cache;
    s_open_t open[S_SOURCES];
    long clock;
};

zs_gwdash_t *zs_gwdash_new (const char *www, const char *data,
                            size_t cache_mb)
{
    zs_gwdash_t *self = (zs_gwdash_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (www && *www)
        snprintf (self->www, sizeof self->www, "%s", www);
    else {
        char exe[PATH_MAX];
        ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        snprintf (self->www, sizeof self->www, "%s/../share/zscan/www",
                  dirname (exe));
    }
    self->data = strdup (data ? data : "");
    self->cache = zs_cache_new ((cache_mb ? cache_mb : 64) << 20);
    if (!self->data || !self->cache) {
        zs_gwdash_destroy (&self);
        return NULL;
    }
    return self;
}

void zs_gwdash_destroy (zs_gwdash_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_gwdash_t *self = *self_p;
    for (int i = 0; i < S_SOURCES; i++)
        zs_source_destroy (&self->open[i].src);
    zs_cache_destroy (&self->cache);
    free (self->data);
    free (self);
    *self_p = NULL;
}

const char *zs_gwdash_www (const zs_gwdash_t *self)
{
    return self->www;
}

/* ---------------------------------------------------------------------- */
/*  Files                                                                  */

static const struct {
    const char *ext;
    const char *mime;
} s_mimes[] = {{".html", "text/html; charset=utf-8"},
               {".js", "text/javascript; charset=utf-8"},
               {".css", "text/css; charset=utf-8"},
               {".svg", "image/svg+xml"},
               {".png", "image/png"},
               {".ico", "image/x-icon"},
               {".json", "application/json"},
               {NULL, NULL}};

int zs_gwdash_file (const zs_gwdash_t *self, const char *path, char *full,
                    size_t cap, const char **mime)
{
    const char *name;
    if (!strcmp (path, "/") || !strcmp (path, "/index.html"))
        name = "index.html";
    else if (!strncmp (path, "/assets/", 8))
        name = path + 8;
    else
        return -1;
    size_t len = strlen (name);
    if (!len || len > 64 || name[0] == '.')
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '.'
              || c == '-'))
            return -1;
    }
    *mime = NULL;
    for (int i = 0; s_mimes[i].ext; i++) {
        size_t el = strlen (s_mimes[i].ext);
        if (len > el && !strcmp (name + len - el, s_mimes[i].ext))
            *mime = s_mimes[i].mime;
    }
    if (!*mime)
        return -1;
    if ((size_t) snprintf (full, cap, "%s/%s", self->www, name) >= cap)
        return -1;
    return access (full, R_OK) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------------- */
/*  Strategies                                                             */

static void s_lit (zs_buf_t *out, const char *s)
{
    zs_buf_append (out, s, strlen (s));
}

static void s_num (zs_buf_t *out, double v)
{
    char b[40];
    if (!isfinite (v))
        s_lit (out, "null");
    else
        zs_buf_append (out, b, zs_json_double (v, b));
}

void zs_gwdash_strategies (zs_buf_t *out)
{
    s_lit (out, "{\"default\":");
    zs_json_string (out, zs_strategy_default ());
    s_lit (out, ",\"strategies\":[");
    const char *const *names = zs_strategy_names ();
    for (int i = 0; names[i]; i++) {
        zs_strategy_info_t info;
        if (zs_strategy_info (names[i], &info) != 0)
            continue;
        s_lit (out, i ? ",{\"name\":" : "{\"name\":");
        zs_json_string (out, names[i]);
        s_lit (out, ",\"params\":[");
        for (size_t k = 0; k < info.nparams; k++) {
            s_lit (out, k ? ",{\"name\":" : "{\"name\":");
            zs_json_string (out, info.pnames[k]);
            s_lit (out, ",\"default\":");
            s_num (out, info.defaults[k]);
            s_lit (out, "}");
        }
        s_lit (out, "],\"expression\":");
        zs_json_string (out, info.expression);
        s_lit (out, "}");
    }
    s_lit (out, "]}");
}

/* ---------------------------------------------------------------------- */
/*  Charts                                                                 */

/* True when charts may read uri: any synthetic source, or one listed. */
static bool s_allowed (const zs_gwdash_t *self, const char *uri)
{
    if (!strncmp (uri, "synthetic:", 10))
        return true;
    size_t len = strlen (uri);
    for (const char *p = self->data; *p;) {
        size_t n = strcspn (p, ",");
        if (n == len && !strncmp (p, uri, n))
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

static zs_source_t *s_source (zs_gwdash_t *self, const char *uri, char *err,
                              size_t errlen)
{
    int lru = 0;
    for (int i = 0; i < S_SOURCES; i++) {
        if (self->open[i].src
            && !strcmp (zs_source_uri (self->open[i].src), uri)) {
            self->open[i].used = ++self->clock;
            return self->open[i].src;
        }
        if (self->open[i].used < self->open[lru].used)
            lru = i;
    }
    zs_source_t *src = zs_source_open_in (uri, self->cache, err, errlen);
    if (!src)
        return NULL;
    zs_source_destroy (&self->open[lru].src);
    self->open[lru].src = src;
    self->open[lru].used = ++self->clock;
    return src;
}

static void s_column (zs_buf_t *out, const char *key, const double *v,
                      size_t from, size_t n)
{
    s_lit (out, ",\"");
    s_lit (out, key);
    s_lit (out, "\":[");
    for (size_t i = from; i < n; i++) {
        if (i > from)
            s_lit (out, ",");
        s_num (out, v[i]);
    }
    s_lit (out, "]");
}

int zs_gwdash_chart (zs_gwdash_t *self, const char *symbol, const char *data,
                     const char *values, size_t bars, zs_buf_t *out,
                     char *err, size_t errlen)
{
    if (!zs_symbol_valid (symbol)) {
        snprintf (err, errlen, "not a valid symbol");
        return 400;
    }
    char dflt[512];
    if (!data || !*data) {
        /* the first of the gateway's sources: the cluster's default */
        size_t n = strcspn (self->data, ",");
        snprintf (dflt, sizeof dflt, "%.*s", (int) n, self->data);
        data = dflt[0] ? dflt : "synthetic:";
    }
    if (!s_allowed (self, data)) {
        snprintf (err, errlen, "charts may read synthetic sources and the "
                               "gateway's --data sources only");
        return 403;
    }
    /* the indicators: names as results show them, ';'-separated */
    zs_term_t terms[S_VALUES];
    size_t nterms = 0;
    for (const char *p = values ? values : ""; *p;) {
        size_t n = strcspn (p, ";");
        if (n) {
            if (nterms == S_VALUES) {
                snprintf (err, errlen, "at most %d indicators", S_VALUES);
                return 400;
            }
            char name[128], why[200];
            if (n >= sizeof name) {
                snprintf (err, errlen, "an indicator name is too long");
                return 400;
            }
            memcpy (name, p, n);
            name[n] = 0;
            if (zs_term_parse (name, &terms[nterms], why, sizeof why) != 0) {
                snprintf (err, errlen, "%s: %s", name, why);
                return 400;
            }
            nterms++;
        }
        p += n + (p[n] == ';');
    }
    char why[512];
    zs_source_t *src = s_source (self, data, why, sizeof why);
    if (!src) {
        snprintf (err, errlen, "data source: %s", why);
        return 400;
    }
    zs_bars_ref_t ref;
    if (zs_source_load (src, symbol, &ref, why, sizeof why) != 0) {
        snprintf (err, errlen, "%s", why);
        return 404;
    }
    const zs_bars_t *b = ref.bars;
    size_t n = b->n;
    if (!bars || bars > S_BARS_MAX)
        bars = S_BARS_MAX;
    size_t from = n > bars ? n - bars : 0;
    double *series = (double *) malloc ((n ? n : 1) * sizeof *series);
    if (!series) {
        zs_bars_release (&ref);
        snprintf (err, errlen, "out of memory");
        return 503;
    }
    s_lit (out, "{\"symbol\":");
    zs_json_string (out, symbol);
    s_lit (out, ",\"data\":");
    zs_json_string (out, data);
    s_lit (out, ",\"time\":[");
    for (size_t i = from; i < n; i++) {
        if (i > from)
            s_lit (out, ",");
        zs_json_string (out, zs_bars_date (b, i));
    }
    s_lit (out, "]");
    s_column (out, "open", b->open, from, n);
    s_column (out, "high", b->high, from, n);
    s_column (out, "low", b->low, from, n);
    s_column (out, "close", b->close, from, n);
    s_column (out, "volume", b->volume, from, n);
    s_lit (out, ",\"series\":{");
    for (size_t k = 0; k < nterms; k++) {
        if (zs_term_series (&terms[k], b, series) != 0)
            for (size_t i = 0; i < n; i++)
                series[i] = NAN;
        if (k)
            s_lit (out, ",");
        zs_json_string (out, terms[k].name);
        s_lit (out, ":[");
        for (size_t i = from; i < n; i++) {
            if (i > from)
                s_lit (out, ",");
            s_num (out, series[i]);
        }
        s_lit (out, "]");
    }
    s_lit (out, "}}");
    free (series);
    zs_bars_release (&ref);
    return 200;
}
