/* libFuzzer target: the /proc/self/smaps reader (mmx_smaps_huge_bytes) on arbitrary bytes, with the
 * address range taken from the input's first 16 bytes.  Invariants: it never reads past the input
 * (ASan), a range never counts more than the whole address space does, and an empty range counts 0.
 *   make fuzz && build-fuzz/fuzz_smaps NEW_CORPUS_DIR -max_total_time=60 */
#include "mapfile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INVARIANT(c)                                                                                \
    do {                                                                                            \
        if (!(c)) abort();                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint64_t a = 0, b = 0;
    if (size >= 16) {
        memcpy(&a, data, 8);
        memcpy(&b, data + 8, 8);
        data += 16, size -= 16;
    }
    const uintptr_t lo = (uintptr_t)(a < b ? a : b), hi = (uintptr_t)(a < b ? b : a);
    char *text = malloc(size ? size : 1); /* exactly size bytes: a read past them is an ASan error */
    if (!text) return 0;
    memcpy(text, data, size);
    const size_t inner = mmx_smaps_huge_bytes(text, size, lo, hi);
    const size_t all = mmx_smaps_huge_bytes(text, size, 0, UINTPTR_MAX);
    INVARIANT(inner <= all);
    INVARIANT(mmx_smaps_huge_bytes(text, size, lo, lo) == 0);
    free(text);
    return 0;
}
