/*
 * Classification (src/classify) and service detection (src/detect/services.c) against a fake
 * system served through the OS table: processes with chosen start times, sessions, users,
 * rights, restart registrations, command lines and images; top-level windows; services with
 * dependents; version resources.
 *
 * Every fake handle is counted, and each test checks that none is left open.
 */
#include <windows.h>

#include "unit.h"

#include "handles.h"

#include <restartmanager.h>
#include <stddef.h>
#include <stdio.h>
#include <wchar.h>
#include <winternl.h>

#include "classify/classify.h"
#include "detect/detect.h"
#include "sys/sys.h"

/* ---- the fake system ------------------------------------------------------------------------ */

#define SELF_PID 1000u
#define SELF_SESSION 1u
#define FAKE_PEB ((ULONG_PTR)0x10000)
#define FAKE_BASE ((ULONG_PTR)0x400000)
#define IMAGE_BYTES 0x200u

/* Handles carry a tag in their top bits so fakes can tell them from real ones. */
#define TAG_PROCESS 0x70000000u
#define TAG_TOKEN 0x71000000u
#define TAG_SCM 0x72000000u
#define TAG_SERVICE 0x73000000u
#define TAG_MASK 0xff000000u

struct fake_proc {
    DWORD pid;
    FILETIME start;
    const WCHAR *image; /* NULL: the image name cannot be queried */
    DWORD session;
    BOOL exited, deny_open, deny_vm_read, deny_terminate, other_user;
    HRESULT restart_hr;
    DWORD restart_flags;
    const WCHAR *cmdline; /* NULL: unreadable */
    WORD subsystem;       /* served from fake memory; 0: the PEB cannot be read */
    BOOL garbage_image;   /* the memory at the image base is not a PE */
    const WCHAR *description;
    DWORD translation;    /* lang << 16 | codepage; 0: no Translation value */
    const WCHAR *desc_key; /* the StringFileInfo block holding the description */
};

struct fake_win {
    DWORD pid;
    BOOL visible;
    HWND owner;
    const WCHAR *title;
};

struct fake_svc {
    const WCHAR *name, *display;
    DWORD pid;
    DWORD state;
    BOOL deny_stop;
    int deps[4]; /* indices + 1 of direct dependents; 0 ends */
};

static struct {
    struct fake_proc procs[16];
    int nprocs;
    struct fake_win wins[16];
    int nwins;
    struct fake_svc svcs[16];
    int nsvcs;
    BOOL scm_denied;
    BOOL deps_all_levels; /* answer EnumDependentServices like Windows (every level) */
    LONG open_handles;
} world;

static struct rm_holder items[16];
static struct rm_holders holders = {items, 0, 16};
static RM_PROCESS_INFO got[16];
static uint32_t ngot;
static DWORD why;

static HANDLE tagged(DWORD tag, DWORD value)
{
    InterlockedIncrement(&world.open_handles);
    return (HANDLE)(ULONG_PTR)(tag | value);
}

static int tag_of(const void *h, DWORD tag)
{
    return ((DWORD)(ULONG_PTR)h & TAG_MASK) == tag;
}

static struct fake_proc *find_proc(DWORD pid)
{
    for (int i = 0; i < world.nprocs; i++)
        if (world.procs[i].pid == pid)
            return &world.procs[i];
    return NULL;
}

static struct fake_proc *proc_of(HANDLE h)
{
    if (!tag_of(h, TAG_PROCESS) && !tag_of(h, TAG_TOKEN))
        return NULL;
    return find_proc((DWORD)(ULONG_PTR)h & ~TAG_MASK);
}

static struct fake_svc *find_svc(const WCHAR *name)
{
    for (int i = 0; i < world.nsvcs; i++)
        if (!_wcsicmp(world.svcs[i].name, name))
            return &world.svcs[i];
    return NULL;
}

static struct fake_svc *svc_of(SC_HANDLE h)
{
    return tag_of(h, TAG_SERVICE) ? &world.svcs[(DWORD)(ULONG_PTR)h & ~TAG_MASK] : NULL;
}

/* processes */

static DWORD WINAPI fake_GetCurrentProcessId(void)
{
    return SELF_PID;
}

static HANDLE WINAPI fake_OpenProcess(DWORD access, BOOL inherit, DWORD pid)
{
    (void)inherit;
    struct fake_proc *p = find_proc(pid);
    if (!p) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    if (p->deny_open || ((access & PROCESS_TERMINATE) && p->deny_terminate) ||
        ((access & PROCESS_VM_READ) && p->deny_vm_read)) {
        SetLastError(ERROR_ACCESS_DENIED);
        return NULL;
    }
    return tagged(TAG_PROCESS, pid);
}

static BOOL WINAPI fake_CloseHandle(HANDLE h)
{
    if (tag_of(h, TAG_PROCESS) || tag_of(h, TAG_TOKEN)) {
        InterlockedDecrement(&world.open_handles);
        return TRUE;
    }
    return CloseHandle(h);
}

static BOOL WINAPI fake_GetProcessTimes(HANDLE h, LPFILETIME c, LPFILETIME e, LPFILETIME k, LPFILETIME u)
{
    struct fake_proc *p = proc_of(h);
    if (!p)
        return GetProcessTimes(h, c, e, k, u);
    *c = p->start;
    memset(e, 0, sizeof *e);
    memset(k, 0, sizeof *k);
    memset(u, 0, sizeof *u);
    return TRUE;
}

static DWORD WINAPI fake_WaitForSingleObject(HANDLE h, DWORD ms)
{
    struct fake_proc *p = proc_of(h);
    if (!p)
        return WaitForSingleObject(h, ms);
    return p->exited ? WAIT_OBJECT_0 : WAIT_TIMEOUT;
}

static BOOL WINAPI fake_IsWow64Process(HANDLE h, PBOOL wow64)
{
    (void)h;
    *wow64 = FALSE;
    return TRUE;
}

static UINT WINAPI fake_GetSystemWindowsDirectoryW(LPWSTR buf, UINT n)
{
    static const WCHAR dir[] = L"C:\\Windows";
    if (n < sizeof dir / sizeof *dir)
        return sizeof dir / sizeof *dir;
    memcpy(buf, dir, sizeof dir);
    return sizeof dir / sizeof *dir - 1;
}

static BOOL WINAPI fake_QueryFullProcessImageNameW(HANDLE h, DWORD flags, LPWSTR buf, PDWORD size)
{
    (void)flags;
    struct fake_proc *p = proc_of(h);
    if (!p || !p->image || wcslen(p->image) >= *size) {
        SetLastError(ERROR_ACCESS_DENIED);
        return FALSE;
    }
    wcscpy(buf, p->image);
    *size = (DWORD)wcslen(p->image);
    return TRUE;
}

static BOOL WINAPI fake_ProcessIdToSessionId(DWORD pid, DWORD *session)
{
    struct fake_proc *p = find_proc(pid);
    if (pid == SELF_PID && !p) {
        *session = SELF_SESSION;
        return TRUE;
    }
    if (!p)
        return FALSE;
    *session = p->session;
    return TRUE;
}

static HRESULT WINAPI fake_GetApplicationRestartSettings(HANDLE h, PWSTR cmd, PDWORD size, PDWORD flags)
{
    (void)cmd;
    struct fake_proc *p = proc_of(h);
    if (!p)
        return E_INVALIDARG;
    *size = 8;
    *flags = p->restart_flags;
    return p->restart_hr;
}

