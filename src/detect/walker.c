/* SPDX-License-Identifier: MIT */
#include "walker.h"

#include <string.h>

#include "peheader.h"
#include "sys/sys.h"
#include "worker.h"

/* Where the image starting at `first` ends, or NULL to go on region by region. An image is one
 * view whose sections are separate regions (about eight to a DLL), and each query of another
 * process is costly under Wine; its header says how long it is in one read. The header is the
 * target's to rewrite, so the end is believed only if the system puts its last byte in the
 * same view. */
static const BYTE *image_end(struct rm_walker *w, const MEMORY_BASIC_INFORMATION *first)
{
    uint8_t hdr[512];
    SIZE_T got = 0;
    uint32_t size;
    if (!rm_sys.ReadProcessMemory(w->process, first->AllocationBase, hdr, sizeof hdr, &got))
        return NULL;
    InterlockedIncrement(&w->steps);
    ULONG_PTR base = (ULONG_PTR)first->AllocationBase;
    if (!rm_pe_image_size(hdr, got, &size) || size <= first->RegionSize || base + size < base)
        return NULL;
    MEMORY_BASIC_INFORMATION last;
    const BYTE *end = (const BYTE *)base + size;
    if (!rm_sys.VirtualQueryEx(w->process, end - 1, &last, sizeof last))
        return NULL;
    InterlockedIncrement(&w->steps);
    return last.AllocationBase == first->AllocationBase && last.Type == MEM_IMAGE ? end : NULL;
}

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
            const BYTE *next = (const BYTE *)mbi.BaseAddress + mbi.RegionSize;
            if ((mbi.Type == MEM_IMAGE || mbi.Type == MEM_MAPPED) && mbi.AllocationBase != last) {
                last = mbi.AllocationBase;
                w->regions[n].base = mbi.AllocationBase;
                w->regions[n].type = mbi.Type;
                InterlockedExchange(&w->count, ++n);
                if (mbi.Type == MEM_IMAGE && mbi.BaseAddress == mbi.AllocationBase) {
                    const BYTE *end = image_end(w, &mbi);
                    if (end)
                        next = end;
                }
            }
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

/* The kernel answers with the size it needs; 80 KiB holds any path. */
const UNICODE_STRING *rm_mapped_name(struct rm_name_buf *b, HANDLE process, PVOID base)
{
    if (!b->name) {
        if (!(b->name = rm_sys.alloc(4096))) {
            b->oom = 1;
            return NULL;
        }
        b->cap = 4096;
    }
    for (int attempt = 0; attempt < 4; attempt++) {
        SIZE_T need = 0;
        NTSTATUS st = rm_sys.NtQueryVirtualMemory(process, base, 2 /* MemoryMappedFilenameInformation */, b->name,
                                                  b->cap, &need);
        if (st >= 0)
            return b->name->Length && b->name->Length / 2 < RM_NT_NAME_MAX ? b->name : NULL;
        if (st != (NTSTATUS)0x80000005L && st != (NTSTATUS)0xC0000004L && st != (NTSTATUS)0xC0000023L)
            return NULL;
        SIZE_T cap = need > b->cap ? need : b->cap * 2;
        if (cap > (SIZE_T)80 * 1024)
            return NULL;
        UNICODE_STRING *bigger = rm_sys.alloc(cap);
        if (!bigger) {
            b->oom = 1;
            return NULL;
        }
        rm_sys.free(b->name);
        b->name = bigger;
        b->cap = cap;
    }
    return NULL;
}
