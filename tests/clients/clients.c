/*
 * The real-client cases (docs/clients.md): Inno Setup's own Setup, a 32-bit program that loads
 * our x86 DLL from the prefix's syswow64, updates a file that a running app uses. The app is
 * the shutdown suite's rsapp/rsappw (or its DLL, rsapplib); edition 1 is put in place and
 * started, Setup installs edition 2 over it. One case per run: the program's argument.
 *
 * Each case checks what a user sees:
 *   - Setup's own log (/LOG): the app found by name, closed, restarted, no error lines;
 *   - the app's own log: what it was sent (WM_QUERYENDSESSION/WM_ENDSESSION with
 *     ENDSESSION_CLOSEAPP, CTRL_C, SERVICE_CONTROL_STOP), and a second START line from the
 *     copy Setup brought back, with the same command line and directory as the first;
 *   - the installed file, byte for byte the edition Setup carries (or, where Setup had to give
 *     up, still the old one);
 *   - the new edition running: the restarted process is alive, runs the installed image and
 *     says it is edition 2.
 *
 * SPDX-License-Identifier: MIT
 */
#include "../shutdown/sd.h"

#include <shellapi.h>
#include <tlhelp32.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char it_program[] = "clients";
const struct it_role it_roles[] = {{NULL, NULL}};

/* Setup itself takes seconds; the bound is for a hang, not for a slow machine. */
#define SETUP_TIMEOUT_MS 180000u
/* How long a restarted copy may take to write its START line once Setup has exited. */
#define RESTART_WAIT_MS 30000u
/* ENDSESSION_CLOSEAPP: what RmShutdown's messages carry, so an app can tell it from logoff. */
#define CLOSEAPP_LPARAM "0x1"

enum kind {
    GUI,      /* rsappw: a window */
    CONSOLE,  /* rsapp --console: its own console */
    SERVICE,  /* rsapp --service: an own-process service */
    DLL_HOST, /* rsappw --load: the installed file is a DLL the app loaded */
};

struct client_case {
    const char *name;
    int bits; /* of the app; Setup is always 32-bit */
    enum kind kind;
    int refuse;       /* the app answers WM_QUERYENDSESSION FALSE */
    int forced;       /* Setup runs with /FORCECLOSEAPPLICATIONS */
    const WCHAR *leaf; /* the installed file */
};

static const struct client_case cases[] = {
    {"gui32", 32, GUI, 0, 0, L"rsappw.exe"},
    {"gui64", 64, GUI, 0, 0, L"rsappw.exe"},
    {"dll64", 64, DLL_HOST, 0, 0, L"rsapplib.dll"},
    {"console64", 64, CONSOLE, 0, 0, L"rsapp.exe"},
    {"service64", 64, SERVICE, 0, 0, L"rsapp.exe"},
    {"refuse64", 64, GUI, 1, 0, L"rsappw.exe"},
    {"refuse64_forced", 64, GUI, 1, 1, L"rsappw.exe"},
};

static const struct client_case *the_case;
static WCHAR installer[MAX_PATH];

/* ---- pieces ---------------------------------------------------------------------------------- */

/* A helper of the app's bitness from a build tree's bin/ (edition 2: bin/edition2/). */
static void payload(const WCHAR *leaf, int edition, WCHAR out[MAX_PATH])
{
    WCHAR rel[MAX_PATH];
    _snwprintf(rel, MAX_PATH, L"%ls%ls", edition == 2 ? L"edition2\\" : L"", leaf);
    rel[MAX_PATH - 1] = 0;
    if (the_case->bits == 64) {
        BOOL self_wow64 = FALSE;
        assert_true(IsWow64Process(GetCurrentProcess(), &self_wow64));
        if (self_wow64)
            rm_test_other_helper(rel, out);
        else
            it_helper_path(rel, out);
    } else {
        it_helper_path(rel, out);
    }
    if (GetFileAttributesW(out) == INVALID_FILE_ATTRIBUTES) {
        print_error("%ls is missing: build both presets first\n", out);
        fail();
    }
}

