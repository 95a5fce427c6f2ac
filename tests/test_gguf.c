/* GGUF reader and writer.
 *   - the golden llama.cpp GGUFs parse, with the expected metadata, shapes and types;
 *   - a small GGUF built byte by byte in memory (every kv type, arrays, four tensors) parses, and one
 *     negative test per corruption kind patches it: each expects MMX_ERR_FORMAT and a message naming
 *     the file and the key or tensor involved;
 *   - truncation at every byte of the sample and of a golden file's header;
 *   - writer round trip (every kv type, every mmx type), copy_kv, custom alignment, writer misuse;
 *   - a 200k-entry string array parses fast and is indexed;
 *   - the tokenizer loaded from a GGUF gives the same ids as from tokenizer.json. */
#define _GNU_SOURCE
#include "gguf.h"
#include "safetensors.h"
#include "test.h"
#include "tokenizer.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GOLD "tests/data/golden/"

/* ---- helpers: a growable byte buffer with little-endian writers -------------------------------- */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} bbuf;

static void put(bbuf *b, const void *d, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, d, n);
    b->len += n;
}
static void put_le(bbuf *b, uint64_t v, size_t n) {
    uint8_t t[8];
    for (size_t i = 0; i < n; i++) t[i] = (uint8_t)(v >> (8 * i));
    put(b, t, n);
}
static void put_u32(bbuf *b, uint32_t v) { put_le(b, v, 4); }
static void put_u64(bbuf *b, uint64_t v) { put_le(b, v, 8); }
static void put_str(bbuf *b, const char *s) {
    put_u64(b, strlen(s));
    put(b, s, strlen(s));
}
static void put_f32(bbuf *b, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(b, u);
}
static void put_f64(bbuf *b, double f) {
    uint64_t u;
    memcpy(&u, &f, 8);
    put_u64(b, u);
}
static void patch_le(uint8_t *p, size_t off, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; i++) p[off + i] = (uint8_t)(v >> (8 * i));
}
static uint8_t *dup_bytes(const uint8_t *p, size_t n) {
    uint8_t *d = malloc(n ? n : 1);
    if (!d) abort();
    memcpy(d, p, n);
    return d;
}
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

/* ---- the sample: a valid GGUF built in memory, with the offset of every field ---------------------- */
enum { S_NKV = 16, S_NT = 4 };
typedef struct {
    bbuf b;
    size_t version, n_tensors, n_kv;
    size_t key[S_NKV], type[S_NKV], val[S_NKV]; /* key: its u64 length; type: its u32; val: the value */
    size_t key_end[S_NKV];                      /* just after the key's bytes */
    size_t arr_u32_count, arr_str_count, arr_str_elem1;
    size_t tname[S_NT], ndims[S_NT], ne[S_NT], ttype[S_NT], toff[S_NT], tinfo_end[S_NT];
    size_t data_start, tdata[S_NT], tbytes[S_NT];
    size_t alignment;
    int nkv;
} sample;

static const char *const s_tnames[S_NT] = {"tensor.a", "tensor.b", "tensor.c", "tensor.d"};

static void kv_start(sample *s, const char *key, uint32_t type) {
    int i = s->nkv++;
    s->key[i] = s->b.len;
    put_str(&s->b, key);
    s->key_end[i] = s->b.len;
    s->type[i] = s->b.len;
    put_u32(&s->b, type);
    s->val[i] = s->b.len;
}

/* alignment 0: no general.alignment key (the default 32) */
static sample make_sample(uint32_t alignment) {
    sample s;
    memset(&s, 0, sizeof s);
    s.alignment = alignment ? alignment : 32;
    put(&s.b, "GGUF", 4);
    s.version = s.b.len;
    put_u32(&s.b, 3);
    s.n_tensors = s.b.len;
    put_u64(&s.b, S_NT);
    s.n_kv = s.b.len;
    put_u64(&s.b, 0); /* patched below */
    kv_start(&s, "general.architecture", MMX_GGUF_STRING);
    put_str(&s.b, "minimax-01");
    kv_start(&s, "minimax-01.block_count", MMX_GGUF_U32);
    put_u32(&s.b, 2);
    kv_start(&s, "test.u8", MMX_GGUF_U8);
    put_le(&s.b, 200, 1);
    kv_start(&s, "test.i8", MMX_GGUF_I8);
    put_le(&s.b, (uint8_t)-100, 1);
    kv_start(&s, "test.u16", MMX_GGUF_U16);
    put_le(&s.b, 60000, 2);
    kv_start(&s, "test.i16", MMX_GGUF_I16);
    put_le(&s.b, (uint16_t)-30000, 2);
    kv_start(&s, "test.i32", MMX_GGUF_I32);
    put_u32(&s.b, (uint32_t)-2000000000);
    kv_start(&s, "test.f32", MMX_GGUF_F32);
    put_f32(&s.b, 1.5f);
    kv_start(&s, "test.bool", MMX_GGUF_BOOL);
    put_le(&s.b, 1, 1);
    kv_start(&s, "test.u64", MMX_GGUF_U64);
    put_u64(&s.b, UINT64_MAX);
    kv_start(&s, "test.i64", MMX_GGUF_I64);
    put_u64(&s.b, (uint64_t)-(INT64_C(1) << 40));
    kv_start(&s, "test.f64", MMX_GGUF_F64);
    put_f64(&s.b, -2.25);
    kv_start(&s, "test.arr.u32", MMX_GGUF_ARRAY);
    put_u32(&s.b, MMX_GGUF_U32);
    s.arr_u32_count = s.b.len;
    put_u64(&s.b, 4);
    for (uint32_t i = 1; i <= 4; i++) put_u32(&s.b, i);
    kv_start(&s, "test.arr.str", MMX_GGUF_ARRAY);
    put_u32(&s.b, MMX_GGUF_STRING);
    s.arr_str_count = s.b.len;
    put_u64(&s.b, 3);
    put_str(&s.b, "alpha");
    s.arr_str_elem1 = s.b.len;
    put_str(&s.b, "");
    put_str(&s.b, "gamma");
    kv_start(&s, "test.arr.f32", MMX_GGUF_ARRAY);
    put_u32(&s.b, MMX_GGUF_F32);
    put_u64(&s.b, 2);
    put_f32(&s.b, 0.5f);
    put_f32(&s.b, -1.0f);
    if (alignment) {
        kv_start(&s, "general.alignment", MMX_GGUF_U32);
        put_u32(&s.b, alignment);
    }
    patch_le(s.b.p, s.n_kv, (uint64_t)s.nkv, 8);

    /* tensors: ne (fastest first), ggml type, bytes */
    static const uint64_t ne[S_NT][3] = {{8, 2, 0}, {32, 3, 0}, {256, 1, 2}, {256, 0, 0}};
    static const uint32_t nd[S_NT] = {2, 2, 3, 1};
    static const uint32_t ty[S_NT] = {MMX_GGML_F32, MMX_GGML_Q8_0, MMX_GGML_Q4_K, 10 /* q2_K */};
    static const size_t bytes[S_NT] = {64, 3 * 34, 2 * 144, 84};
    size_t off = 0;
    for (int i = 0; i < S_NT; i++) {
        s.tname[i] = s.b.len;
        put_str(&s.b, s_tnames[i]);
        s.ndims[i] = s.b.len;
        put_u32(&s.b, nd[i]);
        s.ne[i] = s.b.len;
        for (uint32_t d = 0; d < nd[i]; d++) put_u64(&s.b, ne[i][d]);
        s.ttype[i] = s.b.len;
        put_u32(&s.b, ty[i]);
        s.toff[i] = s.b.len;
        put_u64(&s.b, off);
        s.tinfo_end[i] = s.b.len;
        s.tdata[i] = off;
        s.tbytes[i] = bytes[i];
        off += (bytes[i] + s.alignment - 1) / s.alignment * s.alignment;
    }
    while (s.b.len % s.alignment) put_le(&s.b, 0, 1);
    s.data_start = s.b.len;
    /* data: a byte pattern; the last tensor is not padded, so the file ends exactly at its end */
    size_t data_len = s.tdata[S_NT - 1] + s.tbytes[S_NT - 1];
    for (size_t i = 0; i < data_len; i++) put_le(&s.b, (uint8_t)(i * 7 + 1), 1);
    return s;
}

static mmx_status parse(const uint8_t *p, size_t n, mmx_gguf **g, mmx_error *err) {
    return mmx_gguf_parse(p, n, "sample.gguf", g, err);
}

