/*
 * Matmul kernel variants against the scalar reference (mmx_op_matmul with ex->reference), for every
 * weight type, every variant this CPU runs (ISA x activation precision), awkward shapes (rows and
 * columns off the 32-row panels, the 16-lane vectors and the 1024-column slices) and token counts on
 * both sides of the decode/prefill switch, by normalised error (NMSE = sum (y - ref)^2 / sum ref^2).
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

/* fp32 activations: the kernels use the exact fp32 weight values and fp32 products; only the
 * summation order differs from the reference, so the error is fp32 rounding (observed <= ~1e-13). */
#define MATMUL_F32_ACT_NMSE_TOL 1e-10
/* Reduced-precision paths checked against the reference run on the SAME rounded activations (bf16
 * rounding of X; int8 block quantization of X): again only summation order and fp32 rounding differ. */
#define MATMUL_EMULATED_NMSE_TOL 1e-10
/* bf16 activations vs fp32 activations: each x is rounded with relative error <= 2^-9 (uniform, rms
 * ~2^-9/sqrt(3)), so the NMSE of a sum of many such products is ~(2^-9)^2/3 = 1.3e-6; observed ~1e-6. */
#define MATMUL_BF16_ACT_NMSE_TOL 1e-5
/* int8 activations vs fp32: x quantized per 32 (16 for Q6_K) with step amax/127, error uniform in
 * +-step/2: for the test's uniform [-1, 1) inputs relative rms ~ (1/127)/sqrt(12)/0.577 = 3.9e-3,
 * NMSE ~1.6e-5.  Observed 1e-5..2.6e-5 on the larger shapes; the estimate spreads on the smallest
 * (5 rows x 1 token: 5 outputs): up to 5.8e-5.  Hence 1e-4. */
#define MATMUL_Q8_ACT_NMSE_TOL 1e-4

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static float frand(void) {
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return (float)((double)(rs >> 11) / 9007199254740992.0) * 2.0f - 1.0f;
}

static double nmse(const float *y, const float *ref, size_t T, size_t rows, size_t ldy) {
    double num = 0, den = 0;
    for (size_t t = 0; t < T; t++)
        for (size_t r = 0; r < rows; r++) {
            double d = (double)y[t * ldy + r] - ref[t * ldy + r];
            num += d * d;
            den += (double)ref[t * ldy + r] * ref[t * ldy + r];
        }
    return den > 0 ? num / den : num;
}

/* X rounded the way the reduced paths round it (bf16: nearest even; q8: per block of B, amax/127). */
static void round_bf16(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000u;
        memcpy(&y[i], &u, 4);
    }
}
static void round_q8(const float *x, float *y, size_t n, size_t B) {
    for (size_t b = 0; b < n; b += B) {
        float amax = 0;
        for (size_t i = 0; i < B; i++) amax = fabsf(x[b + i]) > amax ? fabsf(x[b + i]) : amax;
        const float d = amax / 127.0f, id = amax > 0 ? 127.0f / amax : 0.0f;
        for (size_t i = 0; i < B; i++) y[b + i] = d * nearbyintf(x[b + i] * id);
    }
}

typedef struct {
    mmx_isa isa;
    mmx_act act;
    const char *name;
} variant;

static const variant variants[] = {
    {MMX_ISA_AVX2, MMX_ACT_F32, "avx2/f32"},
    {MMX_ISA_AVX2, MMX_ACT_Q8, "avx2/q8"}, /* not Q4_0 decode (kernels.h) */
    {MMX_ISA_AVX512, MMX_ACT_F32, "avx512/f32"},
    {MMX_ISA_AVX512, MMX_ACT_BF16, "avx512/bf16"},
    {MMX_ISA_AVX512, MMX_ACT_Q8, "avx512/q8"},
};
#define N_VARIANTS (sizeof variants / sizeof variants[0])

static const mmx_type all_types[] = {MMX_TYPE_F32, MMX_TYPE_F16, MMX_TYPE_BF16, MMX_TYPE_Q8_0,
                                     MMX_TYPE_Q4_0, MMX_TYPE_Q4_K, MMX_TYPE_Q5_K, MMX_TYPE_Q6_K};

typedef struct {
    mmx_pool *pool;
    float *buf, *sc[2];
    mmx_exec ex;
} harness;

