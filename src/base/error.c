/* error.c - error names and the per-thread detail message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/compat.h"
#include "base/error.h"
#include "mproc/version.h"

static MP_THREAD_LOCAL char last_error[256];
MP_THREAD_LOCAL_FAST unsigned char mp__error_fresh;

static const struct {
    int code;
    const char *name;
    const char *text;
} errors[] = {
    {MP_OK, "MP_OK", "success"},
    {MP_EINVAL, "MP_EINVAL", "invalid argument"},
    {MP_ENOMEM, "MP_ENOMEM", "out of memory"},
    {MP_ESYS, "MP_ESYS", "operating system call failed"},
    {MP_ETIMEDOUT, "MP_ETIMEDOUT", "timed out"},
    {MP_EEMPTY, "MP_EEMPTY", "queue empty"},
    {MP_EFULL, "MP_EFULL", "queue full"},
    {MP_ECLOSED, "MP_ECLOSED", "end of file: the other end is closed"},
    {MP_ETOOBIG, "MP_ETOOBIG", "message too long"},
    {MP_ETOOSHORT, "MP_ETOOSHORT", "buffer too short for the message"},
    {MP_EOWNERDEAD, "MP_EOWNERDEAD", "a process died holding the lock"},
    {MP_EPROTO, "MP_EPROTO", "corrupt or truncated data from the peer"},
    {MP_ESTATE, "MP_ESTATE", "not valid in the object's current state"},
    {MP_EUNSUPPORTED, "MP_EUNSUPPORTED", "not supported"},
    {MP_ERANGE, "MP_ERANGE", "out of range"},
    {MP_EAUTH, "MP_EAUTH", "authentication failed"},
    {MP_EBROKEN, "MP_EBROKEN", "barrier broken"},
    {MP_EEXIST, "MP_EEXIST", "the name exists already"},
    {MP_ENOTFOUND, "MP_ENOTFOUND", "not found"},
    {MP_ETASK, "MP_ETASK", "a pool task failed"},
    {MP_EWORKERDIED, "MP_EWORKERDIED", "the pool worker running the task died"},
};

const char *mp_strerror(int code)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].code == code) return errors[i].text;
    return "unknown error";
}

const char *mp_error_name(int code)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].code == code) return errors[i].name;
    return "MP_E?";
}

const char *mp_last_error(void)
{
    return mp__error_fresh ? last_error : "";
}

int mp_set_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    mp__error_fresh = 1;
    return code;
}

void mp__clear_error(void)
{
    mp_clear_error();
}

void mp_free(void *p)
{
    free(p);
}

unsigned mp_version(void)
{
    return MP_VERSION_HEX;
}

#define MP_STR_(x) #x
#define MP_STR(x)  MP_STR_(x)

const char *mp_version_string(void)
{
    return MP_STR(MP_VERSION_MAJOR) "." MP_STR(MP_VERSION_MINOR) "." MP_STR(
        MP_VERSION_PATCH);
}
