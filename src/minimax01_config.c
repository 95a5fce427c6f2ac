/*
 * minimax01_config.c — MiniMax-01 hyper-parameters from an HF config.json (original field names
 * and the transformers-native renames, SPEC §1) or from GGUF metadata (SPEC §2.2).
 */
#include "gguf.h"
#include "model.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_DIM ((size_t)1 << 20)     /* hidden sizes, head dims, FFN widths */
#define MAX_VOCAB ((size_t)1 << 24)
#define MAX_HEADS ((size_t)1 << 14)

/* SPEC §7: the released checkpoints pad the vocabulary to 200064 rows; ids >= 200032 have zero
 * embeddings and must never be sampled.  Other vocabularies are taken as unpadded. */
static size_t valid_vocab(size_t n_vocab) { return n_vocab == 200064 ? 200032 : n_vocab; }

static mmx_status validate(mmx_config *c, const char *path, mmx_error *err) {
#define BAD(...) return mmx_fail(err, MMX_ERR_MODEL, __VA_ARGS__)
    if (c->n_layers < 1 || c->n_layers > MMX_MAX_LAYERS)
        BAD("%s: number of layers %zu out of range [1, %d]", path, c->n_layers, MMX_MAX_LAYERS);
    if (c->n_embd < 1 || c->n_embd > MAX_DIM) BAD("%s: hidden size %zu out of range", path, c->n_embd);
    if (c->n_heads < 1 || c->n_heads > MAX_HEADS) BAD("%s: attention head count %zu out of range", path, c->n_heads);
    if (c->n_kv_heads < 1 || c->n_kv_heads > c->n_heads || c->n_heads % c->n_kv_heads)
        BAD("%s: key/value head count %zu must divide the head count %zu", path, c->n_kv_heads, c->n_heads);
    if (c->head_dim < 1 || c->head_dim > 4096) BAD("%s: head_dim %zu out of range", path, c->head_dim);
    if (c->rotary_dim > c->head_dim || c->rotary_dim % 2)
        BAD("%s: rotary_dim %zu must be even and at most head_dim %zu", path, c->rotary_dim, c->head_dim);
    if (c->n_ff < 1 || c->n_ff > MAX_DIM) BAD("%s: intermediate_size %zu out of range", path, c->n_ff);
    if (c->n_experts < 1 || c->n_experts > MMX_MAX_EXPERTS)
        BAD("%s: expert count %zu out of range [1, %d]", path, c->n_experts, MMX_MAX_EXPERTS);
    if (c->n_experts_used < 1 || c->n_experts_used > c->n_experts)
        BAD("%s: experts per token %zu must be in [1, %zu]", path, c->n_experts_used, c->n_experts);
    if (c->n_ff_shared > MAX_DIM) BAD("%s: shared_intermediate_size %zu out of range", path, c->n_ff_shared);
    if (c->n_vocab < 1 || c->n_vocab > MAX_VOCAB) BAD("%s: vocab_size %zu out of range", path, c->n_vocab);
    if (!(c->rms_eps > 0 && c->rms_eps < 1)) BAD("%s: rms_norm_eps %g out of range (0, 1)", path, c->rms_eps);
    if (!(c->rope_theta > 0 && isfinite(c->rope_theta))) BAD("%s: rope_theta %g must be positive", path, c->rope_theta);
    double ab[6] = {c->alpha_linear, c->beta_linear, c->alpha_full, c->beta_full, c->alpha_mlp, c->beta_mlp};
    for (int i = 0; i < 6; i++)
        if (!isfinite(ab[i])) BAD("%s: residual alpha/beta must be finite", path);
    if (c->lightning_block < 1 || c->lightning_block > 65536)
        BAD("%s: block_size %zu out of range [1, 65536]", path, c->lightning_block);
    c->n_vocab_valid = valid_vocab(c->n_vocab);
    c->lightning_norm_eps = 1e-6; /* SPEC §4.5 / §8 #2: RMSNorm default of [ORIG], not rms_norm_eps */
    return MMX_OK;
#undef BAD
}

/* ---- HF config.json ------------------------------------------------------------------------ */

typedef struct {
    json_t *root;
    const char *path;
    mmx_error *err;
    mmx_status st;
} cfg_reader;

static json_t *field(cfg_reader *r, const char *name) {
    json_t *v = json_object_get(r->root, name);
    return json_is_null(v) ? NULL : v;
}

