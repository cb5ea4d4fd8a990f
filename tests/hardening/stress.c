/*
 * Concurrency and cross-process damage.
 *
 * concurrent_members: 8 threads in this process and 8 in a child (this program re-executed
 * with a role, same private store prefix) work on the same 4 sessions for a while (30 s by
 * default; `--seconds N` on the command line changes it). Every thread joins the sessions,
 * registers its own unique names (process, thread, counter) in small batches, re-registers
 * some names it already registered (which must not count again), lists now and then, and
 * leaves and rejoins. At the end, each session's owner must hold exactly the unique names all
 * threads report having registered (none lost, none doubled), and everything must have
 * finished within a bounded wait (no deadlock).
 *
 * damage_from_other_process: a child flips one byte of the store header, of a data section's
 * header and of a record (white-box: the section names of src/session/store.c) while this
 * process uses the session: every call answers ERROR_WRITE_FAULT instead of crashing or
 * acting on the bytes, and once the child puts the byte back, everything works again.
 *
 * SPDX-License-Identifier: MIT
 */
#include "it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "session/key.h"
#include "session/layout.h"
#include "session/session.h"
#include "session/store.h"
#include "sys/sys.h"

const char it_program[] = "hstress";

#define KEY_CHARS ((int)CCH_RM_SESSION_KEY)
#define NSESSIONS 4
#define NTHREADS 8
#define DEFAULT_SECONDS 30
/* Beyond the run time, how long finishing may take before it counts as a deadlock. */
#define GRACE_MS 40000u

/* ---- the workers (both processes) ------------------------------------------------------------- */

struct worker {
    int proc;                           /* 0 parent, 1 child */
    int id;                             /* thread number in its process */
    DWORD deadline;                     /* GetTickCount value to stop at */
    const WCHAR *keys[NSESSIONS];       /* shared sessions' keys */
    DWORD owner[NSESSIONS];             /* parent only: the owner handles (0 in the child) */
    uint32_t unique[NSESSIONS];         /* unique names this thread registered per session */
    uint32_t ops, lists, rejoins, dups; /* what it did, for the report */
    volatile LONG progress;             /* bumped on every call: a stuck thread stops bumping */
    volatile const char *doing;         /* the call in progress, for a deadlock report */
    char error[256];                    /* first unexpected result */
};

static volatile LONG total_errors;

static void worker_error(struct worker *w, const char *what, DWORD rc, DWORD expected)
{
    if (InterlockedIncrement(&total_errors) <= 20)
        fprintf(stderr, "process %d thread %d: %s returned %lu, expected %lu\n", w->proc, w->id, what, rc, expected);
    if (!w->error[0])
        snprintf(w->error, sizeof w->error, "%s returned %lu, expected %lu", what, rc, expected);
}

/* Checks the result and that the caller's last error was left alone. */
static int expect_call(struct worker *w, const char *what, DWORD rc, DWORD expected)
{
    DWORD last = GetLastError();
    InterlockedIncrement(&w->progress);
    w->ops++;
    if (last != IT_LAST_ERROR) {
        worker_error(w, "last error changed by", last, IT_LAST_ERROR);
        return 0;
    }
    if (rc != expected) {
        worker_error(w, what, rc, expected);
        return 0;
    }
    return 1;
}

#define WCALL(w, what, call) ((w)->doing = (what), SetLastError(IT_LAST_ERROR), (DWORD)(call))

static void name_of(WCHAR out[96], const struct worker *w, int s, uint32_t n)
{
    _snwprintf(out, 96, L"C:\\rm-stress\\p%d-t%d-s%d-%u.dat", w->proc, w->id, s, n);
    out[95] = 0;
}

