/* AVX-512 matmul kernels (see matmul.c for the structure and the precision policy). */
#include "kernels.h"
#include "../quant.h"
#include "../util.h"
#if defined(__x86_64__)
#include <immintrin.h>

static inline float f16(const uint8_t *p) { return _cvtsh_ss((unsigned short)(p[0] | p[1] << 8)); }

/* 16 bf16 -> 16 fp32 (exact) */
static inline __m512 bf16x16(const void *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}
/* 16 int8 -> 16 fp32 */
static inline __m512 i8x16(const void *p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)));
}
/* 16 bytes -> low / high nibbles as fp32 */
static inline __m512 lo4x16(__m128i b) { return _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_cvtepu8_epi32(b), _mm512_set1_epi32(15))); }
static inline __m512 hi4x16(__m128i b) { return _mm512_cvtepi32_ps(_mm512_srli_epi32(_mm512_cvtepu8_epi32(b), 4)); }

static inline void scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* Expands one row to fp32 (exactly the reference values). */
void mmx_dequant_row_avx512(mmx_type type, const void *src, float *dst, size_t n) {
    const uint8_t *p = src;
    switch (type) {
    case MMX_TYPE_F32: memcpy(dst, src, n * 4); return;
    case MMX_TYPE_BF16:
        for (size_t i = 0; i < n; i += 16) _mm512_storeu_ps(dst + i, bf16x16(p + 2 * i));
        return;
    case MMX_TYPE_F16:
        for (size_t i = 0; i < n; i += 16) _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p + 2 * i))));
        return;
    case MMX_TYPE_Q8_0:
        for (size_t b = 0; b < n / 32; b++, p += 34) {
            const __m512 d = _mm512_set1_ps(f16(p));
            _mm512_storeu_ps(dst + 32 * b, _mm512_mul_ps(i8x16(p + 2), d));
            _mm512_storeu_ps(dst + 32 * b + 16, _mm512_mul_ps(i8x16(p + 18), d));
        }
        return;
    case MMX_TYPE_Q4_K:
        for (size_t b = 0; b < n / 256; b++, p += 144) {
            const float d = f16(p), dmin = f16(p + 2);
            const uint8_t *q = p + 16;
            float *y = dst + 256 * b;
            for (int j = 0; j < 4; j++, q += 32, y += 64) {
                uint8_t sc, m;
                scale_min_k4(2 * j, p + 4, &sc, &m);
                const __m512 d1 = _mm512_set1_ps(d * sc), m1 = _mm512_set1_ps(dmin * m);
                scale_min_k4(2 * j + 1, p + 4, &sc, &m);
                const __m512 d2 = _mm512_set1_ps(d * sc), m2 = _mm512_set1_ps(dmin * m);
                for (int h = 0; h < 2; h++) {
                    __m128i b16 = _mm_loadu_si128((const __m128i *)(q + 16 * h));
                    _mm512_storeu_ps(y + 16 * h, _mm512_sub_ps(_mm512_mul_ps(d1, lo4x16(b16)), m1));
                    _mm512_storeu_ps(y + 32 + 16 * h, _mm512_sub_ps(_mm512_mul_ps(d2, hi4x16(b16)), m2));
                }
            }
        }
        return;
    case MMX_TYPE_Q5_K:
        for (size_t b = 0; b < n / 256; b++, p += 176) {
            const float d = f16(p), dmin = f16(p + 2);
            const uint8_t *qh = p + 16, *ql = p + 48;
            float *y = dst + 256 * b;
            const __m512i h0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)qh));
            const __m512i h1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(qh + 16)));
            const __m512i m15 = _mm512_set1_epi32(15), sixteen = _mm512_set1_epi32(16);
            for (int j = 0; j < 4; j++, ql += 32, y += 64) {
                uint8_t sc, m;
                scale_min_k4(2 * j, p + 4, &sc, &m);
                const __m512 d1 = _mm512_set1_ps(d * sc), m1 = _mm512_set1_ps(dmin * m);
                scale_min_k4(2 * j + 1, p + 4, &sc, &m);
                const __m512 d2 = _mm512_set1_ps(d * sc), m2 = _mm512_set1_ps(dmin * m);
                const __m512i u1 = _mm512_set1_epi32(1 << (2 * j)), u2 = _mm512_set1_epi32(2 << (2 * j));
                for (int h = 0; h < 2; h++) {
                    const __m512i H = h ? h1 : h0;
                    const __m512i L = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ql + 16 * h)));
                    __m512i lo = _mm512_and_si512(L, m15), hi = _mm512_srli_epi32(L, 4);
                    lo = _mm512_mask_add_epi32(lo, _mm512_test_epi32_mask(H, u1), lo, sixteen);
                    hi = _mm512_mask_add_epi32(hi, _mm512_test_epi32_mask(H, u2), hi, sixteen);
                    _mm512_storeu_ps(y + 16 * h, _mm512_sub_ps(_mm512_mul_ps(d1, _mm512_cvtepi32_ps(lo)), m1));
                    _mm512_storeu_ps(y + 32 + 16 * h, _mm512_sub_ps(_mm512_mul_ps(d2, _mm512_cvtepi32_ps(hi)), m2));
                }
            }
        }
        return;
    case MMX_TYPE_Q6_K:
        for (size_t b = 0; b < n / 256; b++, p += 210) {
            const float d = f16(p + 208);
            const uint8_t *ql = p, *qh = p + 128;
            const int8_t *sc = (const int8_t *)(p + 192);
            const __m512i m15 = _mm512_set1_epi32(15), m3 = _mm512_set1_epi32(3), off = _mm512_set1_epi32(32);
            float *y = dst + 256 * b;
            for (int nn = 0; nn < 2; nn++, ql += 64, qh += 32, sc += 8, y += 128)
                for (int g = 0; g < 2; g++) {
                    const __m512i L0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ql + 16 * g)));
                    const __m512i L1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ql + 32 + 16 * g)));
                    const __m512i H = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(qh + 16 * g)));
                    const __m512i q1 = _mm512_sub_epi32(_mm512_or_si512(_mm512_and_si512(L0, m15), _mm512_slli_epi32(_mm512_and_si512(H, m3), 4)), off);
                    const __m512i q2 = _mm512_sub_epi32(_mm512_or_si512(_mm512_and_si512(L1, m15), _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(H, 2), m3), 4)), off);
                    const __m512i q3 = _mm512_sub_epi32(_mm512_or_si512(_mm512_srli_epi32(L0, 4), _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(H, 4), m3), 4)), off);
                    const __m512i q4 = _mm512_sub_epi32(_mm512_or_si512(_mm512_srli_epi32(L1, 4), _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(H, 6), m3), 4)), off);
                    _mm512_storeu_ps(y + 16 * g, _mm512_mul_ps(_mm512_set1_ps(d * sc[g]), _mm512_cvtepi32_ps(q1)));
                    _mm512_storeu_ps(y + 32 + 16 * g, _mm512_mul_ps(_mm512_set1_ps(d * sc[g + 2]), _mm512_cvtepi32_ps(q2)));
                    _mm512_storeu_ps(y + 64 + 16 * g, _mm512_mul_ps(_mm512_set1_ps(d * sc[g + 4]), _mm512_cvtepi32_ps(q3)));
                    _mm512_storeu_ps(y + 96 + 16 * g, _mm512_mul_ps(_mm512_set1_ps(d * sc[g + 6]), _mm512_cvtepi32_ps(q4)));
                }
        }
        return;
    default: mmx_dequantize_row(type, src, dst, n); return;
    }
}

