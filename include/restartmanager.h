/*
 * restartmanager.h - public interface of rstrtmgr, an open-source Restart Manager DLL.
 *
 * Source-compatible with the Windows SDK header of the same name: same types, constants,
 * enumerations, structure layouts and prototypes. It also defines the five Restart Manager
 * error codes that MinGW-w64's <winerror.h> lacks.
 *
 * If MinGW-w64's own <restartmanager.h> was included first, this header only adds the
 * missing error codes and the layout checks, so either include order compiles.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RSTRTMGR_RESTARTMANAGER_H
#define RSTRTMGR_RESTARTMANAGER_H

#include <windows.h>

/* Error codes used by the Restart Manager that MinGW-w64 (Debian bookworm) does not define.
 * Values from the Windows SDK winerror.h. */
#ifndef ERROR_FAIL_NOACTION_REBOOT
#define ERROR_FAIL_NOACTION_REBOOT 350L
#endif
#ifndef ERROR_FAIL_SHUTDOWN
#define ERROR_FAIL_SHUTDOWN 351L
#endif
#ifndef ERROR_FAIL_RESTART
#define ERROR_FAIL_RESTART 352L
#endif
#ifndef ERROR_MAX_SESSIONS_REACHED
#define ERROR_MAX_SESSIONS_REACHED 353L
#endif
#ifndef ERROR_REQUEST_OUT_OF_SEQUENCE
#define ERROR_REQUEST_OUT_OF_SEQUENCE 776L
#endif

#ifndef _INC_RESTARTMANAGER /* MinGW-w64's guard: define everything only once */
#define _INC_RESTARTMANAGER

#ifdef __cplusplus
extern "C" {
#endif

/* Parenthesised, unlike some copies, so that each is one operand: x / CCH_RM_SESSION_KEY works. */
#define RM_SESSION_KEY_LEN (sizeof(GUID))
#define CCH_RM_SESSION_KEY (RM_SESSION_KEY_LEN * 2)
#define CCH_RM_MAX_APP_NAME 255
#define CCH_RM_MAX_SVC_NAME 63
#define RM_INVALID_TS_SESSION (-1)
#define RM_INVALID_PROCESS (-1)

typedef enum _RM_APP_TYPE {
    RmUnknownApp = 0,
    RmMainWindow = 1,
    RmOtherWindow = 2,
    RmService = 3,
    RmExplorer = 4,
    RmConsole = 5,
    RmCritical = 1000
} RM_APP_TYPE;

typedef enum _RM_SHUTDOWN_TYPE {
    RmForceShutdown = 0x1,
    RmShutdownOnlyRegistered = 0x10
} RM_SHUTDOWN_TYPE;

typedef enum _RM_APP_STATUS {
    RmStatusUnknown = 0x0,
    RmStatusRunning = 0x1,
    RmStatusStopped = 0x2,
    RmStatusStoppedOther = 0x4,
    RmStatusRestarted = 0x8,
    RmStatusErrorOnStop = 0x10,
    RmStatusErrorOnRestart = 0x20,
    RmStatusShutdownMasked = 0x40,
    RmStatusRestartMasked = 0x80
} RM_APP_STATUS;

typedef enum _RM_REBOOT_REASON {
    RmRebootReasonNone = 0x0,
    RmRebootReasonPermissionDenied = 0x1,
    RmRebootReasonSessionMismatch = 0x2,
    RmRebootReasonCriticalProcess = 0x4,
    RmRebootReasonCriticalService = 0x8,
    RmRebootReasonDetectedSelf = 0x10
} RM_REBOOT_REASON;

typedef enum _RM_FILTER_TRIGGER {
    RmFilterTriggerInvalid = 0,
    RmFilterTriggerFile = 1,
    RmFilterTriggerProcess = 2,
    RmFilterTriggerService = 3
} RM_FILTER_TRIGGER;

typedef enum _RM_FILTER_ACTION {
    RmInvalidFilterAction = 0,
    RmNoRestart = 1,
    RmNoShutdown = 2
} RM_FILTER_ACTION;

typedef struct _RM_UNIQUE_PROCESS {
    DWORD dwProcessId;
    FILETIME ProcessStartTime;
} RM_UNIQUE_PROCESS, *PRM_UNIQUE_PROCESS;

typedef struct _RM_PROCESS_INFO {
    RM_UNIQUE_PROCESS Process;
    WCHAR strAppName[CCH_RM_MAX_APP_NAME + 1];
    WCHAR strServiceShortName[CCH_RM_MAX_SVC_NAME + 1];
    RM_APP_TYPE ApplicationType;
    ULONG AppStatus;
    DWORD TSSessionId;
    BOOL bRestartable;
} RM_PROCESS_INFO, *PRM_PROCESS_INFO;

typedef struct _RM_FILTER_INFO {
    RM_FILTER_ACTION FilterAction;
    RM_FILTER_TRIGGER FilterTrigger;
    DWORD cbNextOffset;
    union {
        LPWSTR strFilename;
        RM_UNIQUE_PROCESS Process;
        LPWSTR strServiceShortName;
    };
} RM_FILTER_INFO, *PRM_FILTER_INFO;

/* No calling convention on purpose: the SDK declares it so, which makes it __cdecl on x86. */
typedef void (*RM_WRITE_STATUS_CALLBACK)(UINT nPercentComplete);

DWORD WINAPI RmStartSession(DWORD *pSessionHandle, DWORD dwSessionFlags, WCHAR strSessionKey[]);
DWORD WINAPI RmJoinSession(DWORD *pSessionHandle, const WCHAR strSessionKey[]);
DWORD WINAPI RmEndSession(DWORD dwSessionHandle);
DWORD WINAPI RmRegisterResources(DWORD dwSessionHandle, UINT nFiles, LPCWSTR rgsFileNames[],
                                 UINT nApplications, RM_UNIQUE_PROCESS rgApplications[],
                                 UINT nServices, LPCWSTR rgsServiceNames[]);
DWORD WINAPI RmGetList(DWORD dwSessionHandle, UINT *pnProcInfoNeeded, UINT *pnProcInfo,
                       RM_PROCESS_INFO rgAffectedApps[], LPDWORD lpdwRebootReasons);
DWORD WINAPI RmShutdown(DWORD dwSessionHandle, ULONG lActionFlags, RM_WRITE_STATUS_CALLBACK fnStatus);
DWORD WINAPI RmRestart(DWORD dwSessionHandle, DWORD dwRestartFlags, RM_WRITE_STATUS_CALLBACK fnStatus);
DWORD WINAPI RmCancelCurrentTask(DWORD dwSessionHandle);
DWORD WINAPI RmAddFilter(DWORD dwSessionHandle, LPCWSTR strModuleName, RM_UNIQUE_PROCESS *pProcess,
                         LPCWSTR strServiceShortName, RM_FILTER_ACTION FilterAction);
DWORD WINAPI RmRemoveFilter(DWORD dwSessionHandle, LPCWSTR strModuleName, RM_UNIQUE_PROCESS *pProcess,
                            LPCWSTR strServiceShortName);
DWORD WINAPI RmGetFilterList(DWORD dwSessionHandle, PBYTE pbFilterBuf, DWORD cbFilterBuf,
                             LPDWORD cbFilterBufNeeded);

#ifdef __cplusplus
}
#endif

