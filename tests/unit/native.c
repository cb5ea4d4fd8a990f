/*
 * The native helper's report (src/detect/native.c): what the helper writes parses back to what
 * it saw, and a report that is cut short, malformed or not ours yields nothing it does not
 * prove. The caller treats the report as untrusted input, so every field is tried wrong.
 */
#include <windows.h>

#include <stdio.h>
#include <wchar.h>

#include "unit.h"

#include "detect/native.h"
#include "detect/walker.h"
#include "sys/sys.h"

#define MAGIC 0x314E4D52u
#define PROC 0x434F5250u
#define DONE 0x454E4F44u

struct buf {
    uint32_t w[4096];
    size_t n;
};

static void word(struct buf *b, uint32_t v)
{
    b->w[b->n++] = v;
}

/* A string as the helper sends it: its units with the NUL, padded to a word. */
static void text(struct buf *b, const WCHAR *s)
{
    size_t units = wcslen(s) + 1, words = (units + 1) / 2;
    memset(b->w + b->n, 0, words * 4);
    memcpy(b->w + b->n, s, units * 2);
    b->n += words;
}

static void header(struct buf *b)
{
    b->n = 0;
    word(b, MAGIC);
    word(b, 1);
}

/* One process with a command line, a directory and regions of odd and even name lengths. */
static void good_proc(struct buf *b, DWORD pid)
{
    word(b, PROC);
    word(b, pid);
    word(b, 0x11111111u);
    word(b, 0x01d00000u);
    word(b, RM_NATIVE_WALK | RM_NATIVE_PARAMS);
    word(b, (uint32_t)wcslen(L"app.exe --x") + 1);
    word(b, (uint32_t)wcslen(L"C:\\dir") + 1);
    word(b, 2);
    text(b, L"app.exe --x");
    text(b, L"C:\\dir");
    word(b, MEM_IMAGE);
    word(b, (uint32_t)wcslen(L"\\??\\C:\\a.dll") + 1);
    text(b, L"\\??\\C:\\a.dll");
    word(b, MEM_MAPPED);
    word(b, (uint32_t)wcslen(L"\\??\\C:\\ab.dat") + 1);
    text(b, L"\\??\\C:\\ab.dat");
}

static const FILETIME good_start = {0x11111111u, 0x01d00000u};

static void well_formed_report_parses_whole(void **state)
{
    (void)state;
    struct buf b;
    struct rm_native_report r = {0};
    header(&b);
    good_proc(&b, 42);
    good_proc(&b, 43);
    word(&b, DONE);
    assert_int_equal(rm_native_parse(b.w, b.n * 4, &r), 1);
    assert_int_equal(r.count, 2);
    const struct rm_native_proc *p = rm_native_find(&r, 43, &good_start);
    assert_non_null(p);
    assert_int_equal(p->have, RM_NATIVE_WALK | RM_NATIVE_PARAMS);
    assert_true(wcscmp(p->cmd, L"app.exe --x") == 0);
    assert_true(wcscmp(p->dir, L"C:\\dir") == 0);
    assert_int_equal(p->nregions, 2);
    assert_int_equal(p->regions[0].type, MEM_IMAGE);
    assert_int_equal(p->regions[0].len, wcslen(L"\\??\\C:\\a.dll"));
    assert_true(wcscmp(p->regions[1].name, L"\\??\\C:\\ab.dat") == 0);
    /* The identity is PID and start time: another start time is another process. */
    FILETIME other = good_start;
    other.dwLowDateTime++;
    assert_null(rm_native_find(&r, 43, &other));
    rm_native_report_free(&r);
}

