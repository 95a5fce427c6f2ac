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

/* Prefill: the weight panel is copied (packed) from the mapped file right before its microkernels run,
 * so without help each panel's rows come in from memory at the latency of ~16 row streams while the
 * core waits (the packing was 7-8% of a BF16 prefill on two Zen 4 cores).  While the microkernel
 * calls of one panel run, the drivers fetch the NEXT panel's source bytes into L2 in n_slices pieces,
 * piece s before call s, so its packing reads from cache.  The next panel is the next in the matrix,
 * not in the caller's row range: the pool hands out one panel per call (mmx_pool_range_next) and the
 * following one is most often the same thread's next.  Rows [r, r1), the bytes of columns
 * [k0, k0 + kc) (whole blocks for the block types: the byte range is scaled from the column range and
 * widened to lines; a prefetch past the range cannot fault).  Only a hint: nothing depends on it. */
/* always_inline: GCC 12's mod/ref analysis counts a prefetch as no effect, so a call to an out-of-line
 * function that only prefetches is deleted as dead (seen: none of these prefetches was emitted). */
static inline __attribute__((always_inline)) void mm_prefetch_panel_slice(const mmx_matrix *W, size_t r, size_t r1, size_t k0, size_t kc, size_t s,
                                                                    size_t n_slices) {
    if (r >= r1 || n_slices == 0) return;
    const size_t rows = r1 - r < MM_NR ? r1 - r : MM_NR;
    const size_t b0 = W->row_bytes * k0 / W->cols / 64 * 64, b1 = W->row_bytes * (k0 + kc) / W->cols;
    const size_t lines_per_row = (b1 - b0 + 63) / 64, lines = rows * lines_per_row;
    if (lines_per_row == 0) return;
    const size_t l0 = lines * s / n_slices, l1 = lines * (s + 1) / n_slices;
    size_t line = l0 % lines_per_row; /* stepped, not divided per line (a 64-bit divide is ~15-40 cycles) */
    const uint8_t *row = (const uint8_t *)W->data + (r + l0 / lines_per_row) * W->row_bytes + b0;
    for (size_t l = l0; l < l1; l++) {
        __builtin_prefetch(row + 64 * line, 0, 2);
        if (++line == lines_per_row) line = 0, row += W->row_bytes;
    }
}

#endif
