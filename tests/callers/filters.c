/*
 * RmAddFilter, RmRemoveFilter, RmGetFilterList through the shipped DLL (spec §3.9-3.11), and
 * what filters do to RmShutdown and RmRestart against real apps (tests/helpers/rmapp).
 *
 * SPDX-License-Identifier: MIT
 */
#include "ch.h"

#include <stdio.h>
#include <wchar.h>

const char ch_program[] = "filters";
const struct ch_role ch_roles[] = {{NULL, NULL}};

static WCHAR rmappw[MAX_PATH];

#define SVC L"rstrtmgr-callers-filter-svc"

static void self_exe(WCHAR out[MAX_PATH])
{
    GetModuleFileNameW(NULL, out, MAX_PATH);
}

/* A buffer whose end touches a no-access page: a write past it crashes the test. */
static BYTE *guarded(size_t bytes)
{
    size_t pages = (bytes + 4095) / 4096;
    BYTE *base = VirtualAlloc(NULL, (pages + 1) * 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    DWORD old;
    assert_non_null(base);
    assert_true(VirtualProtect(base + pages * 4096, 4096, PAGE_NOACCESS, &old));
    memset(base, 0xa5, pages * 4096);
    return base + pages * 4096 - bytes;
}

static void guarded_free(void *p)
{
    MEMORY_BASIC_INFORMATION mbi;
    if (p && VirtualQuery(p, &mbi, sizeof mbi))
        VirtualFree(mbi.AllocationBase, 0, MEM_RELEASE);
}

/* Fetches the list into a guarded buffer of exactly the size asked for. */
static BYTE *filter_list(DWORD h, DWORD *size)
{
    DWORD need = 0xdeadbeefu;
    DWORD rc = CH_CALL(RmGetFilterList(h, NULL, 0, &need));
    assert_int_equal(GetLastError(), CH_LAST_ERROR);
    if (rc == ERROR_SUCCESS) {
        assert_int_equal(need, 0);
        *size = 0;
        return NULL;
    }
    assert_int_equal(rc, ERROR_MORE_DATA);
    assert_true(need > 0 && need < 65536);
    BYTE *buf = guarded(need);
    DWORD need2 = 0;
    EXPECT_RC(ERROR_SUCCESS, RmGetFilterList(h, buf, need, &need2));
    assert_int_equal(need2, need);
    *size = need;
    return buf;
}

struct record {
    RM_FILTER_ACTION action;
    RM_FILTER_TRIGGER trigger;
    const WCHAR *text;
    RM_UNIQUE_PROCESS process;
};

/* Walks the chain as a caller does; checks that the strings live inside the buffer and that
 * the size asked for is exactly records plus strings. Returns the number of records. */
static int walk(const BYTE *buf, DWORD size, struct record *out, int max)
{
    int n = 0;
    DWORD at = 0, strings = 0;
    /* The records are 24 bytes on x86 and 32 on x64 (the union holds a pointer): each suite
     * checks its own DLL's buffer against its own size. */
    assert_int_equal(sizeof(RM_FILTER_INFO), sizeof(void *) == 4 ? 24 : 32);
    if (!buf)
        return 0;
    for (;;) {
        assert_true(at + sizeof(RM_FILTER_INFO) <= size);
        const RM_FILTER_INFO *r = (const RM_FILTER_INFO *)(buf + at);
        assert_true(n < max);
        out[n].action = r->FilterAction;
        out[n].trigger = r->FilterTrigger;
        out[n].text = NULL;
        if (r->FilterTrigger == RmFilterTriggerProcess)
            out[n].process = r->Process;
        else {
            assert_true(r->FilterTrigger == RmFilterTriggerFile || r->FilterTrigger == RmFilterTriggerService);
            const BYTE *s = (const BYTE *)r->strFilename;
            assert_true(s >= buf + sizeof(RM_FILTER_INFO) && s < buf + size);
            size_t room = (size_t)(buf + size - s) / sizeof(WCHAR);
            size_t len = wcsnlen((const WCHAR *)s, room);
            assert_true(len < room); /* NUL-terminated inside the buffer */
            out[n].text = (const WCHAR *)s;
            strings += (DWORD)((len + 1) * sizeof(WCHAR));
        }
        n++;
        if (!r->cbNextOffset)
            break;
        at += r->cbNextOffset;
    }
    assert_int_equal(size, n * sizeof(RM_FILTER_INFO) + strings);
    return n;
}

/* ---- argument rules -------------------------------------------------------------------------- */

static void exactly_one_target_and_a_known_action(void **state)
{
    (void)state;
    WCHAR exe[MAX_PATH];
    self_exe(exe);
    RM_UNIQUE_PROCESS me = rm_test_unique(GetCurrentProcess());
    DWORD h = CH_START(NULL);

    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, NULL, NULL, NULL, RmNoRestart));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, exe, &me, NULL, RmNoRestart));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, exe, NULL, SVC, RmNoRestart));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, NULL, &me, SVC, RmNoShutdown));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, exe, &me, SVC, RmNoShutdown));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, exe, NULL, NULL, RmInvalidFilterAction));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, exe, NULL, NULL, (RM_FILTER_ACTION)3));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmAddFilter(h, NULL, &me, NULL, (RM_FILTER_ACTION)-1));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRemoveFilter(h, NULL, NULL, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRemoveFilter(h, exe, &me, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRemoveFilter(h, exe, &me, SVC));
    /* None of the rejected calls left a filter behind. */
    DWORD need = 0xdeadbeefu;
    EXPECT_RC(ERROR_SUCCESS, RmGetFilterList(h, NULL, 0, &need));
    assert_int_equal(need, 0);

    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, exe, NULL, NULL, RmNoRestart));
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, NULL, &me, NULL, RmNoShutdown));
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, NULL, NULL, SVC, RmNoShutdown));
    CH_END(h);

    /* A dead handle. */
    EXPECT_RC(ERROR_INVALID_HANDLE, RmAddFilter(h, exe, NULL, NULL, RmNoRestart));
    EXPECT_RC(ERROR_INVALID_HANDLE, RmRemoveFilter(h, exe, NULL, NULL));
    EXPECT_RC(ERROR_INVALID_HANDLE, RmGetFilterList(h, NULL, 0, &need));
}

