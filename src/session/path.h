/*
 * Path and name text helpers (pure: no OS calls, builds on Linux for fuzzing).
 *
 * Registration normalises each path once: the OS makes it absolute (GetFullPathNameW), and
 * these functions do the rest — strip the \\?\ family of prefixes, and for 32-bit callers on a
 * 64-bit system rewrite the redirected system directories to where the file really is, so the
 * stored path means the same file to every process that reads the session.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_PATH_H
#define RM_PATH_H

#include <stddef.h>
#include <stdint.h>

/* Length of s, looking at no more than max + 1 units; returns max + 1 if there is no NUL
 * within max units (the caller treats that as too long). */
size_t rm_text_len(const uint16_t *s, size_t max);

/* Case folding used to collapse duplicate spellings: ASCII and Latin-1 letters. Identity
 * (volume + file ID) decides what a path *is*; this only avoids storing a path twice. */
uint16_t rm_fold16(uint16_t c);
uint64_t rm_text_hash(const uint16_t *s, size_t n);
int rm_text_equal(const uint16_t *a, size_t na, const uint16_t *b, size_t nb);

/* Does s (n units) start with the ASCII literal lit, ignoring case? */
int rm_text_starts_with(const uint16_t *s, size_t n, const char *lit);

/* Removes a leading \\?\ or \??\ or \\.\ before a drive letter, and turns \\?\UNC\ into \\.
 * Works in place; returns the new length. Other \\?\ forms (volume GUIDs) are kept. */
size_t rm_path_strip_prefix(uint16_t *path, size_t len);

/* For a 32-bit caller on 64-bit Windows: <windir>\Sysnative\... becomes <windir>\System32\...,
 * and <windir>\System32\... becomes <windir>\SysWOW64\... except for the directories the file
 * system redirector exempts. `path` must have room for len + 1 units plus a NUL (SysWOW64 and
 * System32 have the same length; Sysnative is one unit longer). Returns the new length. */
size_t rm_path_wow64_native(uint16_t *path, size_t len, const uint16_t *windir, size_t windir_len);

/* The inverse, for opening: a path as the system reports it (an NT or Win32 name, where
 * <windir>\System32 is the native directory) rewritten so that a 32-bit caller on 64-bit
 * Windows opens that file, not its SysWOW64 namesake: <windir>\System32\... becomes
 * <windir>\Sysnative\..., the one name the redirector maps to the native System32. `path` must
 * have room for len + 1 units plus a NUL. Returns the new length. */
size_t rm_path_native_for_wow64(uint16_t *path, size_t len, const uint16_t *windir, size_t windir_len);

/* A service short name: 1..256 units, no slashes (the SCM's rule). Returns 1 if valid. */
int rm_service_name_valid(const uint16_t *name, size_t len);

#endif