#endif /* _INC_RESTARTMANAGER */

/* The binary layout callers were compiled against (Windows SDK; measured with MinGW-w64 for both
 * bitnesses). Any drift here would corrupt callers' memory, so it is a compile error. */
#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#include <stddef.h>
#define RSTRTMGR_LAYOUT_ASSERT(e, m) _Static_assert(e, m)
#elif defined(__cplusplus) && __cplusplus >= 201103L
#include <cstddef>
#define RSTRTMGR_LAYOUT_ASSERT(e, m) static_assert(e, m)
#endif
#ifdef RSTRTMGR_LAYOUT_ASSERT
RSTRTMGR_LAYOUT_ASSERT(sizeof(RM_UNIQUE_PROCESS) == 12, "RM_UNIQUE_PROCESS is 12 bytes");
RSTRTMGR_LAYOUT_ASSERT(sizeof(RM_PROCESS_INFO) == 668, "RM_PROCESS_INFO is 668 bytes");
RSTRTMGR_LAYOUT_ASSERT(offsetof(RM_PROCESS_INFO, strAppName) == 12, "strAppName at 12");
RSTRTMGR_LAYOUT_ASSERT(offsetof(RM_PROCESS_INFO, strServiceShortName) == 524, "strServiceShortName at 524");
RSTRTMGR_LAYOUT_ASSERT(offsetof(RM_PROCESS_INFO, ApplicationType) == 652, "ApplicationType at 652");
RSTRTMGR_LAYOUT_ASSERT(offsetof(RM_PROCESS_INFO, AppStatus) == 656, "AppStatus at 656");
RSTRTMGR_LAYOUT_ASSERT(offsetof(RM_PROCESS_INFO, TSSessionId) == 660, "TSSessionId at 660");
RSTRTMGR_LAYOUT_ASSERT(offsetof(RM_PROCESS_INFO, bRestartable) == 664, "bRestartable at 664");
RSTRTMGR_LAYOUT_ASSERT(sizeof(RM_APP_TYPE) == 4 && sizeof(RM_FILTER_ACTION) == 4, "enums are 4 bytes");
#ifdef _WIN64
RSTRTMGR_LAYOUT_ASSERT(sizeof(RM_FILTER_INFO) == 32, "RM_FILTER_INFO is 32 bytes on x64");
RSTRTMGR_LAYOUT_ASSERT(offsetof(RM_FILTER_INFO, strFilename) == 16, "union at 16 on x64");
#else
RSTRTMGR_LAYOUT_ASSERT(sizeof(RM_FILTER_INFO) == 24, "RM_FILTER_INFO is 24 bytes on x86");
RSTRTMGR_LAYOUT_ASSERT(offsetof(RM_FILTER_INFO, strFilename) == 12, "union at 12 on x86");
#endif
RSTRTMGR_LAYOUT_ASSERT(offsetof(RM_FILTER_INFO, cbNextOffset) == 8, "cbNextOffset at 8");
#undef RSTRTMGR_LAYOUT_ASSERT
#endif

#endif /* RSTRTMGR_RESTARTMANAGER_H */