static bool harness_init(harness *h, size_t max_cols, size_t n_batch, size_t limit_floats) {
    h->pool = mmx_pool_create(2);
    if (!h->pool) return false;
    size_t scratch = mmx_kernel_scratch_floats(max_cols, n_batch);
    if (scratch < max_cols) scratch = max_cols;
    if (limit_floats) scratch = limit_floats;
    h->buf = malloc(2 * scratch * sizeof(float));
    h->sc[0] = h->buf, h->sc[1] = h->buf + scratch;
    h->ex = (mmx_exec){h->pool, 2, false, h->sc, scratch, 0}; /* fp32 unless a test names a variant */
    return h->buf != NULL;
}
static void harness_free(harness *h) {
    free(h->buf);
    mmx_pool_free(h->pool);
}

static bool variant_runs(const variant *v) { return mmx_cpu_isa() >= v->isa; }

static void print_skipped(void) {
    for (size_t v = 0; v < N_VARIANTS; v++)
        if (!variant_runs(&variants[v]))
            printf("    (skipped %s: this CPU/build runs up to %s)\n", variants[v].name, mmx_isa_name(mmx_cpu_isa()));
}

/* Column counts per type: off the 16-lane vectors and across the 1024-column panel slices. */
static size_t shape_cols(mmx_type t, int i) {
    static const size_t f[] = {256, 77, 33, 1061}, b32[] = {256, 96, 32, 1056}, b256[] = {256, 512, 768, 1280};
    if (t == MMX_TYPE_F32 || t == MMX_TYPE_F16 || t == MMX_TYPE_BF16) return f[i];
    if (t == MMX_TYPE_Q8_0 || t == MMX_TYPE_Q4_0) return b32[i];
    return b256[i];
}

static void check_matmul(harness *h, mmx_type type, size_t rows, size_t cols, const size_t *Ts, size_t nT,
                         double *worst) {
    const size_t rb = mmx_type_row_bytes(type, cols);
    float *wf = malloc(rows * cols * sizeof(float));
    uint8_t *wq = malloc(rows * rb);
    for (size_t i = 0; i < rows * cols; i++) wf[i] = frand();
    for (size_t r = 0; r < rows; r++) mmx_quantize_row(type, wf + r * cols, wq + r * rb, cols);
    mmx_matrix W = {type, rows, cols, rb, wq, false};
    for (size_t k = 0; k < nT; k++) {
        const size_t T = Ts[k], ldx = cols + 3, ldy = rows + 5;
        float *X = malloc(T * ldx * sizeof(float)), *Xr = malloc(T * ldx * sizeof(float));
        float *Y0 = calloc(T * ldy, sizeof(float)), *Y1 = calloc(T * ldy, sizeof(float)), *Ye = calloc(T * ldy, sizeof(float));
        for (size_t i = 0; i < T * ldx; i++) X[i] = frand();
        h->ex.reference = true;
        mmx_op_matmul(&h->ex, &W, X, T, ldx, Y0, ldy);
        h->ex.reference = false;
        for (size_t v = 0; v < N_VARIANTS; v++) {
            const variant *va = &variants[v];
            if (!mmx_kernel_variant_exists(va->isa, va->act, type, T)) continue;
            for (size_t i = 0; i < T * ldy; i++) Y1[i] = NAN;
            if (!mmx_kernel_matmul_variant(&h->ex, va->isa, va->act, &W, X, T, ldx, Y1, ldy)) {
                CHECKF(0, "%s %s: variant refused %zux%zu T=%zu", va->name, mmx_type_name(type), rows, cols, T);
                continue;
            }
            const double e = nmse(Y1, Y0, T, rows, ldy);
            /* decode (T <= 4) keeps fp32 activations for bf16 */
            const bool reduced = va->act == MMX_ACT_Q8 || (va->act == MMX_ACT_BF16 && T > 4);
            const double tol = !reduced ? MATMUL_F32_ACT_NMSE_TOL
                               : va->act == MMX_ACT_BF16 ? MATMUL_BF16_ACT_NMSE_TOL : MATMUL_Q8_ACT_NMSE_TOL;
            CHECKF(e <= tol, "%s %s %zux%zu T=%zu: nmse %.3g > %.3g", va->name, mmx_type_name(type), rows, cols, T, e,
                   tol);
            if (e > worst[v]) worst[v] = e;
            /* the same rounding of X through the reference: only summation order may differ */
            if (reduced) {
                for (size_t t = 0; t < T; t++) {
                    if (va->act == MMX_ACT_BF16) round_bf16(X + t * ldx, Xr + t * ldx, cols);
                    else round_q8(X + t * ldx, Xr + t * ldx, cols, type == MMX_TYPE_Q6_K ? 16 : 32);
                }
                h->ex.reference = true;
                mmx_op_matmul(&h->ex, &W, Xr, T, ldx, Ye, ldy);
                h->ex.reference = false;
                const double ee = nmse(Y1, Ye, T, rows, ldy);
                CHECKF(ee <= MATMUL_EMULATED_NMSE_TOL, "%s %s %zux%zu T=%zu: nmse vs emulated rounding %.3g",
                       va->name, mmx_type_name(type), rows, cols, T, ee);
            }
        }
        free(X), free(Xr), free(Y0), free(Y1), free(Ye);
    }
    free(wf), free(wq);
}

