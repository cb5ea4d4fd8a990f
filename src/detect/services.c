/*
 * Registered services that are running, and their running dependents: stopping a service means
 * stopping everything that depends on it first, so those are affected too.
 *
 * Windows' EnumDependentServicesW already lists every level of dependents; the walk still
 * recurses (with a set of names already seen) so that an SCM answering one level at a time
 * gives the same list, and so that no dependency graph can make it loop.
 *
 * SPDX-License-Identifier: MIT
 */
#include "detect/detect.h"

#include <string.h>
#include <wchar.h>

#include "session/path.h"
#include "sys/sys.h"

#define NAME_MAX_UNITS 256u /* the SCM's limit for a service short name */
#define MAX_DEPTH 32u       /* far beyond any real dependency chain */
#define ENUM_TRIES 4u       /* dependents may start between sizing and reading */

struct walk {
    SC_HANDLE scm;
    const struct rm_cancel *cancel;
    struct rm_holders *out;
    struct rm_name_set seen;
};

int rm_name_set_has(const struct rm_name_set *set, const WCHAR *name)
{
    size_t len = wcslen(name);
    for (uint32_t i = 0; i < set->count; i++)
        if (rm_text_equal((const uint16_t *)set->names[i].name, wcslen(set->names[i].name), (const uint16_t *)name,
                          len))
            return 1;
    return 0;
}

int rm_name_set_add(struct rm_name_set *set, const WCHAR *name)
{
    if (rm_name_set_has(set, name))
        return 0;
    if (set->count == set->cap) {
        uint32_t cap = set->cap ? set->cap * 2 : 8;
        struct rm_service_name *n = rm_sys.alloc(cap * sizeof *n);
        if (!n)
            return -1;
        if (set->count)
            memcpy(n, set->names, set->count * sizeof *n);
        rm_sys.free(set->names);
        set->names = n;
        set->cap = cap;
    }
    size_t len = wcslen(name);
    if (len > NAME_MAX_UNITS)
        len = NAME_MAX_UNITS;
    memcpy(set->names[set->count].name, name, len * sizeof(WCHAR));
    set->names[set->count++].name[len] = 0;
    return 1;
}

void rm_name_set_clear(struct rm_name_set *set)
{
    rm_sys.free(set->names);
    memset(set, 0, sizeof *set);
}

/* The creation time of a service's process; zero when it cannot be read (a protected
 * service, say): classification then pins the process it finds under that PID. */
static FILETIME start_of(DWORD pid)
{
    FILETIME created = {0}, exited, kernel, user;
    HANDLE h = rm_sys.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (h) {
        if (!rm_sys.GetProcessTimes(h, &created, &exited, &kernel, &user))
            memset(&created, 0, sizeof created);
        rm_sys.CloseHandle(h);
    }
    return created;
}

/* The service's active dependents as the SCM lists them, allocated with rm_sys.alloc (NULL and
 * 0 when there are none or they cannot be listed). */
static DWORD list_dependents(SC_HANDLE svc, ENUM_SERVICE_STATUSW **list, DWORD *count)
{
    DWORD bytes = 0;
    *list = NULL;
    *count = 0;
    for (unsigned tries = 0; tries < ENUM_TRIES; tries++) {
        DWORD need = 0, n = 0;
        ENUM_SERVICE_STATUSW *buf = bytes ? rm_sys.alloc(bytes) : NULL;
        if (bytes && !buf)
            return ERROR_OUTOFMEMORY;
        if (rm_sys.EnumDependentServicesW(svc, SERVICE_ACTIVE, buf, bytes, &need, &n)) {
            *list = buf;
            *count = buf ? n : 0;
            return ERROR_SUCCESS;
        }
        rm_sys.free(buf);
        if (GetLastError() != ERROR_MORE_DATA || need <= bytes)
            return ERROR_SUCCESS;
        bytes = need + 1024u;
    }
    return ERROR_SUCCESS;
}

/* Does service `svc`'s DependOnService (REG_MULTI_SZ) name `name`? */
static int depends_on(const WCHAR *svc, const WCHAR *name)
{
    WCHAR key[300], deps[2048];
    DWORD size = sizeof deps - 2 * sizeof(WCHAR);
    _snwprintf(key, 300, L"System\\CurrentControlSet\\Services\\%ls", svc);
    key[299] = 0;
    memset(deps, 0, sizeof deps);
    if (rm_sys.RegGetValueW(HKEY_LOCAL_MACHINE, key, L"DependOnService", RRF_RT_REG_MULTI_SZ, NULL, deps, &size) !=
        ERROR_SUCCESS)
        return 0;
    for (const WCHAR *p = deps; *p; p += wcslen(p) + 1)
        if (!_wcsicmp(p, name))
            return 1;
    return 0;
}

