/*
 * An SCM that never reports STOPPED (faults injected through src/sys/): RmShutdown
 * against a service whose stop request is accepted but which then stays STOP_PENDING.
 *
 * The whole SCM is faked through the OS table, so no real service is needed and none is
 * touched: "rmfakesvc" is hosted by a real rmapp.exe that waits to be killed (its PID is the
 * one the SCM reports), and some scenes add a dependent "rmfakedep" hosted by another. Every
 * SC_HANDLE the DLL gets is a fake that must be closed exactly once; the service timeout
 * (WaitToKillServiceTimeout) is faked short, so each wait costs only that long.
 *
 * Each scene must end with a documented code or a correct partial result, never hang, crash
 * or leak (handle count before and after, fake SC_HANDLEs), and leave the session usable:
 *   - control: the stop completes → ERROR_SUCCESS (so the fakes are known to be reached);
 *   - not forced: 351, the process keeps running, the entry says RmStatusErrorOnStop;
 *   - forced: the listed process, held by handle since before the stop, is terminated → 0;
 *   - the SCM names another PID at stop time: nothing is terminated even when forced → 351;
 *   - a dependent stuck in STOP_PENDING (found through EnumDependentServicesW, or only
 *     through its DependOnService), or a dependency cycle: bounded waits, 351;
 *   - RmCancelCurrentTask during the wait: ERROR_CANCELLED at once, nothing terminated.
 *
 * SPDX-License-Identifier: MIT
 */
#include "it.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "sys/sys.h"

const char it_program[] = "hscm";

/* No child roles: the service processes are rmapp.exe. */
const struct it_role it_roles[] = {{NULL, NULL}};

#define SVC_NAME L"rmfakesvc"
#define SVC_DISPLAY L"rstrtmgr fake service"
#define DEP_NAME L"rmfakedep"
#define DEP_DISPLAY L"rstrtmgr fake dependent"
#define SAFEGUARD_ENV L"RSTRTMGR_SAFEGUARD"
#define CONTROL_KEY L"System\\CurrentControlSet\\Control"
#define SERVICES_KEY L"System\\CurrentControlSet\\Services\\"
#define SHORT_TIMEOUT L"1500"
#define CAP 8

enum { SVC, DEP, NSVC };

enum deps {
    DEPS_NONE,
    DEPS_ENUM,     /* rmfakedep depends on rmfakesvc; EnumDependentServicesW says so */
    DEPS_REGISTRY, /* the same, but only rmfakedep's DependOnService says so */
    DEPS_CYCLE,    /* each depends on the other: no real SCM allows it, a broken one may say it */
};

struct fake_svc {
    const WCHAR *name, *display;
    int present;
    HANDLE process;    /* the rmapp hosting it: once that has exited, the service is STOPPED */
    DWORD pid;         /* the PID the SCM reports */
    DWORD pid_at_stop; /* non-zero: reported instead once the shutdown opened it to stop it */
    int stops_ok;      /* an accepted stop completes at once (the control scene) */
    int stop_pending;  /* a stop was accepted */
    SC_HANDLE refused; /* the handle its last stop request was refused on, or NULL */
    int opened_to_stop;
};

#define MAX_FAKE_HANDLES 1024
#define FAKE_HANDLE_BASE 0x4ff00000u
#define KIND_SCM (-1)
#define MAX_STOPS 64

static struct {
    enum deps deps;
    struct fake_svc svc[NSVC];
    const WCHAR *timeout;         /* WaitToKillServiceTimeout, REG_SZ milliseconds */
    int kind[MAX_FAKE_HANDLES];   /* KIND_SCM or the service index */
    LONG closes[MAX_FAKE_HANDLES];
    unsigned nhandles, overflow;
    unsigned bad_handle;          /* a call with something that is not an open fake handle */
    int stops[MAX_STOPS];         /* the service of each SERVICE_CONTROL_STOP, in order */
    unsigned nstops;
    unsigned refused_stops, other_controls, starts, timeout_reads, dependon_reads;
    int cancelled;                /* RmCancelCurrentTask has returned */
    unsigned queries_after_cancel;
    unsigned polls_after_refusal; /* status polls on a handle whose stop request was refused */
    DWORD terminated[8];          /* PIDs of the processes the DLL terminated */
    unsigned nterminated;
} fake;

/* No kernel object: a lock that could allocate one under contention would skew the handle
 * counts. */
static SRWLOCK fake_lock = SRWLOCK_INIT;
static HANDLE stop_sent; /* set on every SERVICE_CONTROL_STOP */

static WCHAR rmapp[MAX_PATH];

/* ---- fake handles ------------------------------------------------------------------------------ */

static SC_HANDLE handle_value(unsigned i)
{
    return (SC_HANDLE)(ULONG_PTR)(FAKE_HANDLE_BASE + 8u * (i + 1u));
}

