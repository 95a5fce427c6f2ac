/*
 * ops.c — scalar reference implementations of the forward-pass operations, parallelised over the
 * pool by rows / heads.  The formulas cite SPEC sections.
 */
#include "ops.h"
#include "kernels/kernels.h"
#include "kernels/lightning.h"
#include "util.h"

#include <math.h>

/* ---- matmul --------------------------------------------------------------------------------- */

void mmx_matrix_row_f32(const mmx_matrix *W, size_t r, float *out) {
    MMX_ASSERT(r < W->rows);
    mmx_dequant_row(W->type, (const uint8_t *)W->data + r * W->row_bytes, out, W->cols);
}

typedef struct {
    mmx_exec *ex;
    const mmx_matrix *W;
    const float *X;
    size_t T, ldx;
    float *Y;
    size_t ldy;
} matmul_job;

static void matmul_worker(void *arg, int ith, int nth) {
    matmul_job *j = arg;
    const mmx_matrix *W = j->W;
    size_t r0, r1;
    mmx_split_range(W->rows, ith, nth, &r0, &r1);
    mmx_dot_fn dot = mmx_kernel_dot(j->ex->reference);
    float *row = j->ex->thread_scratch[ith];
    for (size_t r = r0; r < r1; r++) {
        const float *w;
        if (W->type == MMX_TYPE_F32) {
            w = (const float *)((const uint8_t *)W->data + r * W->row_bytes);
        } else {
            mmx_matrix_row_f32(W, r, row);
            w = row;
        }
        for (size_t t = 0; t < j->T; t++) j->Y[t * j->ldy + r] = dot(w, j->X + t * j->ldx, W->cols);
    }
}

void mmx_op_matmul(mmx_exec *ex, const mmx_matrix *W, const float *X, size_t T, size_t ldx, float *Y, size_t ldy) {
    MMX_ASSERT(ex->scratch_floats >= W->cols);
    if (T == 0) return;
    if (!ex->reference && mmx_kernel_matmul(ex, W, X, T, ldx, Y, ldy)) return;
    matmul_job j = {ex, W, X, T, ldx, Y, ldy};
    mmx_pool_run(ex->pool, matmul_worker, &j);
}

void mmx_op_matmul_batch(mmx_exec *ex, const mmx_matmul_args *args, size_t n) {
    if (!ex->reference && mmx_kernel_matmul_batch(ex, args, n)) return;
    for (size_t i = 0; i < n; i++) mmx_op_matmul(ex, args[i].W, args[i].X, args[i].T, args[i].ldx, args[i].Y, args[i].ldy);
}

/* ---- RMSNorm (SPEC §3) ------------------------------------------------------------------------ */

typedef struct {
    const float *x;
    size_t ldx;
    const float *g;
    size_t n, T;
    double eps;
    float *out;
    size_t ldo;
    mmx_rmsnorm_fn fn;
} rmsnorm_job;

static void rmsnorm_worker(void *arg, int ith, int nth) {
    rmsnorm_job *j = arg;
    size_t t0, t1;
    mmx_split_range(j->T, ith, nth, &t0, &t1);
    for (size_t t = t0; t < t1; t++) j->fn(j->x + t * j->ldx, j->g, j->n, j->eps, j->out + t * j->ldo);
}

void mmx_op_rmsnorm(mmx_exec *ex, const float *x, size_t ldx, const float *g, size_t n, size_t T, double eps,
                    float *out, size_t ldo) {
    rmsnorm_job j = {x, ldx, g, n, T, eps, out, ldo, mmx_kernel_rmsnorm(ex->reference)};
    if (T == 1) rmsnorm_worker(&j, 0, 1); /* one row: not worth waking the pool */
    else mmx_pool_run(ex->pool, rmsnorm_worker, &j);
}

/* ---- elementwise activations, split over the pool ----------------------------------------------- */

typedef struct {
    mmx_unary kind;
    mmx_gate_fn fn;
    float *a;
    const float *b;
    size_t n;
} unary_job;

