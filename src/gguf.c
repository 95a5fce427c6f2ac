/*
 * gguf.c — GGUF reader (a pure parser over a buffer) and streaming writer; the layout is in gguf.h.
 *
 * Parser.  Every count is checked against the bytes that remain BEFORE anything is allocated for
 * it, so absurd counts fail fast with MMX_ERR_FORMAT instead of exhausting memory: a header's
 * n_kv and n_tensors against the smallest possible size of a pair (13 bytes) and of a tensor info
 * (32 bytes), an array's count against the smallest size of its elements.  Every error message starts
 * with the file name, names the key or tensor involved (or its index when its name is not read yet)
 * and says what was expected and what was found.  String arrays are indexed while parsing (one
 * offset per element), so mmx_gguf_arr_str is O(1).
 *
 * What is accepted, beyond the layout in gguf.h:
 *   - keys up to 65535 bytes, tensor names up to 4096 bytes (ggml itself allows 63), no NUL bytes;
 *   - keys and tensor names unique;
 *   - arrays of any scalar type or of strings; arrays of arrays are rejected (ggml rejects them too);
 *   - n_dims 1..4, every ne[i] >= 1, the element count <= INT64_MAX, ne[0] a multiple of the block;
 *   - every ggml type whose block size is known (table below); only some map to an mmx_type;
 *   - general.alignment, when present, a u32 power of two; tensor offsets multiples of it, and the
 *     data of every tensor inside the file.  Offsets need not be consecutive (ggml requires that;
 *     the writer below produces it).
 *
 * Writer.  Metadata and tensor infos are collected in memory; begin_data writes them, then the
 * tensor data streams straight to `path`.tmp, each tensor padded to the alignment; close fsyncs
 * and renames.  It refuses what llama.cpp's reader would refuse: duplicate keys or names, names of
 * 64 bytes or more, empty shapes.
 */
#include "gguf.h"
#include "mapfile.h"
#include "strmap.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_KEY_LEN 65535u     /* the GGUF spec's limit on keys */
#define MAX_NAME_LEN 4096u     /* reader's limit on tensor names */
#define WRITER_MAX_NAME 63u    /* llama.cpp: GGML_MAX_NAME (64) including the NUL */
#define DEFAULT_ALIGNMENT 32u
#define MAX_ALIGNMENT (1u << 20) /* writer only */
#define MIN_KV_BYTES 13u       /* u64 key length + u32 type + 1-byte value */
#define MIN_TENSOR_BYTES 32u   /* u64 name length + u32 n_dims + one u64 ne + u32 type + u64 offset */

/* ---- ggml types: block elements and bytes, so any tensor's size can be validated ------------- */
typedef struct {
    const char *name; /* NULL: unknown id */
    uint32_t blck, size;
} ggml_type_info;

static const ggml_type_info ggml_types[] = {
    [0] = {"f32", 1, 4},          [1] = {"f16", 1, 2},         [2] = {"q4_0", 32, 18},
    [3] = {"q4_1", 32, 20},       [6] = {"q5_0", 32, 22},      [7] = {"q5_1", 32, 24},
    [8] = {"q8_0", 32, 34},       [9] = {"q8_1", 32, 36},      [10] = {"q2_K", 256, 84},
    [11] = {"q3_K", 256, 110},    [12] = {"q4_K", 256, 144},   [13] = {"q5_K", 256, 176},
    [14] = {"q6_K", 256, 210},    [15] = {"q8_K", 256, 292},   [16] = {"iq2_xxs", 256, 66},
    [17] = {"iq2_xs", 256, 74},   [18] = {"iq3_xxs", 256, 98}, [19] = {"iq1_s", 256, 50},
    [20] = {"iq4_nl", 32, 18},    [21] = {"iq3_s", 256, 110},  [22] = {"iq2_s", 256, 82},
    [23] = {"iq4_xs", 256, 136},  [24] = {"i8", 1, 1},         [25] = {"i16", 1, 2},
    [26] = {"i32", 1, 4},         [27] = {"i64", 1, 8},        [28] = {"f64", 1, 8},
    [29] = {"iq1_m", 256, 56},    [30] = {"bf16", 1, 2},       [34] = {"tq1_0", 256, 54},
    [35] = {"tq2_0", 256, 66},    [39] = {"mxfp4", 32, 17},
};
#define N_GGML_TYPES (sizeof ggml_types / sizeof ggml_types[0])

static const ggml_type_info *ggml_type_lookup(uint32_t id) {
    return id < N_GGML_TYPES && ggml_types[id].name ? &ggml_types[id] : NULL;
}

mmx_type mmx_type_from_ggml(uint32_t t) {
    switch (t) {
    case MMX_GGML_F32: return MMX_TYPE_F32;
    case MMX_GGML_F16: return MMX_TYPE_F16;
    case MMX_GGML_BF16: return MMX_TYPE_BF16;
    case MMX_GGML_Q8_0: return MMX_TYPE_Q8_0;
    case MMX_GGML_Q4_0: return MMX_TYPE_Q4_0;
    case MMX_GGML_Q4_K: return MMX_TYPE_Q4_K;
    case MMX_GGML_Q5_K: return MMX_TYPE_Q5_K;
    case MMX_GGML_Q6_K: return MMX_TYPE_Q6_K;
    default: return MMX_TYPE_COUNT;
    }
}

uint32_t mmx_type_to_ggml(mmx_type t) {
    static const uint32_t ids[MMX_TYPE_COUNT] = {
        [MMX_TYPE_F32] = MMX_GGML_F32,   [MMX_TYPE_F16] = MMX_GGML_F16,   [MMX_TYPE_BF16] = MMX_GGML_BF16,
        [MMX_TYPE_Q8_0] = MMX_GGML_Q8_0, [MMX_TYPE_Q4_0] = MMX_GGML_Q4_0, [MMX_TYPE_Q4_K] = MMX_GGML_Q4_K,
        [MMX_TYPE_Q5_K] = MMX_GGML_Q5_K, [MMX_TYPE_Q6_K] = MMX_GGML_Q6_K,
    };
    MMX_ASSERT((unsigned)t < MMX_TYPE_COUNT);
    return ids[t];
}

/* ---- GGUF value types ------------------------------------------------------------------------ */
static size_t scalar_size(uint32_t t) {
    switch (t) {
    case MMX_GGUF_U8: case MMX_GGUF_I8: case MMX_GGUF_BOOL: return 1;
    case MMX_GGUF_U16: case MMX_GGUF_I16: return 2;
    case MMX_GGUF_U32: case MMX_GGUF_I32: case MMX_GGUF_F32: return 4;
    case MMX_GGUF_U64: case MMX_GGUF_I64: case MMX_GGUF_F64: return 8;
    default: return 0;
    }
}