/* Index of a fake handle ever handed out, or -1. Call with the lock held. */
static int handle_index(SC_HANDLE h)
{
    ULONG_PTR v = (ULONG_PTR)h;
    if (v < FAKE_HANDLE_BASE + 8u || (v - FAKE_HANDLE_BASE) % 8u)
        return -1;
    ULONG_PTR i = (v - FAKE_HANDLE_BASE) / 8u - 1u;
    return i < fake.nhandles ? (int)i : -1;
}

static SC_HANDLE new_handle(int kind)
{
    SC_HANDLE h = NULL;
    AcquireSRWLockExclusive(&fake_lock);
    if (fake.nhandles < MAX_FAKE_HANDLES) {
        fake.kind[fake.nhandles] = kind;
        fake.closes[fake.nhandles] = 0;
        h = handle_value(fake.nhandles++);
    } else
        fake.overflow++;
    ReleaseSRWLockExclusive(&fake_lock);
    if (!h)
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return h;
}

/* What an open fake handle stands for (KIND_SCM or a service index); anything else is
 * counted as a bad use and answered as the SCM would. */
static int open_kind(SC_HANDLE h, int *kind)
{
    AcquireSRWLockExclusive(&fake_lock);
    int i = handle_index(h);
    int ok = i >= 0 && fake.closes[i] == 0;
    if (ok)
        *kind = fake.kind[i];
    else
        fake.bad_handle++;
    ReleaseSRWLockExclusive(&fake_lock);
    if (!ok)
        SetLastError(ERROR_INVALID_HANDLE);
    return ok;
}

static int open_service_handle(SC_HANDLE h)
{
    int kind;
    if (!open_kind(h, &kind))
        return -1;
    if (kind == KIND_SCM) {
        AcquireSRWLockExclusive(&fake_lock);
        fake.bad_handle++;
        ReleaseSRWLockExclusive(&fake_lock);
        SetLastError(ERROR_INVALID_HANDLE);
        return -1;
    }
    return kind;
}

/* ---- the fake services ---------------------------------------------------------------------------- */

static int by_name(const WCHAR *name)
{
    for (int i = 0; i < NSVC; i++)
        if (name && fake.svc[i].present && !_wcsicmp(name, fake.svc[i].name))
            return i;
    return -1;
}

/* Does service a depend on service b in this scene? */
static int depends(int a, int b)
{
    if (!fake.svc[a].present || !fake.svc[b].present)
        return 0;
    switch (fake.deps) {
    case DEPS_ENUM:
    case DEPS_REGISTRY:
        return a == DEP && b == SVC;
    case DEPS_CYCLE:
        return a != b;
    default:
        return 0;
    }
}

static DWORD state_of(int i, DWORD *pid)
{
    struct fake_svc *s = &fake.svc[i];
    *pid = 0;
    if (!s->present || WaitForSingleObject(s->process, 0) == WAIT_OBJECT_0 || (s->stop_pending && s->stops_ok))
        return SERVICE_STOPPED;
    *pid = s->opened_to_stop && s->pid_at_stop ? s->pid_at_stop : s->pid;
    return s->stop_pending ? SERVICE_STOP_PENDING : SERVICE_RUNNING;
}

static void status_of(int i, SERVICE_STATUS_PROCESS *st)
{
    memset(st, 0, sizeof *st);
    st->dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    st->dwCurrentState = state_of(i, &st->dwProcessId);
    st->dwControlsAccepted = st->dwCurrentState == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP : 0;
    st->dwWaitHint = st->dwCurrentState == SERVICE_STOP_PENDING ? 1000 : 0;
}

static int active(int i)
{
    DWORD pid;
    return fake.svc[i].present && state_of(i, &pid) != SERVICE_STOPPED;
}

static DWORD text_bytes(const WCHAR *s)
{
    return (DWORD)((wcslen(s) + 1) * sizeof(WCHAR));
}

/* Copies s to the string area at *at (moving it on) and returns where it went. */
static WCHAR *put_text(BYTE **at, const WCHAR *s)
{
    WCHAR *dst = (WCHAR *)(void *)*at;
    memcpy(dst, s, text_bytes(s));
    *at += text_bytes(s);
    return dst;
}

static SC_HANDLE WINAPI fake_OpenSCManagerW(LPCWSTR machine, LPCWSTR database, DWORD access)
{
    (void)machine, (void)database, (void)access;
    return new_handle(KIND_SCM);
}

static SC_HANDLE WINAPI fake_OpenServiceW(SC_HANDLE scm, LPCWSTR name, DWORD access)
{
    int kind;
    if (!open_kind(scm, &kind))
        return NULL;
    int i = by_name(name);
    if (kind != KIND_SCM || i < 0) {
        SetLastError(kind != KIND_SCM ? ERROR_INVALID_HANDLE : ERROR_SERVICE_DOES_NOT_EXIST);
        return NULL;
    }
    /* Only what stops a service also watches it stop: from here on the SCM answers as it does
     * at stop time. */
    if ((access & (SERVICE_STOP | SERVICE_QUERY_STATUS)) == (SERVICE_STOP | SERVICE_QUERY_STATUS)) {
        AcquireSRWLockExclusive(&fake_lock);
        fake.svc[i].opened_to_stop = 1;
        ReleaseSRWLockExclusive(&fake_lock);
    }
    return new_handle(i);
}

