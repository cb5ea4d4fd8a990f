/*
 * Argument matrix: every export against every kind of bad argument.
 *
 * Each case is one CMocka test with a fresh session (owner handle, plus an in-process joined
 * handle), and asserts four things:
 *   - the documented code (README "API coverage": 160 bad argument, 6 bad handle, 1219 not the
 *     owner or wrong key, 2 absent filter, 234 sizing);
 *   - nothing written outside what the caller gave, and nothing at all where the README says
 *     a failed call writes nothing (out-parameters and the memory around arrays are
 *     sentinel-filled; arrays that must not be read or written past end at a no-access page);
 *   - the caller's last-error value survives the call;
 *   - the session still works afterwards: a good registration lands, and the session holds
 *     exactly what the case added plus that one file.
 *
 * The bad-handle part is generated: every export that takes a handle × every kind of bad
 * handle (zero, all ones, arbitrary values, ended, left, damaged, another process's).
 *
 * SPDX-License-Identifier: MIT
 */
#include "it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "session/session.h"

const char it_program[] = "hargs";

#define KEY_CHARS ((int)CCH_RM_SESSION_KEY)
#define SENT16 0xBEEFu
#define SENT32 0xA5A5A5A5u
#define SENT8 0xABu
#define HUGE_COUNT ((UINT)(1u << 20) + 1u)
#define MAX_TEXT 32767

/* ---- per-case state ---------------------------------------------------------------------------- */

struct ctx {
    DWORD h;                   /* owner handle */
    WCHAR key[KEY_CHARS + 1];  /* its key */
    DWORD j;                   /* the same session joined from this process */
    DWORD ended;               /* a handle whose session was ended */
    DWORD left;                /* a joined handle that left */
    DWORD last;                /* GetLastError right after the call */
    uint32_t before[3];        /* counts before the call */
    int h_gone, j_gone;        /* the case ended them itself */
};
static struct ctx cx;
static DWORD foreign_handle; /* a live handle of the child process */
static HANDLE foreign_child;
static HANDLE foreign_done;
static unsigned case_serial;

/* The call under test: last error set before, read back immediately after. */
#define CALL(x) (SetLastError(IT_LAST_ERROR), cx_rc_ = (DWORD)(x), cx.last = GetLastError(), cx_rc_)
static DWORD cx_rc_;

struct arg_case {
    char name[80];
    DWORD expect;
    int adds_files, adds_svcs; /* what a successful case registers in the owner's session */
    DWORD (*run)(const struct arg_case *c);
    int export_ix, handle_kind; /* generated cases */
};

/* ---- helpers ----------------------------------------------------------------------------------- */

static void fill16(WCHAR *p, size_t n, WCHAR v)
{
    for (size_t i = 0; i < n; i++)
        p[i] = v;
}

static void expect16(const WCHAR *p, size_t from, size_t to, WCHAR v)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != v) {
            print_error("unit %u was written (0x%04x), expected untouched 0x%04x\n", (unsigned)i, p[i], v);
            fail();
        }
}

static void expect_bytes(const void *p, size_t n, BYTE v)
{
    const BYTE *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != v) {
            print_error("byte %u was written (0x%02x), expected untouched 0x%02x\n", (unsigned)i, b[i], v);
            fail();
        }
}

static void counts(DWORD h, uint32_t c[3])
{
    DWORD err = rm_session_counts(h, c);
    if (err) {
        print_error("rm_session_counts(0x%08lx) returned %lu\n", h, err);
        fail();
    }
}

/* A file name unique to this case and this run (the files never exist). */
static void case_file(WCHAR out[96], const char *what)
{
    _snwprintf(out, 96, L"C:\\rm-hardening\\%ls-%u-%hs.txt", it_prefix, case_serial, what);
    out[95] = 0;
}

/* A string of n characters (a path of short components), no NUL within them; `nul` adds one. */
static WCHAR *long_path(size_t n, int nul)
{
    WCHAR *p = IT_GUARDED((n + (nul ? 1 : 0)) * sizeof(WCHAR));
    static const WCHAR head[] = L"C:\\rm-hardening";
    memcpy(p, head, (sizeof head / sizeof head[0] - 1) * sizeof(WCHAR));
    for (size_t i = sizeof head / sizeof head[0] - 1; i < n; i++)
        p[i] = i % 100 == 0 ? L'\\' : (WCHAR)(L'a' + i % 26);
    if (nul)
        p[n] = 0;
    return p;
}

static WCHAR *service_name(size_t n)
{
    WCHAR *p = IT_GUARDED((n + 1) * sizeof(WCHAR));
    for (size_t i = 0; i < n; i++)
        p[i] = (WCHAR)(L'a' + i % 26);
    p[n] = 0;
    return p;
}

/* ---- RmStartSession ------------------------------------------------------------------------------- */

static DWORD start_bad(DWORD *ph, WCHAR *key, DWORD flags)
{
    WCHAR buf[64];
    fill16(buf, 64, SENT16);
    DWORD h = SENT32;
    DWORD rc = CALL(RmStartSession(ph ? &h : NULL, flags, key ? buf : NULL));
    assert_int_equal(h, SENT32);
    expect16(buf, 0, 64, SENT16);
    return rc;
}
static DWORD start_null_handle(const struct arg_case *c) { (void)c; return start_bad(NULL, (WCHAR *)1, 0); }
static DWORD start_null_key(const struct arg_case *c) { (void)c; return start_bad((DWORD *)1, NULL, 0); }
static DWORD start_null_both(const struct arg_case *c) { (void)c; return start_bad(NULL, NULL, 0); }
static DWORD start_flags_1(const struct arg_case *c) { (void)c; return start_bad((DWORD *)1, (WCHAR *)1, 1); }
static DWORD start_flags_2(const struct arg_case *c) { (void)c; return start_bad((DWORD *)1, (WCHAR *)1, 2); }
static DWORD start_flags_high(const struct arg_case *c) { (void)c; return start_bad((DWORD *)1, (WCHAR *)1, 0x80000000u); }
static DWORD start_flags_all(const struct arg_case *c) { (void)c; return start_bad((DWORD *)1, (WCHAR *)1, 0xffffffffu); }
static DWORD start_flags_null(const struct arg_case *c) { (void)c; return start_bad(NULL, NULL, 0xffffffffu); }

/* Success writes exactly 33 units (32 lowercase hex digits and a NUL) and the handle. */
static DWORD start_key_64(const struct arg_case *c)
{
    (void)c;
    WCHAR buf[64];
    fill16(buf, 64, SENT16);
    DWORD h = SENT32;
    DWORD rc = CALL(RmStartSession(&h, 0, buf));
    if (rc)
        return rc;
    assert_int_not_equal(h, SENT32);
    for (int i = 0; i < KEY_CHARS; i++)
        assert_true((buf[i] >= L'0' && buf[i] <= L'9') || (buf[i] >= L'a' && buf[i] <= L'f'));
    assert_int_equal(buf[KEY_CHARS], 0);
    expect16(buf, KEY_CHARS + 1, 64, SENT16);
    assert_int_equal(RmEndSession(h), ERROR_SUCCESS);
    return rc;
}

