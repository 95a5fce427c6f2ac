/*
 * chat.h — chat prompt rendering for the MiniMax-01 family (SPEC §7), the internal (Jansson) side.
 * The public JSON-text entry points and the format notes are in mmx.h; this header adds the json_t
 * entry points and the template-marker offsets used for tokenization.
 *
 * Templates, each rendered natively (no Jinja engine) and tested byte for byte against the Jinja
 * reference renderings in tests/data/chat/expected/ (tools/chat_conformance.mjs and .py):
 *
 *   MMX_CHAT_M1        the official MiniMax-M1 tokenizer_config.json template.  Message content is a
 *                      list of parts [{"type":"text","text":...}]; a string content renders exactly as
 *                      the one-part list.  system: the FIRST part's text of every system message,
 *                      concatenated, in one system block.  user: the first part's text.  assistant:
 *                      every part of type "text", concatenated; tool_calls fields are ignored (as the
 *                      official template does) unless opts->render_tool_calls.  tool: one
 *                      "tool name: N\ntool result: T\n\n" per part.  tools: one json.dumps line each,
 *                      block only for a non-empty list.
 *   MMX_CHAT_TEXT01    MiniMax-Text-01: its own template text was never published (SPEC §7); the same
 *                      markers and structure, rendered exactly like MMX_CHAT_M1.
 *   MMX_CHAT_VLLM      vLLM's examples/tool_chat_template_minimax_m1.jinja (current version):
 *                      "ai_setting=MiniMax AI" / "ai name=MiniMax AI"; only a FIRST system message
 *                      counts (trimmed; later system messages are dropped), else the default system
 *                      prompt "You are a helpful assistant created by Minimax based on MiniMax-M1
 *                      model." (an empty or all-space first system message gives no system block);
 *                      user/assistant text parts trimmed and concatenated; an assistant message with
 *                      tool_calls renders ONLY the calls: <tool_calls>\n{"name": "N", "arguments": {...}}
 *                      \n...</tool_calls>; tool (or "ipython") messages: "tool result: T\n\n" per text
 *                      part, "tool name: N\ntool result: T\n\n" for a named non-text part; the tools
 *                      block whenever tools is given, even empty.  Before rendering, tool_calls get
 *                      vLLM's own preprocessing (chat_utils._postprocess_messages): null or empty
 *                      tool_calls are dropped, string arguments are parsed as JSON, missing/empty
 *                      arguments become {}.
 *   MMX_CHAT_LLAMACPP  llama.cpp's models/templates/MiniMax-M1.jinja, which its converter writes into
 *                      every MiniMax GGUF (tokenizer.chat_template): the previous version of the vLLM
 *                      template, identical to it but with "ai_setting=assistant" / "ai name=assistant".
 *
 * "trim" is Python's str.strip() (Jinja's trim filter as transformers and vLLM run it): Unicode
 * whitespace per Python, which includes U+001C..U+001F and U+0085 and not U+FEFF.  Tools and
 * tool-call arguments are rendered as Python's json.dumps(x, ensure_ascii=False): ", " / ": "
 * separators, keys in the given order, non-ASCII raw, control characters escaped, floats as Python
 * prints them (1.0, 1e-05, 1e+16).
 *
 * Where the Jinja templates would raise an error, the renderer is lenient where a sensible output
 * exists (an assistant message with null content renders empty text; an empty messages list renders
 * no messages; a tool part without a name renders an empty name) and returns MMX_ERR_INVALID_ARG
 * otherwise.
 */
#ifndef MMX_CHAT_H
#define MMX_CHAT_H

#include "mmx.h"

#include <jansson.h>
#include <stdbool.h>

#define MMX_CHAT_N_KINDS 4 /* kinds in mmx_chat_kind (mmx.h) */

/* Renders messages (a JSON array; see mmx.h for the message shapes) and tools (a JSON array of
 * objects; NULL or JSON null for none) into a malloc'd NUL-terminated prompt: *out (the caller
 * free()s it), *out_len bytes (the text may contain NUL bytes if the content does).  opts may be
 * NULL (defaults).  When marks is non-NULL, *marks receives a malloc'd array (caller free()s it;
 * NULL when *n_marks is 0) of the byte offsets of the special-token strings the template itself
 * wrote — <begin_of_document>, <beginning_of_sentence>, <end_of_sentence> — as opposed to the same
 * text inside message content; mmx_chat_tokenize needs them.  The inputs are only read.
 * Returns
 *   MMX_OK
 *   MMX_ERR_INVALID_ARG  messages not an array; a message not an object; role missing, not a string
 *                        or unknown (system, user, assistant, tool; "ipython" too for the vLLM kinds);
 *                        content missing where the template needs it or of the wrong type; a part not
 *                        an object or with a non-string text/type/name; tools not an array or a tool
 *                        not an object; a tool call without function.name or with unparseable
 *                        arguments; an unknown kind.  err->message names the index and field, e.g.
 *                        "messages[2].content[0].text must be a string".
 *   MMX_ERR_NOMEM
 * On error *out is NULL (and *marks NULL, *n_marks 0). */
mmx_status mmx_chat_render_opts(mmx_chat_kind kind, const json_t *messages, const json_t *tools,
                                const mmx_chat_options *opts, char **out, size_t *out_len, size_t **marks,
                                size_t *n_marks, mmx_error *err);

/* Shorthands: default options with the given add_generation_prompt. */
mmx_status mmx_chat_render(mmx_chat_kind kind, const json_t *messages, const json_t *tools, bool add_generation_prompt,
                           char **out, size_t *out_len, mmx_error *err);
mmx_status mmx_chat_render_marked(mmx_chat_kind kind, const json_t *messages, const json_t *tools,
                                  bool add_generation_prompt, char **out, size_t *out_len, size_t **marks,
                                  size_t *n_marks, mmx_error *err);

/* mmx_chat_render_json_opts (the JSON-text variant) is declared in mmx.h. */

struct mmx_tokenizer;
/* Token ids of a rendered prompt: the template's markers (offsets from mmx_chat_render_opts) become
 * their special ids; everything between them (user, system, tool text) is encoded as plain text, so
 * message content can never inject control tokens.  Equals tokenizing the whole prompt with special
 * tokens recognised when the content holds no special-token text.  *ids is malloc'd (free() it).
 * Returns MMX_OK, MMX_ERR_INVALID_ARG (the tokenizer lacks a marker token) or MMX_ERR_NOMEM. */
mmx_status mmx_chat_tokenize(const struct mmx_tokenizer *tok, const char *text, size_t len, const size_t *marks,
                             size_t n_marks, int32_t **ids, size_t *n_ids, mmx_error *err);

/* Python json.dumps(value, ensure_ascii=False) (", " and ": " separators, keys in order) into a
 * malloc'd NUL-terminated string (free() it); NULL on allocation failure. */
char *mmx_json_dumps_python(const json_t *value);

/* Python str.strip() on UTF-8: sets [*start, *start + *len) to s[0..n) without leading and
 * trailing Python whitespace (see above).  Invalid UTF-8 bytes count as non-space. */
void mmx_py_strip(const char *s, size_t n, size_t *start, size_t *len);

#endif