static NTSTATUS NTAPI fake_NtQueryInformationProcess(HANDLE h, PROCESSINFOCLASS cls, PVOID buf, ULONG len,
                                                     PULONG ret)
{
    struct fake_proc *p = proc_of(h);
    if (!p)
        return (NTSTATUS)0xC0000008L; /* STATUS_INVALID_HANDLE */
    if ((int)cls == 60) {
        if (!p->cmdline)
            return (NTSTATUS)0xC0000003L; /* STATUS_INVALID_INFO_CLASS */
        UNICODE_STRING *u = buf;
        size_t n = wcslen(p->cmdline) * sizeof(WCHAR);
        assert_true(len >= sizeof *u + n);
        u->Buffer = (PWSTR)(u + 1);
        u->Length = u->MaximumLength = (USHORT)n;
        memcpy(u->Buffer, p->cmdline, n);
        if (ret)
            *ret = (ULONG)(sizeof *u + n);
        return 0;
    }
    if (cls == ProcessBasicInformation && p->subsystem) {
        PROCESS_BASIC_INFORMATION *pbi = buf;
        assert_true(len >= sizeof *pbi);
        memset(pbi, 0, sizeof *pbi);
        pbi->PebBaseAddress = (PPEB)FAKE_PEB;
        return 0;
    }
    return (NTSTATUS)0xC0000022L; /* STATUS_ACCESS_DENIED */
}

static void build_image(BYTE *img, const struct fake_proc *p)
{
    memset(img, 0, IMAGE_BYTES);
    if (p->garbage_image)
        return;
    IMAGE_DOS_HEADER dos = {0};
    dos.e_magic = IMAGE_DOS_SIGNATURE;
    dos.e_lfanew = 0x80;
    memcpy(img, &dos, sizeof dos);
    DWORD sig = IMAGE_NT_SIGNATURE;
    memcpy(img + 0x80, &sig, sizeof sig);
    BYTE *opt = img + 0x80 + sizeof sig + sizeof(IMAGE_FILE_HEADER);
    WORD magic = sizeof(void *) == 8 ? IMAGE_NT_OPTIONAL_HDR64_MAGIC : IMAGE_NT_OPTIONAL_HDR32_MAGIC;
    memcpy(opt, &magic, sizeof magic);
    memcpy(opt + offsetof(IMAGE_OPTIONAL_HEADER64, Subsystem), &p->subsystem, sizeof p->subsystem);
}

static BOOL serve(ULONG_PTR at, SIZE_T n, ULONG_PTR base, const void *src, size_t size, void *dst)
{
    if (at < base || at - base > size || n > size - (at - base))
        return FALSE;
    memcpy(dst, (const BYTE *)src + (at - base), n);
    return TRUE;
}

static BOOL WINAPI fake_ReadProcessMemory(HANDLE h, LPCVOID addr, LPVOID buf, SIZE_T n, SIZE_T *got_bytes)
{
    struct fake_proc *p = proc_of(h);
    PEB peb;
    BYTE img[IMAGE_BYTES];
    if (got_bytes)
        *got_bytes = 0;
    if (!p || !p->subsystem) {
        SetLastError(ERROR_ACCESS_DENIED);
        return FALSE;
    }
    memset(&peb, 0, sizeof peb);
    peb.Reserved3[1] = (PVOID)FAKE_BASE; /* ImageBaseAddress; no ProcessParameters */
    build_image(img, p);
    if (!serve((ULONG_PTR)addr, n, FAKE_PEB, &peb, sizeof peb, buf) &&
        !serve((ULONG_PTR)addr, n, FAKE_BASE, img, sizeof img, buf)) {
        SetLastError(ERROR_PARTIAL_COPY);
        return FALSE;
    }
    if (got_bytes)
        *got_bytes = n;
    return TRUE;
}

/* tokens: the caller's own user, or LocalSystem for "another user" */

static BOOL WINAPI fake_OpenProcessToken(HANDLE h, DWORD access, PHANDLE token)
{
    struct fake_proc *p = proc_of(h);
    if (!p)
        return OpenProcessToken(h, access, token);
    *token = tagged(TAG_TOKEN, p->pid);
    return TRUE;
}

static BOOL WINAPI fake_GetTokenInformation(HANDLE token, TOKEN_INFORMATION_CLASS cls, LPVOID buf, DWORD len,
                                            PDWORD ret)
{
    struct fake_proc *p = proc_of(token);
    if (!p)
        return GetTokenInformation(token, cls, buf, len, ret);
    assert_int_equal(cls, TokenUser);
    if (!p->other_user) {
        HANDLE mine;
        assert_true(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mine));
        BOOL ok = GetTokenInformation(mine, cls, buf, len, ret);
        CloseHandle(mine);
        return ok;
    }
    static const SID_IDENTIFIER_AUTHORITY nt = SECURITY_NT_AUTHORITY;
    TOKEN_USER *tu = buf;
    SID *sid = (SID *)(tu + 1);
    assert_true(len >= sizeof *tu + sizeof *sid);
    sid->Revision = SID_REVISION;
    sid->SubAuthorityCount = 1;
    sid->IdentifierAuthority = nt;
    sid->SubAuthority[0] = SECURITY_LOCAL_SYSTEM_RID;
    tu->User.Sid = sid;
    tu->User.Attributes = 0;
    return TRUE;
}

/* windows */

static BOOL WINAPI fake_EnumWindows(WNDENUMPROC cb, LPARAM lp)
{
    for (int i = 0; i < world.nwins; i++)
        if (!cb((HWND)(ULONG_PTR)(0x100 + i), lp))
            break;
    return TRUE;
}

static struct fake_win *win_of(HWND w)
{
    ULONG_PTR i = (ULONG_PTR)w - 0x100;
    return i < (ULONG_PTR)world.nwins ? &world.wins[i] : NULL;
}

static DWORD WINAPI fake_GetWindowThreadProcessId(HWND w, LPDWORD pid)
{
    struct fake_win *f = win_of(w);
    if (!f)
        return 0;
    *pid = f->pid;
    return 1;
}

static BOOL WINAPI fake_IsWindowVisible(HWND w)
{
    struct fake_win *f = win_of(w);
    return f && f->visible;
}

static HWND WINAPI fake_GetWindow(HWND w, UINT cmd)
{
    struct fake_win *f = win_of(w);
    return f && cmd == GW_OWNER ? f->owner : NULL;
}

static int WINAPI fake_GetWindowTextW(HWND w, LPWSTR buf, int n)
{
    struct fake_win *f = win_of(w);
    if (!f || !f->title || n <= 0)
        return 0;
    int len = (int)wcslen(f->title);
    if (len > n - 1)
        len = n - 1;
    memcpy(buf, f->title, (size_t)len * sizeof(WCHAR));
    buf[len] = 0;
    return len;
}

/* version resources: the block just remembers which process's image it describes */

static struct fake_proc *proc_by_image(LPCWSTR path)
{
    for (int i = 0; i < world.nprocs; i++)
        if (world.procs[i].image && !wcscmp(world.procs[i].image, path) && world.procs[i].description)
            return &world.procs[i];
    return NULL;
}

