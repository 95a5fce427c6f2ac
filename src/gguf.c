/*
 * gguf.c — GGUF reader (pure parser over a buffer) and streaming writer; layout in gguf.h.
 * The parser validates every count against the bytes that remain before allocating, so absurd
 * counts fail fast with MMX_ERR_FORMAT instead of exhausting memory.
 */
#include "gguf.h"
#include "mapfile.h"
#include "strmap.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_KEY_LEN 65536
#define MAX_NAME_LEN 4096

/* ---- ggml type table: block elements and bytes, for validating any tensor ------------------- */
static const struct {
    uint32_t id;
    const char *name;
    uint32_t blck, size;
} ggml_types[] = {
    {0, "f32", 1, 4},       {1, "f16", 1, 2},         {2, "q4_0", 32, 18},     {3, "q4_1", 32, 20},
    {6, "q5_0", 32, 22},    {7, "q5_1", 32, 24},      {8, "q8_0", 32, 34},     {9, "q8_1", 32, 36},
    {10, "q2_K", 256, 84},  {11, "q3_K", 256, 110},   {12, "q4_K", 256, 144},  {13, "q5_K", 256, 176},
    {14, "q6_K", 256, 210}, {15, "q8_K", 256, 292},   {16, "iq2_xxs", 256, 66}, {17, "iq2_xs", 256, 74},
    {18, "iq3_xxs", 256, 98}, {19, "iq1_s", 256, 50}, {20, "iq4_nl", 32, 18},  {21, "iq3_s", 256, 110},
    {22, "iq2_s", 256, 82}, {23, "iq4_xs", 256, 136}, {24, "i8", 1, 1},        {25, "i16", 1, 2},
    {26, "i32", 1, 4},      {27, "i64", 1, 8},        {28, "f64", 1, 8},       {29, "iq1_m", 256, 56},
    {30, "bf16", 1, 2},     {34, "tq1_0", 256, 54},   {35, "tq2_0", 256, 66},  {39, "mxfp4", 32, 17},
};

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
    static const uint32_t ids[MMX_TYPE_COUNT] = {MMX_GGML_F32,  MMX_GGML_F16,  MMX_GGML_BF16, MMX_GGML_Q8_0,
                                                 MMX_GGML_Q4_0, MMX_GGML_Q4_K, MMX_GGML_Q5_K, MMX_GGML_Q6_K};
    MMX_ASSERT((unsigned)t < MMX_TYPE_COUNT);
    return ids[t];
}

static size_t scalar_size(uint32_t t) {
    switch (t) {
    case MMX_GGUF_U8: case MMX_GGUF_I8: case MMX_GGUF_BOOL: return 1;
    case MMX_GGUF_U16: case MMX_GGUF_I16: return 2;
    case MMX_GGUF_U32: case MMX_GGUF_I32: case MMX_GGUF_F32: return 4;
    case MMX_GGUF_U64: case MMX_GGUF_I64: case MMX_GGUF_F64: return 8;
    default: return 0;
    }
}

/* ---- parsed representation ------------------------------------------------------------------ */
typedef struct {
    char *key;
    mmx_gguf_type type;
    const uint8_t *val;      /* scalar value, or string (after its length) */
    uint64_t str_len;
    mmx_gguf_type arr_type;  /* arrays */
    uint64_t arr_n;
    const uint8_t *arr_data;
    const uint8_t **arr_str; /* string arrays: start of each string's bytes */
    uint64_t *arr_str_len;
} gguf_kv;

struct mmx_gguf {
    uint32_t version;
    size_t alignment;
    gguf_kv *kv;
    size_t n_kv;
    mmx_strmap kv_by_key;
    mmx_tensor *tensors;
    char **tensor_names;
    size_t n_tensors;
    mmx_strmap tensor_by_name;
    mmx_mapfile map;
};

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    const char *name;
    mmx_error *err;
} cursor;

