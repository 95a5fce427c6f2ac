/* AVX2+FMA matmul (fp32 activations only; structure: matmul_impl.h, precision policy: kernels.h).
 * For CPUs without AVX-512: same panel geometry as the AVX-512 file (32 rows = four 8-lane vectors,
 * 6 tokens x 16 rows per microkernel call), weights expanded exactly to fp32. */
#include "matmul_impl.h"
#include "../quant.h"
#include "../util.h"
#include "simd_avx2.h"

#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>

#define MR2 6 /* tokens per AVX2 microkernel: 2 x 6 accumulators + 2 weights + 1 broadcast of the 16 ymm registers */

static inline float f16(const uint8_t *p) { return _cvtsh_ss((unsigned short)(p[0] | p[1] << 8)); }

static inline __m256 bf16x8(const void *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

void mmx_dequant_row_avx2(mmx_type type, const void *src, float *dst, size_t n) {
    const uint8_t *p = src;
    size_t i = 0;
    switch (type) {
    case MMX_TYPE_F32: memcpy(dst, src, n * 4); return;
    case MMX_TYPE_BF16:
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, bf16x8(p + 2 * i));
        break;
    case MMX_TYPE_F16:
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 2 * i))));
        break;
    case MMX_TYPE_Q8_0:
        for (size_t b = 0; b < n / 32; b++, p += 34) {
            const __m256 d = _mm256_set1_ps(f16(p));
            for (int k = 0; k < 4; k++)
                _mm256_storeu_ps(dst + 32 * b + 8 * k,
                                 _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p + 2 + 8 * k)))), d));
        }
        return;
    default: mmx_dequantize_row(type, src, dst, n); return;
    }
    if (i < n) mmx_dequantize_row(type, p + 2 * i, dst + i, n - i); /* float-type tail */
}


/* BF16 / F16 rows, T tokens (a compile-time constant, so the accumulators stay in registers):
 * each 8 weights widened in registers and four FMA chains per token, with a prefetch ahead.  Through
 * the buffer of the general loop below, BF16 decode ran at ~20% of the read bandwidth. */
static inline __attribute__((always_inline)) void gemv_half_rows_t(const mm_job *j, size_t r0, size_t r1, bool bf16, const size_t T) {
    const mmx_matrix *W = j->W;
    const size_t K = W->cols, K32 = K / 32 * 32;
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *p = (const uint8_t *)W->data + r * W->row_bytes;
        __m256 acc[MM_GEMV_MAX_T][4];
        for (size_t t = 0; t < T; t++) acc[t][0] = acc[t][1] = acc[t][2] = acc[t][3] = _mm256_setzero_ps();
#define HALF8(q) (bf16 ? bf16x8(q) : _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(q))))
        for (size_t i = 0; i < K32; i += 32) {
            _mm_prefetch((const char *)(p + 2 * i) + 4096, _MM_HINT_T0);
            const __m256 w0 = HALF8(p + 2 * i), w1 = HALF8(p + 2 * i + 16), w2 = HALF8(p + 2 * i + 32), w3 = HALF8(p + 2 * i + 48);
            for (size_t t = 0; t < T; t++) {
                const float *x = j->X + t * j->ldx + i;
                acc[t][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x), acc[t][0]);
                acc[t][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + 8), acc[t][1]);
                acc[t][2] = _mm256_fmadd_ps(w2, _mm256_loadu_ps(x + 16), acc[t][2]);
                acc[t][3] = _mm256_fmadd_ps(w3, _mm256_loadu_ps(x + 24), acc[t][3]);
            }
        }
#undef HALF8
        float tail[32];
        if (K32 < K) mmx_dequantize_row(W->type, p + 2 * K32, tail, K - K32);
        for (size_t t = 0; t < T; t++) {
            float y = hsum8(_mm256_add_ps(_mm256_add_ps(acc[t][0], acc[t][1]), _mm256_add_ps(acc[t][2], acc[t][3])));
            for (size_t c = K32; c < K; c++) y += tail[c - K32] * j->X[t * j->ldx + c];
            j->Y[t * j->ldy + r] = y;
        }
    }
}

/* ---- decode with int8 activations ------------------------------------------------------------------
 * Without VNNI the integer dot is vpmaddubsw (u8 x s8 -> pairs summed in s16) then vpmaddwd (pairs of
 * s16 -> s32).  Both are exact here: the unsigned operand is a weight level (Q4_K 0..15, Q5_K 0..31, Q6_K 0..63,
 * Q8_0 |w| <= 128 with the sign moved onto the activation by vpsignb), the signed one an activation
 * level |q| <= 127, so a pair is at most 2 * 128 * 127 < 2^15.  The second step multiplies by the
 * weight's integer sub-scale instead of 1 (Q4_K / Q5_K 0..63, Q6_K -128..127), so each 32-column step gives
 * 8 int32 lanes already carrying it; one conversion and one FMA by (superblock scale x activation
 * scale) take them to fp32.  Activations as in the PRECISION POLICY (kernels.h): per token per block
 * of 32 (16 for Q6_K) dX = amax/127, q = round(x/dX).  Layout per token (gv2_stride):
 *   q[K] int8 | Q8_0, Q4_K, Q5_K: dX[K/32], sX[K/32] = dX * sum q (the K-quants' minimum term)
 *             | Q6_K: dXl[K/4] (the dX of each int32 lane: columns 4l..4l+3), sX16[K/16] = dX * sum q
 *               (the -32 offset of the Q6_K level, as a float term per 16-block). */
static bool gv2_type(mmx_type t) {
    return t == MMX_TYPE_Q8_0 || t == MMX_TYPE_Q4_K || t == MMX_TYPE_Q5_K || t == MMX_TYPE_Q6_K;
}
static size_t gv2_stride(size_t K) { return mm_round_up(K, 32) + K / 4 * 4 + K / 16 * 4; }


