/*
 * rmtool - who holds a file, close it, run something, replace it; on the Restart Manager API.
 *
 * Built only on the public API of rstrtmgr.dll (restartmanager.h, linked through its import
 * library) plus kernel32 for the file operations, so it is also a working example of an
 * installer's use of the DLL. Run `rmtool --help` for usage and the exit codes.
 *
 * SPDX-License-Identifier: MIT
 */
#include <restartmanager.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* Exit codes (documented in usage()). */
enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,
    EXIT_FILE = 2,
    EXIT_APPS = 3,
    EXIT_RM = 4,
    EXIT_COMMAND = 5
};

/* ---- output ------------------------------------------------------------------------------ */

/* One formatter for both streams: wide text goes out as UTF-8 on pipes and files (what a
 * script or test reads) and through WriteConsoleW on a console (what a person reads). */
static void put_raw(DWORD which, const wchar_t *buf, int n)
{
    HANDLE h = GetStdHandle(which);
    if (h == NULL || h == INVALID_HANDLE_VALUE)
        return;
    DWORD mode, done;
    if (GetConsoleMode(h, &mode)) {
        WriteConsoleW(h, buf, (DWORD)n, &done, NULL);
        return;
    }
    int m = WideCharToMultiByte(CP_UTF8, 0, buf, n, NULL, 0, NULL, NULL);
    char *u8 = m > 0 ? malloc((size_t)m) : NULL;
    if (u8 && WideCharToMultiByte(CP_UTF8, 0, buf, n, u8, m, NULL, NULL) == m)
        WriteFile(h, u8, (DWORD)m, &done, NULL);
    free(u8);
}

static void put_text(DWORD which, const wchar_t *text)
{
    put_raw(which, text, (int)wcslen(text));
}

static void vput(DWORD which, const wchar_t *fmt, va_list ap)
{
    wchar_t buf[4096];
    int n = _vsnwprintf(buf, sizeof buf / sizeof buf[0] - 1, fmt, ap);
    buf[sizeof buf / sizeof buf[0] - 1] = 0;
    if (n < 0)
        n = (int)wcslen(buf);
    put_raw(which, buf, n);
}

static void out(const wchar_t *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vput(STD_OUTPUT_HANDLE, fmt, ap);
    va_end(ap);
}

static void err(const wchar_t *fmt, ...)
{
    va_list ap;
    put_text(STD_ERROR_HANDLE, L"rmtool: ");
    va_start(ap, fmt);
    vput(STD_ERROR_HANDLE, fmt, ap);
    va_end(ap);
}

/* The system's text for a Win32 code, without the trailing line break; always names the
 * number too, because Wine lacks the text for some Restart Manager codes. */
static const wchar_t *errtext(DWORD code)
{
    static wchar_t buf[512];
    wchar_t msg[400];
    DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code,
                             0, msg, sizeof msg / sizeof msg[0], NULL);
    while (n > 0 && (msg[n - 1] == L'\n' || msg[n - 1] == L'\r' || msg[n - 1] == L' ' || msg[n - 1] == L'.'))
        msg[--n] = 0;
    if (n == 0) {
        switch (code) { /* texts of the SDK for the codes Wine has none for */
        case ERROR_FAIL_NOACTION_REBOOT: wcscpy(msg, L"No action was taken as a system reboot is required"); break;
        case ERROR_FAIL_SHUTDOWN: wcscpy(msg, L"The shutdown operation failed"); break;
        case ERROR_FAIL_RESTART: wcscpy(msg, L"The restart operation failed"); break;
        case ERROR_MAX_SESSIONS_REACHED: wcscpy(msg, L"The maximum number of sessions has been reached"); break;
        case ERROR_REQUEST_OUT_OF_SEQUENCE: wcscpy(msg, L"The request is out of sequence"); break;
        default: wcscpy(msg, L"Unknown error"); break;
        }
    }
    _snwprintf(buf, sizeof buf / sizeof buf[0] - 1, L"%ls (error %lu)", msg, (unsigned long)code);
    buf[sizeof buf / sizeof buf[0] - 1] = 0;
    return buf;
}

/* ---- Restart Manager helpers --------------------------------------------------------------- */

static const wchar_t *type_name(RM_APP_TYPE t)
{
    switch (t) {
    case RmMainWindow: return L"window";
    case RmOtherWindow: return L"other-window";
    case RmService: return L"service";
    case RmExplorer: return L"explorer";
    case RmConsole: return L"console";
    case RmCritical: return L"critical";
    default: return L"unknown";
    }
}

