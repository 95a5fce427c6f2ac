/* mapfile.h — read-only memory mapping of a whole file, with clear errors. */
#ifndef MMX_MAPFILE_H
#define MMX_MAPFILE_H

#include "mmx.h"

#include <stddef.h>

typedef struct mmx_mapfile {
    const void *data; /* NULL for an empty file */
    size_t len;
} mmx_mapfile;

/* Maps `path` read-only (MAP_PRIVATE).  Returns MMX_OK, MMX_ERR_IO or MMX_ERR_FORMAT (empty file). */
mmx_status mmx_mapfile_open(const char *path, mmx_mapfile *out, mmx_error *err);
void mmx_mapfile_close(mmx_mapfile *m);

/* Replaces the mapping of `path` (the file m maps) in place, at the same address, by anonymous memory
 * the kernel may back with transparent huge pages, filled by reading the file; then makes it
 * read-only.  Every pointer into m stays valid.  Why: the page cache maps a file in 4 KiB pages, and
 * streaming gigabytes of weights through 4 KiB translations costs decode 25-40% on the development VM
 * (docs/bench.md); anonymous memory can take 2 MiB pages.  The page cache of each part read is dropped
 * (POSIX_FADV_DONTNEED), so the weights are not held twice.  On a read error the file mapping is put
 * back and MMX_ERR_IO returned; MMX_ERR_NOMEM when the memory cannot be had (the mapping stays). */
mmx_status mmx_mapfile_load_hugepages(mmx_mapfile *m, const char *path, mmx_error *err);

#endif
