/*
 * matmul_impl.h — private interface between matmul.c (dispatch, threads, scratch) and the per-ISA
 * matmul files (matmul_avx2.c, matmul_avx512.c).  See kernels.h for the precision policy.
 *
 * Geometry shared by every ISA, so scratch sizing is one formula:
 *   - decode (T <= MM_GEMV_MAX_T): each thread dots a contiguous range of weight rows straight from
 *     their stored format against all T tokens (every weight byte read once, no packing);
 *   - prefill: each thread owns whole panels of MM_NR weight rows.  For each panel and each slice
 *     of at most MM_KC columns, the weights are converted once into a packed panel (compute format,
 *     columns outer, the MM_NR rows inner) and reused across all tokens; the activations were
 *     packed once per call, MM_MR tokens interleaved, so the microkernel (MM_NR rows x up to
 *     MM_MR tokens of accumulators in registers) broadcasts one token value per step.
 */
#ifndef MMX_MATMUL_IMPL_H
#define MMX_MATMUL_IMPL_H

#include "kernels.h"
#include "../model.h"

#define MM_GEMV_MAX_T 4
#define MM_NR 32            /* weight rows per packed panel (two 16-lane vectors) */
#define MM_MR 12            /* tokens per microkernel call (fp32 and bf16 activations) */
#define MM_MR_Q8 6          /* tokens per microkernel call (int8 activations: int + float accumulators) */
#define MM_KC 1024          /* most columns per packed panel slice (multiple of 256) */
#define MM_ALIGN 64

/* One matmul: Y[t, r] = sum_c W[r, c] X[t, c]. */
typedef struct mm_job {
    const mmx_matrix *W;
    const float *X;
    size_t T, ldx;
    float *Y;
    size_t ldy;
    mmx_act act;          /* activation precision actually used (valid for W->type) */
    float **scratch;      /* per-thread scratch */
    size_t scratch_bytes; /* usable bytes of each (after alignment) */
    /* prefill: the activations already packed for all T tokens (one chunk), by every thread's share
     * of mmx_mm_pack_x_avx512 / _avx2 in a pool pass before this one; NULL: each thread packs them itself */
    const void *xpacked;
} mm_job;

/* Bytes of packed-activation storage for n tokens of K columns in `act` (any ISA). */
size_t mmx_mm_xpack_bytes(mmx_act act, mmx_type wtype, size_t n, size_t K);
/* Bytes of one packed weight panel slice plus its conversion buffers (any ISA). */
size_t mmx_mm_panel_bytes(mmx_act act, size_t kc);
/* Columns per packed panel slice for K columns (K rounded up to 32 if below MM_KC). */
size_t mmx_mm_kc(size_t K);
/* Tokens per prefill pass that fit in the job's scratch beside a panel slice. */
size_t mmx_mm_token_chunk(const mm_job *j);
/* Weight block length the int8 path quantizes activations by (32, or 16 for Q6_K). */
size_t mmx_mm_q8_block(mmx_type wtype);

/* Per-ISA entry points: rows [r0, r1) of the job, on the calling thread, with its scratch.
 * gemv: T <= MM_GEMV_MAX_T.  gemm: any T; r0 is a multiple of MM_NR. */
void mmx_mm_gemv_avx512(const mm_job *j, size_t r0, size_t r1, void *scratch);
/* mmx_mm_gemv_avx512 in two steps, so a thread that takes many pieces of one product prepares its
 * activations (deinterleaved / quantized into scratch) once: prepare, then rows any number of times
 * with the same scratch. */
void mmx_mm_gemv_prepare_avx512(const mm_job *j, void *scratch);
void mmx_mm_gemv_rows_avx512(const mm_job *j, size_t r0, size_t r1, void *scratch);
void mmx_mm_gemm_avx512(const mm_job *j, size_t r0, size_t r1, void *scratch);
/* Packs the activations of token blocks [tb0, tb1) (blocks of the microkernel's token count) of the
 * job's T tokens into xp, in the layout mmx_mm_gemm_avx512 reads (any split of the blocks between
 * threads writes disjoint bytes). */
void mmx_mm_pack_x_avx512(const mm_job *j, size_t tb0, size_t tb1, void *xp);
/* Tokens per microkernel call for the job's activation precision. */
static inline size_t mmx_mm_mr(mmx_act act) { return act == MMX_ACT_Q8 ? MM_MR_Q8 : MM_MR; }
void mmx_mm_gemv_avx2(const mm_job *j, size_t r0, size_t r1, void *scratch);
void mmx_mm_gemv_prepare_avx2(const mm_job *j, void *scratch);
void mmx_mm_gemv_rows_avx2(const mm_job *j, size_t r0, size_t r1, void *scratch);
/* Whether the AVX2 decode has an int8-activation kernel for weights of `type` (Q8_0, Q4_K, Q5_K, Q6_K). */
bool mmx_mm_gemv_q8_avx2_handles(mmx_type type);
void mmx_mm_gemm_avx2(const mm_job *j, size_t r0, size_t r1, void *scratch);
/* mmx_mm_pack_x_avx512's counterpart for mmx_mm_gemm_avx2 (the same token blocks of mmx_mm_mr). */
void mmx_mm_pack_x_avx2(const mm_job *j, size_t tb0, size_t tb1, void *xp);

/* Exact row expansion to fp32 (the values mmx_dequantize_row gives), any n the type allows. */
void mmx_dequant_row_avx512(mmx_type type, const void *src, float *dst, size_t n);
void mmx_dequant_row_avx2(mmx_type type, const void *src, float *dst, size_t n);

static inline size_t mm_round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

#endif