/* Reboot reasons as a comma list ("none" for 0). */
static const wchar_t *reasons_text(DWORD r)
{
    static wchar_t buf[256];
    static const struct { DWORD bit; const wchar_t *name; } names[] = {
        {RmRebootReasonPermissionDenied, L"permission-denied"},
        {RmRebootReasonSessionMismatch, L"session-mismatch"},
        {RmRebootReasonCriticalProcess, L"critical-process"},
        {RmRebootReasonCriticalService, L"critical-service"},
        {RmRebootReasonDetectedSelf, L"detected-self"},
    };
    buf[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (r & names[i].bit) {
            if (buf[0])
                wcscat(buf, L",");
            wcscat(buf, names[i].name);
        }
    }
    if (!buf[0])
        wcscpy(buf, r ? L"other" : L"none");
    return buf;
}

static const wchar_t *status_text(ULONG s)
{
    if (s & RmStatusErrorOnStop) return L"refused to close";
    if (s & RmStatusShutdownMasked) return L"kept running (filter)";
    if (s & RmStatusErrorOnRestart) return L"could not be restarted";
    if (s & RmStatusRestarted) return L"restarted";
    if (s & RmStatusRestartMasked) return L"closed, not restarted (filter)";
    if (s & (RmStatusStopped | RmStatusStoppedOther)) return L"closed";
    if (s & RmStatusRunning) return L"still running";
    return L"unknown";
}

typedef struct {
    DWORD session;
    WCHAR key[CCH_RM_SESSION_KEY + 1];
    RM_PROCESS_INFO *apps;
    UINT count;
    DWORD reasons;
} rm_state;

/* Full paths of the files, each checked to exist: a missing file is the user's mistake, and
 * RmGetList would silently skip it. Returns 0 or an exit code after printing why. */
static int resolve_files(int n, wchar_t **in, wchar_t ***outp)
{
    wchar_t **full = calloc((size_t)n + 1, sizeof *full);
    if (!full)
        return EXIT_FILE;
    for (int i = 0; i < n; i++) {
        DWORD len = GetFullPathNameW(in[i], 0, NULL, NULL);
        full[i] = len ? malloc(len * sizeof(wchar_t)) : NULL;
        if (!full[i] || !GetFullPathNameW(in[i], len, full[i], NULL)) {
            err(L"%ls: %ls\n", in[i], errtext(GetLastError()));
            return EXIT_FILE;
        }
        DWORD attr = GetFileAttributesW(full[i]);
        if (attr == INVALID_FILE_ATTRIBUTES) {
            err(L"%ls: %ls\n", full[i], errtext(GetLastError()));
            return EXIT_FILE;
        }
        if (attr & FILE_ATTRIBUTE_DIRECTORY) {
            err(L"%ls: is a directory; the Restart Manager takes files only\n", full[i]);
            return EXIT_FILE;
        }
    }
    *outp = full;
    return 0;
}

static int rm_begin(rm_state *st, int nfiles, wchar_t **files)
{
    memset(st, 0, sizeof *st);
    DWORD rc = RmStartSession(&st->session, 0, st->key);
    if (rc != ERROR_SUCCESS) {
        err(L"RmStartSession: %ls\n", errtext(rc));
        return EXIT_RM;
    }
    rc = RmRegisterResources(st->session, (UINT)nfiles, (LPCWSTR *)files, 0, NULL, 0, NULL);
    if (rc != ERROR_SUCCESS) {
        err(L"RmRegisterResources (%ls%ls): %ls\n", files[0], nfiles > 1 ? L", ..." : L"", errtext(rc));
        RmEndSession(st->session);
        return EXIT_RM;
    }
    return 0;
}

/* RmGetList into st->apps, growing the array while the list grows between calls. */
static DWORD rm_list(rm_state *st)
{
    UINT needed = 0, have = 0;
    DWORD rc;
    for (int tries = 0; tries < 8; tries++) {
        have = st->count;
        rc = RmGetList(st->session, &needed, &have, st->apps, &st->reasons);
        if (rc == ERROR_SUCCESS) {
            st->count = have;
            return rc;
        }
        if (rc != ERROR_MORE_DATA)
            return rc;
        free(st->apps);
        st->count = needed + 4;
        st->apps = calloc(st->count, sizeof *st->apps);
        if (!st->apps) {
            st->count = 0;
            return ERROR_NOT_ENOUGH_MEMORY;
        }
    }
    return rc;
}

