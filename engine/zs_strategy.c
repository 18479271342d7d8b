/*  zs_strategy.c - the built-in strategies (see zs_strategy.h): each a
    filter template over up to four parameters, an extra term some show,
    and the score that ranks a signal. */
#include "zs_strategy.h"

#include <stdio.h>
#include <string.h>

static double s_score_oversold (const double *const *v, const double *p,
                                double price)
{
    (void) price;
    return p[1] - v[0][0];
}

static double s_score_overbought (const double *const *v, const double *p,
                                  double price)
{
    (void) price;
    return v[0][0] - p[1];
}

static double s_score_diff_pct_price (const double *const *v,
                                      const double *p, double price)
{
    (void) p;
    return price > 0 ? 100.0 * (v[0][0] - v[1][0]) / price : 0;
}

static double s_score_rdiff_pct_price (const double *const *v,
                                       const double *p, double price)
{
    (void) p;
    return price > 0 ? 100.0 * (v[1][0] - v[0][0]) / price : 0;
}

static double s_score_spread_pct (const double *const *v, const double *p,
                                  double price)
{
    (void) p, (void) price;
    return v[1][0] != 0 ? 100.0 * (v[0][0] - v[1][0]) / v[1][0] : 0;
}

static double s_score_rspread_pct (const double *const *v, const double *p,
                                   double price)
{
    (void) p, (void) price;
    return v[1][0] != 0 ? 100.0 * (v[1][0] - v[0][0]) / v[1][0] : 0;
}

static double s_score_bands (const double *const *v, const double *p,
                             double price)
{
    (void) p;
    /* terms: close, bb_upper, bb_middle: band widths above the upper */
    double width = v[1][0] - v[2][0];
    return width > 0 ? (price - v[1][0]) / width : 0;
}

static double s_score_surge (const double *const *v, const double *p,
                             double price)
{
    (void) p, (void) price;
    return v[1][0] > 0 ? v[0][0] / v[1][0] : 0;
}

static double s_score_high (const double *const *v, const double *p,
                            double price)
{
    (void) p, (void) price;
    /* terms: high, highest: how far above the previous 52-week high */
    return v[1][1] > 0 ? 100.0 * (v[0][0] / v[1][1] - 1) : 0;
}

static const zs_strategy_t s_strategies[] = {
    {"rsi_oversold", {"period", "threshold"}, {14, 30},
     "rsi(%1) < %2", NULL, s_score_oversold},
    {"rsi_overbought", {"period", "threshold"}, {14, 70},
     "rsi(%1) > %2", NULL, s_score_overbought},
    {"macd_cross_up", {"fast", "slow", "signal"}, {12, 26, 9},
     "crosses_above(macd(%1,%2,%3), macd_signal(%1,%2,%3))", NULL,
     s_score_diff_pct_price},
    {"macd_cross_down", {"fast", "slow", "signal"}, {12, 26, 9},
     "crosses_below(macd(%1,%2,%3), macd_signal(%1,%2,%3))", NULL,
     s_score_rdiff_pct_price},
    {"golden_cross", {"fast", "slow"}, {50, 200},
     "crosses_above(sma(%1), sma(%2))", NULL, s_score_spread_pct},
    {"death_cross", {"fast", "slow"}, {50, 200},
     "crosses_below(sma(%1), sma(%2))", NULL, s_score_rspread_pct},
    {"bollinger_breakout", {"period", "k"}, {20, 2},
     "close > bb_upper(%1, %2)", "bb_middle(%1)", s_score_bands},
    {"volume_surge", {"period", "ratio"}, {20, 2},
     "volume > %2 * avgvol(%1)", NULL, s_score_surge},
    {"new_high_52w", {"period"}, {252},
     "high >= highest(%1) and high > prev(highest(%1))", NULL,
     s_score_high},
    {NULL, {NULL}, {0}, NULL, NULL, NULL}};

static const char *s_names[] = {
    "rsi_oversold",  "rsi_overbought", "macd_cross_up",
    "macd_cross_down", "golden_cross", "death_cross",
    "bollinger_breakout", "volume_surge", "new_high_52w", NULL};

const zs_strategy_t *zs_strategy_find (const char *name)
{
    for (const zs_strategy_t *st = s_strategies; st->name; st++)
        if (strcmp (st->name, name) == 0)
            return st;
    return NULL;
}

const char *const *zs_strategy_names (void)
{
    return s_names;
}

const char *zs_strategy_default (void)
{
    return "rsi_oversold";
}

/*  Writes tmpl with %1..%4 replaced by params into out. */
void zs_strategy_instantiate (const char *tmpl, const double *params,
                              char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = tmpl; *p && n + 32 < cap; p++) {
        if (*p == '%' && p[1] >= '1' && p[1] <= '4') {
            n += (size_t) snprintf (out + n, cap - n, "%.17g",
                                    params[p[1] - '1']);
            p++;
        }
        else
            out[n++] = *p;
    }
    out[n] = 0;
}


int zs_strategy_info (const char *name, zs_strategy_info_t *info)
{
    const zs_strategy_t *st = zs_strategy_find (name);
    if (!st)
        return -1;
    memset (info, 0, sizeof *info);
    for (int k = 0; k < 4 && st->pnames[k]; k++) {
        info->pnames[k] = st->pnames[k];
        info->defaults[k] = st->defaults[k];
        info->nparams++;
    }
    zs_strategy_instantiate (st->expr, st->defaults, info->expression,
                   sizeof info->expression);
    return 0;
}
