/*
 * sampler.h — token sampling as a composable chain of stages over a candidate list, plus stop
 * conditions for generation.
 *
 * A chain owns its stages (added with mmx_sampler_add, run in the order added) and its working
 * buffers, allocated once at creation for the model's vocabulary: sampling never allocates.
 * mmx_sampler_from_params builds the usual chain: penalties -> top-k -> temperature -> top-p ->
 * min-p -> draw (or greedy when temperature <= 0).  Ids >= n_vocab_valid (padding rows, SPEC §7)
 * are never candidates.  The random draw comes from the chain's own generator (seeded; same seed,
 * same output) or is passed in (mmx_sampler_sample_coin) so tests can pin it.
 */
#ifndef MMX_SAMPLER_H
#define MMX_SAMPLER_H

#include "mmx.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
