/*
 * rsapp: the app that the shutdown and restart tests bring back.
 *
 * tests/helpers/rmapp does not say who it is, so a test cannot tell a restarted copy from the
 * original, nor see the command line and directory it was restarted with, nor which of two
 * services heard a stop first. This one logs all of that:
 *
 *   --hold FILE       open FILE (created if missing), every sharing mode, and keep it open
 *   --load DLL        LoadLibrary it and keep it loaded; logs where it went and, when it
 *                     exports rsapp_edition, which edition it is
 *   --refuse          say no: WM_QUERYENDSESSION is answered FALSE and WM_CLOSE is ignored
 *   --arg VALUE       no effect: a caller's own argument, which a restart must hand back
 *   --gui             a top-level window: WM_QUERYENDSESSION is answered TRUE,
 *                     WM_ENDSESSION(TRUE) and WM_CLOSE end the process (code 0)
 *   --console         CTRL_C ends the process (code 42)
 *   --service NAME    run as the Win32 service NAME; SERVICE_CONTROL_STOP stops it
 *   --exit-delay MS   how long it takes to go once told to
 *   --ready EVENT     set the named event once set up (a service: once RUNNING)
 *   --log FILE        append one line per event, each naming the process:
 *                       START pid=P edition=E console=P1,P2 cwd=DIR cmd=COMMAND LINE
 *                       LOADED pid=P base=0xADDRESS edition=E path=DLL
 *                       WM_QUERYENDSESSION pid=P lParam=0x1
 *                       WM_ENDSESSION pid=P wParam=1 lParam=0x1
 *                       WM_CLOSE pid=P
 *                       CTRL_C pid=P
 *                       SERVICE_CONTROL_STOP pid=P name=NAME
 *                     console= lists the processes attached to its console (empty: none),
 *                     so a test sees whether it got a console of its own.
 *
 * Built as rsapp.exe (console subsystem) and rsappw.exe (windows subsystem), edition 1; the
 * real-client suite (tests/clients) builds editions 1 and 2 of both, so that a test can tell the
 * copy an installer put in place from the one it replaced. edition= in a LOADED line is the
 * DLL's own (0: it does not say).
 *
 * SPDX-License-Identifier: MIT
 */
#include <windows.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#include "../helpers/appcommon.h"

#define MAX_HOLD 4

#ifndef RSAPP_EDITION
#define RSAPP_EDITION 1
#endif

static struct {
    const WCHAR *hold[MAX_HOLD], *load[MAX_HOLD];
    int nhold, nload, gui, console, refuse;
    DWORD exit_delay;
    const WCHAR *service, *ready, *log;
} opt;

static void log_line(const WCHAR *fmt, ...)
{
    WCHAR wide[4096];
    char line[3 * 4096 + 2];
    va_list ap;
    if (!opt.log)
        return;
    va_start(ap, fmt);
    _vsnwprintf(wide, 4096, fmt, ap);
    va_end(ap);
    wide[4095] = 0;
    int n = WideCharToMultiByte(CP_UTF8, 0, wide, -1, line, sizeof line - 2, NULL, NULL);
    if (n <= 0)
        return;
    app_log_append(opt.log, line, n - 1); /* without the NUL */
}

static void fail(int code, const WCHAR *what)
{
    fprintf(stderr, "rsapp: %ls failed: %lu\n", what, GetLastError());
    log_line(L"ERROR pid=%lu %ls %lu", GetCurrentProcessId(), what, GetLastError());
    ExitProcess((UINT)code);
}

static const WCHAR *value(int argc, WCHAR **argv, int *i)
{
    if (*i + 1 >= argc)
        fail(2, L"a value for the last option");
    return argv[++*i];
}

static void parse(int argc, WCHAR **argv)
{
    for (int i = 1; i < argc; i++) {
        const WCHAR *a = argv[i];
        if (!wcscmp(a, L"--hold") && opt.nhold < MAX_HOLD)
            opt.hold[opt.nhold++] = value(argc, argv, &i);
        else if (!wcscmp(a, L"--load") && opt.nload < MAX_HOLD)
            opt.load[opt.nload++] = value(argc, argv, &i);
        else if (!wcscmp(a, L"--refuse"))
            opt.refuse = 1;
        else if (!wcscmp(a, L"--arg"))
            (void)value(argc, argv, &i);
        else if (!wcscmp(a, L"--gui"))
            opt.gui = 1;
        else if (!wcscmp(a, L"--console"))
            opt.console = 1;
        else if (!wcscmp(a, L"--service"))
            opt.service = value(argc, argv, &i);
        else if (!wcscmp(a, L"--exit-delay"))
            opt.exit_delay = (DWORD)wcstoul(value(argc, argv, &i), NULL, 0);
        else if (!wcscmp(a, L"--ready"))
            opt.ready = value(argc, argv, &i);
        else if (!wcscmp(a, L"--log"))
            opt.log = value(argc, argv, &i);
        else
            fail(2, a);
    }
}

static void log_start(void)
{
    WCHAR cwd[MAX_PATH], consoles[256] = L"";
    DWORD pids[16];
    DWORD n = GetConsoleProcessList(pids, 16);
    for (DWORD i = 0; i < n && i < 16; i++) {
        size_t len = wcslen(consoles);
        _snwprintf(consoles + len, 256 - len, L"%ls%lu", i ? L"," : L"", pids[i]);
        consoles[255] = 0;
    }
    if (!GetCurrentDirectoryW(MAX_PATH, cwd))
        cwd[0] = 0;
    log_line(L"START pid=%lu edition=%d console=%ls cwd=%ls cmd=%ls", GetCurrentProcessId(), RSAPP_EDITION, consoles,
             cwd, GetCommandLineW());
}

