/*
 * RmRegisterResources: what is accepted, what is refused, and that a refused call leaves the
 * session exactly as it was.
 *
 * SPDX-License-Identifier: MIT
 */
#include "it.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "session/session.h"

const char it_program[] = "register";

#define KEY_CHARS ((int)CCH_RM_SESSION_KEY)
#define MANY 100000u

/* args: key files procs svcs */
static void child_expect_counts(void **state)
{
    (void)state;
    DWORD j = 0xfeedfaceu;
    EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&j, it_arg(0)));
    it_track(j);
    EXPECT_COUNTS(j, it_arg_u32(1), it_arg_u32(2), it_arg_u32(3));
}

const struct it_role it_roles[] = {
    {L"expect-counts", child_expect_counts},
    {NULL, NULL},
};

/* A string of n copies of c with no NUL inside the buffer: the next unit is a no-access page. */
static WCHAR *unterminated(size_t n, WCHAR c)
{
    WCHAR *s = IT_GUARDED(n * sizeof(WCHAR));
    for (size_t i = 0; i < n; i++)
        s[i] = c;
    return s;
}

/* An absolute path of exactly n units (n >= 8), NUL-terminated right before a no-access page:
 * C:\ then 200-unit components. */
static WCHAR *long_path(size_t n)
{
    WCHAR *s = IT_GUARDED((n + 1) * sizeof(WCHAR));
    wcscpy(s, L"C:\\");
    for (size_t i = 3; i < n; i++)
        s[i] = (i % 201 == 2 && i + 1 < n) ? L'\\' : L'a' + (WCHAR)(i % 26);
    s[n] = 0;
    return s;
}

static void many_paths_one_call(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    WCHAR *text = malloc(MANY * 40 * sizeof(WCHAR));
    LPCWSTR *files = malloc(MANY * sizeof *files);
    assert_non_null(text);
    assert_non_null(files);
    for (UINT i = 0; i < MANY; i++) {
        WCHAR *p = text + (size_t)i * 40;
        _snwprintf(p, 40, L"C:\\rm-it\\many\\dir%03u\\file%06u.dat", i % 1000, i);
        p[39] = 0;
        files[i] = p;
    }
    DWORD h = IT_START(key);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, MANY, files, 0, NULL, 0, NULL));
    EXPECT_COUNTS(h, MANY, 0, 0);
    /* All of them again: every one is a duplicate. */
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, MANY, files, 0, NULL, 0, NULL));
    EXPECT_COUNTS(h, MANY, 0, 0);
    /* Another process reads the whole log back. */
    HANDLE c = IT_SPAWN(L"expect-counts", NULL, L"%ls %u 0 0", key, MANY);
    EXPECT_CHILD_OK(c);
    free(files);
    free(text);
}

static void bad_entry_registers_nothing(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    RM_UNIQUE_PROCESS self = it_self_process();
    WCHAR *too_long = unterminated(32768, L'x');
    WCHAR *svc_too_long = unterminated(257, L's');
    const WCHAR *bad_files[] = {NULL, L"", too_long};
    const WCHAR *bad_svcs[] = {NULL, L"", L"a/b", L"a\\b", svc_too_long};
    DWORD h = IT_START(key);
    LPCWSTR first[] = {L"C:\\rm-it\\first.txt"};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, first, 0, NULL, 0, NULL));
    EXPECT_COUNTS(h, 1, 0, 0);

    for (size_t b = 0; b < ARRAYSIZE(bad_files); b++) {
        /* The bad name last, after good ones that would otherwise be new... */
        LPCWSTR files[] = {L"C:\\rm-it\\new1.txt", L"C:\\rm-it\\new2.txt", bad_files[b]};
        LPCWSTR svcs[] = {L"NewSvc"};
        EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRegisterResources(h, 3, files, 1, &self, 1, svcs));
        EXPECT_COUNTS(h, 1, 0, 0);
        /* ...and first. */
        LPCWSTR files2[] = {bad_files[b], L"C:\\rm-it\\new1.txt"};
        EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRegisterResources(h, 2, files2, 1, &self, 0, NULL));
        EXPECT_COUNTS(h, 1, 0, 0);
    }
    for (size_t b = 0; b < ARRAYSIZE(bad_svcs); b++) {
        LPCWSTR files[] = {L"C:\\rm-it\\new1.txt"};
        LPCWSTR svcs[] = {L"NewSvc", bad_svcs[b]};
        EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRegisterResources(h, 1, files, 1, &self, 2, svcs));
        EXPECT_COUNTS(h, 1, 0, 0);
    }
    /* The good parts alone were fine all along. */
    LPCWSTR files[] = {L"C:\\rm-it\\new1.txt", L"C:\\rm-it\\new2.txt"};
    LPCWSTR svcs[] = {L"NewSvc"};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 2, files, 1, &self, 1, svcs));
    EXPECT_COUNTS(h, 3, 1, 1);
    it_guarded_free(too_long);
    it_guarded_free(svc_too_long);
}

