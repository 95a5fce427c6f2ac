/*
 * Lightning attention kernels: every variant against the scalar reference (normalised error),
 * and the block algorithm against the token-by-token recurrence (SPEC §4.4: identical values for
 * every block size).
 */
#include "kernels/kernels.h"
#include "kernels/lightning.h"
#include "util.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* fp32 re-association only: the variants sum the same products in another order. */
#define LA_VARIANT_NMSE_TOL 1e-10
/* block vs recurrence: different but exact algorithms in fp32 over up to 300 tokens */
#define LA_BLOCK_VS_STEP_NMSE_TOL 1e-9

static uint64_t rng = 88172645463325252ull;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0) * 2.0f - 1.0f;
}

static double nmse(const float *a, const float *ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    return den > 0 ? num / den : num;
}

/* Which kernels run_head uses: the dispatcher (reference or best) or one ISA's variant. */
typedef enum { LA_REF, LA_BEST, LA_AVX2, LA_AVX512 } la_variant;

static void la_decode_v(la_variant v, const float *q, size_t d, float lambda, float *S, float *o) {
    if (v == LA_AVX2) MMX_ASSERT(mmx_la_decode_avx2(q, d, lambda, S, o));
    else if (v == LA_AVX512) MMX_ASSERT(mmx_la_decode_avx512(q, d, lambda, S, o));
    else mmx_la_decode(v == LA_REF, q, d, lambda, S, o);
}
static void la_block_v(la_variant v, const float *qkv, size_t ld, size_t m, size_t d, const float *decay, float *S,
                       float *out, size_t ld_out, float *scores) {
    if (v == LA_AVX2) MMX_ASSERT(mmx_la_block_avx2(qkv, ld, m, d, decay, S, out, ld_out, scores));
    else if (v == LA_AVX512) MMX_ASSERT(mmx_la_block_avx512(qkv, ld, m, d, decay, S, out, ld_out, scores));
    else mmx_la_block(v == LA_REF, qkv, ld, m, d, decay, S, out, ld_out, scores);
}

/* Runs T tokens of one head through blocks of B (B == 0: recurrence) with the given variant. */
static void run_head_v(la_variant v, const float *qkv, size_t T, size_t d, double s, size_t B, float *S, float *out) {
    const size_t ld = 3 * d;
    if (B == 0) {
        for (size_t t = 0; t < T; t++) la_decode_v(v, qkv + t * ld, d, (float)exp(-s), S, out + t * d);
        return;
    }
    float *decay = malloc((B + 1) * sizeof *decay), *scores = malloc(B * B * sizeof *scores);
    for (size_t n = 0; n <= B; n++) decay[n] = (float)exp(-s * (double)n);
    for (size_t b0 = 0; b0 < T; b0 += B) {
        size_t m = T - b0 < B ? T - b0 : B;
        la_block_v(v, qkv + b0 * ld, ld, m, d, decay, S, out + b0 * d, d, scores);
    }
    free(decay);
    free(scores);
}

static void run_head(bool reference, const float *qkv, size_t T, size_t d, double s, size_t B, float *S, float *out) {
    run_head_v(reference ? LA_REF : LA_BEST, qkv, T, d, s, B, S, out);
}

TEST(lightning_variants_match_reference) {
    const size_t dims[] = {16, 32, 64, 128, 24, 40};
    const size_t T = 300;
    if (mmx_cpu_isa() < MMX_ISA_AVX512) printf("    (no AVX-512 on this CPU: its variants are not run)\n");
    if (mmx_cpu_isa() < MMX_ISA_AVX2) printf("    (no AVX2 on this CPU: its variants are not run)\n");
    for (la_variant v = LA_AVX2; v <= LA_AVX512; v++)
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
        const size_t d = dims[di];
        if ((v == LA_AVX2 && (mmx_cpu_isa() < MMX_ISA_AVX2 || d % 8)) ||
            (v == LA_AVX512 && (mmx_cpu_isa() < MMX_ISA_AVX512 || (d != 16 && d != 32 && d != 64 && d != 128))))
            continue;
        float *qkv = malloc(T * 3 * d * sizeof *qkv);
        for (size_t i = 0; i < T * 3 * d; i++) qkv[i] = frand() * 0.5f;
        const size_t blocks[] = {0, 1, 7, 64, 256};
        for (size_t bi = 0; bi < 5; bi++) {
            float *S0 = calloc(d * d, sizeof(float)), *S1 = calloc(d * d, sizeof(float));
            float *o0 = malloc(T * d * sizeof(float)), *o1 = malloc(T * d * sizeof(float));
            for (size_t i = 0; i < d * d; i++) S0[i] = S1[i] = frand(); /* non-zero initial state */
            run_head(true, qkv, T, d, 0.05, blocks[bi], S0, o0);
            run_head_v(v, qkv, T, d, 0.05, blocks[bi], S1, o1);
            double eo = nmse(o1, o0, T * d), es = nmse(S1, S0, d * d);
            CHECKF(eo <= LA_VARIANT_NMSE_TOL && es <= LA_VARIANT_NMSE_TOL, "%s d=%zu B=%zu: nmse out %.3g state %.3g",
                   v == LA_AVX2 ? "avx2" : "avx512", d, blocks[bi], eo, es);
            free(S0), free(S1), free(o0), free(o1);
        }
        free(qkv);
    }
}

TEST(lightning_block_equals_recurrence) {
    const size_t d = 32, T = 300;
    const double slopes[] = {0.9, 0.05, 1e-4};
    float *qkv = malloc(T * 3 * d * sizeof *qkv);
    for (size_t i = 0; i < T * 3 * d; i++) qkv[i] = frand() * 0.5f;
    for (int si = 0; si < 3; si++)
        for (int variant = 0; variant < 2; variant++) {
            float *Sr = calloc(d * d, sizeof(float)), *or_ = malloc(T * d * sizeof(float));
            run_head(variant == 0, qkv, T, d, slopes[si], 0, Sr, or_);
            const size_t blocks[] = {1, 5, 64, 256, 300};
            for (size_t bi = 0; bi < 5; bi++) {
                float *S = calloc(d * d, sizeof(float)), *o = malloc(T * d * sizeof(float));
                run_head(variant == 0, qkv, T, d, slopes[si], blocks[bi], S, o);
                double eo = nmse(o, or_, T * d), es = nmse(S, Sr, d * d);
                CHECKF(eo <= LA_BLOCK_VS_STEP_NMSE_TOL && es <= LA_BLOCK_VS_STEP_NMSE_TOL,
                       "s=%g B=%zu %s: nmse out %.3g state %.3g", slopes[si], blocks[bi], variant ? "fast" : "ref", eo,
                       es);
                free(S), free(o);
            }
            free(Sr), free(or_);
        }
    free(qkv);
}
