/*
 * mmx.h — public C API of minimax.c, an inference engine for the MiniMax-01 model family
 * (MiniMax-Text-01, MiniMax-M1: hybrid lightning/softmax attention, top-k MoE).
 *
 * Conventions
 *   - Every fallible call returns an mmx_status (MMX_OK == 0, errors < 0) and, when `err` is not
 *     NULL, fills the caller-owned mmx_error with the same code and a message naming the problem
 *     (the file, the tensor or field, the expected and found values).  `err` may always be NULL.
 *   - Objects are created by mmx_*_load / mmx_*_create and released by the matching mmx_*_free,
 *     which accepts NULL.  On failure a constructor leaves *out == NULL and owns nothing.
 *   - Sizes are size_t, token ids int32_t.
 *   - Programming errors (NULL where forbidden, a sequence used with another model's pointer, …) are
 *     caught by assertions that print file:line and abort; they are not reported as statuses.
 *
 * Threads
 *   A model owns one persistent worker pool (mmx_model_params.n_threads).  Calls that compute
 *   (mmx_seq_eval) take the model's compute lock, so sequences of one model may be driven from
 *   several threads, but their evaluations run one after another.  Everything else is safe to call
 *   concurrently on distinct objects.
 */
#ifndef MMX_H
#define MMX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Status codes and errors
 * ------------------------------------------------------------------------------------------- */
typedef enum mmx_status {
    MMX_OK = 0,
    MMX_ERR_IO = -1,          /* a file could not be opened, read or mapped (message has errno text) */
    MMX_ERR_FORMAT = -2,      /* a file is malformed: truncated, bad magic/version, bad JSON, absurd counts */
    MMX_ERR_MODEL = -3,       /* well-formed file, but not a valid model: missing tensor, wrong shape or
                                 dtype, inconsistent config value */
    MMX_ERR_UNSUPPORTED = -4, /* valid, but not supported by this build (architecture, tensor type) */
    MMX_ERR_NOMEM = -5,       /* an allocation failed */
    MMX_ERR_INVALID_ARG = -6, /* a caller-supplied value is out of range (token id, size, option) */
    MMX_ERR_CONTEXT_FULL = -7,/* the sequence has no room for more tokens (mmx_seq_params.n_ctx) */
    MMX_ERR_CANCELLED = -8,   /* the operation was stopped through a cancel flag */
} mmx_status;

#define MMX_ERROR_MESSAGE_SIZE 1024
typedef struct mmx_error {
    mmx_status status;
    char message[MMX_ERROR_MESSAGE_SIZE];
} mmx_error;

/* Static string for a status code ("ok", "I/O error", …).  Never NULL. */
const char *mmx_status_str(mmx_status status);

/* ---------------------------------------------------------------------------------------------
 * Tensor element types (weights).  Block-quantized types follow the GGUF definitions.
 * ------------------------------------------------------------------------------------------- */
typedef enum mmx_type {
    MMX_TYPE_F32 = 0,
    MMX_TYPE_F16,
    MMX_TYPE_BF16,
    MMX_TYPE_Q8_0,
    MMX_TYPE_Q4_0,
    MMX_TYPE_Q4_K,
    MMX_TYPE_Q5_K,
    MMX_TYPE_Q6_K,
    MMX_TYPE_COUNT
} mmx_type;

/* "f32", "bf16", "q4_K", … ; "?" for an out-of-range value. */
const char *mmx_type_name(mmx_type type);

/* ---------------------------------------------------------------------------------------------
 * Models
 * ------------------------------------------------------------------------------------------- */
typedef struct mmx_model mmx_model;

typedef struct mmx_model_params {
    int n_threads;            /* worker threads incl. the caller; <= 0: all online CPUs */
    size_t lightning_block;   /* block size B of the lightning prefill (SPEC §4.4); 0: 256 */
    bool force_reference;     /* run the scalar reference kernels only (also: env MMX_REFERENCE=1) */
} mmx_model_params;

mmx_model_params mmx_model_default_params(void);

/* Loads a model from `path`: either an HF directory (config.json + *.safetensors, optionally
 * model.safetensors.index.json) or a GGUF v3 file.  Weights are memory-mapped read-only; the files
 * must stay unchanged while the model lives.  Every tensor the architecture needs is checked for
 * presence, type and shape before this returns.
 * Returns MMX_OK, MMX_ERR_IO, MMX_ERR_FORMAT, MMX_ERR_MODEL, MMX_ERR_UNSUPPORTED or MMX_ERR_NOMEM. */
