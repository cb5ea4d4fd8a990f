/*
 * rm_classify: what each holder is, in the terms of RM_PROCESS_INFO (SPEC §5.2–§5.6).
 *
 * Order of judgement, first match wins:
 *   1. the caller itself          -> RmCritical, DetectedSelf (it must never be shut down);
 *   2. a critical process/service -> RmCritical, CriticalProcess / CriticalService;
 *   3. a service host             -> RmService (stopped through the SCM);
 *   4. an app: Explorer, then a main window, then a console program, then other windows,
 *      else unknown.
 * A console program that shows a main window counts as a window app, since
 * WM_QUERYENDSESSION reaches it; one with only hidden windows counts as a console app,
 * since CTRL_C is what it answers to.
 *
 * SPDX-License-Identifier: MIT
 */
#include "classify/classify.h"

#include <string.h>

#include "classify/internal.h"
#include "detect/params.h"
#include "sys/sys.h"

/* One holder while it is judged. While `query` is open the PID cannot be reused, so every
 * later open of the same PID reaches the same process. */
struct proc {
    const struct rm_holder *holder;
    HANDLE query;        /* PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, or NULL */
    HANDLE deep;         /* PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, or NULL */
    size_t image_len;    /* c->image holds the executable's path when non-zero */
    const WCHAR *file;   /* the executable as this process opens it, or NULL */
};

/* ---- the call ------------------------------------------------------------------------------ */

static void windir_init(struct rm_cls_call *c)
{
    UINT n = rm_sys.GetSystemWindowsDirectoryW(c->windir, MAX_PATH);
    if (n == 0 || n >= MAX_PATH)
        n = 0;
    while (n && c->windir[n - 1] == L'\\')
        n--;
    c->windir[n] = 0;
    c->windir_len = n;
}

/* Under WOW64, the command lines of 64-bit holders come from the native helper, all in one
 * question. */
static DWORD ask_native(struct rm_cls_call *c, const struct rm_holders *holders)
{
    DWORD *pids = rm_sys.alloc(holders->count * sizeof *pids);
    uint32_t n = 0;
    if (!pids)
        return ERROR_OUTOFMEMORY;
    for (uint32_t i = 0; i < holders->count; i++) {
        HANDLE p = rm_sys.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, holders->items[i].pid);
        if (p && rm_process_beyond_wow64(p))
            pids[n++] = holders->items[i].pid;
        if (p)
            rm_sys.CloseHandle(p);
    }
    DWORD err = n ? rm_native_query(pids, n, RM_NATIVE_PARAMS, &c->native) : ERROR_SUCCESS;
    rm_sys.free(pids);
    return err;
}

static DWORD call_begin(struct rm_cls_call *c, const struct rm_holders *holders)
{
    FILETIME self_start;
    memset(c, 0, sizeof *c);
    rm_self_identity(&c->self_pid, &self_start);
    if (!rm_sys.ProcessIdToSessionId(c->self_pid, &c->self_session))
        c->self_session = (DWORD)RM_INVALID_TS_SESSION;
    if (!rm_sys.IsWow64Process(RM_CURRENT_PROCESS, &c->self_wow64))
        c->self_wow64 = FALSE;
    c->restart_fallback = rm_restart_fallback_enabled();
    windir_init(c);
    c->image = rm_sys.alloc(RM_CLS_PATH_MAX * sizeof(WCHAR));
    c->open_path = rm_sys.alloc(RM_CLS_PATH_MAX * sizeof(WCHAR));
    if (!c->image || !c->open_path)
        return ERROR_OUTOFMEMORY;
    c->scm = rm_sys.OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT | SC_MANAGER_ENUMERATE_SERVICE);
    if (!c->scm)
        c->scm_error = GetLastError();
    DWORD err = rm_svcmap_build(&c->services, c->scm);
    if (!err)
        err = rm_winmap_build(&c->windows, holders);
    return err || !c->self_wow64 ? err : ask_native(c, holders);
}

