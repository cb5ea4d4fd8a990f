/*
 * What the helper apps share: rmapp (tests/helpers) and rsapp (tests/shutdown) differ in what
 * they do and log, not in how they log, hold a file, say they are ready or report as a service.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_APPCOMMON_H
#define RM_APPCOMMON_H

#include <windows.h>

/* Appends line[0..n) and CRLF to the log in one write, the file opened for that line only:
 * what was written survives the process being killed at any moment, and the lines of copies
 * sharing a log never interleave. line must have room for two more bytes. */
void app_log_append(const WCHAR *log, char *line, int n);

/* Opens path (created if missing) with every sharing mode and keeps it open. */
BOOL app_hold(const WCHAR *path);

/* Sets the named event (--ready), creating it if the test has not. */
BOOL app_signal_ready(const WCHAR *name);

/* Reports `state` as a Win32 own-process service accepting `accepted` while it runs. */
void app_report(SERVICE_STATUS_HANDLE handle, SERVICE_STATUS *status, DWORD state, DWORD accepted);

#endif
