/*
 * Tracing: what the DLL was asked, what it decided and why, and what it answered, for people
 * finding out why an installer's files-in-use step did what it did. Lines go out whole with one
 * write each, so concurrent callers don't interleave within a line.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sys.h"

enum { TRACE_UNKNOWN, TRACE_OFF, TRACE_FILE, TRACE_DEBUGGER };

static volatile LONG mode = TRACE_UNKNOWN;
static HANDLE trace_file = INVALID_HANDLE_VALUE;
static SRWLOCK trace_lock = SRWLOCK_INIT;

static void decide(void)
{
    WCHAR target[MAX_PATH];
    DWORD n = rm_sys.GetEnvironmentVariableW(RM_TRACE_ENV, target, MAX_PATH);
    LONG m = TRACE_OFF;
    if (n && n < MAX_PATH) {
        if (!_wcsicmp(target, L"debugger"))
            m = TRACE_DEBUGGER;
        else {
            trace_file = rm_sys.CreateFileW(target, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                            NULL, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
            m = trace_file != INVALID_HANDLE_VALUE ? TRACE_FILE : TRACE_OFF;
        }
    }
    InterlockedExchange(&mode, m);
}

int rm_trace_on(void)
{
    if (mode == TRACE_UNKNOWN) {
        AcquireSRWLockExclusive(&trace_lock);
        if (mode == TRACE_UNKNOWN)
            decide();
        ReleaseSRWLockExclusive(&trace_lock);
    }
    return mode == TRACE_FILE || mode == TRACE_DEBUGGER;
}

const WCHAR *rm_trace_text(const WCHAR *s, WCHAR out[104])
{
    size_t i = 0;
    if (!s)
        return L"-";
    for (; i < 100 && s[i]; i++)
        out[i] = s[i];
    if (i == 100 && s[i]) /* longer (or unterminated): say so */
        out[i++] = 0x2026;
    out[i] = 0;
    return out;
}

void rm_trace_reset(void)
{
    AcquireSRWLockExclusive(&trace_lock);
    if (trace_file != INVALID_HANDLE_VALUE)
        rm_sys.CloseHandle(trace_file);
    trace_file = INVALID_HANDLE_VALUE;
    InterlockedExchange(&mode, TRACE_UNKNOWN);
    ReleaseSRWLockExclusive(&trace_lock);
}

void rm_trace(const char *fmt, ...)
{
    if (!rm_trace_on())
        return;
    DWORD saved = GetLastError();
    char line[1024];
    SYSTEMTIME t;
    GetLocalTime(&t);
    int n = snprintf(line, sizeof line, "%02u:%02u:%02u.%03u rstrtmgr[%lu:%lu] ", t.wHour, t.wMinute, t.wSecond,
                     t.wMilliseconds, rm_sys.GetCurrentProcessId(), GetCurrentThreadId());
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 3)
        n = (int)sizeof line - 3;
    line[n++] = '\r';
    line[n++] = '\n';
    line[n] = 0;
    DWORD written;
    if (mode == TRACE_FILE)
        rm_sys.WriteFile(trace_file, line, (DWORD)n, &written, NULL);
    else
        rm_sys.OutputDebugStringA(line);
    SetLastError(saved);
}
