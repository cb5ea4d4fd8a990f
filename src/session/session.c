/*
 * Sessions as one process sees them (see session.h).
 *
 * Locking: the store mutex (cross-process, bounded wait) is always taken first and protects
 * both the shared slots and every local entry's contents; local_lock only guards the table's
 * allocation against concurrent lookups and is never held while waiting for anything.
 *
 * SPDX-License-Identifier: MIT
 */
#include "session.h"

#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "filterbuf.h"
#include "layout.h"
#include "regindex.h"
#include "store.h"
#include "sys/sys.h"

struct rm_local {
    int in_use;
    int owner;
    DWORD handle;
    uint32_t slot, generation;
    volatile LONG cancel_requests; /* bumped by RmCancelCurrentTask */
    struct rm_data data;
    struct rm_index index; /* everything registered, as far as `parsed` */
    uint32_t parsed;
    struct rm_index apps; /* per process: value[0] status, value[1] offset of its STOPPED record */
    struct rm_index filters; /* per target: value[0] action (0 removed), value[1] order set */
    uint64_t filter_order;
};

static struct rm_local locals[RM_MAX_LOCAL_HANDLES];
static SRWLOCK local_lock = SRWLOCK_INIT;

static void *index_alloc(size_t n)
{
    return rm_sys.alloc(n);
}

static void index_free(void *p)
{
    rm_sys.free(p);
}

/* Slot, table index and generation in one DWORD: a stale or foreign handle almost never
 * decodes to a live entry of ours, and never to 0xFFFFFFFF (callers' "no session" sentinel). */
static DWORD encode_handle(uint32_t slot, uint32_t index, uint32_t generation)
{
    return slot | index << 6 | (generation & 0x7fffu) << 16;
}

static struct rm_local *lookup(DWORD handle)
{
    uint32_t i = (handle >> 6) & 0xffu;
    struct rm_local *e = NULL;
    AcquireSRWLockShared(&local_lock);
    if (i < RM_MAX_LOCAL_HANDLES && locals[i].in_use && locals[i].handle == handle)
        e = &locals[i];
    ReleaseSRWLockShared(&local_lock);
    return e;
}

static struct rm_local *alloc_local(void)
{
    struct rm_local *e = NULL;
    AcquireSRWLockExclusive(&local_lock);
    for (uint32_t i = 0; i < RM_MAX_LOCAL_HANDLES && !e; i++)
        if (!locals[i].in_use) {
            e = &locals[i];
            memset(e, 0, sizeof *e);
            e->in_use = 1;
            rm_index_init(&e->index, index_alloc, index_free);
            rm_index_init(&e->apps, index_alloc, index_free);
            rm_index_init(&e->filters, index_alloc, index_free);
        }
    ReleaseSRWLockExclusive(&local_lock);
    return e;
}

static void free_local(struct rm_local *e)
{
    rm_data_close(&e->data);
    rm_index_clear(&e->index);
    rm_index_clear(&e->apps);
    rm_index_clear(&e->filters);
    AcquireSRWLockExclusive(&local_lock);
    memset(e, 0, sizeof *e);
    ReleaseSRWLockExclusive(&local_lock);
}

static int slot_is(const struct rm_slot *s, uint32_t generation)
{
    return s->state == RM_SLOT_LIVE && s->generation == generation;
}

static int owned_by_self(const struct rm_slot *s)
{
    DWORD pid;
    FILETIME t;
    rm_self_identity(&pid, &t);
    return s->owner_pid == pid && s->owner_time_lo == t.dwLowDateTime && s->owner_time_hi == t.dwHighDateTime;
}

static void free_slot(struct rm_store *st, uint32_t i)
{
    struct rm_slot *s = &st->slots[i];
    uint32_t next = s->generation + 1;
    memset(s, 0, sizeof *s);
    s->generation = next ? next : 1;
    st->sequence++;
}

/* Ends an operation begun by lock_entry: the view goes (see store.h), then the lock. */
static void unlock_entry(struct rm_local *e)
{
    if (e->in_use)
        rm_data_unmap(&e->data);
    rm_store_unlock();
}

/* Takes the store lock and resolves handle to a live entry with its data mapped. On success
 * the lock is held until unlock_entry. */
