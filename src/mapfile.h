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

#endif
