/*
 * Top-level windows by owning process: one EnumWindows pass per rm_classify call.
 *
 * Only the holders' PIDs get a slot, so the pass costs O(windows × log holders) and no memory
 * for the rest of the desktop. Nothing here sends a message: GetWindowTextW reads a foreign
 * window's caption from the system without asking its (possibly hung) owner.
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stdlib.h>

#include "sys/sys.h"

static int by_pid(const void *a, const void *b)
{
    DWORD x = ((const struct rm_win_slot *)a)->pid, y = ((const struct rm_win_slot *)b)->pid;
    return x < y ? -1 : x > y;
}

const struct rm_win_slot *rm_winmap_find(const struct rm_winmap *m, DWORD pid)
{
    struct rm_win_slot key = {.pid = pid};
    return m->count ? bsearch(&key, m->slots, m->count, sizeof key, by_pid) : NULL;
}

static int has_title(HWND w)
{
    WCHAR probe[2];
    return rm_sys.GetWindowTextW(w, probe, 2) > 0;
}

static BOOL CALLBACK on_window(HWND w, LPARAM param)
{
    struct rm_winmap *m = (struct rm_winmap *)param;
    DWORD pid = 0;
    if (!rm_sys.GetWindowThreadProcessId(w, &pid))
        return TRUE;
    struct rm_win_slot *s = (struct rm_win_slot *)rm_winmap_find(m, pid);
    if (!s)
        return TRUE;
    s->any = TRUE;
    /* Owned windows are dialogs and tool windows of some other window: not a main window. */
    if (rm_sys.GetWindow(w, GW_OWNER) || !rm_sys.IsWindowVisible(w))
        return TRUE;
    if (!s->main)
        s->main = w;
    if (!s->titled && has_title(w))
        s->titled = w;
    return TRUE;
}

DWORD rm_winmap_build(struct rm_winmap *m, const struct rm_holders *holders)
{
    m->count = 0;
    m->slots = rm_alloc_zero(holders->count * sizeof *m->slots);
    if (!m->slots)
        return ERROR_OUTOFMEMORY;
    for (uint32_t i = 0; i < holders->count; i++)
        m->slots[i].pid = holders->items[i].pid;
    qsort(m->slots, holders->count, sizeof *m->slots, by_pid);
    /* Detection gives one entry per PID; collapse duplicates anyway so bsearch stays exact. */
    for (uint32_t i = 0; i < holders->count; i++)
        if (!m->count || m->slots[m->count - 1].pid != m->slots[i].pid)
            m->slots[m->count++] = m->slots[i];
    /* No window station (a service, a headless prefix) simply means no windows. */
    rm_sys.EnumWindows(on_window, (LPARAM)m);
    return ERROR_SUCCESS;
}

void rm_winmap_free(struct rm_winmap *m)
{
    rm_sys.free(m->slots);
    m->slots = NULL;
    m->count = 0;
}
