/*
 * safetensors.c — pure parser for .safetensors (layout in safetensors.h).  The JSON header is read
 * by Jansson from exactly its declared length; every entry's dtype, shape and data_offsets are
 * checked against the data section before a view is handed out.  Every error message starts with
 * the file name and names the tensor involved.
 */
#include "safetensors.h"
#include "mapfile.h"
#include "strmap.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>

#define MAX_HEADER_BYTES 100000000ull /* the format's own limit (100 MB) */

struct mmx_st {
    mmx_tensor *tensors;
    char **names;
    size_t n;
    mmx_strmap by_name;
    mmx_mapfile map; /* when opened from a file */
};

/* dtypes with a whole number of bytes per element (sub-byte F4/F6 types are not listed) */
static const struct {
    const char *name;
    mmx_type type;
    size_t size;
} dtypes[] = {
    {"F32", MMX_TYPE_F32, 4},       {"F16", MMX_TYPE_F16, 2},       {"BF16", MMX_TYPE_BF16, 2},
    {"F64", MMX_TYPE_COUNT, 8},     {"I64", MMX_TYPE_COUNT, 8},     {"I32", MMX_TYPE_COUNT, 4},
    {"I16", MMX_TYPE_COUNT, 2},     {"I8", MMX_TYPE_COUNT, 1},      {"U8", MMX_TYPE_COUNT, 1},
    {"BOOL", MMX_TYPE_COUNT, 1},    {"U16", MMX_TYPE_COUNT, 2},     {"U32", MMX_TYPE_COUNT, 4},
    {"U64", MMX_TYPE_COUNT, 8},     {"F8_E4M3", MMX_TYPE_COUNT, 1}, {"F8_E5M2", MMX_TYPE_COUNT, 1},
    {"F8_E8M0", MMX_TYPE_COUNT, 1},
};
#define N_DTYPES (sizeof dtypes / sizeof dtypes[0])

mmx_mapfile *mmx_st_mapfile(mmx_st *st) { return st->map.data ? &st->map : NULL; }

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

/* short description of a JSON value's kind, for messages */
static const char *json_kind(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return json_integer_value(v) < 0 ? "a negative integer" : "an integer";
    case JSON_REAL: return "a non-integer number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static mmx_status parse_entry(mmx_st *st, const char *name, const char *key, json_t *val, const uint8_t *data,
                              uint64_t data_len, mmx_error *err) {
    mmx_tensor *t = &st->tensors[st->n];
    if (!json_is_object(val))
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': the entry is %s, expected an object", name, key,
                        json_kind(val));
    json_t *jdt = json_object_get(val, "dtype");
    if (!jdt) return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': 'dtype' is missing", name, key);
    const char *dt = json_string_value(jdt);
    if (!dt)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': 'dtype' is %s, expected a string", name, key, json_kind(jdt));
    size_t di = N_DTYPES;
    for (size_t i = 0; i < N_DTYPES; i++)
        if (!strcmp(dtypes[i].name, dt)) di = i;
    if (di == N_DTYPES)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%.32s'", name, key, dt);
    json_t *shape = json_object_get(val, "shape");
    if (!shape) return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': 'shape' is missing", name, key);
    if (!json_is_array(shape))
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': 'shape' is %s, expected an array", name, key,
                        json_kind(shape));
    size_t nd = json_array_size(shape);
    if (nd > MMX_MAX_DIMS)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': shape has %zu dimensions, at most %d are supported", name,
                        key, nd, MMX_MAX_DIMS);
    uint64_t n_elems = 1;
    for (size_t i = 0; i < nd; i++) {
        uint64_t dim;
        json_t *d = json_array_get(shape, i);
        if (!get_u64(d, &dim))
            return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': shape[%zu] is %s, expected a non-negative integer", name,
                            key, i, json_kind(d));
        if (__builtin_mul_overflow(n_elems, dim, &n_elems))
            return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': the element count overflows at shape[%zu] = %llu", name,
                            key, i, (unsigned long long)dim);
        t->shape[i] = dim;
    }
    if (nd == 0) { /* a scalar: one element, shown as shape [1] so that n_dims stays 1..4 */
        nd = 1;
        t->shape[0] = 1;
    }
    json_t *off = json_object_get(val, "data_offsets");
    if (!off) return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': 'data_offsets' is missing", name, key);
    uint64_t b, e, nbytes;
    if (!json_is_array(off) || json_array_size(off) != 2 || !get_u64(json_array_get(off, 0), &b) ||
        !get_u64(json_array_get(off, 1), &e))
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': 'data_offsets' must be [begin, end] with non-negative integers",
                        name, key);
    if (b > e)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] are reversed (begin > end)", name,
                        key, (unsigned long long)b, (unsigned long long)e);
    if (e > data_len)
        return mmx_fail(err, MMX_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets [%llu, %llu] end past the %llu-byte data section (truncated file?)",
                        name, key, (unsigned long long)b, (unsigned long long)e, (unsigned long long)data_len);
    if (__builtin_mul_overflow(n_elems, (uint64_t)dtypes[di].size, &nbytes))
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s': the byte size of %llu %s elements overflows", name, key,
                        (unsigned long long)n_elems, dt);
    if (nbytes != e - b)
        return mmx_fail(err, MMX_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets [%llu, %llu] hold %llu bytes, but the shape and dtype %s need %llu",
                        name, key, (unsigned long long)b, (unsigned long long)e, (unsigned long long)(e - b), dt,
                        (unsigned long long)nbytes);
    st->names[st->n] = strdup(key);
    if (!st->names[st->n]) return mmx_fail(err, MMX_ERR_NOMEM, "%s: out of memory", name);
    t->name = st->names[st->n];
    t->type = dtypes[di].type;
    t->type_name = dtypes[di].name;
    t->n_dims = (int)nd;
    t->data = nbytes ? data + b : NULL;
    t->n_bytes = (size_t)nbytes;
    st->n++;
    bool existed;
    if (!mmx_strmap_put(&st->by_name, t->name, t, &existed)) return mmx_fail(err, MMX_ERR_NOMEM, "%s: out of memory", name);
    if (existed) return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%s' appears twice", name, key);
    return MMX_OK;
}

