#include "test.h"
#include "util.h"

#include <math.h>

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
