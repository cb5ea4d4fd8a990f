/*
 * The session store's sections, opened by their documented names (src/session/store.c) the
 * way any other process of the user could: tests that play that process read and write them
 * directly.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_IT_SECTIONS_H
#define RM_IT_SECTIONS_H

#include <windows.h>

#include <stdint.h>

#include "session/layout.h"

/* Local\<prefix>.<user SID><suffix>, into a 256-character buffer. */
void it_object_name(WCHAR *buf, const WCHAR *prefix, const WCHAR *suffix);

/* This run's store section, mapped read-write. */
struct rm_store *it_open_store(HANDLE *section);
void it_close_view(void *view, HANDLE section);

/* The live slot that holds the session with this key (fails the test when none does). */
uint32_t it_slot_of(const struct rm_store *s, const WCHAR *key_text);
uint32_t it_first_free_slot(const struct rm_store *s);

/* The session's data section, its first `view` bytes mapped and committed. */
struct rm_data_header *it_open_data(const WCHAR *key, HANDLE *section, DWORD view);

#endif
