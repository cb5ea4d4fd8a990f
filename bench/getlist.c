/*
 * RmGetList against its floor (DESIGN §7).
 *
 * P holder processes (this program again, in its --hold role) each keep K files open in a
 * directory of their own under a fresh temporary tree, beside files nobody holds: an
 * installer's tree while its apps run. For each F registered files, one run measures against
 * the same processes:
 *   - RmGetList: the call that returns the list (a sizing call precedes it), median of N;
 *   - the floor: what any detector built on a handle snapshot must do at least — one
 *     snapshot, one OpenProcess per other process, and for every File handle a duplicate, an
 *     identity query and a close — median of N.
 * RmGetList / floor says what detection adds to the unavoidable; RmGetList at F = 10,000
 * over F = 100 says whether the call grows with the registrations.
 *
 * Which files are registered: every holder's directory gives F / P of them (the first
 * F % P directories one more), its held files first. F = 100 with P = 20, K = 100 thus
 * registers the first 5 held files of each holder, so every holder must still be listed;
 * F = 10,000 registers all 2,000 held files and 8,000 unheld ones.
 *
 * A benchmark, not a test: ctest does not run it, and it prints numbers next to their
 * targets instead of failing. Exit code 1 means it could not measure (set-up failed,
 * RmGetList returned an unexpected error).
 *
 *   bench_getlist [--procs P] [--files-per-proc K] [--reps N] [--mixed OTHER_BENCH_EXE]
 *
 * --mixed: the odd holders run the other architecture's bench_getlist (a 32-bit holder for
 * every 64-bit one), and the F = 100 registration is listed by this program's DLL and, in the
 * same run, by the other program's (its --list role) — from x86 under WOW64 the 64-bit half
 * comes from the native helper. Prints both medians and x86/x64 (target <= 1.5).
 *
 * SPDX-License-Identifier: MIT
 */
#include <windows.h>
#include <winternl.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <restartmanager.h>

#include "detect/handle_table.h"

#include "common.h"

#define DEFAULT_PROCS 20u
#define DEFAULT_PER_PROC 100u
#define DEFAULT_REPS 7u
#define REGISTER_BATCH 1000u   /* Inno Setup registers its files 1,000 at a time */
#define HOLDER_START_MS 60000u /* all holders; a first Wine start in a fresh prefix is slow */
#define TARGET_TEXT "1.5" /* both targets: RmGetList / floor at F = 10,000, and its growth from F = 100 */
#define TARGET 1.5

static const unsigned file_counts[] = {100, 10000};
#define NCOUNTS (sizeof file_counts / sizeof file_counts[0])

/* ---- the holder role ------------------------------------------------------------------------- */

/* Opens DIR\hNNNNN.dat for N < K, tells the parent, and keeps them open until the parent is
 * gone: a bench that dies leaves no holder behind. */
static int hold(const WCHAR *dir, unsigned k, DWORD parent_pid, const WCHAR *ready_name)
{
    HANDLE parent = OpenProcess(SYNCHRONIZE, FALSE, parent_pid);
    if (!parent)
        return 2;
    for (unsigned i = 0; i < k; i++) {
        WCHAR path[MAX_PATH];
        _snwprintf(path, MAX_PATH, L"%ls\\h%05u.dat", dir, i);
        path[MAX_PATH - 1] = 0;
        HANDLE h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                               OPEN_EXISTING, 0, NULL);
        if (h == INVALID_HANDLE_VALUE)
            return 3;
    }
    HANDLE ready = OpenEventW(EVENT_MODIFY_STATE, FALSE, ready_name);
    if (!ready || !SetEvent(ready))
        return 4;
    WaitForSingleObject(parent, INFINITE);
    return 0;
}

/* ---- the scenario ------------------------------------------------------------------------------ */

struct bench {
    unsigned procs, per_proc, reps;
    const WCHAR *other; /* --mixed: the other architecture's bench_getlist.exe, for odd holders */
    unsigned unheld; /* files nobody holds, per directory */
    WCHAR root[MAX_PATH];
    BOOL root_made;
    unsigned dirs_made;
    unsigned *held_made, *unheld_made; /* per directory, for the clean-up */
    BOOL probe_made;
    HANDLE probe; /* a File handle of our own: tells which snapshot type index means File */
    PROCESS_INFORMATION *holders;
    unsigned nholders;
    LARGE_INTEGER freq;
};

