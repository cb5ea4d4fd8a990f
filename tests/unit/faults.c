/*
 * Sessions and registration with faults injected through the OS table (DESIGN §4): a store
 * lock that never comes free, sections that cannot be created, allocations that fail, a dead
 * or replaced owner, a corrupted section, a 32-bit caller on 64-bit Windows.
 *
 * Each test uses a private store (rm_store_prefix), so corrupting it harms nobody else, and
 * must end with as many handles open as it started with.
 */
#include <windows.h>

#include "unit.h"

#include "handles.h"

#include <restartmanager.h>
#include <stdio.h>

#include "session/layout.h"
#include "session/session.h"
#include "session/store.h"
#include "sys/sys.h"

static WCHAR prefix[64];

static int setup(void **state)
{
    static int n;
    (void)state;
    rm_sys_reset();
    rm_session_reset_process_state();
    _snwprintf(prefix, 64, L"rstrtmgr-unit-%lu-%d", GetCurrentProcessId(), n++);
    rm_store_prefix = prefix;
    rm_test_handles_mark();
    return 0;
}

/* Fails the test (a teardown's non-zero result) when it leaked handles. */
static int teardown(void **state)
{
    (void)state;
    rm_sys_reset();
    rm_session_reset_process_state();
    return rm_test_handles_unchanged();
}

static DWORD start(void)
{
    DWORD h = 0;
    WCHAR key[33];
    assert_int_equal(RmStartSession(&h, 0, key), ERROR_SUCCESS);
    return h;
}

static void counts_of(DWORD h, uint32_t want_files, uint32_t want_procs, uint32_t want_svcs)
{
    uint32_t c[3];
    assert_int_equal(rm_session_counts(h, c), ERROR_SUCCESS);
    assert_int_equal(c[0], want_files);
    assert_int_equal(c[1], want_procs);
    assert_int_equal(c[2], want_svcs);
}

/* ---- the store lock ----------------------------------------------------------------------- */

static DWORD WINAPI wait_times_out(HANDLE h, DWORD ms)
{
    (void)h, (void)ms;
    return WAIT_TIMEOUT;
}

static void lock_timeout_is_sem_timeout_and_recovers(void **state)
{
    (void)state;
    DWORD h = start();
    LPCWSTR f[] = {L"C:\\x.dat"};
    rm_sys.WaitForSingleObject = wait_times_out;
    DWORD h2;
    WCHAR key[33];
    assert_int_equal(RmStartSession(&h2, 0, key), ERROR_SEM_TIMEOUT);
    assert_int_equal(RmRegisterResources(h, 1, f, 0, NULL, 0, NULL), ERROR_SEM_TIMEOUT);
    assert_int_equal(RmEndSession(h), ERROR_SEM_TIMEOUT);
    rm_sys_reset();
    assert_int_equal(RmRegisterResources(h, 1, f, 0, NULL, 0, NULL), ERROR_SUCCESS);
    counts_of(h, 1, 0, 0);
    assert_int_equal(RmEndSession(h), ERROR_SUCCESS);
}

/* ---- object creation ---------------------------------------------------------------------- */

static HANDLE WINAPI no_mapping(HANDLE f, LPSECURITY_ATTRIBUTES sa, DWORD prot, DWORD hi, DWORD lo, LPCWSTR n)
{
    (void)f, (void)sa, (void)prot, (void)hi, (void)lo, (void)n;
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return NULL;
}

static HANDLE WINAPI no_mutex(LPSECURITY_ATTRIBUTES sa, BOOL own, LPCWSTR n)
{
    (void)sa, (void)own, (void)n;
    SetLastError(ERROR_ACCESS_DENIED);
    return NULL;
}

static void store_that_cannot_be_created(void **state)
{
    (void)state;
    DWORD h;
    WCHAR key[33];
    rm_sys.CreateMutexW = no_mutex;
    assert_int_equal(RmStartSession(&h, 0, key), ERROR_WRITE_FAULT);
    rm_sys_reset();
    rm_sys.CreateFileMappingW = no_mapping;
    assert_int_equal(RmStartSession(&h, 0, key), ERROR_WRITE_FAULT);
    rm_sys_reset();
    RmEndSession(start());
}

