/* safetensors reader: the golden HF files, a small file built in memory with every accepted form,
 * and one negative test per corruption kind, each expecting MMX_ERR_FORMAT and a message naming
 * the file and the tensor involved; truncation at every byte of a golden file's header. */
#define _GNU_SOURCE
#include "safetensors.h"
#include "test.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define GOLD "tests/data/golden/"

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* 8-byte header size + `json` + `data_len` bytes of a pattern; *len gets the total size */
static uint8_t *make_st(const char *json, size_t data_len, size_t *len) {
    size_t hl = strlen(json);
    *len = 8 + hl + data_len;
    uint8_t *p = malloc(*len ? *len : 1);
    if (!p) abort();
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(p + 8, json, hl);
    for (size_t i = 0; i < data_len; i++) p[8 + hl + i] = (uint8_t)(i * 13 + 5);
    return p;
}

static void expect_fail_at(int line, const uint8_t *p, size_t n, const char *const *needles) {
    mmx_st *st = (mmx_st *)&st; /* not NULL: parse must clear it */
    mmx_error e = {0};
    mmx_status s = mmx_st_parse(p, n, "sample.safetensors", &st, &e);
    CHECKF(s == MMX_ERR_FORMAT, "line %d: status %d, expected MMX_ERR_FORMAT (message: %s)", line, s,
           s == MMX_OK ? "-" : e.message);
    if (s == MMX_OK) {
        mmx_st_free(st);
        return;
    }
    CHECKF(st == NULL, "line %d: *out not cleared", line);
    CHECKF(strstr(e.message, "sample.safetensors") != NULL, "line %d: message lacks the file name: %s", line, e.message);
    for (; *needles; needles++)
        CHECKF(strstr(e.message, *needles) != NULL, "line %d: message lacks '%s': %s", line, *needles, e.message);
}
#define EXPECT_FAIL(p, n, ...) expect_fail_at(__LINE__, p, n, (const char *const[]){__VA_ARGS__, NULL})

/* a JSON header around one entry for tensor "w", with 64 bytes of data */
static void expect_entry_fails(int line, const char *entry, const char *const *needles) {
    char json[1024];
    snprintf(json, sizeof json, "{\"ok\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"w\": %s}", entry);
    size_t n;
    uint8_t *p = make_st(json, 64, &n);
    expect_fail_at(line, p, n, needles);
    free(p);
}
#define EXPECT_ENTRY_FAILS(entry, ...) expect_entry_fails(__LINE__, entry, (const char *const[]){"tensor 'w'", __VA_ARGS__, NULL})

/* ---- golden files ----------------------------------------------------------------------------- */
static void check_inside(const mmx_st *st, const uint8_t *base, size_t len) {
    for (size_t i = 0; i < mmx_st_n_tensors(st); i++) {
        const mmx_tensor *t = mmx_st_tensor(st, i);
        const uint8_t *d = t->data;
        CHECKF(d && d >= base && (size_t)(d - base) + t->n_bytes <= len, "%s outside the file", t->name);
        CHECKF(t->n_bytes == mmx_tensor_n_elems(t) * (t->type == MMX_TYPE_F32 ? 4 : 2), "%s size", t->name);
        CHECK(mmx_st_find(st, t->name) == t);
    }
}

TEST(safetensors_golden_tiny_f32) {
    size_t len;
    uint8_t *buf = slurp(GOLD "tiny-f32/model.safetensors", &len);
    REQUIRE(buf);
    mmx_st *st;
    mmx_error err;
    mmx_status s = mmx_st_parse(buf, len, "tiny-f32", &st, &err);
    CHECKF(s == MMX_OK, "%s", err.message);
    REQUIRE(s == MMX_OK);
    CHECK(mmx_st_n_tensors(st) == 155); /* 156 header entries, one is __metadata__ */
    CHECK(mmx_st_find(st, "__metadata__") == NULL);
    const mmx_tensor *t = mmx_st_find(st, "model.embed_tokens.weight");
    REQUIRE(t);
    CHECK(t->type == MMX_TYPE_F32 && !strcmp(t->type_name, "F32") && t->n_dims == 2 && t->shape[0] == 512 &&
          t->shape[1] == 64 && t->n_bytes == 131072);
    CHECK((const uint8_t *)t->data == buf + 8 + 17632); /* data_offsets [0, 131072] */
    t = mmx_st_find(st, "model.layers.0.block_sparse_moe.gate.weight");
    CHECK(t && t->n_dims == 2 && t->shape[0] == 4 && t->shape[1] == 64 && (const uint8_t *)t->data == buf + 8 + 17632 + 213760);
    t = mmx_st_find(st, "model.norm.weight");
    CHECK(t && t->n_dims == 1 && t->shape[0] == 64 && t->n_bytes == 256);
    CHECK(mmx_st_find(st, "model.layers.7.self_attn.q_proj.weight") != NULL);
    CHECK(mmx_st_find(st, "model.layers.0.block_sparse_moe.experts.3.w2.weight") != NULL);
    CHECK(mmx_st_find(st, "model.layers.8.input_layernorm.weight") == NULL);
    check_inside(st, buf, len);
    mmx_st_free(st);
    free(buf);
}

