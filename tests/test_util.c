#include "test.h"
#include "mapfile.h"
#include "threadpool.h"
#include "util.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

TEST(util_f16_roundtrip_all_values) {
    /* every finite half converts to float and back unchanged */
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue; /* NaN payloads */
        if (mmx_f32_to_f16(mmx_f16_to_f32((uint16_t)h)) != h) bad++;
    }
    CHECKF(bad == 0, "%d half values do not round-trip", bad);
    CHECK(mmx_f16_to_f32(0x3c00) == 1.0f);
    CHECK(mmx_f16_to_f32(0x0001) == ldexpf(1.0f, -24));
    CHECK(mmx_f32_to_f16(65520.0f) == 0x7c00); /* rounds to inf */
    CHECK(mmx_f32_to_f16(1.0f + ldexpf(1.0f, -11)) == 0x3c00); /* tie to even */
}

TEST(util_bf16_round_to_nearest_even) {
    CHECK(mmx_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(mmx_bf16_to_f32(0x3f80) == 1.0f);
    CHECK(mmx_f32_to_bf16(1.0f + ldexpf(1.0f, -8)) == 0x3f80);           /* tie -> even */
    CHECK(mmx_f32_to_bf16(1.0f + 3 * ldexpf(1.0f, -8)) == 0x3f82);       /* tie -> even (up) */
}

TEST(util_type_sizes) {
    CHECK(mmx_type_row_bytes(MMX_TYPE_Q8_0, 64) == 68);
    CHECK(mmx_type_row_bytes(MMX_TYPE_Q4_K, 256) == 144);
    CHECK(mmx_type_row_bytes(MMX_TYPE_Q4_K, 100) == 0);
    CHECK(mmx_type_row_bytes(MMX_TYPE_BF16, 3) == 6);
}

/* mmx_pool_range_next hands out every item exactly once, whatever the thread count, size and step,
 * including when one thread is slowed so the others steal its tail. */
typedef struct {
    mmx_pool *pool;
    atomic_int *count;
    atomic_size_t stolen; /* items a thread took outside its own initial share */
    size_t n;
    int slow; /* this thread sleeps a little per piece */
} range_job;

static void range_worker(void *arg, int ith, int nth) {
    range_job *j = arg;
    size_t own0, own1, b, e;
    mmx_split_range(j->n, ith, nth, &own0, &own1);
    while (mmx_pool_range_next(j->pool, ith, &b, &e)) {
        CHECK(b < e && e <= j->n);
        for (size_t i = b; i < e; i++) {
            atomic_fetch_add(&j->count[i], 1);
            if (i < own0 || i >= own1) atomic_fetch_add(&j->stolen, 1);
        }
        if (ith == j->slow) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
    }
}

TEST(util_pool_ranges_cover_every_item_once) {
    const int threads[] = {1, 2, 3, 5};
    const size_t sizes[] = {0, 1, 7, 100, 1000, 4099};
    const size_t steps[] = {1, 3, 16, 5000};
    size_t stolen_total = 0;
    for (size_t ti = 0; ti < sizeof threads / sizeof threads[0]; ti++) {
        mmx_pool *pool = mmx_pool_create(threads[ti]);
        REQUIRE(pool);
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
            for (size_t st = 0; st < sizeof steps / sizeof steps[0]; st++) {
                const size_t n = sizes[si];
                atomic_int *count = calloc(n + 1, sizeof *count);
                REQUIRE(count);
                range_job j = {pool, count, 0, n, threads[ti] > 1 && n >= 100 ? 1 : -1};
                mmx_pool_ranges_init(pool, n, steps[st]);
                mmx_pool_run(pool, range_worker, &j);
                size_t bad = 0;
                for (size_t i = 0; i < n; i++) bad += atomic_load(&count[i]) != 1;
                CHECKF(bad == 0, "%d threads, n %zu, step %zu: %zu items not handed out exactly once", threads[ti], n, steps[st], bad);
                stolen_total += atomic_load(&j.stolen);
                free(count);
            }
        mmx_pool_free(pool);
    }
    /* the slowed thread's tail is taken over somewhere in these runs */
    CHECKF(stolen_total > 0, "no range was ever stolen");
}

/* The /proc/self/smaps reader counts 2 MiB-mapped bytes of the mappings that start inside the range
 * asked about, and nothing else; malformed or cut text is skipped, never read past. */
TEST(util_smaps_huge_bytes_sums_mappings_in_range) {
    static const char smaps[] =
        "7f0000000000-7f0000400000 r--p 00000000 fe:01 1234   /models/m.gguf\n"
        "Size:               4096 kB\n"
        "Rss:                4096 kB\n"
        "AnonHugePages:         0 kB\n"
        "FilePmdMapped:      2048 kB\n"
        "VmFlags: rd mr mw me hg\n"
        "7f0000400000-7f0000600000 r--p 00400000 fe:01 1234   /models/m.gguf\n"
        "FilePmdMapped:      2048 kB\n"
        "7f1000000000-7f1000200000 rw-p 00000000 00:00 0\n"
        "AnonHugePages:      2048 kB\n"
        "FilePmdMapped:         0 kB\n"
        "7f2000000000-7f2000200000 r--p 00000000 fe:01 99     /other\n"
        "FilePmdMapped:      4096 kB\n";
    const size_t n = sizeof smaps - 1;
    CHECK(mmx_smaps_huge_bytes(smaps, n, 0x7f0000000000u, 0x7f0000600000u) == (size_t)4 << 20);
    CHECK(mmx_smaps_huge_bytes(smaps, n, 0x7f0000000000u, 0x7f0000400000u) == (size_t)2 << 20);
    CHECK(mmx_smaps_huge_bytes(smaps, n, 0x7f1000000000u, 0x7f1000200000u) == (size_t)2 << 20);
    CHECK(mmx_smaps_huge_bytes(smaps, n, 0x7e0000000000u, 0x7f0000000000u) == 0);
    CHECK(mmx_smaps_huge_bytes(smaps, 0, 0, UINTPTR_MAX) == 0);
    /* every prefix parses without reading past it and never counts more than the whole */
    const size_t all = mmx_smaps_huge_bytes(smaps, n, 0, UINTPTR_MAX);
    CHECK(all == (size_t)10 << 20);
    for (size_t k = 0; k <= n; k++) {
        char *cut = malloc(k ? k : 1); /* exactly k bytes, so ASan sees any read past them */
        REQUIRE(cut);
        memcpy(cut, smaps, k);
        CHECKF(mmx_smaps_huge_bytes(cut, k, 0, UINTPTR_MAX) <= all, "prefix %zu", k);
        free(cut);
    }
    static const char junk[] = "-\n:\nFilePmdMapped:\nFilePmdMapped: x kB\nffffffffffffffffff-1 r\nFilePmdMapped: 99999999999999999999999 kB\n";
    CHECK(mmx_smaps_huge_bytes(junk, sizeof junk - 1, 0, UINTPTR_MAX) < ((size_t)1 << 62));
}

/* Settling a mapped file in huge pages keeps its address and its bytes, whether or not this
 * machine's kernel and file system can hold it in 2 MiB folios (what it got is reported, not
 * asserted: CI machines differ). */
TEST(util_mapfile_settle_keeps_address_and_content) {
    char path[1024];
    snprintf(path, sizeof path, "%s/settle.bin", mmx_test_tmpdir());
    const size_t len = ((size_t)6 << 20) + 12345; /* three 2 MiB windows and a tail */
    uint8_t *want = malloc(len);
    REQUIRE(want);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        want[i] = (uint8_t)x;
    }
    FILE *f = fopen(path, "wb");
    REQUIRE(f);
    CHECK(fwrite(want, 1, len, f) == len);
    fclose(f); /* dirty in the page cache: the refill must write it back before dropping it */
    mmx_mapfile m;
    mmx_error err;
    REQUIRE(mmx_mapfile_open(path, &m, &err) == MMX_OK);
    CHECK(((uintptr_t)m.data & (((uintptr_t)2 << 20) - 1)) == 0);
    const void *at = m.data;
    CHECK(mmx_mapfile_settle_hugepages(&m, path, &err) == MMX_OK);
    CHECK(m.data == at && m.len == len);
    const size_t huge = mmx_mapfile_huge_bytes(&m);
    CHECK(huge <= len);
    CHECK(memcmp(m.data, want, len) == 0);
    printf("  (2 MiB-mapped after settling: %zu of %zu bytes)\n", huge, len);
    CHECK(mmx_mapfile_settle_hugepages(&m, path, &err) == MMX_OK); /* settled again: nothing to do */
    CHECK(m.data == at && memcmp(m.data, want, len) == 0);
    CHECK(mmx_mapfile_load_hugepages(&m, path, &err) == MMX_OK); /* then copied to anonymous memory */
    CHECK(m.data == at && memcmp(m.data, want, len) == 0);
    mmx_mapfile_close(&m);
    free(want);
}
