/*
 * safetensors.c — pure parser for .safetensors (layout in safetensors.h).  Every offset is checked
 * against the buffer and against the tensor's dtype and shape before a view is handed out.
 */
#include "safetensors.h"
#include "mapfile.h"
#include "strmap.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>

#define MAX_HEADER_BYTES ((uint64_t)100 << 20) /* the format's own limit is 100 MB */

struct mmx_st {
    mmx_tensor *tensors;
    char **names;
    size_t n;
    mmx_strmap by_name;
    mmx_mapfile map; /* when opened from a file */
};

static const struct {
    const char *name;
    mmx_type type;
    size_t size;
} dtypes[] = {
    {"F32", MMX_TYPE_F32, 4},  {"F16", MMX_TYPE_F16, 2},      {"BF16", MMX_TYPE_BF16, 2},
    {"F64", MMX_TYPE_COUNT, 8}, {"I64", MMX_TYPE_COUNT, 8},    {"I32", MMX_TYPE_COUNT, 4},
    {"I16", MMX_TYPE_COUNT, 2}, {"I8", MMX_TYPE_COUNT, 1},     {"U8", MMX_TYPE_COUNT, 1},
    {"BOOL", MMX_TYPE_COUNT, 1}, {"U16", MMX_TYPE_COUNT, 2},   {"U32", MMX_TYPE_COUNT, 4},
    {"U64", MMX_TYPE_COUNT, 8}, {"F8_E4M3", MMX_TYPE_COUNT, 1}, {"F8_E5M2", MMX_TYPE_COUNT, 1},
};

void mmx_st_free(mmx_st *st) {
    if (!st) return;
    for (size_t i = 0; i < st->n; i++) free(st->names[i]);
    free(st->names);
    free(st->tensors);
    mmx_strmap_free(&st->by_name);
    mmx_mapfile_close(&st->map);
    free(st);
}

static bool get_u64(json_t *v, uint64_t *out) {
    if (!json_is_integer(v) || json_integer_value(v) < 0) return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

static mmx_status parse_entry(mmx_st *st, const char *name, const char *key, json_t *val, const uint8_t *data,
                              uint64_t data_len, mmx_error *err) {
    mmx_tensor *t = &st->tensors[st->n];
    if (!json_is_object(val)) return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': entry is not an object", name, key);
    const char *dt = json_string_value(json_object_get(val, "dtype"));
    if (!dt) return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': 'dtype' missing or not a string", name, key);
    size_t di = sizeof dtypes / sizeof dtypes[0];
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (!strcmp(dtypes[i].name, dt)) di = i;
    if (di == sizeof dtypes / sizeof dtypes[0])
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%.32s'", name, key, dt);
    json_t *shape = json_object_get(val, "shape");
    if (!json_is_array(shape))
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': 'shape' missing or not an array", name, key);
    size_t nd = json_array_size(shape);
    if (nd > MMX_MAX_DIMS)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': %zu dimensions (at most %d supported)", name, key, nd,
                        MMX_MAX_DIMS);
    uint64_t n_elems = 1;
    for (size_t i = 0; i < nd; i++) {
        uint64_t dim;
        if (!get_u64(json_array_get(shape, i), &dim))
            return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': shape[%zu] is not a non-negative integer", name, key, i);
        if (__builtin_mul_overflow(n_elems, dim, &n_elems))
            return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': shape overflows", name, key);
        t->shape[i] = dim;
    }
    json_t *off = json_object_get(val, "data_offsets");
    uint64_t b, e, nbytes;
    if (!json_is_array(off) || json_array_size(off) != 2 || !get_u64(json_array_get(off, 0), &b) ||
        !get_u64(json_array_get(off, 1), &e))
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': 'data_offsets' must be [begin, end]", name, key);
    if (b > e || e > data_len)
        return mmx_fail(err, MMX_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets [%llu, %llu] outside the %llu-byte data section (truncated file?)",
                        name, key, (unsigned long long)b, (unsigned long long)e, (unsigned long long)data_len);
    if (__builtin_mul_overflow(n_elems, (uint64_t)dtypes[di].size, &nbytes) || nbytes != e - b)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': %llu bytes of data, but shape and dtype %s need %llu",
                        name, key, (unsigned long long)(e - b), dt, (unsigned long long)nbytes);
    st->names[st->n] = strdup(key);
    if (!st->names[st->n]) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    t->name = st->names[st->n];
    t->type = dtypes[di].type;
    t->type_name = dtypes[di].name;
    t->n_dims = (int)nd;
    t->data = nbytes ? data + b : NULL;
    t->n_bytes = (size_t)nbytes;
    st->n++;
    bool existed;
    if (!mmx_strmap_put(&st->by_name, t->name, t, &existed)) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    if (existed) return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s' appears twice", name, key);
    return MMX_OK;
}

mmx_status mmx_st_parse(const void *buf, size_t len, const char *name, mmx_st **out, mmx_error *err) {
    *out = NULL;
    const uint8_t *p = buf;
    if (len < 8) return mmx_fail(err, MMX_ERR_FORMAT, "%s: truncated: %zu bytes, no header", name, len);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | p[i];
    if (hl > MAX_HEADER_BYTES || hl > len - 8)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: header length %llu exceeds the file (%zu bytes): truncated or not safetensors",
                        name, (unsigned long long)hl, len);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)p + 8, (size_t)hl, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!root) return mmx_fail(err, MMX_ERR_FORMAT, "%s: header is not valid JSON: %s (column %d)", name, jerr.text, jerr.column);
    mmx_status stt = MMX_OK;
    mmx_st *st = calloc(1, sizeof *st);
    if (!json_is_object(root)) {
        stt = mmx_fail(err, MMX_ERR_FORMAT, "%s: header is not a JSON object", name);
        goto done;
    }
    size_t n = json_object_size(root);
    if (!st || !(st->tensors = calloc(n + 1, sizeof *st->tensors)) || !(st->names = calloc(n + 1, sizeof *st->names)) ||
        !mmx_strmap_init(&st->by_name, n)) {
        stt = mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (!strcmp(key, "__metadata__")) {
            if (!json_is_object(val)) {
                stt = mmx_fail(err, MMX_ERR_FORMAT, "%s: '__metadata__' is not an object", name);
                goto done;
            }
            continue;
        }
        stt = parse_entry(st, name, key, val, p + 8 + hl, len - 8 - hl, err);
        if (stt != MMX_OK) goto done;
    }
done:
    json_decref(root);
    if (stt != MMX_OK) {
        mmx_st_free(st);
        return stt;
    }
    *out = st;
    return MMX_OK;
}

mmx_status mmx_st_open(const char *path, mmx_st **out, mmx_error *err) {
    *out = NULL;
    mmx_mapfile map;
    mmx_status s = mmx_mapfile_open(path, &map, err);
    if (s != MMX_OK) return s;
    s = mmx_st_parse(map.data, map.len, path, out, err);
    if (s != MMX_OK) {
        mmx_mapfile_close(&map);
        return s;
    }
    (*out)->map = map;
    return MMX_OK;
}

size_t mmx_st_n_tensors(const mmx_st *st) { return st->n; }
const mmx_tensor *mmx_st_tensor(const mmx_st *st, size_t i) {
    MMX_ASSERT(i < st->n);
    return &st->tensors[i];
}
const mmx_tensor *mmx_st_find(const mmx_st *st, const char *name) { return mmx_strmap_get(&st->by_name, name); }