static void unary_worker(void *arg, int ith, int nth) {
    unary_job *j = arg;
    size_t i0, i1;
    mmx_split_range(j->n, ith, nth, &i0, &i1);
    const mmx_gate g = j->kind == MMX_UNARY_SILU ? MMX_GATE_SILU : j->kind == MMX_UNARY_SWIGLU ? MMX_GATE_SWIGLU : MMX_GATE_SIGMOID;
    j->fn(g, j->a + i0, j->b ? j->b + i0 : NULL, i1 - i0);
}

void mmx_op_unary(mmx_exec *ex, mmx_unary kind, float *a, const float *b, size_t n) {
    unary_job j = {kind, mmx_kernel_gate(ex->reference), a, b, n};
    if (n < 4096) unary_worker(&j, 0, 1);
    else mmx_pool_run(ex->pool, unary_worker, &j);
}

/* ---- lightning attention (SPEC §4.3, §4.4) ------------------------------------------------------ */

typedef struct {
    mmx_exec *ex;
    const float *qkv;
    size_t ld_qkv, T, n_heads, d;
    const double *slopes;
    float *state;
    size_t block;
    float *out;
    size_t ld_out;
} lightning_job;

/* One head over T tokens: blocks of B tokens (SPEC §4.4), or the recurrence for one token. */
static void lightning_head(const lightning_job *j, size_t h, float *scratch) {
    const size_t d = j->d, B = j->block, T = j->T;
    const double s = j->slopes[h];
    float *S = j->state + h * d * d;
    const float *qkv = j->qkv + h * 3 * d;
    float *out = j->out + h * d;
    if (T == 1) {
        mmx_la_decode(j->ex->reference, qkv, d, (float)exp(-s), S, out);
        return;
    }
    float *decay = scratch;          /* decay[n] = exp(-s n), n = 0..B */
    float *scores = scratch + B + 1; /* [B, B] */
    for (size_t n = 0; n <= B; n++) decay[n] = (float)exp(-s * (double)n);
    for (size_t b0 = 0; b0 < T; b0 += B) {
        const size_t m = T - b0 < B ? T - b0 : B;
        mmx_la_block(j->ex->reference, qkv + b0 * j->ld_qkv, j->ld_qkv, m, d, decay, S, out + b0 * j->ld_out,
                     j->ld_out, scores);
    }
}

static void lightning_worker(void *arg, int ith, int nth) {
    lightning_job *j = arg;
    size_t h0, h1;
    mmx_split_range(j->n_heads, ith, nth, &h0, &h1);
    for (size_t h = h0; h < h1; h++) {
        lightning_head(j, h, j->ex->thread_scratch[ith]);
    }
}

void mmx_op_lightning(mmx_exec *ex, const float *qkv, size_t ld_qkv, size_t T, size_t n_heads, size_t d,
                      const double *slopes, float *state, size_t block, float *out, size_t ld_out) {
    MMX_ASSERT(block >= 1);
    MMX_ASSERT(ex->scratch_floats >= block * block + 2 * (block + 1));
    lightning_job j = {ex, qkv, ld_qkv, T, n_heads, d, slopes, state, block, out, ld_out};
    mmx_pool_run(ex->pool, lightning_worker, &j);
}

/* ---- softmax attention (SPEC §5.1) ---------------------------------------------------------------- */

typedef struct {
    mmx_exec *ex;
    const float *q;
    size_t ldq, T, pos0;
    const float *kc, *vc;
    size_t n_heads, n_kv, d;
    float *out;
    size_t ldo;
} attn_job;

