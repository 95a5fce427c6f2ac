/*
 * ops.h — the compute operations of the forward pass, each split over the model's worker pool.
 * Every op has a readable scalar reference; faster variants (kernels/) are chosen at run time
 * unless the reference is forced (mmx_model_params.force_reference or env MMX_REFERENCE=1).
 * No op allocates: scratch comes from the caller's mmx_exec.
 */
#ifndef MMX_OPS_H
#define MMX_OPS_H

#include "model.h"

/* Execution context of one forward step: the pool and per-thread scratch. */
typedef struct mmx_exec {
    mmx_pool *pool;
    int n_threads;
    bool reference;        /* force scalar reference kernels */
    float **thread_scratch;/* n_threads buffers of scratch_floats floats each */
    size_t scratch_floats;
    unsigned act_mask;     /* activation precisions enabled (kernels.h PRECISION POLICY, mmx_act_parse) */
} mmx_exec;

/* Y[t, r] = sum_c W[r, c] * X[t, c] for t < T, r < W->rows.  X rows ldx apart, Y rows ldy apart.
 * Needs W->cols floats of thread scratch. */
void mmx_op_matmul(mmx_exec *ex, const mmx_matrix *W, const float *X, size_t T, size_t ldx, float *Y, size_t ldy);
/* Several independent matmuls (mmx_matmul_args, kernels.h): in one pool pass where the fast kernels
 * can (decode), else one after another; same results either way. */
struct mmx_matmul_args;
void mmx_op_matmul_batch(mmx_exec *ex, const struct mmx_matmul_args *args, size_t n);

/* Dequantizes row r of W into out[W->cols] (scalar reference). */
void mmx_matrix_row_f32(const mmx_matrix *W, size_t r, float *out);

/* RMSNorm of T rows of n values (SPEC §3): out = g * x / sqrt(mean(x^2) + eps); in place allowed. */
void mmx_op_rmsnorm(mmx_exec *ex, const float *x, size_t ldx, const float *g, size_t n, size_t T, double eps,
                    float *out, size_t ldo);

/* Elementwise activations over n floats (SPEC §4.1, §4.5, §5.2). */
typedef enum { MMX_UNARY_SILU, MMX_UNARY_SWIGLU, MMX_UNARY_SIGMOID_GATE } mmx_unary;
/* SILU: a = silu(a); SWIGLU: a = silu(a) * b; SIGMOID_GATE: a = a * sigmoid(b). */
void mmx_op_unary(mmx_exec *ex, mmx_unary kind, float *a, const float *b, size_t n);

/* Lightning attention core (SPEC §4.3/§4.4) for T tokens of one layer, all heads.
 * qkv: [T, nH*3d] after SiLU (per-head interleaved q|k|v), rows ld_qkv apart.
 * state: [nH, d, d] fp32, updated in place.  out: [T, nH*d], rows ld_out apart.
 * slopes: [nH] decay rates s_h (lambda = exp(-s_h)).  block: block size B (1 = the recurrence).
 * Needs B*B + 2*(B+1) floats of thread scratch. */
void mmx_op_lightning(mmx_exec *ex, const float *qkv, size_t ld_qkv, size_t T, size_t n_heads, size_t d,
                      const double *slopes, float *state, size_t block, float *out, size_t ld_out);

/* Softmax attention (SPEC §5.1) for T new tokens at positions pos0.. of one layer.  q: [T, nH*d]
 * (post-RoPE), kcache/vcache: [n_ctx, nKV*d] already holding positions 0..pos0+T-1.
 * out: [T, nH*d].  Needs pos0+T floats of thread scratch. */
void mmx_op_attention(mmx_exec *ex, const float *q, size_t ldq, size_t T, size_t pos0, const float *kcache,
                      const float *vcache, size_t n_heads, size_t n_kv_heads, size_t d, float *out, size_t ldo);

/* NeoX partial RoPE (SPEC §5.1) on n_heads heads of x [T, n_heads*d] at positions pos0..: pairs
 * (i, i + r/2) for i < r/2, theta_i = base^(-2i/r). */
void mmx_op_rope(float *x, size_t ldx, size_t T, size_t pos0, size_t n_heads, size_t d, size_t rotary_dim,
                 double base);

#endif
