/*
 * model.h — internal model structures: hyper-parameters (mmx_config), read-only weight views
 * (mmx_weights, pointing into mapped files) and the loaded model that owns both.  Run state lives
 * apart, in the per-sequence object (seq.h).
 */
#ifndef MMX_MODEL_H
#define MMX_MODEL_H

#include "mmx.h"
#include "tensor.h"
#include "threadpool.h"

#include <pthread.h>
#include <stdbool.h>

#define MMX_MAX_LAYERS 4096
#define MMX_MAX_EXPERTS 1024
/* Leading layers whose MoE gate/up products keep fp32 activations under the default policy (minimax01_weights.c says why). */
#define MMX_F32_GATE_UP_LAYERS 1

/* Hyper-parameters of the MiniMax-01 family (SPEC §1).  Immutable after loading. */
typedef struct mmx_config {
    char architecture[64];   /* "minimax-01" */
    size_t n_layers;         /* L */
    size_t n_embd;           /* H (hidden_size) */
    size_t n_heads;          /* nH, used by both attention kinds */
    size_t n_kv_heads;       /* nKV, softmax layers only */
    size_t head_dim;         /* d; nH*d need not equal H */
    size_t rotary_dim;       /* r <= d, even: RoPE on dims [0, r) of each head */
    size_t n_ff;             /* I, per-expert FFN width */
    size_t n_experts;        /* E (1 = dense FFN) */
    size_t n_experts_used;   /* k */
    size_t n_ff_shared;      /* shared expert width, 0 = none (SPEC §5.3) */
    size_t n_vocab;          /* rows of embedding and lm_head */
    size_t n_vocab_valid;    /* ids >= this are padding (SPEC §7) */
    double rope_theta;
    double rms_eps;          /* decoder and final RMSNorms */
    double lightning_norm_eps; /* lightning output RMSNorm: 1e-6 (SPEC §4.5, §8 #2) */
    /* DeepNorm residual scales (SPEC §3): h = alpha*r + beta*f(u) */
    double alpha_linear, beta_linear, alpha_full, beta_full, alpha_mlp, beta_mlp;
    bool postnorm;           /* residual taken after the norm */
    bool has_lm_head;        /* false: tied to the embedding (GGUF without output.weight) */
    size_t lightning_block;  /* default lightning prefill block from the file (256 if absent) */
    uint8_t is_softmax[MMX_MAX_LAYERS]; /* per-layer hybrid mask: 1 softmax, 0 lightning */
} mmx_config;

/* A 2-D weight matrix [rows, cols] in any storage type; row r starts at data + r*row_bytes. */
typedef struct mmx_matrix {
    mmx_type type;
    size_t rows, cols;
    size_t row_bytes;
    const void *data;
    bool keep_f32_act; /* never bf16 activations for this product (minimax01_weights.c says why) */
} mmx_matrix;

typedef struct mmx_layer_weights {
    const float *attn_norm;  /* [H] input_layernorm (fp32 copy) */
    const float *ffn_norm;   /* [H] post_attention_layernorm */
    /* lightning (SPEC §4) */
    mmx_matrix qkv;          /* [3*nH*d, H], rows per-head interleaved q|k|v */
    mmx_matrix gate;         /* [nH*d, H] output_gate */
    const float *la_norm;    /* [nH*d] output RMSNorm */
    mmx_matrix out;          /* [H, nH*d] out_proj */
    /* softmax (SPEC §5.1) */
    mmx_matrix wq, wk, wv;   /* [nH*d, H], [nKV*d, H], [nKV*d, H] */
    mmx_matrix wo;           /* [H, nH*d] */
    /* MoE (SPEC §5.2) */
    mmx_matrix router;       /* [E, H] */
    mmx_matrix *w1, *w3;     /* E matrices [I, H]: gate (SiLU branch), up */
    mmx_matrix *w2;          /* E matrices [H, I]: down */
    /* shared expert (SPEC §5.3), when n_ff_shared > 0 */
    mmx_matrix sh_gate, sh_up, sh_down, sh_coef; /* [Is,H], [Is,H], [H,Is], [1,H] */
} mmx_layer_weights;

