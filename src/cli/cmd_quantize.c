/*
 * mmx quantize IN OUT TYPE: converts an HF directory or a GGUF into a GGUF of arch minimax-01 (the
 * layout llama.cpp's converter writes, SPEC §2.2) with weights of TYPE: f32, f16, bf16, q8_0, q4_0,
 * q4_k_m, q5_k_m, q6_k.  The *_k_m mixes follow llama.cpp's rules for this architecture (8-expert
 * models keep attn_k/attn_v in Q8_0; output Q6_K; attn_qkv one step up; ffn_down and attn_v Q6_K on
 * the "more bits" layers).  Norms and the router stay F32.  Rows that are not a whole number of
 * 256-blocks fall back to Q8_0 (llama.cpp uses Q5_0/Q5_1 there, which this engine does not run).
 * The output is written to OUT.tmp and renamed at the end: an existing OUT is never half-overwritten.
 */
#include "cli.h"
#include "common.h"
#include "gguf.h"
#include "model.h"
#include "quant.h"
#include "threadpool.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum { FT_F32, FT_F16, FT_BF16, FT_Q8_0, FT_Q4_0, FT_Q4_K_M, FT_Q5_K_M, FT_Q6_K } ftype;
static const struct {
    const char *name;
    ftype ft;
    mmx_type base;
    uint32_t llama_ftype; /* general.file_type */
} ftypes[] = {
    {"f32", FT_F32, MMX_TYPE_F32, 0},         {"f16", FT_F16, MMX_TYPE_F16, 1},
    {"bf16", FT_BF16, MMX_TYPE_BF16, 32},     {"q8_0", FT_Q8_0, MMX_TYPE_Q8_0, 7},
    {"q4_0", FT_Q4_0, MMX_TYPE_Q4_0, 2},      {"q4_k_m", FT_Q4_K_M, MMX_TYPE_Q4_K, 15},
    {"q5_k_m", FT_Q5_K_M, MMX_TYPE_Q5_K, 17}, {"q6_k", FT_Q6_K, MMX_TYPE_Q6_K, 18},
};

typedef enum { SRC_MATRIX, SRC_EXPERTS, SRC_VECTOR } src_kind;

typedef struct {
    char name[96];
    src_kind kind;
    const mmx_matrix *m;    /* SRC_MATRIX, or the first of n_experts for SRC_EXPERTS */
    size_t n_experts;
    const float *vec;       /* SRC_VECTOR */
    size_t vec_n;
    mmx_type out_type;
    uint64_t shape[3];
    int n_dims;
} plan_entry;

static bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

static mmx_type pick_type(ftype ft, mmx_type base, const char *what, int layer, int n_layers, int i_attn_v,
                          int n_attn_v, size_t n_experts, size_t cols) {
    mmx_type t = base;
    if (ft == FT_Q4_K_M || ft == FT_Q5_K_M) {
        if (!strcmp(what, "output")) t = MMX_TYPE_Q6_K;
        else if (!strcmp(what, "attn_v")) t = n_experts == 8 ? MMX_TYPE_Q8_0 : use_more_bits(i_attn_v, n_attn_v) ? MMX_TYPE_Q6_K : base;
        else if (!strcmp(what, "attn_k") && n_experts == 8) t = MMX_TYPE_Q8_0;
        else if (!strcmp(what, "ffn_down") && use_more_bits(layer, n_layers)) t = MMX_TYPE_Q6_K;
        else if (!strcmp(what, "attn_output") && n_experts == 8 && ft == FT_Q4_K_M) t = MMX_TYPE_Q5_K;
        else if (!strcmp(what, "attn_qkv")) t = ft == FT_Q4_K_M ? MMX_TYPE_Q5_K : MMX_TYPE_Q6_K;
    } else if (ft == FT_Q6_K && !strcmp(what, "output")) {
        t = MMX_TYPE_Q6_K;
    }
    if (mmx_type_row_bytes(t, cols) == 0) t = mmx_type_row_bytes(MMX_TYPE_Q8_0, cols) ? MMX_TYPE_Q8_0 : MMX_TYPE_F16;
    return t;
}

