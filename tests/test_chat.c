#define _GNU_SOURCE
/*
 * Chat templates: the native renderer against Jinja reference renderings of the real templates
 * (tests/data/chat/expected/<name>.<kind>.txt from tools/chat_conformance.mjs / .py), byte for byte,
 * for content as written and in list-of-parts form; Text-01 = M1; options; bad input; Python-style
 * JSON and strip; template detection from the real template texts; `mmx template`.
 */
#include "chat.h"
#include "test.h"
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) p[n] = 0, *len = (size_t)n;
    return p;
}

/* List-of-parts form of a message list (deep copy): string content -> [{"type":"text","text":s}];
 * a string tool message's part also gets the name the renderer would give it (message name, else
 * the name of the call its tool_call_id answers). */
static json_t *to_parts(const json_t *messages) {
    json_t *out = json_deep_copy(messages);
    size_t i;
    json_t *m;
    json_array_foreach(out, i, m) {
        json_t *c = json_object_get(m, "content");
        if (!json_is_string(c)) continue;
        json_t *part = json_pack("{s:s,s:O}", "type", "text", "text", c);
        if (!strcmp(json_string_value(json_object_get(m, "role")), "tool")) {
            const json_t *name = json_object_get(m, "name");
            const char *id = json_string_value(json_object_get(m, "tool_call_id"));
            for (size_t j = i; !json_is_string(name) && id && j-- > 0;) {
                json_t *calls = json_object_get(json_array_get(out, j), "tool_calls");
                for (size_t k = 0; k < json_array_size(calls); k++)
                    if (!strcmp(json_string_value(json_object_get(json_array_get(calls, k), "id")) ?: "", id))
                        name = json_object_get(json_object_get(json_array_get(calls, k), "function"), "name");
            }
            json_object_set_new(part, "name", json_string(json_is_string(name) ? json_string_value(name) : ""));
        }
        json_object_set_new(m, "content", json_pack("[o]", part));
    }
    return out;
}

static const struct {
    const char *name;
    mmx_chat_kind kind;
} KINDS[] = {{"m1", MMX_CHAT_M1}, {"vllm", MMX_CHAT_VLLM}, {"llamacpp", (mmx_chat_kind)MMX_CHAT_LLAMACPP}};

TEST(chat_templates_match_jinja_reference) {
    json_t *convs = json_load_file("tests/data/chat/conversations.json", 0, NULL);
    REQUIRE(convs);
    size_t total[3] = {0}, pass[3] = {0}, n_conv = json_array_size(convs), n_ref = 0;
    for (size_t ci = 0; ci < n_conv; ci++) {
        const json_t *c = json_array_get(convs, ci);
        const char *cname = json_string_value(json_object_get(c, "name"));
        const json_t *kinds = json_object_get(c, "templates");
        json_t *msgs = json_object_get(c, "messages"), *tools = json_object_get(c, "tools");
        json_t *parts = to_parts(msgs);
        mmx_chat_options opts = mmx_chat_default_options();
        opts.add_generation_prompt = json_is_true(json_object_get(c, "add_generation_prompt"));
        for (size_t k = 0; k < 3; k++) {
            bool listed = !kinds;
            for (size_t j = 0; j < json_array_size(kinds); j++)
                listed |= !strcmp(json_string_value(json_array_get(kinds, j)), KINDS[k].name);
            if (!listed) continue;
            char path[256];
            snprintf(path, sizeof path, "tests/data/chat/expected/%s.%s.txt", cname, KINDS[k].name);
            size_t want_len;
            char *want = read_file(path, &want_len);
            CHECKF(want, "missing %s (run tools/chat_conformance.mjs and .py)", path);
            if (!want) continue;
            n_ref++;
            /* form 0: as written; form 1: every string content as a list of parts; form 2 (m1 only): Text-01 */
            for (int form = 0; form < (KINDS[k].kind == MMX_CHAT_M1 ? 3 : 2); form++) {
                mmx_chat_kind kind = form == 2 ? MMX_CHAT_TEXT01 : KINDS[k].kind;
                char *got;
                size_t len;
                mmx_error err;
                total[form]++;
                if (mmx_chat_render_opts(kind, form == 1 ? parts : msgs, tools, &opts, &got, &len, NULL, NULL, &err) != MMX_OK) {
                    printf("    %s.%s form %d: %s\n", cname, KINDS[k].name, form, err.message);
                    continue;
                }
                if (len != want_len || memcmp(got, want, len)) {
                    size_t at = 0;
                    while (at < len && at < want_len && got[at] == want[at]) at++;
                    printf("    %s.%s form %d differs at byte %zu:\n      got  ...%.60s\n      want ...%.60s\n", cname,
                           KINDS[k].name, form, at, got + (at > 20 ? at - 20 : 0), want + (at > 20 ? at - 20 : 0));
                } else {
                    pass[form]++;
                }
                free(got);
            }
            free(want);
        }
        json_decref(parts);
    }
    printf("    %zu conversations, %zu reference renderings (m1, vllm, llamacpp); byte-identical: %zu/%zu as written, "
           "%zu/%zu as lists of parts, %zu/%zu text01 = m1\n",
           n_conv, n_ref, pass[0], total[0], pass[1], total[1], pass[2], total[2]);
    CHECK(n_conv >= 30 && n_ref >= 120);
    CHECK(pass[0] == total[0] && pass[1] == total[1] && pass[2] == total[2]);
    json_decref(convs);
}