static void newer_filter_replaces_older(void **state)
{
    (void)state;
    WCHAR exe[MAX_PATH];
    struct record r[8];
    DWORD size;
    self_exe(exe);
    RM_UNIQUE_PROCESS me = rm_test_unique(GetCurrentProcess());
    DWORD h = CH_START(NULL);

    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, exe, NULL, NULL, RmNoRestart));
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, exe, NULL, NULL, RmNoShutdown));
    BYTE *buf = filter_list(h, &size);
    assert_int_equal(walk(buf, size, r, 8), 1);
    assert_int_equal(r[0].trigger, RmFilterTriggerFile);
    assert_int_equal(r[0].action, RmNoShutdown);
    assert_int_equal(_wcsicmp(r[0].text, exe), 0);
    guarded_free(buf);

    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, NULL, &me, NULL, RmNoShutdown));
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, NULL, &me, NULL, RmNoRestart));
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, NULL, NULL, SVC, RmNoRestart));
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, NULL, NULL, SVC, RmNoShutdown));
    buf = filter_list(h, &size);
    assert_int_equal(walk(buf, size, r, 8), 3);
    int seen_file = 0, seen_proc = 0, seen_svc = 0;
    for (int i = 0; i < 3; i++)
        switch (r[i].trigger) {
        case RmFilterTriggerFile:
            seen_file++;
            assert_int_equal(r[i].action, RmNoShutdown);
            break;
        case RmFilterTriggerProcess:
            seen_proc++;
            assert_int_equal(r[i].action, RmNoRestart);
            assert_int_equal(r[i].process.dwProcessId, me.dwProcessId);
            assert_memory_equal(&r[i].process.ProcessStartTime, &me.ProcessStartTime, sizeof(FILETIME));
            break;
        case RmFilterTriggerService:
            seen_svc++;
            assert_int_equal(r[i].action, RmNoShutdown);
            assert_int_equal(_wcsicmp(r[i].text, SVC), 0);
            break;
        default:
            fail();
        }
    assert_true(seen_file == 1 && seen_proc == 1 && seen_svc == 1);
    guarded_free(buf);
    CH_END(h);
}

