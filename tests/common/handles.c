/*
 * Handle counting for leak checks (see handles.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "handles.h"

#include <stdio.h>
#include <stdlib.h>
#include <winternl.h>

#include "detect/handle_table.h"

DWORD rm_test_handle_count(void)
{
    DWORD n = 0;
    if (GetProcessHandleCount(GetCurrentProcess(), &n) && n)
        return n;
    ULONG size = 1u << 20;
    for (int tries = 0; tries < 8; tries++, size *= 2) {
        struct handle_table *t = malloc(size);
        ULONG need = 0;
        NTSTATUS st = t ? NtQuerySystemInformation((SYSTEM_INFORMATION_CLASS)SYSTEM_EXTENDED_HANDLE_INFORMATION, t,
                                                   size, &need)
                        : (NTSTATUS)0xC0000017L;
        if (st >= 0) {
            ULONG_PTR self = GetCurrentProcessId();
            for (ULONG_PTR i = 0; i < t->count; i++)
                n += t->entries[i].pid == self;
            free(t);
            return n;
        }
        free(t);
        if (st != STATUS_INFO_LENGTH_MISMATCH_) /* anything but "a larger buffer, please" */
            break;
    }
    return (DWORD)-1;
}

static DWORD marked = (DWORD)-1;

void rm_test_handles_mark(void)
{
    marked = rm_test_handle_count();
}

int rm_test_handles_unchanged(void)
{
    DWORD now = rm_test_handle_count();
    if (marked != (DWORD)-1 && now == marked)
        return 0;
    fprintf(stderr, "handle leak check: %lu handles open at the start, %lu at the end\n", marked, now);
    return -1;
}