static void rm_end(rm_state *st)
{
    RmEndSession(st->session);
    free(st->apps);
    st->apps = NULL;
}

/* ---- progress ---------------------------------------------------------------------------- */

static const wchar_t *g_progress_what = L"working";
static int g_progress_console;
static int g_progress_last = -1;

/* RM_WRITE_STATUS_CALLBACK: a redrawn bar on a console, one line per step on a pipe (so a log
 * or a test sees every step without carriage returns). */
static void progress_cb(UINT pct)
{
    if ((int)pct == g_progress_last)
        return;
    g_progress_last = (int)pct;
    if (g_progress_console) {
        wchar_t bar[21];
        for (int i = 0; i < 20; i++)
            bar[i] = i < (int)pct / 5 ? L'#' : L'.';
        bar[20] = 0;
        out(L"\r  %ls [%ls] %3u%%", g_progress_what, bar, pct);
    } else {
        out(L"  %ls: %u%%\n", g_progress_what, pct);
    }
}

static void progress_begin(const wchar_t *what)
{
    DWORD mode;
    g_progress_what = what;
    g_progress_last = -1;
    g_progress_console = GetConsoleMode(GetStdHandle(STD_OUTPUT_HANDLE), &mode) != 0;
}

static void progress_end(void)
{
    if (g_progress_console && g_progress_last >= 0)
        out(L"\n");
}

/* ---- list ---------------------------------------------------------------------------------- */

static void json_str(const wchar_t *s)
{
    out(L"\"");
    for (; *s; s++) {
        if (*s == L'"' || *s == L'\\')
            out(L"\\%lc", *s);
        else if (*s < 0x20)
            out(L"\\u%04x", (unsigned)*s);
        else
            out(L"%lc", *s);
    }
    out(L"\"");
}

static void print_table(const rm_state *st)
{
    /* Column widths from the content, so the table stays aligned for long names. */
    int wname = 4, wsvc = 7;
    for (UINT i = 0; i < st->count; i++) {
        int a = (int)wcslen(st->apps[i].strAppName), b = (int)wcslen(st->apps[i].strServiceShortName);
        if (a > wname) wname = a;
        if (b > wsvc) wsvc = b;
    }
    if (wname > 48) wname = 48;
    out(L"%-7ls %-12ls %-*ls %-*ls %-11ls %ls\n", L"PID", L"TYPE", wname, L"NAME", wsvc, L"SERVICE",
        L"RESTARTABLE", L"SESSION");
    for (UINT i = 0; i < st->count; i++) {
        const RM_PROCESS_INFO *p = &st->apps[i];
        wchar_t sess[16];
        if (p->TSSessionId == (DWORD)RM_INVALID_TS_SESSION)
            wcscpy(sess, L"-");
        else
            _snwprintf(sess, 15, L"%lu", (unsigned long)p->TSSessionId), sess[15] = 0;
        out(L"%-7lu %-12ls %-*.*ls %-*ls %-11ls %ls\n", (unsigned long)p->Process.dwProcessId,
            type_name(p->ApplicationType), wname, wname, p->strAppName, wsvc,
            p->strServiceShortName[0] ? p->strServiceShortName : L"-", p->bRestartable ? L"yes" : L"no", sess);
    }
    if (st->count == 0)
        out(L"(no process uses these files)\n");
    out(L"Reboot reasons: %ls\n", reasons_text(st->reasons));
}