static void report_not_ours_yields_nothing(void **state)
{
    (void)state;
    struct buf b;
    struct rm_native_report r = {0};
    header(&b);
    b.w[1] = 2; /* another protocol version */
    good_proc(&b, 42);
    assert_int_equal(rm_native_parse(b.w, b.n * 4, &r), 0);
    assert_int_equal(r.count, 0);
    header(&b);
    b.w[0] = 0; /* not our magic */
    good_proc(&b, 42);
    assert_int_equal(rm_native_parse(b.w, b.n * 4, &r), 0);
    assert_int_equal(rm_native_parse(b.w, 0, &r), 0);
    assert_int_equal(r.count, 0);
    rm_native_report_free(&r);
}

/* Cut anywhere, the report keeps exactly the records that arrived whole. */
static void report_cut_short_keeps_whole_records_only(void **state)
{
    (void)state;
    struct buf b;
    header(&b);
    good_proc(&b, 42);
    size_t first_end = b.n * 4;
    good_proc(&b, 43);
    size_t second_end = b.n * 4;
    for (size_t cut = 0; cut <= second_end; cut++) {
        struct rm_native_report r = {0};
        int rc = rm_native_parse(b.w, cut, &r);
        assert_int_equal(rc, cut >= 8 ? 1 : 0);
        uint32_t want = cut >= second_end ? 2 : cut >= first_end ? 1 : 0;
        if (r.count != want) {
            print_error("cut at %u bytes: %u records, want %u\n", (unsigned)cut, r.count, want);
            fail();
        }
        rm_native_report_free(&r);
    }
}

/* Each field made wrong in turn: the record is dropped, the ones before it stand. */
static void malformed_records_are_dropped(void **state)
{
    (void)state;
    struct buf b;
    header(&b);
    good_proc(&b, 42);
    size_t at = b.n;
    good_proc(&b, 43);
    /* word offsets inside the second record */
    const struct {
        size_t offset;
        uint32_t value;
        const char *what;
    } faults[] = {
        {5, 70000, "command line longer than any"},
        {5, 0xffffffffu, "command line length wraps"},
        {7, RM_WALK_MAX_REGIONS + 1, "more regions than a walk records"},
        {7, 3, "a region more than sent"},
        {8 + 6 + 4, MEM_PRIVATE, "a region of another type"},
        {8 + 6 + 4 + 1, 0, "a region name without units"},
        {8 + 6 + 4 + 1, 100000, "a region name past the end"},
    };
    for (size_t i = 0; i < sizeof faults / sizeof *faults; i++) {
        struct buf bad = b;
        struct rm_native_report r = {0};
        bad.w[at + faults[i].offset] = faults[i].value;
        assert_int_equal(rm_native_parse(bad.w, bad.n * 4, &r), 1);
        if (r.count != 1 || r.procs[0].pid != 42) {
            print_error("%s: %u records\n", faults[i].what, r.count);
            fail();
        }
        rm_native_report_free(&r);
    }
    /* A string whose last unit is not NUL: "app.exe --x" has 12 units, the 12th in word 5. */
    struct buf bad = b;
    struct rm_native_report r = {0};
    bad.w[at + 8 + 5] |= 0xffff0000u;
    assert_int_equal(rm_native_parse(bad.w, bad.n * 4, &r), 1);
    assert_int_equal(r.count, 1);
    rm_native_report_free(&r);
}

/* ---- the helper's side, for real: it reports this very process -------------------------------- */

struct helper_run {
    WCHAR args[128];
};

static DWORD WINAPI run_helper(LPVOID param)
{
    rm_native_helper_main(((struct helper_run *)param)->args);
    return 0;
}