/* parse must fail with MMX_ERR_FORMAT, *out NULL, and a message containing the file name and each needle */
static void expect_fail_at(int line, const uint8_t *p, size_t n, const char *const *needles) {
    mmx_gguf *g = (mmx_gguf *)&g; /* not NULL: parse must clear it */
    mmx_error e = {0};
    mmx_status st = parse(p, n, &g, &e);
    CHECKF(st == MMX_ERR_FORMAT, "line %d: status %d, expected MMX_ERR_FORMAT (message: %s)", line, st,
           st == MMX_OK ? "-" : e.message);
    if (st == MMX_OK) mmx_gguf_free(g);
    else CHECKF(g == NULL, "line %d: *out not cleared", line);
    if (st == MMX_OK) return;
    CHECKF(strstr(e.message, "sample.gguf") != NULL, "line %d: message lacks the file name: %s", line, e.message);
    for (; *needles; needles++)
        CHECKF(strstr(e.message, *needles) != NULL, "line %d: message lacks '%s': %s", line, *needles, e.message);
}
#define EXPECT_FAIL(p, n, ...) expect_fail_at(__LINE__, p, n, (const char *const[]){__VA_ARGS__, NULL})

/* ---- golden files ----------------------------------------------------------------------------- */
static void check_all_tensors_inside(const mmx_gguf *g, const uint8_t *base, size_t len) {
    for (size_t i = 0; i < mmx_gguf_n_tensors(g); i++) {
        const mmx_tensor *t = mmx_gguf_tensor(g, i);
        const uint8_t *d = t->data;
        CHECKF(d && d >= base && t->n_bytes <= len && (size_t)(d - base) <= len - t->n_bytes, "%s outside the file",
               t->name);
        CHECKF((size_t)(d - base) % mmx_gguf_alignment(g) == 0, "%s data not aligned", t->name);
        CHECKF(t->n_dims >= 1 && t->n_dims <= 4, "%s n_dims %d", t->name, t->n_dims);
        CHECK(mmx_gguf_find_tensor(g, t->name) == t);
    }
}

TEST(gguf_golden_tiny_f32) {
    size_t len;
    uint8_t *buf = slurp(GOLD "gguf/minimax01-tiny-f32.gguf", &len);
    REQUIRE(buf);
    mmx_gguf *g;
    mmx_error err;
    mmx_status st = mmx_gguf_parse(buf, len, "tiny-f32.gguf", &g, &err);
    CHECKF(st == MMX_OK, "%s", err.message);
    REQUIRE(st == MMX_OK);
    const char *s;
    size_t n;
    int64_t v;
    double d;
    mmx_gguf_type et;
    CHECK(mmx_gguf_version(g) == 3 && mmx_gguf_alignment(g) == 32);
    CHECK(mmx_gguf_n_kv(g) == 31 && mmx_gguf_n_tensors(g) == 83);
    CHECK(mmx_gguf_get_str(g, "general.architecture", &s, &n) && n == 10 && !memcmp(s, "minimax-01", 10));
    CHECK(mmx_gguf_get_int(g, "minimax-01.block_count", &v) && v == 8);
    CHECK(mmx_gguf_get_int(g, "minimax-01.embedding_length", &v) && v == 64);
    CHECK(mmx_gguf_get_int(g, "minimax-01.expert_count", &v) && v == 4);
    CHECK(mmx_gguf_get_int(g, "minimax-01.expert_used_count", &v) && v == 2);
    CHECK(mmx_gguf_get_float(g, "minimax-01.attention.layer_norm_rms_epsilon", &d) && d > 0 && d < 1e-3);
    CHECK(mmx_gguf_find_key(g, "minimax-01.block_count") >= 0 && mmx_gguf_find_key(g, "no.such.key") == -1);
    CHECK(mmx_gguf_kv_type(g, (size_t)mmx_gguf_find_key(g, "minimax-01.block_count")) == MMX_GGUF_U32);
    CHECK(mmx_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &n) && et == MMX_GGUF_STRING && n == 512);
    CHECK(mmx_gguf_get_arr(g, "tokenizer.ggml.token_type", &et, &n) && et == MMX_GGUF_I32 && n == 512);
    CHECK(mmx_gguf_get_arr(g, "tokenizer.ggml.merges", &et, &n) && et == MMX_GGUF_STRING && n == 253);
    for (size_t i = 0; i < 512; i++) CHECK(mmx_gguf_arr_str(g, "tokenizer.ggml.tokens", i, &s, &n) && n > 0);
    CHECK(!mmx_gguf_arr_str(g, "tokenizer.ggml.tokens", 512, &s, &n));
    const mmx_tensor *t = mmx_gguf_find_tensor(g, "token_embd.weight");
    REQUIRE(t);
    CHECK(t->type == MMX_TYPE_F32 && !strcmp(t->type_name, "f32") && t->n_dims == 2 && t->shape[0] == 512 &&
          t->shape[1] == 64 && t->n_bytes == 512 * 64 * 4);
    t = mmx_gguf_find_tensor(g, "blk.0.ffn_gate_exps.weight"); /* ne {64, 96, 4} */
    CHECK(t && t->n_dims == 3 && t->shape[0] == 4 && t->shape[1] == 96 && t->shape[2] == 64);
    t = mmx_gguf_find_tensor(g, "output_norm.weight");
    CHECK(t && t->n_dims == 1 && t->shape[0] == 64 && t->n_bytes == 256);
    CHECK(mmx_gguf_find_tensor(g, "blk.7.attn_q.weight") && mmx_gguf_find_tensor(g, "blk.0.attn_qkv.weight"));
    CHECK(mmx_gguf_find_tensor(g, "blk.8.attn_norm.weight") == NULL);
    check_all_tensors_inside(g, buf, len);

    /* the GGUF was converted from tiny-f32/model.safetensors: the embedding is byte-identical */
    mmx_st *hf;
    REQUIRE(mmx_st_open(GOLD "tiny-f32/model.safetensors", &hf, &err) == MMX_OK);
    const mmx_tensor *e = mmx_st_find(hf, "model.embed_tokens.weight");
    t = mmx_gguf_find_tensor(g, "token_embd.weight");
    CHECK(e && e->n_bytes == t->n_bytes && !memcmp(e->data, t->data, t->n_bytes));
    mmx_st_free(hf);
    mmx_gguf_free(g);
    free(buf);
}

TEST(gguf_golden_tiny_bf16_and_q8_0) {
    mmx_gguf *g;
    mmx_error err;
    int64_t v;
    const char *s;
    size_t n;
    REQUIRE(mmx_gguf_open(GOLD "gguf/minimax01-tiny-bf16.gguf", &g, &err) == MMX_OK);
    CHECK(mmx_gguf_get_str(g, "general.architecture", &s, &n) && n == 10 && !memcmp(s, "minimax-01", 10));
    CHECK(mmx_gguf_get_int(g, "minimax-01.block_count", &v) && v == 16);
    CHECK(mmx_gguf_n_tensors(g) == 163);
    const mmx_tensor *t = mmx_gguf_find_tensor(g, "token_embd.weight");
    CHECK(t && t->type == MMX_TYPE_BF16 && t->shape[0] == 512 && t->shape[1] == 96 && t->n_bytes == 512 * 96 * 2);
    t = mmx_gguf_find_tensor(g, "blk.0.ffn_gate_inp.weight");
    CHECK(t && t->type == MMX_TYPE_F32 && t->shape[0] == 8 && t->shape[1] == 96);
    mmx_gguf_free(g);

    REQUIRE(mmx_gguf_open(GOLD "gguf/minimax01-tiny-bf16-q8_0.gguf", &g, &err) == MMX_OK);
    CHECK(mmx_gguf_get_int(g, "general.file_type", &v) && v == 7);
    t = mmx_gguf_find_tensor(g, "token_embd.weight");
    CHECK(t && t->type == MMX_TYPE_Q8_0 && !strcmp(t->type_name, "q8_0") && t->shape[0] == 512 && t->shape[1] == 96 &&
          t->n_bytes == 512 * 96 / 32 * 34);
    t = mmx_gguf_find_tensor(g, "output_norm.weight");
    CHECK(t && t->type == MMX_TYPE_F32 && t->n_bytes == 96 * 4);
    size_t n_q8 = 0;
    for (size_t i = 0; i < mmx_gguf_n_tensors(g); i++) n_q8 += mmx_gguf_tensor(g, i)->type == MMX_TYPE_Q8_0;
    CHECKF(n_q8 >= 100, "%zu q8_0 tensors", n_q8);
    mmx_gguf_free(g);
}

