#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

bool mmx_strmap_init(mmx_strmap *m, size_t n) {
    size_t cap = 16;
    while (cap < 2 * n + 2) {
        if (cap > SIZE_MAX / 4) return false;
        cap *= 2;
    }
    m->keys = calloc(cap, sizeof *m->keys);
    m->values = calloc(cap, sizeof *m->values);
    m->cap = cap;
    m->count = 0;
    if (!m->keys || !m->values) {
        mmx_strmap_free(m);
        return false;
    }
    return true;
}

void mmx_strmap_free(mmx_strmap *m) {
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof *m);
}

static bool grow(mmx_strmap *m) {
    mmx_strmap bigger;
    if (!mmx_strmap_init(&bigger, m->cap)) return false;
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) mmx_strmap_put(&bigger, m->keys[i], m->values[i], NULL);
    mmx_strmap_free(m);
    *m = bigger;
    return true;
}

bool mmx_strmap_put(mmx_strmap *m, const char *key, void *value, bool *existed) {
    if (existed) *existed = false;
    if (2 * (m->count + 1) > m->cap && !grow(m)) return false;
    size_t mask = m->cap - 1, i = (size_t)hash_str(key) & mask;
    while (m->keys[i]) {
        if (!strcmp(m->keys[i], key)) {
            if (existed) *existed = true;
            return true;
        }
        i = (i + 1) & mask;
    }
    m->keys[i] = key;
    m->values[i] = value;
    m->count++;
    return true;
}

void *mmx_strmap_get(const mmx_strmap *m, const char *key) {
    if (!m->cap) return NULL;
    size_t mask = m->cap - 1, i = (size_t)hash_str(key) & mask;
    while (m->keys[i]) {
        if (!strcmp(m->keys[i], key)) return m->values[i];
        i = (i + 1) & mask;
    }
    return NULL;
}
