/*
 * Processes, events and directories of a test run (see proc.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* ---- start of a test program ------------------------------------------------------------- */

void rm_test_main_init(void)
{
    /* A crash must end the process with its exception code, never wait on a dialog. */
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    setvbuf(stdout, NULL, _IONBF, 0);
    SetHandleInformation(GetStdHandle(STD_OUTPUT_HANDLE), HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    SetHandleInformation(GetStdHandle(STD_ERROR_HANDLE), HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
}

int rm_test_run_role(const char *program, const WCHAR *role, CMUnitTestFunction fn, CMFixtureFunction teardown)
{
    static char name[128];
    snprintf(name, sizeof name, "%s child %ls", program, role);
    struct CMUnitTest one[1] = {{name, fn, NULL, teardown, NULL}};
    return _cmocka_run_group_tests(name, one, 1, NULL, NULL);
}

/* ---- calls ---------------------------------------------------------------------------------- */

RM_UNIQUE_PROCESS rm_test_unique(HANDLE process)
{
    RM_UNIQUE_PROCESS p = {GetProcessId(process), {0, 0}};
    FILETIME exited, kernel, user;
    assert_true(GetProcessTimes(process, &p.ProcessStartTime, &exited, &kernel, &user));
    return p;
}

DWORD rm_test_expect_rc_(DWORD expected, DWORD got, const char *call, const char *file, int line)
{
    DWORD last = GetLastError();
    if (last != RM_TEST_LAST_ERROR) {
        print_error("%s changed the caller's last error: 0x%08lx, expected 0x%08x\n", call, last,
                    RM_TEST_LAST_ERROR);
        _fail(file, line);
    }
    if (got != expected) {
        print_error("%s returned %lu, expected %lu\n", call, got, expected);
        _fail(file, line);
    }
    return got;
}

void rm_test_ids_add(struct rm_test_ids *l, DWORD id)
{
    if (l->n < (int)(sizeof l->id / sizeof l->id[0]))
        l->id[l->n++] = id;
}

void rm_test_ids_forget(struct rm_test_ids *l, DWORD id)
{
    for (int i = 0; i < l->n; i++)
        if (l->id[i] == id) {
            l->id[i] = l->id[--l->n];
            return;
        }
}

/* ---- processes ------------------------------------------------------------------------------- */

void rm_test_procs_forget(struct rm_test_procs *l, HANDLE p)
{
    for (int i = 0; i < l->n; i++)
        if (l->h[i] == p) {
            l->h[i] = l->h[--l->n];
            break;
        }
    CloseHandle(p);
}

void rm_test_procs_kill(struct rm_test_procs *l)
{
    while (l->n > 0) {
        HANDLE p = l->h[--l->n];
        TerminateProcess(p, 0xdead);
        WaitForSingleObject(p, 10000);
        CloseHandle(p);
    }
}

void rm_test_kill_pid(DWORD pid)
{
    HANDLE p = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, pid);
    if (p) {
        TerminateProcess(p, 0xdead);
        WaitForSingleObject(p, 10000);
        CloseHandle(p);
    }
}

BOOL rm_test_create_process(const WCHAR *exe, WCHAR *cmd, BOOL inherit, DWORD flags, const WCHAR *cwd,
                            STARTUPINFOW *si, PROCESS_INFORMATION *pi)
{
    /* Wine fails a start with ERROR_INTERNAL_ERROR when the new process dies, with no exit
     * status of its own, before its start-up completes (its main has not run). It is rare and
     * does not reproduce on demand: the loader's fault, not what a test checks, so the start
     * is tried again, and said so, a bounded number of times. */
    for (int attempt = 1;; attempt++) {
        if (CreateProcessW(exe, cmd, NULL, NULL, inherit, flags, NULL, cwd, si, pi))
            return TRUE;
        DWORD e = GetLastError();
        if (e != ERROR_INTERNAL_ERROR || attempt == 3)
            return FALSE;
        print_message("CreateProcessW(%ls) failed: %lu (the new process died while starting); trying again\n",
                      cmd, e);
        Sleep(100);
    }
}

/* NULL (reported) if it cannot be started. */
static HANDLE create(struct rm_test_procs *l, const WCHAR *exe, WCHAR *cmd, const WCHAR *cwd, DWORD flags,
                     BOOL share_std)
{
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    if (share_std) {
        si.dwFlags = STARTF_USESTDHANDLES;
        si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
        si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
        si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    }
    if (!rm_test_create_process(exe, cmd, share_std, flags, cwd, &si, &pi)) {
        print_error("CreateProcessW(%ls) failed: %lu\n", cmd, GetLastError());
        return NULL;
    }
    CloseHandle(pi.hThread);
    if (l->n < (int)(sizeof l->h / sizeof l->h[0]))
        l->h[l->n++] = pi.hProcess;
    return pi.hProcess;
}

HANDLE rm_test_vspawn_(struct rm_test_procs *l, const WCHAR *role, const WCHAR *tag, const WCHAR *cwd,
                       const char *file, int line, const WCHAR *fmt, va_list ap)
{
    static WCHAR exe[MAX_PATH], args[8192], cmd[16384];
    GetModuleFileNameW(NULL, exe, MAX_PATH);
    _vsnwprintf(args, 8192, fmt, ap);
    args[8191] = 0;
    _snwprintf(cmd, 16384, L"\"%ls\" --child %ls %ls %ls", exe, role, tag, args);
    cmd[16383] = 0;
    HANDLE p = create(l, exe, cmd, cwd, 0, TRUE);
    if (!p)
        _fail(file, line);
    return p;
}

HANDLE rm_test_vlaunch_(struct rm_test_procs *l, const WCHAR *exe, const WCHAR *cwd, DWORD flags, BOOL share_std,
                        HANDLE ready, const WCHAR *ready_name, const char *file, int line, const WCHAR *fmt,
                        va_list ap)
{
    static WCHAR args[4096], cmd[8192];
    _vsnwprintf(args, 4096, fmt, ap);
    args[4095] = 0;
    _snwprintf(cmd, 8192, L"\"%ls\" %ls --ready %ls", exe, args, ready_name);
    cmd[8191] = 0;
    HANDLE p = create(l, exe, cmd, cwd, flags, share_std);
    if (!p) {
        CloseHandle(ready);
        _fail(file, line);
    }
    rm_test_wait_event_(ready, p, 30000, file, line);
    return p;
}

void rm_test_expect_exit_(struct rm_test_procs *l, HANDLE child, DWORD code, DWORD timeout_ms, const char *file,
                          int line)
{
    DWORD got = 0xffffffffu;
    if (WaitForSingleObject(child, timeout_ms) != WAIT_OBJECT_0) {
        TerminateProcess(child, 0xdead);
        WaitForSingleObject(child, 10000);
        rm_test_procs_forget(l, child);
        print_error("child did not finish within %lu ms and was killed\n", timeout_ms);
        _fail(file, line);
    }
    GetExitCodeProcess(child, &got);
    rm_test_procs_forget(l, child);
    if (got != code) {
        print_error("child exited with %lu (0x%08lx), expected %lu\n", got, got, code);
        _fail(file, line);
    }
}

void rm_test_kill_(struct rm_test_procs *l, HANDLE child, const char *file, int line)
{
    DWORD code = 0;
    GetExitCodeProcess(child, &code);
    if (code != STILL_ACTIVE) {
        rm_test_procs_forget(l, child);
        print_error("child had already exited (%lu) before it could be killed\n", code);
        _fail(file, line);
    }
    TerminateProcess(child, 0xdead);
    DWORD w = WaitForSingleObject(child, 10000);
    rm_test_procs_forget(l, child);
    if (w != WAIT_OBJECT_0) {
        print_error("killed child did not go away\n");
        _fail(file, line);
    }
}

void rm_test_helper_path(const WCHAR *exe, WCHAR out[MAX_PATH])
{
    WCHAR self[MAX_PATH];
    DWORD n = GetModuleFileNameW(NULL, self, MAX_PATH);
    while (n && self[n - 1] != L'\\')
        n--;
    self[n] = 0;
    _snwprintf(out, MAX_PATH, L"%ls%ls", self, exe);
    out[MAX_PATH - 1] = 0;
}

BOOL rm_test_other_helper_path(const WCHAR *exe, WCHAR out[MAX_PATH])
{
    _snwprintf(out, MAX_PATH, L"%ls\\%ls", RM_OTHER_BIN_DIR, exe);
    out[MAX_PATH - 1] = 0;
    return GetFileAttributesW(out) != INVALID_FILE_ATTRIBUTES;
}

void rm_test_other_helper(const WCHAR *exe, WCHAR out[MAX_PATH])
{
    WCHAR wow[MAX_PATH + 16];
    BOOL self_wow64 = FALSE;
    assert_true(IsWow64Process(GetCurrentProcess(), &self_wow64));
    if (!rm_test_other_helper_path(exe, out)) {
        print_error("%ls is missing: build both presets first\n", out);
        fail();
    }
    if (self_wow64)
        return; /* under WOW64 the 64-bit side is always there */
    UINT n = GetSystemWow64DirectoryW(wow, MAX_PATH);
    if (!n || n >= MAX_PATH || (wcscat(wow, L"\\kernel32.dll"), GetFileAttributesW(wow) == INVALID_FILE_ATTRIBUTES)) {
        print_message("this prefix has no 32-bit side (no wine32): skipped\n");
        skip();
    }
}

/* ---- events ------------------------------------------------------------------------------------ */

HANDLE rm_test_event(const WCHAR *full_name)
{
    HANDLE ev = CreateEventW(NULL, TRUE, FALSE, full_name);
    assert_non_null(ev);
    return ev;
}

void rm_test_wait_event_(HANDLE ev, HANDLE proc, DWORD timeout_ms, const char *file, int line)
{
    HANDLE both[2] = {ev, proc};
    DWORD w = WaitForMultipleObjects(proc ? 2 : 1, both, FALSE, timeout_ms);
    if (w == WAIT_OBJECT_0)
        return;
    if (w == WAIT_OBJECT_0 + 1) {
        DWORD code = 0;
        GetExitCodeProcess(proc, &code);
        print_error("process exited (%lu) before signalling\n", code);
    } else
        print_error("no signal within %lu ms\n", timeout_ms);
    _fail(file, line);
}

/* ---- directories ------------------------------------------------------------------------------ */

void rm_test_make_dir(struct rm_test_dirs *l, const WCHAR *tag, const WCHAR *leaf, WCHAR out[MAX_PATH])
{
    WCHAR tmp[MAX_PATH];
    GetTempPathW(MAX_PATH, tmp);
    size_t n = wcslen(tmp);
    if (n && tmp[n - 1] == L'\\')
        tmp[n - 1] = 0;
    _snwprintf(out, MAX_PATH, L"%ls\\%ls-%ls", tmp, tag, leaf);
    out[MAX_PATH - 1] = 0;
    CreateDirectoryW(out, NULL);
    assert_int_not_equal(GetFileAttributesW(out), INVALID_FILE_ATTRIBUTES);
    if (l->n < (int)(sizeof l->d / sizeof l->d[0]))
        wcscpy(l->d[l->n++], out);
}

/* Test directories hold only files: empty them, then remove them, so runs leave nothing behind. */
static void remove_dir(const WCHAR *dir)
{
    WCHAR pattern[MAX_PATH + 4], path[2 * MAX_PATH];
    WIN32_FIND_DATAW fd;
    _snwprintf(pattern, MAX_PATH + 4, L"%ls\\*", dir);
    pattern[MAX_PATH + 3] = 0;
    HANDLE f = FindFirstFileW(pattern, &fd);
    if (f != INVALID_HANDLE_VALUE) {
        do {
            if (!(fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
                _snwprintf(path, 2 * MAX_PATH, L"%ls\\%ls", dir, fd.cFileName);
                path[2 * MAX_PATH - 1] = 0;
                DeleteFileW(path);
            }
        } while (FindNextFileW(f, &fd));
        FindClose(f);
    }
    RemoveDirectoryW(dir);
}

void rm_test_remove_dirs(struct rm_test_dirs *l)
{
    while (l->n > 0)
        remove_dir(l->d[--l->n]);
}

void rm_test_path(WCHAR out[MAX_PATH], const WCHAR *dir, const WCHAR *leaf)
{
    _snwprintf(out, MAX_PATH, L"%ls\\%ls", dir, leaf);
    out[MAX_PATH - 1] = 0;
}
