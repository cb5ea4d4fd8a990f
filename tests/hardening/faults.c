/*
 * Faults injected through the OS table into listing, shutdown and restart,
 * against real processes (tests/helpers/rmapp.exe):
 *
 *   - access denied, one OS entry at a time and all at once: RmGetList still returns a correct
 *     partial list (only real holders, each exactly once, the registered process always), and
 *     RmShutdown's answer agrees with what happened (success only when every app it acted on
 *     is gone; 351 only with an app marked RmStatusErrorOnStop);
 *   - allocation failure at every allocation site that RmGetList, RmShutdown and RmRestart
 *     reach, once and for good: ERROR_OUTOFMEMORY or the full, correct result — never a
 *     success that silently dropped a holder or an app;
 *   - around every call, this process's handle count is the same before and after, and a
 *     session's kept tokens are closed by RmEndSession even when it cannot reach the store.
 *
 * Sites are told apart by return address: a recording run collects them, then each is failed
 * in turn; sites that only error paths reach are found on the way and failed as well.
 *
 * SPDX-License-Identifier: MIT
 */
#include "it.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "restart/restart.h"
#include "sys/sys.h"

const char it_program[] = "hfaults";

/* No child roles: the holders are rmapp.exe. */
const struct it_role it_roles[] = {{NULL, NULL}};

#define CAP 32
#define STATUS_DENIED ((NTSTATUS)0xC0000022L)
#define SHORT_TIMEOUT L"2000" /* HungAppTimeout and WaitToKillServiceTimeout for these tests */

static WCHAR rmapp[MAX_PATH], rmappw[MAX_PATH];
static ULONGLONG test_start;

/* ---- the scene: a GUI app holding a file, an app mapping one, a registered process --------- */

struct scene {
    WCHAR dir[MAX_PATH], held[MAX_PATH], mapped[MAX_PATH];
    HANDLE gui, mapper, registered;
    RM_UNIQUE_PROCESS id[3]; /* gui, mapper, registered */
};

static void write_file(const WCHAR *path)
{
    HANDLE f = CreateFileW(path, GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_ALWAYS, 0, NULL);
    DWORD done;
    assert_true(f != INVALID_HANDLE_VALUE);
    assert_true(WriteFile(f, "rstrtmgr fault test\r\n", 21, &done, NULL));
    CloseHandle(f);
}

static HANDLE launch_gui(const struct scene *s)
{
    return IT_LAUNCH(rmapp, 0, L"--gui \"rstrtmgr fault gui\" --hold \"%ls\"", s->held);
}

static void scene_up(struct scene *s, const WCHAR *leaf)
{
    memset(s, 0, sizeof *s);
    it_make_dir(leaf, s->dir);
    _snwprintf(s->held, MAX_PATH, L"%ls\\held.dat", s->dir);
    _snwprintf(s->mapped, MAX_PATH, L"%ls\\mapped.dat", s->dir);
    write_file(s->mapped);
    s->gui = launch_gui(s);
    s->mapper = IT_LAUNCH(rmappw, 0, L"--map \"%ls\"", s->mapped);
    s->registered = IT_LAUNCH(rmappw, 0, L"");
    s->id[0] = rm_test_unique(s->gui);
    s->id[1] = rm_test_unique(s->mapper);
    s->id[2] = rm_test_unique(s->registered);
}

static DWORD scene_session(const struct scene *s)
{
    WCHAR key[CCH_RM_SESSION_KEY + 1];
    DWORD h = IT_START(key);
    LPCWSTR files[] = {s->held, s->mapped};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 2, files, 1, (RM_UNIQUE_PROCESS *)&s->id[2], 0, NULL));
    return h;
}

static void end_session(DWORD h)
{
    EXPECT_RC(ERROR_SUCCESS, RmEndSession(h));
    it_forget(h);
}

/* ---- listings ------------------------------------------------------------------------------- */

struct listing {
    DWORD rc, reasons;
    UINT needed, n;
    RM_PROCESS_INFO e[CAP];
};

static DWORD list(DWORD h, struct listing *l)
{
    memset(l, 0xCD, sizeof *l);
    l->n = CAP;
    l->rc = RmGetList(h, &l->needed, &l->n, l->e, &l->reasons);
    return l->rc;
}

static int same_process(const RM_UNIQUE_PROCESS *a, const RM_UNIQUE_PROCESS *b)
{
    return a->dwProcessId == b->dwProcessId && CompareFileTime(&a->ProcessStartTime, &b->ProcessStartTime) == 0;
}

/* Index of the entry for `who`, or -1. */
static int find(const struct listing *l, const RM_UNIQUE_PROCESS *who)
{
    for (UINT i = 0; i < l->n; i++)
        if (same_process(&l->e[i].Process, who))
            return (int)i;
    return -1;
}

/* A successful listing of the scene may leave out holders the faults hid, but everything it
 * says must be true: only the scene's processes, exactly identified, each once, with
 * terminated names, and the registered process always (it needs no detection). */
