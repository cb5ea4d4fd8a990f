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
    WCHAR key[RM_KEY_CHARS + 1], args[RM_KEY_CHARS + 32];
    if (turned_off() || rm_session_flags(handle, &flags) || (flags & RM_SLOT_GUARDED) || rm_session_key(handle, key))
        return;
    _snwprintf(args, sizeof args / sizeof *args, L"guard %ls %lu", key, rm_sys.GetCurrentProcessId());
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

void rm_guard_main(const WCHAR *args)
{
    WCHAR key[RM_KEY_CHARS + 1];
    if (wcslen(args) < RM_KEY_CHARS + 2)
        return;
    memcpy(key, args, RM_KEY_CHARS * sizeof *key);
    key[RM_KEY_CHARS] = 0;
    DWORD owner_pid = (DWORD)wcstoul(args + RM_KEY_CHARS + 1, NULL, 10);
    HANDLE owner = rm_sys.OpenProcess(SYNCHRONIZE, FALSE, owner_pid);
    DWORD h;
    if (!owner || RmJoinSession(&h, key) != ERROR_SUCCESS) {
        if (owner)
            rm_sys.CloseHandle(owner);
        return;
    }
    rm_session_mark_guard_ready(h);
    for (;;) {
        if (rm_sys.WaitForSingleObject(owner, RM_GUARD_POLL_MS) == WAIT_OBJECT_0) {
            /* The installer is gone. If the session is still open it died mid-install:
             * restart what it stopped. If it had ended the session, this fails harmlessly. */
            struct rm_progress none = {0};
            rm_restart_session(h, RM_SESSION_ORPHANED, &none, NULL);
            break;
        }
        uint32_t flags;
        if (rm_session_flags(h, &flags) != ERROR_SUCCESS)
            break; /* ended normally: nothing to do */
    }
    RmEndSession(h);
    rm_sys.CloseHandle(owner);
}
