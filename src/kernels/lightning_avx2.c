/* AVX2+FMA lightning attention kernels (see lightning.h) for head_dim a multiple of 8 up to 256.
 * The AVX-512 file keeps a head's row in registers; with 16 ymm registers that does not fit for
 * d = 128, so each step here works on column slices small enough for its accumulators (at most 12
 * live vectors), reading the slice's operands from L1. */
#include "lightning.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include "simd_avx2.h"

#define LA2_MAX_D 256


/* lanes 0..3 = the full sums of a, b, c, e */
static inline __m128 hsum4x8(__m256 a, __m256 b, __m256 c, __m256 e) {
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, e));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

bool mmx_la_block_avx2(const float *qkv, size_t ld, size_t m, size_t d, const float *decay, float *S, float *out,
                       size_t ld_out, float *scores) {
    if (d % 8 || d == 0 || d > LA2_MAX_D) return false;
    /* 1. raw intra-block scores q_i . k_j, j <= i, four keys per pass over q_i */
    for (size_t i = 0; i < m; i++) {
        const float *q = qkv + i * ld;
        size_t j = 0;
        for (; j + 4 <= i + 1; j += 4) {
            const float *k0 = qkv + j * ld + d, *k1 = k0 + ld, *k2 = k1 + ld, *k3 = k2 + ld;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (size_t c = 0; c < d; c += 8) {
                const __m256 qv = _mm256_loadu_ps(q + c);
                a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k0 + c), a0);
                a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k1 + c), a1);
                a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k2 + c), a2);
                a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k3 + c), a3);
            }
            _mm_storeu_ps(scores + i * m + j, hsum4x8(a0, a1, a2, a3));
        }
        for (; j <= i; j++) {
            const float *k = qkv + j * ld + d;
            __m256 a = _mm256_setzero_ps();
            for (size_t c = 0; c < d; c += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(q + c), _mm256_loadu_ps(k + c), a);
            scores[i * m + j] = hsum8(a);
        }
    }
    /* 2. out_i = decay[i+1] q_i S: four queries x 16 columns per pass over the rows of S */
    for (size_t i0 = 0; i0 < m; i0 += 4) {
        const size_t nq = m - i0 < 4 ? m - i0 : 4;
        const float *q0 = qkv + i0 * ld, *q1 = qkv + (i0 + (nq > 1)) * ld, *q2 = qkv + (i0 + (nq > 2 ? 2 : 0)) * ld,
                    *q3 = qkv + (i0 + (nq > 3 ? 3 : 0)) * ld;
        for (size_t c0 = 0; c0 < d; c0 += 16) {
            const bool two = c0 + 8 < d; /* a second column vector in this slice */
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00,
                   a31 = a00;
            for (size_t r = 0; r < d; r++) {
                const float *Sr = S + r * d + c0;
                const __m256 s0 = _mm256_loadu_ps(Sr), s1 = two ? _mm256_loadu_ps(Sr + 8) : _mm256_setzero_ps();
                const __m256 b0 = _mm256_broadcast_ss(q0 + r), b1 = _mm256_broadcast_ss(q1 + r),
                             b2 = _mm256_broadcast_ss(q2 + r), b3 = _mm256_broadcast_ss(q3 + r);
                a00 = _mm256_fmadd_ps(b0, s0, a00), a01 = _mm256_fmadd_ps(b0, s1, a01);
                a10 = _mm256_fmadd_ps(b1, s0, a10), a11 = _mm256_fmadd_ps(b1, s1, a11);
                a20 = _mm256_fmadd_ps(b2, s0, a20), a21 = _mm256_fmadd_ps(b2, s1, a21);
                a30 = _mm256_fmadd_ps(b3, s0, a30), a31 = _mm256_fmadd_ps(b3, s1, a31);
            }
            const __m256 p0[4] = {a00, a10, a20, a30}, p1[4] = {a01, a11, a21, a31};
            for (size_t q = 0; q < nq; q++) {
                float *o = out + (i0 + q) * ld_out + c0;
                const __m256 dec = _mm256_set1_ps(decay[i0 + q + 1]);
                _mm256_storeu_ps(o, _mm256_mul_ps(p0[q], dec));
                if (two) _mm256_storeu_ps(o + 8, _mm256_mul_ps(p1[q], dec));
            }
        }
    }
    /* 3. out_i += sum_{j<=i} decay[i-j] s_ij v_j: two queries x 32 columns per pass over the values */
    for (size_t i = 0; i < m; i += 2) {
        const bool two = i + 1 < m;
        float *o0 = out + i * ld_out, *o1 = two ? o0 + ld_out : o0;
        const float *s0 = scores + i * m, *s1 = two ? s0 + m : s0;
        for (size_t c0 = 0; c0 < d; c0 += 32) {
            const size_t nv = (d - c0) / 8 < 4 ? (d - c0) / 8 : 4;
            __m256 a0[4], a1[4];
            for (size_t v = 0; v < 4; v++) {
                a0[v] = v < nv ? _mm256_loadu_ps(o0 + c0 + 8 * v) : _mm256_setzero_ps();
                a1[v] = v < nv ? _mm256_loadu_ps(o1 + c0 + 8 * v) : _mm256_setzero_ps();
            }
            for (size_t j = 0; j <= i; j++) {
                const float *vv = qkv + j * ld + 2 * d + c0;
                const __m256 w0 = _mm256_set1_ps(s0[j] * decay[i - j]), w1 = _mm256_set1_ps(s1[j] * decay[i + 1 - j]);
                if (nv == 4) {
#pragma GCC unroll 4
                    for (int v = 0; v < 4; v++) {
                        const __m256 x = _mm256_loadu_ps(vv + 8 * v);
                        a0[v] = _mm256_fmadd_ps(w0, x, a0[v]);
                        a1[v] = _mm256_fmadd_ps(w1, x, a1[v]);
                    }
                } else {
                    for (size_t v = 0; v < nv; v++) {
                        const __m256 x = _mm256_loadu_ps(vv + 8 * v);
                        a0[v] = _mm256_fmadd_ps(w0, x, a0[v]);
                        a1[v] = _mm256_fmadd_ps(w1, x, a1[v]);
                    }
                }
            }
            for (size_t v = 0; v < nv; v++) _mm256_storeu_ps(o0 + c0 + 8 * v, a0[v]);
            if (two) {
                const float *vv = qkv + (i + 1) * ld + 2 * d + c0;
                const __m256 w1 = _mm256_set1_ps(s1[i + 1] * decay[0]);
                for (size_t v = 0; v < nv; v++)
                    _mm256_storeu_ps(o1 + c0 + 8 * v, _mm256_fmadd_ps(w1, _mm256_loadu_ps(vv + 8 * v), a1[v]));
            }
        }
    }
    /* 4. S <- decay[m] S + sum_j decay[m-1-j] k_j^T v_j: two rows x 32 columns per pass over the block */
    const __m256 bd = _mm256_set1_ps(decay[m]);
    for (size_t r = 0; r < d; r += 2) {
        float *S0 = S + r * d, *S1 = S0 + d;
        for (size_t c0 = 0; c0 < d; c0 += 32) {
            const size_t nv = (d - c0) / 8 < 4 ? (d - c0) / 8 : 4;
            __m256 a0[4], a1[4];
            for (size_t v = 0; v < 4; v++) {
                a0[v] = v < nv ? _mm256_mul_ps(_mm256_loadu_ps(S0 + c0 + 8 * v), bd) : _mm256_setzero_ps();
                a1[v] = v < nv ? _mm256_mul_ps(_mm256_loadu_ps(S1 + c0 + 8 * v), bd) : _mm256_setzero_ps();
            }
            for (size_t j = 0; j < m; j++) {
                const float *k = qkv + j * ld + d, *vv = k + d + c0;
                const float dj = decay[m - 1 - j];
                const __m256 b0 = _mm256_set1_ps(k[r] * dj), b1 = _mm256_set1_ps(k[r + 1] * dj);
                if (nv == 4) {
#pragma GCC unroll 4
                    for (int v = 0; v < 4; v++) {
                        const __m256 x = _mm256_loadu_ps(vv + 8 * v);
                        a0[v] = _mm256_fmadd_ps(b0, x, a0[v]);
                        a1[v] = _mm256_fmadd_ps(b1, x, a1[v]);
                    }
                } else {
                    for (size_t v = 0; v < nv; v++) {
                        const __m256 x = _mm256_loadu_ps(vv + 8 * v);
                        a0[v] = _mm256_fmadd_ps(b0, x, a0[v]);
                        a1[v] = _mm256_fmadd_ps(b1, x, a1[v]);
                    }
                }
            }
            for (size_t v = 0; v < nv; v++)
                _mm256_storeu_ps(S0 + c0 + 8 * v, a0[v]), _mm256_storeu_ps(S1 + c0 + 8 * v, a1[v]);
        }
    }
    return true;
}

