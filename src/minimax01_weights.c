/*
 * minimax01_weights.c — declares the tensors of a MiniMax-01 model (SPEC §2.1 HF names, §2.2 GGUF
 * names), checks each for presence, type and shape before any compute, and binds views into the
 * mapped files.  Small vectors (norm weights) are converted to fp32 copies owned by the model.
 */
#include "model.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    mmx_model *m;
    bool gguf;
    mmx_error *err;
    void **owned;
    size_t n_owned, cap_owned;
} binder;

static void *own(binder *b, size_t n_bytes) {
    if (b->n_owned == b->cap_owned) {
        size_t cap = b->cap_owned ? 2 * b->cap_owned : 64;
        void **no = realloc(b->owned, cap * sizeof *no);
        if (!no) return NULL;
        b->owned = no;
        b->cap_owned = cap;
    }
    void *p = calloc(1, n_bytes ? n_bytes : 1);
    if (p) b->owned[b->n_owned++] = p;
    return p;
}

static const char *origin(binder *b, const mmx_tensor *t) { return mmx_model_file_origin(b->m->file, t); }

static void count(binder *b, const mmx_tensor *t) {
    b->m->n_params += mmx_tensor_n_elems(t);
    b->m->weight_bytes += t->n_bytes;
    if ((unsigned)t->type < MMX_TYPE_COUNT) b->m->n_tensor_types[t->type]++;
}

