/*
 * The call sequences real callers use (spec §9, LANDSCAPE C and F), each as a multi-process
 * scenario with real apps and a real service:
 *   - Windows Installer: the primary hands its key to a custom action (a child process), which
 *     joins, registers files and a service, and leaves; the primary lists, shuts down, restarts;
 *   - Inno Setup: registrations in batches of 1,000 (most files not there yet, its own exe left
 *     out), the 5-entry RmGetList loop, a refused RmShutdown(h, 0) retried with
 *     RmForceShutdown, RmRestart, and ending and restarting the session to drop registrations;
 *   - Microsoft's secondary-installer sample: the sizing loop of at most three RmGetList calls.
 *
 * SPDX-License-Identifier: MIT
 */
#include "ch.h"

#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

const char ch_program[] = "patterns";

static WCHAR rmapp[MAX_PATH], rmappw[MAX_PATH];

/* ---- children ------------------------------------------------------------------------------------ */

/* custom_action KEY FILE SERVICE: what a WiX custom action does with MsiRestartManagerSessionKey. */
static void custom_action(void **state)
{
    (void)state;
    DWORD h = 0xffffffffu;
    LPCWSTR files[] = {ch_arg(1)};
    LPCWSTR svcs[] = {ch_arg(2)};
    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&h, ch_arg(0)));
    ch_track(h);
    /* Collected first, then one registration: every call is an expensive write. */
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 1, svcs));
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
    ch_forget(h);
}

/* secondary KEY FILE: the sample's secondary installer. */
static void secondary(void **state)
{
    (void)state;
    DWORD h = 0xffffffffu;
    LPCWSTR files[] = {ch_arg(1)};
    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&h, ch_arg(0)));
    ch_track(h);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
    ch_forget(h);
}

const struct ch_role ch_roles[] = {
    {L"custom_action", custom_action},
    {L"secondary", secondary},
    {NULL, NULL},
};

/* ---- Windows Installer ----------------------------------------------------------------------------- */

static void windows_installer_with_custom_action(void **state)
{
    (void)state;
    WCHAR key[CCH_RM_SESSION_KEY + 1], dir[MAX_PATH], f[MAX_PATH], svcfile[MAX_PATH], name[64], ready[128],
        cmd[1024];
    HANDLE app_ready;
    struct ch_list l;
    ch_set_hung_app_timeout(1000);
    ch_make_dir(L"msi", dir);
    ch_path(f, dir, L"product.dll");
    ch_path(svcfile, dir, L"service.dat");
    HANDLE app = CH_LAUNCH(rmappw, &app_ready, L"--gui \"msi app\" --hold \"%ls\"", f);
    _snwprintf(name, 64, L"rstrtmgr-callers-%lu", GetCurrentProcessId());
    name[63] = 0;
    HANDLE svc_ready = ch_event(L"service");
    ch_event_name(L"service", ready);
    _snwprintf(cmd, 1024, L"\"%ls\" --service %ls --hold \"%ls\" --ready %ls", rmapp, name, svcfile, ready);
    cmd[1023] = 0;
    DWORD svc_pid = CH_SERVICE(name, cmd, svc_ready);
    ResetEvent(svc_ready);

    /* The primary publishes its key (MsiRestartManagerSessionKey); the custom action joins. */
    DWORD h = CH_START(key);
    EXPECT_CHILD_OK(CH_SPAWN(L"custom_action", L"%ls \"%ls\" %ls", key, f, name));

    CH_LIST(h, &l);
    const RM_PROCESS_INFO *a = ch_find(&l, GetProcessId(app)), *s = ch_find(&l, svc_pid);
    if (l.n != 2 || !a || !s) {
        ch_dump(&l);
        fail_msg("expected the app holding the file and the registered service");
    }
    assert_int_equal(a->ApplicationType, RmMainWindow);
    assert_int_equal(s->ApplicationType, RmService);
    assert_int_equal(_wcsicmp(s->strServiceShortName, name), 0);
    assert_int_equal(l.reasons, RmRebootReasonNone);

    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    assert_int_equal(WaitForSingleObject(app, 10000), WAIT_OBJECT_0);
    assert_int_equal(ch_service_state(name, NULL), SERVICE_STOPPED);

    EXPECT_RC(ERROR_SUCCESS, RmRestart(h, 0, NULL));
    CH_WAIT_EVENT(app_ready, NULL);
    CH_WAIT_EVENT(svc_ready, NULL);
    assert_int_equal(ch_service_state(name, NULL), SERVICE_RUNNING);
    CH_END(h);
    CloseHandle(app_ready);
    CloseHandle(svc_ready);
}

/* ---- Inno Setup ------------------------------------------------------------------------------------ */

