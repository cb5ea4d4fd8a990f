/* SPDX-License-Identifier: MIT */
#include "worker.h"

#include <string.h>

#include "detect.h"
#include "sys/sys.h"

int rm_cancelled(const struct rm_cancel *c)
{
    return c && c->requests && *c->requests != c->seen;
}

BOOL rm_query_identity(HANDLE h, struct rm_identity *id, DWORD *attributes)
{
    BY_HANDLE_FILE_INFORMATION info;
    if (!rm_sys.GetFileInformationByHandle(h, &info))
        return FALSE;
    id->volume = info.dwVolumeSerialNumber;
    id->reserved = 0;
    id->file_id = (uint64_t)info.nFileIndexHigh << 32 | info.nFileIndexLow;
    if (attributes)
        *attributes = info.dwFileAttributes;
    return TRUE;
}

static DWORD WINAPI worker_main(LPVOID param)
{
    struct rm_worker *w = param;
    for (;;) {
        rm_sys.WaitForSingleObject(w->wake, INFINITE);
        if (w->quit)
            return 0;
        for (LONG i = w->next; i < w->count; i = InterlockedIncrement(&w->next))
            w->ok[i] = (BYTE)rm_query_identity(w->handles[i], &w->ids[i], NULL);
        rm_sys.SetEvent(w->idle);
    }
}

static DWORD spawn(struct rm_worker *w)
{
    /* A small stack: the body is a loop of system calls. */
    w->thread = rm_sys.CreateThread(NULL, 64 * 1024, worker_main, w, STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
    return w->thread ? ERROR_SUCCESS : ERROR_OUTOFMEMORY;
}

DWORD rm_worker_start(struct rm_worker *w)
{
    memset(w, 0, sizeof *w);
    w->wake = rm_sys.CreateEventW(NULL, FALSE, FALSE, NULL);
    w->idle = rm_sys.CreateEventW(NULL, FALSE, FALSE, NULL);
    if (!w->wake || !w->idle) {
        rm_worker_stop(w);
        return ERROR_OUTOFMEMORY;
    }
    DWORD err = spawn(w);
    if (err)
        rm_worker_stop(w);
    return err;
}

/* The worker is stuck on handle w->next: end it and skip that handle. One wake yields one
 * idle signal, so a worker that finished just before being ended may leave one behind: drain
 * it, or the next batch would think it was done at once. */
static DWORD replace_stuck(struct rm_worker *w)
{
    rm_sys.TerminateThread(w->thread, 1);
    rm_sys.WaitForSingleObject(w->thread, 1000);
    rm_sys.CloseHandle(w->thread);
    w->thread = NULL;
    rm_sys.WaitForSingleObject(w->idle, 0);
    if (w->next < w->count) {
        rm_trace("detect: a handle query gave no answer in %u ms: skipped", RM_QUERY_TIMEOUT_MS);
        w->ok[w->next] = 0;
        w->next++;
        w->timeouts++;
    }
    return spawn(w);
}

void rm_worker_begin(struct rm_worker *w, const HANDLE *handles, struct rm_identity *ids, BYTE *ok, LONG count)
{
    memset(ok, 0, (size_t)count);
    w->handles = handles;
    w->ids = ids;
    w->ok = ok;
    w->count = count;
    w->next = 0;
    if (count)
        rm_sys.SetEvent(w->wake);
}

DWORD rm_worker_end(struct rm_worker *w)
{
    LONG count = w->count;
    if (count == 0)
        return ERROR_SUCCESS;
    LONG seen = 0; /* no progress within one timeout from the start counts as stuck too */
    for (;;) {
        DWORD r = rm_sys.WaitForSingleObject(w->idle, RM_QUERY_TIMEOUT_MS);
        if (r == WAIT_OBJECT_0)
            return ERROR_SUCCESS;
        if (r != WAIT_TIMEOUT)
            return ERROR_OUTOFMEMORY;
        LONG now = w->next;
        if (now != seen) { /* slow but moving */
            seen = now;
            continue;
        }
        DWORD err = replace_stuck(w);
        if (err)
            return err;
        if (w->next >= w->count)
            return ERROR_SUCCESS;
        seen = w->next;
        rm_sys.SetEvent(w->wake);
    }
}

void rm_worker_stop(struct rm_worker *w)
{
    if (w->thread) {
        w->quit = 1;
        rm_sys.SetEvent(w->wake);
        if (rm_sys.WaitForSingleObject(w->thread, RM_QUERY_TIMEOUT_MS) != WAIT_OBJECT_0)
            rm_sys.TerminateThread(w->thread, 1);
        rm_sys.CloseHandle(w->thread);
    }
    if (w->wake)
        rm_sys.CloseHandle(w->wake);
    if (w->idle)
        rm_sys.CloseHandle(w->idle);
    memset(w, 0, sizeof *w);
}
