/*
 * lightning.h — inner kernels of lightning attention for one head (SPEC §4.3, §4.4), with a
 * scalar reference, AVX-512 variants for head_dim in {16, 32, 64, 128} and AVX2 ones for multiples of 8.
 *
 * Layout: token i of the head has q_i = qkv + i*ld, k_i = q_i + d, v_i = q_i + 2d (the per-head
 * interleaved qkv rows of SPEC §4.1, after SiLU); the state S is [d, d] row-major with S[r][c]
 * accumulating k[r]*v[c]; outputs o_i = out + i*ld_out.
 */
#ifndef MMX_LIGHTNING_H
#define MMX_LIGHTNING_H

#include <stdbool.h>
#include <stddef.h>

/* One block of m tokens (SPEC §4.4):
 *   o_i  = sum_{j<=i} decay[i-j] (q_i.k_j) v_j + decay[i+1] q_i S
 *   S   <- decay[m] S + sum_j decay[m-1-j] k_j^T v_j
 * decay[n] = lambda^n for n = 0..m.  scores: scratch of m*m floats. */
typedef void (*mmx_la_block_fn)(const float *qkv, size_t ld, size_t m, size_t d, const float *decay, float *S,
                                float *out, size_t ld_out, float *scores);
/* One token (SPEC §4.3): S <- lambda S + k^T v;  o = q S. */
typedef void (*mmx_la_decode_fn)(const float *q, size_t d, float lambda, float *S, float *o);

void mmx_la_block_ref(const float *qkv, size_t ld, size_t m, size_t d, const float *decay, float *S, float *out,
                      size_t ld_out, float *scores);
void mmx_la_decode_ref(const float *q, size_t d, float lambda, float *S, float *o);
/* AVX-512 variants; return false (doing nothing) when d is not 16, 32, 64 or 128. */
bool mmx_la_block_avx512(const float *qkv, size_t ld, size_t m, size_t d, const float *decay, float *S, float *out,
                         size_t ld_out, float *scores);
bool mmx_la_decode_avx512(const float *q, size_t d, float lambda, float *S, float *o);

/* AVX2 variants; return false (doing nothing) unless d is a multiple of 8 up to 256. */
bool mmx_la_block_avx2(const float *qkv, size_t ld, size_t m, size_t d, const float *decay, float *S, float *out,
                       size_t ld_out, float *scores);
bool mmx_la_decode_avx2(const float *q, size_t d, float lambda, float *S, float *o);

/* Runs the best available variant (the reference when `reference`). */
void mmx_la_block(bool reference, const float *qkv, size_t ld, size_t m, size_t d, const float *decay, float *S,
                  float *out, size_t ld_out, float *scores);
void mmx_la_decode(bool reference, const float *q, size_t d, float lambda, float *S, float *o);

#endif
