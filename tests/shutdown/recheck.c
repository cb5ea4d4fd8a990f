/*
 * "Nobody wrongly killed" (DESIGN §5) with the OS table faked: what real processes cannot
 * produce on demand is a PID that was reused between the list and the shutdown. Here every
 * process, window and service the shutdown module sees is a fake, and the fakes record every
 * message, console event, stop request and termination.
 *
 * A target whose process handle reports another creation time than the one listed is another
 * process with the same PID: it must never be sent a message or CTRL_C, nor be terminated,
 * forced or not. The same scene with matching times is the control: there every kind of
 * target is reached, so the fakes do see what the module does.
 *
 * SPDX-License-Identifier: MIT
 */
#include <windows.h>

#include "../unit/unit.h"

#include <restartmanager.h>
#include <stdio.h>
#include <wchar.h>

#include "shutdown/shutdown.h"
#include "sys/sys.h"

enum { GUI, CONSOLE, UNKNOWN, SERVICE, NFAKES };

static const RM_APP_TYPE types[NFAKES] = {RmMainWindow, RmConsole, RmUnknownApp, RmService};

/* Values no real handle, window or PID of this process takes. */
#define FAKE_PID(i) ((DWORD)(0x7ff00000u + 4u * (i)))
#define FAKE_PROCESS(i) ((HANDLE)(ULONG_PTR)(0x6ff00000u + 4u * (i)))
#define FAKE_WINDOW(i) ((HWND)(ULONG_PTR)(0x5ff00000u + 4u * (i)))
#define FAKE_SCM ((SC_HANDLE)(ULONG_PTR)0x4ff00000u)
#define FAKE_SERVICE ((SC_HANDLE)(ULONG_PTR)0x4ff00004u)

static const FILETIME listed = {0x11111111u, 0x01d00000u};
static const FILETIME reused = {0x22222222u, 0x01d00001u}; /* a later process with the same PID */

static struct {
    FILETIME actual[NFAKES];        /* creation time each fake process reports */
    volatile LONG exited[NFAKES];   /* terminated through the table */
    DWORD window_owner;             /* what GetWindowThreadProcessId says of the GUI window */
    volatile LONG messages, posts, terminations, spawns, stops;
    UINT message_ids[64];
} fake;

static int fake_index(HANDLE h)
{
    for (int i = 0; i < NFAKES; i++)
        if (h == FAKE_PROCESS(i))
            return i;
    return -1;
}

static HANDLE(WINAPI *real_OpenProcess)(DWORD, BOOL, DWORD);
static BOOL(WINAPI *real_GetProcessTimes)(HANDLE, LPFILETIME, LPFILETIME, LPFILETIME, LPFILETIME);
static BOOL(WINAPI *real_CloseHandle)(HANDLE);
static DWORD(WINAPI *real_WaitForSingleObject)(HANDLE, DWORD);
static DWORD(WINAPI *real_GetWindowThreadProcessId)(HWND, LPDWORD);

static HANDLE WINAPI fake_OpenProcess(DWORD access, BOOL inherit, DWORD pid)
{
    for (int i = 0; i < NFAKES; i++)
        if (pid == FAKE_PID(i))
            return FAKE_PROCESS(i);
    return real_OpenProcess(access, inherit, pid);
}

static BOOL WINAPI fake_GetProcessTimes(HANDLE h, LPFILETIME c, LPFILETIME e, LPFILETIME k, LPFILETIME u)
{
    int i = fake_index(h);
    if (i < 0)
        return real_GetProcessTimes(h, c, e, k, u);
    *c = fake.actual[i];
    memset(e, 0, sizeof *e);
    memset(k, 0, sizeof *k);
    memset(u, 0, sizeof *u);
    return TRUE;
}

static BOOL WINAPI fake_CloseHandle(HANDLE h)
{
    return fake_index(h) >= 0 ? TRUE : real_CloseHandle(h);
}

static DWORD WINAPI fake_WaitForSingleObject(HANDLE h, DWORD ms)
{
    int i = fake_index(h);
    if (i < 0)
        return real_WaitForSingleObject(h, ms);
    if (fake.exited[i])
        return WAIT_OBJECT_0;
    Sleep(ms < 20 ? ms : 20); /* time passes, as it would */
    return WAIT_TIMEOUT;
}