static mmx_status render_text(mmx_chat_kind kind, const char *messages, const char *tools, const mmx_chat_options *o,
                              char **out, mmx_error *err) {
    size_t len;
    return mmx_chat_render_json_opts(kind, messages, tools, o, out, &len, err);
}

TEST(chat_bad_input_names_the_field) {
    struct {
        mmx_chat_kind kind;
        const char *json, *tools, *needle;
    } cases[] = {
        {MMX_CHAT_M1, "{}", NULL, "array"},
        {MMX_CHAT_M1, "[1]", NULL, "messages[0]"},
        {MMX_CHAT_M1, "[{\"content\":\"x\"}]", NULL, "messages[0].role"},
        {MMX_CHAT_M1, "[{\"role\":7,\"content\":\"x\"}]", NULL, "messages[0].role"},
        {MMX_CHAT_M1, "[{\"role\":\"robot\",\"content\":\"x\"}]", NULL, "robot"},
        {MMX_CHAT_VLLM, "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"robot\",\"content\":\"x\"}]", NULL, "messages[1].role"},
        {MMX_CHAT_M1, "[{\"role\":\"ipython\",\"content\":\"x\"}]", NULL, "ipython"},
        {MMX_CHAT_M1, "[{\"role\":\"user\",\"content\":5}]", NULL, "messages[0].content"},
        {MMX_CHAT_M1, "[{\"role\":\"user\",\"content\":\"ok\"},{\"role\":\"user\"}]", NULL, "messages[1].content"},
        {MMX_CHAT_M1, "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":7}]}]", NULL, "messages[0].content[0].text"},
        {MMX_CHAT_M1, "[{\"role\":\"user\",\"content\":[]}]", NULL, "messages[0].content"},
        {MMX_CHAT_M1, "[{\"role\":\"user\",\"content\":[{\"type\":\"image\"}]}]", NULL, "messages[0].content[0].text"},
        {MMX_CHAT_M1, "[{\"role\":\"assistant\",\"content\":[\"x\"]}]", NULL, "messages[0].content[0]"},
        {MMX_CHAT_M1, "[{\"role\":\"tool\",\"content\":[{\"name\":3,\"text\":\"r\"}]}]", NULL, "messages[0].content[0].name"},
        {MMX_CHAT_VLLM, "[{\"role\":\"tool\"}]", NULL, "messages[0].content"},
        {MMX_CHAT_M1, "[]", "{\"a\":1}", "tools must be"},
        {MMX_CHAT_M1, "[]", "[{\"a\":1}, 2]", "tools[1]"},
        {MMX_CHAT_M1, "[{\"role\":\"user\",\"content\":\"x\"}", NULL, "bad JSON"},
        {MMX_CHAT_VLLM, "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":{}}]", NULL,
         "messages[1].tool_calls"},
        {MMX_CHAT_VLLM, "[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"arguments\":\"{}\"}}]}]", NULL,
         "messages[0].tool_calls[0].function.name"},
        {MMX_CHAT_VLLM, "[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":\"{oops\"}}]}]",
         NULL, "messages[0].tool_calls[0].function.arguments"},
        {(mmx_chat_kind)17, "[]", NULL, "kind"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = (char *)1;
        mmx_error err;
        mmx_status st = render_text(cases[i].kind, cases[i].json, cases[i].tools, NULL, &out, &err);
        CHECKF(st == MMX_ERR_INVALID_ARG && out == NULL, "case %zu: status %d", i, (int)st);
        if (st == MMX_ERR_INVALID_ARG)
            CHECKF(strstr(err.message, cases[i].needle) != NULL, "case %zu: '%s' lacks '%s'", i, err.message, cases[i].needle);
        else
            free(out);
    }
}

