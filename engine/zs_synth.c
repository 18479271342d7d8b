/*  zs_synth.c - the embedded synthetic market.

    Bit-identical everywhere: every random number is a counter-based
    32-bit hash of the symbol's key (an FNV-1a hash of the symbol and the
    seed), the bar and the draw's number, and every price step uses only
    + - * / and comparisons on doubles (IEEE-exact, no libm, no FMA
    contraction), so any worker on any machine, on any of the paths below,
    produces the same bars for a symbol.

    Fast: a bar has a fixed set of draws, each its own counter (one not
    needed is not hashed, and nothing depends on the history of a
    stream), and 8 symbols are generated at once, one per SIMD lane (GCC
    vector extensions compiled for SSE2, AVX2 and AVX-512F and picked at
    run time, as the indicator kernels are); selects replace branches.
    The scalar generator is the reference the vector paths must match
    bit for bit (tests/engine checks it).

    Realism enough to exercise every scan: regimes of trend and volatility
    that switch every few weeks to months, overnight gaps, volume that
    follows volatility with occasional spikes, and now and then a flat
    stretch (a halted or illiquid name) where nothing moves.
*/
#include "zs_bars.h"
#include "zs_draw.h"
#include "zs_kernels.h"
#include "zs_simd.h"

#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wpsabi"

/* Draws per bar, and the row of the symbol's own character. */
#define DRAWS ZS_DRAWS
#define GOLDEN ZS_GOLDEN

/* The draw for counter c of key (lo, hi). */
static inline uint32_t s_draw (uint32_t lo, uint32_t hi, uint32_t c)
{
    uint32_t x = (lo + c * GOLDEN) ^ hi;
    ZS_LOWBIAS32 (x);
    return x;
}

#define U24(u) ((double) (int32_t) ((u) >> 8) * (1.0 / 16777216.0))
#define U16A(u) ((double) (int32_t) ((u) >> 16) * (1.0 / 65536.0))
#define U16B(u) ((double) (int32_t) ((u) &0xffffU) * (1.0 / 65536.0))
/* Roughly normal: Irwin-Hall of four 16-bit uniforms, unit variance. */
#define GAUSS(a, b)                                                        \
    (((double) (int32_t) (((a) >> 16) + ((a) &0xffffU) + ((b) >> 16)       \
                          + ((b) &0xffffU))                                \
          * (1.0 / 65536.0)                                                \
      - 2.0)                                                               \
     * 1.7320508075688772)

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

/* A symbol's key: FNV-1a of the seed and the symbol. */
static uint64_t s_seed (const char *symbol, uint64_t seed)
{
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (const char *p = symbol; *p; p++)
        h = (h ^ (uint8_t) *p) * 1099511628211ULL;
    return h;
}

/*  Its character: counters 0..3 (bars start at DRAWS).  The price level
    and base volume are two 16-bit uniforms multiplied (few expensive or
    heavily traded names, many cheap or thin ones). */
typedef struct {
    double price, base_vol, base_volume;
    bool has_flats;
} s_character_t;

static s_character_t s_character (uint64_t key)
{
    uint32_t lo = (uint32_t) key, hi = (uint32_t) (key >> 32);
    uint32_t a = s_draw (lo, hi, 0), b = s_draw (lo, hi, 1),
             c = s_draw (lo, hi, 2), d = s_draw (lo, hi, 3);
    s_character_t ch;
    ch.price = 5.0 + 295.0 * (U16A (a) * U16B (a));
    ch.base_vol = 0.008 + 0.025 * U24 (b);
    ch.base_volume = 20000.0 + 5000000.0 * (U16A (c) * U16B (c));
    ch.has_flats = U24 (d) < 0.05;
    return ch;
}

double zs_synth_liquidity (const char *symbol, uint64_t seed)
{
    s_character_t ch = s_character (s_seed (symbol, seed));
    return ch.price * ch.base_volume;
}

/*  Truncates 0 <= v < 2^52 toward zero with + - and a compare (the same
    in every lane and on every path). */
#define TWO52 4503599627370496.0

/* ---------------------------------------------------------------------- */
/*  The reference: one symbol, scalar                                     */