static void print_json(const rm_state *st, int nfiles, wchar_t **files)
{
    out(L"{\n  \"files\": [");
    for (int i = 0; i < nfiles; i++) {
        out(i ? L", " : L"");
        json_str(files[i]);
    }
    out(L"],\n  \"processes\": [");
    for (UINT i = 0; i < st->count; i++) {
        const RM_PROCESS_INFO *p = &st->apps[i];
        out(L"%ls\n    {\"pid\": %lu, \"type\": \"%ls\", \"name\": ", i ? L"," : L"",
            (unsigned long)p->Process.dwProcessId, type_name(p->ApplicationType));
        json_str(p->strAppName);
        out(L", \"service\": ");
        if (p->strServiceShortName[0])
            json_str(p->strServiceShortName);
        else
            out(L"null");
        out(L", \"restartable\": %ls, \"session\": ", p->bRestartable ? L"true" : L"false");
        if (p->TSSessionId == (DWORD)RM_INVALID_TS_SESSION)
            out(L"null");
        else
            out(L"%lu", (unsigned long)p->TSSessionId);
        out(L", \"status\": %lu}", (unsigned long)p->AppStatus);
    }
    out(L"%ls],\n  \"rebootReasons\": %lu,\n  \"rebootReasonNames\": [", st->count ? L"\n  " : L"",
        (unsigned long)st->reasons);
    if (st->reasons) {
        /* the comma list of reasons_text, split into JSON strings */
        const wchar_t *t = reasons_text(st->reasons);
        out(L"\"");
        for (; *t; t++)
            out(*t == L',' ? L"\", \"" : L"%lc", *t);
        out(L"\"");
    }
    out(L"]\n}\n");
}

/* ---- usage --------------------------------------------------------------------------------- */

static const wchar_t USAGE_MAIN[] =
    L"rmtool - find, close and restart the programs that use files (Restart Manager)\n"
    L"\n"
    L"usage: rmtool <command> [options] ...\n"
    L"  list    FILE... [--json]                       who uses the files\n"
    L"  close   FILE... [--force] [--only-registered]  close the programs that use them\n"
    L"  run     --close FILE... -- COMMAND [ARGS...]   close them, run COMMAND, restart them\n"
    L"  replace SRC DST [SRC DST ...]                  replace files that are in use\n"
    L"  rmtool <command> --help                        help for one command\n"
    L"\n"
    L"exit codes:\n"
    L"  0  success\n"
    L"  1  usage error\n"
    L"  2  file error (a file is missing, or copying/moving/renaming failed)\n"
    L"  3  some programs could not be closed or restarted\n"
    L"  4  Restart Manager error (session, registration, list)\n"
    L"  5  run: COMMAND could not be started or exited with a non-zero code\n";

static const wchar_t USAGE_LIST[] =
    L"usage: rmtool list FILE... [--json]\n"
    L"Lists the processes and services that use the files: PID, type, name, service short\n"
    L"name, whether the Restart Manager can restart it, its Terminal Services session, and\n"
    L"the reasons a reboot would be needed instead. --json prints the same as JSON.\n"
    L"Exit: 0 listed, 1 usage, 2 a file is missing, 4 Restart Manager error.\n";

static const wchar_t USAGE_CLOSE[] =
    L"usage: rmtool close FILE... [--force] [--only-registered]\n"
    L"Closes the programs that use the files (RmShutdown) with a progress display, then\n"
    L"reports which closed and which refused. Nothing is restarted.\n"
    L"  --force            terminate programs that do not close within their timeout\n"
    L"  --only-registered  close only programs registered for restart (else close none)\n"
    L"Exit: 0 all closed, 1 usage, 2 a file is missing, 3 some refused or a reboot is\n"
    L"needed, 4 Restart Manager error.\n";

static const wchar_t USAGE_RUN[] =
    L"usage: rmtool run [--force] --close FILE... -- COMMAND [ARGS...]\n"
    L"Closes the programs that use the files, runs COMMAND and waits for it, then restarts\n"
    L"the programs that were closed (RmShutdown, CreateProcess, RmRestart); reports each step.\n"
    L"If the programs cannot all be closed COMMAND is not run (those that closed are restarted).\n"
    L"Exit: 0 all steps succeeded, 1 usage, 2 a file is missing, 3 programs could not be\n"
    L"closed or restarted, 4 Restart Manager error, 5 COMMAND failed to start or exited non-zero.\n";

static const wchar_t USAGE_REPLACE[] =
    L"usage: rmtool replace [--force] SRC DST [SRC DST ...]\n"
    L"Replaces each DST, which may be in use, with a copy of SRC:\n"
    L"  close path:  the programs using DST are closed (RmShutdown), SRC is copied to a\n"
    L"               temporary file beside DST and moved over it (MOVEFILE_REPLACE_EXISTING),\n"
    L"               and the programs are restarted (RmRestart);\n"
    L"  rename path: where they cannot be closed (RmShutdown fails or RmGetList reports reboot\n"
    L"               reasons), DST is renamed aside to DST.rmold-<n>, the new file is moved\n"
    L"               into place, and the old one is scheduled for deletion at the next reboot\n"
    L"               (MOVEFILE_DELAY_UNTIL_REBOOT). Running programs keep the old file until\n"
    L"               they restart.\n"
    L"Prints the path taken. Exit: 0 every DST replaced (either path), 1 usage, 2 a file\n"
    L"error (DST is left as it was), 3 replaced but a closed program could not be restarted,\n"
    L"4 Restart Manager error.\n";

