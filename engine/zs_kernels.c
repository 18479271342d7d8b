/*  zs_kernels.c - see zs_kernels.h.

    One pass over a block: the bars of 8 symbols are read in chunks of
    ZS_CHUNK bars, transposed into a small buffer that stays in L1 (bar t
    of lane l at [t * 8 + l]), and every recursive term of the scan
    advances over the chunk before the next is read, its state carried
    from chunk to chunk.  So each bar is read from memory once, however
    many terms need it, and the reading of one chunk overlaps the
    arithmetic of the last instead of a copy of the whole history
    preceding the arithmetic.

    Each term's code is written once over an 8-lane vector type (GCC
    vector extensions) and instantiated three times: for the x86-64
    baseline (SSE2, 2 lanes per instruction), for AVX2 (4) and for
    AVX-512F (8), each with a target attribute, picked at run time.  The
    "scalar" path is zs_term_eval itself, symbol by symbol: the reference
    every vector path must match bit for bit (tests/engine checks it).

    Each body performs, per lane, exactly the operations of zs_term.c in
    the same order; selects replace branches (d > 0 ? d : 0 as a mask), and
    the engine is compiled with -ffp-contract=off so nothing is fused.
*/
#include "zs_kernels.h"
#include "zs_simd.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Every function here is static: vectors never cross an ABI boundary. */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef double v2d __attribute__ ((vector_size (16)));
typedef long long v2l __attribute__ ((vector_size (16)));
typedef double v4d __attribute__ ((vector_size (32)));
typedef long long v4l __attribute__ ((vector_size (32)));
typedef double v8d __attribute__ ((vector_size (64)));
typedef long long v8l __attribute__ ((vector_size (64)));

/* Bars per chunk: three columns of a chunk (close, high, low) plus the
   bar before it fit in L1 many times over. */
#define ZS_CHUNK 32
#define D ZS_TERM_DEPTH

/*  A term's state between chunks: up to 4 vectors of the block's lanes
    (a running sum until the term's first value, then the recursion). */
typedef struct {
    double v[4][ZS_BLOCK];
} s_state_t;

/*  A chunk: c, h, l point at the row of the chunk's first bar t0 (row r
    holds bar t0 + r); c[-ZS_BLOCK..-1] holds bar t0 - 1 when t0 > 0. */
typedef struct {
    const double *c, *h, *l;
    size_t t0, t1; /* the chunk's bars: t0 <= t < t1 */
    size_t n;      /* bars in the whole history      */
} s_chunk_t;

/* the loops over a block's vectors unrolled, so that their states stay
   in registers */
#define FOR_G(g, n) _Pragma ("GCC unroll 8") for (int g = 0; g < (n); g++)

/*  The 8 lanes of a block are G = 8 / W vectors of W lanes: independent
    chains the CPU overlaps.  VT is the vector type, VL its mask type. */

#define SELECT(VL, mask, a, b)                                                 \
    ((__typeof__ (a)) (((VL) (a) & (mask)) | ((VL) (b) & ~(mask))))

/* Stores each group's lanes into out[lane][back] for the last bars. */
#define KEEP(out, n, t, v, G, W)                                               \
    do {                                                                       \
        size_t back_ = (n) -1 - (t);                                           \
        if (back_ < D)                                                         \
            for (int g_ = 0; g_ < (G); g_++)                                   \
                for (int l_ = 0; l_ < (W); l_++)                               \
                    out[g_ * (W) + l_][back_] = (v)[g_][l_];                   \
    } while (0)

/* The first bar whose value is kept (the last D of n). */
static inline size_t s_keep_from (size_t n)
{
    return n > D ? n - D : 0;
}

