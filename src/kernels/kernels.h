/*
 * kernels.h — inner loops with a scalar reference and per-ISA variants (kernels/NAME_avx2.c,
 * NAME_avx512.c, compiled with their own -m flags), chosen once at run time from the CPU features.
 * MMX_REFERENCE=1 in the environment (or mmx_model_params.force_reference) forces the references.
 */
#ifndef MMX_KERNELS_H
#define MMX_KERNELS_H

#include "mmx.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mmx_exec;
struct mmx_matrix;

typedef enum mmx_isa { MMX_ISA_SCALAR = 0, MMX_ISA_AVX2 = 1, MMX_ISA_AVX512 = 2 } mmx_isa;

/* Best ISA this CPU and build support (cached), lowered by env MMX_ISA=scalar|avx2|avx512. */
mmx_isa mmx_cpu_isa(void);
const char *mmx_isa_name(mmx_isa isa);
/* CPU feature string for diagnostics ("avx2 fma f16c avx512f avx512bf16 ..."). */
const char *mmx_cpu_features(void);
/* true when env MMX_REFERENCE is set to a non-empty value other than "0". */
bool mmx_env_force_reference(void);

/* float dot product of n elements */
typedef float (*mmx_dot_fn)(const float *a, const float *b, size_t n);
float mmx_dot_ref(const float *a, const float *b, size_t n);
float mmx_dot_avx2(const float *a, const float *b, size_t n);
float mmx_dot_avx512(const float *a, const float *b, size_t n);
mmx_dot_fn mmx_kernel_dot(bool reference);

/* y[i] += a * x[i] */
typedef void (*mmx_axpy_fn)(float a, const float *x, float *y, size_t n);
void mmx_axpy_ref(float a, const float *x, float *y, size_t n);
void mmx_axpy_avx512(float a, const float *x, float *y, size_t n);
mmx_axpy_fn mmx_kernel_axpy(bool reference);

/* Dequantize one row of n elements of `type` to fp32 (reference; exact for float types). */
void mmx_dequant_row(mmx_type type, const void *src, float *dst, size_t n);

/* Floats of per-thread scratch the fast matmul needs for matrices of up to max_cols columns and
 * inputs of up to n_batch rows (the sequence allocates max of this and the reference's needs). */
size_t mmx_kernel_scratch_floats(size_t max_cols, size_t n_batch);

/* Fast matmul for the types and shapes it handles; false = not handled (caller uses the reference). */
bool mmx_kernel_matmul(struct mmx_exec *ex, const struct mmx_matrix *W, const float *X, size_t T, size_t ldx,
                       float *Y, size_t ldy);

#endif
