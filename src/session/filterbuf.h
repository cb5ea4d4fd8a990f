/*
 * The RmGetFilterList buffer (pure: no OS calls, builds on Linux for fuzzing).
 *
 * RM_FILTER_INFO records, each cbNextOffset bytes before the next (0 ends the chain), then the
 * strings the records point to, inside the caller's buffer: the union holds pointers, so the
 * text must live where the caller's memory is. Record size and pointer width are parameters,
 * because the layout differs between x86 (24-byte records, union at 12) and x64 (32, at 16).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_FILTERBUF_H
#define RM_FILTERBUF_H

#include <stddef.h>
#include <stdint.h>

struct rm_filter_item {
    uint32_t action;  /* RM_FILTER_ACTION */
    uint32_t trigger; /* RM_FILTER_TRIGGER */
    const uint16_t *text; /* file or service: nchars units */
    uint32_t nchars;
    uint32_t pid, time_lo, time_hi; /* process */
};

struct rm_filter_abi {
    uint32_t record_size;  /* sizeof(RM_FILTER_INFO) */
    uint32_t union_offset; /* offsetof(RM_FILTER_INFO, strFilename) */
    uint32_t pointer_size; /* sizeof(void *) */
};

/* Bytes needed for items; 0 if that would not fit in 32 bits. */
uint32_t rm_filterbuf_size(const struct rm_filter_abi *abi, const struct rm_filter_item *items, uint32_t n);

/* Writes items into buf (cap bytes, at least rm_filterbuf_size), whose address in the caller's
 * memory is base_address. Returns bytes written, or 0 when cap is too small. */
uint32_t rm_filterbuf_write(const struct rm_filter_abi *abi, const struct rm_filter_item *items, uint32_t n,
                            uint8_t *buf, uint32_t cap, uint64_t base_address);

#endif
