/*
 * tokenizer.h — internal part of the tokenizer; the public API and its contract are in mmx.h.
 */
#ifndef MMX_TOKENIZER_H
#define MMX_TOKENIZER_H

#include "mmx.h"

struct mmx_gguf;
/* From a parsed GGUF; `name` only for messages.  The tokenizer copies what it needs. */
mmx_status mmx_tokenizer_load_gguf(const struct mmx_gguf *g, const char *name, mmx_tokenizer **out, mmx_error *err);

#endif
