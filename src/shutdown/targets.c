/*
 * Getting targets ready: each process pinned by a handle and what restarting it will need,
 * captured while it still runs.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "detect/native.h"
#include "detect/params.h"
#include "shutdown.h"
#include "sys/sys.h"

/* REG_SZ milliseconds under the documented value names; anything unreadable or absurd means
 * the default. */
static DWORD read_timeout(HKEY root, const WCHAR *key, const WCHAR *value, DWORD fallback)
{
    WCHAR text[32];
    DWORD size = sizeof text;
    if (rm_sys.RegGetValueW(root, key, value, RRF_RT_REG_SZ, NULL, text, &size) != ERROR_SUCCESS)
        return fallback;
    DWORD ms = 0;
    for (const WCHAR *p = text; *p >= '0' && *p <= '9' && ms < 10000000; p++)
        ms = ms * 10 + (DWORD)(*p - '0');
    return ms >= 100 && ms <= 3600000 ? ms : fallback;
}

void rm_shutdown_timeouts(DWORD *app_ms, DWORD *service_ms)
{
    *app_ms = read_timeout(HKEY_CURRENT_USER, L"Control Panel\\Desktop", L"HungAppTimeout", 30000);
    *service_ms = read_timeout(HKEY_LOCAL_MACHINE, L"System\\CurrentControlSet\\Control",
                               L"WaitToKillServiceTimeout", 20000);
}

BOOL rm_wait_exit(HANDLE process, ULONGLONG deadline, const struct rm_cancel *cancel)
{
    for (;;) {
        ULONGLONG now = GetTickCount64();
        DWORD slice = now >= deadline ? 0 : (DWORD)(deadline - now > 100 ? 100 : deadline - now);
        if (rm_sys.WaitForSingleObject(process, slice) == WAIT_OBJECT_0)
            return TRUE;
        if (now >= deadline || rm_cancelled(cancel))
            return FALSE;
    }
}

BOOL rm_terminate(HANDLE process)
{
    /* The handle pins the process: a reused PID cannot be hit through it. */
    rm_sys.TerminateProcess(process, ERROR_FAIL_SHUTDOWN);
    return rm_sys.WaitForSingleObject(process, 5000) == WAIT_OBJECT_0;
}

