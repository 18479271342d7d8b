/*  test_engine.c - the scan engine: indicators against hand-computed values
    and every edge case of INDICATORS.md; the scan path bit-identical to
    the full series; every strategy against its definition on thousands of
    synthetic symbols; the filter language (values, and bad expressions
    with their exact position and reason); CSV files, good and malformed;
    universes; synthetic determinism. */
#include "zs_bars.h"
#include "zs_cache.h"
#include "zs_import.h"
#include "zs_kernels.h"
#include "zs_store.h"
#include "zs_term.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zs_test.h"

static bool s_eq (double a, double b)
{
    return (isnan (a) && isnan (b)) || fabs (a - b) <= 1e-12 * fmax (1, fabs (b));
}

static void s_expect (const char *what, const double *got, const double *want,
                      size_t n)
{
    for (size_t i = 0; i < n; i++)
        CHECK (s_eq (got[i], want[i]), "%s[%zu] = %.17g, want %.17g", what, i,
               got[i], want[i]);
}

#define NA NAN
#ifndef ZS_SYNTH_GOLDEN
#define ZS_SYNTH_GOLDEN 0ULL
#endif

/* ---------------------------------------------------------------------- */

static zs_bars_t *s_bars (size_t n, const double *c, const double *h,
                          const double *l, const double *v)
{
    zs_bars_t *b = zs_bars_new (n);
    for (size_t i = 0; i < n; i++) {
        b->close[i] = c[i];
        b->open[i] = c[i];
        b->high[i] = h ? h[i] : c[i];
        b->low[i] = l ? l[i] : c[i];
        b->volume[i] = v ? v[i] : 1000;
        snprintf (b->dates + i * ZS_DATE_SLOT, ZS_DATE_SLOT, "2024-01-%02zu",
                  i + 1);
    }
    return b;
}

static void test_indicators (void)
{
    double out[8], a[8], b[8], c[8];
    const double x[] = {1, 2, 3, 4, 5};
    zs_ind_sma (x, 5, 3, out);
    s_expect ("sma3", out, (double[]){NA, NA, 2, 3, 4}, 5);
    zs_ind_sma (x, 2, 3, out);
    s_expect ("sma3 short", out, (double[]){NA, NA}, 2);
    /* EMA(3): alpha 0.5, seeded with mean(1,2,3) at bar 2 */
    zs_ind_ema (x, 5, 3, out);
    s_expect ("ema3", out, (double[]){NA, NA, 2, 3, 4}, 5);
    const double y[] = {2, 4, 8, 16, 32};
    zs_ind_ema (y, 5, 3, out);
    s_expect ("ema3 b", out, (double[]){NA, NA, 14.0 / 3, 14.0 / 3 / 2 + 8,
                                        (14.0 / 6 + 8) / 2 + 16},
              5);
    /* RSI(2) on 1,2,1,2,3: seed 0.5/0.5 at bar 2, Wilder alpha 0.5 */
    const double r[] = {1, 2, 1, 2, 3};
    zs_ind_rsi (r, 5, 2, out);
    s_expect ("rsi2", out, (double[]){NA, NA, 50, 75, 87.5}, 5);
    /* flat: undefined while every change is zero, 100 after only rises */
    const double flat[] = {5, 5, 5, 5, 6, 6};
    zs_ind_rsi (flat, 6, 2, out);
    s_expect ("rsi flat", out, (double[]){NA, NA, NA, NA, 100, 100}, 6);
    /* ROC as a fraction; undefined over a zero close */
    const double q[] = {1, 2, 0, 8, 4, 5};
    zs_ind_roc (q, 6, 2, out);
    s_expect ("roc2", out, (double[]){NA, NA, -1, 3, NA, -0.375}, 6);
    /* window includes bar t */
    const double hh[] = {3, 1, 4, 1, 5, 9};
    zs_ind_highest (hh, 6, 3, out);
    s_expect ("highest3", out, (double[]){NA, NA, 4, 4, 5, 9}, 6);
    zs_ind_lowest (hh, 6, 3, out);
    s_expect ("lowest3", out, (double[]){NA, NA, 1, 1, 1, 1}, 6);
    /* population standard deviation: the classic 2,4,4,4,5,5,7,9 -> 2 */
    const double sd[] = {2, 4, 4, 4, 5, 5, 7, 9};
    zs_ind_stdev (sd, 8, 8, out);
    CHECK (out[7] == 2, "population sd = %.17g", out[7]);
    zs_ind_bbands (sd, 8, 8, 2, a, b, c);
    CHECK (b[7] == 5 && c[7] == 9 && a[7] == 1 && isnan (a[6]),
           "bbands %g %g %g", a[7], b[7], c[7]);
    /* all-flat window: bands equal the middle */
    const double f5[] = {7, 7, 7};
    zs_ind_bbands (f5, 3, 3, 2, a, b, c);
    CHECK (a[2] == 7 && b[2] == 7 && c[2] == 7, "flat bands");
    /* accurate at high prices with small moves */
    double hp[40];
    for (int i = 0; i < 40; i++)
        hp[i] = 1e6 + (i % 2 ? 0.001 : -0.001);
    double big[40];
    zs_ind_stdev (hp, 40, 20, big);
    CHECK (fabs (big[39] - 0.001) < 1e-9, "sd at 1e6: %.17g", big[39]);
    /* MACD(2,3,2) on 1..6: lines 0.5 from bar 2, signal from bar 3 */
    const double m[] = {1, 2, 3, 4, 5, 6};
    double line[6], sig[6], hist[6];
    zs_ind_macd (m, 6, 2, 3, 2, line, sig, hist);
    s_expect ("macd", line, (double[]){NA, NA, 0.5, 0.5, 0.5, 0.5}, 6);
    s_expect ("macd signal", sig, (double[]){NA, NA, NA, 0.5, 0.5, 0.5}, 6);
    s_expect ("macd hist", hist, (double[]){NA, NA, NA, 0, 0, 0}, 6);
    /* ATR(2): TR from bar 1, Wilder seeded with mean TR of bars 1..2 */
    const double cc[] = {10, 11, 12, 11}, hi[] = {10, 12, 13, 12},
                 lo[] = {10, 10, 11, 9};
    zs_bars_t *bb = s_bars (4, cc, hi, lo, NULL);
    zs_ind_atr (bb, 2, out);
    /* TR: bar1 max(12,10)-min(10,10)=2, bar2 13-11=2, bar3 12-9=3 */
    s_expect ("atr2", out, (double[]){NA, NA, 2, 2.5}, 4);
    zs_bars_destroy (&bb);
    /* zero volume: avgvol 0, volume ratio undefined */
    const double zv[] = {0, 0, 0};
    zs_bars_t *zb = s_bars (3, x, NULL, NULL, zv);
    zs_term_t t = {0};
    t.kind = ZS_T_VOLRATIO;
    t.p1 = 2;
    double v3[ZS_TERM_DEPTH];
    zs_term_eval (&t, zb, v3);
    CHECK (isnan (v3[0]), "volume ratio over zero volume is undefined");
    t.kind = ZS_T_AVGVOL;
    zs_term_eval (&t, zb, v3);
    CHECK (v3[0] == 0, "avgvol of zero volume is 0");
    zs_bars_destroy (&zb);
}

