/*  zs_draw.h - the synthetic market's random draws (zs_synth.c), as one
    definition for every path that makes them: draw c of a symbol's key
    (lo, hi) is ZS_LOWBIAS32 of (lo + c * ZS_GOLDEN) ^ hi, and bar i's
    draws are counters (i + 1) * ZS_DRAWS + k (0..3 are the symbol's
    own).  bench/engine's floor hashes them the same way. */
#ifndef ZS_DRAW_H
#define ZS_DRAW_H

#define ZS_DRAWS 12
#define ZS_GOLDEN 0x9e3779b9U

/*  Wellons' "lowbias32" finaliser on x in place: a uint32_t, or a vector
    of them (GCC vector extensions: the same operations lane by lane). */
#define ZS_LOWBIAS32(x)                                                    \
    do {                                                                   \
        (x) ^= (x) >> 16;                                                  \
        (x) *= 0x7feb352dU;                                                \
        (x) ^= (x) >> 15;                                                  \
        (x) *= 0x846ca68bU;                                                \
        (x) ^= (x) >> 16;                                                  \
    } while (0)

#endif
