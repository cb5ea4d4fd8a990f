/*
 * RmShutdown and RmRestart.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "api.h"
#include "guard/guard.h"
#include "restart/restart.h"
#include "session/filterbuf.h"
#include "session/session.h"
#include "shutdown/shutdown.h"

/* What was done goes on record for RmGetList; how to bring back what was stopped stays in this
 * process (src/restart). */
static DWORD record_results(DWORD handle, struct rm_target *t, uint32_t n)
{
    DWORD first = ERROR_SUCCESS;
    for (uint32_t i = 0; i < n; i++) {
        struct rm_target *x = &t[i];
        int stopped = (x->status & RmStatusStopped) != 0;
        x->stopped.name = (const uint16_t *)x->info.strAppName;
        x->stopped.nname = (uint32_t)wcsnlen(x->info.strAppName, CCH_RM_MAX_APP_NAME);
        /* Only what we stopped and know how to bring back. */
        int can_restart = stopped && (x->cmd || x->info.ApplicationType == RmService);
        DWORD err = ERROR_SUCCESS;
        if (can_restart && !(x->status & RmStatusRestartMasked)) {
            struct rm_restart_plan plan = {x->info.Process, (uint32_t)x->info.ApplicationType, x->stopped.flags,
                                           x->image, x->cmd, x->dir, x->info.strServiceShortName};
            err = rm_restart_keep(handle, &plan, x->status);
        }
        if (!err)
            err = rm_session_record_app(handle, &x->info.Process, x->status, can_restart ? &x->stopped : NULL);
        if (err && !first)
            first = err;
    }
    return first;
}

/* A dependent service stopped along with a listed one: stopped, and to be started again. */
static DWORD record_dependent(DWORD handle, const struct rm_stopped_service *d)
{
    struct rm_stopped_info r;
    memset(&r, 0, sizeof r);
    r.pid = d->process.dwProcessId;
    r.time_lo = d->process.ProcessStartTime.dwLowDateTime;
    r.time_hi = d->process.ProcessStartTime.dwHighDateTime;
    r.app_type = RmService;
    r.svc = r.name = (const uint16_t *)d->name;
    r.nsvc = r.nname = (uint32_t)wcslen(d->name);
    struct rm_restart_plan plan = {d->process, RmService, 0, NULL, NULL, NULL, d->name};
    DWORD err = rm_restart_keep(handle, &plan, RmStatusStopped);
    return err ? err : rm_session_record_app(handle, &d->process, RmStatusStopped, &r);
}

/* Applies the session's filters: apps under RmNoShutdown are taken out of the list (entries
 * after *n, their status recorded as ShutdownMasked), the others keep their action in
 * *actions for after the shutdown (RmNoRestart). */
static DWORD filter_entries(DWORD handle, RM_PROCESS_INFO *entries, uint32_t *n, uint32_t **actions)
{
    struct rm_filter_item *f;
    uint32_t nf;
    DWORD err = rm_session_filters(handle, &f, &nf);
    if (err)
        return err;
    *actions = rm_alloc_zero((*n ? *n : 1) * sizeof **actions);
    if (!*actions)
        err = ERROR_OUTOFMEMORY;
    if (!err && nf)
        err = rm_filter_actions(entries, *n, f, nf, *actions);
    rm_session_filters_free(f, nf);
    uint32_t k = 0;
    for (uint32_t i = 0; i < *n && !err; i++) {
        if ((*actions)[i] == RmNoShutdown) {
            rm_trace("filter RmNoShutdown: pid %lu stays", entries[i].Process.dwProcessId);
            err = rm_session_record_app(handle, &entries[i].Process, RmStatusRunning | RmStatusShutdownMasked, NULL);
            continue;
        }
        entries[k] = entries[i];
        (*actions)[k++] = (*actions)[i];
    }
    if (!err)
        *n = k;
    return err;
}

