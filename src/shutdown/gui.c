/*
 * GUI apps (and Explorer): the Restart Manager's documented protocol.
 *   1. WM_QUERYENDSESSION(0, ENDSESSION_CLOSEAPP) to every top-level window of every app;
 *   2. all agree (or the call is forced): WM_ENDSESSION(TRUE, ENDSESSION_CLOSEAPP), and
 *      WM_CLOSE to whatever still runs halfway through its timeout;
 *      one refuses and the call is not forced: WM_ENDSESSION(FALSE) to the others, and the
 *      refuser's status records it;
 *   3. forced: whatever has not exited by its timeout is terminated.
 * Each app gets a thread of its own for every step, so ten slow apps cost one app's time.
 * Only SendMessageTimeout and PostMessage: a hung app costs its timeout, never a hang.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "shutdown.h"
#include "sys/sys.h"

enum { ANSWER_NONE, ANSWER_AGREE, ANSWER_REFUSE, ANSWER_SILENT, ANSWER_GONE };

struct gui_job {
    struct rm_target *t;
    const struct rm_shutdown *s;
    int step; /* 1 query, 2 end session and close, 3 cancel the end of session */
};

static BOOL gone(const struct rm_target *t)
{
    return rm_sys.WaitForSingleObject(t->process, 0) == WAIT_OBJECT_0;
}

/* Window handles are reused too: send only to a window still owned by the pinned process. */
static BOOL still_its_window(const struct rm_target *t, HWND hwnd)
{
    DWORD pid = 0;
    rm_sys.GetWindowThreadProcessId(hwnd, &pid);
    return pid == t->info.Process.dwProcessId && !gone(t);
}

static UINT remaining(ULONGLONG deadline)
{
    ULONGLONG now = GetTickCount64();
    return now >= deadline ? 1 : (UINT)(deadline - now);
}

static void query(struct gui_job *j)
{
    struct rm_target *t = j->t;
    ULONGLONG deadline = GetTickCount64() + j->s->app_timeout;
    t->answer = ANSWER_AGREE;
    for (uint32_t w = 0; w < t->nwindows; w++) {
        if (!still_its_window(t, t->windows[w]))
            continue;
        DWORD_PTR r = TRUE;
        if (!rm_sys.SendMessageTimeoutW(t->windows[w], WM_QUERYENDSESSION, 0, ENDSESSION_CLOSEAPP,
                                        SMTO_NORMAL | SMTO_ABORTIFHUNG, remaining(deadline), &r)) {
            t->answer = gone(t) ? ANSWER_GONE : ANSWER_SILENT;
            rm_trace("shutdown: pid %lu window %p: no answer to WM_QUERYENDSESSION within %lu ms",
                     t->info.Process.dwProcessId, (void *)t->windows[w], j->s->app_timeout);
            return;
        }
        if (!r) {
            t->answer = ANSWER_REFUSE;
            rm_trace("shutdown: pid %lu window %p refused WM_QUERYENDSESSION", t->info.Process.dwProcessId,
                     (void *)t->windows[w]);
            return;
        }
    }
    if (gone(t))
        t->answer = ANSWER_GONE;
}

static void end_session(struct gui_job *j, BOOL ending)
{
    struct rm_target *t = j->t;
    ULONGLONG start = GetTickCount64(), deadline = start + j->s->app_timeout;
    rm_trace("shutdown: WM_ENDSESSION(%s, ENDSESSION_CLOSEAPP) to pid %lu (%u windows)", ending ? "TRUE" : "FALSE",
             t->info.Process.dwProcessId, t->nwindows);
    for (uint32_t w = 0; w < t->nwindows; w++) {
        DWORD_PTR r;
        if (still_its_window(t, t->windows[w]))
            rm_sys.SendMessageTimeoutW(t->windows[w], WM_ENDSESSION, ending, ENDSESSION_CLOSEAPP,
                                       SMTO_NORMAL | SMTO_ABORTIFHUNG, remaining(deadline), &r);
    }
    if (!ending)
        return;
    /* Apps should exit on WM_ENDSESSION; those that don't get WM_CLOSE halfway through. */
    if (rm_wait_exit(t->process, start + j->s->app_timeout / 2, j->s->cancel))
        return;
    rm_trace("shutdown: pid %lu still runs %lu ms after WM_ENDSESSION: WM_CLOSE", t->info.Process.dwProcessId,
             j->s->app_timeout / 2);
    for (uint32_t w = 0; w < t->nwindows; w++)
        if (still_its_window(t, t->windows[w]))
            rm_sys.PostMessageW(t->windows[w], WM_CLOSE, 0, 0);
    rm_wait_exit(t->process, deadline, j->s->cancel);
}

static DWORD WINAPI gui_job_main(LPVOID param)
{
    struct gui_job *j = param;
    if (j->step == 1)
        query(j);
    else
        end_session(j, j->step == 2);
    return 0;
}

static DWORD run_step(struct rm_shutdown *s, struct rm_target **t, uint32_t n, int step, int only_answer)
{
    struct gui_job *jobs = rm_alloc_zero((n ? n : 1) * sizeof *jobs);
    uint32_t k = 0;
    if (!jobs)
        return ERROR_OUTOFMEMORY;
    for (uint32_t i = 0; i < n; i++)
        if (t[i]->process && !gone(t[i]) && (!only_answer || t[i]->answer == only_answer)) {
            jobs[k].t = t[i];
            jobs[k].s = s;
            jobs[k].step = step;
            k++;
        }
    DWORD err = rm_run_parallel(gui_job_main, jobs, sizeof *jobs, k);
    rm_sys.free(jobs);
    return err;
}

DWORD rm_shutdown_gui(struct rm_shutdown *s, struct rm_target **t, uint32_t n, int *refused)
{
    BOOL forced = (s->flags & RmForceShutdown) != 0;
    DWORD err = run_step(s, t, n, 1, 0);
    int any_no = 0;
    for (uint32_t i = 0; i < n; i++)
        if (t[i]->answer == ANSWER_REFUSE || t[i]->answer == ANSWER_SILENT)
            any_no = 1;
    if (!err && any_no && !forced) {
        /* Shutdown is off: those that agreed learn the session is not ending after all. */
        err = run_step(s, t, n, 3, ANSWER_AGREE);
        for (uint32_t i = 0; i < n; i++)
            if (t[i]->answer == ANSWER_REFUSE || t[i]->answer == ANSWER_SILENT)
                t[i]->status |= RmStatusErrorOnStop;
        *refused = 1;
        return err;
    }
    /* Silent (hung) apps would only eat another timeout: a forced call ends them below. */
    if (!err)
        err = run_step(s, t, n, 2, ANSWER_AGREE);
    if (!err && forced)
        err = run_step(s, t, n, 2, ANSWER_REFUSE);
    for (uint32_t i = 0; i < n && !err; i++)
        rm_settle(s, t[i]);
    return err;
}
