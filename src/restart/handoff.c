/* SPDX-License-Identifier: MIT */
#include "handoff.h"

#include <string.h>

#include "sys/sys.h"

#define HANDOFF_MAGIC 0x48524d52u /* "RMRH" */
#define HANDOFF_VERSION 1u
/* The header's page: the watcher keeps it mapped for as long as it watches. */
#define HANDOFF_HEADER_VIEW 4096u

struct header {
    uint32_t magic, version;
    volatile LONG used;  /* bytes of whole records after the header */
    volatile LONG ended; /* nonzero: the owner ended the session */
    uint16_t key[RM_KEY_CHARS + 1];
    uint16_t pad[3];
};

enum { REC_PLAN = 1, REC_DONE = 2 };

/* A record: this, then (PLAN) the image path, command line, directory and service name, each
 * NUL-terminated; padded to 8 bytes. */
struct record {
    uint32_t type, size;
    uint32_t pid, time_lo, time_hi;
    uint32_t app_type, flags;
    uint32_t nimage, ncmd, ndir, nsvc;
    uint32_t pad;
};

#define RECORDS_AT ((uint32_t)sizeof(struct header))
/* Longest text a plan may hold: the Win32 command-line and path limit. */
#define MAX_TEXT 32767u

static uint32_t text_len(const WCHAR *s)
{
    size_t n = s ? wcslen(s) : 0;
    return n > MAX_TEXT ? MAX_TEXT + 1 : (uint32_t)n;
}

/* Maps the first `bytes` of the section and makes them usable in this view: a reserved
 * section's pages are committed through each view that uses them. */
static void *map_upto(HANDLE section, uint32_t bytes, DWORD access)
{
    void *v = rm_sys.MapViewOfFile(section, access, 0, 0, bytes);
    if (v && !rm_sys.VirtualAlloc(v, bytes, MEM_COMMIT, PAGE_READWRITE)) {
        rm_sys.UnmapViewOfFile(v);
        v = NULL;
    }
    return v;
}

DWORD rm_handoff_create(struct rm_handoff *h, const WCHAR key[RM_KEY_CHARS + 1])
{
    h->used = 0;
    /* Unnamed, so nobody opens it by name; the default DACL is the owner's own. */
    h->section = rm_sys.CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_RESERVE, 0,
                                           RM_HANDOFF_RESERVE, NULL);
    if (!h->section)
        return ERROR_OUTOFMEMORY;
    struct header *hd = map_upto(h->section, HANDOFF_HEADER_VIEW, FILE_MAP_READ | FILE_MAP_WRITE);
    if (!hd) {
        rm_sys.CloseHandle(h->section);
        h->section = NULL;
        return ERROR_OUTOFMEMORY;
    }
    memset(hd, 0, sizeof *hd);
    hd->magic = HANDOFF_MAGIC;
    hd->version = HANDOFF_VERSION;
    memcpy(hd->key, key, sizeof hd->key);
    rm_sys.UnmapViewOfFile(hd);
    return ERROR_SUCCESS;
}

static uint16_t *put(uint16_t *p, const WCHAR *s, uint32_t n)
{
    if (n)
        memcpy(p, s, n * sizeof *p);
    p[n] = 0;
    return p + n + 1;
}

DWORD rm_handoff_append(struct rm_handoff *h, const RM_UNIQUE_PROCESS *who, const struct rm_restart_plan *plan)
{
    struct record r;
    memset(&r, 0, sizeof r);
    r.type = plan ? REC_PLAN : REC_DONE;
    r.pid = who->dwProcessId;
    r.time_lo = who->ProcessStartTime.dwLowDateTime;
    r.time_hi = who->ProcessStartTime.dwHighDateTime;
    if (plan) {
        r.app_type = plan->app_type;
        r.flags = plan->flags;
        r.nimage = text_len(plan->image);
        r.ncmd = text_len(plan->cmd);
        r.ndir = text_len(plan->dir);
        r.nsvc = text_len(plan->service);
        if (r.nimage > MAX_TEXT || r.ncmd > MAX_TEXT || r.ndir > MAX_TEXT || r.nsvc > MAX_TEXT)
            return ERROR_BAD_ARGUMENTS;
    }
    uint64_t chars = plan ? (uint64_t)r.nimage + r.ncmd + r.ndir + r.nsvc + 4u : 0;
    r.size = (uint32_t)((sizeof r + 2u * chars + 7u) & ~(uint64_t)7u);
    uint64_t end = (uint64_t)RECORDS_AT + h->used + r.size;
    if (!h->section || end > RM_HANDOFF_RESERVE)
        return ERROR_OUTOFMEMORY;
    uint8_t *v = map_upto(h->section, (uint32_t)end, FILE_MAP_READ | FILE_MAP_WRITE);
    if (!v)
        return ERROR_OUTOFMEMORY;
    uint8_t *at = v + RECORDS_AT + h->used;
    memset(at, 0, r.size);
    memcpy(at, &r, sizeof r);
    if (plan) {
        uint16_t *p = put((uint16_t *)(void *)(at + sizeof r), plan->image, r.nimage);
        p = put(p, plan->cmd, r.ncmd);
        p = put(p, plan->dir, r.ndir);
        put(p, plan->service, r.nsvc);
    }
    h->used += r.size;
    /* Published after the record is whole (a full barrier): a reader never sees half of one. */
    InterlockedExchange(&((struct header *)(void *)v)->used, (LONG)h->used);
    rm_sys.UnmapViewOfFile(v);
    return ERROR_SUCCESS;
}