static BOOL WINAPI fake_QueryServiceStatusEx(SC_HANDLE h, SC_STATUS_TYPE level, LPBYTE buf, DWORD size,
                                             LPDWORD need)
{
    int i = open_service_handle(h);
    if (i < 0)
        return FALSE;
    if (level != SC_STATUS_PROCESS_INFO) {
        SetLastError(ERROR_INVALID_LEVEL);
        return FALSE;
    }
    if (need)
        *need = sizeof(SERVICE_STATUS_PROCESS);
    if (!buf || size < sizeof(SERVICE_STATUS_PROCESS)) {
        SetLastError(ERROR_INSUFFICIENT_BUFFER);
        return FALSE;
    }
    SERVICE_STATUS_PROCESS st;
    AcquireSRWLockExclusive(&fake_lock);
    status_of(i, &st);
    fake.queries_after_cancel += fake.cancelled != 0;
    fake.polls_after_refusal += fake.svc[i].refused == h;
    ReleaseSRWLockExclusive(&fake_lock);
    memcpy(buf, &st, sizeof st);
    return TRUE;
}

/* Accepted from RUNNING (the service is then STOP_PENDING for good); refused as the SCM does
 * while a dependent still runs, while a stop is pending, or once it is stopped. */
static BOOL WINAPI fake_ControlService(SC_HANDLE h, DWORD control, LPSERVICE_STATUS out)
{
    int i = open_service_handle(h);
    if (i < 0)
        return FALSE;
    DWORD err = ERROR_SUCCESS, pid;
    SERVICE_STATUS_PROCESS st;
    AcquireSRWLockExclusive(&fake_lock);
    if (control != SERVICE_CONTROL_STOP) {
        fake.other_controls++;
        err = ERROR_INVALID_SERVICE_CONTROL;
    } else {
        if (fake.nstops < MAX_STOPS)
            fake.stops[fake.nstops] = i;
        fake.nstops++;
        DWORD state = state_of(i, &pid);
        if (state == SERVICE_STOPPED)
            err = ERROR_SERVICE_NOT_ACTIVE;
        else if (state == SERVICE_STOP_PENDING)
            err = ERROR_SERVICE_CANNOT_ACCEPT_CTRL;
        for (int j = 0; j < NSVC && !err; j++)
            if (depends(j, i) && active(j))
                err = ERROR_DEPENDENT_SERVICES_RUNNING;
        if (!err)
            fake.svc[i].stop_pending = 1;
        else
            fake.refused_stops++;
        fake.svc[i].refused = err == ERROR_DEPENDENT_SERVICES_RUNNING ? h : NULL;
    }
    status_of(i, &st);
    ReleaseSRWLockExclusive(&fake_lock);
    if (out)
        memcpy(out, &st, sizeof *out); /* SERVICE_STATUS is the head of SERVICE_STATUS_PROCESS */
    if (control == SERVICE_CONTROL_STOP)
        SetEvent(stop_sent);
    if (err)
        SetLastError(err);
    return !err;
}

static BOOL WINAPI fake_EnumDependentServicesW(SC_HANDLE h, DWORD state, LPENUM_SERVICE_STATUSW buf, DWORD size,
                                               LPDWORD need, LPDWORD count)
{
    int i = open_service_handle(h);
    if (i < 0)
        return FALSE;
    int list[NSVC];
    DWORD n = 0, bytes = 0;
    AcquireSRWLockExclusive(&fake_lock);
    for (int j = 0; j < NSVC && fake.deps != DEPS_REGISTRY; j++)
        if (depends(j, i) && (active(j) ? (state & SERVICE_ACTIVE) : (state & SERVICE_INACTIVE))) {
            list[n++] = j;
            bytes += sizeof(ENUM_SERVICE_STATUSW) + text_bytes(fake.svc[j].name) + text_bytes(fake.svc[j].display);
        }
    *need = bytes;
    *count = 0;
    BOOL ok = bytes == 0 || (buf && size >= bytes);
    if (ok && n) {
        BYTE *strings = (BYTE *)(buf + n);
        for (DWORD k = 0; k < n; k++) {
            SERVICE_STATUS_PROCESS st;
            status_of(list[k], &st);
            memcpy(&buf[k].ServiceStatus, &st, sizeof buf[k].ServiceStatus);
            buf[k].lpServiceName = put_text(&strings, fake.svc[list[k]].name);
            buf[k].lpDisplayName = put_text(&strings, fake.svc[list[k]].display);
        }
        *count = n;
    }
    ReleaseSRWLockExclusive(&fake_lock);
    if (!ok)
        SetLastError(ERROR_MORE_DATA);
    return ok;
}

