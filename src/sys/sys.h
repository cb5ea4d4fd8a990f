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
};

extern struct rm_sys_table rm_sys;

/* Restores every entry to the real OS function. */
void rm_sys_reset(void);

/* Small helpers built only on the table. */
void *rm_alloc_zero(SIZE_T size);


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

/* The API boundary keeps the caller's last-error value: callers check our return codes, and
 * what we call internally is none of their business. */
DWORD rm_last_error_save(void);
void rm_last_error_restore(DWORD saved);

#endif /* RM_SYS_H */