/* A key buffer of exactly 33 units that ends at a no-access page. */
static DWORD start_key_guarded(const struct arg_case *c)
{
    (void)c;
    WCHAR *buf = IT_GUARDED((KEY_CHARS + 1) * sizeof(WCHAR));
    DWORD h = SENT32;
    DWORD rc = CALL(RmStartSession(&h, 0, buf));
    if (!rc) {
        assert_int_equal(buf[KEY_CHARS], 0);
        assert_int_equal(RmEndSession(h), ERROR_SUCCESS);
    }
    it_guarded_free(buf);
    return rc;
}

/* ---- RmJoinSession --------------------------------------------------------------------------------- */

/* Joins with `key` (any buffer); a failure leaves the handle alone, a success is left again. */
static DWORD join_with(const WCHAR *key, int null_handle)
{
    DWORD h = SENT32;
    DWORD rc = CALL(RmJoinSession(null_handle ? NULL : &h, key));
    if (rc == ERROR_SUCCESS && !null_handle) {
        assert_int_not_equal(h, SENT32);
        assert_int_equal(RmEndSession(h), ERROR_SUCCESS);
    } else
        assert_int_equal(h, SENT32);
    return rc;
}

/* The session's key with unit `at` replaced by `v`, in a guarded buffer of `units`. */
static DWORD join_edited(size_t units, int at, WCHAR v, int at2, WCHAR v2)
{
    WCHAR *k = IT_GUARDED(units * sizeof(WCHAR));
    size_t n = units < (size_t)KEY_CHARS + 1 ? units : (size_t)KEY_CHARS + 1;
    memcpy(k, cx.key, n * sizeof(WCHAR));
    if (at >= 0)
        k[at] = v;
    if (at2 >= 0)
        k[at2] = v2;
    DWORD rc = join_with(k, 0);
    it_guarded_free(k);
    return rc;
}
static DWORD join_null_handle(const struct arg_case *c) { (void)c; return join_with(cx.key, 1); }
static DWORD join_null_key(const struct arg_case *c) { (void)c; return join_with(NULL, 0); }
static DWORD join_null_both(const struct arg_case *c) { (void)c; return join_with(NULL, 1); }
static DWORD join_empty(const struct arg_case *c) { (void)c; return join_with(L"", 0); }
/* 31 digits and a NUL. */
static DWORD join_31(const struct arg_case *c) { (void)c; return join_edited(KEY_CHARS, KEY_CHARS - 1, 0, -1, 0); }
/* 33 digits, no NUL at 32; the buffer ends right after the 33rd unit. */
static DWORD join_33(const struct arg_case *c) { (void)c; return join_edited(KEY_CHARS + 1, KEY_CHARS, L'a', -1, 0); }
static DWORD join_33_more(const struct arg_case *c) { (void)c; return join_edited(KEY_CHARS + 8, KEY_CHARS, L'0', KEY_CHARS + 1, 0); }
static DWORD join_trailing_x(const struct arg_case *c) { (void)c; return join_edited(KEY_CHARS + 1, KEY_CHARS, L'x', -1, 0); }
static DWORD join_g_first(const struct arg_case *c) { (void)c; return join_edited(KEY_CHARS + 1, 0, L'g', -1, 0); }
static DWORD join_g_last(const struct arg_case *c) { (void)c; return join_edited(KEY_CHARS + 1, KEY_CHARS - 1, L'G', -1, 0); }
static DWORD join_space(const struct arg_case *c) { (void)c; return join_edited(KEY_CHARS + 1, 7, L' ', -1, 0); }
static DWORD join_ctrl(const struct arg_case *c) { (void)c; return join_edited(KEY_CHARS + 1, 3, 0x01, -1, 0); }
static DWORD join_surrogate(const struct arg_case *c) { (void)c; return join_edited(KEY_CHARS + 1, 5, 0xD800, -1, 0); }
static DWORD join_low_surrogate(const struct arg_case *c) { (void)c; return join_edited(KEY_CHARS + 1, 30, 0xDC00, -1, 0); }
static DWORD join_fullwidth(const struct arg_case *c) { (void)c; return join_edited(KEY_CHARS + 1, 9, 0xFF10, -1, 0); }
static DWORD join_nul_mid(const struct arg_case *c) { (void)c; return join_edited(KEY_CHARS + 1, 16, 0, -1, 0); }
static DWORD join_minus(const struct arg_case *c) { (void)c; return join_edited(KEY_CHARS + 1, 8, L'-', -1, 0); }
/* Hex digits are case-insensitive: the uppercase spelling is the same key. */
static DWORD join_upper(const struct arg_case *c)
{
    (void)c;
    WCHAR *k = IT_GUARDED((KEY_CHARS + 1) * sizeof(WCHAR));
    for (int i = 0; i <= KEY_CHARS; i++)
        k[i] = (WCHAR)towupper(cx.key[i]);
    DWORD rc = join_with(k, 0);
    it_guarded_free(k);
    return rc;
}
static DWORD join_exact(const struct arg_case *c) { (void)c; return join_edited(KEY_CHARS + 1, -1, 0, -1, 0); }
/* Well-formed but not the key: one digit changed. */
static DWORD join_wrong(const struct arg_case *c)
{
    (void)c;
    return join_edited(KEY_CHARS + 1, 0, cx.key[0] == L'0' ? L'1' : L'0', -1, 0);
}
static DWORD join_zero_key(const struct arg_case *c)
{
    (void)c;
    WCHAR k[KEY_CHARS + 1];
    fill16(k, KEY_CHARS, L'0');
    k[KEY_CHARS] = 0;
    return join_with(k, 0);
}
/* The key of a session that was ended. */
static DWORD join_ended(const struct arg_case *c)
{
    (void)c;
    WCHAR k[KEY_CHARS + 1];
    DWORD h;
    assert_int_equal(RmStartSession(&h, 0, k), ERROR_SUCCESS);
    assert_int_equal(RmEndSession(h), ERROR_SUCCESS);
    return join_with(k, 0);
}

/* ---- RmRegisterResources ------------------------------------------------------------------------- */

