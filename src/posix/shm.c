/* shm.c - anonymous shared memory handed to children as an fd.
 *
 * Linux: memfd_create gives a segment with no name anywhere, so nothing
 * can leak whatever way the processes end; it is created with mode 0777,
 * which would let anyone who reaches it through /proc/<pid>/fd open it,
 * so it is narrowed to 0600 like the named flavour. Elsewhere (and in the portable
 * flavour): shm_open with a random name, created exclusively with mode
 * 0600 and unlinked at once, before it is sized (an open object keeps its
 * size and mapping without a name). The name carries the creator's pid
 * ("/mp-<pid>-<random>"): a process killed between shm_open and
 * shm_unlink leaves it behind, and the parent that reaps such a child
 * removes what it left (mp_os_shm_sweep, where the names can be listed).
 * The mapping is never memset: the kernel hands out zero pages on first
 * touch, so a large ring costs only what is used. */
#define _GNU_SOURCE
#include "mp_posix_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix_util.h"

static int map_fd(mp_os_shm *shm, int fd, size_t size)
{
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) return mp_px_fail("mmap", errno);
    shm->handle = fd;
    shm->base = base;
    shm->size = size;
    return 0;
}

#if !MP_HAVE_MEMFD_CREATE
static int shm_open_anon(size_t size, int *out)
{
    *out = -1;
    for (int attempt = 0; attempt < 64; attempt++) {
        unsigned char rnd[8];
        int rc = mp_os_random(rnd, sizeof rnd);
        if (rc) return rc;
        char name[32]; /* "/mp-" pid "-" 12 hex: at most 28 chars, macOS allows 31 */
        snprintf(name, sizeof name, "/mp-%u-%02x%02x%02x%02x%02x%02x", (unsigned)getpid(),
                 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
        int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd < 0) {
            if (errno == EEXIST || errno == EINTR) continue;
            return mp_px_fail("shm_open", errno);
        }
        shm_unlink(name);
        int err = 0;
        const char *what = NULL;
        if (ftruncate(fd, (off_t)size) < 0) {
            err = errno;
            what = "ftruncate";
        }
        if (!what && mp_px_cloexec(fd) < 0) {
            err = errno;
            what = "fcntl(FD_CLOEXEC)";
        }
        if (what) {
            close(fd);
            return mp_px_fail(what, err);
        }
        *out = fd;
        return 0;
    }
    return mp_set_error(MP_ESYS, "shm_open: no free random name after 64 attempts");
}
#endif

int mp_os_shm_create(mp_os_shm *shm, size_t size)
{
    shm->handle = MP_OS_NO_HANDLE;
    shm->base = NULL;
    shm->size = 0;
    if (size == 0) return mp_set_error(MP_EINVAL, "shared memory of size 0");
    if ((uint64_t)size > (uint64_t)INT64_MAX)
        return mp_set_error(MP_EINVAL, "shared memory size %zu too large", size);
    int fd = -1;
#if MP_HAVE_MEMFD_CREATE
    fd = memfd_create("mproc", MFD_CLOEXEC);
    if (fd < 0) return mp_px_fail("memfd_create", errno);
    const char *what = NULL;
    if (fchmod(fd, 0600) < 0)
        what = "fchmod";
    else if (ftruncate(fd, (off_t)size) < 0)
        what = "ftruncate";
    if (what) {
        int e = errno;
        close(fd);
        return mp_px_fail(what, e);
    }
#else
    int rc = shm_open_anon(size, &fd);
    if (rc) return rc;
#endif
    int rc2 = map_fd(shm, fd, size);
    if (rc2) close(fd);
    return rc2;
}

int mp_os_shm_attach(mp_os_shm *shm, mp_os_handle handle, size_t size)
{
    shm->handle = MP_OS_NO_HANDLE;
    shm->base = NULL;
    shm->size = 0;
    if (handle < 0 || handle > INT_MAX)
        return mp_set_error(MP_EINVAL, "shared memory handle %ld invalid", (long)handle);
    int fd = (int)handle;
    if (size == 0) {
        close(fd);
        return mp_set_error(MP_EINVAL, "shared memory of size 0");
    }
    /* Touching a page past the end of the object would be SIGBUS, so a
     * handle that does not match what the peer described is refused. */
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return mp_px_fail("fstat", e);
    }
    if (st.st_size < 0 || (uint64_t)st.st_size < (uint64_t)size) {
        close(fd);
        return mp_set_error(MP_EPROTO,
                            "shared memory segment has %lld bytes, expected %zu",
                            (long long)st.st_size, size);
    }
    int rc = map_fd(shm, fd, size);
    if (rc) close(fd);
    return rc;
}

