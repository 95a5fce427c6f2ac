/*
 * strmap.h — open-addressing hash map from borrowed NUL-terminated strings to void pointers.
 * Keys are not copied: they must outlive the map.
 */
#ifndef MMX_STRMAP_H
#define MMX_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mmx_strmap {
    const char **keys;
    void **values;
    size_t cap;   /* power of two */
    size_t count;
} mmx_strmap;

/* Room for at least n keys without growth.  False on allocation failure. */
bool mmx_strmap_init(mmx_strmap *m, size_t n);
void mmx_strmap_free(mmx_strmap *m);
/* Inserts key -> value.  Returns false on allocation failure; *existed (may be NULL) tells whether
 * the key was already present (its value is then left unchanged). */
bool mmx_strmap_put(mmx_strmap *m, const char *key, void *value, bool *existed);
void *mmx_strmap_get(const mmx_strmap *m, const char *key);

#endif