TEST(chat_python_json_dumps) {
    json_t *v = json_loads("{\"b\": [1, 2.5, 1.0, 1e100, 0.0001, 1e-5, 123456789012345678901234567890.0, true, null, 1e16, 1e15,"
                   " -0.0, 0.00001234, 1e22, 5e-324, 1.7976931348623157e308, 0.1, 100.0, 123456789.0, -1.5e-7,"
                   " 9007199254740993.0, 2.5e-05, 1E5, -0], \"a\": \"\xc3\xa9\\\"\\n\\u0001\\u007f\\u2028\\\\\", \"k\\\"ey\": {}}",
                   0, NULL);
    REQUIRE(v);
    char *s = mmx_json_dumps_python(v);
    /* expected: Python 3.11 json.dumps(json.loads(same text), ensure_ascii=False) */
    const char *want = "{\"b\": [1, 2.5, 1.0, 1e+100, 0.0001, 1e-05, 1.2345678901234568e+29, true, null, 1e+16, "
                       "1000000000000000.0, -0.0, 1.234e-05, 1e+22, 5e-324, 1.7976931348623157e+308, 0.1, 100.0, "
                       "123456789.0, -1.5e-07, 9007199254740992.0, 2.5e-05, 100000.0, 0], "
                       "\"a\": \"\xc3\xa9\\\"\\n\\u0001\x7f\xe2\x80\xa8\\\\\", \"k\\\"ey\": {}}";
    CHECKF(!strcmp(s, want), "\n got  %s\n want %s", s, want);
    free(s);
    json_decref(v);
}

TEST(chat_python_strip) {
    struct {
        const char *in, *out;
    } cases[] = {
        {"  a b  ", "a b"},
        {"\t\n\v\f\r x \r\n", "x"},
        {"\x1c\x1d\x1e\x1fx\x1f", "x"},                     /* Python strips these; JavaScript does not */
        {"\xc2\x85x\xc2\xa0", "x"},                         /* U+0085, U+00A0 */
        {"\xef\xbb\xbfx\xef\xbb\xbf", "\xef\xbb\xbfx\xef\xbb\xbf"}, /* U+FEFF is not space in Python */
        {"\xe3\x80\x80x\xe2\x80\xa8\xe2\x80\xa9", "x"},     /* U+3000, U+2028, U+2029 */
        {"\xe2\x80\x8bx", "\xe2\x80\x8bx"},                 /* U+200B zero width space: not space */
        {"   ", ""},
        {"", ""},
        {"\xff x \xe3\x80", "\xff x \xe3\x80"},             /* invalid bytes count as non-space */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t a, l;
        mmx_py_strip(cases[i].in, strlen(cases[i].in), &a, &l);
        CHECKF(l == strlen(cases[i].out) && !memcmp(cases[i].in + a, cases[i].out, l), "case %zu: got [%zu,+%zu)", i, a, l);
    }
}

