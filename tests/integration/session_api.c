/*
 * RmStartSession / RmJoinSession / RmEndSession inside one process, handle validity, and how
 * every other export treats handles, roles and arguments — including those whose operation
 * lands later (README, "API coverage"), which must already check exactly as they will then.
 *
 * SPDX-License-Identifier: MIT
 */
#include "it.h"

#include <string.h>
#include <wchar.h>

#include "session/session.h"

const char it_program[] = "session";
const struct it_role it_roles[] = {{NULL, NULL}};

#define SENTINEL 0xcccc
#define KEY_CHARS ((int)CCH_RM_SESSION_KEY)

static void expect_key_format(const WCHAR *key)
{
    for (int i = 0; i < KEY_CHARS; i++)
        if (!((key[i] >= L'0' && key[i] <= L'9') || (key[i] >= L'a' && key[i] <= L'f'))) {
            print_error("key[%d] = 0x%04x is not a lowercase hex digit\n", i, key[i]);
            fail();
        }
    assert_int_equal(key[KEY_CHARS], 0);
}

static void start_writes_key_exactly(void **state)
{
    (void)state;
    WCHAR buf[64];
    DWORD h = 0xfeedfaceu;
    for (int i = 0; i < 64; i++)
        buf[i] = SENTINEL;
    EXPECT_RC(ERROR_SUCCESS, RmStartSession(&h, 0, buf));
    it_track(h);
    assert_int_not_equal(h, 0xfeedfaceu);
    expect_key_format(buf);
    /* Callers size the buffer CCH_RM_SESSION_KEY + 1: not one unit more may be written. */
    for (int i = KEY_CHARS + 1; i < 64; i++)
        assert_int_equal(buf[i], SENTINEL);
}

static void start_key_buffer_of_exactly_33(void **state)
{
    (void)state;
    WCHAR *key = IT_GUARDED((KEY_CHARS + 1) * sizeof(WCHAR));
    DWORD h;
    EXPECT_RC(ERROR_SUCCESS, RmStartSession(&h, 0, key));
    it_track(h);
    expect_key_format(key);
    it_guarded_free(key);
}

static void sessions_get_different_keys(void **state)
{
    (void)state;
    WCHAR k1[KEY_CHARS + 1], k2[KEY_CHARS + 1], k3[KEY_CHARS + 1];
    DWORD h1 = IT_START(k1), h2 = IT_START(k2), h3 = IT_START(k3);
    assert_int_not_equal(h1, h2);
    assert_int_not_equal(h2, h3);
    assert_int_not_equal(h1, h3);
    assert_memory_not_equal(k1, k2, sizeof k1);
    assert_memory_not_equal(k2, k3, sizeof k1);
    assert_memory_not_equal(k1, k3, sizeof k1);
    /* Ending one leaves the others alone, and a restarted session gets yet another key. */
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h2));
    it_forget(h2);
    DWORD h4 = IT_START(k2);
    assert_memory_not_equal(k1, k2, sizeof k1);
    assert_memory_not_equal(k3, k2, sizeof k1);
    EXPECT_COUNTS(h1, 0, 0, 0);
    EXPECT_COUNTS(h3, 0, 0, 0);
    EXPECT_COUNTS(h4, 0, 0, 0);
}

static void start_bad_arguments(void **state)
{
    (void)state;
    WCHAR key[64];
    DWORD h = 0xfeedfaceu;
    for (int i = 0; i < 64; i++)
        key[i] = SENTINEL;
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmStartSession(NULL, 0, key));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmStartSession(&h, 0, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmStartSession(&h, 1, key));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmStartSession(&h, 0x80000000u, key));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmStartSession(NULL, 1, NULL));
    assert_int_equal(h, 0xfeedfaceu);
    for (int i = 0; i < 64; i++)
        assert_int_equal(key[i], SENTINEL);
}

static void join_bad_arguments(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    DWORD h = IT_START(key), j = 0xfeedfaceu;
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmJoinSession(NULL, key));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmJoinSession(&j, NULL));
    assert_int_equal(j, 0xfeedfaceu);
    (void)h;
}

