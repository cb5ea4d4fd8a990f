/*
 * Who uses the registered resources (see detect.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "detect.h"

#include <stdlib.h>
#include <string.h>

#include "idset.h"
#include "native.h"
#include "ntpath.h"
#include "params.h"
#include "registered.h"
#include "session/layout.h"
#include "session/regindex.h"
#include "sys/sys.h"
#include "handle_table.h"
#include "walker.h"
#include "worker.h"

#define STATUS_BUFFER_OVERFLOW_ ((NTSTATUS)0x80000005L)
#define FILE_PROCESS_IDS_USING_FILE_INFORMATION 47

/* Registered files up to this many are asked about one by one where the kernel can say who
 * uses a file: each question costs about as much as reading the whole handle table. */
#define RM_FAST_PATH_MAX_FILES 16u

/* ---- small pieces --------------------------------------------------------------------------- */

static void copy_service(WCHAR *dst, const WCHAR *src)
{
    size_t i = 0;
    for (; src && src[i] && i < CCH_RM_MAX_SVC_NAME; i++)
        dst[i] = src[i];
    dst[i] = 0;
}

int rm_holders_add(struct rm_holders *h, DWORD pid, const FILETIME *start, uint32_t how, const WCHAR *service)
{
    for (uint32_t i = 0; i < h->count; i++)
        if (h->items[i].pid == pid) {
            h->items[i].how |= how;
            if (service && service[0] && !h->items[i].service[0])
                copy_service(h->items[i].service, service);
            return 0;
        }
    if (h->count == h->cap) {
        uint32_t cap = h->cap ? h->cap * 2 : 16;
        struct rm_holder *n = rm_sys.alloc(cap * sizeof *n);
        if (!n)
            return -1;
        if (h->count)
            memcpy(n, h->items, h->count * sizeof *n);
        rm_sys.free(h->items);
        h->items = n;
        h->cap = cap;
    }
    struct rm_holder *e = &h->items[h->count++];
    memset(e, 0, sizeof *e);
    e->pid = pid;
    e->start = *start;
    e->how = how;
    copy_service(e->service, service);
    return 0;
}

void rm_holders_free(struct rm_holders *h)
{
    rm_sys.free(h->items);
    memset(h, 0, sizeof *h);
}

static BOOL start_time(HANDLE process, FILETIME *t)
{
    FILETIME e, k, u;
    return rm_sys.GetProcessTimes(process, t, &e, &k, &u);
}

/* ---- the system handle table ---------------------------------------------------------------- */

/* One snapshot; the table's size changes between calls, so grow and retry a bounded number of
 * times ("wrong return length" answers included). */
static DWORD take_snapshot(struct handle_table **out)
{
    ULONG size = 1u << 20, need = 0;
    for (int attempt = 0; attempt < 8; attempt++) {
        struct handle_table *t = rm_sys.alloc(size);
        if (!t)
            return ERROR_OUTOFMEMORY;
        NTSTATUS st = rm_sys.NtQuerySystemInformation((SYSTEM_INFORMATION_CLASS)SYSTEM_EXTENDED_HANDLE_INFORMATION,
                                                      t, size, &need);
        if (st >= 0 && t->count <= (size - offsetof(struct handle_table, entries)) / sizeof(struct handle_entry)) {
            *out = t;
            return ERROR_SUCCESS;
        }
        rm_sys.free(t);
        if (st >= 0 || (st != STATUS_INFO_LENGTH_MISMATCH_ && st != STATUS_BUFFER_OVERFLOW_))
            return ERROR_ACCESS_DENIED;
        ULONG next = need > size ? need + need / 8 : size * 2;
        if (next < size || next > (1u << 30))
            return ERROR_OUTOFMEMORY;
        size = next;
    }
    return ERROR_OUTOFMEMORY;
}

/* The object type index of File objects, read off a handle of our own in the snapshot. */
static int file_type_index(const struct handle_table *t, DWORD self, HANDLE probe)
{
    for (ULONG_PTR i = 0; i < t->count; i++)
        if (t->entries[i].pid == self && t->entries[i].value == (ULONG_PTR)probe)
            return t->entries[i].type;
    return -1; /* unknown: every handle is a candidate */
}

