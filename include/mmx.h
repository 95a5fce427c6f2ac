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
    size_t lightning_block;   /* block size B of the lightning prefill (SPEC §4.4); 0: 64 */
    bool force_reference;     /* run the scalar reference kernels only (also: env MMX_REFERENCE=1) */
    /* Precision the activations enter the matrix products with (weights are always used exactly as
     * stored): a comma list of "q8" (int8 activations for the block-quantized types), "bf16" (bf16
     * activations for BF16 weights in prefill, except the first layer's MoE gate/up products; decode
     * keeps fp32), "fast" (both), "bf16-all" (opt-in: bf16 for those products too, as llama.cpp
     * does: a few % faster BF16 prefill, above llama.cpp's KL on the tiny golden file -- docs/bench.md),
     * "f32" (neither: fp32 everywhere, exact to fp32 accumulation) or "default"
     * ("q8,bf16").  NULL: env MMX_ACT if set, else the default (README, "Precision").  The string
     * is read during mmx_model_load only. */
    const char *activations;
    /* Read the weights into anonymous memory that the kernel may back with 2 MiB transparent huge
     * pages, instead of leaving them mapped from the page cache (also: env MMX_HUGEPAGES=1).  Decode
     * streams every weight each token, and 4 KiB translations cost it 25-40% on the development VM
     * (docs/bench.md); the default mapping (huge_map below) already gets 2 MiB pages where the page
     * cache can hold large folios, so this is for systems where it cannot.  Costs: the load reads the
     * whole file (the page cache of what was read is dropped, so the weights are held once, as process
     * memory), and the memory is not shared between processes.  Needs THP in "madvise" or "always"
     * mode to help; harmless otherwise.  Default false: the files stay memory-mapped. */
    bool weights_in_hugepages;
    /* What the load does for memory-mapped weights (ignored with weights_in_hugepages):
     * MMX_HUGE_MAP_AUTO (default) faults the files in through a 2 MiB-aligned MADV_HUGEPAGE mapping,
     * so page cache held in 2 MiB folios is mapped with one TLB entry per 2 MiB (Linux 6.x on ext4,
     * xfs, tmpfs; THP "madvise" or "always"); where the cache holds a file in small folios (written
     * or read before without that advice), its clean cache is dropped once and refilled from disk in
     * 2 MiB folios, which later loads find (costs one read of the file; never loses data).
     * MMX_HUGE_MAP_OFF maps the files and touches nothing (also: env MMX_HUGE_MAP=0). */
    enum { MMX_HUGE_MAP_AUTO = 0, MMX_HUGE_MAP_OFF = 1 } huge_map;
} mmx_model_params;

mmx_model_params mmx_model_default_params(void);

/* Loads a model from `path`: either an HF directory (config.json + *.safetensors, optionally
 * model.safetensors.index.json) or a GGUF v3 file.  Weights are memory-mapped read-only (unless
 * params->weights_in_hugepages: then read into memory once every check has passed); the files
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
    bool weights_in_hugepages; /* weights read into (huge-page) memory rather than mapped */
    uint64_t weight_file_bytes;      /* bytes of the weight files (mapped or read) */
    uint64_t weight_file_bytes_huge; /* of which the kernel maps in 2 MiB pages (checked at load) */
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


/* ---------------------------------------------------------------------------------------------
 * Tokenizer: byte-level BPE of the MiniMax-01 family, with HF `tokenizers` semantics.
 *
 * Sources: an HF tokenizer.json (model.vocab, model.merges as "a b" strings or ["a","b"] pairs,
 * added_tokens, pre_tokenizer Split(regex, Isolated) + ByteLevel, ByteLevel decoder), a model
 * directory holding one, or a GGUF file's embedded tokenizer (tokenizer.ggml.*; the split regex
 * follows tokenizer.ggml.pre).  The same vocabulary gives the same ids from either source.
 *
 * Encoding: (1) when parse_special is set, added tokens (e.g. "<end_of_sentence>") are found in the
 * text, leftmost-longest, and emitted as their ids; (2) every other span is split by the
 * pre-tokenizer regex (PCRE2, UTF + Unicode properties, JIT) into pieces, the matches and the gaps
 * between them alike; (3) each piece's UTF-8 bytes are merged by BPE rank, lowest rank first, leftmost
 * among equals.
 * Invalid UTF-8: before encoding, each maximal invalid subsequence is replaced by U+FFFD (EF BF BD),
 * as a lossy UTF-8 decoder does; valid text is never changed.  decode(encode(s)) == s for valid s.
 *
 * A tokenizer is immutable after loading; encode/decode may run concurrently from many threads.
 * ------------------------------------------------------------------------------------------- */
