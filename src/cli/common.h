/* common.h — helpers shared by the CLI commands. */
#ifndef MMX_CLI_COMMON_H
#define MMX_CLI_COMMON_H

#include "mmx.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses "1,2,3" (spaces allowed) into a malloc'd array. Prints the problem and returns false on
 * bad input. */
bool cli_parse_tokens(const char *cmd, const char *text, int32_t **out, size_t *n_out);
/* Parses a non-negative integer option value; prints and returns false when invalid. */
bool cli_parse_size(const char *cmd, const char *opt, const char *text, size_t *out);
/* Loads a model; prints "mmx CMD: <message>" and returns NULL on failure. */
mmx_model *cli_load_model(const char *cmd, const char *path, int n_threads, size_t block, bool reference);
/* The same with every model parameter given (the error printed as "mmx CMD: message"). */
mmx_model *cli_load_model_params(const char *cmd, const char *path, const mmx_model_params *mp);
/* The value after option argv[*i]; prints and returns NULL when missing. */
const char *cli_value(const char *cmd, int argc, char **argv, int *i);



struct mmx_tokenizer;
/* The tokenizer for a command: --tokenizer PATH if given, else the model's (its directory's
 * tokenizer.json or the GGUF's embedded one).  Prints the problem and returns NULL on failure. */
struct mmx_tokenizer *cli_load_tokenizer(const char *cmd, const char *model_path, const char *tokenizer_path);
/* Reads all of stdin into a malloc'd buffer (NUL-terminated); NULL on failure. */
char *cli_read_stdin(size_t *len);

struct mmx_gguf_writer;
/* Writes tokenizer.ggml.* (gpt2 BPE, pre "minimax-m2", tokens, types, merges, eos, chat template)
 * from model_dir/tokenizer.json when it exists and its size matches n_vocab (padded with [PADi]
 * entries up to n_vocab), else a placeholder byte-level vocabulary so that llama.cpp can load the
 * file.  Returns 1 written, 0 nothing to write, -1 after printing an error. */
int cli_write_gguf_tokenizer(struct mmx_gguf_writer *w, const char *model_dir, size_t n_vocab);

#endif