TEST(gguf_golden_truncated_at_every_header_byte) {
    size_t len;
    uint8_t *buf = slurp(GOLD "gguf/minimax01-tiny-f32.gguf", &len);
    REQUIRE(buf);
    mmx_gguf *g;
    mmx_error err;
    REQUIRE(mmx_gguf_parse(buf, len, "t.gguf", &g, &err) == MMX_OK);
    size_t header = len, end = 0;
    for (size_t i = 0; i < mmx_gguf_n_tensors(g); i++) {
        const mmx_tensor *t = mmx_gguf_tensor(g, i);
        size_t off = (size_t)((const uint8_t *)t->data - buf);
        if (off < header) header = off;
        if (off + t->n_bytes > end) end = off + t->n_bytes;
    }
    mmx_gguf_free(g);
    REQUIRE(header < len && end <= len);
    /* a private copy of each prefix, so that ASan sees any read past the cut */
    size_t bad = 0, cuts = 0;
    for (size_t cut = 0; cut < end; cut += cut < header + 64 ? 1 : 997) {
        uint8_t *p = dup_bytes(buf, cut);
        mmx_status st = mmx_gguf_parse(p, cut, "t.gguf", &g, &err);
        cuts++;
        if (st != MMX_ERR_FORMAT || !strstr(err.message, "t.gguf") ||
            (cut >= header && !strstr(err.message, "tensor '"))) {
            if (bad++ < 5) printf("    cut %zu: status %d: %s\n", cut, st, st ? err.message : "ok");
            if (st == MMX_OK) mmx_gguf_free(g);
        }
        free(p);
    }
    printf("    %zu cut points (every byte of the %zu-byte header), %zu bad\n", cuts, header, bad);
    CHECK(bad == 0);
    free(buf);
}

/* ---- the in-memory sample ----------------------------------------------------------------------- */
TEST(gguf_sample_parses_with_every_value) {
    sample s = make_sample(0);
    mmx_gguf *g;
    mmx_error err;
    mmx_status st = parse(s.b.p, s.b.len, &g, &err);
    CHECKF(st == MMX_OK, "%s", err.message);
    REQUIRE(st == MMX_OK);
    int64_t v;
    double d;
    bool b;
    const char *str;
    size_t n;
    mmx_gguf_type et;
    CHECK(mmx_gguf_n_kv(g) == 15 && mmx_gguf_n_tensors(g) == 4 && mmx_gguf_alignment(g) == 32);
    CHECK(!strcmp(mmx_gguf_key(g, 2), "test.u8") && mmx_gguf_kv_type(g, 2) == MMX_GGUF_U8);
    CHECK(mmx_gguf_get_int(g, "test.u8", &v) && v == 200);
    CHECK(mmx_gguf_get_int(g, "test.i8", &v) && v == -100);
    CHECK(mmx_gguf_get_int(g, "test.u16", &v) && v == 60000);
    CHECK(mmx_gguf_get_int(g, "test.i16", &v) && v == -30000);
    CHECK(mmx_gguf_get_int(g, "test.i32", &v) && v == -2000000000);
    CHECK(mmx_gguf_get_int(g, "test.i64", &v) && v == -(INT64_C(1) << 40));
    CHECK(!mmx_gguf_get_int(g, "test.u64", &v));                     /* does not fit int64 */
    CHECK(mmx_gguf_get_float(g, "test.u64", &d) && d == 18446744073709551615.0);
    CHECK(mmx_gguf_get_bool(g, "test.u64", &b) && b);
    CHECK(mmx_gguf_get_float(g, "test.f32", &d) && d == 1.5);
    CHECK(mmx_gguf_get_float(g, "test.f64", &d) && d == -2.25);
    CHECK(mmx_gguf_get_float(g, "test.i16", &d) && d == -30000);
    CHECK(!mmx_gguf_get_int(g, "test.f32", &v));
    CHECK(mmx_gguf_get_bool(g, "test.bool", &b) && b);
    CHECK(!mmx_gguf_get_int(g, "test.bool", &v) && !mmx_gguf_get_float(g, "test.bool", &d));
    CHECK(!mmx_gguf_get_int(g, "general.architecture", &v) && !mmx_gguf_get_bool(g, "test.arr.u32", &b));
    CHECK(!mmx_gguf_get_str(g, "test.u8", &str, &n) && !mmx_gguf_get_arr(g, "test.u8", &et, &n));
    CHECK(mmx_gguf_get_str(g, "general.architecture", &str, &n) && n == 10 && !memcmp(str, "minimax-01", 10));
    CHECK(mmx_gguf_get_arr(g, "test.arr.u32", &et, &n) && et == MMX_GGUF_U32 && n == 4);
    CHECK(mmx_gguf_arr_int(g, "test.arr.u32", 3, &v) && v == 4);
    CHECK(mmx_gguf_arr_float(g, "test.arr.u32", 0, &d) && d == 1);
    CHECK(!mmx_gguf_arr_int(g, "test.arr.u32", 4, &v) && !mmx_gguf_arr_str(g, "test.arr.u32", 0, &str, &n));
    CHECK(mmx_gguf_arr_float(g, "test.arr.f32", 1, &d) && d == -1);
    CHECK(!mmx_gguf_arr_int(g, "test.arr.f32", 1, &v));
    CHECK(mmx_gguf_get_arr(g, "test.arr.str", &et, &n) && et == MMX_GGUF_STRING && n == 3);
    CHECK(mmx_gguf_arr_str(g, "test.arr.str", 0, &str, &n) && n == 5 && !memcmp(str, "alpha", 5));
    CHECK(mmx_gguf_arr_str(g, "test.arr.str", 1, &str, &n) && n == 0);
    CHECK(mmx_gguf_arr_str(g, "test.arr.str", 2, &str, &n) && n == 5 && !memcmp(str, "gamma", 5));
    CHECK(!mmx_gguf_arr_str(g, "test.arr.str", 3, &str, &n) && !mmx_gguf_arr_int(g, "test.arr.str", 0, &v));
    CHECK(!mmx_gguf_arr_str(g, "missing", 0, &str, &n) && !mmx_gguf_get_arr(g, "missing", &et, &n));

    static const int nd[S_NT] = {2, 2, 3, 1};
    static const uint64_t shape[S_NT][3] = {{2, 8}, {3, 32}, {2, 1, 256}, {256}};
    static const mmx_type types[S_NT] = {MMX_TYPE_F32, MMX_TYPE_Q8_0, MMX_TYPE_Q4_K, MMX_TYPE_COUNT};
    static const char *type_names[S_NT] = {"f32", "q8_0", "q4_K", "q2_K"};
    for (int i = 0; i < S_NT; i++) {
        const mmx_tensor *t = mmx_gguf_tensor(g, (size_t)i);
        CHECK(!strcmp(t->name, s_tnames[i]) && mmx_gguf_find_tensor(g, s_tnames[i]) == t);
        CHECKF(t->n_dims == nd[i] && t->type == types[i] && !strcmp(t->type_name, type_names[i]), "%s", t->name);
        for (int k = 0; k < nd[i]; k++) CHECKF(t->shape[k] == shape[i][k], "%s shape[%d]", t->name, k);
        CHECK(t->n_bytes == s.tbytes[i]);
        CHECK((const uint8_t *)t->data == s.b.p + s.data_start + s.tdata[i]);
    }
    CHECK(mmx_gguf_find_tensor(g, "tensor.e") == NULL);
    mmx_gguf_free(g);
    free(s.b.p);
}