/* The levels of B (16 or 32) values as int32 vectors r[B/8], with d and the level sum. */
static inline void q8_levels(const float *x, size_t B, __m256i *r, float *d_out, int *sum_out) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    __m256 mx = _mm256_and_ps(_mm256_loadu_ps(x), abs_mask);
    for (size_t k = 1; k < B / 8; k++) mx = _mm256_max_ps(mx, _mm256_and_ps(_mm256_loadu_ps(x + 8 * k), abs_mask));
    const float amax = hmax8(mx), d = amax / 127.0f, id = amax > 0 ? 127.0f / amax : 0.0f;
    __m256i sum = _mm256_setzero_si256();
    for (size_t k = 0; k < B / 8; k++) {
        r[k] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), _mm256_set1_ps(id)));
        sum = _mm256_add_epi32(sum, r[k]);
    }
    *d_out = d, *sum_out = hsum8i(sum);
}

/* 32 int32 levels (|v| <= 127) -> 32 int8 in order */
static inline void store_i8x32(int8_t *dst, const __m256i r[4]) {
    const __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(r[0], r[1]), _mm256_packs_epi32(r[2], r[3]));
    _mm256_storeu_si256((__m256i *)dst, _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

static void gv2_quant(mmx_type type, const float *x, size_t K, uint8_t *buf) {
    int8_t *q = (int8_t *)buf;
    float *f = (float *)(buf + mm_round_up(K, 32));
    for (size_t b = 0; b < K / 32; b++) {
        __m256i r[4];
        if (type == MMX_TYPE_Q6_K) {
            float *dXl = f, *sX16 = f + K / 4;
            for (int h = 0; h < 2; h++) {
                float d;
                int sum;
                q8_levels(x + 32 * b + 16 * (size_t)h, 16, r + 2 * h, &d, &sum);
                for (int l = 0; l < 4; l++) dXl[8 * b + 4 * (size_t)h + (size_t)l] = d;
                sX16[2 * b + (size_t)h] = d * (float)sum;
            }
        } else {
            float d;
            int sum;
            q8_levels(x + 32 * b, 32, r, &d, &sum);
            f[b] = d, f[K / 32 + b] = d * (float)sum;
        }
        store_i8x32(q + 32 * b, r);
    }
}

static inline __m256i dot_u8s8(__m256i u, __m256i s, __m256i scale16) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), scale16);
}

/* Q8_0 rows: per 32-block |w| and the sign of w moved onto the activations, one FMA per block. */
static inline __attribute__((always_inline)) void gv2_q8_0_t(const mm_job *j, size_t r0, size_t r1, const uint8_t *A,
                                                            size_t stride, const size_t T) {
    const mmx_matrix *W = j->W;
    const size_t K = W->cols, nb = K / 32;
    const __m256i ones = _mm256_set1_epi16(1);
    const int8_t *q[MM_GEMV_MAX_T];
    const float *dX[MM_GEMV_MAX_T];
    for (size_t t = 0; t < T; t++) q[t] = (const int8_t *)(A + t * stride), dX[t] = (const float *)(A + t * stride + mm_round_up(K, 32));
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *p = (const uint8_t *)W->data + r * W->row_bytes;
        __m256 acc[MM_GEMV_MAX_T];
        for (size_t t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
        for (size_t b = 0; b < nb; b++, p += 34) {
            _mm_prefetch((const char *)p + 4096, _MM_HINT_T0);
            const __m256i w = _mm256_loadu_si256((const __m256i *)(p + 2)), aw = _mm256_abs_epi8(w);
            const float dw = f16(p);
            for (size_t t = 0; t < T; t++) {
                const __m256i sx = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(q[t] + 32 * b)), w);
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_u8s8(aw, sx, ones)), _mm256_set1_ps(dw * dX[t][b]), acc[t]);
            }
        }
        for (size_t t = 0; t < T; t++) j->Y[t * j->ldy + r] = hsum8(acc[t]);
    }
}

/* Q4_K / Q5_K rows: per superblock the eight 6-bit scales and minimums unpacked in three 32-bit words
 * (get_scale_min_k4 of the format), sub-block 2i the low and 2i+1 the high nibbles of bytes 32i..
 * (Q5_K: with bit 2i resp. 2i+1 of qh[l] as the level's fifth bit); the minimum term
 * -dmin m_s dX_s sum q_s as one 8-wide FMA into the same accumulator. */
static inline __attribute__((always_inline)) void gv2_k45_t(const mm_job *j, size_t r0, size_t r1, const uint8_t *A,
                                                           size_t stride, const size_t T, const bool q5) {
    const mmx_matrix *W = j->W;
    const size_t K = W->cols, nsb = K / 256;
    const int8_t *q[MM_GEMV_MAX_T];
    const float *dX[MM_GEMV_MAX_T], *sX[MM_GEMV_MAX_T];
    for (size_t t = 0; t < T; t++) {
        q[t] = (const int8_t *)(A + t * stride);
        dX[t] = (const float *)(A + t * stride + mm_round_up(K, 32));
        sX[t] = dX[t] + K / 32;
    }
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *p = (const uint8_t *)W->data + r * W->row_bytes;
        __m256 acc[MM_GEMV_MAX_T];
        for (size_t t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
        for (size_t sb = 0; sb < nsb; sb++, p += q5 ? 176 : 144) {
            _mm_prefetch((const char *)p + 4096, _MM_HINT_T0);
            _mm_prefetch((const char *)p + 4096 + 64, _MM_HINT_T0);
            if (q5) _mm_prefetch((const char *)p + 4096 + 128, _MM_HINT_T0);
            const float d = f16(p), dmin = f16(p + 2);
            uint8_t sc[16];
            k4_scales_mins(p, sc);
            const __m256 mneg = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(sc + 8)))),
                                              _mm256_set1_ps(-dmin));
            for (size_t t = 0; t < T; t++) acc[t] = _mm256_fmadd_ps(mneg, _mm256_loadu_ps(sX[t] + 8 * sb), acc[t]);
            const uint8_t *qs = p + (q5 ? 48 : 16);
            const __m256i qh = q5 ? _mm256_loadu_si256((const __m256i *)(p + 16)) : _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++) {
                __m256i lo, hi;
                k45_levels(qs, qh, i, q5, &lo, &hi);
                const __m256i s_lo = _mm256_set1_epi16(sc[2 * i]), s_hi = _mm256_set1_epi16(sc[2 * i + 1]);
                const size_t c = 256 * sb + 64 * (size_t)i, b = 8 * sb + 2 * (size_t)i;
                for (size_t t = 0; t < T; t++) {
                    const __m256i x0 = _mm256_loadu_si256((const __m256i *)(q[t] + c));
                    const __m256i x1 = _mm256_loadu_si256((const __m256i *)(q[t] + c + 32));
                    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_u8s8(lo, x0, s_lo)), _mm256_set1_ps(d * dX[t][b]), acc[t]);
                    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_u8s8(hi, x1, s_hi)), _mm256_set1_ps(d * dX[t][b + 1]), acc[t]);
                }
            }
        }
        for (size_t t = 0; t < T; t++) j->Y[t * j->ldy + r] = hsum8(acc[t]);
    }
}