static void expect_partial_(const struct scene *s, const struct listing *l, const char *what, const char *file,
                            int line)
{
    if (l->n != l->needed || l->n > 3) {
        print_error("%s: %u entries, %u needed\n", what, l->n, l->needed);
        _fail(file, line);
    }
    for (UINT i = 0; i < l->n; i++) {
        int known = 0;
        for (int k = 0; k < 3; k++)
            known += same_process(&l->e[i].Process, &s->id[k]);
        if (known != 1 || find(l, &l->e[i].Process) != (int)i) {
            print_error("%s: entry %u (pid %lu) is not one of the scene's processes, or is listed twice\n", what, i,
                        l->e[i].Process.dwProcessId);
            _fail(file, line);
        }
        if (!memchr(l->e[i].strAppName, 0, sizeof l->e[i].strAppName) ||
            !memchr(l->e[i].strServiceShortName, 0, sizeof l->e[i].strServiceShortName)) {
            print_error("%s: entry %u has an unterminated name\n", what, i);
            _fail(file, line);
        }
    }
    if (find(l, &s->id[2]) < 0) {
        print_error("%s: the registered process is missing\n", what);
        _fail(file, line);
    }
}
#define EXPECT_PARTIAL(s, l, what) expect_partial_((s), (l), (what), __FILE__, __LINE__)

static void expect_full_(const struct scene *s, const struct listing *l, const char *what, const char *file, int line)
{
    expect_partial_(s, l, what, file, line);
    for (int k = 0; k < 2; k++)
        if (find(l, &s->id[k]) < 0) {
            print_error("%s: %s is missing from a successful listing\n", what, k ? "the mapping app" : "the GUI app");
            _fail(file, line);
        }
}
#define EXPECT_FULL(s, l, what) expect_full_((s), (l), (what), __FILE__, __LINE__)

static void expect_handles_(DWORD before, const char *what, const char *file, int line)
{
    DWORD after = it_handle_count_(file, line);
    if (after != before) {
        print_error("%s: %lu handles open before, %lu after\n", what, before, after);
        _fail(file, line);
    }
}
#define EXPECT_HANDLES(before, what) expect_handles_((before), (what), __FILE__, __LINE__)

static int exited(HANDLE p, DWORD ms)
{
    return WaitForSingleObject(p, ms) == WAIT_OBJECT_0;
}

/* ---- short shutdown timeouts ------------------------------------------------------------------ */

static LSTATUS (WINAPI *real_reg_get)(HKEY, LPCWSTR, LPCWSTR, DWORD, LPDWORD, PVOID, LPDWORD);

static LSTATUS WINAPI short_timeouts(HKEY root, LPCWSTR key, LPCWSTR value, DWORD flags, LPDWORD type, PVOID data,
                                     LPDWORD size)
{
    if (value && (!wcscmp(value, L"HungAppTimeout") || !wcscmp(value, L"WaitToKillServiceTimeout")) && data &&
        size && *size >= sizeof SHORT_TIMEOUT) {
        memcpy(data, SHORT_TIMEOUT, sizeof SHORT_TIMEOUT);
        *size = sizeof SHORT_TIMEOUT;
        if (type)
            *type = REG_SZ;
        return ERROR_SUCCESS;
    }
    return real_reg_get(root, key, value, flags, type, data, size);
}

/* The table as the tests want it between faults: real, but with short timeouts, so that an
 * app a fault keeps from hearing its messages costs seconds, not the default 30. */
static void table_reset(void)
{
    rm_sys_reset();
    real_reg_get = rm_sys.RegGetValueW;
    rm_sys.RegGetValueW = short_timeouts;
}

/* ---- access denied --------------------------------------------------------------------------- */

#define DENY_SET SetLastError(ERROR_ACCESS_DENIED)

