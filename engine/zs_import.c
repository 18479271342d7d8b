/*  zs_import.c - see zs_import.h: a CSV directory, listed and read
    through its source, written as a store. */
#include "zs_import.h"
#include "zs_bars.h"
#include "zs_engine.h"
#include "zs_store.h"

#include <stdio.h>

static zs_bars_t *s_csv_loader (void *arg, const char *symbol, char *err,
                                size_t errlen)
{
    char file[4400];
    snprintf (file, sizeof file, "%s/%s.csv", (const char *) arg, symbol);
    return zs_csv_load (file, err, errlen);
}

long zs_store_import (const char *dir, const char *path, bool skip_bad,
                      char *err, size_t errlen)
{
    char uri[4200];
    snprintf (uri, sizeof uri, "csv:%s", dir);
    zs_source_t *src = zs_source_open (uri, 1, err, errlen);
    if (!src)
        return -1;
    zs_strlist_t syms = {0};
    long n = -1;
    if (zs_source_symbols (src, &syms, err, errlen) == 0) {
        if (syms.size == 0)
            snprintf (err, errlen, "%s: no SYMBOL.csv files", dir);
        else
            n = zs_store_write (path, (const char *const *) syms.items,
                                syms.size, s_csv_loader, (void *) dir,
                                skip_bad, err, errlen);
    }
    zs_strlist_clear (&syms);
    zs_source_destroy (&src);
    return n;
}