static char *read_all(const WCHAR *path, DWORD *size)
{
    HANDLE f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, 0, NULL);
    if (f == INVALID_HANDLE_VALUE) {
        print_error("cannot open %ls: %lu\n", path, GetLastError());
        fail();
    }
    DWORD n = GetFileSize(f, NULL);
    assert_true(n != INVALID_FILE_SIZE && n < 64u * 1024 * 1024);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    DWORD got = 0;
    BOOL ok = ReadFile(f, buf, n, &got, NULL);
    CloseHandle(f);
    assert_true(ok && got == n);
    buf[n] = 0;
    *size = n;
    return buf;
}

static void expect_same_file(const WCHAR *installed, const WCHAR *expected)
{
    DWORD na, nb;
    char *a = read_all(installed, &na), *b = read_all(expected, &nb);
    int same = na == nb && memcmp(a, b, na) == 0;
    free(a);
    free(b);
    if (!same) {
        print_error("%ls is not %ls\n", installed, expected);
        fail();
    }
}

static char *setup_log;

static int setup_log_has(const char *text)
{
    return strstr(setup_log, text) != NULL;
}

static void expect_setup_line(const char *text)
{
    if (!setup_log_has(text)) {
        print_error("Setup's log has no \"%s\"\n", text);
        fail();
    }
}

static void expect_no_setup_line(const char *text)
{
    if (setup_log_has(text)) {
        print_error("Setup's log has \"%s\"\n", text);
        fail();
    }
}

/* Shows the lines of Setup's log that are about closing and restarting apps, and the app's
 * whole log, so that a failure can be read from ctest's output alone. */
static void show_logs(const WCHAR *app_log)
{
    static const char *const topics[] = {"RestartManager", "applications", "RmShutdown", "RmRestart", "Exit code",
                                         "DeleteFile", "Defaulting", "message box"};
    print_message("--- Setup's log, on apps:\n");
    for (const char *line = setup_log; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        for (size_t t = 0; t < sizeof topics / sizeof topics[0]; t++) {
            const char *hit = strstr(line, topics[t]);
            if (hit && hit < line + n) {
                print_message("%.*s\n", (int)(n && line[n - 1] == '\r' ? n - 1 : n), line);
                break;
            }
        }
        line += n + (end != NULL);
    }
    char buf[2048];
    print_message("--- the app's log:\n");
    for (int i = 0; sd_log_line(app_log, "", i, buf, sizeof buf); i++)
        print_message("%s\n", buf);
}

/* A log line's field as a number. */
static unsigned long long field_u64(const char *line, const char *key)
{
    char v[64];
    assert_true(sd_field(line, key, v, sizeof v));
    return strtoull(v, NULL, 0);
}

struct start {
    char line[2048];
    char cwd[MAX_PATH * 3], cmd[1600];
    DWORD pid;
    int edition;
};

static void start_line(const WCHAR *log, int index, struct start *s)
{
    if (!sd_log_line(log, "START ", index, s->line, sizeof s->line)) {
        print_error("%ls has no START line #%d\n", log, index + 1);
        fail();
    }
    s->pid = (DWORD)field_u64(s->line, "pid");
    s->edition = (int)field_u64(s->line, "edition");
    assert_true(sd_field(s->line, "cwd", s->cwd, sizeof s->cwd));
    assert_true(sd_field(s->line, "cmd", s->cmd, sizeof s->cmd));
}

/* "<prefix> pid=P<rest>" is in the log, for the process P. */
static void expect_app_line(const WCHAR *log, const char *prefix, DWORD pid, const char *rest)
{
    char want[256], line[2048];
    _snprintf(want, sizeof want, "%s pid=%lu%s", prefix, pid, rest);
    want[sizeof want - 1] = 0;
    for (int i = 0; sd_log_line(log, prefix, i, line, sizeof line); i++)
        if (!strcmp(line, want))
            return;
    print_error("%ls has no line \"%s\"\n", log, want);
    fail();
}