static DWORD lock_entry_ex(DWORD handle, uint32_t how, struct rm_store **st, struct rm_local **out)
{
    if (!lookup(handle))
        return ERROR_INVALID_HANDLE;
    DWORD err = rm_store_lock(st);
    if (err)
        return err;
    struct rm_local *e = lookup(handle); /* again: another thread may have ended it meanwhile */
    if (!e) {
        rm_store_unlock();
        return ERROR_INVALID_HANDLE;
    }
    struct rm_slot *s = &(*st)->slots[e->slot];
    if (!slot_is(s, e->generation) || (e->owner && !owned_by_self(s))) {
        /* The session ended (or its owner died and the slot was reused): this handle is dead
         * for good, so let it go. */
        free_local(e);
        rm_store_unlock();
        return ERROR_INVALID_HANDLE;
    }
    if (!e->owner && !(how & RM_SESSION_ORPHANED)) {
        /* A session lives until its owner ends it or dies: a member finds out here. */
        FILETIME owner = {s->owner_time_lo, s->owner_time_hi};
        if (rm_process_state(s->owner_pid, &owner) == RM_PROC_GONE) {
            free_slot(*st, e->slot);
            free_local(e);
            rm_store_unlock();
            return ERROR_INVALID_HANDLE;
        }
    }
    DWORD merr = rm_data_map(&e->data);
    if (merr) {
        rm_store_unlock();
        return merr;
    }
    *out = e;
    return ERROR_SUCCESS;
}

static DWORD lock_entry(DWORD handle, struct rm_store **st, struct rm_local **out)
{
    return lock_entry_ex(handle, 0, st, out);
}

/* lock_entry for the operations only the session's owner may call. */
static DWORD lock_owner(DWORD handle, struct rm_store **st, struct rm_local **out)
{
    DWORD err = lock_entry(handle, st, out);
    if (!err && !(*out)->owner) {
        unlock_entry(*out);
        err = ERROR_SESSION_CREDENTIAL_CONFLICT;
    }
    return err;
}

/* Frees the slots of owners that died without RmEndSession. Liveness is checked with the lock
 * released (it opens processes), then each slot is freed only if nothing changed meanwhile. */
static DWORD reclaim_dead_owners(void)
{
    struct rm_slot seen[RM_MAX_SESSIONS];
    int dead[RM_MAX_SESSIONS] = {0}, any = 0;
    struct rm_store *st;

    DWORD err = rm_store_lock(&st);
    if (err)
        return err;
    memcpy(seen, st->slots, sizeof seen);
    rm_store_unlock();

    for (uint32_t i = 0; i < RM_MAX_SESSIONS; i++) {
        if (seen[i].state != RM_SLOT_LIVE || owned_by_self(&seen[i]))
            continue;
        FILETIME t = {seen[i].owner_time_lo, seen[i].owner_time_hi};
        if (rm_process_state(seen[i].owner_pid, &t) == RM_PROC_GONE)
            dead[i] = any = 1;
    }
    if (!any)
        return ERROR_SUCCESS;
    if ((err = rm_store_lock(&st)))
        return err;
    for (uint32_t i = 0; i < RM_MAX_SESSIONS; i++)
        if (dead[i] && memcmp(&st->slots[i], &seen[i], sizeof seen[i]) == 0)
            free_slot(st, i);
    rm_store_unlock();
    return ERROR_SUCCESS;
}

DWORD rm_session_start(DWORD *handle, WCHAR key_text[RM_KEY_CHARS + 1])
{
    uint8_t key[RM_KEY_BYTES];
    struct rm_store *st;
    DWORD pid;
    FILETIME me;

    if (!rm_sys.random_bytes(key, sizeof key))
        return ERROR_WRITE_FAULT;
    /* A store we cannot lock now will not be lockable a moment later: one timeout, not two. */
    DWORD err = reclaim_dead_owners();
    if (err)
        return err;
    rm_self_identity(&pid, &me);

    err = rm_store_lock(&st);
    if (err)
        return err;
    uint32_t i = 0;
    while (i < RM_MAX_SESSIONS && st->slots[i].state != RM_SLOT_FREE)
        i++;
    struct rm_local *e = i < RM_MAX_SESSIONS ? alloc_local() : NULL;
    if (!e) {
        rm_store_unlock();
        return ERROR_MAX_SESSIONS_REACHED;
    }
    struct rm_slot *s = &st->slots[i];
    uint32_t generation = s->generation + 1 ? s->generation + 1 : 1;
    err = rm_data_create(i, generation, &e->data);
    if (err) {
        free_local(e);
        rm_store_unlock();
        return err;
    }
    s->generation = generation;
    s->owner_pid = pid;
    s->owner_time_lo = me.dwLowDateTime;
    s->owner_time_hi = me.dwHighDateTime;
    memcpy(s->key, key, sizeof key);
    s->state = RM_SLOT_LIVE;
    st->sequence++;

    e->owner = 1;
    e->slot = i;
    e->generation = generation;
    e->parsed = (uint32_t)sizeof(struct rm_data_header);
    e->handle = encode_handle(i, (uint32_t)(e - locals), generation);
    rm_data_unmap(&e->data);
    rm_store_unlock();

    rm_key_encode(key, (uint16_t *)key_text);
    *handle = e->handle;
    return ERROR_SUCCESS;
}