/* Jansson reports a duplicate key with the byte position just after it (and names it only when
 * it is short): find the key's JSON text before that position, to name the tensor. */
static mmx_status json_fail(const char *name, const char *hdr, size_t hl, const json_error_t *je, mmx_error *err) {
    if (json_error_code(je) == json_error_duplicate_key && je->position > 0 && (size_t)je->position <= hl) {
        size_t end = (size_t)je->position;
        while (end > 0 && hdr[end - 1] != '"') end--;
        if (end > 0) {
            size_t b = end - 1; /* the closing quote; find the opening one (not escaped) */
            while (b > 0) {
                b--;
                size_t bs = 0;
                while (b >= bs + 1 && hdr[b - bs - 1] == '\\') bs++;
                if (hdr[b] == '"' && bs % 2 == 0) break;
            }
            if (hdr[b] == '"' && b < end - 1) {
                int n = (int)(end - 1 - b - 1 < 512 ? end - 1 - b - 1 : 512);
                return mmx_fail(err, MMX_ERR_FORMAT, "%s: tensor '%.*s' appears twice in the header", name, n, hdr + b + 1);
            }
        }
    }
    return mmx_fail(err, MMX_ERR_FORMAT, "%s: the header is not valid JSON: %s (at byte %d of the header)", name,
                    je->text, je->position);
}

mmx_status mmx_st_parse(const void *buf, size_t len, const char *name, mmx_st **out, mmx_error *err) {
    *out = NULL;
    if (!name) name = "(buffer)";
    MMX_ASSERT(buf || len == 0);
    const uint8_t *p = buf;
    if (len < 8)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: truncated: %zu bytes, a safetensors file starts with an 8-byte header size",
                        name, len);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | p[i];
    if (hl > MAX_HEADER_BYTES)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: header size %llu is larger than the format's limit of %llu bytes", name,
                        (unsigned long long)hl, MAX_HEADER_BYTES);
    if (hl > len - 8)
        return mmx_fail(err, MMX_ERR_FORMAT,
                        "%s: header size %llu is larger than the %zu bytes after it: truncated, or not a safetensors file",
                        name, (unsigned long long)hl, len - 8);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)p + 8, (size_t)hl, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    if (!root) return json_fail(name, (const char *)p + 8, (size_t)hl, &jerr, err);
    mmx_status stt = MMX_OK;
    mmx_st *st = NULL;
    if (!json_is_object(root)) {
        stt = mmx_fail(err, MMX_ERR_FORMAT, "%s: the header is %s, expected a JSON object", name, json_kind(root));
        goto done;
    }
    size_t n = json_object_size(root);
    if (!(st = calloc(1, sizeof *st)) || !(st->tensors = calloc(n + 1, sizeof *st->tensors)) ||
        !(st->names = calloc(n + 1, sizeof *st->names)) || !mmx_strmap_init(&st->by_name, n)) {
        stt = mmx_fail(err, MMX_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (!strcmp(key, "__metadata__")) {
            if (!json_is_object(val)) {
                stt = mmx_fail(err, MMX_ERR_FORMAT, "%s: '__metadata__' is %s, expected an object", name, json_kind(val));
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
