/*
 * RmGetList: who uses the session's resources, recomputed on every call.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "api.h"
#include "classify/classify.h"
#include "detect/detect.h"
#include "session/session.h"

/* Detection and classification for one call, with no lock held while the system is scanned. */
static DWORD list_affected(DWORD handle, RM_PROCESS_INFO **entries, uint32_t *count, DWORD *reasons)
{
    struct rm_registrations regs;
    struct rm_holders holders = {0};
    volatile LONG *cancel_requests = NULL;
    DWORD err = rm_session_snapshot(handle, &regs, &cancel_requests);
    if (err)
        return err;
    struct rm_cancel cancel = {cancel_requests, *cancel_requests};
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

DWORD WINAPI RmGetList(DWORD dwSessionHandle, UINT *pnProcInfoNeeded, UINT *pnProcInfo,
                       RM_PROCESS_INFO rgAffectedApps[], LPDWORD lpdwRebootReasons)
{
    RM_PROCESS_INFO *entries = NULL;
    uint32_t count = 0;
    DWORD reasons = RmRebootReasonNone;
    RM_API_ENTER;
    if (!pnProcInfoNeeded || !pnProcInfo || !lpdwRebootReasons || (*pnProcInfo && !rgAffectedApps))
        RM_API_RETURN(ERROR_BAD_ARGUMENTS);

    DWORD err = list_affected(dwSessionHandle, &entries, &count, &reasons);
    /* Callers decide whether to offer closing apps from the reasons: always give them one,
     * and "none" only when the list is real. */
    *lpdwRebootReasons = err && err != ERROR_MORE_DATA ? RmRebootReasonNone : reasons;
    if (!err) {
        *pnProcInfoNeeded = count;
        if (count > *pnProcInfo) {
            /* Nothing is written past the caller's array, and *pnProcInfo says how much was
             * written: none. */
            *pnProcInfo = 0;
            err = ERROR_MORE_DATA;
        } else {
            if (count)
                memcpy(rgAffectedApps, entries, count * sizeof *entries);
            *pnProcInfo = count;
        }
    }
    rm_sys.free(entries);
    RM_API_RETURN(err);
}