static int find_key(const struct rm_store *st, const uint8_t key[RM_KEY_BYTES], struct rm_slot *copy)
{
    for (uint32_t i = 0; i < RM_MAX_SESSIONS; i++) {
        const struct rm_slot *s = &st->slots[i];
        unsigned diff = 0;
        for (int k = 0; k < RM_KEY_BYTES; k++) /* no early exit: the key is a credential */
            diff |= s->key[k] ^ key[k];
        if (s->state == RM_SLOT_LIVE && !diff) {
            *copy = *s;
            return (int)i;
        }
    }
    return -1;
}

DWORD rm_session_join(const uint8_t key[RM_KEY_BYTES], DWORD *handle)
{
    struct rm_store *st;
    struct rm_slot seen;

    DWORD err = rm_store_lock(&st);
    if (err)
        return err;
    int i = find_key(st, key, &seen);
    rm_store_unlock();
    if (i < 0)
        return ERROR_SESSION_CREDENTIAL_CONFLICT;

    FILETIME owner = {seen.owner_time_lo, seen.owner_time_hi};
    int gone = rm_process_state(seen.owner_pid, &owner) == RM_PROC_GONE;

    if ((err = rm_store_lock(&st)))
        return err;
    if (memcmp(&st->slots[i], &seen, sizeof seen) != 0) {
        rm_store_unlock();
        return ERROR_SESSION_CREDENTIAL_CONFLICT;
    }
    if (gone) { /* its owner died: the session is over, whatever the key says */
        free_slot(st, (uint32_t)i);
        rm_store_unlock();
        return ERROR_SESSION_CREDENTIAL_CONFLICT;
    }
    struct rm_local *e = alloc_local();
    if (!e) {
        rm_store_unlock();
        return ERROR_MAX_SESSIONS_REACHED;
    }
    err = rm_data_open((uint32_t)i, seen.generation, &e->data);
    if (err) {
        free_local(e);
        rm_store_unlock();
        return err;
    }
    e->slot = (uint32_t)i;
    e->generation = seen.generation;
    e->parsed = (uint32_t)sizeof(struct rm_data_header);
    e->handle = encode_handle(e->slot, (uint32_t)(e - locals), e->generation);
    rm_data_unmap(&e->data);
    rm_store_unlock();
    *handle = e->handle;
    return ERROR_SUCCESS;
}

DWORD rm_session_end(DWORD handle)
{
    struct rm_store *st;
    struct rm_local *e;
    DWORD err = lock_entry(handle, &st, &e);
    if (err)
        return err;
    /* The owner ends the session for everyone; a joined process only leaves it. */
    if (e->owner)
        free_slot(st, e->slot);
    free_local(e);
    unlock_entry(e);
    return ERROR_SUCCESS;
}

DWORD rm_session_check(DWORD handle, BOOL need_owner)
{
    struct rm_store *st;
    struct rm_local *e;
    DWORD err = need_owner ? lock_owner(handle, &st, &e) : lock_entry(handle, &st, &e);
    if (err)
        return err;
    unlock_entry(e);
    return ERROR_SUCCESS;
}

/* What note_app and note_filter answer when the log names more than RM_MAX_APPS apps or
 * RM_MAX_FILTERS filter targets: the log is not one our calls could have written. */
#define OVER_LIMIT (-2)

/* Latest status, and where the latest restart information is, per app. */
static int note_app(struct rm_local *e, const struct rm_record *r)
{
    if (e->apps.count >= RM_MAX_APPS && !rm_index_get_process(&e->apps, r->pid, r->time_lo, r->time_hi))
        return OVER_LIMIT;
    if (rm_index_add_process(&e->apps, r->pid, r->time_lo, r->time_hi) < 0)
        return -1;
    struct rm_index_entry *a = rm_index_get_process(&e->apps, r->pid, r->time_lo, r->time_hi);
    if (r->type == RM_REC_STATUS)
        a->value[0] = r->status;
    else
        a->value[1] = (uint64_t)r->offset + 1;
    return 0;
}

/* The filter index entry of a target (added when missing): process filters by identity, file
 * and service filters by their text under the trigger's kind. */
static struct rm_index_entry *filter_entry(struct rm_local *e, uint32_t trigger, const uint16_t *text,
                                           uint32_t nchars, uint32_t pid, uint32_t lo, uint32_t hi)
{
    if (trigger == RmFilterTriggerProcess) {
        if (rm_index_add_process(&e->filters, pid, lo, hi) < 0)
            return NULL;
        return rm_index_get_process(&e->filters, pid, lo, hi);
    }
    if (rm_index_add_text(&e->filters, trigger, text, nchars) < 0)
        return NULL;
    return rm_index_get_text(&e->filters, trigger, text, nchars);
}

