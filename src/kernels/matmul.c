/*
 * matmul.c — the fast matrix multiply behind mmx_op_matmul: Y[t, r] = sum_c W[r, c] X[t, c].
 *
 * Precision policy: activations stay fp32 for every weight type; weights are expanded exactly
 * (bf16/f16 -> fp32, quantized blocks -> scale * level) and products accumulate in fp32.  Only the
 * summation order differs from the scalar reference (tests bound it by normalised error).
 *
 * Decode (T <= 4): one pass over each weight row, dotted directly from its stored format against
 * all T tokens (memory-bound: every weight byte is read once).  Prefill (T > 4): a panel of weight
 * rows is expanded to fp32 once into thread scratch and reused across all tokens by a register-
 * blocked 4x4 (rows x tokens) microkernel.  Rows are split across threads.
 */
#include "kernels.h"
#include "../ops.h"
#include "../quant.h"
#include "../util.h"

#define PANEL_ROWS 16
#define GEMV_MAX_T 4
#define SMALL_MATMUL_ELEMS (64 * 1024)

/* AVX-512 kernels (matmul_avx512.c) */
bool mmx_gemv_row_avx512(mmx_type type, const void *row, size_t cols, const float *X, size_t T, size_t ldx,
                         float *out);
void mmx_gemm_panel_avx512(const float *Wp, size_t n_rows, size_t cols, const float *X, size_t T, size_t ldx,
                           float *Y, size_t ldy);
void mmx_dequant_row_avx512(mmx_type type, const void *src, float *dst, size_t n);

size_t mmx_kernel_scratch_floats(size_t max_cols, size_t n_batch) {
    (void)n_batch;
    return PANEL_ROWS * max_cols;
}

typedef struct {
    const mmx_matrix *W;
    const float *X;
    size_t T, ldx;
    float *Y;
    size_t ldy;
    float **scratch;
} mm_job;

static void gemv_worker(void *arg, int ith, int nth) {
    mm_job *j = arg;
    size_t r0, r1;
    mmx_split_range(j->W->rows, ith, nth, &r0, &r1);
    float out[GEMV_MAX_T];
    for (size_t r = r0; r < r1; r++) {
        mmx_gemv_row_avx512(j->W->type, (const uint8_t *)j->W->data + r * j->W->row_bytes, j->W->cols, j->X, j->T,
                            j->ldx, out);
        for (size_t t = 0; t < j->T; t++) j->Y[t * j->ldy + r] = out[t];
    }
}

static void gemm_worker(void *arg, int ith, int nth) {
    mm_job *j = arg;
    const mmx_matrix *W = j->W;
    /* whole panels per thread, so panel expansion is never duplicated */
    size_t n_panels = (W->rows + PANEL_ROWS - 1) / PANEL_ROWS, p0, p1;
    mmx_split_range(n_panels, ith, nth, &p0, &p1);
    float *panel = j->scratch[ith];
    for (size_t p = p0; p < p1; p++) {
        size_t r0 = p * PANEL_ROWS, nr = W->rows - r0 < PANEL_ROWS ? W->rows - r0 : PANEL_ROWS;
        for (size_t i = 0; i < nr; i++)
            mmx_dequant_row_avx512(W->type, (const uint8_t *)W->data + (r0 + i) * W->row_bytes, panel + i * W->cols,
                                   W->cols);
        mmx_gemm_panel_avx512(panel, nr, W->cols, j->X, j->T, j->ldx, j->Y + r0, j->ldy);
    }
}

static bool gemv_type_supported(mmx_type t, size_t cols) {
    switch (t) {
    case MMX_TYPE_F32: case MMX_TYPE_BF16: case MMX_TYPE_F16: return cols % 16 == 0;
    case MMX_TYPE_Q8_0: case MMX_TYPE_Q4_0: case MMX_TYPE_Q4_K: case MMX_TYPE_Q5_K: case MMX_TYPE_Q6_K: return true;
    default: return false;
    }
}

bool mmx_kernel_matmul(mmx_exec *ex, const mmx_matrix *W, const float *X, size_t T, size_t ldx, float *Y, size_t ldy) {
#if defined(__x86_64__)
    if (mmx_cpu_isa() < MMX_ISA_AVX512 || !gemv_type_supported(W->type, W->cols) || W->cols % 16) return false;
    mm_job j = {W, X, T, ldx, Y, ldy, ex->thread_scratch};
    if (T <= GEMV_MAX_T) {
        /* tiny matrices (the router): waking the pool costs more than the work */
        if (W->rows * W->cols * T < SMALL_MATMUL_ELEMS) gemv_worker(&j, 0, 1);
        else mmx_pool_run(ex->pool, gemv_worker, &j);
    } else {
        MMX_ASSERT(ex->scratch_floats >= PANEL_ROWS * W->cols);
        mmx_pool_run(ex->pool, gemm_worker, &j);
    }
    return true;
#else
    (void)ex, (void)W, (void)X, (void)T, (void)ldx, (void)Y, (void)ldy;
    return false;
#endif
}
