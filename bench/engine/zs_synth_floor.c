/*  zs_synth_floor.c - what whole synthetic bars cost before any of their
    arithmetic: for 8 symbols at once, every bar's six draws (those the
    generator hashes for a whole bar on most days: 4, 7, 8, 9, 10 and 11,
    the same 32-bit hash of the same counters), each made doubles, and
    written to the bars' five columns through the same 4x4 transposition
    the generator's AVX2 and AVX-512 paths store with.  Nothing a price
    needs is computed, so the values are not bars; the time is a floor
    under any generator of this data made this way (bench/engine reports
    it against the generator before, the ratio the generator cannot pass).
    Not linked into any program. */
#include "zs_bars.h"
#include "zs_draw.h"
#include "zs_kernels.h"
#include "zs_simd.h"

#include <immintrin.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wpsabi"

int zs_synth_floor_block (int isa, const uint64_t key[8], size_t n,
                          zs_bars_t *out[8]);

typedef uint32_t s_v8u __attribute__ ((vector_size (32)));

#define CHUNK 32
#define AVX2 __attribute__ ((target ("avx2")))
#define AVX512 __attribute__ ((target ("avx512f")))

/* the generator's draw k of a bar for 8 lanes (lb: the bar's counter) */
AVX2 static inline s_v8u s_hash (s_v8u lb, s_v8u hi, uint32_t k)
{
    s_v8u x = (lb + k * ZS_GOLDEN) ^ hi;
    ZS_LOWBIAS32 (x);
    return x;
}

/* a draw's 8 lanes as doubles, into a row of 8 (its top bit dropped) */
AVX2 static inline void s_row_avx2 (s_v8u x, double *row)
{
    __m256i v = (__m256i) (x >> 1);
    _mm256_storeu_pd (row, _mm256_cvtepi32_pd (_mm256_castsi256_si128 (v)));
    _mm256_storeu_pd (row + 4,
                      _mm256_cvtepi32_pd (_mm256_extracti128_si256 (v, 1)));
}
AVX512 static inline void s_row_avx512 (s_v8u x, double *row)
{
    _mm512_storeu_pd (row, _mm512_cvtepi32_pd ((__m256i) (x >> 1)));
}

/* rows of a chunk (bar j: 8 lanes) out to each lane's column f */
AVX2 static inline void s_put (const double *buf, double *col[8][5], int f,
                               size_t c0, size_t kn)
{
    size_t j = 0;
    for (; j + 4 <= kn; j += 4)
        for (int q = 0; q < 8; q += 4) {
            const double *b = buf + j * 8 + q;
            __m256d c[4];
            zs_t4 (_mm256_loadu_pd (b), _mm256_loadu_pd (b + 8),
                   _mm256_loadu_pd (b + 16), _mm256_loadu_pd (b + 24), c);
            for (int k = 0; k < 4; k++)
                _mm256_storeu_pd (col[q + k][f] + c0 + j, c[k]);
        }
    for (int q = 0; q < 8; q++)
        for (size_t k = j; k < kn; k++)
            col[q][f][c0 + k] = buf[k * 8 + (size_t) q];
}

#define ZS_FLOOR(SFX, ATTR)                                                \
    ATTR static void s_floor_##SFX (s_v8u lo, s_v8u hi, size_t n,          \
                                    double *col[8][5])                     \
    {                                                                      \
        double rows[5][CHUNK][8];                                          \
        for (size_t c0 = 0; c0 < n; c0 += CHUNK) {                         \
            size_t kn = n - c0 < CHUNK ? n - c0 : CHUNK;                   \
            for (size_t j = 0; j < kn; j++) {                              \
                s_v8u lb =                                                 \
                    lo + (uint32_t) (c0 + j + 1) * ZS_DRAWS * ZS_GOLDEN;   \
                s_v8u d7 = s_hash (lb, hi, 7), d8 = s_hash (lb, hi, 8);    \
                s_row_##SFX (s_hash (lb, hi, 4), rows[0][j]);              \
                s_row_##SFX (s_hash (lb, hi, 9), rows[1][j]);              \
                s_row_##SFX (s_hash (lb, hi, 10), rows[2][j]);             \
                s_row_##SFX (d7 + d8, rows[3][j]);                         \
                s_row_##SFX (s_hash (lb, hi, 11), rows[4][j]);             \
            }                                                              \
            for (int f = 0; f < 5; f++)                                    \
                s_put (&rows[f][0][0], col, f, c0, kn);                    \
        }                                                                  \
    }
ZS_FLOOR (avx2, AVX2)
ZS_FLOOR (avx512, AVX512)

/*  The floor for 8 symbols' keys into out (whole bars of n, each the
    caller's): 0, or -1 when the CPU has neither AVX2 nor AVX-512 (the
    generator's SSE2 path stores otherwise). */
int zs_synth_floor_block (int isa, const uint64_t key[8], size_t n,
                          zs_bars_t *out[8])
{
    if (isa != ZS_ISA_AVX2 && isa != ZS_ISA_AVX512)
        return -1;
    s_v8u lo, hi;
    double *col[8][5];
    for (int q = 0; q < 8; q++) {
        lo[q] = (uint32_t) key[q];
        hi[q] = (uint32_t) (key[q] >> 32);
        col[q][0] = out[q]->open;
        col[q][1] = out[q]->high;
        col[q][2] = out[q]->low;
        col[q][3] = out[q]->close;
        col[q][4] = out[q]->volume;
    }
    if (isa == ZS_ISA_AVX512)
        s_floor_avx512 (lo, hi, n, col);
    else
        s_floor_avx2 (lo, hi, n, col);
    return 0;
}