/* The filter index entry of a target, if there is one. */
static const struct rm_index_entry *find_filter(const struct rm_local *e, uint32_t trigger, const uint16_t *text,
                                                uint32_t nchars, uint32_t pid, uint32_t lo, uint32_t hi)
{
    return trigger == RmFilterTriggerProcess ? rm_index_get_process(&e->filters, pid, lo, hi)
                                             : rm_index_get_text(&e->filters, trigger, text, nchars);
}

static int note_filter(struct rm_local *e, const struct rm_filter_record *f)
{
    if (e->filters.count >= RM_MAX_FILTERS &&
        !find_filter(e, f->trigger, f->text, f->nchars, f->pid, f->time_lo, f->time_hi))
        return OVER_LIMIT;
    struct rm_index_entry *x = filter_entry(e, f->trigger, f->text, f->nchars, f->pid, f->time_lo, f->time_hi);
    if (!x)
        return -1;
    x->value[0] = f->action;
    x->value[1] = ++e->filter_order;
    return 0;
}

/* Brings the local index up to the end of the shared log, validating every record. */
static DWORD catch_up(struct rm_local *e)
{
    struct rm_data_header *h = e->data.view;
    if (rm_data_check(h, e->slot, e->generation, RM_DATA_RESERVE) != RM_LAYOUT_OK)
        return ERROR_WRITE_FAULT;
    uint32_t used = h->used; /* read once: the checks below hold for this value only */
    if (used > RM_DATA_RESERVE || used < e->parsed)
        return ERROR_WRITE_FAULT;
    DWORD err = rm_data_commit(&e->data, used);
    if (err)
        return err;
    struct rm_record r;
    int rc;
    while ((rc = rm_record_next(h, used, &e->parsed, &r)) == 1) {
        int added;
        switch (r.type) {
        case RM_REC_PROCESS:
            added = rm_index_add_process(&e->index, r.pid, r.time_lo, r.time_hi);
            break;
        case RM_REC_STATUS:
        case RM_REC_STOPPED:
            added = note_app(e, &r);
            break;
        case RM_REC_FILTER:
            added = note_filter(e, &r.filter);
            break;
        default:
            added = rm_index_add_text(&e->index, r.type, r.text, r.nchars);
        }
        if (added == OVER_LIMIT)
            return ERROR_WRITE_FAULT;
        if (added < 0)
            return ERROR_OUTOFMEMORY;
    }
    return rc == 0 ? ERROR_SUCCESS : ERROR_WRITE_FAULT;
}

/* After a failed change the local index may hold items the log doesn't: rebuild it next time. */
static void forget_index(struct rm_local *e)
{
    rm_index_clear(&e->index);
    rm_index_clear(&e->apps);
    rm_index_clear(&e->filters);
    e->filter_order = 0;
    rm_index_clear(&e->filters);
    e->parsed = (uint32_t)sizeof(struct rm_data_header);
}

/* lock_owner, with this process's index caught up with the log, for the calls that read what
 * every process registered. On failure nothing stays locked. */
static DWORD lock_owner_current(DWORD handle, struct rm_store **st, struct rm_local **out)
{
    DWORD err = lock_owner(handle, st, out);
    if (!err && (err = catch_up(*out))) {
        forget_index(*out);
        unlock_entry(*out);
    }
    return err;
}

/* Appends records to the log (lock held, index caught up): all of them, or none. Stores the
 * log's new end in *end when given.
 *
 * Where they go is this process's own copy of the log's end, e->parsed, which catch_up
 * validated; the shared `used` is only compared with it, read once. Read again after the
 * checks, another process could have set it to anything in between, and the copy below would
 * land wherever that pointed. */
static DWORD append_records(struct rm_local *e, const void *const *src, const uint32_t *sizes, int n,
                            uint32_t *end)
{
    struct rm_data_header *h = e->data.view;
    uint64_t total = 0;
    for (int i = 0; i < n; i++)
        total += sizes[i];
    uint32_t at = e->parsed;
    if (h->used != at) /* someone wrote the log without the lock */
        return ERROR_WRITE_FAULT;
    if ((uint64_t)at + total > RM_DATA_RESERVE)
        return ERROR_OUTOFMEMORY;
    DWORD err = rm_data_commit(&e->data, at + (uint32_t)total);
    if (err)
        return err;
    for (int i = 0; i < n; i++) {
        memcpy((uint8_t *)h + at, src[i], sizes[i]);
        at += sizes[i];
    }
    if (h->committed < e->data.committed)
        h->committed = e->data.committed;
    MemoryBarrier();
    h->used = at;
    h->sequence++;
    if (end)
        *end = at;
    return ERROR_SUCCESS;
}

