/*
 * RmShutdown against console apps (SPEC §6): CTRL_C on the app's own console, sent by a helper
 * process so that the caller's console is never touched.
 *
 * Under ctest the test process has only Wine's stand-in for a console (no console window, no
 * process list), which no ctrl event could reach: the group set-up gives it a real console of
 * its own first, with a ctrl handler that counts what arrives. Attaching to the app's console
 * from inside the caller would take the caller off that console, and a CTRL_C sent to a
 * console the caller shares would reach the handler; both are checked.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sd.h"

#include <stdio.h>
#include <string.h>

const char it_program[] = "sdconsole";
const struct it_role it_roles[] = {{NULL, NULL}};

static volatile LONG our_events;
static HWND our_console;

static BOOL WINAPI count_our_events(DWORD type)
{
    (void)type;
    InterlockedIncrement(&our_events);
    return TRUE; /* handled: a stray CTRL_C must not end the test before it can report */
}

static int group_setup(void **state)
{
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE), err = GetStdHandle(STD_ERROR_HANDLE);
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    FreeConsole();
    if (!AllocConsole()) {
        fprintf(stderr, "AllocConsole failed: %lu\n", GetLastError());
        return -1;
    }
    /* The report still goes to ctest, and children started with our handles write there too. */
    SetStdHandle(STD_OUTPUT_HANDLE, out);
    SetStdHandle(STD_ERROR_HANDLE, err);
    SetStdHandle(STD_INPUT_HANDLE, in);
    our_console = GetConsoleWindow();
    if (!SetConsoleCtrlHandler(count_our_events, TRUE))
        return -1;
    return sd_group_setup(state);
}

static BOOL on_our_console(DWORD pid)
{
    DWORD list[64];
    DWORD n = GetConsoleProcessList(list, 64);
    for (DWORD i = 0; i < n && i < 64; i++)
        if (list[i] == pid)
            return TRUE;
    return FALSE;
}

/* The caller still has the console it had, with only itself and what it let share it. */
static void expect_our_console_untouched(void)
{
    assert_true(our_console != NULL);
    assert_true(GetConsoleWindow() == our_console);
    assert_true(on_our_console(GetCurrentProcessId()));
    assert_int_equal(our_events, 0);
}

static void console_app_gets_ctrl_c_in_its_own_console(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH], log[MAX_PATH];
    it_make_dir(L"ctrlc", dir);
    sd_path(f, dir, L"held.dat");
    sd_path(log, dir, L"app.log");
    HANDLE app = IT_LAUNCH(sd_rmapp, CREATE_NEW_CONSOLE, L"--console --hold \"%ls\" --log \"%ls\"", f, log);
    assert_false(on_our_console(GetProcessId(app)));
    RM_UNIQUE_PROCESS u = rm_test_unique(app);
    DWORD h = SD_SESSION(1, f);
    struct sd_list l;
    SD_LIST(h, &l);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.e[0].ApplicationType, RmConsole);
    our_events = 0;

    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    /* rmapp ends with 42 on CTRL_C, and only then. */
    assert_int_equal(SD_WAIT_EXIT(app, 5000), 42);
    assert_int_equal(sd_log_count(log, ""), 1);
    assert_int_equal(sd_log_count(log, "CTRL_C"), 1);
    assert_int_equal(SD_STATUS(h, &u), RmStatusStopped);
    expect_our_console_untouched();
}

#define SLOW_EXIT_MS 1500

/* Shuts down n console apps that each take SLOW_EXIT_MS to go after CTRL_C; returns the time
 * RmShutdown took. */
static ULONGLONG shut_down_slow_consoles(const WCHAR *dir, const WCHAR *leaf, int n)
{
    WCHAR f[MAX_PATH], log[MAX_PATH], logleaf[64];
    HANDLE apps[3];
    sd_path(f, dir, leaf);
    _snwprintf(logleaf, 64, L"%ls.log", leaf);
    sd_path(log, dir, logleaf);
    for (int i = 0; i < n; i++)
        apps[i] = IT_LAUNCH(sd_rmapp, CREATE_NEW_CONSOLE, L"--console --exit-delay %u --hold \"%ls\" --log \"%ls\"",
                            SLOW_EXIT_MS, f, log);
    DWORD h = SD_SESSION(1, f);
    ULONGLONG t0 = GetTickCount64();
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    ULONGLONG took = GetTickCount64() - t0;
    for (int i = 0; i < n; i++)
        assert_int_equal(SD_WAIT_EXIT(apps[i], 5000), 42);
    assert_int_equal(sd_log_count(log, "CTRL_C"), n);
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
    it_forget(h);
    return took;
}

static void console_apps_are_shut_down_in_parallel(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH];
    it_make_dir(L"ctrlc3", dir);
    our_events = 0;
    ULONGLONG one = shut_down_slow_consoles(dir, L"one.dat", 1);
    ULONGLONG three = shut_down_slow_consoles(dir, L"three.dat", 3);
    print_message("one slow console app: %llu ms; three: %llu ms\n", one, three);
    assert_true(one >= SLOW_EXIT_MS);
    assert_true(three < 2 * one); /* one after the other would take three times as long */
    expect_our_console_untouched();
}

static void console_app_sharing_our_console_is_spared(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH], log[MAX_PATH];
    it_make_dir(L"shared", dir);
    sd_path(f, dir, L"held.dat");
    sd_path(log, dir, L"app.log");
    /* No new console: it runs on ours, where CTRL_C would hit the caller too. */
    HANDLE app = IT_LAUNCH(sd_rmapp, 0, L"--console --hold \"%ls\" --log \"%ls\"", f, log);
    assert_true(on_our_console(GetProcessId(app)));
    RM_UNIQUE_PROCESS u = rm_test_unique(app);
    DWORD h = SD_SESSION(1, f);
    our_events = 0;

    EXPECT_RC(ERROR_FAIL_SHUTDOWN, RmShutdown(h, 0, NULL));
    assert_true(sd_running(app));
    assert_int_equal(sd_log_count(log, ""), 0);
    assert_true(SD_STATUS(h, &u) & RmStatusErrorOnStop);
    expect_our_console_untouched();

    /* Forced, it is ended without any event on the shared console. */
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, RmForceShutdown, NULL));
    assert_int_not_equal(SD_WAIT_EXIT(app, 5000), 42);
    assert_int_equal(sd_log_count(log, ""), 0);
    assert_true(SD_STATUS(h, &u) & RmStatusStopped);
    expect_our_console_untouched();
}

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(console_app_gets_ctrl_c_in_its_own_console),
        SD_TEST(console_apps_are_shut_down_in_parallel),
        SD_TEST(console_app_sharing_our_console_is_spared),
    };
    return cmocka_run_group_tests_name("shutdown.console", tests, group_setup, sd_group_teardown);
}
