/*
 * Shutdown and restart tests: shared fixture (see sd.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sd.h"

#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "session/session.h"

/* ---- what it.c expects of rm_static, which these programs do not link ------------------------ */

/* it.c points the static store at a private prefix; the DLL keeps its own, so this is unused. */
const WCHAR *rm_store_prefix;

/* EXPECT_COUNTS reads the store through internals the DLL does not export. */
DWORD rm_session_counts(DWORD handle, uint32_t counts[3])
{
    (void)handle, (void)counts;
    return ERROR_CALL_NOT_IMPLEMENTED;
}

/* ---- set-up ------------------------------------------------------------------------------------ */

WCHAR sd_rmapp[MAX_PATH], sd_rmappw[MAX_PATH], sd_rsapp[MAX_PATH], sd_rsappw[MAX_PATH];


int sd_group_setup(void **state)
{
    (void)state;
    it_helper_path(L"rmapp.exe", sd_rmapp);
    it_helper_path(L"rmappw.exe", sd_rmappw);
    it_helper_path(L"rsapp.exe", sd_rsapp);
    it_helper_path(L"rsappw.exe", sd_rsappw);
    LSTATUS r = rm_test_set_hung_app_timeout(SD_APP_TIMEOUT_MS);
    if (r != ERROR_SUCCESS) {
        fprintf(stderr, "setting HungAppTimeout failed: %ld\n", r);
        return -1;
    }
    return 0;
}

int sd_group_teardown(void **state)
{
    (void)state;
    rm_test_restore_hung_app_timeout();
    return 0;
}

/* ---- small pieces -------------------------------------------------------------------------------- */

void sd_path(WCHAR out[MAX_PATH], const WCHAR *dir, const WCHAR *leaf)
{
    rm_test_path(out, dir, leaf);
}

static HANDLE own_file = INVALID_HANDLE_VALUE;

void sd_hold_self(const WCHAR *path)
{
    own_file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    assert_true(own_file != INVALID_HANDLE_VALUE);
}

BOOL sd_running(HANDLE process)
{
    return WaitForSingleObject(process, 0) == WAIT_TIMEOUT;
}

DWORD sd_wait_exit_(HANDLE process, DWORD timeout_ms, const char *file, int line)
{
    DWORD code = 0;
    if (WaitForSingleObject(process, timeout_ms) != WAIT_OBJECT_0) {
        print_error("process %lu still runs after %lu ms\n", GetProcessId(process), timeout_ms);
        _fail(file, line);
    }
    GetExitCodeProcess(process, &code);
    return code;
}

/* ---- processes started here and by the DLL ------------------------------------------------------- */

/* Apart from it.c's children: these go before the services are stopped. */
static struct rm_test_procs launched;
static WCHAR watched[16][MAX_PATH];
static int nwatched;

HANDLE sd_launch_(const WCHAR *exe, const WCHAR *cwd, DWORD flags, HANDLE *ready, const char *file, int line,
                  const WCHAR *fmt, ...)
{
    static unsigned count;
    WCHAR leaf[32], name[256];
    va_list ap;

    _snwprintf(leaf, 32, L"sd%u", ++count);
    leaf[31] = 0;
    HANDLE ev = it_event(leaf);
    it_event_name(leaf, name);
    va_start(ap, fmt);
    HANDLE p = rm_test_vlaunch_(&launched, exe, cwd, flags, FALSE, ev, name, file, line, fmt, ap);
    va_end(ap);
    if (ready)
        *ready = ev;
    else
        CloseHandle(ev);
    return p;
}

void sd_watch_log(const WCHAR *log)
{
    if (nwatched < 16)
        wcscpy(watched[nwatched++], log);
}

/* Kills pid if it still runs an rsapp image (rsapp.exe or rsappw.exe, wherever it lies): a
 * PID from a log may have been reused by then, by anything. */
static BOOL kill_if_rsapp(DWORD pid)
{
    HANDLE p = OpenProcess(PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, pid);
    BOOL killed = FALSE;
    if (!p)
        return FALSE;
    WCHAR image[MAX_PATH];
    DWORD n = MAX_PATH;
    if (sd_running(p) && QueryFullProcessImageNameW(p, 0, image, &n)) {
        const WCHAR *base = wcsrchr(image, L'\\');
        base = base ? base + 1 : image;
        if (!_wcsicmp(base, L"rsapp.exe") || !_wcsicmp(base, L"rsappw.exe")) {
            TerminateProcess(p, 0xdead);
            WaitForSingleObject(p, 10000);
            killed = TRUE;
        }
    }
    CloseHandle(p);
    return killed;
}