/* Q6_K rows: the unsigned 6-bit levels (q6_levels: q, not q - 32); each
 * 32-column step covers two 16-blocks, whose int8 scales enter vpmaddwd as [sc_a x 8 | sc_b x 8]
 * and whose activation scales are the lanes of dXl; the -32 offset is -32 d sum_i sc_i sX16_i. */
static inline __attribute__((always_inline)) void gv2_q6_k_t(const mm_job *j, size_t r0, size_t r1, const uint8_t *A,
                                                            size_t stride, const size_t T) {
    const mmx_matrix *W = j->W;
    const size_t K = W->cols, nsb = K / 256;
    const __m256i pair_ctl = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2,
                                              3, 2, 3, 2, 3);
    const int8_t *q[MM_GEMV_MAX_T];
    const float *dXl[MM_GEMV_MAX_T], *sX16[MM_GEMV_MAX_T];
    for (size_t t = 0; t < T; t++) {
        q[t] = (const int8_t *)(A + t * stride);
        dXl[t] = (const float *)(A + t * stride + mm_round_up(K, 32));
        sX16[t] = dXl[t] + K / 4;
    }
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *p = (const uint8_t *)W->data + r * W->row_bytes;
        __m256 acc[MM_GEMV_MAX_T];
        for (size_t t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
        for (size_t sb = 0; sb < nsb; sb++, p += 210) {
            _mm_prefetch((const char *)p + 4096, _MM_HINT_T0);
            _mm_prefetch((const char *)p + 4096 + 64, _MM_HINT_T0);
            _mm_prefetch((const char *)p + 4096 + 128, _MM_HINT_T0);
            const float d = f16(p + 208);
            const __m128i sc8 = _mm_loadu_si128((const __m128i *)(p + 192));
            const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
            const __m256 dv = _mm256_set1_ps(d), off = _mm256_set1_ps(-32.0f * d);
            const __m256 o0 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc8)), off);
            const __m256 o1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(sc8, 8))), off);
            for (size_t t = 0; t < T; t++) {
                acc[t] = _mm256_fmadd_ps(o0, _mm256_loadu_ps(sX16[t] + 16 * sb), acc[t]);
                acc[t] = _mm256_fmadd_ps(o1, _mm256_loadu_ps(sX16[t] + 16 * sb + 8), acc[t]);
            }
#pragma GCC unroll 2
            for (int n = 0; n < 2; n++) {
                __m256i lv[4];
                q6_levels(p, n, lv);
#pragma GCC unroll 4
                for (int k = 0; k < 4; k++) {
                    const int g = 4 * n + k;
                    const __m256i scv = _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(sc16, _mm256_set1_epi32(g)), pair_ctl);
                    const size_t c = 256 * sb + 32 * (size_t)g;
                    for (size_t t = 0; t < T; t++) {
                        const __m256i x = _mm256_loadu_si256((const __m256i *)(q[t] + c));
                        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_u8s8(lv[k], x, scv)),
                                                 _mm256_mul_ps(_mm256_loadu_ps(dXl[t] + c / 4), dv), acc[t]);
                    }
                }
            }
        }
        for (size_t t = 0; t < T; t++) j->Y[t * j->ldy + r] = hsum8(acc[t]);
    }
}

static inline __attribute__((always_inline)) void gv2_q4_k_t(const mm_job *j, size_t r0, size_t r1, const uint8_t *A,
                                                            size_t stride, const size_t T) {
    gv2_k45_t(j, r0, r1, A, stride, T, false);
}
static inline __attribute__((always_inline)) void gv2_q5_k_t(const mm_job *j, size_t r0, size_t r1, const uint8_t *A,
                                                            size_t stride, const size_t T) {
    gv2_k45_t(j, r0, r1, A, stride, T, true);
}

#define GV2_BY_T(NAME)                                                                              \
    switch (T) {                                                                                    \
    case 1: NAME(j, r0, r1, A, stride, 1); return;                                                  \
    case 2: NAME(j, r0, r1, A, stride, 2); return;                                                  \
    case 3: NAME(j, r0, r1, A, stride, 3); return;                                                  \
    default: NAME(j, r0, r1, A, stride, 4); return;                                                 \
    }

bool mmx_mm_gemv_q8_avx2_handles(mmx_type type) { return gv2_type(type); }

void mmx_mm_gemv_prepare_avx2(const mm_job *j, void *scratch) {
    if (j->act != MMX_ACT_Q8) return;
    const size_t K = j->W->cols, stride = gv2_stride(K);
    for (size_t t = 0; t < j->T; t++) gv2_quant(j->W->type, j->X + t * j->ldx, K, (uint8_t *)scratch + t * stride);
}

static void gemv_f32_act(const mm_job *j, size_t r0, size_t r1);

void mmx_mm_gemv_rows_avx2(const mm_job *j, size_t r0, size_t r1, void *scratch) {
    if (j->act != MMX_ACT_Q8) {
        gemv_f32_act(j, r0, r1);
        return;
    }
    MMX_ASSERT(gv2_type(j->W->type));
    const uint8_t *A = scratch;
    const size_t T = j->T, stride = gv2_stride(j->W->cols);
    switch (j->W->type) {
    case MMX_TYPE_Q8_0: GV2_BY_T(gv2_q8_0_t)
    case MMX_TYPE_Q4_K: GV2_BY_T(gv2_q4_k_t)
    case MMX_TYPE_Q5_K: GV2_BY_T(gv2_q5_k_t)
    default: GV2_BY_T(gv2_q6_k_t)
    }
}
#undef GV2_BY_T