static NTSTATUS NTAPI d_NtQuerySystemInformation(SYSTEM_INFORMATION_CLASS c, PVOID b, ULONG n, PULONG r)
{
    (void)c, (void)b, (void)n, (void)r;
    return STATUS_DENIED;
}
static NTSTATUS NTAPI d_NtQueryInformationFile(HANDLE h, PIO_STATUS_BLOCK io, PVOID b, ULONG n,
                                               FILE_INFORMATION_CLASS c)
{
    (void)h, (void)io, (void)b, (void)n, (void)c;
    return STATUS_DENIED;
}
static NTSTATUS NTAPI d_NtQueryDirectoryFile(HANDLE h, HANDLE e, PVOID a, PVOID c, PIO_STATUS_BLOCK io, PVOID b,
                                             ULONG n, ULONG k, BOOLEAN one, PUNICODE_STRING m, BOOLEAN r)
{
    (void)h, (void)e, (void)a, (void)c, (void)io, (void)b, (void)n, (void)k, (void)one, (void)m, (void)r;
    return STATUS_DENIED;
}
static NTSTATUS NTAPI d_NtQueryVirtualMemory(HANDLE h, PVOID a, ULONG c, PVOID b, SIZE_T n, PSIZE_T r)
{
    (void)h, (void)a, (void)c, (void)b, (void)n, (void)r;
    return STATUS_DENIED;
}
static NTSTATUS NTAPI d_NtQueryInformationProcess(HANDLE h, PROCESSINFOCLASS c, PVOID b, ULONG n, PULONG r)
{
    (void)h, (void)c, (void)b, (void)n, (void)r;
    return STATUS_DENIED;
}
static HANDLE WINAPI d_OpenProcess(DWORD a, BOOL i, DWORD pid)
{
    (void)a, (void)i, (void)pid;
    DENY_SET;
    return NULL;
}
static BOOL WINAPI d_GetProcessTimes(HANDLE h, LPFILETIME a, LPFILETIME b, LPFILETIME c, LPFILETIME d)
{
    (void)h, (void)a, (void)b, (void)c, (void)d;
    DENY_SET;
    return FALSE;
}
static BOOL WINAPI d_DuplicateHandle(HANDLE a, HANDLE b, HANDLE c, LPHANDLE d, DWORD e, BOOL f, DWORD g)
{
    (void)a, (void)b, (void)c, (void)d, (void)e, (void)f, (void)g;
    DENY_SET;
    return FALSE;
}
static HANDLE WINAPI d_CreateFileW(LPCWSTR n, DWORD a, DWORD s, LPSECURITY_ATTRIBUTES sa, DWORD c, DWORD f, HANDLE t)
{
    (void)n, (void)a, (void)s, (void)sa, (void)c, (void)f, (void)t;
    DENY_SET;
    return INVALID_HANDLE_VALUE;
}
static BOOL WINAPI d_GetFileInformationByHandle(HANDLE h, LPBY_HANDLE_FILE_INFORMATION i)
{
    (void)h, (void)i;
    DENY_SET;
    return FALSE;
}
static SIZE_T WINAPI d_VirtualQueryEx(HANDLE h, LPCVOID a, PMEMORY_BASIC_INFORMATION m, SIZE_T n)
{
    (void)h, (void)a, (void)m, (void)n;
    DENY_SET;
    return 0;
}
static BOOL WINAPI d_QueryFullProcessImageNameW(HANDLE h, DWORD f, LPWSTR b, PDWORD n)
{
    (void)h, (void)f, (void)b, (void)n;
    DENY_SET;
    return FALSE;
}
static BOOL WINAPI d_ProcessIdToSessionId(DWORD pid, DWORD *s)
{
    (void)pid, (void)s;
    DENY_SET;
    return FALSE;
}
static BOOL WINAPI d_ReadProcessMemory(HANDLE h, LPCVOID a, LPVOID b, SIZE_T n, SIZE_T *r)
{
    (void)h, (void)a, (void)b, (void)n, (void)r;
    DENY_SET;
    return FALSE;
}
static BOOL WINAPI d_OpenProcessToken(HANDLE h, DWORD a, PHANDLE t)
{
    (void)h, (void)a, (void)t;
    DENY_SET;
    return FALSE;
}
static BOOL WINAPI d_GetTokenInformation(HANDLE h, TOKEN_INFORMATION_CLASS c, LPVOID b, DWORD n, PDWORD r)
{
    (void)h, (void)c, (void)b, (void)n, (void)r;
    DENY_SET;
    return FALSE;
}
static BOOL WINAPI d_EnumWindows(WNDENUMPROC f, LPARAM p)
{
    (void)f, (void)p;
    DENY_SET;
    return FALSE;
}
static DWORD WINAPI d_GetWindowThreadProcessId(HWND w, LPDWORD pid)
{
    (void)w;
    if (pid)
        *pid = 0;
    DENY_SET;
    return 0;
}
static DWORD WINAPI d_GetFileVersionInfoSizeW(LPCWSTR f, LPDWORD h)
{
    (void)f, (void)h;
    DENY_SET;
    return 0;
}
static SC_HANDLE WINAPI d_OpenSCManagerW(LPCWSTR m, LPCWSTR d, DWORD a)
{
    (void)m, (void)d, (void)a;
    DENY_SET;
    return NULL;
}
static BOOL WINAPI d_EnumServicesStatusExW(SC_HANDLE s, SC_ENUM_TYPE l, DWORD t, DWORD st, LPBYTE b, DWORD n,
                                           LPDWORD need, LPDWORD count, LPDWORD resume, LPCWSTR g)
{
    (void)s, (void)l, (void)t, (void)st, (void)b, (void)n, (void)need, (void)count, (void)resume, (void)g;
    DENY_SET;
    return FALSE;
}
static LRESULT WINAPI d_SendMessageTimeoutW(HWND w, UINT m, WPARAM wp, LPARAM lp, UINT f, UINT t, PDWORD_PTR r)
{
    (void)w, (void)m, (void)wp, (void)lp, (void)f, (void)t, (void)r;
    DENY_SET;
    return 0;
}
static BOOL WINAPI d_PostMessageW(HWND w, UINT m, WPARAM wp, LPARAM lp)
{
    (void)w, (void)m, (void)wp, (void)lp;
    DENY_SET;
    return FALSE;
}
static BOOL WINAPI d_TerminateProcess(HANDLE h, UINT c)
{
    (void)h, (void)c;
    DENY_SET;
    return FALSE;
}
static LSTATUS WINAPI d_RegGetValueW(HKEY r, LPCWSTR k, LPCWSTR v, DWORD f, LPDWORD t, PVOID d, LPDWORD n)
{
    (void)r, (void)k, (void)v, (void)f, (void)t, (void)d, (void)n;
    return ERROR_ACCESS_DENIED;
}
static HANDLE WINAPI d_OpenFileMappingW(DWORD a, BOOL i, LPCWSTR n)
{
    (void)a, (void)i, (void)n;
    DENY_SET;
    return NULL;
}
static LPVOID WINAPI d_MapViewOfFile(HANDLE h, DWORD a, DWORD hi, DWORD lo, SIZE_T n)
{
    (void)h, (void)a, (void)hi, (void)lo, (void)n;
    DENY_SET;
    return NULL;
}
static BOOL WINAPI d_CreateProcessW(LPCWSTR a, LPWSTR c, LPSECURITY_ATTRIBUTES p, LPSECURITY_ATTRIBUTES t, BOOL i,
                                    DWORD f, LPVOID e, LPCWSTR d, LPSTARTUPINFOW s, LPPROCESS_INFORMATION pi)
{
    (void)a, (void)c, (void)p, (void)t, (void)i, (void)f, (void)e, (void)d, (void)s, (void)pi;
    DENY_SET;
    return FALSE;
}