DWORD rm_service_dependents(SC_HANDLE scm, SC_HANDLE svc, const WCHAR *name, struct rm_name_set *out)
{
    ENUM_SERVICE_STATUSW *list;
    DWORD n;
    memset(out, 0, sizeof *out);
    DWORD err = list_dependents(svc, &list, &n);
    for (DWORD i = 0; !err && i < n; i++)
        if (list[i].lpServiceName && rm_name_set_add(out, list[i].lpServiceName) < 0)
            err = ERROR_OUTOFMEMORY;
    rm_sys.free(list);
    if (err || out->count)
        return err;
    /* None listed: ask each active service whom it depends on. */
    DWORD bytes = 0, need = 0, returned = 0, resume = 0;
    rm_sys.EnumServicesStatusExW(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_ACTIVE, NULL, 0, &need, &returned,
                                 &resume, NULL);
    bytes = need + 4096;
    BYTE *buf = rm_sys.alloc(bytes);
    resume = 0;
    if (buf && rm_sys.EnumServicesStatusExW(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_ACTIVE, buf, bytes,
                                            &need, &returned, &resume, NULL)) {
        const ENUM_SERVICE_STATUS_PROCESSW *all = (const ENUM_SERVICE_STATUS_PROCESSW *)(const void *)buf;
        for (DWORD i = 0; i < returned && !err; i++)
            if (all[i].lpServiceName && _wcsicmp(all[i].lpServiceName, name) != 0 &&
                depends_on(all[i].lpServiceName, name) && rm_name_set_add(out, all[i].lpServiceName) < 0)
                err = ERROR_OUTOFMEMORY;
    }
    rm_sys.free(buf);
    return err;
}

static DWORD visit(struct walk *w, const WCHAR *name, unsigned depth);

/* NOLINTNEXTLINE(misc-no-recursion): with visit(), at most MAX_DEPTH deep */
static DWORD visit_dependents(struct walk *w, SC_HANDLE svc, const WCHAR *name, unsigned depth)
{
    struct rm_name_set deps;
    DWORD err = rm_service_dependents(w->scm, svc, name, &deps);
    for (uint32_t i = 0; !err && i < deps.count; i++) {
        if (rm_cancelled(w->cancel))
            err = ERROR_CANCELLED;
        else
            err = visit(w, deps.names[i].name, depth + 1);
    }
    rm_name_set_clear(&deps);
    return err;
}

static SC_HANDLE open_service(SC_HANDLE scm, const WCHAR *name)
{
    SC_HANDLE s = rm_sys.OpenServiceW(scm, name, SERVICE_QUERY_STATUS | SERVICE_ENUMERATE_DEPENDENTS);
    /* Without the right to list dependents, the service itself still counts. */
    return s ? s : rm_sys.OpenServiceW(scm, name, SERVICE_QUERY_STATUS);
}

/* Adds the service if it runs, then what depends on it. Missing services are skipped: a
 * registration names what the caller is about to replace, not what must exist. */
/* NOLINTNEXTLINE(misc-no-recursion): with visit_dependents(), at most MAX_DEPTH deep */
static DWORD visit(struct walk *w, const WCHAR *name, unsigned depth)
{
    SERVICE_STATUS_PROCESS st;
    DWORD need = 0, err = ERROR_SUCCESS;
    int fresh = rm_name_set_add(&w->seen, name);
    if (fresh <= 0)
        return fresh < 0 ? ERROR_OUTOFMEMORY : ERROR_SUCCESS;
    SC_HANDLE svc = open_service(w->scm, name);
    if (!svc)
        return ERROR_SUCCESS;
    memset(&st, 0, sizeof st);
    int running = rm_sys.QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (LPBYTE)&st, sizeof st, &need) &&
                  st.dwCurrentState != SERVICE_STOPPED && st.dwProcessId != 0;
    if (running) {
        FILETIME start = start_of(st.dwProcessId);
        if (rm_holders_add(w->out, st.dwProcessId, &start, RM_HOLD_SERVICE, name) < 0)
            err = ERROR_OUTOFMEMORY;
    }
    /* A stopped service is not stopped again, so its dependents are not at stake. */
    if (!err && running && depth < MAX_DEPTH)
        err = visit_dependents(w, svc, name, depth);
    rm_sys.CloseServiceHandle(svc);
    return err;
}

DWORD rm_detect_services(const struct rm_registrations *regs, const struct rm_cancel *cancel,
                         struct rm_holders *out)
{
    struct walk w = {.cancel = cancel, .out = out};
    WCHAR name[NAME_MAX_UNITS + 1];
    DWORD err = ERROR_SUCCESS;
    if (!regs->nservices)
        return ERROR_SUCCESS;
    /* An SCM we cannot reach reports no running services; the same SCM would be needed to stop
     * them, so there is nothing to list that RM could act on. */
    w.scm = rm_sys.OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT | SC_MANAGER_ENUMERATE_SERVICE);
    if (!w.scm)
        return ERROR_SUCCESS;
    for (uint32_t i = 0; !err && i < regs->nservices; i++) {
        const struct rm_text *t = &regs->services[i];
        size_t n = t->nchars < NAME_MAX_UNITS ? t->nchars : NAME_MAX_UNITS;
        if (rm_cancelled(cancel)) {
            err = ERROR_CANCELLED;
            break;
        }
        memcpy(name, t->text, n * sizeof(WCHAR));
        name[n] = 0;
        if (n)
            err = visit(&w, name, 0);
    }
    rm_name_set_clear(&w.seen);
    rm_sys.CloseServiceHandle(w.scm);
    return err;
}
