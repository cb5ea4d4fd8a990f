/*
 * What the benchmarks share (see common.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout); /* a pipe is fully buffered: show progress as it happens */
}

int bench_number(const WCHAR *s, unsigned lo, unsigned hi, unsigned *out)
{
    WCHAR *end;
    unsigned long v = wcstoul(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return 0;
    *out = (unsigned)v;
    return 1;
}

int bench_by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int bench_start(const WCHAR *exe, WCHAR *cmd, const char *what, unsigned i, PROCESS_INFORMATION *pi)
{
    STARTUPINFOW si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    if (!CreateProcessW(exe, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, pi)) {
        say("error: cannot start %s %u (error %lu)\n", what, i, GetLastError());
        return 0;
    }
    CloseHandle(pi->hThread);
    pi->hThread = NULL;
    return 1;
}

int bench_wait_ready(const HANDLE *ready, const PROCESS_INFORMATION *pi, unsigned n, DWORD budget_ms,
                     const char *what)
{
    DWORD start = GetTickCount();
    for (unsigned i = 0; i < n; i++) {
        HANDLE both[2] = {ready[i], pi[i].hProcess};
        DWORD spent = GetTickCount() - start;
        DWORD r = WaitForMultipleObjects(2, both, FALSE, spent < budget_ms ? budget_ms - spent : 0);
        if (r != WAIT_OBJECT_0) {
            DWORD code = 0;
            GetExitCodeProcess(pi[i].hProcess, &code);
            say("error: %s %u did not get ready (wait %lu, exit code %lu)\n", what, i, r, code);
            return 0;
        }
    }
    return 1;
}
