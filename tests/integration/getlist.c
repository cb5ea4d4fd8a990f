/*
 * RmGetList against real processes: rmapp.exe / rmappw.exe (tests/helpers) hold,
 * load, map and run files, show windows, handle console events and run as a service, and each
 * way of using a registered resource must produce exactly one, correctly filled entry.
 *
 * Every RmGetList here goes through LIST_OK/LIST_RC, which check the output contract that
 * callers rely on (LANDSCAPE F): *pnProcInfo exact, nothing written past it, the reboot
 * reasons always written, and each entry's PID, start time, session and status true to the
 * real process.
 *
 * SPDX-License-Identifier: MIT
 */
#include "it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

const char it_program[] = "getlist";

/* No child roles: the helpers are separate programs. */
const struct it_role it_roles[] = {{NULL, NULL}};

#define KEY_CHARS ((int)CCH_RM_SESSION_KEY)
#define CAP 64
#define SENTINEL 0xCD
#define REASONS_UNSET 0xdeadbeefu
#define FALLBACK_ENV L"RSTRTMGR_RESTART_FALLBACK"
#define APP_DESCRIPTION L"rstrtmgr test app" /* rmapp.rc's FileDescription */

static WCHAR rmapp[MAX_PATH], rmappw[MAX_PATH];

/* ---- what a test leaves behind besides sessions, children and directories -------------------- */

static HANDLE own_file = INVALID_HANDLE_VALUE; /* a registered file the test process holds */
static SC_HANDLE scm, service;                  /* a service the test created */
static WCHAR deep_root[MAX_PATH];               /* a test directory with subdirectories in it */

/* Deletes everything below `dir` (a \\?\ path, any length), then `dir` itself. */
static void remove_tree(const WCHAR *dir)
{
    WIN32_FIND_DATAW fd;
    size_t n = wcslen(dir);
    WCHAR *path = malloc((n + MAX_PATH + 2) * sizeof *path);
    if (!path)
        return;
    _snwprintf(path, n + MAX_PATH + 2, L"%ls\\*", dir);
    HANDLE f = FindFirstFileW(path, &fd);
    if (f != INVALID_HANDLE_VALUE) {
        do {
            if (!wcscmp(fd.cFileName, L".") || !wcscmp(fd.cFileName, L".."))
                continue;
            _snwprintf(path, n + MAX_PATH + 2, L"%ls\\%ls", dir, fd.cFileName);
            if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
                remove_tree(path);
            else
                DeleteFileW(path);
        } while (FindNextFileW(f, &fd));
        FindClose(f);
    }
    RemoveDirectoryW(dir);
    free(path);
}

/* Stops the service and waits for its process to be gone, so that it holds nothing into the
 * teardown (its files are deleted) or the next test. */
static void stop_service(SC_HANDLE s)
{
    SERVICE_STATUS_PROCESS st;
    SERVICE_STATUS ignored;
    DWORD need;
    HANDLE p = NULL;
    if (QueryServiceStatusEx(s, SC_STATUS_PROCESS_INFO, (LPBYTE)&st, sizeof st, &need) && st.dwProcessId)
        p = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, st.dwProcessId);
    ControlService(s, SERVICE_CONTROL_STOP, &ignored);
    for (int i = 0; i < 100; i++) {
        if (!QueryServiceStatusEx(s, SC_STATUS_PROCESS_INFO, (LPBYTE)&st, sizeof st, &need) ||
            st.dwCurrentState == SERVICE_STOPPED)
            break;
        Sleep(50);
    }
    if (!p)
        return;
    /* A service that would not stop is ended the hard way. */
    if (WaitForSingleObject(p, 5000) != WAIT_OBJECT_0) {
        TerminateProcess(p, 0xdead);
        WaitForSingleObject(p, 10000);
    }
    CloseHandle(p);
}

static int teardown(void **state)
{
    if (own_file != INVALID_HANDLE_VALUE)
        CloseHandle(own_file);
    own_file = INVALID_HANDLE_VALUE;
    if (service) {
        stop_service(service);
        DeleteService(service);
        CloseServiceHandle(service);
        service = NULL;
    }
    if (scm)
        CloseServiceHandle(scm);
    scm = NULL;
    SetEnvironmentVariableW(FALLBACK_ENV, NULL);
    int rc = it_teardown(state); /* the children go first: they hold files in deep_root */
    if (deep_root[0]) {
        WCHAR prefixed[MAX_PATH + 4];
        _snwprintf(prefixed, MAX_PATH + 4, L"\\\\?\\%ls", deep_root);
        prefixed[MAX_PATH + 3] = 0;
        remove_tree(prefixed);
        deep_root[0] = 0;
    }
    return rc;
}

#define TEST(fn) cmocka_unit_test_teardown(fn, teardown)

/* ---- small pieces ------------------------------------------------------------------------------ */

static void path_of(WCHAR out[MAX_PATH], const WCHAR *dir, const WCHAR *leaf)
{
    _snwprintf(out, MAX_PATH, L"%ls\\%ls", dir, leaf);
    out[MAX_PATH - 1] = 0;
}

/* A file with some content (an empty file cannot be mapped). */
static void make_file(const WCHAR *path)
{
    HANDLE f = CreateFileW(path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    assert_true(f != INVALID_HANDLE_VALUE);
    DWORD written;
    assert_true(WriteFile(f, "rstrtmgr test data\r\n", 20, &written, NULL));
    CloseHandle(f);
}

static FILETIME start_of(HANDLE process)
{
    FILETIME created, exited, kernel, user;
    assert_true(GetProcessTimes(process, &created, &exited, &kernel, &user));
    return created;
}

static RM_UNIQUE_PROCESS unique(HANDLE process)
{
    RM_UNIQUE_PROCESS p = {GetProcessId(process), start_of(process)};
    return p;
}

static DWORD session_with(UINT nfiles, LPCWSTR files[], UINT nprocs, RM_UNIQUE_PROCESS procs[], UINT nsvcs,
                          LPCWSTR svcs[])
{
    WCHAR key[KEY_CHARS + 1];
    DWORD h = IT_START(key);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, nfiles, files, nprocs, procs, nsvcs, svcs));
    return h;
}

static DWORD session_with_file(const WCHAR *file)
{
    LPCWSTR files[] = {file};
    return session_with(1, files, 0, NULL, 0, NULL);
}

static int same_time(FILETIME a, FILETIME b)
{
    return a.dwLowDateTime == b.dwLowDateTime && a.dwHighDateTime == b.dwHighDateTime;
}

static size_t bounded_len(const WCHAR *s, size_t cap)
{
    size_t n = 0;
    while (n < cap && s[n])
        n++;
    return n;
}

