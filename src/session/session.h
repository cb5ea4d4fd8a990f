/*
 * Sessions as one process sees them: handles, roles and registrations (DESIGN §2 session/).
 *
 * A handle is valid only in a process that started or joined its session: it names an entry
 * of this process's own table, and that entry must still match the slot and generation in
 * the shared store. Everything returns Win32 error codes, which the API passes through.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_SESSION_H
#define RM_SESSION_H

#include <windows.h>
#include <stdint.h>

#include <restartmanager.h>

#include "key.h"

/* Per-process limit on open handles (started + joined). */
#define RM_MAX_LOCAL_HANDLES 256u
/* Per call: an installer registers in batches; anything larger than this is a caller bug (and
 * a count we cannot check against the array it describes). */
#define RM_MAX_PER_CALL (1u << 20)

DWORD rm_session_start(DWORD *handle, WCHAR key_text[RM_KEY_CHARS + 1]);
DWORD rm_session_join(const uint8_t key[RM_KEY_BYTES], DWORD *handle);
DWORD rm_session_end(DWORD handle);

/* Checks that handle is live in this process; with need_owner, that this process started it
 * (ERROR_SESSION_CREDENTIAL_CONFLICT otherwise). */
DWORD rm_session_check(DWORD handle, BOOL need_owner);

/* Normalised registrations of one call (see normalize.h), all-or-nothing. */
struct rm_text {
    const uint16_t *text;
    uint32_t nchars;
};
struct rm_batch {
    struct rm_text *files;
    uint32_t nfiles;
    const RM_UNIQUE_PROCESS *procs;
    uint32_t nprocs;
    struct rm_text *services;
    uint32_t nservices;
};
DWORD rm_session_register(DWORD handle, const struct rm_batch *batch);

/* Copies the session's registrations out (owner only), so detection can run with no lock
 * held, and points *cancel_requests at the session's cancellation counter. */
struct rm_registrations;
DWORD rm_session_snapshot(DWORD handle, struct rm_registrations *out, volatile LONG **cancel_requests);

/* Owner only: the session's cancellation counter (RmShutdown/RmRestart watch it). */
DWORD rm_session_cancel_counter(DWORD handle, volatile LONG **cancel_requests);

/* Asks the running operation of the session to stop at its next safe point (owner only). */
DWORD rm_session_cancel(DWORD handle);

/* What the session's log says about an app it acted on (RmShutdown/RmRestart): status and
 * what RmGetList shows of it, for any member to read. Display only: what the log says is
 * never executed, started or signalled (the restart plan is src/restart's own). */
struct rm_app_state {
    RM_UNIQUE_PROCESS process;
    uint32_t status;   /* RM_APP_STATUS bits */
    int stopped;       /* the session stopped it: the fields below are valid */
    uint32_t app_type; /* RM_APP_TYPE */
    uint32_t flags;    /* RM_STOPPED_* */
    WCHAR service[257];
    WCHAR name[256];
};

/* Appends the app's new status and, if stopped is given, what RmGetList shows of it. */
struct rm_stopped_info;
DWORD rm_session_record_app(DWORD handle, const RM_UNIQUE_PROCESS *p, uint32_t status,
                            const struct rm_stopped_info *stopped);
/* Every app with a recorded status, latest status each (any member may read). */
DWORD rm_session_apps(DWORD handle, struct rm_app_state **apps, uint32_t *count);
/* Recording for the safeguard, which acts exactly when the owner has died: RM_SESSION_ORPHANED
 * lets a member record after its owner is gone (the slot must still be that session). */
#define RM_SESSION_ORPHANED 0x1u
DWORD rm_session_record_app_ex(DWORD handle, uint32_t how, const RM_UNIQUE_PROCESS *p, uint32_t status,
                               const struct rm_stopped_info *stopped);

/* Filters (owner only). set: action RmNoRestart/RmNoShutdown replaces any filter on the same
 * target; remove: ERROR_FILE_NOT_FOUND when the target has none. list: the active filters in
 * the order they were (last) set, texts allocated (free with rm_session_filters_free). */
struct rm_filter_item;
DWORD rm_session_filter_set(DWORD handle, const struct rm_filter_item *f);
DWORD rm_session_filter_remove(DWORD handle, const struct rm_filter_item *f);
DWORD rm_session_filters(DWORD handle, struct rm_filter_item **items, uint32_t *count);
void rm_session_filters_free(struct rm_filter_item *items, uint32_t count);

/* The session's key in text form (owner only): the safeguard joins with it. */
DWORD rm_session_key(DWORD handle, WCHAR key_text[RM_KEY_CHARS + 1]);
void rm_session_apps_free(struct rm_app_state *apps, uint32_t count);

/* Session flags (RM_SLOT_*): set bits, and read them back. Owner only for setting. */
DWORD rm_session_set_flags(DWORD handle, uint32_t flags);
DWORD rm_session_flags(DWORD handle, uint32_t *flags);
/* The safeguard watcher (a member) says it has joined. */
DWORD rm_session_mark_guard_ready(DWORD handle);

/* What the session holds, counted by kind (files, processes, services), for callers and tests. */
DWORD rm_session_counts(DWORD handle, uint32_t counts[3]);

/* Drops every local handle and store object (unit tests, after swapping the OS table). */
void rm_session_reset_process_state(void);

#endif
