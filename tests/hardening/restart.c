/*
 * What RmRestart and the safeguard run cannot be chosen by another process of the user
 * (docs/threat-model.md): such a process can open the session's data section by its name and
 * rewrite it, so here the test plays that process between RmShutdown and the restart.
 *
 * The attack knows nothing of the log's format: it rewrites every copy, anywhere in the
 * section, of text it wants changed, keeping the length. Rewriting the held app's log path
 * into another one would make a restart that trusts the section start the app with a command
 * line the attacker chose (visible as a START line in the other log); rewriting a stopped
 * service's name into another service's would start the wrong service. The DLL must restart
 * the app and the service it stopped, as they ran, and nothing else, through RmRestart and
 * through the safeguard's watcher after the installer is killed, even when the store says the
 * session is gone. And the image it starts is
 * the one that ran, not whatever a search for the command line's first word finds.
 *
 * The programs call the real DLL (the watcher needs it), on the user's own store, like those of
 * tests/shutdown, whose harness they use.
 *
 * SPDX-License-Identifier: MIT
 */
#include "../shutdown/sd.h"

#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard.h"
#include "session/layout.h"
#include "session/store.h"

const char it_program[] = "hdrestart";

/* How long a killed installer's app may take to come back. */
#define RESTART_BOUND_MS 15000

/* ---- the attacker ---------------------------------------------------------------------------- */

static void user_sid(WCHAR out[256])
{
    HANDLE t;
    BYTE buf[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    DWORD n;
    WCHAR *s;
    assert_true(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &t));
    assert_true(GetTokenInformation(t, TokenUser, buf, sizeof buf, &n));
    CloseHandle(t);
    assert_true(ConvertSidToStringSidW(((TOKEN_USER *)(void *)buf)->User.Sid, &s));
    wcsncpy(out, s, 255);
    out[255] = 0;
    LocalFree(s);
}

/* Maps the first `bytes` of a named section of the store, read-write, pages committed. */
static void *open_section(const WCHAR *suffix, DWORD bytes, HANDLE *section)
{
    WCHAR sid[256], name[512];
    user_sid(sid);
    _snwprintf(name, 512, L"Local\\%ls.%ls%ls", RM_STORE_DEFAULT_PREFIX, sid, suffix);
    name[511] = 0;
    *section = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name);
    if (!*section) {
        print_error("cannot open %ls (error %lu)\n", name, GetLastError());
        fail();
    }
    void *v = MapViewOfFile(*section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, bytes);
    assert_non_null(v);
    assert_non_null(VirtualAlloc(v, bytes, MEM_COMMIT, PAGE_READWRITE));
    return v;
}

/* The store, mapped, and the live slot of the session that `owner` started. */
static struct rm_store *slot_of(DWORD owner, HANDLE *section, uint32_t *slot)
{
    struct rm_store *s = open_section(L"", sizeof(struct rm_store), section);
    *slot = RM_MAX_SESSIONS;
    for (uint32_t i = 0; i < RM_MAX_SESSIONS; i++)
        if (s->slots[i].state == RM_SLOT_LIVE && s->slots[i].owner_pid == owner)
            *slot = i;
    assert_true(*slot < RM_MAX_SESSIONS);
    return s;
}

/* Rewrites every UTF-16 copy of `from` in the data section of the session that `owner` started
 * into `to` (same length); returns how many it rewrote. */
static int rewrite_session(DWORD owner, const WCHAR *from, const WCHAR *to)
{
    size_t n = wcslen(from);
    assert_int_equal(wcslen(to), n);
    HANDLE ss, ds;
    uint32_t slot;
    struct rm_store *s = slot_of(owner, &ss, &slot);
    WCHAR suffix[40];
    _snwprintf(suffix, 40, L".s%u.g%u", slot, s->slots[slot].generation);
    UnmapViewOfFile(s);
    CloseHandle(ss);
    const DWORD view = 1u << 20; /* far more than these sessions write */
    uint8_t *d = open_section(suffix, view, &ds);
    uint32_t used = ((struct rm_data_header *)(void *)d)->used;
    assert_true(used <= view);
    int count = 0;
    for (uint32_t off = 0; off + 2 * n <= used; off += 2)
        if (!memcmp(d + off, from, 2 * n)) {
            memcpy(d + off, to, 2 * n);
            count++;
        }
    UnmapViewOfFile(d);
    CloseHandle(ds);
    print_message("the attacker rewrote %d cop%s of \"%ls\"\n", count, count == 1 ? "y" : "ies", from);
    return count;
}

/* ---- the scene: an app holding a file, and a second log its rewritten command would use ------- */

struct scene {
    WCHAR file[MAX_PATH], log[MAX_PATH], other_log[MAX_PATH];
    HANDLE app, ready;
};

