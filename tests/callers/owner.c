/*
 * Who may do what in a session (spec §4, §3.2-3.11): a process that joins with the key may
 * register resources and leave, and gets ERROR_SESSION_CREDENTIAL_CONFLICT from everything
 * else; the session lives until its owner ends it or dies. Owners and members are separate
 * processes, as for an installer and its custom actions.
 *
 * SPDX-License-Identifier: MIT
 */
#include "ch.h"

#include <stdio.h>
#include <wchar.h>

const char ch_program[] = "owner";

static WCHAR rmapp[MAX_PATH];

/* ---- children ------------------------------------------------------------------------------------ */

/* member KEY FILE: joins, registers FILE, is refused everything an owner may do, leaves. */
static void member(void **state)
{
    (void)state;
    DWORD h = 0xffffffffu, need = 0, reasons = 0;
    UINT needed = 0, n = 0;
    LPCWSTR files[] = {ch_arg(1)};
    WCHAR exe[MAX_PATH];
    BYTE buf[256];
    GetModuleFileNameW(NULL, exe, MAX_PATH);
    RM_UNIQUE_PROCESS me = {GetCurrentProcessId(), {0, 0}};
    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&h, ch_arg(0)));
    ch_track(h);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmGetList(h, &needed, &n, NULL, &reasons));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmShutdown(h, 0, NULL));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmShutdown(h, RmForceShutdown, NULL));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmRestart(h, 0, NULL));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmCancelCurrentTask(h));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmAddFilter(h, exe, NULL, NULL, RmNoRestart));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmAddFilter(h, NULL, &me, NULL, RmNoShutdown));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmRemoveFilter(h, exe, NULL, NULL));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmGetFilterList(h, NULL, 0, &need));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmGetFilterList(h, buf, sizeof buf, &need));
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
    ch_forget(h);
    /* Leaving is done once. */
    EXPECT_RC(ERROR_INVALID_HANDLE, RmEndSession(h));
}

/* stays KEY: joins, says so, and once told the owner ended the session finds it gone. */
static void stays(void **state)
{
    (void)state;
    DWORD h = 0xffffffffu, h2 = 0xffffffffu;
    WCHAR file[MAX_PATH];
    GetModuleFileNameW(NULL, file, MAX_PATH);
    LPCWSTR files[] = {file};
    HANDLE joined = ch_event(L"joined"), ended = ch_event(L"ended");
    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&h, ch_arg(0)));
    ch_track(h);
    SetEvent(joined);
    CH_WAIT_EVENT(ended, NULL);
    EXPECT_RC(ERROR_INVALID_HANDLE, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmJoinSession(&h2, ch_arg(0)));
    DWORD rc = CH_CALL(RmEndSession(h));
    assert_true(rc == ERROR_SUCCESS || rc == ERROR_INVALID_HANDLE);
    ch_forget(h);
}

/* owns DIR: starts a session, writes its key to DIR\key.txt, says so, waits to be killed. */
static void owns(void **state)
{
    (void)state;
    WCHAR key[CCH_RM_SESSION_KEY + 1], path[MAX_PATH];
    DWORD written;
    CH_START(key);
    ch_path(path, ch_arg(0), L"key.txt");
    HANDLE f = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    assert_true(f != INVALID_HANDLE_VALUE);
    assert_true(WriteFile(f, key, sizeof key, &written, NULL));
    CloseHandle(f);
    SetEvent(ch_event(L"owned"));
    Sleep(INFINITE);
}

const struct ch_role ch_roles[] = {
    {L"member", member},
    {L"stays", stays},
    {L"owns", owns},
    {NULL, NULL},
};

/* ---- parent --------------------------------------------------------------------------------------- */

