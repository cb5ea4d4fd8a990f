/*
 * Integration-test harness (see it.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "it.h"

#include "handles.h"
#include "proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "session/session.h"
#include "session/store.h"

const WCHAR *it_prefix;
int it_argc;
WCHAR **it_argv;

static struct rm_test_ids sessions;
static struct rm_test_procs children;
static struct rm_test_dirs dirs;

/* ---- arguments ------------------------------------------------------------------------------ */

const WCHAR *it_arg(int i)
{
    if (i >= it_argc) {
        print_error("child role is missing argument %d\n", i);
        fail();
    }
    return it_argv[i];
}

DWORD it_arg_u32(int i)
{
    return (DWORD)wcstoul(it_arg(i), NULL, 0);
}

/* ---- calls ---------------------------------------------------------------------------------- */

DWORD it_expect_rc_(DWORD expected, DWORD got, const char *call, const char *file, int line)
{
    return rm_test_expect_rc_(expected, got, call, file, line);
}

void it_track(DWORD handle)
{
    rm_test_ids_add(&sessions, handle);
}

void it_forget(DWORD handle)
{
    rm_test_ids_forget(&sessions, handle);
}

DWORD it_start_(WCHAR key[CCH_RM_SESSION_KEY + 1], const char *file, int line)
{
    DWORD h = 0xfeedfaceu;
    it_expect_rc_(ERROR_SUCCESS, IT_CALL(RmStartSession(&h, 0, key)), "RmStartSession(&h, 0, key)", file, line);
    it_track(h);
    return h;
}

void it_expect_counts_(DWORD handle, uint32_t files, uint32_t procs, uint32_t svcs, const char *file, int line)
{
    uint32_t c[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
    DWORD err = rm_session_counts(handle, c);
    if (err) {
        print_error("rm_session_counts(0x%08lx) returned %lu\n", handle, err);
        _fail(file, line);
    }
    if (c[0] != files || c[1] != procs || c[2] != svcs) {
        print_error("session holds %u files, %u processes, %u services; expected %u, %u, %u\n", c[0], c[1], c[2],
                    files, procs, svcs);
        _fail(file, line);
    }
}

RM_UNIQUE_PROCESS it_self_process(void)
{
    return rm_test_unique(GetCurrentProcess());
}

/* ---- children --------------------------------------------------------------------------------- */

HANDLE it_spawn_(const WCHAR *role, const WCHAR *cwd, const char *file, int line, const WCHAR *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    HANDLE p = rm_test_vspawn_(&children, role, it_prefix, cwd, file, line, fmt, ap);
    va_end(ap);
    return p;
}

void it_expect_exit_(HANDLE child, DWORD code, DWORD timeout_ms, const char *file, int line)
{
    rm_test_expect_exit_(&children, child, code, timeout_ms, file, line);
}

void it_kill_(HANDLE child, const char *file, int line)
{
    rm_test_kill_(&children, child, file, line);
}

void it_event_name(const WCHAR *name, WCHAR out[256])
{
    _snwprintf(out, 256, L"Local\\%ls.it.%ls", it_prefix, name);
    out[255] = 0;
}

HANDLE it_event(const WCHAR *name)
{
    WCHAR full[256];
    it_event_name(name, full);
    return rm_test_event(full);
}

void it_wait_event_(HANDLE ev, HANDLE child, DWORD timeout_ms, const char *file, int line)
{
    rm_test_wait_event_(ev, child, timeout_ms, file, line);
}

/* ---- helper programs -------------------------------------------------------------------------- */

void it_helper_path(const WCHAR *exe, WCHAR out[MAX_PATH])
{
    rm_test_helper_path(exe, out);
}

HANDLE it_launch_(const WCHAR *exe, DWORD flags, const char *file, int line, const WCHAR *fmt, ...)
{
    static unsigned launched;
    WCHAR leaf[32], ready[256];
    va_list ap;

    _snwprintf(leaf, 32, L"ready%u", ++launched);
    leaf[31] = 0;
    HANDLE ev = it_event(leaf);
    it_event_name(leaf, ready);
    va_start(ap, fmt);
    HANDLE p = rm_test_vlaunch_(&children, exe, NULL, flags, TRUE, ev, ready, file, line, fmt, ap);
    va_end(ap);
    CloseHandle(ev);
    return p;
}

void it_adopt(HANDLE process)
{
    assert_true(children.n < (int)(sizeof children.h / sizeof *children.h));
    children.h[children.n++] = process;
}

int it_teardown(void **state)
{
    (void)state;
    while (sessions.n > 0)
        RmEndSession(sessions.id[--sessions.n]);
    rm_test_procs_kill(&children);
    rm_test_remove_dirs(&dirs);
    return 0;
}

/* ---- handles ----------------------------------------------------------------------------------- */

DWORD it_handle_count_(const char *file, int line)
{
    DWORD n = rm_test_handle_count();
    if (n == (DWORD)-1) {
        print_error("this process's handle count cannot be read\n");
        _fail(file, line);
    }
    return n;
}

/* ---- guarded buffers ------------------------------------------------------------------------- */

void *it_guarded_(size_t bytes, const char *file, int line)
{
    size_t pages = (bytes + 4095) / 4096;
    BYTE *base = VirtualAlloc(NULL, (pages + 1) * 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    DWORD old;
    if (!base || !VirtualProtect(base + pages * 4096, 4096, PAGE_NOACCESS, &old)) {
        print_error("guarded buffer of %lu bytes: %lu\n", (unsigned long)bytes, GetLastError());
        _fail(file, line);
    }
    return base + pages * 4096 - bytes;
}

void it_guarded_free(void *p)
{
    MEMORY_BASIC_INFORMATION mbi;
    if (p && VirtualQuery(p, &mbi, sizeof mbi))
        VirtualFree(mbi.AllocationBase, 0, MEM_RELEASE);
}

void it_make_dir(const WCHAR *leaf, WCHAR out[MAX_PATH])
{
    rm_test_make_dir(&dirs, it_prefix, leaf, out);
}

/* ---- entry ----------------------------------------------------------------------------------- */

static int run_child(const WCHAR *role)
{
    for (const struct it_role *r = it_roles; r->name; r++)
        if (wcscmp(r->name, role) == 0)
            return rm_test_run_role(it_program, role, r->fn, it_teardown);
    fprintf(stderr, "%s: no child role %ls\n", it_program, role);
    return 2;
}

int wmain(int argc, WCHAR **argv)
{
    static WCHAR prefix[128];
    rm_test_main_init();
    if (argc >= 4 && wcscmp(argv[1], L"--child") == 0) {
        it_prefix = argv[3];
        rm_store_prefix = it_prefix;
        it_argc = argc - 4;
        it_argv = argv + 4;
        return run_child(argv[2]);
    }
    _snwprintf(prefix, 128, L"rstrtmgr-it-%hs-%lu", it_program, GetCurrentProcessId());
    prefix[127] = 0;
    it_prefix = prefix;
    rm_store_prefix = it_prefix;
    return it_parent();
}
