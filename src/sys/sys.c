/*
 * The real OS entry points behind rm_sys.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sys.h"

#include <bcrypt.h>
#include <sddl.h>
#include <string.h>

static void *sys_alloc(SIZE_T size)
{
    return HeapAlloc(GetProcessHeap(), 0, size ? size : 1);
}

static void sys_free(void *p)
{
    if (p)
        HeapFree(GetProcessHeap(), 0, p);
}

/* The system-preferred CSPRNG (the key is the only credential for joining a session). */
static BOOL sys_random_bytes(void *buf, ULONG len)
{
    return BCRYPT_SUCCESS(BCryptGenRandom(NULL, buf, len, BCRYPT_USE_SYSTEM_PREFERRED_RNG));
}

/* One list, used for the live table and for the pristine copy that rm_sys_reset restores. */
#define RM_SYS_REAL_ENTRIES                                                                   \
    {                                                                                         \
        sys_alloc, sys_free, sys_random_bytes, OpenProcessToken, GetTokenInformation,         \
        ConvertSidToStringSidW, LocalFree, CreateMutexW, ReleaseMutex, WaitForSingleObject,   \
        CreateFileMappingW, OpenFileMappingW, MapViewOfFile, UnmapViewOfFile, VirtualAlloc,   \
        CloseHandle, GetCurrentProcessId, OpenProcess, GetProcessTimes, IsWow64Process,       \
        GetFullPathNameW, GetSystemWindowsDirectoryW,                                         \
    }

static const struct rm_sys_table rm_sys_real = RM_SYS_REAL_ENTRIES;
struct rm_sys_table rm_sys = RM_SYS_REAL_ENTRIES;

void rm_sys_reset(void)
{
    rm_sys = rm_sys_real;
}

void *rm_alloc_zero(SIZE_T size)
{
    void *p = rm_sys.alloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}