void mmx_mm_gemv_avx2(const mm_job *j, size_t r0, size_t r1, void *scratch) {
    mmx_mm_gemv_prepare_avx2(j, scratch);
    mmx_mm_gemv_rows_avx2(j, r0, r1, scratch);
}

/* Decode with fp32 activations: BF16 / F16 rows widened in registers, other types expanded 256
 * columns at a time into a small buffer, dotted with all T tokens. */
static void gemv_f32_act(const mm_job *j, size_t r0, size_t r1) {
    const mmx_matrix *W = j->W;
    const size_t K = W->cols, T = j->T;
    if (W->type == MMX_TYPE_BF16 || W->type == MMX_TYPE_F16) {
        /* the type and the token count as compile-time constants of each instance */
#define GEMV_HALF_BY_T(BF16)                                                                        \
        switch (T) {                                                                                \
        case 1: gemv_half_rows_t(j, r0, r1, BF16, 1); return;                                       \
        case 2: gemv_half_rows_t(j, r0, r1, BF16, 2); return;                                       \
        case 3: gemv_half_rows_t(j, r0, r1, BF16, 3); return;                                       \
        default: gemv_half_rows_t(j, r0, r1, BF16, 4); return;                                      \
        }
        if (W->type == MMX_TYPE_BF16) GEMV_HALF_BY_T(true)
        else GEMV_HALF_BY_T(false)
#undef GEMV_HALF_BY_T
    }
    const size_t be = mmx_type_block_elems(W->type), bb = mmx_type_block_bytes(W->type);
    float buf[256];
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)W->data + r * W->row_bytes;
        __m256 acc[MM_GEMV_MAX_T][2];
        for (size_t t = 0; t < T; t++) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
        float tail[MM_GEMV_MAX_T] = {0};
        for (size_t c0 = 0; c0 < K; c0 += 256) {
            const size_t n = K - c0 < 256 ? K - c0 : 256;
            const float *w = buf;
            if (W->type == MMX_TYPE_F32) w = (const float *)row + c0;
            else mmx_dequant_row_avx2(W->type, row + c0 / be * bb, buf, n);
            size_t c = 0;
            for (; c + 16 <= n; c += 16) {
                const __m256 w0 = _mm256_loadu_ps(w + c), w1 = _mm256_loadu_ps(w + c + 8);
                for (size_t t = 0; t < T; t++) {
                    const float *x = j->X + t * j->ldx + c0 + c;
                    acc[t][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x), acc[t][0]);
                    acc[t][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + 8), acc[t][1]);
                }
            }
            for (; c < n; c++)
                for (size_t t = 0; t < T; t++) tail[t] += w[c] * j->X[t * j->ldx + c0 + c];
        }
        for (size_t t = 0; t < T; t++) j->Y[t * j->ldy + r] = hsum8(_mm256_add_ps(acc[t][0], acc[t][1])) + tail[t];
    }
}


/* panel[c][32] = W[r0 + i][k0 + c] as fp32 (rows >= nr zero).  Eight rows at a time: 8 columns of
 * each (widened from BF16 / F16 / F32 in registers, or from a block type's rows expanded into tmp)
 * transposed in registers and stored as 8 panel columns; a one-value-per-store scatter was ~13% of a
 * BF16 prefill. */
static void pack_w(const mmx_matrix *W, size_t r0, size_t nr, size_t k0, size_t kc, float *panel, float *tmp) {
    const size_t be = mmx_type_block_elems(W->type), bb = mmx_type_block_bytes(W->type);
    const bool half = W->type == MMX_TYPE_BF16 || W->type == MMX_TYPE_F16;
    for (size_t i0 = 0; i0 < MM_NR; i0 += 8) {
        const uint8_t *rp[8];
        const float *rf[8];
        for (size_t i = 0; i < 8; i++) {
            const size_t ri = i0 + i < nr ? i0 + i : 0; /* rows past nr: any row, zeroed below */
            rp[i] = (const uint8_t *)W->data + (r0 + ri) * W->row_bytes + k0 / be * bb;
            rf[i] = (const float *)rp[i];
            if (!half && W->type != MMX_TYPE_F32 && i0 + i < nr) {
                mmx_dequant_row_avx2(W->type, rp[i], tmp + i * kc, kc);
                rf[i] = tmp + i * kc;
            }
        }
        size_t c = 0;
        for (; c + 8 <= kc; c += 8) {
            __m256 v[8];
            for (size_t i = 0; i < 8; i++) {
                if (i0 + i >= nr) v[i] = _mm256_setzero_ps();
                else if (W->type == MMX_TYPE_BF16) v[i] = bf16x8(rp[i] + 2 * c);
                else if (W->type == MMX_TYPE_F16) v[i] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(rp[i] + 2 * c)));
                else v[i] = _mm256_loadu_ps(rf[i] + c);
            }
            tr8(v);
            for (size_t k = 0; k < 8; k++) _mm256_store_ps(panel + (c + k) * MM_NR + i0, v[k]);
        }
        for (; c < kc; c++) /* a float type's last < 8 columns */
            for (size_t i = 0; i < 8; i++) {
                float w = 0;
                if (i0 + i < nr) {
                    if (half) mmx_dequantize_row(W->type, rp[i] + 2 * c, &w, 1);
                    else w = rf[i][c];
                }
                panel[c * MM_NR + i0 + i] = w;
            }
    }
}

static void pack_x(const float *X, size_t ldx, size_t n, size_t K, float *xp) {
    for (size_t t0 = 0; t0 < n; t0 += MR2) {
        const size_t m = n - t0 < MR2 ? n - t0 : MR2;
        for (size_t i = 0; i < m; i++)
            for (size_t k = 0; k < K; k++) xp[t0 * K + k * MR2 + i] = X[(t0 + i) * ldx + k];
    }
}

/* One 16-row half of a panel (rows h0.. of the 32, nr of them valid) times M <= 6 tokens: 12
 * accumulators, two weight vectors and one broadcast of the 16 ymm registers (the 6 x 16 shape of
 * the classic Haswell SGEMM kernels).  M a compile-time constant at each instance, so the loops
 * unroll and every accumulator stays in a register. */