/* Lists the fake services only: on this SCM nothing else is installed. */
static BOOL WINAPI fake_EnumServicesStatusExW(SC_HANDLE scm, SC_ENUM_TYPE level, DWORD type, DWORD state,
                                              LPBYTE buf, DWORD size, LPDWORD need, LPDWORD count, LPDWORD resume,
                                              LPCWSTR group)
{
    int kind;
    if (!open_kind(scm, &kind))
        return FALSE;
    if (kind != KIND_SCM || level != SC_ENUM_PROCESS_INFO || group) {
        SetLastError(kind != KIND_SCM ? ERROR_INVALID_HANDLE : ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    int list[NSVC];
    DWORD n = 0, bytes = 0;
    AcquireSRWLockExclusive(&fake_lock);
    for (int j = 0; j < NSVC && (type & SERVICE_WIN32_OWN_PROCESS); j++)
        if (fake.svc[j].present && (active(j) ? (state & SERVICE_ACTIVE) : (state & SERVICE_INACTIVE))) {
            list[n++] = j;
            bytes += sizeof(ENUM_SERVICE_STATUS_PROCESSW) + text_bytes(fake.svc[j].name) +
                     text_bytes(fake.svc[j].display);
        }
    *need = bytes;
    *count = 0;
    BOOL ok = bytes == 0 || (buf && size >= bytes);
    if (ok && n) {
        ENUM_SERVICE_STATUS_PROCESSW *e = (ENUM_SERVICE_STATUS_PROCESSW *)(void *)buf;
        BYTE *strings = (BYTE *)(e + n);
        for (DWORD k = 0; k < n; k++) {
            status_of(list[k], &e[k].ServiceStatusProcess);
            e[k].lpServiceName = put_text(&strings, fake.svc[list[k]].name);
            e[k].lpDisplayName = put_text(&strings, fake.svc[list[k]].display);
        }
        *count = n;
    }
    ReleaseSRWLockExclusive(&fake_lock);
    if (ok && resume)
        *resume = 0;
    if (!ok)
        SetLastError(ERROR_MORE_DATA);
    return ok;
}

static BOOL WINAPI fake_GetServiceDisplayNameW(SC_HANDLE scm, LPCWSTR name, LPWSTR out, LPDWORD len)
{
    int kind;
    if (!open_kind(scm, &kind))
        return FALSE;
    int i = by_name(name);
    if (kind != KIND_SCM || i < 0) {
        SetLastError(kind != KIND_SCM ? ERROR_INVALID_HANDLE : ERROR_SERVICE_DOES_NOT_EXIST);
        return FALSE;
    }
    DWORD n = (DWORD)wcslen(fake.svc[i].display);
    if (!out || *len <= n) {
        *len = n;
        SetLastError(ERROR_INSUFFICIENT_BUFFER);
        return FALSE;
    }
    memcpy(out, fake.svc[i].display, (n + 1) * sizeof(WCHAR));
    *len = n;
    return TRUE;
}

static BOOL WINAPI fake_CloseServiceHandle(SC_HANDLE h)
{
    AcquireSRWLockExclusive(&fake_lock);
    int i = handle_index(h);
    BOOL ok = i >= 0 && fake.closes[i] == 0;
    if (i >= 0)
        fake.closes[i]++; /* a second close shows as 2 */
    else
        fake.bad_handle++;
    ReleaseSRWLockExclusive(&fake_lock);
    if (!ok)
        SetLastError(ERROR_INVALID_HANDLE);
    return ok;
}

/* RmRestart is not called here; a fake handle must never reach the real SCM all the same. */
static BOOL WINAPI fake_StartServiceW(SC_HANDLE h, DWORD argc, LPCWSTR *argv)
{
    (void)h, (void)argc, (void)argv;
    AcquireSRWLockExclusive(&fake_lock);
    fake.starts++;
    ReleaseSRWLockExclusive(&fake_lock);
    SetLastError(ERROR_ACCESS_DENIED);
    return FALSE;
}

/* ---- the registry: the service timeout and the fake services' DependOnService ---------------------- */

static LSTATUS reg_answer(DWORD type, DWORD wanted, const void *value, DWORD bytes, LPDWORD type_out, PVOID data,
                          LPDWORD size)
{
    if (!(wanted & (type == REG_SZ ? RRF_RT_REG_SZ : RRF_RT_REG_MULTI_SZ)))
        return ERROR_UNSUPPORTED_TYPE;
    if (type_out)
        *type_out = type;
    if (data && (!size || *size < bytes)) {
        if (size)
            *size = bytes;
        return ERROR_MORE_DATA;
    }
    if (data)
        memcpy(data, value, bytes);
    if (size)
        *size = bytes;
    return ERROR_SUCCESS;
}

static LSTATUS WINAPI fake_RegGetValueW(HKEY root, LPCWSTR key, LPCWSTR value, DWORD flags, LPDWORD type, PVOID data,
                                        LPDWORD size)
{
    static const size_t services_len = sizeof SERVICES_KEY / sizeof(WCHAR) - 1;
    if (root == HKEY_LOCAL_MACHINE && key && value) {
        if (!_wcsicmp(key, CONTROL_KEY) && !_wcsicmp(value, L"WaitToKillServiceTimeout")) {
            AcquireSRWLockExclusive(&fake_lock);
            fake.timeout_reads++;
            ReleaseSRWLockExclusive(&fake_lock);
            return reg_answer(REG_SZ, flags, fake.timeout, text_bytes(fake.timeout), type, data, size);
        }
        int i = !_wcsnicmp(key, SERVICES_KEY, services_len) ? by_name(key + services_len) : -1;
        if (i >= 0 && !_wcsicmp(value, L"DependOnService")) {
            WCHAR multi[2 * 16];
            DWORD n = 0;
            AcquireSRWLockExclusive(&fake_lock);
            fake.dependon_reads++;
            for (int j = 0; j < NSVC; j++)
                if (depends(i, j)) {
                    memcpy(multi + n, fake.svc[j].name, text_bytes(fake.svc[j].name));
                    n += (DWORD)wcslen(fake.svc[j].name) + 1;
                }
            ReleaseSRWLockExclusive(&fake_lock);
            multi[n++] = 0;
            if (n == 1)
                return ERROR_FILE_NOT_FOUND;
            return reg_answer(REG_MULTI_SZ, flags, multi, n * (DWORD)sizeof(WCHAR), type, data, size);
        }
    }
    return RegGetValueW(root, key, value, flags, type, data, size);
}

/* Passed through: which process the DLL ends is what several scenes are about. */
static BOOL WINAPI count_TerminateProcess(HANDLE process, UINT code)
{
    AcquireSRWLockExclusive(&fake_lock);
    if (fake.nterminated < sizeof fake.terminated / sizeof *fake.terminated)
        fake.terminated[fake.nterminated] = GetProcessId(process);
    fake.nterminated++;
    ReleaseSRWLockExclusive(&fake_lock);
    return TerminateProcess(process, code);
}

/* ---- scenes -------------------------------------------------------------------------------------------- */

struct scene {
    HANDLE svc, dep, other; /* the rmapp processes */
    DWORD before;           /* handle count */
    DWORD h;
    WCHAR key[CCH_RM_SESSION_KEY + 1];
};
static struct scene sc;
static HANDLE canceller; /* the thread that cancels, if a scene started one */

/* With nothing to do, rmapp only waits to be killed: a service process that never stops. */
static HANDLE launch(void)
{
    return IT_LAUNCH(rmapp, 0, L"");
}

static void fake_install(const WCHAR *timeout, enum deps deps)
{
    memset(&fake, 0, sizeof fake);
    fake.timeout = timeout;
    fake.deps = deps;
    fake.svc[SVC].name = SVC_NAME;
    fake.svc[SVC].display = SVC_DISPLAY;
    fake.svc[SVC].present = 1;
    fake.svc[SVC].process = sc.svc;
    fake.svc[SVC].pid = GetProcessId(sc.svc);
    fake.svc[DEP].name = DEP_NAME;
    fake.svc[DEP].display = DEP_DISPLAY;
    fake.svc[DEP].present = deps != DEPS_NONE;
    fake.svc[DEP].process = sc.dep;
    fake.svc[DEP].pid = sc.dep ? GetProcessId(sc.dep) : 0;
    ResetEvent(stop_sent);
    rm_sys.OpenSCManagerW = fake_OpenSCManagerW;
    rm_sys.OpenServiceW = fake_OpenServiceW;
    rm_sys.QueryServiceStatusEx = fake_QueryServiceStatusEx;
    rm_sys.EnumDependentServicesW = fake_EnumDependentServicesW;
    rm_sys.EnumServicesStatusExW = fake_EnumServicesStatusExW;
    rm_sys.GetServiceDisplayNameW = fake_GetServiceDisplayNameW;
    rm_sys.CloseServiceHandle = fake_CloseServiceHandle;
    rm_sys.ControlService = fake_ControlService;
    rm_sys.StartServiceW = fake_StartServiceW;
    rm_sys.RegGetValueW = fake_RegGetValueW;
    rm_sys.TerminateProcess = count_TerminateProcess;
}

/* Starts the scene's processes, fakes the SCM, counts handles, and registers rmfakesvc. */
static void scene_begin(const WCHAR *timeout, enum deps deps, int other)
{
    memset(&sc, 0, sizeof sc);
    sc.svc = launch();
    if (deps != DEPS_NONE)
        sc.dep = launch();
    if (other)
        sc.other = launch();
    fake_install(timeout, deps);
    sc.before = IT_HANDLE_COUNT();
    sc.h = IT_START(sc.key);
    LPCWSTR services[] = {SVC_NAME};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(sc.h, 0, NULL, 0, NULL, 1, services));
}

struct listing {
    UINT n;
    DWORD reasons;
    RM_PROCESS_INFO e[CAP];
};

static void list_now(struct listing *l)
{
    UINT needed = 0;
    memset(l, 0, sizeof *l);
    l->n = CAP;
    l->reasons = 0xdeadbeefu;
    EXPECT_RC(ERROR_SUCCESS, RmGetList(sc.h, &needed, &l->n, l->e, &l->reasons));
    assert_int_equal(l->reasons, RmRebootReasonNone);
    for (UINT i = 0; i < l->n; i++)
        print_message("  listed: pid %lu type %d status %#lx service %ls (%ls)\n", l->e[i].Process.dwProcessId,
                      (int)l->e[i].ApplicationType, l->e[i].AppStatus, l->e[i].strServiceShortName,
                      l->e[i].strAppName);
}

static const RM_PROCESS_INFO *entry_of(const struct listing *l, const WCHAR *service, HANDLE process)
{
    for (UINT i = 0; i < l->n; i++)
        if (l->e[i].Process.dwProcessId == GetProcessId(process) && !wcscmp(l->e[i].strServiceShortName, service))
            return &l->e[i];
    print_error("no entry for service %ls in pid %lu\n", service, GetProcessId(process));
    fail();
    return NULL;
}

static FILETIME start_of(HANDLE process)
{
    FILETIME created, exited, kernel, user;
    assert_true(GetProcessTimes(process, &created, &exited, &kernel, &user));
    return created;
}

/* A running service entry, true to the process that hosts it. */
static void expect_service(const struct listing *l, const WCHAR *service, const WCHAR *display, HANDLE process)
{
    const RM_PROCESS_INFO *e = entry_of(l, service, process);
    FILETIME created = start_of(process);
    assert_int_equal(e->ApplicationType, RmService);
    assert_int_equal(e->Process.ProcessStartTime.dwLowDateTime, created.dwLowDateTime);
    assert_int_equal(e->Process.ProcessStartTime.dwHighDateTime, created.dwHighDateTime);
    assert_int_equal(e->AppStatus, RmStatusRunning);
    assert_true(e->bRestartable);
    if (wcscmp(e->strAppName, display)) {
        print_error("strAppName %ls, expected %ls\n", e->strAppName, display);
        fail();
    }
}

/* The scene's one listed entry: rmfakesvc in its process. */
static void list_only_the_service(struct listing *l)
{
    list_now(l);
    assert_int_equal(l->n, 1);
    expect_service(l, SVC_NAME, SVC_DISPLAY, sc.svc);
}

static DWORD status_of_entry(const struct listing *l, const WCHAR *service, HANDLE process)
{
    return entry_of(l, service, process)->AppStatus;
}

/* rmfakesvc's status in a fresh list. */
static DWORD service_status_now(void)
{
    struct listing l;
    list_now(&l);
    return status_of_entry(&l, SVC_NAME, sc.svc);
}

static DWORD shutdown_timed(ULONG flags)
{
    ULONGLONG t0 = GetTickCount64();
    SetLastError(IT_LAST_ERROR);
    DWORD rc = RmShutdown(sc.h, flags, NULL);
    assert_int_equal(GetLastError(), IT_LAST_ERROR);
    ULONGLONG ms = GetTickCount64() - t0;
    print_message("RmShutdown(%s) returned %lu after %llu ms (timeout %ls ms, %u stop requests)\n",
                  flags & RmForceShutdown ? "RmForceShutdown" : "0", rc, ms, fake.timeout, fake.nstops);
    /* The short timeout is the faked one, so the waits above were bounded by it. */
    assert_true(fake.timeout_reads > 0);
    return rc;
}

static int alive(HANDLE process)
{
    return WaitForSingleObject(process, 0) == WAIT_TIMEOUT;
}

static void expect_no_termination(void)
{
    if (fake.nterminated) {
        print_error("%u processes were terminated, the first pid %lu\n", fake.nterminated, fake.terminated[0]);
        fail();
    }
}

/* The session still answers; then it ends, and everything the DLL opened is closed again. */
static void scene_end(void)
{
    struct listing l;
    list_now(&l);
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(sc.h));
    it_forget(sc.h);
    assert_int_equal(fake.overflow, 0);
    assert_int_equal(fake.bad_handle, 0);
    assert_int_equal(fake.starts, 0);
    assert_int_equal(fake.other_controls, 0);
    assert_true(fake.nhandles > 0);
    for (unsigned i = 0; i < fake.nhandles; i++)
        if (fake.closes[i] != 1) {
            print_error("fake %ls handle #%u was closed %ld times\n",
                        fake.kind[i] == KIND_SCM ? L"SCM" : fake.svc[fake.kind[i]].name, i, fake.closes[i]);
            fail();
        }
    DWORD after = IT_HANDLE_COUNT();
    print_message("%u fake SC_HANDLEs, each closed once; process handles %lu before, %lu after\n", fake.nhandles,
                  sc.before, after);
    assert_int_equal(after, sc.before);
}