static void remove_absent_is_file_not_found(void **state)
{
    (void)state;
    WCHAR exe[MAX_PATH];
    struct record r[8] = {0};
    DWORD size;
    self_exe(exe);
    RM_UNIQUE_PROCESS me = rm_test_unique(GetCurrentProcess());
    DWORD h = CH_START(NULL);

    EXPECT_RC(ERROR_FILE_NOT_FOUND, RmRemoveFilter(h, exe, NULL, NULL));
    EXPECT_RC(ERROR_FILE_NOT_FOUND, RmRemoveFilter(h, NULL, &me, NULL));
    EXPECT_RC(ERROR_FILE_NOT_FOUND, RmRemoveFilter(h, NULL, NULL, SVC));

    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, exe, NULL, NULL, RmNoRestart));
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, NULL, &me, NULL, RmNoRestart));
    /* A filter on another target of the same kind is not this one. */
    RM_UNIQUE_PROCESS other = me;
    other.ProcessStartTime.dwLowDateTime ^= 1;
    EXPECT_RC(ERROR_FILE_NOT_FOUND, RmRemoveFilter(h, NULL, &other, NULL));
    EXPECT_RC(ERROR_FILE_NOT_FOUND, RmRemoveFilter(h, NULL, NULL, SVC));

    EXPECT_RC(ERROR_SUCCESS, RmRemoveFilter(h, NULL, &me, NULL));
    EXPECT_RC(ERROR_FILE_NOT_FOUND, RmRemoveFilter(h, NULL, &me, NULL));
    BYTE *buf = filter_list(h, &size);
    assert_int_equal(walk(buf, size, r, 8), 1);
    assert_int_equal(r[0].trigger, RmFilterTriggerFile);
    guarded_free(buf);
    EXPECT_RC(ERROR_SUCCESS, RmRemoveFilter(h, exe, NULL, NULL));
    EXPECT_RC(ERROR_FILE_NOT_FOUND, RmRemoveFilter(h, exe, NULL, NULL));
    assert_null(filter_list(h, &size));
    CH_END(h);
}

static void filter_list_sizes_exactly(void **state)
{
    (void)state;
    WCHAR exe[MAX_PATH];
    struct record r[8];
    self_exe(exe);
    RM_UNIQUE_PROCESS me = rm_test_unique(GetCurrentProcess());
    DWORD h = CH_START(NULL);

    /* Empty: success and 0, with or without a buffer. */
    DWORD need = 0xdeadbeefu;
    BYTE small[8];
    EXPECT_RC(ERROR_SUCCESS, RmGetFilterList(h, NULL, 0, &need));
    assert_int_equal(need, 0);
    need = 0xdeadbeefu;
    EXPECT_RC(ERROR_SUCCESS, RmGetFilterList(h, small, sizeof small, &need));
    assert_int_equal(need, 0);

    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, exe, NULL, NULL, RmNoRestart));
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, NULL, &me, NULL, RmNoShutdown));
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, NULL, NULL, SVC, RmNoShutdown));

    need = 0;
    EXPECT_RC(ERROR_MORE_DATA, RmGetFilterList(h, NULL, 0, &need));
    DWORD exact = need;
    /* At least the records and the two strings as given (normalising may lengthen a path,
     * never shorten it below the name itself). */
    assert_true(exact >= 3 * sizeof(RM_FILTER_INFO) + (wcslen(SVC) + 1) * sizeof(WCHAR));
    /* Short buffers, down to a single byte: ERROR_MORE_DATA, the same count, and nothing
     * written past the end (the guard page would fault). */
    DWORD shorts[] = {1, sizeof(RM_FILTER_INFO), 3 * sizeof(RM_FILTER_INFO), exact - 2, exact - 1};
    for (size_t i = 0; i < sizeof shorts / sizeof shorts[0]; i++) {
        BYTE *b = guarded(shorts[i]);
        need = 0;
        EXPECT_RC(ERROR_MORE_DATA, RmGetFilterList(h, b, shorts[i], &need));
        assert_int_equal(need, exact);
        guarded_free(b);
    }
    /* A size given with no buffer is not room. */
    need = 0;
    DWORD rc = CH_CALL(RmGetFilterList(h, NULL, exact, &need));
    assert_true(rc == ERROR_MORE_DATA || rc == ERROR_BAD_ARGUMENTS);

    /* Exactly enough, and more than enough: the same chain, strings inside the buffer. */
    BYTE *b = guarded(exact);
    need = 0;
    EXPECT_RC(ERROR_SUCCESS, RmGetFilterList(h, b, exact, &need));
    assert_int_equal(need, exact);
    assert_int_equal(walk(b, exact, r, 8), 3);
    guarded_free(b);
    b = guarded(exact + 100);
    need = 0;
    EXPECT_RC(ERROR_SUCCESS, RmGetFilterList(h, b, exact + 100, &need));
    assert_int_equal(need, exact);
    assert_int_equal(walk(b, exact, r, 8), 3);
    int file = 0;
    for (int i = 0; i < 3; i++)
        if (r[i].trigger == RmFilterTriggerFile)
            file = _wcsicmp(r[i].text, exe) == 0;
    assert_true(file);
    guarded_free(b);
    CH_END(h);
}

