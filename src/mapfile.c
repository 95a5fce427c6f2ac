#define _GNU_SOURCE /* sync_file_range */
#include "mapfile.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MADV_HUGEPAGE /* not Linux: the advice is only ever a hint */
#define MADV_HUGEPAGE 0
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif

/* The file mapped read-only at an address that is a multiple of MAPFILE_ALIGN, so that file offset
 * and virtual address agree modulo 2 MiB: the condition for the kernel to map page-cache huge folios
 * with PMD entries.  Reserves len + align of address space, maps the file over the aligned part and
 * returns the slack.  MAP_FAILED (errno set) on failure. */
#define MAPFILE_ALIGN ((size_t)2 << 20)
static void *map_file_aligned(int fd, size_t len) {
    if (len > SIZE_MAX - MAPFILE_ALIGN) {
        errno = EOVERFLOW;
        return MAP_FAILED;
    }
    const size_t span = len + MAPFILE_ALIGN;
    uint8_t *r = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) return mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    uint8_t *at = (uint8_t *)(((uintptr_t)r + MAPFILE_ALIGN - 1) & ~(uintptr_t)(MAPFILE_ALIGN - 1));
    void *p = mmap(at, len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    if (p == MAP_FAILED) {
        const int e = errno;
        munmap(r, span);
        errno = e;
        return MAP_FAILED;
    }
    /* give back the reservation around the file: head [r, at), tail past the file's last page */
    if (at > r) munmap(r, (size_t)(at - r));
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *end = at + ((len + page - 1) / page) * page;
    if (end < r + span) munmap(end, (size_t)(r + span - end));
    return p;
}

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
    const size_t len = (size_t)sb.st_size;
    void *p = map_file_aligned(fd, len);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return mmx_fail(err, MMX_ERR_IO, "%s: cannot map: %s", path, strerror(e));
    /* a hint: where the page cache holds the file in 2 MiB folios (ext4, xfs, tmpfs on recent
     * kernels, after readahead of a VM_HUGEPAGE mapping), the kernel maps them with one TLB entry each */
    (void)madvise(p, len, MADV_HUGEPAGE);
    out->data = p;
    out->len = len;
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

/* One "Name:   N kB" field of an smaps block, or -1 when the line is not that field. */
static long long smaps_field_kb(const char *line, size_t n, const char *name) {
    const size_t k = strlen(name);
    if (n <= k || memcmp(line, name, k) != 0 || line[k] != ':') return -1;
    size_t i = k + 1;
    while (i < n && line[i] == ' ') i++;
    long long v = 0;
    size_t digits = 0;
    while (i < n && line[i] >= '0' && line[i] <= '9' && digits < 18) v = v * 10 + (line[i++] - '0'), digits++;
    return digits ? v : -1;
}

size_t mmx_smaps_huge_bytes(const char *text, size_t n, uintptr_t lo, uintptr_t hi) {
    size_t total = 0;
    bool inside = false; /* the current mapping starts inside [lo, hi) */
    size_t i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && text[e] != '\n') e++;
        const char *line = text + i;
        const size_t len = e - i;
        /* a mapping's header is "start-end perms ...", start in hex: the only lines with a '-'
         * right after a run of hex digits at the start */
        size_t h = 0;
        uintptr_t start = 0;
        while (h < len && h < 16 &&
               ((line[h] >= '0' && line[h] <= '9') || (line[h] >= 'a' && line[h] <= 'f'))) {
            const int d = line[h] <= '9' ? line[h] - '0' : line[h] - 'a' + 10;
            start = start * 16 + (uintptr_t)d;
            h++;
        }
        if (h > 0 && h < len && line[h] == '-') {
            inside = start >= lo && start < hi;
        } else if (inside) {
            long long kb = smaps_field_kb(line, len, "FilePmdMapped");
            if (kb < 0) kb = smaps_field_kb(line, len, "AnonHugePages");
            if (kb > 0 && (unsigned long long)kb <= (SIZE_MAX - total) / 1024) total += (size_t)kb * 1024;
        }
        i = e < n ? e + 1 : n;
    }
    return total;
}

size_t mmx_mapfile_huge_bytes(const mmx_mapfile *m) {
    if (!m->data || !m->len) return 0;
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return 0;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *b = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
        const size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0) break;
        n += got;
    }
    fclose(f);
    if (!buf) return 0;
    const uintptr_t lo = (uintptr_t)m->data;
    const size_t huge = mmx_smaps_huge_bytes(buf, n, lo, lo + m->len);
    free(buf);
    return huge;
}