static int is_help(const wchar_t *a)
{
    return !wcscmp(a, L"--help") || !wcscmp(a, L"-h") || !wcscmp(a, L"/?");
}

static int usage_error(const wchar_t *usage, const wchar_t *why)
{
    err(L"%ls\n", why);
    put_text(STD_ERROR_HANDLE, usage);
    return EXIT_USAGE;
}

/* ---- close / shutdown ----------------------------------------------------------------------- */

/* RmShutdown with progress, then the per-app outcome from RmGetList. *closed_any tells the
 * caller whether RmRestart has something to bring back. Returns 0, EXIT_APPS or EXIT_RM. */
static int do_shutdown(rm_state *st, ULONG flags, int *closed_any)
{
    *closed_any = 0;
    DWORD rc = rm_list(st);
    if (rc != ERROR_SUCCESS) {
        err(L"RmGetList: %ls\n", errtext(rc));
        return EXIT_RM;
    }
    if (st->count == 0) {
        out(L"No process uses the files; nothing to close.\n");
        return 0;
    }
    out(L"Closing %u program(s)%ls...\n", st->count, (flags & RmForceShutdown) ? L" (forced)" : L"");
    progress_begin(L"closing");
    DWORD src = RmShutdown(st->session, flags, progress_cb);
    progress_end();
    rc = rm_list(st);
    if (rc != ERROR_SUCCESS) {
        err(L"RmGetList after RmShutdown: %ls\n", errtext(rc));
        return EXIT_RM;
    }
    int refused = 0;
    for (UINT i = 0; i < st->count; i++) {
        const RM_PROCESS_INFO *p = &st->apps[i];
        int closed = (p->AppStatus & (RmStatusStopped | RmStatusStoppedOther)) && !(p->AppStatus & RmStatusErrorOnStop);
        if (closed)
            *closed_any = 1;
        else
            refused++;
        out(L"  %-7ls %lu %ls: %ls\n", closed ? L"closed" : L"REFUSED", (unsigned long)p->Process.dwProcessId,
            p->strAppName, status_text(p->AppStatus));
    }
    if (st->reasons)
        out(L"Reboot reasons: %ls\n", reasons_text(st->reasons));
    if (src == ERROR_SUCCESS && !refused) {
        out(L"RmShutdown: all %u closed.\n", st->count);
        return 0;
    }
    if (src == ERROR_SUCCESS)
        src = ERROR_FAIL_SHUTDOWN; /* success but something still runs: report it as a failure */
    out(L"RmShutdown: %ls; %d program(s) could not be closed.\n", errtext(src), refused);
    return (src == ERROR_FAIL_SHUTDOWN || src == ERROR_FAIL_NOACTION_REBOOT) ? EXIT_APPS : EXIT_RM;
}

static int do_restart(rm_state *st)
{
    progress_begin(L"restarting");
    DWORD rc = RmRestart(st->session, 0, progress_cb);
    progress_end();
    DWORD lrc = rm_list(st);
    if (lrc == ERROR_SUCCESS) {
        for (UINT i = 0; i < st->count; i++) {
            const RM_PROCESS_INFO *p = &st->apps[i];
            if (p->AppStatus & (RmStatusRestarted | RmStatusErrorOnRestart | RmStatusRestartMasked))
                out(L"  %ls: %ls\n", p->strAppName, status_text(p->AppStatus));
        }
    }
    if (rc != ERROR_SUCCESS) {
        out(L"RmRestart: %ls\n", errtext(rc));
        return rc == ERROR_FAIL_RESTART ? EXIT_APPS : EXIT_RM;
    }
    out(L"RmRestart: done.\n");
    return 0;
}

/* Options shared by close/run/replace; removes them from argv. */
static int take_flag(int *argc, wchar_t **argv, const wchar_t *name)
{
    int found = 0;
    for (int i = 0; i < *argc; i++) {
        if (!wcscmp(argv[i], L"--"))
            break;
        if (!wcscmp(argv[i], name)) {
            found = 1;
            memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i - 1) * sizeof *argv);
            (*argc)--;
            i--;
        }
    }
    return found;
}

