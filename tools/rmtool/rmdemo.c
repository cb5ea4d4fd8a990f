/*
 * rmdemo - the project's demo: an application holds files, rmtool (built on our DLL) lists
 * who uses them, replaces them under the running application, and the application comes back
 * with the new files loaded.
 *
 * Steps: create a demo folder under the user's temp; copy demoapp.exe, demolib.dll 1.0 and
 * data.txt there and stage the new versions in its "new" subfolder; start demoapp; run
 * `rmtool list` and `rmtool replace` as child processes and show their output; read the
 * app's log to see that it was restarted with demolib 2.0 and the new data; close it with
 * `rmtool close`; print a before/after summary. Exit 0 on success, 1 with the reason otherwise.
 *
 * The programs come from beside rmdemo.exe (bin/): rmtool.exe, rstrtmgr.dll, demoapp.exe,
 * demo/v1/demolib.dll, demo/v2/demolib.dll.
 *
 * SPDX-License-Identifier: MIT
 */
#include <windows.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define PATHCAP (MAX_PATH * 2)

static wchar_t g_bin[PATHCAP], g_dir[PATHCAP];

static void write_out(const char *s, size_t n)
{
    DWORD done;
    WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), s, (DWORD)n, &done, NULL);
}

/* Wide printf to stdout as UTF-8 (the console is switched to UTF-8 in main). */
static void say(const wchar_t *fmt, ...)
{
    wchar_t buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = _vsnwprintf(buf, sizeof buf / sizeof buf[0] - 1, fmt, ap);
    va_end(ap);
    buf[sizeof buf / sizeof buf[0] - 1] = 0;
    if (n < 0)
        n = (int)wcslen(buf);
    char u8[4096 * 3];
    int m = WideCharToMultiByte(CP_UTF8, 0, buf, n, u8, (int)sizeof u8, NULL, NULL);
    if (m > 0)
        write_out(u8, (size_t)m);
}

static int fail(const wchar_t *what, DWORD code)
{
    wchar_t msg[512] = L"";
    if (code)
        FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code, 0, msg, 511, NULL);
    say(L"\nDEMO FAILED: %ls%ls%ls\n", what, code ? L": " : L"", msg);
    return 1;
}

static void join(wchar_t *out, const wchar_t *a, const wchar_t *b)
{
    _snwprintf(out, PATHCAP - 1, L"%ls\\%ls", a, b);
    out[PATHCAP - 1] = 0;
}

static BOOL write_text(const wchar_t *path, const char *text)
{
    HANDLE h = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return FALSE;
    DWORD done;
    BOOL ok = WriteFile(h, text, (DWORD)strlen(text), &done, NULL);
    CloseHandle(h);
    return ok;
}

/* Whole file as a NUL-terminated string (NULL if it cannot be read). */
static char *read_text(const wchar_t *path)
{
    HANDLE h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return NULL;
    DWORD size = GetFileSize(h, NULL), got = 0;
    char *buf = malloc(size + 1);
    if (buf && ReadFile(h, buf, size, &got, NULL))
        buf[got] = 0;
    else if (buf)
        buf[0] = 0;
    CloseHandle(h);
    return buf;
}

/* The last "started:" line of the app's log: its PID and the line itself. */
static BOOL last_start(DWORD *pid, char *line, size_t cap)
{
    wchar_t log[PATHCAP];
    join(log, g_dir, L"demoapp.log");
    char *text = read_text(log);
    if (!text)
        return FALSE;
    char *found = NULL;
    for (char *p = strstr(text, " started: "); p; p = strstr(p + 1, " started: "))
        found = p;
    BOOL ok = FALSE;
    if (found) {
        char *start = found;
        while (start > text && start[-1] != '\n')
            start--;
        size_t len = strcspn(start, "\r\n");
        if (len >= cap)
            len = cap - 1;
        memcpy(line, start, len);
        line[len] = 0;
        *pid = strtoul(start, NULL, 10);
        ok = TRUE;
    }
    free(text);
    return ok;
}

/* Waits up to ms for a start line from a process other than not_pid. */
static BOOL wait_start(DWORD not_pid, DWORD ms, DWORD *pid, char *line, size_t cap)
{
    for (DWORD waited = 0; waited <= ms; waited += 100) {
        if (last_start(pid, line, cap) && *pid != not_pid)
            return TRUE;
        Sleep(100);
    }
    return FALSE;
}

/* Runs a program of bin/ with a command line, echoing its output indented. The output is read
 * until the child exits rather than until end of file: programs it starts (the restarted app,
 * the DLL's helpers) may inherit the pipe and keep it open. Returns the exit code, or -1. */
