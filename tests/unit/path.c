/* Path text helpers: prefix stripping, WOW64 directory mapping, lengths, service names, NT
 * names to Win32 names. */
#include <windows.h>

#include "unit.h"

#include "detect/ntpath.h"
#include "session/path.h"

static uint16_t buf[512];

static void check_strip(const char *in, const char *want)
{
    uint16_t w[512];
    u16(buf, in);
    u16(w, want);
    size_t n = rm_path_strip_prefix(buf, rm_text_len(buf, 500));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, w, (n + 1) * 2);
}

static void strip_prefix_forms(void **state)
{
    (void)state;
    check_strip("\\\\?\\C:\\d\\file.dat", "C:\\d\\file.dat");
    check_strip("\\??\\c:\\x", "c:\\x");
    check_strip("\\\\.\\D:\\y", "D:\\y");
    check_strip("\\\\?\\UNC\\server\\share\\f", "\\\\server\\share\\f");
    check_strip("\\\\?\\unc\\s\\t", "\\\\s\\t");
    /* Kept: volume GUID paths, device paths without a drive, plain paths */
    check_strip("\\\\?\\Volume{1234}\\f", "\\\\?\\Volume{1234}\\f");
    check_strip("\\\\.\\pipe\\x", "\\\\.\\pipe\\x");
    check_strip("C:\\plain", "C:\\plain");
    check_strip("\\\\?\\", "\\\\?\\");
    check_strip("", "");
}

static void check_wow(const char *in, const char *want)
{
    uint16_t w[512], windir[32];
    u16(buf, in);
    u16(w, want);
    u16(windir, "C:\\windows");
    size_t n = rm_path_wow64_native(buf, rm_text_len(buf, 500), windir, 10);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, w, (n + 1) * 2);
}

static void wow64_maps_redirected_directories(void **state)
{
    (void)state;
    check_wow("C:\\Windows\\Sysnative\\kernel32.dll", "C:\\Windows\\System32\\kernel32.dll");
    check_wow("c:\\windows\\SYSNATIVE", "c:\\windows\\System32");
    check_wow("C:\\windows\\system32\\x.dll", "C:\\windows\\SysWOW64\\x.dll");
    check_wow("C:\\windows\\system32", "C:\\windows\\SysWOW64");
    /* exempt from redirection: unchanged */
    check_wow("C:\\windows\\system32\\drivers\\etc\\hosts", "C:\\windows\\system32\\drivers\\etc\\hosts");
    check_wow("C:\\windows\\system32\\spool\\x", "C:\\windows\\system32\\spool\\x");
    check_wow("C:\\windows\\system32\\catroot2\\x", "C:\\windows\\system32\\catroot2\\x");
    /* look-alikes: unchanged */
    check_wow("C:\\windows\\system32x\\a", "C:\\windows\\system32x\\a");
    check_wow("C:\\windows\\Sysnativez", "C:\\windows\\Sysnativez");
    check_wow("C:\\windowsx\\system32\\a", "C:\\windowsx\\system32\\a");
    check_wow("D:\\windows\\system32\\a", "D:\\windows\\system32\\a");
    check_wow("C:\\windows", "C:\\windows");
    check_wow("C:\\windows\\system32\\drivers\\x.sys", "C:\\windows\\SysWOW64\\drivers\\x.sys");
}

static void check_open(const char *in, const char *want)
{
    uint16_t w[512], windir[32];
    u16(buf, in);
    u16(w, want);
    u16(windir, "C:\\windows\\");
    size_t n = rm_path_native_for_wow64(buf, rm_text_len(buf, 500), windir, 11);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, w, (n + 1) * 2);
}

/* What the system reports as System32 is the native directory: a 32-bit caller reaches it as
 * Sysnative, exempt directories included (there both names give the same file). */
static void native_paths_opened_through_sysnative(void **state)
{
    (void)state;
    check_open("C:\\Windows\\System32\\notepad.exe", "C:\\Windows\\Sysnative\\notepad.exe");
    check_open("c:\\windows\\SYSTEM32", "c:\\windows\\Sysnative");
    check_open("C:\\windows\\system32\\drivers\\etc\\hosts", "C:\\windows\\Sysnative\\drivers\\etc\\hosts");
    /* Already what it names: unchanged */
    check_open("C:\\windows\\SysWOW64\\notepad.exe", "C:\\windows\\SysWOW64\\notepad.exe");
    check_open("C:\\windows\\Sysnative\\a", "C:\\windows\\Sysnative\\a");
    /* look-alikes: unchanged */
    check_open("C:\\windows\\system32x\\a", "C:\\windows\\system32x\\a");
    check_open("C:\\windowsx\\system32\\a", "C:\\windowsx\\system32\\a");
    check_open("D:\\windows\\system32\\a", "D:\\windows\\system32\\a");
    check_open("C:\\windows", "C:\\windows");
}

