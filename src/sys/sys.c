/*
 * The real OS entry points behind rm_sys.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sys.h"

#include <bcrypt.h>
#include <psapi.h>
#include <sddl.h>

static void *sys_alloc(SIZE_T size)
{
    return HeapAlloc(GetProcessHeap(), 0, size ? size : 1);
}

static void sys_free(void *p)
{
    if (p)
        HeapFree(GetProcessHeap(), 0, p);
}

/* The system-preferred CSPRNG (the key is the only credential for joining a session). */
static BOOL sys_random_bytes(void *buf, ULONG len)
{
    return BCRYPT_SUCCESS(BCryptGenRandom(NULL, buf, len, BCRYPT_USE_SYSTEM_PREFERRED_RNG));
}

/* ntdll exports that MinGW-w64's headers do not declare: resolved on first use. */
typedef NTSTATUS(NTAPI *query_directory_fn)(HANDLE, HANDLE, PVOID, PVOID, PIO_STATUS_BLOCK, PVOID, ULONG, ULONG,
                                            BOOLEAN, PUNICODE_STRING, BOOLEAN);

static NTSTATUS NTAPI sys_NtQueryDirectoryFile(HANDLE h, HANDLE ev, PVOID apc, PVOID ctx, PIO_STATUS_BLOCK io,
                                               PVOID buf, ULONG len, ULONG cls, BOOLEAN single,
                                               PUNICODE_STRING mask, BOOLEAN restart)
{
    static query_directory_fn fn;
    if (!fn)
        fn = (query_directory_fn)(void (*)(void))GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQueryDirectoryFile");
    return fn ? fn(h, ev, apc, ctx, io, buf, len, cls, single, mask, restart) : (NTSTATUS)0xC0000002L;
}

typedef NTSTATUS(NTAPI *query_memory_fn)(HANDLE, PVOID, ULONG, PVOID, SIZE_T, PSIZE_T);

static NTSTATUS NTAPI sys_NtQueryVirtualMemory(HANDLE p, PVOID at, ULONG cls, PVOID buf, SIZE_T len, PSIZE_T ret)
{
    static query_memory_fn fn;
    if (!fn)
        fn = (query_memory_fn)(void (*)(void))GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQueryVirtualMemory");
    return fn ? fn(p, at, cls, buf, len, ret) : (NTSTATUS)0xC0000002L;
}

/* Resolved at run time: older systems lack it, and a missing import would keep the DLL from
 * loading at all. */
typedef HRESULT(WINAPI *restart_settings_fn)(HANDLE, PWSTR, PDWORD, PDWORD);

static HRESULT WINAPI sys_GetApplicationRestartSettings(HANDLE p, PWSTR cmd, PDWORD size, PDWORD flags)
{
    static restart_settings_fn fn;
    if (!fn)
        fn = (restart_settings_fn)(void (*)(void))GetProcAddress(GetModuleHandleW(L"kernel32.dll"),
                                                                 "GetApplicationRestartSettings");
    return fn ? fn(p, cmd, size, flags) : E_NOTIMPL;
}

/* Exported by a WOW64 process's ntdll on Windows; Wine 8 has the read only. */
static FARPROC ntdll_proc(const char *name)
{
    return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), name);
}

typedef NTSTATUS(NTAPI *wow64_info_fn)(HANDLE, PROCESSINFOCLASS, PVOID, ULONG, PULONG);
typedef NTSTATUS(NTAPI *wow64_read_fn)(HANDLE, ULONG64, PVOID, ULONG64, PULONG64);
typedef NTSTATUS(NTAPI *wow64_query_fn)(HANDLE, ULONG64, ULONG, PVOID, ULONG64, PULONG64);