static void s_generate (uint64_t key, size_t n, double *o, double *h,
                        double *l, double *c, double *v)
{
    uint32_t lo = (uint32_t) key, hi = (uint32_t) (key >> 32);
    s_character_t ch = s_character (key);
    double drift = 0, vol = ch.base_vol, regime_left = 0, flat_left = 0;
    double prev_close = ch.price;
    for (size_t i = 0; i < n; i++) {
        uint32_t base = (uint32_t) (i + 1) * DRAWS;
        uint32_t d[DRAWS];
        for (int k = 0; k < DRAWS; k++)
            d[k] = s_draw (lo, hi, base + (uint32_t) k);
        if (regime_left == 0) {
            regime_left = 15.0 + (double) (int32_t) (d[0] >> 25);
            drift = (U24 (d[1]) - 0.48) * 0.004;
            vol = ch.base_vol * (0.5 + 2.0 * (U16A (d[2]) * U16B (d[2])));
        }
        regime_left = regime_left - 1.0;
        if (ch.has_flats && flat_left == 0 && U16A (d[3]) < 0.01)
            flat_left = 5.0
                        + (double) (int32_t) (((d[3] & 0xffffU) * 11U) >> 16);
        bool flat = flat_left > 0;
        if (flat)
            flat_left = flat_left - 1.0;
        double gap = U16A (d[4]) < 0.02 ? GAUSS (d[5], d[6]) * vol * 3.0 : 0.0;
        double open = prev_close * (1.0 + gap);
        double r = drift + vol * GAUSS (d[7], d[8]);
        r = r < -0.5 ? -0.5 : r;
        double close = open * (1.0 + r);
        double up = open > close ? open : close;
        double dn = open < close ? open : close;
        double high = up * (1.0 + vol * 0.6 * U16A (d[9]));
        double low = dn * (1.0 - vol * 0.6 * U16B (d[9]));
        low = low <= 0 ? dn * 0.5 : low;
        double spike = U16A (d[10]) < 0.02 ? 3.0 + 5.0 * U16B (d[10]) : 1.0;
        double ex = vol - ch.base_vol;
        ex = ex > 0 ? ex : 0.0;
        double volume = ch.base_volume * (0.6 + 0.8 * U24 (d[11]))
                        * (1.0 + 20.0 * ex) * spike;
        if (flat) {
            open = close = high = low = prev_close;
            volume = ch.base_volume * 0.05 * U24 (d[11]);
        }
        /* keep prices in a sane band without any libm call */
        double k = close < 0.5 ? 2.0 : 1.0;
        open = open * k, close = close * k, high = high * k, low = low * k;
        double t = (volume + TWO52) - TWO52;
        t = t > volume ? t - 1.0 : t;
        c[i] = close;
        if (o) /* the other columns, unless close alone was asked for */
            o[i] = open, h[i] = high, l[i] = low, v[i] = t;
        prev_close = close;
    }
}

/* ---------------------------------------------------------------------- */
/*  8 symbols at once, one per lane                                       */

typedef uint32_t s_v8u __attribute__ ((vector_size (32)));
typedef int32_t s_v8i __attribute__ ((vector_size (32)));
typedef double s_v2d __attribute__ ((vector_size (16)));
typedef long long s_v2l __attribute__ ((vector_size (16)));
typedef int32_t s_v2i __attribute__ ((vector_size (8)));
typedef double s_v4d __attribute__ ((vector_size (32)));
typedef long long s_v4l __attribute__ ((vector_size (32)));
typedef int32_t s_v4i __attribute__ ((vector_size (16)));
typedef double s_v8d __attribute__ ((vector_size (64)));
typedef long long s_v8l __attribute__ ((vector_size (64)));

/*  Draw k of a bar for 8 lanes (32-bit lanes: one AVX2 register); lb is
    lo + base * GOLDEN (the bar's counter base: (base + k) * GOLDEN is
    base * GOLDEN + k * GOLDEN, modulo 2^32). */
#define ZS_SYNTH_HASH(SFX, ATTR)                                           \
    ATTR static inline __attribute__ ((always_inline)) s_v8u s_hash_##SFX ( \
        s_v8u lb, s_v8u hi, uint32_t k)                                    \
    {                                                                      \
        s_v8u x = (lb + k * GOLDEN) ^ hi;                                  \
        ZS_LOWBIAS32 (x);                                                  \
        return x;                                                          \
    }

/*  The sum of two draws' four 16-bit halves (an Irwin-Hall normal's). */
#define HALVES(a, b)                                                       \
    (((a) >> 16) + ((a) &0xffffU) + ((b) >> 16) + ((b) &0xffffU))