/* ---- parallel row conversion ---------------------------------------------------------------- */
typedef struct {
    const mmx_matrix *m;
    size_t r0, n_rows;
    mmx_type out_type;
    uint8_t *out;
    size_t out_row_bytes;
    float *scratch; /* n_threads * cols */
} convert_job;

static void convert_rows(void *arg, int ith, int nth) {
    convert_job *j = arg;
    size_t b, e;
    mmx_split_range(j->n_rows, ith, nth, &b, &e);
    float *row = j->scratch + (size_t)ith * j->m->cols;
    for (size_t r = b; r < e; r++) {
        mmx_dequantize_row(j->m->type, (const uint8_t *)j->m->data + (j->r0 + r) * j->m->row_bytes, row, j->m->cols);
        mmx_quantize_row(j->out_type, row, j->out + r * j->out_row_bytes, j->m->cols);
    }
}

static void progress(double done, double total, const char *name) {
    if (!isatty(2)) return;
    int width = 30, fill = total > 0 ? (int)(width * done / total) : width;
    fprintf(stderr, "\r[%.*s%*s] %5.1f%% %-40.40s", fill, "##############################", width - fill, "",
            total > 0 ? 100.0 * done / total : 100.0, name);
    fflush(stderr);
}

int mmx_cmd_quantize(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *type_name = NULL;
    size_t threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: mmx quantize IN OUT TYPE [-t THREADS]\n"
                   "  IN: HF model directory or GGUF; OUT: GGUF (arch minimax-01, loadable by llama.cpp);\n"
                   "  TYPE: f32 f16 bf16 q8_0 q4_0 q4_k_m q5_k_m q6_k\n");
            return 0;
        } else if (!strcmp(argv[i], "-t")) {
            const char *v = cli_value("quantize", argc, argv, &i);
            if (!v || !cli_parse_size("quantize", "-t", v, &threads)) return 2;
        } else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else if (!type_name) type_name = argv[i];
        else {
            fprintf(stderr, "mmx quantize: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!type_name) {
        fprintf(stderr, "usage: mmx quantize IN OUT TYPE (mmx quantize --help)\n");
        return 2;
    }
    size_t fi = sizeof ftypes / sizeof ftypes[0];
    for (size_t i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++)
        if (!strcasecmp(type_name, ftypes[i].name)) fi = i;
    if (fi == sizeof ftypes / sizeof ftypes[0]) {
        fprintf(stderr, "mmx quantize: unknown TYPE '%s' (f32 f16 bf16 q8_0 q4_0 q4_k_m q5_k_m q6_k)\n", type_name);
        return 2;
    }
    mmx_model_params mp = mmx_model_default_params();
    mp.n_threads = (int)threads;
    mp.huge_map = MMX_HUGE_MAP_OFF; /* one sequential pass over the weights: no need to fault them in first */
    mmx_model *m = cli_load_model_params("quantize", in, &mp);
    if (!m) return 1;
    const mmx_config *c = &m->config;
    int rc = 1;
    plan_entry *plan = NULL;
    mmx_gguf_writer *w = NULL;
    uint8_t *buf = NULL;
    float *scratch = NULL;
    mmx_error err;
    if (c->n_ff_shared || !c->postnorm || c->beta_linear != 1 || c->beta_full != 1 || c->beta_mlp != 1 ||
        c->alpha_linear != c->alpha_full || c->alpha_linear != c->alpha_mlp) {
        fprintf(stderr, "mmx quantize: %s: this model (shared expert, pre-norm, or unequal residual scales) cannot be "
                        "expressed in the minimax-01 GGUF format (one residual_scale, betas 1, postnorm)\n", in);
        goto done;
    }
    /* ---- plan: every tensor with its GGUF name, shape and output type ---- */
    const ftype ft = ftypes[fi].ft;
    const mmx_type base = ftypes[fi].base;
    const int L = (int)c->n_layers;
    int n_attn_v = 0, i_attn_v = 0;
    for (int l = 0; l < L; l++) n_attn_v += c->is_softmax[l];
    size_t cap = 8 + (size_t)L * 16, n_plan = 0;
    plan = calloc(cap, sizeof *plan);
    if (!plan) goto done;
#define ADD_M(nm, mat, what, layer)                                                                  \
    do {                                                                                            \
        plan_entry *p = &plan[n_plan++];                                                            \
        snprintf(p->name, sizeof p->name, "%s", nm);                                                \
        p->kind = SRC_MATRIX, p->m = (mat), p->n_dims = 2;                                          \
        p->shape[0] = (mat)->rows, p->shape[1] = (mat)->cols;                                       \
        p->out_type = pick_type(ft, base, what, layer, L, i_attn_v, n_attn_v, c->n_experts, (mat)->cols); \
    } while (0)
#define ADD_V(nm, v, n)                                                                             \
    do {                                                                                            \
        plan_entry *p = &plan[n_plan++];                                                            \
        snprintf(p->name, sizeof p->name, "%s", nm);                                                \
        p->kind = SRC_VECTOR, p->vec = (v), p->vec_n = (n), p->n_dims = 1, p->shape[0] = (n);      \
        p->out_type = MMX_TYPE_F32;                                                                 \
    } while (0)
    char nm[96];
    const mmx_weights *W = &m->weights;
    ADD_M("token_embd.weight", &W->embed, "token_embd", 0);
    ADD_V("output_norm.weight", W->final_norm, c->n_embd);
    if (c->has_lm_head) ADD_M("output.weight", &W->lm_head, "output", 0);
    const size_t D = c->n_heads * c->head_dim;
    for (int l = 0; l < L; l++) {
        const mmx_layer_weights *lw = &W->layers[l];
#define N(s) (snprintf(nm, sizeof nm, "blk.%d.%s", l, s), nm)
        ADD_V(N("attn_norm.weight"), lw->attn_norm, c->n_embd);
        if (c->is_softmax[l]) {
            ADD_M(N("attn_q.weight"), &lw->wq, "attn_q", l);
            ADD_M(N("attn_k.weight"), &lw->wk, "attn_k", l);
            ADD_M(N("attn_v.weight"), &lw->wv, "attn_v", l);
            i_attn_v++;
            ADD_M(N("attn_output.weight"), &lw->wo, "attn_output", l);
        } else {
            ADD_M(N("attn_qkv.weight"), &lw->qkv, "attn_qkv", l);
            ADD_M(N("attn_gate.weight"), &lw->gate, "attn_gate", l);
            ADD_V(N("attn_norm_2.weight"), lw->la_norm, D);
            ADD_M(N("attn_output.weight"), &lw->out, "attn_output", l);
        }
        ADD_V(N("ffn_norm.weight"), lw->ffn_norm, c->n_embd);
        ADD_M(N("ffn_gate_inp.weight"), &lw->router, "router", l);
        plan[n_plan - 1].out_type = MMX_TYPE_F32; /* the router stays F32, as llama.cpp keeps it */
        const mmx_matrix *ex[3] = {lw->w1, lw->w3, lw->w2};
        const char *exn[3] = {"ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight"};
        const char *what[3] = {"ffn_gate", "ffn_up", "ffn_down"};
        for (int k = 0; k < 3; k++) {
            plan_entry *p = &plan[n_plan++];
            snprintf(p->name, sizeof p->name, "%s", N(exn[k]));
            p->kind = SRC_EXPERTS, p->m = ex[k], p->n_experts = c->n_experts, p->n_dims = 3;
            p->shape[0] = c->n_experts, p->shape[1] = ex[k]->rows, p->shape[2] = ex[k]->cols;
            p->out_type = pick_type(ft, base, what[k], l, L, i_attn_v, n_attn_v, c->n_experts, ex[k]->cols);
        }
#undef N
    }
    if (ft <= FT_BF16) /* float outputs: the router and embeddings follow the base type, norms F32 */
        for (size_t i = 0; i < n_plan; i++)
            if (plan[i].kind != SRC_VECTOR && !strstr(plan[i].name, "ffn_gate_inp")) plan[i].out_type = base;

    /* ---- metadata ---- */
    if (mmx_gguf_writer_open(out, &w, &err) != MMX_OK) {
        fprintf(stderr, "mmx quantize: %s\n", err.message);
        goto done;
    }
    mmx_gguf *src_gguf = mmx_model_file_gguf(m->file);
    if (src_gguf) {
        /* keep the source's metadata (tokenizer, names), with the new file type */
        for (size_t i = 0; i < mmx_gguf_n_kv(src_gguf); i++) {
            const char *k = mmx_gguf_key(src_gguf, i);
            if (!strcmp(k, "general.file_type") || !strcmp(k, "general.quantization_version") ||
                !strcmp(k, "general.alignment"))
                continue;
            mmx_gguf_writer_copy_kv(w, src_gguf, i);
        }
    } else {
        mmx_gguf_writer_set_str(w, "general.architecture", "minimax-01", 10);
        mmx_gguf_writer_set_str(w, "general.type", "model", 5);
        mmx_gguf_writer_set_int(w, "minimax-01.context_length", MMX_GGUF_U32, 1 << 20);
        mmx_gguf_writer_set_int(w, "minimax-01.embedding_length", MMX_GGUF_U32, (int64_t)c->n_embd);
        mmx_gguf_writer_set_int(w, "minimax-01.block_count", MMX_GGUF_U32, (int64_t)c->n_layers);
        mmx_gguf_writer_set_int(w, "minimax-01.feed_forward_length", MMX_GGUF_U32, (int64_t)c->n_ff);
        mmx_gguf_writer_set_int(w, "minimax-01.attention.head_count", MMX_GGUF_U32, (int64_t)c->n_heads);
        mmx_gguf_writer_set_int(w, "minimax-01.attention.head_count_kv", MMX_GGUF_U32, (int64_t)c->n_kv_heads);
        mmx_gguf_writer_set_float(w, "minimax-01.rope.freq_base", MMX_GGUF_F32, c->rope_theta);
        mmx_gguf_writer_set_float(w, "minimax-01.attention.layer_norm_rms_epsilon", MMX_GGUF_F32, c->rms_eps);
        mmx_gguf_writer_set_int(w, "minimax-01.expert_count", MMX_GGUF_U32, (int64_t)c->n_experts);
        mmx_gguf_writer_set_int(w, "minimax-01.expert_used_count", MMX_GGUF_U32, (int64_t)c->n_experts_used);
        mmx_gguf_writer_set_int(w, "minimax-01.attention.key_length", MMX_GGUF_U32, (int64_t)c->head_dim);
        mmx_gguf_writer_set_int(w, "minimax-01.attention.value_length", MMX_GGUF_U32, (int64_t)c->head_dim);
        mmx_gguf_writer_set_float(w, "minimax-01.residual_scale", MMX_GGUF_F32, c->alpha_linear);
        mmx_gguf_writer_set_int(w, "minimax-01.rope.dimension_count", MMX_GGUF_U32, (int64_t)c->rotary_dim);
        bool default_pattern = true;
        for (int l = 0; l < L; l++) default_pattern &= c->is_softmax[l] == ((l + 1) % 8 == 0);
        if (!default_pattern) {
            int64_t *rec = malloc((size_t)L * sizeof *rec);
            for (int l = 0; l < L; l++) rec[l] = !c->is_softmax[l];
            mmx_gguf_writer_set_arr_int(w, "minimax-01.attention.recurrent_layers", MMX_GGUF_BOOL, rec, (size_t)L);
            free(rec);
        }
        /* the tokenizer, when the directory has one whose size matches the vocabulary */
        if (cli_write_gguf_tokenizer(w, in, c->n_vocab) < 0) goto done;
    }
    mmx_gguf_writer_set_int(w, "general.quantization_version", MMX_GGUF_U32, 2);
    mmx_gguf_writer_set_int(w, "general.file_type", MMX_GGUF_U32, ftypes[fi].llama_ftype);
    for (size_t i = 0; i < n_plan; i++)
        mmx_gguf_writer_add_tensor(w, plan[i].name, plan[i].out_type, plan[i].n_dims, plan[i].shape);
    if (mmx_gguf_writer_begin_data(w) != MMX_OK) {
        fprintf(stderr, "mmx quantize: %s\n", mmx_gguf_writer_error(w)->message);
        goto done;
    }
    /* ---- data ---- */
    double total = 0, done_bytes = 0;
    size_t max_cols = 0;
    for (size_t i = 0; i < n_plan; i++) {
        double n = (double)plan[i].shape[0] * (plan[i].n_dims > 1 ? (double)plan[i].shape[1] : 1) *
                   (plan[i].n_dims > 2 ? (double)plan[i].shape[2] : 1);
        total += n;
        size_t cols = (size_t)plan[i].shape[plan[i].n_dims - 1];
        if (cols > max_cols) max_cols = cols;
    }
    const size_t chunk_rows = 256;
    const int nt = mmx_pool_size(m->pool);
    buf = malloc(chunk_rows * mmx_type_row_bytes(MMX_TYPE_F32, max_cols) + 64);
    scratch = malloc((size_t)nt * max_cols * sizeof(float));
    if (!buf || !scratch) goto done;
    double t0 = mmx_time_s();
    for (size_t i = 0; i < n_plan; i++) {
        plan_entry *p = &plan[i];
        progress(done_bytes, total, p->name);
        if (p->kind == SRC_VECTOR) {
            mmx_gguf_writer_write(w, p->vec, p->vec_n * sizeof(float));
            done_bytes += (double)p->vec_n;
            continue;
        }
        size_t n_mats = p->kind == SRC_EXPERTS ? p->n_experts : 1;
        for (size_t e = 0; e < n_mats; e++) {
            const mmx_matrix *mat = &p->m[e];
            size_t orb = mmx_type_row_bytes(p->out_type, mat->cols);
            for (size_t r0 = 0; r0 < mat->rows; r0 += chunk_rows) {
                size_t nr = mat->rows - r0 < chunk_rows ? mat->rows - r0 : chunk_rows;
                convert_job job = {mat, r0, nr, p->out_type, buf, orb, scratch};
                mmx_pool_run(m->pool, convert_rows, &job);
                if (mmx_gguf_writer_write(w, buf, nr * orb) != MMX_OK) {
                    fprintf(stderr, "\nmmx quantize: %s\n", mmx_gguf_writer_error(w)->message);
                    goto done;
                }
                done_bytes += (double)nr * (double)mat->cols;
                progress(done_bytes, total, p->name);
            }
        }
    }
    if (mmx_gguf_writer_close(w, &err) != MMX_OK) {
        fprintf(stderr, "\nmmx quantize: %s\n", err.message);
        goto done;
    }
    progress(total, total, "done");
    struct stat sb;
    stat(out, &sb);
    fprintf(stderr, "%smmx quantize: wrote %s (%s, %.2f MiB, %zu tensors) in %.1f s\n", isatty(2) ? "\n" : "", out,
            ftypes[fi].name, (double)sb.st_size / (1 << 20), n_plan, mmx_time_s() - t0);
    rc = 0;
done:
    mmx_gguf_writer_free(w);
    free(plan);
    free(buf);
    free(scratch);
    mmx_model_free(m);
    return rc;
}