#define ZS_KERNELS(SFX, ATTR, VT, VL, W)                                       \
    enum { G_##SFX = ZS_BLOCK / (W) };                                         \
    ATTR static inline __attribute__ ((always_inline))                         \
    VT s_ld_##SFX (const double *p)                                            \
    {                                                                          \
        VT v;                                                                  \
        memcpy (&v, p, sizeof v);                                              \
        return v;                                                              \
    }                                                                          \
    /* bar t, group g of the chunk's column x */                               \
    ATTR static inline __attribute__ ((always_inline))                         \
    VT s_bar_##SFX (const double *x, const s_chunk_t *ch, size_t t, int g)     \
    {                                                                          \
        return s_ld_##SFX (x + ((ptrdiff_t) t - (ptrdiff_t) ch->t0) * ZS_BLOCK \
                           + g * (W));                                         \
    }                                                                          \
    ATTR static inline __attribute__ ((always_inline)) void s_get_##SFX (      \
        VT *v, const double *slot)                                             \
    {                                                                          \
        FOR_G (g, G_##SFX)                                                     \
            v[g] = s_ld_##SFX (slot + g * (W));                                \
    }                                                                          \
    ATTR static inline __attribute__ ((always_inline)) void s_put_##SFX (      \
        double *slot, const VT *v)                                             \
    {                                                                          \
        FOR_G (g, G_##SFX)                                                     \
            memcpy (slot + g * (W), &v[g], sizeof v[g]);                       \
    }                                                                          \
                                                                               \
    /* EMA: the mean of the first p bars, then alpha x + (1-alpha) e */        \
    ATTR static void s_ema_##SFX (s_state_t *st, const s_chunk_t *ch,          \
                                  size_t p, double out[ZS_BLOCK][D])           \
    {                                                                          \
        enum { G = G_##SFX };                                                  \
        size_t n = ch->n, t = ch->t0;                                          \
        if (n < p)                                                             \
            return;                                                            \
        VT e[G];                                                               \
        s_get_##SFX (e, st->v[0]);                                             \
        if (t < p) {                                                           \
            size_t end = ch->t1 < p ? ch->t1 : p;                              \
            for (; t < end; t++)                                               \
                FOR_G (g, G)                                                   \
                    e[g] += s_bar_##SFX (ch->c, ch, t, g);                     \
            if (t == p) {                                                      \
                FOR_G (g, G)                                                   \
                    e[g] = e[g] / (double) p;                                  \
                KEEP (out, n, p - 1, e, G, W);                                 \
            }                                                                  \
        }                                                                      \
        double alpha = 2.0 / ((double) p + 1);                                 \
        double oma = 1 - alpha;                                                \
        for (; t < ch->t1; t++) {                                              \
            FOR_G (g, G)                                                       \
                e[g] = alpha * s_bar_##SFX (ch->c, ch, t, g) + oma * e[g];     \
            KEEP (out, n, t, e, G, W);                                         \
        }                                                                      \
        s_put_##SFX (st->v[0], e);                                             \
    }                                                                          \
                                                                               \
    ATTR static inline __attribute__ ((always_inline)) void s_rsi_keep_##SFX ( \
        const VT *au, const VT *ad, size_t n, size_t t,                        \
        double out[ZS_BLOCK][D])                                               \
    {                                                                          \
        enum { G = G_##SFX };                                                  \
        VT v[G];                                                               \
        FOR_G (g, G) {                                                         \
            VT zero = {0};                                                     \
            VT s = au[g] + ad[g];                                              \
            VL defined = s > zero;                                             \
            v[g] = SELECT (VL, defined, 100.0 * au[g] / s, zero + NAN);        \
        }                                                                      \
        KEEP (out, n, t, v, G, W);                                             \
    }                                                                          \
                                                                               \
    /* one RSI step at bar t (t >= 1): the up and down moves */                \
    ATTR static inline __attribute__ ((always_inline)) void s_moves_##SFX (    \
        const s_chunk_t *ch, size_t t, int g, VT *up, VT *dn)                  \
    {                                                                          \
        VT d =                                                                 \
            s_bar_##SFX (ch->c, ch, t, g) - s_bar_##SFX (ch->c, ch, t - 1, g); \
        *up = s_max0_##SFX (d);                                                \
        *dn = s_max0_##SFX (-d);                                               \
    }                                                                          \
                                                                               \
    /* RSI: mean moves of bars 1..p, then Wilder's smoothing */                \
    ATTR static void s_rsi_##SFX (s_state_t *st, const s_chunk_t *ch,          \
                                  size_t p, double out[ZS_BLOCK][D])           \
    {                                                                          \
        enum { G = G_##SFX };                                                  \
        size_t n = ch->n, t = ch->t0 ? ch->t0 : 1;                             \
        if (n < p + 1)                                                         \
            return;                                                            \
        VT au[G], ad[G], up, dn;                                               \
        s_get_##SFX (au, st->v[0]);                                            \
        s_get_##SFX (ad, st->v[1]);                                            \
        if (t <= p) {                                                          \
            size_t end = ch->t1 < p + 1 ? ch->t1 : p + 1;                      \
            for (; t < end; t++)                                               \
                FOR_G (g, G) {                                                 \
                    s_moves_##SFX (ch, t, g, &up, &dn);                        \
                    au[g] += up;                                               \
                    ad[g] += dn;                                               \
                }                                                              \
            if (t == p + 1) {                                                  \
                FOR_G (g, G) {                                                 \
                    au[g] = au[g] / (double) p;                                \
                    ad[g] = ad[g] / (double) p;                                \
                }                                                              \
                s_rsi_keep_##SFX (au, ad, n, p, out);                          \
            }                                                                  \
        }                                                                      \
        double alpha = 1.0 / (double) p;                                       \
        double oma = 1 - alpha;                                                \
        size_t keep = s_keep_from (n);                                         \
        for (; t < ch->t1; t++) {                                              \
            FOR_G (g, G) {                                                     \
                s_moves_##SFX (ch, t, g, &up, &dn);                            \
                au[g] = alpha * up + oma * au[g];                              \
                ad[g] = alpha * dn + oma * ad[g];                              \
            }                                                                  \
            if (t >= keep)                                                     \
                s_rsi_keep_##SFX (au, ad, n, t, out);                          \
        }                                                                      \
        s_put_##SFX (st->v[0], au);                                            \
        s_put_##SFX (st->v[1], ad);                                            \
    }                                                                          \
                                                                               \
    ATTR static inline __attribute__ ((always_inline))                         \
    VT s_tr_##SFX (const s_chunk_t *ch, size_t t, int g)                       \
    {                                                                          \
        VT pc = s_bar_##SFX (ch->c, ch, t - 1, g);                             \
        VT hi = s_bar_##SFX (ch->h, ch, t, g);                                 \
        VT lo = s_bar_##SFX (ch->l, ch, t, g);                                 \
        VT top = SELECT (VL, hi > pc, hi, pc);                                 \
        VT bottom = SELECT (VL, lo < pc, lo, pc);                              \
        return top - bottom;                                                   \
    }                                                                          \
                                                                               \
    /* ATR: the mean true range of bars 1..p, then Wilder's smoothing */       \
    ATTR static void s_atr_##SFX (s_state_t *st, const s_chunk_t *ch,          \
                                  size_t p, double out[ZS_BLOCK][D])           \
    {                                                                          \
        enum { G = G_##SFX };                                                  \
        size_t n = ch->n, t = ch->t0 ? ch->t0 : 1;                             \
        if (n < p + 1)                                                         \
            return;                                                            \
        VT a[G];                                                               \
        s_get_##SFX (a, st->v[0]);                                             \
        if (t <= p) {                                                          \
            size_t end = ch->t1 < p + 1 ? ch->t1 : p + 1;                      \
            for (; t < end; t++)                                               \
                FOR_G (g, G)                                                   \
                    a[g] += s_tr_##SFX (ch, t, g);                             \
            if (t == p + 1) {                                                  \
                FOR_G (g, G)                                                   \
                    a[g] = a[g] / (double) p;                                  \
                KEEP (out, n, p, a, G, W);                                     \
            }                                                                  \
        }                                                                      \
        double alpha = 1.0 / (double) p;                                       \
        double oma = 1 - alpha;                                                \
        for (; t < ch->t1; t++) {                                              \
            FOR_G (g, G)                                                       \
                a[g] = alpha * s_tr_##SFX (ch, t, g) + oma * a[g];             \
            KEEP (out, n, t, a, G, W);                                         \
        }                                                                      \
        s_put_##SFX (st->v[0], a);                                             \
    }                                                                          \
                                                                               \
    /* MACD line, signal or histogram (which 0, 1, 2) */                       \
    ATTR static void s_macd_##SFX (s_state_t *st, const s_chunk_t *ch,         \
                                   size_t fast, size_t slow, size_t sig,       \
                                   int which, double out[ZS_BLOCK][D])         \
    {                                                                          \
        enum { G = G_##SFX };                                                  \
        size_t n = ch->n;                                                      \
        size_t first = (fast > slow ? fast : slow) - 1;                        \
        if (n <= first)                                                        \
            return;                                                            \
        double af = 2.0 / ((double) fast + 1);                                 \
        double as = 2.0 / ((double) slow + 1);                                 \
        double ag = 2.0 / ((double) sig + 1);                                  \
        double omf = 1 - af, oms = 1 - as, omg = 1 - ag;                       \
        VT zero = {0};                                                         \
        VT nan = zero + NAN;                                                   \
        VT ef[G], es[G], gsum[G], gg[G], v[G];                                 \
        FOR_G (g, G) { v[g] = nan; } /* kept from bar first on: set by then */ \
        s_get_##SFX (ef, st->v[0]);                                            \
        s_get_##SFX (es, st->v[1]);                                            \
        s_get_##SFX (gsum, st->v[2]);                                          \
        s_get_##SFX (gg, st->v[3]);                                            \
        for (size_t t = ch->t0; t < ch->t1; t++) {                             \
            size_t k = t - first;                                              \
            FOR_G (g, G) {                                                     \
                VT x = s_bar_##SFX (ch->c, ch, t, g);                          \
                if (t < fast) {                                                \
                    ef[g] += x;                                                \
                    if (t == fast - 1)                                         \
                        ef[g] = ef[g] / (double) fast;                         \
                } else                                                         \
                    ef[g] = af * x + omf * ef[g];                              \
                if (t < slow) {                                                \
                    es[g] += x;                                                \
                    if (t == slow - 1)                                         \
                        es[g] = es[g] / (double) slow;                         \
                } else                                                         \
                    es[g] = as * x + oms * es[g];                              \
                if (t < first)                                                 \
                    continue;                                                  \
                VT line = ef[g] - es[g];                                       \
                VT signal = nan;                                               \
                if (k + 1 < sig)                                               \
                    gsum[g] += line;                                           \
                else if (k + 1 == sig) {                                       \
                    gsum[g] += line;                                           \
                    gg[g] = gsum[g] / (double) sig;                            \
                    signal = gg[g];                                            \
                } else {                                                       \
                    gg[g] = ag * line + omg * gg[g];                           \
                    signal = gg[g];                                            \
                }                                                              \
                v[g] = which == 0   ? line                                     \
                       : which == 1 ? signal                                   \
                                    : (k + 1 < sig ? nan : line - signal);     \
            }                                                                  \
            if (t >= first)                                                    \
                KEEP (out, n, t, v, G, W);                                     \
        }                                                                      \
        s_put_##SFX (st->v[0], ef);                                            \
        s_put_##SFX (st->v[1], es);                                            \
        s_put_##SFX (st->v[2], gsum);                                          \
        s_put_##SFX (st->v[3], gg);                                            \
    }                                                                          \
                                                                               \
    /* two EMAs in their recursion over a chunk none of whose values           \
       are kept: one loop, two chains the CPU overlaps */                      \
    ATTR static void s_ema_pair_##SFX (s_state_t *sa, s_state_t *sb,           \
                                       const s_chunk_t *ch, size_t pa,         \
                                       size_t pb)                              \
    {                                                                          \
        enum { G = G_##SFX };                                                  \
        VT ea[G], eb[G];                                                       \
        s_get_##SFX (ea, sa->v[0]);                                            \
        s_get_##SFX (eb, sb->v[0]);                                            \
        double aa = 2.0 / ((double) pa + 1), oma = 1 - aa;                     \
        double ab = 2.0 / ((double) pb + 1), omb = 1 - ab;                     \
        for (size_t t = ch->t0; t < ch->t1; t++)                               \
            FOR_G (g, G) {                                                     \
                VT x = s_bar_##SFX (ch->c, ch, t, g);                          \
                ea[g] = aa * x + oma * ea[g];                                  \
                eb[g] = ab * x + omb * eb[g];                                  \
            }                                                                  \
        s_put_##SFX (sa->v[0], ea);                                            \
        s_put_##SFX (sb->v[0], eb);                                            \
    }                                                                          \
                                                                               \
    ATTR static void s_advance_##SFX (const zs_term_t *t, s_state_t *st,       \
                                      const s_chunk_t *ch,                     \
                                      double out[ZS_BLOCK][D])                 \
    {                                                                          \
        switch (t->kind) {                                                     \
        case ZS_T_EMA:                                                         \
            s_ema_##SFX (st, ch, (size_t) t->p1, out);                         \
            break;                                                             \
        case ZS_T_RSI:                                                         \
            s_rsi_##SFX (st, ch, (size_t) t->p1, out);                         \
            break;                                                             \
        case ZS_T_ATR:                                                         \
            s_atr_##SFX (st, ch, (size_t) t->p1, out);                         \
            break;                                                             \
        case ZS_T_MACD:                                                        \
        case ZS_T_MACD_SIGNAL:                                                 \
        case ZS_T_MACD_HIST:                                                   \
            s_macd_##SFX (st, ch, (size_t) t->p1, (size_t) t->p2,              \
                          (size_t) t->p3,                                      \
                          t->kind == ZS_T_MACD          ? 0                    \
                          : t->kind == ZS_T_MACD_SIGNAL ? 1                    \
                                                        : 2,                   \
                          out);                                                \
            break;                                                             \
        default:                                                               \
            break;                                                             \
        }                                                                      \
    }                                                                          \
                                                                               \
    ATTR static void s_block_##SFX (                                           \
        const zs_term_t *terms, size_t nterms, const double *const *close,     \
        const double *const *high, const double *const *low, size_t n,         \
        double (*out)[ZS_BLOCK][D])                                            \
    {                                                                          \
        s_state_t st[ZS_KERNEL_MAX_TERMS];                                     \
        double cb[(ZS_CHUNK + 1) * ZS_BLOCK] __attribute__ ((aligned (64)));   \
        double hb[ZS_CHUNK * ZS_BLOCK] __attribute__ ((aligned (64)));         \
        double lb[ZS_CHUNK * ZS_BLOCK] __attribute__ ((aligned (64)));         \
        memset (st, 0, sizeof st);                                             \
        for (size_t t0 = 0; t0 < n; t0 += ZS_CHUNK) {                          \
            size_t t1 = n - t0 < ZS_CHUNK ? n : t0 + ZS_CHUNK;                 \
            if (t0) /* the bar before the chunk: the last one read */          \
                memcpy (cb, cb + ZS_CHUNK * ZS_BLOCK,                          \
                        sizeof (double) * ZS_BLOCK);                           \
            s_transpose_##SFX (cb + ZS_BLOCK, close, t0, t1 - t0);             \
            if (high && low) {                                                 \
                s_transpose_##SFX (hb, high, t0, t1 - t0);                     \
                s_transpose_##SFX (lb, low, t0, t1 - t0);                      \
            }                                                                  \
            s_chunk_t ch = {cb + ZS_BLOCK, hb, lb, t0, t1, n};                 \
            /* EMAs past their start, none of whose values this chunk          \
               keeps, go in pairs; every other term on its own */              \
            size_t pend = nterms; /* an EMA waiting for a partner */           \
            for (size_t k = 0; k < nterms; k++) {                              \
                if (terms[k].kind == ZS_T_EMA && t0 >= (size_t) terms[k].p1    \
                    && t1 <= s_keep_from (n)) {                                \
                    if (pend == nterms) {                                      \
                        pend = k;                                              \
                        continue;                                              \
                    }                                                          \
                    s_ema_pair_##SFX (&st[pend], &st[k], &ch,                  \
                                      (size_t) terms[pend].p1,                 \
                                      (size_t) terms[k].p1);                   \
                    pend = nterms;                                             \
                } else                                                         \
                    s_advance_##SFX (&terms[k], &st[k], &ch, out[k]);          \
            }                                                                  \
            if (pend != nterms)                                                \
                s_advance_##SFX (&terms[pend], &st[pend], &ch, out[pend]);     \
        }                                                                      \
    }

