/*
 * The native half of a 32-bit caller under WOW64 (see native.h).
 *
 * The report, one pipe of 32-bit little-endian words (strings padded to a word):
 *   "RMN1" <version>
 *   per process: "PROC" pid start.lo start.hi have ncmd ndir nregions
 *                cmd[ncmd] dir[ndir] (WCHARs with their NUL; 0 when not read)
 *                per region: type nname name[nname] (with its NUL)
 *   "DONE"
 *
 * SPDX-License-Identifier: MIT
 */
#include "native.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "params.h"
#include "sys/sys.h"
#include "walker.h"

#define TAG_MAGIC 0x314E4D52u /* "RMN1" */
#define TAG_PROC 0x434F5250u  /* "PROC" */
#define TAG_DONE 0x454E4F44u  /* "DONE" */
#define PROTOCOL_VERSION 1u

/* The helper's first words must arrive within this (a 64-bit process starting), and then each
 * process's report within the stall limit: the helper's own walks give up on a process that
 * stops answering after RM_QUERY_TIMEOUT_MS without progress. */
#define RM_NATIVE_START_MS 10000u
#define RM_NATIVE_STALL_MS 5000u
/* A report larger than this is not one we asked for. */
#define RM_NATIVE_MAX_BYTES ((size_t)64 << 20)
#define RM_NATIVE_PIPE_BYTES (256u * 1024u)

struct rm_native_chunk {
    struct rm_native_chunk *next;
    size_t size;
    uint32_t words[]; /* the report as read */
};

/* ---- the caller's side -------------------------------------------------------------------- */

/* Set once a helper has failed to answer: for the rest of this process, none is started. */
static volatile LONG native_missing;

static BOOL self_wow64(void)
{
    BOOL wow = FALSE;
    return rm_sys.IsWow64Process(RM_CURRENT_PROCESS, &wow) && wow;
}

/* <windir>\Sysnative\rundll32.exe (the native one, as a 32-bit process must name it) and
 * <windir>\System32\rstrtmgr.dll (as the 64-bit helper names the native DLL). */
static BOOL native_paths(WCHAR *rundll, WCHAR *dll)
{
    WCHAR windir[MAX_PATH];
    UINT n = rm_sys.GetSystemWindowsDirectoryW(windir, MAX_PATH);
    if (!n || n >= MAX_PATH - 32)
        return FALSE;
    if (windir[n - 1] == '\\')
        windir[--n] = 0;
    _snwprintf(rundll, MAX_PATH, L"%ls\\Sysnative\\rundll32.exe", windir);
    _snwprintf(dll, MAX_PATH, L"%ls\\System32\\rstrtmgr.dll", windir);
    rundll[MAX_PATH - 1] = dll[MAX_PATH - 1] = 0;
    return TRUE;
}

static void close_job_handles(struct rm_native_job *j)
{
    if (j->helper)
        rm_sys.CloseHandle(j->helper);
    if (j->read)
        rm_sys.CloseHandle(j->read);
    if (j->write)
        rm_sys.CloseHandle(j->write);
    j->helper = j->read = j->write = NULL;
}

/* Starts the helper on the next batch of PIDs. */
static DWORD start_batch(struct rm_native_job *j)
{
    WCHAR rundll[MAX_PATH], dll[MAX_PATH];
    uint32_t n = j->npids - j->next < RM_NATIVE_BATCH ? j->npids - j->next : RM_NATIVE_BATCH;
    const DWORD *pids = j->pids + j->next;
    j->next += n;
    if (InterlockedCompareExchange(&native_missing, 0, 0))
        return ERROR_SUCCESS;
    if (!native_paths(rundll, dll) || !rm_sys.CreatePipe(&j->read, &j->write, NULL, RM_NATIVE_PIPE_BYTES)) {
        j->read = j->write = NULL;
        return ERROR_SUCCESS;
    }
    size_t cap = 64 + (size_t)n * 11;
    WCHAR *args = rm_sys.alloc(cap * sizeof *args);
    if (!args) {
        close_job_handles(j);
        return ERROR_OUTOFMEMORY;
    }
    int at = _snwprintf(args, cap, L"native %lu %llx %u", (unsigned long)rm_sys.GetCurrentProcessId(),
                        (unsigned long long)(ULONG_PTR)j->write, j->what);
    for (uint32_t i = 0; i < n && at > 0; i++)
        at += _snwprintf(args + at, cap - (size_t)at, L" %lu", (unsigned long)pids[i]);
    if (at <= 0 || !rm_spawn_helper(rundll, dll, args, &j->helper)) {
        rm_trace("native: cannot start the 64-bit helper (%ls): what 64-bit processes map stays unknown", rundll);
        j->helper = NULL;
    }
    rm_sys.free(args);
    return ERROR_SUCCESS;
}