DWORD rm_run_parallel(LPTHREAD_START_ROUTINE fn, void *args, size_t arg_size, uint32_t n)
{
    HANDLE *threads = rm_alloc_zero((n ? n : 1) * sizeof *threads);
    if (!threads)
        return ERROR_OUTOFMEMORY;
    for (uint32_t i = 0; i < n; i++) {
        void *arg = (char *)args + i * arg_size;
        threads[i] = rm_sys.CreateThread(NULL, (SIZE_T)64 * 1024, fn, arg, STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
        if (!threads[i])
            fn(arg); /* no thread to be had: do it here, slower but done */
    }
    /* Each job bounds its own waits; this only collects them. */
    for (uint32_t i = 0; i < n; i++)
        if (threads[i]) {
            rm_sys.WaitForSingleObject(threads[i], INFINITE);
            rm_sys.CloseHandle(threads[i]);
        }
    rm_sys.free(threads);
    return ERROR_SUCCESS;
}

/* ---- the command line and directory a process runs with -------------------------------- */

static WCHAR *copy_text(const WCHAR *src)
{
    size_t n = wcslen(src);
    WCHAR *d = rm_sys.alloc((n + 1) * sizeof *d);
    if (d)
        memcpy(d, src, (n + 1) * sizeof *d);
    return d;
}

/* What the native helper read of a 64-bit target (WOW64 caller): it must be this very process. */
static BOOL params_from_native(const struct rm_native_report *r, struct rm_target *w)
{
    const struct rm_native_proc *np = rm_native_find(r, w->info.Process.dwProcessId, &w->info.Process.ProcessStartTime);
    if (!np || !(np->have & RM_NATIVE_PARAMS)) {
        rm_trace("shutdown: 64-bit pid %lu: no command line from the native helper: it cannot be restarted",
                 w->info.Process.dwProcessId);
        return FALSE;
    }
    w->cmd = copy_text(np->cmd);
    w->dir = copy_text(np->dir);
    if (w->cmd && w->dir)
        return TRUE;
    rm_sys.free(w->cmd);
    rm_sys.free(w->dir);
    w->cmd = w->dir = NULL;
    return FALSE;
}

/* Under WOW64, one question to the native helper for every 64-bit target. */
static DWORD ask_native(const struct rm_target *t, uint32_t n, BYTE *beyond, struct rm_native_report *r)
{
    DWORD *pids = rm_sys.alloc((n ? n : 1) * sizeof *pids);
    uint32_t k = 0;
    if (!pids)
        return ERROR_OUTOFMEMORY;
    for (uint32_t i = 0; i < n; i++) {
        beyond[i] = t[i].process && t[i].info.ApplicationType != RmService && rm_process_beyond_wow64(t[i].process);
        if (beyond[i])
            pids[k++] = t[i].info.Process.dwProcessId;
    }
    DWORD err = k ? rm_native_query(pids, k, RM_NATIVE_PARAMS, r) : ERROR_SUCCESS;
    rm_sys.free(pids);
    return err;
}

/* Does the target run as the caller runs (same user, same elevation)? Only then may anyone
 * but the caller's own RmRestart (which holds the target's token) bring it back. */
static BOOL same_identity(HANDLE p)
{
    HANDLE a, b;
    BOOL same = FALSE;
    if (!rm_sys.OpenProcessToken(p, TOKEN_QUERY, &a))
        return FALSE;
    if (rm_sys.OpenProcessToken(RM_CURRENT_PROCESS, TOKEN_QUERY, &b)) {
        BYTE ua[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE], ub[sizeof ua];
        TOKEN_ELEVATION ea = {0}, eb = {0};
        DWORD n;
        if (rm_sys.GetTokenInformation(a, TokenUser, ua, sizeof ua, &n) &&
            rm_sys.GetTokenInformation(b, TokenUser, ub, sizeof ub, &n) &&
            EqualSid(((TOKEN_USER *)(void *)ua)->User.Sid, ((TOKEN_USER *)(void *)ub)->User.Sid)) {
            BOOL ga = rm_sys.GetTokenInformation(a, TokenElevation, &ea, sizeof ea, &n);
            BOOL gb = rm_sys.GetTokenInformation(b, TokenElevation, &eb, sizeof eb, &n);
            same = ga == gb && ea.TokenIsElevated == eb.TokenIsElevated;
        }
        rm_sys.CloseHandle(b);
    }
    rm_sys.CloseHandle(a);
    return same;
}

struct window_walk {
    struct rm_target *t;
    uint32_t n;
    int failed;
};

static BOOL CALLBACK collect_window(HWND hwnd, LPARAM param)
{
    struct window_walk *w = (struct window_walk *)param;
    DWORD pid = 0;
    rm_sys.GetWindowThreadProcessId(hwnd, &pid);
    for (uint32_t i = 0; i < w->n; i++) {
        struct rm_target *t = &w->t[i];
        if (t->info.Process.dwProcessId != pid || !t->process)
            continue;
        HWND *more = rm_sys.alloc((t->nwindows + 1) * sizeof(HWND));
        if (!more) {
            w->failed = 1;
            return FALSE;
        }
        if (t->nwindows)
            memcpy(more, t->windows, t->nwindows * sizeof(HWND));
        rm_sys.free(t->windows);
        t->windows = more;
        t->windows[t->nwindows++] = hwnd;
    }
    return TRUE;
}

static void pin(struct rm_target *t)
{
    DWORD pid = t->info.Process.dwProcessId;
    HANDLE p = rm_sys.OpenProcess(SYNCHRONIZE | PROCESS_TERMINATE | PROCESS_QUERY_INFORMATION | PROCESS_VM_READ,
                                  FALSE, pid);
    if (!p)
        p = rm_sys.OpenProcess(SYNCHRONIZE | PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (!p)
        p = rm_sys.OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    FILETIME c, e, k, u;
    /* The listed process must be the one this handle holds: same creation time. */
    if (p && (!rm_sys.GetProcessTimes(p, &c, &e, &k, &u) ||
              c.dwLowDateTime != t->info.Process.ProcessStartTime.dwLowDateTime ||
              c.dwHighDateTime != t->info.Process.ProcessStartTime.dwHighDateTime)) {
        rm_sys.CloseHandle(p);
        p = NULL;
    }
    t->process = p;
}

DWORD rm_targets_prepare(struct rm_target *t, uint32_t n)
{
    struct rm_native_report native;
    BYTE *beyond = rm_alloc_zero(n ? n : 1);
    memset(&native, 0, sizeof native);
    if (!beyond)
        return ERROR_OUTOFMEMORY;
    for (uint32_t i = 0; i < n; i++)
        pin(&t[i]);
    DWORD err = ask_native(t, n, beyond, &native);
    for (uint32_t i = 0; i < n && !err; i++) {
        struct rm_target *x = &t[i];
        x->status = RmStatusRunning;
        struct rm_stopped_info *r = &x->stopped;
        memset(r, 0, sizeof *r);
        r->pid = x->info.Process.dwProcessId;
        r->time_lo = x->info.Process.ProcessStartTime.dwLowDateTime;
        r->time_hi = x->info.Process.ProcessStartTime.dwHighDateTime;
        r->app_type = (uint32_t)x->info.ApplicationType;
        if (x->info.ApplicationType == RmService) {
            r->svc = (const uint16_t *)x->info.strServiceShortName;
            r->nsvc = (uint32_t)wcsnlen(x->info.strServiceShortName, CCH_RM_MAX_SVC_NAME);
            continue;
        }
        if (!x->process)
            continue;
        BOOL have = beyond[i] ? params_from_native(&native, x)
                              : rm_process_params(x->process, &x->cmd, &x->dir) == ERROR_SUCCESS;
        /* The image is what runs again: the command line's first word is only an argument. */
        if (have && !(x->image = rm_process_image(x->process))) {
            rm_sys.free(x->cmd);
            rm_sys.free(x->dir);
            x->cmd = x->dir = NULL;
            have = FALSE;
        }
        if (!have) {
            rm_trace("shutdown: pid %u: its command line or image could not be read: it cannot be restarted", r->pid);
            continue;
        }
        if (x->info.ApplicationType == RmConsole)
            r->flags |= RM_STOPPED_NEW_CONSOLE;
        if (same_identity(x->process))
            r->flags |= RM_STOPPED_SAME_IDENTITY;
    }
    rm_native_report_free(&native);
    rm_sys.free(beyond);
    if (err)
        return err;
    struct window_walk w = {t, n, 0};
    rm_sys.EnumWindows(collect_window, (LPARAM)&w);
    return w.failed ? ERROR_OUTOFMEMORY : ERROR_SUCCESS;
}

void rm_targets_free(struct rm_target *t, uint32_t n)
{
    for (uint32_t i = 0; t && i < n; i++) {
        if (t[i].process)
            rm_sys.CloseHandle(t[i].process);
        rm_sys.free(t[i].image);
        rm_sys.free(t[i].cmd);
        rm_sys.free(t[i].dir);
        rm_sys.free(t[i].windows);
    }
    rm_sys.free(t);
}