/* The scan path (last values) is bit-identical to the full series. */
static void test_terms_match_series (void)
{
    char err[256];
    zs_source_t *src = zs_source_open ("synthetic:bars=400", 0, err,
                                       sizeof err);
    CHECK (src != NULL, "open: %s", err);
    zs_term_t terms[] = {
        {ZS_T_SMA, 50, 0, 0, 0, ""},   {ZS_T_EMA, 12, 0, 0, 0, ""},
        {ZS_T_EMA, 26, 0, 0, 0, ""},   {ZS_T_RSI, 14, 0, 0, 0, ""},
        {ZS_T_ATR, 14, 0, 0, 0, ""},   {ZS_T_ROC, 10, 0, 0, 0, ""},
        {ZS_T_HIGHEST, 252, 0, 0, 0, ""}, {ZS_T_LOWEST, 252, 0, 0, 0, ""},
        {ZS_T_AVGVOL, 20, 0, 0, 0, ""}, {ZS_T_MACD, 12, 26, 9, 0, ""},
        {ZS_T_MACD_SIGNAL, 12, 26, 9, 0, ""},
        {ZS_T_MACD_HIST, 12, 26, 9, 0, ""},
        {ZS_T_BB_UPPER, 20, 0, 0, 2, ""}, {ZS_T_BB_LOWER, 20, 0, 0, 2, ""},
        {ZS_T_BB_MIDDLE, 20, 0, 0, 2, ""}};
    size_t nt = sizeof terms / sizeof terms[0];
    double *s1 = (double *) malloc (400 * sizeof (double));
    double *s2 = (double *) malloc (400 * sizeof (double));
    double *s3 = (double *) malloc (400 * sizeof (double));
    int mismatches = 0;
    for (int k = 0; k < 200; k++) {
        char sym[16];
        snprintf (sym, sizeof sym, "S%06d", k);
        zs_bars_ref_t ref;
        zs_source_load (src, sym, &ref, err, sizeof err);
        const zs_bars_t *b = ref.bars;
        size_t n = b->n;
        for (size_t i = 0; i < nt; i++) {
            const zs_term_t *t = &terms[i];
            double *full = s1;
            switch (t->kind) {
            case ZS_T_SMA: zs_ind_sma (b->close, n, 50, full); break;
            case ZS_T_EMA: zs_ind_ema (b->close, n, (size_t) t->p1, full); break;
            case ZS_T_RSI: zs_ind_rsi (b->close, n, 14, full); break;
            case ZS_T_ATR: zs_ind_atr (b, 14, full); break;
            case ZS_T_ROC: zs_ind_roc (b->close, n, 10, full); break;
            case ZS_T_HIGHEST: zs_ind_highest (b->high, n, 252, full); break;
            case ZS_T_LOWEST: zs_ind_lowest (b->low, n, 252, full); break;
            case ZS_T_AVGVOL: zs_ind_sma (b->volume, n, 20, full); break;
            case ZS_T_MACD: zs_ind_macd (b->close, n, 12, 26, 9, s1, s2, s3); break;
            case ZS_T_MACD_SIGNAL:
                zs_ind_macd (b->close, n, 12, 26, 9, s2, s1, s3);
                break;
            case ZS_T_MACD_HIST:
                zs_ind_macd (b->close, n, 12, 26, 9, s2, s3, s1);
                break;
            case ZS_T_BB_UPPER: zs_ind_bbands (b->close, n, 20, 2, s2, s3, s1); break;
            case ZS_T_BB_LOWER: zs_ind_bbands (b->close, n, 20, 2, s1, s3, s2); break;
            case ZS_T_BB_MIDDLE: zs_ind_bbands (b->close, n, 20, 2, s2, s1, s3); break;
            default: break;
            }
            double last[ZS_TERM_DEPTH];
            zs_term_eval (t, b, last);
            for (int d = 0; d < ZS_TERM_DEPTH; d++) {
                double want = full[n - 1 - d];
                bool same = (isnan (want) && isnan (last[d]))
                            || memcmp (&want, &last[d], sizeof want) == 0;
                if (!same && mismatches++ < 5)
                    CHECK (same, "%s term %zu depth %d: %.17g vs %.17g", sym,
                           i, d, last[d], want);
            }
        }
        zs_bars_release (&ref);
    }
    CHECK (mismatches == 0, "%d term values differ from the series",
           mismatches);
    free (s1);
    free (s2);
    free (s3);
    zs_source_destroy (&src);
}

/* ---------------------------------------------------------------------- */
/*  Strategies against their definitions                                   */

typedef struct {
    const char *strategy;
    int (*expect) (const zs_bars_t *b); /* 1 signal, 0 not */
} s_strat_case_t;

static double *s_tmp (size_t n)
{
    return (double *) malloc ((n ? n : 1) * sizeof (double));
}

static int e_rsi_oversold (const zs_bars_t *b)
{
    double *r = s_tmp (b->n);
    zs_ind_rsi (b->close, b->n, 14, r);
    int s = r[b->n - 1] < 30;
    free (r);
    return s;
}
static int e_rsi_overbought (const zs_bars_t *b)
{
    double *r = s_tmp (b->n);
    zs_ind_rsi (b->close, b->n, 14, r);
    int s = r[b->n - 1] > 70;
    free (r);
    return s;
}
static int s_cross (const double *a, const double *c, size_t n, bool up)
{
    double a0 = a[n - 1], a1 = a[n - 2], c0 = c[n - 1], c1 = c[n - 2];
    if (isnan (a0) || isnan (a1) || isnan (c0) || isnan (c1))
        return 0;
    return up ? (a1 <= c1 && a0 > c0) : (a1 >= c1 && a0 < c0);
}
static int e_macd (const zs_bars_t *b, bool up)
{
    double *l = s_tmp (b->n), *s = s_tmp (b->n), *h = s_tmp (b->n);
    zs_ind_macd (b->close, b->n, 12, 26, 9, l, s, h);
    int r = s_cross (l, s, b->n, up);
    free (l), free (s), free (h);
    return r;
}
static int e_macd_up (const zs_bars_t *b) { return e_macd (b, true); }
static int e_macd_down (const zs_bars_t *b) { return e_macd (b, false); }
static int e_sma_cross (const zs_bars_t *b, bool up)
{
    double *f = s_tmp (b->n), *s = s_tmp (b->n);
    zs_ind_sma (b->close, b->n, 50, f);
    zs_ind_sma (b->close, b->n, 200, s);
    int r = s_cross (f, s, b->n, up);
    free (f), free (s);
    return r;
}
static int e_golden (const zs_bars_t *b) { return e_sma_cross (b, true); }
static int e_death (const zs_bars_t *b) { return e_sma_cross (b, false); }
static int e_bollinger (const zs_bars_t *b)
{
    double *lo = s_tmp (b->n), *mid = s_tmp (b->n), *up = s_tmp (b->n);
    zs_ind_bbands (b->close, b->n, 20, 2, lo, mid, up);
    int r = b->close[b->n - 1] > up[b->n - 1];
    free (lo), free (mid), free (up);
    return r;
}
static int e_surge (const zs_bars_t *b)
{
    double *av = s_tmp (b->n);
    zs_ind_sma (b->volume, b->n, 20, av);
    int r = b->volume[b->n - 1] > 2 * av[b->n - 1];
    free (av);
    return r;
}
static int e_high52 (const zs_bars_t *b)
{
    double *h = s_tmp (b->n);
    zs_ind_highest (b->high, b->n, 252, h);
    size_t t = b->n - 1;
    int r = !isnan (h[t - 1]) && b->high[t] >= h[t] && b->high[t] > h[t - 1];
    free (h);
    return r;
}

static const s_strat_case_t s_strat_cases[] = {
    {"rsi_oversold", e_rsi_oversold},  {"rsi_overbought", e_rsi_overbought},
    {"macd_cross_up", e_macd_up},      {"macd_cross_down", e_macd_down},
    {"golden_cross", e_golden},        {"death_cross", e_death},
    {"bollinger_breakout", e_bollinger}, {"volume_surge", e_surge},
    {"new_high_52w", e_high52},        {NULL, NULL}};

typedef struct {
    const zs_source_t *src;
    int (*expect) (const zs_bars_t *b);
    zs_source_t *source;
    int signals, mismatches;
    const char *name;
    size_t values;
} s_strat_ctx_t;

static int s_strat_emit (void *arg, size_t i, const char *sym,
                         const zs_symresult_t *r)
{
    (void) i;
    s_strat_ctx_t *c = (s_strat_ctx_t *) arg;
    zs_bars_ref_t ref;
    char err[256];
    zs_source_load (c->source, sym, &ref, err, sizeof err);
    int want = c->expect (ref.bars);
    zs_bars_release (&ref);
    if (r->status != ZS_SYM_OK || (int) r->signal != want) {
        if (c->mismatches++ < 3)
            CHECK (0, "%s %s: signal %d, definition says %d (status %d %s)",
                   c->name, sym, r->signal, want, r->status, r->reason);
    }
    c->signals += r->signal;
    if (r->signal)
        CHECK (isfinite (r->score), "%s %s: signal without a score", c->name,
               sym);
    c->values = r->nvalues;
    return 0;
}

