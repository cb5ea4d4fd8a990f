/* SPDX-License-Identifier: MIT */
#include "restart.h"

#include <string.h>

#include "session/session.h"
#include "sys/sys.h"

/* Tokens captured at shutdown, by session and process identity. Process-local on purpose: a
 * token handle means nothing elsewhere, and nobody else may borrow it. A session's tokens go
 * when it restarts the app or ends; a later RmShutdown of the same app replaces its token. */
struct kept_token {
    DWORD session;
    RM_UNIQUE_PROCESS who;
    HANDLE token;
};
static struct kept_token *tokens;
static uint32_t ntokens, captokens;
static SRWLOCK token_lock = SRWLOCK_INIT;

static int same_process(const RM_UNIQUE_PROCESS *a, const RM_UNIQUE_PROCESS *b)
{
    return a->dwProcessId == b->dwProcessId &&
           a->ProcessStartTime.dwLowDateTime == b->ProcessStartTime.dwLowDateTime &&
           a->ProcessStartTime.dwHighDateTime == b->ProcessStartTime.dwHighDateTime;
}

/* Takes the session's kept token for p (NULL p: any of the session's) out of the list; the
 * caller closes it. Call with the lock held. */
static HANDLE take_locked(DWORD session, const RM_UNIQUE_PROCESS *p)
{
    for (uint32_t i = 0; i < ntokens; i++)
        if (tokens[i].session == session && (!p || same_process(&tokens[i].who, p))) {
            HANDLE t = tokens[i].token;
            tokens[i] = tokens[--ntokens];
            return t;
        }
    return NULL;
}

static HANDLE take_token(DWORD session, const RM_UNIQUE_PROCESS *p)
{
    AcquireSRWLockExclusive(&token_lock);
    HANDLE t = take_locked(session, p);
    ReleaseSRWLockExclusive(&token_lock);
    return t;
}

void rm_restart_keep_token(DWORD session, const RM_UNIQUE_PROCESS *p, HANDLE process)
{
    HANDLE t, primary;
    if (!process || !rm_sys.OpenProcessToken(process, TOKEN_DUPLICATE | TOKEN_QUERY | TOKEN_ASSIGN_PRIMARY, &t))
        return;
    BOOL ok = rm_sys.DuplicateTokenEx(t, TOKEN_ALL_ACCESS, NULL, SecurityImpersonation, TokenPrimary, &primary);
    rm_sys.CloseHandle(t);
    if (!ok)
        return;
    AcquireSRWLockExclusive(&token_lock);
    HANDLE old = take_locked(session, p);
    if (ntokens == captokens) {
        uint32_t cap = captokens ? captokens * 2 : 8;
        struct kept_token *n = rm_sys.alloc(cap * sizeof *n);
        if (n) {
            if (ntokens)
                memcpy(n, tokens, ntokens * sizeof *n);
            rm_sys.free(tokens);
            tokens = n;
            captokens = cap;
        }
    }
    if (ntokens < captokens) {
        tokens[ntokens].session = session;
        tokens[ntokens].who = *p;
        tokens[ntokens++].token = primary;
        primary = NULL;
    }
    ReleaseSRWLockExclusive(&token_lock);
    if (old)
        rm_sys.CloseHandle(old);
    if (primary)
        rm_sys.CloseHandle(primary);
}

void rm_restart_drop_tokens(DWORD session)
{
    HANDLE t;
    while ((t = take_token(session, NULL)) != NULL)
        rm_sys.CloseHandle(t);
}

static int rank(uint32_t app_type)
{
    switch (app_type) {
    case RmExplorer:
        return 0;
    case RmService:
        return 1;
    case RmConsole:
        return 2;
    default:
        return 3;
    }
}