TEST(kernels_matmul_variants_match_reference) {
    print_skipped();
    harness h;
    REQUIRE(harness_init(&h, 1280, 200, 0));
    const size_t rows[] = {37, 16, 5, 64, 100};
    const size_t Ts[] = {1, 2, 3, 4, 5, 17, 64, 200};
    double worst[N_VARIANTS] = {0};
    for (size_t ti = 0; ti < sizeof all_types / sizeof all_types[0]; ti++)
        for (int ci = 0; ci < 4; ci++) {
            const size_t cols = shape_cols(all_types[ti], ci);
            /* the widest shapes with fewer token counts, to keep the test quick */
            const size_t nT = cols > 1000 ? 3 : sizeof Ts / sizeof Ts[0];
            const size_t *T = cols > 1000 ? (const size_t[]){1, 17, 64} : Ts;
            check_matmul(&h, all_types[ti], rows[(ti + (size_t)ci) % 5], cols, T, nT, worst);
        }
    for (size_t v = 0; v < N_VARIANTS; v++)
        if (variant_runs(&variants[v])) printf("    %-12s worst nmse %.3g\n", variants[v].name, worst[v]);
    harness_free(&h);
}

/* Prefill in token chunks when the scratch holds fewer tokens than T (here 24 for fp32 activations). */
TEST(kernels_matmul_token_chunks) {
    const size_t cols = 512, rows = 70, T = 77;
    harness big, small;
    REQUIRE(harness_init(&big, cols, T, 0));
    const size_t limit = mmx_kernel_scratch_floats(cols, 24);
    REQUIRE(harness_init(&small, cols, T, limit));
    const mmx_type types[] = {MMX_TYPE_F32, MMX_TYPE_BF16, MMX_TYPE_Q4_K, MMX_TYPE_Q6_K};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const size_t rb = mmx_type_row_bytes(types[ti], cols);
        float *wf = malloc(rows * cols * sizeof(float)), *X = malloc(T * cols * sizeof(float));
        float *Y0 = malloc(T * rows * sizeof(float)), *Y1 = malloc(T * rows * sizeof(float));
        uint8_t *wq = malloc(rows * rb);
        for (size_t i = 0; i < rows * cols; i++) wf[i] = frand();
        for (size_t i = 0; i < T * cols; i++) X[i] = frand();
        for (size_t r = 0; r < rows; r++) mmx_quantize_row(types[ti], wf + r * cols, wq + r * rb, cols);
        mmx_matrix W = {types[ti], rows, cols, rb, wq, false};
        for (size_t v = 0; v < N_VARIANTS; v++) {
            const variant *va = &variants[v];
            if (!mmx_kernel_variant_exists(va->isa, va->act, types[ti], T)) continue;
            CHECK(mmx_kernel_matmul_variant(&big.ex, va->isa, va->act, &W, X, T, cols, Y0, rows));
            CHECK(mmx_kernel_matmul_variant(&small.ex, va->isa, va->act, &W, X, T, cols, Y1, rows));
            CHECKF(!memcmp(Y0, Y1, T * rows * sizeof(float)), "%s %s: chunked result differs", va->name,
                   mmx_type_name(types[ti]));
        }
        free(wf), free(X), free(Y0), free(Y1), free(wq);
    }
    harness_free(&big);
    harness_free(&small);
}

