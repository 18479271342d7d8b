/*  zs_kernels.c - see zs_kernels.h.

    One kernel body per indicator, written once over an 8-lane vector type
    (GCC vector extensions) and instantiated three times: for the x86-64
    baseline (SSE2, 2 lanes per instruction), for AVX2 (4) and for
    AVX-512F (8), each with a target attribute, picked at run time.  The
    "scalar" path is zs_term_eval itself, symbol by symbol: the reference
    every vector path must match bit for bit (tests/engine checks it).

    Each body performs, per lane, exactly the operations of zs_term.c in
    the same order; selects replace branches (d > 0 ? d : 0 as a mask), and
    the engine is compiled with -ffp-contract=off so nothing is fused.
*/
#include "zs_kernels.h"

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

/*  The 8 lanes of a block are G = 8 / W vectors of W lanes: independent
    chains the CPU overlaps.  VT is the vector type, VL its mask type. */

#define SELECT(VL, mask, a, b)                                             \
    ((__typeof__ (a)) (((VL) (a) & (mask)) | ((VL) (b) & ~(mask))))

/* Stores each group's lanes into out[lane][back] for the last bars. */
#define KEEP(out, n, t, v, G, W)                                           \
    do {                                                                   \
        size_t back_ = (n) - 1 - (t);                                      \
        if (back_ < ZS_TERM_DEPTH)                                         \
            for (int g_ = 0; g_ < (G); g_++)                               \
                for (int l_ = 0; l_ < (W); l_++)                           \
                    out[g_ * (W) + l_][back_] = (v)[g_][l_];               \
    } while (0)

