/* AVX-512 matmul kernels (structure: matmul_impl.h; precision policy: kernels.h). */
#include "matmul_impl.h"
#include "../quant.h"
#include "../util.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include "simd_avx512.h"

/* How far ahead of the weights it reads a decode GEMV prefetches, per weight type.  Measured with
 * `mmx bench -p 0 -n 64 -t 2 -r 3` on the m075 files (docs/bench.md), distances 0-16 KiB tried in
 * three alternating rounds: BF16 70 -> 75 t/s at 4 KiB vs 2 KiB (worse at 8 and 16), Q8_0 137 -> 157
 * at 8 KiB (1 KiB before; 4 KiB in between), Q4_K_M 186 -> 193 at 4 KiB (576 B before).  Memory
 * latency times per-core bandwidth on this VM is ~3-4 KiB, and the hardware prefetcher restarts at
 * every new row range, so a short distance leaves the stream waiting on misses. */
#define GV_PF_BF16 4096
#define GV_PF_Q8_0 8192
#define GV_PF_K 4096
static inline float f16(const uint8_t *p) { return _cvtsh_ss((unsigned short)(p[0] | p[1] << 8)); }

/* 16 bf16 -> 16 fp32 (exact) */
static inline __m512 bf16x16(const void *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}
static inline __mmask16 tail16(size_t n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1); }
/* up to 16 bf16 / f16 -> fp32, reading only the n < 16 present */
static inline __m512 bf16x16_tail(const void *p, size_t n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(tail16(n), p)), 16));
}
static inline __m512 f16x16_tail(const void *p, size_t n) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tail16(n), p)); }
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
        for (size_t i = 0; i < n; i += 16) _mm512_mask_storeu_ps(dst + i, tail16(n - i), bf16x16_tail(p + 2 * i, n - i));
        return;
    case MMX_TYPE_F16:
        for (size_t i = 0; i < n; i += 16) _mm512_mask_storeu_ps(dst + i, tail16(n - i), f16x16_tail(p + 2 * i, n - i));
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

/* 16 fp32 from a row of a float type (bf16 / f16 widened exactly): the first n < 16 when n < 16 */
static inline __attribute__((always_inline)) __m512 float16_row(mmx_type type, const uint8_t *p, size_t n) {
    const __mmask16 m = n < 16 ? tail16(n) : 0xFFFF;
    switch (type) {
    case MMX_TYPE_BF16: return n < 16 ? bf16x16_tail(p, n) : bf16x16(p);
    case MMX_TYPE_F16: return n < 16 ? f16x16_tail(p, n) : _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
    default: return _mm512_maskz_loadu_ps(m, p);
    }
}

/* BF16 / F16 / F32 rows, one token (type a compile-time constant at each call): four FMA chains and
 * a prefetch of every line GV_PF_BF16 ahead (the general loop of gemv_row has one chain per token,
 * which held F16 decode to ~14% of the read bandwidth) */
static inline __attribute__((always_inline)) float dot1_float_t(mmx_type type, const uint8_t *p, const float *x, size_t cols) {
    const size_t es = type == MMX_TYPE_F32 ? 4 : 2; /* bytes per value: 64 values = es lines */
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 64 <= cols; i += 64) {
        for (size_t l = 0; l < es; l++) _mm_prefetch((const char *)(p + es * i) + GV_PF_BF16 + 64 * l, _MM_HINT_T0);
        a0 = _mm512_fmadd_ps(float16_row(type, p + es * i, 16), _mm512_loadu_ps(x + i), a0);
        a1 = _mm512_fmadd_ps(float16_row(type, p + es * (i + 16), 16), _mm512_loadu_ps(x + i + 16), a1);
        a2 = _mm512_fmadd_ps(float16_row(type, p + es * (i + 32), 16), _mm512_loadu_ps(x + i + 32), a2);
        a3 = _mm512_fmadd_ps(float16_row(type, p + es * (i + 48), 16), _mm512_loadu_ps(x + i + 48), a3);
    }
    for (; i < cols; i += 16)
        a0 = _mm512_fmadd_ps(float16_row(type, p + es * i, cols - i < 16 ? cols - i : 16), _mm512_maskz_loadu_ps(tail16(cols - i), x + i), a0);
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

