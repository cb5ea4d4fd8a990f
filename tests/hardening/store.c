/*
 * The store under attack by another process of the same user, which may open and write the
 * sections without the session key (docs/threat-model.md). Each test performs one attack on
 * the sections the real calls are using and expects an honest error, never a crash, a write
 * outside the log, or a call stalled for the others:
 *
 *   - the log's end (`used`) changed between a call's validation and its write;
 *   - more apps or filter targets injected than a session may hold (RM_MAX_APPS,
 *     RM_MAX_FILTERS), which on x86 used to size a heap block by a product that wraps, and
 *     made listing filters quadratic under the store lock.
 *
 * SPDX-License-Identifier: MIT
 */
#include "it.h"
#include "sections.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "session/filterbuf.h"
#include "session/layout.h"
#include "session/session.h"
#include "sys/sys.h"

const char it_program[] = "hstore";

const struct it_role it_roles[] = {{NULL, NULL}};

#define KEY_CHARS ((int)CCH_RM_SESSION_KEY)
#define VIEW (1u << 20)

/* ---- the log's end, changed after it was checked ---------------------------------------------- */

/* The attacker's moment: the allocation a call makes for the records it is about to append,
 * which comes after the call validated the log and before it writes. The hook rewrites `used`
 * there, once, as a racing process would. */
static struct {
    void *(*real)(SIZE_T);
    SIZE_T size;             /* the allocation to strike at */
    volatile uint32_t *used; /* the shared field */
    uint32_t value;
    int struck;
} race;

static void *racing_alloc(SIZE_T size)
{
    if (!race.struck && size == race.size) {
        race.struck = 1;
        *race.used = race.value;
    }
    return race.real(size);
}

static void used_changed_after_validation(void **state)
{
    (void)state;
    /* Far past the view (x64: 4 GiB on; x86: just before it), inside the header, and one
     * record back, over what another call wrote. */
    static const uint32_t values[] = {0xFFFFFFF8u, 8u, 0};
    for (size_t i = 0; i < ARRAYSIZE(values); i++) {
        WCHAR key[KEY_CHARS + 1], path[64];
        HANDLE section;
        LPCWSTR first[] = {L"C:\\rm-it\\race-first.txt"};
        DWORD h = IT_START(key);
        EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, first, 0, NULL, 0, NULL));
        struct rm_data_header *d = it_open_data(key, &section, VIEW);
        uint32_t used = d->used;
        static BYTE log[VIEW];
        memcpy(log, d, used);

        _snwprintf(path, 64, L"C:\\rm-it\\race-%u.txt", (unsigned)i);
        path[63] = 0;
        LPCWSTR files[] = {path};
        race.real = rm_sys.alloc;
        race.size = rm_record_size(RM_REC_FILE, (uint32_t)wcslen(path));
        race.used = &d->used;
        race.value = values[i] ? values[i] : used - race.size;
        race.struck = 0;
        rm_sys.alloc = racing_alloc;
        DWORD rc = IT_CALL(RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
        rm_sys.alloc = race.real;
        print_message("used set to 0x%08x mid-call: %lu\n", race.value, (unsigned long)rc);
        assert_true(race.struck);
        assert_int_equal(rc, ERROR_WRITE_FAULT);
        /* Nothing was written: the log is as it was, `used` as the attacker left it. */
        assert_int_equal(d->used, race.value);
        d->used = used;
        assert_memory_equal(d, log, used);
        /* Once the field is back, the session goes on. */
        EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
        EXPECT_COUNTS(h, 2, 0, 0);
        it_close_view(d, section);
    }
}

/* ---- more records than a session may hold -------------------------------------------------------- */

/* Appends n records of one kind after the log's end, the way a writer without the lock would. */
static void inject(struct rm_data_header *d, int filters, uint32_t n)
{
    BYTE *base = (BYTE *)d;
    uint32_t at = d->used;
    for (uint32_t i = 0; i < n; i++) {
        if (filters) {
            struct rm_filter_record f = {RmNoRestart, RmFilterTriggerProcess, 100000 + i, 1, 2, NULL, 0};
            rm_record_write_filter(base + at, &f);
            at += rm_record_size_filter(0);
        } else {
            rm_record_write_status(base + at, 100000 + i, 1, 2, RmStatusRunning);
            at += rm_record_size(RM_REC_STATUS, 0);
        }
        assert_true(at < VIEW);
    }
    d->committed = (at + RM_DATA_COMMIT_STEP - 1) / RM_DATA_COMMIT_STEP * RM_DATA_COMMIT_STEP;
    d->used = at;
}

/* At the limit, everything works, and the filters list in the order they were set. */
static void records_at_the_limits_accepted(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    HANDLE section;
    LPCWSTR files[] = {L"C:\\rm-it\\at-limit1.txt"}, more[] = {L"C:\\rm-it\\at-limit2.txt"};
    DWORD h = IT_START(key);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    struct rm_data_header *d = it_open_data(key, &section, VIEW);
    inject(d, 1, RM_MAX_FILTERS);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, more, 0, NULL, 0, NULL));
    EXPECT_COUNTS(h, 2, 0, 0);
    struct rm_filter_item *items;
    uint32_t n;
    assert_int_equal(rm_session_filters(h, &items, &n), ERROR_SUCCESS);
    assert_int_equal(n, RM_MAX_FILTERS);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(items[i].pid, 100000 + i);
    rm_session_filters_free(items, n);
    /* One more target is refused as out of room, not written. */
    RM_UNIQUE_PROCESS p = it_self_process();
    EXPECT_RC(ERROR_OUTOFMEMORY, RmAddFilter(h, NULL, &p, NULL, RmNoRestart));
    it_close_view(d, section);
}

static void records_over_the_limits_refused(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        WCHAR key[KEY_CHARS + 1];
        HANDLE section;
        uint32_t c[3];
        LPCWSTR files[] = {L"C:\\rm-it\\limit1.txt"}, more[] = {L"C:\\rm-it\\limit2.txt"};
        DWORD h = IT_START(key);
        EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
        struct rm_data_header *d = it_open_data(key, &section, VIEW);
        uint32_t n = (kind ? RM_MAX_FILTERS : RM_MAX_APPS) + 1;
        inject(d, kind, n);
        print_message("%s: %u records injected\n", kind ? "filters" : "apps", n);
        /* the owner, and a member reading the log for the first time */
        EXPECT_RC(ERROR_WRITE_FAULT, RmRegisterResources(h, 1, more, 0, NULL, 0, NULL));
        UINT needed = 0, count = 0;
        DWORD reasons, j;
        EXPECT_RC(ERROR_WRITE_FAULT, RmGetList(h, &needed, &count, NULL, &reasons));
        EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&j, key));
        it_track(j);
        assert_int_equal(rm_session_counts(j, c), ERROR_WRITE_FAULT);
        it_close_view(d, section);
    }
}

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        IT_TEST(used_changed_after_validation),
        IT_TEST(records_at_the_limits_accepted),
        IT_TEST(records_over_the_limits_refused),
    };
    return cmocka_run_group_tests_name("hardening.store", tests, NULL, NULL);
}