/* `any` is the one function-pointer type every other converts to and back from unchanged. */
typedef void (*any)(void);

struct denial {
    const char *name;
    size_t slot;
    any fn;
    DWORD whole; /* the error the call may fail with as a whole, or 0: it must answer */
};

#define DENY(entry, whole) {#entry, offsetof(struct rm_sys_table, entry), (any)d_##entry, whole}

static const struct denial denials[] = {
    /* Without the system's handle table nobody can be found: an honest failure, not a list
     * that may miss holders. */
    DENY(NtQuerySystemInformation, ERROR_ACCESS_DENIED),
    DENY(NtQueryInformationFile, 0),
    DENY(NtQueryDirectoryFile, 0),
    DENY(NtQueryVirtualMemory, 0),
    DENY(NtQueryInformationProcess, 0),
    DENY(OpenProcess, 0),
    DENY(GetProcessTimes, 0),
    DENY(DuplicateHandle, 0),
    DENY(CreateFileW, 0),
    DENY(GetFileInformationByHandle, 0),
    DENY(VirtualQueryEx, 0),
    DENY(QueryFullProcessImageNameW, 0),
    DENY(ProcessIdToSessionId, 0),
    DENY(ReadProcessMemory, 0),
    DENY(OpenProcessToken, 0),
    DENY(GetTokenInformation, 0),
    DENY(EnumWindows, 0),
    DENY(GetWindowThreadProcessId, 0),
    DENY(GetFileVersionInfoSizeW, 0),
    DENY(OpenSCManagerW, 0),
    DENY(EnumServicesStatusExW, 0),
    DENY(SendMessageTimeoutW, 0),
    DENY(PostMessageW, 0),
    DENY(TerminateProcess, 0),
    DENY(RegGetValueW, 0),
    DENY(CreateProcessW, 0),
    DENY(OpenFileMappingW, ERROR_WRITE_FAULT),
    DENY(MapViewOfFile, ERROR_WRITE_FAULT),
};
#define NDENIALS (sizeof denials / sizeof denials[0])

/* Denies one entry (index < NDENIALS) or, with NDENIALS, all but the store's at once. */
static void deny(size_t which)
{
    for (size_t i = 0; i < NDENIALS; i++)
        if (i == which || (which == NDENIALS && denials[i].whole != ERROR_WRITE_FAULT))
            memcpy((char *)&rm_sys + denials[i].slot, &denials[i].fn, sizeof(any));
}

/* The error a call may fail with as a whole under that denial (0: none). */
static DWORD denied_whole(size_t which)
{
    return which < NDENIALS ? denials[which].whole : ERROR_ACCESS_DENIED;
}

static const char *denial_name(size_t which)
{
    return which < NDENIALS ? denials[which].name : "everything but the store";
}

