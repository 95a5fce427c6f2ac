/*
 * kernel_bench — hand-run micro-benchmark of the matmul kernels (not a test).  Build after `make`:
 *
 *   cc -O2 -Iinclude -Isrc tools/kernel_bench.c build/libmmx.a $(pkg-config --libs jansson libpcre2-8) \
 *      -lm -pthread -o build/kernel_bench
 *
 *   build/kernel_bench [-t THREADS] [-r REPS] [-T TOKENS] [--types f32,bf16,...] [--rows N] [--kib N] [--thp] [--offset N] [bw] [gemm] [gemv]
 *
 * bw:   machine read bandwidth: THREADS threads stream-sum a 1 GiB buffer (the AVX-512 sum mmx bench uses; best of REPS).
 * gemm: prefill shapes (T = TOKENS, default 512; rows x cols = 1536x1024, 4096x1024, 1024x1536,
 *       3072x1536) per weight type and variant (ISA x activation precision), GFLOP/s = 2*T*rows*cols/s
 *       (median of REPS).
 * gemv: decode (T = 1) over ~256 MiB of weights (rows x 1024 columns; larger than the caches), GB/s of
 *       weight bytes per second (median of REPS) and its fraction of the measured read bandwidth.
 *       --rows N: the same bytes as consecutive matrices of N rows, one call each (a model's sizes).
 *       Each type's line "read" is a plain AVX-512 stream sum of the same weight bytes through the
 *       same pool (what mmx bench's roofline divides by), and "% of read" the GEMV's fraction of it.
 * --kib N: gemv over N KiB of weights instead (small enough for the caches: each pass repeated to
 *       ~256 MiB, so the figure is the kernel's own throughput, not memory's).
 * --thp: weights in anonymous memory advised for transparent huge pages (2 MiB), as mmx --hugepages.
 * --offset N: the weights start N bytes past a cache line (GGUF files from llama.cpp: 32).
 * With no section named, runs all three.  Variants the CPU lacks are skipped.
 */
#include "kernels/kernels.h"
#include "ops.h"
#include "quant.h"
#include "threadpool.h"
#include "util.h"

#include <emmintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint64_t rs = 88172645463325252ull;
static float frand(void) {
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return (float)((double)(rs >> 11) / 9007199254740992.0) * 2.0f - 1.0f;
}

/* ---- bandwidth ---------------------------------------------------------------------------------- */

static double buffer_bw(mmx_pool *pool, const void *p, size_t n, int reps);

static double bench_bw(mmx_pool *pool, int reps) {
    const size_t bytes = (size_t)1 << 30;
    uint8_t *buf = mmx_alloc_aligned(bytes);
    if (!buf) return 0;
    for (size_t i = 0; i < bytes; i++) buf[i] = (uint8_t)i;
    const double best = buffer_bw(pool, buf, bytes, reps);
    mmx_free_aligned(buf);
    printf("read bandwidth (%d threads, 1 GiB, best of %d): %.2f GB/s\n", mmx_pool_size(pool), reps, best * 1e-9);
    return best;
}

/* ---- matmul ------------------------------------------------------------------------------------- */

typedef struct {
    mmx_isa isa;
    mmx_act act;
    const char *name;
} variant;
static const variant variants[] = {
    {MMX_ISA_AVX2, MMX_ACT_F32, "avx2/f32"},
    {MMX_ISA_AVX2, MMX_ACT_Q8, "avx2/q8"},
    {MMX_ISA_AVX512, MMX_ACT_F32, "avx512/f32"},
    {MMX_ISA_AVX512, MMX_ACT_BF16, "avx512/bf16"},
    {MMX_ISA_AVX512, MMX_ACT_Q8, "avx512/q8"},
};

static bool use_thp = false; /* --thp: weights in transparent-huge-page memory (2 MiB pages) */