static int sweep_once(void)
{
    int killed = 0;
    char line[512], pid[32];
    for (int w = 0; w < nwatched; w++)
        for (int i = 0; sd_log_line(watched[w], "START ", i, line, sizeof line); i++)
            if (sd_field(line, "pid", pid, sizeof pid))
                killed += kill_if_rsapp((DWORD)strtoul(pid, NULL, 10));
    return killed;
}

void sd_sweep(DWORD settle_ms)
{
    ULONGLONG end = GetTickCount64() + settle_ms;
    do {
        sweep_once();
        if (GetTickCount64() < end)
            Sleep(100);
    } while (GetTickCount64() < end);
    sweep_once();
}

void sd_kill_installer(HANDLE *installer)
{
    if (!*installer)
        return;
    TerminateProcess(*installer, 0xdead);
    WaitForSingleObject(*installer, 10000);
    *installer = NULL;
    sd_sweep(2000);
}

/* ---- logs ------------------------------------------------------------------------------------------- */

/* The whole log, NUL-terminated (malloc'd), or NULL. */
static char *read_log(const WCHAR *log)
{
    HANDLE f = CreateFileW(log, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return NULL;
    DWORD size = GetFileSize(f, NULL), got = 0;
    char *text = size == INVALID_FILE_SIZE ? NULL : malloc((size_t)size + 1);
    if (text && !ReadFile(f, text, size, &got, NULL))
        got = 0;
    CloseHandle(f);
    if (text)
        text[got] = 0;
    return text;
}

/* Visits the lines starting with prefix; stops when fn returns nonzero. */
static int each_line(const WCHAR *log, const char *prefix, int (*fn)(const char *line, size_t len, void *ctx),
                     void *ctx)
{
    char *text = read_log(log);
    int n = 0;
    size_t plen = strlen(prefix);
    for (char *p = text; p && *p;) {
        char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len && p[len - 1] == '\r')
            len--;
        if (len >= plen && !memcmp(p, prefix, plen)) {
            n++;
            if (fn && fn(p, len, ctx))
                break;
        }
        p = end ? end + 1 : p + len;
    }
    free(text);
    return n;
}

int sd_log_count(const WCHAR *log, const char *prefix)
{
    return each_line(log, prefix, NULL, NULL);
}

struct nth {
    int index;
    char *out;
    size_t cap;
    BOOL found;
};

static int take_nth(const char *line, size_t len, void *ctx)
{
    struct nth *n = ctx;
    if (n->index-- > 0)
        return 0;
    if (len >= n->cap)
        len = n->cap - 1;
    memcpy(n->out, line, len);
    n->out[len] = 0;
    n->found = TRUE;
    return 1;
}

BOOL sd_log_line(const WCHAR *log, const char *prefix, int index, char *out, size_t cap)
{
    struct nth n = {index, out, cap, FALSE};
    each_line(log, prefix, take_nth, &n);
    return n.found;
}

BOOL sd_log_wait(const WCHAR *log, const char *prefix, int count, DWORD timeout_ms)
{
    ULONGLONG end = GetTickCount64() + timeout_ms;
    /* The helpers tell nothing but their log about messages received: poll it. */
    while (sd_log_count(log, prefix) < count) {
        if (GetTickCount64() >= end)
            return FALSE;
        Sleep(20);
    }
    return TRUE;
}

BOOL sd_field(const char *line, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (const char *p = line; (p = strstr(p, key)) != NULL; p++) {
        if ((p != line && p[-1] != ' ') || p[klen] != '=')
            continue;
        p += klen + 1;
        size_t len = strcmp(key, "cmd") ? strcspn(p, " ") : strlen(p);
        if (len >= cap)
            len = cap - 1;
        memcpy(out, p, len);
        out[len] = 0;
        return TRUE;
    }
    return FALSE;
}

/* ---- sessions and lists ------------------------------------------------------------------------- */

DWORD sd_session_(const char *file, int line, UINT nfiles, ...)
{
    WCHAR key[CCH_RM_SESSION_KEY + 1];
    LPCWSTR files[8];
    va_list ap;
    assert_true(nfiles <= 8);
    va_start(ap, nfiles);
    for (UINT i = 0; i < nfiles; i++)
        files[i] = va_arg(ap, LPCWSTR);
    va_end(ap);
    DWORD h = it_start_(key, file, line);
    it_expect_rc_(ERROR_SUCCESS, IT_CALL(RmRegisterResources(h, nfiles, files, 0, NULL, 0, NULL)),
                  "RmRegisterResources", file, line);
    return h;
}

void sd_list_(DWORD h, struct sd_list *l, const char *file, int line)
{
    UINT needed = 0;
    l->n = 32;
    l->reasons = 0xdeadbeefu;
    it_expect_rc_(ERROR_SUCCESS, IT_CALL(RmGetList(h, &needed, &l->n, l->e, &l->reasons)), "RmGetList", file, line);
}