TEST(gguf_corrupt_truncated_at_every_byte) {
    sample s = make_sample(0);
    size_t bad = 0;
    for (size_t cut = 0; cut < s.b.len; cut++) {
        uint8_t *p = dup_bytes(s.b.p, cut); /* exactly `cut` bytes, so ASan sees any overread */
        mmx_gguf *g;
        mmx_error e = {0};
        mmx_status st = parse(p, cut, &g, &e);
        bool ok = st == MMX_ERR_FORMAT && strstr(e.message, "sample.gguf") &&
                  (strstr(e.message, "truncated") || strstr(e.message, "cannot fit"));
        /* once a key or tensor name has been read, the message names it (unless the header's counts
         * were already found not to fit in the bytes left: that check comes before any key is read) */
        bool counts = strstr(e.message, "header: n_kv") || strstr(e.message, "header: n_tensors");
        for (int i = 0; i < s.nkv && !counts; i++) {
            size_t next = i + 1 < s.nkv ? s.key[i + 1] : s.tname[0];
            char want[64];
            snprintf(want, sizeof want, "key '%.*s'", (int)(s.key_end[i] - s.key[i] - 8), (const char *)s.b.p + s.key[i] + 8);
            if (cut >= s.key_end[i] && cut < next && !strstr(e.message, want)) ok = false;
        }
        for (int i = 0; i < S_NT && !counts; i++) { /* names are 8 bytes */
            size_t next = i + 1 < S_NT ? s.tname[i + 1] : s.tinfo_end[S_NT - 1];
            if (cut >= s.tname[i] + 8 + 8 && cut < next && !strstr(e.message, s_tnames[i])) ok = false;
        }
        /* past the tensor infos: the first tensor whose data is cut is named */
        if (cut >= s.tinfo_end[S_NT - 1] && (!strstr(e.message, "tensor 'tensor.") || !strstr(e.message, "past the end")))
            ok = false;
        if (!ok && bad++ < 5) printf("    cut %zu: status %d: %s\n", cut, st, st ? e.message : "ok");
        if (st == MMX_OK) mmx_gguf_free(g);
        free(p);
    }
    printf("    %zu cut points, %zu bad\n", s.b.len, bad);
    CHECK(bad == 0);
    free(s.b.p);
}

TEST(gguf_corrupt_bad_magic) {
    sample s = make_sample(0);
    memcpy(s.b.p, "GGUX", 4);
    EXPECT_FAIL(s.b.p, s.b.len, "magic", "GGUX");
    memcpy(s.b.p, "\x00\x01\x02\x03", 4);
    EXPECT_FAIL(s.b.p, s.b.len, "magic", "00 01 02 03");
    free(s.b.p);
}

TEST(gguf_corrupt_bad_version) {
    sample s = make_sample(0);
    uint32_t bad[] = {0, 1, 4, 0x7fffffff};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char want[32];
        snprintf(want, sizeof want, "version %u", bad[i]);
        patch_le(s.b.p, s.version, bad[i], 4);
        EXPECT_FAIL(s.b.p, s.b.len, want, "expected 2 or 3");
    }
    patch_le(s.b.p, s.version, 0x03000000, 4); /* a big-endian v3 file */
    EXPECT_FAIL(s.b.p, s.b.len, "big-endian");
    patch_le(s.b.p, s.version, 2, 4); /* v2 has the same layout: accepted */
    mmx_gguf *g;
    mmx_error e;
    CHECK(parse(s.b.p, s.b.len, &g, &e) == MMX_OK && mmx_gguf_version(g) == 2);
    mmx_gguf_free(g);
    free(s.b.p);
}

TEST(gguf_corrupt_huge_counts) {
    sample s = make_sample(0);
    uint64_t huge[] = {UINT64_MAX, UINT64_C(1) << 62, UINT64_C(1) << 32, s.b.len / 13 + 1};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        uint8_t *p = dup_bytes(s.b.p, s.b.len);
        patch_le(p, s.n_kv, huge[i], 8);
        EXPECT_FAIL(p, s.b.len, "n_kv", "cannot fit");
        free(p);
        p = dup_bytes(s.b.p, s.b.len);
        patch_le(p, s.n_tensors, huge[i], 8);
        EXPECT_FAIL(p, s.b.len, "n_tensors", "cannot fit");
        free(p);
    }
    /* counts that fit the file but not the data: one more kv or tensor than written */
    uint8_t *p = dup_bytes(s.b.p, s.b.len);
    patch_le(p, s.n_tensors, S_NT + 1, 8);
    EXPECT_FAIL(p, s.b.len, "tensor");
    free(p);
    free(s.b.p);
}

TEST(gguf_corrupt_huge_string_length) {
    sample s = make_sample(0);
    uint64_t huge[] = {UINT64_MAX, UINT64_C(1) << 63, s.b.len};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        uint8_t *p = dup_bytes(s.b.p, s.b.len);
        patch_le(p, s.val[0], huge[i], 8); /* general.architecture's value */
        EXPECT_FAIL(p, s.b.len, "key 'general.architecture'", "string value");
        memcpy(p, s.b.p, s.b.len);
        patch_le(p, s.key[1], huge[i], 8); /* a key's own length: named by index */
        EXPECT_FAIL(p, s.b.len, "metadata pair #1", "key");
        memcpy(p, s.b.p, s.b.len);
        patch_le(p, s.arr_str_elem1, huge[i], 8); /* an element of a string array */
        EXPECT_FAIL(p, s.b.len, "key 'test.arr.str'", "string 1 of 3");
        memcpy(p, s.b.p, s.b.len);
        patch_le(p, s.tname[2], huge[i], 8); /* a tensor name */
        EXPECT_FAIL(p, s.b.len, "tensor info #2", "name");
        free(p);
    }
    free(s.b.p);
}

TEST(gguf_corrupt_huge_array_count) {
    sample s = make_sample(0);
    uint64_t huge[] = {UINT64_MAX, UINT64_C(1) << 61, s.b.len};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        uint8_t *p = dup_bytes(s.b.p, s.b.len);
        patch_le(p, s.arr_u32_count, huge[i], 8);
        EXPECT_FAIL(p, s.b.len, "key 'test.arr.u32'", "array");
        memcpy(p, s.b.p, s.b.len);
        patch_le(p, s.arr_str_count, huge[i], 8);
        EXPECT_FAIL(p, s.b.len, "key 'test.arr.str'", "strings");
        free(p);
    }
    /* a count that fits the file but not the following bytes as strings */
    patch_le(s.b.p, s.arr_str_count, 4, 8);
    EXPECT_FAIL(s.b.p, s.b.len, "sample.gguf");
    free(s.b.p);
}

TEST(gguf_corrupt_duplicate_key) {
    sample s = make_sample(0);
    memcpy(s.b.p + s.key[3] + 8, "test.u8", 7); /* test.i8 -> test.u8 */
    EXPECT_FAIL(s.b.p, s.b.len, "key 'test.u8'", "duplicate", "#2", "#3");
    free(s.b.p);
}

TEST(gguf_corrupt_duplicate_tensor_name) {
    sample s = make_sample(0);
    memcpy(s.b.p + s.tname[2] + 8, "tensor.a", 8);
    EXPECT_FAIL(s.b.p, s.b.len, "tensor 'tensor.a'", "duplicate", "#0", "#2");
    free(s.b.p);
}

TEST(gguf_corrupt_nul_in_key_or_name) {
    sample s = make_sample(0);
    uint8_t *p = dup_bytes(s.b.p, s.b.len);
    p[s.key[4] + 8 + 5] = 0; /* "test.\0…" */
    EXPECT_FAIL(p, s.b.len, "metadata pair #4", "NUL");
    memcpy(p, s.b.p, s.b.len);
    p[s.tname[1] + 8 + 3] = 0;
    EXPECT_FAIL(p, s.b.len, "tensor info #1", "NUL");
    free(p);
    free(s.b.p);
}

TEST(gguf_corrupt_misaligned_offset) {
    sample s = make_sample(0);
    uint64_t bad[] = {1, 16, 31};
    for (size_t i = 0; i < 3; i++) {
        patch_le(s.b.p, s.toff[1], s.tdata[1] + bad[i], 8);
        EXPECT_FAIL(s.b.p, s.b.len, "tensor 'tensor.b'", "alignment 32");
    }
    free(s.b.p);
}

TEST(gguf_corrupt_offset_past_end) {
    sample s = make_sample(0);
    uint64_t bad[] = {s.tdata[3] + 32, UINT64_MAX & ~(uint64_t)31, UINT64_C(1) << 40, s.b.len};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        patch_le(s.b.p, s.toff[3], bad[i] & ~(uint64_t)31, 8);
        EXPECT_FAIL(s.b.p, s.b.len, "tensor 'tensor.d'", "past the end");
    }
    /* one byte short of the last tensor's data */
    patch_le(s.b.p, s.toff[3], s.tdata[3], 8);
    EXPECT_FAIL(s.b.p, s.b.len - 1, "tensor 'tensor.d'", "past the end");
    free(s.b.p);
}

