/* Shared includes for the CMocka unit tests (cmocka.h needs these first). */
#ifndef RM_UNIT_H
#define RM_UNIT_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* A uint16_t string from an ASCII literal, for the pure modules' UTF-16 interfaces. */
static inline void u16(uint16_t *dst, const char *src)
{
    while ((*dst++ = (uint8_t)*src++))
        ;
}
#endif