static inline __attribute__((always_inline)) void uk(const float *pw, const float *xp, size_t kc, const int M, float *Y,
                                                     size_t ldy, size_t nr, bool add) {
    __m256 a0[MR2], a1[MR2];
#pragma GCC unroll 6
    for (int i = 0; i < M; i++) a0[i] = a1[i] = _mm256_setzero_ps();
    for (size_t k = 0; k < kc; k++, pw += MM_NR, xp += MR2) {
        const __m256 w0 = _mm256_load_ps(pw), w1 = _mm256_load_ps(pw + 8);
#pragma GCC unroll 6
        for (int i = 0; i < M; i++) {
            const __m256 x = _mm256_broadcast_ss(xp + i);
            a0[i] = _mm256_fmadd_ps(w0, x, a0[i]);
            a1[i] = _mm256_fmadd_ps(w1, x, a1[i]);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < M; i++) {
        float *y = Y + (size_t)i * ldy;
        if (nr >= 16) {
            __m256 r0 = a0[i], r1 = a1[i];
            if (add) r0 = _mm256_add_ps(r0, _mm256_loadu_ps(y)), r1 = _mm256_add_ps(r1, _mm256_loadu_ps(y + 8));
            _mm256_storeu_ps(y, r0);
            _mm256_storeu_ps(y + 8, r1);
        } else {
            float tmp[16];
            _mm256_storeu_ps(tmp, a0[i]);
            _mm256_storeu_ps(tmp + 8, a1[i]);
            for (size_t r = 0; r < nr; r++) y[r] = add ? y[r] + tmp[r] : tmp[r];
        }
    }
}
#define UK_M(M)                                                                                     \
    static void uk##M(const float *pw, const float *xp, size_t kc, float *Y, size_t ldy, size_t nr, bool add) { \
        uk(pw, xp, kc, M, Y, ldy, nr, add);                                                         \
    }
UK_M(1) UK_M(2) UK_M(3) UK_M(4) UK_M(5) UK_M(6)
#undef UK_M

/* ---- prefill with int8 activations ----------------------------------------------------------------
 * The products of the decode path above (vpmaddubsw: unsigned weight level x signed activation level)
 * as a blocked GEMM.  Weights: a panel of 32 rows per slice of columns, levels L[kc/4][32][4] (each
 * dword 4 consecutive columns of one row, so an 8-lane int32 vector is 8 rows; Q8_0 signed, the
 * others unsigned: Q4_0 0..15, Q4_K 0..15, Q5_K 0..31, Q6_K 0..63), then dW[b][32] and mW[b][32] per
 * block b of B columns (B = 32, 16 for Q6_K: w = dW * (L - off) + mW, off = 8 for Q4_0 and 32 for
 * Q6_K).  Activations: per token and block dX = amax/127 and q = round(x / dX) (PRECISION POLICY),
 * 6 tokens interleaved per 4-column dword: xq[K/4][6], then dX[nb][6], then sq[nb][6] = sum q (int32;
 * the K-quants' minimum term is mW dX sum q, the offset types' integer sums start at -off * sum q).
 * The layout is the same for every type of a block length, since the grouped prefill path packs the
 * activations once for products of different types (a type-dependent slot here gave Q4_K products
 * packed for a Q8_0 one a zero minimum term).  The microkernel (8 rows x up to 6 tokens) sums G16
 * vpmaddubsw results in int16 before widening (as many as the largest pair sum 2 * 127 * max level
 * allows below 2^15: Q4_0 / Q4_K 8, Q5_K 4, Q6_K 2, Q8_0 1), then per block converts once:
 * y += dW dX isum (+ mW dX sum q). */
#define Q8R 6 /* tokens per packed activation block (MM_MR_Q8) */


/* n tokens of K columns into the layout above (blocks of Q8R tokens, the last one padded with zeros) */
static void quant_x_q8(const mm_job *j, size_t t0, size_t n, uint8_t *xp) {
    const mmx_type type = j->W->type;
    const size_t K = j->W->cols, B = mmx_mm_q8_block(type), nb = K / B;
    for (size_t tb = 0; tb < n; tb += Q8R) {
        uint8_t *base = xp + tb * (K + nb * 8);
        uint32_t *xq = (uint32_t *)base;
        float *dX = (float *)(base + Q8R * K);
        int32_t *sq = (int32_t *)(dX + Q8R * nb);
        for (size_t i = 0; i < Q8R; i++) {
            if (tb + i >= n) {
                for (size_t g = 0; g < K / 4; g++) xq[g * Q8R + i] = 0;
                for (size_t b = 0; b < nb; b++) dX[b * Q8R + i] = 0, sq[b * Q8R + i] = 0;
                continue;
            }
            const float *x = j->X + (t0 + tb + i) * j->ldx;
            for (size_t c = 0; c < K / 32; c++) {
                __m256i r[4];
                for (size_t h = 0; h < 32 / B; h++) {
                    float d;
                    int sum;
                    q8_levels(x + 32 * c + B * h, B, r + h * (B / 8), &d, &sum);
                    const size_t b = c * (32 / B) + h;
                    dX[b * Q8R + i] = d, sq[b * Q8R + i] = sum;
                }
                uint32_t w[8];
                store_i8x32((int8_t *)w, r);
                for (size_t g = 0; g < 8; g++) xq[(c * 8 + g) * Q8R + i] = w[g];
            }
        }
    }
}

