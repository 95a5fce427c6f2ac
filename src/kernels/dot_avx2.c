/* AVX2+FMA variants (compiled with -mavx2 -mfma -mf16c). */
#include "kernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include "simd_avx2.h"
#include <math.h>

float mmx_dot_avx2(const float *a, const float *b, size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc0 = _mm256_add_ps(acc0, acc1);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    float acc = _mm_cvtss_f32(s);
    for (; i < n; i++) acc += a[i] * b[i];
    return acc;
}
#endif

#if defined(__x86_64__)
void mmx_axpy_avx2(float a, const float *x, float *y, size_t n) {
    const __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
        _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8)));
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

/* 1 / (1 + e^-v) by a true divide (Zen 3 / Haswell divide 8 floats in ~5 cycles; 1 / +inf = 0). */
static inline __m256 sigmoid256(__m256 v) {
    return _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), exp256(_mm256_sub_ps(_mm256_setzero_ps(), v))));
}

void mmx_gate_avx2(mmx_gate kind, float *a, const float *b, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(a + i);
        __m256 y;
        switch (kind) {
        case MMX_GATE_SILU: y = _mm256_mul_ps(x, sigmoid256(x)); break;
        case MMX_GATE_SWIGLU: y = _mm256_mul_ps(_mm256_mul_ps(x, sigmoid256(x)), _mm256_loadu_ps(b + i)); break;
        default: y = _mm256_mul_ps(x, sigmoid256(_mm256_loadu_ps(b + i))); break;
        }
        _mm256_storeu_ps(a + i, y);
    }
    if (i < n) mmx_gate_ref(kind, a + i, b ? b + i : NULL, n - i);
}

uint64_t mmx_stream_sum_avx2(const void *p, size_t n) {
    const uint8_t *b = p;
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        s0 = _mm256_add_epi64(s0, _mm256_load_si256((const __m256i *)(b + i)));
        s1 = _mm256_add_epi64(s1, _mm256_load_si256((const __m256i *)(b + i + 32)));
        s2 = _mm256_add_epi64(s2, _mm256_load_si256((const __m256i *)(b + i + 64)));
        s3 = _mm256_add_epi64(s3, _mm256_load_si256((const __m256i *)(b + i + 96)));
    }
    for (; i + 32 <= n; i += 32) s0 = _mm256_add_epi64(s0, _mm256_load_si256((const __m256i *)(b + i)));
    uint64_t lane[4], sum = 0;
    _mm256_storeu_si256((__m256i *)lane, _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3)));
    for (int k = 0; k < 4; k++) sum += lane[k];
    return sum;
}
#endif

#if defined(__x86_64__)
/* RMSNorm (kernels.h): the sum of squares in four double vectors of 4 lanes (only its rounding order
 * differs from the reference's), the scaling in fp32 as the reference does it. */
void mmx_rmsnorm_avx2(const float *x, const float *g, size_t n, double eps, float *out) {
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256d a = _mm256_cvtps_pd(_mm_loadu_ps(x + i)), b = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));
        const __m256d c = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 8)), d = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 12));
        s0 = _mm256_fmadd_pd(a, a, s0), s1 = _mm256_fmadd_pd(b, b, s1), s2 = _mm256_fmadd_pd(c, c, s2), s3 = _mm256_fmadd_pd(d, d, s3);
    }
    double lane[4], ss = 0;
    _mm256_storeu_pd(lane, _mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
    ss = (lane[0] + lane[1]) + (lane[2] + lane[3]);
    for (; i < n; i++) ss += (double)x[i] * x[i];
    const float scale = (float)(1.0 / sqrt(ss / (double)n + eps));
    const __m256 vs = _mm256_set1_ps(scale);
    for (i = 0; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(g + i), _mm256_mul_ps(_mm256_loadu_ps(x + i), vs)));
    for (; i < n; i++) out[i] = g[i] * (x[i] * scale);
}
#endif
