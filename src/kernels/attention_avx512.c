/*
 * attention_avx512.c — softmax attention (SPEC §5.1) for up to 32 query rows that share one KV head
 * (the heads of a GQA group at a few consecutive positions): every K and V row is loaded once for all
 * of them, each row masked causally at its own key count, keys in chunks with an
 * online softmax (running max and sum per row, the output rescaled when the max grows), so no score
 * buffer proportional to the context is needed.  The reference is the per-head loop in ops.c.
 */
#include "kernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#define ATT_KC 256  /* keys per chunk */
#define ATT_MAXG 32 /* query rows per call */
#define ATT_MAXD 256

/* e^x for x <= 0 (scores minus their max): see exp512 in dot_avx512.c. */
static inline __m512 exp_le0(__m512 x) {
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x);
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

/* 16 vectors of partial sums -> one vector whose lane i is the full sum of v[i] (transpose-add tree:
 * 45 operations instead of 16 horizontal reductions). */
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

/* scores[r][s - s0] = scale * q_r . k_s for s in [s0, s1); -inf past row r's own key count (causal) */
static inline __attribute__((always_inline)) void chunk_scores_nv(const float *const *q, const size_t *nk, size_t G,
                                                                  const float *k, size_t ldkv, size_t s0, size_t s1,
                                                                  const size_t nv, float scale, float sc[][ATT_KC]) {
    const __m512 vscale = _mm512_set1_ps(scale);
    size_t s = s0;
    for (; s + 16 <= s1; s += 16) {
        for (size_t r = 0; r < G; r++) {
            const float *qr = q[r];
            __m512 acc[16];
#pragma GCC unroll 16
            for (int kk = 0; kk < 16; kk++) {
                const float *kr = k + (s + (size_t)kk) * ldkv;
                __m512 a = _mm512_mul_ps(_mm512_loadu_ps(qr), _mm512_loadu_ps(kr));
#pragma GCC unroll 16
                for (size_t i = 1; i < nv; i++) a = _mm512_fmadd_ps(_mm512_loadu_ps(qr + 16 * i), _mm512_loadu_ps(kr + 16 * i), a);
                acc[kk] = a;
            }
            _mm512_storeu_ps(&sc[r][s - s0], _mm512_mul_ps(sum16(acc), vscale));
        }
    }
    for (; s < s1; s++)
        for (size_t r = 0; r < G; r++) {
            const float *qr = q[r], *kr = k + s * ldkv;
            __m512 a = _mm512_setzero_ps();
            for (size_t i = 0; i < nv; i++) a = _mm512_fmadd_ps(_mm512_loadu_ps(qr + 16 * i), _mm512_loadu_ps(kr + 16 * i), a);
            sc[r][s - s0] = _mm512_reduce_add_ps(a) * scale;
        }
    for (size_t r = 0; r < G; r++)
        for (size_t t = nk[r] > s0 ? nk[r] : s0; t < s1; t++) sc[r][t - s0] = -INFINITY;
}

/* head_dim 64 and 128 get the key loop fully unrolled (accumulators in registers) */
static void chunk_scores(const float *const *q, const size_t *nk, size_t G, const float *k, size_t ldkv, size_t s0,
                         size_t s1, size_t d, float scale, float sc[][ATT_KC]) {
    switch (d) {
    case 128: chunk_scores_nv(q, nk, G, k, ldkv, s0, s1, 8, scale, sc); break;
    case 64: chunk_scores_nv(q, nk, G, k, ldkv, s0, s1, 4, scale, sc); break;
    default: chunk_scores_nv(q, nk, G, k, ldkv, s0, s1, d / 16, scale, sc); break;
    }
}

