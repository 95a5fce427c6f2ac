/* Dot products and row dequantisation: scalar references and dispatch. */
#include "kernels.h"

#include <math.h>
#include "../quant.h"
#include "../util.h"

float mmx_dot_ref(const float *a, const float *b, size_t n) {
    float acc = 0;
    for (size_t i = 0; i < n; i++) acc += a[i] * b[i];
    return acc;
}

void mmx_axpy_ref(float a, const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

mmx_axpy_fn mmx_kernel_axpy(bool reference) {
    if (reference) return mmx_axpy_ref;
    return mmx_cpu_isa() >= MMX_ISA_AVX512 ? mmx_axpy_avx512 : mmx_cpu_isa() >= MMX_ISA_AVX2 ? mmx_axpy_avx2 : mmx_axpy_ref;
}

void mmx_gate_ref(mmx_gate kind, float *a, const float *b, size_t n) {
    switch (kind) {
    case MMX_GATE_SILU:
        for (size_t i = 0; i < n; i++) a[i] = a[i] / (1.0f + expf(-a[i]));
        break;
    case MMX_GATE_SWIGLU:
        for (size_t i = 0; i < n; i++) a[i] = a[i] / (1.0f + expf(-a[i])) * b[i];
        break;
    case MMX_GATE_SIGMOID:
        for (size_t i = 0; i < n; i++) a[i] *= 1.0f / (1.0f + expf(-b[i]));
        break;
    }
}

mmx_gate_fn mmx_kernel_gate(bool reference) {
    if (reference) return mmx_gate_ref;
    return mmx_cpu_isa() >= MMX_ISA_AVX512 ? mmx_gate_avx512 : mmx_cpu_isa() >= MMX_ISA_AVX2 ? mmx_gate_avx2 : mmx_gate_ref;
}

void mmx_rmsnorm_ref(const float *x, const float *g, size_t n, double eps, float *out) {
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    const float scale = (float)(1.0 / sqrt(ss / (double)n + eps));
    for (size_t i = 0; i < n; i++) out[i] = g[i] * (x[i] * scale);
}

mmx_rmsnorm_fn mmx_kernel_rmsnorm(bool reference) {
    if (reference) return mmx_rmsnorm_ref;
    return mmx_cpu_isa() >= MMX_ISA_AVX512 ? mmx_rmsnorm_avx512 : mmx_cpu_isa() >= MMX_ISA_AVX2 ? mmx_rmsnorm_avx2 : mmx_rmsnorm_ref;
}

uint64_t mmx_stream_sum_ref(const void *p, size_t n) {
    const uint64_t *w = p;
    uint64_t a[8] = {0};
    for (size_t i = 0; i + 8 <= n / 8; i += 8)
        for (int k = 0; k < 8; k++) a[k] += w[i + (size_t)k];
    return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

mmx_stream_sum_fn mmx_kernel_stream_sum(bool reference) {
    if (reference) return mmx_stream_sum_ref;
    return mmx_cpu_isa() >= MMX_ISA_AVX512  ? mmx_stream_sum_avx512
           : mmx_cpu_isa() >= MMX_ISA_AVX2 ? mmx_stream_sum_avx2
                                           : mmx_stream_sum_ref;
}

#if !defined(__x86_64__)
uint64_t mmx_stream_sum_avx512(const void *p, size_t n) { return mmx_stream_sum_ref(p, n); }
bool mmx_attn_rows_avx512(const float *const *q, float *const *out, const size_t *n_keys, size_t G, const float *k,
                          const float *v, size_t ldkv, size_t d, float scale) {
    return false;
}
bool mmx_attn_rows_avx2(const float *const *q, float *const *out, const size_t *n_keys, size_t G, const float *k,
                        const float *v, size_t ldkv, size_t d, float scale) {
    return false;
}
void mmx_gate_avx512(mmx_gate kind, float *a, const float *b, size_t n) { mmx_gate_ref(kind, a, b, n); }
void mmx_rmsnorm_avx512(const float *x, const float *g, size_t n, double eps, float *out) { mmx_rmsnorm_ref(x, g, n, eps, out); }
void mmx_axpy_avx512(float a, const float *x, float *y, size_t n) { mmx_axpy_ref(a, x, y, n); }
float mmx_dot_avx2(const float *a, const float *b, size_t n) { return mmx_dot_ref(a, b, n); }
void mmx_axpy_avx2(float a, const float *x, float *y, size_t n) { mmx_axpy_ref(a, x, y, n); }
void mmx_rmsnorm_avx2(const float *x, const float *g, size_t n, double eps, float *out) { mmx_rmsnorm_ref(x, g, n, eps, out); }
void mmx_gate_avx2(mmx_gate kind, float *a, const float *b, size_t n) { mmx_gate_ref(kind, a, b, n); }
uint64_t mmx_stream_sum_avx2(const void *p, size_t n) { return mmx_stream_sum_ref(p, n); }
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