static bool need(cursor *c, size_t n, const char *what) {
    if (c->len - c->pos < n) {
        mmx_fail(c->err, MMX_ERR_FORMAT, "%s: truncated at byte %zu reading %s (file has %zu bytes)", c->name, c->pos,
                 what, c->len);
        return false;
    }
    return true;
}

static uint64_t rd_le(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = v << 8 | p[i];
    return v;
}

static bool rd_u32(cursor *c, uint32_t *v, const char *what) {
    if (!need(c, 4, what)) return false;
    *v = (uint32_t)rd_le(c->p + c->pos, 4);
    c->pos += 4;
    return true;
}

static bool rd_u64(cursor *c, uint64_t *v, const char *what) {
    if (!need(c, 8, what)) return false;
    *v = rd_le(c->p + c->pos, 8);
    c->pos += 8;
    return true;
}

/* string: u64 length + bytes; returns a pointer into the buffer */
static bool rd_str(cursor *c, const uint8_t **s, uint64_t *n, uint64_t max, const char *what) {
    if (!rd_u64(c, n, what)) return false;
    if (*n > max || *n > c->len - c->pos) {
        mmx_fail(c->err, MMX_ERR_FORMAT, "%s: %s at byte %zu has length %llu, beyond the file or the limit", c->name,
                 what, c->pos - 8, (unsigned long long)*n);
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
        free(g->kv[i].arr_str_len);
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

static mmx_status parse_kv(cursor *c, mmx_gguf *g) {
    gguf_kv *kv = &g->kv[g->n_kv];
    const uint8_t *ks;
    uint64_t kn;
    if (!rd_str(c, &ks, &kn, MAX_KEY_LEN, "a metadata key")) return c->err->status;
    if (memchr(ks, 0, (size_t)kn))
        return mmx_fail(c->err, MMX_ERR_FORMAT, "%s: metadata key at byte %zu contains a NUL byte", c->name, c->pos);
    kv->key = dup_n(ks, (size_t)kn);
    if (!kv->key) return mmx_fail(c->err, MMX_ERR_NOMEM, "out of memory");
    g->n_kv++;
    bool existed;
    if (!mmx_strmap_put(&g->kv_by_key, kv->key, kv, &existed)) return mmx_fail(c->err, MMX_ERR_NOMEM, "out of memory");
    if (existed) return mmx_fail(c->err, MMX_ERR_FORMAT, "%s: metadata key '%s' appears twice", c->name, kv->key);
    uint32_t type;
    if (!rd_u32(c, &type, "a value type")) return mmx_error_prefix(c->err, "key '%s'", kv->key);
    kv->type = (mmx_gguf_type)type;
    if (type == MMX_GGUF_STRING) {
        if (!rd_str(c, &kv->val, &kv->str_len, UINT64_MAX, "a string value"))
            return mmx_error_prefix(c->err, "key '%s'", kv->key);
        return MMX_OK;
    }
    if (type == MMX_GGUF_ARRAY) {
        uint32_t et;
        if (!rd_u32(c, &et, "an array type") || !rd_u64(c, &kv->arr_n, "an array length"))
            return mmx_error_prefix(c->err, "key '%s'", kv->key);
        kv->arr_type = (mmx_gguf_type)et;
        if (et == MMX_GGUF_STRING) {
            if (kv->arr_n > (c->len - c->pos) / 8)
                return mmx_fail(c->err, MMX_ERR_FORMAT, "%s: key '%s': string array of %llu entries cannot fit in the file",
                                c->name, kv->key, (unsigned long long)kv->arr_n);
            kv->arr_str = malloc((size_t)(kv->arr_n ? kv->arr_n : 1) * sizeof *kv->arr_str);
            kv->arr_str_len = malloc((size_t)(kv->arr_n ? kv->arr_n : 1) * sizeof *kv->arr_str_len);
            if (!kv->arr_str || !kv->arr_str_len) return mmx_fail(c->err, MMX_ERR_NOMEM, "out of memory");
            kv->arr_data = c->p + c->pos;
            for (uint64_t i = 0; i < kv->arr_n; i++)
                if (!rd_str(c, &kv->arr_str[i], &kv->arr_str_len[i], UINT64_MAX, "an array string"))
                    return mmx_error_prefix(c->err, "key '%s' element %llu", kv->key, (unsigned long long)i);
            return MMX_OK;
        }
        size_t es = scalar_size(et);
        if (es == 0)
            return mmx_fail(c->err, MMX_ERR_FORMAT, "%s: key '%s': unsupported array element type %u%s", c->name, kv->key,
                            et, et == MMX_GGUF_ARRAY ? " (nested arrays)" : "");
        if (kv->arr_n > (c->len - c->pos) / es)
            return mmx_fail(c->err, MMX_ERR_FORMAT, "%s: key '%s': array of %llu entries runs past the end of the file",
                            c->name, kv->key, (unsigned long long)kv->arr_n);
        kv->arr_data = c->p + c->pos;
        c->pos += (size_t)kv->arr_n * es;
        return MMX_OK;
    }
    size_t es = scalar_size(type);
    if (es == 0) return mmx_fail(c->err, MMX_ERR_FORMAT, "%s: key '%s': unknown value type %u", c->name, kv->key, type);
    if (!need(c, es, "a value")) return mmx_error_prefix(c->err, "key '%s'", kv->key);
    kv->val = c->p + c->pos;
    c->pos += es;
    return MMX_OK;
}

static mmx_status parse_tensor_info(cursor *c, mmx_gguf *g, uint64_t *offset_out, uint64_t *size_out) {
    mmx_tensor *t = &g->tensors[g->n_tensors];
    const uint8_t *ns;
    uint64_t nn;
    if (!rd_str(c, &ns, &nn, MAX_NAME_LEN, "a tensor name")) return c->err->status;
    char *name = dup_n(ns, (size_t)nn);
    if (!name) return mmx_fail(c->err, MMX_ERR_NOMEM, "out of memory");
    g->tensor_names[g->n_tensors] = name;
    t->name = name;
    g->n_tensors++;
    bool existed;
    if (!mmx_strmap_put(&g->tensor_by_name, name, t, &existed)) return mmx_fail(c->err, MMX_ERR_NOMEM, "out of memory");
    if (existed) return mmx_fail(c->err, MMX_ERR_FORMAT, "%s: tensor '%s' appears twice", c->name, name);
    uint32_t nd;
    if (!rd_u32(c, &nd, "n_dims")) return mmx_error_prefix(c->err, "tensor '%s'", name);
    if (nd < 1 || nd > MMX_MAX_DIMS)
        return mmx_fail(c->err, MMX_ERR_FORMAT, "%s: tensor '%s' has %u dimensions (1..%d allowed)", c->name, name, nd,
                        MMX_MAX_DIMS);
    uint64_t ne[MMX_MAX_DIMS], n_elems = 1;
    for (uint32_t i = 0; i < nd; i++) {
        if (!rd_u64(c, &ne[i], "a dimension")) return mmx_error_prefix(c->err, "tensor '%s'", name);
        if (ne[i] == 0 || ne[i] > ((uint64_t)1 << 62) || __builtin_mul_overflow(n_elems, ne[i], &n_elems) ||
            n_elems > ((uint64_t)1 << 62))
            return mmx_fail(c->err, MMX_ERR_FORMAT, "%s: tensor '%s': dimension %u = %llu is zero or overflows", c->name,
                            name, i, (unsigned long long)ne[i]);
    }
    uint32_t type;
    uint64_t offset;
    if (!rd_u32(c, &type, "a tensor type") || !rd_u64(c, &offset, "a tensor offset"))
        return mmx_error_prefix(c->err, "tensor '%s'", name);
    size_t ti = sizeof ggml_types / sizeof ggml_types[0];
    for (size_t i = 0; i < sizeof ggml_types / sizeof ggml_types[0]; i++)
        if (ggml_types[i].id == type) ti = i;
    if (ti == sizeof ggml_types / sizeof ggml_types[0])
        return mmx_fail(c->err, MMX_ERR_FORMAT, "%s: tensor '%s' has unknown ggml type %u", c->name, name, type);
    if (ne[0] % ggml_types[ti].blck)
        return mmx_fail(c->err, MMX_ERR_FORMAT, "%s: tensor '%s': row of %llu elements is not a multiple of the %s block (%u)",
                        c->name, name, (unsigned long long)ne[0], ggml_types[ti].name, ggml_types[ti].blck);
    uint64_t nbytes;
    if (__builtin_mul_overflow(n_elems / ggml_types[ti].blck, (uint64_t)ggml_types[ti].size, &nbytes))
        return mmx_fail(c->err, MMX_ERR_FORMAT, "%s: tensor '%s': size overflows", c->name, name);
    t->type = mmx_type_from_ggml(type);
    t->type_name = ggml_types[ti].name;
    t->n_dims = (int)nd;
    for (uint32_t i = 0; i < nd; i++) t->shape[i] = ne[nd - 1 - i]; /* PyTorch order */
    t->n_bytes = (size_t)nbytes;
    *offset_out = offset;
    *size_out = nbytes;
    return MMX_OK;
}

mmx_status mmx_gguf_parse(const void *buf, size_t len, const char *name, mmx_gguf **out, mmx_error *err) {
    mmx_error local;
    if (!err) err = &local;
    *out = NULL;
    cursor c = {buf, len, 0, name, err};
    if (len < 4 || memcmp(buf, "GGUF", 4) != 0)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: not a GGUF file (bad magic)", name);
    c.pos = 4;
    uint32_t version;
    uint64_t n_tensors, n_kv;
    if (!rd_u32(&c, &version, "the version")) return err->status;
    if (version != 2 && version != 3)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: GGUF version %u is not supported (2 or 3)", name, version);
    if (!rd_u64(&c, &n_tensors, "the tensor count") || !rd_u64(&c, &n_kv, "the metadata count")) return err->status;
    /* each kv takes at least 13 bytes (key length, type, 1-byte value), each tensor info 28 */
    if (n_kv > (len - c.pos) / 13)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: metadata count %llu cannot fit in %zu bytes", name,
                        (unsigned long long)n_kv, len);
    if (n_tensors > (len - c.pos) / 28)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor count %llu cannot fit in %zu bytes", name,
                        (unsigned long long)n_tensors, len);
    mmx_gguf *g = calloc(1, sizeof *g);
    mmx_status st = MMX_OK;
    uint64_t *offsets = NULL, *sizes = NULL;
    if (!g || !(g->kv = calloc((size_t)n_kv + 1, sizeof *g->kv)) ||
        !(g->tensors = calloc((size_t)n_tensors + 1, sizeof *g->tensors)) ||
        !(g->tensor_names = calloc((size_t)n_tensors + 1, sizeof *g->tensor_names)) ||
        !(offsets = calloc((size_t)n_tensors + 1, sizeof *offsets)) || !(sizes = calloc((size_t)n_tensors + 1, sizeof *sizes)) ||
        !mmx_strmap_init(&g->kv_by_key, (size_t)n_kv) || !mmx_strmap_init(&g->tensor_by_name, (size_t)n_tensors)) {
        st = mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
        goto done;
    }
    g->version = version;
    for (uint64_t i = 0; i < n_kv && st == MMX_OK; i++) st = parse_kv(&c, g);
    if (st != MMX_OK) goto done;
    g->alignment = 32;
    gguf_kv *al = mmx_strmap_get(&g->kv_by_key, "general.alignment");
    if (al) {
        uint64_t a = al->type == MMX_GGUF_U32 ? rd_le(al->val, 4) : 0;
        if (a == 0 || (a & (a - 1)) || a > 65536) {
            st = mmx_fail(err, MMX_ERR_FORMAT, "%s: general.alignment must be a u32 power of two <= 65536", name);
            goto done;
        }
        g->alignment = (size_t)a;
    }
    for (uint64_t i = 0; i < n_tensors && st == MMX_OK; i++) st = parse_tensor_info(&c, g, &offsets[i], &sizes[i]);
    if (st != MMX_OK) goto done;
    size_t data_start = (c.pos + g->alignment - 1) / g->alignment * g->alignment;
    if (n_tensors && data_start > len) {
        st = mmx_fail(err, MMX_ERR_FORMAT, "%s: truncated: no tensor data after the header", name);
        goto done;
    }
    for (size_t i = 0; i < g->n_tensors; i++) {
        mmx_tensor *t = &g->tensors[i];
        if (offsets[i] % g->alignment) {
            st = mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': offset %llu is not a multiple of the alignment %zu", name,
                          t->name, (unsigned long long)offsets[i], g->alignment);
            goto done;
        }
        if (offsets[i] > len - data_start || sizes[i] > len - data_start - offsets[i]) {
            st = mmx_fail(err, MMX_ERR_FORMAT,
                          "%s: tensor '%s': data [%llu, +%llu) lies beyond the end of the file (%zu bytes): truncated?",
                          name, t->name, (unsigned long long)(data_start + offsets[i]), (unsigned long long)sizes[i], len);
            goto done;
        }
        t->data = (const uint8_t *)buf + data_start + offsets[i];
    }
