/* The registered-resource index: duplicates collapse, growth, allocation failure. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "session/layout.h"
#include "session/regindex.h"

static int allocs_left = -1; /* -1: unlimited */

static void *test_alloc(size_t n)
{
    if (allocs_left == 0)
        return NULL;
    if (allocs_left > 0)
        allocs_left--;
    return malloc(n);
}

static void dedup_text_case_insensitive_per_kind(void **state)
{
    (void)state;
    struct rm_index ix;
    uint16_t a[32], b[32];
    rm_index_init(&ix, test_alloc, free);
    u16(a, "C:\\Dir\\File.dat");
    u16(b, "c:\\dir\\FILE.DAT");
    assert_int_equal(rm_index_add_text(&ix, RM_REC_FILE, a, 15), 1);
    assert_int_equal(rm_index_add_text(&ix, RM_REC_FILE, b, 15), 0);
    assert_int_equal(rm_index_add_text(&ix, RM_REC_SERVICE, b, 15), 1); /* another kind */
    assert_true(rm_index_has_text(&ix, RM_REC_FILE, b, 15));
    assert_false(rm_index_has_text(&ix, RM_REC_FILE, b, 14));
    assert_int_equal(ix.count, 2);
    assert_int_equal(ix.kind_count[RM_REC_FILE], 1);
    rm_index_clear(&ix);
    assert_int_equal(ix.count, 0);
    assert_false(rm_index_has_text(&ix, RM_REC_FILE, a, 15));
}

static void dedup_processes_by_pid_and_time(void **state)
{
    (void)state;
    struct rm_index ix;
    rm_index_init(&ix, test_alloc, free);
    assert_int_equal(rm_index_add_process(&ix, 10, 1, 2), 1);
    assert_int_equal(rm_index_add_process(&ix, 10, 1, 2), 0);
    assert_int_equal(rm_index_add_process(&ix, 10, 1, 3), 1); /* same PID, other start: another process */
    assert_true(rm_index_has_process(&ix, 10, 1, 3));
    assert_false(rm_index_has_process(&ix, 11, 1, 3));
    assert_int_equal(ix.kind_count[RM_REC_PROCESS], 2);
    rm_index_clear(&ix);
}

static void grows_to_100000_entries(void **state)
{
    (void)state;
    struct rm_index ix;
    uint16_t p[64];
    char name[64];
    rm_index_init(&ix, test_alloc, free);
    for (int i = 0; i < 100000; i++) {
        snprintf(name, sizeof name, "C:\\data\\f%06d.bin", i);
        u16(p, name);
        assert_int_equal(rm_index_add_text(&ix, RM_REC_FILE, p, (uint32_t)strlen(name)), 1);
    }
    for (int i = 0; i < 100000; i += 997) {
        snprintf(name, sizeof name, "c:\\DATA\\F%06d.BIN", i);
        u16(p, name);
        assert_int_equal(rm_index_add_text(&ix, RM_REC_FILE, p, (uint32_t)strlen(name)), 0);
    }
    assert_int_equal(ix.count, 100000);
    rm_index_clear(&ix);
}

static void allocation_failure_reports_and_keeps_index_usable(void **state)
{
    (void)state;
    struct rm_index ix;
    uint16_t p[32];
    rm_index_init(&ix, test_alloc, free);
    u16(p, "C:\\x");
    allocs_left = 0; /* the bucket array */
    assert_int_equal(rm_index_add_text(&ix, RM_REC_FILE, p, 4), -1);
    allocs_left = 1; /* buckets yes, the text copy no */
    assert_int_equal(rm_index_add_text(&ix, RM_REC_FILE, p, 4), -1);
    assert_false(rm_index_has_text(&ix, RM_REC_FILE, p, 4));
    allocs_left = -1;
    assert_int_equal(rm_index_add_text(&ix, RM_REC_FILE, p, 4), 1);
    assert_int_equal(ix.count, 1);
    rm_index_clear(&ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dedup_text_case_insensitive_per_kind),
        cmocka_unit_test(dedup_processes_by_pid_and_time),
        cmocka_unit_test(grows_to_100000_entries),
        cmocka_unit_test(allocation_failure_reports_and_keeps_index_usable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