static NTSTATUS NTAPI sys_NtWow64QueryInformationProcess64(HANDLE p, PROCESSINFOCLASS c, PVOID b, ULONG n, PULONG r)
{
    wow64_info_fn fn = (wow64_info_fn)(void (*)(void))ntdll_proc("NtWow64QueryInformationProcess64");
    return fn ? fn(p, c, b, n, r) : RM_STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI sys_NtWow64ReadVirtualMemory64(HANDLE p, ULONG64 at, PVOID b, ULONG64 n, PULONG64 r)
{
    wow64_read_fn fn = (wow64_read_fn)(void (*)(void))ntdll_proc("NtWow64ReadVirtualMemory64");
    return fn ? fn(p, at, b, n, r) : RM_STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI sys_NtWow64QueryVirtualMemory64(HANDLE p, ULONG64 at, ULONG c, PVOID b, ULONG64 n, PULONG64 r)
{
    wow64_query_fn fn = (wow64_query_fn)(void (*)(void))ntdll_proc("NtWow64QueryVirtualMemory64");
    return fn ? fn(p, at, c, b, n, r) : RM_STATUS_NOT_IMPLEMENTED;
}

/* One list, used for the live table and for the pristine copy that rm_sys_reset restores. */
#define RM_SYS_REAL_ENTRIES                                                                   \
    {                                                                                         \
        sys_alloc, sys_free, sys_random_bytes, OpenProcessToken, GetTokenInformation,         \
        ConvertSidToStringSidW, LocalFree, CreateMutexW, ReleaseMutex, WaitForSingleObject,   \
        CreateFileMappingW, OpenFileMappingW, MapViewOfFile, UnmapViewOfFile, VirtualAlloc,   \
        CloseHandle, GetCurrentProcessId, OpenProcess, GetProcessTimes, IsWow64Process,       \
        GetFullPathNameW, GetSystemWindowsDirectoryW, NtQuerySystemInformation,               \
        NtQueryInformationFile, sys_NtQueryDirectoryFile, DuplicateHandle, CreateFileW,       \
        GetFileInformationByHandle, VirtualQueryEx, sys_NtQueryVirtualMemory, QueryDosDeviceW,   \
        CreateThread, TerminateThread, CreateEventW, SetEvent, QueryFullProcessImageNameW,    \
        ProcessIdToSessionId, ReadProcessMemory, NtQueryInformationProcess,                   \
        sys_GetApplicationRestartSettings, GetEnvironmentVariableW, EnumWindows,              \
        GetWindowThreadProcessId, IsWindowVisible, GetWindow, GetWindowTextW,                 \
        GetFileVersionInfoSizeW, GetFileVersionInfoW, VerQueryValueW, OpenSCManagerW,         \
        OpenServiceW, QueryServiceStatusEx, EnumDependentServicesW, EnumServicesStatusExW,    \
        GetServiceDisplayNameW, CloseServiceHandle, SendMessageTimeoutW, PostMessageW,        \
        TerminateProcess, DuplicateTokenEx, CreateProcessW, CreateProcessAsUserW, RegGetValueW, \
        ControlService, StartServiceW, GetModuleFileNameW, GetConsoleProcessList,             \
        GetSystemDirectoryW, FreeConsole, AttachConsole, SetConsoleCtrlHandler,               \
        GenerateConsoleCtrlEvent, WriteFile, OutputDebugStringA,                              \
        sys_NtWow64QueryInformationProcess64, sys_NtWow64ReadVirtualMemory64,                 \
        sys_NtWow64QueryVirtualMemory64, CreatePipe, PeekNamedPipe, ReadFile,                 \
    }

static const struct rm_sys_table rm_sys_real = RM_SYS_REAL_ENTRIES;
struct rm_sys_table rm_sys = RM_SYS_REAL_ENTRIES;

HMODULE rm_module;

/* Remembers our module for the helpers we start (rundll32 needs our path). */
BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH) {
        rm_module = inst;
        DisableThreadLibraryCalls(inst);
    }
    return TRUE;
}

void rm_sys_reset(void)
{
    rm_sys = rm_sys_real;
}
