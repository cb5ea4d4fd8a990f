/*
 * RmShutdown of N GUI apps: does closing them cost one app's time or N apps' time?
 *
 * N apps (this program again, in its --app role) each show a visible top-level window and hold
 * a file of their own open. An app agrees to WM_QUERYENDSESSION and, on WM_ENDSESSION(TRUE),
 * takes 1,500 ms to save its work before it exits: a real editor's behaviour, and the floor
 * of the measurement, since no shutdown can finish before its apps do. For N = 1, 10 and 50,
 * each in a fresh session with all N files registered, one run measures the wall time of
 * RmShutdown(h, 0, NULL) and checks that it returned 0 and every app exited through
 * WM_ENDSESSION. Apps closed one after another would cost N × 1,500 ms; the target is that
 * N = 10 stays within 1.6 × N = 1.
 *
 * Every app stamps, in memory shared with the bench, when it received WM_QUERYENDSESSION and
 * WM_ENDSESSION and when it began to exit; against the call's start these say where the time
 * goes (before the first message, between the two rounds, after the last exit).
 *
 * RmShutdown waits up to HungAppTimeout (HKCU\Control Panel\Desktop, REG_SZ milliseconds,
 * default 30 s) for an app; the bench sets it to --app-timeout ms (default 10000) so a stuck
 * run costs less, and puts the previous value back at the end. --app-timeout 0 leaves it alone.
 *
 * A warm-up run (N = 1, not counted) comes first: the first call loads code and starts Wine
 * helpers. Then rounds of N = 1, 10, 50 follow, up to --reps of them, as long as the next round
 * still fits in about three minutes; medians are printed per N.
 *
 * A benchmark, not a test: ctest does not run it, and it prints numbers next to their target
 * instead of failing. Exit code 1 means it could not measure (set-up failed).
 *
 *   bench_shutdown [--reps R] [--app-timeout MS]
 *
 * SPDX-License-Identifier: MIT
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <restartmanager.h>

#include "common.h"

#define DEFAULT_REPS 3u
#define DEFAULT_APP_TIMEOUT_MS 10000u
#define APP_SAVE_MS 1500u      /* what each app takes between WM_ENDSESSION and its exit */
#define APP_START_MS 120000u   /* all apps of one run; 50 Wine processes start slowly */
#define BUDGET_MS 180000u      /* no further round once the next would end past this */
#define TARGET_TEXT "N = 10 within 1.6x of N = 1"
#define TARGET 1.6
#define MAX_APPS 50u

/* Exit codes of the app role: 0 after WM_ENDSESSION, the rest tell what went wrong. */
#define APP_ENDED 0
#define APP_CLOSED 10 /* WM_CLOSE reached it: RmShutdown's fallback, not the protocol */
#define APP_PARENT_GONE 11

static const unsigned app_counts[] = {1, 10, 50};
#define NCOUNTS (sizeof app_counts / sizeof app_counts[0])

/* What one app records; QueryPerformanceCounter values, 0 until the event happens. The
 * counter is system-wide, so the bench compares them with its own. */
struct app_stamps {
    volatile LONGLONG query, end_session, exiting;
};

/* ---- the app role ------------------------------------------------------------------------------ */

static struct app_stamps *app_slot;

static void stamp(volatile LONGLONG *at)
{
    LARGE_INTEGER now;
    QueryPerformanceCounter(&now);
    if (!*at)
        *at = now.QuadPart;
}

static LRESULT CALLBACK app_window(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_QUERYENDSESSION:
        stamp(&app_slot->query);
        return TRUE;
    case WM_ENDSESSION:
        stamp(&app_slot->end_session);
        if (wp) {
            /* The reply never comes: like an app that saves and leaves, it exits from here,
             * and the sender learns it only by the process ending. */
            Sleep(APP_SAVE_MS);
            stamp(&app_slot->exiting);
            ExitProcess(APP_ENDED);
        }
        return 0;
    case WM_DESTROY:
        PostQuitMessage(APP_CLOSED);
        return 0;
    }
    return DefWindowProcW(hwnd, msg, wp, lp);
}

/* Holds FILE open, shows its window, tells the parent, and runs until the session ends it or
 * the parent is gone: a bench that dies leaves no app behind. */
