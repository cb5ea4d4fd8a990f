/*
 * Services: stopped through the Service Control Manager, running dependents first (they
 * would stop with it anyway, and the SCM refuses to stop a service others depend on). Waits
 * are bounded by WaitToKillServiceTimeout; a forced call then ends the service's process.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "shutdown.h"
#include "sys/sys.h"

DWORD rm_service_state(SC_HANDLE svc, DWORD *pid)
{
    SERVICE_STATUS_PROCESS st = {0};
    DWORD need;
    if (!rm_sys.QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (LPBYTE)&st, sizeof st, &need))
        return 0;
    if (pid)
        *pid = st.dwProcessId;
    return st.dwCurrentState;
}

BOOL rm_service_wait(SC_HANDLE svc, DWORD want, ULONGLONG deadline, const struct rm_cancel *cancel)
{
    for (;;) {
        DWORD state = rm_service_state(svc, NULL);
        if (state == want)
            return TRUE;
        /* Stopped while waiting to run means it failed to start: no use waiting longer. */
        if (!state || (want == SERVICE_RUNNING && state == SERVICE_STOPPED) || GetTickCount64() >= deadline ||
            rm_cancelled(cancel))
            return FALSE;
        rm_sys.WaitForSingleObject(RM_CURRENT_PROCESS, 50); /* a pause: our own process never signals */
    }
}

static void note_also_stopped(struct rm_shutdown *s, const WCHAR *name, DWORD pid)
{
    struct rm_stopped_service *more = rm_sys.alloc((s->nalso_stopped + 1) * sizeof *more);
    if (!more)
        return;
    if (s->nalso_stopped)
        memcpy(more, s->also_stopped, s->nalso_stopped * sizeof *more);
    rm_sys.free(s->also_stopped);
    s->also_stopped = more;
    struct rm_stopped_service *x = &more[s->nalso_stopped++];
    memset(x, 0, sizeof *x);
    lstrcpynW(x->name, name, CCH_RM_MAX_SVC_NAME + 1);
    x->process.dwProcessId = pid;
    HANDLE p = pid ? rm_sys.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid) : NULL;
    FILETIME e, k, u;
    if (p) {
        rm_sys.GetProcessTimes(p, &x->process.ProcessStartTime, &e, &k, &u);
        rm_sys.CloseHandle(p);
    }
}

/* One call's service stops. Services that did not stop within their wait are remembered, so
 * that no service costs its timeout twice: a stuck dependent reached again (from the next
 * listed service, or around a dependency cycle) fails at once. */
struct stop_walk {
    struct rm_shutdown *s;
    SC_HANDLE scm;
    struct rm_name_set stuck;
};

/* Asks the service to stop and waits, bounded, for it to be STOPPED. A refused request (a
 * dependent still runs, no right to stop it) is not waited for: nothing will change. */
static BOOL stop_and_wait(struct stop_walk *w, SC_HANDLE svc)
{
    SERVICE_STATUS st;
    if (!rm_sys.ControlService(svc, SERVICE_CONTROL_STOP, &st)) {
        DWORD err = GetLastError();
        /* A stop already under way is worth its wait; a service that stopped meanwhile is done. */
        if (err != ERROR_SERVICE_CANNOT_ACCEPT_CTRL && err != ERROR_SERVICE_NOT_ACTIVE) {
            rm_trace("shutdown: the SCM refused to stop it (%lu)", err);
            return FALSE;
        }
    }
    return rm_service_wait(svc, SERVICE_STOPPED, GetTickCount64() + w->s->service_timeout, w->s->cancel);
}

/* Stops one service by name after its running dependents; depth bounds a cyclic SCM answer.
 * `pinned` is the listed target's process (NULL for a dependent): a forced call terminates only
 * through it, and only when the service still runs in that very process. */
/* NOLINTNEXTLINE(misc-no-recursion): at most 8 deep (depth < 8) */
static BOOL stop_service(struct stop_walk *w, const WCHAR *name, int depth, const struct rm_target *pinned)
{
    struct rm_shutdown *s = w->s;
    SC_HANDLE svc = rm_sys.OpenServiceW(w->scm, name, SERVICE_STOP | SERVICE_QUERY_STATUS | SERVICE_ENUMERATE_DEPENDENTS);
    if (!svc)
        return FALSE;
    BOOL ok = TRUE;
    int stuck = rm_name_set_has(&w->stuck, name);
    if (depth < 8 && !stuck) {
        struct rm_name_set deps;
        if (rm_service_dependents(w->scm, svc, name, &deps) == ERROR_SUCCESS)
            for (uint32_t i = 0; i < deps.count; i++)
                ok &= stop_service(w, deps.names[i].name, depth + 1, NULL);
        rm_name_set_clear(&deps);
    }
    stuck = stuck || rm_name_set_has(&w->stuck, name); /* its dependents may have led back to it */
    DWORD pid = 0;
    if (rm_service_state(svc, &pid) != SERVICE_STOPPED) {
        rm_trace("shutdown: stopping service %ls (pid %lu)%s", name, pid, stuck ? ": it did not stop before" : "");
        if (!stuck && stop_and_wait(w, svc)) {
            if (!pinned)
                note_also_stopped(s, name, pid);
        } else {
            ok = FALSE;
            /* Out of memory only costs the saving: the service may be waited for again. */
            if (!stuck)
                rm_name_set_add(&w->stuck, name);
            if ((s->flags & RmForceShutdown) && !rm_cancelled(s->cancel) && pinned && pinned->process &&
                pid == pinned->info.Process.dwProcessId)
                ok = rm_terminate(pinned->process);
        }
    }
    rm_sys.CloseServiceHandle(svc);
    return ok;
}

DWORD rm_shutdown_services(struct rm_shutdown *s, struct rm_target **t, uint32_t n)
{
    SC_HANDLE scm = n ? rm_sys.OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT | SC_MANAGER_ENUMERATE_SERVICE) : NULL;
    struct stop_walk w = {s, scm, {NULL, 0, 0}};
    DWORD err = ERROR_SUCCESS;
    for (uint32_t i = 0; i < n; i++) {
        struct rm_target *x = t[i];
        if (rm_cancelled(s->cancel)) {
            err = ERROR_CANCELLED;
            break;
        }
        if (scm && stop_service(&w, x->info.strServiceShortName, 0, x))
            x->status = (x->status & ~(uint32_t)RmStatusRunning) | RmStatusStopped;
        else
            x->status |= RmStatusErrorOnStop;
        s->progress.done++;
        rm_progress_report(&s->progress);
    }
    rm_name_set_clear(&w.stuck);
    if (scm)
        rm_sys.CloseServiceHandle(scm);
    return err;
}
