/* libFuzzer target: the GGUF parser on arbitrary bytes, then every accessor on everything it returns
 * (every key, every value through every getter, every array element, every byte of every string and
 * of every tensor's data), and the invariants the rest of the engine relies on.  A broken invariant
 * aborts, which libFuzzer reports as a crash.
 *   make fuzz && build-fuzz/fuzz_gguf NEW_CORPUS_DIR tests/fuzz/corpus/gguf -max_total_time=150 */
#include "gguf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INVARIANT(c)                                                                                \
    do {                                                                                            \
        if (!(c)) abort();                                                                          \
    } while (0)

static size_t touch(const void *p, size_t n) {
    size_t s = 0;
    for (size_t i = 0; i < n; i++) s += ((const uint8_t *)p)[i];
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mmx_gguf *g = NULL;
    mmx_error err;
    mmx_status st = mmx_gguf_parse(data, size, "fuzz", &g, &err);
    if (st != MMX_OK) {
        INVARIANT(g == NULL && (st == MMX_ERR_FORMAT || st == MMX_ERR_NOMEM));
        INVARIANT(err.status == st && !strncmp(err.message, "fuzz: ", 6));
        return 0;
    }
    volatile size_t sink = 0;
    size_t align = mmx_gguf_alignment(g);
    INVARIANT(align && !(align & (align - 1)));
    INVARIANT(mmx_gguf_version(g) == 2 || mmx_gguf_version(g) == 3);
    for (size_t i = 0; i < mmx_gguf_n_kv(g); i++) {
        const char *key = mmx_gguf_key(g, i), *s;
        INVARIANT(mmx_gguf_find_key(g, key) == (int64_t)i);
        size_t n;
        int64_t iv;
        double fv;
        bool bv;
        mmx_gguf_type et, t = mmx_gguf_kv_type(g, i);
        INVARIANT((unsigned)t <= MMX_GGUF_F64);
        sink += strlen(key) + mmx_gguf_get_int(g, key, &iv) + mmx_gguf_get_float(g, key, &fv) +
                mmx_gguf_get_bool(g, key, &bv);
        if (mmx_gguf_get_str(g, key, &s, &n)) {
            INVARIANT(t == MMX_GGUF_STRING);
            sink += touch(s, n);
        }
        if (mmx_gguf_get_arr(g, key, &et, &n)) {
            INVARIANT(t == MMX_GGUF_ARRAY && et != MMX_GGUF_ARRAY);
            for (size_t j = 0; j < n; j++) {
                const char *es;
                size_t en;
                if (et == MMX_GGUF_STRING) {
                    INVARIANT(mmx_gguf_arr_str(g, key, j, &es, &en));
                    sink += touch(es, en);
                } else {
                    INVARIANT(mmx_gguf_arr_float(g, key, j, &fv) || et == MMX_GGUF_BOOL);
                    sink += mmx_gguf_arr_int(g, key, j, &iv);
                }
            }
            INVARIANT(!mmx_gguf_arr_str(g, key, n, &s, &n) && !mmx_gguf_arr_int(g, key, n, &iv));
        }
    }
    for (size_t i = 0; i < mmx_gguf_n_tensors(g); i++) {
        const mmx_tensor *t = mmx_gguf_tensor(g, i);
        INVARIANT(mmx_gguf_find_tensor(g, t->name) == t);
        INVARIANT(t->n_dims >= 1 && t->n_dims <= MMX_MAX_DIMS && t->type_name && t->data && t->n_bytes);
        uint64_t ne = 1;
        for (int d = 0; d < t->n_dims; d++) INVARIANT(t->shape[d] && !__builtin_mul_overflow(ne, t->shape[d], &ne));
        const uint8_t *p = t->data;
        INVARIANT(p >= data && (size_t)(p - data) <= size && t->n_bytes <= size - (size_t)(p - data));
        INVARIANT((size_t)(p - data) % align == 0);
        if (t->type != MMX_TYPE_COUNT) INVARIANT(mmx_type_to_ggml(t->type) < 64);
        sink += touch(p, t->n_bytes);
    }
    (void)sink;
    mmx_gguf_free(g);
    return 0;
}