static DWORD WINAPI worker_main(void *arg)
{
    struct worker *w = arg;
    DWORD member[NSESSIONS] = {0};
    uint32_t rng = 0x9e3779b9u * (uint32_t)(w->proc * NTHREADS + w->id + 1);
    WCHAR names[4][96], *batch[5];

    while ((LONG)(GetTickCount() - w->deadline) < 0 && !w->error[0]) {
        rng = rng * 1103515245u + 12345u;
        uint32_t r = rng >> 8;
        int s = (int)(r % NSESSIONS);
        if (!member[s]) {
            DWORD h = 0xfeedfaceu;
            DWORD rc = WCALL(w, "RmJoinSession", RmJoinSession(&h, w->keys[s]));
            if (!expect_call(w, "RmJoinSession", rc, ERROR_SUCCESS))
                break;
            member[s] = h;
            w->rejoins++;
        }
        /* A small batch of new names, sometimes with an old one and a respelling of a new one. */
        int n = 1 + (int)((r >> 4) % 4);
        for (int i = 0; i < n; i++) {
            name_of(names[i], w, s, w->unique[s] + (uint32_t)i);
            batch[i] = names[i];
        }
        int nb = n;
        WCHAR old[96], upper[96];
        if ((r >> 8) % 4 == 0 && w->unique[s] > 0) {
            name_of(old, w, s, (r >> 10) % w->unique[s]);
            batch[nb++] = old;
            w->dups++;
        }
        if ((r >> 12) % 8 == 0 && nb < 5) {
            wcscpy(upper, names[0]);
            for (WCHAR *q = upper; *q; q++)
                *q = (WCHAR)towupper(*q);
            batch[nb++] = upper;
            w->dups++;
        }
        DWORD rc = WCALL(w, "RmRegisterResources",
                         RmRegisterResources(member[s], (UINT)nb, (LPCWSTR *)batch, 0, NULL, 0, NULL));
        if (!expect_call(w, "RmRegisterResources", rc, ERROR_SUCCESS))
            break;
        w->unique[s] += (uint32_t)n;

        if ((r >> 14) % 16 == 0) {
            /* The owner lists (nothing registered exists, so nothing is in use); a member is
             * refused as not the owner. */
            UINT needed = 0, cap = 0;
            DWORD reasons = 0;
            DWORD h = w->owner[s] ? w->owner[s] : member[s];
            DWORD want = w->owner[s] ? ERROR_SUCCESS : ERROR_SESSION_CREDENTIAL_CONFLICT;
            rc = WCALL(w, "RmGetList", RmGetList(h, &needed, &cap, NULL, &reasons));
            if (!expect_call(w, "RmGetList", rc, want))
                break;
            if (want == ERROR_SUCCESS && needed != 0) {
                worker_error(w, "RmGetList count", needed, 0);
                break;
            }
            w->lists++;
        }
        if ((r >> 18) % 24 == 0) {
            /* Leave; the next round on this session joins again. */
            rc = WCALL(w, "RmEndSession", RmEndSession(member[s]));
            if (!expect_call(w, "RmEndSession", rc, ERROR_SUCCESS))
                break;
            member[s] = 0;
        }
    }
    for (int s = 0; s < NSESSIONS; s++)
        if (member[s]) {
            DWORD rc = WCALL(w, "RmEndSession", RmEndSession(member[s]));
            expect_call(w, "RmEndSession (final)", rc, ERROR_SUCCESS);
        }
    w->doing = "done";
    return 0;
}

/* Runs NTHREADS workers and waits for them, bounded. Returns 0 when all finished. */
static int run_workers(struct worker *ws, int proc, DWORD seconds, const WCHAR *const keys[NSESSIONS],
                       const DWORD owner[NSESSIONS])
{
    HANDLE th[NTHREADS];
    DWORD deadline = GetTickCount() + seconds * 1000u;
    for (int i = 0; i < NTHREADS; i++) {
        memset(&ws[i], 0, sizeof ws[i]);
        ws[i].proc = proc;
        ws[i].id = i;
        ws[i].deadline = deadline;
        ws[i].doing = "starting";
        for (int s = 0; s < NSESSIONS; s++) {
            ws[i].keys[s] = keys[s];
            ws[i].owner[s] = owner ? owner[s] : 0;
        }
        th[i] = CreateThread(NULL, 0, worker_main, &ws[i], 0, NULL);
        assert_non_null(th[i]);
    }
    DWORD w = WaitForMultipleObjects(NTHREADS, th, TRUE, seconds * 1000u + GRACE_MS);
    int stuck = 0;
    if (w == WAIT_TIMEOUT) {
        for (int i = 0; i < NTHREADS; i++)
            if (WaitForSingleObject(th[i], 0) == WAIT_TIMEOUT) {
                fprintf(stderr, "DEADLOCK? process %d thread %d still in %s after %lu s (%ld calls made)\n", proc, i,
                        (const char *)ws[i].doing, seconds + GRACE_MS / 1000, ws[i].progress);
                stuck++;
            }
    }
    for (int i = 0; i < NTHREADS; i++)
        if (!stuck)
            CloseHandle(th[i]);
    return stuck;
}