/* Dot of one row with up to 4 tokens (fp32 activations). */
static bool gemv_row(mmx_type type, const void *row, size_t cols, const float *X, size_t T, size_t ldx,
                         float *out) {
    if (T == 1) {
        switch (type) {
        case MMX_TYPE_Q8_0: out[0] = dot1_q8_0(row, X, cols); return true;
        case MMX_TYPE_BF16: out[0] = dot1_float_t(MMX_TYPE_BF16, row, X, cols); return true;
        case MMX_TYPE_F16: out[0] = dot1_float_t(MMX_TYPE_F16, row, X, cols); return true;
        case MMX_TYPE_F32: out[0] = dot1_float_t(MMX_TYPE_F32, row, X, cols); return true;
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
#define FMA_ALL_TAIL(w, off, m)                                                                     \
    for (size_t t = 0; t < T; t++) acc[t] = _mm512_fmadd_ps((w), _mm512_maskz_loadu_ps((m), X + t * ldx + (off)), acc[t])
    switch (type) {
    case MMX_TYPE_F32:
        for (size_t i = 0; i < cols; i += 16) {
            const __mmask16 m = tail16(cols - i);
            __m512 w = _mm512_maskz_loadu_ps(m, (const float *)p + i);
            FMA_ALL_TAIL(w, i, m);
        }
        break;
    case MMX_TYPE_BF16:
        for (size_t i = 0; i < cols; i += 16) {
            __m512 w = bf16x16_tail(p + 2 * i, cols - i);
            FMA_ALL_TAIL(w, i, tail16(cols - i));
        }
        break;
    case MMX_TYPE_F16:
        for (size_t i = 0; i < cols; i += 16) {
            __m512 w = f16x16_tail(p + 2 * i, cols - i);
            FMA_ALL_TAIL(w, i, tail16(cols - i));
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
#undef FMA_ALL_TAIL
    for (size_t t = 0; t < T; t++) out[t] = _mm512_reduce_add_ps(acc[t]);
    return true;
}

/* ================================================================================================
 * Prefill GEMM (see matmul_impl.h): packed weight panels of MM_NR = 32 rows x kc columns, tokens
 * packed MM_MR (or MM_MR_Q8) at a time; the microkernel keeps 2 x M accumulator vectors (32 rows of
 * M tokens) and broadcasts one token value per step.
 * ================================================================================================ */


static inline const uint8_t *row_ptr(const mmx_matrix *W, size_t r) { return (const uint8_t *)W->data + r * W->row_bytes; }

/* Byte offset of column k0 in a row (k0 on a block boundary for block types). */
static inline size_t col_offset(mmx_type type, size_t k0) {
    return k0 / mmx_type_block_elems(type) * mmx_type_block_bytes(type);
}

static inline __mmask16 row_mask(size_t nr, int h) {
    return nr >= (size_t)(16 * h + 16) ? (__mmask16)0xFFFF : nr <= (size_t)(16 * h) ? 0 : tail16(nr - 16 * (size_t)h);
}

/* ---- fp32 activations ---------------------------------------------------------------------------- */

/* xp[blk][k][MM_MR] = X[blk*MM_MR + i][k] for n tokens of K columns. */
static void pack_x_f32(const float *X, size_t ldx, size_t n, size_t K, float *xp) {
    for (size_t t0 = 0; t0 < n; t0 += MM_MR) {
        float *dst = xp + t0 * K;
        const size_t m = n - t0 < MM_MR ? n - t0 : MM_MR;
        if (m == MM_MR && K % 16 == 0) {
            /* 16 columns of the block's tokens at a time, transposed in registers; output row k is
             * lanes 0..MM_MR-1 of vector k (masked stores, each at its own k * MM_MR) */
            const __mmask16 keep = (__mmask16)((1u << MM_MR) - 1);
            for (size_t k0 = 0; k0 < K; k0 += 16) {
                __m512 v[16];
#pragma GCC unroll 16
                for (int i = 0; i < 16; i++)
                    v[i] = i < MM_MR ? _mm512_loadu_ps(X + (t0 + (size_t)i) * ldx + k0) : _mm512_setzero_ps();
                tr16(v);
#pragma GCC unroll 16
                for (int jj = 0; jj < 16; jj++) _mm512_mask_storeu_ps(dst + (k0 + (size_t)jj) * MM_MR, keep, v[jj]);
            }
            continue;
        }
        for (size_t i = 0; i < m; i++) {
            const float *x = X + (t0 + i) * ldx;
            for (size_t k = 0; k < K; k++) dst[k * MM_MR + i] = x[k];
        }
    }
}

/* panel[c][32] = W[r0 + i][k0 + c] as fp32 (rows >= nr are zero); tmp: 16 * kc floats. */
static void pack_w_f32(const mmx_matrix *W, size_t r0, size_t nr, size_t k0, size_t kc, float *panel, float *tmp) {
    for (int h = 0; h < 2; h++) {
        const float *rows[16];
        for (int i = 0; i < 16; i++) {
            const size_t ri = 16 * (size_t)h + (size_t)i;
            rows[i] = NULL;
            if (ri >= nr) continue;
            const uint8_t *src = row_ptr(W, r0 + ri);
            if (W->type == MMX_TYPE_F32) {
                rows[i] = (const float *)src + k0;
            } else {
                mmx_dequant_row_avx512(W->type, src + col_offset(W->type, k0), tmp + (size_t)i * kc, kc);
                rows[i] = tmp + (size_t)i * kc;
            }
        }
        for (size_t c0 = 0; c0 < kc; c0 += 16) {
            const __mmask16 m = tail16(kc - c0);
            __m512 v[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) v[i] = rows[i] ? _mm512_maskz_loadu_ps(m, rows[i] + c0) : _mm512_setzero_ps();
            tr16(v);
            const size_t nc = kc - c0 < 16 ? kc - c0 : 16;
            for (size_t jj = 0; jj < nc; jj++) _mm512_store_ps(panel + (c0 + jj) * MM_NR + 16 * h, v[jj]);
        }
    }
}

static inline void store_tile(float *y, __mmask16 m0, __mmask16 m1, __m512 a0, __m512 a1, bool add) {
    if (add) {
        a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(m0, y));
        a1 = _mm512_add_ps(a1, _mm512_maskz_loadu_ps(m1, y + 16));
    }
    _mm512_mask_storeu_ps(y, m0, a0);
    _mm512_mask_storeu_ps(y + 16, m1, a1);
}

/* a[i] += (w0, w1) * x[i] for the M tokens of one column: the step of the fp32 microkernels */
static inline __attribute__((always_inline)) void rank1_f32(__m512 a[][2], __m512 w0, __m512 w1, const float *x, int M) {
#pragma GCC unroll 12
    for (int i = 0; i < M; i++) {
        const __m512 xi = _mm512_set1_ps(x[i]);
        a[i][0] = _mm512_fmadd_ps(w0, xi, a[i][0]);
        a[i][1] = _mm512_fmadd_ps(w1, xi, a[i][1]);
    }
}

typedef void (*uk_f32_fn)(const float *pw, const float *xp, size_t kc, float *Y, size_t ldy, __mmask16 m0,
                          __mmask16 m1, bool add);

static inline __attribute__((always_inline)) void uk_f32(const float *pw, const float *xp, size_t kc, int M, float *Y,
                                                         size_t ldy, __mmask16 m0, __mmask16 m1, bool add) {
    __m512 a[MM_MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < M; i++) a[i][0] = a[i][1] = _mm512_setzero_ps();
    for (size_t k = 0; k < kc; k++, pw += MM_NR, xp += MM_MR) rank1_f32(a, _mm512_load_ps(pw), _mm512_load_ps(pw + 16), xp, M);
#pragma GCC unroll 12
    for (int i = 0; i < M; i++) store_tile(Y + (size_t)i * ldy, m0, m1, a[i][0], a[i][1], add);
}

/* ---- bf16 activations (BF16 weights) ------------------------------------------------------------- */

/* xp[blk][k/2][MM_MR] = the bf16 pair (X[t][k], X[t][k+1]) (round to nearest even; odd K padded with 0). */
static void pack_x_bf16(const float *X, size_t ldx, size_t n, size_t K, uint32_t *xp) {
    const size_t K2 = (K + 1) / 2;
    for (size_t t0 = 0; t0 < n; t0 += MM_MR) {
        uint32_t *dst = xp + t0 * K2;
        const size_t m = n - t0 < MM_MR ? n - t0 : MM_MR;
        if (m == MM_MR && K % 32 == 0) {
            /* per 32 columns: each token's 16 bf16 pairs in one vector, transposed in registers */
            const __mmask16 keep = (__mmask16)((1u << MM_MR) - 1);
            for (size_t k = 0; k < K; k += 32) {
                __m512 v[16];
#pragma GCC unroll 16
                for (int i = 0; i < 16; i++) {
                    const float *x = X + (t0 + (size_t)i) * ldx + k;
                    v[i] = i < MM_MR ? (__m512)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + 16), _mm512_loadu_ps(x))
                                     : _mm512_setzero_ps();
                }
                tr16(v);
#pragma GCC unroll 16
                for (int jj = 0; jj < 16; jj++)
                    _mm512_mask_storeu_ps((float *)(dst + (k / 2 + (size_t)jj) * MM_MR), keep, v[jj]);
            }
            continue;
        }
        for (size_t i = 0; i < m; i++) {
            const float *x = X + (t0 + i) * ldx;
            for (size_t k = 0; k < K; k += 32) {
                const __m512 lo = _mm512_maskz_loadu_ps(tail16(K - k), x + k);
                const __m512 hi = K - k > 16 ? _mm512_maskz_loadu_ps(tail16(K - k - 16), x + k + 16) : _mm512_setzero_ps();
                uint32_t pairs[16];
                _mm512_storeu_si512(pairs, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
                const size_t np = K2 - k / 2 < 16 ? K2 - k / 2 : 16;
                for (size_t p = 0; p < np; p++) dst[(k / 2 + p) * MM_MR + i] = pairs[p];
            }
        }
    }
}

/* pack_w_bf16 for a full panel (32 rows, kc a multiple of 32): plain loads at base + i * stride and
 * the transpose inlined, so the 16 vectors stay in registers (the general loop below keeps its row
 * pointers and vectors on the stack and was ~9% of a BF16 prefill). */
static void pack_w_bf16_full(const mmx_matrix *W, size_t r0, size_t k0, size_t kc, uint32_t *panel) {
    const size_t stride = W->row_bytes;
    for (int h = 0; h < 2; h++) {
        const uint8_t *base = row_ptr(W, r0 + 16 * (size_t)h) + 2 * k0;
        for (size_t c0 = 0; c0 < kc; c0 += 32) {
            __m512 v[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) v[i] = _mm512_castsi512_ps(_mm512_loadu_si512(base + (size_t)i * stride + 2 * c0));
            tr16(v);
            float *dst = (float *)(panel + c0 / 2 * MM_NR + 16 * h);
#pragma GCC unroll 16
            for (int jj = 0; jj < 16; jj++) _mm512_store_ps(dst + (size_t)jj * MM_NR, v[jj]);
        }
    }
}

/* panel[c/2][32] = the bf16 pairs of rows r0.. at columns k0 + c, k0 + c + 1 (BF16 weights, copied). */
static void pack_w_bf16(const mmx_matrix *W, size_t r0, size_t nr, size_t k0, size_t kc, uint32_t *panel) {
    if (nr == MM_NR && kc % 32 == 0) {
        pack_w_bf16_full(W, r0, k0, kc, panel);
        return;
    }
    for (int h = 0; h < 2; h++) {
        const uint16_t *rows[16];
        for (int i = 0; i < 16; i++) {
            const size_t ri = 16 * (size_t)h + (size_t)i;
            rows[i] = ri < nr ? (const uint16_t *)row_ptr(W, r0 + ri) + k0 : NULL;
        }
        for (size_t c0 = 0; c0 < kc; c0 += 32) {
            const __mmask32 m = kc - c0 >= 32 ? 0xFFFFFFFFu : (__mmask32)((1u << (kc - c0)) - 1);
            __m512 v[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++)
                v[i] = rows[i] ? _mm512_castsi512_ps(_mm512_maskz_loadu_epi16(m, rows[i] + c0)) : _mm512_setzero_ps();
            tr16(v);
            const size_t np = (kc - c0 + 1) / 2 < 16 ? (kc - c0 + 1) / 2 : 16;
            for (size_t jj = 0; jj < np; jj++) _mm512_store_ps((float *)(panel + (c0 / 2 + jj) * MM_NR + 16 * h), v[jj]);
        }
    }
}

typedef void (*uk_bf16_fn)(const uint32_t *pw, const uint32_t *xp, size_t kc2, float *Y, size_t ldy, __mmask16 m0,
                           __mmask16 m1, bool add);

static inline __attribute__((always_inline)) void uk_bf16(const uint32_t *pw, const uint32_t *xp, size_t kc2, int M,
                                                          float *Y, size_t ldy, __mmask16 m0, __mmask16 m1, bool add) {
    __m512 a[MM_MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < M; i++) a[i][0] = a[i][1] = _mm512_setzero_ps();
    for (size_t k = 0; k < kc2; k++, pw += MM_NR, xp += MM_MR) {
        const __m512bh w0 = (__m512bh)_mm512_load_si512(pw), w1 = (__m512bh)_mm512_load_si512(pw + 16);
#pragma GCC unroll 12
        for (int i = 0; i < M; i++) {
            const __m512bh x = (__m512bh)_mm512_set1_epi32((int)xp[i]);
            a[i][0] = _mm512_dpbf16_ps(a[i][0], w0, x);
            a[i][1] = _mm512_dpbf16_ps(a[i][1], w1, x);
        }
    }
#pragma GCC unroll 12
    for (int i = 0; i < M; i++) store_tile(Y + (size_t)i * ldy, m0, m1, a[i][0], a[i][1], add);
}

/* ---- fp32 activations on BF16 weights, read as bf16 -------------------------------------------------
 * The panel is pack_w_bf16's (bf16 pairs of columns k, k+1 per row: half the bytes of an fp32 panel and
 * no conversion pass); the microkernel widens each pair exactly in registers, (pair << 16) for column k
 * and (pair & 0xFFFF0000) for k+1, and accumulates columns in the same order as uk_f32, so the result
 * is bit-identical to dequantising to an fp32 panel first. */
typedef void (*uk_f32b_fn)(const uint32_t *pw, const float *xp, size_t kc2, float *Y, size_t ldy, __mmask16 m0,
                           __mmask16 m1, bool add);

static inline __attribute__((always_inline)) void uk_f32b(const uint32_t *pw, const float *xp, size_t kc2, int M,
                                                          float *Y, size_t ldy, __mmask16 m0, __mmask16 m1, bool add) {
    const __m512i hi = _mm512_set1_epi32((int)0xFFFF0000u);
    __m512 a[MM_MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < M; i++) a[i][0] = a[i][1] = _mm512_setzero_ps();
    for (size_t k = 0; k < kc2; k++, pw += MM_NR, xp += 2 * MM_MR) {
        const __m512i w0 = _mm512_load_si512(pw), w1 = _mm512_load_si512(pw + 16);
        const __m512 e0 = _mm512_castsi512_ps(_mm512_slli_epi32(w0, 16)), e1 = _mm512_castsi512_ps(_mm512_slli_epi32(w1, 16));
        const __m512 o0 = _mm512_castsi512_ps(_mm512_and_si512(w0, hi)), o1 = _mm512_castsi512_ps(_mm512_and_si512(w1, hi));
        rank1_f32(a, e0, e1, xp, M);          /* column k */
        rank1_f32(a, o0, o1, xp + MM_MR, M);  /* column k + 1 */
    }
#pragma GCC unroll 12
    for (int i = 0; i < M; i++) store_tile(Y + (size_t)i * ldy, m0, m1, a[i][0], a[i][1], add);
}

/* ---- int8 activations (block-quantized weights) -------------------------------------------------- */
/*
 * Activations, per token and weight block of B = 32 (16 for Q6_K) columns: dX = amax/127,
 * q = round(x/dX) in [-127, 127], stored as q + 128 (unsigned, the vpdpbusd u8 operand); sX = dX sum q.
 * Packed per MM_MR_Q8 tokens: xq[k/4][MR] dwords (4 consecutive columns), then dX[K/B][MR], sX[K/B][MR].
 * Weights: levels L (signed int8, w = dW * L + mW) per block: Q8_0 q; Q4_0 q - 8; Q4_K/Q5_K the unsigned
 * level with dW = d*sc, mW = -dmin*m; Q6_K q - 32 with dW = d*sc.  Packed panel: L[c/4][32 rows][4],
 * then dW[b][32], corr[b][32] = -128 * sum_b L (undoes the +128 of the activations), mW[b][32].
 * Per block: isum = corr + sum (q + 128) L (exact int32); y += dW dX isum + mW sX.
 */
static void quant_x_q8(const float *X, size_t ldx, size_t n, size_t K, size_t B, size_t MR, uint8_t *xp) {
    const size_t nb = K / B;
    for (size_t t0 = 0; t0 < n; t0 += MR) {
        uint8_t *base = xp + t0 * (K + nb * 8);
        uint32_t *xq = (uint32_t *)base;
        float *dX = (float *)(base + MR * K), *sX = dX + MR * nb;
        const size_t m = n - t0 < MR ? n - t0 : MR;
        for (size_t i = 0; i < m; i++) {
            const float *x = X + (t0 + i) * ldx;
            for (size_t b = 0; b < nb; b++) {
                const __mmask16 m1 = B == 32 ? 0xFFFF : 0;
                const __m512 v0 = _mm512_loadu_ps(x + b * B), v1 = _mm512_maskz_loadu_ps(m1, x + b * B + 16);
                const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
                const float d = amax / 127.0f, id = amax > 0 ? 127.0f / amax : 0.0f;
                dX[b * MR + i] = d;
                const __m512i off = _mm512_set1_epi32(128);
                const __m512i r0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(id)));
                const __m512i r1 = _mm512_maskz_cvtps_epi32(m1, _mm512_mul_ps(v1, _mm512_set1_ps(id)));
                /* the sum of the ROUNDED values: the minimum term's rounding error then cancels with the
                 * level term's (w = dW*L + mW), which an exact sum x would not (4x the NMSE on Q4_K) */
                sX[b * MR + i] = d * (float)_mm512_reduce_add_epi32(_mm512_add_epi32(r0, r1));
                const __m512i q0 = _mm512_add_epi32(r0, off), q1 = _mm512_add_epi32(r1, off);
                uint32_t w[8];
                _mm_storeu_si128((__m128i *)w, _mm512_cvtepi32_epi8(q0));
                _mm_storeu_si128((__m128i *)(w + 4), _mm512_cvtepi32_epi8(q1));
                for (size_t g = 0; g < B / 4; g++) xq[(b * B / 4 + g) * MR + i] = w[g];
            }
        }
    }
}

