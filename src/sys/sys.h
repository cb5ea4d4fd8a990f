/*
 * The one table of OS entry points (DESIGN §4).
 *
 * Everything above src/sys calls the OS through rm_sys, never directly, so unit tests can
 * swap single entries to inject what real systems do rarely (a mutex that never comes free,
 * a section that cannot be created, an allocation that fails, a process that vanished).
 * rm_sys_reset() puts the real functions back.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_SYS_H
#define RM_SYS_H

#include <windows.h>
#include <winternl.h>

#include <string.h>

struct rm_sys_table {
    /* memory: every heap allocation of the DLL goes through here (fault injection) */
    void *(*alloc)(SIZE_T size);
    void (*free)(void *p);

    /* random: the session key */
    BOOL (*random_bytes)(void *buf, ULONG len);

    /* security */
    BOOL (WINAPI *OpenProcessToken)(HANDLE, DWORD, PHANDLE);
    BOOL (WINAPI *GetTokenInformation)(HANDLE, TOKEN_INFORMATION_CLASS, LPVOID, DWORD, PDWORD);
    BOOL (WINAPI *ConvertSidToStringSidW)(PSID, LPWSTR *);
    HLOCAL (WINAPI *LocalFree)(HLOCAL);

    /* named objects and sections */
    HANDLE (WINAPI *CreateMutexW)(LPSECURITY_ATTRIBUTES, BOOL, LPCWSTR);
    BOOL (WINAPI *ReleaseMutex)(HANDLE);
    DWORD (WINAPI *WaitForSingleObject)(HANDLE, DWORD);
    HANDLE (WINAPI *CreateFileMappingW)(HANDLE, LPSECURITY_ATTRIBUTES, DWORD, DWORD, DWORD, LPCWSTR);
    HANDLE (WINAPI *OpenFileMappingW)(DWORD, BOOL, LPCWSTR);
    LPVOID (WINAPI *MapViewOfFile)(HANDLE, DWORD, DWORD, DWORD, SIZE_T);
    BOOL (WINAPI *UnmapViewOfFile)(LPCVOID);
    LPVOID (WINAPI *VirtualAlloc)(LPVOID, SIZE_T, DWORD, DWORD);
    BOOL (WINAPI *CloseHandle)(HANDLE);

    /* processes */
    DWORD (WINAPI *GetCurrentProcessId)(void);
    HANDLE (WINAPI *OpenProcess)(DWORD, BOOL, DWORD);
    BOOL (WINAPI *GetProcessTimes)(HANDLE, LPFILETIME, LPFILETIME, LPFILETIME, LPFILETIME);
    BOOL (WINAPI *IsWow64Process)(HANDLE, PBOOL);

    /* paths */
    DWORD (WINAPI *GetFullPathNameW)(LPCWSTR, DWORD, LPWSTR, LPWSTR *);
    UINT (WINAPI *GetSystemWindowsDirectoryW)(LPWSTR, UINT);

    /* detection: files, handles, mapped images */
    NTSTATUS (NTAPI *NtQuerySystemInformation)(SYSTEM_INFORMATION_CLASS, PVOID, ULONG, PULONG);
    NTSTATUS (NTAPI *NtQueryInformationFile)(HANDLE, PIO_STATUS_BLOCK, PVOID, ULONG, FILE_INFORMATION_CLASS);
    NTSTATUS (NTAPI *NtQueryDirectoryFile)(HANDLE, HANDLE, PVOID, PVOID, PIO_STATUS_BLOCK, PVOID, ULONG,
                                           ULONG, BOOLEAN, PUNICODE_STRING, BOOLEAN);
    BOOL (WINAPI *DuplicateHandle)(HANDLE, HANDLE, HANDLE, LPHANDLE, DWORD, BOOL, DWORD);
    HANDLE (WINAPI *CreateFileW)(LPCWSTR, DWORD, DWORD, LPSECURITY_ATTRIBUTES, DWORD, DWORD, HANDLE);
    BOOL (WINAPI *GetFileInformationByHandle)(HANDLE, LPBY_HANDLE_FILE_INFORMATION);
    SIZE_T (WINAPI *VirtualQueryEx)(HANDLE, LPCVOID, PMEMORY_BASIC_INFORMATION, SIZE_T);
    /* MemoryMappedFilenameInformation (2): unlike GetMappedFileNameW, not limited to MAX_PATH */
    NTSTATUS (NTAPI *NtQueryVirtualMemory)(HANDLE, PVOID, ULONG, PVOID, SIZE_T, PSIZE_T);
    DWORD (WINAPI *QueryDosDeviceW)(LPCWSTR, LPWSTR, DWORD);

    /* threads: the worker that runs queries which might hang */
    HANDLE (WINAPI *CreateThread)(LPSECURITY_ATTRIBUTES, SIZE_T, LPTHREAD_START_ROUTINE, LPVOID, DWORD, LPDWORD);
    BOOL (WINAPI *TerminateThread)(HANDLE, DWORD);
    HANDLE (WINAPI *CreateEventW)(LPSECURITY_ATTRIBUTES, BOOL, BOOL, LPCWSTR);
    BOOL (WINAPI *SetEvent)(HANDLE);

    /* classification: processes, windows, version resources, sessions, restart settings */
    BOOL (WINAPI *QueryFullProcessImageNameW)(HANDLE, DWORD, LPWSTR, PDWORD);
    BOOL (WINAPI *ProcessIdToSessionId)(DWORD, DWORD *);
    BOOL (WINAPI *ReadProcessMemory)(HANDLE, LPCVOID, LPVOID, SIZE_T, SIZE_T *);
    NTSTATUS (NTAPI *NtQueryInformationProcess)(HANDLE, PROCESSINFOCLASS, PVOID, ULONG, PULONG);
    HRESULT (WINAPI *GetApplicationRestartSettings)(HANDLE, PWSTR, PDWORD, PDWORD);
    DWORD (WINAPI *GetEnvironmentVariableW)(LPCWSTR, LPWSTR, DWORD);
    BOOL (WINAPI *EnumWindows)(WNDENUMPROC, LPARAM);
    DWORD (WINAPI *GetWindowThreadProcessId)(HWND, LPDWORD);
    BOOL (WINAPI *IsWindowVisible)(HWND);
    HWND (WINAPI *GetWindow)(HWND, UINT);
    int (WINAPI *GetWindowTextW)(HWND, LPWSTR, int);
    DWORD (WINAPI *GetFileVersionInfoSizeW)(LPCWSTR, LPDWORD);
    BOOL (WINAPI *GetFileVersionInfoW)(LPCWSTR, DWORD, DWORD, LPVOID);
    BOOL (WINAPI *VerQueryValueW)(LPCVOID, LPCWSTR, LPVOID *, PUINT);

    /* services */
    SC_HANDLE (WINAPI *OpenSCManagerW)(LPCWSTR, LPCWSTR, DWORD);
    SC_HANDLE (WINAPI *OpenServiceW)(SC_HANDLE, LPCWSTR, DWORD);
    BOOL (WINAPI *QueryServiceStatusEx)(SC_HANDLE, SC_STATUS_TYPE, LPBYTE, DWORD, LPDWORD);
    BOOL (WINAPI *EnumDependentServicesW)(SC_HANDLE, DWORD, LPENUM_SERVICE_STATUSW, DWORD, LPDWORD, LPDWORD);
    BOOL (WINAPI *EnumServicesStatusExW)(SC_HANDLE, SC_ENUM_TYPE, DWORD, DWORD, LPBYTE, DWORD, LPDWORD,
                                         LPDWORD, LPDWORD, LPCWSTR);
    BOOL (WINAPI *GetServiceDisplayNameW)(SC_HANDLE, LPCWSTR, LPWSTR, LPDWORD);
    BOOL (WINAPI *CloseServiceHandle)(SC_HANDLE);

    /* shutdown and restart */
    LRESULT (WINAPI *SendMessageTimeoutW)(HWND, UINT, WPARAM, LPARAM, UINT, UINT, PDWORD_PTR);
    BOOL (WINAPI *PostMessageW)(HWND, UINT, WPARAM, LPARAM);
    BOOL (WINAPI *TerminateProcess)(HANDLE, UINT);
    BOOL (WINAPI *DuplicateTokenEx)(HANDLE, DWORD, LPSECURITY_ATTRIBUTES, SECURITY_IMPERSONATION_LEVEL,
                                    TOKEN_TYPE, PHANDLE);
    BOOL (WINAPI *CreateProcessW)(LPCWSTR, LPWSTR, LPSECURITY_ATTRIBUTES, LPSECURITY_ATTRIBUTES, BOOL, DWORD,
                                  LPVOID, LPCWSTR, LPSTARTUPINFOW, LPPROCESS_INFORMATION);
    BOOL (WINAPI *CreateProcessAsUserW)(HANDLE, LPCWSTR, LPWSTR, LPSECURITY_ATTRIBUTES, LPSECURITY_ATTRIBUTES, BOOL,
                                        DWORD, LPVOID, LPCWSTR, LPSTARTUPINFOW, LPPROCESS_INFORMATION);
    LSTATUS (WINAPI *RegGetValueW)(HKEY, LPCWSTR, LPCWSTR, DWORD, LPDWORD, PVOID, LPDWORD);
    BOOL (WINAPI *ControlService)(SC_HANDLE, DWORD, LPSERVICE_STATUS);
    BOOL (WINAPI *StartServiceW)(SC_HANDLE, DWORD, LPCWSTR *);
    DWORD (WINAPI *GetModuleFileNameW)(HMODULE, LPWSTR, DWORD);
    DWORD (WINAPI *GetConsoleProcessList)(LPDWORD, DWORD);
    UINT (WINAPI *GetSystemDirectoryW)(LPWSTR, UINT);
    BOOL (WINAPI *FreeConsole)(void);
    BOOL (WINAPI *AttachConsole)(DWORD);
    BOOL (WINAPI *SetConsoleCtrlHandler)(PHANDLER_ROUTINE, BOOL);
    BOOL (WINAPI *GenerateConsoleCtrlEvent)(DWORD, DWORD);
    BOOL (WINAPI *WriteFile)(HANDLE, LPCVOID, DWORD, LPDWORD, LPOVERLAPPED);
    void (WINAPI *OutputDebugStringA)(LPCSTR);

    /* a 32-bit caller's reach into 64-bit processes, where the OS gives it (src/detect/native.c);
     * resolved at run time: RM_STATUS_NOT_IMPLEMENTED where ntdll lacks them */
    NTSTATUS (NTAPI *NtWow64QueryInformationProcess64)(HANDLE, PROCESSINFOCLASS, PVOID, ULONG, PULONG);
    NTSTATUS (NTAPI *NtWow64ReadVirtualMemory64)(HANDLE, ULONG64, PVOID, ULONG64, PULONG64);
    NTSTATUS (NTAPI *NtWow64QueryVirtualMemory64)(HANDLE, ULONG64, ULONG, PVOID, ULONG64, PULONG64);

    /* the native helper's channel (src/detect/native.c) */
    BOOL (WINAPI *CreatePipe)(PHANDLE, PHANDLE, LPSECURITY_ATTRIBUTES, DWORD);
    BOOL (WINAPI *PeekNamedPipe)(HANDLE, LPVOID, DWORD, LPDWORD, LPDWORD, LPDWORD);
    BOOL (WINAPI *ReadFile)(HANDLE, LPVOID, DWORD, LPDWORD, LPOVERLAPPED);
};

