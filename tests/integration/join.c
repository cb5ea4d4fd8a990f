/*
 * Sessions shared between processes: a secondary installer joins with the key, both see one
 * set of registrations, and handles mean something only in the process that got them.
 *
 * SPDX-License-Identifier: MIT
 */
#include "it.h"

#include <string.h>
#include <wchar.h>

#include "session/session.h"

const char it_program[] = "join";

#define KEY_CHARS ((int)CCH_RM_SESSION_KEY)

static DWORD join_arg0(void)
{
    DWORD j = 0xfeedfaceu;
    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&j, it_arg(0)));
    it_track(j);
    return j;
}

static void path_of(WCHAR out[MAX_PATH], const WCHAR *dir, const WCHAR *rest)
{
    _snwprintf(out, MAX_PATH, L"%ls%ls", dir, rest);
    out[MAX_PATH - 1] = 0;
}

/* ---- children ----------------------------------------------------------------------------- */

/* args: key dir pid time_lo time_hi; runs in dir. Registers the parent's resources again under
 * other spellings (all must collapse) plus one new item of each kind, over two calls. */
static void child_register_dups(void **state)
{
    (void)state;
    const WCHAR *dir = it_arg(1);
    WCHAR upper[MAX_PATH], prefixed[MAX_PATH], slashes[MAX_PATH], dotdot[MAX_PATH], upper_a[MAX_PATH];
    RM_UNIQUE_PROCESS parent = {it_arg_u32(2), {it_arg_u32(3), it_arg_u32(4)}};
    RM_UNIQUE_PROCESS self = it_self_process();
    DWORD j = join_arg0();

    /* What the parent registered is visible before we add anything. */
    EXPECT_COUNTS(j, 2, 1, 1);

    wcscpy(upper, dir);
    CharUpperW(upper);
    path_of(upper_a, upper, L"\\SETUP.EXE");
    path_of(prefixed, L"\\\\?\\", dir);
    wcscat(prefixed, L"\\Setup.exe");
    path_of(slashes, dir, L"\\sub\\Data.bin");
    for (WCHAR *p = slashes; *p; p++)
        if (*p == L'\\')
            *p = L'/';
    path_of(dotdot, dir, L"\\sub\\..\\sub\\.\\DATA.BIN");
    LPCWSTR files[] = {
        upper_a,                      /* case */
        prefixed,                     /* \\?\ prefix */
        L"Setup.exe",                 /* relative to our working directory */
        L".\\setup.exe",              /* .\ segment */
        L"sub\\..\\Setup.exe",        /* .. segment */
        dotdot,                       /* both, in the middle */
        slashes,                      /* forward slashes */
        L"C.txt",                     /* new */
        L"c.TXT",                     /* new, twice in one call */
    };
    RM_UNIQUE_PROCESS procs[] = {parent, self, parent, self};
    LPCWSTR svcs[] = {L"SPOOLER", L"spooler", L"Schedule", L"SCHEDULE"};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(j, ARRAYSIZE(files), files, ARRAYSIZE(procs), procs,
                                                 ARRAYSIZE(svcs), svcs));
    EXPECT_COUNTS(j, 3, 2, 2);

    /* A second call with only known items changes nothing. */
    LPCWSTR again[] = {upper_a, L"C.TXT"};
    LPCWSTR svcs_again[] = {L"sPoOlEr"};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(j, ARRAYSIZE(again), again, 1, &self, 1, svcs_again));
    EXPECT_COUNTS(j, 3, 2, 2);

    /* A member leaving does not take its registrations with it. */
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(j));
    it_forget(j);
}