/* GGUF places tensors 32 bytes off a cache line; the kernels read such rows as aligned lines and
 * rebuild the values in registers.  The same weights at 4-byte offsets within a line (and 2-byte
 * ones for the 16-bit types) must give bit-identical results, decode and
 * prefill, with the rows' first and last lines read only within the row: each copy is a buffer of
 * its own that ends where the weights end, so the sanitizer build sees any read past them. */
TEST(kernels_matmul_offset_within_line_bit_identical) {
    const size_t rows = 37, Ts[] = {1, 3, 40};
    const size_t cols_list[] = {1024, 96, 512 + 32};
    harness h;
    REQUIRE(harness_init(&h, 1024, 40, 0));
    const mmx_type types[] = {MMX_TYPE_BF16, MMX_TYPE_F16, MMX_TYPE_F32, MMX_TYPE_Q8_0, MMX_TYPE_Q4_K, MMX_TYPE_Q6_K};
    const size_t offsets[] = {4, 8, 32, 60, 2}; /* 2: 16-bit types only (the others' values need 4-byte alignment) */
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++)
        for (size_t ci = 0; ci < sizeof cols_list / sizeof cols_list[0]; ci++) {
            const size_t cols = cols_list[ci];
            if (cols % mmx_type_block_elems(types[ti])) continue;
            const size_t rb = mmx_type_row_bytes(types[ti], cols), n = rows * rb;
            float *wf = malloc(rows * cols * sizeof(float)), *X = malloc(40 * cols * sizeof(float));
            float *Y0 = malloc(40 * rows * sizeof(float)), *Y1 = malloc(40 * rows * sizeof(float));
            uint8_t *w0 = mmx_alloc_aligned(n);
            REQUIRE(wf && X && Y0 && Y1 && w0);
            for (size_t i = 0; i < rows * cols; i++) wf[i] = frand();
            for (size_t i = 0; i < 40 * cols; i++) X[i] = frand();
            for (size_t r = 0; r < rows; r++) mmx_quantize_row(types[ti], wf + r * cols, w0 + r * rb, cols);
            for (size_t v = 0; v < N_VARIANTS; v++) {
                const variant *va = &variants[v];
                if (!variant_runs(va) || !mmx_act_applies(va->act, types[ti])) continue;
                for (size_t k = 0; k < sizeof Ts / sizeof Ts[0]; k++) {
                    const size_t T = Ts[k];
                    if (!mmx_kernel_variant_exists(va->isa, va->act, types[ti], T)) continue;
                    mmx_matrix W = {types[ti], rows, cols, rb, w0, false};
                    CHECK(mmx_kernel_matmul_variant(&h.ex, va->isa, va->act, &W, X, T, cols, Y0, rows));
                    /* BF16 decode reads rows off a line either way (kernels.h mmx_bf16_rows): both */
                    for (int plain = 0; plain < (types[ti] == MMX_TYPE_BF16 ? 2 : 1); plain++)
                    for (size_t oi = 0; oi < sizeof offsets / sizeof offsets[0]; oi++) {
                        if (offsets[oi] % 4 && types[ti] != MMX_TYPE_BF16 && types[ti] != MMX_TYPE_F16) continue;
                        mmx_kernel_set_bf16_rows(plain ? MMX_BF16_ROWS_PLAIN : MMX_BF16_ROWS_LINES);
                        /* the copy's start `offsets[oi]` bytes past a line, its end the buffer's end */
                        void *buf = NULL;
                        REQUIRE(posix_memalign(&buf, 64, offsets[oi] + n) == 0);
                        memcpy((uint8_t *)buf + offsets[oi], w0, n);
                        W.data = (uint8_t *)buf + offsets[oi];
                        CHECK(mmx_kernel_matmul_variant(&h.ex, va->isa, va->act, &W, X, T, cols, Y1, rows));
                        free(buf);
                        mmx_kernel_set_bf16_rows(MMX_BF16_ROWS_UNDECIDED);
                        CHECKF(!memcmp(Y0, Y1, T * rows * sizeof(float)), "%s %s cols %zu T %zu offset %zu%s: differs from line-aligned",
                               va->name, mmx_type_name(types[ti]), cols, T, offsets[oi], plain ? " (plain loads)" : "");
                    }
                }
            }
            free(wf), free(X), free(Y0), free(Y1), mmx_free_aligned(w0);
        }
    harness_free(&h);
}

