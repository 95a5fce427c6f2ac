#define _GNU_SOURCE
/*
 * Chat templates: the native renderer against the official MiniMax-M1 template rendered by the
 * Jinja reference (@huggingface/jinja, tools/chat_conformance.mjs -> tests/data/chat/expected-m1.jsonl),
 * byte for byte, for string and list-of-parts content; bad input; Python-style JSON.
 */
#include "chat.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

/* list-of-parts form of a message list (deep copy) */
static json_t *to_parts(const json_t *messages) {
    json_t *out = json_deep_copy(messages);
    size_t i;
    json_t *m;
    json_array_foreach(out, i, m) {
        json_t *c = json_object_get(m, "content");
        if (json_is_string(c)) json_object_set_new(m, "content", json_pack("[{s:s,s:O}]", "type", "text", "text", c));
    }
    return out;
}

TEST(chat_m1_matches_jinja_reference) {
    json_t *convs = json_load_file("tests/data/chat/conversations.json", 0, NULL);
    REQUIRE(convs);
    FILE *f = fopen("tests/data/chat/expected-m1.jsonl", "rb");
    REQUIRE(f);
    char *line = NULL;
    size_t cap = 0, idx = 0, pass = 0, total = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *exp = json_loads(line, 0, NULL);
        json_t *c = json_array_get(convs, idx++);
        const char *want = json_string_value(json_object_get(exp, "text"));
        size_t want_len = json_string_length(json_object_get(exp, "text"));
        json_t *msgs = json_object_get(c, "messages"), *tools = json_object_get(c, "tools");
        bool gen = json_is_true(json_object_get(c, "add_generation_prompt"));
        for (int form = 0; form < 2; form++) {
            json_t *m = form ? to_parts(msgs) : json_incref(msgs);
            char *got;
            size_t len;
            mmx_error err;
            total++;
            if (mmx_chat_render(MMX_CHAT_M1, m, tools, gen, &got, &len, &err) != MMX_OK) {
                printf("    %s: %s\n", json_string_value(json_object_get(c, "name")), err.message);
            } else if (len != want_len || memcmp(got, want, len)) {
                printf("    %s (%s form) differs:\n      got  %s\n      want %s\n", json_string_value(json_object_get(c, "name")),
                       form ? "parts" : "string", got, want);
                free(got);
            } else {
                pass++;
                free(got);
            }
            json_decref(m);
        }
        json_decref(exp);
    }
    free(line);
    fclose(f);
    printf("    %zu / %zu renderings byte-identical to the Jinja reference\n", pass, total);
    CHECK(total >= 60 && pass == total);
    json_decref(convs);
}

TEST(chat_bad_input_names_the_field) {
    struct {
        const char *json, *needle;
    } cases[] = {
        {"{}", "array"},
        {"[1]", "messages[0]"},
        {"[{\"content\":\"x\"}]", "messages[0].role"},
        {"[{\"role\":\"robot\",\"content\":\"x\"}]", "robot"},
        {"[{\"role\":\"user\",\"content\":5}]", "messages[0].content"},
        {"[{\"role\":\"user\",\"content\":\"ok\"},{\"role\":\"user\"}]", "messages[1].content"},
        {"[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":7}]}]", "messages[0].content[0].text"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *m = json_loads(cases[i].json, 0, NULL);
        char *out;
        size_t len;
        mmx_error err;
        CHECK(mmx_chat_render(MMX_CHAT_M1, m, NULL, true, &out, &len, &err) == MMX_ERR_INVALID_ARG);
        CHECKF(strstr(err.message, cases[i].needle) != NULL, "'%s' lacks '%s'", err.message, cases[i].needle);
        json_decref(m);
    }
}

TEST(chat_python_json_dumps) {
    json_t *v = json_loads("{\"b\": [1, 2.5, 1.0, 1e100, 0.0001, 1e-5, 123456789012345678901234567890.0, true, null],"
                           " \"a\": \"é\\\"\\n\\u0001\"}",
                           0, NULL);
    char *s = mmx_json_dumps_python(v);
    CHECKF(!strcmp(s, "{\"b\": [1, 2.5, 1.0, 1e+100, 0.0001, 1e-05, 1.2345678901234568e+29, true, null], "
                      "\"a\": \"é\\\"\\n\\u0001\"}"),
           "%s", s);
    free(s);
    json_decref(v);
}

TEST(chat_detect_and_vllm_variant) {
    CHECK(mmx_chat_detect("...ai name=MiniMax AI...", NULL) == MMX_CHAT_VLLM);
    CHECK(mmx_chat_detect("x ai_setting=assistant y", "MiniMaxText01ForCausalLM") == MMX_CHAT_M1);
    CHECK(mmx_chat_detect(NULL, "MiniMaxText01ForCausalLM") == MMX_CHAT_TEXT01);
    CHECK(mmx_chat_detect(NULL, NULL) == MMX_CHAT_M1);
    json_t *m = json_loads("[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":null,"
                           "\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\": 1}\"}}]}]",
                           0, NULL);
    char *out;
    size_t len;
    mmx_error err;
    REQUIRE(mmx_chat_render(MMX_CHAT_VLLM, m, NULL, false, &out, &len, &err) == MMX_OK);
    CHECKF(strstr(out, "ai name=MiniMax AI\n<tool_calls>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n</tool_calls>") != NULL,
           "%s", out);
    CHECK(strstr(out, "You are a helpful assistant created by Minimax") != NULL);
    free(out);
    json_decref(m);
}

#include "tokenizer.h"

/* Prompt tokens: identical to tokenizing the whole prompt with specials when the content holds no
 * special-token text; with such text in user content, it stays plain text. */
TEST(chat_tokenize_markers_only) {
    mmx_tokenizer *tok;
    mmx_error err;
    REQUIRE(mmx_tokenizer_load("data/tokenizer/minimax-01/tokenizer.json", &tok, &err) == MMX_OK);
    json_t *convs = json_load_file("tests/data/chat/conversations.json", 0, NULL);
    REQUIRE(convs);
    size_t i, same = 0, benign = 0;
    json_t *c;
    json_array_foreach(convs, i, c) {
        char *text;
        size_t len, *marks, n_marks;
        if (mmx_chat_render_marked(MMX_CHAT_M1, json_object_get(c, "messages"), json_object_get(c, "tools"), true, &text,
                                   &len, &marks, &n_marks, &err) != MMX_OK)
            continue;
        int32_t *a, *b;
        size_t na, nb;
        REQUIRE(mmx_chat_tokenize(tok, text, len, marks, n_marks, &a, &na, &err) == MMX_OK);
        REQUIRE(mmx_tokenizer_encode_alloc(tok, text, len, true, &b, &nb, &err) == MMX_OK);
        size_t specials = 0;
        for (size_t k = 0; k < na; k++) specials += mmx_tokenizer_is_special(tok, a[k]);
        CHECKF(specials == n_marks, "conversation %zu: %zu special ids for %zu markers", i, specials, n_marks);
        bool injected = strstr(text, "injected?") != NULL;
        if (!injected) {
            benign++;
            same += na == nb && !memcmp(a, b, na * sizeof *a);
        } else {
            CHECK(nb > 0 && na != nb); /* the naive tokenization would have let the markers through */
        }
        free(a), free(b), free(text), free(marks);
    }
    CHECKF(same == benign && benign > 20, "%zu / %zu benign prompts tokenized identically", same, benign);
    json_decref(convs);
    mmx_tokenizer_free(tok);
}
