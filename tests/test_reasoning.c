/* Reasoning splitter: M1's <think>...</think> apart from the answer, for every way the stream is cut. */
#include "reasoning.h"
#include "test.h"

#include <string.h>

typedef struct {
    char reasoning[256], answer[256];
    size_t nr, na;
} collected;

static void collect(mmx_text_kind k, const char *t, size_t n, void *u) {
    collected *c = u;
    if (k == MMX_TEXT_REASONING) memcpy(c->reasoning + c->nr, t, n), c->nr += n;
    else memcpy(c->answer + c->na, t, n), c->na += n;
}

static void run(const char *text, size_t cut1, size_t cut2, collected *c) {
    memset(c, 0, sizeof *c);
    mmx_reasoning_splitter s;
    mmx_reasoning_init(&s, collect, c);
    size_t n = strlen(text);
    mmx_reasoning_feed(&s, text, cut1);
    mmx_reasoning_feed(&s, text + cut1, cut2 - cut1);
    mmx_reasoning_feed(&s, text + cut2, n - cut2);
    mmx_reasoning_finish(&s);
}

TEST(reasoning_split_every_cut) {
    const char *text = "<think>\nI should add </thin 2+2 = 4.\n</think>\nThe answer is 4.";
    size_t n = strlen(text);
    for (size_t a = 0; a <= n; a++)
        for (size_t b = a; b <= n; b++) {
            collected c;
            run(text, a, b, &c);
            CHECKF(c.nr == strlen("\nI should add </thin 2+2 = 4.\n") &&
                       !memcmp(c.reasoning, "\nI should add </thin 2+2 = 4.\n", c.nr),
                   "cuts %zu,%zu: reasoning '%.*s'", a, b, (int)c.nr, c.reasoning);
            CHECKF(c.na == strlen("\nThe answer is 4.") && !memcmp(c.answer, "\nThe answer is 4.", c.na),
                   "cuts %zu,%zu: answer '%.*s'", a, b, (int)c.na, c.answer);
        }
}

TEST(reasoning_plain_answers_pass_through) {
    const char *cases[] = {"Hello <think> not at the start", "<thin", "<", "", "<thinking>x"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        collected c;
        size_t n = strlen(cases[i]);
        run(cases[i], n / 2, n, &c);
        CHECKF(c.nr == 0 && c.na == n && !memcmp(c.answer, cases[i], n), "'%s'", cases[i]);
    }
    collected c;
    run("<think>unfinished", 3, 9, &c); /* stopped mid-reasoning: all of it is reasoning */
    CHECK(c.na == 0 && c.nr == strlen("unfinished"));
}
