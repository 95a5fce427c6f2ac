/*
 * matmul.c — the fast matrix multiply behind mmx_op_matmul: Y[t, r] = sum_c W[r, c] X[t, c].
 * Dispatch (ISA x activation precision), thread split and scratch layout; the kernels are in
 * matmul_avx512.c and matmul_avx2.c, the structure is described in matmul_impl.h and the precision
 * policy in kernels.h.
 */
#include "matmul_impl.h"

#include "../ops.h"
#include "../quant.h"
#include "../util.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Matrices smaller than this (rows*cols*T) run on the calling thread: waking the pool costs more. */
#define SMALL_MATMUL_ELEMS (64 * 1024)
#define MM_BATCH_MAX 16 /* products per batched call */

/* ---- activation precision ----------------------------------------------------------------------- */

static bool is_block_quant(mmx_type t) {
    return t == MMX_TYPE_Q8_0 || t == MMX_TYPE_Q4_0 || t == MMX_TYPE_Q4_K || t == MMX_TYPE_Q5_K ||
           t == MMX_TYPE_Q6_K;
}

bool mmx_act_applies(mmx_act act, mmx_type wtype) {
    switch (act) {
    case MMX_ACT_F32: return true;
    case MMX_ACT_BF16: return wtype == MMX_TYPE_BF16;
    case MMX_ACT_Q8: return is_block_quant(wtype);
    }
    return false;
}

unsigned mmx_act_parse(const char *s) {
    unsigned mask = 0;
    if (!s || !strcmp(s, "default")) return 1u << MMX_ACT_Q8 | 1u << MMX_ACT_BF16; /* kernels.h, PRECISION POLICY */
    while (*s) {
        size_t n = strcspn(s, ",+");
        if (n == 4 && !strncmp(s, "bf16", 4)) mask |= 1u << MMX_ACT_BF16;
        else if (n == 8 && !strncmp(s, "bf16-all", 8)) mask |= 1u << MMX_ACT_BF16 | MMX_ACT_BF16_ALL;
        else if (n == 2 && !strncmp(s, "q8", 2)) mask |= 1u << MMX_ACT_Q8;
        else if (n == 4 && !strncmp(s, "fast", 4)) mask |= 1u << MMX_ACT_BF16 | 1u << MMX_ACT_Q8;
        s += n;
        if (*s) s++;
    }
    return mask;
}

/* The precision a product of W takes under `mask`: the weight type's, except that products marked
 * keep_f32_act take bf16 activations only under the opt-in "bf16-all". */
static mmx_act act_for(unsigned mask, const mmx_matrix *W) {
    const mmx_act a = mmx_kernel_act(mask, W->type);
    return a == MMX_ACT_BF16 && W->keep_f32_act && !(mask & MMX_ACT_BF16_ALL) ? MMX_ACT_F32 : a;
}

/* Decode products (T <= MM_GEMV_MAX_T) are bound by memory, not arithmetic: bf16 activations would buy
 * nothing there, so they keep fp32 (PRECISION POLICY). */
static mmx_act act_for_tokens(mmx_act act, size_t T) { return act == MMX_ACT_BF16 && T <= MM_GEMV_MAX_T ? MMX_ACT_F32 : act; }

/* Whether `isa` has a kernel for products of `wtype` weights with T tokens in `act` (after
 * act_for_tokens).  AVX-512: every precision; AVX2: fp32, and int8 activations (vpmaddubsw) for the
 * block types, in decode for Q8_0, Q4_K, Q5_K and Q6_K (Q4_0 decode keeps fp32 activations there). */
static bool isa_has(mmx_isa isa, mmx_act act, mmx_type wtype, size_t T) {
    if (isa == MMX_ISA_AVX512 || act == MMX_ACT_F32) return isa != MMX_ISA_SCALAR;
#if defined(__x86_64__)
    if (isa == MMX_ISA_AVX2)
        return act == MMX_ACT_Q8 && is_block_quant(wtype) && (T > MM_GEMV_MAX_T || mmx_mm_gemv_q8_avx2_handles(wtype));
#endif
    (void)wtype, (void)T;
    return false;
}

