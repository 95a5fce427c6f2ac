/*
 * attention_avx2.c — the AVX2+FMA form of attention_avx512.c (softmax attention, SPEC §5.1, for up to
 * 32 query rows sharing one KV head; keys in chunks with an online softmax), for head_dim a multiple
 * of 8.  With 16 ymm registers the score tiles are 2 rows x 32 keys and the value tiles 4 rows x 16
 * columns.  The reference is the per-head loop in ops.c.
 */
#include "kernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include "simd_avx2.h"

#define ATT_KC 256  /* keys per chunk */
#define ATT_MAXG 32 /* query rows per call */
#define ATT_MAXD 256
#define ATT_KT 32   /* keys per transposed sub-chunk (ATT_KC a multiple) */

/* kt[c][j] = k_(s0 + j)[c] for the n <= ATT_KT keys from s0, zero for j >= n (8 x 8 in registers) */
static void transpose_keys(const float *k, size_t ldkv, size_t s0, size_t n, size_t d, float *kt) {
    for (size_t j0 = 0; j0 < ATT_KT; j0 += 8)
        for (size_t c0 = 0; c0 < d; c0 += 8) {
            __m256 v[8];
            for (size_t i = 0; i < 8; i++)
                v[i] = j0 + i < n ? _mm256_loadu_ps(k + (s0 + j0 + i) * ldkv + c0) : _mm256_setzero_ps();
            tr8(v);
            for (size_t i = 0; i < 8; i++) _mm256_store_ps(kt + (c0 + i) * ATT_KT + j0, v[i]);
        }
}

