/*
 * reasoning.h — separates MiniMax-M1 reasoning from the answer in a token stream.  M1 answers start
 * with "<think>" (plain text, not a special token, SPEC §7), reason, close with "</think>" and then
 * answer.  The splitter takes the generated text in arbitrary pieces (tags may be cut anywhere) and
 * hands each byte on exactly once, labelled as reasoning or answer; the tags themselves are dropped.
 * Text that does not begin with "<think>" is all answer.  Used by `mmx chat` (and later the server's
 * reasoning_content).  No allocation.
 */
#ifndef MMX_REASONING_H
#define MMX_REASONING_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { MMX_TEXT_REASONING, MMX_TEXT_ANSWER } mmx_text_kind;
typedef void (*mmx_text_fn)(mmx_text_kind kind, const char *text, size_t len, void *user);

typedef struct mmx_reasoning_splitter {
    int state;          /* 0: start (undecided), 1: reasoning, 2: answer */
    char pending[16];   /* bytes that may still be part of a tag */
    size_t n_pending;
    mmx_text_fn emit;
    void *user;
} mmx_reasoning_splitter;

void mmx_reasoning_init(mmx_reasoning_splitter *s, mmx_text_fn emit, void *user);
/* Feeds generated text. */
void mmx_reasoning_feed(mmx_reasoning_splitter *s, const char *text, size_t len);
/* End of the answer: flushes held-back bytes and resets for the next answer. */
void mmx_reasoning_finish(mmx_reasoning_splitter *s);

#endif