/* Sum of 32 signed levels. */
static inline int sum_i8x32(__m256i v) {
    const __m256i s = _mm256_sad_epu8(_mm256_xor_si256(v, _mm256_set1_epi8((char)0x80)), _mm256_setzero_si256());
    const __m128i h = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    return (int)(_mm_cvtsi128_si64(h) + _mm_extract_epi64(h, 1)) - 128 * 32;
}
static inline int sum_i8x16(__m128i v) {
    const __m128i s = _mm_sad_epu8(_mm_xor_si128(v, _mm_set1_epi8((char)0x80)), _mm_setzero_si128());
    return (int)(_mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1)) - 128 * 16;
}

/* Levels of one row's columns [k0, k0 + kc) into L[kc], and per block b: dW[b], mW[b], corr[b]. */
static void row_levels(mmx_type type, const uint8_t *p, size_t kc, int8_t *L, float *dW, float *mW, int32_t *corr) {
    const __m256i m4 = _mm256_set1_epi8(15);
    switch (type) {
    case MMX_TYPE_Q8_0:
        for (size_t b = 0; b < kc / 32; b++, p += 34) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(p + 2));
            _mm256_storeu_si256((__m256i *)(L + 32 * b), q);
            dW[b] = f16(p), mW[b] = 0, corr[b] = -128 * sum_i8x32(q);
        }
        return;
    case MMX_TYPE_Q4_0:
        for (size_t b = 0; b < kc / 32; b++, p += 18) {
            const __m128i qs = _mm_loadu_si128((const __m128i *)(p + 2));
            const __m256i q = _mm256_sub_epi8(
                _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(qs, 4), qs), m4), _mm256_set1_epi8(8));
            _mm256_storeu_si256((__m256i *)(L + 32 * b), q);
            dW[b] = f16(p), mW[b] = 0, corr[b] = -128 * sum_i8x32(q);
        }
        return;
    case MMX_TYPE_Q4_K:
    case MMX_TYPE_Q5_K: {
        const bool q5 = type == MMX_TYPE_Q5_K;
        for (size_t blk = 0; blk < kc / 256; blk++, p += q5 ? 176 : 144) {
            const float d = f16(p), dmin = f16(p + 2);
            const uint8_t *qs = p + (q5 ? 48 : 16);
            const __m256i qh = q5 ? _mm256_loadu_si256((const __m256i *)(p + 16)) : _mm256_setzero_si256();
            for (int j = 0; j < 4; j++, qs += 32) {
                const __m256i v = _mm256_loadu_si256((const __m256i *)qs);
                __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                if (q5) {
                    /* 5th bit of sub-block 2j is bit 2j of qh, of 2j+1 bit 2j+1; moved to bit 4 */
                    const __m256i b16 = _mm256_set1_epi8(16);
                    const __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), _mm256_set1_epi8(1));
                    const __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * j + 1), _mm256_set1_epi8(1));
                    lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(h0, 4), b16));
                    hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(h1, 4), b16));
                }
                const size_t s = blk * 8 + 2 * (size_t)j;
                _mm256_storeu_si256((__m256i *)(L + 32 * s), lo);
                _mm256_storeu_si256((__m256i *)(L + 32 * s + 32), hi);
                uint8_t sc, m;
                scale_min_k4(2 * j, p + 4, &sc, &m);
                dW[s] = d * sc, mW[s] = -(dmin * m), corr[s] = -128 * sum_i8x32(lo);
                scale_min_k4(2 * j + 1, p + 4, &sc, &m);
                dW[s + 1] = d * sc, mW[s + 1] = -(dmin * m), corr[s + 1] = -128 * sum_i8x32(hi);
            }
        }
        return;
    }
    case MMX_TYPE_Q6_K:
        for (size_t blk = 0; blk < kc / 256; blk++, p += 210) {
            const float d = f16(p + 208);
            const int8_t *sc = (const int8_t *)(p + 192);
            const __m256i m30 = _mm256_set1_epi8(0x30), o32 = _mm256_set1_epi8(32);
            for (int n = 0; n < 2; n++) {
                const uint8_t *ql = p + 64 * n, *qh = p + 128 + 32 * n;
                const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
                const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
                const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
                __m256i q[4];
                q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30));
                q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30));
                q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30));
                q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                       _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
                for (int k = 0; k < 4; k++) {
                    const __m256i v = _mm256_sub_epi8(q[k], o32);
                    const size_t e = 256 * blk + 128 * (size_t)n + 32 * (size_t)k, s = e / 16;
                    _mm256_storeu_si256((__m256i *)(L + e), v);
                    dW[s] = d * sc[s % 16], dW[s + 1] = d * sc[s % 16 + 1];
                    mW[s] = mW[s + 1] = 0;
                    corr[s] = -128 * sum_i8x16(_mm256_castsi256_si128(v));
                    corr[s + 1] = -128 * sum_i8x16(_mm256_extracti128_si256(v, 1));
                }
            }
        }
        return;
    default: MMX_ASSERT(!"row_levels: not a block-quantized type");
    }
}

/* Packed int8 panel of rows r0.. (nr valid) at columns [k0, k0 + kc): see the comment above. */
typedef struct {
    int8_t *L;     /* [kc/4][32][4] */
    float *dW;     /* [kc/B][32] */
    int32_t *corr; /* [kc/B][32] */
    float *mW;     /* [kc/B][32] */
} q8_panel;

static void pack_w_q8(const mmx_matrix *W, size_t r0, size_t nr, size_t k0, size_t kc, size_t B, const q8_panel *P,
                      int8_t *tL, float *tdw, float *tmw, int32_t *tcorr) {
    const size_t nb = kc / B;
    for (int h = 0; h < 2; h++) {
        for (size_t i = 0; i < 16; i++) {
            const size_t ri = 16 * (size_t)h + i;
            if (ri < nr) {
                row_levels(W->type, row_ptr(W, r0 + ri) + col_offset(W->type, k0), kc, tL + i * kc, tdw + i * nb,
                           tmw + i * nb, tcorr + i * nb);
            } else {
                memset(tL + i * kc, 0, kc);
                for (size_t b = 0; b < nb; b++) tdw[i * nb + b] = tmw[i * nb + b] = 0, tcorr[i * nb + b] = 0;
            }
            for (size_t b = 0; b < nb; b++) {
                P->dW[b * MM_NR + ri] = tdw[i * nb + b];
                P->mW[b * MM_NR + ri] = tmw[i * nb + b];
                P->corr[b * MM_NR + ri] = tcorr[i * nb + b];
            }
        }
        for (size_t c0 = 0; c0 < kc; c0 += 64) {
            const __mmask64 m = kc - c0 >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (kc - c0)) - 1);
            __m512 v[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) v[i] = _mm512_castsi512_ps(_mm512_maskz_loadu_epi8(m, tL + (size_t)i * kc + c0));
            tr16(v);
            const size_t ng = (kc - c0) / 4 < 16 ? (kc - c0) / 4 : 16;
            for (size_t jj = 0; jj < ng; jj++) _mm512_store_ps((float *)(P->L + ((c0 / 4 + jj) * MM_NR + 16 * h) * 4), v[jj]);
        }
    }
}

typedef void (*uk_q8_fn)(const q8_panel *P, size_t nb, const uint8_t *xq, const float *dX, const float *sX,
                         float *Y, size_t ldy, __mmask16 m0, __mmask16 m1, bool add);