static void text_len_is_bounded(void **state)
{
    (void)state;
    uint16_t s[8] = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'};
    assert_int_equal(rm_text_len(s, 5), 6); /* no NUL within 5: reports max + 1 */
    s[3] = 0;
    assert_int_equal(rm_text_len(s, 5), 3);
    assert_int_equal(rm_text_len(s, 3), 3);
}

static void folding_and_equality(void **state)
{
    (void)state;
    uint16_t a[16], b[16];
    u16(a, "C:\\Dir\\File.TXT");
    u16(b, "c:\\dir\\file.txt");
    assert_true(rm_text_equal(a, 15, b, 15));
    assert_int_equal(rm_text_hash(a, 15), rm_text_hash(b, 15));
    b[3] = 'x';
    assert_false(rm_text_equal(a, 15, b, 15));
    assert_false(rm_text_equal(a, 15, b, 14));
    assert_int_equal(rm_fold16(0xe9), 0xc9); /* é */
    assert_int_equal(rm_fold16(0xf7), 0xf7); /* ÷ is not a letter */
    assert_int_equal(rm_fold16(0x444), 0x424); /* Cyrillic ф */
    assert_int_equal(rm_fold16(0x451), 0x401); /* ё */
    assert_int_equal(rm_fold16(0x3c9), 0x3a9); /* Greek ω */
    assert_int_equal(rm_fold16(0x3c2), 0x3a3); /* final sigma */
    assert_int_equal(rm_fold16(0x101), 0x100); /* ā */
    assert_int_equal(rm_fold16(0x13a), 0x139); /* ĺ */
    assert_int_equal(rm_fold16(0xff41), 0xff21); /* fullwidth a */
    assert_int_equal(rm_fold16(0x4e00), 0x4e00); /* no case */
}

static void service_names(void **state)
{
    (void)state;
    uint16_t s[300];
    u16(s, "Spooler");
    assert_true(rm_service_name_valid(s, 7));
    assert_false(rm_service_name_valid(s, 0));
    u16(s, "a/b");
    assert_false(rm_service_name_valid(s, 3));
    u16(s, "a\\b");
    assert_false(rm_service_name_valid(s, 3));
    for (int i = 0; i < 257; i++)
        s[i] = 'x';
    assert_true(rm_service_name_valid(s, 256));
    assert_false(rm_service_name_valid(s, 257));
}

/* NT names come from other processes' handles and mappings, counted, not NUL-terminated. Each
 * is placed so that its last unit is the last readable one: a read past the length faults. */
static void nt_names_are_read_within_their_length(void **state)
{
    (void)state;
    static const char *names[] = {"\\??\\", "\\??\\C", "\\??\\C:", "C", "C:", "\\??\\UNC\\",
                                  "\\Device\\Mup\\"};
    BYTE *pages = VirtualAlloc(NULL, 2 * 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    assert_non_null(pages);
    DWORD old;
    assert_true(VirtualProtect(pages + 4096, 4096, PAGE_NOACCESS, &old));
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t n = strlen(names[i]);
        uint16_t *at = (uint16_t *)(void *)(pages + 4096) - n;
        for (size_t k = 0; k < n; k++)
            at[k] = (uint8_t)names[i][k];
        uint16_t out[64];
        size_t got = rm_ntpath_to_win32(at, n, NULL, out, 64);
        /* None of them names a file; the UNC and Mup heads give an empty share name. */
        assert_true(got == 0 || got == 2);
    }
    VirtualFree(pages, 0, MEM_RELEASE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strip_prefix_forms),
        cmocka_unit_test(wow64_maps_redirected_directories),
        cmocka_unit_test(native_paths_opened_through_sysnative),
        cmocka_unit_test(text_len_is_bounded),
        cmocka_unit_test(folding_and_equality),
        cmocka_unit_test(service_names),
        cmocka_unit_test(nt_names_are_read_within_their_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
