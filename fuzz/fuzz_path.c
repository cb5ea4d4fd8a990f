/* Path and name text: prefix stripping, WOW64 rewriting, NT-to-Win32 names, service names. */
#include <stdlib.h>
#include <string.h>

#include "detect/ntpath.h"
#include "session/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = size / 2;
    uint16_t *p = malloc((n + 2) * sizeof *p); /* room for the one-unit growth and the NUL */
    if (!p)
        return 0;
    memcpy(p, data, n * 2);
    p[n] = 0;
    size_t len = rm_text_len(p, n);
    size_t l2 = rm_path_strip_prefix(p, len);
    if (l2 > len || p[l2] != 0)
        abort();
    static const uint16_t windir[] = {'C', ':', '\\', 'w', 'i', 'n', 'd', 'o', 'w', 's'};
    size_t l3 = rm_path_wow64_native(p, l2, windir, 10);
    if (l3 > l2 + 1 || p[l3] != 0)
        abort();
    rm_text_hash(p, l3);
    /* And back for opening: grows by at most the one unit p has room for. */
    uint16_t *q = malloc((n + 2) * sizeof *q);
    if (q) {
        memcpy(q, p, (l3 + 1) * sizeof *q);
        size_t l4 = rm_path_native_for_wow64(q, l3, windir, 10);
        if (l4 > l3 + 1 || q[l4] != 0)
            abort();
        free(q);
    }
    rm_service_name_valid(p, l3 < 300 ? l3 : 300);

    static struct rm_drive_map drives;
    static const char dev[] = "\\Device\\HarddiskVolume1";
    for (size_t i = 0; i < sizeof dev - 1; i++)
        drives.device[2][i] = (uint8_t)dev[i];
    drives.len[2] = sizeof dev - 1;
    uint16_t out[64];
    size_t o = rm_ntpath_to_win32(p, l3, &drives, out, 64);
    if (o >= 64 || (o && out[o] != 0))
        abort();
    /* NT names arrive counted, with no NUL behind them: the input again, in a block of exactly
     * its length, so that ASan sees any read past it. */
    uint16_t *raw = malloc(n ? n * sizeof *raw : 1);
    if (raw) {
        memcpy(raw, data, n * 2);
        o = rm_ntpath_to_win32(raw, n, &drives, out, 64);
        if (o >= 64 || (o && out[o] != 0))
            abort();
        free(raw);
    }
    free(p);
    return 0;
}