static const mmx_tensor *find(binder *b, bool required, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static const mmx_tensor *find(binder *b, bool required, const char *fmt, ...) {
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    const mmx_tensor *t = mmx_model_file_find(b->m->file, name);
    if (!t && required)
        mmx_fail(b->err, MMX_ERR_MODEL, "%s: required tensor '%s' is missing", b->m->path, name);
    return t;
}

static mmx_status check_type(binder *b, const mmx_tensor *t) {
    if ((unsigned)t->type >= MMX_TYPE_COUNT)
        return mmx_fail(b->err, MMX_ERR_UNSUPPORTED, "%s: tensor '%s' has type %s, which this build cannot compute with",
                        origin(b, t), t->name, t->type_name ? t->type_name : "?");
    return MMX_OK;
}

static void shape_str(const mmx_tensor *t, char *buf, size_t cap) {
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "[");
    for (int i = 0; i < t->n_dims && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, i ? ", %llu" : "%llu", (unsigned long long)t->shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

/* 2-D matrix [rows, cols] (PyTorch order; GGUF ne reversed by the parser). */
static mmx_status matrix(binder *b, const mmx_tensor *t, size_t rows, size_t cols, mmx_matrix *out) {
    mmx_status st = check_type(b, t);
    if (st != MMX_OK) return st;
    if (t->n_dims != 2 || t->shape[0] != rows || t->shape[1] != cols) {
        char got[96];
        shape_str(t, got, sizeof got);
        return mmx_fail(b->err, MMX_ERR_MODEL, "%s: tensor '%s' has shape %s, expected [%zu, %zu]", origin(b, t),
                        t->name, got, rows, cols);
    }
    size_t rb = mmx_type_row_bytes(t->type, cols);
    if (rb == 0 || rb * rows != t->n_bytes)
        return mmx_fail(b->err, MMX_ERR_MODEL, "%s: tensor '%s' of type %s: row length %zu is not a whole number of blocks",
                        origin(b, t), t->name, mmx_type_name(t->type), cols);
    *out = (mmx_matrix){t->type, rows, cols, rb, t->data, false};
    count(b, t);
    return MMX_OK;
}

static mmx_status matrix_named(binder *b, size_t rows, size_t cols, mmx_matrix *out, const char *name) {
    const mmx_tensor *t = find(b, true, "%s", name);
    return t ? matrix(b, t, rows, cols, out) : b->err->status;
}

/* 1-D vector of n floats, converted to an owned fp32 copy. */
static mmx_status vector(binder *b, const char *name, size_t n, const float **out) {
    const mmx_tensor *t = find(b, true, "%s", name);
    if (!t) return b->err->status;
    mmx_status st = check_type(b, t);
    if (st != MMX_OK) return st;
    if (t->n_dims != 1 || t->shape[0] != n) {
        char got[96];
        shape_str(t, got, sizeof got);
        return mmx_fail(b->err, MMX_ERR_MODEL, "%s: tensor '%s' has shape %s, expected [%zu]", origin(b, t), t->name,
                        got, n);
    }
    if (t->type != MMX_TYPE_F32 && t->type != MMX_TYPE_F16 && t->type != MMX_TYPE_BF16)
        return mmx_fail(b->err, MMX_ERR_UNSUPPORTED, "%s: norm tensor '%s' must be f32, f16 or bf16, not %s",
                        origin(b, t), t->name, mmx_type_name(t->type));
    float *v = own(b, n * sizeof *v);
    if (!v) return mmx_fail(b->err, MMX_ERR_NOMEM, "out of memory");
    const uint8_t *p = t->data;
    for (size_t i = 0; i < n; i++) {
        if (t->type == MMX_TYPE_F32) memcpy(&v[i], p + 4 * i, 4);
        else {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            v[i] = t->type == MMX_TYPE_F16 ? mmx_f16_to_f32(h) : mmx_bf16_to_f32(h);
        }
    }
    count(b, t);
    *out = v;
    return MMX_OK;
}

/* E expert matrices [rows, cols] from a stacked 3-D tensor [E, rows, cols], optionally a row range
 * [row0, row0+rows) of each expert's slab of `slab_rows` rows (HF native fused gate_up_proj). */
static mmx_status experts_stacked(binder *b, const mmx_tensor *t, size_t E, size_t slab_rows, size_t row0,
                                  size_t rows, size_t cols, mmx_matrix *out, bool count_it) {
    mmx_status st = check_type(b, t);
    if (st != MMX_OK) return st;
    if (t->n_dims != 3 || t->shape[0] != E || t->shape[1] != slab_rows || t->shape[2] != cols) {
        char got[96];
        shape_str(t, got, sizeof got);
        return mmx_fail(b->err, MMX_ERR_MODEL, "%s: tensor '%s' has shape %s, expected [%zu, %zu, %zu]",
                        origin(b, t), t->name, got, E, slab_rows, cols);
    }
    size_t rb = mmx_type_row_bytes(t->type, cols);
    if (rb == 0 || rb * slab_rows * E != t->n_bytes)
        return mmx_fail(b->err, MMX_ERR_MODEL, "%s: tensor '%s': row length %zu is not a whole number of %s blocks",
                        origin(b, t), t->name, cols, mmx_type_name(t->type));
    for (size_t e = 0; e < E; e++)
        out[e] = (mmx_matrix){t->type, rows, cols, rb, (const uint8_t *)t->data + (e * slab_rows + row0) * rb, false};
    if (count_it) count(b, t);
    return MMX_OK;
}

static mmx_status bind_layer(binder *b, size_t l) {
    const mmx_config *c = &b->m->config;
    mmx_layer_weights *w = &b->m->weights.layers[l];
    const size_t H = c->n_embd, D = c->n_heads * c->head_dim, Dkv = c->n_kv_heads * c->head_dim;
    const size_t E = c->n_experts, I = c->n_ff;
    char name[256];
    mmx_status st;
    w->w1 = own(b, E * sizeof *w->w1);
    w->w2 = own(b, E * sizeof *w->w2);
    w->w3 = own(b, E * sizeof *w->w3);
    if (!w->w1 || !w->w2 || !w->w3) return mmx_fail(b->err, MMX_ERR_NOMEM, "out of memory");
#define NAME(...) (snprintf(name, sizeof name, __VA_ARGS__), name)
#define TRY(x)                                                                                      \
    do {                                                                                            \
        if ((st = (x)) != MMX_OK) return st;                                                        \
    } while (0)
    if (b->gguf) {
        TRY(vector(b, NAME("blk.%zu.attn_norm.weight", l), H, &w->attn_norm));
        TRY(vector(b, NAME("blk.%zu.ffn_norm.weight", l), H, &w->ffn_norm));
        if (c->is_softmax[l]) {
            TRY(matrix_named(b, D, H, &w->wq, NAME("blk.%zu.attn_q.weight", l)));
            TRY(matrix_named(b, Dkv, H, &w->wk, NAME("blk.%zu.attn_k.weight", l)));
            TRY(matrix_named(b, Dkv, H, &w->wv, NAME("blk.%zu.attn_v.weight", l)));
            TRY(matrix_named(b, H, D, &w->wo, NAME("blk.%zu.attn_output.weight", l)));
        } else {
            TRY(matrix_named(b, 3 * D, H, &w->qkv, NAME("blk.%zu.attn_qkv.weight", l)));
            TRY(matrix_named(b, D, H, &w->gate, NAME("blk.%zu.attn_gate.weight", l)));
            TRY(vector(b, NAME("blk.%zu.attn_norm_2.weight", l), D, &w->la_norm));
            TRY(matrix_named(b, H, D, &w->out, NAME("blk.%zu.attn_output.weight", l)));
        }
        TRY(matrix_named(b, E, H, &w->router, NAME("blk.%zu.ffn_gate_inp.weight", l)));
        const mmx_tensor *t;
        if (!(t = find(b, true, "blk.%zu.ffn_gate_exps.weight", l))) return b->err->status;
        TRY(experts_stacked(b, t, E, I, 0, I, H, w->w1, true));
        if (!(t = find(b, true, "blk.%zu.ffn_up_exps.weight", l))) return b->err->status;
        TRY(experts_stacked(b, t, E, I, 0, I, H, w->w3, true));
        if (!(t = find(b, true, "blk.%zu.ffn_down_exps.weight", l))) return b->err->status;
        TRY(experts_stacked(b, t, E, H, 0, H, I, w->w2, true));
        return MMX_OK;
    }
    const char *p = "model.layers";
    TRY(vector(b, NAME("%s.%zu.input_layernorm.weight", p, l), H, &w->attn_norm));
    TRY(vector(b, NAME("%s.%zu.post_attention_layernorm.weight", p, l), H, &w->ffn_norm));
    if (c->is_softmax[l]) {
        TRY(matrix_named(b, D, H, &w->wq, NAME("%s.%zu.self_attn.q_proj.weight", p, l)));
        TRY(matrix_named(b, Dkv, H, &w->wk, NAME("%s.%zu.self_attn.k_proj.weight", p, l)));
        TRY(matrix_named(b, Dkv, H, &w->wv, NAME("%s.%zu.self_attn.v_proj.weight", p, l)));
        TRY(matrix_named(b, H, D, &w->wo, NAME("%s.%zu.self_attn.o_proj.weight", p, l)));
    } else {
        TRY(matrix_named(b, 3 * D, H, &w->qkv, NAME("%s.%zu.self_attn.qkv_proj.weight", p, l)));
        TRY(matrix_named(b, D, H, &w->gate, NAME("%s.%zu.self_attn.output_gate.weight", p, l)));
        TRY(vector(b, NAME("%s.%zu.self_attn.norm.weight", p, l), D, &w->la_norm));
        TRY(matrix_named(b, H, D, &w->out, NAME("%s.%zu.self_attn.out_proj.weight", p, l)));
    }
    /* MoE: original per-expert tensors, or the transformers-native fused layout (SPEC §2.1) */
    const mmx_tensor *router = find(b, false, "%s.%zu.block_sparse_moe.gate.weight", p, l);
    if (router) {
        TRY(matrix(b, router, E, H, &w->router));
        for (size_t e = 0; e < E; e++) {
            TRY(matrix_named(b, I, H, &w->w1[e], NAME("%s.%zu.block_sparse_moe.experts.%zu.w1.weight", p, l, e)));
            TRY(matrix_named(b, I, H, &w->w3[e], NAME("%s.%zu.block_sparse_moe.experts.%zu.w3.weight", p, l, e)));
            TRY(matrix_named(b, H, I, &w->w2[e], NAME("%s.%zu.block_sparse_moe.experts.%zu.w2.weight", p, l, e)));
        }
    } else if ((router = find(b, false, "%s.%zu.mlp.gate.weight", p, l))) {
        TRY(matrix(b, router, E, H, &w->router));
        const mmx_tensor *gu = find(b, true, "%s.%zu.mlp.experts.gate_up_proj", p, l);
        if (!gu) return b->err->status;
        TRY(experts_stacked(b, gu, E, 2 * I, 0, I, H, w->w1, true));
        TRY(experts_stacked(b, gu, E, 2 * I, I, I, H, w->w3, false));
        const mmx_tensor *dn = find(b, true, "%s.%zu.mlp.experts.down_proj", p, l);
        if (!dn) return b->err->status;
        TRY(experts_stacked(b, dn, E, H, 0, H, I, w->w2, true));
    } else {
        return mmx_fail(b->err, MMX_ERR_MODEL, "%s: required tensor '%s.%zu.block_sparse_moe.gate.weight' is missing",
                        b->m->path, p, l);
    }
    if (c->n_ff_shared) {
        const size_t Is = c->n_ff_shared;
        TRY(matrix_named(b, Is, H, &w->sh_gate, NAME("%s.%zu.shared_mlp.gate_proj.weight", p, l)));
        TRY(matrix_named(b, Is, H, &w->sh_up, NAME("%s.%zu.shared_mlp.up_proj.weight", p, l)));
        TRY(matrix_named(b, H, Is, &w->sh_down, NAME("%s.%zu.shared_mlp.down_proj.weight", p, l)));
        TRY(matrix_named(b, 1, H, &w->sh_coef, NAME("%s.%zu.coefficient.weight", p, l)));
    }
    return MMX_OK;
#undef NAME
#undef TRY
}

mmx_status mmx_minimax01_bind_weights(mmx_model *m, mmx_error *err) {
    mmx_error local;
    if (!err) err = &local;
    binder b = {m, mmx_model_file_kind(m->file) == MMX_SOURCE_GGUF, err, NULL, 0, 0};
    const mmx_config *c = &m->config;
    mmx_status st = MMX_OK;
    m->weights.layers = own(&b, c->n_layers * sizeof *m->weights.layers);
    if (!m->weights.layers) st = mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    const size_t H = c->n_embd, V = c->n_vocab;
    if (st == MMX_OK)
        st = matrix_named(&b, V, H, &m->weights.embed, b.gguf ? "token_embd.weight" : "model.embed_tokens.weight");
    if (st == MMX_OK)
        st = vector(&b, b.gguf ? "output_norm.weight" : "model.norm.weight", H, &m->weights.final_norm);
    if (st == MMX_OK) {
        if (c->has_lm_head)
            st = matrix_named(&b, V, H, &m->weights.lm_head, b.gguf ? "output.weight" : "lm_head.weight");
        else
            m->weights.lm_head = m->weights.embed;
    }
    for (size_t l = 0; st == MMX_OK && l < c->n_layers; l++) st = bind_layer(&b, l);
    /* The first layer's MoE gate/up products keep fp32 activations under the default precision policy
     * (kernels.h, PRECISION POLICY): rounding their input (the normed hidden state) to bf16 is what makes
     * bf16 activations lossy, and an error made in the first layer is carried through every later one.
     * On the tiny golden BF16 file (4 layers), the mean KL with bf16 gate/up inputs everywhere is 0.256
     * (llama.cpp: 0.225); keeping layer 0's in fp32: 0.133; layers 0-1: 0.056; all: 0.046.  The cost is
     * 1/n_layers of the gate/up arithmetic at the fp32 rate. */
    for (size_t l = 0; st == MMX_OK && l < c->n_layers && l < MMX_F32_GATE_UP_LAYERS; l++) {
        mmx_layer_weights *w = &m->weights.layers[l];
        for (size_t e = 0; e < c->n_experts; e++) w->w1[e].keep_f32_act = w->w3[e].keep_f32_act = true;
        w->sh_gate.keep_f32_act = w->sh_up.keep_f32_act = true;
    }
    if (st == MMX_OK && c->n_ff_shared && b.gguf)
        st = mmx_fail(err, MMX_ERR_UNSUPPORTED, "%s: shared experts are not defined for GGUF files", m->path);
    if (st == MMX_OK) {
        /* active parameters per token, counted as MiniMax does (45.9B of 456B): everything but the
         * embedding and lm_head, with only k of E experts */
        uint64_t expert = (uint64_t)3 * c->n_ff * c->n_embd;
        uint64_t emb = (uint64_t)c->n_vocab * c->n_embd * (c->has_lm_head ? 2 : 1);
        m->n_params_active = m->n_params - emb - (uint64_t)c->n_layers * (c->n_experts - c->n_experts_used) * expert;
        /* bytes one decoded token reads: k of E experts per layer, one embedding row */
        uint64_t unused = 0;
        for (size_t l = 0; l < c->n_layers; l++) {
            const mmx_layer_weights *w = &m->weights.layers[l];
            uint64_t per_expert = (uint64_t)w->w1[0].rows * w->w1[0].row_bytes + (uint64_t)w->w3[0].rows * w->w3[0].row_bytes +
                                  (uint64_t)w->w2[0].rows * w->w2[0].row_bytes;
            unused += per_expert * (c->n_experts - c->n_experts_used);
        }
        const mmx_matrix *e = &m->weights.embed;
        /* a tied lm_head reads the whole embedding anyway */
        m->decode_weight_bytes = m->weight_bytes - unused - (c->has_lm_head ? (uint64_t)(e->rows - 1) * e->row_bytes : 0);
    }
    /* hand the owned list to the model (freed by mmx_model_free) */
    void **list = realloc(b.owned, (b.n_owned + 1) * sizeof *list);
    if (!list) {
        for (size_t i = 0; i < b.n_owned; i++) free(b.owned[i]);
        free(b.owned);
        return st == MMX_OK ? mmx_fail(err, MMX_ERR_NOMEM, "out of memory") : st;
    }
    list[b.n_owned] = NULL;
    m->owned = list;
    return st;
}