static void dir_path(const struct bench *b, unsigned d, WCHAR *out)
{
    _snwprintf(out, MAX_PATH, L"%ls\\d%03u", b->root, d);
    out[MAX_PATH - 1] = 0;
}

static void file_path(const struct bench *b, unsigned d, BOOL held, unsigned i, WCHAR *out)
{
    _snwprintf(out, MAX_PATH, L"%ls\\d%03u\\%lc%05u.dat", b->root, d, held ? L'h' : L'u', i);
    out[MAX_PATH - 1] = 0;
}

static void probe_path(const struct bench *b, WCHAR *out)
{
    _snwprintf(out, MAX_PATH, L"%ls\\probe.dat", b->root);
    out[MAX_PATH - 1] = 0;
}

/* How many held and unheld files of directory d a registration of f files takes. */
static void quota(const struct bench *b, unsigned f, unsigned d, unsigned *held, unsigned *unheld)
{
    unsigned q = f / b->procs + (d < f % b->procs);
    *held = q < b->per_proc ? q : b->per_proc;
    *unheld = q - *held;
}

static int make_file(const WCHAR *path)
{
    HANDLE h = CreateFileW(path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return 0;
    CloseHandle(h);
    return 1;
}

static int make_tree(struct bench *b)
{
    WCHAR tmp[MAX_PATH], path[MAX_PATH];
    DWORD n = GetTempPathW(MAX_PATH, tmp);
    if (!n || n >= MAX_PATH - 40) {
        say("error: no usable temporary directory\n");
        return 0;
    }
    _snwprintf(b->root, MAX_PATH, L"%lsrstrtmgr-bench-%lu", tmp, GetCurrentProcessId());
    b->root[MAX_PATH - 1] = 0;
    if (!CreateDirectoryW(b->root, NULL) && GetLastError() != ERROR_ALREADY_EXISTS) {
        say("error: cannot create %ls (error %lu)\n", b->root, GetLastError());
        return 0;
    }
    b->root_made = TRUE;
    for (unsigned f = 0; f < NCOUNTS; f++)
        for (unsigned d = 0; d < b->procs; d++) {
            unsigned held, unheld;
            quota(b, file_counts[f], d, &held, &unheld);
            if (unheld > b->unheld)
                b->unheld = unheld;
        }
    b->held_made = calloc(b->procs, sizeof *b->held_made);
    b->unheld_made = calloc(b->procs, sizeof *b->unheld_made);
    if (!b->held_made || !b->unheld_made)
        return 0;
    for (unsigned d = 0; d < b->procs; d++) {
        dir_path(b, d, path);
        if (!CreateDirectoryW(path, NULL) && GetLastError() != ERROR_ALREADY_EXISTS) {
            say("error: cannot create %ls (error %lu)\n", path, GetLastError());
            return 0;
        }
        b->dirs_made = d + 1;
        for (unsigned i = 0; i < b->per_proc; i++, b->held_made[d]++) {
            file_path(b, d, TRUE, i, path);
            if (!make_file(path))
                goto failed;
        }
        for (unsigned i = 0; i < b->unheld; i++, b->unheld_made[d]++) {
            file_path(b, d, FALSE, i, path);
            if (!make_file(path))
                goto failed;
        }
    }
    probe_path(b, path);
    b->probe_made = make_file(path);
    b->probe = b->probe_made ? CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                           NULL, OPEN_EXISTING, 0, NULL)
                             : INVALID_HANDLE_VALUE;
    if (b->probe == INVALID_HANDLE_VALUE)
        goto failed;
    return 1;
failed:
    say("error: cannot create %ls (error %lu)\n", path, GetLastError());
    return 0;
}

