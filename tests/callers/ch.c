/*
 * Harness for the caller-pattern tests (see ch.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "ch.h"

#include "settings.h"

#include <tlhelp32.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

const WCHAR *ch_tag;
int ch_argc;
WCHAR **ch_argv;

static struct rm_test_ids sessions;
static struct rm_test_procs children;
static struct rm_test_dirs dirs;
static WCHAR services[4][64];
static int nservices;

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
    return rm_test_expect_rc_(expected, got, call, file, line);
}

void ch_track(DWORD handle)
{
    rm_test_ids_add(&sessions, handle);
}

void ch_forget(DWORD handle)
{
    rm_test_ids_forget(&sessions, handle);
}

DWORD ch_start_(WCHAR key[CCH_RM_SESSION_KEY + 1], const char *file, int line)
{
    DWORD h = 0xfeedfaceu;
    WCHAR local[CCH_RM_SESSION_KEY + 1];
    ch_expect_rc_(ERROR_SUCCESS, CH_CALL(RmStartSession(&h, 0, key ? key : local)), "RmStartSession", file, line);
    ch_track(h);
    return h;
}

HANDLE ch_spawn_(const WCHAR *role, const char *file, int line, const WCHAR *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    HANDLE p = rm_test_vspawn_(&children, role, ch_tag, NULL, file, line, fmt, ap);
    va_end(ap);
    return p;
}

void ch_expect_exit_(HANDLE child, DWORD code, DWORD timeout_ms, const char *file, int line)
{
    rm_test_expect_exit_(&children, child, code, timeout_ms, file, line);
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
    return rm_test_event(full);
}

void ch_wait_event_(HANDLE ev, HANDLE proc, DWORD timeout_ms, const char *file, int line)
{
    rm_test_wait_event_(ev, proc, timeout_ms, file, line);
}

void ch_helper_path(const WCHAR *exe, WCHAR out[MAX_PATH])
{
    rm_test_helper_path(exe, out);
}

HANDLE ch_launch_(const WCHAR *exe, HANDLE *ready, const char *file, int line, const WCHAR *fmt, ...)
{
    static unsigned launched;
    WCHAR leaf[32], name[128];
    va_list ap;
    _snwprintf(leaf, 32, L"app%u", ++launched);
    leaf[31] = 0;
    HANDLE ev = ch_event(leaf);
    ch_event_name(leaf, name);
    va_start(ap, fmt);
    HANDLE p = rm_test_vlaunch_(&children, exe, NULL, 0, TRUE, ev, name, file, line, fmt, ap);
    va_end(ap);
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
    rm_test_make_dir(&dirs, ch_tag, leaf, out);
}

void ch_path(WCHAR out[MAX_PATH], const WCHAR *dir, const WCHAR *leaf)
{
    rm_test_path(out, dir, leaf);
}

void ch_set_hung_app_timeout(DWORD ms)
{
    assert_int_equal(rm_test_set_hung_app_timeout(ms), ERROR_SUCCESS);
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
        if (ch_service_state(name, &pid) != SERVICE_STOPPED && pid)
            rm_test_kill_pid(pid);
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
        rm_test_kill_pid(pe.th32ProcessID);
    }
    CloseHandle(snap);
}

int ch_teardown(void **state)
{
    (void)state;
    while (sessions.n > 0)
        RmEndSession(sessions.id[--sessions.n]);
    rm_test_procs_kill(&children);
    kill_own_descendants();
    while (nservices > 0)
        remove_service(services[--nservices]);
    rm_test_remove_dirs(&dirs);
    rm_test_restore_hung_app_timeout();
    return 0;
}

static int run_child(const WCHAR *role)
{
    for (const struct ch_role *r = ch_roles; r->name; r++)
        if (wcscmp(r->name, role) == 0)
            return rm_test_run_role(ch_program, role, r->fn, ch_teardown);
    fprintf(stderr, "%s: no child role %ls\n", ch_program, role);
    return 2;
}

int wmain(int argc, WCHAR **argv)
{
    static WCHAR tag[96];
    rm_test_main_init();
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
