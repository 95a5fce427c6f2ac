/* Run-time CPU feature detection and kernel selection. */
#include "kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
static bool os_saves_avx512(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false; /* OSXSAVE */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xe6) == 0xe6; /* XMM, YMM, opmask, ZMM state */
}
static bool os_saves_avx(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0x6) == 0x6;
}
#endif

static char features[256];

static mmx_isa detect(void) {
    mmx_isa best = MMX_ISA_SCALAR;
    features[0] = 0;
#if defined(__x86_64__)
    unsigned a, b, c, d;
    bool avx2 = false, fma = false, f16c = false, avx512 = false, bf16 = false, vnni = false, amx = false;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        fma = c & (1u << 12);
        f16c = c & (1u << 29);
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        avx2 = b & (1u << 5);
        avx512 = (b & (1u << 16)) && (b & (1u << 30)) && (b & (1u << 31)) && (b & (1u << 17)); /* F BW VL DQ */
        vnni = c & (1u << 11);
        amx = d & (1u << 24);
    }
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) bf16 = a & (1u << 5);
    bool avx_os = os_saves_avx(), avx512_os = os_saves_avx512();
    snprintf(features, sizeof features, "%s%s%s%s%s%s%s", avx2 ? "avx2 " : "", fma ? "fma " : "", f16c ? "f16c " : "",
             avx512 ? "avx512f/bw/vl/dq " : "", bf16 ? "avx512bf16 " : "", vnni ? "avx512vnni " : "",
             amx ? "amx-tile " : "");
    if (avx2 && fma && f16c && avx_os) best = MMX_ISA_AVX2;
    if (best == MMX_ISA_AVX2 && avx512 && bf16 && vnni && avx512_os) best = MMX_ISA_AVX512;
#endif
    const char *env = getenv("MMX_ISA");
    if (env && *env) {
        mmx_isa want = !strcmp(env, "scalar") ? MMX_ISA_SCALAR : !strcmp(env, "avx2") ? MMX_ISA_AVX2 : MMX_ISA_AVX512;
        if (want < best) best = want;
    }
    return best;
}

mmx_isa mmx_cpu_isa(void) {
    static int cached = -1;
    if (cached < 0) cached = (int)detect();
    return (mmx_isa)cached;
}

const char *mmx_cpu_features(void) {
    mmx_cpu_isa();
    return features;
}

const char *mmx_isa_name(mmx_isa isa) {
    switch (isa) {
    case MMX_ISA_AVX2: return "avx2";
    case MMX_ISA_AVX512: return "avx512";
    default: return "scalar";
    }
}

bool mmx_env_force_reference(void) {
    const char *e = getenv("MMX_REFERENCE");
    return e && *e && strcmp(e, "0") != 0;
}
