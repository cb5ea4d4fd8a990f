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

/* Opens a stored path for attribute queries, adding the \\?\ prefix that long paths need.
 * INVALID_HANDLE_VALUE on failure. */
HANDLE rm_open_path(const uint16_t *text, uint32_t nchars, DWORD access);

#endif
