/*
 * The RmGetFilterList buffer (session/filterbuf): both ABIs, chained records, strings placed
 * after the records and pointed at through the caller's address, exact sizes, no write past
 * the capacity. The records are read back byte by byte at the offsets the SDK layout fixes,
 * not through this build's RM_FILTER_INFO, so the x86 layout is checked on x64 and back.
 */
#include "unit.h"

#include "session/filterbuf.h"

#define TRIGGER_FILE 1u
#define TRIGGER_PROCESS 2u
#define TRIGGER_SERVICE 3u
#define NO_RESTART 1u
#define NO_SHUTDOWN 2u

static const struct rm_filter_abi abi_x86 = {24, 12, 4};
static const struct rm_filter_abi abi_x64 = {32, 16, 8};
static const struct rm_filter_abi *const abis[] = {&abi_x86, &abi_x64};

#define SENTINEL 0xa5
#define BUF 1024

static uint16_t file_text[64], svc_text[64];
static uint32_t file_n, svc_n;

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_pointer(const struct rm_filter_abi *abi, const uint8_t *p)
{
    uint64_t v = get32(p);
    if (abi->pointer_size == 8)
        v |= (uint64_t)get32(p + 4) << 32;
    return v;
}

static uint32_t u16len(const uint16_t *s)
{
    uint32_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* A file filter, a process filter and a service filter, in that order. */
static uint32_t three_items(struct rm_filter_item it[3])
{
    u16(file_text, "C:\\Program Files\\App\\app.exe");
    u16(svc_text, "Spooler");
    file_n = u16len(file_text);
    svc_n = u16len(svc_text);
    memset(it, 0, 3 * sizeof *it);
    it[0].action = NO_RESTART;
    it[0].trigger = TRIGGER_FILE;
    it[0].text = file_text;
    it[0].nchars = file_n;
    it[1].action = NO_SHUTDOWN;
    it[1].trigger = TRIGGER_PROCESS;
    it[1].pid = 0x1234;
    it[1].time_lo = 0x89abcdefu;
    it[1].time_hi = 0x01d9f00du;
    it[2].action = NO_SHUTDOWN;
    it[2].trigger = TRIGGER_SERVICE;
    it[2].text = svc_text;
    it[2].nchars = svc_n;
    return 3;
}

/* Walks the chain as a caller does and checks each record against the items. */
static void check_buffer(const struct rm_filter_abi *abi, const struct rm_filter_item *it, uint32_t n,
                         const uint8_t *buf, uint32_t size, uint64_t base)
{
    uint32_t at = 0, strings_from = abi->record_size * n;
    for (uint32_t i = 0; i < n; i++) {
        assert_true(at + abi->record_size <= size);
        const uint8_t *rec = buf + at;
        assert_int_equal(get32(rec), it[i].action);
        assert_int_equal(get32(rec + 4), it[i].trigger);
        uint32_t next = get32(rec + 8);
        const uint8_t *u = rec + abi->union_offset;
        if (it[i].trigger == TRIGGER_PROCESS) {
            assert_int_equal(get32(u), it[i].pid);
            assert_int_equal(get32(u + 4), it[i].time_lo);
            assert_int_equal(get32(u + 8), it[i].time_hi);
        } else {
            uint64_t p = get_pointer(abi, u);
            /* The pointer is into the caller's buffer, after the records, at an even offset. */
            assert_true(p >= base + strings_from);
            uint64_t off = p - base;
            assert_true(off + 2u * (it[i].nchars + 1u) <= size);
            assert_int_equal(off % 2, 0);
            assert_memory_equal(buf + off, it[i].text, 2u * it[i].nchars);
            assert_int_equal(buf[off + 2u * it[i].nchars], 0);
            assert_int_equal(buf[off + 2u * it[i].nchars + 1], 0);
        }
        if (i + 1 < n) {
            /* Relative to this record, and landing on the next one. */
            assert_int_not_equal(next, 0);
            at += next;
        } else
            assert_int_equal(next, 0);
    }
}

static void size_is_records_plus_terminated_strings(void **state)
{
    (void)state;
    struct rm_filter_item it[3];
    uint32_t n = three_items(it);
    for (int a = 0; a < 2; a++) {
        uint32_t want = abis[a]->record_size * 3 + 2u * (file_n + 1) + 2u * (svc_n + 1);
        assert_int_equal(rm_filterbuf_size(abis[a], it, n), want);
        /* A process record needs no text. */
        assert_int_equal(rm_filterbuf_size(abis[a], &it[1], 1), abis[a]->record_size);
        assert_int_equal(rm_filterbuf_size(abis[a], &it[0], 1), abis[a]->record_size + 2u * (file_n + 1));
    }
}

static void empty_list_needs_nothing(void **state)
{
    (void)state;
    uint8_t buf[64];
    memset(buf, SENTINEL, sizeof buf);
    for (int a = 0; a < 2; a++) {
        assert_int_equal(rm_filterbuf_size(abis[a], NULL, 0), 0);
        assert_int_equal(rm_filterbuf_write(abis[a], NULL, 0, buf, sizeof buf, 0x10000), 0);
    }
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], SENTINEL);
}

