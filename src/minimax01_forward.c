/*
 * minimax01_forward.c — the MiniMax-01 forward pass (SPEC §3–§5) over one step of T tokens.
 * Shapes in comments: H hidden, nH heads, d head_dim, D = nH*d, E experts, k used, I FFN width.
 */
#include "kernels/kernels.h"
#include "seq.h"
#include "util.h"

#include <math.h>

/* ---- decay rates (SPEC §4.2) ----------------------------------------------------------------- */

/* ALiBi-style slopes of [ORIG] _build_slope_tensor: start^(i+1) for a power of two n, otherwise
 * the slopes of the nearest lower power of two followed by every other slope of twice that. */
static void alibi_slopes(size_t n, double *out) {
    double lg = log2((double)n);
    if (lg == floor(lg)) {
        double start = pow(2.0, -pow(2.0, -(lg - 3.0)));
        double v = start;
        for (size_t i = 0; i < n; i++, v *= start) out[i] = v;
        return;
    }
    size_t p = (size_t)1 << (size_t)floor(lg);
    alibi_slopes(p, out);
    double tmp[2 * 16384];
    MMX_ASSERT(2 * p <= sizeof tmp / sizeof tmp[0]);
    alibi_slopes(2 * p, tmp);
    for (size_t i = 0; i < n - p; i++) out[p + i] = tmp[2 * i];
}

void mmx_minimax01_slopes(const mmx_config *c, double *slopes) {
    const size_t L = c->n_layers, nH = c->n_heads;
    double base[16384];
    MMX_ASSERT(nH <= 16384);
    alibi_slopes(nH, base);
    for (size_t l = 0; l < L; l++) {
        /* l is the GLOBAL layer index over all layers, lightning or not */
        double factor = L <= 1 ? 1.0 + 1e-5 : 1.0 - (double)l / (double)(L - 1) + 1e-5;
        for (size_t h = 0; h < nH; h++) slopes[l * nH + h] = base[h] * factor;
    }
}

/* ---- helpers ------------------------------------------------------------------------------- */

static inline float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

/* h = alpha * r + beta * f, for T rows of n values (SPEC §3) */
static void residual(float *h, const float *r, const float *f, size_t T, size_t n, double alpha, double beta) {
    const float a = (float)alpha, b = (float)beta;
    for (size_t i = 0; i < T * n; i++) h[i] = a * r[i] + b * f[i];
}

/* ---- lightning attention layer (SPEC §4) ------------------------------------------------------ */

static void lightning_layer(mmx_seq *s, size_t l, size_t T) {
    const mmx_model *m = s->model;
    const mmx_config *c = &m->config;
    const mmx_layer_weights *w = &m->weights.layers[l];
    mmx_workspace *ws = &s->ws;
    const size_t H = c->n_embd, nH = c->n_heads, d = c->head_dim, D = nH * d;
    /* z = SiLU(W_qkv u): [T, 3D], per-head interleaved q|k|v (SPEC §4.1); the gate's W_gate u (§4.5)
     * in the same pass */
    const mmx_matmul_args in_proj[2] = {{&w->qkv, ws->u, T, H, ws->big, 3 * D}, {&w->gate, ws->u, T, H, ws->g, D}};
    mmx_op_matmul_batch(&s->exec, in_proj, 2);
    mmx_op_unary(&s->exec, MMX_UNARY_SILU, ws->big, NULL, T * 3 * D);
    float *state = s->lstate + s->slot[l] * nH * d * d;
    size_t block = T == 1 ? 1 : m->params.lightning_block;
    mmx_op_lightning(&s->exec, ws->big, 3 * D, T, nH, d, s->slopes + l * nH, state, block, ws->y, D);
    /* y = RMSNorm over all D values (eps 1e-6), gated by sigmoid(W_gate u) (SPEC §4.5) */
    mmx_op_rmsnorm(&s->exec, ws->y, D, w->la_norm, D, T, c->lightning_norm_eps, ws->y, D);
    mmx_op_unary(&s->exec, MMX_UNARY_SIGMOID_GATE, ws->y, ws->g, T * D);
    mmx_op_matmul(&s->exec, &w->out, ws->y, T, D, ws->a, H);
}

