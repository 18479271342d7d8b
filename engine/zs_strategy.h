/*  zs_strategy.h - the built-in strategies, for the scan compiler
    (zs_scan.c); their names, default and parameters are public in
    zs_engine.h.  A strategy is a filter template (%1..%4 stand for its
    parameters), an optional extra term shown with its results, and a
    score that ranks its signals. */
#ifndef ZS_STRATEGY_H
#define ZS_STRATEGY_H

#include "zs_engine.h"

#include <stddef.h>

/*  A score from the terms' values (v[term][depth]: depth 0 the last bar),
    the strategy's parameters and the last close. */
typedef double (zs_score_fn) (const double *const *v, const double *params,
                              double price);

typedef struct {
    const char *name;
    const char *pnames[4];
    double defaults[4];
    const char *expr;       /* with %1..%4 replaced by the parameters    */
    const char *extra;      /* one more term shown and used by the score */
    zs_score_fn *score;
} zs_strategy_t;

/*  The built-in strategy called name, or NULL. */
const zs_strategy_t *zs_strategy_find (const char *name);

/*  tmpl with %1..%4 replaced by params (shortest exact form) into out. */
void zs_strategy_instantiate (const char *tmpl, const double *params,
                              char *out, size_t cap);

#endif