/*  The bars of 8 lanes as G = 8 / W vectors of W doubles (the machine's
    own width: independent chains the CPU overlaps), the same operations
    as s_generate per lane, selects for its branches.

    CHUNK bars at a time, in passes, so that no branch on a rare event
    sits inside the vector work: a regime ends or a lane gaps somewhere
    in 8 lanes at a quarter of all bars, and each such branch the CPU
    guessed wrong threw away the work in flight (the one-pass loop made
    317k closes/s a core, the same loop without those branches and their
    rare draws 592k).
    1a: regimes, one lane at a time: the bar where a lane's next regime
        starts is known when its last starts (15 to 142 bars on), so
        only those bars are visited, for draws 0 to 2.
    1b: what every bar needs, no branch: the gap test (draw 4); the
        drift and volatility, the return (draws 7, 8) and its factor
        1 + r; a flat stretch's start (draw 3, where a lane has them);
        the bars where a lane gaps, as bits.
    1c: at the bars where a lane gaps, its factor 1 + g (draws 5, 6).
    2:  the closes' own chain, one bar after the other: two
        multiplications, a select and a compare a bar.
    3:  (whole bars) the wicks and volume (draws 9 to 11, hashed a bar
        ahead), which need the closes but not each other.
    Then the chunk's rows go out to each lane's columns, four (or two)
    bars of a lane a store (s_put_*).  A draw no lane uses is not
    hashed: draws are counters, not a stream, so that changes nothing
    else.  FULL 0 makes the closes alone. */
#define CHUNK 32
/*  A 16-bit uniform k / 65536 is under 0.02 exactly when k < 1311, under
    0.01 exactly when k < 656 (k * 2^-16 is exact): the tests on the draws
    as integers, 8 lanes at once. */