static DWORD reg(UINT nf, LPCWSTR *f, UINT na, RM_UNIQUE_PROCESS *a, UINT ns, LPCWSTR *s)
{
    return CALL(RmRegisterResources(cx.h, nf, f, na, a, ns, s));
}
static DWORD reg_files_null(const struct arg_case *c) { (void)c; return reg(1, NULL, 0, NULL, 0, NULL); }
static DWORD reg_apps_null(const struct arg_case *c) { (void)c; return reg(0, NULL, 1, NULL, 0, NULL); }
static DWORD reg_svcs_null(const struct arg_case *c) { (void)c; return reg(0, NULL, 0, NULL, 1, NULL); }
static DWORD reg_all_null(const struct arg_case *c) { (void)c; return reg(2, NULL, 3, NULL, 4, NULL); }
static DWORD reg_huge(UINT nf, UINT na, UINT ns)
{
    WCHAR f[96];
    case_file(f, "huge");
    LPCWSTR files[] = {f};
    LPCWSTR svcs[] = {L"Spooler"};
    RM_UNIQUE_PROCESS p = it_self_process();
    return reg(nf, files, na, &p, ns, svcs);
}
static DWORD reg_huge_files(const struct arg_case *c) { (void)c; return reg_huge(HUGE_COUNT, 0, 0); }
static DWORD reg_huge_apps(const struct arg_case *c) { (void)c; return reg_huge(0, HUGE_COUNT, 0); }
static DWORD reg_huge_svcs(const struct arg_case *c) { (void)c; return reg_huge(0, 0, HUGE_COUNT); }
static DWORD reg_max_files(const struct arg_case *c) { (void)c; return reg_huge(0xffffffffu, 0, 0); }
static DWORD reg_max_apps(const struct arg_case *c) { (void)c; return reg_huge(1, 0xffffffffu, 1); }
static DWORD reg_max_svcs(const struct arg_case *c) { (void)c; return reg_huge(1, 1, 0xffffffffu); }
static DWORD reg_huge_good_rest(const struct arg_case *c) { (void)c; return reg_huge(1, 1, HUGE_COUNT); }
static DWORD reg_null_element(const struct arg_case *c)
{
    (void)c;
    LPCWSTR files[] = {NULL};
    return reg(1, files, 0, NULL, 0, NULL);
}
/* All or nothing: a bad name after good ones registers none of them. */
static DWORD reg_good_then_null(const struct arg_case *c)
{
    (void)c;
    WCHAR a[96], b[96];
    case_file(a, "a");
    case_file(b, "b");
    LPCWSTR files[] = {a, b, NULL};
    return reg(3, files, 0, NULL, 0, NULL);
}
static DWORD reg_good_then_bad_svc(const struct arg_case *c)
{
    (void)c;
    WCHAR a[96];
    case_file(a, "a");
    LPCWSTR files[] = {a};
    LPCWSTR svcs[] = {L"Spooler", L"bad/name"};
    RM_UNIQUE_PROCESS p = it_self_process();
    return reg(1, files, 1, &p, 2, svcs);
}
static DWORD reg_one(LPCWSTR name) { LPCWSTR f[] = {name}; return reg(1, f, 0, NULL, 0, NULL); }
static DWORD reg_svc(LPCWSTR name) { LPCWSTR s[] = {name}; return reg(0, NULL, 0, NULL, 1, s); }
static DWORD reg_empty(const struct arg_case *c) { (void)c; return reg_one(L""); }
static DWORD reg_svc_empty(const struct arg_case *c) { (void)c; return reg_svc(L""); }
static DWORD reg_svc_null(const struct arg_case *c) { (void)c; return reg_svc(NULL); }
static DWORD reg_svc_slash(const struct arg_case *c) { (void)c; return reg_svc(L"Spool/er"); }
static DWORD reg_svc_backslash(const struct arg_case *c) { (void)c; return reg_svc(L"Spool\\er"); }
static DWORD reg_svc_long(const struct arg_case *c)
{
    (void)c;
    WCHAR *s = service_name(257);
    DWORD rc = reg_svc(s);
    it_guarded_free(s);
    return rc;
}
static DWORD reg_svc_256(const struct arg_case *c)
{
    (void)c;
    WCHAR *s = service_name(256);
    DWORD rc = reg_svc(s);
    it_guarded_free(s);
    return rc;
}
/* 256 units and no NUL before a no-access page: must be refused without reading past it. */
static DWORD reg_svc_unterminated(const struct arg_case *c)
{
    (void)c;
    WCHAR *s = IT_GUARDED(257 * sizeof(WCHAR));
    for (int i = 0; i < 257; i++)
        s[i] = L'x';
    DWORD rc = reg_svc(s);
    it_guarded_free(s);
    return rc;
}
static DWORD reg_32767(const struct arg_case *c)
{
    (void)c;
    WCHAR *p = long_path(MAX_TEXT, 1);
    DWORD rc = reg_one(p);
    it_guarded_free(p);
    return rc;
}
static DWORD reg_32768_nul(const struct arg_case *c)
{
    (void)c;
    WCHAR *p = long_path(MAX_TEXT + 1, 1);
    DWORD rc = reg_one(p);
    it_guarded_free(p);
    return rc;
}
/* 32,768 units and no NUL, ending at a no-access page. */
static DWORD reg_32768_unterminated(const struct arg_case *c)
{
    (void)c;
    WCHAR *p = long_path(MAX_TEXT + 1, 0);
    DWORD rc = reg_one(p);
    it_guarded_free(p);
    return rc;
}
static DWORD reg_odd(const char *tag, WCHAR odd)
{
    WCHAR f[96];
    case_file(f, tag);
    f[20] = odd;
    return reg_one(f);
}
static DWORD reg_ctrl(const struct arg_case *c) { (void)c; return reg_odd("ctrl", 0x01); }
static DWORD reg_ctrl_1f(const struct arg_case *c) { (void)c; return reg_odd("ctrl1f", 0x1f); }
static DWORD reg_lone_high(const struct arg_case *c) { (void)c; return reg_odd("hi", 0xD800); }
static DWORD reg_lone_low(const struct arg_case *c) { (void)c; return reg_odd("lo", 0xDFFF); }
static DWORD reg_nonchar(const struct arg_case *c) { (void)c; return reg_odd("ffff", 0xFFFF); }
/* Zero counts: the arrays are not read (they point at a no-access page). */
static DWORD reg_zero_with_arrays(const struct arg_case *c)
{
    (void)c;
    void *nothing = IT_GUARDED(0);
    DWORD rc = reg(0, nothing, 0, nothing, 0, nothing);
    it_guarded_free(nothing);
    return rc;
}
static DWORD reg_zero_null(const struct arg_case *c) { (void)c; return reg(0, NULL, 0, NULL, 0, NULL); }
/* Arrays exactly as long as their counts, each ending at a no-access page. */
static DWORD reg_exact_arrays(const struct arg_case *c)
{
    (void)c;
    WCHAR a[96], b[96];
    case_file(a, "a");
    case_file(b, "b");
    LPCWSTR *files = IT_GUARDED(2 * sizeof *files);
    LPCWSTR *svcs = IT_GUARDED(sizeof *svcs);
    RM_UNIQUE_PROCESS *p = IT_GUARDED(sizeof *p);
    files[0] = a;
    files[1] = b;
    svcs[0] = L"Spooler";
    *p = it_self_process();
    DWORD rc = reg(2, files, 1, p, 1, svcs);
    it_guarded_free(files);
    it_guarded_free(svcs);
    it_guarded_free(p);
    return rc;
}
/* The same name twice in one call, and a different spelling of it: one registration. */
static DWORD reg_duplicates(const struct arg_case *c)
{
    (void)c;
    WCHAR a[96], b[96];
    case_file(a, "dup");
    wcscpy(b, a);
    for (WCHAR *q = b; *q; q++)
        *q = (WCHAR)towupper(*q);
    LPCWSTR files[] = {a, a, b};
    return reg(3, files, 0, NULL, 0, NULL);
}

/* ---- RmGetList -------------------------------------------------------------------------------------- */