static int teardown(void **state)
{
    if (canceller) {
        WaitForSingleObject(canceller, 30000);
        CloseHandle(canceller);
        canceller = NULL;
    }
    int rc = it_teardown(state);
    rm_sys_reset();
    return rc;
}

#define TEST(fn) cmocka_unit_test_teardown(fn, teardown)

/* ---- the tests ---------------------------------------------------------------------------------------- */

/* Control: the same fakes with a stop that completes. Were the SCM not reached through them,
 * the stuck scenes below would prove nothing. */
static void stop_completes(void **state)
{
    (void)state;
    struct listing l;
    scene_begin(SHORT_TIMEOUT, DEPS_NONE, 0);
    fake.svc[SVC].stops_ok = 1;
    list_only_the_service(&l);
    assert_int_equal(shutdown_timed(0), ERROR_SUCCESS);
    assert_int_equal(fake.nstops, 1);
    assert_int_equal(fake.stops[0], SVC);
    expect_no_termination();
    assert_int_equal(service_status_now(), RmStatusStopped);
    scene_end();
}

static void stuck_not_forced(void **state)
{
    (void)state;
    struct listing l;
    scene_begin(SHORT_TIMEOUT, DEPS_NONE, 0);
    list_only_the_service(&l);
    assert_int_equal(shutdown_timed(0), ERROR_FAIL_SHUTDOWN);
    assert_int_equal(fake.nstops, 1);
    assert_int_equal(fake.stops[0], SVC);
    assert_int_equal(fake.refused_stops, 0);
    /* Not forced: the process that would not stop is left alone. */
    assert_true(alive(sc.svc));
    expect_no_termination();
    DWORD status = service_status_now();
    assert_true(status & RmStatusErrorOnStop);
    assert_false(status & RmStatusStopped);
    scene_end();
}