/* Single-token dots with four independent accumulators, so FMA latency does not serialise the
 * stream (decode is bandwidth-bound only if the core keeps up with the bytes).  The block decoding is
 * written out per type on purpose: a shared helper filling __m512 arrays measured 35% slower on
 * Q4_K_M decode (GCC -O2 kept the arrays in memory), so these loops repeat the expansion code of
 * mmx_dequant_row_avx512 with named registers. */
static float dot1_q8_0(const uint8_t *p, const float *x, size_t cols) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t b = 0, nb = cols / 32;
    for (; b + 2 <= nb; b += 2, p += 68) {
        _mm_prefetch((const char *)p + 512, _MM_HINT_T0);
        const __m512 d0 = _mm512_set1_ps(f16(p)), d1 = _mm512_set1_ps(f16(p + 34));
        a0 = _mm512_fmadd_ps(_mm512_mul_ps(i8x16(p + 2), d0), _mm512_loadu_ps(x + 32 * b), a0);
        a1 = _mm512_fmadd_ps(_mm512_mul_ps(i8x16(p + 18), d0), _mm512_loadu_ps(x + 32 * b + 16), a1);
        a2 = _mm512_fmadd_ps(_mm512_mul_ps(i8x16(p + 36), d1), _mm512_loadu_ps(x + 32 * b + 32), a2);
        a3 = _mm512_fmadd_ps(_mm512_mul_ps(i8x16(p + 52), d1), _mm512_loadu_ps(x + 32 * b + 48), a3);
    }
    for (; b < nb; b++, p += 34) {
        const __m512 d0 = _mm512_set1_ps(f16(p));
        a0 = _mm512_fmadd_ps(_mm512_mul_ps(i8x16(p + 2), d0), _mm512_loadu_ps(x + 32 * b), a0);
        a1 = _mm512_fmadd_ps(_mm512_mul_ps(i8x16(p + 18), d0), _mm512_loadu_ps(x + 32 * b + 16), a1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

static float dot1_bf16(const uint8_t *p, const float *x, size_t cols) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 64 <= cols; i += 64) {
        _mm_prefetch((const char *)(p + 2 * i) + 1024, _MM_HINT_T0);
        a0 = _mm512_fmadd_ps(bf16x16(p + 2 * i), _mm512_loadu_ps(x + i), a0);
        a1 = _mm512_fmadd_ps(bf16x16(p + 2 * i + 32), _mm512_loadu_ps(x + i + 16), a1);
        a2 = _mm512_fmadd_ps(bf16x16(p + 2 * i + 64), _mm512_loadu_ps(x + i + 32), a2);
        a3 = _mm512_fmadd_ps(bf16x16(p + 2 * i + 96), _mm512_loadu_ps(x + i + 48), a3);
    }
    for (; i < cols; i += 16) a0 = _mm512_fmadd_ps(bf16x16(p + 2 * i), _mm512_loadu_ps(x + i), a0);
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

static float dot1_q4_k(const uint8_t *p, const float *x, size_t cols) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t b = 0; b < cols / 256; b++, p += 144) {
        _mm_prefetch((const char *)p + 576, _MM_HINT_T0);
        const float d = f16(p), dmin = f16(p + 2);
        const uint8_t *q = p + 16;
        for (int j = 0; j < 4; j++, q += 32) {
            uint8_t sc, m;
            scale_min_k4(2 * j, p + 4, &sc, &m);
            const __m512 d1 = _mm512_set1_ps(d * sc), m1 = _mm512_set1_ps(dmin * m);
            scale_min_k4(2 * j + 1, p + 4, &sc, &m);
            const __m512 d2 = _mm512_set1_ps(d * sc), m2 = _mm512_set1_ps(dmin * m);
            const float *xb = x + 256 * b + 64 * (size_t)j;
            const __m128i q0 = _mm_loadu_si128((const __m128i *)q), q1 = _mm_loadu_si128((const __m128i *)(q + 16));
            a0 = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_mul_ps(d1, lo4x16(q0)), m1), _mm512_loadu_ps(xb), a0);
            a1 = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_mul_ps(d1, lo4x16(q1)), m1), _mm512_loadu_ps(xb + 16), a1);
            a2 = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_mul_ps(d2, hi4x16(q0)), m2), _mm512_loadu_ps(xb + 32), a2);
            a3 = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_mul_ps(d2, hi4x16(q1)), m2), _mm512_loadu_ps(xb + 48), a3);
        }
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

