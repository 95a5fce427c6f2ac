/* mapfile.h — read-only memory mapping of a whole file, with clear errors. */
#ifndef MMX_MAPFILE_H
#define MMX_MAPFILE_H

#include "mmx.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mmx_mapfile {
    const void *data; /* NULL for an empty file */
    size_t len;
} mmx_mapfile;

/* Maps `path` read-only (MAP_PRIVATE) at a 2 MiB-aligned address with MADV_HUGEPAGE, so that page
 * cache held in 2 MiB folios can be mapped with one TLB entry per 2 MiB.  Returns MMX_OK, MMX_ERR_IO or MMX_ERR_FORMAT (empty file). */
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

/* Faults the whole mapping in and makes it use 2 MiB pages where the system can: when the page
 * cache holds the file in small folios (written or read before without MADV_HUGEPAGE), drops that
 * clean cache and maps the file again so readahead refills it in 2 MiB folios (one read of the file
 * from disk; later loads find the large folios).  Files larger than 80% of the physical memory are
 * left to demand paging (they cannot stay cached).  How much it got: mmx_mapfile_huge_bytes.  Same
 * addresses throughout: pointers into m stay valid.  Nothing may read the mapping concurrently.
 * Returns MMX_OK (also when huge pages could not be had), MMX_ERR_IO (the file changed or could not
 * be mapped again: m must then only be closed) or MMX_ERR_NOMEM (no remap possible; m unchanged). */
mmx_status mmx_mapfile_settle_hugepages(mmx_mapfile *m, const char *path, mmx_error *err);

/* Bytes of m mapped with 2 MiB entries now, from /proc/self/smaps; 0 when it cannot tell. */
size_t mmx_mapfile_huge_bytes(const mmx_mapfile *m);

/* Sum of FilePmdMapped and AnonHugePages, in bytes, over the mappings of smaps text `text` (n bytes,
 * not necessarily NUL-terminated) that start inside [lo, hi).  Pure; malformed lines are skipped. */
size_t mmx_smaps_huge_bytes(const char *text, size_t n, uintptr_t lo, uintptr_t hi);

#endif