/* The row expansions used by the prefill panels give exactly the reference values. */
void mmx_dequant_row_avx512(mmx_type type, const void *src, float *dst, size_t n);
void mmx_dequant_row_avx2(mmx_type type, const void *src, float *dst, size_t n);
TEST(kernels_dequant_rows_exact) {
    const mmx_type types[] = {MMX_TYPE_F16, MMX_TYPE_BF16, MMX_TYPE_Q8_0, MMX_TYPE_Q4_0,
                              MMX_TYPE_Q4_K, MMX_TYPE_Q5_K, MMX_TYPE_Q6_K};
    float x[1024], a[1024], b[1024];
    uint8_t q[4096];
    for (mmx_isa isa = MMX_ISA_AVX2; isa <= MMX_ISA_AVX512; isa++) {
        if (mmx_cpu_isa() < isa) {
            printf("    (skipped %s: not on this CPU)\n", mmx_isa_name(isa));
            continue;
        }
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
            /* float types also at a length off the vector width */
            const size_t n = types[t] == MMX_TYPE_F16 || types[t] == MMX_TYPE_BF16 ? 1021 : 1024;
            for (int i = 0; i < 1024; i++) x[i] = frand() * (float)(1 + i % 7);
            mmx_quantize_row(types[t], x, q, n);
            mmx_dequantize_row(types[t], q, a, n);
            memset(b, 0, sizeof b);
            if (isa == MMX_ISA_AVX512) mmx_dequant_row_avx512(types[t], q, b, n);
            else mmx_dequant_row_avx2(types[t], q, b, n);
            CHECKF(!memcmp(a, b, n * sizeof(float)), "%s %s: expansion differs from the reference", mmx_isa_name(isa),
                   mmx_type_name(types[t]));
        }
    }
}

TEST(kernels_act_switch) {
    /* unset: int8 activations for quantized weights, bf16 for BF16 weights (prefill), fp32 for the rest */
    CHECK(mmx_act_parse(NULL) == (1u << MMX_ACT_Q8 | 1u << MMX_ACT_BF16));
    CHECK(mmx_act_parse("default") == mmx_act_parse(NULL));
    CHECK(mmx_kernel_act(mmx_act_parse(NULL), MMX_TYPE_BF16) == MMX_ACT_BF16);
    CHECK(mmx_kernel_act(mmx_act_parse(NULL), MMX_TYPE_F16) == MMX_ACT_F32);
    CHECK(mmx_kernel_act(mmx_act_parse("f32"), MMX_TYPE_BF16) == MMX_ACT_F32);
    CHECK(mmx_act_parse("f32") == 0);
    CHECK(mmx_act_parse("bf16") == 1u << MMX_ACT_BF16);
    CHECK(mmx_act_parse("q8") == 1u << MMX_ACT_Q8);
    CHECK(mmx_act_parse("bf16,q8") == (1u << MMX_ACT_BF16 | 1u << MMX_ACT_Q8));
    CHECK(mmx_act_parse("fast") == (1u << MMX_ACT_BF16 | 1u << MMX_ACT_Q8));
    const unsigned fast = mmx_act_parse("fast");
    CHECK(mmx_kernel_act(fast, MMX_TYPE_BF16) == MMX_ACT_BF16);
    CHECK(mmx_kernel_act(fast, MMX_TYPE_Q4_K) == MMX_ACT_Q8);
    CHECK(mmx_kernel_act(fast, MMX_TYPE_F16) == MMX_ACT_F32);
    CHECK(mmx_kernel_act(fast, MMX_TYPE_F32) == MMX_ACT_F32);
    CHECK(mmx_kernel_act(mmx_act_parse("q8"), MMX_TYPE_BF16) == MMX_ACT_F32);
}

static void check_gates(mmx_gate_fn gate, const char *name);