TEST(chat_detect_from_real_templates) {
    size_t n;
    char *vllm = read_file("tests/data/chat/templates/vllm-tool_chat_template_minimax_m1.jinja", &n);
    char *lcpp = read_file("tests/data/chat/templates/llamacpp-MiniMax-M1.jinja", &n);
    json_t *cfg = json_load_file("data/tokenizer/minimax-01/tokenizer_config.json", 0, NULL);
    REQUIRE(vllm && lcpp && cfg);
    const char *m1 = json_string_value(json_object_get(cfg, "chat_template"));
    CHECK(mmx_chat_detect(m1, NULL) == MMX_CHAT_M1);
    CHECK(mmx_chat_detect(m1, "MiniMaxText01ForCausalLM") == MMX_CHAT_M1); /* the template text wins */
    CHECK(mmx_chat_detect(vllm, "MiniMaxM1ForCausalLM") == MMX_CHAT_VLLM);
    CHECK((int)mmx_chat_detect(lcpp, NULL) == MMX_CHAT_LLAMACPP);
    CHECK(mmx_chat_detect(NULL, "MiniMaxText01ForCausalLM") == MMX_CHAT_TEXT01);
    CHECK(mmx_chat_detect(NULL, "MiniMaxM1ForCausalLM") == MMX_CHAT_M1);
    CHECK(mmx_chat_detect("{{ unrelated }}", NULL) == MMX_CHAT_M1);
    CHECK(mmx_chat_detect(NULL, NULL) == MMX_CHAT_M1);
    const char *names[] = {"m1", "text01", "vllm", "llamacpp"};
    for (int k = 0; k < 4; k++) {
        mmx_chat_kind kind;
        CHECK(mmx_chat_kind_parse(names[k], &kind) && (int)kind == k && !strcmp(mmx_chat_kind_name(kind), names[k]));
    }
    mmx_chat_kind kind;
    CHECK(!mmx_chat_kind_parse("chatml", &kind));
    free(vllm), free(lcpp);
    json_decref(cfg);
}

static const char *TOOL_FLOW = "[{\"role\":\"user\",\"content\":\"hi\"},"
                               "{\"role\":\"assistant\",\"content\":\"Let me look.\",\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                               "\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\": 1.0, \\\"s\\\": \\\"\xc3\xa9\\\"}\"}},"
                               "{\"id\":\"c2\",\"type\":\"function\",\"function\":{\"name\":\"g\"}}]},"
                               "{\"role\":\"tool\",\"tool_call_id\":\"c2\",\"content\":\"done\"}]";

/* The M1 option for tool calls (no reference template: the model's own output format). */
TEST(chat_m1_render_tool_calls_option) {
    mmx_chat_options o = mmx_chat_default_options();
    o.add_generation_prompt = false;
    char *out;
    mmx_error err;
    REQUIRE(render_text(MMX_CHAT_M1, TOOL_FLOW, NULL, &o, &out, &err) == MMX_OK);
    const char *official = "<begin_of_document><beginning_of_sentence>user name=user\nhi<end_of_sentence>\n"
                           "<beginning_of_sentence>ai name=assistant\nLet me look.<end_of_sentence>\n"
                           "<beginning_of_sentence>tool name=tools\ntool name: g\ntool result: done\n\n<end_of_sentence>\n";
    CHECKF(!strcmp(out, official), "%s", out);
    free(out);
    o.render_tool_calls = true;
    REQUIRE(render_text(MMX_CHAT_M1, TOOL_FLOW, NULL, &o, &out, &err) == MMX_OK);
    const char *with_calls = "<begin_of_document><beginning_of_sentence>user name=user\nhi<end_of_sentence>\n"
                             "<beginning_of_sentence>ai name=assistant\nLet me look.\n<tool_calls>\n"
                             "{\"name\": \"f\", \"arguments\": {\"x\": 1.0, \"s\": \"\xc3\xa9\"}}\n"
                             "{\"name\": \"g\", \"arguments\": {}}\n</tool_calls><end_of_sentence>\n"
                             "<beginning_of_sentence>tool name=tools\ntool name: g\ntool result: done\n\n<end_of_sentence>\n";
    CHECKF(!strcmp(out, with_calls), "%s", out);
    free(out);
    /* the vLLM variant renders only the calls, with the arguments string parsed */
    REQUIRE(render_text(MMX_CHAT_VLLM, TOOL_FLOW, NULL, NULL, &out, &err) == MMX_OK);
    CHECKF(strstr(out, "<beginning_of_sentence>ai name=MiniMax AI\n<tool_calls>\n{\"name\": \"f\", \"arguments\": "
                       "{\"x\": 1.0, \"s\": \"\xc3\xa9\"}}\n{\"name\": \"g\", \"arguments\": {}}\n</tool_calls><end_of_sentence>\n"
                       "<beginning_of_sentence>tool name=tools\ntool result: done\n\n<end_of_sentence>\n"
                       "<beginning_of_sentence>ai name=MiniMax AI\n") != NULL,
           "%s", out);
    free(out);
}