static int run_shown(const wchar_t *args)
{
    static wchar_t cl[8192];
    _snwprintf(cl, 8191, L"\"%ls\\rmtool.exe\" %ls", g_bin, args);
    cl[8191] = 0;
    say(L"\n> rmtool %ls\n", args);
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE rd, wr;
    if (!CreatePipe(&rd, &wr, &sa, 0))
        return -1;
    SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
    STARTUPINFOW si = {.cb = sizeof si};
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = wr;
    si.hStdError = wr;
    PROCESS_INFORMATION pi;
    BOOL ok = CreateProcessW(NULL, cl, NULL, NULL, TRUE, 0, NULL, g_dir, &si, &pi);
    CloseHandle(wr);
    if (!ok) {
        CloseHandle(rd);
        return -1;
    }
    CloseHandle(pi.hThread);
    int at_line_start = 1;
    for (;;) {
        BOOL exited = WaitForSingleObject(pi.hProcess, 50) == WAIT_OBJECT_0;
        DWORD avail = 0;
        while (PeekNamedPipe(rd, NULL, 0, NULL, &avail, NULL) && avail) {
            char buf[4096];
            DWORD got = 0;
            if (!ReadFile(rd, buf, avail < sizeof buf ? avail : sizeof buf, &got, NULL) || !got)
                break;
            for (DWORD i = 0; i < got; i++) {
                if (at_line_start)
                    write_out("  | ", 4);
                write_out(&buf[i], 1);
                at_line_start = buf[i] == '\n';
            }
        }
        if (exited)
            break;
    }
    if (!at_line_start)
        write_out("\n", 1);
    DWORD code = (DWORD)-1;
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(rd);
    say(L"  (rmtool exit code %lu)\n", (unsigned long)code);
    return (int)code;
}

/* HungAppTimeout bounds how long the Restart Manager waits for an app; the demo app answers
 * at once, so 5 s only matters if something goes wrong. The user's value comes back after. */
static wchar_t g_old_timeout[64];
static BOOL g_had_timeout, g_set_timeout;
static const wchar_t DESKTOP_KEY[] = L"Control Panel\\Desktop";

static void set_timeout(void)
{
    HKEY k;
    if (RegCreateKeyExW(HKEY_CURRENT_USER, DESKTOP_KEY, 0, NULL, 0, KEY_READ | KEY_WRITE, NULL, &k, NULL))
        return;
    DWORD type, size = sizeof g_old_timeout - sizeof(wchar_t);
    g_had_timeout = RegQueryValueExW(k, L"HungAppTimeout", NULL, &type, (BYTE *)g_old_timeout, &size) == 0 &&
                    type == REG_SZ;
    static const wchar_t v[] = L"5000";
    g_set_timeout = RegSetValueExW(k, L"HungAppTimeout", 0, REG_SZ, (const BYTE *)v, sizeof v) == 0;
    RegCloseKey(k);
}

static void restore_timeout(void)
{
    HKEY k;
    if (!g_set_timeout || RegOpenKeyExW(HKEY_CURRENT_USER, DESKTOP_KEY, 0, KEY_WRITE, &k))
        return;
    if (g_had_timeout)
        RegSetValueExW(k, L"HungAppTimeout", 0, REG_SZ, (const BYTE *)g_old_timeout,
                       (DWORD)((wcslen(g_old_timeout) + 1) * sizeof(wchar_t)));
    else
        RegDeleteValueW(k, L"HungAppTimeout");
    RegCloseKey(k);
}

static void remove_dir(const wchar_t *dir)
{
    wchar_t pat[PATHCAP], p[PATHCAP];
    join(pat, dir, L"*");
    WIN32_FIND_DATAW fd;
    HANDLE f = FindFirstFileW(pat, &fd);
    if (f != INVALID_HANDLE_VALUE) {
        do {
            if (!wcscmp(fd.cFileName, L".") || !wcscmp(fd.cFileName, L".."))
                continue;
            join(p, dir, fd.cFileName);
            if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
                remove_dir(p);
            else
                DeleteFileW(p);
        } while (FindNextFileW(f, &fd));
        FindClose(f);
    }
    RemoveDirectoryW(dir);
}