static inline __attribute__((always_inline)) void uk_q8(const q8_panel *P, size_t nb, const uint8_t *xq_,
                                                        const float *dX, const float *sX, int M, int G, bool MIN,
                                                        float *Y, size_t ldy, __mmask16 m0, __mmask16 m1, bool add) {
    __m512 f[MM_MR_Q8][2];
    const int8_t *pl = P->L;
    const uint32_t *xq = (const uint32_t *)xq_;
#pragma GCC unroll 6
    for (int i = 0; i < M; i++) f[i][0] = f[i][1] = _mm512_setzero_ps();
    for (size_t b = 0; b < nb; b++) {
        const __m512i c0 = _mm512_load_si512(P->corr + b * MM_NR), c1 = _mm512_load_si512(P->corr + b * MM_NR + 16);
        __m512i s[MM_MR_Q8][2];
#pragma GCC unroll 6
        for (int i = 0; i < M; i++) s[i][0] = c0, s[i][1] = c1;
#pragma GCC unroll 8
        for (int g = 0; g < G; g++, pl += 4 * MM_NR, xq += MM_MR_Q8) {
            const __m512i w0 = _mm512_load_si512(pl), w1 = _mm512_load_si512(pl + 64);
#pragma GCC unroll 6
            for (int i = 0; i < M; i++) {
                const __m512i x = _mm512_set1_epi32((int)xq[i]);
                s[i][0] = _mm512_dpbusd_epi32(s[i][0], x, w0);
                s[i][1] = _mm512_dpbusd_epi32(s[i][1], x, w1);
            }
        }
        const __m512 d0 = _mm512_load_ps(P->dW + b * MM_NR), d1 = _mm512_load_ps(P->dW + b * MM_NR + 16);
#pragma GCC unroll 6
        for (int i = 0; i < M; i++) {
            const __m512 dx = _mm512_set1_ps(dX[b * MM_MR_Q8 + (size_t)i]);
            f[i][0] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(s[i][0]), d0), dx, f[i][0]);
            f[i][1] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(s[i][1]), d1), dx, f[i][1]);
        }
        if (MIN) {
            const __m512 n0 = _mm512_load_ps(P->mW + b * MM_NR), n1 = _mm512_load_ps(P->mW + b * MM_NR + 16);
#pragma GCC unroll 6
            for (int i = 0; i < M; i++) {
                const __m512 sx = _mm512_set1_ps(sX[b * MM_MR_Q8 + (size_t)i]);
                f[i][0] = _mm512_fmadd_ps(n0, sx, f[i][0]);
                f[i][1] = _mm512_fmadd_ps(n1, sx, f[i][1]);
            }
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < M; i++) store_tile(Y + (size_t)i * ldy, m0, m1, f[i][0], f[i][1], add);
}

/* ---- microkernel instances ------------------------------------------------------------------------ */

#define UK_F32(M)                                                                                   \
    static void uk_f32_##M(const float *pw, const float *xp, size_t kc, float *Y, size_t ldy, __mmask16 m0, \
                           __mmask16 m1, bool add) {                                                \
        uk_f32(pw, xp, kc, M, Y, ldy, m0, m1, add);                                                 \
    }                                                                                               \
    static void uk_bf16_##M(const uint32_t *pw, const uint32_t *xp, size_t kc2, float *Y, size_t ldy, \
                            __mmask16 m0, __mmask16 m1, bool add) {                                 \
        uk_bf16(pw, xp, kc2, M, Y, ldy, m0, m1, add);                                               \
    }                                                                                               \
    static void uk_f32b_##M(const uint32_t *pw, const float *xp, size_t kc2, float *Y, size_t ldy,  \
                            __mmask16 m0, __mmask16 m1, bool add) {                                 \
        uk_f32b(pw, xp, kc2, M, Y, ldy, m0, m1, add);                                               \
    }
UK_F32(1) UK_F32(2) UK_F32(3) UK_F32(4) UK_F32(5) UK_F32(6) UK_F32(7) UK_F32(8) UK_F32(9) UK_F32(10) UK_F32(11)
UK_F32(12)
#undef UK_F32
static const uk_f32_fn uk_f32_tab[MM_MR + 1] = {NULL, uk_f32_1, uk_f32_2, uk_f32_3, uk_f32_4, uk_f32_5, uk_f32_6,
                                                uk_f32_7, uk_f32_8, uk_f32_9, uk_f32_10, uk_f32_11, uk_f32_12};
static const uk_f32b_fn uk_f32b_tab[MM_MR + 1] = {NULL, uk_f32b_1, uk_f32b_2, uk_f32b_3, uk_f32b_4,
                                                  uk_f32b_5, uk_f32b_6, uk_f32b_7, uk_f32b_8, uk_f32b_9,
                                                  uk_f32b_10, uk_f32b_11, uk_f32b_12};
static const uk_bf16_fn uk_bf16_tab[MM_MR + 1] = {NULL, uk_bf16_1, uk_bf16_2, uk_bf16_3, uk_bf16_4,
                                                  uk_bf16_5, uk_bf16_6, uk_bf16_7, uk_bf16_8, uk_bf16_9,
                                                  uk_bf16_10, uk_bf16_11, uk_bf16_12};

#define UK_Q8(M, G, MIN, NAME)                                                                      \
    static void NAME(const q8_panel *P, size_t nb, const uint8_t *xq, const float *dX, const float *sX, float *Y, \
                     size_t ldy, __mmask16 m0, __mmask16 m1, bool add) {                            \
        uk_q8(P, nb, xq, dX, sX, M, G, MIN, Y, ldy, m0, m1, add);                                   \
    }
#define UK_Q8_ALL(M) UK_Q8(M, 8, false, uk_q8_##M) UK_Q8(M, 8, true, uk_q8m_##M) UK_Q8(M, 4, false, uk_q8s_##M)
UK_Q8_ALL(1) UK_Q8_ALL(2) UK_Q8_ALL(3) UK_Q8_ALL(4) UK_Q8_ALL(5) UK_Q8_ALL(6)
#undef UK_Q8_ALL
#undef UK_Q8
static const uk_q8_fn uk_q8_tab[3][MM_MR_Q8 + 1] = {
    {NULL, uk_q8_1, uk_q8_2, uk_q8_3, uk_q8_4, uk_q8_5, uk_q8_6},       /* 32-blocks */
    {NULL, uk_q8m_1, uk_q8m_2, uk_q8m_3, uk_q8m_4, uk_q8m_5, uk_q8m_6}, /* 32-blocks with minimum */
    {NULL, uk_q8s_1, uk_q8s_2, uk_q8s_3, uk_q8s_4, uk_q8s_5, uk_q8s_6}, /* 16-blocks (Q6_K) */
};

/* ---- drivers ------------------------------------------------------------------------------------ */

void mmx_mm_pack_x_avx512(const mm_job *j, size_t tb0, size_t tb1, void *xp) {
    const size_t K = j->W->cols, MR = mmx_mm_mr(j->act), B = mmx_mm_q8_block(j->W->type);
    const size_t t0 = tb0 * MR, t1 = tb1 * MR < j->T ? tb1 * MR : j->T;
    if (t0 >= t1) return;
    const float *X = j->X + t0 * j->ldx;
    switch (j->act) { /* each packer lays token block b at b * (its per-block bytes) */
    case MMX_ACT_F32: pack_x_f32(X, j->ldx, t1 - t0, K, (float *)xp + t0 * K); break;
    case MMX_ACT_BF16: pack_x_bf16(X, j->ldx, t1 - t0, K, (uint32_t *)xp + t0 * ((K + 1) / 2)); break;
    case MMX_ACT_Q8: quant_x_q8(X, j->ldx, t1 - t0, K, B, MM_MR_Q8, (uint8_t *)xp + t0 * (K + K / B * 8)); break;
    }
}

void mmx_mm_gemm_avx512(const mm_job *j, size_t r0, size_t r1, void *scratch) {
    const mmx_matrix *W = j->W;
    const size_t K = W->cols, KC = mmx_mm_kc(K), chunk = j->xpacked ? j->T : mmx_mm_token_chunk(j);
    uint8_t *panel_area = scratch, *xp = j->xpacked ? (uint8_t *)j->xpacked : panel_area + mmx_mm_panel_bytes(j->act, KC);
    const size_t B = mmx_mm_q8_block(W->type), MR = j->act == MMX_ACT_Q8 ? MM_MR_Q8 : MM_MR;
    const bool has_min = W->type == MMX_TYPE_Q4_K || W->type == MMX_TYPE_Q5_K;
    const uk_q8_fn *q8tab = uk_q8_tab[B == 16 ? 2 : has_min ? 1 : 0];
    /* q8 panel views */
    q8_panel P = {0};
    int8_t *tL = NULL;
    float *tdw = NULL, *tmw = NULL;
    int32_t *tcorr = NULL;
    if (j->act == MMX_ACT_Q8) {
        const size_t nbk = KC / 16; /* room for the finest blocks */
        uint8_t *p = panel_area;
        P.L = (int8_t *)p, p += MM_NR * KC;
        P.dW = (float *)p, p += MM_NR * nbk * 4;
        P.corr = (int32_t *)p, p += MM_NR * nbk * 4;
        P.mW = (float *)p, p += MM_NR * nbk * 4;
        tL = (int8_t *)p, p += 16 * KC;
        tdw = (float *)p, p += 16 * nbk * 4;
        tmw = (float *)p, p += 16 * nbk * 4;
        tcorr = (int32_t *)p;
    }
    for (size_t t0 = 0; t0 < j->T; t0 += chunk) {
        const size_t n = j->T - t0 < chunk ? j->T - t0 : chunk;
        const float *X = j->X + t0 * j->ldx;
        float *Y = j->Y + t0 * j->ldy;
        if (!j->xpacked) {
            mm_job c = *j;
            c.X = X, c.T = n;
            mmx_mm_pack_x_avx512(&c, 0, (n + MR - 1) / MR, xp);
        }
        for (size_t p = r0; p < r1; p += MM_NR) {
            const size_t nr = r1 - p < MM_NR ? r1 - p : MM_NR;
            const __mmask16 m0 = row_mask(nr, 0), m1 = row_mask(nr, 1);
            for (size_t k0 = 0; k0 < K; k0 += KC) {
                const size_t kc = K - k0 < KC ? K - k0 : KC;
                const bool add = k0 > 0;
                /* what is packed next: this panel's next column slice, else the next panel's first */
                const size_t nx_p = k0 + kc < K ? p : p + MM_NR, nx_k0 = k0 + kc < K ? k0 + kc : 0;
                const size_t nx_kc = K - nx_k0 < KC ? K - nx_k0 : KC, n_tb = (n + MR - 1) / MR;
#define PREFETCH_NEXT_PANEL(tb) mm_prefetch_panel_slice(W, nx_p, W->rows, nx_k0, nx_kc, (tb) / MR, n_tb)
                switch (j->act) {
                case MMX_ACT_F32: {
                    if (W->type == MMX_TYPE_BF16 && kc % 2 == 0) {
                        uint32_t *pw = (uint32_t *)panel_area;
                        pack_w_bf16(W, p, nr, k0, kc, pw);
                        for (size_t tb = 0; tb < n; tb += MR) {
                            const size_t m = n - tb < MR ? n - tb : MR;
                            PREFETCH_NEXT_PANEL(tb);
                            uk_f32b_tab[m](pw, (const float *)xp + tb * K + k0 * MM_MR, kc / 2, Y + tb * j->ldy + p,
                                           j->ldy, m0, m1, add);
                        }
                        break;
                    }
                    float *pw = (float *)panel_area;
                    pack_w_f32(W, p, nr, k0, kc, pw, pw + MM_NR * KC);
                    for (size_t tb = 0; tb < n; tb += MR) {
                        const size_t m = n - tb < MR ? n - tb : MR;
                        PREFETCH_NEXT_PANEL(tb);
                        uk_f32_tab[m](pw, (const float *)xp + tb * K + k0 * MM_MR, kc, Y + tb * j->ldy + p, j->ldy, m0,
                                      m1, add);
                    }
                    break;
                }
                case MMX_ACT_BF16: {
                    uint32_t *pw = (uint32_t *)panel_area;
                    const size_t K2 = (K + 1) / 2, kc2 = (kc + 1) / 2;
                    pack_w_bf16(W, p, nr, k0, kc, pw);
                    for (size_t tb = 0; tb < n; tb += MR) {
                        const size_t m = n - tb < MR ? n - tb : MR;
                        PREFETCH_NEXT_PANEL(tb);
                        uk_bf16_tab[m](pw, (const uint32_t *)xp + tb * K2 + k0 / 2 * MM_MR, kc2, Y + tb * j->ldy + p,
                                       j->ldy, m0, m1, add);
                    }
                    break;
                }
                case MMX_ACT_Q8: {
                    pack_w_q8(W, p, nr, k0, kc, B, &P, tL, tdw, tmw, tcorr);
                    const size_t nb = K / B;
                    for (size_t tb = 0; tb < n; tb += MR) {
                        const size_t m = n - tb < MR ? n - tb : MR;
                        const uint8_t *base = xp + tb * (K + nb * 8);
                        const float *dX = (const float *)(base + MM_MR_Q8 * K) + k0 / B * MM_MR_Q8;
                        const float *sX = (const float *)(base + MM_MR_Q8 * K) + nb * MM_MR_Q8 + k0 / B * MM_MR_Q8;
                        PREFETCH_NEXT_PANEL(tb);
                        q8tab[m](&P, kc / B, base + k0 * MM_MR_Q8, dX, sX, Y + tb * j->ldy + p, j->ldy, m0, m1, add);
                    }
                    break;
                }
                }
#undef PREFETCH_NEXT_PANEL
            }
        }
    }
}

