/*
 * Detection with the OS table faked where real systems rarely misbehave: a handle query that
 * never returns, a handle table that keeps changing size, a process that exits between the
 * snapshot and OpenProcess, a kernel that answers FileProcessIdsUsingFileInformation. Real
 * files in a temporary directory give the registered identities; the process holding them is
 * this test itself.
 */
#include <windows.h>

#include "unit.h"

#include "handles.h"
#include "proc.h"

#include <stdio.h>

#include "detect/detect.h"
#include "detect/peheader.h"
#include "detect/worker.h"
#include "sys/sys.h"

static WCHAR dir[MAX_PATH], file_a[MAX_PATH], file_b[MAX_PATH];
static struct rm_text texts[2];
static struct rm_registrations regs;

static int setup(void **state)
{
    (void)state;
    rm_sys_reset();
    WCHAR tmp[MAX_PATH];
    GetTempPathW(MAX_PATH, tmp);
    _snwprintf(dir, MAX_PATH, L"%lsrm-unit-detect-%lu", tmp, GetCurrentProcessId());
    CreateDirectoryW(dir, NULL);
    _snwprintf(file_a, MAX_PATH, L"%ls\\a.dat", dir);
    _snwprintf(file_b, MAX_PATH, L"%ls\\b.dat", dir);
    for (int i = 0; i < 2; i++) {
        /* Detection running in another test process duplicates every File handle for a moment,
         * ours included, and under Wine that counts as the file being open: retry briefly. */
        HANDLE h = INVALID_HANDLE_VALUE;
        for (int tries = 0; tries < 50 && h == INVALID_HANDLE_VALUE; tries++) {
            h = CreateFileW(i ? file_b : file_a, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                            NULL, CREATE_ALWAYS, 0, NULL);
            if (h == INVALID_HANDLE_VALUE)
                Sleep(100);
        }
        assert_true(h != INVALID_HANDLE_VALUE);
        CloseHandle(h);
        texts[i].text = (const uint16_t *)(i ? file_b : file_a);
        texts[i].nchars = (uint32_t)wcslen(i ? file_b : file_a);
    }
    memset(&regs, 0, sizeof regs);
    regs.files = texts;
    regs.nfiles = 2;
    rm_test_handles_mark();
    return 0;
}

/* Fails a test that leaked handles. */
static int teardown(void **state)
{
    (void)state;
    rm_sys_reset();
    int leaked = rm_test_handles_unchanged();
    DeleteFileW(file_a);
    DeleteFileW(file_b);
    RemoveDirectoryW(dir);
    return leaked;
}

static HANDLE hold(const WCHAR *path)
{
    HANDLE h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    return h;
}

static const struct rm_holder *find_self(const struct rm_holders *h)
{
    for (uint32_t i = 0; i < h->count; i++)
        if (h->items[i].pid == GetCurrentProcessId())
            return &h->items[i];
    return NULL;
}

static void the_caller_holding_a_file_is_found(void **state)
{
    (void)state;
    struct rm_holders h = {0};
    assert_int_equal(rm_detect(&regs, NULL, &h), ERROR_SUCCESS);
    assert_null(find_self(&h)); /* nothing open yet */
    rm_holders_free(&h);

    HANDLE f = hold(file_a);
    assert_int_equal(rm_detect(&regs, NULL, &h), ERROR_SUCCESS);
    const struct rm_holder *me = find_self(&h);
    assert_non_null(me);
    assert_true(me->how & RM_HOLD_HANDLE);
    rm_holders_free(&h);
    CloseHandle(f);
}

/* ---- a query that never returns ------------------------------------------------------------ */

static HANDLE held;
static HANDLE never;
static BOOL(WINAPI *real_query)(HANDLE, LPBY_HANDLE_FILE_INFORMATION);

