/* An image's length from its header: the bytes come from another process's memory. */
#include <stdlib.h>
#include <string.h>

#include "detect/peheader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly `size` bytes, so that any read past them is caught. */
    uint8_t *hdr = malloc(size ? size : 1);
    if (!hdr)
        return 0;
    memcpy(hdr, data, size);
    uint32_t image = 0;
    if (rm_pe_image_size(hdr, size, &image)) {
        uint32_t lfanew;
        memcpy(&lfanew, hdr + 0x3c, sizeof lfanew);
        /* A yes must rest on bytes that were there: MZ, the signature, a nonzero size. */
        if (image == 0 || hdr[0] != 'M' || (size_t)lfanew + 84 > size || memcmp(hdr + lfanew, "PE\0\0", 4) != 0)
            abort();
    }
    free(hdr);
    return 0;
}
