#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

_Noreturn void mmx_abort(const char *file, int line, const char *what) {
    fprintf(stderr, "mmx: internal error at %s:%d: assertion failed: %s\n", file, line, what);
    fflush(stderr);
    abort();
}

mmx_status mmx_fail(mmx_error *err, mmx_status status, const char *fmt, ...) {
    if (err) {
        err->status = status;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return status;
}

mmx_status mmx_error_prefix(mmx_error *err, const char *fmt, ...) {
    if (!err) return MMX_OK;
    char prefix[MMX_ERROR_MESSAGE_SIZE], old[MMX_ERROR_MESSAGE_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    old[sizeof old - 1] = 0;
    size_t n = strnlen(prefix, sizeof prefix - 1);
    if (n > sizeof err->message - 3) n = sizeof err->message - 3;
    memcpy(err->message, prefix, n);
    memcpy(err->message + n, ": ", 2);
    size_t rest = sizeof err->message - n - 3, m = strnlen(old, rest);
    memcpy(err->message + n + 2, old, m);
    err->message[n + 2 + m] = 0;
    return err->status;
}

void mmx_error_clear(mmx_error *err) {
    if (err) {
        err->status = MMX_OK;
        err->message[0] = 0;
    }
}

const char *mmx_status_str(mmx_status s) {
    switch (s) {
    case MMX_OK: return "ok";
    case MMX_ERR_IO: return "I/O error";
    case MMX_ERR_FORMAT: return "malformed file";
    case MMX_ERR_MODEL: return "invalid model";
    case MMX_ERR_UNSUPPORTED: return "unsupported";
    case MMX_ERR_NOMEM: return "out of memory";
    case MMX_ERR_INVALID_ARG: return "invalid argument";
    case MMX_ERR_CONTEXT_FULL: return "context full";
    case MMX_ERR_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

/* IEEE half <-> single, exact for every half value, round-to-nearest-even the other way. */
float mmx_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, u;
    if (exp == 0) {
        if (mant == 0) {
            u = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400u));
            u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (mant << 13);
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t mmx_f32_to_f16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t absu = u & 0x7fffffffu;
    if (absu > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);       /* NaN */
    if (absu >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);      /* overflow -> inf */
    if (absu < 0x38800000u) {                                        /* subnormal or zero */
        if (absu < 0x33000000u) return (uint16_t)sign;
        uint32_t e = absu >> 23, m = (absu & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* 14 + (113 - e) */
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = absu - 0x38000000u; /* rebias exponent 127 -> 15 */
    uint32_t lsb = (r >> 13) & 1u;
    r += 0xfffu + lsb;
    return (uint16_t)(sign | (r >> 13));
}

size_t mmx_type_block_elems(mmx_type t) {
    switch (t) {
    case MMX_TYPE_F32: case MMX_TYPE_F16: case MMX_TYPE_BF16: return 1;
    case MMX_TYPE_Q8_0: case MMX_TYPE_Q4_0: return 32;
    case MMX_TYPE_Q4_K: case MMX_TYPE_Q5_K: case MMX_TYPE_Q6_K: return 256;
    default: return 0;
    }
}

size_t mmx_type_block_bytes(mmx_type t) {
    switch (t) {
    case MMX_TYPE_F32: return 4;
    case MMX_TYPE_F16: case MMX_TYPE_BF16: return 2;
    case MMX_TYPE_Q8_0: return 34;   /* f16 d + 32 int8 */
    case MMX_TYPE_Q4_0: return 18;   /* f16 d + 16 bytes of nibbles */
    case MMX_TYPE_Q4_K: return 144;  /* f16 d, f16 dmin, 12 bytes scales, 128 bytes nibbles */
    case MMX_TYPE_Q5_K: return 176;  /* + 32 bytes high bits */
    case MMX_TYPE_Q6_K: return 210;  /* 128 ql + 64 qh + 16 scales + f16 d */
    default: return 0;
    }
}

size_t mmx_type_row_bytes(mmx_type t, size_t n) {
    size_t be = mmx_type_block_elems(t), bb = mmx_type_block_bytes(t), out;
    if (be == 0 || n % be != 0) return 0;
    if (!mmx_mul_ok(n / be, bb, &out)) return 0;
    return out;
}

const char *mmx_type_name(mmx_type t) {
    static const char *names[MMX_TYPE_COUNT] = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_K", "q5_K", "q6_K"};
    return (unsigned)t < MMX_TYPE_COUNT ? names[t] : "?";
}

double mmx_time_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void *mmx_alloc_aligned(size_t n) {
    size_t rounded;
    if (!mmx_add_ok(n, 63, &rounded)) return NULL;
    rounded &= ~(size_t)63;
    if (rounded == 0) rounded = 64;
    void *p = aligned_alloc(64, rounded);
    if (p) memset(p, 0, rounded);
    return p;
}

void mmx_free_aligned(void *p) { free(p); }

mmx_status mmx_read_file(const char *path, char **out, size_t *out_len, mmx_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return mmx_fail(err, MMX_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return mmx_fail(err, MMX_ERR_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len < cap) break;
        char *nb = cap > SIZE_MAX / 4 ? NULL : realloc(buf, cap * 2 + 1);
        if (!nb) {
            free(buf);
            fclose(f);
            return mmx_fail(err, MMX_ERR_NOMEM, "%s: out of memory reading file", path);
        }
        buf = nb;
        cap *= 2;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return mmx_fail(err, MMX_ERR_IO, "%s: read error", path);
    }
    fclose(f);
    buf[len] = 0;
    *out = buf;
    if (out_len) *out_len = len;
    return MMX_OK;
}