/* ---- the child's side of concurrent_members ----------------------------------------------------- */

/* args: seconds, results file, key0..key3. Writes one line: the unique count per session. */
static void child_workers(void **state)
{
    (void)state;
    static struct worker ws[NTHREADS];
    DWORD seconds = it_arg_u32(0);
    const WCHAR *keys[NSESSIONS];
    for (int s = 0; s < NSESSIONS; s++)
        keys[s] = it_arg(2 + s);
    int stuck = run_workers(ws, 1, seconds, keys, NULL);
    if (stuck) {
        /* Leave the process for the parent's bounded wait to find and report. */
        fail_msg("%d threads did not finish", stuck);
    }
    uint32_t total[NSESSIONS] = {0};
    for (int i = 0; i < NTHREADS; i++)
        for (int s = 0; s < NSESSIONS; s++)
            total[s] += ws[i].unique[s];
    FILE *f = _wfopen(it_arg(1), L"w");
    assert_non_null(f);
    for (int s = 0; s < NSESSIONS; s++)
        fprintf(f, "%u ", total[s]);
    fprintf(f, "\n");
    fclose(f);
    assert_int_equal(total_errors, 0);
}

/* ---- concurrent_members ------------------------------------------------------------------------- */

static DWORD run_seconds = DEFAULT_SECONDS;

static void concurrent_members(void **state)
{
    (void)state;
    static struct worker ws[NTHREADS];
    static WCHAR key_text[NSESSIONS][KEY_CHARS + 1];
    const WCHAR *keys[NSESSIONS];
    DWORD owner[NSESSIONS];
    WCHAR dir[MAX_PATH], results[MAX_PATH + 16];

    for (int s = 0; s < NSESSIONS; s++) {
        owner[s] = IT_START(key_text[s]);
        keys[s] = key_text[s];
    }
    it_make_dir(L"stress", dir);
    _snwprintf(results, MAX_PATH + 16, L"%ls\\child.txt", dir);
    results[MAX_PATH + 15] = 0;
    HANDLE child = IT_SPAWN(L"workers", NULL, L"%lu \"%ls\" %ls %ls %ls %ls", run_seconds, results, keys[0], keys[1],
                            keys[2], keys[3]);
    DWORD t0 = GetTickCount();
    int stuck = run_workers(ws, 0, run_seconds, keys, owner);
    if (stuck)
        fail_msg("%d threads of this process did not finish: deadlock", stuck);
    /* The child had the same time; a bounded wait, then it counts as hung. */
    DWORD left = run_seconds * 1000u + GRACE_MS;
    DWORD spent = GetTickCount() - t0;
    if (WaitForSingleObject(child, spent < left ? left - spent : 1) != WAIT_OBJECT_0)
        fail_msg("the child's threads did not finish within %lu s: deadlock", run_seconds + GRACE_MS / 1000);
    it_expect_exit_(child, 0, 1000, __FILE__, __LINE__);

    uint32_t child_unique[NSESSIONS];
    FILE *f = _wfopen(results, L"r");
    assert_non_null(f);
    for (int s = 0; s < NSESSIONS; s++)
        assert_int_equal(fscanf(f, "%u", &child_unique[s]), 1);
    fclose(f);
    DeleteFileW(results);

    uint32_t ops = 0, lists = 0, rejoins = 0, dups = 0;
    for (int i = 0; i < NTHREADS; i++) {
        if (ws[i].error[0])
            print_error("thread %d: %s\n", i, ws[i].error);
        ops += ws[i].ops;
        lists += ws[i].lists;
        rejoins += ws[i].rejoins;
        dups += ws[i].dups;
    }
    assert_int_equal(total_errors, 0);
    for (int s = 0; s < NSESSIONS; s++) {
        uint32_t mine = 0, c[3];
        for (int i = 0; i < NTHREADS; i++)
            mine += ws[i].unique[s];
        assert_int_equal(rm_session_counts(owner[s], c), ERROR_SUCCESS);
        print_message("session %d: %u names from this process + %u from the child; the session holds %u\n", s, mine,
                      child_unique[s], c[0]);
        assert_true(mine > 0 && child_unique[s] > 0);
        assert_int_equal(c[0], mine + child_unique[s]);
        assert_int_equal(c[1], 0);
        assert_int_equal(c[2], 0);
    }
    print_message("this process: %u calls, %u lists, %u joins, %u deliberate duplicates in %lu s\n", ops, lists,
                  rejoins, dups, run_seconds);
}