/* Levels (as stored in the panel) of one row's columns [k0, k0 + kc) into L[kc], dW and mW per block. */
static void row_levels_avx2(mmx_type type, const uint8_t *p, size_t kc, int8_t *L, float *dW, float *mW) {
    const __m256i m4 = _mm256_set1_epi8(15);
    switch (type) {
    case MMX_TYPE_Q8_0:
        for (size_t b = 0; b < kc / 32; b++, p += 34) {
            _mm256_storeu_si256((__m256i *)(L + 32 * b), _mm256_loadu_si256((const __m256i *)(p + 2)));
            dW[b] = f16(p), mW[b] = 0;
        }
        return;
    case MMX_TYPE_Q4_0:
        for (size_t b = 0; b < kc / 32; b++, p += 18) {
            const __m128i qs = _mm_loadu_si128((const __m128i *)(p + 2));
            _mm256_storeu_si256((__m256i *)(L + 32 * b), _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(qs, 4), qs), m4));
            dW[b] = f16(p), mW[b] = 0;
        }
        return;
    case MMX_TYPE_Q4_K:
    case MMX_TYPE_Q5_K: {
        const bool q5 = type == MMX_TYPE_Q5_K;
        for (size_t blk = 0; blk < kc / 256; blk++, p += q5 ? 176 : 144) {
            const float d = f16(p), dmin = f16(p + 2);
            uint8_t sc[16];
            k4_scales_mins(p, sc);
            const uint8_t *qs = p + (q5 ? 48 : 16);
            const __m256i qh = q5 ? _mm256_loadu_si256((const __m256i *)(p + 16)) : _mm256_setzero_si256();
            for (int i = 0; i < 4; i++) {
                __m256i lo, hi;
                k45_levels(qs, qh, i, q5, &lo, &hi);
                const size_t s = blk * 8 + 2 * (size_t)i;
                _mm256_storeu_si256((__m256i *)(L + 32 * s), lo);
                _mm256_storeu_si256((__m256i *)(L + 32 * s + 32), hi);
                dW[s] = d * sc[2 * i], mW[s] = -(dmin * sc[8 + 2 * i]);
                dW[s + 1] = d * sc[2 * i + 1], mW[s + 1] = -(dmin * sc[8 + 2 * i + 1]);
            }
        }
        return;
    }
    case MMX_TYPE_Q6_K:
        for (size_t blk = 0; blk < kc / 256; blk++, p += 210) {
            const float d = f16(p + 208);
            const int8_t *sc = (const int8_t *)(p + 192);
            for (int n = 0; n < 2; n++) {
                __m256i q[4];
                q6_levels(p, n, q);
                for (int k = 0; k < 4; k++) {
                    const size_t e = 256 * blk + 128 * (size_t)n + 32 * (size_t)k, s = e / 16;
                    _mm256_storeu_si256((__m256i *)(L + e), q[k]);
                    dW[s] = d * sc[s % 16], dW[s + 1] = d * sc[s % 16 + 1];
                    mW[s] = mW[s + 1] = 0;
                }
            }
        }
        return;
    default: MMX_ASSERT(!"row_levels_avx2: not a block-quantized type");
    }
}

typedef struct {
    int8_t *L;  /* [kc/4][32][4] */
    float *dW;  /* [kc/B][32] */
    float *mW;  /* [kc/B][32] */
} q8_panel;

/* Panel of rows r0.. (nr valid) at columns [k0, k0 + kc): eight rows' levels into tL, then each 32
 * columns of them transposed as 8 x 8 dwords into the panel. */
static void pack_w_q8(const mmx_matrix *W, size_t r0, size_t nr, size_t k0, size_t kc, const q8_panel *P, int8_t *tL,
                      float *tdw, float *tmw) {
    const size_t B = mmx_mm_q8_block(W->type), nb = kc / B;
    const size_t be = mmx_type_block_elems(W->type), bb = mmx_type_block_bytes(W->type);
    for (size_t v = 0; v < MM_NR / 8; v++) {
        for (size_t i = 0; i < 8; i++) {
            const size_t ri = 8 * v + i;
            if (ri < nr) {
                row_levels_avx2(W->type, (const uint8_t *)W->data + (r0 + ri) * W->row_bytes + k0 / be * bb, kc, tL + i * kc,
                                tdw + i * nb, tmw + i * nb);
            } else {
                memset(tL + i * kc, 0, kc);
                for (size_t b = 0; b < nb; b++) tdw[i * nb + b] = tmw[i * nb + b] = 0;
            }
            for (size_t b = 0; b < nb; b++) P->dW[b * MM_NR + ri] = tdw[i * nb + b], P->mW[b * MM_NR + ri] = tmw[i * nb + b];
        }
        for (size_t c0 = 0; c0 < kc; c0 += 32) {
            __m256 x[8];
            for (size_t i = 0; i < 8; i++) x[i] = _mm256_loadu_ps((const float *)(tL + i * kc + c0));
            tr8(x);
            for (size_t k = 0; k < 8; k++) _mm256_store_ps((float *)(P->L + ((c0 / 4 + k) * MM_NR + 8 * v) * 4), x[k]);
        }
    }
}

/* 8 rows (L, dW, mW at the row vector's offset in the panel) x M tokens (xq, dX, sq at the token's
 * offset in its block of Q8R) over nb blocks of GB dword groups.  OFF: the level offset (the integer
 * sums start at -OFF sum q); MIN: add the minimum term mW dX sum q; SIGNED: Q8_0 (sign moved onto x).  Registers:
 * M fp32 accumulators plus M int16 ones, plus M int32 ones only when a block takes more than one
 * widening (1 < G16 < GB: Q5_K, Q6_K), so M <= 6 for the others and M <= 3 for those two. */
static inline __attribute__((always_inline)) void uk_q8(const int8_t *L, const float *dW, const float *mW, size_t nb,
                                                        const uint32_t *xq, const float *dX, const int32_t *sq,
                                                        const int M, const int GB, const int G16, const int OFF,
                                                        const bool MIN, const bool SIGNED, float *Y, size_t ldy,
                                                        size_t nrv, bool add) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 f[Q8R];