static void edge_paths_accepted(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    WCHAR *longest = long_path(32767);
    WCHAR *svc_longest = unterminated(257, L's');
    svc_longest[256] = 0; /* 256 units and the NUL */
    DWORD h = IT_START(key);
    uint32_t n = 0;

    LPCWSTR one[][1] = {
        {longest},                                      /* the Win32 limit, exactly */
        {L"\\\\server\\share\\x"},                      /* UNC */
        {L"C:\\rm-it\\no\\such\\directory\\file.txt"}, /* nothing there (yet) */
        {L"relative.txt"},                              /* resolved against our directory */
        {L"C:\\rm-it\\dir-not-file\\"},                 /* checked later, by RmGetList */
    };
    for (size_t i = 0; i < ARRAYSIZE(one); i++) {
        EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, one[i], 0, NULL, 0, NULL));
        EXPECT_COUNTS(h, ++n, 0, 0);
    }
    LPCWSTR svcs[] = {svc_longest};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 0, NULL, 0, NULL, 1, svcs));
    EXPECT_COUNTS(h, n, 0, 1);
    it_guarded_free(longest);
    it_guarded_free(svc_longest);
}

static void counts_and_arrays(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    LPCWSTR files[] = {L"C:\\rm-it\\a.txt"};
    RM_UNIQUE_PROCESS self = it_self_process();
    LPCWSTR svcs[] = {L"Spooler"};
    /* Arrays whose entries must not be read: the counts say zero. */
    LPCWSTR poison[] = {(LPCWSTR)(ULONG_PTR)1};
    RM_UNIQUE_PROCESS *poison_procs = IT_GUARDED(0);
    DWORD h = IT_START(key);

    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRegisterResources(h, 1, NULL, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRegisterResources(h, 0, NULL, 1, NULL, 0, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRegisterResources(h, 0, NULL, 0, NULL, 1, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRegisterResources(h, 1, files, 1, &self, 1, NULL));
    /* Counts beyond the documented per-call limit are refused before the arrays are read. */
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRegisterResources(h, (1u << 20) + 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRegisterResources(h, 0, NULL, 0xffffffffu, &self, 0, NULL));
    EXPECT_RC(ERROR_BAD_ARGUMENTS, RmRegisterResources(h, 0, NULL, 0, NULL, (1u << 20) + 1, svcs));
    EXPECT_COUNTS(h, 0, 0, 0);

    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 0, NULL, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 0, poison, 0, poison_procs, 0, poison));
    EXPECT_COUNTS(h, 0, 0, 0);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 1, &self, 1, svcs));
    EXPECT_COUNTS(h, 1, 1, 1);
    it_guarded_free(poison_procs);
}