/* ---- RmGetList and the output contract ----------------------------------------------------------- */

struct listing {
    DWORD h, rc, last_error;
    UINT needed, n;
    DWORD reasons;
    RM_PROCESS_INFO e[CAP];
};

/* What every entry must say of the real process: PID and start time exact, its TS session,
 * running, and names that are terminated within their arrays. `others` allows for entries of
 * processes this test did not start (a shared executable registered), which may have exited
 * since. */
static void check_entry(const RM_PROCESS_INFO *e, int others, const char *file, int line)
{
    DWORD session = 0;
    FILETIME created, exited, kernel, user;
    HANDLE p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, e->Process.dwProcessId);
    if (!p && others && GetLastError() == ERROR_INVALID_PARAMETER)
        return;
    if (!p || !GetProcessTimes(p, &created, &exited, &kernel, &user)) {
        print_error("entry for pid %lu: the process cannot be inspected (%lu)\n", e->Process.dwProcessId,
                    GetLastError());
        _fail(file, line);
    }
    CloseHandle(p);
    if (!same_time(created, e->Process.ProcessStartTime)) {
        print_error("entry for pid %lu: start time %08lx:%08lx, the process started %08lx:%08lx\n",
                    e->Process.dwProcessId, e->Process.ProcessStartTime.dwHighDateTime,
                    e->Process.ProcessStartTime.dwLowDateTime, created.dwHighDateTime, created.dwLowDateTime);
        _fail(file, line);
    }
    if (ProcessIdToSessionId(e->Process.dwProcessId, &session) && e->TSSessionId != session) {
        print_error("entry for pid %lu: TSSessionId %lu, the process is in session %lu\n", e->Process.dwProcessId,
                    e->TSSessionId, session);
        _fail(file, line);
    }
    if (e->AppStatus != RmStatusRunning) {
        print_error("entry for pid %lu: AppStatus %d, expected RmStatusRunning\n", e->Process.dwProcessId,
                    (int)e->AppStatus);
        _fail(file, line);
    }
    size_t name = bounded_len(e->strAppName, CCH_RM_MAX_APP_NAME + 1);
    size_t svc = bounded_len(e->strServiceShortName, CCH_RM_MAX_SVC_NAME + 1);
    if (name == 0 || name > CCH_RM_MAX_APP_NAME || svc > CCH_RM_MAX_SVC_NAME) {
        print_error("entry for pid %lu: app name (%u units) or service name (%u units) not a terminated name\n",
                    e->Process.dwProcessId, (unsigned)name, (unsigned)svc);
        _fail(file, line);
    }
}

static int untouched(const void *p, size_t bytes)
{
    const BYTE *b = p;
    for (size_t i = 0; i < bytes; i++)
        if (b[i] != SENTINEL)
            return 0;
    return 1;
}

/* RmGetList with room for CAP entries and everything preset to values it must overwrite (or,
 * past the entries it reports, leave alone). No assertion here: it may run on another thread. */
static void list_call(DWORD h, struct listing *l)
{
    memset(l, SENTINEL, sizeof *l);
    l->h = h;
    l->needed = 0xfeedfaceu;
    l->n = CAP;
    l->reasons = REASONS_UNSET;
    SetLastError(IT_LAST_ERROR);
    l->rc = RmGetList(h, &l->needed, &l->n, l->e, &l->reasons);
    l->last_error = GetLastError();
}

/* The call's outcome, expecting `rc`. On success the whole contract is checked. */
static void list_check_(DWORD rc, struct listing *l, int others, const char *file, int line)
{
    SetLastError(l->last_error);
    it_expect_rc_(rc, l->rc, "RmGetList", file, line);
    if (l->reasons == REASONS_UNSET) {
        print_error("RmGetList left lpdwRebootReasons unwritten\n");
        _fail(file, line);
    }
    if (rc != ERROR_SUCCESS) {
        if (!untouched(l->e, sizeof l->e)) {
            print_error("RmGetList failed (%lu) but wrote into the array\n", rc);
            _fail(file, line);
        }
        return;
    }
    if (l->n != l->needed || l->n > CAP) {
        print_error("RmGetList: *pnProcInfo %u, *pnProcInfoNeeded %u (capacity %u)\n", l->n, l->needed, CAP);
        _fail(file, line);
    }
    if (!untouched(&l->e[l->n], (CAP - l->n) * sizeof l->e[0])) {
        print_error("RmGetList wrote past the %u entries it reported\n", l->n);
        _fail(file, line);
    }
    for (UINT i = 0; i < l->n; i++) {
        check_entry(&l->e[i], others, file, line);
        for (UINT j = 0; j < i; j++)
            if (l->e[j].Process.dwProcessId == l->e[i].Process.dwProcessId) {
                print_error("pid %lu is listed twice\n", l->e[i].Process.dwProcessId);
                _fail(file, line);
            }
    }
}
#define LIST_CHECK(rc, l) list_check_((rc), (l), 0, __FILE__, __LINE__)

static void list_rc_(DWORD h, DWORD rc, struct listing *l, int others, const char *file, int line)
{
    list_call(h, l);
    list_check_(rc, l, others, file, line);
}
#define LIST_RC(h, rc, l) list_rc_((h), (rc), (l), 0, __FILE__, __LINE__)
#define LIST_OK(h, l) list_rc_((h), ERROR_SUCCESS, (l), 0, __FILE__, __LINE__)
/* For a registration other programs may use at the same time (rmapp.exe itself). */
#define LIST_SHARED(h, l) list_rc_((h), ERROR_SUCCESS, (l), 1, __FILE__, __LINE__)

static void dump(const struct listing *l)
{
    for (UINT i = 0; i < l->n; i++)
        print_message("  [%u] pid %lu type %d restartable %d name \"%ls\" service \"%ls\"\n", i,
                      l->e[i].Process.dwProcessId, (int)l->e[i].ApplicationType, (int)l->e[i].bRestartable,
                      l->e[i].strAppName, l->e[i].strServiceShortName);
}

static const RM_PROCESS_INFO *find(const struct listing *l, DWORD pid)
{
    for (UINT i = 0; i < l->n; i++)
        if (l->e[i].Process.dwProcessId == pid)
            return &l->e[i];
    return NULL;
}