bool mmx_la_decode_avx2(const float *q, size_t d, float lambda, float *S, float *o) {
    if (d % 8 || d == 0 || d > LA2_MAX_D) return false;
    const float *k = q + d, *vv = q + 2 * d;
    const __m256 lam = _mm256_set1_ps(lambda);
    /* 32 columns at a time: v and the output slice in registers, every row of S read and written once */
    for (size_t c0 = 0; c0 < d; c0 += 32) {
        const size_t nv = (d - c0) / 8 < 4 ? (d - c0) / 8 : 4;
        __m256 vr[4], acc[4];
        for (size_t v = 0; v < 4; v++) {
            vr[v] = v < nv ? _mm256_loadu_ps(vv + c0 + 8 * v) : _mm256_setzero_ps();
            acc[v] = _mm256_setzero_ps();
        }
        for (size_t r = 0; r < d; r++) {
            float *Sr = S + r * d + c0;
            const __m256 kr = _mm256_set1_ps(k[r]), qr = _mm256_set1_ps(q[r]);
            for (size_t v = 0; v < nv; v++) {
                const __m256 s = _mm256_fmadd_ps(lam, _mm256_loadu_ps(Sr + 8 * v), _mm256_mul_ps(kr, vr[v]));
                _mm256_storeu_ps(Sr + 8 * v, s);
                acc[v] = _mm256_fmadd_ps(qr, s, acc[v]);
            }
        }
        for (size_t v = 0; v < nv; v++) _mm256_storeu_ps(o + c0 + 8 * v, acc[v]);
    }
    return true;
}
#endif
