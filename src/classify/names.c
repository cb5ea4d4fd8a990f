/*
 * Friendly names for RM_PROCESS_INFO.strAppName.
 *
 * Installers show this name to users, so the chain prefers what Windows itself shows for a
 * program — the version resource's FileDescription (localised, e.g. "Eksplorator Windows") —
 * then the main window's caption, then the executable's file name (SPEC §5.3). Every result
 * fits CCH_RM_MAX_APP_NAME units and is NUL-terminated.
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stdio.h>

#include "sys/sys.h"

/* A version resource is at most 64 KiB (its length is a WORD); the API asks for some more room
 * for its own conversions. Anything far beyond is not a version resource. */
#define MAX_VERSION_BYTES (1024u * 1024u)

static int blank(WCHAR ch)
{
    return ch == L' ' || ch == L'\t' || ch == L'\r' || ch == L'\n';
}

int rm_name_set(WCHAR *dst, const WCHAR *src, size_t n)
{
    size_t len = 0;
    while (len < n && src[len])
        len++;
    while (len && blank(*src))
        src++, len--;
    while (len && blank(src[len - 1]))
        len--;
    if (len > CCH_RM_MAX_APP_NAME)
        len = CCH_RM_MAX_APP_NAME;
    for (size_t i = 0; i < len; i++)
        dst[i] = src[i];
    dst[len] = 0;
    return len != 0;
}

static void put_hex4(WCHAR *out, unsigned v)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 3; i >= 0; i--, v >>= 4)
        out[i] = (WCHAR)digits[v & 15];
}

/* \StringFileInfo\<lang><codepage>\FileDescription of one translation. */
static int description_in(const void *block, unsigned lang, unsigned codepage, WCHAR *dst)
{
    WCHAR key[] = L"\\StringFileInfo\\xxxxxxxx\\FileDescription";
    const size_t at = sizeof "\\StringFileInfo\\" - 1;
    put_hex4(key + at, lang);
    put_hex4(key + at + 4, codepage);
    WCHAR *value = NULL;
    UINT len = 0;
    if (!rm_sys.VerQueryValueW(block, key, (LPVOID *)&value, &len) || !value || !len)
        return 0;
    return rm_name_set(dst, value, len);
}

/* The file's own first translation, then the two US-English ones most resources carry. */
static int description(const void *block, WCHAR *dst)
{
    WORD *pair = NULL;
    UINT bytes = 0;
    if (rm_sys.VerQueryValueW(block, L"\\VarFileInfo\\Translation", (LPVOID *)&pair, &bytes) && pair &&
        bytes >= 2 * sizeof(WORD) && description_in(block, pair[0], pair[1], dst))
        return 1;
    return description_in(block, 0x0409, 0x04b0, dst) || description_in(block, 0x0409, 0x04e4, dst);
}

int rm_name_from_version(const WCHAR *file, WCHAR *dst)
{
    DWORD ignored = 0;
    DWORD size = rm_sys.GetFileVersionInfoSizeW(file, &ignored);
    if (!size || size > MAX_VERSION_BYTES)
        return 0;
    void *block = rm_sys.alloc(size);
    if (!block)
        return -1;
    int found = rm_sys.GetFileVersionInfoW(file, 0, size, block) && description(block, dst);
    rm_sys.free(block);
    return found;
}

int rm_name_from_window(HWND w, WCHAR *dst)
{
    WCHAR title[CCH_RM_MAX_APP_NAME + 1];
    if (!w)
        return 0;
    int n = rm_sys.GetWindowTextW(w, title, CCH_RM_MAX_APP_NAME + 1);
    if (n <= 0)
        return 0;
    if (n > CCH_RM_MAX_APP_NAME) /* a fake or broken answer must not walk past the buffer */
        n = CCH_RM_MAX_APP_NAME;
    return rm_name_set(dst, title, (size_t)n);
}

int rm_name_from_path(const WCHAR *image, size_t len, WCHAR *dst)
{
    size_t start = len;
    while (start && image[start - 1] != L'\\' && image[start - 1] != L'/')
        start--;
    return rm_name_set(dst, image + start, len - start);
}

/* Last resort, so the name is never empty: callers display it. */
void rm_name_from_pid(DWORD pid, WCHAR *dst)
{
    char text[32];
    int n = snprintf(text, sizeof text, "pid %lu", (unsigned long)pid);
    for (int i = 0; i <= n; i++)
        dst[i] = (WCHAR)(unsigned char)text[i];
}
