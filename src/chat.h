/*
 * chat.h — chat prompts of the MiniMax-01 family (SPEC §7), rendered natively (no Jinja engine).
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
 *   MMX_CHAT_VLLM    the vLLM / llama.cpp example variant: "ai name=MiniMax AI", a default system
 *                    prompt, assistant tool_calls rendered as <tool_calls> JSON lines.
 */
#ifndef MMX_CHAT_H
#define MMX_CHAT_H

#include "mmx.h"

#include <jansson.h>
#include <stdbool.h>

typedef enum mmx_chat_kind { MMX_CHAT_M1 = 0, MMX_CHAT_TEXT01, MMX_CHAT_VLLM } mmx_chat_kind;

/* Name <-> kind: "m1", "text01", "vllm". parse returns false for an unknown name. */
const char *mmx_chat_kind_name(mmx_chat_kind kind);
bool mmx_chat_kind_parse(const char *name, mmx_chat_kind *out);
/* Picks the kind from a model's embedded template text (may be NULL) and architecture name (may
 * be NULL): "ai name=MiniMax AI" -> VLLM; "ai_setting=assistant" -> M1; MiniMaxText01* -> TEXT01;
 * otherwise M1. */
mmx_chat_kind mmx_chat_detect(const char *template_text, const char *architecture);

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
