/*  zs_term.c - a term's last values in one pass over the bars, with no
    allocation.  Each computation repeats, operation for operation, the
    full-series definition in zs_ind.c, so a scan's numbers are identical
    (not merely close) to what `zscan indicators` prints; the tests check
    that bit for bit. */
#include "zs_term.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t zs_term_warmup (const zs_term_t *t)
{
    switch (t->kind) {
    case ZS_T_SMA:
    case ZS_T_EMA:
    case ZS_T_HIGHEST:
    case ZS_T_LOWEST:
    case ZS_T_AVGVOL:
    case ZS_T_VOLRATIO:
    case ZS_T_BB_UPPER:
    case ZS_T_BB_MIDDLE:
    case ZS_T_BB_LOWER:
        return (size_t) t->p1;
    case ZS_T_RSI:
    case ZS_T_ATR:
    case ZS_T_ROC:
        return (size_t) t->p1 + 1;
    case ZS_T_MACD: {
        int slow = t->p1 > t->p2 ? t->p1 : t->p2;
        return (size_t) slow;
    }
    case ZS_T_MACD_SIGNAL:
    case ZS_T_MACD_HIST: {
        int slow = t->p1 > t->p2 ? t->p1 : t->p2;
        return (size_t) (slow + t->p3 - 1);
    }
    default:
        return 1;
    }
}

/* Mean of x[t+1-p..t], as zs_ind_sma sums it. */
static double s_window_mean (const double *x, size_t t, size_t p)
{
    double sum = 0;
    for (size_t i = t + 1 - p; i <= t; i++)
        sum += x[i];
    return sum / (double) p;
}