TEST(gguf_corrupt_overflowing_shape) {
    sample s = make_sample(0);
    uint8_t *p = dup_bytes(s.b.p, s.b.len);
    patch_le(p, s.ne[0] + 8, UINT64_MAX, 8); /* ne[1] of tensor.a */
    EXPECT_FAIL(p, s.b.len, "tensor 'tensor.a'", "overflow");
    memcpy(p, s.b.p, s.b.len);
    patch_le(p, s.ne[0], UINT64_C(1) << 32, 8);
    patch_le(p, s.ne[0] + 8, UINT64_C(1) << 32, 8); /* 2^64 elements */
    EXPECT_FAIL(p, s.b.len, "tensor 'tensor.a'", "overflow");
    memcpy(p, s.b.p, s.b.len);
    patch_le(p, s.ne[2] + 16, UINT64_C(1) << 60, 8); /* tensor.c: 2^69 elements */
    EXPECT_FAIL(p, s.b.len, "tensor 'tensor.c'", "overflow");
    memcpy(p, s.b.p, s.b.len);
    patch_le(p, s.ne[0], UINT64_C(1) << 31, 8); /* 2^62 f32 elements: the count fits, the byte size does not */
    patch_le(p, s.ne[0] + 8, UINT64_C(1) << 31, 8);
    EXPECT_FAIL(p, s.b.len, "tensor 'tensor.a'", "overflow");
    memcpy(p, s.b.p, s.b.len);
    patch_le(p, s.ne[0] + 8, 0, 8); /* a zero dimension */
    EXPECT_FAIL(p, s.b.len, "tensor 'tensor.a'", "ne[1] is 0");
    memcpy(p, s.b.p, s.b.len);
    patch_le(p, s.ne[1], 33, 8); /* q8_0 rows must be whole blocks of 32 */
    EXPECT_FAIL(p, s.b.len, "tensor 'tensor.b'", "block size 32");
    free(p);
    free(s.b.p);
}

TEST(gguf_corrupt_n_dims_0_and_5) {
    sample s = make_sample(0);
    uint32_t bad[] = {0, 5, 0xffffffffu};
    for (size_t i = 0; i < 3; i++) {
        char want[32];
        snprintf(want, sizeof want, "n_dims is %u", bad[i]);
        patch_le(s.b.p, s.ndims[1], bad[i], 4);
        EXPECT_FAIL(s.b.p, s.b.len, "tensor 'tensor.b'", want, "expected 1..4");
    }
    free(s.b.p);
}

TEST(gguf_corrupt_unknown_ggml_type) {
    sample s = make_sample(0);
    uint32_t bad[] = {4, 5, 31, 36, 40, 1000, 0xffffffffu};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char want[48];
        snprintf(want, sizeof want, "unknown ggml type id %u", bad[i]);
        patch_le(s.b.p, s.ttype[2], bad[i], 4);
        EXPECT_FAIL(s.b.p, s.b.len, "tensor 'tensor.c'", want);
    }
    free(s.b.p);
}

TEST(gguf_corrupt_unknown_kv_type) {
    sample s = make_sample(0);
    uint8_t *p = dup_bytes(s.b.p, s.b.len);
    patch_le(p, s.type[2], 13, 4);
    EXPECT_FAIL(p, s.b.len, "key 'test.u8'", "unknown value type 13");
    memcpy(p, s.b.p, s.b.len);
    patch_le(p, s.type[2], 0x80000000u, 4);
    EXPECT_FAIL(p, s.b.len, "key 'test.u8'", "unknown value type 2147483648");
    memcpy(p, s.b.p, s.b.len);
    patch_le(p, s.val[12], 13, 4); /* element type of test.arr.u32 */
    EXPECT_FAIL(p, s.b.len, "key 'test.arr.u32'", "unknown array element type 13");
    memcpy(p, s.b.p, s.b.len);
    patch_le(p, s.val[12], MMX_GGUF_ARRAY, 4); /* an array of arrays */
    EXPECT_FAIL(p, s.b.len, "key 'test.arr.u32'", "arrays of arrays");
    free(p);
    free(s.b.p);
}

TEST(gguf_alignment_key) {
    /* a valid non-default alignment: offsets and the data section follow it */
    sample s = make_sample(64);
    mmx_gguf *g;
    mmx_error e;
    mmx_status st = parse(s.b.p, s.b.len, &g, &e);
    CHECKF(st == MMX_OK, "%s", e.message);
    if (st == MMX_OK) {
        CHECK(mmx_gguf_alignment(g) == 64);
        for (int i = 0; i < S_NT; i++) CHECK((size_t)((const uint8_t *)mmx_gguf_tensor(g, (size_t)i)->data - s.b.p) % 64 == 0);
        mmx_gguf_free(g);
    }
    size_t al = s.val[s.nkv - 1];
    uint32_t bad[] = {0, 3, 48, 0xffffffffu};
    for (size_t i = 0; i < 4; i++) {
        uint8_t *p = dup_bytes(s.b.p, s.b.len);
        patch_le(p, al, bad[i], 4);
        EXPECT_FAIL(p, s.b.len, "key 'general.alignment'", "power of two");
        free(p);
    }
    patch_le(s.b.p, s.type[s.nkv - 1], MMX_GGUF_I32, 4); /* ggml requires a u32 */
    EXPECT_FAIL(s.b.p, s.b.len, "key 'general.alignment'", "expected u32");
    free(s.b.p);
}

TEST(gguf_every_ggml_type_size) {
    /* one tensor per ggml type with a 256-element row: n_bytes from ggml's block sizes */
    static const struct {
        uint32_t id;
        const char *name;
        size_t bytes;
        mmx_type type;
    } types[] = {
        {0, "f32", 1024, MMX_TYPE_F32},      {1, "f16", 512, MMX_TYPE_F16},        {30, "bf16", 512, MMX_TYPE_BF16},
        {2, "q4_0", 144, MMX_TYPE_Q4_0},     {3, "q4_1", 160, MMX_TYPE_COUNT},     {6, "q5_0", 176, MMX_TYPE_COUNT},
        {7, "q5_1", 192, MMX_TYPE_COUNT},    {8, "q8_0", 272, MMX_TYPE_Q8_0},      {9, "q8_1", 288, MMX_TYPE_COUNT},
        {10, "q2_K", 84, MMX_TYPE_COUNT},    {11, "q3_K", 110, MMX_TYPE_COUNT},    {12, "q4_K", 144, MMX_TYPE_Q4_K},
        {13, "q5_K", 176, MMX_TYPE_Q5_K},    {14, "q6_K", 210, MMX_TYPE_Q6_K},     {15, "q8_K", 292, MMX_TYPE_COUNT},
        {16, "iq2_xxs", 66, MMX_TYPE_COUNT}, {17, "iq2_xs", 74, MMX_TYPE_COUNT},   {18, "iq3_xxs", 98, MMX_TYPE_COUNT},
        {19, "iq1_s", 50, MMX_TYPE_COUNT},   {20, "iq4_nl", 144, MMX_TYPE_COUNT},  {21, "iq3_s", 110, MMX_TYPE_COUNT},
        {22, "iq2_s", 82, MMX_TYPE_COUNT},   {23, "iq4_xs", 136, MMX_TYPE_COUNT},  {24, "i8", 256, MMX_TYPE_COUNT},
        {25, "i16", 512, MMX_TYPE_COUNT},    {26, "i32", 1024, MMX_TYPE_COUNT},    {27, "i64", 2048, MMX_TYPE_COUNT},
        {28, "f64", 2048, MMX_TYPE_COUNT},   {29, "iq1_m", 56, MMX_TYPE_COUNT},    {34, "tq1_0", 54, MMX_TYPE_COUNT},
        {35, "tq2_0", 66, MMX_TYPE_COUNT},   {39, "mxfp4", 136, MMX_TYPE_COUNT},
    };
    size_t nt = sizeof types / sizeof types[0];
    bbuf b = {0};
    put(&b, "GGUF", 4);
    put_u32(&b, 3);
    put_u64(&b, nt);
    put_u64(&b, 0);
    size_t off = 0;
    for (size_t i = 0; i < nt; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%zu", i);
        put_str(&b, name);
        put_u32(&b, 1);
        put_u64(&b, 256);
        put_u32(&b, types[i].id);
        put_u64(&b, off);
        off += (types[i].bytes + 31) / 32 * 32;
    }
    while (b.len % 32) put_le(&b, 0, 1);
    for (size_t i = 0; i < off; i++) put_le(&b, 0, 1);
    mmx_gguf *g;
    mmx_error e;
    mmx_status st = mmx_gguf_parse(b.p, b.len, "types.gguf", &g, &e);
    CHECKF(st == MMX_OK, "%s", e.message);
    if (st == MMX_OK) {
        for (size_t i = 0; i < nt; i++) {
            const mmx_tensor *t = mmx_gguf_tensor(g, i);
            CHECKF(t->n_bytes == types[i].bytes && !strcmp(t->type_name, types[i].name) && t->type == types[i].type,
                   "ggml type %u: %zu bytes, name %s, mmx type %d", types[i].id, t->n_bytes, t->type_name, t->type);
            if (t->type != MMX_TYPE_COUNT) CHECK(mmx_type_row_bytes(t->type, 256) == t->n_bytes);
        }
        mmx_gguf_free(g);
    }
    free(b.p);
}

