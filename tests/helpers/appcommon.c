/*
 * What the helper apps share (see appcommon.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "appcommon.h"

void app_log_append(const WCHAR *log, char *line, int n)
{
    line[n++] = '\r';
    line[n++] = '\n';
    HANDLE f = CreateFileW(log, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return;
    DWORD written;
    WriteFile(f, line, (DWORD)n, &written, NULL);
    CloseHandle(f);
}

BOOL app_hold(const WCHAR *path)
{
    return CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_ALWAYS,
                       FILE_ATTRIBUTE_NORMAL, NULL) != INVALID_HANDLE_VALUE;
}

BOOL app_signal_ready(const WCHAR *name)
{
    HANDLE ev = OpenEventW(EVENT_MODIFY_STATE, FALSE, name);
    if (!ev)
        ev = CreateEventW(NULL, TRUE, FALSE, name);
    if (!ev || !SetEvent(ev))
        return FALSE;
    CloseHandle(ev);
    return TRUE;
}

void app_report(SERVICE_STATUS_HANDLE handle, SERVICE_STATUS *status, DWORD state, DWORD accepted)
{
    BOOL settled = state == SERVICE_RUNNING || state == SERVICE_STOPPED;
    status->dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    status->dwCurrentState = state;
    status->dwControlsAccepted = state == SERVICE_RUNNING ? accepted : 0;
    status->dwWin32ExitCode = NO_ERROR;
    status->dwWaitHint = settled ? 0 : 30000;
    status->dwCheckPoint = settled ? 0 : status->dwCheckPoint + 1;
    SetServiceStatus(handle, status);
}
