/* SPDX-License-Identifier: MIT */
#include "walker.h"

#include <string.h>

#include "sys/sys.h"
#include "worker.h"

static DWORD WINAPI walker_main(LPVOID param)
{
    struct rm_walker *w = param;
    for (;;) {
        rm_sys.WaitForSingleObject(w->t.wake, INFINITE);
        if (w->t.quit)
            return 0;
        MEMORY_BASIC_INFORMATION mbi;
        const BYTE *at = NULL;
        PVOID last = NULL;
        LONG n = 0;
        while (n < RM_WALK_MAX_REGIONS && rm_sys.VirtualQueryEx(w->process, at, &mbi, sizeof mbi)) {
            InterlockedIncrement(&w->steps);
            if ((mbi.Type == MEM_IMAGE || mbi.Type == MEM_MAPPED) && mbi.AllocationBase != last) {
                last = mbi.AllocationBase;
                w->regions[n].base = mbi.AllocationBase;
                w->regions[n].type = mbi.Type;
                InterlockedExchange(&w->count, ++n);
            }
            const BYTE *next = (const BYTE *)mbi.BaseAddress + mbi.RegionSize;
            if (next <= at)
                break;
            at = next;
        }
        rm_sys.SetEvent(w->t.idle);
    }
}

DWORD rm_walker_start(struct rm_walker *w, struct rm_region *regions)
{
    memset(w, 0, sizeof *w);
    w->regions = regions;
    return rm_watched_start(&w->t, walker_main, w);
}

void rm_walker_begin(struct rm_walker *w, HANDLE process, DWORD pid)
{
    w->process = process;
    w->pid = pid;
    w->count = 0;
    w->steps = 0;
    rm_sys.SetEvent(w->t.wake);
}

LONG rm_walker_end(struct rm_walker *w)
{
    LONG seen = 0;
    for (;;) {
        if (rm_sys.WaitForSingleObject(w->t.idle, RM_QUERY_TIMEOUT_MS) == WAIT_OBJECT_0)
            return w->count;
        LONG now = w->steps;
        if (now != seen) { /* slow but moving */
            seen = now;
            continue;
        }
        /* Stuck inside the target: abandon this walk, with a fresh walker for the next one. */
        rm_trace("detect: pid %lu did not answer a memory query within %u ms: its mappings are unknown",
                 w->pid, RM_QUERY_TIMEOUT_MS);
        w->timeouts++;
        rm_watched_replace(&w->t);
        return -1;
    }
}

void rm_walker_stop(struct rm_walker *w)
{
    rm_watched_stop(&w->t);
}