static void call_end(struct rm_cls_call *c)
{
    rm_winmap_free(&c->windows);
    rm_svcmap_free(&c->services);
    if (c->scm)
        rm_sys.CloseServiceHandle(c->scm);
    rm_sys.free(c->image);
    rm_sys.free(c->open_path);
    rm_sys.free(c->cmdline);
    rm_native_report_free(&c->native);
}

/* ---- the holder's process ------------------------------------------------------------------- */

static int same_time(const FILETIME *a, const FILETIME *b)
{
    return a->dwLowDateTime == b->dwLowDateTime && a->dwHighDateTime == b->dwHighDateTime;
}

/* Opens the holder and checks it is still the process detection saw (DESIGN §5: PID *and*
 * start time). A process we may not open stays listed: it was seen a moment ago, and
 * dropping it would hide a reason to reboot. */
static enum rm_proc_state open_holder(struct proc *p, FILETIME *start)
{
    FILETIME created, exited, kernel, user;
    static const FILETIME unknown;
    *start = p->holder->start;
    p->query = rm_sys.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, p->holder->pid);
    if (!p->query) /* ERROR_INVALID_PARAMETER is the OS's word for "no such process" */
        return GetLastError() == ERROR_INVALID_PARAMETER ? RM_PROC_GONE : RM_PROC_UNKNOWN;
    if (!rm_sys.GetProcessTimes(p->query, &created, &exited, &kernel, &user))
        return RM_PROC_UNKNOWN;
    if (same_time(start, &unknown))
        *start = created; /* detection could not read it; the PID is pinned from here on */
    else if (!same_time(start, &created))
        return RM_PROC_GONE; /* the PID was reused */
    /* An exited process stays openable while anyone holds a handle to it. */
    return rm_sys.WaitForSingleObject(p->query, 0) == WAIT_OBJECT_0 ? RM_PROC_GONE : RM_PROC_ALIVE;
}

static void close_proc(struct proc *p)
{
    if (p->query)
        rm_sys.CloseHandle(p->query);
    if (p->deep)
        rm_sys.CloseHandle(p->deep);
}

/* Could the caller terminate it (what a shutdown of a non-service ultimately needs)? */
static int may_terminate(DWORD pid)
{
    HANDLE h = rm_sys.OpenProcess(PROCESS_TERMINATE, FALSE, pid);
    if (h) {
        rm_sys.CloseHandle(h);
        return 1;
    }
    return GetLastError() != ERROR_ACCESS_DENIED;
}

/* Services are stopped through the SCM, so the right that matters is SERVICE_STOP. */
static int may_stop(const struct rm_cls_call *c, const WCHAR *service)
{
    if (!c->scm)
        return c->scm_error != ERROR_ACCESS_DENIED;
    SC_HANDLE s = rm_sys.OpenServiceW(c->scm, service, SERVICE_STOP);
    if (s) {
        rm_sys.CloseServiceHandle(s);
        return 1;
    }
    return GetLastError() != ERROR_ACCESS_DENIED;
}

/* ---- names ----------------------------------------------------------------------------------- */

/* FileDescription, else the main window's caption, else the file name (SPEC §5.3). The last
 * resort, "pid <n>", is classify_one's. */
static DWORD app_name(const struct rm_cls_call *c, const struct proc *p, const struct rm_win_slot *slot,
                      WCHAR *dst)
{
    int found = p->file ? rm_name_from_version(p->file, dst) : 0;
    if (found < 0)
        return ERROR_OUTOFMEMORY;
    if (!found && slot)
        found = rm_name_from_window(slot->titled, dst);
    if (!found && p->image_len)
        rm_name_from_path(c->image, p->image_len, dst);
    return ERROR_SUCCESS;
}