static void test_strategies (void)
{
    char err[512];
    zs_source_t *src = zs_source_open ("synthetic:bars=300", 0, err,
                                       sizeof err);
    zs_strlist_t syms = {0};
    zs_universe_expand ("synthetic:3000", src, &syms, err, sizeof err);
    zs_scanner_t *sc = zs_scanner_new ();
    for (const s_strat_case_t *c = s_strat_cases; c->strategy; c++) {
        zs_scan_t *scan = zs_scan_compile (c->strategy, NULL, NULL, 0, NULL,
                                           err, sizeof err);
        CHECK (scan != NULL, "%s: %s", c->strategy, err);
        if (!scan)
            continue;
        s_strat_ctx_t ctx = {0};
        ctx.expect = c->expect;
        ctx.source = src;
        ctx.name = c->strategy;
        zs_scanner_run (sc, scan, src, (const char *const *) syms.items,
                        syms.size, s_strat_emit, &ctx);
        CHECK (ctx.mismatches == 0, "%s: %d symbols disagree", c->strategy,
               ctx.mismatches);
        CHECK (ctx.signals > 0 && ctx.signals < 3000,
               "%s: %d signals of 3000 (want some, not all)", c->strategy,
               ctx.signals);
        CHECK (ctx.values >= 1, "%s reports its indicator values",
               c->strategy);
        printf ("strategy %-18s %4d signals of 3000\n", c->strategy,
                ctx.signals);
        zs_scan_destroy (&scan);
    }
    /* parameters: a threshold of 100 makes every defined RSI a signal */
    const char *pn[] = {"threshold"};
    double pv[] = {100};
    zs_scan_t *scan = zs_scan_compile ("rsi_oversold", pn, pv, 1, NULL, err,
                                       sizeof err);
    CHECK (scan && zs_scan_nvalues (scan) == 1
               && strcmp (zs_scan_value_name (scan, 0), "rsi(14)") == 0,
           "rsi_oversold reports rsi(14)");
    zs_scan_destroy (&scan);
    /* errors */
    const char *bad[] = {"colour"};
    CHECK (!zs_scan_compile ("rsi_oversold", bad, pv, 1, NULL, err,
                             sizeof err)
               && strstr (err, "rsi_oversold has no parameter 'colour' (it "
                               "takes: period, threshold)"),
           "unknown parameter: %s", err);
    const char *per[] = {"period"};
    double frac[] = {2.5};
    CHECK (!zs_scan_compile ("rsi_oversold", per, frac, 1, NULL, err,
                             sizeof err)
               && strstr (err, "period must be a whole number"),
           "fractional period: %s", err);
    CHECK (!zs_scan_compile ("moon_phase", NULL, NULL, 0, NULL, err,
                             sizeof err)
               && strstr (err, "unknown strategy 'moon_phase'"),
           "unknown strategy: %s", err);
    int n = 0;
    for (const char *const *s = zs_strategy_names (); *s; s++)
        n++;
    CHECK (n == 9, "nine strategies (%d)", n);
    zs_scanner_destroy (&sc);
    zs_strlist_clear (&syms);
    zs_source_destroy (&src);
}

/* ---------------------------------------------------------------------- */
/*  The filter language                                                    */

typedef struct {
    const char *expr;
    const char *error; /* NULL: valid */
} s_expr_case_t;

static const s_expr_case_t s_exprs[] = {
    {"rsi(14) < 30 and close > sma(200) and volume > 2 * avgvol(20)", NULL},
    {"crosses_above(ema(12), ema(26)) or crosses_below(macd, macd_signal)",
     NULL},
    {"not (close < open) and (high - low) / close > 0.01", NULL},
    {"RSI(14) < 30 AND Close > SMA(50)", NULL},
    {"close > prev(close) and prev(high) < high", NULL},
    {"bb_upper(20, 2.5) > close and roc(10) > -0.05", NULL},
    {"macd(5,35,5) > macd_signal(5,35,5) and volratio(20) >= 1.5", NULL},
    {"atr(14) / close < 0.05 and highest(252) > lowest(252)", NULL},
    {"", "position 1: empty expression"},
    {"rsi(14) <", "position 10: unexpected end of expression"},
    {"rsi(14 < 30", "position 8: expected ')' after the arguments of rsi"},
    {"rsi < 30", "position 5: rsi needs a period, e.g. rsi(14)"},
    {"sma(0) > 1", "position 5: sma: period must be a whole number"},
    {"sma(2.5) > 1", "position 5: sma: period must be a whole number"},
    {"foo(3) > 1", "position 1: unknown name 'foo'"},
    {"close > > 1", "position 9: unexpected '>'"},
    {"close > 1 junk", "position 11: unexpected 'junk' after the expression"},
    {"(close > 1", "position 11: expected ')'"},
    {"and close", "position 1: 'and' needs an operand before it"},
    {"crosses_above(close)", "position 20: crosses_above takes two arguments"},
    {"close > 1 @", "position 11: unexpected '@' after the expression"},
    {"prev(prev(prev(close))) > 1",
     "position 1: looks back more than 2 bars"},
    {NULL, NULL}};

typedef struct {
    bool signal;
    zs_sym_status_t status;
    char reason[ZS_REASON_MAX + 1];
} s_one_t;

static int s_one_emit (void *arg, size_t i, const char *sym,
                       const zs_symresult_t *r)
{
    (void) i, (void) sym;
    s_one_t *o = (s_one_t *) arg;
    o->signal = r->signal;
    o->status = r->status;
    snprintf (o->reason, sizeof o->reason, "%s", r->reason);
    return 0;
}

static void test_expressions (void)
{
    char err[512];
    for (const s_expr_case_t *c = s_exprs; c->expr; c++) {
        zs_scan_t *scan = zs_scan_compile (NULL, NULL, NULL, 0, c->expr, err,
                                           sizeof err);
        if (!c->error)
            CHECK (scan != NULL, "'%s' should compile: %s", c->expr, err);
        else
            CHECK (!scan && strstr (err, c->error),
                   "'%s': got '%s', want '%s'", c->expr, scan ? "(ok)" : err,
                   c->error);
        zs_scan_destroy (&scan);
    }
    /* values: a filter agrees with the reference series on real bars */
    zs_source_t *src = zs_source_open ("synthetic:bars=300", 0, err,
                                       sizeof err);
    zs_scan_t *scan = zs_scan_compile (
        NULL, NULL, NULL, 0,
        "rsi(14) < 50 and close > sma(50) or volume > 2 * avgvol(20)", err,
        sizeof err);
    CHECK (scan && zs_scan_nvalues (scan) == 5, "five terms: %zu",
           scan ? zs_scan_nvalues (scan) : 0);
    zs_scanner_t *sc = zs_scanner_new ();
    int signals = 0, disagree = 0;
    for (int k = 0; k < 500 && scan; k++) {
        char sym[16];
        snprintf (sym, sizeof sym, "S%06d", k);
        zs_bars_ref_t ref;
        zs_source_load (src, sym, &ref, err, sizeof err);
        const zs_bars_t *b = ref.bars;
        double *r = s_tmp (b->n), *s = s_tmp (b->n), *v = s_tmp (b->n);
        zs_ind_rsi (b->close, b->n, 14, r);
        zs_ind_sma (b->close, b->n, 50, s);
        zs_ind_sma (b->volume, b->n, 20, v);
        size_t t = b->n - 1;
        bool want = (r[t] < 50 && b->close[t] > s[t])
                    || b->volume[t] > 2 * v[t];
        free (r), free (s), free (v);
        zs_bars_release (&ref);
        const char *one[] = {sym};
        s_one_t got = {0};
        zs_scanner_run (sc, scan, src, one, 1, s_one_emit, &got);
        if (got.signal != want)
            disagree++;
        signals += want;
    }
    CHECK (disagree == 0, "filter disagrees on %d symbols", disagree);
    CHECK (signals > 0 && signals < 500, "%d signals of 500", signals);
    /* undefined is false in every comparison: too short for sma(200) */
    zs_source_t *shortsrc = zs_source_open ("synthetic:bars=100", 0, err,
                                            sizeof err);
    zs_scan_t *nots = zs_scan_compile (NULL, NULL, NULL, 0,
                                       "not (close > sma(200))", err,
                                       sizeof err);
    const char *one[] = {"S000001"};
    s_one_t got = {0};
    zs_scanner_run (sc, nots, shortsrc, one, 1, s_one_emit, &got);
    CHECK (got.status == ZS_SYM_SHORT && !got.signal
               && strstr (got.reason, "insufficient history"),
           "short history: status %d '%s'", got.status, got.reason);
    zs_scan_destroy (&nots);
    zs_source_destroy (&shortsrc);
    zs_scanner_destroy (&sc);
    zs_scan_destroy (&scan);
    zs_source_destroy (&src);
}

