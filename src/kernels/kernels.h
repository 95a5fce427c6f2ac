/*
 * kernels.h — inner loops with a scalar reference and per-ISA variants (kernels/NAME_avx2.c,
 * NAME_avx512.c, compiled with their own -m flags), chosen once at run time from the CPU features.
 * MMX_REFERENCE=1 in the environment (or mmx_model_params.force_reference) forces the references.
 */
#ifndef MMX_KERNELS_H
#define MMX_KERNELS_H

#include "mmx.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mmx_exec;
struct mmx_matrix;

typedef enum mmx_isa { MMX_ISA_SCALAR = 0, MMX_ISA_AVX2 = 1, MMX_ISA_AVX512 = 2 } mmx_isa;

/* Best ISA this CPU and build support (cached), lowered by env MMX_ISA=scalar|avx2|avx512. */
mmx_isa mmx_cpu_isa(void);
const char *mmx_isa_name(mmx_isa isa);
/* CPU feature string for diagnostics ("avx2 fma f16c avx512f avx512bf16 ..."). */
const char *mmx_cpu_features(void);
/* true when env MMX_REFERENCE is set to a non-empty value other than "0". */
bool mmx_env_force_reference(void);

/* float dot product of n elements */
typedef float (*mmx_dot_fn)(const float *a, const float *b, size_t n);
float mmx_dot_ref(const float *a, const float *b, size_t n);
float mmx_dot_avx2(const float *a, const float *b, size_t n);
float mmx_dot_avx512(const float *a, const float *b, size_t n);
mmx_dot_fn mmx_kernel_dot(bool reference);

/* y[i] += a * x[i] */
typedef void (*mmx_axpy_fn)(float a, const float *x, float *y, size_t n);
void mmx_axpy_ref(float a, const float *x, float *y, size_t n);
void mmx_axpy_avx2(float a, const float *x, float *y, size_t n);
void mmx_axpy_avx512(float a, const float *x, float *y, size_t n);
mmx_axpy_fn mmx_kernel_axpy(bool reference);

/* Gated activations over n values (SPEC §4.2 SiLU, §5 SwiGLU, §4.3 output gate), in place in a:
 *   MMX_GATE_SILU:    a = a * sigmoid(a)            (b unused)
 *   MMX_GATE_SWIGLU:  a = a * sigmoid(a) * b
 *   MMX_GATE_SIGMOID: a = a * sigmoid(b)
 * The reference uses libm expf; the AVX-512 variant a vector exp (range reduction by ln 2 in two
 * parts, degree-6 polynomial, scalef), within a few ulp of expf (tests/test_kernels.c bounds it); the
 * AVX2 variant the same polynomial with 2^n built in the exponent field. */
typedef enum mmx_gate { MMX_GATE_SILU, MMX_GATE_SWIGLU, MMX_GATE_SIGMOID } mmx_gate;
typedef void (*mmx_gate_fn)(mmx_gate kind, float *a, const float *b, size_t n);
void mmx_gate_ref(mmx_gate kind, float *a, const float *b, size_t n);
void mmx_gate_avx2(mmx_gate kind, float *a, const float *b, size_t n);
void mmx_gate_avx512(mmx_gate kind, float *a, const float *b, size_t n);
mmx_gate_fn mmx_kernel_gate(bool reference);

/* RMSNorm of one row (SPEC §3): out[i] = g[i] * (x[i] * s), s = 1 / sqrt(sum x^2 / n + eps), the sum
 * of squares in double.  The reference adds the squares in order; the AVX-512 variant in eight double
 * lanes x four chains (its ~1.5 us scalar chain per 1024-wide row was 2.5% of a BF16 prefill), which
 * only changes the double sum's rounding, far below the float result's (tests/test_kernels.c). */
typedef void (*mmx_rmsnorm_fn)(const float *x, const float *g, size_t n, double eps, float *out);
void mmx_rmsnorm_ref(const float *x, const float *g, size_t n, double eps, float *out);
void mmx_rmsnorm_avx2(const float *x, const float *g, size_t n, double eps, float *out);
void mmx_rmsnorm_avx512(const float *x, const float *g, size_t n, double eps, float *out);
mmx_rmsnorm_fn mmx_kernel_rmsnorm(bool reference);

/* Softmax attention (SPEC §5.1) of G query rows that share one KV head (the heads of a GQA group at
 * a few consecutive positions):
 *   out[r] = softmax(scale * q[r] K^T) V over keys 0..n_keys[r]-1 (each row its own causal limit),
 * key s = k + s*ldkv, value s = v + s*ldkv.  AVX-512 and AVX2 (keys in chunks with an online softmax);
 * returns false, doing nothing, unless 1 <= G <= 32, d is a multiple of 16 up to 256 and every
 * n_keys[r] >= 1.  The reference is the per-head loop in ops.c. */
