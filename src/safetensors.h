/*
 * safetensors.h — reader for HF .safetensors files.
 *
 * File layout:
 *   offset  size  field
 *   0       8     uint64 little-endian N = header size
 *   8       N     JSON object: { "<tensor name>": {"dtype": "F32"|"F16"|"BF16"|…, "shape": [..],
 *                 "data_offsets": [begin, end]}, …, optional "__metadata__": {str: str} }
 *   8+N     …     byte buffer; data_offsets are relative to its start, end exclusive
 *
 * mmx_st_parse is pure: it checks the header size (<= the file, <= 100 MB), the JSON (duplicate keys
 * rejected), every dtype/shape/offset (inside the buffer, begin <= end, end - begin == elements *
 * dtype size, no overflow) and duplicate names.  Tensors with dtypes other than F32/F16/BF16 are
 * listed with type MMX_TYPE_COUNT; unknown dtypes (and sub-byte ones) are MMX_ERR_FORMAT.  Shapes
 * have 0..4 dimensions and may contain 0 (such tensors have data == NULL); a scalar (shape []) is
 * returned with n_dims 1 and shape [1].  Offsets are not required to be contiguous.
 */
#ifndef MMX_SAFETENSORS_H
#define MMX_SAFETENSORS_H

#include "tensor.h"

typedef struct mmx_st mmx_st;

/* `name` only for messages.  `buf` must outlive the result.
 * Returns MMX_OK, MMX_ERR_FORMAT or MMX_ERR_NOMEM. */
mmx_status mmx_st_parse(const void *buf, size_t len, const char *name, mmx_st **out, mmx_error *err);
/* mmap + parse; adds MMX_ERR_IO.  The mapping is released by mmx_st_free. */
mmx_status mmx_st_open(const char *path, mmx_st **out, mmx_error *err);
void mmx_st_free(mmx_st *st);
/* The file mapping of a file from mmx_st_open (NULL for one parsed from memory). */
struct mmx_mapfile *mmx_st_mapfile(mmx_st *st);

size_t mmx_st_n_tensors(const mmx_st *st);
const mmx_tensor *mmx_st_tensor(const mmx_st *st, size_t i);
const mmx_tensor *mmx_st_find(const mmx_st *st, const char *name); /* NULL when absent */

#endif