static void data_section_failure_leaks_no_slot(void **state)
{
    (void)state;
    DWORD hs[RM_MAX_SESSIONS], h;
    WCHAR key[33];
    RmEndSession(start()); /* store exists; now only data sections fail */
    rm_sys.CreateFileMappingW = no_mapping;
    for (int i = 0; i < 100; i++)
        assert_int_equal(RmStartSession(&h, 0, key), ERROR_OUTOFMEMORY);
    rm_sys_reset();
    for (unsigned i = 0; i < RM_MAX_SESSIONS; i++)
        hs[i] = start();
    assert_int_equal(RmStartSession(&h, 0, key), ERROR_MAX_SESSIONS_REACHED);
    for (unsigned i = 0; i < RM_MAX_SESSIONS; i++)
        assert_int_equal(RmEndSession(hs[i]), ERROR_SUCCESS);
}

static LPVOID WINAPI no_commit(LPVOID at, SIZE_T size, DWORD type, DWORD protect)
{
    (void)at, (void)size, (void)type, (void)protect;
    SetLastError(ERROR_COMMITMENT_LIMIT);
    return NULL;
}

/* The session's data section is reserved, then committed as it fills (and as each view of it
 * is read): while it cannot be, calls report ERROR_OUTOFMEMORY, a registration leaves nothing
 * half-written, and the session works again once memory is there. */
static void data_section_that_cannot_grow(void **state)
{
    (void)state;
    DWORD h = start();
    enum { N = 400 }; /* about 400 × 250 bytes: beyond the first commit step */
    static WCHAR names[N][120];
    LPCWSTR files[N];
    for (int i = 0; i < N; i++) {
        _snwprintf(names[i], 120, L"C:\\grow\\%04d-padding-padding-padding-padding-padding-padding-padding.dat", i);
        files[i] = names[i];
    }
    assert_int_equal(RmRegisterResources(h, 1, files, 0, NULL, 0, NULL), ERROR_SUCCESS);
    rm_sys.VirtualAlloc = no_commit;
    assert_int_equal(RmRegisterResources(h, N, files, 0, NULL, 0, NULL), ERROR_OUTOFMEMORY);
    uint32_t c[3];
    assert_int_equal(rm_session_counts(h, c), ERROR_OUTOFMEMORY);
    rm_sys_reset();
    counts_of(h, 1, 0, 0);
    assert_int_equal(RmRegisterResources(h, N, files, 0, NULL, 0, NULL), ERROR_SUCCESS);
    counts_of(h, N, 0, 0);
    assert_int_equal(RmEndSession(h), ERROR_SUCCESS);
}

static BOOL no_random(void *buf, ULONG len)
{
    (void)buf, (void)len;
    return FALSE;
}

static void no_randomness_no_session(void **state)
{
    (void)state;
    DWORD h = 0x1234;
    WCHAR key[33] = {0};
    rm_sys.random_bytes = no_random;
    assert_int_equal(RmStartSession(&h, 0, key), ERROR_WRITE_FAULT);
    assert_int_equal(h, 0x1234); /* nothing written on failure */
    assert_int_equal(key[0], 0);
}

/* ---- allocation failure at every site ------------------------------------------------------ */

static LONG allocs_left = -1;
static void *(*real_alloc)(SIZE_T);

static void *counted_alloc(SIZE_T n)
{
    if (allocs_left == 0)
        return NULL;
    if (allocs_left > 0)
        allocs_left--;
    return real_alloc(n);
}

static void allocation_failures_are_all_or_nothing(void **state)
{
    (void)state;
    DWORD h = start();
    LPCWSTR files[] = {L"C:\\a\\one.dll", L"C:\\a\\two.dll", L"C:\\A\\ONE.DLL"};
    LPCWSTR svcs[] = {L"Spooler"};
    RM_UNIQUE_PROCESS procs[] = {{1234, {5, 6}}};
    int failures = 0, k;
    real_alloc = rm_sys.alloc;
    rm_sys.alloc = counted_alloc;
    for (k = 0; k < 200; k++) {
        allocs_left = k;
        DWORD rc = RmRegisterResources(h, 3, files, 1, procs, 1, svcs);
        allocs_left = -1;
        uint32_t c[3];
        assert_int_equal(rm_session_counts(h, c), ERROR_SUCCESS);
        if (rc == ERROR_SUCCESS) {
            counts_of(h, 2, 1, 1);
            break;
        }
        assert_int_equal(rc, ERROR_OUTOFMEMORY);
        counts_of(h, 0, 0, 0); /* a failed call leaves nothing behind */
        failures++;
    }
    assert_true(failures > 3); /* the sweep really hit several allocation sites */
    assert_true(k < 200);
    rm_sys_reset();
    assert_int_equal(RmRegisterResources(h, 3, files, 1, procs, 1, svcs), ERROR_SUCCESS);
    counts_of(h, 2, 1, 1);
    assert_int_equal(RmEndSession(h), ERROR_SUCCESS);
}