static void *weights_alloc(size_t n) {
    if (!use_thp) return mmx_alloc_aligned(n);
    const size_t huge = (size_t)2 << 20, len = (n + huge - 1) / huge * huge;
    void *p = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    uint8_t *a = (uint8_t *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
    madvise(a, len, MADV_HUGEPAGE);
    return a; /* a benchmark: leaked at exit */
}
static void weights_free(void *p) {
    if (!use_thp) mmx_free_aligned(p);
}
static size_t weights_offset = 0; /* --offset: bytes past a line where each matrix starts */

/* read bandwidth of one buffer through the pool (the same AVX-512 stream sum mmx bench uses) */
typedef struct {
    const uint8_t *p;
    size_t n;
    mmx_stream_sum_fn sum;
    uint64_t out[64];
} sum_job;
static void sum_worker(void *arg, int ith, int nth) {
    sum_job *j = arg;
    size_t b, e;
    mmx_split_range(j->n / 4096, ith, nth, &b, &e);
    j->out[ith & 63] += j->sum(j->p + b * 4096, (e - b) * 4096);
}
static double buffer_bw(mmx_pool *pool, const void *p, size_t n, int reps) {
    sum_job j = {p, n, mmx_kernel_stream_sum(false), {0}};
    double best = 0;
    for (int r = 0; r < reps; r++) {
        double t = now();
        mmx_pool_run(pool, sum_worker, &j);
        t = now() - t;
        if ((double)n / t > best) best = (double)n / t;
    }
    return best;
}

static mmx_matrix make_matrix(mmx_type type, size_t rows, size_t cols) {
    const size_t rb = mmx_type_row_bytes(type, cols);
    uint8_t *data = (uint8_t *)weights_alloc(rows * rb + weights_offset) + weights_offset;
    float *row = malloc(cols * sizeof(float));
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < cols; c++) row[c] = frand() * 0.05f;
        mmx_quantize_row(type, row, data + r * rb, cols);
    }
    free(row);
    return (mmx_matrix){type, rows, cols, rb, data, false};
}

static bool type_wanted(const char *list, mmx_type t) {
    if (!list) return true;
    const char *name = mmx_type_name(t);
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ',')) return true;
    return false;
}

static const mmx_type types[] = {MMX_TYPE_F32, MMX_TYPE_F16, MMX_TYPE_BF16, MMX_TYPE_Q8_0,
                                 MMX_TYPE_Q4_0, MMX_TYPE_Q4_K, MMX_TYPE_Q5_K, MMX_TYPE_Q6_K};

static void bench_gemm(mmx_exec *ex, size_t T, int reps, const char *list) {
    const size_t shapes[][2] = {{1536, 1024}, {4096, 1024}, {1024, 1536}, {3072, 1536}};
    printf("\nprefill GEMM, T=%zu, GFLOP/s (median of %d)\n%-6s %-12s", T, reps, "type", "variant");
    for (size_t s = 0; s < 4; s++) printf("  %4zux%-5zu", shapes[s][0], shapes[s][1]);
    printf("\n");
    float *X = malloc(T * 1536 * sizeof(float)), *Y = malloc(T * 4096 * sizeof(float));
    for (size_t i = 0; i < T * 1536; i++) X[i] = frand();
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        if (!type_wanted(list, types[ti])) continue;
        mmx_matrix W[4];
        for (size_t s = 0; s < 4; s++) W[s] = make_matrix(types[ti], shapes[s][0], shapes[s][1]);
        for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
            if (!mmx_kernel_variant_exists(variants[v].isa, variants[v].act, types[ti], T)) continue;
            printf("%-6s %-12s", mmx_type_name(types[ti]), variants[v].name);
            for (size_t s = 0; s < 4; s++) {
                double t[64];
                int n = reps < 64 ? reps : 64;
                mmx_kernel_matmul_variant(ex, variants[v].isa, variants[v].act, &W[s], X, T, W[s].cols, Y, W[s].rows);
                for (int r = 0; r < n; r++) {
                    double t0 = now();
                    mmx_kernel_matmul_variant(ex, variants[v].isa, variants[v].act, &W[s], X, T, W[s].cols, Y, W[s].rows);
                    t[r] = now() - t0;
                }
                printf("  %10.1f", 2.0 * (double)T * (double)(W[s].rows * W[s].cols) / median(t, n) * 1e-9);
                fflush(stdout);
            }
            printf("\n");
        }
        for (size_t s = 0; s < 4; s++) weights_free((void *)((const uint8_t *)W[s].data - weights_offset));
    }
    free(X), free(Y);
}

static size_t gemv_rows_per_call = 0; /* --rows: the weights as consecutive matrices of this many rows */
static size_t gemv_kib = 256 << 10;  /* --kib: size of the weights (small: they stay in cache, and the kernel's own speed shows) */