/* ---- damage_from_other_process ------------------------------------------------------------------ */

#define DATA_VIEW (64u << 10)

static void object_name(WCHAR *buf, const WCHAR *suffix)
{
    const WCHAR *sid = rm_user_sid();
    assert_non_null(sid);
    _snwprintf(buf, 256, L"Local\\%ls.%ls%ls", it_prefix, sid, suffix);
    buf[255] = 0;
}

static struct rm_store *open_store(HANDLE *section)
{
    WCHAR name[256];
    object_name(name, L"");
    *section = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name);
    assert_non_null(*section);
    struct rm_store *s = MapViewOfFile(*section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof *s);
    assert_non_null(s);
    return s;
}

static struct rm_data_header *open_data(const WCHAR *key_text, HANDLE *section)
{
    WCHAR name[256], suffix[40];
    uint8_t key[RM_KEY_BYTES];
    HANDLE ss;
    assert_int_equal(rm_key_decode((const uint16_t *)key_text, key), 0);
    struct rm_store *s = open_store(&ss);
    uint32_t slot = RM_MAX_SESSIONS;
    for (uint32_t i = 0; i < RM_MAX_SESSIONS; i++)
        if (s->slots[i].state == RM_SLOT_LIVE && memcmp(s->slots[i].key, key, sizeof key) == 0)
            slot = i;
    assert_true(slot < RM_MAX_SESSIONS);
    _snwprintf(suffix, 40, L".s%u.g%u", slot, s->slots[slot].generation);
    UnmapViewOfFile(s);
    CloseHandle(ss);
    object_name(name, suffix);
    *section = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name);
    assert_non_null(*section);
    void *v = MapViewOfFile(*section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, DATA_VIEW);
    assert_non_null(v);
    /* The section is reserved; pages become usable in a view once committed through it. */
    assert_non_null(VirtualAlloc(v, DATA_VIEW, MEM_COMMIT, PAGE_READWRITE));
    return v;
}

enum { DMG_STORE, DMG_DATA_HEADER, DMG_RECORD, DMG_COUNT };
static const char *const dmg_names[] = {"store header magic", "data header magic", "first record type"};

static void stage_event_name(WCHAR out[32], const WCHAR *what, int stage)
{
    _snwprintf(out, 32, L"%ls%d", what, stage);
    out[31] = 0;
}

/* args: key. For each stage, when the parent says go: flip one byte, say so, wait for the
 * parent, put it back, say so. */
static void child_damage(void **state)
{
    (void)state;
    const WCHAR *key = it_arg(0);
    for (int stage = 0; stage < DMG_COUNT; stage++) {
        WCHAR n1[32], n2[32], n3[32];
        stage_event_name(n1, L"flipped", stage);
        stage_event_name(n2, L"checked", stage);
        stage_event_name(n3, L"restored", stage);
        HANDLE flipped = it_event(n1), checked = it_event(n2), restored = it_event(n3), go;
        WCHAR n0[32];
        stage_event_name(n0, L"go", stage);
        go = it_event(n0);
        /* The parent checks the repaired state of the last stage before the next flip. */
        assert_int_equal(WaitForSingleObject(go, 30000), WAIT_OBJECT_0);
        HANDLE section;
        BYTE *byte;
        void *view;
        if (stage == DMG_STORE) {
            struct rm_store *s = open_store(&section);
            view = s;
            byte = (BYTE *)&s->magic;
        } else {
            struct rm_data_header *d = open_data(key, &section);
            view = d;
            if (stage == DMG_DATA_HEADER)
                byte = (BYTE *)&d->magic + 1;
            else
                byte = (BYTE *)d + sizeof *d + offsetof(struct rm_record_header, type);
        }
        BYTE saved = *byte;
        *byte ^= 0x08;
        SetEvent(flipped);
        assert_int_equal(WaitForSingleObject(checked, 30000), WAIT_OBJECT_0);
        *byte = saved;
        UnmapViewOfFile(view);
        CloseHandle(section);
        SetEvent(restored);
    }
}

