/*
 * 64 live sessions per user, and slots coming back when their owner dies without RmEndSession:
 * an installer that crashed or was killed must not use up the machine's sessions for good,
 * while a live owner's sessions are never taken from it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "it.h"

#include <string.h>
#include <wchar.h>

const char it_program[] = "limits";

#define KEY_CHARS ((int)CCH_RM_SESSION_KEY)
#define MAX_SESSIONS 64

static DWORD handles[MAX_SESSIONS + 1];
static WCHAR keys[MAX_SESSIONS + 1][KEY_CHARS + 1];

/* Where a child leaves the key of its first session for the parent. */
static WCHAR *shared_key(HANDLE *mapping)
{
    WCHAR name[256];
    _snwprintf(name, 256, L"Local\\%ls.it.key", it_prefix);
    name[255] = 0;
    *mapping = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, name);
    assert_non_null(*mapping);
    WCHAR *view = MapViewOfFile(*mapping, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 4096);
    assert_non_null(view);
    return view;
}

static void start_many(int n, DWORD *out, WCHAR (*out_keys)[KEY_CHARS + 1], int track)
{
    for (int i = 0; i < n; i++) {
        DWORD h = 0xfeedfaceu;
        DWORD err = IT_CALL(RmStartSession(&h, 0, out_keys[i]));
        if (err != ERROR_SUCCESS) {
            /* Which one failed, and how, is the whole diagnosis. */
            print_error("session %d of %d: RmStartSession returned %lu\n", i + 1, n, err);
            fail();
        }
        out[i] = h;
        if (track)
            it_track(h);
    }
}

static void expect_full(void)
{
    WCHAR key[64];
    DWORD h = 0xfeedfaceu;
    for (int i = 0; i < 64; i++)
        key[i] = 0xcccc;
    EXPECT_RC(ERROR_MAX_SESSIONS_REACHED, RmStartSession(&h, 0, key));
    assert_int_equal(h, 0xfeedfaceu);
}

/* ---- children ----------------------------------------------------------------------------- */

/* args: n. Starts n sessions, publishes the first key, then waits to be released or killed.
 * It never ends its sessions: that is the point. */
static void child_start_and_wait(void **state)
{
    (void)state;
    int n = (int)it_arg_u32(0);
    HANDLE started = it_event(L"started"), release = it_event(L"release"), mapping;
    WCHAR *key_out = shared_key(&mapping);
    start_many(n, handles, keys, 0);
    memcpy(key_out, keys[0], sizeof keys[0]);
    SetEvent(started);
    IT_WAIT_EVENT(release, NULL);
}

const struct it_role it_roles[] = {
    {L"start-and-wait", child_start_and_wait},
    {NULL, NULL},
};

/* ---- parent --------------------------------------------------------------------------------- */

static void sixty_four_then_refused(void **state)
{
    (void)state;
    start_many(MAX_SESSIONS, handles, keys, 1);
    for (int i = 0; i < MAX_SESSIONS; i++)
        for (int k = i + 1; k < MAX_SESSIONS; k++) {
            assert_int_not_equal(handles[i], handles[k]);
            assert_memory_not_equal(keys[i], keys[k], sizeof keys[i]);
        }
    expect_full();
    expect_full();

    /* Ending any one frees exactly one slot. */
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(handles[17]));
    it_forget(handles[17]);
    start_many(1, &handles[17], &keys[17], 1);
    expect_full();

    /* A member joining does not need a slot of its own, and its leaving frees none. */
    DWORD j;
    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&j, keys[3]));
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(j));
    expect_full();

    for (int i = 0; i < MAX_SESSIONS; i++) {
        EXPECT_RC(ERROR_SUCCESS, RmEndSession(handles[i]));
        it_forget(handles[i]);
    }
    start_many(MAX_SESSIONS, handles, keys, 1);
    expect_full();
}

/* Address space this process has reserved for mapped views (MEM_MAPPED). */
static uint64_t mapped_bytes(void)
{
    MEMORY_BASIC_INFORMATION m;
    uint64_t total = 0;
    for (ULONG_PTR at = 0; VirtualQuery((void *)at, &m, sizeof m); at = (ULONG_PTR)m.BaseAddress + m.RegionSize) {
        if (m.Type == MEM_MAPPED)
            total += m.RegionSize;
        if ((ULONG_PTR)m.BaseAddress + m.RegionSize <= at)
            break;
    }
    return total;
}