TEST(chat_json_text_api_and_nul) {
    char *out;
    size_t len;
    mmx_error err;
    REQUIRE(mmx_chat_render_json(MMX_CHAT_M1, "[{\"role\":\"user\",\"content\":\"a\\u0000b\"}]", "null", false, &out, &len,
                                 &err) == MMX_OK);
    const char want[] = "<begin_of_document><beginning_of_sentence>user name=user\na\0b<end_of_sentence>\n";
    CHECK(len == sizeof want - 1 && !memcmp(out, want, len));
    free(out);
    /* tools "[]": no block in the official template, an empty block in the vLLM one */
    REQUIRE(mmx_chat_render_json(MMX_CHAT_M1, "[]", "[]", false, &out, &len, &err) == MMX_OK);
    CHECK(!strcmp(out, "<begin_of_document>"));
    free(out);
    REQUIRE(mmx_chat_render_json(MMX_CHAT_VLLM, "[]", "[]", false, &out, &len, &err) == MMX_OK);
    CHECK(strstr(out, "<tools>\n</tools>") != NULL);
    free(out);
}

/* Marker offsets: every mark points at a special-token string, and there is one per marker the
 * template wrote (content containing marker text adds none). */
TEST(chat_marks_point_at_markers) {
    json_t *convs = json_load_file("tests/data/chat/conversations.json", 0, NULL);
    REQUIRE(convs);
    size_t i, checked = 0;
    json_t *c;
    json_array_foreach(convs, i, c) {
        for (size_t k = 0; k < 3; k++) {
            char *text;
            size_t len, *marks, n_marks;
            mmx_error err;
            if (mmx_chat_render_marked(KINDS[k].kind, json_object_get(c, "messages"), json_object_get(c, "tools"), true,
                                       &text, &len, &marks, &n_marks, &err) != MMX_OK)
                continue;
            checked++;
            for (size_t m = 0; m < n_marks; m++) {
                const char *p = text + marks[m];
                CHECKF(!strncmp(p, "<begin_of_document>", 19) || !strncmp(p, "<beginning_of_sentence>", 23) ||
                           !strncmp(p, "<end_of_sentence>", 17),
                       "conversation %zu kind %zu mark %zu", i, k, m);
                CHECK(m == 0 || marks[m] > marks[m - 1]);
            }
            free(text), free(marks);
        }
    }
    CHECK(checked > 100);
    json_decref(convs);
}

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
        for (size_t k = 0; k < 3; k++) {
            char *text;
            size_t len, *marks, n_marks;
            if (mmx_chat_render_marked(KINDS[k].kind, json_object_get(c, "messages"), json_object_get(c, "tools"), true,
                                       &text, &len, &marks, &n_marks, &err) != MMX_OK)
                continue;
            int32_t *a, *b;
            size_t na, nb;
            REQUIRE(mmx_chat_tokenize(tok, text, len, marks, n_marks, &a, &na, &err) == MMX_OK);
            REQUIRE(mmx_tokenizer_encode_alloc(tok, text, len, true, &b, &nb, &err) == MMX_OK);
            size_t specials = 0;
            for (size_t t = 0; t < na; t++) specials += mmx_tokenizer_is_special(tok, a[t]);
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
    }
    CHECKF(same == benign && benign > 100, "%zu / %zu benign prompts tokenized identically", same, benign);
    json_decref(convs);
    mmx_tokenizer_free(tok);
}