/* ---- softmax attention layer (SPEC §5.1) -------------------------------------------------------- */

static void softmax_layer(mmx_seq *s, size_t l, size_t T) {
    const mmx_model *m = s->model;
    const mmx_config *c = &m->config;
    const mmx_layer_weights *w = &m->weights.layers[l];
    mmx_workspace *ws = &s->ws;
    const size_t H = c->n_embd, nH = c->n_heads, nKV = c->n_kv_heads, d = c->head_dim;
    const size_t D = nH * d, Dkv = nKV * d;
    float *kc = s->kcache + s->slot[l] * s->n_ctx * Dkv;
    float *vc = s->vcache + s->slot[l] * s->n_ctx * Dkv;
    float *q = ws->big; /* [T, D] */
    /* k and v go straight into the cache rows of positions n_past .. n_past+T-1 */
    const mmx_matmul_args in_proj[3] = {{&w->wq, ws->u, T, H, q, D},
                                        {&w->wk, ws->u, T, H, kc + s->n_past * Dkv, Dkv},
                                        {&w->wv, ws->u, T, H, vc + s->n_past * Dkv, Dkv}};
    mmx_op_matmul_batch(&s->exec, in_proj, 3);
    mmx_op_rope(q, D, T, s->n_past, nH, d, c->rotary_dim, c->rope_theta);
    mmx_op_rope(kc + s->n_past * Dkv, Dkv, T, s->n_past, nKV, d, c->rotary_dim, c->rope_theta);
    mmx_op_attention(&s->exec, q, D, T, s->n_past, kc, vc, nH, nKV, d, ws->y, D);
    mmx_op_matmul(&s->exec, &w->wo, ws->y, T, D, ws->a, H);
}

/* ---- MoE (SPEC §5.2, §5.3) -------------------------------------------------------------------- */

/* out[T, H] = MoE(v) for the normed input v = ws->u. Tokens are grouped by expert so each expert's
 * weights are read once per step. */
typedef struct {
    mmx_workspace *ws;
    const float *v; /* [T, H] the normed input */
    float *out;     /* [T, H] */
    size_t H, k, n; /* n: slots (gather) or tokens (combine) */
} moe_rows_job;

/* xe[slot] = v[token of slot], slots split over the threads */
static void moe_gather_worker(void *arg, int ith, int nth) {
    const moe_rows_job *j = arg;
    size_t i0, i1;
    mmx_split_range(j->n, ith, nth, &i0, &i1);
    for (size_t i = i0; i < i1; i++)
        memcpy(j->ws->xe + i * j->H, j->v + (size_t)j->ws->e_tok[i] * j->H, j->H * sizeof(float));
}

/* out[t] = sum of w * oe[slot] over the token's choices, experts ascending (the order of additions of
 * a zeroed output that each expert adds into in turn), tokens split over the threads */
static void moe_combine_worker(void *arg, int ith, int nth) {
    const moe_rows_job *j = arg;
    const mmx_workspace *ws = j->ws;
    const size_t H = j->H, k = j->k;
    size_t t0, t1;
    mmx_split_range(j->n, ith, nth, &t0, &t1);
    for (size_t t = t0; t < t1; t++) {
        float *o = j->out + t * H;
        for (size_t x = 0; x < H; x++) o[x] = 0;
        int32_t done = -1; /* choices taken in ascending expert order: the next above `done` */
        for (size_t q = 0; q < k; q++) {
            size_t jb = k;
            for (size_t c = 0; c < k; c++)
                if (ws->top_e[t * k + c] > done && (jb == k || ws->top_e[t * k + c] < ws->top_e[t * k + jb])) jb = c;
            done = ws->top_e[t * k + jb];
            const float *src = ws->oe + (size_t)ws->e_slot[t * k + jb] * H, wt = ws->top_w[t * k + jb];
            for (size_t x = 0; x < H; x++) o[x] += wt * src[x];
        }
    }
}