/* The precision a product takes on this CPU: the configured one, or fp32 activations where the
 * CPU's kernels lack it (rather than the scalar reference). */
static mmx_act act_choose(unsigned mask, mmx_isa isa, const mmx_matrix *W, size_t T) {
    const mmx_act a = act_for_tokens(act_for(mask, W), T);
    return isa_has(isa, a, W->type, T) ? a : MMX_ACT_F32;
}

bool mmx_kernel_variant_exists(mmx_isa isa, mmx_act act, mmx_type wtype, size_t T) {
    return isa <= mmx_cpu_isa() && mmx_act_applies(act, wtype) && isa_has(isa, act_for_tokens(act, T), wtype, T);
}

mmx_act mmx_kernel_act(unsigned mask, mmx_type wtype) {
    if ((mask & 1u << MMX_ACT_BF16) && mmx_act_applies(MMX_ACT_BF16, wtype)) return MMX_ACT_BF16;
    if ((mask & 1u << MMX_ACT_Q8) && mmx_act_applies(MMX_ACT_Q8, wtype)) return MMX_ACT_Q8;
    return MMX_ACT_F32;
}

const char *mmx_act_name(mmx_act act) {
    switch (act) {
    case MMX_ACT_BF16: return "bf16";
    case MMX_ACT_Q8: return "q8";
    default: return "f32";
    }
}

/* ---- scratch ------------------------------------------------------------------------------------ */

size_t mmx_mm_q8_block(mmx_type wtype) { return wtype == MMX_TYPE_Q6_K ? 16 : 32; }

size_t mmx_mm_xpack_bytes(mmx_act act, mmx_type wtype, size_t n, size_t K) {
    switch (act) {
    case MMX_ACT_BF16: return mm_round_up(n, MM_MR) * mm_round_up(K, 2) * 2;
    case MMX_ACT_Q8: {
        /* prefill: per token K int8 values + (dX, sX) floats per block; decode (gemv): per token
         * K int8 + K/4 lane scales + K/4 lane offsets + K/16 block sums */
        size_t blk = mmx_mm_q8_block(wtype), gemm = mm_round_up(n, MM_MR_Q8) * (K + K / blk * 8);
        size_t gemv = n * (3 * mm_round_up(K, 64) + K / 16 * 4);
        return n <= MM_GEMV_MAX_T && gemv > gemm ? gemv : gemm;
    }
    default: return mm_round_up(n, MM_MR) * K * 4;
    }
}

size_t mmx_mm_panel_bytes(mmx_act act, size_t kc) {
    kc = mm_round_up(kc, 32);
    switch (act) {
    case MMX_ACT_BF16: return MM_NR * kc * 2 + 64;
    case MMX_ACT_Q8: /* int8 panel + per 16-block (dW, corr, mW) of 32 rows; 16 rows of int8 + (dW, mW, corr) */
        return MM_NR * kc + MM_NR * (kc / 16) * 12 + 16 * kc + 16 * (kc / 16) * 12 + 4 * MM_ALIGN;
    default: return MM_NR * kc * 4 + 16 * kc * 4 + 2 * MM_ALIGN; /* panel + 16 expanded rows */
    }
}

static size_t kc_for(size_t K) { return K < MM_KC ? mm_round_up(K, 32) : MM_KC; }

size_t mmx_kernel_scratch_floats(size_t max_cols, size_t n_batch) {
    size_t K = mm_round_up(max_cols ? max_cols : 1, 256), best = 0;
    for (int a = 0; a < 3; a++) {
        /* Q6_K has the larger int8 layout (16-blocks) */
        size_t b = mmx_mm_xpack_bytes((mmx_act)a, MMX_TYPE_Q6_K, n_batch ? n_batch : 1, K) +
                   mmx_mm_panel_bytes((mmx_act)a, kc_for(K));
        if (b > best) best = b;
    }
    return (best + 2 * MM_ALIGN) / sizeof(float) + 1;
}

