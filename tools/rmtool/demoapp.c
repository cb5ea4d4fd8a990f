/*
 * demoapp - the application of the demo (and of tests/rmtool): a GUI program that uses two
 * files an installer wants to replace, and answers the Restart Manager's messages.
 *
 *   demoapp.exe [--refuse]
 *
 * At start it loads demolib.dll from its own folder (and keeps it loaded), opens data.txt
 * there and keeps it open, and appends to demoapp.log there:
 *   "<pid> started: loaded demolib <version>; data: <first line of data.txt>"
 * WM_QUERYENDSESSION is agreed to (refused with --refuse: an app that cannot close, which
 * sends an installer down the rename path); WM_ENDSESSION(TRUE) releases the files and exits.
 * data.txt is opened with FILE_SHARE_DELETE, as a reader that tolerates replacement does, so
 * it can be renamed aside while open.
 *
 * SPDX-License-Identifier: MIT
 */
#include <windows.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

static wchar_t g_dir[MAX_PATH];
static HANDLE g_data = INVALID_HANDLE_VALUE;
static BOOL g_refuse;

/* The log is opened per line and closed again, so the app holds only the two demo files. */
static void applog(const char *fmt, ...)
{
    char line[1024];
    int n = _snprintf(line, sizeof line - 2, "%lu ", (unsigned long)GetCurrentProcessId());
    va_list ap;
    va_start(ap, fmt);
    int m = _vsnprintf(line + n, sizeof line - 2 - (size_t)n, fmt, ap);
    va_end(ap);
    n = m < 0 ? (int)strlen(line) : n + m;
    line[n++] = '\r';
    line[n++] = '\n';
    wchar_t path[MAX_PATH + 32];
    _snwprintf(path, MAX_PATH + 31, L"%ls\\demoapp.log", g_dir);
    path[MAX_PATH + 31] = 0;
    for (int tries = 0; tries < 50; tries++) { /* another instance may be appending */
        HANDLE h = CreateFileW(path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                               NULL, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
        if (h != INVALID_HANDLE_VALUE) {
            DWORD done;
            WriteFile(h, line, (DWORD)n, &done, NULL);
            CloseHandle(h);
            return;
        }
        Sleep(20);
    }
}

static LRESULT CALLBACK wndproc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_QUERYENDSESSION:
        applog("WM_QUERYENDSESSION: %s", g_refuse ? "refusing" : "agreeing");
        return g_refuse ? FALSE : TRUE;
    case WM_ENDSESSION:
        if (wp) {
            applog("WM_ENDSESSION(TRUE): closing files and exiting");
            if (g_data != INVALID_HANDLE_VALUE)
                CloseHandle(g_data);
            ExitProcess(0); /* the session ends: no time for an orderly window teardown */
        }
        applog("WM_ENDSESSION(FALSE): shutdown cancelled, still running");
        return 0;
    case WM_CLOSE:
        applog("WM_CLOSE: exiting");
        DestroyWindow(hwnd);
        return 0;
    case WM_DESTROY:
        PostQuitMessage(0);
        return 0;
    }
    return DefWindowProcW(hwnd, msg, wp, lp);
}

int WINAPI wWinMain(HINSTANCE inst, HINSTANCE prev, LPWSTR cmdline, int show)
{
    (void)prev;
    (void)show;
    g_refuse = wcsstr(cmdline, L"--refuse") != NULL;
    GetModuleFileNameW(NULL, g_dir, MAX_PATH);
    wchar_t *slash = wcsrchr(g_dir, L'\\');
    if (slash)
        *slash = 0;

    wchar_t path[MAX_PATH + 32];
    _snwprintf(path, MAX_PATH + 31, L"%ls\\demolib.dll", g_dir);
    path[MAX_PATH + 31] = 0;
    HMODULE lib = LoadLibraryW(path);
    const char *(*version)(void) = lib ? (const char *(*)(void))GetProcAddress(lib, "demolib_version") : NULL;
    if (!version) {
        applog("error: cannot load demolib.dll (error %lu)", (unsigned long)GetLastError());
        return 2;
    }

    char data[128] = "(none)";
    _snwprintf(path, MAX_PATH + 31, L"%ls\\data.txt", g_dir);
    g_data = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, NULL);
    if (g_data != INVALID_HANDLE_VALUE) {
        DWORD got = 0;
        if (ReadFile(g_data, data, sizeof data - 1, &got, NULL)) {
            data[got] = 0;
            data[strcspn(data, "\r\n")] = 0;
        }
    }

    WNDCLASSW wc = {0};
    wc.lpfnWndProc = wndproc;
    wc.hInstance = inst;
    wc.lpszClassName = L"rstrtmgr_demoapp";
    RegisterClassW(&wc);
    /* A visible, unowned top-level window: the Restart Manager lists it as RmMainWindow and
     * closes it with WM_QUERYENDSESSION/WM_ENDSESSION. */
    HWND hwnd = CreateWindowW(wc.lpszClassName, L"rstrtmgr demo app", WS_OVERLAPPEDWINDOW, CW_USEDEFAULT,
                              CW_USEDEFAULT, 320, 200, NULL, NULL, inst, NULL);
    if (!hwnd) {
        applog("error: cannot create the window (error %lu)", (unsigned long)GetLastError());
        return 2;
    }
    ShowWindow(hwnd, SW_SHOWNORMAL);
    applog("started: loaded demolib %s; data: %s%s", version(), data, g_refuse ? " (refuses to close)" : "");

    MSG m;
    while (GetMessageW(&m, NULL, 0, 0) > 0) {
        TranslateMessage(&m);
        DispatchMessageW(&m);
    }
    return 0;
}
