/*  zs_synth.c - the embedded synthetic market.

    Bit-identical everywhere: the randomness is splitmix64 seeded from an
    FNV-1a hash of the symbol and the seed, and every price step uses only
    + - * / on doubles (IEEE-exact, no libm, no FMA contraction), so any
    worker on any machine produces the same bars for a symbol.

    Realism enough to exercise every scan: regimes of trend and volatility
    that switch every few weeks to months, overnight gaps, volume that
    follows volatility with occasional spikes, and now and then a flat
    stretch (a halted or illiquid name) where nothing moves.
*/
#include "zs_bars.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t s_next (uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static double s_unit (uint64_t *state)
{
    return (double) (s_next (state) >> 11) * (1.0 / 9007199254740992.0);
}

/* Roughly normal (Irwin-Hall of 4 uniforms, unit variance). */
static double s_gauss (uint64_t *state)
{
    double s = s_unit (state) + s_unit (state) + s_unit (state)
               + s_unit (state);
    return (s - 2.0) * 1.7320508075688772;
}

/* Days since 1970-01-01 -> y, m, d (proleptic Gregorian). */
static void s_civil (int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = (int) (yy + (*m <= 2));
}

/* The last bar's date: Wednesday 2025-12-31 = day 20453 since the epoch. */
#define LAST_DAY 20453

char *zs_synth_dates (size_t n)
{
    char *dates = (char *) calloc (n ? n : 1, ZS_DATE_SLOT);
    if (!dates)
        return NULL;
    int64_t day = LAST_DAY;
    for (size_t i = n; i-- > 0;) {
        /* 1970-01-01 was a Thursday: weekday = (day + 3) % 7, 0 = Monday */
        while (((day % 7) + 7 + 3) % 7 >= 5)
            day--;
        int y, m, d;
        s_civil (day--, &y, &m, &d);
        snprintf (dates + i * ZS_DATE_SLOT, ZS_DATE_SLOT, "%04d-%02d-%02d", y,
                  m, d);
    }
    return dates;
}

/* The generator's state for (symbol, seed): FNV-1a of both. */
static uint64_t s_seed (const char *symbol, uint64_t seed)
{
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (const char *p = symbol; *p; p++)
        h = (h ^ (uint8_t) *p) * 1099511628211ULL;
    return h;
}

double zs_synth_liquidity (const char *symbol, uint64_t seed)
{
    /* the first draws of zs_synth_generate: its starting price and its
       base volume (the level the volume returns to between spikes) */
    uint64_t st = s_seed (symbol, seed);
    double price = 5.0 + 295.0 * s_unit (&st) * s_unit (&st);
    (void) s_unit (&st); /* volatility */
    double base_volume = 20000.0 + 5000000.0 * s_unit (&st) * s_unit (&st);
    return price * base_volume;
}

zs_bars_t *zs_synth_generate (const char *symbol, uint64_t seed, size_t n,
                              const char *dates)
{
    zs_bars_t *b = zs_bars_new (n);
    if (!b)
        return NULL;
    if (dates) {
        free (b->dates);
        b->dates = (char *) dates;
        b->dates_shared = true;
        b->bytes -= (n ? n : 1) * ZS_DATE_SLOT;
    }
    else {
        char *own = zs_synth_dates (n);
        if (!own) {
            zs_bars_destroy (&b);
            return NULL;
        }
        memcpy (b->dates, own, (n ? n : 1) * ZS_DATE_SLOT);
        free (own);
    }
    uint64_t st = s_seed (symbol, seed);
    /* per-symbol character: price level, volatility, liquidity */
    double price = 5.0 + 295.0 * s_unit (&st) * s_unit (&st);
    double base_vol = 0.008 + 0.025 * s_unit (&st);
    double base_volume = 20000.0 + 5000000.0 * s_unit (&st) * s_unit (&st);
    bool has_flats = s_unit (&st) < 0.05;
    double drift = 0, vol = base_vol;
    size_t regime_left = 0, flat_left = 0;
    double prev_close = price;
    for (size_t i = 0; i < n; i++) {
        if (regime_left == 0) {
            regime_left = 15 + (size_t) (s_next (&st) % 120);
            drift = (s_unit (&st) - 0.48) * 0.004;
            vol = base_vol * (0.5 + 2.0 * s_unit (&st) * s_unit (&st));
        }
        regime_left--;
        if (has_flats && flat_left == 0 && s_unit (&st) < 0.01)
            flat_left = 5 + (size_t) (s_next (&st) % 11);
        double open, close, high, low, volume;
        if (flat_left > 0) {
            flat_left--;
            open = close = high = low = prev_close;
            volume = base_volume * 0.05 * s_unit (&st);
        }
        else {
            double gap = 0;
            if (s_unit (&st) < 0.02)
                gap = s_gauss (&st) * vol * 3.0;
            open = prev_close * (1.0 + gap);
            double r = drift + vol * s_gauss (&st);
            if (r < -0.5)
                r = -0.5;
            close = open * (1.0 + r);
            double hi = open > close ? open : close;
            double lo = open < close ? open : close;
            high = hi * (1.0 + vol * 0.6 * s_unit (&st));
            low = lo * (1.0 - vol * 0.6 * s_unit (&st));
            if (low <= 0)
                low = lo * 0.5;
            double spike = s_unit (&st) < 0.02 ? 3.0 + 5.0 * s_unit (&st)
                                               : 1.0;
            volume = base_volume * (0.6 + 0.8 * s_unit (&st))
                     * (1.0 + 20.0 * (vol - base_vol > 0 ? vol - base_vol : 0))
                     * spike;
        }
        /* keep prices in a sane band without any libm call */
        if (close < 0.5) {
            double k = 2.0;
            open *= k, close *= k, high *= k, low *= k;
        }
        b->open[i] = open;
        b->high[i] = high;
        b->low[i] = low;
        b->close[i] = close;
        b->volume[i] = (double) (int64_t) volume;
        prev_close = close;
    }
    return b;
}
