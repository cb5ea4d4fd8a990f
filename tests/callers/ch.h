/*
 * Harness for the caller-pattern tests: programs that use the shipped rstrtmgr.dll
 * through its import library, the way installers do, against real processes under Wine.
 *
 * Unlike tests/integration these programs cannot give the DLL a private store prefix (that is
 * an internal variable of the static build), so they share the user's real session store: ctest
 * runs them one at a time (RESOURCE_LOCK rm_user_store) and every test ends every session it
 * starts, in its teardown if it fails first.
 *
 * A program runs as the parent, which holds the CMocka group, and as children it starts from
 * its own executable:  prog --child <role> <tag> <args...>
 * where tag names this run's events and services. A child runs its role as a one-test group;
 * its exit code is its number of failures.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_CH_H
#define RM_CH_H

#include <windows.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <restartmanager.h>

#include "proc.h"

struct ch_role {
    const WCHAR *name;
    CMUnitTestFunction fn;
};

extern const char ch_program[];
extern const struct ch_role ch_roles[]; /* ended by {NULL, NULL} */
int ch_parent(void);

extern const WCHAR *ch_tag; /* names this run's events, services and directories */
extern int ch_argc;         /* a child's arguments after the tag */
extern WCHAR **ch_argv;
const WCHAR *ch_arg(int i);

/* Every export must leave the caller's last-error value alone (the Wine-test idiom). */
#define CH_LAST_ERROR RM_TEST_LAST_ERROR
#define CH_CALL(call) (SetLastError(CH_LAST_ERROR), (DWORD)(call))
DWORD ch_expect_rc_(DWORD expected, DWORD got, const char *call, const char *file, int line);
#define EXPECT_RC(expected, call) ch_expect_rc_((DWORD)(expected), CH_CALL(call), #call, __FILE__, __LINE__)

/* Sessions the teardown ends if the test did not. */
DWORD ch_start_(WCHAR key[CCH_RM_SESSION_KEY + 1], const char *file, int line);
#define CH_START(key) ch_start_((key), __FILE__, __LINE__)
void ch_track(DWORD handle);
void ch_forget(DWORD handle);
#define CH_END(h) (EXPECT_RC(ERROR_SUCCESS, RmEndSession(h)), ch_forget(h))

/* This program as a child running `role`; args already formatted (quote paths). */
HANDLE ch_spawn_(const WCHAR *role, const char *file, int line, const WCHAR *fmt, ...);
#define CH_SPAWN(role, ...) ch_spawn_((role), __FILE__, __LINE__, __VA_ARGS__)
/* Waits (bounded) for a child and asserts its exit code; kills it on overrun. */
void ch_expect_exit_(HANDLE child, DWORD code, DWORD timeout_ms, const char *file, int line);
#define EXPECT_CHILD_OK(child) ch_expect_exit_((child), 0, 30000, __FILE__, __LINE__)

/* A named manual-reset event of this run (parent and children open the same one). */
void ch_event_name(const WCHAR *name, WCHAR out[128]);
HANDLE ch_event(const WCHAR *name);
void ch_wait_event_(HANDLE ev, HANDLE proc, DWORD timeout_ms, const char *file, int line);
#define CH_WAIT_EVENT(ev, proc) ch_wait_event_((ev), (proc), 30000, __FILE__, __LINE__)

/* Full path of a program beside this one (rmapp.exe, rmappw.exe). */
void ch_helper_path(const WCHAR *exe, WCHAR out[MAX_PATH]);

/* Starts `exe` with args plus "--ready <event name>" and waits for the event. The event stays
 * the app's own, so a copy that RmRestart starts with the same command line signals it again:
 * *ready (may be NULL) receives it, reset, for the caller to wait on. */
HANDLE ch_launch_(const WCHAR *exe, HANDLE *ready, const char *file, int line, const WCHAR *fmt, ...);
#define CH_LAUNCH(exe, ready, ...) ch_launch_((exe), (ready), __FILE__, __LINE__, __VA_ARGS__)

/* Is the process still running? */
BOOL ch_alive(HANDLE process);

/* A fresh directory for this run (no trailing '\'); removed with its files by the teardown. */
void ch_make_dir(const WCHAR *leaf, WCHAR out[MAX_PATH]);
void ch_path(WCHAR out[MAX_PATH], const WCHAR *dir, const WCHAR *leaf);

/* HKCU\Control Panel\Desktop\HungAppTimeout set to `ms` (REG_SZ) for the test; the teardown
 * puts back what was there (or removes it). */
void ch_set_hung_app_timeout(DWORD ms);

/* A demand-start own-process service running `cmd`, started and waited for through `ready`;
 * the teardown stops and deletes it. Returns its process id, or skips without the rights. */
DWORD ch_service_(const WCHAR *name, const WCHAR *cmd, HANDLE ready, const char *file, int line);
#define CH_SERVICE(name, cmd, ready) ch_service_((name), (cmd), (ready), __FILE__, __LINE__)
DWORD ch_service_state(const WCHAR *name, DWORD *pid);

/* RmGetList until it fits (the sizing loop every caller writes); fails the test on error. */
struct ch_list {
    UINT n;
    DWORD reasons;
    RM_PROCESS_INFO e[64];
};
void ch_list_(DWORD h, struct ch_list *l, const char *file, int line);
#define CH_LIST(h, l) ch_list_((h), (l), __FILE__, __LINE__)
/* The entry for pid, or NULL. */
const RM_PROCESS_INFO *ch_find(const struct ch_list *l, DWORD pid);
void ch_dump(const struct ch_list *l);

/* Per-test teardown: ends sessions, kills children and whatever this process started (restarted
 * copies too), removes services, directories and the timeout override. */
int ch_teardown(void **state);
#define CH_TEST(fn) cmocka_unit_test_teardown(fn, ch_teardown)

#endif