static void processes_registered_and_deduplicated(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    RM_UNIQUE_PROCESS self = it_self_process(), other_time = self, other_pid = self;
    other_time.ProcessStartTime.dwLowDateTime ^= 1; /* same PID, another process's life */
    other_pid.dwProcessId += 4;
    DWORD h = IT_START(key);
    RM_UNIQUE_PROCESS first[] = {self, self, other_time};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 0, NULL, ARRAYSIZE(first), first, 0, NULL));
    EXPECT_COUNTS(h, 0, 2, 0);
    RM_UNIQUE_PROCESS second[] = {other_time, other_pid, self};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 0, NULL, ARRAYSIZE(second), second, 0, NULL));
    EXPECT_COUNTS(h, 0, 3, 0);
}

static void services_deduplicated_by_case(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    DWORD h = IT_START(key);
    LPCWSTR first[] = {L"Spooler", L"SPOOLER", L"spooler", L"Schedule"};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 0, NULL, 0, NULL, ARRAYSIZE(first), first));
    EXPECT_COUNTS(h, 0, 0, 2);
    LPCWSTR second[] = {L"sChEdUlE", L"wuauserv"};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 0, NULL, 0, NULL, ARRAYSIZE(second), second));
    EXPECT_COUNTS(h, 0, 0, 3);
}

/* More than a session can hold, in one call: refused as a whole (ERROR_OUTOFMEMORY), and none
 * of it may linger as "already registered" so that registering some of it again would be
 * silently dropped. */
static void over_capacity_registers_nothing(void **state)
{
    (void)state;
    enum { LONGEST = 32000, COUNT = 2300 };
    WCHAR key[KEY_CHARS + 1], dir[MAX_PATH], old_cwd[MAX_PATH];
    static WCHAR text[LONGEST + 1];
    static LPCWSTR files[COUNT];
    /* Relative names: every suffix of one long name is a distinct file of ~64 KB of record. */
    for (int i = 0; i < LONGEST; i++)
        text[i] = L'a' + (WCHAR)(i % 26);
    for (int i = 0; i < COUNT; i++)
        files[i] = text + i;
    it_make_dir(L"cap", dir);
    GetCurrentDirectoryW(MAX_PATH, old_cwd);
    assert_true(SetCurrentDirectoryW(dir));
    DWORD h = IT_START(key);
    LPCWSTR first[] = {L"C:\\rm-it\\cap-first.txt"};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, first, 0, NULL, 0, NULL));

    EXPECT_RC(ERROR_OUTOFMEMORY, RmRegisterResources(h, COUNT, files, 0, NULL, 0, NULL));
    EXPECT_COUNTS(h, 1, 0, 0);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 100, files, 0, NULL, 0, NULL));
    SetCurrentDirectoryW(old_cwd);
    EXPECT_COUNTS(h, 101, 0, 0);
    HANDLE c = IT_SPAWN(L"expect-counts", NULL, L"%ls 101 0 0", key);
    EXPECT_CHILD_OK(c);
}