static void set_scene(struct scene *s, const WCHAR *tag)
{
    WCHAR dir[MAX_PATH];
    it_make_dir(tag, dir);
    sd_path(s->file, dir, L"held.dat");
    sd_path(s->log, dir, L"appA.log");
    sd_path(s->other_log, dir, L"appB.log");
    sd_watch_log(s->log);
    sd_watch_log(s->other_log);
    s->app = SD_LAUNCH(sd_rsappw, NULL, 0, &s->ready, L"--gui --hold \"%ls\" --log \"%ls\"", s->file, s->log);
}

/* The app came back as it ran, and no command of the attacker's ran. */
static void expect_genuine_restart(const struct scene *s)
{
    char before[2048], after[2048], cmd_before[1600], cmd_after[1600];
    if (sd_log_count(s->other_log, "START ") != 0) {
        print_error("the restart ran the command line the attacker wrote into the session\n");
        fail();
    }
    assert_int_equal(sd_log_count(s->log, "START "), 2);
    assert_true(sd_log_line(s->log, "START ", 0, before, sizeof before));
    assert_true(sd_log_line(s->log, "START ", 1, after, sizeof after));
    assert_true(sd_field(before, "cmd", cmd_before, sizeof cmd_before));
    assert_true(sd_field(after, "cmd", cmd_after, sizeof cmd_after));
    assert_string_equal(cmd_after, cmd_before);
}

static void rewritten_log_does_not_choose_what_rmrestart_runs(void **state)
{
    (void)state;
    struct scene s;
    set_scene(&s, L"owner");
    DWORD h = SD_SESSION(1, s.file);
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    SD_WAIT_EXIT(s.app, 5000);
    rewrite_session(GetCurrentProcessId(), s.log, s.other_log);
    ResetEvent(s.ready);
    EXPECT_RC(ERROR_SUCCESS, RmRestart(h, 0, NULL));
    IT_WAIT_EVENT(s.ready, NULL);
    sd_sweep(500); /* a copy the attacker chose would be starting by now */
    expect_genuine_restart(&s);
}

/* The app was started as "rsappw.exe ..." (a bare first word, as Explorer and many launchers
 * give it) from a copy in its own folder. A restart that let CreateProcess search for that
 * word would look beside the installer first, and this test program's folder has an
 * rsappw.exe of its own: the copy that comes back must be the one that ran. */
static void bare_command_restarts_the_image_that_ran(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], file[MAX_PATH], log[MAX_PATH], image[MAX_PATH], event[256], cmd[2048];
    it_make_dir(L"bare", dir);
    sd_path(file, dir, L"held.dat");
    sd_path(log, dir, L"app.log");
    sd_path(image, dir, L"rsappw.exe");
    sd_watch_log(log);
    assert_true(CopyFileW(sd_rsappw, image, FALSE));
    HANDLE ready = it_event(L"bare");
    it_event_name(L"bare", event);
    _snwprintf(cmd, 2048, L"rsappw.exe --gui --hold \"%ls\" --log \"%ls\" --ready %ls", file, log, event);
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    assert_true(CreateProcessW(image, cmd, NULL, NULL, FALSE, 0, NULL, dir, &si, &pi));
    CloseHandle(pi.hThread);
    it_adopt(pi.hProcess);
    IT_WAIT_EVENT(ready, pi.hProcess);

    DWORD h = SD_SESSION(1, file);
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    SD_WAIT_EXIT(pi.hProcess, 5000);
    ResetEvent(ready);
    EXPECT_RC(ERROR_SUCCESS, RmRestart(h, 0, NULL));
    IT_WAIT_EVENT(ready, NULL);

    char line[2048], pid[32];
    assert_true(sd_log_line(log, "START ", 1, line, sizeof line));
    assert_true(sd_field(line, "pid", pid, sizeof pid));
    HANDLE p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)strtoul(pid, NULL, 10));
    assert_non_null(p);
    WCHAR got[MAX_PATH];
    DWORD n = MAX_PATH;
    assert_true(QueryFullProcessImageNameW(p, 0, got, &n));
    CloseHandle(p);
    if (_wcsicmp(got, image) != 0) {
        print_error("RmRestart ran %ls; the app ran from %ls\n", got, image);
        fail();
    }
}

/* installer FILE: starts a session, shuts down the app holding FILE, says so, waits to be
 * killed (bounded, so that no run leaves it behind). */
static void installer(void **state)
{
    (void)state;
    WCHAR key[CCH_RM_SESSION_KEY + 1];
    LPCWSTR files[] = {it_arg(0)};
    DWORD h = IT_START(key);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    assert_true(SetEvent(it_event(L"shut")));
    Sleep(60000);
}

const struct it_role it_roles[] = {{L"installer", installer}, {NULL, NULL}};

static HANDLE running_installer;

static int teardown(void **state)
{
    sd_kill_installer(&running_installer);
    return sd_teardown(state);
}

