/*
 * RmShutdown against real GUI apps: the documented message
 * protocol, refusal, hung apps, forced shutdown, parallelism, RmShutdownOnlyRegistered, reboot
 * reasons, the progress callback and RmCancelCurrentTask.
 *
 * The apps are tests/helpers' rmappw.exe (windows subsystem) and rmapp.exe (console), which log
 * every WM_QUERYENDSESSION / WM_ENDSESSION / WM_CLOSE / CTRL_C they receive.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sd.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

const char it_program[] = "sdgui";
const struct it_role it_roles[] = {{NULL, NULL}};

/* The lines the documented protocol produces (SPEC §6; ENDSESSION_CLOSEAPP = 0x1). */
#define QUERY_LINE "WM_QUERYENDSESSION lParam=0x1"
#define END_TRUE_LINE "WM_ENDSESSION wParam=1 lParam=0x1"
#define END_FALSE_PREFIX "WM_ENDSESSION wParam=0"

static void expect_line(const WCHAR *log, int index, const char *want)
{
    char line[256];
    if (!sd_log_line(log, "", index, line, sizeof line) || strcmp(line, want) != 0) {
        print_error("%ls line %d: \"%s\", expected \"%s\"\n", log, index,
                    sd_log_line(log, "", index, line, sizeof line) ? line : "(none)", want);
        fail();
    }
}

static ULONGLONG ms_since(ULONGLONG start)
{
    return GetTickCount64() - start;
}

/* ---- the protocol ------------------------------------------------------------------------------ */

static void accepting_app_is_closed_by_the_protocol(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH], log[MAX_PATH];
    it_make_dir(L"accept", dir);
    sd_path(f, dir, L"held.dat");
    sd_path(log, dir, L"app.log");
    HANDLE app = IT_LAUNCH(sd_rmappw, 0, L"--gui accept --hold \"%ls\" --log \"%ls\"", f, log);
    RM_UNIQUE_PROCESS u = rm_test_unique(app);
    DWORD h = SD_SESSION(1, f);
    assert_int_equal(SD_STATUS(h, &u), RmStatusRunning);

    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    /* It exits on WM_ENDSESSION, by itself (code 0): asked, told, gone. */
    assert_int_equal(SD_WAIT_EXIT(app, 5000), 0);
    assert_int_equal(sd_log_count(log, ""), 2);
    expect_line(log, 0, QUERY_LINE);
    expect_line(log, 1, END_TRUE_LINE);
    assert_int_equal(SD_STATUS(h, &u), RmStatusStopped);
}

