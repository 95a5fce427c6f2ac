#include "mapfile.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

mmx_status mmx_mapfile_open(const char *path, mmx_mapfile *out, mmx_error *err) {
    out->data = NULL;
    out->len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return mmx_fail(err, MMX_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return mmx_fail(err, MMX_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return mmx_fail(err, MMX_ERR_IO, "%s: not a regular file", path);
    }
    if (sb.st_size == 0) {
        close(fd);
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: empty file", path);
    }
    void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return mmx_fail(err, MMX_ERR_IO, "%s: cannot map: %s", path, strerror(e));
    out->data = p;
    out->len = (size_t)sb.st_size;
    return MMX_OK;
}

void mmx_mapfile_close(mmx_mapfile *m) {
    if (m->data) munmap((void *)m->data, m->len);
    m->data = NULL;
    m->len = 0;
}
