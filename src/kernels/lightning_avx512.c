/* AVX-512 lightning attention kernels (see lightning.h), specialised on head_dim = 16*NV so the
 * per-row vectors live in registers. */
#include "lightning.h"
#if defined(__x86_64__)
#include <immintrin.h>

#define LA_IMPL(NV)                                                                                 \
    static void la_block_##NV(const float *qkv, size_t ld, size_t m, const float *decay, float *S,   \
                              float *out, size_t ld_out, float *scores) {                           \
        const size_t d = 16 * NV;                                                                   \
        /* intra-block scores, four keys at a time */                                               \
        for (size_t i = 0; i < m; i++) {                                                            \
            const float *q = qkv + i * ld;                                                          \
            __m512 qv[NV];                                                                          \
            for (int v = 0; v < NV; v++) qv[v] = _mm512_loadu_ps(q + 16 * v);                       \
            size_t j = 0;                                                                           \
            for (; j + 4 <= i + 1; j += 4) {                                                        \
                const float *k0 = qkv + j * ld + d, *k1 = k0 + ld, *k2 = k1 + ld, *k3 = k2 + ld;    \
                __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                         \
                for (int v = 0; v < NV; v++) {                                                      \
                    a0 = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(k0 + 16 * v), a0);                  \
                    a1 = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(k1 + 16 * v), a1);                  \
                    a2 = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(k2 + 16 * v), a2);                  \
                    a3 = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(k3 + 16 * v), a3);                  \
                }                                                                                   \
                scores[i * m + j] = _mm512_reduce_add_ps(a0) * decay[i - j];                        \
                scores[i * m + j + 1] = _mm512_reduce_add_ps(a1) * decay[i - j - 1];                \
                scores[i * m + j + 2] = _mm512_reduce_add_ps(a2) * decay[i - j - 2];                \
                scores[i * m + j + 3] = _mm512_reduce_add_ps(a3) * decay[i - j - 3];                \
            }                                                                                       \
            for (; j <= i; j++) {                                                                   \
                const float *k = qkv + j * ld + d;                                                  \
                __m512 a = _mm512_setzero_ps();                                                     \
                for (int v = 0; v < NV; v++) a = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(k + 16 * v), a); \
                scores[i * m + j] = _mm512_reduce_add_ps(a) * decay[i - j];                         \
            }                                                                                       \
        }                                                                                           \
        /* outputs: decay[i+1] q_i S + sum_j scores[i][j] v_j */                                    \
        for (size_t i = 0; i < m; i++) {                                                            \
            const float *q = qkv + i * ld;                                                          \
            __m512 acc[NV];                                                                         \
            for (int v = 0; v < NV; v++) acc[v] = _mm512_setzero_ps();                              \
            for (size_t r = 0; r < d; r++) {                                                        \
                const __m512 qr = _mm512_set1_ps(q[r]);                                             \
                const float *Sr = S + r * d;                                                        \
                for (int v = 0; v < NV; v++) acc[v] = _mm512_fmadd_ps(qr, _mm512_loadu_ps(Sr + 16 * v), acc[v]); \
            }                                                                                       \
            const __m512 qd = _mm512_set1_ps(decay[i + 1]);                                         \
            for (int v = 0; v < NV; v++) acc[v] = _mm512_mul_ps(acc[v], qd);                        \
            for (size_t j = 0; j <= i; j++) {                                                       \
                const __m512 w = _mm512_set1_ps(scores[i * m + j]);                                 \
                const float *vv = qkv + j * ld + 2 * d;                                             \
                for (int v = 0; v < NV; v++) acc[v] = _mm512_fmadd_ps(w, _mm512_loadu_ps(vv + 16 * v), acc[v]); \
            }                                                                                       \
            float *o = out + i * ld_out;                                                            \
            for (int v = 0; v < NV; v++) _mm512_storeu_ps(o + 16 * v, acc[v]);                      \
        }                                                                                           \
        /* state: one row of S in registers across the whole block */                              \
        const __m512 bd = _mm512_set1_ps(decay[m]);                                                 \
        for (size_t r = 0; r < d; r++) {                                                            \
            float *Sr = S + r * d;                                                                  \
            __m512 s[NV];                                                                           \
            for (int v = 0; v < NV; v++) s[v] = _mm512_mul_ps(_mm512_loadu_ps(Sr + 16 * v), bd);    \
            for (size_t j = 0; j < m; j++) {                                                        \
                const __m512 kr = _mm512_set1_ps(qkv[j * ld + d + r] * decay[m - 1 - j]);           \
                const float *vv = qkv + j * ld + 2 * d;                                             \
                for (int v = 0; v < NV; v++) s[v] = _mm512_fmadd_ps(kr, _mm512_loadu_ps(vv + 16 * v), s[v]); \
            }                                                                                       \
            for (int v = 0; v < NV; v++) _mm512_storeu_ps(Sr + 16 * v, s[v]);                       \
        }                                                                                           \
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