static int demo(void)
{
    wchar_t tmp[PATHCAP], a[PATHCAP], b[PATHCAP], newdir[PATHCAP];
    DWORD n = GetTempPathW(PATHCAP, tmp);
    if (!n || n >= PATHCAP)
        return fail(L"GetTempPath", GetLastError());
    if (tmp[n - 1] == L'\\')
        tmp[n - 1] = 0;
    _snwprintf(g_dir, PATHCAP - 1, L"%ls\\rmdemo-%lu", tmp, (unsigned long)GetCurrentProcessId());
    join(newdir, g_dir, L"new");
    if (!CreateDirectoryW(g_dir, NULL) || !CreateDirectoryW(newdir, NULL))
        return fail(g_dir, GetLastError());

    say(L"== 1. Set up %ls\n", g_dir);
    static const struct { const wchar_t *from, *to; } copies[] = {
        {L"demoapp.exe", L"demoapp.exe"},
        {L"demo\\v1\\demolib.dll", L"demolib.dll"},
        {L"demo\\v2\\demolib.dll", L"new\\demolib.dll"},
    };
    for (size_t i = 0; i < sizeof copies / sizeof copies[0]; i++) {
        join(a, g_bin, copies[i].from);
        join(b, g_dir, copies[i].to);
        if (!CopyFileW(a, b, FALSE))
            return fail(a, GetLastError());
    }
    join(a, g_dir, L"data.txt");
    join(b, newdir, L"data.txt");
    if (!write_text(a, "settings version 1\r\n") || !write_text(b, "settings version 2\r\n"))
        return fail(L"writing data.txt", GetLastError());
    say(L"   demoapp.exe, demolib.dll 1.0, data.txt (settings version 1);\n"
        L"   the new versions wait in new\\: demolib.dll 2.0, data.txt (settings version 2)\n");

    say(L"\n== 2. Start the application\n");
    wchar_t cl[PATHCAP + 8];
    _snwprintf(cl, PATHCAP + 7, L"\"%ls\\demoapp.exe\"", g_dir);
    cl[PATHCAP + 7] = 0;
    STARTUPINFOW si = {.cb = sizeof si};
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(NULL, cl, NULL, NULL, FALSE, 0, NULL, g_dir, &si, &pi))
        return fail(L"starting demoapp.exe", GetLastError());
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    DWORD pid1, pid2;
    char before[512], after[512];
    if (!wait_start(0, 20000, &pid1, before, sizeof before))
        return fail(L"demoapp did not log its start within 20 s", 0);
    say(L"   app log: %hs\n", before);
    if (!strstr(before, "loaded demolib 1.0"))
        return fail(L"demoapp did not load demolib 1.0", 0);

    say(L"\n== 3. Who uses the library and the data file?\n");
    _snwprintf(cl, PATHCAP + 7, L"list demolib.dll data.txt");
    int rc = run_shown(cl);
    if (rc != 0)
        return fail(L"rmtool list failed", 0);

    say(L"\n== 4. Replace both while the application runs\n");
    rc = run_shown(L"replace new\\demolib.dll demolib.dll new\\data.txt data.txt");
    if (rc != 0)
        return fail(L"rmtool replace failed", 0);

    say(L"\n== 5. The application after the replacement\n");
    if (!wait_start(pid1, 20000, &pid2, after, sizeof after))
        return fail(L"demoapp was not restarted within 20 s", 0);
    say(L"   app log: %hs\n", after);
    rc = run_shown(L"list demolib.dll data.txt --json");
    if (rc != 0)
        return fail(L"rmtool list --json failed", 0);

    join(a, g_dir, L"demoapp.log");
    char *log = read_text(a);
    say(L"\n   The application's log (demoapp.log):\n");
    for (char *line = log ? strtok(log, "\r\n") : NULL; line; line = strtok(NULL, "\r\n"))
        say(L"     %hs\n", line);
    free(log);

    say(L"\n== 6. Close the application\n");
    run_shown(L"close demoapp.exe");

    BOOL ok = strstr(after, "loaded demolib 2.0") && strstr(after, "data: settings version 2");
    say(L"\n== Summary\n"
        L"   before: demoapp PID %lu, demolib 1.0, data \"settings version 1\"\n"
        L"   after:  demoapp PID %lu, %hs, data \"%hs\"\n"
        L"   The files were replaced while in use: rmtool closed the app through the Restart\n"
        L"   Manager, swapped the files, and restarted it, which then loaded the new versions.\n",
        (unsigned long)pid1, (unsigned long)pid2, strstr(after, "loaded demolib 2.0") ? "demolib 2.0" : "demolib NOT 2.0",
        strstr(after, "settings version 2") ? "settings version 2" : "NOT version 2");
    if (!ok)
        return fail(L"the restarted application did not load both new files", 0);
    say(L"\nDEMO OK\n");
    return 0;
}

int wmain(void)
{
    SetConsoleOutputCP(CP_UTF8);
    DWORD n = GetModuleFileNameW(NULL, g_bin, PATHCAP);
    wchar_t *slash = wcsrchr(g_bin, L'\\');
    if (!n || !slash)
        return fail(L"GetModuleFileName", GetLastError());
    *slash = 0;
    set_timeout();
    int rc = demo();
    restore_timeout();
    if (g_dir[0])
        remove_dir(g_dir);
    return rc;
}