/* The list is exactly the given processes, in any order. */
static void expect_exactly_(const struct listing *l, int n, const HANDLE *procs, const char *file, int line)
{
    int ok = l->n == (UINT)n;
    for (int i = 0; ok && i < n; i++)
        ok = find(l, GetProcessId(procs[i])) != NULL;
    if (!ok) {
        print_error("expected %d entries:", n);
        for (int i = 0; i < n; i++)
            print_error(" pid %lu", GetProcessId(procs[i]));
        print_error("; got %u:\n", l->n);
        dump(l);
        _fail(file, line);
    }
}
#define EXPECT_ONLY(l, p) expect_exactly_((l), 1, (HANDLE[]){(p)}, __FILE__, __LINE__)
#define EXPECT_TWO(l, p, q) expect_exactly_((l), 2, (HANDLE[]){(p), (q)}, __FILE__, __LINE__)
#define EXPECT_NONE(l) expect_exactly_((l), 0, NULL, __FILE__, __LINE__)

static void expect_name_(const RM_PROCESS_INFO *e, const WCHAR *name, const char *file, int line)
{
    if (wcscmp(e->strAppName, name) != 0) {
        print_error("strAppName \"%ls\", expected \"%ls\"\n", e->strAppName, name);
        _fail(file, line);
    }
}
#define EXPECT_NAME(e, name) expect_name_((e), (name), __FILE__, __LINE__)

static DWORD WINAPI list_thread(void *arg)
{
    struct listing *l = arg;
    list_call(l->h, l);
    return 0;
}

/* One session per spelling: each must list exactly `holder`. */
static void expect_listed_by(const WCHAR *file, HANDLE holder)
{
    struct listing l;
    DWORD h = session_with_file(file);
    LIST_OK(h, &l);
    if (l.n != 1 || l.e[0].Process.dwProcessId != GetProcessId(holder))
        print_error("registered as %ls\n", file);
    EXPECT_ONLY(&l, holder);
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
    it_forget(h);
}

/* ---- kinds of app and their names ---------------------------------------------------------------- */

static void gui_app_is_main_window_named_by_version(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH];
    struct listing l;
    it_make_dir(L"gui", dir);
    path_of(f, dir, L"gui.dat");
    HANDLE app = IT_LAUNCH(rmapp, 0, L"--gui \"rmapp window\" --hold \"%ls\"", f);
    DWORD h = session_with_file(f);
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);
    assert_int_equal(l.e[0].ApplicationType, RmMainWindow);
    /* The version resource's FileDescription comes before the window's caption. */
    EXPECT_NAME(&l.e[0], APP_DESCRIPTION);
    assert_int_equal(l.e[0].strServiceShortName[0], 0);
    assert_int_equal(l.reasons, RmRebootReasonNone);
}

static void gui_app_without_version_is_named_by_title(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH];
    struct listing l;
    it_make_dir(L"guiw", dir);
    path_of(f, dir, L"guiw.dat");
    HANDLE app = IT_LAUNCH(rmappw, 0, L"--gui \"rstrtmgr window title\" --hold \"%ls\"", f);
    DWORD h = session_with_file(f);
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);
    assert_int_equal(l.e[0].ApplicationType, RmMainWindow);
    EXPECT_NAME(&l.e[0], L"rstrtmgr window title");
    assert_int_equal(l.reasons, RmRebootReasonNone);
}

/* A windowed app of the other bitness, found by its running exe (for the x86 DLL: a 64-bit
 * app under WOW64): a main window, named by its title, restartable, in its own TS session
 * (check_entry). */
static void other_bitness_gui_app_is_named_by_title(void **state)
{
    (void)state;
    WCHAR src[MAX_PATH], dir[MAX_PATH], exe[MAX_PATH];
    struct listing l;
    rm_test_other_helper(L"rmappw.exe", src);
    it_make_dir(L"guiother", dir);
    path_of(exe, dir, L"appw.exe");
    assert_true(CopyFileW(src, exe, FALSE));
    HANDLE app = IT_LAUNCH(exe, 0, L"--gui \"rstrtmgr other title\"");
    DWORD h = session_with_file(exe);
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);
    assert_int_equal(l.e[0].ApplicationType, RmMainWindow);
    EXPECT_NAME(&l.e[0], L"rstrtmgr other title");
    assert_true(l.e[0].bRestartable);
    assert_int_equal(l.reasons, RmRebootReasonNone);
}

/* Listing must not wait on a window that does not answer. */
static void hung_gui_app_listed_without_waiting(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH];
    it_make_dir(L"hung", dir);
    path_of(f, dir, L"hung.dat");
    HANDLE app = IT_LAUNCH(rmappw, 0, L"--gui \"rstrtmgr hung window\" --hang --hold \"%ls\"", f);
    /* A message the app never reads makes it hung for anyone who sends it one. */
    HWND w = NULL;
    while ((w = FindWindowExW(NULL, w, L"rstrtmgr.rmapp", NULL)) != NULL) {
        DWORD pid = 0;
        GetWindowThreadProcessId(w, &pid);
        if (pid == GetProcessId(app))
            break;
    }
    assert_non_null(w);
    PostMessageW(w, WM_NULL, 0, 0);
    /* On a thread of its own, so that a call stuck on the window fails this test alone instead
     * of hanging the program (the teardown kills the app, which frees the thread; the results
     * may outlive the test, hence static). A call that does not wait takes well under 10 s. */
    static struct listing hung;
    hung.h = session_with_file(f);
    HANDLE t = CreateThread(NULL, 0, list_thread, &hung, 0, NULL);
    assert_non_null(t);
    DWORD w8 = WaitForSingleObject(t, 10000);
    CloseHandle(t);
    if (w8 != WAIT_OBJECT_0) {
        print_error("RmGetList still running after 10 s with a hung window\n");
        fail();
    }
    LIST_CHECK(ERROR_SUCCESS, &hung);
    EXPECT_ONLY(&hung, app);
    assert_int_equal(hung.e[0].ApplicationType, RmMainWindow);
    EXPECT_NAME(&hung.e[0], L"rstrtmgr hung window");
}

static void console_app_is_console(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH];
    struct listing l;
    it_make_dir(L"console", dir);
    path_of(f, dir, L"console.dat");
    HANDLE app = IT_LAUNCH(rmapp, 0, L"--console --hold \"%ls\"", f);
    DWORD h = session_with_file(f);
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);
    assert_int_equal(l.e[0].ApplicationType, RmConsole);
    EXPECT_NAME(&l.e[0], APP_DESCRIPTION);
    assert_int_equal(l.reasons, RmRebootReasonNone);
}

/* A windows-subsystem program with no window: nothing RM could ask to close; named by its file. */
static void windowless_gui_program_is_unknown_named_by_file(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH];
    struct listing l;
    it_make_dir(L"nowin", dir);
    path_of(f, dir, L"nowin.dat");
    HANDLE app = IT_LAUNCH(rmappw, 0, L"--hold \"%ls\"", f);
    DWORD h = session_with_file(f);
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);
    assert_int_equal(l.e[0].ApplicationType, RmUnknownApp);
    EXPECT_NAME(&l.e[0], L"rmappw.exe");
}