/* Failed argument checks write nothing at all. */
static DWORD list_bad(int null_needed, int null_n, int null_reasons, UINT cap, int null_arr)
{
    UINT needed = SENT32, n = cap;
    DWORD reasons = SENT32;
    RM_PROCESS_INFO arr[2];
    memset(arr, SENT8, sizeof arr);
    DWORD rc = CALL(RmGetList(cx.h, null_needed ? NULL : &needed, null_n ? NULL : &n, null_arr ? NULL : arr,
                              null_reasons ? NULL : &reasons));
    assert_int_equal(needed, SENT32);
    assert_int_equal(n, cap);
    assert_int_equal(reasons, SENT32);
    expect_bytes(arr, sizeof arr, SENT8);
    return rc;
}
static DWORD list_null_needed(const struct arg_case *c) { (void)c; return list_bad(1, 0, 0, 0, 0); }
static DWORD list_null_n(const struct arg_case *c) { (void)c; return list_bad(0, 1, 0, 0, 0); }
static DWORD list_null_reasons(const struct arg_case *c) { (void)c; return list_bad(0, 0, 1, 0, 0); }
static DWORD list_null_all(const struct arg_case *c) { (void)c; return list_bad(1, 1, 1, 0, 1); }
static DWORD list_count_null_arr(const struct arg_case *c) { (void)c; return list_bad(0, 0, 0, 1, 1); }
static DWORD list_big_count_null_arr(const struct arg_case *c) { (void)c; return list_bad(0, 0, 0, 0xffffffffu, 1); }

/* Nothing in use (the registered file does not exist): an array with count 0 is not touched. */
static DWORD list_zero_with_array(const struct arg_case *c)
{
    (void)c;
    UINT needed = SENT32, n = 0;
    DWORD reasons = SENT32;
    RM_PROCESS_INFO arr[2];
    memset(arr, SENT8, sizeof arr);
    DWORD rc = CALL(RmGetList(cx.h, &needed, &n, arr, &reasons));
    if (rc)
        return rc;
    assert_int_equal(needed, 0);
    assert_int_equal(n, 0);
    assert_int_equal(reasons, RmRebootReasonNone);
    expect_bytes(arr, sizeof arr, SENT8);
    return rc;
}

/* This program's own executable is in use by this process: one entry at least. */
static void register_self(void)
{
    WCHAR self[MAX_PATH];
    GetModuleFileNameW(NULL, self, MAX_PATH);
    LPCWSTR f[] = {self};
    assert_int_equal(RmRegisterResources(cx.h, 1, f, 0, NULL, 0, NULL), ERROR_SUCCESS);
}
static UINT list_needed(void)
{
    UINT needed = 0, n = 0;
    DWORD reasons;
    assert_int_equal(RmGetList(cx.h, &needed, &n, NULL, &reasons), ERROR_MORE_DATA);
    assert_true(needed >= 1);
    return needed;
}
/* Sizing: a NULL array or one too short gets 234, the needed count, *pnProcInfo 0, no writes. */
static DWORD list_short(UINT cap, int null_arr)
{
    register_self();
    UINT needed = SENT32, n = cap;
    DWORD reasons = SENT32;
    RM_PROCESS_INFO arr[4];
    memset(arr, SENT8, sizeof arr);
    DWORD rc = CALL(RmGetList(cx.h, &needed, &n, null_arr ? NULL : arr, &reasons));
    if (rc != ERROR_MORE_DATA)
        return rc;
    assert_true(needed >= 1 && needed != SENT32);
    assert_true(needed > cap);
    assert_int_equal(n, 0);
    assert_int_not_equal(reasons, SENT32);
    expect_bytes(arr, sizeof arr, SENT8);
    return rc;
}
static DWORD list_short_null(const struct arg_case *c) { (void)c; return list_short(0, 1); }
static DWORD list_short_zero(const struct arg_case *c) { (void)c; return list_short(0, 0); }
static DWORD list_short_one_less(const struct arg_case *c)
{
    (void)c;
    register_self();
    UINT need = list_needed();
    UINT needed = SENT32, n = need - 1;
    DWORD reasons = SENT32;
    RM_PROCESS_INFO *arr = need > 1 ? IT_GUARDED((need - 1) * sizeof *arr) : IT_GUARDED(0);
    if (need > 1)
        memset(arr, SENT8, (need - 1) * sizeof *arr);
    DWORD rc = CALL(RmGetList(cx.h, &needed, &n, arr, &reasons));
    if (rc == ERROR_MORE_DATA) {
        assert_int_equal(needed, need);
        assert_int_equal(n, 0);
        if (need > 1)
            expect_bytes(arr, (need - 1) * sizeof *arr, SENT8);
    }
    it_guarded_free(arr);
    return rc;
}
/* Exactly the needed size, ending at a no-access page. */
static DWORD list_exact_guarded(const struct arg_case *c)
{
    (void)c;
    register_self();
    UINT need = list_needed();
    UINT needed = SENT32, n = need;
    DWORD reasons = SENT32;
    RM_PROCESS_INFO *arr = IT_GUARDED(need * sizeof *arr);
    DWORD rc = CALL(RmGetList(cx.h, &needed, &n, arr, &reasons));
    if (!rc) {
        assert_int_equal(needed, need);
        assert_int_equal(n, need);
        assert_int_not_equal(reasons, SENT32);
        /* Entries come in PID order, and a child of ours may run the same executable. */
        int self = 0;
        for (UINT i = 0; i < n; i++)
            self |= arr[i].Process.dwProcessId == GetCurrentProcessId();
        assert_true(self);
    }
    it_guarded_free(arr);
    return rc;
}
/* Room to spare: entries past *pnProcInfo stay as they were. */
static DWORD list_roomy(const struct arg_case *c)
{
    (void)c;
    register_self();
    UINT need = list_needed();
    enum { CAP = 8 };
    assert_true(need < CAP);
    UINT needed = SENT32, n = CAP;
    DWORD reasons = SENT32;
    RM_PROCESS_INFO arr[CAP + 1];
    memset(arr, SENT8, sizeof arr);
    DWORD rc = CALL(RmGetList(cx.h, &needed, &n, arr, &reasons));
    if (!rc) {
        assert_int_equal(needed, need);
        assert_int_equal(n, need);
        expect_bytes(&arr[need], (CAP + 1 - need) * sizeof arr[0], SENT8);
    }
    return rc;
}

/* ---- RmShutdown / RmRestart flags -------------------------------------------------------------------- */

static DWORD shutdown_flags(ULONG f) { return CALL(RmShutdown(cx.h, f, NULL)); }
static DWORD sd_2(const struct arg_case *c) { (void)c; return shutdown_flags(0x2); }
static DWORD sd_4(const struct arg_case *c) { (void)c; return shutdown_flags(0x4); }
static DWORD sd_8(const struct arg_case *c) { (void)c; return shutdown_flags(0x8); }
static DWORD sd_20(const struct arg_case *c) { (void)c; return shutdown_flags(0x20); }
static DWORD sd_100(const struct arg_case *c) { (void)c; return shutdown_flags(0x100); }
static DWORD sd_force_bad(const struct arg_case *c) { (void)c; return shutdown_flags(RmForceShutdown | 0x40); }
static DWORD sd_only_bad(const struct arg_case *c) { (void)c; return shutdown_flags(RmShutdownOnlyRegistered | 0x2); }
static DWORD sd_high(const struct arg_case *c) { (void)c; return shutdown_flags(0x80000000u); }
static DWORD sd_all(const struct arg_case *c) { (void)c; return shutdown_flags(0xffffffffu); }
static DWORD restart_flags(DWORD f) { return CALL(RmRestart(cx.h, f, NULL)); }
static DWORD rs_1(const struct arg_case *c) { (void)c; return restart_flags(1); }
static DWORD rs_2(const struct arg_case *c) { (void)c; return restart_flags(2); }
static DWORD rs_high(const struct arg_case *c) { (void)c; return restart_flags(0x80000000u); }
static DWORD rs_all(const struct arg_case *c) { (void)c; return restart_flags(0xffffffffu); }
/* Good flags, but nothing was shut down yet. */
static DWORD rs_sequence(const struct arg_case *c) { (void)c; return restart_flags(0); }

