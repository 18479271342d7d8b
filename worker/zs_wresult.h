/*  zs_wresult.h - a symbol's engine result as the fields of its wire
    result: what a lane publishes for each symbol (and what the cluster
    bench's worker floor encodes, so that it measures the same). */
#ifndef ZS_WRESULT_H
#define ZS_WRESULT_H

#include "zs_engine.h"
#include "zs_msg.h"

#include <math.h>

/*  Sets r's per-symbol fields (index, symbol, signal, score, time, price,
    values, error, note) from res, a result of scan; the task's fields and
    wseq are the caller's.  r points into res and scan: they must outlive
    its encoding. */
static inline void zs_wresult_fill (zs_result_t *r, const zs_scan_t *scan,
                                    uint64_t index, const char *symbol,
                                    const zs_symresult_t *res)
{
    r->index = index;
    r->symbol = symbol;
    r->signal = res->status == ZS_SYM_OK && res->signal;
    r->score = res->status == ZS_SYM_OK ? res->score : NAN;
    r->time = res->time[0] ? res->time : NULL;
    r->price = res->price;
    size_t nv = res->nvalues < ZS_VALUES_MAX ? res->nvalues : ZS_VALUES_MAX;
    r->nvalues = res->status == ZS_SYM_ERROR ? 0 : nv;
    for (size_t k = 0; k < r->nvalues; k++) {
        r->values[k].name = zs_scan_value_name (scan, k);
        r->values[k].value = res->values[k];
    }
    r->error = res->status == ZS_SYM_ERROR ? res->reason : NULL;
    r->note = res->status == ZS_SYM_SHORT ? res->reason : NULL;
}

#endif