static const char *value_type_name(uint32_t t) {
    static const char *names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

static inline uint64_t rd_le(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = v << 8 | p[i];
    return v;
}

static inline uint64_t rd_u64le(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* ---- parsed representation ------------------------------------------------------------------ */
typedef struct {
    char *key;
    mmx_gguf_type type;
    const uint8_t *val;      /* scalar: its bytes; string: its bytes (after the length) */
    uint64_t str_len;
    mmx_gguf_type arr_type;  /* arrays */
    uint64_t arr_n;
    const uint8_t *arr_data; /* first element (numeric arrays), or the first string's length field */
    size_t *arr_str;         /* string arrays: offset from the buffer start of each element's u64 length */
} gguf_kv;

struct mmx_gguf {
    const uint8_t *base;
    uint32_t version;
    size_t alignment;
    gguf_kv *kv;
    size_t n_kv;
    mmx_strmap kv_by_key;
    mmx_tensor *tensors;
    char **tensor_names;
    size_t n_tensors;
    mmx_strmap tensor_by_name;
    mmx_mapfile map; /* when opened from a file */
};

/* A read position plus what is being read, for messages. */
typedef struct {
    const uint8_t *p;
    size_t len, pos;
    const char *name; /* the file, for messages */
    mmx_error *err;
} cursor;

typedef struct {
    const char *kind; /* "key" or "tensor" (NULL: the file header) */
    const char *item; /* its name, once read */
    uint64_t index;
} where;

static mmx_status fail_at(const cursor *c, const where *w, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static mmx_status fail_at(const cursor *c, const where *w, const char *fmt, ...) {
    char what[320], msg[640];
    if (!w || !w->kind) snprintf(what, sizeof what, "header");
    else if (w->item) snprintf(what, sizeof what, "%s '%.256s'", w->kind, w->item);
    else snprintf(what, sizeof what, "%s #%llu", !strcmp(w->kind, "key") ? "metadata pair" : "tensor info",
                  (unsigned long long)w->index);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mmx_fail(c->err, MMX_ERR_FORMAT, "%s: %s: %s", c->name, what, msg);
}

static mmx_status fail_nomem(const cursor *c) {
    return mmx_fail(c->err, MMX_ERR_NOMEM, "%s: out of memory while parsing the GGUF header", c->name);
}

static bool need(cursor *c, const where *w, size_t n, const char *field) {
    if (c->len - c->pos >= n) return true;
    fail_at(c, w, "truncated: %s needs %zu bytes at offset %zu, but the file ends at %zu", field, n, c->pos, c->len);
    return false;
}

static bool rd_u32(cursor *c, const where *w, const char *field, uint32_t *v) {
    if (!need(c, w, 4, field)) return false;
    *v = (uint32_t)rd_le(c->p + c->pos, 4);
    c->pos += 4;
    return true;
}

static bool rd_u64(cursor *c, const where *w, const char *field, uint64_t *v) {
    if (!need(c, w, 8, field)) return false;
    *v = rd_u64le(c->p + c->pos);
    c->pos += 8;
    return true;
}

/* string: u64 length + bytes (no NUL); *s points into the buffer */
static bool rd_str(cursor *c, const where *w, const char *field, uint64_t max, const uint8_t **s, uint64_t *n) {
    if (!rd_u64(c, w, field, n)) return false;
    if (*n > max) {
        fail_at(c, w, "%s at offset %zu has length %llu, more than the limit of %llu bytes", field, c->pos - 8,
                (unsigned long long)*n, (unsigned long long)max);
        return false;
    }
    if (*n > c->len - c->pos) {
        fail_at(c, w, "truncated: %s at offset %zu has length %llu, but only %zu bytes follow", field, c->pos - 8,
                (unsigned long long)*n, c->len - c->pos);
        return false;
    }
    *s = c->p + c->pos;
    c->pos += (size_t)*n;
    return true;
}

void mmx_gguf_free(mmx_gguf *g) {
    if (!g) return;
    for (size_t i = 0; i < g->n_kv; i++) {
        free(g->kv[i].key);
        free(g->kv[i].arr_str);
    }
    free(g->kv);
    for (size_t i = 0; i < g->n_tensors; i++) free(g->tensor_names[i]);
    free(g->tensor_names);
    free(g->tensors);
    mmx_strmap_free(&g->kv_by_key);
    mmx_strmap_free(&g->tensor_by_name);
    mmx_mapfile_close(&g->map);
    free(g);
}

static char *dup_n(const uint8_t *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static mmx_status parse_array(cursor *c, const where *w, gguf_kv *kv) {
    uint32_t et;
    if (!rd_u32(c, w, "the array element type", &et) || !rd_u64(c, w, "the array count", &kv->arr_n))
        return MMX_ERR_FORMAT;
    kv->arr_type = (mmx_gguf_type)et;
    size_t left = c->len - c->pos;
    if (et == MMX_GGUF_STRING) {
        /* each element takes at least its 8-byte length: check the count before allocating */
        if (kv->arr_n > left / 8)
            return fail_at(c, w, "array of %llu strings cannot fit: they need at least 8 bytes each, only %zu bytes follow",
                           (unsigned long long)kv->arr_n, left);
        size_t n = (size_t)kv->arr_n;
        kv->arr_str = malloc((n ? n : 1) * sizeof *kv->arr_str);
        if (!kv->arr_str) return fail_nomem(c);
        kv->arr_data = c->p + c->pos;
        const uint8_t *p = c->p;
        size_t pos = c->pos, len = c->len;
        for (size_t i = 0; i < n; i++) {
            if (len - pos < 8) {
                c->pos = pos;
                return fail_at(c, w, "truncated: string %zu of %zu needs its 8-byte length at offset %zu, but the file ends at %zu",
                               i, n, pos, len);
            }
            uint64_t sl = rd_u64le(p + pos);
            if (sl > len - pos - 8) {
                c->pos = pos;
                return fail_at(c, w, "truncated: string %zu of %zu at offset %zu has length %llu, but only %zu bytes follow", i,
                               n, pos, (unsigned long long)sl, len - pos - 8);
            }
            kv->arr_str[i] = pos;
            pos += 8 + (size_t)sl;
        }
        c->pos = pos;
        return MMX_OK;
    }
    if (et == MMX_GGUF_ARRAY) return fail_at(c, w, "arrays of arrays are not supported (element type 9)");
    size_t es = scalar_size(et);
    if (es == 0) return fail_at(c, w, "unknown array element type %u (expected 0..12, not 9)", et);
    if (kv->arr_n > left / es)
        return fail_at(c, w, "truncated: array of %llu %s values needs %llu x %zu bytes, only %zu bytes follow",
                       (unsigned long long)kv->arr_n, value_type_name(et), (unsigned long long)kv->arr_n, es, left);
    kv->arr_data = c->p + c->pos;
    c->pos += (size_t)kv->arr_n * es;
    return MMX_OK;
}

static mmx_status parse_kv(cursor *c, mmx_gguf *g, uint64_t index) {
    where w = {"key", NULL, index};
    const uint8_t *ks;
    uint64_t kn;
    if (!rd_str(c, &w, "the key", MAX_KEY_LEN, &ks, &kn)) return MMX_ERR_FORMAT;
    if (memchr(ks, 0, (size_t)kn))
        return fail_at(c, &w, "the key '%.*s…' at offset %zu contains a NUL byte", (int)strnlen((const char *)ks, 200),
                       (const char *)ks, c->pos - (size_t)kn);
    gguf_kv *kv = &g->kv[g->n_kv];
    kv->key = dup_n(ks, (size_t)kn);
    if (!kv->key) return fail_nomem(c);
    g->n_kv++;
    w.item = kv->key;
    bool existed;
    if (!mmx_strmap_put(&g->kv_by_key, kv->key, kv, &existed)) return fail_nomem(c);
    if (existed) {
        const gguf_kv *first = mmx_strmap_get(&g->kv_by_key, kv->key);
        return fail_at(c, &w, "duplicate key: metadata pairs #%zu and #%llu have the same key", (size_t)(first - g->kv),
                       (unsigned long long)index);
    }
    uint32_t type;
    if (!rd_u32(c, &w, "the value type", &type)) return MMX_ERR_FORMAT;
    kv->type = (mmx_gguf_type)type;
    if (type == MMX_GGUF_STRING)
        return rd_str(c, &w, "the string value", UINT64_MAX, &kv->val, &kv->str_len) ? MMX_OK : MMX_ERR_FORMAT;
    if (type == MMX_GGUF_ARRAY) return parse_array(c, &w, kv);
    size_t es = scalar_size(type);
    if (es == 0) return fail_at(c, &w, "unknown value type %u at offset %zu (expected 0..12)", type, c->pos - 4);
    if (!need(c, &w, es, "the value")) return MMX_ERR_FORMAT;
    kv->val = c->p + c->pos;
    c->pos += es;
    return MMX_OK;
}

static mmx_status parse_tensor_info(cursor *c, mmx_gguf *g, uint64_t index, uint64_t *offset_out) {
    where w = {"tensor", NULL, index};
    const uint8_t *ns;
    uint64_t nn;
    if (!rd_str(c, &w, "the name", MAX_NAME_LEN, &ns, &nn)) return MMX_ERR_FORMAT;
    if (memchr(ns, 0, (size_t)nn))
        return fail_at(c, &w, "the name '%.*s…' at offset %zu contains a NUL byte", (int)strnlen((const char *)ns, 200),
                       (const char *)ns, c->pos - (size_t)nn);
    mmx_tensor *t = &g->tensors[g->n_tensors];
    char *name = dup_n(ns, (size_t)nn);
    if (!name) return fail_nomem(c);
    g->tensor_names[g->n_tensors] = name;
    t->name = name;
    g->n_tensors++;
    w.item = name;
    bool existed;
    if (!mmx_strmap_put(&g->tensor_by_name, name, t, &existed)) return fail_nomem(c);
    if (existed) {
        const mmx_tensor *first = mmx_strmap_get(&g->tensor_by_name, name);
        return fail_at(c, &w, "duplicate tensor name: tensor infos #%zu and #%llu have the same name",
                       (size_t)(first - g->tensors), (unsigned long long)index);
    }
    uint32_t nd;
    if (!rd_u32(c, &w, "n_dims", &nd)) return MMX_ERR_FORMAT;
    if (nd < 1 || nd > MMX_MAX_DIMS)
        return fail_at(c, &w, "n_dims is %u at offset %zu, expected 1..%d", nd, c->pos - 4, MMX_MAX_DIMS);
    uint64_t ne[MMX_MAX_DIMS], n_elems = 1;
    for (uint32_t i = 0; i < nd; i++) {
        if (!rd_u64(c, &w, "a dimension (ne)", &ne[i])) return MMX_ERR_FORMAT;
        if (ne[i] == 0) return fail_at(c, &w, "ne[%u] is 0, expected at least 1", i);
        if (__builtin_mul_overflow(n_elems, ne[i], &n_elems) || n_elems > (uint64_t)INT64_MAX)
            return fail_at(c, &w, "the shape overflows: ne[%u] = %llu makes more than 2^63-1 elements", i,
                           (unsigned long long)ne[i]);
    }
    uint32_t type;
    uint64_t offset;
    if (!rd_u32(c, &w, "the ggml type", &type)) return MMX_ERR_FORMAT;
    const ggml_type_info *ti = ggml_type_lookup(type);
    if (!ti) return fail_at(c, &w, "unknown ggml type id %u at offset %zu", type, c->pos - 4);
    if (!rd_u64(c, &w, "the data offset", &offset)) return MMX_ERR_FORMAT;
    if (ne[0] % ti->blck)
        return fail_at(c, &w, "rows of %llu elements (ne[0]) are not a multiple of the %s block size %u",
                       (unsigned long long)ne[0], ti->name, ti->blck);
    uint64_t nbytes;
    if (__builtin_mul_overflow(n_elems / ti->blck, (uint64_t)ti->size, &nbytes) || nbytes > SIZE_MAX)
        return fail_at(c, &w, "the data size of %llu %s elements overflows", (unsigned long long)n_elems, ti->name);
    t->type = mmx_type_from_ggml(type);
    t->type_name = ti->name;
    t->n_dims = (int)nd;
    for (uint32_t i = 0; i < nd; i++) t->shape[i] = ne[nd - 1 - i]; /* PyTorch order: outermost first */
    t->n_bytes = (size_t)nbytes;
    *offset_out = offset;
    return MMX_OK;
}

static mmx_status read_alignment(cursor *c, mmx_gguf *g) {
    g->alignment = DEFAULT_ALIGNMENT;
    const gguf_kv *al = mmx_strmap_get(&g->kv_by_key, "general.alignment");
    if (!al) return MMX_OK;
    where w = {"key", al->key, 0};
    if (al->type != MMX_GGUF_U32)
        return fail_at(c, &w, "type is %s, expected u32", value_type_name(al->type));
    uint32_t a = (uint32_t)rd_le(al->val, 4);
    if (a == 0 || (a & (a - 1)))
        return fail_at(c, &w, "alignment %u is not a power of two", a);
    g->alignment = a;
    return MMX_OK;
}

mmx_status mmx_gguf_parse(const void *buf, size_t len, const char *name, mmx_gguf **out, mmx_error *err) {
    mmx_error local;
    if (!err) err = &local;
    *out = NULL;
    if (!name) name = "(buffer)";
    MMX_ASSERT(buf || len == 0);
    cursor c = {buf, len, 0, name, err};
    const uint8_t *p = buf;
    if (len < 4) return mmx_fail(err, MMX_ERR_FORMAT, "%s: truncated: %zu bytes, a GGUF file starts with a 24-byte header", name, len);
    if (memcmp(p, "GGUF", 4) != 0) {
        char m[4];
        for (int i = 0; i < 4; i++) m[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: not a GGUF file: magic is '%.4s' (%02x %02x %02x %02x), expected 'GGUF'",
                        name, m, p[0], p[1], p[2], p[3]);
    }
    c.pos = 4;
    uint32_t version;
    uint64_t n_tensors, n_kv;
    if (!rd_u32(&c, NULL, "the version", &version)) return MMX_ERR_FORMAT;
    if (version != 2 && version != 3) {
        if (version != 0 && (version & 0xffff) == 0)
            return mmx_fail(err, MMX_ERR_FORMAT, "%s: header: GGUF version %u (0x%08x) looks byte-swapped: big-endian files are not supported",
                            name, version, version);
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: header: GGUF version %u is not supported, expected 2 or 3", name, version);
    }
    if (!rd_u64(&c, NULL, "the tensor count", &n_tensors) || !rd_u64(&c, NULL, "the metadata count", &n_kv))
        return MMX_ERR_FORMAT;
    size_t left = len - c.pos;
    if (n_kv > left / MIN_KV_BYTES)
        return mmx_fail(err, MMX_ERR_FORMAT,
                        "%s: header: n_kv = %llu metadata pairs cannot fit: each needs at least %u bytes, only %zu bytes follow",
                        name, (unsigned long long)n_kv, MIN_KV_BYTES, left);
    if (n_tensors > (left - n_kv * MIN_KV_BYTES) / MIN_TENSOR_BYTES)
        return mmx_fail(err, MMX_ERR_FORMAT,
                        "%s: header: n_tensors = %llu tensor infos cannot fit: each needs at least %u bytes, only %zu bytes "
                        "follow (after at least %llu for the metadata)",
                        name, (unsigned long long)n_tensors, MIN_TENSOR_BYTES, left,
                        (unsigned long long)(n_kv * MIN_KV_BYTES));
    mmx_gguf *g = calloc(1, sizeof *g);
    mmx_status st = MMX_OK;
    uint64_t *offsets = NULL;
    if (!g || !(g->kv = calloc((size_t)n_kv + 1, sizeof *g->kv)) ||
        !(g->tensors = calloc((size_t)n_tensors + 1, sizeof *g->tensors)) ||
        !(g->tensor_names = calloc((size_t)n_tensors + 1, sizeof *g->tensor_names)) ||
        !(offsets = calloc((size_t)n_tensors + 1, sizeof *offsets)) || !mmx_strmap_init(&g->kv_by_key, (size_t)n_kv) ||
        !mmx_strmap_init(&g->tensor_by_name, (size_t)n_tensors)) {
        st = fail_nomem(&c);
        goto done;
    }
    g->base = p;
    g->version = version;
    for (uint64_t i = 0; i < n_kv && st == MMX_OK; i++) st = parse_kv(&c, g, i);
    if (st != MMX_OK || (st = read_alignment(&c, g)) != MMX_OK) goto done;
    for (uint64_t i = 0; i < n_tensors && st == MMX_OK; i++) st = parse_tensor_info(&c, g, i, &offsets[i]);
    if (st != MMX_OK) goto done;

    /* data section: the header padded to the alignment; every tensor aligned and inside the file */
    size_t data_start = c.pos + (g->alignment - c.pos % g->alignment) % g->alignment;
    size_t data_len = data_start <= len ? len - data_start : 0;
    for (size_t i = 0; i < g->n_tensors; i++) {
        mmx_tensor *t = &g->tensors[i];
        where w = {"tensor", t->name, i};
        if (offsets[i] % g->alignment) {
            st = fail_at(&c, &w, "data offset %llu is not a multiple of the alignment %zu", (unsigned long long)offsets[i],
                         g->alignment);
            goto done;
        }
        if (data_start > len || offsets[i] > data_len || t->n_bytes > data_len - offsets[i]) {
            st = fail_at(&c, &w,
                         "truncated: its %zu bytes of data at offset %llu of the data section (which starts at byte %zu) "
                         "run past the end of the file (%zu bytes)",
                         t->n_bytes, (unsigned long long)offsets[i], data_start, len);
            goto done;
        }
        t->data = p + data_start + offsets[i];
    }
done:
    free(offsets);
    if (st != MMX_OK) {
        mmx_gguf_free(g);
        return st;
    }
    *out = g;
    return MMX_OK;
}

mmx_status mmx_gguf_open(const char *path, mmx_gguf **out, mmx_error *err) {
    *out = NULL;
    mmx_mapfile map;
    mmx_status s = mmx_mapfile_open(path, &map, err);
    if (s != MMX_OK) return s;
    s = mmx_gguf_parse(map.data, map.len, path, out, err);
    if (s != MMX_OK) {
        mmx_mapfile_close(&map);
        return s;
    }
    (*out)->map = map;
    return MMX_OK;
}

/* ---- accessors ------------------------------------------------------------------------------ */
mmx_mapfile *mmx_gguf_mapfile(mmx_gguf *g) { return g->map.data ? &g->map : NULL; }
uint32_t mmx_gguf_version(const mmx_gguf *g) { return g->version; }
size_t mmx_gguf_alignment(const mmx_gguf *g) { return g->alignment; }
size_t mmx_gguf_n_kv(const mmx_gguf *g) { return g->n_kv; }
const char *mmx_gguf_key(const mmx_gguf *g, size_t i) {
    MMX_ASSERT(i < g->n_kv);
    return g->kv[i].key;
}
int64_t mmx_gguf_find_key(const mmx_gguf *g, const char *key) {
    const gguf_kv *kv = mmx_strmap_get(&g->kv_by_key, key);
    return kv ? (int64_t)(kv - g->kv) : -1;
}
mmx_gguf_type mmx_gguf_kv_type(const mmx_gguf *g, size_t i) {
    MMX_ASSERT(i < g->n_kv);
    return g->kv[i].type;
}

/* integer value of a scalar of type t at p (false if t is not an integer type or it exceeds int64) */
static bool num_int(mmx_gguf_type t, const uint8_t *p, int64_t *out) {
    uint64_t u;
    switch (t) {
    case MMX_GGUF_U8: case MMX_GGUF_BOOL: *out = p[0]; return true;
    case MMX_GGUF_I8: *out = (int8_t)p[0]; return true;
    case MMX_GGUF_U16: *out = (uint16_t)rd_le(p, 2); return true;
    case MMX_GGUF_I16: *out = (int16_t)rd_le(p, 2); return true;
    case MMX_GGUF_U32: *out = (uint32_t)rd_le(p, 4); return true;
    case MMX_GGUF_I32: *out = (int32_t)rd_le(p, 4); return true;
    case MMX_GGUF_U64:
        u = rd_le(p, 8);
        if (u > INT64_MAX) return false;
        *out = (int64_t)u;
        return true;
    case MMX_GGUF_I64: *out = (int64_t)rd_le(p, 8); return true;
    default: return false;
    }
}

static bool num_float(mmx_gguf_type t, const uint8_t *p, double *out) {
    if (t == MMX_GGUF_F32) {
        uint32_t u = (uint32_t)rd_le(p, 4);
        float f;
        memcpy(&f, &u, 4);
        *out = f;
        return true;
    }
    if (t == MMX_GGUF_F64) {
        uint64_t u = rd_le(p, 8);
        memcpy(out, &u, 8);
        return true;
    }
    if (t == MMX_GGUF_U64) {
        *out = (double)rd_le(p, 8);
        return true;
    }
    int64_t i;
    if (t == MMX_GGUF_BOOL || !num_int(t, p, &i)) return false;
    *out = (double)i;
    return true;
}

static const gguf_kv *find(const mmx_gguf *g, const char *key) { return mmx_strmap_get(&g->kv_by_key, key); }

bool mmx_gguf_get_int(const mmx_gguf *g, const char *key, int64_t *out) {
    const gguf_kv *kv = find(g, key);
    return kv && kv->type != MMX_GGUF_BOOL && num_int(kv->type, kv->val, out);
}
bool mmx_gguf_get_float(const mmx_gguf *g, const char *key, double *out) {
    const gguf_kv *kv = find(g, key);
    return kv && num_float(kv->type, kv->val, out);
}
bool mmx_gguf_get_bool(const mmx_gguf *g, const char *key, bool *out) {
    const gguf_kv *kv = find(g, key);
    int64_t v;
    if (kv && kv->type == MMX_GGUF_U64) { /* any nonzero u64, even one above INT64_MAX */
        *out = rd_le(kv->val, 8) != 0;
        return true;
    }
    if (!kv || !num_int(kv->type, kv->val, &v)) return false;
    *out = v != 0;
    return true;
}
bool mmx_gguf_get_str(const mmx_gguf *g, const char *key, const char **ptr, size_t *len) {
    const gguf_kv *kv = find(g, key);
    if (!kv || kv->type != MMX_GGUF_STRING) return false;
    *ptr = (const char *)kv->val;
    *len = (size_t)kv->str_len;
    return true;
}
bool mmx_gguf_get_arr(const mmx_gguf *g, const char *key, mmx_gguf_type *elem_type, size_t *count) {
    const gguf_kv *kv = find(g, key);
    if (!kv || kv->type != MMX_GGUF_ARRAY) return false;
    *elem_type = kv->arr_type;
    *count = (size_t)kv->arr_n;
    return true;
}
static const gguf_kv *numeric_array(const mmx_gguf *g, const char *key, size_t i) {
    const gguf_kv *kv = find(g, key);
    return kv && kv->type == MMX_GGUF_ARRAY && kv->arr_type != MMX_GGUF_STRING && i < kv->arr_n ? kv : NULL;
}
bool mmx_gguf_arr_int(const mmx_gguf *g, const char *key, size_t i, int64_t *out) {
    const gguf_kv *kv = numeric_array(g, key, i);
    return kv && num_int(kv->arr_type, kv->arr_data + i * scalar_size(kv->arr_type), out);
}
bool mmx_gguf_arr_float(const mmx_gguf *g, const char *key, size_t i, double *out) {
    const gguf_kv *kv = numeric_array(g, key, i);
    return kv && num_float(kv->arr_type, kv->arr_data + i * scalar_size(kv->arr_type), out);
}
bool mmx_gguf_arr_str(const mmx_gguf *g, const char *key, size_t i, const char **ptr, size_t *len) {
    const gguf_kv *kv = find(g, key);
    if (!kv || kv->type != MMX_GGUF_ARRAY || kv->arr_type != MMX_GGUF_STRING || i >= kv->arr_n) return false;
    const uint8_t *s = g->base + kv->arr_str[i];
    *len = (size_t)rd_u64le(s);
    *ptr = (const char *)s + 8;
    return true;
}

size_t mmx_gguf_n_tensors(const mmx_gguf *g) { return g->n_tensors; }
const mmx_tensor *mmx_gguf_tensor(const mmx_gguf *g, size_t i) {
    MMX_ASSERT(i < g->n_tensors);
    return &g->tensors[i];
}
const mmx_tensor *mmx_gguf_find_tensor(const mmx_gguf *g, const char *name) {
    return mmx_strmap_get(&g->tensor_by_name, name);
}

/* ---- writer ------------------------------------------------------------------------------------- */

typedef struct {
    char *name;
    mmx_type type;
    int n_dims;
    uint64_t shape[MMX_MAX_DIMS]; /* PyTorch order */
    uint64_t n_bytes, offset;
} writer_tensor;

struct mmx_gguf_writer {
    char *path, *tmp_path;
    FILE *f;
    uint8_t *buf;       /* serialised key/value pairs, then the tensor infos */
    size_t buf_len, buf_cap;
    uint64_t n_kv;
    char **keys;        /* copies of the keys, for the duplicate check */
    size_t cap_keys;
    mmx_strmap key_set, name_set;
    size_t alignment;
    writer_tensor *tensors;
    size_t n_tensors, cap_tensors;
    size_t current;     /* tensor being written */
    uint64_t written;   /* bytes of it so far */
    bool data_started, failed;
    mmx_error err;
};

/* Marks the writer failed with the message; every later call returns the same status. */
static mmx_status wfail(mmx_gguf_writer *w, mmx_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static mmx_status wfail(mmx_gguf_writer *w, mmx_status st, const char *fmt, ...) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    w->failed = true;
    return mmx_fail(&w->err, st, "%s: %s", w->path, msg);
}

static bool wbuf(mmx_gguf_writer *w, const void *p, size_t n) {
    if (n > w->buf_cap - w->buf_len) {
        size_t cap = w->buf_cap ? w->buf_cap : 4096, need;
        if (!mmx_add_ok(w->buf_len, n, &need)) {
            wfail(w, MMX_ERR_NOMEM, "metadata too large");
            return false;
        }
        while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        uint8_t *nb = realloc(w->buf, cap);
        if (!nb) {
            wfail(w, MMX_ERR_NOMEM, "out of memory for the metadata");
            return false;
        }
        w->buf = nb;
        w->buf_cap = cap;
    }
    if (n) memcpy(w->buf + w->buf_len, p, n);
    w->buf_len += n;
    return true;
}
static void put_le(uint8_t *b, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(v >> (8 * i));
}
static bool wu32(mmx_gguf_writer *w, uint32_t v) {
    uint8_t b[4];
    put_le(b, v, 4);
    return wbuf(w, b, 4);
}
static bool wu64(mmx_gguf_writer *w, uint64_t v) {
    uint8_t b[8];
    put_le(b, v, 8);
    return wbuf(w, b, 8);
}
static bool wstr(mmx_gguf_writer *w, const char *s, size_t n) { return wu64(w, n) && wbuf(w, s, n); }
static bool wscalar(mmx_gguf_writer *w, mmx_gguf_type t, int64_t iv, double fv) {
    uint8_t b[8];
    size_t n = scalar_size(t);
    if (t == MMX_GGUF_F32) {
        float f = (float)fv;
        uint32_t u;
        memcpy(&u, &f, 4);
        put_le(b, u, 4);
    } else if (t == MMX_GGUF_F64) {
        uint64_t u;
        memcpy(&u, &fv, 8);
        put_le(b, u, 8);
    } else {
        put_le(b, (uint64_t)iv, n);
    }
    return wbuf(w, b, n);
}

mmx_status mmx_gguf_writer_open(const char *path, mmx_gguf_writer **out, mmx_error *err) {
    *out = NULL;
    mmx_gguf_writer *w = calloc(1, sizeof *w);
    if (!w) return mmx_fail(err, MMX_ERR_NOMEM, "%s: out of memory", path);
    size_t n = strlen(path) + 5;
    w->path = strdup(path);
    w->tmp_path = malloc(n);
    w->alignment = DEFAULT_ALIGNMENT;
    if (!w->path || !w->tmp_path || !mmx_strmap_init(&w->key_set, 64) || !mmx_strmap_init(&w->name_set, 64)) {
        mmx_gguf_writer_free(w);
        return mmx_fail(err, MMX_ERR_NOMEM, "%s: out of memory", path);
    }
    snprintf(w->tmp_path, n, "%s.tmp", path);
    w->f = fopen(w->tmp_path, "wb");
    if (!w->f) {
        mmx_status st = mmx_fail(err, MMX_ERR_IO, "%s: cannot create: %s", w->tmp_path, strerror(errno));
        free(w->tmp_path);
        w->tmp_path = NULL; /* nothing to remove */
        mmx_gguf_writer_free(w);
        return st;
    }
    *out = w;
    return MMX_OK;
}

/* Starts a key/value pair: checks the writer state and the key, records it, writes key and type. */
static mmx_status kv_head(mmx_gguf_writer *w, const char *key, mmx_gguf_type t) {
    if (w->failed) return w->err.status;
    if (w->data_started) return wfail(w, MMX_ERR_INVALID_ARG, "key '%s' set after the tensor data began", key);
    size_t kn = strlen(key);
    if (kn == 0 || kn > MAX_KEY_LEN) return wfail(w, MMX_ERR_INVALID_ARG, "key of %zu bytes (1..%u allowed)", kn, MAX_KEY_LEN);
    if (!strcmp(key, "general.alignment") && t != MMX_GGUF_U32)
        return wfail(w, MMX_ERR_INVALID_ARG, "key 'general.alignment' must be a u32, not %s", value_type_name(t));
    if (w->n_kv == w->cap_keys) {
        size_t cap = w->cap_keys ? 2 * w->cap_keys : 64;
        char **nk = realloc(w->keys, cap * sizeof *nk);
        if (!nk) return wfail(w, MMX_ERR_NOMEM, "out of memory");
        w->keys = nk;
        w->cap_keys = cap;
    }
    char *copy = strdup(key);
    if (!copy) return wfail(w, MMX_ERR_NOMEM, "out of memory");
    bool existed;
    if (!mmx_strmap_put(&w->key_set, copy, NULL, &existed)) {
        free(copy);
        return wfail(w, MMX_ERR_NOMEM, "out of memory");
    }
    if (existed) {
        free(copy);
        return wfail(w, MMX_ERR_INVALID_ARG, "key '%s' set twice", key);
    }
    w->keys[w->n_kv++] = copy;
    if (!wstr(w, key, kn) || !wu32(w, (uint32_t)t)) return w->err.status;
    return MMX_OK;
}

static mmx_status set_alignment(mmx_gguf_writer *w, uint64_t a) {
    if (a == 0 || (a & (a - 1)) || a > MAX_ALIGNMENT)
        return wfail(w, MMX_ERR_INVALID_ARG, "general.alignment %llu is not a power of two in 1..%u", (unsigned long long)a,
                     MAX_ALIGNMENT);
    w->alignment = (size_t)a;
    return MMX_OK;
}

mmx_status mmx_gguf_writer_set_int(mmx_gguf_writer *w, const char *key, mmx_gguf_type type, int64_t v) {
    MMX_ASSERT(scalar_size(type) && type != MMX_GGUF_F32 && type != MMX_GGUF_F64);
    mmx_status st = kv_head(w, key, type);
    if (st == MMX_OK && !strcmp(key, "general.alignment")) st = set_alignment(w, (uint64_t)v);
    return st != MMX_OK ? st : wscalar(w, type, v, 0) ? MMX_OK : w->err.status;
}
mmx_status mmx_gguf_writer_set_float(mmx_gguf_writer *w, const char *key, mmx_gguf_type type, double v) {
    MMX_ASSERT(type == MMX_GGUF_F32 || type == MMX_GGUF_F64);
    mmx_status st = kv_head(w, key, type);
    return st != MMX_OK ? st : wscalar(w, type, 0, v) ? MMX_OK : w->err.status;
}
mmx_status mmx_gguf_writer_set_bool(mmx_gguf_writer *w, const char *key, bool v) {
    mmx_status st = kv_head(w, key, MMX_GGUF_BOOL);
    return st != MMX_OK ? st : wscalar(w, MMX_GGUF_BOOL, v, 0) ? MMX_OK : w->err.status;
}
mmx_status mmx_gguf_writer_set_str(mmx_gguf_writer *w, const char *key, const char *s, size_t len) {
    mmx_status st = kv_head(w, key, MMX_GGUF_STRING);
    return st != MMX_OK ? st : wstr(w, s, len) ? MMX_OK : w->err.status;
}
mmx_status mmx_gguf_writer_set_arr_int(mmx_gguf_writer *w, const char *key, mmx_gguf_type et, const int64_t *v,
                                       size_t n) {
    MMX_ASSERT(scalar_size(et) && et != MMX_GGUF_F32 && et != MMX_GGUF_F64);
    mmx_status st = kv_head(w, key, MMX_GGUF_ARRAY);
    if (st != MMX_OK || !wu32(w, (uint32_t)et) || !wu64(w, n)) return w->err.status;
    for (size_t i = 0; i < n; i++)
        if (!wscalar(w, et, v[i], 0)) return w->err.status;
    return MMX_OK;
}
mmx_status mmx_gguf_writer_set_arr_float(mmx_gguf_writer *w, const char *key, mmx_gguf_type et, const double *v,
                                         size_t n) {
    MMX_ASSERT(et == MMX_GGUF_F32 || et == MMX_GGUF_F64);
    mmx_status st = kv_head(w, key, MMX_GGUF_ARRAY);
    if (st != MMX_OK || !wu32(w, (uint32_t)et) || !wu64(w, n)) return w->err.status;
    for (size_t i = 0; i < n; i++)
        if (!wscalar(w, et, 0, v[i])) return w->err.status;
    return MMX_OK;
}
mmx_status mmx_gguf_writer_set_arr_str(mmx_gguf_writer *w, const char *key, const char *const *s, const size_t *lens,
                                       size_t n) {
    mmx_status st = kv_head(w, key, MMX_GGUF_ARRAY);
    if (st != MMX_OK || !wu32(w, MMX_GGUF_STRING) || !wu64(w, n)) return w->err.status;
    for (size_t i = 0; i < n; i++)
        if (!wstr(w, s[i], lens ? lens[i] : strlen(s[i]))) return w->err.status;
    return MMX_OK;
}

mmx_status mmx_gguf_writer_copy_kv(mmx_gguf_writer *w, const mmx_gguf *src, size_t i) {
    MMX_ASSERT(i < src->n_kv);
    const gguf_kv *kv = &src->kv[i];
    mmx_status st = kv_head(w, kv->key, kv->type);
    if (st != MMX_OK) return st;
    if (kv->type == MMX_GGUF_STRING) return wstr(w, (const char *)kv->val, (size_t)kv->str_len) ? MMX_OK : w->err.status;
    if (kv->type == MMX_GGUF_ARRAY) {
        if (!wu32(w, (uint32_t)kv->arr_type) || !wu64(w, kv->arr_n)) return w->err.status;
        if (kv->arr_type == MMX_GGUF_STRING) {
            /* the strings lie back to back in the source: copy the whole run at once */
            size_t begin = kv->arr_n ? kv->arr_str[0] : 0, end = begin;
            if (kv->arr_n) {
                size_t last = kv->arr_str[kv->arr_n - 1];
                end = last + 8 + (size_t)rd_u64le(src->base + last);
            }
            return wbuf(w, src->base + begin, end - begin) ? MMX_OK : w->err.status;
        }
        return wbuf(w, kv->arr_data, (size_t)kv->arr_n * scalar_size(kv->arr_type)) ? MMX_OK : w->err.status;
    }
    if (!strcmp(kv->key, "general.alignment") && (st = set_alignment(w, rd_le(kv->val, 4))) != MMX_OK) return st;
    return wbuf(w, kv->val, scalar_size(kv->type)) ? MMX_OK : w->err.status;
}

mmx_status mmx_gguf_writer_add_tensor(mmx_gguf_writer *w, const char *name, mmx_type type, int n_dims,
                                      const uint64_t *shape) {
    if (w->failed) return w->err.status;
    MMX_ASSERT((unsigned)type < MMX_TYPE_COUNT);
    if (w->data_started) return wfail(w, MMX_ERR_INVALID_ARG, "tensor '%s' added after the tensor data began", name);
    size_t nl = strlen(name);
    if (nl == 0 || nl > WRITER_MAX_NAME)
        return wfail(w, MMX_ERR_INVALID_ARG, "tensor name '%s' has %zu bytes (1..%u allowed by ggml)", name, nl,
                     WRITER_MAX_NAME);
    if (n_dims < 1 || n_dims > MMX_MAX_DIMS)
        return wfail(w, MMX_ERR_INVALID_ARG, "tensor '%s': %d dimensions (1..%d allowed)", name, n_dims, MMX_MAX_DIMS);
    uint64_t n = 1;
    for (int i = 0; i < n_dims; i++)
        if (shape[i] == 0 || __builtin_mul_overflow(n, shape[i], &n) || n > (uint64_t)INT64_MAX)
            return wfail(w, MMX_ERR_INVALID_ARG, "tensor '%s': dimension %d = %llu is zero or overflows the element count",
                         name, i, (unsigned long long)shape[i]);
    uint64_t cols = shape[n_dims - 1], n_bytes;
    size_t row = cols <= SIZE_MAX ? mmx_type_row_bytes(type, (size_t)cols) : 0;
    if (row == 0)
        return wfail(w, MMX_ERR_INVALID_ARG, "tensor '%s': rows of %llu elements are not a whole number of %s blocks", name,
                     (unsigned long long)cols, mmx_type_name(type));
    if (__builtin_mul_overflow((uint64_t)row, n / cols, &n_bytes) || n_bytes > SIZE_MAX / 2)
        return wfail(w, MMX_ERR_INVALID_ARG, "tensor '%s': the data size overflows", name);
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? 2 * w->cap_tensors : 64;
        writer_tensor *nt = realloc(w->tensors, cap * sizeof *nt);
        if (!nt) return wfail(w, MMX_ERR_NOMEM, "out of memory");
        w->tensors = nt;
        w->cap_tensors = cap;
    }
    writer_tensor *t = &w->tensors[w->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (!t->name) return wfail(w, MMX_ERR_NOMEM, "out of memory");
    bool existed;
    if (!mmx_strmap_put(&w->name_set, t->name, NULL, &existed) || existed) {
        free(t->name);
        return existed ? wfail(w, MMX_ERR_INVALID_ARG, "tensor '%s' added twice", name)
                       : wfail(w, MMX_ERR_NOMEM, "out of memory");
    }
    w->n_tensors++;
    t->type = type;
    t->n_dims = n_dims;
    memcpy(t->shape, shape, (size_t)n_dims * sizeof *shape);
    t->n_bytes = n_bytes;
    return MMX_OK;
}

static bool fwrite_all(mmx_gguf_writer *w, const void *p, size_t n) {
    if (n && fwrite(p, 1, n, w->f) != n) {
        wfail(w, MMX_ERR_IO, "write to %s failed: %s", w->tmp_path, strerror(errno));
        return false;
    }
    return true;
}

/* zero bytes up to the next multiple of the alignment after `pos` bytes */
static bool pad_after(mmx_gguf_writer *w, uint64_t pos) {
    static const uint8_t zeros[4096];
    uint64_t pad = (w->alignment - pos % w->alignment) % w->alignment;
    while (pad > 0) {
        size_t k = pad < sizeof zeros ? (size_t)pad : sizeof zeros;
        if (!fwrite_all(w, zeros, k)) return false;
        pad -= k;
    }
    return true;
}

mmx_status mmx_gguf_writer_begin_data(mmx_gguf_writer *w) {
    if (w->failed) return w->err.status;
    if (w->data_started) return wfail(w, MMX_ERR_INVALID_ARG, "begin_data called twice");
    /* tensor infos follow the key/value pairs in the same buffer; offsets are consecutive */
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        writer_tensor *t = &w->tensors[i];
        t->offset = off;
        uint64_t padded = t->n_bytes + (w->alignment - t->n_bytes % w->alignment) % w->alignment;
        if (__builtin_add_overflow(off, padded, &off))
            return wfail(w, MMX_ERR_INVALID_ARG, "tensor '%s': the data section overflows", t->name);
        if (!wstr(w, t->name, strlen(t->name)) || !wu32(w, (uint32_t)t->n_dims)) return w->err.status;
        for (int d = t->n_dims - 1; d >= 0; d--)
            if (!wu64(w, t->shape[d])) return w->err.status; /* ggml ne: fastest first */
        if (!wu32(w, mmx_type_to_ggml(t->type)) || !wu64(w, t->offset)) return w->err.status;
    }
    uint8_t head[24];
    memcpy(head, "GGUF", 4);
    put_le(head + 4, 3, 4);
    put_le(head + 8, w->n_tensors, 8);
    put_le(head + 16, w->n_kv, 8);
    if (!fwrite_all(w, head, sizeof head) || !fwrite_all(w, w->buf, w->buf_len) ||
        !pad_after(w, sizeof head + (uint64_t)w->buf_len))
        return w->err.status;
    free(w->buf); /* not needed any more */
    w->buf = NULL;
    w->buf_len = w->buf_cap = 0;
    w->data_started = true;
    w->current = 0;
    w->written = 0;
    return MMX_OK;
}

mmx_status mmx_gguf_writer_write(mmx_gguf_writer *w, const void *data, size_t n) {
    if (w->failed) return w->err.status;
    if (!w->data_started) return wfail(w, MMX_ERR_INVALID_ARG, "tensor data written before begin_data");
    const uint8_t *p = data;
    while (n > 0) {
        if (w->current >= w->n_tensors)
            return wfail(w, MMX_ERR_INVALID_ARG, "%zu bytes more than the %zu declared tensors hold", n, w->n_tensors);
        writer_tensor *t = &w->tensors[w->current];
        uint64_t room = t->n_bytes - w->written;
        size_t k = n < room ? n : (size_t)room;
        if (!fwrite_all(w, p, k)) return w->err.status;
        w->written += k;
        p += k;
        n -= k;
        if (w->written == t->n_bytes) {
            if (!pad_after(w, t->n_bytes)) return w->err.status;
            w->current++;
            w->written = 0;
        }
    }
    return MMX_OK;
}

/* fsync the directory holding `path`, so the rename itself is durable (best effort) */
static void sync_dir(const char *path) {
    char *copy = strdup(path);
    if (!copy) return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(copy);
}

mmx_status mmx_gguf_writer_close(mmx_gguf_writer *w, mmx_error *err) {
    if (!w->failed && !w->data_started) mmx_gguf_writer_begin_data(w);
    if (!w->failed && w->current != w->n_tensors)
        wfail(w, MMX_ERR_INVALID_ARG, "tensor '%s' got %llu of its %llu bytes of data", w->tensors[w->current].name,
              (unsigned long long)w->written, (unsigned long long)w->tensors[w->current].n_bytes);
    if (!w->failed && (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0))
        wfail(w, MMX_ERR_IO, "flushing %s failed: %s", w->tmp_path, strerror(errno));
    if (!w->failed) {
        int rc = fclose(w->f);
        w->f = NULL;
        if (rc != 0) {
            wfail(w, MMX_ERR_IO, "closing %s failed: %s", w->tmp_path, strerror(errno));
        } else if (rename(w->tmp_path, w->path) != 0) {
            wfail(w, MMX_ERR_IO, "cannot rename %s to %s: %s", w->tmp_path, w->path, strerror(errno));
        } else {
            free(w->tmp_path);
            w->tmp_path = NULL; /* nothing left to remove */
            sync_dir(w->path);
        }
    }
    if (w->failed) {
        if (err) *err = w->err;
        return w->err.status;
    }
    return MMX_OK;
}

void mmx_gguf_writer_free(mmx_gguf_writer *w) {
    if (!w) return;
    if (w->f) fclose(w->f);
    if (w->tmp_path) remove(w->tmp_path);
    for (size_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
    for (size_t i = 0; i < w->n_kv; i++) free(w->keys[i]);
    free(w->keys);
    mmx_strmap_free(&w->key_set);
    mmx_strmap_free(&w->name_set);
    free(w->tensors);
    free(w->buf);
    free(w->path);
    free(w->tmp_path);
    free(w);
}

const mmx_error *mmx_gguf_writer_error(const mmx_gguf_writer *w) { return &w->err; }