static float dot1_q5_k(const uint8_t *p, const float *x, size_t cols) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    const __m512i sixteen = _mm512_set1_epi32(16);
    for (size_t b = 0; b < cols / 256; b++, p += 176) {
        _mm_prefetch((const char *)p + 704, _MM_HINT_T0);
        const float d = f16(p), dmin = f16(p + 2);
        const uint8_t *qh = p + 16, *ql = p + 48;
        const __m512i h0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)qh));
        const __m512i h1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(qh + 16)));
        for (int j = 0; j < 4; j++, ql += 32) {
            uint8_t sc, m;
            scale_min_k4(2 * j, p + 4, &sc, &m);
            const __m512 d1 = _mm512_set1_ps(d * sc), m1 = _mm512_set1_ps(dmin * m);
            scale_min_k4(2 * j + 1, p + 4, &sc, &m);
            const __m512 d2 = _mm512_set1_ps(d * sc), m2 = _mm512_set1_ps(dmin * m);
            const __m512i u1 = _mm512_set1_epi32(1 << (2 * j)), u2 = _mm512_set1_epi32(2 << (2 * j));
            const __m512i l0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)ql));
            const __m512i l1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ql + 16)));
            const __m512i mask15 = _mm512_set1_epi32(15);
            __m512i q0 = _mm512_mask_add_epi32(_mm512_and_si512(l0, mask15), _mm512_test_epi32_mask(h0, u1),
                                               _mm512_and_si512(l0, mask15), sixteen);
            __m512i q1 = _mm512_mask_add_epi32(_mm512_and_si512(l1, mask15), _mm512_test_epi32_mask(h1, u1),
                                               _mm512_and_si512(l1, mask15), sixteen);
            __m512i q2 = _mm512_mask_add_epi32(_mm512_srli_epi32(l0, 4), _mm512_test_epi32_mask(h0, u2),
                                               _mm512_srli_epi32(l0, 4), sixteen);
            __m512i q3 = _mm512_mask_add_epi32(_mm512_srli_epi32(l1, 4), _mm512_test_epi32_mask(h1, u2),
                                               _mm512_srli_epi32(l1, 4), sixteen);
            const float *xb = x + 256 * b + 64 * (size_t)j;
            a0 = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_mul_ps(d1, _mm512_cvtepi32_ps(q0)), m1), _mm512_loadu_ps(xb), a0);
            a1 = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_mul_ps(d1, _mm512_cvtepi32_ps(q1)), m1), _mm512_loadu_ps(xb + 16), a1);
            a2 = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_mul_ps(d2, _mm512_cvtepi32_ps(q2)), m2), _mm512_loadu_ps(xb + 32), a2);
            a3 = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_mul_ps(d2, _mm512_cvtepi32_ps(q3)), m2), _mm512_loadu_ps(xb + 48), a3);
        }
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