static BOOL WINAPI fake_TerminateProcess(HANDLE h, UINT code)
{
    (void)code;
    InterlockedIncrement(&fake.terminations);
    int i = fake_index(h);
    if (i >= 0)
        InterlockedExchange(&fake.exited[i], 1);
    return i >= 0; /* never a real process */
}

static BOOL WINAPI fake_EnumWindows(WNDENUMPROC fn, LPARAM param)
{
    fn(FAKE_WINDOW(GUI), param);
    return TRUE;
}

static DWORD WINAPI fake_GetWindowThreadProcessId(HWND hwnd, LPDWORD pid)
{
    if (hwnd != FAKE_WINDOW(GUI))
        return real_GetWindowThreadProcessId(hwnd, pid);
    if (pid)
        *pid = fake.window_owner;
    return 1;
}

static LRESULT WINAPI fake_SendMessageTimeoutW(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp, UINT flags, UINT ms,
                                               PDWORD_PTR result)
{
    (void)hwnd, (void)wp, (void)lp, (void)flags, (void)ms;
    LONG n = InterlockedIncrement(&fake.messages);
    if (n <= 64)
        fake.message_ids[n - 1] = msg;
    if (result)
        *result = TRUE;
    return 1;
}

static BOOL WINAPI fake_PostMessageW(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    (void)hwnd, (void)msg, (void)wp, (void)lp;
    InterlockedIncrement(&fake.posts);
    return TRUE;
}

/* The console phase starts rundll32 to send CTRL_C: every process start is recorded, none made. */
static BOOL WINAPI fake_CreateProcessW(LPCWSTR app, LPWSTR cmd, LPSECURITY_ATTRIBUTES pa, LPSECURITY_ATTRIBUTES ta,
                                       BOOL inherit, DWORD flags, LPVOID env, LPCWSTR dir, LPSTARTUPINFOW si,
                                       LPPROCESS_INFORMATION pi)
{
    (void)app, (void)cmd, (void)pa, (void)ta, (void)inherit, (void)flags, (void)env, (void)dir, (void)si, (void)pi;
    InterlockedIncrement(&fake.spawns);
    SetLastError(ERROR_ACCESS_DENIED);
    return FALSE;
}

static DWORD WINAPI fake_GetConsoleProcessList(LPDWORD list, DWORD n)
{
    (void)list, (void)n;
    return 0;
}

/* ---- the SCM: one service, run by the SERVICE fake, that never finishes stopping ---------------- */

static SC_HANDLE WINAPI fake_OpenSCManagerW(LPCWSTR machine, LPCWSTR db, DWORD access)
{
    (void)machine, (void)db, (void)access;
    return FAKE_SCM;
}

static SC_HANDLE WINAPI fake_OpenServiceW(SC_HANDLE scm, LPCWSTR name, DWORD access)
{
    (void)scm, (void)access;
    return wcscmp(name, L"fakesvc") ? NULL : FAKE_SERVICE;
}

static BOOL WINAPI fake_EnumDependentServicesW(SC_HANDLE s, DWORD state, LPENUM_SERVICE_STATUSW buf, DWORD size,
                                               LPDWORD need, LPDWORD count)
{
    (void)s, (void)state, (void)buf, (void)size;
    *need = 0;
    *count = 0;
    return TRUE;
}

/* Nothing else is installed: a search of all services for dependents finds none. */
static BOOL WINAPI fake_EnumServicesStatusExW(SC_HANDLE scm, SC_ENUM_TYPE level, DWORD type, DWORD state, LPBYTE buf,
                                              DWORD size, LPDWORD need, LPDWORD count, LPDWORD resume, LPCWSTR group)
{
    (void)scm, (void)level, (void)type, (void)state, (void)buf, (void)size, (void)group;
    *need = 0;
    *count = 0;
    if (resume)
        *resume = 0;
    return TRUE;
}

static BOOL WINAPI fake_QueryServiceStatusEx(SC_HANDLE s, SC_STATUS_TYPE level, LPBYTE buf, DWORD size, LPDWORD need)
{
    (void)s, (void)level;
    SERVICE_STATUS_PROCESS st;
    memset(&st, 0, sizeof st);
    st.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    st.dwCurrentState = fake.exited[SERVICE] ? SERVICE_STOPPED : fake.stops ? SERVICE_STOP_PENDING : SERVICE_RUNNING;
    st.dwProcessId = fake.exited[SERVICE] ? 0 : FAKE_PID(SERVICE);
    *need = sizeof st;
    if (size < sizeof st)
        return FALSE;
    memcpy(buf, &st, sizeof st);
    return TRUE;
}