static void access_denied_listing_is_partial_and_true(void **state)
{
    (void)state;
    struct scene s;
    struct listing l;
    char what[96];
    scene_up(&s, L"deny-list");
    DWORD h = scene_session(&s);
    assert_int_equal(list(h, &l), ERROR_SUCCESS); /* warm-up: per-process state exists now */
    EXPECT_FULL(&s, &l, "without faults");
    int hidden = 0;
    for (size_t d = 0; d <= NDENIALS; d++) {
        snprintf(what, sizeof what, "RmGetList, %s denied", denial_name(d));
        DWORD before = IT_HANDLE_COUNT();
        deny(d);
        DWORD rc = list(h, &l);
        table_reset();
        EXPECT_HANDLES(before, what);
        if (rc != ERROR_SUCCESS && rc == denied_whole(d))
            continue;
        if (rc != ERROR_SUCCESS)
            fail_msg("%s: returned %lu", what, rc);
        EXPECT_PARTIAL(&s, &l, what);
        hidden += l.n < 3;
        assert_int_equal(list(h, &l), ERROR_SUCCESS); /* and the session still works */
        EXPECT_FULL(&s, &l, what);
    }
    /* The faults really took effect: some hid holders (at the least, everything at once). */
    assert_true(hidden > 0);
    end_session(h);
}

/* RmShutdown under a fault, with the app the scene holds up: the answer must match the
 * outcome. Returns whether the GUI app is gone. */
static int shutdown_agrees_(const struct scene *s, DWORD rc, DWORD h, const char *what, const char *file, int line)
{
    struct listing l;
    if (rc != ERROR_SUCCESS && rc != ERROR_FAIL_SHUTDOWN && rc != ERROR_OUTOFMEMORY && rc != ERROR_WRITE_FAULT) {
        print_error("%s: returned %lu\n", what, rc);
        _fail(file, line);
    }
    if (list(h, &l) != ERROR_SUCCESS) {
        print_error("%s: the session cannot list afterwards (%lu)\n", what, l.rc);
        _fail(file, line);
    }
    int i = find(&l, &s->id[0]);
    DWORD st = i >= 0 ? (DWORD)l.e[i].AppStatus : 0;
    /* Marked stopped means gone (an exit in progress gets a moment); anything else is not
     * waited for. */
    int gone = exited(s->gui, st & (RmStatusStopped | RmStatusStoppedOther) ? 10000 : 0);
    if (!gone && (st & (RmStatusStopped | RmStatusStoppedOther))) {
        print_error("%s: the GUI app is marked stopped, but it still runs\n", what);
        _fail(file, line);
    }
    if (rc == ERROR_SUCCESS && (st & RmStatusErrorOnStop)) {
        print_error("%s: success, yet the GUI app is marked RmStatusErrorOnStop\n", what);
        _fail(file, line);
    }
    if (rc == ERROR_FAIL_SHUTDOWN) {
        int marked = 0;
        for (UINT k = 0; k < l.n; k++)
            marked += (l.e[k].AppStatus & RmStatusErrorOnStop) != 0;
        if (!marked) {
            print_error("%s: 351 without any app marked RmStatusErrorOnStop\n", what);
            _fail(file, line);
        }
    }
    return gone;
}
#define SHUTDOWN_AGREES(s, rc, h, what) shutdown_agrees_((s), (rc), (h), (what), __FILE__, __LINE__)

/* Only the GUI app is registered here, so each shutdown acts on one app. */
static DWORD gui_session(const struct scene *s)
{
    WCHAR key[CCH_RM_SESSION_KEY + 1];
    DWORD h = IT_START(key);
    LPCWSTR files[] = {s->held};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    return h;
}

static void gui_up_again(struct scene *s)
{
    if (exited(s->gui, 0)) {
        s->gui = launch_gui(s);
        s->id[0] = rm_test_unique(s->gui);
    }
}

static void access_denied_shutdown_answers_truthfully(void **state)
{
    (void)state;
    struct scene s;
    struct listing l;
    char what[96];
    int refused = 0, done = 0;
    scene_up(&s, L"deny-shut");
    table_reset();
    for (size_t d = 0; d <= NDENIALS; d++) {
        snprintf(what, sizeof what, "RmShutdown, %s denied", denial_name(d));
        gui_up_again(&s);
        DWORD before = IT_HANDLE_COUNT();
        DWORD h = gui_session(&s);
        assert_int_equal(list(h, &l), ERROR_SUCCESS);
        assert_true(find(&l, &s.id[0]) >= 0);
        deny(d);
        DWORD rc = RmShutdown(h, 0, NULL);
        table_reset();
        if (rc != ERROR_SUCCESS && rc == denied_whole(d)) {
            assert_false(exited(s.gui, 0)); /* failed as a whole: nothing was touched */
        } else {
            done += SHUTDOWN_AGREES(&s, rc, h, what);
            refused += rc == ERROR_FAIL_SHUTDOWN;
        }
        end_session(h);
        EXPECT_HANDLES(before, what);
    }
    print_message("RmShutdown under %u denials: %d apps shut down, %d refusals reported\n", (unsigned)NDENIALS + 1,
                  done, refused);
    assert_true(refused > 0 && done > 0);
}

/* ---- allocation failure, site by site ------------------------------------------------------ */

#define MAX_SITES 512

enum fail_mode { FAIL_NONE, FAIL_ONCE, FAIL_ALWAYS };