static BOOL WINAPI query_hangs_on_held(HANDLE h, LPBY_HANDLE_FILE_INFORMATION info)
{
    if (h == held)
        WaitForSingleObject(never, INFINITE); /* like a pipe with a read pending */
    return real_query(h, info);
}

static void a_hanging_query_costs_its_timeout_only(void **state)
{
    (void)state;
    struct rm_holders h = {0};
    HANDLE other = hold(file_b);
    held = hold(file_a);
    never = CreateEventW(NULL, TRUE, FALSE, NULL);
    real_query = rm_sys.GetFileInformationByHandle;
    rm_sys.GetFileInformationByHandle = query_hangs_on_held;
    ULONGLONG t0 = GetTickCount64();
    assert_int_equal(rm_detect(&regs, NULL, &h), ERROR_SUCCESS);
    ULONGLONG took = GetTickCount64() - t0;
    /* The hung handle is given up on; the other registered file still finds us. */
    const struct rm_holder *me = find_self(&h);
    assert_non_null(me);
    assert_true(me->how & RM_HOLD_HANDLE);
    assert_true(took < 30000); /* bounded, not a timing assertion: without the watchdog it never returns */
    rm_holders_free(&h);
    rm_sys_reset();
    CloseHandle(held);
    CloseHandle(other);
    CloseHandle(never);
}

/* ---- the handle table keeps growing -------------------------------------------------------- */

static int mismatches;
static NTSTATUS(NTAPI *real_qsi)(SYSTEM_INFORMATION_CLASS, PVOID, ULONG, PULONG);

static NTSTATUS NTAPI qsi_mismatch_n(SYSTEM_INFORMATION_CLASS c, PVOID buf, ULONG len, PULONG need)
{
    if (mismatches > 0) {
        mismatches--;
        *need = len + 4096; /* "grew again since you asked" */
        return (NTSTATUS)0xC0000004L;
    }
    return real_qsi(c, buf, len, need);
}

static void length_mismatch_is_retried_boundedly(void **state)
{
    (void)state;
    struct rm_holders h = {0};
    HANDLE f = hold(file_a);
    real_qsi = rm_sys.NtQuerySystemInformation;
    rm_sys.NtQuerySystemInformation = qsi_mismatch_n;
    mismatches = 3;
    assert_int_equal(rm_detect(&regs, NULL, &h), ERROR_SUCCESS);
    assert_non_null(find_self(&h));
    rm_holders_free(&h);
    mismatches = 1000; /* never settles: an error, not a loop */
    assert_int_equal(rm_detect(&regs, NULL, &h), ERROR_OUTOFMEMORY);
    rm_holders_free(&h);
    rm_sys_reset();
    CloseHandle(f);
}

/* ---- processes that vanish ------------------------------------------------------------------ */

static HANDLE WINAPI open_process_gone(DWORD access, BOOL inherit, DWORD pid)
{
    (void)access, (void)inherit, (void)pid;
    SetLastError(ERROR_INVALID_PARAMETER);
    return NULL;
}

static void a_process_gone_after_the_snapshot_is_skipped(void **state)
{
    (void)state;
    struct rm_holders h = {0};
    HANDLE f = hold(file_a);
    rm_sys.OpenProcess = open_process_gone; /* every other process "exited" meanwhile */
    assert_int_equal(rm_detect(&regs, NULL, &h), ERROR_SUCCESS);
    assert_int_equal(h.count, 1); /* only ourselves, opened without OpenProcess */
    assert_int_equal(h.items[0].pid, GetCurrentProcessId());
    rm_holders_free(&h);
    rm_sys_reset();
    CloseHandle(f);
}

/* ---- a kernel that knows who uses a file ---------------------------------------------------- */

static int kernel_calls, snapshot_calls;
static DWORD fake_user_pid;