/* The vector gates against libm: relative error per value.  Tolerance 1e-6 (about 8 float ulps): the
 * vector exp's polynomial truncation is < 2e-7 and the sigmoid / products add a few roundings; the
 * golden tests' 1e-4 on logits is far above what that can move.  Inputs cover the saturating ends,
 * exact zeros, subnormal-producing values and a NaN, which must stay NaN. */
TEST(kernels_gates_match_reference) {
    for (mmx_isa isa = MMX_ISA_AVX2; isa <= MMX_ISA_AVX512; isa++) {
        if (mmx_cpu_isa() < isa) printf("    (skipped %s: not on this CPU)\n", mmx_isa_name(isa));
        else check_gates(isa == MMX_ISA_AVX2 ? mmx_gate_avx2 : mmx_gate_avx512, mmx_isa_name(isa));
    }
}

static void check_gates(mmx_gate_fn gate, const char *name) {
    enum { N = 4099 };
    static float x[N], b[N], ref[N], got[N];
    for (int i = 0; i < N; i++) {
        x[i] = (float)(i - N / 2) * 0.05f; /* -102.45 .. 102.45 */
        b[i] = frand() * 20.0f;
    }
    x[7] = 0.0f, x[8] = -0.0f, x[9] = 200.0f, x[10] = -200.0f, x[11] = NAN;
    const mmx_gate kinds[] = {MMX_GATE_SILU, MMX_GATE_SWIGLU, MMX_GATE_SIGMOID};
    for (int k = 0; k < 3; k++) {
        memcpy(ref, x, sizeof x);
        memcpy(got, x, sizeof x);
        mmx_gate_ref(kinds[k], ref, b, N);
        gate(kinds[k], got, b, N);
        double worst = 0;
        for (int i = 0; i < N; i++) {
            if (isnan(ref[i])) {
                CHECKF(isnan(got[i]), "gate %d: x=%g gives %g, reference NaN", k, x[i], got[i]);
                continue;
            }
            const double e = fabs((double)got[i] - ref[i]) / fmax(fabs((double)ref[i]), 1e-30);
            if (e > worst) worst = e;
            CHECKF(e <= 1e-6 || fabs((double)got[i] - ref[i]) < 1e-37, "gate %d: x=%g b=%g: %.9g vs %.9g", k, x[i], b[i],
                   got[i], ref[i]);
        }
        printf("    %s gate %d worst relative error %.3g\n", name, k, worst);
    }
}

/* The vector RMSNorm against the reference, row widths around the 32- and 8-lane steps, and in place
 * (the lightning norm writes over its input).  Only the double sum's order differs, so each output may
 * move by the float rounding of the scale: tolerance 2 ulp relative (2.4e-7) per value. */
static void check_rmsnorm(mmx_rmsnorm_fn rmsnorm, const char *name);

TEST(kernels_rmsnorm_matches_reference) {
    for (mmx_isa isa = MMX_ISA_AVX2; isa <= MMX_ISA_AVX512; isa++) {
        if (mmx_cpu_isa() < isa) printf("    (skipped %s: not on this CPU)\n", mmx_isa_name(isa));
        else check_rmsnorm(isa == MMX_ISA_AVX2 ? mmx_rmsnorm_avx2 : mmx_rmsnorm_avx512, mmx_isa_name(isa));
    }
}

static void check_rmsnorm(mmx_rmsnorm_fn rmsnorm, const char *name) {
    static float x[1100], g[1100], ref[1100], got[1100];
    const size_t widths[] = {1, 7, 8, 9, 31, 32, 33, 64, 100, 1024, 1100};
    double worst = 0;
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        const size_t n = widths[w];
        for (size_t i = 0; i < n; i++) x[i] = frand() * 8.0f - 4.0f, g[i] = frand() * 2.0f;
        mmx_rmsnorm_ref(x, g, n, 1e-6, ref);
        rmsnorm(x, g, n, 1e-6, got);
        for (size_t i = 0; i < n; i++) {
            const double e = fabs((double)got[i] - ref[i]) / fmax(fabs((double)ref[i]), 1e-30);
            if (e > worst) worst = e;
            CHECKF(e <= 2.4e-7, "rmsnorm n=%zu i=%zu: %.9g vs %.9g", n, i, got[i], ref[i]);
        }
        memcpy(got, x, n * sizeof(float));
        rmsnorm(got, g, n, 1e-6, got);
        for (size_t i = 0; i < n; i++)
            CHECKF(fabs((double)got[i] - ref[i]) <= 2.4e-7 * fabs((double)ref[i]), "%s rmsnorm in place n=%zu i=%zu", name, n, i);
    }
    printf("    %s worst relative error %.3g\n", name, worst);
}