static int missing(NTSTATUS st)
{
    return st == RM_STATUS_NOT_IMPLEMENTED || st == RM_STATUS_PROCEDURE_NOT_FOUND;
}

/* Does the OS give this WOW64 process its own reach into 64-bit ones (Windows does; Wine 8
 * has NtWow64ReadVirtualMemory64 only)? Asked of the OS, on ourselves. */
static int os_reach(void)
{
    MEMORY_BASIC_INFORMATION64 mbi;
    BYTE info[64];
    ULONG64 ret = 0;
    NTSTATUS q = rm_sys.NtWow64QueryVirtualMemory64(RM_CURRENT_PROCESS, 0, 0, &mbi, sizeof mbi, &ret);
    NTSTATUS i = rm_sys.NtWow64QueryInformationProcess64(RM_CURRENT_PROCESS, ProcessBasicInformation, info,
                                                         sizeof info, NULL);
    return !missing(q) && !missing(i);
}

static DWORD local_report(struct rm_native_job *j, struct rm_native_report *out);

DWORD rm_native_begin(struct rm_native_job *j, const DWORD *pids, uint32_t n, uint32_t what)
{
    memset(j, 0, sizeof *j);
    j->pids = pids;
    j->npids = self_wow64() ? n : 0; /* only a WOW64 caller has a native half to ask */
    j->what = what;
    if (!j->npids)
        return ERROR_SUCCESS;
    if ((j->local = os_reach()) != 0)
        return ERROR_SUCCESS; /* no helper: rm_native_end reads them itself */
    return start_batch(j);
}

BOOL rm_native_active(const struct rm_native_job *j)
{
    return j->local || j->helper;
}

/* Everything the helper wrote, into a chunk; NULL when it wrote nothing usable. */
static struct rm_native_chunk *read_report(struct rm_native_job *j, int *oom)
{
    size_t cap = (size_t)64 * 1024, size = 0;
    struct rm_native_chunk *c = rm_sys.alloc(sizeof *c + cap);
    if (!c) {
        *oom = 1;
        return NULL;
    }
    ULONGLONG last = GetTickCount64();
    DWORD limit = RM_NATIVE_START_MS;
    BOOL exited = FALSE;
    for (;;) {
        DWORD avail = 0, got = 0;
        if (!rm_sys.PeekNamedPipe(j->read, NULL, 0, NULL, &avail, NULL))
            break; /* every writer is gone and the pipe is empty */
        if (avail) {
            if (size + avail > RM_NATIVE_MAX_BYTES) {
                rm_trace("native: the helper's report exceeds %u MiB: ignored", (unsigned)(RM_NATIVE_MAX_BYTES >> 20));
                size = 0;
                break;
            }
            if (size + avail > cap) {
                size_t ncap = cap * 2 > size + avail ? cap * 2 : size + avail;
                struct rm_native_chunk *bigger = rm_sys.alloc(sizeof *c + ncap);
                if (!bigger) {
                    *oom = 1;
                    size = 0;
                    break;
                }
                memcpy(bigger->words, c->words, size);
                rm_sys.free(c);
                c = bigger;
                cap = ncap;
            }
            if (!rm_sys.ReadFile(j->read, (BYTE *)c->words + size, avail, &got, NULL))
                break;
            size += got;
            last = GetTickCount64();
            if (j->write) {
                /* The helper has its own copy of the write end: ours goes, so that its exit,
                 * however it happens, ends the pipe. */
                rm_sys.CloseHandle(j->write);
                j->write = NULL;
                limit = RM_NATIVE_STALL_MS;
            }
            continue;
        }
        if (exited)
            break;
        if (rm_sys.WaitForSingleObject(j->helper, 20) == WAIT_OBJECT_0) {
            exited = TRUE; /* drain what it left, then stop */
            continue;
        }
        if (GetTickCount64() - last > limit) {
            rm_trace("native: the 64-bit helper made no progress for %lu ms: ended", (unsigned long)limit);
            rm_sys.TerminateProcess(j->helper, ERROR_TIMEOUT);
            rm_sys.WaitForSingleObject(j->helper, 5000);
            break;
        }
    }
    c->size = size;
    c->next = NULL;
    if (!size) {
        rm_sys.free(c);
        return NULL;
    }
    return c;
}

