/*
 * simd_avx512.h — small AVX-512 building blocks shared by the kernel files (include only from files
 * compiled with the AVX-512 flags).
 */
#ifndef MMX_SIMD_AVX512_H
#define MMX_SIMD_AVX512_H
#include <immintrin.h>

/* In-register transpose of 16 x 16 32-bit elements: r[i] (row i) -> r[j] (column j). */
static inline __attribute__((always_inline)) void tr16(__m512 r[16]) {
    __m512 t[16];
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
        t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        const __m512d a = _mm512_castps_pd(t[4 * k]), b = _mm512_castps_pd(t[4 * k + 1]);
        const __m512d c = _mm512_castps_pd(t[4 * k + 2]), d = _mm512_castps_pd(t[4 * k + 3]);
        r[4 * k] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    /* r[4k+j], 128-bit lane L: rows 4k..4k+3 at column 4L+j */
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        const __m512 v0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x44), v1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xEE);
        const __m512 w0 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x44);
        const __m512 w1 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xEE);
        t[j] = _mm512_shuffle_f32x4(v0, w0, 0x88);
        t[4 + j] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
        t[8 + j] = _mm512_shuffle_f32x4(v1, w1, 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
    }
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

#endif