/* ---- filters ------------------------------------------------------------------------------------------- */

static const WCHAR filter_exe[] = L"C:\\rm-hardening\\filtered.exe";

static DWORD add_action(RM_FILTER_ACTION a) { return CALL(RmAddFilter(cx.h, filter_exe, NULL, NULL, a)); }
static DWORD af_0(const struct arg_case *c) { (void)c; return add_action((RM_FILTER_ACTION)0); }
static DWORD af_3(const struct arg_case *c) { (void)c; return add_action((RM_FILTER_ACTION)3); }
static DWORD af_m1(const struct arg_case *c) { (void)c; return add_action((RM_FILTER_ACTION)-1); }
static DWORD af_max(const struct arg_case *c) { (void)c; return add_action((RM_FILTER_ACTION)0x7fffffff); }
static DWORD add_targets(LPCWSTR m, RM_UNIQUE_PROCESS *p, LPCWSTR s)
{
    return CALL(RmAddFilter(cx.h, m, p, s, RmNoRestart));
}
static RM_UNIQUE_PROCESS some_process = {4242, {1, 2}};
static DWORD af_none(const struct arg_case *c) { (void)c; return add_targets(NULL, NULL, NULL); }
static DWORD af_mod_svc(const struct arg_case *c) { (void)c; return add_targets(filter_exe, NULL, L"Spooler"); }
static DWORD af_mod_proc(const struct arg_case *c) { (void)c; return add_targets(filter_exe, &some_process, NULL); }
static DWORD af_proc_svc(const struct arg_case *c) { (void)c; return add_targets(NULL, &some_process, L"Spooler"); }
static DWORD af_all(const struct arg_case *c) { (void)c; return add_targets(filter_exe, &some_process, L"Spooler"); }
static DWORD af_mod_empty(const struct arg_case *c) { (void)c; return add_targets(L"", NULL, NULL); }
static DWORD af_svc_empty(const struct arg_case *c) { (void)c; return add_targets(NULL, NULL, L""); }
static DWORD af_svc_slash(const struct arg_case *c) { (void)c; return add_targets(NULL, NULL, L"a/b"); }
static DWORD af_svc_long(const struct arg_case *c)
{
    (void)c;
    WCHAR *s = service_name(257);
    DWORD rc = add_targets(NULL, NULL, s);
    it_guarded_free(s);
    return rc;
}
static DWORD af_mod_unterminated(const struct arg_case *c)
{
    (void)c;
    WCHAR *p = long_path(MAX_TEXT + 1, 0);
    DWORD rc = add_targets(p, NULL, NULL);
    it_guarded_free(p);
    return rc;
}
static DWORD af_ok_mod(const struct arg_case *c) { (void)c; return add_targets(filter_exe, NULL, NULL); }
static DWORD af_ok_proc(const struct arg_case *c) { (void)c; return CALL(RmAddFilter(cx.h, NULL, &some_process, NULL, RmNoShutdown)); }
static DWORD af_ok_svc(const struct arg_case *c) { (void)c; return add_targets(NULL, NULL, L"Spooler"); }

static DWORD remove_targets(LPCWSTR m, RM_UNIQUE_PROCESS *p, LPCWSTR s) { return CALL(RmRemoveFilter(cx.h, m, p, s)); }
static DWORD rf_none(const struct arg_case *c) { (void)c; return remove_targets(NULL, NULL, NULL); }
static DWORD rf_mod_svc(const struct arg_case *c) { (void)c; return remove_targets(filter_exe, NULL, L"Spooler"); }
static DWORD rf_mod_proc(const struct arg_case *c) { (void)c; return remove_targets(filter_exe, &some_process, NULL); }
static DWORD rf_all(const struct arg_case *c) { (void)c; return remove_targets(filter_exe, &some_process, L"Spooler"); }
static DWORD rf_mod_empty(const struct arg_case *c) { (void)c; return remove_targets(L"", NULL, NULL); }
static DWORD rf_svc_slash(const struct arg_case *c) { (void)c; return remove_targets(NULL, NULL, L"a\\b"); }
static DWORD rf_absent_mod(const struct arg_case *c) { (void)c; return remove_targets(filter_exe, NULL, NULL); }
static DWORD rf_absent_proc(const struct arg_case *c) { (void)c; return remove_targets(NULL, &some_process, NULL); }
static DWORD rf_absent_svc(const struct arg_case *c) { (void)c; return remove_targets(NULL, NULL, L"Spooler"); }
/* A filter on one target does not make another target's removal succeed. */
static DWORD rf_other_target(const struct arg_case *c)
{
    (void)c;
    assert_int_equal(RmAddFilter(cx.h, filter_exe, NULL, NULL, RmNoRestart), ERROR_SUCCESS);
    return remove_targets(NULL, NULL, L"Spooler");
}
static DWORD rf_twice(const struct arg_case *c)
{
    (void)c;
    assert_int_equal(RmAddFilter(cx.h, NULL, NULL, L"Spooler", RmNoRestart), ERROR_SUCCESS);
    assert_int_equal(RmRemoveFilter(cx.h, NULL, NULL, L"Spooler"), ERROR_SUCCESS);
    return remove_targets(NULL, NULL, L"Spooler");
}
static DWORD rf_added(const struct arg_case *c)
{
    (void)c;
    assert_int_equal(RmAddFilter(cx.h, NULL, &some_process, NULL, RmNoRestart), ERROR_SUCCESS);
    return remove_targets(NULL, &some_process, NULL);
}

