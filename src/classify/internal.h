/*
 * Inside src/classify: what one rm_classify call learns once (the caller, the system directory,
 * every top-level window, every running service) and the per-concern helpers that read it.
 *
 * Nothing here outlives the call: the window and service maps are snapshots taken at its start,
 * so every holder of one call is judged against the same picture of the system.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_CLASSIFY_INTERNAL_H
#define RM_CLASSIFY_INTERNAL_H

#include <windows.h>
#include <restartmanager.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/detect.h"
#include "detect/native.h"

/* Longest Win32 path QueryFullProcessImageNameW can return, plus room for the WoW64 rewrite
 * (System32 -> Sysnative is one unit longer) and a NUL. */
#define RM_CLS_PATH_MAX (32768u + 16u)

/* ================================ windows (windows.c) ======================================= */

struct rm_win_slot {
    DWORD pid;
    BOOL any;     /* owns at least one top-level window */
    HWND main;    /* first visible, unowned top-level window (Z order: the topmost) */
    HWND titled;  /* first such window with a non-empty title */
};

/* One slot per holder PID, sorted by PID, filled by a single EnumWindows pass. */
struct rm_winmap {
    struct rm_win_slot *slots;
    uint32_t count;
};

DWORD rm_winmap_build(struct rm_winmap *m, const struct rm_holders *holders);
const struct rm_win_slot *rm_winmap_find(const struct rm_winmap *m, DWORD pid);
void rm_winmap_free(struct rm_winmap *m);

/* ================================ services (svcmap.c) ======================================= */

struct rm_svc {
    DWORD pid;
    const WCHAR *name;    /* short name */
    const WCHAR *display; /* display name */
};

/* Every running Win32 service with its host PID, sorted by PID then short name. */
struct rm_svcmap {
    struct rm_svc *items;
    uint32_t count;
    void *chunks; /* the enumeration buffers the names point into */
};

/* ERROR_OUTOFMEMORY only; an SCM that cannot enumerate leaves the map empty. */
DWORD rm_svcmap_build(struct rm_svcmap *m, SC_HANDLE scm);
void rm_svcmap_free(struct rm_svcmap *m);
/* The service `preferred` names if this PID hosts it, else the PID's first service by short
 * name; NULL when the PID hosts none. */
const struct rm_svc *rm_svcmap_pick(const struct rm_svcmap *m, DWORD pid, const WCHAR *preferred);
/* The first service this PID hosts that the system cannot run without (RpcSs, DcomLaunch,
 * PlugPlay: SPEC §5.6), whatever the host's file name; NULL if none. */
const struct rm_svc *rm_svcmap_critical(const struct rm_svcmap *m, DWORD pid);
/* Is this one of the services the system cannot run without? */
int rm_svc_is_critical(const WCHAR *name);
/* Case-insensitive equality of service names (the SCM's own rule). */
int rm_svc_name_equal(const WCHAR *a, const WCHAR *b);

/* ================================ the call ================================================== */

struct rm_cls_call {
    DWORD self_pid;
    DWORD self_session; /* RM_INVALID_TS_SESSION if unknown */
    BOOL self_wow64;    /* 32-bit caller on 64-bit Windows: file system redirection applies */
    int restart_fallback;
    WCHAR windir[MAX_PATH + 1]; /* without a trailing backslash; empty if unknown */
    size_t windir_len;
    SC_HANDLE scm;     /* NULL if the SCM could not be opened */
    DWORD scm_error;   /* why not */
    struct rm_winmap windows;
    struct rm_svcmap services;
    WCHAR *image;      /* scratch: the current holder's executable path */
    WCHAR *open_path;  /* scratch: the same file as this process must spell it to open it */
    BYTE *cmdline;     /* scratch for reading command lines, allocated on first use */
    struct rm_native_report native; /* under WOW64: what the native helper read of 64-bit holders */
};

/* ================================ the executable (image.c) ================================== */

/* The executable's Win32 path into c->image; its length, 0 if unknown. */
size_t rm_image_path(struct rm_cls_call *c, HANDLE query);
/* c->image as this process must name it to read the file: on WoW64, <windir>\System32 is
 * redirected, so the 64-bit files there are reached through <windir>\Sysnative. */
const WCHAR *rm_image_open_path(struct rm_cls_call *c, size_t image_len);
/* IMAGE_SUBSYSTEM_* of the executable (from its mapped image, else from the file); 0 if unknown. */
WORD rm_image_subsystem(struct rm_cls_call *c, HANDLE query, HANDLE deep, const WCHAR *file);
/* Can the process's command line be read (what a restart without registration needs)?
 * 1 yes, 0 no, -1 out of memory. */
int rm_cmdline_readable(struct rm_cls_call *c, HANDLE query, HANDLE deep, const RM_UNIQUE_PROCESS *who);

/* ================================ critical processes (critical.c) =========================== */

/* Does the path start with <windir> followed by the ASCII text sub (case-insensitively)?
 * The position after both, 0 if not. */
size_t rm_in_windir(const struct rm_cls_call *c, const WCHAR *image, size_t len, const char *sub);
/* <windir>\System32\{smss,csrss,wininit,logonui,lsass,services,winlogon}.exe, by full path. */
int rm_is_critical_image(const struct rm_cls_call *c, const WCHAR *image, size_t len);
/* <windir>\explorer.exe, by full path. */
int rm_is_explorer(const struct rm_cls_call *c, const WCHAR *image, size_t len);
/* The PID of the kernel's "System" process. */
#define RM_SYSTEM_PID 4u

/* ================================ names (names.c) =========================================== */

/* Copies up to CCH_RM_MAX_APP_NAME units of src[0..n) (or up to its NUL), trimmed of blanks,
 * into dst; returns 1 if anything is left. */
int rm_name_set(WCHAR *dst, const WCHAR *src, size_t n);
/* The version resource's FileDescription. 1 found, 0 none, -1 out of memory. */
int rm_name_from_version(const WCHAR *file, WCHAR *dst);
int rm_name_from_window(HWND w, WCHAR *dst);
int rm_name_from_path(const WCHAR *image, size_t len, WCHAR *dst);
void rm_name_from_pid(DWORD pid, WCHAR *dst);

/* ================================ restartability (restartable.c) ============================ */

/* Read from the environment on every rm_classify call, so tests can flip it. */
int rm_restart_fallback_enabled(void);
/* May an app (not a service, not critical, not the caller) be restarted?
 * 1 yes, 0 no, -1 out of memory. */
int rm_app_restartable(struct rm_cls_call *c, HANDLE query, HANDLE deep, const RM_UNIQUE_PROCESS *who);

#endif
