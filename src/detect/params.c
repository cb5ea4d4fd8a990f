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

/* How we read the target's memory: with our own pointer size, or (a 32-bit caller under WOW64
 * reading a 64-bit target) through the OS's 64-bit reach. */
static BOOL read_remote(HANDLE p, int wide, ULONGLONG at, void *buf, SIZE_T n)
{
    if (!at)
        return FALSE;
    if (wide) {
        ULONG64 got = 0;
        return rm_sys.NtWow64ReadVirtualMemory64(p, at, buf, n, &got) >= 0 && got == n;
    }
    SIZE_T got = 0;
    if (at > (ULONG_PTR)-1)
        return FALSE;
    return rm_sys.ReadProcessMemory(p, (LPCVOID)(ULONG_PTR)at, buf, n, &got) && got == n;
}

/* A UNICODE_STRING of the target (Length, then the buffer pointer at its natural alignment). */
static DWORD read_string(HANDLE p, int wide, const BYTE *ustr, int ptr, WCHAR **out)
{
    USHORT len;
    ULONGLONG buf = 0;
    memcpy(&len, ustr, 2);
    memcpy(&buf, ustr + ptr, (size_t)ptr);
    WCHAR *s = rm_sys.alloc((size_t)len + sizeof(WCHAR));
    if (!s)
        return ERROR_OUTOFMEMORY;
    if (len && !read_remote(p, wide, buf, s, len)) {
        rm_sys.free(s);
        return ERROR_PARTIAL_COPY;
    }
    s[len / sizeof(WCHAR)] = 0;
    *out = s;
    return ERROR_SUCCESS;
}

static DWORD read_params(HANDLE p, int wide, ULONGLONG peb, const struct layout *l, WCHAR **cmd, WCHAR **dir)
{
    ULONGLONG params = 0;
    BYTE buf[0x80];
    if (!read_remote(p, wide, peb + l->params, &params, (SIZE_T)l->ptr) || !read_remote(p, wide, params, buf, l->span))
        return ERROR_PARTIAL_COPY;
    DWORD err = read_string(p, wide, buf + l->dir, l->ptr, dir);
    if (!err && (err = read_string(p, wide, buf + l->cmd, l->ptr, cmd)) != ERROR_SUCCESS) {
        rm_sys.free(*dir);
        *dir = NULL;
    }
    return err;
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
    return read_params(p, 0, peb, l, cmd, dir);
}

/* The 64-bit form of PROCESS_BASIC_INFORMATION, as NtWow64QueryInformationProcess64 fills it. */
struct basic_info64 {
    LONG exit_status;
    ULONG pad;
    ULONG64 peb;
    ULONG64 affinity;
    LONG priority;
    ULONG pad2;
    ULONG64 pid, parent;
};

DWORD rm_process_params64(HANDLE p, WCHAR **cmd, WCHAR **dir)
{
    struct basic_info64 bi;
    *cmd = *dir = NULL;
    memset(&bi, 0, sizeof bi);
    NTSTATUS st = rm_sys.NtWow64QueryInformationProcess64(p, ProcessBasicInformation, &bi, sizeof bi, NULL);
    if (st == RM_STATUS_NOT_IMPLEMENTED || st == RM_STATUS_PROCEDURE_NOT_FOUND || (st >= 0 && !bi.peb))
        return ERROR_NOT_SUPPORTED; /* Wine 8: no such call, or a PEB address of 0 */
    if (st < 0)
        return ERROR_PARTIAL_COPY;
    return read_params(p, 1, bi.peb, &layout64, cmd, dir);
}
