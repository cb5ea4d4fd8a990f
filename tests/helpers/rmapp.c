/*
 * rmapp: the application (or service) that Restart Manager tests act on.
 *
 * One program plays every kind of holder; the arguments say what it does, all of them
 * combinable and each option may repeat where it names a file:
 *
 *   --hold FILE       open FILE (created if missing) with every sharing mode and keep it open
 *   --load DLL        LoadLibrary it and keep it loaded
 *   --map FILE        map a view of FILE (it must not be empty), then close the file and
 *                     mapping handles, so only the view keeps it in use
 *   --gui [TITLE]     create a visible top-level window (caption TITLE, default "rmapp") and
 *                     pump its messages: WM_QUERYENDSESSION is answered TRUE, and
 *                     WM_ENDSESSION(TRUE) ends the process (code 0) after --exit-delay
 *   --hang            with --gui: create the window, then never pump messages again
 *   --console         handle console control events: CTRL_C ends the process with code 42
 *                     after --exit-delay
 *   --refuse          say no: WM_QUERYENDSESSION is answered FALSE, WM_CLOSE and CTRL_C are
 *                     ignored
 *   --exit-delay MS   how long the process takes to go once told to (default 0)
 *   --service NAME    run as the Win32 service NAME (StartServiceCtrlDispatcher): reports
 *                     RUNNING once everything else is set up, and stops (after --exit-delay)
 *                     on SERVICE_CONTROL_STOP or SERVICE_CONTROL_SHUTDOWN
 *   --ready EVENT     set the named event once everything is set up (a service: once it
 *                     reported RUNNING), so tests wait for a signal instead of sleeping
 *   --log FILE        append one line per message or event received, e.g.
 *                       WM_QUERYENDSESSION lParam=0x1
 *                       WM_ENDSESSION wParam=1 lParam=0x1
 *                       WM_CLOSE
 *                       CTRL_C
 *                       SERVICE_CONTROL_STOP
 *
 * Without --gui, --console or --service the program simply waits to be killed.
 * A failed set-up step exits with a code naming it (see enum failure) and a line on stderr.
 *
 * Built twice from this file: rmapp.exe (console subsystem, with a version resource whose
 * FileDescription is "rstrtmgr test app") and rmappw.exe (windows subsystem, no version
 * resource), so both ways RM names and types an app can be seen.
 *
 * SPDX-License-Identifier: MIT
 */
#include <windows.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#include "appcommon.h"

#define MAX_ITEMS 16

enum failure {
    FAIL_USAGE = 2,
    FAIL_HOLD = 3,
    FAIL_LOAD = 4,
    FAIL_MAP = 5,
    FAIL_GUI = 6,
    FAIL_CONSOLE = 7,
    FAIL_SERVICE = 8,
    FAIL_READY = 9,
};

/* The code a console program ends with when CTRL_C closes it. */
#define CTRL_C_EXIT_CODE 42

static struct {
    const WCHAR *hold[MAX_ITEMS], *load[MAX_ITEMS], *map[MAX_ITEMS];
    int nhold, nload, nmap;
    int gui, hang, console, refuse;
    const WCHAR *title;
    DWORD exit_delay;
    const WCHAR *service, *ready, *log;
} opt = {.title = L"rmapp"};

/* ---- the log ---------------------------------------------------------------------------------- */

static void log_line(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    if (!opt.log)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof line - 3)
        n = (int)sizeof line - 3;
    app_log_append(opt.log, line, n);
}

static void die(enum failure code, const char *what, const WCHAR *arg)
{
    DWORD err = GetLastError();
    fprintf(stderr, "rmapp: %s %ls failed: %lu\n", what, arg ? arg : L"", err);
    log_line("ERROR %s %ls %lu", what, arg ? arg : L"", err);
    ExitProcess(code);
}

/* ---- arguments -------------------------------------------------------------------------------- */

static void usage(const WCHAR *arg)
{
    fprintf(stderr, "rmapp: bad argument %ls (see tests/helpers/rmapp.c)\n", arg ? arg : L"(missing)");
    ExitProcess(FAIL_USAGE);
}

static const WCHAR *value(int argc, WCHAR **argv, int *i)
{
    if (*i + 1 >= argc)
        usage(argv[*i]);
    return argv[++*i];
}

