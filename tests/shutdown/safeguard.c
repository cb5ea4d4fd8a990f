/*
 * The safeguard (src/guard): an installer that dies between RmShutdown and RmRestart still
 * gets its apps back; one that ended its session on purpose does not; RSTRTMGR_SAFEGUARD=0
 * turns it off.
 *
 * The installer is a child of this program (role "installer"): it starts a session, registers
 * the file an rsappw app holds, shuts the app down, tells the parent, and waits to be killed.
 * The app's --ready event is set again by any copy started with the same command line, and its
 * log names every copy, so the parent sees a restart without polling the process list.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sd.h"

#include <stdio.h>
#include <string.h>

#include <tlhelp32.h>

const char it_program[] = "sdguard";

/* The bound within which a killed installer's apps must be back. */
#define RESTART_BOUND_MS 15000
/* How long a test waits to be sure nothing comes back. */
#define QUIET_MS 3000

/* installer FILE MODE: MODE is "guard" (shut down, wait), "end" (shut down, end the session,
 * wait) or "noguard" (RSTRTMGR_SAFEGUARD=0, shut down, wait). */
static void installer(void **state)
{
    (void)state;
    WCHAR key[CCH_RM_SESSION_KEY + 1];
    const WCHAR *file = it_arg(0), *mode = it_arg(1);
    if (!wcscmp(mode, L"noguard"))
        assert_true(SetEnvironmentVariableW(SD_SAFEGUARD_ENV, L"0"));
    DWORD h = IT_START(key);
    LPCWSTR files[] = {file};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    if (!wcscmp(mode, L"end")) {
        EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
        it_forget(h);
    }
    assert_true(SetEvent(it_event(L"shut")));
    /* Killed by the parent long before this; bounded so that no run leaves it behind. */
    Sleep(60000);
}

const struct it_role it_roles[] = {{L"installer", installer}, {NULL, NULL}};

static HANDLE running_installer, watcher;

static int teardown(void **state)
{
    sd_kill_installer(&running_installer);
    /* A watcher still waiting on a session that is about to end would leave by itself; it is
     * ended here so that no run leaves one behind. */
    if (watcher) {
        if (WaitForSingleObject(watcher, 2000) != WAIT_OBJECT_0)
            TerminateProcess(watcher, 0xdead);
        CloseHandle(watcher);
        watcher = NULL;
    }
    return sd_teardown(state);
}

/* The safeguard's watcher: the rundll32 process the installer's RmShutdown started. NULL if
 * there is none. */
static HANDLE find_watcher(DWORD installer_pid)
{
    PROCESSENTRY32W pe;
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0), found = NULL;
    assert_true(snap != INVALID_HANDLE_VALUE);
    pe.dwSize = sizeof pe;
    for (BOOL more = Process32FirstW(snap, &pe); more && !found; more = Process32NextW(snap, &pe))
        if (pe.th32ParentProcessID == installer_pid && !_wcsicmp(pe.szExeFile, L"rundll32.exe"))
            found = OpenProcess(SYNCHRONIZE | PROCESS_TERMINATE, FALSE, pe.th32ProcessID);
    CloseHandle(snap);
    return found;
}

#define TEST(fn) cmocka_unit_test_teardown(fn, teardown)

struct scene {
    WCHAR log[MAX_PATH];
    HANDLE ready;
};

/* An app, shut down by an installer that is then killed. */
static void kill_installer_after_shutdown(struct scene *s, const WCHAR *mode)
{
    WCHAR dir[MAX_PATH], f[MAX_PATH];
    it_make_dir(mode, dir);
    sd_path(f, dir, L"held.dat");
    sd_path(s->log, dir, L"app.log");
    sd_watch_log(s->log);
    HANDLE app = SD_LAUNCH(sd_rsappw, NULL, 0, &s->ready, L"--gui --hold \"%ls\" --log \"%ls\"", f, s->log);
    HANDLE shut = it_event(L"shut");
    ResetEvent(shut);
    running_installer = IT_SPAWN(L"installer", NULL, L"\"%ls\" %ls", f, mode);
    IT_WAIT_EVENT(shut, running_installer);
    CloseHandle(shut);
    SD_WAIT_EXIT(app, 5000);
    assert_int_equal(sd_log_count(s->log, "START "), 1);
    watcher = find_watcher(GetProcessId(running_installer));
    if (!wcscmp(mode, L"noguard")) {
        assert_null(watcher);
    } else if (!watcher) {
        print_error("RmShutdown started no safeguard watcher\n");
        fail();
    }
    /* A session ended on purpose: the watcher sees it and leaves (it looks twice a second). */
    if (!wcscmp(mode, L"end"))
        assert_int_equal(WaitForSingleObject(watcher, 10000), WAIT_OBJECT_0);
    ResetEvent(s->ready);
    HANDLE victim = running_installer;
    running_installer = NULL;
    IT_KILL(victim);
}

static void killed_installer_gets_its_app_back(void **state)
{
    (void)state;
    struct scene s;
    kill_installer_after_shutdown(&s, L"guard");
    ULONGLONG t0 = GetTickCount64();
    DWORD w = WaitForSingleObject(s.ready, RESTART_BOUND_MS);
    if (w != WAIT_OBJECT_0) {
        print_error("the app was not restarted within %u ms of the installer's death\n", RESTART_BOUND_MS);
        fail();
    }
    print_message("restarted %llu ms after the installer was killed\n", GetTickCount64() - t0);
    char before[2048], after[2048];
    assert_int_equal(sd_log_count(s.log, "START "), 2);
    assert_true(sd_log_line(s.log, "START ", 0, before, sizeof before));
    assert_true(sd_log_line(s.log, "START ", 1, after, sizeof after));
    char cmd_before[1600], cmd_after[1600];
    assert_true(sd_field(before, "cmd", cmd_before, sizeof cmd_before));
    assert_true(sd_field(after, "cmd", cmd_after, sizeof cmd_after));
    assert_string_equal(cmd_after, cmd_before);
    /* Its work done, the watcher leaves. */
    assert_int_equal(WaitForSingleObject(watcher, 10000), WAIT_OBJECT_0);
}

static void ended_session_is_not_restarted(void **state)
{
    (void)state;
    struct scene s;
    kill_installer_after_shutdown(&s, L"end");
    assert_int_equal(WaitForSingleObject(s.ready, QUIET_MS), WAIT_TIMEOUT);
    assert_int_equal(sd_log_count(s.log, "START "), 1);
}

static void safeguard_turned_off_restarts_nothing(void **state)
{
    (void)state;
    struct scene s;
    kill_installer_after_shutdown(&s, L"noguard");
    assert_int_equal(WaitForSingleObject(s.ready, QUIET_MS), WAIT_TIMEOUT);
    assert_int_equal(sd_log_count(s.log, "START "), 1);
}

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        TEST(killed_installer_gets_its_app_back),
        TEST(ended_session_is_not_restarted),
        TEST(safeguard_turned_off_restarts_nothing),
    };
    return cmocka_run_group_tests_name("shutdown.safeguard", tests, sd_group_setup, sd_group_teardown);
}