/* The grouped attention (AVX2 and AVX-512) against a float64 softmax attention: G heads sharing one KV head,
 * key counts around the 16-key groups and the 256-key chunks.  Tolerance 2e-5 absolute on outputs of
 * magnitude ~1 (fp32 sums over up to 600 keys, a polynomial exp accurate to ~2e-7). */
typedef bool (*attn_rows_fn)(const float *const *q, float *const *out, const size_t *n_keys, size_t G, const float *k,
                             const float *v, size_t ldkv, size_t d, float scale);
static void check_attention_rows(attn_rows_fn attn_rows, const char *name);

TEST(kernels_attention_rows_match_reference) {
    for (mmx_isa isa = MMX_ISA_AVX2; isa <= MMX_ISA_AVX512; isa++) {
        if (mmx_cpu_isa() < isa) printf("    (skipped %s: not on this CPU)\n", mmx_isa_name(isa));
        else check_attention_rows(isa == MMX_ISA_AVX2 ? mmx_attn_rows_avx2 : mmx_attn_rows_avx512, mmx_isa_name(isa));
    }
}

static void check_attention_rows(attn_rows_fn attn_rows, const char *name) {
    enum { MAXN = 600, MAXD = 128, LD = 2 * 128 };
    static float K[MAXN * LD], V[MAXN * LD], Q[32 * MAXD], O[32 * MAXD];
    static double p[MAXN];
    for (size_t i = 0; i < MAXN * LD; i++) K[i] = frand() * 2.0f, V[i] = frand();
    for (size_t i = 0; i < 32 * MAXD; i++) Q[i] = frand() * 2.0f;
    const size_t Gs[] = {1, 3, 4, 5, 8, 32}, ds[] = {16, 80, 128}, ns[] = {1, 15, 16, 17, 255, 256, 257, 600};
    double worst = 0;
    for (size_t gi = 0; gi < 6; gi++)
        for (size_t di = 0; di < 3; di++)
            for (size_t ni = 0; ni < 8; ni++) {
                const size_t G = Gs[gi], d = ds[di];
                const float scale = (float)(1.0 / sqrt((double)d));
                const float *qr[32];
                float *orow[32];
                size_t nk[32];
                for (size_t r = 0; r < G; r++) /* causal limits: rows r share the count in steps of 4 */
                    qr[r] = Q + r * d, orow[r] = O + r * d, nk[r] = ns[ni] > r / 4 ? ns[ni] - r / 4 : 1;
                REQUIRE(attn_rows(qr, orow, nk, G, K, V, LD, d, scale));
                for (size_t r = 0; r < G; r++) {
                    const size_t n = nk[r];
                    double mx = -INFINITY, sum = 0;
                    for (size_t s = 0; s < n; s++) {
                        double a = 0;
                        for (size_t c = 0; c < d; c++) a += (double)Q[r * d + c] * K[s * LD + c];
                        p[s] = a * scale;
                        if (p[s] > mx) mx = p[s];
                    }
                    for (size_t s = 0; s < n; s++) sum += p[s] = exp(p[s] - mx);
                    for (size_t c = 0; c < d; c++) {
                        double o = 0;
                        for (size_t s = 0; s < n; s++) o += p[s] * V[s * LD + c];
                        const double e = fabs(o / sum - O[r * d + c]);
                        if (e > worst) worst = e;
                        CHECKF(e < 2e-5, "%s G=%zu d=%zu n=%zu row %zu col %zu: %g vs %g", name, G, d, n, r, c, O[r * d + c],
                               o / sum);
                    }
                }
            }
    printf("    %s worst |error| %.3g\n", name, worst);
}

/* The bandwidth probe `mmx bench` uses must read every byte it is given: its sum equals the reference's
 * (exact: integer sums) over sizes with and without a tail shorter than the 256-byte main step. */