static float dot1_q6_k(const uint8_t *p, const float *x, size_t cols) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    const __m512i m15 = _mm512_set1_epi32(15), m3 = _mm512_set1_epi32(3), off = _mm512_set1_epi32(32);
    for (size_t b = 0; b < cols / 256; b++, p += 210) {
        _mm_prefetch((const char *)p + 840, _MM_HINT_T0);
        const float d = f16(p + 208);
        const uint8_t *ql = p, *qh = p + 128;
        const int8_t *sc = (const int8_t *)(p + 192);
        for (int n = 0; n < 2; n++, ql += 64, qh += 32, sc += 8)
            for (int g = 0; g < 2; g++) {
                const __m512i L0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ql + 16 * g)));
                const __m512i L1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ql + 32 + 16 * g)));
                const __m512i H = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(qh + 16 * g)));
                const __m512i q1 = _mm512_sub_epi32(
                    _mm512_or_si512(_mm512_and_si512(L0, m15), _mm512_slli_epi32(_mm512_and_si512(H, m3), 4)), off);
                const __m512i q2 = _mm512_sub_epi32(
                    _mm512_or_si512(_mm512_and_si512(L1, m15),
                                    _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(H, 2), m3), 4)), off);
                const __m512i q3 = _mm512_sub_epi32(
                    _mm512_or_si512(_mm512_srli_epi32(L0, 4),
                                    _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(H, 4), m3), 4)), off);
                const __m512i q4 = _mm512_sub_epi32(
                    _mm512_or_si512(_mm512_srli_epi32(L1, 4),
                                    _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(H, 6), m3), 4)), off);
                const float *xb = x + 256 * b + 128 * (size_t)n + 16 * (size_t)g;
                a0 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(d * sc[g]), _mm512_cvtepi32_ps(q1)), _mm512_loadu_ps(xb), a0);
                a1 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(d * sc[g + 2]), _mm512_cvtepi32_ps(q2)), _mm512_loadu_ps(xb + 32), a1);
                a2 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(d * sc[g + 4]), _mm512_cvtepi32_ps(q3)), _mm512_loadu_ps(xb + 64), a2);
                a3 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(d * sc[g + 6]), _mm512_cvtepi32_ps(q4)), _mm512_loadu_ps(xb + 96), a3);
            }
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