/* ---- dispatch and threads ----------------------------------------------------------------------- */

typedef void (*mm_fn)(const mm_job *j, size_t r0, size_t r1, void *scratch);

typedef struct {
    mm_job job;
    mm_fn fn;
    bool gemv;
} mm_task;

static void *aligned_scratch(float *p) { return (void *)(((uintptr_t)p + MM_ALIGN - 1) & ~(uintptr_t)(MM_ALIGN - 1)); }

static void mm_worker(void *arg, int ith, int nth) {
    const mm_task *t = arg;
    const mm_job *j = &t->job;
    size_t r0, r1;
    if (t->gemv) {
        mmx_split_range(j->W->rows, ith, nth, &r0, &r1);
    } else {
        /* whole panels per thread, so no weight is converted twice */
        size_t n_panels = (j->W->rows + MM_NR - 1) / MM_NR, p0, p1;
        mmx_split_range(n_panels, ith, nth, &p0, &p1);
        r0 = p0 * MM_NR;
        r1 = p1 * MM_NR < j->W->rows ? p1 * MM_NR : j->W->rows;
    }
    if (r0 < r1) t->fn(j, r0, r1, aligned_scratch(j->scratch[ith]));
}

static bool type_supported(mmx_type t) {
    return t == MMX_TYPE_F32 || t == MMX_TYPE_F16 || t == MMX_TYPE_BF16 || is_block_quant(t);
}

static bool matmul_batch(mmx_exec *ex, const mmx_matmul_args *args, size_t n, int forced_act);

#if defined(__x86_64__)
/* Prefill on several threads: per token chunk, the activations are packed ONCE, each thread packing
 * its share of the token blocks into thread 0's scratch (one pool pass), then every thread's panels
 * read that copy (a second pass).  Packing in every thread repeated the work n_threads times (~11% of
 * a quantized file's prefill on 2 threads). */
typedef struct {
    mm_job job; /* the chunk's job: X, Y, T of the chunk */
    void *xp;   /* shared packed activations */
    void (*pack)(const mm_job *j, size_t tb0, size_t tb1, void *xp); /* the ISA's packer */
} pack_task;

static void pack_worker(void *arg, int ith, int nth) {
    const pack_task *p = arg;
    const size_t MR = mmx_mm_mr(p->job.act), n_blocks = (p->job.T + MR - 1) / MR;
    size_t b0, b1;
    mmx_split_range(n_blocks, ith, nth, &b0, &b1);
    p->pack(&p->job, b0, b1, p->xp);
}

/* Prefill products that read the same activations (same X, T, columns and packed layout; one
 * product is a group of one): the activations are packed once per token chunk into thread 0's
 * scratch, where its panels end (pack_worker, one pool pass), then ONE pool pass runs the panels of
 * all the products, handed out by the pool's stealing ranges.  Separately, each product packed its
 * own copy and ended in its own barrier, where a thread slowed by the hypervisor made the other wait
 * (MoE gate/up, lightning qkv/gate, softmax q/k/v). */
typedef struct {
    mm_task task[MM_BATCH_MAX]; /* whole-T jobs; the chunk's copies point at their rows */
    size_t first_panel[MM_BATCH_MAX + 1];
    size_t n;
    mmx_pool *pool;
} gemm_group;

static void gemm_group_worker(void *arg, int ith, int nth) {
    (void)nth;
    const gemm_group *g = arg;
    void *scratch = aligned_scratch(g->task[0].job.scratch[ith]);
    size_t p0, p1;
    while (mmx_pool_range_next(g->pool, ith, &p0, &p1)) {
        for (size_t i = 0; i < g->n && p0 < p1; i++) {
            const size_t e = g->first_panel[i + 1];
            if (p0 >= e) continue;
            const size_t q1 = p1 < e ? p1 : e;
            const mm_job *j = &g->task[i].job;
            const size_t r0 = (p0 - g->first_panel[i]) * MM_NR, r1 = (q1 - g->first_panel[i]) * MM_NR;
            g->task[i].fn(j, r0, r1 < j->W->rows ? r1 : j->W->rows, scratch);
            p0 = q1;
        }
    }
}

