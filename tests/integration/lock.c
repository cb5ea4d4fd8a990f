/*
 * The store lock between processes: a holder that does not let go costs a caller a bounded
 * wait and ERROR_SEM_TIMEOUT, never a hang; a holder that dies frees it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "it.h"

#include <string.h>

#include "session/session.h"
#include "session/store.h"

const char it_program[] = "lock";

#define KEY_CHARS ((int)CCH_RM_SESSION_KEY)

/* args: none. Takes the store lock and keeps it until released (or killed). */
static void child_hold_lock(void **state)
{
    (void)state;
    struct rm_store *st = NULL;
    HANDLE locked = it_event(L"locked"), release = it_event(L"release");
    assert_int_equal(rm_store_lock(&st), ERROR_SUCCESS);
    assert_non_null(st);
    SetEvent(locked);
    /* Long enough for every waiter to give up (each waits RM_LOCK_TIMEOUT_MS, a start twice). */
    DWORD w = WaitForSingleObject(release, 45000);
    rm_store_unlock();
    assert_int_equal(w, WAIT_OBJECT_0);
}

const struct it_role it_roles[] = {
    {L"hold-lock", child_hold_lock},
    {NULL, NULL},
};

/* ---- parent --------------------------------------------------------------------------------- */

enum op { OP_START, OP_REGISTER, OP_JOIN, OP_END, OP_GETLIST, OP_COUNTS, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"RmStartSession", "RmRegisterResources", "RmJoinSession",
                                               "RmEndSession", "RmGetList", "rm_session_counts"};

struct call {
    enum op op;
    DWORD handle;
    const WCHAR *key;
    DWORD rc, last_error, new_handle;
};

static DWORD WINAPI run_call(void *arg)
{
    struct call *c = arg;
    WCHAR key[KEY_CHARS + 1];
    LPCWSTR files[] = {L"C:\\rm-it\\while-locked.txt"};
    UINT needed, n = 0;
    DWORD reasons;
    uint32_t counts[3];
    c->new_handle = 0xfeedfaceu;
    SetLastError(IT_LAST_ERROR);
    switch (c->op) {
    case OP_START:
        c->rc = RmStartSession(&c->new_handle, 0, key);
        break;
    case OP_REGISTER:
        c->rc = RmRegisterResources(c->handle, 1, files, 0, NULL, 0, NULL);
        break;
    case OP_JOIN:
        c->rc = RmJoinSession(&c->new_handle, c->key);
        break;
    case OP_END:
        c->rc = RmEndSession(c->handle);
        break;
    case OP_GETLIST:
        c->rc = RmGetList(c->handle, &needed, &n, NULL, &reasons);
        break;
    default:
        c->rc = rm_session_counts(c->handle, counts);
        SetLastError(IT_LAST_ERROR); /* internal: only the exports promise to keep it */
        break;
    }
    c->last_error = GetLastError();
    return 0;
}

static void held_lock_times_out_then_clears(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1], key2[KEY_CHARS + 1];
    LPCWSTR first[] = {L"C:\\rm-it\\before.txt"}, locked_file[] = {L"C:\\rm-it\\while-locked.txt"};
    HANDLE locked = it_event(L"locked"), release = it_event(L"release");
    struct call calls[OP_COUNT];
    HANDLE threads[OP_COUNT];
    DWORD h = IT_START(key), j, code = 0;
    ResetEvent(locked);
    ResetEvent(release);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, first, 0, NULL, 0, NULL));

    HANDLE child = IT_SPAWN(L"hold-lock", NULL, L"");
    IT_WAIT_EVENT(locked, child);

    /* Every entry point that needs the store, at once: each gives up on its own. */
    for (int i = 0; i < OP_COUNT; i++) {
        calls[i] = (struct call){(enum op)i, h, key, 0, 0, 0};
        threads[i] = CreateThread(NULL, 0, run_call, &calls[i], 0, NULL);
        assert_non_null(threads[i]);
    }
    DWORD w = WaitForMultipleObjects(OP_COUNT, threads, TRUE, 30000);
    if (w != WAIT_OBJECT_0) {
        print_error("calls against a held lock did not return within 30 s\n");
        fail(); /* the threads are stuck in our process: nothing sane left to clean up */
    }
    for (int i = 0; i < OP_COUNT; i++) {
        CloseHandle(threads[i]);
        if (calls[i].rc != ERROR_SEM_TIMEOUT || calls[i].last_error != IT_LAST_ERROR) {
            print_error("%s under a held lock: returned %lu (expected %lu), last error 0x%08lx\n", op_names[i],
                        calls[i].rc, (unsigned long)ERROR_SEM_TIMEOUT, calls[i].last_error);
            fail();
        }
        assert_int_equal(calls[i].new_handle, 0xfeedfaceu);
    }
    /* The timeouts were the lock's doing: its holder is still there, holding it. */
    assert_true(GetExitCodeProcess(child, &code));
    assert_int_equal(code, STILL_ACTIVE);

    SetEvent(release);
    EXPECT_CHILD_OK(child);

    /* Nothing of the timed-out calls happened, and everything works again. */
    EXPECT_COUNTS(h, 1, 0, 0);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, locked_file, 0, NULL, 0, NULL));
    EXPECT_COUNTS(h, 2, 0, 0);
    DWORD h2 = IT_START(key2);
    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&j, key));
    EXPECT_COUNTS(j, 2, 0, 0);
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(j));
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
    it_forget(h);
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h2));
    it_forget(h2);
    CloseHandle(locked);
    CloseHandle(release);
}

/* A holder killed mid-update leaves an abandoned mutex: the next caller takes it over and the
 * store's validation, not the dead holder, decides whether it can be used. */
static void abandoned_lock_recovered(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1], key2[KEY_CHARS + 1];
    LPCWSTR files[] = {L"C:\\rm-it\\after-death.txt"};
    HANDLE locked = it_event(L"locked");
    ResetEvent(locked);
    DWORD h = IT_START(key);

    HANDLE child = IT_SPAWN(L"hold-lock", NULL, L"");
    IT_WAIT_EVENT(locked, child);
    IT_KILL(child);

    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_COUNTS(h, 1, 0, 0);
    IT_START(key2);
    CloseHandle(locked);
}

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        IT_TEST(held_lock_times_out_then_clears),
        IT_TEST(abandoned_lock_recovered),
    };
    return cmocka_run_group_tests_name("integration.lock", tests, NULL, NULL);
}