static void bench_gemv(mmx_exec *ex, int reps, double bw, const char *list) {
    const size_t cols = 1024, target = gemv_kib << 10;
    const int inner = target < (32u << 20) ? (int)((256u << 20) / target) : 1; /* cached weights: repeat to ~256 MiB */
    printf("\ndecode GEMV, T=1, %zu columns, ~%zu KiB of weights, GB/s of weights (median of %d)%s\n", cols, gemv_kib, reps,
           bw > 0 ? ", % of read bandwidth" : "");
    float *X = malloc(cols * sizeof(float));
    for (size_t i = 0; i < cols; i++) X[i] = frand();
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        if (!type_wanted(list, types[ti])) continue;
        const size_t rows = target / mmx_type_row_bytes(types[ti], cols) / 64 * 64;
        mmx_matrix W = make_matrix(types[ti], rows, cols);
        float *Y = malloc(rows * sizeof(float));
        const double bytes = (double)(rows * W.row_bytes);
        const double own_bw = buffer_bw(ex->pool, (const uint8_t *)W.data - weights_offset, rows * W.row_bytes, reps);
        printf("%-6s %-12s %8.2f GB/s  (stream-summing these weights)\n", mmx_type_name(types[ti]), "read", own_bw * 1e-9);
        for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
            if (!mmx_kernel_variant_exists(variants[v].isa, variants[v].act, types[ti], 1)) continue;
            if (variants[v].act == MMX_ACT_BF16) continue; /* decode keeps fp32 activations */
            double t[64];
            int n = reps < 64 ? reps : 64;
            const size_t step = gemv_rows_per_call && gemv_rows_per_call < rows ? gemv_rows_per_call : rows;
            for (int r = -1; r < n; r++) {
                double t0 = now();
                for (int it = 0; it < inner; it++)
                for (size_t r0 = 0; r0 < rows; r0 += step) {
                    mmx_matrix part = W;
                    part.rows = rows - r0 < step ? rows - r0 : step;
                    part.data = (const uint8_t *)W.data + r0 * W.row_bytes;
                    mmx_kernel_matmul_variant(ex, variants[v].isa, variants[v].act, &part, X, 1, cols, Y + r0, rows);
                }
                if (r >= 0) t[r] = now() - t0;
            }
            const double gbs = bytes * inner / median(t, n);
            printf("%-6s %-12s %8.2f GB/s", mmx_type_name(types[ti]), variants[v].name, gbs * 1e-9);
            if (bw > 0) printf("  %5.1f%% of bw", 100 * gbs / bw);
            printf("  %5.1f%% of read", 100 * gbs / own_bw);
            printf("\n");
        }
        free(Y);
        weights_free((void *)((const uint8_t *)W.data - weights_offset));
    }
    free(X);
}

int main(int argc, char **argv) {
    int threads = 2, reps = 5;
    size_t T = 512;
    const char *list = NULL;
    bool do_bw = false, do_gemm = false, do_gemv = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-r") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-T") && i + 1 < argc) T = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--types") && i + 1 < argc) list = argv[++i];
        else if (!strcmp(argv[i], "--rows") && i + 1 < argc) gemv_rows_per_call = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--kib") && i + 1 < argc) gemv_kib = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--thp")) use_thp = true;
        else if (!strcmp(argv[i], "--offset") && i + 1 < argc) weights_offset = (size_t)atol(argv[++i]) % 64;
        else if (!strcmp(argv[i], "bw")) do_bw = true;
        else if (!strcmp(argv[i], "gemm")) do_gemm = true;
        else if (!strcmp(argv[i], "gemv")) do_gemv = true;
        else {
            fprintf(stderr, "usage: %s [-t THREADS] [-r REPS] [-T TOKENS] [--types f32,bf16,...] [--rows N] [--kib N] [--thp] [--offset N] [bw] [gemm] [gemv]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!do_bw && !do_gemm && !do_gemv) do_bw = do_gemm = do_gemv = true;
    if (threads < 1 || reps < 1 || T < 1) return 2;
    printf("cpu: %s; best ISA %s; %d threads\n", mmx_cpu_features(), mmx_isa_name(mmx_cpu_isa()), threads);
    mmx_pool *pool = mmx_pool_create(threads);
    if (!pool) return 1;
    const size_t scratch = mmx_kernel_scratch_floats(1536, T > 4 ? T : 4);
    float *buf = mmx_alloc_aligned((size_t)threads * scratch * sizeof(float));
    float **sc = malloc((size_t)threads * sizeof *sc);
    if (!buf || !sc) return 1;
    for (int i = 0; i < threads; i++) sc[i] = buf + (size_t)i * scratch;
    mmx_exec ex = {pool, threads, false, sc, scratch, 0}; /* variants are named explicitly */
    double bw = do_bw ? bench_bw(pool, reps) : 0;
    if (do_gemm) bench_gemm(&ex, T, reps, list);
    if (do_gemv) bench_gemv(&ex, reps, bw, list);
    mmx_free_aligned(buf);
    free(sc);
    mmx_pool_free(pool);
    return 0;
}
