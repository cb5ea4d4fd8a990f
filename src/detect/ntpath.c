/* SPDX-License-Identifier: MIT */
#include "ntpath.h"

#include <string.h>

#include "session/path.h"

static size_t emit(uint16_t *out, size_t cap, const uint16_t *head, size_t hlen, const uint16_t *tail,
                   size_t tlen)
{
    if (hlen + tlen + 1 > cap)
        return 0;
    memcpy(out, head, hlen * sizeof *out);
    memcpy(out + hlen, tail, tlen * sizeof *out);
    out[hlen + tlen] = 0;
    return hlen + tlen;
}

/* Names are counted, not NUL-terminated: nothing is read before the length allows it. */
static int drive_letter_path(const uint16_t *s, size_t n)
{
    if (n < 3)
        return 0;
    uint16_t c = rm_fold16(s[0]);
    return c >= 'A' && c <= 'Z' && s[1] == ':' && s[2] == '\\';
}

size_t rm_ntpath_to_win32(const uint16_t *nt, size_t nlen, const struct rm_drive_map *drives,
                          uint16_t *out, size_t cap)
{
    static const uint16_t unc_head[2] = {'\\', '\\'};
    if (nlen == 0 || cap == 0)
        return 0;
    if (drive_letter_path(nt, nlen))
        return emit(out, cap, nt, 0, nt, nlen);
    if (rm_text_starts_with(nt, nlen, "\\??\\UNC\\"))
        return emit(out, cap, unc_head, 2, nt + 8, nlen - 8);
    if (rm_text_starts_with(nt, nlen, "\\??\\") && drive_letter_path(nt + 4, nlen - 4))
        return emit(out, cap, nt, 0, nt + 4, nlen - 4);
    if (rm_text_starts_with(nt, nlen, "\\Device\\Mup\\"))
        return emit(out, cap, unc_head, 2, nt + 12, nlen - 12);
    if (rm_text_starts_with(nt, nlen, "\\Device\\LanmanRedirector\\"))
        return emit(out, cap, unc_head, 2, nt + 25, nlen - 25);
    for (int d = 0; drives && d < 26; d++) {
        size_t dl = drives->len[d];
        /* the device name must end exactly at a path separator: Volume1 is not Volume10 */
        if (dl == 0 || dl >= nlen || nt[dl] != '\\' || !rm_text_equal(nt, dl, drives->device[d], dl))
            continue;
        uint16_t head[2] = {(uint16_t)('A' + d), ':'};
        return emit(out, cap, head, 2, nt + dl, nlen - dl);
    }
    return 0;
}
