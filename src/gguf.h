/*
 * gguf.h — GGUF (v2, v3) reader and writer.
 *
 * File layout (all little-endian):
 *   offset  size  field
 *   0       4     magic "GGUF"
 *   4       4     uint32 version (2 or 3 accepted)
 *   8       8     uint64 n_tensors
 *   16      8     uint64 n_kv
 *   24      …     n_kv key/value pairs:   string key, uint32 value_type, value
 *                 string = uint64 len + len bytes (not NUL-terminated)
 *                 value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool(u8), 8 string,
 *                              9 array (uint32 elem_type, uint64 count, elements), 10 u64, 11 i64, 12 f64
 *   …       …     n_tensors tensor infos: string name, uint32 n_dims, uint64 ne[n_dims] (fastest first),
 *                 uint32 ggml_type, uint64 offset (relative to the data section, multiple of alignment)
 *   …             padding to `general.alignment` (u32 key, default 32)
 *   data          tensor data
 *
 * mmx_gguf_parse is pure (no I/O, no global state): it validates every count, length and offset
 * against the buffer and never reads outside it.  mmx_gguf_open maps a file and parses it.
 * Names, keys and string values are returned as pointers into the buffer or into the parsed index,
 * valid until mmx_gguf_free.
 */
#ifndef MMX_GGUF_H
#define MMX_GGUF_H

#include "tensor.h"

#include <stdbool.h>

typedef enum mmx_gguf_type {
    MMX_GGUF_U8 = 0, MMX_GGUF_I8 = 1, MMX_GGUF_U16 = 2, MMX_GGUF_I16 = 3, MMX_GGUF_U32 = 4,
    MMX_GGUF_I32 = 5, MMX_GGUF_F32 = 6, MMX_GGUF_BOOL = 7, MMX_GGUF_STRING = 8, MMX_GGUF_ARRAY = 9,
    MMX_GGUF_U64 = 10, MMX_GGUF_I64 = 11, MMX_GGUF_F64 = 12,
} mmx_gguf_type;

/* ggml type ids of the tensor types we read and write. */
enum {
    MMX_GGML_F32 = 0, MMX_GGML_F16 = 1, MMX_GGML_Q4_0 = 2, MMX_GGML_Q8_0 = 8, MMX_GGML_Q4_K = 12,
    MMX_GGML_Q5_K = 13, MMX_GGML_Q6_K = 14, MMX_GGML_BF16 = 30,
};
/* mmx type <-> ggml type id; mmx_type_from_ggml returns MMX_TYPE_COUNT for other types. */
mmx_type mmx_type_from_ggml(uint32_t ggml_type);
uint32_t mmx_type_to_ggml(mmx_type type);

typedef struct mmx_gguf mmx_gguf;

/* `name` is used only in error messages (e.g. the file path).  `buf` must outlive the result.
 * Returns MMX_OK, MMX_ERR_FORMAT (truncated, bad magic/version, absurd counts, duplicate names,
 * misaligned or out-of-file tensor data, overflowing shapes, unknown value types) or MMX_ERR_NOMEM. */
mmx_status mmx_gguf_parse(const void *buf, size_t len, const char *name, mmx_gguf **out, mmx_error *err);
/* mmap + parse.  Adds MMX_ERR_IO.  The mapping is released by mmx_gguf_free. */
mmx_status mmx_gguf_open(const char *path, mmx_gguf **out, mmx_error *err);
void mmx_gguf_free(mmx_gguf *g);
/* The file mapping of a GGUF from mmx_gguf_open (NULL for one parsed from memory). */
struct mmx_mapfile *mmx_gguf_mapfile(mmx_gguf *g);

uint32_t mmx_gguf_version(const mmx_gguf *g);
size_t mmx_gguf_alignment(const mmx_gguf *g);

/* key/value metadata */
size_t mmx_gguf_n_kv(const mmx_gguf *g);
const char *mmx_gguf_key(const mmx_gguf *g, size_t i);
int64_t mmx_gguf_find_key(const mmx_gguf *g, const char *key); /* -1 when absent */
mmx_gguf_type mmx_gguf_kv_type(const mmx_gguf *g, size_t i);
/* Typed getters: true when the key exists and has a compatible type (any integer type for get_int
 * when the value fits in int64; f32/f64 or any integer for get_float; bool or integer for get_bool). */