TEST(kernels_stream_sum_matches_reference) {
    const size_t n = 64 * 1000 + 64 * 3;
    uint64_t *buf = mmx_alloc_aligned(n);
    CHECK(buf != NULL);
    uint64_t x = 0x243f6a8885a308d3ull;
    for (size_t i = 0; i < n / 8; i++) x ^= x << 13, x ^= x >> 7, x ^= x << 17, buf[i] = x;
    const mmx_stream_sum_fn fast = mmx_kernel_stream_sum(false);
    for (size_t len = 0; len <= n; len += len < 1024 ? 64 : 64 * 97) CHECKF(fast(buf, len) == mmx_stream_sum_ref(buf, len), "len=%zu", len);
    CHECK(fast(buf, n) == mmx_stream_sum_ref(buf, n));
    mmx_free_aligned(buf);
}

/* Prefill products that share their activations run as one group (one packing, one pool pass over all
 * their panels, kernels/matmul.c gemm_group_run): each product's result is bit-identical to running
 * it alone, for each precision, with rows off the 32-row panels, and with the tokens in chunks. */
TEST(kernels_matmul_batch_group_matches_single) {
    const size_t cols = 512, T = 77, rows[3] = {70, 32, 131};
    /* the products of one group; mixed block types share one packed copy of the activations */
    const mmx_type types[][3] = {{MMX_TYPE_BF16, MMX_TYPE_BF16, MMX_TYPE_BF16},
                                 {MMX_TYPE_Q4_K, MMX_TYPE_Q4_K, MMX_TYPE_Q4_K},
                                 {MMX_TYPE_F32, MMX_TYPE_F32, MMX_TYPE_F32},
                                 {MMX_TYPE_Q8_0, MMX_TYPE_Q4_K, MMX_TYPE_Q4_0},
                                 {MMX_TYPE_Q4_0, MMX_TYPE_Q5_K, MMX_TYPE_Q8_0},
                                 {MMX_TYPE_Q5_K, MMX_TYPE_Q4_K, MMX_TYPE_Q4_K}};
    const char *acts[] = {"default", "f32"};
    for (int chunked = 0; chunked < 2; chunked++) {
        harness h;
        REQUIRE(harness_init(&h, cols, T, chunked ? mmx_kernel_scratch_floats(cols, 24) : 0));
        for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++)
            for (size_t ai = 0; ai < 2; ai++) {
                h.ex.act_mask = mmx_act_parse(acts[ai]);
                float *X = malloc(T * cols * sizeof(float)), *wf = malloc(131 * cols * sizeof(float));
                REQUIRE(X && wf);
                for (size_t i = 0; i < T * cols; i++) X[i] = frand();
                mmx_matrix W[3];
                uint8_t *wq[3];
                float *Yg[3], *Ys[3];
                mmx_matmul_args args[3];
                for (int k = 0; k < 3; k++) {
                    const mmx_type type = types[ti][k];
                    const size_t rb = mmx_type_row_bytes(type, cols);
                    wq[k] = malloc(rows[k] * rb);
                    Yg[k] = malloc(T * rows[k] * sizeof(float));
                    Ys[k] = malloc(T * rows[k] * sizeof(float));
                    REQUIRE(wq[k] && Yg[k] && Ys[k]);
                    for (size_t i = 0; i < rows[k] * cols; i++) wf[i] = frand();
                    for (size_t r = 0; r < rows[k]; r++) mmx_quantize_row(type, wf + r * cols, wq[k] + r * rb, cols);
                    W[k] = (mmx_matrix){type, rows[k], cols, rb, wq[k], false};
                    args[k] = (mmx_matmul_args){&W[k], X, T, cols, Yg[k], rows[k]};
                    mmx_op_matmul(&h.ex, &W[k], X, T, cols, Ys[k], rows[k]);
                }
                mmx_op_matmul_batch(&h.ex, args, 3);
                for (int k = 0; k < 3; k++) {
                    CHECKF(!memcmp(Yg[k], Ys[k], T * rows[k] * sizeof(float)), "%s %s product %d%s: grouped differs",
                           mmx_type_name(types[ti][k]), acts[ai], k, chunked ? " (chunked)" : "");
                    free(wq[k]), free(Yg[k]), free(Ys[k]);
                }
                free(X), free(wf);
            }
        harness_free(&h);
    }
}
