/*
 * threadpool.h — one persistent pool of worker threads per model.  A job is a function called once
 * per thread as fn(arg, ith, nth) with ith in [0, nth); the calling thread runs ith == 0, and
 * mmx_pool_run returns when every thread has finished (a barrier between ops).  Kernels split their
 * work by ith/nth (STYLE practice 6).  Jobs must not call mmx_pool_run themselves.
 */
#ifndef MMX_THREADPOOL_H
#define MMX_THREADPOOL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mmx_pool mmx_pool;
typedef void (*mmx_pool_fn)(void *arg, int ith, int nth);

/* n_threads >= 1 (including the caller).  NULL on failure to allocate or start threads. */
mmx_pool *mmx_pool_create(int n_threads);
void mmx_pool_free(mmx_pool *pool);
int mmx_pool_size(const mmx_pool *pool);
/* Runs fn on all threads and waits.  Not reentrant: one job at a time per pool (callers serialise). */
void mmx_pool_run(mmx_pool *pool, mmx_pool_fn fn, void *arg);

/* Work ranges with stealing, for streaming jobs (decode products), where every jump to a new place
 * in memory costs: the hardware prefetcher starts over (measured ~1.5 us per new stream on the
 * development VM, a large part of a 50-100 us product).  mmx_pool_ranges_init (by the caller, before
 * mmx_pool_run) splits [0, n) into one contiguous range per thread; inside the job,
 * mmx_pool_range_next(pool, ith, ...) hands thread ith its own range front to back in pieces of
 * `step` items, and once that is done the back half of what another thread has left (largest first),
 * so each thread streams one run of memory and a thread the machine slows down (a shared VM's
 * memory, an interrupt) has its tail taken over.  Returns false when no work is left anywhere.
 * n must be < 2^32 items. */
void mmx_pool_ranges_init(mmx_pool *pool, size_t n, size_t step);
bool mmx_pool_range_next(mmx_pool *pool, int ith, size_t *begin, size_t *end);

/* The [begin, end) share of n items for thread ith of nth (contiguous, sizes differ by at most 1). */
static inline void mmx_split_range(size_t n, int ith, int nth, size_t *begin, size_t *end) {
    size_t base = n / (size_t)nth, extra = n % (size_t)nth, i = (size_t)ith;
    *begin = i * base + (i < extra ? i : extra);
    *end = *begin + base + (i < extra ? 1 : 0);
}

#endif
