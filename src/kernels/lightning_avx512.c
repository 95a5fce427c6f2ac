/* AVX-512 lightning attention kernels (see lightning.h), specialised on head_dim = 16*NV so the
 * per-row vectors live in registers. */
#include "lightning.h"
#if defined(__x86_64__)
#include <immintrin.h>

/* 16 vectors of partial sums -> one vector whose lane i is the full sum of v[i] (transpose-add tree) */
static inline __m512 sum16(const __m512 v[16]) {
    __m512 a[8], b[4], c[2];
    for (int i = 0; i < 8; i++)
        a[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
    for (int i = 0; i < 4; i++) {
        const __m512d x = _mm512_castps_pd(a[2 * i]), y = _mm512_castps_pd(a[2 * i + 1]);
        b[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)), _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
    }
    for (int i = 0; i < 2; i++)
        c[i] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0x88), _mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0xDD));
    return _mm512_add_ps(_mm512_shuffle_f32x4(c[0], c[1], 0x88), _mm512_shuffle_f32x4(c[0], c[1], 0xDD));
}

/* One block (lightning.h) for head_dim 16*NV, register-blocked: the intra-block scores 16 keys at a
 * time, q S four queries at a time, the intra-block values two queries at a time, the state update
 * two rows of S at a time, so each loaded vector feeds several FMAs. */
static inline __attribute__((always_inline)) void la_block_nv(const float *qkv, size_t ld, size_t m, const float *decay,
                                                              float *S, float *out, size_t ld_out, float *scores,
                                                              const int NV) {
    const size_t d = 16 * (size_t)NV;
    /* 1. raw intra-block scores q_i . k_j, j <= i (the decay is applied where they are used) */
    for (size_t i = 0; i < m; i++) {
        const float *q = qkv + i * ld;
        __m512 qv[8];
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) qv[v] = _mm512_loadu_ps(q + 16 * v);
        size_t j = 0;
        for (; j + 16 <= i + 1; j += 16) {
            __m512 acc[16];
#pragma GCC unroll 16
            for (int kk = 0; kk < 16; kk++) {
                const float *k = qkv + (j + (size_t)kk) * ld + d;
                __m512 a = _mm512_mul_ps(qv[0], _mm512_loadu_ps(k));
#pragma GCC unroll 8
                for (int v = 1; v < NV; v++) a = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(k + 16 * v), a);
                acc[kk] = a;
            }
            _mm512_storeu_ps(scores + i * m + j, sum16(acc));
        }
        for (; j <= i; j++) {
            const float *k = qkv + j * ld + d;
            __m512 a = _mm512_mul_ps(qv[0], _mm512_loadu_ps(k));
#pragma GCC unroll 8
            for (int v = 1; v < NV; v++) a = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(k + 16 * v), a);
            scores[i * m + j] = _mm512_reduce_add_ps(a);
        }
    }
    /* 2. out_i = decay[i+1] q_i S, four queries x up to four column vectors per pass */
    const int CW = NV > 4 ? 4 : NV;
    for (size_t i0 = 0; i0 < m; i0 += 4) {
        const size_t nq = m - i0 < 4 ? m - i0 : 4;
        const float *q0 = qkv + i0 * ld, *q1 = qkv + (i0 + (nq > 1)) * ld, *q2 = qkv + (i0 + (nq > 2 ? 2 : 0)) * ld,
                    *q3 = qkv + (i0 + (nq > 3 ? 3 : 0)) * ld;
        for (int c0 = 0; c0 < NV; c0 += CW) {
            __m512 a0[4], a1[4], a2[4], a3[4];
#pragma GCC unroll 4
            for (int c = 0; c < CW; c++) a0[c] = a1[c] = a2[c] = a3[c] = _mm512_setzero_ps();
            for (size_t r = 0; r < d; r++) {
                const float *Sr = S + r * d + 16 * (size_t)c0;
                const __m512 b0 = _mm512_set1_ps(q0[r]), b1 = _mm512_set1_ps(q1[r]), b2 = _mm512_set1_ps(q2[r]),
                             b3 = _mm512_set1_ps(q3[r]);
#pragma GCC unroll 4
                for (int c = 0; c < CW; c++) {
                    const __m512 sv = _mm512_loadu_ps(Sr + 16 * c);
                    a0[c] = _mm512_fmadd_ps(b0, sv, a0[c]);
                    a1[c] = _mm512_fmadd_ps(b1, sv, a1[c]);
                    a2[c] = _mm512_fmadd_ps(b2, sv, a2[c]);
                    a3[c] = _mm512_fmadd_ps(b3, sv, a3[c]);
                }
            }
#pragma GCC unroll 4
            for (int c = 0; c < CW; c++) {
                float *o = out + i0 * ld_out + 16 * (size_t)(c0 + c);
                _mm512_storeu_ps(o, _mm512_mul_ps(a0[c], _mm512_set1_ps(decay[i0 + 1])));
                if (nq > 1) _mm512_storeu_ps(o + ld_out, _mm512_mul_ps(a1[c], _mm512_set1_ps(decay[i0 + 2])));
                if (nq > 2) _mm512_storeu_ps(o + 2 * ld_out, _mm512_mul_ps(a2[c], _mm512_set1_ps(decay[i0 + 3])));
                if (nq > 3) _mm512_storeu_ps(o + 3 * ld_out, _mm512_mul_ps(a3[c], _mm512_set1_ps(decay[i0 + 4])));
            }
        }
    }
    /* 3. out_i += sum_{j<=i} decay[i-j] s_ij v_j, two queries per pass over the values */
    for (size_t i = 0; i < m; i += 2) {
        const bool two = i + 1 < m;
        float *o0 = out + i * ld_out, *o1 = two ? o0 + ld_out : o0;
        const float *s0 = scores + i * m, *s1 = two ? s0 + m : s0;
        __m512 a0[8], a1[8];
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) a0[v] = _mm512_loadu_ps(o0 + 16 * v), a1[v] = _mm512_loadu_ps(o1 + 16 * v);
        for (size_t j = 0; j <= i; j++) {
            const float *vv = qkv + j * ld + 2 * d;
            const __m512 w0 = _mm512_set1_ps(s0[j] * decay[i - j]), w1 = _mm512_set1_ps(s1[j] * decay[i + 1 - j]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++) {
                const __m512 x = _mm512_loadu_ps(vv + 16 * v);
                a0[v] = _mm512_fmadd_ps(w0, x, a0[v]);
                a1[v] = _mm512_fmadd_ps(w1, x, a1[v]);
            }
        }
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) _mm512_storeu_ps(o0 + 16 * v, a0[v]);
        if (two) {
            const float *vv = qkv + (i + 1) * ld + 2 * d;
            const __m512 w1 = _mm512_set1_ps(s1[i + 1] * decay[0]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++) _mm512_storeu_ps(o1 + 16 * v, _mm512_fmadd_ps(w1, _mm512_loadu_ps(vv + 16 * v), a1[v]));
        }
    }
    /* 4. S <- decay[m] S + sum_j decay[m-1-j] k_j^T v_j, two rows of S per pass over the block */
    const __m512 bd = _mm512_set1_ps(decay[m]);
    for (size_t r = 0; r < d; r += 2) {
        float *S0 = S + r * d, *S1 = S0 + d;
        __m512 s0[8], s1[8];
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) s0[v] = _mm512_mul_ps(_mm512_loadu_ps(S0 + 16 * v), bd), s1[v] = _mm512_mul_ps(_mm512_loadu_ps(S1 + 16 * v), bd);
        for (size_t j = 0; j < m; j++) {
            const float *k = qkv + j * ld + d, *vv = k + d;
            const float dj = decay[m - 1 - j];
            const __m512 b0 = _mm512_set1_ps(k[r] * dj), b1 = _mm512_set1_ps(k[r + 1] * dj);
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++) {
                const __m512 x = _mm512_loadu_ps(vv + 16 * v);
                s0[v] = _mm512_fmadd_ps(b0, x, s0[v]);
                s1[v] = _mm512_fmadd_ps(b1, x, s1[v]);
            }
        }
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) _mm512_storeu_ps(S0 + 16 * v, s0[v]), _mm512_storeu_ps(S1 + 16 * v, s1[v]);
    }
}

