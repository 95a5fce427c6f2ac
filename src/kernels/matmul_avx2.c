/* AVX2+FMA matmul (fp32 activations only; structure: matmul_impl.h, precision policy: kernels.h).
 * For CPUs without AVX-512: same panel geometry as the AVX-512 file (32 rows = four 8-lane vectors,
 * 6 tokens x 16 rows per microkernel call), weights expanded exactly to fp32. */
#include "matmul_impl.h"
#include "../quant.h"
#include "../util.h"

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

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
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

/* Decode: each row expanded 256 columns at a time into a small buffer, dotted with all T tokens. */
void mmx_mm_gemv_avx2(const mm_job *j, size_t r0, size_t r1, void *scratch) {
    (void)scratch;
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

/* panel[c][32] = W[r0 + i][k0 + c] as fp32 (rows >= nr zero). */
static void pack_w(const mmx_matrix *W, size_t r0, size_t nr, size_t k0, size_t kc, float *panel, float *tmp) {
    const size_t be = mmx_type_block_elems(W->type), bb = mmx_type_block_bytes(W->type);
    for (size_t i = 0; i < MM_NR; i++) {
        if (i >= nr) {
            for (size_t c = 0; c < kc; c++) panel[c * MM_NR + i] = 0;
            continue;
        }
        const uint8_t *row = (const uint8_t *)W->data + (r0 + i) * W->row_bytes;
        const float *w = tmp;
        if (W->type == MMX_TYPE_F32) w = (const float *)row + k0;
        else mmx_dequant_row_avx2(W->type, row + k0 / be * bb, tmp, kc);
        for (size_t c = 0; c < kc; c++) panel[c * MM_NR + i] = w[c];
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

void mmx_mm_gemm_avx2(const mm_job *j, size_t r0, size_t r1, void *scratch) {
    const mmx_matrix *W = j->W;
    const size_t K = W->cols, KC = mmx_mm_kc(K), chunk = mmx_mm_token_chunk(j);
    float *panel = scratch, *tmp = panel + MM_NR * KC;
    float *xp = (float *)((uint8_t *)scratch + mmx_mm_panel_bytes(MMX_ACT_F32, KC));
    void (*const tab[MR2 + 1])(const float *, const float *, size_t, float *, size_t, size_t, bool) = {NULL, uk1, uk2, uk3,
                                                                                             uk4, uk5, uk6};
    for (size_t t0 = 0; t0 < j->T; t0 += chunk) {
        const size_t n = j->T - t0 < chunk ? j->T - t0 : chunk;
        pack_x(j->X + t0 * j->ldx, j->ldx, n, K, xp);
        for (size_t p = r0; p < r1; p += MM_NR) {
            const size_t nr = r1 - p < MM_NR ? r1 - p : MM_NR;
            for (size_t k0 = 0; k0 < K; k0 += KC) {
                const size_t kc = K - k0 < KC ? K - k0 : KC;
                pack_w(W, p, nr, k0, kc, panel, tmp);
                for (size_t tb = 0; tb < n; tb += MR2) {
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
