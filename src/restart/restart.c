/* SPDX-License-Identifier: MIT */
#include "restart.h"

#include <string.h>

#include "session/layout.h"
#include "session/session.h"
#include "sys/sys.h"

static int same_process(const RM_UNIQUE_PROCESS *a, const RM_UNIQUE_PROCESS *b)
{
    return a->dwProcessId == b->dwProcessId &&
           a->ProcessStartTime.dwLowDateTime == b->ProcessStartTime.dwLowDateTime &&
           a->ProcessStartTime.dwHighDateTime == b->ProcessStartTime.dwHighDateTime;
}

/* A growable array of fixed-size items. */
static void *grow(void *items, uint32_t n, uint32_t *cap, SIZE_T size)
{
    if (n < *cap)
        return items;
    uint32_t c = *cap ? *cap * 2 : 8;
    void *m = rm_alloc_array_zero(c, size);
    if (!m)
        return NULL;
    if (n)
        memcpy(m, items, (SIZE_T)n * size);
    rm_sys.free(items);
    *cap = c;
    return m;
}

/* Everything below is process-local on purpose, under one lock: a token handle means nothing
 * elsewhere and nobody else may borrow it, and a plan is only trusted because no other process
 * could have written it. */
static SRWLOCK lock = SRWLOCK_INIT;

/* Tokens captured at shutdown, by session and process identity. A session's tokens go when it
 * restarts the app or ends; a later RmShutdown of the same app replaces its token. */
struct kept_token {
    DWORD session;
    RM_UNIQUE_PROCESS who;
    HANDLE token;
};
static struct kept_token *tokens;
static uint32_t ntokens, captokens;

/* Plans, by session and process identity. `busy` while a restart works on its copy. */
struct kept_plan {
    DWORD session;
    uint64_t serial;
    struct rm_restart_plan plan; /* texts point into `text` */
    WCHAR *text;
    uint32_t status;
    int busy;
};
static struct kept_plan *plans;
static uint32_t nplans, capplans;
static uint64_t next_serial;

/* Sessions whose plans a watcher also gets. */
struct shared {
    DWORD session;
    struct rm_handoff handoff;
};
static struct shared *shares;
static uint32_t nshares, capshares;

/* Takes the session's kept token for p (NULL p: any of the session's) out of the list; the
 * caller closes it. Call with the lock held. */
static HANDLE take_token_locked(DWORD session, const RM_UNIQUE_PROCESS *p)
{
    for (uint32_t i = 0; i < ntokens; i++)
        if (tokens[i].session == session && (!p || same_process(&tokens[i].who, p))) {
            HANDLE t = tokens[i].token;
            tokens[i] = tokens[--ntokens];
            return t;
        }
    return NULL;
}

static HANDLE take_token(DWORD session, const RM_UNIQUE_PROCESS *p)
{
    AcquireSRWLockExclusive(&lock);
    HANDLE t = take_token_locked(session, p);
    ReleaseSRWLockExclusive(&lock);
    return t;
}

void rm_restart_keep_token(DWORD session, const RM_UNIQUE_PROCESS *p, HANDLE process)
{
    HANDLE t, primary;
    if (!process || !rm_sys.OpenProcessToken(process, TOKEN_DUPLICATE | TOKEN_QUERY | TOKEN_ASSIGN_PRIMARY, &t))
        return;
    BOOL ok = rm_sys.DuplicateTokenEx(t, TOKEN_ALL_ACCESS, NULL, SecurityImpersonation, TokenPrimary, &primary);
    rm_sys.CloseHandle(t);
    if (!ok)
        return;
    AcquireSRWLockExclusive(&lock);
    HANDLE old = take_token_locked(session, p);
    struct kept_token *n = grow(tokens, ntokens, &captokens, sizeof *tokens);
    if (n) {
        tokens = n;
        tokens[ntokens].session = session;
        tokens[ntokens].who = *p;
        tokens[ntokens++].token = primary;
        primary = NULL;
    }
    ReleaseSRWLockExclusive(&lock);
    if (old)
        rm_sys.CloseHandle(old);
    if (primary)
        rm_sys.CloseHandle(primary);
}

