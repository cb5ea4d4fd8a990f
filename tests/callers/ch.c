/*
 * Harness for the caller-pattern tests (see ch.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "ch.h"

#include <tlhelp32.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

const WCHAR *ch_tag;
int ch_argc;
WCHAR **ch_argv;

static DWORD sessions[256];
static int nsessions;
static HANDLE children[64];
static int nchildren;
static WCHAR dirs[8][MAX_PATH];
static int ndirs;
static WCHAR services[4][64];
static int nservices;
static int timeout_saved, timeout_had;
static WCHAR timeout_old[32];

const WCHAR *ch_arg(int i)
{
    if (i >= ch_argc) {
        print_error("child role is missing argument %d\n", i);
        fail();
    }
    return ch_argv[i];
}

DWORD ch_expect_rc_(DWORD expected, DWORD got, const char *call, const char *file, int line)
{
    DWORD last = GetLastError();
    if (last != CH_LAST_ERROR) {
        print_error("%s changed the caller's last error: 0x%08lx\n", call, last);
        _fail(file, line);
    }
    if (got != expected) {
        print_error("%s returned %lu, expected %lu\n", call, got, expected);
        _fail(file, line);
    }
    return got;
}

void ch_track(DWORD handle)
{
    if (nsessions < 256)
        sessions[nsessions++] = handle;
}

void ch_forget(DWORD handle)
{
    for (int i = 0; i < nsessions; i++)
        if (sessions[i] == handle) {
            sessions[i] = sessions[--nsessions];
            return;
        }
}

DWORD ch_start_(WCHAR key[CCH_RM_SESSION_KEY + 1], const char *file, int line)
{
    DWORD h = 0xfeedfaceu;
    WCHAR local[CCH_RM_SESSION_KEY + 1];
    ch_expect_rc_(ERROR_SUCCESS, CH_CALL(RmStartSession(&h, 0, key ? key : local)), "RmStartSession", file, line);
    ch_track(h);
    return h;
}

static void remember_child(HANDLE p)
{
    if (nchildren < 64)
        children[nchildren++] = p;
}

static void forget_child(HANDLE p)
{
    for (int i = 0; i < nchildren; i++)
        if (children[i] == p) {
            children[i] = children[--nchildren];
            break;
        }
    CloseHandle(p);
}

static HANDLE create(const WCHAR *exe, WCHAR *cmd, const char *file, int line)
{
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    /* Reports of children go where ours go, so ctest shows them. */
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    if (!CreateProcessW(exe, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        print_error("CreateProcessW(%ls) failed: %lu\n", cmd, GetLastError());
        _fail(file, line);
    }
    CloseHandle(pi.hThread);
    remember_child(pi.hProcess);
    return pi.hProcess;
}

HANDLE ch_spawn_(const WCHAR *role, const char *file, int line, const WCHAR *fmt, ...)
{
    static WCHAR exe[MAX_PATH], args[8192], cmd[16384];
    va_list ap;
    GetModuleFileNameW(NULL, exe, MAX_PATH);
    va_start(ap, fmt);
    _vsnwprintf(args, 8192, fmt, ap);
    va_end(ap);
    args[8191] = 0;
    _snwprintf(cmd, 16384, L"\"%ls\" --child %ls %ls %ls", exe, role, ch_tag, args);
    cmd[16383] = 0;
    return create(exe, cmd, file, line);
}

void ch_expect_exit_(HANDLE child, DWORD code, DWORD timeout_ms, const char *file, int line)
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

void ch_event_name(const WCHAR *name, WCHAR out[128])
{
    _snwprintf(out, 128, L"Local\\%ls.%ls", ch_tag, name);
    out[127] = 0;
}

HANDLE ch_event(const WCHAR *name)
{
    WCHAR full[128];
    ch_event_name(name, full);
    HANDLE ev = CreateEventW(NULL, TRUE, FALSE, full);
    assert_non_null(ev);
    return ev;
}