/* ---------------------------------------------------------------------- */
/*  CSV files                                                              */

static char s_dir[256];

static void s_write_in (const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, "wb");
    fputs (text, f);
    fclose (f);
}

static void s_write (const char *name, const char *text)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen (path, "wb");
    fputs (text, f);
    fclose (f);
}

typedef struct {
    const char *symbol;
    const char *text;
    const char *error;  /* NULL: loads */
} s_csv_case_t;

static const s_csv_case_t s_csvs[] = {
    {"PLAIN", "Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,1000\n"
              "2024-01-03,10.5,12,10,11,2000\n", NULL},
    {"CRLF", "Date,Open,High,Low,Close,Adj Close,Volume\r\n"
             "2024-01-02,10,11,9,10.5,10.4,1000\r\n"
             "2024-01-03,10.5,12,10,11,10.9,2000\r\n", NULL},
    {"QUOTED", "\"date\",\"OPEN\",\"High\",\"low\",\"Close\",\"volume\"\n"
               "\"2024-01-02\",\"10\",\"11\",\"9\",\"10.5\",\"1000\"\n"
               "\"2024-01-03\",\"10.5\",\"12\",\"10\",\"11\",\"2000\"\n",
     NULL},
    {"DESC", "Date,Open,High,Low,Close,Volume\n2024-01-03,10.5,12,10,11,2000\n"
             "2024-01-02,10,11,9,10.5,1000\n", NULL},
    {"ORDER", "Volume,Close,Low,High,Open,Date\n1000,10.5,9,11,10,2024-01-02\n"
              "2000,11,10,12,10.5,2024-01-03\n", NULL},
    {"NAN", "Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,abc,1000\n",
     "NAN.csv:2: close 'abc' is not a number"},
    {"SHORT", "Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,1000\n"
              "2024-01-03,10.5,12\n",
     "SHORT.csv:3: short row (3 of 6 columns)"},
    {"HILO", "Date,Open,High,Low,Close,Volume\n2024-01-02,10,9,11,10,1000\n",
     "HILO.csv:2: high 9 is below low 11"},
    {"EMPTY", "Date,Open,High,Low,Close,Volume\n",
     "EMPTY.csv: no rows after the header"},
    {"NOTHING", "", "NOTHING.csv: empty file (no header)"},
    {"NOCOL", "Date,Open,High,Low,Close\n2024-01-02,10,11,9,10.5\n",
     "NOCOL.csv:1: header has no 'volume' column"},
    {"INF", "Date,Open,High,Low,Close,Volume\n2024-01-02,10,inf,9,10,5\n",
     "INF.csv:2: high 'inf' is not a number"},
    {"NEGVOL", "Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10,-5\n",
     "NEGVOL.csv:2: negative volume"},
    {NULL, NULL, NULL}};

static void test_csv (void)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/zs_csv_test_%d", (int) getpid ());
    mkdir (s_dir, 0700);
    for (const s_csv_case_t *c = s_csvs; c->symbol; c++) {
        char name[64];
        snprintf (name, sizeof name, "%s.csv", c->symbol);
        s_write (name, c->text);
    }
    char uri[300], err[512];
    snprintf (uri, sizeof uri, "csv:%s", s_dir);
    zs_source_t *src = zs_source_open (uri, 0, err, sizeof err);
    CHECK (src != NULL, "open %s: %s", uri, err);
    for (const s_csv_case_t *c = s_csvs; c->symbol && src; c++) {
        zs_bars_ref_t ref;
        err[0] = 0;
        int rc = zs_source_load (src, c->symbol, &ref, err, sizeof err);
        if (c->error) {
            CHECK (rc == -1 && strstr (err, c->error), "%s: '%s', want '%s'",
                   c->symbol, rc ? err : "(loaded)", c->error);
            continue;
        }
        CHECK (rc == 0, "%s: %s", c->symbol, err);
        if (rc)
            continue;
        const zs_bars_t *b = ref.bars;
        CHECK (b->n == 2 && b->close[0] == 10.5 && b->close[1] == 11
                   && b->high[1] == 12 && b->low[0] == 9
                   && b->volume[1] == 2000
                   && strcmp (zs_bars_date (b, 0), "2024-01-02") == 0,
               "%s: values", c->symbol);
        zs_bars_release (&ref);
    }
    /* the universe of every symbol the directory holds, sorted */
    zs_strlist_t all = {0};
    CHECK (zs_universe_expand ("all", src, &all, err, sizeof err) == 0
               && all.size == 13 && strcmp (all.items[0], "CRLF") == 0,
           "all: %zu %s", all.size, err);
    zs_strlist_clear (&all);
    zs_source_destroy (&src);
    CHECK (!zs_source_open ("csv:/nonexistent/dir", 0, err, sizeof err)
               && strstr (err, "is not a directory"),
           "missing dir: %s", err);
    /* clean up */
    for (const s_csv_case_t *c = s_csvs; c->symbol; c++) {
        char path[512];
        snprintf (path, sizeof path, "%s/%s.csv", s_dir, c->symbol);
        unlink (path);
    }
    rmdir (s_dir);
}

/* ---------------------------------------------------------------------- */

static void test_universes (void)
{
    char err[512];
    zs_source_t *src = zs_source_open ("synthetic:", 0, err, sizeof err);
    zs_strlist_t l = {0};
    CHECK (zs_universe_expand ("synthetic:3", src, &l, err, sizeof err) == 0
               && l.size == 3 && strcmp (l.items[2], "S000002") == 0,
           "synthetic:3");
    zs_strlist_clear (&l);
    CHECK (zs_universe_expand ("list:AAPL, MSFT,BRK.B", src, &l, err,
                               sizeof err)
                   == 0
               && l.size == 3 && strcmp (l.items[1], "MSFT") == 0,
           "list: %s", err);
    zs_strlist_clear (&l);
    CHECK (zs_universe_expand ("list:A,B,A", src, &l, err, sizeof err) == -1
               && strstr (err, "'A' is listed twice"),
           "duplicates: %s", err);
    zs_strlist_clear (&l);
    CHECK (zs_universe_expand ("list:A,../x", src, &l, err, sizeof err) == -1
               && strstr (err, "not a valid symbol"),
           "bad symbol: %s", err);
    zs_strlist_clear (&l);
    char path[] = "/tmp/zs_universe_XXXXXX";
    int fd = mkstemp (path);
    const char *text = "# my list\nAAPL\n\n  MSFT  # comment\nGOOG\n";
    CHECK (write (fd, text, strlen (text)) == (ssize_t) strlen (text), "w");
    close (fd);
    char spec[64];
    snprintf (spec, sizeof spec, "file:%s", path);
    CHECK (zs_universe_expand (spec, src, &l, err, sizeof err) == 0
               && l.size == 3 && strcmp (l.items[1], "MSFT") == 0,
           "file: %s", err);
    zs_strlist_clear (&l);
    unlink (path);
    CHECK (zs_universe_expand ("all", src, &l, err, sizeof err) == -1
               && strstr (err, "synthetic:N"),
           "all of synthetic: %s", err);
    CHECK (zs_universe_expand ("synthetic:0", src, &l, err, sizeof err) == -1,
           "synthetic:0");
    CHECK (zs_universe_expand ("nasdaq", src, &l, err, sizeof err) == -1
               && strstr (err, "unknown universe"),
           "unknown: %s", err);
    zs_strlist_clear (&l);
    zs_source_destroy (&src);
    CHECK (!zs_source_open ("synthetic:bars=0", 0, err, sizeof err),
           "bars=0");
    CHECK (!zs_source_open ("synthetic:colour=3", 0, err, sizeof err)
               && strstr (err, "unknown key"),
           "unknown key: %s", err);
    CHECK (!zs_source_open ("ftp://x", 0, err, sizeof err)
               && strstr (err, "unknown data source"),
           "unknown source: %s", err);
}

