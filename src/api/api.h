/*
 * Shared bits of the exported functions: keep them thin (DESIGN §2): check arguments, call the
 * module below, return its Win32 code. Every export keeps the caller's last-error value.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_API_H
#define RM_API_H

#include <restartmanager.h>
#include <stdint.h>

#include "sys/sys.h"

#define RM_API_ENTER DWORD rm_saved_error_ = rm_last_error_save()
#define RM_API_RETURN(code)                                                                         \
    do {                                                                                           \
        DWORD rm_code_ = (code);                                                                   \
        rm_trace("%s -> %lu", __func__, (unsigned long)rm_code_);                                  \
        rm_last_error_restore(rm_saved_error_);                                                    \
        return rm_code_;                                                                           \
    } while (0)

/* Who uses the session's resources now (detection + classification, no lock held while the
 * system is scanned), for RmGetList and RmShutdown (src/api/affected.c). *cancel is armed for
 * the caller's operation. */
struct rm_cancel;
DWORD rm_list_affected(DWORD handle, RM_PROCESS_INFO **entries, uint32_t *count, DWORD *reasons,
                       volatile LONG **cancel_requests, LONG *cancel_seen);

/* Adds what the session recorded (RmShutdown/RmRestart) to a fresh list: the status of apps
 * still running, and entries for the apps it stopped that no longer run. */
DWORD rm_overlay_status(DWORD handle, RM_PROCESS_INFO **entries, uint32_t *count);

#endif
