/* Shared-section layout: every field read from another process is validated. */
#include "unit.h"

#include <stdlib.h>

#include "session/layout.h"

static void store_init_then_check(void **state)
{
    (void)state;
    struct rm_store *s = calloc(1, sizeof *s);
    assert_int_equal(rm_store_check(s), RM_LAYOUT_EMPTY);
    rm_store_init(s);
    assert_int_equal(rm_store_check(s), RM_LAYOUT_OK);
    free(s);
}

static void store_corruption_is_detected(void **state)
{
    (void)state;
    struct rm_store *s = malloc(sizeof *s);
    uint32_t *fields[] = {&s->magic, &s->version, &s->size, &s->slot_count, &s->slot_size};
    for (size_t f = 0; f < sizeof fields / sizeof *fields; f++) {
        rm_store_init(s);
        *fields[f] ^= 0x10;
        assert_int_equal(rm_store_check(s), RM_LAYOUT_CORRUPT);
    }
    rm_store_init(s);
    s->slots[63].state = 7;
    assert_int_equal(rm_store_check(s), RM_LAYOUT_CORRUPT);
    rm_store_init(s);
    s->slots[5].state = RM_SLOT_LIVE; /* live with generation 0 */
    assert_int_equal(rm_store_check(s), RM_LAYOUT_CORRUPT);
    s->slots[5].generation = 3;
    assert_int_equal(rm_store_check(s), RM_LAYOUT_OK);
    /* header wiped while a session lives: damage, not a new store */
    memset(s, 0, offsetof(struct rm_store, slots));
    assert_int_equal(rm_store_check(s), RM_LAYOUT_CORRUPT);
    free(s);
}

#define VIEW (256u * 1024u)

static void data_header_checks(void **state)
{
    (void)state;
    struct rm_data_header h;
    rm_data_init(&h, 3, 9, VIEW, RM_DATA_COMMIT_STEP);
    assert_int_equal(rm_data_check(&h, 3, 9, VIEW), RM_LAYOUT_OK);
    assert_int_equal(rm_data_check(&h, 4, 9, VIEW), RM_LAYOUT_CORRUPT); /* another slot's */
    assert_int_equal(rm_data_check(&h, 3, 8, VIEW), RM_LAYOUT_CORRUPT); /* an older session's */
    assert_int_equal(rm_data_check(&h, 3, 9, VIEW / 2), RM_LAYOUT_CORRUPT);
    struct rm_data_header bad = h;
    bad.used = bad.committed + 8;
    assert_int_equal(rm_data_check(&bad, 3, 9, VIEW), RM_LAYOUT_CORRUPT);
    bad = h;
    bad.used = 12; /* inside the header */
    assert_int_equal(rm_data_check(&bad, 3, 9, VIEW), RM_LAYOUT_CORRUPT);
    bad = h;
    bad.used = 68; /* misaligned */
    assert_int_equal(rm_data_check(&bad, 3, 9, VIEW), RM_LAYOUT_CORRUPT);
    bad = h;
    bad.committed = VIEW + RM_DATA_COMMIT_STEP;
    assert_int_equal(rm_data_check(&bad, 3, 9, VIEW), RM_LAYOUT_CORRUPT);
    bad = h;
    bad.committed = 4096;
    assert_int_equal(rm_data_check(&bad, 3, 9, VIEW), RM_LAYOUT_CORRUPT);
}

static void records_round_trip(void **state)
{
    (void)state;
    uint8_t *view = calloc(1, 4096);
    uint16_t path[16];
    u16(path, "C:\\a\\b.dll");
    uint32_t at = 64;
    rm_record_write_text(view + at, RM_REC_FILE, path, 10);
    at += rm_record_size(RM_REC_FILE, 10);
    rm_record_write_process(view + at, 1234, 0x11111111, 0x22222222);
    at += rm_record_size(RM_REC_PROCESS, 0);
    u16(path, "Spooler");
    rm_record_write_text(view + at, RM_REC_SERVICE, path, 7);
    at += rm_record_size(RM_REC_SERVICE, 7);

    struct rm_record r;
    uint32_t off = 64;
    assert_int_equal(rm_record_next(view, at, &off, &r), 1);
    assert_int_equal(r.type, RM_REC_FILE);
    assert_int_equal(r.nchars, 10);
    assert_int_equal(r.text[0], 'C');
    assert_int_equal(rm_record_next(view, at, &off, &r), 1);
    assert_int_equal(r.type, RM_REC_PROCESS);
    assert_int_equal(r.pid, 1234);
    assert_int_equal(r.time_hi, 0x22222222);
    assert_int_equal(rm_record_next(view, at, &off, &r), 1);
    assert_int_equal(r.type, RM_REC_SERVICE);
    assert_int_equal(rm_record_next(view, at, &off, &r), 0);
    assert_int_equal(off, at);
    free(view);
}