/* Snapshot entries grouped by process: sort keys carry the PID so no shared context is needed
 * (two threads may detect at once). */
struct by_process {
    ULONG_PTR pid;
    ULONG index;
};

static int by_pid(const void *a, const void *b)
{
    const struct by_process *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* ---- one process ------------------------------------------------------------------------------ */

struct scan {
    const struct rm_idset *ids;
    struct rm_worker worker;
    struct rm_walker walker;
    struct rm_region *regions;
    struct rm_index mapped_names; /* NT name -> identity, shared by all processes of the call */
    struct rm_drive_map drives;
    HANDLE *dups;
    struct rm_identity *found;
    BYTE *ok;
    DWORD self;
    struct rm_name_buf names;
    uint16_t *path; /* its Win32 form: any length a path can have */
    WCHAR *image;   /* a process's executable, as the system names it */
    int oom;        /* a mapping went unidentified for want of memory: the result is not whole */
    BOOL self_wow64; /* a 32-bit process on 64-bit Windows: our walk sees 4 GiB only */
};

#define RM_PATH_UNITS (32768u + 16u)

/* Duplicates the process's File handles and hands them to the worker; match_handles_end
 * collects the answers. Between the two the caller walks the process's mappings, so the
 * slowest parts of a process overlap instead of adding up. */
static LONG match_handles_begin(struct scan *s, HANDLE process, const struct handle_table *t,
                                const struct by_process *group, ULONG n, int type)
{
    LONG k = 0;
    for (ULONG i = 0; i < n; i++) {
        const struct handle_entry *e = &t->entries[group[i].index];
        if (type >= 0 && e->type != type)
            continue;
        HANDLE h = (HANDLE)e->value;
        if (process == RM_CURRENT_PROCESS)
            s->dups[k++] = h; /* our own: no copy needed */
        else if (rm_sys.DuplicateHandle(process, h, RM_CURRENT_PROCESS, &s->dups[k], 0, FALSE,
                                        DUPLICATE_SAME_ACCESS))
            k++;
    }
    rm_worker_begin(&s->worker, s->dups, s->found, s->ok, k);
    return k;
}

static uint32_t match_handles_end(struct scan *s, HANDLE process, LONG k)
{
    uint32_t how = 0;
    if (rm_worker_end(&s->worker) == ERROR_SUCCESS)
        for (LONG i = 0; i < k; i++)
            if (s->ok[i] && rm_idset_find(s->ids, &s->found[i]) >= 0)
                how |= RM_HOLD_HANDLE;
    if (process != RM_CURRENT_PROCESS)
        for (LONG i = 0; i < k; i++)
            rm_sys.CloseHandle(s->dups[i]);
    return how;
}

/* Identity of a mapped file by its NT name, remembered for the rest of the call (the same
 * system DLLs appear in every process). value[0] = 1 + volume (0: no identity), value[1] = ID. */
static int mapped_identity(struct scan *s, const WCHAR *nt, uint32_t n, struct rm_identity *id)
{
    struct rm_index_entry *e = rm_index_get_text(&s->mapped_names, RM_REC_FILE, (const uint16_t *)nt, n);
    if (!e) {
        uint16_t *path = s->path;
        struct rm_identity fresh = {0};
        int have = 0;
        size_t len = rm_ntpath_to_win32((const uint16_t *)nt, n, &s->drives, path, RM_PATH_UNITS);
        /* Network paths stay unopened: a mapped file on an unreachable share would stall us. */
        if (len && !(path[0] == '\\' && path[1] == '\\')) {
            HANDLE h;
            DWORD err = rm_open_path(path, (uint32_t)len, FILE_READ_ATTRIBUTES, &h);
            if (err == ERROR_OUTOFMEMORY) {
                s->oom = 1;
                return 0;
            }
            if (!err) {
                have = rm_query_identity(h, &fresh, NULL);
                rm_sys.CloseHandle(h);
            }
        }
        if (rm_index_add_text(&s->mapped_names, RM_REC_FILE, (const uint16_t *)nt, n) < 0 ||
            !(e = rm_index_get_text(&s->mapped_names, RM_REC_FILE, (const uint16_t *)nt, n)))
            return have && (*id = fresh, 1);
        e->value[0] = have ? 1u + (uint64_t)fresh.volume : 0;
        e->value[1] = fresh.file_id;
    }
    if (!e->value[0])
        return 0;
    id->volume = (uint32_t)(e->value[0] - 1);
    id->reserved = 0;
    id->file_id = e->value[1];
    return 1;
}

/* The process's executable, DLLs and mapped views, from the regions the walker found. */
static uint32_t match_mappings(struct scan *s, HANDLE process, LONG nregions)
{
    uint32_t how = 0;
    for (LONG i = 0; i < nregions; i++) {
        const UNICODE_STRING *name = rm_mapped_name(&s->names, process, s->regions[i].base);
        struct rm_identity id;
        if (name && mapped_identity(s, name->Buffer, name->Length / 2, &id) && rm_idset_find(s->ids, &id) >= 0)
            how |= s->regions[i].type == MEM_IMAGE ? RM_HOLD_IMAGE : RM_HOLD_MAPPED;
    }
    return how;
}

/* A 64-bit process seen from a 32-bit one (WOW64): its executable is mapped above 4 GiB, where
 * our memory walk cannot reach, but the system still names it. mapped_identity takes a Win32
 * name as it takes an NT one. */
static uint32_t match_image_name(struct scan *s, HANDLE process)
{
    BOOL wow64 = TRUE;
    DWORD n = RM_PATH_UNITS - 1;
    struct rm_identity id;
    if (!s->self_wow64 || !rm_sys.IsWow64Process(process, &wow64) || wow64)
        return 0;
    if (!rm_sys.QueryFullProcessImageNameW(process, 0, s->image, &n) || !n || n >= RM_PATH_UNITS - 1)
        return 0;
    return mapped_identity(s, s->image, n, &id) && rm_idset_find(s->ids, &id) >= 0 ? RM_HOLD_IMAGE : 0;
}

static void load_drive_map(struct rm_drive_map *m)
{
    memset(m, 0, sizeof *m);
    for (int d = 0; d < 26; d++) {
        WCHAR dev[3] = {(WCHAR)('A' + d), ':', 0};
        if (rm_sys.QueryDosDeviceW(dev, (LPWSTR)m->device[d], 128))
            m->len[d] = wcsnlen((const WCHAR *)m->device[d], 127);
    }
}

static void *plain_alloc(size_t n)
{
    return rm_sys.alloc(n);
}

static void plain_free(void *p)
{
    rm_sys.free(p);
}

/* Under WOW64, the snapshot's 64-bit processes (sorted, as the snapshot is): their mappings
 * are asked of the native helper. */
static DWORD list_native(const struct by_process *order, ULONG n, DWORD self, DWORD only_pid, DWORD **out,
                         uint32_t *count)
{
    *out = NULL;
    *count = 0;
    if (only_pid)
        return ERROR_SUCCESS;
    DWORD *pids = rm_sys.alloc((n ? n : 1) * sizeof *pids);
    if (!pids)
        return ERROR_OUTOFMEMORY;
    uint32_t k = 0;
    for (ULONG i = 0; i < n; i++) {
        DWORD pid = (DWORD)order[i].pid;
        if (!pid || pid == self || (k && pids[k - 1] == pid))
            continue;
        HANDLE p = rm_sys.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
        if (p && rm_process_beyond_wow64(p))
            pids[k++] = pid;
        if (p)
            rm_sys.CloseHandle(p);
    }
    *out = pids;
    *count = k;
    return ERROR_SUCCESS;
}

static int in_sorted(const DWORD *pids, uint32_t n, DWORD pid)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (pids[mid] == pid)
            return 1;
        if (pids[mid] < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* What the native helper saw of the 64-bit processes, matched as our own walk's regions are. */
static DWORD match_native(struct scan *s, const DWORD *pids, uint32_t n, const struct rm_native_report *r,
                          struct rm_holders *out)
{
    for (uint32_t i = 0; i < n; i++) {
        HANDLE p = rm_sys.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pids[i]);
        FILETIME st;
        if (!p)
            continue; /* gone since */
        const struct rm_native_proc *np = start_time(p, &st) ? rm_native_find(r, pids[i], &st) : NULL;
        rm_sys.CloseHandle(p);
        if (!np || !(np->have & RM_NATIVE_WALK)) {
            rm_trace("detect: 64-bit pid %lu: its DLLs and mapped views are unknown (no answer from the native helper)",
                     pids[i]);
            continue;
        }
        uint32_t how = 0;
        for (uint32_t k = 0; k < np->nregions; k++) {
            struct rm_identity id;
            if (mapped_identity(s, np->regions[k].name, np->regions[k].len, &id) && rm_idset_find(s->ids, &id) >= 0)
                how |= np->regions[k].type == MEM_IMAGE ? RM_HOLD_IMAGE : RM_HOLD_MAPPED;
        }
        if (!how)
            continue;
        rm_trace("detect: 64-bit pid %lu uses a registered file:%s%s (seen by the native helper)", pids[i],
                 how & RM_HOLD_IMAGE ? " image/DLL" : "", how & RM_HOLD_MAPPED ? " mapped view" : "");
        if (rm_holders_add(out, pids[i], &st, how, NULL) < 0)
            return ERROR_OUTOFMEMORY;
    }
    return ERROR_SUCCESS;
}

/* Every process in the snapshot (or only `only_pid`), its File handles and its mappings. */
static DWORD scan_system(const struct rm_idset *ids, const struct rm_cancel *cancel, DWORD only_pid,
                         struct rm_holders *out)
{
    struct scan s;
    memset(&s, 0, sizeof s);
    s.ids = ids;
    FILETIME self_start;
    rm_self_identity(&s.self, &self_start);
    rm_index_init(&s.mapped_names, plain_alloc, plain_free);
    load_drive_map(&s.drives);

    /* A handle of ours to a file object, to learn which type index means "File". */
    WCHAR windir[MAX_PATH + 1];
    UINT wl = rm_sys.GetSystemWindowsDirectoryW(windir, MAX_PATH);
    /* Without it (even for want of memory) every handle is a candidate: slower, still right. */
    HANDLE probe = INVALID_HANDLE_VALUE;
    if (wl && wl < MAX_PATH)
        rm_open_path((const uint16_t *)windir, wl, FILE_READ_ATTRIBUTES, &probe);
    if (!rm_sys.IsWow64Process(RM_CURRENT_PROCESS, &s.self_wow64))
        s.self_wow64 = FALSE;
    struct handle_table *t = NULL;
    struct by_process *order = NULL;
    DWORD *native_pids = NULL;
    uint32_t nnative = 0;
    struct rm_native_job native;
    struct rm_native_report report;
    memset(&native, 0, sizeof native);
    memset(&report, 0, sizeof report);
    DWORD err = take_snapshot(&t);
    int type = err ? -1 : file_type_index(t, s.self, probe);
    if (!err)
        rm_trace("detect: handle snapshot of %lu handles, File type index %d%s", (unsigned long)t->count, type,
                 only_pid ? " (own handles only)" : "");
    if (probe != INVALID_HANDLE_VALUE)
        rm_sys.CloseHandle(probe);
    if (!err && !(order = rm_sys.alloc((t->count ? t->count : 1) * sizeof *order)))
        err = ERROR_OUTOFMEMORY;
    if (!err) {
        s.dups = rm_sys.alloc((t->count ? t->count : 1) * sizeof *s.dups);
        s.found = rm_sys.alloc((t->count ? t->count : 1) * sizeof *s.found);
        s.ok = rm_sys.alloc(t->count ? t->count : 1);
        s.path = rm_sys.alloc(RM_PATH_UNITS * sizeof *s.path);
        s.image = rm_sys.alloc(RM_PATH_UNITS * sizeof *s.image);
        s.regions = rm_sys.alloc(RM_WALK_MAX_REGIONS * sizeof *s.regions);
        if (!s.dups || !s.found || !s.ok || !s.path || !s.image || !s.regions)
            err = ERROR_OUTOFMEMORY;
    }
    if (!err)
        err = rm_worker_start(&s.worker);
    if (!err)
        err = rm_walker_start(&s.walker, s.regions);
    if (!err) {
        for (ULONG i = 0; i < t->count; i++) {
            order[i].pid = t->entries[i].pid;
            order[i].index = i;
        }
        qsort(order, t->count, sizeof *order, by_pid);
        /* The native helper walks the 64-bit processes while we do the rest. */
        if (s.self_wow64 && !(err = list_native(order, t->count, s.self, only_pid, &native_pids, &nnative)))
            err = rm_native_begin(&native, native_pids, nnative, RM_NATIVE_WALK);
        for (ULONG i = 0, j; i < t->count && !err; i = j) {
            DWORD pid = (DWORD)order[i].pid;
            for (j = i + 1; j < t->count && order[j].pid == order[i].pid; j++)
                ;
            if (rm_cancelled(cancel)) {
                err = ERROR_CANCELLED;
                break;
            }
            if ((only_pid && pid != only_pid) || pid == 0)
                continue;
            HANDLE p = pid == s.self ? RM_CURRENT_PROCESS
                                     : rm_sys.OpenProcess(PROCESS_DUP_HANDLE | PROCESS_QUERY_INFORMATION |
                                                              PROCESS_VM_READ,
                                                          FALSE, pid);
            if (!p)
                p = rm_sys.OpenProcess(PROCESS_DUP_HANDLE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
            if (!p)
                continue; /* gone since the snapshot, or not ours to inspect */
            /* Both slow parts of a process run at once, each on a watched thread. A 64-bit
             * process seen from WOW64 is walked by the native helper instead. */
            int native_walk = rm_native_active(&native) && in_sorted(native_pids, nnative, pid);
            if (!native_walk)
                rm_walker_begin(&s.walker, p, pid);
            LONG k = match_handles_begin(&s, p, t, order + i, j - i, type);
            LONG nregions = native_walk ? 0 : rm_walker_end(&s.walker);
            uint32_t how = nregions > 0 ? match_mappings(&s, p, nregions) : 0;
            how |= match_image_name(&s, p);
            how |= match_handles_end(&s, p, k);
            if (how)
                rm_trace("detect: pid %lu uses a registered file:%s%s%s", pid, how & RM_HOLD_HANDLE ? " open handle" : "",
                         how & RM_HOLD_IMAGE ? " image/DLL" : "", how & RM_HOLD_MAPPED ? " mapped view" : "");
            FILETIME st;
            if (how && start_time(p, &st) && rm_holders_add(out, pid, &st, how, NULL) < 0)
                err = ERROR_OUTOFMEMORY;
            if (p != RM_CURRENT_PROCESS)
                rm_sys.CloseHandle(p);
        }
    }
    if (native_pids) {
        DWORD end = rm_native_end(&native, &report);
        if (!err)
            err = end ? end : match_native(&s, native_pids, nnative, &report, out);
        rm_native_report_free(&report);
        rm_sys.free(native_pids);
    }
    if (!err && (s.oom || s.names.oom))
        err = ERROR_OUTOFMEMORY;
    rm_worker_stop(&s.worker);
    rm_walker_stop(&s.walker);
    rm_sys.free(s.regions);
    rm_index_clear(&s.mapped_names);
    rm_sys.free(s.dups);
    rm_sys.free(s.found);
    rm_sys.free(s.ok);
    rm_sys.free(s.names.name);
    rm_sys.free(s.path);
    rm_sys.free(s.image);
    rm_sys.free(order);
    rm_sys.free(t);
    return err;
}

/* ---- the kernel's own answer, where it has one ------------------------------------------------ */

struct pid_list {
    ULONG count;
    ULONG_PTR pids[1];
};

/* ERROR_NOT_SUPPORTED when the OS does not answer FileProcessIdsUsingFileInformation. */
static DWORD ask_kernel(const struct rm_registrations *regs, const struct rm_cancel *cancel, struct rm_holders *out)
{
    ULONG size = 4096;
    struct pid_list *list = rm_sys.alloc(size);
    DWORD err = list ? ERROR_SUCCESS : ERROR_OUTOFMEMORY;
    for (uint32_t f = 0; f < regs->nfiles && !err; f++) {
        if (rm_cancelled(cancel)) {
            err = ERROR_CANCELLED;
            break;
        }
        HANDLE h;
        DWORD open_err = rm_open_path(regs->files[f].text, regs->files[f].nchars, FILE_READ_ATTRIBUTES, &h);
        if (open_err == ERROR_OUTOFMEMORY)
            err = open_err;
        if (open_err)
            continue;
        IO_STATUS_BLOCK io;
        NTSTATUS st;
        int tries = 0;
        while ((st = rm_sys.NtQueryInformationFile(h, &io, list, size,
                                                   (FILE_INFORMATION_CLASS)FILE_PROCESS_IDS_USING_FILE_INFORMATION)) ==
                   STATUS_INFO_LENGTH_MISMATCH_ &&
               ++tries < 8) {
            rm_sys.free(list);
            size *= 4;
            if (!(list = rm_sys.alloc(size))) {
                err = ERROR_OUTOFMEMORY;
                break;
            }
        }
        rm_sys.CloseHandle(h);
        if (err)
            break;
        if (st < 0) {
            rm_trace("detect: FileProcessIdsUsingFileInformation answers %#lx: scanning handles instead",
                     (unsigned long)st);
            err = ERROR_NOT_SUPPORTED; /* not implemented here: the caller scans instead */
            break;
        }
        ULONG n = list->count <= (size - sizeof(ULONG_PTR)) / sizeof(ULONG_PTR) ? list->count : 0;
        for (ULONG i = 0; i < n && !err; i++) {
            HANDLE p = rm_sys.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)list->pids[i]);
            FILETIME t;
            if (p && start_time(p, &t) && rm_holders_add(out, (DWORD)list->pids[i], &t, RM_HOLD_HANDLE, NULL) < 0)
                err = ERROR_OUTOFMEMORY;
            if (p)
                rm_sys.CloseHandle(p);
        }
    }
    rm_sys.free(list);
    return err;
}

