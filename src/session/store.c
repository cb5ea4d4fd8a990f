/*
 * The per-user session store (see store.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "store.h"

#include <stdio.h>
#include <string.h>

#include "sys/sys.h"

#define RM_STORE_VIEW ((sizeof(struct rm_store) + 4095u) & ~(size_t)4095u)

const WCHAR *rm_store_prefix = RM_STORE_DEFAULT_PREFIX;

static SRWLOCK open_lock = SRWLOCK_INIT;
static HANDLE store_mutex;
static HANDLE store_section;
static struct rm_store *store_view;

/* "Local\<prefix>.<SID><suffix>" */
static DWORD object_name(WCHAR *buf, size_t cap, const WCHAR *suffix)
{
    const WCHAR *sid = rm_user_sid();
    if (!sid)
        return ERROR_WRITE_FAULT;
    int n = _snwprintf(buf, cap, L"Local\\%ls.%ls%ls", rm_store_prefix, sid, suffix);
    return n < 0 || (size_t)n >= cap ? ERROR_WRITE_FAULT : ERROR_SUCCESS;
}

/* Creating the section under the mutex makes "first one initialises" race-free. */
static DWORD open_section_locked(void)
{
    WCHAR name[256];
    DWORD err = object_name(name, 256, L"");
    if (err)
        return err;
    HANDLE s = rm_sys.CreateFileMappingW(INVALID_HANDLE_VALUE, (LPSECURITY_ATTRIBUTES)rm_owner_only_sa(),
                                         PAGE_READWRITE, 0, (DWORD)RM_STORE_VIEW, name);
    if (!s)
        return ERROR_WRITE_FAULT;
    /* Map our size, not the section's: a smaller impostor section fails here instead of
     * letting us read past its end. */
    void *v = rm_sys.MapViewOfFile(s, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, RM_STORE_VIEW);
    if (!v) {
        rm_sys.CloseHandle(s);
        return ERROR_WRITE_FAULT;
    }
    store_section = s;
    store_view = v;
    return ERROR_SUCCESS;
}

static DWORD open_mutex(void)
{
    WCHAR name[256];
    DWORD err = ERROR_SUCCESS;
    AcquireSRWLockExclusive(&open_lock);
    if (!store_mutex) {
        err = object_name(name, 256, L".lock");
        if (!err) {
            store_mutex = rm_sys.CreateMutexW((LPSECURITY_ATTRIBUTES)rm_owner_only_sa(), FALSE, name);
            if (!store_mutex)
                err = ERROR_WRITE_FAULT;
        }
    }
    ReleaseSRWLockExclusive(&open_lock);
    return err;
}

DWORD rm_store_lock(struct rm_store **store)
{
    DWORD err = open_mutex();
    if (err)
        return err;
    switch (rm_sys.WaitForSingleObject(store_mutex, RM_LOCK_TIMEOUT_MS)) {
    case WAIT_OBJECT_0:
    case WAIT_ABANDONED: /* a holder died mid-update: validation below decides if it's usable */
        break;
    default:
        return ERROR_SEM_TIMEOUT;
    }
    AcquireSRWLockExclusive(&open_lock);
    err = store_view ? ERROR_SUCCESS : open_section_locked();
    ReleaseSRWLockExclusive(&open_lock);
    if (!err) {
        switch (rm_store_check(store_view)) {
        case RM_LAYOUT_EMPTY:
            rm_store_init(store_view);
            break;
        case RM_LAYOUT_OK:
            break;
        default:
            err = ERROR_WRITE_FAULT;
        }
    }
    if (err) {
        rm_sys.ReleaseMutex(store_mutex);
        return err;
    }
    *store = store_view;
    return ERROR_SUCCESS;
}

void rm_store_unlock(void)
{
    rm_sys.ReleaseMutex(store_mutex);
}

void rm_store_reset(void)
{
    AcquireSRWLockExclusive(&open_lock);
    if (store_view)
        rm_sys.UnmapViewOfFile(store_view);
    if (store_section)
        rm_sys.CloseHandle(store_section);
    if (store_mutex)
        rm_sys.CloseHandle(store_mutex);
    store_view = NULL;
    store_section = store_mutex = NULL;
    ReleaseSRWLockExclusive(&open_lock);
}