#define RM_STATUS_NOT_IMPLEMENTED ((NTSTATUS)0xC0000002L)
#define RM_STATUS_PROCEDURE_NOT_FOUND ((NTSTATUS)0xC000007AL)

/* ---- tracing (src/sys/trace.c) -------------------------------------------------------------
 * RSTRTMGR_TRACE=<file> appends one line per event to that file; RSTRTMGR_TRACE=debugger sends
 * them to OutputDebugString. Off (and nearly free) otherwise. Read when the DLL first traces. */
#define RM_TRACE_ENV L"RSTRTMGR_TRACE"
int rm_trace_on(void);
void rm_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A caller's string made safe to trace: at most 100 units are read, whatever the caller passed
 * (it may be unterminated: the API refuses it, the trace must not overrun it). "-" for NULL. */
const WCHAR *rm_trace_text(const WCHAR *s, WCHAR out[104]);
/* Re-reads the variable (tests change it at run time). */
void rm_trace_reset(void);

/* This DLL's own module (set when it loads; NULL when linked statically, as in unit tests). */
extern HMODULE rm_module;

/* The current process's pseudo-handle: a constant, not an OS call. */
#define RM_CURRENT_PROCESS ((HANDLE)(LONG_PTR)-1)

extern struct rm_sys_table rm_sys;