done:
    free(offsets);
    free(sizes);
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

uint32_t mmx_gguf_version(const mmx_gguf *g) { return g->version; }
size_t mmx_gguf_alignment(const mmx_gguf *g) { return g->alignment; }
size_t mmx_gguf_n_kv(const mmx_gguf *g) { return g->n_kv; }
const char *mmx_gguf_key(const mmx_gguf *g, size_t i) {
    MMX_ASSERT(i < g->n_kv);
    return g->kv[i].key;
}
int64_t mmx_gguf_find_key(const mmx_gguf *g, const char *key) {
    gguf_kv *kv = mmx_strmap_get(&g->kv_by_key, key);
    return kv ? (int64_t)(kv - g->kv) : -1;
}
mmx_gguf_type mmx_gguf_kv_type(const mmx_gguf *g, size_t i) {
    MMX_ASSERT(i < g->n_kv);
    return g->kv[i].type;
}

/* numeric value of a scalar at p of type t, as int64 (ok=false if not an integer or out of range) */
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
    int64_t i;
    if (t == MMX_GGUF_BOOL || !num_int(t, p, &i)) return false;
    *out = (double)i;
    return true;
}

bool mmx_gguf_get_int(const mmx_gguf *g, const char *key, int64_t *out) {
    gguf_kv *kv = mmx_strmap_get(&g->kv_by_key, key);
    return kv && kv->type != MMX_GGUF_BOOL && num_int(kv->type, kv->val, out);
}
bool mmx_gguf_get_float(const mmx_gguf *g, const char *key, double *out) {
    gguf_kv *kv = mmx_strmap_get(&g->kv_by_key, key);
    return kv && kv->type != MMX_GGUF_STRING && kv->type != MMX_GGUF_ARRAY && num_float(kv->type, kv->val, out);
}
bool mmx_gguf_get_bool(const mmx_gguf *g, const char *key, bool *out) {
    gguf_kv *kv = mmx_strmap_get(&g->kv_by_key, key);
    int64_t v;
    if (!kv || !num_int(kv->type, kv->val, &v)) return false;
    *out = v != 0;
    return true;
}
bool mmx_gguf_get_str(const mmx_gguf *g, const char *key, const char **ptr, size_t *len) {
    gguf_kv *kv = mmx_strmap_get(&g->kv_by_key, key);
    if (!kv || kv->type != MMX_GGUF_STRING) return false;
    *ptr = (const char *)kv->val;
    *len = (size_t)kv->str_len;
    return true;
}
bool mmx_gguf_get_arr(const mmx_gguf *g, const char *key, mmx_gguf_type *elem_type, size_t *count) {
    gguf_kv *kv = mmx_strmap_get(&g->kv_by_key, key);
    if (!kv || kv->type != MMX_GGUF_ARRAY) return false;
    *elem_type = kv->arr_type;
    *count = (size_t)kv->arr_n;
    return true;
}
bool mmx_gguf_arr_int(const mmx_gguf *g, const char *key, size_t i, int64_t *out) {
    gguf_kv *kv = mmx_strmap_get(&g->kv_by_key, key);
    if (!kv || kv->type != MMX_GGUF_ARRAY || i >= kv->arr_n || kv->arr_type == MMX_GGUF_STRING) return false;
    return num_int(kv->arr_type, kv->arr_data + i * scalar_size(kv->arr_type), out);
}
bool mmx_gguf_arr_float(const mmx_gguf *g, const char *key, size_t i, double *out) {
    gguf_kv *kv = mmx_strmap_get(&g->kv_by_key, key);
    if (!kv || kv->type != MMX_GGUF_ARRAY || i >= kv->arr_n || kv->arr_type == MMX_GGUF_STRING) return false;
    return num_float(kv->arr_type, kv->arr_data + i * scalar_size(kv->arr_type), out);
}
bool mmx_gguf_arr_str(const mmx_gguf *g, const char *key, size_t i, const char **ptr, size_t *len) {
    gguf_kv *kv = mmx_strmap_get(&g->kv_by_key, key);
    if (!kv || kv->type != MMX_GGUF_ARRAY || kv->arr_type != MMX_GGUF_STRING || i >= kv->arr_n) return false;
    *ptr = (const char *)kv->arr_str[i];
    *len = (size_t)kv->arr_str_len[i];
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
    uint64_t shape[MMX_MAX_DIMS];
    uint64_t n_bytes, offset;
} writer_tensor;

