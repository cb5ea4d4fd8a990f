/*
 * Walking another process's address space, where a hang cannot reach the caller.
 *
 * Under Wine, asking about another process's memory runs the query inside that process and
 * waits, with no timeout, for it to answer; a process that cannot answer (suspended, starting
 * or exiting) would stall detection for good. So the walk runs on a thread of its own that
 * only records regions into memory the caller provides (system calls only: terminating it is
 * safe), and a walk that makes no progress for RM_QUERY_TIMEOUT_MS is abandoned: that process's
 * mappings count as unknown, its handles are still checked.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_WALKER_H
#define RM_WALKER_H

#include <windows.h>
#include <winternl.h>

#include "worker.h"

struct rm_region {
    PVOID base; /* allocation base of an image or mapped view */
    DWORD type; /* MEM_IMAGE or MEM_MAPPED */
};

#define RM_WALK_MAX_REGIONS 8192

struct rm_walker {
    struct rm_watched t;
    HANDLE process;
    DWORD pid; /* for the trace */
    struct rm_region *regions; /* RM_WALK_MAX_REGIONS, caller-owned */
    volatile LONG count;       /* regions recorded */
    volatile LONG steps;       /* regions looked at: the progress the watchdog watches */
    DWORD timeouts;
};

DWORD rm_walker_start(struct rm_walker *w, struct rm_region *regions);
void rm_walker_begin(struct rm_walker *w, HANDLE process, DWORD pid);
/* Waits for the walk; returns the number of regions, or -1 when it was abandoned. */
LONG rm_walker_end(struct rm_walker *w);
void rm_walker_stop(struct rm_walker *w);

/* A buffer for mapped-file names, grown as names need (start it zeroed; rm_sys.free name). */
struct rm_name_buf {
    UNICODE_STRING *name;
    SIZE_T cap;
    int oom; /* a name was lost for want of memory */
};
/* Longest NT name we take, in WCHARs: any Win32 path, with room for its NT prefix. */
#define RM_NT_NAME_MAX (32768u + 16u)
/* The NT name of the file mapped at `base` in `process`, or NULL (not a file, or gone). */
const UNICODE_STRING *rm_mapped_name(struct rm_name_buf *b, HANDLE process, PVOID base);

#endif
