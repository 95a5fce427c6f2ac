/* AVX-512 variants (compiled with -mavx512f/bw/vl/dq/bf16/vnni). */
#include "kernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

/* e^x: x = n ln2 + r with |r| <= ln2/2 (ln 2 split in a high part exact in float and a low part),
 * e^r by its degree-6 Taylor polynomial (truncation < 2e-7 relative), times 2^n by scalef, which
 * gives +inf / 0 past the float range and propagates NaN. */
static inline __m512 exp512(__m512 x) {
    /* clamp (NaN kept: max/min return their second operand when either is NaN) */
    x = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-104.0f), x));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

uint64_t mmx_stream_sum_avx512(const void *p, size_t n) {
    const uint8_t *b = p;
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 256 <= n; i += 256) {
        s0 = _mm512_add_epi64(s0, _mm512_load_si512(b + i));
        s1 = _mm512_add_epi64(s1, _mm512_load_si512(b + i + 64));
        s2 = _mm512_add_epi64(s2, _mm512_load_si512(b + i + 128));
        s3 = _mm512_add_epi64(s3, _mm512_load_si512(b + i + 192));
    }
    for (; i + 64 <= n; i += 64) s0 = _mm512_add_epi64(s0, _mm512_load_si512(b + i));
    /* the lanes summed as unsigned (wrapping) words: _mm512_reduce_add_epi64 adds signed ones */
    uint64_t lane[8], sum = 0;
    _mm512_storeu_si512(lane, _mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3)));
    for (int k = 0; k < 8; k++) sum += lane[k];
    return sum;
}

/* 1 / (1 + e^-v): the reciprocal by vrcp14 (relative error < 2^-14) and one Newton step, r(2 - d r),
 * which squares the error (< 2^-28, below float rounding) at a fraction of vdivps's cost (the divide
 * was half of the gate's time).  d = +inf (v very negative) gives r = 0 as the divide would; NaN stays NaN. */
static inline __m512 sigmoid512(__m512 v) {
    const __m512 d = _mm512_add_ps(_mm512_set1_ps(1.0f), exp512(_mm512_sub_ps(_mm512_setzero_ps(), v)));
    const __m512 r = _mm512_rcp14_ps(d);
    const __m512 e = _mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.0f)); /* 1 - d r */
    const __m512 y = _mm512_fmadd_ps(r, e, r);                       /* r + r (1 - d r) */
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(d, _mm512_set1_ps(INFINITY), _CMP_EQ_OQ), y, _mm512_setzero_ps());
}

void mmx_gate_avx512(mmx_gate kind, float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512 x = _mm512_maskz_loadu_ps(m, a + i);
        __m512 y;
        switch (kind) {
        case MMX_GATE_SILU: y = _mm512_mul_ps(x, sigmoid512(x)); break;
        case MMX_GATE_SWIGLU: y = _mm512_mul_ps(_mm512_mul_ps(x, sigmoid512(x)), _mm512_maskz_loadu_ps(m, b + i)); break;
        default: y = _mm512_mul_ps(x, sigmoid512(_mm512_maskz_loadu_ps(m, b + i))); break;
        }
        _mm512_mask_storeu_ps(a + i, m, y);
    }
}

void mmx_rmsnorm_avx512(const float *x, const float *g, size_t n, double eps, float *out) {
    __m512d s[4] = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd()};
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int c = 0; c < 4; c++) {
            const __m512d v = _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8 * (size_t)c));
            s[c] = _mm512_fmadd_pd(v, v, s[c]);
        }
    for (; i < n; i += 8) {
        const __mmask8 m = n - i >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (n - i)) - 1);
        const __m512d v = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x + i));
        s[0] = _mm512_fmadd_pd(v, v, s[0]);
    }
    const double ss = _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(s[0], s[1]), _mm512_add_pd(s[2], s[3])));
    const __m512 scale = _mm512_set1_ps((float)(1.0 / sqrt(ss / (double)n + eps)));
    for (i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), scale);
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, g + i), v));
    }
}

float mmx_dot_avx512(const float *a, const float *b, size_t n) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
    }
    for (; i + 16 <= n; i += 16) acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

void mmx_axpy_avx512(float a, const float *x, float *y, size_t n) {
    const __m512 va = _mm512_set1_ps(a);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}
#endif
