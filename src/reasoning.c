/* Reasoning / answer splitter (see reasoning.h). */
#include "reasoning.h"

#include <string.h>

static const char OPEN[] = "<think>", CLOSE[] = "</think>";

void mmx_reasoning_init(mmx_reasoning_splitter *s, mmx_text_fn emit, void *user) {
    memset(s, 0, sizeof *s);
    s->emit = emit;
    s->user = user;
}

static void out(mmx_reasoning_splitter *s, mmx_text_kind k, const char *t, size_t n) {
    if (n) s->emit(k, t, n, s->user);
}

void mmx_reasoning_feed(mmx_reasoning_splitter *s, const char *text, size_t len) {
    size_t i = 0;
    while (i < len) {
        if (s->state == 2) { /* answer: everything passes */
            out(s, MMX_TEXT_ANSWER, text + i, len - i);
            return;
        }
        char c = text[i++];
        if (s->state == 0) {
            s->pending[s->n_pending++] = c;
            if (!memcmp(s->pending, OPEN, s->n_pending)) {
                if (s->n_pending == sizeof OPEN - 1) s->state = 1, s->n_pending = 0;
                continue;
            }
            s->state = 2; /* not a reasoning answer */
            out(s, MMX_TEXT_ANSWER, s->pending, s->n_pending);
            s->n_pending = 0;
            continue;
        }
        /* reasoning: look for the closing tag, possibly split across pieces */
        s->pending[s->n_pending++] = c;
        if (!memcmp(s->pending, CLOSE, s->n_pending)) {
            if (s->n_pending == sizeof CLOSE - 1) s->state = 2, s->n_pending = 0;
            continue;
        }
        /* mismatch: the longest suffix that is still a prefix of the tag stays pending */
        size_t keep = 0;
        for (size_t k = s->n_pending - 1; k > 0; k--)
            if (!memcmp(s->pending + s->n_pending - k, CLOSE, k)) {
                keep = k;
                break;
            }
        out(s, MMX_TEXT_REASONING, s->pending, s->n_pending - keep);
        memmove(s->pending, s->pending + s->n_pending - keep, keep);
        s->n_pending = keep;
    }
}

void mmx_reasoning_finish(mmx_reasoning_splitter *s) {
    out(s, s->state == 1 ? MMX_TEXT_REASONING : MMX_TEXT_ANSWER, s->pending, s->n_pending);
    s->state = 0;
    s->n_pending = 0;
}
