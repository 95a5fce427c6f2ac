/*
 * The public header alone is enough to run a model end to end: load, tokenize a chat prompt,
 * evaluate, sample, decode.  This file includes nothing from src/.
 */
#include "mmx.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

TEST(public_api_end_to_end) {
    mmx_error err;
    mmx_tokenizer *tok = NULL;
    REQUIRE(mmx_tokenizer_load("data/tokenizer/minimax-01/tokenizer.json", &tok, &err) == MMX_OK);
    int32_t *ids = NULL;
    size_t n = 0;
    REQUIRE(mmx_chat_tokenize_json(tok, MMX_CHAT_M1, "[{\"role\":\"user\",\"content\":\"Hi <end_of_sentence>\"}]", NULL,
                                   true, &ids, &n, &err) == MMX_OK);
    CHECK(n > 6 && ids[0] == 200034 && ids[1] == 200019);
    size_t specials = 0;
    for (size_t i = 0; i < n; i++) specials += mmx_tokenizer_is_special(tok, ids[i]);
    CHECK(specials == 4); /* begin_of_document, BOS, EOS, BOS: the user's marker text stayed text */
    char *text = NULL;
    size_t len = 0;
    CHECK(mmx_chat_render_json(MMX_CHAT_M1, "[{\"role\":\"user\",\"content\":\"Hi\"}]", NULL, false, &text, &len, &err) == MMX_OK);
    CHECK(text && !strcmp(text, "<begin_of_document><beginning_of_sentence>user name=user\nHi<end_of_sentence>\n"));
    free(text);
    CHECK(mmx_chat_render_json(MMX_CHAT_M1, "[{", NULL, false, &text, &len, &err) == MMX_ERR_INVALID_ARG);

    /* a golden model (vocabulary 512): clamp the prompt ids into it and generate a few tokens */
    mmx_model *m = NULL;
    REQUIRE(mmx_model_load("tests/data/golden/tiny-f32", NULL, &m, &err) == MMX_OK);
    mmx_model_info info;
    mmx_model_get_info(m, &info);
    for (size_t i = 0; i < n; i++) ids[i] %= (int32_t)info.n_vocab;
    mmx_seq *s = NULL;
    REQUIRE(mmx_seq_create(m, NULL, &s, &err) == MMX_OK);
    mmx_sampler_params sp = mmx_sampler_default_params();
    mmx_sampler *smp = NULL;
    REQUIRE(mmx_sampler_from_params(&sp, info.n_vocab, info.n_vocab_valid, &smp, &err) == MMX_OK);
    float *logits = malloc(info.n_vocab * sizeof *logits);
    CHECK(mmx_seq_eval(s, ids, n, MMX_LOGITS_LAST, logits, &err) == MMX_OK);
    for (int i = 0; i < 5; i++) {
        int32_t t = mmx_sampler_sample(smp, logits);
        CHECK(t >= 0 && (size_t)t < info.n_vocab_valid);
        mmx_sampler_accept(smp, t);
        CHECK(mmx_seq_eval(s, &t, 1, MMX_LOGITS_LAST, logits, &err) == MMX_OK);
    }
    CHECK(mmx_seq_n_past(s) == n + 5);
    free(logits);
    free(ids);
    mmx_sampler_free(smp);
    mmx_seq_free(s);
    mmx_model_free(m);
    mmx_tokenizer_free(tok);
}

/* logits of `tokens` from a freshly loaded model (mapped or read into huge-page memory) */
static float *logits_of(const char *path, bool hugepages, const int32_t *tokens, size_t T, size_t *V, bool *in_hp) {
    mmx_model_params mp = mmx_model_default_params();
    mp.weights_in_hugepages = hugepages;
    mp.n_threads = 2;
    mmx_model *m = NULL;
    mmx_error err;
    if (mmx_model_load(path, &mp, &m, &err) != MMX_OK) return NULL;
    mmx_model_info info;
    mmx_model_get_info(m, &info);
    *V = info.n_vocab;
    *in_hp = info.weights_in_hugepages;
    float *out = malloc(T * info.n_vocab * sizeof(float));
    mmx_seq *s = NULL;
    mmx_seq_params sp = mmx_seq_default_params();
    sp.n_ctx = T;
    if (!out || mmx_seq_create(m, &sp, &s, &err) != MMX_OK ||
        mmx_seq_eval(s, tokens, T, MMX_LOGITS_ALL, out, &err) != MMX_OK) {
        free(out);
        out = NULL;
    }
    mmx_seq_free(s);
    mmx_model_free(m);
    return out;
}

/* Weights read into huge-page memory are the same bytes at the same addresses: the logits are
 * bit-identical to the mapped model's, for a GGUF file and for a sharded HF directory. */
TEST(public_api_hugepage_weights_same_logits) {
    const char *paths[] = {"tests/data/golden/gguf/minimax01-tiny-bf16.gguf", "tests/data/golden/tiny-bf16",
                           "tests/data/random/mixed-f16-sharded"};
    int32_t tokens[37];
    for (size_t i = 0; i < 37; i++) tokens[i] = (int32_t)((i * 97 + 13) % 300); /* inside every vocabulary here */
    for (size_t k = 0; k < sizeof paths / sizeof paths[0]; k++) {
        size_t V0 = 0, V1 = 0;
        bool hp0 = true, hp1 = false;
        float *a = logits_of(paths[k], false, tokens, 37, &V0, &hp0), *b = logits_of(paths[k], true, tokens, 37, &V1, &hp1);
        CHECKF(a && b, "%s: load or eval failed", paths[k]);
        CHECKF(!hp0 && hp1, "%s: weights_in_hugepages reported %d/%d", paths[k], hp0, hp1);
        if (a && b) CHECKF(V0 == V1 && !memcmp(a, b, 37 * V0 * sizeof(float)), "%s: logits differ", paths[k]);
        free(a);
        free(b);
    }
}