static void helper_reports_what_it_sees(void **state)
{
    (void)state;
    HANDLE rd, wr;
    static struct helper_run h;
    static BYTE data[1 << 20];
    size_t size = 0;
    assert_true(CreatePipe(&rd, &wr, NULL, 0));
    _snwprintf(h.args, 128, L"%lu %llx %u %lu", GetCurrentProcessId(), (unsigned long long)(ULONG_PTR)wr,
               RM_NATIVE_WALK | RM_NATIVE_PARAMS, GetCurrentProcessId());
    h.args[127] = 0;
    HANDLE t = CreateThread(NULL, 0, run_helper, &h, 0, NULL);
    assert_non_null(t);
    /* The helper writes through its own duplicate; ours goes once it has one (it closes that
     * one when done), so the pipe ends with the helper. */
    for (;;) {
        DWORD got = 0;
        if (WaitForSingleObject(t, 0) == WAIT_OBJECT_0 && wr) {
            CloseHandle(wr);
            wr = NULL;
        }
        DWORD avail = 0;
        if (!PeekNamedPipe(rd, NULL, 0, NULL, &avail, NULL))
            break;
        if (!avail) {
            if (!wr)
                break;
            Sleep(5);
            continue;
        }
        assert_true(size + avail <= sizeof data);
        assert_true(ReadFile(rd, data + size, avail, &got, NULL));
        size += got;
    }
    assert_int_equal(WaitForSingleObject(t, 30000), WAIT_OBJECT_0);
    CloseHandle(t);
    CloseHandle(rd);

    struct rm_native_report r = {0};
    FILETIME start, e, k, u;
    assert_true(GetProcessTimes(GetCurrentProcess(), &start, &e, &k, &u));
    assert_int_equal(rm_native_parse(data, size, &r), 1);
    const struct rm_native_proc *p = rm_native_find(&r, GetCurrentProcessId(), &start);
    assert_non_null(p);
    assert_int_equal(p->have, RM_NATIVE_WALK | RM_NATIVE_PARAMS);
    assert_true(wcscmp(p->cmd, GetCommandLineW()) == 0);
    WCHAR cwd[MAX_PATH];
    DWORD n = GetCurrentDirectoryW(MAX_PATH, cwd);
    assert_true(n > 0 && wcsncmp(p->dir, cwd, n) == 0);
    /* Our own executable is among the images, by its NT name. */
    int found = 0;
    for (uint32_t i = 0; i < p->nregions; i++)
        found |= p->regions[i].type == MEM_IMAGE && p->regions[i].len > 15 &&
                 _wcsicmp(p->regions[i].name + p->regions[i].len - 15, L"unit_native.exe") == 0;
    assert_true(found);
    rm_native_report_free(&r);
}

/* ---- which reach: the OS's own where it gives one, else the helper ------------------------------- */

/* A 64-bit process as the OS's WOW64 calls would show it, in our own memory: addresses above
 * 4 GiB for its regions, a PEB and parameters in the 64-bit layout. */
static BYTE fake_peb[0x40], fake_params[0x80];
static const WCHAR fake_cmd[] = L"\"C:\\Program Files\\App\\app.exe\" --flag";
static const WCHAR fake_dir[] = L"C:\\Work\\";
static int helpers_started;

struct fake_region {
    ULONG64 base, size, alloc;
    DWORD type;
    const WCHAR *name;
};
static const struct fake_region fake_map[] = {
    {0x10000, 0x1000, 0x10000, MEM_PRIVATE, NULL},
    {0x7ff600000000ull, 0x1000, 0x7ff600000000ull, MEM_IMAGE, L"\\Device\\HarddiskVolume1\\App\\app.exe"},
    {0x7ff600001000ull, 0x3000, 0x7ff600000000ull, MEM_IMAGE, L"\\Device\\HarddiskVolume1\\App\\app.exe"},
    {0x7ffa00000000ull, 0x2000, 0x7ffa00000000ull, MEM_IMAGE, L"\\Device\\HarddiskVolume1\\App\\plugin.dll"},
    {0x7ffb00000000ull, 0x1000, 0x7ffb00000000ull, MEM_MAPPED, L"\\Device\\HarddiskVolume1\\App\\data.bin"},
};

static BOOL WINAPI fake_is_wow64(HANDLE p, PBOOL wow)
{
    *wow = p == RM_CURRENT_PROCESS || p == GetCurrentProcess(); /* we are 32-bit, the target is not */
    return TRUE;
}