struct reader {
    const uint32_t *w;
    size_t n, at;
    int bad;
};

static uint32_t word(struct reader *r)
{
    if (r->at >= r->n) {
        r->bad = 1;
        return 0;
    }
    return r->w[r->at++];
}

/* `units` WCHARs ending in NUL, padded to a word; NULL if they are not there. */
static const WCHAR *text(struct reader *r, uint32_t units)
{
    size_t words = ((size_t)units + 1) / 2;
    if (!units || units > RM_NT_NAME_MAX || words > r->n - r->at) {
        r->bad = 1;
        return NULL;
    }
    const WCHAR *s = (const WCHAR *)(const void *)(r->w + r->at);
    r->at += words;
    if (s[units - 1] != 0) {
        r->bad = 1;
        return NULL;
    }
    return s;
}

static int add_proc(struct rm_native_report *out, uint32_t *cap, const struct rm_native_proc *p)
{
    if (out->count == *cap) {
        uint32_t ncap = *cap ? *cap * 2 : 16;
        struct rm_native_proc *n = rm_sys.alloc(ncap * sizeof *n);
        if (!n)
            return -1;
        if (out->count)
            memcpy(n, out->procs, out->count * sizeof *n);
        rm_sys.free(out->procs);
        out->procs = n;
        *cap = ncap;
    }
    out->procs[out->count++] = *p;
    return 0;
}

/* Parses a chunk into out; a record cut short or malformed ends the parse (the records before
 * it stand). 1 parsed, 0 not a report of ours, -1 out of memory. */
static int parse(const struct rm_native_chunk *c, struct rm_native_report *out, uint32_t *cap)
{
    struct reader r = {c->words, c->size / 4, 0, 0};
    if (word(&r) != TAG_MAGIC || word(&r) != PROTOCOL_VERSION) {
        rm_trace("native: the helper did not answer as this version of rstrtmgr does");
        return 0;
    }
    for (;;) {
        uint32_t tag = word(&r);
        if (r.bad || tag != TAG_PROC)
            return 1; /* DONE, or the end of what arrived */
        struct rm_native_proc p;
        memset(&p, 0, sizeof p);
        p.pid = word(&r);
        p.start.dwLowDateTime = word(&r);
        p.start.dwHighDateTime = word(&r);
        p.have = word(&r) & (RM_NATIVE_WALK | RM_NATIVE_PARAMS);
        uint32_t ncmd = word(&r), ndir = word(&r), nregions = word(&r);
        if (r.bad || nregions > RM_WALK_MAX_REGIONS)
            return 1;
        if (ncmd)
            p.cmd = text(&r, ncmd);
        if (ndir)
            p.dir = text(&r, ndir);
        if (!p.cmd || !p.dir)
            p.have &= ~RM_NATIVE_PARAMS;
        if (nregions && !(p.regions = rm_sys.alloc(nregions * sizeof *p.regions)))
            return -1;
        for (uint32_t i = 0; i < nregions && !r.bad; i++) {
            p.regions[i].type = word(&r);
            uint32_t len = word(&r);
            p.regions[i].name = text(&r, len);
            p.regions[i].len = len ? len - 1 : 0;
            if (p.regions[i].type != MEM_IMAGE && p.regions[i].type != MEM_MAPPED)
                r.bad = 1;
        }
        p.nregions = nregions;
        if (r.bad) {
            rm_sys.free(p.regions);
            return 1;
        }
        if (add_proc(out, cap, &p) < 0) {
            rm_sys.free(p.regions);
            return -1;
        }
    }
}