/* Faults every page of [p, p+len) in (readahead, with 2 MiB folios for a VM_HUGEPAGE mapping). */
static void populate(const void *p, size_t len) {
    if (madvise((void *)p, len, MADV_POPULATE_READ) == 0) return;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    volatile const uint8_t *b = p;
    uint8_t sink = 0;
    for (size_t i = 0; i < len; i += page) sink ^= b[i];
    (void)sink;
}

/* The file maps in 2 MiB pages where at least this share of its 2 MiB-aligned span does. */
static bool mostly_huge(size_t huge, size_t len) { return huge >= (len & ~(MAPFILE_ALIGN - 1)) / 10 * 9; }

static bool thp_enabled(void) {
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f) return false;
    char line[128] = {0};
    const bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    return got && !strstr(line, "[never]");
}

/* Replaces the mapping of file bytes [off, off+len) of m (off a multiple of MAPFILE_ALIGN) after
 * dropping their page cache, and faults them in again.  The address range stays reserved meanwhile,
 * so every pointer into m stays valid. */
static mmx_status refill_in_huge_folios(mmx_mapfile *m, int fd, size_t off, size_t len, const char *path,
                                        mmx_error *err) {
    uint8_t *at = (uint8_t *)m->data + off;
    void *hole = mmap(at, len, PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (hole == MAP_FAILED) /* nothing changed: the file mapping is intact */
        return mmx_fail(err, MMX_ERR_NOMEM, "%s: cannot remap for huge pages: %s", path, strerror(errno));
    MMX_ASSERT(hole == at);
    /* dirty pages (a file just written) cannot be dropped until written back */
#ifdef SYNC_FILE_RANGE_WRITE
    (void)sync_file_range(fd, (off_t)off, (off_t)len,
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
#else
    (void)fdatasync(fd);
#endif
    (void)posix_fadvise(fd, (off_t)off, (off_t)len, POSIX_FADV_DONTNEED);
    void *q = mmap(at, len, PROT_READ, MAP_FIXED | MAP_PRIVATE, fd, (off_t)off);
    if (q == MAP_FAILED) {
        /* the range stays reserved (PROT_NONE): the model must not be used; the caller fails */
        return mmx_fail(err, MMX_ERR_IO, "%s: cannot map again: %s", path, strerror(errno));
    }
    MMX_ASSERT(q == at);
    (void)madvise(q, len, MADV_HUGEPAGE);
    populate(q, len);
    return MMX_OK;
}

mmx_status mmx_mapfile_settle_hugepages(mmx_mapfile *m, const char *path, mmx_error *err) {
    if (!m->data || m->len < MAPFILE_ALIGN) return MMX_OK;
    /* a file larger than most of the memory cannot stay cached: faulting it in up front would only
     * read it once more; leave it to demand paging */
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    const bool fits = pages > 0 && page > 0 && m->len / (size_t)page < (size_t)pages / 10 * 8;
    if (!fits || !thp_enabled() || ((uintptr_t)m->data & (MAPFILE_ALIGN - 1)) != 0) return MMX_OK;
    populate(m->data, m->len);
    if (mostly_huge(mmx_mapfile_huge_bytes(m), m->len)) return MMX_OK;
    /* The page cache holds (part of) the file in small folios, which the kernel maps one 4 KiB page
     * at a time (on a VM, two page walks a TLB miss).  Dropping the file's clean, unmapped cache and
     * mapping it again makes readahead for the MADV_HUGEPAGE mapping refill it in 2 MiB folios, kept
     * for later loads.  Costs one read of the file from disk; no data can be lost (only clean page
     * cache is dropped).  Tried on the first 2 MiB first, so that a system whose page cache cannot
     * hold large folios for this file system pays 2 MiB, not the whole file, per load. */
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return mmx_fail(err, MMX_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    mmx_status st = MMX_OK;
    if (fstat(fd, &sb) != 0 || (size_t)sb.st_size != m->len)
        st = mmx_fail(err, MMX_ERR_IO, "%s: changed while loading (size %zu, mapped %zu)", path, (size_t)sb.st_size,
                      m->len);
    if (st == MMX_OK) st = refill_in_huge_folios(m, fd, 0, MAPFILE_ALIGN, path, err);
    if (st == MMX_OK) {
        const mmx_mapfile probe = {m->data, MAPFILE_ALIGN};
        /* >=: the kernel may merge the probe's mapping with the rest, whose 2 MiB parts (if any)
         * then count too -- which also says the file system can hold them */
        if (mmx_mapfile_huge_bytes(&probe) >= MAPFILE_ALIGN)
            st = refill_in_huge_folios(m, fd, MAPFILE_ALIGN, m->len - MAPFILE_ALIGN, path, err);
    }
    close(fd);
    return st;
}

void mmx_mapfile_close(mmx_mapfile *m) {
    if (m->data) munmap((void *)m->data, m->len);
    m->data = NULL;
    m->len = 0;
}
