/*
 * Running Win32 services by host PID: one EnumServicesStatusExW enumeration per rm_classify
 * call, so that any holder, however it was found, is recognised as a service host.
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "session/path.h"
#include "sys/sys.h"

/* The SCM hands out at most 256 KiB per call and continues from a resume handle; each answer
 * is kept in its own chunk because the entries point at strings inside it. */
struct chunk {
    struct chunk *next;
    DWORD count;
    ENUM_SERVICE_STATUS_PROCESSW entries[];
};

#define CHUNK_BYTES (64u * 1024u)
#define MAX_ROUNDS 64u /* services appearing faster than we read cannot keep us here */

static const WCHAR *const critical_services[] = {L"RpcSs", L"DcomLaunch", L"PlugPlay"};

static size_t wlen(const WCHAR *s)
{
    return s ? wcslen(s) : 0;
}

int rm_svc_name_equal(const WCHAR *a, const WCHAR *b)
{
    return rm_text_equal((const uint16_t *)a, wlen(a), (const uint16_t *)b, wlen(b));
}

static int name_order(const WCHAR *a, const WCHAR *b)
{
    for (;; a++, b++) {
        uint16_t x = rm_fold16(*a), y = rm_fold16(*b);
        if (x != y || !x)
            return x < y ? -1 : x > y;
    }
}

static int by_pid_then_name(const void *pa, const void *pb)
{
    const struct rm_svc *a = pa, *b = pb;
    if (a->pid != b->pid)
        return a->pid < b->pid ? -1 : 1;
    return name_order(a->name, b->name);
}

/* One round of the enumeration into a fresh chunk. 1 more to come, 0 done, -1 out of memory,
 * -2 the SCM refused (the map then stays as far as it got). */
static int enum_round(SC_HANDLE scm, DWORD *resume, DWORD *bytes, struct chunk **out)
{
    struct chunk *c = rm_sys.alloc(sizeof *c + *bytes);
    if (!c)
        return -1;
    DWORD need = 0;
    c->next = NULL;
    c->count = 0;
    BOOL ok = rm_sys.EnumServicesStatusExW(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_ACTIVE,
                                           (LPBYTE)c->entries, *bytes, &need, &c->count, resume, NULL);
    DWORD err = ok ? ERROR_SUCCESS : GetLastError();
    if (err != ERROR_SUCCESS && err != ERROR_MORE_DATA) {
        rm_sys.free(c);
        return -2;
    }
    if (err == ERROR_MORE_DATA && !c->count && need > *bytes)
        *bytes = need; /* one entry did not fit: ask again with room for it */
    *out = c;
    return err == ERROR_MORE_DATA;
}

static DWORD collect(SC_HANDLE scm, struct chunk **head, uint32_t *total)
{
    DWORD resume = 0, bytes = CHUNK_BYTES;
    struct chunk **tail = head;
    for (unsigned round = 0; round < MAX_ROUNDS; round++) {
        struct chunk *c = NULL;
        int more = enum_round(scm, &resume, &bytes, &c);
        if (more == -1)
            return ERROR_OUTOFMEMORY;
        if (more == -2)
            break;
        *tail = c;
        tail = &c->next;
        *total += c->count;
        if (!more)
            break;
    }
    return ERROR_SUCCESS;
}

static void free_chunks(struct chunk *c)
{
    while (c) {
        struct chunk *next = c->next;
        rm_sys.free(c);
        c = next;
    }
}

DWORD rm_svcmap_build(struct rm_svcmap *m, SC_HANDLE scm)
{
    struct chunk *head = NULL;
    uint32_t total = 0;
    memset(m, 0, sizeof *m);
    if (!scm)
        return ERROR_SUCCESS;
    DWORD err = collect(scm, &head, &total);
    if (!err && total && !(m->items = rm_sys.alloc(total * sizeof *m->items)))
        err = ERROR_OUTOFMEMORY;
    if (err) {
        free_chunks(head);
        return err;
    }
    m->chunks = head;
    for (struct chunk *c = head; c; c = c->next)
        for (DWORD i = 0; i < c->count; i++) {
            const ENUM_SERVICE_STATUS_PROCESSW *e = &c->entries[i];
            /* A service that is starting or stopping may have no process yet or any more. */
            if (!e->ServiceStatusProcess.dwProcessId || !e->lpServiceName)
                continue;
            struct rm_svc *s = &m->items[m->count++];
            s->pid = e->ServiceStatusProcess.dwProcessId;
            s->name = e->lpServiceName;
            s->display = e->lpDisplayName;
        }
    qsort(m->items, m->count, sizeof *m->items, by_pid_then_name);
    return ERROR_SUCCESS;
}

void rm_svcmap_free(struct rm_svcmap *m)
{
    free_chunks(m->chunks);
    rm_sys.free(m->items);
    memset(m, 0, sizeof *m);
}

/* Index of the PID's first service (they are sorted by name within a PID), or count. */
static uint32_t first_of(const struct rm_svcmap *m, DWORD pid)
{
    uint32_t lo = 0, hi = m->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->items[mid].pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->count && m->items[lo].pid == pid ? lo : m->count;
}

const struct rm_svc *rm_svcmap_pick(const struct rm_svcmap *m, DWORD pid, const WCHAR *preferred)
{
    uint32_t first = first_of(m, pid);
    if (first == m->count)
        return NULL;
    if (preferred && preferred[0])
        for (uint32_t i = first; i < m->count && m->items[i].pid == pid; i++)
            if (rm_svc_name_equal(m->items[i].name, preferred))
                return &m->items[i];
    return &m->items[first];
}

int rm_svc_is_critical(const WCHAR *name)
{
    for (size_t k = 0; k < sizeof critical_services / sizeof *critical_services; k++)
        if (rm_svc_name_equal(name, critical_services[k]))
            return 1;
    return 0;
}

const struct rm_svc *rm_svcmap_critical(const struct rm_svcmap *m, DWORD pid)
{
    for (uint32_t i = first_of(m, pid); i < m->count && m->items[i].pid == pid; i++)
        if (rm_svc_is_critical(m->items[i].name))
            return &m->items[i];
    return NULL;
}