/* ---- what filters do ----------------------------------------------------------------------------- */

static HANDLE holder(const WCHAR *exe, const WCHAR *dir, const WCHAR *leaf, WCHAR file[MAX_PATH], HANDLE *ready)
{
    ch_path(file, dir, leaf);
    return CH_LAUNCH(exe, ready, L"--gui \"%ls\" --hold \"%ls\"", leaf, file);
}

static void no_shutdown_keeps_app_running(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f1[MAX_PATH], f2[MAX_PATH];
    struct ch_list l;
    ch_set_hung_app_timeout(1000);
    ch_make_dir(L"noshutdown", dir);
    HANDLE kept = holder(rmappw, dir, L"kept.dat", f1, NULL);
    HANDLE gone = holder(rmappw, dir, L"gone.dat", f2, NULL);
    RM_UNIQUE_PROCESS k = rm_test_unique(kept);
    DWORD h = CH_START(NULL);
    LPCWSTR files[] = {f1, f2};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 2, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, NULL, &k, NULL, RmNoShutdown));

    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    assert_int_equal(WaitForSingleObject(gone, 10000), WAIT_OBJECT_0);
    assert_true(ch_alive(kept));
    CH_LIST(h, &l);
    const RM_PROCESS_INFO *e = ch_find(&l, k.dwProcessId);
    if (!e) {
        ch_dump(&l);
        fail_msg("the filtered app is not listed after RmShutdown");
    }
    assert_true(e->AppStatus & RmStatusShutdownMasked);
    assert_false(e->AppStatus & RmStatusStopped);

    /* Not stopped, so not restarted either: the very same process still runs. */
    DWORD rc = CH_CALL(RmRestart(h, 0, NULL));
    assert_true(rc == ERROR_SUCCESS || rc == ERROR_FAIL_RESTART);
    assert_true(ch_alive(kept));
    CH_END(h);
}

static void no_restart_stops_but_does_not_restart(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f1[MAX_PATH], f2[MAX_PATH];
    HANDLE ready1, ready2;
    struct ch_list l;
    ch_set_hung_app_timeout(1000);
    ch_make_dir(L"norestart", dir);
    HANDLE masked = holder(rmappw, dir, L"masked.dat", f1, &ready1);
    HANDLE other = holder(rmappw, dir, L"other.dat", f2, &ready2);
    RM_UNIQUE_PROCESS m = rm_test_unique(masked);
    DWORD h = CH_START(NULL);
    LPCWSTR files[] = {f1, f2};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 2, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, NULL, &m, NULL, RmNoRestart));

    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    assert_int_equal(WaitForSingleObject(masked, 10000), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(other, 10000), WAIT_OBJECT_0);
    CH_LIST(h, &l);
    const RM_PROCESS_INFO *e = ch_find(&l, m.dwProcessId);
    if (!e) {
        ch_dump(&l);
        fail_msg("the stopped, restart-masked app is not listed");
    }
    assert_true(e->AppStatus & RmStatusStopped);
    assert_true(e->AppStatus & RmStatusRestartMasked);

    EXPECT_RC(ERROR_SUCCESS, RmRestart(h, 0, NULL));
    /* The unfiltered app comes back (its copy signals the same ready event); by then the
     * masked one would have too. */
    CH_WAIT_EVENT(ready2, NULL);
    assert_int_equal(WaitForSingleObject(ready1, 1000), WAIT_TIMEOUT);
    CH_LIST(h, &l);
    e = ch_find(&l, m.dwProcessId);
    assert_non_null(e);
    assert_true(e->AppStatus & RmStatusRestartMasked);
    assert_false(e->AppStatus & RmStatusRestarted);
    CloseHandle(ready1);
    CloseHandle(ready2);
    CH_END(h);
}

/* The filter names the executable in another spelling than the system reports: upper case,
 * with a ".\" step, and as a \\?\ path. Each names its own copy of the program, so one
 * shutdown tells all three apart from an unfiltered app. */