static void refusal_fails_the_shutdown_and_spares_everyone(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH], refuser_log[MAX_PATH], other_log[MAX_PATH], console_log[MAX_PATH];
    WCHAR service_log[MAX_PATH], name[64], cmd[1024], ready[256];
    it_make_dir(L"refuse", dir);
    sd_path(f, dir, L"held.dat");
    sd_path(refuser_log, dir, L"refuser.log");
    sd_path(other_log, dir, L"other.log");
    sd_path(console_log, dir, L"console.log");
    sd_path(service_log, dir, L"service.log");
    HANDLE refuser = IT_LAUNCH(sd_rmappw, 0, L"--gui refuser --refuse --hold \"%ls\" --log \"%ls\"", f, refuser_log);
    HANDLE other = IT_LAUNCH(sd_rmappw, 0, L"--gui other --hold \"%ls\" --log \"%ls\"", f, other_log);
    HANDLE console = IT_LAUNCH(sd_rmapp, CREATE_NEW_CONSOLE, L"--console --hold \"%ls\" --log \"%ls\"", f, console_log);
    _snwprintf(name, 64, L"rmsdrefuse%lu", GetCurrentProcessId());
    HANDLE ev = it_event(L"refuse-service");
    it_event_name(L"refuse-service", ready);
    _snwprintf(cmd, 1024, L"\"%ls\" --service %ls --hold \"%ls\" --log \"%ls\" --ready %ls", sd_rmapp, name, f,
               service_log, ready);
    SC_HANDLE svc = sd_service_create(name, cmd, NULL);
    assert_true(StartServiceW(svc, 0, NULL));
    IT_WAIT_EVENT(ev, NULL);
    CloseHandle(ev);
    RM_UNIQUE_PROCESS ur = rm_test_unique(refuser), uo = rm_test_unique(other), uc = rm_test_unique(console);
    DWORD h = SD_SESSION(1, f);
    struct sd_list l;
    SD_LIST(h, &l);
    assert_int_equal(l.n, 4);

    EXPECT_RC(ERROR_FAIL_SHUTDOWN, RmShutdown(h, 0, NULL));
    /* The refuser was asked and said no; it is still running and on record as such. */
    assert_true(sd_running(refuser));
    assert_int_equal(sd_log_count(refuser_log, "WM_QUERYENDSESSION"), 1);
    assert_int_equal(sd_log_count(refuser_log, "WM_ENDSESSION"), 0);
    ULONG st = SD_STATUS(h, &ur);
    assert_true(st & RmStatusErrorOnStop);
    assert_false(st & RmStatusStopped);
    /* The app that agreed learns that the session does not end after all, and stays. */
    assert_true(sd_running(other));
    expect_line(other_log, 0, QUERY_LINE);
    assert_int_equal(sd_log_count(other_log, END_FALSE_PREFIX), 1);
    assert_int_equal(sd_log_count(other_log, END_TRUE_LINE), 0);
    assert_int_equal(sd_log_count(other_log, "WM_CLOSE"), 0);
    st = SD_STATUS(h, &uo);
    assert_false(st & (RmStatusStopped | RmStatusErrorOnStop));
    /* Console apps and services are not even asked. */
    assert_true(sd_running(console));
    assert_int_equal(sd_log_count(console_log, ""), 0);
    assert_false(SD_STATUS(h, &uc) & (RmStatusStopped | RmStatusErrorOnStop));
    assert_int_equal(sd_service_state(svc, NULL), SERVICE_RUNNING);
    assert_int_equal(sd_log_count(service_log, "SERVICE_CONTROL"), 0);
}

static void hung_app_costs_its_timeout_and_force_ends_it(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH];
    it_make_dir(L"hung", dir);
    sd_path(f, dir, L"held.dat");
    HANDLE app = IT_LAUNCH(sd_rmappw, 0, L"--gui hung --hang --hold \"%ls\"", f);
    RM_UNIQUE_PROCESS u = rm_test_unique(app);
    DWORD h = SD_SESSION(1, f);

    /* Not forced: it fails about one timeout later (not 30 s, not forever), touching nothing. */
    ULONGLONG t0 = GetTickCount64();
    EXPECT_RC(ERROR_FAIL_SHUTDOWN, RmShutdown(h, 0, NULL));
    ULONGLONG took = ms_since(t0);
    print_message("non-forced shutdown of a hung app: %llu ms (timeout %u ms)\n", took, SD_APP_TIMEOUT_MS);
    assert_true(took < SD_APP_TIMEOUT_MS + 3000);
    assert_true(sd_running(app));
    assert_true(SD_STATUS(h, &u) & RmStatusErrorOnStop);

    /* Forced: terminated, in about the same time. */
    t0 = GetTickCount64();
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, RmForceShutdown, NULL));
    took = ms_since(t0);
    print_message("forced shutdown of a hung app: %llu ms\n", took);
    assert_true(took < SD_APP_TIMEOUT_MS + 3000);
    SD_WAIT_EXIT(app, 5000);
    ULONG st = SD_STATUS(h, &u);
    assert_true(st & RmStatusStopped);
    assert_false(st & RmStatusRunning);
}