static void malformed_records_are_rejected(void **state)
{
    (void)state;
    uint8_t *view = calloc(1, 4096);
    uint16_t path[16];
    u16(path, "C:\\x\\y.dll"); /* long enough not to be a process record's size by chance */
    uint32_t size = rm_record_size(RM_REC_FILE, 10);
    struct rm_record r;
    uint32_t off;
    struct rm_record_header *h = (struct rm_record_header *)(void *)(view + 64);
    uint32_t *nchars = (uint32_t *)(void *)(view + 64 + 8);

    rm_record_write_text(view + 64, RM_REC_FILE, path, 10);
    off = 64;
    assert_int_equal(rm_record_next(view, 64 + size - 8, &off, &r), RM_LAYOUT_CORRUPT); /* runs past used */
    h->size = 4; /* smaller than a header */
    off = 64;
    assert_int_equal(rm_record_next(view, 64 + size, &off, &r), RM_LAYOUT_CORRUPT);
    h->size = size + 4; /* misaligned */
    off = 64;
    assert_int_equal(rm_record_next(view, 64 + size + 8, &off, &r), RM_LAYOUT_CORRUPT);
    h->size = 8; /* only a header: its text length would lie outside the record */
    off = 64;
    assert_int_equal(rm_record_next(view, 64 + 8, &off, &r), RM_LAYOUT_CORRUPT);
    h->size = size;
    *nchars = 1000; /* text longer than the record */
    off = 64;
    assert_int_equal(rm_record_next(view, 64 + size, &off, &r), RM_LAYOUT_CORRUPT);
    *nchars = 0; /* empty text */
    off = 64;
    assert_int_equal(rm_record_next(view, 64 + size, &off, &r), RM_LAYOUT_CORRUPT);
    *nchars = 10;
    h->type = 9; /* unknown kind */
    off = 64;
    assert_int_equal(rm_record_next(view, 64 + size, &off, &r), RM_LAYOUT_CORRUPT);
    h->type = RM_REC_PROCESS; /* process record of the wrong size */
    off = 64;
    assert_int_equal(rm_record_next(view, 64 + size, &off, &r), RM_LAYOUT_CORRUPT);
    h->type = RM_REC_FILE;
    off = 60; /* misaligned offset */
    assert_int_equal(rm_record_next(view, 64 + size, &off, &r), RM_LAYOUT_CORRUPT);
    off = 64 + size + 8; /* past used */
    assert_int_equal(rm_record_next(view, 64 + size, &off, &r), RM_LAYOUT_CORRUPT);
    off = 64;
    assert_int_equal(rm_record_next(view, 64 + size, &off, &r), 1);
    free(view);
}

static void record_sizes(void **state)
{
    (void)state;
    assert_int_equal(rm_record_size(RM_REC_FILE, 0), 0);
    assert_int_equal(rm_record_size(RM_REC_FILE, RM_MAX_TEXT + 1), 0);
    assert_int_equal(rm_record_size(7, 3), 0);
    assert_int_equal(rm_record_size(RM_REC_FILE, 1) % 8, 0);
    assert_int_equal(rm_record_size(RM_REC_PROCESS, 0), 24);
    assert_true(rm_record_size(RM_REC_FILE, RM_MAX_TEXT) >= 8 + 4 + 2 * (RM_MAX_TEXT + 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_init_then_check),
        cmocka_unit_test(store_corruption_is_detected),
        cmocka_unit_test(data_header_checks),
        cmocka_unit_test(records_round_trip),
        cmocka_unit_test(malformed_records_are_rejected),
        cmocka_unit_test(record_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
