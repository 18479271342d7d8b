/*  zs_kernels.h - the recursive indicators (EMA, RSI, ATR, MACD) for a
    block of 8 symbols at once, one SIMD lane per symbol.

    The block's bars are interleaved (bar t of lane l at [t * 8 + l]) in a
    buffer small enough to stay in L2, then each kernel makes one pass over
    it.  The same C code is compiled for several instruction sets (GCC
    vector extensions, chosen at run time by what the CPU has); every path
    performs the same IEEE operations in the same order per lane, with no
    FMA contraction, so the results are bit-identical to each other and to
    zs_term_eval, whichever path runs.
*/
#ifndef ZS_KERNELS_H
#define ZS_KERNELS_H

#include "zs_term.h"

#define ZS_BLOCK 8

typedef enum {
    ZS_ISA_SCALAR = 0,
    ZS_ISA_SSE2,
    ZS_ISA_AVX2,
    ZS_ISA_AVX512,
    ZS_ISA_COUNT
} zs_isa_t;

/*  The widest instruction set this CPU supports, unless the environment
    variable ZS_ENGINE_ISA (scalar, sse2, avx2, avx512) asks for another
    (never wider than the CPU has). */
zs_isa_t zs_isa_detect (void);
/* Name of an instruction set ("avx2"). */
const char *zs_isa_name (zs_isa_t isa);
/* True when this CPU can run isa. */
bool zs_isa_supported (zs_isa_t isa);

/* True when the term is computed by a block kernel (recursive terms). */
bool zs_kernel_handles (zs_term_kind_t kind);

/*  Computes term t for the 8 lanes of a block of n bars: close, high, low
    interleaved (high/low only read by ATR; may be NULL otherwise).
    out[lane][k] receives the value at bar n-1-k (k < ZS_TERM_DEPTH), NAN
    where undefined.  n >= 1. */
void zs_kernel_run (zs_isa_t isa, const zs_term_t *t, const double *close,
                    const double *high, const double *low, size_t n,
                    double out[ZS_BLOCK][ZS_TERM_DEPTH]);

#endif
