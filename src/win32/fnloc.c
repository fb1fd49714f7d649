/* fnloc.c - naming a function so that another run of this program finds it.
 *
 * A spawned child runs the same executable with the same DLLs, but ASLR may
 * load each at another address, so a function is named by its module and
 * its offset from the module's base (an HMODULE is the base address).
 * GetModuleHandleExW(FROM_ADDRESS | UNCHANGED_REFCOUNT) finds the module
 * holding any code address, static functions included; the main program
 * is recorded as "" (POSIX's convention: its path could differ between
 * runs, e.g. through a junction, and it is always there), any DLL by its
 * full path as UTF-8.
 *
 * resolve does not load anything: a DLL the parent loaded later with
 * LoadLibrary is not in the child, which is reported (MP_EPROTO), as on
 * POSIX. The result is accepted only inside an executable section of that
 * module's PE image (IMAGE_SCN_MEM_EXECUTE), so a corrupt or foreign
 * location never becomes a jump into data. Wine loads the exe at the same
 * base in every process (no ASLR), so Wine cannot catch an offset bug;
 * the arithmetic is the same as on POSIX, where ASLR is on. */
#include <stdlib.h>
#include <string.h>

#include "win32_util.h"

int mp_os_fn_locate(void (*fn)(void), mp_os_fnloc *loc)
{
    loc->module[0] = '\0';
    loc->offset = 0;
    HMODULE mod = NULL;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            (LPCWSTR)(uintptr_t)fn, &mod) ||
        !mod)
        return mp_set_error(MP_EUNSUPPORTED, "function at %p is in no loaded module",
                            (void *)(uintptr_t)fn);
    if (mod != GetModuleHandleW(NULL)) {
        wchar_t path[MAX_PATH * 4];
        DWORD n = GetModuleFileNameW(mod, path, (DWORD)(sizeof path / sizeof path[0]));
        if (n == 0 || n >= sizeof path / sizeof path[0])
            return mp_set_error(MP_EUNSUPPORTED, "module path of function at %p unknown",
                                (void *)(uintptr_t)fn);
        char *u = NULL;
        int rc = mp_w32_to_utf8(path, &u);
        if (rc) return rc;
        size_t len = strlen(u);
        if (len >= sizeof loc->module) {
            free(u);
            return mp_set_error(MP_EUNSUPPORTED, "module path of function at %p too long",
                                (void *)(uintptr_t)fn);
        }
        memcpy(loc->module, u, len + 1);
        free(u);
    }
    loc->offset = (uint64_t)((uintptr_t)fn - (uintptr_t)mod);
    return 0;
}

/* 1 if rva lies in an executable section of the image at base. */
static int in_code(const unsigned char *base, uint64_t rva)
{
    const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)(const void *)base;
    if (dos->e_magic != IMAGE_DOS_SIGNATURE || dos->e_lfanew <= 0) return 0;
    const IMAGE_NT_HEADERS *nt =
        (const IMAGE_NT_HEADERS *)(const void *)(base + dos->e_lfanew);
    if (nt->Signature != IMAGE_NT_SIGNATURE) return 0;
    if (rva >= nt->OptionalHeader.SizeOfImage) return 0;
    const IMAGE_SECTION_HEADER *sec = IMAGE_FIRST_SECTION(nt);
    for (WORD i = 0; i < nt->FileHeader.NumberOfSections; i++) {
        if (!(sec[i].Characteristics & IMAGE_SCN_MEM_EXECUTE)) continue;
        uint64_t start = sec[i].VirtualAddress;
        uint64_t size =
            sec[i].Misc.VirtualSize ? sec[i].Misc.VirtualSize : sec[i].SizeOfRawData;
        if (rva >= start && rva - start < size) return 1;
    }
    return 0;
}

int mp_os_fn_resolve(const mp_os_fnloc *loc, void (**fn)(void))
{
    *fn = NULL;
    if (!memchr(loc->module, '\0', sizeof loc->module))
        return mp_set_error(MP_EPROTO, "function location: module name not terminated");
    const char *shown = loc->module[0] ? loc->module : "(main program)";
    HMODULE mod = NULL;
    if (loc->module[0] == '\0') {
        mod = GetModuleHandleW(NULL);
    } else {
        wchar_t *w = NULL;
        int rc = mp_w32_to_wide(loc->module, &w);
        if (rc) return mp_set_error(MP_EPROTO, "module name is not valid UTF-8");
        mod = GetModuleHandleW(w);
        free(w);
    }
    if (!mod)
        return mp_set_error(MP_EPROTO, "module '%s' is not loaded in this process",
                            shown);
    if (!in_code((const unsigned char *)mod, loc->offset))
        return mp_set_error(MP_EPROTO, "offset %#llx is not in the code of '%s'",
                            (unsigned long long)loc->offset, shown);
    *fn = (void (*)(void))((uintptr_t)mod + (uintptr_t)loc->offset);
    return 0;
}