/* Kills every process whose image is named `exe`: what Setup's loader left behind when it had
 * to be stopped (its wizard runs as a copy of itself in a temporary directory, <name>.tmp). */
static void kill_by_name(const WCHAR *exe)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE)
        return;
    PROCESSENTRY32W e = {.dwSize = sizeof e};
    for (BOOL ok = Process32FirstW(snap, &e); ok; ok = Process32NextW(snap, &e))
        if (!_wcsicmp(e.szExeFile, exe))
            rm_test_kill_pid(e.th32ProcessID);
    CloseHandle(snap);
}

/* Runs the installer as a user does, silently, logging to `log`; returns its exit code. */
static DWORD run_setup(const WCHAR *inst, const WCHAR *log)
{
    WCHAR cmd[4096], name[32];
    STARTUPINFOW si = {.cb = sizeof si};
    PROCESS_INFORMATION pi;
    _snwprintf(cmd, 4096, L"\"%ls\" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART /LOG=\"%ls\" /DIR=\"%ls\" /case=%hs%ls",
               installer, log, inst, the_case->name, the_case->forced ? L" /FORCECLOSEAPPLICATIONS" : L"");
    cmd[4095] = 0;
    print_message("%ls\n", cmd);
    if (!rm_test_create_process(installer, cmd, FALSE, 0, NULL, &si, &pi)) {
        print_error("starting Setup failed: %lu\n", GetLastError());
        fail();
    }
    CloseHandle(pi.hThread);
    DWORD w = WaitForSingleObject(pi.hProcess, SETUP_TIMEOUT_MS), code = 0;
    if (w != WAIT_OBJECT_0) {
        TerminateProcess(pi.hProcess, 1);
        WaitForSingleObject(pi.hProcess, 10000);
        CloseHandle(pi.hProcess);
        const WCHAR *leaf = wcsrchr(installer, L'\\');
        _snwprintf(name, 32, L"%.*ls.tmp", (int)(wcslen(leaf + 1) - 4), leaf + 1);
        name[31] = 0;
        kill_by_name(name);
        print_error("Setup did not finish within %u s\n", SETUP_TIMEOUT_MS / 1000);
        fail();
    }
    assert_true(GetExitCodeProcess(pi.hProcess, &code));
    CloseHandle(pi.hProcess);
    print_message("Setup exited with %lu\n", code);
    return code;
}

/* ---- the case -------------------------------------------------------------------------------- */