/* Takes the chunk into out (which then owns it) and parses it. */
static int take_chunk(struct rm_native_chunk *c, struct rm_native_report *out)
{
    uint32_t cap = out->count;
    c->next = out->chunks;
    out->chunks = c;
    return parse(c, out, &cap);
}

int rm_native_parse(const void *bytes, size_t size, struct rm_native_report *out)
{
    struct rm_native_chunk *c = rm_sys.alloc(sizeof *c + (size ? size : 1));
    if (!c)
        return -1;
    if (size)
        memcpy(c->words, bytes, size);
    c->size = size;
    return take_chunk(c, out);
}

DWORD rm_native_end(struct rm_native_job *j, struct rm_native_report *out)
{
    int oom = 0;
    if (j->local)
        return local_report(j, out);
    while (j->npids) {
        if (j->helper) {
            struct rm_native_chunk *c = read_report(j, &oom);
            int parsed = c ? take_chunk(c, out) : 0;
            if (parsed < 0)
                oom = 1;
            if (!parsed && !oom) {
                /* Not there or not ours (Wine's builtin DLL has no helper entry): asking again
                 * would only cost the same wait each time. */
                InterlockedExchange(&native_missing, 1);
                rm_trace("native: no 64-bit rstrtmgr.dll of this version answers in the native system directory: "
                         "64-bit processes are seen only as far as a 32-bit process can see them");
            }
        }
        close_job_handles(j);
        if (oom || j->next >= j->npids || start_batch(j) != ERROR_SUCCESS)
            break;
    }
    close_job_handles(j);
    return oom ? ERROR_OUTOFMEMORY : ERROR_SUCCESS;
}

DWORD rm_native_query(const DWORD *pids, uint32_t n, uint32_t what, struct rm_native_report *out)
{
    struct rm_native_job j;
    DWORD err = rm_native_begin(&j, pids, n, what);
    DWORD end = rm_native_end(&j, out);
    return err ? err : end;
}

const struct rm_native_proc *rm_native_find(const struct rm_native_report *r, DWORD pid, const FILETIME *start)
{
    for (uint32_t i = 0; r && i < r->count; i++)
        if (r->procs[i].pid == pid && r->procs[i].start.dwLowDateTime == start->dwLowDateTime &&
            r->procs[i].start.dwHighDateTime == start->dwHighDateTime)
            return &r->procs[i];
    return NULL;
}

void rm_native_report_free(struct rm_native_report *r)
{
    for (uint32_t i = 0; i < r->count; i++)
        rm_sys.free(r->procs[i].regions);
    rm_sys.free(r->procs);
    while (r->chunks) {
        struct rm_native_chunk *next = r->chunks->next;
        rm_sys.free(r->chunks);
        r->chunks = next;
    }
    memset(r, 0, sizeof *r);
}

/* ---- the helper's side ---------------------------------------------------------------------- */

struct out {
    uint32_t *w;
    size_t n, cap;
    int oom;
};

static void put(struct out *o, const void *data, size_t bytes)
{
    size_t words = (bytes + 3) / 4;
    if (o->oom)
        return;
    if (o->n + words > o->cap) {
        size_t ncap = o->cap * 2 > o->n + words ? o->cap * 2 : o->n + words + 1024;
        uint32_t *bigger = rm_sys.alloc(ncap * 4);
        if (!bigger) {
            o->oom = 1;
            return;
        }
        if (o->n)
            memcpy(bigger, o->w, o->n * 4);
        rm_sys.free(o->w);
        o->w = bigger;
        o->cap = ncap;
    }
    o->w[o->n + words - 1] = 0; /* the padding */
    memcpy(o->w + o->n, data, bytes);
    o->n += words;
}

static void put_word(struct out *o, uint32_t v)
{
    put(o, &v, 4);
}

static BOOL flush(HANDLE pipe, struct out *o)
{
    const BYTE *p = (const BYTE *)o->w;
    size_t left = o->n * 4;
    while (left) {
        DWORD done = 0, chunk = left > (1u << 20) ? (1u << 20) : (DWORD)left;
        if (!rm_sys.WriteFile(pipe, p, chunk, &done, NULL) || !done)
            return FALSE;
        p += done;
        left -= done;
    }
    o->n = 0;
    return TRUE;
}

