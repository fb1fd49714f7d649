/* identity.c - this process's name and identity (see identity.h) and
 * mp_current_process (mproc/process.h). */
#include <stdio.h>
#include <string.h>

#include "base/atomics.h"
#include "base/error.h"
#include "core/runtime/identity.h"
#include "mproc/process.h"
#include "platform.h"

static char own_name[MP_IDENTITY_MAX] = "MainProcess";
static char own_identity[MP_IDENTITY_MAX]; /* "" in the main process */
static mp_atomic_u32 created;              /* Processes this one made */
static int own_daemon;
static char parent_name[MP_IDENTITY_MAX]; /* "" in the main process */
static int64_t parent_pid;

int mp__identity_next(char *identity, char *name)
{
    uint32_t n = mp_add32(&created, 1, MP_RELAXED) + 1;
    int w = own_identity[0]
                ? snprintf(identity, MP_IDENTITY_MAX, "%s:%u", own_identity, (unsigned)n)
                : snprintf(identity, MP_IDENTITY_MAX, "%u", (unsigned)n);
    if (w < 0 || w >= MP_IDENTITY_MAX - (int)sizeof "Process-")
        return mp_set_error(MP_ETOOBIG, "processes nested too deep for a name");
    snprintf(name, MP_IDENTITY_MAX, "Process-%s", identity);
    return 0;
}

void mp__identity_export(mp_buf *b, const char *identity, const char *name, int daemon)
{
    mp_buf_blob(b, identity, strlen(identity) + 1);
    mp_buf_blob(b, name, strlen(name) + 1);
    mp_buf_u32(b, daemon ? 1u : 0u);
    /* Who the parent is, as the child's mp_parent_process sees it. */
    mp_buf_blob(b, own_name, strlen(own_name) + 1);
    mp_buf_u32(b, mp_os_self());
}

int mp__identity_daemon(void)
{
    return own_daemon;
}

/* A NUL-terminated string of at most MP_IDENTITY_MAX bytes, or NULL. */
static const char *read_string(mp_rd *rd)
{
    size_t n = 0;
    const char *s = mp_rd_blob(rd, &n);
    if (rd->failed || n == 0 || n > MP_IDENTITY_MAX || s[n - 1] != '\0' ||
        memchr(s, '\0', n - 1))
        return NULL;
    return s;
}

int mp__identity_import(mp_rd *rd)
{
    const char *identity = read_string(rd);
    const char *name = read_string(rd);
    uint32_t daemon = mp_rd_u32(rd);
    const char *pname = read_string(rd);
    uint32_t ppid = mp_rd_u32(rd);
    if (!identity || !name || !pname || rd->failed || daemon > 1 || ppid == 0)
        return mp_set_error(MP_EPROTO, "bad process name record");
    own_daemon = (int)daemon;
    snprintf(parent_name, sizeof parent_name, "%s", pname);
    parent_pid = ppid;
    mp_os_watch_parent(ppid);
    snprintf(own_identity, sizeof own_identity, "%s", identity);
    snprintf(own_name, sizeof own_name, "%s", name);
    mp_store32(&created, 0, MP_RELAXED);
    return 0;
}

mp_process_info mp_current_process(void)
{
    mp_process_info info;
    info.name = own_name;
    info.pid = (int64_t)mp_os_self();
    info.daemon = own_daemon;
    return info;
}

int mp_parent_process(mp_process_info *parent)
{
    mp_clear_error();
    if (!parent) return mp_set_error(MP_EINVAL, "NULL parent pointer");
    if (!parent_name[0])
        return mp_set_error(MP_ESTATE, "the main process has no parent process");
    parent->name = parent_name;
    parent->pid = parent_pid;
    parent->daemon = 0; /* a daemonic process has no children */
    return 0;
}

int mp_parent_is_alive(void)
{
    mp_clear_error();
    if (!parent_name[0])
        return mp_set_error(MP_ESTATE, "the main process has no parent process");
    return mp_os_parent_alive();
}
