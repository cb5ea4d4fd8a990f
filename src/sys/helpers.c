/*
 * Helpers built on the OS table: process identity, the current user, owner-only security.
 * Values that cannot change during a process's life are computed once.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sys.h"

#include <stdio.h>
#include <string.h>

enum rm_proc_state rm_process_state(DWORD pid, const FILETIME *start)
{
    FILETIME created, exited, kernel, user;
    HANDLE h = rm_sys.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, pid);
    if (!h) {
        /* ERROR_INVALID_PARAMETER is the OS's word for "no such process". */
        return GetLastError() == ERROR_INVALID_PARAMETER ? RM_PROC_GONE : RM_PROC_UNKNOWN;
    }
    enum rm_proc_state st = RM_PROC_UNKNOWN;
    if (rm_sys.GetProcessTimes(h, &created, &exited, &kernel, &user)) {
        if (created.dwLowDateTime != start->dwLowDateTime ||
            created.dwHighDateTime != start->dwHighDateTime)
            st = RM_PROC_GONE;
        else /* an exited process stays openable while anyone holds a handle to it */
            st = rm_sys.WaitForSingleObject(h, 0) == WAIT_OBJECT_0 ? RM_PROC_GONE : RM_PROC_ALIVE;
    }
    rm_sys.CloseHandle(h);
    return st;
}

void rm_self_identity(DWORD *pid, FILETIME *start)
{
    static FILETIME self_start;
    static LONG done;
    if (!InterlockedCompareExchange(&done, 0, 0)) {
        FILETIME created = {0}, exited, kernel, user;
        rm_sys.GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user);
        self_start = created;
        InterlockedExchange(&done, 1);
    }
    *pid = rm_sys.GetCurrentProcessId();
    *start = self_start;
}

static WCHAR *user_sid_text;
static BYTE user_sid[SECURITY_MAX_SID_SIZE];
static SECURITY_ATTRIBUTES owner_sa;
static SECURITY_DESCRIPTOR owner_sd;
static BYTE owner_acl[sizeof(ACL) + sizeof(ACCESS_ALLOWED_ACE) + SECURITY_MAX_SID_SIZE];
static INIT_ONCE user_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK init_user(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once, (void)param, (void)ctx;
    HANDLE token;
    BYTE buf[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    DWORD len = 0;
    LPWSTR text = NULL;

    if (!rm_sys.OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
        return TRUE; /* leave it unavailable; callers report an error */
    BOOL ok = rm_sys.GetTokenInformation(token, TokenUser, buf, sizeof buf, &len);
    rm_sys.CloseHandle(token);
    if (!ok)
        return TRUE;
    PSID sid = ((TOKEN_USER *)(void *)buf)->User.Sid;
    DWORD sid_len = GetLengthSid(sid);
    if (sid_len > sizeof user_sid || !CopySid(sizeof user_sid, user_sid, sid))
        return TRUE;
    if (!rm_sys.ConvertSidToStringSidW(user_sid, &text))
        return TRUE;
    size_t n = wcslen(text) + 1;
    user_sid_text = rm_sys.alloc(n * sizeof(WCHAR));
    if (user_sid_text)
        memcpy(user_sid_text, text, n * sizeof(WCHAR));
    rm_sys.LocalFree(text);

    /* One ACE: the user. Other users, even on the same machine, cannot open the session store. */
    PACL acl = (PACL)(void *)owner_acl;
    if (user_sid_text && InitializeAcl(acl, sizeof owner_acl, ACL_REVISION) &&
        AddAccessAllowedAce(acl, ACL_REVISION, GENERIC_ALL, user_sid) &&
        InitializeSecurityDescriptor(&owner_sd, SECURITY_DESCRIPTOR_REVISION) &&
        SetSecurityDescriptorDacl(&owner_sd, TRUE, acl, FALSE)) {
        owner_sa.nLength = sizeof owner_sa;
        owner_sa.lpSecurityDescriptor = &owner_sd;
        owner_sa.bInheritHandle = FALSE;
    }
    return TRUE;
}

const WCHAR *rm_user_sid(void)
{
    InitOnceExecuteOnce(&user_once, init_user, NULL, NULL);
    return owner_sa.nLength ? user_sid_text : NULL;
}

const SECURITY_ATTRIBUTES *rm_owner_only_sa(void)
{
    InitOnceExecuteOnce(&user_once, init_user, NULL, NULL);
    return owner_sa.nLength ? &owner_sa : NULL;
}

void rm_path_env_init(struct rm_path_env *env)
{
    if (!rm_sys.IsWow64Process(GetCurrentProcess(), &env->wow64))
        env->wow64 = FALSE;
    UINT n = rm_sys.GetSystemWindowsDirectoryW(env->windir, MAX_PATH);
    if (n == 0 || n >= MAX_PATH)
        env->windir[0] = 0;
}

DWORD rm_last_error_save(void)
{
    return GetLastError();
}

void rm_last_error_restore(DWORD saved)
{
    SetLastError(saved);
}

WCHAR *rm_process_image(HANDLE process)
{
    /* The Win32 path limit, plus its NUL. */
    DWORD cap = 32768, n = cap;
    WCHAR *buf = rm_sys.alloc(cap * sizeof *buf), *out = NULL;
    if (buf && rm_sys.QueryFullProcessImageNameW(process, 0, buf, &n) && n && n < cap &&
        (out = rm_sys.alloc(((SIZE_T)n + 1) * sizeof *out)) != NULL) {
        memcpy(out, buf, (SIZE_T)n * sizeof *out);
        out[n] = 0;
    }
    rm_sys.free(buf);
    return out;
}

BOOL rm_spawn_helper(const WCHAR *rundll, const WCHAR *dll, const WCHAR *args, HANDLE *process)
{
    WCHAR cmd[3 * MAX_PATH + 64];
    /* rundll32 looks for the W entry of a name first and gives it a wide command line */
    int n = _snwprintf(cmd, sizeof cmd / sizeof *cmd, L"\"%ls\" \"%ls\",RmRunHelper %ls", rundll, dll, args);
    if (n < 0 || (size_t)n >= sizeof cmd / sizeof *cmd)
        return FALSE;
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    if (!rm_sys.CreateProcessW(NULL, cmd, NULL, NULL, FALSE, DETACHED_PROCESS, NULL, NULL, &si, &pi))
        return FALSE;
    rm_sys.CloseHandle(pi.hThread);
    if (process)
        *process = pi.hProcess;
    else
        rm_sys.CloseHandle(pi.hProcess);
    return TRUE;
}