/* The key is read as exactly 33 units (_In_reads_(CCH_RM_SESSION_KEY+1)), good or bad. */
static void join_reads_at_most_33_units(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    DWORD h = IT_START(key), j;
    WCHAR *g = IT_GUARDED((KEY_CHARS + 1) * sizeof(WCHAR));

    memcpy(g, key, sizeof key);
    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&j, g));
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(j));

    memcpy(g, key, sizeof key);
    g[KEY_CHARS] = L'a'; /* 33 hex digits and no NUL inside the buffer */
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmJoinSession(&j, g));
    it_guarded_free(g);
    (void)h;
}

static void malformed_keys_are_bad_arguments(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1], bad[64];
    DWORD h = IT_START(key), j = 0xfeedfaceu;

    memcpy(bad, key, sizeof key);
    bad[KEY_CHARS - 1] = 0; /* 31 digits */
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmJoinSession(&j, bad));

    memcpy(bad, key, sizeof key);
    bad[KEY_CHARS] = L'0'; /* 33 digits */
    bad[KEY_CHARS + 1] = 0;
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmJoinSession(&j, bad));

    const WCHAR not_hex[] = {L'g', L' ', L'x', L'-', 0x0660 /* Arabic-Indic zero */, 0xff10 /* fullwidth 0 */};
    for (size_t k = 0; k < sizeof not_hex / sizeof *not_hex; k++) {
        memcpy(bad, key, sizeof key);
        bad[k * 5] = not_hex[k];
        EXPECT_RC(ERROR_BAD_ARGUMENTS, RmJoinSession(&j, bad));
    }
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmJoinSession(&j, L""));
    assert_int_equal(j, 0xfeedfaceu);
    (void)h;
}

static void wrong_and_stale_keys_conflict(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1], other[KEY_CHARS + 1];
    DWORD h = IT_START(key), j = 0xfeedfaceu;

    memcpy(other, key, sizeof key);
    other[7] = other[7] == L'0' ? L'1' : L'0';
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmJoinSession(&j, other));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmJoinSession(&j, L"00000000000000000000000000000000"));

    /* An ended session's key opens nothing, even though its slot may be free again. */
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
    it_forget(h);
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmJoinSession(&j, key));
    assert_int_equal(j, 0xfeedfaceu);
}

static void handle_dead_after_end(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    LPCWSTR files[] = {L"C:\\rm-it\\a.txt"};
    UINT needed = 0, n = 0;
    DWORD reasons = 0;
    uint32_t c[3];
    DWORD h = IT_START(key), j;

    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&j, key)); /* joined in-process: another handle */
    it_track(j);
    assert_int_not_equal(h, j);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
    it_forget(h);
    EXPECT_RC(ERROR_INVALID_HANDLE, RmEndSession(h));
    EXPECT_RC(ERROR_INVALID_HANDLE, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_INVALID_HANDLE, RmGetList(h, &needed, &n, NULL, &reasons));
    assert_int_equal(rm_session_counts(h, c), ERROR_INVALID_HANDLE);
    /* The owner ended it for everyone. */
    EXPECT_RC(ERROR_INVALID_HANDLE, RmRegisterResources(j, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_INVALID_HANDLE, RmEndSession(j));
    it_forget(j);
}

static void member_end_only_leaves(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    LPCWSTR files[] = {L"C:\\rm-it\\a.txt", L"C:\\rm-it\\b.txt"};
    DWORD h = IT_START(key), j;
    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&j, key));
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(j, 2, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(j));
    EXPECT_RC(ERROR_INVALID_HANDLE, RmEndSession(j));
    /* What the member registered stays with the session. */
    EXPECT_COUNTS(h, 2, 0, 0);
    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&j, key));
    it_track(j);
    EXPECT_COUNTS(j, 2, 0, 0);
}