void ch_wait_event_(HANDLE ev, HANDLE proc, DWORD timeout_ms, const char *file, int line)
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

void ch_helper_path(const WCHAR *exe, WCHAR out[MAX_PATH])
{
    WCHAR self[MAX_PATH];
    DWORD n = GetModuleFileNameW(NULL, self, MAX_PATH);
    while (n && self[n - 1] != L'\\')
        n--;
    self[n] = 0;
    _snwprintf(out, MAX_PATH, L"%ls%ls", self, exe);
    out[MAX_PATH - 1] = 0;
}

HANDLE ch_launch_(const WCHAR *exe, HANDLE *ready, const char *file, int line, const WCHAR *fmt, ...)
{
    static WCHAR args[4096], cmd[8192];
    static unsigned launched;
    WCHAR leaf[32], name[128];
    va_list ap;
    va_start(ap, fmt);
    _vsnwprintf(args, 4096, fmt, ap);
    va_end(ap);
    args[4095] = 0;
    _snwprintf(leaf, 32, L"app%u", ++launched);
    leaf[31] = 0;
    HANDLE ev = ch_event(leaf);
    ch_event_name(leaf, name);
    _snwprintf(cmd, 8192, L"\"%ls\" %ls --ready %ls", exe, args, name);
    cmd[8191] = 0;
    HANDLE p = create(exe, cmd, file, line);
    ch_wait_event_(ev, p, 30000, file, line);
    ResetEvent(ev);
    if (ready)
        *ready = ev;
    else
        CloseHandle(ev);
    return p;
}

BOOL ch_alive(HANDLE process)
{
    return WaitForSingleObject(process, 0) == WAIT_TIMEOUT;
}

void ch_make_dir(const WCHAR *leaf, WCHAR out[MAX_PATH])
{
    WCHAR tmp[MAX_PATH];
    GetTempPathW(MAX_PATH, tmp);
    size_t n = wcslen(tmp);
    if (n && tmp[n - 1] == L'\\')
        tmp[n - 1] = 0;
    _snwprintf(out, MAX_PATH, L"%ls\\%ls-%ls", tmp, ch_tag, leaf);
    out[MAX_PATH - 1] = 0;
    CreateDirectoryW(out, NULL);
    assert_int_not_equal(GetFileAttributesW(out), INVALID_FILE_ATTRIBUTES);
    if (ndirs < 8)
        wcscpy(dirs[ndirs++], out);
}

void ch_path(WCHAR out[MAX_PATH], const WCHAR *dir, const WCHAR *leaf)
{
    _snwprintf(out, MAX_PATH, L"%ls\\%ls", dir, leaf);
    out[MAX_PATH - 1] = 0;
}

#define DESKTOP_KEY L"Control Panel\\Desktop"

void ch_set_hung_app_timeout(DWORD ms)
{
    HKEY k;
    WCHAR text[32];
    assert_int_equal(RegCreateKeyExW(HKEY_CURRENT_USER, DESKTOP_KEY, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &k, NULL), 0);
    if (!timeout_saved) {
        DWORD size = sizeof timeout_old - sizeof(WCHAR), type = 0;
        memset(timeout_old, 0, sizeof timeout_old);
        timeout_had = RegQueryValueExW(k, L"HungAppTimeout", NULL, &type, (BYTE *)timeout_old, &size) == 0 &&
                      type == REG_SZ;
        timeout_saved = 1;
    }
    _snwprintf(text, 32, L"%lu", ms);
    text[31] = 0;
    assert_int_equal(RegSetValueExW(k, L"HungAppTimeout", 0, REG_SZ, (const BYTE *)text,
                                    (DWORD)((wcslen(text) + 1) * sizeof(WCHAR))),
                     0);
    RegCloseKey(k);
}