TEST(safetensors_golden_tiny_bf16) {
    mmx_st *st;
    mmx_error err;
    mmx_status s = mmx_st_open(GOLD "tiny-bf16/model.safetensors", &st, &err);
    CHECKF(s == MMX_OK, "%s", err.message);
    REQUIRE(s == MMX_OK);
    CHECK(mmx_st_n_tensors(st) == 499);
    const mmx_tensor *t = mmx_st_find(st, "model.embed_tokens.weight");
    CHECK(t && t->type == MMX_TYPE_BF16 && !strcmp(t->type_name, "BF16") && t->shape[0] == 512 && t->shape[1] == 96 &&
          t->n_bytes == 512 * 96 * 2);
    t = mmx_st_find(st, "model.layers.0.self_attn.qkv_proj.weight");
    CHECK(t && t->shape[0] == 384 && t->shape[1] == 96);
    size_t n_bf16 = 0;
    for (size_t i = 0; i < mmx_st_n_tensors(st); i++) n_bf16 += mmx_st_tensor(st, i)->type == MMX_TYPE_BF16;
    CHECK(n_bf16 == 499);
    mmx_st_free(st);
}

TEST(safetensors_golden_truncated_at_every_header_byte) {
    size_t len;
    uint8_t *buf = slurp(GOLD "tiny-f32/model.safetensors", &len);
    REQUIRE(buf);
    size_t header = 8 + 17632, bad = 0, cuts = 0;
    for (size_t cut = 0; cut < len; cut += cut < header + 64 ? 1 : 4099) {
        uint8_t *p = malloc(cut ? cut : 1); /* exactly `cut` bytes, so ASan sees any overread */
        memcpy(p, buf, cut);
        mmx_st *st;
        mmx_error e = {0};
        mmx_status s = mmx_st_parse(p, cut, "t.safetensors", &st, &e);
        cuts++;
        bool ok = s == MMX_ERR_FORMAT && strstr(e.message, "t.safetensors") &&
                  (cut < header ? strstr(e.message, "truncated") != NULL
                                : strstr(e.message, "tensor '") && strstr(e.message, "data section"));
        if (!ok && bad++ < 5) printf("    cut %zu: status %d: %s\n", cut, s, s ? e.message : "ok");
        if (s == MMX_OK) mmx_st_free(st);
        free(p);
    }
    printf("    %zu cut points (every byte of the %zu-byte header), %zu bad\n", cuts, header, bad);
    CHECK(bad == 0);
    free(buf);
}

