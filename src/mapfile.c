#include "mapfile.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
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

mmx_status mmx_mapfile_load_hugepages(mmx_mapfile *m, const char *path, mmx_error *err) {
    if (!m->data || !m->len) return MMX_OK;
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return mmx_fail(err, MMX_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (size_t)sb.st_size != m->len) {
        close(fd);
        return mmx_fail(err, MMX_ERR_IO, "%s: changed while loading (size %zu, mapped %zu)", path,
                        (size_t)sb.st_size, m->len);
    }
    void *at = (void *)m->data;
    /* the same address range, now anonymous: the parsers' pointers into it stay valid */
    void *p = mmap(at, m->len, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        const int e = errno;
        close(fd);
        return mmx_fail(err, MMX_ERR_NOMEM, "%s: cannot get %zu bytes of memory: %s", path, m->len, strerror(e));
    }
    (void)madvise(p, m->len, MADV_HUGEPAGE); /* a hint: without THP this is plain anonymous memory */
    const size_t step = (size_t)64 << 20;
    size_t done = 0;
    int e = 0;
    while (done < m->len) {
        const size_t want = m->len - done < step ? m->len - done : step;
        const ssize_t got = pread(fd, (uint8_t *)p + done, want, (off_t)done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            e = got < 0 ? errno : EIO;
            break;
        }
        (void)posix_fadvise(fd, (off_t)done, got, POSIX_FADV_DONTNEED);
        done += (size_t)got;
    }
    if (done < m->len) {
        /* put the file mapping back so the model stays usable and freeable */
        void *q = mmap(at, m->len, PROT_READ, MAP_FIXED | MAP_PRIVATE, fd, 0);
        close(fd);
        MMX_ASSERT(q == at);
        return mmx_fail(err, MMX_ERR_IO, "%s: read failed at byte %zu of %zu: %s", path, done, m->len, strerror(e));
    }
    close(fd);
    (void)mprotect(p, m->len, PROT_READ);
    return MMX_OK;
}

void mmx_mapfile_close(mmx_mapfile *m) {
    if (m->data) munmap((void *)m->data, m->len);
    m->data = NULL;
    m->len = 0;
}
