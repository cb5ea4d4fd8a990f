/*
 * Closing the apps and services that use a session's resources (DESIGN §2 shutdown/).
 *
 * Order: GUI apps, console apps, services, Explorer. Apps of one phase are handled in
 * parallel, so the phase lasts as long as its slowest app, not the sum. Every message is sent
 * with a timeout; every process is held by a handle from before the first message, so a PID
 * that is reused meanwhile is never signalled or terminated.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_SHUTDOWN_H
#define RM_SHUTDOWN_H

#include <windows.h>
#include <restartmanager.h>

#include "detect/detect.h"
#include "session/layout.h"

/* One affected app, as RmShutdown handles it. */
struct rm_target {
    RM_PROCESS_INFO info;
    HANDLE process;  /* pinned before anything is sent; NULL if it could not be opened */
    uint32_t status; /* RM_APP_STATUS bits this call produced */
    int answer;      /* GUI query result (shutdown/gui.c) */
    /* what RmGetList will show of it once stopped, and how to bring it back (its image,
     * command line and directory), captured before shutdown */
    struct rm_stopped_info stopped;
    WCHAR *image, *cmd, *dir;
    HWND *windows; /* its top-level windows */
    uint32_t nwindows;
};

struct rm_progress {
    RM_WRITE_STATUS_CALLBACK fn;
    uint32_t done, total;
    UINT last;
    int started;
};

/* Calls fn with 0..100, strictly increasing (values that would repeat are skipped); the
 * caller's callback may be __cdecl (as declared) or __stdcall (as many bindings declare it). */
void rm_progress_report(struct rm_progress *p);
void rm_progress_finish(struct rm_progress *p);

/* A service stopped because one it depends on was (not itself in the list): it must come
 * back with it. */
struct rm_stopped_service {
    WCHAR name[CCH_RM_MAX_SVC_NAME + 1];
    RM_UNIQUE_PROCESS process;
};

struct rm_shutdown {
    ULONG flags; /* RmForceShutdown | RmShutdownOnlyRegistered */
    const struct rm_cancel *cancel;
    DWORD app_timeout, service_timeout; /* ms */
    struct rm_progress progress;
    struct rm_stopped_service *also_stopped; /* allocated; the caller frees */
    uint32_t nalso_stopped;
};

/* Timeouts the system is configured with (HungAppTimeout, WaitToKillServiceTimeout), or the
 * documented defaults (30 s, 20 s). */
void rm_shutdown_timeouts(DWORD *app_ms, DWORD *service_ms);

/* Opens the targets and captures what restarting them needs. */
DWORD rm_targets_prepare(struct rm_target *t, uint32_t n);
void rm_targets_free(struct rm_target *t, uint32_t n);

/* Runs the phases. Returns ERROR_SUCCESS, ERROR_FAIL_SHUTDOWN (some app did not stop; see
 * the statuses), ERROR_CANCELLED or a resource error. */
DWORD rm_shutdown_run(struct rm_shutdown *s, struct rm_target *t, uint32_t n);

/* Phases (shutdown/gui.c, console.c, services.c). `refused` is set when a GUI app refused
 * and the call is not forced: later phases then leave everything running. */
DWORD rm_shutdown_gui(struct rm_shutdown *s, struct rm_target **t, uint32_t n, int *refused);
DWORD rm_shutdown_consoles(struct rm_shutdown *s, struct rm_target **t, uint32_t n);
DWORD rm_shutdown_services(struct rm_shutdown *s, struct rm_target **t, uint32_t n);

/* A service's current state (0 when it cannot be queried) and host PID; waiting for a state
 * until a deadline, checking for cancellation (shutdown/services.c). */
DWORD rm_service_state(SC_HANDLE svc, DWORD *pid);
BOOL rm_service_wait(SC_HANDLE svc, DWORD want, ULONGLONG deadline, const struct rm_cancel *cancel);

/* Waits until the process exits or the deadline (GetTickCount64 value) passes, checking for
 * cancellation; TRUE if it exited. */
BOOL rm_wait_exit(HANDLE process, ULONGLONG deadline, const struct rm_cancel *cancel);
/* Ends a process we hold by handle; TRUE if it is gone. */
BOOL rm_terminate(HANDLE process);

/* Runs fn(arg[i]) for i < n on threads of their own and waits for all of them. */
DWORD rm_run_parallel(LPTHREAD_START_ROUTINE fn, void *args, size_t arg_size, uint32_t n);

/* For each affected app, the filter action that applies (RmNoRestart, RmNoShutdown) or
 * RmInvalidFilterAction when none does (src/shutdown/filters.c). */
struct rm_filter_item;
DWORD rm_filter_actions(const RM_PROCESS_INFO *e, uint32_t n, const struct rm_filter_item *f, uint32_t nf,
                        uint32_t *actions);

/* Starts rundll32 running this DLL's RmRunHelperW with args ("ctrlc <pid>", "guard ..."),
 * detached from any console. FALSE when there is no DLL to run (linked statically). */
BOOL rm_start_helper(const WCHAR *args, HANDLE *process);

/* Records how a target of a phase ended: gone → Stopped; still running → terminated when the
 * call is forced, else ErrorOnStop. Then reports progress. */
void rm_settle(struct rm_shutdown *s, struct rm_target *t);

/* The rundll32 entry the console phase and the safeguard use (exported: see README). */
void CALLBACK RmRunHelperW(HWND hwnd, HINSTANCE inst, LPWSTR cmdline, int show);

#endif