static void attention_worker(void *arg, int ith, int nth) {
    attn_job *j = arg;
    const size_t d = j->d, ldkv = j->n_kv * d, group = j->n_heads / j->n_kv;
    const float scale = (float)(1.0 / sqrt((double)d));
    const mmx_dot_fn dot = mmx_kernel_dot(j->ex->reference);
    const mmx_axpy_fn axpy = mmx_kernel_axpy(j->ex->reference);
    float *scores = j->ex->thread_scratch[ith];
    const bool avx512 = mmx_cpu_isa() >= MMX_ISA_AVX512 && d % 16 == 0;
    const bool avx2 = !avx512 && mmx_cpu_isa() >= MMX_ISA_AVX2 && d % 8 == 0;
    if (!j->ex->reference && (avx512 || avx2) && group <= 32 && d <= 256) {
        bool (*const attn_rows)(const float *const *, float *const *, const size_t *, size_t, const float *,
                                const float *, size_t, size_t, float) = avx512 ? mmx_attn_rows_avx512 : mmx_attn_rows_avx2;
        /* work items are (block of TB positions, KV head): all TB x group query rows share each K/V
         * load, which is what bounds this loop at long contexts (K and V stream from L3 / memory) */
        const size_t TB = 32 / group, n_blocks = (j->T + TB - 1) / TB;
        const float *qr[32];
        float *orow[32];
        size_t nk[32];
        for (size_t w = (size_t)ith; w < n_blocks * j->n_kv; w += (size_t)nth) {
            const size_t t0 = w / j->n_kv * TB, g = w % j->n_kv, nt = j->T - t0 < TB ? j->T - t0 : TB;
            size_t R = 0;
            for (size_t t = t0; t < t0 + nt; t++)
                for (size_t h = g * group; h < (g + 1) * group; h++, R++) {
                    qr[R] = j->q + t * j->ldq + h * d;
                    orow[R] = j->out + t * j->ldo + h * d;
                    nk[R] = j->pos0 + t + 1;
                }
            const bool ok = attn_rows(qr, orow, nk, R, j->kc + g * d, j->vc + g * d, ldkv, d, scale);
            MMX_ASSERT(ok);
        }
        return;
    }
    /* work items are (token, head); later tokens see more keys, so interleave them across threads */
    for (size_t w = (size_t)ith; w < j->T * j->n_heads; w += (size_t)nth) {
        const size_t t = w / j->n_heads, h = w % j->n_heads, g = h / group;
        const size_t n_keys = j->pos0 + t + 1; /* causal: positions 0..pos0+t */
        const float *q = j->q + t * j->ldq + h * d;
        float mx = -INFINITY;
        for (size_t s = 0; s < n_keys; s++) {
            scores[s] = dot(q, j->kc + s * ldkv + g * d, d) * scale;
            if (scores[s] > mx) mx = scores[s];
        }
        double sum = 0;
        for (size_t s = 0; s < n_keys; s++) {
            scores[s] = expf(scores[s] - mx);
            sum += scores[s];
        }
        const float inv = (float)(1.0 / sum);
        float *o = j->out + t * j->ldo + h * d;
        for (size_t c = 0; c < d; c++) o[c] = 0;
        for (size_t s = 0; s < n_keys; s++) axpy(scores[s] * inv, j->vc + s * ldkv + g * d, o, d);
    }
}

void mmx_op_attention(mmx_exec *ex, const float *q, size_t ldq, size_t T, size_t pos0, const float *kcache,
                      const float *vcache, size_t n_heads, size_t n_kv_heads, size_t d, float *out, size_t ldo) {
    MMX_ASSERT(ex->scratch_floats >= pos0 + T);
    attn_job j = {ex, q, ldq, T, pos0, kcache, vcache, n_heads, n_kv_heads, d, out, ldo};
    mmx_pool_run(ex->pool, attention_worker, &j);
}

/* ---- RoPE (SPEC §5.1) --------------------------------------------------------------------------- */

void mmx_op_rope(float *x, size_t ldx, size_t T, size_t pos0, size_t n_heads, size_t d, size_t rotary_dim,
                 double base) {
    const size_t half = rotary_dim / 2;
    for (size_t t = 0; t < T; t++) {
        const double p = (double)(pos0 + t);
        for (size_t i = 0; i < half; i++) {
            /* angle in double: positions reach millions, where float angles lose all precision */
            const double theta = pow(base, -2.0 * (double)i / (double)rotary_dim);
            const double a = p * theta;
            const float cs = (float)cos(a), sn = (float)sin(a);
            for (size_t h = 0; h < n_heads; h++) {
                float *v = x + t * ldx + h * d;
                const float x0 = v[i], x1 = v[i + half];
                v[i] = x0 * cs - x1 * sn;
                v[i + half] = x1 * cs + x0 * sn;
            }
        }
    }
}