static void run_case(void **state)
{
    (void)state;
    const struct client_case *c = the_case;
    WCHAR inst[MAX_PATH], work[MAX_PATH], log[MAX_PATH], slog[MAX_PATH], installed[MAX_PATH];
    WCHAR old[MAX_PATH], fresh[MAX_PATH], exe[MAX_PATH];
    HANDLE ready = NULL, app = NULL;

    it_make_dir(L"inst", inst);
    it_make_dir(L"work", work);
    sd_path(log, work, L"app.log");
    sd_path(slog, work, L"setup.log");
    sd_path(installed, inst, c->leaf);
    payload(c->leaf, 1, old);
    payload(c->leaf, 2, fresh);
    assert_true(CopyFileW(old, installed, FALSE));
    sd_watch_log(log);

    /* The app, in a directory of its own and with arguments of the user's, which a restart
     * must hand back unchanged. */
    const WCHAR *user_args = L"--arg \"two words\" --arg plain";
    switch (c->kind) {
    case GUI:
        wcscpy(exe, installed);
        app = SD_LAUNCH(exe, work, 0, &ready, L"--gui%ls --log \"%ls\" %ls", c->refuse ? L" --refuse" : L"", log,
                        user_args);
        break;
    case CONSOLE:
        wcscpy(exe, installed);
        app = SD_LAUNCH(exe, work, CREATE_NEW_CONSOLE, &ready, L"--console --log \"%ls\" %ls", log, user_args);
        break;
    case DLL_HOST:
        payload(L"rsappw.exe", 1, exe);
        app = SD_LAUNCH(exe, work, 0, &ready, L"--gui --load \"%ls\" --log \"%ls\" %ls", installed, log, user_args);
        break;
    case SERVICE: {
        WCHAR name[64], event[256], cmdline[2048];
        wcscpy(exe, installed);
        _snwprintf(name, 64, L"rmclients%lu", GetCurrentProcessId());
        ready = it_event(L"svc");
        it_event_name(L"svc", event);
        _snwprintf(cmdline, 2048, L"\"%ls\" --service %ls --log \"%ls\" %ls --ready %ls", exe, name, log, user_args,
                   event);
        SC_HANDLE s = sd_service_create(name, cmdline, NULL);
        assert_true(StartServiceW(s, 0, NULL));
        IT_WAIT_EVENT(ready, NULL);
        assert_true(sd_service_wait(s, SERVICE_RUNNING, 10000));
        break;
    }
    }
    struct start first;
    start_line(log, 0, &first);
    assert_int_equal(first.edition, 1);
    if (!app) {
        app = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, first.pid);
        assert_non_null(app);
        it_adopt(app);
    }
    if (c->kind == DLL_HOST) {
        char line[2048];
        assert_true(sd_log_line(log, "LOADED ", 0, line, sizeof line));
        assert_int_equal(field_u64(line, "edition"), 1);
        /* a 64-bit process's DLL lies above 4 GiB, out of a 32-bit caller's own reach */
        assert_true(field_u64(line, "base") > 0xffffffffull);
    }

    DWORD code = run_setup(inst, slog);
    DWORD size;
    setup_log = read_all(slog, &size);
    show_logs(log);

    /* The app is found under the name RmGetList gives it. */
    char found[256];
    if (c->kind == SERVICE) {
        WCHAR name[64];
        _snwprintf(name, 64, L"rmclients%lu", GetCurrentProcessId());
        _snprintf(found, sizeof found, "RestartManager found an application using one of our files: %ls", name);
    } else if (c->kind == CONSOLE) {
        _snprintf(found, sizeof found, "RestartManager found an application using one of our files: %ls", c->leaf);
    } else {
        _snprintf(found, sizeof found, "RestartManager found an application using one of our files: rsapp");
    }
    found[sizeof found - 1] = 0;
    expect_setup_line(found);
    expect_setup_line("Can use RestartManager to avoid reboot? Yes (0)");
    expect_no_setup_line("RmGetList failed");
    expect_setup_line(c->forced ? "Shutting down applications using our files. (forced)"
                                : "Shutting down applications using our files.");

    if (c->refuse && !c->forced) {
        /* Without force the app is asked, says no, and stays; Setup reports it and gives up
         * rather than replace a file in use. */
        expect_setup_line("Some applications could not be shut down.");
        expect_setup_line("Setup was unable to automatically close all applications.");
        /* 5: "the user chose Abort at an Abort-Retry-Ignore prompt", here the suppressed one
         * (Inno Setup's documented exit codes) */
        assert_int_equal(code, 5);
        expect_app_line(log, "WM_QUERYENDSESSION", first.pid, " lParam=" CLOSEAPP_LPARAM);
        assert_true(sd_running(app));
        assert_int_equal(sd_log_count(log, "START "), 1);
        expect_same_file(installed, old);
        free(setup_log);
        return;
    }

    assert_int_equal(code, 0);
    expect_no_setup_line("Some applications could not be shut down.");
    expect_no_setup_line("RmShutdown returned an error");
    expect_setup_line("Attempting to restart applications.");
    expect_no_setup_line("One or more applications could not be restarted.");
    expect_no_setup_line("RmRestart returned an error");

    /* What the app was sent, and that it is gone. */
    switch (c->kind) {
    case GUI:
    case DLL_HOST:
        expect_app_line(log, "WM_QUERYENDSESSION", first.pid, " lParam=" CLOSEAPP_LPARAM);
        if (!c->forced)
            expect_app_line(log, "WM_ENDSESSION", first.pid, " wParam=1 lParam=" CLOSEAPP_LPARAM);
        break;
    case CONSOLE:
        expect_app_line(log, "CTRL_C", first.pid, "");
        break;
    case SERVICE: {
        char rest[96];
        _snprintf(rest, sizeof rest, " name=rmclients%lu", GetCurrentProcessId());
        rest[sizeof rest - 1] = 0;
        expect_app_line(log, "SERVICE_CONTROL_STOP", first.pid, rest);
        break;
    }
    }
    assert_false(sd_running(app));
    expect_same_file(installed, fresh);

    /* The new edition runs, brought back as the user started it. */
    if (!sd_log_wait(log, "START ", 2, RESTART_WAIT_MS)) {
        print_error("%ls: no restarted copy within %u s\n", log, RESTART_WAIT_MS / 1000);
        fail();
    }
    struct start second;
    start_line(log, 1, &second);
    assert_int_equal(sd_log_count(log, "START "), 2);
    assert_int_not_equal(second.pid, first.pid);
    assert_string_equal(second.cmd, first.cmd);
    assert_string_equal(second.cwd, first.cwd);
    HANDLE p = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, second.pid);
    assert_non_null(p);
    WCHAR image[MAX_PATH];
    DWORD n = MAX_PATH;
    BOOL ok = QueryFullProcessImageNameW(p, 0, image, &n);
    BOOL alive = sd_running(p);
    CloseHandle(p);
    assert_true(ok && alive);
    if (_wcsicmp(image, exe) != 0) {
        print_error("the restarted copy runs %ls, not %ls\n", image, exe);
        fail();
    }
    if (c->kind == DLL_HOST) {
        char line[2048];
        if (!sd_log_wait(log, "LOADED ", 2, RESTART_WAIT_MS))
            fail_msg("the restarted copy did not load %ls", installed);
        assert_true(sd_log_line(log, "LOADED ", 1, line, sizeof line));
        assert_int_equal(field_u64(line, "pid"), second.pid);
        assert_int_equal(field_u64(line, "edition"), 2);
    } else {
        assert_int_equal(second.edition, 2);
    }
    free(setup_log);
}

