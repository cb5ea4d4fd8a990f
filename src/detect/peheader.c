/* SPDX-License-Identifier: MIT */
#include "peheader.h"

#include <string.h>

int rm_pe_image_size(const uint8_t *hdr, size_t n, uint32_t *size)
{
    /* IMAGE_DOS_HEADER.e_lfanew at 0x3c; from there "PE\0\0", the 20-byte file header, and
     * SizeOfImage 56 bytes into the optional header, the same offset for PE32 and PE32+. */
    enum { LFANEW_AT = 0x3c, SIZE_FROM_SIGNATURE = 4 + 20 + 56 };
    if (n < LFANEW_AT + 4 || hdr[0] != 'M' || hdr[1] != 'Z')
        return 0;
    uint32_t lfanew;
    memcpy(&lfanew, hdr + LFANEW_AT, sizeof lfanew);
    if (lfanew > n || n - lfanew < SIZE_FROM_SIGNATURE + sizeof *size)
        return 0;
    if (memcmp(hdr + lfanew, "PE\0\0", 4) != 0)
        return 0;
    memcpy(size, hdr + lfanew + SIZE_FROM_SIGNATURE, sizeof *size);
    return *size != 0;
}