DWORD WINAPI RmShutdown(DWORD dwSessionHandle, ULONG lActionFlags, RM_WRITE_STATUS_CALLBACK fnStatus)
{
    RM_PROCESS_INFO *entries;
    uint32_t n;
    DWORD reasons;
    struct rm_shutdown s;
    RM_API_ENTER;
    rm_trace("RmShutdown(%#lx, flags=%#lx, callback=%s)", dwSessionHandle, lActionFlags, fnStatus ? "yes" : "no");
    if (lActionFlags & ~(ULONG)(RmForceShutdown | RmShutdownOnlyRegistered))
        RM_API_RETURN(ERROR_BAD_ARGUMENTS);
    memset(&s, 0, sizeof s);
    volatile LONG *cancel_requests;
    LONG cancel_seen;
    DWORD err = rm_list_affected(dwSessionHandle, &entries, &n, &reasons, &cancel_requests, &cancel_seen);
    if (err)
        RM_API_RETURN(err);
    uint32_t *actions = NULL;
    err = filter_entries(dwSessionHandle, entries, &n, &actions);
    /* Something only a reboot can free: touch nothing. */
    if (!err && reasons != RmRebootReasonNone) {
        rm_trace("RmShutdown: reboot reasons %#lx: nothing is touched", reasons);
        err = ERROR_FAIL_NOACTION_REBOOT;
    }
    for (uint32_t i = 0; i < n && !err && (lActionFlags & RmShutdownOnlyRegistered); i++)
        if (!entries[i].bRestartable && actions[i] != RmNoRestart)
            err = ERROR_FAIL_SHUTDOWN; /* all restartable, or nothing is shut down */
    if (!err)
        err = rm_session_set_flags(dwSessionHandle, RM_SLOT_SHUT_DOWN);
    struct rm_target *t = NULL;
    if (!err && !(t = rm_alloc_zero((n ? n : 1) * sizeof *t)))
        err = ERROR_OUTOFMEMORY;
    if (!err) {
        for (uint32_t i = 0; i < n; i++)
            t[i].info = entries[i];
        err = rm_targets_prepare(t, n);
    }
    if (!err) {
        /* A token only where it can serve: an app with a captured command line that does not
         * run as the caller runs. */
        for (uint32_t i = 0; i < n; i++)
            if (t[i].info.ApplicationType != RmService && t[i].cmd && !(t[i].stopped.flags & RM_STOPPED_SAME_IDENTITY))
                rm_restart_keep_token(dwSessionHandle, &t[i].info.Process, t[i].process);
        rm_guard_start(dwSessionHandle);
        struct rm_cancel cancel = {cancel_requests, cancel_seen};
        s.flags = lActionFlags;
        s.cancel = &cancel;
        s.progress.fn = fnStatus;
        rm_shutdown_timeouts(&s.app_timeout, &s.service_timeout);
        err = rm_shutdown_run(&s, t, n);
        for (uint32_t i = 0; i < n; i++)
            if (actions[i] == RmNoRestart)
                t[i].status |= RmStatusRestartMasked;
        /* Whatever happened, what was done is on record for RmGetList and RmRestart. */
        DWORD rec = record_results(dwSessionHandle, t, n);
        for (uint32_t i = 0; i < s.nalso_stopped && !rec; i++)
            rec = record_dependent(dwSessionHandle, &s.also_stopped[i]);
        rm_sys.free(s.also_stopped);
        if (!err || err == ERROR_FAIL_SHUTDOWN)
            err = rec ? rec : err;
    }
    rm_targets_free(t, n);
    rm_sys.free(actions);
    rm_sys.free(entries);
    RM_API_RETURN(err);
}

DWORD WINAPI RmRestart(DWORD dwSessionHandle, DWORD dwRestartFlags, RM_WRITE_STATUS_CALLBACK fnStatus)
{
    uint32_t flags = 0;
    volatile LONG *cancel_requests;
    RM_API_ENTER;
    rm_trace("RmRestart(%#lx, flags=%#lx, callback=%s)", dwSessionHandle, dwRestartFlags, fnStatus ? "yes" : "no");
    if (dwRestartFlags != 0)
        RM_API_RETURN(ERROR_BAD_ARGUMENTS);
    DWORD err = rm_session_cancel_counter(dwSessionHandle, &cancel_requests);
    if (!err)
        err = rm_session_flags(dwSessionHandle, &flags);
    if (!err && !(flags & RM_SLOT_SHUT_DOWN))
        err = ERROR_REQUEST_OUT_OF_SEQUENCE;
    if (err)
        RM_API_RETURN(err);
    struct rm_cancel cancel = {cancel_requests, *cancel_requests};
    struct rm_progress progress = {0};
    progress.fn = fnStatus;
    RM_API_RETURN(rm_restart_session(dwSessionHandle, 0, &progress, &cancel));
}
