/*
 * Getting targets ready: each process pinned by a handle and what restarting it will need,
 * captured while it still runs.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

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

static BOOL read_remote(HANDLE p, ULONGLONG at, void *buf, SIZE_T n)
{
    SIZE_T got = 0;
    if (at > (ULONG_PTR)-1)
        return FALSE; /* a 64-bit address seen from a 32-bit process */
    return rm_sys.ReadProcessMemory(p, (LPCVOID)(ULONG_PTR)at, buf, n, &got) && got == n;
}

static WCHAR *read_string(HANDLE p, const BYTE *ustr, int ptr64)
{
    USHORT len;
    ULONGLONG buf = 0;
    memcpy(&len, ustr, 2);
    memcpy(&buf, ustr + (ptr64 ? 8 : 4), ptr64 ? 8 : 4);
    WCHAR *s = rm_sys.alloc((size_t)len + sizeof(WCHAR));
    if (!s)
        return NULL;
    if (len && !read_remote(p, buf, s, len)) {
        rm_sys.free(s);
        return NULL;
    }
    s[len / sizeof(WCHAR)] = 0;
    return s;
}

/* Reads RTL_USER_PROCESS_PARAMETERS of the target: its PEB (native or, for a 32-bit target
 * seen from 64-bit code, the WOW64 one) points to it. */
static BOOL capture_command(HANDLE p, WCHAR **cmd, WCHAR **dir)
{
    BOOL self_wow = FALSE, target_wow = FALSE;
    rm_sys.IsWow64Process(RM_CURRENT_PROCESS, &self_wow);
    rm_sys.IsWow64Process(p, &target_wow);
    ULONGLONG peb = 0;
    int ptr64 = sizeof(void *) == 8 && !target_wow;
    if (sizeof(void *) == 8 && target_wow) {
        ULONG_PTR wow_peb = 0;
        if (rm_sys.NtQueryInformationProcess(p, ProcessWow64Information, &wow_peb, sizeof wow_peb, NULL) < 0)
            return FALSE;
        peb = wow_peb;
    } else {
        if (sizeof(void *) == 4 && self_wow && !target_wow)
            return FALSE; /* a 64-bit target's memory is out of a 32-bit caller's reach */
        PROCESS_BASIC_INFORMATION pbi;
        if (rm_sys.NtQueryInformationProcess(p, ProcessBasicInformation, &pbi, sizeof pbi, NULL) < 0)
            return FALSE;
        peb = (ULONG_PTR)pbi.PebBaseAddress;
    }
    ULONGLONG params = 0;
    BYTE buf[0x80];
    if (!peb || !read_remote(p, peb + (ptr64 ? 0x20 : 0x10), &params, ptr64 ? 8 : 4) || !params ||
        !read_remote(p, params, buf, ptr64 ? 0x80 : 0x48))
        return FALSE;
    *dir = read_string(p, buf + (ptr64 ? 0x38 : 0x24), ptr64);
    *cmd = read_string(p, buf + (ptr64 ? 0x70 : 0x40), ptr64);
    if (*dir && *cmd)
        return TRUE;
    rm_sys.free(*dir);
    rm_sys.free(*cmd);
    *dir = *cmd = NULL;
    return FALSE;
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
    for (uint32_t i = 0; i < n; i++) {
        struct rm_target *x = &t[i];
        pin(x);
        x->status = RmStatusRunning;
        struct rm_stopped_info *r = &x->restart;
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
        if (!x->process || !capture_command(x->process, &x->cmd, &x->dir))
            continue;
        r->cmd = (const uint16_t *)x->cmd;
        r->ncmd = (uint32_t)wcslen(x->cmd);
        r->dir = (const uint16_t *)x->dir;
        r->ndir = (uint32_t)wcslen(x->dir);
        if (x->info.ApplicationType == RmConsole)
            r->flags |= RM_STOPPED_NEW_CONSOLE;
        if (same_identity(x->process))
            r->flags |= RM_STOPPED_SAME_IDENTITY;
    }
    struct window_walk w = {t, n, 0};
    rm_sys.EnumWindows(collect_window, (LPARAM)&w);
    return w.failed ? ERROR_OUTOFMEMORY : ERROR_SUCCESS;
}

void rm_targets_free(struct rm_target *t, uint32_t n)
{
    for (uint32_t i = 0; t && i < n; i++) {
        if (t[i].process)
            rm_sys.CloseHandle(t[i].process);
        rm_sys.free(t[i].cmd);
        rm_sys.free(t[i].dir);
        rm_sys.free(t[i].windows);
    }
    rm_sys.free(t);
}