static void forced_shutdown_ends_what_does_not_exit(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH], gui_log[MAX_PATH], console_log[MAX_PATH];
    it_make_dir(L"forced", dir);
    sd_path(f, dir, L"held.dat");
    sd_path(gui_log, dir, L"gui.log");
    sd_path(console_log, dir, L"console.log");
    HANDLE gui = IT_LAUNCH(sd_rmappw, 0, L"--gui refuser --refuse --hold \"%ls\" --log \"%ls\"", f, gui_log);
    /* Ignores CTRL_C: only termination ends it. */
    HANDLE console =
        IT_LAUNCH(sd_rmapp, CREATE_NEW_CONSOLE, L"--console --refuse --hold \"%ls\" --log \"%ls\"", f, console_log);
    RM_UNIQUE_PROCESS ug = rm_test_unique(gui), uc = rm_test_unique(console);
    DWORD h = SD_SESSION(1, f);

    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, RmForceShutdown, NULL));
    SD_WAIT_EXIT(gui, 5000);
    DWORD code = SD_WAIT_EXIT(console, 5000);
    /* Asked first, as any app is; then ended. */
    assert_int_equal(sd_log_count(gui_log, "WM_QUERYENDSESSION"), 1);
    assert_int_equal(sd_log_count(console_log, "CTRL_C"), 1);
    assert_int_not_equal(code, 42); /* rmapp's own exit on CTRL_C: it did not take that way out */
    assert_true(SD_STATUS(h, &ug) & RmStatusStopped);
    assert_true(SD_STATUS(h, &uc) & RmStatusStopped);
}

/* ---- parallelism ---------------------------------------------------------------------------------- */

#define SLOW_APPS 10
#define SLOW_EXIT_MS 1500

static ULONGLONG shut_down_slow_apps(const WCHAR *dir, const WCHAR *leaf, int n)
{
    WCHAR f[MAX_PATH];
    HANDLE apps[SLOW_APPS];
    RM_UNIQUE_PROCESS u[SLOW_APPS];
    sd_path(f, dir, leaf);
    for (int i = 0; i < n; i++) {
        apps[i] = IT_LAUNCH(sd_rmappw, 0, L"--gui slow --exit-delay %u --hold \"%ls\"", SLOW_EXIT_MS, f);
        u[i] = rm_test_unique(apps[i]);
    }
    DWORD h = SD_SESSION(1, f);
    ULONGLONG t0 = GetTickCount64();
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    ULONGLONG took = ms_since(t0);
    for (int i = 0; i < n; i++) {
        SD_WAIT_EXIT(apps[i], 5000);
        assert_int_equal(SD_STATUS(h, &u[i]), RmStatusStopped);
    }
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
    it_forget(h);
    return took;
}

static void slow_apps_are_shut_down_in_parallel(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH];
    it_make_dir(L"parallel", dir);
    ULONGLONG one = shut_down_slow_apps(dir, L"one.dat", 1);
    ULONGLONG ten = shut_down_slow_apps(dir, L"ten.dat", SLOW_APPS);
    print_message("one slow app: %llu ms; %d slow apps: %llu ms\n", one, SLOW_APPS, ten);
    assert_true(one >= SLOW_EXIT_MS); /* the app's own delay is really waited for */
    assert_true(ten < 2 * one);
}

/* ---- what stops a shutdown before it starts ------------------------------------------------------------ */

static void only_registered_shuts_down_nothing_unless_all_restartable(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH], log[MAX_PATH];
    DWORD size = 0, flags = 0;
    it_make_dir(L"onlyreg", dir);
    sd_path(f, dir, L"held.dat");
    sd_path(log, dir, L"app.log");
    HANDLE app = IT_LAUNCH(sd_rmappw, 0, L"--gui onlyreg --hold \"%ls\" --log \"%ls\"", f, log);
    HANDLE other = IT_LAUNCH(sd_rmappw, 0, L"--gui other --hold \"%ls\"", f);
    DWORD h = SD_SESSION(1, f);

    /* Not restartable (no registration, no fallback): nothing at all is shut down. */
    assert_true(SetEnvironmentVariableW(SD_FALLBACK_ENV, L"0"));
    struct sd_list l;
    SD_LIST(h, &l);
    assert_int_equal(l.n, 2);
    assert_false(l.e[0].bRestartable || l.e[1].bRestartable);
    EXPECT_RC(ERROR_FAIL_SHUTDOWN, RmShutdown(h, RmShutdownOnlyRegistered, NULL));
    EXPECT_RC(ERROR_FAIL_SHUTDOWN, RmShutdown(h, RmShutdownOnlyRegistered | RmForceShutdown, NULL));
    assert_true(sd_running(app));
    assert_true(sd_running(other));
    assert_int_equal(sd_log_count(log, ""), 0);

    /* Where the OS keeps no restart registrations (Wine), the captured command line makes both
     * restartable, and then the same call goes ahead. */
    assert_true(SetEnvironmentVariableW(SD_FALLBACK_ENV, NULL));
    if (GetApplicationRestartSettings(app, NULL, &size, &flags) != E_NOTIMPL)
        return;
    SD_LIST(h, &l);
    assert_true(l.e[0].bRestartable && l.e[1].bRestartable);
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, RmShutdownOnlyRegistered, NULL));
    SD_WAIT_EXIT(app, 5000);
    SD_WAIT_EXIT(other, 5000);
}

