/*
 * NT object names of mapped files to Win32 paths (pure: no OS calls, builds on Linux).
 *
 * The OS names a process's mapped images and files in NT form: "\Device\HarddiskVolume2\x"
 * on Windows, "\??\C:\x" (or already "C:\x") on Wine. Detection needs a path it can open.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_NTPATH_H
#define RM_NTPATH_H

#include <stddef.h>
#include <stdint.h>

/* Device name of each drive letter ("\Device\HarddiskVolume2" for C:), as QueryDosDevice
 * reports it; an empty string for letters with no device. */
struct rm_drive_map {
    uint16_t device[26][128];
    size_t len[26];
};

/* Writes the Win32 form of nt (nlen units) to out (cap units, NUL-terminated). Returns its
 * length, or 0 when the name has no Win32 form we can open (unknown device, too long). */
size_t rm_ntpath_to_win32(const uint16_t *nt, size_t nlen, const struct rm_drive_map *drives,
                          uint16_t *out, size_t cap);

#endif