#define GAP16 1311
#define FLAT16 656
#define ZS_SYNTH_BLOCK(SFX, ISA, ATTR, VT, VL, W, FULL)                    \
    ATTR static void s_block_##SFX (const uint64_t key[8], size_t n,       \
                                    double *out[8][5], int m)              \
    {                                                                      \
        enum { G = 8 / (W) };                                              \
        s_v8u lo, hi;                                                      \
        VT drift[G], vol[G], flat_left[G];                                 \
        VT prev_close[G], base_vol[G], base_volume[G];                     \
        VL has_flats[G];                                                   \
        size_t next_regime[8]; /* the bar where each lane's next starts */ \
        for (int q = 0; q < 8; q++) {                                      \
            s_character_t ch = s_character (key[q]);                       \
            lo[q] = (uint32_t) key[q];                                     \
            hi[q] = (uint32_t) (key[q] >> 32);                             \
            prev_close[q / (W)][q % (W)] = ch.price;                       \
            base_vol[q / (W)][q % (W)] = ch.base_vol;                      \
            base_volume[q / (W)][q % (W)] = ch.base_volume;                \
            has_flats[q / (W)][q % (W)] = ch.has_flats ? -1 : 0;           \
            next_regime[q] = 0;                                            \
        }                                                                  \
        const VT zero = {0}, one = zero + 1.0;                             \
        bool flats_here = false; /* a lane that has flat stretches */      \
        for (int g = 0; g < G; g++) {                                      \
            drift[g] = zero;                                               \
            flat_left[g] = zero;                                           \
            vol[g] = base_vol[g];                                          \
            flats_here |= s_any_##ISA (has_flats[g]);                      \
        }                                                                  \
        /* a chunk's rows: bar j, lanes g * W .. g * W + W - 1.  sw and    \
           gapf hold their resting value (no lane starts a regime, no      \
           gap) but at the chunk's event bars, which put back */           \
        VT gapf[CHUNK][G], retf[CHUNK][G], vols[CHUNK][G];                 \
        VT cl[CHUNK][G], newd[CHUNK][G], newv[CHUNK][G];                   \
        VL flatm[CHUNK][G], sw[CHUNK][G];                                  \
        VT op[FULL ? CHUNK : 1][G], hg[FULL ? CHUNK : 1][G];               \
        VT lw[FULL ? CHUNK : 1][G], vo[FULL ? CHUNK : 1][G];               \
        for (int j = 0; j < CHUNK; j++)                                    \
            for (int g = 0; g < G; g++) {                                  \
                gapf[j][g] = one;                                          \
                sw[j][g] = (VL) zero;                                      \
                newd[j][g] = newv[j][g] = zero;                            \
            }                                                              \
        for (size_t c0 = 0; c0 < n; c0 += CHUNK) {                         \
            size_t kn = n - c0 < CHUNK ? n - c0 : CHUNK;                   \
            uint32_t gapbits = 0, swbits = 0;                              \
            /* 1a. where a lane's regime ends (every 15 to 142 bars, known \
               from its start), the next one's length, drift and           \
               volatility: one lane at a time */                           \
            for (int q = 0; q < 8; q++)                                    \
                for (size_t s; (s = next_regime[q]) < c0 + kn;) {          \
                    size_t j = s - c0;                                     \
                    uint32_t base = (uint32_t) (s + 1) * DRAWS;            \
                    uint32_t d0 = s_draw (lo[q], hi[q], base);             \
                    uint32_t d1 = s_draw (lo[q], hi[q], base + 1);         \
                    uint32_t d2 = s_draw (lo[q], hi[q], base + 2);         \
                    next_regime[q] = s + 15 + (d0 >> 25);                  \
                    sw[j][q / (W)][q % (W)] = -1;                          \
                    newd[j][q / (W)][q % (W)] = (U24 (d1) - 0.48) * 0.004; \
                    newv[j][q / (W)][q % (W)] =                            \
                        base_vol[q / (W)][q % (W)]                         \
                        * (0.5 + 2.0 * (U16A (d2) * U16B (d2)));           \
                    swbits |= 1U << j;                                     \
                }                                                          \
            /* 1b. every bar's own draws, no branch: the gap test, the     \
               drift and volatility (the new regime's where one starts),   \
               the return and its factor, a flat stretch's start (where a  \
               lane has them); which bars have a lane that gaps, one bit   \
               a bar */                                                    \
            for (size_t j = 0; j < kn; j++) {                              \
                s_v8u lb = lo + (uint32_t) (c0 + j + 1) * DRAWS * GOLDEN;  \
                s_v8u igap = s_hash_##ISA (lb, hi, 4) >> 16;               \
                s_v8u d7 = s_hash_##ISA (lb, hi, 7);                       \
                s_v8u d8 = s_hash_##ISA (lb, hi, 8);                       \
                s_v8u iret = HALVES (d7, d8);                              \
                bool gap_any = s_any8_##ISA ((s_v8i) igap < GAP16);        \
                for (int g = 0; g < G; g++) {                              \
                    drift[g] = s_sel_##ISA (sw[j][g], newd[j][g],          \
                                            drift[g]);                     \
                    vol[g] = s_sel_##ISA (sw[j][g], newv[j][g], vol[g]);   \
                    vols[j][g] = vol[g];                                   \
                    VT r = drift[g]                                        \
                           + vol[g]                                        \
                                 * ((s_cvt_##ISA (iret, g) * (1.0 / 65536.0) \
                                     - 2.0)                                \
                                    * 1.7320508075688772);                 \
                    r = s_sel_##ISA (r < -0.5, zero - 0.5, r);             \
                    retf[j][g] = 1.0 + r;                                  \
                }                                                          \
                gapbits |= (uint32_t) gap_any << j;                        \
                if (flats_here) {                                          \
                    s_v8u d3 = s_hash_##ISA (lb, hi, 3);                   \
                    s_v8u ifl = d3 >> 16, ilen = ((d3 & 0xffffU) * 11U) >> 16; \
                    for (int g = 0; g < G; g++) {                          \
                        VL start = has_flats[g] & (flat_left[g] == zero)   \
                                   & s_wide_##ISA ((s_v8i) ifl < FLAT16, g); \
                        VT fl = s_sel_##ISA (start,                        \
                                             5.0 + s_cvt_##ISA (ilen, g),  \
                                             flat_left[g]);                \
                        VL flat = fl > zero;                               \
                        flat_left[g] = s_sel_##ISA (flat, fl - 1.0, fl);   \
                        flatm[j][g] = flat;                                \
                    }                                                      \
                }                                                          \
            }                                                              \
            for (uint32_t b = swbits; b; b &= b - 1)                       \
                for (int g = 0; g < G; g++)                                \
                    sw[__builtin_ctz (b)][g] = (VL) zero;                  \
            /* 1c. the gap's factor where a lane gaps */                   \
            for (uint32_t b = gapbits; b; b &= b - 1) {                    \
                size_t j = (size_t) __builtin_ctz (b);                     \
                s_v8u lb = lo + (uint32_t) (c0 + j + 1) * DRAWS * GOLDEN;  \
                s_v8u igap = s_hash_##ISA (lb, hi, 4) >> 16;               \
                s_v8u d5 = s_hash_##ISA (lb, hi, 5);                       \
                s_v8u d6 = s_hash_##ISA (lb, hi, 6);                       \
                s_v8u igg = HALVES (d5, d6);                               \
                for (int g = 0; g < G; g++)                                \
                    gapf[j][g] = 1.0                                       \
                                 + s_sel_##ISA (                           \
                                        s_wide_##ISA ((s_v8i) igap < GAP16, \
                                                      g),                  \
                                        ((s_cvt_##ISA (igg, g)             \
                                              * (1.0 / 65536.0)            \
                                          - 2.0)                           \
                                         * 1.7320508075688772)             \
                                            * vols[j][g] * 3.0,            \
                                        zero);                             \
            }                                                              \
            /* 2. the closes, bar after bar: the open is the last close    \
               times 1 + its gap (exactly the last close where it does not \
               gap), the close the open times 1 + its return, or the last  \
               close where flat; doubled where under 0.5 */                \
            VT pc[G];                                                      \
            for (int g = 0; g < G; g++)                                    \
                pc[g] = prev_close[g];                                     \
            for (size_t j = 0; j < kn; j++) {                              \
                VL halves[G];                                              \
                bool any = false;                                          \
                for (int g = 0; g < G; g++) {                              \
                    VT close = pc[g] * gapf[j][g] * retf[j][g];            \
                    if (flats_here)                                        \
                        close = s_sel_##ISA (flatm[j][g], pc[g], close);   \
                    halves[g] = close < 0.5;                               \
                    any |= s_any_##ISA (halves[g]);                        \
                    pc[g] = close;                                         \
                }                                                          \
                for (int g = 0; any && g < G; g++)                         \
                    pc[g] = pc[g]                                          \
                            * s_sel_##ISA (halves[g], one + 1.0, one);     \
                for (int g = 0; g < G; g++)                                \
                    cl[j][g] = pc[g];                                      \
            }                                                              \
            /* 3. the wicks and volume (whole bars) */                     \
            /* each bar's draws hashed a bar ahead, so that their chains   \
               overlap the last bar's arithmetic */                        \
            s_v8u lb3 = lo + (uint32_t) (c0 + 1) * DRAWS * GOLDEN;         \
            s_v8u h9 = s_hash_##ISA (lb3, hi, 9);                          \
            s_v8u h10 = s_hash_##ISA (lb3, hi, 10);                        \
            s_v8u h11 = s_hash_##ISA (lb3, hi, 11);                        \
            for (size_t j = 0; (FULL) && j < kn; j++) {                    \
                s_v8u d9 = h9, d10 = h10, ivolume = h11 >> 8;              \
                lb3 += DRAWS * GOLDEN;                                     \
                h9 = s_hash_##ISA (lb3, hi, 9);                            \
                h10 = s_hash_##ISA (lb3, hi, 10);                          \
                h11 = s_hash_##ISA (lb3, hi, 11);                          \
                s_v8i spiked = (s_v8i) (d10 >> 16) < GAP16; /* < 0.02 */   \
                for (int g = 0; g < G; g++) {                              \
                    VT p = j ? cl[j - 1][g] : prev_close[g];               \
                    VT v_ = vols[j][g];                                    \
                    VT open = p * gapf[j][g];                              \
                    VT close = open * retf[j][g];                          \
                    VT up = s_max_##ISA (open, close);                     \
                    VT dn = s_min_##ISA (open, close);                     \
                    VT high = up * (1.0 + v_ * 0.6                         \
                                              * (s_cvt_##ISA (d9 >> 16, g) \
                                                 * (1.0 / 65536.0)));      \
                    VT low = dn * (1.0 - v_ * 0.6                          \
                                             * (s_cvt_##ISA (d9 & 0xffffU, g) \
                                                * (1.0 / 65536.0)));       \
                    low = s_sel_##ISA (low <= zero, dn * 0.5, low);        \
                    VT spike = s_sel_##ISA (s_wide_##ISA (spiked, g),      \
                                    3.0                                    \
                                        + 5.0                              \
                                              * (s_cvt_##ISA (d10 & 0xffffU, g) \
                                                 * (1.0 / 65536.0)),       \
                                    one);                                  \
                    VT ex = v_ - base_vol[g];                              \
                    ex = s_max_##ISA (ex, zero);                           \
                    VT uv = s_cvt_##ISA (ivolume, g) * (1.0 / 16777216.0); \
                    VT volume = base_volume[g] * (0.6 + 0.8 * uv)          \
                                * (1.0 + 20.0 * ex) * spike;               \
                    if (flats_here) {                                      \
                        VL flat = flatm[j][g];                             \
                        open = s_sel_##ISA (flat, p, open);                \
                        close = s_sel_##ISA (flat, p, close);              \
                        high = s_sel_##ISA (flat, p, high);                \
                        low = s_sel_##ISA (flat, p, low);                  \
                        volume = s_sel_##ISA (flat,                        \
                                              base_volume[g] * 0.05 * uv,  \
                                              volume);                     \
                    }                                                      \
                    VL halves = close < 0.5;                               \
                    if (s_any_##ISA (halves)) {                            \
                        VT k2 = s_sel_##ISA (halves, one + 1.0, one);      \
                        open = open * k2, high = high * k2, low = low * k2; \
                    }                                                      \
                    op[FULL ? j : 0][g] = open;                            \
                    hg[FULL ? j : 0][g] = high;                            \
                    lw[FULL ? j : 0][g] = low;                             \
                    vo[FULL ? j : 0][g] = s_trunc_##ISA (volume);          \
                }                                                          \
            }                                                              \
            for (uint32_t b = gapbits; b; b &= b - 1)                      \
                for (int g = 0; g < G; g++)                                \
                    gapf[__builtin_ctz (b)][g] = one;                      \
            for (int g = 0; g < G; g++)                                    \
                prev_close[g] = pc[g];                                     \
            s_put_##ISA ((const double *) cl, out, 3, c0, kn, m);          \
            if (FULL) {                                                    \
                s_put_##ISA ((const double *) op, out, 0, c0, kn, m);      \
                s_put_##ISA ((const double *) hg, out, 1, c0, kn, m);      \
                s_put_##ISA ((const double *) lw, out, 2, c0, kn, m);      \
                s_put_##ISA ((const double *) vo, out, 4, c0, kn, m);      \
            }                                                              \
        }                                                                  \
    }