/* Runs g (task[0..n) set; every task with the same K, precision and packed layout, so one chunk size
 * and one packed copy serve all). */
static void gemm_group_exec(mmx_exec *ex, gemm_group *g) {
    const mm_job *j0 = &g->task[0].job;
    const size_t T = j0->T, chunk = mmx_mm_token_chunk(j0);
    void *xp = (uint8_t *)aligned_scratch(j0->scratch[0]) + mmx_mm_panel_bytes(j0->act, kc_for(j0->W->cols));
    g->pool = ex->pool;
    g->first_panel[0] = 0;
    for (size_t i = 0; i < g->n; i++) g->first_panel[i + 1] = g->first_panel[i] + (g->task[i].job.W->rows + MM_NR - 1) / MM_NR;
    for (size_t t0 = 0; t0 < T; t0 += chunk) {
        gemm_group c = *g;
        for (size_t i = 0; i < g->n; i++) {
            mm_job *j = &c.task[i].job;
            j->T = T - t0 < chunk ? T - t0 : chunk;
            j->X += t0 * j->ldx;
            j->Y += t0 * j->ldy;
        }
        pack_task p = {c.task[0].job, xp,
                       g->task[0].fn == mmx_mm_gemm_avx512 ? mmx_mm_pack_x_avx512 : mmx_mm_pack_x_avx2};
        mmx_pool_run(ex->pool, pack_worker, &p);
        for (size_t i = 0; i < g->n; i++) c.task[i].job.xpacked = xp;
        mmx_pool_ranges_init(ex->pool, g->first_panel[g->n], 1);
        mmx_pool_run(ex->pool, gemm_group_worker, &c);
    }
}
#endif

bool mmx_kernel_matmul_variant(mmx_exec *ex, mmx_isa isa, mmx_act act, const mmx_matrix *W, const float *X,
                               size_t T, size_t ldx, float *Y, size_t ldy) {
#if defined(__x86_64__)
    if (isa == MMX_ISA_SCALAR || isa > mmx_cpu_isa() || !type_supported(W->type) || !mmx_act_applies(act, W->type))
        return false;
    act = act_for_tokens(act, T);
    if (!isa_has(isa, act, W->type, T)) return false;
    if (T == 0 || W->rows == 0) return true;
    const size_t K = W->cols;
    if (ex->scratch_floats * sizeof(float) < 2 * MM_ALIGN) return false;
    const size_t avail = ex->scratch_floats * sizeof(float) - 2 * MM_ALIGN;
    mm_task task = {{W, X, T, ldx, Y, ldy, act, ex->thread_scratch, avail, NULL}, NULL, T <= MM_GEMV_MAX_T};
    if (task.gemv) {
        if (mmx_mm_xpack_bytes(act, W->type, MM_GEMV_MAX_T, K) > avail) return false;
        task.fn = isa == MMX_ISA_AVX512 ? mmx_mm_gemv_avx512 : mmx_mm_gemv_avx2;
    } else {
        /* at least one microkernel's worth of tokens must fit beside a panel slice */
        if (mmx_mm_panel_bytes(act, kc_for(K)) + mmx_mm_xpack_bytes(act, W->type, 1, K) > avail) return false;
        task.fn = isa == MMX_ISA_AVX512 ? mmx_mm_gemm_avx512 : mmx_mm_gemm_avx2;
    }
    if (task.gemv && W->rows * K * T >= SMALL_MATMUL_ELEMS && ex->n_threads > 1 && isa == mmx_cpu_isa()) {
        const mmx_matmul_args a = {W, X, T, ldx, Y, ldy};
        if (matmul_batch(ex, &a, 1, act)) return true;
    }
    if (W->rows * K * T < SMALL_MATMUL_ELEMS || ex->n_threads <= 1) mm_worker(&task, 0, 1);
    else if (!task.gemv) {
        gemm_group g = {.n = 1};
        g.task[0] = task;
        gemm_group_exec(ex, &g);
    }
    else mmx_pool_run(ex->pool, mm_worker, &task);
    return true;
#else
    (void)ex, (void)isa, (void)act, (void)W, (void)X, (void)T, (void)ldx, (void)Y, (void)ldy;
    return false;
#endif
}