/* Dot of one row with up to 4 tokens. */
bool mmx_gemv_row_avx512(mmx_type type, const void *row, size_t cols, const float *X, size_t T, size_t ldx,
                         float *out) {
    if (T == 1) {
        switch (type) {
        case MMX_TYPE_Q8_0: out[0] = dot1_q8_0(row, X, cols); return true;
        case MMX_TYPE_BF16: out[0] = dot1_bf16(row, X, cols); return true;
        case MMX_TYPE_Q4_K: out[0] = dot1_q4_k(row, X, cols); return true;
        case MMX_TYPE_Q5_K: out[0] = dot1_q5_k(row, X, cols); return true;
        case MMX_TYPE_Q6_K: out[0] = dot1_q6_k(row, X, cols); return true;
        default: break;
        }
    }
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    const uint8_t *p = row;
#define FMA_ALL(w, off)                                                                             \
    for (size_t t = 0; t < T; t++) acc[t] = _mm512_fmadd_ps((w), _mm512_loadu_ps(X + t * ldx + (off)), acc[t])
    switch (type) {
    case MMX_TYPE_F32:
        for (size_t i = 0; i < cols; i += 16) {
            __m512 w = _mm512_loadu_ps((const float *)p + i);
            FMA_ALL(w, i);
        }
        break;
    case MMX_TYPE_BF16:
        for (size_t i = 0; i < cols; i += 16) {
            __m512 w = bf16x16(p + 2 * i);
            FMA_ALL(w, i);
        }
        break;
    case MMX_TYPE_F16:
        for (size_t i = 0; i < cols; i += 16) {
            __m512 w = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p + 2 * i)));
            FMA_ALL(w, i);
        }
        break;
    case MMX_TYPE_Q8_0:
        for (size_t b = 0; b < cols / 32; b++, p += 34) {
            const __m512 d = _mm512_set1_ps(f16(p));
            __m512 w0 = _mm512_mul_ps(i8x16(p + 2), d), w1 = _mm512_mul_ps(i8x16(p + 18), d);
            FMA_ALL(w0, 32 * b);
            FMA_ALL(w1, 32 * b + 16);
        }
        break;
    case MMX_TYPE_Q4_0:
        for (size_t b = 0; b < cols / 32; b++, p += 18) {
            const __m512 d = _mm512_set1_ps(f16(p)), eight = _mm512_set1_ps(8.0f);
            __m128i q = _mm_loadu_si128((const __m128i *)(p + 2));
            __m512 w0 = _mm512_mul_ps(_mm512_sub_ps(lo4x16(q), eight), d);
            __m512 w1 = _mm512_mul_ps(_mm512_sub_ps(hi4x16(q), eight), d);
            FMA_ALL(w0, 32 * b);
            FMA_ALL(w1, 32 * b + 16);
        }
        break;
    case MMX_TYPE_Q4_K:
        for (size_t b = 0; b < cols / 256; b++, p += 144) {
            const float d = f16(p), dmin = f16(p + 2);
            const uint8_t *q = p + 16;
            for (int j = 0; j < 4; j++, q += 32) {
                uint8_t sc, m;
                scale_min_k4(2 * j, p + 4, &sc, &m);
                const __m512 d1 = _mm512_set1_ps(d * sc), m1 = _mm512_set1_ps(dmin * m);
                scale_min_k4(2 * j + 1, p + 4, &sc, &m);
                const __m512 d2 = _mm512_set1_ps(d * sc), m2 = _mm512_set1_ps(dmin * m);
                const size_t base = 256 * b + 64 * (size_t)j;
                for (int h = 0; h < 2; h++) {
                    __m128i b16 = _mm_loadu_si128((const __m128i *)(q + 16 * h));
                    __m512 wl = _mm512_sub_ps(_mm512_mul_ps(d1, lo4x16(b16)), m1);
                    __m512 wh = _mm512_sub_ps(_mm512_mul_ps(d2, hi4x16(b16)), m2);
                    FMA_ALL(wl, base + 16 * h);
                    FMA_ALL(wh, base + 32 + 16 * h);
                }
            }
        }
        break;
    default: {
        /* other block types: expand 256 at a time through the exact reference */
        float tmp[256];
        const size_t be = mmx_type_block_elems(type), bb = mmx_type_block_bytes(type), per = 256 / be;
        for (size_t i = 0; i < cols; i += 256) {
            for (size_t k = 0; k < per; k++) mmx_dequantize_block(type, p + (i / be + k) * bb, tmp + k * be);
            for (size_t c = 0; c < 256; c += 16) {
                __m512 w = _mm512_loadu_ps(tmp + c);
                FMA_ALL(w, i + c);
            }
        }
        break;
    }
    }
