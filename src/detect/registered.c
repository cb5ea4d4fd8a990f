/* SPDX-License-Identifier: MIT */
#include "registered.h"

#include <stdlib.h>
#include <string.h>

#include "session/layout.h"
#include "session/path.h"
#include "session/regindex.h"
#include "sys/sys.h"
#include "worker.h"

#define FILE_ID_BOTH_DIRECTORY_INFORMATION_CLASS 37

/* FILE_ID_BOTH_DIR_INFORMATION, which MinGW-w64's headers do not define. */
struct dir_entry {
    ULONG next;
    ULONG file_index;
    LARGE_INTEGER times[4];
    LARGE_INTEGER end_of_file, allocation;
    ULONG attributes;
    ULONG name_bytes;
    ULONG ea_size;
    CCHAR short_bytes;
    WCHAR short_name[12];
    LARGE_INTEGER file_id;
    WCHAR name[1];
};

DWORD rm_open_path(const uint16_t *text, uint32_t nchars, DWORD access, HANDLE *out)
{
    /* Below MAX_PATH the path opens as it is; longer ones need the \\?\ form, which for UNC
     * paths is \\?\UNC\server\share (the prefix replaces the first of the two backslashes). */
    static const WCHAR long_prefix[] = L"\\\\?\\", unc_prefix[] = L"\\\\?\\UNC";
    int unc = nchars >= 2 && text[0] == '\\' && text[1] == '\\';
    const WCHAR *prefix = nchars < MAX_PATH - 12 ? L"" : unc ? unc_prefix : long_prefix;
    size_t plen = wcslen(prefix), skip = plen && unc ? 1 : 0;
    /* One unit more for the WOW64 rewrite below. */
    WCHAR *p = rm_sys.alloc((plen + nchars - skip + 2) * sizeof(WCHAR));
    *out = INVALID_HANDLE_VALUE;
    if (!p)
        return ERROR_OUTOFMEMORY;
    memcpy(p, prefix, plen * sizeof(WCHAR));
    uint16_t *body = (uint16_t *)(p + plen);
    size_t blen = nchars - skip;
    memcpy(body, text + skip, blen * sizeof(WCHAR));
    body[blen] = 0;
    /* Stored paths name native files (System32 is the 64-bit directory). A 32-bit process on
     * 64-bit Windows would be redirected to SysWOW64's namesake: it opens them as Sysnative. */
    struct rm_path_env env;
    rm_path_env_init(&env);
    if (env.wow64 && !unc)
        rm_path_native_for_wow64(body, blen, (const uint16_t *)env.windir, wcslen(env.windir));
    HANDLE h = rm_sys.CreateFileW(p, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                                  OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    DWORD err = h == INVALID_HANDLE_VALUE ? GetLastError() : ERROR_SUCCESS;
    rm_sys.free(p);
    *out = h;
    return h == INVALID_HANDLE_VALUE && !err ? ERROR_OPEN_FAILED : err;
}

/* Length of the directory part (up to, not including, the last backslash); the name follows. */
static uint32_t dir_len(const struct rm_text *t)
{
    uint32_t i = t->nchars;
    while (i > 0 && t->text[i - 1] != '\\')
        i--;
    return i ? i - 1 : 0;
}

struct member {
    uint64_t hash;
    uint32_t file;
    uint32_t dlen;
};


static int by_dir(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    if (x->dlen != y->dlen)
        return x->dlen < y->dlen ? -1 : 1;
    return x->file < y->file ? -1 : x->file > y->file;
}

static DWORD add_opened(const struct rm_text *t, struct rm_idset *out)
{
    HANDLE h;
    DWORD err = rm_open_path(t->text, t->nchars, FILE_READ_ATTRIBUTES, &h);
    if (err == ERROR_OUTOFMEMORY)
        return err;
    if (err)
        return ERROR_SUCCESS; /* does not exist (yet): nobody can be using it */
    struct rm_identity id;
    DWORD attrs = 0;
    BOOL ok = rm_query_identity(h, &id, &attrs);
    rm_sys.CloseHandle(h);
    if (!ok)
        return ERROR_SUCCESS;
    if (attrs & FILE_ATTRIBUTE_DIRECTORY)
        return ERROR_ACCESS_DENIED;
    return rm_idset_add(out, &id, 0) < 0 ? ERROR_OUTOFMEMORY : ERROR_SUCCESS;
}

static void *plain_alloc(size_t n)
{
    return rm_sys.alloc(n);
}

static void plain_free(void *p)
{
    rm_sys.free(p);
}

/* Reads directory `dir` once and adds the identity of every entry whose long or 8.3 name is
 * registered. Returns ERROR_NOT_FOUND when the directory can't be read (caller falls back). */
static DWORD enumerate_dir(const struct rm_text *dir_of, uint32_t dlen, struct rm_index *names,
                           struct rm_idset *out)
{
    /* "C:" alone would mean the drive's current directory: the root is "C:\" */
    if (dlen == 2 && dir_of->text[1] == ':')
        dlen = 3;
    HANDLE d;
    DWORD err = rm_open_path(dir_of->text, dlen, FILE_LIST_DIRECTORY | SYNCHRONIZE, &d);
    if (err)
        return err == ERROR_OUTOFMEMORY ? err : ERROR_NOT_FOUND;
    struct rm_identity dir_id;
    BYTE *buf = rm_sys.alloc((SIZE_T)64 * 1024);
    if (!buf || !rm_query_identity(d, &dir_id, NULL)) {
        rm_sys.free(buf);
        rm_sys.CloseHandle(d);
        return buf ? ERROR_NOT_FOUND : ERROR_OUTOFMEMORY;
    }
    BOOLEAN first = TRUE;
    IO_STATUS_BLOCK io;
    while (!err && rm_sys.NtQueryDirectoryFile(d, NULL, NULL, NULL, &io, buf, 64 * 1024,
                                               FILE_ID_BOTH_DIRECTORY_INFORMATION_CLASS, FALSE, NULL,
                                               first) >= 0) {
        first = FALSE;
        ULONG off = 0;
        for (;;) {
            const struct dir_entry *e = (const struct dir_entry *)(const void *)(buf + off);
            uint32_t n = e->name_bytes / 2, sn = (uint32_t)(BYTE)e->short_bytes / 2;
            if (rm_index_has_text(names, RM_REC_FILE, (const uint16_t *)e->name, n) ||
                (sn && sn <= 12 && rm_index_has_text(names, RM_REC_FILE, (const uint16_t *)e->short_name, sn))) {
                if (e->attributes & FILE_ATTRIBUTE_DIRECTORY) {
                    err = ERROR_ACCESS_DENIED;
                    break;
                }
                struct rm_identity id = {dir_id.volume, 0, (uint64_t)e->file_id.QuadPart};
                if (rm_idset_add(out, &id, 0) < 0) {
                    err = ERROR_OUTOFMEMORY;
                    break;
                }
            }
            if (!e->next || off + e->next >= 64 * 1024)
                break;
            off += e->next;
        }
    }
    rm_sys.free(buf);
    rm_sys.CloseHandle(d);
    return err;
}

static DWORD do_group(const struct rm_text *files, const struct member *g, uint32_t n, struct rm_idset *out)
{
    DWORD err = ERROR_SUCCESS;
    if (n >= RM_DIR_ENUM_MIN) {
        struct rm_index names;
        rm_index_init(&names, plain_alloc, plain_free);
        for (uint32_t i = 0; i < n && !err; i++) {
            const struct rm_text *t = &files[g[i].file];
            uint32_t start = g[i].dlen + 1;
            if (start >= t->nchars) /* ends in a backslash: names a directory */
                err = add_opened(t, out);
            else if (rm_index_add_text(&names, RM_REC_FILE, t->text + start, t->nchars - start) < 0)
                err = ERROR_OUTOFMEMORY;
        }
        if (!err)
            err = enumerate_dir(&files[g[0].file], g[0].dlen, &names, out);
        rm_index_clear(&names);
        if (err != ERROR_NOT_FOUND)
            return err;
        err = ERROR_SUCCESS; /* unreadable directory: open the files themselves */
    }
    for (uint32_t i = 0; i < n && !err; i++)
        err = add_opened(&files[g[i].file], out);
    return err;
}

DWORD rm_registered_identities(const struct rm_registrations *regs, const struct rm_cancel *cancel,
                               struct rm_idset *out)
{
    uint32_t n = regs->nfiles;
    if (!n)
        return ERROR_SUCCESS;
    struct member *m = rm_sys.alloc(n * sizeof *m);
    if (!m)
        return ERROR_OUTOFMEMORY;
    for (uint32_t i = 0; i < n; i++) {
        m[i].file = i;
        m[i].dlen = dir_len(&regs->files[i]);
        m[i].hash = rm_text_hash(regs->files[i].text, m[i].dlen);
    }
    qsort(m, n, sizeof *m, by_dir);
    DWORD err = ERROR_SUCCESS;
    for (uint32_t i = 0, j; i < n && !err; i = j) {
        const struct rm_text *a = &regs->files[m[i].file];
        for (j = i + 1; j < n && m[j].hash == m[i].hash && m[j].dlen == m[i].dlen &&
                        rm_text_equal(a->text, m[i].dlen, regs->files[m[j].file].text, m[j].dlen);
             j++)
            ;
        if (rm_cancelled(cancel))
            err = ERROR_CANCELLED;
        else
            err = do_group(regs->files, m + i, j - i, out);
    }
    rm_sys.free(m);
    return err;
}