#pragma GCC unroll 6
    for (int i = 0; i < M; i++) f[i] = _mm256_setzero_ps();
    for (size_t b = 0; b < nb; b++) {
        __m256i s32[Q8R];
        int32_t c[Q8R] = {0};
        if (OFF)
            for (int i = 0; i < M; i++) c[i] = -OFF * sq[b * Q8R + (size_t)i];
        if (G16 < GB) {
#pragma GCC unroll 6
            for (int i = 0; i < M; i++) s32[i] = _mm256_set1_epi32(c[i]);
        }
        /* not unrolled further: a fully unrolled block let the scheduler hoist every product ahead of
         * its add, spilling them all to the stack */
#pragma GCC unroll 1
        for (int g0 = 0; g0 < GB; g0 += G16) {
            __m256i s16[Q8R];
#pragma GCC unroll 2
            for (int g = g0; g < g0 + G16; g++) {
                const size_t gi = b * (size_t)GB + (size_t)g;
                const __m256i w = _mm256_load_si256((const __m256i *)(L + gi * MM_NR * 4));
                const __m256i u = SIGNED ? _mm256_abs_epi8(w) : w;
#pragma GCC unroll 6
                for (int i = 0; i < M; i++) {
                    __m256i x = _mm256_set1_epi32((int)xq[gi * Q8R + (size_t)i]);
                    if (SIGNED) x = _mm256_sign_epi8(x, w);
                    s16[i] = _mm256_add_epi16(g == g0 ? _mm256_setzero_si256() : s16[i], _mm256_maddubs_epi16(u, x));
                }
            }
#pragma GCC unroll 6
            for (int i = 0; i < M; i++) {
                const __m256i t = _mm256_madd_epi16(s16[i], ones);
                if (G16 < GB) s32[i] = _mm256_add_epi32(s32[i], t);
                else s32[i] = OFF ? _mm256_add_epi32(t, _mm256_set1_epi32(c[i])) : t;
            }
        }
        const __m256 dw = _mm256_load_ps(dW + b * MM_NR);
#pragma GCC unroll 6
        for (int i = 0; i < M; i++)
            f[i] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(s32[i]), dw), _mm256_broadcast_ss(dX + b * Q8R + (size_t)i), f[i]);
        if (MIN) {
            const __m256 mw = _mm256_load_ps(mW + b * MM_NR);
#pragma GCC unroll 6
            for (int i = 0; i < M; i++) /* dX * sum q as quant_x_q8 of the AVX-512 file computes it */
                f[i] = _mm256_fmadd_ps(mw, _mm256_set1_ps(dX[b * Q8R + (size_t)i] * (float)sq[b * Q8R + (size_t)i]), f[i]);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < M; i++) {
        float *y = Y + (size_t)i * ldy;
        if (nrv >= 8) {
            _mm256_storeu_ps(y, add ? _mm256_add_ps(f[i], _mm256_loadu_ps(y)) : f[i]);
        } else {
            float tmp[8];
            _mm256_storeu_ps(tmp, f[i]);
            for (size_t r = 0; r < nrv; r++) y[r] = add ? y[r] + tmp[r] : tmp[r];
        }
    }
}

typedef void (*uk_q8_fn)(const int8_t *L, const float *dW, const float *mW, size_t nb, const uint32_t *xq, const float *dX,
                         const int32_t *sq, float *Y, size_t ldy, size_t nrv, bool add);
#define UK_Q8_M(NAME, M, GB, G16, OFF, MIN, SIGNED)                                                 \
    static void NAME##_##M(const int8_t *L, const float *dW, const float *mW, size_t nb, const uint32_t *xq, \
                           const float *dX, const int32_t *sq, float *Y, size_t ldy, size_t nrv, bool add) { \
        uk_q8(L, dW, mW, nb, xq, dX, sq, M, GB, G16, OFF, MIN, SIGNED, Y, ldy, nrv, add);           \
    }
#define UK_Q8_SIX(NAME, GB, G16, OFF, MIN, SIGNED)                                                  \
    UK_Q8_M(NAME, 1, GB, G16, OFF, MIN, SIGNED) UK_Q8_M(NAME, 2, GB, G16, OFF, MIN, SIGNED)         \
    UK_Q8_M(NAME, 3, GB, G16, OFF, MIN, SIGNED) UK_Q8_M(NAME, 4, GB, G16, OFF, MIN, SIGNED)         \
    UK_Q8_M(NAME, 5, GB, G16, OFF, MIN, SIGNED) UK_Q8_M(NAME, 6, GB, G16, OFF, MIN, SIGNED)
#define UK_Q8_THREE(NAME, GB, G16, OFF, MIN, SIGNED)                                                \
    UK_Q8_M(NAME, 1, GB, G16, OFF, MIN, SIGNED) UK_Q8_M(NAME, 2, GB, G16, OFF, MIN, SIGNED)         \
    UK_Q8_M(NAME, 3, GB, G16, OFF, MIN, SIGNED)
UK_Q8_SIX(uk_q8_0, 8, 1, 0, false, true)
UK_Q8_SIX(uk_q4_0, 8, 8, 8, false, false)
UK_Q8_SIX(uk_q4_k, 8, 8, 0, true, false)
UK_Q8_THREE(uk_q5_k, 8, 4, 0, true, false)
UK_Q8_THREE(uk_q6_k, 4, 2, 32, false, false)
#undef UK_Q8_THREE
#undef UK_Q8_SIX
#undef UK_Q8_M