static int start_holders(struct bench *b)
{
    WCHAR exe[MAX_PATH], dir[MAX_PATH], name[64];
    DWORD n = GetModuleFileNameW(NULL, exe, MAX_PATH);
    if (!n || n >= MAX_PATH)
        return 0;
    b->holders = calloc(b->procs, sizeof *b->holders);
    HANDLE *ready = calloc(b->procs, sizeof *ready);
    WCHAR *cmd = malloc(4 * MAX_PATH * sizeof *cmd);
    int ok = b->holders && ready && cmd;
    for (unsigned d = 0; ok && d < b->procs; d++) {
        _snwprintf(name, 64, L"Local\\rstrtmgr-bench-%lu-%u", GetCurrentProcessId(), d);
        name[63] = 0;
        if (!(ready[d] = CreateEventW(NULL, TRUE, FALSE, name))) {
            ok = 0;
            break;
        }
        dir_path(b, d, dir);
        const WCHAR *who = b->other && d % 2 ? b->other : exe;
        _snwprintf(cmd, 4 * MAX_PATH, L"\"%ls\" --hold \"%ls\" %u %lu %ls", who, dir, b->per_proc,
                   GetCurrentProcessId(), name);
        cmd[4 * MAX_PATH - 1] = 0;
        if (!bench_start(who, cmd, "holder", d, &b->holders[d])) {
            ok = 0;
            break;
        }
        b->nholders = d + 1;
    }
    /* Each holder is ready once all its files are open. */
    ok = ok && bench_wait_ready(ready, b->holders, b->procs, HOLDER_START_MS, "holder");
    for (unsigned d = 0; ready && d < b->procs; d++)
        if (ready[d])
            CloseHandle(ready[d]);
    free(ready);
    free(cmd);
    return ok;
}

/* Ends only the holders this run started, through their own process handles. */
static void stop_holders(struct bench *b)
{
    for (unsigned d = 0; d < b->nholders; d++)
        TerminateProcess(b->holders[d].hProcess, 0);
    for (unsigned d = 0; d < b->nholders; d++) {
        WaitForSingleObject(b->holders[d].hProcess, 10000);
        CloseHandle(b->holders[d].hProcess);
    }
    free(b->holders);
    b->holders = NULL;
    b->nholders = 0;
}

static void remove_tree(struct bench *b)
{
    WCHAR path[MAX_PATH];
    if (b->probe && b->probe != INVALID_HANDLE_VALUE)
        CloseHandle(b->probe);
    b->probe = NULL;
    if (b->probe_made) {
        probe_path(b, path);
        DeleteFileW(path);
    }
    for (unsigned d = 0; d < b->dirs_made; d++) {
        for (unsigned i = 0; i < b->held_made[d]; i++) {
            file_path(b, d, TRUE, i, path);
            DeleteFileW(path);
        }
        for (unsigned i = 0; i < b->unheld_made[d]; i++) {
            file_path(b, d, FALSE, i, path);
            DeleteFileW(path);
        }
        dir_path(b, d, path);
        if (!RemoveDirectoryW(path))
            say("note: could not remove %ls (error %lu)\n", path, GetLastError());
    }
    if (b->root_made && !RemoveDirectoryW(b->root))
        say("note: could not remove %ls (error %lu)\n", b->root, GetLastError());
    free(b->held_made);
    free(b->unheld_made);
    b->held_made = b->unheld_made = NULL;
}

/* The first f registered names; one allocation holds the array and its strings. */
static LPCWSTR *registered_names(const struct bench *b, unsigned f)
{
    LPCWSTR *names = malloc(f * (sizeof *names + MAX_PATH * sizeof(WCHAR)));
    if (!names)
        return NULL;
    WCHAR *text = (WCHAR *)(names + f);
    unsigned n = 0;
    for (unsigned d = 0; d < b->procs; d++) {
        unsigned held, unheld;
        quota(b, f, d, &held, &unheld);
        for (unsigned i = 0; i < held + unheld; i++, n++) {
            file_path(b, d, i < held, i < held ? i : i - held, text + (size_t)n * MAX_PATH);
            names[n] = text + (size_t)n * MAX_PATH;
        }
    }
    return names;
}

/* ---- timing ------------------------------------------------------------------------------------ */

static double ms_since(const struct bench *b, const LARGE_INTEGER *t0)
{
    LARGE_INTEGER t1;
    QueryPerformanceCounter(&t1);
    return (double)(t1.QuadPart - t0->QuadPart) * 1000.0 / (double)b->freq.QuadPart;
}

struct spread {
    double median, min, max;
};

static struct spread spread_of(double *v, unsigned n)
{
    struct spread s = {0, 0, 0};
    if (!n)
        return s;
    qsort(v, n, sizeof *v, bench_by_value);
    s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    s.min = v[0];
    s.max = v[n - 1];
    return s;
}

/* ---- the floor ---------------------------------------------------------------------------------- */

struct floor_counts {
    unsigned long handles, file_handles, processes, opened, duplicated, identified;
};