static void reboot_reasons_stop_everything(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH], log[MAX_PATH];
    it_make_dir(L"reboot", dir);
    sd_path(f, dir, L"held.dat");
    sd_path(log, dir, L"app.log");
    HANDLE app = IT_LAUNCH(sd_rmappw, 0, L"--gui bystander --hold \"%ls\" --log \"%ls\"", f, log);
    sd_hold_self(f); /* the caller itself uses the file: only a reboot frees it */
    DWORD h = SD_SESSION(1, f);
    struct sd_list l;
    SD_LIST(h, &l);
    assert_int_not_equal(l.reasons, RmRebootReasonNone);

    EXPECT_RC(ERROR_FAIL_NOACTION_REBOOT, RmShutdown(h, 0, NULL));
    EXPECT_RC(ERROR_FAIL_NOACTION_REBOOT, RmShutdown(h, RmForceShutdown, NULL));
    assert_true(sd_running(app));
    assert_int_equal(sd_log_count(log, ""), 0);
}

/* ---- progress ----------------------------------------------------------------------------------------- */

static UINT progress[256];
static volatile LONG nprogress;

static void record(UINT percent)
{
    LONG i = InterlockedIncrement(&nprogress) - 1;
    if (i < 256)
        progress[i] = percent;
}

static void cdecl_progress(UINT percent)
{
    record(percent);
}

/* What many bindings pass (SPEC §1.2): it pops its own argument. */
static void __stdcall stdcall_progress(UINT percent)
{
    record(percent);
}

static void expect_progress(void)
{
    LONG n = nprogress;
    print_message("progress:");
    for (LONG i = 0; i < n && i < 256; i++)
        print_message(" %u", progress[i]);
    print_message("\n");
    assert_true(n >= 2 && n <= 256);
    for (LONG i = 0; i < n; i++) {
        assert_true(progress[i] <= 100);
        if (i)
            assert_true(progress[i] > progress[i - 1]);
    }
    assert_int_equal(progress[n - 1], 100);
}

static DWORD launch_three(const WCHAR *leaf, WCHAR f[MAX_PATH])
{
    WCHAR dir[MAX_PATH];
    it_make_dir(leaf, dir);
    sd_path(f, dir, L"held.dat");
    IT_LAUNCH(sd_rmappw, 0, L"--gui p1 --hold \"%ls\"", f);
    IT_LAUNCH(sd_rmappw, 0, L"--gui p2 --hold \"%ls\"", f);
    IT_LAUNCH(sd_rmapp, CREATE_NEW_CONSOLE, L"--console --hold \"%ls\"", f);
    return SD_SESSION(1, f);
}

static void progress_rises_strictly_to_100(void **state)
{
    (void)state;
    WCHAR f[MAX_PATH], dir[MAX_PATH], unused[MAX_PATH];
    DWORD h = launch_three(L"progress", f);
    nprogress = 0;
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, cdecl_progress));
    expect_progress();

    /* Nothing to shut down is done at once: the caller's progress still reaches 100. */
    it_make_dir(L"progress-none", dir);
    sd_path(unused, dir, L"unused.dat");
    DWORD none = SD_SESSION(1, unused);
    nprogress = 0;
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(none, 0, cdecl_progress));
    expect_progress();
}

/* The stack check is x86's: x64 has one calling convention, so there the test checks only that
 * the callback runs and the call succeeds. The x86 suite runs it with the real check. */
#if defined(__i386__)
#define READ_SP(sp) __asm__ __volatile__("movl %%esp, %0" : "=r"(sp))
#else
#define READ_SP(sp) ((sp) = 0)
#endif

