/* libFuzzer target: the GGUF parser on arbitrary bytes, then every accessor on what it returns. */
#include "gguf.h"

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mmx_gguf *g = NULL;
    mmx_error err;
    if (mmx_gguf_parse(data, size, "fuzz", &g, &err) != MMX_OK) return 0;
    volatile size_t sink = 0;
    for (size_t i = 0; i < mmx_gguf_n_kv(g); i++) {
        const char *key = mmx_gguf_key(g, i), *s;
        size_t n;
        int64_t iv;
        double fv;
        bool bv;
        mmx_gguf_type et;
        sink += mmx_gguf_get_int(g, key, &iv) + mmx_gguf_get_float(g, key, &fv) + mmx_gguf_get_bool(g, key, &bv);
        if (mmx_gguf_get_str(g, key, &s, &n) && n) sink += (uint8_t)s[n - 1];
        if (mmx_gguf_get_arr(g, key, &et, &n))
            for (size_t j = 0; j < n && j < 64; j++) {
                sink += mmx_gguf_arr_int(g, key, j, &iv) + mmx_gguf_arr_float(g, key, j, &fv);
                if (mmx_gguf_arr_str(g, key, j, &s, &n) && n) sink += (uint8_t)s[0];
            }
    }
    for (size_t i = 0; i < mmx_gguf_n_tensors(g); i++) {
        const mmx_tensor *t = mmx_gguf_tensor(g, i);
        if (t->n_bytes) sink += ((const uint8_t *)t->data)[0] + ((const uint8_t *)t->data)[t->n_bytes - 1];
        sink += mmx_gguf_find_tensor(g, t->name) == t;
    }
    (void)sink;
    mmx_gguf_free(g);
    return 0;
}
