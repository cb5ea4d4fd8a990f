/*
 * RmShutdown and RmRestart against services (SPEC §6, §7): stopped through the SCM with their
 * dependents stopped first, and both started again by RmRestart.
 *
 * Two services run rsapp (this folder): the first holds the registered file, the second
 * depends on the first. Both log into one file, each line naming the service, so the order in
 * which they heard SERVICE_CONTROL_STOP is on record.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sd.h"

#include <stdio.h>
#include <string.h>

const char it_program[] = "sdservice";
const struct it_role it_roles[] = {{NULL, NULL}};

struct pair {
    WCHAR base[64], dependent[64];
    SC_HANDLE sbase, sdep;
    HANDLE ready_base, ready_dep;
    WCHAR file[MAX_PATH], log[MAX_PATH];
};

static SC_HANDLE create(const WCHAR *name, const WCHAR *leaf, const WCHAR *hold, const WCHAR *log,
                        const WCHAR *depends, HANDLE *ready)
{
    WCHAR cmd[2048], event[256], holdarg[MAX_PATH + 16] = L"";
    *ready = it_event(leaf);
    it_event_name(leaf, event);
    if (hold)
        _snwprintf(holdarg, MAX_PATH + 16, L"--hold \"%ls\"", hold);
    _snwprintf(cmd, 2048, L"\"%ls\" --service %ls %ls --log \"%ls\" --ready %ls", sd_rsapp, name, holdarg, log, event);
    return sd_service_create(name, cmd, depends);
}

static void start(SC_HANDLE s, HANDLE ready)
{
    ResetEvent(ready);
    assert_true(StartServiceW(s, 0, NULL));
    IT_WAIT_EVENT(ready, NULL);
    assert_true(sd_service_wait(s, SERVICE_RUNNING, 10000));
}

static void pair_up(struct pair *p, const WCHAR *tag)
{
    WCHAR dir[MAX_PATH];
    it_make_dir(tag, dir);
    sd_path(p->file, dir, L"held.dat");
    sd_path(p->log, dir, L"services.log");
    _snwprintf(p->base, 64, L"rmsd%ls%lu", tag, GetCurrentProcessId());
    _snwprintf(p->dependent, 64, L"rmsd%ls%lud", tag, GetCurrentProcessId());
    p->sbase = create(p->base, L"base", p->file, p->log, NULL, &p->ready_base);
    p->sdep = create(p->dependent, L"dependent", NULL, p->log, p->base, &p->ready_dep);
    start(p->sbase, p->ready_base);
    start(p->sdep, p->ready_dep);
}

static void expect_stop_line(const struct pair *p, int index, const WCHAR *name)
{
    char line[256], got[80], want[80];
    assert_true(sd_log_line(p->log, "SERVICE_CONTROL_STOP", index, line, sizeof line));
    assert_true(sd_field(line, "name", got, sizeof got));
    snprintf(want, sizeof want, "%ls", name);
    if (strcmp(got, want) != 0) {
        print_error("stop #%d went to %s, expected %s\n", index + 1, got, want);
        fail();
    }
}

/* Shuts the pair down through `h` and starts it again, checking each step. */
static void stop_and_restart(struct pair *p, DWORD h, const RM_UNIQUE_PROCESS *base_process)
{
    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    assert_true(sd_service_wait(p->sbase, SERVICE_STOPPED, 5000));
    if (!sd_service_wait(p->sdep, SERVICE_STOPPED, 5000)) {
        print_error("RmShutdown stopped %ls but its dependent %ls still runs\n", p->base, p->dependent);
        fail();
    }
    /* The dependent first: the base cannot stop while something depends on it. */
    assert_int_equal(sd_log_count(p->log, "SERVICE_CONTROL_STOP"), 2);
    expect_stop_line(p, 0, p->dependent);
    expect_stop_line(p, 1, p->base);
    assert_true(SD_STATUS(h, base_process) & RmStatusStopped);

    ResetEvent(p->ready_base);
    ResetEvent(p->ready_dep);
    EXPECT_RC(ERROR_SUCCESS, RmRestart(h, 0, NULL));
    /* Both run again, the dependent too, though only the base held the file. */
    IT_WAIT_EVENT(p->ready_base, NULL);
    assert_true(sd_service_wait(p->sbase, SERVICE_RUNNING, 10000));
    if (!sd_service_wait(p->sdep, SERVICE_RUNNING, 10000)) {
        print_error("the dependent service %ls was stopped by RmShutdown and not started by RmRestart\n",
                    p->dependent);
        fail();
    }
    assert_int_equal(sd_log_count(p->log, "START "), 4);
    assert_true(SD_STATUS(h, base_process) & RmStatusRestarted);
}