static void restore_timeout(void)
{
    HKEY k;
    if (!timeout_saved)
        return;
    timeout_saved = 0;
    if (RegOpenKeyExW(HKEY_CURRENT_USER, DESKTOP_KEY, 0, KEY_ALL_ACCESS, &k) != 0)
        return;
    if (timeout_had)
        RegSetValueExW(k, L"HungAppTimeout", 0, REG_SZ, (const BYTE *)timeout_old,
                       (DWORD)((wcslen(timeout_old) + 1) * sizeof(WCHAR)));
    else
        RegDeleteValueW(k, L"HungAppTimeout");
    RegCloseKey(k);
}

DWORD ch_service_(const WCHAR *name, const WCHAR *cmd, HANDLE ready, const char *file, int line)
{
    SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE);
    if (!scm && GetLastError() == ERROR_ACCESS_DENIED)
        skip(); /* real Windows without elevation */
    if (!scm) {
        print_error("OpenSCManagerW: %lu\n", GetLastError());
        _fail(file, line);
    }
    SC_HANDLE s = CreateServiceW(scm, name, name, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START,
                                 SERVICE_ERROR_IGNORE, cmd, NULL, NULL, NULL, NULL, NULL);
    if (!s) {
        print_error("CreateServiceW(%ls): %lu\n", name, GetLastError());
        CloseServiceHandle(scm);
        _fail(file, line);
    }
    if (nservices < 4)
        wcscpy(services[nservices++], name);
    BOOL started = StartServiceW(s, 0, NULL);
    DWORD err = GetLastError();
    CloseServiceHandle(s);
    CloseServiceHandle(scm);
    if (!started) {
        print_error("StartServiceW(%ls): %lu\n", name, err);
        _fail(file, line);
    }
    ch_wait_event_(ready, NULL, 30000, file, line);
    DWORD pid = 0;
    if (ch_service_state(name, &pid) != SERVICE_RUNNING || !pid) {
        print_error("service %ls is not running\n", name);
        _fail(file, line);
    }
    return pid;
}

DWORD ch_service_state(const WCHAR *name, DWORD *pid)
{
    SERVICE_STATUS_PROCESS st;
    DWORD need, state = 0;
    SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    SC_HANDLE s = scm ? OpenServiceW(scm, name, SERVICE_QUERY_STATUS) : NULL;
    if (s && QueryServiceStatusEx(s, SC_STATUS_PROCESS_INFO, (BYTE *)&st, sizeof st, &need)) {
        state = st.dwCurrentState;
        if (pid)
            *pid = st.dwProcessId;
    }
    if (s)
        CloseServiceHandle(s);
    if (scm)
        CloseServiceHandle(scm);
    return state;
}

static void remove_service(const WCHAR *name)
{
    SERVICE_STATUS st;
    SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    SC_HANDLE s = scm ? OpenServiceW(scm, name, SERVICE_ALL_ACCESS) : NULL;
    if (s) {
        DWORD pid = 0;
        if (ch_service_state(name, &pid) == SERVICE_RUNNING)
            ControlService(s, SERVICE_CONTROL_STOP, &st);
        for (int i = 0; i < 100 && ch_service_state(name, NULL) != SERVICE_STOPPED; i++)
            Sleep(50); /* the service manager has no event to wait on here */
        if (ch_service_state(name, &pid) != SERVICE_STOPPED && pid) {
            HANDLE p = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, pid);
            if (p) {
                TerminateProcess(p, 0xdead);
                WaitForSingleObject(p, 5000);
                CloseHandle(p);
            }
        }
        DeleteService(s);
        CloseServiceHandle(s);
    }
    if (scm)
        CloseServiceHandle(scm);
}

void ch_list_(DWORD h, struct ch_list *l, const char *file, int line)
{
    memset(l, 0, sizeof *l);
    UINT needed = 0;
    l->n = 64;
    l->reasons = 0xdeadbeefu;
    DWORD err = CH_CALL(RmGetList(h, &needed, &l->n, l->e, &l->reasons));
    if (err != ERROR_SUCCESS || GetLastError() != CH_LAST_ERROR) {
        print_error("RmGetList returned %lu (needed %u), last error 0x%08lx\n", err, needed, GetLastError());
        _fail(file, line);
    }
    if (l->n != needed) {
        print_error("RmGetList: %u entries written, %u needed\n", l->n, needed);
        _fail(file, line);
    }
}

