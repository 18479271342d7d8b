/*  zs_ind.c - full indicator series, exactly as ../shared/INDICATORS.md
    defines them (R's TTR conventions).  Windowed statistics are computed
    per window (two passes for the standard deviation), which keeps every
    value accurate at any price level; recursive ones (EMA, Wilder) run
    once over the series.  These are the reference the scan kernels are
    tested against, and what `zscan indicators` prints. */
#include "zs_bars.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void s_fill_nan (double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = NAN;
}

void zs_ind_sma (const double *x, size_t n, size_t period, double *out)
{
    s_fill_nan (out, n);
    if (period == 0 || n < period)
        return;
    for (size_t t = period - 1; t < n; t++) {
        double sum = 0;
        for (size_t i = t + 1 - period; i <= t; i++)
            sum += x[i];
        out[t] = sum / (double) period;
    }
}

/*  An exponential average with factor alpha, seeded with the mean of the
    first period values of x starting at `from`, placed at from+period-1. */
static void s_smooth (const double *x, size_t n, size_t from, size_t period,
                      double alpha, double *out)
{
    if (period == 0 || n < from + period)
        return;
    double sum = 0;
    for (size_t i = from; i < from + period; i++)
        sum += x[i];
    double e = sum / (double) period;
    size_t t = from + period - 1;
    out[t] = e;
    for (t++; t < n; t++) {
        e = alpha * x[t] + (1 - alpha) * e;
        out[t] = e;
    }
}

void zs_ind_ema (const double *x, size_t n, size_t period, double *out)
{
    s_fill_nan (out, n);
    s_smooth (x, n, 0, period, 2.0 / ((double) period + 1), out);
}

void zs_ind_rsi (const double *close, size_t n, size_t period, double *out)
{
    s_fill_nan (out, n);
    if (period == 0 || n < period + 1)
        return;
    double *up = (double *) calloc (n, sizeof (double));
    double *dn = (double *) calloc (n, sizeof (double));
    double *aup = (double *) malloc (n * sizeof (double));
    double *adn = (double *) malloc (n * sizeof (double));
    if (up && dn && aup && adn) {
        for (size_t t = 1; t < n; t++) {
            double d = close[t] - close[t - 1];
            up[t] = d > 0 ? d : 0;
            dn[t] = d < 0 ? -d : 0;
        }
        s_fill_nan (aup, n);
        s_fill_nan (adn, n);
        double alpha = 1.0 / (double) period;
        s_smooth (up, n, 1, period, alpha, aup);
        s_smooth (dn, n, 1, period, alpha, adn);
        for (size_t t = period; t < n; t++) {
            double s = aup[t] + adn[t];
            out[t] = s > 0 ? 100.0 * aup[t] / s : NAN;
        }
    }
    free (up);
    free (dn);
    free (aup);
    free (adn);
}

void zs_ind_atr (const zs_bars_t *b, size_t period, double *out)
{
    size_t n = b->n;
    s_fill_nan (out, n);
    if (period == 0 || n < period + 1)
        return;
    double *tr = (double *) calloc (n, sizeof (double));
    if (!tr)
        return;
    for (size_t t = 1; t < n; t++) {
        double pc = b->close[t - 1];
        double hi = b->high[t] > pc ? b->high[t] : pc;
        double lo = b->low[t] < pc ? b->low[t] : pc;
        tr[t] = hi - lo;
    }
    s_smooth (tr, n, 1, period, 1.0 / (double) period, out);
    free (tr);
}

void zs_ind_roc (const double *close, size_t n, size_t period, double *out)
{
    s_fill_nan (out, n);
    for (size_t t = period; t < n && period > 0; t++)
        if (close[t - period] != 0)
            out[t] = close[t] / close[t - period] - 1;
}

void zs_ind_highest (const double *x, size_t n, size_t period, double *out)
{
    s_fill_nan (out, n);
    if (period == 0 || n < period)
        return;
    for (size_t t = period - 1; t < n; t++) {
        double m = x[t + 1 - period];
        for (size_t i = t + 2 - period; i <= t; i++)
            if (x[i] > m)
                m = x[i];
        out[t] = m;
    }
}

void zs_ind_lowest (const double *x, size_t n, size_t period, double *out)
{
    s_fill_nan (out, n);
    if (period == 0 || n < period)
        return;
    for (size_t t = period - 1; t < n; t++) {
        double m = x[t + 1 - period];
        for (size_t i = t + 2 - period; i <= t; i++)
            if (x[i] < m)
                m = x[i];
        out[t] = m;
    }
}

void zs_ind_stdev (const double *x, size_t n, size_t period, double *out)
{
    s_fill_nan (out, n);
    if (period == 0 || n < period)
        return;
    for (size_t t = period - 1; t < n; t++) {
        double sum = 0;
        for (size_t i = t + 1 - period; i <= t; i++)
            sum += x[i];
        double mean = sum / (double) period;
        double ss = 0;
        for (size_t i = t + 1 - period; i <= t; i++)
            ss += (x[i] - mean) * (x[i] - mean);
        out[t] = sqrt (ss / (double) period);
    }
}

void zs_ind_macd (const double *close, size_t n, size_t fast, size_t slow,
                  size_t sig, double *line, double *signal, double *hist)
{
    s_fill_nan (line, n);
    s_fill_nan (signal, n);
    s_fill_nan (hist, n);
    double *ef = (double *) malloc (n * sizeof (double));
    double *es = (double *) malloc (n * sizeof (double));
    if (ef && es && n > 0) {
        zs_ind_ema (close, n, fast, ef);
        zs_ind_ema (close, n, slow, es);
        size_t first = n;
        for (size_t t = 0; t < n; t++) {
            if (!isnan (ef[t]) && !isnan (es[t])) {
                line[t] = ef[t] - es[t];
                if (first == n)
                    first = t;
            }
        }
        if (first < n) {
            s_smooth (line, n, first, sig, 2.0 / ((double) sig + 1), signal);
            for (size_t t = 0; t < n; t++)
                if (!isnan (signal[t]))
                    hist[t] = line[t] - signal[t];
        }
    }
    free (ef);
    free (es);
}

void zs_ind_bbands (const double *close, size_t n, size_t period, double k,
                    double *lower, double *middle, double *upper)
{
    double *sd = (double *) malloc ((n ? n : 1) * sizeof (double));
    zs_ind_sma (close, n, period, middle);
    s_fill_nan (lower, n);
    s_fill_nan (upper, n);
    if (!sd)
        return;
    zs_ind_stdev (close, n, period, sd);
    for (size_t t = 0; t < n; t++)
        if (!isnan (middle[t])) {
            upper[t] = middle[t] + k * sd[t];
            lower[t] = middle[t] - k * sd[t];
        }
    free (sd);
}