/*  Synthetic bars are bit-identical everywhere: a hash of the bytes of a
    few symbols' bars, fixed here. */
static void test_determinism (void)
{
    char err[256];
    zs_source_t *src = zs_source_open ("synthetic:", 0, err, sizeof err);
    uint64_t h = 1469598103934665603ULL;
    size_t bars = 0, flat = 0;
    for (int k = 0; k < 20; k++) {
        char sym[16];
        snprintf (sym, sizeof sym, "S%06d", k);
        zs_bars_ref_t ref;
        zs_source_load (src, sym, &ref, err, sizeof err);
        const zs_bars_t *b = ref.bars;
        const double *cols[5] = {b->open, b->high, b->low, b->close,
                                 b->volume};
        for (size_t i = 0; i < b->n; i++) {
            for (int c = 0; c < 5; c++) {
                const unsigned char *p = (const unsigned char *) &cols[c][i];
                for (size_t q = 0; q < sizeof (double); q++)
                    h = (h ^ p[q]) * 1099511628211ULL;
            }
            /* valid bars, always */
            CHECK (b->low[i] <= b->open[i] && b->open[i] <= b->high[i]
                       && b->low[i] <= b->close[i]
                       && b->close[i] <= b->high[i] && b->low[i] > 0
                       && b->volume[i] >= 0,
                   "%s bar %zu invalid", sym, i);
            flat += i > 0 && b->close[i] == b->close[i - 1];
        }
        bars += b->n;
        CHECK (strcmp (zs_bars_date (b, b->n - 1), "2025-12-31") == 0,
               "last date %s", zs_bars_date (b, b->n - 1));
        zs_bars_release (&ref);
    }
    printf ("synthetic: %zu bars hash %016llx, %zu flat steps\n", bars,
            (unsigned long long) h, flat);
    CHECK (h == ZS_SYNTH_GOLDEN, "synthetic bars changed: hash %016llx",
           (unsigned long long) h);
    zs_source_destroy (&src);
}

/*  Synthetic bars made 8 at a time, one symbol per SIMD lane, on every
    instruction set this CPU has, are the scalar generator's, bit for bit
    (full blocks and partial ones, long and short histories); and a
    synthetic source loading blocks gives what it gives one by one. */
static void test_synth_lanes (void)
{
    char *dates = zs_synth_dates (1260);
    const char *names[13] = {"S000000", "S000001", "AAPL", "X", "S999999",
                             "BRK.B",   "S012345", "Q7",   "ZZZZ", "S000042",
                             "MSFT",    "S000777", "A-B"};
    size_t sizes[] = {1260, 300, 37, 1, 0};
    int paths = 0;
    for (int isa = 0; isa < ZS_ISA_COUNT; isa++) {
        if (!zs_isa_supported ((zs_isa_t) isa))
            continue;
        paths++;
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
            for (size_t first = 0; first < 13; first += 5) {
                size_t m = 13 - first < 8 ? 13 - first : 8;
                if (first == 5)
                    m = 3; /* a partial block */
                zs_bars_t *out[8], *closes[8];
                CHECK (zs_synth_generate_block (isa, names + first, m, 7,
                                                sizes[si], dates, false, out)
                               == 0
                           && zs_synth_generate_block (isa, names + first, m,
                                                       7, sizes[si], dates,
                                                       true, closes)
                                  == 0,
                       "block");
                for (size_t q = 0; q < m; q++) {
                    zs_bars_t *ref = zs_synth_generate (names[first + q], 7,
                                                        sizes[si], dates);
                    size_t bytes = sizes[si] * sizeof (double);
                    /* the close column alone: the same closes */
                    CHECK (closes[q]->close_only && !closes[q]->open
                               && !closes[q]->volume
                               && memcmp (ref->close, closes[q]->close, bytes)
                                      == 0
                               && closes[q]->bytes * 4 < out[q]->bytes + 256,
                           "%s close-only lanes differ from scalar: %s, %zu "
                           "bars",
                           zs_isa_name ((zs_isa_t) isa), names[first + q],
                           sizes[si]);
                    zs_bars_destroy (&closes[q]);
                    CHECK (!out[q]->close_only
                               && memcmp (ref->open, out[q]->open, bytes) == 0
                               && memcmp (ref->high, out[q]->high, bytes) == 0
                               && memcmp (ref->low, out[q]->low, bytes) == 0
                               && memcmp (ref->close, out[q]->close, bytes)
                                      == 0
                               && memcmp (ref->volume, out[q]->volume, bytes)
                                      == 0,
                           "%s lanes differ from scalar: %s, %zu bars",
                           zs_isa_name ((zs_isa_t) isa), names[first + q],
                           sizes[si]);
                    zs_bars_destroy (&ref);
                    zs_bars_destroy (&out[q]);
                }
            }
    }
    free (dates);
    CHECK (paths >= 2, "only %d generator paths ran", paths);
    /* the source: blocks (with a cached one in the middle, and a bad
       symbol) against one by one from a fresh source; then, when the
       block was loaded with close alone, loaded whole */
    for (int j_close_only = 0; j_close_only < 2; j_close_only++) {
    char err[256];
    zs_source_t *a = zs_source_open ("synthetic:bars=200", 0, err, sizeof err);
    zs_source_t *b = zs_source_open ("synthetic:bars=200", 0, err, sizeof err);
    const char *syms[8] = {"S000001", "S000002", "S000003", "bad symbol!",
                           "S000005", "S000006", "S000007", "S000008"};
    zs_bars_ref_t pre;
    CHECK (zs_source_load (a, "S000003", &pre, err, sizeof err) == 0, "pre");
    zs_bars_release (&pre);
    zs_bars_ref_t refs[8];
    bool ok[8];
    char why[8][ZS_REASON_MAX + 1];
    zs_source_load_block (a, syms, 8, refs, ok, why, zs_isa_detect (),
                          j_close_only, true);
    for (int j = 0; j < 8; j++) {
        if (j == 3) {
            CHECK (!ok[j] && strstr (why[j], "not a valid symbol"),
                   "bad symbol: %s", why[j]);
            continue;
        }
        zs_bars_ref_t one;
        CHECK (ok[j] && zs_source_load (b, syms[j], &one, err, sizeof err)
                            == 0,
               "load %s", syms[j]);
        /* S000003 was cached whole before: kept whole */
        CHECK (refs[j].bars->close_only == (j_close_only && j != 2),
               "%s: close_only %d", syms[j], refs[j].bars->close_only);
        CHECK (memcmp (one.bars->close, refs[j].bars->close,
                       200 * sizeof (double))
                       == 0
                   && strcmp (zs_bars_date (refs[j].bars, 199),
                              "2025-12-31")
                          == 0,
               "%s: the block's bars differ", syms[j]);
        zs_bars_release (&one);
        zs_bars_release (&refs[j]);
    }
    /* bars cached with close alone are made whole when wanted whole */
    if (j_close_only) {
        zs_source_load_block (a, syms, 8, refs, ok, why, zs_isa_detect (),
                              false, true);
        for (int j = 0; j < 8; j++) {
            if (j == 3)
                continue;
            zs_bars_ref_t one;
            CHECK (ok[j] && !refs[j].bars->close_only
                       && zs_source_load (b, syms[j], &one, err, sizeof err)
                              == 0
                       && memcmp (one.bars->high, refs[j].bars->high,
                                  200 * sizeof (double))
                              == 0
                       && memcmp (one.bars->volume, refs[j].bars->volume,
                                  200 * sizeof (double))
                              == 0,
                   "%s: not made whole", syms[j]);
            zs_bars_release (&one);
            zs_bars_release (&refs[j]);
        }
        zs_bars_ref_t one;
        CHECK (zs_source_load (a, "S000001", &one, err, sizeof err) == 0
                   && !one.bars->close_only,
               "whole bars replaced in the cache");
        zs_bars_release (&one);
    }
    zs_source_destroy (&a);
    zs_source_destroy (&b);
    }
}