/* ---- decode with int8 activations ----------------------------------------------------------------- */
/*
 * Dot form: 64 weights at a time as unsigned levels (vpdpbusd's u8 operand) against 64 signed int8
 * activations; int32 lane l holds columns 4l..4l+3 of the chunk, so a per-lane scale vector (weight
 * scale x activation scale of the block the lane lies in) converts the lanes to fp32 once per chunk.
 * (Q8_0 takes one 32-value block per 256-bit step instead, all 8 lanes under one scale:
 * gemv_q8_0_rows_t.)
 * Levels: Q4_0 nibble (w = d (q - 8)), Q4_K / Q5_K 4/5-bit level (w = d sc q - dmin m), Q6_K 6-bit level
 * (w = d sc (q - 32)); Q8_0 is signed, so it enters as the unsigned w + 128 (w ^ 0x80).  The constant
 * offsets become integer lane initial values -8 / -32 / -128 * sum q_x per block ("cinit"), and the
 * K-quant minimum a float term
 * sum_s (-dmin m_s) dX_s sum q_x.  Per token layout (gv_act):
 *   q[K] int8 | dXl[K/64][16] float | cinit[K/64][16] int32 | sX[K/16] float (dX per block, compact)
 * (Q8_0 and the K-quants Q4_K / Q5_K use their own orders and per-block arrays: gv_quant_q8_0, gv_quant_k45.)
 */
typedef struct {
    const int8_t *q;
    const float *dXl;
    const int32_t *cinit;
    const float *sX; /* Q4_K / Q5_K: dX * sum q per 32-block (the minimum term); Q4_0 / Q6_K: dX per block */
} gv_act;

static size_t gv_act_bytes(size_t K) { return 3 * mm_round_up(K, 64) + K / 16 * 4; }

/* Q4_K / Q5_K layout: one 512-bit load of a superblock's nibbles holds sub-blocks (0,2) in its low
 * nibbles and (1,3) in its high ones (likewise 4..7), so the activations of each superblock are stored
 * with their 32-value sub-blocks in the order 0,2,1,3,4,6,5,7; dXl then holds one scale per 32-block and
 * sX its dX * sum q, both in natural order. */
static void gv_quant_k45(const float *x, size_t K, bool q4, uint8_t *buf, gv_act *a) {
    static const uint8_t slot[8] = {0, 2, 1, 3, 4, 6, 5, 7};
    const size_t K64 = mm_round_up(K, 64);
    int8_t *q = (int8_t *)buf;
    float *dX = (float *)(buf + K64), *sX = (float *)(buf + 3 * K64);
    for (size_t b = 0; b < K / 32; b++) {
        const __m512 v0 = _mm512_loadu_ps(x + b * 32), v1 = _mm512_loadu_ps(x + b * 32 + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        const float d = amax / 127.0f, id = amax > 0 ? 127.0f / amax : 0.0f;
        const __m512i r0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(id)));
        const __m512i r1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(id)));
        int8_t *dst = q + (b / 8) * 256 + 32 * (size_t)slot[b % 8];
        _mm_storeu_si128((__m128i *)dst, _mm512_cvtepi32_epi8(r0));
        _mm_storeu_si128((__m128i *)(dst + 16), _mm512_cvtepi32_epi8(r1));
        /* Q4_K's odd sub-blocks (high nibbles) enter the dot as 16 q (the byte & 0xF0, one op fewer
         * than a shift and a mask): their level scale carries the 1/16, exactly */
        dX[b] = q4 && (b & 1) ? d * 0.0625f : d;
        sX[b] = d * (float)_mm512_reduce_add_epi32(_mm512_add_epi32(r0, r1));
    }
    *a = (gv_act){q, dX, NULL, sX};
}

/* Q8_0 layout: q in natural order; dXl holds one scale per 32-value block and cinit -16 * sum q
 * per block (the -128 * sum q of the w ^ 0x80 offset spread evenly over the 8 int32 lanes of the
 * block's 256-bit product), both in natural order (see gemv_q8_0_rows_t). */
static void gv_quant_q8_0(const float *x, size_t K, uint8_t *buf, gv_act *a) {
    const size_t K64 = mm_round_up(K, 64);
    int8_t *q = (int8_t *)buf;
    float *dX = (float *)(buf + K64);
    int32_t *cinit = (int32_t *)(buf + 2 * K64);
    for (size_t b = 0; b < K / 32; b++) {
        const __m512 v0 = _mm512_loadu_ps(x + b * 32), v1 = _mm512_loadu_ps(x + b * 32 + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        const float d = amax / 127.0f, id = amax > 0 ? 127.0f / amax : 0.0f;
        const __m512i r0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(id)));
        const __m512i r1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(id)));
        _mm_storeu_si128((__m128i *)(q + b * 32), _mm512_cvtepi32_epi8(r0));
        _mm_storeu_si128((__m128i *)(q + b * 32 + 16), _mm512_cvtepi32_epi8(r1));
        dX[b] = d;
        cinit[b] = -16 * _mm512_reduce_add_epi32(_mm512_add_epi32(r0, r1));
    }
    *a = (gv_act){q, dX, cinit, NULL};
}

static void gv_quant(mmx_type type, const float *x, size_t K, uint8_t *buf, gv_act *a) {
    const size_t B = mmx_mm_q8_block(type), nb = K / B, K64 = mm_round_up(K, 64);
    int8_t *q = (int8_t *)buf;
    float *dXl = (float *)(buf + K64), *sX = (float *)(buf + 3 * K64);
    int32_t *cinit = (int32_t *)(buf + 2 * K64);
    const int coff = type == MMX_TYPE_Q4_0 ? -8 : type == MMX_TYPE_Q6_K ? -32 : type == MMX_TYPE_Q8_0 ? -128 : 0;
    memset(buf, 0, 3 * K64); /* a last half chunk (K = 32 mod 64) reads zeros */
    if (type == MMX_TYPE_Q4_K || type == MMX_TYPE_Q5_K) {
        gv_quant_k45(x, K, type == MMX_TYPE_Q4_K, buf, a);
        return;
    }
    if (type == MMX_TYPE_Q8_0) {
        gv_quant_q8_0(x, K, buf, a);
        return;
    }
    for (size_t b = 0; b < nb; b++) {
        const __mmask16 m1 = B == 32 ? 0xFFFF : 0;
        const __m512 v0 = _mm512_loadu_ps(x + b * B), v1 = _mm512_maskz_loadu_ps(m1, x + b * B + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        const float d = amax / 127.0f, id = amax > 0 ? 127.0f / amax : 0.0f;
        const __m512i r0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(id)));
        const __m512i r1 = _mm512_maskz_cvtps_epi32(m1, _mm512_mul_ps(v1, _mm512_set1_ps(id)));
        const int qs = _mm512_reduce_add_epi32(_mm512_add_epi32(r0, r1));
        _mm_storeu_si128((__m128i *)(q + b * B), _mm512_cvtepi32_epi8(r0));
        if (B == 32) _mm_storeu_si128((__m128i *)(q + b * B + 16), _mm512_cvtepi32_epi8(r1));
        sX[b] = d;
        const size_t l0 = b * B / 4; /* first lane of this block */
        for (size_t l = 0; l < B / 4; l++) dXl[l0 + l] = d;
        cinit[l0] = coff * qs;
    }
    *a = (gv_act){q, dXl, cinit, sX};
}