static NTSTATUS NTAPI kernel_knows(HANDLE h, PIO_STATUS_BLOCK io, PVOID buf, ULONG len, FILE_INFORMATION_CLASS c)
{
    (void)h, (void)io;
    if (c != 47)
        return (NTSTATUS)0xC0000002L;
    kernel_calls++;
    if (len < 2 * sizeof(ULONG_PTR))
        return (NTSTATUS)0xC0000004L;
    ULONG_PTR *p = buf;
    *(ULONG *)buf = 1;
    p[1] = fake_user_pid;
    return 0;
}

static NTSTATUS NTAPI counting_qsi(SYSTEM_INFORMATION_CLASS c, PVOID buf, ULONG len, PULONG need)
{
    snapshot_calls++;
    return real_qsi(c, buf, len, need);
}

static void the_kernel_path_is_used_where_it_answers(void **state)
{
    (void)state;
    struct rm_holders h = {0};
    /* A real other process for the kernel to "report": a child that just waits. */
    STARTUPINFOW si = {0};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi;
    WCHAR cmd[] = L"cmd.exe /c ping -n 30 127.0.0.1 >nul";
    assert_true(rm_test_create_process(NULL, cmd, FALSE, CREATE_NO_WINDOW, NULL, &si, &pi));
    fake_user_pid = pi.dwProcessId;
    real_qsi = rm_sys.NtQuerySystemInformation;
    rm_sys.NtQueryInformationFile = kernel_knows;
    rm_sys.NtQuerySystemInformation = counting_qsi;
    kernel_calls = snapshot_calls = 0;
    assert_int_equal(rm_detect(&regs, NULL, &h), ERROR_SUCCESS);
    assert_int_equal(kernel_calls, 2); /* one question per existing registered file */
    assert_int_equal(snapshot_calls, 1); /* only to look at the caller's own handles */
    assert_int_equal(h.count, 1);
    assert_int_equal(h.items[0].pid, pi.dwProcessId);
    assert_true(h.items[0].how & RM_HOLD_HANDLE);
    rm_holders_free(&h);
    rm_sys_reset();
    TerminateProcess(pi.hProcess, 0);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
}

/* ---- directories, missing files, cancellation ---------------------------------------------- */

static void a_registered_directory_is_access_denied(void **state)
{
    (void)state;
    struct rm_holders h = {0};
    struct rm_text d[1] = {{(const uint16_t *)dir, (uint32_t)wcslen(dir)}};
    struct rm_registrations r = {0};
    r.files = d;
    r.nfiles = 1;
    assert_int_equal(rm_detect(&r, NULL, &h), ERROR_ACCESS_DENIED);
    rm_holders_free(&h);
}

static void missing_files_are_skipped(void **state)
{
    (void)state;
    struct rm_holders h = {0};
    WCHAR missing[MAX_PATH];
    _snwprintf(missing, MAX_PATH, L"%ls\\not-there.dat", dir);
    struct rm_text m[1] = {{(const uint16_t *)missing, (uint32_t)wcslen(missing)}};
    struct rm_registrations r = {0};
    r.files = m;
    r.nfiles = 1;
    assert_int_equal(rm_detect(&r, NULL, &h), ERROR_SUCCESS);
    assert_int_equal(h.count, 0);
    rm_holders_free(&h);
}

static void a_cancel_request_stops_detection(void **state)
{
    (void)state;
    struct rm_holders h = {0};
    HANDLE f = hold(file_a);
    volatile LONG requests = 5;
    struct rm_cancel c = {&requests, 4}; /* a request came in after the call started */
    assert_int_equal(rm_detect(&regs, &c, &h), ERROR_CANCELLED);
    rm_holders_free(&h);
    c.seen = 5;
    assert_int_equal(rm_detect(&regs, &c, &h), ERROR_SUCCESS);
    rm_holders_free(&h);
    CloseHandle(f);
}

/* ---- images: one header read instead of a query per section ------------------------------------ */