static DWORD append_locked(struct rm_local *e, const struct rm_batch *b)
{
    uint32_t total = b->nfiles + b->nprocs + b->nservices;
    uint8_t *fresh = rm_alloc_zero(total ? total : 1);
    uint64_t bytes = 0;
    DWORD err = ERROR_SUCCESS;
    if (!fresh)
        return ERROR_OUTOFMEMORY;

    /* Pass 1: what is new (the index also collapses duplicates inside this batch). */
    for (uint32_t i = 0; i < total && !err; i++) {
        int added;
        uint32_t type, nchars = 0;
        if (i < b->nfiles) {
            type = RM_REC_FILE;
            nchars = b->files[i].nchars;
            added = rm_index_add_text(&e->index, type, b->files[i].text, nchars);
        } else if (i < b->nfiles + b->nprocs) {
            const RM_UNIQUE_PROCESS *p = &b->procs[i - b->nfiles];
            type = RM_REC_PROCESS;
            added = rm_index_add_process(&e->index, p->dwProcessId, p->ProcessStartTime.dwLowDateTime,
                                         p->ProcessStartTime.dwHighDateTime);
        } else {
            const struct rm_text *s = &b->services[i - b->nfiles - b->nprocs];
            type = RM_REC_SERVICE;
            nchars = s->nchars;
            added = rm_index_add_text(&e->index, type, s->text, nchars);
        }
        if (added < 0)
            err = ERROR_OUTOFMEMORY;
        else if (added) {
            fresh[i] = 1;
            bytes += rm_record_size(type, nchars);
        }
    }

    /* Pass 2: the new records, appended in one step (all of it or nothing). */
    uint8_t *recs = NULL;
    if (!err && bytes > RM_DATA_RESERVE)
        err = ERROR_OUTOFMEMORY;
    if (!err && bytes && !(recs = rm_sys.alloc((size_t)bytes)))
        err = ERROR_OUTOFMEMORY;
    uint32_t at = 0, added[3] = {0};
    for (uint32_t i = 0; i < total && !err && bytes; i++) {
        if (!fresh[i])
            continue;
        if (i < b->nfiles) {
            rm_record_write_text(recs + at, RM_REC_FILE, b->files[i].text, b->files[i].nchars);
            at += rm_record_size(RM_REC_FILE, b->files[i].nchars);
            added[0]++;
        } else if (i < b->nfiles + b->nprocs) {
            const RM_UNIQUE_PROCESS *p = &b->procs[i - b->nfiles];
            rm_record_write_process(recs + at, p->dwProcessId, p->ProcessStartTime.dwLowDateTime,
                                    p->ProcessStartTime.dwHighDateTime);
            at += rm_record_size(RM_REC_PROCESS, 0);
            added[1]++;
        } else {
            const struct rm_text *s = &b->services[i - b->nfiles - b->nprocs];
            rm_record_write_text(recs + at, RM_REC_SERVICE, s->text, s->nchars);
            at += rm_record_size(RM_REC_SERVICE, s->nchars);
            added[2]++;
        }
    }
    uint32_t end = e->parsed;
    if (!err && bytes) {
        const void *src[1] = {recs};
        err = append_records(e, src, &at, 1, &end);
    }
    if (!err) {
        struct rm_data_header *h = e->data.view;
        for (int k = 0; k < 3; k++)
            h->count[k] += added[k];
        e->parsed = end; /* what we appended is already in the index */
    }
    rm_sys.free(recs);
    rm_sys.free(fresh);
    if (err)
        forget_index(e);
    return err;
}

DWORD rm_session_register(DWORD handle, const struct rm_batch *batch)
{
    struct rm_store *st;
    struct rm_local *e;
    DWORD err = lock_entry(handle, &st, &e);
    if (err)
        return err;
    err = catch_up(e);
    if (!err)
        err = append_locked(e, batch);
    else
        forget_index(e);
    unlock_entry(e);
    return err;
}

static void free_texts(struct rm_text *t, uint32_t n)
{
    for (uint32_t i = 0; t && i < n; i++)
        rm_sys.free((void *)t[i].text);
    rm_sys.free(t);
}

void rm_registrations_free(struct rm_registrations *r)
{
    free_texts(r->files, r->nfiles);
    free_texts(r->services, r->nservices);
    rm_sys.free(r->procs);
    memset(r, 0, sizeof *r);
}

static DWORD copy_text(const struct rm_index_entry *e, struct rm_text *out)
{
    uint16_t *p = rm_sys.alloc(((size_t)e->nchars + 1) * sizeof *p);
    if (!p)
        return ERROR_OUTOFMEMORY;
    memcpy(p, e->text, ((size_t)e->nchars + 1) * sizeof *p);
    out->text = p;
    out->nchars = e->nchars;
    return ERROR_SUCCESS;
}