/* PID -> process handle (NULL: could not be opened), so each process is opened once. */
struct pid_map {
    struct pid_slot {
        DWORD pid;
        BOOL used;
        HANDLE process;
    } *slots;
    unsigned cap, count;
};

static struct pid_slot *pid_slot(struct pid_map *m, DWORD pid)
{
    if (2 * (m->count + 1) > m->cap) {
        unsigned cap = m->cap ? 2 * m->cap : 256;
        struct pid_slot *s = calloc(cap, sizeof *s);
        if (!s)
            return NULL;
        for (unsigned i = 0; i < m->cap; i++)
            if (m->slots[i].used) {
                unsigned j = (m->slots[i].pid * 2654435761u) & (cap - 1);
                while (s[j].used)
                    j = (j + 1) & (cap - 1);
                s[j] = m->slots[i];
            }
        free(m->slots);
        m->slots = s;
        m->cap = cap;
    }
    unsigned j = (pid * 2654435761u) & (m->cap - 1);
    while (m->slots[j].used && m->slots[j].pid != pid)
        j = (j + 1) & (m->cap - 1);
    return &m->slots[j];
}

static NTSTATUS snapshot(struct handle_table **out)
{
    ULONG size = 1u << 20, need = 0;
    for (int attempt = 0; attempt < 16; attempt++) {
        struct handle_table *t = malloc(size);
        if (!t)
            return STATUS_NO_MEMORY;
        NTSTATUS st = NtQuerySystemInformation((SYSTEM_INFORMATION_CLASS)SYSTEM_EXTENDED_HANDLE_INFORMATION, t,
                                               size, &need);
        /* A success whose count does not fit the buffer is a "wrong length" answer too. */
        if (st >= 0 && t->count <= (size - offsetof(struct handle_table, entries)) / sizeof(struct handle_entry)) {
            *out = t;
            return st;
        }
        free(t);
        if (st < 0 && st != STATUS_INFO_LENGTH_MISMATCH_)
            return st;
        size = need > size ? need + need / 8 : size * 2;
    }
    return STATUS_INFO_LENGTH_MISMATCH_;
}

/* One pass of the floor. On Wine the identity query never blocks; on Windows a File handle of
 * a synchronous pipe with a read pending could stall it, which RmGetList guards against with
 * its worker and this measurement deliberately does not. */
static int floor_once(const struct bench *b, double *ms, struct floor_counts *c)
{
    LARGE_INTEGER t0;
    QueryPerformanceCounter(&t0);
    memset(c, 0, sizeof *c);
    DWORD self = GetCurrentProcessId();
    struct handle_table *t = NULL;
    NTSTATUS st = snapshot(&t);
    if (st < 0) {
        say("error: handle snapshot failed (status 0x%08lx)\n", (unsigned long)st);
        return 0;
    }
    int type = -1;
    for (ULONG_PTR i = 0; i < t->count && type < 0; i++)
        if (t->entries[i].pid == self && t->entries[i].value == (ULONG_PTR)b->probe)
            type = t->entries[i].type;
    if (type < 0) {
        say("error: our own file handle is not in the snapshot\n");
        free(t);
        return 0;
    }
    struct pid_map map = {0};
    int ok = 1;
    c->handles = (unsigned long)t->count;
    for (ULONG_PTR i = 0; i < t->count && ok; i++) {
        const struct handle_entry *e = &t->entries[i];
        if (e->type != type || e->pid == self)
            continue;
        c->file_handles++;
        struct pid_slot *s = pid_slot(&map, (DWORD)e->pid);
        if (!s) {
            ok = 0;
            break;
        }
        if (!s->used) {
            s->used = TRUE;
            s->pid = (DWORD)e->pid;
            s->process = OpenProcess(PROCESS_DUP_HANDLE, FALSE, (DWORD)e->pid);
            map.count++;
            c->processes++;
            c->opened += s->process != NULL;
        }
        HANDLE dup;
        if (!s->process ||
            !DuplicateHandle(s->process, (HANDLE)e->value, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS))
            continue;
        c->duplicated++;
        BY_HANDLE_FILE_INFORMATION info;
        c->identified += GetFileInformationByHandle(dup, &info) != 0;
        CloseHandle(dup);
    }
    for (unsigned i = 0; i < map.cap; i++)
        if (map.slots[i].used && map.slots[i].process)
            CloseHandle(map.slots[i].process);
    free(map.slots);
    free(t);
    *ms = ms_since(b, &t0);
    if (!ok)
        say("error: out of memory in the floor\n");
    return ok;
}