static BOOL WINAPI fake_ControlService(SC_HANDLE s, DWORD control, LPSERVICE_STATUS st)
{
    (void)s, (void)st;
    if (control == SERVICE_CONTROL_STOP)
        InterlockedIncrement(&fake.stops);
    return TRUE;
}

static BOOL WINAPI fake_CloseServiceHandle(SC_HANDLE s)
{
    (void)s;
    return TRUE;
}

/* Set by a test: between preparing and acting, the GUI window changes owner. */
static int move_window;

/* ---- set-up ------------------------------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    rm_sys_reset();
    memset(&fake, 0, sizeof fake);
    fake.window_owner = FAKE_PID(GUI);
    real_OpenProcess = rm_sys.OpenProcess;
    real_GetProcessTimes = rm_sys.GetProcessTimes;
    real_CloseHandle = rm_sys.CloseHandle;
    real_WaitForSingleObject = rm_sys.WaitForSingleObject;
    real_GetWindowThreadProcessId = rm_sys.GetWindowThreadProcessId;
    rm_sys.OpenProcess = fake_OpenProcess;
    rm_sys.GetProcessTimes = fake_GetProcessTimes;
    rm_sys.CloseHandle = fake_CloseHandle;
    rm_sys.WaitForSingleObject = fake_WaitForSingleObject;
    rm_sys.TerminateProcess = fake_TerminateProcess;
    rm_sys.EnumWindows = fake_EnumWindows;
    rm_sys.GetWindowThreadProcessId = fake_GetWindowThreadProcessId;
    rm_sys.SendMessageTimeoutW = fake_SendMessageTimeoutW;
    rm_sys.PostMessageW = fake_PostMessageW;
    rm_sys.CreateProcessW = fake_CreateProcessW;
    rm_sys.GetConsoleProcessList = fake_GetConsoleProcessList;
    rm_sys.OpenSCManagerW = fake_OpenSCManagerW;
    rm_sys.OpenServiceW = fake_OpenServiceW;
    rm_sys.EnumDependentServicesW = fake_EnumDependentServicesW;
    rm_sys.EnumServicesStatusExW = fake_EnumServicesStatusExW;
    rm_sys.QueryServiceStatusEx = fake_QueryServiceStatusEx;
    rm_sys.ControlService = fake_ControlService;
    rm_sys.CloseServiceHandle = fake_CloseServiceHandle;
    /* Linked statically there is no DLL to hand rundll32; any module path lets the console
     * phase get as far as starting its helper, which the fake records. */
    rm_module = GetModuleHandleW(NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rm_sys_reset();
    rm_module = NULL;
    move_window = 0;
    return 0;
}

/* Prepares the targets `which` (bits of 1 << kind), all listed with `listed` as start time,
 * and runs the shutdown with `flags`. Statuses land in status[]. */
static DWORD run(unsigned which, ULONG flags, uint32_t status[NFAKES])
{
    struct rm_target *t = rm_alloc_zero(NFAKES * sizeof *t);
    int kind[NFAKES];
    uint32_t n = 0;
    assert_non_null(t);
    for (int i = 0; i < NFAKES; i++) {
        if (!(which & (1u << i)))
            continue;
        kind[n] = i;
        RM_PROCESS_INFO *e = &t[n++].info;
        e->Process.dwProcessId = FAKE_PID(i);
        e->Process.ProcessStartTime = listed;
        e->ApplicationType = types[i];
        _snwprintf(e->strAppName, CCH_RM_MAX_APP_NAME, L"fake %d", i);
        if (i == SERVICE)
            wcscpy(e->strServiceShortName, L"fakesvc");
        e->TSSessionId = 1;
    }
    assert_int_equal(rm_targets_prepare(t, n), ERROR_SUCCESS);
    if (move_window)
        fake.window_owner = FAKE_PID(UNKNOWN) + 0x1000;
    LONG requests = 0;
    struct rm_cancel cancel = {&requests, 0};
    struct rm_shutdown s;
    memset(&s, 0, sizeof s);
    s.flags = flags;
    s.cancel = &cancel;
    s.app_timeout = 300;
    s.service_timeout = 300;
    DWORD err = rm_shutdown_run(&s, t, n);
    for (uint32_t j = 0; j < n; j++)
        status[kind[j]] = t[j].status;
    rm_targets_free(t, n);
    return err;
}

