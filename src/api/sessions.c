/*
 * RmStartSession, RmJoinSession, RmEndSession.
 *
 * SPDX-License-Identifier: MIT
 */
#include "api.h"
#include "restart/restart.h"
#include "session/key.h"
#include "session/session.h"

DWORD WINAPI RmStartSession(DWORD *pSessionHandle, DWORD dwSessionFlags, WCHAR strSessionKey[])
{
    RM_API_ENTER;
    rm_trace("RmStartSession(flags=%lu)", dwSessionFlags);
    if (!pSessionHandle || !strSessionKey || dwSessionFlags != 0)
        RM_API_RETURN(ERROR_BAD_ARGUMENTS);
    DWORD err = rm_session_start(pSessionHandle, strSessionKey);
    if (!err)
        rm_trace("RmStartSession: handle %#lx", *pSessionHandle);
    RM_API_RETURN(err);
}

DWORD WINAPI RmJoinSession(DWORD *pSessionHandle, const WCHAR strSessionKey[])
{
    uint8_t key[RM_KEY_BYTES];
    RM_API_ENTER;
    rm_trace("RmJoinSession(key not traced: it is the session's credential)");
    /* A key that is not 32 hex digits and a NUL cannot be any session's: the caller passed
     * something else, so it is an argument error rather than a failed credential. */
    if (!pSessionHandle || !strSessionKey || rm_key_decode((const uint16_t *)strSessionKey, key) != 0)
        RM_API_RETURN(ERROR_BAD_ARGUMENTS);
    RM_API_RETURN(rm_session_join(key, pSessionHandle));
}

DWORD WINAPI RmEndSession(DWORD dwSessionHandle)
{
    RM_API_ENTER;
    rm_trace("RmEndSession(%#lx)", dwSessionHandle);
    DWORD err = rm_session_end(dwSessionHandle);
    /* Even when the store could not be told: the caller is done with the session, and what it
     * kept to restart (tokens among it) must not outlive that. Plans are keyed by this
     * process's own handle, so a handle that was never ours has none. */
    rm_restart_forget(dwSessionHandle);
    RM_API_RETURN(err);
}

/* Only asks: the running RmGetList (later RmShutdown/RmRestart) of the session stops at its
 * next safe point and returns ERROR_CANCELLED. */
DWORD WINAPI RmCancelCurrentTask(DWORD dwSessionHandle)
{
    RM_API_ENTER;
    rm_trace("RmCancelCurrentTask(%#lx)", dwSessionHandle);
    RM_API_RETURN(rm_session_cancel(dwSessionHandle));
}

/* Undocumented export of the system DLL with no known caller; it reserves nothing here. */
DWORD WINAPI RmReserveHeap(DWORD dwReserved)
{
    (void)dwReserved;
    return ERROR_SUCCESS;
}