static size_t get_size(cfg_reader *r, const char *name, size_t dflt, bool required) {
    json_t *v = field(r, name);
    if (!v) {
        if (required && r->st == MMX_OK)
            r->st = mmx_fail(r->err, MMX_ERR_MODEL, "%s: required field '%s' is missing", r->path, name);
        return dflt;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        if (r->st == MMX_OK)
            r->st = mmx_fail(r->err, MMX_ERR_MODEL, "%s: field '%s' must be a non-negative integer", r->path, name);
        return dflt;
    }
    return (size_t)json_integer_value(v);
}

static double get_num(cfg_reader *r, json_t *v, const char *name, double dflt) {
    if (!v) return dflt;
    if (!json_is_number(v)) {
        if (r->st == MMX_OK) r->st = mmx_fail(r->err, MMX_ERR_MODEL, "%s: field '%s' must be a number", r->path, name);
        return dflt;
    }
    return json_number_value(v);
}

/* First present of an original and a native field name. */
static double get_num2(cfg_reader *r, const char *orig, const char *native, double dflt) {
    json_t *v = field(r, orig);
    if (v) return get_num(r, v, orig, dflt);
    return get_num(r, field(r, native), native, dflt);
}

mmx_status mmx_minimax01_config_from_hf(json_t *root, const char *path, mmx_config *c, mmx_error *err) {
    memset(c, 0, sizeof *c);
    cfg_reader r = {root, path, err, MMX_OK};
    snprintf(c->architecture, sizeof c->architecture, "minimax-01");

    /* architecture check: the original (Text-01, M1) and the transformers-native names */
    json_t *archs = field(&r, "architectures");
    const char *model_type = json_string_value(field(&r, "model_type"));
    bool known = false;
    if (json_is_array(archs)) {
        size_t i;
        json_t *a;
        json_array_foreach(archs, i, a) {
            const char *s = json_string_value(a);
            if (s && (!strcmp(s, "MiniMaxText01ForCausalLM") || !strcmp(s, "MiniMaxM1ForCausalLM") ||
                      !strcmp(s, "MiniMaxForCausalLM")))
                known = true;
        }
    }
    if (model_type && (!strcmp(model_type, "minimax_text_01") || !strcmp(model_type, "minimax_m1") ||
                       !strcmp(model_type, "minimax")))
        known = true;
    if (!known)
        return mmx_fail(err, MMX_ERR_UNSUPPORTED,
                        "%s: not a MiniMax-01 model (architectures / model_type '%s'); expected "
                        "MiniMaxText01ForCausalLM, MiniMaxM1ForCausalLM or model_type minimax",
                        path, model_type ? model_type : "(none)");
    bool native = field(&r, "layer_types") != NULL || (model_type && !strcmp(model_type, "minimax"));

    c->n_layers = get_size(&r, "num_hidden_layers", 0, true);
    c->n_embd = get_size(&r, "hidden_size", 0, true);
    c->n_heads = get_size(&r, "num_attention_heads", 0, true);
    c->n_kv_heads = get_size(&r, "num_key_value_heads", c->n_heads, false);
    c->head_dim = get_size(&r, "head_dim", c->n_heads ? c->n_embd / c->n_heads : 0, false);
    /* rotary_dim: [ORIG] field; transformers-native configs may give partial_rotary_factor instead.
     * Without either, RoPE covers the whole head (what a plain config means). */
    json_t *rot = field(&r, "rotary_dim");
    if (rot) {
        c->rotary_dim = get_size(&r, "rotary_dim", 0, false);
    } else {
        double f = get_num(&r, field(&r, "partial_rotary_factor"), "partial_rotary_factor", 1.0);
        c->rotary_dim = (size_t)llround(f * (double)c->head_dim);
    }
    c->n_ff = get_size(&r, "intermediate_size", 0, true);
    c->n_experts = get_size(&r, "num_local_experts", 1, false);
    c->n_experts_used = get_size(&r, "num_experts_per_tok", 1, false);
    c->n_ff_shared = get_size(&r, "shared_intermediate_size", 0, false);
    c->n_vocab = get_size(&r, "vocab_size", 0, true);
    c->rms_eps = get_num(&r, field(&r, "rms_norm_eps"), "rms_norm_eps", 1e-5);
    c->lightning_block = get_size(&r, "block_size", 256, false);
    json_t *rp = field(&r, "rope_parameters");
    if (json_is_object(rp) && json_object_get(rp, "rope_theta"))
        c->rope_theta = get_num(&r, json_object_get(rp, "rope_theta"), "rope_parameters.rope_theta", 10000.0);
    else
        c->rope_theta = get_num(&r, field(&r, "rope_theta"), "rope_theta", 10000.0);
    c->alpha_linear = get_num2(&r, "layernorm_linear_attention_alpha", "linear_attn_alpha_factor", 1.0);
    c->beta_linear = get_num2(&r, "layernorm_linear_attention_beta", "linear_attn_beta_factor", 1.0);
    c->alpha_full = get_num2(&r, "layernorm_full_attention_alpha", "full_attn_alpha_factor", 1.0);
    c->beta_full = get_num2(&r, "layernorm_full_attention_beta", "full_attn_beta_factor", 1.0);
    c->alpha_mlp = get_num2(&r, "layernorm_mlp_alpha", "mlp_alpha_factor", 1.0);
    c->beta_mlp = get_num2(&r, "layernorm_mlp_beta", "mlp_beta_factor", 1.0);
    /* postnorm: [ORIG] config default false; the native port hard-codes postnorm semantics */
    json_t *pn = field(&r, "postnorm");
    if (pn && !json_is_boolean(pn) && r.st == MMX_OK)
        r.st = mmx_fail(err, MMX_ERR_MODEL, "%s: field 'postnorm' must be true or false", path);
    c->postnorm = pn ? json_is_true(pn) : native;
    json_t *tie = field(&r, "tie_word_embeddings");
    c->has_lm_head = !(tie && json_is_true(tie));
    if (r.st != MMX_OK) return r.st;
    if (c->n_layers < 1 || c->n_layers > MMX_MAX_LAYERS)
        return mmx_fail(err, MMX_ERR_MODEL, "%s: num_hidden_layers %zu out of range [1, %d]", path, c->n_layers,
                        MMX_MAX_LAYERS);

    /* layer pattern: attn_type_list (0 lightning, 1 softmax) or layer_types, else every 8th */
    json_t *atl = field(&r, "attn_type_list");
    json_t *lt = field(&r, "layer_types");
    json_t *list = atl ? atl : lt;
    const char *list_name = atl ? "attn_type_list" : "layer_types";
    if (list) {
        if (!json_is_array(list) || json_array_size(list) != c->n_layers)
            return mmx_fail(err, MMX_ERR_MODEL, "%s: field '%s' must be an array of %zu entries (num_hidden_layers)",
                            path, list_name, c->n_layers);
        for (size_t i = 0; i < c->n_layers; i++) {
            json_t *e = json_array_get(list, i);
            int v = -1;
            if (json_is_integer(e) && (json_integer_value(e) == 0 || json_integer_value(e) == 1))
                v = (int)json_integer_value(e);
            else if (json_is_string(e) && !strcmp(json_string_value(e), "linear_attention"))
                v = 0;
            else if (json_is_string(e) && !strcmp(json_string_value(e), "full_attention"))
                v = 1;
            if (v < 0)
                return mmx_fail(err, MMX_ERR_MODEL,
                                "%s: %s[%zu] must be 0/1 or \"linear_attention\"/\"full_attention\"", path,
                                list_name, i);
            c->is_softmax[i] = (uint8_t)v;
        }
    } else {
        for (size_t i = 0; i < c->n_layers; i++) c->is_softmax[i] = (i + 1) % 8 == 0;
    }
    return validate(c, path, err);
}