static void bogus_handles(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    LPCWSTR files[] = {L"C:\\rm-it\\a.txt"};
    UINT needed, n = 0;
    DWORD reasons, cb;
    DWORD h = IT_START(key);
    const DWORD bogus[] = {0, 0xffffffffu, h + 1, h ^ 0x00010000u, h ^ 0x40u, 12345};
    for (size_t i = 0; i < sizeof bogus / sizeof *bogus; i++) {
        DWORD b = bogus[i];
        RM_UNIQUE_PROCESS p = it_self_process();
        EXPECT_RC(ERROR_INVALID_HANDLE, RmRegisterResources(b, 1, files, 0, NULL, 0, NULL));
        EXPECT_RC(ERROR_INVALID_HANDLE, RmGetList(b, &needed, &n, NULL, &reasons));
        EXPECT_RC(ERROR_INVALID_HANDLE, RmShutdown(b, 0, NULL));
        EXPECT_RC(ERROR_INVALID_HANDLE, RmRestart(b, 0, NULL));
        EXPECT_RC(ERROR_INVALID_HANDLE, RmCancelCurrentTask(b));
        EXPECT_RC(ERROR_INVALID_HANDLE, RmAddFilter(b, NULL, &p, NULL, RmNoRestart));
        EXPECT_RC(ERROR_INVALID_HANDLE, RmRemoveFilter(b, NULL, &p, NULL));
        EXPECT_RC(ERROR_INVALID_HANDLE, RmGetFilterList(b, NULL, 0, &cb));
        EXPECT_RC(ERROR_INVALID_HANDLE, RmEndSession(b));
    }
    EXPECT_COUNTS(h, 0, 0, 0); /* nothing reached the real session */
}

/* ---- the other exports: handles, roles, arguments -------------------------------------------- */