#define SEL(VL, m, a, b)                                                   \
    ((__typeof__ (a)) (((VL) (a) & (m)) | ((VL) (b) & ~(m))))

#define AVX2 __attribute__ ((target ("avx2")))
#define AVX512 __attribute__ ((target ("avx512f")))
ZS_SYNTH_HASH (sse2, )
ZS_SYNTH_HASH (avx2, AVX2)
ZS_SYNTH_HASH (avx512, AVX512)

/*  m ? a : b lane by lane, for masks of all ones or all zeros: AVX2 in
    one instruction (blendv reads each lane's sign bit) where the generic
    select is three; GCC makes AVX-512's one already. */
static inline s_v2d s_sel_sse2 (s_v2l m, s_v2d a, s_v2d b)
{
    return SEL (s_v2l, m, a, b);
}
AVX2 static inline s_v4d s_sel_avx2 (s_v4l m, s_v4d a, s_v4d b)
{
    return (s_v4d) _mm256_blendv_pd ((__m256d) b, (__m256d) a, (__m256d) m);
}
AVX512 static inline s_v8d s_sel_avx512 (s_v8l m, s_v8d a, s_v8d b)
{
    return SEL (s_v8l, m, a, b);
}

/*  Whether any of 8 32-bit lanes of a mask is set. */
static inline bool s_any8_sse2 (s_v8i m)
{
    __m128i a, b;
    memcpy (&a, &m, sizeof a);
    memcpy (&b, (const char *) &m + sizeof a, sizeof b);
    return _mm_movemask_epi8 (_mm_or_si128 (a, b)) != 0;
}
AVX2 static inline bool s_any8_avx2 (s_v8i m)
{
    return !_mm256_testz_si256 ((__m256i) m, (__m256i) m);
}
AVX512 static inline bool s_any8_avx512 (s_v8i m)
{
    return s_any8_avx2 (m);
}