static DWORD gfl_bad(int null_needed, DWORD cb, int null_buf)
{
    DWORD need = SENT32;
    BYTE buf[64];
    memset(buf, SENT8, sizeof buf);
    DWORD rc = CALL(RmGetFilterList(cx.h, null_buf ? NULL : buf, cb, null_needed ? NULL : &need));
    assert_int_equal(need, SENT32);
    expect_bytes(buf, sizeof buf, SENT8);
    return rc;
}
static DWORD gfl_null_needed(const struct arg_case *c) { (void)c; return gfl_bad(1, 64, 0); }
static DWORD gfl_null_needed0(const struct arg_case *c) { (void)c; return gfl_bad(1, 0, 1); }
static DWORD gfl_cb_null_buf(const struct arg_case *c) { (void)c; return gfl_bad(0, 16, 1); }
static DWORD gfl_huge_null_buf(const struct arg_case *c) { (void)c; return gfl_bad(0, 0xffffffffu, 1); }
static DWORD gfl_empty(const struct arg_case *c)
{
    (void)c;
    DWORD need = SENT32;
    BYTE buf[64];
    memset(buf, SENT8, sizeof buf);
    DWORD rc = CALL(RmGetFilterList(cx.h, buf, sizeof buf, &need));
    if (!rc) {
        assert_int_equal(need, 0);
        expect_bytes(buf, sizeof buf, SENT8);
    }
    return rc;
}
static DWORD filter_bytes(void)
{
    DWORD need = 0;
    assert_int_equal(RmAddFilter(cx.h, filter_exe, NULL, NULL, RmNoRestart), ERROR_SUCCESS);
    assert_int_equal(RmAddFilter(cx.h, NULL, NULL, L"Spooler", RmNoShutdown), ERROR_SUCCESS);
    assert_int_equal(RmGetFilterList(cx.h, NULL, 0, &need), ERROR_MORE_DATA);
    assert_true(need >= 2 * sizeof(RM_FILTER_INFO));
    return need;
}
static DWORD gfl_sizing_null(const struct arg_case *c)
{
    (void)c;
    DWORD want = filter_bytes(), need = SENT32;
    DWORD rc = CALL(RmGetFilterList(cx.h, NULL, 0, &need));
    assert_int_equal(need, want);
    return rc;
}
static DWORD gfl_short(DWORD less)
{
    DWORD want = filter_bytes(), need = SENT32, cb = want - less;
    BYTE *buf = IT_GUARDED(cb);
    memset(buf, SENT8, cb);
    DWORD rc = CALL(RmGetFilterList(cx.h, buf, cb, &need));
    assert_int_equal(need, want);
    expect_bytes(buf, cb, SENT8);
    it_guarded_free(buf);
    return rc;
}
static DWORD gfl_short_1(const struct arg_case *c) { (void)c; return gfl_short(1); }
static DWORD gfl_short_record(const struct arg_case *c) { (void)c; return gfl_short(sizeof(RM_FILTER_INFO)); }
static DWORD gfl_exact(const struct arg_case *c)
{
    (void)c;
    DWORD want = filter_bytes(), need = SENT32;
    BYTE *buf = IT_GUARDED(want);
    DWORD rc = CALL(RmGetFilterList(cx.h, buf, want, &need));
    if (!rc) {
        assert_int_equal(need, want);
        const RM_FILTER_INFO *f = (const RM_FILTER_INFO *)buf;
        assert_true(f->cbNextOffset != 0 && f->cbNextOffset < want);
    }
    it_guarded_free(buf);
    return rc;
}
static DWORD gfl_roomy(const struct arg_case *c)
{
    (void)c;
    DWORD want = filter_bytes(), need = SENT32;
    BYTE buf[4096];
    assert_true(want + 64 <= sizeof buf);
    memset(buf, SENT8, sizeof buf);
    DWORD rc = CALL(RmGetFilterList(cx.h, buf, sizeof buf, &need));
    if (!rc) {
        assert_int_equal(need, want);
        expect_bytes(buf + want, sizeof buf - want, SENT8);
    }
    return rc;
}

/* ---- the rest ----------------------------------------------------------------------------------------- */

static DWORD reserve_0(const struct arg_case *c) { (void)c; return CALL(RmReserveHeap(0)); }
static DWORD reserve_max(const struct arg_case *c) { (void)c; return CALL(RmReserveHeap(0xffffffffu)); }
/* A joined process leaves with RmEndSession; the owner's session goes on. */
static DWORD end_joined(const struct arg_case *c)
{
    (void)c;
    DWORD rc = CALL(RmEndSession(cx.j));
    cx.j_gone = 1;
    return rc;
}
static DWORD end_joined_twice(const struct arg_case *c)
{
    (void)c;
    assert_int_equal(RmEndSession(cx.j), ERROR_SUCCESS);
    cx.j_gone = 1;
    return CALL(RmEndSession(cx.j));
}
static DWORD joined_registers(const struct arg_case *c)
{
    (void)c;
    WCHAR f[96];
    case_file(f, "joined");
    LPCWSTR files[] = {f};
    return CALL(RmRegisterResources(cx.j, 1, files, 0, NULL, 0, NULL));
}
static DWORD cancel_idle(const struct arg_case *c) { (void)c; return CALL(RmCancelCurrentTask(cx.h)); }

/* ---- generated: export × bad handle ------------------------------------------------------------------- */

enum handle_kind {
    HK_ZERO, HK_ONES, HK_ARBITRARY1, HK_ARBITRARY2, HK_ARBITRARY3, HK_ENDED, HK_LEFT, HK_FOREIGN,
    HK_GENERATION, HK_SLOT, HK_INDEX, HK_COUNT, HK_JOINED = 100
};
static const char *const hk_names[] = {"0", "0xFFFFFFFF", "0x12345678", "0xdeadbeef", "0x00010041", "ended",
                                       "left", "other-process", "generation+1", "slot^1", "index^2"};

static DWORD handle_of(int kind)
{
    switch (kind) {
    case HK_ZERO: return 0;
    case HK_ONES: return 0xffffffffu;
    case HK_ARBITRARY1: return 0x12345678u;
    case HK_ARBITRARY2: return 0xdeadbeefu;
    case HK_ARBITRARY3: return 0x00010041u;
    case HK_ENDED: return cx.ended;
    case HK_LEFT: return cx.left;
    case HK_FOREIGN: return foreign_handle;
    case HK_GENERATION: return cx.h + (1u << 16);
    case HK_SLOT: return cx.h ^ 1u;
    case HK_INDEX: return cx.h ^ (2u << 6); /* index 1 is the joined handle, same slot */
    default: return cx.j;
    }
}

enum {
    EX_END, EX_REGISTER, EX_GETLIST, EX_SHUTDOWN, EX_RESTART, EX_CANCEL, EX_ADDFILTER, EX_REMOVEFILTER,
    EX_GETFILTERLIST, EX_COUNT
};
static const char *const ex_names[] = {"RmEndSession", "RmRegisterResources", "RmGetList", "RmShutdown", "RmRestart",
                                       "RmCancelCurrentTask", "RmAddFilter", "RmRemoveFilter", "RmGetFilterList"};

/* Every other argument is good; a refused handle writes nothing (RmGetList's reboot reasons
 * excepted: the README says they are always written). */
static DWORD run_bad_handle(const struct arg_case *c)
{
    DWORD hv = handle_of(c->handle_kind), rc = 0;
    /* An arbitrary value must not happen to be one of ours, or the case means nothing. */
    if (c->handle_kind != HK_JOINED)
        assert_true(hv != cx.h && hv != cx.j);
    WCHAR f[96];
    case_file(f, "badhandle");
    LPCWSTR files[] = {f};
    switch (c->export_ix) {
    case EX_END: rc = CALL(RmEndSession(hv)); break;
    case EX_REGISTER: rc = CALL(RmRegisterResources(hv, 1, files, 0, NULL, 0, NULL)); break;
    case EX_GETLIST: {
        UINT needed = SENT32, n = 2;
        DWORD reasons = SENT32;
        RM_PROCESS_INFO arr[3];
        memset(arr, SENT8, sizeof arr);
        rc = CALL(RmGetList(hv, &needed, &n, arr, &reasons));
        assert_int_equal(needed, SENT32);
        assert_int_equal(n, 2);
        assert_int_equal(reasons, RmRebootReasonNone);
        expect_bytes(arr, sizeof arr, SENT8);
        break;
    }
    case EX_SHUTDOWN: rc = CALL(RmShutdown(hv, RmForceShutdown, NULL)); break;
    case EX_RESTART: rc = CALL(RmRestart(hv, 0, NULL)); break;
    case EX_CANCEL: rc = CALL(RmCancelCurrentTask(hv)); break;
    case EX_ADDFILTER: rc = CALL(RmAddFilter(hv, filter_exe, NULL, NULL, RmNoRestart)); break;
    case EX_REMOVEFILTER:
        /* Present in the session, so a wrong answer could only come from the handle. */
        assert_int_equal(RmAddFilter(cx.h, filter_exe, NULL, NULL, RmNoRestart), ERROR_SUCCESS);
        rc = CALL(RmRemoveFilter(hv, filter_exe, NULL, NULL));
        break;
    default: {
        DWORD need = SENT32;
        BYTE buf[256];
        memset(buf, SENT8, sizeof buf);
        assert_int_equal(RmAddFilter(cx.h, filter_exe, NULL, NULL, RmNoRestart), ERROR_SUCCESS);
        rc = CALL(RmGetFilterList(hv, buf, sizeof buf, &need));
        assert_int_equal(need, SENT32);
        expect_bytes(buf, sizeof buf, SENT8);
        break;
    }
    }
    return rc;
}

