/*
 * Persistent worker pool.  Workers wait on a generation counter: they spin briefly (a decode step
 * issues hundreds of small jobs, and waking a sleeping thread costs tens of microseconds), then
 * sleep on a condition variable.  Completion is an atomic countdown the caller spins/waits on.
 */
#include "threadpool.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define SPIN_ITERS 20000

/* one thread's range [front, back) as front | back << 32, alone on its cache line (owners update
 * theirs every piece; sharing a line would bounce it between cores) */
typedef struct {
    _Alignas(64) atomic_uint_fast64_t fb;
} pool_range;

struct mmx_pool {
    int n_threads;
    pool_range *ranges; /* n_threads */
    size_t range_step;
    pthread_t *threads;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    atomic_uint generation;
    atomic_int remaining;
    atomic_bool stop;
    mmx_pool_fn fn;
    void *arg;
};

typedef struct {
    mmx_pool *pool;
    int ith;
} worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *p) {
    worker_arg wa = *(worker_arg *)p;
    free(p);
    mmx_pool *pool = wa.pool;
    unsigned seen = 0;
    for (;;) {
        unsigned gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen &&
               !atomic_load(&pool->stop)) {
            if (++spins < SPIN_ITERS) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&pool->mutex);
            while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->wake, &pool->mutex);
            pthread_mutex_unlock(&pool->mutex);
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = gen;
        pool->fn(pool->arg, wa.ith, pool->n_threads);
        atomic_fetch_sub_explicit(&pool->remaining, 1, memory_order_acq_rel);
    }
}

mmx_pool *mmx_pool_create(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    mmx_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pool->threads = calloc((size_t)n_threads, sizeof *pool->threads);
    pool->ranges = aligned_alloc(64, (size_t)n_threads * sizeof *pool->ranges);
    if (!pool->threads || !pool->ranges) goto err;
    for (int i = 0; i < n_threads; i++) atomic_init(&pool->ranges[i].fb, 0);
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) goto err_started;
        wa->pool = pool;
        wa->ith = i;
        if (pthread_create(&pool->threads[i], NULL, worker_main, wa) != 0) {
            free(wa);
            goto err_started;
        }
        continue;
    err_started:
        pool->n_threads = i; /* only threads 1..i-1 exist */
        mmx_pool_free(pool);
        return NULL;
    }
    return pool;
err:
    free(pool->threads);
    free(pool->ranges);
    free(pool);
    return NULL;
}

void mmx_pool_free(mmx_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mutex);
    atomic_store(&pool->stop, true);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 1; i < pool->n_threads; i++) pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->wake);
    free(pool->threads);
    free(pool->ranges);
    free(pool);
}

int mmx_pool_size(const mmx_pool *pool) { return pool->n_threads; }

void mmx_pool_run(mmx_pool *pool, mmx_pool_fn fn, void *arg) {
    if (pool->n_threads == 1) {
        fn(arg, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    atomic_store_explicit(&pool->remaining, pool->n_threads - 1, memory_order_release);
    pthread_mutex_lock(&pool->mutex);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_acq_rel);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    fn(arg, 0, pool->n_threads);
    while (atomic_load_explicit(&pool->remaining, memory_order_acquire) > 0) cpu_relax();
}

/* ---- ranges with stealing -------------------------------------------------------------------- */

static inline uint64_t pack_range(size_t front, size_t back) { return (uint64_t)front | (uint64_t)back << 32; }
static inline size_t range_front(uint64_t v) { return (size_t)(v & 0xFFFFFFFFu); }
static inline size_t range_back(uint64_t v) { return (size_t)(v >> 32); }

void mmx_pool_ranges_init(mmx_pool *pool, size_t n, size_t step) {
    MMX_ASSERT(n < ((uint64_t)1 << 32));
    pool->range_step = step ? step : 1;
    for (int i = 0; i < pool->n_threads; i++) {
        size_t b, e;
        mmx_split_range(n, i, pool->n_threads, &b, &e);
        atomic_store_explicit(&pool->ranges[i].fb, pack_range(b, e), memory_order_relaxed);
    }
}

bool mmx_pool_range_next(mmx_pool *pool, int ith, size_t *begin, size_t *end) {
    const size_t step = pool->range_step;
    atomic_uint_fast64_t *own = &pool->ranges[ith].fb;
    for (;;) {
        /* the next piece from the front of our own range */
        uint64_t v = atomic_load_explicit(own, memory_order_acquire);
        while (range_front(v) < range_back(v)) {
            const size_t f = range_front(v), b = range_back(v), e = b - f > step ? f + step : b;
            if (atomic_compare_exchange_weak_explicit(own, &v, pack_range(e, b), memory_order_acq_rel, memory_order_acquire)) {
                *begin = f, *end = e;
                return true;
            }
        }
        /* ours is done: take the back half of the largest range left (pieces smaller than two steps
         * stay with their owner, who is about to finish them) */
        int victim = -1;
        size_t most = 0;
        for (int i = 0; i < pool->n_threads; i++) {
            if (i == ith) continue;
            const uint64_t w = atomic_load_explicit(&pool->ranges[i].fb, memory_order_relaxed);
            const size_t left = range_back(w) - range_front(w);
            if (range_back(w) > range_front(w) && left > most) most = left, victim = i;
        }
        if (victim < 0 || most < 2 * step) return false;
        atomic_uint_fast64_t *vr = &pool->ranges[victim].fb;
        uint64_t w = atomic_load_explicit(vr, memory_order_acquire);
        const size_t f = range_front(w), b = range_back(w);
        if (b <= f || b - f < 2 * step) continue; /* changed meanwhile: look again */
        const size_t cut = b - (b - f) / 2;
        if (!atomic_compare_exchange_strong_explicit(vr, &w, pack_range(f, cut), memory_order_acq_rel, memory_order_acquire))
            continue;
        /* the stolen [cut, b) becomes our range, so others can steal from it in turn (ours was empty,
         * so no thief is working on it) */
        atomic_store_explicit(own, pack_range(cut, b), memory_order_release);
    }
}
