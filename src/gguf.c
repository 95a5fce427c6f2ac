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