static void image_headers_are_read_defensively(void **state)
{
    (void)state;
    uint8_t h[512];
    uint32_t size = 0;
    memset(h, 0, sizeof h);
    h[0] = 'M';
    h[1] = 'Z';
    uint32_t lfanew = 0x80;
    memcpy(h + 0x3c, &lfanew, 4);
    memcpy(h + lfanew, "PE\0\0", 4);
    uint32_t want = 0x123000;
    memcpy(h + lfanew + 80, &want, 4);
    assert_true(rm_pe_image_size(h, sizeof h, &size));
    assert_int_equal(size, want);

    /* The same header cut off one byte before SizeOfImage ends, or before the DOS header does. */
    assert_false(rm_pe_image_size(h, lfanew + 83, &size));
    assert_false(rm_pe_image_size(h, 0x3f, &size));
    /* e_lfanew past the bytes read, far past, and "negative". */
    static const uint32_t bad_lfanew[] = {512 - 83, 512, 0x7fffffffu, 0xfffffff0u};
    for (size_t i = 0; i < ARRAYSIZE(bad_lfanew); i++) {
        memcpy(h + 0x3c, &bad_lfanew[i], 4);
        assert_false(rm_pe_image_size(h, sizeof h, &size));
    }
    memcpy(h + 0x3c, &lfanew, 4);
    h[lfanew + 1] = 'X'; /* no PE signature */
    assert_false(rm_pe_image_size(h, sizeof h, &size));
    h[lfanew + 1] = 'E';
    h[0] = 'Z'; /* no MZ */
    assert_false(rm_pe_image_size(h, sizeof h, &size));
    h[0] = 'M';
    want = 0;
    memcpy(h + lfanew + 80, &want, 4);
    assert_false(rm_pe_image_size(h, sizeof h, &size));
}

static SIZE_T(WINAPI *real_vq)(HANDLE, LPCVOID, PMEMORY_BASIC_INFORMATION, SIZE_T);
static volatile LONG own_queries;

static SIZE_T WINAPI counting_vq(HANDLE p, LPCVOID at, PMEMORY_BASIC_INFORMATION m, SIZE_T n)
{
    if (p == GetCurrentProcess())
        InterlockedIncrement(&own_queries);
    return real_vq(p, at, m, n);
}

/* Region by region, as a walk would go without reading headers. */
static LONG regions_of_this_process(void)
{
    MEMORY_BASIC_INFORMATION m;
    const BYTE *at = NULL;
    LONG n = 0;
    while (VirtualQuery(at, &m, sizeof m) && (const BYTE *)m.BaseAddress + m.RegionSize > at) {
        n++;
        at = (const BYTE *)m.BaseAddress + m.RegionSize;
    }
    return n;
}

static void images_are_passed_over_in_a_few_queries(void **state)
{
    (void)state;
    struct rm_holders h = {0};
    HANDLE f = hold(file_a);
    real_vq = rm_sys.VirtualQueryEx;
    rm_sys.VirtualQueryEx = counting_vq;
    own_queries = 0;
    assert_int_equal(rm_detect(&regs, NULL, &h), ERROR_SUCCESS);
    rm_sys_reset();
    LONG full = regions_of_this_process();
    print_message("this process: %ld regions, walked in %ld queries\n", full, (long)own_queries);
    assert_true(own_queries > 0);
    assert_true(own_queries < full);
    assert_non_null(find_self(&h));
    rm_holders_free(&h);
    CloseHandle(f);
}

/* Maps `section` at the first free 64 KiB-aligned place that lies above the start of some loaded
 * image, within the 4 GiB a SizeOfImage can span, and returns that image's base in `*image`. A
 * fixed DLL will not do: in a 32-bit process the DLLs sit packed together, and the space above
 * any one of them may all be taken, while some image always has free space above it. */