struct mmx_gguf_writer {
    char *path, *tmp_path;
    FILE *f;
    uint8_t *kv;        /* serialised key/value pairs */
    size_t kv_len, kv_cap;
    uint64_t n_kv;
    writer_tensor *tensors;
    size_t n_tensors, cap_tensors;
    size_t current;     /* tensor being written */
    uint64_t written;   /* bytes of it so far */
    bool data_started, failed;
    mmx_error err;
};

static bool wbuf(mmx_gguf_writer *w, const void *p, size_t n) {
    if (w->kv_len + n > w->kv_cap) {
        size_t cap = w->kv_cap ? w->kv_cap : 4096;
        while (cap < w->kv_len + n) cap *= 2;
        uint8_t *nb = realloc(w->kv, cap);
        if (!nb) {
            w->failed = true;
            mmx_fail(&w->err, MMX_ERR_NOMEM, "out of memory");
            return false;
        }
        w->kv = nb;
        w->kv_cap = cap;
    }
    memcpy(w->kv + w->kv_len, p, n);
    w->kv_len += n;
    return true;
}
static bool wu32(mmx_gguf_writer *w, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return wbuf(w, b, 4);
}
static bool wu64(mmx_gguf_writer *w, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    return wbuf(w, b, 8);
}
static bool wstr(mmx_gguf_writer *w, const char *s, size_t n) { return wu64(w, n) && wbuf(w, s, n); }
static bool wscalar(mmx_gguf_writer *w, mmx_gguf_type t, int64_t iv, double fv) {
    uint8_t b[8];
    size_t n = scalar_size(t);
    if (t == MMX_GGUF_F32) {
        float f = (float)fv;
        memcpy(b, &f, 4);
    } else if (t == MMX_GGUF_F64) {
        memcpy(b, &fv, 8);
    } else {
        uint64_t u = (uint64_t)iv;
        for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(u >> (8 * i));
    }
    return wbuf(w, b, n);
}

