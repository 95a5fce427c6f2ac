/*
 * simd_avx2.h — small AVX2 building blocks shared by the kernel files (include only from files
 * compiled with the AVX2 flags: the *_avx2.c files).
 */
#ifndef MMX_SIMD_AVX2_H
#define MMX_SIMD_AVX2_H
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
static inline float hmax8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}
static inline int hsum8i(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    return _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1)));
}

/* In-register transpose of 8 x 8 32-bit elements: r[i] (row i) -> r[j] (column j). */
static inline void tr8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

/* e^x as exp512 in dot_avx512.c computes it (x = n ln2 + r with ln 2 in two parts, degree-6
 * polynomial), with 2^n built in the exponent field in two halves, 2^(n>>1) * 2^(n - (n>>1)), since
 * AVX2 has no scalef and n spans [-150, 128] after the clamp: each half is a normal float, and their
 * product under- or overflows to 0 / +inf as expf does.  NaN propagates through the clamp and the
 * polynomial. */
static inline __m256 exp256(__m256 x) {
    x = _mm256_min_ps(_mm256_set1_ps(89.0f), _mm256_max_ps(_mm256_set1_ps(-104.0f), x));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i ni = _mm256_cvtps_epi32(n), n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

/* A Q4_K / Q5_K superblock's 12 scale bytes (at p + 4) as get_scale_min_k4 of the format reads them,
 * unpacked in 32-bit words: out[0..7] = sc0..7, out[8..15] = m0..7. */
static inline void k4_scales_mins(const uint8_t *p, uint8_t out[16]) {
    uint32_t w0, w1, w2, u[4];
    memcpy(&w0, p + 4, 4), memcpy(&w1, p + 8, 4), memcpy(&w2, p + 12, 4);
    u[0] = w0 & 0x3f3f3f3fu;                                          /* sc0..3 */
    u[1] = (w2 & 0x0f0f0f0fu) | ((w0 >> 6) & 0x03030303u) << 4;        /* sc4..7 */
    u[2] = w1 & 0x3f3f3f3fu;                                          /* m0..3 */
    u[3] = ((w2 >> 4) & 0x0f0f0f0fu) | ((w1 >> 6) & 0x03030303u) << 4; /* m4..7 */
    memcpy(out, u, 16);
}

/* The unsigned levels of Q4_K / Q5_K sub-blocks 2i (*lo) and 2i+1 (*hi) of a superblock: the low and
 * high nibbles of qs[32i..32i+31] (qs at p + 16, or p + 48 for Q5_K), for Q5_K with bit 2i resp. 2i+1
 * of qh[l] (qh at p + 16, passed loaded) as the fifth bit. */
static inline __attribute__((always_inline)) void k45_levels(const uint8_t *qs, __m256i qh, int i, int q5, __m256i *lo,
                                                             __m256i *hi) {
    const __m256i m4 = _mm256_set1_epi8(15);
    const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * i));
    *lo = _mm256_and_si256(v, m4), *hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    if (q5) {
        const __m256i one = _mm256_set1_epi8(1);
        *lo = _mm256_or_si256(*lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * i), one), 4));
        *hi = _mm256_or_si256(*hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * i + 1), one), 4));
    }
}

/* The unsigned 6-bit levels (q, not q - 32) of half n (elements 128n..128n+127) of a Q6_K
 * superblock p, 32 per vector in element order. */
static inline __attribute__((always_inline)) void q6_levels(const uint8_t *p, int n, __m256i lv[4]) {
    const __m256i m4 = _mm256_set1_epi8(15), m30 = _mm256_set1_epi8(0x30);
    const uint8_t *ql = p + 64 * n, *qh = p + 128 + 32 * n;
    const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
    const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
    lv[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30));
    lv[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30));
    lv[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30));
    lv[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
}

#endif
