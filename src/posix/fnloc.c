/* fnloc.c - naming a function so that another run of this program finds it.
 *
 * A spawned child runs the same executable with the same libraries, but
 * each may load at another address (ASLR, PIE), so a function is named by
 * its module and its offset from the module's load address. With
 * dl_iterate_phdr (glibc, musl, the BSDs) the module is found by its
 * PT_LOAD segments, which also covers static functions, which dladdr
 * cannot name, and the main program is recorded as "" (it is always the
 * first module listed) rather than by the argv[0]-like name that
 * dladdr reports for it. resolve() accepts the result only if it lands in
 * an executable segment of the same module, so a corrupt or foreign
 * location gives MP_EPROTO instead of a jump into data. macOS has no
 * dl_iterate_phdr: there dladdr gives the image base and dyld's image
 * list the path, with image 0 as the main program. */
#define _GNU_SOURCE
#include "mp_posix_config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#if MP_HAVE_DL_ITERATE_PHDR
#include <link.h>
#elif defined(__APPLE__)
#include <dlfcn.h>
#include <mach-o/dyld.h>
#include <mach-o/getsect.h>
#endif

#include "posix_util.h"

#if MP_HAVE_DL_ITERATE_PHDR

struct search {
    uintptr_t addr;
    const char *want; /* resolve: module name to match; locate: NULL */
    int index;
    int found;
    int exec_ok; /* resolve: addr lies in a PF_X segment */
    uintptr_t base;
    char name[sizeof(((mp_os_fnloc *)0)->module)];
    int name_too_long;
};

static int in_segment(const struct dl_phdr_info *info, uintptr_t addr, int want_exec)
{
    for (int i = 0; i < (int)info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        if (want_exec && !(ph->p_flags & PF_X)) continue;
        uintptr_t start = (uintptr_t)info->dlpi_addr + (uintptr_t)ph->p_vaddr;
        if (addr >= start && addr - start < (uintptr_t)ph->p_memsz) return 1;
    }
    return 0;
}

static int locate_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct search *s = data;
    int index = s->index++;
    if (!in_segment(info, s->addr, 0)) return 0;
    const char *name = index == 0 || !info->dlpi_name ? "" : info->dlpi_name;
    if (strlen(name) >= sizeof s->name)
        s->name_too_long = 1;
    else
        snprintf(s->name, sizeof s->name, "%s", name);
    s->base = (uintptr_t)info->dlpi_addr;
    s->found = 1;
    return 1;
}

static int resolve_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct search *s = data;
    int index = s->index++;
    const char *name = index == 0 || !info->dlpi_name ? "" : info->dlpi_name;
    if (strcmp(name, s->want) != 0) return 0;
    s->found = 1;
    s->base = (uintptr_t)info->dlpi_addr;
    uintptr_t addr = s->base + s->addr; /* s->addr holds the offset here */
    if (addr >= s->base && in_segment(info, addr, 1)) {
        s->exec_ok = 1;
        s->addr = addr;
    }
    return 1;
}

int mp_os_fn_locate(void (*fn)(void), mp_os_fnloc *loc)
{
    struct search s;
    memset(&s, 0, sizeof s);
    s.addr = (uintptr_t)fn;
    loc->module[0] = '\0';
    loc->offset = 0;
    dl_iterate_phdr(locate_cb, &s);
    if (!s.found)
        return mp_set_error(MP_EUNSUPPORTED, "function at %p is in no loaded module",
                            (void *)s.addr);
    if (s.name_too_long)
        return mp_set_error(MP_EUNSUPPORTED, "module path of function at %p too long",
                            (void *)s.addr);
    memcpy(loc->module, s.name, sizeof loc->module);
    loc->offset = (uint64_t)(s.addr - s.base);
    return 0;
}