static double s_window_sd (const double *x, size_t t, size_t p)
{
    double mean = s_window_mean (x, t, p);
    double ss = 0;
    for (size_t i = t + 1 - p; i <= t; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    return sqrt (ss / (double) p);
}

static double s_window_max (const double *x, size_t t, size_t p)
{
    double m = x[t + 1 - p];
    for (size_t i = t + 2 - p; i <= t; i++)
        if (x[i] > m)
            m = x[i];
    return m;
}

static double s_window_min (const double *x, size_t t, size_t p)
{
    double m = x[t + 1 - p];
    for (size_t i = t + 2 - p; i <= t; i++)
        if (x[i] < m)
            m = x[i];
    return m;
}

/*  Stores v for bar t into out when t is one of the last DEPTH bars. */
static void s_keep (double *out, size_t n, size_t t, double v)
{
    size_t back = n - 1 - t;
    if (back < ZS_TERM_DEPTH)
        out[back] = v;
}

/* EMA of x with period p: last values into out. */
static void s_ema (const double *x, size_t n, size_t p, double *out)
{
    if (n < p)
        return;
    double sum = 0;
    for (size_t i = 0; i < p; i++)
        sum += x[i];
    double e = sum / (double) p;
    double alpha = 2.0 / ((double) p + 1);
    s_keep (out, n, p - 1, e);
    for (size_t t = p; t < n; t++) {
        e = alpha * x[t] + (1 - alpha) * e;
        s_keep (out, n, t, e);
    }
}

static void s_rsi (const double *c, size_t n, size_t p, double *out)
{
    if (n < p + 1)
        return;
    double su = 0, sd = 0;
    for (size_t t = 1; t <= p; t++) {
        double d = c[t] - c[t - 1];
        su += d > 0 ? d : 0;
        sd += d < 0 ? -d : 0;
    }
    double au = su / (double) p, ad = sd / (double) p;
    double alpha = 1.0 / (double) p;
    double s = au + ad;
    s_keep (out, n, p, s > 0 ? 100.0 * au / s : NAN);
    for (size_t t = p + 1; t < n; t++) {
        double d = c[t] - c[t - 1];
        au = alpha * (d > 0 ? d : 0) + (1 - alpha) * au;
        ad = alpha * (d < 0 ? -d : 0) + (1 - alpha) * ad;
        s = au + ad;
        s_keep (out, n, t, s > 0 ? 100.0 * au / s : NAN);
    }
}

static double s_tr (const zs_bars_t *b, size_t t)
{
    double pc = b->close[t - 1];
    double hi = b->high[t] > pc ? b->high[t] : pc;
    double lo = b->low[t] < pc ? b->low[t] : pc;
    return hi - lo;
}

static void s_atr (const zs_bars_t *b, size_t p, double *out)
{
    size_t n = b->n;
    if (n < p + 1)
        return;
    double sum = 0;
    for (size_t t = 1; t <= p; t++)
        sum += s_tr (b, t);
    double a = sum / (double) p;
    double alpha = 1.0 / (double) p;
    s_keep (out, n, p, a);
    for (size_t t = p + 1; t < n; t++) {
        a = alpha * s_tr (b, t) + (1 - alpha) * a;
        s_keep (out, n, t, a);
    }
}

/*  MACD line, signal and histogram at the last bars (which of the three
    goes to out is `which`: 0 line, 1 signal, 2 hist). */
static void s_macd (const double *c, size_t n, size_t fast, size_t slow,
                    size_t sig, int which, double *out)
{
    size_t first = (fast > slow ? fast : slow) - 1; /* first line bar */
    if (n <= first)
        return;
    double af = 2.0 / ((double) fast + 1), as = 2.0 / ((double) slow + 1);
    double ag = 2.0 / ((double) sig + 1);
    double ef = 0, es = 0, sum = 0, g = 0;
    for (size_t i = 0; i < fast; i++)
        sum += c[i];
    ef = sum / (double) fast;
    sum = 0;
    for (size_t i = 0; i < slow; i++)
        sum += c[i];
    es = sum / (double) slow;
    double gsum = 0;
    for (size_t t = 0; t < n; t++) {
        if (t >= fast)
            ef = af * c[t] + (1 - af) * ef;
        if (t >= slow)
            es = as * c[t] + (1 - as) * es;
        if (t < first)
            continue;
        double line = ef - es;
        double signal = NAN;
        size_t k = t - first; /* line values before this one */
        if (k + 1 < sig)
            gsum += line;
        else if (k + 1 == sig) {
            gsum += line;
            g = gsum / (double) sig;
            signal = g;
        }
        else {
            g = ag * line + (1 - ag) * g;
            signal = g;
        }
        double v = which == 0   ? line
                   : which == 1 ? signal
                                : (isnan (signal) ? NAN : line - signal);
        s_keep (out, n, t, v);
    }
}

bool zs_term_close_only (const zs_term_t *t)
{
    switch (t->kind) {
    case ZS_T_OPEN:
    case ZS_T_HIGH:
    case ZS_T_LOW:
    case ZS_T_VOLUME:
    case ZS_T_ATR:
    case ZS_T_HIGHEST:
    case ZS_T_LOWEST:
    case ZS_T_AVGVOL:
    case ZS_T_VOLRATIO:
        return false;
    default:
        return true;
    }
}

void zs_term_eval (const zs_term_t *t, const zs_bars_t *b,
                   double out[ZS_TERM_DEPTH])
{
    for (int i = 0; i < ZS_TERM_DEPTH; i++)
        out[i] = NAN;
    if (b->close_only && !zs_term_close_only (t))
        return;
    size_t n = b->n;
    size_t p = (size_t) t->p1;
    const double *series = NULL;
    switch (t->kind) {
    case ZS_T_CLOSE:
        series = b->close;
        break;
    case ZS_T_OPEN:
        series = b->open;
        break;
    case ZS_T_HIGH:
        series = b->high;
        break;
    case ZS_T_LOW:
        series = b->low;
        break;
    case ZS_T_VOLUME:
        series = b->volume;
        break;
    default:
        break;
    }
    if (series) {
        for (size_t k = 0; k < ZS_TERM_DEPTH && k < n; k++)
            out[k] = series[n - 1 - k];
        return;
    }
    switch (t->kind) {
    case ZS_T_EMA:
        s_ema (b->close, n, p, out);
        return;
    case ZS_T_RSI:
        s_rsi (b->close, n, p, out);
        return;
    case ZS_T_ATR:
        s_atr (b, p, out);
        return;
    case ZS_T_MACD:
    case ZS_T_MACD_SIGNAL:
    case ZS_T_MACD_HIST:
        s_macd (b->close, n, (size_t) t->p1, (size_t) t->p2, (size_t) t->p3,
                t->kind == ZS_T_MACD ? 0 : t->kind == ZS_T_MACD_SIGNAL ? 1 : 2,
                out);
        return;
    default:
        break;
    }
    /* windowed terms: each of the last bars on its own */
    for (size_t k = 0; k < ZS_TERM_DEPTH && k < n; k++) {
        size_t at = n - 1 - k;
        double v = NAN;
        switch (t->kind) {
        case ZS_T_SMA:
            if (at + 1 >= p)
                v = s_window_mean (b->close, at, p);
            break;
        case ZS_T_AVGVOL:
            if (at + 1 >= p)
                v = s_window_mean (b->volume, at, p);
            break;
        case ZS_T_VOLRATIO:
            if (at + 1 >= p) {
                double avg = s_window_mean (b->volume, at, p);
                v = avg > 0 ? b->volume[at] / avg : NAN;
            }
            break;
        case ZS_T_HIGHEST:
            if (at + 1 >= p)
                v = s_window_max (b->high, at, p);
            break;
        case ZS_T_LOWEST:
            if (at + 1 >= p)
                v = s_window_min (b->low, at, p);
            break;
        case ZS_T_ROC:
            if (at >= p && b->close[at - p] != 0)
                v = b->close[at] / b->close[at - p] - 1;
            break;
        case ZS_T_BB_MIDDLE:
            if (at + 1 >= p)
                v = s_window_mean (b->close, at, p);
            break;
        case ZS_T_BB_UPPER:
        case ZS_T_BB_LOWER:
            if (at + 1 >= p) {
                double mid = s_window_mean (b->close, at, p);
                double sd = s_window_sd (b->close, at, p);
                v = t->kind == ZS_T_BB_UPPER ? mid + t->k * sd
                                             : mid - t->k * sd;
            }
            break;
        default:
            break;
        }
        out[k] = v;
    }
}

int zs_term_series (const zs_term_t *t, const zs_bars_t *b, double *out)
{
    if (b->close_only && !zs_term_close_only (t))
        return -1;
    size_t n = b->n;
    size_t p = (size_t) t->p1;
    const double *series = t->kind == ZS_T_CLOSE    ? b->close
                           : t->kind == ZS_T_OPEN   ? b->open
                           : t->kind == ZS_T_HIGH   ? b->high
                           : t->kind == ZS_T_LOW    ? b->low
                           : t->kind == ZS_T_VOLUME ? b->volume
                                                    : NULL;
    if (series) {
        if (n)
            memcpy (out, series, n * sizeof *out);
        return 0;
    }
    double *a = NULL, *c = NULL;
    switch (t->kind) {
    case ZS_T_SMA:
        zs_ind_sma (b->close, n, p, out);
        return 0;
    case ZS_T_EMA:
        zs_ind_ema (b->close, n, p, out);
        return 0;
    case ZS_T_RSI:
        zs_ind_rsi (b->close, n, p, out);
        return 0;
    case ZS_T_ATR:
        zs_ind_atr (b, p, out);
        return 0;
    case ZS_T_ROC:
        zs_ind_roc (b->close, n, p, out);
        return 0;
    case ZS_T_HIGHEST:
        zs_ind_highest (b->high, n, p, out);
        return 0;
    case ZS_T_LOWEST:
        zs_ind_lowest (b->low, n, p, out);
        return 0;
    case ZS_T_AVGVOL:
        zs_ind_sma (b->volume, n, p, out);
        return 0;
    case ZS_T_VOLRATIO:
        zs_ind_sma (b->volume, n, p, out);
        for (size_t i = 0; i < n; i++)
            out[i] = out[i] > 0 ? b->volume[i] / out[i] : NAN;
        return 0;
    case ZS_T_BB_MIDDLE:
        zs_ind_sma (b->close, n, p, out);
        return 0;
    default:
        break;
    }
    a = (double *) malloc ((n ? n : 1) * sizeof *a);
    c = (double *) malloc ((n ? n : 1) * sizeof *c);
    if (!a || !c) {
        free (a);
        free (c);
        return -1;
    }
    switch (t->kind) {
    case ZS_T_MACD:
        zs_ind_macd (b->close, n, p, (size_t) t->p2, (size_t) t->p3, out, a,
                     c);
        break;
    case ZS_T_MACD_SIGNAL:
        zs_ind_macd (b->close, n, p, (size_t) t->p2, (size_t) t->p3, a, out,
                     c);
        break;
    case ZS_T_MACD_HIST:
        zs_ind_macd (b->close, n, p, (size_t) t->p2, (size_t) t->p3, a, c,
                     out);
        break;
    case ZS_T_BB_UPPER:
        zs_ind_bbands (b->close, n, p, t->k, a, c, out);
        break;
    case ZS_T_BB_LOWER:
        zs_ind_bbands (b->close, n, p, t->k, out, a, c);
        break;
    default:
        for (size_t i = 0; i < n; i++)
            out[i] = NAN;
        break;
    }
    free (a);
    free (c);
    return 0;
}