/* Tokens per prefill pass that fit in `avail` bytes beside a panel slice (a multiple of the
 * microkernel's token count unless all T fit). */
size_t mmx_mm_token_chunk(const mm_job *j) {
    const size_t K = j->W->cols, per_mr = j->act == MMX_ACT_Q8 ? MM_MR_Q8 : MM_MR;
    const size_t panel = mmx_mm_panel_bytes(j->act, kc_for(K));
    if (panel + mmx_mm_xpack_bytes(j->act, j->W->type, j->T, K) <= j->scratch_bytes) return j->T;
    size_t n = per_mr;
    while (panel + mmx_mm_xpack_bytes(j->act, j->W->type, n + per_mr, K) <= j->scratch_bytes) n += per_mr;
    return n;
}

size_t mmx_mm_kc(size_t K) { return kc_for(K); }

/* ---- BF16 rows off a cache line: aligned lines or plain loads (kernels.h) ---------------------- */

static _Atomic int bf16_rows = MMX_BF16_ROWS_UNDECIDED;

mmx_bf16_rows mmx_kernel_bf16_rows(void) { return (mmx_bf16_rows)atomic_load_explicit(&bf16_rows, memory_order_relaxed); }
void mmx_kernel_set_bf16_rows(mmx_bf16_rows mode) { atomic_store(&bf16_rows, (int)mode); }

#define BF16_TUNE_MIN_BYTES ((size_t)8 << 20) /* a product long enough to time (the lm_head: 64 MB here) */
#define BF16_TUNE_ROUNDS 5

/* The first decode product of a large BF16 matrix whose rows start off a line: each way timed
 * BF16_TUNE_ROUNDS times, alternately (this machine's speed drifts between runs), the faster by its
 * best time kept for the process.  Y is rewritten each time with the same values. */
static void bf16_rows_decide(mmx_exec *ex, const mmx_matrix *W, const float *X, size_t ldx, float *Y, size_t ldy) {
    if (mmx_kernel_bf16_rows() != MMX_BF16_ROWS_UNDECIDED) return;
    const char *env = getenv("MMX_BF16_LINES");
    if (env && *env) {
        mmx_kernel_set_bf16_rows(strcmp(env, "0") ? MMX_BF16_ROWS_LINES : MMX_BF16_ROWS_PLAIN);
        return;
    }
    if (W->type != MMX_TYPE_BF16 || mmx_cpu_isa() != MMX_ISA_AVX512 || W->rows * W->row_bytes < BF16_TUNE_MIN_BYTES ||
        ((uintptr_t)W->data & 63) == 0 || (W->row_bytes & 63) != 0)
        return;
    const mmx_act act = act_for(ex->act_mask, W);
    double best[2] = {INFINITY, INFINITY};
    for (int round = 0; round < BF16_TUNE_ROUNDS; round++)
        for (int mode = 0; mode < 2; mode++) {
            mmx_kernel_set_bf16_rows((mmx_bf16_rows)mode);
            const double t0 = mmx_time_s();
            mmx_kernel_matmul_variant(ex, MMX_ISA_AVX512, act, W, X, 1, ldx, Y, ldy);
            const double t = mmx_time_s() - t0;
            if (t < best[mode]) best[mode] = t;
        }
    mmx_kernel_set_bf16_rows(best[MMX_BF16_ROWS_LINES] <= best[MMX_BF16_ROWS_PLAIN] ? MMX_BF16_ROWS_LINES : MMX_BF16_ROWS_PLAIN);
}