/*  Bars t0..t0+len-1 of the 8 lanes' columns into dst, bar by bar (bar
    t0 + r of lane l at dst[r * 8 + l]).  Loads of whole vectors from each
    column transposed in registers, and software prefetching ahead of the
    chunk, measured slower than this on AVX-512 (Zen 4): the reading from memory
    is what costs, and the CPU's own prefetching follows 8 columns well
    (16 columns at once measured slower too). */
static inline __attribute__ ((always_inline)) void
s_transpose (double *restrict dst, const double *const *src, size_t t0,
             size_t len)
{
    const double *col[ZS_BLOCK];
    for (int l = 0; l < ZS_BLOCK; l++)
        col[l] = src[l] + t0;
    for (size_t r = 0; r < len; r++)
        for (int l = 0; l < ZS_BLOCK; l++)
            dst[r * ZS_BLOCK + l] = col[l][r];
}

/*  x > 0 ? x : 0, one instruction: max gives its second operand unless
    the first is greater (so 0 for -0, 0 and NaN, as the select); and so
    -d > 0 ? -d : 0 is d < 0 ? -d : 0, the down move. */
static inline v2d s_max0_sse2 (v2d x)
{
    return (v2d) _mm_max_pd ((__m128d) x, _mm_setzero_pd ());
}
__attribute__ ((target ("avx2"))) static inline v4d s_max0_avx2 (v4d x)
{
    return (v4d) _mm256_max_pd ((__m256d) x, _mm256_setzero_pd ());
}
__attribute__ ((target ("avx512f"))) static inline v8d s_max0_avx512 (v8d x)
{
    return (v8d) _mm512_max_pd ((__m512d) x, _mm512_setzero_pd ());
}