mmx_status mmx_gguf_writer_open(const char *path, mmx_gguf_writer **out, mmx_error *err) {
    *out = NULL;
    mmx_gguf_writer *w = calloc(1, sizeof *w);
    if (!w) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    size_t n = strlen(path) + 5;
    w->path = strdup(path);
    w->tmp_path = malloc(n);
    if (!w->path || !w->tmp_path) {
        mmx_gguf_writer_free(w);
        return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
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

static mmx_status kv_head(mmx_gguf_writer *w, const char *key, mmx_gguf_type t) {
    if (w->failed) return w->err.status;
    if (w->data_started) {
        w->failed = true;
        return mmx_fail(&w->err, MMX_ERR_INVALID_ARG, "metadata '%s' added after the data began", key);
    }
    w->n_kv++;
    if (!wstr(w, key, strlen(key)) || !wu32(w, (uint32_t)t)) return w->err.status;
    return MMX_OK;
}

mmx_status mmx_gguf_writer_set_int(mmx_gguf_writer *w, const char *key, mmx_gguf_type type, int64_t v) {
    MMX_ASSERT(scalar_size(type) && type != MMX_GGUF_F32 && type != MMX_GGUF_F64);
    mmx_status st = kv_head(w, key, type);
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
            for (uint64_t k = 0; k < kv->arr_n; k++)
                if (!wstr(w, (const char *)kv->arr_str[k], (size_t)kv->arr_str_len[k])) return w->err.status;
            return MMX_OK;
        }
        return wbuf(w, kv->arr_data, (size_t)kv->arr_n * scalar_size(kv->arr_type)) ? MMX_OK : w->err.status;
    }
    return wbuf(w, kv->val, scalar_size(kv->type)) ? MMX_OK : w->err.status;
}