/* ---- GGUF metadata -------------------------------------------------------------------------- */

static mmx_status gguf_size(const mmx_gguf *g, const char *path, const char *key, bool required, size_t dflt,
                            size_t *out, mmx_error *err) {
    int64_t v;
    if (mmx_gguf_find_key(g, key) < 0) {
        if (required) return mmx_fail(err, MMX_ERR_MODEL, "%s: required metadata key '%s' is missing", path, key);
        *out = dflt;
        return MMX_OK;
    }
    if (!mmx_gguf_get_int(g, key, &v) || v < 0)
        return mmx_fail(err, MMX_ERR_MODEL, "%s: metadata key '%s' must be a non-negative integer", path, key);
    *out = (size_t)v;
    return MMX_OK;
}

mmx_status mmx_minimax01_config_from_gguf(const mmx_gguf *g, const char *path, mmx_config *c, mmx_error *err) {
    memset(c, 0, sizeof *c);
    const char *arch;
    size_t arch_len;
    if (!mmx_gguf_get_str(g, "general.architecture", &arch, &arch_len))
        return mmx_fail(err, MMX_ERR_MODEL, "%s: metadata key 'general.architecture' is missing", path);
    if (arch_len != strlen("minimax-01") || memcmp(arch, "minimax-01", arch_len))
        return mmx_fail(err, MMX_ERR_UNSUPPORTED, "%s: architecture '%.*s' is not supported (expected minimax-01)",
                        path, (int)(arch_len > 64 ? 64 : arch_len), arch);
    snprintf(c->architecture, sizeof c->architecture, "minimax-01");
    mmx_status st = MMX_OK;
#define SZ(key, req, dflt, dst)                                                                     \
    if (st == MMX_OK) st = gguf_size(g, path, "minimax-01." key, req, dflt, dst, err)
    SZ("block_count", true, 0, &c->n_layers);
    SZ("embedding_length", true, 0, &c->n_embd);
    SZ("attention.head_count", true, 0, &c->n_heads);
    SZ("attention.head_count_kv", false, c->n_heads, &c->n_kv_heads);
    SZ("attention.key_length", false, c->n_heads ? c->n_embd / c->n_heads : 0, &c->head_dim);
    SZ("rope.dimension_count", false, c->head_dim, &c->rotary_dim);
    SZ("feed_forward_length", true, 0, &c->n_ff);
    SZ("expert_count", false, 1, &c->n_experts);
    SZ("expert_used_count", false, 1, &c->n_experts_used);
#undef SZ
    if (st != MMX_OK) return st;
    if (c->n_experts == 0) c->n_experts = 1; /* dense FFN = one expert */
    if (c->n_experts_used == 0) c->n_experts_used = 1;
    double v;
    c->rope_theta = mmx_gguf_get_float(g, "minimax-01.rope.freq_base", &v) ? v : 10000.0;
    c->rms_eps = mmx_gguf_get_float(g, "minimax-01.attention.layer_norm_rms_epsilon", &v) ? v : 1e-5;
    /* llama.cpp stores one residual scale (all alphas equal, betas 1, postnorm) — SPEC §2.2, §8 #6 */
    double alpha = mmx_gguf_get_float(g, "minimax-01.residual_scale", &v) ? v : 1.0;
    c->alpha_linear = c->alpha_full = c->alpha_mlp = alpha;
    c->beta_linear = c->beta_full = c->beta_mlp = 1.0;
    c->postnorm = true;
    c->lightning_block = 256;
    c->has_lm_head = mmx_gguf_find_tensor(g, "output.weight") != NULL;
    const mmx_tensor *emb = mmx_gguf_find_tensor(g, "token_embd.weight");
    if (!emb) return mmx_fail(err, MMX_ERR_MODEL, "%s: tensor 'token_embd.weight' is missing", path);
    if (emb->n_dims != 2) return mmx_fail(err, MMX_ERR_MODEL, "%s: tensor 'token_embd.weight' is not 2-D", path);
    c->n_vocab = (size_t)emb->shape[0];
    if (c->n_layers < 1 || c->n_layers > MMX_MAX_LAYERS)
        return mmx_fail(err, MMX_ERR_MODEL, "%s: minimax-01.block_count %zu out of range [1, %d]", path,
                        c->n_layers, MMX_MAX_LAYERS);

    /* Layer pattern (SPEC §2.2): a per-layer recurrent flag array, or an interval, default 8. */
    mmx_gguf_type et;
    size_t n;
    if (mmx_gguf_get_arr(g, "minimax-01.attention.recurrent_layers", &et, &n)) {
        if (n != c->n_layers)
            return mmx_fail(err, MMX_ERR_MODEL, "%s: minimax-01.attention.recurrent_layers has %zu entries, expected %zu",
                            path, n, c->n_layers);
        for (size_t i = 0; i < n; i++) {
            int64_t x;
            if (!mmx_gguf_arr_int(g, "minimax-01.attention.recurrent_layers", i, &x))
                return mmx_fail(err, MMX_ERR_MODEL, "%s: minimax-01.attention.recurrent_layers[%zu] is not an integer/bool",
                                path, i);
            c->is_softmax[i] = x == 0;
        }
    } else if (mmx_gguf_find_key(g, "minimax-01.attention.recurrent_layers") >= 0) {
        /* llama.cpp's get_key_or_arr: one scalar for every layer */
        bool all;
        if (!mmx_gguf_get_bool(g, "minimax-01.attention.recurrent_layers", &all))
            return mmx_fail(err, MMX_ERR_MODEL, "%s: minimax-01.attention.recurrent_layers must be a bool or an array",
                            path);
        for (size_t i = 0; i < c->n_layers; i++) c->is_softmax[i] = !all;
    } else {
        size_t interval = 8;
        st = gguf_size(g, path, "minimax-01.full_attention_interval", false, 8, &interval, err);
        if (st != MMX_OK) return st;
        if (interval == 0) return mmx_fail(err, MMX_ERR_MODEL, "%s: minimax-01.full_attention_interval is 0", path);
        for (size_t i = 0; i < c->n_layers; i++) c->is_softmax[i] = (i + 1) % interval == 0;
    }
    return validate(c, path, err);
}