static void other_exports_owner(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    DWORD h = IT_START(key);
    UINT needed = 77, n = 0;
    DWORD reasons = 77, cb = 77;
    RM_PROCESS_INFO apps[2];
    BYTE buf[256];
    RM_UNIQUE_PROCESS p = it_self_process();

    /* Landed: an empty session affects nobody; a cancel request is merely recorded. */
    EXPECT_RC(ERROR_SUCCESS, RmGetList(h, &needed, &n, NULL, &reasons));
    assert_int_equal(needed, 0);
    assert_int_equal(n, 0);
    assert_int_equal(reasons, RmRebootReasonNone);
    n = 2;
    EXPECT_RC(ERROR_SUCCESS, RmGetList(h, &needed, &n, apps, &reasons));
    assert_int_equal(n, 0);
    EXPECT_RC(ERROR_SUCCESS, RmCancelCurrentTask(h));

    /* RmRestart is out of sequence until RmShutdown ran; shutting down nobody succeeds. */
    EXPECT_RC(ERROR_REQUEST_OUT_OF_SEQUENCE, RmRestart(h, 0, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, RmForceShutdown, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, RmShutdownOnlyRegistered, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, RmForceShutdown | RmShutdownOnlyRegistered, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmRestart(h, 0, NULL));

    /* Filters: each kind of target can be set and removed; removing twice finds nothing. */
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, L"C:\\rm-it\\app.exe", NULL, NULL, RmNoRestart));
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, NULL, &p, NULL, RmNoShutdown));
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, NULL, NULL, L"Spooler", RmNoRestart));
    EXPECT_RC(ERROR_MORE_DATA, RmGetFilterList(h, NULL, 0, &cb));
    assert_true(cb >= 3 * sizeof(RM_FILTER_INFO));
    EXPECT_RC(ERROR_SUCCESS, RmGetFilterList(h, buf, sizeof buf, &cb));
    EXPECT_RC(ERROR_SUCCESS, RmRemoveFilter(h, L"C:\\rm-it\\app.exe", NULL, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmRemoveFilter(h, NULL, &p, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmRemoveFilter(h, NULL, NULL, L"spooler"));
    EXPECT_RC(ERROR_FILE_NOT_FOUND, RmRemoveFilter(h, NULL, NULL, L"Spooler"));
    EXPECT_RC(ERROR_SUCCESS, RmGetFilterList(h, NULL, 0, &cb));
    assert_int_equal(cb, 0);
    /* None of them registered anything. */
    EXPECT_COUNTS(h, 0, 0, 0);
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
    it_forget(h);
}

static void other_exports_bad_arguments(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    DWORD h = IT_START(key);
    UINT needed, n = 0;
    DWORD reasons, cb;
    BYTE buf[16];
    RM_UNIQUE_PROCESS p = it_self_process();
    const WCHAR *mod = L"C:\\rm-it\\app.exe", *svc = L"Spooler";

    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmGetList(h, NULL, &n, NULL, &reasons));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmGetList(h, &needed, NULL, NULL, &reasons));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmGetList(h, &needed, &n, NULL, NULL));
    n = 3; /* room claimed for three entries, but no array */
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmGetList(h, &needed, &n, NULL, &reasons));

    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmShutdown(h, 0x2, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmShutdown(h, 0x100, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmShutdown(h, RmForceShutdown | 0x80000000u, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRestart(h, 1, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRestart(h, 0x80000000u, NULL));

    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, NULL, NULL, NULL, RmNoRestart));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, mod, &p, NULL, RmNoRestart));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, mod, NULL, svc, RmNoShutdown));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, NULL, &p, svc, RmNoShutdown));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, mod, &p, svc, RmNoShutdown));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, mod, NULL, NULL, RmInvalidFilterAction));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, mod, NULL, NULL, (RM_FILTER_ACTION)3));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, mod, NULL, NULL, (RM_FILTER_ACTION)-1));

    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRemoveFilter(h, NULL, NULL, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRemoveFilter(h, mod, &p, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRemoveFilter(h, mod, &p, svc));

    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmGetFilterList(h, NULL, 0, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmGetFilterList(h, buf, sizeof buf, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmGetFilterList(h, NULL, 16, &cb));
    EXPECT_COUNTS(h, 0, 0, 0);
}

static void other_exports_member_in_process(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    DWORD h = IT_START(key), j;
    UINT needed, n = 0;
    DWORD reasons, cb;
    RM_UNIQUE_PROCESS p = it_self_process();

    /* Joining our own session still makes a member, not a second owner. */
    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&j, key));
    it_track(j);
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmGetList(j, &needed, &n, NULL, &reasons));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmShutdown(j, 0, NULL));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmRestart(j, 0, NULL));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmCancelCurrentTask(j));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmAddFilter(j, NULL, &p, NULL, RmNoRestart));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmRemoveFilter(j, NULL, &p, NULL));
    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmGetFilterList(j, NULL, 0, &cb));
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(j, 0, NULL, 1, &p, 0, NULL));
    EXPECT_COUNTS(h, 0, 1, 0);
    /* The owner's handle keeps its role. */
    EXPECT_RC(ERROR_SUCCESS, RmCancelCurrentTask(h));
}

static void reserve_heap(void **state)
{
    (void)state;
    EXPECT_RC(ERROR_SUCCESS, RmReserveHeap(0));
    EXPECT_RC(ERROR_SUCCESS, RmReserveHeap(0x10000));
}

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        IT_TEST(start_writes_key_exactly),
        IT_TEST(start_key_buffer_of_exactly_33),
        IT_TEST(sessions_get_different_keys),
        IT_TEST(start_bad_arguments),
        IT_TEST(join_bad_arguments),
        IT_TEST(join_reads_at_most_33_units),
        IT_TEST(malformed_keys_are_bad_arguments),
        IT_TEST(wrong_and_stale_keys_conflict),
        IT_TEST(handle_dead_after_end),
        IT_TEST(member_end_only_leaves),
        IT_TEST(bogus_handles),
        IT_TEST(other_exports_owner),
        IT_TEST(other_exports_bad_arguments),
        IT_TEST(other_exports_member_in_process),
        IT_TEST(reserve_heap),
    };
    return cmocka_run_group_tests_name("integration.session", tests, NULL, NULL);
}