#define INNO_APPS 7
#define INNO_FILES 2500 /* three batches: 1,000, 1,000, 500 */

/* Setup.WizardForm.pas: start with 5 entries, grow while count < needed; SUCCESS and
 * MORE_DATA are both fine. Returns the entries in *out (caller frees). */
static UINT inno_get_list(DWORD h, RM_PROCESS_INFO **out, DWORD *reasons, int *calls)
{
    UINT count = 5, needed = 0;
    RM_PROCESS_INFO *apps = NULL;
    *calls = 0;
    for (;;) {
        free(apps);
        apps = calloc(count, sizeof *apps);
        assert_non_null(apps);
        UINT n = count;
        DWORD rc = CH_CALL(RmGetList(h, &needed, &n, apps, reasons));
        assert_true(rc == ERROR_SUCCESS || rc == ERROR_MORE_DATA);
        assert_true(++*calls <= 5);
        if (rc == ERROR_SUCCESS) {
            assert_int_equal(n, needed);
            count = n;
            break;
        }
        if (count >= needed)
            fail_msg("ERROR_MORE_DATA with room for %u of %u", count, needed);
        count = needed;
    }
    *out = apps;
    return count;
}

static void inno_setup(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], self[MAX_PATH];
    static WCHAR names[INNO_FILES][MAX_PATH];
    static LPCWSTR batch[1000];
    HANDLE apps[INNO_APPS], ready[INNO_APPS];
    ch_set_hung_app_timeout(1000);
    ch_make_dir(L"inno", dir);
    GetModuleFileNameW(NULL, self, MAX_PATH);
    /* Every 350th name is a file an app holds; the rest will only exist after installing. */
    int held = 0;
    for (int i = 0; i < INNO_FILES; i++) {
        _snwprintf(names[i], MAX_PATH, L"%ls\\file%04d.dll", dir, i);
        names[i][MAX_PATH - 1] = 0;
        if (i % 350 == 0 && held < INNO_APPS) {
            /* The last app says no to closing. */
            apps[held] = CH_LAUNCH(rmappw, &ready[held], L"--gui \"inno app %d\" %ls--hold \"%ls\"", held,
                                   held == INNO_APPS - 1 ? L"--refuse " : L"", names[i]);
            held++;
        }
    }
    assert_int_equal(held, INNO_APPS);

    DWORD h = CH_START(NULL);
    for (int from = 0; from < INNO_FILES; from += 1000) {
        UINT n = 0;
        for (int i = from; i < INNO_FILES && n < 1000; i++)
            if (_wcsicmp(names[i], self) != 0) /* Setup never registers its own exe */
                batch[n++] = names[i];
        EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, n, batch, 0, NULL, 0, NULL));
    }

    RM_PROCESS_INFO *list;
    DWORD reasons = 0xdeadbeefu;
    int calls;
    UINT n = inno_get_list(h, &list, &reasons, &calls);
    assert_int_equal(n, INNO_APPS);
    /* Two calls normally; a third when the list grew meanwhile (processes of other tests start
     * and stop), which is exactly what Inno's "while count < needed" loop is for. */
    assert_true(calls >= 2 && calls <= 3);
    assert_int_equal(reasons, RmRebootReasonNone); /* so Inno offers to close them */
    for (int i = 0; i < INNO_APPS; i++) {
        int found = 0;
        for (UINT k = 0; k < n; k++)
            found |= list[k].Process.dwProcessId == GetProcessId(apps[i]);
        assert_true(found);
    }
    for (UINT k = 0; k < n; k++)
        assert_int_not_equal(list[k].Process.dwProcessId, GetCurrentProcessId());
    free(list);

    /* Setup.Install.HelperFunc.pas: RmShutdown(h, 0); on ERROR_FAIL_SHUTDOWN, Retry. */
    EXPECT_RC(ERROR_FAIL_SHUTDOWN, RmShutdown(h, 0, NULL));
    assert_true(ch_alive(apps[INNO_APPS - 1]));
    n = inno_get_list(h, &list, &reasons, &calls);
    int refuser = 0;
    for (UINT k = 0; k < n; k++)
        if (list[k].Process.dwProcessId == GetProcessId(apps[INNO_APPS - 1])) {
            refuser = 1;
            if (!(list[k].AppStatus & RmStatusErrorOnStop))
                fail_msg("refusing app has status 0x%lx, expected RmStatusErrorOnStop", list[k].AppStatus);
        }
    assert_true(refuser);
    free(list);
    /* The user chose to force (/FORCECLOSEAPPLICATIONS). */
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, RmForceShutdown, NULL));
    for (int i = 0; i < INNO_APPS; i++)
        assert_int_equal(WaitForSingleObject(apps[i], 10000), WAIT_OBJECT_0);

    /* Setup.MainForm.pas: RmRestart(h, 0, nil); every app comes back. */
    DWORD rc = CH_CALL(RmRestart(h, 0, NULL));
    assert_int_equal(rc, ERROR_SUCCESS);
    for (int i = 0; i < INNO_APPS; i++) {
        CH_WAIT_EVENT(ready[i], NULL);
        CloseHandle(ready[i]);
    }

    /* "Back" in the wizard: end and start again to drop the registrations. The restarted
     * apps hold the same files, yet the new session lists nobody. */
    CH_END(h);
    h = CH_START(NULL);
    n = inno_get_list(h, &list, &reasons, &calls);
    assert_int_equal(n, 0);
    assert_int_equal(calls, 1);
    assert_int_equal(reasons, RmRebootReasonNone);
    free(list);
    CH_END(h);
}