bool mmx_attn_rows_avx512(const float *const *q, float *const *out, const size_t *n_keys, size_t G, const float *k,
                          const float *v, size_t ldkv, size_t d, float scale);
/* The same for AVX2 (d a multiple of 8 up to 256; false otherwise). */
bool mmx_attn_rows_avx2(const float *const *q, float *const *out, const size_t *n_keys, size_t G, const float *k,
                        const float *v, size_t ldkv, size_t d, float scale);

/* Sum of the 64-bit words of n bytes (p 64-byte aligned, n a multiple of 64): a pure streaming read,
 * what `mmx bench` measures the machine's read bandwidth with (the value only defeats dead-code
 * elimination).  The AVX-512 variant keeps four 512-bit loads in flight per step. */
typedef uint64_t (*mmx_stream_sum_fn)(const void *p, size_t n);
uint64_t mmx_stream_sum_ref(const void *p, size_t n);
uint64_t mmx_stream_sum_avx2(const void *p, size_t n);
uint64_t mmx_stream_sum_avx512(const void *p, size_t n);
mmx_stream_sum_fn mmx_kernel_stream_sum(bool reference);

/* Dequantize one row of n elements of `type` to fp32 (reference; exact for float types). */
void mmx_dequant_row(mmx_type type, const void *src, float *dst, size_t n);

/*
 * Matrix multiply Y[t, r] = sum_c W[r, c] X[t, c] (the fast path behind mmx_op_matmul).
 *
 * PRECISION POLICY.  The weights are never altered: every path uses the exact values of the stored
 * format (bf16/f16 widened exactly, quantized blocks as scale * level with the level an exact
 * integer).  What differs is the precision the ACTIVATIONS X enter the products with:
 *
 *   MMX_ACT_F32  (default for F32/F16 weights, BF16 decode and the first layer's MoE gate/up products; every product
 *                with MMX_ACT=f32): X stays fp32; products and sums in fp32
 *                (FMA).  Only the summation order differs from the scalar reference, so the result is
 *                exact to fp32 accumulation; this is the path the golden tests (logits within 1e-4 of
 *                float64) run.  Weights are expanded to fp32 (prefill: once per panel slice, reused
 *                over all tokens; decode: in registers, straight from the stored bytes).
 *   MMX_ACT_BF16 (default for BF16 weights in prefill, AVX-512 BF16): X rounded to bf16 (round to nearest even, 8-bit
 *                mantissa, relative error <= 2^-9 per value), pairs multiplied exactly and summed in
 *                fp32 by vdpbf16ps.  Decode (T <= 4) keeps fp32 activations (it is bound by memory,
 *                not by arithmetic, so rounding would buy nothing).
 *   MMX_ACT_Q8   (default for Q8_0, Q4_0, Q4_K, Q5_K, Q6_K weights, AVX-512 VNNI): X quantized per token per weight
 *                block (32 values; 16 for Q6_K, whose sub-scales are per 16) to int8 with a float scale
 *                amax/127 (round to nearest), integer dot products with the weight levels by vpdpbusd
 *                (exact in int32), then scaled by (weight scale x activation scale) in fp32.  For the
 *                K-quants' minimum term (-dmin*m * sum x) the block sum is of the quantized values,
 *                so the minimum and level terms see the same rounded X.  Both prefill and decode.
 *
 * Without AVX-512 (AVX2 + FMA): no bf16 dot instruction, so BF16 weights take fp32 activations in
 * prefill too; MMX_ACT_Q8 is the same rounding of X, with the integer dots by vpmaddubsw (unsigned
 * weight level x signed activation level, pairs in int16) and vpmaddwd (exact: matmul_avx2.c bounds
 * every sum below 2^15), in prefill for every block type and in decode for all but Q4_0.  A
 * precision a CPU has no kernel for falls back to fp32 activations, never to the scalar reference.
 *
 * The reduced paths are what llama.cpp does on CPU (bf16 dots for BF16, q8_0/q8_K activations for the
 * quantized types).  Choice, per model: mmx_model_params.activations, or env MMX_ACT when that is NULL
 * (read at load, kept in mmx_exec.act_mask), a comma list of "q8", "bf16", "fast" (both), "bf16-all"
 * (opt-in: bf16 also for the products kept in fp32 below) or "f32" (neither); unset or "default"
 * means "q8,bf16".  So quantized weights, already lossy, take int8
 * activations (3x the prefill throughput), and BF16 weights take bf16 activations in prefill EXCEPT
 * the FIRST layer's MoE gate/up products (mmx_matrix.keep_f32_act, set in minimax01_weights.c for
 * layers < MMX_F32_GATE_UP_LAYERS): rounding their input, the normed hidden state, is what makes bf16
 * activations lossy, and an error made in the first layer is carried through all the others -- on
 * the tiny golden BF16 file (4 layers) bf16 gate/up inputs everywhere give a mean KL of 0.256, above
 * llama.cpp's 0.225 (which rounds every product); layer 0's kept in fp32 0.133; all kept 0.046.
 * Each default is held to "mean KL from the exact model no higher than llama.cpp's on the same file"
 * (tests/test_golden.c; docs/bench.md).  F16/F32 weights keep fp32.  A weight type not covered by the chosen
 * precision uses fp32 activations; the reference kernels (MMX_REFERENCE=1, --reference) always do.
 * Per-matmul quality: tests/test_kernels.c (NMSE bounds per variant).
 */