#define s_transpose_sse2 s_transpose
#define s_transpose_avx512 s_transpose
/*  AVX2: 4 bars of 4 lanes a step, loaded as 4 vectors (one a column) and
    transposed in registers.  GCC vectorises the loop above for AVX2 with
    a permute or shuffle per element, and on Zen 3 that transposition was
    half the time of a scan: this made the default scan 1.6x as fast and
    the three-term filter 1.45x (zs-bench-engine). */
__attribute__ ((target ("avx2"))) static inline void
s_transpose_avx2 (double *restrict dst, const double *const *src, size_t t0,
                  size_t len)
{
    const double *col[ZS_BLOCK];
    for (int l = 0; l < ZS_BLOCK; l++)
        col[l] = src[l] + t0;
    size_t r = 0;
    for (; r + 4 <= len; r += 4)
        for (int q = 0; q < ZS_BLOCK; q += 4) {
            __m256d bar[4];
            zs_t4 (_mm256_loadu_pd (col[q] + r),
                   _mm256_loadu_pd (col[q + 1] + r),
                   _mm256_loadu_pd (col[q + 2] + r),
                   _mm256_loadu_pd (col[q + 3] + r), bar);
            double *o = dst + r * ZS_BLOCK + q;
            _mm256_storeu_pd (o, bar[0]);
            _mm256_storeu_pd (o + ZS_BLOCK, bar[1]);
            _mm256_storeu_pd (o + 2 * ZS_BLOCK, bar[2]);
            _mm256_storeu_pd (o + 3 * ZS_BLOCK, bar[3]);
        }
    for (; r < len; r++)
        for (int l = 0; l < ZS_BLOCK; l++)
            dst[r * ZS_BLOCK + l] = col[l][r];
}