static void damage_from_other_process(void **state)
{
    (void)state;
    WCHAR key[KEY_CHARS + 1], file[96];
    DWORD h = IT_START(key), j;
    uint32_t files = 0, c[3];
    UINT needed, n;
    DWORD reasons;
    LPCWSTR one[] = {file};
    _snwprintf(file, 96, L"C:\\rm-stress\\%ls-first.dat", it_prefix);
    EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, one, 0, NULL, 0, NULL));
    files++;
    HANDLE child = IT_SPAWN(L"damage", NULL, L"%ls", key);

    for (int stage = 0; stage < DMG_COUNT; stage++) {
        WCHAR n1[32], n2[32], n3[32];
        stage_event_name(n1, L"flipped", stage);
        stage_event_name(n2, L"checked", stage);
        stage_event_name(n3, L"restored", stage);
        HANDLE flipped = it_event(n1), checked = it_event(n2), restored = it_event(n3);
        WCHAR n0[32];
        stage_event_name(n0, L"go", stage);
        SetEvent(it_event(n0));
        IT_WAIT_EVENT(flipped, child);
        print_message("%s flipped by the child\n", dmg_names[stage]);
        _snwprintf(file, 96, L"C:\\rm-stress\\%ls-stage%d.dat", it_prefix, stage);
        if (stage == DMG_RECORD) {
            /* Records already read stay read; a member that has yet to read the log finds it. */
            EXPECT_RC(ERROR_SUCCESS, RmJoinSession(&j, key));
            it_track(j);
            EXPECT_RC(ERROR_WRITE_FAULT, RmRegisterResources(j, 1, one, 0, NULL, 0, NULL));
            assert_int_equal(rm_session_counts(j, c), ERROR_WRITE_FAULT);
        } else {
            EXPECT_RC(ERROR_WRITE_FAULT, RmRegisterResources(h, 1, one, 0, NULL, 0, NULL));
            assert_int_equal(rm_session_counts(h, c), ERROR_WRITE_FAULT);
            needed = n = 0;
            EXPECT_RC(ERROR_WRITE_FAULT, RmGetList(h, &needed, &n, NULL, &reasons));
            DWORD j2 = 0xfeedfaceu;
            EXPECT_RC(ERROR_WRITE_FAULT, RmJoinSession(&j2, key));
            assert_int_equal(j2, 0xfeedfaceu);
            if (stage == DMG_STORE) {
                WCHAR k2[KEY_CHARS + 1];
                DWORD h2 = 0xfeedfaceu;
                EXPECT_RC(ERROR_WRITE_FAULT, RmStartSession(&h2, 0, k2));
                assert_int_equal(h2, 0xfeedfaceu);
                EXPECT_RC(ERROR_WRITE_FAULT, RmCancelCurrentTask(h));
            }
        }
        SetEvent(checked);
        IT_WAIT_EVENT(restored, child);
        /* Back to normal: the same calls work and nothing refused was recorded. */
        if (stage == DMG_RECORD) {
            EXPECT_COUNTS(j, files, 0, 0);
            EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(j, 1, one, 0, NULL, 0, NULL));
            EXPECT_RC(ERROR_SUCCESS, RmEndSession(j));
            it_forget(j);
        } else
            EXPECT_RC(ERROR_SUCCESS, RmRegisterResources(h, 1, one, 0, NULL, 0, NULL));
        files++;
        EXPECT_COUNTS(h, files, 0, 0);
        needed = n = 0;
        EXPECT_RC(ERROR_SUCCESS, RmGetList(h, &needed, &n, NULL, &reasons));
    }
    EXPECT_CHILD_OK(child);
}

const struct it_role it_roles[] = {
    {L"workers", child_workers},
    {L"damage", child_damage},
    {NULL, NULL},
};

int it_parent(void)
{
    /* "--seconds N" sets how long the concurrent part runs (ctest: 30). */
    const WCHAR *arg = wcsstr(GetCommandLineW(), L"--seconds ");
    if (arg && _wtoi(arg + 10) > 0)
        run_seconds = (DWORD)_wtoi(arg + 10);
    const struct CMUnitTest tests[] = {
        IT_TEST(damage_from_other_process),
        IT_TEST(concurrent_members),
    };
    return cmocka_run_group_tests_name("hardening.stress", tests, NULL, NULL);
}