/* The OS gives the length; the text after it need not end in NUL. */
static void put_ustr64(BYTE *at, const WCHAR *s, size_t units)
{
    USHORT len = (USHORT)(units * 2);
    ULONG64 buf = (ULONG64)(ULONG_PTR)s;
    memset(at, 0, 16);
    memcpy(at, &len, 2);
    memcpy(at + 2, &len, 2);
    memcpy(at + 8, &buf, 8);
}

static NTSTATUS NTAPI fake_info64(HANDLE p, PROCESSINFOCLASS c, PVOID buf, ULONG n, PULONG ret)
{
    (void)p, (void)ret;
    if (c != ProcessBasicInformation || n < 48)
        return (NTSTATUS)0xC0000004L;
    memset(buf, 0, 48);
    ULONG64 peb = (ULONG64)(ULONG_PTR)fake_peb;
    memcpy((BYTE *)buf + 8, &peb, 8);
    return 0;
}

static NTSTATUS NTAPI fake_read64(HANDLE p, ULONG64 at, PVOID buf, ULONG64 n, PULONG64 got)
{
    (void)p;
    memcpy(buf, (const void *)(ULONG_PTR)at, (size_t)n);
    *got = n;
    return 0;
}

static NTSTATUS NTAPI fake_query64(HANDLE p, ULONG64 at, ULONG cls, PVOID buf, ULONG64 n, PULONG64 ret)
{
    (void)p, (void)ret;
    for (size_t i = 0; cls == 0 && i < sizeof fake_map / sizeof *fake_map; i++) {
        const struct fake_region *r = &fake_map[i];
        if (at >= r->base + r->size)
            continue;
        MEMORY_BASIC_INFORMATION64 m;
        memset(&m, 0, sizeof m);
        m.BaseAddress = at;
        if (at < r->base) { /* the free gap before it */
            m.RegionSize = r->base - at;
            m.State = MEM_FREE;
        } else {
            m.AllocationBase = r->alloc;
            m.RegionSize = r->base + r->size - at;
            m.Type = r->type;
            m.State = MEM_COMMIT;
        }
        memcpy(buf, &m, sizeof m);
        return 0;
    }
    for (size_t i = 0; cls == 2 && i < sizeof fake_map / sizeof *fake_map; i++) {
        const struct fake_region *r = &fake_map[i];
        if (at != r->alloc || !r->name)
            continue;
        size_t bytes = wcslen(r->name) * 2;
        if (n < 16 + bytes)
            return (NTSTATUS)0x80000005L;
        memcpy((BYTE *)buf + 16, r->name, bytes);
        put_ustr64(buf, (const WCHAR *)((BYTE *)buf + 16), bytes / 2);
        return 0;
    }
    return (NTSTATUS)0xC000000DL; /* STATUS_INVALID_PARAMETER: past the last region */
}

static BOOL WINAPI fake_create_process(LPCWSTR app, LPWSTR cmd, LPSECURITY_ATTRIBUTES pa, LPSECURITY_ATTRIBUTES ta,
                                       BOOL inherit, DWORD flags, LPVOID env, LPCWSTR dir, LPSTARTUPINFOW si,
                                       LPPROCESS_INFORMATION pi)
{
    (void)app, (void)pa, (void)ta, (void)inherit, (void)flags, (void)env, (void)dir, (void)si, (void)pi;
    helpers_started++;
    /* The helper is the native rundll32 on the native DLL, asked about our PID. */
    assert_non_null(wcsstr(cmd, L"\\Sysnative\\rundll32.exe\""));
    assert_non_null(wcsstr(cmd, L"\\System32\\rstrtmgr.dll\",RmRunHelper native "));
    SetLastError(ERROR_FILE_NOT_FOUND);
    return FALSE;
}