static void load_dll(const WCHAR *path)
{
    HMODULE m = LoadLibraryW(path);
    if (!m)
        fail(4, path);
    int (*edition)(void) = (int (*)(void))(void (*)(void))GetProcAddress(m, "rsapp_edition");
    log_line(L"LOADED pid=%lu base=0x%llx edition=%d path=%ls", GetCurrentProcessId(),
             (unsigned long long)(ULONG_PTR)m, edition ? edition() : 0, path);
}

static void signal_ready(void)
{
    if (opt.ready && !app_signal_ready(opt.ready))
        fail(9, L"--ready");
}

static BOOL WINAPI on_console_event(DWORD type)
{
    if (type != CTRL_C_EVENT)
        return FALSE;
    log_line(L"CTRL_C pid=%lu", GetCurrentProcessId());
    Sleep(opt.exit_delay);
    ExitProcess(42);
}

static LRESULT CALLBACK on_message(HWND w, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_QUERYENDSESSION:
        log_line(L"WM_QUERYENDSESSION pid=%lu lParam=0x%lx", GetCurrentProcessId(), (unsigned long)lp);
        return !opt.refuse;
    case WM_ENDSESSION:
        log_line(L"WM_ENDSESSION pid=%lu wParam=%lu lParam=0x%lx", GetCurrentProcessId(), (unsigned long)wp,
                 (unsigned long)lp);
        if (wp) {
            Sleep(opt.exit_delay);
            ExitProcess(0);
        }
        return 0;
    case WM_CLOSE:
        log_line(L"WM_CLOSE pid=%lu", GetCurrentProcessId());
        if (opt.refuse)
            return 0;
        Sleep(opt.exit_delay);
        ExitProcess(0);
    default:
        return DefWindowProcW(w, msg, wp, lp);
    }
}

static void gui_setup(void)
{
    WNDCLASSW wc = {0};
    wc.lpfnWndProc = on_message;
    wc.hInstance = GetModuleHandleW(NULL);
    wc.lpszClassName = L"rstrtmgr.rsapp";
    if (!RegisterClassW(&wc))
        fail(6, L"RegisterClassW");
    HWND w = CreateWindowExW(0, wc.lpszClassName, L"rsapp", WS_OVERLAPPEDWINDOW, CW_USEDEFAULT, CW_USEDEFAULT, 320,
                             200, NULL, NULL, wc.hInstance, NULL);
    if (!w)
        fail(6, L"CreateWindowExW");
    ShowWindow(w, SW_SHOWNORMAL);
}

static SERVICE_STATUS_HANDLE service_handle;
static SERVICE_STATUS service_status;
static HANDLE service_stop;

static void report(DWORD state)
{
    app_report(service_handle, &service_status, state, SERVICE_ACCEPT_STOP);
}

static DWORD WINAPI on_control(DWORD control, DWORD type, LPVOID data, LPVOID context)
{
    (void)type, (void)data, (void)context;
    if (control == SERVICE_CONTROL_INTERROGATE)
        return NO_ERROR;
    if (control != SERVICE_CONTROL_STOP)
        return ERROR_CALL_NOT_IMPLEMENTED;
    log_line(L"SERVICE_CONTROL_STOP pid=%lu name=%ls", GetCurrentProcessId(), opt.service);
    report(SERVICE_STOP_PENDING);
    SetEvent(service_stop);
    return NO_ERROR;
}

static void WINAPI service_main(DWORD argc, LPWSTR *argv)
{
    (void)argc, (void)argv;
    service_handle = RegisterServiceCtrlHandlerExW(opt.service, on_control, NULL);
    if (!service_handle)
        fail(8, L"RegisterServiceCtrlHandlerExW");
    service_stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    report(SERVICE_RUNNING);
    signal_ready();
    WaitForSingleObject(service_stop, INFINITE);
    Sleep(opt.exit_delay);
    report(SERVICE_STOPPED);
}

int wmain(int argc, WCHAR **argv)
{
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    parse(argc, argv);
    log_start();
    for (int i = 0; i < opt.nhold; i++)
        if (!app_hold(opt.hold[i]))
            fail(3, opt.hold[i]);
    for (int i = 0; i < opt.nload; i++)
        load_dll(opt.load[i]);
    if (opt.console && !SetConsoleCtrlHandler(on_console_event, TRUE))
        fail(7, L"SetConsoleCtrlHandler");
    if (opt.service) {
        SERVICE_TABLE_ENTRYW table[] = {{(LPWSTR)opt.service, service_main}, {NULL, NULL}};
        if (!StartServiceCtrlDispatcherW(table))
            fail(8, L"StartServiceCtrlDispatcherW");
        return 0;
    }
    if (opt.gui)
        gui_setup();
    signal_ready();
    if (opt.gui) {
        MSG m;
        while (GetMessageW(&m, NULL, 0, 0) > 0) {
            TranslateMessage(&m);
            DispatchMessageW(&m);
        }
        return 0;
    }
    for (;;)
        Sleep(INFINITE);
}