/* A region's record: type, units with the NUL, the name padded to a word. */
static void put_region(struct out *o, uint32_t type, const WCHAR *name, uint32_t units)
{
    put_word(o, type);
    put_word(o, units + 1);
    put(o, name, (size_t)units * 2);
    /* the NUL: a whole word when the name ended on one, else it sits in the padding */
    if (units % 2 == 0)
        put_word(o, 0);
}

/* How the reporting process reaches the target: natively (the helper: the watched walk), or
 * through the OS's 64-bit reach from WOW64 (the caller itself, where the OS gives it). */
struct reach {
    int wow64;
    struct rm_walker *w;
    struct rm_region *regions;
    struct rm_name_buf *names;
};

#define RM_NAME64_BYTES (16u + 2u * RM_NT_NAME_MAX + 16u)

/* The regions of a 64-bit process through NtWow64QueryVirtualMemory64, region by region: the
 * OS answers these itself (nothing runs in the target, so nothing can stall there). 0 when
 * the walk could not be whole. */
static int walk64(struct out *body, HANDLE p, uint32_t *sent)
{
    BYTE *name = rm_sys.alloc(RM_NAME64_BYTES);
    MEMORY_BASIC_INFORMATION64 mbi;
    ULONG64 at = 0, last = ~(ULONG64)0;
    if (!name)
        return 0;
    for (uint32_t steps = 0; steps < 4u * RM_WALK_MAX_REGIONS && *sent < RM_WALK_MAX_REGIONS; steps++) {
        ULONG64 ret = 0;
        if (rm_sys.NtWow64QueryVirtualMemory64(p, at, 0 /* MemoryBasicInformation */, &mbi, sizeof mbi, &ret) < 0)
            break; /* past the last region */
        if ((mbi.Type == MEM_IMAGE || mbi.Type == MEM_MAPPED) && mbi.AllocationBase != last) {
            last = mbi.AllocationBase;
            /* UNICODE_STRING64 first (Length, MaximumLength, padding, Buffer), the name after it */
            if (rm_sys.NtWow64QueryVirtualMemory64(p, mbi.AllocationBase, 2 /* MemoryMappedFilenameInformation */,
                                                   name, RM_NAME64_BYTES, &ret) >= 0) {
                USHORT len;
                ULONG64 buffer;
                memcpy(&len, name, sizeof len);
                memcpy(&buffer, name + 8, sizeof buffer);
                ULONG_PTR lo = (ULONG_PTR)(name + 16), hi = (ULONG_PTR)(name + RM_NAME64_BYTES);
                if (len && len % 2 == 0 && buffer >= lo && buffer <= hi && len <= hi - buffer) {
                    put_region(body, mbi.Type, (const WCHAR *)(ULONG_PTR)buffer, len / 2u);
                    (*sent)++;
                }
            }
        }
        ULONG64 next = mbi.BaseAddress + mbi.RegionSize;
        if (next <= at)
            break;
        at = next;
    }
    rm_sys.free(name);
    return 1;
}