#undef FMA_ALL
    for (size_t t = 0; t < T; t++) out[t] = _mm512_reduce_add_ps(acc[t]);
    return true;
}

/* Y[t, r] = Wp[r, :] . X[t, :] for a panel of n_rows fp32 rows, 4 rows x 4 tokens at a time. */
void mmx_gemm_panel_avx512(const float *Wp, size_t n_rows, size_t cols, const float *X, size_t T, size_t ldx,
                           float *Y, size_t ldy) {
    size_t r = 0;
    for (; r + 4 <= n_rows; r += 4) {
        const float *w0 = Wp + r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        size_t t = 0;
        for (; t + 4 <= T; t += 4) {
            const float *x0 = X + t * ldx, *x1 = x0 + ldx, *x2 = x1 + ldx, *x3 = x2 + ldx;
            __m512 a[4][4];
            for (int i = 0; i < 4; i++)
                for (int k = 0; k < 4; k++) a[i][k] = _mm512_setzero_ps();
            for (size_t c = 0; c < cols; c += 16) {
                const __m512 W0 = _mm512_loadu_ps(w0 + c), W1 = _mm512_loadu_ps(w1 + c), W2 = _mm512_loadu_ps(w2 + c),
                             W3 = _mm512_loadu_ps(w3 + c);
                const __m512 X0 = _mm512_loadu_ps(x0 + c), X1 = _mm512_loadu_ps(x1 + c), X2 = _mm512_loadu_ps(x2 + c),
                             X3 = _mm512_loadu_ps(x3 + c);
                a[0][0] = _mm512_fmadd_ps(W0, X0, a[0][0]), a[0][1] = _mm512_fmadd_ps(W0, X1, a[0][1]);
                a[0][2] = _mm512_fmadd_ps(W0, X2, a[0][2]), a[0][3] = _mm512_fmadd_ps(W0, X3, a[0][3]);
                a[1][0] = _mm512_fmadd_ps(W1, X0, a[1][0]), a[1][1] = _mm512_fmadd_ps(W1, X1, a[1][1]);
                a[1][2] = _mm512_fmadd_ps(W1, X2, a[1][2]), a[1][3] = _mm512_fmadd_ps(W1, X3, a[1][3]);
                a[2][0] = _mm512_fmadd_ps(W2, X0, a[2][0]), a[2][1] = _mm512_fmadd_ps(W2, X1, a[2][1]);
                a[2][2] = _mm512_fmadd_ps(W2, X2, a[2][2]), a[2][3] = _mm512_fmadd_ps(W2, X3, a[2][3]);
                a[3][0] = _mm512_fmadd_ps(W3, X0, a[3][0]), a[3][1] = _mm512_fmadd_ps(W3, X1, a[3][1]);
                a[3][2] = _mm512_fmadd_ps(W3, X2, a[3][2]), a[3][3] = _mm512_fmadd_ps(W3, X3, a[3][3]);
            }
            for (int k = 0; k < 4; k++)
                for (int i = 0; i < 4; i++) Y[(t + (size_t)k) * ldy + r + (size_t)i] = _mm512_reduce_add_ps(a[i][k]);
        }
        for (; t < T; t++) {
            const float *x = X + t * ldx;
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (size_t c = 0; c < cols; c += 16) {
                const __m512 xv = _mm512_loadu_ps(x + c);
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + c), xv, a0);
                a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + c), xv, a1);
                a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + c), xv, a2);
                a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + c), xv, a3);
            }
            Y[t * ldy + r] = _mm512_reduce_add_ps(a0), Y[t * ldy + r + 1] = _mm512_reduce_add_ps(a1);
            Y[t * ldy + r + 2] = _mm512_reduce_add_ps(a2), Y[t * ldy + r + 3] = _mm512_reduce_add_ps(a3);
        }
    }
    for (; r < n_rows; r++) {
        const float *w = Wp + r * cols;
        for (size_t t = 0; t < T; t++) {
            const float *x = X + t * ldx;
            __m512 a = _mm512_setzero_ps();
            for (size_t c = 0; c < cols; c += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(w + c), _mm512_loadu_ps(x + c), a);
            Y[t * ldy + r] = _mm512_reduce_add_ps(a);
        }
    }
}
#endif
