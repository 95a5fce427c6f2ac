/* gen.h — text generation shared by `mmx run` and `mmx chat`: options, the session (model,
 * sequence, tokenizer, sampler) and the streaming loop. */
#ifndef MMX_CLI_GEN_H
#define MMX_CLI_GEN_H

#include "chat.h"
#include "mmx.h"
#include "sampler.h"
#include "tokenizer.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#define GEN_MAX_STOPS 16

typedef struct gen_opts {
    const char *model, *tokenizer, *template_name;
    size_t n_predict, n_ctx, threads;
    mmx_sampler_params sampling;
    const char *stops[GEN_MAX_STOPS];
    size_t n_stops;
    bool no_special;  /* raw prompts: treat special-token text as plain text */
    bool ignore_eos;
} gen_opts;

void gen_opts_default(gen_opts *o, size_t n_predict);
/* Consumes argv[*i] (and its value) if it is a generation option: returns 1; 0 if not one of
 * ours; -1 after printing an error. */
int gen_parse_opt(const char *cmd, gen_opts *o, int argc, char **argv, int *i);
void gen_print_opts_help(FILE *f);

typedef struct gen_session {
    mmx_model *model;
    mmx_seq *seq;
    mmx_tokenizer *tok;
    mmx_sampler *sampler;
    float *logits;
    size_t n_vocab, n_valid;
    int32_t eos;
    mmx_chat_kind chat_kind;
} gen_session;

typedef enum { GEN_STOP_EOS, GEN_STOP_STRING, GEN_STOP_LENGTH, GEN_STOP_CANCEL, GEN_STOP_CONTEXT, GEN_STOP_ERROR } gen_stop;

typedef struct gen_stats {
    size_t n_prompt, n_gen;
    double t_prompt, t_gen;
    gen_stop stop;
} gen_stats;

/* Loads model, tokenizer and sampler; prints the problem and returns false on failure. */
bool gen_session_open(const char *cmd, gen_session *s, const gen_opts *o);
void gen_session_close(gen_session *s);

/* Emits generated text; called with complete UTF-8 only, never with text of a stop string. */
typedef void (*gen_emit_fn)(const char *text, size_t len, void *user);

/* Feeds `prompt` then samples up to n_predict tokens, streaming text through emit.  The sampled
 * tokens are fed back, except the final end-of-sequence token (the caller decides how a turn ends).
 * cancel (may be NULL) stops generation between tokens. */
void gen_generate(const char *cmd, gen_session *s, const gen_opts *o, const int32_t *prompt, size_t n_prompt,
                  gen_emit_fn emit, void *user, volatile sig_atomic_t *cancel, gen_stats *stats);
void gen_print_stats(const gen_stats *st);
/* Chat template kind of a model (its tokenizer_config.json / config.json, or GGUF metadata). */
mmx_chat_kind gen_detect_chat_kind(const char *model);

#endif
