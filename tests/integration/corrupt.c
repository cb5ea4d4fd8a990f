/*
 * The shared store is untrusted input (DESIGN §5). White-box: this test opens the store and
 * data sections by their documented names (src/session/store.c), breaks one field at a time,
 * and expects every call to answer ERROR_WRITE_FAULT without crashing and without acting on
 * (or rewriting) what it found; once the bytes are back, everything works again.
 *
 * SPDX-License-Identifier: MIT
 */
#include "it.h"
#include "sections.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "session/key.h"
#include "session/layout.h"
#include "session/session.h"
#include "session/store.h"
#include "sys/sys.h"

const char it_program[] = "corrupt";

#define KEY_CHARS ((int)CCH_RM_SESSION_KEY)
#define DATA_VIEW (64u << 10)

/* args: expected-code */
static void child_expect_start(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    DWORD h = 0xfeedfaceu, want = it_arg_u32(0);
    EXPECT_RC(want, RmStartSession(&h, 0, key));
    if (want == ERROR_SUCCESS)
        it_track(h);
    else
        assert_int_equal(h, 0xfeedfaceu);
}

const struct it_role it_roles[] = {
    {L"expect-start", child_expect_start},
    {NULL, NULL},
};

/* ---- the sections, by name (sections.h) ------------------------------------------------ */

static struct rm_data_header *open_data(const WCHAR *key, HANDLE *section)
{
    return it_open_data(key, section, DATA_VIEW);
}

static void a_file(WCHAR out[64], const char *what, int i)
{
    _snwprintf(out, 64, L"C:\\rm-it\\%hs-%d.txt", what, i);
    out[63] = 0;
}