static DWORD WINAPI fake_GetFileVersionInfoSizeW(LPCWSTR path, LPDWORD handle)
{
    *handle = 0;
    if (!proc_by_image(path)) {
        SetLastError(ERROR_RESOURCE_TYPE_NOT_FOUND);
        return 0;
    }
    return 64;
}

static BOOL WINAPI fake_GetFileVersionInfoW(LPCWSTR path, DWORD handle, DWORD len, LPVOID block)
{
    (void)handle;
    struct fake_proc *p = proc_by_image(path);
    assert_true(len >= sizeof p);
    memcpy(block, &p, sizeof p);
    return p != NULL;
}

static BOOL WINAPI fake_VerQueryValueW(LPCVOID block, LPCWSTR sub, LPVOID *value, PUINT len)
{
    static WORD pair[2];
    WCHAR key[64];
    struct fake_proc *p;
    memcpy(&p, block, sizeof p);
    if (!wcscmp(sub, L"\\VarFileInfo\\Translation")) {
        if (!p->translation)
            return FALSE;
        pair[0] = HIWORD(p->translation);
        pair[1] = LOWORD(p->translation);
        *value = pair;
        *len = sizeof pair;
        return TRUE;
    }
    _snwprintf(key, 64, L"\\StringFileInfo\\%ls\\FileDescription", p->desc_key ? p->desc_key : L"040904b0");
    if (_wcsicmp(sub, key))
        return FALSE;
    *value = (LPVOID)p->description;
    *len = (UINT)wcslen(p->description) + 1;
    return TRUE;
}

/* services */

static SC_HANDLE WINAPI fake_OpenSCManagerW(LPCWSTR machine, LPCWSTR db, DWORD access)
{
    (void)machine, (void)db, (void)access;
    if (world.scm_denied) {
        SetLastError(ERROR_ACCESS_DENIED);
        return NULL;
    }
    return (SC_HANDLE)tagged(TAG_SCM, 0);
}

static SC_HANDLE WINAPI fake_OpenServiceW(SC_HANDLE scm, LPCWSTR name, DWORD access)
{
    assert_true(tag_of(scm, TAG_SCM));
    struct fake_svc *s = find_svc(name);
    if (!s) {
        SetLastError(ERROR_SERVICE_DOES_NOT_EXIST);
        return NULL;
    }
    if ((access & SERVICE_STOP) && s->deny_stop) {
        SetLastError(ERROR_ACCESS_DENIED);
        return NULL;
    }
    return (SC_HANDLE)tagged(TAG_SERVICE, (DWORD)(s - world.svcs));
}

static BOOL WINAPI fake_CloseServiceHandle(SC_HANDLE h)
{
    assert_true(tag_of(h, TAG_SCM) || tag_of(h, TAG_SERVICE));
    InterlockedDecrement(&world.open_handles);
    return TRUE;
}

static BOOL WINAPI fake_GetServiceDisplayNameW(SC_HANDLE scm, LPCWSTR name, LPWSTR buf, LPDWORD n)
{
    (void)scm;
    struct fake_svc *s = find_svc(name);
    if (!s || wcslen(s->display) >= *n)
        return FALSE;
    wcscpy(buf, s->display);
    *n = (DWORD)wcslen(s->display);
    return TRUE;
}

static WCHAR *put_string(BYTE **strings, const WCHAR *s)
{
    WCHAR *at = (WCHAR *)*strings;
    size_t n = (wcslen(s) + 1) * sizeof(WCHAR);
    memcpy(at, s, n);
    *strings += n;
    return at;
}

static BOOL WINAPI fake_EnumServicesStatusExW(SC_HANDLE scm, SC_ENUM_TYPE level, DWORD type, DWORD state, LPBYTE buf,
                                              DWORD size, LPDWORD need, LPDWORD count, LPDWORD resume, LPCWSTR group)
{
    (void)type, (void)state, (void)group;
    assert_true(tag_of(scm, TAG_SCM));
    assert_int_equal(level, SC_ENUM_PROCESS_INFO);
    DWORD bytes = 0, n = 0;
    for (int i = 0; i < world.nsvcs; i++)
        if (world.svcs[i].state != SERVICE_STOPPED) {
            n++;
            bytes += sizeof(ENUM_SERVICE_STATUS_PROCESSW) +
                     (DWORD)(wcslen(world.svcs[i].name) + wcslen(world.svcs[i].display) + 2) * sizeof(WCHAR);
        }
    *need = bytes;
    *count = 0;
    if (size < bytes) {
        SetLastError(ERROR_MORE_DATA);
        return FALSE;
    }
    ENUM_SERVICE_STATUS_PROCESSW *e = (ENUM_SERVICE_STATUS_PROCESSW *)buf;
    BYTE *strings = buf + n * sizeof *e;
    for (int i = 0; i < world.nsvcs; i++) {
        if (world.svcs[i].state == SERVICE_STOPPED)
            continue;
        memset(e, 0, sizeof *e);
        e->lpServiceName = put_string(&strings, world.svcs[i].name);
        e->lpDisplayName = put_string(&strings, world.svcs[i].display);
        e->ServiceStatusProcess.dwCurrentState = world.svcs[i].state;
        e->ServiceStatusProcess.dwProcessId = world.svcs[i].pid;
        e++;
    }
    *count = n;
    if (resume)
        *resume = 0;
    return TRUE;
}

static BOOL WINAPI fake_QueryServiceStatusEx(SC_HANDLE h, SC_STATUS_TYPE level, LPBYTE buf, DWORD size, LPDWORD need)
{
    struct fake_svc *s = svc_of(h);
    assert_non_null(s);
    assert_int_equal(level, SC_STATUS_PROCESS_INFO);
    *need = sizeof(SERVICE_STATUS_PROCESS);
    assert_true(size >= *need);
    SERVICE_STATUS_PROCESS *st = (SERVICE_STATUS_PROCESS *)buf;
    memset(st, 0, sizeof *st);
    st->dwCurrentState = s->state;
    st->dwProcessId = s->state == SERVICE_STOPPED ? 0 : s->pid;
    return TRUE;
}

/* Direct dependents only, or (like Windows) every level, depth first. */
static int collect_deps(const struct fake_svc *s, const struct fake_svc **out, int n)
{
    for (int k = 0; k < 4 && s->deps[k]; k++) {
        const struct fake_svc *d = &world.svcs[s->deps[k] - 1];
        if (d->state == SERVICE_STOPPED)
            continue;
        out[n++] = d;
        if (world.deps_all_levels)
            n = collect_deps(d, out, n);
    }
    return n;
}

static BOOL WINAPI fake_EnumDependentServicesW(SC_HANDLE h, DWORD state, LPENUM_SERVICE_STATUSW buf, DWORD size,
                                               LPDWORD need, LPDWORD count)
{
    const struct fake_svc *list[32];
    struct fake_svc *s = svc_of(h);
    assert_non_null(s);
    assert_int_equal(state, SERVICE_ACTIVE);
    int n = collect_deps(s, list, 0);
    DWORD bytes = 0;
    for (int i = 0; i < n; i++)
        bytes += sizeof *buf + (DWORD)(wcslen(list[i]->name) + wcslen(list[i]->display) + 2) * sizeof(WCHAR);
    *need = bytes;
    *count = 0;
    if (size < bytes) {
        SetLastError(ERROR_MORE_DATA);
        return FALSE;
    }
    BYTE *strings = (BYTE *)(buf + n);
    for (int i = 0; i < n; i++) {
        memset(&buf[i], 0, sizeof buf[i]);
        buf[i].lpServiceName = put_string(&strings, list[i]->name);
        buf[i].lpDisplayName = put_string(&strings, list[i]->display);
        buf[i].ServiceStatus.dwCurrentState = list[i]->state;
    }
    *count = (DWORD)n;
    return TRUE;
}