/* ---- owners that died --------------------------------------------------------------------- */

static struct rm_store *open_store_view(HANDLE *section)
{
    WCHAR name[256];
    _snwprintf(name, 256, L"Local\\%ls.%ls", rm_store_prefix, rm_user_sid());
    *section = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, name);
    assert_non_null(*section);
    struct rm_store *v = MapViewOfFile(*section, FILE_MAP_ALL_ACCESS, 0, 0, sizeof(struct rm_store));
    assert_non_null(v);
    return v;
}

static void close_store_view(struct rm_store *v, HANDLE section)
{
    UnmapViewOfFile(v);
    CloseHandle(section);
}

/* Makes free slot i look like a live session of process pid/start. */
static void fake_live_slot(struct rm_store *st, unsigned i, DWORD pid, FILETIME start_time)
{
    assert_int_equal(st->slots[i].state, RM_SLOT_FREE);
    st->slots[i].generation += 1000;
    st->slots[i].owner_pid = pid;
    st->slots[i].owner_time_lo = start_time.dwLowDateTime;
    st->slots[i].owner_time_hi = start_time.dwHighDateTime;
    st->slots[i].state = RM_SLOT_LIVE;
}

static DWORD denied_pid;
static HANDLE(WINAPI *real_open_process)(DWORD, BOOL, DWORD);

static HANDLE WINAPI open_process_denied(DWORD access, BOOL inherit, DWORD pid)
{
    if (pid == denied_pid) {
        SetLastError(ERROR_ACCESS_DENIED);
        return NULL;
    }
    return real_open_process(access, inherit, pid);
}

static void dead_and_replaced_owners_are_reclaimed(void **state)
{
    (void)state;
    DWORD hs[RM_MAX_SESSIONS], h, self;
    WCHAR key[33];
    FILETIME t, wrong = {12345, 678};
    HANDLE sec;
    for (unsigned i = 0; i < RM_MAX_SESSIONS - 2; i++)
        hs[i] = start();
    rm_self_identity(&self, &t);
    struct rm_store *st = open_store_view(&sec);
    /* A PID that cannot exist (PIDs are multiples of 4), and our own PID with another start
     * time: a reused PID, whose original owner is gone. */
    fake_live_slot(st, RM_MAX_SESSIONS - 2, 0x7ffffff1, wrong);
    fake_live_slot(st, RM_MAX_SESSIONS - 1, self, wrong);
    hs[RM_MAX_SESSIONS - 2] = start();
    hs[RM_MAX_SESSIONS - 1] = start();
    assert_int_equal(RmStartSession(&h, 0, key), ERROR_MAX_SESSIONS_REACHED);

    /* An owner we may not open is not known to be dead: its session stays. */
    assert_int_equal(RmEndSession(hs[0]), ERROR_SUCCESS);
    fake_live_slot(st, 0, 0x7ffffff5, wrong);
    denied_pid = 0x7ffffff5;
    real_open_process = rm_sys.OpenProcess;
    rm_sys.OpenProcess = open_process_denied;
    assert_int_equal(RmStartSession(&h, 0, key), ERROR_MAX_SESSIONS_REACHED);
    rm_sys_reset();
    hs[0] = start(); /* now it is known dead */
    close_store_view(st, sec);
    for (unsigned i = 0; i < RM_MAX_SESSIONS; i++)
        assert_int_equal(RmEndSession(hs[i]), ERROR_SUCCESS);
}

/* ---- corruption ---------------------------------------------------------------------------- */