/*  Whether any lane of a mask is set; group g of 8 draws (each < 2^31)
    as W doubles.  GCC's generic conversion of 8 lanes splits in two
    halves and joins them (four instructions where AVX-512 has one), and
    of half of them goes through memory: the intrinsics for those paths. */
static inline bool s_any_sse2 (s_v2l m)
{
    return _mm_movemask_pd ((__m128d) m) != 0;
}
static inline s_v2d s_cvt_sse2 (s_v8u x, int g)
{
    s_v2i y;
    memcpy (&y, (const char *) &x + g * sizeof y, sizeof y);
    return __builtin_convertvector (y, s_v2d);
}
/* Lanes g * W .. of such a comparison, widened to a mask of W doubles. */
static inline s_v2l s_wide_sse2 (s_v8i m, int g)
{
    s_v2i y;
    memcpy (&y, (const char *) &m + g * sizeof y, sizeof y);
    return __builtin_convertvector (y, s_v2l);
}
AVX2 static inline s_v4l s_wide_avx2 (s_v8i m, int g)
{
    __m128i y = g ? _mm256_extracti128_si256 ((__m256i) m, 1)
                  : _mm256_castsi256_si128 ((__m256i) m);
    return (s_v4l) _mm256_cvtepi32_epi64 (y);
}
AVX512 static inline s_v8l s_wide_avx512 (s_v8i m, int g)
{
    (void) g;
    return (s_v8l) _mm512_cvtepi32_epi64 ((__m256i) m);
}
/*  a > b ? a : b and a < b ? a : b, as the reference selects: the
    instructions give their second operand unless the first is greater
    (smaller), equal and unordered alike. */