/* Every session's registrations live in a data section of its own, with 128 MiB of address
 * space reserved for it. 64 of them kept mapped would need 8 GiB: more than a 32-bit installer
 * has. So one process must be able to hold and use all 64 at once, with no view left behind
 * between calls. On x64 the same holds; only on x86 would kept views also run out. */
static void sixty_four_sessions_with_registrations_fit_one_process(void **state)
{
    (void)state;
    uint64_t before = mapped_bytes();
    start_many(MAX_SESSIONS, handles, keys, 1);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < MAX_SESSIONS; i++) {
            WCHAR path[64];
            _snwprintf(path, 64, L"C:\\rm-it\\limits-%d-%d.txt", i, pass);
            path[63] = 0;
            LPCWSTR files[] = {path};
            EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(handles[i], 1, files, 0, NULL, 0, NULL));
        }
    for (int i = 0; i < MAX_SESSIONS; i++)
        EXPECT_COUNTS(handles[i], 2, 0, 0);
    uint64_t after = mapped_bytes();
    print_message("mapped views: %llu KiB before, %llu KiB after 64 sessions with registrations\n",
                  (unsigned long long)(before / 1024), (unsigned long long)(after / 1024));
    /* Not even one session's reservation stays mapped. */
    assert_true(after < before + 128ull * 1024 * 1024);
    for (int i = 0; i < MAX_SESSIONS; i++) {
        EXPECT_RC(ERROR_SUCCESS, RmEndSession(handles[i]));
        it_forget(handles[i]);
    }
}

/* A live child's sessions count against the limit; when it exits without ending them, or is
 * killed, they come back. */
static void dead_owners_slots_reclaimed(int child_sessions, int kill)
{
    HANDLE started = it_event(L"started"), release = it_event(L"release");
    ResetEvent(started);
    ResetEvent(release);
    HANDLE c = IT_SPAWN(L"start-and-wait", NULL, L"%d", child_sessions);
    IT_WAIT_EVENT(started, c);

    int mine = MAX_SESSIONS - child_sessions;
    start_many(mine, handles, keys, 1);
    expect_full(); /* nothing of a live owner's was taken */

    if (kill)
        IT_KILL(c);
    else {
        SetEvent(release);
        EXPECT_CHILD_OK(c);
    }
    start_many(child_sessions, handles + mine, keys + mine, 1);
    expect_full();
    CloseHandle(started);
    CloseHandle(release);
}

static void exited_owner_slots_reclaimed(void **state)
{
    (void)state;
    dead_owners_slots_reclaimed(40, 0);
}

static void killed_owner_slots_reclaimed(void **state)
{
    (void)state;
    dead_owners_slots_reclaimed(24, 1);
}

/* A session ends with its owner: a member's handle and the key stop working. */
static void owner_death_ends_session(void **state)
{
    (void)state;
    HANDLE started = it_event(L"started"), release = it_event(L"release"), mapping;
    WCHAR *child_key = shared_key(&mapping), key[KEY_CHARS + 1];
    LPCWSTR files[] = {L"C:\\rm-it\\orphan.txt"};
    DWORD j, j2 = 0xfeedfaceu;
    ResetEvent(started);
    ResetEvent(release);
    memset(child_key, 0, 4096);

    HANDLE c = IT_SPAWN(L"start-and-wait", NULL, L"1");
    IT_WAIT_EVENT(started, c);
    memcpy(key, child_key, sizeof key);
    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&j, key));
    it_track(j);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(j, 1, files, 0, NULL, 0, NULL));
    IT_KILL(c);

    EXPECT_RC(ERROR_SESSION_CREDENTIAL_CONFLICT, RmJoinSession(&j2, key));
    assert_int_equal(j2, 0xfeedfaceu);
    EXPECT_RC(ERROR_INVALID_HANDLE, RmRegisterResources(j, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_INVALID_HANDLE, RmEndSession(j));
    it_forget(j);
    UnmapViewOfFile(child_key);
    CloseHandle(mapping);
    CloseHandle(started);
    CloseHandle(release);
}

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        IT_TEST(sixty_four_then_refused),
        IT_TEST(sixty_four_sessions_with_registrations_fit_one_process),
        IT_TEST(exited_owner_slots_reclaimed),
        IT_TEST(killed_owner_slots_reclaimed),
        IT_TEST(owner_death_ends_session),
    };
    return cmocka_run_group_tests_name("integration.limits", tests, NULL, NULL);
}