/* sc[r][j0 + j] = scale * q_r . k_j for R <= 2 rows and the ATT_KT keys of kt */
static inline __attribute__((always_inline)) void scores_rows(size_t R, const float *const *q, const float *kt,
                                                              size_t d, float scale, float (*sc)[ATT_KC], size_t j0) {
    __m256 acc[2][4];
    for (size_t r = 0; r < R; r++)
        for (int i = 0; i < 4; i++) acc[r][i] = _mm256_setzero_ps();
    for (size_t c = 0; c < d; c++) {
        const float *kc = kt + c * ATT_KT;
        const __m256 k0 = _mm256_load_ps(kc), k1 = _mm256_load_ps(kc + 8), k2 = _mm256_load_ps(kc + 16),
                     k3 = _mm256_load_ps(kc + 24);
        for (size_t r = 0; r < R; r++) {
            const __m256 qv = _mm256_broadcast_ss(&q[r][c]);
            acc[r][0] = _mm256_fmadd_ps(qv, k0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(qv, k1, acc[r][1]);
            acc[r][2] = _mm256_fmadd_ps(qv, k2, acc[r][2]);
            acc[r][3] = _mm256_fmadd_ps(qv, k3, acc[r][3]);
        }
    }
    const __m256 vs = _mm256_set1_ps(scale);
    for (size_t r = 0; r < R; r++)
        for (int i = 0; i < 4; i++) _mm256_store_ps(&sc[r][j0 + 8 * (size_t)i], _mm256_mul_ps(acc[r][i], vs));
}

/* scores[r][s - s0] = scale * q_r . k_s for s in [s0, s1); -inf past row r's own key count (causal). */
static void chunk_scores(const float *const *q, const size_t *nk, size_t G, const float *k, size_t ldkv, size_t s0,
                         size_t s1, size_t d, float scale, float sc[][ATT_KC], float *kt) {
    for (size_t j0 = 0; j0 < s1 - s0; j0 += ATT_KT) {
        const size_t n = s1 - s0 - j0 < ATT_KT ? s1 - s0 - j0 : ATT_KT;
        transpose_keys(k, ldkv, s0 + j0, n, d, kt);
        for (size_t r0 = 0; r0 < G; r0 += 2) {
            if (G - r0 >= 2) scores_rows(2, q + r0, kt, d, scale, sc + r0, j0);
            else scores_rows(1, q + r0, kt, d, scale, sc + r0, j0);
        }
    }
    for (size_t r = 0; r < G; r++)
        for (size_t t = nk[r] > s0 ? nk[r] : s0; t < s1; t++) sc[r][t - s0] = -INFINITY;
}

/* out rows (R <= 4) for one column slice c0 of 8 or 16 (two = 16): out = alpha * out + sum_s p[r][s] v_s */
static inline __attribute__((always_inline)) void chunk_pv(size_t R, const float p[][ATT_KC], const float *alpha, const float *v,
                                                           size_t ldkv, size_t n, size_t c0, bool two, float *const *out) {
    __m256 a0[4], a1[4];
    for (size_t r = 0; r < R; r++) {
        const __m256 al = _mm256_set1_ps(alpha[r]);
        a0[r] = _mm256_mul_ps(_mm256_loadu_ps(out[r] + c0), al);
        a1[r] = two ? _mm256_mul_ps(_mm256_loadu_ps(out[r] + c0 + 8), al) : _mm256_setzero_ps();
    }
    for (size_t s = 0; s < n; s++) {
        const float *vr = v + s * ldkv + c0;
        const __m256 v0 = _mm256_loadu_ps(vr), v1 = two ? _mm256_loadu_ps(vr + 8) : _mm256_setzero_ps();
        for (size_t r = 0; r < R; r++) {
            const __m256 pr = _mm256_broadcast_ss(&p[r][s]);
            a0[r] = _mm256_fmadd_ps(pr, v0, a0[r]);
            a1[r] = _mm256_fmadd_ps(pr, v1, a1[r]);
        }
    }
    for (size_t r = 0; r < R; r++) {
        _mm256_storeu_ps(out[r] + c0, a0[r]);
        if (two) _mm256_storeu_ps(out[r] + c0 + 8, a1[r]);
    }
}

bool mmx_attn_rows_avx2(const float *const *q, float *const *out, const size_t *n_keys, size_t G, const float *k,
                        const float *v, size_t ldkv, size_t d, float scale) {
    if (G < 1 || G > ATT_MAXG || d % 8 || d == 0 || d > ATT_MAXD) return false;
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
        const size_t s1 = nmax - s0 < ATT_KC ? nmax : s0 + ATT_KC, n = s1 - s0, n8 = n / 8 * 8;
        chunk_scores(q, n_keys, G, k, ldkv, s0, s1, d, scale, sc, kt);
        for (size_t r = 0; r < G; r++) {
            __m256 vmax = _mm256_set1_ps(mx[r]);
            for (size_t s = 0; s < n8; s += 8) vmax = _mm256_max_ps(vmax, _mm256_load_ps(&sc[r][s]));
            float cm = hmax8(vmax);
            for (size_t s = n8; s < n; s++) cm = sc[r][s] > cm ? sc[r][s] : cm;
            /* every row has key 0, so after the first chunk its max is finite */
            alpha[r] = mx[r] == -INFINITY ? 0.0f : expf(mx[r] - cm);
            mx[r] = cm;
            const __m256 vm = _mm256_set1_ps(cm);
            __m256 acc = _mm256_setzero_ps();
            for (size_t s = 0; s < n8; s += 8) {
                const __m256 e = exp256(_mm256_sub_ps(_mm256_load_ps(&sc[r][s]), vm));
                _mm256_store_ps(&sc[r][s], e);
                acc = _mm256_add_ps(acc, e);
            }
            float tail = 0;
            for (size_t s = n8; s < n; s++) {
                sc[r][s] = expf(sc[r][s] - cm);
                tail += sc[r][s];
            }
            sum[r] = sum[r] * alpha[r] + (hsum8(acc) + tail);
        }
        for (size_t r0 = 0; r0 < G; r0 += 4) {
            const size_t R = G - r0 < 4 ? G - r0 : 4;
            for (size_t c0 = 0; c0 < d; c0 += 16) {
                const bool two = c0 + 8 < d;
                switch (R) {
                case 1: chunk_pv(1, sc + r0, alpha + r0, v, ldkv, n, c0, two, out + r0); break;
                case 2: chunk_pv(2, sc + r0, alpha + r0, v, ldkv, n, c0, two, out + r0); break;
                case 3: chunk_pv(3, sc + r0, alpha + r0, v, ldkv, n, c0, two, out + r0); break;
                default: chunk_pv(4, sc + r0, alpha + r0, v, ldkv, n, c0, two, out + r0); break;
                }
            }
        }
        v += n * ldkv;
    }
    for (size_t r = 0; r < G; r++) {
        const __m256 inv = _mm256_set1_ps((float)(1.0 / (double)sum[r]));
        for (size_t c = 0; c < d; c += 8) _mm256_storeu_ps(out[r] + c, _mm256_mul_ps(_mm256_loadu_ps(out[r] + c), inv));
    }
    return true;
}
#endif