static int cmd_list(int argc, wchar_t **argv)
{
    int json = take_flag(&argc, argv, L"--json");
    for (int i = 0; i < argc; i++)
        if (argv[i][0] == L'-' && argv[i][1] == L'-')
            return usage_error(USAGE_LIST, L"list: unknown option");
    if (argc == 0)
        return usage_error(USAGE_LIST, L"list: no FILE given");
    wchar_t **files;
    int rc = resolve_files(argc, argv, &files);
    if (rc)
        return rc;
    rm_state st;
    if ((rc = rm_begin(&st, argc, files)) != 0)
        return rc;
    DWORD lrc = rm_list(&st);
    if (lrc != ERROR_SUCCESS) {
        err(L"RmGetList (%ls%ls): %ls\n", files[0], argc > 1 ? L", ..." : L"", errtext(lrc));
        rm_end(&st);
        return EXIT_RM;
    }
    if (json)
        print_json(&st, argc, files);
    else
        print_table(&st);
    rm_end(&st);
    return EXIT_OK;
}

static int cmd_close(int argc, wchar_t **argv)
{
    ULONG flags = 0;
    if (take_flag(&argc, argv, L"--force"))
        flags |= RmForceShutdown;
    if (take_flag(&argc, argv, L"--only-registered"))
        flags |= RmShutdownOnlyRegistered;
    for (int i = 0; i < argc; i++)
        if (argv[i][0] == L'-' && argv[i][1] == L'-')
            return usage_error(USAGE_CLOSE, L"close: unknown option");
    if (argc == 0)
        return usage_error(USAGE_CLOSE, L"close: no FILE given");
    wchar_t **files;
    int rc = resolve_files(argc, argv, &files);
    if (rc)
        return rc;
    rm_state st;
    if ((rc = rm_begin(&st, argc, files)) != 0)
        return rc;
    int closed_any;
    rc = do_shutdown(&st, flags, &closed_any);
    rm_end(&st);
    return rc;
}

/* One argument quoted for CommandLineToArgvW / the C runtime's parser. */
static void append_arg(wchar_t *cl, size_t cap, const wchar_t *a)
{
    size_t n = wcslen(cl);
    int quote = !*a || wcspbrk(a, L" \t\"") != NULL;
    if (n && n + 1 < cap)
        cl[n++] = L' ';
    if (quote && n + 1 < cap)
        cl[n++] = L'"';
    for (const wchar_t *p = a; *p && n + 3 < cap; p++) {
        size_t bs = 0;
        while (p[bs] == L'\\')
            bs++;
        if (bs) {
            /* backslashes double only before a quote (or the closing quote) */
            int before_quote = p[bs] == L'"' || (quote && !p[bs]);
            for (size_t k = 0; k < (before_quote ? bs * 2 : bs) && n + 2 < cap; k++)
                cl[n++] = L'\\';
            p += bs - 1;
            continue;
        }
        if (*p == L'"')
            cl[n++] = L'\\';
        cl[n++] = *p;
    }
    if (quote && n + 1 < cap)
        cl[n++] = L'"';
    cl[n] = 0;
}

