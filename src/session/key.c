/* SPDX-License-Identifier: MIT */
#include "key.h"

#include <stddef.h>

static int hex_value(uint16_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void rm_key_encode(const uint8_t key[RM_KEY_BYTES], uint16_t out[RM_KEY_CHARS + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < RM_KEY_BYTES; i++) {
        out[2 * i] = (uint16_t)digits[key[i] >> 4];
        out[2 * i + 1] = (uint16_t)digits[key[i] & 15];
    }
    out[RM_KEY_CHARS] = 0;
}

int rm_key_decode(const uint16_t *text, uint8_t key[RM_KEY_BYTES])
{
    /* Never read past the 33 units the SDK declares (_In_reads_(CCH_RM_SESSION_KEY+1)). */
    for (size_t i = 0; i < RM_KEY_BYTES; i++) {
        int hi = hex_value(text[2 * i]);
        if (hi < 0)
            return -1;
        int lo = hex_value(text[2 * i + 1]);
        if (lo < 0)
            return -1;
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    return text[RM_KEY_CHARS] == 0 ? 0 : -1;
}