int mp_os_fn_resolve(const mp_os_fnloc *loc, void (**fn)(void))
{
    *fn = NULL;
    if (!memchr(loc->module, '\0', sizeof loc->module))
        return mp_set_error(MP_EPROTO, "function location: module name not terminated");
    if (loc->offset > (uint64_t)UINTPTR_MAX)
        return mp_set_error(MP_EPROTO, "function location: offset out of range");
    struct search s;
    memset(&s, 0, sizeof s);
    s.want = loc->module;
    s.addr = (uintptr_t)loc->offset;
    dl_iterate_phdr(resolve_cb, &s);
    if (!s.found)
        return mp_set_error(MP_EPROTO, "module '%s' is not loaded in this process",
                            loc->module[0] ? loc->module : "(main program)");
    if (!s.exec_ok)
        return mp_set_error(MP_EPROTO, "offset %#llx is not in the code of '%s'",
                            (unsigned long long)loc->offset,
                            loc->module[0] ? loc->module : "(main program)");
    *fn = (void (*)(void))s.addr;
    return 0;
}

#elif defined(__APPLE__)

/* The dyld image index whose header is base, or -1. */
static int image_of(const void *base)
{
    uint32_t count = _dyld_image_count();
    for (uint32_t i = 0; i < count; i++)
        if ((const void *)_dyld_get_image_header(i) == base) return (int)i;
    return -1;
}

int mp_os_fn_locate(void (*fn)(void), mp_os_fnloc *loc)
{
    Dl_info info;
    loc->module[0] = '\0';
    loc->offset = 0;
    if (!dladdr((const void *)(uintptr_t)fn, &info) || !info.dli_fbase)
        return mp_set_error(MP_EUNSUPPORTED, "function is in no loaded module");
    int idx = image_of(info.dli_fbase);
    if (idx < 0) return mp_set_error(MP_EUNSUPPORTED, "function's image not found");
    const char *name = idx == 0 ? "" : _dyld_get_image_name((uint32_t)idx);
    if (!name || strlen(name) >= sizeof loc->module)
        return mp_set_error(MP_EUNSUPPORTED, "function's image has no usable path");
    snprintf(loc->module, sizeof loc->module, "%s", name);
    loc->offset = (uint64_t)((uintptr_t)fn - (uintptr_t)info.dli_fbase);
    return 0;
}

int mp_os_fn_resolve(const mp_os_fnloc *loc, void (**fn)(void))
{
    *fn = NULL;
    if (!memchr(loc->module, '\0', sizeof loc->module))
        return mp_set_error(MP_EPROTO, "function location: module name not terminated");
    uint32_t count = _dyld_image_count();
    for (uint32_t i = 0; i < count; i++) {
        const char *name = i == 0 ? "" : _dyld_get_image_name(i);
        if (!name || strcmp(name, loc->module) != 0) continue;
        const struct mach_header_64 *mh =
            (const struct mach_header_64 *)(const void *)_dyld_get_image_header(i);
        unsigned long text_size = 0;
        const uint8_t *text = getsegmentdata(mh, "__TEXT", &text_size);
        uintptr_t addr = (uintptr_t)mh + (uintptr_t)loc->offset;
        if (!text || addr < (uintptr_t)text || addr - (uintptr_t)text >= text_size)
            return mp_set_error(MP_EPROTO, "offset %#llx is not in the code of '%s'",
                                (unsigned long long)loc->offset,
                                loc->module[0] ? loc->module : "(main program)");
        *fn = (void (*)(void))addr;
        return 0;
    }
    return mp_set_error(MP_EPROTO, "module '%s' is not loaded in this process",
                        loc->module[0] ? loc->module : "(main program)");
}

#else

int mp_os_fn_locate(void (*fn)(void), mp_os_fnloc *loc)
{
    (void)fn;
    loc->module[0] = '\0';
    loc->offset = 0;
    return mp_set_error(MP_EUNSUPPORTED, "no way to locate functions on this system");
}

int mp_os_fn_resolve(const mp_os_fnloc *loc, void (**fn)(void))
{
    (void)loc;
    *fn = NULL;
    return mp_set_error(MP_EUNSUPPORTED, "no way to locate functions on this system");
}

#endif