typedef struct mmx_tokenizer mmx_tokenizer;

/* `path`: a tokenizer.json, a directory containing tokenizer.json, or a .gguf file.
 * Returns MMX_OK, MMX_ERR_IO, MMX_ERR_FORMAT (bad JSON, missing fields, bad regex, merges naming
 * unknown tokens), MMX_ERR_UNSUPPORTED (not BPE / unknown GGUF pre-tokenizer) or MMX_ERR_NOMEM. */
mmx_status mmx_tokenizer_load(const char *path, mmx_tokenizer **out, mmx_error *err);
mmx_status mmx_tokenizer_load_json(const char *path, mmx_tokenizer **out, mmx_error *err);
void mmx_tokenizer_free(mmx_tokenizer *tok);

/* 1 + the largest token id. */
size_t mmx_tokenizer_n_vocab(const mmx_tokenizer *tok);
/* id of the token whose text is exactly `text` (added tokens first, then the vocabulary), or -1. */
int32_t mmx_tokenizer_find(const mmx_tokenizer *tok, const char *text);
/* End-of-sequence id: "<end_of_sentence>" if present, else the GGUF/config eos, else -1. */
int32_t mmx_tokenizer_eos(const mmx_tokenizer *tok);
/* true for added tokens marked special (control tokens). */
bool mmx_tokenizer_is_special(const mmx_tokenizer *tok, int32_t id);

/* Encodes `len` bytes of text.  Writes at most `cap` ids to `ids` and sets *n_ids to the number the
 * text needs (which may exceed cap: call again with a larger buffer).  ids may be NULL when cap is 0.
 * Returns MMX_OK or MMX_ERR_NOMEM (or MMX_ERR_INVALID_ARG if the regex engine fails). */
mmx_status mmx_tokenizer_encode(const mmx_tokenizer *tok, const char *text, size_t len, bool parse_special,
                                int32_t *ids, size_t cap, size_t *n_ids, mmx_error *err);
/* Convenience: encodes into a malloc'd array (free() it).  Same statuses. */
mmx_status mmx_tokenizer_encode_alloc(const mmx_tokenizer *tok, const char *text, size_t len, bool parse_special,
                                      int32_t **ids, size_t *n_ids, mmx_error *err);

/* The bytes a token decodes to (not NUL-terminated; valid while the tokenizer lives), or NULL for
 * an id that is out of range or unused. */
const char *mmx_tokenizer_token_bytes(const mmx_tokenizer *tok, int32_t id, size_t *len);
/* Decodes ids into out (at most cap bytes, not NUL-terminated); *len = bytes needed.
 * skip_special drops special tokens.  Returns MMX_OK or MMX_ERR_INVALID_ARG (id out of range). */
mmx_status mmx_tokenizer_decode(const mmx_tokenizer *tok, const int32_t *ids, size_t n, bool skip_special, char *out,
                                size_t cap, size_t *len, mmx_error *err);

/* Length of the longest prefix of s[0..len) that ends on a complete UTF-8 character, so streamed
 * output never shows half a character (an invalid byte counts as complete). */
size_t mmx_utf8_complete_prefix(const char *s, size_t len);

/* Copies s[0..n) to dst (room for 3n bytes) replacing each maximal invalid UTF-8 subsequence by
 * U+FFFD; returns the bytes written.  Valid input is copied unchanged. */
size_t mmx_utf8_sanitize(const char *s, size_t n, char *dst);