/* The same file under every spelling a caller might use collapses to one registration. */
static void file_spellings_collapse(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1], dir[MAX_PATH], old_cwd[MAX_PATH], p[16][MAX_PATH + 16];
    it_make_dir(L"spell", dir);
    GetCurrentDirectoryW(MAX_PATH, old_cwd);
    assert_true(SetCurrentDirectoryW(dir));
    DWORD h = IT_START(key);

    int n = 0;
    _snwprintf(p[n++], MAX_PATH, L"%ls\\Target.dll", dir);
    _snwprintf(p[n++], MAX_PATH, L"%ls\\TARGET.DLL", dir);
    _snwprintf(p[n++], MAX_PATH, L"\\\\?\\%ls\\target.dll", dir);
    _snwprintf(p[n++], MAX_PATH, L"\\??\\%ls\\target.dll", dir);
    _snwprintf(p[n++], MAX_PATH, L"%ls\\.\\x\\..\\Target.dll", dir);
    _snwprintf(p[n++], MAX_PATH, L"%ls/Target.dll", dir);
    _snwprintf(p[n++], MAX_PATH, L"%ls\\\\Target.dll", dir);
    _snwprintf(p[n++], MAX_PATH, L"%ls\\Target.dll. .", dir);
    _snwprintf(p[n++], MAX_PATH, L"\\\\.\\%ls\\Target.dll", dir);
    wcscpy(p[n++], L"Target.dll");
    wcscpy(p[n++], L".\\Target.dll");
    wcscpy(p[n++], L"x\\y\\..\\..\\Target.dll");
    LPCWSTR files[16];
    for (int i = 0; i < n; i++)
        files[i] = p[i];
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, (UINT)n, files, 0, NULL, 0, NULL));
    SetCurrentDirectoryW(old_cwd);
    EXPECT_COUNTS(h, 1, 0, 0);

    LPCWSTR unc[] = {L"\\\\server\\share\\dir\\file.txt", L"\\\\?\\UNC\\server\\share\\dir\\file.txt",
                     L"\\\\SERVER\\Share\\dir\\x\\..\\FILE.txt"};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, ARRAYSIZE(unc), unc, 0, NULL, 0, NULL));
    EXPECT_COUNTS(h, 2, 0, 0);
}

/* Windows and Wine file names are case-insensitive for every script, not only Latin: these two
 * names open the same file, so they must not become two registrations. */
static void file_case_beyond_latin_collapses(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1], dir[MAX_PATH], lower[MAX_PATH], upper[MAX_PATH];
    BY_HANDLE_FILE_INFORMATION a, b;
    it_make_dir(L"case", dir);
    /* Cyrillic "файл" / "ФАЙЛ", Greek "αρχείο" / "ΑΡΧΕΊΟ" */
    const WCHAR *names[][2] = {
        {L"\x0444\x0430\x0439\x043b.txt", L"\x0424\x0410\x0419\x041b.TXT"},
        {L"\x03b1\x03c1\x03c7\x03b5\x03af\x03bf.txt", L"\x0391\x03a1\x03a7\x0395\x038a\x039f.txt"},
    };
    DWORD h = IT_START(key);
    for (size_t i = 0; i < ARRAYSIZE(names); i++) {
        _snwprintf(lower, MAX_PATH, L"%ls\\%ls", dir, names[i][0]);
        _snwprintf(upper, MAX_PATH, L"%ls\\%ls", dir, names[i][1]);
        HANDLE f1 = CreateFileW(lower, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_ALWAYS, 0, NULL);
        HANDLE f2 = CreateFileW(upper, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
        assert_true(f1 != INVALID_HANDLE_VALUE);
        assert_true(f2 != INVALID_HANDLE_VALUE);
        assert_true(GetFileInformationByHandle(f1, &a));
        assert_true(GetFileInformationByHandle(f2, &b));
        CloseHandle(f1);
        CloseHandle(f2);
        /* The OS says: one file. */
        assert_int_equal(a.nFileIndexLow, b.nFileIndexLow);
        assert_int_equal(a.nFileIndexHigh, b.nFileIndexHigh);
        LPCWSTR files[] = {lower, upper};
        EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 2, files, 0, NULL, 0, NULL));
        EXPECT_COUNTS(h, (uint32_t)i + 1, 0, 0);
    }
}

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        IT_TEST(many_paths_one_call),
        IT_TEST(bad_entry_registers_nothing),
        IT_TEST(edge_paths_accepted),
        IT_TEST(counts_and_arrays),
        IT_TEST(processes_registered_and_deduplicated),
        IT_TEST(services_deduplicated_by_case),
        IT_TEST(over_capacity_registers_nothing),
        IT_TEST(file_spellings_collapse),
        IT_TEST(file_case_beyond_latin_collapses),
    };
    return cmocka_run_group_tests_name("integration.register", tests, NULL, NULL);
}