static inline __m512 two_lanes(float a, float b) { return _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(a), _mm512_set1_ps(b)); }
static inline __m512i cat256(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

/* A Q4_K / Q5_K superblock's scales: d, dmin and the 12 scale bytes S in one load; S -> sc0..7 |
 * m0..7 as get_scale_min_k4 (sc_j = S_j & 63, m_j = S_j+4 & 63 for j < 4; sc_j = S_j+4 & 15 |
 * (S_j-4 >> 6) << 4, m_j = S_j+4 >> 4 | (S_j >> 6) << 4 for j >= 4) by two byte shuffles and masks;
 * dsc = d sc_j, mdm = dmin m_j. */
static inline __attribute__((always_inline)) void k4_scales(const uint8_t *p, __m128i sh_lo, __m128i sh_hi, __m128i mk_lo,
                                                            __m128i mk_hi, __m128i m30, __m512i dd_idx, __m256 *dsc,
                                                            __m256 *mdm) {
    const __m128i hdr = _mm_loadu_si128((const __m128i *)p);
    const __m128i a = _mm_shuffle_epi8(hdr, sh_lo), b = _mm_shuffle_epi8(hdr, sh_hi);
    const __m128i sm = _mm_or_si128(_mm_or_si128(_mm_and_si128(a, mk_lo), _mm_and_si128(_mm_srli_epi16(a, 4), mk_hi)),
                                    _mm_and_si128(_mm_srli_epi16(b, 2), m30));
    /* lanes 0-7: d sc_j, lanes 8-15: dmin m_j */
    const __m512 scl = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(sm)),
                                     _mm512_permutexvar_ps(dd_idx, _mm512_castps128_ps512(_mm_cvtph_ps(hdr))));
    *dsc = _mm512_castps512_ps256(scl), *mdm = _mm512_extractf32x8_ps(scl, 1);
}

/* Q4_K / Q5_K rows against int8 activations in the gv_quant_k45 layout.  Per superblock: the 8 six-bit
 * scales and minimums unpacked at once (bytes sc0..7, m0..7), the 256 levels as four 64-byte vectors
 * (sub-block pairs (0,2) (1,3) (4,6) (5,7)), four vpdpbusd per token, and the lanes scaled by
 * d sc_s dX_s of their sub-block; the minimum term -dmin m_s dX_s sum q_x as one 8-wide FMA. */
static inline __attribute__((always_inline)) void gemv_q8_k45_rows_tq(const mm_job *j, size_t r0, size_t r1, const gv_act *A, const size_t T,
                                                                       const bool q5) {
    const mmx_matrix *W = j->W;
    const size_t K = W->cols;
    const size_t sb_bytes = q5 ? 176 : 144, qs_off = q5 ? 48 : 16;
    const __m512i m4 = _mm512_set1_epi8(15), b16 = _mm512_set1_epi8(16);
    const __m512i idx0 = _mm512_set_epi32(2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i idx1 = _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i idx2 = _mm512_set_epi32(6, 6, 6, 6, 6, 6, 6, 6, 4, 4, 4, 4, 4, 4, 4, 4);
    const __m512i idx3 = _mm512_set_epi32(7, 7, 7, 7, 7, 7, 7, 7, 5, 5, 5, 5, 5, 5, 5, 5);
    /* Q5_K high bits: sub-block s uses bit s of qh[l]; chunk k's halves are sub-blocks (a, b) */
    const __m512i hb0 = _mm512_inserti64x4(_mm512_set1_epi8(1 << 0), _mm256_set1_epi8(1 << 2), 1);
    const __m512i hb1 = _mm512_inserti64x4(_mm512_set1_epi8(1 << 1), _mm256_set1_epi8(1 << 3), 1);
    const __m512i hb2 = _mm512_inserti64x4(_mm512_set1_epi8(1 << 4), _mm256_set1_epi8(1 << 6), 1);
    const __m512i hb3 = _mm512_inserti64x4(_mm512_set1_epi8(1 << 5), _mm256_set1_epi8((char)(1 << 7)), 1);
    /* header bytes: d(0,1) dmin(2,3) S0..S11(4..15) */
    const __m128i sh_lo = _mm_setr_epi8(4, 5, 6, 7, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m128i sh_hi = _mm_setr_epi8(-1, -1, -1, -1, 4, 5, 6, 7, -1, -1, -1, -1, 8, 9, 10, 11);
    const __m128i mk_lo = _mm_setr_epi8(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 0, 0, 0, 0);
    const __m128i mk_hi = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 15, 15, 15);
    const __m128i m30 = _mm_set1_epi8(0x30);
    const __m512i dd_idx = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *p = row_ptr(W, r);
        /* four accumulators per token: one chain per sub-block pair, so the FMAs of a superblock do
         * not wait on each other */
        __m512 acc[MM_GEMV_MAX_T][4];
        __m256 accm[MM_GEMV_MAX_T];
        for (size_t t = 0; t < T; t++)
            acc[t][0] = acc[t][1] = acc[t][2] = acc[t][3] = _mm512_setzero_ps(), accm[t] = _mm256_setzero_ps();
        const size_t nsb = K / 256;
        __m256 dsc, mdm;
        k4_scales(p, sh_lo, sh_hi, mk_lo, mk_hi, m30, dd_idx, &dsc, &mdm);
        for (size_t sb = 0; sb < nsb; sb++, p += sb_bytes) {
            _mm_prefetch((const char *)p + GV_PF_K, _MM_HINT_T0);
            _mm_prefetch((const char *)p + GV_PF_K + 64, _MM_HINT_T0);
            _mm_prefetch((const char *)p + GV_PF_K + 128, _MM_HINT_T0);
            /* the next superblock's scales decoded now, this one's a superblock ago: the decode is a
             * long dependency chain, and started just before its use it held the loop up (knocked
             * out, the kernel ran ~50% faster in cache) */
            __m256 dsc_next = dsc, mdm_next = mdm;
            if (sb + 1 < nsb) k4_scales(p + sb_bytes, sh_lo, sh_hi, mk_lo, mk_hi, m30, dd_idx, &dsc_next, &mdm_next);
            const __m512i v0 = _mm512_loadu_si512(p + qs_off), v1 = _mm512_loadu_si512(p + qs_off + 64);
            /* Q4_K: the high nibbles in place, 16 q (gv_quant_k45 put the 1/16 into their scale) */
            const __m512i mhi = _mm512_set1_epi8((char)0xF0);
            __m512i w0 = _mm512_and_si512(v0, m4), w1 = q5 ? _mm512_and_si512(_mm512_srli_epi16(v0, 4), m4) : _mm512_and_si512(v0, mhi);
            __m512i w2 = _mm512_and_si512(v1, m4), w3 = q5 ? _mm512_and_si512(_mm512_srli_epi16(v1, 4), m4) : _mm512_and_si512(v1, mhi);
            if (q5) {
                const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(p + 16)));
                w0 = _mm512_mask_add_epi8(w0, _mm512_test_epi8_mask(qh, hb0), w0, b16);
                w1 = _mm512_mask_add_epi8(w1, _mm512_test_epi8_mask(qh, hb1), w1, b16);
                w2 = _mm512_mask_add_epi8(w2, _mm512_test_epi8_mask(qh, hb2), w2, b16);
                w3 = _mm512_mask_add_epi8(w3, _mm512_test_epi8_mask(qh, hb3), w3, b16);
            }
            for (size_t t = 0; t < T; t++) {
                const int8_t *xq = A[t].q + 256 * sb;
                const __m512i i0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w0, _mm512_loadu_si512(xq));
                const __m512i i1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w1, _mm512_loadu_si512(xq + 64));
                const __m512i i2 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w2, _mm512_loadu_si512(xq + 128));
                const __m512i i3 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w3, _mm512_loadu_si512(xq + 192));
                const __m512 s = _mm512_castps256_ps512(_mm256_mul_ps(dsc, _mm256_loadu_ps(A[t].dXl + 8 * sb)));
                acc[t][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i0), _mm512_permutexvar_ps(idx0, s), acc[t][0]);
                acc[t][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i1), _mm512_permutexvar_ps(idx1, s), acc[t][1]);
                acc[t][2] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i2), _mm512_permutexvar_ps(idx2, s), acc[t][2]);
                acc[t][3] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i3), _mm512_permutexvar_ps(idx3, s), acc[t][3]);
                accm[t] = _mm256_fnmadd_ps(mdm, _mm256_loadu_ps(A[t].sX + 8 * sb), accm[t]);
            }
            dsc = dsc_next, mdm = mdm_next;
        }
        for (size_t t = 0; t < T; t++) {
            const __m256 m = accm[t];
            __m128 s = _mm_add_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
            s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            s = _mm_add_ss(s, _mm_movehdup_ps(s));
            j->Y[t * j->ldy + r] =
                _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[t][0], acc[t][1]), _mm512_add_ps(acc[t][2], acc[t][3]))) +
                _mm_cvtss_f32(s);
        }
    }
}

/* Defines NAME(j, r0, r1, arg) calling NAME_t with the token count as a compile-time constant, so the per-token accumulators live in registers (with a
 * run-time T the compiler keeps acc[t] on the stack and every FMA waits on a store and a reload). */
#define GEMV_BY_T(NAME, ARG_DECL, ARG)                                                              \
    static void NAME(const mm_job *j, size_t r0, size_t r1, ARG_DECL) {                             \
        switch (j->T) {                                                                            \
        case 1: NAME##_t(j, r0, r1, ARG, 1); break;                                                \
        case 2: NAME##_t(j, r0, r1, ARG, 2); break;                                                \
        case 3: NAME##_t(j, r0, r1, ARG, 3); break;                                                \
        default: NAME##_t(j, r0, r1, ARG, 4); break;                                               \
        }                                                                                          \
    }

/* the Q5_K high bits a compile-time choice too (a run-time flag kept the Q4_K loop branching on it) */
static inline __attribute__((always_inline)) void gemv_q8_k45_rows_t(const mm_job *j, size_t r0, size_t r1, const gv_act *A, const size_t T) {
    if (j->W->type == MMX_TYPE_Q5_K) gemv_q8_k45_rows_tq(j, r0, r1, A, T, true);
    else gemv_q8_k45_rows_tq(j, r0, r1, A, T, false);
}

GEMV_BY_T(gemv_q8_k45_rows, const gv_act *A, A)