static int cmd_run(int argc, wchar_t **argv)
{
    ULONG flags = 0;
    if (take_flag(&argc, argv, L"--force"))
        flags |= RmForceShutdown;
    int dd = -1;
    for (int i = 0; i < argc; i++)
        if (!wcscmp(argv[i], L"--")) {
            dd = i;
            break;
        }
    if (argc < 1 || wcscmp(argv[0], L"--close") != 0)
        return usage_error(USAGE_RUN, L"run: expected --close FILE...");
    if (dd < 0)
        return usage_error(USAGE_RUN, L"run: expected -- COMMAND after the files");
    int nfiles = dd - 1;
    if (nfiles < 1)
        return usage_error(USAGE_RUN, L"run: no FILE given after --close");
    if (dd + 1 >= argc)
        return usage_error(USAGE_RUN, L"run: no COMMAND given after --");
    wchar_t **files;
    int rc = resolve_files(nfiles, argv + 1, &files);
    if (rc)
        return rc;

    static wchar_t cl[32768];
    cl[0] = 0;
    for (int i = dd + 1; i < argc; i++)
        append_arg(cl, sizeof cl / sizeof cl[0], argv[i]);

    rm_state st;
    if ((rc = rm_begin(&st, nfiles, files)) != 0)
        return rc;
    out(L"[1/3] close\n");
    int closed_any;
    rc = do_shutdown(&st, flags, &closed_any);
    if (rc != 0) {
        /* Those that did close are brought back, so a refused run leaves things as found. */
        if (closed_any) {
            out(L"[3/3] restart (COMMAND not run)\n");
            do_restart(&st);
        }
        rm_end(&st);
        return rc;
    }
    out(L"[2/3] run: %ls\n", cl);
    STARTUPINFOW si = {.cb = sizeof si};
    PROCESS_INFORMATION pi;
    int cmd_rc = 0;
    if (!CreateProcessW(NULL, cl, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        err(L"%ls: cannot start: %ls\n", argv[dd + 1], errtext(GetLastError()));
        cmd_rc = EXIT_COMMAND;
    } else {
        DWORD code = 0;
        WaitForSingleObject(pi.hProcess, INFINITE);
        GetExitCodeProcess(pi.hProcess, &code);
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
        out(L"  COMMAND exited with code %lu\n", (unsigned long)code);
        if (code != 0)
            cmd_rc = EXIT_COMMAND;
    }
    out(L"[3/3] restart\n");
    rc = closed_any ? do_restart(&st) : 0;
    if (!closed_any)
        out(L"  nothing was closed; nothing to restart\n");
    rm_end(&st);
    return rc ? rc : cmd_rc;
}

/* ---- replace --------------------------------------------------------------------------------- */

/* "DST<suffix><n>" for the first n where no such file exists. */
static wchar_t *sibling(const wchar_t *dst, const wchar_t *suffix)
{
    size_t cap = wcslen(dst) + wcslen(suffix) + 16;
    wchar_t *p = malloc(cap * sizeof(wchar_t));
    if (!p)
        return NULL;
    for (unsigned n = 1; n < 100000; n++) {
        _snwprintf(p, cap, L"%ls%ls%u", dst, suffix, n);
        p[cap - 1] = 0;
        if (GetFileAttributesW(p) == INVALID_FILE_ATTRIBUTES && GetLastError() == ERROR_FILE_NOT_FOUND)
            return p;
    }
    free(p);
    return NULL;
}

/* Copies SRC next to DST first, so the final step is a rename on one volume: DST is either the
 * old file or the complete new one, never half copied. Returns the temp path or NULL. */
static wchar_t *stage_copy(const wchar_t *src, const wchar_t *dst)
{
    wchar_t *tmp = sibling(dst, L".rmnew-");
    if (!tmp) {
        err(L"%ls: no free temporary name beside it\n", dst);
        return NULL;
    }
    if (!CopyFileW(src, tmp, TRUE)) {
        DWORD e = GetLastError();
        err(L"copying %ls to %ls: %ls\n", src, tmp, errtext(e));
        free(tmp);
        return NULL;
    }
    return tmp;
}

static int cmd_replace(int argc, wchar_t **argv)
{
    ULONG flags = 0;
    if (take_flag(&argc, argv, L"--force"))
        flags |= RmForceShutdown;
    for (int i = 0; i < argc; i++)
        if (argv[i][0] == L'-' && argv[i][1] == L'-')
            return usage_error(USAGE_REPLACE, L"replace: unknown option");
    if (argc < 2 || argc % 2)
        return usage_error(USAGE_REPLACE, L"replace: expected SRC DST pairs");
    int n = argc / 2;
    wchar_t **all;
    int rc = resolve_files(argc, argv, &all);
    if (rc)
        return rc;
    wchar_t **src = calloc((size_t)n, sizeof *src), **dst = calloc((size_t)n, sizeof *dst);
    wchar_t **tmp = calloc((size_t)n, sizeof *tmp);
    if (!src || !dst || !tmp)
        return EXIT_FILE;
    for (int i = 0; i < n; i++) {
        src[i] = all[2 * i];
        dst[i] = all[2 * i + 1];
    }
    /* Stage every new file before touching any program: a copy error then costs nothing. */
    for (int i = 0; i < n; i++) {
        if (!(tmp[i] = stage_copy(src[i], dst[i]))) {
            for (int k = 0; k < i; k++)
                DeleteFileW(tmp[k]);
            return EXIT_FILE;
        }
    }

    rm_state st;
    if ((rc = rm_begin(&st, n, dst)) != 0) {
        for (int k = 0; k < n; k++)
            DeleteFileW(tmp[k]);
        return rc;
    }
    DWORD lrc = rm_list(&st);
    if (lrc != ERROR_SUCCESS) {
        err(L"RmGetList (%ls%ls): %ls\n", dst[0], n > 1 ? L", ..." : L"", errtext(lrc));
        for (int k = 0; k < n; k++)
            DeleteFileW(tmp[k]);
        rm_end(&st);
        return EXIT_RM;
    }
    int use_rename = 0, closed_any = 0;
    if (st.count == 0) {
        out(L"No process uses the files.\n");
    } else {
        out(L"In use by:\n");
        print_table(&st);
        if (st.reasons) {
            out(L"The users cannot be closed (reboot reasons: %ls).\n", reasons_text(st.reasons));
            use_rename = 1;
        } else if (do_shutdown(&st, flags, &closed_any) != 0) {
            use_rename = 1;
        }
    }

    int file_rc = 0;
    for (int i = 0; i < n; i++) {
        if (!use_rename) {
            if (MoveFileExW(tmp[i], dst[i], MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
                out(L"%ls: replaced (path: close)\n", dst[i]);
                continue;
            }
            DWORD e = GetLastError();
            /* Something still holds it (a process that was not listed, or came back): the
             * rename path is the fallback for this file. */
            out(L"%ls: moving the new file over it failed: %ls; trying the rename path\n", dst[i], errtext(e));
        }
        wchar_t *old = sibling(dst[i], L".rmold-");
        if (!old) {
            err(L"%ls: no free name to rename it aside\n", dst[i]);
            DeleteFileW(tmp[i]);
            file_rc = EXIT_FILE;
            continue;
        }
        if (!MoveFileExW(dst[i], old, 0)) {
            err(L"%ls: cannot rename it aside to %ls: %ls\n", dst[i], old, errtext(GetLastError()));
            DeleteFileW(tmp[i]);
            file_rc = EXIT_FILE;
            continue;
        }
        if (!MoveFileExW(tmp[i], dst[i], 0)) {
            DWORD e = GetLastError();
            err(L"%ls: cannot move the new file into place: %ls\n", dst[i], errtext(e));
            MoveFileExW(old, dst[i], 0); /* put the old one back: DST stays usable */
            DeleteFileW(tmp[i]);
            file_rc = EXIT_FILE;
            continue;
        }
        out(L"%ls: replaced (path: rename; old file renamed to %ls)\n", dst[i], old);
        if (MoveFileExW(old, NULL, MOVEFILE_DELAY_UNTIL_REBOOT))
            out(L"  %ls: scheduled for deletion at the next reboot\n", old);
        else
            out(L"  %ls: could not schedule deletion at reboot: %ls; delete it once unused\n", old,
                errtext(GetLastError()));
        out(L"  programs still running keep the old file until they restart\n");
        free(old);
    }

    int restart_rc = 0;
    if (closed_any) {
        out(L"Restarting the closed programs...\n");
        restart_rc = do_restart(&st);
    }
    rm_end(&st);
    if (file_rc)
        return file_rc;
    return restart_rc;
}

int wmain(int argc, wchar_t **argv)
{
    if (argc < 2 || is_help(argv[1])) {
        put_text(argc < 2 ? STD_ERROR_HANDLE : STD_OUTPUT_HANDLE, USAGE_MAIN);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    static const struct {
        const wchar_t *name;
        int (*fn)(int, wchar_t **);
        const wchar_t *usage;
    } cmds[] = {
        {L"list", cmd_list, USAGE_LIST},
        {L"close", cmd_close, USAGE_CLOSE},
        {L"run", cmd_run, USAGE_RUN},
        {L"replace", cmd_replace, USAGE_REPLACE},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (wcscmp(argv[1], cmds[i].name) != 0)
            continue;
        /* --help anywhere before "--" (after it, it belongs to COMMAND) */
        for (int k = 2; k < argc && wcscmp(argv[k], L"--") != 0; k++)
            if (is_help(argv[k])) {
                put_text(STD_OUTPUT_HANDLE, cmds[i].usage);
                return EXIT_OK;
            }
        return cmds[i].fn(argc - 2, argv + 2);
    }
    err(L"unknown command '%ls'\n", argv[1]);
    put_text(STD_ERROR_HANDLE, USAGE_MAIN);
    return EXIT_USAGE;
}
