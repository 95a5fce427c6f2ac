/* GGUF writer/reader round trip, and the tokenizer loaded from a GGUF written with the MiniMax
 * vocabulary: the same ids as from tokenizer.json on the whole conformance set. */
#define _GNU_SOURCE
#include "gguf.h"
#include "test.h"
#include "tokenizer.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

TEST(gguf_writer_roundtrip) {
    char path[600];
    snprintf(path, sizeof path, "%s/rt.gguf", mmx_test_tmpdir());
    mmx_gguf_writer *w;
    mmx_error err;
    REQUIRE(mmx_gguf_writer_open(path, &w, &err) == MMX_OK);
    mmx_gguf_writer_set_str(w, "general.architecture", "minimax-01", 10);
    mmx_gguf_writer_set_int(w, "a.u32", MMX_GGUF_U32, 4000000000LL);
    mmx_gguf_writer_set_int(w, "a.i8", MMX_GGUF_I8, -5);
    mmx_gguf_writer_set_int(w, "a.u64", MMX_GGUF_U64, 1LL << 40);
    mmx_gguf_writer_set_float(w, "a.f32", MMX_GGUF_F32, 2.5);
    mmx_gguf_writer_set_float(w, "a.f64", MMX_GGUF_F64, 1e-300);
    mmx_gguf_writer_set_bool(w, "a.bool", true);
    int64_t iv[3] = {1, -2, 3};
    double fv[2] = {0.5, -4};
    const char *sv[3] = {"x", "", "héllo"};
    mmx_gguf_writer_set_arr_int(w, "a.arr_i32", MMX_GGUF_I32, iv, 3);
    mmx_gguf_writer_set_arr_float(w, "a.arr_f32", MMX_GGUF_F32, fv, 2);
    mmx_gguf_writer_set_arr_str(w, "a.arr_str", sv, NULL, 3);
    uint64_t s1[2] = {3, 64}, s2[1] = {5}, s3[3] = {2, 2, 32};
    mmx_gguf_writer_add_tensor(w, "t.f32", MMX_TYPE_F32, 2, s1);
    mmx_gguf_writer_add_tensor(w, "t.bf16", MMX_TYPE_BF16, 1, s2);
    mmx_gguf_writer_add_tensor(w, "t.q8", MMX_TYPE_Q8_0, 3, s3);
    REQUIRE(mmx_gguf_writer_begin_data(w) == MMX_OK);
    float a[192];
    for (int i = 0; i < 192; i++) a[i] = (float)i * 0.25f;
    uint16_t b[5] = {1, 2, 3, 4, 5};
    uint8_t q[4 * 34];
    for (int i = 0; i < 4 * 34; i++) q[i] = (uint8_t)i;
    mmx_gguf_writer_write(w, a, 100 * sizeof(float)); /* in pieces */
    mmx_gguf_writer_write(w, a + 100, 92 * sizeof(float));
    mmx_gguf_writer_write(w, b, sizeof b);
    mmx_gguf_writer_write(w, q, sizeof q);
    REQUIRE(mmx_gguf_writer_close(w, &err) == MMX_OK);
    mmx_gguf_writer_free(w);

    mmx_gguf *g;
    REQUIRE(mmx_gguf_open(path, &g, &err) == MMX_OK);
    const char *s;
    size_t n;
    int64_t x;
    double d;
    bool bv;
    mmx_gguf_type et;
    CHECK(mmx_gguf_get_str(g, "general.architecture", &s, &n) && n == 10 && !memcmp(s, "minimax-01", 10));
    CHECK(mmx_gguf_get_int(g, "a.u32", &x) && x == 4000000000LL);
    CHECK(mmx_gguf_get_int(g, "a.i8", &x) && x == -5);
    CHECK(mmx_gguf_get_int(g, "a.u64", &x) && x == 1LL << 40);
    CHECK(mmx_gguf_get_float(g, "a.f32", &d) && d == 2.5);
    CHECK(mmx_gguf_get_float(g, "a.f64", &d) && d == 1e-300);
    CHECK(mmx_gguf_get_bool(g, "a.bool", &bv) && bv);
    CHECK(mmx_gguf_get_arr(g, "a.arr_i32", &et, &n) && et == MMX_GGUF_I32 && n == 3);
    CHECK(mmx_gguf_arr_int(g, "a.arr_i32", 1, &x) && x == -2);
    CHECK(mmx_gguf_arr_float(g, "a.arr_f32", 1, &d) && d == -4);
    CHECK(mmx_gguf_arr_str(g, "a.arr_str", 2, &s, &n) && n == 6 && !memcmp(s, "héllo", 6));
    CHECK(mmx_gguf_arr_str(g, "a.arr_str", 1, &s, &n) && n == 0);
    CHECK(!mmx_gguf_arr_str(g, "a.arr_str", 3, &s, &n));
    const mmx_tensor *t = mmx_gguf_find_tensor(g, "t.f32");
    CHECK(t && t->type == MMX_TYPE_F32 && t->n_dims == 2 && t->shape[0] == 3 && t->shape[1] == 64 &&
          !memcmp(t->data, a, sizeof a));
    t = mmx_gguf_find_tensor(g, "t.bf16");
    CHECK(t && t->type == MMX_TYPE_BF16 && t->n_bytes == 10 && !memcmp(t->data, b, 10));
    t = mmx_gguf_find_tensor(g, "t.q8");
    CHECK(t && t->type == MMX_TYPE_Q8_0 && t->n_dims == 3 && t->shape[2] == 32 && !memcmp(t->data, q, sizeof q));
    mmx_gguf_free(g);
}

