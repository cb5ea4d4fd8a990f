/*
 * Which filter applies to each affected app. A path filter matches the app's executable by
 * identity (volume + file ID), like everything else here, not by name; a later filter on the
 * same app wins over an earlier one.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "detect/registered.h"
#include "detect/worker.h"
#include "session/filterbuf.h"
#include "session/path.h"
#include "shutdown.h"
#include "sys/sys.h"

/* 1 with the identity, 0 when the file has none to give (gone, say), -1 out of memory: a
 * filter that cannot be evaluated must not quietly stop applying. */
static int path_identity(const uint16_t *text, uint32_t n, struct rm_identity *id)
{
    HANDLE h;
    DWORD err = rm_open_path(text, n, FILE_READ_ATTRIBUTES, &h);
    if (err)
        return err == ERROR_OUTOFMEMORY ? -1 : 0;
    BOOL ok = rm_query_identity(h, id, NULL);
    rm_sys.CloseHandle(h);
    return ok ? 1 : 0;
}

/* As path_identity, for a process's executable. */
static int image_identity(DWORD pid, struct rm_identity *id)
{
    HANDLE p = rm_sys.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (!p)
        return 0;
    WCHAR image[MAX_PATH * 2];
    DWORD n = MAX_PATH * 2;
    int got = rm_sys.QueryFullProcessImageNameW(p, 0, image, &n) ? path_identity((const uint16_t *)image, n, id) : 0;
    rm_sys.CloseHandle(p);
    return got;
}

static int matches(const RM_PROCESS_INFO *e, const struct rm_filter_item *f, const struct rm_identity *filter_id,
                   int have_filter_id, const struct rm_identity *app_id, int have_app_id)
{
    switch (f->trigger) {
    case RmFilterTriggerProcess:
        return e->Process.dwProcessId == f->pid && e->Process.ProcessStartTime.dwLowDateTime == f->time_lo &&
               e->Process.ProcessStartTime.dwHighDateTime == f->time_hi;
    case RmFilterTriggerService: {
        size_t n = wcsnlen(e->strServiceShortName, CCH_RM_MAX_SVC_NAME);
        return e->ApplicationType == RmService &&
               rm_text_equal((const uint16_t *)e->strServiceShortName, n, f->text, f->nchars);
    }
    case RmFilterTriggerFile:
        return have_filter_id && have_app_id && filter_id->volume == app_id->volume &&
               filter_id->file_id == app_id->file_id;
    default:
        return 0;
    }
}

DWORD rm_filter_actions(const RM_PROCESS_INFO *e, uint32_t n, const struct rm_filter_item *f, uint32_t nf,
                        uint32_t *actions)
{
    struct rm_identity *fid = rm_alloc_zero((nf ? nf : 1) * sizeof *fid);
    BYTE *have = rm_alloc_zero(nf ? nf : 1);
    if (!fid || !have) {
        rm_sys.free(fid);
        rm_sys.free(have);
        return ERROR_OUTOFMEMORY;
    }
    int any_file = 0, oom = 0;
    for (uint32_t k = 0; k < nf; k++)
        if (f[k].trigger == RmFilterTriggerFile) {
            int got = path_identity(f[k].text, f[k].nchars, &fid[k]);
            oom |= got < 0;
            have[k] = got > 0;
            any_file |= have[k];
        }
    for (uint32_t i = 0; i < n && !oom; i++) {
        struct rm_identity app;
        int have_app = any_file && e[i].ApplicationType != RmService ? image_identity(e[i].Process.dwProcessId, &app) : 0;
        if (have_app < 0) {
            oom = 1;
            break;
        }
        actions[i] = RmInvalidFilterAction;
        for (uint32_t k = 0; k < nf; k++) /* in the order set: the latest match wins */
            if (matches(&e[i], &f[k], &fid[k], have[k], &app, have_app))
                actions[i] = f[k].action;
    }
    rm_sys.free(fid);
    rm_sys.free(have);
    return oom ? ERROR_OUTOFMEMORY : ERROR_SUCCESS;
}
