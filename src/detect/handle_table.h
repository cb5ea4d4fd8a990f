/*
 * The system handle table as NtQuerySystemInformation(SystemExtendedHandleInformation) returns
 * it: SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX and its table, which MinGW-w64's headers lack.
 * Detection reads it; so do the tests' leak checks and the benchmark's floor, from this one
 * definition.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_HANDLE_TABLE_H
#define RM_HANDLE_TABLE_H

#include <windows.h>

#define SYSTEM_EXTENDED_HANDLE_INFORMATION 64
#define STATUS_INFO_LENGTH_MISMATCH_ ((NTSTATUS)0xC0000004L)

struct handle_entry {
    PVOID object;
    ULONG_PTR pid;
    ULONG_PTR value;
    ULONG access;
    USHORT backtrace;
    USHORT type;
    ULONG attributes;
    ULONG reserved;
};

struct handle_table {
    ULONG_PTR count;
    ULONG_PTR reserved;
    struct handle_entry entries[1];
};

#endif