static void path_filter_matches_other_spellings(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], exe[3][MAX_PATH], spelled[3][MAX_PATH + 8], f[4][MAX_PATH];
    static const WCHAR *const names[3] = {L"upper.exe", L"dotted.exe", L"prefixed.exe"};
    HANDLE app[4];
    struct ch_list l;
    ch_set_hung_app_timeout(1000);
    ch_make_dir(L"spelling", dir);
    for (int i = 0; i < 3; i++) {
        ch_path(exe[i], dir, names[i]);
        assert_true(CopyFileW(rmappw, exe[i], FALSE));
    }
    wcscpy(spelled[0], exe[0]);
    _wcsupr(spelled[0]);
    _snwprintf(spelled[1], MAX_PATH + 8, L"%ls\\.\\%ls", dir, names[1]);
    _snwprintf(spelled[2], MAX_PATH + 8, L"\\\\?\\%ls", exe[2]);
    for (int i = 0; i < 3; i++) {
        WCHAR leaf[32];
        _snwprintf(leaf, 32, L"held%d.dat", i);
        app[i] = holder(exe[i], dir, leaf, f[i], NULL);
    }
    app[3] = holder(rmappw, dir, L"held3.dat", f[3], NULL);

    DWORD h = CH_START(NULL);
    LPCWSTR files[] = {f[0], f[1], f[2], f[3]};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 4, files, 0, NULL, 0, NULL));
    for (int i = 0; i < 3; i++)
        EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, spelled[i], NULL, NULL, RmNoShutdown));
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    assert_int_equal(WaitForSingleObject(app[3], 10000), WAIT_OBJECT_0);
    CH_LIST(h, &l);
    for (int i = 0; i < 3; i++) {
        const RM_PROCESS_INFO *e = ch_find(&l, GetProcessId(app[i]));
        if (!ch_alive(app[i]) || !e || !(e->AppStatus & RmStatusShutdownMasked)) {
            ch_dump(&l);
            fail_msg("filter \"%ls\" did not keep %ls running", spelled[i], names[i]);
        }
    }
    CH_END(h);
}

/* A service filter names the service by its short name, in any case; the service keeps
 * running while the app beside it is stopped. */
static void service_filter_keeps_service_running(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], f[MAX_PATH], svcfile[MAX_PATH], name[64], upper[64], ready[128], cmd[1024], rmapp[MAX_PATH];
    struct ch_list l;
    ch_set_hung_app_timeout(1000);
    ch_helper_path(L"rmapp.exe", rmapp);
    ch_make_dir(L"service", dir);
    ch_path(svcfile, dir, L"service.dat");
    HANDLE app = holder(rmappw, dir, L"app.dat", f, NULL);
    _snwprintf(name, 64, L"rstrtmgr-callers-filter-%lu", GetCurrentProcessId());
    name[63] = 0;
    wcscpy(upper, name);
    _wcsupr(upper);
    HANDLE svc_ready = ch_event(L"service");
    ch_event_name(L"service", ready);
    _snwprintf(cmd, 1024, L"\"%ls\" --service %ls --hold \"%ls\" --ready %ls", rmapp, name, svcfile, ready);
    cmd[1023] = 0;
    DWORD pid = CH_SERVICE(name, cmd, svc_ready);
    CloseHandle(svc_ready);

    DWORD h = CH_START(NULL);
    LPCWSTR files[] = {f};
    LPCWSTR svcs[] = {name};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 1, svcs));
    EXPECT_RC(ERROR_SUCCESS, RmAddFilter(h, NULL, NULL, upper, RmNoShutdown));
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    assert_int_equal(WaitForSingleObject(app, 10000), WAIT_OBJECT_0);
    assert_int_equal(ch_service_state(name, NULL), SERVICE_RUNNING);
    CH_LIST(h, &l);
    const RM_PROCESS_INFO *e = ch_find(&l, pid);
    if (!e || !(e->AppStatus & RmStatusShutdownMasked)) {
        ch_dump(&l);
        fail_msg("the filtered service is not listed as RmStatusShutdownMasked");
    }
    CH_END(h);
}

int ch_parent(void)
{
    ch_helper_path(L"rmappw.exe", rmappw);
    const struct CMUnitTest tests[] = {
        CH_TEST(exactly_one_target_and_a_known_action),
        CH_TEST(newer_filter_replaces_older),
        CH_TEST(remove_absent_is_file_not_found),
        CH_TEST(filter_list_sizes_exactly),
        CH_TEST(no_shutdown_keeps_app_running),
        CH_TEST(no_restart_stops_but_does_not_restart),
        CH_TEST(path_filter_matches_other_spellings),
        CH_TEST(service_filter_keeps_service_running),
    };
    return cmocka_run_group_tests_name("callers.filters", tests, NULL, NULL);
}