/* ---------------------------------------------------------------------------------------------
 * Sampling: token selection as a composable chain of stages over a candidate list, and stop
 * conditions for generation.
 *
 * A chain owns its stages (added with mmx_sampler_add, run in the order added) and its working
 * buffers, allocated once at creation for the model's vocabulary: sampling never allocates.
 * mmx_sampler_from_params builds the usual chain: penalties -> top-k -> temperature -> top-p ->
 * min-p -> draw (or greedy when temperature <= 0).  Ids >= n_vocab_valid (padding rows, SPEC §7)
 * are never candidates.  The random draw comes from the chain's own generator (seeded; same seed,
 * same output) or is passed in (mmx_sampler_sample_coin) so tests can pin it.
 * ------------------------------------------------------------------------------------------- */
/* The candidate list a stage works on. */
typedef struct mmx_candidates {
    int32_t *id;
    float *logit;
    float *p;      /* probabilities, valid when has_p */
    size_t n;
    bool sorted;   /* by logit, descending */
    bool has_p;
    /* scratch owned by the chain, n_vocab entries each (stages must not allocate) */
    int32_t *tmp_id, *perm;
    float *tmp_logit, *tmp_p;
    uint32_t *counts; /* all zero between uses */
} mmx_candidates;

typedef struct mmx_sampler mmx_sampler;

/* A stage: apply() narrows or reweights the candidates.  ctx is owned by the stage; free_ctx (may
 * be NULL) releases it when the chain is freed. `history` holds the last tokens accepted. */
typedef struct mmx_sampler_stage {
    const char *name;
    void (*apply)(void *ctx, mmx_candidates *c, const int32_t *history, size_t n_history);
    void (*free_ctx)(void *ctx);
    void *ctx;
} mmx_sampler_stage;

typedef struct mmx_sampler_params {
    float temperature;       /* <= 0: greedy (argmax, lowest id on ties); default 0.8 */
    int32_t top_k;           /* 0: off; default 40 */
    float top_p;             /* >= 1: off; default 0.95 */
    float min_p;             /* <= 0: off; default 0.05 */
    float repeat_penalty;    /* 1: off; logit/pen if > 0 else logit*pen, for tokens in the window */
    float presence_penalty;  /* 0: off; logit -= pen once per token present in the window (OpenAI) */
    float frequency_penalty; /* 0: off; logit -= pen * count in the window (OpenAI) */
    int32_t penalty_last_n;  /* window of the penalties; default 64; -1: whole history */
    uint64_t seed;           /* default 0x5eed */
} mmx_sampler_params;

mmx_sampler_params mmx_sampler_default_params(void);

/* An empty chain for a vocabulary of n_vocab logits of which ids < n_vocab_valid may be sampled.
 * Returns MMX_OK, MMX_ERR_INVALID_ARG or MMX_ERR_NOMEM. */
mmx_status mmx_sampler_create(size_t n_vocab, size_t n_vocab_valid, uint64_t seed, mmx_sampler **out, mmx_error *err);
/* The standard chain for params (see above).  Values out of range give MMX_ERR_INVALID_ARG. */
mmx_status mmx_sampler_from_params(const mmx_sampler_params *p, size_t n_vocab, size_t n_vocab_valid,
                                   mmx_sampler **out, mmx_error *err);
void mmx_sampler_free(mmx_sampler *s);
/* Appends a stage; the chain takes ownership of its ctx.  Returns MMX_ERR_NOMEM on failure (the
 * stage's ctx is then freed). */
mmx_status mmx_sampler_add(mmx_sampler *s, mmx_sampler_stage stage);

/* Stage constructors (ctx allocated here; NULL ctx fields mean "no state"). */
mmx_sampler_stage mmx_stage_penalties(int32_t last_n, float repeat, float presence, float frequency);
mmx_sampler_stage mmx_stage_top_k(int32_t k);
mmx_sampler_stage mmx_stage_temperature(float t);
mmx_sampler_stage mmx_stage_top_p(float p);
mmx_sampler_stage mmx_stage_min_p(float p);
/* Terminal stages: greedy keeps the argmax; without one, the chain draws from the softmax. */
mmx_sampler_stage mmx_stage_greedy(void);

/* Records a token in the history (prompt tokens too, for penalties). */
void mmx_sampler_accept(mmx_sampler *s, int32_t token);
/* Clears the history and reseeds the generator. */
void mmx_sampler_reset(mmx_sampler *s, uint64_t seed);

/* Runs the chain over logits[n_vocab] and draws a token with the chain's generator.  Does not
 * record it (call mmx_sampler_accept). */
