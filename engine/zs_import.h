/*  zs_import.h - `zscan import`: a binary store (zs_store.h) built from a
    directory of CSV files (zs_csv.c), above both: the store itself reads
    no CSV and opens no source. */
#ifndef ZS_IMPORT_H
#define ZS_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

/*  Builds a store at path from every SYMBOL.csv in dir (written to a
    temporary file and renamed into place).  A malformed CSV fails the
    import with its reason, unless skip_bad, which leaves it out with a
    warning on stderr.  Returns the number of symbols written, or -1 with
    a reason. */
long zs_store_import (const char *dir, const char *path, bool skip_bad,
                      char *err, size_t errlen);

#endif