static void write_both_abis(void **state)
{
    (void)state;
    struct rm_filter_item it[3];
    uint32_t n = three_items(it);
    static uint8_t buf[BUF];
    for (int a = 0; a < 2; a++) {
        const struct rm_filter_abi *abi = abis[a];
        /* A base address far from the local buffer: only offsets from it may be used. */
        const uint64_t base = abi->pointer_size == 8 ? 0x00007ff612340000ull : 0x00340000ull;
        uint32_t need = rm_filterbuf_size(abi, it, n);
        memset(buf, SENTINEL, sizeof buf);
        assert_int_equal(rm_filterbuf_write(abi, it, n, buf, BUF, base), need);
        check_buffer(abi, it, n, buf, need, base);
        for (uint32_t i = need; i < BUF; i++)
            assert_int_equal(buf[i], SENTINEL);
        /* Records sit back to back: the chain is record_size apart. */
        assert_int_equal(get32(buf + 8), abi->record_size);
        assert_int_equal(get32(buf + abi->record_size + 8), abi->record_size);
        assert_int_equal(get32(buf + 2 * abi->record_size + 8), 0);
        /* On x86 the pointer is 4 bytes: what follows it in the record is not pointer. */
        if (abi->pointer_size == 4)
            assert_int_equal(get_pointer(abi, buf + abi->union_offset) >> 32, 0);
    }
}

static void exact_capacity_fits(void **state)
{
    (void)state;
    struct rm_filter_item it[3];
    uint32_t n = three_items(it);
    static uint8_t buf[BUF];
    for (int a = 0; a < 2; a++) {
        uint32_t need = rm_filterbuf_size(abis[a], it, n);
        memset(buf, SENTINEL, sizeof buf);
        assert_int_equal(rm_filterbuf_write(abis[a], it, n, buf, need, 0x10000), need);
        check_buffer(abis[a], it, n, buf, need, 0x10000);
        assert_int_equal(buf[need], SENTINEL);
    }
}

static void short_capacity_writes_nothing_past_it(void **state)
{
    (void)state;
    struct rm_filter_item it[3];
    uint32_t n = three_items(it);
    static uint8_t buf[BUF];
    for (int a = 0; a < 2; a++) {
        uint32_t need = rm_filterbuf_size(abis[a], it, n);
        uint32_t caps[] = {0, 1, abis[a]->record_size, abis[a]->record_size * 3, need - 2, need - 1};
        for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
            memset(buf, SENTINEL, sizeof buf);
            assert_int_equal(rm_filterbuf_write(abis[a], it, n, buf, caps[c], 0x10000), 0);
            /* Nothing at all is written when it does not fit; certainly nothing past cap. */
            for (uint32_t i = 0; i < BUF; i++)
                assert_int_equal(buf[i], SENTINEL);
        }
    }
}

static void single_records_end_the_chain(void **state)
{
    (void)state;
    struct rm_filter_item it[3];
    three_items(it);
    static uint8_t buf[BUF];
    for (int a = 0; a < 2; a++)
        for (int k = 0; k < 3; k++) {
            uint32_t need = rm_filterbuf_size(abis[a], &it[k], 1);
            memset(buf, SENTINEL, sizeof buf);
            assert_int_equal(rm_filterbuf_write(abis[a], &it[k], 1, buf, BUF, 0x20000), need);
            assert_int_equal(get32(buf + 8), 0);
            check_buffer(abis[a], &it[k], 1, buf, need, 0x20000);
            assert_int_equal(buf[need], SENTINEL);
        }
}

static void many_strings_each_in_place(void **state)
{
    (void)state;
    /* Strings of different lengths, including an empty one, in several records. */
    static uint16_t texts[6][40];
    static const char *const src[6] = {"C:\\a.exe", "", "svc", "C:\\long\\path\\to\\something\\b.exe", "x", "Svc2"};
    struct rm_filter_item it[6];
    static uint8_t buf[BUF];
    memset(it, 0, sizeof it);
    for (int i = 0; i < 6; i++) {
        u16(texts[i], src[i]);
        it[i].action = i % 2 ? NO_SHUTDOWN : NO_RESTART;
        it[i].trigger = i % 3 == 2 ? TRIGGER_SERVICE : TRIGGER_FILE;
        it[i].text = texts[i];
        it[i].nchars = u16len(texts[i]);
    }
    for (int a = 0; a < 2; a++) {
        uint32_t need = rm_filterbuf_size(abis[a], it, 6);
        uint32_t want = abis[a]->record_size * 6;
        for (int i = 0; i < 6; i++)
            want += 2u * (it[i].nchars + 1);
        assert_int_equal(need, want);
        memset(buf, SENTINEL, sizeof buf);
        assert_int_equal(rm_filterbuf_write(abis[a], it, 6, buf, BUF, 0x400000), need);
        check_buffer(abis[a], it, 6, buf, need, 0x400000);
        /* No two strings overlap: each pointer is past the previous string's NUL. */
        uint64_t last_end = 0x400000 + abis[a]->record_size * 6;
        for (int i = 0; i < 6; i++) {
            uint64_t p = get_pointer(abis[a], buf + abis[a]->record_size * i + abis[a]->union_offset);
            assert_true(p >= last_end);
            last_end = p + 2u * (it[i].nchars + 1);
        }
        assert_int_equal(buf[need], SENTINEL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(size_is_records_plus_terminated_strings),
        cmocka_unit_test(empty_list_needs_nothing),
        cmocka_unit_test(write_both_abis),
        cmocka_unit_test(exact_capacity_fits),
        cmocka_unit_test(short_capacity_writes_nothing_past_it),
        cmocka_unit_test(single_records_end_the_chain),
        cmocka_unit_test(many_strings_each_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