static DWORD copy_registrations(const struct rm_index *ix, struct rm_registrations *r)
{
    size_t nf = ix->kind_count[RM_REC_FILE], np = ix->kind_count[RM_REC_PROCESS], ns = ix->kind_count[RM_REC_SERVICE];
    r->files = rm_alloc_zero((nf ? nf : 1) * sizeof *r->files);
    r->procs = rm_alloc_zero((np ? np : 1) * sizeof *r->procs);
    r->services = rm_alloc_zero((ns ? ns : 1) * sizeof *r->services);
    if (!r->files || !r->procs || !r->services)
        return ERROR_OUTOFMEMORY;
    for (size_t i = 0; i < ix->cap; i++) {
        const struct rm_index_entry *e = &ix->buckets[i];
        DWORD err = ERROR_SUCCESS;
        if (!e->hash)
            continue;
        if (e->kind == RM_REC_FILE && r->nfiles < nf)
            err = copy_text(e, &r->files[r->nfiles++]);
        else if (e->kind == RM_REC_SERVICE && r->nservices < ns)
            err = copy_text(e, &r->services[r->nservices++]);
        else if (e->kind == RM_REC_PROCESS && r->nprocs < np) {
            RM_UNIQUE_PROCESS *p = &r->procs[r->nprocs++];
            p->dwProcessId = e->pid;
            p->ProcessStartTime.dwLowDateTime = e->time_lo;
            p->ProcessStartTime.dwHighDateTime = e->time_hi;
        }
        if (err)
            return err;
    }
    return ERROR_SUCCESS;
}

DWORD rm_session_snapshot(DWORD handle, struct rm_registrations *out, volatile LONG **cancel_requests)
{
    struct rm_store *st;
    struct rm_local *e;
    memset(out, 0, sizeof *out);
    DWORD err = lock_owner_current(handle, &st, &e);
    if (err)
        return err;
    err = copy_registrations(&e->index, out);
    if (!err)
        *cancel_requests = &e->cancel_requests;
    unlock_entry(e);
    if (err)
        rm_registrations_free(out);
    return err;
}

DWORD rm_session_cancel_counter(DWORD handle, volatile LONG **cancel_requests)
{
    struct rm_store *st;
    struct rm_local *e;
    DWORD err = lock_owner(handle, &st, &e);
    if (err)
        return err;
    *cancel_requests = &e->cancel_requests;
    unlock_entry(e);
    return ERROR_SUCCESS;
}

DWORD rm_session_cancel(DWORD handle)
{
    volatile LONG *requests;
    DWORD err = rm_session_cancel_counter(handle, &requests);
    if (!err)
        InterlockedIncrement(requests);
    return err;
}

DWORD rm_session_record_app(DWORD handle, const RM_UNIQUE_PROCESS *p, uint32_t status,
                            const struct rm_stopped_info *stopped)
{
    return rm_session_record_app_ex(handle, 0, p, status, stopped);
}

DWORD rm_session_record_app_ex(DWORD handle, uint32_t how, const RM_UNIQUE_PROCESS *p, uint32_t status,
                               const struct rm_stopped_info *stopped)
{
    struct rm_store *st;
    struct rm_local *e;
    uint8_t status_rec[32];
    uint8_t *stopped_rec = NULL;
    uint32_t sizes[2] = {rm_record_size(RM_REC_STATUS, 0), 0};
    const void *recs[2] = {status_rec, NULL};
    rm_record_write_status(status_rec, p->dwProcessId, p->ProcessStartTime.dwLowDateTime,
                           p->ProcessStartTime.dwHighDateTime, status);
    if (stopped) {
        sizes[1] = rm_record_size_stopped(stopped);
        if (!sizes[1])
            return ERROR_BAD_ARGUMENTS;
        if (!(stopped_rec = rm_sys.alloc(sizes[1])))
            return ERROR_OUTOFMEMORY;
        rm_record_write_stopped(stopped_rec, stopped);
        recs[1] = stopped_rec;
    }
    DWORD err = lock_entry_ex(handle, how, &st, &e);
    if (!err) {
        if (!(err = catch_up(e))) {
            if (e->apps.count >= RM_MAX_APPS &&
                !rm_index_get_process(&e->apps, p->dwProcessId, p->ProcessStartTime.dwLowDateTime,
                                      p->ProcessStartTime.dwHighDateTime))
                err = ERROR_OUTOFMEMORY;
            else
                err = append_records(e, recs, sizes, stopped ? 2 : 1, NULL);
        }
        /* our own records are read back like anyone else's on the next catch-up */
        if (err)
            forget_index(e);
        unlock_entry(e);
    }
    rm_sys.free(stopped_rec);
    return err;
}

