/*
 * Bringing back what a session stopped (DESIGN §2 restart/), in the reverse of shutdown order:
 * Explorer, services, console apps, GUI apps.
 *
 * What is restarted, and how, comes only from this process's own memory: RmShutdown keeps a
 * plan per app it stopped (image path, command line, directory, or service name, captured from
 * the app itself). The session's log, which any process of the user can write, says what
 * RmGetList shows and nothing more (docs/threat-model.md). The safeguard's watcher gets its
 * copy of the plans through a channel only the owner writes (handoff.h).
 *
 * No privilege is gained on restart: an app that ran as the caller runs (same user, same
 * elevation) is started from the caller; any other app only with the token captured from it
 * before shutdown, held by the process that called RmShutdown. Without that token it is not
 * restarted at all, rather than run as someone it was not. The image is named to CreateProcess
 * explicitly, so the command line's first word is never searched for (in the installer's own
 * directory first).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_RESTART_H
#define RM_RESTART_H

#include <windows.h>

#include "detect/detect.h"
#include "restart/handoff.h"
#include "shutdown/shutdown.h"

/* Restarts what the session stopped and has not brought back yet. `how` is RM_SESSION_ORPHANED
 * for the safeguard. ERROR_FAIL_RESTART when one could not be restarted (see its status). */
DWORD rm_restart_session(DWORD handle, uint32_t how, struct rm_progress *progress, const struct rm_cancel *cancel);

/* Keeps the plan for an app the session stopped (status: what was recorded for it), replacing
 * one kept before for the same process; a shared session's watcher gets a copy. */
DWORD rm_restart_keep(DWORD session, const struct rm_restart_plan *plan, uint32_t status);

/* Keeps a duplicate of the target's primary token, for the session to restart it as itself
 * later; replaces one kept before for the same session and process. */
void rm_restart_keep_token(DWORD session, const RM_UNIQUE_PROCESS *p, HANDLE process);

/* Hands the session's plans, present and future, to a watcher: creates the session's handoff
 * (once) with the key in it and returns its section handle, whose value the watcher is given. */
DWORD rm_restart_share(DWORD session, const WCHAR key[RM_KEY_CHARS + 1], HANDLE *section);

/* The watcher: takes the plans of the handoff as its own, for its session handle. */
DWORD rm_restart_adopt(DWORD session, const struct rm_handoff_view *v);

/* The session ends: every plan and token it keeps goes, and its watcher is told. */
void rm_restart_forget(DWORD session);

#endif