static inline __attribute__((always_inline)) void gemv_q8_rows_t(const mm_job *j, size_t r0, size_t r1, const gv_act *A, const size_t T) {
    const mmx_matrix *W = j->W;
    const size_t K = W->cols, nch = (K + 32) / 64; /* Q4_0: a last half chunk */
    const mmx_type type = W->type;
    const __m256i m4 = _mm256_set1_epi8(15);
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *p = row_ptr(W, r);
        /* two accumulators per token (consecutive chunks alternate), so the FMA chain is half as long */
        __m512 acc[MM_GEMV_MAX_T][2];
        for (size_t t = 0; t < T; t++) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
#define GV_CHUNK(c, wl, dWl, h)                                                                        \
    for (size_t t = 0; t < T; t++) {                                                                \
        const __m512i xs = _mm512_loadu_si512(A[t].q + 64 * (c));                                   \
        const __m512i is = _mm512_dpbusd_epi32(_mm512_loadu_si512(A[t].cinit + 16 * (c)), (wl), xs);\
        acc[t][h] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), _mm512_mul_ps((dWl), _mm512_loadu_ps(A[t].dXl + 16 * (c))), acc[t][h]); \
    }
        switch (type) {
        case MMX_TYPE_Q4_0:
            for (size_t c = 0; c < nch; c++, p += 36) {
                _mm_prefetch((const char *)p + 512, _MM_HINT_T0);
                const bool half = 64 * c + 32 == K;
                const __m128i a = _mm_loadu_si128((const __m128i *)(p + 2));
                const __m128i b = half ? _mm_setzero_si128() : _mm_loadu_si128((const __m128i *)(p + 20));
                const __m256i ab = _mm256_set_m128i(b, a);
                const __m256i lo = _mm256_and_si256(ab, m4), hi = _mm256_and_si256(_mm256_srli_epi16(ab, 4), m4);
                /* block a: lo(a) hi(a), block b: lo(b) hi(b) */
                const __m512i wl = _mm512_inserti64x4(
                    _mm512_castsi256_si512(_mm256_permute2x128_si256(lo, hi, 0x20)), _mm256_permute2x128_si256(lo, hi, 0x31), 1);
                const __m512 dWl = two_lanes(f16(p), half ? 0.0f : f16(p + 18));
                GV_CHUNK(c, wl, dWl, 0)
            }
            break;
        case MMX_TYPE_Q6_K: {
            /* Per half n of a superblock (ql[64n..], qh[32n..]): one 512-bit load of the 64 low-nibble
             * bytes (l0 | l1) and the 32 high-bit bytes h in both halves.  Chunk 2n is
             * (l0 & 15 | (h << 4) & 0x30) | (l1 & 15 | (h << 2) & 0x30), chunk 2n+1
             * (l0 >> 4 | h & 0x30) | (l1 >> 4 | (h >> 2) & 0x30): the shifts as 64-bit lane shifts by
             * half (the 0x30 mask keeps each byte's own bits).  The 16 int8 scales (one per 16
             * weights) converted once per superblock, spread four lanes each by one vpermps per chunk. */
            const __m512i m4z = _mm512_set1_epi8(15), m30z = _mm512_set1_epi8(0x30);
            const __m512i sh12 = _mm512_set_epi64(2, 2, 2, 2, 4, 4, 4, 4), sh34 = _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0);
            const __m512i lane4 = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
            for (size_t sb = 0; sb < K / 256; sb++, p += 210) {
                _mm_prefetch((const char *)p + GV_PF_K, _MM_HINT_T0); /* 210 bytes a superblock: four lines */
                _mm_prefetch((const char *)p + GV_PF_K + 64, _MM_HINT_T0);
                _mm_prefetch((const char *)p + GV_PF_K + 128, _MM_HINT_T0);
                _mm_prefetch((const char *)p + GV_PF_K + 192, _MM_HINT_T0);
                const __m512 sc16 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 192)))),
                                                  _mm512_set1_ps(f16(p + 208)));
                /* per token, the 16 products d sc_g dX_g in one multiply (the activation scales of the
                 * superblock's 16-blocks are contiguous in sX); each chunk's lanes take theirs by a
                 * vpermps (was: a weight-scale vpermps per chunk and a multiply per chunk and token) */
                __m512 s16[MM_GEMV_MAX_T];
                for (size_t t = 0; t < T; t++) s16[t] = _mm512_mul_ps(sc16, _mm512_loadu_ps(A[t].sX + 16 * sb));
#define Q6_CHUNK(c, wl, idx, h)                                                                                    \
    for (size_t t = 0; t < T; t++) {                                                                            \
        const __m512i is = _mm512_dpbusd_epi32(_mm512_loadu_si512(A[t].cinit + 16 * (c)), (wl), _mm512_loadu_si512(A[t].q + 64 * (c))); \
        acc[t][h] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), _mm512_permutexvar_ps((idx), s16[t]), acc[t][h]); \
    }
                for (int n = 0; n < 2; n++) {
                    const __m512i L = _mm512_loadu_si512(p + 64 * n);
                    const __m512i Hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(p + 128 + 32 * n)));
                    /* (a & 15) | b: ternary-logic table 0xEC = (A & C) | B with A = a, B = b, C = 15 */
                    const __m512i q12 = _mm512_ternarylogic_epi32(L, _mm512_and_si512(_mm512_sllv_epi64(Hb, sh12), m30z), m4z, 0xEC);
                    const __m512i q34 = _mm512_ternarylogic_epi32(_mm512_srli_epi16(L, 4), _mm512_and_si512(_mm512_srlv_epi64(Hb, sh34), m30z),
                                                                  m4z, 0xEC);
                    const __m512i base = _mm512_add_epi32(lane4, _mm512_set1_epi32(8 * n));
                    const size_t c = 4 * sb + 2 * (size_t)n;
                    Q6_CHUNK(c, q12, base, 0)
                    Q6_CHUNK(c + 1, q34, _mm512_add_epi32(base, _mm512_set1_epi32(4)), 1)
                }
#undef Q6_CHUNK
            }
            break;
        }
        default: MMX_ASSERT(!"gemv_q8_rows: not a block-quantized type");
        }
#undef GV_CHUNK
        for (size_t t = 0; t < T; t++) j->Y[t * j->ldy + r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[t][0], acc[t][1]));
    }
}

GEMV_BY_T(gemv_q8_rows, const gv_act *A, A)

/* Q8_0 rows, one 32-value block per 256-bit step.  A 512-bit product covering two blocks needs a
 * lane-spread scale vector per chunk (a permute, a conversion and a multiply, 6 of the 16 256-bit
 * pipe slots a chunk took); here the block's 8 lanes share one scale: the f16 scales of four blocks
 * are gathered by one vpermt2w and converted together, multiplied by the blocks' activation scales,
 * and each block's product broadcast by one vpermps.  (Stored to a small array and taken as the FMA's
 * broadcast memory operand instead, the loads waited on the store: slower than the 512-bit form.)
 * w ^ 0x80 = w + 128 enters vpdpbusd as the unsigned operand; the lane initial values (cinit) take
 * the 128 * sum x it adds off. */
static inline __attribute__((always_inline)) void gemv_q8_0_rows_t(const mm_job *j, size_t r0, size_t r1, const gv_act *A, const size_t T) {
    const mmx_matrix *W = j->W;
    const size_t nb = W->cols / 32;
    /* words 0 and 17 (bytes 0 and 34) of a load at a block pair, from two consecutive pairs */
    const __m512i sc4 = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                         0, 0, 0, 32 + 17, 32, 17, 0);
    const __m256i bias = _mm256_set1_epi8((char)0x80);
    const __m256i lane[4] = {_mm256_set1_epi32(0), _mm256_set1_epi32(1), _mm256_set1_epi32(2), _mm256_set1_epi32(3)};
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *p = row_ptr(W, r);
        __m256 acc[MM_GEMV_MAX_T][2];
        for (size_t t = 0; t < T; t++) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
        __m256 s[MM_GEMV_MAX_T];
#define Q8_BLOCK(b, k)                                                                                          \
    do {                                                                                                        \
        const __m256i w = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(p + 34 * (b) + 2)), bias);     \
        for (size_t t = 0; t < T; t++) {                                                                        \
            const __m256i is = _mm256_dpbusd_epi32(_mm256_set1_epi32(A[t].cinit[b]), w,                         \
                                                   _mm256_loadu_si256((const __m256i *)(A[t].q + 32 * (b))));   \
            acc[t][(k) & 1] =                                                                                   \
                _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_permutexvar_ps(lane[k], s[t]), acc[t][(k) & 1]); \
        }                                                                                                       \
    } while (0)
        size_t b = 0;
        for (; b + 4 <= nb; b += 4) {
            const uint8_t *pb = p + 34 * b; /* 136 bytes: the two prefetches reach every line */
            _mm_prefetch((const char *)pb + GV_PF_Q8_0, _MM_HINT_T0);
            _mm_prefetch((const char *)pb + GV_PF_Q8_0 + 68, _MM_HINT_T0);
            const __m128 dW = _mm_cvtph_ps(_mm512_castsi512_si128(
                _mm512_permutex2var_epi16(_mm512_loadu_si512(pb), sc4, _mm512_loadu_si512(pb + 68))));
            for (size_t t = 0; t < T; t++) s[t] = _mm256_castps128_ps256(_mm_mul_ps(dW, _mm_loadu_ps(A[t].dXl + b)));
            Q8_BLOCK(b, 0);
            Q8_BLOCK(b + 1, 1);
            Q8_BLOCK(b + 2, 2);
            Q8_BLOCK(b + 3, 3);
        }
        for (; b < nb; b++) {
            const float dWb = f16(p + 34 * b);
            for (size_t t = 0; t < T; t++) s[t] = _mm256_set1_ps(dWb * A[t].dXl[b]);
            Q8_BLOCK(b, 0);
        }
#undef Q8_BLOCK
        for (size_t t = 0; t < T; t++) {
            const __m256 v = _mm256_add_ps(acc[t][0], acc[t][1]);
            __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
            h = _mm_add_ps(h, _mm_movehl_ps(h, h));
            h = _mm_add_ss(h, _mm_movehdup_ps(h));
            j->Y[t * j->ldy + r] = _mm_cvtss_f32(h);
        }
    }
}

GEMV_BY_T(gemv_q8_0_rows, const gv_act *A, A)

/* ---- BF16 decode with fp32 activations ------------------------------------------------------------
 * 32-bit lane i of a 512-bit load of 32 bf16 values holds element 2i in its low half and 2i+1 in its
 * high half, so (lane << 16) is element 2i as fp32 and (lane & 0xFFFF0000) element 2i+1, exactly: two
 * integer ops per 32 weights instead of a widening shuffle per 16.  The activations are deinterleaved
 * to match once per call: per 32 columns, [x0 x2 ... x30][x1 x3 ... x31]. */
