/* SPDX-License-Identifier: MIT */
#include "params.h"

#include <string.h>

#include "sys/sys.h"

/* The fields we read, as the documented PEB and RTL_USER_PROCESS_PARAMETERS lay them out for
 * each pointer size (winternl.h; the WOW64 PEB of a 32-bit process is the 32-bit form). */
struct layout {
    int ptr;           /* bytes per pointer */
    unsigned params;   /* PEB.ProcessParameters */
    unsigned dir;      /* RTL_USER_PROCESS_PARAMETERS.CurrentDirectory.DosPath */
    unsigned cmd;      /* RTL_USER_PROCESS_PARAMETERS.CommandLine */
    unsigned span;     /* bytes of RTL_USER_PROCESS_PARAMETERS that hold both */
};
static const struct layout layout32 = {4, 0x10, 0x24, 0x40, 0x48};
static const struct layout layout64 = {8, 0x20, 0x38, 0x70, 0x80};

static BOOL read_remote(HANDLE p, ULONGLONG at, void *buf, SIZE_T n)
{
    SIZE_T got = 0;
    if (!at || at > (ULONG_PTR)-1)
        return FALSE;
    return rm_sys.ReadProcessMemory(p, (LPCVOID)(ULONG_PTR)at, buf, n, &got) && got == n;
}

/* A UNICODE_STRING of the target (Length, then the buffer pointer at its natural alignment). */
static DWORD read_string(HANDLE p, const BYTE *ustr, int ptr, WCHAR **out)
{
    USHORT len;
    ULONGLONG buf = 0;
    memcpy(&len, ustr, 2);
    memcpy(&buf, ustr + ptr, (size_t)ptr);
    WCHAR *s = rm_sys.alloc((size_t)len + sizeof(WCHAR));
    if (!s)
        return ERROR_OUTOFMEMORY;
    if (len && !read_remote(p, buf, s, len)) {
        rm_sys.free(s);
        return ERROR_PARTIAL_COPY;
    }
    s[len / sizeof(WCHAR)] = 0;
    *out = s;
    return ERROR_SUCCESS;
}

BOOL rm_process_beyond_wow64(HANDLE process)
{
#ifdef _WIN64
    (void)process;
    return FALSE;
#else
    BOOL self = FALSE, target = TRUE;
    return rm_sys.IsWow64Process(RM_CURRENT_PROCESS, &self) && self && rm_sys.IsWow64Process(process, &target) &&
           !target;
#endif
}

DWORD rm_process_params(HANDLE p, WCHAR **cmd, WCHAR **dir)
{
    BOOL target_wow = FALSE;
    ULONGLONG peb = 0;
    const struct layout *l = sizeof(void *) == 8 ? &layout64 : &layout32;
    *cmd = *dir = NULL;
    if (rm_process_beyond_wow64(p))
        return ERROR_NOT_SUPPORTED;
    /* A 32-bit target seen from 64-bit code: Windows names its WOW64 PEB (32-bit layout, the
     * parameters its 32-bit code keeps current) in ProcessWow64Information. Wine 8 answers
     * only "yes" there (1), and its native PEB carries the parameters in the native layout.
     * An answer inside the first 64 KiB, which is never mapped, is not an address. */
    ULONG_PTR wow_peb = 0;
    if (sizeof(void *) == 8 && rm_sys.IsWow64Process(p, &target_wow) && target_wow &&
        rm_sys.NtQueryInformationProcess(p, ProcessWow64Information, &wow_peb, sizeof wow_peb, NULL) >= 0 &&
        wow_peb >= 0x10000) {
        peb = wow_peb;
        l = &layout32;
    } else {
        PROCESS_BASIC_INFORMATION pbi;
        if (rm_sys.NtQueryInformationProcess(p, ProcessBasicInformation, &pbi, sizeof pbi, NULL) < 0)
            return ERROR_PARTIAL_COPY;
        peb = (ULONG_PTR)pbi.PebBaseAddress;
    }
    ULONGLONG params = 0;
    BYTE buf[0x80];
    if (!read_remote(p, peb + l->params, &params, (SIZE_T)l->ptr) || !read_remote(p, params, buf, l->span))
        return ERROR_PARTIAL_COPY;
    DWORD err = read_string(p, buf + l->dir, l->ptr, dir);
    if (!err && (err = read_string(p, buf + l->cmd, l->ptr, cmd)) != ERROR_SUCCESS) {
        rm_sys.free(*dir);
        *dir = NULL;
    }
    return err;
}