bool mmx_gguf_get_int(const mmx_gguf *g, const char *key, int64_t *out);
bool mmx_gguf_get_float(const mmx_gguf *g, const char *key, double *out);
bool mmx_gguf_get_bool(const mmx_gguf *g, const char *key, bool *out);
bool mmx_gguf_get_str(const mmx_gguf *g, const char *key, const char **ptr, size_t *len);
/* Arrays: element type and count.  False when the key is absent or not an array. */
bool mmx_gguf_get_arr(const mmx_gguf *g, const char *key, mmx_gguf_type *elem_type, size_t *count);
/* Element i of a numeric array converted to int64 / double (false if out of range or not numeric). */
bool mmx_gguf_arr_int(const mmx_gguf *g, const char *key, size_t i, int64_t *out);
bool mmx_gguf_arr_float(const mmx_gguf *g, const char *key, size_t i, double *out);
/* Element i of a string array, O(1) (the parser indexes string arrays). */
bool mmx_gguf_arr_str(const mmx_gguf *g, const char *key, size_t i, const char **ptr, size_t *len);

/* tensors */
size_t mmx_gguf_n_tensors(const mmx_gguf *g);
const mmx_tensor *mmx_gguf_tensor(const mmx_gguf *g, size_t i);
const mmx_tensor *mmx_gguf_find_tensor(const mmx_gguf *g, const char *name); /* NULL when absent */

/* ---- writer ---------------------------------------------------------------------------------
 * Streams a GGUF v3 file: first all metadata and tensor descriptions, then the data of each tensor
 * in the order they were added, each padded to the alignment (32, or a u32 power of two set as
 * `general.alignment`), at consecutive offsets as llama.cpp requires.  Writes to `path`.tmp and
 * renames on success (after fsync), so an existing file is never left half-written.
 * Misuse is refused with MMX_ERR_INVALID_ARG rather than producing a file llama.cpp would reject: a
 * key set twice, a tensor name added twice or of 64 bytes or more (ggml's GGML_MAX_NAME), a zero or
 * overflowing dimension, a row that is not whole blocks of its type, general.alignment that is not
 * a u32 power of two, metadata or tensors added after begin_data, more data than declared.
 * Errors are sticky: after one, every call returns the same status, mmx_gguf_writer_error tells
 * why, close fails and free removes the .tmp. */
typedef struct mmx_gguf_writer mmx_gguf_writer;
mmx_status mmx_gguf_writer_open(const char *path, mmx_gguf_writer **out, mmx_error *err);
mmx_status mmx_gguf_writer_set_int(mmx_gguf_writer *w, const char *key, mmx_gguf_type type, int64_t v);
mmx_status mmx_gguf_writer_set_float(mmx_gguf_writer *w, const char *key, mmx_gguf_type type, double v);
mmx_status mmx_gguf_writer_set_bool(mmx_gguf_writer *w, const char *key, bool v);
mmx_status mmx_gguf_writer_set_str(mmx_gguf_writer *w, const char *key, const char *s, size_t len);
/* Copies a whole kv pair (any type, arrays included) from a parsed file. */
mmx_status mmx_gguf_writer_copy_kv(mmx_gguf_writer *w, const mmx_gguf *src, size_t kv_index);
mmx_status mmx_gguf_writer_set_arr_int(mmx_gguf_writer *w, const char *key, mmx_gguf_type elem_type,
                                       const int64_t *v, size_t n);
mmx_status mmx_gguf_writer_set_arr_float(mmx_gguf_writer *w, const char *key, mmx_gguf_type elem_type,
                                         const double *v, size_t n);
mmx_status mmx_gguf_writer_set_arr_str(mmx_gguf_writer *w, const char *key, const char *const *s,
                                       const size_t *lens, size_t n);
/* Declares a tensor (shape in PyTorch order, outermost first). */
mmx_status mmx_gguf_writer_add_tensor(mmx_gguf_writer *w, const char *name, mmx_type type, int n_dims,
                                      const uint64_t *shape);
/* After all declarations: writes header, kv, tensor infos. */
mmx_status mmx_gguf_writer_begin_data(mmx_gguf_writer *w);
/* Appends the data of the next declared tensor (exactly its byte size, may be given in pieces). */
mmx_status mmx_gguf_writer_write(mmx_gguf_writer *w, const void *data, size_t n_bytes);
/* Checks every tensor was written, flushes, fsyncs and renames into place. */
mmx_status mmx_gguf_writer_close(mmx_gguf_writer *w, mmx_error *err);
/* Abandons the file (removes the .tmp).  Also frees after a failed close. */
void mmx_gguf_writer_free(mmx_gguf_writer *w);
/* Error detail of the last failed writer call. */
const mmx_error *mmx_gguf_writer_error(const mmx_gguf_writer *w);

#endif
