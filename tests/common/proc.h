/*
 * Processes, events and directories of a test run, shared by the harnesses of the integration,
 * shutdown, callers and hardening suites (tests/integration/it.h, tests/callers/ch.h,
 * tests/shutdown/sd.h). Each harness keeps its own names and lists; what is here holds no
 * state of its own, so a program may link two harnesses that keep separate lists.
 *
 * Failures are CMocka failures at the caller's file and line.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_TEST_PROC_H
#define RM_TEST_PROC_H

#include <windows.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <restartmanager.h>

/* ---- start of a test program ------------------------------------------------------------- */

/* No crash dialog; unbuffered stdout; standard handles children can inherit, so their
 * CMocka reports go where ours go and ctest shows both. */
void rm_test_main_init(void);

/* Runs one child role as a one-test CMocka group named "<program> child <role>"; returns
 * its number of failures. */
int rm_test_run_role(const char *program, const WCHAR *role, CMUnitTestFunction fn, CMFixtureFunction teardown);

/* ---- calls to the API ---------------------------------------------------------------------- */

/* A process as the API names it: PID and creation time (fails the test if unreadable). */
RM_UNIQUE_PROCESS rm_test_unique(HANDLE process);

/* Wine-test idiom: every export must leave the caller's last-error value alone. */
#define RM_TEST_LAST_ERROR 0xdeadbeefu
/* Checks the last error first (before anything else can touch it), then the code. */
DWORD rm_test_expect_rc_(DWORD expected, DWORD got, const char *call, const char *file, int line);

/* Session handles a teardown still has to end. */
struct rm_test_ids {
    DWORD id[512];
    int n;
};
void rm_test_ids_add(struct rm_test_ids *l, DWORD id);
void rm_test_ids_forget(struct rm_test_ids *l, DWORD id);

/* ---- processes ------------------------------------------------------------------------------- */

/* Processes a teardown kills if the test has not waited for them. */
struct rm_test_procs {
    HANDLE h[64];
    int n;
};
/* Takes the process off the list and closes its handle. */
void rm_test_procs_forget(struct rm_test_procs *l, HANDLE p);
void rm_test_procs_kill(struct rm_test_procs *l);

/* CreateProcessW with default security and environment, tried again when Wine reports the
 * new process died while starting (ERROR_INTERNAL_ERROR). Last error as CreateProcessW's. */
BOOL rm_test_create_process(const WCHAR *exe, WCHAR *cmd, BOOL inherit, DWORD flags, const WCHAR *cwd,
                            STARTUPINFOW *si, PROCESS_INFORMATION *pi);

/* Kills process `pid` and waits for it, if it can be opened. */
void rm_test_kill_pid(DWORD pid);

/* This program again: "<exe>" --child <role> <tag> <formatted args>, sharing our standard
 * handles, in `cwd` (NULL: ours); added to `l`. */
HANDLE rm_test_vspawn_(struct rm_test_procs *l, const WCHAR *role, const WCHAR *tag, const WCHAR *cwd,
                       const char *file, int line, const WCHAR *fmt, va_list ap);

/* "<exe>" <formatted args> --ready <ready_name>, added to `l`, then waits (30 s) for `ready`.
 * share_std: whether it gets our standard handles (and inherits what we let it), or nothing
 * of ours. Closes `ready` if the start fails; otherwise the caller owns it. */
HANDLE rm_test_vlaunch_(struct rm_test_procs *l, const WCHAR *exe, const WCHAR *cwd, DWORD flags, BOOL share_std,
                        HANDLE ready, const WCHAR *ready_name, const char *file, int line, const WCHAR *fmt,
                        va_list ap);

/* Waits (bounded) for a process of `l`; kills it on overrun. Asserts it exited with `code`. */
void rm_test_expect_exit_(struct rm_test_procs *l, HANDLE child, DWORD code, DWORD timeout_ms, const char *file,
                          int line);
/* Kills a still-running process of `l` and waits for it. */
void rm_test_kill_(struct rm_test_procs *l, HANDLE child, const char *file, int line);

/* Full path of a program beside this one (the helpers are built into the same bin/). */
void rm_test_helper_path(const WCHAR *exe, WCHAR out[MAX_PATH]);
/* The same program built for the other architecture (the other build tree's bin/): a process
 * of the other bitness. FALSE when that tree has not been built. */
BOOL rm_test_other_helper_path(const WCHAR *exe, WCHAR out[MAX_PATH]);
/* The same, for a test that starts it: fails when it is not built, skips (saying why) where
 * this prefix cannot run 32-bit programs. */
void rm_test_other_helper(const WCHAR *exe, WCHAR out[MAX_PATH]);

/* ---- events ------------------------------------------------------------------------------------ */

/* A named manual-reset event (the name already scoped to the run). */
HANDLE rm_test_event(const WCHAR *full_name);
/* Waits for ev; fails if `proc` (may be NULL) exits first or the bound passes. */
void rm_test_wait_event_(HANDLE ev, HANDLE proc, DWORD timeout_ms, const char *file, int line);

/* ---- directories ------------------------------------------------------------------------------ */

/* Directories a teardown removes with the files in them. */
struct rm_test_dirs {
    WCHAR d[8][MAX_PATH];
    int n;
};
/* A fresh directory <temp>\<tag>-<leaf> (no trailing '\'), added to `l`. */
void rm_test_make_dir(struct rm_test_dirs *l, const WCHAR *tag, const WCHAR *leaf, WCHAR out[MAX_PATH]);
void rm_test_remove_dirs(struct rm_test_dirs *l);

/* dir\leaf */
void rm_test_path(WCHAR out[MAX_PATH], const WCHAR *dir, const WCHAR *leaf);

#endif