static int app(const WCHAR *file, unsigned slot, DWORD parent_pid, const WCHAR *ready_name, const WCHAR *map_name)
{
    HANDLE parent = OpenProcess(SYNCHRONIZE, FALSE, parent_pid);
    if (!parent)
        return 2;
    HANDLE map = OpenFileMappingW(FILE_MAP_WRITE, FALSE, map_name);
    struct app_stamps *stamps = map ? MapViewOfFile(map, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    if (!stamps)
        return 3;
    app_slot = &stamps[slot];
    HANDLE h = CreateFileW(file, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return 4;
    WNDCLASSW wc;
    memset(&wc, 0, sizeof wc);
    wc.lpfnWndProc = app_window;
    wc.hInstance = GetModuleHandleW(NULL);
    wc.lpszClassName = L"rstrtmgr-bench-app";
    WCHAR title[64];
    _snwprintf(title, 64, L"rstrtmgr bench app %u", slot);
    title[63] = 0;
    /* Visible, titled and unowned: RmGetList lists it as RmMainWindow. */
    HWND w = RegisterClassW(&wc) ? CreateWindowExW(0, wc.lpszClassName, title, WS_OVERLAPPEDWINDOW | WS_VISIBLE,
                                                   CW_USEDEFAULT, CW_USEDEFAULT, 320, 200, NULL, NULL,
                                                   wc.hInstance, NULL)
                                 : NULL;
    if (!w)
        return 5;
    HANDLE ready = OpenEventW(EVENT_MODIFY_STATE, FALSE, ready_name);
    if (!ready || !SetEvent(ready))
        return 6;
    CloseHandle(ready);
    /* Waking for sent messages too (QS_ALLINPUT): PeekMessage delivers them. */
    for (;;) {
        DWORD r = MsgWaitForMultipleObjects(1, &parent, FALSE, INFINITE, QS_ALLINPUT);
        if (r == WAIT_OBJECT_0)
            return APP_PARENT_GONE;
        if (r != WAIT_OBJECT_0 + 1)
            return 7;
        MSG m;
        while (PeekMessageW(&m, NULL, 0, 0, PM_REMOVE)) {
            if (m.message == WM_QUIT)
                return (int)m.wParam;
            TranslateMessage(&m);
            DispatchMessageW(&m);
        }
    }
}

/* ---- HungAppTimeout for the run ------------------------------------------------------------------ */

#define DESKTOP_KEY L"Control Panel\\Desktop"
#define HUNG_VALUE L"HungAppTimeout"

static struct {
    BOOL changed, existed;
    DWORD type, size;
    BYTE data[256];
} saved_timeout;

static BOOL set_app_timeout(unsigned ms)
{
    HKEY key;
    if (RegCreateKeyExW(HKEY_CURRENT_USER, DESKTOP_KEY, 0, NULL, 0, KEY_QUERY_VALUE | KEY_SET_VALUE, NULL, &key,
                        NULL) != ERROR_SUCCESS)
        return FALSE;
    saved_timeout.size = sizeof saved_timeout.data;
    LSTATUS st = RegQueryValueExW(key, HUNG_VALUE, NULL, &saved_timeout.type, saved_timeout.data, &saved_timeout.size);
    if (st != ERROR_SUCCESS && st != ERROR_FILE_NOT_FOUND) {
        RegCloseKey(key);
        return FALSE; /* unreadable (too long?): leave it, rather than lose it */
    }
    saved_timeout.existed = st == ERROR_SUCCESS;
    WCHAR text[16];
    _snwprintf(text, 16, L"%u", ms);
    text[15] = 0;
    st = RegSetValueExW(key, HUNG_VALUE, 0, REG_SZ, (const BYTE *)text, (DWORD)((wcslen(text) + 1) * sizeof *text));
    RegCloseKey(key);
    saved_timeout.changed = st == ERROR_SUCCESS;
    return saved_timeout.changed;
}

static void restore_app_timeout(void)
{
    HKEY key;
    if (!saved_timeout.changed ||
        RegOpenKeyExW(HKEY_CURRENT_USER, DESKTOP_KEY, 0, KEY_SET_VALUE, &key) != ERROR_SUCCESS)
        return;
    if (saved_timeout.existed)
        RegSetValueExW(key, HUNG_VALUE, 0, saved_timeout.type, saved_timeout.data, saved_timeout.size);
    else
        RegDeleteValueW(key, HUNG_VALUE);
    RegCloseKey(key);
    saved_timeout.changed = FALSE;
}

/* Ctrl+C ends the bench (its apps follow it), but the setting must not stay behind. */
static BOOL WINAPI on_break(DWORD type)
{
    (void)type;
    restore_app_timeout();
    return FALSE;
}

/* ---- timing ------------------------------------------------------------------------------------ */

static LARGE_INTEGER freq;

static double ms_between(LONGLONG from, LONGLONG to)
{
    return (double)(to - from) * 1000.0 / (double)freq.QuadPart;
}

static double ms_since(LONGLONG from)
{
    LARGE_INTEGER now;
    QueryPerformanceCounter(&now);
    return ms_between(from, now.QuadPart);
}

static double median_of(const double *v, unsigned n)
{
    double s[16];
    if (!n)
        return 0;
    memcpy(s, v, n * sizeof *v);
    qsort(s, n, sizeof *s, bench_by_value);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- one run: N apps, one session, one RmShutdown ------------------------------------------------ */

struct bench {
    WCHAR exe[MAX_PATH], root[MAX_PATH], map_name[64];
    BOOL root_made;
    HANDLE map;
    struct app_stamps *stamps;
    unsigned runs; /* names the run's directory and events */
};

/* Phases of one call, in ms from its start; negative when no app got that far. */
enum { FIRST_QUERY, LAST_QUERY, FIRST_END, LAST_END, LAST_EXITING, NPHASES };
static const char *const phase_names[NPHASES] = {"first WM_QUERYENDSESSION", "last", "first WM_ENDSESSION", "last",
                                                 "last app exiting"};

struct result {
    unsigned n;
    double start_ms; /* all apps up */
    double ms;       /* RmShutdown */
    double end_ms;   /* RmEndSession */
    DWORD err;
    unsigned exited, ended; /* apps gone after the call; of them, gone through WM_ENDSESSION */
    unsigned queried, told;  /* apps that got WM_QUERYENDSESSION, WM_ENDSESSION */
    DWORD odd_code;          /* an exit code other than APP_ENDED, if any */
    double phase[NPHASES];
};

struct apps {
    unsigned n, started;
    PROCESS_INFORMATION pi[MAX_APPS];
    WCHAR dir[MAX_PATH], files[MAX_APPS][MAX_PATH];
    BOOL dir_made;
};

static int start_apps(struct bench *b, struct apps *a)
{
    WCHAR name[MAX_APPS][64], cmd[4 * MAX_PATH];
    HANDLE ready[MAX_APPS];
    unsigned made = 0;
    int ok = 1;
    for (unsigned i = 0; i < a->n; i++) {
        _snwprintf(a->files[i], MAX_PATH, L"%ls\\app%02u.dat", a->dir, i);
        a->files[i][MAX_PATH - 1] = 0;
    }
    for (unsigned i = 0; ok && i < a->n; i++) {
        _snwprintf(name[i], 64, L"Local\\rstrtmgr-bench-shutdown-%lu-%u-%u", GetCurrentProcessId(), b->runs, i);
        name[i][63] = 0;
        if (!(ready[i] = CreateEventW(NULL, TRUE, FALSE, name[i]))) {
            ok = 0;
            break;
        }
        made = i + 1;
        _snwprintf(cmd, 4 * MAX_PATH, L"\"%ls\" --app \"%ls\" %u %lu %ls %ls", b->exe, a->files[i], i,
                   GetCurrentProcessId(), name[i], b->map_name);
        cmd[4 * MAX_PATH - 1] = 0;
        if (!bench_start(b->exe, cmd, "app", i, &a->pi[i])) {
            ok = 0;
            break;
        }
        a->started = i + 1;
    }
    /* Each app is ready once its window exists. */
    ok = ok && bench_wait_ready(ready, a->pi, a->n, APP_START_MS, "app");
    for (unsigned i = 0; i < made; i++)
        CloseHandle(ready[i]);
    return ok;
}

/* Ends whatever the run left running, through the handles of the processes it started. */
static void stop_apps(struct apps *a)
{
    for (unsigned i = 0; i < a->started; i++)
        if (WaitForSingleObject(a->pi[i].hProcess, 0) != WAIT_OBJECT_0)
            TerminateProcess(a->pi[i].hProcess, 1);
    for (unsigned i = 0; i < a->started; i++) {
        WaitForSingleObject(a->pi[i].hProcess, 10000);
        CloseHandle(a->pi[i].hProcess);
    }
    a->started = 0;
    for (unsigned i = 0; a->dir_made && i < a->n; i++)
        DeleteFileW(a->files[i]);
    if (a->dir_made && !RemoveDirectoryW(a->dir))
        say("note: could not remove %ls (error %lu)\n", a->dir, GetLastError());
    a->dir_made = FALSE;
}

static void read_stamps(const struct bench *b, LONGLONG t0, struct result *r)
{
    for (unsigned p = 0; p < NPHASES; p++)
        r->phase[p] = -1;
    for (unsigned i = 0; i < r->n; i++) {
        const struct app_stamps *s = &b->stamps[i];
        LONGLONG at[3] = {s->query, s->end_session, s->exiting};
        for (unsigned k = 0; k < 3; k++) {
            if (!at[k])
                continue;
            double ms = ms_between(t0, at[k]);
            double *first = k == 0 ? &r->phase[FIRST_QUERY] : k == 1 ? &r->phase[FIRST_END] : NULL;
            double *last = k == 0 ? &r->phase[LAST_QUERY] : k == 1 ? &r->phase[LAST_END] : &r->phase[LAST_EXITING];
            if (first && (*first < 0 || ms < *first))
                *first = ms;
            if (ms > *last)
                *last = ms;
        }
        r->queried += s->query != 0;
        r->told += s->end_session != 0;
    }
}

static int run_once(struct bench *b, unsigned n, struct result *r)
{
    struct apps *a = calloc(1, sizeof *a);
    LPCWSTR names[MAX_APPS];
    DWORD session = 0;
    WCHAR key[CCH_RM_SESSION_KEY + 1];
    int ok = a != NULL;
    memset(r, 0, sizeof *r);
    r->n = n;
    b->runs++;
    if (ok) {
        a->n = n;
        _snwprintf(a->dir, MAX_PATH, L"%ls\\run%u", b->root, b->runs);
        a->dir[MAX_PATH - 1] = 0;
        a->dir_made = CreateDirectoryW(a->dir, NULL);
        if (!a->dir_made)
            say("error: cannot create %ls (error %lu)\n", a->dir, GetLastError());
        ok = a->dir_made;
    }
    memset(b->stamps, 0, MAX_APPS * sizeof *b->stamps);
    LARGE_INTEGER t0;
    QueryPerformanceCounter(&t0);
    if (ok)
        ok = start_apps(b, a);
    r->start_ms = ms_since(t0.QuadPart);
    DWORD err = ERROR_SUCCESS;
    if (ok && (err = RmStartSession(&session, 0, key)) != ERROR_SUCCESS) {
        session = 0;
        say("error: RmStartSession failed (%lu)\n", err);
        ok = 0;
    }
    for (unsigned i = 0; ok && i < n; i++)
        names[i] = a->files[i];
    if (ok && (err = RmRegisterResources(session, n, names, 0, NULL, 0, NULL)) != ERROR_SUCCESS) {
        say("error: RmRegisterResources failed (%lu)\n", err);
        ok = 0;
    }
    if (ok) {
        QueryPerformanceCounter(&t0);
        r->err = RmShutdown(session, 0, NULL);
        r->ms = ms_since(t0.QuadPart);
        for (unsigned i = 0; i < n; i++) {
            DWORD code = STILL_ACTIVE;
            if (WaitForSingleObject(a->pi[i].hProcess, 0) != WAIT_OBJECT_0)
                continue;
            r->exited++;
            GetExitCodeProcess(a->pi[i].hProcess, &code);
            if (code == APP_ENDED)
                r->ended++;
            else
                r->odd_code = code;
        }
        read_stamps(b, t0.QuadPart, r);
    }
    if (session) {
        QueryPerformanceCounter(&t0);
        RmEndSession(session);
        r->end_ms = ms_since(t0.QuadPart);
    }
    if (a)
        stop_apps(a);
    free(a);
    return ok;
}

static void phases_text(const double *phase, char *out, size_t size)
{
    size_t used = 0;
    out[0] = 0;
    for (unsigned p = 0; p < NPHASES && used < size; p++) {
        int k = phase[p] < 0 ? snprintf(out + used, size - used, "%s%s never", p ? ", " : "", phase_names[p])
                             : snprintf(out + used, size - used, "%s%s +%.0f", p ? ", " : "", phase_names[p],
                                        phase[p]);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

/* One line per run, and a WARNING when the call did not do its job. */
static void report_run(const char *label, const struct result *r)
{
    char phases[256];
    phases_text(r->phase, phases, sizeof phases);
    say("%s N=%u: RmShutdown %.0f ms, returned %lu; %u/%u exited (%u via WM_ENDSESSION); apps up in %.0f ms, "
        "RmEndSession %.0f ms\n",
        label, r->n, r->ms, r->err, r->exited, r->n, r->ended, r->start_ms, r->end_ms);
    say("    ms from the call: %s\n", phases);
    if (r->err != ERROR_SUCCESS || r->exited != r->n || r->ended != r->n)
        say("WARNING: N=%u: RmShutdown returned %lu, %u of %u apps exited, %u through WM_ENDSESSION "
            "(%u got WM_QUERYENDSESSION, %u WM_ENDSESSION; last odd exit code %lu)\n",
            r->n, r->err, r->exited, r->n, r->ended, r->queried, r->told, r->odd_code);
}

/* ---- main ------------------------------------------------------------------------------------------ */

static int usage(void)
{
    say("usage: bench_shutdown [--reps R] [--app-timeout MS]\n"
        "  defaults: R=%u (fewer if a round would end past %u s), MS=%u (0: leave HungAppTimeout as it is)\n",
        DEFAULT_REPS, BUDGET_MS / 1000, DEFAULT_APP_TIMEOUT_MS);
    return 2;
}

static int setup(struct bench *b)
{
    WCHAR tmp[MAX_PATH];
    DWORD n = GetModuleFileNameW(NULL, b->exe, MAX_PATH);
    if (!n || n >= MAX_PATH)
        return 0;
    n = GetTempPathW(MAX_PATH, tmp);
    if (!n || n >= MAX_PATH - 60) {
        say("error: no usable temporary directory\n");
        return 0;
    }
    _snwprintf(b->root, MAX_PATH, L"%lsrstrtmgr-bench-shutdown-%lu", tmp, GetCurrentProcessId());
    b->root[MAX_PATH - 1] = 0;
    if (!CreateDirectoryW(b->root, NULL)) {
        say("error: cannot create %ls (error %lu)\n", b->root, GetLastError());
        return 0;
    }
    b->root_made = TRUE;
    _snwprintf(b->map_name, 64, L"Local\\rstrtmgr-bench-shutdown-%lu", GetCurrentProcessId());
    b->map_name[63] = 0;
    b->map = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, MAX_APPS * sizeof *b->stamps,
                                b->map_name);
    b->stamps = b->map ? MapViewOfFile(b->map, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    if (!b->stamps)
        say("error: cannot share memory with the apps (error %lu)\n", GetLastError());
    return b->stamps != NULL;
}

static void teardown(struct bench *b)
{
    if (b->stamps)
        UnmapViewOfFile(b->stamps);
    if (b->map)
        CloseHandle(b->map);
    if (b->root_made && !RemoveDirectoryW(b->root))
        say("note: could not remove %ls (error %lu)\n", b->root, GetLastError());
}

int wmain(int argc, WCHAR **argv)
{
    unsigned slot, pid;
    if (argc == 7 && !wcscmp(argv[1], L"--app")) {
        if (!bench_number(argv[3], 0, MAX_APPS - 1, &slot) || !bench_number(argv[4], 1, 0xffffffffu, &pid))
            return 2;
        return app(argv[2], slot, pid, argv[5], argv[6]);
    }

    unsigned reps = DEFAULT_REPS, app_timeout = DEFAULT_APP_TIMEOUT_MS;
    for (int i = 1; i < argc; i += 2) {
        unsigned *v = !wcscmp(argv[i], L"--reps") ? &reps : !wcscmp(argv[i], L"--app-timeout") ? &app_timeout : NULL;
        if (!v || i + 1 >= argc || !bench_number(argv[i + 1], v == &reps ? 1 : 0, v == &reps ? 15 : 3600000, v))
            return usage();
        if (v == &app_timeout && app_timeout && app_timeout < 100)
            return usage(); /* RmShutdown would ignore it and use 30 s */
    }
    QueryPerformanceFrequency(&freq);
    LARGE_INTEGER begin;
    QueryPerformanceCounter(&begin);

    struct bench b;
    memset(&b, 0, sizeof b);
    int ok = setup(&b);
    if (ok && app_timeout) {
        SetConsoleCtrlHandler(on_break, TRUE);
        if (set_app_timeout(app_timeout))
            say("HungAppTimeout set to %u ms for this run (previously %s)\n", app_timeout,
                saved_timeout.existed ? "set; restored at the end" : "unset; removed at the end");
        else
            say("note: could not set HungAppTimeout; RmShutdown uses what is configured (default 30 s)\n");
    } else if (ok) {
        say("HungAppTimeout left as configured (default 30 s)\n");
    }
    say("each app exits %u ms after WM_ENDSESSION: the floor of every run\n", APP_SAVE_MS);

    struct result warm, results[NCOUNTS][16];
    unsigned rounds = 0;
    if (ok && (ok = run_once(&b, 1, &warm)))
        report_run("warm-up (not counted)", &warm);
    while (ok && rounds < reps) {
        LARGE_INTEGER round_start;
        QueryPerformanceCounter(&round_start);
        for (unsigned c = 0; ok && c < NCOUNTS; c++) {
            char label[32];
            snprintf(label, sizeof label, "round %u", rounds + 1);
            if ((ok = run_once(&b, app_counts[c], &results[c][rounds])))
                report_run(label, &results[c][rounds]);
        }
        if (!ok)
            break;
        rounds++;
        double spent = ms_since(begin.QuadPart), round_ms = ms_since(round_start.QuadPart);
        if (rounds < reps && spent + round_ms > BUDGET_MS) {
            say("note: stopping after %u round(s): another would end past %u s\n", rounds, BUDGET_MS / 1000);
            break;
        }
    }

    double med[NCOUNTS] = {0};
    for (unsigned c = 0; c < NCOUNTS && rounds; c++) {
        double v[16], ph[NPHASES][16];
        unsigned bad = 0, nph[NPHASES] = {0};
        for (unsigned r = 0; r < rounds; r++) {
            const struct result *x = &results[c][r];
            v[r] = x->ms;
            bad += x->err != ERROR_SUCCESS || x->exited != x->n || x->ended != x->n;
            for (unsigned p = 0; p < NPHASES; p++)
                if (x->phase[p] >= 0)
                    ph[p][nph[p]++] = x->phase[p];
        }
        med[c] = median_of(v, rounds);
        double lo = v[0], hi = v[0];
        for (unsigned r = 1; r < rounds; r++) {
            lo = v[r] < lo ? v[r] : lo;
            hi = v[r] > hi ? v[r] : hi;
        }
        double phase[NPHASES];
        for (unsigned p = 0; p < NPHASES; p++)
            phase[p] = nph[p] ? median_of(ph[p], nph[p]) : -1;
        char phases[256];
        phases_text(phase, phases, sizeof phases);
        say("N=%u: RmShutdown median %.0f ms (%.0f..%.0f, %u run%s), %.0f ms over the %u ms floor; %s\n",
            app_counts[c], med[c], lo, hi, rounds, rounds == 1 ? "" : "s", med[c] - APP_SAVE_MS, APP_SAVE_MS,
            bad ? "SOME RUNS FAILED (see WARNING lines)" : "all returned 0 with every app exited");
        say("    medians, ms from the call: %s\n", phases);
    }
    if (rounds) {
        double ratio = med[1] / med[0];
        say("time(N=10)/time(N=1) = %.2f (target: " TARGET_TEXT "): %s\n", ratio, ratio <= TARGET ? "met" : "MISSED");
        say("time(N=50)/time(N=1) = %.2f\n", med[2] / med[0]);
    }
    restore_app_timeout();
    teardown(&b);
    say("total %.0f s\n", ms_since(begin.QuadPart) / 1000);
    return ok ? 0 : 1;
}