static struct shared *find_share_locked(DWORD session)
{
    for (uint32_t i = 0; i < nshares; i++)
        if (shares[i].session == session)
            return &shares[i];
    return NULL;
}

static struct kept_plan *find_plan_locked(DWORD session, const RM_UNIQUE_PROCESS *who)
{
    for (uint32_t i = 0; i < nplans; i++)
        if (plans[i].session == session && same_process(&plans[i].plan.process, who))
            return &plans[i];
    return NULL;
}

static void remove_plan_locked(struct kept_plan *k)
{
    rm_sys.free(k->text);
    *k = plans[--nplans];
}

static void tell_watcher_locked(DWORD session, const RM_UNIQUE_PROCESS *who, const struct rm_restart_plan *plan)
{
    struct shared *s = find_share_locked(session);
    if (s && rm_handoff_append(&s->handoff, who, plan) != ERROR_SUCCESS)
        rm_trace("restart: pid %lu: the safeguard could not be given its %s", who->dwProcessId,
                 plan ? "restart plan: it will not restart it" : "restart: it may start it again");
}

static SIZE_T text_chars(const WCHAR *s)
{
    return s ? wcslen(s) + 1 : 1;
}

static WCHAR *copy_into(WCHAR *p, const WCHAR *s, const WCHAR **out)
{
    SIZE_T n = text_chars(s);
    if (s)
        memcpy(p, s, n * sizeof *p);
    else
        p[0] = 0;
    *out = p;
    return p + n;
}

/* A copy of plan whose texts live in one block (*text). */
static DWORD copy_plan(const struct rm_restart_plan *in, struct rm_restart_plan *out, WCHAR **text)
{
    SIZE_T n = text_chars(in->image) + text_chars(in->cmd) + text_chars(in->dir) + text_chars(in->service);
    WCHAR *p = *text = rm_alloc_array_zero(n, sizeof *p);
    if (!p)
        return ERROR_OUTOFMEMORY;
    *out = *in;
    p = copy_into(p, in->image, &out->image);
    p = copy_into(p, in->cmd, &out->cmd);
    p = copy_into(p, in->dir, &out->dir);
    copy_into(p, in->service, &out->service);
    return ERROR_SUCCESS;
}

static DWORD keep_locked(DWORD session, const struct rm_restart_plan *plan, uint32_t status)
{
    struct kept_plan k;
    memset(&k, 0, sizeof k);
    DWORD err = copy_plan(plan, &k.plan, &k.text);
    if (err)
        return err;
    k.session = session;
    k.serial = ++next_serial;
    k.status = status;
    struct kept_plan *old = find_plan_locked(session, &plan->process);
    if (old) {
        rm_sys.free(old->text);
        *old = k;
    } else {
        struct kept_plan *n = grow(plans, nplans, &capplans, sizeof *plans);
        if (!n) {
            rm_sys.free(k.text);
            return ERROR_OUTOFMEMORY;
        }
        plans = n;
        plans[nplans++] = k;
    }
    tell_watcher_locked(session, &plan->process, &k.plan);
    return ERROR_SUCCESS;
}

DWORD rm_restart_keep(DWORD session, const struct rm_restart_plan *plan, uint32_t status)
{
    AcquireSRWLockExclusive(&lock);
    DWORD err = keep_locked(session, plan, status);
    ReleaseSRWLockExclusive(&lock);
    return err;
}

DWORD rm_restart_share(DWORD session, const WCHAR key[RM_KEY_CHARS + 1], HANDLE *section)
{
    DWORD err = ERROR_SUCCESS;
    AcquireSRWLockExclusive(&lock);
    struct shared *s = find_share_locked(session);
    if (!s) {
        struct shared *n = grow(shares, nshares, &capshares, sizeof *shares);
        if (!n)
            err = ERROR_OUTOFMEMORY;
        else {
            shares = n;
            s = &shares[nshares];
            s->session = session;
            if ((err = rm_handoff_create(&s->handoff, key)) == ERROR_SUCCESS) {
                nshares++;
                for (uint32_t i = 0; i < nplans; i++)
                    if (plans[i].session == session)
                        tell_watcher_locked(session, &plans[i].plan.process, &plans[i].plan);
            }
        }
    }
    if (!err)
        *section = s->handoff.section;
    ReleaseSRWLockExclusive(&lock);
    return err;
}