static void member_registers_and_leaves_but_owns_nothing(void **state)
{
    (void)state;
    WCHAR key[CCH_RM_SESSION_KEY + 1], dir[MAX_PATH], f1[MAX_PATH], f2[MAX_PATH];
    struct ch_list l;
    ch_make_dir(L"member", dir);
    ch_path(f1, dir, L"owner.dat");
    ch_path(f2, dir, L"member.dat");
    HANDLE a1 = CH_LAUNCH(rmapp, NULL, L"--hold \"%ls\"", f1);
    HANDLE a2 = CH_LAUNCH(rmapp, NULL, L"--hold \"%ls\"", f2);
    DWORD h = CH_START(key);
    LPCWSTR files[] = {f1};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_CHILD_OK(CH_SPAWN(L"member", L"%ls \"%ls\"", key, f2));

    /* The member's leaving did not end the session, and what it registered stays. */
    CH_LIST(h, &l);
    if (l.n != 2 || !ch_find(&l, GetProcessId(a1)) || !ch_find(&l, GetProcessId(a2))) {
        ch_dump(&l);
        fail_msg("expected both holders, the owner's and the member's");
    }
    /* The owner keeps every right. */
    DWORD need = 0;
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, rmapp, NULL, NULL, RmNoRestart));
    EXPECT_RC(ERROR_MORE_DATA, RmGetFilterList(h, NULL, 0, &need));
    EXPECT_RC(ERROR_SUCCESS, RmRemoveFilter(h, rmapp, NULL, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmCancelCurrentTask(h));
    CH_END(h);
}

static void session_ends_with_its_owner(void **state)
{
    (void)state;
    WCHAR key[CCH_RM_SESSION_KEY + 1];
    HANDLE joined = ch_event(L"joined"), ended = ch_event(L"ended");
    DWORD h = CH_START(key);
    HANDLE child = CH_SPAWN(L"stays", L"%ls", key);
    CH_WAIT_EVENT(joined, child);
    CH_END(h);
    SetEvent(ended);
    EXPECT_CHILD_OK(child);
    CloseHandle(joined);
    CloseHandle(ended);
}

static void session_ends_when_its_owner_dies(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], path[MAX_PATH], key[CCH_RM_SESSION_KEY + 1] = {0};
    DWORD got = 0, h = 0xffffffffu, h2 = 0xffffffffu;
    UINT needed = 0, n = 0;
    DWORD reasons;
    HANDLE owned = ch_event(L"owned");
    ch_make_dir(L"dies", dir);
    HANDLE owner = CH_SPAWN(L"owns", L"\"%ls\"", dir);
    CH_WAIT_EVENT(owned, owner);
    ch_path(path, dir, L"key.txt");
    HANDLE f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(f != INVALID_HANDLE_VALUE);
    assert_true(ReadFile(f, key, sizeof key, &got, NULL));
    CloseHandle(f);
    assert_int_equal(got, sizeof key);

    /* Here this process is the member. */
    WCHAR self[MAX_PATH];
    GetModuleFileNameW(NULL, self, MAX_PATH);
    LPCWSTR files[] = {self};
    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&h, key));
    ch_track(h);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmGetList(h, &needed, &n, NULL, &reasons));

    assert_true(TerminateProcess(owner, 0xdead));
    assert_int_equal(WaitForSingleObject(owner, 10000), WAIT_OBJECT_0);
    EXPECT_RC(ERROR_INVALID_HANDLE, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmJoinSession(&h2, key));
    DWORD rc = CH_CALL(RmEndSession(h));
    assert_true(rc == ERROR_SUCCESS || rc == ERROR_INVALID_HANDLE);
    ch_forget(h);
    CloseHandle(owned);
}

int ch_parent(void)
{
    ch_helper_path(L"rmapp.exe", rmapp);
    const struct CMUnitTest tests[] = {
        CH_TEST(member_registers_and_leaves_but_owns_nothing),
        CH_TEST(session_ends_with_its_owner),
        CH_TEST(session_ends_when_its_owner_dies),
    };
    return cmocka_run_group_tests_name("callers.owner", tests, NULL, NULL);
}