mmx_status mmx_gguf_writer_add_tensor(mmx_gguf_writer *w, const char *name, mmx_type type, int n_dims,
                                      const uint64_t *shape) {
    if (w->failed) return w->err.status;
    MMX_ASSERT(n_dims >= 1 && n_dims <= MMX_MAX_DIMS && (unsigned)type < MMX_TYPE_COUNT);
    if (w->data_started) {
        w->failed = true;
        return mmx_fail(&w->err, MMX_ERR_INVALID_ARG, "tensor '%s' added after the data began", name);
    }
    uint64_t n = 1;
    for (int i = 0; i < n_dims; i++) n *= shape[i];
    size_t row = mmx_type_row_bytes(type, (size_t)shape[n_dims - 1]);
    if (row == 0) {
        w->failed = true;
        return mmx_fail(&w->err, MMX_ERR_INVALID_ARG, "tensor '%s': rows of %llu elements do not fit %s blocks", name,
                        (unsigned long long)shape[n_dims - 1], mmx_type_name(type));
    }
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? 2 * w->cap_tensors : 64;
        writer_tensor *nt = realloc(w->tensors, cap * sizeof *nt);
        if (!nt) {
            w->failed = true;
            return mmx_fail(&w->err, MMX_ERR_NOMEM, "out of memory");
        }
        w->tensors = nt;
        w->cap_tensors = cap;
    }
    writer_tensor *t = &w->tensors[w->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (!t->name) {
        w->failed = true;
        return mmx_fail(&w->err, MMX_ERR_NOMEM, "out of memory");
    }
    w->n_tensors++;
    t->type = type;
    t->n_dims = n_dims;
    memcpy(t->shape, shape, (size_t)n_dims * sizeof *shape);
    t->n_bytes = (uint64_t)row * (n / shape[n_dims - 1]);
    return MMX_OK;
}