/* Every entry point that reads the store refuses a corrupted one. */
static void expect_store_refused(DWORD h, const WCHAR *key, const WCHAR *file)
{
    WCHAR key2[64];
    DWORD h2 = 0xfeedfaceu, j = 0xfeedfaceu;
    UINT needed, n = 0;
    DWORD reasons;
    uint32_t c[3];
    LPCWSTR files[] = {file};
    for (int i = 0; i < 64; i++)
        key2[i] = 0xcccc;
    EXPECT_RC(ERROR_WRITE_FAULT, RmStartSession(&h2, 0, key2));
    assert_int_equal(h2, 0xfeedfaceu);
    assert_int_equal(key2[0], 0xcccc);
    EXPECT_RC(ERROR_WRITE_FAULT, RmJoinSession(&j, key));
    assert_int_equal(j, 0xfeedfaceu);
    EXPECT_RC(ERROR_WRITE_FAULT, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_RC(ERROR_WRITE_FAULT, RmGetList(h, &needed, &n, NULL, &reasons));
    EXPECT_RC(ERROR_WRITE_FAULT, RmCancelCurrentTask(h));
    EXPECT_RC(ERROR_WRITE_FAULT, RmEndSession(h));
    assert_int_equal(rm_session_counts(h, c), ERROR_WRITE_FAULT);
}

/* ---- the store ------------------------------------------------------------------------------- */

enum store_field {
    ST_MAGIC, ST_VERSION, ST_SIZE, ST_SLOT_COUNT_BIG, ST_SLOT_COUNT_ZERO, ST_SLOT_SIZE,
    ST_FREE_STATE, ST_LIVE_STATE, ST_LIVE_GEN_ZERO, ST_FREE_LIVE_GEN_ZERO, ST_CASES
};

static void break_store(struct rm_store *s, enum store_field f, uint32_t live, uint32_t free_slot)
{
    switch (f) {
    case ST_MAGIC: s->magic ^= 1; break;
    case ST_VERSION: s->version = RM_LAYOUT_VERSION + 1; break;
    case ST_SIZE: s->size += 8; break;
    case ST_SLOT_COUNT_BIG: s->slot_count = 100000; break;
    case ST_SLOT_COUNT_ZERO: s->slot_count = 0; break;
    case ST_SLOT_SIZE: s->slot_size = 32; break;
    case ST_FREE_STATE: s->slots[free_slot].state = 7; break;
    case ST_LIVE_STATE: s->slots[live].state = 7; break;
    case ST_LIVE_GEN_ZERO: s->slots[live].generation = 0; break;
    default: s->slots[free_slot].state = RM_SLOT_LIVE; s->slots[free_slot].generation = 0; break;
    }
}

static void store_corruption_refused(void **state)
{
    (void)state;
    static struct rm_store saved, broken;
    WCHAR key[KEY_CHARS + 1], file[64];
    HANDLE section;
    DWORD h = IT_START(key);
    struct rm_store *s = it_open_store(&section);
    uint32_t live = it_slot_of(s, key), free_slot = it_first_free_slot(s);

    for (int f = 0; f < ST_CASES; f++) {
        print_message("store field case %d\n", f);
        a_file(file, "store", f);
        memcpy(&saved, s, sizeof saved);
        break_store(s, (enum store_field)f, live, free_slot);
        memcpy(&broken, s, sizeof broken);
        expect_store_refused(h, key, file);
        /* Refused, not repaired: the bytes are as we left them. */
        assert_memory_equal(s, &broken, sizeof broken);
        if (f == ST_MAGIC) {
            /* A process opening the store for the first time refuses it too. */
            HANDLE c = IT_SPAWN(L"expect-start", NULL, L"%lu", (unsigned long)ERROR_WRITE_FAULT);
            EXPECT_CHILD_OK(c);
        }
        memcpy(s, &saved, sizeof saved);
        LPCWSTR files[] = {file};
        EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
        EXPECT_COUNTS(h, (uint32_t)f + 1, 0, 0);
    }
    it_close_view(s, section);
}

/* A store whose header reads as zero but whose slots hold live sessions was not created just
 * now: it has been overwritten, and starting afresh on it would silently end those sessions. */
static void zeroed_store_header_with_live_sessions(void **state)
{
    (void)state;
    static struct rm_store saved;
    WCHAR key[KEY_CHARS + 1], file[64];
    HANDLE section;
    DWORD h = IT_START(key);
    struct rm_store *s = it_open_store(&section);
    memcpy(&saved, s, sizeof saved);
    memset(s, 0, offsetof(struct rm_store, sequence));
    a_file(file, "zeroed", 0);
    /* The owner's next call must report the damage, not find its session gone (6). */
    LPCWSTR probe[] = {file};
    EXPECT_RC(ERROR_WRITE_FAULT, RmRegisterResources(h, 1, probe, 0, NULL, 0, NULL));
    expect_store_refused(h, key, file);
    memcpy(s, &saved, sizeof saved);
    LPCWSTR files[] = {file};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
    EXPECT_COUNTS(h, 1, 0, 0);
    it_close_view(s, section);
}

/* ---- a session's data section ------------------------------------------------------------------ */

enum data_field {
    DT_MAGIC, DT_VERSION, DT_SLOT, DT_GENERATION, DT_RESERVE, DT_COMMITTED_BIG, DT_COMMITTED_ODD,
    DT_USED_PAST_COMMITTED, DT_USED_INSIDE_HEADER, DT_USED_UNALIGNED, DT_USED_PAST_LOG, DT_CASES
};

static void break_data(struct rm_data_header *d, enum data_field f)
{
    switch (f) {
    case DT_MAGIC: d->magic ^= 0x100; break;
    case DT_VERSION: d->version = RM_LAYOUT_VERSION + 1; break;
    case DT_SLOT: d->slot ^= 1; break;
    case DT_GENERATION: d->generation += 2; break;
    case DT_RESERVE: d->reserve = 4096; break;
    case DT_COMMITTED_BIG: d->committed = RM_DATA_RESERVE + RM_DATA_COMMIT_STEP; break;
    case DT_COMMITTED_ODD: d->committed += 4096; break;
    case DT_USED_PAST_COMMITTED: d->used = d->committed + 8; break;
    case DT_USED_INSIDE_HEADER: d->used = 8; break;
    case DT_USED_UNALIGNED: d->used += 4; break;
    default: d->used += 64; break; /* zeros where a record should be */
    }
}

static void data_header_corruption_refused(void **state)
{
    (void)state;
    struct rm_data_header saved, broken;
    WCHAR key[KEY_CHARS + 1], file[64];
    HANDLE section;
    DWORD h = IT_START(key), j, reasons;
    UINT needed, n;
    uint32_t c[3];
    LPCWSTR first[] = {L"C:\\rm-it\\data-first.txt"};
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, first, 0, NULL, 0, NULL));
    struct rm_data_header *d = open_data(key, &section);

    for (int f = 0; f < DT_CASES; f++) {
        print_message("data header case %d\n", f);
        a_file(file, "data", f);
        LPCWSTR files[] = {file};
        saved = *d;
        break_data(d, (enum data_field)f);
        broken = *d;
        EXPECT_RC(ERROR_WRITE_FAULT, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
        assert_int_equal(rm_session_counts(h, c), ERROR_WRITE_FAULT);
        needed = n = 0;
        EXPECT_RC(ERROR_WRITE_FAULT, RmGetList(h, &needed, &n, NULL, &reasons));
        /* Joining maps the section and checks its header; only a log that goes wrong past a
         * sound header is left for the first read to find. */
        DWORD join_rc = f == DT_USED_PAST_LOG ? ERROR_SUCCESS : ERROR_WRITE_FAULT;
        j = 0xfeedfaceu;
        EXPECT_RC(join_rc, RmJoinSession(&j, key));
        if (join_rc == ERROR_SUCCESS) {
            EXPECT_RC(ERROR_WRITE_FAULT, RmRegisterResources(j, 1, files, 0, NULL, 0, NULL));
            EXPECT_RC(ERROR_SUCCESS, RmEndSession(j));
        } else
            assert_int_equal(j, 0xfeedfaceu);
        assert_memory_equal(d, &broken, sizeof broken);
        *d = saved;
        EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, files, 0, NULL, 0, NULL));
        EXPECT_COUNTS(h, (uint32_t)f + 2, 0, 0);
    }
    it_close_view(d, section);
}

