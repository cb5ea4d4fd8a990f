/*
 * What each holder is (DESIGN §2 classify/): application type, friendly name, service names,
 * critical processes and services, terminal-services session, restartability, and the reboot
 * reasons that follow.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_CLASSIFY_H
#define RM_CLASSIFY_H

#include <windows.h>
#include <restartmanager.h>

#include "detect/detect.h"

/* One RM_PROCESS_INFO per holder that still runs with the same start time (holders that
 * exited meanwhile are dropped), in holder order, allocated with rm_sys.alloc (*entries may be
 * NULL when *count is 0). Reboot reasons (RM_REBOOT_REASON bits) for the whole list go to
 * *reasons. AppStatus is RmStatusRunning; the caller overlays what the session recorded. */
DWORD rm_classify(const struct rm_holders *holders, RM_PROCESS_INFO **entries, uint32_t *count,
                  DWORD *reasons);

/* Where the OS cannot say whether an app registered for restart (GetApplicationRestartSettings
 * answers E_NOTIMPL, as on Wine), apps count as restartable from the command line and
 * directory captured before shutdown (DESIGN §3). The environment variable
 * RSTRTMGR_RESTART_FALLBACK=0 turns that off: such apps are then not restartable. */
#define RM_RESTART_FALLBACK_ENV L"RSTRTMGR_RESTART_FALLBACK"

#endif