TEST(gguf_type_mapping_roundtrip) {
    for (int t = 0; t < MMX_TYPE_COUNT; t++) {
        uint32_t id = mmx_type_to_ggml((mmx_type)t);
        CHECKF(mmx_type_from_ggml(id) == (mmx_type)t, "mmx type %d -> ggml %u -> %d", t, id, mmx_type_from_ggml(id));
    }
    uint32_t unsupported[] = {3, 4, 6, 7, 9, 10, 11, 15, 24, 28, 39, 40, 1000, 0xffffffffu};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        CHECK(mmx_type_from_ggml(unsupported[i]) == MMX_TYPE_COUNT);
    CHECK(mmx_type_to_ggml(MMX_TYPE_F32) == 0 && mmx_type_to_ggml(MMX_TYPE_BF16) == 30 && mmx_type_to_ggml(MMX_TYPE_Q6_K) == 14);
}

TEST(gguf_big_string_arrays_parse_fast) {
    enum { N = 200000 };
    bbuf b = {0};
    put(&b, "GGUF", 4);
    put_u32(&b, 3);
    put_u64(&b, 0);
    put_u64(&b, 3);
    put_str(&b, "tokenizer.ggml.tokens");
    put_u32(&b, MMX_GGUF_ARRAY);
    put_u32(&b, MMX_GGUF_STRING);
    put_u64(&b, N);
    char tok[32];
    for (int i = 0; i < N; i++) {
        snprintf(tok, sizeof tok, "tok%d", i);
        put_str(&b, tok);
    }
    put_str(&b, "tokenizer.ggml.merges");
    put_u32(&b, MMX_GGUF_ARRAY);
    put_u32(&b, MMX_GGUF_STRING);
    put_u64(&b, N);
    for (int i = 0; i < N; i++) {
        snprintf(tok, sizeof tok, "a%d b%d", i, i + 1);
        put_str(&b, tok);
    }
    put_str(&b, "tokenizer.ggml.token_type");
    put_u32(&b, MMX_GGUF_ARRAY);
    put_u32(&b, MMX_GGUF_I32);
    put_u64(&b, N);
    for (int i = 0; i < N; i++) put_u32(&b, (uint32_t)(i % 6));
    double best = 1e9;
    mmx_gguf *g = NULL;
    mmx_error e;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = mmx_time_s();
        mmx_status st = mmx_gguf_parse(b.p, b.len, "big.gguf", &g, &e);
        double dt = mmx_time_s() - t0;
        if (dt < best) best = dt;
        REQUIRE(st == MMX_OK);
        if (rep < 2) mmx_gguf_free(g);
    }
    printf("    %d + %d strings, %zu bytes: parsed in %.2f ms\n", N, N, b.len, best * 1e3);
    CHECKF(best < 0.1, "%.1f ms", best * 1e3);
    const char *s;
    size_t n;
    int64_t v;
    for (int i = 0; i < N; i += 9973) {
        snprintf(tok, sizeof tok, "tok%d", i);
        CHECK(mmx_gguf_arr_str(g, "tokenizer.ggml.tokens", (size_t)i, &s, &n) && n == strlen(tok) && !memcmp(s, tok, n));
        CHECK(mmx_gguf_arr_int(g, "tokenizer.ggml.token_type", (size_t)i, &v) && v == i % 6);
    }
    CHECK(mmx_gguf_arr_str(g, "tokenizer.ggml.merges", N - 1, &s, &n) && n == strlen("a199999 b200000"));
    mmx_gguf_free(g);
    free(b.p);
}

TEST(gguf_open_errors) {
    mmx_gguf *g = (mmx_gguf *)&g;
    mmx_error e;
    CHECK(mmx_gguf_open("tests/data/no/such/file.gguf", &g, &e) == MMX_ERR_IO && g == NULL);
    CHECKF(strstr(e.message, "file.gguf") && strstr(e.message, "No such file"), "%s", e.message);
    CHECK(mmx_gguf_open("tests", &g, &e) == MMX_ERR_IO && strstr(e.message, "tests"));
    char path[600];
    snprintf(path, sizeof path, "%s/empty.gguf", mmx_test_tmpdir());
    FILE *f = fopen(path, "wb");
    REQUIRE(f);
    fclose(f);
    CHECK(mmx_gguf_open(path, &g, &e) == MMX_ERR_FORMAT && g == NULL);
    CHECKF(strstr(e.message, "empty.gguf") && strstr(e.message, "empty"), "%s", e.message);
    f = fopen(path, "wb");
    REQUIRE(f);
    fwrite("GGUF\3\0\0\0", 1, 8, f);
    fclose(f);
    CHECK(mmx_gguf_open(path, &g, &e) == MMX_ERR_FORMAT && strstr(e.message, "truncated"));
    /* NULL err is allowed */
    CHECK(mmx_gguf_open(path, &g, NULL) == MMX_ERR_FORMAT);
    CHECK(mmx_gguf_parse("GG", 2, "x", &g, NULL) == MMX_ERR_FORMAT);
}

/* ---- writer ------------------------------------------------------------------------------------- */
static const uint64_t w_shapes[MMX_TYPE_COUNT][3] = {
    [MMX_TYPE_F32] = {3, 5, 7}, [MMX_TYPE_F16] = {2, 9},       [MMX_TYPE_BF16] = {11},     [MMX_TYPE_Q8_0] = {2, 2, 64},
    [MMX_TYPE_Q4_0] = {3, 32},  [MMX_TYPE_Q4_K] = {2, 256},    [MMX_TYPE_Q5_K] = {1, 512}, [MMX_TYPE_Q6_K] = {3, 256},
};
static const int w_ndims[MMX_TYPE_COUNT] = {3, 2, 1, 3, 2, 2, 2, 2};

static size_t w_bytes(int t) {
    uint64_t rows = 1;
    for (int d = 0; d < w_ndims[t] - 1; d++) rows *= w_shapes[t][d];
    return (size_t)rows * mmx_type_row_bytes((mmx_type)t, (size_t)w_shapes[t][w_ndims[t] - 1]);
}

static void write_all_kinds(mmx_gguf_writer *w) {
    mmx_gguf_writer_set_str(w, "general.architecture", "minimax-01", 10);
    mmx_gguf_writer_set_int(w, "a.u8", MMX_GGUF_U8, 255);
    mmx_gguf_writer_set_int(w, "a.i8", MMX_GGUF_I8, -5);
    mmx_gguf_writer_set_int(w, "a.u16", MMX_GGUF_U16, 65535);
    mmx_gguf_writer_set_int(w, "a.i16", MMX_GGUF_I16, -32768);
    mmx_gguf_writer_set_int(w, "a.u32", MMX_GGUF_U32, 4000000000LL);
    mmx_gguf_writer_set_int(w, "a.i32", MMX_GGUF_I32, INT32_MIN);
    mmx_gguf_writer_set_int(w, "a.u64", MMX_GGUF_U64, INT64_C(1) << 40);
    mmx_gguf_writer_set_int(w, "a.i64", MMX_GGUF_I64, INT64_MIN);
    mmx_gguf_writer_set_float(w, "a.f32", MMX_GGUF_F32, 2.5);
    mmx_gguf_writer_set_float(w, "a.f64", MMX_GGUF_F64, 1e-300);
    mmx_gguf_writer_set_bool(w, "a.bool", true);
    mmx_gguf_writer_set_str(w, "a.str_nul", "x\0y", 3); /* embedded NUL in a value is fine */
    int64_t iv[3] = {1, -2, 3}, bv[3] = {1, 0, 1};
    double fv[2] = {0.5, -4};
    const char *sv[3] = {"x", "", "h\xc3\xa9llo"};
    mmx_gguf_writer_set_arr_int(w, "a.arr_i32", MMX_GGUF_I32, iv, 3);
    mmx_gguf_writer_set_arr_int(w, "a.arr_bool", MMX_GGUF_BOOL, bv, 3);
    mmx_gguf_writer_set_arr_int(w, "a.arr_u64", MMX_GGUF_U64, iv, 1);
    mmx_gguf_writer_set_arr_float(w, "a.arr_f32", MMX_GGUF_F32, fv, 2);
    mmx_gguf_writer_set_arr_float(w, "a.arr_f64", MMX_GGUF_F64, fv, 2);
    mmx_gguf_writer_set_arr_str(w, "a.arr_str", sv, NULL, 3);
    mmx_gguf_writer_set_arr_str(w, "a.arr_empty", NULL, NULL, 0);
}

