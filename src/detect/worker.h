/*
 * Identity queries on foreign handles, run where a hang cannot reach the caller.
 *
 * Querying a handle another process owns can block indefinitely (a synchronous pipe with a
 * read pending holds the file object's lock; network files wait on the wire). So queries run
 * on one worker thread per detection call, the caller watches its progress, and a worker that
 * makes no progress for RM_QUERY_TIMEOUT_MS is terminated: the stuck handle counts as "not a
 * registered file" and a fresh worker carries on with the next one. The worker's body makes
 * system calls only — no heap, no locks of ours — so terminating it is safe.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_WORKER_H
#define RM_WORKER_H

#include <windows.h>

#include "idset.h"

#define RM_QUERY_TIMEOUT_MS 500u

/* A thread that does one job per wake and signals idle after it, and that its owner may end
 * and replace when the job stops making progress (shared by the worker and the walker). */
struct rm_watched {
    HANDLE thread;
    HANDLE wake, idle; /* auto-reset events */
    volatile LONG quit;
    LPTHREAD_START_ROUTINE body;
    void *arg;
};
DWORD rm_watched_start(struct rm_watched *t, LPTHREAD_START_ROUTINE body, void *arg);
/* Ends a stuck thread and starts a fresh one (a signal the old one may have left is drained). */
DWORD rm_watched_replace(struct rm_watched *t);
void rm_watched_stop(struct rm_watched *t);

struct rm_worker {
    struct rm_watched t;
    /* the current batch, owned by the caller */
    const HANDLE *handles;
    struct rm_identity *ids;
    BYTE *ok;
    LONG count;
    volatile LONG next; /* index the worker is on; it only grows */
    DWORD timeouts; /* handles given up on, for tracing and tests */
};

DWORD rm_worker_start(struct rm_worker *w);
/* Identifies handles[0..count): ok[i] = 1 and ids[i] set for files that answered in time.
 * begin hands the batch over and returns at once, so the caller can do other work (a
 * process's mapping walk) while the worker queries; end waits for it, watchdog included. */
void rm_worker_begin(struct rm_worker *w, const HANDLE *handles, struct rm_identity *ids, BYTE *ok, LONG count);
DWORD rm_worker_end(struct rm_worker *w);
void rm_worker_stop(struct rm_worker *w);

/* The identity query itself: volume serial + file ID, through the OS table. */
BOOL rm_query_identity(HANDLE h, struct rm_identity *id, DWORD *attributes);

#endif