/* ---- Microsoft's secondary-installer sample --------------------------------------------------------- */

/* The sample's loop: first with 0/NULL, then with what it was told, at most three times. */
static DWORD sample_get_list(DWORD h, UINT *count, RM_PROCESS_INFO **out, int *tries)
{
    UINT needed = 0, n = 0;
    DWORD reasons = 0, rc = ERROR_MORE_DATA;
    RM_PROCESS_INFO *info = NULL;
    for (*tries = 0; rc == ERROR_MORE_DATA && *tries < 3; ++*tries) {
        free(info);
        info = n ? calloc(n, sizeof *info) : NULL;
        rc = CH_CALL(RmGetList(h, &needed, &n, info, &reasons));
        if (rc == ERROR_MORE_DATA)
            n = needed;
    }
    assert_int_equal(reasons, RmRebootReasonNone);
    *count = n;
    *out = info;
    return rc;
}

static void secondary_installer_sample(void **state)
{
    (void)state;
    WCHAR key[CCH_RM_SESSION_KEY + 1], dir[MAX_PATH], f1[MAX_PATH], f2[MAX_PATH];
    HANDLE r1, r2;
    UINT n;
    int tries;
    RM_PROCESS_INFO *info;
    ch_set_hung_app_timeout(1000);
    ch_make_dir(L"sample", dir);
    ch_path(f1, dir, L"primary.dll");
    ch_path(f2, dir, L"secondary.dll");
    HANDLE a1 = CH_LAUNCH(rmappw, &r1, L"--gui \"sample app 1\" --hold \"%ls\"", f1);
    HANDLE a2 = CH_LAUNCH(rmappw, &r2, L"--gui \"sample app 2\" --hold \"%ls\"", f2);

    DWORD h = 0xffffffffu; /* the sample's "no session" */
    EXPECT_RC(ERROR_SUCCESS, RmStartSession(&h, 0, key));
    ch_track(h);
    assert_int_not_equal(h, 0xffffffffu);
    assert_int_equal(wcslen(key), CCH_RM_SESSION_KEY);

    /* Nothing registered yet: the first call already succeeds with nothing. */
    EXPECT_RC(ERROR_SUCCESS, sample_get_list(h, &n, &info, &tries));
    assert_int_equal(n, 0);
    assert_int_equal(tries, 1);
    free(info);

    LPCWSTR files[] = {f1};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_CHILD_OK(CH_SPAWN(L"secondary", L"%ls \"%ls\"", key, f2));

    EXPECT_RC(ERROR_SUCCESS, sample_get_list(h, &n, &info, &tries));
    assert_int_equal(tries, 2);
    assert_int_equal(n, 2);
    int seen = 0;
    for (UINT i = 0; i < n; i++)
        seen |= (info[i].Process.dwProcessId == GetProcessId(a1)) | (info[i].Process.dwProcessId == GetProcessId(a2)) << 1;
    assert_int_equal(seen, 3);
    free(info);

    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    assert_int_equal(WaitForSingleObject(a1, 10000), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(a2, 10000), WAIT_OBJECT_0);
    EXPECT_RC(ERROR_SUCCESS, RmRestart(h, 0, NULL));
    CH_WAIT_EVENT(r1, NULL);
    CH_WAIT_EVENT(r2, NULL);
    CH_END(h);
    CloseHandle(r1);
    CloseHandle(r2);
}

int ch_parent(void)
{
    ch_helper_path(L"rmapp.exe", rmapp);
    ch_helper_path(L"rmappw.exe", rmappw);
    const struct CMUnitTest tests[] = {
        CH_TEST(windows_installer_with_custom_action),
        CH_TEST(inno_setup),
        CH_TEST(secondary_installer_sample),
    };
    return cmocka_run_group_tests_name("callers.patterns", tests, NULL, NULL);
}
