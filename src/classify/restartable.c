/*
 * Can RM bring an app back after shutting it down (RM_PROCESS_INFO.bRestartable)?
 *
 * Where the OS keeps RegisterApplicationRestart registrations, GetApplicationRestartSettings
 * answers. Where it does not (E_NOTIMPL: Wine), the restart module can still relaunch an app
 * from the command line it captures before shutdown (DESIGN §3), so such apps count as
 * restartable when that capture is possible — unless RSTRTMGR_RESTART_FALLBACK=0.
 *
 * Either way, an app running as another user is not restartable: a restart runs with the
 * caller's identity, never someone else's (SPEC §5.4: "Application SID does not match
 * Conductor SID").
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <wchar.h>

#include "classify/classify.h"
#include "sys/sys.h"

int rm_restart_fallback_enabled(void)
{
    WCHAR value[4];
    DWORD n = rm_sys.GetEnvironmentVariableW(RM_RESTART_FALLBACK_ENV, value, 4);
    return !(n == 1 && value[0] == L'0');
}

/* Does the process run as the caller's user? Unknown counts as no. */
static int same_user(HANDLE query)
{
    BYTE buf[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    HANDLE token = NULL;
    DWORD len = 0;
    LPWSTR text = NULL;
    const WCHAR *mine = rm_user_sid();
    if (!mine || !query || !rm_sys.OpenProcessToken(query, TOKEN_QUERY, &token))
        return 0;
    BOOL ok = rm_sys.GetTokenInformation(token, TokenUser, buf, sizeof buf, &len);
    rm_sys.CloseHandle(token);
    if (!ok || !rm_sys.ConvertSidToStringSidW(((TOKEN_USER *)(void *)buf)->User.Sid, &text))
        return 0;
    int same = wcscmp(text, mine) == 0;
    rm_sys.LocalFree(text);
    return same;
}

int rm_app_restartable(struct rm_cls_call *c, HANDLE query, HANDLE deep, const RM_UNIQUE_PROCESS *who)
{
    DWORD size = 0, flags = 0;
    /* The registration lives in the target's memory: without PROCESS_VM_READ it is out of
     * reach, and so is the command line a fallback restart would need. */
    if (!deep)
        return 0;
    HRESULT hr = rm_sys.GetApplicationRestartSettings(deep, NULL, &size, &flags);
    if (hr == S_OK || hr == HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER))
        return !(flags & RESTART_NO_PATCH) && same_user(query);
    if (hr != E_NOTIMPL) /* ERROR_NOT_FOUND: never registered; anything else: cannot tell */
        return 0;
    if (!c->restart_fallback || !same_user(query))
        return 0;
    return rm_cmdline_readable(c, query, deep, who);
}