static void gemm_q8(const mm_job *j, size_t r0, size_t r1, void *scratch) {
    const mmx_matrix *W = j->W;
    const size_t K = W->cols, KC = mmx_mm_kc(K), chunk = j->xpacked ? j->T : mmx_mm_token_chunk(j), B = mmx_mm_q8_block(W->type);
    const uk_q8_fn *tab;
    static const uk_q8_fn t_q8_0[7] = {NULL, uk_q8_0_1, uk_q8_0_2, uk_q8_0_3, uk_q8_0_4, uk_q8_0_5, uk_q8_0_6};
    static const uk_q8_fn t_q4_0[7] = {NULL, uk_q4_0_1, uk_q4_0_2, uk_q4_0_3, uk_q4_0_4, uk_q4_0_5, uk_q4_0_6};
    static const uk_q8_fn t_q4_k[7] = {NULL, uk_q4_k_1, uk_q4_k_2, uk_q4_k_3, uk_q4_k_4, uk_q4_k_5, uk_q4_k_6};
    static const uk_q8_fn t_q5_k[4] = {NULL, uk_q5_k_1, uk_q5_k_2, uk_q5_k_3};
    static const uk_q8_fn t_q6_k[4] = {NULL, uk_q6_k_1, uk_q6_k_2, uk_q6_k_3};
    size_t mmax = 6; /* tokens per microkernel call (uk_q8) */
    switch (W->type) {
    case MMX_TYPE_Q8_0: tab = t_q8_0; break;
    case MMX_TYPE_Q4_0: tab = t_q4_0; break;
    case MMX_TYPE_Q4_K: tab = t_q4_k; break;
    case MMX_TYPE_Q5_K: tab = t_q5_k, mmax = 3; break;
    default: tab = t_q6_k, mmax = 3; break;
    }
    /* scratch: panel L | dW | mW | eight rows' levels and scales | packed activations (matmul.c sizes it) */
    uint8_t *s = scratch;
    const q8_panel P = {(int8_t *)s, (float *)(s + MM_NR * KC), (float *)(s + MM_NR * KC) + MM_NR * (KC / 16)};
    int8_t *tL = (int8_t *)(P.mW + MM_NR * (KC / 16));
    float *tdw = (float *)(tL + 8 * KC), *tmw = tdw + 8 * (KC / 16);
    uint8_t *xp = j->xpacked ? (uint8_t *)j->xpacked : s + mmx_mm_panel_bytes(MMX_ACT_Q8, KC);
    const size_t nbK = K / B;
    for (size_t t0 = 0; t0 < j->T; t0 += chunk) {
        const size_t n = j->T - t0 < chunk ? j->T - t0 : chunk;
        if (!j->xpacked) quant_x_q8(j, t0, n, xp);
        for (size_t p = r0; p < r1; p += MM_NR) {
            const size_t nr = r1 - p < MM_NR ? r1 - p : MM_NR;
            for (size_t k0 = 0; k0 < K; k0 += KC) {
                const size_t kc = K - k0 < KC ? K - k0 : KC, nb = kc / B;
                const size_t nx_p = k0 + kc < K ? p : p + MM_NR, nx_k0 = k0 + kc < K ? k0 + kc : 0; /* packed next */
                const size_t nx_kc = K - nx_k0 < KC ? K - nx_k0 : KC;
                pack_w_q8(W, p, nr, k0, kc, &P, tL, tdw, tmw);
                for (size_t tb = 0; tb < n; tb += Q8R) {
                    mm_prefetch_panel_slice(W, nx_p, W->rows, nx_k0, nx_kc, tb / Q8R, (n + Q8R - 1) / Q8R);
                    const uint8_t *base = xp + tb * (K + nbK * 8);
                    const uint32_t *xq = (const uint32_t *)base + k0 / 4 * Q8R;
                    const float *dX = (const float *)(base + Q8R * K) + k0 / B * Q8R;
                    const int32_t *sq = (const int32_t *)(dX + Q8R * nbK);
                    const size_t m = n - tb < Q8R ? n - tb : Q8R;
                    for (size_t v = 0; v < MM_NR / 8 && 8 * v < nr; v++)
                        for (size_t i0 = 0; i0 < m; i0 += mmax) {
                            const size_t mi = m - i0 < mmax ? m - i0 : mmax;
                            tab[mi](P.L + 8 * v * 4, P.dW + 8 * v, P.mW + 8 * v, nb, xq + i0, dX + i0, sq + i0,
                                    j->Y + (t0 + tb + i0) * j->ldy + p + 8 * v, j->ldy, nr - 8 * v, k0 > 0);
                        }
                }
            }
        }
    }
}

void mmx_mm_pack_x_avx2(const mm_job *j, size_t tb0, size_t tb1, void *xp) {
    const size_t K = j->W->cols, MR = mmx_mm_mr(j->act);
    const size_t t0 = tb0 * MR, t1 = tb1 * MR < j->T ? tb1 * MR : j->T;
    if (t0 >= t1) return;
    /* MR (12 or 6) is a multiple of the blocks the packers lay out (MR2, Q8R) */
    if (j->act == MMX_ACT_Q8) {
        const size_t nb = K / mmx_mm_q8_block(j->W->type);
        quant_x_q8(j, t0, t1 - t0, (uint8_t *)xp + t0 * (K + nb * 8));
    } else {
        pack_x(j->X + t0 * j->ldx, j->ldx, t1 - t0, K, (float *)xp + t0 * K);
    }
}

void mmx_mm_gemm_avx2(const mm_job *j, size_t r0, size_t r1, void *scratch) {
    if (j->act == MMX_ACT_Q8) {
        gemm_q8(j, r0, r1, scratch);
        return;
    }
    const mmx_matrix *W = j->W;
    const size_t K = W->cols, KC = mmx_mm_kc(K), chunk = j->xpacked ? j->T : mmx_mm_token_chunk(j);
    float *panel = scratch, *tmp = panel + MM_NR * KC;
    float *xp = j->xpacked ? (float *)j->xpacked : (float *)((uint8_t *)scratch + mmx_mm_panel_bytes(MMX_ACT_F32, KC));
    void (*const tab[MR2 + 1])(const float *, const float *, size_t, float *, size_t, size_t, bool) = {NULL, uk1, uk2, uk3,
                                                                                             uk4, uk5, uk6};
    for (size_t t0 = 0; t0 < j->T; t0 += chunk) {
        const size_t n = j->T - t0 < chunk ? j->T - t0 : chunk;
        if (!j->xpacked) pack_x(j->X + t0 * j->ldx, j->ldx, n, K, xp);
        for (size_t p = r0; p < r1; p += MM_NR) {
            const size_t nr = r1 - p < MM_NR ? r1 - p : MM_NR;
            for (size_t k0 = 0; k0 < K; k0 += KC) {
                const size_t kc = K - k0 < KC ? K - k0 : KC;
                const size_t nx_p = k0 + kc < K ? p : p + MM_NR, nx_k0 = k0 + kc < K ? k0 + kc : 0; /* packed next */
                const size_t nx_kc = K - nx_k0 < KC ? K - nx_k0 : KC;
                pack_w(W, p, nr, k0, kc, panel, tmp);
                for (size_t tb = 0; tb < n; tb += MR2) {
                    mm_prefetch_panel_slice(W, nx_p, W->rows, nx_k0, nx_kc, tb / MR2, (n + MR2 - 1) / MR2);
                    const size_t m = n - tb < MR2 ? n - tb : MR2;
                    for (size_t h = 0; h < MM_NR && h < nr; h += 16)
                        tab[m](panel + h, xp + tb * K + k0 * MR2, kc, j->Y + (t0 + tb) * j->ldy + p + h, j->ldy, nr - h,
                               k0 > 0);
                }
            }
        }
    }
}
#endif