#define LA_IMPL(NV)                                                                                 \
    static void la_block_##NV(const float *qkv, size_t ld, size_t m, const float *decay, float *S,   \
                              float *out, size_t ld_out, float *scores) {                           \
        la_block_nv(qkv, ld, m, decay, S, out, ld_out, scores, NV);                                 \
    }                                                                                               \
    static void la_decode_##NV(const float *q, float lambda, float *S, float *o) {                  \
        const size_t d = 16 * NV;                                                                   \
        const float *k = q + d, *vv = q + 2 * d;                                                    \
        const __m512 lam = _mm512_set1_ps(lambda);                                                  \
        __m512 vr[NV], acc[NV];                                                                     \
        for (int v = 0; v < NV; v++) {                                                              \
            vr[v] = _mm512_loadu_ps(vv + 16 * v);                                                   \
            acc[v] = _mm512_setzero_ps();                                                           \
        }                                                                                           \
        for (size_t r = 0; r < d; r++) {                                                            \
            float *Sr = S + r * d;                                                                  \
            const __m512 kr = _mm512_set1_ps(k[r]), qr = _mm512_set1_ps(q[r]);                      \
            for (int v = 0; v < NV; v++) {                                                          \
                __m512 s = _mm512_fmadd_ps(lam, _mm512_loadu_ps(Sr + 16 * v), _mm512_mul_ps(kr, vr[v])); \
                _mm512_storeu_ps(Sr + 16 * v, s);                                                   \
                acc[v] = _mm512_fmadd_ps(qr, s, acc[v]);                                            \
            }                                                                                       \
        }                                                                                           \
        for (int v = 0; v < NV; v++) _mm512_storeu_ps(o + 16 * v, acc[v]);                          \
    }

LA_IMPL(1)
LA_IMPL(2)
LA_IMPL(4)
LA_IMPL(8)

bool mmx_la_block_avx512(const float *qkv, size_t ld, size_t m, size_t d, const float *decay, float *S, float *out,
                         size_t ld_out, float *scores) {
    switch (d) {
    case 16: la_block_1(qkv, ld, m, decay, S, out, ld_out, scores); return true;
    case 32: la_block_2(qkv, ld, m, decay, S, out, ld_out, scores); return true;
    case 64: la_block_4(qkv, ld, m, decay, S, out, ld_out, scores); return true;
    case 128: la_block_8(qkv, ld, m, decay, S, out, ld_out, scores); return true;
    default: return false;
    }
}

bool mmx_la_decode_avx512(const float *q, size_t d, float lambda, float *S, float *o) {
    switch (d) {
    case 16: la_decode_1(q, lambda, S, o); return true;
    case 32: la_decode_2(q, lambda, S, o); return true;
    case 64: la_decode_4(q, lambda, S, o); return true;
    case 128: la_decode_8(q, lambda, S, o); return true;
    default: return false;
    }
}
#endif
