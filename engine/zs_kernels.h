/*  zs_kernels.h - the recursive indicators (EMA, RSI, ATR, MACD) for a
    block of 8 symbols at once, one SIMD lane per symbol.

    The block's bars are read once, in chunks transposed into a buffer
    that stays in L1 (bar t of lane l at [t * 8 + l]); every term of the
    scan advances over a chunk before the next is read.  The same C code
    is compiled for several instruction sets (GCC vector extensions,
    chosen at run time by what the CPU has); every path
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

/* At most this many terms in one block pass (a scan's values). */
#define ZS_KERNEL_MAX_TERMS 16

/*  Computes every kernel term among terms[0..nterms) (the others are left
    alone) for the 8 lanes of a block of n bars each, in one pass over the
    bars: close[l], high[l], low[l] are lane l's columns (high and low are
    read only by ATR and may be NULL when no term is an ATR).
    out[k][lane][j] receives term k's value at bar n-1-j (j <
    ZS_TERM_DEPTH), NAN where undefined.  At most ZS_KERNEL_MAX_TERMS
    terms. */
void zs_kernel_block (zs_isa_t isa, const zs_term_t *terms, size_t nterms,
                      const double *const close[ZS_BLOCK],
                      const double *const high[ZS_BLOCK],
                      const double *const low[ZS_BLOCK], size_t n,
                      double (*out)[ZS_BLOCK][ZS_TERM_DEPTH]);

#endif