/*  A scan of close-only terms caches the close column alone (a fifth of
    the memory); a later scan reading high, low and volume on the same
    source gets whole bars and the same results, bit for bit, as on a
    fresh source. */
typedef struct {
    zs_symresult_t r[400];
    size_t n;
} s_results_t;

static int s_keep_emit (void *arg, size_t i, const char *sym,
                        const zs_symresult_t *r)
{
    (void) sym;
    s_results_t *k = (s_results_t *) arg;
    if (i < 400)
        k->r[i] = *r, k->n = i + 1;
    return 0;
}

/*  Two fresh sources of 400-bar synthetic symbols (a under test, b the
    reference), 397 of its symbols, a scanner, a scan of close-only terms
    and one (whole) that reads other columns. */
typedef struct {
    zs_source_t *a, *b;
    zs_strlist_t syms;
    zs_scanner_t *sc;
    zs_scan_t *closes, *whole;
} s_pair_t;

static void s_pair_open (s_pair_t *f, const char *whole)
{
    char err[512];
    memset (f, 0, sizeof *f);
    f->a = zs_source_open ("synthetic:bars=400", 0, err, sizeof err);
    f->b = zs_source_open ("synthetic:bars=400", 0, err, sizeof err);
    zs_universe_expand ("synthetic:397", f->a, &f->syms, err, sizeof err);
    f->sc = zs_scanner_new ();
    f->closes = zs_scan_compile (NULL, NULL, NULL, 0,
                                 "rsi(14) < 45 and close > sma(50)", err,
                                 sizeof err);
    f->whole = zs_scan_compile (NULL, NULL, NULL, 0, whole, err, sizeof err);
}

static void s_pair_close (s_pair_t *f)
{
    zs_scan_destroy (&f->closes);
    zs_scan_destroy (&f->whole);
    zs_scanner_destroy (&f->sc);
    zs_strlist_clear (&f->syms);
    zs_source_destroy (&f->a);
    zs_source_destroy (&f->b);
}

/*  zs_cache_prefetch is a hint: it takes no reference, counts no hit
    or miss, changes no entry, and looks at 8 symbols at most (12 given
    here: past 8 it would overrun its hashes, which UBSan reports). */
static void test_cache_prefetch (void)
{
    zs_cache_t *c = zs_cache_new (1 << 20);
    uint64_t src = zs_cache_source_id (c);
    const char *names[12] = {"A", "B", "C", "D", "E", "F",
                             "G", "H", "I", "J", "K", "MISSING"};
    for (int i = 0; i < 3; i++) {
        zs_cache_entry_t *e;
        zs_cache_put (c, src, names[i], zs_bars_new (10), &e);
        zs_cache_release (c, e);
    }
    zs_cache_stats_t before, after;
    zs_cache_stats (c, &before);
    zs_cache_prefetch (c, src, names, 12);
    zs_cache_prefetch (c, src + 1, names, 3);
    zs_cache_stats (c, &after);
    zs_cache_entry_t *e = NULL;
    const zs_bars_t *b = zs_cache_get (c, src, "B", &e);
    CHECK (after.hits == before.hits && after.misses == before.misses
               && after.entries == 3 && after.bytes == before.bytes && b
               && b->n == 10,
           "prefetch changed the cache: hits %llu -> %llu, misses %llu -> "
           "%llu, %zu entries",
           (unsigned long long) before.hits,
           (unsigned long long) after.hits,
           (unsigned long long) before.misses,
           (unsigned long long) after.misses, after.entries);
    zs_cache_release (c, e);
    zs_cache_destroy (&c);
}

static void test_close_only_cache (void)
{
    s_pair_t f;
    s_pair_open (&f, "atr(14) > 0.02 * close and volratio(20) > 0.5 and "
                     "high > open and highest(30) > low");
    static s_results_t first, got, want;
    zs_scanner_run (f.sc, f.closes, f.a, (const char *const *) f.syms.items,
                    f.syms.size, s_keep_emit, &first);
    zs_cache_stats_t st;
    zs_cache_stats (zs_source_cache (f.a), &st);
    CHECK (first.n == 397 && st.entries == 397
               && st.bytes < 397 * (400 * 8 + 400),
           "close-only scan: %zu results, %zu entries, %zu bytes cached",
           first.n, st.entries, st.bytes);
    zs_scanner_run (f.sc, f.whole, f.a, (const char *const *) f.syms.items,
                    f.syms.size, s_keep_emit, &got);
    zs_scanner_run (f.sc, f.whole, f.b, (const char *const *) f.syms.items,
                    f.syms.size, s_keep_emit, &want);
    zs_cache_stats (zs_source_cache (f.a), &st);
    CHECK (st.entries == 397 && st.bytes > 397 * 5 * 400 * 8,
           "made whole: %zu entries, %zu bytes", st.entries, st.bytes);
    int differ = 0, signals = 0;
    for (size_t i = 0; i < 397; i++) {
        signals += want.r[i].signal;
        differ += got.r[i].status != ZS_SYM_OK
                  || got.r[i].signal != want.r[i].signal
                  || memcmp (got.r[i].values, want.r[i].values,
                             got.r[i].nvalues * sizeof (double))
                         != 0
                  || memcmp (&got.r[i].score, &want.r[i].score,
                             sizeof (double))
                         != 0;
    }
    CHECK (got.n == 397 && differ == 0 && signals > 0 && signals < 397,
           "whole bars after close-only: %d of %zu differ (%d signals)",
           differ, got.n, signals);
    s_pair_close (&f);
}

/*  A deferring run (zs_scanner_defer) keeps nothing its source lacked,
    lists those symbols up to its budget (and keeps the rest), gives the
    results a keeping run gives, bit for bit; the list kept later makes
    the next run all cache hits; a scan reading other columns than the
    list's keeps what it makes. */
static void test_defer (void)
{
    s_pair_t f;
    s_pair_open (&f, "atr(14) > 0.02 * close");
    static s_results_t got, want;
    zs_later_t later = {0};
    const char *const *list = (const char *const *) f.syms.items;
    /* a budget of 100 symbols' closes (each 400 doubles and a header):
       about 100 listed, in blocks of 8, the rest kept */
    zs_scanner_defer (f.sc, &later, 100 * 400 * 8);
    zs_scanner_run (f.sc, f.closes, f.a, list, 397, s_keep_emit, &got);
    zs_scanner_defer (f.sc, NULL, 0);
    zs_scanner_run (f.sc, f.closes, f.b, list, 397, s_keep_emit, &want);
    zs_cache_stats_t st;
    zs_cache_stats (zs_source_cache (f.a), &st);
    CHECK (later.symbols.size >= 96 && later.symbols.size <= 104
               && later.close_only && st.entries == 397 - later.symbols.size
               && strcmp (later.symbols.items[0], "S000000") == 0,
           "deferred %zu (close_only %d), cached %zu", later.symbols.size,
           later.close_only, st.entries);
    int differ = 0;
    for (size_t i = 0; i < 397; i++)
        differ += got.r[i].signal != want.r[i].signal
                  || memcmp (&got.r[i].score, &want.r[i].score,
                             sizeof (double))
                         != 0
                  || memcmp (got.r[i].values, want.r[i].values,
                             got.r[i].nvalues * sizeof (double))
                         != 0;
    CHECK (got.n == 397 && differ == 0, "deferred run: %d of %zu differ",
           differ, got.n);
    /* kept later: the next run hits the cache for every symbol */
    size_t failed = 0;
    char why[ZS_REASON_MAX + 1];
    zs_source_keep (f.a, (const char *const *) later.symbols.items,
                    later.symbols.size, zs_isa_detect (), later.close_only,
                    &failed, why, sizeof why);
    zs_cache_stats (zs_source_cache (f.a), &st);
    uint64_t misses = st.misses;
    zs_scanner_run (f.sc, f.closes, f.a, list, 397, s_keep_emit, &got);
    zs_cache_stats (zs_source_cache (f.a), &st);
    CHECK (st.entries == 397 && st.misses == misses,
           "after keeping: %zu entries, %llu misses more", st.entries,
           (unsigned long long) (st.misses - misses));
    /* whole bars wanted while the list holds closes: kept as made */
    zs_scanner_defer (f.sc, &later, (size_t) 1 << 30);
    size_t listed = later.symbols.size;
    zs_scanner_run (f.sc, f.whole, f.a, list, 397, s_keep_emit, &got);
    zs_cache_stats (zs_source_cache (f.a), &st);
    CHECK (later.symbols.size == listed && st.entries == 397
               && st.bytes > 397 * 5 * 400 * 8,
           "whole bars with a list of closes: %zu listed, %zu bytes cached",
           later.symbols.size, st.bytes);
    zs_strlist_clear (&later.symbols);
    s_pair_close (&f);
}