/* ---- registered processes -------------------------------------------------------------------- */

static DWORD add_registered_processes(const struct rm_registrations *regs, struct rm_holders *out)
{
    for (uint32_t i = 0; i < regs->nprocs; i++) {
        const RM_UNIQUE_PROCESS *p = &regs->procs[i];
        enum rm_proc_state st = rm_process_state(p->dwProcessId, &p->ProcessStartTime);
        rm_trace("detect: registered pid %lu %s", p->dwProcessId,
                 st == RM_PROC_ALIVE ? "runs" : st == RM_PROC_GONE ? "is gone (or its PID was reused)" : "cannot be checked");
        /* One we may not inspect is not known to be gone: the caller named it, so it is listed
         * (classification then says what it can). */
        if (st != RM_PROC_GONE &&
            rm_holders_add(out, p->dwProcessId, &p->ProcessStartTime, RM_HOLD_REGISTERED, NULL) < 0)
            return ERROR_OUTOFMEMORY;
    }
    return ERROR_SUCCESS;
}

DWORD rm_detect(const struct rm_registrations *regs, const struct rm_cancel *cancel, struct rm_holders *out)
{
    struct rm_idset ids;
    rm_idset_init(&ids, plain_alloc, plain_free);
    DWORD err = rm_registered_identities(regs, cancel, &ids);
    if (!err && ids.count) {
        err = ERROR_NOT_SUPPORTED;
        if (regs->nfiles <= RM_FAST_PATH_MAX_FILES) {
            err = ask_kernel(regs, cancel, out);
            /* The kernel's list leaves out the caller itself: look at our own handles. */
            if (!err)
                err = scan_system(&ids, cancel, rm_sys.GetCurrentProcessId(), out);
        }
        if (err == ERROR_NOT_SUPPORTED)
            err = scan_system(&ids, cancel, 0, out);
    }
    if (!err)
        err = add_registered_processes(regs, out);
    if (!err && regs->nservices)
        err = rm_detect_services(regs, cancel, out);
    rm_idset_clear(&ids);
    return err;
}