static void install_fakes(void)
{
    rm_sys.GetCurrentProcessId = fake_GetCurrentProcessId;
    rm_sys.OpenProcess = fake_OpenProcess;
    rm_sys.CloseHandle = fake_CloseHandle;
    rm_sys.GetProcessTimes = fake_GetProcessTimes;
    rm_sys.WaitForSingleObject = fake_WaitForSingleObject;
    rm_sys.IsWow64Process = fake_IsWow64Process;
    rm_sys.GetSystemWindowsDirectoryW = fake_GetSystemWindowsDirectoryW;
    rm_sys.QueryFullProcessImageNameW = fake_QueryFullProcessImageNameW;
    rm_sys.ProcessIdToSessionId = fake_ProcessIdToSessionId;
    rm_sys.GetApplicationRestartSettings = fake_GetApplicationRestartSettings;
    rm_sys.NtQueryInformationProcess = fake_NtQueryInformationProcess;
    rm_sys.ReadProcessMemory = fake_ReadProcessMemory;
    rm_sys.OpenProcessToken = fake_OpenProcessToken;
    rm_sys.GetTokenInformation = fake_GetTokenInformation;
    rm_sys.EnumWindows = fake_EnumWindows;
    rm_sys.GetWindowThreadProcessId = fake_GetWindowThreadProcessId;
    rm_sys.IsWindowVisible = fake_IsWindowVisible;
    rm_sys.GetWindow = fake_GetWindow;
    rm_sys.GetWindowTextW = fake_GetWindowTextW;
    rm_sys.GetFileVersionInfoSizeW = fake_GetFileVersionInfoSizeW;
    rm_sys.GetFileVersionInfoW = fake_GetFileVersionInfoW;
    rm_sys.VerQueryValueW = fake_VerQueryValueW;
    rm_sys.OpenSCManagerW = fake_OpenSCManagerW;
    rm_sys.OpenServiceW = fake_OpenServiceW;
    rm_sys.CloseServiceHandle = fake_CloseServiceHandle;
    rm_sys.GetServiceDisplayNameW = fake_GetServiceDisplayNameW;
    rm_sys.EnumServicesStatusExW = fake_EnumServicesStatusExW;
    rm_sys.QueryServiceStatusEx = fake_QueryServiceStatusEx;
    rm_sys.EnumDependentServicesW = fake_EnumDependentServicesW;
}

/* ---- building a scene --------------------------------------------------------------------------- */

/* An ordinary app of the caller's user and session, unregistered on an OS without restart
 * registrations (Wine), with a readable command line and nothing else. */
static struct fake_proc *add_proc(DWORD pid, const WCHAR *image)
{
    struct fake_proc *p = &world.procs[world.nprocs++];
    memset(p, 0, sizeof *p);
    p->pid = pid;
    p->image = image;
    p->start.dwLowDateTime = pid * 7u + 1u;
    p->start.dwHighDateTime = 0x01d9a000u;
    p->session = SELF_SESSION;
    p->restart_hr = E_NOTIMPL;
    p->cmdline = L"app.exe /quiet";
    return p;
}

static void add_window(DWORD pid, BOOL visible, HWND owner, const WCHAR *title)
{
    struct fake_win *w = &world.wins[world.nwins++];
    w->pid = pid;
    w->visible = visible;
    w->owner = owner;
    w->title = title;
}

static struct fake_svc *add_svc(const WCHAR *name, const WCHAR *display, DWORD pid)
{
    struct fake_svc *s = &world.svcs[world.nsvcs++];
    memset(s, 0, sizeof *s);
    s->name = name;
    s->display = display;
    s->pid = pid;
    s->state = pid ? SERVICE_RUNNING : SERVICE_STOPPED;
    return s;
}

static void hold(const struct fake_proc *p, const WCHAR *service)
{
    struct rm_holder *h = &items[holders.count++];
    memset(h, 0, sizeof *h);
    h->pid = p->pid;
    h->start = p->start;
    h->how = service ? RM_HOLD_SERVICE : RM_HOLD_HANDLE;
    if (service)
        wcsncpy(h->service, service, CCH_RM_MAX_SVC_NAME);
}

static void run(void)
{
    RM_PROCESS_INFO *e = (RM_PROCESS_INFO *)(ULONG_PTR)1;
    why = 0;
    ngot = 12345;
    assert_int_equal(rm_classify(&holders, &e, &ngot, &why), ERROR_SUCCESS);
    assert_int_equal(world.open_handles, 0);
    assert_true(ngot <= holders.count);
    if (ngot)
        memcpy(got, e, ngot * sizeof *e);
    else
        assert_null(e);
    rm_sys.free(e);
}

/* The entry for a PID (the test fails if there is none). */
static const RM_PROCESS_INFO *entry(DWORD pid)
{
    for (uint32_t i = 0; i < ngot; i++)
        if (got[i].Process.dwProcessId == pid)
            return &got[i];
    fail_msg("no entry for pid %lu", (unsigned long)pid);
    return NULL;
}

static void name_is(const WCHAR *have, const WCHAR *want)
{
    if (wcscmp(have, want))
        fail_msg("name \"%ls\", expected \"%ls\"", have, want);
}

static int setup(void **state)
{
    (void)state;
    rm_sys_reset();
    rm_user_sid(); /* cache the caller's identity from the real system first */
    memset(&world, 0, sizeof world);
    holders.count = 0;
    SetEnvironmentVariableW(RM_RESTART_FALLBACK_ENV, NULL);
    install_fakes();
    rm_test_handles_mark();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rm_sys_reset();
    SetEnvironmentVariableW(RM_RESTART_FALLBACK_ENV, NULL);
    return rm_test_handles_unchanged(); /* fails a test that leaked handles */
}

/* ---- holders that went away ------------------------------------------------------------------- */

static void nothing_to_classify(void **state)
{
    (void)state;
    run();
    assert_int_equal(ngot, 0);
    assert_int_equal(why, 0);
}

static void holders_that_exited_are_dropped(void **state)
{
    (void)state;
    struct fake_proc *alive = add_proc(100, L"C:\\apps\\alive.exe");
    struct fake_proc *exited = add_proc(104, L"C:\\apps\\exited.exe");
    struct fake_proc *reused = add_proc(108, L"C:\\apps\\reused.exe");
    struct fake_proc vanished = {.pid = 112};
    hold(alive, NULL);
    hold(exited, NULL);
    hold(reused, NULL);
    hold(&vanished, NULL); /* no such process any more */
    exited->exited = TRUE;
    reused->start.dwLowDateTime++; /* the PID now belongs to a younger process */
    run();
    assert_int_equal(ngot, 1);
    assert_int_equal(got[0].Process.dwProcessId, 100);
    assert_memory_equal(&got[0].Process.ProcessStartTime, &alive->start, sizeof alive->start);
    assert_int_equal(got[0].AppStatus, RmStatusRunning);

    alive->exited = TRUE;
    run();
    assert_int_equal(ngot, 0);
}

