/* libFuzzer target: the safetensors parser on arbitrary bytes, then every tensor it returns (every
 * byte of its data) and the invariants the loader relies on; a broken invariant aborts.
 *   make fuzz && build-fuzz/fuzz_safetensors NEW_CORPUS_DIR tests/fuzz/corpus/safetensors -max_total_time=150 */
#include "safetensors.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INVARIANT(c)                                                                                \
    do {                                                                                            \
        if (!(c)) abort();                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mmx_st *st = NULL;
    mmx_error err;
    mmx_status s = mmx_st_parse(data, size, "fuzz", &st, &err);
    if (s != MMX_OK) {
        INVARIANT(st == NULL && (s == MMX_ERR_FORMAT || s == MMX_ERR_NOMEM));
        INVARIANT(err.status == s && !strncmp(err.message, "fuzz: ", 6));
        return 0;
    }
    volatile size_t sink = 0;
    for (size_t i = 0; i < mmx_st_n_tensors(st); i++) {
        const mmx_tensor *t = mmx_st_tensor(st, i);
        INVARIANT(mmx_st_find(st, t->name) == t && strcmp(t->name, "__metadata__") != 0);
        INVARIANT(t->n_dims >= 1 && t->n_dims <= MMX_MAX_DIMS && t->type_name);
        uint64_t ne = 1;
        for (int d = 0; d < t->n_dims; d++) INVARIANT(!__builtin_mul_overflow(ne, t->shape[d], &ne));
        INVARIANT(ne == mmx_tensor_n_elems(t) && (t->n_bytes == 0) == (ne == 0));
        if (t->type == MMX_TYPE_F32) INVARIANT(t->n_bytes == ne * 4);
        if (t->type == MMX_TYPE_F16 || t->type == MMX_TYPE_BF16) INVARIANT(t->n_bytes == ne * 2);
        INVARIANT((t->data == NULL) == (t->n_bytes == 0));
        if (t->n_bytes) {
            const uint8_t *p = t->data;
            INVARIANT(p >= data + 8 && (size_t)(p - data) <= size && t->n_bytes <= size - (size_t)(p - data));
            for (size_t k = 0; k < t->n_bytes; k++) sink += p[k];
        }
    }
    (void)sink;
    mmx_st_free(st);
    return 0;
}