int32_t mmx_sampler_sample(mmx_sampler *s, const float *logits);
/* Same with the uniform draw `coin` in [0, 1) given. */
int32_t mmx_sampler_sample_coin(mmx_sampler *s, const float *logits, float coin);
/* The next uniform [0,1) draw of a seeded generator (splitmix64); exposed for tests. */
float mmx_rng_uniform(uint64_t *state);

/* Pure draw: index i of probs[0..n) (not necessarily normalised) with cumulative mass > coin*total. */
size_t mmx_sample_index(const float *probs, size_t n, float coin);

/* ---- stop conditions -------------------------------------------------------------------------- */
/* Offset of the earliest occurrence of any stop string in text[0..len), or -1. */
long mmx_stop_find(const char *const *stops, size_t n_stops, const char *text, size_t len);
/* Trailing bytes of text that are a proper prefix of some stop string: a streaming writer holds
 * them back until the next token shows whether a stop string follows. */
size_t mmx_stop_holdback(const char *const *stops, size_t n_stops, const char *text, size_t len);

/* Incremental stop matcher for streaming generation. */
/* Stop conditions for one generation: a set of end-of-sequence token ids (passed in — e.g. the
 * tokenizer's <end_of_sentence>, 200020 for MiniMax-01 — never hard-coded here) and stop strings
 * matched on the generated bytes, across token boundaries.  Each stop string is matched with a
 * KMP automaton, so feeding costs O(bytes * stops) with no buffering of the text and no allocation
 * after creation.  Not thread-safe; one matcher per generation stream. */
typedef struct mmx_stop_matcher mmx_stop_matcher;

/* Copies eos_ids[0..n_eos) and the stop strings (NUL-terminated; empty ones are ignored); both
 * arrays may be NULL when their count is 0.  *out is freed with mmx_stop_matcher_free.
 * Returns MMX_OK, MMX_ERR_INVALID_ARG (a NULL stop string) or MMX_ERR_NOMEM. */
mmx_status mmx_stop_matcher_create(const int32_t *eos_ids, size_t n_eos, const char *const *stops, size_t n_stops,
                                   mmx_stop_matcher **out, mmx_error *err);
void mmx_stop_matcher_free(mmx_stop_matcher *m);
/* Forgets the text fed so far (a new generation); the stream offset restarts at 0. */
void mmx_stop_matcher_reset(mmx_stop_matcher *m);

/* True when token is one of the end-of-sequence ids. */
bool mmx_stop_is_eos(const mmx_stop_matcher *m, int32_t token);

typedef struct mmx_stop_result {
    bool stopped;      /* a stop string completed (now or in an earlier feed) */
    size_t stop_index; /* which one (index into the stops given at creation), when stopped */
    uint64_t stop_at;  /* stream offset where it starts: the output is bytes [0, stop_at) */
    uint64_t safe;     /* bytes [0, safe) of the stream can be shown now: stop_at when stopped,
                          else all but the trailing bytes that may still begin a stop string */
    size_t hold;       /* bytes held back: fed length - safe when not stopped (< longest stop) */
} mmx_stop_result;

/* Appends len bytes of generated text (offsets count all bytes fed since create/reset) and reports.
 * A stop string is found wherever it lies in the stream, across any number of feeds.  The first
 * stop string to complete wins (at equal end, the longer one); so with stops "abcd" and "bc" the
 * text "abcd" stops at "bc" — what a streaming server can know at that byte (mmx_stop_find, which
 * sees the whole text, would pick "abcd").  Once stopped, further feeds change nothing.
 * Returns r->stopped. */
bool mmx_stop_matcher_feed(mmx_stop_matcher *m, const char *bytes, size_t len, mmx_stop_result *r);