/* ---- ways of using a file -------------------------------------------------------------------------- */

static void dll_loader_listed(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], sys[MAX_PATH], src[MAX_PATH], dll[MAX_PATH];
    struct listing l;
    it_make_dir(L"dll", dir);
    /* A system DLL that rmapp does not load by itself, under a name no system DLL has, so the
     * loader can only take it from our copy. */
    assert_true(GetSystemDirectoryW(sys, MAX_PATH));
    path_of(src, sys, L"msimg32.dll");
    path_of(dll, dir, L"rmcopy.dll");
    assert_true(CopyFileW(src, dll, FALSE));
    HANDLE app = IT_LAUNCH(rmapp, 0, L"--load \"%ls\"", dll);
    DWORD h = session_with_file(dll);
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);
    assert_int_equal(l.reasons, RmRebootReasonNone);
}

static void running_exe_copy_listed(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], exe[MAX_PATH];
    struct listing l;
    it_make_dir(L"exe", dir);
    path_of(exe, dir, L"copied-app.exe");
    assert_true(CopyFileW(rmapp, exe, FALSE));
    HANDLE copy = IT_LAUNCH(exe, 0, L"");
    HANDLE original = IT_LAUNCH(rmapp, 0, L"");
    DWORD h = session_with_file(exe);
    LIST_OK(h, &l);
    /* The file is the copy: the program it was copied from, running, is no user of it. */
    EXPECT_ONLY(&l, copy);
    assert_int_equal(l.e[0].ApplicationType, RmConsole);
    EXPECT_NAME(&l.e[0], APP_DESCRIPTION);

    DWORD h2 = session_with_file(rmapp);
    LIST_SHARED(h2, &l);
    assert_non_null(find(&l, GetProcessId(original)));
    assert_null(find(&l, GetProcessId(copy)));
}

/* The system's own notepad of the given bitness, adopted for the teardown; `path` is how this
 * build names it. */
static HANDLE start_notepad(const WCHAR *path)
{
    WCHAR cmd[MAX_PATH + 2];
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    _snwprintf(cmd, MAX_PATH + 2, L"\"%ls\"", path);
    cmd[MAX_PATH + 1] = 0;
    if (!rm_test_create_process(path, cmd, FALSE, 0, NULL, &si, &pi)) {
        print_error("starting %ls: %lu\n", path, GetLastError());
        fail();
    }
    CloseHandle(pi.hThread);
    it_adopt(pi.hProcess);
    /* Its window exists once it waits for input: by then its image is long mapped. */
    WaitForInputIdle(pi.hProcess, 15000);
    return pi.hProcess;
}

/* A running executable of either bitness is found by its file, from either bitness of caller.
 * From a 32-bit caller a 64-bit process's image lies above 4 GiB, out of reach of the memory
 * walk, and System32 means SysWOW64 unless spelt Sysnative: both must still come out right. */
static void executables_of_both_bitnesses_listed(void **state)
{
    (void)state;
    WCHAR windir[MAX_PATH], native[MAX_PATH], wow[MAX_PATH];
    struct listing l;
    BOOL self_wow64 = FALSE;
    UINT n = GetSystemWindowsDirectoryW(windir, MAX_PATH);
    assert_true(n > 0 && n < MAX_PATH - 32);
    assert_true(IsWow64Process(GetCurrentProcess(), &self_wow64));
    _snwprintf(native, MAX_PATH, L"%ls\\%ls\\notepad.exe", windir, self_wow64 ? L"Sysnative" : L"System32");
    _snwprintf(wow, MAX_PATH, L"%ls\\%ls\\notepad.exe", windir, self_wow64 ? L"System32" : L"SysWOW64");
    HANDLE p64 = start_notepad(native), p32 = start_notepad(wow);
    BOOL wow64 = TRUE;
    assert_true(IsWow64Process(p64, &wow64) && !wow64);
    assert_true(IsWow64Process(p32, &wow64) && wow64);

    DWORD h = session_with_file(native);
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, p64);
    assert_int_equal(l.e[0].ApplicationType, RmMainWindow);
    DWORD h2 = session_with_file(wow);
    LIST_OK(h2, &l);
    EXPECT_ONLY(&l, p32);
    assert_int_equal(l.e[0].ApplicationType, RmMainWindow);
}

/* A process of the other bitness is found by everything it uses: a DLL it loaded and a view it
 * mapped (for a 64-bit one seen from WOW64: above 4 GiB, through the native helper), its
 * executable and an open file; and it is restartable, its command line read. */
static void other_bitness_dll_view_and_exe_listed(void **state)
{
    (void)state;
    WCHAR other[MAX_PATH], dir[MAX_PATH], dll[MAX_PATH], view[MAX_PATH], held[MAX_PATH], src[MAX_PATH];
    struct listing l;
    rm_test_other_helper(L"rmapp.exe", other);
    it_make_dir(L"bitness", dir);
    path_of(dll, dir, L"loaded.dll");
    path_of(view, dir, L"mapped.dat");
    path_of(held, dir, L"held.dat");
    /* A DLL of the app's own bitness: the other tree's rstrtmgr.dll. */
    assert_true(rm_test_other_helper_path(L"rstrtmgr.dll", src));
    assert_true(CopyFileW(src, dll, FALSE));
    make_file(view);
    HANDLE app = IT_LAUNCH(other, 0, L"--load \"%ls\" --map \"%ls\" --hold \"%ls\"", dll, view, held);
    BOOL wow64 = FALSE, self_wow64 = FALSE;
    assert_true(IsWow64Process(app, &wow64) && IsWow64Process(GetCurrentProcess(), &self_wow64));
    assert_true(wow64 != self_wow64);

    const WCHAR *each[] = {dll, view, other, held};
    for (int i = 0; i < 4; i++) {
        DWORD h = session_with_file(each[i]);
        LIST_OK(h, &l);
        EXPECT_ONLY(&l, app);
        const RM_PROCESS_INFO *e = find(&l, GetProcessId(app));
        assert_int_equal(e->ApplicationType, RmConsole);
        assert_string_equal(e->strAppName, L"rstrtmgr test app"); /* its version resource */
        assert_true(e->bRestartable);
        EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
        it_forget(h);
    }
}

static void mapped_file_listed(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH];
    struct listing l;
    it_make_dir(L"map", dir);
    path_of(f, dir, L"mapped.dat");
    make_file(f);
    HANDLE app = IT_LAUNCH(rmapp, 0, L"--map \"%ls\"", f);
    DWORD h = session_with_file(f);
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);
    assert_int_equal(l.e[0].ApplicationType, RmConsole);
}