static struct {
    CRITICAL_SECTION lock;
    void *(*real)(SIZE_T);
    const void *site[MAX_SITES];
    unsigned hits[MAX_SITES];     /* allocations per site so far */
    unsigned recorded[MAX_SITES]; /* of those, in the recording run */
    unsigned nsites;
    const void *target;
    enum fail_mode mode;
    unsigned failed;
} alloc_faults;

static void *site_alloc(SIZE_T n)
{
    const void *site = __builtin_return_address(0);
    int fail = 0;
    EnterCriticalSection(&alloc_faults.lock);
    unsigned i = 0;
    while (i < alloc_faults.nsites && alloc_faults.site[i] != site)
        i++;
    if (i == alloc_faults.nsites && i < MAX_SITES) {
        alloc_faults.site[alloc_faults.nsites++] = site;
        alloc_faults.hits[i] = alloc_faults.recorded[i] = 0;
    }
    if (i < MAX_SITES)
        alloc_faults.hits[i]++;
    if (site == alloc_faults.target &&
        (alloc_faults.mode == FAIL_ALWAYS || (alloc_faults.mode == FAIL_ONCE && !alloc_faults.failed))) {
        fail = 1;
        alloc_faults.failed++;
    }
    LeaveCriticalSection(&alloc_faults.lock);
    return fail ? NULL : alloc_faults.real(n);
}

/* A new sweep: no sites known yet. */
static void sites_reset(void)
{
    alloc_faults.real = rm_sys.alloc;
    alloc_faults.nsites = 0;
}

/* Counts allocations by site until sites_disarm, failing the given one (FAIL_NONE: none, which
 * records the sites a call reaches). Only the call under test runs armed, so the sweep covers
 * that call's sites and no others. */
static void sites_arm(unsigned site, enum fail_mode mode)
{
    EnterCriticalSection(&alloc_faults.lock);
    alloc_faults.target = site < alloc_faults.nsites ? alloc_faults.site[site] : NULL;
    alloc_faults.mode = mode;
    alloc_faults.failed = 0;
    LeaveCriticalSection(&alloc_faults.lock);
    rm_sys.alloc = site_alloc;
}

/* Returns how many allocations failed. */
static unsigned sites_disarm(void)
{
    rm_sys.alloc = alloc_faults.real;
    EnterCriticalSection(&alloc_faults.lock);
    alloc_faults.mode = FAIL_NONE;
    unsigned failed = alloc_faults.failed;
    LeaveCriticalSection(&alloc_faults.lock);
    return failed;
}

/* After the recording run: how often each site allocated in it. */
static void sites_recorded(void)
{
    EnterCriticalSection(&alloc_faults.lock);
    memcpy(alloc_faults.recorded, alloc_faults.hits, sizeof alloc_faults.hits);
    LeaveCriticalSection(&alloc_faults.lock);
}

/* Failing a site "always" differs from failing it once only where a call allocates there more
 * than once; sites first seen on error paths are tried both ways. */
static int worth(unsigned site, enum fail_mode mode)
{
    return mode == FAIL_ONCE || alloc_faults.recorded[site] != 1;
}

static unsigned sites_count(void)
{
    EnterCriticalSection(&alloc_faults.lock);
    unsigned n = alloc_faults.nsites;
    LeaveCriticalSection(&alloc_faults.lock);
    return n;
}

static const char *mode_name(enum fail_mode mode)
{
    return mode == FAIL_ONCE ? "once" : "always";
}

static void allocation_failures_in_listing(void **state)
{
    (void)state;
    struct scene s;
    struct listing l;
    char what[96];
    unsigned hit = 0;
    scene_up(&s, L"oom-list");
    DWORD h = scene_session(&s);
    sites_reset();
    sites_arm(0, FAIL_NONE);
    DWORD rc = list(h, &l);
    sites_disarm();
    assert_int_equal(rc, ERROR_SUCCESS);
    EXPECT_FULL(&s, &l, "recording run");
    sites_recorded();
    unsigned recorded = sites_count();
    for (unsigned site = 0; site < sites_count(); site++)
        for (enum fail_mode mode = FAIL_ONCE; mode <= FAIL_ALWAYS; mode++) {
            if (!worth(site, mode))
                continue;
            snprintf(what, sizeof what, "RmGetList, allocation site %u (%p) failing %s", site,
                     alloc_faults.site[site], mode_name(mode));
            DWORD before = IT_HANDLE_COUNT();
            sites_arm(site, mode);
            rc = list(h, &l);
            unsigned failed = sites_disarm();
            EXPECT_HANDLES(before, what);
            hit += failed > 0;
            if (rc == ERROR_OUTOFMEMORY && failed)
                continue;
            if (rc != ERROR_SUCCESS)
                fail_msg("%s: returned %lu (%u allocations failed)", what, rc, failed);
            /* A success after a failed allocation must still be the whole truth. */
            EXPECT_FULL(&s, &l, what);
        }
    print_message("RmGetList: %u allocation sites (%u only on error paths), %u runs saw a failure\n", sites_count(),
                  sites_count() - recorded, hit);
    assert_true(hit >= recorded);
    assert_int_equal(list(h, &l), ERROR_SUCCESS);
    EXPECT_FULL(&s, &l, "after the sweep");
    end_session(h);
}

