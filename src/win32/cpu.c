/* cpu.c - how many CPUs there are, and how many this process may use:
 * every processor group's active processors, and the bits of the
 * process's affinity mask (which covers its own group only, as Python's
 * os.process_cpu_count() counts on Windows). */
#include "win32_util.h"

int mp_os_cpu_count(int usable)
{
    DWORD all = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
    if (all == 0)
        return mp_set_error(MP_EUNSUPPORTED, "the number of CPUs is not known here");
    if (!usable) return (int)all;
    DWORD_PTR mine = 0, system = 0;
    if (!GetProcessAffinityMask(GetCurrentProcess(), &mine, &system) || mine == 0)
        return (int)all;
    int n = 0;
    for (; mine; mine &= mine - 1)
        n++;
    return n;
}