static int fake_wow64_setup(void **state)
{
    (void)state;
    memset(fake_peb, 0, sizeof fake_peb);
    memset(fake_params, 0, sizeof fake_params);
    ULONG64 params = (ULONG64)(ULONG_PTR)fake_params;
    memcpy(fake_peb + 0x20, &params, 8);
    put_ustr64(fake_params + 0x38, fake_dir, wcslen(fake_dir));
    put_ustr64(fake_params + 0x70, fake_cmd, wcslen(fake_cmd));
    helpers_started = 0;
    rm_sys.IsWow64Process = fake_is_wow64;
    rm_sys.CreateProcessW = fake_create_process;
    return 0;
}

static int fake_wow64_teardown(void **state)
{
    (void)state;
    rm_sys_reset();
    return 0;
}

/* Windows gives a WOW64 process the NtWow64* calls: they are used, in this process, and the
 * 64-bit process is seen whole, above 4 GiB, with no helper started. */
static void os_reach_is_used_where_the_os_gives_it(void **state)
{
    (void)state;
    rm_sys.NtWow64QueryInformationProcess64 = fake_info64;
    rm_sys.NtWow64ReadVirtualMemory64 = fake_read64;
    rm_sys.NtWow64QueryVirtualMemory64 = fake_query64;
    DWORD self = GetCurrentProcessId();
    struct rm_native_report r = {0};
    assert_int_equal(rm_native_query(&self, 1, RM_NATIVE_WALK | RM_NATIVE_PARAMS, &r), ERROR_SUCCESS);
    assert_int_equal(helpers_started, 0);
    assert_int_equal(r.count, 1);
    const struct rm_native_proc *p = &r.procs[0];
    assert_int_equal(p->pid, self);
    assert_int_equal(p->have, RM_NATIVE_WALK | RM_NATIVE_PARAMS);
    assert_true(wcscmp(p->cmd, fake_cmd) == 0);
    assert_true(wcscmp(p->dir, fake_dir) == 0);
    /* One entry per view (the image's second region is the same view), names whole. */
    assert_int_equal(p->nregions, 3);
    assert_int_equal(p->regions[0].type, MEM_IMAGE);
    assert_true(wcscmp(p->regions[1].name, L"\\Device\\HarddiskVolume1\\App\\plugin.dll") == 0);
    assert_int_equal(p->regions[2].type, MEM_MAPPED);
    assert_true(wcscmp(p->regions[2].name, L"\\Device\\HarddiskVolume1\\App\\data.bin") == 0);
    rm_native_report_free(&r);
}

/* Wine 8 has no NtWow64QueryInformationProcess64 or NtWow64QueryVirtualMemory64: the native
 * helper is asked instead; one that cannot start leaves the process unreported, not invented. */
static void helper_is_asked_where_the_os_does_not(void **state)
{
    (void)state;
    DWORD self = GetCurrentProcessId();
    struct rm_native_report r = {0};
    assert_int_equal(rm_native_query(&self, 1, RM_NATIVE_WALK | RM_NATIVE_PARAMS, &r), ERROR_SUCCESS);
    assert_int_equal(helpers_started, 1);
    assert_int_equal(r.count, 0);
    rm_native_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(well_formed_report_parses_whole),
        cmocka_unit_test(report_not_ours_yields_nothing),
        cmocka_unit_test(report_cut_short_keeps_whole_records_only),
        cmocka_unit_test(malformed_records_are_dropped),
        cmocka_unit_test(helper_reports_what_it_sees),
        cmocka_unit_test_setup_teardown(os_reach_is_used_where_the_os_gives_it, fake_wow64_setup, fake_wow64_teardown),
        cmocka_unit_test_setup_teardown(helper_is_asked_where_the_os_does_not, fake_wow64_setup, fake_wow64_teardown),
    };
    return cmocka_run_group_tests_name("unit.native", tests, NULL, NULL);
}
