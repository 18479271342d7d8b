/*  zs_synth_before.c - the synthetic generator as it was before bars were
    made 8 symbols at a time (one symbol, splitmix64 draws as they are
    needed): the bench's in-run reference for the generator's speed.  Not
    linked into any program. */
#include "zs_bars.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

zs_bars_t *zs_synth_before (const char *symbol, uint64_t seed, size_t n,
                            const char *dates);

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

/* The generator's state for (symbol, seed): FNV-1a of both. */
static uint64_t s_seed (const char *symbol, uint64_t seed)
{
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (const char *p = symbol; *p; p++)
        h = (h ^ (uint8_t) *p) * 1099511628211ULL;
    return h;
}

zs_bars_t *zs_synth_before (const char *symbol, uint64_t seed, size_t n,
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
        zs_bars_destroy (&b); /* (the bench always shares its dates) */
        return NULL;
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