/* ---- RmGetList ---------------------------------------------------------------------------------- */

struct list_result {
    DWORD err;
    UINT entries;
    unsigned missing; /* expected holders not listed */
    DWORD missing_pid;
};

/* One sizing call, then the timed call that returns the list. */
static void getlist_once(const struct bench *b, DWORD session, unsigned f, RM_PROCESS_INFO **buf, UINT *cap,
                         double *sizing_ms, double *ms, struct list_result *r)
{
    memset(r, 0, sizeof *r);
    for (int attempt = 0; attempt < 4; attempt++) {
        UINT needed = 0, n = 0;
        DWORD reasons = 0;
        LARGE_INTEGER t0;
        QueryPerformanceCounter(&t0);
        r->err = RmGetList(session, &needed, &n, NULL, &reasons);
        *sizing_ms = ms_since(b, &t0);
        if (r->err != ERROR_SUCCESS && r->err != ERROR_MORE_DATA)
            return;
        if (needed + 16 > *cap) {
            RM_PROCESS_INFO *more = realloc(*buf, (needed + 16) * sizeof *more);
            if (!more) {
                r->err = ERROR_OUTOFMEMORY;
                return;
            }
            *buf = more;
            *cap = needed + 16;
        }
        n = *cap;
        QueryPerformanceCounter(&t0);
        r->err = RmGetList(session, &needed, &n, *buf, &reasons);
        *ms = ms_since(b, &t0);
        if (r->err == ERROR_MORE_DATA)
            continue; /* the list grew between the calls: size again */
        if (r->err != ERROR_SUCCESS)
            return;
        r->entries = n;
        for (unsigned d = 0; d < b->nholders; d++) {
            unsigned held, unheld;
            quota(b, f, d, &held, &unheld);
            if (!held)
                continue; /* none of its files is registered */
            UINT i = 0;
            while (i < n && (*buf)[i].Process.dwProcessId != b->holders[d].dwProcessId)
                i++;
            if (i == n) {
                r->missing++;
                r->missing_pid = b->holders[d].dwProcessId;
            }
        }
        return;
    }
}

/* ---- one file count ------------------------------------------------------------------------------- */

/* One session with F files registered, and what its rounds measured. */
struct run {
    unsigned f, expected; /* holders with registered files: all must be listed */
    LPCWSTR *names;
    DWORD session;
    double register_ms;
    double *floor_ms, *list_ms, *sizing_ms;
    RM_PROCESS_INFO *buf;
    UINT cap, entries;
    BOOL have_list;
    unsigned bad_calls, odd_counts;
    struct list_result bad;
    struct floor_counts fc;
    struct spread list, floor;
};

static int run_open(const struct bench *b, unsigned f, struct run *u)
{
    memset(u, 0, sizeof *u);
    u->f = f;
    for (unsigned d = 0; d < b->procs; d++) {
        unsigned held, unheld;
        quota(b, f, d, &held, &unheld);
        u->expected += held > 0;
    }
    u->names = registered_names(b, f);
    u->floor_ms = calloc(b->reps, sizeof *u->floor_ms);
    u->list_ms = calloc(b->reps, sizeof *u->list_ms);
    u->sizing_ms = calloc(b->reps, sizeof *u->sizing_ms);
    if (!u->names || !u->floor_ms || !u->list_ms || !u->sizing_ms) {
        say("error: out of memory\n");
        return 0;
    }
    WCHAR key[CCH_RM_SESSION_KEY + 1];
    DWORD err = RmStartSession(&u->session, 0, key);
    if (err) {
        u->session = 0;
        say("error: RmStartSession failed (%lu)\n", err);
        return 0;
    }
    LARGE_INTEGER t0;
    QueryPerformanceCounter(&t0);
    for (unsigned i = 0; i < f; i += REGISTER_BATCH) {
        UINT n = f - i < REGISTER_BATCH ? f - i : REGISTER_BATCH;
        if ((err = RmRegisterResources(u->session, n, u->names + i, 0, NULL, 0, NULL)) != ERROR_SUCCESS) {
            say("error: RmRegisterResources failed (%lu)\n", err);
            return 0;
        }
    }
    u->register_ms = ms_since(b, &t0);
    u->have_list = TRUE;
    return 1;
}