static void two_holders_of_one_file(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH];
    struct listing l;
    it_make_dir(L"two", dir);
    path_of(f, dir, L"shared.dat");
    HANDLE a = IT_LAUNCH(rmapp, 0, L"--hold \"%ls\"", f);
    HANDLE b = IT_LAUNCH(rmappw, 0, L"--gui \"second holder\" --hold \"%ls\"", f);
    DWORD h = session_with_file(f);
    LIST_OK(h, &l);
    EXPECT_TWO(&l, a, b);
    assert_int_equal(find(&l, GetProcessId(a))->ApplicationType, RmConsole);
    assert_int_equal(find(&l, GetProcessId(b))->ApplicationType, RmMainWindow);
}

static void hard_link_listed(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], original[MAX_PATH], link[MAX_PATH];
    struct listing l;
    it_make_dir(L"link", dir);
    path_of(original, dir, L"original.dat");
    path_of(link, dir, L"link.dat");
    make_file(original);
    assert_true(CreateHardLinkW(link, original, NULL));
    HANDLE app = IT_LAUNCH(rmapp, 0, L"--hold \"%ls\"", original);
    DWORD h = session_with_file(link);
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);
}

/* Files whose paths are longer than MAX_PATH, held, mapped and loaded as a DLL. A mapped file
 * is known by the name its view has in the process's address space; Wine's GetMappedFileNameW
 * gives up on names past MAX_PATH (ERROR_MORE_DATA whatever the buffer), so detection cannot
 * rely on it for these. */
static void long_paths_listed(void **state)
{
    (void)state;
    static WCHAR deep[1024], held[1100], mapped[1100], dll[1100], sys[MAX_PATH], src[MAX_PATH];
    it_make_dir(L"deep", deep_root);
    _snwprintf(deep, 1024, L"\\\\?\\%ls", deep_root);
    while (wcslen(deep) < 400) {
        wcscat(deep, L"\\a directory name of forty characters_abc");
        assert_true(CreateDirectoryW(deep, NULL));
    }
    _snwprintf(held, 1100, L"%ls\\held.dat", deep);
    _snwprintf(mapped, 1100, L"%ls\\mapped.dat", deep);
    _snwprintf(dll, 1100, L"%ls\\rmcopy.dll", deep);
    make_file(mapped);
    assert_true(GetSystemDirectoryW(sys, MAX_PATH));
    path_of(src, sys, L"msimg32.dll");
    assert_true(CopyFileW(src, dll, FALSE));
    struct {
        const WCHAR *how, *file;
        HANDLE app;
    } cases[] = {
        {L"--hold", held, IT_LAUNCH(rmapp, 0, L"--hold \"%ls\"", held)},
        {L"--map", mapped, IT_LAUNCH(rmapp, 0, L"--map \"%ls\"", mapped)},
        {L"--load", dll, IT_LAUNCH(rmapp, 0, L"--load \"%ls\"", dll)},
    };
    /* Registered in the plain form (no \\?\), as installers do; all three are checked before
     * failing, so one run tells which kinds of use are missed. */
    int missed = 0;
    for (size_t i = 0; i < ARRAYSIZE(cases); i++) {
        struct listing l;
        DWORD h = session_with_file(cases[i].file + 4);
        LIST_OK(h, &l);
        if (l.n != 1 || l.e[0].Process.dwProcessId != GetProcessId(cases[i].app)) {
            print_error("rmapp %ls of a %u-character path: %u entries, its process not alone among them\n",
                        cases[i].how, (unsigned)wcslen(cases[i].file + 4), l.n);
            missed++;
        }
    }
    assert_int_equal(missed, 0);
}

/* Other spellings of the held file: dot segments and case, the \\?\ form, forward slashes, the
 * 8.3 name. Each is tried alone (the file is opened) and among enough names of its directory
 * that the directory is read instead. */
static void alternate_spellings_listed(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], upper[MAX_PATH], f[MAX_PATH], dots[MAX_PATH], prefixed[MAX_PATH], slashes[MAX_PATH];
    WCHAR shortname[MAX_PATH], short_in_dir[MAX_PATH], others[10][MAX_PATH];
    struct listing l;
    it_make_dir(L"spell", dir);
    path_of(f, dir, L"a long name.dat");
    make_file(f);
    HANDLE app = IT_LAUNCH(rmapp, 0, L"--hold \"%ls\"", f);

    wcscpy(upper, dir);
    CharUpperW(upper);
    _snwprintf(dots, MAX_PATH, L"%ls\\.\\x\\..\\A LONG NAME.DAT", upper);
    _snwprintf(prefixed, MAX_PATH, L"\\\\?\\%ls\\A Long Name.dat", dir);
    wcscpy(slashes, f);
    for (WCHAR *p = slashes; *p; p++)
        if (*p == L'\\')
            *p = L'/';
    DWORD n = GetShortPathNameW(f, shortname, MAX_PATH);
    assert_true(n > 0 && n < MAX_PATH);
    /* The directory as it is spelled in the other names, with the file's 8.3 name. */
    const WCHAR *short_leaf = wcsrchr(shortname, L'\\');
    assert_non_null(short_leaf);
    assert_non_null(wcschr(short_leaf, L'~')); /* really another name, not the long one again */
    path_of(short_in_dir, dir, short_leaf + 1);

    const WCHAR *spellings[] = {dots, prefixed, slashes, shortname, short_in_dir};
    for (size_t i = 0; i < ARRAYSIZE(spellings); i++)
        expect_listed_by(spellings[i], app);

    /* All of them in one session: still one entry. */
    DWORD h = session_with(ARRAYSIZE(spellings), (LPCWSTR *)spellings, 0, NULL, 0, NULL);
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);

    /* With many names in one directory the directory listing matches them, by long and by 8.3
     * name alike. */
    for (int k = 0; k < 2; k++) {
        LPCWSTR batch[11];
        for (int i = 0; i < 10; i++) {
            WCHAR leaf[32];
            _snwprintf(leaf, 32, L"absent%d.dat", i);
            path_of(others[i], dir, leaf);
            batch[i] = others[i];
        }
        batch[10] = k ? short_in_dir : dots;
        DWORD hb = session_with(11, batch, 0, NULL, 0, NULL);
        LIST_OK(hb, &l);
        if (l.n != 1)
            print_error("registered %ls among ten absent names\n", batch[10]);
        EXPECT_ONLY(&l, app);
    }
}

