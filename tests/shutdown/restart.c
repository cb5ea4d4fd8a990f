/*
 * RmRestart (SPEC §3.7, §7): the order of calls, GUI and console apps brought back with the
 * command line and directory they ran with (console apps in a console of their own), the
 * statuses that record it, an app whose executable is gone, and the statuses as a joined
 * process sees them.
 *
 * The apps are rsapp / rsappw (this folder), which log a START line with their PID, console,
 * directory and command line, so a restarted copy can be told from the original and compared
 * with it. Like shutdown_console.c, the test process gets a console of its own, so that a
 * console app restarted without a new console would visibly share it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char it_program[] = "sdrestart";
const struct it_role it_roles[] = {{NULL, NULL}};

static int group_setup(void **state)
{
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE), err = GetStdHandle(STD_ERROR_HANDLE);
    FreeConsole();
    if (!AllocConsole())
        return -1;
    SetStdHandle(STD_OUTPUT_HANDLE, out);
    SetStdHandle(STD_ERROR_HANDLE, err);
    return sd_group_setup(state);
}

/* ---- pieces ------------------------------------------------------------------------------------ */

struct started {
    char line[2048];
    char pid[32], console[256], cwd[MAX_PATH * 3], cmd[1600];
};

static void start_line(const WCHAR *log, int index, struct started *s)
{
    if (!sd_log_line(log, "START ", index, s->line, sizeof s->line)) {
        print_error("%ls has no START line #%d\n", log, index + 1);
        fail();
    }
    assert_true(sd_field(s->line, "pid", s->pid, sizeof s->pid));
    assert_true(sd_field(s->line, "console", s->console, sizeof s->console));
    assert_true(sd_field(s->line, "cwd", s->cwd, sizeof s->cwd));
    assert_true(sd_field(s->line, "cmd", s->cmd, sizeof s->cmd));
}

static RM_UNIQUE_PROCESS unique_of_pid(DWORD pid)
{
    HANDLE p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    assert_non_null(p);
    RM_UNIQUE_PROCESS u = rm_test_unique(p);
    CloseHandle(p);
    return u;
}

static UINT progress[256];
static volatile LONG nprogress;

static void on_progress(UINT percent)
{
    LONG i = InterlockedIncrement(&nprogress) - 1;
    if (i < 256)
        progress[i] = percent;
}

static void expect_progress(void)
{
    LONG n = nprogress;
    assert_true(n >= 2 && n <= 256);
    for (LONG i = 1; i < n; i++)
        assert_true(progress[i] > progress[i - 1]);
    assert_true(progress[0] <= 100);
    assert_int_equal(progress[n - 1], 100);
}

/* Shuts the app down through h, then RmRestart; returns when the restarted copy is ready. */
static void shut_down_and_restart(DWORD h, HANDLE app, HANDLE ready, DWORD app_exit_code)
{
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    assert_int_equal(SD_WAIT_EXIT(app, 5000), app_exit_code);
    ResetEvent(ready);
    nprogress = 0;
    EXPECT_RC(ERROR_SUCCESS, RmRestart(h, 0, on_progress));
    IT_WAIT_EVENT(ready, NULL);
    expect_progress();
}

/* ---- the order of calls ------------------------------------------------------------------------- */

static void restart_before_shutdown_is_out_of_sequence(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH], log[MAX_PATH];
    HANDLE ready;
    it_make_dir(L"sequence", dir);
    sd_path(f, dir, L"held.dat");
    sd_path(log, dir, L"app.log");
    sd_watch_log(log);
    HANDLE app = SD_LAUNCH(sd_rsappw, NULL, 0, &ready, L"--gui --hold \"%ls\" --log \"%ls\"", f, log);
    DWORD h = SD_SESSION(1, f);
    EXPECT_RC(ERROR_REQUEST_OUT_OF_SEQUENCE, RmRestart(h, 0, NULL));
    assert_true(sd_running(app));
    assert_int_equal(sd_log_count(log, ""), 1); /* its START line, nothing else */
    /* After a shutdown it is in sequence; a second restart finds nothing left to do. */
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    SD_WAIT_EXIT(app, 5000);
    ResetEvent(ready);
    EXPECT_RC(ERROR_SUCCESS, RmRestart(h, 0, NULL));
    IT_WAIT_EVENT(ready, NULL);
    ResetEvent(ready);
    EXPECT_RC(ERROR_SUCCESS, RmRestart(h, 0, NULL));
    assert_int_equal(WaitForSingleObject(ready, 1500), WAIT_TIMEOUT);
    assert_int_equal(sd_log_count(log, "START "), 2);
}