/* args: key dir. Adds over two calls and exits without RmEndSession. */
static void child_register_more(void **state)
{
    (void)state;
    const WCHAR *dir = it_arg(1);
    WCHAR d[MAX_PATH], e[MAX_PATH], d_upper[MAX_PATH];
    DWORD j = join_arg0();
    path_of(d, dir, L"\\D.txt");
    path_of(e, dir, L"\\E.txt");
    LPCWSTR first[] = {d, e};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(j, 2, first, 0, NULL, 0, NULL));
    EXPECT_COUNTS(j, 5, 2, 2);
    path_of(d_upper, dir, L"\\d.TXT");
    LPCWSTR second[] = {d_upper, L"\\\\?\\UNC\\rm-it-server\\share\\x"};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(j, 2, second, 0, NULL, 0, NULL));
    EXPECT_COUNTS(j, 6, 2, 2);
    it_forget(j); /* deliberately left open: the process exit is what ends our membership */
}

/* args: key files procs svcs */
static void child_expect_counts(void **state)
{
    (void)state;
    DWORD j = join_arg0();
    EXPECT_COUNTS(j, it_arg_u32(1), it_arg_u32(2), it_arg_u32(3));
}

/* args: key expected-code */
static void child_join_expect(void **state)
{
    (void)state;
    DWORD j = 0xfeedfaceu, want = it_arg_u32(1);
    EXPECT_RC(want, RmJoinSession(&j, it_arg(0)));
    if (want == ERROR_SUCCESS)
        it_track(j);
    else
        assert_int_equal(j, 0xfeedfaceu);
}

/* args: handle (the parent's; never joined here) */
static void child_foreign_handle(void **state)
{
    (void)state;
    DWORD h = it_arg_u32(0);
    LPCWSTR files[] = {L"C:\\rm-it\\foreign.txt"};
    UINT needed, n = 0;
    DWORD reasons;
    uint32_t c[3];
    EXPECT_RC(ERROR_INVALID_HANDLE, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_INVALID_HANDLE, RmGetList(h, &needed, &n, NULL, &reasons));
    EXPECT_RC(ERROR_INVALID_HANDLE, RmShutdown(h, 0, NULL));
    EXPECT_RC(ERROR_INVALID_HANDLE, RmCancelCurrentTask(h));
    EXPECT_RC(ERROR_INVALID_HANDLE, RmEndSession(h));
    assert_int_equal(rm_session_counts(h, c), ERROR_INVALID_HANDLE);

    /* Having a session of our own makes no difference to a handle we were merely told. */
    WCHAR key[KEY_CHARS + 1];
    DWORD mine = IT_START(key);
    if (mine != h) {
        EXPECT_RC(ERROR_INVALID_HANDLE, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
        EXPECT_RC(ERROR_INVALID_HANDLE, RmEndSession(h));
    }
}

/* args: key. Joins, registers, then waits until the owner has ended the session. */
static void child_member_outlives(void **state)
{
    (void)state;
    LPCWSTR files[] = {L"C:\\rm-it\\member.txt"};
    UINT needed, n = 0;
    DWORD reasons;
    uint32_t c[3];
    HANDLE joined = it_event(L"joined"), ended = it_event(L"ended");
    DWORD j = join_arg0();
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(j, 1, files, 0, NULL, 0, NULL));
    SetEvent(joined);
    IT_WAIT_EVENT(ended, NULL);
    EXPECT_RC(ERROR_INVALID_HANDLE, RmRegisterResources(j, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_INVALID_HANDLE, RmGetList(j, &needed, &n, NULL, &reasons));
    assert_int_equal(rm_session_counts(j, c), ERROR_INVALID_HANDLE);
    EXPECT_RC(ERROR_INVALID_HANDLE, RmEndSession(j));
    it_forget(j);
    CloseHandle(joined);
    CloseHandle(ended);
}

/* args: key. A secondary installer may register and leave, nothing else. */
static void child_non_owner(void **state)
{
    (void)state;
    UINT needed, n = 0;
    DWORD reasons, cb;
    RM_UNIQUE_PROCESS p = it_self_process();
    LPCWSTR files[] = {L"C:\\rm-it\\secondary.txt"};
    DWORD j = join_arg0();
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmGetList(j, &needed, &n, NULL, &reasons));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmShutdown(j, 0, NULL));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmShutdown(j, RmForceShutdown, NULL));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmRestart(j, 0, NULL));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmCancelCurrentTask(j));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmAddFilter(j, files[0], NULL, NULL, RmNoRestart));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmAddFilter(j, NULL, &p, NULL, RmNoShutdown));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmRemoveFilter(j, NULL, NULL, L"Spooler"));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmGetFilterList(j, NULL, 0, &cb));
    /* Argument errors still come first. */
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmShutdown(j, 0x2, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(j, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(j));
    it_forget(j);
    EXPECT_RC(ERROR_INVALID_HANDLE, RmEndSession(j));
}