/* ---- records ------------------------------------------------------------------------------------ */

enum record_field {
    RC_SIZE_HUGE, RC_SIZE_SMALL, RC_SIZE_ZERO, RC_SIZE_UNALIGNED, RC_SIZE_PLUS8, RC_TYPE_BAD, RC_TYPE_ZERO,
    RC_NCHARS_ZERO, RC_NCHARS_HUGE, RC_PAST_USED, RC_PROCESS_SIZE, RC_CASES
};

static void records_corruption_refused(void **state)
{
    (void)state;
    static BYTE saved[DATA_VIEW];
    WCHAR key[KEY_CHARS + 1];
    HANDLE section;
    RM_UNIQUE_PROCESS self = it_self_process();
    LPCWSTR files[] = {L"C:\\rm-it\\r1.txt", L"C:\\rm-it\\r2.txt", L"C:\\rm-it\\r3.txt"};
    LPCWSTR svcs[] = {L"Spooler"};
    uint32_t c[3];
    DWORD h = IT_START(key);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 3, files, 1, &self, 1, svcs));
    struct rm_data_header *d = open_data(key, &section);
    BYTE *base = (BYTE *)d;
    uint32_t first = (uint32_t)sizeof *d, process_at = 0;
    for (uint32_t off = first; off < d->used;) {
        struct rm_record_header r;
        memcpy(&r, base + off, sizeof r);
        if (r.type == RM_REC_PROCESS)
            process_at = off;
        assert_true(r.size >= sizeof r);
        off += r.size;
    }
    assert_int_not_equal(process_at, 0);
    memcpy(saved, base, d->used);

    for (int f = 0; f < RC_CASES; f++) {
        print_message("record case %d\n", f);
        struct rm_record_header *r = (struct rm_record_header *)(void *)(base + first);
        uint32_t *nchars = (uint32_t *)(void *)(base + first + sizeof *r);
        switch (f) {
        case RC_SIZE_HUGE: r->size = 0x7ffffff8u; break;
        case RC_SIZE_SMALL: r->size = 4; break;
        case RC_SIZE_ZERO: r->size = 0; break;
        case RC_SIZE_UNALIGNED: r->size += 4; break;
        case RC_SIZE_PLUS8: r->size += 8; break;
        case RC_TYPE_BAD: r->type = 9; break;
        case RC_TYPE_ZERO: r->type = 0; break;
        case RC_NCHARS_ZERO: *nchars = 0; break;
        case RC_NCHARS_HUGE: *nchars = 0x40000000u; break;
        case RC_PAST_USED: /* self-consistent, but reaching past the log into pages nobody committed */
            *nchars = RM_MAX_TEXT;
            r->size = rm_record_size(RM_REC_FILE, RM_MAX_TEXT);
            break;
        default: ((struct rm_record_header *)(void *)(base + process_at))->size += 8; break;
        }
        /* A member that has not read the log yet reads it now, and must stop at the damage. */
        DWORD j;
        EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&j, key));
        it_track(j);
        LPCWSTR more[] = {L"C:\\rm-it\\r4.txt"};
        EXPECT_RC(ERROR_WRITE_FAULT, RmRegisterResources(j, 1, more, 0, NULL, 0, NULL));
        assert_int_equal(rm_session_counts(j, c), ERROR_WRITE_FAULT);
        memcpy(base, saved, d->used);
        EXPECT_COUNTS(j, 3, 1, 1);
        EXPECT_RC(ERROR_SUCCESS, RmEndSession(j));
        it_forget(j);
    }
    it_close_view(d, section);
}