void mp_os_shm_close(mp_os_shm *shm)
{
    if (shm->base) munmap(shm->base, shm->size);
    if (shm->handle >= 0) close((int)shm->handle);
    shm->base = NULL;
    shm->size = 0;
    shm->handle = MP_OS_NO_HANDLE;
}

#if !MP_HAVE_MEMFD_CREATE && defined(__linux__)
#include <dirent.h>
#include <string.h>

void mp_os_shm_sweep(uint32_t pid)
{
    char prefix[24];
    int n = snprintf(prefix, sizeof prefix, "mp-%u-", (unsigned)pid);
    DIR *d = opendir("/dev/shm");
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, (size_t)n) != 0) continue;
        char name[300];
        snprintf(name, sizeof name, "/%s", e->d_name);
        shm_unlink(name);
    }
    closedir(d);
}
#else
void mp_os_shm_sweep(uint32_t pid)
{
    /* memfd segments have no name; elsewhere the names cannot be listed. */
    (void)pid;
}
#endif

/* ---- named segments (SharedMemory) ------------------------------------------ */

/* The OS's name of a segment: "/" + name. */
static int named_path(const char *name, char *path, size_t cap)
{
    int n = snprintf(path, cap, "/%s", name);
    if (n < 0 || (size_t)n >= cap)
        return mp_set_error(MP_EINVAL, "shared memory name '%s' is too long", name);
    return 0;
}

/* Empties *shm, then named_path. */
static int named_start(mp_os_shm *shm, const char *name, char *path, size_t cap)
{
    shm->handle = MP_OS_NO_HANDLE;
    shm->base = NULL;
    shm->size = 0;
    return named_path(name, path, cap);
}

int mp_os_shm_create_named(mp_os_shm *shm, const char *name, size_t size)
{
    char path[64];
    int rc = named_start(shm, name, path, sizeof path);
    if (rc < 0) return rc;
    if ((uint64_t)size > (uint64_t)INT64_MAX)
        return mp_set_error(MP_EINVAL, "shared memory size %zu too large", size);
    int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return mp_set_error(MP_EEXIST, "shared memory '%s' exists already", name);
        return mp_px_fail("shm_open", errno);
    }
    /* shm_open sets FD_CLOEXEC itself (POSIX requires it). */
    rc = ftruncate(fd, (off_t)size) < 0 ? mp_px_fail("ftruncate", errno)
                                        : map_fd(shm, fd, size);
    if (rc < 0) {
        /* The name is this call's own: it must not outlive the failure. */
        close(fd);
        shm_unlink(path);
    }
    return rc;
}

int mp_os_shm_open_named(mp_os_shm *shm, const char *name)
{
    char path[64];
    int rc = named_start(shm, name, path, sizeof path);
    if (rc < 0) return rc;
    int fd = shm_open(path, O_RDWR, 0);
    if (fd < 0) {
        if (errno == ENOENT)
            return mp_set_error(MP_ENOTFOUND, "no shared memory named '%s'", name);
        return mp_px_fail("shm_open", errno);
    }
    struct stat st;
    if (fstat(fd, &st) < 0)
        rc = mp_px_fail("fstat", errno);
    else if (st.st_size <= 0 || (uint64_t)st.st_size > (uint64_t)SIZE_MAX)
        rc = mp_set_error(MP_EINVAL, "shared memory '%s' has size %lld", name,
                          (long long)st.st_size);
    else
        rc = map_fd(shm, fd, (size_t)st.st_size);
    if (rc < 0) close(fd); /* never the name: it is not this call's */
    return rc;
}

int mp_os_shm_unlink_named(const char *name)
{
    char path[64];
    int rc = named_path(name, path, sizeof path);
    if (rc < 0) return rc;
    if (shm_unlink(path) == 0) return 0;
    if (errno == ENOENT)
        return mp_set_error(MP_ENOTFOUND, "no shared memory named '%s'", name);
    return mp_px_fail("shm_unlink", errno);
}

const char *mp_os_shm_name_prefix(void)
{
    return "psm_";
}