static int same_process(const RM_UNIQUE_PROCESS *a, const RM_UNIQUE_PROCESS *b)
{
    return a->dwProcessId == b->dwProcessId &&
           a->ProcessStartTime.dwLowDateTime == b->ProcessStartTime.dwLowDateTime &&
           a->ProcessStartTime.dwHighDateTime == b->ProcessStartTime.dwHighDateTime;
}

const RM_PROCESS_INFO *sd_find(const struct sd_list *l, const RM_UNIQUE_PROCESS *p)
{
    for (UINT i = 0; i < l->n; i++)
        if (same_process(&l->e[i].Process, p))
            return &l->e[i];
    return NULL;
}

ULONG sd_status_(DWORD h, const RM_UNIQUE_PROCESS *p, const char *file, int line)
{
    struct sd_list l;
    sd_list_(h, &l, file, line);
    const RM_PROCESS_INFO *e = sd_find(&l, p);
    if (!e) {
        print_error("process %lu is not in the list (%u entries)\n", p->dwProcessId, l.n);
        for (UINT i = 0; i < l.n; i++)
            print_error("  pid %lu type %d status 0x%lx\n", l.e[i].Process.dwProcessId, l.e[i].ApplicationType,
                        l.e[i].AppStatus);
        _fail(file, line);
    }
    return e->AppStatus;
}

/* ---- services ----------------------------------------------------------------------------------- */

static SC_HANDLE scm;
static SC_HANDLE services[8];
static int nservices;

SC_HANDLE sd_service_create(const WCHAR *name, const WCHAR *cmdline, const WCHAR *depends)
{
    WCHAR deps[80] = {0};
    if (depends) {
        assert_true(wcslen(depends) < 78);
        wcscpy(deps, depends); /* a list: NUL-separated, ended by an empty name */
    }
    if (!scm)
        scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    assert_non_null(scm);
    /* A run that died before its teardown may have left it: start afresh. */
    SC_HANDLE old = OpenServiceW(scm, name, SERVICE_ALL_ACCESS);
    if (old) {
        SERVICE_STATUS st;
        ControlService(old, SERVICE_CONTROL_STOP, &st);
        DeleteService(old);
        CloseServiceHandle(old);
    }
    SC_HANDLE s = CreateServiceW(scm, name, name, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START,
                                 SERVICE_ERROR_IGNORE, cmdline, NULL, NULL, depends ? deps : NULL, NULL, NULL);
    if (!s)
        print_error("CreateServiceW(%ls) failed: %lu\n", name, GetLastError());
    assert_non_null(s);
    if (nservices < 8)
        services[nservices++] = s;
    return s;
}

DWORD sd_service_state(SC_HANDLE s, DWORD *pid)
{
    SERVICE_STATUS_PROCESS st;
    DWORD need;
    if (!QueryServiceStatusEx(s, SC_STATUS_PROCESS_INFO, (LPBYTE)&st, sizeof st, &need))
        return 0;
    if (pid)
        *pid = st.dwProcessId;
    return st.dwCurrentState;
}

BOOL sd_service_wait(SC_HANDLE s, DWORD state, DWORD timeout_ms)
{
    ULONGLONG end = GetTickCount64() + timeout_ms;
    while (sd_service_state(s, NULL) != state) {
        if (GetTickCount64() >= end)
            return FALSE;
        Sleep(20);
    }
    return TRUE;
}

static void stop_and_delete(SC_HANDLE s)
{
    DWORD pid = 0;
    SERVICE_STATUS st;
    if (sd_service_state(s, &pid) != SERVICE_STOPPED) {
        ControlService(s, SERVICE_CONTROL_STOP, &st);
        if (!sd_service_wait(s, SERVICE_STOPPED, 5000) && sd_service_state(s, &pid) != SERVICE_STOPPED && pid) {
            /* It would not stop: end its process, so nothing is held into the next test. */
            rm_test_kill_pid(pid);
        }
    }
    DeleteService(s);
    CloseServiceHandle(s);
}

/* ---- teardown ------------------------------------------------------------------------------------ */

int sd_teardown(void **state)
{
    sd_sweep(0);
    nwatched = 0;
    rm_test_procs_kill(&launched);
    /* Created last, depending on what came before: stopped first. */
    while (nservices > 0)
        stop_and_delete(services[--nservices]);
    if (scm)
        CloseServiceHandle(scm);
    scm = NULL;
    if (own_file != INVALID_HANDLE_VALUE)
        CloseHandle(own_file);
    own_file = INVALID_HANDLE_VALUE;
    SetEnvironmentVariableW(SD_FALLBACK_ENV, NULL);
    SetEnvironmentVariableW(SD_SAFEGUARD_ENV, NULL);
    return it_teardown(state);
}