static void unknown_start_time_is_pinned(void **state)
{
    (void)state;
    struct fake_proc *p = add_proc(100, L"C:\\apps\\a.exe");
    hold(p, NULL);
    memset(&items[0].start, 0, sizeof items[0].start);
    run();
    assert_int_equal(ngot, 1);
    assert_memory_equal(&got[0].Process.ProcessStartTime, &p->start, sizeof p->start);
}

static void holder_that_cannot_be_opened_stays(void **state)
{
    (void)state;
    struct fake_proc *p = add_proc(100, L"C:\\apps\\elevated.exe");
    p->deny_open = TRUE;
    hold(p, NULL);
    run();
    assert_int_equal(ngot, 1);
    assert_int_equal(got[0].ApplicationType, RmUnknownApp);
    assert_false(got[0].bRestartable);
    assert_memory_equal(&got[0].Process.ProcessStartTime, &p->start, sizeof p->start);
    name_is(got[0].strAppName, L"pid 100");
    assert_int_equal(why, RmRebootReasonPermissionDenied);
}

/* ---- restartability ----------------------------------------------------------------------------- */

static BOOL restartable_with(HRESULT hr, DWORD flags)
{
    struct fake_proc *p = add_proc(200 + 4u * (DWORD)world.nprocs, L"C:\\apps\\app.exe");
    p->restart_hr = hr;
    p->restart_flags = flags;
    holders.count = 0;
    hold(p, NULL);
    run();
    assert_int_equal(ngot, 1);
    return got[0].bRestartable;
}

static void restartable_from_registration(void **state)
{
    (void)state;
    assert_true(restartable_with(S_OK, 0));
    assert_true(restartable_with(HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER), RESTART_NO_CRASH));
    assert_false(restartable_with(S_OK, RESTART_NO_PATCH));
    assert_false(restartable_with(S_OK, RESTART_NO_PATCH | RESTART_NO_HANG));
    assert_false(restartable_with(HRESULT_FROM_WIN32(ERROR_NOT_FOUND), 0));
    assert_false(restartable_with(E_INVALIDARG, 0));
    /* The switch only concerns systems without registrations. */
    SetEnvironmentVariableW(RM_RESTART_FALLBACK_ENV, L"0");
    assert_true(restartable_with(S_OK, 0));
    assert_int_equal(why, 0);
}

static void restartable_fallback_follows_the_environment(void **state)
{
    (void)state;
    assert_true(restartable_with(E_NOTIMPL, 0));
    SetEnvironmentVariableW(RM_RESTART_FALLBACK_ENV, L"0");
    assert_false(restartable_with(E_NOTIMPL, 0));
    SetEnvironmentVariableW(RM_RESTART_FALLBACK_ENV, L"1");
    assert_true(restartable_with(E_NOTIMPL, 0));
    SetEnvironmentVariableW(RM_RESTART_FALLBACK_ENV, L"00");
    assert_true(restartable_with(E_NOTIMPL, 0));
    SetEnvironmentVariableW(RM_RESTART_FALLBACK_ENV, NULL);
    assert_true(restartable_with(E_NOTIMPL, 0));
}

static void restartable_fallback_needs_user_and_command_line(void **state)
{
    (void)state;
    struct fake_proc *other = add_proc(300, L"C:\\apps\\other.exe");
    struct fake_proc *nocmd = add_proc(304, L"C:\\apps\\nocmd.exe");
    struct fake_proc *noread = add_proc(308, L"C:\\apps\\noread.exe");
    struct fake_proc *fine = add_proc(312, L"C:\\apps\\fine.exe");
    struct fake_proc *reg_other = add_proc(316, L"C:\\apps\\regother.exe");
    other->other_user = TRUE;
    nocmd->cmdline = NULL;
    noread->deny_vm_read = TRUE;
    reg_other->restart_hr = S_OK;
    reg_other->other_user = TRUE;
    hold(other, NULL);
    hold(nocmd, NULL);
    hold(noread, NULL);
    hold(fine, NULL);
    hold(reg_other, NULL);
    run();
    assert_int_equal(ngot, 5);
    assert_false(entry(300)->bRestartable);
    assert_false(entry(304)->bRestartable);
    assert_false(entry(308)->bRestartable);
    assert_true(entry(312)->bRestartable);
    assert_false(entry(316)->bRestartable); /* registered, but a restart would change its user */
}

/* ---- the caller, critical processes and services ------------------------------------------------- */

static void caller_itself_is_detected_self(void **state)
{
    (void)state;
    struct fake_proc *self = add_proc(SELF_PID, L"C:\\setup\\setup.exe");
    struct fake_proc *app = add_proc(100, L"C:\\apps\\a.exe");
    self->restart_hr = S_OK;
    self->deny_terminate = TRUE;
    self->description = L"My Installer";
    hold(app, NULL);
    hold(self, NULL);
    run();
    assert_int_equal(ngot, 2);
    assert_int_equal(got[0].Process.dwProcessId, 100); /* holder order kept */
    const RM_PROCESS_INFO *e = entry(SELF_PID);
    assert_int_equal(e->ApplicationType, RmCritical);
    assert_false(e->bRestartable);
    name_is(e->strAppName, L"My Installer");
    assert_int_equal(why, RmRebootReasonDetectedSelf);
}

static void critical_by_full_path_only(void **state)
{
    (void)state;
    add_proc(100, L"C:\\Windows\\System32\\csrss.exe");
    add_proc(104, L"c:\\windows\\SYSTEM32\\LSASS.EXE");
    add_proc(108, L"C:\\Tools\\csrss.exe");
    add_proc(112, L"C:\\Windows\\System32\\sub\\winlogon.exe");
    add_proc(116, L"C:\\Windows\\csrss.exe");
    add_proc(120, L"C:\\Windows\\System32\\csrss.exe.bak");
    add_proc(4, NULL); /* the kernel's System process */
    for (int i = 0; i < world.nprocs; i++) {
        world.procs[i].restart_hr = S_OK;
        hold(&world.procs[i], NULL);
    }
    run();
    assert_int_equal(ngot, 7);
    assert_int_equal(entry(100)->ApplicationType, RmCritical);
    assert_false(entry(100)->bRestartable);
    name_is(entry(100)->strAppName, L"csrss.exe");
    assert_int_equal(entry(104)->ApplicationType, RmCritical);
    assert_int_equal(entry(4)->ApplicationType, RmCritical);
    name_is(entry(4)->strAppName, L"System");
    for (DWORD pid = 108; pid <= 120; pid += 4) {
        assert_int_not_equal(entry(pid)->ApplicationType, RmCritical);
        assert_true(entry(pid)->bRestartable);
    }
    assert_int_equal(why, RmRebootReasonCriticalProcess);
}