typedef struct mmx_weights {
    mmx_matrix embed;        /* [V, H] */
    mmx_matrix lm_head;      /* [V, H] */
    const float *final_norm; /* [H] */
    mmx_layer_weights *layers;
} mmx_weights;

typedef struct mmx_model_file mmx_model_file; /* loader.c: the mapped sources */

struct mmx_model {
    mmx_config config;
    mmx_weights weights;
    mmx_model_file *file;
    mmx_model_params params;
    mmx_pool *pool;
    pthread_mutex_t compute_lock;
    bool force_reference;
    bool weights_in_hugepages; /* the files were read into huge-page memory (not mapped) */
    uint64_t weight_file_bytes, weight_file_bytes_huge; /* mmx_model_file_page_bytes after load */
    unsigned act_mask; /* activation precisions enabled (kernels.h, mmx_act_parse) */
    /* owned allocations behind the weights: fp32 copies of vectors, expert matrix arrays */
    void *owned;
    char layer_pattern[MMX_MAX_LAYERS + 1];
    /* statistics for mmx_model_get_info */
    uint64_t n_params, n_params_active, weight_bytes, decode_weight_bytes;
    size_t n_tensor_types[MMX_TYPE_COUNT];
    char path[1024];
    const char *source_format;
};

/* Machine read bandwidth in GB/s (1e9 bytes), measured by one pass of the model's own thread pool
 * over every mapped weight byte (each thread streams a contiguous share; mmx_kernel_stream_sum):
 * the memory decode reads, through the threads decode uses, so nothing else competes for the cores
 * and nothing is allocated.  Serialised with evaluation by the compute lock. 0 if there are no
 * weights. */
double mmx_model_read_bandwidth(mmx_model *m);

/* ---- loader.c: a uniform view over an HF directory or a GGUF file ---------------------------- */
typedef enum { MMX_SOURCE_HF, MMX_SOURCE_GGUF } mmx_source_kind;
mmx_status mmx_model_file_open(const char *path, mmx_model_file **out, mmx_error *err);
void mmx_model_file_free(mmx_model_file *f);
/* Moves every mapped file of f into huge-page-backed anonymous memory (mmx_mapfile_load_hugepages). */
mmx_status mmx_model_file_load_hugepages(mmx_model_file *f, mmx_error *err);
/* Settles every mapped file of f in 2 MiB pages where it can (mmx_mapfile_settle_hugepages, no copy). */
mmx_status mmx_model_file_settle_hugepages(mmx_model_file *f, mmx_error *err);
/* Bytes of all files of f, and of those the kernel mapped in 2 MiB pages when last loaded/settled. */
void mmx_model_file_page_bytes(mmx_model_file *f, uint64_t *bytes, uint64_t *huge);
mmx_source_kind mmx_model_file_kind(const mmx_model_file *f);
/* NULL when absent. */
const mmx_tensor *mmx_model_file_find(const mmx_model_file *f, const char *name);
/* The parsed config.json (HF) or NULL. */
struct json_t *mmx_model_file_config_json(const mmx_model_file *f);
/* The GGUF (GGUF sources) or NULL. */
struct mmx_gguf *mmx_model_file_gguf(const mmx_model_file *f);
/* Display name of the file that holds `t` (for messages). */
const char *mmx_model_file_origin(const mmx_model_file *f, const mmx_tensor *t);
size_t mmx_model_file_n_tensors(const mmx_model_file *f);
const mmx_tensor *mmx_model_file_tensor(const mmx_model_file *f, size_t i);

/* ---- minimax01.c: the architecture -------------------------------------------------------- */
mmx_status mmx_minimax01_config_from_hf(struct json_t *config, const char *path, mmx_config *cfg,
                                        mmx_error *err);
mmx_status mmx_minimax01_config_from_gguf(const struct mmx_gguf *g, const char *path, mmx_config *cfg,
                                          mmx_error *err);
/* Binds and checks every tensor (presence, type, shape).  Fills model->weights and statistics. */
mmx_status mmx_minimax01_bind_weights(mmx_model *model, mmx_error *err);

#endif
