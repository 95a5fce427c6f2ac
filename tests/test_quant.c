/*
 * Block formats against ggml: our dequantisation of ggml's bytes reproduces ggml's floats bit for
 * bit (tests/data/quant, see its README); our quantisers match ggml's error; round-trip bounds.
 */
#include "quant.h"
#include "test.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int n;
    float *x, *deq;
    uint8_t *q;
    size_t qbytes;
} qvec;

static bool load_vec(const char *name, mmx_type t, qvec *v) {
    char path[256];
    snprintf(path, sizeof path, "tests/data/quant/%s.bin", name);
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    bool ok = fread(&v->n, 4, 1, f) == 1 && v->n > 0 && v->n % 256 == 0;
    if (ok) {
        v->qbytes = mmx_type_row_bytes(t, (size_t)v->n);
        v->x = malloc((size_t)v->n * 4), v->deq = malloc((size_t)v->n * 4), v->q = malloc(v->qbytes);
        ok = fread(v->x, 4, (size_t)v->n, f) == (size_t)v->n && fread(v->q, 1, v->qbytes, f) == v->qbytes &&
             fread(v->deq, 4, (size_t)v->n, f) == (size_t)v->n;
    }
    fclose(f);
    return ok;
}

static double rmse(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(s / (double)n);
}

static const struct {
    const char *name;
    mmx_type type;
} types[] = {{"q8_0", MMX_TYPE_Q8_0}, {"q4_0", MMX_TYPE_Q4_0}, {"q4_K", MMX_TYPE_Q4_K}, {"q5_K", MMX_TYPE_Q5_K},
             {"q6_K", MMX_TYPE_Q6_K}};

TEST(quant_dequantize_bit_exact_with_ggml) {
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        qvec v;
        REQUIRE(load_vec(types[t].name, types[t].type, &v));
        float *y = malloc((size_t)v.n * 4);
        mmx_dequantize_row(types[t].type, v.q, y, (size_t)v.n);
        CHECKF(!memcmp(y, v.deq, (size_t)v.n * 4), "%s: dequantisation differs from ggml", types[t].name);
        free(y), free(v.x), free(v.q), free(v.deq);
    }
}

/* Our quantisers against ggml's on the same inputs: error within 2% of ggml's (the algorithms are
 * the same reference searches, so most blocks come out byte-identical). */
#define QUANT_RMSE_RATIO_TOL 1.02
TEST(quant_quantizers_match_ggml_quality) {
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        qvec v;
        REQUIRE(load_vec(types[t].name, types[t].type, &v));
        uint8_t *q = malloc(v.qbytes);
        float *y = malloc((size_t)v.n * 4);
        mmx_quantize_row(types[t].type, v.x, q, (size_t)v.n);
        mmx_dequantize_row(types[t].type, q, y, (size_t)v.n);
        const size_t be = mmx_type_block_elems(types[t].type), bb = mmx_type_block_bytes(types[t].type);
        size_t same = 0, blocks = (size_t)v.n / be;
        for (size_t b = 0; b < blocks; b++) same += !memcmp(q + b * bb, v.q + b * bb, bb);
        double ours = rmse(y, v.x, (size_t)v.n), theirs = rmse(v.deq, v.x, (size_t)v.n);
        printf("    %-5s rmse ours %.6g ggml %.6g, %zu / %zu blocks byte-identical\n", types[t].name, ours, theirs, same,
               blocks);
        CHECKF(ours <= theirs * QUANT_RMSE_RATIO_TOL, "%s: rmse %.6g vs ggml %.6g", types[t].name, ours, theirs);
        free(q), free(y), free(v.x), free(v.q), free(v.deq);
    }
}

/* Q8_0 round trip: every value within half a quantisation step of its block (d/2), plus f16 rounding of d. */
TEST(quant_q8_0_error_bound) {
    float x[256], y[256];
    uint8_t q[8 * 34];
    for (int i = 0; i < 256; i++) x[i] = sinf((float)i * 0.37f) * (float)(1 + i / 32);
    mmx_quantize_row(MMX_TYPE_Q8_0, x, q, 256);
    mmx_dequantize_row(MMX_TYPE_Q8_0, q, y, 256);
    for (int b = 0; b < 8; b++) {
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(x[32 * b + i]));
        const float d = amax / 127;
        for (int i = 0; i < 32; i++)
            CHECKF(fabsf(y[32 * b + i] - x[32 * b + i]) <= 0.5f * d + amax * 1e-3f, "block %d elem %d", b, i);
    }
}

TEST(quant_float_types_roundtrip) {
    float x[4] = {1.0f, -2.5f, 3.140625f, 0.0f}, y[4];
    uint8_t buf[16];
    mmx_quantize_row(MMX_TYPE_BF16, x, buf, 4);
    mmx_dequantize_row(MMX_TYPE_BF16, buf, y, 4);
    CHECK(!memcmp(x, y, sizeof x));
    mmx_quantize_row(MMX_TYPE_F16, x, buf, 4);
    mmx_dequantize_row(MMX_TYPE_F16, buf, y, 4);
    CHECK(!memcmp(x, y, sizeof x));
}
