/*
 * The safeguard's private copy of what a session will restart (docs/threat-model.md).
 *
 * The process that shut apps down keeps their restart plans in its own memory. If it dies
 * before RmRestart, the watcher it started (src/guard) must bring them back, so it needs the
 * plans too, and it must not take them from the session store, which any process of the user
 * can write. The handoff is an unnamed section: no other process can open it by name, and only
 * a process that may already duplicate handles out of the owner (that is, one that controls
 * the owner anyway) can reach it. The owner creates it, writes the session key and every plan
 * into it, and passes its handle value to the watcher, which duplicates the handle from the
 * owner while the owner waits for it to join.
 *
 * Only the owner writes. It appends records and publishes `used` after each one, so a watcher
 * that reads after the owner died (mid-write, perhaps) sees whole records only. PLAN records
 * add or replace a process's plan; DONE records say the owner brought it back itself; `ended`
 * says the owner ended the session (restart nothing). The watcher still checks every record
 * against its own mapping before using it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_HANDOFF_H
#define RM_HANDOFF_H

#include <windows.h>
#include <stdint.h>

#include <restartmanager.h>

#include "session/key.h"

/* Address space reserved for one session's plans; pages are committed as records arrive. A
 * typical plan takes well under 1 KiB (thousands of apps); one at every Win32 limit (three
 * 32,767-character strings) about 200 KiB. A plan that does not fit is kept by the owner,
 * which restarts it as usual, but the watcher cannot; that is traced. */
#define RM_HANDOFF_RESERVE (32u << 20)

/* How to bring back one app or service: captured before shutdown from the process itself (its
 * image path, command line and directory) or from the service list. */
struct rm_restart_plan {
    RM_UNIQUE_PROCESS process;
    uint32_t app_type; /* RM_APP_TYPE */
    uint32_t flags;    /* RM_STOPPED_* */
    const WCHAR *image, *cmd, *dir; /* apps; NUL-terminated */
    const WCHAR *service;           /* services */
};

/* Owner side: the section and how much of it this process has written (its own count; the
 * section's is for the watcher). */
struct rm_handoff {
    HANDLE section;
    uint32_t used;
};

/* Creates the section and writes the key into it. */
DWORD rm_handoff_create(struct rm_handoff *h, const WCHAR key[RM_KEY_CHARS + 1]);
/* Appends a plan, or (plan NULL) that the owner restarted `who` itself. ERROR_OUTOFMEMORY when
 * it does not fit. */
DWORD rm_handoff_append(struct rm_handoff *h, const RM_UNIQUE_PROCESS *who, const struct rm_restart_plan *plan);
/* Marks the session ended and closes the owner's handle. */
void rm_handoff_end(struct rm_handoff *h);

/* Watcher side: the section duplicated from the owner (its handle value there), and the key
 * read out of it. The header stays mapped so that `ended` can be watched. */
struct rm_handoff_view {
    HANDLE section;
    volatile LONG *ended;
    void *header;
};
DWORD rm_handoff_open(HANDLE owner, ULONG_PTR value, struct rm_handoff_view *v, WCHAR key[RM_KEY_CHARS + 1]);
BOOL rm_handoff_ended(const struct rm_handoff_view *v);
/* Calls fn for each whole record, in order: plan NULL for a DONE record. ERROR_WRITE_FAULT if a
 * record is malformed (the ones before it have been passed on). */
typedef void (*rm_handoff_fn)(void *ctx, const RM_UNIQUE_PROCESS *who, const struct rm_restart_plan *plan);
DWORD rm_handoff_read(const struct rm_handoff_view *v, rm_handoff_fn fn, void *ctx);
void rm_handoff_close(struct rm_handoff_view *v);

#endif
