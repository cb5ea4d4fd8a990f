/*
 * The native half of a 32-bit caller under WOW64 (docs/wow64.md).
 *
 * A 32-bit process on 64-bit Windows cannot walk a 64-bit process's address space above
 * 4 GiB (where its executable and DLLs live), nor read its PEB with its own layout. Windows
 * offers such a caller the NtWow64* calls for some of it; Wine 8 does not (no
 * NtWow64QueryVirtualMemory64 or NtWow64QueryInformationProcess64, and a 64-bit PEB address
 * reported as 0). Where the OS gives them, they are used, in this process. Otherwise, what
 * works is asking a 64-bit process: the native rundll32 runs
 * the native rstrtmgr.dll's RmRunHelperW "native", which looks at the listed processes with
 * the caller's own rights and writes what it saw into a pipe only the caller reads.
 *
 * The helper is ours and runs as the caller; still, its report is parsed as untrusted input
 * (every length bounded), and the process identity it names (PID + start time) is checked
 * against the caller's own handle before anything is believed. Each wait is bounded: a helper
 * that does not start, is not ours (Wine's builtin DLL has no such entry), or stops making
 * progress is ended, and the processes it did not report count as "unknown" (trace line).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_NATIVE_H
#define RM_NATIVE_H

#include <windows.h>
#include <stdint.h>

/* What to ask about each process (bits). */
#define RM_NATIVE_WALK 0x1u   /* its image and mapped-file regions, by NT name */
#define RM_NATIVE_PARAMS 0x2u /* its command line and current directory */

struct rm_native_region {
    uint32_t type; /* MEM_IMAGE or MEM_MAPPED */
    uint32_t len;  /* WCHARs, without the NUL */
    const WCHAR *name;
};

struct rm_native_proc {
    DWORD pid;
    FILETIME start;
    uint32_t have; /* RM_NATIVE_* the helper could read */
    const WCHAR *cmd, *dir; /* NUL-terminated, when have & RM_NATIVE_PARAMS */
    struct rm_native_region *regions;
    uint32_t nregions; /* when have & RM_NATIVE_WALK */
};

struct rm_native_report {
    struct rm_native_proc *procs;
    uint32_t count;
    struct rm_native_chunk *chunks; /* the bytes the pointers above point into */
};

/* One batch of PIDs in flight. */
struct rm_native_job {
    HANDLE helper, read, write;
    const DWORD *pids;
    uint32_t npids, next;
    uint32_t what;
    int local; /* the OS gives us the reach ourselves: no helper */
};

/* Most PIDs one helper is given (its command line must fit in 32767 characters). */
#define RM_NATIVE_BATCH 1500u

/* Starts asking about pids[0..n) (the array must live until rm_native_end). ERROR_OUTOFMEMORY
 * only: a helper that cannot start shows up in rm_native_end as processes not reported. */
DWORD rm_native_begin(struct rm_native_job *j, const DWORD *pids, uint32_t n, uint32_t what);
/* Is someone (the helper, or we ourselves through the OS) looking at the 64-bit processes? */
BOOL rm_native_active(const struct rm_native_job *j);
/* Collects the answers (running further batches), into out (zeroed by the caller).
 * ERROR_OUTOFMEMORY only. */
DWORD rm_native_end(struct rm_native_job *j, struct rm_native_report *out);
DWORD rm_native_query(const DWORD *pids, uint32_t n, uint32_t what, struct rm_native_report *out);
/* The report of this process (PID and start time), or NULL. */
const struct rm_native_proc *rm_native_find(const struct rm_native_report *r, DWORD pid, const FILETIME *start);
void rm_native_report_free(struct rm_native_report *r);
/* Adds a report's bytes (the wire format in native.c) to out: 1 parsed (records up to the
 * first malformed one), 0 not a report of this version, -1 out of memory. */
int rm_native_parse(const void *bytes, size_t size, struct rm_native_report *out);

/* The helper's side: RmRunHelperW "native <caller pid> <pipe handle> <what> <pid>...". */
void rm_native_helper_main(const WCHAR *args);

#endif