static void stuck_forced(void **state)
{
    (void)state;
    struct listing l;
    scene_begin(SHORT_TIMEOUT, DEPS_NONE, 0);
    list_only_the_service(&l);
    /* README: RmForceShutdown terminates whatever has not exited within its timeout; the
     * service is then stopped, so nothing failed. */
    assert_int_equal(shutdown_timed(RmForceShutdown), ERROR_SUCCESS);
    assert_int_equal(fake.nstops, 1);
    assert_int_equal(fake.nterminated, 1);
    assert_int_equal(fake.terminated[0], GetProcessId(sc.svc));
    assert_int_equal(WaitForSingleObject(sc.svc, 10000), WAIT_OBJECT_0);
    assert_int_equal(service_status_now(), RmStatusStopped);
    scene_end();
}

/* The SCM names another process at stop time (the service restarted elsewhere, or a broken
 * answer): the listed process is not the service's any more and the other one was never
 * listed, so a forced call may terminate neither. */
static void pid_changes_forced(void **state)
{
    (void)state;
    struct listing l;
    scene_begin(SHORT_TIMEOUT, DEPS_NONE, 1);
    fake.svc[SVC].pid_at_stop = GetProcessId(sc.other);
    list_only_the_service(&l);
    assert_int_equal(shutdown_timed(RmForceShutdown), ERROR_FAIL_SHUTDOWN);
    assert_true(fake.svc[SVC].opened_to_stop); /* the switch did happen, and only at stop time */
    assert_int_equal(fake.nstops, 1);
    expect_no_termination();
    assert_true(alive(sc.svc));
    assert_true(alive(sc.other));
    /* The SCM now names the other process: that is what a new list shows. */
    list_now(&l);
    assert_int_equal(l.n, 1);
    assert_int_equal(status_of_entry(&l, SVC_NAME, sc.other), RmStatusRunning);
    scene_end();
}