static void deinterleave32(const float *x, size_t K, float *xd) {
    const __m512i ie = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i io = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    for (size_t i = 0; i + 32 <= K; i += 32) {
        const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
        _mm512_storeu_ps(xd + i, _mm512_permutex2var_ps(a, ie, b));
        _mm512_storeu_ps(xd + i + 16, _mm512_permutex2var_ps(a, io, b));
    }
}

/* acc[t][0..3] += the products of 64 weights (w0, w1: 32 bf16 each) with columns i.. of xd */
#define BF16_GEMV_PAIR(w0, w1)                                                                                  \
    do {                                                                                                        \
        const __m512 e0 = _mm512_castsi512_ps(_mm512_slli_epi32(w0, 16)), o0 = _mm512_castsi512_ps(_mm512_and_si512(w0, hi)); \
        const __m512 e1 = _mm512_castsi512_ps(_mm512_slli_epi32(w1, 16)), o1 = _mm512_castsi512_ps(_mm512_and_si512(w1, hi)); \
        for (size_t t = 0; t < T; t++) {                                                                        \
            const float *x = xd + t * K + i;                                                                    \
            acc[t][0] = _mm512_fmadd_ps(e0, _mm512_loadu_ps(x), acc[t][0]);                                     \
            acc[t][1] = _mm512_fmadd_ps(o0, _mm512_loadu_ps(x + 16), acc[t][1]);                                \
            acc[t][2] = _mm512_fmadd_ps(e1, _mm512_loadu_ps(x + 32), acc[t][2]);                                \
            acc[t][3] = _mm512_fmadd_ps(o1, _mm512_loadu_ps(x + 48), acc[t][3]);                                \
        }                                                                                                       \
    } while (0)
/* acc[t][0..1] += the products of 32 weights (w0) with columns i.. of xd */
#define BF16_GEMV_ONE(w0)                                                                                       \
    do {                                                                                                        \
        const __m512 e0 = _mm512_castsi512_ps(_mm512_slli_epi32(w0, 16)), o0 = _mm512_castsi512_ps(_mm512_and_si512(w0, hi)); \
        for (size_t t = 0; t < T; t++) {                                                                        \
            acc[t][0] = _mm512_fmadd_ps(e0, _mm512_loadu_ps(xd + t * K + i), acc[t][0]);                        \
            acc[t][1] = _mm512_fmadd_ps(o0, _mm512_loadu_ps(xd + t * K + i + 16), acc[t][1]);                   \
        }                                                                                                       \
    } while (0)

/* GGUF aligns tensor data to 32 bytes only, and in the files llama.cpp writes every tensor sits at
 * 32 mod 64: each 64-byte load of such a row spans two cache lines.  Measured on the bench model's
 * lm_head (64 MB, BF16, 2 threads), the same GEMV ran at 53-57 GB/s on a copy 32 bytes off a line
 * and 71-74 GB/s on a line-aligned copy.  So rows whose start is off a line by a multiple of 4 bytes
 * are read as whole aligned lines, and each 64 weights rebuilt from two neighbouring lines by one
 * vpermt2d (lane l of the result = dword s + l of the pair).  The first and last lines, which hold
 * bytes outside the row, are loaded masked to the row's bytes (no fault, nothing read past the
 * row); the weights land in the same lanes as the unaligned loads', so the sums are bit-identical. */
static inline __attribute__((always_inline)) bool gemv_bf16_row_aligned(const uint8_t *p, size_t K, const float *xd, const size_t T,
                                                                       __m512 acc[][4], bool lines) {
    const size_t mis = (uintptr_t)p & 63, nv = K / 32;
    if (mis == 0 || (mis & 3) || K % 32 || !lines) return false;
    const __m512i hi = _mm512_set1_epi32((int)0xFFFF0000u);
    const unsigned sh = (unsigned)(mis / 4);
    const __m512i idx = _mm512_add_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32((int)sh));
    const uint8_t *b = p - mis; /* line v + 1 holds the end of vector v and the start of vector v + 1 */
    __m512i a = _mm512_maskz_loadu_epi32((__mmask16)(0xFFFFu << sh), b);
    size_t v = 0, i = 0;
    for (; v + 2 < nv; v += 2, i += 64) {
        _mm_prefetch((const char *)(p + 2 * i) + GV_PF_BF16, _MM_HINT_T0);
        _mm_prefetch((const char *)(p + 2 * i) + GV_PF_BF16 + 64, _MM_HINT_T0);
        const __m512i a1 = _mm512_load_si512(b + 64 * (v + 1)), a2 = _mm512_load_si512(b + 64 * (v + 2));
        const __m512i w0 = _mm512_permutex2var_epi32(a, idx, a1), w1 = _mm512_permutex2var_epi32(a1, idx, a2);
        a = a2;
        BF16_GEMV_PAIR(w0, w1);
    }
    const __mmask16 last = (__mmask16)((1u << sh) - 1);
    if (nv - v == 2) {
        const __m512i a1 = _mm512_load_si512(b + 64 * (v + 1)), a2 = _mm512_maskz_loadu_epi32(last, b + 64 * (v + 2));
        const __m512i w0 = _mm512_permutex2var_epi32(a, idx, a1), w1 = _mm512_permutex2var_epi32(a1, idx, a2);
        BF16_GEMV_PAIR(w0, w1);
    } else if (nv - v == 1) {
        const __m512i w0 = _mm512_permutex2var_epi32(a, idx, _mm512_maskz_loadu_epi32(last, b + 64 * (v + 1)));
        BF16_GEMV_ONE(w0);
    }
    return true;
}

static inline __attribute__((always_inline)) void gemv_bf16_rows_t(const mm_job *j, size_t r0, size_t r1, const float *xd, const size_t T) {
    const size_t K = j->W->cols, K32 = K / 32 * 32, K64 = K / 64 * 64;
    const __m512i hi = _mm512_set1_epi32((int)0xFFFF0000u);
    const bool lines = mmx_kernel_bf16_rows() != MMX_BF16_ROWS_PLAIN; /* undecided (small products, tests): lines */
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *p = row_ptr(j->W, r);
        /* four accumulators per token (even/odd halves of two loads): four independent FMA chains */
        __m512 acc[MM_GEMV_MAX_T][4];
        for (size_t t = 0; t < T; t++) acc[t][0] = acc[t][1] = acc[t][2] = acc[t][3] = _mm512_setzero_ps();
        size_t i = 0;
        if (gemv_bf16_row_aligned(p, K, xd, T, acc, lines)) i = K;
        for (; i < K64; i += 64) {
            _mm_prefetch((const char *)(p + 2 * i) + GV_PF_BF16, _MM_HINT_T0);
            _mm_prefetch((const char *)(p + 2 * i) + GV_PF_BF16 + 64, _MM_HINT_T0);
            const __m512i w0 = _mm512_loadu_si512(p + 2 * i), w1 = _mm512_loadu_si512(p + 2 * i + 64);
            BF16_GEMV_PAIR(w0, w1);
        }
        for (; i < K32; i += 32) {
            const __m512i w0 = _mm512_loadu_si512(p + 2 * i);
            BF16_GEMV_ONE(w0);
        }
        for (; i < K; i += 16) { /* fewer than 32 columns left: natural order, original activations */
            const __m512 w = bf16x16_tail(p + 2 * i, K - i);
            for (size_t t = 0; t < T; t++)
                acc[t][0] = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(tail16(K - i), j->X + t * j->ldx + i), acc[t][0]);
        }
        for (size_t t = 0; t < T; t++)
            j->Y[t * j->ldy + r] =
                _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[t][0], acc[t][1]), _mm512_add_ps(acc[t][2], acc[t][3])));
    }
}

GEMV_BY_T(gemv_bf16_rows, const float *xd, xd)

/* The activations in the layout the row kernels read: deinterleaved fp32 for BF16, int8 blocks for
 * the int8 path; nothing for the rest (they read j->X). */
void mmx_mm_gemv_prepare_avx512(const mm_job *j, void *scratch) {
    const mmx_matrix *W = j->W;
    if (W->type == MMX_TYPE_BF16 && j->act == MMX_ACT_F32 && W->cols >= 32) {
        float *xd = scratch;
        for (size_t t = 0; t < j->T; t++) deinterleave32(j->X + t * j->ldx, W->cols, xd + t * W->cols);
    } else if (j->act == MMX_ACT_Q8) {
        gv_act A;
        for (size_t t = 0; t < j->T; t++)
            gv_quant(W->type, j->X + t * j->ldx, W->cols, (uint8_t *)scratch + t * gv_act_bytes(W->cols), &A);
    }
}

void mmx_mm_gemv_rows_avx512(const mm_job *j, size_t r0, size_t r1, void *scratch) {
    const mmx_matrix *W = j->W;
    if (W->type == MMX_TYPE_BF16 && j->act == MMX_ACT_F32 && W->cols >= 32) {
        gemv_bf16_rows(j, r0, r1, scratch);
        return;
    }
    if (j->act == MMX_ACT_Q8) {
        /* the pointers gv_quant set, rebuilt from the same layout */
        const size_t K = W->cols, K64 = mm_round_up(K, 64);
        const bool k45 = W->type == MMX_TYPE_Q4_K || W->type == MMX_TYPE_Q5_K;
        gv_act A[MM_GEMV_MAX_T];
        for (size_t t = 0; t < j->T; t++) {
            const uint8_t *buf = (const uint8_t *)scratch + t * gv_act_bytes(K);
            A[t] = (gv_act){(const int8_t *)buf, (const float *)(buf + K64), k45 ? NULL : (const int32_t *)(buf + 2 * K64),
                            (const float *)(buf + 3 * K64)};
        }
        if (k45) gemv_q8_k45_rows(j, r0, r1, A);
        else if (W->type == MMX_TYPE_Q8_0) gemv_q8_0_rows(j, r0, r1, A);
        else gemv_q8_rows(j, r0, r1, A);
        return;
    }
    float out[MM_GEMV_MAX_T];
    for (size_t r = r0; r < r1; r++) {
        gemv_row(W->type, row_ptr(W, r), W->cols, j->X, j->T, j->ldx, out);
        for (size_t t = 0; t < j->T; t++) j->Y[t * j->ldy + r] = out[t];
    }
}

void mmx_mm_gemv_avx512(const mm_job *j, size_t r0, size_t r1, void *scratch) {
    mmx_mm_gemv_prepare_avx512(j, scratch);
    mmx_mm_gemv_rows_avx512(j, r0, r1, scratch);
}
#endif
