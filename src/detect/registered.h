/*
 * Identities of the registered files that exist.
 *
 * Opening 10,000 files one by one costs seconds where every file operation is a round trip
 * to a server (as under Wine), so files are grouped by directory and a directory with many
 * registered files is read in one enumeration (FileIdBothDirectoryInformation gives each
 * entry's file ID and 8.3 name); small groups are opened file by file.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_REGISTERED_H
#define RM_REGISTERED_H

#include "detect.h"
#include "idset.h"

/* Groups at least this large are enumerated rather than opened file by file. */
#define RM_DIR_ENUM_MIN 8u

/* ERROR_ACCESS_DENIED when a registered path is a directory; nonexistent files are skipped. */
DWORD rm_registered_identities(const struct rm_registrations *regs, const struct rm_cancel *cancel,
                               struct rm_idset *out);

/* Opens a stored path, adding the \\?\ prefix that long paths need. ERROR_OUTOFMEMORY apart
 * from the open's own error, because "no such file" means nobody uses it while "no memory" means
 * nothing is known; *out is INVALID_HANDLE_VALUE on any failure. */
DWORD rm_open_path(const uint16_t *text, uint32_t nchars, DWORD access, HANDLE *out);

#endif