/* One floor and one RmGetList, stored at index r. */
static int run_round(const struct bench *b, struct run *u, unsigned r)
{
    if (!floor_once(b, &u->floor_ms[r], &u->fc))
        return 0;
    if (!u->have_list)
        return 1;
    struct list_result lr;
    getlist_once(b, u->session, u->f, &u->buf, &u->cap, &u->sizing_ms[r], &u->list_ms[r], &lr);
    if (lr.err == ERROR_CALL_NOT_IMPLEMENTED) {
        u->have_list = FALSE; /* not there yet: the floor alone is still worth measuring */
        return 1;
    }
    if (lr.err != ERROR_SUCCESS) {
        say("error: RmGetList failed with F=%u (%lu)\n", u->f, lr.err);
        u->have_list = FALSE;
        return 0;
    }
    if (lr.missing) {
        u->bad_calls++;
        u->bad = lr;
    }
    u->odd_counts += lr.entries != u->expected;
    u->entries = lr.entries;
    return 1;
}

static void run_report(const struct bench *b, struct run *u)
{
    u->floor = spread_of(u->floor_ms, b->reps);
    if (u->have_list) {
        struct spread sizing = spread_of(u->sizing_ms, b->reps);
        u->list = spread_of(u->list_ms, b->reps);
        say("F=%u P=%u K=%u: RmGetList median %.1f ms, floor median %.1f ms, ratio %.2f%s\n", u->f, b->procs,
            b->per_proc, u->list.median, u->floor.median, u->list.median / u->floor.median,
            u->f == file_counts[NCOUNTS - 1] ? " (target <= " TARGET_TEXT ")" : "");
        say("  RmGetList %.1f..%.1f ms, sizing call median %.1f ms; entries returned %u (%u holders expected, "
            "%s)\n",
            u->list.min, u->list.max, sizing.median, u->entries, u->expected,
            u->bad_calls ? "NOT all listed" : "all listed");
        if (u->bad_calls)
            say("WARNING: F=%u: in %u of %u calls RmGetList missed %u holder(s), e.g. PID %lu\n", u->f,
                u->bad_calls, b->reps + 1, u->bad.missing, u->bad.missing_pid);
        if (u->odd_counts)
            say("WARNING: F=%u: %u of %u calls returned a number of entries other than %u\n", u->f, u->odd_counts,
                b->reps + 1, u->expected);
    } else {
        say("F=%u P=%u K=%u: RmGetList not implemented yet (error %u), floor median %.1f ms\n", u->f, b->procs,
            b->per_proc, (unsigned)ERROR_CALL_NOT_IMPLEMENTED, u->floor.median);
    }
    say("  floor %.1f..%.1f ms: %lu handles, %lu File handles in %lu other processes (%lu opened), "
        "%lu duplicated, %lu identified; registration %.1f ms\n",
        u->floor.min, u->floor.max, u->fc.handles, u->fc.file_handles, u->fc.processes, u->fc.opened,
        u->fc.duplicated, u->fc.identified, u->register_ms);
}

static void run_close(struct run *u)
{
    if (u->session)
        RmEndSession(u->session);
    free(u->buf);
    free(u->names);
    free(u->floor_ms);
    free(u->list_ms);
    free(u->sizing_ms);
    memset(u, 0, sizeof *u);
}

/* Both sessions stay open and their rounds alternate, so whatever else the machine does
 * meanwhile weighs on each F alike. Round 0 warms up and is not counted: first calls load
 * DLLs and fill caches. */
static int measure(const struct bench *b, struct run *runs)
{
    int ok = 1;
    for (unsigned i = 0; ok && i < NCOUNTS; i++)
        ok = run_open(b, file_counts[i], &runs[i]);
    for (unsigned round = 0; ok && round <= b->reps; round++)
        for (unsigned i = 0; ok && i < NCOUNTS; i++)
            ok = run_round(b, &runs[i], round ? round - 1 : 0);
    for (unsigned i = 0; ok && i < NCOUNTS; i++)
        run_report(b, &runs[i]);
    return ok;
}


/* ---- mixed bitness: the same holders listed by both DLLs ------------------------------------------ */

#define MIXED_FILES 100u

/* The --list role: one session with the first F files of ROOT's tree registered, a warm-up
 * call and N timed ones; the median and the entries of the last call go to OUT. */