static DWORD data_name(WCHAR *buf, uint32_t slot, uint32_t generation)
{
    WCHAR suffix[40];
    _snwprintf(suffix, 40, L".s%u.g%u", slot, generation);
    suffix[39] = 0;
    return object_name(buf, 256, suffix);
}

DWORD rm_data_map(struct rm_data *d)
{
    if (d->view)
        return ERROR_SUCCESS;
    /* Our size again: a forged smaller section cannot be mapped at RM_DATA_RESERVE. */
    void *v = rm_sys.MapViewOfFile(d->section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, RM_DATA_RESERVE);
    if (!v)
        return ERROR_WRITE_FAULT;
    d->view = v;
    d->committed = 0;
    DWORD err = rm_data_commit(d, RM_DATA_COMMIT_STEP);
    if (err)
        rm_data_unmap(d);
    return err;
}

void rm_data_unmap(struct rm_data *d)
{
    if (d->view)
        rm_sys.UnmapViewOfFile(d->view);
    d->view = NULL;
    d->committed = 0;
}

static DWORD map_data(HANDLE section, struct rm_data *d)
{
    d->section = section;
    DWORD err = rm_data_map(d);
    if (err)
        rm_data_close(d);
    return err;
}

DWORD rm_data_create(uint32_t slot, uint32_t generation, struct rm_data *d)
{
    WCHAR name[256];
    DWORD err = data_name(name, slot, generation);
    if (err)
        return err;
    /* Reserved, not committed: a session costs only the pages its registrations fill. */
    HANDLE s = rm_sys.CreateFileMappingW(INVALID_HANDLE_VALUE, (LPSECURITY_ATTRIBUTES)rm_owner_only_sa(),
                                         PAGE_READWRITE | SEC_RESERVE, 0, RM_DATA_RESERVE, name);
    if (!s)
        return ERROR_OUTOFMEMORY;
    if (GetLastError() == ERROR_ALREADY_EXISTS) {
        /* Generations only grow, so someone made this name up: don't trust its contents. */
        rm_sys.CloseHandle(s);
        return ERROR_WRITE_FAULT;
    }
    err = map_data(s, d);
    if (!err)
        rm_data_init(d->view, slot, generation, RM_DATA_RESERVE, RM_DATA_COMMIT_STEP);
    return err;
}

DWORD rm_data_open(uint32_t slot, uint32_t generation, struct rm_data *d)
{
    WCHAR name[256];
    DWORD err = data_name(name, slot, generation);
    if (err)
        return err;
    HANDLE s = rm_sys.OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name);
    if (!s)
        return ERROR_WRITE_FAULT;
    err = map_data(s, d);
    if (!err && rm_data_check(d->view, slot, generation, RM_DATA_RESERVE) != RM_LAYOUT_OK) {
        rm_data_close(d);
        err = ERROR_WRITE_FAULT;
    }
    return err;
}

void rm_data_close(struct rm_data *d)
{
    rm_data_unmap(d);
    if (d->section)
        rm_sys.CloseHandle(d->section);
    memset(d, 0, sizeof *d);
}

DWORD rm_data_commit(struct rm_data *d, uint32_t upto)
{
    if (upto > RM_DATA_RESERVE)
        return ERROR_OUTOFMEMORY;
    if (upto <= d->committed)
        return ERROR_SUCCESS;
    uint32_t end = (upto + RM_DATA_COMMIT_STEP - 1) / RM_DATA_COMMIT_STEP * RM_DATA_COMMIT_STEP;
    /* Committing pages another process already committed is harmless, so readers and
     * writers use the same call. */
    if (!rm_sys.VirtualAlloc((BYTE *)d->view + d->committed, end - d->committed, MEM_COMMIT, PAGE_READWRITE))
        return ERROR_OUTOFMEMORY;
    d->committed = end;
    return ERROR_SUCCESS;
}
