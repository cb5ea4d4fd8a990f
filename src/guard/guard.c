/* SPDX-License-Identifier: MIT */
#include "guard.h"

#include <restartmanager.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restart/restart.h"
#include "shutdown/shutdown.h"
#include "session/key.h"
#include "session/layout.h"
#include "session/session.h"
#include "sys/sys.h"

static BOOL turned_off(void)
{
    WCHAR v[8];
    DWORD n = rm_sys.GetEnvironmentVariableW(RM_SAFEGUARD_ENV, v, 8);
    return n == 1 && v[0] == '0';
}

void rm_guard_start(DWORD handle)
{
    uint32_t flags = 0;
    WCHAR key[RM_KEY_CHARS + 1], args[64];
    HANDLE section;
    if (turned_off() || rm_session_flags(handle, &flags) || (flags & RM_SLOT_GUARDED) || rm_session_key(handle, key))
        return;
    DWORD err = rm_restart_share(handle, key, &section);
    SecureZeroMemory(key, sizeof key);
    if (err) {
        rm_trace("safeguard: no handoff for the watcher (error %lu): none is started", err);
        return;
    }
    /* Neither the key nor any plan on the command line, which other processes may read: the
     * watcher takes both from the handoff, which it duplicates out of this process. */
    _snwprintf(args, sizeof args / sizeof *args, L"guard %lu %llu", rm_sys.GetCurrentProcessId(),
               (unsigned long long)(ULONG_PTR)section);
    args[sizeof args / sizeof *args - 1] = 0;
    HANDLE watcher;
    if (!rm_start_helper(args, &watcher))
        return;
    rm_session_set_flags(handle, RM_SLOT_GUARDED);
    /* Until the watcher has joined, the session's memory dies with us: a crash right after
     * RmShutdown returned would leave it nothing to join. So wait (bounded) for it. */
    ULONGLONG deadline = GetTickCount64() + 5000;
    while (GetTickCount64() < deadline && rm_sys.WaitForSingleObject(watcher, 20) == WAIT_TIMEOUT)
        if (!rm_session_flags(handle, &flags) && (flags & RM_SLOT_GUARD_READY))
            break;
    rm_trace("safeguard: watcher %s", flags & RM_SLOT_GUARD_READY ? "joined" : "did not join in time");
    rm_sys.CloseHandle(watcher);
}

/* "<owner pid> <handoff handle value in the owner>" */
static BOOL parse_args(const WCHAR *args, DWORD *pid, ULONG_PTR *value)
{
    WCHAR *end;
    unsigned long p = wcstoul(args, &end, 10);
    if (end == args || *end != ' ' || !p)
        return FALSE;
    const WCHAR *v = end + 1;
    unsigned long long h = _wcstoui64(v, &end, 10);
    if (end == v || *end || !h || h != (ULONG_PTR)h)
        return FALSE;
    *pid = (DWORD)p;
    *value = (ULONG_PTR)h;
    return TRUE;
}

void rm_guard_main(const WCHAR *args)
{
    WCHAR key[RM_KEY_CHARS + 1];
    DWORD owner_pid;
    ULONG_PTR value;
    struct rm_handoff_view handoff;
    if (!parse_args(args, &owner_pid, &value))
        return;
    HANDLE owner = rm_sys.OpenProcess(SYNCHRONIZE | PROCESS_DUP_HANDLE, FALSE, owner_pid);
    if (!owner)
        return;
    DWORD h;
    DWORD err = rm_handoff_open(owner, value, &handoff, key);
    if (!err) {
        err = RmJoinSession(&h, key);
        SecureZeroMemory(key, sizeof key);
        if (err)
            rm_handoff_close(&handoff);
    }
    if (err) {
        rm_trace("safeguard: the watcher could not take over the session (error %lu)", err);
        rm_sys.CloseHandle(owner);
        return;
    }
    rm_session_mark_guard_ready(h);
    /* Only the owner's word counts: its death, or its mark that it ended the session. What the
     * store says (a slot freed, reused, or rewritten) decides nothing here. */
    while (!rm_handoff_ended(&handoff) && rm_sys.WaitForSingleObject(owner, RM_GUARD_POLL_MS) != WAIT_OBJECT_0)
        ;
    /* Not ended: the installer died with the session open. Restart what it stopped. */
    if (!rm_handoff_ended(&handoff)) {
        struct rm_progress none = {0};
        err = rm_restart_adopt(h, &handoff);
        if (err)
            rm_trace("safeguard: the owner's plans were not all readable (error %lu)", err);
        err = rm_restart_session(h, RM_SESSION_ORPHANED, &none, NULL);
        rm_trace("safeguard: restart after the owner died: %lu", err);
    }
    rm_handoff_close(&handoff);
    RmEndSession(h);
    rm_sys.CloseHandle(owner);
}