struct adoption {
    DWORD session;
    DWORD err;
};

static void adopt_one(void *ctx, const RM_UNIQUE_PROCESS *who, const struct rm_restart_plan *plan)
{
    struct adoption *a = ctx;
    if (!plan) {
        struct kept_plan *k = find_plan_locked(a->session, who);
        if (k)
            remove_plan_locked(k);
    } else if (!a->err) {
        a->err = keep_locked(a->session, plan, RmStatusStopped);
    }
}

DWORD rm_restart_adopt(DWORD session, const struct rm_handoff_view *v)
{
    struct adoption a = {session, ERROR_SUCCESS};
    AcquireSRWLockExclusive(&lock);
    DWORD err = rm_handoff_read(v, adopt_one, &a);
    ReleaseSRWLockExclusive(&lock);
    return err ? err : a.err;
}

void rm_restart_forget(DWORD session)
{
    HANDLE t;
    while ((t = take_token(session, NULL)) != NULL)
        rm_sys.CloseHandle(t);
    AcquireSRWLockExclusive(&lock);
    for (uint32_t i = nplans; i-- > 0;)
        if (plans[i].session == session)
            remove_plan_locked(&plans[i]);
    struct shared *s = find_share_locked(session);
    if (s) {
        rm_handoff_end(&s->handoff);
        *s = shares[--nshares];
    }
    ReleaseSRWLockExclusive(&lock);
}

/* Copies of the session's plans that no other restart is working on, marked busy. */
static DWORD take_work(DWORD session, struct kept_plan **out, uint32_t *count)
{
    DWORD err = ERROR_SUCCESS;
    uint32_t n = 0;
    *out = NULL;
    AcquireSRWLockExclusive(&lock);
    for (uint32_t i = 0; i < nplans; i++)
        n += plans[i].session == session && !plans[i].busy;
    struct kept_plan *w = n ? rm_alloc_array_zero(n, sizeof *w) : NULL;
    if (n && !w)
        err = ERROR_OUTOFMEMORY;
    uint32_t k = 0;
    for (uint32_t i = 0; i < nplans && !err; i++) {
        struct kept_plan *p = &plans[i];
        if (p->session != session || p->busy)
            continue;
        w[k] = *p;
        if ((err = copy_plan(&p->plan, &w[k].plan, &w[k].text)) == ERROR_SUCCESS)
            k++;
    }
    for (uint32_t i = 0; i < k && !err; i++)
        find_plan_locked(session, &w[i].plan.process)->busy = 1;
    ReleaseSRWLockExclusive(&lock);
    if (err) {
        for (uint32_t i = 0; i < k; i++)
            rm_sys.free(w[i].text);
        rm_sys.free(w);
        return err;
    }
    *out = w;
    *count = k;
    return ERROR_SUCCESS;
}

/* After a restart: a plan brought back goes (the watcher is told), one that failed stays for a
 * later RmRestart with its new status. Plans replaced or forgotten meanwhile are left alone. */
static void finish_work(DWORD session, const struct kept_plan *w, BOOL restarted)
{
    AcquireSRWLockExclusive(&lock);
    struct kept_plan *k = find_plan_locked(session, &w->plan.process);
    if (k && k->serial == w->serial) {
        if (restarted) {
            remove_plan_locked(k);
            tell_watcher_locked(session, &w->plan.process, NULL);
        } else {
            k->busy = 0;
            k->status = w->status;
        }
    }
    ReleaseSRWLockExclusive(&lock);
}

static int rank(uint32_t app_type)
{
    switch (app_type) {
    case RmExplorer:
        return 0;
    case RmService:
        return 1;
    case RmConsole:
        return 2;
    default:
        return 3;
    }
}

