/*
 * Shutdown and restart tests: what the programs of this folder share.
 *
 * These programs call the real DLL (bin/rstrtmgr.dll through its import library), not the
 * static objects: RmShutdown sends CTRL_C and starts the safeguard through rundll32 running the
 * DLL's RmRunHelperW, which needs a DLL path. So they cannot have a private session store
 * (rm_store_prefix is the DLL's own); ctest serialises them on the user's store (RESOURCE_LOCK
 * rm_user_store), and every session they start is ended.
 *
 * They reuse the integration harness (tests/integration/it.h: sessions ended, children killed
 * and directories removed at teardown, child roles, named events) and add what acting on apps
 * needs: the hung-app timeout set short in the Wine prefix, helper logs, services, and
 * cleaning up processes that the DLL itself started.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_SD_H
#define RM_SD_H

#include "../integration/it.h"

/* HungAppTimeout for the duration of a program (HKCU\Control Panel\Desktop, REG_SZ ms): the
 * time a hung or refusing app costs. Short, so a test that waits for it stays short. */
#define SD_APP_TIMEOUT_MS 3000u

/* Environment switches the DLL reads in the calling process. */
#define SD_FALLBACK_ENV L"RSTRTMGR_RESTART_FALLBACK"
#define SD_SAFEGUARD_ENV L"RSTRTMGR_SAFEGUARD"

/* The helper programs, all in bin/ beside the test program (set by sd_group_setup). */
extern WCHAR sd_rmapp[MAX_PATH], sd_rmappw[MAX_PATH], sd_rsapp[MAX_PATH], sd_rsappw[MAX_PATH];

/* Group set-up: helper paths, HungAppTimeout; the group teardown restores the value. */
int sd_group_setup(void **state);
int sd_group_teardown(void **state);

/* Per-test teardown: kills what the DLL restarted (from the helper logs being watched), stops
 * and deletes the services created, closes the file the test process held, clears the
 * environment switches, then it_teardown. */
int sd_teardown(void **state);
#define SD_TEST(fn) cmocka_unit_test_teardown(fn, sd_teardown)

/* dir\leaf */
void sd_path(WCHAR out[MAX_PATH], const WCHAR *dir, const WCHAR *leaf);

/* The test process itself opens `path` (closed at teardown). */
void sd_hold_self(const WCHAR *path);

/* ---- processes -------------------------------------------------------------------------- */

BOOL sd_running(HANDLE process);
/* Waits (bounded) for the process to exit; returns its exit code, fails on overrun. */
DWORD sd_wait_exit_(HANDLE process, DWORD timeout_ms, const char *file, int line);
#define SD_WAIT_EXIT(p, ms) sd_wait_exit_((p), (ms), __FILE__, __LINE__)

/* Starts exe (a full path) in `cwd` (NULL: ours) with CreateProcessW `flags` and the formatted
 * arguments plus "--ready <event>", and waits for the event. If `ready` is not NULL it gets
 * the event (manual reset), which a restarted copy with the same command line sets again.
 * The process is killed at teardown. */
HANDLE sd_launch_(const WCHAR *exe, const WCHAR *cwd, DWORD flags, HANDLE *ready, const char *file, int line,
                  const WCHAR *fmt, ...);
#define SD_LAUNCH(exe, cwd, flags, ready, ...) sd_launch_((exe), (cwd), (flags), (ready), __FILE__, __LINE__, __VA_ARGS__)

/* Watches an rsapp log: at teardown, every process it names in a START line (and that still
 * runs an rsapp image) is killed: copies the DLL restarted have no handle of ours. */
void sd_watch_log(const WCHAR *log);
/* The same sweep, now; for `settle_ms` it keeps looking for copies still being started. */
void sd_sweep(DWORD settle_ms);
/* Teardown of a test that failed with its installer child alive: kills it (*installer becomes
 * NULL) and, since its safeguard may restart the app, sweeps a little longer than usual. */
void sd_kill_installer(HANDLE *installer);

/* ---- logs ---------------------------------------------------------------------------------- */

/* Lines of the log starting with `prefix` (0 when the log does not exist). */
int sd_log_count(const WCHAR *log, const char *prefix);
/* Copies the index-th such line (0-based) into out; FALSE if there is none. */
BOOL sd_log_line(const WCHAR *log, const char *prefix, int index, char *out, size_t cap);
/* Polls until the log holds `count` such lines; FALSE when the bound passes first. */
BOOL sd_log_wait(const WCHAR *log, const char *prefix, int count, DWORD timeout_ms);
/* The value of "key=" in a log line, up to the next space (or the line's end for "cmd=", which
 * is last), into out. FALSE if absent. */
BOOL sd_field(const char *line, const char *key, char *out, size_t cap);

/* ---- sessions and lists -------------------------------------------------------------------- */

/* Starts a session (ended at teardown) and registers the files. */
DWORD sd_session_(const char *file, int line, UINT nfiles, ...);
#define SD_SESSION(...) sd_session_(__FILE__, __LINE__, __VA_ARGS__)

struct sd_list {
    UINT n;
    DWORD reasons;
    RM_PROCESS_INFO e[32];
};
void sd_list_(DWORD h, struct sd_list *l, const char *file, int line);
#define SD_LIST(h, l) sd_list_((h), (l), __FILE__, __LINE__)
/* The entry for exactly this process (PID and start time), or NULL. */
const RM_PROCESS_INFO *sd_find(const struct sd_list *l, const RM_UNIQUE_PROCESS *p);
/* RmGetList, then the AppStatus of that process; fails if it is not listed. */
ULONG sd_status_(DWORD h, const RM_UNIQUE_PROCESS *p, const char *file, int line);
#define SD_STATUS(h, p) sd_status_((h), (p), __FILE__, __LINE__)

/* ---- services ---------------------------------------------------------------------------- */

/* Creates a demand-start own-process service running `cmdline`, depending on `depends` (a
 * single name or NULL); stopped (dependents first) and deleted at teardown. */
SC_HANDLE sd_service_create(const WCHAR *name, const WCHAR *cmdline, const WCHAR *depends);
DWORD sd_service_state(SC_HANDLE s, DWORD *pid);
/* Polls until the service is in `state`; FALSE when the bound passes first. */
BOOL sd_service_wait(SC_HANDLE s, DWORD state, DWORD timeout_ms);

#endif