/* `mmx template` end to end: the vLLM reference rendering of a committed conversation (--template,
 * no model), the llama.cpp one chosen from a llama.cpp-converted GGUF, the tool-calls option, and
 * clean errors for bad messages / an unknown template. */
TEST(chat_cli_template_command) {
    json_t *convs = json_load_file("tests/data/chat/conversations.json", 0, NULL);
    REQUIRE(convs);
    json_t *c = NULL;
    for (size_t i = 0; i < json_array_size(convs); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(convs, i), "name")), "c33")) c = json_array_get(convs, i);
    REQUIRE(c);
    char mpath[700], tpath[700], bpath[700], cmd[3000];
    static char out[65536];
    snprintf(mpath, sizeof mpath, "%s/chat-msgs.json", mmx_test_tmpdir());
    snprintf(tpath, sizeof tpath, "%s/chat-tools.json", mmx_test_tmpdir());
    snprintf(bpath, sizeof bpath, "%s/chat-bad.json", mmx_test_tmpdir());
    REQUIRE(json_dump_file(json_object_get(c, "messages"), mpath, 0) == 0);
    REQUIRE(json_dump_file(json_object_get(c, "tools"), tpath, JSON_PRESERVE_ORDER) == 0);
    size_t want_len;
    char *want = read_file("tests/data/chat/expected/c33.vllm.txt", &want_len);
    REQUIRE(want);
    snprintf(cmd, sizeof cmd, "%s template --template vllm --messages %s --tools %s", mmx_test_bin(), mpath, tpath);
    int rc = mmx_test_run(cmd, out, sizeof out);
    CHECKF(rc == 0 && strlen(out) == want_len && !memcmp(out, want, want_len), "rc %d: %s", rc, out);
    free(want);
    /* a GGUF converted by llama.cpp carries llama.cpp's template: detected and rendered as such */
    want = read_file("tests/data/chat/expected/c33.llamacpp.txt", &want_len);
    REQUIRE(want);
    snprintf(cmd, sizeof cmd, "%s template -m tests/data/golden/gguf/minimax01-tiny-f32.gguf --messages %s --tools %s",
             mmx_test_bin(), mpath, tpath);
    rc = mmx_test_run(cmd, out, sizeof out);
    CHECKF(rc == 0 && strlen(out) == want_len && !memcmp(out, want, want_len), "rc %d: %s", rc, out);
    free(want);
    snprintf(cmd, sizeof cmd, "%s template --template m1 --tool-calls --no-generation-prompt --messages %s", mmx_test_bin(), mpath);
    rc = mmx_test_run(cmd, out, sizeof out);
    CHECKF(rc == 0 && strstr(out, "ai name=assistant\n<tool_calls>\n{\"name\": \"get_weather\", \"arguments\": "
                                  "{\"location\": \"Paris\", \"unit\": \"c\"}}\n</tool_calls><end_of_sentence>\n") &&
               !strstr(out, "ai name=assistant\n<beginning") && out[strlen(out) - 1] == '\n',
           "rc %d: %s", rc, out);
    FILE *f = fopen(bpath, "w");
    REQUIRE(f);
    fputs("[{\"role\":\"user\",\"content\":\"ok\"},{\"role\":\"user\",\"content\":{\"x\":1}}]", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s template --template m1 --messages %s", mmx_test_bin(), bpath);
    rc = mmx_test_run(cmd, out, sizeof out);
    CHECKF(rc == 1 && strstr(out, "messages[1].content"), "rc %d: %s", rc, out);
    snprintf(cmd, sizeof cmd, "%s template --template chatml --messages %s", mmx_test_bin(), bpath);
    CHECK(mmx_test_run(cmd, out, sizeof out) == 2);
    json_decref(convs);
}