static void critical_services(void **state)
{
    (void)state;
    struct fake_proc *host = add_proc(100, L"C:\\Windows\\System32\\svchost.exe");
    struct fake_proc *lsass = add_proc(104, L"C:\\Windows\\System32\\lsass.exe");
    add_svc(L"Power", L"Power", 100);
    add_svc(L"RpcSs", L"Remote Procedure Call (RPC)", 100);
    add_svc(L"SamSs", L"Security Accounts Manager", 104);
    hold(host, NULL);
    run();
    assert_int_equal(ngot, 1);
    assert_int_equal(got[0].ApplicationType, RmCritical);
    assert_false(got[0].bRestartable);
    name_is(got[0].strServiceShortName, L"RpcSs");
    name_is(got[0].strAppName, L"Remote Procedure Call (RPC)");
    assert_int_equal(why, RmRebootReasonCriticalService);

    holders.count = 0;
    hold(lsass, L"SamSs");
    run();
    assert_int_equal(got[0].ApplicationType, RmCritical);
    name_is(got[0].strServiceShortName, L"SamSs");
    assert_int_equal(why, RmRebootReasonCriticalProcess | RmRebootReasonCriticalService);

    /* Named by a service, the host is stopped through the SCM service by service: only the
     * named service decides. */
    holders.count = 0;
    hold(host, L"Power");
    run();
    assert_int_equal(got[0].ApplicationType, RmService);
    assert_true(got[0].bRestartable);
    name_is(got[0].strServiceShortName, L"Power");
    assert_int_equal(why, 0);
    holders.count = 0;
    hold(host, L"rpcss");
    run();
    assert_int_equal(got[0].ApplicationType, RmCritical);
    name_is(got[0].strAppName, L"Remote Procedure Call (RPC)");
    assert_int_equal(why, RmRebootReasonCriticalService);
}

static void service_entries(void **state)
{
    (void)state;
    struct fake_proc *one = add_proc(100, L"C:\\svc\\one.exe");
    struct fake_proc *shared = add_proc(104, L"C:\\Windows\\System32\\svchost.exe");
    struct fake_proc *named = add_proc(108, L"C:\\Windows\\System32\\svchost.exe");
    one->restart_hr = HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    one->session = 0; /* services never cause a session mismatch */
    add_svc(L"OneSvc", L"The One Service", 100);
    add_svc(L"Zeta", L"Zeta Service", 104);
    add_svc(L"alpha", L"Alpha Service", 104);
    add_svc(L"Mid", L"Mid Service", 104);
    add_svc(L"Beta", L"Beta Service", 108);
    add_svc(L"Gamma", L"Gamma Service", 108);
    hold(one, NULL);            /* found by a file handle: still a service host */
    hold(shared, NULL);         /* several services, none named: the first by short name */
    hold(named, L"gamma");      /* detection named it: that one, whatever the case */
    run();
    assert_int_equal(ngot, 3);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(got[i].ApplicationType, RmService);
        assert_true(got[i].bRestartable);
        assert_int_equal(got[i].AppStatus, RmStatusRunning);
    }
    name_is(entry(100)->strServiceShortName, L"OneSvc");
    name_is(entry(100)->strAppName, L"The One Service");
    name_is(entry(104)->strServiceShortName, L"alpha");
    name_is(entry(104)->strAppName, L"Alpha Service");
    name_is(entry(108)->strServiceShortName, L"gamma");
    name_is(entry(108)->strAppName, L"Gamma Service");
    assert_int_equal(why, 0);
}

static void service_unknown_to_the_enumeration(void **state)
{
    (void)state;
    /* Detection named a service the snapshot does not list under this PID (it started a moment
     * later, say): the display name comes from the SCM by name. */
    struct fake_proc *p = add_proc(100, L"C:\\svc\\late.exe");
    struct fake_svc *s = add_svc(L"LateSvc", L"Late Service", 100);
    s->state = SERVICE_STOPPED;
    hold(p, L"LateSvc");
    run();
    assert_int_equal(got[0].ApplicationType, RmService);
    name_is(got[0].strServiceShortName, L"LateSvc");
    name_is(got[0].strAppName, L"Late Service");

    /* Neither the snapshot nor the SCM knows it: the short name stands in. */
    world.nsvcs = 0;
    run();
    name_is(got[0].strAppName, L"LateSvc");
}

static void long_service_names_are_cut(void **state)
{
    (void)state;
    WCHAR shortname[101], display[301];
    for (int i = 0; i < 100; i++)
        shortname[i] = (WCHAR)(L'a' + i % 26);
    shortname[100] = 0;
    for (int i = 0; i < 300; i++)
        display[i] = (WCHAR)(L'A' + i % 26);
    display[300] = 0;
    struct fake_proc *p = add_proc(100, L"C:\\svc\\long.exe");
    add_svc(shortname, display, 100);
    hold(p, NULL);
    run();
    assert_int_equal(wcslen(got[0].strServiceShortName), CCH_RM_MAX_SVC_NAME);
    assert_memory_equal(got[0].strServiceShortName, shortname, CCH_RM_MAX_SVC_NAME * sizeof(WCHAR));
    assert_int_equal(wcslen(got[0].strAppName), CCH_RM_MAX_APP_NAME);
    assert_memory_equal(got[0].strAppName, display, CCH_RM_MAX_APP_NAME * sizeof(WCHAR));
}

/* ---- reboot reasons --------------------------------------------------------------------------------- */

static void permission_denied(void **state)
{
    (void)state;
    struct fake_proc *app = add_proc(100, L"C:\\apps\\admin.exe");
    struct fake_proc *svc = add_proc(104, L"C:\\svc\\locked.exe");
    struct fake_proc *crit = add_proc(108, L"C:\\Windows\\System32\\wininit.exe");
    app->deny_terminate = TRUE;
    crit->deny_terminate = TRUE;
    add_svc(L"Locked", L"Locked Service", 104)->deny_stop = TRUE;
    hold(app, NULL);
    run();
    assert_int_equal(why, RmRebootReasonPermissionDenied);

    /* A service host is judged by the right to stop the service, not to kill the process. */
    holders.count = 0;
    hold(svc, NULL);
    svc->deny_terminate = FALSE;
    run();
    assert_int_equal(why, RmRebootReasonPermissionDenied);
    world.svcs[0].deny_stop = FALSE;
    svc->deny_terminate = TRUE;
    run();
    assert_int_equal(why, 0);

    /* Critical processes are never touched, so their rights do not matter. */
    holders.count = 0;
    hold(crit, NULL);
    run();
    assert_int_equal(why, RmRebootReasonCriticalProcess);
}

static void session_mismatch(void **state)
{
    (void)state;
    struct fake_proc *same = add_proc(100, L"C:\\apps\\here.exe");
    struct fake_proc *other = add_proc(104, L"C:\\apps\\there.exe");
    struct fake_proc *svc = add_proc(108, L"C:\\svc\\svc.exe");
    struct fake_proc *crit = add_proc(112, L"C:\\Windows\\System32\\smss.exe");
    other->session = 2;
    svc->session = 0;
    crit->session = 0;
    add_svc(L"Svc", L"Service", 108);
    hold(same, NULL);
    hold(svc, NULL);
    run();
    assert_int_equal(why, 0);
    assert_int_equal(entry(100)->TSSessionId, SELF_SESSION);
    assert_int_equal(entry(108)->TSSessionId, 0);

    hold(other, NULL);
    run();
    assert_int_equal(why, RmRebootReasonSessionMismatch);
    assert_int_equal(entry(104)->TSSessionId, 2);

    holders.count = 0;
    hold(crit, NULL);
    run();
    assert_int_equal(why, RmRebootReasonCriticalProcess);
}

/* ---- application types -------------------------------------------------------------------------- */