/* ---- an in-memory sample ---------------------------------------------------------------------- */
TEST(safetensors_sample_every_accepted_form) {
    const char *json = "{\"__metadata__\": {\"format\": \"pt\"},"
                       " \"a\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 24]},"
                       " \"b\": {\"dtype\": \"F16\", \"shape\": [1, 2, 2, 2], \"data_offsets\": [24, 40]},"
                       " \"scalar\": {\"dtype\": \"BF16\", \"shape\": [], \"data_offsets\": [40, 42]},"
                       " \"empty\": {\"dtype\": \"F32\", \"shape\": [0, 4], \"data_offsets\": [42, 42]},"
                       " \"ids\": {\"dtype\": \"I64\", \"shape\": [2], \"data_offsets\": [48, 64], \"extra\": 1},"
                       " \"bytes\": {\"dtype\": \"U8\", \"shape\": [3], \"data_offsets\": [64, 67]}}   ";
    size_t n;
    uint8_t *p = make_st(json, 67, &n);
    mmx_st *st;
    mmx_error e;
    mmx_status s = mmx_st_parse(p, n, "sample.safetensors", &st, &e);
    CHECKF(s == MMX_OK, "%s", e.message);
    REQUIRE(s == MMX_OK);
    const uint8_t *data = p + 8 + strlen(json);
    CHECK(mmx_st_n_tensors(st) == 6);
    const mmx_tensor *t = mmx_st_find(st, "a");
    CHECK(t && t->type == MMX_TYPE_F32 && t->n_dims == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->n_bytes == 24 &&
          t->data == data);
    t = mmx_st_find(st, "b");
    CHECK(t && t->type == MMX_TYPE_F16 && t->n_dims == 4 && t->shape[3] == 2 && t->n_bytes == 16 && t->data == data + 24);
    t = mmx_st_find(st, "scalar"); /* shape [] -> [1] */
    CHECK(t && t->type == MMX_TYPE_BF16 && t->n_dims == 1 && t->shape[0] == 1 && t->n_bytes == 2 && t->data == data + 40);
    t = mmx_st_find(st, "empty");
    CHECK(t && t->n_dims == 2 && t->shape[0] == 0 && t->n_bytes == 0 && t->data == NULL && mmx_tensor_n_elems(t) == 0);
    t = mmx_st_find(st, "ids");
    CHECK(t && t->type == MMX_TYPE_COUNT && !strcmp(t->type_name, "I64") && t->n_bytes == 16 && t->data == data + 48);
    t = mmx_st_find(st, "bytes");
    CHECK(t && t->type == MMX_TYPE_COUNT && !strcmp(t->type_name, "U8") && t->n_bytes == 3);
    CHECK(mmx_st_find(st, "__metadata__") == NULL && mmx_st_find(st, "c") == NULL);
    mmx_st_free(st);
    free(p);

    /* an empty header object is a valid file with no tensors */
    p = make_st("{}", 0, &n);
    CHECK(mmx_st_parse(p, n, "e", &st, &e) == MMX_OK && mmx_st_n_tensors(st) == 0);
    mmx_st_free(st);
    free(p);
}

TEST(safetensors_corrupt_header_size) {
    size_t n;
    uint8_t *p = make_st("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4, &n);
    uint64_t bad[] = {n - 8 + 1, UINT64_MAX, UINT64_C(1) << 63, 100000001};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int k = 0; k < 8; k++) p[k] = (uint8_t)(bad[i] >> (8 * k));
        EXPECT_FAIL(p, n, "header size");
    }
    EXPECT_FAIL(p, 7, "truncated");
    EXPECT_FAIL(p, 0, "truncated");
    free(p);
}

TEST(safetensors_corrupt_header_not_json) {
    const char *bad[] = {"{\"w\": ", "", "   ", "{\"w\": {\"dtype\": \"F32\",}}", "{\"a\": 1} trailing", "\xff\xfe"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n;
        uint8_t *p = make_st(bad[i], 16, &n);
        EXPECT_FAIL(p, n, "not valid JSON");
        free(p);
    }
    /* a header cut short by a smaller declared size is not JSON either */
    size_t n;
    uint8_t *p = make_st("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4, &n);
    p[0] -= 3;
    EXPECT_FAIL(p, n, "not valid JSON");
    free(p);
}

TEST(safetensors_corrupt_header_not_object) {
    const char *bad[] = {"[1, 2]", "\"x\"", "42", "null", "true"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n;
        uint8_t *p = make_st(bad[i], 0, &n);
        EXPECT_FAIL(p, n, "expected a JSON object");
        free(p);
    }
    size_t n;
    uint8_t *p = make_st("{\"__metadata__\": [1]}", 0, &n);
    EXPECT_FAIL(p, n, "__metadata__");
    free(p);
    EXPECT_ENTRY_FAILS("3", "is an integer, expected an object");
    EXPECT_ENTRY_FAILS("[\"F32\"]", "expected an object");
}

TEST(safetensors_corrupt_missing_fields) {
    EXPECT_ENTRY_FAILS("{\"shape\": [2], \"data_offsets\": [8, 16]}", "'dtype' is missing");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"data_offsets\": [8, 16]}", "'shape' is missing");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [2]}", "'data_offsets' is missing");
    EXPECT_ENTRY_FAILS("{}", "missing");
}

