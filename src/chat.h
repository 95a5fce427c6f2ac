/*
 * chat.h — internal (Jansson) side of the chat templates; the public API and the format notes are in mmx.h.
 */
#ifndef MMX_CHAT_H
#define MMX_CHAT_H

#include "mmx.h"

#include <jansson.h>
#include <stdbool.h>

/* Renders messages (+ optional tools array, may be NULL) into a malloc'd NUL-terminated string
 * (*out, free() it; *out_len bytes).  Returns MMX_OK, MMX_ERR_INVALID_ARG (a message that is not an
 * object, a missing or unknown role, content of the wrong type — the message names the index and
 * field) or MMX_ERR_NOMEM. */
mmx_status mmx_chat_render(mmx_chat_kind kind, const json_t *messages, const json_t *tools, bool add_generation_prompt,
                           char **out, size_t *out_len, mmx_error *err);

/* Same, also returning the byte offsets (malloc'd array, free() it) of the special-token strings
 * the template itself wrote — <begin_of_document>, <beginning_of_sentence>, <end_of_sentence> —
 * as opposed to the same text inside user content. */
mmx_status mmx_chat_render_marked(mmx_chat_kind kind, const json_t *messages, const json_t *tools,
                                  bool add_generation_prompt, char **out, size_t *out_len, size_t **marks,
                                  size_t *n_marks, mmx_error *err);

struct mmx_tokenizer;
/* Token ids of a rendered prompt: the template's markers become their special ids; everything
 * between them (user, system, tool text) is encoded as plain text, so message content can never
 * inject control tokens.  Equals tokenizing the whole prompt with special tokens recognised when
 * the content holds no special-token text.  *ids is malloc'd (free() it). */
mmx_status mmx_chat_tokenize(const struct mmx_tokenizer *tok, const char *text, size_t len, const size_t *marks,
                             size_t n_marks, int32_t **ids, size_t *n_ids, mmx_error *err);

/* Python json.dumps(value, ensure_ascii=False) into a malloc'd string; NULL on allocation failure. */
char *mmx_json_dumps_python(const json_t *value);

#endif
