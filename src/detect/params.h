/*
 * The command line and current directory a process runs with, read from its
 * RTL_USER_PROCESS_PARAMETERS (docs/wow64.md explains which PEB each caller can read).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_PARAMS_H
#define RM_PARAMS_H

#include <windows.h>

/* *cmd and *dir (rm_sys.alloc, NUL-terminated) on ERROR_SUCCESS. ERROR_NOT_SUPPORTED when this
 * process cannot read them itself: a 32-bit caller under WOW64 and a 64-bit target, whose
 * memory and layout are out of reach (src/detect/native.h reads them from a 64-bit helper).
 * Other failures (access, a process that is going, a PEB that does not add up) are
 * ERROR_PARTIAL_COPY or ERROR_OUTOFMEMORY. */
DWORD rm_process_params(HANDLE process, WCHAR **cmd, WCHAR **dir);
/* The same for a 64-bit target of a 32-bit caller under WOW64, through the OS's own 64-bit
 * reach (NtWow64QueryInformationProcess64, NtWow64ReadVirtualMemory64). ERROR_NOT_SUPPORTED
 * where the OS does not give it (Wine 8: the first is missing, a 64-bit PEB is reported as 0). */
DWORD rm_process_params64(HANDLE process, WCHAR **cmd, WCHAR **dir);

/* Is `process` 64-bit while we are 32-bit under WOW64? Then its memory is reached only through
 * the native helper. */
BOOL rm_process_beyond_wow64(HANDLE process);

#endif