/* ---------------------------------------------------------------------- */
/*  The binary store                                                       */

static void s_csv_from_bars (const char *dir, const char *sym,
                             const zs_bars_t *b)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s.csv", dir, sym);
    FILE *f = fopen (path, "w");
    fprintf (f, "Date,Open,High,Low,Close,Volume\n");
    for (size_t i = 0; i < b->n; i++)
        fprintf (f, "%s,%.17g,%.17g,%.17g,%.17g,%.17g\n", zs_bars_date (b, i),
                 b->open[i], b->high[i], b->low[i], b->close[i],
                 b->volume[i]);
    fclose (f);
}

static void s_copy_file (const char *from, const char *to, long truncate,
                         long flip)
{
    FILE *in = fopen (from, "rb");
    FILE *out = fopen (to, "wb");
    long i = 0;
    int c;
    while ((c = fgetc (in)) != EOF && (truncate < 0 || i < truncate)) {
        fputc (i == flip ? c ^ 0x20 : c, out);
        i++;
    }
    fclose (in);
    fclose (out);
}

static void test_store (void)
{
    char dir[256], store[300], bad[300], err[512];
    snprintf (dir, sizeof dir, "/tmp/zs_store_test_%d", (int) getpid ());
    snprintf (store, sizeof store, "%s.zs", dir);
    snprintf (bad, sizeof bad, "%s.bad", dir);
    mkdir (dir, 0700);
    zs_source_t *syn = zs_source_open ("synthetic:bars=300", 0, err,
                                       sizeof err);
    const char *syms[] = {"AAA", "BBB.X", "CCC", NULL};
    for (int i = 0; syms[i]; i++) {
        zs_bars_ref_t ref;
        zs_source_load (syn, syms[i], &ref, err, sizeof err);
        s_csv_from_bars (dir, syms[i], ref.bars);
        zs_bars_release (&ref);
    }
    CHECK (zs_store_import (dir, store, false, err, sizeof err) == 3,
           "import: %s", err);
    char uri[400];
    snprintf (uri, sizeof uri, "store:%s", store);
    zs_source_t *st = zs_source_open (uri, 0, err, sizeof err);
    CHECK (st != NULL, "open store: %s", err);
    for (int i = 0; syms[i] && st; i++) {
        zs_bars_ref_t a, b;
        zs_source_load (syn, syms[i], &a, err, sizeof err);
        CHECK (zs_source_load (st, syms[i], &b, err, sizeof err) == 0,
               "load %s: %s", syms[i], err);
        bool same = a.bars->n == b.bars->n;
        for (size_t k = 0; same && k < a.bars->n; k++)
            same = a.bars->close[k] == b.bars->close[k]
                   && a.bars->high[k] == b.bars->high[k]
                   && a.bars->low[k] == b.bars->low[k]
                   && a.bars->open[k] == b.bars->open[k]
                   && a.bars->volume[k] == b.bars->volume[k]
                   && strcmp (zs_bars_date (a.bars, k),
                              zs_bars_date (b.bars, k))
                          == 0;
        CHECK (same, "%s: the store holds exactly the CSV's bars", syms[i]);
        zs_bars_release (&a);
        zs_bars_release (&b);
    }
    zs_strlist_t all = {0};
    CHECK (st && zs_source_symbols (st, &all, err, sizeof err) == 0
               && all.size == 3 && strcmp (all.items[1], "BBB.X") == 0,
           "store symbols");
    zs_strlist_clear (&all);
    double adv = 0;
    CHECK (st && zs_source_liquidity (st, "CCC", &adv, err, sizeof err) == 0
               && adv > 0,
           "store liquidity %g", adv);
    zs_bars_ref_t none;
    CHECK (st && zs_source_load (st, "ZZZ", &none, err, sizeof err) == -1
               && strstr (err, "ZZZ: not in the store"),
           "absent symbol: %s", err);
    zs_source_destroy (&st);
    /* every truncation and a flipped byte anywhere are refused */
    struct stat info;
    stat (store, &info);
    long size = (long) info.st_size;
    int refused = 0, tried = 0;
    long cuts[] = {0, 10, 63, 64, 100, 64 + 3 * 64 - 1, 64 + 3 * 64,
                   size / 2, size - 8, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        s_copy_file (store, bad, cuts[i], -1);
        zs_store_t *s = zs_store_open (bad, err, sizeof err);
        tried++;
        refused += s == NULL;
        zs_store_close (&s);
    }
    long flips[] = {0, 9, 20, 40, 70, 64 + 40, 64 + 64 + 50, size / 2,
                    size - 3};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        s_copy_file (store, bad, -1, flips[i]);
        zs_store_t *s = zs_store_open (bad, err, sizeof err);
        tried++;
        if (!s)
            refused++;
        else
            CHECK (0, "a flipped byte at %ld was not noticed", flips[i]);
        zs_store_close (&s);
    }
    CHECK (refused == tried, "%d of %d damaged stores refused", refused,
           tried);
    s_copy_file (store, bad, 40, -1);
    CHECK (!zs_store_open (bad, err, sizeof err)
               && strstr (err, "too short to be a store"),
           "short: %s", err);
    s_copy_file (store, bad, -1, 0);
    CHECK (!zs_store_open (bad, err, sizeof err) && strstr (err, "bad magic"),
           "magic: %s", err);
    s_copy_file (store, bad, size - 8, -1);
    CHECK (!zs_store_open (bad, err, sizeof err) && strstr (err, "truncated"),
           "truncated: %s", err);
    /* a malformed CSV fails the import, or is skipped on request */
    s_write_in (dir, "BAD.csv", "Date,Open,High,Low,Close,Volume\n"
                                "2024-01-02,1,2,x,1,1\n");
    CHECK (zs_store_import (dir, store, false, err, sizeof err) == -1
               && strstr (err, "BAD.csv:2: low 'x' is not a number"),
           "bad csv: %s", err);
    CHECK (zs_store_import (dir, store, true, err, sizeof err) == 3,
           "skip bad: %s", err);
    st = zs_source_open (uri, 0, err, sizeof err);
    CHECK (st != NULL, "store with a gap for the skipped file: %s", err);
    zs_source_destroy (&st);
    const char *files[] = {"AAA.csv", "BBB.X.csv", "CCC.csv", "BAD.csv"};
    for (int i = 0; i < 4; i++) {
        char path[512];
        snprintf (path, sizeof path, "%s/%s", dir, files[i]);
        unlink (path);
    }
    rmdir (dir);
    unlink (store);
    unlink (bad);
    zs_source_destroy (&syn);
}

/* ---------------------------------------------------------------------- */
/*  Every instruction set path gives the same bits as the scalar path     */

typedef struct {
    size_t n;
    zs_symresult_t *res;
} s_collect_t;

