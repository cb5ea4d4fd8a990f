/*
 * Processes the system cannot run without, and Explorer, recognised by full image path.
 *
 * A base name proves nothing: anyone can name a program csrss.exe. Only the copies in the
 * system directory are the system's (DESIGN §5: never match by base name).
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <string.h>

#include "session/path.h"

static const char *const critical_names[] = {
    "smss.exe", "csrss.exe", "wininit.exe", "logonui.exe", "lsass.exe", "services.exe", "winlogon.exe",
};

/* Does image[*pos..] start with the ASCII text lit (case-insensitively)? Advances *pos if so. */
static int take(const WCHAR *image, size_t len, size_t *pos, const char *lit)
{
    size_t n = strlen(lit);
    if (len - *pos < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (rm_fold16(image[*pos + i]) != rm_fold16((uint8_t)lit[i]))
            return 0;
    *pos += n;
    return 1;
}

size_t rm_in_windir(const struct rm_cls_call *c, const WCHAR *image, size_t len, const char *sub)
{
    size_t pos = c->windir_len;
    if (!pos || len <= pos)
        return 0;
    if (!rm_text_equal((const uint16_t *)image, pos, (const uint16_t *)c->windir, pos))
        return 0;
    return take(image, len, &pos, sub) ? pos : 0;
}

int rm_is_critical_image(const struct rm_cls_call *c, const WCHAR *image, size_t len)
{
    size_t base = rm_in_windir(c, image, len, "\\System32\\");
    if (!base)
        return 0;
    for (size_t i = 0; i < sizeof critical_names / sizeof *critical_names; i++) {
        size_t pos = base;
        if (take(image, len, &pos, critical_names[i]) && pos == len)
            return 1;
    }
    return 0;
}

int rm_is_explorer(const struct rm_cls_call *c, const WCHAR *image, size_t len)
{
    return len && rm_in_windir(c, image, len, "\\explorer.exe") == len;
}
