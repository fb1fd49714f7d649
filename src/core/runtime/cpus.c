/* cpus.c - mp_cpu_count and mp_process_cpu_count (mproc/process.h). */
#include "base/error.h"
#include "mproc/process.h"
#include "platform.h"

int mp_cpu_count(void)
{
    mp_clear_error();
    return mp_os_cpu_count(0);
}

int mp_process_cpu_count(void)
{
    mp_clear_error();
    return mp_os_cpu_count(1);
}
