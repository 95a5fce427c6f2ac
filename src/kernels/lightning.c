/* Lightning attention kernels: scalar references and dispatch (see lightning.h). */
#include "lightning.h"
#include "kernels.h"

void mmx_la_block_ref(const float *qkv, size_t ld, size_t m, size_t d, const float *decay, float *S, float *out,
                      size_t ld_out, float *scores) {
#define Q(i) (qkv + (i) * ld)
#define K(i) (Q(i) + d)
#define V(i) (Q(i) + 2 * d)
    /* intra-block scores: decay[i-j] q_i.k_j for j <= i */
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j <= i; j++) {
            const float *q = Q(i), *k = K(j);
            float acc = 0;
            for (size_t c = 0; c < d; c++) acc += q[c] * k[c];
            scores[i * m + j] = acc * decay[i - j];
        }
    for (size_t i = 0; i < m; i++) {
        float *o = out + i * ld_out;
        const float *q = Q(i);
        /* inter-block: decay[i+1] q_i S with the state of the previous blocks */
        for (size_t c = 0; c < d; c++) o[c] = 0;
        for (size_t r = 0; r < d; r++) {
            const float qr = q[r];
            const float *Sr = S + r * d;
            for (size_t c = 0; c < d; c++) o[c] += qr * Sr[c];
        }
        for (size_t c = 0; c < d; c++) o[c] *= decay[i + 1];
        for (size_t j = 0; j <= i; j++) {
            const float w = scores[i * m + j];
            const float *v = V(j);
            for (size_t c = 0; c < d; c++) o[c] += w * v[c];
        }
    }
    /* S = decay[m] S + sum_j decay[m-1-j] k_j^T v_j */
    for (size_t r = 0; r < d; r++) {
        float *Sr = S + r * d;
        for (size_t c = 0; c < d; c++) Sr[c] *= decay[m];
        for (size_t j = 0; j < m; j++) {
            const float kr = K(j)[r] * decay[m - 1 - j];
            const float *v = V(j);
            for (size_t c = 0; c < d; c++) Sr[c] += kr * v[c];
        }
    }
#undef Q
#undef K
#undef V
}

void mmx_la_decode_ref(const float *q, size_t d, float lambda, float *S, float *o) {
    const float *k = q + d, *v = q + 2 * d;
    for (size_t c = 0; c < d; c++) o[c] = 0;
    for (size_t r = 0; r < d; r++) {
        float *Sr = S + r * d;
        const float kr = k[r], qr = q[r];
        for (size_t c = 0; c < d; c++) {
            Sr[c] = lambda * Sr[c] + kr * v[c];
            o[c] += qr * Sr[c];
        }
    }
}

#if !defined(__x86_64__)
bool mmx_la_block_avx512(const float *qkv, size_t ld, size_t m, size_t d, const float *decay, float *S, float *out,
                         size_t ld_out, float *scores) {
    return false;
}
bool mmx_la_decode_avx512(const float *q, size_t d, float lambda, float *S, float *o) { return false; }
bool mmx_la_block_avx2(const float *qkv, size_t ld, size_t m, size_t d, const float *decay, float *S, float *out,
                       size_t ld_out, float *scores) {
    return false;
}
bool mmx_la_decode_avx2(const float *q, size_t d, float lambda, float *S, float *o) { return false; }
#endif

void mmx_la_block(bool reference, const float *qkv, size_t ld, size_t m, size_t d, const float *decay, float *S,
                  float *out, size_t ld_out, float *scores) {
    if (!reference && mmx_cpu_isa() >= MMX_ISA_AVX512 &&
        mmx_la_block_avx512(qkv, ld, m, d, decay, S, out, ld_out, scores))
        return;
    if (!reference && mmx_cpu_isa() >= MMX_ISA_AVX2 && mmx_la_block_avx2(qkv, ld, m, d, decay, S, out, ld_out, scores))
        return;
    mmx_la_block_ref(qkv, ld, m, d, decay, S, out, ld_out, scores);
}

void mmx_la_decode(bool reference, const float *q, size_t d, float lambda, float *S, float *o) {
    if (!reference && mmx_cpu_isa() >= MMX_ISA_AVX512 && mmx_la_decode_avx512(q, d, lambda, S, o)) return;
    if (!reference && mmx_cpu_isa() >= MMX_ISA_AVX2 && mmx_la_decode_avx2(q, d, lambda, S, o)) return;
    mmx_la_decode_ref(q, d, lambda, S, o);
}