/* ---- the table ------------------------------------------------------------------------------------------ */

#define C(fn, code) {#fn, (code), 0, 0, fn, 0, 0}
#define CA(fn, code, files, svcs) {#fn, (code), (files), (svcs), fn, 0, 0}
#define BAD ERROR_BAD_ARGUMENTS
#define CRED ERROR_SESSION_CREDENTIAL_CONFLICT

static const struct arg_case fixed_cases[] = {
    C(start_null_handle, BAD), C(start_null_key, BAD), C(start_null_both, BAD), C(start_flags_1, BAD),
    C(start_flags_2, BAD), C(start_flags_high, BAD), C(start_flags_all, BAD), C(start_flags_null, BAD),
    C(start_key_64, ERROR_SUCCESS), C(start_key_guarded, ERROR_SUCCESS),

    C(join_null_handle, BAD), C(join_null_key, BAD), C(join_null_both, BAD), C(join_empty, BAD), C(join_31, BAD),
    C(join_33, BAD), C(join_33_more, BAD), C(join_trailing_x, BAD), C(join_g_first, BAD), C(join_g_last, BAD),
    C(join_space, BAD), C(join_ctrl, BAD), C(join_surrogate, BAD), C(join_low_surrogate, BAD),
    C(join_fullwidth, BAD), C(join_nul_mid, BAD), C(join_minus, BAD), C(join_upper, ERROR_SUCCESS),
    C(join_exact, ERROR_SUCCESS), C(join_wrong, CRED), C(join_zero_key, CRED), C(join_ended, CRED),

    C(reg_files_null, BAD), C(reg_apps_null, BAD), C(reg_svcs_null, BAD), C(reg_all_null, BAD),
    C(reg_huge_files, BAD), C(reg_huge_apps, BAD), C(reg_huge_svcs, BAD), C(reg_max_files, BAD),
    C(reg_max_apps, BAD), C(reg_max_svcs, BAD), C(reg_huge_good_rest, BAD), C(reg_null_element, BAD),
    C(reg_good_then_null, BAD), C(reg_good_then_bad_svc, BAD), C(reg_empty, BAD), C(reg_svc_empty, BAD),
    C(reg_svc_null, BAD), C(reg_svc_slash, BAD), C(reg_svc_backslash, BAD), C(reg_svc_long, BAD),
    C(reg_svc_unterminated, BAD), CA(reg_svc_256, ERROR_SUCCESS, 0, 1), CA(reg_32767, ERROR_SUCCESS, 1, 0),
    C(reg_32768_nul, BAD), C(reg_32768_unterminated, BAD), CA(reg_ctrl, ERROR_SUCCESS, 1, 0),
    CA(reg_ctrl_1f, ERROR_SUCCESS, 1, 0), CA(reg_lone_high, ERROR_SUCCESS, 1, 0),
    CA(reg_lone_low, ERROR_SUCCESS, 1, 0), CA(reg_nonchar, ERROR_SUCCESS, 1, 0),
    C(reg_zero_with_arrays, ERROR_SUCCESS), C(reg_zero_null, ERROR_SUCCESS),
    CA(reg_exact_arrays, ERROR_SUCCESS, 2, 1), CA(reg_duplicates, ERROR_SUCCESS, 1, 0),

    C(list_null_needed, BAD), C(list_null_n, BAD), C(list_null_reasons, BAD), C(list_null_all, BAD),
    C(list_count_null_arr, BAD), C(list_big_count_null_arr, BAD), C(list_zero_with_array, ERROR_SUCCESS),
    CA(list_short_null, ERROR_MORE_DATA, 1, 0), CA(list_short_zero, ERROR_MORE_DATA, 1, 0),
    CA(list_short_one_less, ERROR_MORE_DATA, 1, 0), CA(list_exact_guarded, ERROR_SUCCESS, 1, 0),
    CA(list_roomy, ERROR_SUCCESS, 1, 0),

    C(sd_2, BAD), C(sd_4, BAD), C(sd_8, BAD), C(sd_20, BAD), C(sd_100, BAD), C(sd_force_bad, BAD),
    C(sd_only_bad, BAD), C(sd_high, BAD), C(sd_all, BAD), C(rs_1, BAD), C(rs_2, BAD), C(rs_high, BAD),
    C(rs_all, BAD), C(rs_sequence, ERROR_REQUEST_OUT_OF_SEQUENCE),

    C(af_0, BAD), C(af_3, BAD), C(af_m1, BAD), C(af_max, BAD), C(af_none, BAD), C(af_mod_svc, BAD),
    C(af_mod_proc, BAD), C(af_proc_svc, BAD), C(af_all, BAD), C(af_mod_empty, BAD), C(af_svc_empty, BAD),
    C(af_svc_slash, BAD), C(af_svc_long, BAD), C(af_mod_unterminated, BAD), C(af_ok_mod, ERROR_SUCCESS),
    C(af_ok_proc, ERROR_SUCCESS), C(af_ok_svc, ERROR_SUCCESS),
    C(rf_none, BAD), C(rf_mod_svc, BAD), C(rf_mod_proc, BAD), C(rf_all, BAD), C(rf_mod_empty, BAD),
    C(rf_svc_slash, BAD), C(rf_absent_mod, ERROR_FILE_NOT_FOUND), C(rf_absent_proc, ERROR_FILE_NOT_FOUND),
    C(rf_absent_svc, ERROR_FILE_NOT_FOUND), C(rf_other_target, ERROR_FILE_NOT_FOUND),
    C(rf_twice, ERROR_FILE_NOT_FOUND), C(rf_added, ERROR_SUCCESS),
    C(gfl_null_needed, BAD), C(gfl_null_needed0, BAD), C(gfl_cb_null_buf, BAD), C(gfl_huge_null_buf, BAD),
    C(gfl_empty, ERROR_SUCCESS), C(gfl_sizing_null, ERROR_MORE_DATA), C(gfl_short_1, ERROR_MORE_DATA),
    C(gfl_short_record, ERROR_MORE_DATA), C(gfl_exact, ERROR_SUCCESS), C(gfl_roomy, ERROR_SUCCESS),

    C(reserve_0, ERROR_SUCCESS), C(reserve_max, ERROR_SUCCESS), C(end_joined, ERROR_SUCCESS),
    C(end_joined_twice, ERROR_INVALID_HANDLE), CA(joined_registers, ERROR_SUCCESS, 1, 0),
    C(cancel_idle, ERROR_SUCCESS),
};