static int list_role(const WCHAR *root, unsigned procs, unsigned per_proc, unsigned f, unsigned reps,
                     const WCHAR *out)
{
    struct bench b;
    struct run u;
    memset(&b, 0, sizeof b);
    b.procs = procs;
    b.per_proc = per_proc;
    b.reps = reps;
    QueryPerformanceFrequency(&b.freq);
    _snwprintf(b.root, MAX_PATH, L"%ls", root);
    b.root[MAX_PATH - 1] = 0;
    int ok = run_open(&b, f, &u);
    for (unsigned r = 0; ok && r <= reps; r++) {
        struct list_result lr;
        getlist_once(&b, u.session, f, &u.buf, &u.cap, &u.sizing_ms[r ? r - 1 : 0], &u.list_ms[r ? r - 1 : 0], &lr);
        ok = lr.err == ERROR_SUCCESS;
        u.entries = lr.entries;
    }
    if (ok) {
        u.list = spread_of(u.list_ms, reps);
        FILE *fp = _wfopen(out, L"w");
        ok = fp && fprintf(fp, "%.3f %.3f %.3f %u\n", u.list.median, u.list.min, u.list.max, u.entries) > 0;
        if (fp)
            fclose(fp);
    }
    run_close(&u);
    return ok ? 0 : 1;
}

/* This process's DLL and the other architecture's, on the same holders (half of them of each
 * bitness): the x86 DLL under WOW64 asks its native helper about the 64-bit ones. */
static int measure_mixed(struct bench *b)
{
    struct run u;
    WCHAR out[MAX_PATH], *cmd = malloc(4 * MAX_PATH * sizeof *cmd);
    PROCESS_INFORMATION pi;
    unsigned entries = 0;
    double median = 0, lo = 0, hi = 0;
    int ok = cmd && run_open(b, MIXED_FILES, &u);
    for (unsigned r = 0; ok && r <= b->reps; r++) {
        struct list_result lr;
        getlist_once(b, u.session, MIXED_FILES, &u.buf, &u.cap, &u.sizing_ms[r ? r - 1 : 0],
                     &u.list_ms[r ? r - 1 : 0], &lr);
        ok = lr.err == ERROR_SUCCESS;
        u.entries = lr.entries;
        u.bad_calls += lr.missing > 0;
    }
    _snwprintf(out, MAX_PATH, L"%ls\\other.txt", b->root);
    out[MAX_PATH - 1] = 0;
    if (ok) {
        _snwprintf(cmd, 4 * MAX_PATH, L"\"%ls\" --list \"%ls\" %u %u %u %u \"%ls\"", b->other, b->root, b->procs,
                   b->per_proc, MIXED_FILES, b->reps, out);
        cmd[4 * MAX_PATH - 1] = 0;
        ok = bench_start(b->other, cmd, "lister", 0, &pi);
    }
    if (ok) {
        DWORD code = 1;
        ok = WaitForSingleObject(pi.hProcess, 600000) == WAIT_OBJECT_0 && GetExitCodeProcess(pi.hProcess, &code) &&
             code == 0;
        if (!ok)
            TerminateProcess(pi.hProcess, 1);
        CloseHandle(pi.hProcess);
        FILE *fp = ok ? _wfopen(out, L"r") : NULL;
        ok = fp && fscanf(fp, "%lf %lf %lf %u", &median, &lo, &hi, &entries) == 4;
        if (fp)
            fclose(fp);
        DeleteFileW(out);
        if (!ok)
            say("error: the other architecture's bench_getlist could not list\n");
    }
    if (ok) {
        u.list = spread_of(u.list_ms, b->reps);
        double x64 = sizeof(void *) == 8 ? u.list.median : median, x86 = sizeof(void *) == 8 ? median : u.list.median;
        say("mixed bitness, P=%u holders (%u of each bitness) K=%u F=%u:\n", b->procs, b->procs / 2, b->per_proc,
            MIXED_FILES);
        say("  this DLL (%s): RmGetList median %.1f ms (%.1f..%.1f), %u entries%s\n", sizeof(void *) == 8 ? "x64" : "x86",
            u.list.median, u.list.min, u.list.max, u.entries, u.bad_calls ? ", NOT all listed" : "");
        say("  other DLL (%s): RmGetList median %.1f ms (%.1f..%.1f), %u entries\n", sizeof(void *) == 8 ? "x86" : "x64",
            median, lo, hi, entries);
        say("x86/x64 = %.2f (target <= " TARGET_TEXT ")%s\n", x86 / x64,
            entries != u.entries ? "; WARNING: the two DLLs listed different numbers of entries" : "");
    }
    run_close(&u);
    free(cmd);
    return ok;
}

