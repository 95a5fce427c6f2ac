/*
 * tensor.h — a borrowed view of one weight tensor inside a mapped model file.
 */
#ifndef MMX_TENSOR_H
#define MMX_TENSOR_H

#include "mmx.h"

#include <stddef.h>
#include <stdint.h>

#define MMX_MAX_DIMS 4

typedef struct mmx_tensor {
    const char *name;              /* NUL-terminated; owned by the file object */
    mmx_type type;                 /* MMX_TYPE_COUNT when the file's type is not supported */
    const char *type_name;         /* the file's own name of the type ("F32", "q4_K", "I64", …) */
    int n_dims;                    /* 1..MMX_MAX_DIMS */
    uint64_t shape[MMX_MAX_DIMS];  /* outermost first (PyTorch order): a matrix is [rows, cols];
                                      for GGUF this is ggml's ne[] reversed */
    const void *data;              /* into the mapped file; NULL only for zero-sized tensors */
    size_t n_bytes;                /* bytes of data (checked to lie inside the file) */
} mmx_tensor;

/* Number of elements (product of the shape); the parsers guarantee it does not overflow. */
static inline uint64_t mmx_tensor_n_elems(const mmx_tensor *t) {
    uint64_t n = 1;
    for (int i = 0; i < t->n_dims; i++) n *= t->shape[i];
    return n;
}

#endif
