/* SPDX-License-Identifier: MIT */
#include "path.h"

#include <string.h>

size_t rm_text_len(const uint16_t *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n])
        n++;
    return n;
}

/* The scripts file names are commonly written in: Latin (with Latin Extended-A), Greek,
 * Cyrillic, Armenian and the fullwidth forms. Pairs follow the Unicode case mappings. */
uint16_t rm_fold16(uint16_t c)
{
    if (c < 0x80)
        return c >= 'a' && c <= 'z' ? (uint16_t)(c - 32) : c;
    if (c >= 0xe0 && c <= 0xfe && c != 0xf7)
        return (uint16_t)(c - 32);
    if (c == 0xff)
        return 0x178;
    if (c >= 0x100 && c <= 0x137 && c != 0x131)
        return (uint16_t)(c & ~1u); /* upper case is the even code point */
    if (c >= 0x139 && c <= 0x148)
        return (uint16_t)(c & 1u ? c : c - 1); /* upper case is the odd one */
    if (c >= 0x14a && c <= 0x177)
        return (uint16_t)(c & ~1u);
    if (c >= 0x179 && c <= 0x17e)
        return (uint16_t)(c & 1u ? c : c - 1);
    if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2)
        return (uint16_t)(c - 32); /* Greek */
    if (c == 0x3c2)
        return 0x3a3; /* final sigma */
    if (c >= 0x3ac && c <= 0x3af)
        return c == 0x3ac ? 0x386 : (uint16_t)(c - 37);
    if (c >= 0x430 && c <= 0x44f)
        return (uint16_t)(c - 32); /* Cyrillic */
    if (c >= 0x450 && c <= 0x45f)
        return (uint16_t)(c - 80);
    if (c >= 0x460 && c <= 0x4ff && c != 0x482 && !(c >= 0x483 && c <= 0x489))
        return (uint16_t)(c >= 0x4c1 && c <= 0x4ce ? (c & 1u ? c : c - 1u) : (c & ~1u));
    if (c >= 0x561 && c <= 0x586)
        return (uint16_t)(c - 48); /* Armenian */
    if (c >= 0xff41 && c <= 0xff5a)
        return (uint16_t)(c - 32); /* fullwidth */
    return c;
}

uint64_t rm_text_hash(const uint16_t *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= rm_fold16(s[i]);
        h *= 0x100000001b3ull;
    }
    return h;
}

int rm_text_equal(const uint16_t *a, size_t na, const uint16_t *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (rm_fold16(a[i]) != rm_fold16(b[i]))
            return 0;
    return 1;
}

int rm_text_starts_with(const uint16_t *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (len < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (rm_fold16(s[i]) != rm_fold16((uint8_t)lit[i]))
            return 0;
    return 1;
}

static int is_drive(const uint16_t *s, size_t len)
{
    return len >= 2 && rm_fold16(s[0]) >= 'A' && rm_fold16(s[0]) <= 'Z' && s[1] == ':';
}

size_t rm_path_strip_prefix(uint16_t *path, size_t len)
{
    size_t cut = 0;
    if (rm_text_starts_with(path, len, "\\\\?\\UNC\\")) {
        /* \\?\UNC\server\share -> \\server\share: drop "?\UNC" and keep one backslash */
        memmove(path + 2, path + 8, (len - 8 + 1) * sizeof *path);
        return len - 6;
    }
    if (rm_text_starts_with(path, len, "\\\\?\\") || rm_text_starts_with(path, len, "\\??\\") ||
        rm_text_starts_with(path, len, "\\\\.\\"))
        cut = 4;
    if (cut && is_drive(path + cut, len - cut)) {
        memmove(path, path + cut, (len - cut + 1) * sizeof *path);
        return len - cut;
    }
    return len;
}

/* Does path continue with "\<dir>" (case-insensitively) followed by '\' or the end? */
static int has_component(const uint16_t *p, size_t len, const char *dir)
{
    size_t n = strlen(dir);
    if (len < n + 1 || p[0] != '\\' || !rm_text_starts_with(p + 1, len - 1, dir))
        return 0;
    return len == n + 1 || p[n + 1] == '\\';
}

/* Directories under System32 that the WOW64 file system redirector leaves alone. */
static int redirector_exempt(const uint16_t *rest, size_t len)
{
    static const char *const exempt[] = {"catroot", "catroot2", "drivers\\etc", "logfiles", "spool"};
    for (size_t i = 0; i < sizeof exempt / sizeof *exempt; i++)
        if (has_component(rest, len, exempt[i]))
            return 1;
    return 0;
}

static void replace_component(uint16_t *at, size_t tail, size_t old_n, const char *with)
{
    size_t new_n = strlen(with);
    memmove(at + new_n, at + old_n, (tail + 1) * sizeof *at);
    for (size_t i = 0; i < new_n; i++)
        at[i] = (uint8_t)with[i];
}

/* Where the path goes on after <windir> (a trailing backslash of windir ignored); 0 when it
 * does not start with it. */
static size_t after_windir(const uint16_t *path, size_t len, const uint16_t *windir, size_t windir_len)
{
    while (windir_len > 0 && windir[windir_len - 1] == '\\')
        windir_len--;
    if (windir_len == 0 || len <= windir_len || !rm_text_equal(path, windir_len, windir, windir_len))
        return 0;
    return windir_len;
}

size_t rm_path_wow64_native(uint16_t *path, size_t len, const uint16_t *windir, size_t windir_len)
{
    size_t at = after_windir(path, len, windir, windir_len);
    if (!at)
        return len;
    uint16_t *p = path + at;
    size_t rest = len - at;
    if (has_component(p, rest, "Sysnative")) {
        replace_component(p + 1, rest - 1 - 9, 9, "System32");
        return len - 1;
    }
    if (has_component(p, rest, "System32") && !redirector_exempt(p + 9, rest - 9)) {
        replace_component(p + 1, rest - 1 - 8, 8, "SysWOW64");
        return len;
    }
    return len;
}

size_t rm_path_native_for_wow64(uint16_t *path, size_t len, const uint16_t *windir, size_t windir_len)
{
    size_t at = after_windir(path, len, windir, windir_len);
    uint16_t *p = path + at;
    size_t rest = len - at;
    if (!at || !has_component(p, rest, "System32"))
        return len;
    replace_component(p + 1, rest - 1 - 8, 8, "Sysnative");
    return len + 1;
}

int rm_service_name_valid(const uint16_t *name, size_t len)
{
    if (len == 0 || len > 256)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '/' || name[i] == '\\')
            return 0;
    return 1;
}