static void register_range(DWORD h, UINT from, UINT to, UINT batch)
{
    static WCHAR text[64][64];
    LPCWSTR files[64];
    assert_true(batch <= 64);
    for (UINT i = from; i < to; i += batch) {
        UINT n = to - i < batch ? to - i : batch;
        for (UINT k = 0; k < n; k++) {
            _snwprintf(text[k], 64, L"C:\\rm-it\\race\\file%05u.txt", i + k);
            text[k][63] = 0;
            files[k] = text[k];
        }
        EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, n, files, 0, NULL, 0, NULL));
    }
}

/* args: key from to. Registers files from..to-1, a few at a time, while others do the same. */
static void child_register_range(void **state)
{
    (void)state;
    HANDLE go = it_event(L"go");
    DWORD j = join_arg0();
    IT_WAIT_EVENT(go, NULL);
    register_range(j, it_arg_u32(1), it_arg_u32(2), 7);
    CloseHandle(go);
}

const struct it_role it_roles[] = {
    {L"register-range", child_register_range},
    {L"register-dups", child_register_dups},
    {L"register-more", child_register_more},
    {L"expect-counts", child_expect_counts},
    {L"join-expect", child_join_expect},
    {L"foreign-handle", child_foreign_handle},
    {L"member-outlives", child_member_outlives},
    {L"non-owner", child_non_owner},
    {NULL, NULL},
};

/* ---- parent --------------------------------------------------------------------------------- */

static void registrations_shared_and_deduplicated(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1], dir[MAX_PATH], a[MAX_PATH], b[MAX_PATH], d[MAX_PATH], f[MAX_PATH];
    RM_UNIQUE_PROCESS self = it_self_process();
    it_make_dir(L"shared", dir);
    path_of(a, dir, L"\\Setup.exe");
    path_of(b, dir, L"\\sub\\Data.bin");
    DWORD h = IT_START(key);
    LPCWSTR files[] = {a, b};
    LPCWSTR svcs[] = {L"Spooler"};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 2, files, 1, &self, 1, svcs));
    EXPECT_COUNTS(h, 2, 1, 1);

    HANDLE c = IT_SPAWN(L"register-dups", dir, L"%ls \"%ls\" %lu %lu %lu", key, dir, self.dwProcessId,
                        self.ProcessStartTime.dwLowDateTime, self.ProcessStartTime.dwHighDateTime);
    EXPECT_CHILD_OK(c);
    EXPECT_COUNTS(h, 3, 2, 2);

    c = IT_SPAWN(L"register-more", NULL, L"%ls \"%ls\"", key, dir);
    EXPECT_CHILD_OK(c);
    EXPECT_COUNTS(h, 6, 2, 2);

    /* Our own spellings of what the children added collapse as well. */
    path_of(d, dir, L"\\D.TXT");
    LPCWSTR dups[] = {d, L"\\\\rm-it-server\\share\\x", L"\\\\RM-IT-SERVER\\SHARE\\X"};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, ARRAYSIZE(dups), dups, 0, NULL, 0, NULL));
    EXPECT_COUNTS(h, 6, 2, 2);
    path_of(f, dir, L"\\F.txt");
    LPCWSTR more[] = {f};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, more, 0, NULL, 0, NULL));
    EXPECT_COUNTS(h, 7, 2, 2);

    /* A process that joins afresh sees everything, our last call included. */
    c = IT_SPAWN(L"expect-counts", NULL, L"%ls 7 2 2", key);
    EXPECT_CHILD_OK(c);
}