static void fill(uint8_t *p, size_t n, int seed) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 31 + (size_t)seed * 17 + 3);
}

TEST(gguf_writer_roundtrip) {
    char path[600];
    snprintf(path, sizeof path, "%s/rt.gguf", mmx_test_tmpdir());
    mmx_gguf_writer *w;
    mmx_error err;
    REQUIRE(mmx_gguf_writer_open(path, &w, &err) == MMX_OK);
    write_all_kinds(w);
    char name[32];
    for (int t = 0; t < MMX_TYPE_COUNT; t++) {
        snprintf(name, sizeof name, "t.%s", mmx_type_name((mmx_type)t));
        CHECK(mmx_gguf_writer_add_tensor(w, name, (mmx_type)t, w_ndims[t], w_shapes[t]) == MMX_OK);
    }
    REQUIRE(mmx_gguf_writer_begin_data(w) == MMX_OK);
    uint8_t *data[MMX_TYPE_COUNT];
    for (int t = 0; t < MMX_TYPE_COUNT; t++) {
        size_t n = w_bytes(t);
        data[t] = malloc(n);
        fill(data[t], n, t);
        size_t half = n / 3; /* in pieces */
        CHECK(mmx_gguf_writer_write(w, data[t], half) == MMX_OK);
        CHECK(mmx_gguf_writer_write(w, data[t] + half, n - half) == MMX_OK);
    }
    mmx_status st = mmx_gguf_writer_close(w, &err);
    CHECKF(st == MMX_OK, "%s", err.message);
    mmx_gguf_writer_free(w);
    char tmp[620];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CHECK(access(tmp, F_OK) != 0); /* renamed away */

    mmx_gguf *g;
    st = mmx_gguf_open(path, &g, &err);
    CHECKF(st == MMX_OK, "%s", err.message);
    REQUIRE(st == MMX_OK);
    const char *s;
    size_t n;
    int64_t x;
    double d;
    bool bv;
    mmx_gguf_type et;
    CHECK(mmx_gguf_version(g) == 3 && mmx_gguf_alignment(g) == 32 && mmx_gguf_n_kv(g) == 20);
    CHECK(mmx_gguf_find_key(g, "general.alignment") < 0); /* default alignment: not written */
    CHECK(mmx_gguf_get_str(g, "general.architecture", &s, &n) && n == 10 && !memcmp(s, "minimax-01", 10));
    CHECK(mmx_gguf_kv_type(g, 1) == MMX_GGUF_U8 && mmx_gguf_get_int(g, "a.u8", &x) && x == 255);
    CHECK(mmx_gguf_kv_type(g, 2) == MMX_GGUF_I8 && mmx_gguf_get_int(g, "a.i8", &x) && x == -5);
    CHECK(mmx_gguf_kv_type(g, 3) == MMX_GGUF_U16 && mmx_gguf_get_int(g, "a.u16", &x) && x == 65535);
    CHECK(mmx_gguf_kv_type(g, 4) == MMX_GGUF_I16 && mmx_gguf_get_int(g, "a.i16", &x) && x == -32768);
    CHECK(mmx_gguf_kv_type(g, 5) == MMX_GGUF_U32 && mmx_gguf_get_int(g, "a.u32", &x) && x == 4000000000LL);
    CHECK(mmx_gguf_kv_type(g, 6) == MMX_GGUF_I32 && mmx_gguf_get_int(g, "a.i32", &x) && x == INT32_MIN);
    CHECK(mmx_gguf_kv_type(g, 7) == MMX_GGUF_U64 && mmx_gguf_get_int(g, "a.u64", &x) && x == INT64_C(1) << 40);
    CHECK(mmx_gguf_kv_type(g, 8) == MMX_GGUF_I64 && mmx_gguf_get_int(g, "a.i64", &x) && x == INT64_MIN);
    CHECK(mmx_gguf_kv_type(g, 9) == MMX_GGUF_F32 && mmx_gguf_get_float(g, "a.f32", &d) && d == 2.5);
    CHECK(mmx_gguf_kv_type(g, 10) == MMX_GGUF_F64 && mmx_gguf_get_float(g, "a.f64", &d) && d == 1e-300);
    CHECK(mmx_gguf_kv_type(g, 11) == MMX_GGUF_BOOL && mmx_gguf_get_bool(g, "a.bool", &bv) && bv);
    CHECK(mmx_gguf_get_str(g, "a.str_nul", &s, &n) && n == 3 && !memcmp(s, "x\0y", 3));
    CHECK(mmx_gguf_get_arr(g, "a.arr_i32", &et, &n) && et == MMX_GGUF_I32 && n == 3);
    CHECK(mmx_gguf_arr_int(g, "a.arr_i32", 1, &x) && x == -2);
    CHECK(mmx_gguf_get_arr(g, "a.arr_bool", &et, &n) && et == MMX_GGUF_BOOL && n == 3);
    CHECK(mmx_gguf_arr_int(g, "a.arr_bool", 1, &x) && x == 0 && mmx_gguf_arr_int(g, "a.arr_bool", 2, &x) && x == 1);
    CHECK(mmx_gguf_get_arr(g, "a.arr_u64", &et, &n) && et == MMX_GGUF_U64 && n == 1);
    CHECK(mmx_gguf_get_arr(g, "a.arr_f32", &et, &n) && et == MMX_GGUF_F32 && n == 2);
    CHECK(mmx_gguf_arr_float(g, "a.arr_f32", 1, &d) && d == -4);
    CHECK(mmx_gguf_get_arr(g, "a.arr_f64", &et, &n) && et == MMX_GGUF_F64 && n == 2);
    CHECK(mmx_gguf_arr_float(g, "a.arr_f64", 0, &d) && d == 0.5);
    CHECK(mmx_gguf_arr_str(g, "a.arr_str", 2, &s, &n) && n == 6 && !memcmp(s, "h\xc3\xa9llo", 6));
    CHECK(mmx_gguf_arr_str(g, "a.arr_str", 1, &s, &n) && n == 0);
    CHECK(!mmx_gguf_arr_str(g, "a.arr_str", 3, &s, &n));
    CHECK(mmx_gguf_get_arr(g, "a.arr_empty", &et, &n) && et == MMX_GGUF_STRING && n == 0);
    REQUIRE(mmx_gguf_n_tensors(g) == MMX_TYPE_COUNT);
    const uint8_t *prev_end = NULL;
    for (int t = 0; t < MMX_TYPE_COUNT; t++) {
        snprintf(name, sizeof name, "t.%s", mmx_type_name((mmx_type)t));
        const mmx_tensor *tt = mmx_gguf_tensor(g, (size_t)t);
        CHECKF(!strcmp(tt->name, name) && tt->type == (mmx_type)t && tt->n_dims == w_ndims[t], "%s", name);
        for (int k = 0; k < w_ndims[t]; k++) CHECKF(tt->shape[k] == w_shapes[t][k], "%s shape[%d]", name, k);
        CHECKF(tt->n_bytes == w_bytes(t) && !memcmp(tt->data, data[t], tt->n_bytes), "%s data", name);
        /* consecutive, each padded to 32 (as llama.cpp requires) */
        if (prev_end) CHECKF((const uint8_t *)tt->data == prev_end, "%s not right after the previous tensor", name);
        prev_end = (const uint8_t *)tt->data + (tt->n_bytes + 31) / 32 * 32;
        free(data[t]);
    }
    struct stat sb;
    CHECK(stat(path, &sb) == 0);

    /* copy_kv of every pair + the same tensors gives a byte-identical file */
    char path2[600];
    snprintf(path2, sizeof path2, "%s/rt2.gguf", mmx_test_tmpdir());
    REQUIRE(mmx_gguf_writer_open(path2, &w, &err) == MMX_OK);
    for (size_t i = 0; i < mmx_gguf_n_kv(g); i++) CHECK(mmx_gguf_writer_copy_kv(w, g, i) == MMX_OK);
    for (size_t i = 0; i < mmx_gguf_n_tensors(g); i++) {
        const mmx_tensor *tt = mmx_gguf_tensor(g, i);
        mmx_gguf_writer_add_tensor(w, tt->name, tt->type, tt->n_dims, tt->shape);
    }
    mmx_gguf_writer_begin_data(w);
    for (size_t i = 0; i < mmx_gguf_n_tensors(g); i++) mmx_gguf_writer_write(w, mmx_gguf_tensor(g, i)->data, mmx_gguf_tensor(g, i)->n_bytes);
    st = mmx_gguf_writer_close(w, &err);
    CHECKF(st == MMX_OK, "%s", err.message);
    mmx_gguf_writer_free(w);
    size_t l1, l2;
    uint8_t *b1 = slurp(path, &l1), *b2 = slurp(path2, &l2);
    CHECKF(b1 && b2 && l1 == l2 && !memcmp(b1, b2, l1), "copied file differs (%zu vs %zu bytes)", l1, l2);
    CHECK(l1 == (size_t)sb.st_size);
    free(b1);
    free(b2);
    mmx_gguf_free(g);
}

