/*
 * The affected-apps list that RmGetList returns and RmShutdown acts on.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "api.h"
#include "classify/classify.h"
#include "detect/detect.h"
#include "session/layout.h"
#include "session/session.h"

DWORD rm_list_affected(DWORD handle, RM_PROCESS_INFO **entries, uint32_t *count, DWORD *reasons,
                       volatile LONG **cancel_requests, LONG *cancel_seen)
{
    struct rm_registrations regs;
    struct rm_holders holders = {0};
    *entries = NULL;
    *count = 0;
    *reasons = RmRebootReasonNone;
    DWORD err = rm_session_snapshot(handle, &regs, cancel_requests);
    if (err)
        return err;
    *cancel_seen = **cancel_requests;
    struct rm_cancel cancel = {*cancel_requests, *cancel_seen};
    err = rm_detect(&regs, &cancel, &holders);
    if (!err)
        err = rm_classify(&holders, entries, count, reasons);
    if (!err && rm_cancelled(&cancel))
        err = ERROR_CANCELLED;
    if (err) {
        rm_sys.free(*entries);
        *entries = NULL;
        *count = 0;
    }
    rm_holders_free(&holders);
    rm_registrations_free(&regs);
    return err;
}

static int same_process(const RM_UNIQUE_PROCESS *a, const RM_UNIQUE_PROCESS *b)
{
    return a->dwProcessId == b->dwProcessId &&
           a->ProcessStartTime.dwLowDateTime == b->ProcessStartTime.dwLowDateTime &&
           a->ProcessStartTime.dwHighDateTime == b->ProcessStartTime.dwHighDateTime;
}

static void entry_from_state(RM_PROCESS_INFO *e, const struct rm_app_state *a)
{
    memset(e, 0, sizeof *e);
    e->Process = a->process;
    memcpy(e->strAppName, a->name, sizeof e->strAppName - sizeof(WCHAR));
    memcpy(e->strServiceShortName, a->service, (CCH_RM_MAX_SVC_NAME) * sizeof(WCHAR));
    e->ApplicationType = (RM_APP_TYPE)a->app_type;
    e->AppStatus = a->status;
    e->TSSessionId = (DWORD)RM_INVALID_TS_SESSION; /* it no longer runs */
    e->bRestartable = a->app_type == RmService || (a->flags & RM_STOPPED_SAME_IDENTITY);
}

DWORD rm_overlay_status(DWORD handle, RM_PROCESS_INFO **entries, uint32_t *count)
{
    struct rm_app_state *apps;
    uint32_t n;
    DWORD err = rm_session_apps(handle, &apps, &n);
    if (err || !n)
        return err;
    uint32_t extra = 0;
    for (uint32_t i = 0; i < n; i++) {
        int listed = 0;
        for (uint32_t j = 0; j < *count; j++)
            if (same_process(&(*entries)[j].Process, &apps[i].process)) {
                (*entries)[j].AppStatus = apps[i].status ? apps[i].status : (*entries)[j].AppStatus;
                listed = 1;
            }
        if (!listed && apps[i].stopped)
            extra++;
    }
    if (extra) {
        RM_PROCESS_INFO *all = rm_alloc_array_zero((SIZE_T)*count + extra, sizeof *all);
        if (!all)
            err = ERROR_OUTOFMEMORY;
        else {
            if (*count)
                memcpy(all, *entries, *count * sizeof *all);
            uint32_t k = *count;
            for (uint32_t i = 0; i < n; i++) {
                int listed = 0;
                for (uint32_t j = 0; j < *count; j++)
                    listed |= same_process(&all[j].Process, &apps[i].process);
                if (!listed && apps[i].stopped)
                    entry_from_state(&all[k++], &apps[i]);
            }
            rm_sys.free(*entries);
            *entries = all;
            *count = k;
        }
    }
    rm_session_apps_free(apps, n);
    return err;
}