bool mmx_kernel_matmul(mmx_exec *ex, const mmx_matrix *W, const float *X, size_t T, size_t ldx, float *Y, size_t ldy) {
    if (ex->reference) return false;
    if (T == 1 && W->type == MMX_TYPE_BF16) bf16_rows_decide(ex, W, X, ldx, Y, ldy);
    return mmx_kernel_matmul_variant(ex, mmx_cpu_isa(), act_choose(ex->act_mask, mmx_cpu_isa(), W, T), W, X, T, ldx, Y,
                                     ldy);
}

/* ---- several decode matmuls in one pool pass -------------------------------------------------------- */


typedef struct {
    mm_task task[MM_BATCH_MAX];
    size_t first_row[MM_BATCH_MAX + 1]; /* prefix sums of the row counts */
    size_t n;
    mmx_pool *pool; /* rows handed out by mmx_pool_range_next: one contiguous run per thread, tails stolen */
    mm_fn rows_fn;  /* rows of a prepared task (activations prepared once per thread and task) */
    void (*prepare_fn)(const mm_job *j, void *scratch);
} mm_batch;

/* *prepared: the task whose activations this thread's scratch holds (SIZE_MAX: none) */
static void mm_batch_rows(const mm_batch *b, size_t r0, size_t r1, int ith, size_t *prepared) {
    for (size_t i = 0; i < b->n && r0 < r1; i++) {
        const size_t lo = b->first_row[i], hi = b->first_row[i + 1];
        if (r0 >= hi) continue;
        const size_t e = r1 < hi ? r1 : hi;
        void *scratch = aligned_scratch(b->task[i].job.scratch[ith]);
        if (b->rows_fn) {
            if (*prepared != i) b->prepare_fn(&b->task[i].job, scratch), *prepared = i;
            b->rows_fn(&b->task[i].job, r0 - lo, e - lo, scratch);
        } else {
            b->task[i].fn(&b->task[i].job, r0 - lo, e - lo, scratch);
        }
        r0 = e;
    }
}

static void mm_batch_worker(void *arg, int ith, int nth) {
    mm_batch *b = arg;
    size_t prepared = SIZE_MAX;
    if (nth == 1) {
        mm_batch_rows(b, 0, b->first_row[b->n], 0, &prepared);
        return;
    }
    size_t r0, r1;
    while (mmx_pool_range_next(b->pool, ith, &r0, &r1)) mm_batch_rows(b, r0, r1, ith, &prepared);
}

#if defined(__x86_64__)
static bool gemm_group_run(mmx_exec *ex, const mmx_matmul_args *args, size_t n) {
    const mmx_isa isa = mmx_cpu_isa();
    if (isa < MMX_ISA_AVX2 || ex->n_threads <= 1 || n < 2) return false;
    const size_t avail = ex->scratch_floats * sizeof(float) - 2 * MM_ALIGN;
    const mmx_matmul_args *a0 = &args[0];
    const size_t K = a0->W->cols, T = a0->T;
    const mmx_act act = act_choose(ex->act_mask, isa, a0->W, T);
    if (T <= MM_GEMV_MAX_T) return false;
    gemm_group g;
    g.n = n;
    for (size_t i = 0; i < n; i++) {
        const mmx_matmul_args *a = &args[i];
        const mmx_matrix *W = a->W;
        if (a->X != a0->X || a->T != T || a->ldx != a0->ldx || W->cols != K || !type_supported(W->type) ||
            act_choose(ex->act_mask, isa, W, T) != act || !mmx_act_applies(act, W->type) ||
            (act == MMX_ACT_Q8 && mmx_mm_q8_block(W->type) != mmx_mm_q8_block(a0->W->type)) || W->rows == 0 ||
            W->rows * K * T < SMALL_MATMUL_ELEMS ||
            mmx_mm_panel_bytes(act, kc_for(K)) + mmx_mm_xpack_bytes(act, W->type, 1, K) > avail)
            return false;
        g.task[i] = (mm_task){{W, a->X, T, a->ldx, a->Y, a->ldy, act, ex->thread_scratch, avail, NULL},
                              isa == MMX_ISA_AVX512 ? mmx_mm_gemm_avx512 : mmx_mm_gemm_avx2, false};
    }
    gemm_group_exec(ex, &g);
    return true;
}
#endif