static void application_types(void **state)
{
    (void)state;
    struct fake_proc *gui = add_proc(100, L"C:\\apps\\gui.exe");
    struct fake_proc *tray = add_proc(104, L"C:\\apps\\tray.exe");
    struct fake_proc *dialog = add_proc(108, L"C:\\apps\\dialog.exe");
    struct fake_proc *con = add_proc(112, L"C:\\apps\\con.exe");
    struct fake_proc *conwin = add_proc(116, L"C:\\apps\\conwin.exe");
    struct fake_proc *conhidden = add_proc(120, L"C:\\apps\\conhidden.exe");
    struct fake_proc *none = add_proc(124, L"C:\\apps\\none.exe");
    struct fake_proc *shell = add_proc(128, L"C:\\WINDOWS\\Explorer.EXE");
    struct fake_proc *fake_shell = add_proc(132, L"C:\\apps\\explorer.exe");
    gui->subsystem = IMAGE_SUBSYSTEM_WINDOWS_GUI;
    tray->subsystem = IMAGE_SUBSYSTEM_WINDOWS_GUI;
    con->subsystem = IMAGE_SUBSYSTEM_WINDOWS_CUI;
    conwin->subsystem = IMAGE_SUBSYSTEM_WINDOWS_CUI;
    conhidden->subsystem = IMAGE_SUBSYSTEM_WINDOWS_CUI;
    none->subsystem = IMAGE_SUBSYSTEM_WINDOWS_GUI;
    add_window(100, FALSE, NULL, L"hidden helper");
    add_window(100, TRUE, NULL, L"Main");
    add_window(104, FALSE, NULL, NULL);
    add_window(108, TRUE, (HWND)(ULONG_PTR)0x100, L"owned dialog");
    add_window(116, TRUE, NULL, L"console with a window");
    add_window(120, FALSE, NULL, NULL);
    add_window(128, TRUE, NULL, L"Desktop");
    add_window(132, TRUE, NULL, L"Not the shell");
    for (int i = 0; i < world.nprocs; i++)
        hold(&world.procs[i], NULL);
    (void)shell, (void)fake_shell, (void)dialog;
    run();
    assert_int_equal(ngot, 9);
    assert_int_equal(entry(100)->ApplicationType, RmMainWindow);
    assert_int_equal(entry(104)->ApplicationType, RmOtherWindow);
    assert_int_equal(entry(108)->ApplicationType, RmOtherWindow);
    assert_int_equal(entry(112)->ApplicationType, RmConsole);
    assert_int_equal(entry(116)->ApplicationType, RmMainWindow);
    assert_int_equal(entry(120)->ApplicationType, RmConsole);
    assert_int_equal(entry(124)->ApplicationType, RmUnknownApp);
    assert_int_equal(entry(128)->ApplicationType, RmExplorer);
    assert_int_equal(entry(132)->ApplicationType, RmMainWindow);
    assert_int_equal(why, 0);
}

static void console_read_from_the_file(void **state)
{
    (void)state;
    /* This test program is a console program: with its image unreadable in memory, or not a
     * PE there, the file on disk answers. */
    static WCHAR self_path[MAX_PATH];
    assert_true(GetModuleFileNameW(NULL, self_path, MAX_PATH) > 0);
    struct fake_proc *a = add_proc(100, self_path);
    struct fake_proc *b = add_proc(104, self_path);
    b->subsystem = IMAGE_SUBSYSTEM_WINDOWS_GUI;
    b->garbage_image = TRUE;
    struct fake_proc *c = add_proc(108, L"C:\\no\\such\\file.exe");
    hold(a, NULL);
    hold(b, NULL);
    hold(c, NULL);
    run();
    assert_int_equal(entry(100)->ApplicationType, RmConsole);
    assert_int_equal(entry(104)->ApplicationType, RmConsole);
    assert_int_equal(entry(108)->ApplicationType, RmUnknownApp);
    name_is(entry(100)->strAppName, L"unit_classify.exe");
}

/* ---- names ---------------------------------------------------------------------------------------- */

static void name_fallback_chain(void **state)
{
    (void)state;
    struct fake_proc *desc = add_proc(100, L"C:\\apps\\described.exe");
    struct fake_proc *us = add_proc(104, L"C:\\apps\\us.exe");
    add_proc(108, L"C:\\apps\\titled.exe");
    add_proc(112, L"C:\\apps\\bare.exe");
    struct fake_proc *blank = add_proc(116, L"C:\\apps\\blank.exe");
    add_proc(120, NULL);
    desc->description = L"  Described App  ";
    desc->translation = MAKELONG(0x04e4, 0x0415); /* Polish, ANSI: the file's own language first */
    desc->desc_key = L"041504E4";
    us->description = L"US English";
    us->translation = MAKELONG(0x04b0, 0x0407); /* the file lists German but only has en-US */
    us->desc_key = L"040904e4";
    blank->description = L"   ";
    add_window(100, TRUE, NULL, L"Window of described");
    add_window(108, TRUE, NULL, NULL); /* untitled main window first in Z order */
    add_window(108, TRUE, NULL, L"Titled Window");
    add_window(112, TRUE, NULL, NULL);
    add_window(120, TRUE, NULL, L"Only a window");
    for (int i = 0; i < world.nprocs; i++)
        hold(&world.procs[i], NULL);
    run();
    assert_int_equal(ngot, 6);
    name_is(entry(100)->strAppName, L"Described App");
    name_is(entry(104)->strAppName, L"US English");
    name_is(entry(108)->strAppName, L"Titled Window");
    name_is(entry(112)->strAppName, L"bare.exe");
    name_is(entry(116)->strAppName, L"blank.exe");
    name_is(entry(120)->strAppName, L"Only a window");
    for (uint32_t i = 0; i < ngot; i++)
        assert_int_equal(got[i].strServiceShortName[0], 0);

    world.nwins = 0;
    run();
    name_is(entry(120)->strAppName, L"pid 120");
}

static void names_are_cut_at_255(void **state)
{
    (void)state;
    static WCHAR longtext[400], longpath[400];
    for (int i = 0; i < 399; i++)
        longtext[i] = (WCHAR)(L'a' + i % 26);
    longtext[399] = 0;
    wcscpy(longpath, L"C:\\apps\\");
    for (int i = 8; i < 8 + 300; i++)
        longpath[i] = L'x';
    longpath[308] = 0;
    struct fake_proc *d = add_proc(100, L"C:\\apps\\d.exe");
    struct fake_proc *t = add_proc(104, L"C:\\apps\\t.exe");
    struct fake_proc *f = add_proc(108, longpath);
    d->description = longtext;
    add_window(104, TRUE, NULL, longtext);
    hold(d, NULL);
    hold(t, NULL);
    hold(f, NULL);
    memset(got, 0x55, sizeof got);
    run();
    for (uint32_t i = 0; i < ngot; i++) {
        assert_int_equal(wcslen(got[i].strAppName), CCH_RM_MAX_APP_NAME);
        assert_int_equal(got[i].strAppName[CCH_RM_MAX_APP_NAME], 0);
    }
    assert_memory_equal(entry(100)->strAppName, longtext, CCH_RM_MAX_APP_NAME * sizeof(WCHAR));
    assert_memory_equal(entry(104)->strAppName, longtext, CCH_RM_MAX_APP_NAME * sizeof(WCHAR));
    assert_int_equal(entry(108)->strAppName[0], L'x');
}

/* ---- failures ----------------------------------------------------------------------------------- */

static LONG allocs_left = -1;

static void *counted_alloc(SIZE_T n)
{
    if (allocs_left == 0)
        return NULL;
    if (allocs_left > 0)
        allocs_left--;
    return HeapAlloc(GetProcessHeap(), 0, n ? n : 1);
}