/* Restores every entry to the real OS function. */
void rm_sys_reset(void);

/* Inline, so that every caller stays an allocation site of its own: the fault tests fail
 * allocations site by site, telling sites apart by return address. */
static inline void *rm_alloc_zero(SIZE_T size)
{
    void *p = rm_sys.alloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

/* count elements of `size` bytes, zeroed; NULL when the product does not fit a SIZE_T. Every
 * count that comes, however indirectly, from the shared store sizes its block through this:
 * on x86 a product of two 32-bit values wraps long before it runs out of memory. */
static inline void *rm_alloc_array_zero(SIZE_T count, SIZE_T size)
{
    if (size && count > (SIZE_T)-1 / size)
        return NULL;
    return rm_alloc_zero(count * size);
}


/* ---- helpers built on the table (src/sys/helpers.c) ---------------------------------------- */

enum rm_proc_state { RM_PROC_ALIVE, RM_PROC_GONE, RM_PROC_UNKNOWN };

/* Is the process with this PID *and* creation time still running? A different start time means
 * the PID was reused: the process we knew is gone. UNKNOWN when it can't be opened (access). */
enum rm_proc_state rm_process_state(DWORD pid, const FILETIME *start);

/* This process's identity (PID + creation time), computed once. */
void rm_self_identity(DWORD *pid, FILETIME *start);

/* The current user's SID as a string ("S-1-5-..."), computed once; NULL if unavailable. */
const WCHAR *rm_user_sid(void);

/* Security attributes granting the current user (and nobody else) full access. */
const SECURITY_ATTRIBUTES *rm_owner_only_sa(void);

/* What path normalisation needs to know about this process: is it a 32-bit process on 64-bit
 * Windows (file system redirection applies), and where is %windir%. */
struct rm_path_env {
    BOOL wow64;
    WCHAR windir[MAX_PATH + 1]; /* empty if unavailable */
};
void rm_path_env_init(struct rm_path_env *env);

/* The process's image path (Win32 form, any length the OS returns), allocated exactly; NULL
 * when it cannot be queried. The handle needs PROCESS_QUERY_LIMITED_INFORMATION. */
WCHAR *rm_process_image(HANDLE process);

/* Starts `rundll` running `dll`'s RmRunHelperW with args, detached from any console and
 * inheriting no handles. FALSE when the command does not fit or the process cannot start. */
BOOL rm_spawn_helper(const WCHAR *rundll, const WCHAR *dll, const WCHAR *args, HANDLE *process);

/* The API boundary keeps the caller's last-error value: callers check our return codes, and
 * what we call internally is none of their business. */
DWORD rm_last_error_save(void);
void rm_last_error_restore(DWORD saved);

#endif /* RM_SYS_H */