static void all_actual(FILETIME time)
{
    for (int i = 0; i < NFAKES; i++)
        fake.actual[i] = time;
}

#define APPS ((1u << GUI) | (1u << CONSOLE) | (1u << UNKNOWN))

/* ---- the control: same scene, the listed processes really are those ---------------------------- */

static void listed_processes_are_reached(void **state)
{
    (void)state;
    uint32_t st[NFAKES] = {0};
    all_actual(listed);
    assert_int_equal(run(APPS | (1u << SERVICE), RmForceShutdown, st), ERROR_SUCCESS);
    /* GUI: asked, told; console: its CTRL_C helper started; service: stopped; all forced down. */
    assert_true(fake.messages >= 2);
    assert_int_equal(fake.message_ids[0], WM_QUERYENDSESSION);
    assert_true(fake.spawns >= 1);
    assert_int_equal(fake.stops, 1);
    assert_int_equal(fake.terminations, NFAKES);
    for (int i = 0; i < NFAKES; i++) {
        assert_true(fake.exited[i]);
        assert_true(st[i] & RmStatusStopped);
    }
}

/* ---- reused PIDs --------------------------------------------------------------------------------- */

static void reused_pid_is_never_signalled_or_terminated(void **state)
{
    (void)state;
    static const ULONG modes[] = {0, RmForceShutdown};
    for (int m = 0; m < 2; m++) {
        uint32_t st[NFAKES] = {0};
        memset(&fake, 0, sizeof fake);
        fake.window_owner = FAKE_PID(GUI);
        all_actual(reused);
        assert_int_equal(run(APPS, modes[m], st), ERROR_FAIL_SHUTDOWN);
        assert_int_equal(fake.messages, 0);
        assert_int_equal(fake.posts, 0);
        assert_int_equal(fake.spawns, 0);
        assert_int_equal(fake.terminations, 0);
        for (int i = 0; i < NFAKES; i++) {
            assert_false(fake.exited[i]);
            if (APPS & (1u << i)) {
                assert_true(st[i] & RmStatusErrorOnStop);
                assert_false(st[i] & RmStatusStopped);
            }
        }
    }
}

static void reused_pid_of_a_service_process_is_not_terminated(void **state)
{
    (void)state;
    uint32_t st[NFAKES] = {0};
    /* The service's listed process is gone; the SCM now names a PID that another process has
     * (the service never finishes stopping, so a forced call turns to termination). Stopping
     * the service by name is fine; terminating whatever has that PID now is not. */
    all_actual(reused);
    run(1u << SERVICE, RmForceShutdown, st);
    if (fake.terminations) {
        print_error("a forced shutdown terminated PID 0x%lx, whose start time is not the listed one\n",
                    FAKE_PID(SERVICE));
        fail();
    }
    assert_false(st[SERVICE] & RmStatusStopped);
}

static void reused_window_handle_is_not_sent_messages(void **state)
{
    (void)state;
    uint32_t st[NFAKES] = {0};
    all_actual(listed);
    /* The process is the listed one, but its window closed and the handle now belongs to a
     * window of another process. */
    move_window = 1;
    run(1u << GUI, 0, st);
    move_window = 0;
    assert_int_equal(fake.messages, 0);
    assert_int_equal(fake.posts, 0);
    assert_int_equal(fake.terminations, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(listed_processes_are_reached, setup, teardown),
        cmocka_unit_test_setup_teardown(reused_pid_is_never_signalled_or_terminated, setup, teardown),
        cmocka_unit_test_setup_teardown(reused_pid_of_a_service_process_is_not_terminated, setup, teardown),
        cmocka_unit_test_setup_teardown(reused_window_handle_is_not_sent_messages, setup, teardown),
    };
    return cmocka_run_group_tests_name("shutdown.recheck", tests, NULL, NULL);
}