/* rmfakedep depends on rmfakesvc and sticks in STOP_PENDING; while it runs the SCM refuses to
 * stop rmfakesvc. Both are listed (a running dependent is affected too), both fail to stop. */
static void stuck_dependent(enum deps deps, const WCHAR *timeout)
{
    struct listing l;
    scene_begin(timeout, deps, 0);
    list_now(&l);
    assert_int_equal(l.n, 2);
    expect_service(&l, SVC_NAME, SVC_DISPLAY, sc.svc);
    expect_service(&l, DEP_NAME, DEP_DISPLAY, sc.dep);
    assert_int_equal(shutdown_timed(0), ERROR_FAIL_SHUTDOWN);
    /* Dependents first: the first stop request went to rmfakedep (in a cycle, "first" is
     * wherever the walk gave up). Each service is asked once: one that did not stop is not
     * waited for again, whether the walk or the list reaches it next. */
    assert_int_equal(fake.nstops, 2);
    /* A refused stop request (a dependent still runs) is not waited on. */
    assert_true(fake.refused_stops > 0);
    assert_int_equal(fake.polls_after_refusal, 0);
    if (deps != DEPS_CYCLE)
        assert_int_equal(fake.stops[0], DEP);
    expect_no_termination();
    assert_true(alive(sc.svc));
    assert_true(alive(sc.dep));
    list_now(&l);
    assert_true(status_of_entry(&l, SVC_NAME, sc.svc) & RmStatusErrorOnStop);
    assert_true(status_of_entry(&l, DEP_NAME, sc.dep) & RmStatusErrorOnStop);
    scene_end();
}

static void stuck_dependent_listed(void **state)
{
    (void)state;
    stuck_dependent(DEPS_ENUM, SHORT_TIMEOUT);
}