/* ---- main ------------------------------------------------------------------------------------------ */

static int usage(void)
{
    say("usage: bench_getlist [--procs P] [--files-per-proc K] [--reps N] [--mixed OTHER_BENCH_EXE]\n"
        "  defaults: P=%u K=%u N=%u; measures F = 100 and F = 10000 registered files\n"
        "  --mixed: half the holders run OTHER_BENCH_EXE (the other architecture's bench_getlist.exe);\n"
        "  F = 100 is listed by this DLL and by that program's, and x86/x64 is printed\n",
        DEFAULT_PROCS, DEFAULT_PER_PROC, DEFAULT_REPS);
    return 2;
}

int wmain(int argc, WCHAR **argv)
{
    unsigned k, pid;
    if (argc == 6 && !wcscmp(argv[1], L"--hold")) {
        if (!bench_number(argv[3], 1, 1000000, &k) || !bench_number(argv[4], 1, 0xffffffffu, &pid))
            return 2;
        return hold(argv[2], k, pid, argv[5]);
    }
    if (argc == 8 && !wcscmp(argv[1], L"--list")) {
        unsigned p, f, n;
        if (!bench_number(argv[3], 1, 1000, &p) || !bench_number(argv[4], 1, 100000, &k) ||
            !bench_number(argv[5], 1, 1000000, &f) || !bench_number(argv[6], 1, 1000, &n))
            return 2;
        return list_role(argv[2], p, k, f, n, argv[7]);
    }

    struct bench b;
    memset(&b, 0, sizeof b);
    b.procs = DEFAULT_PROCS;
    b.per_proc = DEFAULT_PER_PROC;
    b.reps = DEFAULT_REPS;
    int mixed = 0;
    for (int i = 1; i < argc; i += 2) {
        if (!wcscmp(argv[i], L"--mixed") && i + 1 < argc) {
            b.other = argv[i + 1];
            mixed = 1;
            continue;
        }
        unsigned *v = !wcscmp(argv[i], L"--procs")            ? &b.procs
                      : !wcscmp(argv[i], L"--files-per-proc") ? &b.per_proc
                      : !wcscmp(argv[i], L"--reps")           ? &b.reps
                                                              : NULL;
        if (!v || i + 1 >= argc || !bench_number(argv[i + 1], 1, v == &b.per_proc ? 100000 : 1000, v))
            return usage();
    }
    QueryPerformanceFrequency(&b.freq);

    LARGE_INTEGER t0;
    QueryPerformanceCounter(&t0);
    int ok = make_tree(&b);
    if (ok)
        say("tree %ls: %u directories, %u held + %u unheld files each, made in %.0f ms\n", b.root, b.procs,
            b.per_proc, b.unheld, ms_since(&b, &t0));
    QueryPerformanceCounter(&t0);
    if (ok && (ok = start_holders(&b)))
        say("%u holders ready in %.0f ms, %u files open each\n", b.procs, ms_since(&b, &t0), b.per_proc);

    struct run runs[NCOUNTS];
    memset(runs, 0, sizeof runs);
    if (ok && mixed) {
        ok = measure_mixed(&b);
        stop_holders(&b);
        remove_tree(&b);
        return ok ? 0 : 1;
    }
    if (ok)
        ok = measure(&b, runs);
    const struct run *lo = &runs[0], *hi = &runs[NCOUNTS - 1];
    if (ok && lo->have_list && hi->have_list)
        say("time(F=%u)/time(F=%u) = %.2f (target <= " TARGET_TEXT ")\n", hi->f, lo->f,
            hi->list.median / lo->list.median);
    if (ok && lo->have_list && hi->have_list)
        say("targets: ratio at F=%u %s, growth from F=%u %s\n", hi->f,
            hi->list.median / hi->floor.median <= TARGET ? "met" : "MISSED", lo->f,
            hi->list.median / lo->list.median <= TARGET ? "met" : "MISSED");
    for (unsigned i = 0; i < NCOUNTS; i++)
        run_close(&runs[i]);

    stop_holders(&b);
    remove_tree(&b);
    return ok ? 0 : 1;
}