/* strServiceShortName and, as strAppName, the display name (SPEC §5.3). */
static void service_names(const struct rm_cls_call *c, const WCHAR *name, const struct rm_svc *known,
                          RM_PROCESS_INFO *e)
{
    WCHAR display[257];
    DWORD n = 257;
    size_t i = 0;
    for (; i < CCH_RM_MAX_SVC_NAME && name[i]; i++)
        e->strServiceShortName[i] = name[i];
    e->strServiceShortName[i] = 0;
    if (known && rm_svc_name_equal(known->name, name) && known->display &&
        rm_name_set(e->strAppName, known->display, CCH_RM_MAX_APP_NAME))
        return;
    if (c->scm && rm_sys.GetServiceDisplayNameW(c->scm, name, display, &n) &&
        rm_name_set(e->strAppName, display, n < 257 ? n : 256))
        return;
    rm_name_set(e->strAppName, name, CCH_RM_MAX_APP_NAME);
}

/* ---- the four judgements ---------------------------------------------------------------------- */

static DWORD as_self(struct rm_cls_call *c, struct proc *p, RM_PROCESS_INFO *e, DWORD *why)
{
    e->ApplicationType = RmCritical;
    e->bRestartable = FALSE;
    *why |= RmRebootReasonDetectedSelf;
    return app_name(c, p, rm_winmap_find(&c->windows, p->holder->pid), e->strAppName);
}

/* Critical processes are named by their file name (what RM shows an elevated caller), or by
 * the service that makes them critical. */
static void as_critical(struct rm_cls_call *c, struct proc *p, const struct rm_svc *svc, int by_image,
                        int by_service, RM_PROCESS_INFO *e, DWORD *why)
{
    e->ApplicationType = RmCritical;
    e->bRestartable = FALSE;
    if (by_image)
        *why |= RmRebootReasonCriticalProcess;
    if (by_service)
        *why |= RmRebootReasonCriticalService;
    if (p->holder->service[0] || svc)
        service_names(c, p->holder->service[0] ? p->holder->service : svc->name, svc, e);
    else if (p->holder->pid == RM_SYSTEM_PID)
        rm_name_set(e->strAppName, L"System", CCH_RM_MAX_APP_NAME);
    else if (p->image_len)
        rm_name_from_path(c->image, p->image_len, e->strAppName);
}

static void as_service(struct rm_cls_call *c, struct proc *p, const struct rm_svc *svc, RM_PROCESS_INFO *e,
                       DWORD *why)
{
    const WCHAR *name = p->holder->service[0] ? p->holder->service : svc->name;
    e->ApplicationType = RmService;
    e->bRestartable = TRUE;
    service_names(c, name, svc, e);
    if (!may_stop(c, name))
        *why |= RmRebootReasonPermissionDenied;
}

static RM_APP_TYPE app_type(struct rm_cls_call *c, struct proc *p, const struct rm_win_slot *slot)
{
    if (p->image_len && rm_is_explorer(c, c->image, p->image_len))
        return RmExplorer;
    if (slot && slot->main)
        return RmMainWindow;
    if (rm_image_subsystem(c, p->query, p->deep, p->file) == IMAGE_SUBSYSTEM_WINDOWS_CUI)
        return RmConsole;
    return slot && slot->any ? RmOtherWindow : RmUnknownApp;
}

static DWORD as_app(struct rm_cls_call *c, struct proc *p, RM_PROCESS_INFO *e, DWORD *why)
{
    const struct rm_win_slot *slot = rm_winmap_find(&c->windows, p->holder->pid);
    e->ApplicationType = app_type(c, p, slot);
    DWORD err = app_name(c, p, slot, e->strAppName);
    if (err)
        return err;
    int restartable = rm_app_restartable(c, p->query, p->deep, &e->Process);
    if (restartable < 0)
        return ERROR_OUTOFMEMORY;
    e->bRestartable = restartable ? TRUE : FALSE;
    if (!may_terminate(p->holder->pid))
        *why |= RmRebootReasonPermissionDenied;
    /* RM cannot close apps across terminal-services sessions (LANDSCAPE C.1). */
    if (e->TSSessionId != (DWORD)RM_INVALID_TS_SESSION && c->self_session != (DWORD)RM_INVALID_TS_SESSION &&
        e->TSSessionId != c->self_session)
        *why |= RmRebootReasonSessionMismatch;
    return ERROR_SUCCESS;
}