static RM_UNIQUE_PROCESS service_process(SC_HANDLE s)
{
    DWORD pid = 0;
    assert_int_equal(sd_service_state(s, &pid), SERVICE_RUNNING);
    HANDLE p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    assert_non_null(p);
    RM_UNIQUE_PROCESS u = rm_test_unique(p);
    CloseHandle(p);
    return u;
}

static void service_holding_a_file_stops_with_its_dependent(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, L"file");
    RM_UNIQUE_PROCESS base = service_process(p.sbase);
    DWORD h = SD_SESSION(1, p.file);
    struct sd_list l;
    SD_LIST(h, &l);
    const RM_PROCESS_INFO *e = sd_find(&l, &base);
    assert_non_null(e);
    assert_int_equal(e->ApplicationType, RmService);
    assert_int_equal(wcscmp(e->strServiceShortName, p.base), 0);
    stop_and_restart(&p, h, &base);
}

static void service_registered_by_name_stops_with_its_dependent(void **state)
{
    (void)state;
    struct pair p;
    WCHAR key[CCH_RM_SESSION_KEY + 1];
    pair_up(&p, L"name");
    RM_UNIQUE_PROCESS base = service_process(p.sbase);
    DWORD h = IT_START(key);
    LPCWSTR names[] = {p.base};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 0, NULL, 0, NULL, 1, names));
    stop_and_restart(&p, h, &base);
}

/* A service of the other bitness (for the x86 DLL: a 64-bit service under WOW64), found by its
 * executable as an installer replacing it registers it: listed as that service, stopped
 * through the SCM and started again. */
static void other_bitness_service_found_by_its_exe_stops_and_restarts(void **state)
{
    (void)state;
    WCHAR src[MAX_PATH], dir[MAX_PATH], exe[MAX_PATH], log[MAX_PATH], name[64], cmd[2048], event[256];
    rm_test_other_helper(L"rsapp.exe", src);
    it_make_dir(L"other", dir);
    /* Its own copy: the registered exe is this service's alone. */
    sd_path(exe, dir, L"svc.exe");
    assert_true(CopyFileW(src, exe, FALSE));
    sd_path(log, dir, L"service.log");
    _snwprintf(name, 64, L"rmsdother%lu", GetCurrentProcessId());
    HANDLE ready = it_event(L"other");
    it_event_name(L"other", event);
    _snwprintf(cmd, 2048, L"\"%ls\" --service %ls --log \"%ls\" --ready %ls", exe, name, log, event);
    SC_HANDLE svc = sd_service_create(name, cmd, NULL);
    start(svc, ready);
    RM_UNIQUE_PROCESS u = service_process(svc);
    HANDLE p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, u.dwProcessId);
    BOOL wow64 = FALSE, self_wow64 = FALSE;
    assert_true(p && IsWow64Process(p, &wow64) && IsWow64Process(GetCurrentProcess(), &self_wow64));
    CloseHandle(p);
    assert_true(wow64 != self_wow64);

    DWORD h = SD_SESSION(1, exe);
    struct sd_list l;
    SD_LIST(h, &l);
    const RM_PROCESS_INFO *e = sd_find(&l, &u);
    assert_non_null(e);
    assert_int_equal(e->ApplicationType, RmService);
    assert_int_equal(wcscmp(e->strServiceShortName, name), 0);
    assert_true(e->bRestartable);

    EXPECT_RC(ERROR_SUCCESS, RmShutdown(h, 0, NULL));
    assert_true(sd_service_wait(svc, SERVICE_STOPPED, 5000));
    assert_int_equal(sd_log_count(log, "SERVICE_CONTROL_STOP"), 1);
    assert_true(SD_STATUS(h, &u) & RmStatusStopped);
    ResetEvent(ready);
    EXPECT_RC(ERROR_SUCCESS, RmRestart(h, 0, NULL));
    IT_WAIT_EVENT(ready, NULL);
    assert_true(sd_service_wait(svc, SERVICE_RUNNING, 10000));
    assert_int_equal(sd_log_count(log, "START "), 2);
    assert_true(SD_STATUS(h, &u) & RmStatusRestarted);
}

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(service_holding_a_file_stops_with_its_dependent),
        SD_TEST(service_registered_by_name_stops_with_its_dependent),
        SD_TEST(other_bitness_service_found_by_its_exe_stops_and_restarts),
    };
    return cmocka_run_group_tests_name("shutdown.service", tests, sd_group_setup, sd_group_teardown);
}