/* The installer child shuts the scene's app down. */
static void installer_shuts_down(struct scene *s)
{
    HANDLE shut = it_event(L"shut");
    ResetEvent(shut);
    running_installer = IT_SPAWN(L"installer", NULL, L"\"%ls\"", s->file);
    IT_WAIT_EVENT(shut, running_installer);
    CloseHandle(shut);
    SD_WAIT_EXIT(s->app, 5000);
}

/* The installer is killed: its safeguard must bring the app back, as it ran. */
static void kill_installer_expect_genuine_restart(struct scene *s)
{
    ResetEvent(s->ready);
    HANDLE victim = running_installer;
    running_installer = NULL;
    IT_KILL(victim);
    if (WaitForSingleObject(s->ready, RESTART_BOUND_MS) != WAIT_OBJECT_0) {
        print_error("the app was not restarted within %u ms of the installer's death\n", RESTART_BOUND_MS);
        fail();
    }
    sd_sweep(500);
    expect_genuine_restart(s);
}

static void rewritten_log_does_not_choose_what_the_safeguard_runs(void **state)
{
    (void)state;
    struct scene s;
    set_scene(&s, L"guard");
    installer_shuts_down(&s);
    rewrite_session(GetProcessId(running_installer), s.log, s.other_log);
    kill_installer_expect_genuine_restart(&s);
}

/* The store says the installer's session is gone (its slot freed, as a process that found the
 * owner dead would) while the installer still runs; then the installer is killed. The watcher
 * must go by the installer's own word, not the store's, and restart the app. */
static void freed_slot_does_not_stop_the_safeguard(void **state)
{
    (void)state;
    struct scene s;
    set_scene(&s, L"freed");
    installer_shuts_down(&s);
    HANDLE ss;
    uint32_t slot;
    struct rm_store *st = slot_of(GetProcessId(running_installer), &ss, &slot);
    uint32_t next = st->slots[slot].generation + 1;
    memset(&st->slots[slot], 0, sizeof st->slots[slot]);
    st->slots[slot].generation = next;
    st->sequence++;
    UnmapViewOfFile(st);
    CloseHandle(ss);
    Sleep(2 * RM_GUARD_POLL_MS); /* two of the watcher's looks at the session */
    kill_installer_expect_genuine_restart(&s);
}

/* Two services of names of one length: the first holds the file and is stopped; the attacker
 * renames it, in the session, into the second. */
static void rewritten_service_name_does_not_choose_what_starts(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], file[MAX_PATH], log[MAX_PATH], held[64], other[64], cmd[2048], event[256];
    it_make_dir(L"service", dir);
    sd_path(file, dir, L"held.dat");
    sd_path(log, dir, L"services.log");
    _snwprintf(held, 64, L"rmhd%luA", GetCurrentProcessId());
    _snwprintf(other, 64, L"rmhd%luB", GetCurrentProcessId());
    HANDLE ready = it_event(L"held");
    it_event_name(L"held", event);
    _snwprintf(cmd, 2048, L"\"%ls\" --service %ls --hold \"%ls\" --log \"%ls\" --ready %ls", sd_rsapp, held, file, log,
               event);
    SC_HANDLE sheld = sd_service_create(held, cmd, NULL);
    _snwprintf(cmd, 2048, L"\"%ls\" --service %ls --log \"%ls\"", sd_rsapp, other, log);
    SC_HANDLE sother = sd_service_create(other, cmd, NULL);
    ResetEvent(ready);
    assert_true(StartServiceW(sheld, 0, NULL));
    IT_WAIT_EVENT(ready, NULL);
    assert_true(sd_service_wait(sheld, SERVICE_RUNNING, 10000));

    DWORD h = SD_SESSION(1, file);
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    assert_true(sd_service_wait(sheld, SERVICE_STOPPED, 5000));
    rewrite_session(GetCurrentProcessId(), held, other);
    ResetEvent(ready);
    EXPECT_RC(ERROR_SUCCESS, RmRestart(h, 0, NULL));
    IT_WAIT_EVENT(ready, NULL);
    assert_true(sd_service_wait(sheld, SERVICE_RUNNING, 10000));
    DWORD pid;
    if (sd_service_state(sother, &pid) != SERVICE_STOPPED) {
        print_error("RmRestart started %ls, which the attacker named in the session\n", other);
        fail();
    }
}

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(rewritten_log_does_not_choose_what_rmrestart_runs, teardown),
        cmocka_unit_test_teardown(rewritten_log_does_not_choose_what_the_safeguard_runs, teardown),
        cmocka_unit_test_teardown(freed_slot_does_not_stop_the_safeguard, teardown),
        cmocka_unit_test_teardown(rewritten_service_name_does_not_choose_what_starts, teardown),
        cmocka_unit_test_teardown(bare_command_restarts_the_image_that_ran, teardown),
    };
    return cmocka_run_group_tests_name("hardening.restart", tests, sd_group_setup, sd_group_teardown);
}