/* One RmShutdown of the GUI app with `site` failing (FAIL_NONE: the recording run). */
static void shutdown_with_failure(struct scene *s, unsigned site, enum fail_mode mode, unsigned counts[3])
{
    char what[96];
    snprintf(what, sizeof what, "RmShutdown, allocation site %u (%p) failing %s", site,
             site < sites_count() ? alloc_faults.site[site] : NULL, mode_name(mode));
    gui_up_again(s);
    DWORD before = IT_HANDLE_COUNT();
    DWORD h = gui_session(s);
    sites_arm(site, mode);
    DWORD rc = RmShutdown(h, 0, NULL);
    unsigned failed = sites_disarm();
    if (rc == ERROR_OUTOFMEMORY && !failed)
        fail_msg("%s: ERROR_OUTOFMEMORY though no allocation failed", what);
    if (mode == FAIL_NONE && rc != ERROR_SUCCESS)
        fail_msg("%s: returned %lu", what, rc);
    counts[0] += failed > 0;
    counts[1] += rc == ERROR_OUTOFMEMORY;
    counts[2] += (unsigned)SHUTDOWN_AGREES(s, rc, h, what);
    end_session(h);
    EXPECT_HANDLES(before, what);
}

static void allocation_failures_in_shutdown(void **state)
{
    (void)state;
    struct scene s;
    unsigned counts[3] = {0, 0, 0}; /* runs that saw a failure, ERROR_OUTOFMEMORY, apps shut down */
    scene_up(&s, L"oom-shut");
    sites_reset();
    shutdown_with_failure(&s, 0, FAIL_NONE, counts);
    sites_recorded();
    unsigned recorded = sites_count();
    for (unsigned site = 0; site < sites_count(); site++)
        for (enum fail_mode mode = FAIL_ONCE; mode <= FAIL_ALWAYS; mode++)
            if (worth(site, mode))
                shutdown_with_failure(&s, site, mode, counts);
    print_message("RmShutdown: %u allocation sites (%u only on error paths), %u runs saw a failure, "
                  "%u ERROR_OUTOFMEMORY, %u apps shut down\n",
                  sites_count(), sites_count() - recorded, counts[0], counts[1], counts[2]);
    assert_true(counts[0] >= recorded && counts[1] > 0 && counts[2] > 0);
}

/* The GUI app as restarted: some process other than `old` holding the file. Waits up to ms. */
static DWORD restarted_holder(const struct scene *s, DWORD old, DWORD ms)
{
    struct listing l;
    DWORD h = gui_session(s);
    DWORD pid = 0;
    for (DWORD waited = 0;; waited += 200) {
        if (list(h, &l) == ERROR_SUCCESS)
            for (UINT i = 0; i < l.n; i++)
                if (l.e[i].Process.dwProcessId != old)
                    pid = l.e[i].Process.dwProcessId;
        if (pid || waited >= ms)
            break;
        Sleep(200); /* the restarted app opens the file when it gets to it: nothing to wait on */
    }
    end_session(h);
    return pid;
}

static void kill_pid(DWORD pid)
{
    HANDLE p = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, pid);
    if (p) {
        TerminateProcess(p, 1);
        WaitForSingleObject(p, 5000);
        CloseHandle(p);
    }
}

/* Shuts the GUI app down, then one RmRestart with `site` failing (FAIL_NONE: recording). */
static void restart_with_failure(struct scene *s, unsigned site, enum fail_mode mode, unsigned counts[3])
{
    char what[96];
    snprintf(what, sizeof what, "RmRestart, allocation site %u (%p) failing %s", site,
             site < sites_count() ? alloc_faults.site[site] : NULL, mode_name(mode));
    gui_up_again(s);
    DWORD old = s->id[0].dwProcessId;
    DWORD before = IT_HANDLE_COUNT();
    DWORD h = gui_session(s);
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    assert_true(exited(s->gui, 10000));
    sites_arm(site, mode);
    DWORD rc = RmRestart(h, 0, NULL);
    unsigned failed = sites_disarm();
    if (rc != ERROR_SUCCESS && rc != ERROR_FAIL_RESTART && rc != ERROR_OUTOFMEMORY)
        fail_msg("%s: returned %lu", what, rc);
    if (rc != ERROR_SUCCESS && !failed)
        fail_msg("%s: returned %lu though no allocation failed", what, rc);
    /* Success means the app is back; otherwise it may or may not be. */
    DWORD pid = restarted_holder(s, old, rc == ERROR_SUCCESS ? 15000 : 1000);
    if (rc == ERROR_SUCCESS && !pid)
        fail_msg("%s: success, but the app did not come back", what);
    counts[0] += failed > 0;
    counts[1] += rc == ERROR_OUTOFMEMORY;
    counts[2] += pid != 0;
    if (pid)
        kill_pid(pid);
    end_session(h);
    EXPECT_HANDLES(before, what);
}