typedef enum mmx_act { MMX_ACT_F32 = 0, MMX_ACT_BF16 = 1, MMX_ACT_Q8 = 2 } mmx_act;
/* Mask bit of the opt-in "bf16-all": bf16 activations for the keep_f32_act products too (every BF16
 * product in prefill, as llama.cpp does).  Not a default: it does not hold the KL rule on the tiny
 * golden BF16 file (0.256 vs llama.cpp's 0.225); on the benchmark model it ties the default (docs/bench.md). */
#define MMX_ACT_BF16_ALL (1u << 8)

/* Bit mask (1 << MMX_ACT_*) from an MMX_ACT string ("bf16,q8", "fast", "f32"); NULL (unset) gives the
 * default, q8; unknown words are ignored. */
unsigned mmx_act_parse(const char *s);
/* The activation precision used for weights of `wtype` under the enabled mask. */
mmx_act mmx_kernel_act(unsigned mask, mmx_type wtype);
/* Whether `act` has a path for weights of `wtype` (F32: always). */
bool mmx_act_applies(mmx_act act, mmx_type wtype);
const char *mmx_act_name(mmx_act act);

/* Floats of per-thread scratch the fast matmul needs for matrices of up to max_cols columns and
 * inputs of up to n_batch rows (the sequence allocates max of this and the reference's needs).
 * With less, prefill runs in token chunks (or falls back to the reference if not even one fits). */
size_t mmx_kernel_scratch_floats(size_t max_cols, size_t n_batch);

/* How AVX-512 decode reads BF16 rows that start off a cache line (GGUF aligns tensors to 32 bytes;
 * llama.cpp's files put every one at 32 mod 64): as whole aligned lines rebuilt by a permute, or by
 * plain loads that span two lines.  Both give bit-identical sums; which is faster depends on the
 * machine (on this project's VM: +40% for the lines one day, -20% another), so the first decode product
 * of a large such matrix times both (mmx_kernel_matmul) unless env MMX_BF16_LINES=0|1 decides. */
typedef enum { MMX_BF16_ROWS_UNDECIDED = -1, MMX_BF16_ROWS_PLAIN = 0, MMX_BF16_ROWS_LINES = 1 } mmx_bf16_rows;
mmx_bf16_rows mmx_kernel_bf16_rows(void);
void mmx_kernel_set_bf16_rows(mmx_bf16_rows mode);

/* Fast matmul for the types and shapes it handles, with the ISA of mmx_cpu_isa() and the activation
 * precision of env MMX_ACT; false = not handled (the caller uses the reference). */
bool mmx_kernel_matmul(struct mmx_exec *ex, const struct mmx_matrix *W, const float *X, size_t T, size_t ldx,
                       float *Y, size_t ldy);
/* Several independent matmuls, each as mmx_kernel_matmul would run it, in ONE pass of the thread pool
 * (decode: the experts' and other small products of a token cost one wake-up instead of one each).
 * Only when every one is a decode product (T <= 4) the fast path handles and there are at most 16;
 * false = not handled (the caller runs them one by one). */
typedef struct mmx_matmul_args {
    const struct mmx_matrix *W;
    const float *X;
    size_t T, ldx;
    float *Y;
    size_t ldy;
} mmx_matmul_args;
bool mmx_kernel_matmul_batch(struct mmx_exec *ex, const mmx_matmul_args *args, size_t n);

/* Whether one explicit variant exists for this CPU/build: products of `wtype` weights with T tokens in
 * `act` on `isa` (AVX2: no bf16 activations; int8 ones for every block type, except Q4_0 in decode). */
bool mmx_kernel_variant_exists(mmx_isa isa, mmx_act act, mmx_type wtype, size_t T);

/* One explicit variant (tests, benchmarks): false when this CPU/build lacks `isa`, `act` does not apply
 * to W->type, the variant does not exist (scalar: use the reference; avx2: fp32 activations only) or the
 * scratch is too small. */
bool mmx_kernel_matmul_variant(struct mmx_exec *ex, mmx_isa isa, mmx_act act, const struct mmx_matrix *W,
                               const float *X, size_t T, size_t ldx, float *Y, size_t ldy);

#endif