TEST(gguf_writer_custom_alignment) {
    char path[600];
    snprintf(path, sizeof path, "%s/al.gguf", mmx_test_tmpdir());
    mmx_gguf_writer *w;
    mmx_error err;
    REQUIRE(mmx_gguf_writer_open(path, &w, &err) == MMX_OK);
    CHECK(mmx_gguf_writer_set_int(w, "general.alignment", MMX_GGUF_U32, 128) == MMX_OK);
    uint64_t s1[1] = {5}, s2[2] = {2, 3};
    mmx_gguf_writer_add_tensor(w, "a", MMX_TYPE_F32, 1, s1);
    mmx_gguf_writer_add_tensor(w, "b", MMX_TYPE_F16, 2, s2);
    mmx_gguf_writer_begin_data(w);
    float a[5] = {1, 2, 3, 4, 5};
    uint16_t b[6] = {1, 2, 3, 4, 5, 6};
    mmx_gguf_writer_write(w, a, sizeof a);
    mmx_gguf_writer_write(w, b, sizeof b);
    mmx_status st = mmx_gguf_writer_close(w, &err);
    CHECKF(st == MMX_OK, "%s", err.message);
    mmx_gguf_writer_free(w);
    size_t len;
    uint8_t *buf = slurp(path, &len);
    REQUIRE(buf);
    mmx_gguf *g;
    st = mmx_gguf_parse(buf, len, path, &g, &err);
    CHECKF(st == MMX_OK, "%s", err.message);
    if (st == MMX_OK) {
        CHECK(mmx_gguf_alignment(g) == 128);
        const mmx_tensor *ta = mmx_gguf_find_tensor(g, "a"), *tb = mmx_gguf_find_tensor(g, "b");
        CHECK(ta && tb && (size_t)((const uint8_t *)ta->data - buf) % 128 == 0 &&
              (const uint8_t *)tb->data - (const uint8_t *)ta->data == 128);
        CHECK(!memcmp(ta->data, a, sizeof a) && !memcmp(tb->data, b, sizeof b));
        CHECK(len == (size_t)((const uint8_t *)tb->data - buf) + 128); /* the last tensor padded too */
        mmx_gguf_free(g);
    }
    free(buf);
}

/* each misuse: the call fails with MMX_ERR_INVALID_ARG naming the key/tensor, close fails, no file */
static void writer_misuse(int line, int kind) {
    char path[600];
    snprintf(path, sizeof path, "%s/misuse%d.gguf", mmx_test_tmpdir(), kind);
    mmx_gguf_writer *w;
    mmx_error err;
    if (mmx_gguf_writer_open(path, &w, &err) != MMX_OK) {
        CHECKF(0, "line %d: open failed: %s", line, err.message);
        return;
    }
    uint64_t s1[1] = {8}, s0[2] = {0, 4}, sbig[3] = {UINT64_C(1) << 32, UINT64_C(1) << 32, 2};
    float v[8] = {0};
    mmx_status st = MMX_OK;
    const char *needle = "";
    switch (kind) {
    case 0:
        mmx_gguf_writer_set_int(w, "k.x", MMX_GGUF_U32, 1);
        st = mmx_gguf_writer_set_str(w, "k.x", "a", 1), needle = "'k.x'";
        break;
    case 1:
        mmx_gguf_writer_add_tensor(w, "t", MMX_TYPE_F32, 1, s1);
        st = mmx_gguf_writer_add_tensor(w, "t", MMX_TYPE_F32, 1, s1), needle = "'t'";
        break;
    case 2: {
        char long_name[65];
        memset(long_name, 'n', 64);
        long_name[64] = 0;
        st = mmx_gguf_writer_add_tensor(w, long_name, MMX_TYPE_F32, 1, s1), needle = "has 64 bytes";
        break;
    }
    case 3: st = mmx_gguf_writer_add_tensor(w, "zero", MMX_TYPE_F32, 2, s0), needle = "'zero'"; break;
    case 4: st = mmx_gguf_writer_add_tensor(w, "big", MMX_TYPE_F32, 3, sbig), needle = "'big'"; break;
    case 5: st = mmx_gguf_writer_add_tensor(w, "q", MMX_TYPE_Q8_0, 1, s1), needle = "'q'"; break;
    case 6:
        mmx_gguf_writer_begin_data(w);
        st = mmx_gguf_writer_set_int(w, "late", MMX_GGUF_U32, 1), needle = "'late'";
        break;
    case 7:
        mmx_gguf_writer_add_tensor(w, "t", MMX_TYPE_F32, 1, s1);
        mmx_gguf_writer_begin_data(w);
        mmx_gguf_writer_write(w, v, sizeof v);
        st = mmx_gguf_writer_write(w, v, 1), needle = "more than";
        break;
    case 8: st = mmx_gguf_writer_set_str(w, "general.alignment", "32", 2), needle = "u32"; break;
    case 9: st = mmx_gguf_writer_set_int(w, "general.alignment", MMX_GGUF_U32, 24), needle = "power of two"; break;
    case 10:
        mmx_gguf_writer_add_tensor(w, "t", MMX_TYPE_F32, 1, s1);
        mmx_gguf_writer_begin_data(w);
        mmx_gguf_writer_write(w, v, 4);
        st = mmx_gguf_writer_close(w, &err), needle = "'t' got 4 of its 32 bytes";
        break;
    }
    const mmx_error *we = mmx_gguf_writer_error(w);
    CHECKF(st == MMX_ERR_INVALID_ARG, "line %d kind %d: status %d (%s)", line, kind, st, we->message);
    CHECKF(strstr(we->message, needle) && strstr(we->message, "misuse"), "line %d kind %d: message '%s' lacks '%s'",
           line, kind, we->message, needle);
    if (kind != 10) CHECK(mmx_gguf_writer_close(w, &err) == MMX_ERR_INVALID_ARG && strstr(err.message, needle));
    mmx_gguf_writer_free(w);
    char tmp[620];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CHECKF(access(path, F_OK) != 0 && access(tmp, F_OK) != 0, "line %d kind %d: a file was left", line, kind);
}

TEST(gguf_writer_rejects_misuse_and_leaves_no_file) {
    for (int kind = 0; kind <= 10; kind++) writer_misuse(__LINE__, kind);
    mmx_gguf_writer *w;
    mmx_error err;
    CHECK(mmx_gguf_writer_open("/nonexistent-dir/x.gguf", &w, &err) == MMX_ERR_IO && w == NULL);
    CHECKF(strstr(err.message, "/nonexistent-dir/x.gguf.tmp") && strstr(err.message, "No such file"), "%s", err.message);
}

/* ---- tokenizer from GGUF ------------------------------------------------------------------------- */
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
    /* the real 200k vocabulary: parse time of the whole header */
    mmx_gguf *g;
    mmx_error err;
    double t0 = mmx_time_s();
    REQUIRE(mmx_gguf_open(path, &g, &err) == MMX_OK);
    double dt = mmx_time_s() - t0;
    mmx_gguf_type et;
    size_t n_tok = 0, n_merges = 0;
    CHECK(mmx_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &n_tok) && n_tok > 200000);
    CHECK(mmx_gguf_get_arr(g, "tokenizer.ggml.merges", &et, &n_merges) && n_merges > 100000);
    printf("    GGUF with the MiniMax vocabulary (%zu tokens, %zu merges) mapped and parsed in %.2f ms\n", n_tok, n_merges,
           dt * 1e3);
    mmx_gguf_free(g);
    mmx_tokenizer *a, *b;
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
