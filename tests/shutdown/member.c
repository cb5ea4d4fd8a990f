/*
 * sd_member KEY PID STATUS: joins the session KEY and checks that the status the session
 * recorded for process PID is exactly STATUS (restart.c starts it). Exit code 0 when it is,
 * and a line on stderr saying what differed otherwise.
 *
 * Statuses live in the shared session, not in the process that wrote them: any member reads
 * them (the safeguard depends on it). The public API gives a member no list (RmGetList is the
 * owner's, ERROR_SESSION_CREDENTIAL_CONFLICT otherwise), so this reads them through the
 * session module, linked statically with the default store prefix: the DLL's own store.
 *
 * SPDX-License-Identifier: MIT
 */
#include <windows.h>

#include <restartmanager.h>
#include <stdio.h>
#include <stdlib.h>

#include "session/session.h"

int wmain(int argc, WCHAR **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: sd_member KEY PID STATUS\n");
        return 2;
    }
    DWORD pid = (DWORD)wcstoul(argv[2], NULL, 0), want = (DWORD)wcstoul(argv[3], NULL, 0), h;
    DWORD err = RmJoinSession(&h, argv[1]);
    if (err) {
        fprintf(stderr, "sd_member: RmJoinSession returned %lu\n", err);
        return 3;
    }
    int rc = 0;
    UINT needed = 0, n = 0;
    DWORD reasons;
    err = RmGetList(h, &needed, &n, NULL, &reasons);
    if (err != ERROR_SESSION_CREDENTIAL_CONFLICT) {
        fprintf(stderr, "sd_member: RmGetList from a member returned %lu, expected %lu\n", err,
                (DWORD)ERROR_SESSION_CREDENTIAL_CONFLICT);
        rc = 4;
    }
    struct rm_app_state *apps;
    uint32_t count;
    err = rm_session_apps(h, &apps, &count);
    if (err) {
        fprintf(stderr, "sd_member: reading the statuses failed: %lu\n", err);
        rc = 5;
    } else {
        int found = 0;
        for (uint32_t i = 0; i < count; i++)
            if (apps[i].process.dwProcessId == pid) {
                found = 1;
                if (apps[i].status != want) {
                    fprintf(stderr, "sd_member: pid %lu has status 0x%x, expected 0x%lx\n", pid, apps[i].status,
                            want);
                    rc = 6;
                }
            }
        if (!found) {
            fprintf(stderr, "sd_member: pid %lu has no recorded status (%u apps)\n", pid, count);
            rc = 7;
        }
        rm_session_apps_free(apps, count);
    }
    err = RmEndSession(h);
    if (err) {
        fprintf(stderr, "sd_member: RmEndSession returned %lu\n", err);
        rc = rc ? rc : 8;
    }
    return rc;
}
