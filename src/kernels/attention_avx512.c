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
#include "simd_avx512.h"

#define ATT_KC 256  /* keys per chunk */
#define ATT_MAXG 32 /* query rows per call */
#define ATT_MAXD 256
#define ATT_KT 64   /* keys per transposed sub-chunk (ATT_KC a multiple) */

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

/* kt[c][j] = k_(s0 + j)[c] for the n <= ATT_KT keys from s0, zero for j >= n: a key sub-chunk
 * transposed (16 x 16 in registers), so the scores take the keys as vector lanes. */
static void transpose_keys(const float *k, size_t ldkv, size_t s0, size_t n, size_t d, float *kt) {
    for (size_t j0 = 0; j0 < ATT_KT; j0 += 16)
        for (size_t c0 = 0; c0 < d; c0 += 16) {
            __m512 v[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++)
                v[i] = j0 + (size_t)i < n ? _mm512_loadu_ps(k + (s0 + j0 + (size_t)i) * ldkv + c0) : _mm512_setzero_ps();
            tr16(v);
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) _mm512_store_ps(kt + (c0 + (size_t)i) * ATT_KT + j0, v[i]);
        }
}

/* sc[r][j0 + j] = scale * q_r . k_j for R <= 4 rows and the ATT_KT keys of kt: R x 4 accumulator
 * vectors, per column one load of each key vector and one broadcast of each row's q value. */
static inline __attribute__((always_inline)) void scores_rows(size_t R, const float *const *q, const float *kt,
                                                              size_t d, float scale, float (*sc)[ATT_KC], size_t j0) {
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (size_t r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) acc[r][i] = _mm512_setzero_ps();
    for (size_t c = 0; c < d; c++) {
        const float *kc = kt + c * ATT_KT;
        const __m512 k0 = _mm512_load_ps(kc), k1 = _mm512_load_ps(kc + 16), k2 = _mm512_load_ps(kc + 32),
                     k3 = _mm512_load_ps(kc + 48);
#pragma GCC unroll 4
        for (size_t r = 0; r < R; r++) {
            const __m512 qv = _mm512_set1_ps(q[r][c]);
            acc[r][0] = _mm512_fmadd_ps(qv, k0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(qv, k1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(qv, k2, acc[r][2]);
            acc[r][3] = _mm512_fmadd_ps(qv, k3, acc[r][3]);
        }
    }
    const __m512 vs = _mm512_set1_ps(scale);
#pragma GCC unroll 4
    for (size_t r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) _mm512_store_ps(&sc[r][j0 + 16 * (size_t)i], _mm512_mul_ps(acc[r][i], vs));
}

/* scores[r][s - s0] = scale * q_r . k_s for s in [s0, s1); -inf past row r's own key count (causal).
 * Keys in sub-chunks of ATT_KT, each transposed once for all G rows (the dot-product form loaded
 * each key once per row: two loads per FMA, half the FMA rate). */
static void chunk_scores(const float *const *q, const size_t *nk, size_t G, const float *k, size_t ldkv, size_t s0,
                         size_t s1, size_t d, float scale, float sc[][ATT_KC], float *kt) {
    for (size_t j0 = 0; j0 < s1 - s0; j0 += ATT_KT) {
        const size_t n = s1 - s0 - j0 < ATT_KT ? s1 - s0 - j0 : ATT_KT;
        transpose_keys(k, ldkv, s0 + j0, n, d, kt);
        for (size_t r0 = 0; r0 < G; r0 += 4) {
            switch (G - r0 < 4 ? G - r0 : 4) {
            case 1: scores_rows(1, q + r0, kt, d, scale, sc + r0, j0); break;
            case 2: scores_rows(2, q + r0, kt, d, scale, sc + r0, j0); break;
            case 3: scores_rows(3, q + r0, kt, d, scale, sc + r0, j0); break;
            default: scores_rows(4, q + r0, kt, d, scale, sc + r0, j0); break;
            }
        }
    }
    for (size_t r = 0; r < G; r++)
        for (size_t t = nk[r] > s0 ? nk[r] : s0; t < s1; t++) sc[r][t - s0] = -INFINITY;
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
    float kt[ATT_MAXD * ATT_KT] __attribute__((aligned(64)));
    float mx[ATT_MAXG], sum[ATT_MAXG], alpha[ATT_MAXG];
    for (size_t r = 0; r < G; r++) {
        mx[r] = -INFINITY, sum[r] = 0;
        for (size_t c = 0; c < d; c++) out[r][c] = 0;
    }
    for (size_t s0 = 0; s0 < nmax; s0 += ATT_KC) {
        const size_t s1 = nmax - s0 < ATT_KC ? nmax : s0 + ATT_KC, n = s1 - s0;
        chunk_scores(q, n_keys, G, k, ldkv, s0, s1, d, scale, sc, kt);
        for (size_t r = 0; r < G; r++) {
            __m512 vmax = _mm512_set1_ps(mx[r]);
            for (size_t s = 0; s < n; s += 16) {
                const __mmask16 m = n - s >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - s)) - 1);
                vmax = _mm512_mask_max_ps(vmax, m, vmax, _mm512_load_ps(&sc[r][s]));
            }
            const float cm = _mm512_reduce_max_ps(vmax);
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
