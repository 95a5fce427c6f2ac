/*
 * Matmul kernel variants against the scalar reference, for every weight type, awkward shapes and
 * token counts (decode GEMV path T <= 4 and the panel GEMM path), by normalised error.
 */
#include "kernels/kernels.h"
#include "ops.h"
#include "quant.h"
#include "test.h"
#include "threadpool.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Both paths compute with the exact fp32 weight values and fp32 products; only the summation
 * order differs, so the normalised error is at fp32 rounding level (~1e-14 observed). */
#define MATMUL_F32_ACT_NMSE_TOL 1e-10

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static float frand(void) {
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return (float)((double)(rs >> 11) / 9007199254740992.0) * 2.0f - 1.0f;
}

TEST(kernels_matmul_variants_match_reference) {
    if (mmx_cpu_isa() < MMX_ISA_AVX512) {
        printf("    (CPU without AVX-512: the fast matmul is not used here; only the reference runs)\n");
        return;
    }
    const mmx_type types[] = {MMX_TYPE_F32, MMX_TYPE_F16, MMX_TYPE_BF16, MMX_TYPE_Q8_0,
                              MMX_TYPE_Q4_0, MMX_TYPE_Q4_K, MMX_TYPE_Q5_K, MMX_TYPE_Q6_K};
    const size_t shapes[][2] = {{37, 256}, {16, 512}, {5, 768}, {64, 256}};
    const size_t Ts[] = {1, 2, 3, 4, 5, 17, 64, 200};
    mmx_pool *pool = mmx_pool_create(2);
    REQUIRE(pool);
    size_t scratch = mmx_kernel_scratch_floats(768, 200);
    if (scratch < 768) scratch = 768;
    float *buf = malloc(2 * scratch * sizeof(float));
    float *sc[2] = {buf, buf + scratch};
    mmx_exec ex = {pool, 2, false, sc, scratch};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++)
        for (size_t si = 0; si < 4; si++) {
            size_t rows = shapes[si][0], cols = shapes[si][1];
            size_t rb = mmx_type_row_bytes(types[ti], cols);
            float *wf = malloc(rows * cols * sizeof(float));
            uint8_t *wq = malloc(rows * rb);
            for (size_t i = 0; i < rows * cols; i++) wf[i] = frand();
            for (size_t r = 0; r < rows; r++) mmx_quantize_row(types[ti], wf + r * cols, wq + r * rb, cols);
            mmx_matrix W = {types[ti], rows, cols, rb, wq};
            for (size_t k = 0; k < sizeof Ts / sizeof Ts[0]; k++) {
                size_t T = Ts[k], ldx = cols + 3, ldy = rows + 5;
                float *X = malloc(T * ldx * sizeof(float)), *Y0 = calloc(T * ldy, sizeof(float)),
                      *Y1 = calloc(T * ldy, sizeof(float));
                for (size_t i = 0; i < T * ldx; i++) X[i] = frand();
                ex.reference = true;
                mmx_op_matmul(&ex, &W, X, T, ldx, Y0, ldy);
                ex.reference = false;
                CHECK(mmx_kernel_matmul(&ex, &W, X, T, ldx, Y1, ldy));
                double num = 0, den = 0;
                for (size_t t = 0; t < T; t++)
                    for (size_t r = 0; r < rows; r++) {
                        double d = (double)Y1[t * ldy + r] - Y0[t * ldy + r];
                        num += d * d;
                        den += (double)Y0[t * ldy + r] * Y0[t * ldy + r];
                    }
                double nmse = num / den;
                CHECKF(nmse <= MATMUL_F32_ACT_NMSE_TOL, "%s %zux%zu T=%zu: nmse %.3g", mmx_type_name(types[ti]), rows,
                       cols, T, nmse);
                free(X), free(Y0), free(Y1);
            }
            free(wf), free(wq);
        }
    free(buf);
    mmx_pool_free(pool);
}

/* The AVX-512 row expansion used by the prefill panels gives exactly the reference values. */
void mmx_dequant_row_avx512(mmx_type type, const void *src, float *dst, size_t n);
TEST(kernels_dequant_rows_exact) {
    if (mmx_cpu_isa() < MMX_ISA_AVX512) return;
    const mmx_type types[] = {MMX_TYPE_F16, MMX_TYPE_BF16, MMX_TYPE_Q8_0, MMX_TYPE_Q4_0,
                              MMX_TYPE_Q4_K, MMX_TYPE_Q5_K, MMX_TYPE_Q6_K};
    float x[1024], a[1024], b[1024];
    uint8_t q[4096];
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        for (int i = 0; i < 1024; i++) x[i] = frand() * (float)(1 + i % 7);
        mmx_quantize_row(types[t], x, q, 1024);
        mmx_dequantize_row(types[t], q, a, 1024);
        mmx_dequant_row_avx512(types[t], q, b, 1024);
        CHECKF(!memcmp(a, b, sizeof a), "%s: AVX-512 expansion differs from the reference", mmx_type_name(types[t]));
    }
}
