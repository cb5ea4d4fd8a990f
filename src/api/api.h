/*
 * Shared bits of the exported functions: keep them thin (DESIGN §2): check arguments, call the
 * module below, return its Win32 code. Every export keeps the caller's last-error value.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_API_H
#define RM_API_H

#include <restartmanager.h>

#include "sys/sys.h"

#define RM_API_ENTER DWORD rm_saved_error_ = rm_last_error_save()
#define RM_API_RETURN(code)                                                                         \
    do {                                                                                           \
        DWORD rm_code_ = (code);                                                                   \
        rm_last_error_restore(rm_saved_error_);                                                    \
        return rm_code_;                                                                           \
    } while (0)

#endif
