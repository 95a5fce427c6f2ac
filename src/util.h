/*
 * util.h — internal helpers shared by every module: the two error channels (assertions for our
 * bugs, statuses + messages for bad input), float formats, type sizes, checked arithmetic, timing.
 */
#ifndef MMX_UTIL_H
#define MMX_UTIL_H

#include "mmx.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- channel 1: programmer errors ------------------------------------------------------------ */
_Noreturn void mmx_abort(const char *file, int line, const char *what);
#define MMX_ASSERT(cond)                                                                            \
    do {                                                                                            \
        if (!(cond)) mmx_abort(__FILE__, __LINE__, #cond);                                          \
    } while (0)

/* ---- channel 2: bad input -------------------------------------------------------------------- */
/* Sets err (if not NULL) to `status` and the formatted message; returns `status`. */
mmx_status mmx_fail(mmx_error *err, mmx_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes an existing error message with "context: " (e.g. the file name). Returns err->status. */
mmx_status mmx_error_prefix(mmx_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mmx_error_clear(mmx_error *err);

/* ---- checked size arithmetic (false on overflow) --------------------------------------------- */
static inline bool mmx_mul_ok(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }
static inline bool mmx_add_ok(size_t a, size_t b, size_t *out) { return !__builtin_add_overflow(a, b, out); }

/* ---- float formats --------------------------------------------------------------------------- */
static inline float mmx_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
/* Round to nearest even; NaN stays NaN. */
static inline uint16_t mmx_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}
float mmx_f16_to_f32(uint16_t h);
uint16_t mmx_f32_to_f16(float f);

/* ---- element types --------------------------------------------------------------------------- */
/* Elements per block (1 for float types) and bytes per block. */
size_t mmx_type_block_elems(mmx_type type);
size_t mmx_type_block_bytes(mmx_type type);
/* Bytes of a row of n elements; 0 if n is not a multiple of the block size or on overflow. */
size_t mmx_type_row_bytes(mmx_type type, size_t n);

/* ---- misc ------------------------------------------------------------------------------------ */
double mmx_time_s(void); /* monotonic seconds */
/* 64-byte aligned, zeroed allocation; NULL on failure or overflow. Free with mmx_free_aligned. */
void *mmx_alloc_aligned(size_t n_bytes);
void mmx_free_aligned(void *p);
/* Reads a whole (small) file into a NUL-terminated malloc'd buffer. */
mmx_status mmx_read_file(const char *path, char **out, size_t *out_len, mmx_error *err);

#endif
