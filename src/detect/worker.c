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

/* ---- a watched thread ------------------------------------------------------------------ */

static DWORD spawn(struct rm_watched *t)
{
    /* A small stack: the bodies are loops of system calls. */
    t->thread = rm_sys.CreateThread(NULL, (SIZE_T)64 * 1024, t->body, t->arg, STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
    return t->thread ? ERROR_SUCCESS : ERROR_OUTOFMEMORY;
}

DWORD rm_watched_start(struct rm_watched *t, LPTHREAD_START_ROUTINE body, void *arg)
{
    memset(t, 0, sizeof *t);
    t->body = body;
    t->arg = arg;
    t->wake = rm_sys.CreateEventW(NULL, FALSE, FALSE, NULL);
    t->idle = rm_sys.CreateEventW(NULL, FALSE, FALSE, NULL);
    DWORD err = t->wake && t->idle ? spawn(t) : ERROR_OUTOFMEMORY;
    if (err)
        rm_watched_stop(t);
    return err;
}

DWORD rm_watched_replace(struct rm_watched *t)
{
    rm_sys.TerminateThread(t->thread, 1);
    rm_sys.WaitForSingleObject(t->thread, 1000);
    rm_sys.CloseHandle(t->thread);
    t->thread = NULL;
    /* One wake yields one idle signal: a job that finished just before the end leaves one. */
    rm_sys.WaitForSingleObject(t->idle, 0);
    return spawn(t);
}

void rm_watched_stop(struct rm_watched *t)
{
    if (t->thread) {
        t->quit = 1;
        rm_sys.SetEvent(t->wake);
        if (rm_sys.WaitForSingleObject(t->thread, RM_QUERY_TIMEOUT_MS) != WAIT_OBJECT_0)
            rm_sys.TerminateThread(t->thread, 1);
        rm_sys.CloseHandle(t->thread);
    }
    if (t->wake)
        rm_sys.CloseHandle(t->wake);
    if (t->idle)
        rm_sys.CloseHandle(t->idle);
    memset(t, 0, sizeof *t);
}

/* ---- the identity worker ---------------------------------------------------------------- */

static DWORD WINAPI worker_main(LPVOID param)
{
    struct rm_worker *w = param;
    for (;;) {
        rm_sys.WaitForSingleObject(w->t.wake, INFINITE);
        if (w->t.quit)
            return 0;
        for (LONG i = w->next; i < w->count; i = InterlockedIncrement(&w->next))
            w->ok[i] = (BYTE)rm_query_identity(w->handles[i], &w->ids[i], NULL);
        rm_sys.SetEvent(w->t.idle);
    }
}

DWORD rm_worker_start(struct rm_worker *w)
{
    memset(w, 0, sizeof *w);
    return rm_watched_start(&w->t, worker_main, w);
}

/* The worker is stuck on handle w->next: replace it and skip that handle. */
static DWORD replace_stuck(struct rm_worker *w)
{
    if (w->next < w->count) {
        rm_trace("detect: a handle query gave no answer in %u ms: skipped", RM_QUERY_TIMEOUT_MS);
        w->ok[w->next] = 0;
        w->next++;
        w->timeouts++;
    }
    return rm_watched_replace(&w->t);
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
        rm_sys.SetEvent(w->t.wake);
}

DWORD rm_worker_end(struct rm_worker *w)
{
    LONG count = w->count;
    if (count == 0)
        return ERROR_SUCCESS;
    LONG seen = 0; /* no progress within one timeout from the start counts as stuck too */
    for (;;) {
        DWORD r = rm_sys.WaitForSingleObject(w->t.idle, RM_QUERY_TIMEOUT_MS);
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
        rm_sys.SetEvent(w->t.wake);
    }
}

void rm_worker_stop(struct rm_worker *w)
{
    rm_watched_stop(&w->t);
}
