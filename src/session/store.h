/*
 * The per-user session store: one named section holding the slot table, one named mutex
 * guarding it, and one data section per live session (layout.h).
 *
 * Names live in the Local\ namespace and carry the user's SID, and every object is created
 * with an owner-only DACL, so the store is per user and no other user can read or join.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_STORE_H
#define RM_STORE_H

#include <windows.h>

#include "layout.h"

/* How long any call waits for another process to finish with the store. */
#define RM_LOCK_TIMEOUT_MS 5000u

/* Opens the store on first use, takes the mutex (bounded: ERROR_SEM_TIMEOUT), initialises an
 * empty store and validates it (ERROR_WRITE_FAULT when corrupted). On success the caller holds
 * the lock and must call rm_store_unlock. */
DWORD rm_store_lock(struct rm_store **store);
void rm_store_unlock(void);

/* One session's data section. The section handle is held for as long as this process is in
 * the session (that keeps the section alive); the view is mapped only while an operation runs,
 * because 64 sessions' worth of 128 MiB views would not fit a 32-bit installer. */
struct rm_data {
    HANDLE section;
    struct rm_data_header *view; /* NULL between operations */
    uint32_t committed;          /* bytes this view has made accessible */
};

/* Creates (owner) or opens (joiner) the data section of slot/generation, leaving it mapped;
 * caller holds the lock. */
DWORD rm_data_create(uint32_t slot, uint32_t generation, struct rm_data *d);
DWORD rm_data_open(uint32_t slot, uint32_t generation, struct rm_data *d);
DWORD rm_data_map(struct rm_data *d);
void rm_data_unmap(struct rm_data *d);
void rm_data_close(struct rm_data *d);
/* Makes [0, upto) accessible in this view, committing pages as needed (ERROR_OUTOFMEMORY). */
DWORD rm_data_commit(struct rm_data *d, uint32_t upto);

/* Name prefix of every store object. Its number changes with RM_LAYOUT_VERSION, so that DLLs
 * of different layouts keep their sessions apart instead of calling each other's corrupt.
 * Unit tests point it at a private name so they can corrupt and fake their own store without
 * touching anyone else's sessions. */
#define RM_STORE_DEFAULT_PREFIX L"rstrtmgr.v2"
extern const WCHAR *rm_store_prefix;

/* Forgets the process-wide store objects (for unit tests that swap the OS table). */
void rm_store_reset(void);

#endif