static void stdcall_callback_keeps_the_callers_stack(void **state)
{
    (void)state;
    WCHAR f[MAX_PATH];
    volatile DWORD canary = 0x5afe5afe;
    uintptr_t before, after;
    DWORD h = launch_three(L"stdcall", f);
    nprogress = 0;
    READ_SP(before);
    DWORD rc = RmShutdown(h, 0, (RM_WRITE_STATUS_CALLBACK)stdcall_progress);
    READ_SP(after);
    /* On x86 a callee-pops callback called as cdecl without care shifts the stack by 4 bytes
     * per call; whatever the DLL does inside, ours must be where it was. */
    assert_int_equal(before, after);
    assert_int_equal(canary, 0x5afe5afe);
    assert_int_equal(rc, ERROR_SUCCESS);
    expect_progress();
}

/* ---- cancellation ------------------------------------------------------------------------------------------ */

struct shutdown_call {
    DWORD handle, rc;
};

static DWORD WINAPI shutdown_thread(LPVOID param)
{
    struct shutdown_call *c = param;
    c->rc = RmShutdown(c->handle, 0, NULL);
    return 0;
}

static void cancel_from_another_thread(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH], gui_log[MAX_PATH], console_log[MAX_PATH];
    HANDLE gui[3];
    it_make_dir(L"cancel", dir);
    sd_path(f, dir, L"held.dat");
    sd_path(gui_log, dir, L"gui.log");
    sd_path(console_log, dir, L"console.log");
    for (int i = 0; i < 3; i++)
        gui[i] = IT_LAUNCH(sd_rmappw, 0, L"--gui slow --exit-delay 2000 --hold \"%ls\" --log \"%ls\"", f, gui_log);
    HANDLE console = IT_LAUNCH(sd_rmapp, CREATE_NEW_CONSOLE, L"--console --hold \"%ls\" --log \"%ls\"", f, console_log);
    RM_UNIQUE_PROCESS uc = rm_test_unique(console);
    DWORD h = SD_SESSION(1, f);

    /* A request with nothing running is not kept for the next operation. */
    EXPECT_RC(ERROR_SUCCESS, RmCancelCurrentTask(h));
    struct sd_list l;
    SD_LIST(h, &l);
    assert_int_equal(l.n, 4);

    struct shutdown_call call = {h, 0xdeadbeefu};
    HANDLE t = CreateThread(NULL, 0, shutdown_thread, &call, 0, NULL);
    assert_non_null(t);
    /* Mid-shutdown: the GUI apps are being told to end and take 2 s to go. */
    if (!sd_log_wait(gui_log, "WM_ENDSESSION", 1, 15000)) {
        WaitForSingleObject(t, 30000);
        CloseHandle(t);
        print_error("the GUI apps were never told to end (RmShutdown returned %lu)\n", call.rc);
        fail();
    }
    EXPECT_RC(ERROR_SUCCESS, RmCancelCurrentTask(h));
    DWORD w = WaitForSingleObject(t, 30000);
    CloseHandle(t);
    assert_int_equal(w, WAIT_OBJECT_0);
    assert_int_equal(call.rc, ERROR_CANCELLED);
    /* What was not reached stays as it was; the session still works. */
    assert_true(sd_running(console));
    assert_int_equal(sd_log_count(console_log, ""), 0);
    assert_false(SD_STATUS(h, &uc) & (RmStatusStopped | RmStatusErrorOnStop));
    for (int i = 0; i < 3; i++)
        SD_WAIT_EXIT(gui[i], 10000);
}

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(accepting_app_is_closed_by_the_protocol),
        SD_TEST(refusal_fails_the_shutdown_and_spares_everyone),
        SD_TEST(hung_app_costs_its_timeout_and_force_ends_it),
        SD_TEST(forced_shutdown_ends_what_does_not_exit),
        SD_TEST(slow_apps_are_shut_down_in_parallel),
        SD_TEST(only_registered_shuts_down_nothing_unless_all_restartable),
        SD_TEST(reboot_reasons_stop_everything),
        SD_TEST(progress_rises_strictly_to_100),
        SD_TEST(stdcall_callback_keeps_the_callers_stack),
        SD_TEST(cancel_from_another_thread),
    };
    return cmocka_run_group_tests_name("shutdown.gui", tests, sd_group_setup, sd_group_teardown);
}
