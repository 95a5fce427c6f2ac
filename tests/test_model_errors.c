/*
 * Corrupt and invalid model inputs: each kind must give a clear error naming the file and the
 * tensor or field, a non-zero exit status (1, not a signal), and never a crash or a hang.
 * Corruptions are made from the golden tiny models in a temporary directory.
 */
#include "mmx.h"
#include "test.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define GOLD "tests/data/golden/"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

static bool spit(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* A copy of tiny-f32 in tmp/NAME with config.json and the safetensors header optionally edited. */
typedef void (*edit_fn)(json_t *root);
static const char *make_hf(const char *name, edit_fn edit_config, edit_fn edit_header, size_t truncate_to) {
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", mmx_test_tmpdir(), name);
    mkdir(dir, 0755);
    char path[1200];
    size_t len;
    char *cfg = slurp(GOLD "tiny-f32/config.json", &len);
    json_t *root = json_loads(cfg, 0, NULL);
    free(cfg);
    if (edit_config) edit_config(root);
    char *out = json_dumps(root, JSON_INDENT(1));
    snprintf(path, sizeof path, "%s/config.json", dir);
    spit(path, out, strlen(out));
    free(out);
    json_decref(root);

    char *st = slurp(GOLD "tiny-f32/model.safetensors", &len);
    uint64_t hl;
    memcpy(&hl, st, 8);
    const char *data = st + 8 + hl;
    size_t data_len = len - 8 - hl;
    json_t *hdr = json_loadb(st + 8, hl, 0, NULL);
    if (edit_header) edit_header(hdr);
    char *h = json_dumps(hdr, JSON_COMPACT);
    size_t hn = strlen(h), padded = (hn + 7) / 8 * 8;
    size_t total = 8 + padded + data_len;
    char *file = malloc(total);
    uint64_t hl2 = padded;
    memcpy(file, &hl2, 8);
    memset(file + 8, ' ', padded);
    memcpy(file + 8, h, hn);
    memcpy(file + 8 + padded, data, data_len);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    spit(path, file, truncate_to && truncate_to < total ? truncate_to : total);
    free(file);
    free(h);
    json_decref(hdr);
    free(st);
    return dir;
}

/* Runs `mmx logits` on model_path; expects exit status 1 and every `needles` string in the output. */
static void expect_clean_error(const char *model_path, const char *const *needles) {
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "timeout 60 %s logits -m '%s' --tokens 1,2,3", mmx_test_bin(), model_path);
    int rc = mmx_test_run(cmd, out, sizeof out);
    CHECKF(rc == 1, "exit status %d (want 1) for %s; output: %s", rc, model_path, out);
    for (size_t i = 0; needles[i]; i++)
        CHECKF(strstr(out, needles[i]) != NULL, "message lacks '%s': %s", needles[i], out);
}

static void del_qkv3(json_t *h) { json_object_del(h, "model.layers.3.self_attn.qkv_proj.weight"); }
static void swap_shape(json_t *h) {
    json_t *t = json_object_get(h, "model.layers.2.self_attn.qkv_proj.weight");
    json_t *shape = json_object_get(t, "shape");
    json_t *a = json_deep_copy(json_array_get(shape, 0)), *b = json_deep_copy(json_array_get(shape, 1));
    json_array_set_new(shape, 0, b);
    json_array_set_new(shape, 1, a);
}
static void int_dtype(json_t *h) {
    json_object_set_new(json_object_get(h, "model.layers.1.block_sparse_moe.experts.0.w2.weight"), "dtype",
                        json_string("I32"));
}
static void drop_hidden(json_t *c) { json_object_del(c, "hidden_size"); }
static void huge_layers(json_t *c) { json_object_set_new(c, "num_hidden_layers", json_integer(1000000000)); }
static void bad_heads(json_t *c) { json_object_set_new(c, "num_key_value_heads", json_integer(3)); }
static void wrong_arch(json_t *c) {
    json_object_set_new(c, "architectures", json_pack("[s]", "LlamaForCausalLM"));
    json_object_set_new(c, "model_type", json_string("llama"));
}
static void layers_string(json_t *c) { json_object_set_new(c, "num_hidden_layers", json_string("eight")); }