/* Fills what RmGetList shows of a stopped app from its STOPPED record at offset (validated
 * again: the log is shared memory). */
static DWORD read_stopped(struct rm_local *e, uint32_t offset, struct rm_app_state *a)
{
    struct rm_record r;
    uint32_t off = offset;
    struct rm_data_header *h = e->data.view;
    if (rm_record_next(h, e->parsed, &off, &r) != 1 || r.type != RM_REC_STOPPED)
        return ERROR_WRITE_FAULT;
    a->app_type = r.stopped.app_type;
    a->flags = r.stopped.flags;
    memcpy(a->service, r.stopped.svc, (size_t)r.stopped.nsvc * sizeof(WCHAR));
    a->service[r.stopped.nsvc] = 0;
    memcpy(a->name, r.stopped.name, (size_t)r.stopped.nname * sizeof(WCHAR));
    a->name[r.stopped.nname] = 0;
    a->stopped = 1;
    return ERROR_SUCCESS;
}

void rm_session_apps_free(struct rm_app_state *apps, uint32_t count)
{
    (void)count;
    rm_sys.free(apps);
}

DWORD rm_session_apps(DWORD handle, struct rm_app_state **apps, uint32_t *count)
{
    struct rm_store *st;
    struct rm_local *e;
    *apps = NULL;
    *count = 0;
    DWORD err = lock_entry(handle, &st, &e);
    if (err)
        return err;
    if ((err = catch_up(e)))
        forget_index(e);
    struct rm_app_state *out = NULL;
    uint32_t n = 0;
    if (!err && e->apps.count && !(out = rm_alloc_array_zero(e->apps.count, sizeof *out)))
        err = ERROR_OUTOFMEMORY;
    /* n < count: out has room for count entries, however the buckets read. */
    for (size_t i = 0; !err && i < e->apps.cap && n < e->apps.count; i++) {
        const struct rm_index_entry *x = &e->apps.buckets[i];
        if (!x->hash)
            continue;
        struct rm_app_state *a = &out[n++];
        a->process.dwProcessId = x->pid;
        a->process.ProcessStartTime.dwLowDateTime = x->time_lo;
        a->process.ProcessStartTime.dwHighDateTime = x->time_hi;
        a->status = (uint32_t)x->value[0];
        if (x->value[1] && x->value[1] <= e->parsed)
            err = read_stopped(e, (uint32_t)(x->value[1] - 1), a);
    }
    unlock_entry(e);
    if (err) {
        rm_session_apps_free(out, n);
        return err;
    }
    *apps = out;
    *count = n;
    return ERROR_SUCCESS;
}

static DWORD append_filter(struct rm_local *e, const struct rm_filter_item *f, uint32_t action)
{
    struct rm_filter_record r = {action, f->trigger, f->pid, f->time_lo, f->time_hi, f->text, f->nchars};
    uint32_t size = rm_record_size_filter(f->trigger == RmFilterTriggerProcess ? 0 : f->nchars);
    if (f->trigger == RmFilterTriggerProcess)
        r.nchars = 0;
    uint8_t *rec = size ? rm_sys.alloc(size) : NULL;
    if (!rec)
        return size ? ERROR_OUTOFMEMORY : ERROR_BAD_ARGUMENTS;
    rm_record_write_filter(rec, &r);
    const void *src[1] = {rec};
    DWORD err = append_records(e, src, &size, 1, NULL);
    rm_sys.free(rec);
    return err;
}

/* Shared by set and remove: owner check, catch-up, then the change. */
static DWORD change_filter(DWORD handle, const struct rm_filter_item *f, int remove)
{
    struct rm_store *st;
    struct rm_local *e;
    DWORD err = lock_owner_current(handle, &st, &e);
    if (err)
        return err;
    const struct rm_index_entry *x = find_filter(e, f->trigger, f->text, f->nchars, f->pid, f->time_lo, f->time_hi);
    if (remove && (!x || !x->value[0]))
        err = ERROR_FILE_NOT_FOUND;
    else if (!remove && !x && e->filters.count >= RM_MAX_FILTERS)
        err = ERROR_OUTOFMEMORY;
    if (!err)
        err = append_filter(e, f, remove ? 0 : f->action);
    unlock_entry(e);
    return err;
}

DWORD rm_session_filter_set(DWORD handle, const struct rm_filter_item *f)
{
    return change_filter(handle, f, 0);
}

DWORD rm_session_filter_remove(DWORD handle, const struct rm_filter_item *f)
{
    return change_filter(handle, f, 1);
}

void rm_session_filters_free(struct rm_filter_item *items, uint32_t count)
{
    for (uint32_t i = 0; items && i < count; i++)
        rm_sys.free((void *)items[i].text);
    rm_sys.free(items);
}