mmx_status mmx_model_load(const char *path, const mmx_model_params *params, mmx_model **out,
                          mmx_error *err);
/* Frees the model.  All sequences created from it must have been freed before. NULL is a no-op. */
void mmx_model_free(mmx_model *model);

/* Model description for `mmx info` and for sizing.  Strings point into the model (valid while it
 * lives). */
typedef struct mmx_model_info {
    const char *architecture;  /* "minimax-01" */
    const char *source_format; /* "hf-safetensors" or "gguf" */
    const char *path;
    size_t n_layers, n_embd, n_heads, n_kv_heads, head_dim, rotary_dim;
    size_t n_experts, n_experts_used, n_ff;
    size_t n_vocab;            /* rows of the embedding / lm_head */
    size_t n_vocab_valid;      /* ids >= this are padding and never sampled (SPEC §7) */
    size_t n_softmax_layers;   /* the rest are lightning layers */
    const char *layer_pattern; /* one char per layer: 'L' lightning, 'S' softmax */
    uint64_t n_params;         /* all parameters */
    uint64_t n_params_active;  /* parameters one token touches (top-k experts, one embedding row) */
    uint64_t weight_bytes;     /* bytes of all weight tensors as stored */
    uint64_t decode_weight_bytes; /* weight bytes one decoded token reads: all but the unused
                                     experts (E - k of E per layer) and all but one embedding row */
    uint64_t state_bytes;      /* per-sequence lightning state (fp32), independent of length */
    uint64_t kv_bytes_per_token; /* softmax K and V cache per token, all softmax layers (fp32) */
    size_t n_tensor_types[MMX_TYPE_COUNT]; /* how many weight tensors have each type */
} mmx_model_info;

void mmx_model_get_info(const mmx_model *model, mmx_model_info *info);

/* ---------------------------------------------------------------------------------------------
 * Sequences: per-sequence state (lightning states, softmax KV cache, position) over a shared model.
 * ------------------------------------------------------------------------------------------- */
typedef struct mmx_seq mmx_seq;

typedef struct mmx_seq_params {
    size_t n_ctx;     /* most tokens the sequence may hold (sizes the KV cache); 0: 4096 */
    size_t n_batch;   /* most tokens computed in one internal step (prefill chunk); 0: 512.
                         Longer inputs to mmx_seq_eval are split internally; results are identical. */
} mmx_seq_params;

mmx_seq_params mmx_seq_default_params(void);

/* Creates an empty sequence (position 0).  Allocates its state and work buffers once, here.
 * Returns MMX_OK, MMX_ERR_INVALID_ARG or MMX_ERR_NOMEM. */
mmx_status mmx_seq_create(mmx_model *model, const mmx_seq_params *params, mmx_seq **out,
                          mmx_error *err);
void mmx_seq_free(mmx_seq *seq);
/* Back to position 0 with zero state. */
void mmx_seq_reset(mmx_seq *seq);
/* Tokens processed so far (the position of the next token). */
size_t mmx_seq_n_past(const mmx_seq *seq);

typedef enum mmx_logits_mode {
    MMX_LOGITS_NONE = 0, /* only advance the state */
    MMX_LOGITS_LAST,     /* logits of the last token: n_vocab floats */
    MMX_LOGITS_ALL,      /* logits of every token: n_tokens * n_vocab floats, row-major */
} mmx_logits_mode;

/* Appends `tokens` to the sequence and computes their logits into the caller's `logits` buffer
 * (NULL allowed with MMX_LOGITS_NONE).  Any n_tokens >= 1 works: prefill, chunked prefill and
 * single-token decode all go through here and give the same values.
 * On error the sequence is left as it was before the call when the error is detected before any
 * compute (bad token id, context full); MMX_ERR_CANCELLED leaves it invalid until mmx_seq_reset.
 * Returns MMX_OK, MMX_ERR_INVALID_ARG (id out of range, n_tokens == 0), MMX_ERR_CONTEXT_FULL. */
mmx_status mmx_seq_eval(mmx_seq *seq, const int32_t *tokens, size_t n_tokens, mmx_logits_mode mode,
                        float *logits, mmx_error *err);

/* Forces the per-token decode recurrence (SPEC §4.3) for every token, i.e. one token per internal
 * step.  Used by tests and `mmx logits --step`; values equal the block path within float rounding. */
void mmx_seq_set_step_mode(mmx_seq *seq, bool one_token_at_a_time);

#ifdef __cplusplus
}
#endif
#endif /* MMX_H */