static int s_collect (void *arg, size_t i, const char *sym,
                      const zs_symresult_t *r)
{
    (void) sym;
    s_collect_t *c = (s_collect_t *) arg;
    c->res[i] = *r;
    c->n++;
    return 0;
}

/*  Every vector path against the scalar one, for each scan of exprs. */
static void s_compare_isas (const char *const *isas,
                            const char *const *exprs, size_t nexprs,
                            const char *uri, zs_source_t *src,
                            const zs_strlist_t *syms, zs_symresult_t *ref,
                            zs_symresult_t *got, int *paths)
{
    char err[512];
    for (size_t e = 0; e < nexprs; e++) {
        zs_scan_t *scan = zs_scan_compile (NULL, NULL, NULL, 0, exprs[e],
                                           err, sizeof err);
        CHECK (scan != NULL, "compile: %s", err);
        zs_scanner_t *sc = zs_scanner_new ();
        zs_scanner_set_isa (sc, "scalar");
        s_collect_t c = {0, ref};
        zs_scanner_run (sc, scan, src, (const char *const *) syms->items,
                        syms->size, s_collect, &c);
        for (int k = 1; k < 4; k++) {
            if (zs_scanner_set_isa (sc, isas[k]) != 0)
                continue; /* this CPU cannot run it */
            s_collect_t d = {0, got};
            zs_scanner_run (sc, scan, src, (const char *const *) syms->items,
                            syms->size, s_collect, &d);
            int diff = 0;
            for (size_t i = 0; i < syms->size; i++) {
                bool same = got[i].signal == ref[i].signal
                            && got[i].status == ref[i].status
                            && got[i].nvalues == ref[i].nvalues
                            && memcmp (got[i].values, ref[i].values,
                                       sizeof ref[i].values[0]
                                           * ref[i].nvalues)
                                   == 0
                            && (memcmp (&got[i].score, &ref[i].score,
                                        sizeof (double))
                                    == 0
                                || (isnan (got[i].score)
                                    && isnan (ref[i].score)));
                if (!same && diff++ < 3)
                    CHECK (same, "%s vs scalar, %s, scan %zu, %s differs",
                           isas[k], uri, e, syms->items[i]);
            }
            CHECK (diff == 0, "%s: %d of %zu symbols differ from scalar",
                   isas[k], diff, syms->size);
            (*paths)++;
        }
        zs_scanner_destroy (&sc);
        zs_scan_destroy (&scan);
    }
}

static void test_isa_paths (void)
{
    static const char *isas[] = {"scalar", "sse2", "avx2", "avx512"};
    const char *exprs[] = {
        NULL, /* the default strategy */
        "rsi(14) < 30 and close > sma(50) and ema(12) > ema(26)",
        "macd_hist > 0 and macd(5,35,5) > macd_signal(5,35,5) or atr(14) > "
        "0.02 * close or rsi(7) > 80 or ema(200) < close",
        "crosses_above(ema(9), ema(21)) or crosses_below(macd, "
        "macd_signal)"};
    char err[512];
    /* histories that end anywhere in a chunk of the block pass (32 bars):
       shorter than one, exactly two, one bar past, the kept bars across a
       chunk boundary, many chunks; and an odd symbol count so the last
       block is partial */
    static const char *uris[] = {
        "synthetic:bars=700", "synthetic:bars=64", "synthetic:bars=65",
        "synthetic:bars=130", "synthetic:bars=15", "synthetic:bars=34"};
    int paths = 0;
    for (size_t u = 0; u < sizeof uris / sizeof uris[0]; u++) {
        zs_source_t *src = zs_source_open (uris[u], 0, err, sizeof err);
        zs_strlist_t syms = {0};
        zs_universe_expand (u ? "synthetic:203" : "synthetic:2003", src,
                            &syms, err, sizeof err);
        zs_symresult_t *ref =
            (zs_symresult_t *) calloc (syms.size, sizeof *ref);
        zs_symresult_t *got =
            (zs_symresult_t *) calloc (syms.size, sizeof *got);
        s_compare_isas (isas, exprs, sizeof exprs / sizeof exprs[0],
                        uris[u], src, &syms, ref, got, &paths);
        free (ref);
        free (got);
        zs_strlist_clear (&syms);
        zs_source_destroy (&src);
    }
    printf ("isa paths: %d compared bit for bit with scalar (%zu "
            "histories)\n",
            paths, sizeof uris / sizeof uris[0]);
}


/*  Charts: an indicator named as results name it parses back to its term,
    and its full series ends with the values a scan reports. */
static void test_term_series (void)
{
    char err[256];
    zs_source_t *src = zs_source_open ("synthetic:bars=400", 0, err,
                                       sizeof err);
    CHECK (src != NULL, "open: %s", err);
    const char *names[] = {"close", "volume", "sma(50)", "ema(12)", "rsi(14)",
                           "atr(14)", "roc(10)", "highest(252)",
                           "lowest(20)", "avgvol(20)", "volratio(20)",
                           "macd(12,26,9)", "macd_signal(12,26,9)",
                           "macd_hist(12,26,9)", "bb_upper(20,2)",
                           "bb_lower(20,2.5)", "bb_middle(20)", NULL};
    double *full = (double *) malloc (400 * sizeof (double));
    int bad = 0;
    for (int k = 0; k < 50; k++) {
        char sym[16];
        snprintf (sym, sizeof sym, "S%06d", k);
        zs_bars_ref_t ref;
        CHECK (zs_source_load (src, sym, &ref, err, sizeof err) == 0,
               "load: %s", err);
        const zs_bars_t *b = ref.bars;
        for (int i = 0; names[i]; i++) {
            zs_term_t t;
            CHECK (zs_term_parse (names[i], &t, err, sizeof err) == 0
                       && strcmp (t.name, names[i]) == 0,
                   "parse %s: %s (%s)", names[i], err, t.name);
            CHECK (zs_term_series (&t, b, full) == 0, "series");
            double last[ZS_TERM_DEPTH];
            zs_term_eval (&t, b, last);
            for (int d = 0; d < ZS_TERM_DEPTH; d++) {
                double want = last[d], got = full[b->n - 1 - d];
                bool same = (isnan (want) && isnan (got))
                            || memcmp (&want, &got, sizeof want) == 0;
                if (!same && bad++ < 5)
                    CHECK (same, "%s %s depth %d: series %.17g, scan %.17g",
                           sym, names[i], d, got, want);
            }
        }
        zs_bars_release (&ref);
    }
    free (full);
    zs_source_destroy (&src);
    zs_term_t t;
    CHECK (zs_term_parse ("rsi(14) > 3", &t, err, sizeof err) != 0
               && strcmp (err, "not one indicator") == 0,
           "an expression is not one indicator: %s", err);
    CHECK (zs_term_parse ("rsi(", &t, err, sizeof err) != 0
               && strncmp (err, "position ", 9) == 0,
           "a bad one says where: %s", err);
    CHECK (zs_term_parse ("2", &t, err, sizeof err) != 0,
           "a number is no indicator");
    zs_strategy_info_t info;
    CHECK (zs_strategy_info ("rsi_oversold", &info) == 0 && info.nparams == 2
               && !strcmp (info.pnames[0], "period")
               && info.defaults[0] == 14 && info.defaults[1] == 30
               && !strcmp (info.expression, "rsi(14) < 30"),
           "rsi_oversold: %zu params, '%s'", info.nparams, info.expression);
    CHECK (zs_strategy_info ("macd_cross_up", &info) == 0
               && info.nparams == 3 && info.defaults[2] == 9,
           "macd_cross_up: %zu params", info.nparams);
    CHECK (zs_strategy_info ("nope", &info) == -1, "unknown strategy");
}

int main (void)
{
    test_indicators ();
    test_terms_match_series ();
    test_term_series ();
    test_strategies ();
    test_expressions ();
    test_csv ();
    test_universes ();
    test_determinism ();
    test_synth_lanes ();
    test_cache_prefetch ();
    test_close_only_cache ();
    test_defer ();
    test_store ();
    test_isa_paths ();
    return ZS_TEST_END ("engine");
}