TEST(gguf_writer_rejects_short_data_and_leaves_no_file) {
    char path[600];
    snprintf(path, sizeof path, "%s/short.gguf", mmx_test_tmpdir());
    mmx_gguf_writer *w;
    mmx_error err;
    REQUIRE(mmx_gguf_writer_open(path, &w, &err) == MMX_OK);
    uint64_t s1[1] = {8};
    mmx_gguf_writer_add_tensor(w, "t", MMX_TYPE_F32, 1, s1);
    mmx_gguf_writer_begin_data(w);
    float v[4] = {0};
    mmx_gguf_writer_write(w, v, sizeof v);
    CHECK(mmx_gguf_writer_close(w, &err) == MMX_ERR_INVALID_ARG);
    CHECK(strstr(err.message, "'t'") != NULL);
    mmx_gguf_writer_free(w);
    FILE *f = fopen(path, "rb");
    CHECK(f == NULL);
    if (f) fclose(f);
}

/* tokenizer.json -> GGUF tokenizer arrays (as llama.cpp's converter writes them) */
static bool write_tokenizer_gguf(const char *json_path, const char *out) {
    json_t *root = json_load_file(json_path, 0, NULL);
    if (!root) return false;
    json_t *vocab = json_object_get(json_object_get(root, "model"), "vocab");
    json_t *merges = json_object_get(json_object_get(root, "model"), "merges");
    json_t *added = json_object_get(root, "added_tokens");
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(vocab, k, v) if ((size_t)json_integer_value(v) + 1 > n) n = (size_t)json_integer_value(v) + 1;
    size_t i;
    json_array_foreach(added, i, v) {
        size_t id = (size_t)json_integer_value(json_object_get(v, "id"));
        if (id + 1 > n) n = id + 1;
    }
    const char **toks = calloc(n, sizeof *toks);
    int64_t *types = calloc(n, sizeof *types);
    char **pads = calloc(n, sizeof *pads);
    for (size_t j = 0; j < n; j++) types[j] = 5; /* unused */
    json_object_foreach(vocab, k, v) toks[json_integer_value(v)] = k, types[json_integer_value(v)] = 1;
    json_array_foreach(added, i, v) {
        size_t id = (size_t)json_integer_value(json_object_get(v, "id"));
        toks[id] = json_string_value(json_object_get(v, "content"));
        types[id] = 3;
    }
    for (size_t j = 0; j < n; j++)
        if (!toks[j]) {
            pads[j] = malloc(32);
            snprintf(pads[j], 32, "[PAD%zu]", j);
            toks[j] = pads[j];
        }
    size_t nm = json_array_size(merges);
    const char **ms = calloc(nm, sizeof *ms);
    json_array_foreach(merges, i, v) ms[i] = json_string_value(v);
    mmx_gguf_writer *w;
    mmx_error err;
    bool ok = mmx_gguf_writer_open(out, &w, &err) == MMX_OK;
    if (ok) {
        mmx_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", 4);
        mmx_gguf_writer_set_str(w, "tokenizer.ggml.pre", "minimax-m2", 10);
        mmx_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, NULL, n);
        mmx_gguf_writer_set_arr_int(w, "tokenizer.ggml.token_type", MMX_GGUF_I32, types, n);
        mmx_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", ms, NULL, nm);
        mmx_gguf_writer_set_int(w, "tokenizer.ggml.eos_token_id", MMX_GGUF_U32, 200020);
        ok = mmx_gguf_writer_close(w, &err) == MMX_OK;
        mmx_gguf_writer_free(w);
    }
    for (size_t j = 0; j < n; j++) free(pads[j]);
    free(pads), free(toks), free(types), free(ms);
    json_decref(root);
    return ok;
}

TEST(tokenizer_gguf_route_matches_json_route) {
    char path[600];
    snprintf(path, sizeof path, "%s/tok.gguf", mmx_test_tmpdir());
    REQUIRE(write_tokenizer_gguf("data/tokenizer/minimax-01/tokenizer.json", path));
    mmx_tokenizer *a, *b;
    mmx_error err;
    REQUIRE(mmx_tokenizer_load("data/tokenizer/minimax-01/tokenizer.json", &a, &err) == MMX_OK);
    if (mmx_tokenizer_load(path, &b, &err) != MMX_OK) printf("    %s\n", err.message);
    REQUIRE(b);
    CHECK(mmx_tokenizer_eos(b) == 200020);
    FILE *f = fopen("tests/data/tokenizer/conformance.jsonl", "rb");
    REQUIRE(f);
    char *line = NULL;
    size_t cap = 0, same = 0, total = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *j = json_loads(line, JSON_ALLOW_NUL, NULL);
        json_t *text = json_object_get(j, "text");
        for (int special = 0; special < 2; special++) {
            int32_t *x, *y;
            size_t nx, ny;
            mmx_tokenizer_encode_alloc(a, json_string_value(text), json_string_length(text), special, &x, &nx, &err);
            mmx_tokenizer_encode_alloc(b, json_string_value(text), json_string_length(text), special, &y, &ny, &err);
            total++;
            same += nx == ny && !memcmp(x, y, nx * sizeof *x);
            free(x), free(y);
        }
        json_decref(j);
    }
    free(line);
    fclose(f);
    printf("    %zu / %zu encodings identical from tokenizer.json and from GGUF\n", same, total);
    CHECK(same == total && total >= 2000);
    mmx_tokenizer_free(a);
    mmx_tokenizer_free(b);
}