static BYTE *map_above_an_image(HANDLE section, SIZE_T size, BYTE **image)
{
    MEMORY_BASIC_INFORMATION m;
    BYTE *last_image = NULL;
    for (ULONG_PTR at = 0; VirtualQuery((void *)at, &m, sizeof m); at = (ULONG_PTR)m.BaseAddress + m.RegionSize) {
        if (m.Type == MEM_IMAGE && m.BaseAddress == m.AllocationBase &&
            ((IMAGE_DOS_HEADER *)m.BaseAddress)->e_magic == IMAGE_DOS_SIGNATURE)
            last_image = m.BaseAddress;
        if (m.State != MEM_FREE || !last_image)
            continue;
        ULONG_PTR from = ((ULONG_PTR)m.BaseAddress + 0xffff) & ~(ULONG_PTR)0xffff;
        ULONG_PTR to = (ULONG_PTR)m.BaseAddress + m.RegionSize;
        if (from >= to || to - from < size || (uint64_t)from + size - (uint64_t)(ULONG_PTR)last_image > UINT32_MAX)
            continue;
        BYTE *view = MapViewOfFileEx(section, FILE_MAP_READ, 0, 0, size, (void *)from);
        if (view) {
            *image = last_image;
            return view;
        }
    }
    return NULL;
}

/* The header belongs to the process being looked at, which may have rewritten it. An image that
 * claims to reach over a view of a registered file must not hide that view. Runs the same on x86
 * and x64: the image is chosen by where a view can be placed above it. */
static void a_rewritten_image_header_hides_no_view(void **state)
{
    (void)state;
    HANDLE file = CreateFileW(file_a, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                              OPEN_EXISTING, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    static BYTE page[4096];
    DWORD wrote;
    assert_true(WriteFile(file, page, sizeof page, &wrote, NULL));
    HANDLE section = CreateFileMappingW(file, NULL, PAGE_READONLY, 0, 0, NULL);
    assert_non_null(section);
    BYTE *base = NULL;
    BYTE *view = map_above_an_image(section, sizeof page, &base);
    CloseHandle(section);
    CloseHandle(file);
    /* No place at all would mean the test tests nothing: that is a failure, not a skip. */
    assert_non_null(view);
    print_message("view of the registered file at %p, above the image at %p\n", (void *)view, (void *)base);

    IMAGE_NT_HEADERS *nt = (IMAGE_NT_HEADERS *)(void *)(base + ((IMAGE_DOS_HEADER *)(void *)base)->e_lfanew);
    DWORD real_size = nt->OptionalHeader.SizeOfImage;
    assert_true(base + real_size <= view);
    DWORD old;
    assert_true(VirtualProtect(nt, sizeof *nt, PAGE_READWRITE, &old));
    nt->OptionalHeader.SizeOfImage = (DWORD)(view + sizeof page - base);
    struct rm_holders h = {0};
    DWORD err = rm_detect(&regs, NULL, &h);
    nt->OptionalHeader.SizeOfImage = real_size;
    VirtualProtect(nt, sizeof *nt, old, &old);
    UnmapViewOfFile(view);

    assert_int_equal(err, ERROR_SUCCESS);
    const struct rm_holder *me = find_self(&h);
    assert_non_null(me);
    assert_true(me->how & RM_HOLD_MAPPED);
    rm_holders_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_caller_holding_a_file_is_found, setup, teardown),
        cmocka_unit_test_setup_teardown(a_hanging_query_costs_its_timeout_only, setup, teardown),
        cmocka_unit_test_setup_teardown(length_mismatch_is_retried_boundedly, setup, teardown),
        cmocka_unit_test_setup_teardown(a_process_gone_after_the_snapshot_is_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(the_kernel_path_is_used_where_it_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(a_registered_directory_is_access_denied, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_files_are_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(a_cancel_request_stops_detection, setup, teardown),
        cmocka_unit_test(image_headers_are_read_defensively),
        cmocka_unit_test_setup_teardown(images_are_passed_over_in_a_few_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(a_rewritten_image_header_hides_no_view, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