void rm_handoff_end(struct rm_handoff *h)
{
    if (!h->section)
        return;
    struct header *hd = map_upto(h->section, HANDOFF_HEADER_VIEW, FILE_MAP_READ | FILE_MAP_WRITE);
    if (hd) {
        InterlockedExchange(&hd->ended, 1);
        rm_sys.UnmapViewOfFile(hd);
    }
    rm_sys.CloseHandle(h->section);
    h->section = NULL;
}

DWORD rm_handoff_open(HANDLE owner, ULONG_PTR value, struct rm_handoff_view *v, WCHAR key[RM_KEY_CHARS + 1])
{
    memset(v, 0, sizeof *v);
    if (!rm_sys.DuplicateHandle(owner, (HANDLE)value, RM_CURRENT_PROCESS, &v->section,
                                FILE_MAP_READ | FILE_MAP_WRITE, FALSE, 0))
        return ERROR_INVALID_HANDLE;
    struct header *hd = map_upto(v->section, HANDOFF_HEADER_VIEW, FILE_MAP_READ | FILE_MAP_WRITE);
    if (!hd || hd->magic != HANDOFF_MAGIC || hd->version != HANDOFF_VERSION) {
        if (hd)
            rm_sys.UnmapViewOfFile(hd);
        rm_sys.CloseHandle(v->section);
        v->section = NULL;
        return ERROR_INVALID_DATA;
    }
    memcpy(key, hd->key, sizeof hd->key);
    key[RM_KEY_CHARS] = 0;
    v->header = hd;
    v->ended = &hd->ended;
    return ERROR_SUCCESS;
}

BOOL rm_handoff_ended(const struct rm_handoff_view *v)
{
    return v->ended && *v->ended != 0;
}

/* The text at *p of n characters, NUL-terminated where its length says, within [*p, end). */
static const WCHAR *take(const uint8_t **p, const uint8_t *end, uint32_t n)
{
    const WCHAR *s = (const WCHAR *)(const void *)*p;
    if (n > MAX_TEXT || (size_t)(end - *p) < 2u * ((size_t)n + 1) || s[n] != 0)
        return NULL;
    *p += 2u * ((size_t)n + 1);
    return s;
}

DWORD rm_handoff_read(const struct rm_handoff_view *v, rm_handoff_fn fn, void *ctx)
{
    uint32_t used = (uint32_t)((const struct header *)v->header)->used; /* read once */
    if ((uint64_t)RECORDS_AT + used > RM_HANDOFF_RESERVE)
        return ERROR_WRITE_FAULT;
    if (!used)
        return ERROR_SUCCESS;
    const uint8_t *base = map_upto(v->section, RECORDS_AT + used, FILE_MAP_READ | FILE_MAP_WRITE);
    if (!base)
        return ERROR_OUTOFMEMORY;
    DWORD err = ERROR_SUCCESS;
    for (uint32_t off = 0; off < used && !err;) {
        struct record r;
        const uint8_t *at = base + RECORDS_AT + off;
        if (used - off < sizeof r) {
            err = ERROR_WRITE_FAULT;
            break;
        }
        memcpy(&r, at, sizeof r);
        if (r.size < sizeof r || r.size % 8u || r.size > used - off || (r.type != REC_PLAN && r.type != REC_DONE)) {
            err = ERROR_WRITE_FAULT;
            break;
        }
        RM_UNIQUE_PROCESS who;
        who.dwProcessId = r.pid;
        who.ProcessStartTime.dwLowDateTime = r.time_lo;
        who.ProcessStartTime.dwHighDateTime = r.time_hi;
        if (r.type == REC_DONE) {
            fn(ctx, &who, NULL);
        } else {
            struct rm_restart_plan plan;
            const uint8_t *p = at + sizeof r, *end = at + r.size;
            plan.process = who;
            plan.app_type = r.app_type;
            plan.flags = r.flags;
            plan.image = take(&p, end, r.nimage);
            plan.cmd = plan.image ? take(&p, end, r.ncmd) : NULL;
            plan.dir = plan.cmd ? take(&p, end, r.ndir) : NULL;
            plan.service = plan.dir ? take(&p, end, r.nsvc) : NULL;
            if (!plan.service)
                err = ERROR_WRITE_FAULT;
            else
                fn(ctx, &who, &plan);
        }
        off += r.size;
    }
    rm_sys.UnmapViewOfFile(base);
    return err;
}

void rm_handoff_close(struct rm_handoff_view *v)
{
    if (v->header)
        rm_sys.UnmapViewOfFile(v->header);
    if (v->section)
        rm_sys.CloseHandle(v->section);
    memset(v, 0, sizeof *v);
}