/* However many of its files are registered, and however it uses them, a process is one entry. */
static void one_entry_per_process(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], a[MAX_PATH], b[MAX_PATH], c[MAX_PATH], m[MAX_PATH], exe[MAX_PATH];
    struct listing l;
    it_make_dir(L"many", dir);
    path_of(a, dir, L"a.dat");
    path_of(b, dir, L"b.dat");
    path_of(c, dir, L"c.dat");
    path_of(m, dir, L"m.dat");
    path_of(exe, dir, L"multi.exe");
    make_file(m);
    assert_true(CopyFileW(rmapp, exe, FALSE));
    HANDLE app = IT_LAUNCH(exe, 0, L"--gui \"multi\" --hold \"%ls\" --hold \"%ls\" --hold \"%ls\" --map \"%ls\"", a, b,
                           c, m);
    HANDLE other = IT_LAUNCH(rmapp, 0, L"--hold \"%ls\"", c);
    RM_UNIQUE_PROCESS procs[] = {unique(app)};
    LPCWSTR files[] = {a, b, m, exe};
    DWORD h = session_with(ARRAYSIZE(files), files, 1, procs, 0, NULL);
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);
    assert_int_equal(l.e[0].ApplicationType, RmMainWindow);

    /* A file both hold: two processes, still one entry each. */
    LPCWSTR more[] = {c};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, more, 0, NULL, 0, NULL));
    LIST_OK(h, &l);
    EXPECT_TWO(&l, app, other);
}

/* ---- registered processes -------------------------------------------------------------------------- */

static void registered_process_needs_its_start_time(void **state)
{
    (void)state;
    struct listing l;
    HANDLE app = IT_LAUNCH(rmapp, 0, L"");
    RM_UNIQUE_PROCESS real = unique(app), stale = real;
    DWORD h = session_with(0, NULL, 1, &real, 0, NULL);
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);
    assert_int_equal(l.e[0].ApplicationType, RmConsole);

    /* Same PID, another start time: a process that has gone, whatever now has its PID. */
    stale.ProcessStartTime.dwLowDateTime -= 10000000u; /* one second earlier */
    if (stale.ProcessStartTime.dwLowDateTime > real.ProcessStartTime.dwLowDateTime)
        stale.ProcessStartTime.dwHighDateTime--;
    DWORD h2 = session_with(0, NULL, 1, &stale, 0, NULL);
    LIST_OK(h2, &l);
    EXPECT_NONE(&l);
    assert_int_equal(l.reasons, RmRebootReasonNone);

    /* Once the process has exited, the registration lists nothing either, even while a handle
     * to it (ours) keeps its PID and start time readable. */
    assert_true(TerminateProcess(app, 0xdead));
    assert_int_equal(WaitForSingleObject(app, 10000), WAIT_OBJECT_0);
    LIST_OK(h, &l);
    EXPECT_NONE(&l);
}

/* ---- the caller ------------------------------------------------------------------------------------- */

static void caller_holding_a_file_is_critical_self(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH];
    struct listing l;
    it_make_dir(L"self", dir);
    path_of(f, dir, L"self.dat");
    own_file = CreateFileW(f, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    assert_true(own_file != INVALID_HANDLE_VALUE);
    HANDLE app = IT_LAUNCH(rmapp, 0, L"--hold \"%ls\"", f);
    DWORD h = session_with_file(f);
    LIST_OK(h, &l);
    EXPECT_TWO(&l, GetCurrentProcess(), app);
    const RM_PROCESS_INFO *self = find(&l, GetCurrentProcessId());
    assert_int_equal(self->ApplicationType, RmCritical);
    assert_int_equal(self->bRestartable, FALSE);
    assert_true(l.reasons & RmRebootReasonDetectedSelf);
    assert_int_equal(find(&l, GetProcessId(app))->ApplicationType, RmConsole);

    /* Let go, and the caller is no longer in the way. */
    CloseHandle(own_file);
    own_file = INVALID_HANDLE_VALUE;
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);
    assert_int_equal(l.reasons, RmRebootReasonNone);
}

/* ---- paths that are not files in use ------------------------------------------------------------------ */

static void registered_directory_is_access_denied(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], sub[MAX_PATH], f[MAX_PATH], slash[MAX_PATH], names[10][MAX_PATH];
    struct listing l;
    it_make_dir(L"dirreg", dir);
    path_of(f, dir, L"held.dat");
    IT_LAUNCH(rmapp, 0, L"--hold \"%ls\"", f);

    DWORD h = session_with_file(dir);
    LIST_RC(h, ERROR_ACCESS_DENIED, &l);
    _snwprintf(slash, MAX_PATH, L"%ls\\", dir);
    DWORD h2 = session_with_file(slash);
    LIST_RC(h2, ERROR_ACCESS_DENIED, &l);

    /* A directory among enough names of its parent that the parent is read instead. */
    path_of(sub, dir, L"subdir");
    assert_true(CreateDirectoryW(sub, NULL));
    LPCWSTR batch[11];
    for (int i = 0; i < 10; i++) {
        WCHAR leaf[32];
        _snwprintf(leaf, 32, L"absent%d.dat", i);
        path_of(names[i], dir, leaf);
        batch[i] = names[i];
    }
    batch[10] = sub;
    DWORD h3 = session_with(11, batch, 0, NULL, 0, NULL);
    LIST_RC(h3, ERROR_ACCESS_DENIED, &l);
    batch[10] = f; /* the same batch with a file instead works */
    DWORD h4 = session_with(11, batch, 0, NULL, 0, NULL);
    LIST_OK(h4, &l);
    assert_int_equal(l.n, 1);
    RemoveDirectoryW(sub);
}

static void missing_files_are_skipped(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], absent[MAX_PATH], deeper[MAX_PATH];
    struct listing l;
    it_make_dir(L"missing", dir);
    path_of(absent, dir, L"absent.dat");
    path_of(deeper, dir, L"no such dir\\absent.dat");
    LPCWSTR files[] = {absent, deeper};
    DWORD h = session_with(2, files, 0, NULL, 0, NULL);
    LIST_OK(h, &l);
    EXPECT_NONE(&l);
    assert_int_equal(l.reasons, RmRebootReasonNone);

    /* The sizing idiom on an empty list: success and zero, not ERROR_MORE_DATA. */
    UINT needed = 0xfeedfaceu, n = 0;
    DWORD reasons = REASONS_UNSET;
    EXPECT_RC(ERROR_SUCCESS, RmGetList(h, &needed, &n, NULL, &reasons));
    assert_int_equal(needed, 0);
    assert_int_equal(n, 0);
    assert_int_equal(reasons, RmRebootReasonNone);
}

/* ---- the output contract ------------------------------------------------------------------------------ */