static void add_item(const WCHAR **list, int *n, const WCHAR *item)
{
    if (*n >= MAX_ITEMS)
        usage(item);
    list[(*n)++] = item;
}

static void parse(int argc, WCHAR **argv)
{
    for (int i = 1; i < argc; i++) {
        const WCHAR *a = argv[i];
        if (!wcscmp(a, L"--hold"))
            add_item(opt.hold, &opt.nhold, value(argc, argv, &i));
        else if (!wcscmp(a, L"--load"))
            add_item(opt.load, &opt.nload, value(argc, argv, &i));
        else if (!wcscmp(a, L"--map"))
            add_item(opt.map, &opt.nmap, value(argc, argv, &i));
        else if (!wcscmp(a, L"--gui")) {
            opt.gui = 1;
            if (i + 1 < argc && wcsncmp(argv[i + 1], L"--", 2) != 0)
                opt.title = argv[++i];
        } else if (!wcscmp(a, L"--hang"))
            opt.hang = 1;
        else if (!wcscmp(a, L"--console"))
            opt.console = 1;
        else if (!wcscmp(a, L"--refuse"))
            opt.refuse = 1;
        else if (!wcscmp(a, L"--exit-delay"))
            opt.exit_delay = (DWORD)wcstoul(value(argc, argv, &i), NULL, 0);
        else if (!wcscmp(a, L"--service"))
            opt.service = value(argc, argv, &i);
        else if (!wcscmp(a, L"--ready"))
            opt.ready = value(argc, argv, &i);
        else if (!wcscmp(a, L"--log"))
            opt.log = value(argc, argv, &i);
        else
            usage(a);
    }
    if (opt.hang && !opt.gui)
        usage(L"--hang without --gui");
}

/* ---- what it holds ------------------------------------------------------------------------------ */

static void hold_files(void)
{
    for (int i = 0; i < opt.nhold; i++)
        if (!app_hold(opt.hold[i]))
            die(FAIL_HOLD, "--hold", opt.hold[i]);
}

static void load_dlls(void)
{
    for (int i = 0; i < opt.nload; i++)
        if (!LoadLibraryW(opt.load[i]))
            die(FAIL_LOAD, "--load", opt.load[i]);
}

static void map_files(void)
{
    for (int i = 0; i < opt.nmap; i++) {
        HANDLE f = CreateFileW(opt.map[i], GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                               NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
        if (f == INVALID_HANDLE_VALUE)
            die(FAIL_MAP, "--map (open)", opt.map[i]);
        HANDLE m = CreateFileMappingW(f, NULL, PAGE_READONLY, 0, 0, NULL);
        if (!m)
            die(FAIL_MAP, "--map (mapping)", opt.map[i]);
        if (!MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0))
            die(FAIL_MAP, "--map (view)", opt.map[i]);
        CloseHandle(m);
        CloseHandle(f);
    }
}

static void signal_ready(void)
{
    if (opt.ready && !app_signal_ready(opt.ready))
        die(FAIL_READY, "--ready", opt.ready);
}

/* ---- console -------------------------------------------------------------------------------------- */

static BOOL WINAPI on_console_event(DWORD type)
{
    switch (type) {
    case CTRL_C_EVENT:
        log_line("CTRL_C");
        if (opt.refuse)
            return TRUE;
        Sleep(opt.exit_delay);
        ExitProcess(CTRL_C_EXIT_CODE);
    case CTRL_BREAK_EVENT:
        log_line("CTRL_BREAK");
        return opt.refuse;
    case CTRL_CLOSE_EVENT:
        log_line("CTRL_CLOSE");
        return FALSE;
    case CTRL_LOGOFF_EVENT:
        log_line("CTRL_LOGOFF");
        return FALSE;
    case CTRL_SHUTDOWN_EVENT:
        log_line("CTRL_SHUTDOWN");
        return FALSE;
    default:
        log_line("CTRL_%lu", type);
        return FALSE;
    }
}

static void console_setup(void)
{
    /* A windows-subsystem copy has no console of its own; one is needed to receive events.
     * Failure here only means the process already has one. */
    if (!GetConsoleWindow())
        AllocConsole();
    if (!SetConsoleCtrlHandler(on_console_event, TRUE))
        die(FAIL_CONSOLE, "--console", NULL);
}

/* ---- window ---------------------------------------------------------------------------------------- */

