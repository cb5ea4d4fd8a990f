/*
 * Integration-test harness (see it.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "it.h"

#include "handles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "session/session.h"
#include "session/store.h"

const WCHAR *it_prefix;
int it_argc;
WCHAR **it_argv;

#define IT_MAX_TRACKED 512

static DWORD tracked[IT_MAX_TRACKED];
static int ntracked;
static HANDLE children[64];
static int nchildren;
static WCHAR dirs[8][MAX_PATH];
static int ndirs;

/* ---- arguments ------------------------------------------------------------------------------ */

const WCHAR *it_arg(int i)
{
    if (i >= it_argc) {
        print_error("child role is missing argument %d\n", i);
        fail();
    }
    return it_argv[i];
}

DWORD it_arg_u32(int i)
{
    return (DWORD)wcstoul(it_arg(i), NULL, 0);
}

/* ---- calls ---------------------------------------------------------------------------------- */

DWORD it_expect_rc_(DWORD expected, DWORD got, const char *call, const char *file, int line)
{
    DWORD last = GetLastError();
    if (last != IT_LAST_ERROR) {
        print_error("%s changed the caller's last error: 0x%08lx, expected 0x%08x\n", call, last, IT_LAST_ERROR);
        _fail(file, line);
    }
    if (got != expected) {
        print_error("%s returned %lu, expected %lu\n", call, got, expected);
        _fail(file, line);
    }
    return got;
}

void it_track(DWORD handle)
{
    if (ntracked < IT_MAX_TRACKED)
        tracked[ntracked++] = handle;
}

void it_forget(DWORD handle)
{
    for (int i = 0; i < ntracked; i++)
        if (tracked[i] == handle) {
            tracked[i] = tracked[--ntracked];
            return;
        }
}

DWORD it_start_(WCHAR key[CCH_RM_SESSION_KEY + 1], const char *file, int line)
{
    DWORD h = 0xfeedfaceu;
    it_expect_rc_(ERROR_SUCCESS, IT_CALL(RmStartSession(&h, 0, key)), "RmStartSession(&h, 0, key)", file, line);
    it_track(h);
    return h;
}