static void moe_layer(mmx_seq *s, size_t l, size_t T, float *out) {
    const mmx_model *m = s->model;
    const mmx_config *c = &m->config;
    const mmx_layer_weights *w = &m->weights.layers[l];
    mmx_workspace *ws = &s->ws;
    const size_t H = c->n_embd, E = c->n_experts, k = c->n_experts_used, I = c->n_ff;
    const float *v = ws->u;

    /* router: p = softmax(W_router v) in fp32, top-k by probability (ties: lower index), renormalised */
    mmx_op_matmul(&s->exec, &w->router, v, T, H, ws->router, E);
    for (size_t t = 0; t < T; t++) {
        float *p = ws->router + t * E;
        float mx = -INFINITY;
        for (size_t e = 0; e < E; e++) mx = p[e] > mx ? p[e] : mx;
        double sum = 0;
        for (size_t e = 0; e < E; e++) {
            p[e] = expf(p[e] - mx);
            sum += p[e];
        }
        for (size_t e = 0; e < E; e++) p[e] = (float)(p[e] / sum);
        int32_t *te = ws->top_e + t * k;
        float *tw = ws->top_w + t * k;
        double wsum = 0;
        for (size_t j = 0; j < k; j++) {
            int32_t best = -1;
            for (size_t e = 0; e < E; e++) {
                bool taken = false;
                for (size_t q = 0; q < j; q++) taken |= te[q] == (int32_t)e;
                if (!taken && (best < 0 || p[e] > p[best])) best = (int32_t)e;
            }
            te[j] = best;
            tw[j] = p[best];
            wsum += p[best];
        }
        for (size_t j = 0; j < k; j++) tw[j] = (float)(tw[j] / wsum);
    }
    if (T * k <= 8 && T * k <= s->n_batch) {
        /* decode: the (token, choice) pairs as slots in that order in xe/h1/h3/oe, each pair's
         * gate and up products in one pool pass, the down products in a second */
        mmx_matmul_args up[16], down[8];
        size_t np = 0;
        for (size_t t = 0; t < T; t++)
            for (size_t j = 0; j < k; j++, np++) {
                const size_t e = (size_t)ws->top_e[t * k + j];
                ws->e_slot[t * k + j] = (int32_t)np;
                memcpy(ws->xe + np * H, v + t * H, H * sizeof(float));
                up[2 * np] = (mmx_matmul_args){&w->w1[e], ws->xe + np * H, 1, H, ws->h1 + np * I, I};
                up[2 * np + 1] = (mmx_matmul_args){&w->w3[e], ws->xe + np * H, 1, H, ws->h3 + np * I, I};
                down[np] = (mmx_matmul_args){&w->w2[e], ws->h1 + np * I, 1, I, ws->oe + np * H, H};
            }
        mmx_op_matmul_batch(&s->exec, up, 2 * np);
        mmx_op_unary(&s->exec, MMX_UNARY_SWIGLU, ws->h1, ws->h3, np * I);
        mmx_op_matmul_batch(&s->exec, down, np);
        /* the same combination as prefill's, on this thread (a few tokens) */
        moe_rows_job combine = {ws, v, out, H, k, T};
        moe_combine_worker(&combine, 0, 1);
    } else {
        /* prefill: (token, choice) pairs as slots grouped by expert, experts ascending; every slot's
         * input gathered in one pool pass, each expert's products on its run of slots, then one pass
         * combines each token's outputs.  (Gathering, zeroing and scatter-adding on the calling
         * thread, with the other threads idle, was ~4% of a BF16 prefill.) */
        size_t n_slots = 0;
        for (size_t e = 0; e < E; e++) {
            ws->e_first[e] = n_slots;
            for (size_t t = 0; t < T; t++)
                for (size_t j = 0; j < k; j++)
                    if (ws->top_e[t * k + j] == (int32_t)e) {
                        ws->e_tok[n_slots] = (int32_t)t;
                        ws->e_slot[t * k + j] = (int32_t)n_slots;
                        n_slots++;
                    }
        }
        ws->e_first[E] = n_slots;
        moe_rows_job gather = {ws, v, out, H, k, n_slots};
        mmx_pool_run(s->exec.pool, moe_gather_worker, &gather);
        for (size_t e = 0; e < E; e++) {
            const size_t n = ws->e_first[e + 1] - ws->e_first[e];
            if (n == 0) continue;
            float *xe = ws->xe + ws->e_first[e] * H, *oe = ws->oe + ws->e_first[e] * H;
            const mmx_matmul_args gate_up[2] = {{&w->w1[e], xe, n, H, ws->h1, I}, {&w->w3[e], xe, n, H, ws->h3, I}};
            mmx_op_matmul_batch(&s->exec, gate_up, 2); /* one packing of xe, one pool pass */
            mmx_op_unary(&s->exec, MMX_UNARY_SWIGLU, ws->h1, ws->h3, n * I);
            mmx_op_matmul(&s->exec, &w->w2[e], ws->h1, n, I, oe, H);
        }
        moe_rows_job combine = {ws, v, out, H, k, T};
        mmx_pool_run(s->exec.pool, moe_combine_worker, &combine);
    }

    if (c->n_ff_shared) {
        /* m = MoE(v) (1 - c) + SwiGLU_shared(v) c,  c = sigmoid(coefficient . v) (SPEC §5.3) */
        const size_t Is = c->n_ff_shared;
        mmx_op_matmul(&s->exec, &w->sh_coef, v, T, H, ws->coef, 1);
        mmx_op_matmul(&s->exec, &w->sh_gate, v, T, H, ws->h1, Is);
        mmx_op_matmul(&s->exec, &w->sh_up, v, T, H, ws->h3, Is);
        mmx_op_unary(&s->exec, MMX_UNARY_SWIGLU, ws->h1, ws->h3, T * Is);
        mmx_op_matmul(&s->exec, &w->sh_down, ws->h1, T, Is, ws->oe, H);
        for (size_t t = 0; t < T; t++) {
            const float cf = sigmoid(ws->coef[t]);
            for (size_t x = 0; x < H; x++) out[t * H + x] = out[t * H + x] * (1 - cf) + ws->oe[t * H + x] * cf;
        }
    }
}

