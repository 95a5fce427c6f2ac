/*
 * quant.h — GGUF block-quantized formats: dequantisation (exact to the formats' definitions) and
 * reference quantisers.  Each block holds a fixed number of weights (32 or 256) and its scales.
 *
 *   Q8_0  (32 weights, 34 bytes)   offset 0: f16 d;  2: int8 q[32]                 w = d*q
 *   Q4_0  (32 weights, 18 bytes)   0: f16 d;  2: uint8 qs[16]    w[j] = d*((qs[j] & 15) - 8),
 *                                                                 w[j+16] = d*((qs[j] >> 4) - 8)
 *   Q4_K  (256 weights, 144 bytes) 0: f16 d; 2: f16 dmin; 4: uint8 scales[12] (8 x (6-bit scale,
 *                                  6-bit min)); 16: uint8 qs[128] (4-bit).  Sub-block s of 32:
 *                                  w = (d*sc_s)*q - dmin*m_s
 *   Q5_K  (256 weights, 176 bytes) like Q4_K plus 16: uint8 qh[32] (5th bits); 48: qs[128]
 *   Q6_K  (256 weights, 210 bytes) 0: uint8 ql[128] (low 4 bits); 128: uint8 qh[64] (high 2 bits);
 *                                  192: int8 scales[16] (one per 16 weights); 208: f16 d.
 *                                  w = (d*sc)*(q - 32)
 */
#ifndef MMX_QUANT_H
#define MMX_QUANT_H

#include "mmx.h"

#include <stddef.h>
#include <stdint.h>

/* Dequantizes one block of `type` (mmx_type_block_elems(type) values). */
void mmx_dequantize_block(mmx_type type, const void *block, float *out);
/* Dequantizes n values (a multiple of the block size) of any weight type, float types included. */
void mmx_dequantize_row(mmx_type type, const void *src, float *dst, size_t n);
/* Quantizes n values (a multiple of the block size) to `type` (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, or a
 * float type: rounded to nearest even). */
void mmx_quantize_row(mmx_type type, const float *src, void *dst, size_t n);

#endif