TEST(model_error_missing_tensor) {
    const char *d = make_hf("missing", NULL, del_qkv3, 0);
    expect_clean_error(d, (const char *const[]){"model.layers.3.self_attn.qkv_proj.weight", "missing", NULL});
}
TEST(model_error_wrong_shape) {
    const char *d = make_hf("shape", NULL, swap_shape, 0);
    expect_clean_error(d, (const char *const[]){"model.layers.2.self_attn.qkv_proj.weight", "shape", "model.safetensors", NULL});
}
TEST(model_error_wrong_dtype) {
    const char *d = make_hf("dtype", NULL, int_dtype, 0);
    expect_clean_error(d, (const char *const[]){"model.layers.1.block_sparse_moe.experts.0.w2.weight", "I32", NULL});
}
TEST(model_error_truncated_safetensors) {
    size_t cuts[] = {3, 100, 2000, 1000000};
    for (size_t i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "trunc%zu", i);
        const char *d = make_hf(name, NULL, NULL, cuts[i]);
        expect_clean_error(d, (const char *const[]){"model.safetensors", NULL});
    }
}
TEST(model_error_bad_config_json) {
    const char *d = make_hf("badjson", NULL, NULL, 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/config.json", d);
    spit(path, "{\"hidden_size\": 64,, }", 22);
    expect_clean_error(d, (const char *const[]){"config.json", "JSON", NULL});
}
TEST(model_error_config_fields) {
    expect_clean_error(make_hf("nohidden", drop_hidden, NULL, 0), (const char *const[]){"hidden_size", "config.json", NULL});
    expect_clean_error(make_hf("hugelayers", huge_layers, NULL, 0), (const char *const[]){"num_hidden_layers", NULL});
    expect_clean_error(make_hf("badheads", bad_heads, NULL, 0), (const char *const[]){"head count", NULL});
    expect_clean_error(make_hf("arch", wrong_arch, NULL, 0), (const char *const[]){"not a MiniMax-01 model", NULL});
    expect_clean_error(make_hf("layersstr", layers_string, NULL, 0), (const char *const[]){"num_hidden_layers", NULL});
}
TEST(model_error_missing_path) {
    expect_clean_error("/nonexistent/model.gguf", (const char *const[]){"/nonexistent/model.gguf", NULL});
}

/* ---- GGUF ---------------------------------------------------------------------------------- */

static const char *gguf_variant(const char *name, void (*edit)(char *buf, size_t *len)) {
    static char path[1024];
    size_t len;
    char *buf = slurp(GOLD "gguf/minimax01-tiny-f32.gguf", &len);
    edit(buf, &len);
    snprintf(path, sizeof path, "%s/%s.gguf", mmx_test_tmpdir(), name);
    spit(path, buf, len);
    free(buf);
    return path;
}
static void bad_magic(char *b, size_t *n) { memcpy(b, "GGUX", 4); }
static void bad_version(char *b, size_t *n) { uint32_t v = 99; memcpy(b + 4, &v, 4); }
static void huge_tensor_count(char *b, size_t *n) { uint64_t v = (uint64_t)1 << 60; memcpy(b + 8, &v, 8); }
static void huge_kv_count(char *b, size_t *n) { uint64_t v = (uint64_t)1 << 59; memcpy(b + 16, &v, 8); }
static void truncate_half(char *b, size_t *n) { *n /= 2; }
static void truncate_header(char *b, size_t *n) { *n = 700; }
/* renames every tensor name "blk.3.attn_qkv.weight" -> "blk.3.attn_qkX.weight" (same length) */
static void rename_qkv3(char *b, size_t *n) {
    const char *needle = "blk.3.attn_qkv.weight";
    for (size_t i = 0; i + strlen(needle) <= *n; i++)
        if (!memcmp(b + i, needle, strlen(needle))) b[i + 12] = 'X';
}
/* swaps ne[0] and ne[1] of blk.2.attn_qkv.weight: same size, wrong shape */
static void swap_gguf_shape(char *b, size_t *n) {
    const char *needle = "blk.2.attn_qkv.weight";
    size_t L = strlen(needle);
    for (size_t i = 0; i + L + 4 + 16 <= *n; i++)
        if (!memcmp(b + i, needle, L)) {
            char *ne = b + i + L + 4;
            uint64_t a, c;
            memcpy(&a, ne, 8);
            memcpy(&c, ne + 8, 8);
            memcpy(ne, &c, 8);
            memcpy(ne + 8, &a, 8);
            return;
        }
}
TEST(model_error_gguf_bad_magic) { expect_clean_error(gguf_variant("magic", bad_magic), (const char *const[]){"magic.gguf", NULL}); }
TEST(model_error_gguf_bad_version) { expect_clean_error(gguf_variant("version", bad_version), (const char *const[]){"version", NULL}); }
TEST(model_error_gguf_absurd_counts) {
    expect_clean_error(gguf_variant("ntensors", huge_tensor_count), (const char *const[]){"ntensors.gguf", NULL});
    expect_clean_error(gguf_variant("nkv", huge_kv_count), (const char *const[]){"nkv.gguf", NULL});
}
TEST(model_error_gguf_truncated) {
    expect_clean_error(gguf_variant("half", truncate_half), (const char *const[]){"half.gguf", NULL});
    expect_clean_error(gguf_variant("header", truncate_header), (const char *const[]){"header.gguf", NULL});
}
TEST(model_error_gguf_missing_tensor) {
    expect_clean_error(gguf_variant("noqkv", rename_qkv3), (const char *const[]){"blk.3.attn_qkv.weight", "missing", NULL});
}
TEST(model_error_gguf_wrong_shape) {
    expect_clean_error(gguf_variant("gshape", swap_gguf_shape), (const char *const[]){"blk.2.attn_qkv.weight", "shape", NULL});
}

/* Library-level: a bad token id or a full context is an error status, the sequence stays usable. */
TEST(model_error_eval_arguments) {
    mmx_model *m = NULL;
    mmx_error err;
    REQUIRE(mmx_model_load(GOLD "tiny-f32", NULL, &m, &err) == MMX_OK);
    mmx_seq_params sp = {8, 4};
    mmx_seq *s = NULL;
    REQUIRE(mmx_seq_create(m, &sp, &s, &err) == MMX_OK);
    int32_t bad[2] = {1, 512};
    CHECK(mmx_seq_eval(s, bad, 2, MMX_LOGITS_NONE, NULL, &err) == MMX_ERR_INVALID_ARG);
    CHECK(strstr(err.message, "512") != NULL);
    CHECK(mmx_seq_n_past(s) == 0);
    int32_t ok[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    CHECK(mmx_seq_eval(s, ok, 9, MMX_LOGITS_NONE, NULL, &err) == MMX_ERR_CONTEXT_FULL);
    CHECK(mmx_seq_eval(s, ok, 8, MMX_LOGITS_NONE, NULL, &err) == MMX_OK);
    CHECK(mmx_seq_n_past(s) == 8);
    CHECK(mmx_seq_eval(s, ok, 1, MMX_LOGITS_NONE, NULL, &err) == MMX_ERR_CONTEXT_FULL);
    mmx_seq_reset(s);
    CHECK(mmx_seq_n_past(s) == 0);
    mmx_seq_free(s);
    mmx_model_free(m);
}
