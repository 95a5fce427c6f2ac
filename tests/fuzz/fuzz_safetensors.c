/* libFuzzer target: the safetensors parser on arbitrary bytes, then every tensor it returns. */
#include "safetensors.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mmx_st *st = NULL;
    mmx_error err;
    if (mmx_st_parse(data, size, "fuzz", &st, &err) != MMX_OK) return 0;
    volatile size_t sink = 0;
    for (size_t i = 0; i < mmx_st_n_tensors(st); i++) {
        const mmx_tensor *t = mmx_st_tensor(st, i);
        if (t->n_bytes) sink += ((const uint8_t *)t->data)[0] + ((const uint8_t *)t->data)[t->n_bytes - 1];
        sink += mmx_st_find(st, t->name) == t;
    }
    (void)sink;
    mmx_st_free(st);
    return 0;
}