static BOOL start_service(const WCHAR *name, DWORD timeout, const struct rm_cancel *cancel)
{
    SC_HANDLE scm = name[0] ? rm_sys.OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT) : NULL;
    SC_HANDLE svc = scm ? rm_sys.OpenServiceW(scm, name, SERVICE_START | SERVICE_QUERY_STATUS) : NULL;
    BOOL ok = FALSE;
    if (svc && (rm_sys.StartServiceW(svc, 0, NULL) || GetLastError() == ERROR_SERVICE_ALREADY_RUNNING))
        ok = rm_service_wait(svc, SERVICE_RUNNING, GetTickCount64() + timeout, cancel);
    if (svc)
        rm_sys.CloseServiceHandle(svc);
    if (scm)
        rm_sys.CloseServiceHandle(scm);
    return ok;
}

static BOOL start_app(DWORD session, const struct rm_restart_plan *p, uint32_t how)
{
    size_t n = wcslen(p->cmd);
    if (!n || !p->image[0])
        return FALSE;
    WCHAR *cmd = rm_sys.alloc((n + 1) * sizeof *cmd); /* CreateProcess may write to it */
    if (!cmd)
        return FALSE;
    memcpy(cmd, p->cmd, (n + 1) * sizeof *cmd);
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    DWORD flags = CREATE_DEFAULT_ERROR_MODE | (p->flags & RM_STOPPED_NEW_CONSOLE ? CREATE_NEW_CONSOLE : 0);
    const WCHAR *dir = p->dir[0] ? p->dir : NULL;
    BOOL ok = FALSE;
    HANDLE token = how & RM_SESSION_ORPHANED ? NULL : take_token(session, &p->process);
    if (p->flags & RM_STOPPED_SAME_IDENTITY)
        ok = rm_sys.CreateProcessW(p->image, cmd, NULL, NULL, FALSE, flags, NULL, dir, &si, &pi);
    else if (token)
        ok = rm_sys.CreateProcessAsUserW(token, p->image, cmd, NULL, NULL, FALSE, flags, NULL, dir, &si, &pi);
    if (token)
        rm_sys.CloseHandle(token);
    rm_sys.free(cmd);
    if (ok) {
        rm_sys.CloseHandle(pi.hThread);
        rm_sys.CloseHandle(pi.hProcess);
    }
    return ok;
}

DWORD rm_restart_session(DWORD handle, uint32_t how, struct rm_progress *progress, const struct rm_cancel *cancel)
{
    struct kept_plan *work;
    uint32_t n = 0;
    DWORD err = take_work(handle, &work, &n);
    if (err)
        return err;
    DWORD app_timeout, service_timeout;
    rm_shutdown_timeouts(&app_timeout, &service_timeout);
    (void)app_timeout;

    progress->total = n;
    progress->done = 0;
    rm_progress_report(progress);

    int failed = 0;
    DWORD record_err = ERROR_SUCCESS;
    uint32_t i = 0;
    for (int r = 0; r < 4 && !err; r++)
        for (i = 0; i < n && !err; i++) {
            struct kept_plan *w = &work[i];
            if (rank(w->plan.app_type) != r)
                continue;
            if (rm_cancelled(cancel)) {
                err = ERROR_CANCELLED;
                break;
            }
            BOOL ok = w->plan.app_type == RmService ? start_service(w->plan.service, service_timeout, cancel)
                                                    : start_app(handle, &w->plan, how);
            w->status |= ok ? RmStatusRestarted : RmStatusErrorOnRestart;
            rm_trace("restart: %ls (was pid %lu): %s", w->plan.app_type == RmService ? w->plan.service : w->plan.image,
                     w->plan.process.dwProcessId, ok ? "restarted" : "failed");
            failed |= !ok;
            finish_work(handle, w, ok);
            w->busy = 2; /* handed back */
            /* The log is for RmGetList: a log that cannot be written stops no restart. */
            DWORD rec = rm_session_record_app_ex(handle, how, &w->plan.process, w->status, NULL);
            if (rec && !record_err)
                record_err = rec;
            progress->done++;
            rm_progress_report(progress);
        }
    for (i = 0; i < n; i++) {
        if (work[i].busy != 2)
            finish_work(handle, &work[i], FALSE);
        rm_sys.free(work[i].text);
    }
    rm_sys.free(work);
    if (!err && !record_err)
        rm_progress_finish(progress);
    return err ? err : record_err ? record_err : failed ? ERROR_FAIL_RESTART : ERROR_SUCCESS;
}