/* A holder named by a service (registered, or a dependent of one) is stopped through the SCM,
 * service by service: only that service decides whether it is critical. A host found any
 * other way could only be stopped as a whole, so every service inside it counts. */
static DWORD judge(struct rm_cls_call *c, struct proc *p, RM_PROCESS_INFO *e, DWORD *why)
{
    const struct rm_holder *h = p->holder;
    if (h->pid == c->self_pid)
        return as_self(c, p, e, why);
    int named = h->service[0] != 0;
    int by_image = h->pid == RM_SYSTEM_PID || (p->image_len && rm_is_critical_image(c, c->image, p->image_len));
    const struct rm_svc *svc = rm_svcmap_pick(&c->services, h->pid, h->service);
    const struct rm_svc *critical_svc = named ? NULL : rm_svcmap_critical(&c->services, h->pid);
    /* Any service inside lsass.exe or services.exe is a critical service too (SPEC §5.6). */
    int by_service = named ? rm_svc_is_critical(h->service) || by_image : critical_svc != NULL;
    if (by_image || by_service) {
        as_critical(c, p, named ? svc : critical_svc, by_image, by_service, e, why);
        return ERROR_SUCCESS;
    }
    if (svc || named) {
        as_service(c, p, svc, e, why);
        return ERROR_SUCCESS;
    }
    return as_app(c, p, e, why);
}

/* Fills *e unless the holder has gone (*kept = 0). */
static DWORD classify_one(struct rm_cls_call *c, const struct rm_holder *h, RM_PROCESS_INFO *e, DWORD *why,
                          int *kept)
{
    struct proc p = {.holder = h};
    FILETIME start;
    *kept = open_holder(&p, &start) != RM_PROC_GONE;
    if (!*kept) {
        close_proc(&p);
        return ERROR_SUCCESS;
    }
    memset(e, 0, sizeof *e);
    e->Process.dwProcessId = h->pid;
    e->Process.ProcessStartTime = start;
    e->AppStatus = RmStatusRunning;
    if (!rm_sys.ProcessIdToSessionId(h->pid, &e->TSSessionId))
        e->TSSessionId = (DWORD)RM_INVALID_TS_SESSION;
    if (p.query)
        p.deep = rm_sys.OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, h->pid);
    p.image_len = rm_image_path(c, p.query);
    p.file = p.image_len ? rm_image_open_path(c, p.image_len) : NULL;
    DWORD err = judge(c, &p, e, why);
    if (!e->strAppName[0])
        rm_name_from_pid(h->pid, e->strAppName);
    close_proc(&p);
    return err;
}

DWORD rm_classify(const struct rm_holders *holders, RM_PROCESS_INFO **entries, uint32_t *count, DWORD *reasons)
{
    struct rm_cls_call c;
    RM_PROCESS_INFO *out = NULL;
    uint32_t n = 0;
    DWORD why = 0;
    *entries = NULL;
    *count = 0;
    if (!holders->count)
        return ERROR_SUCCESS;
    DWORD err = call_begin(&c, holders);
    if (!err && !(out = rm_sys.alloc(holders->count * sizeof *out)))
        err = ERROR_OUTOFMEMORY;
    for (uint32_t i = 0; !err && i < holders->count; i++) {
        int kept = 0;
        err = classify_one(&c, &holders->items[i], &out[n], &why, &kept);
        n += (uint32_t)kept;
    }
    call_end(&c);
    if (err || !n) {
        rm_sys.free(out);
        return err;
    }
    *entries = out;
    *count = n;
    *reasons |= why;
    return ERROR_SUCCESS;
}