static inline s_v2d s_max_sse2 (s_v2d a, s_v2d b)
{
    return (s_v2d) _mm_max_pd ((__m128d) a, (__m128d) b);
}
static inline s_v2d s_min_sse2 (s_v2d a, s_v2d b)
{
    return (s_v2d) _mm_min_pd ((__m128d) a, (__m128d) b);
}
AVX2 static inline s_v4d s_max_avx2 (s_v4d a, s_v4d b)
{
    return (s_v4d) _mm256_max_pd ((__m256d) a, (__m256d) b);
}
AVX2 static inline s_v4d s_min_avx2 (s_v4d a, s_v4d b)
{
    return (s_v4d) _mm256_min_pd ((__m256d) a, (__m256d) b);
}
AVX512 static inline s_v8d s_max_avx512 (s_v8d a, s_v8d b)
{
    return (s_v8d) _mm512_max_pd ((__m512d) a, (__m512d) b);
}
AVX512 static inline s_v8d s_min_avx512 (s_v8d a, s_v8d b)
{
    return (s_v8d) _mm512_min_pd ((__m512d) a, (__m512d) b);
}
AVX2 static inline bool s_any_avx2 (s_v4l m)
{
    return _mm256_movemask_pd ((__m256d) m) != 0;
}
AVX2 static inline s_v4d s_cvt_avx2 (s_v8u x, int g)
{
    __m128i y = g ? _mm256_extracti128_si256 ((__m256i) x, 1)
                  : _mm256_castsi256_si128 ((__m256i) x);
    return (s_v4d) _mm256_cvtepi32_pd (y);
}
AVX512 static inline bool s_any_avx512 (s_v8l m)
{
    return _mm512_test_epi64_mask ((__m512i) m, (__m512i) m) != 0;
}
AVX512 static inline s_v8d s_cvt_avx512 (s_v8u x, int g)
{
    (void) g;
    return (s_v8d) _mm512_cvtepi32_pd ((__m256i) x);
}

/*  A chunk's rows (bar j: lanes 0..7, 8 doubles) out to lane q's column
    f from bar c0, for the m lanes kept: 2 or 4 bars of a lane a store
    (a 2x2 or 4x4 transpose of the rows), the last few one by one. */
static inline void s_put_tail (const double *buf, double *out[8][5], int f,
                               size_t c0, size_t j, size_t kn, int m)
{
    for (int q = 0; q < m; q++)
        for (size_t k = j; k < kn; k++)
            out[q][f][c0 + k] = buf[k * 8 + (size_t) q];
}
static inline void s_put_sse2 (const double *buf, double *out[8][5], int f,
                               size_t c0, size_t kn, int m)
{
    size_t j = 0;
    for (; j + 2 <= kn; j += 2)
        for (int q = 0; q < m; q += 2) {
            __m128d r0 = _mm_loadu_pd (buf + j * 8 + q);
            __m128d r1 = _mm_loadu_pd (buf + (j + 1) * 8 + q);
            _mm_storeu_pd (out[q][f] + c0 + j, _mm_unpacklo_pd (r0, r1));
            if (q + 1 < m)
                _mm_storeu_pd (out[q + 1][f] + c0 + j,
                               _mm_unpackhi_pd (r0, r1));
        }
    s_put_tail (buf, out, f, c0, j, kn, m);
}
/*  Bars j..j+3 of lanes q..q+3 (rows at b, 8 doubles apart), lane by
    lane. */
AVX2 static inline void s_t4 (const double *b, __m256d c[4])
{
    zs_t4 (_mm256_loadu_pd (b), _mm256_loadu_pd (b + 8),
           _mm256_loadu_pd (b + 16), _mm256_loadu_pd (b + 24), c);
}
AVX2 static inline void s_put_avx2 (const double *buf, double *out[8][5],
                                    int f, size_t c0, size_t kn, int m)
{
    size_t j = 0;
    __m256d c[4];
    if (m == 8) /* the whole block (nearly always): no test a store */
        for (; j + 4 <= kn; j += 4)
            for (int q = 0; q < 8; q += 4) {
                s_t4 (buf + j * 8 + q, c);
                _mm256_storeu_pd (out[q][f] + c0 + j, c[0]);
                _mm256_storeu_pd (out[q + 1][f] + c0 + j, c[1]);
                _mm256_storeu_pd (out[q + 2][f] + c0 + j, c[2]);
                _mm256_storeu_pd (out[q + 3][f] + c0 + j, c[3]);
            }
    else
        for (; j + 4 <= kn; j += 4)
            for (int q = 0; q < m; q += 4) {
                s_t4 (buf + j * 8 + q, c);
                for (int k = 0; k < 4 && q + k < m; k++)
                    _mm256_storeu_pd (out[q + k][f] + c0 + j, c[k]);
            }
    s_put_tail (buf, out, f, c0, j, kn, m);
}
AVX512 static inline void s_put_avx512 (const double *buf,
                                        double *out[8][5], int f, size_t c0,
                                        size_t kn, int m)
{
    s_put_avx2 (buf, out, f, c0, kn, m);
}