bool mmx_kernel_matmul_batch(mmx_exec *ex, const mmx_matmul_args *args, size_t n) {
#if defined(__x86_64__)
    if (!ex->reference && n >= 2 && n <= MM_BATCH_MAX && args[0].T > MM_GEMV_MAX_T &&
        ex->scratch_floats * sizeof(float) >= 2 * MM_ALIGN && gemm_group_run(ex, args, n))
        return true;
#endif
    return matmul_batch(ex, args, n, -1);
}

/* forced_act >= 0: every product in that precision (a variant call), else each by ex->act_mask */
static bool matmul_batch(mmx_exec *ex, const mmx_matmul_args *args, size_t n, int forced_act) {
#if defined(__x86_64__)
    if (ex->reference || n > MM_BATCH_MAX || ex->scratch_floats * sizeof(float) < 2 * MM_ALIGN) return false;
    const mmx_isa isa = mmx_cpu_isa();
    if (isa == MMX_ISA_SCALAR) return false;
    const size_t avail = ex->scratch_floats * sizeof(float) - 2 * MM_ALIGN;
    mm_batch b;
    b.n = n;
    b.first_row[0] = 0;
    for (size_t i = 0; i < n; i++) {
        const mmx_matmul_args *a = &args[i];
        const mmx_act act = forced_act >= 0 ? act_for_tokens((mmx_act)forced_act, a->T) : act_choose(ex->act_mask, isa, a->W, a->T);
        if (a->T == 0 || a->T > MM_GEMV_MAX_T || !type_supported(a->W->type) || !mmx_act_applies(act, a->W->type) ||
            !isa_has(isa, act, a->W->type, a->T) || mmx_mm_xpack_bytes(act, a->W->type, MM_GEMV_MAX_T, a->W->cols) > avail)
            return false;
        b.task[i] = (mm_task){{a->W, a->X, a->T, a->ldx, a->Y, a->ldy, act, ex->thread_scratch, avail, NULL},
                              isa == MMX_ISA_AVX512 ? mmx_mm_gemv_avx512 : mmx_mm_gemv_avx2, true};
        b.first_row[i + 1] = b.first_row[i] + a->W->rows;
    }
    const size_t total = b.first_row[n];
    b.pool = ex->pool;
#if defined(__x86_64__)
    b.rows_fn = isa == MMX_ISA_AVX512 ? mmx_mm_gemv_rows_avx512 : mmx_mm_gemv_rows_avx2;
    b.prepare_fn = isa == MMX_ISA_AVX512 ? mmx_mm_gemv_prepare_avx512 : mmx_mm_gemv_prepare_avx2;
#endif
    if (total == 0) return true;
    if (ex->n_threads <= 1) {
        mm_batch_worker(&b, 0, 1);
        return true;
    }
    /* pieces of ~16 KiB of weights: a compare-and-swap per piece is noise, and a stolen tail is small */
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) bytes += args[i].W->rows * args[i].W->row_bytes;
    const size_t avg_row = bytes / total ? bytes / total : 1;
    mmx_pool_ranges_init(ex->pool, total, avg_row < 16384 ? 16384 / avg_row : 1);
    mmx_pool_run(ex->pool, mm_batch_worker, &b);
    return true;
#else
    (void)ex, (void)args, (void)n;
    return false;
#endif
}