/* One process's record. */
static void report_one(struct out *o, const struct reach *reach, DWORD pid, uint32_t what)
{
    HANDLE p = rm_sys.OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, pid);
    FILETIME start = {0}, e, k, u;
    if (!p || !rm_sys.GetProcessTimes(p, &start, &e, &k, &u)) {
        if (p)
            rm_sys.CloseHandle(p);
        return; /* gone, or not ours to look at: not reported, the caller says so */
    }
    uint32_t have = 0;
    WCHAR *cmd = NULL, *dir = NULL;
    if ((what & RM_NATIVE_PARAMS) &&
        (reach->wow64 ? rm_process_params64(p, &cmd, &dir) : rm_process_params(p, &cmd, &dir)) == ERROR_SUCCESS)
        have |= RM_NATIVE_PARAMS;
    /* Names first, so the record's count is the number of names actually sent. */
    struct out body = {0};
    uint32_t sent = 0;
    if ((what & RM_NATIVE_WALK) && reach->wow64) {
        if (walk64(&body, p, &sent))
            have |= RM_NATIVE_WALK;
    } else if ((what & RM_NATIVE_WALK) && reach->regions) {
        rm_walker_begin(reach->w, p, pid);
        LONG nregions = rm_walker_end(reach->w);
        if (nregions >= 0)
            have |= RM_NATIVE_WALK;
        for (LONG i = 0; i < nregions; i++) {
            const UNICODE_STRING *name = rm_mapped_name(reach->names, p, reach->regions[i].base);
            if (!name)
                continue;
            put_region(&body, reach->regions[i].type, name->Buffer, name->Length / 2u);
            sent++;
        }
    }
    uint32_t ncmd = cmd ? (uint32_t)wcslen(cmd) + 1 : 0, ndir = dir ? (uint32_t)wcslen(dir) + 1 : 0;
    uint32_t head[8] = {TAG_PROC, pid, start.dwLowDateTime, start.dwHighDateTime, have, ncmd, ndir, sent};
    if (body.oom || (reach->names && reach->names->oom)) {
        head[4] &= ~RM_NATIVE_WALK; /* a region went unnamed: the walk is not whole */
        head[7] = sent = 0;
    }
    put(o, head, sizeof head);
    if (ncmd)
        put(o, cmd, (size_t)ncmd * 2);
    if (ndir)
        put(o, dir, (size_t)ndir * 2);
    if (sent)
        put(o, body.w, body.n * 4);
    rm_sys.free(body.w);
    rm_sys.free(cmd);
    rm_sys.free(dir);
    rm_sys.CloseHandle(p);
}

void rm_native_helper_main(const WCHAR *args)
{
    WCHAR *end;
    DWORD caller = (DWORD)wcstoul(args, &end, 10);
    ULONG_PTR value = (ULONG_PTR)wcstoull(end, &end, 16);
    uint32_t what = (uint32_t)wcstoul(end, &end, 10);
    HANDLE parent = caller ? rm_sys.OpenProcess(PROCESS_DUP_HANDLE, FALSE, caller) : NULL;
    HANDLE pipe = NULL;
    if (!parent)
        return;
    BOOL ok = rm_sys.DuplicateHandle(parent, (HANDLE)value, RM_CURRENT_PROCESS, &pipe, 0, FALSE,
                                     DUPLICATE_SAME_ACCESS);
    rm_sys.CloseHandle(parent);
    if (!ok)
        return;
    struct out o = {0};
    struct rm_walker w;
    struct rm_region *regions = (what & RM_NATIVE_WALK) ? rm_sys.alloc(RM_WALK_MAX_REGIONS * sizeof *regions) : NULL;
    struct rm_name_buf names = {0};
    if ((what & RM_NATIVE_WALK) && (!regions || rm_walker_start(&w, regions) != ERROR_SUCCESS))
        what &= ~RM_NATIVE_WALK;
    struct reach reach = {0, &w, regions, &names};
    put_word(&o, TAG_MAGIC);
    put_word(&o, PROTOCOL_VERSION);
    BOOL alive = flush(pipe, &o);
    while (alive && *end) {
        DWORD pid = (DWORD)wcstoul(end, &end, 10);
        if (!pid)
            break;
        report_one(&o, &reach, pid, what);
        alive = !o.oom && flush(pipe, &o);
    }
    put_word(&o, TAG_DONE);
    if (alive)
        flush(pipe, &o);
    if (what & RM_NATIVE_WALK)
        rm_walker_stop(&w);
    rm_sys.free(regions);
    rm_sys.free(names.name);
    rm_sys.free(o.w);
    rm_sys.CloseHandle(pipe);
}

/* The caller's own report, where the OS gives it the reach: written and parsed as the
 * helper's, so both paths yield the same records. */
static DWORD local_report(struct rm_native_job *j, struct rm_native_report *out)
{
    struct out o = {0};
    struct reach reach = {1, NULL, NULL, NULL};
    put_word(&o, TAG_MAGIC);
    put_word(&o, PROTOCOL_VERSION);
    for (uint32_t i = 0; i < j->npids && !o.oom; i++)
        report_one(&o, &reach, j->pids[i], j->what);
    put_word(&o, TAG_DONE);
    int parsed = o.oom ? -1 : rm_native_parse(o.w, o.n * 4, out);
    rm_sys.free(o.w);
    return parsed < 0 ? ERROR_OUTOFMEMORY : ERROR_SUCCESS;
}