static bool fwrite_all(mmx_gguf_writer *w, const void *p, size_t n) {
    if (n && fwrite(p, 1, n, w->f) != n) {
        w->failed = true;
        mmx_fail(&w->err, MMX_ERR_IO, "%s: write failed: %s", w->tmp_path, strerror(errno));
        return false;
    }
    return true;
}

static bool pad_to(mmx_gguf_writer *w, uint64_t pos) {
    static const uint8_t zeros[32] = {0};
    uint64_t pad = (32 - pos % 32) % 32;
    return fwrite_all(w, zeros, (size_t)pad);
}

mmx_status mmx_gguf_writer_begin_data(mmx_gguf_writer *w) {
    if (w->failed) return w->err.status;
    /* tensor infos go into the same buffer after the kvs */
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        writer_tensor *t = &w->tensors[i];
        t->offset = off;
        off += (t->n_bytes + 31) / 32 * 32;
        if (!wstr(w, t->name, strlen(t->name)) || !wu32(w, (uint32_t)t->n_dims)) return w->err.status;
        for (int d = t->n_dims - 1; d >= 0; d--)
            if (!wu64(w, t->shape[d])) return w->err.status; /* ggml ne: fastest first */
        if (!wu32(w, mmx_type_to_ggml(t->type)) || !wu64(w, t->offset)) return w->err.status;
    }
    uint8_t head[24];
    memcpy(head, "GGUF", 4);
    uint32_t version = 3;
    uint64_t nt = w->n_tensors, nkv = w->n_kv;
    memcpy(head + 4, &version, 4);
    memcpy(head + 8, &nt, 8);
    memcpy(head + 16, &nkv, 8);
    if (!fwrite_all(w, head, 24) || !fwrite_all(w, w->kv, w->kv_len) || !pad_to(w, 24 + w->kv_len)) return w->err.status;
    w->data_started = true;
    w->current = 0;
    w->written = 0;
    return MMX_OK;
}