#define ZS_KERNELS(SFX, ATTR, VT, VL, W)                                   \
    enum { G_##SFX = ZS_BLOCK / (W) };                                     \
    ATTR static inline __attribute__ ((always_inline)) VT                  \
        s_load_##SFX (const double *p)                                     \
    {                                                                      \
        VT v;                                                              \
        memcpy (&v, p, sizeof v);                                          \
        return v;                                                          \
    }                                                                      \
                                                                           \
    ATTR static void s_ema_##SFX (const double *x, size_t n, size_t p,     \
                                  double out[ZS_BLOCK][ZS_TERM_DEPTH])     \
    {                                                                      \
        enum { G = G_##SFX };                                              \
        if (n < p)                                                         \
            return;                                                        \
        VT e[G];                                                           \
        for (int g = 0; g < G; g++) {                                      \
            VT sum = {0};                                                  \
            for (size_t i = 0; i < p; i++)                                 \
                sum += s_load_##SFX (x + i * ZS_BLOCK + g * (W));          \
            e[g] = sum / (double) p;                                       \
        }                                                                  \
        double alpha = 2.0 / ((double) p + 1);                             \
        double oma = 1 - alpha;                                            \
        KEEP (out, n, p - 1, e, G, W);                                     \
        for (size_t t = p; t < n; t++) {                                   \
            for (int g = 0; g < G; g++)                                    \
                e[g] = alpha * s_load_##SFX (x + t * ZS_BLOCK + g * (W))   \
                       + oma * e[g];                                       \
            KEEP (out, n, t, e, G, W);                                     \
        }                                                                  \
    }                                                                      \
                                                                           \
    ATTR static void s_rsi_keep_##SFX (const VT *au, const VT *ad,         \
                                       size_t n, size_t t,                 \
                                       double out[ZS_BLOCK][ZS_TERM_DEPTH]) \
    {                                                                      \
        enum { G = G_##SFX };                                              \
        VT v[G];                                                           \
        for (int g = 0; g < G; g++) {                                      \
            VT zero = {0};                                                 \
            VT s = au[g] + ad[g];                                          \
            VL defined = s > zero;                                         \
            v[g] = SELECT (VL, defined, 100.0 * au[g] / s, zero + NAN);    \
        }                                                                  \
        KEEP (out, n, t, v, G, W);                                         \
    }                                                                      \
                                                                           \
    ATTR static void s_rsi_##SFX (const double *c, size_t n, size_t p,     \
                                  double out[ZS_BLOCK][ZS_TERM_DEPTH])     \
    {                                                                      \
        enum { G = G_##SFX };                                              \
        if (n < p + 1)                                                     \
            return;                                                        \
        VT zero = {0};                                                     \
        VT au[G], ad[G], prev[G];                                          \
        for (int g = 0; g < G; g++) {                                      \
            VT su = zero, sd = zero;                                       \
            prev[g] = s_load_##SFX (c + g * (W));                          \
            for (size_t t = 1; t <= p; t++) {                              \
                VT cur = s_load_##SFX (c + t * ZS_BLOCK + g * (W));        \
                VT d = cur - prev[g];                                      \
                VT nd = -d;                                                \
                su += SELECT (VL, d > zero, d, zero);                      \
                sd += SELECT (VL, d < zero, nd, zero);                     \
                prev[g] = cur;                                             \
            }                                                              \
            au[g] = su / (double) p;                                       \
            ad[g] = sd / (double) p;                                       \
        }                                                                  \
        double alpha = 1.0 / (double) p;                                   \
        double oma = 1 - alpha;                                            \
        s_rsi_keep_##SFX (au, ad, n, p, out);                              \
        for (size_t t = p + 1; t < n; t++) {                               \
            for (int g = 0; g < G; g++) {                                  \
                VT cur = s_load_##SFX (c + t * ZS_BLOCK + g * (W));        \
                VT d = cur - prev[g];                                      \
                VT nd = -d;                                                \
                au[g] = alpha * SELECT (VL, d > zero, d, zero)             \
                        + oma * au[g];                                     \
                ad[g] = alpha * SELECT (VL, d < zero, nd, zero)            \
                        + oma * ad[g];                                     \
                prev[g] = cur;                                             \
            }                                                              \
            if (n - 1 - t < ZS_TERM_DEPTH)                                 \
                s_rsi_keep_##SFX (au, ad, n, t, out);                      \
        }                                                                  \
    }                                                                      \
                                                                           \
    ATTR static inline __attribute__ ((always_inline)) VT                  \
        s_tr_##SFX (const double *c, const double *h, const double *l,     \
                    size_t t, int g)                                       \
    {                                                                      \
        VT pc = s_load_##SFX (c + (t - 1) * ZS_BLOCK + g * (W));           \
        VT hi = s_load_##SFX (h + t * ZS_BLOCK + g * (W));                 \
        VT lo = s_load_##SFX (l + t * ZS_BLOCK + g * (W));                 \
        VT top = SELECT (VL, hi > pc, hi, pc);                             \
        VT bottom = SELECT (VL, lo < pc, lo, pc);                          \
        return top - bottom;                                               \
    }                                                                      \
                                                                           \
    ATTR static void s_atr_##SFX (const double *c, const double *h,        \
                                  const double *l, size_t n, size_t p,     \
                                  double out[ZS_BLOCK][ZS_TERM_DEPTH])     \
    {                                                                      \
        enum { G = G_##SFX };                                              \
        if (n < p + 1)                                                     \
            return;                                                        \
        VT a[G];                                                           \
        for (int g = 0; g < G; g++) {                                      \
            VT sum = {0};                                                  \
            for (size_t t = 1; t <= p; t++)                                \
                sum += s_tr_##SFX (c, h, l, t, g);                         \
            a[g] = sum / (double) p;                                       \
        }                                                                  \
        double alpha = 1.0 / (double) p;                                   \
        double oma = 1 - alpha;                                            \
        KEEP (out, n, p, a, G, W);                                         \
        for (size_t t = p + 1; t < n; t++) {                               \
            for (int g = 0; g < G; g++)                                    \
                a[g] = alpha * s_tr_##SFX (c, h, l, t, g) + oma * a[g];    \
            KEEP (out, n, t, a, G, W);                                     \
        }                                                                  \
    }                                                                      \
                                                                           \
    ATTR static void s_macd_##SFX (const double *c, size_t n, size_t fast, \
                                   size_t slow, size_t sig, int which,     \
                                   double out[ZS_BLOCK][ZS_TERM_DEPTH])    \
    {                                                                      \
        enum { G = G_##SFX };                                              \
        size_t first = (fast > slow ? fast : slow) - 1;                    \
        if (n <= first)                                                    \
            return;                                                        \
        double af = 2.0 / ((double) fast + 1);                             \
        double as = 2.0 / ((double) slow + 1);                             \
        double ag = 2.0 / ((double) sig + 1);                              \
        double omf = 1 - af, oms = 1 - as, omg = 1 - ag;                   \
        VT zero = {0};                                                     \
        VT nan = zero + NAN;                                               \
        VT ef[G], es[G], gsum[G], gg[G], v[G];                             \
        for (int g = 0; g < G; g++) {                                      \
            VT sum = zero;                                                 \
            for (size_t i = 0; i < fast; i++)                              \
                sum += s_load_##SFX (c + i * ZS_BLOCK + g * (W));          \
            ef[g] = sum / (double) fast;                                   \
            sum = zero;                                                    \
            for (size_t i = 0; i < slow; i++)                              \
                sum += s_load_##SFX (c + i * ZS_BLOCK + g * (W));          \
            es[g] = sum / (double) slow;                                   \
            gsum[g] = zero;                                                \
            gg[g] = zero;                                                  \
            v[g] = nan;                                                    \
        }                                                                  \
        for (size_t t = 0; t < n; t++) {                                   \
            size_t k = t - first;                                          \
            for (int g = 0; g < G; g++) {                                  \
                VT x = s_load_##SFX (c + t * ZS_BLOCK + g * (W));          \
                if (t >= fast)                                             \
                    ef[g] = af * x + omf * ef[g];                          \
                if (t >= slow)                                             \
                    es[g] = as * x + oms * es[g];                          \
                if (t < first)                                             \
                    continue;                                              \
                VT line = ef[g] - es[g];                                   \
                VT signal = nan;                                           \
                if (k + 1 < sig)                                           \
                    gsum[g] += line;                                       \
                else if (k + 1 == sig) {                                   \
                    gsum[g] += line;                                       \
                    gg[g] = gsum[g] / (double) sig;                        \
                    signal = gg[g];                                        \
                }                                                          \
                else {                                                     \
                    gg[g] = ag * line + omg * gg[g];                       \
                    signal = gg[g];                                        \
                }                                                          \
                v[g] = which == 0   ? line                                 \
                       : which == 1 ? signal                               \
                                    : (k + 1 < sig ? nan : line - signal); \
            }                                                              \
            if (t >= first)                                                \
                KEEP (out, n, t, v, G, W);                                 \
        }                                                                  \
    }                                                                      \
                                                                           \
    ATTR static void s_run_##SFX (const zs_term_t *t, const double *c,     \
                                  const double *h, const double *l,        \
                                  size_t n,                                \
                                  double out[ZS_BLOCK][ZS_TERM_DEPTH])     \
    {                                                                      \
        switch (t->kind) {                                                 \
        case ZS_T_EMA:                                                     \
            s_ema_##SFX (c, n, (size_t) t->p1, out);                       \
            break;                                                         \
        case ZS_T_RSI:                                                     \
            s_rsi_##SFX (c, n, (size_t) t->p1, out);                       \
            break;                                                         \
        case ZS_T_ATR:                                                     \
            s_atr_##SFX (c, h, l, n, (size_t) t->p1, out);                 \
            break;                                                         \
        case ZS_T_MACD:                                                    \
        case ZS_T_MACD_SIGNAL:                                             \
        case ZS_T_MACD_HIST:                                               \
            s_macd_##SFX (c, n, (size_t) t->p1, (size_t) t->p2,            \
                          (size_t) t->p3,                                  \
                          t->kind == ZS_T_MACD          ? 0                \
                          : t->kind == ZS_T_MACD_SIGNAL ? 1                \
                                                        : 2,               \
                          out);                                            \
            break;                                                         \
        default:                                                           \
            break;                                                         \
        }                                                                  \
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

void zs_kernel_run (zs_isa_t isa, const zs_term_t *t, const double *close,
                    const double *high, const double *low, size_t n,
                    double out[ZS_BLOCK][ZS_TERM_DEPTH])
{
    for (int l = 0; l < ZS_BLOCK; l++)
        for (int k = 0; k < ZS_TERM_DEPTH; k++)
            out[l][k] = NAN;
    switch (isa) {
    case ZS_ISA_AVX512:
        s_run_avx512 (t, close, high, low, n, out);
        break;
    case ZS_ISA_AVX2:
        s_run_avx2 (t, close, high, low, n, out);
        break;
    default:
        s_run_sse2 (t, close, high, low, n, out);
        break;
    }
}