static LRESULT CALLBACK on_message(HWND w, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_QUERYENDSESSION:
        log_line("WM_QUERYENDSESSION lParam=0x%lx", (unsigned long)lp);
        return opt.refuse ? FALSE : TRUE;
    case WM_ENDSESSION:
        log_line("WM_ENDSESSION wParam=%lu lParam=0x%lx", (unsigned long)wp, (unsigned long)lp);
        if (wp) {
            Sleep(opt.exit_delay);
            ExitProcess(0);
        }
        return 0;
    case WM_CLOSE:
        log_line("WM_CLOSE");
        if (opt.refuse)
            return 0;
        Sleep(opt.exit_delay);
        DestroyWindow(w);
        return 0;
    case WM_DESTROY:
        PostQuitMessage(0);
        return 0;
    default:
        return DefWindowProcW(w, msg, wp, lp);
    }
}

static HWND gui_setup(void)
{
    WNDCLASSW wc = {0};
    wc.lpfnWndProc = on_message;
    wc.hInstance = GetModuleHandleW(NULL);
    wc.hCursor = LoadCursorW(NULL, (LPCWSTR)IDC_ARROW);
    wc.hbrBackground = (HBRUSH)(COLOR_WINDOW + 1);
    wc.lpszClassName = L"rstrtmgr.rmapp";
    if (!RegisterClassW(&wc))
        die(FAIL_GUI, "--gui (class)", NULL);
    HWND w = CreateWindowExW(0, wc.lpszClassName, opt.title, WS_OVERLAPPEDWINDOW, CW_USEDEFAULT, CW_USEDEFAULT, 320,
                             200, NULL, NULL, wc.hInstance, NULL);
    if (!w)
        die(FAIL_GUI, "--gui (window)", opt.title);
    ShowWindow(w, SW_SHOWNORMAL);
    UpdateWindow(w);
    return w;
}

static int message_loop(void)
{
    MSG m;
    BOOL got;
    while ((got = GetMessageW(&m, NULL, 0, 0)) > 0) {
        TranslateMessage(&m);
        DispatchMessageW(&m);
    }
    return got < 0 ? FAIL_GUI : (int)m.wParam;
}

/* ---- service ---------------------------------------------------------------------------------------- */

static SERVICE_STATUS_HANDLE service_handle;
static SERVICE_STATUS service_status;
static HANDLE service_stop;

static void report(DWORD state)
{
    app_report(service_handle, &service_status, state, SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN);
}

static DWORD WINAPI on_control(DWORD control, DWORD type, LPVOID data, LPVOID context)
{
    (void)type, (void)data, (void)context;
    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        log_line(control == SERVICE_CONTROL_STOP ? "SERVICE_CONTROL_STOP" : "SERVICE_CONTROL_SHUTDOWN");
        report(SERVICE_STOP_PENDING);
        SetEvent(service_stop);
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        log_line("SERVICE_CONTROL_%lu", control);
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

static void WINAPI service_main(DWORD argc, LPWSTR *argv)
{
    (void)argc, (void)argv;
    service_handle = RegisterServiceCtrlHandlerExW(opt.service, on_control, NULL);
    if (!service_handle)
        die(FAIL_SERVICE, "--service (handler)", opt.service);
    service_stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    report(SERVICE_START_PENDING);
    report(SERVICE_RUNNING);
    signal_ready();
    WaitForSingleObject(service_stop, INFINITE);
    Sleep(opt.exit_delay);
    report(SERVICE_STOPPED);
}

static int run_service(void)
{
    SERVICE_TABLE_ENTRYW table[] = {{(LPWSTR)opt.service, service_main}, {NULL, NULL}};
    if (!StartServiceCtrlDispatcherW(table))
        die(FAIL_SERVICE, "--service (dispatcher)", opt.service);
    return 0;
}

/* ---- entry -------------------------------------------------------------------------------------------- */

int wmain(int argc, WCHAR **argv)
{
    /* A crash must end the process with its exception code, never wait on a dialog. */
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    parse(argc, argv);
    hold_files();
    load_dlls();
    map_files();
    if (opt.console)
        console_setup();
    if (opt.service)
        return run_service();
    if (opt.gui)
        gui_setup();
    signal_ready();
    if (opt.gui && !opt.hang)
        return message_loop();
    for (;;)
        Sleep(INFINITE);
}
