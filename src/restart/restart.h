/*
 * Bringing back what a session stopped (DESIGN §2 restart/), in the reverse of shutdown order:
 * Explorer, services, console apps, GUI apps.
 *
 * No privilege is gained on restart: an app that ran as the caller runs (same user, same
 * elevation) is started from the caller; any other app only with the token captured from it
 * before shutdown, held by the process that called RmShutdown. Without that token it is not
 * restarted at all, rather than run as someone it was not.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_RESTART_H
#define RM_RESTART_H

#include <windows.h>

#include "detect/detect.h"
#include "shutdown/shutdown.h"

/* Restarts what the session stopped and has not brought back yet. `how` is RM_SESSION_ORPHANED
 * for the safeguard. ERROR_FAIL_RESTART when one could not be restarted (see its status). */
DWORD rm_restart_session(DWORD handle, uint32_t how, struct rm_progress *progress, const struct rm_cancel *cancel);

/* Keeps a duplicate of the target's primary token, for the session to restart it as itself
 * later; replaces one kept before for the same session and process. */
void rm_restart_keep_token(DWORD session, const RM_UNIQUE_PROCESS *p, HANDLE process);

/* Closes every token the session still keeps (it ends). */
void rm_restart_drop_tokens(DWORD session);

#endif
