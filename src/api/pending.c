/*
 * Exports whose behaviour lands with later work (README, "API coverage"). They already check
 * the session handle, the caller's role and their arguments exactly as the finished functions
 * will, then say honestly that the operation is not implemented yet.
 *
 * SPDX-License-Identifier: MIT
 */
#include "api.h"
#include "session/session.h"

/* Exactly one of the three ways to name a filter target. */
static int one_target(LPCWSTR module, const RM_UNIQUE_PROCESS *process, LPCWSTR service)
{
    return (module != NULL) + (process != NULL) + (service != NULL) == 1;
}

static DWORD owner_only(DWORD handle)
{
    DWORD err = rm_session_check(handle, TRUE);
    return err ? err : ERROR_CALL_NOT_IMPLEMENTED;
}

DWORD WINAPI RmAddFilter(DWORD dwSessionHandle, LPCWSTR strModuleName, RM_UNIQUE_PROCESS *pProcess,
                         LPCWSTR strServiceShortName, RM_FILTER_ACTION FilterAction)
{
    RM_API_ENTER;
    if (!one_target(strModuleName, pProcess, strServiceShortName) ||
        (FilterAction != RmNoRestart && FilterAction != RmNoShutdown))
        RM_API_RETURN(ERROR_BAD_ARGUMENTS);
    RM_API_RETURN(owner_only(dwSessionHandle));
}

DWORD WINAPI RmRemoveFilter(DWORD dwSessionHandle, LPCWSTR strModuleName, RM_UNIQUE_PROCESS *pProcess,
                            LPCWSTR strServiceShortName)
{
    RM_API_ENTER;
    if (!one_target(strModuleName, pProcess, strServiceShortName))
        RM_API_RETURN(ERROR_BAD_ARGUMENTS);
    RM_API_RETURN(owner_only(dwSessionHandle));
}

DWORD WINAPI RmGetFilterList(DWORD dwSessionHandle, PBYTE pbFilterBuf, DWORD cbFilterBuf,
                             LPDWORD cbFilterBufNeeded)
{
    RM_API_ENTER;
    if (!cbFilterBufNeeded || (cbFilterBuf && !pbFilterBuf))
        RM_API_RETURN(ERROR_BAD_ARGUMENTS);
    RM_API_RETURN(owner_only(dwSessionHandle));
}

/* Undocumented export of the system DLL with no known caller; it reserves nothing here. */
DWORD WINAPI RmReserveHeap(DWORD dwReserved)
{
    (void)dwReserved;
    return ERROR_SUCCESS;
}