/* ---- what comes back ------------------------------------------------------------------------------- */

static void gui_round_trip(const WCHAR *exe, const WCHAR *tag)
{
    WCHAR dir[MAX_PATH], cwd[MAX_PATH], f[MAX_PATH], log[MAX_PATH], cwd_tag[64];
    HANDLE ready;
    _snwprintf(cwd_tag, 64, L"%ls-cwd", tag);
    cwd_tag[63] = 0;
    it_make_dir(tag, dir);
    it_make_dir(cwd_tag, cwd);
    sd_path(f, dir, L"held.dat");
    sd_path(log, dir, L"app.log");
    sd_watch_log(log);
    /* The directory and arguments are the app's own, not the caller's. */
    HANDLE app = SD_LAUNCH(exe, cwd, 0, &ready, L"--gui --hold \"%ls\" --log \"%ls\" --exit-delay 0", f, log);
    RM_UNIQUE_PROCESS old = rm_test_unique(app);
    DWORD h = SD_SESSION(1, f);
    shut_down_and_restart(h, app, ready, 0);

    struct started before, after;
    start_line(log, 0, &before);
    start_line(log, 1, &after);
    assert_string_not_equal(before.pid, after.pid);
    assert_string_equal(after.cmd, before.cmd);
    assert_string_equal(after.cwd, before.cwd);
    char want_cwd[MAX_PATH * 3];
    snprintf(want_cwd, sizeof want_cwd, "%ls", cwd);
    assert_string_equal(before.cwd, want_cwd);

    /* The original is on record as stopped and restarted; the copy is listed as running. */
    ULONG st = SD_STATUS(h, &old);
    assert_true(st & RmStatusStopped);
    assert_true(st & RmStatusRestarted);
    assert_false(st & RmStatusErrorOnRestart);
    RM_UNIQUE_PROCESS copy = unique_of_pid((DWORD)strtoul(after.pid, NULL, 10));
    assert_int_equal(SD_STATUS(h, &copy), RmStatusRunning);
}

static void gui_app_returns_with_its_command_line_and_directory(void **state)
{
    (void)state;
    gui_round_trip(sd_rsappw, L"gui");
}

/* From a 32-bit caller a 64-bit app (and the reverse): its command line and directory are read
 * across bitness (docs/wow64.md), and it comes back as itself. */
static void other_bitness_gui_app_returns_with_its_command_line_and_directory(void **state)
{
    (void)state;
    WCHAR exe[MAX_PATH];
    rm_test_other_helper(L"rsappw.exe", exe);
    gui_round_trip(exe, L"gui-other");
}

static void console_round_trip(const WCHAR *exe, const WCHAR *tag)
{
    WCHAR dir[MAX_PATH], f[MAX_PATH], log[MAX_PATH];
    HANDLE ready;
    it_make_dir(tag, dir);
    sd_path(f, dir, L"held.dat");
    sd_path(log, dir, L"app.log");
    sd_watch_log(log);
    HANDLE app = SD_LAUNCH(exe, dir, CREATE_NEW_CONSOLE, &ready, L"--console --hold \"%ls\" --log \"%ls\"", f, log);
    RM_UNIQUE_PROCESS old = rm_test_unique(app);
    DWORD h = SD_SESSION(1, f);
    shut_down_and_restart(h, app, ready, 42);

    struct started before, after;
    start_line(log, 0, &before);
    start_line(log, 1, &after);
    assert_string_equal(after.cmd, before.cmd);
    assert_string_equal(after.cwd, before.cwd);
    /* Alone on its console: not on ours (we have one, so inheriting it would show). */
    if (strcmp(after.console, after.pid) != 0) {
        print_error("the restarted console app (pid %s) shares a console with %s\n", after.pid, after.console);
        fail();
    }
    ULONG st = SD_STATUS(h, &old);
    assert_true(st & RmStatusStopped);
    assert_true(st & RmStatusRestarted);
}