static BOOL start_service(const WCHAR *name, DWORD timeout, const struct rm_cancel *cancel)
{
    SC_HANDLE scm = rm_sys.OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    SC_HANDLE svc = scm ? rm_sys.OpenServiceW(scm, name, SERVICE_START | SERVICE_QUERY_STATUS) : NULL;
    BOOL ok = FALSE;
    if (svc && (rm_sys.StartServiceW(svc, 0, NULL) || GetLastError() == ERROR_SERVICE_ALREADY_RUNNING))
        ok = rm_service_wait(svc, SERVICE_RUNNING, GetTickCount64() + timeout, cancel);
    if (svc)
        rm_sys.CloseServiceHandle(svc);
    if (scm)
        rm_sys.CloseServiceHandle(scm);
    return ok;
}

static BOOL start_app(DWORD session, const struct rm_app_state *a, uint32_t how)
{
    size_t n = wcslen(a->cmd);
    WCHAR *cmd = rm_sys.alloc((n + 1) * sizeof *cmd); /* CreateProcess may write to it */
    if (!cmd || !n) {
        rm_sys.free(cmd);
        return FALSE;
    }
    memcpy(cmd, a->cmd, (n + 1) * sizeof *cmd);
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    DWORD flags = CREATE_DEFAULT_ERROR_MODE | (a->flags & RM_STOPPED_NEW_CONSOLE ? CREATE_NEW_CONSOLE : 0);
    const WCHAR *dir = a->dir && a->dir[0] ? a->dir : NULL;
    BOOL ok = FALSE;
    HANDLE token = how & RM_SESSION_ORPHANED ? NULL : take_token(session, &a->process);
    if (a->flags & RM_STOPPED_SAME_IDENTITY)
        ok = rm_sys.CreateProcessW(NULL, cmd, NULL, NULL, FALSE, flags, NULL, dir, &si, &pi);
    else if (token)
        ok = rm_sys.CreateProcessAsUserW(token, NULL, cmd, NULL, NULL, FALSE, flags, NULL, dir, &si, &pi);
    if (token)
        rm_sys.CloseHandle(token);
    rm_sys.free(cmd);
    if (ok) {
        rm_sys.CloseHandle(pi.hThread);
        rm_sys.CloseHandle(pi.hProcess);
    }
    return ok;
}

/* Stopped by the session, restart information on record, not back yet, no filter against it. */
static int to_restart(const struct rm_app_state *a)
{
    return a->has_restart && (a->status & RmStatusStopped) &&
           !(a->status & (RmStatusRestarted | RmStatusRestartMasked | RmStatusShutdownMasked));
}

DWORD rm_restart_session(DWORD handle, uint32_t how, struct rm_progress *progress, const struct rm_cancel *cancel)
{
    struct rm_app_state *apps;
    uint32_t n;
    DWORD err = rm_session_apps_ex(handle, how, &apps, &n);
    if (err)
        return err;
    DWORD app_timeout, service_timeout;
    rm_shutdown_timeouts(&app_timeout, &service_timeout);
    (void)app_timeout;

    uint32_t todo = 0;
    for (uint32_t i = 0; i < n; i++)
        todo += (uint32_t)to_restart(&apps[i]);
    progress->total = todo;
    progress->done = 0;
    rm_progress_report(progress);

    int failed = 0;
    for (int r = 0; r < 4 && !err; r++)
        for (uint32_t i = 0; i < n && !err; i++) {
            struct rm_app_state *a = &apps[i];
            if (!to_restart(a) || rank(a->app_type) != r)
                continue;
            if (rm_cancelled(cancel)) {
                err = ERROR_CANCELLED;
                break;
            }
            BOOL ok = a->app_type == RmService ? start_service(a->service, service_timeout, cancel)
                                               : start_app(handle, a, how);
            a->status |= ok ? RmStatusRestarted : RmStatusErrorOnRestart;
            rm_trace("restart: %ls (was pid %lu): %s", a->app_type == RmService ? a->service : a->cmd,
                     a->process.dwProcessId, ok ? "restarted" : "failed");
            failed |= !ok;
            err = rm_session_record_app_ex(handle, how, &a->process, a->status, NULL);
            progress->done++;
            rm_progress_report(progress);
        }
    rm_session_apps_free(apps, n);
    if (!err)
        rm_progress_finish(progress);
    return err ? err : failed ? ERROR_FAIL_RESTART : ERROR_SUCCESS;
}