static void corrupted_store_is_reported_not_followed(void **state)
{
    (void)state;
    DWORD h = start(), h2;
    WCHAR key[33];
    LPCWSTR f[] = {L"C:\\y.dat"};
    HANDLE sec;
    struct rm_store *st = open_store_view(&sec);
    uint32_t saved = st->magic;
    st->magic ^= 0xff;
    assert_int_equal(RmStartSession(&h2, 0, key), ERROR_WRITE_FAULT);
    assert_int_equal(RmRegisterResources(h, 1, f, 0, NULL, 0, NULL), ERROR_WRITE_FAULT);
    st->magic = saved;
    st->slots[40].state = 7;
    assert_int_equal(RmRegisterResources(h, 1, f, 0, NULL, 0, NULL), ERROR_WRITE_FAULT);
    st->slots[40].state = RM_SLOT_FREE;
    assert_int_equal(RmRegisterResources(h, 1, f, 0, NULL, 0, NULL), ERROR_SUCCESS);
    counts_of(h, 1, 0, 0);
    close_store_view(st, sec);
    assert_int_equal(RmEndSession(h), ERROR_SUCCESS);
}

static struct rm_data_header *open_data_view(DWORD h, HANDLE *section)
{
    HANDLE ssec;
    struct rm_store *st = open_store_view(&ssec);
    unsigned slot = h & 63;
    WCHAR name[256];
    _snwprintf(name, 256, L"Local\\%ls.%ls.s%u.g%u", rm_store_prefix, rm_user_sid(), slot,
               st->slots[slot].generation);
    close_store_view(st, ssec);
    *section = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, name);
    assert_non_null(*section);
    struct rm_data_header *v = MapViewOfFile(*section, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    assert_non_null(v);
    return v;
}

static void corrupted_records_are_reported_not_followed(void **state)
{
    (void)state;
    DWORD h = start(), member;
    WCHAR key[33];
    LPCWSTR f[] = {L"C:\\z1.dat", L"C:\\z2.dat"};
    HANDLE sec;
    assert_int_equal(RmRegisterResources(h, 2, f, 0, NULL, 0, NULL), ERROR_SUCCESS);
    struct rm_data_header *d = open_data_view(h, &sec);

    uint32_t used = d->used;
    d->used = d->committed + 64; /* end of log beyond what exists */
    assert_int_equal(RmRegisterResources(h, 1, f, 0, NULL, 0, NULL), ERROR_WRITE_FAULT);
    d->used = used;

    /* A joiner parses the log from the start, so it meets the broken record. */
    struct rm_record_header *first = (struct rm_record_header *)(void *)(d + 1);
    uint32_t size = first->size;
    first->size = 0x7ffffff8;
    (void)key;
    HANDLE ssec;
    struct rm_store *st = open_store_view(&ssec);
    uint16_t text[33];
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        text[2 * i] = (uint16_t)hex[st->slots[h & 63].key[i] >> 4];
        text[2 * i + 1] = (uint16_t)hex[st->slots[h & 63].key[i] & 15];
    }
    text[32] = 0;
    close_store_view(st, ssec);
    assert_int_equal(RmJoinSession(&member, (const WCHAR *)text), ERROR_SUCCESS);
    uint32_t c[3];
    assert_int_equal(rm_session_counts(member, c), ERROR_WRITE_FAULT);
    assert_int_equal(RmRegisterResources(member, 1, f, 0, NULL, 0, NULL), ERROR_WRITE_FAULT);
    first->size = size;
    counts_of(member, 2, 0, 0);
    UnmapViewOfFile(d);
    CloseHandle(sec);
    assert_int_equal(RmEndSession(member), ERROR_SUCCESS);
    assert_int_equal(RmEndSession(h), ERROR_SUCCESS);
}

/* ---- a 32-bit caller on 64-bit Windows ---------------------------------------------------- */

static BOOL WINAPI is_wow64(HANDLE p, PBOOL wow)
{
    (void)p;
    *wow = TRUE;
    return TRUE;
}

static UINT WINAPI windir_c(LPWSTR buf, UINT n)
{
    (void)n;
    wcscpy(buf, L"C:\\windows");
    return 10;
}