/*  A volume's whole part (0 <= v < 2^52, as volumes are): SSE2 by
    adding and taking away 2^52 (rounds to nearest) and stepping down
    where that rounded up, as the reference does; AVX2 and AVX-512 round
    toward zero in one instruction, the same value. */
static inline s_v2d s_trunc_sse2 (s_v2d v)
{
    s_v2d t = (v + TWO52) - TWO52;
    return SEL (s_v2l, t > v, t - 1.0, t);
}
AVX2 static inline s_v4d s_trunc_avx2 (s_v4d v)
{
    return (s_v4d) _mm256_round_pd ((__m256d) v,
                                    _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
}
AVX512 static inline s_v8d s_trunc_avx512 (s_v8d v)
{
    return (s_v8d) _mm512_roundscale_pd ((__m512d) v,
                                         _MM_FROUND_TO_ZERO
                                             | _MM_FROUND_NO_EXC);
}

ZS_SYNTH_BLOCK (sse2, sse2, , s_v2d, s_v2l, 2, 1)
ZS_SYNTH_BLOCK (avx2, avx2, AVX2, s_v4d, s_v4l, 4, 1)
ZS_SYNTH_BLOCK (avx512, avx512, AVX512, s_v8d, s_v8l, 8, 1)
ZS_SYNTH_BLOCK (sse2_close, sse2, , s_v2d, s_v2l, 2, 0)
ZS_SYNTH_BLOCK (avx2_close, avx2, AVX2, s_v4d, s_v4l, 4, 0)
ZS_SYNTH_BLOCK (avx512_close, avx512, AVX512, s_v8d, s_v8l, 8, 0)

/* ---------------------------------------------------------------------- */

static zs_bars_t *s_bars (size_t n, const char *dates, bool close_only)
{
    zs_bars_t *b = zs_bars_new_cols (n, dates, close_only);
    if (!b)
        return NULL;
    if (!dates) {
        char *own = zs_synth_dates (n);
        if (!own) {
            zs_bars_destroy (&b);
            return NULL;
        }
        memcpy (b->dates, own, (n ? n : 1) * ZS_DATE_SLOT);
        free (own);
    }
    return b;
}

zs_bars_t *zs_synth_generate (const char *symbol, uint64_t seed, size_t n,
                              const char *dates)
{
    zs_bars_t *b = s_bars (n, dates, false);
    if (b)
        s_generate (s_seed (symbol, seed), n, b->open, b->high, b->low,
                    b->close, b->volume);
    return b;
}

int zs_synth_generate_block (int isa_, const char *const *symbols,
                             size_t m, uint64_t seed, size_t n,
                             const char *dates, bool close_only,
                             zs_bars_t **out)
{
    zs_isa_t isa = (zs_isa_t) isa_;
    if (m > 8)
        return -1;
    if (m == 0)
        return 0;
    for (size_t q = 0; q < m; q++)
        out[q] = NULL;
    uint64_t key[8];
    double *cols[8][5] = {{NULL}};
    for (size_t q = 0; q < 8; q++) {
        /* lanes past m repeat the first symbol (computed, not kept) */
        key[q] = s_seed (symbols[q < m ? q : 0], seed);
        if (q >= m)
            continue;
        zs_bars_t *b = s_bars (n, dates, close_only);
        if (!(out[q] = b)) {
            for (size_t k = 0; k < q; k++)
                zs_bars_destroy (&out[k]);
            return -1;
        }
        cols[q][0] = b->open;
        cols[q][1] = b->high;
        cols[q][2] = b->low;
        cols[q][3] = b->close;
        cols[q][4] = b->volume;
    }
    switch (m > 1 ? isa : ZS_ISA_SCALAR) {
    case ZS_ISA_AVX512:
        (close_only ? s_block_avx512_close : s_block_avx512) (key, n, cols,
                                                             (int) m);
        break;
    case ZS_ISA_AVX2:
        (close_only ? s_block_avx2_close : s_block_avx2) (key, n, cols,
                                                         (int) m);
        break;
    case ZS_ISA_SSE2:
        (close_only ? s_block_sse2_close : s_block_sse2) (key, n, cols,
                                                         (int) m);
        break;
    default:
        for (size_t q = 0; q < m; q++)
            s_generate (key[q], n, cols[q][0], cols[q][1], cols[q][2],
                        cols[q][3], cols[q][4]);
        break;
    }
    return 0;
}