/* ---- objects made up by someone else ------------------------------------------------------------ */

/* A data section that exists before its session does was not made by us: refuse it, whether
 * it is too small to map or has exactly our size and layout. */
static void squatted_data_section_refused(void **state)
{
    (void)state;
    static const struct {
        DWORD protect, size;
    } squatters[] = {{PAGE_READWRITE, 4096}, {PAGE_READWRITE | SEC_RESERVE, RM_DATA_RESERVE}};
    WCHAR key[KEY_CHARS + 1], name[256], suffix[40];
    HANDLE ss;
    IT_START(key); /* the store exists from here on */

    for (size_t i = 0; i < ARRAYSIZE(squatters); i++) {
        struct rm_store *s = it_open_store(&ss);
        uint32_t slot = it_first_free_slot(s);
        _snwprintf(suffix, 40, L".s%u.g%u", slot, s->slots[slot].generation + 1);
        it_close_view(s, ss);
        it_object_name(name, it_prefix, suffix);
        HANDLE squat = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, squatters[i].protect, 0, squatters[i].size, name);
        assert_non_null(squat);

        DWORD h = 0xfeedfaceu;
        EXPECT_RC(ERROR_WRITE_FAULT, RmStartSession(&h, 0, key));
        assert_int_equal(h, 0xfeedfaceu);
        CloseHandle(squat);
        IT_START(key);
    }
}

/* A store section smaller than ours, made before any of us opened the store, cannot be mapped
 * at our size: refused, not read past its end. */
static void small_impostor_store_refused(void **state)
{
    (void)state;
    WCHAR impostor[128], name[256];
    _snwprintf(impostor, 128, L"%ls-impostor", it_prefix);
    impostor[127] = 0;
    it_object_name(name, impostor, L"");
    HANDLE fake = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, name);
    assert_non_null(fake);
    assert_int_not_equal(GetLastError(), ERROR_ALREADY_EXISTS);

    const WCHAR *mine = it_prefix;
    it_prefix = impostor; /* the child uses the impostor's store */
    HANDLE c = IT_SPAWN(L"expect-start", NULL, L"%lu", (unsigned long)ERROR_WRITE_FAULT);
    it_prefix = mine;
    EXPECT_CHILD_OK(c);
    CloseHandle(fake);

    it_prefix = impostor;
    c = IT_SPAWN(L"expect-start", NULL, L"%lu", (unsigned long)ERROR_SUCCESS);
    it_prefix = mine;
    EXPECT_CHILD_OK(c);
}

int it_parent(void)
{
    const struct CMUnitTest tests[] = {
        IT_TEST(store_corruption_refused),
        IT_TEST(zeroed_store_header_with_live_sessions),
        IT_TEST(data_header_corruption_refused),
        IT_TEST(records_corruption_refused),
        IT_TEST(squatted_data_section_refused),
        IT_TEST(small_impostor_store_refused),
    };
    return cmocka_run_group_tests_name("integration.corrupt", tests, NULL, NULL);
}