static void sysnative_and_system32_resolve_for_32_bit_callers(void **state)
{
    (void)state;
    DWORD h = start();
    LPCWSTR as32[] = {L"C:\\windows\\Sysnative\\rmtest.dll", L"C:\\windows\\system32\\rmtest.dll"};
    LPCWSTR native[] = {L"C:\\windows\\System32\\RMTEST.DLL", L"C:\\windows\\SysWOW64\\rmtest.dll"};
    rm_sys.IsWow64Process = is_wow64;
    rm_sys.GetSystemWindowsDirectoryW = windir_c;
    assert_int_equal(RmRegisterResources(h, 2, as32, 0, NULL, 0, NULL), ERROR_SUCCESS);
    counts_of(h, 2, 0, 0);
    rm_sys_reset();
    /* The same two files as a 64-bit process names them: nothing new. */
    assert_int_equal(RmRegisterResources(h, 2, native, 0, NULL, 0, NULL), ERROR_SUCCESS);
    counts_of(h, 2, 0, 0);
    assert_int_equal(RmEndSession(h), ERROR_SUCCESS);
}

/* The same rules with nothing faked: the x86 suite runs under WOW64, where System32 is the
 * 32-bit SysWOW64 and Sysnative the real System32; the x64 suite, where each names itself. */
static void system32_resolves_by_this_builds_bitness(void **state)
{
    (void)state;
    WCHAR windir[MAX_PATH], sys32[MAX_PATH], wow[MAX_PATH], native[MAX_PATH];
    UINT n = GetSystemWindowsDirectoryW(windir, MAX_PATH);
    assert_true(n > 0 && n < MAX_PATH - 32);
    _snwprintf(sys32, MAX_PATH, L"%ls\\System32\\rmtest.dll", windir);
    _snwprintf(wow, MAX_PATH, L"%ls\\SysWOW64\\rmtest.dll", windir);
    _snwprintf(native, MAX_PATH, L"%ls\\Sysnative\\rmtest.dll", windir);
    BOOL wow64 = FALSE;
    assert_true(IsWow64Process(GetCurrentProcess(), &wow64));
    assert_int_equal(wow64, sizeof(void *) == 4);
    DWORD h = start();
    LPCWSTR both[] = {sys32, wow};
    assert_int_equal(RmRegisterResources(h, 2, both, 0, NULL, 0, NULL), ERROR_SUCCESS);
    /* Under WOW64 both name SysWOW64's file; natively they are two files. */
    counts_of(h, wow64 ? 1 : 2, 0, 0);
    LPCWSTR nat[] = {native};
    assert_int_equal(RmRegisterResources(h, 1, nat, 0, NULL, 0, NULL), ERROR_SUCCESS);
    /* Sysnative is the 64-bit System32, a new file under WOW64; natively it is no alias, just
     * one more (nonexistent) directory name. */
    counts_of(h, wow64 ? 2 : 3, 0, 0);
    assert_int_equal(RmEndSession(h), ERROR_SUCCESS);
}

static void last_error_is_preserved(void **state)
{
    (void)state;
    DWORD h;
    WCHAR key[33];
    SetLastError(0xdeadbeef);
    assert_int_equal(RmStartSession(&h, 0, key), ERROR_SUCCESS);
    assert_int_equal(GetLastError(), 0xdeadbeef);
    SetLastError(0xdeadbeef);
    assert_int_equal(RmEndSession(h), ERROR_SUCCESS);
    assert_int_equal(GetLastError(), 0xdeadbeef);
    SetLastError(0xdeadbeef);
    assert_int_equal(RmEndSession(h), ERROR_INVALID_HANDLE);
    assert_int_equal(GetLastError(), 0xdeadbeef);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lock_timeout_is_sem_timeout_and_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(store_that_cannot_be_created, setup, teardown),
        cmocka_unit_test_setup_teardown(data_section_failure_leaks_no_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(data_section_that_cannot_grow, setup, teardown),
        cmocka_unit_test_setup_teardown(no_randomness_no_session, setup, teardown),
        cmocka_unit_test_setup_teardown(allocation_failures_are_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(dead_and_replaced_owners_are_reclaimed, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupted_store_is_reported_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupted_records_are_reported_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(sysnative_and_system32_resolve_for_32_bit_callers, setup, teardown),
        cmocka_unit_test_setup_teardown(system32_resolves_by_this_builds_bitness, setup, teardown),
        cmocka_unit_test_setup_teardown(last_error_is_preserved, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