ZS_KERNELS (sse2, , v2d, v2l, 2)
ZS_KERNELS (avx2, __attribute__ ((target ("avx2"))), v4d, v4l, 4)
ZS_KERNELS (avx512, __attribute__ ((target ("avx512f"))), v8d, v8l, 8)

/* ---------------------------------------------------------------------- */

bool zs_kernel_handles (zs_term_kind_t kind)
{
    return kind == ZS_T_EMA || kind == ZS_T_RSI || kind == ZS_T_ATR
           || kind == ZS_T_MACD || kind == ZS_T_MACD_SIGNAL
           || kind == ZS_T_MACD_HIST;
}

static const char *s_isa_names[ZS_ISA_COUNT] = {"scalar", "sse2", "avx2",
                                                "avx512"};

const char *zs_isa_name (zs_isa_t isa)
{
    return (unsigned) isa < ZS_ISA_COUNT ? s_isa_names[isa] : "?";
}

bool zs_isa_supported (zs_isa_t isa)
{
    __builtin_cpu_init ();
    switch (isa) {
    case ZS_ISA_SCALAR:
    case ZS_ISA_SSE2:
        return true; /* the x86-64 baseline */
    case ZS_ISA_AVX2:
        return __builtin_cpu_supports ("avx2");
    case ZS_ISA_AVX512:
        return __builtin_cpu_supports ("avx512f");
    default:
        return false;
    }
}

