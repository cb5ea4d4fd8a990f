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

/* Stops one service by name after its running dependents; depth bounds a cyclic SCM answer. */
static BOOL stop_service(const struct rm_shutdown *s, SC_HANDLE scm, const WCHAR *name, int depth)
{
    SC_HANDLE svc = rm_sys.OpenServiceW(scm, name, SERVICE_STOP | SERVICE_QUERY_STATUS | SERVICE_ENUMERATE_DEPENDENTS);
    if (!svc)
        return FALSE;
    BOOL ok = TRUE;
    if (depth < 8) {
        DWORD need = 0, count = 0;
        rm_sys.EnumDependentServicesW(svc, SERVICE_ACTIVE, NULL, 0, &need, &count);
        ENUM_SERVICE_STATUSW *deps = need ? rm_sys.alloc(need) : NULL;
        if (deps && rm_sys.EnumDependentServicesW(svc, SERVICE_ACTIVE, deps, need, &need, &count))
            for (DWORD i = 0; i < count; i++)
                ok &= stop_service(s, scm, deps[i].lpServiceName, depth + 1);
        rm_sys.free(deps);
    }
    DWORD pid = 0;
    if (rm_service_state(svc, &pid) != SERVICE_STOPPED) {
        rm_trace("shutdown: stopping service %ls (pid %lu)", name, pid);
        SERVICE_STATUS st;
        rm_sys.ControlService(svc, SERVICE_CONTROL_STOP, &st);
        ULONGLONG deadline = GetTickCount64() + s->service_timeout;
        if (!rm_service_wait(svc, SERVICE_STOPPED, deadline, s->cancel)) {
            ok = FALSE;
            if ((s->flags & RmForceShutdown) && pid) {
                HANDLE p = rm_sys.OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, pid);
                if (p) {
                    ok = rm_terminate(p);
                    rm_sys.CloseHandle(p);
                }
            }
        }
    }
    rm_sys.CloseServiceHandle(svc);
    return ok;
}

DWORD rm_shutdown_services(struct rm_shutdown *s, struct rm_target **t, uint32_t n)
{
    SC_HANDLE scm = n ? rm_sys.OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT) : NULL;
    for (uint32_t i = 0; i < n; i++) {
        struct rm_target *x = t[i];
        if (rm_cancelled(s->cancel)) {
            if (scm)
                rm_sys.CloseServiceHandle(scm);
            return ERROR_CANCELLED;
        }
        if (scm && stop_service(s, scm, x->info.strServiceShortName, 0))
            x->status = (x->status & ~(uint32_t)RmStatusRunning) | RmStatusStopped;
        else
            x->status |= RmStatusErrorOnStop;
        s->progress.done++;
        rm_progress_report(&s->progress);
    }
    if (scm)
        rm_sys.CloseServiceHandle(scm);
    return ERROR_SUCCESS;
}
