/*
 * Integration-test harness: real processes under Wine, one private session store per run.
 *
 * Every program links rm_static (the DLL's own objects, real OS table) and runs twice over:
 * as the parent, which holds the CMocka group, and as children it starts with
 *     prog --child <role> <prefix> <args...>
 * A child runs one role as a one-test CMocka group, so its failures print like the parent's and
 * its exit code is the number of failed tests. The prefix names this run's store objects
 * (rm_store_prefix), so programs that ctest runs in parallel never see each other's sessions.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_IT_H
#define RM_IT_H

#include <windows.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <restartmanager.h>

#include "proc.h"

/* Not in the SDK header; the export exists, so callers declare it themselves. */
DWORD WINAPI RmReserveHeap(DWORD dwReserved);

/* ---- what each program provides --------------------------------------------------------- */

struct it_role {
    const WCHAR *name;
    CMUnitTestFunction fn;
};

extern const char it_program[];        /* short name, part of the store prefix */
extern const struct it_role it_roles[]; /* child roles, ended by {NULL, NULL} */
int it_parent(void);                     /* runs the parent's group; returns failures */

/* ---- run state ---------------------------------------------------------------------------- */

extern const WCHAR *it_prefix; /* this run's store prefix, shared with the children */
extern int it_argc;            /* a child's arguments after the prefix */
extern WCHAR **it_argv;

/* Child argument i as a number (decimal or 0x-hex); fails the role if missing. */
DWORD it_arg_u32(int i);
const WCHAR *it_arg(int i);

/* ---- calls to the API ------------------------------------------------------------------------ */

/* Wine-test idiom: every export must leave the caller's last-error value alone. */
#define IT_LAST_ERROR RM_TEST_LAST_ERROR
#define IT_CALL(call) (SetLastError(IT_LAST_ERROR), (DWORD)(call))

/* Checks the last error first (before anything else can touch it), then the code. */
DWORD it_expect_rc_(DWORD expected, DWORD got, const char *call, const char *file, int line);
#define EXPECT_RC(expected, call) it_expect_rc_((DWORD)(expected), IT_CALL(call), #call, __FILE__, __LINE__)

/* Starts a session that the teardown ends if the test fails before it does. */
DWORD it_start_(WCHAR key[CCH_RM_SESSION_KEY + 1], const char *file, int line);
#define IT_START(key) it_start_((key), __FILE__, __LINE__)
void it_forget(DWORD handle); /* the test ended it itself */
void it_track(DWORD handle);

/* What a session holds, through the internal rm_session_counts (files, processes, services). */
void it_expect_counts_(DWORD handle, uint32_t files, uint32_t procs, uint32_t svcs, const char *file,
                       int line);
#define EXPECT_COUNTS(h, f, p, s) it_expect_counts_((h), (f), (p), (s), __FILE__, __LINE__)

/* This process as RM_UNIQUE_PROCESS (PID and creation time). */
RM_UNIQUE_PROCESS it_self_process(void);

/* ---- children ---------------------------------------------------------------------------------- */

/* Starts this program as a child running `role` with the given arguments (already formatted,
 * space-separated; quote paths). cwd may be NULL. The teardown kills children still running. */
HANDLE it_spawn_(const WCHAR *role, const WCHAR *cwd, const char *file, int line, const WCHAR *fmt, ...);
#define IT_SPAWN(role, cwd, ...) it_spawn_((role), (cwd), __FILE__, __LINE__, __VA_ARGS__)

/* Waits (bounded) for a child; kills it on overrun. Asserts it exited with `code`. */
void it_expect_exit_(HANDLE child, DWORD code, DWORD timeout_ms, const char *file, int line);
#define EXPECT_CHILD_OK(child) it_expect_exit_((child), 0, 30000, __FILE__, __LINE__)

/* Kills a child (for tests that want it to die holding something) and waits for it. */
void it_kill_(HANDLE child, const char *file, int line);
#define IT_KILL(child) it_kill_((child), __FILE__, __LINE__)

/* ---- helper programs (tests/helpers: rmapp.exe, rmappw.exe) ----------------------------------- */

/* Full path of a helper program; they are built beside the test programs. */
void it_helper_path(const WCHAR *exe, WCHAR out[MAX_PATH]);

/* Starts the program `exe` (a full path) with the given arguments (formatted like IT_SPAWN's)
 * plus "--ready <event>", and waits until it sets that event: rmapp signals once everything it
 * was told to hold is held. `flags` go to CreateProcessW. The teardown kills it like a child. */
HANDLE it_launch_(const WCHAR *exe, DWORD flags, const char *file, int line, const WCHAR *fmt, ...);
#define IT_LAUNCH(exe, flags, ...) it_launch_((exe), (flags), __FILE__, __LINE__, __VA_ARGS__)

/* A process the test started itself (not one of ours): the teardown kills it like a child. */
void it_adopt(HANDLE process);

/* The full name of it_event(name), for a program that opens it itself (rmapp --ready). */
void it_event_name(const WCHAR *name, WCHAR out[256]);

/* A named manual-reset event private to this run; parent and children open the same one. */
HANDLE it_event(const WCHAR *name);
/* Waits for ev; fails if `child` (may be NULL) exits first or the bound passes. */
void it_wait_event_(HANDLE ev, HANDLE child, DWORD timeout_ms, const char *file, int line);
#define IT_WAIT_EVENT(ev, child) it_wait_event_((ev), (child), 30000, __FILE__, __LINE__)

/* Per-test teardown: ends tracked sessions, kills leftover children, removes test directories. */
int it_teardown(void **state);
#define IT_TEST(fn) cmocka_unit_test_teardown(fn, it_teardown)

/* ---- handles ------------------------------------------------------------------------------------- */

/* How many handles this process has open. GetProcessHandleCount where it answers; under Wine it
 * reports 0 whatever is open, so then this process's entries in the system handle table are
 * counted instead (the table detection itself reads). Fails the test if neither answers. */
DWORD it_handle_count_(const char *file, int line);
#define IT_HANDLE_COUNT() it_handle_count_(__FILE__, __LINE__)

/* ---- memory that faults right after a buffer ---------------------------------------------------- */

/* Returns a buffer of `bytes` whose end touches a no-access page, so reading or writing even
 * one unit past it crashes the test instead of passing unnoticed. */
void *it_guarded_(size_t bytes, const char *file, int line);
#define IT_GUARDED(bytes) it_guarded_((bytes), __FILE__, __LINE__)
void it_guarded_free(void *p);

/* A fresh directory under the temp directory, unique to this run (no trailing '\'); the
 * teardown deletes it and the files in it. */
void it_make_dir(const WCHAR *leaf, WCHAR out[MAX_PATH]);

#endif
