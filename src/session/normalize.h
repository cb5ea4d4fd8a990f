/*
 * Turning caller strings into what a session stores, once, at registration.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_NORMALIZE_H
#define RM_NORMALIZE_H

#include <windows.h>

#include "session.h"
#include "sys/sys.h"

/* Scratch space for one call: GetFullPathNameW output of the longest possible path. */
#define RM_PATH_SCRATCH (32768u + 16u)

/* Validates and normalises a file name (absolute, prefix stripped, WOW64 directories mapped to
 * where the file really is). ERROR_BAD_ARGUMENTS for NULL, empty, over-long or unusable names.
 * On success out->text is allocated with rm_sys.alloc. */
DWORD rm_normalize_file(const WCHAR *name, const struct rm_path_env *env, WCHAR *scratch, struct rm_text *out);

/* Validates a service short name (1..256 units, no slashes) and copies it. */
DWORD rm_normalize_service(const WCHAR *name, struct rm_text *out);

#endif