/* A live filter entry and the order in which it was last set (unique per entry). */
struct filter_order {
    uint64_t order;
    const struct rm_index_entry *entry;
};

static int by_filter_order(const void *a, const void *b)
{
    uint64_t x = ((const struct filter_order *)a)->order, y = ((const struct filter_order *)b)->order;
    return x < y ? -1 : x > y;
}

DWORD rm_session_filters(DWORD handle, struct rm_filter_item **items, uint32_t *count)
{
    struct rm_store *st;
    struct rm_local *e;
    *items = NULL;
    *count = 0;
    DWORD err = lock_owner_current(handle, &st, &e);
    if (err)
        return err;
    struct rm_filter_item *out = NULL;
    struct filter_order *live = NULL;
    uint32_t n = 0, nlive = 0;
    if (e->filters.count && (!(out = rm_alloc_array_zero(e->filters.count, sizeof *out)) ||
                             !(live = rm_alloc_array_zero(e->filters.count, sizeof *live))))
        err = ERROR_OUTOFMEMORY;
    /* In the order they were set: one sort, never a scan per filter (catch_up holds the count
     * to RM_MAX_FILTERS, whatever the log says). */
    for (size_t i = 0; !err && i < e->filters.cap && nlive < e->filters.count; i++) {
        const struct rm_index_entry *x = &e->filters.buckets[i];
        if (x->hash && x->value[0])
            live[nlive++] = (struct filter_order){x->value[1], x};
    }
    if (nlive > 1)
        qsort(live, nlive, sizeof *live, by_filter_order);
    for (uint32_t k = 0; !err && k < nlive; k++) {
        const struct rm_index_entry *best = live[k].entry;
        struct rm_filter_item *it = &out[n++];
        it->action = (uint32_t)best->value[0];
        if (best->kind == RM_REC_PROCESS && !best->text) {
            it->trigger = RmFilterTriggerProcess;
            it->pid = best->pid;
            it->time_lo = best->time_lo;
            it->time_hi = best->time_hi;
        } else {
            it->trigger = best->kind;
            struct rm_text t;
            if ((err = copy_text(best, &t)))
                break;
            it->text = t.text;
            it->nchars = t.nchars;
        }
    }
    rm_sys.free(live);
    unlock_entry(e);
    if (err) {
        rm_session_filters_free(out, n);
        return err;
    }
    *items = out;
    *count = n;
    return ERROR_SUCCESS;
}

DWORD rm_session_key(DWORD handle, WCHAR key_text[RM_KEY_CHARS + 1])
{
    struct rm_store *st;
    struct rm_local *e;
    DWORD err = lock_owner(handle, &st, &e);
    if (err)
        return err;
    rm_key_encode(st->slots[e->slot].key, (uint16_t *)key_text);
    unlock_entry(e);
    return ERROR_SUCCESS;
}

static DWORD add_flags(DWORD handle, uint32_t flags, int need_owner)
{
    struct rm_store *st;
    struct rm_local *e;
    DWORD err = need_owner ? lock_owner(handle, &st, &e) : lock_entry(handle, &st, &e);
    if (err)
        return err;
    st->slots[e->slot].flags |= flags;
    unlock_entry(e);
    return ERROR_SUCCESS;
}

DWORD rm_session_set_flags(DWORD handle, uint32_t flags)
{
    return add_flags(handle, flags, 1);
}

DWORD rm_session_mark_guard_ready(DWORD handle)
{
    return add_flags(handle, RM_SLOT_GUARD_READY, 0); /* the watcher is a member, not the owner */
}

DWORD rm_session_flags(DWORD handle, uint32_t *flags)
{
    struct rm_store *st;
    struct rm_local *e;
    DWORD err = lock_entry(handle, &st, &e);
    if (err)
        return err;
    *flags = st->slots[e->slot].flags;
    unlock_entry(e);
    return ERROR_SUCCESS;
}

DWORD rm_session_counts(DWORD handle, uint32_t counts[3])
{
    struct rm_store *st;
    struct rm_local *e;
    DWORD err = lock_entry(handle, &st, &e);
    if (err)
        return err;
    err = catch_up(e);
    if (!err) {
        counts[0] = (uint32_t)e->index.kind_count[RM_REC_FILE];
        counts[1] = (uint32_t)e->index.kind_count[RM_REC_PROCESS];
        counts[2] = (uint32_t)e->index.kind_count[RM_REC_SERVICE];
    } else
        forget_index(e);
    unlock_entry(e);
    return err;
}

void rm_session_reset_process_state(void)
{
    for (uint32_t i = 0; i < RM_MAX_LOCAL_HANDLES; i++)
        if (locals[i].in_use)
            free_local(&locals[i]);
    rm_store_reset();
}