static void output_contract(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH];
    struct listing l;
    it_make_dir(L"contract", dir);
    path_of(f, dir, L"contract.dat");
    HANDLE a = IT_LAUNCH(rmapp, 0, L"--hold \"%ls\"", f);
    HANDLE b = IT_LAUNCH(rmappw, 0, L"--gui \"contract\" --hold \"%ls\"", f);
    DWORD h = session_with_file(f);

    /* Sizing call: no array, no room. */
    UINT needed = 0xfeedfaceu, n = 0;
    DWORD reasons = REASONS_UNSET;
    EXPECT_RC(ERROR_MORE_DATA, RmGetList(h, &needed, &n, NULL, &reasons));
    assert_int_equal(needed, 2);
    assert_int_equal(n, 0);
    assert_int_equal(reasons, RmRebootReasonNone);

    /* Room for one of two: nothing is written. */
    RM_PROCESS_INFO small[3];
    memset(small, SENTINEL, sizeof small);
    needed = 0xfeedfaceu;
    n = 1;
    reasons = REASONS_UNSET;
    EXPECT_RC(ERROR_MORE_DATA, RmGetList(h, &needed, &n, small, &reasons));
    assert_int_equal(needed, 2);
    assert_true(n <= 1);
    assert_int_equal(reasons, RmRebootReasonNone);
    assert_true(untouched(small, sizeof small));

    /* Exactly enough room, with a guard page right after it. */
    RM_PROCESS_INFO *exact = IT_GUARDED(2 * sizeof *exact);
    needed = 0xfeedfaceu;
    n = 2;
    reasons = REASONS_UNSET;
    EXPECT_RC(ERROR_SUCCESS, RmGetList(h, &needed, &n, exact, &reasons));
    assert_int_equal(needed, 2);
    assert_int_equal(n, 2);
    assert_int_equal(reasons, RmRebootReasonNone);
    assert_true((exact[0].Process.dwProcessId == GetProcessId(a) && exact[1].Process.dwProcessId == GetProcessId(b)) ||
                (exact[0].Process.dwProcessId == GetProcessId(b) && exact[1].Process.dwProcessId == GetProcessId(a)));
    it_guarded_free(exact);

    /* More room than needed: the rest stays as it was; PID, start time, session, status exact. */
    LIST_OK(h, &l);
    EXPECT_TWO(&l, a, b);
    assert_true(same_time(find(&l, GetProcessId(a))->Process.ProcessStartTime, start_of(a)));
    assert_true(same_time(find(&l, GetProcessId(b))->Process.ProcessStartTime, start_of(b)));

    /* Nothing registered at all. */
    WCHAR key[KEY_CHARS + 1];
    DWORD empty = IT_START(key);
    LIST_OK(empty, &l);
    EXPECT_NONE(&l);
    assert_int_equal(l.reasons, RmRebootReasonNone);
}

/* ---- restartability ------------------------------------------------------------------------------------- */

static void restartable_follows_the_fallback_switch(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH];
    struct listing l;
    DWORD size = 0, flags = 0;
    it_make_dir(L"restart", dir);
    path_of(f, dir, L"restart.dat");
    HANDLE app = IT_LAUNCH(rmappw, 0, L"--gui \"restartable\" --hold \"%ls\"", f);
    /* Where the OS keeps restart registrations (not Wine), this unregistered app is simply not
     * restartable; where it does not, RM relaunches from the captured command line unless
     * RSTRTMGR_RESTART_FALLBACK=0. */
    HRESULT hr = GetApplicationRestartSettings(app, NULL, &size, &flags);
    BOOL fallback_applies = hr == E_NOTIMPL;
    DWORD h = session_with_file(f);

    SetEnvironmentVariableW(FALLBACK_ENV, NULL);
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);
    assert_int_equal(l.e[0].bRestartable, fallback_applies);

    assert_true(SetEnvironmentVariableW(FALLBACK_ENV, L"0"));
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);
    assert_int_equal(l.e[0].bRestartable, FALSE);

    assert_true(SetEnvironmentVariableW(FALLBACK_ENV, L"1"));
    LIST_OK(h, &l);
    EXPECT_ONLY(&l, app);
    assert_int_equal(l.e[0].bRestartable, fallback_applies);
}

/* ---- services --------------------------------------------------------------------------------------------- */

#define SERVICE_PREFIX L"rstrtmgr-it-getlist-"

/* A run that was killed (ctest's timeout) leaves its service behind in the prefix: delete the
 * stopped ones, so they do not pile up. */
static void remove_stale_services(void)
{
    static BYTE buf[64 * 1024];
    DWORD need = 0, count = 0, resume = 0;
    size_t plen = wcslen(SERVICE_PREFIX);
    if (!EnumServicesStatusExW(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_INACTIVE, buf, sizeof buf, &need,
                               &count, &resume, NULL) &&
        GetLastError() != ERROR_MORE_DATA)
        return;
    const ENUM_SERVICE_STATUS_PROCESSW *list = (const ENUM_SERVICE_STATUS_PROCESSW *)(const void *)buf;
    for (DWORD i = 0; i < count; i++) {
        if (wcsncmp(list[i].lpServiceName, SERVICE_PREFIX, plen) != 0)
            continue;
        SC_HANDLE old = OpenServiceW(scm, list[i].lpServiceName, DELETE);
        if (old) {
            DeleteService(old);
            CloseServiceHandle(old);
        }
    }
}

static void service_holder_listed_as_service(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH], name[64], display[96], ready[256], cmd[1024];
    struct listing l;
    it_make_dir(L"service", dir);
    path_of(f, dir, L"service.dat");
    _snwprintf(name, 64, SERVICE_PREFIX L"%lu", GetCurrentProcessId());
    _snwprintf(display, 96, L"rstrtmgr test service %lu", GetCurrentProcessId());
    HANDLE ev = it_event(L"service");
    it_event_name(L"service", ready);
    _snwprintf(cmd, 1024, L"\"%ls\" --service %ls --hold \"%ls\" --ready %ls", rmapp, name, f, ready);
    cmd[1023] = 0;

    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE | SC_MANAGER_ENUMERATE_SERVICE);
    if (!scm && GetLastError() == ERROR_ACCESS_DENIED) {
        CloseHandle(ev);
        skip(); /* real Windows without elevation */
    }
    assert_non_null(scm);
    remove_stale_services();
    service = CreateServiceW(scm, name, display, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START,
                             SERVICE_ERROR_IGNORE, cmd, NULL, NULL, NULL, NULL, NULL);
    assert_non_null(service);
    assert_true(StartServiceW(service, 0, NULL));
    IT_WAIT_EVENT(ev, NULL);
    CloseHandle(ev);
    SERVICE_STATUS_PROCESS st;
    DWORD need;
    assert_true(QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, (LPBYTE)&st, sizeof st, &need));
    assert_int_equal(st.dwCurrentState, SERVICE_RUNNING);
    DWORD pid = st.dwProcessId;
    assert_int_not_equal(pid, 0);

    /* Found through the file it holds, and through its name; both ways it is the service. */
    LPCWSTR files[] = {f};
    LPCWSTR svcs[] = {name};
    DWORD sessions[3] = {
        session_with(1, files, 0, NULL, 0, NULL),
        session_with(0, NULL, 0, NULL, 1, svcs),
        session_with(1, files, 0, NULL, 1, svcs),
    };
    for (int i = 0; i < 3; i++) {
        LIST_OK(sessions[i], &l);
        if (l.n != 1 || l.e[0].Process.dwProcessId != pid) {
            print_error("session %d: expected the service's process %lu alone\n", i, pid);
            dump(&l);
            fail();
        }
        assert_int_equal(l.e[0].ApplicationType, RmService);
        if (wcscmp(l.e[0].strServiceShortName, name) != 0 || wcscmp(l.e[0].strAppName, display) != 0) {
            print_error("session %d: service \"%ls\" named \"%ls\"\n", i, l.e[0].strServiceShortName,
                        l.e[0].strAppName);
            fail();
        }
        assert_int_equal(l.e[0].bRestartable, TRUE);
        assert_int_equal(l.reasons, RmRebootReasonNone);
    }

    /* A stopped service is not in the way. */
    stop_service(service);
    assert_true(QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, (LPBYTE)&st, sizeof st, &need));
    assert_int_equal(st.dwCurrentState, SERVICE_STOPPED);
    LIST_OK(sessions[1], &l);
    EXPECT_NONE(&l);

    assert_true(DeleteService(service));
    CloseServiceHandle(service);
    service = NULL;
}