/* ---------------------------------------------------------------------------------------------
 * Chat templates: the MiniMax-01 family's prompts (SPEC §7), rendered natively (no Jinja engine).
 *
 * Input is OpenAI-style JSON: messages [{"role": "system"|"user"|"assistant"|"tool", "content": ...}],
 * where content is a string or a list of parts [{"type": "text", "text": ...}, ...]; tool messages may
 * also be {"role": "tool", "name": ..., "content": "..."} (OpenAI), rendered as one tool-result part.
 * A string content renders exactly as the one-part list [{"type":"text","text": s}] the official
 * template expects.  Tools: a list of JSON objects, each rendered as Python's
 * json.dumps(tool, ensure_ascii=False) with ", " / ": " separators, keys in the given order.
 *
 * Kinds:
 *   MMX_CHAT_M1      the official MiniMax-M1 tokenizer_config.json template (byte-identical);
 *                    assistant tool_calls fields are ignored, as the official template does.
 *   MMX_CHAT_TEXT01  MiniMax-Text-01: the same role/marker format (its own template text was not
 *                    public, SPEC §7), rendered like MMX_CHAT_M1.
 *   MMX_CHAT_VLLM    vLLM's examples/tool_chat_template_minimax_m1.jinja: "ai name=MiniMax AI", a
 *                    default system prompt, assistant tool_calls rendered as <tool_calls> JSON lines.
 *   MMX_CHAT_LLAMACPP llama.cpp's models/templates/MiniMax-M1.jinja, which its converter embeds in every
 *                    MiniMax GGUF: the vLLM template's previous version ("ai name=assistant").
 * Exact rendering rules for each kind: src/chat.h.
 * ------------------------------------------------------------------------------------------- */
typedef enum mmx_chat_kind { MMX_CHAT_M1 = 0, MMX_CHAT_TEXT01, MMX_CHAT_VLLM, MMX_CHAT_LLAMACPP } mmx_chat_kind;

/* Rendering options; start from mmx_chat_default_options(). */
typedef struct mmx_chat_options {
    bool add_generation_prompt; /* end with the assistant header "...ai name=...\n"; default true */
    /* MMX_CHAT_M1 / MMX_CHAT_TEXT01 only (the vLLM kinds always render tool_calls): render an
     * assistant message's OpenAI tool_calls after its text, on a new line, as
     *   <tool_calls>\n{"name": "N", "arguments": {...}}\n...</tool_calls>
     * (the format the model emits).  Not part of the official template, which drops tool_calls;
     * default false. */
    bool render_tool_calls;
} mmx_chat_options;

mmx_chat_options mmx_chat_default_options(void);

/* Name <-> kind: "m1", "text01", "vllm", "llamacpp". parse returns false for an unknown name. */
const char *mmx_chat_kind_name(mmx_chat_kind kind);
bool mmx_chat_kind_parse(const char *name, mmx_chat_kind *out);
/* Picks the kind from a model's embedded template text (may be NULL) and architecture name (may
 * be NULL): "ai name=MiniMax AI" -> VLLM; "ai_setting=assistant" with the vLLM structure (tool_calls
 * handling) -> LLAMACPP; other "ai_setting=assistant" -> M1; MiniMaxText01* -> TEXT01; otherwise M1. */
mmx_chat_kind mmx_chat_detect(const char *template_text, const char *architecture);

/* Renders an OpenAI-style messages array given as JSON text (and an optional tools array, NULL
 * for none) into a malloc'd NUL-terminated prompt (*out, free() it; *out_len bytes).
 * Returns MMX_OK, MMX_ERR_INVALID_ARG (bad JSON, a message that is not an object, a missing or
 * unknown role, content of the wrong type — the message names the index and field) or MMX_ERR_NOMEM. */
mmx_status mmx_chat_render_json(mmx_chat_kind kind, const char *messages_json, const char *tools_json,
                                bool add_generation_prompt, char **out, size_t *out_len, mmx_error *err);
/* Same with options (opts may be NULL: defaults). */
mmx_status mmx_chat_render_json_opts(mmx_chat_kind kind, const char *messages_json, const char *tools_json,
                                     const mmx_chat_options *opts, char **out, size_t *out_len, mmx_error *err);
/* Same, returning the prompt's token ids (malloc'd, free() it): the template's markers become their
 * special ids and all message text is encoded as plain text, so content cannot inject control tokens. */
mmx_status mmx_chat_tokenize_json(const mmx_tokenizer *tok, mmx_chat_kind kind, const char *messages_json,
                                  const char *tools_json, bool add_generation_prompt, int32_t **ids, size_t *n_ids,
                                  mmx_error *err);

#ifdef __cplusplus
}
#endif
#endif /* MMX_H */