/* EnumDependentServicesW lists nothing: only rmfakedep's DependOnService tells. */
static void stuck_dependent_in_registry(void **state)
{
    (void)state;
    stuck_dependent(DEPS_REGISTRY, SHORT_TIMEOUT);
    assert_true(fake.dependon_reads > 0);
}

/* Each names the other as its dependent. The walk must end; the waits are kept short because
 * every level of it may cost one. */
static void dependency_cycle(void **state)
{
    (void)state;
    stuck_dependent(DEPS_CYCLE, L"200");
}

/* Forced: each listed service's own process ends after its wait; the dependent too, as it
 * is listed itself. */
static void stuck_dependent_forced(void **state)
{
    (void)state;
    struct listing l;
    scene_begin(SHORT_TIMEOUT, DEPS_ENUM, 0);
    list_now(&l);
    assert_int_equal(l.n, 2);
    assert_int_equal(shutdown_timed(RmForceShutdown), ERROR_SUCCESS);
    assert_int_equal(fake.stops[0], DEP);
    assert_int_equal(fake.nterminated, 2);
    assert_int_equal(WaitForSingleObject(sc.svc, 10000), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(sc.dep, 10000), WAIT_OBJECT_0);
    list_now(&l);
    assert_int_equal(status_of_entry(&l, SVC_NAME, sc.svc), RmStatusStopped);
    assert_int_equal(status_of_entry(&l, DEP_NAME, sc.dep), RmStatusStopped);
    scene_end();
}

struct cancel_call {
    DWORD h, wait, rc;
};

static DWORD WINAPI cancel_on_stop(void *arg)
{
    struct cancel_call *c = arg;
    c->wait = WaitForSingleObject(stop_sent, 30000);
    c->rc = RmCancelCurrentTask(c->h);
    AcquireSRWLockExclusive(&fake_lock);
    fake.cancelled = 1;
    ReleaseSRWLockExclusive(&fake_lock);
    return 0;
}

/* The timeout is a minute: only the cancel can end the wait early. Forced, so that a wait
 * that ended by its timeout would show as a terminated process and a 0. */
static void cancel_while_waiting(void **state)
{
    (void)state;
    static struct cancel_call call;
    struct listing l;
    scene_begin(L"60000", DEPS_NONE, 0);
    list_only_the_service(&l);
    call.h = sc.h;
    call.wait = call.rc = 0xffffffffu;
    canceller = CreateThread(NULL, 0, cancel_on_stop, &call, 0, NULL);
    assert_non_null(canceller);
    assert_int_equal(shutdown_timed(RmForceShutdown), ERROR_CANCELLED);
    assert_int_equal(WaitForSingleObject(canceller, 30000), WAIT_OBJECT_0);
    CloseHandle(canceller);
    canceller = NULL;
    assert_int_equal(call.wait, WAIT_OBJECT_0);
    assert_int_equal(call.rc, ERROR_SUCCESS);
    /* 1223 alone does not show that the wait ended early: the phase also checks for a cancel
     * after a wait that ran its full minute. The poll count does: a wait that ignored the
     * cancel would go on querying the service every few dozen milliseconds until then. */
    print_message("status queries after the cancel: %u\n", fake.queries_after_cancel);
    assert_true(fake.queries_after_cancel <= 3);
    assert_int_equal(fake.nstops, 1);
    expect_no_termination();
    assert_true(alive(sc.svc));
    /* A cancelled call is over: the next one runs normally. */
    list_now(&l);
    assert_true(status_of_entry(&l, SVC_NAME, sc.svc) & RmStatusErrorOnStop);
    scene_end();
}

/* ---- the group ---------------------------------------------------------------------------------------- */

/* What the DLL creates once per process (the store's objects, cached identities) must exist
 * before the first handle count, so one whole scene runs first. */
static void warm_up(void **state)
{
    (void)state;
    struct listing l;
    scene_begin(L"100", DEPS_NONE, 0);
    fake.svc[SVC].stops_ok = 1;
    list_now(&l);
    RmShutdown(sc.h, 0, NULL);
    list_now(&l);
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(sc.h));
    it_forget(sc.h);
}

static int group_setup(void **state)
{
    (void)state;
    it_helper_path(L"rmapp.exe", rmapp);
    /* No watcher process: it would join the session and outlive the scene. */
    SetEnvironmentVariableW(SAFEGUARD_ENV, L"0");
    stop_sent = CreateEventW(NULL, TRUE, FALSE, NULL);
    return stop_sent ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    CloseHandle(stop_sent);
    SetEnvironmentVariableW(SAFEGUARD_ENV, NULL);
    return 0;
}

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        TEST(warm_up),
        TEST(stop_completes),
        TEST(stuck_not_forced),
        TEST(stuck_forced),
        TEST(pid_changes_forced),
        TEST(stuck_dependent_listed),
        TEST(stuck_dependent_in_registry),
        TEST(dependency_cycle),
        TEST(stuck_dependent_forced),
        TEST(cancel_while_waiting),
    };
    return cmocka_run_group_tests_name("hardening.scm", tests, group_setup, group_teardown);
}