/* out rows (R <= 4) for one 64-column slice c0: out = alpha * out + sum_s p[r][s] v_s */
static inline __attribute__((always_inline)) void chunk_pv(size_t R, const float p[][ATT_KC], const float *alpha, const float *v,
                                                           size_t ldkv, size_t n, size_t c0, size_t w, float *const *out) {
    __m512 acc[4][4];
    const __mmask16 m0 = w > 0 ? 0xFFFF : 0, m1 = w > 16 ? 0xFFFF : 0, m2 = w > 32 ? 0xFFFF : 0, m3 = w > 48 ? 0xFFFF : 0;
    const __mmask16 mk[4] = {m0, m1, m2, m3};
#pragma GCC unroll 4
    for (size_t r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++)
            acc[r][i] = _mm512_mul_ps(_mm512_maskz_loadu_ps(mk[i], out[r] + c0 + 16 * (size_t)i), _mm512_set1_ps(alpha[r]));
    for (size_t s = 0; s < n; s++) {
        const float *vr = v + s * ldkv + c0;
        __m512 vv[4];
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) vv[i] = _mm512_maskz_loadu_ps(mk[i], vr + 16 * i);
#pragma GCC unroll 4
        for (size_t r = 0; r < R; r++) {
            const __m512 pr = _mm512_set1_ps(p[r][s]);
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++) acc[r][i] = _mm512_fmadd_ps(pr, vv[i], acc[r][i]);
        }
    }
#pragma GCC unroll 4
    for (size_t r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) _mm512_mask_storeu_ps(out[r] + c0 + 16 * (size_t)i, mk[i], acc[r][i]);
}

bool mmx_attn_rows_avx512(const float *const *q, float *const *out, const size_t *n_keys, size_t G, const float *k,
                          const float *v, size_t ldkv, size_t d, float scale) {
    if (G < 1 || G > ATT_MAXG || d % 16 || d > ATT_MAXD) return false;
    size_t nmax = 0;
    for (size_t r = 0; r < G; r++) {
        if (n_keys[r] == 0) return false;
        nmax = n_keys[r] > nmax ? n_keys[r] : nmax;
    }
    float sc[ATT_MAXG][ATT_KC] __attribute__((aligned(64)));
    float mx[ATT_MAXG], sum[ATT_MAXG], alpha[ATT_MAXG];
    for (size_t r = 0; r < G; r++) {
        mx[r] = -INFINITY, sum[r] = 0;
        for (size_t c = 0; c < d; c++) out[r][c] = 0;
    }
    for (size_t s0 = 0; s0 < nmax; s0 += ATT_KC) {
        const size_t s1 = nmax - s0 < ATT_KC ? nmax : s0 + ATT_KC, n = s1 - s0;
        chunk_scores(q, n_keys, G, k, ldkv, s0, s1, d, scale, sc);
        for (size_t r = 0; r < G; r++) {
            float cm = mx[r];
            for (size_t s = 0; s < n; s++) cm = sc[r][s] > cm ? sc[r][s] : cm;
            /* every row has key 0, so after the first chunk its max is finite */
            alpha[r] = mx[r] == -INFINITY ? 0.0f : expf(mx[r] - cm);
            mx[r] = cm;
            const __m512 vm = _mm512_set1_ps(cm);
            __m512 acc = _mm512_setzero_ps();
            for (size_t s = 0; s < n; s += 16) {
                const __mmask16 m = n - s >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - s)) - 1);
                const __m512 e = _mm512_maskz_mov_ps(m, exp_le0(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, &sc[r][s]), vm)));
                _mm512_mask_storeu_ps(&sc[r][s], m, e);
                acc = _mm512_add_ps(acc, e);
            }
            sum[r] = sum[r] * alpha[r] + _mm512_reduce_add_ps(acc);
        }
        for (size_t r0 = 0; r0 < G; r0 += 4) {
            const size_t R = G - r0 < 4 ? G - r0 : 4;
            for (size_t c0 = 0; c0 < d; c0 += 64) {
                const size_t w = d - c0 < 64 ? d - c0 : 64;
                switch (R) {
                case 1: chunk_pv(1, sc + r0, alpha + r0, v, ldkv, n, c0, w, out + r0); break;
                case 2: chunk_pv(2, sc + r0, alpha + r0, v, ldkv, n, c0, w, out + r0); break;
                case 3: chunk_pv(3, sc + r0, alpha + r0, v, ldkv, n, c0, w, out + r0); break;
                default: chunk_pv(4, sc + r0, alpha + r0, v, ldkv, n, c0, w, out + r0); break;
                }
            }
        }
        v += n * ldkv;
    }
    for (size_t r = 0; r < G; r++) {
        const __m512 inv = _mm512_set1_ps((float)(1.0 / (double)sum[r]));
        for (size_t c = 0; c < d; c += 16) _mm512_storeu_ps(out[r] + c, _mm512_mul_ps(_mm512_loadu_ps(out[r] + c), inv));
    }
    return true;
}
#endif
