/* shm.c - anonymous shared memory handed to children as a section handle.
 *
 * A section made by CreateFileMappingW(INVALID_HANDLE_VALUE, ...) is backed
 * by the paging file and has no name, so no other process can open it and
 * nothing outlives the last handle, however the processes end. The handle
 * is created NOT inheritable: mp_os_spawn gives each child an inheritable
 * duplicate listed in PROC_THREAD_ATTRIBUTE_HANDLE_LIST and closes it after
 * CreateProcessW, so a CreateProcess elsewhere in the program (system(),
 * another library) with bInheritHandles=TRUE never takes our sections.
 *
 * Pages are zero-filled and allocated on first touch, as the contract
 * says; but unlike POSIX, a pagefile-backed section *commits* its whole
 * size at creation, against the system commit limit (RAM + paging file).
 * A queue's default 8 MiB ring therefore costs 8 MiB of commit per queue
 * here, used or not. SEC_RESERVE + VirtualAlloc(MEM_COMMIT) on first use
 * would avoid that, but every process would have to commit the pages it
 * touches, which the core does not know about; docs/win32-layer.md.
 *
 * attach maps the whole section and checks, with VirtualQuery, that it is
 * at least as large as the peer said, so a mismatched handle is refused
 * (MP_EPROTO) instead of faulting later. */
#include "win32_util.h"

static void reset(mp_os_shm *shm)
{
    shm->handle = MP_OS_NO_HANDLE;
    shm->base = NULL;
    shm->size = 0;
}

int mp_os_shm_create(mp_os_shm *shm, size_t size)
{
    reset(shm);
    if (size == 0) return mp_set_error(MP_EINVAL, "shared memory of size 0");
    uint64_t s64 = size;
    HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE,
                                  (DWORD)(s64 >> 32), (DWORD)(s64 & 0xffffffffu), NULL);
    if (!h) return mp_w32_fail("CreateFileMappingW", GetLastError());
    void *base = MapViewOfFile(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, size);
    if (!base) {
        DWORD e = GetLastError();
        CloseHandle(h);
        return mp_w32_fail("MapViewOfFile", e);
    }
    shm->handle = (mp_os_handle)h;
    shm->base = base;
    shm->size = size;
    return 0;
}

/* Maps the whole section h and takes its size from the region: Windows
 * keeps no size apart from the mapping, and rounds it to pages (as
 * Python's SharedMemory reads it back). Takes h, also on failure. */
static int map_whole(mp_os_shm *shm, HANDLE h)
{
    void *base = MapViewOfFile(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    if (!base) {
        DWORD e = GetLastError();
        CloseHandle(h);
        return mp_w32_fail("MapViewOfFile", e);
    }
    MEMORY_BASIC_INFORMATION mbi;
    if (VirtualQuery(base, &mbi, sizeof mbi) == 0) {
        DWORD e = GetLastError();
        UnmapViewOfFile(base);
        CloseHandle(h);
        return mp_w32_fail("VirtualQuery", e);
    }
    shm->handle = (mp_os_handle)h;
    shm->base = base;
    shm->size = mbi.RegionSize;
    return 0;
}

int mp_os_shm_attach(mp_os_shm *shm, mp_os_handle handle, size_t size)
{
    reset(shm);
    if (!mp_w32_valid(handle))
        return mp_set_error(MP_EINVAL, "shared memory handle %lld invalid",
                            (long long)handle);
    HANDLE h = mp_w32_h(handle);
    if (size == 0) {
        CloseHandle(h);
        return mp_set_error(MP_EINVAL, "shared memory of size 0");
    }
    int rc = map_whole(shm, h);
    if (rc == 0 && shm->size < size) {
        size_t have = shm->size;
        mp_os_shm_close(shm);
        return mp_set_error(
            MP_EPROTO, "shared memory segment has %zu bytes, expected %zu", have, size);
    }
    if (rc == 0) shm->size = size;
    return rc;
}

void mp_os_shm_close(mp_os_shm *shm)
{
    if (shm->base) UnmapViewOfFile(shm->base);
    if (mp_w32_valid(shm->handle)) CloseHandle(mp_w32_h(shm->handle));
    reset(shm);
}

void mp_os_shm_sweep(uint32_t pid)
{
    /* Sections are unnamed: a killed creator leaves nothing behind. */
    (void)pid;
}

/* ---- named segments (SharedMemory) ------------------------------------------ */

int mp_os_shm_create_named(mp_os_shm *shm, const char *name, size_t size)
{
    reset(shm);
    if (size == 0) return mp_set_error(MP_EINVAL, "shared memory of size 0");
    wchar_t *wname = NULL;
    int rc = mp_w32_to_wide(name, &wname);
    if (rc < 0) return rc;
    uint64_t s64 = size;
    HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE,
                                  (DWORD)(s64 >> 32), (DWORD)(s64 & 0xffffffffu), wname);
    DWORD e = GetLastError();
    free(wname);
    if (!h) return mp_w32_fail("CreateFileMappingW", e);
    if (e == ERROR_ALREADY_EXISTS) {
        CloseHandle(h);
        return mp_set_error(MP_EEXIST, "shared memory '%s' exists already", name);
    }
    return map_whole(shm, h);
}

int mp_os_shm_open_named(mp_os_shm *shm, const char *name)
{
    reset(shm);
    wchar_t *wname = NULL;
    int rc = mp_w32_to_wide(name, &wname);
    if (rc < 0) return rc;
    HANDLE h = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, wname);
    DWORD e = GetLastError();
    free(wname);
    if (!h) {
        if (e == ERROR_FILE_NOT_FOUND)
            return mp_set_error(MP_ENOTFOUND, "no shared memory named '%s'", name);
        return mp_w32_fail("OpenFileMappingW", e);
    }
    return map_whole(shm, h);
}

int mp_os_shm_unlink_named(const char *name)
{
    (void)name;
    return 0;
}

const char *mp_os_shm_name_prefix(void)
{
    return "wnsm_";
}

/* Tracking: a named section goes with its last handle, whoever held it,
 * so there is nothing to unlink later. */
int mp_os_shm_track(const char *name)
{
    (void)name;
    return 0;
}

void mp_os_shm_untrack(const char *name)
{
    (void)name;
}

mp_os_handle mp_os_shm_tracker(void)
{
    return MP_OS_NO_HANDLE;
}

void mp_os_shm_tracker_adopt(mp_os_handle h)
{
    mp_os_close(h);
}
