/*
 * tokenizer.h — byte-level BPE tokenizer of the MiniMax-01 family (HF `tokenizers` semantics).
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
 */
#ifndef MMX_TOKENIZER_H
#define MMX_TOKENIZER_H

#include "mmx.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mmx_gguf;
typedef struct mmx_tokenizer mmx_tokenizer;

/* `path`: a tokenizer.json, a directory containing tokenizer.json, or a .gguf file.
 * Returns MMX_OK, MMX_ERR_IO, MMX_ERR_FORMAT (bad JSON, missing fields, bad regex, merges naming
 * unknown tokens), MMX_ERR_UNSUPPORTED (not BPE / unknown GGUF pre-tokenizer) or MMX_ERR_NOMEM. */
mmx_status mmx_tokenizer_load(const char *path, mmx_tokenizer **out, mmx_error *err);
mmx_status mmx_tokenizer_load_json(const char *path, mmx_tokenizer **out, mmx_error *err);
/* From a parsed GGUF; `name` only for messages.  The tokenizer copies what it needs. */
mmx_status mmx_tokenizer_load_gguf(const struct mmx_gguf *g, const char *name, mmx_tokenizer **out, mmx_error *err);
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

#endif
