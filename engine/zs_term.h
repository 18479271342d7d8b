/*  zs_term.h - indicator terms: what a compiled scan needs from each
    symbol's bars (an indicator with its periods), and their last values.  */
#ifndef ZS_TERM_H
#define ZS_TERM_H

#include "zs_bars.h"

#define ZS_TERM_DEPTH 3 /* values kept per term: t, t-1, t-2 */

typedef enum {
    ZS_T_CLOSE, ZS_T_OPEN, ZS_T_HIGH, ZS_T_LOW, ZS_T_VOLUME,
    ZS_T_SMA, ZS_T_EMA, ZS_T_RSI, ZS_T_ATR, ZS_T_ROC,
    ZS_T_HIGHEST, ZS_T_LOWEST, ZS_T_AVGVOL, ZS_T_VOLRATIO,
    ZS_T_MACD, ZS_T_MACD_SIGNAL, ZS_T_MACD_HIST,
    ZS_T_BB_UPPER, ZS_T_BB_MIDDLE, ZS_T_BB_LOWER
} zs_term_kind_t;

typedef struct {
    zs_term_kind_t kind;
    int p1, p2, p3;           /* periods (MACD: fast, slow, signal)      */
    double k;                 /* Bollinger width in standard deviations  */
    char name[ZS_VALUE_NAME_MAX + 1]; /* as results show it: "rsi(14)"   */
} zs_term_t;

/* Bars needed before the term is defined at the last bar. */
size_t zs_term_warmup (const zs_term_t *t);

/*  Whether the term reads the close column alone (not open, high, low or
    volume): a scan of such terms can run on bars holding close only. */
bool zs_term_close_only (const zs_term_t *t);

/*  Computes the term's values at the last ZS_TERM_DEPTH bars: out[0] at
    the last bar, out[1] one bar before...  NAN where undefined (all NAN
    when the term needs columns that b does not hold). */
void zs_term_eval (const zs_term_t *t, const zs_bars_t *b,
                   double out[ZS_TERM_DEPTH]);

/*  The term's value at every bar (out has b->n entries, NAN where
    undefined), from the indicator series of zs_bars.h (what `zscan
    indicators` prints): for charts.  -1 when out of memory. */
int zs_term_series (const zs_term_t *t, const zs_bars_t *b, double *out);

/*  Parses one indicator as results name it ("rsi(14)", "macd(12,26,9)",
    "close") with the scan compiler's own grammar.  0, or -1 with the
    reason (a position and what is wrong, or "not one indicator"). */
int zs_term_parse (const char *text, zs_term_t *t, char *err, size_t errlen);

#endif
