/*  zs_simd.h - vector pieces the engine's AVX2 paths share (the
    generator's stores, the kernels' reading of a chunk; bench/engine's
    floor too). */
#ifndef ZS_SIMD_H
#define ZS_SIMD_H

#include <immintrin.h>

/*  A 4x4 block of doubles turned over: given rows a, b, c, d, out[k] is
    {a[k], b[k], c[k], d[k]} (two unpacks and a lane permute each). */
__attribute__ ((target ("avx2"))) static inline void
zs_t4 (__m256d a, __m256d b, __m256d c, __m256d d, __m256d out[4])
{
    __m256d ab0 = _mm256_unpacklo_pd (a, b), ab1 = _mm256_unpackhi_pd (a, b);
    __m256d cd0 = _mm256_unpacklo_pd (c, d), cd1 = _mm256_unpackhi_pd (c, d);
    out[0] = _mm256_permute2f128_pd (ab0, cd0, 0x20);
    out[1] = _mm256_permute2f128_pd (ab1, cd1, 0x20);
    out[2] = _mm256_permute2f128_pd (ab0, cd0, 0x31);
    out[3] = _mm256_permute2f128_pd (ab1, cd1, 0x31);
}

#endif