/* ---- cancellation ------------------------------------------------------------------------------------------ */

#define CANCEL_DIRS 200
#define CANCEL_FILES_PER_DIR 100

struct canceller {
    DWORD handle;
    volatile LONG stop;
    LONG calls;
    DWORD last_error;
};

static DWORD WINAPI cancel_loop(void *arg)
{
    struct canceller *c = arg;
    while (!c->stop) {
        DWORD err = RmCancelCurrentTask(c->handle);
        c->calls++;
        if (err != ERROR_SUCCESS)
            c->last_error = err;
        SwitchToThread();
    }
    return 0;
}

static void cancel_interrupts_getlist(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH], key[KEY_CHARS + 1];
    struct listing l;
    it_make_dir(L"cancel", dir);
    path_of(f, dir, L"held.dat");
    HANDLE a = IT_LAUNCH(rmapp, 0, L"--hold \"%ls\"", f);
    HANDLE b = IT_LAUNCH(rmappw, 0, L"--gui \"cancel\" --hold \"%ls\"", f);

    /* Enough registered names that one call takes a while: 200 directories of 100 names each
     * (absent, so each is looked up on its own), plus the held file. */
    size_t count = CANCEL_DIRS * CANCEL_FILES_PER_DIR + 1;
    WCHAR(*paths)[64] = calloc(count, sizeof *paths);
    LPCWSTR *files = calloc(count, sizeof *files);
    assert_non_null(paths);
    assert_non_null(files);
    for (int d = 0, k = 0; d < CANCEL_DIRS; d++)
        for (int i = 0; i < CANCEL_FILES_PER_DIR; i++, k++) {
            _snwprintf(paths[k], 64, L"%ls\\d%03d\\file%03d.dat", dir, d, i);
            paths[k][63] = 0;
            files[k] = paths[k];
        }
    files[count - 1] = f;
    DWORD h = IT_START(key);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, (UINT)count, files, 0, NULL, 0, NULL));
    free(files);
    free(paths);

    /* A cancellation asked for while nothing runs does not spill into the next call. */
    EXPECT_RC(ERROR_SUCCESS, RmCancelCurrentTask(h));
    DWORD t0 = GetTickCount();
    LIST_OK(h, &l);
    DWORD full = GetTickCount() - t0;
    EXPECT_TWO(&l, a, b);

    /* Cancel from another thread, over and over, until RmGetList returns; a fast run may finish
     * before any request lands, so a few tries are allowed. */
    int cancelled = 0, tries = 0;
    for (; tries < 5 && !cancelled; tries++) {
        struct canceller c = {.handle = h};
        HANDLE t = CreateThread(NULL, 0, cancel_loop, &c, 0, NULL);
        assert_non_null(t);
        UINT needed = 0xfeedfaceu, n = CAP;
        DWORD reasons = REASONS_UNSET;
        RM_PROCESS_INFO e[CAP];
        memset(e, SENTINEL, sizeof e);
        DWORD err = RmGetList(h, &needed, &n, e, &reasons);
        InterlockedExchange(&c.stop, 1);
        WaitForSingleObject(t, INFINITE);
        CloseHandle(t);
        assert_int_equal(c.last_error, ERROR_SUCCESS);
        assert_true(reasons != REASONS_UNSET);
        if (err == ERROR_CANCELLED) {
            cancelled = 1;
            assert_true(untouched(e, sizeof e));
        } else
            assert_int_equal(err, ERROR_SUCCESS);
    }
    print_message("cancel: a full RmGetList over %u names took %lu ms; cancelled after %d tries\n", (unsigned)count,
                  full, tries);
    assert_true(cancelled);

    /* The session still works afterwards. */
    LIST_OK(h, &l);
    EXPECT_TWO(&l, a, b);
}

/* ---- entry --------------------------------------------------------------------------------------------------- */

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        TEST(gui_app_is_main_window_named_by_version),
        TEST(gui_app_without_version_is_named_by_title),
        TEST(other_bitness_gui_app_is_named_by_title),
        TEST(hung_gui_app_listed_without_waiting),
        TEST(console_app_is_console),
        TEST(windowless_gui_program_is_unknown_named_by_file),
        TEST(dll_loader_listed),
        TEST(running_exe_copy_listed),
        TEST(executables_of_both_bitnesses_listed),
        TEST(other_bitness_dll_view_and_exe_listed),
        TEST(mapped_file_listed),
        TEST(two_holders_of_one_file),
        TEST(hard_link_listed),
        TEST(alternate_spellings_listed),
        TEST(long_paths_listed),
        TEST(one_entry_per_process),
        TEST(registered_process_needs_its_start_time),
        TEST(caller_holding_a_file_is_critical_self),
        TEST(registered_directory_is_access_denied),
        TEST(missing_files_are_skipped),
        TEST(output_contract),
        TEST(restartable_follows_the_fallback_switch),
        TEST(service_holder_listed_as_service),
        TEST(cancel_interrupts_getlist),
    };
    it_helper_path(L"rmapp.exe", rmapp);
    it_helper_path(L"rmappw.exe", rmappw);
    return cmocka_run_group_tests_name("integration.getlist", tests, NULL, NULL);
}
