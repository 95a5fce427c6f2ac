/*
 * sampler.h — token selection and stop conditions.
 *
 * The sampler chain itself (mmx_sampler, stages, mmx_sampler_params, mmx_sample_index,
 * mmx_rng_uniform) and the stateless stop-string helpers (mmx_stop_find, mmx_stop_holdback) are
 * declared in mmx.h.  Notes on their exact semantics:
 *
 *   - Candidates are ids [0, n_vocab_valid); padding ids >= n_vocab_valid are never candidates, so
 *     no stage can pick them whatever their logits.  A NaN logit is treated as -inf.
 *   - Stages run in the order added, each narrowing or reweighting the candidate list in the chain's
 *     buffers (allocated once by mmx_sampler_create for n_vocab; sampling never allocates):
 *       penalties(last_n, repeat, presence, frequency): for every candidate id present c > 0 times in
 *           the last last_n accepted tokens (-1: all the history the chain keeps, see below):
 *           repeat (CTRL): logit = logit > 0 ? logit / repeat : logit * repeat;  then
 *           presence/frequency (OpenAI): logit -= presence + frequency * c.
 *       top-k(k): keeps the k highest logits (ties: lower id first); k <= 0 or k >= n: no-op.
 *       temperature(t): logit /= t; t <= 0: no-op (use greedy).
 *       top-p(p): keeps the smallest prefix of the candidates sorted by probability whose mass is
 *           >= p (probabilities over the current candidates); p >= 1: no-op.
 *       min-p(p): keeps candidates with probability >= p * max probability; p <= 0: no-op.
 *       greedy: keeps the single highest logit (ties: lowest id).
 *     After the stages, a single remaining candidate is returned; otherwise the chain draws from
 *     the softmax of the remaining logits with mmx_sample_index and a uniform coin.
 *   - The coin comes from the chain's splitmix64 state (seeded at create/reset; same seed and same
 *     inputs, same tokens) or is passed in with mmx_sampler_sample_coin.
 *   - History: mmx_sampler_accept appends to a buffer that always holds at least the most recent
 *     max(2048, penalty_last_n) tokens (mmx_sampler_from_params sizes it; mmx_sampler_create keeps
 *     at least 2048), so "-1: whole history" means that many.
 *
 * UTF-8 completeness of streamed text is mmx_utf8_complete_prefix (mmx.h, tokenizer module).
 */
#ifndef MMX_SAMPLER_H
#define MMX_SAMPLER_H

#include "mmx.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The incremental stop matcher (mmx_stop_matcher_*) is declared in mmx.h. */

#endif