zs_isa_t zs_isa_detect (void)
{
    zs_isa_t best = ZS_ISA_SSE2;
    for (int i = ZS_ISA_AVX512; i > ZS_ISA_SSE2; i--)
        if (zs_isa_supported ((zs_isa_t) i)) {
            best = (zs_isa_t) i;
            break;
        }
    const char *want = getenv ("ZS_ENGINE_ISA");
    if (want)
        for (int i = 0; i < ZS_ISA_COUNT; i++)
            if (strcasecmp (want, s_isa_names[i]) == 0
                && zs_isa_supported ((zs_isa_t) i))
                return (zs_isa_t) i;
    return best;
}

void zs_kernel_block (zs_isa_t isa, const zs_term_t *terms, size_t nterms,
                      const double *const close[ZS_BLOCK],
                      const double *const high[ZS_BLOCK],
                      const double *const low[ZS_BLOCK], size_t n,
                      double (*out)[ZS_BLOCK][ZS_TERM_DEPTH])
{
    if (nterms > ZS_KERNEL_MAX_TERMS)
        nterms = ZS_KERNEL_MAX_TERMS;
    for (size_t k = 0; k < nterms; k++)
        if (zs_kernel_handles (terms[k].kind))
            for (int l = 0; l < ZS_BLOCK; l++)
                for (int j = 0; j < ZS_TERM_DEPTH; j++)
                    out[k][l][j] = NAN;
    if (n == 0)
        return;
    switch (isa) {
    case ZS_ISA_AVX512:
        s_block_avx512 (terms, nterms, close, high, low, n, out);
        break;
    case ZS_ISA_AVX2:
        s_block_avx2 (terms, nterms, close, high, low, n, out);
        break;
    default:
        s_block_sse2 (terms, nterms, close, high, low, n, out);
        break;
    }
}
