/* SPDX-License-Identifier: MIT */
#include "normalize.h"

#include <string.h>

#include "layout.h"
#include "path.h"
#include "sys/sys.h"

static DWORD copy_out(const WCHAR *text, size_t n, struct rm_text *out)
{
    uint16_t *p = rm_sys.alloc((n + 1) * sizeof *p);
    if (!p)
        return ERROR_OUTOFMEMORY;
    memcpy(p, text, n * sizeof *p);
    p[n] = 0;
    out->text = p;
    out->nchars = (uint32_t)n;
    return ERROR_SUCCESS;
}

DWORD rm_normalize_file(const WCHAR *name, const struct rm_path_env *env, WCHAR *scratch, struct rm_text *out)
{
    if (!name)
        return ERROR_BAD_ARGUMENTS;
    size_t len = rm_text_len((const uint16_t *)name, RM_MAX_TEXT);
    if (len == 0 || len > RM_MAX_TEXT)
        return ERROR_BAD_ARGUMENTS;

    /* Strip \\?\ first: GetFullPathNameW would keep it, and then the same file would have two
     * spellings. The copy leaves room for the WOW64 rewrite to grow by one unit. */
    WCHAR *in = rm_sys.alloc((len + 2) * sizeof(WCHAR));
    if (!in)
        return ERROR_OUTOFMEMORY;
    memcpy(in, name, (len + 1) * sizeof(WCHAR));
    rm_path_strip_prefix((uint16_t *)in, len);

    DWORD n = rm_sys.GetFullPathNameW(in, RM_PATH_SCRATCH - 1, scratch, NULL);
    rm_sys.free(in);
    if (n == 0 || n >= RM_PATH_SCRATCH - 1)
        return ERROR_BAD_ARGUMENTS;
    size_t full = n;
    if (env->wow64)
        full = rm_path_wow64_native((uint16_t *)scratch, full, (const uint16_t *)env->windir, wcslen(env->windir));
    if (full == 0 || full > RM_MAX_TEXT)
        return ERROR_BAD_ARGUMENTS;
    return copy_out(scratch, full, out);
}

DWORD rm_normalize_service(const WCHAR *name, struct rm_text *out)
{
    if (!name)
        return ERROR_BAD_ARGUMENTS;
    size_t len = rm_text_len((const uint16_t *)name, 256);
    if (!rm_service_name_valid((const uint16_t *)name, len))
        return ERROR_BAD_ARGUMENTS;
    return copy_out(name, len, out);
}