/* ---- the model (SPEC §3) ------------------------------------------------------------------------ */

void mmx_minimax01_forward(mmx_seq *s, const int32_t *tokens, size_t T, mmx_logits_mode mode, float *logits) {
    const mmx_model *m = s->model;
    const mmx_config *c = &m->config;
    mmx_workspace *ws = &s->ws;
    const size_t H = c->n_embd;
    MMX_ASSERT(T >= 1 && T <= s->n_batch && s->n_past + T <= s->n_ctx);

    for (size_t t = 0; t < T; t++) mmx_matrix_row_f32(&m->weights.embed, (size_t)tokens[t], ws->x + t * H);

    for (size_t l = 0; l < c->n_layers; l++) {
        const mmx_layer_weights *w = &m->weights.layers[l];
        const bool soft = c->is_softmax[l];
        /* u = RMSNorm(h); h = alpha_A r + beta_A Attn(u), r = u (postnorm) or h */
        mmx_op_rmsnorm(&s->exec, ws->x, H, w->attn_norm, H, T, c->rms_eps, ws->u, H);
        if (soft)
            softmax_layer(s, l, T);
        else
            lightning_layer(s, l, T);
        residual(ws->x, c->postnorm ? ws->u : ws->x, ws->a, T, H, soft ? c->alpha_full : c->alpha_linear,
                 soft ? c->beta_full : c->beta_linear);
        /* v = RMSNorm(h); h = alpha_M r + beta_M MoE(v) */
        mmx_op_rmsnorm(&s->exec, ws->x, H, w->ffn_norm, H, T, c->rms_eps, ws->u, H);
        moe_layer(s, l, T, ws->a);
        residual(ws->x, c->postnorm ? ws->u : ws->x, ws->a, T, H, c->alpha_mlp, c->beta_mlp);
    }
    s->n_past += T;
    if (mode == MMX_LOGITS_NONE || !logits) return;
    size_t first = mode == MMX_LOGITS_LAST ? T - 1 : 0, n = T - first;
    mmx_op_rmsnorm(&s->exec, ws->x + first * H, H, m->weights.final_norm, H, n, c->rms_eps, ws->u, H);
    mmx_op_matmul(&s->exec, &m->weights.lm_head, ws->u, n, H, logits, c->n_vocab);
}