static void keys_from_another_process(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1], wrong[KEY_CHARS + 1];
    DWORD h = IT_START(key);
    memcpy(wrong, key, sizeof key);
    wrong[KEY_CHARS - 1] = wrong[KEY_CHARS - 1] == L'f' ? L'e' : L'f';

    HANDLE c = IT_SPAWN(L"join-expect", NULL, L"%ls %lu", wrong, (unsigned long)ERROR_SESSION_CREDENTIAL_CONFLICT);
    EXPECT_CHILD_OK(c);
    c = IT_SPAWN(L"join-expect", NULL, L"0123456789abcdef0123456789abcde %lu", (unsigned long)ERROR_BAD_ARGUMENTS);
    EXPECT_CHILD_OK(c);
    c = IT_SPAWN(L"join-expect", NULL, L"%ls %lu", key, (unsigned long)ERROR_SUCCESS);
    EXPECT_CHILD_OK(c);
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
    it_forget(h);
    c = IT_SPAWN(L"join-expect", NULL, L"%ls %lu", key, (unsigned long)ERROR_SESSION_CREDENTIAL_CONFLICT);
    EXPECT_CHILD_OK(c);
}

static void handle_not_valid_in_other_process(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    LPCWSTR files[] = {L"C:\\rm-it\\mine.txt"};
    DWORD h = IT_START(key);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    HANDLE c = IT_SPAWN(L"foreign-handle", NULL, L"%lu", h);
    EXPECT_CHILD_OK(c);
    /* The child's RmEndSession with our handle value ended nothing. */
    EXPECT_COUNTS(h, 1, 0, 0);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
    it_forget(h);
}

static void member_handle_dies_with_session(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1], key2[KEY_CHARS + 1];
    HANDLE joined = it_event(L"joined"), ended = it_event(L"ended");
    DWORD h = IT_START(key);
    HANDLE c = IT_SPAWN(L"member-outlives", NULL, L"%ls", key);
    IT_WAIT_EVENT(joined, c);
    EXPECT_COUNTS(h, 1, 0, 0);
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
    it_forget(h);
    /* A new session most likely takes the freed slot: the member's stale handle must not
     * reach it. */
    DWORD h2 = IT_START(key2);
    SetEvent(ended);
    EXPECT_CHILD_OK(c);
    EXPECT_COUNTS(h2, 0, 0, 0);
    CloseHandle(joined);
    CloseHandle(ended);
}

static void member_cannot_conduct(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    DWORD h = IT_START(key);
    HANDLE c = IT_SPAWN(L"non-owner", NULL, L"%ls", key);
    EXPECT_CHILD_OK(c);
    EXPECT_COUNTS(h, 1, 0, 0);
    /* Still the owner's session, with the owner's rights. */
    EXPECT_RC(ERROR_SUCCESS, RmCancelCurrentTask(h));
}

/* Members registering at the same time, with overlapping names, lose nothing and store no
 * name twice: every append sees the others' records before it decides what is new. */
static void concurrent_members_lose_nothing(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    HANDLE go = it_event(L"go");
    ResetEvent(go);
    DWORD h = IT_START(key);
    HANDLE a = IT_SPAWN(L"register-range", NULL, L"%ls 0 1500", key);
    HANDLE b = IT_SPAWN(L"register-range", NULL, L"%ls 750 2250", key);
    Sleep(300); /* let both reach the starting line; the outcome must not depend on it */
    SetEvent(go);
    register_range(h, 2000, 2500, 5);
    EXPECT_CHILD_OK(a);
    EXPECT_CHILD_OK(b);
    EXPECT_COUNTS(h, 2500, 0, 0);
    CloseHandle(go);
}

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        IT_TEST(registrations_shared_and_deduplicated),
        IT_TEST(keys_from_another_process),
        IT_TEST(handle_not_valid_in_other_process),
        IT_TEST(member_handle_dies_with_session),
        IT_TEST(member_cannot_conduct),
        IT_TEST(concurrent_members_lose_nothing),
    };
    return cmocka_run_group_tests_name("integration.join", tests, NULL, NULL);
}
