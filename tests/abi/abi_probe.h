/*
 * Run-time checks shared by the ABI consumer programs: each consumer is built a different way
 * (MinGW-w64's own header, an MSVC-style link against rstrtmgr.lib, an installed package) and
 * then asks the same questions of the DLL it got.
 *
 * Kernel32 only and no C runtime, because the MSVC-linked consumer has none. Include after
 * <windows.h> and whichever restartmanager.h the consumer is testing; it calls the Rm functions
 * through that header's declarations, so the import path under test is the one used.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ABI_PROBE_H
#define ABI_PROBE_H

#include <windows.h>

#define ABI_KEY_CHARS 32
#define ABI_KEY_BUF 64
#define ABI_SENTINEL ((WCHAR)0xCCCC) /* not a hex digit, not NUL: any stray write shows */
#define ABI_PATH_CHARS 520

static int abi_failures;

static void abi_write(const char *s)
{
    DWORD len = 0, written = 0;
    while (s[len])
        len++;
    WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), s, len, &written, NULL);
}

static void abi_write_u(unsigned long v)
{
    char buf[12];
    int i = (int)sizeof(buf) - 1;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i > 0);
    abi_write(buf + i);
}

/* Wide text is printed as ASCII with '?' for anything else: enough for keys and Wine paths. */
static void abi_write_w(const WCHAR *s)
{
    char buf[2];
    buf[1] = 0;
    for (; *s; s++) {
        buf[0] = (*s >= 0x20 && *s < 0x7f) ? (char)*s : '?';
        abi_write(buf);
    }
}

static void abi_fail(const char *what)
{
    abi_failures++;
    abi_write("FAIL: ");
    abi_write(what);
    abi_write("\n");
}

static void abi_expect_rc(const char *call, DWORD got, DWORD want)
{
    if (got == want)
        return;
    abi_failures++;
    abi_write("FAIL: ");
    abi_write(call);
    abi_write(" returned ");
    abi_write_u(got);
    abi_write(", expected ");
    abi_write_u(want);
    abi_write("\n");
}

static int abi_is_lower_hex(WCHAR c)
{
    return (c >= L'0' && c <= L'9') || (c >= L'a' && c <= L'f');
}

/* Callers copy exactly 33 WCHARs and trust the NUL, so both the digits and the bytes after the
 * NUL matter; Wine's builtin stub leaves the whole buffer untouched, which fails here too. */
static void abi_check_key(const WCHAR *key)
{
    int i;
    for (i = 0; i < ABI_KEY_CHARS; i++) {
        if (!abi_is_lower_hex(key[i])) {
            abi_fail("session key is not 32 lowercase hex digits (Wine's builtin stub loaded?)");
            return;
        }
    }
    if (key[ABI_KEY_CHARS] != 0)
        abi_fail("session key is not NUL-terminated after 32 characters");
    for (i = ABI_KEY_CHARS + 1; i < ABI_KEY_BUF; i++) {
        if (key[i] != ABI_SENTINEL) {
            abi_fail("RmStartSession wrote past the 33 WCHARs of the key");
            return;
        }
    }
    abi_write("session key: ");
    abi_write_w(key);
    abi_write("\n");
}

static int abi_exe_path(WCHAR *path)
{
    DWORD n = GetModuleFileNameW(NULL, path, ABI_PATH_CHARS);
    return n > 0 && n < ABI_PATH_CHARS;
}

/* The DLL must be the one beside the program (the build or install tree under test), not a
 * copy elsewhere on the search path. Wine reports its builtin under the path of the file it
 * stands in for, so this cannot tell the builtin from ours; the key check above does. */
static void abi_check_module_beside_exe(HMODULE module)
{
    static const WCHAR dll_name[] = L"rstrtmgr.dll";
    WCHAR loaded[ABI_PATH_CHARS], expected[ABI_PATH_CHARS];
    DWORD n;
    int i, slash = -1;

    n = GetModuleFileNameW(module, loaded, ABI_PATH_CHARS);
    if (n == 0 || n >= ABI_PATH_CHARS || !abi_exe_path(expected)) {
        abi_fail("GetModuleFileNameW failed");
        return;
    }
    for (i = 0; expected[i]; i++)
        if (expected[i] == L'\\' || expected[i] == L'/')
            slash = i;
    if (slash < 0 || slash + 1 + (int)(sizeof(dll_name) / sizeof(WCHAR)) > ABI_PATH_CHARS) {
        abi_fail("unexpected program path");
        return;
    }
    for (i = 0; dll_name[i]; i++)
        expected[slash + 1 + i] = dll_name[i];
    expected[slash + 1 + i] = 0;

    abi_write("loaded: ");
    abi_write_w(loaded);
    abi_write("\n");
    if (lstrcmpiW(loaded, expected) != 0) {
        abi_write("expected: ");
        abi_write_w(expected);
        abi_write("\n");
        abi_fail("rstrtmgr.dll was not loaded from the program's directory");
    }
}

/* Run-time binding by plain name, as Inno Setup and WiX do. */
static void abi_check_exports(HMODULE module)
{
    static const char *const names[] = {
        "RmAddFilter", "RmCancelCurrentTask", "RmEndSession", "RmGetFilterList",
        "RmGetList", "RmJoinSession", "RmRegisterResources", "RmRemoveFilter",
        "RmReserveHeap", "RmRestart", "RmShutdown", "RmStartSession",
    };
    unsigned i;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!GetProcAddress(module, names[i])) {
            abi_failures++;
            abi_write("FAIL: GetProcAddress(\"");
            abi_write(names[i]);
            abi_write("\") returned NULL\n");
        }
    }
}

/* A session's life through the import library: start, register one file, end, and end again,
 * which must be ERROR_INVALID_HANDLE (a stub that returns 0 for everything fails here). */
static void abi_check_session(void)
{
    WCHAR key[ABI_KEY_BUF], exe[ABI_PATH_CHARS];
    LPCWSTR files[1];
    DWORD handle = 0xdeadbeef, rc;
    int i;

    for (i = 0; i < ABI_KEY_BUF; i++)
        key[i] = ABI_SENTINEL;
    rc = RmStartSession(&handle, 0, key);
    abi_expect_rc("RmStartSession", rc, ERROR_SUCCESS);
    if (rc != ERROR_SUCCESS)
        return;
    abi_check_key(key);

    if (!abi_exe_path(exe)) {
        abi_fail("GetModuleFileNameW(NULL) failed");
    } else {
        files[0] = exe;
        abi_expect_rc("RmRegisterResources", RmRegisterResources(handle, 1, files, 0, NULL, 0, NULL),
                      ERROR_SUCCESS);
    }
    abi_expect_rc("RmEndSession", RmEndSession(handle), ERROR_SUCCESS);
    abi_expect_rc("second RmEndSession", RmEndSession(handle), ERROR_INVALID_HANDLE);
}

/* Returns the number of failed checks; prints each one. */
static int abi_probe_run(void)
{
    HMODULE module;

    abi_check_session();
    module = GetModuleHandleW(L"rstrtmgr.dll");
    if (!module) {
        abi_fail("rstrtmgr.dll is not loaded after calling it");
    } else {
        abi_check_module_beside_exe(module);
        abi_check_exports(module);
    }
    abi_write(abi_failures ? "ABI probe: FAILED\n" : "ABI probe: all checks passed\n");
    return abi_failures;
}

#endif /* ABI_PROBE_H */
