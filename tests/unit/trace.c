/*
 * Tracing: off unless RSTRTMGR_TRACE is set; then every call, its result and the decisions
 * behind it (why a process matched) are written to the named file — and the session key,
 * being a credential, never is.
 */
#include <windows.h>

#include "unit.h"

#include <restartmanager.h>
#include <stdio.h>
#include <stdlib.h>

#include "session/session.h"
#include "session/store.h"
#include "sys/sys.h"

static WCHAR prefix[64], log_path[MAX_PATH], data[MAX_PATH];

static int setup(void **state)
{
    (void)state;
    WCHAR tmp[MAX_PATH];
    rm_sys_reset();
    rm_session_reset_process_state();
    _snwprintf(prefix, 64, L"rstrtmgr-unit-trace-%lu", GetCurrentProcessId());
    rm_store_prefix = prefix;
    GetTempPathW(MAX_PATH, tmp);
    _snwprintf(log_path, MAX_PATH, L"%lsrm-trace-%lu.log", tmp, GetCurrentProcessId());
    _snwprintf(data, MAX_PATH, L"%lsrm-trace-%lu.dat", tmp, GetCurrentProcessId());
    DeleteFileW(log_path);
    HANDLE h = CreateFileW(data, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    CloseHandle(h);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    SetEnvironmentVariableW(RM_TRACE_ENV, NULL);
    rm_trace_reset();
    rm_session_reset_process_state();
    DeleteFileW(log_path);
    DeleteFileW(data);
    return 0;
}

static char *read_log(void)
{
    static char buf[65536];
    HANDLE h = CreateFileW(log_path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    DWORD n = 0;
    buf[0] = 0;
    if (h == INVALID_HANDLE_VALUE)
        return NULL;
    ReadFile(h, buf, sizeof buf - 1, &n, NULL);
    buf[n] = 0;
    CloseHandle(h);
    return buf;
}

/* A session that lists ourselves: we hold the registered file. */
static void exercise(char key_out[40])
{
    DWORD h;
    WCHAR key[33];
    UINT needed = 0, n = 0;
    DWORD reasons;
    LPCWSTR files[] = {data};
    HANDLE held = CreateFileW(data, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    assert_int_equal(RmStartSession(&h, 0, key), ERROR_SUCCESS);
    snprintf(key_out, 40, "%ls", key);
    assert_int_equal(RmRegisterResources(h, 1, files, 0, NULL, 0, NULL), ERROR_SUCCESS);
    assert_int_equal(RmGetList(h, &needed, &n, NULL, &reasons), ERROR_MORE_DATA);
    assert_int_equal(RmEndSession(h), ERROR_SUCCESS);
    CloseHandle(held);
}

static void off_by_default(void **state)
{
    (void)state;
    char key[40];
    SetEnvironmentVariableW(RM_TRACE_ENV, NULL);
    rm_trace_reset();
    exercise(key);
    assert_false(rm_trace_on());
    assert_null(read_log()); /* nothing created */
}

static void traces_calls_results_and_decisions(void **state)
{
    (void)state;
    char key[40], want[128];
    SetEnvironmentVariableW(RM_TRACE_ENV, log_path);
    rm_trace_reset();
    exercise(key);
    char *log = read_log();
    assert_non_null(log);
    assert_non_null(strstr(log, "RmStartSession(flags=0)"));
    assert_non_null(strstr(log, "RmStartSession -> 0"));
    assert_non_null(strstr(log, "RmRegisterResources("));
    assert_non_null(strstr(log, "files=1"));
    assert_non_null(strstr(log, "RmGetList -> 234"));
    snprintf(want, sizeof want, "detect: pid %lu uses a registered file: open handle", GetCurrentProcessId());
    assert_non_null(strstr(log, want)); /* why it matched */
    assert_non_null(strstr(log, "RmEndSession -> 0"));
    assert_null(strstr(log, key)); /* the credential stays out of logs */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(off_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(traces_calls_results_and_decisions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