TEST(safetensors_corrupt_bad_dtype) {
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F12\", \"shape\": [2], \"data_offsets\": [8, 16]}", "unknown dtype 'F12'");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"f32\", \"shape\": [2], \"data_offsets\": [8, 16]}", "unknown dtype 'f32'");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F4\", \"shape\": [2], \"data_offsets\": [8, 16]}", "unknown dtype 'F4'");
    EXPECT_ENTRY_FAILS("{\"dtype\": 32, \"shape\": [2], \"data_offsets\": [8, 16]}", "'dtype' is an integer");
}

TEST(safetensors_corrupt_data_offsets) {
    /* out of range (the data section has 64 bytes) */
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [60, 68]}", "[60, 68]", "64-byte data section");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [100, 100]}", "64-byte data section");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 9223372036854775807]}", "data section");
    /* reversed */
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [16, 8]}", "reversed");
    /* size mismatch with shape * dtype */
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [8, 16]}", "hold 8 bytes", "need 12");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"BF16\", \"shape\": [4, 2], \"data_offsets\": [0, 8]}", "hold 8 bytes", "need 16");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 0]}", "need 4");
    /* malformed */
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8]}", "[begin, end]");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16, 24]}", "[begin, end]");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [-8, 0]}", "[begin, end]");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8.0, 16]}", "[begin, end]");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": {\"b\": 8}}", "[begin, end]");
}

TEST(safetensors_corrupt_shape_entries) {
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [-1, 2], \"data_offsets\": [8, 16]}", "shape[0] is a negative integer");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [2, 1.5], \"data_offsets\": [8, 16]}", "shape[1] is a non-integer number");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [2.0], \"data_offsets\": [8, 16]}", "shape[0] is a non-integer");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [\"2\"], \"data_offsets\": [8, 16]}", "shape[0] is a string");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [null], \"data_offsets\": [8, 16]}", "shape[0] is null");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": 2, \"data_offsets\": [8, 16]}", "'shape' is an integer");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [1, 1, 1, 1, 2], \"data_offsets\": [8, 16]}", "5 dimensions");
    /* overflow of the element count, and of the byte size */
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 2], \"data_offsets\": [8, 16]}",
                       "overflows");
    EXPECT_ENTRY_FAILS("{\"dtype\": \"F64\", \"shape\": [4611686018427387904], \"data_offsets\": [8, 16]}", "overflows");
    /* an integer too big for Jansson's int64: not valid JSON (no tensor name then) */
    size_t n;
    uint8_t *p = make_st("{\"w\": {\"dtype\": \"F32\", \"shape\": [18446744073709551616], \"data_offsets\": [8, 16]}}", 64, &n);
    EXPECT_FAIL(p, n, "not valid JSON", "too big");
    free(p);
}

TEST(safetensors_corrupt_duplicate_names) {
    const char *json = "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                       " \"model.layers.0.mlp.weight\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]},"
                       " \"model.layers.0.mlp.weight\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}";
    size_t n;
    uint8_t *p = make_st(json, 12, &n);
    EXPECT_FAIL(p, n, "tensor 'model.layers.0.mlp.weight' appears twice");
    free(p);
    p = make_st("{\"q\\\"x\": {}, \"w\": {}, \"q\\\"x\" : {}}", 0, &n); /* a name with an escaped quote */
    EXPECT_FAIL(p, n, "tensor 'q\\\"x' appears twice");
    free(p);
    /* a NUL inside a name (Jansson refuses NUL in keys) */
    p = make_st("{\"a\\u0000b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4, &n);
    EXPECT_FAIL(p, n, "JSON");
    free(p);
}

TEST(safetensors_open_errors) {
    mmx_st *st = (mmx_st *)&st;
    mmx_error e;
    CHECK(mmx_st_open("tests/data/none/model.safetensors", &st, &e) == MMX_ERR_IO && st == NULL);
    CHECKF(strstr(e.message, "none/model.safetensors") && strstr(e.message, "No such file"), "%s", e.message);
    char path[600];
    snprintf(path, sizeof path, "%s/empty.safetensors", mmx_test_tmpdir());
    FILE *f = fopen(path, "wb");
    REQUIRE(f);
    fclose(f);
    CHECK(mmx_st_open(path, &st, &e) == MMX_ERR_FORMAT && st == NULL);
    CHECKF(strstr(e.message, "empty.safetensors") && strstr(e.message, "empty"), "%s", e.message);
    CHECK(mmx_st_open(path, &st, NULL) == MMX_ERR_FORMAT);
}