static void allocation_failures(void **state)
{
    (void)state;
    struct fake_proc *a = add_proc(100, L"C:\\apps\\a.exe");
    struct fake_proc *b = add_proc(104, L"C:\\apps\\b.exe");
    a->description = L"App A";
    add_svc(L"Svc", L"Service", 104);
    hold(a, NULL);
    hold(b, NULL);
    int failures = 0, k;
    rm_sys.alloc = counted_alloc;
    for (k = 0; k < 50; k++) {
        RM_PROCESS_INFO *e = (RM_PROCESS_INFO *)(ULONG_PTR)1;
        uint32_t n = 77;
        DWORD r = 0x40;
        allocs_left = k;
        DWORD rc = rm_classify(&holders, &e, &n, &r);
        allocs_left = -1;
        assert_int_equal(world.open_handles, 0);
        if (rc == ERROR_SUCCESS) {
            assert_int_equal(n, 2);
            rm_sys.free(e);
            break;
        }
        assert_int_equal(rc, ERROR_OUTOFMEMORY);
        assert_null(e);
        assert_int_equal(n, 0);
        assert_int_equal(r, 0x40); /* reasons untouched on failure */
        failures++;
    }
    assert_true(failures >= 5);
    assert_true(k < 50);
}

static void scm_unavailable(void **state)
{
    (void)state;
    struct fake_proc *app = add_proc(100, L"C:\\apps\\a.exe");
    struct fake_proc *svc = add_proc(104, L"C:\\svc\\s.exe");
    add_svc(L"Svc", L"Service", 104);
    world.scm_denied = TRUE;
    hold(app, NULL);
    hold(svc, L"Svc");
    run();
    assert_int_equal(entry(100)->ApplicationType, RmUnknownApp);
    assert_int_equal(entry(104)->ApplicationType, RmService);
    name_is(entry(104)->strAppName, L"Svc");
    /* The SCM refused us: the service cannot be stopped by this caller. */
    assert_int_equal(why, RmRebootReasonPermissionDenied);
}

/* ---- rm_detect_services ----------------------------------------------------------------------- */

static struct rm_text texts[4];
static struct rm_registrations regs;

static void register_services(const WCHAR *const *names, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        texts[i].text = (const uint16_t *)names[i];
        texts[i].nchars = (uint32_t)wcslen(names[i]);
    }
    memset(&regs, 0, sizeof regs);
    regs.services = texts;
    regs.nservices = n;
}

static const struct rm_holder *held(const struct rm_holders *h, DWORD pid)
{
    for (uint32_t i = 0; i < h->count; i++)
        if (h->items[i].pid == pid)
            return &h->items[i];
    return NULL;
}

static void detect_running_services_and_dependents(void **state)
{
    (void)state;
    for (int levels = 0; levels < 2; levels++) {
        memset(&world, 0, sizeof world);
        world.deps_all_levels = levels;
        add_proc(100, L"C:\\svc\\base.exe");
        add_proc(104, L"C:\\svc\\child.exe");
        add_proc(108, L"C:\\svc\\grandchild.exe");
        struct fake_svc *base = add_svc(L"Base", L"Base", 100);   /* 1 */
        struct fake_svc *child = add_svc(L"Child", L"Child", 104); /* 2 */
        add_svc(L"Grandchild", L"Grandchild", 108);                /* 3 */
        add_svc(L"StoppedDep", L"Stopped", 0);                     /* 4 */
        add_svc(L"Idle", L"Idle", 0);                              /* 5 */
        base->deps[0] = 2;
        base->deps[1] = 4;
        child->deps[0] = 3;
        if (!levels)
            child->deps[1] = 1; /* a cycle the SCM would never allow: must not loop */
        static const WCHAR *const names[] = {L"base", L"Idle", L"Missing"};
        register_services(names, 3);
        struct rm_holders out = {0};
        assert_int_equal(rm_detect_services(&regs, NULL, &out), ERROR_SUCCESS);
        assert_int_equal(world.open_handles, 0);
        assert_int_equal(out.count, 3);
        assert_true(held(&out, 100) && !_wcsicmp(held(&out, 100)->service, L"base"));
        assert_true(held(&out, 104) && !wcscmp(held(&out, 104)->service, L"Child"));
        assert_true(held(&out, 108) && !wcscmp(held(&out, 108)->service, L"Grandchild"));
        for (uint32_t i = 0; i < out.count; i++) {
            assert_int_equal(out.items[i].how, RM_HOLD_SERVICE);
            assert_memory_equal(&out.items[i].start, &find_proc(out.items[i].pid)->start, sizeof(FILETIME));
        }
        rm_holders_free(&out);
    }
}

static void detect_services_without_scm_or_with_cancel(void **state)
{
    (void)state;
    add_proc(100, L"C:\\svc\\base.exe");
    add_svc(L"Base", L"Base", 100);
    static const WCHAR *const names[] = {L"Base"};
    register_services(names, 1);
    struct rm_holders out = {0};

    world.scm_denied = TRUE;
    assert_int_equal(rm_detect_services(&regs, NULL, &out), ERROR_SUCCESS);
    assert_int_equal(out.count, 0);
    world.scm_denied = FALSE;

    volatile LONG requests = 1;
    struct rm_cancel cancel = {&requests, 0};
    assert_int_equal(rm_detect_services(&regs, &cancel, &out), ERROR_CANCELLED);
    assert_int_equal(world.open_handles, 0);
    rm_holders_free(&out);

    /* A service process we may not open is still listed, its start time unknown. */
    world.procs[0].deny_open = TRUE;
    assert_int_equal(rm_detect_services(&regs, NULL, &out), ERROR_SUCCESS);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].start.dwLowDateTime | out.items[0].start.dwHighDateTime, 0);
    rm_holders_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(nothing_to_classify, setup, teardown),
        cmocka_unit_test_setup_teardown(holders_that_exited_are_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_start_time_is_pinned, setup, teardown),
        cmocka_unit_test_setup_teardown(holder_that_cannot_be_opened_stays, setup, teardown),
        cmocka_unit_test_setup_teardown(restartable_from_registration, setup, teardown),
        cmocka_unit_test_setup_teardown(restartable_fallback_follows_the_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(restartable_fallback_needs_user_and_command_line, setup, teardown),
        cmocka_unit_test_setup_teardown(caller_itself_is_detected_self, setup, teardown),
        cmocka_unit_test_setup_teardown(critical_by_full_path_only, setup, teardown),
        cmocka_unit_test_setup_teardown(critical_services, setup, teardown),
        cmocka_unit_test_setup_teardown(service_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(service_unknown_to_the_enumeration, setup, teardown),
        cmocka_unit_test_setup_teardown(long_service_names_are_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(permission_denied, setup, teardown),
        cmocka_unit_test_setup_teardown(session_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(application_types, setup, teardown),
        cmocka_unit_test_setup_teardown(console_read_from_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(name_fallback_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(names_are_cut_at_255, setup, teardown),
        cmocka_unit_test_setup_teardown(allocation_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(scm_unavailable, setup, teardown),
        cmocka_unit_test_setup_teardown(detect_running_services_and_dependents, setup, teardown),
        cmocka_unit_test_setup_teardown(detect_services_without_scm_or_with_cancel, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
