/*
 * Who uses the registered resources (DESIGN §2 detect/, §3 platform strategy).
 *
 * Two paths, chosen by what the OS answers, never by "is this Wine":
 *   - per file, NtQueryInformationFile(FileProcessIdsUsingFileInformation), where it is
 *     implemented and few files are registered;
 *   - otherwise one system handle snapshot per call, one OpenProcess per PID, File handles
 *     duplicated and identified (volume + file ID) on a worker thread with a timeout, plus each
 *     process's mapped images and files — all matched against a hash set of the registered
 *     files' identities.
 * Registered processes count while that exact process (PID + start time) runs; registered
 * services while they run, with their running dependents.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_DETECT_H
#define RM_DETECT_H

#include <windows.h>
#include <restartmanager.h>

#include "session/session.h"

/* How a process came to be listed (bits, merged per process). */
#define RM_HOLD_HANDLE 0x01u     /* has a registered file open */
#define RM_HOLD_IMAGE 0x02u      /* runs it as its executable or has it loaded as a DLL */
#define RM_HOLD_MAPPED 0x04u     /* has a view of it mapped */
#define RM_HOLD_REGISTERED 0x08u /* registered itself (RM_UNIQUE_PROCESS) */
#define RM_HOLD_SERVICE 0x10u    /* hosts a registered service or a running dependent of one */

struct rm_holder {
    DWORD pid;
    FILETIME start; /* creation time when detected: later actions re-check it */
    uint32_t how;   /* RM_HOLD_* */
    WCHAR service[CCH_RM_MAX_SVC_NAME + 1]; /* short name for RM_HOLD_SERVICE, else empty */
};

struct rm_holders {
    struct rm_holder *items;
    uint32_t count, cap;
};

/* A session's registrations, copied out so that no lock is held while the system is scanned. */
struct rm_registrations {
    struct rm_text *files;
    uint32_t nfiles;
    RM_UNIQUE_PROCESS *procs;
    uint32_t nprocs;
    struct rm_text *services;
    uint32_t nservices;
};
void rm_registrations_free(struct rm_registrations *r);

/* Cancellation: the call stops at the next safe point once *requests differs from seen. */
struct rm_cancel {
    volatile LONG *requests;
    LONG seen;
};
int rm_cancelled(const struct rm_cancel *c);

/* Fills out (one entry per process, `how` merged). ERROR_ACCESS_DENIED when a registered path
 * is a directory, ERROR_CANCELLED, ERROR_OUTOFMEMORY. Nonexistent files are skipped. */
DWORD rm_detect(const struct rm_registrations *regs, const struct rm_cancel *cancel, struct rm_holders *out);

/* Adds or merges a holder (one entry per PID). -1 when out of memory. */
int rm_holders_add(struct rm_holders *h, DWORD pid, const FILETIME *start, uint32_t how, const WCHAR *service);
void rm_holders_free(struct rm_holders *h);

/* A set of service short names, compared as the SCM compares them (case-insensitively); names
 * longer than the SCM allows are kept cut to its limit. Zero-initialised is empty. */
struct rm_service_name {
    WCHAR name[257];
};
struct rm_name_set {
    struct rm_service_name *names;
    uint32_t count, cap;
};
int rm_name_set_has(const struct rm_name_set *set, const WCHAR *name);
/* 1 if the name was new (and is now in the set), 0 if it was there, -1 out of memory. */
int rm_name_set_add(struct rm_name_set *set, const WCHAR *name);
void rm_name_set_clear(struct rm_name_set *set);

/* A service's running dependents (short names) into *out, which the caller clears (even on
 * failure). Where the SCM lists none (Wine's EnumDependentServicesW lists none, ever), every
 * active service's DependOnService value is read instead: the SCM records dependencies there. */
DWORD rm_service_dependents(SC_HANDLE scm, SC_HANDLE svc, const WCHAR *name, struct rm_name_set *out);

/* Registered services that are running, and their running dependents (src/detect/services.c). */
DWORD rm_detect_services(const struct rm_registrations *regs, const struct rm_cancel *cancel,
                         struct rm_holders *out);

#endif
