/*  zs_gwdash.h - what the dashboard needs from the gateway besides the
    scan API: its own files (served from a directory installed with
    zscan, never fetched from elsewhere), the strategy catalogue (each
    strategy's parameters and defaults, from the engine), and chart data
    (a symbol's bars and indicator series from a data source: the same
    numbers as `zscan indicators`).

    Used from the HTTP thread only.  A chart costs one symbol's bars (from
    a small bar cache of its own) and O(bars) per indicator.
*/
#ifndef ZS_GWDASH_H
#define ZS_GWDASH_H

#include "zs_msg.h"

#include <stddef.h>

typedef struct zs_gwdash_t zs_gwdash_t;

/*  www: the dashboard's directory (NULL: found next to the program,
    ../share/zscan/www, as built and as installed); data: the data sources
    charts may read besides synthetic ones (comma-separated URIs, the
    cluster's; the first is the one a chart reads when it names none);
    cache_mb: bars kept for charts. */
zs_gwdash_t *zs_gwdash_new (const char *www, const char *data,
                            size_t cache_mb);
void zs_gwdash_destroy (zs_gwdash_t **self_p);

/*  The directory served (for --help and logs). */
const char *zs_gwdash_www (const zs_gwdash_t *self);

/*  The file behind a request path ("/" is index.html; "/assets/NAME" is
    NAME in the directory; NAME is [A-Za-z0-9_.-], not starting with a
    dot): its full path into full, its content type into *mime.  0, or -1
    when the path is not one of the dashboard's files. */
int zs_gwdash_file (const zs_gwdash_t *self, const char *path, char *full,
                    size_t cap, const char **mime);

/*  GET /strategies: {"default": NAME, "strategies": [{"name", "params":
    [{"name", "default"}], "expression"}]}. */
void zs_gwdash_strategies (zs_buf_t *out);

/*  GET /chart/SYMBOL?data=URI&values=A;B&bars=N: {"symbol", "data",
    "time": [...], "open", "high", "low", "close", "volume", "series":
    {"A": [...], ...}} over the last N bars (default and most 5000),
    undefined values null.  Returns the HTTP status: 200 with out
    filled, or an error status with the reason in err (400 bad symbol or
    indicator, 403 a data source charts may not read, 404 no such
    symbol). */
int zs_gwdash_chart (zs_gwdash_t *self, const char *symbol, const char *data,
                     const char *values, size_t bars, zs_buf_t *out,
                     char *err, size_t errlen);

#endif
