/*
 * Console apps: CTRL_C_EVENT on the app's own console.
 *
 * Sending a console control event means attaching to that console, and a process has one
 * console at most: doing it here would take the caller off its own console. So a helper
 * process does it — rundll32 running this DLL's RmRunHelperW — and the caller's console is
 * never touched. An app that shares the caller's console cannot be sent CTRL_C without
 * hitting the caller too: it is left running unless the call is forced.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/native.h"
#include "shutdown.h"
#include "sys/sys.h"

struct console_job {
    struct rm_target *t;
    const struct rm_shutdown *s;
};

static BOOL shares_our_console(DWORD pid)
{
    DWORD list[256];
    DWORD n = rm_sys.GetConsoleProcessList(list, 256);
    for (DWORD i = 0; i < n && i < 256; i++)
        if (list[i] == pid)
            return TRUE;
    return FALSE;
}

BOOL rm_start_helper(const WCHAR *args, HANDLE *process)
{
    WCHAR rundll[MAX_PATH + 16], dll[MAX_PATH];
    UINT sl = rm_sys.GetSystemDirectoryW(rundll, MAX_PATH);
    DWORD dl = rm_module ? rm_sys.GetModuleFileNameW(rm_module, dll, MAX_PATH) : 0;
    if (!sl || sl >= MAX_PATH || !dl || dl >= MAX_PATH)
        return FALSE;
    wcscpy(rundll + sl, L"\\rundll32.exe");
    return rm_spawn_helper(rundll, dll, args, process);
}

static void send_ctrl_c(DWORD pid)
{
    WCHAR args[32];
    HANDLE helper;
    _snwprintf(args, 32, L"ctrlc %lu", pid);
    args[31] = 0;
    if (!rm_start_helper(args, &helper))
        return;
    rm_sys.WaitForSingleObject(helper, 5000);
    rm_sys.CloseHandle(helper);
}

static DWORD WINAPI console_job_main(LPVOID param)
{
    struct console_job *j = param;
    struct rm_target *t = j->t;
    if (rm_sys.WaitForSingleObject(t->process, 0) == WAIT_OBJECT_0)
        return 0;
    if (!shares_our_console(t->info.Process.dwProcessId)) {
        rm_trace("shutdown: CTRL_C to console pid %lu (through a helper process)", t->info.Process.dwProcessId);
        send_ctrl_c(t->info.Process.dwProcessId);
    } else
        rm_trace("shutdown: console pid %lu shares our console: no CTRL_C", t->info.Process.dwProcessId);
    /* The app's time runs from when it was told, as a GUI app's runs from its message: the
     * helper's start (itself bounded) is ours, not the app's. */
    rm_wait_exit(t->process, GetTickCount64() + j->s->app_timeout, j->s->cancel);
    return 0;
}

DWORD rm_shutdown_consoles(struct rm_shutdown *s, struct rm_target **t, uint32_t n)
{
    struct console_job *jobs = rm_alloc_zero((n ? n : 1) * sizeof *jobs);
    uint32_t k = 0;
    if (!jobs)
        return ERROR_OUTOFMEMORY;
    for (uint32_t i = 0; i < n; i++)
        if (t[i]->process) {
            jobs[k].t = t[i];
            jobs[k].s = s;
            k++;
        }
    DWORD err = rm_run_parallel(console_job_main, jobs, sizeof *jobs, k);
    rm_sys.free(jobs);
    for (uint32_t i = 0; i < n && !err; i++)
        rm_settle(s, t[i]);
    return err;
}

/* rundll32 "<this dll>",RmRunHelper ctrlc <pid> */
static void helper_ctrl_c(const WCHAR *args)
{
    DWORD pid = (DWORD)wcstoul(args, NULL, 10);
    rm_sys.FreeConsole();
    if (!pid || !rm_sys.AttachConsole(pid))
        return;
    rm_sys.SetConsoleCtrlHandler(NULL, TRUE); /* the event reaches us too: ignore it */
    rm_sys.GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0);
    rm_sys.FreeConsole();
}

void rm_guard_main(const WCHAR *args);

void CALLBACK RmRunHelperW(HWND hwnd, HINSTANCE inst, LPWSTR cmdline, int show)
{
    (void)hwnd, (void)inst, (void)show;
    if (!cmdline)
        return;
    if (!wcsncmp(cmdline, L"ctrlc ", 6))
        helper_ctrl_c(cmdline + 6);
    else if (!wcsncmp(cmdline, L"guard ", 6))
        rm_guard_main(cmdline + 6);
    else if (!wcsncmp(cmdline, L"native ", 7))
        rm_native_helper_main(cmdline + 7);
}
