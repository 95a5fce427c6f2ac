/* Dot products and row dequantisation: scalar references and dispatch. */
#include "kernels.h"
#include "../quant.h"
#include "../util.h"

float mmx_dot_ref(const float *a, const float *b, size_t n) {
    float acc = 0;
    for (size_t i = 0; i < n; i++) acc += a[i] * b[i];
    return acc;
}

#if !defined(__x86_64__)
float mmx_dot_avx2(const float *a, const float *b, size_t n) { return mmx_dot_ref(a, b, n); }
float mmx_dot_avx512(const float *a, const float *b, size_t n) { return mmx_dot_ref(a, b, n); }
#endif

mmx_dot_fn mmx_kernel_dot(bool reference) {
    if (reference) return mmx_dot_ref;
    switch (mmx_cpu_isa()) {
    case MMX_ISA_AVX512: return mmx_dot_avx512;
    case MMX_ISA_AVX2: return mmx_dot_avx2;
    default: return mmx_dot_ref;
    }
}

void mmx_dequant_row(mmx_type type, const void *src, float *dst, size_t n) { mmx_dequantize_row(type, src, dst, n); }

size_t mmx_kernel_scratch_floats(size_t max_cols, size_t n_batch) {
    (void)n_batch;
    return max_cols;
}

bool mmx_kernel_matmul(struct mmx_exec *ex, const struct mmx_matrix *W, const float *X, size_t T, size_t ldx,
                       float *Y, size_t ldy) {
    (void)ex; (void)W; (void)X; (void)T; (void)ldx; (void)Y; (void)ldy;
    return false;
}