static void allocation_failures_in_restart(void **state)
{
    (void)state;
    struct scene s;
    unsigned counts[3] = {0, 0, 0}; /* runs that saw a failure, ERROR_OUTOFMEMORY, apps back */
    scene_up(&s, L"oom-restart");
    sites_reset();
    restart_with_failure(&s, 0, FAIL_NONE, counts);
    sites_recorded();
    unsigned recorded = sites_count();
    for (unsigned site = 0; site < sites_count(); site++)
        for (enum fail_mode mode = FAIL_ONCE; mode <= FAIL_ALWAYS; mode++)
            if (worth(site, mode))
                restart_with_failure(&s, site, mode, counts);
    print_message("RmRestart: %u allocation sites (%u only on error paths), %u runs saw a failure, "
                  "%u ERROR_OUTOFMEMORY, %u apps back\n",
                  sites_count(), sites_count() - recorded, counts[0], counts[1], counts[2]);
    assert_true(counts[0] >= recorded && counts[2] > 0);
}

/* RmRestart when the app cannot be started: ERROR_FAIL_RESTART and the app marked so; the
 * session keeps what it needs, and a later RmRestart brings the app back. */
static void denied_restart_fails_then_retries(void **state)
{
    (void)state;
    struct scene s;
    struct listing l;
    scene_up(&s, L"deny-restart");
    DWORD old = s.id[0].dwProcessId;
    DWORD before = IT_HANDLE_COUNT();
    DWORD h = gui_session(&s);
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    assert_true(exited(s.gui, 10000));
    rm_sys.CreateProcessW = d_CreateProcessW;
    DWORD rc = RmRestart(h, 0, NULL);
    table_reset();
    assert_int_equal(rc, ERROR_FAIL_RESTART);
    assert_int_equal(list(h, &l), ERROR_SUCCESS);
    int i = find(&l, &s.id[0]);
    assert_true(i >= 0);
    assert_true(l.e[i].AppStatus & RmStatusErrorOnRestart);
    assert_int_equal(restarted_holder(&s, old, 1000), 0);
    EXPECT_RC(ERROR_SUCCESS, RmRestart(h, 0, NULL));
    DWORD pid = restarted_holder(&s, old, 15000);
    assert_true(pid != 0);
    kill_pid(pid);
    end_session(h);
    EXPECT_HANDLES(before, "RmRestart with CreateProcessW denied, then again");
}

/* ---- what a session keeps to restart goes with it ------------------------------------------ */

static DWORD WINAPI busy_wait(HANDLE h, DWORD ms)
{
    (void)h, (void)ms;
    return WAIT_TIMEOUT;
}

/* RmEndSession that cannot reach the store (another process holds its lock) still closes the
 * tokens the session kept for restart: the caller is done with the session either way. */
static void tokens_go_when_end_session_fails(void **state)
{
    (void)state;
    WCHAR key[CCH_RM_SESSION_KEY + 1];
    DWORD h = IT_START(key);
    RM_UNIQUE_PROCESS self = it_self_process();
    DWORD before = IT_HANDLE_COUNT();
    /* The token RmShutdown keeps for an app of another identity; this process stands in. */
    rm_restart_keep_token(h, &self, RM_CURRENT_PROCESS);
    if (IT_HANDLE_COUNT() != before + 1) {
        print_error("no token was kept: the test proves nothing\n");
        fail();
    }
    rm_sys.WaitForSingleObject = busy_wait;
    DWORD rc = RmEndSession(h);
    table_reset();
    assert_int_equal(rc, ERROR_SEM_TIMEOUT);
    EXPECT_HANDLES(before, "RmEndSession that could not lock the store");
    end_session(h);
}

static int setup(void **state)
{
    (void)state;
    table_reset();
    test_start = GetTickCount64();
    return 0;
}

static int teardown(void **state)
{
    rm_sys_reset();
    print_message("(%llu ms)\n", (unsigned long long)(GetTickCount64() - test_start));
    return it_teardown(state);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        TEST(access_denied_listing_is_partial_and_true),
        TEST(access_denied_shutdown_answers_truthfully),
        TEST(allocation_failures_in_listing),
        TEST(allocation_failures_in_shutdown),
        TEST(allocation_failures_in_restart),
        TEST(denied_restart_fails_then_retries),
        TEST(tokens_go_when_end_session_fails),
    };
    InitializeCriticalSection(&alloc_faults.lock);
    /* No watcher processes: each shutdown here is followed by a restart or an end on purpose. */
    SetEnvironmentVariableW(L"RSTRTMGR_SAFEGUARD", L"0");
    it_helper_path(L"rmapp.exe", rmapp);
    it_helper_path(L"rmappw.exe", rmappw);
    return cmocka_run_group_tests_name("hardening.faults", tests, NULL, NULL);
}