/* ---- entry ------------------------------------------------------------------------------------- */

int it_parent(void)
{
    int argc = 0;
    WCHAR **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (!argv || argc < 2) {
        fprintf(stderr, "usage: clients_run CASE\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        WCHAR name[64];
        _snwprintf(name, 64, L"%hs", cases[i].name);
        name[63] = 0;
        if (!wcscmp(name, argv[1]))
            the_case = &cases[i];
    }
    if (!the_case) {
        fprintf(stderr, "clients_run: no case %ls\n", argv[1]);
        return 2;
    }
    LocalFree(argv);

    /* gui32 is the one case Setup runs in 32-bit mode; the others install 64-bit apps. */
    _snwprintf(installer, MAX_PATH, L"%ls\\%ls", RM_CLIENTS_INSTALLERS,
               the_case->bits == 32 ? L"setup32.exe" : L"setup64.exe");
    installer[MAX_PATH - 1] = 0;
    if (GetFileAttributesW(installer) == INVALID_FILE_ATTRIBUTES) {
        WCHAR reason[MAX_PATH];
        _snwprintf(reason, MAX_PATH, L"%ls\\skipped.txt", RM_CLIENTS_INSTALLERS);
        reason[MAX_PATH - 1] = 0;
        if (GetFileAttributesW(reason) != INVALID_FILE_ATTRIBUTES) {
            DWORD size;
            char *why = read_all(reason, &size);
            printf("clients.%s SKIPPED: %s", the_case->name, why);
            free(why);
            return 77;
        }
        fprintf(stderr, "%ls is missing (the clients.installers fixture did not run or failed)\n", installer);
        return 1;
    }

    char group[80];
    _snprintf(group, sizeof group, "clients.%s", the_case->name);
    group[sizeof group - 1] = 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(run_case, sd_teardown),
    };
    return cmocka_run_group_tests_name(group, tests, sd_group_setup, sd_group_teardown);
}