static void console_app_returns_in_a_new_console(void **state)
{
    (void)state;
    console_round_trip(sd_rsapp, L"console");
}

/* CTRL_C reaches a console app of the other bitness, and it comes back in a console of its own. */
static void other_bitness_console_app_returns_in_a_new_console(void **state)
{
    (void)state;
    WCHAR exe[MAX_PATH];
    rm_test_other_helper(L"rsapp.exe", exe);
    console_round_trip(exe, L"console-other");
}

static void missing_executable_fails_the_restart(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], exe[MAX_PATH], moved[MAX_PATH], f[MAX_PATH], log[MAX_PATH];
    HANDLE ready;
    it_make_dir(L"missing", dir);
    sd_path(exe, dir, L"rsappw.exe");
    sd_path(moved, dir, L"rsappw.old");
    sd_path(f, dir, L"held.dat");
    sd_path(log, dir, L"app.log");
    sd_watch_log(log);
    assert_true(CopyFileW(sd_rsappw, exe, FALSE));
    HANDLE app = SD_LAUNCH(exe, NULL, 0, &ready, L"--gui --hold \"%ls\" --log \"%ls\"", f, log);
    RM_UNIQUE_PROCESS old = rm_test_unique(app);
    DWORD h = SD_SESSION(1, f);
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    SD_WAIT_EXIT(app, 5000);
    /* What an installer does to the file it replaces, without putting a new one there. */
    assert_true(MoveFileW(exe, moved));

    EXPECT_RC(ERROR_FAIL_RESTART, RmRestart(h, 0, NULL));
    ULONG st = SD_STATUS(h, &old);
    assert_true(st & RmStatusStopped);
    assert_true(st & RmStatusErrorOnRestart);
    assert_false(st & RmStatusRestarted);
    assert_int_equal(sd_log_count(log, "START "), 1);
}

/* ---- a joined process ------------------------------------------------------------------------------- */

/* sd_member joins the session and checks the recorded status of pid (see member.c). */
static DWORD run_member(const WCHAR *key, DWORD pid, ULONG status)
{
    WCHAR exe[MAX_PATH], cmd[1024];
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    it_helper_path(L"sd_member.exe", exe);
    _snwprintf(cmd, 1024, L"\"%ls\" %ls %lu 0x%lx", exe, key, pid, status);
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    assert_true(rm_test_create_process(exe, cmd, TRUE, 0, NULL, &si, &pi));
    CloseHandle(pi.hThread);
    DWORD code = 0xffffffffu;
    if (WaitForSingleObject(pi.hProcess, 30000) != WAIT_OBJECT_0)
        TerminateProcess(pi.hProcess, 0xdead);
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    return code;
}

static void statuses_are_visible_to_a_joined_process(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH], log[MAX_PATH], key[CCH_RM_SESSION_KEY + 1];
    HANDLE ready;
    it_make_dir(L"joined", dir);
    sd_path(f, dir, L"held.dat");
    sd_path(log, dir, L"app.log");
    sd_watch_log(log);
    HANDLE app = SD_LAUNCH(sd_rsappw, NULL, 0, &ready, L"--gui --hold \"%ls\" --log \"%ls\"", f, log);
    DWORD pid = GetProcessId(app);
    DWORD h = IT_START(key);
    LPCWSTR files[] = {f};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    SD_WAIT_EXIT(app, 5000);
    assert_int_equal(run_member(key, pid, RmStatusStopped), 0);
    ResetEvent(ready);
    EXPECT_RC(ERROR_SUCCESS, RmRestart(h, 0, NULL));
    IT_WAIT_EVENT(ready, NULL);
    assert_int_equal(run_member(key, pid, RmStatusStopped | RmStatusRestarted), 0);
}

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(restart_before_shutdown_is_out_of_sequence),
        SD_TEST(gui_app_returns_with_its_command_line_and_directory),
        SD_TEST(other_bitness_gui_app_returns_with_its_command_line_and_directory),
        SD_TEST(console_app_returns_in_a_new_console),
        SD_TEST(other_bitness_console_app_returns_in_a_new_console),
        SD_TEST(missing_executable_fails_the_restart),
        SD_TEST(statuses_are_visible_to_a_joined_process),
    };
    return cmocka_run_group_tests_name("shutdown.restart", tests, group_setup, sd_group_teardown);
}