const RM_PROCESS_INFO *ch_find(const struct ch_list *l, DWORD pid)
{
    for (UINT i = 0; i < l->n; i++)
        if (l->e[i].Process.dwProcessId == pid)
            return &l->e[i];
    return NULL;
}

void ch_dump(const struct ch_list *l)
{
    for (UINT i = 0; i < l->n; i++)
        print_message("  [%u] pid %lu type %d status 0x%lx restartable %d \"%ls\" svc \"%ls\"\n", i,
                      l->e[i].Process.dwProcessId, (int)l->e[i].ApplicationType, l->e[i].AppStatus,
                      l->e[i].bRestartable, l->e[i].strAppName, l->e[i].strServiceShortName);
}

/* Test directories hold only files. */
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

/* Copies RmRestart started are our children too, but not in our list: find them by parent. */
static void kill_own_descendants(void)
{
    DWORD me = GetCurrentProcessId();
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    PROCESSENTRY32W pe;
    if (snap == INVALID_HANDLE_VALUE)
        return;
    pe.dwSize = sizeof pe;
    for (BOOL ok = Process32FirstW(snap, &pe); ok; ok = Process32NextW(snap, &pe)) {
        if (pe.th32ParentProcessID != me || pe.th32ProcessID == me)
            continue;
        if (_wcsicmp(pe.szExeFile, L"rmapp.exe") && _wcsicmp(pe.szExeFile, L"rmappw.exe"))
            continue; /* only what we start; never the console host or anything else */
        HANDLE p = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, pe.th32ProcessID);
        if (p) {
            TerminateProcess(p, 0xdead);
            WaitForSingleObject(p, 10000);
            CloseHandle(p);
        }
    }
    CloseHandle(snap);
}

int ch_teardown(void **state)
{
    (void)state;
    while (nsessions > 0)
        RmEndSession(sessions[--nsessions]);
    while (nchildren > 0) {
        HANDLE c = children[--nchildren];
        TerminateProcess(c, 0xdead);
        WaitForSingleObject(c, 10000);
        CloseHandle(c);
    }
    kill_own_descendants();
    while (nservices > 0)
        remove_service(services[--nservices]);
    while (ndirs > 0)
        remove_dir(dirs[--ndirs]);
    restore_timeout();
    return 0;
}

static int run_child(const WCHAR *role)
{
    static char name[128];
    for (const struct ch_role *r = ch_roles; r->name; r++) {
        if (wcscmp(r->name, role) != 0)
            continue;
        snprintf(name, sizeof name, "%s child %ls", ch_program, role);
        struct CMUnitTest one[1] = {{name, r->fn, NULL, ch_teardown, NULL}};
        return _cmocka_run_group_tests(name, one, 1, NULL, NULL);
    }
    fprintf(stderr, "%s: no child role %ls\n", ch_program, role);
    return 2;
}

int wmain(int argc, WCHAR **argv)
{
    static WCHAR tag[96];
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    setvbuf(stdout, NULL, _IONBF, 0);
    SetHandleInformation(GetStdHandle(STD_OUTPUT_HANDLE), HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    SetHandleInformation(GetStdHandle(STD_ERROR_HANDLE), HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    if (argc >= 4 && wcscmp(argv[1], L"--child") == 0) {
        ch_tag = argv[3];
        ch_argc = argc - 4;
        ch_argv = argv + 4;
        return run_child(argv[2]);
    }
    _snwprintf(tag, 96, L"rstrtmgr-callers-%hs-%lu", ch_program, GetCurrentProcessId());
    tag[95] = 0;
    ch_tag = tag;
    return ch_parent();
}