mmx_status mmx_gguf_writer_write(mmx_gguf_writer *w, const void *data, size_t n) {
    if (w->failed) return w->err.status;
    MMX_ASSERT(w->data_started);
    const uint8_t *p = data;
    while (n > 0) {
        if (w->current >= w->n_tensors) {
            w->failed = true;
            return mmx_fail(&w->err, MMX_ERR_INVALID_ARG, "more data than the declared tensors hold");
        }
        writer_tensor *t = &w->tensors[w->current];
        uint64_t room = t->n_bytes - w->written;
        size_t k = n < room ? n : (size_t)room;
        if (!fwrite_all(w, p, k)) return w->err.status;
        w->written += k;
        p += k;
        n -= k;
        if (w->written == t->n_bytes) {
            if (!pad_to(w, t->n_bytes)) return w->err.status;
            w->current++;
            w->written = 0;
        }
    }
    return MMX_OK;
}

mmx_status mmx_gguf_writer_close(mmx_gguf_writer *w, mmx_error *err) {
    if (!w->failed && !w->data_started) mmx_gguf_writer_begin_data(w);
    if (!w->failed && w->current != w->n_tensors) {
        w->failed = true;
        mmx_fail(&w->err, MMX_ERR_INVALID_ARG, "tensor '%s' was not written completely", w->tensors[w->current].name);
    }
    if (!w->failed && (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0)) {
        w->failed = true;
        mmx_fail(&w->err, MMX_ERR_IO, "%s: flush failed: %s", w->tmp_path, strerror(errno));
    }
    if (!w->failed) {
        fclose(w->f);
        w->f = NULL;
        if (rename(w->tmp_path, w->path) != 0) {
            w->failed = true;
            mmx_fail(&w->err, MMX_ERR_IO, "cannot rename %s to %s: %s", w->tmp_path, w->path, strerror(errno));
        } else {
            free(w->tmp_path);
            w->tmp_path = NULL; /* nothing left to remove */
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
    free(w->tensors);
    free(w->kv);
    free(w->path);
    free(w->tmp_path);
    free(w);
}

const mmx_error *mmx_gguf_writer_error(const mmx_gguf_writer *w) { return &w->err; }