void it_expect_counts_(DWORD handle, uint32_t files, uint32_t procs, uint32_t svcs, const char *file, int line)
{
    uint32_t c[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
    DWORD err = rm_session_counts(handle, c);
    if (err) {
        print_error("rm_session_counts(0x%08lx) returned %lu\n", handle, err);
        _fail(file, line);
    }
    if (c[0] != files || c[1] != procs || c[2] != svcs) {
        print_error("session holds %u files, %u processes, %u services; expected %u, %u, %u\n", c[0], c[1], c[2],
                    files, procs, svcs);
        _fail(file, line);
    }
}

RM_UNIQUE_PROCESS it_self_process(void)
{
    RM_UNIQUE_PROCESS p = {GetCurrentProcessId(), {0, 0}};
    FILETIME exited, kernel, user;
    GetProcessTimes(GetCurrentProcess(), &p.ProcessStartTime, &exited, &kernel, &user);
    return p;
}

/* ---- children --------------------------------------------------------------------------------- */

HANDLE it_spawn_(const WCHAR *role, const WCHAR *cwd, const char *file, int line, const WCHAR *fmt, ...)
{
    static WCHAR exe[MAX_PATH], args[4096], cmd[8192];
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    va_list ap;

    GetModuleFileNameW(NULL, exe, MAX_PATH);
    va_start(ap, fmt);
    _vsnwprintf(args, 4096, fmt, ap);
    va_end(ap);
    args[4095] = 0;
    _snwprintf(cmd, 8192, L"\"%ls\" --child %ls %ls %ls", exe, role, it_prefix, args);
    cmd[8191] = 0;

    /* The child's CMocka report goes where ours goes, so ctest shows both. */
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    if (!CreateProcessW(exe, cmd, NULL, NULL, TRUE, 0, NULL, cwd, &si, &pi)) {
        print_error("CreateProcessW(%ls) failed: %lu\n", cmd, GetLastError());
        _fail(file, line);
    }
    CloseHandle(pi.hThread);
    if (nchildren < 64)
        children[nchildren++] = pi.hProcess;
    return pi.hProcess;
}

static void forget_child(HANDLE child)
{
    for (int i = 0; i < nchildren; i++)
        if (children[i] == child) {
            children[i] = children[--nchildren];
            break;
        }
    CloseHandle(child);
}

void it_expect_exit_(HANDLE child, DWORD code, DWORD timeout_ms, const char *file, int line)
{
    DWORD got = 0xffffffffu;
    if (WaitForSingleObject(child, timeout_ms) != WAIT_OBJECT_0) {
        TerminateProcess(child, 0xdead);
        WaitForSingleObject(child, 10000);
        forget_child(child);
        print_error("child did not finish within %lu ms and was killed\n", timeout_ms);
        _fail(file, line);
    }
    GetExitCodeProcess(child, &got);
    forget_child(child);
    if (got != code) {
        print_error("child exited with %lu (0x%08lx), expected %lu\n", got, got, code);
        _fail(file, line);
    }
}

void it_kill_(HANDLE child, const char *file, int line)
{
    DWORD code = 0;
    GetExitCodeProcess(child, &code);
    if (code != STILL_ACTIVE) {
        forget_child(child);
        print_error("child had already exited (%lu) before it could be killed\n", code);
        _fail(file, line);
    }
    TerminateProcess(child, 0xdead);
    DWORD w = WaitForSingleObject(child, 10000);
    forget_child(child);
    if (w != WAIT_OBJECT_0) {
        print_error("killed child did not go away\n");
        _fail(file, line);
    }
}

void it_event_name(const WCHAR *name, WCHAR out[256])
{
    _snwprintf(out, 256, L"Local\\%ls.it.%ls", it_prefix, name);
    out[255] = 0;
}

HANDLE it_event(const WCHAR *name)
{
    WCHAR full[256];
    it_event_name(name, full);
    HANDLE ev = CreateEventW(NULL, TRUE, FALSE, full);
    assert_non_null(ev);
    return ev;
}

void it_wait_event_(HANDLE ev, HANDLE child, DWORD timeout_ms, const char *file, int line)
{
    HANDLE both[2] = {ev, child};
    DWORD w = WaitForMultipleObjects(child ? 2 : 1, both, FALSE, timeout_ms);
    if (w == WAIT_OBJECT_0)
        return;
    if (w == WAIT_OBJECT_0 + 1) {
        DWORD code = 0;
        GetExitCodeProcess(child, &code);
        print_error("child exited (%lu) before signalling\n", code);
    } else
        print_error("no signal within %lu ms\n", timeout_ms);
    _fail(file, line);
}

/* ---- helper programs -------------------------------------------------------------------------- */

void it_helper_path(const WCHAR *exe, WCHAR out[MAX_PATH])
{
    WCHAR self[MAX_PATH];
    DWORD n = GetModuleFileNameW(NULL, self, MAX_PATH);
    while (n && self[n - 1] != L'\\')
        n--;
    self[n] = 0;
    _snwprintf(out, MAX_PATH, L"%ls%ls", self, exe);
    out[MAX_PATH - 1] = 0;
}

HANDLE it_launch_(const WCHAR *exe, DWORD flags, const char *file, int line, const WCHAR *fmt, ...)
{
    static WCHAR args[4096], cmd[8192];
    static unsigned launched;
    WCHAR leaf[32], ready[256];
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    va_list ap;

    va_start(ap, fmt);
    _vsnwprintf(args, 4096, fmt, ap);
    va_end(ap);
    args[4095] = 0;
    _snwprintf(leaf, 32, L"ready%u", ++launched);
    leaf[31] = 0;
    HANDLE ev = it_event(leaf);
    it_event_name(leaf, ready);
    _snwprintf(cmd, 8192, L"\"%ls\" %ls --ready %ls", exe, args, ready);
    cmd[8191] = 0;

    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    if (!CreateProcessW(exe, cmd, NULL, NULL, TRUE, flags, NULL, NULL, &si, &pi)) {
        print_error("CreateProcessW(%ls) failed: %lu\n", cmd, GetLastError());
        CloseHandle(ev);
        _fail(file, line);
    }
    CloseHandle(pi.hThread);
    if (nchildren < 64)
        children[nchildren++] = pi.hProcess;
    it_wait_event_(ev, pi.hProcess, 30000, file, line);
    CloseHandle(ev);
    return pi.hProcess;
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

int it_teardown(void **state)
{
    (void)state;
    while (ntracked > 0)
        RmEndSession(tracked[--ntracked]);
    while (nchildren > 0) {
        HANDLE c = children[--nchildren];
        TerminateProcess(c, 0xdead);
        WaitForSingleObject(c, 10000);
        CloseHandle(c);
    }
    while (ndirs > 0)
        remove_dir(dirs[--ndirs]);
    return 0;
}

/* ---- handles ----------------------------------------------------------------------------------- */

DWORD it_handle_count_(const char *file, int line)
{
    DWORD n = rm_test_handle_count();
    if (n == (DWORD)-1) {
        print_error("this process's handle count cannot be read\n");
        _fail(file, line);
    }
    return n;
}

/* ---- guarded buffers ------------------------------------------------------------------------- */

void *it_guarded_(size_t bytes, const char *file, int line)
{
    size_t pages = (bytes + 4095) / 4096;
    BYTE *base = VirtualAlloc(NULL, (pages + 1) * 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    DWORD old;
    if (!base || !VirtualProtect(base + pages * 4096, 4096, PAGE_NOACCESS, &old)) {
        print_error("guarded buffer of %lu bytes: %lu\n", (unsigned long)bytes, GetLastError());
        _fail(file, line);
    }
    return base + pages * 4096 - bytes;
}

void it_guarded_free(void *p)
{
    MEMORY_BASIC_INFORMATION mbi;
    if (p && VirtualQuery(p, &mbi, sizeof mbi))
        VirtualFree(mbi.AllocationBase, 0, MEM_RELEASE);
}

void it_make_dir(const WCHAR *leaf, WCHAR out[MAX_PATH])
{
    WCHAR tmp[MAX_PATH];
    GetTempPathW(MAX_PATH, tmp);
    size_t n = wcslen(tmp);
    if (n && tmp[n - 1] == L'\\')
        tmp[n - 1] = 0;
    _snwprintf(out, MAX_PATH, L"%ls\\%ls-%ls", tmp, it_prefix, leaf);
    out[MAX_PATH - 1] = 0;
    CreateDirectoryW(out, NULL);
    assert_int_not_equal(GetFileAttributesW(out), INVALID_FILE_ATTRIBUTES);
    if (ndirs < 8)
        wcscpy(dirs[ndirs++], out);
}

/* ---- entry ----------------------------------------------------------------------------------- */

static int run_child(const WCHAR *role)
{
    static char name[128];
    for (const struct it_role *r = it_roles; r->name; r++) {
        if (wcscmp(r->name, role) != 0)
            continue;
        snprintf(name, sizeof name, "%s child %ls", it_program, role);
        struct CMUnitTest one[1] = {{name, r->fn, NULL, it_teardown, NULL}};
        return _cmocka_run_group_tests(name, one, 1, NULL, NULL);
    }
    fprintf(stderr, "%s: no child role %ls\n", it_program, role);
    return 2;
}

int wmain(int argc, WCHAR **argv)
{
    static WCHAR prefix[128];
    /* A crash must end the process with its exception code, never wait on a dialog. */
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    setvbuf(stdout, NULL, _IONBF, 0);
    /* Children write their reports to our standard handles (it_spawn_). */
    SetHandleInformation(GetStdHandle(STD_OUTPUT_HANDLE), HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    SetHandleInformation(GetStdHandle(STD_ERROR_HANDLE), HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    if (argc >= 4 && wcscmp(argv[1], L"--child") == 0) {
        it_prefix = argv[3];
        rm_store_prefix = it_prefix;
        it_argc = argc - 4;
        it_argv = argv + 4;
        return run_child(argv[2]);
    }
    _snwprintf(prefix, 128, L"rstrtmgr-it-%hs-%lu", it_program, GetCurrentProcessId());
    prefix[127] = 0;
    it_prefix = prefix;
    rm_store_prefix = it_prefix;
    return it_parent();
}