#define NFIXED (sizeof fixed_cases / sizeof fixed_cases[0])
/* Owner-only exports a joined handle is refused (1219). */
static const int owner_only[] = {EX_GETLIST, EX_SHUTDOWN, EX_RESTART, EX_CANCEL, EX_ADDFILTER, EX_REMOVEFILTER,
                                 EX_GETFILTERLIST};
#define NOWNER (sizeof owner_only / sizeof owner_only[0])
#define NCASES (NFIXED + EX_COUNT * HK_COUNT + NOWNER)

static struct arg_case cases[NCASES];
static struct CMUnitTest tests[NCASES];

/* ---- running a case ------------------------------------------------------------------------------------ */

static int case_setup(void **state)
{
    (void)state;
    WCHAR k[KEY_CHARS + 1];
    memset(&cx, 0, sizeof cx);
    case_serial++;
    if (RmStartSession(&cx.h, 0, cx.key) || RmJoinSession(&cx.j, cx.key))
        return -1;
    /* Dead handles of both kinds, made fresh so each case sees its own. */
    DWORD e;
    if (RmStartSession(&e, 0, k) || RmJoinSession(&cx.left, cx.key) || RmEndSession(cx.left) || RmEndSession(e))
        return -1;
    cx.ended = e;
    return 0;
}

static int case_teardown(void **state)
{
    (void)state;
    if (!cx.j_gone)
        RmEndSession(cx.j);
    if (!cx.h_gone)
        RmEndSession(cx.h);
    return 0;
}

static void run_case(void **state)
{
    const struct arg_case *c = *state;
    uint32_t after[3], again[3];
    counts(cx.h, cx.before);
    DWORD rc = c->run(c);
    if (cx.last != IT_LAST_ERROR) {
        print_error("%s changed the caller's last error to 0x%08lx\n", c->name, cx.last);
        fail();
    }
    if (rc != c->expect) {
        print_error("%s returned %lu, expected %lu\n", c->name, rc, c->expect);
        fail();
    }
    /* A refused call registered nothing; a good one exactly what it says. */
    counts(cx.h, after);
    int ok = rc == ERROR_SUCCESS || rc == ERROR_MORE_DATA;
    uint32_t want_files = cx.before[0] + (ok ? (uint32_t)c->adds_files : 0);
    uint32_t want_svcs = cx.before[2] + (ok ? (uint32_t)c->adds_svcs : 0);
    if (after[0] != want_files || after[2] != want_svcs) {
        print_error("%s: session holds %u files and %u services, expected %u and %u\n", c->name, after[0], after[2],
                    want_files, want_svcs);
        fail();
    }
    /* The session still takes registrations, from the owner and from the joined handle. */
    WCHAR f[96], g[96];
    case_file(f, "after");
    case_file(g, "after-joined");
    LPCWSTR one[] = {f}, two[] = {g};
    assert_int_equal(RmRegisterResources(cx.h, 1, one, 0, NULL, 0, NULL), ERROR_SUCCESS);
    if (!cx.j_gone)
        assert_int_equal(RmRegisterResources(cx.j, 1, two, 0, NULL, 0, NULL), ERROR_SUCCESS);
    counts(cx.h, again);
    assert_int_equal(again[0], after[0] + 1 + !cx.j_gone);
    /* And a foreign handle stays that process's, alive. */
    assert_int_equal(WaitForSingleObject(foreign_child, 0), WAIT_TIMEOUT);
}

/* ---- the other process --------------------------------------------------------------------------------- */

/* args: file. Starts a session, writes its handle value to the file, and holds the session
 * until the parent sets the "done" event. */
static void child_hold(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1];
    DWORD h = IT_START(key);
    FILE *f = _wfopen(it_arg(0), L"w");
    assert_non_null(f);
    fprintf(f, "0x%08lx\n", h);
    fclose(f);
    HANDLE ready = it_event(L"ready"), done = it_event(L"done");
    SetEvent(ready);
    assert_int_equal(WaitForSingleObject(done, 110000), WAIT_OBJECT_0);
    assert_int_equal(RmEndSession(h), ERROR_SUCCESS);
    it_forget(h);
}

const struct it_role it_roles[] = {
    {L"hold", child_hold},
    {NULL, NULL},
};

static int group_setup(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], file[MAX_PATH + 16];
    it_make_dir(L"args", dir);
    _snwprintf(file, MAX_PATH + 16, L"%ls\\handle.txt", dir);
    file[MAX_PATH + 15] = 0;
    HANDLE ready = it_event(L"ready");
    foreign_done = it_event(L"done");
    foreign_child = IT_SPAWN(L"hold", NULL, L"\"%ls\"", file);
    if (WaitForMultipleObjects(2, (HANDLE[]){ready, foreign_child}, FALSE, 30000) != WAIT_OBJECT_0) {
        print_error("the child holding a session did not start\n");
        return -1;
    }
    FILE *f = _wfopen(file, L"r");
    unsigned long v = 0;
    if (!f || fscanf(f, "%lx", &v) != 1) {
        print_error("no handle from the child\n");
        return -1;
    }
    fclose(f);
    DeleteFileW(file);
    RemoveDirectoryW(dir);
    foreign_handle = (DWORD)v;
    print_message("other process's handle: 0x%08lx\n", foreign_handle);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    SetEvent(foreign_done);
    DWORD code = 0xffffffffu;
    if (WaitForSingleObject(foreign_child, 30000) != WAIT_OBJECT_0)
        TerminateProcess(foreign_child, 0xdead);
    GetExitCodeProcess(foreign_child, &code);
    return code == 0 ? 0 : -1;
}

int it_parent(void)
{
    size_t n = 0;
    for (size_t i = 0; i < NFIXED; i++)
        cases[n++] = fixed_cases[i];
    for (int e = 0; e < EX_COUNT; e++)
        for (int k = 0; k < HK_COUNT; k++) {
            struct arg_case *c = &cases[n++];
            snprintf(c->name, sizeof c->name, "%s/handle %s", ex_names[e], hk_names[k]);
            c->expect = ERROR_INVALID_HANDLE;
            c->run = run_bad_handle;
            c->export_ix = e;
            c->handle_kind = k;
        }
    for (size_t i = 0; i < NOWNER; i++) {
        struct arg_case *c = &cases[n++];
        snprintf(c->name, sizeof c->name, "%s/joined handle", ex_names[owner_only[i]]);
        c->expect = CRED;
        c->run = run_bad_handle;
        c->export_ix = owner_only[i];
        c->handle_kind = HK_JOINED;
    }
    for (size_t i = 0; i < n; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = run_case;
        tests[i].setup_func = case_setup;
        tests[i].teardown_func = case_teardown;
        tests[i].initial_state = &cases[i];
    }
    print_message("%u cases\n", (unsigned)n);
    return _cmocka_run_group_tests("hardening.args", tests, n, group_setup, group_teardown);
}
