/*
 * RmGetList: who uses the session's resources, recomputed on every call, with the statuses
 * earlier RmShutdown/RmRestart calls recorded.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "api.h"

DWORD WINAPI RmGetList(DWORD dwSessionHandle, UINT *pnProcInfoNeeded, UINT *pnProcInfo,
                       RM_PROCESS_INFO rgAffectedApps[], LPDWORD lpdwRebootReasons)
{
    RM_PROCESS_INFO *entries = NULL;
    uint32_t count = 0;
    DWORD reasons = RmRebootReasonNone;
    volatile LONG *cancel_requests;
    LONG cancel_seen;
    RM_API_ENTER;
    rm_trace("RmGetList(%#lx, capacity=%u)", dwSessionHandle, pnProcInfo ? *pnProcInfo : 0u);
    if (!pnProcInfoNeeded || !pnProcInfo || !lpdwRebootReasons || (*pnProcInfo && !rgAffectedApps))
        RM_API_RETURN(ERROR_BAD_ARGUMENTS);

    DWORD err = rm_list_affected(dwSessionHandle, &entries, &count, &reasons, &cancel_requests, &cancel_seen);
    if (!err)
        err = rm_overlay_status(dwSessionHandle, &entries, &count);
    /* Callers decide whether to offer closing apps from the reasons: always give them one,
     * and "none" only when the list is real. */
    *lpdwRebootReasons = err ? RmRebootReasonNone : reasons;
    for (uint32_t i = 0; !err && i < count && rm_trace_on(); i++)
        rm_trace("RmGetList: pid %lu type %d status %#lx restartable %d '%ls'", entries[i].Process.dwProcessId,
                 (int)entries[i].ApplicationType, entries[i].AppStatus, entries[i].bRestartable, entries[i].strAppName);
    if (!err)
        rm_trace("RmGetList: %u entries, reboot reasons %#lx", count, reasons);
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
